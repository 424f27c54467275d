"""What a reviewer looks at: the reports of 05 (three proposed posts), 38, 59 and 974 and
the index of June 2021, as screenshots (phone, 390 px, and desktop) and as printed A4 PDFs,
in ``reports/artefacts/`` (generated, never committed). Prints, for each PDF, its page
count and how far down each page is filled.

    python scripts/artefacts.py                  # produce the pages, then shoot and print
    python scripts/artefacts.py --pages DOSSIER  # reuse pages produced earlier there

The browser is the system Chromium driven by Playwright, set up as in the browser tests.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from analyse import config

# Report cases: the arguments after « rapport -d CODE ». Three proposed posts for each, as
# the browser tests print them: the longest copy an official may get.
REPORTS = {code: ["--postes", "3"] for code in ("05", "38", "59", "974")}
MONTH = "2021-06"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium tries to reach Google hosts and logs errors.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def produce(folder: Path) -> dict[str, Path]:
    """Write the reports and the index under ``folder``; the page of each case."""
    from analyse import cli
    from analyse.analysis import pipeline
    from analyse.analysis.situation import Sources
    from analyse.run.monthly import run_months
    from analyse.territory.reference import load_reference

    for code, arguments in REPORTS.items():
        if cli.main(["rapport", "-d", code, *arguments, "--sortie", str(folder)]) != 0:
            raise SystemExit(f"rapport {code} : échec")
    reference = load_reference()
    selections = pipeline.match_selections(None, reference)
    run_months([MONTH], Sources(selections, reference), [], folder, 1, progress=False)
    return found_pages(folder)


def found_pages(folder: Path) -> dict[str, Path]:
    folder = folder.resolve()
    pages = {f"rapport_{code}": folder / code / config.REPORT_HTML_NAME for code in REPORTS}
    pages[f"index_{MONTH}"] = folder / MONTH / config.INDEX_NAME
    missing = [str(path) for path in pages.values() if not path.is_file()]
    if missing:
        raise SystemExit(f"pages absentes : {', '.join(missing)}")
    return pages


def page_fills(pdf: Path) -> list[float]:
    """How far down each page of ``pdf`` its content goes (0 to 1), rasterised at 20 dpi
    (poppler's pdftoppm)."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as work:
        stem = Path(work) / "page"
        subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(stem)], check=True)
        fills = []
        for path in sorted(glob.glob(f"{glob.escape(str(stem))}-*.pgm")):
            image = Image.open(path)
            width, height = image.size
            pixels = image.load()
            rows = [y for y in range(height) if any(pixels[x, y] < 200 for x in range(width))]
            fills.append((rows[-1] + 1) / height if rows else 0.0)
    return fills


def print_pdf(page, path: Path) -> None:
    """``page`` printed on A4 as Chromium prints it (the page's own @page margins)."""
    page.emulate_media(media="print")
    page.pdf(path=path, format="A4", print_background=True, prefer_css_page_size=True)
    page.emulate_media(media="screen")


def shoot(pages: dict[str, Path], target: Path) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("ANALYSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    summary = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for name, html in pages.items():
            for label, viewport in (("telephone", PHONE), ("bureau", DESKTOP)):
                page = browser.new_page(viewport=viewport)
                page.goto(html.as_uri(), wait_until="load")
                page.screenshot(path=target / f"{name}_{label}.png", full_page=True)
                if label == "bureau":
                    print_pdf(page, target / f"{name}.pdf")
                page.close()
            fills = page_fills(target / f"{name}.pdf")
            summary[name] = {
                "pages": len(fills),
                "remplissage": [round(fill, 2) for fill in fills],
                "plus_faible_hors_derniere": round(min(fills[:-1]), 2) if len(fills) > 1 else None,
            }
        browser.close()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, help="dossier où les pages ont déjà été produites")
    parser.add_argument(
        "--sortie", type=Path, default=config.REPORTS_DIR / "artefacts", help="dossier écrit"
    )
    args = parser.parse_args(argv)
    args.sortie.mkdir(parents=True, exist_ok=True)
    pages = found_pages(args.pages) if args.pages else produce(args.sortie / "pages")
    summary = shoot(pages, args.sortie)
    (args.sortie / "pages_imprimees.json").write_text(
        json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for name, measured in summary.items():
        lowest = measured["plus_faible_hors_derniere"]
        lowest_text = "—" if lowest is None else f"{round(100 * lowest)} %"
        fills = " ".join(f"{round(100 * fill)}" for fill in measured["remplissage"])
        print(
            f"{name} : {measured['pages']} pages, page la moins remplie (hors dernière) "
            f"{lowest_text} ; remplissage {fills}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
