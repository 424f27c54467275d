"""The report and the monthly index in a real browser (headless Chromium, driven by Playwright).

The pages are produced in a temporary folder, opened through file:// URLs, and must load
without any console error. The report's map must be displayed (not a blank area), the
report must print to an A4 PDF with the map on its first or second page, and the index
table must sort when a header is clicked.

Screenshots and the printed PDF are kept as test artefacts, in the folder named by the
environment variable ANALYSE_ARTEFACTS, by default ``reports/artefacts/`` (ignored by git,
like everything generated under ``reports/``). The Hautes-Alpes report screenshot is
``rapport_05.png`` (whole page) and ``rapport_05_carte.png`` (the map).

The browser is the system Chromium (Debian package ``chromium``; ``.ci/run`` installs it
when missing), never one downloaded by ``playwright install``. ANALYSE_CHROMIUM names
another executable. Without Chromium or Playwright these tests are skipped, unless
ANALYSE_NAVIGATEUR_REQUIS=1 (set by ``.ci/run``), where they fail instead.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from analyse import config
from analyse.analysis import situation

pytestmark = pytest.mark.navigateur


def artefacts_script():
    """``scripts/artefacts.py``: how the reviewed pages are opened, printed and measured,
    shared with these tests."""
    import importlib.util

    path = config.PROJECT_ROOT / "scripts" / "artefacts.py"
    spec = importlib.util.spec_from_file_location("artefacts", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


CHROMIUM_ARGS = artefacts_script().CHROMIUM_ARGS


def _chromium() -> str | None:
    path = os.environ.get("ANALYSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, in French; None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "le paquet Python playwright n'est pas installé (pip install -e '.[dev]')"
    if _chromium() is None:
        where = os.environ.get("ANALYSE_CHROMIUM") or "chromium"
        return f"Chromium introuvable ({where}) : installez le paquet Debian « chromium »"
    return None


_WHY = _missing_browser()
_REQUIRED = os.environ.get("ANALYSE_NAVIGATEUR_REQUIS") == "1"
if _WHY and not _REQUIRED:
    pytest.skip(f"Tests dans un navigateur sautés : {_WHY}", allow_module_level=True)


# axe-core from the npm registry (``.ci/run`` installs it); ANALYSE_AXE names another copy.
AXE_SCRIPT = Path(
    os.environ.get("ANALYSE_AXE")
    or config.PROJECT_ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
)
# WCAG 2.1 levels A and AA: what RGAA builds on.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[str]:
    """The WCAG 2.1 AA rules ``page`` breaks, by axe-core run in the page: « rule: what
    (n nodes) first target »."""
    if not AXE_SCRIPT.is_file():
        message = f"axe-core introuvable ({AXE_SCRIPT}) : lancez .ci/run ou npm install axe-core"
        if _REQUIRED:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    page.add_script_tag(content=AXE_SCRIPT.read_text(encoding="utf-8"))
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
            .then(r => r.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length}) `
                + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))""",
        AXE_TAGS,
    )
    return result


@pytest.fixture(scope="module")
def artefacts() -> Path:
    folder = Path(os.environ.get("ANALYSE_ARTEFACTS") or config.REPORTS_DIR / "artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The Hautes-Alpes report and the index of April 2021 (index only: fast)."""
    from analyse import cli
    from analyse.analysis import pipeline
    from analyse.run.monthly import run_months
    from analyse.territory.reference import load_reference

    out = tmp_path_factory.mktemp("navigateur")
    assert cli.main(["rapport", "--departement", "05", "--sortie", str(out)]) == 0
    reference = load_reference()
    selections = pipeline.match_selections(None, reference)
    run_months(["2021-04"], situation.Sources.of(selections, reference), [], out, 1, progress=False)
    return {"rapport": out / "05" / "rapport.html", "index": out / "2021-04" / "index.html"}


def _open(browser, path: Path):
    """A new page showing ``path``, with the console errors and page errors it produced."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(f"console : {message.text} ({message.location['url']})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(f"erreur JavaScript : {e}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, errors


@pytest.fixture(scope="module")
def report(browser, pages):
    page, errors = _open(browser, pages["rapport"])
    yield page, errors
    page.close()


@pytest.fixture(scope="module")
def index(browser, pages):
    page, errors = _open(browser, pages["index"])
    yield page, errors
    page.close()


def _embedded_size(svg) -> tuple[int, int]:
    """The natural size of the image embedded in a figure's SVG (its polygons)."""
    return tuple(
        svg.locator("image").first.evaluate(
            """async i => { const img = new Image();
                 img.src = i.getAttribute('xlink:href') || i.getAttribute('href');
                 await img.decode(); return [img.naturalWidth, img.naturalHeight]; }"""
        )
    )


def _colours(png: bytes) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=image.width * image.height))


