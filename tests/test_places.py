"""Places of digital mediation: reading, location, checks, and the town-hall fallback."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import EPCI_05, PLACES_FILE, lonlat, square

from analyse.territory.places import (
    BY_NAME_IN_DEPARTEMENT,
    BY_POSTAL_AND_NAME,
    BY_POSTAL_AND_PREFIX,
    BY_POSTAL_ONLY,
    FAR_FROM_DECLARED_M,
    PLACE_COLUMNS,
    UNRESOLVED,
    PlacesFileError,
    locate_places,
    read_places,
    town_hall_places,
)


@pytest.fixture
def communes() -> gpd.GeoDataFrame:
    """Four 10 km squares in a row (three in 05, one in 04) and two attached entities."""
    aval_hall = lonlat(902_000, 6_402_000)
    return gpd.GeoDataFrame(
        {
            "insee": ["05001", "05002", "05003", "04001", "05102", "05903"],
            "nom": ["Aval", "Amont", "Milieu", "Voisine", "Aval 2e Arrondissement", "Vieux-Milieu"],
            "type": ["COM", "COM", "COM", "COM", "ARM", "COMD"],
            "population": [10_000, 5_000, 5_000, 20_000, 3_000, 100],
            "departement": ["05", "05", "05", "04", "05", "05"],
            "siren_epci": ["111111111", "111111111", "222222222", "222222222", None, None],
            "insee_parent": [None, None, None, None, "05001", "05003"],
            "mairie_lon": [aval_hall[0], None, None, None, None, None],
            "mairie_lat": [aval_hall[1], None, None, None, None, None],
        },
        geometry=[
            square(900_000, 6_400_000),
            square(910_000, 6_400_000),
            square(920_000, 6_400_000),
            square(930_000, 6_400_000),
            None,
            None,
        ],
        crs=2154,
    ).to_crs(4326)


@pytest.fixture
def postal_codes() -> pd.DataFrame:
    pairs = [
        ("05100", "05102"),  # an arrondissement of Aval
        ("05100", "05002"),
        ("05300", "05001"),  # shared by Aval and Amont
        ("05300", "05002"),
        ("05200", "05003"),
        ("05200", "05903"),  # a commune déléguée of Milieu
        ("05400", "05001"),  # Aval alone
        ("04000", "04001"),
    ]
    return pd.DataFrame(pairs, columns=["code_postal", "insee"])


def _places(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Places from (id, x, y, declared commune, postal code), x/y in Lambert-93."""
    points = [shapely.Point(*lonlat(x, y)) for _, x, y, _, _ in rows]
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "nom": [f"Lieu {r[0]}" for r in rows],
            "commune_declaree": [r[3] for r in rows],
            "code_postal": [r[4] for r in rows],
            "adresse": "",
            "services": "",
            "siret": "",
        },
        geometry=points,
        crs=4326,
    )


# -------------------------------------------------------------------- reading


def test_read_keeps_every_row(tmp_path):
    records = [
        {"id": "a", "nom": "A", "commune": "GAP", "code_postal": "5000", "latitude": 44.56,
         "longitude": 6.08, "pivot": "130 000 120 00011", "services": "Smartphone"},
        {"id": "b", "nom": "B", "commune": "GAP", "code_postal": "30252Cedex",
         "latitude": "44,5", "longitude": "6,1"},
        {"id": "c", "nom": "C", "commune": "X", "code_postal": "05000", "latitude": None,
         "longitude": 6.0},
        {"id": "d", "nom": "D", "commune": "X", "code_postal": "05000", "latitude": "nord",
         "longitude": 6.0},
        {"id": "e", "nom": "E", "commune": "X", "code_postal": "05000", "latitude": 95,
         "longitude": 6.0},
        {"nom": "F", "commune": "X", "code_postal": "05000", "latitude": 0, "longitude": 0},
    ]  # fmt: skip
    path = tmp_path / "lieux.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    places, rejected = read_places(path)

    assert len(places) + len(rejected) == len(records)
    assert places.crs.to_epsg() == 4326
    assert list(places.columns) == [*PLACE_COLUMNS, "geometry"]
    assert places["code_postal"].tolist() == ["05000", "30252"]
    assert places["siret"].tolist() == ["13000012000011", ""]
    assert places.geometry.iloc[1].x == pytest.approx(6.1)  # decimal comma read
    assert rejected["id"].tolist() == ["c", "d", "e", "ligne 6"]
    assert rejected["motif"].tolist() == [
        "coordonnées absentes",
        "coordonnées non numériques",
        "coordonnées hors des bornes (latitude ±90°, longitude ±180°)",
        "coordonnées nulles (0, 0)",
    ]


