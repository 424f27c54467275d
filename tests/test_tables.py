"""The report's tables read the same to a reader, whatever builds them (HTML
tables from pandas Styler on real numbers, headings from ``analyse.schema``).

The visible text of every table (headings and cells, as a browser shows them) of 05 and
59 prepared from the embedded national list, IFN and places is pinned in
``donnees/tableaux_05_59.json``, written from the code before the change. Regenerate it
only for a wanted change of wording: ``python tests/test_tables.py``.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import IFN_COMMUNES, IFN_EPCI, NATIONAL_FILE, PLACES_FILE

from analyse.analysis import inputs, pipeline, situation
from analyse.render import tables, territories_report

PINNED = Path(__file__).parent / "donnees" / "tableaux_05_59.json"
DEPARTEMENTS = ("05", "59")
_N = "\u202f"  # the narrow no-break space of French thousands


class _Tables(HTMLParser):
    """Rows of cell texts of every <table>, as a reader sees them (no <style>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def visible_tables(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def _prepared(reference) -> dict:
    selections = pipeline.match_selections([NATIONAL_FILE], reference)
    extras = inputs.load_extras(reference, [IFN_COMMUNES, IFN_EPCI], PLACES_FILE)
    return {
        dep: situation.prepare(dep, selections, reference, extras=extras) for dep in DEPARTEMENTS
    }


def rendered(prepared) -> dict[str, list]:
    """Table → visible text, for one prepared département."""
    holder = prepared.context["collectivite_departementale"]
    parts = {
        "indicateurs": tables.indicators_table(prepared.indicators),
        "variante": tables.spread_variant_table(prepared.indicators),
        "controle": tables.reconciliation_table(prepared.counts, holder),
        "croisements": tables.crossing_tables(prepared),
        "non_localisables": tables.unlocatable_table(prepared.counted),
        "revue": tables.review_section(prepared.review),
        "selections": tables.selections_table(prepared.counted),
        "selections_detail": tables.selections_detail_table(prepared.counted),
        "lacunes": tables.gaps_html(prepared),
        "distances": tables.distance_html(prepared),
        "lieux_ecartes": tables.rejected_places_html(prepared),
        "lieux_douteux": tables._suspicious_places(prepared.places),
        "ifn_non_rapproches": tables.unmatched_ifn_html(prepared),
        "prioritaires": territories_report.priority_html(prepared),
        "trajectoire": territories_report.trajectory_html(prepared),
        "comparaison": territories_report.comparison_html(prepared),
    }
    return {name: visible_tables(html) for name, html in parts.items()}


@pytest.fixture(scope="module")
def prepared(reference):
    return _prepared(reference)


@pytest.mark.parametrize("departement", DEPARTEMENTS)
def test_tables_read_as_pinned(prepared, departement):
    expected = json.loads(PINNED.read_text(encoding="utf-8"))[departement]
    got = rendered(prepared[departement])
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], name


def test_pinned_tables_hold_what_a_reader_checks(prepared):
    """The pinned text is not empty: the EPCI table of 59 ends on its total row and says
    « population inconnue » nowhere it should not."""
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    epci = pinned["59"]["indicateurs"][0]
    assert epci[0][:2] == ["Intercommunalité", "Départements"]
    assert epci[-1][0].startswith("Total des intercommunalités")
    assert len(epci) == len(prepared["59"].indicators) + 2  # headings and total
    assert f"Conseillers pour 10{_N}000 hab." in epci[0]


def test_tables_have_no_ids_and_escape_values(prepared):
    """Styler's output: no random ids, values escaped (a structure named like a tag)."""
    frame = prepared["05"].counted.head(2).copy()
    frame["structure"] = ["<script>alert(1)</script>", "A & B"]
    html = tables.selections_table(frame)
    assert "<script>" not in html and "&lt;script&gt;" in html and "A &amp; B" in html
    assert 'id="T_' not in tables.indicators_table(prepared["05"].indicators).replace('id="T_"', "")


if __name__ == "__main__":
    from analyse.territory.reference import load_reference

    states = _prepared(load_reference())
    PINNED.write_text(
        json.dumps({d: rendered(states[d]) for d in DEPARTEMENTS}, ensure_ascii=False, indent=0)
        + "\n",
        encoding="utf-8",
    )


# Tables that 05 and 59 leave empty, on small frames (expected text from the code before
# the change).


def test_small_tables_read_as_before():
    from types import SimpleNamespace

    import pandas as pd

    review = pd.DataFrame(
        {
            "fichier": ["a.csv", "b.csv"],
            "ligne": [3, 1234],
            "structure": ["X <b>", "Y"],
            "type_structure": ["commune", "epci"],
            "postes": [1, 2],
            "motif": ["m", "n"],
            "candidats": ["c", ""],
        }
    )
    assert visible_tables(tables.review_table(review)) == [
        [
            ["Fichier", "Ligne", "Structure (telle que publiée)", "Type", "Postes", "Motif",
             "Meilleurs candidats"],
            ["a.csv", "3", "X <b>", "commune", "1", "m", "c"],
            ["b.csv", f"1{_N}234", "Y", "epci", "2", "n", ""],
        ]
    ]  # fmt: skip
    anomalies = pd.DataFrame(
        {
            "fichier": ["a.csv", "b.csv"],
            "ligne": [float("nan"), 1234.0],
            "structure": ["X", "Y"],
            "postes": [1, 1500],
            "motif": ["m", "n"],
        }
    )
    assert visible_tables(tables.anomalies_html(SimpleNamespace(anomalies=anomalies))) == [
        [
            ["Fichier", "Ligne", "Structure", "Postes", "Motif"],
            ["a.csv", "–", "X", "1", "m"],
            ["b.csv", f"1{_N}234", "Y", f"1{_N}500", "n"],
        ]
    ]
    selections = pd.DataFrame(
        {
            "compte_pour_departement": [True, True],
            "statut": ["non_localisable"] * 2,
            "structure": ["S1", "S2"],
            "postes": [2, 1],
            "motif": ["hors EPCI", "inconnu"],
        }
    )
    assert visible_tables(tables.unlocatable_table(selections)) == [
        [["Structure", "Postes", "Motif"], ["S1", "2", "hors EPCI"], ["S2", "1", "inconnu"]]
    ]
    changes = pd.DataFrame(
        {
            "compte_pour_departement": [True, True, False],
            "structure": ["S1", "S2", "S3"],
            "postes": [2, 1, 4],
            "nom_officiel": ["CC A", None, "x"],
            "motif": ["", "", ""],
        }
    )
    month = SimpleNamespace(context={"mois": "2021-03"}, changes=changes)
    assert visible_tables(tables.changes_html(month)) == [
        [["Structure", "Postes", "Rattachée à"], ["S1", "2", "CC A"], ["S2", "1", "–"]]
    ]
    rejected = pd.DataFrame(
        {
            "nom": ["L1"],
            "id": ["i1"],
            "commune_declaree": ["Gap"],
            "code_postal": ["05000"],
            "latitude": ["abc"],
            "longitude": [None],
            "motif": ["non numérique"],
        }
    )
    context = {"lieux_source": "fichier", "lieux_rejetes": {"fichier": 3}}
    prepared = SimpleNamespace(context=context, places_rejected=rejected)
    assert visible_tables(tables.rejected_places_html(prepared)) == [
        [
            ["Lieu", "Identifiant", "Commune déclarée", "Code postal",
             "Latitude (telle que lue)", "Longitude (telle que lue)", "Motif"],
            ["L1", "i1", "Gap", "05000", "abc", "–", "non numérique"],
        ]
    ]  # fmt: skip


def test_unknown_population_reads_as_before(prepared):
    """An EPCI of unknown population: « population inconnue », no ratio, and a total over
    the known ones that says so."""
    indicators = prepared["05"].indicators.copy()
    indicators["population"] = indicators["population"].astype("Int64")
    first = indicators.index[0]
    indicators.loc[first, "population"] = None
    for column in ("conseillers_pour_10000_hab", "habitants_par_conseiller"):
        indicators.loc[first, column] = float("nan")
    table = visible_tables(tables.indicators_table(indicators))[0]
    row = next(r for r in table if r[0] == indicators.loc[first, "nom_epci"])
    # Name, départements, population… (no SIREN: the officials read names).
    assert row[2] == "population inconnue" and row[5] == row[6] == "–"
    assert table[-1][0] == "Total des intercommunalités (population connue)"
    known = indicators.loc[indicators["population"].notna()]
    assert table[-1][2] == f"{known['population'].sum():,}".replace(",", _N)


def test_what_the_notebook_shows_of_the_hautes_alpes(prepared, monkeypatch):
    """The notebook's own calls, in-process: the timeline of the national list's rounds,
    the IFN note, and the control tables closed by the footer printed with them."""
    from analyse.render import maps

    shown: list[str] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    hautes_alpes = prepared["05"]
    maps.show_timeline(hautes_alpes)
    maps.show_fragility_map(hautes_alpes)
    assert len(shown) == 2 and all("<svg" in html for html in shown)
    # The 25 posts the national list grants the Hautes-Alpes (2021-03 … 2023-04).
    assert re.findall(r"Total[^<]*", shown[0]) == ["Total : 25 postes"]
    control = visible_tables(tables.control_html(hautes_alpes))
    assert control, "no control table"
    assert 'class="fin-imprimee"' in tables.control_html(hautes_alpes)
    note = tables.fragility_note(hautes_alpes)
    assert note == "<p>Toutes les communes et intercommunalités ont un indice.</p>"
    without = type("P", (), {"context": {"ifn_fourni": False}})()
    assert "n'a pas été fourni" in tables.fragility_note(without)
    shown.clear()
    maps.show_fragility_map(without)  # no IFN, no map
    assert shown == []
