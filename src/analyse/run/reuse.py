"""A whole report reused when nothing it is made from changed.

A report's files (HTML, notebook, CSV, GeoPackage, workbook, interactive map) are a
function of its bundle (every table and the context, the generation time aside), its
title, the report notebook and the code (``cache.code_digest``). Once written, they are
kept in the content-addressed cache (``analyse.render.cache``) under the digest of those
inputs; a later run with the same inputs (the history run again, a new month added to
it, a report asked twice) takes them from there instead of running the notebook.

An entry holds copies of the files (``render.store``), never the published files: a
report edited or damaged where it is published leaves its entry intact, and an entry
damaged in the cache never reaches a published report (it is checked, discarded and the
report made again). A reused report keeps the generation date of the run that wrote it.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from analyse import config
from analyse.analysis import bundle
from analyse.render import cache
from analyse.render import store as entries

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


def fetch(report_key: str | None, files: dict[str, Path]) -> bool:
    """Put copies of the cached files of ``report_key`` at ``files`` (by name), each
    checked against its recorded digest; True when found whole. A damaged entry is
    discarded and said (``render.store``): the report is then made again."""
    folder = cache.root()
    if report_key is None or folder is None:
        return False
    return entries.fetch(folder, KIND, report_key, files, "le rapport est refait")


def store(report_key: str | None, files: dict[str, Path]) -> None:
    """Keep copies of the report ``files`` (by name) under ``report_key``; a cache that
    cannot be written costs the reuse, never the report."""
    folder = cache.root()
    if report_key is None or folder is None:
        return
    with contextlib.suppress(OSError):  # a full disk, a read-only cache
        entries.put(folder, KIND, report_key, files)
