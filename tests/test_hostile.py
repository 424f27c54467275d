"""Inputs of a hostile user, class by class: every CSV through one strict reader, post
counts in ASCII digits, workbooks read as a person sees them, options bounded, months
within the data, places used or listed, prepared data and report replaced together."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import NATIONAL_FILE

from analyse import cli, config
from analyse.analysis import situation
from analyse.errors import UserError
from analyse.read.files import CsvFileError, read_csv_rows, read_csv_table
from analyse.read.selections import SelectionError, read_selection_file, read_selections
from analyse.read.sources import implausible_edition, last_committee

HEADER = "date_comite,departement,structure,type_structure,postes,commune,code,source"


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------ 2, 3. one strict reader

UNCLOSED = f'{HEADER}\n2021-04,05,Gap,commune,1,,,"note\n2021-04,05,Embrun,commune,1,,,x\n'


def test_an_unclosed_quote_is_an_error_with_its_line(tmp_path):
    """Three rows must not be read as one: the quote opened on line 2 swallows the rest."""
    path = _write(tmp_path / "comite.csv", UNCLOSED)
    with pytest.raises(SelectionError, match=r"comite.csv, ligne 2 : .*guillemet ouvert jamais"):
        read_selection_file(path)


@pytest.mark.parametrize("reader", ["ifn", "lieux", "alias", "derniere_date"])
def test_every_reader_shares_the_strict_reader(tmp_path, reader):
    """The same unclosed quote, in every CSV the tool reads: an error naming the file and
    line, never a traceback nor a row read as one field."""
    from analyse.territory import fragility, matching, places

    if reader == "ifn":
        text = 'name,code,no_thd_coverage_rate\nGap,05061,"5\n'
        path = _write(tmp_path / "ifn-communes.csv", text)
        with pytest.raises(fragility.IFNFileError, match=r"ifn-communes.csv, ligne 2"):
            fragility._read_one(path, "insee", 5)
    elif reader == "lieux":
        path = _write(tmp_path / "lieux.csv", 'id,latitude,longitude\na,"44.5,6.0\nb,1,2\n')
        with pytest.raises(places.PlacesFileError, match=r"lieux.csv, ligne 2 : .*guillemet"):
            places.read_places(path)
    elif reader == "alias":
        path = _write(tmp_path / "aliases.csv", 'departement,nom,code\n05,"Gap,05061\n')
        with pytest.raises(SelectionError, match=r"aliases.csv, ligne 2 : .*guillemet"):
            matching.read_aliases(path)
    else:
        # The « last committee » lookup no longer has a reader of its own that raised
        # _csv.Error on a field over 131 072 characters: it says « not a list ».
        long = "x" * 140_000
        path = _write(tmp_path / "liste.csv", f'{HEADER}\n2021-04,05,"{long}",commune,1,,,\n')
        assert last_committee(path) is None
        with pytest.raises(SelectionError, match="un champ dépasse 131 072 caractères"):
            read_selection_file(path)


def test_a_row_wider_than_the_header_is_refused(tmp_path):
    path = _write(tmp_path / "comite.csv", f"{HEADER}\n2021-04,05,Gap,commune,1,,,note,oubli\n")
    with pytest.raises(SelectionError, match=r"ligne 2 : .*« oubli » est au-delà de l'en-tête"):
        read_selection_file(path)
    # Empty trailing cells (an export's trailing separators) are not data.
    path = _write(tmp_path / "vide.csv", f"{HEADER}\n2021-04,05,Gap,commune,1,,,note,,\n")
    assert read_selection_file(path)["postes"].tolist() == [1]


def test_short_rows_are_refused_in_every_csv(tmp_path):
    path = _write(tmp_path / "t.csv", "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(CsvFileError, match=r"t.csv, ligne 3 : ligne incomplète"):
        read_csv_table(path)


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [
        ("utf-8", "\n"),
        ("utf-8-sig", "\r\n"),
        ("cp1252", "\r\n"),
        ("utf-16", "\r\n"),
        ("utf-8", "\r"),
    ],
)
def test_encodings_and_line_endings(tmp_path, encoding, newline):
    """What spreadsheets write: UTF-8 with or without BOM, Windows-1252, UTF-16 (« texte
    Unicode »), Windows and old Mac line endings: the same two rows."""
    text = newline.join([HEADER, "2021-04,05,Gap,commune,1,,,é", "2021-04,05,Embrun,commune,2,,,"])
    path = _write(tmp_path / "comite.csv", (text + newline).encode(encoding))
    table = read_selection_file(path)
    assert table["postes"].tolist() == [1, 2]
    assert table["ligne"].tolist() == [2, 3]
    assert table["source"].iloc[0] == "é"


@pytest.mark.parametrize("control", ["\u0085", "\u009b", "\x07"])
def test_c1_and_c0_controls_are_refused(tmp_path, control):
    path = _write(tmp_path / "comite.csv", f"{HEADER}\n2021-04,05,Gap{control},commune,1,,,\n")
    with pytest.raises(SelectionError, match=f"code {ord(control):#04x}"):
        read_selection_file(path)


def test_the_national_list_reads_as_before():
    table = read_selection_file(NATIONAL_FILE)
    assert (len(table), int(table["postes"].sum())) == (2889, 3925)
    assert str(last_committee(NATIONAL_FILE)) == "2023-04-05"
    rows = read_csv_rows(NATIONAL_FILE)
    assert rows.separator == ";" and len(rows.header) == 16


# --------------------------------------------------------------- 6. ASCII digits only


@pytest.mark.parametrize("posts", ["1_0", "５", "٣", "²", "+3", "0x3"])
def test_post_counts_are_ascii_digits(tmp_path, posts):
    path = _write(tmp_path / "comite.csv", f"{HEADER}\n2021-04,05,Gap,commune,{posts},,,\n")
    with pytest.raises(SelectionError, match="nombre de postes non entier"):
        read_selection_file(path)
    _write(path, f"{HEADER}\n2021-04,05,Gap,commune, 3 ,,,\n")
    assert read_selection_file(path)["postes"].tolist() == [3]


def test_tolerant_mode_with_a_superscript_count_does_not_crash(tmp_path):
    """« ² » passes str.isdigit() but not int(): the row is set aside, never a crash."""
    path = _write(
        tmp_path / "comite.csv",
        f"{HEADER}\n2021-04,05,Gap,commune,²,,,\n2021-04,05,Embrun,commune,1,,,\n",
    )
    rejected: list[dict] = []
    table = read_selections([path], rejected=rejected)
    assert table["postes"].tolist() == [1]
    assert [(r["ligne"], r["postes"]) for r in rejected] == [(2, 0)]
    assert "non entier « ² »" in rejected[0]["motif"]


# ------------------------------------------------------------- 4, 10. workbooks


def _workbook(path: Path, sheets: list[tuple[str, list[list[object]], str]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


TABLE = [HEADER.split(","), ["2021-04", "05", "Gap", "commune", 1, "", "", ""]]
OLD_TABLE = [HEADER.split(","), ["2021-03", "05", "Briançon", "commune", 7, "", "", ""]]


def test_a_hidden_first_sheet_is_not_read(tmp_path):
    path = _workbook(
        tmp_path / "c.xlsx", [("Ancienne", OLD_TABLE, "hidden"), ("Avril", TABLE, "visible")]
    )
    table = read_selection_file(path)
    assert table["structure"].tolist() == ["Gap"]


def test_a_table_only_on_a_hidden_sheet_is_said(tmp_path):
    path = _workbook(
        tmp_path / "c.xlsx", [("Avril", TABLE, "hidden"), ("Notes", [["à lire"]], "visible")]
    )
    with pytest.raises(SelectionError, match="sur la feuille masquée « Avril »"):
        read_selection_file(path)


def test_a_far_cell_does_not_allocate_the_sheet(tmp_path):
    """A 5 KB workbook with one value in XFD1048576: refused quickly, in French, without
    allocating 17 billion cells."""
    import resource
    import time

    import openpyxl

    path = _workbook(tmp_path / "c.xlsx", [("Avril", TABLE, "visible")])
    book = openpyxl.load_workbook(path)
    book["Avril"]["XFD1048576"] = "x"
    book.save(path)
    assert path.stat().st_size < 10_000
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SelectionError, match="au-delà de la ligne 200 000"):
        read_selection_file(path)
    assert time.perf_counter() - start < 20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # KiB


def test_a_sheet_row_without_its_last_empty_cells_is_read(tmp_path):
    """A sheet stores no empty cell: a row ends at its last value, and is not truncated."""
    rows = [HEADER.split(","), ["2021-04", "05", "Gap", "commune", 2]]
    path = _workbook(tmp_path / "c.xlsx", [("Avril", rows, "visible")])
    assert read_selection_file(path)["postes"].tolist() == [2]


def test_cells_beyond_the_header_of_a_sheet_are_refused(tmp_path):
    rows = [*TABLE, ["2021-04", "05", "Embrun", "commune", 1, "", "", "", "oubli"]]
    path = _workbook(tmp_path / "c.xlsx", [("Avril", rows, "visible")])
    with pytest.raises(SelectionError, match=r"ligne 3 : .*« oubli » est au-delà"):
        read_selection_file(path)


# -------------------------------------------------------------------- 10. aliases


def test_contradictory_aliases_are_refused_naming_both_lines(tmp_path):
    from analyse.territory.matching import read_aliases

    path = _write(
        tmp_path / "aliases.csv",
        "departement,nom,code\n05,Pays de Gap,200067825\n05,Pays de Gap,05061\n",
    )
    with pytest.raises(SelectionError) as error:
        read_aliases(path)
    message = str(error.value)
    assert "ligne 3" in message and "ligne 2" in message and "alias contradictoire" in message
    # The same alias twice is no contradiction.
    _write(path, "departement,nom,code\n05,Pays de Gap,05061\n5,PAYS DE GAP,05061\n")
    assert len(read_aliases(path)) == 2


# ---------------------------------------------------------------- 5. absurd options


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["rapport", "-d", "05", "--cible", "1e30"], "--cible : « 1e30 » hors des bornes"),
        (["rapport", "-d", "05", "--cible", "abc"], "--cible : « abc » n'est pas un nombre"),
        (["rapport", "-d", "05", "--postes", "1", "--rayon", "inf"], "--rayon : « inf »"),
        (["scenario", "-d", "05", "--postes", "1.5"], "--postes : « 1.5 » n'est pas un nombre"),
        (["scenario", "-d", "05", "--postes", "５"], "--postes : « ５ » n'est pas un nombre"),
        (["scenario", "-d", "05", "--postes", "1", "--objectif", "foo"], "valeurs possibles : "),
        (["rapport", "-d"], "--departement/-d : une valeur est attendue"),
        (["rapport", "-d", "05", "--inconnue"], "option(s) ou valeur(s) inconnue(s) : --inconnue"),
        (["mensuel"], "option(s) obligatoire(s) manquante(s) : --mois"),
        (["rapports", "--tous", "--departements", "05"], "ne vont pas ensemble"),
        (["rapports", "--tous", "--jobs", "0"], "--jobs/-j : « 0 » hors des bornes"),
    ],
)
def test_the_parser_speaks_french(argv, expected, capsys):
    with pytest.raises(SystemExit) as stop:
        cli._parser().parse_args(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.startswith("Erreur : ") and expected in err, err
    for english in ("usage:", "error:", "invalid", "expected", "argument"):
        assert english not in err, err


def test_ifn_values_off_the_scale_are_refused(tmp_path):
    from analyse.territory import fragility

    header = "name,code,no_thd_coverage_rate,no_4g_coverage_rate,poverty_rate,older_65_rate,"
    header += "nscol15p_rate,total"
    for value in ("999", "-5", "inf", "５"):
        path = _write(tmp_path / "ifn-communes.csv", f"{header}\nGap,05061,5,5,5,5,5,{value}\n")
        with pytest.raises(fragility.IFNFileError, match=r"ligne 2, colonne « total »"):
            fragility._read_one(path, "insee", 5)
    # A commune without inhabitants: 0 everywhere, as the published file writes it.
    path = _write(tmp_path / "ifn-communes.csv", f"{header}\nBezonvaux,55050,0,0,0,0,0,0\n")
    assert fragility._read_one(path, "insee", 5)["ifn"].tolist() == [0.0]


def test_an_unknown_programme_lists_the_known_ones(tmp_path):
    from analyse.territory import places

    path = _write(
        tmp_path / "lieux.csv",
        "id,latitude,longitude,dispositif_programmes_nationaux\n"
        'a,44.56,6.08,"Conseillers numériques|France Services"\n',
    )
    with pytest.raises(places.PlacesFileError) as error:
        places.read_places(path, ("Conseilers numériques",))
    message = str(error.value)
    assert "« Conseilers numériques »" in message
    assert "Conseillers numériques, France Services" in message
    assert len(places.read_places(path, ("france services",))[0]) == 1


# ------------------------------------------------------------------ months (17, 18)


@pytest.fixture(scope="module")
def national(reference):
    from analyse.analysis import pipeline

    return pipeline.match_selections([NATIONAL_FILE], reference)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2026-11", "2026-11", "--mois 2026-11 : postérieur à la liste utilisée"),
        ("2021-03", "2203-04", "--jusqu-a 2203-04 : postérieur"),
        ("0000-01", "0000-01", "--mois 0000-01 : antérieur au premier comité"),
        ("2021-02", "2021-04", "ce premier comité remonte à mars 2021 (2021-03)"),
        ("9999-11", "9999-11", "son dernier comité remonte à avril 2023 (2023-04)"),
    ],
)
def test_months_outside_the_data_are_refused(national, first, last, expected):
    from analyse.run.monthly import MonthError, check_months_in_span

    with pytest.raises(MonthError) as error:
        check_months_in_span(first, last, national)
    assert expected in str(error.value)
    check_months_in_span("2021-03", "2023-04", national)  # the whole span is fine


def test_month_after_the_list_is_refused_through_the_cli(tmp_path, capsys):
    out = tmp_path / "sortie"
    assert cli.main(["mensuel", "--mois", "2026-11", "--sortie", str(out)]) == 2
    err = capsys.readouterr().err
    assert "édition du 05/04/2023" in err and "avril 2023" in err
    assert "analyse telecharger" in err and "Traceback" not in err
    assert not out.exists()


# ------------------------------------------------------- 1. plausibility of a download


def test_plausibility_rules():
    good = read_selection_file(NATIONAL_FILE)
    assert implausible_edition(good, good) == []
    assert implausible_edition(good, None) == []
    cut = good.iloc[:200]
    # Structures, posts, and the attributions missing, unless the publisher vouches.
    assert len(implausible_edition(cut, good)) == 3
    assert len(implausible_edition(cut, good, confirmed="somme de contrôle SHA-1")) == 2
    shorter = good.iloc[:2686]  # 93 %: only the attributions missing say it
    assert "203 attributions" in implausible_edition(shorter, good)[0]
    assert implausible_edition(shorter, good, confirmed="longueur annoncée") == []
    late = good.assign(date_comite=pd.Timestamp("2099-01-01"))
    assert "dans le futur" in implausible_edition(late, good)[0]


# ------------------------------------------------- 7. places with impossible coordinates


def test_places_outside_france_are_listed_not_dropped(reference, tmp_path):
    from analyse.analysis import inputs, pipeline

    items = [
        {
            "id": "bon",
            "nom": "Lieu de Gap",
            "commune": "Gap",
            "code_postal": "05000",
            "latitude": 44.56,
            "longitude": 6.08,
        },
        {
            "id": "inverse",
            "nom": "Médiathèque inversée",
            "commune": "Gap",
            "code_postal": "05000",
            "latitude": 6.08,
            "longitude": 44.56,
        },
        {
            "id": "ailleurs",
            "nom": "Lieu à New York",
            "commune": "Gap",
            "code_postal": "05000",
            "latitude": 40.7,
            "longitude": -74.0,
        },
    ]
    path = _write(tmp_path / "lieux.json", json.dumps(items))
    extras = inputs.load_extras(reference, places_path=path)
    assert extras.places["id"].tolist() == ["bon"]
    rejected = extras.places_rejected.set_index("id")
    assert sorted(rejected.index) == ["ailleurs", "inverse"]
    assert rejected.loc["inverse", "motif"].endswith("latitude et longitude inversées ?")
    assert "hors de France" in rejected.loc["ailleurs", "motif"]
    assert set(rejected["departement"]) == {"05"}
    prepared = situation.prepare(
        "05", pipeline.match_selections(None, reference), reference, extras=extras
    )
    summary = prepared.context["lieux_rejetes"]
    assert (summary["nombre"], summary["utilises"], summary["incomplet"]) == (2, 1, True)
    from analyse.render import tables
    from analyse.render.summary import summary_html

    assert "Distances incomplètes : 2 lieux sur 3" in summary_html(prepared)
    assert "toutes les coordonnées sont lisibles" not in tables.analysts_html(prepared)


# ------------------------------------------------ 8. bundle and report change together


def test_prepared_data_go_back_when_the_report_is_not_written(tmp_path):
    from analyse.analysis import bundle
    from analyse.atomic import replace_dir

    folder = tmp_path / "sortie" / config.PREPARED_SUBDIR / "departements" / "05"
    folder.mkdir(parents=True)
    (folder / "contexte.json").write_text("ancien", encoding="utf-8")
    build = tmp_path / "sortie" / "construit"
    build.mkdir()
    (build / "contexte.json").write_text("nouveau", encoding="utf-8")
    replace_dir(folder, build, keep=bundle._previous(folder))
    bundle.settle(folder, report_written=False)
    assert (folder / "contexte.json").read_text(encoding="utf-8") == "ancien"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["05"]
    bundle.settle(folder, report_written=False)  # a bundle not saved to settle: kept
    assert (folder / "contexte.json").exists()
    # A first run that fails leaves no empty .donnees/ behind.
    bundle._first(folder).touch()
    bundle.settle(folder, report_written=False)
    assert not (tmp_path / "sortie" / config.PREPARED_SUBDIR).exists()


def test_a_write_error_names_its_file(tmp_path):
    import errno

    from analyse.atomic import naming

    with pytest.raises(OSError) as error, naming(tmp_path / "rapport.html"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert error.value.filename == str(tmp_path / "rapport.html")


# --------------------------------------------------------------------------- helpers


def test_french_messages_of_unknown_parser_errors_are_kept_whole():
    assert cli.french_argparse_message("quelque chose") == "option invalide : quelque chose"
    assert isinstance(cli._parser(), argparse.ArgumentParser)
    assert issubclass(CsvFileError, UserError)


# ---------------------------------------------------------------------- 10. Ctrl-C


@pytest.mark.panne
def test_ctrl_c_says_interrompu_and_leaves_nothing_half_written(tmp_path):
    """SIGINT while the report is being prepared: « Interrompu », exit 130, no traceback,
    and no half-written file (nothing at all here: no report was complete)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sortie"
    command = [sys.executable, "-m", "analyse.cli", "rapport", "-d", "05", "--sortie", str(out)]
    log = tmp_path / "sortie.log"
    with log.open("w") as stdout:
        proc = subprocess.Popen(
            command, stdout=stdout, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while "Données utilisées" not in log.read_text(encoding="utf-8"):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGINT)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 130, err
    assert "Interrompu" in err and "Traceback" not in err, err
    files = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert files == [], files


