"""The data path: raw → clean → matched (once) → one département.

``match_selections`` reads, checks and matches every selection file once (the national
list included); ``prepare`` derives what one département's report shows from that table
and the optional inputs (``inputs.Extras``). The result, a ``bundle.Prepared``, is saved
and loaded by ``analyse.analysis.bundle``: the report notebook only ever calls ``bundle.load``, it
never reads raw or national files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from analyse import config
from analyse.analysis.bundle import Context, Prepared, provenance
from analyse.analysis.distance import nearest_place, population_beyond
from analyse.analysis.gaps import SCORE_FORMULA, gaps_table
from analyse.analysis.indicators import density, epci_indicators, posts_per_epci, reconciliation
from analyse.analysis.inputs import Extras
from analyse.analysis.scenario import add_scenario
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
from analyse.territory.fragility import join_ifn
from analyse.territory.matching import LOCATED, Matcher, read_aliases, review_table
from analyse.territory.places import (
    REJECTED_COLUMNS,
    date_places,
    dating_summary,
    places_at,
    town_hall_places,
    town_hall_points,
)
from analyse.territory.reference import Reference, load_reference
from analyse.wording import fmt_number

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


def situation(selections: MatchedSelections, month: str | None = None) -> dict:
    """The one date a report describes, derived from the data: JSON-ready.

    ``mois`` (YYYY-MM): committees up to the end of it are read; ``date`` (YYYY-MM-DD or
    None): the day when the situation is a national list's edition. The month asked for
    (a monthly report) is the end of that month; without it, the edition of the national
    list read (« au 5 avril 2023 »), else the end of the month of the latest committee
    read (« à la fin avril 2021 »: hand-typed rounds are dated by month).
    """
    if month is not None:
        return {"mois": month, "date": None}
    editions = [e["edition"] for e in selections.national_editions]
    latest = last_month(selections)
    if editions and (latest is None or max(editions)[:7] >= latest):
        edition = max(editions)
        return {"mois": edition[:7], "date": edition}
    return {"mois": latest, "date": None}


# The national list matched against a reference, once per process and version of the
# file (see national_list): path, modification time and size.
_NATIONAL_LISTS: dict[tuple, tuple[Reference, MatchedSelections]] = {}


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
    stat = path.stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
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


def national_target(
    selections: MatchedSelections, reference: Reference, month: str | None = None
) -> tuple[float, str, str | None]:
    """Density of the programme at the end of ``month`` (the latest committee of the
    selections without it): posts of the national list read back to then ÷ national
    population.

    Returns the density, the French description of its computation and the month
    (YYYY-MM) it describes. When the selections do not cover the country (the Hautes-Alpes
    rounds typed by hand), the national list is read back to the same month, and the
    label says so. Communes of unknown population are left out, and so are the posts
    located in their EPCI.
    """
    from analyse.wording import fmt_date, month_label

    communes = reference.communes.loc[reference.communes["type"] == "COM"]
    population = communes["population"].dropna().sum()
    end = month or last_month(selections)
    national = national_list_at(selections, reference, end)
    current = national.table
    unknown = reference.epci.loc[reference.epci["population"].isna(), "siren"]
    left_out = int(
        current.loc[
            current["statut"].eq(LOCATED) & current["siren_epci"].isin(set(unknown)),
            "postes",
        ].sum()
    )
    posts = int(current["postes"].sum()) - left_out
    when = f"fin {month_label(end)}" if end else "sa date"
    label = (
        f"{fmt_number(posts)} postes attribués par les comités jusqu'à {when} ÷ population "
        "de la France"
    )
    if not covers_country(selections):
        editions = national_list(selections, reference).national_editions
        if editions:
            edition = fmt_date(max(e["edition"] for e in editions))
            label += f" ; postes lus dans la liste nationale du {edition} relue à cette date"
    if left_out:
        label += (
            f" ; {fmt_number(left_out)} poste(s) d'intercommunalités de population "
            "inconnue laissés de côté"
        )
    return density(posts, population), label, end


def completed(
    selections: MatchedSelections, national: MatchedSelections, departement: str | None = None
) -> MatchedSelections:
    """``selections`` completed by the national list where they say nothing: the national
    rows counted for the départements the files do not cover (a post counted for the
    Alpes-de-Haute-Provence in an EPCI that straddles the Hautes-Alpes), except those of
    ``departement``, whose own posts are the files' (none if they do not cover it), and
    each hand row's QPV / ZRR / France Services flags when the list knows its structure
    (``flags_from_national``). Selections that cover the country come back unchanged.

    Reading back to a month (``until``) then keeps the same date for both sources.
    """
    if national is selections:
        return selections
    own = set(selections.table["departement"]) | set(selections.anomalies["departement"])
    own.add(departement)
    others = national.table.loc[~national.table["departement"].isin(own)]
    hand = flags_from_national(selections.table, national.table)
    table = pd.concat([hand, others], ignore_index=True)
    table["drapeaux_source"] = table["drapeaux_source"].fillna("")
    files = [*selections.files, *national.files]
    editions = [*selections.editions, *national.editions]
    return MatchedSelections(table, files, selections.anomalies, editions, selections.skipped)


# Where a hand row's flags come from, for the report (column of the completed table).
FLAGS_FROM_LIST = "liste nationale"


def flags_from_national(rows: pd.DataFrame, national: pd.DataFrame) -> pd.DataFrame:
    """Hand-typed rows with the QPV / ZRR / France Services flags the national list gives
    their structure: same SIRET, or same SIREN (an EPCI's, or the code typed), else the
    same commune for a commune, the same département for its Conseil départemental.
    A flag is taken when every row of the list for that structure says the same (« oui »
    or « non »); otherwise it stays unknown (''). Column ``drapeaux_source`` says which
    rows got their flags from the list."""
    from analyse.schema import FLAGS
    from analyse.territory.matching import DEPARTEMENT_LEVEL

    rows = rows.copy()
    rows["drapeaux_source"] = ""
    if national.empty or rows.empty:
        return rows
    listed = national.assign(
        _siret=national["code"].fillna("").astype(str),
        _siren=national["code"].fillna("").astype(str).str[:9],
    )

    def candidates(row) -> pd.DataFrame:
        code = str(row.get("code") or "")
        if len(code) == 14 and code.isdigit():
            return listed.loc[listed["_siret"] == code]
        if len(code) == 9 and code.isdigit():
            return listed.loc[listed["_siren"] == code]
        kind, status = row["type_structure"], row["statut"]
        if kind == "epci" and status == LOCATED and row["siren_epci"]:
            return listed.loc[listed["_siren"] == row["siren_epci"]]
        if kind == "commune" and row.get("insee_commune"):
            return listed.loc[
                listed["type_structure"].eq("commune")
                & listed["insee_commune"].eq(row["insee_commune"])
            ]
        if status == DEPARTEMENT_LEVEL:
            return listed.loc[
                listed["statut"].eq(DEPARTEMENT_LEVEL)
                & listed["departement"].eq(row["departement"])
            ]
        return listed.iloc[0:0]

    for index, row in rows.iterrows():
        if row.get("source") == COSELEC_SOURCE or any(row.get(f) for f in FLAGS):
            continue
        found = candidates(row)
        if found.empty:
            continue
        for flag in FLAGS:
            values = set(found[flag].fillna(""))
            if len(values) == 1 and values != {""}:
                rows.at[index, flag] = values.pop()
        rows.at[index, "drapeaux_source"] = FLAGS_FROM_LIST
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


def prepare(
    departement: str,
    selections: MatchedSelections,
    reference: Reference,
    month: str | None = None,
    extras: Extras | None = None,
) -> Prepared:
    """What the report of ``departement`` shows, at the end of ``month`` if given.

    ``departement`` is a code of the reference, checked once where the user typed it
    (``check_departement``: '5' → '05', '2a' → '2A'). The steps, in order: the posts
    counted and their reconciliation, the territories' columns (priority areas,
    trajectory, comparison), the rows of the département and the month's changes, the
    places of the month and the distances to them, the targets and the gaps, then the
    context of the report and, if asked for, the placement scenario.
    """
    given = selections
    national = national_list(given, reference)
    end = month or last_month(given)
    selections = completed(given, national, departement)
    current = selections.until(end).table
    extras = extras or Extras()
    communes = _departement_communes(reference, departement)
    indicators, counts, trajectory, territories = _posts(
        departement, selections, reference, end, national.until(end).table
    )
    sirens = list(indicators["siren_epci"])
    ours = _rows_of_departement(current, departement, sirens)
    changes, newly_covered = _month_changes(ours, indicators, selections, month)
    places, dating = _places_of_month(selections, current, reference, extras, month)
    coverage = _coverage(departement, places, reference, indicators, communes, extras)
    indicators, communes, places, unmatched, beyond = coverage
    rejected_places, rejected_summary = _rejected_places(departement, extras)
    targets = _targets(given, reference, end, indicators, counts, departement)
    gaps = gaps_table(
        pd.DataFrame(indicators.drop(columns="geometry")),
        targets["cible_nationale"],
        targets["cible_departementale"],
        extras.custom_target,
    )
    context = Context(
        **_departement_context(departement, reference, month),
        situation=situation(given, month),
        epci_nouvellement_couverts=newly_covered,
        edition_reference=reference.edition,
        fichiers_selection=selections.files,
        editions_liste_nationale=national.national_editions,
        **provenance(),
        **_inputs_context(selections, extras, dating, rejected_summary, beyond),
        **_posts_context(current, departement, sirens, reference),
        **targets,
        cible_choisie=extras.custom_target,
        formule_priorite=SCORE_FORMULA,
        **territories,
    )
    prepared = Prepared(
        indicators=indicators,
        communes=communes,
        selections=ours,
        review=review_table(ours.loc[ours["compte_pour_departement"]]),
        anomalies=_anomalies_of(selections.anomalies, departement),
        hosts=_hosts(ours.loc[ours["dans_un_epci_du_departement"]], reference.communes),
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


def _posts(
    departement: str,
    selections: MatchedSelections,
    reference: Reference,
    end: str | None,
    national_now: pd.DataFrame,
) -> tuple[gpd.GeoDataFrame, dict, pd.DataFrame, dict]:
    """The posts of each EPCI at ``end``, their reconciliation, and the territories'
    columns (``territory_columns``): indicators, counts, trajectory, context entries."""
    current = selections.until(end).table
    indicators = epci_indicators(reference.epci, reference.communes, current, departement)
    sirens = list(indicators["siren_epci"])
    counts = reconciliation(current, departement, sirens, selections.anomalies)
    indicators, trajectory, territories = territory_columns(
        indicators, selections, reference, departement, end, national_now
    )
    return indicators, counts, trajectory, territories


def _places_of_month(
    selections: MatchedSelections,
    current: pd.DataFrame,
    reference: Reference,
    extras: Extras,
    month: str | None,
) -> tuple[gpd.GeoDataFrame, dict | None]:
    """The places of mediation that existed at the end of ``month`` (all of them without
    a month) and how they were dated; without a places file, the town halls of the
    communes hosting a selected structure (not dated)."""
    if extras.places is None:
        return selections.town_halls(current, reference), None
    dated = selections.dated_places(extras.places)
    return places_at(dated, month), dating_summary(dated, month)


def _targets(
    given: MatchedSelections,
    reference: Reference,
    end: str | None,
    indicators: pd.DataFrame,
    counts: dict,
    departement: str,
) -> dict:
    """The national and departmental target densities, with how each was computed."""
    national, national_label, national_month = national_target(given, reference, end)
    departemental, departemental_label = departement_target(indicators, counts, departement)
    return {
        "cible_nationale": national,
        "cible_nationale_calcul": national_label,
        "cible_nationale_mois": national_month,
        "cible_departementale": departemental,
        "cible_departementale_calcul": departemental_label,
    }


def _inputs_context(
    selections: MatchedSelections,
    extras: Extras,
    dating: dict | None,
    rejected_summary: dict,
    beyond,
) -> dict:
    """The context entries that say which data the report rests on."""
    return {
        "editions": [*selections.editions, *extras.editions],
        "ifn_fourni": extras.ifn is not None,
        "lieux_source": "fichier" if extras.places is not None else "mairies",
        "lieux_selection": extras.places_selection,
        "lieux_dates": dating,
        "fichiers_complementaires": extras.sources,
        "population_au_dela": beyond,
        "lieux_rejetes": rejected_summary,
    }


def _posts_context(
    current: pd.DataFrame, departement: str, sirens: list[str], reference: Reference
) -> dict:
    """The context entries about the posts: funding, arrivals, flags taken from the list."""
    flags = 0
    if "drapeaux_source" in current:
        ours = current.loc[current["departement"].eq(departement), "drapeaux_source"]
        flags = int(ours.eq(FLAGS_FROM_LIST).sum())
    return {
        "financement_par_poste_eur": config.STATE_FUNDING_PER_POST_EUR,
        "financement": funding_summary(current, departement),
        "venus_d_ailleurs": arrivals(current, departement, sirens, reference),
        "drapeaux_repris": flags,
    }


def _departement_communes(reference: Reference, departement: str) -> gpd.GeoDataFrame:
    """The current communes of the département (no arrondissement, no delegated one)."""
    communes = reference.communes
    return communes.loc[
        (communes["type"] == "COM") & (communes["departement"] == departement)
    ].reset_index(drop=True)


def _rows_of_departement(current: pd.DataFrame, departement: str, sirens: list[str]):
    """Rows counted for the département or located in one of its EPCI, with the two
    flags that say which (``compte_pour_departement``, ``dans_un_epci_du_departement``)."""
    counted = current["departement"] == departement
    located_here = (current["statut"] == LOCATED) & current["siren_epci"].isin(sirens)
    ours = current.loc[counted | located_here].copy()
    ours["compte_pour_departement"] = ours["departement"] == departement
    ours["dans_un_epci_du_departement"] = ours["statut"].eq(LOCATED) & ours["siren_epci"].isin(
        sirens
    )
    return ours.reset_index(drop=True)


def _month_changes(
    ours: pd.DataFrame, indicators: pd.DataFrame, selections: MatchedSelections, month
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of ``month``'s committees and the EPCI it covered for the first time
    (nothing without a month)."""
    if month is None:
        return pd.DataFrame(columns=ours.columns), []
    changes = ours.loc[ours["mois_comite"] == month].reset_index(drop=True)
    before = posts_per_epci(selections.until(_previous_month(month)).table)
    newly_covered = sorted(
        indicators.loc[
            (indicators["postes"] > 0) & (indicators["siren_epci"].map(before).fillna(0) == 0),
            "nom_epci",
        ]
    )
    return changes, newly_covered


