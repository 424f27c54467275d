"""The panel's map for QGIS (``panel_carte.gpkg``): every EPCI and every département at
every month-end, with a real date QGIS's temporal controller plays, the latest month
apart, and the report's classes and colours as each layer's default style."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ElementTree

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from analyse import config, schema
from analyse.render.colours import (
    CLASS_COLOURS,
    NO_POST_COLOUR,
    NO_POST_LABEL,
    UNKNOWN_LABEL,
    density_classes,
)
from analyse.render.exports import panel as panel_files
from analyse.render.exports.geopackage import GPKG_USER_VERSION

pytestmark = pytest.mark.lot

MONTHS = 26  # March 2021 to April 2023, the embedded list of 5 April 2023
EPCI = 1_253
MAX_BYTES = 60 * 1024 * 1024
DENSITY = schema.ALL["conseillers_pour_10000_hab"].field
DATE = panel_files.DATE_FIELD


@pytest.fixture(scope="module")
def carte(whole_panel):
    return whole_panel / panel_files.MAP_FILE


def _rgb(colour: str) -> str:
    """``#d6efb3`` → ``214,239,179``, as a QGIS style writes a colour."""
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5))


def test_every_epci_every_month_with_its_month_end_date(carte, whole_panel):
    layers = dict(pyogrio.list_layers(carte))
    assert {
        panel_files.EPCI_MONTHS,
        panel_files.EPCI_LATEST,
        panel_files.DEPARTEMENT_MONTHS,
        panel_files.DEPARTEMENT_LATEST,
    } <= set(layers)
    epci = gpd.read_file(carte, layer=panel_files.EPCI_MONTHS)
    assert len(epci) == MONTHS * EPCI
    per_month = epci.groupby("mois")["siren_epci"].agg(["count", "nunique"])
    assert len(per_month) == MONTHS
    assert (per_month["count"] == EPCI).all() and (per_month["nunique"] == EPCI).all()
    # A real date, the month's last day, that QGIS's temporal controller reads.
    assert pd.api.types.is_datetime64_any_dtype(epci[DATE])
    ends = pd.PeriodIndex(epci["mois"], freq="M").to_timestamp(how="end").normalize()
    assert (epci[DATE].dt.normalize().to_numpy() == ends.to_numpy()).all()
    assert epci.crs.to_epsg() == config.GEOGRAPHIC_CRS
    assert epci.geometry.notna().all() and shapely.is_valid(epci.geometry.to_numpy()).all()
    # The panel's figures, field for field (GeoPackage names from the column registry).
    rows = pd.read_parquet(whole_panel / "panel_epci.parquet")
    mine = epci.set_index(["siren_epci", "mois"]).sort_index()
    theirs = rows.set_index(["siren_epci", "mois"]).sort_index()
    for column in ("postes", "conseillers_pour_10000_hab", "score_priorite", "ifn"):
        pd.testing.assert_series_equal(
            mine[schema.ALL[column].field].astype(float),
            theirs[column].astype(float),
            check_names=False,
            obj=column,
        )
    latest = gpd.read_file(carte, layer=panel_files.EPCI_LATEST)
    assert len(latest) == EPCI and set(latest["mois"]) == {rows["mois"].max()}


def test_every_departement_every_month(carte, whole_panel, reference):
    rows = pd.read_parquet(whole_panel / "panel_departements.parquet")
    departements = gpd.read_file(carte, layer=panel_files.DEPARTEMENT_MONTHS)
    assert len(departements) == len(rows)
    assert departements["mois"].nunique() == MONTHS
    assert pd.api.types.is_datetime64_any_dtype(departements[DATE])
    # Every département of the reference has its outline (the collectivities the list
    # names without a commune of the reference, none).
    drawn = departements.loc[departements.geometry.notna(), "departement"]
    assert set(reference.departements["code"]) <= set(drawn)
    latest = gpd.read_file(carte, layer=panel_files.DEPARTEMENT_LATEST)
    assert len(latest) == (rows["mois"] == rows["mois"].max()).sum()


