"""The fiches of the intercommunalités: the same figures as the départements' reports,
linked from them, found by the search page.

The reports and fiches are those of ``national_reports`` (conftest: 05, 59, 75, 974, 2A
from the national list, with the embedded IFN and places), whose batch writes the
fiches of each report's EPCI in the report's folder (``<sortie>/<dép>/epci/``).
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import EPCI_05

from analyse import schema
from analyse.analysis import situation
from analyse.wording import at_commune

SISTERONAIS = EPCI_05["sisteronais"]  # 04, 05 and 26: one fiche, whole
MEL = "200093201"  # Métropole Européenne de Lille: the most structures


class _Tables(HTMLParser):
    """Every table of a page: its header texts and, per body row, its cell texts and the
    first link in it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._row: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"headers": [], "rows": []})
        elif tag == "tr" and self.tables:
            self._row = {"cells": [], "link": None, "header": False}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._row["header"] = self._row["header"] or tag == "th"
        elif tag == "a" and self._row is not None and self._row["link"] is None:
            self._row["link"] = dict(attrs).get("href")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            # ASCII white space only: the narrow no-break space of « 20 173 » stays.
            self._row["cells"].append(re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            target = "headers" if self._row["header"] else "rows"
            if target == "headers":
                self.tables[-1]["headers"] = self._row["cells"]
            else:
                self.tables[-1]["rows"].append(self._row)
            self._row = None


def _tables(path: Path) -> list[dict]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def _plain(text: str) -> str:
    """A heading with its no-break spaces as plain ones (the report spaces « 10 000 hab. »)."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _report_rows(report: Path) -> dict[str, dict[str, str]]:
    """Per EPCI name: the cells of the report's main table (linked to a fiche) and of
    its gaps table, by heading."""
    tables = _tables(report)
    rows: dict[str, dict[str, str]] = {}
    for table in tables:
        linked = [r for r in table["rows"] if (r["link"] or "").startswith("epci/")]
        if linked:
            for row in linked:
                rows[row["cells"][0]] = dict(zip(table["headers"], row["cells"], strict=False))
    gaps_heading = schema.ALL["postes_manquants_cible_nationale"].heading.split("(")[0]
    for table in tables:
        if any(h.startswith(gaps_heading.strip()) for h in table["headers"]):
            for row in table["rows"]:
                if row["cells"] and row["cells"][0] in rows:
                    cells = zip(table["headers"], row["cells"], strict=False)
                    rows[row["cells"][0]].update((f"lacunes:{h}", c) for h, c in cells)
    return rows


def _cell(cells: dict[str, str], heading: str) -> str:
    for key, value in cells.items():
        if _plain(key).startswith(_plain(heading)):
            return value
    raise AssertionError(f"colonne « {heading} » absente : {list(cells)}")


def _figures(fiche: Path) -> dict[str, str]:
    """The key figures of a fiche (its tiles), by key, as the reader sees them."""
    text = fiche.read_text(encoding="utf-8")
    found = re.findall(r'data-cle="(\w+)"><span class="valeur">([^<]*)</span>', text)
    return {key: unescape(value) for key, value in found}


def _heading(column: str) -> str:
    return schema.headings([column])[column]


@pytest.fixture(scope="module")
def folder(national_reports) -> Path:
    return national_reports


def test_report_of_05_links_each_epci_name_to_its_fiche(folder):
    report = folder / "05" / "rapport.html"
    links = set(re.findall(r'href="(epci/\d{9}\.html)"', report.read_text("utf-8")))
    assert {Path(link).stem for link in links} == set(EPCI_05.values())
    for link in links:  # relative to the report: they work in the folder or a zip of it
        assert (report.parent / link).resolve().is_file(), link


@pytest.mark.parametrize("departement", ["05", "59", "974"])
def test_fiche_figures_equal_the_report_row(folder, departement):
    rows = _report_rows(folder / departement / "rapport.html")
    assert rows, "aucune ligne de rapport liée à une fiche"
    report = (folder / departement / "rapport.html").read_text("utf-8")
    for name, cells in rows.items():
        siren = re.search(rf'href="epci/(\d{{9}})\.html">{re.escape(name)}<', unescape(report))
        fiche = folder / departement / "epci" / f"{siren.group(1)}.html"
        figures = _figures(fiche)
        assert figures["postes"] == _cell(cells, _heading("postes")), name
        density = _heading("conseillers_pour_10000_hab")
        assert figures["densite"] == _cell(cells, density), name
        gaps_missing = (
            "lacunes:"
            + schema.ALL["postes_manquants_cible_nationale"].heading.split("(")[0].strip()
        )
        assert figures["manquants"] == _cell(cells, gaps_missing), name
        assert figures["ifn"] == _cell(cells, "lacunes:" + _heading("ifn")), name
        far = "lacunes:" + _heading("population_au_dela_20km")
        assert figures["au_dela_20km"] == _cell(cells, far), name
        text = unescape(fiche.read_text("utf-8"))
        population = _cell(cells, _heading("population"))
        assert f"{population} habitants" in text, name
        # The date of the situation: the report's.
        date = re.search(r"Situation au (.+?) ·", text).group(1)
        assert f"situation au {date}</title>" in unescape(report)


def test_inter_departemental_epci_has_one_whole_fiche(folder):
    fiche = folder / "05" / "epci" / f"{SISTERONAIS}.html"
    text = unescape(fiche.read_text("utf-8"))
    assert "Communauté de communes du Sisteronais-Buëch" in text
    # Its three départements, and all its communes on one page.
    for name in ("Hautes-Alpes (05)", "Alpes-de-Haute-Provence (04)", "Drôme (26)"):
        assert name in text
    assert "60 communes" in text
    cells = _report_rows(folder / "05" / "rapport.html")[
        "Communauté de communes du Sisteronais-Buëch"
    ]
    figures = _figures(fiche)
    assert figures["postes"] == _cell(cells, _heading("postes"))
    assert figures["densite"] == _cell(cells, _heading("conseillers_pour_10000_hab"))
    # Beside the report of each département it reaches, and there only.
    assert sorted(p.parent.parent.name for p in folder.glob(f"*/epci/{SISTERONAIS}.html")) == ["05"]


def test_fiche_names_structures_and_says_apart_what_is_not_its_own(folder):
    fiche = folder / "05" / "epci" / f"{SISTERONAIS}.html"
    text = unescape(fiche.read_text("utf-8"))
    posts = _figures(fiche)["postes"]
    assert f"{posts} postes de conseiller numérique sont situés dans l'intercommunalité" in text
    # Each structure named, with its committees' dates.
    assert re.search(r"COMMUNE D ORPIERRE</strong> \(Orpierre\) : 1 poste, comité du \d", text)
    assert "le Conseil départemental des Hautes-Alpes a 5 postes pour tout son département" in text
    mel = unescape((folder / "59" / "epci" / f"{MEL}.html").read_text("utf-8"))
    # A métropole's many structures: five named, the others counted in one line.
    assert re.search(r"et \d+ autres structures \(\d+ postes\)", mel)
    assert "Où placer le prochain poste ?" in mel


def test_search_page_lists_communes_with_their_fiche(folder):
    page = (folder / "05" / "epci" / "index.html").read_text("utf-8")
    communes = json.loads(re.search(r"var COMMUNES = (\[.*?\]);\n", page).group(1))
    assert ["Briançon", "05", EPCI_05["briancon"]] in communes
    fiches = {p.stem for p in (folder / "05" / "epci").glob("*.html")} - {"index"}
    assert {siren for _, _, siren in communes} == fiches == set(EPCI_05.values())
    assert '<a href="200068765.html">Communauté de communes du Sisteronais-Buëch</a>' in page
    # The date of its folder's situation: the report's (the extract's last committee).
    report = unescape((folder / "05" / "rapport.html").read_text("utf-8"))
    date = re.search(r"situation au (.+?)</title>", report).group(1)
    assert f"situation au {date}" in unescape(page)


def test_commune_as_a_place_takes_its_article():
    assert at_commune("Le Monêtier-les-Bains") == "au Monêtier-les-Bains"
    assert at_commune("Les Orres") == "aux Orres"
    assert at_commune("La Grave") == "à La Grave"
    assert at_commune("Gap") == "à Gap"


def _hand_typed(reference):
    """The situation of the default 05 report: the rounds typed by hand, completed by the
    national list where they say nothing, at the end of April 2021."""
    from analyse.analysis import pipeline

    return situation.Sources.of(pipeline.match_selections(None, reference), reference).at()


def test_fiche_rows_are_the_report_tables(prepared_05, reference):
    from analyse.analysis.fiche import next_posts

    now = _hand_typed(reference)
    rows = now.fiche_rows(now.sirens_of(["05"]))
    assert set(rows.epci["siren_epci"]) == set(EPCI_05.values())
    report = prepared_05.indicators.set_index("siren_epci")
    mine = rows.epci.loc[rows.epci["departement"] == "05"].set_index("siren_epci")
    assert mine["postes"].to_dict() == report["postes"].to_dict()
    assert (mine["densite_departement"] == prepared_05.context["cible_departementale"]).all()
    assert (mine["postes_departementaux"] == prepared_05.counts["departementaux"]).all()
    # Every located post of an EPCI is one of its structures' posts.
    per_epci = rows.structures.groupby("siren_epci")["postes"].sum()
    assert per_epci.to_dict() == report.loc[report["postes"] > 0, "postes"].to_dict()
    # The next posts go to communes of the EPCI itself.
    gap = rows.of(EPCI_05["gap"])
    proposals = next_posts(gap.communes, 2154)
    assert len(proposals) and set(proposals["insee"]) <= set(gap.communes["insee"])


def test_fiche_of_the_hand_typed_rounds_is_their_situation(reference):
    """The default 05 report is the rounds typed by hand at the end of April 2021: the
    Sisteronais-Buëch fiche says that date and compares it with each of its
    départements at that date (the national list read back to April 2021 for 04 and 26,
    its own posts counted in the numerator)."""
    from analyse.render.fiche import MapMaker, fiche_html

    rows = _hand_typed(reference).fiche_rows([SISTERONAIS]).of(SISTERONAIS)
    names = dict(zip(reference.departements["code"], reference.departements["nom"], strict=True))
    text = unescape(fiche_html(rows, MapMaker(reference), names))
    assert "Situation fin avril 2021 ·" in text
    assert "situation fin avril 2021</title>" in text
    assert "Alpes-de-Haute-Provence (04), Hautes-Alpes (05), Drôme (26)" in text
    assert "· 60 communes" in text
    densities = rows.epci.set_index("departement")["densite_departement"]
    assert round(densities["04"], 2) == 0.64 and round(densities["26"], 2) == 0.26
    assert "des Alpes-de-Haute-Provence (0,64)" in text and "de la Drôme (0,26)" in text
    assert "<svg" in text and "Où placer le prochain poste ?" in text


def test_monthly_fiches_are_dated_by_their_month(reference, tmp_path):
    """The fiches of a monthly report are those of its month's situation, in its folder."""
    from analyse.analysis import pipeline
    from analyse.run.fiches import FicheWriter

    selections = pipeline.match_selections(None, reference)
    month = situation.Sources.of(selections, reference).at("2021-04")
    written = FicheWriter(month).write_beside(tmp_path / "2021-04" / "05", "05")
    assert written.folder == tmp_path / "2021-04" / "05" / "epci"
    assert written.fiches == 9
    text = unescape((written.folder / f"{EPCI_05['gap']}.html").read_text("utf-8"))
    assert "Situation fin avril 2021" in text
    assert '<a href="../rapport.html">' in text
    assert written.index.is_file()


def test_fiche_escapes_names_from_the_files(reference, tmp_path):
    from analyse.analysis import pipeline
    from analyse.render.fiche import MapMaker, fiche_html

    script = "<script>alert(1)</script>"
    (tmp_path / "comite.csv").write_text(
        "date_comite,departement,structure,type_structure,postes,commune,code,source\n"
        f'2021-04,05,"{script}",association,1,05061,,note\n',
        encoding="utf-8",
    )
    selections = pipeline.match_selections([tmp_path], reference)
    now = situation.Sources.of(selections, reference).at()
    rows = now.fiche_rows(now.sirens_of(["05"]))
    siren = rows.structures.loc[rows.structures["structure"] == script, "siren_epci"].iloc[0]
    html = fiche_html(rows.of(siren), MapMaker(reference), {"05": "Hautes-Alpes"})
    assert script not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_search_pages_fuzzy_matcher_is_the_published_one():
    """uFuzzy is inlined as npm publishes it, with its licence beside it: its digest and
    version are those the code names."""
    import hashlib

    from analyse.render import fiche

    assert hashlib.sha256(fiche.UFUZZY.read_bytes()).hexdigest() == fiche.UFUZZY_SHA256
    assert f"(v{fiche.UFUZZY_VERSION})" in fiche.UFUZZY.read_text(encoding="utf-8")[:80]
    assert "MIT License" in (fiche.UFUZZY.parent / "uFuzzy.LICENSE").read_text()
