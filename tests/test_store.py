"""A cache that never serves a damaged entry (issue 31, item 1), without notebooks.

A report kept in the cache (``run.reuse``) and a figure (``render.cache.figure``) are
entries of the content-addressed store: copies of the files written, never the
published files themselves, each file's digest recorded and checked when it is read,
read without following any symbolic link. A truncated, tampered, symlinked, missing or
foreign entry is discarded and made again, and one French line says so, naming the
cache folder. Whole reports: ``tests/test_cache.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from analyse import cli
from analyse.render import cache
from analyse.run import reuse

KEY = "3f" * 32
REPORT = "<!DOCTYPE html>\n<html><body><h1>Hautes-Alpes</h1>" + "x" * 4000 + "</body></html>\n"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ANALYSE_CACHE", "1")
    monkeypatch.setenv("ANALYSE_CACHE_DIR", str(folder))
    return folder


def _published(folder: Path) -> dict[str, Path]:
    """A report's files as ``run_job`` publishes them, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "rapport.html": REPORT,
        "rapport.ipynb": json.dumps({"cells": [], "nbformat": 4}),
        "indicateurs_epci.csv": "siren_epci,postes\n200067825,3\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return {name: folder / name for name in files}


def _kept(cache_dir: Path, name: str) -> Path:
    """The cache's own copy of ``name`` (wherever the store keeps it)."""
    found = [p for p in cache_dir.rglob(name) if not p.is_symlink() and p.is_file()]
    assert len(found) == 1, found
    return found[0]


def _notes(capsys) -> list[str]:
    """What the command line says about the cache: the notes are printed as any command
    ends (here, one refused at once)."""
    capsys.readouterr()
    cli.main(["mensuel", "--mois", "2021-13"])
    return [line for line in capsys.readouterr().err.splitlines() if "cache" in line.lower()]


def test_an_entry_is_a_copy_never_the_published_file(tmp_path, cache_dir):
    """A report edited in place by its user edited the cache entry (a hard link): the
    next run kept the edit."""
    published = _published(tmp_path / "sortie" / "05")
    reuse.store(KEY, published)
    kept = _kept(cache_dir, "rapport.html")
    assert not os.path.samefile(kept, published["rapport.html"])
    with published["rapport.html"].open("r+", encoding="utf-8") as report:
        report.write("<!DOCTYPE html>\n<html><body><h1>Basses-Alpes")
    staged = {name: tmp_path / "relance" / name for name in published}
    staged["rapport.html"].parent.mkdir()
    assert reuse.fetch(KEY, staged)
    assert staged["rapport.html"].read_text(encoding="utf-8") == REPORT


