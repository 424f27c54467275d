"""One date per report: the date it describes, shown where an official looks, and every
figure of that date: national figures read from the national list read back to it,
funding from the list's amounts, one base for each ratio, placement ties said."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import EPCI_05, IFN_COMMUNES, IFN_EPCI, NATIONAL_FILE, PLACES_FILE

from analyse import cli
from analyse.analysis import inputs, pipeline, situation
from analyse.analysis.bundle import situation_day
from analyse.analysis.indicators import density
from analyse.analysis.scenario import Settings, scenario_for
from analyse.render import summary, tables, territories_report
from analyse.run.report import report_title


def _text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: no tags, plain spaces."""
    text = html.unescape(re.sub(r"<style.*?</style>|<[^>]+>", " ", fragment, flags=re.S))
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " ")).strip()


def _items(summary: str) -> list[str]:
    return [_text(item) for item in re.findall(r"<li>(.*?)</li>", summary, flags=re.S)]


def _situation(summary: str) -> str:
    """The line under « En bref »: the date described and where its figures come from."""
    return _text(re.search(r'<p class="note situation">(.*?)</p>', summary, flags=re.S)[1])


@pytest.fixture(scope="module")
def extras(reference):
    # What « make rapport » uses by default: the embedded IFN and places.
    return inputs.load_extras(reference, [IFN_COMMUNES, IFN_EPCI], PLACES_FILE)


@pytest.fixture(scope="module")
def hand_05(reference, extras):
    """The default report of 05: the rounds typed by hand (March and April 2021)."""
    return situation.prepare(
        "05", pipeline.match_selections(None, reference), reference, None, extras
    )


@pytest.fixture(scope="module")
def national(reference):
    return pipeline.match_selections([NATIONAL_FILE], reference)


# ------------------------------------------------------------------ 1. one date, shown


def test_the_default_report_states_the_end_of_april_2021(hand_05):
    assert hand_05.context["situation"] == {"mois": "2021-04", "date": None}
    assert (
        report_title(hand_05)
        == "Conseillers numériques — Hautes-Alpes (05), situation fin avril 2021"
    )
    headline = summary.summary_html(hand_05)
    items = _items(headline)
    # The date and where the figures come from, under « En bref ».
    assert _situation(headline).startswith("Situation à la fin avril 2021")
    # Sentences describe that date, not now; the posts first.
    assert items[0].startswith(
        "À la fin avril 2021, 18 postes de conseiller numérique avaient été attribués"
    )
    assert "avaient toutes au moins un conseiller" in " ".join(items)
    assert situation_day(hand_05.context["situation"]) == "2021-04-30"


def test_a_national_list_report_is_dated_by_its_edition(national, reference):
    prepared = situation.prepare("38", national, reference)
    assert prepared.context["situation"] == {"mois": "2023-04", "date": "2023-04-05"}
    assert report_title(prepared).endswith("(38), situation au 5 avril 2023")
    headline = summary.summary_html(prepared)
    assert _situation(headline).startswith("Situation au 5 avril 2023")
    assert _items(headline)[0].startswith("Au 5 avril 2023, ")
    # A month asked for is the end of that month.
    monthly = situation.prepare("38", national, reference, month="2021-06")
    assert report_title(monthly).endswith("situation fin juin 2021")


# ------------------------------------------------------ 2. national figures at that date


def test_the_national_list_read_back_to_a_month(national, reference):
    seed = pipeline.match_selections(None, reference)
    at = pipeline.national_list_at(seed, reference)  # the rounds' own date: April 2021
    assert at.table["postes"].sum() == 1_202
    assert pipeline.national_list_at(national, reference, "2021-04").table["postes"].sum() == 1_202
    assert pipeline.national_list_at(national, reference).table["postes"].sum() == 3_925


