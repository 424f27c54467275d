"""``analyse panel``: the analysts' panel of every EPCI and département at every month.

The EPCI rows come from ``analysis.panel``; the département rows from the tables of the
monthly index (``render.national``) and the reconciliation of each département's posts
(``analysis.indicators.reconciliations``), so that the panel's national totals are the
index's. ``render.exports.panel`` writes them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from analyse import config, schema
from analyse.analysis import panel as epci_panel
from analyse.analysis.indicators import reconciliations
from analyse.analysis.inputs import Extras
from analyse.analysis.national import departement_table, epci_by_departement
from analyse.analysis.pipeline import MatchedSelections
from analyse.territory.reference import Reference, departement_outlines

DEFAULT_DIR = config.REPORTS_DIR / "panel"

# Names of the reconciliation's counts in the panel.
_RECONCILIATION_NAMES = {"localises_dans_ses_epci": "postes_localises"}


def departement_month(
    selections: MatchedSelections,
    reference: Reference,
    month: str,
    sirens: dict[str, list[str]],
    target: float,
) -> pd.DataFrame:
    """Every département at the end of ``month``: the monthly index's row (posts counted,
    change, density, flags) and where its posts are (``reconciliation``)."""
    table = departement_table(selections, reference, month).drop(columns="trajectoire")
    current = selections.until(month).table
    codes = {code: sirens.get(code, []) for code in table["code"]}
    counts = reconciliations(current, codes, selections.anomalies)
    # Posts counted: the index's figure (the reconciliation's « lus » adds the rows set
    # aside in tolerant mode).
    counts = counts.reset_index(drop=True).drop(columns="lus").rename(columns=_RECONCILIATION_NAMES)
    table = table.rename(
        columns={
            "code": "departement",
            "nom": "nom_departement",
            "postes": "postes_comptes",
            "variation": "postes_nouveaux",
        }
    )
    table = pd.concat([table.reset_index(drop=True), counts], axis=1)
    table["mois"] = month
    table["cible_nationale"] = target
    return table[schema.names(schema.PANEL_DEPARTEMENT_COLUMNS)]


def build_panel(
    selections: MatchedSelections,
    reference: Reference,
    extras: Extras | None = None,
    months: list[str] | None = None,
) -> epci_panel.Panel:
    """The whole panel: EPCI rows, their outlines, and département rows."""
    panel = epci_panel.build_epci_panel(selections, reference, extras, months)
    sirens = epci_by_departement(reference)
    rows = [
        departement_month(selections, reference, month, sirens, panel.targets[month][0])
        for month in panel.months
    ]
    if rows:
        panel.departements = pd.concat(rows, ignore_index=True)
    panel.departement_geometry = departement_outlines(reference.communes)
    return panel


def run_panel(
    selections: MatchedSelections,
    reference: Reference,
    extras: Extras | None,
    folder: Path | None = None,
) -> tuple[Path, epci_panel.Panel, float]:
    """Compute the panel and write its files into ``folder`` (default ``reports/panel``).
    Returns the folder, the panel and the seconds it took."""
    from analyse.render.exports.panel import write_panel

    start = time.perf_counter()
    panel = build_panel(selections, reference, extras)
    folder = Path(folder or DEFAULT_DIR)
    write_panel(folder, panel, selections, reference, extras)
    return folder, panel, time.perf_counter() - start
