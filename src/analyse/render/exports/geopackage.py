"""``couverture.gpkg``: GeoPackage with the layers ``epci``, ``communes``, ``lieux``
(and ``propositions``), for QGIS. Field names are French, lowercase, without spaces or
accents and at most 30 characters; geometry in EPSG:4326 (WGS 84), valid for every
département including overseas ones (areas are in ``surface_km2``, computed in the
département's metric CRS). Written beside the target, then renamed onto it.

Layers of one feature per (territory, month) (``TimeLayer``, the panel's map) are views:
each outline is stored once and joined to its monthly rows, so that 26 months of 1 253
EPCI weigh what one month does; QGIS and GDAL read a view registered in
``gpkg_contents`` as any other layer. Each may carry a QGIS style (``layer_styles``,
the table QGIS itself writes), applied when the layer is opened.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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
    target: Path,
    layers: Mapping[str, pd.DataFrame],
    metadata: Mapping | None = None,
    finish: Callable[[sqlite3.Connection], None] | None = None,
) -> None:
    """Write ``layers`` into the GeoPackage ``target`` (version ``GPKG_VERSION``), beside
    it first and then renamed onto it; ``metadata`` (the date described…) goes to every
    layer. A layer without geometry (a DataFrame) is an attributes table; dates
    (``pd.ArrowDtype(pa.date32())``) are written as GeoPackage dates. ``finish`` is
    given the database to complete (views, styles) before it is renamed into place."""
    import pyogrio

    # Layer metadata only: GDAL (3.12) copies a GeoPackage's *dataset* metadata into a
    # « .aux.xml » file beside it whenever a reader opens it, QGIS included.
    layer_options = {"layer_metadata": dict(metadata)} if metadata else {}
    with atomic_path(Path(target)) as tmp:
        # GDAL creates the GeoPackage itself: it cannot open the empty placeholder.
        tmp.unlink()
        try:
            _write_all(tmp, layers, layer_options, finish)
        except (
            pyogrio.errors.DataSourceError,
            pyogrio.errors.DataLayerError,
            sqlite3.Error,
        ) as error:
            # GDAL and SQLite say « Failed to commit transaction » or « database or disk is
            # full » on a full disk: said as one, naming the file.
            said = str(error).lower()
            if "disk is full" in said or "no space left" in said or not _room_left(tmp):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target)) from error
            raise
        finally:
            # SQLite side files, should GDAL fail with the database open.
            for suffix in ("-journal", "-wal", "-shm"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def _room_left(path: Path, needed: int = 1 << 20) -> bool:
    """Whether the file system of ``path`` has at least ``needed`` bytes free."""
    try:
        return shutil.disk_usage(Path(path).parent).free >= needed
    except OSError:
        return True


def _write_all(
    tmp: Path,
    layers: Mapping[str, pd.DataFrame],
    layer_options: dict,
    finish: Callable[[sqlite3.Connection], None] | None,
) -> None:
    import pyogrio

    for name, layer in layers.items():
        options = dict(layer_options)
        if not tmp.exists():
            options["dataset_options"] = {"VERSION": GPKG_VERSION}
        # Through Arrow when the layer has dates: GDAL then makes them Date
        # fields (without, they would be text).
        if any(isinstance(t, pd.ArrowDtype) for t in layer.dtypes):
            options["use_arrow"] = True
        if isinstance(layer, gpd.GeoDataFrame):
            layer.to_file(tmp, driver="GPKG", layer=name, engine="pyogrio", index=False, **options)
        else:
            pyogrio.write_dataframe(
                layer.reset_index(drop=True), tmp, layer=name, driver="GPKG", **options
            )
    if finish is not None:
        db = sqlite3.connect(tmp)
        try:
            with db:  # one transaction, committed whole
                finish(db)
        finally:
            db.close()


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


# ============================================================= layers in time (panel)

# The two views of a ``TimeLayer`` and its two tables, named after it.
EVERY_MONTH = "{}_par_mois"
LATEST_MONTH = "{}_dernier_mois"
OUTLINES_TABLE = "{}_contours"
ROWS_TABLE = "{}_mois"
STYLES_TABLE = "layer_styles"  # where QGIS keeps the styles of a GeoPackage's layers


def simplified_outlines(
    outlines: gpd.GeoSeries, crs_codes: pd.Series, tolerance_m: float
) -> gpd.GeoSeries:
    """``outlines`` simplified for display, in their CRS: GEOS's coverage simplification
    (a border shared by two neighbours is simplified once, the same way for both: no gap,
    no overlap), each group of ``crs_codes`` (EPSG, one per row) in that metric CRS with
    ``tolerance_m`` in metres."""
    simplified = outlines.to_numpy().copy()
    codes = np.asarray(crs_codes)
    present = outlines.notna().to_numpy() & ~outlines.is_empty.to_numpy()
    for code in pd.unique(codes[present]):
        rows = present & (codes == code)
        projected = outlines[rows].to_crs(int(code)).to_numpy()
        # A sliver a few centimetres wide may collapse in the projection: repaired
        # first, as the simplification needs valid polygons.
        broken = ~shapely.is_valid(projected)
        projected[broken] = shapely.make_valid(
            projected[broken], method="structure", keep_collapsed=False
        )
        drawn = gpd.GeoSeries(shapely.coverage_simplify(projected, tolerance_m), crs=int(code))
        back = drawn.to_crs(outlines.crs).to_numpy()
        broken = ~shapely.is_valid(back)
        back[broken] = shapely.make_valid(back[broken], method="structure", keep_collapsed=False)
        simplified[rows] = back
    return gpd.GeoSeries(simplified, index=outlines.index, crs=outlines.crs)


@dataclass(frozen=True)
class TimeLayer:
    """Territories month after month, for QGIS's temporal controller: ``rows`` (one per
    territory and month, with ``key``, ``month`` and a date field; GeoPackage field
    names) over ``outlines`` (``key`` and geometry, one per territory). Written as two
    tables and two views, one feature per (territory, month) and the latest month."""

    name: str
    key: str
    outlines: gpd.GeoDataFrame
    rows: pd.DataFrame
    month: str = "mois"
    description: str = ""  # French, shown by QGIS

    @property
    def every_month(self) -> str:
        return EVERY_MONTH.format(self.name)

    @property
    def latest(self) -> str:
        return LATEST_MONTH.format(self.name)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _add_views(db: sqlite3.Connection, layer: TimeLayer) -> None:
    outlines, rows = OUTLINES_TABLE.format(layer.name), ROWS_TABLE.format(layer.name)
    geometry, kind, srs = db.execute(
        "SELECT column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns "
        "WHERE table_name = ?",
        (outlines,),
    ).fetchone()
    key, month = _quoted(layer.key), _quoted(layer.month)
    for table, column in ((outlines, key), (rows, key), (rows, month)):
        index = _quoted(f"idx_{table}_{column.strip(chr(34))}")
        db.execute(f"CREATE INDEX {index} ON {_quoted(table)} ({column})")
    fields = [name for _, name, *_ in db.execute(f"PRAGMA table_info({_quoted(rows)})")]
    fields = ", ".join(f"r.{_quoted(name)}" for name in fields if name != "fid")
    # OGC_FID: the feature id GDAL (and QGIS through it) takes for a view.
    select = (
        f"SELECT r.fid AS OGC_FID, c.{_quoted(geometry)} AS {_quoted(geometry)}, {fields} "
        f"FROM {_quoted(rows)} AS r LEFT JOIN {_quoted(outlines)} AS c ON c.{key} = r.{key}"
    )
    latest = f"WHERE r.{month} = (SELECT max({month}) FROM {_quoted(rows)})"
    for view, where, words in (
        (layer.every_month, "", "chaque mois"),
        (layer.latest, latest, "dernier mois"),
    ):
        db.execute(f"CREATE VIEW {_quoted(view)} AS {select} {where}")
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "last_change, min_x, min_y, max_x, max_y, srs_id) SELECT ?, 'features', ?, ?, "
            "last_change, min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents "
            "WHERE table_name = ?",
            (view, view, f"{layer.description} ({words})", outlines),
        )
        db.execute(
            "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, "
            "srs_id, z, m) VALUES (?, ?, ?, ?, 0, 0)",
            (view, geometry, kind, srs),
        )


def _add_styles(db: sqlite3.Connection, styles: Mapping[str, tuple[str, str]]) -> None:
    """The ``layer_styles`` table as QGIS creates it, with each layer's default style."""
    db.execute(
        f"CREATE TABLE {STYLES_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
        "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
        "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
        "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )
    db.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) "
        "VALUES (?, 'attributes', ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
        (STYLES_TABLE, STYLES_TABLE),
    )
    for layer, (qml, description) in styles.items():
        (geometry,) = db.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
        ).fetchone()
        db.execute(
            f"INSERT INTO {STYLES_TABLE} (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '')",
            (layer, geometry, layer, qml, description),
        )


