"""Each territory's trajectory: posts and density at the end of every month.

Months run from the programme's first committees (``config.TRAJECTORY_START``,
2021-03) to the month shown. Posts of an EPCI are those located in it (as on the map);
posts of a département those counted for it (as in the monthly index).
"""

from __future__ import annotations

import pandas as pd

from analyse import config
from analyse.analysis.indicators import density
from analyse.territory.matching import LOCATED

COLUMNS = ["siren_epci", "nom_epci", "mois", "postes", "conseillers_pour_10000_hab"]


def month_range(last: str | None, first: str = config.TRAJECTORY_START) -> list[str]:
    """Every month from ``first`` to ``last`` (YYYY-MM), both included."""
    if last is None or last < first:
        return [first] if last is None else []
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _cumulative(rows: pd.DataFrame, key: str, months: list[str]) -> pd.DataFrame:
    """Posts per ``key`` at the end of each month (columns: months)."""
    if not months:
        return pd.DataFrame()
    monthly = rows.groupby([key, "mois_comite"])["postes"].sum().unstack(fill_value=0)
    # Committees before the first month count in it; later ones are left out.
    before = [m for m in monthly.columns if m < months[0]]
    table = monthly.reindex(columns=months, fill_value=0)
    if before:
        table[months[0]] += monthly[before].sum(axis=1)
    return table.cumsum(axis=1)


def epci_trajectory(
    matched: pd.DataFrame, indicators: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    """One row per EPCI of ``indicators`` and month: ``siren_epci``, ``nom_epci``,
    ``mois``, ``postes`` (located in it at the end of the month) and
    ``conseillers_pour_10000_hab`` (empty when its population is unknown)."""
    if not months:  # a month shown before the programme's first committees
        return pd.DataFrame(columns=COLUMNS)
    located = matched.loc[matched["statut"] == LOCATED]
    wide = _cumulative(located, "siren_epci", months)
    sirens = list(indicators["siren_epci"])
    wide = wide.reindex(index=sirens, columns=months, fill_value=0)
    long = wide.rename_axis(index="siren_epci", columns="mois").stack().rename("postes")
    table = long.reset_index()
    names = indicators.set_index("siren_epci")["nom_epci"]
    population = indicators.set_index("siren_epci")["population"]
    table.insert(1, "nom_epci", table["siren_epci"].map(names))
    table["postes"] = table["postes"].astype("int64")
    table["conseillers_pour_10000_hab"] = density(
        table["postes"], table["siren_epci"].map(population)
    )
    return table[COLUMNS]


def first_month(trajectory: pd.DataFrame) -> pd.Series:
    """Month each EPCI first had a conseiller (by SIREN); missing when never."""
    covered = trajectory.loc[trajectory["postes"] > 0]
    return covered.groupby("siren_epci")["mois"].min()


def departement_densities(
    rows: pd.DataFrame, population: pd.Series, months: list[str]
) -> pd.DataFrame:
    """Density of each département (rows: codes of ``population``) at the end of each
    month (columns), from the posts counted for it."""
    wide = _cumulative(rows, "departement", months)
    wide = wide.reindex(index=population.index, columns=months, fill_value=0)
    return density(wide, population)
