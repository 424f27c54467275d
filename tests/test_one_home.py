"""Each fact has one home: the code rule, the density formula, the distance thresholds,
the names of the files produced, the project-relative path."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest

from analyse import config
from analyse.analysis import trajectory
from analyse.analysis.indicators import density
from analyse.analysis.pipeline import UnknownDepartementError, check_departement
from analyse.read.codes import codes, commune_code, departement_code
from analyse.read.selections import clean_commune, clean_departement


@pytest.mark.parametrize(
    ("written", "expected"),
    [("5", "05"), ("5.0", "05"), (" 05 ", "05"), ("2a", "2A"), ("974", "974"), ("38", "38")],
)
def test_one_rule_for_a_departement_code_wherever_it_is_read(reference, written, expected):
    assert departement_code(written) == expected
    assert clean_departement(written) == expected
    # What the user types on the command line follows the same rule as a file's cell.
    assert check_departement(reference, written) == expected


def test_a_code_that_is_no_departement_is_refused_by_both():
    assert clean_departement("5,0") is None and clean_departement("") is None
    assert departement_code("99") == "99"


def test_an_unknown_departement_is_refused_on_the_command_line(reference):
    with pytest.raises(UnknownDepartementError, match="« 99 »"):
        check_departement(reference, "99")


def test_one_rule_for_a_commune_code():
    # Gap (Hautes-Alpes) lost its leading zero in a spreadsheet, or became a float.
    for written in ("5061", "5061.0", " 05061 "):
        assert commune_code(written) == clean_commune(written) == "05061"
    assert commune_code("2a004") == "2A004"
    assert commune_code("561") == "561"  # not a lost zero: left for the caller to refuse
    series = pd.Series(["5061", "5061.0", "2a004", None, "75056"])
    assert codes(series, 5).tolist() == ["05061", "05061", "2A004", "", "75056"]


def test_the_density_formula_guards_zero_populations_everywhere():
    posts = pd.DataFrame({"2021-04": [1, 2], "2021-05": [2, 3]}, index=["05", "XX"])
    population = pd.Series([140_000, 0], index=["05", "XX"])
    table = trajectory.departement_densities(
        pd.DataFrame(
            {"departement": ["05", "XX"], "mois_comite": ["2021-04", "2021-04"], "postes": [1, 2]}
        ),
        population,
        ["2021-04", "2021-05"],
    )
    assert table.loc["05", "2021-04"] == pytest.approx(1 / 140_000 * 10_000)
    assert np.isnan(table.loc["XX"]).all()  # no infinite density for a zero population
    assert density(posts, population).loc["05", "2021-05"] == pytest.approx(2 / 14)


def test_distance_thresholds_and_far_are_written_once():
    assert config.DISTANCE_THRESHOLDS_KM == (10, 20, 30) and config.FAR_KM == 20
    assert config.FAR_COLUMN == "population_au_dela_20km"
    found = subprocess.run(
        ["git", "grep", "-n", "-E", r"au_dela_20km|\(10, 20, 30\)|[^0-9]20 km", "--", "src"],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert [line for line in found if not line.startswith("src/analyse/config.py")] == []


def test_the_project_relative_path_is_written_once():
    assert config.relative_to_project(config.PROJECT_ROOT / "data" / "x.csv") == "data/x.csv"
    assert config.relative_to_project("/elsewhere/x.csv") == "/elsewhere/x.csv"
    found = subprocess.run(
        # Paths shown relative to the project (not a cache entry's parts below its root).
        ["git", "grep", "-n", "-E", r"relative_to\(.*PROJECT_ROOT", "--", "src"],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert [line.split(":")[0] for line in found] == ["src/analyse/config.py"]
