"""Reports: run the report notebook with Papermill and export it to HTML without code.

The one job path of ``rapport``, ``rapports`` and ``mensuel``: ``make_job`` cuts a
département's slice of a situation (``Situation.departement``) and saves it as its
bundle (``bundle.save``); ``run_job``
executes ``notebooks/rapport_departement.ipynb`` on that bundle, then writes
``reports/<dep>/rapport.html`` (no code, no prompts, images embedded), the executed
notebook and the analyst exports. Every file is written to a temporary name and
renamed, so a failed run leaves the previous report intact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from analyse import config
from analyse.analysis import bundle
from analyse.analysis.bundle import Prepared
from analyse.analysis.situation import Situation
from analyse.atomic import remove_dead_staging, staging_dir, write_text
from analyse.errors import FailedError, disk_full
from analyse.render.fragments import TEMPLATES_DIR
from analyse.run import reuse

KERNEL_NAME = "analyse"


class ReportError(FailedError):
    """The notebook failed; the message (in French) gives the first line of the error."""


@dataclass
class ReportFiles:
    html: Path
    notebook: Path
    # The analysts' files, by ``render.exports.Export.name`` (``files.csv``…).
    exports: dict[str, Path]

    def __getattr__(self, name: str) -> Path:
        try:
            return self.__dict__["exports"][name]
        except KeyError:
            raise AttributeError(name) from None

    def all(self) -> list[Path]:
        return [self.html, *self.exports.values(), self.notebook]


def ensure_kernel() -> str:
    """Name of a Jupyter kernel that runs this very Python (installed if missing).

    The stock ``python3`` kernelspec starts whatever ``python`` is first on PATH, which
    is not this environment when the CLI is called as ``.venv/bin/analyse`` without
    activating it. A kernelspec pointing to ``sys.executable`` avoids that.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    argv = [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        # The kernel only talks to this process on localhost; its warning about
        # unencrypted TCP would only be noise in the monthly job's log.
        "--IPKernelApp.log_level=CRITICAL",
    ]
    try:
        if KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv == argv:
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    spec = {"argv": argv, "display_name": "Python (analyse)", "language": "python"}
    folder = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    write_text(folder / "kernel.json", json.dumps(spec, indent=1))
    return KERNEL_NAME


# Errors of the kernel's start-up (a race between parallel kernels for ports or
# files, a slow machine): worth another try. An error raised by the notebook's own code
# is not retried.
KERNEL_START_ATTEMPTS = 3


def _notebook_failed(error, parameters: dict) -> ReportError:
    """A cell of the notebook raised: its first line, in the report's words."""
    first = f"{error.ename}: {error.evalue}".splitlines()[0]
    return ReportError(
        f"Le notebook a échoué pour {parameters.get('departement')} "
        f"(cellule {error.exec_count}) : {first}"
    )


def _raise_if_disk_full(error: BaseException) -> None:
    """A full disk is said as such (exit 2), whichever kernel met it."""
    full = disk_full(error)
    if full is not None:
        raise full from error


