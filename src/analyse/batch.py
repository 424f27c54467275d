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
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context

from analyse.errors import os_error_text
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
    if isinstance(error, OSError):
        return os_error_text(error)
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


# A worker that dies (killed, out of memory) breaks its whole pool: every report in
# flight is lost with it. Those are run again, each alone on a fresh worker, once; the
# one that kills its worker again is reported, the others finish.
WORKER_DIED = (
    "le processus qui produisait ce rapport s'est arrêté brutalement, deux fois (tué, ou "
    "mémoire épuisée) ; les autres départements n'en sont pas affectés."
)


def run_jobs(
    jobs: list[ReportJob],
    workers: int | None = None,
    progress: bool | None = None,
    runner: Callable[[ReportJob], JobResult] | None = None,
) -> list[JobResult]:
    """Run ``jobs`` over ``workers`` processes; results in the order of ``jobs``.

    A progress bar (départements being run, time left) is shown on a terminal only.
    ``runner`` (a module-level function, for tests) replaces the report job itself.
    """
    from tqdm import tqdm

    workers = max(1, min(workers or default_jobs(), len(jobs) or 1))
    kernel = ensure_kernel()  # once, before the workers race to install it
    show = sys.stderr.isatty() if progress is None else progress
    run = runner or _run
    results: dict[str, JobResult] = {}
    suspects: list[ReportJob] = []
    with tqdm(total=len(jobs), disable=not show, unit="rapport", dynamic_ncols=True) as bar:
        queue = list(jobs)
        while queue:  # each broken pool sets at least one job aside: this ends
            done, lost, queue = _run_pool(queue, workers, kernel, run, bar)
            results.update(done)
            suspects += lost
        for job in suspects:
            done, lost, _ = _run_pool([job], 1, kernel, run, bar)
            results.update(done)
            for dead in lost:
                results[dead.departement] = JobResult(dead.departement, False, 0.0, WORKER_DIED)
                bar.update(1)
    return [results[job.departement] for job in jobs]


def _run_pool(
    jobs: list[ReportJob],
    workers: int,
    kernel: str,
    run: Callable[[ReportJob], JobResult],
    bar,
) -> tuple[dict[str, JobResult], list[ReportJob], list[ReportJob]]:
    """Run ``jobs`` on a fresh pool until all are done or a worker dies.

    No more jobs than workers are handed to the pool at a time, so that when it breaks
    the jobs in flight are known. Returns the results, the jobs in flight when it broke
    and the jobs not yet started.
    """
    results: dict[str, JobResult] = {}
    queue = list(jobs)
    # "spawn": workers start clean rather than inherit the parent's threads and state.
    context = get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(kernel,)
    ) as pool:
        pending: dict = {}
        while queue or pending:
            while queue and len(pending) < workers:
                job = queue.pop(0)
                pending[pool.submit(run, job)] = job
            bar.set_description(f"en cours : {', '.join(j.departement for j in pending.values())}")
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                job = pending[future]
                try:
                    results[job.departement] = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                except Exception as error:  # a job that could not even be sent or read back
                    results[job.departement] = JobResult(
                        job.departement, False, 0.0, _first_line(error)
                    )
                del pending[future]
                bar.update(1)
            if broken:
                return results, list(pending.values()), queue
    return results, [], []


def summary(results: list[JobResult]) -> str:
    """French summary: how many succeeded, and each failure with its first line."""
    failed = [r for r in results if not r.ok]
    lines = [
        f"{len(results)} rapport(s) : {len(results) - len(failed)} réussi(s), "
        f"{len(failed)} en échec."
    ]
    lines += [f"  échec {r.departement} : {r.error}" for r in failed]
    return "\n".join(lines)
