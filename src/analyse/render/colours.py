"""Colours and density classes of the maps, without matplotlib.

The report's maps (``maps.py``) draw with these colours; the exports (the interactive
map) and the monthly index use them too, and must not pay for importing matplotlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyse import config
from analyse.wording import fmt_number

NO_POST_COLOUR = "#d9d9d9"
NO_POST_LABEL = "aucun conseiller"
# A territory of unknown population has no density: neither "no post" nor a class.
UNKNOWN_CLASS = -2
UNKNOWN_COLOUR = "#ffffff"
UNKNOWN_LABEL = "population inconnue"
# ColorBrewer YlGnBu sampled at 0.2 … 0.95 (five classes): sequential, readable by
# colour-blind people and in grey print. tests/test_maps.py checks them against matplotlib.
CLASS_COLOURS_MAP = "YlGnBu"
CLASS_COLOURS_RANGE = (0.2, 0.95)
CLASS_COLOURS = ["#d6efb3", "#78cbbc", "#2b9fc2", "#2259a6", "#13266f"]


def class_colour(density_class: int) -> str:
    """Fill colour of a class of ``density_classes``."""
    if density_class == UNKNOWN_CLASS:
        return UNKNOWN_COLOUR
    return NO_POST_COLOUR if density_class < 0 else CLASS_COLOURS[density_class]


def range_labels(bins: list[float], unit: str = "") -> list[str]:
    """French class labels for explicit upper bounds, said the way the classes are
    computed (each upper bound inclusive, ``searchsorted(side="left")``): 'jusqu'à 5 km',
    'plus de 5 et jusqu'à 10 km'… 'plus de 30 km'; a value on a bound is never in doubt."""
    edges = [fmt_number(b, 2).rstrip("0").rstrip(",") for b in bins]
    labels = [f"jusqu'à {edges[0]}{unit}"]
    labels += [
        f"plus de {a} et jusqu'à {b}{unit}" for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    labels.append(f"plus de {edges[-1]}{unit}")
    return labels


def density_classes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Class of each density (−1 for no post, ``UNKNOWN_CLASS`` for an unknown density)
    and the French label of each class."""
    bins = [*config.DENSITY_BINS, np.inf]
    values = values.astype(float).to_numpy()
    classes = np.full(len(values), -1)
    classes[np.isnan(values)] = UNKNOWN_CLASS
    positive = values > 0
    # Upper bounds are inclusive (0,5 is in "plus de 0,25 et jusqu'à 0,5"). The bins are fixed, not
    # computed from the data, so that every département's map reads the same way.
    classes[positive] = np.searchsorted(bins, values[positive], side="left")
    return classes, range_labels(config.DENSITY_BINS)
