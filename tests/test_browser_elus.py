"""The official's copy, round 3 (issue 32), as Chromium shows and prints it.

On a phone (390 × 844): the first screen of the Hautes-Alpes report answers (its posts
and its least covered intercommunalité); a long table keeps its header row in sight, and
the density is in sight without a sideways scroll. On a desktop (1280 px): no text in a
figure larger than the body text × 1.25, and no figure repeats, as its own title, the
heading above it. On A4: legends print their colours even when the reader's browser
prints no background (its default), and no page holds only the footer. The index's
sortable headers are reached with the Tab key.

Pages: ``officials_reports`` and ``officials_pages`` (``conftest.py``), built once a
session; the browser set-up and the skip rule of ``test_browser.py``.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_browser_officiels import _FIGURE_TEXT_SIZES, _page_text

pytestmark = [pytest.mark.navigateur, pytest.mark.lot]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# What a phone's own bars (address, tabs) hide of its 844 pixels.
PHONE_BARS = 100


def _open(browser, path: Path, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.goto(path.as_uri(), wait_until="load")
    return page


# Where a text is drawn: the box of the first visible text node that holds it.
_TEXT_BOX = """pattern => {
  const re = new RegExp(pattern);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const found = re.exec(node.textContent);
    if (!found || !node.parentElement.getClientRects().length) continue;
    const range = document.createRange();
    range.setStart(node, found.index);
    range.setEnd(node, found.index + found[0].length);
    const box = range.getBoundingClientRect();
    if (box.width && box.height) return {top: box.top, bottom: box.bottom, text: found[0]};
  }
  return null;
}"""


def test_first_phone_screen_shows_the_posts_and_the_weakest_epci(browser, officials_reports):
    """Hautes-Alpes at 390 × 844, before any scroll: the number of posts (18) in the
    upper half, and the intercommunalité with the lowest density (Gap-Tallard-Durance),
    its figure whole, above the last ``PHONE_BARS`` pixels (a real phone's address and
    tool bars take them from the 844)."""
    page = _open(browser, officials_reports["05"], PHONE)
    try:
        weakest = r"Gap-Tallard-Durance comptait 1\s+conseiller pour 50\s565\s+habitants"
        for pattern, lowest in (
            (r"18\s+postes", PHONE["height"] / 2),
            (weakest, PHONE["height"] - PHONE_BARS),
        ):
            box = page.evaluate(_TEXT_BOX, pattern)
            assert box, pattern
            print(f"« {box['text']} » de {box['top']:.0f} à {box['bottom']:.0f} px")
            assert box["top"] >= 0 and box["bottom"] <= lowest, (pattern, box)
        page.screenshot(path="/tmp/rapport_05_premier_ecran.png")
    finally:
        page.close()


# Each long table (12 rows or more) of the officials' part: its 12th row scrolled to the
# top of the screen, are its figures named on screen? Either the header row is still seen
# above it, or each of its cells shows its column's name (a phone's cards).
_HEADERS_SEEN = """() => {
  const out = [];
  for (const table of document.querySelectorAll('table.tableau')) {
    const rows = table.tBodies[0] ? table.tBodies[0].rows : [];
    const head = table.tHead;
    // The officials' part: the analysts' section is closed, and not printed.
    if (rows.length < 12 || !head || table.closest('details.analystes')) continue;
    const names = [...head.rows[0].cells].map(c => c.textContent.trim());
    rows[11].scrollIntoView({block: 'start'});
    const hidden = [];
    for (const [i, th] of [...head.rows[0].cells].entries()) {
      const cell = rows[11].cells[i];
      const box = cell.getBoundingClientRect();
      if (!cell.getClientRects().length || box.right <= 0 || box.left >= innerWidth) continue;
      const label = getComputedStyle(cell, '::before').content;
      const whole = cell.scrollWidth <= cell.clientWidth + 1;  // nothing cut at its edge
      if (i > 0 && label.includes(names[i].slice(0, 12)) && whole) continue;  // a card's
      const top = th.getBoundingClientRect();
      const x = Math.min(Math.max((top.left + top.right) / 2, 1), innerWidth - 2);
      const y = top.top + Math.min(top.height / 2, 8);
      const hit = document.elementFromPoint(x, y);
      const seen = y > 0 && y < innerHeight && hit && th.contains(hit);
      if (!seen && !(i === 0 && label === 'none')) hidden.push(names[i]);
    }
    out.push({headers: names, hidden});
  }
  return out;
}"""


@pytest.mark.parametrize("departement", ["38", "59"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["telephone", "bureau"])
def test_long_tables_keep_their_figures_named(browser, officials_reports, departement, viewport):
    """Row 12 of the Isère priority table read « 6 | 61,2 | 0,00 | 4,8 » without the
    names of its columns: scrolled to the top of the screen, each figure of a long
    table has its column's name in sight (the header row sticks on a desktop, each
    figure carries its label on a phone)."""
    page = _open(browser, officials_reports[departement], viewport)
    try:
        tables = page.evaluate(_HEADERS_SEEN)
        assert len(tables) >= 3, tables
        for table in tables:
            assert table["hidden"] == [], table
    finally:
        page.close()


@pytest.mark.parametrize("departement", ["38", "59"])
def test_density_in_sight_without_a_sideways_scroll_on_a_phone(
    browser, officials_reports, departement
):
    """In every table with a density column, each density is on the phone's screen
    beside its row's name, with no sideways scroll."""
    page = _open(browser, officials_reports[departement], PHONE)
    try:
        cells = page.evaluate(
            """() => [...document.querySelectorAll('table.tableau td')]
                 .filter(td => /^Conseillers pour 10/.test(td.dataset.label || '')
                               && td.getClientRects().length)
                 .map(td => { td.scrollIntoView({block: 'center'});
                   const b = td.getBoundingClientRect(), n = td.parentElement.cells[0];
                   const name = n.getBoundingClientRect();
                   return {text: td.textContent.trim(), right: b.right,
                           nameRight: name.right}; })"""
        )
        assert len(cells) >= 30, cells
        for cell in cells:
            assert cell["right"] <= PHONE["width"] and cell["nameRight"] <= PHONE["width"], cell
    finally:
        page.close()


