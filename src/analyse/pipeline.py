"""The data path: raw → clean → matched (once) → per département → prepared files.

``match_selections`` reads and matches every selection file once (the national list
included); ``prepare`` derives what one département's report shows from that table;
``save`` writes it to ``data/processed/departements/<dep>/`` and ``load`` reads it back.
The report notebook only ever calls ``load``: it never reads raw or national files.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from analyse import __version__, config, sources
from analyse.atomic import atomic_path, remove_dead_staging, replace_dir, staging_dir
from analyse.distance import nearest_place, population_beyond
from analyse.errors import UserError
from analyse.files import content_sha256
from analyse.fragility import IFN, IFNFileError, join_ifn, read_ifn
from analyse.gaps import SCORE_FORMULA, gaps_table
from analyse.indicators import (
    density,
    epci_indicators,
    posts_per_epci,
    reconciliation,
    to_csv_frame,
)
from analyse.matching import LOCATED, Matcher, read_aliases, review_table
from analyse.names import normalise_name
from analyse.places import (
    DEFAULT_PROGRAMMES,
    REJECTED_COLUMNS,
    locate_places,
    read_places,
    rejected_departement,
    town_hall_places,
    town_hall_points,
)
from analyse.reference import Reference, load_reference
from analyse.scenario import Settings
from analyse.selections import (
    ANOMALY_COLUMNS,
    COSELEC_SOURCE,
    SelectionError,
    clean_departement,
    list_selection_files,
    read_project_csv,
    read_selections,
)
from analyse.selections import (
    COLUMNS as SELECTION_COLUMNS,
)
from analyse.wording import fmt_number

# Notes for the user (files skipped…): the CLI prints them on stderr.
logger = logging.getLogger("analyse")


class UnknownDepartementError(UserError):
    """A département code absent from the reference (message in French)."""


@dataclass
class MatchedSelections:
    """Every selection row, matched, and the files it came from (with checksums).

    ``anomalies`` lists the rows rejected in tolerant mode, with their reason.
    """

    table: pd.DataFrame
    files: list[dict]
    anomalies: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ANOMALY_COLUMNS))
    editions: list[str] = field(default_factory=list)  # in French, one per source
    skipped: list[str] = field(default_factory=list)  # files left aside, and why

    # Town-hall points of every located row, computed once per run (see town_halls).
    _town_halls: tuple | None = field(default=None, repr=False, compare=False)

    def town_halls(self, current: pd.DataFrame, reference: Reference) -> gpd.GeoDataFrame:
        """``town_hall_places`` of ``current`` (a subset of this table's rows, such as
        ``until(month).table``), from the points of the whole table placed once.

        Each row's point depends on that row and the reference only: placing the whole
        national list once rather than once per (month, département) saves ~0.9 s per
        report of a monthly run.
        """
        if self._town_halls is None or self._town_halls[0] is not reference:
            located = self.table.loc[self.table["statut"] == LOCATED]
            placed = town_hall_places(self.table, reference.communes, reference.epci)
            self._town_halls = (reference, located.index, placed)
        _, labels, placed = self._town_halls
        keep = labels.isin(current.index)
        # Empty: the frame with its columns, as the function gives it.
        if not keep.any() or not self.table.index.is_unique:
            return town_hall_places(current, reference.communes, reference.epci)
        return placed.loc[keep].reset_index(drop=True)

    def until(self, month: str | None) -> MatchedSelections:
        """The situation at the end of ``month`` (YYYY-MM): committees up to it."""
        if month is None:
            return self
        table = self.table.loc[self.table["mois_comite"] <= month]
        return MatchedSelections(table, self.files, self.anomalies, self.editions, self.skipped)

    @property
    def has_national_list(self) -> bool:
        """Whether a national COSELEC list was read: then a département without any
        row is a real zero, not a département the files do not cover."""
        return bool(self.table["source"].eq(COSELEC_SOURCE).any())

    @property
    def months(self) -> list[str]:
        return sorted(self.table["mois_comite"].unique())

    @property
    def national_editions(self) -> list[dict]:
        """Edition of each national list among the files, from the data itself.

        The date in the file's name (``…-2023-04-05.csv``, as data.gouv.fr names its
        resources) when there is one; otherwise the date of the list's latest committee
        (the copy of ``analyse telecharger`` has no date in its name). One dict per file:
        ``fichier``, ``edition`` (AAAA-MM-JJ) and ``origine`` (how it was found, in French).
        """
        rows = self.table.loc[self.table["source"] == COSELEC_SOURCE]
        editions = []
        for name, group in rows.groupby("fichier", sort=True):
            found = _DATE_IN_NAME.search(Path(str(name)).name)
            if found:
                edition, origin = found.group(0), "date du nom du fichier"
            else:
                latest = pd.to_datetime(group["date_comite"]).max()
                edition, origin = latest.date().isoformat(), "date de son dernier comité"
            editions.append({"fichier": str(name), "edition": edition, "origine": origin})
        return editions


# A date in a file name: 2023-04-05.
_DATE_IN_NAME = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")


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
                {"fichier": _relative(path), "sha256": content_sha256(path), "contenu": what}
            )
    if places_path is not None:
        places, rejected = read_places(Path(places_path), programmes, extras.places_selection)
        extras.places = locate_places(places, reference.communes, reference.postal_codes)
        rejected["departement"] = rejected_departement(
            rejected, reference.postal_codes, reference.communes
        )
        extras.places_rejected = rejected
        extras.sources.append(
            {
                "fichier": _relative(places_path),
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


def national_target(
    selections: MatchedSelections, reference: Reference, month: str | None = None
) -> tuple[float, str, str | None]:
    """Density of the programme at the end of ``month`` (the whole selections without
    it): posts granted nationally up to then ÷ national population.

    Returns the density, the French description of its computation and the month
    (YYYY-MM) it describes. When the selections do not cover the country (the embedded
    Hautes-Alpes rounds), the national list of 2023-04-05 (3 925 posts) stands in, and
    the label says so, and which date that figure describes. Communes of unknown
    population are left out, and so are the posts located in their EPCI.
    """
    from analyse.wording import fmt_date, month_label

    communes = reference.communes.loc[reference.communes["type"] == "COM"]
    population = communes["population"].dropna().sum()
    full = selections.table
    current = selections.until(month).table
    end = month or (str(full["mois_comite"].max()) if len(full) else None)
    if full["departement"].nunique() >= config.NATIONAL_COVERAGE_MIN:
        unknown = reference.epci.loc[reference.epci["population"].isna(), "siren"]
        left_out = int(
            current.loc[
                current["statut"].eq(LOCATED) & current["siren_epci"].isin(set(unknown)),
                "postes",
            ].sum()
        )
        posts = int(current["postes"].sum()) - left_out
        label = (
            f"{fmt_number(posts)} postes attribués par les comités jusqu'à fin "
            f"{month_label(end)} ÷ population de la France"
        )
        if left_out:
            label += (
                f" ; {fmt_number(left_out)} poste(s) d'intercommunalités de population "
                "inconnue laissés de côté"
            )
        described = end
    else:
        posts = config.NATIONAL_LIST_POSTS
        edition = fmt_date(config.EMBEDDED_NATIONAL_EDITION)
        label = (
            f"{fmt_number(posts)} postes de la liste nationale du {edition} ÷ population "
            "de la France"
        )
        described = config.EMBEDDED_NATIONAL_EDITION[:7]
        if end is not None and end < described:
            label += (
                f" ; cette cible décrit la situation du {edition}, alors que les sélections "
                f"montrées s'arrêtent fin {month_label(end)}"
            )
    return density(posts, population), label, described


@dataclass
class Prepared:
    """Everything the report of one département shows."""

    departement: str
    nom: str
    crs: int
    indicators: gpd.GeoDataFrame  # one row per EPCI, geometry in EPSG:4326
    communes: gpd.GeoDataFrame  # current communes of the département
    # Rows counted for the département, plus rows counted elsewhere but located in one
    # of its EPCI (flag ``compte_pour_departement``), with their match results.
    selections: pd.DataFrame
    review: pd.DataFrame
    hosts: gpd.GeoDataFrame  # town halls of communes where a located structure sits
    counts: dict
    changes: pd.DataFrame  # rows of this month's committees (monthly reports only)
    gaps: pd.DataFrame  # one row per EPCI, most urgent first
    places: gpd.GeoDataFrame  # places of mediation in or near the département
    unmatched_ifn: pd.DataFrame  # IFN codes without a territory, and the reverse
    anomalies: pd.DataFrame  # rows rejected in tolerant mode that may concern it
    context: dict = field(default_factory=dict)
    # Places of the --lieux file set aside (impossible coordinates) that may concern it:
    # those whose postal code is in the département, then those of unknown département.
    places_rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[*REJECTED_COLUMNS, "departement"])
    )
    # Posts proposed by the placement scenario, in order (``analyse.scenario``); None
    # when no scenario was asked for.
    propositions: gpd.GeoDataFrame | None = None
    # Posts and density of each EPCI at the end of each month (``analyse.trajectory``).
    trajectory: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["siren_epci", "nom_epci", "mois", "postes", "conseillers_pour_10000_hab"]
        )
    )

    @property
    def outline(self) -> gpd.GeoSeries:
        """Outline of the département, dissolved from its communes."""
        return gpd.GeoSeries(
            [shapely.union_all(self.communes.geometry.to_numpy())], crs=self.communes.crs
        )

    @property
    def gaps_geo(self) -> gpd.GeoDataFrame:
        """The gaps table with the EPCI geometry: every indicator of an EPCI in one layer."""
        geometry = self.indicators.set_index("siren_epci").geometry
        return gpd.GeoDataFrame(
            self.gaps.drop(columns="geometry", errors="ignore"),
            geometry=self.gaps["siren_epci"].map(geometry).to_numpy(),
            crs=self.indicators.crs,
        )

    @property
    def counted(self) -> pd.DataFrame:
        """Rows counted for the département (as the ANCT counts them)."""
        return self.selections.loc[self.selections["compte_pour_departement"]]


def check_departement(reference: Reference, departement: str) -> str:
    """Normalise a département code ('5' → '05', '2a' → '2A') or raise a French error."""
    code = str(departement).strip().upper()
    if code.isdigit() and len(code) == 1:
        code = code.zfill(2)
    known = list(reference.departements["code"])
    if code not in known:
        raise UnknownDepartementError(
            f"Le code département « {departement} » n'existe pas dans le référentiel "
            f"({reference.edition}). Codes valides : {', '.join(known)}."
        )
    return code


class UncoveredDepartementError(UserError):
    """Selections given by the user hold nothing for a département (message in French)."""


def check_covered(
    selections: MatchedSelections, departements: Iterable[str], reference: Reference
) -> None:
    """Refuse to report on a département the given selections do not cover.

    Without a national list, a département absent from the files is unknown, not empty:
    its report would tell officials that none of its EPCI has a conseiller. A row counts
    when it is counted for the département, located in one of its EPCI, or set aside
    (tolerant mode) with its code. Inside a national list, an empty département is a
    real zero and keeps its report.
    """
    if selections.has_national_list:
        return
    table, communes = selections.table, reference.communes
    missing = []
    for code in departements:
        sirens = set(communes.loc[communes["departement"] == code, "siren_epci"].dropna())
        rows = table["departement"].eq(code) | table["siren_epci"].isin(sirens)
        if not rows.any() and not selections.anomalies["departement"].eq(code).any():
            missing.append(code)
    if not missing:
        return
    names = [f"{reference.departement_name(c)} ({c})" for c in missing]
    shown = ", ".join(names[:8]) + (f" et {len(names) - 8} autres" if len(names) > 8 else "")
    files = ", ".join(f["fichier"] for f in selections.files[:3])
    if len(selections.files) > 3:
        files += ", …"
    raise UncoveredDepartementError(
        f"les sélections fournies ({files}) ne contiennent aucune ligne pour {shown} : "
        "le rapport dirait à tort qu'aucun poste n'y a été attribué. Passez la liste "
        "nationale des structures validées en COSELEC (--selections "
        f"{_relative(config.EMBEDDED_NATIONAL_LIST)}, ou la copie plus récente que "
        "« analyse telecharger » enregistre), ou un fichier de sélections qui couvre ce "
        "département. Sans --selections, la liste nationale est utilisée d'office."
    )


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(config.PROJECT_ROOT.resolve()))
    except ValueError:
        return str(path)


def match_selections(
    selection_paths: Iterable[Path] | None = None,
    reference: Reference | None = None,
    aliases: pd.DataFrame | None = None,
    tolerant: bool = False,
) -> MatchedSelections:
    """Read every selection file under ``selection_paths`` and match every row, once.

    Bad input stops the run with a message naming file, line, column and value, before
    anything is written; in ``tolerant`` mode the bad rows are set aside as anomalies
    (shown in every report) and the run goes on.
    """
    reference = reference or load_reference()
    paths = list(selection_paths or [config.SELECTIONS_DIR])
    skipped: list[str] = []
    found = list_selection_files(paths, skipped)
    for note in skipped:
        logger.warning(note)
    files = [{"fichier": _relative(f), "sha256": content_sha256(f)} for f in found]
    editions = sources.describe_selections(paths)
    aliases = aliases if aliases is not None else read_aliases()
    confirmed = read_confirmed_duplicates()
    rejected: list[dict] | None = [] if tolerant else None
    rows = read_selections(found or paths, rejected)
    rows = _check_departements(rows, reference, rejected)
    rows = _check_duplicates(rows, confirmed, rejected)
    table = Matcher(reference, aliases).match(rows)
    anomalies = pd.DataFrame(rejected or [], columns=ANOMALY_COLUMNS)
    return MatchedSelections(table, files, anomalies, editions, skipped)


def _reject(error: SelectionError, row: pd.Series, rejected: list[dict] | None) -> None:
    """Raise ``error``, or, in tolerant mode, set the row aside with its reason."""
    if rejected is None:
        raise error
    rejected.append(
        {
            "fichier": row["fichier"],
            "ligne": int(row["ligne"]),
            "colonne": error.colonne,
            "departement": row["departement"],
            "structure": row["structure"],
            "postes": int(row["postes"]),
            "motif": str(error),
        }
    )


def _check_departements(
    rows: pd.DataFrame, reference: Reference, rejected: list[dict] | None = None
) -> pd.DataFrame:
    """Refuse a département code that exists nowhere, naming file, line and value."""
    known = set(reference.departements["code"]) | set(config.OVERSEAS_COLLECTIVITIES)
    unknown = ~rows["departement"].isin(known)
    for _, row in rows.loc[unknown].iterrows():
        error = SelectionError(
            row["fichier"],
            f"code département inconnu « {row['departement']} ».",
            int(row["ligne"]),
            "departement",
        )
        _reject(error, row, rejected)
    return rows.loc[~unknown]


def read_confirmed_duplicates(path: Path | None = None) -> set[tuple]:
    """Keys of the repeated grants an analyst confirmed in ``data/raw/doublons_confirmes.csv``.

    A malformed file stops the run with its line, column and value: a confirmation
    that cannot be read must not silently turn into a refusal or a double count.
    """
    path = Path(path or config.CONFIRMED_DUPLICATES_FILE)
    if not path.exists():
        return set()
    name = _relative(path)
    table = read_project_csv(path, name, ["departement", "structure", "date_comite", "postes"])
    keys = set()
    for line, row in enumerate(table.itertuples(), start=2):
        month = row.date_comite.strip()[:7]
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise SelectionError(
                name,
                f"mois de comité illisible « {row.date_comite} » (attendu AAAA-MM).",
                line,
                "date_comite",
            )
        if not row.postes.strip().isdigit():
            raise SelectionError(
                name, f"nombre de postes non entier « {row.postes} ».", line, "postes"
            )
        keys.add(
            _duplicate_key(row.departement.strip().zfill(2), row.structure, month, int(row.postes))
        )
    return keys


def _duplicate_key(departement: str, structure: str, month: str, posts: int) -> tuple:
    return (departement, normalise_name(structure), month, int(posts))


# A row is "the same row" as another of its file when every value read is equal.
_ROW_IDENTITY = [c for c in SELECTION_COLUMNS if c != "ligne"]


def _check_duplicates(
    rows: pd.DataFrame, confirmed: set[tuple], rejected: list[dict] | None = None
) -> pd.DataFrame:
    """Probable duplicates, refused unless confirmed (in tolerant mode, set aside):
    the same structure, committee and posts in two files, or a row repeated identically
    within one file (homonyms of one file, such as two CCAS with different SIRET, are
    different rows)."""
    keys = [
        _duplicate_key(d, s, m, p)
        for d, s, m, p in zip(
            rows["departement"], rows["structure"], rows["mois_comite"], rows["postes"], strict=True
        )
    ]
    identities = list(zip(*(rows[c] for c in _ROW_IDENTITY), strict=True))
    files, lines = rows["fichier"].tolist(), rows["ligne"].tolist()
    first_key: dict[tuple, int] = {}
    first_row: dict[tuple, int] = {}
    keep = []
    for position, (key, identity) in enumerate(zip(keys, identities, strict=True)):
        earlier_key = first_key.setdefault(key, position)
        earlier_row = first_row.setdefault(identity, position)
        if key in confirmed:
            keep.append(True)
            continue
        if earlier_row != position:
            where = f"la ligne {lines[earlier_row]} du même fichier"
        elif files[earlier_key] != files[position]:
            where = f"{files[earlier_key]}, ligne {lines[earlier_key]}"
        else:
            keep.append(True)
            continue
        row = rows.iloc[position]
        error = SelectionError(
            row["fichier"],
            f"probable doublon : « {row['structure']} » ({row['departement']}, comité "
            f"{row['mois_comite']}, {row['postes']} poste(s)) figure déjà dans {where}. "
            "S'il s'agit bien de deux attributions, confirmez-le dans "
            f"{_relative(config.CONFIRMED_DUPLICATES_FILE)}.",
            int(row["ligne"]),
            "structure",
        )
        _reject(error, row, rejected)
        keep.append(False)
    return rows.loc[keep]


def prepare(
    departement: str,
    selections: MatchedSelections,
    reference: Reference,
    month: str | None = None,
    extras: Extras | None = None,
) -> Prepared:
    """What the report of ``departement`` shows, at the end of ``month`` if given."""
    departement = check_departement(reference, departement)
    current = selections.until(month).table
    communes_all = reference.communes
    communes = communes_all.loc[
        (communes_all["type"] == "COM") & (communes_all["departement"] == departement)
    ].reset_index(drop=True)
    indicators = epci_indicators(reference.epci, communes_all, current, departement)
    sirens = list(indicators["siren_epci"])
    counts = reconciliation(current, departement, sirens, selections.anomalies)
    indicators, trajectory, territories = territory_columns(
        indicators, selections, reference, departement, month
    )

    counted = current["departement"] == departement
    located_here = (current["statut"] == LOCATED) & current["siren_epci"].isin(sirens)
    ours = current.loc[counted | located_here].copy()
    ours["compte_pour_departement"] = ours["departement"] == departement
    ours["dans_un_epci_du_departement"] = ours["statut"].eq(LOCATED) & ours["siren_epci"].isin(
        sirens
    )
    ours = ours.reset_index(drop=True)

    changes = pd.DataFrame(columns=ours.columns)
    newly_covered: list[str] = []
    if month is not None:
        changes = ours.loc[ours["mois_comite"] == month].reset_index(drop=True)
        before = posts_per_epci(selections.until(_previous_month(month)).table)
        newly_covered = sorted(
            indicators.loc[
                (indicators["postes"] > 0) & (indicators["siren_epci"].map(before).fillna(0) == 0),
                "nom_epci",
            ]
        )

    extras = extras or Extras()
    town_halls = selections.town_halls(current, reference) if extras.places is None else None
    coverage = _coverage(departement, town_halls, reference, indicators, communes, extras)
    indicators, communes, places, unmatched, beyond = coverage
    rejected_places, rejected_summary = _rejected_places(departement, extras)
    target_nat, target_label, target_month = national_target(selections, reference, month)
    target_dep = density(counts["lus"], communes["population"].sum())
    gaps = gaps_table(
        pd.DataFrame(indicators.drop(columns="geometry")),
        target_nat,
        target_dep,
        extras.custom_target,
    )

    context = {
        "departement": departement,
        "nom": reference.departement_name(departement),
        "nom_avec_charniere": reference.departement_of_name(departement),
        "collectivite_departementale": config.departemental_collectivity(departement),
        "crs": config.metric_crs(departement),
        "mois": month,
        "epci_nouvellement_couverts": newly_covered,
        "edition_reference": reference.edition,
        "fichiers_selection": selections.files,
        "editions_liste_nationale": selections.national_editions,
        "editions": [*selections.editions, *extras.editions],
        "genere_le": datetime.now().astimezone().isoformat(timespec="seconds"),
        "version": __version__,
        "commit": _commit(),
        "financement_par_poste_eur": config.STATE_FUNDING_PER_POST_EUR,
        "ifn_fourni": extras.ifn is not None,
        "lieux_source": "fichier" if extras.places is not None else "mairies",
        "lieux_selection": extras.places_selection,
        "fichiers_complementaires": extras.sources,
        "cible_nationale": target_nat,
        "cible_nationale_calcul": target_label,
        "cible_nationale_mois": target_month,
        "cible_departementale": target_dep,
        "cible_choisie": extras.custom_target,
        "population_au_dela": beyond,
        "lieux_rejetes": rejected_summary,
        "formule_priorite": SCORE_FORMULA,
        **territories,
    }
    prepared = Prepared(
        departement=departement,
        nom=context["nom"],
        crs=context["crs"],
        indicators=indicators,
        communes=communes,
        selections=ours,
        review=review_table(ours.loc[ours["compte_pour_departement"]]),
        anomalies=_anomalies_of(selections.anomalies, departement),
        hosts=_hosts(ours.loc[ours["dans_un_epci_du_departement"]], communes_all),
        counts=counts,
        changes=changes,
        gaps=gaps,
        places=places,
        unmatched_ifn=unmatched,
        context=context,
        places_rejected=rejected_places,
        trajectory=trajectory,
    )
    if extras.scenario is not None:
        add_scenario(prepared, extras.scenario)
    return prepared


def covers_country(selections: MatchedSelections) -> bool:
    """Whether the selections cover the country (national figures then make sense)."""
    return selections.table["departement"].nunique() >= config.NATIONAL_COVERAGE_MIN


def territory_columns(
    indicators: gpd.GeoDataFrame,
    selections: MatchedSelections,
    reference: Reference,
    departement: str,
    month: str | None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict]:
    """Priority territories, trajectory and comparison with similar EPCI (issue 12).

    Returns the indicators with the columns of ``schema.EPCI_COLUMNS``, the monthly
    trajectory of each EPCI, and the context entries: ``territoires_prioritaires``
    (counts for the département, as the ANCT counts its posts, and for France when the
    selections cover it) and ``comparables_definition``.
    """
    from analyse import comparison, priority_areas, trajectory

    current = selections.until(month).table
    national = covers_country(selections)
    indicators = indicators.copy()
    flags = priority_areas.epci_flag_counts(current)
    for column in flags.columns:
        values = indicators["siren_epci"].map(flags[column]).fillna(0)
        indicators[column] = values.astype("int64")
    end = month or (str(current["mois_comite"].max()) if len(current) else None)
    history = trajectory.epci_trajectory(current, indicators, trajectory.month_range(end))
    first = indicators["siren_epci"].map(trajectory.first_month(history))
    # Object first: with no EPCI ever covered, the map gives an all-missing float column.
    indicators["premier_mois_conseiller"] = first.astype(object).where(first.notna(), "")
    table = comparison.national_epci_table(reference.epci, current)
    compared = comparison.comparable_medians(indicators, table, national)
    for column in compared.columns:
        indicators[column] = compared[column]
    context = {
        "territoires_prioritaires": {
            "departement": priority_areas.summary(
                current.loc[current["departement"] == departement]
            ),
            "france": priority_areas.summary(current) if national else None,
        },
        "comparables_definition": comparison.definition(),
        "comparables_disponibles": national,
    }
    return indicators, history, context


def add_scenario(prepared: Prepared, settings: Settings) -> None:
    """Solve the placement scenario and keep its proposals and summary in ``prepared``."""
    from analyse.scenario import scenario_for

    result = scenario_for(prepared, settings)
    prepared.propositions = result.proposals
    prepared.context["scenario"] = result.summary()


def _rejected_places(departement: str, extras: Extras) -> tuple[pd.DataFrame, dict]:
    """Rejected places that may concern ``departement`` and how they weigh on its
    distances: ``nombre`` (here or of unknown département), ``fichier`` (in the whole
    file), ``utilises`` (places used in the département), ``part`` and ``incomplet``
    (``part`` above ``config.PLACES_REJECTED_MAX_SHARE``)."""
    columns = [*REJECTED_COLUMNS, "departement"]
    rejected = extras.places_rejected
    if rejected is None or extras.places is None:
        empty = pd.DataFrame(columns=columns)
        return empty, {"nombre": 0, "fichier": 0, "utilises": 0, "part": 0.0, "incomplet": False}
    ours = rejected["departement"].eq(departement)
    unknown = rejected["departement"].eq("")
    mine = pd.concat([rejected.loc[ours], rejected.loc[unknown]], ignore_index=True)[columns]
    used = int(extras.places["departement"].eq(departement).sum())
    share = len(mine) / (len(mine) + used) if len(mine) else 0.0
    summary = {
        "nombre": len(mine),
        "fichier": len(rejected),
        "utilises": used,
        "part": share,
        "incomplet": share > config.PLACES_REJECTED_MAX_SHARE,
    }
    return mine.astype(str), summary


def _anomalies_of(anomalies: pd.DataFrame, departement: str) -> pd.DataFrame:
    """Every rejected row, this département's first: a row set aside may belong here
    even when its département code is the very thing that is wrong."""
    ours = anomalies["departement"].eq(departement)
    return pd.concat([anomalies.loc[ours], anomalies.loc[~ours]], ignore_index=True)


def _coverage(
    departement: str,
    town_halls: gpd.GeoDataFrame | None,
    reference: Reference,
    indicators: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    extras: Extras,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, dict]:
    """IFN, places and distances for the communes of the département and of its EPCI.

    Distances are computed for every member commune of the report's EPCI (an EPCI is
    shown whole); the département figure sums its own communes only.
    """
    all_communes = reference.communes
    sirens = set(indicators["siren_epci"])
    scope = all_communes.loc[
        (all_communes["type"] == "COM")
        & (all_communes["departement"].eq(departement) | all_communes["siren_epci"].isin(sirens))
    ]
    unmatched = pd.DataFrame(columns=["niveau", "code", "nom", "motif"])
    if extras.ifn is not None:
        # Every commune of the départements touched, so that an IFN code of those
        # départements is "unknown" only when the reference really lacks it.
        touched = all_communes.loc[all_communes["departement"].isin(set(scope["departement"]))]
        scored, epci_scored, unmatched = join_ifn(
            touched, reference.epci.loc[reference.epci["siren"].isin(sirens)], extras.ifn
        )
        # The report lists the département's own communes and its EPCI.
        ours = unmatched["niveau"].ne("commune") | unmatched["code"].str.startswith(departement)
        unmatched = unmatched.loc[ours].reset_index(drop=True)
        ifn_columns = [c for c in scored.columns if c.startswith("ifn")]
        communes = communes.merge(scored[["insee", *ifn_columns]], on="insee", how="left")
        indicators = indicators.merge(
            epci_scored[["siren", "ifn"]].rename(columns={"siren": "siren_epci"}),
            on="siren_epci",
            how="left",
        )
    # Without a places file, each located structure is placed at a town hall.
    places = extras.places if extras.places is not None else town_halls
    crs = config.metric_crs(departement)
    distances = nearest_place(scope, places, crs)
    per_epci, _ = population_beyond(distances)
    in_dep = distances.loc[distances["departement"] == departement]
    _, beyond = population_beyond(in_dep)
    beyond = {k: (int(v) if v == v else None) for k, v in beyond.items()}
    communes = communes.merge(
        distances[["insee", "distance_m", "id_lieu", "nom_lieu"]], on="insee", how="left"
    )
    columns = [c for c in per_epci.columns if c.startswith("population_")]
    indicators = indicators.merge(
        per_epci[["siren_epci", *[c for c in columns if c != "population"]]],
        on="siren_epci",
        how="left",
    )
    # The places shown: those in the département and those nearest to one of its communes.
    near = places.loc[
        places["id"].isin(distances["id_lieu"]) | places["departement"].eq(departement)
    ]
    return indicators, communes, near.reset_index(drop=True), unmatched, beyond


@functools.cache
def _commit() -> str:
    """Commit of the project that produced the report ('inconnu' outside a checkout);
    '+modifié' when the working tree has uncommitted changes."""
    import subprocess

    try:
        run = functools.partial(
            subprocess.run, cwd=config.PROJECT_ROOT, capture_output=True, text=True, timeout=5
        )
        head = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
        dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "inconnu"
    return (head or "inconnu") + (" +modifié" if head and dirty else "")


def _previous_month(month: str) -> str:
    return (pd.Period(month, freq="M") - 1).strftime("%Y-%m")


def _hosts(located: pd.DataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Town-hall points of the communes where located structures sit, with their posts."""
    posts = located.dropna(subset=["insee_commune"]).groupby("insee_commune")["postes"].sum()
    current = communes.loc[(communes["type"] == "COM") & communes["insee"].isin(posts.index)]
    rows = pd.DataFrame(current[["insee", "nom"]]).assign(postes=current["insee"].map(posts))
    return gpd.GeoDataFrame(
        rows.reset_index(drop=True),
        geometry=town_hall_points(current).to_numpy(),
        crs=config.GEOGRAPHIC_CRS,
    )


