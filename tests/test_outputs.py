"""Where a command writes, checked before it works (issue 31, items 2 and 3).

Every command refuses, before reading any data, an output that is a device, a FIFO, a
socket, a symbolic link leading out of its folder, or a path under a file: exit 2, a
French message naming the path, the path left as it was. The device and the FIFO are
made in a temporary folder of the test, never the real /dev/null.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

import pytest
from conftest import NATIONAL_FILE

from analyse import cli
from analyse.read.files import read_bytes


def _device(path: Path) -> Path:
    """A character device like /dev/null (1, 3), made in the test's folder."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("création d'un périphérique refusée (il faut être root) : cas non essayé")
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.fixture
def never_blocked():
    """A FIFO opened for reading by the code under test blocks until a writer comes: a
    writer that writes nothing comes, so that a test of today's code fails instead of
    hanging. Yields the function that arms it for a path."""
    armed: list[Path] = []

    def arm(path: Path) -> None:
        def writer() -> None:
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY))  # blocks until a reader opens it

        armed.append(path)
        threading.Thread(target=writer, daemon=True).start()

    yield arm
    for path in armed:  # release a writer still waiting
        if path.exists() and stat.S_ISFIFO(path.lstat().st_mode):
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))


@pytest.fixture
def no_work(monkeypatch):
    """Any data read or downloaded is a failure: the outputs are checked first."""

    def refused(*args, **kwargs):
        raise AssertionError("travail commencé avant la vérification de la sortie")

    monkeypatch.setattr(cli, "_load_reference", refused)
    return refused


@pytest.fixture
def national_copy(tmp_path) -> str:
    """The national list as a local file, by a file:// address: a download that works."""
    path = tmp_path / "publie" / "coselec.csv"
    path.parent.mkdir()
    path.write_bytes(read_bytes(NATIONAL_FILE))
    return path.as_uri()


def _kind(path: Path) -> str:
    mode = path.lstat().st_mode
    return "périphérique" if stat.S_ISCHR(mode) else "fifo" if stat.S_ISFIFO(mode) else "autre"


# ------------------------------------------------------------------ telecharger