def _desktop_body_size(page) -> float:
    return page.evaluate(
        """() => parseFloat(getComputedStyle(
             document.querySelector('.jp-RenderedHTMLCommon p, body p')).fontSize)"""
    )


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\wÀ-ÿ-]{4,}", text.lower())}


@pytest.mark.parametrize("departement", ["05", "38"])
def test_figures_are_not_blown_up_on_a_desktop(browser, officials_reports, departement):
    """At 1280 px: text in figures at most the body text × 1.25; a figure does not draw,
    as its own title, the heading above it."""
    page = _open(browser, officials_reports[departement], DESKTOP)
    try:
        body = _desktop_body_size(page)
        sizes = page.evaluate(_FIGURE_TEXT_SIZES)
        largest = max(sizes)
        widths = page.evaluate(
            "() => [...document.querySelectorAll('figure.carte svg.figure')]"
            ".map(s => Math.round(s.getBoundingClientRect().width))"
        )
        print(
            f"{departement} : texte {body} px ; plus grand texte de figure {largest[0]:.1f} px"
            f" ({largest[1]!r}) ; largeurs {widths}"
        )
        assert largest[0] <= body * 1.25, largest
        repeats = page.evaluate(
            """() => [...document.querySelectorAll('svg.figure')].map(svg => {
                 let h = null;
                 for (const e of document.querySelectorAll('h2'))
                   if (e.compareDocumentPosition(svg) & Node.DOCUMENT_POSITION_FOLLOWING) h = e;
                 return [h ? h.textContent.replace('¶', '').trim() : '',
                         [...svg.querySelectorAll('text')].map(t => t.textContent.trim())];
               })"""
        )
        for heading, texts in repeats:
            for text in texts:
                if len(text.split()) >= 3:
                    common = _words(heading) & _words(text)
                    assert len(common) < 2, (heading, text)
    finally:
        page.close()


# Only the legends of the figures left on the page, everything else hidden.
_ONLY_LEGENDS = """() => {
  const keep = new Set();
  for (const legend of document.querySelectorAll('figcaption.legende')) {
    for (let e = legend; e; e = e.parentElement) keep.add(e);
    legend.querySelectorAll('*').forEach(e => keep.add(e));
  }
  for (const e of document.querySelectorAll('body *'))
    if (!keep.has(e)) e.style.setProperty('display', 'none', 'important');
  return keep.size;
}"""


def _coloured_pixels(pdf: Path, tmp_path: Path) -> int:
    from PIL import Image

    stem = tmp_path / "legende"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(stem)], check=True
    )
    image = Image.open(next(tmp_path.glob("legende*.png"))).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if max(r, g, b) - min(r, g, b) > 40)


