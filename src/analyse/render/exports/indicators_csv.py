"""``indicateurs_epci.csv``: the indicators of each EPCI for spreadsheets and scripts, and
its ``datapackage.json`` (what each column holds, for pandas and data portals)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analyse import config, schema
from analyse.analysis.bundle import situation_day
from analyse.analysis.indicators import to_csv_frame
from analyse.atomic import atomic_path, write_text
from analyse.render.exports import datapackage as datapackages


def indicators_table(indicators: gpd.GeoDataFrame, situation: dict | None = None) -> pd.DataFrame:
    """The CSV's rows: the date described (``date_situation``), then the indicators."""
    frame = to_csv_frame(indicators)
    frame.insert(0, "date_situation", situation_day(situation))
    return frame


def write_indicators_csv(
    indicators: gpd.GeoDataFrame, target: Path, situation: dict | None = None
) -> None:
    """UTF-8, ``,`` separator, ``.`` decimals; its first column, ``date_situation``, is
    the date the figures describe (``analysis.bundle.situation_day``)."""
    frame = indicators_table(indicators, situation)
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")


def indicators_datapackage(indicators: gpd.GeoDataFrame, context: dict, title: str) -> dict:
    """The data package of a report's folder: its CSV, column by column (Frictionless
    Data Package v1)."""
    frame = indicators_table(indicators, context.get("situation"))
    name = Path(config.CSV_NAME).stem
    table = datapackages.table_schema(frame, schema.columns(frame.columns), ["siren_epci"])
    day = situation_day(context.get("situation"))
    code = str(context.get("departement", ""))
    resource = datapackages.csv_resource(
        name,
        "Indicateurs des intercommunalités",
        "Une ligne par intercommunalité à fiscalité propre ayant au moins une commune dans "
        f"le département {code} : postes, densité, financement, territoires prioritaires, "
        "trajectoire et comparaisons, à la date de la situation.",
        table,
    )
    files = [*context.get("fichiers_selection", []), *context.get("fichiers_complementaires", [])]
    package = {
        "profile": "tabular-data-package",
        "name": f"conseillers-numeriques-{code.lower()}",
        "title": title,
        "description": (
            "Fichier des analystes joint au rapport départemental sur les conseillers "
            "numériques France Services (analyse rapport)."
        ),
        "version": str(context.get("version", "")),
        "created": context.get("genere_le", ""),
        "licenses": [datapackages.LICENCE],
        "sources": datapackages.sources(
            [*context.get("editions", []), context.get("edition_reference", "")],
            [f for f in files if isinstance(f, dict) and "fichier" in f and "sha256" in f],
        ),
        "keywords": datapackages.KEYWORDS,
        "resources": [resource],
    }
    if day:
        package["temporal"] = {"start": day, "end": day}
    return package


def write_indicators_datapackage(
    indicators: gpd.GeoDataFrame, target: Path, context: dict, title: str
) -> None:
    """``datapackage.json`` beside ``indicateurs_epci.csv`` (``indicators_datapackage``)."""
    package = indicators_datapackage(indicators, context, title)
    write_text(target, json.dumps(package, ensure_ascii=False, indent=1) + "\n")
