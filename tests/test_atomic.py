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


def _dead_pid() -> int:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


@pytest.mark.parametrize("exchange", [True, False])
def test_a_set_is_replaced_whole_or_not_at_all(tmp_path, umask_022, monkeypatch, exchange):
    """The new set replaces the old in one exchange (or, where renameat2 is missing, two
    renames); a writer that fails leaves the old set as it was, and nothing beside it."""
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    target = tmp_path / "panel"
    with atomic.replaced_whole(target) as staging:
        (staging / "a.csv").write_text("ancien", encoding="utf-8")
        (staging / "b.csv").write_text("ancien", encoding="utf-8")
    with pytest.raises(OSError), atomic.replaced_whole(target) as staging:
        (staging / "a.csv").write_text("nouveau", encoding="utf-8")
        raise OSError(28, "No space left on device")
    assert (target / "a.csv").read_text(encoding="utf-8") == "ancien"
    with atomic.replaced_whole(target) as staging:
        (staging / "a.csv").write_text("nouveau", encoding="utf-8")
    assert sorted(p.name for p in target.iterdir()) == [".ensemble.json", "a.csv"]
    assert (target / "a.csv").read_text(encoding="utf-8") == "nouveau"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert [p.name for p in tmp_path.iterdir()] == ["panel"]


def test_a_swap_killed_half_way_is_finished_by_the_next_run(tmp_path):
    """Killed between its two renames (previous folder aside, new one not yet in place),
    a swap is undone at the next start: the previous set is back, never lost."""
    pid = _dead_pid()
    target = tmp_path / "panel"
    aside = tmp_path / f".panel.ancien-{pid}"
    aside.mkdir()
    (aside / "a.csv").write_text("ancien", encoding="utf-8")
    (tmp_path / f".panel.en-cours-{pid}-x").mkdir()  # its staging folder, half written
    atomic.recover_folder(target)
    assert (target / "a.csv").read_text(encoding="utf-8") == "ancien"
    assert [p.name for p in tmp_path.iterdir()] == ["panel"]
    # Killed after the new folder was in place: the previous one only is removed.
    aside.mkdir()
    atomic.recover_folder(target)
    assert [p.name for p in tmp_path.iterdir()] == ["panel"]


def test_disk_full_is_found_behind_the_error_that_reports_it():
    import errno

    from analyse.errors import disk_full

    full = OSError(errno.ENOSPC, "No space left on device")
    try:
        try:
            raise full
        except OSError as error:
            raise RuntimeError("écriture du rapport") from error
    except RuntimeError as wrapped:
        assert disk_full(wrapped) is full
    quota = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert disk_full(ValueError("x").with_traceback(None)) is None
    assert disk_full(quota) is quota
    looping = RuntimeError("a")
    looping.__context__ = RuntimeError("b")
    looping.__context__.__context__ = looping  # a cycle ends the walk
    assert disk_full(looping) is None
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None
