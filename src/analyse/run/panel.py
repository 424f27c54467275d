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
from analyse.run.progress import Steps
from analyse.territory.reference import Reference, departement_outlines
from analyse.wording import month_label

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


# The steps of the panel on a terminal, and their seconds on a quiet machine (per month).
_EPCI_STEP, _EPCI_SECONDS = "intercommunalités, mois par mois", 1.3
_DEPARTEMENTS_STEP, _DEPARTEMENTS_SECONDS = "départements, mois par mois", 4
_OUTLINES_STEP, _OUTLINES_SECONDS = "contours des départements", 8
_WRITING_STEP, _WRITING_SECONDS = "écriture des fichiers", 6
_MONTHS = 26  # March 2021 to April 2023, the embedded national list


def build_panel(
    selections: MatchedSelections,
    reference: Reference,
    extras: Extras | None = None,
    months: list[str] | None = None,
    steps: Steps | None = None,
) -> epci_panel.Panel:
    """The whole panel: EPCI rows, their outlines, and département rows (``steps``: the
    progress shown, ``plan_steps``)."""
    steps = steps or Steps(progress=False)
    counted = months if months is not None else epci_panel.panel_months(selections)

    def on_month(position: int, month: str) -> None:
        steps.within(position, len(counted), f"intercommunalités à fin {month_label(month)}")

    with steps.step(_EPCI_STEP):
        panel = epci_panel.build_epci_panel(
            selections, reference, extras, months, on_month=on_month
        )
    sirens = epci_by_departement(reference)
    with steps.step(_DEPARTEMENTS_STEP):
        rows = [
            departement_month(selections, reference, month, sirens, panel.targets[month][0])
            for month in panel.months
        ]
    if rows:
        panel.departements = pd.concat(rows, ignore_index=True)
    with steps.step(_OUTLINES_STEP):
        panel.departement_geometry = departement_outlines(reference.communes)
    return panel


def plan_steps(steps: Steps, selections: MatchedSelections | None = None) -> None:
    """Add the panel's steps to ``steps``, the months counted from ``selections`` (before
    they are read: the months of the embedded list)."""
    months = len(epci_panel.panel_months(selections)) if selections else _MONTHS
    steps.extend(
        [
            (_EPCI_STEP, _EPCI_SECONDS * months),
            (_DEPARTEMENTS_STEP, _DEPARTEMENTS_SECONDS),
            (_OUTLINES_STEP, _OUTLINES_SECONDS),
            (_WRITING_STEP, _WRITING_SECONDS),
        ]
    )


def run_panel(
    selections: MatchedSelections,
    reference: Reference,
    extras: Extras | None,
    folder: Path | None = None,
    steps: Steps | None = None,
) -> tuple[Path, epci_panel.Panel, float]:
    """Compute the panel and write its files into ``folder`` (default ``reports/panel``),
    its steps shown by ``steps``. Returns the folder, the panel and the seconds it took."""
    from analyse.render.exports.panel import write_panel

    start = time.perf_counter()
    steps = steps or Steps(progress=False)
    plan_steps(steps, selections)
    panel = build_panel(selections, reference, extras, steps=steps)
    folder = Path(folder or DEFAULT_DIR)
    with steps.step(_WRITING_STEP):
        write_panel(folder, panel, selections, reference, extras)
    return folder, panel, time.perf_counter() - start
