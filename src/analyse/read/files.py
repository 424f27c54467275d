"""Reading input files that may be gzip-compressed (the embedded snapshots of data/raw/).

Every reader of an input file goes through ``read_bytes`` (or pandas, which decompresses
``.gz`` on its own), so that ``liste.csv`` and ``liste.csv.gz`` are the same input.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from analyse.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

GZIP_SUFFIX = ".gz"


class CompressedFileError(UserError):
    """A ``.gz`` file that does not decompress (message in French)."""


def is_gzip(path: Path) -> bool:
    return Path(path).suffix.lower() == GZIP_SUFFIX


def data_suffix(path: Path) -> str:
    """The suffix that says what the data are: ``.csv`` for ``liste.csv`` and ``liste.csv.gz``."""
    path = Path(path)
    if is_gzip(path):
        path = path.with_suffix("")
    return path.suffix.lower()


def read_bytes(path: Path) -> bytes:
    """The content of ``path``, decompressed when it is a ``.gz`` file."""
    raw = Path(path).read_bytes()
    if not is_gzip(path):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise CompressedFileError(
            f"{path} : archive gzip illisible ou tronquée ({error}). Remplacez-la par une "
            "copie complète (voir data/raw/SOURCES.md)."
        ) from None


def content_sha256(path: Path) -> str:
    """SHA-256 of the content (decompressed): a ``.gz`` copy has the checksum of the file
    it was made from, the one published with the data. Read in blocks: an ADMIN EXPRESS
    layer weighs hundreds of megabytes."""
    digest = hashlib.sha256()
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise CompressedFileError(
            f"{path} : archive gzip illisible ou tronquée ({error}). Remplacez-la par une "
            "copie complète (voir data/raw/SOURCES.md)."
        ) from None
    return digest.hexdigest()


def read_csv_strings(path: Path, error: type[UserError]) -> pd.DataFrame:
    """A CSV given by the user (``.gz`` too) as strings, its separator sniffed; anything
    unreadable raises ``error`` with a French message naming the file."""
    import csv

    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    # pandas decompresses a .csv.gz itself; a damaged archive fails here too.
    except (
        ValueError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        csv.Error,
        OSError,
        EOFError,
    ) as failure:
        raise error(f"{path} : fichier illisible comme CSV ({failure}).") from failure
