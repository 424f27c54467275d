"""``couverture.gpkg``: GeoPackage with the layers ``epci``, ``communes``, ``lieux``
(and ``propositions``), for QGIS. Field names are French, lowercase, without spaces or
accents and at most 30 characters; geometry in EPSG:4326 (WGS 84), valid for every
département including overseas ones (areas are in ``surface_km2``, computed in the
département's metric CRS). Written beside the target, then renamed onto it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from analyse import schema
from analyse.atomic import atomic_path
from analyse.exports.common import container_text, is_container, to_wgs84

if TYPE_CHECKING:
    pass

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


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a file format can hold: containers as text, categories and periods as text."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype | pd.PeriodDtype):
            frame[column] = values.astype(str).where(values.notna(), None)
        elif values.dtype == object and values.map(is_container).any():
            frame[column] = values.map(container_text)
    return frame


def _layer(frame: gpd.GeoDataFrame, mapping: Mapping[str, str], what: str) -> gpd.GeoDataFrame:
    """One GeoPackage layer: one geometry column, plain fields with QGIS-friendly names."""
    frame = to_wgs84(frame, what)
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
