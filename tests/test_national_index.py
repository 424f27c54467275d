"""The monthly index page as its reader sees it, on the embedded national list.

The page is read back as text (what a browser shows: title, paragraphs, every cell of the
table, the notes, the sparklines' tooltips), so that its wording and figures are pinned
whatever the HTML around them; its sort keys are checked for the page's own script.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import NATIONAL_FILE

from analyse.analysis import pipeline, situation
from analyse.render.national import index_html

LINKS = {"05": "05/rapport.html", "59": "59/rapport.html"}
# The map as ``figure_svg`` gives it (drawn for real by the index's browser tests).
MAP_ALT = "Carte de France des conseillers numériques pour 10 000 habitants, par département"
MAP = f'<svg class="figure" role="img" aria-label="{MAP_ALT}"></svg>'
HEADERS = [
    "Code",
    "Département",
    "Postes",
    "Population",
    "Conseillers pour 10 000 hab.",
    "Évolution sur le mois",
    "En QPV",
    "En ZRR",
    "France Services",
]
NOTES = (
    "Postes comptés par département comme l'ANCT les compte (« Code département » de la "
    "liste nationale). Colonnes « En QPV », « En ZRR », « France Services » : parts des "
    "postes dans des structures en QPV, en ZRR ou labellisées France Services, d'après la "
    "liste nationale ; « n. d. » : non documenté (ni oui ni non dans la liste). La courbe "
    "montre la densité de conseillers du département à la fin de chaque mois. "
    "Généré le maintenant."
)
PER_10000 = "conseiller pour 10 000 habitants"
EDITION = "liste nationale du 5 avril 2023"


class _Reader(HTMLParser):
    """What a reader of the page sees, element by element (no style, no script)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: dict[str, list[str]] = {}  # element → its texts, in order
        self.rows: list[list[str]] = []  # each table row: its cells' texts
        self.keys: list[list[str | None]] = []  # each body row: its cells' sort keys
        self.links: dict[str, str] = {}  # link text → href
        self.images: list[dict] = []
        self.scripts: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and attrs.get("class") == "figure":
            self.images.append(attrs)
        if tag in ("br", "img", "meta", "circle", "polyline"):
            if tag == "img":
                self.images.append(attrs)
            if tag == "br":
                self._data(" ")
            return
        self.open.append(tag)
        if tag == "tr":
            self.rows.append([])
            self.keys.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self.keys[-1].append(attrs.get("data-tri"))
        elif tag == "a":
            self._href = attrs.get("href")
        elif tag == "p":
            self.text.setdefault("p", []).append("")

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass
        if tag == "a":
            self._href = None

    def handle_data(self, data):
        if "script" in self.open:
            self.scripts.append(data)
        elif "style" not in self.open:
            self._data(data)

    def _data(self, data: str) -> None:
        for tag in ("title", "h1", "footer"):
            if tag in self.open and "svg" not in self.open:
                self.text.setdefault(tag, [""])[-1] += data
        if "p" in self.open:
            self.text["p"][-1] += data
        if self.open and self.open[-1] == "a":
            self.links[data] = self._href
        if {"td", "th"} & set(self.open):
            self.rows[-1][-1] += data


def _clean(text: str) -> str:
    # Narrow and ordinary no-break spaces read as spaces (fmt_number puts U+202F).
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " ")).strip()


def _read(html: str) -> dict:
    reader = _Reader()
    reader.feed(html)
    rows = [[_clean(c) for c in row] for row in reader.rows]
    body = {row[0]: row for row in rows[1:]}
    return {
        "title": _clean(reader.text["title"][0]),
        "h1": _clean(reader.text["h1"][0]),
        "p": [_clean(p) for p in reader.text["p"]],
        "footer": _clean(reader.text["footer"][0]),
        "headers": rows[0],
        "rows": body,
        "keys": dict(zip(body, reader.keys[1:], strict=True)),
        "links": reader.links,
        "images": [{k: _clean(v) for k, v in image.items()} for image in reader.images],
        "scripts": reader.scripts,
    }


@pytest.fixture(scope="module")
def national(reference):
    return pipeline.match_selections([NATIONAL_FILE], reference)


@pytest.fixture(scope="module")
def pages(national, reference) -> dict[str, dict]:
    pages = {}
    for month in ("2021-06", "2023-04"):
        table = situation.Sources.of(national, reference).at(month).index_table()
        html = index_html(table, month, MAP, LINKS, "maintenant", national.national_editions)
        pages[month] = _read(html)
    return pages


