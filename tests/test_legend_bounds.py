"""Map legends state their class bounds the way the classes are computed: a value on a
bound reads in exactly one class."""

from __future__ import annotations

import pandas as pd

from analyse.render import maps


def test_density_on_a_bound_is_in_the_class_that_says_so():
    classes, labels = maps.density_classes(pd.Series([0.25, 0.5, 0.51, 2.0, 2.01]))
    named = [labels[c] for c in classes]
    assert named == [
        "jusqu'à 0,25",
        "plus de 0,25 et jusqu'à 0,5",
        "plus de 0,5 et jusqu'à 1",
        "plus de 1 et jusqu'à 2",
        "plus de 2",
    ]


def test_distance_labels_say_which_side_is_closed():
    assert maps.range_labels(maps.DISTANCE_BINS_KM, " km") == [
        "jusqu'à 5 km",
        "plus de 5 et jusqu'à 10 km",
        "plus de 10 et jusqu'à 20 km",
        "plus de 20 et jusqu'à 30 km",
        "plus de 30 km",
    ]
