"""Progress of the long commands on a terminal: the step in progress and the time left, in
French, on stderr; nothing at all when stderr is not a terminal (a cron job's log, a pipe).

Each command runs in its own process, its stderr a pseudo-terminal (pty) of 120 columns,
as an analyst's terminal; then with stderr a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from analyse import config

ENGLISH = re.compile(r"\bit/s\b|\bs/it\b|\?it|<\?")


def _run(arguments: list[str], tmp_path, terminal: bool) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``analyse <arguments>``."""
    command = [sys.executable, "-m", "analyse.cli", *arguments]
    stdout = tmp_path / f"stdout-{terminal}.txt"
    with open(stdout, "wb") as out:
        if not terminal:
            done = subprocess.run(
                command, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
            )
            return done.returncode, stdout.read_text("utf-8"), done.stderr.decode("utf-8")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        process = subprocess.Popen(command, stdout=out, stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        code = process.wait(timeout=600)
    return code, stdout.read_text("utf-8"), b"".join(chunks).decode("utf-8", "replace")


def _check(arguments, tmp_path, steps: list[str]) -> str:
    """Run on a terminal then through a pipe; the terminal's stderr."""
    code, out, shown = _run(arguments, tmp_path, terminal=True)
    assert code == 0, shown
    assert "Étape 1/" in shown and "reste" in shown and "écoulé" in shown, shown[-2000:]
    for step in steps:
        assert step in shown, (step, shown[-2000:])
    assert not ENGLISH.search(shown), shown[-2000:]
    # Not a terminal: the same output, and no progress at all on stderr.
    code, again, quiet = _run(arguments, tmp_path, terminal=False)
    assert code == 0, quiet
    assert "Étape" not in quiet and "reste" not in quiet and "\r" not in quiet, quiet
    assert again.splitlines()[0] == out.splitlines()[0]
    return shown


@pytest.mark.lent
def test_panel_shows_its_months(tmp_path):
    arguments = ["panel", "--selections", str(config.SELECTIONS_DIR), "--sans-fragilite"]
    shown = _check(
        [*arguments, "--sortie", str(tmp_path / "panel")],
        tmp_path,
        ["lecture des données", "mars 2021", "avril 2021", "écriture des fichiers"],
    )
    assert "Étape 4/4" in shown


@pytest.mark.lent
def test_fiches_of_several_departements_show_their_steps(tmp_path):
    _check(
        ["fiches", "--departement", "04,05", "--sortie", str(tmp_path / "fiches")],
        tmp_path,
        ["lecture des données", "situation du pays", "écriture des fiches"],
    )


@pytest.mark.lent
def test_rapport_shows_its_steps(tmp_path):
    _check(
        ["rapport", "--departement", "05", "--sortie", str(tmp_path / "rapports")],
        tmp_path,
        ["lecture des données", "préparation", "exécution du rapport"],
    )


@pytest.mark.lot
def test_mensuel_shows_its_steps_then_its_reports(tmp_path):
    shown = _check(
        [
            "mensuel",
            "--mois",
            "2021-04",
            "--departements",
            "05",
            "--jobs",
            "1",
            "--sortie",
            str(tmp_path / "mensuel"),
        ],
        tmp_path,
        ["lecture des données", "rapports"],
    )
    assert "1/1" in shown


def test_steps_shown_in_french_with_the_time_left(capsys):
    """The bar itself, in this process (the commands above show it on a terminal): each
    step numbered out of all of them, the item within a step, the time spent and left;
    what is printed while it runs goes above it; nothing is left on the line at the end."""
    from analyse.run.progress import Steps, count_bar

    with Steps([("lecture des données", 0.2)], progress=True) as steps:
        steps.extend([("écriture des fiches", 0.2)])
        with steps.step("lecture des données"):
            steps.within(1, 2, "fiche")
            with steps.paused():
                print("Données utilisées : test")
        with steps.step("écriture des fiches"):
            for position in (1, 2):
                steps.within(position, 2, "fiche")
    out, err = capsys.readouterr()
    assert out == "Données utilisées : test\n"
    assert "Étape 1/2 : lecture des données" in err and "Étape 2/2 : fiche (2/2)" in err
    assert "écoulé" in err and "reste" in err
    with count_bar(3, "rapports", True, desc="rapports") as bar:
        bar.update(3)
    assert "3/3 rapports" in capsys.readouterr().err
    quiet = Steps([("lecture des données", 1)], progress=False)
    with quiet.step("lecture des données"):
        quiet.within(1, 1, "rien")
    quiet.close()
    assert capsys.readouterr() == ("", "")
