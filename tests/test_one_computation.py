"""One computation of the country per situation; every output is a slice of it.

For three months (April 2021, January 2022, April 2023) and five départements (a
mountain one, Isère, the Nord, La Réunion, Corse-du-Sud): the report's CSV rows, the
panel's rows, the monthly index's rows and the fiches' figures are the same values; and
one month of the monthly run computes the country once, not once per département.
"""

from __future__ import annotations

import re
from html import unescape

import pandas as pd
import pytest
from conftest import NATIONAL_FILE

from analyse import config
from analyse.analysis import bundle, pipeline, situation
from analyse.analysis.inputs import load_extras
from analyse.analysis.panel import build_panel, departement_rows
from analyse.render.exports import write_indicators_csv
from analyse.render.exports.panel import csv_frame
from analyse.run.fiches import FicheWriter
from analyse.wording import fmt_number

MONTHS = ["2021-04", "2022-01", "2023-04"]
DEPARTEMENTS = ["05", "38", "59", "974", "2A"]
# A report's columns that are its département's share of an EPCI, not the EPCI's own.
PER_DEPARTEMENT = {
    "population_dans_departement",
    "postes_departementaux_repartis",
    "postes_avec_departementaux_repartis",
    "conseillers_pour_10000_hab_avec_departementaux_repartis",
}
CODES = {"siren_epci": str, "premier_mois_conseiller": str}


@pytest.fixture(scope="module")
def sources(reference):
    selections = pipeline.match_selections([NATIONAL_FILE], reference)
    extras = load_extras(reference, list(config.EMBEDDED_IFN), config.EMBEDDED_PLACES)
    return situation.Sources(selections, reference, extras)


@pytest.fixture(scope="module")
def panel(sources):
    return build_panel(sources, MONTHS)


def _tiles(page: str) -> dict[str, str]:
    found = re.findall(r'data-cle="(\w+)"><span class="valeur">([^<]*)</span>', page)
    return {key: unescape(value) for key, value in found}


@pytest.mark.parametrize("month", MONTHS)
def test_report_panel_index_and_fiches_are_the_same_values(sources, panel, month, tmp_path):
    now = sources.at(month)
    rows = panel.epci.loc[panel.epci["mois"] == month].set_index("siren_epci")
    departements = panel.departements.loc[panel.departements["mois"] == month]
    departements = departements.set_index("departement")
    index = now.index_table().set_index("code")
    writer = FicheWriter(now)
    for code in DEPARTEMENTS:
        # The report's CSV, as the report writes it from its saved bundle.
        saved = bundle.save(now.departement(code), tmp_path / "donnees" / code)
        prepared = bundle.load(code, saved)
        csv = tmp_path / f"{code}.csv"
        write_indicators_csv(prepared.indicators, csv, prepared.context["situation"])
        report = pd.read_csv(csv, dtype=CODES).set_index("siren_epci")
        # The panel's rows of the same EPCI, written as its CSV is.
        mine = rows.loc[report.index].reset_index()
        (tmp_path / "panel.csv").write_text(csv_frame(mine).to_csv(index=False), "utf-8")
        mine = pd.read_csv(tmp_path / "panel.csv", dtype=CODES).set_index("siren_epci")
        shared = [c for c in report.columns if c in mine.columns and c not in PER_DEPARTEMENT]
        assert {"postes", "conseillers_pour_10000_hab", "financement_etat_eur"} <= set(shared)
        assert {"ecart_comparables", "premier_mois_conseiller", "postes_qpv"} <= set(shared)
        pd.testing.assert_frame_equal(
            mine[shared], report[shared], check_dtype=False, obj=f"panel ≠ rapport {code}"
        )
        # The gaps table: the panel's posts missing and score, the report's too.
        gaps = prepared.gaps.set_index("siren_epci")
        far = config.FAR_COLUMN
        for column in ("postes_manquants_cible_nationale", "score_priorite", "ifn", far):
            pd.testing.assert_series_equal(
                rows.loc[gaps.index, column].astype(float),
                gaps[column].astype(float),
                check_names=False,
                obj=f"{column} {code}",
            )
        # The index's row, the panel's row of the département, the report's counts.
        counts = prepared.counts
        assert index.at[code, "postes"] == departements.at[code, "postes_comptes"]
        assert index.at[code, "postes"] == counts["lus"] - counts["rejetes"]
        assert departements.at[code, "postes_localises"] == counts["localises_dans_ses_epci"]
        assert departements.at[code, "cible_nationale"] == prepared.context["cible_nationale"]
        # Each fiche the report links to: its tiles are the report's row.
        written = writer.write_beside(tmp_path / "rapports" / code, code)
        shown = prepared.indicators.set_index("siren_epci")  # the report's, unrounded
        for siren, row in shown.iterrows():
            tiles = _tiles((written.folder / f"{siren}.html").read_text(encoding="utf-8"))
            assert tiles["postes"] == fmt_number(row["postes"]), (code, siren)
            assert tiles["densite"] == fmt_number(row["conseillers_pour_10000_hab"], 2)
            missing = gaps.at[siren, "postes_manquants_cible_nationale"]
            assert tiles.get("manquants") == (None if pd.isna(missing) else fmt_number(missing))
            assert tiles["au_dela_20km"] == fmt_number(gaps.at[siren, far])
        # The fiche's density of the département is the report's target of it.
        rows_of = writer.rows(now.sirens_of([code]))
        for own in rows_of.values():
            dep = own.epci.set_index("departement")
            assert dep.at[code, "densite_departement"] == prepared.context["cible_departementale"]


