"""Frictionless data packages (``datapackage.json``): what a CSV holds, column by column.

Each field's type comes from the values written (a code is text: ``siren_epci``,
``departements`` keep their leading zeros), its French title, description, unit and
pattern from the column registry (``analyse.schema``). The panel's package
(``exports.panel``) and each report's (``indicateurs_epci.csv``, ``exports.catalog``)
are written with these functions; ``frictionless validate`` checks them.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analyse import schema

LICENCE = {
    "name": "etalab-2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "title": "Licence Ouverte / Open Licence version 2.0",
}
KEYWORDS = ["conseillers numériques", "France Services", "EPCI", "inclusion numérique"]


def field_type(values: pd.Series) -> str:
    """The Table Schema type of a column, from its values."""
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "integer"
    if pd.api.types.is_float_dtype(values):
        return "number"
    return "string"


def table_schema(
    frame: pd.DataFrame,
    columns: Iterable[schema.Column],
    primary: list[str],
    foreign: list[dict] | None = None,
) -> dict:
    """The Table Schema of ``frame`` as written to CSV, its ``columns`` described by the
    registry; ``primary``: the key, each of its fields required."""
    fields = []
    for column in columns:
        described = {
            "name": column.name,
            "type": column.table_type or field_type(frame[column.name]),
            "title": column.label,
        }
        if column.description:
            described["description"] = column.description
        if column.unit:
            described["unit"] = column.unit
        if column.name in primary:
            described["constraints"] = {"required": True}
        if column.pattern:
            described["format"] = "default"
            described.setdefault("constraints", {})["pattern"] = column.pattern
        fields.append(described)
    out = {"fields": fields, "primaryKey": primary, "missingValues": [""]}
    if foreign:
        out["foreignKeys"] = foreign
    return out


def csv_resource(name: str, title: str, description: str, table: dict) -> dict:
    """The resource of the CSV file ``<name>.csv`` (UTF-8, ``,``, header), beside the
    package."""
    return {
        "name": name,
        "path": f"{name}.csv",
        "profile": "tabular-data-resource",
        "title": title,
        "description": description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "header": True},
        "schema": table,
    }


def sources(editions: Iterable[str], files: Iterable[dict]) -> list[dict]:
    """The data used: each edition in words, then each file read and its checksum."""
    out = [{"title": phrase} for phrase in editions if phrase]
    out += [{"title": f"{file['fichier']} (sha256 {file['sha256']})"} for file in files]
    return out
