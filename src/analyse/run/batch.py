"""Many reports at once: Papermill jobs spread over worker processes.

Each worker imports papermill and nbconvert once (their import is slow), keeps one warm
Jupyter kernel (``analyse.run.warm``) and runs report after report in it. One département
that fails does not stop the others; the caller gets one result per job and decides the
exit code. Jobs may be given lazily (an iterable): the parent prepares the next ones
while the workers run, so a long run (the whole monthly history) starts at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context

from analyse.errors import os_error_text
from analyse.run.progress import count_bar
from analyse.run.report import ReportJob, ensure_kernel, run_job


@dataclass
class JobResult:
    departement: str
    ok: bool
    seconds: float
    error: str = ""  # first line of the error, in French when it comes from us
    worker_rss_mb: float = 0.0  # peak resident memory of the worker process so far
    kernel_rss_mb: float = 0.0  # largest peak of the kernels it ran (its children)
    month: str = ""  # the job's month, for a monthly run
    kernels_started: int = 0  # kernels this worker has started so far


_KERNEL: str | None = None
_WARM = None  # this worker's warm kernel (analyse.run.warm.WarmKernel), started lazily
_USE_WARM = True


def _init_worker(kernel_name: str, use_warm: bool = True) -> None:
    """Pay the heavy imports once per worker, not once per report."""
    global _KERNEL, _USE_WARM
    import signal

    # A Ctrl-C reaches the whole process group: the main process alone answers it (it
    # lets the reports in progress finish whole, then stops); a worker would print a
    # traceback for each report it was writing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    _KERNEL = kernel_name
    _USE_WARM = use_warm


def _own_peak_kib() -> float:
    """Peak resident memory of this process since it started its program, in KiB.

    Linux keeps ``ru_maxrss`` across the fork-and-exec that starts a worker: a worker
    started by a process of 1,5 Gio would report 1,5 Gio before doing anything. The high
    water mark of its own address space (``VmHWM``) starts again at the exec."""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _peak_rss_mb() -> tuple[float, float]:
    """Peak RSS of this worker and of its largest child (a kernel), in MiB."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return _own_peak_kib() / 1024, children / 1024  # kilobytes on Linux


def _first_line(error: BaseException) -> str:
    if isinstance(error, OSError):
        return os_error_text(error)
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _warm_kernel():
    global _WARM
    if _WARM is None and _USE_WARM:
        import atexit

        from analyse.run.warm import WarmKernel

        _WARM = WarmKernel(_KERNEL)
        atexit.register(_WARM.stop)  # the kernel does not outlive its worker
    return _WARM


def _run(job: ReportJob) -> JobResult:
    start = time.perf_counter()
    warm = _warm_kernel()
    ok, error = True, ""
    try:
        run_job(job, _KERNEL, warm)
    except Exception as failure:  # reported, never lost: the batch goes on
        ok, error = False, _first_line(failure)
    own, children = _peak_rss_mb()
    if warm is not None:
        children = max(children, warm.peak_rss_mib)  # a warm kernel is not reaped yet
    return JobResult(
        job.departement,
        ok,
        time.perf_counter() - start,
        error,
        own,
        children,
        job.month,
        warm.started if warm is not None else 0,
    )


def lazy_jobs(
    keys: Iterable[tuple[str, str]], make_job: Callable[[str, str], ReportJob]
) -> Iterator[ReportJob | JobResult]:
    """The job of each (département, month), built only when asked for; one whose data
    cannot be prepared comes as a failed result and does not stop the others."""
    for code, month in keys:
        start = time.perf_counter()
        try:
            yield make_job(code, month)
        except Exception as error:
            seconds = time.perf_counter() - start
            yield JobResult(code, False, seconds, _first_line(error), month=month)


def default_jobs() -> int:
    return os.cpu_count() or 1


def _label(job: ReportJob) -> str:
    return f"{job.month} {job.departement}" if job.month else job.departement


# A worker that dies (killed, out of memory) breaks its whole pool: every report in
# flight is lost with it. Those are run again, each alone on a fresh worker, once; the
# one that kills its worker again is reported, the others finish.
WORKER_DIED = (
    "le processus qui produisait ce rapport s'est arrêté brutalement, deux fois (tué, ou "
    "mémoire épuisée) ; les autres départements n'en sont pas affectés."
)


