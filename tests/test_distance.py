"""Distance to the nearest place and population beyond thresholds."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import EPCI_05, PLACES_FILE, lonlat, square

from analyse import config
from analyse.analysis.distance import SEARCH_RADIUS_M, nearest_place, population_beyond
from analyse.territory.places import read_places


@pytest.fixture
def communes() -> gpd.GeoDataFrame:
    """Three 10 km squares; Aval and Amont have a town hall at their centre, Milieu none."""
    aval, amont = lonlat(905_000, 6_405_000), lonlat(915_000, 6_405_000)
    return gpd.GeoDataFrame(
        {
            "insee": ["05001", "05002", "05003"],
            "nom": ["Aval", "Amont", "Milieu"],
            "departement": ["05", "05", "05"],
            "siren_epci": ["111111111", "111111111", "222222222"],
            "population": [10_000, 5_000, 2_000],
            "mairie_lon": [aval[0], amont[0], None],
            "mairie_lat": [aval[1], amont[1], None],
        },
        geometry=[
            square(900_000, 6_400_000),
            square(910_000, 6_400_000),
            square(920_000, 6_400_000),
        ],
        crs=2154,
    ).to_crs(4326)


def _places(points: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    """Places named by id, at Lambert-93 coordinates."""
    return gpd.GeoDataFrame(
        {"id": list(points), "nom": [f"Lieu {k}" for k in points]},
        geometry=[shapely.Point(*lonlat(x, y)) for x, y in points.values()],
        crs=4326,
    )


def test_nearest_place_from_town_halls(communes):
    places = _places({"p1": (905_000, 6_408_000), "voisin": (935_000, 6_405_000)})
    out = nearest_place(communes, places, 2154)

    assert out.index.equals(communes.index)
    assert list(out.columns) == [
        "insee",
        "nom",
        "departement",
        "siren_epci",
        "population",
        "distance_m",
        "id_lieu",
        "nom_lieu",
        "point_commune",
    ]
    assert out["id_lieu"].tolist() == ["p1", "p1", "voisin"]
    assert out["nom_lieu"].iloc[0] == "Lieu p1"
    assert out["distance_m"].iloc[0] == pytest.approx(3_000, abs=1)
    assert out["distance_m"].iloc[1] == pytest.approx(np.hypot(10_000, 3_000), abs=1)
    assert out["point_commune"].tolist() == ["mairie", "mairie", "point intérieur"]
    # Milieu starts from a point inside it: the place over the border in 04 is nearest.
    start = communes.geometry.iloc[[2]].representative_point().to_crs(2154).iloc[0]
    expected = start.distance(shapely.Point(935_000, 6_405_000))
    assert out["distance_m"].iloc[2] == pytest.approx(expected, abs=1)


def test_far_places_are_searched_beyond_the_box(communes):
    # Only place: 250 km away, outside the search box.
    out = nearest_place(communes, _places({"loin": (1_155_000, 6_405_000)}), 2154)
    assert out["distance_m"].iloc[0] == pytest.approx(250_000, abs=1)

    # "est" is inside the box but 115 km from Aval; "ouest" is outside the box, 101 km
    # from Aval: a search limited to the box would wrongly answer "est".
    assert SEARCH_RADIUS_M == 100_000
    places = _places({"est": (1_020_000, 6_405_000), "ouest": (804_000, 6_405_000)})
    out = nearest_place(communes, places, 2154)
    assert out["id_lieu"].iloc[0] == "ouest"
    assert out["distance_m"].iloc[0] == pytest.approx(101_000, abs=1)


def test_no_place_at_all_means_infinitely_far(communes):
    out = nearest_place(communes, _places({}), 2154)
    assert np.isinf(out["distance_m"]).all() and out["id_lieu"].isna().all()
    _, totals = population_beyond(out)
    assert totals["population_au_dela_30km"] == totals["population"] == 17_000


def test_population_beyond_thresholds():
    communes = pd.DataFrame(
        {
            "insee": ["a", "b", "c", "d", "e", "f"],
            "siren_epci": ["1", "1", "2", "2", "2", None],
            "population": [100, 200, 300, 400, 500, 600],
            "distance_m": [5_000, 10_000, 10_001, 25_000, np.nan, 40_000],
        }
    )
    per_epci, totals = population_beyond(communes)
    assert totals == {
        "population": 2_100,
        "population_au_dela_10km": 300 + 400 + 600,  # 10 km exactly is not beyond
        "population_au_dela_20km": 400 + 600,
        "population_au_dela_30km": 600,
        "population_sans_distance": 500,
    }
    rows = per_epci.set_index("siren_epci")
    assert rows.loc["1"].tolist() == [300, 0, 0, 0, 0]
    assert rows.loc["2"].tolist() == [1_200, 700, 400, 0, 500]
    assert len(per_epci) == 3  # the commune outside any EPCI has its own row
    for column, value in totals.items():
        assert per_epci[column].sum() == value

    _, custom = population_beyond(communes, thresholds_km=(7.5,))
    assert custom["population_au_dela_7.5km"] == 200 + 300 + 400 + 600


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def real_places():
    return read_places(PLACES_FILE)[0]


@pytest.fixture(scope="module")
def communes_05(reference):
    communes = reference.communes
    return communes.loc[(communes["type"] == "COM") & (communes["departement"] == "05")]


def test_real_hautes_alpes_distances(communes_05, real_places):
    crs = config.metric_crs("05")
    out = nearest_place(communes_05, real_places, crs)
    assert len(out) == 162 and out["distance_m"].notna().all()
    assert (out["point_commune"] == "mairie").all()
    farthest = out.loc[out["distance_m"].idxmax()]
    assert farthest["nom"] == "Villar-Loubière"
    assert farthest["distance_m"] == pytest.approx(27_329, abs=1)

    # Same answer as a brute-force search over every place of France.
    halls = gpd.GeoSeries(
        gpd.points_from_xy(communes_05["mairie_lon"], communes_05["mairie_lat"]), crs=4326
    ).to_crs(crs)
    projected = real_places.to_crs(crs).geometry
    projected = projected[np.isfinite(projected.x)].to_numpy()
    brute = [shapely.distance(projected, hall).min() for hall in halls]
    assert out["distance_m"].to_numpy() == pytest.approx(brute, abs=0.01)

    per_epci, totals = population_beyond(out)
    assert totals == {
        "population": 141_284,
        "population_au_dela_10km": 27_020,
        "population_au_dela_20km": 3_621,
        "population_au_dela_30km": 0,
        "population_sans_distance": 0,
    }
    # The département's figure is the sum over its communes and over its EPCI rows.
    beyond_20 = communes_05["population"][out["distance_m"] > 20_000].sum()
    assert (
        totals["population_au_dela_20km"] == beyond_20 == per_epci["population_au_dela_20km"].sum()
    )
    rows = per_epci.set_index("siren_epci")
    assert rows.loc[EPCI_05["champsaur"], "population_au_dela_20km"] == 1_741
    assert rows.loc[EPCI_05["ecrins"], "population_au_dela_10km"] == 0


def test_real_neighbouring_places_count(communes_05, real_places):
    inside = real_places.loc[real_places.within(communes_05.union_all())]
    out = nearest_place(communes_05, inside, config.metric_crs("05"))
    _, totals = population_beyond(out)
    # Without the places of Isère, Drôme and Alpes-de-Haute-Provence, far more people
    # would seem to live beyond 20 km.
    assert totals["population_au_dela_20km"] == 12_256
