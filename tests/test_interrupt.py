"""A batch killed with SIGKILL leaves every report file whole: the previous one or the new one.

A first batch writes the reports of three départements. A second batch, given one more
selection file (one post more in each département, so that old and new files differ),
is killed twice with SIGKILL on its whole process group: once while reports are being
written in their staging folders, once just after the first new report has been put in
place. After each kill, every file on disk must be byte-identical to the first run's or
be a complete new one, and leftovers must never stand in for a real file. A third,
uninterrupted run then completes and rewrites everything.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analyse import config

pytestmark = pytest.mark.panne

DEPARTEMENTS = ("05", "2A", "38")
FILES = (
    "rapport.html",
    "rapport.ipynb",
    "indicateurs_epci.csv",
    "couverture.xlsx",
    "couverture.gpkg",
    "carte_interactive.html",
    "datapackage.json",
)
# One more post in each département: a commune (INSEE code) and the SIREN of its EPCI.
EXTRA_POSTS = {
    "05": ("Embrun", "05046", "200067742"),
    "2A": ("Ajaccio", "2A004", "242010056"),
    "38": ("Grenoble", "38185", "200040715"),
}
# The report lists the selection files it read: the new one names this file.
EXTRA_FILE = "2021-05_comite_test-interruption.csv"
RUN_TIMEOUT = 300  # seconds; a batch takes about 30 s on two cores
POLL = 0.02


def _command(out: Path, selections: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "analyse.cli", "rapports"]
    command += ["--departements", ",".join(DEPARTEMENTS), "--sortie", str(out), "--jobs", "2"]
    return command + (["--selections", str(selections)] if selections else [])


def _private_project(tmp_path: Path) -> dict[str, str]:
    """Environment of a project root of the test's own (``ANALYSE_RACINE``).

    The prepared data of a département lives in ``data/processed/departements/<dep>``
    whatever ``--sortie`` and ``--selections`` are: a test (or a person) running a report
    of the same département meanwhile would overwrite it under our notebooks, and ours
    would overwrite theirs. Notebooks, raw data and the reference cache are copied.
    """
    root = tmp_path / "projet"
    shutil.copytree(config.NOTEBOOKS_DIR, root / "notebooks")
    shutil.copytree(
        config.RAW_DIR, root / "data" / "raw", ignore=shutil.ignore_patterns("national")
    )
    shutil.copytree(config.REFERENCE_DIR, root / "data" / "processed" / "reference")
    return {**os.environ, "ANALYSE_RACINE": str(root)}


def _run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("w") as output:
        proc = subprocess.run(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    assert proc.returncode == 0, log.read_text(encoding="utf-8", errors="replace")


def _digests(out: Path) -> dict[str, dict[str, str]]:
    return {
        dep: {name: hashlib.sha256((out / dep / name).read_bytes()).hexdigest() for name in FILES}
        for dep in DEPARTEMENTS
    }


def _extra_selections(tmp_path: Path) -> Path:
    """The batch's default (the national list) and one more post per département."""
    folder = tmp_path / "selections"
    folder.mkdir()
    shutil.copy(config.EMBEDDED_NATIONAL_LIST, folder)
    lines = ["date_comite,departement,structure,type_structure,postes,commune,code,source"]
    for dep, (name, insee, _) in EXTRA_POSTS.items():
        lines.append(f"2021-05,{dep},{name},commune,1,{insee},{insee},test d'interruption")
    (folder / EXTRA_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


# ----------------------------------------------------------------- completeness checks


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []
        self.closed: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.opened.append(tag)

    def handle_endtag(self, tag):
        self.closed.append(tag)


def _check_html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>"), f"{path} : HTML tronqué"
    parser = _Tags()
    parser.feed(text)
    parser.close()
    for tag in ("html", "body"):
        assert tag in parser.opened and tag in parser.closed, f"{path} : <{tag}> incomplet"
    return text


def _csv_frame(path: Path):
    import pandas as pd

    return pd.read_csv(path, dtype={"siren_epci": str})


def _check_complete(path: Path, old: Path | None = None) -> None:
    """``path`` is a whole file of its kind; ``old``, if given, is the first run's copy
    (the new one must then show the extra post)."""
    name = path.name
    if name == "rapport.html":
        text = _check_html(path)
        assert "</table>" in text and "data:image/png;base64," in text, path
        if old is not None:
            assert EXTRA_FILE.removesuffix(".csv") in text, f"{path} : sans le poste ajouté"
    elif name == "carte_interactive.html":
        _check_html(path)
    elif name == "rapport.ipynb":
        import nbformat

        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells and any(c.get("outputs") for c in notebook.cells), path
    elif name == "indicateurs_epci.csv":
        frame = _csv_frame(path)
        if path.parent.name == "05":
            assert len(frame) == 9, path  # the 9 EPCI of Hautes-Alpes
        if old is not None:
            before = _csv_frame(old)
            assert len(frame) == len(before), path
            assert frame["postes"].sum() == before["postes"].sum() + 1, path
            siren = EXTRA_POSTS[path.parent.name][2]
            posts = dict(zip(frame["siren_epci"], frame["postes"], strict=True))
            previous = dict(zip(before["siren_epci"], before["postes"], strict=True))
            assert posts[siren] == previous[siren] + 1, path
    elif name == "couverture.xlsx":
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True)
        try:
            assert "Indicateurs" in workbook.sheetnames, workbook.sheetnames
            assert workbook["Indicateurs"].max_row > 1, path
        finally:
            workbook.close()
    elif name == "datapackage.json":
        import json

        package = json.loads(path.read_text(encoding="utf-8"))
        assert [r["path"] for r in package["resources"]] == ["indicateurs_epci.csv"], path
    elif name == "couverture.gpkg":
        import pyogrio

        layers = {str(layer) for layer in pyogrio.list_layers(path)[:, 0]}
        assert layers == {"epci", "communes", "lieux"}, (path, layers)
    else:  # pragma: no cover
        raise AssertionError(name)