def test_report_loads_without_console_error_and_shows_the_map(report, artefacts):
    page, errors = report
    assert errors == []
    assert page.get_by_text("Carte : conseillers pour 10").first.is_visible()
    # The map is the report's first figure: an inline SVG, its polygons one embedded image.
    carte = page.locator("svg.figure").first
    assert carte.is_visible()
    width, height = _embedded_size(carte)
    assert width > 0 and height > 0
    box = carte.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150
    map_png = carte.screenshot(path=artefacts / "rapport_05_carte.png")
    page.screenshot(path=artefacts / "rapport_05.png", full_page=True)
    # A blank or broken image has one or two colours; the choropleth has many.
    assert _colours(map_png) > 10


def _pdf_objects(pdf: bytes) -> tuple[dict[int, bytes], bytes]:
    """Each object's dictionary (up to its stream) by number, and the trailer: classic xref."""
    start = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    assert pdf[start : start + 4] == b"xref", "table xref classique attendue"
    trailer_at = pdf.index(b"trailer", start)
    objects: dict[int, bytes] = {}
    lines = iter(pdf[start + 4 : trailer_at].split(b"\n"))
    for line in lines:
        fields = line.split()
        if len(fields) == 2:  # a subsection: first object number, count
            first, count = map(int, fields)
            for number in range(first, first + count):
                offset, _, kind = next(lines).split()[:3]
                if kind == b"n":
                    at = int(offset)
                    end = min(
                        i for i in (pdf.find(b"stream", at), pdf.find(b"endobj", at)) if i != -1
                    )
                    objects[number] = pdf[at:end]
    return objects, pdf[trailer_at : pdf.index(b"startxref", trailer_at)]


def _pdf_images(pdf: bytes) -> list[tuple[int, int, int]]:
    """(page number from 1, width, height) of the images drawn on each page, in page order."""
    objects, trailer = _pdf_objects(pdf)

    def ref(text: bytes, key: bytes) -> int:
        return int(re.search(key + rb"\s+(\d+)\s+0\s+R", text).group(1))

    def dictionary(text: bytes, key: bytes) -> bytes:
        """The value of ``key``: an indirect object, or an inline << >> dictionary."""
        found = re.search(key + rb"\s+(\d+)\s+0\s+R", text)
        if found:
            return objects[int(found.group(1))]
        at = text.find(key + b" <<")
        if at == -1:
            at = text.find(key + b"<<")
        if at == -1:
            return b""
        depth, i = 0, text.index(b"<<", at)
        start = i
        while True:
            if text.startswith(b"<<", i):
                depth, i = depth + 1, i + 2
            elif text.startswith(b">>", i):
                depth, i = depth - 1, i + 2
                if depth == 0:
                    return text[start:i]
            else:
                i += 1

    def images(resources: bytes, seen: set[int]) -> list[tuple[int, int]]:
        found = []
        xobjects = dictionary(resources, b"/XObject")
        for number in map(int, re.findall(rb"/\S+\s+(\d+)\s+0\s+R", xobjects)):
            if number in seen:
                continue
            seen.add(number)
            xobject = objects[number]
            if re.search(rb"/Subtype\s*/Image", xobject):
                width, height = (
                    int(re.search(key + rb"\s+(\d+)", xobject).group(1))
                    for key in (b"/Width", b"/Height")
                )
                found.append((width, height))
            elif re.search(rb"/Subtype\s*/Form", xobject):
                found += images(dictionary(xobject, b"/Resources"), seen)
        return found

    def leaves(number: int) -> list[int]:
        node = objects[number]
        if re.search(rb"/Type\s*/Pages", node):
            kids = re.search(rb"/Kids\s*\[([^\]]*)\]", node).group(1)
            return [p for kid in re.findall(rb"(\d+)\s+0\s+R", kids) for p in leaves(int(kid))]
        return [number]

    root = objects[ref(trailer, b"/Root")]
    result = []
    for page_number, page in enumerate(leaves(ref(root, b"/Pages")), start=1):
        for width, height in images(dictionary(objects[page], b"/Resources"), set()):
            result.append((page_number, width, height))
    return result


