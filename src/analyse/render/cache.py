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
import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from analyse import config
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


@functools.cache
def code_digest() -> str:
    """Digest of the code that makes the outputs: every file of the package (sources,
    templates, styles) and the versions of the libraries that draw and write them."""
    from importlib.metadata import PackageNotFoundError, version

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            # The file's place in the package (not the project: a copy elsewhere is the
            # same code).
            digest.update("/".join(path.parts[len(package.parts) :]).encode())
            digest.update(path.read_bytes())
    for name in ("matplotlib", "geopandas", "pandas", "pyogrio", "openpyxl", "folium", "shapely"):
        try:
            digest.update(f"{name}={version(name)}".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()


def _update(digest, value) -> None:
    """Feed ``value`` (frames, series, geometry, JSON-like values, bytes) to ``digest``."""
    import geopandas as gpd
    import pandas as pd

    if isinstance(value, gpd.GeoSeries):
        digest.update(b"geoseries" + str(value.crs).encode())
        digest.update(b"".join(value.to_wkb(hex=False).fillna(b"").tolist()))
    elif isinstance(value, pd.DataFrame):
        digest.update(b"frame" + json.dumps([str(c) for c in value.columns]).encode())
        digest.update(json.dumps([str(t) for t in value.dtypes]).encode())
        for column in value.columns:
            _update(digest, value[column])
    elif isinstance(value, pd.Series):
        if isinstance(value.dtype, gpd.array.GeometryDtype):
            _update(digest, gpd.GeoSeries(value))
            return
        digest.update(b"series" + str(value.dtype).encode() + str(len(value)).encode())
        try:
            hashed = pd.util.hash_pandas_object(value, index=False).to_numpy()
            digest.update(hashed.tobytes())
        except TypeError:  # lists or dicts in cells
            digest.update(json.dumps(value.tolist(), default=str, sort_keys=True).encode())
    elif isinstance(value, bytes):
        digest.update(b"bytes" + value)
    elif isinstance(value, tuple | list):
        digest.update(f"seq{len(value)}".encode())
        for item in value:
            _update(digest, item)
    else:
        digest.update(json.dumps(value, default=str, sort_keys=True).encode())


def key(kind: str, *parts) -> str:
    """The key of output ``kind`` computed from ``parts`` by the current code."""
    digest = hashlib.sha256(kind.encode() + code_digest().encode())
    for part in parts:
        _update(digest, part)
    return digest.hexdigest()


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
