"""Indicators per EPCI and reconciliation: tiny frames first, then the real Hautes-Alpes."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import EPCI_05
from conftest import selection_row as _row

from analyse import config
from analyse.analysis.indicators import CSV_COLUMNS, epci_indicators, reconciliation, to_csv_frame
from analyse.errors import ReconciliationError
from analyse.read.selections import COLUMNS
from analyse.territory.matching import REVIEW, Matcher

NO_ALIASES = pd.DataFrame(columns=["departement", "cle", "code"])


def _matched(reference, rows):
    return Matcher(reference, NO_ALIASES).match(pd.DataFrame(rows, columns=COLUMNS))


def test_area_is_computed_in_lambert93(tiny_reference):
    assert config.metric_crs("05") == 2154
    assert config.metric_crs("2A") == 2154
    assert config.metric_crs("974") == 2975
    table = epci_indicators(
        tiny_reference.epci, tiny_reference.communes, _matched(tiny_reference, []), "05"
    )
    # Each EPCI has two 10 km × 10 km communes: 200 km², whole (04 part included).
    assert table["surface_km2"].tolist() == pytest.approx([200.0, 200.0], abs=0.01)
    assert table["population"].tolist() == [15_000, 25_000]
    assert table["population_dans_departement"].tolist() == [15_000, 5_000]


def test_density_and_spread_variant(tiny_reference):
    matched = _matched(
        tiny_reference,
        [
            _row("Aval", kind="commune", posts=3),
            _row("Conseil départemental", kind="departement", posts=4),
            _row("Alpha Bravo", posts=7),  # ambiguous between the two EPCI: review
        ],
    )
    assert matched["statut"].tolist() == ["epci", "departemental", REVIEW]
    assert matched["motif"].iloc[2] == "nom ambigu : plusieurs candidats proches"
    table = epci_indicators(tiny_reference.epci, tiny_reference.communes, matched, "05")
    first, second = table.iloc[0], table.iloc[1]
    assert first["postes"] == 3 and second["postes"] == 0
    assert first["conseillers_pour_10000_hab"] == pytest.approx(2.0)
    assert first["habitants_par_conseiller"] == pytest.approx(5_000)
    assert pd.isna(second["habitants_par_conseiller"])  # no post: no ratio, not infinity
    # Typed without an amount, in no list: not known (never 50 000 € a post); no post: 0.
    assert pd.isna(first["financement_etat_eur"]) and second["financement_etat_eur"] == 0
    # The 4 département-level posts spread on population inside 05 (15 000 vs 5 000).
    assert table["postes_departementaux_repartis"].tolist() == pytest.approx([3.0, 1.0])
    assert table["postes_departementaux_repartis"].sum() == pytest.approx(4)
    counts = reconciliation(matched, "05", list(table["siren_epci"]))
    assert counts == {
        "lus": 14,
        "localises_dans_un_epci_du_departement": 3,
        "localises_hors_departement": 0,
        "departementaux": 4,
        "regionaux": 0,
        "non_localisables": 0,
        "en_revue": 7,
        "rejetes": 0,
        "venus_d_ailleurs": 0,
        "localises_dans_ses_epci": 3,
    }


def test_reconciliation_refuses_to_lose_posts(tiny_reference):
    matched = _matched(tiny_reference, [_row("Aval", kind="commune", posts=3)])
    matched.loc[0, "statut"] = "perdu"
    with pytest.raises(ReconciliationError, match="Rapprochement faux"):
        reconciliation(matched, "05", ["111111111"])


def test_hautes_alpes_figures(prepared_05):
    table = prepared_05.indicators.set_index("siren_epci")
    assert len(table) == 9
    assert set(table.index) == set(EPCI_05.values())
    posts = table["postes"].to_dict()
    # 4 + Orpierre, and the 2 posts the national list counts for 04 on 14/04/2021.
    assert posts[EPCI_05["sisteronais"]] == 7
    assert posts[EPCI_05["spva"]] == 2  # 1 + Espinasses
    assert posts[EPCI_05["gap"]] == 1  # Gap
    others = set(EPCI_05.values()) - {EPCI_05[k] for k in ("sisteronais", "spva", "gap")}
    assert all(posts[s] == 1 for s in others)
    assert prepared_05.counts == {
        "lus": 18,
        "localises_dans_un_epci_du_departement": 14,
        "localises_hors_departement": 0,
        "departementaux": 4,
        "regionaux": 0,
        "non_localisables": 0,
        "en_revue": 0,
        "rejetes": 0,
        "venus_d_ailleurs": 2,
        "localises_dans_ses_epci": 16,
    }
    # EPCI reaching into 04 or 26 are kept whole.
    spanning = set(table.index[table["departements"].str.contains(",")])
    assert spanning == {EPCI_05[k] for k in ("gap", "serre_poncon", "spva", "sisteronais")}
    gap = table.loc[EPCI_05["gap"]]
    assert gap["population"] == 50_565
    assert gap["conseillers_pour_10000_hab"] == pytest.approx(0.198, abs=0.001)
    assert table["conseillers_pour_10000_hab"].idxmin() == EPCI_05["gap"]
    # The list's amounts of the attributions typed by hand and of the 2 posts it counts
    # for 04; not known for the Briançonnais and Champsaur-Valgaudemar (not in the list).
    funding = table["financement_etat_eur"]
    assert set(funding.index[funding.isna()]) == {EPCI_05["briancon"], EPCI_05["champsaur"]}
    assert funding.sum() == 886_862 - 221_715 + 110_858  # less the Département's 4 posts
    assert table["postes_departementaux_repartis"].sum() == pytest.approx(4)
    # Hautes-Alpes is 5 549 km²; its EPCI, whole, cover more.
    assert 5_500 < table["surface_km2"].sum() < 7_500


def test_csv_frame_has_the_required_columns(prepared_05):
    from analyse import schema

    frame = to_csv_frame(prepared_05.indicators)
    # The columns declared in analyse.schema follow (priority territories, trajectory).
    assert list(frame.columns) == CSV_COLUMNS + schema.epci_names()
    for column in [
        "siren_epci",
        "nom_epci",
        "population",
        "postes",
        "conseillers_pour_10000_hab",
        "habitants_par_conseiller",
        "surface_km2",
        "financement_etat_eur",
    ]:
        assert column in frame.columns


def test_density_is_one_formula_for_numbers_and_columns():
    from analyse.analysis.indicators import density

    assert density(1, 50_565) == pytest.approx(0.198, abs=0.001)
    assert pd.isna(density(5, 0)) and pd.isna(density(5, None))
    column = density(pd.Series([1, 5, 0]), pd.Series([50_565, pd.NA, 0], dtype="Int64"))
    assert column.iloc[0] == pytest.approx(0.198, abs=0.001)
    assert column.iloc[1:].isna().all()  # unknown or empty population: never 0, never inf


def test_a_derived_indicator_is_computed_from_the_registry(monkeypatch):
    """``schema.DERIVED_EPCI_COLUMNS`` names the indicators ``@epci_indicator`` computes
    from the other columns of the situation's EPCI (docs/architecture.md)."""
    from analyse import schema
    from analyse.analysis import indicators

    monkeypatch.setattr(indicators, "EPCI_INDICATORS", {})
    monkeypatch.setattr(schema, "DERIVED_EPCI_COLUMNS", [schema.Column("double", "Double")])

    @indicators.epci_indicator("double")
    def double(table):
        return table["postes"] * 2

    out = indicators.derived_indicators(pd.DataFrame({"postes": [1, 2]}))
    assert list(out) == ["double"] and out["double"].tolist() == [2, 4]
