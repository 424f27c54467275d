"""The analysts' panel: every EPCI of France at the end of every month.

One row per (EPCI à fiscalité propre, month-end), from the programme's first committees
(``config.TRAJECTORY_START``) to the last month of the national list, computed for the
whole country at once, month by month, with the very functions of the reports
(``indicators.epci_measures``, ``pipeline.national_target``, ``gaps``, ``comparison``,
``distance``, ``priority_areas``, ``fragility.join_ifn``): a figure of the panel equals
the figure of the report of that month. The département rows are assembled by
``analyse.run.panel`` from the monthly index's tables.

Columns are declared in ``analyse.schema`` (``PANEL_EPCI_COLUMNS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analyse import config, schema
from analyse.analysis import comparison, gaps, priority_areas, trajectory
from analyse.analysis.distance import nearest_place, population_beyond
from analyse.analysis.indicators import epci_measures
from analyse.analysis.inputs import Extras
from analyse.analysis.pipeline import MatchedSelections, covers_country, national_target
from analyse.territory.fragility import join_ifn
from analyse.territory.places import places_at
from analyse.territory.reference import Reference


@dataclass
class Panel:
    """The panel's tables: ``epci`` (one row per EPCI and month), ``departements`` (one
    row per département and month), ``geometry`` (one row per EPCI, its outline once)
    and the months covered, with what they were computed from."""

    epci: pd.DataFrame
    geometry: gpd.GeoDataFrame
    months: list[str]
    departements: pd.DataFrame = field(default_factory=pd.DataFrame)
    # One row per département: ``code`` and its outline (communes dissolved).
    departement_geometry: gpd.GeoDataFrame | None = None
    # Month → national target and its French description.
    targets: dict[str, tuple[float, str]] = field(default_factory=dict)


def panel_months(selections: MatchedSelections) -> list[str]:
    """Every month from the first committees to the last committee of the list."""
    table = selections.table
    last = str(table["mois_comite"].max()) if len(table) else None
    return trajectory.month_range(last)


def _places_for_month(
    selections: MatchedSelections, reference: Reference, extras: Extras, month: str
) -> gpd.GeoDataFrame:
    """The places of mediation that count at the end of ``month``: those of the places
    file that existed then (``territory.places.places_at``, as in the reports); without
    a places file, the town halls of the structures selected up to the month.
    """
    if extras.places is not None:
        return places_at(selections.dated_places(extras.places), month)
    return selections.town_halls(selections.until(month).table, reference)


def epci_base(reference: Reference, extras: Extras) -> gpd.GeoDataFrame:
    """What does not change from month to month: identity, population, area (in the
    metric CRS of its département, as in its report) and IFN of every EPCI."""
    epci = reference.epci.rename(columns={"siren": "siren_epci", "nom": "nom_epci"})
    table = epci.rename(columns={"type": "type_epci"}).copy()
    table["population"] = table["population"].astype("Int64")
    crs = table["departements"].map(config.epci_metric_crs)
    area = pd.Series(np.nan, index=table.index)
    for code, rows in crs.groupby(crs).groups.items():
        area.loc[rows] = table.geometry.loc[rows].to_crs(code).area / 1e6
    table["surface_km2"] = area
    table["_crs"] = crs
    table["ifn"] = np.nan  # without an IFN file: empty, and the score goes without it
    if extras.ifn is not None:
        _, scored, _ = join_ifn(reference.communes, reference.epci, extras.ifn)
        table["ifn"] = table["siren_epci"].map(scored.set_index("siren")["ifn"])
    return table


def _distance_columns(
    reference: Reference, places: gpd.GeoDataFrame, crs_of: pd.Series
) -> pd.DataFrame:
    """Population of each EPCI beyond 10, 20 and 30 km of a place (``distance``), every
    commune measured in the metric CRS of its département, as in its report."""
    communes = reference.communes.loc[reference.communes["type"] == "COM"]
    crs = communes["departement"].map(config.metric_crs)
    parts = [
        nearest_place(communes.loc[rows], places, int(code))
        for code, rows in crs.groupby(crs).groups.items()
    ]
    per_epci, _ = population_beyond(pd.concat(parts))
    columns = [c for c in per_epci.columns if c.startswith("population_") and c != "population"]
    return per_epci.dropna(subset=["siren_epci"]).set_index("siren_epci")[columns]


def _places_key(places: gpd.GeoDataFrame) -> tuple:
    """What the distances depend on: the places' identifiers and positions."""
    points = places.geometry
    return tuple(zip(places["id"].astype(str), points.x.round(7), points.y.round(7), strict=True))


