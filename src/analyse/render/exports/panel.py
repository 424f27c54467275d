"""The panel's files (``analyse panel``), for pandas, QGIS and data portals.

- ``panel_epci.parquet`` / ``.csv``: one row per (EPCI, month);
- ``panel_departements.parquet`` / ``.csv``: one row per (département, month);
- ``epci.csv``: one row per EPCI (identity), ``epci.parquet`` (GeoParquet) and
  ``epci.gpkg`` (GeoPackage 1.2) its outline, once, not repeated per month;
- ``datapackage.json``: a Frictionless data package describing them, with a Table
  Schema per table (types, French titles and descriptions from ``analyse.schema``,
  units, primary and foreign keys, licence and sources);
- ``panel_carte.gpkg``: the map QGIS plays month after month: one feature per (EPCI,
  month) and per (département, month), with the month's last day as a date, the latest
  month apart, outlines simplified for display and each layer styled with the report's
  density classes and colours (``geopackage.write_time_layers``).

CSV files are UTF-8 with ``,`` between fields and ``.`` for decimals, rounded as the
reports' CSV (``schema.csv_decimals``). Every file is written beside its target, then
renamed onto it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from analyse import config, schema
from analyse.analysis.indicators import round_for_csv
from analyse.atomic import atomic_path, write_text
from analyse.render.exports import datapackage as datapackages
from analyse.render.exports.geopackage import (
    EVERY_MONTH,
    LATEST_MONTH,
    TimeLayer,
    density_style,
    field_names,
    simplified_outlines,
    write_layers,
    write_time_layers,
)
from analyse.territory.reference import Reference

if TYPE_CHECKING:  # types only: rendering neither prepares nor reads inputs
    from analyse.analysis.inputs import Extras
    from analyse.analysis.panel import Panel
    from analyse.analysis.pipeline import MatchedSelections

EPCI_ROWS = "panel_epci"
DEPARTEMENT_ROWS = "panel_departements"
EPCI_IDENTITY = "epci"
DATAPACKAGE = config.DATAPACKAGE_NAME

# The map for QGIS: its layers, their date field (the month's last day) and how much the
# outlines are simplified for display (metres).
MAP_FILE = "panel_carte.gpkg"
DATE_FIELD = "date_fin_mois"
SIMPLIFY_TOLERANCE_M = 100
EPCI_MONTHS, EPCI_LATEST = EVERY_MONTH.format("epci"), LATEST_MONTH.format("epci")
DEPARTEMENT_MONTHS = EVERY_MONTH.format("departements")
DEPARTEMENT_LATEST = LATEST_MONTH.format("departements")

# Resource → (columns, primary key, foreign keys, title, description).
_RESOURCES = {
    EPCI_ROWS: (
        schema.PANEL_EPCI_COLUMNS,
        ["siren_epci", "mois"],
        [
            {
                "fields": "siren_epci",
                "reference": {"resource": EPCI_IDENTITY, "fields": "siren_epci"},
            }
        ],
        "Intercommunalités, mois par mois",
        "Une ligne par intercommunalité à fiscalité propre et par fin de mois, depuis les "
        "premiers comités (mars 2021) jusqu'au dernier mois de la liste nationale.",
    ),
    DEPARTEMENT_ROWS: (
        schema.PANEL_DEPARTEMENT_COLUMNS,
        ["departement", "mois"],
        [],
        "Départements, mois par mois",
        "Une ligne par département (et collectivité d'outre-mer de la liste) et par fin "
        "de mois : les chiffres de l'index mensuel et le rapprochement de ses postes.",
    ),
    EPCI_IDENTITY: (
        schema.PANEL_GEOMETRY_COLUMNS,
        ["siren_epci"],
        [],
        "Intercommunalités",
        "Une ligne par intercommunalité : identité ; son contour est dans epci.parquet "
        "(GeoParquet) et epci.gpkg (GeoPackage), en WGS 84.",
    ),
}


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` rounded as the reports' CSV (``indicators.round_for_csv``)."""
    return round_for_csv(frame)


def table_schema(frame: pd.DataFrame, resource: str) -> dict:
    """The Table Schema of one of the panel's CSV files, from ``analyse.schema``."""
    columns, primary, foreign, _, _ = _RESOURCES[resource]
    return datapackages.table_schema(frame, columns, primary, foreign)


def _sources(selections: MatchedSelections, reference: Reference, extras: Extras | None) -> list:
    editions = [*selections.editions, f"Référentiel territorial : {reference.edition}"]
    if extras is not None:
        editions += extras.editions
    files = [*selections.files, *(extras.sources if extras else [])]
    return datapackages.sources(editions, files)


