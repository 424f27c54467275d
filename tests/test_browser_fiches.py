"""The fiches and their search page in a real browser (headless Chromium, Playwright).

A fiche must print on exactly one A4 page and read on a 390 px phone without sideways
scrolling, the text of its figures at 9 px or more; typing a commune's name in the
search page (accents, hyphens and « saint » optional) must offer its EPCI's fiche.
The pages come from ``analyse fiches`` (no kernel: a few seconds), the browser harness
from ``test_browser``. The printed PDFs and phone screenshots are kept as artefacts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import EPCI_05
from test_browser import _open, artefacts, axe_violations  # noqa: F401 (fixture)

pytestmark = pytest.mark.navigateur

MEL = "200093201"  # Métropole Européenne de Lille: many structures
MGP = "200054781"  # Métropole du Grand Paris: six départements, 169 structures
CINOR = "249740119"  # CA Intercommunale du Nord de la Réunion
SISTERONAIS = EPCI_05["sisteronais"]  # three départements


@pytest.fixture(scope="module")
def fiches(tmp_path_factory) -> Path:
    from analyse import cli

    out = tmp_path_factory.mktemp("fiches")
    assert cli.main(["fiches", "--departement", "05,59,974,75", "--sortie", str(out)]) == 0
    return out / "epci"


def _sample(fiches: Path) -> list[Path]:
    return [fiches / f"{s}.html" for s in [*EPCI_05.values(), MEL, CINOR, MGP]]


def test_every_fiche_prints_on_exactly_one_a4_page(browser, fiches, artefacts):  # noqa: F811
    for path in _sample(fiches):
        page, errors = _open(browser, path)
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        page.close()
        assert errors == [], path.name
        pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
        assert pages == 1, f"{path.name} : {pages} pages"
        if path.stem in (SISTERONAIS, MGP):
            (artefacts / f"fiche_{path.stem}.pdf").write_bytes(pdf)


def test_every_fiche_reads_on_a_phone(browser, fiches, artefacts):  # noqa: F811
    for path in _sample(fiches):
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(path.as_uri(), wait_until="load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path.name} : {width} px de large"
        # Text inside the SVG figures, at its displayed size.
        smallest = page.evaluate(
            """() => Math.min(...[...document.querySelectorAll('svg text')].map(t => {
                 const svg = t.ownerSVGElement;
                 const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
                 return parseFloat(getComputedStyle(t).fontSize) * scale; }))"""
        )
        assert smallest >= 9, f"{path.name} : texte de {smallest:.1f} px dans une figure"
        if path.stem == SISTERONAIS:
            page.screenshot(path=artefacts / "fiche_telephone.png", full_page=True)
        page.close()


@pytest.mark.parametrize(
    ("typed", "commune", "siren"),
    [
        ("briancon", "Briançon (05)", EPCI_05["briancon"]),
        ("st bonnet en champsaur", "Saint-Bonnet-en-Champsaur (05)", EPCI_05["champsaur"]),
        ("LAGRAVE", "La Grave (05)", EPCI_05["briancon"]),
        ("roubaix", "Roubaix (59)", MEL),
    ],
)
def test_typing_a_commune_offers_its_fiche(browser, fiches, typed, commune, siren):  # noqa: F811
    page, errors = _open(browser, fiches / "index.html")
    page.get_by_label("Nom de votre commune").fill(typed)
    link = page.get_by_role("link", name=commune)
    assert link.first.is_visible()
    assert link.first.get_attribute("href") == f"{siren}.html"
    link.first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/{siren}.html")
    assert errors == []
    page.close()


def test_search_page_browses_by_departement_and_fits_a_phone(browser, fiches):  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto((fiches / "index.html").as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_text("05 — Hautes-Alpes").click()
    assert page.get_by_role("link", name="Communauté de communes du Briançonnais").is_visible()
    page.close()


def test_no_wcag_violation_in_fiches(browser, fiches):  # noqa: F811
    """The fiches and their search page meet WCAG 2.1 AA as axe-core checks it, on a
    desktop and on a phone, like the reports and the index."""
    for path in [fiches / "index.html", *_sample(fiches)[:2], fiches / f"{MGP}.html"]:
        for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
            page = browser.new_page(viewport=viewport)
            page.goto(path.as_uri(), wait_until="load")
            try:
                assert axe_violations(page) == [], path.name
            finally:
                page.close()
