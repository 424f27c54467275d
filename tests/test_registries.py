"""The registries of inputs (analysis.inputs.INPUTS) and exports (render.exports.EXPORTS):
the command's options, the « Données utilisées » line, SOURCES.md and the report's files
all come from them, so that a new input or a new export is one entry there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyse import cli, config
from analyse.analysis import inputs
from analyse.analysis.inputs import INPUTS, OPTIONAL_INPUTS, Input, Option, load_extras
from analyse.read.files import content_sha256
from analyse.render import exports
from analyse.run.report import ReportJob

GAP_COMMANDS = ("rapport", "scenario", "rapports", "mensuel", "fiches")


def _subcommand(parser, name):
    commands = next(a for a in parser._actions if a.dest == "commande")
    return commands.choices[name]


def test_every_optional_input_gives_its_two_options_to_every_command():
    parser = cli._parser()
    for command in GAP_COMMANDS:
        sub = _subcommand(parser, command)
        options = {o: a for a in sub._actions for o in a.option_strings}
        for item in OPTIONAL_INPUTS:
            assert options[f"--{item.name}"].help == item.option.help, (command, item.name)
            assert options[f"--sans-{item.name}"].help == item.option.off_help
    args = parser.parse_args(["rapport", "-d", "05", "--sans-lieux", "--fragilite", "x.csv"])
    assert args.sans_lieux and args.fragilite == [Path("x.csv")]


def test_sources_md_has_a_row_with_the_true_checksums_and_licence_of_every_input():
    text = (config.RAW_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for item in INPUTS:
        assert item.default, item.name
        for path in item.default:
            rows = [line for line in text.splitlines() if line.startswith(f"| `{path.name}` | ")]
            sums = [found for row in rows if (found := re.findall(r"`([0-9a-f]{64})`", row))]
            assert sums and sums[0][0] == content_sha256(path), path.name
        first = next(line for line in text.splitlines() if f"`{item.default[0].name}`" in line)
        assert item.licence in first, item.name


def test_the_data_line_names_each_input_from_the_registry(reference):
    nothing = load_extras(reference, None, None)
    assert nothing.editions == [
        "indice de fragilité numérique : non utilisé",
        "lieux de médiation : non utilisés (mairies des structures retenues)",
    ]
    chosen = {i.name: i.chosen(None, off=False) for i in OPTIONAL_INPUTS}
    extras = load_extras(reference, others=chosen)
    assert extras.editions == [
        "indice de fragilité numérique 2023 de La Mednum (copie embarquée)",
        "lieux de médiation numérique de juillet 2022, data.gouv.fr (copie embarquée)",
    ]
    assert [s["contenu"] for s in extras.sources] == [
        "IFN par commune",
        "IFN par EPCI",
        "lieux de médiation numérique",
    ]
    assert len(extras.ifn.communes) == 35_008 and len(extras.places) > 2_600


def test_a_new_input_is_one_entry_in_the_registry(monkeypatch, reference, tmp_path):
    """The worked example of docs/architecture.md: an entry (and its reader) gives the
    options, the data line, the checksum in the footer and the data to the analysis."""
    data = tmp_path / "gares.csv"
    data.write_text("insee;gare\n05061;Gap\n", encoding="utf-8")

    def read_stations(paths, reference, extras):
        extras.loaded["gares"] = paths[0].read_text(encoding="utf-8").splitlines()[1:]
        return [(paths[0], "gares SNCF")]

    stations = Input(
        "gares",
        "gares de voyageurs",
        (data,),
        "gares de voyageurs 2024, SNCF",
        "Licence Ouverte / Etalab 2.0",
        "gares de voyageurs",
        read_stations,
        Option("FICHIER", "gares de voyageurs (CSV)", "n'utilise pas les gares"),
        "gares : non utilisées",
    )
    monkeypatch.setattr(inputs, "OPTIONAL_INPUTS", (*OPTIONAL_INPUTS, stations))
    args = cli._parser().parse_args(["rapport", "-d", "05", "--sans-fragilite", "--sans-lieux"])
    assert args.gares is None and args.sans_gares is False
    extras = cli._extras(args, reference)
    assert extras.loaded["gares"] == ["05061;Gap"]
    assert extras.editions[-1] == "gares de voyageurs 2024, SNCF (copie embarquée)"
    assert extras.sources[-1]["contenu"] == "gares SNCF"
    off = cli._parser().parse_args(["rapport", "-d", "05", "--sans-gares", "--sans-lieux"])
    assert cli._extras(off, reference).editions[-1] == "gares : non utilisées"


def test_the_report_files_are_the_registry_of_exports(tmp_path):
    files = ReportJob("05", tmp_path / "d", tmp_path / "05", "titre").files
    assert [p.name for p in files.all()] == [
        config.REPORT_HTML_NAME,
        *(e.file_name for e in exports.EXPORTS),
        config.REPORT_NOTEBOOK_NAME,
    ]
    assert [e.file_name for e in exports.EXPORTS] == [
        "indicateurs_epci.csv",
        "datapackage.json",
        "couverture.xlsx",
        "couverture.gpkg",
        "carte_interactive.html",
    ]
    assert files.csv == tmp_path / "05" / "indicateurs_epci.csv"
    with pytest.raises(AttributeError):
        files.pdf  # noqa: B018


def test_a_new_export_is_one_entry_in_the_registry(monkeypatch, prepared_05, tmp_path):
    def write_names(prepared, target, title):
        target.write_text("\n".join([title, *prepared.gaps["nom_epci"]]), encoding="utf-8")

    names = exports.Export("noms", "noms.txt", write_names)
    monkeypatch.setattr(exports.catalog, "EXPORTS", (names,))
    paths = exports.export_paths(tmp_path)
    exports.write_exports(prepared_05, paths, "Hautes-Alpes")
    lines = (tmp_path / "noms.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Hautes-Alpes" and len(lines) == 1 + 9


# « Ajouter un indicateur » of docs/architecture.md, as its two edits.
NEW_COLUMN = """    Column(
        "part_population_au_dela_20km",
        "Part de la population à plus de 20 km d'un lieu",
        "part_au_dela_20km",
        PERCENT,
        4,
        description="population à plus de 20 km ÷ population",
        shown=1,
    ),
