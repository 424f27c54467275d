"""Errors meant for the user: their message is in French and says what to do.

The CLI catches ``UserError`` (exit code 2) and ``FailedError`` (exit code 1) without
importing the heavy modules that raise them.
"""


class UserError(ValueError):
    """Bad input or options: nothing was written."""


class FailedError(RuntimeError):
    """A step failed while running (a notebook, a worker)."""


class ReconciliationError(FailedError):
    """The posts read and the posts accounted for differ: a bug, never shown as a total."""


def os_error_text(error: OSError) -> str:
    """An operating-system error in French, naming the file: « disque plein » for ENOSPC."""
    return f"{os_error_reason(error)}. Aucun fichier existant n'a été remplacé."


def os_error_reason(error: OSError) -> str:
    """« file : reason » of an operating-system error, in French."""
    import errno

    where = f"{error.filename} : " if error.filename else ""
    reasons = {
        errno.ENOSPC: "disque plein : libérez de la place puis relancez",
        errno.EDQUOT: "quota disque dépassé : libérez de la place puis relancez",
        errno.EACCES: "permission refusée",
        errno.EPERM: "opération non permise",
        errno.EROFS: "support en lecture seule",
        errno.ENOENT: "fichier ou dossier introuvable",
        errno.EISDIR: "c'est un dossier, un fichier était attendu",
        errno.ENOTDIR: "un dossier était attendu",
    }
    reason = reasons.get(error.errno, error.strerror or type(error).__name__)
    return f"{where}{reason}"


def disk_full(error: BaseException) -> OSError | None:
    """The ENOSPC (or quota) error behind ``error``, if any, following its causes."""
    import errno

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return current
        current = current.__cause__ or current.__context__
    return None
