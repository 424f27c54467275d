"""Coverage gaps: posts missing to reach a target density, and a priority score per EPCI.

Pure functions on the indicators table (one row per EPCI). The score's formula is a
constant here so that the report can print exactly what was computed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyse import config

# Weights of the priority score (they add up to 1). Without the fragility index, its
# weight is shared between the two other terms, in proportion.
WEIGHTS = {"deficit": 0.5, "fragilite": 0.25, "eloignement": 0.25}


def _weight(name: str, weights: dict[str, float]) -> str:
    return f"{weights[name]:g}".replace(".", ",")


def score_formula(weights: dict[str, float] = WEIGHTS) -> str:
    """The priority score's formula in French, written from the weights it uses."""
    return (
        f"score = 100 × ({_weight('deficit', weights)} × déficit de densité + "
        f"{_weight('fragilite', weights)} × fragilité numérique + "
        f"{_weight('eloignement', weights)} × éloignement), où déficit de densité = "
        "max(0, cible nationale − densité) ÷ cible nationale, fragilité numérique = "
        "(IFN − 1) ÷ 9 (IFN de 1 à 10) et "
        f"éloignement = part de la population à plus de {config.FAR_KM} km d'un lieu de médiation. "
        "Un terme absent (indice non fourni) voit son poids réparti entre les autres."
    )


SCORE_FORMULA = score_formula()


def _population(indicators: pd.DataFrame) -> pd.Series:
    """Population as floats, NaN where it is unknown."""
    return indicators["population"].astype("Float64").astype(float)


def posts_missing(indicators: pd.DataFrame, target: float) -> pd.Series:
    """Whole posts each EPCI lacks to reach ``target`` conseillers per 10 000 inhabitants
    (missing where the population, or the target, is unknown)."""
    needed = target * _population(indicators) / config.DENSITY_BASE
    shortfall = needed - indicators["postes"].astype(float)
    # A tiny tolerance so that an EPCI exactly at the target does not "miss" one post.
    missing = np.ceil(shortfall - 1e-9).clip(lower=0)
    return pd.Series(missing, index=indicators.index).round().astype("Int64")


def priority_score(indicators: pd.DataFrame, national_target: float) -> pd.Series:
    """Score (0 to 100) of each EPCI; the higher, the more urgent.

    Uses ``conseillers_pour_10000_hab``, ``population`` and, when present, ``ifn`` and
    ``config.FAR_COLUMN`` (a missing distance counts as no remoteness). An EPCI of
    unknown population has no density: it gets no score.
    """
    deficit = (national_target - indicators["conseillers_pour_10000_hab"]) / national_target
    terms = pd.DataFrame({"deficit": deficit.clip(lower=0, upper=1)}, index=indicators.index)
    if "ifn" in indicators:
        terms["fragilite"] = ((indicators["ifn"].astype(float) - 1) / 9).clip(0, 1)
    if config.FAR_COLUMN in indicators:
        remote = indicators[config.FAR_COLUMN].astype(float) / _population(indicators)
        terms["eloignement"] = remote.fillna(0).clip(0, 1)
    # Each EPCI's own weights: an index the file does not give for it (its IFN) is an
    # absent term, whose weight the others share, as the printed formula says.
    weights = pd.DataFrame({name: float(WEIGHTS[name]) for name in terms}, index=terms.index)
    weights = weights.where(terms.notna() | (terms.columns == "deficit"), 0.0)
    score = (terms.fillna(0) * weights).sum(axis=1) / weights.sum(axis=1)
    score = score.where(_scored(indicators))
    return (100 * score).round(1).rename("score_priorite")


def _scored(indicators: pd.DataFrame) -> pd.Series:
    """EPCI with a density (known, non-zero population): those scored and ranked."""
    return _population(indicators).gt(0) & indicators["conseillers_pour_10000_hab"].notna()


def priority_rank(indicators: pd.DataFrame) -> pd.Series:
    """Rank of each EPCI of ``indicators`` by ``score_priorite``; 1 is the most urgent.
    Ties broken by population: the larger population first. No score, no rank."""
    known = _scored(indicators) & indicators["score_priorite"].notna()
    order = pd.DataFrame({"s": indicators["score_priorite"], "p": _population(indicators)})
    ranked = order.loc[known].sort_values(["s", "p"], ascending=[False, False])
    rank = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index)
    return rank.reindex(indicators.index).astype("Int64").rename("rang_priorite")


def priority(indicators: pd.DataFrame, national_target: float) -> pd.DataFrame:
    """Score (0 to 100) and rank of each EPCI of ``indicators``; 1 is the most urgent."""
    out = pd.DataFrame({"score_priorite": priority_score(indicators, national_target)})
    out["rang_priorite"] = priority_rank(indicators.assign(score_priorite=out["score_priorite"]))
    return out


def departement_gaps(
    rows: pd.DataFrame, departement_target: float, custom_target: float | None = None
) -> pd.DataFrame:
    """The gaps table of a département: its EPCI with their figures of the country
    (``postes_manquants_cible_nationale``, ``score_priorite``), the posts each lacks to
    reach the département's own density (and the chosen one), and their rank within the
    département, most urgent first."""
    table = rows.drop(columns=["postes_manquants_cible_nationale", "score_priorite"])
    table["postes_manquants_cible_nationale"] = rows["postes_manquants_cible_nationale"]
    table["postes_manquants_cible_departementale"] = posts_missing(table, departement_target)
    if custom_target is not None:
        table["postes_manquants_cible_choisie"] = posts_missing(table, custom_target)
    table["score_priorite"] = rows["score_priorite"]
    table["rang_priorite"] = priority_rank(table)
    # EPCI without a rank (unknown population) come last.
    return table.sort_values("rang_priorite", na_position="last").reset_index(drop=True)


def gaps_table(
    indicators: pd.DataFrame,
    national_target: float,
    departement_target: float,
    custom_target: float | None = None,
) -> pd.DataFrame:
    """``departement_gaps`` of EPCI not yet measured against the national target."""
    table = indicators.copy()
    table["postes_manquants_cible_nationale"] = posts_missing(table, national_target)
    table["score_priorite"] = priority_score(table, national_target)
    return departement_gaps(table, departement_target, custom_target)
