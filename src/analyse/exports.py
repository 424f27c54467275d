"""Analyst exports written next to each département report (``reports/<dep>/``).

- ``couverture.gpkg``: GeoPackage with the layers ``epci``, ``communes`` and ``lieux``,
  for QGIS. Field names are French, lowercase, without spaces or accents and at most
  30 characters (see ``EPCI_FIELDS``, ``COMMUNE_FIELDS``, ``PLACE_FIELDS``); geometry is
  in EPSG:4326 (WGS 84), the CRS the prepared data already use, valid for every
  département including overseas ones. QGIS reprojects on the fly; areas are in the
  ``surface_km2`` field, computed in the département's metric CRS.
- ``couverture.xlsx``: workbook with the sheets ``Indicateurs``, ``Lacunes`` and
  ``À vérifier``: French headers (``HEADERS``), Excel number formats (shown with the
  reader's locale, so ``1 234,56`` in French), frozen header row and auto-filter.
- ``carte_interactive.html``: an interactive map (folium / Leaflet), self-contained:
  Leaflet's JavaScript and CSS (from the XStatic-Leaflet package) are inside the file,
  so polygons, tooltips and legend work with no network at all (préfecture networks
  often block CDNs). The OpenStreetMap background is an optional layer, off by default:
  ticked without a network it simply stays blank. Every value from input data is
  HTML-escaped before it reaches a tooltip.

Each file is written to a temporary file beside the target, then renamed onto it: a
failed run leaves the previous file intact.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analyse import config, schema
from analyse.atomic import atomic_path
from analyse.matching import REVIEW_COLUMNS as MATCHING_REVIEW_COLUMNS
from analyse.wording import fmt_number

if TYPE_CHECKING:
    import folium

# File names inside reports/<dep>/.
GEOPACKAGE_NAME = "couverture.gpkg"
WORKBOOK_NAME = "couverture.xlsx"
MAP_NAME = "carte_interactive.html"

# ------------------------------------------------------------------- GeoPackage fields

# QGIS (and shapefile exports made from it) cope best with short ASCII field names.
MAX_FIELD_LENGTH = 30
# Names GDAL gives a meaning to in a GeoPackage: a data column must not take them.
_RESERVED_FIELDS = {"fid", "geom", "geometry"}

# Columns of the gaps table (analyse.gaps), of the fragility index (analyse.fragility)
# and of the population far from places (analyse.distance): the same field name in
# every layer that carries them.
GAP_FIELDS = {
    "ifn": "ifn",
    "ifn_couverture_thd": "ifn_couverture_thd",
    "ifn_couverture_4g": "ifn_couverture_4g",
    "ifn_pauvrete": "ifn_pauvrete",
    "ifn_plus_65_ans": "ifn_plus_65_ans",
    "ifn_sans_diplome": "ifn_sans_diplome",
    "ifn_origine": "ifn_origine",
    "postes_manquants_cible_nationale": "postes_manquants_nat",
    "postes_manquants_cible_departementale": "postes_manquants_dep",
    "postes_manquants_cible_choisie": "postes_manquants_choisie",
    "score_priorite": "score_priorite",
    "rang_priorite": "rang_priorite",
    "population_au_dela_10km": "pop_au_dela_10km",
    "population_au_dela_20km": "pop_au_dela_20km",
    "population_au_dela_30km": "pop_au_dela_30km",
    "population_sans_distance": "pop_sans_distance",
}

# Indicators table (analyse.indicators.CSV_COLUMNS) → fields of the ``epci`` layer.
EPCI_FIELDS = {
    **GAP_FIELDS,
    "siren_epci": "siren",
    "nom_epci": "nom",
    "type_epci": "type",
    "departements": "departements",
    "nb_communes": "nb_communes",
    "population": "population",
    "population_dans_departement": "population_dans_dep",
    "postes": "postes",
    "conseillers_pour_10000_hab": "densite_10000_hab",
    "habitants_par_conseiller": "hab_par_conseiller",
    "surface_km2": "surface_km2",
    "habitants_par_km2": "hab_par_km2",
    "financement_etat_eur": "financement_etat_eur",
    "postes_departementaux_repartis": "postes_dep_repartis",
    "postes_avec_departementaux_repartis": "postes_avec_dep_repartis",
    "conseillers_pour_10000_hab_avec_departementaux_repartis": "densite_10000_hab_variante",
    **schema.gpkg_fields(),
}

# Communes of the reference (analyse.reference.COMMUNE_COLUMNS), with the nearest place
# (analyse.distance.nearest_place) → fields of the ``communes`` layer.
COMMUNE_FIELDS = {
    **GAP_FIELDS,
    "insee": "insee",
    "nom": "nom",
    "type": "type",
    "population": "population",
    "departement": "departement",
    "siren_epci": "siren_epci",
    "nom_epci": "nom_epci",
    "insee_parent": "insee_parent",
    "mairie_lon": "mairie_lon",
    "mairie_lat": "mairie_lat",
    "postes": "postes",
    "distance_m": "dist_lieu_m",
    "id_lieu": "id_lieu",
    "nom_lieu": "nom_lieu",
    "point_commune": "point_depart",
}

# Places (analyse.places: national "lieux de médiation numérique" file, or town halls)
# → fields of the ``lieux`` layer.
PLACE_FIELDS = {
    **GAP_FIELDS,
    "id": "identifiant",
    "nom": "nom",
    "commune": "commune",
    "commune_declaree": "commune_declaree",
    "code_postal": "code_postal",
    "adresse": "adresse",
    "services": "services",
    "siret": "siret",
    "pivot": "siret",
    "latitude": "latitude",
    "longitude": "longitude",
    "insee": "insee",
    "insee_commune": "insee",
    "nom_commune": "nom_commune",
    "departement": "departement",
    "siren_epci": "siren_epci",
    "nom_epci": "nom_epci",
    "postes": "postes",
    "hors_commune": "hors_commune",
    "insee_la_plus_proche": "insee_plus_proche",
    "distance_commune_la_plus_proche_m": "dist_commune_proche_m",
    "insee_commune_declaree": "insee_declaree",
    "commune_declaree_resolue_par": "declaree_resolue_par",
    "distance_commune_declaree_m": "dist_commune_declaree_m",
    "loin_de_la_commune_declaree": "loin_commune_declaree",
    "horaires": "horaires",
    "conditions_access": "conditions_acces",
    "labels_nationaux": "labels_nationaux",
    "site_web": "site_web",
    "source": "source",
    "date_maj": "date_maj",
}

# Posts proposed by the placement scenario (analyse.scenario.PROPOSAL_COLUMNS) → fields
# of the ``propositions`` layer (written only when a scenario was asked for).
PROPOSAL_FIELDS = {
    "rang": "rang",
    "insee": "insee",
    "commune": "commune",
    "siren_epci": "siren_epci",
    "nom_epci": "nom_epci",
    "population_commune": "population_commune",
    "population_nouvellement_a_moins_du_rayon": "pop_nouv_moins_rayon",
    "population_a_moins_du_rayon_cumulee": "pop_moins_rayon_cumul",
    "habitants_rapproches": "habitants_rapproches",
    "gain_moyen_km": "gain_moyen_km",
    "distance_economisee_hab_km": "dist_economisee_hab_km",
    "distance_economisee_cumulee_hab_km": "dist_econ_cumul_hab_km",
}

LAYERS = {
    "epci": EPCI_FIELDS,
    "communes": COMMUNE_FIELDS,
    "lieux": PLACE_FIELDS,
    "propositions": PROPOSAL_FIELDS,
}

# ------------------------------------------------------------------- workbook headers

_BASE = fmt_number(config.DENSITY_BASE)

SHEET_INDICATORS = "Indicateurs"
SHEET_GAPS = "Lacunes"
SHEET_REVIEW = "À vérifier"
SHEET_REJECTED_PLACES = "Lieux écartés"
SHEET_PROPOSALS = "Propositions"
SHEET_TRAJECTORY = "Trajectoire"

# Our column names → French column headers of the workbook (all sheets).
HEADERS = {
    "siren_epci": "SIREN",
    "nom_epci": "Intercommunalité",
    "type_epci": "Type",
    "departements": "Départements",
    "nb_communes": "Nombre de communes",
    "population": "Population",
    "population_dans_departement": "Population dans le département",
    "postes": "Postes",
    "conseillers_pour_10000_hab": f"Conseillers pour {_BASE} hab.",
    "habitants_par_conseiller": "Habitants par conseiller",
    "surface_km2": "Surface (km²)",
    "habitants_par_km2": "Habitants par km²",
    "financement_etat_eur": "Financement de l'État (€)",
    "postes_departementaux_repartis": "Part des postes départementaux",
    "postes_avec_departementaux_repartis": "Postes, part départementale incluse",
    "conseillers_pour_10000_hab_avec_departementaux_repartis": (
        f"Conseillers pour {_BASE} hab. (variante)"
    ),
    "ifn": "Indice de fragilité numérique",
    "ifn_couverture_thd": "IFN : couverture THD",
    "ifn_couverture_4g": "IFN : couverture 4G",
    "ifn_pauvrete": "IFN : pauvreté",
    "ifn_plus_65_ans": "IFN : plus de 65 ans",
    "ifn_sans_diplome": "IFN : sans diplôme",
    "ifn_origine": "IFN : origine",
    "postes_manquants_cible_nationale": "Postes manquants (cible nationale)",
    "postes_manquants_cible_departementale": "Postes manquants (cible départementale)",
    "postes_manquants_cible_choisie": "Postes manquants (cible choisie)",
    "score_priorite": "Score de priorité",
    "rang_priorite": "Rang de priorité",
    "population_au_dela_10km": "Population à plus de 10 km d'un lieu",
    "population_au_dela_20km": "Population à plus de 20 km d'un lieu",
    "population_au_dela_30km": "Population à plus de 30 km d'un lieu",
    "population_sans_distance": "Population sans distance calculée",
    "distance_m": "Distance au lieu le plus proche (m)",
    "id_lieu": "Identifiant du lieu",
    "nom_lieu": "Lieu le plus proche",
    "insee": "Code INSEE",
    "nom": "Nom",
    "commune": "Commune",
    "fichier": "Fichier",
    "ligne": "Ligne",
    "departement": "Département",
    "structure": "Structure (telle que publiée)",
    "type_structure": "Type de structure",
    "motif": "Motif",
    "candidats": "Meilleurs candidats",
    "id": "Identifiant",
    "commune_declaree": "Commune déclarée",
    "code_postal": "Code postal",
    "adresse": "Adresse",
    "services": "Services",
    "siret": "SIRET",
    "latitude": "Latitude (telle que lue)",
    "longitude": "Longitude (telle que lue)",
    "population_origine": "Origine de la population",
    "rang": "Rang",
    "population_commune": "Population de la commune",
    "population_nouvellement_a_moins_du_rayon": "Habitants passant à moins du rayon",
    "population_a_moins_du_rayon_cumulee": "Habitants passés à moins du rayon (cumul)",
    "habitants_rapproches": "Habitants rapprochés d'un lieu",
    "gain_moyen_km": "Gain moyen (km)",
    "distance_economisee_hab_km": "Distance économisée (habitants × km)",
    "distance_economisee_cumulee_hab_km": "Distance économisée, cumul (habitants × km)",
}
# Columns declared in analyse.schema (priority territories, trajectory, comparisons).
# Sheet-specific labels above win: « Postes » and « SIREN » are the same everywhere.
HEADERS = {**schema.headers(), **HEADERS}

# The header of an empty review sheet: the columns of analyse.matching.review_table.
REVIEW_COLUMNS = MATCHING_REVIEW_COLUMNS

EMPTY_MESSAGES = {
    SHEET_INDICATORS: "Aucune intercommunalité dans ce département.",
    SHEET_GAPS: "Aucune lacune relevée.",
    SHEET_REVIEW: "Rien à vérifier : toutes les lignes de sélection ont été rapprochées.",
    SHEET_REJECTED_PLACES: "Aucun lieu écarté pour ce département.",
    SHEET_PROPOSALS: "Aucun poste proposé : aucun n'apporterait rien (voir le rapport).",
    SHEET_TRAJECTORY: "Aucune intercommunalité dans ce département.",
}

# Excel number formats. Excel and LibreOffice show them with the reader's separators,
# so "#,##0.00" reads "1 234,56" on a French system.
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
# Columns whose figures read better with another format than their dtype suggests.
NUMBER_FORMATS = {
    "habitants_par_conseiller": INTEGER_FORMAT,  # float only because of empty cells
    "surface_km2": "#,##0.0",
    "habitants_par_km2": "#,##0.0",
    "score_priorite": "0.0",
    "rang_priorite": "0",
    "ligne": "0",  # a line number, not a quantity
    "distance_m": INTEGER_FORMAT,  # metres: decimals would be false precision
    "rang": "0",
    "gain_moyen_km": "#,##0.0",
    "distance_economisee_hab_km": INTEGER_FORMAT,
    "distance_economisee_cumulee_hab_km": INTEGER_FORMAT,
    **schema.number_formats(),
}
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
_MIN_WIDTH, _MAX_WIDTH = 8, 60

# ------------------------------------------------------------------- interactive map

PLACE_COLOUR = "#d95f02"
# Tooltip fields: (column, French label); optional ones are shown when present.
EPCI_TOOLTIP = [
    ("nom_epci", "Intercommunalité"),
    ("population", "Population"),
    ("postes", "Postes"),
    ("conseillers_pour_10000_hab", f"Conseillers pour {_BASE} hab."),
    ("ifn", "Indice de fragilité numérique"),
    ("population_au_dela_20km", "Population à plus de 20 km d'un lieu"),
    ("postes_manquants_cible_nationale", "Postes manquants (cible nationale)"),
    ("rang_priorite", "Rang de priorité"),
]
PLACE_TOOLTIP = [
    ("nom", "Lieu"),
    ("adresse", "Adresse"),
    ("code_postal", "Code postal"),
    ("commune", "Commune"),
    ("commune_declaree", "Commune déclarée"),
    ("nom_commune", "Commune (position)"),
    ("nom_epci", "Intercommunalité"),
    ("postes", "Postes"),
]
_TOOLTIP_DECIMALS = {"conseillers_pour_10000_hab": 2, "ifn": 1}


# =========================================================================== helpers


def sanitise_field_name(name: object) -> str:
    """A GeoPackage field name: ASCII lowercase, ``_`` for the rest, ≤ 30 characters."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "champ"
    if text[0].isdigit():
        text = f"c_{text}"
    return text[:MAX_FIELD_LENGTH].rstrip("_")


