"""Right French in what an official reads (issue 32, items 3, 4, 7 and 8), read as text.

The visible text (``francais.visible_text``: text, SVG text, alt, aria-label, title) of
the reports of 05, 38, 59, 75, 974 and 2A, of the index of June 2021, of the fiches of
Hautes-Alpes and Isère and of their search page holds none of the slips of
``francais.SLIPS``: a plural after 0 or 1, « de Le » / « à Les », « -0,00 », a
hyphen-minus for a negative number, a missing space after a full stop, a lower-case
sentence start, and the Mayotte decree where Mayotte is not shown. « En bref » says what
changed first, in 150 words at most; its ranking and its comparison of shares say what
they rest on.
"""

from __future__ import annotations

import re

import pytest
from francais import SLIPS, slips, visible_text, words

# What the issue quoted: each is caught.
SEEN_WRONG = {
    "pluriel après 0 ou 1": ["1 postes manquants", "0 postes situés", "0 habitants à plus"],
    "article non contracté": ["Densité de Le Grésivaudan", "de Les Balcons du Dauphiné"],
    "zéro négatif": ["écart -0,00", "écart −0,00"],
    "trait d'union pour un signe moins": ["(-0,38)", "\n-34\u202f297\n"],
    "espace manquante après un point": ["aucun poste n'est documenté.Les décisions", "(x).Les"],
    "minuscule en début de phrase": ["Données utilisées. communes, intercommunalités"],
}
# The same, written right; and what looks like a slip but is not.
SAID_RIGHT = [
    "0 poste, 1 poste manquant, 1,5 poste, 0 habitant",
    "Priorité n° 1 des intercommunalités ; 1 mois ; 10 postes ; 21 habitants",
    "du Grésivaudan, des Balcons du Dauphiné, aux Orres, au Monêtier-les-Bains",
    "−0,38 ; −34\u202f297 ; +0,12 ; 0,00",
    "Saint-Martin-d'Hères, 2021-04, data.gouv.fr, route D-94 ; fin avril 2021.",
    "n. d. : non documenté. Les décisions ; ASS DU CENTRE SOCIAL A.MALRAUX ; EMERGENCE O.I",
]


@pytest.mark.parametrize("slip", list(SEEN_WRONG))
def test_slips_are_caught(slip):
    for text in SEEN_WRONG[slip]:
        assert slip in slips(text), text


def test_right_french_is_not_a_slip():
    assert set(SEEN_WRONG) == set(SLIPS)
    for text in SAID_RIGHT:
        assert slips(text) == {}, text


def test_mayotte_decree_only_where_mayotte_is_shown():
    footer = (
        "Mayotte : INSEE, populations légales des communes de Mayotte en 2017 (décret n° 2017-1688)"
    )
    assert "décret de Mayotte sans Mayotte" in slips(footer)
    assert slips(footer, mayotte=True) == {}


def _resume(page: str) -> str:
    found = re.search(r'<div class="resume">(.*?)</div>', page, re.S)
    assert found, "pas de « En bref »"
    return visible_text(found.group(1))


@pytest.mark.lent
@pytest.mark.parametrize("which", ["index", "recherche", "fiches"])
def test_pages_without_kernel_hold_no_slip(officials_pages, which):
    path = officials_pages[which]
    files = sorted(path.glob("*.html")) if path.is_dir() else [path]
    assert len(files) >= (27 if which == "fiches" else 1)
    found = {}
    for file in files:
        # The index shows Mayotte on its map of France.
        found.update(
            {
                f"{file.name} : {slip}": hits
                for slip, hits in slips(
                    visible_text(file.read_text(encoding="utf-8")), mayotte=which == "index"
                ).items()
            }
        )
    assert found == {}


@pytest.mark.lot
@pytest.mark.parametrize("departement", ["05", "38", "05-liste", "59", "75", "974", "2A"])
def test_reports_hold_no_slip(officials_reports, departement):
    page = officials_reports[departement].read_text(encoding="utf-8")
    assert slips(visible_text(page), mayotte=departement == "976") == {}


@pytest.mark.lot
@pytest.mark.parametrize("departement", ["05", "38", "05-liste", "59", "75", "974", "2A"])
def test_en_bref_says_what_changed_first_in_150_words(officials_reports, departement):
    summary = _resume(officials_reports[departement].read_text(encoding="utf-8"))
    print(f"{departement} : « En bref » en {words(summary)} mots")
    assert words(summary) <= 150, summary
    # The posts come first; where the figures come from, last.
    items = summary.split("\n")[1:]
    assert re.search(r"\bpostes?\b", items[0]), items[0]
    assert not items[0].startswith("Situation"), items[0]


@pytest.mark.lot
def test_ranking_says_what_it_rests_on_when_no_epci_lacks_posts(officials_reports):
    """Hautes-Alpes, end of April 2021: every EPCI is above the national target, so the
    ranking is fragility and distance alone; the report says so where the ranking is
    shown and in « En bref »."""
    page = officials_reports["05"].read_text(encoding="utf-8")
    said = r"aucune intercommunalité ne manqu(?:e|ait) de postes"
    summary = _resume(page).lower()
    assert re.search(said, summary.replace("\n", " ")), summary
    ranking = page.split("Postes manquants et priorités", 1)[1].split("<h2", 1)[0]
    assert re.search(said, visible_text(ranking).lower().replace("\n", " "))


@pytest.mark.lot
@pytest.mark.parametrize("departement", ["05", "38", "05-liste", "59", "75", "974", "2A"])
def test_shares_of_posts_carry_their_caveat(officials_reports, departement):
    """A share of posts in QPV or ZRR compared with the nation's says it is a share of
    posts, not of inhabitants."""
    summary = _resume(officials_reports[departement].read_text(encoding="utf-8"))
    for sentence in re.findall(
        r"[^\n]*\bcontre\b[^\n]*(?:QPV|ZRR)[^\n]*|[^\n]*(?:QPV|ZRR)[^\n]*\bcontre\b[^\n]*", summary
    ):
        assert "pas la part des habitants" in sentence, sentence
