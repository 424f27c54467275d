"""Analyst exports written next to each département report (``reports/<dep>/``): one
module per file written, each declared in ``catalog.EXPORTS`` (name, file, writer).

- ``indicators_csv``: ``indicateurs_epci.csv``;
- ``geopackage``: ``couverture.gpkg`` for QGIS;
- ``workbook``: ``couverture.xlsx`` for spreadsheets;
- ``interactive_map``: ``carte_interactive.html``, readable offline.

Each file is written to a temporary file beside the target, then renamed onto it: a
failed run leaves the previous file intact. File names live in ``config``.
"""

from analyse.config import GEOPACKAGE_NAME, MAP_NAME, WORKBOOK_NAME
from analyse.render.exports.catalog import (
    EXPORTS,
    Export,
    export_paths,
    situation_metadata,
    write_exports,
)
from analyse.render.exports.geopackage import (
    LAYERS,
    field_names,
    sanitise_field_name,
    write_geopackage,
)
from analyse.render.exports.indicators_csv import write_indicators_csv
from analyse.render.exports.interactive_map import write_interactive_map
from analyse.render.exports.workbook import (
    EMPTY_MESSAGES,
    HEADERS,
    REVIEW_COLUMNS,
    SHEET_GAPS,
    SHEET_INDICATORS,
    SHEET_PROPOSALS,
    SHEET_REJECTED_PLACES,
    SHEET_REVIEW,
    SHEET_TRAJECTORY,
    write_workbook,
)

__all__ = [
    "EMPTY_MESSAGES",
    "EXPORTS",
    "Export",
    "GEOPACKAGE_NAME",
    "HEADERS",
    "LAYERS",
    "MAP_NAME",
    "REVIEW_COLUMNS",
    "SHEET_GAPS",
    "SHEET_INDICATORS",
    "SHEET_PROPOSALS",
    "SHEET_REJECTED_PLACES",
    "SHEET_REVIEW",
    "SHEET_TRAJECTORY",
    "WORKBOOK_NAME",
    "export_paths",
    "field_names",
    "sanitise_field_name",
    "situation_metadata",
    "write_exports",
    "write_geopackage",
    "write_indicators_csv",
    "write_interactive_map",
    "write_workbook",
]