def prepare_one(
    departement: str,
    selection_paths: Iterable[Path] | None = None,
    reference: Reference | None = None,
) -> Prepared:
    """Convenience for one département: match its selection files, then prepare."""
    reference = reference or load_reference()
    departement = check_departement(reference, departement)
    return prepare(departement, match_selections(selection_paths, reference), reference)


# ------------------------------------------------------------------------- storage

_TABLES = {
    "indicators": "indicateurs_epci.parquet",
    "communes": "communes.parquet",
    "selections": "selections.parquet",
    "review": "revue.parquet",
    "hosts": "structures.parquet",
    "changes": "nouveautes.parquet",
    "gaps": "lacunes.parquet",
    "places": "lieux.parquet",
    "unmatched_ifn": "ifn_non_apparies.parquet",
    "anomalies": "anomalies.parquet",
    "places_rejected": "lieux_rejetes.parquet",
    "trajectory": "trajectoire.parquet",
}


# Written only when a scenario was asked for.
PROPOSALS_FILE = "propositions.parquet"


def save(prepared: Prepared, folder: Path | None = None) -> Path:
    """Write the prepared bundle: built whole in a folder beside ``folder``, then swapped
    in, so that a reader never sees new tables next to an old manifest."""
    folder = Path(folder or config.prepared_dir(prepared.departement))
    folder.parent.mkdir(parents=True, exist_ok=True)
    # A run killed while writing leaves its staging folder behind: the next one clears it.
    prefix = f".{folder.name}.en-cours-"
    remove_dead_staging(folder.parent, prefix)
    build = staging_dir(folder.parent, prefix)
    try:
        for attribute, name in _TABLES.items():
            getattr(prepared, attribute).to_parquet(build / name, index=False)
        if prepared.propositions is not None:
            prepared.propositions.to_parquet(build / PROPOSALS_FILE, index=False)
        meta = {"context": prepared.context, "counts": prepared.counts}
        (build / "contexte.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        replace_dir(folder, build)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return folder


def data_dir_for(departement: str, reports_dir: Path | None, month: str | None = None) -> Path:
    """Where a run writing reports to ``reports_dir`` prepares the data of a département.

    The default run uses ``data/processed/departements/<dep>`` (the notebook's default
    in JupyterLab) or ``data/processed/mensuel/<month>/<dep>``; a run with ``--sortie``
    keeps its prepared data inside its own output folder (``.donnees/``), so that two
    runs at the same time never feed each other's notebooks and nothing is left behind
    in the project when that folder is removed.
    """
    default = reports_dir is None or Path(reports_dir).resolve() == config.REPORTS_DIR.resolve()
    base = config.PROCESSED_DIR if default else Path(reports_dir) / config.PREPARED_SUBDIR
    if month:
        return base / "mensuel" / month / departement
    return base / "departements" / departement


def notebook_departement(value: object) -> str:
    """The notebook's ``departement`` parameter as an INSEE code.

    Papermill's command line turns ``-p departement 05`` into the integer 5 and keeps
    ``2a`` in lower case: both are what an analyst types, so both are accepted.
    """
    code = clean_departement(str(value))
    if code is None:
        raise UserError(f"Paramètre « departement » invalide : {value!r} (attendu : 05, 2A, 974…)")
    return code


def load(departement: object, folder: Path | None = None) -> Prepared:
    """Read a bundle written by ``save``, checking it is the requested département's."""
    departement = notebook_departement(departement)
    folder = Path(folder or config.prepared_dir(departement))
    meta_path = folder / "contexte.json"
    if not meta_path.exists():
        raise FileNotFoundError(
            f"Données préparées introuvables pour le département {departement} ({folder}). "
            f"Lancez d'abord : analyse rapport --departement {departement}"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    context = meta["context"]
    if context["departement"] != departement:
        raise UserError(
            f"Les données de {folder} sont celles du département {context['departement']}, "
            f"pas du {departement} demandé : lancez « analyse rapport --departement "
            f"{departement} » ou corrigez le paramètre « dossier_donnees »."
        )
    geo = {"indicators", "communes", "hosts", "places"}
    tables = {
        attribute: (gpd.read_parquet if attribute in geo else pd.read_parquet)(folder / name)
        for attribute, name in _TABLES.items()
    }
    proposals = folder / PROPOSALS_FILE
    return Prepared(
        departement=context["departement"],
        nom=context["nom"],
        crs=context["crs"],
        counts=meta["counts"],
        context=context,
        propositions=gpd.read_parquet(proposals) if proposals.exists() else None,
        **tables,
    )


def write_indicators_csv(indicators: gpd.GeoDataFrame, target: Path) -> None:
    """``indicateurs_epci.csv``: UTF-8, ``,`` separator, ``.`` decimals."""
    with atomic_path(target) as tmp:
        to_csv_frame(indicators).to_csv(tmp, index=False, encoding="utf-8")