def _check_reports(out: Path, first: dict, first_copy: Path) -> dict[str, dict[str, str]]:
    """Every file is the first run's (same bytes) or a complete new one; leftovers are
    hidden and never take the place of a real file. Returns "ancien"/"nouveau" per file."""
    # The reports, and the EPCI fiches written once the batch is done (« epci »).
    shown = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert [name for name in shown if name != "epci"] == sorted(DEPARTEMENTS)
    state: dict[str, dict[str, str]] = {}
    for dep in DEPARTEMENTS:
        folder = out / dep
        entries = {p.name: p for p in folder.iterdir()}
        # The report's files, and its EPCI's fiches once the report was in place (« epci »).
        visible = sorted(n for n in entries if not n.startswith(".") and n != "epci")
        assert visible == sorted(FILES), f"{folder} : {visible}"
        for name, entry in entries.items():
            if name.startswith("."):
                # Left by the killed run: a staging folder or a temporary file, hidden.
                staged = name.startswith((".en-cours-", ".epci.en-cours-", ".epci.old"))
                assert staged or ".tmp" in name, entry
        state[dep] = {}
        for name in FILES:
            path = folder / name
            assert path.is_file() and not path.is_symlink(), path
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest == first[dep][name]:
                state[dep][name] = "ancien"
            else:
                _check_complete(path, first_copy / dep / name)
                state[dep][name] = "nouveau"
    return state


def _leftovers(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for dep in DEPARTEMENTS for p in (out / dep).glob(".*"))


# ----------------------------------------------------------------------- the killing


