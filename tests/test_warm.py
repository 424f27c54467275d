"""Warm kernels: reports run one after another in one kept kernel stay isolated, a
report that kills its kernel costs only itself, and the outputs are those of a cold
kernel (05, 59, 974 on the national list)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import NATIONAL_FILE, notebook_outputs, without_cell_ids

from analyse.analysis import bundle, pipeline
from analyse.run import batch, report
from analyse.run.warm import WarmKernel

pytestmark = pytest.mark.lot

NATIONAL = NATIONAL_FILE


def _notebook(folder: Path, name: str, *cells: str) -> Path:
    """A notebook with a parameters cell (``x``) and ``cells``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]})]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python"}
    path = folder / name
    nbformat.write(notebook, path)
    return path


LEAVES_STATE = """
secret = 42
import warnings
import matplotlib.pyplot as plt
warnings.simplefilter("error")
plt.rcParams["font.size"] = 30
plt.figure()
"""

SEES_NOTHING = """
import warnings
import matplotlib.pyplot as plt
assert "secret" not in globals(), "la variable du rapport précédent est visible"
assert plt.get_fignums() == [], "une figure du rapport précédent est ouverte"
assert plt.rcParams["font.size"] != 30, "réglage matplotlib du rapport précédent"
warnings.warn("un simple avertissement")  # an error if the previous filter survived
"""


@pytest.fixture
def warm():
    kernel = WarmKernel(report.ensure_kernel(), timeout=60)
    yield kernel
    kernel.stop()


def test_second_report_sees_nothing_of_the_first(warm, tmp_path):
    first = _notebook(tmp_path, "premier.ipynb", LEAVES_STATE)
    second = _notebook(tmp_path, "second.ipynb", SEES_NOTHING)
    warm.execute(first, tmp_path / "out1.ipynb", {"x": 1})
    warm.execute(second, tmp_path / "out2.ipynb", {"x": 2})
    assert warm.started == 1  # one kernel for both: the second was not rescued by a restart
    out = nbformat.read(tmp_path / "out2.ipynb", as_version=4)
    # Numbered as in a fresh kernel: parameters, injected parameters, the cell.
    assert [cell.execution_count for cell in out.cells] == [1, 2, 3]


def test_a_report_that_kills_its_kernel_costs_only_itself(warm, tmp_path):
    from analyse.run.warm import KernelFailure

    good = _notebook(tmp_path, "bon.ipynb", "y = x * 2")
    crash = _notebook(tmp_path, "plante.ipynb", "import os\nos._exit(1)")
    warm.execute(good, tmp_path / "a.ipynb", {"x": 1})
    with pytest.raises((KernelFailure, RuntimeError)):
        warm.execute(crash, tmp_path / "b.ipynb", {"x": 1})
    assert warm.started == 2  # retried once on a fresh kernel, which died too
    warm.execute(good, tmp_path / "c.ipynb", {"x": 3})
    assert warm.started == 3
    out = nbformat.read(tmp_path / "c.ipynb", as_version=4)
    assert out.metadata.papermill.parameters == {"x": 3}


def test_a_hung_or_bloated_kernel_is_replaced(tmp_path):
    from papermill.exceptions import PapermillExecutionError

    warm = WarmKernel(report.ensure_kernel(), timeout=3, max_rss_mib=10_000)
    try:
        hung = _notebook(tmp_path, "bloque.ipynb", "import time\ntime.sleep(60)")
        with pytest.raises((PapermillExecutionError, RuntimeError, TimeoutError)):
            warm.execute(hung, tmp_path / "a.ipynb", {})
        assert warm.started == 2
        warm.max_rss_mib = 1  # every kernel is now too big: replaced after the report
        fine = _notebook(tmp_path, "bon.ipynb", "y = 1")
        warm.execute(fine, tmp_path / "b.ipynb", {})
        assert warm.started == 3 and warm._owner is None and warm.peak_rss_mib > 50
    finally:
        warm.stop()


def test_warm_outputs_equal_cold_outputs(reference, tmp_path):
    """05, 59, 974: same notebook outputs (tables, figures), same CSV, same frames."""
    import geopandas as gpd
    import pandas as pd

    selections = pipeline.match_selections([NATIONAL], reference)
    kernel = report.ensure_kernel()
    warm = WarmKernel(kernel)
    try:
        for code in ("05", "59", "974"):
            prepared = pipeline.prepare(code, selections, reference)
            data_dir = bundle.save(prepared, tmp_path / "donnees" / code)
            cold = report.ReportJob(code, data_dir, tmp_path / "froid" / code, "titre")
            hot = report.ReportJob(code, data_dir, tmp_path / "chaud" / code, "titre")
            cold_files = report.run_job(cold, kernel)
            hot_files = report.run_job(hot, kernel, warm)
            outputs = notebook_outputs(cold_files.notebook)
            assert notebook_outputs(hot_files.notebook) == outputs, code
            assert hot_files.csv.read_bytes() == cold_files.csv.read_bytes(), code
            for layer in ("epci", "communes", "lieux"):
                pd.testing.assert_frame_equal(
                    gpd.read_file(hot_files.geopackage, layer=layer),
                    gpd.read_file(cold_files.geopackage, layer=layer),
                )
            pd.testing.assert_frame_equal(
                pd.read_excel(hot_files.workbook), pd.read_excel(cold_files.workbook)
            )
            # Papermill gives the cell it injects a random id, cold or warm.
            html = without_cell_ids(hot_files.html.read_text(encoding="utf-8"))
            assert html == without_cell_ids(cold_files.html.read_text(encoding="utf-8")), code
            assert html.count("data:image/png;base64,") >= 3, code
        assert warm.started == 1
    finally:
        warm.stop()


def test_batch_runs_in_warm_kernels(reference, tmp_path):
    """A worker runs its reports in one kernel; a job without data fails alone."""
    selections = pipeline.match_selections(None, reference)
    data = bundle.save(pipeline.prepare("05", selections, reference), tmp_path / "d05")
    jobs = [
        report.ReportJob("05", data, tmp_path / "r" / "a", "Hautes-Alpes"),
        report.ReportJob("38", tmp_path / "absent", tmp_path / "r" / "b", "Isère"),
        report.ReportJob("05", data, tmp_path / "r" / "c", "Hautes-Alpes"),
    ]
    results = batch.run_jobs(jobs, workers=1, progress=False)
    assert [r.ok for r in results] == [True, False, True]
    assert "Données préparées introuvables" in results[1].error
    # A kernel that failed is not trusted again: the failure's retry and the next
    # report each start a fresh one.
    assert [r.kernels_started for r in results] == [1, 2, 3]
    assert (tmp_path / "r" / "c" / "rapport.html").exists()


def test_town_halls_placed_once_are_those_placed_each_month(reference):
    """The national list placed once, then cut to a month, equals placing the month."""
    import pandas as pd

    from analyse.territory.places import town_hall_places

    selections = pipeline.match_selections([NATIONAL], reference)
    for month in ("2021-03", "2022-01", None):
        current = selections.until(month).table
        direct = town_hall_places(current, reference.communes, reference.epci)
        once = selections.town_halls(current, reference)
        assert len(once) > 100
        pd.testing.assert_frame_equal(once, direct)
    first = selections._town_halls
    selections.town_halls(selections.until("2021-06").table, reference)
    assert selections._town_halls is first  # not placed again
