"""The content-addressed store of the cache: entries that are copies, checked on read.

Both caches keep their entries here: the figures of a report (``render.cache.figure``)
and whole reports (``run.reuse``). How a key is derived is theirs (``render.cache.key``);
how an entry is stored and verified is this module's alone.

An entry is a folder ``<cache>/<kind>/<2 first digits>/<key>/`` holding copies of the
files given (never the published files: a reflink where the file system offers one,
else a copy) and ``contenu.json``, which records the kind, the key and each file's size
and SHA-256. It is written in a temporary folder beside it, then renamed: whole or
absent.

Reading never follows a symbolic link (each folder of the path and each file is opened
with ``O_NOFOLLOW``, relative to its parent) and checks everything against
``contenu.json``: an entry with a file missing, of another size, with another digest,
that is not a regular file or belongs to another user, with a file it does not list,
or recorded for another key is discarded (removed, without following anything) and the
output is made again. One French line says so, naming the cache folder: the line is
left in ``<cache>/.signalements/`` (the figures are read in the notebook's kernel, whose
own output would land in the report) and the command prints it as it ends
(``take_notes``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from analyse import config
from analyse.wording import fmt_number

FORMAT = 1
MANIFEST = "contenu.json"
NOTES_DIR = ".signalements"
_BLOCK = 1 << 20
_TEMPORARY = ".en-cours-"
_DISCARDED = ".ecartee-"
# Linux's FICLONE ioctl: the copy shares the original's blocks (btrfs, XFS) until one of
# them is written. Elsewhere the call fails and the bytes are copied.
_FICLONE = 0x40049409


class Damaged(Exception):
    """An entry that must not be served; the message (French) says why."""


def entry_path(root: Path, kind: str, key: str) -> Path:
    """Where the entry ``key`` of output ``kind`` lives (by its key's first two digits,
    so that no folder holds too many)."""
    return Path(root) / kind / key[:2] / key


# ----------------------------------------------------------------------------- writing


def put(root: Path, kind: str, key: str, files: Mapping[str, Path | bytes]) -> None:
    """Keep ``files`` (name → file to copy, or its bytes) as the entry ``key`` of
    ``kind``. Written whole or not at all; an entry already there is left as it is
    (another worker wrote the same key). Raises OSError (a full disk): the caller's
    output is made all the same."""
    entry = entry_path(root, kind, key)
    if os.path.lexists(entry):
        return
    _make_folders(Path(root), entry.parent)
    build = Path(tempfile.mkdtemp(prefix=f"{_TEMPORARY}{os.getpid()}-", dir=entry.parent))
    try:
        listed = {}
        for name, source in files.items():
            try:
                listed[name] = _write_copy(source, build / name)
            except Damaged as damage:  # a file to keep that is no regular file of ours
                raise OSError(errno.EINVAL, str(damage), str(source)) from None
        manifest = {"format": FORMAT, "kind": kind, "key": key, "files": listed}
        (build / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.chmod(build, _usual_mode(0o777))
        try:
            os.rename(build, entry)
        except OSError as error:  # written meanwhile by another worker
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _make_folders(root: Path, folder: Path) -> None:
    """Create ``folder`` under ``root``; none of the folders below ``root`` may be a
    symbolic link (the entry would be written wherever it leads)."""
    current = root
    root.mkdir(parents=True, exist_ok=True)
    for part in folder.relative_to(root).parts:
        current = current / part
        with contextlib.suppress(FileExistsError):
            current.mkdir()
        if current.is_symlink() or not current.is_dir():
            raise OSError(errno.ELOOP, "lien symbolique ou fichier dans le cache", str(current))


def _write_copy(source: Path | bytes, target: Path) -> dict:
    """Copy ``source`` to ``target`` (a new file); its size and SHA-256."""
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        target.write_bytes(source)
        digest.update(source)
        return {"taille": len(source), "sha256": digest.hexdigest()}
    with _open_regular(os.open, str(source)) as src, open(target, "xb") as out:
        cloned = _clone(src, out.fileno())
        for block in iter(lambda: os.read(src, _BLOCK), b""):
            digest.update(block)
            if not cloned:
                out.write(block)
        size = os.fstat(src).st_size
    return {"taille": size, "sha256": digest.hexdigest()}


def _clone(source_fd: int, target_fd: int) -> bool:
    """Share ``source_fd``'s blocks with the empty ``target_fd`` where the file system
    can (reflink); False where it cannot (the caller copies the bytes)."""
    try:
        import fcntl

        fcntl.ioctl(target_fd, _FICLONE, source_fd)
    except (OSError, ImportError):
        return False
    return True


def _usual_mode(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


# ----------------------------------------------------------------------------- reading


@contextlib.contextmanager
def _open_regular(opener, name: str, **kwargs) -> Iterator[int]:
    """A file descriptor of the regular file ``name``, opened without following a
    symbolic link; ``Damaged`` when it is none."""
    try:
        fd = opener(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, **kwargs)
    except FileNotFoundError:
        raise Damaged(f"fichier manquant : {Path(name).name}") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Damaged(f"{Path(name).name} est un lien symbolique") from None
        raise Damaged(f"{Path(name).name} illisible : {error.strerror}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise Damaged(f"{Path(name).name} n'est pas un fichier ordinaire")
        if status.st_uid != os.geteuid():
            raise Damaged(f"{Path(name).name} appartient à un autre utilisateur")
        yield fd
    finally:
        os.close(fd)


def _open_entry(root: Path, kind: str, key: str) -> int | None:
    """A descriptor of the entry's folder, every folder below ``root`` opened without
    following a link; None when there is no entry; ``Damaged`` when a link or a file
    stands in the way."""
    parts = entry_path(root, kind, key).relative_to(root).parts
    try:
        current = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    for part in parts:
        try:
            following = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=current)
        except FileNotFoundError:
            os.close(current)
            return None
        except OSError as error:
            try:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise Damaged(f"{part} illisible : {error.strerror}") from None
                mode = os.stat(part, dir_fd=current, follow_symlinks=False).st_mode
                what = "un lien symbolique" if stat.S_ISLNK(mode) else "un fichier"
                raise Damaged(f"{part} est {what}, pas un dossier du cache") from None
            finally:
                os.close(current)
        os.close(current)
        current = following
    return current


def _manifest(entry_fd: int, kind: str, key: str) -> dict[str, dict]:
    """The files an entry lists, once the entry is known to be this key's, whole."""
    try:
        with _open_regular(os.open, MANIFEST, dir_fd=entry_fd) as fd:
            text = _read_all(fd)
        manifest = json.loads(text.decode("utf-8"))
        files = manifest["files"]
        ours = (manifest["format"], manifest["kind"], manifest["key"]) == (FORMAT, kind, key)
        sizes = {name: (int(f["taille"]), str(f["sha256"])) for name, f in files.items()}
    except Damaged as damage:
        raise Damaged(f"fiche de contenu {MANIFEST} absente ou illisible, {damage}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Damaged(f"fiche de contenu {MANIFEST} illisible") from None
    if not ours:
        raise Damaged("entrée étrangère : enregistrée pour une autre empreinte ou un autre format")
    present = set(os.listdir(entry_fd)) - {MANIFEST}
    unexpected = sorted(present - set(sizes))
    if unexpected:
        raise Damaged(f"fichier inattendu : {unexpected[0]}")
    return files


def _read_all(fd: int) -> bytes:
    return b"".join(iter(lambda: os.read(fd, _BLOCK), b""))


def _verified_copy(entry_fd: int, name: str, recorded: dict, target: Path | None) -> bytes:
    """Check the entry's file ``name`` against its record, copying it to ``target`` on
    the way (or returning its bytes when ``target`` is None)."""
    size, expected = int(recorded["taille"]), str(recorded["sha256"])
    digest = hashlib.sha256()
    content = []
    with _open_regular(os.open, name, dir_fd=entry_fd) as fd:
        actual = os.fstat(fd).st_size
        if actual != size:
            shorter = "tronqué" if actual < size else "de taille différente"
            raise Damaged(
                f"{name} {shorter}, {fmt_number(actual)} octets au lieu de {fmt_number(size)}"
            )
        with open(target, "wb") if target is not None else contextlib.nullcontext() as out:
            for block in iter(lambda: os.read(fd, _BLOCK), b""):
                digest.update(block)
                if out is None:
                    content.append(block)
                else:
                    out.write(block)
    if digest.hexdigest() != expected:
        raise Damaged(f"{name} modifié depuis son enregistrement (empreinte différente)")
    return b"".join(content)


def fetch(root: Path, kind: str, key: str, targets: Mapping[str, Path], what: str) -> bool:
    """Copy the files of the entry ``key`` of ``kind`` to ``targets`` (name → path),
    each checked on the way. False when there is no entry, or when it was damaged: then
    it is discarded, said (``what`` names the output made again), and no target is
    left."""
    try:
        entry_fd = _open_entry(Path(root), kind, key)
        if entry_fd is None:
            return False
        try:
            files = _manifest(entry_fd, kind, key)
            if set(targets) != set(files):
                raise Damaged("entrée étrangère : pas les fichiers attendus")
            for name, target in targets.items():
                Path(target).unlink(missing_ok=True)
                _verified_copy(entry_fd, name, files[name], Path(target))
        finally:
            os.close(entry_fd)
    except Damaged as damage:
        for target in targets.values():
            Path(target).unlink(missing_ok=True)
        discard(root, kind, key, str(damage), what)
        return False
    return True


def read(root: Path, kind: str, key: str, name: str, what: str) -> bytes | None:
    """The bytes of the file ``name`` of the entry ``key`` of ``kind``, checked; None
    when there is no entry or it was damaged (then discarded and said, see ``fetch``)."""
    try:
        entry_fd = _open_entry(Path(root), kind, key)
        if entry_fd is None:
            return None
        try:
            files = _manifest(entry_fd, kind, key)
            if set(files) != {name}:
                raise Damaged("entrée étrangère : pas les fichiers attendus")
            return _verified_copy(entry_fd, name, files[name], None)
        finally:
            os.close(entry_fd)
    except Damaged as damage:
        discard(root, kind, key, str(damage), what)
        return None


def discard(root: Path, kind: str, key: str, reason: str, what: str) -> None:
    """Remove the entry (a link is removed, never what it leads to) and leave the French
    line that says so."""
    with contextlib.suppress(OSError):
        _remove_entry(Path(root), kind, key)
    shown = config.relative_to_project(Path(root))
    note(root, f"cache {shown} : entrée « {kind} » {key[:12]}… écartée : {reason} ; {what}.")


def _remove_entry(root: Path, kind: str, key: str) -> None:
    """Remove the entry, or the first link or file standing in its path: never anything
    a link leads to."""
    current = root
    for part in entry_path(root, kind, key).relative_to(root).parts:
        current = current / part
        status = current.lstat()
        if not stat.S_ISDIR(status.st_mode):  # a link, a file: removed itself
            current.unlink()
            return
    aside = current.with_name(f"{_DISCARDED}{os.getpid()}-{current.name}")
    os.rename(current, aside)
    shutil.rmtree(aside, ignore_errors=True)  # never follows a link


# ------------------------------------------------------------------------------- notes


def note(root: Path, line: str) -> None:
    """Leave ``line`` for the command to print as it ends (see the module's note)."""
    folder = Path(root) / NOTES_DIR
    with contextlib.suppress(OSError):  # a note that cannot be left costs the note only
        folder.mkdir(parents=True, exist_ok=True)
        if folder.is_symlink():
            return
        handle, tmp = tempfile.mkstemp(prefix=".", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(line)
        os.rename(tmp, folder / f"{time.time_ns()}-{os.getpid()}-{Path(tmp).name[1:]}")


def take_notes(root: Path | None) -> list[str]:
    """The lines left in the cache ``root`` since they were last taken, oldest first;
    each taken once, even by two commands at the same time."""
    if root is None:
        return []
    folder = Path(root) / NOTES_DIR
    if folder.is_symlink() or not folder.is_dir():
        return []
    lines = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        taken = path.with_name(f".pris-{os.getpid()}-{path.name}")
        try:
            os.rename(path, taken)  # one command takes it
        except OSError:
            continue
        try:
            with _open_regular(os.open, str(taken)) as fd:
                lines.append(_read_all(fd)[:2000].decode("utf-8", errors="replace").strip())
        except Damaged:
            pass
        finally:
            taken.unlink(missing_ok=True)
    return [line for line in lines if line]
