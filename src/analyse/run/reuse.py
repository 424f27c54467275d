"""A whole report reused when nothing it is made from changed.

A report's files (HTML, notebook, CSV, GeoPackage, workbook, interactive map) are a
function of its bundle (every table and the context, the generation time aside), its
title, the report notebook and the code (``cache.code_digest``). Once written, they are
kept in the content-addressed cache (``analyse.render.cache``) under the digest of those
inputs; a later run with the same inputs (the history run again, a new month added to
it, a report asked twice) takes them from there instead of running the notebook.

The entries are hard links to the files written (a copy where links are impossible):
every output of the project is written to a temporary name and renamed, never changed in
place, so a report replaced later leaves its cache entry intact. A reused report keeps the
generation date of the run that wrote it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from analyse import config
from analyse.analysis import bundle
from analyse.render import cache

KIND = "rapport"


def report_key(departement: str, data_dir: Path, title: str) -> str | None:
    """The digest of what the report of ``data_dir`` is made from; None when the cache
    is off or the bundle is not there (the notebook then says so itself)."""
    folder = Path(data_dir)
    if cache.root() is None or not (folder / bundle.CONTEXT_FILE).is_file():
        return None
    meta = json.loads((folder / bundle.CONTEXT_FILE).read_text(encoding="utf-8"))
    # The moment of the preparation is not an input of the figures: the same data
    # prepared again give the same report.
    meta["context"].pop("genere_le", None)
    tables = [(path.name, path.read_bytes()) for path in sorted(folder.glob("*.parquet"))]
    notebook = config.REPORT_NOTEBOOK.read_bytes()
    return cache.key(KIND, departement, title, meta, tables, notebook)


def _place(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links refused
        shutil.copyfile(source, target)


def fetch(report_key: str | None, files: dict[str, Path]) -> bool:
    """Put the cached files of ``report_key`` at ``files`` (by name); True when found."""
    folder = cache.root()
    if report_key is None or folder is None:
        return False
    entry = cache.entry_path(folder, KIND, report_key)
    if not all((entry / name).is_file() for name in files):
        return False
    for name, target in files.items():
        target.unlink(missing_ok=True)
        _place(entry / name, target)
    return True


def store(report_key: str | None, files: dict[str, Path]) -> None:
    """Keep the report ``files`` (by name) under ``report_key``; a cache that cannot be
    written costs the reuse, never the report."""
    folder = cache.root()
    if report_key is None or folder is None:
        return
    entry = cache.entry_path(folder, KIND, report_key)
    if entry.exists():
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".en-cours-"))
        try:
            for name, source in files.items():
                _place(source, build / name)
            os.replace(build, entry)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    except OSError:  # another worker stored the same report first, or a full disk
        pass
