"""Indicators per EPCI of a département, and the reconciliation of posts.

Pure functions: matched selections and reference tables in, tables out.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from analyse import config, schema
from analyse.errors import ReconciliationError
from analyse.territory.matching import DEPARTEMENT_LEVEL, LOCATED, REGION_LEVEL, REVIEW, UNLOCATABLE
from analyse.territory.reference import sum_or_missing

# Columns of reports/<dep>/indicateurs_epci.csv, in order (declared in analyse.schema).
CSV_COLUMNS = schema.names(schema.INDICATOR_COLUMNS)


def density(posts, population):
    """Conseillers per 10 000 inhabitants: the one formula of the project.

    Numbers or Series; NaN where the population is unknown or zero (never 0, never
    infinite). A DataFrame of posts (one column per month, say) with a Series of
    populations on its rows gives the density of each cell.
    """
    if isinstance(population, pd.Series):
        known = population.astype("Float64").astype(float)
        known = known.where(known > 0)
        if isinstance(posts, pd.DataFrame):
            return posts.astype(float).div(known, axis=0) * config.DENSITY_BASE
        return pd.Series(posts, index=known.index).astype(float) / known * config.DENSITY_BASE
    if population is None or pd.isna(population) or not population:
        return float("nan")
    return float(posts) / float(population) * config.DENSITY_BASE


# Indicators computed from the other figures of every EPCI (``schema.DERIVED_EPCI_COLUMNS``):
# column name → function of the situation's table of EPCI, one value per row.
EPCI_INDICATORS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {}


def epci_indicator(name: str):
    """Register the function computing the derived indicator ``name`` (its column
    declared in ``schema.DERIVED_EPCI_COLUMNS``)."""

    def register(function: Callable[[pd.DataFrame], pd.Series]):
        EPCI_INDICATORS[name] = function
        return function

    return register


def derived_indicators(table: pd.DataFrame) -> dict[str, pd.Series]:
    """The derived indicators declared in ``schema.DERIVED_EPCI_COLUMNS``, computed from
    ``table`` (every EPCI of a situation, every other column computed)."""
    return {c.name: EPCI_INDICATORS[c.name](table) for c in schema.DERIVED_EPCI_COLUMNS}


def posts_per_epci(matched: pd.DataFrame) -> pd.Series:
    """Posts located in each EPCI (by SIREN), whatever département they were counted in."""
    located = matched.loc[matched["statut"] == LOCATED]
    return located.groupby("siren_epci")["postes"].sum()


def state_funding(rows: pd.DataFrame) -> pd.Series:
    """The State's funding of each selection row, in euros: the national list's
    « Investissement financier estimatif total de l'Etat »; for a hand-typed row, its
    file's amount, else the list's for the same attribution (``pipeline.from_national``).
    NaN where nobody gives it (« montant non connu »): never a flat rate per post."""
    if "financement_etat_eur" not in rows:
        return pd.Series(np.nan, index=rows.index, dtype=float)
    return rows["financement_etat_eur"].astype(float)


def funding_per_epci(matched: pd.DataFrame) -> pd.Series:
    """State funding of the posts located in each EPCI (by SIREN), in euros; missing
    (never a partial sum) when the amount of one of its posts is not known."""
    located = matched.loc[matched["statut"] == LOCATED]
    groups = state_funding(located).groupby(located["siren_epci"])
    return groups.sum().mask(groups.count() < groups.size())


def _known_population(table: pd.DataFrame) -> pd.Series:
    """Population as floats; NaN where unknown or zero (ratios empty, not infinite)."""
    population = table["population"].astype("Float64").astype(float)
    return population.where(population > 0)


def epci_measures(
    table: pd.DataFrame, matched: pd.DataFrame, crs: int | None = None
) -> pd.DataFrame:
    """``postes`` (located in each EPCI, whatever département counted them), density,
    inhabitants per conseiller, area, inhabitants per km² and State funding of every
    EPCI of ``table`` (``siren_epci``, ``population``, geometry), in the situation of
    ``matched``: a département's EPCI in its report, every EPCI of France at each month
    in the panel (``analysis.panel``).

    The area is measured in ``crs`` (``config.metric_crs``), unless ``table`` already
    has ``surface_km2`` (the panel measures it once for all months).
    """
    table = table.copy()
    table["postes"] = table["siren_epci"].map(posts_per_epci(matched)).fillna(0).astype("int64")
    population = _known_population(table)
    posts = table["postes"].astype(float)
    table["conseillers_pour_10000_hab"] = density(posts, population)
    table["habitants_par_conseiller"] = (population / posts).where(posts > 0)
    if "surface_km2" not in table:
        table["surface_km2"] = table.geometry.to_crs(crs).area / 1e6
    table["habitants_par_km2"] = population / table["surface_km2"]
    # Whole euros, as the list gives them; 0 without a post, empty where not known.
    funding = table["siren_epci"].map(funding_per_epci(matched))
    funding = funding.where(table["postes"] > 0, 0.0)
    table["financement_etat_eur"] = funding.round().astype("Int64")
    return table


def epci_indicators(
    epci: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    matched: pd.DataFrame,
    departement: str,
) -> gpd.GeoDataFrame:
    """One row per EPCI with at least one commune in ``departement`` (``epci_measures``
    and ``departement_shares``), the columns of ``CSV_COLUMNS`` and the geometry.

    An EPCI reaching into other départements is kept whole (population, area,
    geometry): that is the territory its conseillers serve. The situation of the
    country (``analysis.situation``) measures every EPCI once and takes a département's
    rows from there; this function does the same for one département, in tests.
    """
    table = epci.rename(columns={"siren": "siren_epci", "nom": "nom_epci", "type": "type_epci"})
    current = communes.loc[(communes["type"] == "COM") & (communes["departement"] == departement)]
    table = table.loc[table["siren_epci"].isin(set(current["siren_epci"].dropna()))].copy()
    table["population"] = table["population"].astype("Int64")
    table = epci_measures(table, matched, config.metric_crs(departement))
    pop_in_dep = populations_in_departements(communes).loc[departement]
    table = departement_shares(table, pop_in_dep, departement_level_posts(matched, departement))
    table = table.sort_values("nom_epci").reset_index(drop=True)
    return table[CSV_COLUMNS + ["geometry"]]


def populations_in_departements(communes: pd.DataFrame) -> pd.Series:
    """Population of each EPCI in each département (index: département, SIREN), missing
    where a commune's population is unknown: the key that spreads a Conseil
    départemental's posts over its EPCI."""
    current = communes.loc[(communes["type"] == "COM") & communes["siren_epci"].notna()]
    return sum_or_missing(current["population"], [current["departement"], current["siren_epci"]])