@pytest.mark.panne
def test_disk_full_keeps_the_earlier_report_and_its_prepared_data_together(tmp_path):
    """On a volume holding an earlier report, a full disk while the new one is written
    leaves both the report and the prepared data of the earlier run (never new data
    beside an old report)."""
    import hashlib
    import subprocess
    import sys

    from test_bad_input_cli import DISK_FULL_IN_NOTEBOOK, RUNNER

    from analyse.analysis import bundle

    out = tmp_path / "sortie"
    first = ["rapport", "-d", "05", "--sortie", str(out), "--sans-lieux"]
    again = ["rapport", "-d", "05", "--sortie", str(out), "--cible", "1"]

    def run(prelude: str, argv: list[str]) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", RUNNER, prelude, *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=600)

    assert run("", first).returncode == 0
    data = bundle.data_dir_for("05", out)

    def state() -> dict[str, str]:
        files = [*data.iterdir(), *(out / "05").iterdir()]
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}

    before = state()
    failed = run(DISK_FULL_IN_NOTEBOOK, again)
    assert failed.returncode == 2 and "disque plein" in failed.stderr, failed.stderr
    assert state() == before
    assert [p.name for p in data.parent.iterdir()] == ["05"]  # nothing kept aside


# ------------------------------------------- issue 31, item 5: smaller defects, one by one


