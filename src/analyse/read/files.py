"""Reading input files that may be gzip-compressed (the embedded snapshots of data/raw/).

Every reader of an input file goes through ``read_bytes`` (or pandas, which decompresses
``.gz`` on its own), so that ``liste.csv`` and ``liste.csv.gz`` are the same input.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zlib
from dataclasses import dataclass
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


class CsvFileError(UserError):
    """A CSV file that cannot be read as a table; the message (in French) names the file
    and, when known, the line."""

    def __init__(self, name: str, reason: str, line: int | None = None):
        self.name, self.reason, self.line = name, reason, line
        where = name if line is None else f"{name}, ligne {line}"
        super().__init__(f"{where} : {reason}")


# C0 controls other than tab and line breaks, DEL, and the C1 controls (U+0080–U+009F:
# NEL, CSI…), which no spreadsheet export writes in a cell.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Separators tried, most frequent in the header wins (« ; » on a tie: French exports).
_SEPARATORS = (";", ",", "\t", "|")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(raw: bytes, name: str) -> str:
    """The text of a CSV export: UTF-8 (the BOM of Excel's « CSV UTF-8 » dropped), UTF-16
    with its BOM (Excel's « texte Unicode ») or without, or Windows-1252 (Excel's plain « CSV » on a
    French Windows). Anything else, a binary file above all, raises ``CsvFileError``."""
    # Before UTF-8: text of ASCII letters in UTF-16 without BOM is valid UTF-8 too,
    # every other character a NUL.
    text = _utf16_without_bom(raw)
    if text is not None:
        return text
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if raw.startswith(_UTF16_BOMS):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            text = None
        if text is not None and not CONTROL_RE.search(text.replace("\ufeff", "")):
            return text.lstrip("\ufeff")
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise CsvFileError(
            name, f"ni UTF-8 ni Windows-1252 (octet illisible en position {error.start})."
        ) from None
    # Windows-1252 maps almost every byte to a character: a binary file "decodes" too,
    # but a text export never holds control characters.
    control = CONTROL_RE.search(text)
    if control:
        raise CsvFileError(
            name,
            "ni UTF-8 ni Windows-1252 : le fichier n'est pas du texte (caractère de contrôle "
            f"en position {control.start()}). Est-ce bien un export CSV ?",
        )
    return text


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 written without its BOM, little- or big-endian: text of the Latin alphabet
    has a NUL byte in every other position (the high byte of each character), which no
    UTF-8 or Windows-1252 export has. None when ``raw`` does not look so, or does not
    decode to text without control characters."""
    if len(raw) < 4 or len(raw) % 2:
        return None
    sample = raw[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    for encoding, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if high >= 0.6 * pairs and low == 0:
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                return None
            return None if CONTROL_RE.search(text) else text
    return None


def _separator(header_line: str) -> str:
    counts = [(header_line.count(s), -i) for i, s in enumerate(_SEPARATORS)]
    best = max(counts)
    return _SEPARATORS[-best[1]] if best[0] else ","


def _csv_reason(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        limit = f"{csv.field_size_limit():_}".replace("_", " ")
        return f"un champ dépasse {limit} caractères"
    if "unexpected end of data" in text:
        return (
            "guillemet ouvert jamais refermé : il englobe la suite du fichier jusqu'à sa fin ; "
            "fermez-le ou retirez-le"
        )
    if "expected after" in text:
        return "texte collé après un guillemet fermant : un guillemet en trop dans la cellule ?"
    return text


@dataclass
class CsvRows:
    """A CSV read as text: its header, and each non-empty row with the line it starts on."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    separator: str


def read_csv_rows(path: Path, name: str | None = None) -> CsvRows:
    """The one CSV reader of the tool: every CSV it reads goes through it.

    Decoded by ``decode_text``; any line ending (``\\n``, ``\\r\\n``, ``\\r``); the
    separator found in the header. Strict about quotes: a quote left open up to the
    end of the file (which would swallow every following row into one cell) or text
    after a closing quote is an error naming the line where the row starts. Blank rows
    are skipped. Row lengths are checked by ``check_row_shape``, row by row.
    """
    name = name or str(path)
    text = decode_text(read_bytes(path), name)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    if not header_line:
        raise CsvFileError(name, "le fichier est vide.")
    separator = _separator(header_line)
    stream = io.StringIO(text, newline=None)  # \r and \r\n become \n
    reader = csv.reader(stream, delimiter=separator, strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            rows.append((line, record))
    except csv.Error as error:
        raise CsvFileError(
            name, f"ligne illisible comme CSV ({_csv_reason(error)}).", start
        ) from None
    return CsvRows(name, header or [], rows, separator)


def named_width(header: list[str]) -> int:
    """Columns up to the last named one (an export may end its header with empty cells)."""
    return len(header) - next((i for i, h in enumerate(reversed(header)) if h), len(header))


def check_row_shape(header: list[str], record: list[str], name: str, line: int) -> None:
    """A row must hold a cell for each named column of the header, and nothing beyond
    it: a short row is truncated, a long one has shifted cells (a separator inside an
    unquoted value) whose last values would otherwise be dropped unseen."""
    width = named_width(header)
    if len(record) < width:
        raise CsvFileError(
            name,
            f"ligne incomplète : {len(record)} cellule(s) au lieu de {width} (colonnes "
            f"manquantes à partir de « {header[len(record)]} »). Le fichier a-t-il été "
            "tronqué ?",
            line,
        )
    beyond = [cell for cell in record[width:] if str(cell).strip()]
    if beyond:
        raise CsvFileError(
            name,
            f"{len(record)} cellules pour {width} colonnes nommées : « {str(beyond[0])[:80]} » "
            "est au-delà de l'en-tête (un séparateur dans une valeur non entourée de "
            "guillemets ? une colonne sans nom ?). Rien n'est lu hors des colonnes nommées.",
            line,
        )


def check_cell_text(cell: str) -> re.Match | None:
    """The first control character of a cell, if any."""
    return CONTROL_RE.search(cell)


def read_csv_strings(path: Path, error: type[UserError], name: str | None = None) -> pd.DataFrame:
    """A CSV given by the user (``.gz`` too) as a table of strings (``read_csv_table``);
    anything wrong raises ``error`` with a French message naming the file and line."""
    try:
        return read_csv_table(path, name)
    except CsvFileError as failure:
        raise error(str(failure)) from None


def read_csv_table(path: Path, name: str | None = None) -> pd.DataFrame:
    """A CSV as a table of strings, through ``read_csv_rows``, every row checked
    (``check_row_shape``, no control character, no repeated column); raises
    ``CsvFileError`` naming the file and line. ``attrs["lignes"]`` holds the line of
    each row in the file."""
    import pandas as pd

    name = name or str(path)
    try:
        table = read_csv_rows(path, name)
    except OSError as failure:
        raise CsvFileError(name, f"fichier illisible ({failure.strerror or failure}).") from None
    if not table.header:
        raise CsvFileError(name, "le fichier est vide.")
    width = named_width(table.header)
    named = [h for h in table.header[:width] if h]
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        raise CsvFileError(
            name,
            f"colonne(s) en double dans l'en-tête : {', '.join(repeated)} (laquelle lire ?).",
            1,
        )
    for line, record in table.rows:
        check_row_shape(table.header, record, name, line)
        for column, cell in zip(table.header, record, strict=False):
            control = check_cell_text(cell)
            if control:
                raise CsvFileError(
                    name,
                    f"colonne « {column} » : caractère de contrôle interdit (code "
                    f"{ord(control.group()):#04x}).",
                    line,
                )
    columns = [h.strip().lstrip("\ufeff") for h in table.header[:width]]
    records = [[*record[:width], *[""] * (width - len(record))] for _, record in table.rows]
    frame = pd.DataFrame(records, columns=columns, dtype=str)
    frame.attrs[LINES_ATTR] = Lines(line for line, _ in table.rows)
    return frame


LINES_ATTR = "lignes"


class Lines(tuple):
    """The line of each row in its file (``attrs["lignes"]``). pandas deep-copies
    ``attrs`` into every frame and column derived from a frame: a list of 35 000 numbers
    made reading the IFN take seconds. Immutable, this one is shared, not copied."""

    def __deepcopy__(self, memo: dict) -> Lines:
        return self


def file_lines(table: pd.DataFrame) -> list[int]:
    """The line in its file of each row of ``table`` (``read_csv_strings``); 2, 3… (the
    header on line 1) for a table that does not say."""
    lines = table.attrs.get(LINES_ATTR)
    if lines is None:
        return list(range(2, len(table) + 2))
    return [int(line) for line in lines]