# What each month's page says, as read: its month, posts, note and a few rows.
READ_BACK = (
    "Situation reconstituée : les mois passés sont la {edition} relue à rebours, en ne "
    "gardant que les comités jusqu'à fin juin 2021. Cette liste ne garde que les structures "
    "encore dans le programme à sa date : celles qui s'en sont retirées depuis n'y figurent "
    "plus, et un mois passé peut compter moins de structures et de postes que ce qui avait "
    "été annoncé alors."
)
EXPECTED = {
    "2021-06": {
        "fin": "juin 2021",
        "postes": "2 141 postes attribués par les comités de sélection depuis mars 2021, dont "
        "602 au cours de ce mois.",
        "note": READ_BACK.format(edition=EDITION),
        "rows": {
            "05": "05 | Hautes-Alpes | 20 | 141 284 | 1,42 | +8 | 5 % n. d. 75 % | "
            "45 % n. d. 0 % | 45 % n. d. 15 % | "
            f"Hautes-Alpes : de 0,64 à 1,42 {PER_10000}, mars 2021 – juin 2021",
            "59": "59 | Nord | 75 | 2 604 361 | 0,29 | +4 | 43 % n. d. 28 % | 0 % n. d. 0 % | "
            f"37 % n. d. 5 % | Nord : de 0,00 à 0,29 {PER_10000}, mars 2021 – juin 2021",
            # A collectivity outside the reference: its posts, no population, no curve.
            "978": "978 | Saint-Martin | 1 | – | – | +1 | 0 % n. d. 100 % | 0 % n. d. 0 % | "
            "0 % n. d. 100 % | ",
        },
    },
    "2023-04": {
        "fin": "avril 2023",
        "postes": "3 925 postes attribués par les comités de sélection depuis mars 2021, dont "
        "54 au cours de ce mois.",
        "note": f"Chiffres tirés de la {EDITION} des structures validées par les comités de "
        "sélection.",
        "rows": {
            # In ZRR: 10 of its 25 posts (test_territories counts them in the raw file).
            "05": "05 | Hautes-Alpes | 25 | 141 284 | 1,77 | 0 | 12 % n. d. 60 % | "
            "40 % n. d. 0 % | 36 % n. d. 32 % | "
            f"Hautes-Alpes : de 0,64 à 1,77 {PER_10000}, mars 2021 – avril 2023",
            "59": "59 | Nord | 121 | 2 604 361 | 0,46 | 0 | 45 % n. d. 19 % | 0 % n. d. 0 % | "
            f"37 % n. d. 15 % | Nord : de 0,00 à 0,46 {PER_10000}, mars 2021 – avril 2023",
        },
    },
}


@pytest.mark.parametrize("month", EXPECTED)
def test_page_reads_as_before(pages, month):
    page, expected = pages[month], EXPECTED[month]
    end = expected["fin"]
    assert page["title"] == f"Conseillers numériques — situation fin {end}"
    assert page["h1"] == f"Conseillers numériques France Services — situation fin {end}"
    assert page["p"] == [
        f"{expected['postes']} Le nom d'un département mène à son rapport ; chaque en-tête "
        "de colonne trie le tableau. « n. d. » : non documenté (la liste nationale ne dit ni "
        "oui ni non).",
        f"À savoir. {expected['note']}",
        # The map's legend, in HTML: readable on a phone.
        "Conseillers pour 10 000 habitants",
    ]
    assert page["headers"] == [*HEADERS, f"Densité, mars 2021 – {end}"]
    for code, row in expected["rows"].items():
        assert " | ".join(page["rows"][code]) == row
    assert page["footer"] == NOTES


def test_april_2023_counts_every_post_and_links_the_reports(pages):
    page = pages["2023-04"]
    # The 101 départements and Saint-Martin, whose posts make the national total.
    assert len(page["rows"]) == 102
    assert sum(int(r[2].replace(" ", "")) for r in page["rows"].values()) == 3_925
    # The map, described; each report linked from its département's name.
    assert page["images"] == [{"class": "figure", "role": "img", "aria-label": MAP_ALT}]
    assert page["links"] == {"Hautes-Alpes": "05/rapport.html", "Nord": "59/rapport.html"}


def test_every_cell_has_the_sort_key_of_its_value(pages):
    from analyse.render.fragments import code_key

    """The page's script sorts on ``data-tri``: numbers where the column is numeric,
    a missing value first, names compared in French."""
    page = pages["2023-04"]
    assert "table.triable th" in "".join(page["scripts"])
    for code, keys in page["keys"].items():
        assert len(keys) == len(page["headers"]) and None not in keys, code
        # Codes sort as numbers in INSEE order: 2A and 2B between 19 and 21.
        assert keys[:2] == [code_key(code), page["rows"][code][1]]
        float(keys[0])
        for key in keys[2:]:
            float(key)
    hautes_alpes = page["keys"]["05"]
    assert hautes_alpes[2:6] == ["25", "141284.000000", "1.769486", "0"]
    assert hautes_alpes[6:] == ["0.120000", "0.400000", "0.360000", "1.132471"]
    assert page["keys"]["978"][3:5] == ["-1", "-1"]
    posts = sorted(page["rows"], key=lambda c: float(page["keys"][c][2]))
    assert int(page["rows"][posts[-1]][2].replace(" ", "")) == max(
        int(r[2].replace(" ", "")) for r in page["rows"].values()
    )


def test_names_and_links_from_data_are_shown_never_run(national, reference):
    script = "<script>alert(1)</script>"
    table = situation.Sources.of(national, reference).at("2021-06").index_table()
    table.loc[table["code"] == "05", "nom"] = f"Hautes-Alpes {script}"
    link = '05/"><script>alert(2)</script>'
    html = index_html(table, "2021-06", MAP, {"05": link}, "<b>maintenant</b>")
    page = _read(html)
    assert page["rows"]["05"][1] == f"Hautes-Alpes {script}"
    assert page["rows"]["05"][-1].startswith(f"Hautes-Alpes {script} : de 0,64 à 1,42")
    assert page["links"] == {f"Hautes-Alpes {script}": link}
    assert page["footer"].endswith("Généré le <b>maintenant</b>.")
    # The page's own sorting script is its only script.
    assert html.count("<script") == 1 and "alert" not in "".join(page["scripts"])
    assert "<b>" not in html