def field_names(columns: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Column → field name: ``mapping`` first, else sanitised; unique, never reserved."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        base = mapping.get(column) or sanitise_field_name(column)
        name, n = base, 1
        while name in taken or name in _RESERVED_FIELDS:
            n += 1
            suffix = f"_{n}"
            name = base[: MAX_FIELD_LENGTH - len(suffix)] + suffix
        taken.add(name)
        result[column] = name
    return result


def _is_container(value: object) -> bool:
    return isinstance(value, list | tuple | set | frozenset | dict | np.ndarray)


def _container_text(value: object) -> object:
    """Lists become ``a, b, c`` and dicts JSON: a GeoPackage field holds one value."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, np.ndarray | list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return value


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a file format can hold: containers as text, categories and periods as text."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype | pd.PeriodDtype):
            frame[column] = values.astype(str).where(values.notna(), None)
        elif values.dtype == object and values.map(_is_container).any():
            frame[column] = values.map(_container_text)
    return frame


def _to_wgs84(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError(f"La couche « {what} » n'a pas de système de coordonnées (CRS).")
    return frame.to_crs(config.GEOGRAPHIC_CRS)


def _layer(frame: gpd.GeoDataFrame, mapping: Mapping[str, str], what: str) -> gpd.GeoDataFrame:
    """One GeoPackage layer: one geometry column, plain fields with QGIS-friendly names."""
    frame = _to_wgs84(frame, what)
    geometry = frame.geometry.name
    # Only the active geometry can be written: other geometry columns are dropped.
    extra_geometries = [c for c in frame.columns if c != geometry and frame[c].dtype == "geometry"]
    data = _plain_columns(pd.DataFrame(frame.drop(columns=[geometry, *extra_geometries])))
    data = data.rename(columns=field_names([str(c) for c in data.columns], mapping))
    return gpd.GeoDataFrame(
        data.reset_index(drop=True),
        geometry=frame.geometry.reset_index(drop=True).rename("geometry"),
        crs=frame.crs,
    )


# ======================================================================= GeoPackage


def write_geopackage(
    target: Path,
    epci: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    proposals: gpd.GeoDataFrame | None = None,
) -> None:
    """``couverture.gpkg``: layers ``epci``, ``communes`` and ``lieux`` in EPSG:4326,
    and ``propositions`` (posts proposed by the placement scenario) when given."""
    layers = {
        "epci": _layer(epci, EPCI_FIELDS, "epci"),
        "communes": _layer(communes, COMMUNE_FIELDS, "communes"),
        "lieux": _layer(places, PLACE_FIELDS, "lieux"),
    }
    if proposals is not None:
        layers["propositions"] = _layer(proposals, PROPOSAL_FIELDS, "propositions")
    with atomic_path(Path(target)) as tmp:
        # GDAL creates the GeoPackage itself: it cannot open the empty placeholder.
        tmp.unlink()
        try:
            for name, layer in layers.items():
                layer.to_file(tmp, driver="GPKG", layer=name, engine="pyogrio", index=False)
        finally:
            # SQLite side files, should GDAL fail with the database open.
            for suffix in ("-journal", "-wal", "-shm"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)


# ========================================================================= workbook


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
    if _is_container(value):
        value = _container_text(value)
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
        sheets[SHEET_PROPOSALS] = _sheet_frame(proposals, list(PROPOSAL_FIELDS))
    if trajectory is not None:
        # Posts and density of each EPCI at the end of each month (analyse.trajectory).
        columns = [c.name for c in schema.TRAJECTORY_COLUMNS]
        sheets[SHEET_TRAJECTORY] = _sheet_frame(trajectory, columns)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in sheets.items():
        _fill_sheet(workbook.create_sheet(name), frame, EMPTY_MESSAGES[name])
    with atomic_path(Path(target)) as tmp:
        workbook.save(tmp)


# ================================================================== interactive map

# Tooltip columns shown as figures (French format); any other column is text.
_TOOLTIP_NUMBERS = {
    "population": 0,
    "postes": 0,
    "conseillers_pour_10000_hab": 2,
    "ifn": 1,
    "population_au_dela_20km": 0,
    "postes_manquants_cible_nationale": 0,
    "rang_priorite": 0,
}


def _html_text(value: object) -> str:
    """Text for an HTML page, escaped; braces too, as folium renders elements with Jinja."""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _tooltip_value(column: str, value: object) -> str:
    """One tooltip value: figures the French way, text HTML-escaped (tooltips are HTML)."""
    value = _container_text(value) if _is_container(value) else value
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, float | np.floating) and math.isnan(value):
        return "–"
    if column in _TOOLTIP_NUMBERS and isinstance(value, int | float | np.number):
        return fmt_number(float(value), _TOOLTIP_NUMBERS[column])
    return _html_text(value)


def _tooltip_layer(
    frame: gpd.GeoDataFrame, spec: list[tuple[str, str]], what: str, keep: Sequence[str] = ()
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Geometry, the escaped tooltip columns and our own ``keep`` columns: nothing else
    from the input reaches the page."""
    frame = _to_wgs84(frame, what).reset_index(drop=True)
    frame = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty].reset_index(drop=True)
    shown = [(column, label) for column, label in spec if column in frame.columns]
    data = {column: [_tooltip_value(column, v) for v in frame[column]] for column, _ in shown}
    data.update({column: frame[column].to_numpy() for column in keep})
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.to_numpy(), crs=frame.crs)
    return out, [column for column, _ in shown], [label for _, label in shown]


