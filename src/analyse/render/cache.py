"""Work done once: a content-addressed cache of report outputs on disk.

An output (a figure of the notebook, an analyst export, a whole report) is stored under
the digest of exactly what it is computed from: the frames and values passed to the
function that makes it, the name of that output, and ``code_digest`` (the package's own
source and templates, and the versions of the libraries that draw and write). Whatever
changes in those inputs (the reference, the lists read, their checksums, a month's new
posts) gives another key; nothing is ever invalidated by hand. How entries are kept
and checked (copies, digests, never a symbolic link followed) is ``render.store``'s.

So a month where a département did not change reuses every output whose inputs are the
same as the month before, and re-renders the others (the title, « ce qui a changé », the
national target). A reused output is the file a cold run would write, byte for byte.

The cache lives in ``data/processed/cache/`` (``ANALYSE_CACHE_DIR`` elsewhere);
``ANALYSE_CACHE=0`` turns it off (every output computed afresh). Its keys are plain
files: removing the folder is always safe.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from analyse import config
from analyse.digest import code_digest, key  # noqa: F401 - the one key rule, here too
from analyse.render import store

CACHE_SUBDIR = "cache"


def root() -> Path | None:
    """The cache folder, or None when the cache is off (``ANALYSE_CACHE=0``)."""
    if os.environ.get("ANALYSE_CACHE", "1") == "0":
        return None
    return Path(os.environ.get("ANALYSE_CACHE_DIR") or config.PROCESSED_DIR / CACHE_SUBDIR)


_FOLLOWED: list[str] = []  # the ANALYSE_CACHE_DIR values set by ``follow_output``


def follow_output(reports_dir: Path) -> None:
    """A run writing elsewhere (``--sortie``) keeps its cache there too, beside its
    prepared data, unless the user set ``ANALYSE_CACHE_DIR``: nothing of it is left in
    the project, and two runs to two folders share nothing. The workers and their
    kernels inherit the setting."""
    current = os.environ.get("ANALYSE_CACHE_DIR")
    if current is not None and current not in _FOLLOWED:
        return  # the user's choice
    if Path(reports_dir).resolve() == config.REPORTS_DIR.resolve():
        os.environ.pop("ANALYSE_CACHE_DIR", None)
        return
    cache_dir = str(Path(reports_dir).resolve() / config.PREPARED_SUBDIR / CACHE_SUBDIR)
    os.environ["ANALYSE_CACHE_DIR"] = cache_dir
    _FOLLOWED.append(cache_dir)


FIGURE_FILE = "figure.json"
_FIGURE_AGAIN = "la figure est redessinée"


def figure(
    kind: str, parts: tuple, render: Callable[[], tuple[bytes, dict | None]]
) -> tuple[bytes, dict | None]:
    """A figure's bytes (its inline SVG) and legend, ``render()``-ed only when no figure
    of ``kind`` was made from the same ``parts`` (an entry of ``render.store``, checked
    when read: a damaged one is discarded, said, and the figure drawn again)."""
    folder = root()
    if folder is None:
        return render()
    name = key(kind, *parts)
    kept = store.read(folder, kind, name, FIGURE_FILE, _FIGURE_AGAIN)
    if kept is not None:
        try:
            saved = json.loads(kept.decode("utf-8"))
            legend = saved["legend"]
            if legend and "key" in legend:  # JSON has no tuples: the key is a list of pairs
                legend["key"] = [tuple(item) for item in legend["key"]]
            return base64.b64decode(saved["figure"], validate=True), legend
        except (ValueError, KeyError, TypeError, AttributeError):  # binascii.Error too
            store.discard(folder, kind, name, f"{FIGURE_FILE} illisible", _FIGURE_AGAIN)
    drawn, legend = render()
    text = json.dumps({"figure": base64.b64encode(drawn).decode("ascii"), "legend": legend})
    with contextlib.suppress(OSError):  # a full or read-only cache costs the reuse only
        store.put(folder, kind, name, {FIGURE_FILE: text.encode("utf-8")})
    return drawn, legend