"""
NEW_FUNCTION = '''

@epci_indicator("part_population_au_dela_20km")
def far_share(table: pd.DataFrame) -> pd.Series:
    """Share of an EPCI's population beyond 20 km of a place."""
    return table["population_au_dela_20km"] / _known_population(table)
'''
SCRIPT = """
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analyse import config
from analyse.analysis import pipeline, situation
from analyse.render.exports import export_paths, write_exports
from analyse.territory.reference import load_reference

out = Path(sys.argv[1])
reference = load_reference()
selections = pipeline.match_selections([config.EMBEDDED_NATIONAL_LIST], reference)
now = situation.Sources(selections, reference).at("2022-01")
name = "part_population_au_dela_20km"
panel = now.panel_rows()
prepared = now.departement("05")
write_exports(prepared, export_paths(out), "Hautes-Alpes")
csv = pd.read_csv(out / config.CSV_NAME, dtype={"siren_epci": str})
sheet = pd.read_excel(out / config.WORKBOOK_NAME, sheet_name=None)
layer = gpd.read_file(out / config.GEOPACKAGE_NAME, layer="epci")
fiches = now.fiche_rows(now.sirens_of(["05"]))
print(
    name in panel.columns,
    name in csv.columns,
    any("Part de la population à plus de 20 km" in str(c) for s in sheet.values() for c in s),
    "part_au_dela_20km" in layer.columns,
    name in fiches.epci.columns,
    round(float(panel.set_index("siren_epci").at["200068765", name]), 4),
)
"""


@pytest.mark.lent
def test_a_new_indicator_is_one_function_and_one_schema_entry(tmp_path):
    """docs/architecture.md, « Ajouter un indicateur »: a copy of the package with one
    function in analysis/indicators.py and one column in schema.py computes it for every
    EPCI of the situation, and it reaches the panel, the report's CSV, workbook and
    GeoPackage, and the fiches' data."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "src" / "analyse"
    source = config.PROJECT_ROOT / "src" / "analyse"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    schema_py = copy / "schema.py"
    text = schema_py.read_text(encoding="utf-8")
    assert text.count("    # (none yet)\n") == 1
    schema_py.write_text(text.replace("    # (none yet)\n", NEW_COLUMN), encoding="utf-8")
    indicators_py = copy / "analysis" / "indicators.py"
    indicators_py.write_text(
        indicators_py.read_text(encoding="utf-8") + NEW_FUNCTION, encoding="utf-8"
    )
    (tmp_path / "sortie").mkdir()
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "sortie")],
        env={
            **__import__("os").environ,
            "PYTHONPATH": str(tmp_path / "src"),
            "ANALYSE_RACINE": str(config.PROJECT_ROOT),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    *found, value = run.stdout.split()
    assert found == ["True"] * 5, run.stdout
    assert 0 <= float(value) < 1