def run_jobs(
    jobs: Iterable[ReportJob | JobResult],
    workers: int | None = None,
    progress: bool | None = None,
    total: int | None = None,
    on_result: Callable[[JobResult], None] | None = None,
    warm: bool = True,
    runner: Callable[[ReportJob], JobResult] | None = None,
) -> list[JobResult]:
    """Run ``jobs`` over ``workers`` processes, each with a warm kernel (``warm``);
    results in the order of ``jobs``.

    ``jobs`` may be lazy: the next ones are prepared while the workers run. A
    ``JobResult`` among them (a job that could not be prepared) is passed through.
    ``on_result`` is called in this process as each result arrives. One progress bar
    (what is running, reports done, time left) is shown on a terminal only. ``runner``
    (a module-level function, for tests) replaces the report job itself.
    """
    if total is None and hasattr(jobs, "__len__"):
        total = len(jobs)
    workers = max(1, min(workers or default_jobs(), total or workers or 1))
    kernel = ensure_kernel()  # once, before the workers race to install it
    run = runner or _run
    results: dict[int, JobResult] = {}

    with count_bar(total, "rapports", progress, desc="rapports") as bar:

        def record(index: int, result: JobResult) -> None:
            results[index] = result
            if on_result is not None:
                on_result(result)
            bar.update(1)

        pool_args = (workers, kernel, warm, run, record, bar)
        source = enumerate(iter(jobs))
        ready: list[tuple[int, ReportJob]] = []
        suspects: list[tuple[int, ReportJob]] = []
        while True:  # each broken pool sets at least one job aside: this ends
            lost, ready, exhausted = _run_pool(source, ready, *pool_args)
            suspects += lost
            if exhausted and not ready:
                break
        for index, job in suspects:
            lost, _, _ = _run_pool(iter(()), [(index, job)], 1, *pool_args[1:])
            for _, dead in lost:
                failure = JobResult(dead.departement, False, 0.0, WORKER_DIED, month=dead.month)
                record(index, failure)
    return [results[index] for index in sorted(results)]


def _run_pool(
    source: Iterator[tuple[int, ReportJob | JobResult]],
    ready: list[tuple[int, ReportJob]],
    workers: int,
    kernel: str,
    warm: bool,
    run: Callable[[ReportJob], JobResult],
    record: Callable[[int, JobResult], None],
    bar,
) -> tuple[list[tuple[int, ReportJob]], list[tuple[int, ReportJob]], bool]:
    """Run jobs on a fresh pool until the source is exhausted or a worker dies.

    No more jobs than workers are handed to the pool at a time, so that when it breaks
    the jobs in flight are known; up to as many more are prepared ahead (``ready``),
    while the workers run, so that no worker waits for the parent. Returns the jobs in
    flight when the pool broke, the jobs prepared but not started, and whether the
    source is exhausted.
    """
    ready = list(ready)
    exhausted = False

    def top_up() -> None:
        nonlocal exhausted
        while not exhausted and len(ready) < workers:
            index, job = next(source, (None, None))
            if index is None:
                exhausted = True
            elif isinstance(job, JobResult):
                record(index, job)
            else:
                ready.append((index, job))

    # "spawn": workers start clean rather than inherit the parent's threads and state.
    context = get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(kernel, warm)
    ) as pool:
        pending: dict = {}
        top_up()
        while ready or pending:
            while ready and len(pending) < workers:
                index, job = ready.pop(0)
                pending[pool.submit(run, job)] = (index, job)
            top_up()  # prepared while the workers run
            running = [_label(job) for _, job in pending.values()]
            bar.set_description_str(f"en cours : {', '.join(running)}")
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in sorted(done, key=lambda f: pending[f][0]):
                index, job = pending[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                except Exception as error:  # a job that could not even be sent or read back
                    result = JobResult(
                        job.departement, False, 0.0, _first_line(error), month=job.month
                    )
                del pending[future]
                record(index, result)
            if broken:
                return list(pending.values()), ready, exhausted
            top_up()
    return [], ready, exhausted


def summary(results: list[JobResult]) -> str:
    """French summary: how many succeeded, and each failure with its first line."""
    failed = [r for r in results if not r.ok]
    lines = [
        f"{len(results)} rapport(s) : {len(results) - len(failed)} réussi(s), "
        f"{len(failed)} en échec."
    ]
    lines += [f"  échec {r.departement} : {r.error}" for r in failed]
    return "\n".join(lines)
