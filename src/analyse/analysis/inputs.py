"""The input datasets of a run, declared once, and the optional ones read once for all.

``INPUTS`` is the registry of the open data the analysis reads: for each, its name, its
default files (the copies embedded in ``data/raw/embarque/``), their edition, licence and
description (``data/raw/SOURCES.md`` says the same, a test checks it), the reader that
loads it into ``Extras`` and its command-line options. The command's options
(``--<nom>`` and ``--sans-<nom>``), the « Données utilisées » line and ``load_extras``
all read it: adding an input is its files (with their row in SOURCES.md), its reader,
and one entry here.

The national list of selections is declared here for its embedded copy; its option
(``--selections``) and its editions are ``read.sources``'s, because its default depends
on the command.

``load_extras`` reads the optional inputs (IFN ``--fragilite``, places ``--lieux`` and
``--programmes``), the target density of the user's choice (``--cible``) and the
settings of the placement scenario (``--postes``) into one ``Extras``;
``analysis.situation`` computes the country with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analyse import config
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
    # --programmes: the national programmes of the places counted (None: every place).
    programmes: tuple[str, ...] | None = DEFAULT_PROGRAMMES
    # What the reader of an input of ``INPUTS`` without an attribute of its own loaded,
    # by the input's name.
    loaded: dict = field(default_factory=dict)


# What a reader returns: each file it read and what it is, in French (the report's
# footer lists them with their checksum).
FilesRead = list[tuple[Path, str]]


@dataclass(frozen=True)
class Option:
    """The command-line options of an input: ``--<nom>`` and ``--sans-<nom>``."""

    metavar: str
    help: str  # of --<nom>
    off_help: str  # of --sans-<nom>
    many: bool = False  # repeatable, several files (or a folder)


@dataclass(frozen=True)
class Input:
    """One input dataset: where its default copy is, which edition, how it is read."""

    name: str  # its options are --<name> and --sans-<name>
    title: str  # in French, before the files given on the command line
    default: tuple[Path, ...]  # the embedded copies used when no file is given
    edition: str  # of the embedded copies, in French (the « Données utilisées » line)
    licence: str  # as data/raw/SOURCES.md writes it in the row of its first file
    description: str
    # Reads the files given (or the default ones) into ``Extras``; None: read elsewhere.
    read: Callable[[list[Path], Reference, Extras], FilesRead] | None = None
    option: Option | None = None  # None: no option of its own
    unused: str = ""  # the « Données utilisées » phrase when switched off

    @property
    def dest(self) -> str:
        """Attribute of the parsed command line holding its files (``--sans-``: ``sans_``)."""
        return self.name.replace("-", "_")

    def chosen(self, given: Path | Sequence[Path] | None, off: bool) -> list[Path]:
        """The files a run uses: none when switched off, else those given, else the
        default ones."""
        if off:
            return []
        if given is None or given == []:
            return list(self.default)
        return [Path(p) for p in ([given] if isinstance(given, str | Path) else given)]

    def describe(self, paths: Iterable[Path]) -> str:
        """Which data, which edition, in French: a phrase of « Données utilisées »."""
        resolved = [Path(p).resolve() for p in paths]
        if not resolved:
            return self.unused
        if resolved == [p.resolve() for p in self.default]:
            return f"{self.edition} ({sources.EMBEDDED})"
        return f"{self.title} : " + ", ".join(sources.relative(p) for p in paths)


def _read_fragility(paths: list[Path], reference: Reference, extras: Extras) -> FilesRead:
    communes_csv, epci_csv = find_ifn_files(paths)
    extras.ifn = read_ifn(communes_csv, epci_csv)
    return [(communes_csv, "IFN par commune"), (epci_csv, "IFN par EPCI")]


def _read_places(paths: list[Path], reference: Reference, extras: Extras) -> FilesRead:
    if len(paths) != 1:
        raise UserError("--lieux attend un seul fichier.")
    places, rejected = read_places(paths[0], extras.programmes, extras.places_selection)
    located = locate_places(places, reference.communes, reference.postal_codes)
    extras.places, outside = split_outside(located)
    rejected = pd.concat([rejected, outside], ignore_index=True)
    rejected["departement"] = rejected_departement(
        rejected, reference.postal_codes, reference.communes
    )
    extras.places_rejected = rejected
    return [(paths[0], "lieux de médiation numérique")]


_OPEN_LICENCE = "Licence Ouverte / Etalab 2.0"

INPUTS: tuple[Input, ...] = (
    Input(
        "selections",
        sources.NATIONAL_NAME,
        (config.EMBEDDED_NATIONAL_LIST,),
        f"instantané du {config.EMBEDDED_NATIONAL_EDITION}",
        _OPEN_LICENCE,
        "liste nationale des structures retenues par les comités de sélection (COSELEC)",
    ),
    Input(
        "fragilite",
        "indice de fragilité numérique",
        config.EMBEDDED_IFN,
        "indice de fragilité numérique 2023 de La Mednum",
        "publication ouverte de La Mednum",
        "indice de fragilité numérique (IFN) par commune et par EPCI, de 1 à 10",
        _read_fragility,
        Option(
            "CHEMIN",
            "indice de fragilité numérique (IFN) : les fichiers par commune et par EPCI, "
            "ou leur dossier (défaut : l'IFN 2023 embarqué, data/raw/embarque)",
            "n'utilise pas l'indice de fragilité numérique (population seule)",
            many=True,
        ),
        "indice de fragilité numérique : non utilisé",
    ),
    Input(
        "lieux",
        "lieux de médiation numérique",
        (config.EMBEDDED_PLACES,),
        "lieux de médiation numérique de juillet 2022, data.gouv.fr",
        _OPEN_LICENCE,
        "lieux où travaillent les conseillers numériques (coordonnées, SIRET)",
        _read_places,
        Option(
            "FICHIER",
            "lieux où travaillent les conseillers (JSON de data.gouv.fr ; défaut : ceux "
            "de juillet 2022 embarqués, data/raw/embarque)",
            "n'utilise pas le fichier des lieux : les mairies des communes des structures "
            "retenues en tiennent lieu",
        ),
        "lieux de médiation : non utilisés (mairies des structures retenues)",
    ),
)

# The inputs a run may switch on or off, read by ``load_extras``.
OPTIONAL_INPUTS: tuple[Input, ...] = tuple(i for i in INPUTS if i.read is not None)


def load_extras(
    reference: Reference,
    fragility_paths: Iterable[Path] | None = None,
    places_path: Path | None = None,
    custom_target: float | None = None,
    programmes: tuple[str, ...] | None = DEFAULT_PROGRAMMES,
    others: Mapping[str, Iterable[Path] | None] | None = None,
) -> Extras:
    """Read the optional inputs given (``OPTIONAL_INPUTS``, in order): the IFN files,
    the places file (of today's national places file, the places of ``programmes``;
    None: all), and any other input by its name in ``others``. An input without files
    is not used."""
    if custom_target is not None and not (math.isfinite(custom_target) and custom_target > 0):
        raise UserError(
            f"--cible « {custom_target} » : la densité cible doit être un nombre positif et "
            "fini, en conseillers pour 10 000 habitants (par exemple 1.0)."
        )
    extras = Extras(custom_target=custom_target, programmes=programmes)
    given = {
        "fragilite": fragility_paths,
        "lieux": None if places_path is None else [places_path],
        **(others or {}),
    }
    chosen = {item.name: [Path(p) for p in given.get(item.name) or []] for item in OPTIONAL_INPUTS}
    extras.editions = [item.describe(chosen[item.name]) for item in OPTIONAL_INPUTS]
    for item in OPTIONAL_INPUTS:
        if chosen[item.name]:
            for path, what in item.read(chosen[item.name], reference, extras):
                checksum = content_sha256(path)
                extras.sources.append(
                    {"fichier": sources.relative(path), "sha256": checksum, "contenu": what}
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