def test_report_prints_to_pdf_with_the_map_on_page_one_or_two(report, artefacts):
    page, _ = report
    map_size = _embedded_size(page.locator("svg.figure").first)
    path = artefacts / "rapport_05.pdf"
    pdf = page.pdf(path=path, format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 1
    images = _pdf_images(pdf)
    # Chromium embeds the map's PNG at its own size: the image of the map's size.
    map_pages = [number for number, *size in images if tuple(size) == map_size]
    assert map_pages, f"carte {map_size} absente du PDF ; images : {images}"
    assert map_pages[0] <= 2, f"carte à la page {map_pages[0]}"
    if shutil.which("pdfimages"):  # poppler-utils, installed by .ci/run: same reading
        listing = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        rows = [line.split() for line in listing]
        listed = [(int(r[0]), int(r[3]), int(r[4])) for r in rows if r[2] == "image"]
        assert sorted(listed) == sorted(images)


def _column(page, number: int) -> list[str]:
    return page.locator(f"table.triable tbody tr td:nth-child({number})").evaluate_all(
        "cells => cells.map(c => c.dataset.tri)"
    )


def _french_key(name: str) -> tuple[str, str]:
    """Close enough to Chromium's localeCompare(…, "fr") for the département names."""
    bare = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    return bare.casefold(), name


def test_index_loads_without_console_error(index, artefacts):
    page, errors = index
    assert errors == []
    carte = page.locator("figure svg.figure").first
    assert carte.is_visible() and carte.bounding_box()["width"] > 300
    assert len(_column(page, 1)) >= 100  # every département
    page.screenshot(path=artefacts / "index_2021-04.png", full_page=True)


def test_index_table_sorts_when_a_header_is_clicked(index, artefacts):
    page, _ = index
    header = page.locator("table.triable th", has_text="Postes")
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    posts = [int(v) for v in _column(page, 3)]
    assert posts == sorted(posts) and posts[0] < posts[-1]
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert [int(v) for v in _column(page, 3)] == sorted(posts, reverse=True)
    page.screenshot(path=artefacts / "index_2021-04_postes.png")

    header = page.locator("table.triable th", has_text="Département")
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    names = _column(page, 2)
    assert names == sorted(names, key=_french_key)
    assert names[0] == "Ain"
    # French order, not code-point order: the accent does not send Ardèche after Ardennes.
    assert names.index("Ardèche") < names.index("Ardennes")


# A4 portrait less the report's @page margins (11 mm left and right), in CSS pixels.
PRINTABLE_WIDTH_PX = int((210 - 2 * 11) / 25.4 * 96)


@pytest.mark.parametrize("departement", ["05", "59", "974"])
def test_report_prints_whole_on_a4_portrait(browser, national_reports, artefacts, departement):
    """Printed, no table is wider than the page (no lost column), and the PDF is A4."""
    path = national_reports / departement / "rapport.html"
    page, errors = _open(browser, path)
    assert errors == []
    pdf = page.pdf(
        path=artefacts / f"rapport_{departement}_national.pdf", prefer_css_page_size=True
    )
    assert pdf.startswith(b"%PDF-")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": PRINTABLE_WIDTH_PX, "height": 1100})
    tables = page.evaluate(
        """() => [...document.querySelectorAll('table')]
            .filter(t => t.getClientRects().length > 0)
            .map(t => [t.scrollWidth, [...t.querySelectorAll('th')].map(h => h.innerText)
                                          .join(' | ').slice(0, 90)])"""
    )
    assert len(tables) >= 5
    too_wide = [(width, headers) for width, headers in tables if width > PRINTABLE_WIDTH_PX]
    assert too_wide == [], f"tableaux plus larges que la page ({PRINTABLE_WIDTH_PX} px)"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PRINTABLE_WIDTH_PX
    # No header spills over its neighbour (a word wider than its column).
    spilling = page.evaluate(
        """() => [...document.querySelectorAll('th')]
            .filter(h => h.getClientRects().length > 0 && h.scrollWidth > h.clientWidth + 1)
            .map(h => h.innerText)"""
    )
    assert spilling == []
    page.close()


@pytest.mark.parametrize("departement", ["05", "59", "974"])
def test_report_reads_on_a_phone(browser, national_reports, artefacts, departement):
    """At 390 px: no sideways scroll of the page, a legend of at least 11 px, and the
    EPCI name still in view when the main table is scrolled sideways."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto((national_reports / departement / "rapport.html").as_uri(), wait_until="load")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"la page défile de {overflow} px à l'horizontale"
    legend = page.locator("figcaption.legende").first
    assert legend.is_visible()
    sizes = legend.locator("li").evaluate_all(
        "items => items.map(i => parseFloat(getComputedStyle(i).fontSize))"
    )
    assert sizes and min(sizes) >= 11, sizes
    legend.screenshot(path=artefacts / f"rapport_{departement}_telephone_legende.png")
    table = page.locator(".defile", has_text="Habitants par conseiller").first
    table.scroll_into_view_if_needed()
    table.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    name = table.locator("tbody tr td").first
    box = name.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.screenshot(path=artefacts / f"rapport_{departement}_telephone_tableau.png")
    page.close()
