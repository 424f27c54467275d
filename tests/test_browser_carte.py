"""The interactive map (``carte_interactive.html``) in headless Chromium, without any network.

Préfecture networks often block the CDNs that folium points to: the map must carry its
JavaScript and CSS inside the file. Every request that leaves the machine is aborted and
recorded; the page must still draw the EPCI polygons and show a tooltip on hover, with no
console error. Same browser set-up (and the same skip rule) as ``test_browser.py``.
"""

from __future__ import annotations

import pytest
from test_browser import axe_violations

from analyse.render import exports

pytestmark = pytest.mark.navigateur


@pytest.fixture(scope="module")
def proposals(prepared_05):
    from analyse.analysis.scenario import Settings, scenario_for

    return scenario_for(prepared_05, Settings(3)).proposals


@pytest.fixture(scope="module")
def carte(tmp_path_factory, prepared_05, proposals):
    target = tmp_path_factory.mktemp("carte") / exports.MAP_NAME
    title = "Conseillers numériques — Hautes-Alpes (05)"
    exports.write_interactive_map(
        target, prepared_05.gaps_geo, prepared_05.places, title, proposals=proposals
    )
    return target


def test_interactive_map_is_french_zoomable_and_shows_the_proposals(
    browser, carte, proposals, artefacts_dir
):
    """On a phone: French page, pinch-zoom allowed, layer menu closed, kilometres only,
    the proposed posts numbered; and no WCAG 2.1 AA violation found by axe-core."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(carte.as_uri(), wait_until="load")
    try:
        assert page.evaluate("() => document.documentElement.lang") == "fr"
        viewport = page.locator('meta[name="viewport"]').get_attribute("content")
        assert "user-scalable=no" not in viewport and "maximum-scale" not in viewport
        assert page.locator(".leaflet-control-layers-expanded").count() == 0
        scales = page.locator(".leaflet-control-scale-line").all_inner_texts()
        assert scales and all(text.endswith(("km", " m")) for text in scales), scales
        markers = page.locator(".leaflet-marker-icon").all_inner_texts()
        assert sorted(markers) == [str(r) for r in sorted(proposals["rang"])]
        page.screenshot(path=artefacts_dir / "carte_interactive_telephone.png")
        assert axe_violations(page) == []
    finally:
        page.close()


def test_interactive_map_works_with_every_network_request_blocked(
    browser, carte, prepared_05, artefacts_dir
):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"erreur JavaScript : {e}"))
    page.goto(carte.as_uri(), wait_until="load")
    try:
        assert errors == [], errors
        assert blocked == [], f"requêtes vers le réseau : {blocked}"
        polygons = page.locator("path.leaflet-interactive")
        assert polygons.count() >= len(prepared_05.indicators)  # 9 EPCI (and the places)
        names = set(prepared_05.indicators["nom_epci"])
        shown = _hover_until_tooltip(page, polygons, names)
        assert any(name in shown for name in names), shown
        page.screenshot(path=artefacts_dir / "carte_interactive_hors_ligne.png")
        assert errors == [], errors
    finally:
        context.close()


def _hover_until_tooltip(page, polygons, names: set[str]) -> str:
    """Move the mouse over the polygons' centres until a tooltip names an EPCI (a place's
    marker may lie at a centre and show its own tooltip); the texts seen."""
    seen = []
    for index in range(polygons.count()):
        box = polygons.nth(index).bounding_box()
        if not box:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tooltip = page.locator(".leaflet-tooltip")
        if tooltip.count() and tooltip.first.is_visible():
            seen.append(tooltip.first.inner_text())
            if any(name in seen[-1] for name in names):
                break
    return "\n".join(seen)


@pytest.fixture(scope="module")
def artefacts_dir():
    import os
    from pathlib import Path

    from analyse import config

    folder = Path(os.environ.get("ANALYSE_ARTEFACTS") or config.REPORTS_DIR / "artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
