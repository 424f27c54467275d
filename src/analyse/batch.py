"""Many reports at once: Papermill jobs spread over worker processes.

Each worker imports papermill and nbconvert once (their import is slow) and then runs
report after report. One département that fails does not stop the others; the caller
gets one result per job and decides the exit code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context

from analyse.report import ReportJob, ensure_kernel, run_job


@dataclass
class JobResult:
    departement: str
    ok: bool
    seconds: float
    error: str = ""  # first line of the error, in French when it comes from us
    worker_rss_mb: float = 0.0  # peak resident memory of the worker process so far
    kernel_rss_mb: float = 0.0  # largest peak of the kernels it ran (its children)


_KERNEL: str | None = None


def _init_worker(kernel_name: str) -> None:
    """Pay the heavy imports once per worker, not once per report."""
    global _KERNEL
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    _KERNEL = kernel_name


def _peak_rss_mb() -> tuple[float, float]:
    """Peak RSS of this worker and of its largest child (a kernel), in MiB."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, children / 1024  # kilobytes on Linux


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _run(job: ReportJob) -> JobResult:
    start = time.perf_counter()
    try:
        run_job(job, _KERNEL)
    except Exception as error:  # reported, never lost: the batch goes on
        seconds = time.perf_counter() - start
        return JobResult(job.departement, False, seconds, _first_line(error), *_peak_rss_mb())
    return JobResult(job.departement, True, time.perf_counter() - start, "", *_peak_rss_mb())


def prepare_jobs(
    codes: list[str], make_job: Callable[[str], ReportJob]
) -> tuple[list[ReportJob], list[JobResult]]:
    """Build the job of each département; one whose data cannot be prepared is reported
    as failed and does not stop the others."""
    jobs, failed = [], []
    for code in codes:
        start = time.perf_counter()
        try:
            jobs.append(make_job(code))
        except Exception as error:
            failed.append(JobResult(code, False, time.perf_counter() - start, _first_line(error)))
    return jobs, failed


def default_jobs() -> int:
    return os.cpu_count() or 1


def run_jobs(
    jobs: list[ReportJob], workers: int | None = None, progress: bool | None = None
) -> list[JobResult]:
    """Run ``jobs`` over ``workers`` processes; results in the order of ``jobs``.

    A progress bar (départements being run, time left) is shown on a terminal only.
    """
    from tqdm import tqdm

    workers = max(1, min(workers or default_jobs(), len(jobs) or 1))
    kernel = ensure_kernel()  # once, before the workers race to install it
    show = sys.stderr.isatty() if progress is None else progress
    results: dict[str, JobResult] = {}
    # "spawn": workers start clean rather than inherit the parent's threads and state.
    context = get_context("spawn")
    with (
        ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(kernel,)
        ) as pool,
        tqdm(total=len(jobs), disable=not show, unit="rapport", dynamic_ncols=True) as bar,
    ):
        pending = {pool.submit(_run, job): job.departement for job in jobs}
        while pending:
            running = list(pending.values())[:workers]  # submission order
            bar.set_description(f"en cours : {', '.join(running)}")
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                departement = pending.pop(future)
                try:
                    results[departement] = future.result()
                except Exception as error:  # a worker that died (killed, out of memory)
                    results[departement] = JobResult(departement, False, 0.0, str(error))
                bar.update(1)
    return [results[job.departement] for job in jobs]


def summary(results: list[JobResult]) -> str:
    """French summary: how many succeeded, and each failure with its first line."""
    failed = [r for r in results if not r.ok]
    lines = [
        f"{len(results)} rapport(s) : {len(results) - len(failed)} réussi(s), "
        f"{len(failed)} en échec."
    ]
    lines += [f"  échec {r.departement} : {r.error}" for r in failed]
    return "\n".join(lines)