def _departement_context(departement: str, reference: Reference, month) -> dict:
    """The département's names, collectivity, projection and the month shown."""
    return {
        "departement": departement,
        "nom": reference.departement_name(departement),
        "nom_avec_charniere": reference.departement_of_name(departement),
        "collectivite_departementale": config.departemental_collectivity(departement),
        "crs": config.metric_crs(departement),
        "mois": month,
    }


def covers_country(selections: MatchedSelections) -> bool:
    """Whether the selections cover the country (national figures then make sense)."""
    return selections.table["departement"].nunique() >= config.NATIONAL_COVERAGE_MIN


class _Kept:
    """Values computed from inputs that are the very same objects from one call to the
    next, kept under a key (with those inputs, so that a new object with a recycled
    ``id`` is never taken for them); the oldest go first beyond ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[tuple, tuple] = {}

    def get(self, key: tuple, sources: tuple, compute: Callable[[], object]):
        key = (*key, *(id(source) for source in sources))
        kept = self._values.get(key)
        if kept is not None and all(a is b for a, b in zip(kept[0], sources, strict=True)):
            return kept[1]
        if len(self._values) >= self.size:
            del self._values[next(iter(self._values))]
        value = compute()
        self._values[key] = (sources, value)
        return value


# National figures (every EPCI's flags, density class and density, the French counts)
# depend on the month's rows and the reference only: the same for every département of
# a month. Kept by the identity of the frames they come from, which ``until`` keeps; a
# few months only (they hold the month's rows).
_NATIONAL = _Kept(16)
# What a département's report computes the same way every month (the IFN joined to its
# communes; the distances to the places, while the places do not change): two values
# for each of the 101 départements, a few editions of the places.
_PER_DEPARTEMENT = _Kept(1024)


def _places_digest(places: gpd.GeoDataFrame) -> str:
    """Digest of the places (identifier, name, point): equal digests, same distances."""
    import hashlib

    digest = hashlib.sha256()
    names = places[["id", "nom"]].astype(str)
    digest.update(pd.util.hash_pandas_object(names, index=False).to_numpy().tobytes())
    points = shapely.to_wkb(places.geometry.to_numpy())
    digest.update(b"|".join(point or b"" for point in points))
    digest.update(str(places.crs).encode())
    return digest.hexdigest()


def territory_columns(
    indicators: gpd.GeoDataFrame,
    selections: MatchedSelections,
    reference: Reference,
    departement: str,
    month: str | None,
    national: pd.DataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict]:
    """Priority territories, trajectory and comparison with similar EPCI.

    Returns the indicators with the columns of ``schema.EPCI_COLUMNS``, the monthly
    trajectory of each EPCI, and the context entries: ``territoires_prioritaires``
    (counts for the département, as the ANCT counts its posts, and for France) and
    ``comparables_definition``. ``national``: the national list read back to the same
    month (``national_list_at``), which the French shares and the comparable EPCI come
    from; without it, the selections when they cover the country.
    """
    from analyse.analysis import comparison, priority_areas, trajectory

    current = selections.until(month).table
    if national is None and covers_country(selections):
        national = current
    indicators = indicators.copy()
    flags = _NATIONAL.get(("flags",), (current,), lambda: priority_areas.epci_flag_counts(current))
    for column in flags.columns:
        values = indicators["siren_epci"].map(flags[column]).fillna(0)
        indicators[column] = values.astype("int64")
    end = month or (str(current["mois_comite"].max()) if len(current) else None)
    history = trajectory.epci_trajectory(current, indicators, trajectory.month_range(end))
    first = indicators["siren_epci"].map(trajectory.first_month(history))
    # Object first: with no EPCI ever covered, the map gives an all-missing float column.
    indicators["premier_mois_conseiller"] = first.astype(object).where(first.notna(), "")
    available = national is not None and len(national) > 0
    source = national if available else current
    areas = _NATIONAL.get(
        ("areas",), (reference.epci,), lambda: comparison.epci_areas_km2(reference.epci)
    )
    table = _NATIONAL.get(
        ("epci",),
        (reference.epci, source),
        lambda: comparison.national_epci_table(reference.epci, source, areas),
    )
    compared = comparison.comparable_medians(indicators, table, available)
    for column in compared.columns:
        indicators[column] = compared[column]
    context = {
        "territoires_prioritaires": {
            "departement": priority_areas.summary(
                current.loc[current["departement"] == departement]
            ),
            "france": (
                dict(
                    _NATIONAL.get(
                        ("france",), (national,), lambda: priority_areas.summary(national)
                    )
                )
                if available
                else None
            ),
        },
        "comparables_definition": comparison.definition(),
        "comparables_disponibles": available,
    }
    return indicators, history, context


def departement_target(indicators: pd.DataFrame, counts: dict, departement: str) -> tuple:
    """The département's own density, on the same base as each EPCI's: posts located in
    its EPCI ÷ their whole population (EPCI of known population). The posts of the
    Conseil départemental (and of the Region, and those located elsewhere) serve no EPCI
    in particular: counting them in the target but not in any EPCI would make the posts
    missing add up to more than the département lacks. Returns the density and its
    computation in French."""
    from analyse.wording import plural

    known = indicators.loc[indicators["population"].notna()]
    posts = int(known["postes"].sum())
    target = density(posts, int(known["population"].sum()))
    label = (
        f"{plural(posts, 'poste')} localisés dans les intercommunalités du département ÷ "
        "leur population, comme la densité de chaque intercommunalité"
    )
    aside = counts.get("lus", 0) - counts.get("localises_dans_un_epci_du_departement", 0)
    if aside:
        label += (
            f" ; {plural(aside, 'poste')} comptés pour le département hors de ses "
            f"intercommunalités ({config.departemental_collectivity(departement)}, Région, "
            "structures situées ailleurs ou à vérifier) n'y entrent pas, puisqu'aucune "
            "intercommunalité n'en est créditée"
        )
    return target, label


def funding_summary(current: pd.DataFrame, departement: str) -> dict:
    """The State's funding of the posts counted for ``departement``: from each row's
    amount where the file gives it (the national list's « Investissement financier
    estimatif total de l'Etat »), else ``config.STATE_FUNDING_PER_POST_EUR`` per post.
    ``total`` (euros), ``postes_forfait`` (posts at the flat rate) and ``forfait``."""
    rows = current.loc[current["departement"] == departement]
    flat = rows["postes"].astype(float) * config.STATE_FUNDING_PER_POST_EUR
    given = rows.get("financement_etat_eur", pd.Series(float("nan"), index=rows.index))
    given = given.astype(float)
    return {
        "total": float(given.fillna(flat).sum()),
        "postes": int(rows["postes"].sum()),
        "postes_forfait": int(rows.loc[given.isna(), "postes"].sum()),
        "forfait": config.STATE_FUNDING_PER_POST_EUR,
    }


def arrivals(
    current: pd.DataFrame, departement: str, sirens: list[str], reference: Reference
) -> list[dict]:
    """Posts counted for another département but located in an EPCI of this one, per
    département and source, with their structures (name, EPCI, committee date)."""
    rows = current.loc[
        current["departement"].ne(departement)
        & current["statut"].eq(LOCATED)
        & current["siren_epci"].isin(sirens)
    ]
    out = []
    for (code, source), group in rows.groupby(["departement", "source"], sort=True):
        out.append(
            {
                "departement": code,
                "nom": reference.departement_name(code),
                "nom_avec_charniere": reference.departement_of_name(code),
                "source": "liste nationale" if source == COSELEC_SOURCE else str(source),
                "postes": int(group["postes"].sum()),
                "structures": [
                    {
                        "structure": str(r.structure),
                        "epci": str(r.nom_officiel),
                        "date": pd.Timestamp(r.date_comite).strftime("%d/%m/%Y"),
                        "postes": int(r.postes),
                    }
                    for r in group.sort_values("date_comite").itertuples()
                ],
            }
        )
    return out


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
    places: gpd.GeoDataFrame,
    reference: Reference,
    indicators: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    extras: Extras,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, dict]:
    """IFN, places and distances for the communes of the département and of its EPCI.

    ``places`` are those of the report's date: the places file's at that date, or
    without it the town hall of each located structure.

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
        def join() -> tuple:
            touched = all_communes.loc[all_communes["departement"].isin(set(scope["departement"]))]
            return join_ifn(
                touched, reference.epci.loc[reference.epci["siren"].isin(sirens)], extras.ifn
            )

        # The same every month: joined once per département and run.
        scored, epci_scored, unmatched = _PER_DEPARTEMENT.get(
            ("ifn", departement, tuple(sorted(sirens))), (reference, extras.ifn), join
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
    crs = config.metric_crs(departement)
    # Kept while the places stay the same: from one month to the next, most do.
    distances = _PER_DEPARTEMENT.get(
        ("distances", departement, crs, tuple(sorted(sirens)), _places_digest(places)),
        (reference,),
        lambda: nearest_place(scope, places, crs),
    )
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