def departement_shares(
    table: pd.DataFrame, pop_in_dep: pd.Series, departement_posts: int
) -> pd.DataFrame:
    """What the EPCI of ``table`` (measured by ``epci_measures``) are for one of their
    départements: ``population_dans_departement`` (``pop_in_dep``: by SIREN), and the
    posts of its Conseil départemental, which are not in ``postes``, spread pro rata to
    that population (the labelled variant ``*_avec_departementaux_repartis``)."""
    table = table.copy()
    table["population_dans_departement"] = table["siren_epci"].map(pop_in_dep).astype("Int64")
    population = _known_population(table)
    posts = table["postes"].astype(float)
    share = table["population_dans_departement"] / table["population_dans_departement"].sum()
    table["postes_departementaux_repartis"] = departement_posts * share
    table["postes_avec_departementaux_repartis"] = posts + table["postes_departementaux_repartis"]
    table["conseillers_pour_10000_hab_avec_departementaux_repartis"] = density(
        table["postes_avec_departementaux_repartis"], population
    )
    return table


def departement_level_posts(matched: pd.DataFrame, departement: str) -> int:
    rows = matched.loc[
        (matched["statut"] == DEPARTEMENT_LEVEL) & (matched["departement"] == departement)
    ]
    return int(rows["postes"].sum())


def reconciliation(
    matched: pd.DataFrame,
    departement: str,
    epci_sirens: list[str],
    rejected: pd.DataFrame | None = None,
) -> dict:
    """Where every post counted for ``departement`` went; asserts that nothing is lost.

    ``lus`` (posts counted for the département, as the ANCT counts them) =
    ``localises_dans_un_epci_du_departement`` + ``localises_hors_departement`` +
    ``departementaux`` + ``regionaux`` + ``non_localisables`` + ``en_revue`` +
    ``rejetes`` (rows set aside in tolerant mode, when their posts could be read).

    ``localises_dans_ses_epci`` is the other figure: posts located in the EPCI of the
    département, whatever département they were counted for. It equals
    ``localises_dans_un_epci_du_departement`` + ``venus_d_ailleurs``.
    """
    table = reconciliations(matched, {departement: list(epci_sirens)}, rejected)
    return {k: int(v) for k, v in table.loc[departement].items()}