def test_read_errors_are_french_and_name_the_file(tmp_path):
    with pytest.raises(PlacesFileError, match="introuvable"):
        read_places(tmp_path / "absent.json")
    not_a_list = tmp_path / "objet.json"
    not_a_list.write_text('{"lieux": []}', encoding="utf-8")
    with pytest.raises(PlacesFileError, match=r"objet\.json : une liste de lieux"):
        read_places(not_a_list)
    no_coordinates = tmp_path / "sans_coordonnees.json"
    no_coordinates.write_text('[{"id": "a", "nom": "A"}]', encoding="utf-8")
    with pytest.raises(PlacesFileError, match=r"sans_coordonnees\.json.*latitude, longitude"):
        read_places(no_coordinates)


def test_read_csv_too(tmp_path):
    path = tmp_path / "lieux.csv"
    path.write_text("id;nom;commune;code_postal;latitude;longitude\n1;A;GAP;05000;44.5;6.1\n")
    places, rejected = read_places(path)
    assert places["commune_declaree"].tolist() == ["GAP"] and rejected.empty


# ------------------------------------------------------------------- locating


def test_locate_and_check_declared_commune(communes, postal_codes):
    places = _places(
        [
            ("arr", 905_000, 6_405_000, "AVAL 2", "05100"),  # arrondissement name
            ("far", 925_000, 6_405_000, "Aval", "05300"),  # in Milieu, 15 km from Aval
            ("near", 912_000, 6_405_000, "Aval", "05300"),  # in Amont, 2 km from Aval
            ("sea", 960_000, 6_405_000, "VOISINE", "04000"),  # outside every commune
            ("unknown", 915_000, 6_405_000, "Inconnue", "05300"),
            ("delegated", 925_000, 6_405_000, "Vieux Milieu", "05200"),
            ("postal", 905_000, 6_405_000, "Avl", "05400"),  # typo, single-commune code
            ("dep", 915_000, 6_405_000, "AMONT", "99999"),  # wrong postal code
            ("prefix", 925_000, 6_405_000, "VIEUX", "05200"),
        ]
    )
    out = locate_places(places, communes, postal_codes).set_index("id")

    assert len(out) == len(places)
    assert out["insee"].drop("sea").to_dict() == {
        "arr": "05001",
        "far": "05003",
        "near": "05002",
        "unknown": "05002",
        "delegated": "05003",
        "postal": "05001",
        "dep": "05002",
        "prefix": "05003",
    }
    assert pd.isna(out.loc["sea", "insee"]) and out["hors_commune"].sum() == 1
    assert out.loc["far", "departement"] == "05"

    assert out["insee_commune_declaree"].dropna().to_dict() == {
        "arr": "05001",
        "far": "05001",
        "near": "05001",
        "sea": "04001",
        "delegated": "05003",
        "postal": "05001",
        "dep": "05002",
        "prefix": "05003",
    }
    assert out["commune_declaree_resolue_par"].to_dict() == {
        "arr": BY_POSTAL_AND_NAME,
        "far": BY_POSTAL_AND_NAME,
        "near": BY_POSTAL_AND_NAME,
        "sea": BY_POSTAL_AND_NAME,
        "unknown": UNRESOLVED,
        "delegated": BY_POSTAL_AND_NAME,
        "postal": BY_POSTAL_ONLY,
        "dep": BY_NAME_IN_DEPARTEMENT,
        "prefix": BY_POSTAL_AND_PREFIX,
    }

    distance = out["distance_commune_declaree_m"]
    assert distance["arr"] == 0 and distance["delegated"] == 0
    assert distance["far"] == pytest.approx(15_000, abs=5)
    assert distance["near"] == pytest.approx(2_000, abs=5)
    assert distance["sea"] == pytest.approx(20_000, abs=5)
    assert pd.isna(distance["unknown"])
    assert FAR_FROM_DECLARED_M == 5_000
    far = out["loin_de_la_commune_declaree"]
    assert far[["far", "sea"]].tolist() == [True, True]
    assert not far["near"] and not far["arr"]
    assert pd.isna(far["unknown"])  # unknown, not "near"

    assert out.loc["sea", "insee_la_plus_proche"] == "04001"
    assert out.loc["sea", "distance_commune_la_plus_proche_m"] == pytest.approx(20_000, abs=5)
    assert out["insee_la_plus_proche"].notna().sum() == 1
    assert (out["source"] == "lieu de médiation numérique").all()


