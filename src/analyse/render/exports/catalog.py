"""The analysts' files written beside each report, declared once: name, file name, writer.

``run.report`` writes every ``Export`` of ``EXPORTS`` from the saved bundle, in a thread
beside the notebook, under a staging name, then renames them into place; ``ReportFiles``
names them after ``Export.name``. Adding a file for the analysts: its writer (a module of
this package) and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from analyse import config
from analyse.analysis.bundle import Prepared, situation_day
from analyse.atomic import naming
from analyse.render.exports.geopackage import write_geopackage
from analyse.render.exports.indicators_csv import (
    write_indicators_csv,
    write_indicators_datapackage,
)
from analyse.render.exports.interactive_map import write_interactive_map
from analyse.render.exports.workbook import write_workbook


@dataclass(frozen=True)
class Export:
    """One file written beside each report."""

    name: str  # attribute of ``run.report.ReportFiles``
    file_name: str  # in the report's folder
    write: Callable[[Prepared, Path, str], None]  # (bundle, target, report's title)
    description: str = ""  # in French


def situation_metadata(title: str, situation: dict | None) -> dict[str, str]:
    """What the GeoPackage and the workbook say about their date: the report's title and
    the date its figures describe (AAAA-MM-JJ, and in words)."""
    from analyse.wording import situation_title

    return {
        "titre": title,
        "date_situation": situation_day(situation),
        "situation": situation_title(situation),
    }


def _csv(prepared: Prepared, target: Path, title: str) -> None:
    write_indicators_csv(prepared.indicators, target, prepared.context.get("situation"))


def _datapackage(prepared: Prepared, target: Path, title: str) -> None:
    write_indicators_datapackage(prepared.indicators, target, prepared.context, title)


def _workbook(prepared: Prepared, target: Path, title: str) -> None:
    file_given = prepared.context.get("lieux_source") == "fichier"
    write_workbook(
        target,
        prepared.indicators,
        prepared.gaps,
        prepared.review,
        prepared.places_rejected if file_given else None,
        proposals=prepared.propositions,
        trajectory=prepared.trajectory,
        metadata=situation_metadata(title, prepared.context.get("situation")),
    )


def _geopackage(prepared: Prepared, target: Path, title: str) -> None:
    write_geopackage(
        target,
        prepared.gaps_geo,
        prepared.communes,
        prepared.places,
        proposals=prepared.propositions,
        metadata=situation_metadata(title, prepared.context.get("situation")),
    )


def _interactive_map(prepared: Prepared, target: Path, title: str) -> None:
    write_interactive_map(
        target, prepared.gaps_geo, prepared.places, title, proposals=prepared.propositions
    )


EXPORTS: tuple[Export, ...] = (
    Export("csv", config.CSV_NAME, _csv, "indicateurs de chaque EPCI (CSV)"),
    Export(
        "datapackage",
        config.DATAPACKAGE_NAME,
        _datapackage,
        "description du CSV : types, intitulés, unités, clé (Frictionless)",
    ),
    Export("workbook", config.WORKBOOK_NAME, _workbook, "classeur des tableaux"),
    Export("geopackage", config.GEOPACKAGE_NAME, _geopackage, "couches pour QGIS"),
    Export("interactive_map", config.MAP_NAME, _interactive_map, "carte interactive"),
)


def export_paths(folder: Path) -> dict[str, Path]:
    """Where each export of a report in ``folder`` goes, by ``Export.name``."""
    return {export.name: Path(folder) / export.file_name for export in EXPORTS}


def write_exports(prepared: Prepared, paths: Mapping[str, Path], title: str) -> None:
    """Write every export to ``paths`` (by ``Export.name``), each atomically; a full
    disk names the file being written."""
    for export in EXPORTS:
        with naming(paths[export.name]):
            export.write(prepared, paths[export.name], title)
