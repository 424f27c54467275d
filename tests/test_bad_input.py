"""Bad input: a clear French message naming file, line, column and value, and nothing
written; or, with --tolerant, a report whose "Anomalies" section shows every rejected row."""

from __future__ import annotations

import pandas as pd
import pytest

from analyse import cli, config
from analyse.analysis import bundle, pipeline

HEADER = "date_comite,departement,structure,type_structure,postes,commune,code,source"
GOOD = "2021-04,05,Gap,commune,1,,,note"


def _write(folder, name, *lines, encoding="utf-8"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _run_and_expect(tmp_path, capsys, selections, expected):
    out = tmp_path / "rapports"
    prepared = bundle.data_dir_for("05", out) / "contexte.json"
    before = prepared.stat().st_mtime_ns if prepared.exists() else None
    code = cli.main(["rapport", "-d", "05", "--selections", str(selections), "--sortie", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err, err
    assert not out.exists()  # nothing written
    after = prepared.stat().st_mtime_ns if prepared.exists() else None
    assert after == before  # prepared data untouched


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2021-04,05,Gap,commune,,,,",
            "ligne 2, colonne « postes » : nombre de postes vide.",
        ),
        (
            "2021-04,05,Gap,commune,1.5,,,",
            "colonne « postes » : nombre de postes non entier « 1.5 »",
        ),
        ("2021-04,05,Gap,commune,0,,,", "nombre de postes nul ou négatif « 0 »"),
        ("2021-04,05,Gap,commune,-2,,,", "nombre de postes nul ou négatif « -2 »"),
        (
            "2021-04,99,Gap,commune,1,,,",
            "ligne 2, colonne « departement » : code département inconnu « 99 »",
        ),
        (
            "04/2021,05,Gap,commune,1,,,",
            "colonne « date_comite » : date de comité illisible « 04/2021 »",
        ),
        ("2099-04,05,Gap,commune,1,,,", "date de comité dans le futur « 2099-04 »"),
    ],
)
def test_bad_rows(tmp_path, capsys, line, expected):
    path = _write(tmp_path / "sel", "comite.csv", HEADER, line)
    _run_and_expect(tmp_path, capsys, path, f"{path}, " if "ligne 2" in expected else expected)
    _run_and_expect(tmp_path, capsys, path, expected)


def test_missing_column_empty_file_and_binary_file(tmp_path, capsys):
    folder = tmp_path / "sel"
    missing = _write(
        folder, "a.csv", "date_comite,departement,structure,postes", "2021-04,05,Gap,1"
    )
    _run_and_expect(
        tmp_path, capsys, missing, "ligne 1 : colonne(s) obligatoire(s) absente(s) : type_structure"
    )
    empty = folder / "vide.csv"
    empty.write_bytes(b"")
    _run_and_expect(tmp_path, capsys, empty, "vide.csv : le fichier est vide.")
    binary = folder / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    _run_and_expect(tmp_path, capsys, binary, "ni UTF-8 ni Windows-1252")


def test_xlsx_with_the_table_on_another_sheet(tmp_path, capsys):
    path = tmp_path / "sel" / "comites.xlsx"
    path.parent.mkdir()
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Notes": ["à lire"]}).to_excel(writer, sheet_name="Lisez-moi", index=False)
        pd.DataFrame([GOOD.split(",")], columns=HEADER.split(",")).to_excel(
            writer, sheet_name="Avril", index=False
        )
    _run_and_expect(
        tmp_path,
        capsys,
        path,
        "le tableau des sélections est sur la feuille "
        "« Avril », pas sur la première feuille visible « Lisez-moi »",
    )


def test_duplicate_across_files_is_refused_unless_confirmed(
    tmp_path, capsys, monkeypatch, reference
):
    folder = tmp_path / "sel"
    _write(folder, "a.csv", HEADER, GOOD)
    _write(folder, "b.csv", HEADER, "2021-04-14,5,GAP,commune,1,,,autre source")
    _run_and_expect(
        tmp_path,
        capsys,
        folder,
        "probable doublon : « GAP » (05, comité 2021-04, 1 poste(s)) figure déjà dans",
    )
    confirmed = _write(
        tmp_path,
        "doublons.csv",
        "departement,structure,date_comite,postes,commentaire",
        "05,Gap,2021-04,1,deux postes distincts",
    )
    monkeypatch.setattr(config, "CONFIRMED_DUPLICATES_FILE", confirmed)
    selections = pipeline.match_selections([folder], reference)
    assert selections.table["postes"].sum() == 2


def test_tolerant_mode_keeps_going_and_shows_every_rejected_row(reference, tmp_path):
    folder = tmp_path / "sel"
    _write(
        folder,
        "a.csv",
        HEADER,
        GOOD,
        "2021-04,05,Espinasses,commune,deux,,,",
        "2021-04,99,Nulle,commune,3,,,",
    )
    _write(folder, "b.csv", HEADER, "2021-04,05,GAP,commune,1,,,")
    (folder / "vide.csv").write_bytes(b"")
    selections = pipeline.match_selections([folder], reference, tolerant=True)
    assert len(selections.anomalies) == 4  # bad posts, unknown dep, duplicate, empty file
    prepared = pipeline.prepare("05", selections, reference)
    counts = prepared.counts
    # The duplicate's post is read and rejected; "deux" cannot be read as a number.
    assert counts["rejetes"] == 1 and counts["lus"] == 2
    from analyse.render import tables

    html = tables.analysts_html(prepared)
    assert "<h3>Anomalies</h3>" in html
    for reason in (
        "nombre de postes non entier",
        "probable doublon",
        "le fichier est vide",
        "code département inconnu",
    ):
        assert reason in html, reason


@pytest.mark.lot
def test_tolerant_report(tmp_path):
    folder = tmp_path / "sel"
    _write(folder, "a.csv", HEADER, GOOD, "2021-04,05,Espinasses,commune,zéro,,,")
    out = tmp_path / "rapports"
    assert (
        cli.main(
            ["rapport", "-d", "05", "--selections", str(folder), "--tolerant", "--sortie", str(out)]
        )
        == 0
    )
    html = (out / "05" / "rapport.html").read_text(encoding="utf-8")
    # No-break spaces inside the guillemets (French typography).
    assert "Anomalies" in html and "nombre de postes non entier «\u00a0zéro\u00a0»" in html
