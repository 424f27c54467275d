"""``analyse panel``: the analysts' panel of every EPCI and département at every month.

The rows are the monthly situations stacked (``analysis.panel``);
``render.exports.panel`` writes them.
"""

from __future__ import annotations

import time
from pathlib import Path

from analyse import config
from analyse.analysis import panel as panel_rows
from analyse.analysis.situation import Sources
from analyse.atomic import replaced_whole
from analyse.errors import UserError, os_error_reason
from analyse.run.progress import Steps
from analyse.territory.reference import departement_outlines
from analyse.wording import month_label

DEFAULT_DIR = config.REPORTS_DIR / "panel"

# The steps of the panel on a terminal, and their seconds on a quiet machine (per month).
_MONTHS_STEP, _MONTH_SECONDS = "chaque mois, tout le pays", 1.5
_OUTLINES_STEP, _OUTLINES_SECONDS = "contours des départements", 8
_WRITING_STEP, _WRITING_SECONDS = "écriture des fichiers", 6
_MONTHS = 26  # March 2021 to April 2023, the embedded national list


def plan_steps(steps: Steps, sources: Sources | None = None) -> None:
    """Add the panel's steps to ``steps``, the months counted from ``sources`` (before
    they are read: the months of the embedded list)."""
    months = len(sources.months) if sources is not None else _MONTHS
    steps.extend(
        [
            (_MONTHS_STEP, _MONTH_SECONDS * months),
            (_OUTLINES_STEP, _OUTLINES_SECONDS),
            (_WRITING_STEP, _WRITING_SECONDS),
        ]
    )


def run_panel(
    sources: Sources, folder: Path | None = None, steps: Steps | None = None
) -> tuple[Path, panel_rows.Panel, float]:
    """Compute the panel and write its files into ``folder`` (default ``reports/panel``).
    Returns the folder, the panel and the seconds it took.

    The files must agree (the CSV, the Parquet and ``datapackage.json`` of one run):
    they are written into a staging folder beside ``folder``, which replaces it whole
    (``atomic.replaced_whole``), whatever files ``write_panel`` writes."""
    from analyse.render.exports import panel as panel_files

    start = time.perf_counter()
    steps = steps or Steps(progress=False)
    months = sources.months

    def on_month(position: int, month: str) -> None:
        steps.within(position, len(months), f"fin {month_label(month)}")

    with steps.step(_MONTHS_STEP):
        panel = panel_rows.build_panel(sources, months, on_month=on_month)
    with steps.step(_OUTLINES_STEP):
        panel.departement_geometry = departement_outlines(sources.reference.communes)
    folder = Path(folder or DEFAULT_DIR)
    try:
        with steps.step(_WRITING_STEP), replaced_whole(folder) as staging:
            panel_files.write_panel(
                staging, panel, sources.given, sources.reference, sources.extras
            )
    except OSError as error:  # a full disk: said with the state of the previous panel
        state = (
            f"le panel précédent ({folder}) est intact : aucun de ses fichiers n'a été remplacé"
            if folder.exists()
            else "aucun fichier n'a été écrit"
        )
        raise UserError(f"panel non écrit, {os_error_reason(error)} ; {state}.") from error
    return folder, panel, time.perf_counter() - start
