"""The officials' copy in Chromium: on a phone (390 px), printed on A4, and checked by
axe-core against WCAG 2.1 AA (RGAA builds on it).

The reports of Hautes-Alpes, Isère and Nord with three proposed posts (Isère and Nord from
the national list) and the index of June 2021. Screenshots (phone and desktop) and the
printed PDFs are written to the artefacts folder (``reports/artefacts/`` by default, see
``test_browser.py``). Same browser set-up and skip rule as ``test_browser.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_browser import artefacts_script, axe_violations

from analyse.analysis import situation

pytestmark = pytest.mark.navigateur

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Pages of the printed officials' part (the analysts' part is not printed).
MAX_PAGES = {"05": 8, "38": 12, "59": 12}
# No page but the last may be filled less than this, from its top to its last line.
MIN_FILL = 0.40


@pytest.fixture(scope="module")
def artefacts() -> Path:
    import os

    from analyse import config

    folder = Path(os.environ.get("ANALYSE_ARTEFACTS") or config.REPORTS_DIR / "artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    from analyse import cli
    from analyse.analysis import pipeline
    from analyse.run.monthly import run_months
    from analyse.territory.reference import load_reference

    out = tmp_path_factory.mktemp("officiels")
    for departement in MAX_PAGES:
        args = ["rapport", "-d", departement, "--postes", "3", "--sortie", str(out)]
        assert cli.main(args) == 0
    reference = load_reference()
    selections = pipeline.match_selections(None, reference)
    run_months(["2021-06"], situation.Sources.of(selections, reference), [], out, 1, progress=False)
    found = {dep: out / dep / "rapport.html" for dep in MAX_PAGES}
    found["index"] = out / "2021-06" / "index.html"
    return found


def _name(which: str) -> str:
    return "index_2021-06" if which == "index" else f"rapport_{which}"


def _overflow(page) -> int:
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("which", ["05", "38", "59", "index"])
def test_no_sideways_scroll_on_a_phone(browser, pages, artefacts, which):
    page = browser.new_page(viewport=PHONE)
    page.goto(pages[which].as_uri(), wait_until="load")
    try:
        assert _overflow(page) <= 0, f"la page défile de {_overflow(page)} px"
        page.screenshot(path=artefacts / f"{_name(which)}_telephone.png", full_page=True)
    finally:
        page.close()
    page = browser.new_page(viewport=DESKTOP)
    page.goto(pages[which].as_uri(), wait_until="load")
    page.screenshot(path=artefacts / f"{_name(which)}_bureau.png", full_page=True)
    page.close()


@pytest.mark.parametrize("departement", ["05", "38", "59"])
def test_name_and_density_seen_together_on_a_phone(browser, pages, departement):
    """In the main table, each EPCI's name and its density, with its label, fit on the
    screen at once, with no sideways scroll."""
    page = browser.new_page(viewport=PHONE)
    page.goto(pages[departement].as_uri(), wait_until="load")
    try:
        rows = page.locator("table.cartes tbody tr")
        assert rows.count() >= 9
        for index in range(rows.count()):
            row = rows.nth(index)
            row.scroll_into_view_if_needed()
            name = row.locator("td").first.bounding_box()
            cell = row.locator('td[data-label^="Conseillers pour"]')
            density = cell.bounding_box()
            for box in (name, density):
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
            top = min(name["y"], density["y"])
            bottom = max(name["y"] + name["height"], density["y"] + density["height"])
            assert bottom - top <= PHONE["height"]
            label = cell.evaluate("c => getComputedStyle(c, '::before').content")
            assert "Conseillers pour" in label
    finally:
        page.close()


# Marks the start and the end of the first figure (the map) with a word that takes no
# room and prints white, so that the PDF's text tells on which pages the map lies,
# whatever the figure is made of (raster image, SVG, HTML legend).
_MARK_MAP = """() => {
    const figure = document.querySelector('figure');
    for (const [word, where] of [['DEBUTCARTE', 'prepend'], ['FINCARTE', 'append']]) {
        const mark = document.createElement('span');
        mark.textContent = word;
        mark.style.cssText = 'position: absolute; font-size: 2px; color: #fff';
        figure[where](mark);
    }
}"""


def _page_text(pdf: Path, number: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.parametrize("departement", ["05", "38", "59"])
def test_prints_on_few_well_filled_pages(browser, pages, artefacts, tmp_path, departement):
    """The officials' part on A4: the map whole on page 1, few pages, none but the last
    under 40 % filled."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) absent")
    script = artefacts_script()
    page = browser.new_page(viewport=DESKTOP)
    page.goto(pages[departement].as_uri(), wait_until="load")
    pdf = tmp_path / "rapport.pdf"
    script.print_pdf(page, pdf)
    shutil.copy(pdf, artefacts / f"rapport_{departement}.pdf")
    fills = script.page_fills(pdf)
    print(f"{departement} : {len(fills)} pages, remplies à {[round(f, 2) for f in fills]}")
    assert len(fills) <= MAX_PAGES[departement], fills
    assert [round(f, 2) for f in fills[:-1] if f < MIN_FILL] == [], fills
    # The map is whole on page 1 (printed again with its marks: they change no layout).
    page.evaluate(_MARK_MAP)
    marked = tmp_path / "rapport_marque.pdf"
    script.print_pdf(page, marked)
    page.close()
    assert script.page_fills(marked) == fills
    first = _page_text(marked, 1)
    assert "DEBUTCARTE" in first and "FINCARTE" in first


