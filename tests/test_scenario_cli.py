"""``analyse scenario`` and ``analyse rapport --postes``: what the user sees."""

from __future__ import annotations

import openpyxl
import pyogrio
import pytest

from analyse import cli


def test_scenario_prints_the_posts_in_order_with_sentences(capsys):
    """Seed selections of 05 (town halls as places), two posts within 20 km."""
    assert cli.main(["scenario", "-d", "05", "--postes", "2"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "Où placer les prochains postes ? — Hautes-Alpes (05)" in out
    assert "Choix optimal : modèle de couverture maximale (spopt MCLP)" in out
    assert out.count("Un poste à ") == 2
    # Followed by the communes that would bring as much, when there are some.
    assert "habitants de plus à moins de 20 km d'un conseiller" in out
    assert "à plus de 20 km" in out and "→" in out
    assert "vol d'oiseau" in out and "pas une décision" in out


def test_scenario_distance_objective(capsys):
    assert cli.main(["scenario", "-d", "05", "--postes", "1", "--objectif", "distance"]) == 0
    out = capsys.readouterr().out
    assert "Choix optimal : modèle de p-médiane" in out
    assert "km en moyenne" in out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--postes", "0"], "« 0 » hors des bornes : entre 1 et"),
        (["--postes", "2", "--rayon", "-5"], "« -5 » hors des bornes : entre 0,1 et 200"),
        (
            ["--postes", "2", "--pondération", "ifn", "--sans-fragilite"],
            "demande l'indice de fragilité numérique",
        ),
    ],
)
def test_bad_scenario_settings_exit_2_in_french(capsys, tmp_path, arguments, message):
    try:
        code = cli.main(["rapport", "-d", "05", "--sortie", str(tmp_path), *arguments])
    except SystemExit as stop:  # the parser's own refusals end the process
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Erreur : ") and message in err
    assert "Traceback" not in err
    assert not any(tmp_path.iterdir())


@pytest.mark.lot
def test_report_with_posts_has_the_section_the_sheet_and_the_layer(tmp_path):
    assert cli.main(["rapport", "-d", "05", "--postes", "2", "--sortie", str(tmp_path)]) == 0
    folder = tmp_path / "05"
    html = (folder / "rapport.html").read_text(encoding="utf-8")
    assert "Où placer les prochains postes ?" in html.replace("\u202f", " ")
    assert html.count("Un poste à ") == 2
    assert "Carte des lieux existants et des postes proposés" in html
    assert "vol d&#39;oiseau" in html or "vol d'oiseau" in html
    sheet = openpyxl.load_workbook(folder / "couverture.xlsx")["Propositions"]
    assert [c.value for c in sheet[1]][:3] == ["Rang", "Code INSEE", "Commune"]
    assert sheet.max_row == 3
    layers = dict(pyogrio.list_layers(folder / "couverture.gpkg"))
    assert layers["propositions"] == "Point"
    assert len(pyogrio.read_dataframe(folder / "couverture.gpkg", layer="propositions")) == 2
