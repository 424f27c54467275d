"""The analysts' panel: every EPCI and département of France at the end of every month.

The panel is the monthly situations stacked (``analysis.situation``): one row per (EPCI
à fiscalité propre, month-end) and one per (département, month-end), from the
programme's first committees (``config.TRAJECTORY_START``) to the last month of the
national list. Nothing is computed here: each row is a slice of its month's situation,
the very one its month's report and index are cut from.

Columns are declared in ``analyse.schema`` (``PANEL_EPCI_COLUMNS``,
``PANEL_DEPARTEMENT_COLUMNS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from analyse import config, schema
from analyse.analysis.situation import Situation, Sources

# Names of the reconciliation's counts and of the index's columns in the panel.
_DEPARTEMENT_NAMES = {
    "code": "departement",
    "nom": "nom_departement",
    "postes": "postes_comptes",
    "variation": "postes_nouveaux",
    "localises_dans_ses_epci": "postes_localises",
}


@dataclass
class Panel:
    """The panel's tables: ``epci`` (one row per EPCI and month), ``departements`` (one
    row per département and month), ``geometry`` (one row per EPCI, its outline once)
    and the months covered, with what they were computed from."""

    epci: pd.DataFrame
    geometry: gpd.GeoDataFrame
    months: list[str]
    departements: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Month → national target and its French description.
    targets: dict[str, tuple[float, str]] = field(default_factory=dict)
    # One row per département: ``code`` and its outline (communes dissolved).
    departement_geometry: gpd.GeoDataFrame | None = None


def departement_rows(situation: Situation) -> pd.DataFrame:
    """Every département at the end of the situation's month: the monthly index's row
    (posts counted, change, density, flags) and where its posts are (reconciliation)."""
    table = situation.departements.rename(columns=_DEPARTEMENT_NAMES)
    table["mois"] = situation.end
    table["cible_nationale"] = situation.target[0]
    return table[schema.names(schema.PANEL_DEPARTEMENT_COLUMNS)].reset_index(drop=True)


def build_panel(
    sources: Sources,
    months: list[str] | None = None,
    on_month: Callable[[int, str], None] | None = None,
) -> Panel:
    """The panel of ``months`` (default: every month of the sources); ``on_month(position,
    month)`` is told when each month begins (progress)."""
    months = months if months is not None else sources.months
    epci, departements, targets = [], [], {}
    for position, month in enumerate(months, start=1):
        if on_month is not None:
            on_month(position, month)
        situation = sources.at(month)
        epci.append(situation.panel_rows())
        departements.append(departement_rows(situation))
        targets[month] = situation.target[:2]
    base = sources.epci
    geometry = gpd.GeoDataFrame(
        base[["siren_epci", "nom_epci", "type_epci", "departements"]],
        geometry=base.geometry.to_crs(config.GEOGRAPHIC_CRS).to_numpy(),
        crs=config.GEOGRAPHIC_CRS,
    )
    return Panel(
        epci=pd.concat(epci, ignore_index=True) if epci else pd.DataFrame(),
        geometry=geometry,
        months=months,
        departements=pd.concat(departements, ignore_index=True) if departements else pd.DataFrame(),
        targets=targets,
    )
