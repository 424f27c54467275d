"""Compare each EPCI with similar territories nationally.

« Comparable » EPCI are those of the same kind (CC, CA, CU, métropole: ``type`` of the
reference) and of the same class of population density (``config.EPCI_DENSITY_CLASSES``,
inhabitants per km² of the whole EPCI). For each EPCI of a report: the median density
of conseillers of the EPCI of its kind, and of its kind and class. An EPCI of unknown
population is left out of the medians and gets none.

One density, one class: the class of an EPCI is that of the inhabitants per km² its
report shows beside it (``habitants_par_km2``: its area in the metric projection of its
first département, Lambert-93 in mainland France, ``indicators.epci_measures``), and the
same class groups the medians and looks its own median up (``national_epci_table`` gives
every EPCI's class once; ``comparable_medians`` reads it). An equal-area projection of
the globe would differ by less than 0.1 %, but then an EPCI shown at 150,00 hab./km²
(CC du Pays d'Iroise: 149,89 in EPSG:6933) would be grouped with the intermediate ones
while labelled « dense »: the class must be the one a reader can check.

The medians need the selections of the whole country: the national list read back to
the report's date (``pipeline.national_list_at``), whatever files the département's own
figures come from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyse import config
from analyse.analysis.indicators import density, posts_per_epci
from analyse.wording import fmt_number

KIND_LABELS = {
    "CC": "communautés de communes",
    "CA": "communautés d'agglomération",
    "CU": "communautés urbaines",
    "ME": "métropoles",
}


def density_class(per_km2: pd.Series) -> pd.Series:
    """Class label of each density (inhabitants per km²); empty when unknown."""
    bounds = [low for low, _, _ in config.EPCI_DENSITY_CLASSES] + [np.inf]
    labels = [label for _, _, label in config.EPCI_DENSITY_CLASSES]
    classes = pd.cut(per_km2.astype(float), bounds, right=False, labels=labels)
    return classes.astype(object).where(classes.notna(), "")


def definition() -> str:
    """The definition of « comparable », as written in the report."""
    classes = " ; ".join(label for _, _, label in config.EPCI_DENSITY_CLASSES)
    return (
        "Sont comparables les intercommunalités de même nature (communauté de communes, "
        "d'agglomération, urbaine, métropole) et de même classe de densité de population "
        f"(habitants par km² de toute l'intercommunalité : {classes}), dans toute la "
        "France ; la valeur donnée est leur médiane de conseillers pour "
        f"{fmt_number(config.DENSITY_BASE)} habitants (la moitié des comparables est "
        "au-dessus, l'autre au-dessous)."
    )


def national_epci_table(epci: pd.DataFrame, matched: pd.DataFrame) -> pd.DataFrame:
    """Every EPCI of France: ``siren``, ``type``, ``classe_densite`` and its density of
    conseillers in ``matched``. ``epci``: every EPCI measured (``siren_epci``,
    ``type_epci``, ``population``, ``habitants_par_km2``: ``indicators.epci_measures``),
    whose density of population gives the class (see the module)."""
    table = pd.DataFrame(
        {
            "siren": epci["siren_epci"].to_numpy(),
            "type": epci["type_epci"].to_numpy(),
            "population": epci["population"].to_numpy(),
            "classe_densite": density_class(epci["habitants_par_km2"]).to_numpy(),
        }
    )
    population = table["population"].astype("Float64").astype(float)
    population = population.where(population > 0)
    posts = table["siren"].map(posts_per_epci(matched)).fillna(0)
    table["densite"] = density(posts, population)
    return table


def comparable_medians(
    indicators: pd.DataFrame, national: pd.DataFrame, covers_country: bool
) -> pd.DataFrame:
    """``classe_densite``, ``densite_mediane_meme_type``, ``densite_mediane_comparables``
    and ``ecart_comparables`` (density minus the comparables' median) per EPCI of
    ``indicators``, in its order."""
    out = pd.DataFrame(index=indicators.index)
    # The class that groups the medians, the one shown, the one looked up: one class.
    out["classe_densite"] = indicators["siren_epci"].map(
        national.drop_duplicates("siren").set_index("siren")["classe_densite"]
    )
    if not covers_country:
        for column in ("densite_mediane_meme_type", "densite_mediane_comparables"):
            out[column] = np.nan
    else:
        known = national.dropna(subset=["densite"])
        by_kind = known.groupby("type")["densite"].median()
        by_both = known.groupby(["type", "classe_densite"])["densite"].median()
        out["densite_mediane_meme_type"] = indicators["type_epci"].map(by_kind)
        keys = list(zip(indicators["type_epci"], out["classe_densite"], strict=True))
        out["densite_mediane_comparables"] = [by_both.get(k, np.nan) for k in keys]
    density = indicators["conseillers_pour_10000_hab"].astype(float)
    out["ecart_comparables"] = density - out["densite_mediane_comparables"].astype(float)
    return out