def test_the_default_report_judges_05_by_the_target_of_april_2021(hand_05):
    assert hand_05.context["cible_nationale"] == pytest.approx(0.18, abs=0.005)
    text = _text(tables.targets_html(hand_05))
    assert "Cible nationale : 0,18 conseiller" in text
    assert "1 202 postes attribués par les comités jusqu'à fin avril 2021" in text
    assert "liste nationale du 5 avril 2023 relue à cette date" in text
    # Gap-Tallard-Durance is above the national density of that date.
    gaps = hand_05.gaps.set_index("siren_epci")
    assert gaps.loc[EPCI_05["gap"], "postes_manquants_cible_nationale"] == 0
    (priority,) = [
        s for s in _items(summary.summary_html(hand_05)) if "classement de priorité" in s
    ]
    assert "Gap-Tallard-Durance" not in priority


def test_posts_counted_for_04_in_the_sisteronais_come_from_the_national_list(hand_05):
    assert hand_05.counts["venus_d_ailleurs"] == 2
    # 4 for the CC and 1 for Orpierre typed by hand, 2 counted for 04 in the list.
    assert hand_05.indicators.set_index("siren_epci").loc[EPCI_05["sisteronais"], "postes"] == 7
    text = _text(tables.crossing_tables(hand_05))
    assert (
        "2 postes comptés pour les Alpes-de-Haute-Provence, liste nationale (Communauté de "
        "communes du Sisteronais-Buëch, 14/04/2021)"
    ) in text


def test_flags_of_hand_rows_come_from_the_national_list(hand_05):
    territories = hand_05.context["territoires_prioritaires"]
    dep, france = territories["departement"], territories["france"]
    # Briançonnais and Champsaur-Valgaudemar are not in the list: unknown, not « non ».
    assert (dep["postes_zrr"], dep["postes_zrr_non_documente"]) == (9, 2)
    assert dep["postes_france_services"] == 9
    # France at the same date: 1 202 posts.
    assert france["postes"] == 1_202
    rows = territories_report.priority_rows(territories)
    assert [r["postes"] for r in rows] == ["1", "9", "9"]
    assert "repris de la liste nationale" in territories_report.priority_html(hand_05)


def test_a_flag_nobody_documents_reads_non_renseigne_never_zero():
    counts = {"postes": 3}
    for flag in ("qpv", "zrr", "france_services"):
        counts |= {f"postes_{flag}": 0, f"postes_{flag}_non_documente": 3}
    rows = territories_report.priority_rows({"departement": counts, "france": None})
    assert {r["part"] for r in rows} == {"non renseigné"}
    assert {r["postes"] for r in rows} == {"non renseigné"}


# ------------------------------------------------------------- 5. each figure its source


def test_funding_comes_from_the_lists_amounts(national, reference):
    assert national.table["financement_etat_eur"].sum() == 191_973_121  # 191,97 M€
    for code, euros in (("05", 1_241_723), ("976", 3_145_585)):
        prepared = situation.prepare(code, national, reference)
        assert prepared.context["financement"]["total"] == euros
        assert prepared.context["financement"]["postes_montant_inconnu"] == 0
    assert "soit 1 241 723 € de financement de l'État :" in _text(
        summary.summary_html(situation.prepare("05", national, reference))
    )


def test_hand_rows_without_an_amount_take_the_lists_or_say_it_is_not_known(hand_05):
    headline = _text(summary.summary_html(hand_05))
    assert (
        "soit 886 862 € de financement de l'État (montants de la liste nationale ; montant "
        "non connu pour 2 postes)"
    ) in headline


def test_the_departement_target_counts_the_posts_the_epci_are_scored_on(national, reference):
    prepared = situation.prepare("05", national, reference)
    indicators = prepared.indicators
    # The Conseil départemental's 5 posts are not in any EPCI: not in the target either.
    expected = density(indicators["postes"].sum(), indicators["population"].sum())
    assert prepared.context["cible_departementale"] == pytest.approx(expected)
    assert "le Conseil départemental" in prepared.context["cible_departementale_calcul"]
    # Posts missing to that target: the EPCI below it lack at most the posts above it.
    gaps = prepared.gaps
    below = gaps["postes_manquants_cible_departementale"].astype(int).sum()
    target = prepared.context["cible_departementale"]
    above = (gaps["postes"] - target * gaps["population"] / 10_000).clip(lower=0).sum()
    assert below <= above + len(gaps)  # whole posts: one rounding per EPCI at most


