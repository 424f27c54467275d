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

DEFAULT_DIR = config.REPORTS_DIR / "panel"


def run_panel(sources: Sources, folder: Path | None = None) -> tuple[Path, panel_rows.Panel, float]:
    """Compute the panel and write its files into ``folder`` (default ``reports/panel``).
    Returns the folder, the panel and the seconds it took."""
    from analyse.render.exports.panel import write_panel

    start = time.perf_counter()
    panel = panel_rows.build_panel(sources)
    folder = Path(folder or DEFAULT_DIR)
    write_panel(folder, panel, sources.given, sources.reference, sources.extras)
    return folder, panel, time.perf_counter() - start
