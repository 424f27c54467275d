"""Reading input files that may be gzip-compressed (the embedded snapshots of data/raw/).

Every reader of an input file goes through ``read_bytes`` (or pandas, which decompresses
``.gz`` on its own), so that ``liste.csv`` and ``liste.csv.gz`` are the same input.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

from analyse.errors import UserError

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
    it was made from, the one published with the data."""
    return hashlib.sha256(read_bytes(path)).hexdigest()
