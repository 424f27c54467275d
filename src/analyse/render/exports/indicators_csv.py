"""``indicateurs_epci.csv``: the indicators of each EPCI for spreadsheets and scripts."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from analyse.analysis.bundle import situation_day
from analyse.analysis.indicators import to_csv_frame
from analyse.atomic import atomic_path


def write_indicators_csv(
    indicators: gpd.GeoDataFrame, target: Path, situation: dict | None = None
) -> None:
    """UTF-8, ``,`` separator, ``.`` decimals; its first column, ``date_situation``, is
    the date the figures describe (``analysis.bundle.situation_day``)."""
    frame = to_csv_frame(indicators)
    frame.insert(0, "date_situation", situation_day(situation))
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")
