"""Priority territories, trajectories, comparison with similar EPCI."""

from __future__ import annotations

import pandas as pd
import pytest

from analyse import config
from analyse.analysis import pipeline, situation, trajectory
from analyse.analysis.comparison import density_class

# The embedded copy (data/raw/SOURCES.md); pandas reads the .gz itself.
NATIONAL = config.EMBEDDED_NATIONAL_LIST
FLAGS = {"qpv": "QPV", "zrr": "ZRR", "france_services": "France services"}
UNDOCUMENTED = {"Non défini", "non renseigné", "sans objet"}


@pytest.fixture(scope="module")
def national(reference):
    return pipeline.match_selections([NATIONAL], reference)


@pytest.fixture(scope="module")
def prepared(national, reference):
    return situation.prepare("05", national, reference, month="2023-04")


def _raw_counts(raw: pd.DataFrame) -> dict:
    """The independent count: plain pandas on the raw file, structures by SIRET."""
    posts = raw["Nombre de conseillers validés par le COSELEC"].astype(int)
    counts = {"postes": int(posts.sum()), "structures": raw["SIRET"].nunique()}
    for ours, theirs in FLAGS.items():
        for suffix, values in (("", {"oui"}), ("_non_documente", UNDOCUMENTED)):
            mask = raw[theirs].isin(values)
            counts[f"postes_{ours}{suffix}"] = int(posts[mask].sum())
            counts[f"structures_{ours}{suffix}"] = raw.loc[mask, "SIRET"].nunique()
    return counts


def test_flag_counts_equal_an_independent_count_of_the_raw_file(prepared):
    raw = pd.read_csv(NATIONAL, sep=";", dtype=str, keep_default_na=False)
    found = prepared.context["territoires_prioritaires"]
    assert found["france"] == _raw_counts(raw)
    assert found["departement"] == _raw_counts(raw.loc[raw["Code département"] == "5"])
    # Real values, read once by hand: 10 of the 25 posts of 05 are in ZRR.
    assert (found["departement"]["postes"], found["departement"]["postes_zrr"]) == (25, 10)
    # « Non documenté » is never folded into « non ».
    assert found["france"]["postes_qpv_non_documente"] > 0


def test_epci_columns_sum_to_the_posts_located_in_them(prepared):
    ind = prepared.indicators
    located = prepared.counts["localises_dans_ses_epci"]
    assert ind["postes"].sum() == located
    sisteron = ind.loc[ind["nom_epci"].str.contains("Sisteronais")].iloc[0]
    assert (sisteron["postes_zrr"], sisteron["postes_france_services"]) == (7, 6)


def test_trajectory_of_each_epci_and_first_month(prepared):
    history = prepared.trajectory
    assert history["mois"].min() == "2021-03" and history["mois"].max() == "2023-04"
    assert history["siren_epci"].nunique() == len(prepared.indicators)
    last = history.loc[history["mois"] == "2023-04"].set_index("siren_epci")["postes"]
    assert last.to_dict() == prepared.indicators.set_index("siren_epci")["postes"].to_dict()
    gap = prepared.indicators.set_index("nom_epci").loc[
        "Communauté d'agglomération Gap-Tallard-Durance"
    ]
    assert gap["premier_mois_conseiller"] == "2021-04"


def test_trajectory_counts_earlier_committees_in_the_first_month():
    rows = pd.DataFrame(
        {"departement": ["05", "05"], "mois_comite": ["2021-01", "2021-04"], "postes": [2, 3]}
    )
    wide = trajectory._cumulative(rows, "departement", trajectory.month_range("2021-05"))
    assert wide.loc["05"].tolist() == [2, 5, 5]


def test_comparables_are_same_kind_and_density_class(prepared):
    ind = prepared.indicators
    assert density_class(pd.Series([10.0, 30.0, 149.9, 150.0])).tolist() == [
        "peu dense (moins de 30 hab./km²)",
        "intermédiaire (30 à 150 hab./km²)",
        "intermédiaire (30 à 150 hab./km²)",
        "dense (150 hab./km² ou plus)",
    ]
    ccs = ind.loc[ind["type_epci"] == "CC"]
    assert ccs["densite_mediane_meme_type"].nunique() == 1
    assert ind["densite_mediane_comparables"].notna().all()
    diff = ind["conseillers_pour_10000_hab"] - ind["densite_mediane_comparables"]
    assert (diff - ind["ecart_comparables"]).abs().max() < 1e-12


@pytest.fixture(scope="module")
def monthly_05(tmp_path_factory):
    from analyse import cli

    out = tmp_path_factory.mktemp("mensuel")
    args = ["mensuel", "--mois", "2023-04", "--selections", str(NATIONAL)]
    assert cli.main([*args, "--departements", "05", "--jobs", "1", "--sortie", str(out)]) == 0
    return out / "2023-04"


def _text(path) -> str:
    import html
    import re

    page = re.sub(r"<(style|script)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.lot
def test_monthly_report_shows_each_epci_trajectory(monthly_05):
    page = (monthly_05 / "05" / "rapport.html").read_text(encoding="utf-8")
    text = _text(monthly_05 / "05" / "rapport.html")
    assert "Mois après mois : la couverture de chaque intercommunalité" in text
    assert "densité de conseillers de chaque intercommunalité à la fin de chaque mois" in page
    # The first month of each EPCI, and « jamais » for the two without a conseiller.
    assert "Communauté d'agglomération Gap-Tallard-Durance avril 2021 6 6 6" in text
    assert text.count(" jamais ") == 2
    # Priority territories and comparison, with their sentences in « En bref ».
    assert "40 % des postes du département sont dans des structures en zone de " in text
    assert "contre 18 % des postes de toute la France" in text
    assert "Sont comparables les intercommunalités de même nature" in text


@pytest.mark.lot
def test_workbook_has_the_monthly_table(monthly_05):
    from openpyxl import load_workbook

    sheet = load_workbook(monthly_05 / "05" / "couverture.xlsx")["Trajectoire"]
    rows = list(sheet.values)
    assert rows[0][:4] == ("SIREN", "Intercommunalité", "Mois (fin de)", "Postes")
    assert len(rows) == 1 + 9 * 26  # nine EPCI, March 2021 to April 2023
    last = {r[1]: r[3] for r in rows[1:] if r[2] == "2023-04"}
    assert last["Communauté de communes du Sisteronais-Buëch"] == 7
    csv = (monthly_05 / "05" / "indicateurs_epci.csv").read_text(encoding="utf-8")
    assert "postes_zrr_non_documente" in csv.splitlines()[0]


@pytest.mark.lot
def test_index_shows_each_departement_trajectory(monthly_05):
    page = (monthly_05 / "index.html").read_text(encoding="utf-8")
    assert page.count('<svg class="sparkline"') >= 100
    assert "Hautes-Alpes : de 0,64 à 1,77 conseiller pour 10" in page
    assert '<th><button type="button">En ZRR</button></th>' in page
    assert 'data-tri="0.400000">40 %<br><small>n. d. 0 %</small>' in page
