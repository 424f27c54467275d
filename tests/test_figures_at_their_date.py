"""Every figure at its date, on its base, by its rule (issue 30): the hand-typed path's
funding, distances and structures; the comparables' one density; the places' dating
rule said once; the fiches' ties; dates written as they are known; communes nouvelles.

Real data: the default 05 report (the rounds typed by hand, end of April 2021, with the
embedded IFN and places) and the embedded national list of 5 April 2023.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from conftest import EPCI_05, IFN_COMMUNES, IFN_EPCI, NATIONAL_FILE, PLACES_FILE

from analyse import cli, config
from analyse.analysis import inputs, pipeline, scenario, situation
from analyse.render import summary, tables, territories_report
from analyse.render.fiche import MapMaker, fiche_html
from analyse.render.scenario_report import cli_text
from analyse.territory import places

SISTERONAIS = EPCI_05["sisteronais"]


def _text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: no tags, plain spaces."""
    text = html.unescape(re.sub(r"<style.*?</style>|<[^>]+>", " ", fragment, flags=re.S))
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " ")).strip()


@pytest.fixture(scope="module")
def extras(reference):
    return inputs.load_extras(reference, [IFN_COMMUNES, IFN_EPCI], PLACES_FILE)


@pytest.fixture(scope="module")
def hand(reference, extras):
    """The situation of the default 05 report: the rounds typed by hand."""
    return situation.Sources.of(pipeline.match_selections(None, reference), reference, extras)


@pytest.fixture(scope="module")
def hand_05(hand):
    return hand.at().departement("05")


@pytest.fixture(scope="module")
def national(reference):
    return pipeline.match_selections([NATIONAL_FILE], reference)


@pytest.fixture(scope="module")
def listed(national, reference, extras):
    """The national list at its edition (5 April 2023), with the IFN and places."""
    return situation.Sources.of(national, reference, extras).at()


def _names(reference) -> dict:
    return dict(zip(reference.departements["code"], reference.departements["nom"], strict=True))


# ------------------------------------------------- 1. funding of the hand-typed path


def test_hand_rows_take_their_amount_from_the_national_list(hand_05):
    funding = hand_05.context["financement"]
    # 16 of the 18 posts are known to the list (Briançonnais and Champsaur-Valgaudemar
    # are not in it): their amounts, never a flat rate of 50 000 € per post.
    assert round(funding["total"]) == 886_862
    assert funding["postes"] == 18
    assert funding["postes_montant_inconnu"] == 2
    headline = _text(summary.summary_html(hand_05))
    assert "soit 886 862 € de financement de l'État" in headline
    assert "montant non connu pour 2 postes" in headline
    assert "forfait" not in headline


def test_each_epci_funding_is_the_lists_or_said_unknown(hand_05):
    funding = hand_05.indicators.set_index("siren_epci")["financement_etat_eur"]
    # The CC's 4 posts of March 2021 (221 715 €), Orpierre's (55 429 €) and the 2 posts
    # counted for 04 (110 858 €): the list's amounts.
    assert funding[SISTERONAIS] == 388_002
    assert pd.isna(funding[EPCI_05["briancon"]]) and pd.isna(funding[EPCI_05["champsaur"]])
    text = _text(tables.indicators_table(hand_05.indicators))
    assert "montant non connu" in text


# ------------------------------------------------ 2. distances at the situation's date


def test_default_report_measures_distances_with_the_places_of_its_date(hand_05):
    beyond = hand_05.context["population_au_dela"]
    # End of April 2021, not every place of July 2022 (3 621 and 0).
    assert beyond["population_au_dela_20km"] == 5_313
    assert beyond["population_au_dela_30km"] == 468
    assert hand_05.context["lieux_dates"]["mois"] == "2021-04"
    first = hand_05.gaps.sort_values("rang_priorite").iloc[0]
    assert first["siren_epci"] == SISTERONAIS
    assert first["score_priorite"] == pytest.approx(21.0, abs=0.05)
    assert "ceux qui existaient fin avril 2021" in _text(tables.distance_html(hand_05))