def test_placement_ties_are_counted_and_broken_by_the_stated_rule(hand_05):
    result = scenario_for(hand_05, Settings(1))
    first = result.proposals.iloc[0]
    assert first["ex_aequo"] == 9  # 10 communes bring as much (places of April 2021)
    summary = result.summary()
    assert "plus forte fragilité numérique" in summary["regle_ex_aequo"]


def test_scenario_command_says_how_many_communes_tie(capsys):
    assert cli.main(["scenario", "-d", "05", "--postes", "1"]) == 0
    out = capsys.readouterr().out.replace("\u202f", " ")
    assert "ex aequo avec 9 autres communes" in out
    assert "plus forte fragilité numérique (IFN), puis la plus peuplée" in out


def test_the_csv_starts_with_the_date_it_describes(hand_05, tmp_path):
    from analyse.render.exports import write_indicators_csv

    target = tmp_path / "indicateurs_epci.csv"
    write_indicators_csv(hand_05.indicators, target, hand_05.context["situation"])
    table = pd.read_csv(target, dtype=str)
    assert table.columns[0] == "date_situation"
    assert set(table["date_situation"]) == {"2021-04-30"}


def test_workbook_and_geopackage_carry_the_date(hand_05, tmp_path):
    import pyogrio
    from openpyxl import load_workbook

    from analyse.render import exports
    from analyse.render.exports import situation_metadata

    meta = situation_metadata(report_title(hand_05), hand_05.context["situation"])
    workbook = tmp_path / "couverture.xlsx"
    exports.write_workbook(
        workbook, hand_05.indicators, hand_05.gaps, hand_05.review, metadata=meta
    )
    properties = load_workbook(workbook).properties
    assert properties.subject == "situation fin avril 2021"
    assert properties.keywords == "date_situation=2021-04-30"
    assert properties.title.endswith("situation fin avril 2021")
    geopackage = tmp_path / "couverture.gpkg"
    exports.write_geopackage(
        geopackage, hand_05.gaps_geo, hand_05.communes, hand_05.places, metadata=meta
    )
    info = pyogrio.read_info(geopackage, layer="epci")
    assert info["layer_metadata"]["date_situation"] == "2021-04-30"
    assert info["layer_metadata"]["situation"] == "situation fin avril 2021"
    # Opened by a reader as QGIS would (GDAL's defaults, in a process of its own), the
    # GeoPackage stays one file: no « couverture.gpkg.aux.xml » appears beside it.
    reader = "import sys, geopandas; geopandas.read_file(sys.argv[1], layer='epci')"
    subprocess.run([sys.executable, "-c", reader, str(geopackage)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["couverture.gpkg", "couverture.xlsx"]


def test_a_typed_file_may_give_each_rows_funding(tmp_path):
    from analyse.read.selections import SelectionError, read_selection_file

    path = tmp_path / "comite.csv"
    path.write_text(
        "date_comite,departement,structure,type_structure,postes,financement\n"
        "2021-04,05,Gap,commune,2,110 858 €\n"
        "2021-04,05,Orpierre,commune,1,\n",
        encoding="utf-8",
    )
    rows = read_selection_file(path)
    assert rows["financement_etat_eur"].iloc[0] == 110_858
    assert pd.isna(rows["financement_etat_eur"].iloc[1])  # the list's, else not known
    path.write_text(
        "date_comite,departement,structure,type_structure,postes,financement\n"
        "2021-04,05,Gap,commune,2,beaucoup\n",
        encoding="utf-8",
    )
    with pytest.raises(SelectionError, match="financement illisible « beaucoup »"):
        read_selection_file(path)
