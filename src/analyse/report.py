"""Reports: run the report notebook with Papermill and export it to HTML without code.

For one département: prepare the data (``pipeline``), execute
``notebooks/rapport_departement.ipynb`` with the département as a parameter, then write
``reports/<dep>/rapport.html`` (no code, no prompts, images embedded), the executed
notebook and ``indicateurs_epci.csv``. Every file is written to a temporary name and
renamed, so a failed run leaves the previous report intact.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from analyse import config, pipeline
from analyse.atomic import atomic_path, write_text
from analyse.reference import Reference

KERNEL_NAME = "analyse"
TEMPLATES_DIR = Path(__file__).parent / "templates"


class ReportError(RuntimeError):
    """The notebook failed; the message (in French) gives the first line of the error."""


@dataclass
class ReportFiles:
    html: Path
    notebook: Path
    csv: Path


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
        "--IPKernelApp.log_level=ERROR",
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


def execute_notebook(parameters: dict, output: Path, kernel_name: str | None = None) -> None:
    """Execute the report notebook with ``parameters`` into ``output`` (atomically)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    with atomic_path(output) as tmp:
        try:
            papermill.execute_notebook(
                str(config.REPORT_NOTEBOOK),
                str(tmp),
                parameters=parameters,
                kernel_name=kernel_name or ensure_kernel(),
                language="python",
                progress_bar=False,
                cwd=str(config.NOTEBOOKS_DIR),
                start_timeout=120,
            )
        except PapermillExecutionError as error:
            first = f"{error.ename}: {error.evalue}".splitlines()[0]
            raise ReportError(
                f"Le notebook a échoué pour {parameters.get('departement')} "
                f"(cellule {error.exec_count}) : {first}"
            ) from error


def export_html(notebook_path: Path, target: Path, title: str) -> None:
    """HTML for officials: no code cells, no prompts, images embedded, no scripts."""
    from nbconvert import HTMLExporter

    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="rapport",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code="fr",
    )
    body, _ = exporter.from_notebook_node(notebook)
    write_text(target, body)


def build_report(
    departement: str,
    selection_paths: list[Path] | None = None,
    reports_dir: Path | None = None,
    reference: Reference | None = None,
    kernel_name: str | None = None,
) -> tuple[pipeline.Prepared, ReportFiles]:
    """Prepare the data of a département and write its report files."""
    prepared = pipeline.prepare(departement, selection_paths, reference=reference)
    data_dir = pipeline.save(prepared)
    out_dir = config.report_dir(prepared.departement, reports_dir)
    files = ReportFiles(
        html=out_dir / "rapport.html",
        notebook=out_dir / "rapport.ipynb",
        csv=out_dir / "indicateurs_epci.csv",
    )
    execute_notebook(
        {"departement": prepared.departement, "dossier_donnees": str(data_dir)},
        files.notebook,
        kernel_name,
    )
    title = f"Conseillers numériques — {prepared.nom} ({prepared.departement})"
    export_html(files.notebook, files.html, title)
    pipeline.write_indicators_csv(prepared, files.csv)
    return prepared, files


def reconciliation_text(prepared: pipeline.Prepared) -> str:
    """Reconciliation as printed by the CLI."""
    from analyse.wording import fmt_number

    counts = prepared.counts
    lines = [
        f"Rapprochement des postes — {prepared.nom} ({prepared.departement})",
        f"  postes lus                                   {fmt_number(counts['lus']):>6}",
        "  localisés dans un EPCI du département        "
        f"{fmt_number(counts['localises_dans_un_epci_du_departement']):>6}",
        "  localisés hors du département                "
        f"{fmt_number(counts['localises_hors_departement']):>6}",
        f"  départementaux (catégorie à part)            {fmt_number(counts['departementaux']):>6}",
        f"  en revue (non comptés ailleurs)              {fmt_number(counts['en_revue']):>6}",
    ]
    return "\n".join(lines)
