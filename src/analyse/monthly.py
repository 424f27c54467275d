"""The monthly run: every département's report as of the end of a month, and the index.

``reports/<YYYY-MM>/<dep>/rapport.html`` (+ CSV, executed notebook) and
``reports/<YYYY-MM>/index.html``. The data of the month is prepared under
``data/processed/mensuel/<YYYY-MM>/<dep>/``. Running the same month again rewrites the
same files (only the generation date changes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analyse import batch, config, pipeline
from analyse.errors import UserError
from analyse.national import departement_table, write_index
from analyse.reference import Reference, departement_shapes
from analyse.report import ReportJob, report_title

_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class MonthError(UserError):
    """A month that is not YYYY-MM (message in French)."""


def check_month(month: str) -> str:
    if not _MONTH_RE.match(month):
        raise MonthError(f"Mois invalide « {month} » : attendu AAAA-MM, par exemple 2021-06.")
    return month


def months_between(first: str, last: str) -> list[str]:
    import pandas as pd

    start, end = pd.Period(check_month(first), "M"), pd.Period(check_month(last), "M")
    if end < start:
        raise MonthError(f"Le mois de fin {last} précède le mois de début {first}.")
    return [str(p) for p in pd.period_range(start, end, freq="M")]


@dataclass
class MonthResult:
    month: str
    index: Path
    total_posts: int
    results: list[batch.JobResult]


def run_month(
    month: str,
    selections: pipeline.MatchedSelections,
    reference: Reference,
    departements: list[str],
    reports_dir: Path | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    extras: pipeline.Extras | None = None,
) -> MonthResult:
    """Reports of ``departements`` at the end of ``month``, then the national index."""
    month = check_month(month)
    out_root = (reports_dir or config.REPORTS_DIR) / month

    def make_job(code: str) -> ReportJob:
        prepared = pipeline.prepare(code, selections, reference, month=month, extras=extras)
        data_dir = pipeline.save(prepared, pipeline.data_dir_for(code, reports_dir, month))
        return ReportJob(code, data_dir, out_root / code, report_title(prepared))

    jobs, failed = batch.prepare_jobs(departements, make_job)
    results = failed + (batch.run_jobs(jobs, workers, progress) if jobs else [])

    table = departement_table(selections, reference, month)
    # Link every département whose report exists, from this run or an earlier one.
    links = {
        code: f"{code}/rapport.html"
        for code in table["code"]
        if (out_root / code / "rapport.html").exists()
    }
    index = out_root / "index.html"
    generated = datetime.now().astimezone().isoformat(timespec="seconds")
    write_index(
        index, table, departement_shapes(), month, links, generated, selections.national_editions
    )
    return MonthResult(month, index, int(table["postes"].sum()), results)
