"""Every bad input, through the command line as a user types it: exit code 2, a French
message naming the file (or the option), no Python traceback, nothing written.

Each case calls ``analyse.cli.main`` in the test's process, as the console script does,
and reads what it printed on stderr. The cases that need a process of their own run
``analyse`` in a fresh one (``python -c`` calling ``analyse.cli.main``): those that
simulate a full disk before the command starts, and those that point the project at
other raw files (read once, when the package is imported). Most stop before any
notebook runs.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from conftest import NATIONAL_FILE

from analyse import config
from analyse.analysis import bundle
from analyse.read.files import read_bytes

HEADER = "date_comite,departement,structure,type_structure,postes,commune,code,source"
GOOD = "2021-04,05,Gap,commune,1,,,note"
NATIONAL = NATIONAL_FILE

RUNNER = "import sys\nexec(sys.argv[1])\nfrom analyse.cli import main\nsys.exit(main(sys.argv[2:]))"

# A full disk, simulated in the process under test: the first table written fails.
DISK_FULL_ON_SAVE = f"""
import errno, os, pandas, geopandas
def _full(self, path, *args, **kwargs):
    raise OSError({errno.ENOSPC}, os.strerror({errno.ENOSPC}), str(path))
pandas.DataFrame.to_parquet = _full
geopandas.GeoDataFrame.to_parquet = _full
"""
# ... or while the notebook is being run (the kernel's files, the executed notebook).
DISK_FULL_IN_NOTEBOOK = f"""
import errno, os, papermill
def _full(input_path, output_path, *args, **kwargs):
    raise OSError({errno.ENOSPC}, os.strerror({errno.ENOSPC}), str(output_path))
papermill.execute_notebook = _full
"""


@dataclass
class Case:
    """A bad input: ``build(tmp)`` writes what it needs and returns the arguments."""

    build: Callable[[Path], list[str]]
    expected: list[str]  # fragments of the message (the file or option named in it)
    prelude: str = ""
    env: Callable[[Path], dict[str, str]] = field(default=lambda tmp: {})
    prepared_may_remain: bool = False  # failed after preparing the data, before the report


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _report(selections: Path | str, *more: str) -> list[str]:
    return ["rapport", "-d", "05", "--selections", str(selections), *more]


def _row(line: str) -> Case:
    """One bad row in a native selection file."""
    return Case(
        lambda tmp: _report(_write(tmp / "sel" / "comite.csv", f"{HEADER}\n{line}\n")),
        ["comite.csv, ligne 2"],
    )


def _xlsx_other_sheet(tmp: Path) -> list[str]:
    path = tmp / "sel" / "comites.xlsx"
    path.parent.mkdir(parents=True)
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Notes": ["à lire"]}).to_excel(writer, sheet_name="Lisez-moi", index=False)
        pd.DataFrame([GOOD.split(",")], columns=HEADER.split(",")).to_excel(
            writer, sheet_name="Avril", index=False
        )
    return _report(path)


def _xlsx(tmp: Path, rows: list[list[object]], hidden: bool = False) -> Path:
    import openpyxl

    path = tmp / "sel" / "comites.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Avril"
    for row in rows:
        sheet.append(row)
    if hidden:
        sheet.sheet_state = "hidden"
        book.create_sheet("Notes").append(["à lire"])
    book.save(path)
    return path


def _xlsx_far_cell(tmp: Path) -> list[str]:
    import openpyxl

    path = _xlsx(tmp, [HEADER.split(","), GOOD.split(",")])
    book = openpyxl.load_workbook(path)
    book.active["XFD1048576"] = "x"
    book.save(path)
    return _report(path)


def _xlsx_hidden_table(tmp: Path) -> list[str]:
    return _report(_xlsx(tmp, [HEADER.split(","), GOOD.split(",")], hidden=True))


def _xlsx_beyond_header(tmp: Path) -> list[str]:
    return _report(_xlsx(tmp, [HEADER.split(","), [*GOOD.split(","), "oubli"]]))


def _national_unclosed_quote(tmp: Path) -> list[str]:
    lines = read_bytes(NATIONAL).decode("utf-8").splitlines()
    lines[10] = lines[10].replace(";", ';"', 1)
    return _report(_write(tmp / "coselec.csv", "\n".join(lines) + "\n"))


def _ifn(tmp: Path, value: str) -> list[str]:
    header = "name,code,no_thd_coverage_rate,no_4g_coverage_rate,poverty_rate,older_65_rate,"
    header += "nscol15p_rate,total"
    communes = _write(tmp / "ifn" / "ifn-communes.csv", f"{header}\nGap,05061,5,5,5,5,5,{value}\n")
    epci = _write(tmp / "ifn" / "ifn-epci.csv", f"{header}\nCA Gap,200067825,5,5,5,5,5,5\n")
    return [*_seed(tmp), "--fragilite", str(communes), "--fragilite", str(epci)]


def _current_places(tmp: Path) -> Path:
    """A places file of today's schema (its example, with its one place)."""
    return _write(
        tmp / "lieux.csv",
        "id,latitude,longitude,dispositif_programmes_nationaux\n"
        'a,44.56,6.08,"Conseillers numériques|France Services"\n',
    )


