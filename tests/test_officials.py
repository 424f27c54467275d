"""The officials' part of the report speaks plain French.

Reports of 05, 59, 75, 974 and 2A built from the national list: everything before the
section « Pour les analystes » must hold no developer vocabulary (options, paths, line
numbers, checksums, matching scores, ISO dates and months), and the names and grammar
seen wrong must read right.
"""

from __future__ import annotations

import html as html_lib
import re

import pytest
from conftest import OFFICIALS_DEPARTEMENTS

pytestmark = pytest.mark.lot

ANALYSTS_START = '<details class="analystes"'

# What an elected official must not read, as regular expressions on the visible text.
FORBIDDEN = {
    "option de la ligne de commande": r"--[a-z]",
    "option --lieux": r"option --lieux",
    "option --fragilite": r"option --fragilite",
    "fichier et numéro de ligne": r"\.(?:csv|json|xlsx?)\b|, l\. \d",
    "chemin local": r"\.\./|/tmp/|shared/data|data/raw",
    "score de rapprochement": r"nom approché|\(score \d+\)",
    "somme de contrôle": r"sha256",
    "département désigné par son code": r"Département (?:\d|2[AB])",
    "mois AAAA-MM": r"\b20\d\d-[01]\d\b",
    "date ISO": r"\d{4}-\d\d-\d\dT\d\d:",
    "accord au pluriel avec une seule intercommunalité": r"Les 1 intercommunalités",
    "nombre sans séparateur de milliers": r"\b\d{4,} (?:postes|habitants)",
    "fichiers ne couvrant pas le pays": r"ne couvrent pas tout le pays",
    "intercommunalité mal nommée": r"communauté d'agglomération Intercommunale",
    "commune sans son article": r">(?:Tampon|Port|Possession|Bassée|Cateau-Cambrésis)<",
    "espace sécable avant une ponctuation haute": r" [?!:;]",
}


def officials_text(page: str) -> str:
    """The visible text of the officials' part: before the analysts' section, without
    styles and tags (cell boundaries kept as > and < for the names)."""
    assert page.count(ANALYSTS_START) == 1
    part = page.split("<body", 1)[1].split(ANALYSTS_START, 1)[0]
    part = re.sub(r"<style.*?</style>", "", part, flags=re.S)
    part = re.sub(r"<img[^>]*>", "", part)
    part = re.sub(r"<(?:td|th)[^>]*>", ">", part)
    part = re.sub(r"</(?:td|th)>", "<", part)
    part = re.sub(r"<[a-z/][^>]*>", " ", part)
    return html_lib.unescape(part)


@pytest.fixture(scope="module")
def pages(national_reports) -> dict[str, str]:
    return {
        dep: (national_reports / dep / "rapport.html").read_text(encoding="utf-8")
        for dep in OFFICIALS_DEPARTEMENTS
    }


@pytest.mark.parametrize("departement", OFFICIALS_DEPARTEMENTS)
def test_officials_part_has_no_developer_vocabulary(pages, departement):
    text = officials_text(pages[departement])
    found = {
        what: sorted(set(re.findall(r".{0,40}" + pattern + r".{0,20}", text)))[:3]
        for what, pattern in FORBIDDEN.items()
        if re.search(pattern, text)
    }
    assert found == {}


def test_analysts_part_keeps_the_detail(pages):
    analysts = pages["05"].split(ANALYSTS_START, 1)[1]
    for detail in ("Pour les analystes", "sha256", ", l. ", "(commit ", "couverture.xlsx"):
        assert detail in analysts, detail


def test_names_and_grammar_read_right(pages):
    reunion = officials_text(pages["974"])
    assert ">Le Tampon<" in reunion and ">Le Port<" in reunion
    corse = officials_text(pages["2A"])
    assert "Conseil départemental" not in corse
    assert "Collectivité de Corse" in corse
    paris = officials_text(pages["75"])
    # Written at the date the report describes: the extract's edition, its last committee.
    assert re.search(
        r"Au \d{1,2}(?:er)? [a-zéû]+ 20\d\d, la seule intercommunalité du département, la "
        r"métropole du Grand Paris",
        paris,
    )
    assert "la densité la plus faible" not in paris
    nord = officials_text(pages["59"])
    assert ">La Bassée<" in nord or "La Bassée" in nord
    hautes_alpes = officials_text(pages["05"])
    assert re.search(r"\b(?:mars|avril|juin) 2021\b", hautes_alpes)
    assert re.search(r"Rapport établi le \d{1,2}(?:er)? [a-zéû]+ 20\d\d", hautes_alpes)
    # The variant table shows the population its density is computed on.
    assert "Population de l'intercommunalité (base de la densité)" in hautes_alpes
