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

import geopandas as gpd
import pandas as pd

from analyse import schema
from analyse.atomic import atomic_path
from analyse.render.exports.common import container_text, is_container, to_wgs84

# ------------------------------------------------------------------- GeoPackage fields

# QGIS (and shapefile exports made from it) cope best with short ASCII field names.
MAX_FIELD_LENGTH = 30
# Names GDAL gives a meaning to in a GeoPackage: a data column must not take them.
_RESERVED_FIELDS = {"fid", "geom", "geometry"}

# GeoPackage 1.2: GDAL 3.6 (Debian 12, and the QGIS built on it) warns that the 1.4 files
# newer GDAL write « may only be partially supported ».
GPKG_VERSION = "1.2"
GPKG_USER_VERSION = 10200  # what a GeoPackage 1.2 holds in SQLite's user_version


def write_layers(
    target: Path, layers: Mapping[str, gpd.GeoDataFrame], metadata: Mapping | None = None
) -> None:
    """Write ``layers`` into the GeoPackage ``target`` (version ``GPKG_VERSION``), beside
    it first and then renamed onto it; ``metadata`` (the date described…) goes to every
    layer."""
    # Layer metadata only: GDAL (3.12) copies a GeoPackage's *dataset* metadata into a
    # « .aux.xml » file beside it whenever a reader opens it, QGIS included.
    layer_options = {"layer_metadata": dict(metadata)} if metadata else {}
    with atomic_path(Path(target)) as tmp:
        # GDAL creates the GeoPackage itself: it cannot open the empty placeholder.
        tmp.unlink()
        try:
            for name, layer in layers.items():
                options = dict(layer_options)
                if not tmp.exists():
                    options["dataset_options"] = {"VERSION": GPKG_VERSION}
                layer.to_file(
                    tmp, driver="GPKG", layer=name, engine="pyogrio", index=False, **options
                )
        finally:
            # SQLite side files, should GDAL fail with the database open.
            for suffix in ("-journal", "-wal", "-shm"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)


# Layer → (column → field name): declared in analyse.schema.
LAYERS = {name: layer.fields() for name, layer in schema.LAYERS.items()}


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
    metadata: Mapping[str, str] | None = None,
) -> None:
    """``couverture.gpkg``: layers ``epci``, ``communes`` and ``lieux`` in EPSG:4326,
    and ``propositions`` (posts proposed by the placement scenario) when given.
    ``metadata`` (the date the figures describe…) is written as the metadata of each
    layer (GDAL metadata, shown by QGIS)."""
    frames = {"epci": epci, "communes": communes, "lieux": places, "propositions": proposals}
    layers = {
        name: _layer(frame, LAYERS[name], name)
        for name, frame in frames.items()
        if frame is not None
    }
    write_layers(target, layers, metadata)
