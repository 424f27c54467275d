"""Compare each EPCI with similar territories nationally.

« Comparable » EPCI are those of the same kind (CC, CA, CU, métropole: ``type`` of the
reference) and of the same class of population density (``config.EPCI_DENSITY_CLASSES``,
inhabitants per km² of the whole EPCI). For each EPCI of a report: the median density
of conseillers of the EPCI of its kind, and of its kind and class. An EPCI of unknown
population is left out of the medians and gets none.

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


def epci_areas_km2(epci) -> pd.Series:
    """Area of every EPCI in km², in an equal-area projection of the whole globe."""
    return epci.geometry.to_crs(config.EQUAL_AREA_CRS).area / 1e6


def national_epci_table(
    epci, matched: pd.DataFrame, areas_km2: pd.Series | None = None
) -> pd.DataFrame:
    """Every EPCI of France: ``siren``, ``type``, ``classe_densite`` and its density.

    ``areas_km2`` (``epci_areas_km2``) may be given when several months share them."""
    table = pd.DataFrame(epci[["siren", "type", "population"]]).copy()
    population = table["population"].astype("Float64").astype(float)
    population = population.where(population > 0)
    areas = areas_km2 if areas_km2 is not None else epci_areas_km2(epci)
    area_km2 = areas.to_numpy()
    table["classe_densite"] = density_class(pd.Series(population.to_numpy() / area_km2))
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
    out["classe_densite"] = density_class(indicators["habitants_par_km2"])
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
