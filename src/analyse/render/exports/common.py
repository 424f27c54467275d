"""What the three analyst exports share: values made plain, WGS 84."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np

from analyse import config


def is_container(value: object) -> bool:
    return isinstance(value, list | tuple | set | frozenset | dict | np.ndarray)


def container_text(value: object) -> object:
    """Lists become ``a, b, c`` and dicts JSON: a GeoPackage field holds one value."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, np.ndarray | list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return value


def to_wgs84(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError(f"La couche « {what} » n'a pas de système de coordonnées (CRS).")
    return frame.to_crs(config.GEOGRAPHIC_CRS)