def test_boundary_point_is_not_duplicated(communes, postal_codes):
    corner = communes.loc[communes["insee"] == "05001"].geometry.iloc[0].exterior.coords[0]
    places = _places([("a", 905_000, 6_405_000, "Aval", "05400")])
    places.loc[0, "geometry"] = shapely.Point(corner)  # shared by Aval and Amont, or so
    out = locate_places(places, communes, postal_codes)
    assert len(out) == 1 and out["insee"].notna().all()


# ------------------------------------------------------------------ town halls


def test_town_hall_fallback(communes):
    epci = gpd.GeoDataFrame(
        {"siren": ["111111111", "222222222", "333333333"], "nom": ["Un", "Deux", "Trois"]},
        geometry=[
            communes.geometry.iloc[0].union(communes.geometry.iloc[1]),
            communes.geometry.iloc[2].union(communes.geometry.iloc[3]),
            gpd.GeoSeries([square(990_000, 6_400_000)], crs=2154).to_crs(4326).iloc[0],
        ],
        crs=4326,
    )
    base = {"fichier": "f.csv", "postes": 1, "commune": ""}
    matched = pd.DataFrame(
        [
            base | {"ligne": 2, "structure": "Mairie d'Amont", "statut": "epci",
                    "insee_commune": "05002", "siren_epci": "111111111", "commune": "05002"},
            base | {"ligne": 3, "structure": "CC Deux", "statut": "epci",
                    "insee_commune": None, "siren_epci": "222222222", "commune": "05003"},
            base | {"ligne": 4, "structure": "CC Un", "statut": "epci",
                    "insee_commune": None, "siren_epci": "111111111"},
            base | {"ligne": 5, "structure": "CC Deux bis", "statut": "epci",
                    "insee_commune": None, "siren_epci": "222222222", "commune": "05001"},
            base | {"ligne": 6, "structure": "Inconnue", "statut": "revue",
                    "insee_commune": None, "siren_epci": None},
            base | {"ligne": 7, "structure": "CC Trois", "statut": "epci",
                    "insee_commune": None, "siren_epci": "333333333"},
            base | {"ligne": 8, "structure": "CC Un, siège en arrondissement", "statut": "epci",
                    "insee_commune": float("nan"), "siren_epci": "111111111", "commune": "05102"},
        ]
    )  # fmt: skip
    out = town_hall_places(matched, communes, epci)

    assert out["id"].tolist() == ["f.csv:2", "f.csv:3", "f.csv:4", "f.csv:5", "f.csv:7", "f.csv:8"]
    assert out["insee"].fillna("").tolist() == ["05002", "05003", "05001", "04001", "", "05001"]
    assert out["emplacement"].tolist() == [
        "commune de la structure",
        "commune du siège indiquée dans la sélection",
        "commune la plus peuplée de l'EPCI (siège supposé)",
        "commune la plus peuplée de l'EPCI (siège supposé)",  # 05001 is not a member
        "point intérieur de l'EPCI (aucune commune membre connue)",
        "commune du siège indiquée dans la sélection",
    ]
    assert out["point"].tolist() == [
        "point intérieur de la commune",
        "point intérieur de la commune",
        "mairie",
        "point intérieur de la commune",
        "point intérieur de l'EPCI",
        "mairie",
    ]
    assert out["departement"].tolist()[:4] == ["05", "05", "05", "04"]
    assert (out["source"] == "mairie").all() and out.crs.to_epsg() == 4326
    # Each point lies in its commune (or EPCI); Aval's is its town hall.
    shapes = communes.set_index("insee").geometry
    for point, insee in zip(out.geometry[:4], out["insee"][:4], strict=True):
        assert shapes[insee].contains(point)
    assert epci.geometry.iloc[2].contains(out.geometry.iloc[4])
    hall = shapely.Point(*lonlat(902_000, 6_402_000))
    assert out.geometry.iloc[2].distance(hall) < 1e-9