def _tooltip(fields: list[str], labels: list[str]) -> folium.GeoJsonTooltip | None:
    import folium

    return folium.GeoJsonTooltip(fields=fields, aliases=labels) if fields else None


def _legend_html(labels: list[str], colours: list[str], show_places: bool) -> str:
    items = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
        f'vertical-align:middle;background:{colour};border:1px solid #777"></span>'
        f"{_html_text(label)}</div>"
        for label, colour in zip(labels, colours, strict=True)
    )
    if show_places:
        items += (
            '<div style="margin-top:4px"><span style="display:inline-block;width:12px;'
            f"height:12px;margin:0 7px 0 1px;border-radius:50%;background:{PLACE_COLOUR};"
            'vertical-align:middle"></span>Lieu</div>'
        )
    return (
        '<div style="position:fixed;bottom:24px;right:12px;z-index:1000;background:#fff;'
        "padding:8px 10px;border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.3);"
        'font:13px/1.5 sans-serif">'
        f"<strong>{_html_text(f'Conseillers pour {_BASE} hab.')}</strong>{items}</div>"
    )


BACKGROUND_LAYER = "Fond OpenStreetMap (demande une connexion)"


def _inline_leaflet(fmap: folium.Map) -> None:
    """Put Leaflet's JavaScript and CSS inside the page instead of CDN links.

    folium 0.20 draws with Leaflet 1.9.3, the version XStatic-Leaflet ships (BSD-2, its
    copyright header kept). jQuery, Bootstrap and the awesome-markers plugins that folium
    links by default serve only markers and popups this map does not use.
    """
    import base64

    import folium
    from xstatic.pkg import leaflet

    folder = Path(leaflet.BASE_DIR)
    script = (folder / "leaflet.js").read_text(encoding="utf-8")
    # A source map would be fetched by the developer tools: there is none to fetch.
    script = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", script)
    style = re.sub(
        r"url\(images/([\w-]+\.png)\)",
        lambda m: (
            "url(data:image/png;base64,"
            + base64.b64encode((folder / "images" / m.group(1)).read_bytes()).decode("ascii")
            + ")"
        ),
        (folder / "leaflet.css").read_text(encoding="utf-8"),
    )
    fmap.default_js, fmap.default_css = [], []
    header = fmap.get_root().header
    for name, template, code in (
        ("leaflet_css", "<style>{{ this.code }}</style>", style),
        ("leaflet_js", "<script>{{ this.code }}</script>", script),
    ):
        # The code goes in as a value, not as the template: Jinja must not read it.
        element = folium.Element(template)
        element.code = code
        header.add_child(element, name=name)