def execute_notebook(parameters: dict, output: Path, kernel_name: str | None = None) -> None:
    """Execute the report notebook with ``parameters`` into ``output``."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    kernel_name = kernel_name or ensure_kernel()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            papermill.execute_notebook(
                str(config.REPORT_NOTEBOOK),
                str(output),
                parameters=parameters,
                kernel_name=kernel_name,
                language="python",
                progress_bar=False,
                cwd=str(config.NOTEBOOKS_DIR),
                start_timeout=120,
                # Written once at the end (into a staging folder) rather than after
                # every cell: a partial notebook is of no use here, and each save costs.
                request_save_on_cell_execute=False,
            )
            return
        except PapermillExecutionError as error:
            raise _notebook_failed(error, parameters) from error
        except (RuntimeError, TimeoutError, OSError) as error:
            _raise_if_disk_full(error)  # no retry helps, and the kernel is not the cause
            if attempt == KERNEL_START_ATTEMPTS:
                raise ReportError(
                    f"Le noyau Jupyter n'a pas démarré pour {parameters.get('departement')} "
                    f"après {attempt} essais : {error}"
                ) from error


def execute_warm(warm, parameters: dict, output: Path) -> None:
    """Execute the report notebook in the warm kernel ``warm`` (French errors)."""
    from papermill.exceptions import PapermillExecutionError

    from analyse.run.warm import KernelFailure

    try:
        warm.execute(config.REPORT_NOTEBOOK, output, parameters)
    except PapermillExecutionError as error:
        raise _notebook_failed(error, parameters) from error
    except (KernelFailure, RuntimeError, TimeoutError, OSError) as error:
        _raise_if_disk_full(error)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ReportError(
            f"Le noyau Jupyter a échoué deux fois pour {parameters.get('departement')} "
            f"(arrêté, bloqué ou trop gros) : {first}"
        ) from error


HIDDEN_CELL_TAG = "remove_cell"


# nbconvert's HTMLExporter re-reads every page it wrote with BeautifulSoup, to give each
# cell's input and output areas a tabindex (and each image without one an alt text): two
# thirds of the export, ≈ 1 s a report with the inline SVG maps. The report does the same
# with one pattern on the areas its template writes; every figure has its own text.
_FOCUSABLE_RE = re.compile(
    r'(<div\b[^>]*\bclass="[^"]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b[^"]*"[^>]*)>'
)
# That pass also wrote « é » where the Markdown renderer wrote « &#233; »: so does the
# report (apostrophes and characters past ASCII only, never a character of the markup).
_CHARACTER_REF_RE = re.compile(r"&#(?:x([0-9a-fA-F]+)|([0-9]+));")


def _literal_characters(html: str) -> str:
    def literal(match: re.Match) -> str:
        point = int(match[1], 16) if match[1] else int(match[2])
        return chr(point) if point == 39 or 160 <= point <= 0x10FFFF else match[0]

    return _CHARACTER_REF_RE.sub(literal, html)


@functools.cache
def _html_exporter():
    """One exporter per process: compiling its templates costs a quarter of a second."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from traitlets.config import Config

    class ReportExporter(HTMLExporter):
        """HTMLExporter without its BeautifulSoup pass (see ``_FOCUSABLE_RE``)."""

        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node, up to its BeautifulSoup pass.
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            widgets = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight)
            self.register_filter("filter_data_type", widgets)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html = _FOCUSABLE_RE.sub(r'\1 tabindex="0">', html)
            return _literal_characters(html), resources

    # Cells tagged « remove_cell » show the analyst the frames behind the tables, in
    # rapport.ipynb only.
    hidden = Config({"TagRemovePreprocessor": {"remove_cell_tags": {HIDDEN_CELL_TAG}}})
    return ReportExporter(
        config=hidden,
        template_name="rapport",
        # nbconvert's template « rapport », beside the report's other templates.
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code="fr",
    )


def export_html(notebook_path: Path, target: Path, title: str) -> None:
    """HTML for officials: no code cells, no prompts, images embedded, no scripts."""
    import nbformat

    from analyse.wording import french_spacing

    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.metadata["title"] = title
    body, _ = _html_exporter().from_notebook_node(notebook)
    target.write_text(french_spacing(body), encoding="utf-8")


@dataclass
class ReportJob:
    """One report to produce from a prepared bundle."""

    departement: str
    data_dir: Path
    out_dir: Path
    title: str
    month: str = ""  # YYYY-MM for a monthly report, "" for the current situation

    @property
    def files(self) -> ReportFiles:
        from analyse.render.exports import export_paths

        return ReportFiles(
            html=self.out_dir / config.REPORT_HTML_NAME,
            notebook=self.out_dir / config.REPORT_NOTEBOOK_NAME,
            exports=export_paths(self.out_dir),
        )


def run_job(job: ReportJob, kernel_name: str | None = None, warm=None) -> ReportFiles:
    """Execute, export and write the report files of ``job``.

    ``warm`` (a ``warm.WarmKernel``) runs the notebook in a kept kernel rather than a
    new one. The analyst exports do not depend on the notebook: they are written by a
    thread of this process while the kernel executes it.

    Every file is first written to a staging folder beside the report; only when all of
    them are complete are they renamed into place, one by one, the HTML last. Each file
    on disk is thus always whole, the previous version or the new one; a run killed
    during the renames leaves some files new and the others old, and the next run
    replaces them all.
    """
    # Absolute paths: the cold path's Papermill changes the working directory of the
    # process while the exports thread writes.
    job = dataclasses.replace(job, data_dir=job.data_dir.resolve(), out_dir=job.out_dir.resolve())
    files = job.files
    created = not job.out_dir.exists()
    job.out_dir.mkdir(parents=True, exist_ok=True)
    remove_dead_staging(job.out_dir, STAGING_PREFIX)
    staging = staging_dir(job.out_dir, STAGING_PREFIX)
    in_place = False
    try:
        staged = ReportJob(job.departement, job.data_dir, staging, job.title).files
        # Nothing it is made from changed since a report was written: that one is reused.
        key = reuse.report_key(job.departement, job.data_dir, job.title)
        # Copies, checked file by file: a damaged entry is discarded and the report made.
        reused = reuse.fetch(key, _by_name(staged))
        if not reused:
            _render(job, staged, kernel_name, warm)
            # Kept as copies of the staged files: the published ones are never the cache's.
            reuse.store(key, _by_name(staged))
        for name in ("notebook", *files.exports, "html"):
            source = getattr(staged, name)
            os.chmod(source, 0o644)  # this run's own copy, in its own staging folder
            os.replace(source, getattr(files, name))
        in_place = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        bundle.settle(job.data_dir, in_place)
        if created and not in_place:
            with contextlib.suppress(OSError):
                job.out_dir.rmdir()  # a first report that failed leaves no empty folder
    return files


