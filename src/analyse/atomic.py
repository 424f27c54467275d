"""Atomic writes: a reader sees the previous complete file or the new one, never half."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from glob import escape as glob_escape
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary file lives in the same folder so that the final ``os.replace`` is an
    atomic rename on the same file system. On error the temporary file is removed and
    ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name keeps the suffix: some writers (papermill) check it. It holds
    # the process id, so that a later run can remove it once its writer is dead.
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.{os.getpid()}-", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    # mkstemp creates 0600 files; outputs are meant to be shared like any other file.
    os.chmod(tmp, _usual_mode(0o666))
    tmp_path = Path(tmp)
    try:
        with naming(target):
            yield tmp_path
            os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def remove_dead_temporaries(target: Path) -> list[Path]:
    """Remove the temporary files ``atomic_path`` left beside ``target`` when their
    process was killed (a download stopped by SIGKILL, a power cut); those of a process
    still running are left alone. Returns the files removed."""
    target = Path(target)
    prefix = f".{target.stem}."
    removed = []
    for path in target.parent.glob(f"{glob_escape(prefix)}*.tmp{glob_escape(target.suffix)}"):
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if path.is_file() and pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _usual_mode(mode: int) -> int:
    """``mode`` less the process umask: what open() or mkdir() would have given."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def write_text(target: Path, text: str) -> None:
    """Write a UTF-8 text file atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def replace_dir(target: Path, build: Path, keep: Path | None = None) -> None:
    """Swap a fully built folder ``build`` in place of ``target``.

    Used for the reference cache and the prepared data, whose files must change
    together. ``build`` usually comes from mkdtemp (mode 0700): it gets the mode of an
    ordinary folder, so that the team can read the caches. With ``keep``, the previous
    ``target`` is moved there rather than removed (see ``restore_dir``).
    """
    target = Path(target)
    os.chmod(build, _usual_mode(0o777))
    old = Path(keep) if keep is not None else target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(build, target)
    if keep is None:
        shutil.rmtree(old, ignore_errors=True)


def restore_dir(target: Path, kept: Path, stop_at: str | None = None) -> None:
    """Undo ``replace_dir(target, build, keep=kept)``: the previous folder back in place,
    or, when there was none, ``target`` removed with the folders emptied by that, up to
    the first one named ``stop_at`` (included) so that a failed first run leaves nothing
    behind."""
    target, kept = Path(target), Path(kept)
    shutil.rmtree(target, ignore_errors=True)
    if kept.exists():
        os.replace(kept, target)
    else:
        remove_empty_parents(target, stop_at)


def remove_empty_parents(path: Path, stop_at: str | None) -> None:
    """Remove the empty folders above ``path`` up to the first one named ``stop_at``
    (included); nothing when ``stop_at`` is not among them."""
    path = Path(path)
    if stop_at is None or stop_at not in path.parts[:-1]:
        return
    for parent in path.parents:
        try:
            parent.rmdir()  # only when empty
        except OSError:
            return
        if parent.name == stop_at:
            return


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Give the path to an OSError raised without one (a write that fills the disk says
    which file it was writing)."""
    try:
        yield
    except OSError as error:
        if error.filename is None and error.errno is not None:
            raise OSError(error.errno, error.strerror or str(error), str(path)) from error
        raise


def staging_dir(parent: Path, prefix: str) -> Path:
    """A new staging folder in ``parent``, named ``<prefix><pid>-<random>`` so that a later
    run can tell whether the process that made it is still alive."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))


def remove_dead_staging(parent: Path, prefix: str) -> None:
    """Remove the staging folders of ``parent`` left by runs that were killed (their
    process is gone); those of runs still going are left alone."""
    for path in Path(parent).glob(f"{glob_escape(prefix)}*"):
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if path.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------- a set of files, whole

SET_MANIFEST = ".ensemble.json"  # the names a set's writer wrote, for the next swap
_STAGING_SUFFIX = ".en-cours-"
_PREVIOUS_SUFFIX = ".ancien-"


@contextlib.contextmanager
def replaced_whole(target: Path) -> Iterator[Path]:
    """Yield a staging folder beside the folder ``target``; when the block ends without
    error, what it holds replaces ``target`` in one exchange of names, so that a reader
    sees the previous set of files or the new one, never a mix. On error the staging
    folder goes and ``target`` is as it was.

    The set is whatever the block writes into the folder. Files of ``target`` that the
    previous set did not write (``SET_MANIFEST`` lists those it did; without it, all but
    the new set's names) are the user's: they are carried into the new set (linked, or
    copied), never dropped. A swap killed half-way is undone by the next call
    (``recover_folder``).
    """
    target = Path(target)
    if target.is_symlink():  # the user's link to a folder: the folder is replaced
        target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(target)
    staging = staging_dir(target.parent, f".{target.name}{_STAGING_SUFFIX}")
    try:
        yield staging
        written = sorted(p.name for p in staging.iterdir())
        _carry_over(target, staging, set(written))
        (staging / SET_MANIFEST).write_text(
            json.dumps({"fichiers": written}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        os.chmod(staging, _usual_mode(0o777))
        _swap(staging, target)
    finally:
        # After an exchange, the staging folder holds the previous set.
        shutil.rmtree(staging, ignore_errors=True)


def _carry_over(target: Path, staging: Path, written: set[str]) -> None:
    """Put into ``staging`` the user's own files of ``target`` (see ``replaced_whole``)."""
    if not target.is_dir():
        return
    try:
        previous = set(json.loads((target / SET_MANIFEST).read_text(encoding="utf-8"))["fichiers"])
    except (OSError, ValueError, KeyError, TypeError):
        previous = set()
    for entry in os.scandir(target):
        if entry.name in written or entry.name in previous or entry.name == SET_MANIFEST:
            continue
        source, copy = Path(entry.path), staging / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(source), copy)
        elif entry.is_dir(follow_symlinks=False):
            # A folder replaced whole holds files only (``run.outputs`` refuses others
            # before any work): a folder in it is no set of files.
            raise IsADirectoryError(errno.EISDIR, "dossier dans un ensemble de fichiers", source)
        else:
            try:
                os.link(source, copy)  # the same file, in the new set
            except OSError:
                shutil.copy2(source, copy)


def _swap(staging: Path, target: Path) -> None:
    """``staging`` in place of ``target``: one atomic exchange where the system offers
    it (Linux's renameat2), else two renames with the previous folder kept aside until
    the new one is in place (``recover_folder`` finishes a swap killed in between)."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        return
    previous = target.with_name(f".{target.name}{_PREVIOUS_SUFFIX}{os.getpid()}")
    shutil.rmtree(previous, ignore_errors=True)
    os.rename(target, previous)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Exchange the names of two folders atomically (renameat2 RENAME_EXCHANGE); False
    where the system or the file system cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return done == 0


def recover_folder(target: Path) -> None:
    """Finish what a swap of ``target`` killed half-way left (``replaced_whole``): the
    previous folder put back when the new one never came, else removed; the staging
    folders of dead runs removed."""
    target = Path(target)
    prefix = f".{target.name}{_PREVIOUS_SUFFIX}"
    for kept in target.parent.glob(f"{glob_escape(prefix)}*"):
        pid = kept.name[len(prefix) :]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if os.path.lexists(target):
            shutil.rmtree(kept, ignore_errors=True)
        else:
            os.rename(kept, target)
    remove_dead_staging(target.parent, f".{target.name}{_STAGING_SUFFIX}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
