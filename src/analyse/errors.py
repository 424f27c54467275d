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