def test_the_panel_is_the_monthly_situations_stacked(sources, panel):
    for month in MONTHS:
        now = sources.at(month)
        mine = panel.departements.loc[panel.departements["mois"] == month]
        pd.testing.assert_frame_equal(
            mine.reset_index(drop=True), departement_rows(now), check_dtype=False
        )
        epci = panel.epci.loc[panel.epci["mois"] == month].reset_index(drop=True)
        pd.testing.assert_frame_equal(epci, now.panel_rows().reset_index(drop=True))


@pytest.mark.lot
def test_a_month_of_the_monthly_run_computes_the_country_once(reference, tmp_path, monkeypatch):
    """Two départements' reports, their fiches and the index of one month: one
    computation of the country's situation."""
    from analyse.run.monthly import run_months

    computed = []
    compute = situation.Situation.compute.__func__

    def counted(cls, sources, month):
        computed.append(month)
        return compute(cls, sources, month)

    monkeypatch.setattr(situation.Situation, "compute", classmethod(counted))
    selections = pipeline.match_selections([NATIONAL_FILE], reference)
    sources = situation.Sources(selections, reference)
    [result] = run_months(["2022-01"], sources, ["05", "2A"], tmp_path, 1, progress=False)
    assert all(r.ok for r in result.results) and len(result.results) == 2
    assert computed == ["2022-01"]
    for code in ("05", "2A"):
        assert (tmp_path / "2022-01" / code / "epci" / "index.html").is_file()


def test_an_epci_without_ifn_is_scored_by_the_printed_rule(sources):
    """Six EPCI have no IFN in the 2023 file: their fragility term's weight is shared
    between the two others (the printed formula), not counted as the lowest fragility."""
    now = sources.at("2023-04")
    epci = now.epci.set_index("siren_epci")
    lacking = epci.loc[epci["ifn"].isna() & epci["population"].notna()]
    assert set(lacking.index) >= {
        "200096634",
        "200096642",
        "200096675",
        "200096683",
        "992367730",
        "994579670",
    }
    target = now.target[0]
    deficit = ((target - lacking["conseillers_pour_10000_hab"]) / target).clip(0, 1)
    remote = (lacking[config.FAR_COLUMN] / lacking["population"].astype(float)).clip(0, 1)
    rule = (100 * (0.5 * deficit + 0.25 * remote) / 0.75).round(1)
    pd.testing.assert_series_equal(lacking["score_priorite"], rule.astype(float), check_names=False)
    assert epci.at["200096634", "score_priorite"] == 66.7  # CC des Hautes Vosges, not 50,0
    gaps = now.departement("88").gaps.set_index("siren_epci")
    assert gaps.at["200096634", "score_priorite"] == 66.7