def test_town_hall_fallback_without_located_rows(communes):
    matched = pd.DataFrame({"statut": ["revue"], "insee_commune": [None], "siren_epci": [None]})
    out = town_hall_places(matched, communes, gpd.GeoDataFrame(geometry=[], crs=4326))
    assert out.empty and "insee" in out.columns


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def real_places():
    return read_places(PLACES_FILE)


@pytest.fixture(scope="module")
def located(real_places, reference):
    return locate_places(real_places[0], reference.communes, reference.postal_codes)


def test_real_file_is_read_whole(real_places):
    places, rejected = real_places
    assert len(places) == 2_733 and rejected.empty
    assert (places["siret"] != "").sum() == 1_548


def test_real_places_located(located):
    assert len(located) == 2_733
    assert (located["departement"] == "05").sum() == 23
    in_05 = located.loc[located["departement"] == "05", "insee"].value_counts()
    assert in_05["05061"] == 12  # Gap
    # At sea by a few metres (Marseille, Port-Louis, Bastia…) or in a commune the
    # reference has no outline for (Orée d'Anjou).
    assert located["hors_commune"].sum() == 7
    assert located["distance_commune_la_plus_proche_m"].max() < 1_200
    assert located["loin_de_la_commune_declaree"].sum() == 13
    assert (located["commune_declaree_resolue_par"] == UNRESOLVED).sum() == 20
    # A « Maison des Habitants » declared in Gap whose coordinates are in the Somme.
    gap = located.set_index("id").loc["625ae50705457b0790817707"]
    assert gap["insee_commune_declaree"] == "05061" and gap["departement"] == "80"
    assert gap["distance_commune_declaree_m"] == pytest.approx(611_379, abs=1)


def test_real_town_halls_of_hautes_alpes(prepared_05, reference):
    counted = prepared_05.selections
    out = town_hall_places(counted, reference.communes, reference.epci)
    located = counted["statut"].eq("epci").sum()
    # The 11 hand-typed rows located in an EPCI, and the Sisteronais-Buëch's row counted
    # for 04 in the national list read back to the same date.
    assert len(out) == located == 12
    by_epci = out.drop_duplicates("siren_epci").set_index("siren_epci")["nom_commune"]
    assert by_epci[EPCI_05["sisteronais"]] == "Sisteron"  # seat in 04, most populous
    assert by_epci[EPCI_05["ecrins"]] == "L'Argentière-la-Bessée"  # official article
    assert (out["point"] == "mairie").all()