def datapackage(
    tables: dict[str, pd.DataFrame],
    panel: Panel,
    selections: MatchedSelections,
    reference: Reference,
    extras: Extras | None,
) -> dict:
    """The ``datapackage.json`` of the panel (Frictionless Data Package v1)."""
    from analyse.analysis.bundle import provenance

    resources = []
    for name, frame in tables.items():
        _, _, _, title, description = _RESOURCES[name]
        resources.append(
            datapackages.csv_resource(name, title, description, table_schema(frame, name))
        )
    first, last = (panel.months[0], panel.months[-1]) if panel.months else ("", "")
    made = provenance()
    return {
        "profile": "tabular-data-package",
        "name": "conseillers-numeriques-panel",
        "title": "Conseillers numériques France Services : panel des intercommunalités",
        "description": (
            f"Postes, densité, financement, territoires prioritaires, éloignement et "
            f"comparaisons de chaque intercommunalité et de chaque département de France, à "
            f"la fin de chaque mois de {first} à {last}, avec les définitions des rapports "
            "départementaux (analyse panel)."
        ),
        "version": str(made.get("version", "")),
        "created": made["genere_le"],
        "temporal": {"start": first, "end": last},
        "licenses": [datapackages.LICENCE],
        "sources": _sources(selections, reference, extras),
        "keywords": datapackages.KEYWORDS,
        "resources": resources,
    }


def _month_rows(frame: pd.DataFrame, columns: list[schema.Column]) -> pd.DataFrame:
    """The rows of a map layer: GeoPackage field names (``analyse.schema``) and, after
    the month, its last day as a date."""
    import pyarrow as pa

    names = schema.names(columns)
    rows = frame[names].rename(columns=field_names(names, {c.name: c.field for c in columns}))
    ends = pd.PeriodIndex(frame["mois"], freq="M").end_time.date
    rows.insert(1, DATE_FIELD, pd.array(ends, dtype=pd.ArrowDtype(pa.date32())))
    return rows.reset_index(drop=True)


def write_panel_map(target: Path, panel: Panel) -> None:
    """``panel_carte.gpkg``: EPCI and départements at every month-end, for QGIS."""
    epci = panel.geometry[["siren_epci", "nom_epci", "geometry"]].copy()
    epci["geometry"] = simplified_outlines(
        epci.geometry,
        panel.geometry["departements"].map(config.epci_metric_crs),
        SIMPLIFY_TOLERANCE_M,
    )
    layers = [
        TimeLayer(
            "epci",
            "siren_epci",
            epci,
            _month_rows(panel.epci, schema.PANEL_EPCI_COLUMNS),
            description="Intercommunalités à la fin de chaque mois",
        )
    ]
    if panel.departement_geometry is not None and len(panel.departements):
        shapes = panel.departement_geometry.rename(columns={"code": "departement"})
        shapes = shapes.to_crs(config.GEOGRAPHIC_CRS)
        shapes["geometry"] = simplified_outlines(
            shapes.geometry, shapes["departement"].map(config.metric_crs), SIMPLIFY_TOLERANCE_M
        )
        layers.append(
            TimeLayer(
                "departements",
                "departement",
                shapes,
                _month_rows(panel.departements, schema.PANEL_DEPARTEMENT_COLUMNS),
                description="Départements à la fin de chaque mois",
            )
        )
    density = schema.ALL["conseillers_pour_10000_hab"].field
    styles = {}
    for layer in layers:
        styles[layer.every_month] = (
            density_style(density, DATE_FIELD),
            f"Conseillers pour 10 000 habitants, classes du rapport ; temporel : {DATE_FIELD}",
        )
        styles[layer.latest] = (
            density_style(density),
            "Conseillers pour 10 000 habitants, classes du rapport",
        )
    write_time_layers(target, layers, styles)


def write_panel(
    folder: Path,
    panel: Panel,
    selections: MatchedSelections,
    reference: Reference,
    extras: Extras | None = None,
) -> dict[str, Path]:
    """Write the panel's files into ``folder``; returns them by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    identity = pd.DataFrame(panel.geometry[schema.names(schema.PANEL_GEOMETRY_COLUMNS)])
    tables = {
        EPCI_ROWS: panel.epci,
        DEPARTEMENT_ROWS: panel.departements,
        EPCI_IDENTITY: identity,
    }
    written: dict[str, Path] = {}
    for name, frame in tables.items():
        for suffix, write in (
            (".parquet", lambda f, p: f.to_parquet(p, index=False)),
            (".csv", lambda f, p: csv_frame(f).to_csv(p, index=False, encoding="utf-8")),
        ):
            if name == EPCI_IDENTITY and suffix == ".parquet":
                continue  # the GeoParquet below
            target = folder / f"{name}{suffix}"
            with atomic_path(target) as tmp:
                write(frame, tmp)
            written[f"{name}{suffix}"] = target
    outlines: gpd.GeoDataFrame = panel.geometry
    target = folder / f"{EPCI_IDENTITY}.parquet"
    with atomic_path(target) as tmp:
        outlines.to_parquet(tmp, index=False)
    written[target.name] = target
    target = folder / f"{EPCI_IDENTITY}.gpkg"
    write_layers(target, {EPCI_IDENTITY: outlines})
    written[target.name] = target
    target = folder / MAP_FILE
    write_panel_map(target, panel)
    written[target.name] = target
    package = datapackage(tables, panel, selections, reference, extras)
    target = folder / DATAPACKAGE
    write_text(target, json.dumps(package, ensure_ascii=False, indent=1) + "\n")
    written[DATAPACKAGE] = target
    return written
