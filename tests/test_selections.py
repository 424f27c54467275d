"""Reading the raw selection rounds: the seed files, the formats analysts export, errors."""

from __future__ import annotations

import pandas as pd
import pytest

from analyse.read.selections import SelectionError, read_selection_file, read_selections

HEADER = "date_comite;departement;structure;type_structure;postes;commune;code;source"


def test_seed_rounds_transcribe_the_press_release(seed):
    assert len(seed) == 12
    assert seed["postes"].sum() == 18
    by_month = seed.groupby("mois_comite")["postes"].sum().to_dict()
    assert by_month == {"2021-03": 11, "2021-04": 7}
    march = seed.loc[seed["mois_comite"] == "2021-03"]
    assert set(march["type_structure"]) == {"epci"}
    # Spellings are kept as published: cleaning is the pipeline's job.
    assert "Champsaur-Vaulgaudemar" in set(seed["structure"])
    assert "Serre-Ponçon Val d’Avance" in set(seed["structure"])  # typographic apostrophe
    assert seed.loc[seed["structure"] == "Sisteronais-Buëch", "postes"].item() == 4
    april = seed.loc[seed["mois_comite"] == "2021-04"].set_index("structure")["postes"]
    assert april.to_dict() == {
        "Conseil départemental": 4,
        "Gap": 1,
        "Espinasses": 1,
        "Orpierre": 1,
    }
    assert set(seed["departement"]) == {"05"}
    # Every row says where it came from (file and line).
    assert seed["fichier"].str.startswith("data/raw/selections/").all()
    assert seed.groupby("fichier")["ligne"].min().eq(2).all()


@pytest.mark.parametrize(
    ("encoding", "separator", "bom"),
    [("utf-8", ",", False), ("utf-8", ";", True), ("cp1252", ";", False)],
)
def test_reads_what_french_spreadsheets_export(tmp_path, encoding, separator, bom):
    text = (
        HEADER.replace(";", separator)
        + "\n"
        + separator.join(["2021-04", "5", "Buëch-Dévoluy", "EPCI", "2", "", "", "préfecture"])
        + "\n"
    )
    path = tmp_path / "round.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    table = read_selection_file(path)
    row = table.iloc[0]
    assert row["structure"] == "Buëch-Dévoluy"
    assert row["departement"] == "05"  # leading zero restored
    assert row["type_structure"] == "epci"
    assert row["postes"] == 2
    assert row["ligne"] == 2


def test_reads_xlsx(tmp_path):
    path = tmp_path / "round.xlsx"
    frame = pd.DataFrame(
        {
            "date_comite": ["2021-04-14"],
            "departement": ["05"],
            "structure": ["Orpierre"],
            "type_structure": ["commune"],
            "postes": [1],
            "commune": ["5097"],
        }
    )
    frame.to_excel(path, index=False)
    row = read_selection_file(path).iloc[0]
    assert (row["structure"], row["commune"], row["postes"]) == ("Orpierre", "05097", 1)
    assert row["mois_comite"] == "2021-04"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2021-04;05;Gap;commune;deux;;;",
            "ligne 2, colonne « postes » : nombre de postes non entier « deux »",
        ),
        (
            "2021-04;05;Gap;commune;0;;;",
            "ligne 2, colonne « postes » : nombre de postes nul ou négatif « 0 »",
        ),
        (
            "2021-04;5x;Gap;commune;1;;;",
            "ligne 2, colonne « departement » : code département invalide « 5x »",
        ),
        (
            "avril;05;Gap;commune;1;;;",
            "ligne 2, colonne « date_comite » : date de comité illisible « avril »",
        ),
        (
            "2021-04;05;Gap;mairie;1;;;",
            "ligne 2, colonne « type_structure » : type de structure inconnu « mairie »",
        ),
    ],
)
def test_bad_rows_name_file_line_column_and_value(tmp_path, line, expected):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(SelectionError) as error:
        read_selection_file(path)
    assert str(error.value).startswith(f"{path}, {expected}")


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date_comite;departement;structure;postes\n2021-04;05;Gap;1\n", "utf-8")
    with pytest.raises(
        SelectionError, match="colonne\\(s\\) obligatoire\\(s\\) absente\\(s\\) : type_structure"
    ):
        read_selection_file(path)


def test_empty_file_and_missing_path(tmp_path):
    empty = tmp_path / "vide.csv"
    empty.write_text("", "utf-8")
    with pytest.raises(SelectionError, match="vide"):
        read_selection_file(empty)
    with pytest.raises(SelectionError, match="introuvable"):
        read_selections([tmp_path / "absent.csv"])


def test_unknown_departement_code_is_refused_with_file_and_line(reference, tmp_path):
    from analyse.analysis.pipeline import match_selections

    path = tmp_path / "comite.csv"
    path.write_text(
        HEADER + "\n2021-04;05;Gap;commune;1;;;\n2021-04;99;Nulle;commune;1;;;\n", encoding="utf-8"
    )
    with pytest.raises(SelectionError) as error:
        match_selections([path], reference)
    assert str(error.value) == (
        f"{path}, ligne 3, colonne « departement » : code département inconnu « 99 »."
    )
