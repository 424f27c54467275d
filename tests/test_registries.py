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
