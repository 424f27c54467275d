"""``couverture.xlsx``: the analysts' workbook (sheets ``Indicateurs``, ``Lacunes``,
``À vérifier`` and the optional ones): French headers, Excel number formats (shown with
the reader's locale, so ``1 234,56`` in French), frozen header row and auto-filter.
Written beside the target, then renamed onto it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analyse import schema
from analyse.atomic import atomic_path
from analyse.render.exports.common import container_text, is_container
from analyse.territory.matching import REVIEW_COLUMNS as MATCHING_REVIEW_COLUMNS

# ------------------------------------------------------------------- workbook headers


SHEET_INDICATORS = "Indicateurs"
SHEET_GAPS = "Lacunes"
SHEET_REVIEW = "À vérifier"
SHEET_REJECTED_PLACES = "Lieux écartés"
SHEET_PROPOSALS = "Propositions"
SHEET_TRAJECTORY = "Trajectoire"

# Our column names → French column headers of the workbook (all sheets): analyse.schema.
HEADERS = schema.headers()

# The header of an empty review sheet: the columns of analyse.territory.matching.review_table.
REVIEW_COLUMNS = MATCHING_REVIEW_COLUMNS

EMPTY_MESSAGES = {
    SHEET_INDICATORS: "Aucune intercommunalité dans ce département.",
    SHEET_GAPS: "Aucune lacune relevée.",
    SHEET_REVIEW: "Rien à vérifier : toutes les lignes de sélection ont été rapprochées.",
    SHEET_REJECTED_PLACES: "Aucun lieu écarté pour ce département.",
    SHEET_PROPOSALS: "Aucun poste proposé : aucun n'apporterait rien (voir le rapport).",
    SHEET_TRAJECTORY: "Aucune intercommunalité dans ce département.",
}

INTEGER_FORMAT = schema.INTEGER
DECIMAL_FORMAT = schema.DECIMAL
# Columns whose figures read better with another format than their dtype suggests.
NUMBER_FORMATS = schema.number_formats()
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def _header(column: str) -> str:
    if column in HEADERS:
        return HEADERS[column]
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _number_format(column: str, values: pd.Series) -> str | None:
    if column in NUMBER_FORMATS:
        return NUMBER_FORMATS[column]
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return INTEGER_FORMAT
    if pd.api.types.is_float_dtype(values):
        return DECIMAL_FORMAT
    if pd.api.types.is_datetime64_any_dtype(values):
        known = values.dropna()
        return DATE_FORMAT if (known == known.dt.normalize()).all() else DATETIME_FORMAT
    return None


def _cell_value(value: object) -> object:
    """A value openpyxl writes as such: None for missing, Python scalars, clean text."""
    if is_container(value):
        value = container_text(value)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None  # Excel has no NaN nor infinity (a density over an empty population)
    if value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        # Excel has no time zones: local wall-clock time.
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date | int | float):
        return value
    # Control characters are invalid in the XML of an xlsx file.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _display_width(value: object, number_format: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        number_format = number_format or "0.00"
        decimals = number_format.partition(".")[2].count("0")
        grouping = "," if "," in number_format else ""
        return len(f"{value:{grouping}.{decimals}f}")
    if isinstance(value, datetime | date):
        return 16
    return max((len(line) for line in str(value).splitlines()), default=0)


def _fill_sheet(sheet: Worksheet, frame: pd.DataFrame, empty_message: str) -> None:
    """Header, rows, formats, widths, frozen header and filter of one sheet."""
    columns = [str(c) for c in frame.columns]
    headers = [_header(c) for c in columns]
    formats = [_number_format(c, frame[c]) for c in frame.columns]
    widths = [0] * len(columns)
    sheet.append(headers)
    for row in frame.itertuples(index=False, name=None):
        values = [_cell_value(v) for v in row]
        sheet.append(values)
        for i, (value, number_format) in enumerate(zip(values, formats, strict=True)):
            widths[i] = max(widths[i], _display_width(value, number_format))
    for row in sheet.iter_rows(min_row=2):
        for cell, number_format in zip(row, formats, strict=False):
            if cell.data_type == "f":
                # openpyxl takes "=…" for a formula: text from input data stays text.
                cell.data_type = "s"
            elif number_format and isinstance(cell.value, int | float | datetime):
                cell.number_format = number_format
    if frame.empty:
        # An empty sheet says so, instead of looking like a failed export.
        sheet.append([empty_message])
        sheet.cell(row=2, column=1).font = Font(italic=True)

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    header_lines = 1
    for i, header in enumerate(headers, start=1):
        # Long headers wrap over two or three lines rather than widen the column.
        width = min(max(widths[i - 1], min(len(header), 20), _MIN_WIDTH), _MAX_WIDTH) + 2
        sheet.column_dimensions[get_column_letter(i)].width = width
        cell = sheet.cell(row=1, column=i)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header_lines = max(header_lines, math.ceil(len(header) / (width - 2)))
    if not columns:
        sheet.column_dimensions["A"].width = len(empty_message) + 2
        return
    # Excel does not grow a row for wrapped text on its own in a generated file.
    sheet.row_dimensions[1].height = 15 * header_lines
    sheet.freeze_panes = "A2"
    last_row = 1 if frame.empty else sheet.max_row
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"


def _sheet_frame(frame: pd.DataFrame | None, default_columns: list[str]) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame(columns=default_columns)
    # A spreadsheet has no use for geometries (the GeoPackage has them).
    geometries = [c for c in frame.columns if frame[c].dtype == "geometry"]
    frame = pd.DataFrame(frame.drop(columns=geometries))
    if frame.empty and len(frame.columns) == 0:
        return pd.DataFrame(columns=default_columns)
    return frame.reset_index(drop=True)


def write_workbook(
    target: Path,
    indicators: pd.DataFrame,
    gaps: pd.DataFrame,
    review: pd.DataFrame,
    rejected_places: pd.DataFrame | None = None,
    proposals: pd.DataFrame | None = None,
    trajectory: pd.DataFrame | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """``couverture.xlsx``: sheets ``Indicateurs``, ``Lacunes`` and ``À vérifier``;
    ``Lieux écartés`` when a places file was given (its rows of impossible coordinates
    that may concern the département, every one listed); ``Propositions`` (placement
    scenario, posts in order) when given."""
    sheets = {
        SHEET_INDICATORS: _sheet_frame(indicators, []),
        SHEET_GAPS: _sheet_frame(gaps, []),
        SHEET_REVIEW: _sheet_frame(review, REVIEW_COLUMNS),
    }
    if rejected_places is not None:
        sheets[SHEET_REJECTED_PLACES] = _sheet_frame(rejected_places, list(rejected_places))
    if proposals is not None:
        columns = list(schema.LAYERS["propositions"].columns)
        sheets[SHEET_PROPOSALS] = _sheet_frame(proposals, columns)
    if trajectory is not None:
        # Posts and density of each EPCI at the end of each month (analyse.analysis.trajectory).
        columns = [c.name for c in schema.TRAJECTORY_COLUMNS]
        sheets[SHEET_TRAJECTORY] = _sheet_frame(trajectory, columns)
    workbook = Workbook()
    workbook.remove(workbook.active)
    if metadata:
        # Document properties (File > Properties): the date the figures describe.
        workbook.properties.title = metadata.get("titre", "")
        workbook.properties.subject = metadata.get("situation", "")
        workbook.properties.keywords = f"date_situation={metadata.get('date_situation', '')}"
    for name, frame in sheets.items():
        _fill_sheet(workbook.create_sheet(name), frame, EMPTY_MESSAGES[name])
    with atomic_path(Path(target)) as tmp:
        workbook.save(tmp)
