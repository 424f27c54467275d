"""The data path's first stage: raw → clean → matched, once per run.

``match_selections`` reads, checks and matches every selection file once (the national
list included) into ``MatchedSelections``; ``national_list`` is the national list the
country's figures are read from, and ``completed`` fills what hand-typed rounds do not
cover from it. What a situation shows is computed from there, once for the whole
country, by ``analysis.situation``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analyse import config
from analyse.errors import UserError
from analyse.read import sources
from analyse.read.codes import departement_code
from analyse.read.files import content_sha256
from analyse.read.selections import (
    ANOMALY_COLUMNS,
    COSELEC_SOURCE,
    check_departements,
    check_duplicates,
    list_selection_files,
    read_confirmed_duplicates,
    read_selections,
)
from analyse.territory.matching import LOCATED, Matcher, read_aliases
from analyse.territory.places import (
    date_places,
    town_hall_places,
)
from analyse.territory.reference import Reference, load_reference

# Notes for the user (files skipped…): the CLI prints them on stderr.
logger = logging.getLogger("analyse")


class UnknownDepartementError(UserError):
    """A département code absent from the reference (message in French)."""


UNTIL_KEPT = 3


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
    # The places file dated by this table, computed once per run (see dated_places).
    _dated_places: tuple | None = field(default=None, repr=False, compare=False)
    # The last months read back (see until): every département of a month reads the
    # same rows, and the national figures computed from them are kept by their identity
    # (``_NATIONAL``). A few months only: a monthly run goes month after month.
    _until: dict = field(default_factory=dict, repr=False, compare=False)

    def dated_places(self, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``date_places`` of ``places`` by this whole table (every month), once per run:
        ``places_at`` then gives the places of a month."""
        if self._dated_places is None or self._dated_places[0] is not places:
            self._dated_places = (places, date_places(places, self.table))
        return self._dated_places[1]

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
        if month not in self._until:
            if len(self._until) >= UNTIL_KEPT:
                del self._until[next(iter(self._until))]
            table = self.table.loc[self.table["mois_comite"] <= month]
            self._until[month] = MatchedSelections(
                table, self.files, self.anomalies, self.editions, self.skipped
            )
        return self._until[month]

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
        """Edition of each national list among the files (``sources.list_edition``), from
        the data itself. One dict per file: ``fichier``, ``edition`` (AAAA-MM-JJ) and
        ``origine`` (how it was found, in French)."""
        rows = self.table.loc[self.table["source"] == COSELEC_SOURCE]
        editions = []
        for name, group in rows.groupby("fichier", sort=True):
            latest = pd.to_datetime(group["date_comite"]).max()
            edition, origin = sources.list_edition(Path(str(name)), latest.date())
            editions.append({"fichier": str(name), "edition": edition, "origine": origin})
        return editions


def last_month(selections: MatchedSelections) -> str | None:
    """The month (YYYY-MM) of the latest committee read, None without any row."""
    months = selections.table["mois_comite"]
    return str(months.max()) if len(months) else None


# The national list matched against a reference, once per process and content of the
# file (see national_list).
_NATIONAL_LISTS: dict[str, tuple[Reference, MatchedSelections]] = {}


def national_list(selections: MatchedSelections, reference: Reference) -> MatchedSelections:
    """The national list that national figures are read from: ``selections`` themselves
    when they cover the country, else the default national list (``sources.national_list``:
    the newest of the embedded and downloaded copies), matched once per process.

    Read in tolerant mode: a row the reference cannot take (a reference without some
    départements, in tests) is left out rather than stopping a report on another
    département.
    """
    if covers_country(selections):
        return selections
    path = sources.national_list().path
    key = content_sha256(path)
    cached = _NATIONAL_LISTS.get(key)
    if cached is None or cached[0] is not reference:
        matched = match_selections([path], reference, tolerant=True)
        _NATIONAL_LISTS[key] = cached = (reference, matched)
    return cached[1]


def national_list_at(
    selections: MatchedSelections, reference: Reference, month: str | None = None
) -> MatchedSelections:
    """The national list read back to the end of ``month`` (YYYY-MM): committees up to
    it. ``month`` defaults to the latest committee of ``selections``, so that the
    national figures shown next to hand-typed rounds are those of their date."""
    end = month or last_month(selections)
    return national_list(selections, reference).until(end)


def completed(selections: MatchedSelections, national: MatchedSelections) -> MatchedSelections:
    """``selections`` completed by the national list where they say nothing: the national
    rows counted for the départements the files do not cover (a post counted for the
    Alpes-de-Haute-Provence in an EPCI that straddles the Hautes-Alpes), and each hand
    row's QPV / ZRR / France Services flags, its structure's SIRET and its attribution's
    funding when the list knows them (``from_national``). The départements the files
    cover keep the files' posts only. Selections that cover the country come back unchanged.

    Reading back to a month (``until``) then keeps the same date for both sources.
    """
    if national is selections:
        return selections
    own = set(selections.table["departement"]) | set(selections.anomalies["departement"])
    others = national.table.loc[~national.table["departement"].isin(own)]
    hand = from_national(selections.table, national.table)
    table = pd.concat([hand, others], ignore_index=True)
    table["drapeaux_source"] = table["drapeaux_source"].fillna("")
    table["siret_liste"] = table["siret_liste"].fillna("")
    files = [*selections.files, *national.files]
    editions = [*selections.editions, *national.editions]
    return MatchedSelections(table, files, selections.anomalies, editions, selections.skipped)


# Where a hand row's flags come from, for the report (column of the completed table).
FLAGS_FROM_LIST = "liste nationale"