@pytest.mark.parametrize("which", ["index", "05"])
def test_printed_legends_keep_their_colours(
    browser, officials_reports, officials_pages, tmp_path, which
):
    """Printed as a browser prints by default (no background graphics), a legend's
    swatches keep their colours."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) absent")
    path = officials_pages["index"] if which == "index" else officials_reports[which]
    page = _open(browser, path, DESKTOP)
    try:
        assert page.evaluate(_ONLY_LEGENDS) > 5
        page.emulate_media(media="print")
        pdf = tmp_path / "legendes.pdf"
        page.pdf(path=pdf, format="A4", print_background=False, prefer_css_page_size=True)
    finally:
        page.close()
    coloured = _coloured_pixels(pdf, tmp_path)
    print(f"{which} : {coloured} pixels colorés dans les légendes imprimées")
    assert coloured > 100


@pytest.mark.parametrize("departement", ["05", "38", "59", "75", "974", "2A"])
def test_no_printed_page_holds_only_the_footer(browser, officials_reports, tmp_path, departement):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) absent")
    from test_browser import artefacts_script

    page = _open(browser, officials_reports[departement], DESKTOP)
    try:
        footer = page.evaluate("() => document.querySelector('footer.provenance').innerText")
        pdf = tmp_path / "rapport.pdf"
        artefacts_script().print_pdf(page, pdf)
    finally:
        page.close()
    pages = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
            ).stdout,
        ).group(1)
    )
    last = re.sub(r"\s+", "", _page_text(pdf, pages))
    rest = last
    for word in footer.split():
        rest = rest.replace(word, "", 1)
    print(
        f"{departement} : {pages} pages ; dernière page : {len(last)} caractères, "
        f"{len(rest)} hors du pied de page"
    )
    assert len(rest) > 80, _page_text(pdf, pages)


def test_index_headers_are_reached_with_the_tab_key(browser, officials_pages):
    page = _open(browser, officials_pages["index"], DESKTOP)
    try:
        reached = None
        for _ in range(80):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => document.activeElement.closest('table.triable thead') ? "
                "document.activeElement.textContent.trim() : null"
            )
            if focused:
                reached = focused
                break
        assert reached, "aucun en-tête du tableau n'est atteint au clavier"
        page.keyboard.press("Enter")
        sorted_by = page.evaluate(
            "() => document.activeElement.closest('th').getAttribute('aria-sort')"
        )
        assert sorted_by in ("ascending", "descending")
        assert "Cliquez" not in page.inner_text("body")
    finally:
        page.close()


@pytest.mark.parametrize("departement", ["05", "38"])
def test_tooltip_of_a_tapped_epci_fits_a_phone(browser, officials_reports, departement):
    """carte_interactive.html on a 390 × 844 touch screen: the tooltip of each tapped
    intercommunalité lies within the screen's width, every label and value whole."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto((officials_reports[departement].parent / "carte_interactive.html").as_uri())
    try:
        # The territory fills the screen's width at the first zoom (it took 300 of the
        # 390 px with whole zoom steps), once Leaflet's zoom animation is over.
        page.wait_for_timeout(1000)
        extent = page.evaluate(
            """() => { const b = [...document.querySelectorAll(
                   'path.leaflet-interactive[stroke="#555555"]')]
                 .map(p => p.getBoundingClientRect()).filter(r => r.width > 0);
               return Math.max(...b.map(r => r.right)) - Math.min(...b.map(r => r.left)); }"""
        )
        print(f"{departement} : territoire large de {extent:.0f} px au premier zoom")
        assert 0.8 * PHONE["width"] <= extent <= PHONE["width"], extent
        polygons = page.locator("path.leaflet-interactive")
        seen = []
        for index in range(polygons.count()):
            box = polygons.nth(index).bounding_box()
            if not box or box["width"] < 20:
                continue
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            if not (0 < x < PHONE["width"] and 60 < y < PHONE["height"] - 60):
                continue
            page.touchscreen.tap(x, y)
            tooltip = page.locator(".leaflet-tooltip")
            if not tooltip.count() or not tooltip.first.is_visible():
                continue
            tip = tooltip.first.bounding_box()
            if not tip:  # closed meanwhile
                continue
            cut = tooltip.first.evaluate(
                "t => [...t.querySelectorAll('th, td')]"
                ".filter(c => c.scrollWidth > c.clientWidth + 1).length"
            )
            seen.append((round(tip["x"]), round(tip["x"] + tip["width"]), cut))
        print(f"{departement} : infobulles (gauche, droite, cellules coupées) {seen}")
        assert len(seen) >= 5, seen
        for left, right, cut in seen:
            assert left >= 0 and right <= PHONE["width"] and cut == 0, seen
        page.screenshot(path=f"/tmp/carte_{departement}_telephone.png")
    finally:
        context.close()


