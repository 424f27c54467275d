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


def priority(indicators: pd.DataFrame, national_target: float) -> pd.DataFrame:
    """Score (0 to 100) and rank of each EPCI; 1 is the most urgent.

    Uses ``conseillers_pour_10000_hab``, ``population`` and, when present, ``ifn`` and
    ``config.FAR_COLUMN`` (a missing distance counts as no remoteness). An EPCI of
    unknown population has no density: it gets neither score nor rank.
    """
    deficit = (national_target - indicators["conseillers_pour_10000_hab"]) / national_target
    terms = {"deficit": deficit.clip(lower=0, upper=1)}
    if "ifn" in indicators and indicators["ifn"].notna().any():
        terms["fragilite"] = ((indicators["ifn"] - 1) / 9).clip(0, 1).fillna(0)
    if config.FAR_COLUMN in indicators:
        remote = indicators[config.FAR_COLUMN].astype(float) / _population(indicators)
        terms["eloignement"] = remote.fillna(0).clip(0, 1)
    total_weight = sum(WEIGHTS[name] for name in terms)
    score = sum(WEIGHTS[name] / total_weight * values for name, values in terms.items())
    known = _population(indicators).gt(0) & indicators["conseillers_pour_10000_hab"].notna()
    score = score.where(known)
    out = pd.DataFrame({"score_priorite": (100 * score).round(1)}, index=indicators.index)
    # Ties broken by population: the larger population first.
    order = pd.DataFrame({"s": out["score_priorite"], "p": _population(indicators)})
    ranked = order.loc[known].sort_values(["s", "p"], ascending=[False, False])
    rank = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index)
    out["rang_priorite"] = rank.reindex(indicators.index).astype("Int64")
    return out


def gaps_table(
    indicators: pd.DataFrame,
    national_target: float,
    departement_target: float,
    custom_target: float | None = None,
) -> pd.DataFrame:
    """The gaps table of a département: one row per EPCI, most urgent first."""
    table = indicators.copy()
    table["postes_manquants_cible_nationale"] = posts_missing(table, national_target)
    table["postes_manquants_cible_departementale"] = posts_missing(table, departement_target)
    if custom_target is not None:
        table["postes_manquants_cible_choisie"] = posts_missing(table, custom_target)
    table = table.join(priority(table, national_target))
    # EPCI without a rank (unknown population) come last.
    return table.sort_values("rang_priorite", na_position="last").reset_index(drop=True)