def test_outlines_are_simplified_without_gaps_or_overlaps(carte, whole_panel):
    outlines = gpd.read_parquet(whole_panel / "epci.parquet")
    latest = gpd.read_file(carte, layer=panel_files.EPCI_LATEST)
    drawn = shapely.get_num_coordinates(latest.geometry.to_numpy()).sum()
    assert drawn < shapely.get_num_coordinates(outlines.geometry.to_numpy()).sum()
    metropole = ~latest["departements"].str.startswith("97").to_numpy()
    simplified = latest.loc[metropole].set_index("siren_epci").geometry.to_crs(2154)
    original = outlines.set_index("siren_epci").geometry.to_crs(2154).loc[simplified.index]
    # Each outline moves by less than the tolerance on average (area moved ÷ length).
    moved = simplified.symmetric_difference(original).area / original.length
    assert moved.max() <= panel_files.SIMPLIFY_TOLERANCE_M
    # Topology kept: a border is simplified once for both neighbours, so no overlap
    # appears between them (each outline simplified alone, at 100 m: 50 km² of them)
    # and no gap (holes of the whole).

    def overlap(shapes: gpd.GeoSeries) -> float:
        return shapes.area.sum() - shapely.union_all(shapes.to_numpy()).area

    assert overlap(simplified) <= overlap(original) + 0.1e6  # m²

    def holes(shapes: gpd.GeoSeries) -> int:
        whole = shapely.union_all(shapes.to_numpy())
        return sum(len(part.interiors) for part in getattr(whole, "geoms", [whole]))

    assert holes(simplified) <= holes(original)


def test_default_style_has_the_reports_classes_and_colours(carte):
    with sqlite3.connect(carte) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == GPKG_USER_VERSION
        styles = dict(
            db.execute(
                "SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault = 1"
            ).fetchall()
        )
    layers = [
        panel_files.EPCI_MONTHS,
        panel_files.EPCI_LATEST,
        panel_files.DEPARTEMENT_MONTHS,
        panel_files.DEPARTEMENT_LATEST,
    ]
    assert set(layers) <= set(styles)
    _, labels = density_classes(pd.Series([0.1]))
    for layer in layers:
        qml = ElementTree.fromstring(styles[layer])
        rules = qml.findall(".//rules/rule")
        assert [r.get("label") for r in rules] == [
            UNKNOWN_LABEL,
            NO_POST_LABEL,
            *labels,
        ]
        assert all(DENSITY in (r.get("filter") or "") for r in rules)
        text = styles[layer]
        for colour in [NO_POST_COLOUR, *CLASS_COLOURS]:
            assert _rgb(colour) in text, (layer, colour)
        temporal = qml.find("temporal")
        if layer in (panel_files.EPCI_MONTHS, panel_files.DEPARTEMENT_MONTHS):
            assert temporal.get("enabled") == "1" and temporal.get("startField") == DATE


def test_file_size_is_under_60_mb_and_written_in_the_readme(carte):
    size = carte.stat().st_size
    assert size <= MAX_BYTES
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"`{panel_files.MAP_FILE}`[^\n]*?(\d+(?:,\d)?) Mo", readme)
    assert found, "taille de panel_carte.gpkg absente du README"
    stated = float(found.group(1).replace(",", "."))
    assert abs(stated - size / 1e6) <= 2, f"README : {stated} Mo, fichier : {size / 1e6:.1f} Mo"


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo (gdal-bin) absent")
def test_ogrinfo_lists_the_layer_and_its_date_field_without_warning(carte):
    shown = subprocess.run(
        ["ogrinfo", "-so", str(carte), panel_files.EPCI_MONTHS],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{DATE}: Date" in shown.stdout
    assert f"Feature Count: {MONTHS * EPCI}" in shown.stdout
    assert "Warning" not in shown.stderr and "ERROR" not in shown.stderr, shown.stderr
