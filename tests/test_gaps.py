"""Posts missing and priority score, on tiny frames."""

from __future__ import annotations

import pandas as pd
import pytest

from analyse.analysis.gaps import gaps_table, posts_missing, priority


def _epci(**columns):
    base = {
        "siren_epci": ["1", "2", "3"],
        "population": [50_000, 10_000, 20_000],
        "postes": [1, 2, 0],
    }
    base.update(columns)
    table = pd.DataFrame(base)
    table["conseillers_pour_10000_hab"] = table["postes"] / table["population"] * 10_000
    return table


def test_posts_missing_rounds_up_and_never_goes_negative():
    table = _epci()
    # Target 1 per 10 000: 5, 1 and 2 posts needed; 1, 2 and 0 present.
    assert posts_missing(table, 1.0).tolist() == [4, 0, 2]
    assert posts_missing(table, 0.0).tolist() == [0, 0, 0]
    exact = pd.DataFrame({"population": [10_000], "postes": [2]})
    assert posts_missing(exact, 2.0).tolist() == [0]  # exactly at the target


def test_priority_without_fragility_or_distance():
    table = _epci()
    scores = priority(table, national_target=1.0)
    # Deficits: 0.8, 0 (above target), 1.0; no other term, so deficit is the score.
    assert scores["score_priorite"].tolist() == pytest.approx([80.0, 0.0, 100.0])
    assert scores["rang_priorite"].tolist() == [2, 3, 1]


def test_priority_with_every_term():
    table = _epci(ifn=[10.0, 1.0, 5.5], population_au_dela_20km=[0, 10_000, 5_000])
    scores = priority(table, national_target=1.0)
    expected = [
        100 * (0.5 * 0.8 + 0.25 * 1.0 + 0.25 * 0.0),
        100 * (0.5 * 0.0 + 0.25 * 0.0 + 0.25 * 1.0),
        100 * (0.5 * 1.0 + 0.25 * 0.5 + 0.25 * 0.25),
    ]
    assert scores["score_priorite"].tolist() == pytest.approx(expected, abs=0.05)


def test_a_missing_fragility_index_shares_its_weight_among_the_other_terms():
    """The printed rule: « Un terme absent (indice non fourni) voit son poids réparti
    entre les autres ». An EPCI the IFN file lacks is scored on its deficit and its
    remoteness alone, not as if it were the least fragile (a fragility term of 0)."""
    table = _epci(ifn=[10.0, None, 5.5], population_au_dela_20km=[0, 0, 5_000])
    scores = priority(table, national_target=1.0)
    # EPCI 2 is above the target (deficit 0) and nobody is far: 0 whatever the weights.
    # With a deficit of 1 and no IFN: 0,5 ÷ (0,5 + 0,25) × 1 = 66,7.
    lacking = _epci(ifn=[None, 10.0, 1.0], population_au_dela_20km=[0, 0, 0])
    lacking["conseillers_pour_10000_hab"] = [0.0, 2.0, 2.0]
    assert priority(lacking, national_target=1.0)["score_priorite"][0] == pytest.approx(66.7)
    expected_3 = 100 * (0.5 * 1.0 + 0.25 * 0.5 + 0.25 * 0.25)
    assert scores["score_priorite"][2] == pytest.approx(expected_3, abs=0.05)


def test_gaps_table_orders_by_priority():
    table = gaps_table(_epci(), national_target=1.0, departement_target=0.5, custom_target=2.0)
    assert table["siren_epci"].tolist() == ["3", "1", "2"]
    assert table["postes_manquants_cible_departementale"].tolist() == [1, 2, 0]
    assert table["postes_manquants_cible_choisie"].tolist() == [4, 9, 0]


def test_the_printed_formula_is_written_from_the_weights_in_use():
    from analyse.analysis.gaps import WEIGHTS, score_formula

    assert "0,5 × déficit de densité + 0,25 × fragilité numérique + 0,25 × éloignement" in (
        score_formula()
    )
    other = {**WEIGHTS, "deficit": 0.6, "fragilite": 0.2, "eloignement": 0.2}
    assert "0,6 × déficit de densité + 0,2 × fragilité" in score_formula(other)