def write_interactive_map(
    target: Path,
    epci: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    title: str,
) -> None:
    """``carte_interactive.html``: EPCI coloured by density, places as markers, tooltips."""
    # folium directly rather than GeoDataFrame.explore(): explore() imports mapclassify
    # (and through it scikit-learn), which the project does without. Imported here:
    # only this export needs folium.
    import folium

    from analyse.maps import CLASS_COLOURS, NO_POST_COLOUR, density_classes

    density = epci.get("conseillers_pour_10000_hab", pd.Series(np.nan, index=epci.index))
    classes, class_labels = density_classes(density)
    epci = epci.assign(couleur=[NO_POST_COLOUR if c < 0 else CLASS_COLOURS[c] for c in classes])
    polygons, epci_fields, epci_labels = _tooltip_layer(epci, EPCI_TOOLTIP, "epci", ["couleur"])
    points, place_fields, place_labels = _tooltip_layer(places, PLACE_TOOLTIP, "lieux")

    fmap = folium.Map(location=[46.6, 2.5], zoom_start=6, control_scale=True, tiles=None)
    _inline_leaflet(fmap)
    # Off by default: nothing leaves the machine unless the reader asks for the background.
    folium.TileLayer(
        "OpenStreetMap", name=BACKGROUND_LAYER, overlay=True, control=True, show=False
    ).add_to(fmap)
    if len(polygons):
        folium.GeoJson(
            polygons.__geo_interface__,
            name="Intercommunalités",
            style_function=lambda feature: {
                "fillColor": feature["properties"]["couleur"],
                "color": "#555555",
                "weight": 1,
                "fillOpacity": 0.7,
            },
            highlight_function=lambda feature: {"weight": 3, "fillOpacity": 0.85},
            tooltip=_tooltip(epci_fields, epci_labels),
        ).add_to(fmap)
    if len(points):
        folium.GeoJson(
            points.__geo_interface__,
            name="Lieux",
            marker=folium.CircleMarker(
                radius=6,
                color="#7f2704",
                weight=1,
                fill=True,
                fill_color=PLACE_COLOUR,
                fill_opacity=0.9,
            ),
            tooltip=_tooltip(place_fields, place_labels),
        ).add_to(fmap)
    # Framed on the territory: a place with wrong coordinates must not zoom the map out.
    bounds = (polygons if len(polygons) else points).total_bounds
    if np.isfinite(bounds).all():
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    folium.LayerControl(collapsed=False).add_to(fmap)

    root = fmap.get_root()
    root.title = _html_text(title)
    root.html.add_child(
        folium.Element(
            '<div style="position:fixed;top:10px;left:60px;right:230px;z-index:1000;'
            "background:rgba(255,255,255,.9);padding:6px 12px;border-radius:4px;"
            'box-shadow:0 0 6px rgba(0,0,0,.3);font:bold 16px/1.3 sans-serif">'
            f"{_html_text(title)}</div>"
        )
    )
    root.html.add_child(
        folium.Element(
            _legend_html(
                ["Aucun conseiller", *class_labels],
                [NO_POST_COLOUR, *CLASS_COLOURS],
                show_places=bool(len(points)),
            )
        )
    )
    with atomic_path(Path(target)) as tmp:
        fmap.save(str(tmp))
