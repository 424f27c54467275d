"""Each report folder describes its CSV in a Frictionless data package
(``datapackage.json``): types, French titles, units, key, from ``analyse.schema``; codes
are strings, and the README's pandas example keeps their leading zeros through it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from analyse import config, schema
from analyse.render import exports

TITLE = "Conseillers numériques — Hautes-Alpes (05)"


@pytest.fixture(scope="module")
def report_folder(prepared_05, tmp_path_factory):
    """``reports/05`` as ``analyse rapport`` leaves it: the CSV and its data package
    (written by the exports' registry, like every file beside a report)."""
    folder = tmp_path_factory.mktemp("depot") / "reports" / "05"
    paths = exports.export_paths(folder)
    for export in exports.EXPORTS:
        if export.file_name in (config.CSV_NAME, config.DATAPACKAGE_NAME):
            export.write(prepared_05, paths[export.name], TITLE)
    return folder


def test_every_report_folder_gets_its_data_package():
    names = {export.file_name for export in exports.EXPORTS}
    assert {config.CSV_NAME, config.DATAPACKAGE_NAME} <= names


def test_the_data_package_validates(report_folder):
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(report_folder / config.DATAPACKAGE_NAME))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_the_schema_is_the_column_registry(report_folder):
    package = json.loads((report_folder / config.DATAPACKAGE_NAME).read_text(encoding="utf-8"))
    (resource,) = package["resources"]
    assert resource["path"] == config.CSV_NAME
    table = resource["schema"]
    fields = {f["name"]: f for f in table["fields"]}
    header = pd.read_csv(report_folder / config.CSV_NAME, nrows=0).columns
    assert list(fields) == list(header)
    assert table["primaryKey"] == ["siren_epci"]
    # Codes are text: leading zeros kept (« 05 »), SIREN never a number.
    for code in ("siren_epci", "departements", "premier_mois_conseiller"):
        assert fields[code]["type"] == "string", code
    assert fields["date_situation"]["type"] == "date"
    assert fields["postes"]["type"] == "integer"
    assert fields["conseillers_pour_10000_hab"]["type"] == "number"
    for name, field in fields.items():
        assert field["title"] == schema.ALL[name].label
        assert field.get("unit", "") == schema.ALL[name].unit
    assert fields["conseillers_pour_10000_hab"]["unit"].startswith("conseillers pour 10")
    assert package["licenses"][0]["name"] == "etalab-2.0"
    assert package["temporal"]["start"] == package["temporal"]["end"] == "2021-04-30"


def _readme_example() -> str:
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- exemple : CSV typé -->\s*```python\n(.*?)```", readme, re.S)
    assert found, "exemple pandas du CSV typé absent du README"
    return found.group(1)


def test_the_readmes_pandas_example_reads_codes_as_text(report_folder, monkeypatch):
    # As pandas reads it alone: the SIREN becomes a number.
    plain = pd.read_csv(report_folder / config.CSV_NAME)
    assert pd.api.types.is_integer_dtype(plain["siren_epci"])
    monkeypatch.chdir(report_folder.parent.parent)
    names: dict = {}
    exec(_readme_example(), names)
    table = names["indicateurs"]
    assert pd.api.types.is_string_dtype(table["siren_epci"])
    assert "200067825" in set(table["siren_epci"])
    assert "05" in set(table["departements"])  # not 5
    assert pd.api.types.is_integer_dtype(table["postes"])
    assert pd.api.types.is_datetime64_any_dtype(table["date_situation"])