def epci_month(
    base: gpd.GeoDataFrame,
    selections: MatchedSelections,
    reference: Reference,
    month: str,
    beyond: pd.DataFrame,
    national_areas: pd.Series | None = None,
    structures: pd.Series | None = None,
) -> tuple[pd.DataFrame, float, str]:
    """Every EPCI at the end of ``month``: the report's columns for the whole country.

    ``beyond`` is ``_distance_columns`` for the places of that month; ``structures`` the
    ``priority_areas.structure_key`` of every selection row. Returns the rows,
    the national target of the month and its description.
    """
    current = selections.until(month).table
    table = epci_measures(base, current)
    flags = priority_areas.epci_flag_counts(current, structures)
    for column in flags.columns:
        table[column] = table["siren_epci"].map(flags[column]).fillna(0).astype("int64")
    for column in beyond.columns:
        table[column] = table["siren_epci"].map(beyond[column]).astype("Int64")
    national = comparison.national_epci_table(reference.epci, current, national_areas)
    compared = comparison.comparable_medians(table, national, covers_country(selections))
    for column in compared.columns:
        table[column] = compared[column]
    target, label, _ = national_target(selections, reference, month)
    table["cible_nationale"] = target
    table["postes_manquants_cible_nationale"] = gaps.posts_missing(table, target)
    table["score_priorite"] = gaps.priority(table, target)["score_priorite"]
    table.insert(0, "mois", month)
    return pd.DataFrame(table.drop(columns=["geometry", "_crs"])), target, label


def build_epci_panel(
    selections: MatchedSelections,
    reference: Reference,
    extras: Extras | None = None,
    months: list[str] | None = None,
    places_for_month: Callable[..., gpd.GeoDataFrame] = _places_for_month,
    on_month: Callable[[int, str], None] | None = None,
) -> Panel:
    """The EPCI rows of the panel, for ``months`` (default: ``panel_months``);
    ``on_month(position, month)`` is told when each month begins (progress)."""
    extras = extras or Extras()
    months = months if months is not None else panel_months(selections)
    base = epci_base(reference, extras)
    national_areas = comparison.epci_areas_km2(reference.epci)
    structures = priority_areas.structure_key(selections.table)
    rows, targets = [], {}
    cached: tuple[tuple, pd.DataFrame] | None = None
    for position, month in enumerate(months, start=1):
        if on_month is not None:
            on_month(position, month)
        places = places_for_month(selections, reference, extras, month)
        key = _places_key(places)
        # Months with the same places have the same distances: measured once.
        if cached is None or cached[0] != key:
            cached = (key, _distance_columns(reference, places, base["_crs"]))
        table, target, label = epci_month(
            base, selections, reference, month, cached[1], national_areas, structures
        )
        rows.append(table)
        targets[month] = (target, label)
    panel = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if len(panel):
        # As in the reports (pipeline.territory_columns), from the whole trajectory.
        whole = trajectory.month_range(max(months))
        history = trajectory.epci_trajectory(selections.table, base, whole)
        first = panel["siren_epci"].map(trajectory.first_month(history))
        # The first month known at the row's date (later months are not known yet).
        seen = first.notna() & (first <= panel["mois"])
        panel["premier_mois_conseiller"] = first.where(seen, "").astype(str)
    panel = panel[[c for c in schema.names(schema.PANEL_EPCI_COLUMNS) if c in panel]]
    geometry = gpd.GeoDataFrame(
        base[["siren_epci", "nom_epci", "type_epci", "departements"]],
        geometry=base.geometry.to_crs(config.GEOGRAPHIC_CRS).to_numpy(),
        crs=config.GEOGRAPHIC_CRS,
    )
    return Panel(
        epci=panel.reset_index(drop=True), geometry=geometry, months=months, targets=targets
    )
