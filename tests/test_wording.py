"""The plain sentences of the reports, checked against the tables they come from."""

from __future__ import annotations

from html import unescape

import pandas as pd

from analyse.wording import fmt_number, summary_sentences


def test_french_numbers():
    assert fmt_number(1234.5, 1) == "1\u202f234,5"
    assert fmt_number(50565) == "50\u202f565"
    assert fmt_number(float("nan")) == "–"


def test_hautes_alpes_sentences_match_the_figures(prepared_05):
    table = prepared_05.indicators
    beyond = prepared_05.context["population_au_dela"]
    gaps = prepared_05.gaps
    funding = prepared_05.context["financement"]
    sentences = summary_sentences(
        table, prepared_05.counts, "des Hautes-Alpes", beyond, gaps, funding=funding
    )
    assert len(sentences) == 5
    # Sentences are HTML (input names escaped): compare their text. What changed for the
    # territory first: posts, coverage, the least covered, the first to reinforce.
    posts, coverage, lowest, priority, remote = (unescape(x) for x in sentences)
    counts = prepared_05.counts
    assert posts.startswith(f"{counts['lus']} postes de conseiller numérique ont été attribués")
    # The list's amounts for 16 posts; none known for the 2 it does not have.
    assert "soit 886\u202f862\u202f€ de financement de l'État" in posts
    assert "montant non connu pour 2 postes" in posts
    assert f"{counts['departementaux']} postes au Conseil départemental" in posts
    # Posts counted for 05 in its EPCI; the table adds the 2 counted for 04 in the
    # Sisteronais-Buëch (national list, read back to the same date).
    located = counts["localises_dans_un_epci_du_departement"]
    assert f"{located} postes dans les intercommunalités" in posts
    assert table["postes"].sum() == located + counts["venus_d_ailleurs"]
    assert coverage == (
        f"Les {len(table)} intercommunalités du département ont toutes au moins un conseiller "
        "numérique."
    )
    worst = table.sort_values("conseillers_pour_10000_hab").iloc[0]
    assert worst["nom_epci"] == "Communauté d'agglomération Gap-Tallard-Durance"
    assert lowest == (
        "La communauté d'agglomération Gap-Tallard-Durance compte 1 conseiller pour "
        f"{fmt_number(worst['habitants_par_conseiller'])} habitants, la densité la plus faible "
        "du département."
    )
    assert fmt_number(beyond["population_au_dela_20km"]) in remote
    share = 100 * beyond["population_au_dela_20km"] / beyond["population"]
    assert f"({fmt_number(share, 1)} % de la population)" in remote
    first = gaps.sort_values("rang_priorite").iloc[0]
    assert first["nom_epci"].split(" ", 3)[-1] in priority
    # Every EPCI reaches the national target: the ranking says what it rests on.
    assert (gaps["postes_manquants_cible_nationale"] == 0).all()
    assert priority.startswith("Aucune intercommunalité ne manque de postes")
    assert "le classement de priorité ne tient qu'à l'éloignement des habitants" in priority


def test_sentences_without_posts_or_distances():
    table = pd.DataFrame(
        {
            "siren_epci": ["1", "2"],
            "nom_epci": ["Communauté de communes A", "Communauté de communes B"],
            "population": [1_000, 2_000],
            "postes": [0, 0],
            "conseillers_pour_10000_hab": [0.0, 0.0],
            "habitants_par_conseiller": [float("nan")] * 2,
        }
    )
    counts = {
        k: 0
        for k in [
            "lus",
            "localises_dans_un_epci_du_departement",
            "departementaux",
            "regionaux",
            "localises_hors_departement",
            "non_localisables",
            "en_revue",
        ]
    }
    sentences = summary_sentences(table, counts, "de l'Isère")
    assert sentences[0].startswith(
        "Aucun poste de conseiller numérique n'apparaît pour le département de l&#x27;Isère"
    )
    assert sentences[1] == (
        "2 intercommunalités sur 2 n’ont aucun conseiller numérique (A, B), pour 3\u202f000 "
        "habitants."
    )
    assert len(sentences) == 2