def _truncated_national(tmp: Path) -> list[str]:
    lines = read_bytes(NATIONAL).decode("utf-8").splitlines()
    return _report(_write(tmp / "coselec.csv", "\n".join(lines[:10]) + "\n" + lines[10][:40]))


def _read_only(tmp: Path) -> str:
    if os.geteuid() == 0:  # root writes through file modes; sysfs refuses even root
        return "/sys/analyse-test/rapports"
    folder = tmp / "lecture-seule"
    folder.mkdir()
    folder.chmod(0o555)
    return str(folder / "rapports")


def _raw(tmp: Path, name: str, text: str) -> dict[str, str]:
    """The project's raw files, with one of them malformed, in a folder of the test."""
    raw = tmp / "raw"
    if not raw.exists():
        shutil.copytree(config.RAW_DIR, raw, ignore=shutil.ignore_patterns("national"))
    _write(raw / name, text)
    return {"ANALYSE_DONNEES_BRUTES": str(raw)}


def _seed(tmp: Path) -> list[str]:
    return _report(config.SELECTIONS_DIR)


CASES: dict[str, Case] = {
    # --- rows of a selection file
    "postes vide": _row("2021-04,05,Gap,commune,,,,"),
    "postes non entier": _row("2021-04,05,Gap,commune,1.5,,,"),
    "postes nul": _row("2021-04,05,Gap,commune,0,,,"),
    "postes négatif": _row("2021-04,05,Gap,commune,-2,,,"),
    "postes 1 000 000 000": _row("2021-04,05,Gap,commune,1000000000,,,"),
    "postes > 2^63": _row(f"2021-04,05,Gap,commune,{2**63 + 1},,,"),
    "département inconnu": _row("2021-04,99,Gap,commune,1,,,"),
    "date illisible": _row("04/2021,05,Gap,commune,1,,,"),
    "date future": _row("2099-04,05,Gap,commune,1,,,"),
    "date 1900-01-01": _row("1900-01-01,05,Gap,commune,1,,,"),
    "date 0001-01-01": _row("0001-01-01,05,Gap,commune,1,,,"),
    "octet NUL": _row("2021-04,05,Gap\x00,commune,1,,,"),
    "caractère de contrôle": _row("2021-04,05,Gap,commune,1,,,note\x07"),
    "ligne tronquée": _row("2021-04,05,Gap,commune"),
    "champ de plus de 131 072 caractères": _row(f'2021-04,05,"{"x" * 140_000}",commune,1,,,'),
    "ligne répétée dans un fichier": Case(
        lambda tmp: _report(_write(tmp / "sel" / "comite.csv", f"{HEADER}\n{GOOD}\n{GOOD}\n")),
        ["comite.csv, ligne 3", "probable doublon", "ligne 2 du même fichier"],
    ),
    # --- whole files
    "colonne absente": Case(
        lambda tmp: _report(
            _write(tmp / "a.csv", "date_comite,departement,structure,postes\n2021-04,05,Gap,1\n")
        ),
        ["a.csv, ligne 1", "colonne(s) obligatoire(s) absente(s) : type_structure"],
    ),
    "colonne en double": Case(
        lambda tmp: _report(
            _write(
                tmp / "a.csv",
                "date_comite;departement;structure;type_structure;postes;postes"
                "\n2021-04;05;Gap;commune;1;2\n",
            )
        ),
        ["a.csv, ligne 1", "colonne(s) en double dans l'en-tête : postes"],
    ),
    "fichier vide": Case(lambda tmp: _report(_write(tmp / "vide.csv", b"")), ["vide.csv"]),
    "fichier binaire": Case(
        lambda tmp: _report(_write(tmp / "image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")),
        ["image.csv", "ni UTF-8 ni Windows-1252"],
    ),
    "xlsx qui n'est pas un zip": Case(
        lambda tmp: _report(_write(tmp / "comites.xlsx", "date_comite;postes\n2021-04;1\n")),
        ["comites.xlsx", "n'est pas un classeur Excel .xlsx lisible"],
    ),
    "xlsx, tableau sur une autre feuille": Case(
        _xlsx_other_sheet, ["comites.xlsx", "sur la feuille « Avril »"]
    ),
    "doublon entre deux fichiers": Case(
        lambda tmp: (
            _write(tmp / "sel" / "a.csv", f"{HEADER}\n{GOOD}\n"),
            _write(tmp / "sel" / "b.csv", f"{HEADER}\n2021-04-14,5,GAP,commune,1,,,autre\n"),
            _report(tmp / "sel"),
        )[-1],
        ["b.csv, ligne 2", "probable doublon", "figure déjà dans", "a.csv, ligne 2"],
    ),
    "liste nationale tronquée": Case(
        _truncated_national, ["coselec.csv, ligne 11", "ligne incomplète"]
    ),
    "sélections introuvables": Case(
        lambda tmp: _report(tmp / "absent.csv"), ["absent.csv", "introuvable"]
    ),
    # --- options
    "département 99": Case(
        lambda tmp: ["rapport", "-d", "99"], ["code département « 99 » n'existe pas"]
    ),
    "--cible négative": Case(lambda tmp: [*_seed(tmp), "--cible", "-1"], ["--cible : « -1 »"]),
    "--cible nan": Case(lambda tmp: [*_seed(tmp), "--cible", "nan"], ["--cible : « nan »"]),
    "--cible inf": Case(lambda tmp: [*_seed(tmp), "--cible", "inf"], ["--cible : « inf »"]),
    "--departements ,,,": Case(
        lambda tmp: ["rapports", "--departements", ",,,"], ["--departements « ,,, »", "rien à"]
    ),
    "--fragilite vide": Case(
        lambda tmp: [
            *_seed(tmp),
            "--fragilite",
            str(_write(tmp / "ifn" / "ifn-communes.csv", b"")),
            "--fragilite",
            str(_write(tmp / "ifn" / "ifn-epci.csv", b"")),
        ],
        ["ifn-communes.csv", "est vide"],
    ),
    "--lieux dossier": Case(
        lambda tmp: [*_seed(tmp), "--lieux", str(tmp)], ["--lieux attend le fichier"]
    ),
    "--sortie fichier": Case(
        lambda tmp: [
            *_seed(tmp)[:-2],
            "--selections",
            str(config.SELECTIONS_DIR),
            "--sortie",
            str(_write(tmp / "sortie.txt", "x")),
        ],
        ["sortie.txt : ce n'est pas un dossier"],
    ),
    "--sortie /dev/null": Case(
        lambda tmp: [*_seed(tmp), "--sortie", "/dev/null"], ["/dev/null : ce n'est pas un dossier"]
    ),
    "--sortie en lecture seule": Case(
        lambda tmp: [*_seed(tmp), "--sortie", _read_only(tmp)], ["écriture impossible"]
    ),
    "disque plein (données préparées)": Case(
        _seed, ["disque plein", "indicateurs_epci.parquet"], prelude=DISK_FULL_ON_SAVE
    ),
    "disque plein (notebook)": Case(
        _seed,
        ["disque plein", "rapport.ipynb"],
        prelude=DISK_FULL_IN_NOTEBOOK,
    ),
    # --- the project's own files, malformed (in a copy: the real tree is never touched)
    "aliases.csv sans colonnes": Case(
        _seed,
        ["aliases.csv, ligne 1", "colonne(s) absente(s) : nom, code"],
        env=lambda tmp: _raw(tmp, "aliases.csv", "departement;libelle\n05;Gap\n"),
    ),
    "aliases.csv, code invalide": Case(
        _seed,
        ["aliases.csv, ligne 2, colonne « code »", "« Gap »"],
        env=lambda tmp: _raw(tmp, "aliases.csv", "departement,nom,code\n05,Pays de Gap,Gap\n"),
    ),
    "doublons_confirmes.csv sans colonnes": Case(
        _seed,
        ["doublons_confirmes.csv, ligne 1", "colonne(s) absente(s) : date_comite, postes"],
        env=lambda tmp: _raw(tmp, "doublons_confirmes.csv", "departement,structure\n05,Gap\n"),
    ),
    "doublons_confirmes.csv, postes illisibles": Case(
        _seed,
        ["doublons_confirmes.csv, ligne 2, colonne « postes »", "« un »"],
        env=lambda tmp: _raw(
            tmp,
            "doublons_confirmes.csv",
            "departement,structure,date_comite,postes\n05,Gap,2021-04,un\n",
        ),
    ),
    "doublons_confirmes.csv binaire": Case(
        _seed,
        ["doublons_confirmes.csv", "le fichier n'est pas du texte"],
        env=lambda tmp: _raw(tmp, "doublons_confirmes.csv", b"\xff\xfe\x00\x00\x89PNG"),
    ),
    # --- rows and files the reader used to swallow or crash on
    "guillemet non fermé": Case(
        lambda tmp: _report(
            _write(
                tmp / "sel" / "comite.csv",
                f'{HEADER}\n2021-04,05,Gap,commune,1,,,"note\n2021-04,05,Embrun,commune,1,,,\n',
            )
        ),
        ["comite.csv, ligne 2", "guillemet ouvert jamais refermé"],
    ),
    "cellule au-delà de l'en-tête": _row("2021-04,05,Gap,commune,1,,,note,oubli"),
    "guillemet suivi de texte": _row('2021-04,05,"Gap"x,commune,1,,,'),
    "postes 1_0": _row("2021-04,05,Gap,commune,1_0,,,"),
    "postes ５ (pleine chasse)": _row("2021-04,05,Gap,commune,５,,,"),
    "postes ٣ (chiffre arabe-indien)": _row("2021-04,05,Gap,commune,٣,,,"),
    "postes ² (exposant)": _row("2021-04,05,Gap,commune,²,,,"),
    "caractère de contrôle C1 (U+0085)": _row("2021-04,05,Gap\u0085,commune,1,,,"),
    "caractère de contrôle C1 (U+009B)": _row("2021-04,05,Gap,commune,1,,,note\u009b"),
    "xlsx, valeur en XFD1048576": Case(_xlsx_far_cell, ["comites.xlsx", "au-delà de la ligne"]),
    "xlsx, tableau sur une feuille masquée": Case(
        _xlsx_hidden_table, ["comites.xlsx", "sur la feuille masquée « Avril »"]
    ),
    "xlsx, cellule au-delà de l'en-tête": Case(
        _xlsx_beyond_header, ["comites.xlsx, ligne 2", "« oubli » est au-delà de l'en-tête"]
    ),
    "liste nationale, guillemet non fermé": Case(
        _national_unclosed_quote, ["coselec.csv, ligne 11", "ligne illisible comme CSV"]
    ),
    "lieux CSV, guillemet non fermé": Case(
        lambda tmp: [
            *_seed(tmp),
            "--lieux",
            str(_write(tmp / "lieux.csv", 'id,latitude,longitude\na,"44.5,6.0\nb,44.6,6.1\n')),
        ],
        ["lieux.csv, ligne 2", "guillemet ouvert jamais refermé"],
    ),
    "lieux CSV, ligne trop longue": Case(
        lambda tmp: [
            *_seed(tmp),
            "--lieux",
            str(_write(tmp / "lieux.csv", "id,latitude,longitude\na,44.5,6.0,6.1\n")),
        ],
        ["lieux.csv, ligne 2", "au-delà de l'en-tête"],
    ),
    "IFN, valeur 999": Case(
        lambda tmp: _ifn(tmp, "999"), ["ifn-communes.csv, ligne 2, colonne « total »", "999"]
    ),
    "IFN, valeur -5": Case(lambda tmp: _ifn(tmp, "-5"), ["ifn-communes.csv, ligne 2", "« -5 »"]),
    "IFN, valeur inf": Case(lambda tmp: _ifn(tmp, "inf"), ["ifn-communes.csv, ligne 2", "« inf »"]),
    "aliases.csv, deux codes pour un nom": Case(
        _seed,
        ["aliases.csv, ligne 3", "alias contradictoire", "ligne 2"],
        env=lambda tmp: _raw(
            tmp,
            "aliases.csv",
            "departement,nom,code\n05,Pays de Gap,200067825\n05,Pays de Gap,05061\n",
        ),
    ),
    # --- months outside the data
    "--mois 2026-11 (après la liste)": Case(
        lambda tmp: ["mensuel", "--mois", "2026-11", "--departements", "05"],
        ["--mois 2026-11 : postérieur à la liste", "05/04/2023", "avril 2023", "telecharger"],
    ),
    "--mois 9999-11": Case(
        lambda tmp: ["mensuel", "--mois", "9999-11", "--departements", "05"],
        ["--mois 9999-11 : postérieur à la liste"],
    ),
    "--mois 0000-01": Case(
        lambda tmp: ["mensuel", "--mois", "0000-01", "--departements", "05"],
        ["--mois 0000-01 : antérieur au premier comité", "mars 2021"],
    ),
    "--mois 2021-02 (avant le premier comité)": Case(
        lambda tmp: ["mensuel", "--mois", "2021-02", "--departements", "05"],
        ["--mois 2021-02 : antérieur au premier comité"],
    ),
    "--jusqu-a 2203-04": Case(
        lambda tmp: ["mensuel", "--mois", "2021-03", "--jusqu-a", "2203-04"],
        ["--jusqu-a 2203-04 : postérieur à la liste"],
    ),
    "--mois 2021-13": Case(
        lambda tmp: ["mensuel", "--mois", "2021-13"], ["--mois « 2021-13 » : mois invalide"]
    ),
    "--jusqu-a avant --mois": Case(
        lambda tmp: ["mensuel", "--mois", "2022-02", "--jusqu-a", "2021-11"],
        ["--jusqu-a 2021-11 : le mois de fin précède"],
    ),
    # --- absurd options, argparse's own messages
    "--cible 1e30": Case(lambda tmp: [*_seed(tmp), "--cible", "1e30"], ["--cible : « 1e30 » hors"]),
    "--cible abc": Case(
        lambda tmp: [*_seed(tmp), "--cible", "abc"], ["--cible : « abc » n'est pas un nombre"]
    ),
    "--rayon inf": Case(
        lambda tmp: [*_seed(tmp), "--postes", "1", "--rayon", "inf"], ["--rayon : « inf »"]
    ),
    "--rayon 0": Case(
        lambda tmp: [*_seed(tmp), "--postes", "1", "--rayon", "0"], ["--rayon : « 0 » hors"]
    ),
    "--postes 1.5": Case(
        lambda tmp: ["scenario", "-d", "05", "--postes", "1.5"],
        ["--postes : « 1.5 » n'est pas un nombre entier"],
    ),
    "--postes 1_0": Case(
        lambda tmp: ["scenario", "-d", "05", "--postes", "1_0"], ["--postes : « 1_0 »"]
    ),
    "--postes 1000000": Case(
        lambda tmp: ["scenario", "-d", "05", "--postes", "1000000"], ["--postes : « 1000000 » hors"]
    ),
    "--objectif foo": Case(
        lambda tmp: ["scenario", "-d", "05", "--postes", "1", "--objectif", "foo"],
        ["--objectif : « foo » n'est pas une valeur possible", "couverture, distance"],
    ),
    "--jobs 0": Case(
        lambda tmp: ["rapports", "--departements", "05", "--jobs", "0"], ["--jobs/-j : « 0 » hors"]
    ),
    "--programmes inconnu": Case(
        lambda tmp: [
            *_seed(tmp),
            "--lieux",
            str(_current_places(tmp)),
            "--programmes",
            "Conseilers",
        ],
        ["--programmes", "« Conseilers »", "Programmes du fichier : "],
    ),
    "argument manquant": Case(
        lambda tmp: ["rapport", "-d"], ["--departement/-d : une valeur est attendue"]
    ),
    "option obligatoire absente": Case(
        lambda tmp: ["mensuel"], ["option(s) obligatoire(s) manquante(s) : --mois"]
    ),
    "option inconnue": Case(
        lambda tmp: [*_seed(tmp), "--inconnue"], ["option(s) ou valeur(s) inconnue(s) : --inconnue"]
    ),
    "commande inconnue": Case(lambda tmp: ["rappor"], ["commande « rappor » inconnue"]),
    # --- data.gouv.fr
    "réponse de l'API mal formée": Case(
        lambda tmp: [
            "telecharger",
            "--api",
            _write(tmp / "api.json", '{"resources": [1, 2]}').as_uri(),
            "--sortie",
            str(tmp / "sortie" / "coselec.csv"),
        ],
        ["api.json", "pas la description attendue"],
    ),
    "réponse de l'API qui n'est pas du JSON": Case(
        lambda tmp: [
            "telecharger",
            "--api",
            _write(tmp / "api.json", "<html></html>").as_uri(),
            "--sortie",
            str(tmp / "sortie" / "coselec.csv"),
        ],
        ["api.json", "n'est pas la description JSON attendue"],
    ),
}


