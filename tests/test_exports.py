"""Analyst exports (GeoPackage, workbook, interactive map) on tiny hand-made frames."""

from __future__ import annotations

import html
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from analyse.render import exports

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


def _squares() -> gpd.GeoSeries:
    """Two 10 km squares near Gap, built in Lambert-93 and reprojected to WGS 84."""
    squares = [box(940_000, 6_390_000, 950_000, 6_400_000)]
    squares.append(box(950_000, 6_390_000, 960_000, 6_400_000))
    return gpd.GeoSeries(squares, crs=2154).to_crs(4326)


@pytest.fixture
def epci() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "siren_epci": ["200067825", "240500439"],
            "nom_epci": ["CA Gap-Tallard-Durance", SCRIPT],
            "type_epci": ["CA", "CC"],
            "population": np.array([48_000, 1_234], dtype="int64"),
            "postes": np.array([3, 0], dtype="int64"),
            "conseillers_pour_10000_hab": [0.625, 0.0],
            "habitants_par_conseiller": [16_000.0, np.nan],
            "surface_km2": [100.0, 100.0],
            "financement_etat_eur": np.array([150_000, 0], dtype="int64"),
            "postes_manquants_cible_nationale": np.array([2, 1], dtype="int64"),
            "ifn": [4.5, 7.25],
            "Taux d'équipement (%)": [0.5, 0.75],  # unknown column: kept, sanitised
            "communes_liste": [["05061", "05070"], ["05023"]],  # list column
        },
        geometry=_squares(),
    )


@pytest.fixture
def communes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "insee": ["05061", "05023"],
            "nom": ["Gap", "Briançon"],
            "population": np.array([40_000, 11_000], dtype="int64"),
            "siren_epci": ["200067825", "240500439"],
            "distance_m": [250.0, 3_100.5],  # analyse.analysis.distance.nearest_place
        },
        geometry=_squares(),
    )


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    points = gpd.GeoSeries([Point(945_000, 6_395_000), Point(955_000, 6_395_000)], crs=2154)
    return gpd.GeoDataFrame(
        {
            "id": ["a1", "b2"],
            "nom": ["Médiathèque de Gap", IMG],
            "adresse": ["1 rue de l'Église", SCRIPT],
            "code_postal": ["05000", "05100"],
            "commune": ["Gap", "{{ 'inj' ~ 'ected' }}"],  # folium renders with Jinja
            "pivot": ["20006782500011", None],
        },
        geometry=points.to_crs(4326),
    )


@pytest.fixture
def review() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fichier": ["data/raw/selections/05.csv"],
            "ligne": np.array([12], dtype="int64"),
            "departement": ["05"],
            "structure": ['=HYPERLINK("http://x")'],  # must stay text, not a formula
            "type_structure": ["commune"],
            "postes": np.array([2], dtype="int64"),
            "motif": ["nom ambigu"],
            "candidats": ["Gap ; Tallard"],
        }
    )


# ------------------------------------------------------------------------ GeoPackage


def test_field_mappings_are_qgis_friendly():
    for mapping in exports.LAYERS.values():
        for field in mapping.values():
            assert FIELD_RE.match(field), field
    assert exports.sanitise_field_name("Taux d'équipement (%)") == "taux_d_equipement"
    assert exports.sanitise_field_name("2023 Évolution") == "c_2023_evolution"
    assert len(exports.sanitise_field_name("x" * 80)) == 30
    # Collisions and names GDAL reserves get a suffix.
    names = exports.field_names(["Nom", "nom", "fid"], {})
    assert names == {"Nom": "nom", "nom": "nom_2", "fid": "fid_2"}


