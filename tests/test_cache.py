"""Work done once: reports made with the content-addressed cache are those of a cold
run (05, 59, 974 on three consecutive months of the national list), a month that brought
a département nothing new reuses its maps, and a report whose inputs did not change at
all is taken whole from the cache, without a kernel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import NATIONAL_FILE, notebook_outputs, without_cell_ids

from analyse.analysis import bundle, pipeline
from analyse.run import report
from analyse.run.warm import WarmKernel

pytestmark = pytest.mark.lot

CODES = ("05", "59", "974")
# 05 had no committee in 2022-03 and 2022-04, 59 and 974 had one each month (the
# national list of 2023-04-05).
MONTHS = ("2022-02", "2022-03", "2022-04")


def _without_element_ids(page: bytes) -> str:
    """folium names every element of the interactive map with a random uuid: each one
    numbered in order of appearance instead."""
    seen: dict[str, str] = {}
    text = page.decode("utf-8")
    return re.sub(r"[0-9a-f]{32}", lambda m: seen.setdefault(m[0], f"id{len(seen)}"), text)


def _run_all(jobs, out: Path, kernel: str) -> tuple[dict, int]:
    """Every job's report into ``out``, in one warm kernel; the kernels started."""
    warm = WarmKernel(kernel)
    try:
        files = {
            (code, month): report.run_job(
                report.ReportJob(code, data_dir, out / month / code, title, month), kernel, warm
            )
            for code, month, data_dir, title in jobs
        }
    finally:
        warm.stop()
    return files, warm.started


def _entries(cache: Path, kind: str) -> int:
    return sum(1 for path in (cache / kind).glob("*/*") if not path.name.startswith("."))


def test_cached_reports_are_those_of_a_cold_run(reference, tmp_path, monkeypatch):
    import geopandas as gpd
    import pandas as pd

    selections = pipeline.match_selections([NATIONAL_FILE], reference)
    jobs, changed = [], 0
    for month in MONTHS:
        for code in CODES:
            prepared = pipeline.prepare(code, selections, reference, month=month)
            changed += month != MONTHS[0] and not prepared.changes.empty
            data_dir = bundle.save(prepared, tmp_path / "donnees" / month / code)
            jobs.append((code, month, data_dir, report.report_title(prepared)))
    assert 0 < changed < 2 * len(CODES)  # the months chosen show both cases
    kernel = report.ensure_kernel()

    monkeypatch.setenv("ANALYSE_CACHE", "0")
    cold, _ = _run_all(jobs, tmp_path / "froid", kernel)
    cache = tmp_path / "cache"
    monkeypatch.setenv("ANALYSE_CACHE", "1")
    monkeypatch.setenv("ANALYSE_CACHE_DIR", str(cache))
    cached, _ = _run_all(jobs, tmp_path / "cache-vide", kernel)

    for key, files in cached.items():
        before = cold[key]
        assert notebook_outputs(files.notebook) == notebook_outputs(before.notebook), key
        html = without_cell_ids(files.html.read_text(encoding="utf-8"))
        assert html == without_cell_ids(before.html.read_text(encoding="utf-8")), key
        assert files.csv.read_bytes() == before.csv.read_bytes(), key
        assert _without_element_ids(files.interactive_map.read_bytes()) == _without_element_ids(
            before.interactive_map.read_bytes()
        ), key
        for layer in ("epci", "communes", "lieux"):
            pd.testing.assert_frame_equal(
                gpd.read_file(files.geopackage, layer=layer),
                gpd.read_file(before.geopackage, layer=layer),
            )
        pd.testing.assert_frame_equal(pd.read_excel(files.workbook), pd.read_excel(before.workbook))

    # A month without a new post drew no new density map: only the first month of each
    # département and the months that changed it did.
    assert _entries(cache, "carte-densite") == len(CODES) + changed
    assert _entries(cache, "chronologie") == len(CODES) + changed
    # The distance map shows the communes hosting a structure: the same for 05 each month.
    assert len(CODES) <= _entries(cache, "carte-distance") < len(jobs)
    assert _entries(cache, "rapport") == len(jobs)

    # The same data again: every report is the one in the cache, no kernel started.
    again, started = _run_all(jobs, tmp_path / "encore", kernel)
    assert started == 0
    for key, files in again.items():
        for path, first in zip(files.all(), cached[key].all(), strict=True):
            assert path.read_bytes() == first.read_bytes(), (key, path.name)


def test_no_cache_is_written_when_it_is_off(reference, tmp_path, monkeypatch):
    """ANALYSE_CACHE=0: the report is made, and nothing is kept."""
    monkeypatch.setenv("ANALYSE_CACHE", "0")
    monkeypatch.setenv("ANALYSE_CACHE_DIR", str(tmp_path / "cache"))
    selections = pipeline.match_selections(None, reference)
    data_dir = bundle.save(pipeline.prepare("05", selections, reference), tmp_path / "d05")
    job = report.ReportJob("05", data_dir, tmp_path / "r", "Hautes-Alpes")
    files = report.run_job(job, report.ensure_kernel())
    assert files.html.exists()
    assert not (tmp_path / "cache").exists()


def test_next_posts_kept_are_those_computed(reference):
    """The next posts of an EPCI, kept by the digest of its communes, are those its
    communes give; asked again (another month, the same communes), none is recomputed."""
    import geopandas as gpd
    import pandas as pd

    from analyse.analysis import fiche

    selections = pipeline.match_selections(None, reference)
    fiche._NEXT_POSTS.clear()
    rows = fiche.fiche_rows(pipeline.prepare("05", selections, reference))
    kept = {siren: own.proposals for siren, own in rows.each()}
    computed = len(fiche._NEXT_POSTS)
    assert computed >= 9  # the 9 EPCI of 05, and those it reaches
    for siren, own in rows.each():
        expected = fiche.next_posts(own.communes, fiche.metric_crs(own))
        assert isinstance(own.proposals, gpd.GeoDataFrame)
        pd.testing.assert_frame_equal(own.proposals, expected)
        pd.testing.assert_frame_equal(kept[siren], expected)
    assert len(fiche._NEXT_POSTS) == computed


def test_figures_kept_within_a_run_are_those_computed_afresh(reference):
    """The national figures of a month and each département's IFN join and distances
    are kept for the run (``pipeline._NATIONAL``, ``pipeline._PER_DEPARTEMENT``): a
    département prepared after others, months apart, gets the tables it gets alone."""
    import dataclasses

    import pandas as pd

    from analyse.analysis.inputs import load_extras
    from analyse.config import EMBEDDED_IFN, EMBEDDED_PLACES

    selections = pipeline.match_selections([NATIONAL_FILE], reference)
    extras = load_extras(reference, list(EMBEDDED_IFN), EMBEDDED_PLACES)

    def afresh(code: str, month: str):
        for kept in (pipeline._NATIONAL, pipeline._PER_DEPARTEMENT):
            kept._values.clear()
        selections._until.clear()
        return pipeline.prepare(code, selections, reference, month=month, extras=extras)

    expected = afresh("05", "2022-03")
    for code, month in (("05", "2022-02"), ("38", "2022-03"), ("04", "2022-03")):
        pipeline.prepare(code, selections, reference, month=month, extras=extras)
    again = pipeline.prepare("05", selections, reference, month="2022-03", extras=extras)
    for field in dataclasses.fields(expected):
        left, right = getattr(expected, field.name), getattr(again, field.name)
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(pd.DataFrame(left), pd.DataFrame(right))
        elif field.name == "context":
            assert {**left.to_dict(), "genere_le": ""} == {**right.to_dict(), "genere_le": ""}
        else:
            assert left == right, field.name
