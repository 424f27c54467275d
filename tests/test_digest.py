"""The one key rule (``analyse.digest.key``): the same content gives the same key, any
change of it another, whatever the kind of value."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from analyse import digest


def test_the_key_follows_the_content_of_every_kind_of_input():
    frame = pd.DataFrame({"code": ["05", "38"], "postes": [1, 2]})
    points = gpd.GeoSeries([shapely.Point(1, 2), shapely.Point(3, 4)], crs=4326)
    lists = pd.Series([[1, 2], {"a": 1}])  # cells pandas cannot hash
    parts = (frame, points, pd.Series(points.array), lists, b"octets", ("05", 2), {"x": 1})
    same = digest.key("essai", *parts)
    assert same == digest.key("essai", frame.copy(), points.copy(), *parts[2:])
    assert len(same) == 64 and same != digest.key("autre", *parts)
    changed = [
        (frame.assign(postes=[1, 3]), *parts[1:]),
        (frame, points.translate(1), *parts[2:]),
        (*parts[:3], pd.Series([[1, 3], {"a": 1}]), *parts[4:]),
        (*parts[:4], b"autres", *parts[5:]),
    ]
    assert len({digest.key("essai", *p) for p in changed} | {same}) == 5


def test_the_code_digest_is_the_package_and_its_libraries():
    assert digest.code_digest() == digest.code_digest() and len(digest.code_digest()) == 64