def _by_name(files: ReportFiles) -> dict[str, Path]:
    return {path.name: path for path in files.all()}


def _render(job: ReportJob, staged: ReportFiles, kernel_name: str | None, warm) -> None:
    """Execute the notebook into ``staged`` and export it, the analyst exports written
    meanwhile by a thread."""
    # The kernel runs in notebooks/: the data folder must be absolute.
    parameters = {
        "departement": job.departement,
        "dossier_donnees": str(job.data_dir.resolve()),
        "postes_supplementaires": bundle.scenario_posts(job.data_dir),
    }
    with ThreadPoolExecutor(1, thread_name_prefix="exports") as exports:
        written = exports.submit(write_analyst_exports, job, staged)
        try:
            if warm is not None:
                execute_warm(warm, parameters, staged.notebook)
            else:
                execute_notebook(parameters, staged.notebook, kernel_name)
        finally:
            # Waited for even when the notebook failed: the staging folder goes next.
            exports_error = written.exception()
        export_html(staged.notebook, staged.html, job.title)
        if exports_error is not None:
            raise exports_error


def write_analyst_exports(job: ReportJob, files: ReportFiles) -> None:
    """The analysts' files (``render.exports.EXPORTS``), from the prepared bundle."""
    from analyse.render.exports import write_exports

    write_exports(bundle.load(job.departement, job.data_dir), files.exports, job.title)


STAGING_PREFIX = ".en-cours-"


def report_title(prepared: Prepared) -> str:
    """The report's title, with the date it describes (``context["situation"]``)."""
    from analyse.wording import month_label, situation_title

    title = f"Conseillers numériques — {prepared.nom} ({prepared.departement})"
    when = situation_title(prepared.context.get("situation"))
    if not when and prepared.context.get("mois"):
        when = f"situation fin {month_label(prepared.context['mois'])}"
    return f"{title}, {when}" if when else title


def make_job(
    situation: Situation, departement: str, reports_dir: Path | None = None
) -> tuple[Prepared, ReportJob]:
    """Cut the slice of ``departement`` from ``situation``, save it as its bundle, and say
    which report to write from it: the one job path of ``rapport``, ``rapports`` and
    ``mensuel``.

    ``departement`` is a code already checked (``pipeline.check_departement``). The
    bundle goes where ``bundle.data_dir_for`` says (inside ``reports_dir`` for a run with
    ``--sortie``, so that two runs never feed each other's notebooks); the report to
    ``config.report_dir``. Returns the prepared data too: ``rapport`` prints from them.
    """
    month = situation.month
    prepared = situation.departement(departement)
    # The previous bundle is kept until the report is written (``run_job``): the
    # prepared data and the report beside them change together, or not at all.
    data_dir = bundle.save(
        prepared, bundle.data_dir_for(departement, reports_dir, month), keep_previous=True
    )
    out_dir = config.report_dir(departement, reports_dir, month)
    return prepared, ReportJob(departement, data_dir, out_dir, report_title(prepared), month or "")


RECONCILIATION_LINES = [
    ("lus", "postes comptés pour le département (lus)"),
    ("localises_dans_un_epci_du_departement", "  localisés dans un EPCI du département"),
    ("localises_hors_departement", "  localisés hors du département"),
    ("departementaux", "  départementaux (catégorie à part)"),
    ("regionaux", "  régionaux (catégorie à part)"),
    ("non_localisables", "  non localisables"),
    ("en_revue", "  en revue (non comptés ailleurs)"),
    ("rejetes", "  sur des lignes rejetées (mode tolérant)"),
    ("venus_d_ailleurs", "comptés ailleurs mais localisés dans ses EPCI"),
    ("localises_dans_ses_epci", "postes localisés dans ses EPCI"),
]


def reconciliation_text(prepared: Prepared) -> str:
    """Reconciliation as printed by the CLI."""
    from analyse.wording import fmt_number

    counts = prepared.counts
    lines = [f"Rapprochement des postes — {prepared.nom} ({prepared.departement})"]
    lines += [f"  {label:<52}{fmt_number(counts[key]):>7}" for key, label in RECONCILIATION_LINES]
    # The table counts posts; the rows set aside are counted as rows, apart (a row whose
    # count of posts could not be read adds no post).
    rejected = prepared.anomalies
    ours = rejected.loc[rejected["departement"].eq(prepared.departement)]
    if len(rejected):
        unread = int((ours["postes"].fillna(0) == 0).sum())
        elsewhere = len(rejected) - len(ours)
        line = f"Lignes rejetées (mode tolérant) : {fmt_number(len(ours))}"
        if unread:
            line += f", dont {fmt_number(unread)} sans nombre de postes lisible"
        if elsewhere:
            line += (
                f" ; {fmt_number(elsewhere)} d'autres départements (ou sans département lisible)"
            )
        lines.append(line + " (listées dans le rapport, partie « Pour les analystes »).")
    return "\n".join(lines)