def test_deeply_nested_places_json_is_said_in_french(tmp_path):
    """A JSON nested 100 000 deep made ``json.loads`` raise RecursionError (not a
    ValueError): a traceback instead of a message naming the file."""
    from analyse.territory import places

    path = _write(tmp_path / "lieux.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(places.PlacesFileError, match=r"lieux\.json : .*imbriqu"):
        places.read_places(path)


def test_a_compressed_workbook_is_read(tmp_path):
    """The README says « .csv et .xlsx (compressés ou non) » are read: a ``.xlsx.gz`` was
    refused as « ni UTF-8 ni Windows-1252 »."""
    import gzip

    book = _workbook(tmp_path / "c.xlsx", [("Avril", TABLE, "visible")])
    packed = _write(tmp_path / "sel" / "c.xlsx.gz", gzip.compress(book.read_bytes()))
    assert read_selection_file(packed)["structure"].tolist() == ["Gap"]
    assert read_selections([packed.parent])["structure"].tolist() == ["Gap"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("note", ["é", "e"])
def test_utf16_without_bom_is_read(tmp_path, encoding, note):
    """UTF-16 without its BOM (some exports write none) was called « pas du texte »
    (ASCII only, it even decodes as UTF-8, with a NUL every other character)."""
    text = "\r\n".join([HEADER, f"2021-04,05,Gap,commune,1,,,{note}", ""])
    path = _write(tmp_path / "comite.csv", text.encode(encoding))
    table = read_selection_file(path)
    assert table["postes"].tolist() == [1]
    assert table["source"].iloc[0] == note


def test_the_summary_counts_rejected_lines_as_lines(reference, tmp_path):
    """With --tolerant, a rejected line whose posts could not be read was summed as 0
    posts under the label « lignes rejetées » (« lignes rejetées 0 »)."""
    from analyse.analysis import pipeline
    from analyse.run.report import reconciliation_text

    path = _write(
        tmp_path / "comite.csv",
        f"{HEADER}\n2021-04,05,Gap,commune,²,,,\n2021-04,05,Embrun,commune,1,,,\n",
    )
    selections = pipeline.match_selections([path], reference, tolerant=True)
    text = reconciliation_text(situation.prepare("05", selections, reference))
    assert "Lignes rejetées (mode tolérant) : 1" in text, text
    # The posts of those lines are posts (0 here), never a count labelled « lignes ».
    assert not any(line.strip().startswith("lignes rejetées") for line in text.splitlines()), text


def test_programmes_with_the_2022_places_file_are_refused(capsys):
    """The 2022 file holds no programmes: « --programmes France Services » counted the
    conseillers' places as if they were France Services, silently."""
    code = cli.main(["scenario", "-d", "05", "--postes", "1", "--programmes", "France Services"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--programmes" in err and "cnfs-2022-07" in err and "Traceback" not in err, err
    assert "dispositif_programmes_nationaux" in err, err
