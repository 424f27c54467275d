"""The optional inputs of a run, read once and shared by every département's report.

The digital fragility index (IFN, ``--fragilite``), the places of mediation
(``--lieux``, ``--programmes``), the target density of the user's choice (``--cible``)
and the settings of the placement scenario (``--postes``): ``load_extras`` reads and
checks them into one ``Extras``; ``pipeline.prepare`` uses it for each département.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analyse.analysis.scenario import Settings
from analyse.errors import UserError
from analyse.read import sources
from analyse.read.files import content_sha256
from analyse.territory.fragility import IFN, IFNFileError, read_ifn
from analyse.territory.places import (
    DEFAULT_PROGRAMMES,
    locate_places,
    read_places,
    rejected_departement,
    split_outside,
)
from analyse.territory.reference import Reference


@dataclass
class Extras:
    """Optional national inputs of the gaps analysis, read once per run.

    ``places`` are the located places of mediation (``--lieux``); without them the
    town halls of the communes hosting a selected structure stand in for them.
    """

    ifn: IFN | None = None
    places: gpd.GeoDataFrame | None = None
    places_rejected: pd.DataFrame | None = None
    sources: list[dict] = field(default_factory=list)  # file, sha256, what it is
    editions: list[str] = field(default_factory=list)  # in French: which data, which edition
    custom_target: float | None = None  # --cible, conseillers per 10 000 inhabitants
    # Format of the places file and the programmes kept (places.read_places).
    places_selection: dict = field(default_factory=dict)
    scenario: Settings | None = None  # --postes: where the next posts should go


def load_extras(
    reference: Reference,
    fragility_paths: Iterable[Path] | None = None,
    places_path: Path | None = None,
    custom_target: float | None = None,
    programmes: tuple[str, ...] | None = DEFAULT_PROGRAMMES,
) -> Extras:
    """Read the IFN files and the places file given on the command line (if any);
    of today's national places file, the places of ``programmes`` (None: all)."""
    if custom_target is not None and not (math.isfinite(custom_target) and custom_target > 0):
        raise UserError(
            f"--cible « {custom_target} » : la densité cible doit être un nombre positif et "
            "fini, en conseillers pour 10 000 habitants (par exemple 1.0)."
        )
    extras = Extras(custom_target=custom_target)
    fragility_paths = list(fragility_paths or [])
    extras.editions = [
        sources.describe_fragility(fragility_paths),
        sources.describe_places(places_path),
    ]
    if fragility_paths:
        communes_csv, epci_csv = find_ifn_files(list(fragility_paths))
        extras.ifn = read_ifn(communes_csv, epci_csv)
        for path, what in ((communes_csv, "IFN par commune"), (epci_csv, "IFN par EPCI")):
            extras.sources.append(
                {"fichier": sources.relative(path), "sha256": content_sha256(path), "contenu": what}
            )
    if places_path is not None:
        places, rejected = read_places(Path(places_path), programmes, extras.places_selection)
        located = locate_places(places, reference.communes, reference.postal_codes)
        extras.places, outside = split_outside(located)
        rejected = pd.concat([rejected, outside], ignore_index=True)
        rejected["departement"] = rejected_departement(
            rejected, reference.postal_codes, reference.communes
        )
        extras.places_rejected = rejected
        extras.sources.append(
            {
                "fichier": sources.relative(places_path),
                "sha256": content_sha256(Path(places_path)),
                "contenu": "lieux de médiation numérique",
            }
        )
    return extras


def find_ifn_files(paths: list[Path]) -> tuple[Path, Path]:
    """The commune and EPCI files of the IFN: both files, a folder holding them (files
    with « ifn » in their name), or the commune file alone with its EPCI twin beside it
    (``ifn-communes-2023.csv`` → ``ifn-epci-2023.csv``)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted([*path.glob("*ifn*.csv"), *path.glob("*ifn*.csv.gz")]))
        else:
            files.append(path)
    if len(files) == 1 and "commune" in files[0].name:
        files.append(files[0].with_name(files[0].name.replace("communes", "epci")))
    epci = [f for f in files if "epci" in f.name.lower()]
    communes = [f for f in files if "epci" not in f.name.lower()]
    if len(epci) != 1 or len(communes) != 1:
        raise IFNFileError(
            "--fragilite attend les deux fichiers de l'indice (par commune et par EPCI, "
            f"« epci » dans le nom du second) ou leur dossier ; reçu : "
            f"{', '.join(str(f) for f in files) or 'aucun fichier .csv'}."
        )
    return communes[0], epci[0]
