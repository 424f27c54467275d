"""The one key rule of everything reused: the sha256 of what it is made from.

``key(kind, *parts)`` is the digest of the kind of output, of the code that makes it
(``code_digest``: every file of the package and the versions of the libraries that draw
and write) and of the content of its inputs (frames, series, geometries, JSON-like
values, bytes). Every cache of the project keys its entries with it: on disk the
figures and the whole reports (``render.cache``, ``run.reuse``, kept by
``render.store``), in memory the next posts of an intercommunalité (``analysis.fiche``).
Whatever changes in an input gives another key; nothing is invalidated by hand.

Within a run, the situation of the country is computed once for its sources and its
date (``analysis.situation.Sources.at``), and what derives from it is one of its tables.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path


@functools.cache
def code_digest() -> str:
    """Digest of the code that makes the outputs: every file of the package (sources,
    templates, styles) and the versions of the libraries that draw and write them."""
    from importlib.metadata import PackageNotFoundError, version

    package = Path(__file__).resolve().parent
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
