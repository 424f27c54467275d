"""Atomic writes: whole files and folders, readable by the team like any other output."""

from __future__ import annotations

import os
import stat
import tempfile

import pytest

from analyse import atomic


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_atomic_file_is_replaced_whole_and_shared(tmp_path, umask_022):
    target = tmp_path / "a.txt"
    target.write_text("ancien", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("moitié", encoding="utf-8")
        raise RuntimeError
    assert target.read_text(encoding="utf-8") == "ancien"
    atomic.write_text(target, "nouveau")
    assert target.read_text(encoding="utf-8") == "nouveau"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_swapped_folder_is_readable_by_the_team(tmp_path, umask_022):
    """A folder built with mkdtemp (mode 0700) is swapped in with the usual 0755."""
    target = tmp_path / "cache"
    target.mkdir()
    (target / "old.txt").write_text("x", encoding="utf-8")
    build = tempfile.mkdtemp(dir=tmp_path)
    (tmp_path / build / "new.txt").write_text("y", encoding="utf-8")
    atomic.replace_dir(target, tmp_path / build)
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