def _descendants(pid: int) -> set:
    import psutil

    try:
        return set(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return set()


def _kill_when(
    command: list[str], env: dict[str, str], ready, log: Path, timeout: float = RUN_TIMEOUT
) -> float:
    """Start ``command`` in its own process group; as soon as ``ready()``, SIGKILL the
    group. Jupyter kernels run in sessions of their own: they are killed too, by pid.
    Returns the seconds until the kill."""
    import psutil

    start = time.monotonic()
    with log.open("w") as output:
        proc = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    seen: set = set()
    listed = start
    try:
        while not ready():
            assert proc.poll() is None, (
                "le lot s'est terminé avant le point d'interruption :\n"
                + log.read_text(encoding="utf-8", errors="replace")
            )
            assert time.monotonic() - start < timeout, "point d'interruption jamais atteint"
            if time.monotonic() - listed > 0.5:  # listing processes is not free
                seen |= _descendants(proc.pid)
                listed = time.monotonic()
            time.sleep(POLL)
        seen |= _descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        for child in seen:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()  # psutil checks the creation time: never a recycled pid
        psutil.wait_procs(list(seen), timeout=30)
    return elapsed


def _staging_with(out: Path, count: int) -> bool:
    """Some report is being written: a staging folder holds ``count`` files or more."""
    for dep in DEPARTEMENTS:
        for staging in (out / dep).glob(".en-cours-*"):
            try:
                if sum(1 for p in staging.iterdir() if not p.name.startswith(".")) >= count:
                    return True
            except FileNotFoundError:  # renamed into place and removed meanwhile
                pass
    return False


def _report_landed(out: Path, inodes: dict[str, int]) -> bool:
    """A new rapport.html has been renamed into place (it is renamed last)."""
    return any((out / dep / "rapport.html").stat().st_ino != inodes[dep] for dep in DEPARTEMENTS)


def _mixed_folders(state: dict[str, dict[str, str]]) -> list[str]:
    return [dep for dep, files in state.items() if len(set(files.values())) > 1]


def _summary(state: dict[str, dict[str, str]]) -> str:
    kinds = {dep: set(files.values()) for dep, files in state.items()}
    return ", ".join(f"{dep} {'/'.join(sorted(k))}" for dep, k in kinds.items())


# ------------------------------------------------------------------------------ test


def test_killed_batch_leaves_whole_reports_and_next_run_completes(reference, tmp_path):
    communes = reference.communes.set_index("insee")
    for dep, (name, insee, siren) in EXTRA_POSTS.items():
        row = communes.loc[insee]
        assert (row["nom"], row["departement"], row["siren_epci"]) == (name, dep, siren)

    env = _private_project(tmp_path)
    out = tmp_path / "rapports"
    selections = _extra_selections(tmp_path)

    # 1. A first, complete batch: the "previous" reports.
    clock = time.monotonic()
    _run(_command(out), env, tmp_path / "premier.log")
    first = _digests(out)
    inodes = {dep: (out / dep / "rapport.html").stat().st_ino for dep in DEPARTEMENTS}
    previous = tmp_path / "premier"
    for dep in DEPARTEMENTS:
        shutil.copytree(out / dep, previous / dep)
        for name in FILES:
            _check_complete(out / dep / name)
        assert EXTRA_FILE.removesuffix(".csv") not in (out / dep / "rapport.html").read_text(
            encoding="utf-8"
        )

    second = _command(out, selections)
    findings: list[str] = []
    print(f"premier lot : {time.monotonic() - clock:.0f} s")

    # 2. Killed while reports are being written in their staging folders.
    seconds = _kill_when(second, env, lambda: _staging_with(out, 2), tmp_path / "tue-1.log")
    state = _check_reports(out, first, previous)
    print(f"1er kill après {seconds:.1f} s : {_summary(state)} ; restes {_leftovers(out)}")
    findings += [
        f"après le 1er kill, {dep} mêle ancien et nouveau" for dep in _mixed_folders(state)
    ]

    # 3. Killed just after the first new report has been put in place.
    seconds = _kill_when(second, env, lambda: _report_landed(out, inodes), tmp_path / "tue-2.log")
    state = _check_reports(out, first, previous)
    print(f"2e kill après {seconds:.1f} s : {_summary(state)} ; restes {_leftovers(out)}")
    assert any(files["rapport.html"] == "nouveau" for files in state.values()), state
    findings += [f"après le 2e kill, {dep} mêle ancien et nouveau" for dep in _mixed_folders(state)]
    killed_leftovers = _leftovers(out)

    # 4. The next, uninterrupted run completes and rewrites every file.
    start, clock = time.time(), time.monotonic()
    _run(second, env, tmp_path / "troisieme.log")
    print(f"troisième lot : {time.monotonic() - clock:.0f} s")
    state = _check_reports(out, first, previous)
    for dep in DEPARTEMENTS:
        for name in FILES:
            path = out / dep / name
            assert path.stat().st_mtime >= start - 1, f"{path} n'a pas été réécrit"
            if state[dep][name] == "ancien":  # same bytes by chance: still whole
                _check_complete(path)
        assert state[dep]["rapport.html"] == "nouveau"
        assert state[dep]["indicateurs_epci.csv"] == "nouveau"

    remaining = sorted(set(_leftovers(out)) & set(killed_leftovers))
    if remaining:
        findings.append(f"restes des runs tués jamais nettoyés : {remaining}")
    if findings:
        warnings.warn("; ".join(findings), stacklevel=1)
