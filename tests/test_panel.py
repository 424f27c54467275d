"""The analysts' panel: its figures are the reports' and the monthly index's, its files
open as published (Frictionless data package, GeoParquet, GeoPackage 1.2)."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import IFN_COMMUNES, IFN_EPCI, NATIONAL_FILE, PLACES_FILE

from analyse import cli, config, schema
from analyse.analysis import pipeline, situation
from analyse.analysis.inputs import load_extras
from analyse.analysis.panel import build_panel
from analyse.render.exports import panel as panel_files
from analyse.render.exports import write_indicators_csv
from analyse.render.exports.geopackage import GPKG_USER_VERSION
from analyse.run.report import make_job
from analyse.territory.matching import LOCATED

MONTH = "2021-06"
# The panel of the tests: three months (the one compared with the reports, a year after
# the first committees, and the list's last month), enough for the exploration notebook.
MONTHS = [MONTH, "2022-03", "2023-04"]
DEPARTEMENTS = ["05", "59", "974", "2A"]
# Columns a report's row gives for its département only (population in the département,
# its Conseil départemental's posts spread over its EPCI): not the EPCI's own figures.
PER_DEPARTEMENT = {
    "population_dans_departement",
    "postes_departementaux_repartis",
    "postes_avec_departementaux_repartis",
    "conseillers_pour_10000_hab_avec_departementaux_repartis",
}


@pytest.fixture(scope="module")
def national(reference):
    selections = pipeline.match_selections([NATIONAL_FILE], reference)
    extras = load_extras(reference, [IFN_COMMUNES, IFN_EPCI], PLACES_FILE)
    return selections, extras


@pytest.fixture(scope="module")
def month_panel(national, reference):
    selections, extras = national
    return build_panel(situation.Sources.of(selections, reference, extras), months=MONTHS)


def _csv(frame: pd.DataFrame, path) -> pd.DataFrame:
    frame.to_csv(path, index=False, encoding="utf-8")
    return pd.read_csv(path, dtype={"siren_epci": str, "premier_mois_conseiller": str})


def test_panel_rows_equal_the_reports_csv_of_the_month(national, month_panel, reference, tmp_path):
    selections, extras = national
    rows = month_panel.epci
    assert set(rows["mois"]) == set(MONTHS)
    rows = rows.loc[rows["mois"] == MONTH]
    assert rows["siren_epci"].is_unique and len(rows) == len(reference.epci)
    for code in DEPARTEMENTS:
        month = situation.Sources.of(selections, reference, extras).at(MONTH)
        prepared, job = make_job(month, code, tmp_path)
        write_indicators_csv(prepared.indicators, job.files.csv)
        report = pd.read_csv(
            job.files.csv, dtype={"siren_epci": str, "premier_mois_conseiller": str}
        )
        ours = rows.loc[rows["siren_epci"].isin(report["siren_epci"])]
        ours = _csv(panel_files.csv_frame(ours), tmp_path / f"panel_{code}.csv")
        ours = ours.set_index("siren_epci").loc[report["siren_epci"]].reset_index()
        shared = [c for c in report.columns if c in ours.columns and c not in PER_DEPARTEMENT]
        assert {"postes", "conseillers_pour_10000_hab", "financement_etat_eur"} <= set(shared)
        assert {"ecart_comparables", "premier_mois_conseiller", "postes_qpv"} <= set(shared)
        pd.testing.assert_frame_equal(
            ours[shared], report[shared], check_dtype=False, obj=f"panel ≠ rapport de {code}"
        )
        # The gaps table of the report: the same IFN, distances, score and posts missing.
        gaps = prepared.gaps.set_index("siren_epci")
        mine = rows.set_index("siren_epci").loc[gaps.index]
        for column in ("ifn", *(f"population_au_dela_{km}km" for km in (10, 20, 30))):
            np.testing.assert_allclose(
                mine[column].astype(float), gaps[column].astype(float), err_msg=column
            )
        np.testing.assert_allclose(mine["score_priorite"], gaps["score_priorite"])
        assert list(mine["postes_manquants_cible_nationale"]) == list(
            gaps["postes_manquants_cible_nationale"]
        )
        assert mine["cible_nationale"].iloc[0] == pytest.approx(prepared.context["cible_nationale"])


def test_hautes_alpes_in_june_2021(month_panel):
    rows = month_panel.epci
    rows = rows.loc[rows["mois"] == MONTH].set_index("siren_epci")
    gap = rows.loc["200067825"]  # CA Gap-Tallard-Durance
    assert gap["mois"] == MONTH
    # At the end of June 2021 the country had fewer posts than in April 2023 (0,59).
    assert 0.25 < gap["cible_nationale"] < 0.4


def test_national_totals_equal_the_monthly_index(national, month_panel, reference):
    selections, _ = national
    index = situation.Sources.of(selections, reference).at(MONTH).index_table()
    rows = month_panel.departements
    rows = rows.loc[rows["mois"] == MONTH]
    assert rows["postes_comptes"].sum() == index["postes"].sum()
    assert rows["postes_nouveaux"].sum() == index["variation"].sum()
    mine = rows.set_index("departement")["postes_comptes"]
    assert mine.to_dict() == index.set_index("code")["postes"].to_dict()
    # Posts located in an EPCI: the EPCI rows add up to the located posts of the month.
    located = selections.until(MONTH).table
    located = located.loc[located["statut"] == LOCATED, "postes"].sum()
    epci = month_panel.epci
    assert epci.loc[epci["mois"] == MONTH, "postes"].sum() == located


def test_written_files_and_data_package_validate(national, month_panel, reference, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    selections, extras = national
    written = panel_files.write_panel(tmp_path, month_panel, selections, reference, extras)
    assert {
        "panel_epci.csv",
        "panel_epci.parquet",
        "panel_departements.csv",
        "epci.csv",
        "epci.parquet",
        "epci.gpkg",
        "datapackage.json",
        "panel_carte.gpkg",
    } <= set(written)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert (
        fields["conseillers_pour_10000_hab"]["title"]
        == schema.ALL["conseillers_pour_10000_hab"].label
    )
    assert package["resources"][0]["schema"]["primaryKey"] == ["siren_epci", "mois"]
    assert package["licenses"][0]["name"] == "etalab-2.0"
    # The outlines once, in GeoParquet, with no month in them.
    outlines = gpd.read_parquet(tmp_path / "epci.parquet")
    assert len(outlines) == len(reference.epci) and "mois" not in outlines
    assert outlines.crs.to_epsg() == config.GEOGRAPHIC_CRS


@pytest.mark.lot
def test_exploration_notebook_runs_on_the_panel(national, month_panel, reference, tmp_path):
    import nbformat
    import papermill

    from analyse.run.report import ensure_kernel

    selections, extras = national
    panel_files.write_panel(tmp_path / "panel", month_panel, selections, reference, extras)
    output = tmp_path / "explorer.ipynb"
    papermill.execute_notebook(
        str(config.NOTEBOOKS_DIR / "explorer.ipynb"),
        str(output),
        parameters={"dossier_panel": str(tmp_path / "panel"), "departement": "05"},
        kernel_name=ensure_kernel(),
        cwd=str(config.NOTEBOOKS_DIR),
        progress_bar=False,
    )
    outputs = [
        o for c in nbformat.read(output, 4).cells if c.cell_type == "code" for o in c.outputs
    ]
    frames = [o for o in outputs if "<table" in o.get("data", {}).get("text/html", "")]
    # The panel's head, the three questions and the trajectory: DataFrames, not strings.
    assert len(frames) >= 5
    texts = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "Gap-Tallard-Durance" in texts and "département 05" in texts
    assert any("folium" in o.get("data", {}).get("text/plain", "") for o in outputs)
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2


def test_geopackages_are_version_1_2(month_panel, tmp_path):
    from analyse.render.exports.geopackage import write_layers

    target = tmp_path / "epci.gpkg"
    write_layers(target, {"epci": month_panel.geometry.head(3), "autre": month_panel.geometry})
    with sqlite3.connect(target) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == GPKG_USER_VERSION
        layers = {row[0] for row in db.execute("SELECT table_name FROM gpkg_contents")}
    assert layers == {"epci", "autre"}


def test_cli_writes_the_panel_of_the_hand_typed_rounds(tmp_path, capsys):
    code = cli.main(
        [
            "panel",
            "--selections",
            str(config.SELECTIONS_DIR),
            "--sans-fragilite",
            "--sortie",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "2 mois (2021-03 à 2021-04)" in out
    rows = pd.read_csv(tmp_path / "panel_epci.csv", dtype={"siren_epci": str})
    assert set(rows["mois"]) == {"2021-03", "2021-04"}
    hautes_alpes = rows.loc[(rows["mois"] == "2021-04") & rows["departements"].str.contains("05")]
    # The report's situation: the hand-typed rounds completed by the national list where
    # they say nothing (the 2 posts the list counts for the Alpes-de-Haute-Provence in
    # the Sisteronais-Buëch): the 16 posts the report locates in its EPCI.
    assert hautes_alpes["postes"].sum() == 16


def test_readme_data_dictionary_is_the_registry():
    import importlib.util

    path = config.PROJECT_ROOT / "scripts" / "dictionnaire.py"
    spec = importlib.util.spec_from_file_location("dictionnaire", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert script.with_dictionary(readme) == readme, "lancez scripts/dictionnaire.py"
    for column in schema.PANEL_EPCI_COLUMNS + schema.PANEL_DEPARTEMENT_COLUMNS:
        assert f"| `{column.name}` | {column.label} |" in readme


@pytest.mark.lot
def test_report_notebook_keeps_its_frames_for_analysts_out_of_the_html(tmp_path):
    import nbformat

    from analyse.run.report import HIDDEN_CELL_TAG

    assert cli.main(["rapport", "--departement", "05", "--sortie", str(tmp_path)]) == 0
    notebook = nbformat.read(tmp_path / "05" / "rapport.ipynb", 4)
    hidden = [c for c in notebook.cells if HIDDEN_CELL_TAG in c.metadata.get("tags", [])]
    assert len(hidden) >= 5
    frames = [o["data"]["text/html"] for c in hidden for o in c.outputs if "data" in o]
    # DataFrames (pandas' own table), not HTML strings.
    assert len(frames) == len(hidden) and all('class="dataframe"' in f for f in frames)
    assert "Gap-Tallard-Durance" in frames[0]
    html = (tmp_path / "05" / "rapport.html").read_text(encoding="utf-8")
    assert 'class="dataframe"' not in html
    assert "Gap-Tallard-Durance" in html


def test_funding_is_the_lists_column_and_never_a_flat_rate(national, month_panel, seed):
    from analyse.analysis.indicators import state_funding

    selections, _ = national
    # « Investissement financier estimatif total de l'Etat », list of 5 April 2023.
    assert state_funding(selections.table).sum() == 191_973_121
    # Rows typed without an amount have none until the list's is taken (never 50 000 €).
    assert state_funding(seed).isna().all()
    rows = month_panel.epci
    last = rows.loc[rows["mois"] == "2023-04"]
    located = selections.table.loc[selections.table["statut"] == LOCATED]
    assert last["financement_etat_eur"].sum() == state_funding(located).sum()
