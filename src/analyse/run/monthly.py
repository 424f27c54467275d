"""The monthly run: every département's report as of the end of a month, and the index.

``reports/<YYYY-MM>/<dep>/rapport.html`` (+ CSV, workbook, GeoPackage, interactive map,
executed notebook, and the fiches of its intercommunalités in ``epci/``, ``run.fiches``)
and ``reports/<YYYY-MM>/index.html``, all slices of the month's situation
(``analysis.situation``). Several months (or one) run as one pool of (month,
département) jobs (``run_months``). The data of the month is prepared
under ``data/processed/mensuel/<YYYY-MM>/<dep>/`` (``<sortie>/.donnees/mensuel/…`` with
``--sortie``, see ``bundle.data_dir_for``). Running the same month again gives the same
files: a report whose data did not change is taken from the cache (``run.reuse``), with
the generation date of its first run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analyse import config
from analyse.analysis.pipeline import MatchedSelections
from analyse.analysis.situation import Situation, Sources
from analyse.errors import UserError
from analyse.render.national import write_index
from analyse.run import batch, report
from analyse.run.fiches import FicheWriter
from analyse.run.progress import Steps
from analyse.territory.reference import departement_shapes

_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_LAST_WRITES = "fiches et index du mois"  # the step after the reports, on a terminal


class MonthError(UserError):
    """A month that is not YYYY-MM, or outside the span of the data (message in French)."""


def check_month(month: str, option: str = "--mois") -> str:
    if not isinstance(month, str) or not _MONTH_RE.match(month):
        raise MonthError(
            f"{option} « {month} » : mois invalide, attendu AAAA-MM (par exemple 2021-06)."
        )
    return month


def check_months_in_span(
    first: str,
    last: str,
    selections: MatchedSelections,
    options: tuple[str, str] = ("--mois", "--jusqu-a"),
) -> None:
    """Refuse, before any work, a month the data cannot describe.

    A month before the first committee of the selections has nothing to show; a month
    after the last committee of the list used would show the list's edition under a
    later date, as if it were that month's situation (« un mois postérieur à la liste
    est refusé »): the message names the list's edition and its last month, and says
    to download a newer list. ``first`` and ``last`` are AAAA-MM (``check_month``).
    """
    from analyse.wording import month_label

    months = selections.months
    if not months:
        raise MonthError("aucune sélection lue : aucun mois ne peut être décrit.")
    earliest, latest = months[0], months[-1]
    editions = " ; ".join(selections.editions) or ", ".join(f["fichier"] for f in selections.files)
    for option, month in zip(options, (first, last), strict=True):
        if month < earliest:
            raise MonthError(
                f"{option} {month} : antérieur au premier comité des sélections utilisées, "
                f"{editions} ; ce premier comité remonte à {month_label(earliest)} "
                f"({earliest}). Choisissez un mois entre {earliest} et {latest}."
            )
        if month > latest:
            raise MonthError(
                f"{option} {month} : postérieur à la liste utilisée, {editions} ; son "
                f"dernier comité remonte à {month_label(latest)} ({latest}). Un mois "
                "postérieur à la liste est refusé : ses chiffres seraient ceux de la liste, "
                "présentés comme la situation de ce mois. Lancez « analyse telecharger » "
                "pour obtenir une liste plus récente, ou choisissez un mois entre "
                f"{earliest} et {latest}."
            )


def months_between(first: str, last: str) -> list[str]:
    import pandas as pd

    check_month(first, "--mois"), check_month(last, "--jusqu-a")
    if last < first:
        raise MonthError(
            f"--jusqu-a {last} : le mois de fin précède le mois de début (--mois {first})."
        )
    start, end = pd.Period(first, "M"), pd.Period(last, "M")
    return [str(p) for p in pd.period_range(start, end, freq="M")]


@dataclass
class MonthResult:
    month: str
    index: Path
    total_posts: int
    results: list[batch.JobResult]


def run_months(
    months: list[str],
    sources: Sources,
    departements: list[str],
    reports_dir: Path | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    on_month: Callable[[MonthResult], None] | None = None,
) -> list[MonthResult]:
    """Reports of ``departements`` at the end of each of ``months``, and each month's index.

    Each month is one situation of the country (``sources.at(month)``), computed once;
    every report, the index and the fiches of the month are slices of it. Every (month,
    département) job goes to one pool of workers, month after month but with no wait at
    the end of a month; a month's fiches and index are written as soon as its last
    report is done (``on_month`` is then called with it).
    """
    from analyse.render.fiche import MapMaker

    months = [check_month(month) for month in months]
    root = reports_dir or config.REPORTS_DIR
    shapes = departement_shapes()
    done: dict[str, list[batch.JobResult]] = {month: [] for month in months}
    finished: dict[str, MonthResult] = {}
    # The situation of each month being run, until its fiches and index are written.
    situations: dict[str, Situation] = {}
    maps = MapMaker(sources.reference)  # one for every month: the outlines are drawn once

    def situation_of(month: str) -> Situation:
        if month not in situations:
            situations[month] = sources.at(month)
        return situations[month]

    def make_job(code: str, month: str) -> report.ReportJob:
        return report.make_job(situation_of(month), code, reports_dir)[1]

    def write_month(month: str) -> MonthResult:
        situation = situation_of(month)
        out_root = root / month
        table = situation.index_table()
        # Each report's fiches in its folder, once the report is in place.
        writer = FicheWriter(situation, maps)
        for result in done[month]:
            if result.ok:
                writer.write_beside(
                    config.report_dir(result.departement, root, month), result.departement
                )
        # Link every département whose report exists, from this run or an earlier one.
        links = {
            code: f"{code}/rapport.html"
            for code in table["code"]
            if (out_root / code / config.REPORT_HTML_NAME).exists()
        }
        index = out_root / config.INDEX_NAME
        out_root.mkdir(parents=True, exist_ok=True)
        generated = datetime.now().astimezone().isoformat(timespec="seconds")
        editions = sources.given.national_editions
        write_index(index, table, shapes, month, links, generated, editions)
        situations.pop(month, None)
        return MonthResult(month, index, int(table["postes"].sum()), done[month])

    def complete(month: str) -> None:
        finished[month] = write_month(month)
        if on_month is not None:
            on_month(finished[month])

    # A month's fiches and index are written by a thread of their own, month after
    # month, while this one goes on preparing the next reports: the workers never wait
    # for the fiches of the month before.
    writer = ThreadPoolExecutor(1, thread_name_prefix="fiches-index")
    writes: list[Future] = []

    def on_result(result: batch.JobResult) -> None:
        done[result.month].append(result)
        if len(done[result.month]) == len(departements):
            situation_of(result.month)  # computed here, not in the writer's thread
            writes.append(writer.submit(complete, result.month))

    keys = [(code, month) for month in months for code in departements]
    try:
        batch.run_jobs(
            batch.lazy_jobs(keys, make_job),
            workers,
            progress,
            total=len(keys),
            on_result=on_result,
        )
        # The last month's fiches and index, written once its last report is done.
        with Steps([(_LAST_WRITES, 5)], progress) as steps, steps.step(_LAST_WRITES):
            for future in writes:
                future.result()  # a month's fiches or index that failed stops the run here
    except BaseException:
        # Interrupted or failed: the month being written ends whole, the others are
        # not started.
        writer.shutdown(wait=True, cancel_futures=True)
        raise
    writer.shutdown(wait=True)
    for month in months:  # no département asked for: the index alone
        if month not in finished:
            complete(month)
    return [finished[month] for month in months]
