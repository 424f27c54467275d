"""Digital fragility index: reading, code repair, join and the unmatched report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import EPCI_05, IFN_COMMUNES, IFN_EPCI

from analyse.territory.fragility import (
    IFN_COLUMNS,
    ORIGIN_ARRONDISSEMENTS,
    ORIGIN_ATTACHED,
    ORIGIN_OWN,
    UNMATCHED_COLUMNS,
    IFNFileError,
    join_ifn,
    read_ifn,
)

HEADER = "name,division,code,no_thd_coverage_rate,no_4g_coverage_rate,poverty_rate,"
HEADER += "older_65_rate,nscol15p_rate,total\n"


def _line(name: str, code: str, score: float | str, division: str = "city") -> str:
    """A row whose five sub-scores and total all equal ``score`` ('' for empty)."""
    return f"{name},{division},{code}," + ",".join([str(score)] * 6) + "\n"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def tiny_files(tmp_path):
    communes = _write(
        tmp_path / "communes.csv",
        [
            _line("Aval", "5001", 4),  # leading zero lost by a spreadsheet
            _line("Milieu déléguée A", "5901", 2),
            _line("Milieu déléguée B", "5902", 6),
            _line("Amont ancien", "5903", 9),  # superseded: Amont has no own row here
            _line("Ville 1er", "5911", 3),
            _line("Ville 2e", "5912", 7),
            _line("Ville", "5010", ""),  # the city's own row is empty (as Marseille's)
            _line("Fantôme", "05999", 5),
            _line("Aval bis", "05001", 8),  # duplicate code
        ],
    )
    epci = _write(
        tmp_path / "epci.csv",
        [
            _line("CC Un", "11111111", 5, "epci"),  # 8 digits: zero restored
            _line("CC Disparue", "333333333", 6, "epci"),
            _line("Sans objet", "ZZZZZZZZZ", 7, "epci"),
        ],
    )
    return communes, epci


def _communes() -> pd.DataFrame:
    """Current communes of 05 and entities attached to them (no geometry needed)."""
    rows = [
        ("05001", "Aval", "COM", 100, "011111111", None),
        ("05002", "Amont", "COM", 100, "011111111", None),
        ("05003", "Milieu", "COM", 400, "222222222", None),
        ("05010", "Ville", "COM", 1000, "222222222", None),
        ("05901", "Milieu déléguée A", "COMD", 100, None, "05003"),
        ("05902", "Milieu déléguée B", "COMD", 300, None, "05003"),
        ("05903", "Amont ancien", "COMD", 50, None, "05002"),
        ("05911", "Ville 1er", "ARM", 250, None, "05010"),
        ("05912", "Ville 2e", "ARM", 750, None, "05010"),
    ]
    table = pd.DataFrame(
        rows, columns=["insee", "nom", "type", "population", "siren_epci", "insee_parent"]
    )
    return table.assign(departement="05")


def _epci() -> pd.DataFrame:
    return pd.DataFrame(
        {"siren": ["011111111", "222222222"], "nom": ["CC Un", "CC Deux"], "population": [1, 2]}
    )


def test_read_restores_codes_and_names_columns(tiny_files):
    ifn = read_ifn(*tiny_files)
    assert ifn.communes["insee"].tolist()[:3] == ["05001", "05901", "05902"]
    assert ifn.epci["siren_epci"].tolist() == ["011111111", "333333333", "ZZZZZZZZZ"]
    assert list(ifn.communes.columns) == ["insee", "nom", *IFN_COLUMNS]
    assert ifn.communes["ifn"].iloc[0] == 4.0
    assert ifn.communes["ifn"].isna().sum() == 1  # the empty row is kept, not dropped


def test_corsican_codes_are_kept(tmp_path):
    communes = _write(tmp_path / "c.csv", [_line("Ajaccio", "2A004", 5), _line("Bourg", "1004", 5)])
    epci = _write(tmp_path / "e.csv", [_line("CC", "200000172", 5, "epci")])
    assert read_ifn(communes, epci).communes["insee"].tolist() == ["2A004", "01004"]


def test_missing_column_names_the_file(tmp_path, tiny_files):
    broken = tmp_path / "sans_total.csv"
    broken.write_text("name,code,poverty_rate\nAval,05001,3\n", encoding="utf-8")
    with pytest.raises(IFNFileError, match=r"sans_total\.csv.*total"):
        read_ifn(broken, tiny_files[1])
    with pytest.raises(IFNFileError, match="introuvable"):
        read_ifn(tmp_path / "absent.csv", tiny_files[1])


def test_non_numeric_score_gives_line_and_column(tmp_path, tiny_files):
    bad = _write(tmp_path / "bad.csv", [_line("Aval", "05001", 4), _line("Amont", "05002", "x")])
    with pytest.raises(IFNFileError, match=r"bad\.csv, ligne 3, colonne « .* » .*« x »"):
        read_ifn(bad, tiny_files[1])


def test_join_resolves_old_codes_and_reports_the_rest(tiny_files):
    ifn = read_ifn(*tiny_files)
    communes, epci, unmatched = join_ifn(_communes(), _epci(), ifn)

    # Current communes only, all of them, in order.
    assert communes["insee"].tolist() == ["05001", "05002", "05003", "05010"]
    scores = communes.set_index("insee")
    assert scores.loc["05001", "ifn"] == 4.0  # first of the duplicated rows
    assert scores.loc["05001", "ifn_origine"] == ORIGIN_OWN
    # Communes déléguées weighted by population: (2 × 100 + 6 × 300) / 400 = 5.
    assert scores.loc["05003", "ifn"] == pytest.approx(5.0)
    assert scores.loc["05003", "ifn_origine"] == ORIGIN_ATTACHED
    # Empty own row: arrondissements (3 × 250 + 7 × 750) / 1000 = 6.
    assert scores.loc["05010", "ifn_pauvrete"] == pytest.approx(6.0)
    assert scores.loc["05010", "ifn_origine"] == ORIGIN_ARRONDISSEMENTS
    # Amont: its former commune's score stands for it.
    assert scores.loc["05002", "ifn"] == 9.0

    assert epci["ifn"].tolist()[0] == 5.0 and pd.isna(epci["ifn"].iloc[1])

    assert list(unmatched.columns) == UNMATCHED_COLUMNS
    reasons = {(r.niveau, r.code): r.motif for r in unmatched.itertuples()}
    assert reasons[("commune", "05999")].startswith("code absent du référentiel")
    assert reasons[("commune", "05010")] == "ligne sans valeur dans le fichier"
    assert reasons[("commune", "05001")].startswith("code en double")
    assert reasons[("epci", "222222222")] == "EPCI du référentiel sans indice dans le fichier IFN"
    # The IFN file covers only 05, which the communes cover: the join is national, so
    # unknown EPCI codes are reported.
    assert reasons[("epci", "333333333")].startswith("SIREN absent du référentiel")
    assert reasons[("epci", "ZZZZZZZZZ")] == "code qui n'est pas un SIREN"
    assert len(unmatched) == 6


def test_own_row_wins_over_attached_ones(tiny_files, tmp_path):
    lines = tiny_files[0].read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    communes_csv = _write(tmp_path / "with_amont.csv", [*lines, _line("Amont", "05002", 1)])
    communes, _, unmatched = join_ifn(_communes(), _epci(), read_ifn(communes_csv, tiny_files[1]))
    assert communes.set_index("insee").loc["05002", "ifn"] == 1.0
    row = unmatched.loc[unmatched["code"] == "05903"].iloc[0]
    assert row["motif"] == (
        "commune déléguée de Amont (05002) : la valeur propre de la commune actuelle est retenue"
    )


def test_subset_join_does_not_report_the_rest_of_france(tiny_files, tmp_path):
    lines = tiny_files[0].read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    communes_csv = _write(tmp_path / "with_38.csv", [*lines, _line("Grenoble", "38185", 3)])
    _, _, unmatched = join_ifn(_communes(), _epci(), read_ifn(communes_csv, tiny_files[1]))
    assert "38185" not in set(unmatched["code"])
    # 38 is outside the communes given: EPCI codes cannot be judged unknown any more.
    assert "333333333" not in set(unmatched["code"])
    assert "222222222" in set(unmatched["code"])  # but our own EPCI still are


def test_geodataframe_keeps_geometry_and_rows(tiny_reference, tmp_path):
    communes_csv = _write(tmp_path / "c.csv", [_line("Aval", "05001", 4)])
    epci_csv = _write(tmp_path / "e.csv", [_line("CC", "111111111", 5, "epci")])
    ifn = read_ifn(communes_csv, epci_csv)
    communes, epci, unmatched = join_ifn(tiny_reference.communes, tiny_reference.epci, ifn)
    assert len(communes) == 4 and communes.geometry.notna().all()
    assert communes.crs == tiny_reference.communes.crs
    assert len(epci) == 2 and epci.crs == tiny_reference.epci.crs
    # Every commune without score is listed (04001 included: 04 is in the communes).
    missing = unmatched.loc[unmatched["niveau"] == "commune", "code"].tolist()
    assert missing == ["05002", "05003", "04001"]


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def real_ifn():
    return read_ifn(IFN_COMMUNES, IFN_EPCI)


def test_real_file_is_read_whole(real_ifn):
    assert len(real_ifn.communes) == 35_008
    assert len(real_ifn.epci) == 1_255
    assert real_ifn.communes["insee"].str.len().eq(5).all()


def test_real_hautes_alpes_all_matched(reference, real_ifn):
    communes_05 = reference.communes.loc[reference.communes["departement"] == "05"]
    epci_05 = reference.epci.loc[reference.epci["siren"].isin(EPCI_05.values())]
    communes, epci, unmatched = join_ifn(communes_05, epci_05, real_ifn)
    assert len(communes) == 162 and communes["ifn"].notna().sum() == 162
    assert (communes["ifn_origine"] == ORIGIN_OWN).all()
    assert len(epci) == 9 and epci["ifn"].notna().all()
    assert unmatched.empty
    scores = communes.set_index("insee")["ifn"]
    assert scores["05061"] == pytest.approx(5.4751, abs=1e-4)  # Gap
    assert scores.max() == pytest.approx(9.8)  # Haute-Beaume
    gap_tallard = epci.set_index("siren").loc[EPCI_05["gap"], "ifn"]
    assert gap_tallard == pytest.approx(5.6261, abs=1e-4)


def test_real_national_report(reference, real_ifn):
    communes, epci, unmatched = join_ifn(reference.communes, reference.epci, real_ifn)
    assert len(communes) == 34_875 and communes["ifn"].notna().sum() == 34_867
    assert len(epci) == 1_253 and epci["ifn"].notna().sum() == 1_246
    by_insee = communes.set_index("insee")
    # Paris and Lyon are given by arrondissement only; Marseille's own row is empty.
    for insee, value in {"75056": 3.4022, "69123": 3.4315, "13055": 5.2115}.items():
        assert by_insee.loc[insee, "ifn"] == pytest.approx(value, abs=1e-4)
        assert by_insee.loc[insee, "ifn_origine"] == ORIGIN_ARRONDISSEMENTS
    counts = unmatched.groupby("niveau").size().to_dict()
    assert counts == {"commune": 107, "epci": 16}
    # Every IFN row is either used as a current commune's own or listed.
    used = by_insee["ifn_origine"].eq(ORIGIN_OWN).sum()
    listed = unmatched["code"].isin(real_ifn.communes["insee"]).sum()
    derived_from = 35_008 - used - listed
    assert derived_from == 45 + 4  # arrondissements, and 4 communes under former codes


def test_line_numbers_are_shared_not_copied_by_derived_frames(tmp_path):
    """The line of each row (``attrs["lignes"]``) is read once: pandas copies ``attrs``
    into every frame and column derived from a table, and a copied list of 35 000 lines
    made reading the IFN take seconds."""
    from analyse.read.files import file_lines, read_csv_table

    path = tmp_path / "t.csv"
    path.write_text('code;nom\n05061;"Gap\nville"\n05023;Briançon\n', encoding="utf-8")
    table = read_csv_table(path)
    derived = table["nom"].str.strip().to_frame().assign(code=table["code"])
    assert derived.attrs["lignes"] is table.attrs["lignes"]
    assert file_lines(derived) == [2, 4]
    assert pd.concat([table, table]).attrs["lignes"] is table.attrs["lignes"]