def test_geopackage_has_three_layers_with_french_fields(tmp_path, epci, communes, places):
    target = tmp_path / exports.GEOPACKAGE_NAME
    exports.write_geopackage(target, epci, communes, places)
    exports.write_geopackage(target, epci, communes, places)  # replaces an existing file

    assert sorted(pyogrio.list_layers(target)[:, 0]) == ["communes", "epci", "lieux"]
    fields = {
        layer: list(pyogrio.read_info(target, layer=layer)["fields"])
        for layer in ("epci", "communes", "lieux")
    }
    assert fields["epci"] == [
        "siren",
        "nom",
        "type",
        "population",
        "postes",
        "densite_10000_hab",
        "hab_par_conseiller",
        "surface_km2",
        "financement_etat_eur",
        "postes_manquants_nat",
        "ifn",
        "taux_d_equipement",
        "communes_liste",
    ]
    assert fields["communes"] == ["insee", "nom", "population", "siren_epci", "dist_lieu_m"]
    assert fields["lieux"] == ["identifiant", "nom", "adresse", "code_postal", "commune", "siret"]
    for layer_fields in fields.values():
        assert all(FIELD_RE.match(f) for f in layer_fields)

    info = pyogrio.read_info(target, layer="epci")
    assert info["crs"] == "EPSG:4326"
    back = gpd.read_file(target, layer="epci")
    assert back["communes_liste"].tolist() == ["05061, 05070", "05023"]
    assert back["nom"].tolist() == ["CA Gap-Tallard-Durance", SCRIPT]
    assert back["population"].tolist() == [48_000, 1_234]
    assert list(tmp_path.iterdir()) == [target]


def test_geopackage_refuses_a_layer_without_crs(tmp_path, epci, communes, places):
    with pytest.raises(ValueError, match="lieux"):
        exports.write_geopackage(
            tmp_path / "c.gpkg", epci, communes, places.set_crs(None, allow_override=True)
        )


# -------------------------------------------------------------------------- workbook


def test_workbook_sheets_headers_and_formats(tmp_path, epci, review):
    target = tmp_path / exports.WORKBOOK_NAME
    gaps = pd.DataFrame(epci.drop(columns="geometry")).iloc[[1]]
    exports.write_workbook(target, epci, gaps, review)

    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Indicateurs", "Lacunes", "À vérifier"]
    sheet = book["Indicateurs"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["SIREN", "Intercommunalité", "Type", "Population"]
    assert "Conseillers pour 10\u202f000 hab." in headers
    assert "Postes manquants (cible nationale)" in headers
    assert "geometry" not in headers
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(headers))}3"

    column = {header: i + 1 for i, header in enumerate(headers)}
    population = sheet.cell(row=2, column=column["Population"])
    assert population.value == 48_000
    assert population.number_format == "#,##0"
    density = sheet.cell(row=2, column=column["Conseillers pour 10\u202f000 hab."])
    assert density.value == pytest.approx(0.625)
    assert density.number_format == "#,##0.00"
    # No NaN in Excel: an EPCI without a conseiller has an empty cell.
    assert sheet.cell(row=3, column=column["Habitants par conseiller"]).value is None
    assert sheet.cell(row=2, column=column["Communes liste"]).value == "05061, 05070"
    assert sheet.column_dimensions["B"].width >= len("CA Gap-Tallard-Durance")
    assert [c.value for c in book["Lacunes"]["B"]] == ["Intercommunalité", SCRIPT]

    check = book["À vérifier"]
    assert [c.value for c in check[1]][:3] == ["Fichier", "Ligne", "Département"]
    assert check.freeze_panes == "A2"
    structure = check.cell(row=2, column=4)
    assert structure.value == '=HYPERLINK("http://x")'
    assert structure.data_type == "s"
    assert check.cell(row=2, column=2).number_format == "0"


def test_workbook_with_nothing_to_check(tmp_path, epci):
    target = tmp_path / exports.WORKBOOK_NAME
    exports.write_workbook(target, epci, epci.iloc[0:0], pd.DataFrame())
    book = openpyxl.load_workbook(target)
    check = book["À vérifier"]
    assert [c.value for c in check[1]] == [exports.HEADERS[c] for c in exports.REVIEW_COLUMNS]
    assert check["A2"].value == exports.EMPTY_MESSAGES["À vérifier"]
    assert check.freeze_panes == "A2"
    assert book["Lacunes"]["A2"].value == exports.EMPTY_MESSAGES["Lacunes"]


