"""The report notebook run the way analysts run Papermill themselves.

``papermill notebooks/rapport_departement.ipynb out.ipynb -p departement 05`` is
Papermill's documented command: on the command line ``05`` becomes the integer 5 and
``2a`` stays lower case, so the notebook normalises its parameter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from analyse import config

pytestmark = pytest.mark.lot

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def analyst_project(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A private project root in which ``analyse rapport`` prepared 05 and 2A."""
    root = tmp_path_factory.mktemp("projet")
    shutil.copytree(config.NOTEBOOKS_DIR, root / "notebooks")
    shutil.copytree(
        config.RAW_DIR, root / "data" / "raw", ignore=shutil.ignore_patterns("national")
    )
    shutil.copytree(config.REFERENCE_DIR, root / "data" / "processed" / "reference")
    # As in an activated environment: the stock « python3 » kernel starts this Python.
    env = {
        **os.environ,
        "ANALYSE_RACINE": str(root),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    for dep in ("05", "2A"):
        command = [sys.executable, "-m", "analyse.cli", "rapport", "-d", dep]
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    return root, env


def _papermill(project: tuple[Path, dict[str, str]], *parameters: str) -> nbformat.NotebookNode:
    root, env = project
    output = root / "sortie.ipynb"
    command = [str(BIN / "papermill"), "notebooks/rapport_departement.ipynb", str(output)]
    proc = subprocess.run(
        [*command, *parameters], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return nbformat.read(output, as_version=4)


def _text(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        str(output.get("data", {}).get("text/html", "")) + str(output.get("text", ""))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("value", ["05", "5"])
def test_papermill_cli_with_a_numeric_departement(analyst_project, value):
    notebook = _papermill(analyst_project, "-p", "departement", value)
    assert "Hautes-Alpes" in _text(notebook)


def test_papermill_cli_with_a_lower_case_corsica(analyst_project):
    notebook = _papermill(analyst_project, "-p", "departement", "2a")
    text = _text(notebook)
    assert "Corse-du-Sud" in text and "Hautes-Alpes" not in text


def test_the_departement_parameter_is_honoured(analyst_project):
    """Data prepared for 05 are refused when the notebook is asked for 2A."""
    root, env = analyst_project
    folder = root / "data" / "processed" / "departements" / "05"
    command = [str(BIN / "papermill"), "notebooks/rapport_departement.ipynb", str(root / "x.ipynb")]
    command += ["-p", "departement", "2A", "-p", "dossier_donnees", str(folder)]
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "05" in proc.stderr and "2A" in proc.stderr


def test_executed_report_names_the_stock_kernel(analyst_project):
    """The analyst's copy opens in JupyterLab with the kernel every environment has."""
    root, _ = analyst_project
    notebook = nbformat.read(root / "reports" / "05" / "rapport.ipynb", as_version=4)
    assert notebook.metadata.kernelspec.name == "python3"


def test_tables_are_dataframes_in_the_namespace():
    """An analyst inspects the frames behind the tables, not only their HTML."""
    source = (config.NOTEBOOKS_DIR / "rapport_departement.py").read_text(encoding="utf-8")
    assert 'filterwarnings("ignore")' not in source
    for name in ("tableau_epci", "tableau_lacunes", "tableau_controle"):
        assert f"{name} = " in source