def test_the_scenario_uses_and_states_the_places_of_its_date(hand_05):
    result = scenario.scenario_for(hand_05, scenario.Settings(1))
    before = result.summary()["population_au_dela_avant"]
    assert before["20"] == hand_05.context["population_au_dela"]["population_au_dela_20km"]
    # What « analyse scenario » prints.
    out = cli_text(hand_05, result.proposals, result.summary()).replace("\u202f", " ")
    line = next(x for x in out.splitlines() if x.startswith("Lieux existants"))
    assert "1 200 lieux de médiation numérique qui existaient fin avril 2021" in line


@pytest.mark.lent
def test_the_scenario_command_states_the_date_of_its_places(capsys):
    assert cli.main(["scenario", "-d", "05", "--postes", "1"]) == 0
    out = capsys.readouterr().out.replace("\u202f", " ")
    assert "Lieux existants : les 1 200 lieux de médiation numérique qui existaient fin " in out


# --------------------------------------------------------- 3. one structure, counted once


def test_the_hand_typed_cc_and_the_lists_are_one_structure(hand_05):
    row = hand_05.indicators.set_index("siren_epci").loc[SISTERONAIS]
    # The CC (typed « Sisteronais-Buëch », listed « CC DU SISTERONAIS-BUECH ») and the
    # commune d'Orpierre.
    assert row["structures"] == 2
    assert row["structures_zrr"] == 2
    assert row["structures_france_services"] == 1


# ------------------------------------------------ 4. comparables: one density, one class


@pytest.mark.lent
def test_panel_medians_are_those_of_the_epci_carrying_the_class(national, reference):
    rows = situation.Sources.of(national, reference).at("2023-04").panel_rows()
    known = rows.dropna(subset=["conseillers_pour_10000_hab"])
    groups = known.groupby(["type_epci", "classe_densite"])
    medians = groups["conseillers_pour_10000_hab"].median()
    shown = rows.set_index(["type_epci", "classe_densite"])["densite_mediane_comparables"]
    expected = shown.index.map(lambda key: medians.get(key, np.nan))
    np.testing.assert_allclose(shown.to_numpy(float), np.asarray(expected, float))
    assert medians[("CC", "peu dense (moins de 30 hab./km²)")] == pytest.approx(0.6499, abs=5e-5)
    # The class shown is that of the density shown (150,00 hab./km² is « dense »).
    iroise = rows.set_index("siren_epci").loc["242900074"]
    assert iroise["habitants_par_km2"] >= 150
    assert iroise["classe_densite"] == "dense (150 hab./km² ou plus)"
    langres = rows.set_index("siren_epci").loc["200072999"]
    assert langres["habitants_par_km2"] >= 30
    assert langres["classe_densite"] == "intermédiaire (30 à 150 hab./km²)"


# --------------------------------------------------------- 6. the places' dating rule


def test_readme_report_and_code_state_one_dating_rule(listed, hand_05):
    readme = re.sub(r"\s+", " ", (config.PROJECT_ROOT / "README.md").read_text("utf-8"))
    rule = re.sub(r"\s+", " ", places.DATING_RULE)
    assert rule in readme
    assert rule in _text(tables.dated_places_html(hand_05))
    # The counts the README gives are those the code finds.
    counts = {rule: f"{n:,}".replace(",", " ") for rule, n in listed.dating["par_regle"].items()}
    said = (
        f"Sur les 2 733 lieux embarqués, {counts[places.DATED_BY_SIRET]} sont datés par le "
        f"SIRET de leur structure, {counts[places.DATED_BY_SIREN]} par son SIREN, "
        f"{counts[places.DATED_BY_COMMUNE]} par leur commune, "
        f"{counts[places.DATED_BY_EPCI]} par leur intercommunalité et "
        f"{counts[places.DATED_BY_DEPARTEMENT]} par leur département."
    )
    assert said in readme