# --------------------------------------------------------------------------- map


def _decoded(page: str) -> str:
    """The page with JavaScript \\uXXXX escapes decoded: what the browser's strings hold."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def test_interactive_map_escapes_every_input_string(tmp_path, epci, places):
    target = tmp_path / exports.MAP_NAME
    title = "Hautes-Alpes : conseillers numériques <b>&</b> {{ 'inj' ~ 'ected' }}"
    exports.write_interactive_map(target, epci, places, title)

    page = target.read_text(encoding="utf-8")
    decoded = _decoded(page)
    for raw in (SCRIPT, IMG, "<b>&</b>"):
        assert raw not in page
        assert raw not in decoded  # not even once the JSON strings are decoded
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in decoded
    assert "&lt;img src=x onerror=alert(1)&gt;" in decoded
    for name in epci["nom_epci"]:
        assert html.escape(name) in decoded
    assert html.escape("1 rue de l'Église") in decoded
    shown_title = html.escape(title).replace("{", "&#123;").replace("}", "&#125;")
    assert shown_title in page  # the title shown on the page, braces kept from Jinja
    assert "injected" not in page
    # Figures the French way in tooltips; the legend and layers in French.
    assert "48\u202f000" in decoded
    assert "0,62" in decoded or "0,63" in decoded
    assert "Intercommunalités" in decoded
    assert "Aucun conseiller" in decoded


# ------------------------------------------------------------------- atomic writes


def _fail_after_partial_write(monkeypatch, writer: str) -> None:
    """Make the underlying writer leave a half-written file, then raise."""

    def boom(path) -> None:
        Path(path).write_bytes(b"half a file")
        raise OSError("disque plein")

    if writer == "geopackage":
        original = gpd.GeoDataFrame.to_file

        def to_file(self, path, *args, layer=None, **kwargs):
            if layer == "lieux":  # the first two layers are written, the third fails
                raise OSError("disque plein")
            return original(self, path, *args, layer=layer, **kwargs)

        monkeypatch.setattr(gpd.GeoDataFrame, "to_file", to_file)
    elif writer == "workbook":
        monkeypatch.setattr(openpyxl.Workbook, "save", lambda self, path: boom(path))
    else:
        import folium

        monkeypatch.setattr(folium.Map, "save", lambda self, path, **kw: boom(path))


@pytest.mark.parametrize("writer", ["geopackage", "workbook", "map"])
def test_failed_write_keeps_the_previous_file(
    tmp_path, monkeypatch, writer, epci, communes, places, review
):
    name, write = {
        "geopackage": (
            exports.GEOPACKAGE_NAME,
            lambda t: exports.write_geopackage(t, epci, communes, places),
        ),
        "workbook": (
            exports.WORKBOOK_NAME,
            lambda t: exports.write_workbook(t, epci, epci, review),
        ),
        "map": (
            exports.MAP_NAME,
            lambda t: exports.write_interactive_map(t, epci, places, "Titre"),
        ),
    }[writer]
    target = tmp_path / name
    write(target)
    before = target.read_bytes()

    _fail_after_partial_write(monkeypatch, writer)
    with pytest.raises(OSError, match="disque plein"):
        write(target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_interactive_map_carries_leaflet_and_links_to_no_cdn(tmp_path, epci, places):
    import folium
    from xstatic.pkg import leaflet

    target = tmp_path / "carte.html"
    exports.write_interactive_map(target, epci, places, "Titre")
    page = target.read_text(encoding="utf-8")
    assert f"Leaflet {leaflet.VERSION}, a JS library" in page
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=", page)
    # The inlined Leaflet is the one folium's own code is written for (same major.minor).
    linked = dict(folium.Map.default_js)["leaflet"]
    assert f"leaflet@{leaflet.VERSION.rsplit('.', 1)[0]}." in linked
