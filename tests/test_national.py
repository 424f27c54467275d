"""The national COSELEC list of 2023-04-05 (the copy embedded in data/raw/embarque/).

Extracts are taken at test time (the 04 and 05 rows, the homonym CCAS of 38) so the
tests stay fast.
"""

from __future__ import annotations

import re
from html import escape as html_escape
from pathlib import Path

import pandas as pd
import pytest
from conftest import EPCI_05, IFN_COMMUNES, NATIONAL_FILE, PLACES_FILE

from analyse.analysis import bundle, pipeline
from analyse.analysis.national import control_table, departement_table
from analyse.read.files import read_bytes
from analyse.read.selections import read_selection_file, structure_type_from_coselec
from analyse.territory.matching import DEPARTEMENT_LEVEL, LOCATED, REVIEW, UNLOCATABLE

NATIONAL = NATIONAL_FILE


def _extract(target: Path, keep) -> Path:
    """Copy the header and the lines ``keep`` accepts, verbatim (same format, same traps)."""
    lines = read_bytes(NATIONAL).decode("utf-8").splitlines(keepends=True)
    header = lines[0].split(";")
    kept = [line for line in lines[1:] if keep(dict(zip(header, line.split(";"), strict=False)))]
    target.write_text(lines[0] + "".join(kept), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def alpes_extract(tmp_path_factory):
    folder = tmp_path_factory.mktemp("national")
    return _extract(folder / "coselec-04-05.csv", lambda r: r["Code département"] in ("4", "5"))


@pytest.fixture(scope="module")
def national(reference):
    return pipeline.match_selections([NATIONAL], reference)


def test_reader_restores_codes_and_types(alpes_extract):
    table = read_selection_file(alpes_extract)
    assert set(table["departement"]) == {"04", "05"}  # "4" and "5" in the file
    sisteron = table.loc[table["structure"] == "CC DU SISTERONAIS-BUECH"]
    assert sorted(sisteron["postes"]) == [2, 4]
    assert set(sisteron["commune"]) == {"04209"}  # "4209" in the file
    assert "05700" in set(sisteron["code_postal"])  # "5700": Orpierre's, not Sisteron's
    assert set(sisteron["type_structure"]) == {"epci"}
    dep = table.loc[table["structure"] == "DEPARTEMENT DES HAUTES ALPES"].iloc[0]
    assert (dep["type_structure"], dep["postes"], dep["mois_comite"]) == (
        "departement",
        5,
        "2021-06",
    )
    # Flags: 'Non défini', 'non renseigné', 'sans objet' are not answers.
    assert set(table["qpv"]) <= {"oui", "non", ""}
    assert "" in set(table["qpv"])


def test_structure_types():
    assert (
        structure_type_from_coselec("DEPARTEMENT DES HAUTES ALPES", "22050001100089", "publique")
        == "departement"
    )
    assert (
        structure_type_from_coselec("CONSEIL DEP DE L'ACCES AU DROIT", "18080904800010", "publique")
        == "autre"
    )
    assert structure_type_from_coselec("COMMUNE DE GAP", "21050061700019", "publique") == "commune"
    assert structure_type_from_coselec("CC SERRE-PONCON", "20006774200011", "publique") == "epci"
    assert structure_type_from_coselec("ASSOCIATION X", "1", "privée") == "association"


def test_hautes_alpes_with_the_national_list(reference, alpes_extract):
    selections = pipeline.match_selections([alpes_extract], reference)
    prepared = pipeline.prepare("05", selections, reference)
    posts = prepared.indicators.set_index("siren_epci")["postes"]
    # The CC's 4 posts counted under 05, its 2 under 04, and the commune of Orpierre.
    assert posts[EPCI_05["sisteronais"]] == 7
    assert posts[EPCI_05["gap"]] == 6  # Gap's structures, not the Département's 5
    counts = prepared.counts
    assert counts["departementaux"] == 5
    assert counts["localises_hors_departement"] == 2  # EMMAUS CONNECT, seat in Paris
    assert counts["venus_d_ailleurs"] == 2  # the CC's posts counted under 04
    assert counts["lus"] == 25 and counts["en_revue"] == 0
    assert counts["localises_dans_ses_epci"] == posts.sum() == 20
    emmaus = prepared.selections.loc[prepared.selections["structure"].str.startswith("EMMAUS")]
    assert emmaus["compte_pour_departement"].all()
    assert not emmaus["dans_un_epci_du_departement"].any()
    assert emmaus["insee_commune"].iloc[0] == "75056"  # registered in Paris


def test_homonym_ccas_of_isere_are_told_apart(national):
    table = national.table
    ccas = table.loc[
        (table["structure"] == "CENTRE COMMUNAL D'ACTION SOCIALE") & (table["departement"] == "38")
    ]
    assert len(ccas) == 8
    assert (ccas["statut"] == LOCATED).all()
    assert ccas["insee_commune"].nunique() == 8
    assert ccas["code"].str[:9].nunique() == 8  # and their SIRET differ


def test_arrondissements_resolve_to_their_commune(national):
    table = national.table.set_index("structure")
    assert table.loc["CYBER ECRIVAIN PUBLIC", "insee_commune"] == "75056"  # 75119
    assert table.loc["ASS URBAN PROD", "insee_commune"] == "13055"  # 13201
    assert table.loc["CYBER ECRIVAIN PUBLIC", "statut"] == LOCATED


def test_saint_martin_is_counted_never_located(national):
    rows = national.table.loc[national.table["departement"] == "978"]
    assert len(rows) == 3  # "Code département" 0 in the file
    assert (rows["statut"] == UNLOCATABLE).all()


def test_national_reconciliation(national, reference):
    table = national.table
    assert len(table) == 2_889
    assert table["postes"].sum() == 3_925
    control = control_table(table, reference)
    total = control.iloc[-1]
    assert total["lus"] == 3_925
    assert total["lus"] == sum(
        total[c]
        for c in [
            "localises_dans_un_epci_du_departement",
            "localises_hors_departement",
            "departementaux",
            "regionaux",
            "non_localisables",
            "en_revue",
        ]
    )
    review = table.loc[table["statut"] == REVIEW]
    assert review["postes"].sum() / 3_925 < 0.01
    assert (review["motif"] != "").all()
    assert (table.loc[table["statut"] == DEPARTEMENT_LEVEL, "postes"].sum()) == total[
        "departementaux"
    ]


def test_monthly_totals_rise_to_the_national_total(national, reference):
    months = [str(p) for p in pd.period_range("2021-03", "2023-04", freq="M")]
    totals = [int(departement_table(national, reference, m)["postes"].sum()) for m in months]
    assert all(b >= a for a, b in zip(totals, totals[1:], strict=False))
    assert 0 < totals[0] < totals[-1] == 3_925


@pytest.mark.lot
def test_gaps_report_with_fragility_and_places(reference, alpes_extract, tmp_path):
    """For 05 with the national list, the IFN and the places: the gaps table, the
    département's population beyond 20 km, and the exports for QGIS and Excel."""
    import openpyxl
    import pyogrio

    from analyse import cli

    code = cli.main(
        [
            "rapport",
            "-d",
            "05",
            "--selections",
            str(alpes_extract),
            "--fragilite",
            str(IFN_COMMUNES),  # its EPCI twin is found beside it
            "--lieux",
            str(PLACES_FILE),
            "--sortie",
            str(tmp_path),
        ]
    )
    assert code == 0
    prepared = bundle.load("05", bundle.data_dir_for("05", tmp_path))
    gaps = prepared.gaps
    assert len(gaps) == 9
    for column in [
        "ifn",
        "conseillers_pour_10000_hab",
        "postes_manquants_cible_nationale",
        "postes_manquants_cible_departementale",
        "population_au_dela_10km",
        "population_au_dela_20km",
        "population_au_dela_30km",
        "rang_priorite",
    ]:
        assert gaps[column].notna().all(), column
    assert sorted(gaps["rang_priorite"]) == list(range(1, 10))
    # The two EPCI without any conseiller come first.
    assert set(gaps["nom_epci"].head(2)) == {
        "Communauté de communes Champsaur-Valgaudemar",
        "Communauté de communes du Briançonnais",
    }
    beyond = prepared.context["population_au_dela"]
    communes = prepared.communes
    assert (
        beyond["population_au_dela_20km"]
        == communes.loc[communes["distance_m"] > 20_000, "population"].sum()
        == 3_621
    )
    out = tmp_path / "05"
    html = (out / "rapport.html").read_text(encoding="utf-8")
    assert "3\u202f621" in html and "Fragilité numérique" in html
    layers = {name for name, _ in pyogrio.list_layers(out / "couverture.gpkg")}
    assert layers == {"epci", "communes", "lieux"}
    book = openpyxl.load_workbook(out / "couverture.xlsx")
    assert book.sheetnames == [
        "Indicateurs",
        "Lacunes",
        "À vérifier",
        "Lieux écartés",
        "Trajectoire",
    ]
    interactive = (out / "carte_interactive.html").read_text(encoding="utf-8")
    # folium writes non-ASCII characters as \uXXXX escapes, and names are HTML-escaped.
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), interactive)
    for name in gaps["nom_epci"]:
        assert html_escape(name) in decoded, name