def test_posts_of_an_epci_or_a_departement_date_no_commune(national, extras):
    """The README's example: a place of Sisteron, the seat of the CC du Sisteronais-Buëch,
    is dated by the CC's post at the EPCI's step, not as a post of Sisteron."""
    dated = places.date_places(extras.places, national.table)
    antenne = dated.loc[dated["nom"] == "ANTENNE LOCALE CROIX ROUGE DE SISTERON"].iloc[0]
    assert antenne["insee"] == "04209"
    assert antenne["datation"] == places.DATED_BY_EPCI
    assert antenne["date_debut"] == pd.Timestamp("2021-03-24")
    located = national.table.loc[national.table["statut"].eq("epci")]
    assert not located["insee_commune"].eq("04209").any()  # no post situated in Sisteron
    assert "Sisteron" in places.DATING_RULE and "24/03/2021" in places.DATING_RULE


# ------------------------------------------------------------ 7. fiches break ties the rule's way


@pytest.mark.parametrize(
    ("siren", "first"),
    [
        ("200066678", "Sansac-Veinazès"),  # IFN 8,0, before Roannes-Saint-Mary (6,6)
        ("200066363", "Tignac"),  # IFN 7,8, before Appy (6,4), both 25 inhabitants
        ("200068880", "Saint-Valentin"),  # IFN 7,6, before Neuvy-Pailloux (6,6)
    ],
)
def test_fiches_break_ties_by_the_scenarios_rule(listed, siren, first):
    rows = listed.fiche_rows([siren]).of(siren)
    assert rows.proposals.iloc[0]["commune"] == first
    assert rows.proposals.iloc[0]["ex_aequo"] == 1


# ----------------------------------------------------------------- 8. dates as known


@pytest.mark.parametrize("code", ["38", "59"])
def test_a_list_of_5_april_is_at_5_april_never_end_of_april(listed, code):
    prepared = listed.departement(code)
    headline = _text(summary.summary_html(prepared))
    assert "fin avril 2023" not in headline
    assert "(au 5 avril 2023)" in headline
    assert "jusqu'au 5 avril 2023" in prepared.context["cible_nationale_calcul"]
    trajectory = _text(territories_report.trajectory_html(prepared))
    assert "Postes au 5 avril 2023" in trajectory and "fin avril 2023" not in trajectory
    assert "fin avril 2023" not in _text(tables.distance_html(prepared))
    assert "fin avril 2023" not in _text(tables.dated_places_html(prepared))


def test_fiches_of_the_list_say_5_april(listed, reference):
    siren = "200040715"  # Grenoble-Alpes Métropole
    text = _text(
        fiche_html(listed.fiche_rows([siren]).of(siren), MapMaker(reference), _names(reference))
    )
    assert "fin avril 2023" not in text
    assert "au 5 avril 2023" in text


def test_a_committee_known_by_its_month_is_not_given_a_day(hand, reference):
    rows = hand.at().fiche_rows([SISTERONAIS]).of(SISTERONAIS)
    text = _text(fiche_html(rows, MapMaker(reference), _names(reference)))
    assert "comité de mars 2021" in text
    assert "1er mars 2021" not in text
    assert "comité du 14 avril 2021" in text  # the list's row, counted for 04


# ----------------------------------------------------------- 9. communes nouvelles


def test_communes_nouvelles_are_communes(national):
    rows = national.table
    march = rows.loc[rows["departement"].eq("38") & rows["mois_comite"].eq("2021-03")]
    communes = march.loc[march["type_structure"].eq("commune")]
    # Échirolles 3, Val-de-Virieu 1 (a commune nouvelle: SIREN 200083491), Vizille 1.
    assert int(communes["postes"].sum()) == 5
    assert "COMMUNE DE VAL-DE-VIRIEU" in set(communes["structure"])
    # Named « COMMUNE DE … » but with the SIREN of a public establishment (a CCAS's):
    # not a commune.
    villeurbanne = rows.loc[rows["code"].eq("26691018100012"), "type_structure"]
    assert set(villeurbanne) == {"autre"}
