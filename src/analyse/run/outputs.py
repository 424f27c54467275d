"""Where a command will write, checked before it works.

Every output of the project is written to a temporary name and renamed onto its path
(``analyse.atomic``): a rename replaces whatever directory entry is there, a device or
a FIFO included (``telecharger --sortie /dev/null``, run as root, replaced the device),
and a folder reached through a symbolic link is written wherever the link leads. So
before any data is read, each command checks the paths it will write:

- an output folder must be a folder, or a path where one can be created (nothing in the
  way is a file), and writable (a probe is written and removed, with any folder made
  for it);
- inside it, nothing the command may write through is a device, a FIFO or a socket, or a
  symbolic link leading out of the folder;
- an output file must be a regular file or a path where one can be created, never a
  symbolic link.

A refusal is a ``UserError`` (exit 2) whose French message names the path.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from analyse.errors import UserError, os_error_reason

# How deep a folder's contents are looked at: <sortie>/<mois>/<dép>/rapport.html.
SCAN_DEPTH = 3
# The content-addressed cache checks each of its entries itself (``render.store``).
_NOT_SCANNED = {"cache"}


def kind_of(mode: int) -> str:
    """What a file that is not a regular one is, in French."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "un périphérique"
    if stat.S_ISFIFO(mode):
        return "un tube nommé (FIFO)"
    if stat.S_ISSOCK(mode):
        return "une socket"
    if stat.S_ISDIR(mode):
        return "un dossier"
    if stat.S_ISLNK(mode):
        return "un lien symbolique"
    return "un fichier"


def _shown(path: Path) -> str:
    """A path as the user would write it: relative to the current folder when inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None


def _check_parents(path: Path, option: str, shown: Path) -> None:
    """Every existing folder above ``path`` must be a folder (symbolic links to folders
    allowed: the user chose that path)."""
    for parent in reversed(path.parents):
        try:
            mode = parent.stat().st_mode
        except FileNotFoundError:
            return  # created when written
        except OSError as error:
            raise UserError(f"{option} {shown} : {os_error_reason(error)}.") from None
        if not stat.S_ISDIR(mode):
            raise UserError(
                f"{option} {shown} : {_shown(parent)} n'est pas un dossier (c'est "
                f"{kind_of(mode)}) : rien ne peut être écrit sous lui. Choisissez un autre "
                "chemin."
            )


def _probe(folder: Path, option: str, shown: Path) -> None:
    """Write and remove a probe in ``folder``, creating it if needed (and removing what
    was created for the probe)."""
    missing = [p for p in [folder, *folder.parents] if not os.path.lexists(p)]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UserError(
            f"{option} {shown} : écriture impossible ({os_error_reason(error)}). Choisissez un "
            "dossier où vous pouvez écrire."
        ) from None
    finally:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                created.rmdir()


def check_folder(folder: Path, option: str = "--sortie", scan: bool = True) -> None:
    """Refuse an output folder that cannot be one (see the module's note), before any
    work; with ``scan``, also what inside it the command would write through."""
    shown = Path(folder)
    folder = shown.absolute()
    _check_parents(folder, option, shown)
    status = _lstat(folder)
    if status is not None:
        try:
            mode = folder.stat().st_mode  # a link to a folder is the user's choice
        except OSError:
            raise UserError(
                f"{option} {shown} : lien symbolique vers {os.readlink(folder)}, qui n'existe "
                "pas. Donnez un dossier existant, ou un chemin où le créer."
            ) from None
        if not stat.S_ISDIR(mode):
            raise UserError(
                f"{option} {shown} : ce n'est pas un dossier, c'est {kind_of(mode)}. Donnez "
                "le dossier où écrire (il sera créé s'il n'existe pas)."
            )
    _probe(folder, option, shown)
    if scan and status is not None:
        _scan(folder, option, shown)


def _scan(folder: Path, option: str, shown: Path) -> None:
    """Refuse devices, FIFOs, sockets and symbolic links leading out of ``folder``, down
    to ``SCAN_DEPTH`` levels (a command's outputs are never deeper)."""
    top = folder.resolve()
    pending = [(folder, 1)]
    while pending:
        current, depth = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError as error:
            raise UserError(f"{option} {shown} : {os_error_reason(error)}.") from None
        for entry in entries:
            path = Path(entry.path)
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                target = path.resolve()
                if not target.is_relative_to(top):
                    raise UserError(
                        f"{option} {shown} : {_shown(path)} est un lien symbolique vers {target}, "
                        "hors du dossier de sortie : la commande y écrirait. Retirez le "
                        "lien, ou choisissez un autre dossier."
                    )
            elif stat.S_ISDIR(mode):
                if depth < SCAN_DEPTH and entry.name not in _NOT_SCANNED:
                    pending.append((path, depth + 1))
            elif not stat.S_ISREG(mode):
                raise UserError(
                    f"{option} {shown} : {_shown(path)} est {kind_of(mode)}, pas un fichier "
                    "ordinaire : la commande le remplacerait. Retirez-le, ou choisissez un "
                    "autre dossier."
                )


def check_set_folder(folder: Path, option: str = "--sortie") -> None:
    """``check_folder``, for a folder replaced whole by a set of files (the panel,
    ``atomic.replaced_whole``): it may hold files only. A folder inside it (a project, a
    home folder given by mistake) is refused: the set would take its place."""
    check_folder(folder, option)
    folder = Path(folder)
    if not folder.is_dir():
        return
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            raise UserError(
                f"{option} {folder} : ce dossier contient le dossier {entry.name} ; ses "
                "fichiers sont remplacés en bloc, d'une seule fois : donnez un dossier "
                f"réservé à eux (par exemple {folder / 'panel'})."
            )


def check_file(path: Path, option: str = "--sortie", companions: tuple[str, ...] = ()) -> None:
    """Refuse an output file path that cannot be one (see the module's note): not a
    regular file, a symbolic link, under a file, in a folder where nothing can be
    written. ``companions`` are suffixes of files written beside it (``.sha256``),
    checked the same way."""
    shown = Path(path)
    path = shown.absolute()
    _check_parents(path, option, shown)
    for each in [path, *(path.with_name(path.name + suffix) for suffix in companions)]:
        status = _lstat(each)
        if status is None:
            continue
        # The path itself, or the file the command writes beside it.
        what = f"{option} {shown} : " + ("c'est" if each == path else f"{_shown(each)} est")
        if stat.S_ISLNK(status.st_mode):
            raise UserError(
                f"{what} un lien symbolique (vers {os.readlink(each)}) : la commande "
                "remplacerait le lien, sans écrire où il mène. Donnez le chemin du fichier "
                "lui-même."
            )
        if not stat.S_ISREG(status.st_mode):
            raise UserError(
                f"{what} {kind_of(status.st_mode)}, pas un fichier ordinaire : la commande "
                "le remplacerait. Donnez le chemin d'un fichier (il sera créé s'il n'existe "
                "pas)."
            )
    _probe(path.parent, option, shown)