@pytest.mark.parametrize("kind", ["périphérique", "fifo"])
def test_telecharger_never_replaces_a_device_or_a_fifo(
    tmp_path, capsys, national_copy, never_blocked, kind
):
    """« telecharger --sortie /dev/null » put a regular file in place of the device (run
    as root) and wrote /dev/null.sha256 beside it."""
    folder = tmp_path / "dev"
    folder.mkdir()
    target = _device(folder / "null") if kind == "périphérique" else _fifo(folder / "tube")
    if kind == "fifo":
        never_blocked(target)
    code = cli.main(["telecharger", "--url", national_copy, "--sortie", str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("Erreur : --sortie ") and str(target) in err, err
    assert ("périphérique" if kind == "périphérique" else "tube nommé") in err, err
    assert _kind(target) == kind
    assert sorted(p.name for p in folder.iterdir()) == [target.name]  # no .sha256


def test_telecharger_refuses_paths_it_cannot_write_before_downloading(
    tmp_path, capsys, monkeypatch
):
    """A path under a file, a symbolic link out of the folder, a FIFO where the
    checksum goes: refused before any connection, the message naming the path."""
    from analyse.read import download

    def no_download(*args, **kwargs):
        raise AssertionError("téléchargement commencé avant la vérification de la sortie")

    monkeypatch.setattr(download, "_stream", no_download)
    url = "https://www.data.gouv.fr/exemple.csv"
    plain = tmp_path / "notes.txt"
    plain.write_text("à garder", encoding="utf-8")
    outside = tmp_path / "ailleurs" / "secret.csv"
    outside.parent.mkdir()
    outside.write_text("à ne pas lire", encoding="utf-8")
    folder = tmp_path / "national"
    folder.mkdir()
    (folder / "lien.csv").symlink_to(outside)
    _fifo(folder / "liste.csv.sha256")
    cases = [
        (plain / "coselec.csv", "notes.txt", "n'est pas un dossier"),
        (folder / "lien.csv", "lien.csv", "lien symbolique"),
        (folder / "liste.csv", "liste.csv.sha256", "tube nommé"),
    ]
    for target, named, reason in cases:
        code = cli.main(["telecharger", "--url", url, "--sortie", str(target)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert named in err and reason in err and "Traceback" not in err, err
    assert plain.read_text(encoding="utf-8") == "à garder"
    assert (folder / "lien.csv").is_symlink()
    assert outside.read_text(encoding="utf-8") == "à ne pas lire"
    assert stat.S_ISFIFO((folder / "liste.csv.sha256").lstat().st_mode)


# ------------------------------------------------------------------------- panel


@pytest.mark.parametrize("kind", ["périphérique", "fifo", "sous un fichier", "lien sortant"])
def test_panel_checks_its_folder_before_any_work(tmp_path, capsys, no_work, kind):
    """« panel --sortie » was checked only once the whole panel was computed (338 s of
    work, then « un dossier était attendu »)."""
    if kind == "périphérique":
        target = _device(tmp_path / "null")
        named, reason = str(target), "périphérique"
    elif kind == "fifo":
        target = _fifo(tmp_path / "tube")
        named, reason = str(target), "tube nommé"
    elif kind == "sous un fichier":
        (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
        target = tmp_path / "notes.txt" / "panel"
        named, reason = "notes.txt", "n'est pas un dossier"
    else:  # a file of the panel leading out of the folder
        target = tmp_path / "panel"
        target.mkdir()
        (tmp_path / "ailleurs.csv").write_text("x", encoding="utf-8")
        (target / "panel_epci.csv").symlink_to(tmp_path / "ailleurs.csv")
        named, reason = "panel_epci.csv", "lien symbolique"
    code = cli.main(["panel", "--sortie", str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("Erreur : --sortie ") and named in err and reason in err, err
    if kind in ("périphérique", "fifo"):
        assert _kind(target) == kind


# -------------------------------------------------------- rapport, rapports, fiches


@pytest.mark.parametrize("command", ["rapport", "rapports", "mensuel", "fiches"])
def test_report_commands_refuse_links_and_specials_inside_their_folder(
    tmp_path, capsys, no_work, command
):
    """A département's folder that is a symbolic link to elsewhere would have the reports
    written (and their folder's files replaced) outside the output folder; a FIFO where a
    report goes is no report."""
    out = tmp_path / "sortie"
    out.mkdir()
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    (out / "05").symlink_to(elsewhere, target_is_directory=True)
    args = {
        "rapport": ["rapport", "-d", "05"],
        "rapports": ["rapports", "--departements", "05"],
        "mensuel": ["mensuel", "--mois", "2021-06", "--departements", "05"],
        "fiches": ["fiches", "-d", "05"],
    }[command]
    code = cli.main([*args, "--sortie", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "05" in err and "lien symbolique" in err and str(elsewhere) in err, err
    (out / "05").unlink()
    (out / "05").mkdir()
    _fifo(out / "05" / "rapport.html")
    code = cli.main([*args, "--sortie", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "rapport.html" in err and "tube nommé" in err, err
    assert list(elsewhere.iterdir()) == []


# ------------------------------------------------ item 3: a set of files replaced whole


@pytest.fixture(scope="module")
def small_panels(reference):
    """Two panels of the national list (one month, two months: other contents, the same
    files), computed once; ``analyse panel`` is given them instead of its 26 months."""
    from analyse.analysis import pipeline, situation
    from analyse.analysis.panel import build_panel

    selections = pipeline.match_selections([NATIONAL_FILE], reference)
    sources = situation.Sources.of(selections, reference)
    return [build_panel(sources, months) for months in (["2021-03"], ["2021-03", "2021-04"])]


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 26 MiB: room for one panel of one month (about 17 Mo with its map for
    QGIS), not for two."""
    import subprocess

    mount = tmp_path / "disque"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=26m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"montage d'un tmpfs refusé ({done.stderr.strip()}) : disque plein non essayé")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _panel(monkeypatch, capsys, panel, folder: Path) -> tuple[int, str]:
    from analyse.analysis import panel as panel_rows

    monkeypatch.setattr(panel_rows, "build_panel", lambda *args, **kwargs: panel)
    capsys.readouterr()
    code = cli.main(["panel", "--sortie", str(folder), "--sans-fragilite", "--sans-lieux"])
    return code, capsys.readouterr().err


@pytest.mark.panne
def test_a_full_disk_leaves_the_previous_panel_whole(small_disk, small_panels, monkeypatch, capsys):
    """On a full disk, « analyse panel » left a new panel_epci.parquet beside the old
    CSV and datapackage.json (its 8 files renamed one by one), and said « Aucun fichier
    existant n'a été remplacé ». The new set is now written beside the old one and swapped
    in whole: the old set stays whole when it does not fit, and the message says so."""
    import subprocess

    folder = small_disk / "panel"
    one, two = small_panels
    code, err = _panel(monkeypatch, capsys, one, folder)
    assert code == 0, err
    before = _files(folder)
    assert {"panel_epci.csv", "epci.gpkg", "datapackage.json"} <= set(before)

    code, err = _panel(monkeypatch, capsys, two, folder)
    assert code == 2, err
    assert "disque plein" in err and "Traceback" not in err, err
    assert f"le panel précédent ({folder}) est intact" in err, err
    assert _files(folder) == before  # not one file of the new set
    assert [p.name for p in small_disk.iterdir()] == ["panel"]  # nothing left beside it

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    code, err = _panel(monkeypatch, capsys, two, folder)
    assert code == 0, err
    after = _files(folder)
    assert set(after) == set(before)
    assert after["panel_epci.csv"].count(b"\n2021-04,") > 0
    assert after["panel_epci.csv"] != before["panel_epci.csv"]
    assert [p.name for p in small_disk.iterdir()] == ["panel"]


@pytest.mark.lent
def test_the_panel_is_one_set_whatever_its_writer_puts_in_it(
    tmp_path, small_panels, monkeypatch, capsys
):
    """The swap takes whatever the writer wrote (a new layer, a style: their file lands
    with the others), drops the files of the previous set, and keeps the user's own."""
    from analyse.render.exports import panel as panel_files

    folder = tmp_path / "panel"
    one, two = small_panels
    real = panel_files.write_panel

    def with_style(target, *args, **kwargs):
        written = real(target, *args, **kwargs)
        (Path(target) / "epci.qml").write_text("<qgis/>", encoding="utf-8")
        return written

    monkeypatch.setattr(panel_files, "write_panel", with_style)
    assert _panel(monkeypatch, capsys, one, folder)[0] == 0
    assert (folder / "epci.qml").exists()
    (folder / "mes_notes.txt").write_text("à garder", encoding="utf-8")
    monkeypatch.setattr(panel_files, "write_panel", real)
    assert _panel(monkeypatch, capsys, two, folder)[0] == 0
    assert not (folder / "epci.qml").exists()  # of the previous set only
    assert (folder / "mes_notes.txt").read_text(encoding="utf-8") == "à garder"
    assert (folder / "panel_epci.csv").read_bytes().count(b"\n2021-04,") > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panel"]


def test_a_folder_holding_folders_is_not_replaced_by_the_panel(tmp_path, capsys, no_work):
    """The panel replaces its folder whole: « --sortie . » in a project (or a home
    folder) would have it take the project's place. Refused before any work."""
    project = tmp_path / "projet"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("à garder", encoding="utf-8")
    code = cli.main(["panel", "--sortie", str(project)])
    err = capsys.readouterr().err
    assert code == 2 and "contient le dossier src" in err, err
    assert sorted(p.name for p in project.iterdir()) == ["README.md", "src"]
