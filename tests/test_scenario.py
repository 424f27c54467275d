"""Placement scenario: the models against exhaustive search, on tiny and real instances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analyse.analysis import scenario
from analyse.analysis.scenario import Settings


def tiny(n: int = 9, seed: int = 1, existing_km: float | None = None) -> scenario.Instance:
    """``n`` communes scattered over 60 km × 60 km, populations 100–5 000; existing places
    at random distances (or all at ``existing_km``)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60_000, (n, 2))
    population = rng.integers(100, 5_000, n).astype(float)
    existing = (
        rng.uniform(0, 40_000, n) if existing_km is None else np.full(n, existing_km * 1000.0)
    )
    communes = pd.DataFrame(
        {
            "insee": [f"05{i:03d}" for i in range(n)],
            "nom": [f"Commune {i}" for i in range(n)],
            "siren_epci": ["200067825"] * n,
            "population": population.astype("int64"),
        }
    )
    points = gpd.GeoSeries([shapely.Point(x, y) for x, y in xy], crs=2154).to_crs(4326)
    distances = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return scenario.Instance(communes, population, population, existing, distances, points)


@pytest.mark.parametrize("objectif", ["couverture", "distance"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_n_posts_objective_equals_exhaustive_search(objectif, seed):
    instance = tiny(seed=seed)
    settings = Settings(3, 15, objectif)
    result = scenario.run(instance, settings)
    _, best = scenario.brute_force(instance, settings)
    assert result.method == scenario.METHOD_OPTIMAL
    assert result.objective_value == pytest.approx(best)


def test_sparse_p_median_matches_spopt_pmedian():
    """Our p-median over the useful pairs gives spopt's dense PMedian objective."""
    import pulp
    from spopt.locate import PMedian

    instance = tiny(n=12, seed=5)
    settings = Settings(3, 20, "distance")
    chosen = scenario.solve_median(instance, settings, 30)
    cost = np.column_stack([instance.distances, instance.existing])
    predefined = np.zeros(instance.size + 1, dtype=int)
    predefined[-1] = 1
    dense = PMedian.from_cost_matrix(
        cost / 1000, instance.weight, 4, predefined_facilities_arr=predefined
    )
    dense.solve(pulp.PULP_CBC_CMD(msg=False))
    assert scenario.objective(instance, chosen, settings) == pytest.approx(
        dense.problem.objective.value()
    )


@pytest.mark.parametrize("objectif", ["couverture", "distance"])
def test_objective_never_worse_when_posts_grow(objectif):
    instance = tiny(n=14, seed=7)
    values = [
        scenario.run(instance, Settings(n, 10, objectif)).objective_value for n in range(1, 6)
    ]
    if objectif == "couverture":
        assert values == sorted(values)
    else:
        assert values == sorted(values, reverse=True)


def test_proposals_in_greedy_order_with_cumulative_effect():
    instance = tiny(n=10, seed=4, existing_km=30)
    result = scenario.run(instance, Settings(3, 10, "couverture"))
    table = result.proposals
    assert list(table["rang"]) == [1, 2, 3]
    gains = table["population_nouvellement_a_moins_du_rayon"]
    assert list(gains) == sorted(gains, reverse=True)
    assert list(table["population_a_moins_du_rayon_cumulee"]) == list(gains.cumsum())
    # Everyone is 30 km from a place before; the posts bring the cumulative gain within 10 km.
    assert result.beyond_before[10] == instance.population.sum()
    assert result.beyond_after[10] == instance.population.sum() - gains.sum()


def test_too_large_model_says_so_and_falls_back_to_greedy(monkeypatch):
    instance = tiny(n=10, seed=2)
    monkeypatch.setattr(scenario, "MAX_PAIRS", 5)
    result = scenario.run(instance, Settings(2, 15, "distance"))
    assert result.method == scenario.METHOD_GREEDY
    assert "trop grand" in result.method_note
    assert len(result.proposals) == 2


def test_no_post_proposed_when_everyone_is_already_within_the_radius():
    instance = tiny(n=6, seed=3, existing_km=5)
    result = scenario.run(instance, Settings(2, 20, "couverture"))
    assert result.proposals.empty
    assert result.notes == [
        "Tous les habitants sont déjà à moins de 20 km d'un lieu existant : un poste de plus "
        "n'en rapprocherait aucun de ce seuil. Essayez un rayon plus petit ou l'objectif "
        "« distance »."
    ]


def test_bad_settings_are_refused_in_french():
    with pytest.raises(scenario.ScenarioError, match="--postes"):
        Settings(0).check()
    with pytest.raises(scenario.ScenarioError, match="--objectif"):
        Settings(2, objectif="vitesse").check()


@pytest.mark.parametrize("objectif", ["couverture", "distance"])
def test_first_choice_on_the_hautes_alpes_equals_brute_force(prepared_05, objectif):
    """N = 1 on the 162 communes of 05: the model's post is the best single candidate."""
    instance = scenario.build_instance(prepared_05.communes, prepared_05.crs)
    settings = Settings(1, 20, objectif)
    result = scenario.run(instance, settings)
    values = [scenario.objective(instance, [j], settings) for j in range(instance.size)]
    best = max(values) if objectif == "couverture" else min(values)
    assert instance.size == 162
    assert result.method == scenario.METHOD_OPTIMAL
    assert result.objective_value == pytest.approx(best)
    chosen = instance.communes["insee"].tolist().index(result.proposals["insee"].iat[0])
    assert values[chosen] == pytest.approx(best)
    # Before: the same figures as the distance analysis of the report.
    assert result.beyond_before == {
        t: prepared_05.context["population_au_dela"][f"population_au_dela_{t}km"]
        for t in (10, 20, 30)
    }


def test_solver_stopped_by_its_time_limit_says_so_and_falls_back(monkeypatch):
    """CBC stopped before proving the optimum (as on a time limit): greedy order, said so."""
    monkeypatch.setattr(scenario, "_proven", lambda problem: False)
    instance = tiny(n=10, seed=6)
    for objectif in ("couverture", "distance"):
        result = scenario.run(instance, Settings(2, 15, objectif), time_limit=0.5)
        assert result.method == scenario.METHOD_GREEDY
        assert "optimum non prouvé en 0,5 s" in result.method_note
        assert result.proposals["rang"].tolist() == [1, 2]


def test_posts_that_would_bring_nothing_are_not_proposed():
    """One post within 100 km of every commune: asking for three gives one, and says why."""
    instance = tiny(n=6, seed=3, existing_km=150)
    result = scenario.run(instance, Settings(3, 100, "couverture"))
    assert len(result.proposals) == 1
    assert result.notes == [
        "Au-delà de 1 poste, un poste de plus n'apporterait plus rien : les suivants ne "
        "sont pas proposés."
    ]
    assert result.proposals["population_nouvellement_a_moins_du_rayon"].iat[0] == (
        instance.population.sum()
    )


def test_section_sentences_in_plain_french_and_escaped():
    from analyse.render import scenario_report

    instance = tiny(n=8, seed=4, existing_km=30)
    instance.communes.loc[:, "nom"] = "<script>alert(1)</script>"
    result = scenario.run(instance, Settings(2, 15, "couverture"), {"200067825": "CC Test"})
    summary = result.summary()
    first = result.proposals.iloc[0]
    sentence = scenario_report.sentences(result.proposals, summary)[0]
    gained = first["population_nouvellement_a_moins_du_rayon"]
    assert sentence.startswith(
        f"Un poste à <script>alert(1)</script> (CC Test) rapprocherait "
        f"{scenario.fmt_number(gained)} habitants à moins de 15 km d'un conseiller"
    )
    # Communes that would bring exactly as much are counted, and the rule said.
    ties = int(first["ex_aequo"])
    assert ("ex aequo avec" in sentence) == (ties > 0)
    assert sentence.endswith("liste officielle des communes)." if ties else "conseiller.")
    html = scenario_report.section_html(result.proposals, summary)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (CC Test) rapprocherait" in html
    # The solver is named for the analysts only (tables.method_html).
    assert "MCLP" not in html and "Durée de résolution" not in html
    assert "pas une décision" in html


def test_notebook_parameter_alone_computes_the_scenario(prepared_05):
    """In JupyterLab, postes_supplementaires = 2 on a bundle prepared without --postes."""
    import copy

    prepared = copy.copy(prepared_05)
    prepared.context = dict(prepared_05.context)
    assert prepared.propositions is None
    proposals, summary = scenario.for_postes(prepared, 2)
    assert summary["postes"] == 2 and summary["objectif"] == "couverture"
    assert proposals["rang"].tolist() == [1, 2]
    # The same call again reads what was stored rather than solving again.
    assert scenario.for_postes(prepared, 2)[1] is summary
