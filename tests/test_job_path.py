"""One job path for « rapport », « rapports » and « mensuel », the
saved bundle as the contract between them, and the rules owned once: the national
list's edition, the population notes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analyse import cli, config
from analyse.analysis import bundle
from analyse.read import sources
from analyse.render import tables
from analyse.run import batch, report, warm
from analyse.territory.reference import POPULATION_UNKNOWN

# Fast inputs: the hand-typed rounds (they cover 05), no IFN, no places file.
FAST = ["--selections", str(config.SELECTIONS_DIR), "--sans-fragilite", "--sans-lieux"]


@pytest.fixture
def jobs(monkeypatch) -> list[report.ReportJob]:
    """The jobs the commands build, caught before any notebook runs."""
    seen: list[report.ReportJob] = []

    class NoKernel:
        def __init__(self, *args) -> None:
            pass

        def launch(self) -> None:
            pass

        def stop(self) -> None:
            pass

    def run_job(job, kernel_name=None, warm=None):
        seen.append(job)
        return job.files

    def run_jobs(jobs, *args, **kwargs):
        seen.extend(jobs)
        return []

    monkeypatch.setattr(warm, "WarmKernel", NoKernel)
    monkeypatch.setattr(report, "ensure_kernel", lambda: "analyse")
    monkeypatch.setattr(report, "run_job", run_job)
    monkeypatch.setattr(batch, "run_jobs", run_jobs)
    return seen


@pytest.mark.lent
def test_the_three_commands_build_the_same_job(jobs, tmp_path):
    """The same département gets the same data folder (inside --sortie, so that two
    runs never feed each other's notebooks) and report folder whichever command asks;
    a monthly run keeps its data in <sortie>/.donnees/ too."""
    out = str(tmp_path)
    assert cli.main(["rapport", "-d", "5", *FAST, "--sortie", out]) == 0
    assert cli.main(["rapports", "--departements", "05", *FAST, "--sortie", out]) == 0
    assert cli.main(["mensuel", "--mois", "2021-04", "--departements", "05", *FAST]
                    + ["--sortie", out]) == 0  # fmt: skip
    single, batched, monthly = jobs
    assert single == batched
    assert single.departement == "05" and single.month == ""
    assert single.data_dir == tmp_path / ".donnees" / "departements" / "05"
    assert single.out_dir == tmp_path / "05"
    # The title says the date the report describes: the rounds' last month.
    assert single.title == "Conseillers numériques — Hautes-Alpes (05), situation fin avril 2021"
    assert monthly.data_dir == tmp_path / ".donnees" / "mensuel" / "2021-04" / "05"
    assert monthly.out_dir == tmp_path / "2021-04" / "05" and monthly.month == "2021-04"
    assert monthly.title.endswith("situation fin avril 2021")
    # Each job's bundle is on disk, the département's, at the job's month.
    assert bundle.load("05", single.data_dir).context["mois"] is None
    assert bundle.load("5", monthly.data_dir).context["mois"] == "2021-04"
    assert bundle.scenario_posts(single.data_dir) == 0


def test_a_bundle_holds_its_scenario_posts(prepared_05, tmp_path):
    """The worker reads the scenario's posts from the bundle for the notebook's
    parameter: 0 without a scenario or without a bundle."""
    assert bundle.scenario_posts(tmp_path / "absent") == 0
    prepared = bundle.Prepared(**{**vars(prepared_05), "context": dict(prepared_05.context)})
    prepared.context["scenario"] = {"postes": 3}
    assert bundle.scenario_posts(bundle.save(prepared, tmp_path / "05")) == 3


def test_one_rule_names_the_national_list_edition():
    """The date in the file's name, else the list's latest committee: the embedded copy
    is the edition of 5 April 2023 for the command and for the report alike."""
    embedded = config.EMBEDDED_NATIONAL_LIST
    assert sources.list_edition(embedded, date(2023, 3, 30)) == (
        config.EMBEDDED_NATIONAL_EDITION,
        "date du nom du fichier",
    )
    assert sources.list_edition(config.NATIONAL_LIST, date(2023, 5, 12)) == (
        "2023-05-12",
        "date de son dernier comité",
    )
    assert "édition du 05/04/2023" in sources.national_list().edition


def test_population_notes_are_the_same_rows_for_the_terminal_and_the_report(reference):
    """Mayotte's communes completed from the 2017 legal populations, one left unknown:
    the command's text and the report's list say the same thing, each in its form."""
    notes = reference.population_notes.loc[reference.population_notes["departement"] == "976"]
    notes = notes.head(2).copy()
    notes.loc[notes.index[0], ["origine", "population"]] = [POPULATION_UNKNOWN, pd.NA]
    text = cli.population_notes_text(notes).splitlines()
    assert text == [
        "Population absente de la source pour 2 communes : 1 complétée, 1 restée "
        "inconnue (leur intercommunalité est laissée hors des densités, du classement "
        "et de la cible nationale).",
        "  97601 Acoua (976) : population inconnue",
        "  97602 Bandraboua (976) : 13\u202f989 habitants — INSEE, populations légales 2017 "
        "(Mayotte) (recensement 2017, décret n° 2017-1688)",
    ]

    class Prepared:
        communes = reference.communes.loc[reference.communes["insee"].isin(notes["insee"])]

    Prepared.communes = Prepared.communes.assign(
        population_origine=lambda c: c["population_origine"].where(
            c["insee"] != "97601", POPULATION_UNKNOWN
        )
    )
    html = tables.population_note(Prepared)
    assert html.endswith(
        "<ul><li>Acoua (97601) : population inconnue</li><li>Bandraboua (97602) : 13\u202f989 "
        "habitants, INSEE, populations légales 2017 (Mayotte)</li></ul>"
    )
    assert "n'entre pas dans la cible nationale" in html


def test_a_bundle_of_another_format_is_refused_with_what_to_do(prepared_05, tmp_path):
    """The bundle carries its format's version: a notebook opened on data prepared by
    another version of the tool says so, rather than misreading it."""
    import json

    from analyse.errors import UserError

    folder = bundle.save(prepared_05, tmp_path / "05")
    meta_path = folder / bundle.CONTEXT_FILE
    meta = json.loads(meta_path.read_text("utf-8"))
    assert meta["version_bundle"] == bundle.BUNDLE_VERSION
    assert bundle.load("05", folder).context["departement"] == "05"
    del meta["version_bundle"]
    meta_path.write_text(json.dumps(meta), "utf-8")
    with pytest.raises(
        UserError, match="autre version.*relancez « analyse rapport --departement 05 »"
    ):
        bundle.load("05", folder)