def write_time_layers(
    target: Path,
    layers: list[TimeLayer],
    styles: Mapping[str, tuple[str, str]] | None = None,
    metadata: Mapping | None = None,
) -> None:
    """The GeoPackage ``target`` of ``layers`` (``TimeLayer``): per layer, its outlines
    and its rows as tables, and the views ``<name>_par_mois`` and ``<name>_dernier_mois``;
    ``styles``: layer → (QML, French description), each layer's default style."""
    tables: dict[str, pd.DataFrame] = {}
    for layer in layers:
        tables[OUTLINES_TABLE.format(layer.name)] = layer.outlines
        tables[ROWS_TABLE.format(layer.name)] = layer.rows

    def finish(db: sqlite3.Connection) -> None:
        for layer in layers:
            _add_views(db, layer)
        if styles:
            _add_styles(db, styles)

    write_layers(target, tables, metadata, finish)


def density_style(field: str, date_field: str | None = None) -> str:
    """The QGIS style (QML) of a layer of densities: the report's classes and colours
    (``render.colours``), population unknown and no post apart; with ``date_field``,
    the layer is temporal, each feature shown at its date."""
    from analyse import config
    from analyse.render.colours import (
        CLASS_COLOURS,
        NO_POST_COLOUR,
        NO_POST_LABEL,
        UNKNOWN_COLOUR,
        UNKNOWN_LABEL,
        density_classes,
    )
    from analyse.render.fragments import render

    def rgb(colour: str) -> str:
        return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5))

    quoted = _quoted(field)
    _, labels = density_classes(pd.Series([], dtype=float))
    bounds = [0.0, *config.DENSITY_BINS, None]
    rules = [
        {"label": UNKNOWN_LABEL, "filter": f"{quoted} IS NULL", "rgb": rgb(UNKNOWN_COLOUR)},
        {"label": NO_POST_LABEL, "filter": f"{quoted} = 0", "rgb": rgb(NO_POST_COLOUR)},
    ]
    # Each upper bound inclusive, as density_classes counts them.
    for label, colour, low, high in zip(
        labels, CLASS_COLOURS, bounds[:-1], bounds[1:], strict=True
    ):
        test = f"{quoted} > {low:g}" + (f" AND {quoted} <= {high:g}" if high else "")
        rules.append({"label": label, "filter": test, "rgb": rgb(colour)})
    return render(
        "qgis/classes.qml.j2",
        rules=rules,
        date_field=date_field,
        outline=rgb("#555555"),
        key=field.replace("_", "-"),
    )