def _in_a_process(case: Case) -> bool:
    """Whether the case needs its own process: a prelude that patches libraries, or
    environment variables read when the package is imported."""
    return bool(case.prelude) or case.env(Path("/nulle-part")) != {}


def _check_refused(case: Case, code: int, err: str, out: Path, prepared: Path) -> None:
    """Exit 2, a French message naming what is wrong, no traceback, nothing written."""
    assert code == 2, err
    assert "Traceback" not in err, err
    assert err.startswith("Erreur : "), err
    for fragment in case.expected:
        assert fragment in err, (fragment, err)
    # Prepared data live in the output folder (.donnees/); reports beside them.
    files = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    written = [p for p in files if not p.is_relative_to(prepared)]
    assert written == [], written
    if not case.prepared_may_remain:
        assert not prepared.exists()
        # Nothing left behind on an empty volume, not even an empty .donnees/.
        assert not (out / config.PREPARED_SUBDIR).exists()


def _argv(case: Case, tmp_path: Path, out: Path) -> list[str]:
    argv = case.build(tmp_path)
    if argv[0] in ("rapport", "rapports", "mensuel") and "--sortie" not in argv:
        argv += ["--sortie", str(out)]
    return argv


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if not _in_a_process(c)])
def test_bad_input_through_the_cli(name, tmp_path, monkeypatch, capsys):
    from analyse import cli
    from analyse.run import warm

    case = CASES[name]
    out = tmp_path / "sortie"
    argv = _argv(case, tmp_path, out)
    monkeypatch.chdir(tmp_path)
    # A refused input stops the command before any notebook runs: the Jupyter kernel that
    # « rapport » starts at once, to import its libraries meanwhile, is not needed here.
    monkeypatch.setattr(warm.WarmKernel, "launch", lambda self: None)
    try:
        try:
            code = cli.main(argv)
        except SystemExit as stop:  # the option parser stops the process, as the CLI does
            code = stop.code
        _check_refused(case, code, capsys.readouterr().err, out, bundle.data_dir_for("05", out))
    finally:
        if (tmp_path / "lecture-seule").exists():
            (tmp_path / "lecture-seule").chmod(0o755)


@pytest.mark.panne
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if _in_a_process(c)])
def test_bad_input_in_a_process_of_its_own(name, tmp_path):
    case = CASES[name]
    out = tmp_path / "sortie"
    argv = _argv(case, tmp_path, out)
    env = {**os.environ, **case.env(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", RUNNER, case.prelude, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    _check_refused(case, run.returncode, run.stderr, out, bundle.data_dir_for("05", out))


def test_departements_are_taken_once():
    """« --departements 05,05 » (or « 05,5 ») is one département, not two reports."""
    import argparse

    from analyse import cli
    from analyse.territory.reference import load_reference

    reference = load_reference()
    args = argparse.Namespace(departements="05,05,5,2a")
    assert cli._departements(args, reference) == ["05", "2A"]


def test_enospc_is_said_in_french():
    from analyse.errors import os_error_text

    error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/tmp/rapport.html")
    assert os_error_text(error).startswith("/tmp/rapport.html : disque plein")