def test_index_prints(browser, pages, artefacts, tmp_path):
    """The index on A4: its map whole on page 1, pages well filled (one row a line, the
    header repeated)."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) absent")
    script = artefacts_script()
    page = browser.new_page(viewport=DESKTOP)
    page.goto(pages["index"].as_uri(), wait_until="load")
    page.evaluate(_MARK_MAP)
    pdf = tmp_path / "index.pdf"
    script.print_pdf(page, pdf)
    page.close()
    shutil.copy(pdf, artefacts / "index_2021-06.pdf")
    fills = script.page_fills(pdf)
    assert len(fills) <= 6, fills
    assert [round(f, 2) for f in fills[:-1] if f < MIN_FILL] == [], fills
    first = _page_text(pdf, 1)
    assert "DEBUTCARTE" in first and "FINCARTE" in first


@pytest.mark.parametrize("which", ["05", "38", "59", "index"])
def test_no_wcag_violation(browser, pages, which):
    for viewport in (DESKTOP, PHONE):
        page = browser.new_page(viewport=viewport)
        page.goto(pages[which].as_uri(), wait_until="load")
        try:
            assert axe_violations(page) == []
        finally:
            page.close()


# The displayed size of every text in the report's figures: SVG text (its font size times
# the scale the page draws it at) and the HTML around it (titles, legends, keys).
_FIGURE_TEXT_SIZES = """() => {
  const sizes = [];
  for (const t of document.querySelectorAll('figure svg text')) {
    if (!t.textContent.trim() || !t.getClientRects().length) continue;
    const m = t.getScreenCTM();
    sizes.push([parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b), t.textContent]);
  }
  for (const e of document.querySelectorAll('figure :not(svg):not(svg *)')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && e.getClientRects().length)
      sizes.push([parseFloat(getComputedStyle(e).fontSize), e.textContent.trim()]);
  }
  return sizes;
}"""


@pytest.mark.parametrize("departement", ["05", "38", "59"])
def test_figure_text_is_9_px_or_more_on_a_phone(browser, pages, departement):
    """No figure is a raster image (its text would shrink with it); every text drawn in a
    figure, maps and charts included, is at least 9 CSS px at 390 px."""
    page = browser.new_page(viewport=PHONE)
    page.goto(pages[departement].as_uri(), wait_until="load")
    try:
        assert page.locator("figure img").count() == 0
        # The density, distance and proposals maps, the timeline, a panel per EPCI.
        assert page.locator("figure svg.figure").count() >= 5
        sizes = page.evaluate(_FIGURE_TEXT_SIZES)
        assert len(sizes) > 50
        smallest = min(sizes)
        print(f"{departement} : plus petit texte {smallest[0]:.1f} px ({smallest[1]!r})")
        assert smallest[0] >= 9, smallest
        # The maps' names, as the browser draws them: none over another.
        overlaps = page.evaluate(
            """() => [...document.querySelectorAll('svg.figure')].flatMap(svg => {
                 const boxes = [...svg.querySelectorAll('.etiquette')].map(
                   g => [g.getBoundingClientRect(), g.textContent.trim()]);
                 return boxes.flatMap(([a, na], i) => boxes.slice(i + 1).filter(([b]) =>
                   a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom
                 ).map(([, nb]) => na + ' / ' + nb)); })"""
        )
        assert overlaps == []
        # The small multiples' titles: whole, none over another.
        titles = page.locator("figure.courbes .panneau-titre")
        boxes = [titles.nth(i).bounding_box() for i in range(titles.count())]
        assert len(boxes) >= 9
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = (
                    a["x"] + a["width"] <= b["x"]
                    or b["x"] + b["width"] <= a["x"]
                    or a["y"] + a["height"] <= b["y"]
                    or b["y"] + b["height"] <= a["y"]
                )
                assert apart, (a, b)
        cut = titles.evaluate_all("ts => ts.filter(t => t.scrollWidth > t.clientWidth).length")
        assert cut == 0
    finally:
        page.close()


def test_index_map_text_is_9_px_or_more_on_a_phone(browser, pages):
    """The index's map of France: an inline SVG whose codes and names (Paris, overseas)
    stay at least 9 CSS px at 390 px, never a raster image whose text would shrink."""
    page = browser.new_page(viewport=PHONE)
    page.goto(pages["index"].as_uri(), wait_until="load")
    try:
        assert page.locator("figure img").count() == 0
        assert page.locator("figure svg.figure").count() == 1
        sizes = page.evaluate(_FIGURE_TEXT_SIZES)
        drawn = {text.strip() for _, text in sizes}
        assert {"75", "92", "93", "94", "Guadeloupe", "Mayotte"} <= drawn, drawn
        smallest = min(sizes)
        print(f"index : plus petit texte {smallest[0]:.1f} px ({smallest[1]!r})")
        assert smallest[0] >= 9, smallest
    finally:
        page.close()