def _damage(kind: str, kept: Path, tmp_path: Path) -> str:
    """Damage the cache's copy ``kept``; returns what the French line must name."""
    if kind == "tronquée":
        kept.write_bytes(kept.read_bytes()[: kept.stat().st_size // 2])
        return "tronqué"
    if kind == "modifiée":
        kept.write_text(REPORT.replace("Hautes-Alpes", "Basses-Alpes"), encoding="utf-8")
        return "modifié"
    if kind == "lien symbolique":
        secret = tmp_path / "secret.txt"
        secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
        secret.chmod(0o600)
        kept.unlink()
        kept.symlink_to(secret)
        return "lien symbolique"
    if kind == "absente":
        kept.unlink()
        return "manquant"
    if kind == "étrangère":  # another user's file in a shared cache
        if os.geteuid() != 0:
            pytest.skip("changer le propriétaire d'un fichier demande d'être root")
        os.chown(kept, 4242, 4242)
        return "autre utilisateur"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["tronquée", "modifiée", "lien symbolique", "absente", "étrangère"]
)
def test_a_damaged_report_entry_is_discarded_and_said(tmp_path, cache_dir, capsys, kind):
    """Truncated, the entry truncated the published report; tampered, it was served;
    replaced by a symbolic link, the link's target (any file) was published and made
    0644. Each is discarded (the report is made again), said in one French line."""
    published = _published(tmp_path / "sortie" / "05")
    reuse.store(KEY, published)
    before = {name: path.read_bytes() for name, path in published.items()}
    named = _damage(kind, _kept(cache_dir, "rapport.html"), tmp_path)
    # The published report is not the entry: whole whatever befell the entry.
    assert {name: path.read_bytes() for name, path in published.items()} == before

    staged = {name: tmp_path / "relance" / name for name in published}
    staged["rapport.html"].parent.mkdir()
    assert not reuse.fetch(KEY, staged)
    assert not any(path.exists() for path in staged.values())  # nothing half-copied
    if kind == "lien symbolique":
        secret = tmp_path / "secret.txt"
        assert secret.stat().st_mode & 0o777 == 0o600
        assert secret.read_text(encoding="utf-8").startswith("root:")
    notes = _notes(capsys)
    assert len(notes) == 1, notes
    assert str(cache_dir) in notes[0] and "rapport.html" in notes[0] and named in notes[0]
    assert "écartée" in notes[0], notes
    # Discarded: the next report of the same inputs is stored afresh, and served.
    reuse.store(KEY, published)
    assert reuse.fetch(KEY, staged)
    assert staged["rapport.html"].read_bytes() == before["rapport.html"]
    assert _notes(capsys) == []


def _figure(calls: list[str], svg: bytes):
    def render():
        calls.append("dessinée")
        return svg, {"key": [("a", "b")], "titre": "densité"}

    return render


@pytest.mark.parametrize("kind", ["tronquée", "modifiée"])
def test_a_damaged_figure_is_drawn_again(tmp_path, cache_dir, capsys, kind):
    """A truncated figure entry made every later report with the same inputs fail
    (« JSONDecodeError: Unterminated string »); one with an extra <text> was served."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><text>Gap</text></svg>'
    calls: list[str] = []
    first = cache.figure("carte-densite", ("05", 1), _figure(calls, svg))
    assert cache.figure("carte-densite", ("05", 1), _figure(calls, svg)) == first
    assert calls == ["dessinée"]
    # The cache's copy of the figure: the file that holds it.
    kept = next(
        p
        for p in (cache_dir / "carte-densite").rglob("*")
        if p.is_file() and '"figure"' in p.read_text(encoding="utf-8")
    )
    text = kept.read_text(encoding="utf-8")
    if kind == "tronquée":
        kept.write_text(text[: len(text) // 2], encoding="utf-8")
    else:
        saved = json.loads(text)
        import base64

        tampered = svg.replace(b"</svg>", b"<text>ajout</text></svg>")
        saved["figure"] = base64.b64encode(tampered).decode("ascii")
        kept.write_text(json.dumps(saved), encoding="utf-8")
    again = cache.figure("carte-densite", ("05", 1), _figure(calls, svg))
    assert again == first and calls == ["dessinée", "dessinée"]
    notes = _notes(capsys)
    assert len(notes) == 1 and str(cache_dir) in notes[0] and "écartée" in notes[0], notes


def test_a_symlinked_entry_folder_is_never_followed(tmp_path, cache_dir, capsys):
    """An entry that is itself a link to a folder elsewhere is no entry of this cache."""
    elsewhere = tmp_path / "ailleurs"
    published = _published(elsewhere)
    reuse.store(KEY, published)
    entry = _kept(cache_dir, "rapport.html").parent
    moved = tmp_path / "deplacee"
    entry.rename(moved)
    entry.symlink_to(moved, target_is_directory=True)
    staged = {name: tmp_path / "relance" / name for name in published}
    staged["rapport.html"].parent.mkdir()
    assert not reuse.fetch(KEY, staged)
    assert moved.exists() and not entry.exists()  # the link removed, not what it leads to
    assert "lien symbolique" in _notes(capsys)[0]
