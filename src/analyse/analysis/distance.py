"""Distance from each commune to the nearest place where a conseiller works.

Distances are straight lines in metres, from the commune's town hall (a point inside
the commune when the town hall is unknown) to the nearest place, in the metric CRS of
the département (``config.metric_crs``). They understate travel in mountain areas: a
commune 12 km away as the crow flies can be 40 minutes by road. They are a floor, not
a travel time.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analyse import config
from analyse.territory.places import town_hall_points

# Places are first searched within this distance of the communes' bounding box; a
# commune whose nearest place lies farther is searched again among all places.
SEARCH_RADIUS_M = 100_000

DEFAULT_THRESHOLDS_KM = config.DISTANCE_THRESHOLDS_KM

# Columns of the communes kept in the result, when present.
_COMMUNE_COLUMNS = ["insee", "nom", "departement", "siren_epci", "population"]


def _points(communes: gpd.GeoDataFrame) -> tuple[gpd.GeoSeries, pd.Series]:
    """Town hall of each commune (or a point inside it) and which of the two it is."""
    if {"mairie_lon", "mairie_lat"} <= set(communes.columns):
        points = town_hall_points(communes)
        known = communes["mairie_lon"].notna() & communes["mairie_lat"].notna()
    else:
        points = communes.geometry.to_crs(config.GEOGRAPHIC_CRS).representative_point()
        known = pd.Series(False, index=communes.index)
    kind = pd.Series(np.where(known, "mairie", "point intérieur"), index=communes.index)
    return points, kind


def _places_near(places: gpd.GeoDataFrame, bounds: np.ndarray, crs: int) -> gpd.GeoDataFrame:
    """Places within ``SEARCH_RADIUS_M`` of a bounding box given in ``crs``."""
    xmin, ymin, xmax, ymax = bounds
    r = SEARCH_RADIUS_M
    area = shapely.segmentize(shapely.box(xmin - r, ymin - r, xmax + r, ymax + r), 10_000)
    area_4326 = gpd.GeoSeries([area], crs=crs).to_crs(places.crs).iloc[0]
    return places.iloc[places.sindex.query(area_4326, predicate="intersects")]


def _nearest(points: gpd.GeoDataFrame, places: gpd.GeoDataFrame, crs: int) -> pd.DataFrame:
    """Nearest place of each point (both projected to ``crs``)."""
    projected = places.to_crs(crs)
    # A place far outside the CRS's area (another ocean) may not project at all.
    finite = np.isfinite(projected.geometry.x) & np.isfinite(projected.geometry.y)
    projected = projected.loc[finite]
    joined = gpd.sjoin_nearest(
        points.to_crs(crs),
        projected[["id_lieu", "nom_lieu", "geometry"]],
        distance_col="distance_m",
    )
    # Equidistant places give several rows: keep one, the same on every run.
    joined = joined.sort_values(["distance_m", "id_lieu"], kind="stable")
    joined = joined.loc[~joined.index.duplicated(keep="first")]
    return joined[["distance_m", "id_lieu", "nom_lieu"]]


def nearest_place(communes: gpd.GeoDataFrame, places: gpd.GeoDataFrame, crs: int) -> pd.DataFrame:
    """Straight-line distance from every commune to its nearest place.

    ``communes``: current communes (reference columns; ``mairie_lon``/``mairie_lat``
    used when present). ``places``: every place (``id``, ``nom``, point geometry), those
    of neighbouring départements included: pass them all, they are narrowed here.
    ``crs``: metric EPSG code (``config.metric_crs(departement)``).

    Returns one row per commune, same index and order, with the columns among
    ``insee, nom, departement, siren_epci, population`` that ``communes`` has, then
    ``distance_m`` (metres; empty for a commune without any point, infinite when there
    is no place at all), ``id_lieu`` and ``nom_lieu`` of the nearest place, and
    ``point_commune`` (« mairie » or « point intérieur »: where the distance starts).
    """
    points, kind = _points(communes)
    out = pd.DataFrame(communes[[c for c in _COMMUNE_COLUMNS if c in communes]]).copy()
    out["distance_m"] = np.nan
    out["id_lieu"] = None
    out["nom_lieu"] = None
    out["point_commune"] = kind

    has_point = points.notna() & ~points.is_empty
    if not has_point.any():
        return out
    candidates = gpd.GeoDataFrame(
        {"id_lieu": places["id"].astype(str).to_numpy(), "nom_lieu": places["nom"].to_numpy()},
        geometry=places.geometry.to_crs(config.GEOGRAPHIC_CRS).to_numpy(),
        crs=config.GEOGRAPHIC_CRS,
    )
    candidates = candidates.loc[candidates.geometry.notna() & ~candidates.geometry.is_empty]
    if candidates.empty:
        out.loc[has_point, "distance_m"] = np.inf
        return out

    origin = gpd.GeoDataFrame(geometry=points[has_point])
    bounds = origin.to_crs(crs).total_bounds
    near = _places_near(candidates, bounds, crs)
    found = _nearest(origin, near, crs) if len(near) else None
    # A nearest place beyond the search radius may hide a nearer one outside the box:
    # those communes (or all, if the box held no place) are searched among all places.
    if found is None or (found["distance_m"] > SEARCH_RADIUS_M).any():
        redo = origin if found is None else origin.loc[found["distance_m"] > SEARCH_RADIUS_M]
        again = _nearest(redo, candidates, crs)
        found = again if found is None else pd.concat([found.drop(again.index), again])
    out.loc[found.index, ["distance_m", "id_lieu", "nom_lieu"]] = found[
        ["distance_m", "id_lieu", "nom_lieu"]
    ]
    out["distance_m"] = out["distance_m"].astype(float)
    return out


def population_beyond(
    communes_with_distance: pd.DataFrame, thresholds_km=DEFAULT_THRESHOLDS_KM
) -> tuple[pd.DataFrame, dict]:
    """Population living farther than each threshold from the nearest place.

    ``communes_with_distance`` is the result of ``nearest_place`` (columns
    ``siren_epci``, ``population``, ``distance_m``). A commune counts beyond a threshold
    when its distance is strictly greater. Returns:

    - per EPCI (``siren_epci``; empty for communes outside any EPCI): ``population`` of
      the given communes (not the whole EPCI when it spans several départements),
      ``population_au_dela_10km`` … one column per threshold, and
      ``population_sans_distance`` (communes without a point, counted nowhere else);
    - the same figures for all the given communes, as a dict. They are sums over the
      communes, so they equal the sums of the EPCI rows.
    """
    population = communes_with_distance["population"].fillna(0).astype("int64")
    distance = communes_with_distance["distance_m"].astype(float)
    frame = pd.DataFrame(
        {"siren_epci": communes_with_distance["siren_epci"], "population": population}
    )
    for threshold in thresholds_km:
        frame[config.beyond_column(threshold)] = population.where(distance > threshold * 1000, 0)
    frame["population_sans_distance"] = population.where(distance.isna(), 0)
    per_epci = frame.groupby("siren_epci", dropna=False, sort=True).sum().reset_index()
    totals = {column: int(frame[column].sum()) for column in frame.columns[1:]}
    return per_epci, totals