def listed_structure(row: pd.Series, listed: pd.DataFrame) -> pd.DataFrame:
    """The rows of the national list (``listed``: its table) of the structure of a
    hand-typed ``row``: same SIRET, or same SIREN (an EPCI's, or the code typed), else the
    same commune for a commune, the same département for its Conseil départemental;
    none when the list does not know the structure. The one matching of a hand row to the
    list: its flags, its structure and its funding are read there (``from_national``)."""
    from analyse.territory.matching import DEPARTEMENT_LEVEL

    codes = listed["code"].fillna("").astype(str)
    code = str(row.get("code") or "")
    if len(code) == 14 and code.isdigit():
        return listed.loc[codes == code]
    if len(code) == 9 and code.isdigit():
        return listed.loc[codes.str[:9] == code]
    kind, status = row["type_structure"], row["statut"]
    if kind == "epci" and status == LOCATED and row["siren_epci"]:
        return listed.loc[codes.str[:9] == row["siren_epci"]]
    if kind == "commune" and row.get("insee_commune"):
        return listed.loc[
            listed["type_structure"].eq("commune")
            & listed["insee_commune"].eq(row["insee_commune"])
        ]
    if status == DEPARTEMENT_LEVEL:
        return listed.loc[
            listed["statut"].eq(DEPARTEMENT_LEVEL) & listed["departement"].eq(row["departement"])
        ]
    return listed.iloc[0:0]


def attribution_funding(row: pd.Series, found: pd.DataFrame) -> float:
    """The State's funding of a hand-typed ``row`` from the list's rows of its structure
    (``listed_structure``): the amount per post of the same attribution, times the row's
    posts. The attribution is the structure's rows counted for the same département, those
    of the same committee month when there are some (the Sisteronais-Buëch's 4 posts of
    March 2021, not its 2 posts counted for 04 in April); NaN when the list has none
    (« montant non connu »), never a flat rate."""
    same = found.loc[found["departement"].eq(row["departement"])]
    same = same.loc[same["financement_etat_eur"].notna() & same["postes"].gt(0)]
    month = same.loc[same["mois_comite"].eq(row["mois_comite"])]
    chosen = month if len(month) else same
    posts = int(chosen["postes"].sum())
    if not posts:
        return float("nan")
    return float(chosen["financement_etat_eur"].astype(float).sum()) / posts * int(row["postes"])


def from_national(rows: pd.DataFrame, national: pd.DataFrame) -> pd.DataFrame:
    """Hand-typed ``rows`` completed by what the national list says of their structure
    (``listed_structure``), where the file says nothing:

    - the QPV / ZRR / France Services flags, each taken when every row of the list for
      that structure says the same (« oui » or « non »), otherwise unknown (''); column
      ``drapeaux_source`` says which rows got their flags from the list;
    - ``siret_liste``: the structure's SIRET in the list when it has only one, so that a
      structure typed by hand and listed (« Sisteronais-Buëch », « CC DU
      SISTERONAIS-BUECH ») is one structure (``priority_areas.structure_key``);
    - ``financement_etat_eur``: the amount of its attribution in the list
      (``attribution_funding``); NaN when the list does not know it.
    """
    from analyse.schema import FLAGS

    rows = rows.copy()
    rows["drapeaux_source"] = ""
    rows["siret_liste"] = ""
    if national.empty or rows.empty:
        return rows
    for index, row in rows.iterrows():
        if row.get("source") == COSELEC_SOURCE:
            continue
        found = listed_structure(row, national)
        if found.empty:
            continue
        if not any(row.get(f) for f in FLAGS):
            for flag in FLAGS:
                values = set(found[flag].fillna(""))
                if len(values) == 1 and values != {""}:
                    rows.at[index, flag] = values.pop()
            rows.at[index, "drapeaux_source"] = FLAGS_FROM_LIST
        sirets = set(found["code"].fillna("").astype(str))
        if len(sirets) == 1 and re.fullmatch(r"\d{14}", next(iter(sirets))):
            rows.at[index, "siret_liste"] = sirets.pop()
        if pd.isna(row.get("financement_etat_eur")):
            rows.at[index, "financement_etat_eur"] = attribution_funding(row, found)
    return rows


def check_departement(reference: Reference, departement: str) -> str:
    """Normalise a département code (``codes.departement_code``: '5', '5.0' → '05', '2a'
    → '2A') or raise a French error."""
    code = departement_code(departement)
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
        f"{sources.relative(config.EMBEDDED_NATIONAL_LIST)}, ou la copie plus récente que "
        "« analyse telecharger » enregistre), ou un fichier de sélections qui couvre ce "
        "département. Sans --selections, la liste nationale est utilisée d'office."
    )


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
    files = [{"fichier": sources.relative(f), "sha256": content_sha256(f)} for f in found]
    editions = sources.describe_selections(paths)
    aliases = aliases if aliases is not None else read_aliases()
    confirmed = read_confirmed_duplicates()
    rejected: list[dict] | None = [] if tolerant else None
    rows = read_selections(found or paths, rejected)
    rows = check_departements(rows, reference.departements["code"], rejected)
    rows = check_duplicates(rows, confirmed, rejected)
    table = Matcher(reference, aliases).match(rows)
    anomalies = pd.DataFrame(rejected or [], columns=ANOMALY_COLUMNS)
    return MatchedSelections(table, files, anomalies, editions, skipped)


def covers_country(selections: MatchedSelections) -> bool:
    """Whether the selections cover the country (national figures then make sense)."""
    return selections.table["departement"].nunique() >= config.NATIONAL_COVERAGE_MIN
