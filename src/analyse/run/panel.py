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

DEFAULT_DIR = config.REPORTS_DIR / "panel"


def run_panel(sources: Sources, folder: Path | None = None) -> tuple[Path, panel_rows.Panel, float]:
    """Compute the panel and write its files into ``folder`` (default ``reports/panel``).
    Returns the folder, the panel and the seconds it took.

    The files must agree (the CSV, the Parquet and ``datapackage.json`` of one run):
    they are written into a staging folder beside ``folder``, which replaces it whole
    (``atomic.replaced_whole``), whatever files ``write_panel`` writes."""
    from analyse.render.exports import panel as panel_files

    start = time.perf_counter()
    panel = panel_rows.build_panel(sources)
    folder = Path(folder or DEFAULT_DIR)
    try:
        with replaced_whole(folder) as staging:
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