def reconciliations(
    matched: pd.DataFrame,
    epci_by_departement: dict[str, list[str]],
    rejected: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``reconciliation`` of many départements at once: one row per code of
    ``epci_by_departement`` (code → SIREN of its EPCI), the counts in columns, in the
    order of ``reconciliation``'s dict. Raises ``ReconciliationError`` when a
    département's posts do not add up."""
    codes = list(epci_by_departement)
    pairs = pd.DataFrame(
        [(code, siren) for code, sirens in epci_by_departement.items() for siren in sirens],
        columns=["departement", "siren_epci"],
        dtype=object,
    )
    members = pd.MultiIndex.from_frame(pairs)
    status, counted, posts = matched["statut"], matched["departement"], matched["postes"]
    located = status == LOCATED
    inside = located & pd.MultiIndex.from_arrays(
        [counted.astype(object), matched["siren_epci"].astype(object)]
    ).isin(members)

    def per_code(mask: pd.Series) -> pd.Series:
        return posts.loc[mask].groupby(counted.loc[mask]).sum().reindex(codes, fill_value=0)

    out = pd.DataFrame(index=pd.Index(codes, name="departement"))
    out["lus"] = per_code(pd.Series(True, index=matched.index))
    out["localises_dans_un_epci_du_departement"] = per_code(inside)
    out["localises_hors_departement"] = per_code(located & ~inside)
    out["departementaux"] = per_code(status == DEPARTEMENT_LEVEL)
    out["regionaux"] = per_code(status == REGION_LEVEL)
    out["non_localisables"] = per_code(status == UNLOCATABLE)
    out["en_revue"] = per_code(status == REVIEW)
    out["rejetes"] = 0
    # Posts located in a département's EPCI but counted for another département.
    rows = matched.loc[located, ["departement", "siren_epci", "postes"]]
    served = rows.merge(pairs, on="siren_epci", suffixes=("_compte", ""))
    served = served.loc[served["departement_compte"] != served["departement"]]
    out["venus_d_ailleurs"] = (
        served.groupby("departement")["postes"].sum().reindex(codes, fill_value=0)
    )
    if rejected is not None and len(rejected):
        out["rejetes"] = (
            rejected.groupby("departement")["postes"].sum().reindex(codes, fill_value=0)
        )
        out["lus"] += out["rejetes"]
    out = out.astype("int64")
    accounted = out[ACCOUNTED].sum(axis=1)
    wrong = out.index[accounted != out["lus"]]
    if len(wrong):
        code = wrong[0]
        raise ReconciliationError(
            f"Rapprochement faux pour le département {code} : {out.at[code, 'lus']} postes "
            f"lus mais {accounted[code]} répartis ({out.loc[code].to_dict()})."
        )
    out["localises_dans_ses_epci"] = (
        out["localises_dans_un_epci_du_departement"] + out["venus_d_ailleurs"]
    )
    return out


# The categories that add up to the posts read for a département.
ACCOUNTED = [
    "localises_dans_un_epci_du_departement",
    "localises_hors_departement",
    "departementaux",
    "regionaux",
    "non_localisables",
    "en_revue",
    "rejetes",
]
# Every count of a reconciliation, in the order ``reconciliation`` gives them.
RECONCILIATION_COUNTS = ["lus", *ACCOUNTED, "venus_d_ailleurs", "localises_dans_ses_epci"]


def to_csv_frame(indicators: gpd.GeoDataFrame) -> pd.DataFrame:
    """The indicators as written to CSV: no geometry, rounded for readability (the
    decimals of ``analyse.schema``; 0 decimals: whole numbers, empty where unknown)."""
    # Columns declared in analyse.schema follow, when the indicators have them.
    declared = [c for c in schema.epci_names() if c in indicators.columns]
    return round_for_csv(pd.DataFrame(indicators[CSV_COLUMNS + declared]))


def round_for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` rounded to the decimals of ``analyse.schema`` (0: whole numbers, empty
    where unknown), as every CSV of the project writes it."""
    frame = frame.copy()
    for column, digits in schema.csv_decimals().items():
        if column in frame:
            frame[column] = np.round(frame[column].astype(float), digits)
            if digits == 0:
                frame[column] = frame[column].astype("Int64")
    return frame