def test_a_tooltip_opened_on_the_wrong_side_stays_on_the_phone(browser, officials_reports):
    """CI tapped an Isère intercommunalité while the map was still busy: Leaflet put its
    tooltip on the left of a point left of the centre, 9 px past the screen's edge. A
    tooltip sent left of a point 20 px from the edge, as then, stays on the screen."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto((officials_reports["38"].parent / "carte_interactive.html").as_uri())
    try:
        page.evaluate(
            """() => { const map = window[Object.keys(window).find(k => /^map_/.test(k))];
                 L.tooltip({direction: 'left', className: 'foliumtooltip'})
                   .setLatLng(map.containerPointToLatLng([20, 400]))
                   .setContent('Communauté de communes du Trièves : 0,87 pour 10 000 hab.')
                   .openOn(map); }"""
        )
        page.wait_for_timeout(1000)  # the first zoom and the tooltip's move are over
        tip = page.locator(".leaflet-tooltip").bounding_box()
        box = [tip["x"], tip["x"] + tip["width"]]
        assert box[0] >= 0 and box[1] <= PHONE["width"], box
    finally:
        context.close()


def _overlaps(discs: list[dict]) -> list[tuple]:
    """Pairs of discs (their boxes as drawn) closer than their radii and strokes."""

    def centre(d):
        return (d["left"] + d["right"]) / 2, (d["top"] + d["bottom"]) / 2

    return [
        (a["n"], b["n"])
        for i, a in enumerate(discs)
        for b in discs[i + 1 :]
        if math.dist(centre(a), centre(b))
        < (a["right"] - a["left"]) / 2 + (b["right"] - b["left"]) / 2 + 2
    ]


def test_fiche_markers_never_overlap(browser, officials_pages):
    """In every fiche of Hautes-Alpes and Isère, phone and desktop, the numbered discs
    of the proposed places are apart: each number can be read."""
    fiches = sorted(p for p in officials_pages["fiches"].glob("*.html") if p.stem.isdigit())
    assert len(fiches) >= 27
    found = {}
    for viewport in (PHONE, DESKTOP):
        page = browser.new_page(viewport=viewport)
        for path in fiches:
            page.goto(path.as_uri(), wait_until="load")
            boxes = page.evaluate(
                """() => [...document.querySelectorAll('svg .numero-propose')].map(g => {
                     const b = g.querySelector('circle').getBoundingClientRect();
                     return {n: g.textContent.trim(), left: b.left, right: b.right,
                             top: b.top, bottom: b.bottom}; })"""
            )
            if not boxes:  # before the fix: circles with a number after them
                boxes = page.evaluate(
                    """() => [...document.querySelectorAll('svg circle[r="8"]')].map(c => {
                         const b = c.getBoundingClientRect();
                         return {n: c.nextElementSibling.textContent.trim(), left: b.left,
                                 right: b.right, top: b.top, bottom: b.bottom}; })"""
                )
            if _overlaps(boxes):
                found[f"{path.stem} ({viewport['width']} px)"] = _overlaps(boxes)
        page.close()
    assert found == {}


@pytest.mark.parametrize(
    ("typed", "commune"),
    [
        ("Brianson", "Briançon (05)"),
        ("Orpiere", "Orpierre (05)"),
        ("bonnet champsaur", "Saint-Bonnet-en-Champsaur (05)"),
        ("champsaur bonnet", "Saint-Bonnet-en-Champsaur (05)"),
        ("grenobel", "Grenoble (38)"),
    ],
)
def test_search_tolerates_typos_and_word_order_offline(browser, officials_pages, typed, commune):
    context = browser.new_context(viewport=PHONE)
    blocked = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:"))
            else (blocked.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.goto(officials_pages["recherche"].as_uri(), wait_until="load")
    try:
        page.get_by_label("Nom de votre commune").fill(typed)
        link = page.get_by_role("link", name=commune)
        assert link.count() and link.first.is_visible(), page.inner_text("#resultats")
        assert blocked == []
    finally:
        context.close()


def test_search_names_the_departements_it_covers(browser, officials_pages):
    page = _open(browser, officials_pages["recherche"], PHONE)
    try:
        page.get_by_label("Nom de votre commune").fill("Roubaix")
        said = page.inner_text("#compte")
        assert "Hautes-Alpes" in said and "Isère" in said, said
    finally:
        page.close()


@pytest.mark.parametrize("departement", ["38", "59"])
def test_no_sideways_scroll_from_phone_to_desktop(browser, officials_reports, departement):
    """Tables whose header sticks on a desktop must not push the page sideways on a
    tablet: between a phone and a desktop they scroll in their own box."""
    for width in (390, 800, 1024, 1280):
        page = _open(browser, officials_reports[departement], {"width": width, "height": 900})
        try:
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{width} px : la page défile de {overflow} px"
        finally:
            page.close()
