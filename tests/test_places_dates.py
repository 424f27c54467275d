"""Places have a date: a past month's distances use the places that existed then, and the
remoteness of an EPCI spanning several départements is measured on the whole EPCI."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import EPCI_05, IFN_COMMUNES, IFN_EPCI, NATIONAL_FILE, PLACES_FILE

from analyse.analysis import pipeline, situation
from analyse.analysis.inputs import load_extras
from analyse.render import tables, territories_report
from analyse.territory.places import (
    DATED_BY_COMMUNE,
    DATED_BY_DEPARTEMENT,
    DATED_BY_EPCI,
    DATED_BY_SIREN,
    DATED_BY_SIRET,
    UNDATED,
    date_places,
    places_at,
)


@pytest.fixture(scope="module")
def national(reference):
    return pipeline.match_selections([NATIONAL_FILE], reference)


@pytest.fixture(scope="module")
def extras(reference):
    return load_extras(reference, [IFN_COMMUNES, IFN_EPCI], PLACES_FILE)


@pytest.fixture(scope="module")
def dated(extras, national):
    return date_places(extras.places, national.table)


# ------------------------------------------------------------------ dating the places


def test_every_embedded_place_is_dated_and_how(dated, extras):
    assert len(dated) == len(extras.places) == 2_733
    assert dated.index.equals(extras.places.index)
    assert dated["datation"].value_counts().to_dict() == {
        DATED_BY_SIRET: 1_232,
        DATED_BY_EPCI: 669,
        DATED_BY_COMMUNE: 645,
        DATED_BY_SIREN: 97,
        DATED_BY_DEPARTEMENT: 90,
    }
    assert dated["date_debut"].notna().all()
    assert UNDATED not in set(dated["datation"])


def test_a_place_takes_the_first_committee_of_its_structure(dated, national):
    # The UDAF's place in Gap: its structure (SIRET 78243778400062) was granted its first
    # post on 29/10/2021, although Gap had posts from April 2021.
    udaf = dated.loc[dated["siret"] == "78243778400062"].iloc[0]
    assert udaf["datation"] == DATED_BY_SIRET
    assert udaf["date_debut"] == pd.Timestamp("2021-10-29")
    rows = national.table.loc[national.table["code"] == "78243778400062", "date_comite"]
    assert pd.to_datetime(rows).min() == udaf["date_debut"]
    # Vallouise's France Services links to no structure: its EPCI's first post dates it.
    vallouise = dated.loc[dated["nom"] == "Espace France Services Vallouise"].iloc[0]
    assert vallouise["datation"] == DATED_BY_EPCI
    assert vallouise["date_debut"] == pd.Timestamp("2021-03-24")


def test_places_at_a_month(dated):
    assert places_at(dated, None) is dated
    june = places_at(dated, "2021-06")
    assert len(june) == int((dated["date_debut"] <= "2021-06-30").sum())
    assert 0 < len(june) < len(dated)
    assert (june["date_debut"] <= pd.Timestamp("2021-06-30")).all()
    # The list's last month, and any later one, counts every place: today's figures.
    assert len(places_at(dated, "2023-04")) == len(places_at(dated, "2026-11")) == 2_733
    assert places_at(dated, "2020-12").empty


def test_undated_places_count_at_every_date(reference, extras):
    # Selections that know nothing of a place's département leave it undated: it is
    # never dropped, the distances of a month understate remoteness rather than invent it.
    hand = pipeline.match_selections(None, reference).table
    dated = date_places(extras.places, hand)
    undated = dated["datation"] == UNDATED
    assert undated.any() and dated.loc[undated, "date_debut"].isna().all()
    assert undated.sum() == len(places_at(dated, "2021-03")) - int(
        (dated["date_debut"] <= "2021-03-31").sum()
    )


# ------------------------------------------------------------ the monthly report of 05


def test_june_2021_distances_use_the_places_of_june_2021(reference, national, extras):
    june = situation.prepare("05", national, reference, month="2021-06", extras=extras)
    april = situation.prepare("05", national, reference, month="2023-04", extras=extras)
    default = situation.prepare("05", national, reference, extras=extras)
    # The newest month and the report without month are today's figures.
    assert april.context["population_au_dela"]["population_au_dela_20km"] == 3_621
    assert default.context["population_au_dela"] == april.context["population_au_dela"]
    columns = ["siren_epci", "population_au_dela_10km", "population_au_dela_20km", "score_priorite"]
    pd.testing.assert_frame_equal(april.gaps[columns], default.gaps[columns])
    beyond = june.context["population_au_dela"]
    assert beyond["population_au_dela_20km"] == 5_313
    # Computed from June 2021's places only (none of them granted later).
    used = set(june.communes["id_lieu"].dropna())
    dates = date_places(extras.places, national.table).set_index("id")["date_debut"]
    assert dates.reindex(sorted(used)).max() <= pd.Timestamp("2021-06-30")
    far = june.communes.loc[june.communes["distance_m"] > 20_000, "population"].sum()
    assert far == beyond["population_au_dela_20km"]


def test_report_states_the_dating_rule_and_counts(reference, national, extras):
    june = situation.prepare("05", national, reference, month="2021-06", extras=extras)
    text = tables.dated_places_html(june)
    assert "premier comité de sa structure" in text
    assert "Sur les 2\u202f733 lieux du fichier, 1\u202f232 sont datés par le SIRET" in text
    assert "et 90 par celui de leur département." in text
    assert "Fin juin 2021, 1\u202f928 lieux comptent" in text
    html = tables.analysts_html(june)
    assert "Date des lieux" in html


# --------------------------------------------------- remoteness of an inter-départemental EPCI


def _remoteness_by_hand(reference, places: gpd.GeoDataFrame, siren: str) -> float:
    """Share of the EPCI's whole population (every département) living more than 20 km
    from the nearest of ``places`` (all of France), by brute force in Lambert-93."""
    communes = reference.communes
    members = communes.loc[(communes["type"] == "COM") & (communes["siren_epci"] == siren)]
    halls = gpd.GeoSeries(
        gpd.points_from_xy(members["mairie_lon"], members["mairie_lat"]), crs=4326
    ).to_crs(2154)
    points = places.to_crs(2154).geometry
    points = points[np.isfinite(points.x) & np.isfinite(points.y)].to_numpy()
    nearest = np.array([shapely.distance(points, hall).min() for hall in halls])
    population = members["population"].to_numpy(dtype=float)
    return population[nearest > 20_000].sum() / population.sum()


@pytest.mark.parametrize("month", [None, "2021-06"])
def test_remoteness_of_sisteronais_buech_on_its_whole_population(
    reference, national, extras, month
):
    prepared = situation.prepare("05", national, reference, month=month, extras=extras)
    row = prepared.gaps.set_index("siren_epci").loc[EPCI_05["sisteronais"]]
    # The EPCI spans 04, 05 and 26: its remoteness is over all its communes and all
    # places, those of the neighbouring départements included.
    places = places_at(date_places(extras.places, national.table), month)
    expected = _remoteness_by_hand(reference, places, EPCI_05["sisteronais"])
    assert row["population"] == 25_035
    assert row["population_au_dela_20km"] / row["population"] == pytest.approx(expected)
    # 4,3 % today, not 1 087 / 12 915 (the population in 05 alone); 12,1 % in June 2021,
    # when fewer places existed.
    assert expected == pytest.approx((1_087 if month is None else 3_025) / 25_035)
    # The score uses that share.
    deficit = max(0.0, 1 - row["conseillers_pour_10000_hab"] / prepared.context["cible_nationale"])
    fragility = (row["ifn"] - 1) / 9
    score = 100 * (0.5 * min(deficit, 1) + 0.25 * fragility + 0.25 * expected)
    assert row["score_priorite"] == pytest.approx(round(score, 1), abs=0.051)


def test_distance_section_names_the_places_of_the_month(reference, national, extras):
    june = situation.prepare("05", national, reference, month="2021-06", extras=extras)
    assert "ceux qui existaient fin juin 2021 (1\u202f928 sur 2\u202f733" in tables.distance_html(
        june
    )
    # At the list's edition every place of the file existed: all of them, at that date.
    today = situation.prepare("05", national, reference, extras=extras)
    assert "ceux qui existaient au 5 avril 2023 (2\u202f733 sur 2\u202f733" in (
        tables.distance_html(today)
    )


def test_places_note_says_how_many_existed_at_the_month(reference, national, extras):
    june = situation.prepare("05", national, reference, month="2021-06", extras=extras)
    note = re.sub(r"[ \n]+", " ", territories_report.places_programmes_html(june))
    assert "les 2\u202f733 lieux du fichier" in note
    assert "Fin juin 2021, 1\u202f928 d'entre eux existaient déjà" in note
    today = situation.prepare("05", national, reference, extras=extras)
    note = re.sub(r"[ \n]+", " ", territories_report.places_programmes_html(today))
    assert "Au 5 avril 2023, 2\u202f733 d'entre eux existaient déjà" in note
