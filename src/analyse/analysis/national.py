"""National tables: the reconciliation of every post per département, and the monthly
index's table of départements (posts, change, density, priority areas, trajectory)."""

from __future__ import annotations

import pandas as pd

from analyse import config
from analyse.analysis import priority_areas, trajectory
from analyse.analysis.indicators import ACCOUNTED, density, reconciliation
from analyse.errors import ReconciliationError
from analyse.territory.reference import Reference, sum_or_missing

CONTROL_COLUMNS = ["lus", *ACCOUNTED]


def epci_by_departement(reference: Reference) -> dict[str, list[str]]:
    """SIREN of the EPCI that have at least one commune in each département."""
    current = reference.communes.loc[reference.communes["type"] == "COM"]
    groups = current.dropna(subset=["siren_epci"]).groupby("departement")["siren_epci"]
    return {dep: sorted(set(sirens)) for dep, sirens in groups}


def control_table(
    matched: pd.DataFrame, reference: Reference, anomalies: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One line per département present in the data or the reference, plus a total.

    Each line is a ``reconciliation`` (which asserts that its categories add up).
    """
    sirens = epci_by_departement(reference)
    rejected_codes = set() if anomalies is None else set(anomalies["departement"]) - {""}
    codes = sorted(
        set(matched["departement"]) | set(reference.departements["code"]) | rejected_codes,
        key=lambda c: (len(c) > 2 and c.isdigit(), c),
    )
    rows = []
    for code in codes:
        counts = reconciliation(matched, code, sirens.get(code, []), anomalies)
        rows.append({"departement": code, **{k: counts[k] for k in CONTROL_COLUMNS}})
    table = pd.DataFrame(rows)
    total = table[CONTROL_COLUMNS].sum()
    # Rejected rows count where their département could be read.
    rejected = 0
    if anomalies is not None:
        rejected = int(anomalies.loc[anomalies["departement"] != "", "postes"].sum())
    if total["lus"] != matched["postes"].sum() + rejected:
        raise ReconciliationError(
            f"Rapprochement national faux : {matched['postes'].sum()} postes lus, "
            f"{total['lus']} répartis entre départements."
        )
    return pd.concat(
        [table, pd.DataFrame([{"departement": "Total", **total.to_dict()}])], ignore_index=True
    )


def departement_table(
    current: pd.DataFrame, previous: pd.DataFrame, reference: Reference, month: str | None
) -> pd.DataFrame:
    """Posts counted per département at the end of ``month`` (the rows ``current``) and
    the change since the month before (``previous``), with the density per 10 000
    inhabitants: the rows of the monthly index."""
    communes = reference.communes.loc[reference.communes["type"] == "COM"]
    # A département with a commune of unknown population has no population (never a
    # partial sum): its density is left empty, and the index says so.
    population = sum_or_missing(communes["population"], communes["departement"])
    table = reference.departements[["code", "nom"]].copy()
    # Collectivities outside the reference keep their posts in the table (and the
    # national total), without population or report.
    others = sorted(set(current["departement"]) - set(table["code"]))
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                {"code": others, "nom": [config.OVERSEAS_COLLECTIVITIES.get(c, c) for c in others]}
            ),
        ],
        ignore_index=True,
    )
    table["population"] = table["code"].map(population).astype("Int64")
    table["postes"] = table["code"].map(current.groupby("departement")["postes"].sum())
    table["postes"] = table["postes"].fillna(0).astype("int64")
    before = table["code"].map(previous.groupby("departement")["postes"].sum()).fillna(0)
    table["variation"] = (table["postes"] - before).astype("int64")
    table["conseillers_pour_10000_hab"] = density(table["postes"], table["population"])
    return add_index_columns(table, current, month)


def add_index_columns(table: pd.DataFrame, current: pd.DataFrame, month: str) -> pd.DataFrame:
    """Posts in QPV, ZRR, France Services (and not documented) per département, and its
    density at the end of each month since ``config.TRAJECTORY_START``."""
    flags = priority_areas.flag_counts(current, "departement")
    for flag in priority_areas.FLAGS:
        for column in (f"postes_{flag}", f"postes_{flag}_non_documente"):
            table[column] = table["code"].map(flags[column]).fillna(0).astype("int64")
    population = table.set_index("code")["population"].astype("Float64").astype(float)
    densities = trajectory.departement_densities(current, population, trajectory.month_range(month))
    table["trajectoire"] = [list(densities.loc[c]) for c in table["code"]]
    return table
