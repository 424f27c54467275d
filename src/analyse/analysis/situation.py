"""One situation, computed once for the whole country; every output is a slice of it.

A *situation* is one set of sources read at one date. The sources (``Sources``): the
selections given (the national list, or hand-typed rounds completed by the national list
where they say nothing), the territorial reference and the optional inputs (IFN,
places). The date: the end of a month, or the edition of the national list (the newest
committee of hand-typed rounds, read to the end of its month). ``Sources.at(month)``
computes the ``Situation``: the tables of every commune, EPCI and département of France
at that date, in one pass vectorised over the country — posts located and counted,
structures, population, density, funding, QPV / ZRR / France Services, IFN, distances to
the places of that date, the national target, posts missing, priority score,
comparables. This module is the only place those figures are computed.

Every output is a slice of a situation: a département's report
(``Situation.departement`` → ``bundle.Prepared``, which its notebook loads), a row of the
monthly index (``Situation.departements``), a month of the panel
(``Situation.panel_rows``), a fiche (``Situation.fiche_rows``). Slicing picks rows and
adds what only makes sense inside one département (its own target, the rank of its EPCI,
the posts of its Conseil départemental spread over them); it computes no figure of the
country again.

What does not depend on the date (the IFN joined to every commune, the places dated,
the EPCI's areas, the structure of every row) is computed once per ``Sources``; a
monthly run keeps one ``Sources`` and asks it for each month.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analyse import config, schema
from analyse.analysis import comparison, gaps, priority_areas, trajectory
from analyse.analysis.bundle import Context, Prepared, provenance
from analyse.analysis.distance import nearest_place, population_beyond
from analyse.analysis.fiche import (
    COMMUNE_COLUMNS,
    DEPARTEMENT_COLUMNS,
    EPCI_COLUMNS,
    STRUCTURE_COLUMNS,
    FicheRows,
)
from analyse.analysis.indicators import (
    CSV_COLUMNS,
    RECONCILIATION_COUNTS,
    density,
    departement_shares,
    derived_indicators,
    epci_measures,
    populations_in_departements,
    posts_per_epci,
    reconciliations,
    state_funding,
)
from analyse.analysis.inputs import Extras
from analyse.analysis.national import departement_table, epci_by_departement
from analyse.analysis.pipeline import (
    FLAGS_FROM_LIST,
    MatchedSelections,
    check_departement,
    completed,
    covers_country,
    last_month,
    match_selections,
    national_list,
)
from analyse.analysis.scenario import add_scenario
from analyse.read.selections import COSELEC_SOURCE
from analyse.territory.fragility import join_ifn
from analyse.territory.matching import LOCATED, review_table
from analyse.territory.places import REJECTED_COLUMNS, dating_summary, places_at, town_hall_points
from analyse.territory.reference import Reference, load_reference
from analyse.wording import fmt_date, fmt_number, plural, until_month_end

# Situations kept by a ``Sources`` (each holds the tables of the whole country): a
# monthly run asks for one month after the other, a report for one date.
SITUATIONS_KEPT = 3

# Columns of the distances kept on each commune.
_DISTANCE_COLUMNS = ["distance_m", "id_lieu", "nom_lieu"]


def when(selections: MatchedSelections, month: str | None = None) -> dict:
    """The one date a situation describes, derived from the data: JSON-ready.

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


# The sources of the last runs, by the identity of the objects read (``Sources.of``).
_KEPT: OrderedDict[tuple, Sources] = OrderedDict()
_KEPT_SIZE = 4


class Sources:
    """The sources of a situation, and what is computed from them whatever the date.

    ``selections`` as given (``pipeline.match_selections``): when they do not cover the
    country, they are completed by the national list (``pipeline.completed``) for the
    départements they do not cover, at the same date; the national figures (target,
    French shares, comparable EPCI) are read in the national list at that date.
    """

    def __init__(
        self, selections: MatchedSelections, reference: Reference, extras: Extras | None = None
    ) -> None:
        self.given = selections
        self.reference = reference
        self._extras = extras  # as given, for ``of``
        self.extras = extras or Extras()
        self.national = national_list(selections, reference)
        self.rows = completed(selections, self.national)
        self._situations: OrderedDict[str | None, Situation] = OrderedDict()

    @classmethod
    def of(
        cls, selections: MatchedSelections, reference: Reference, extras: Extras | None = None
    ) -> Sources:
        """The ``Sources`` of these very objects, kept from a previous call in this
        process (a notebook or a test asks for several départements or months of the same
        data): the situations already computed from them are not computed again."""
        key = (id(selections), id(reference), id(extras))
        kept = _KEPT.get(key)
        if kept is None or not (
            kept.given is selections and kept.reference is reference and kept._extras is extras
        ):
            if len(_KEPT) >= _KEPT_SIZE:
                _KEPT.popitem(last=False)
            kept = _KEPT[key] = cls(selections, reference, extras)
        return kept

    def at(self, month: str | None = None) -> Situation:
        """The situation at the end of ``month`` (YYYY-MM), or at the date of the sources
        (the national list's edition, or the month of the latest hand-typed committee)."""
        if month not in self._situations:
            if len(self._situations) >= SITUATIONS_KEPT:
                self._situations.popitem(last=False)
            self._situations[month] = Situation.compute(self, month)
        return self._situations[month]

    @property
    def months(self) -> list[str]:
        """Every month from the first committees to the latest committee read."""
        return trajectory.month_range(last_month(self.given))

    # -------------------------------------------------- computed once, whatever the date

    @functools.cached_property
    def communes(self) -> gpd.GeoDataFrame:
        """The current communes of France, with their IFN when it was given."""
        communes = self.reference.communes
        current = communes.loc[communes["type"] == "COM"]
        if self.ifn_join is None:
            return current
        scored = self.ifn_join[0]
        ifn_columns = [c for c in scored.columns if c.startswith("ifn")]
        return current.merge(scored[["insee", *ifn_columns]], on="insee", how="left")

    @functools.cached_property
    def ifn_join(self) -> tuple | None:
        """``fragility.join_ifn`` of every commune and EPCI of the reference."""
        if self.extras.ifn is None:
            return None
        return join_ifn(self.reference.communes, self.reference.epci, self.extras.ifn)

    @functools.cached_property
    def epci(self) -> gpd.GeoDataFrame:
        """Identity, population, area and IFN of every EPCI. The area is measured in the
        metric CRS of its first département (``config.metric_crs``), as in its report:
        the same for every département it reaches (Lambert-93 in mainland France)."""
        epci = self.reference.epci.rename(
            columns={"siren": "siren_epci", "nom": "nom_epci", "type": "type_epci"}
        )
        table = epci.copy()
        table["population"] = table["population"].astype("Int64")
        first = table["departements"].astype(str).str.split(",").str[0].str.strip()
        crs = first.map(config.metric_crs)
        area = pd.Series(np.nan, index=table.index)
        for code, rows in crs.groupby(crs).groups.items():
            area.loc[rows] = table.geometry.loc[rows].to_crs(code).area / 1e6
        table["surface_km2"] = area
        if self.ifn_join is not None:
            scored = self.ifn_join[1].set_index("siren")["ifn"]
            table["ifn"] = table["siren_epci"].map(scored)
        return table

    @functools.cached_property
    def structures(self) -> pd.Series:
        """The structure of every row (``priority_areas.structure_key``)."""
        return priority_areas.structure_key(self.rows.table)

    @functools.cached_property
    def dated_places(self) -> gpd.GeoDataFrame | None:
        """The places file dated by the rows of every month (``places.date_places``)."""
        if self.extras.places is None:
            return None
        return self.rows.dated_places(self.extras.places)

    @functools.cached_property
    def epci_of_departement(self) -> dict[str, list[str]]:
        return epci_by_departement(self.reference)

    @functools.cached_property
    def populations_in(self) -> pd.Series:
        """Population of each EPCI in each département (``departement``, SIREN)."""
        return populations_in_departements(self.reference.communes)

    @functools.cached_property
    def target_population(self) -> float:
        """The population of France that the national target divides by."""
        communes = self.reference.communes
        return communes.loc[communes["type"] == "COM", "population"].dropna().sum()


@dataclass
class Situation:
    """The whole country at one date, from one set of sources (``Sources.at``)."""

    sources: Sources
    month: str | None  # the month asked for (a monthly run), None for the sources' date
    end: str | None  # YYYY-MM: committees up to the end of it are counted
    label: dict  # ``when``: the date described
    current: pd.DataFrame  # every row at the date (completed selections)
    national_now: pd.DataFrame  # the national list at the date
    epci: gpd.GeoDataFrame  # every EPCI: measures, flags, IFN, distances, gaps, comparables
    communes: gpd.GeoDataFrame  # every current commune: IFN, nearest place
    departements: pd.DataFrame  # every département: the index's row and its reconciliation
    trajectory: pd.DataFrame  # every EPCI at the end of every month up to the date
    places: gpd.GeoDataFrame  # the places counted at the date (or the town halls)
    dating: dict | None  # how the places were dated (None: town halls)
    target: tuple[float, str, str | None]  # national target, its computation, its month
    comparables_available: bool
    france: dict | None  # QPV / ZRR / France Services counts of the country
    beyond: pd.DataFrame = field(repr=False, default=None)  # per département, from communes
    # The columns of the priority territories, the trajectory and the comparables, in the
    # order of the report's tables.
    territory_columns: list[str] = field(default_factory=list)
    # The columns of the monthly index, among those of ``departements``.
    index_columns: list[str] = field(default_factory=list)
    # The places each département's report shows (``_places_near``), by code.
    _near: dict = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------------- compute

    @classmethod
    def compute(cls, sources: Sources, month: str | None) -> Situation:
        """Every figure of the country at the end of ``month`` (see the module)."""
        reference = sources.reference
        end = month or last_month(sources.given)
        current = sources.rows.until(end).table
        national_now = sources.national.until(end).table
        target = national_target(sources, end, when(sources.given, month))

        table = epci_measures(sources.epci, current)
        flags = priority_areas.epci_flag_counts(current, sources.structures)
        for column in flags.columns:
            table[column] = table["siren_epci"].map(flags[column]).fillna(0).astype("int64")
        # (« postes » is there already: the same posts, located in each EPCI.)
        territory_columns = [c for c in flags.columns if c != "postes"]
        territory_columns.append("premier_mois_conseiller")
        history = trajectory.epci_trajectory(current, table, trajectory.month_range(end))
        first = table["siren_epci"].map(trajectory.first_month(history))
        # Object first: with no EPCI ever covered, the map gives an all-missing float column.
        table["premier_mois_conseiller"] = first.astype(object).where(first.notna(), "")
        available = len(national_now) > 0
        national_epci = comparison.national_epci_table(
            table, national_now if available else current
        )
        compared = comparison.comparable_medians(table, national_epci, available)
        for column in compared.columns:
            table[column] = compared[column]
        territory_columns += list(compared.columns)

        # The places of the situation's date, whatever the path: the end of the month
        # asked for, of the latest hand-typed committee, or of the list's edition (then
        # every place of the file already counts).
        places, dating = _places(sources, current, end)
        communes = sources.communes.copy()
        distances = _distances(communes, places)
        for column in _DISTANCE_COLUMNS:
            communes[column] = distances[column].to_numpy(
                dtype=float if column == "distance_m" else object
            )
        per_epci, _ = population_beyond(distances)
        per_epci = per_epci.dropna(subset=["siren_epci"]).set_index("siren_epci")
        beyond_columns = [
            c for c in per_epci.columns if c.startswith("population_") and c != "population"
        ]
        for column in beyond_columns:
            table[column] = table["siren_epci"].map(per_epci[column]).astype("Int64")
        in_departement = distances.drop(columns="siren_epci").rename(
            columns={"departement": "siren_epci"}
        )
        beyond, _ = population_beyond(in_departement)
        beyond = beyond.set_index("siren_epci")

        table["cible_nationale"] = target[0]
        table["postes_manquants_cible_nationale"] = gaps.posts_missing(table, target[0])
        table["score_priorite"] = gaps.priority_score(table, target[0])
        for name, values in derived_indicators(table).items():
            table[name] = values

        previous = sources.rows.until(_previous_month(end)).table if end else current.iloc[:0]
        departements = departement_table(current, previous, reference, end)
        index_columns = list(departements.columns)
        # Every code of the table: those of the reference and the collectivities beyond.
        members = {c: sources.epci_of_departement.get(c, []) for c in departements["code"]}
        counts = reconciliations(current, members, sources.given.anomalies)
        departements = departements.join(counts, on="code")
        targets = departement_targets(table, members, counts)
        departements = departements.join(targets, on="code")
        return cls(
            sources=sources,
            month=month,
            end=end,
            label=when(sources.given, month),
            current=current,
            national_now=national_now,
            epci=table,
            communes=communes,
            departements=departements,
            trajectory=history,
            places=places,
            dating=dating,
            target=target,
            comparables_available=available,
            france=priority_areas.summary(national_now) if available else None,
            beyond=beyond,
            territory_columns=territory_columns,
            index_columns=index_columns,
        )

    # ------------------------------------------------------------------ département

    def departement(self, departement: str) -> Prepared:
        """What the report of ``departement`` shows: its slice of the situation.

        ``departement`` is a code of the reference, checked once where the user typed it
        (``pipeline.check_departement``). The placement scenario, when one was asked for
        (``Extras.scenario``), is solved for it here.
        """
        sources, reference, extras = self.sources, self.sources.reference, self.sources.extras
        current = self.current
        sirens = self.sources.epci_of_departement.get(departement, [])
        indicators = self._indicators(departement, sirens)
        sirens = list(indicators["siren_epci"])
        counts = self._counts(departement)
        ours = _rows_of_departement(current, departement, sirens)
        changes, newly_covered = self._changes(ours, indicators)
        communes = self.communes.loc[self.communes["departement"].eq(departement)]
        near = self.places.loc[self.places["id"].isin(self._places_near(departement))]
        rejected_places, rejected_summary = _rejected_places(departement, extras)
        beyond = {
            column: int(value) if value == value else None
            for column, value in self._beyond_of(departement).items()
        }
        row = self._departements.loc[departement]
        dep_target, dep_label = row["cible_departementale"], row["cible_departementale_calcul"]
        national, national_label, national_month = self.target
        national_columns = ["postes_manquants_cible_nationale", "score_priorite"]
        gaps_table = gaps.departement_gaps(
            pd.DataFrame(indicators.drop(columns="geometry")).join(
                self.epci.set_index("siren_epci")[national_columns], on="siren_epci"
            ),
            dep_target,
            extras.custom_target,
        )
        given = sources.given
        context = Context(
            departement=departement,
            nom=reference.departement_name(departement),
            nom_avec_charniere=reference.departement_of_name(departement),
            collectivite_departementale=config.departemental_collectivity(departement),
            crs=config.metric_crs(departement),
            mois=self.month,
            situation=self.label,
            epci_nouvellement_couverts=newly_covered,
            edition_reference=reference.edition,
            fichiers_selection=sources.rows.files,
            editions_liste_nationale=sources.national.national_editions,
            **provenance(),
            editions=[*sources.rows.editions, *extras.editions],
            ifn_fourni=extras.ifn is not None,
            lieux_source="fichier" if extras.places is not None else "mairies",
            lieux_selection=extras.places_selection,
            lieux_dates=self.dating,
            fichiers_complementaires=extras.sources,
            population_au_dela=beyond,
            lieux_rejetes=rejected_summary,
            financement=funding_summary(current, departement),
            venus_d_ailleurs=arrivals(current, departement, sirens, reference),
            drapeaux_repris=_flags_taken(current, departement),
            cible_nationale=national,
            cible_nationale_calcul=national_label,
            cible_nationale_mois=national_month,
            cible_departementale=float(dep_target),
            cible_departementale_calcul=dep_label,
            cible_choisie=extras.custom_target,
            formule_priorite=gaps.SCORE_FORMULA,
            territoires_prioritaires={
                "departement": self._flags_of(departement),
                "france": dict(self.france) if self.france is not None else None,
            },
            comparables_definition=comparison.definition(),
            comparables_disponibles=self.comparables_available,
        )
        prepared = Prepared(
            indicators=indicators,
            communes=communes.reset_index(drop=True),
            selections=ours,
            review=review_table(ours.loc[ours["compte_pour_departement"]]),
            anomalies=_anomalies_of(given.anomalies, departement),
            hosts=_hosts(ours.loc[ours["dans_un_epci_du_departement"]], reference.communes),
            counts=counts,
            changes=changes,
            gaps=gaps_table,
            places=near.reset_index(drop=True),
            unmatched_ifn=self._unmatched_ifn(departement, sirens),
            context=context,
            places_rejected=rejected_places,
            trajectory=self._trajectory_of(sirens),
        )
        if extras.scenario is not None:
            add_scenario(prepared, extras.scenario)
        return prepared

    def _indicators(self, departement: str, sirens: list[str]) -> gpd.GeoDataFrame:
        """The EPCI of ``departement``, whole, with the columns of its report: the
        country's figures and the share of the département in each (its population
        there, the posts of its Conseil départemental spread over them)."""
        rows = self.epci.loc[self.epci["siren_epci"].isin(sirens)]
        rows = departement_shares(
            rows,
            self.sources.populations_in.loc[departement],
            int(self._departements.at[departement, "departementaux"]),
        )
        rows = rows.sort_values("nom_epci").reset_index(drop=True)
        derived = schema.names(schema.DERIVED_EPCI_COLUMNS)
        kept = [*CSV_COLUMNS, "geometry", *self.territory_columns, *_optional(rows), *derived]
        return gpd.GeoDataFrame(rows[kept], geometry="geometry", crs=self.epci.crs)

    def _counts(self, departement: str) -> dict:
        row = self._departements.loc[departement]
        return {name: int(row[name]) for name in RECONCILIATION_COUNTS}

    def _changes(self, ours: pd.DataFrame, indicators: pd.DataFrame):
        """The rows of the month's committees and the EPCI it covered for the first time
        (nothing without a month)."""
        if self.month is None:
            return pd.DataFrame(columns=ours.columns), []
        changes = ours.loc[ours["mois_comite"] == self.month].reset_index(drop=True)
        before = self._posts_before
        newly_covered = sorted(
            indicators.loc[
                (indicators["postes"] > 0) & (indicators["siren_epci"].map(before).fillna(0) == 0),
                "nom_epci",
            ]
        )
        return changes, newly_covered

    @functools.cached_property
    def _departements(self) -> pd.DataFrame:
        """``departements`` by code."""
        return self.departements.set_index("code")

    @functools.cached_property
    def _flag_counts(self) -> pd.DataFrame:
        """QPV / ZRR / France Services counts of the posts counted for each département."""
        return priority_areas.flag_counts(self.current, "departement", self.sources.structures)

    def _flags_of(self, departement: str) -> dict:
        """``priority_areas.summary`` of the posts counted for ``departement``."""
        if departement not in self._flag_counts.index:
            return {}
        return {k: int(v) for k, v in self._flag_counts.loc[departement].items()}

    @functools.cached_property
    def _posts_before(self) -> pd.Series:
        """Posts located in each EPCI at the end of the month before."""
        return posts_per_epci(self.sources.rows.until(_previous_month(self.month)).table)

    def _beyond_of(self, departement: str) -> dict:
        """Population of the département's own communes beyond each distance."""
        if departement in self.beyond.index:
            return self.beyond.loc[departement].to_dict()
        return {column: 0 for column in self.beyond.columns}

    def _unmatched_ifn(self, departement: str, sirens: list[str]) -> pd.DataFrame:
        """The IFN codes the report lists: those of its communes (and the codes of its
        département the reference lacks), and of its EPCI."""
        columns = ["niveau", "code", "nom", "motif"]
        if self.sources.ifn_join is None:
            return pd.DataFrame(columns=columns)
        unmatched = self.sources.ifn_join[2]
        communes = unmatched["niveau"].eq("commune") & unmatched["code"].str.startswith(departement)
        epci = unmatched["niveau"].ne("commune") & unmatched["code"].isin(sirens)
        return unmatched.loc[communes | epci].reset_index(drop=True)

    def _trajectory_of(self, sirens: list[str]) -> pd.DataFrame:
        """The trajectory of ``sirens``, in their order."""
        rows = self.trajectory.loc[self.trajectory["siren_epci"].isin(sirens)]
        order = pd.Series(range(len(sirens)), index=sirens)
        rows = rows.assign(_ordre=rows["siren_epci"].map(order))
        rows = rows.sort_values(["_ordre", "mois"], kind="stable").drop(columns="_ordre")
        return rows.reset_index(drop=True)

    # ------------------------------------------------------------------ other slices

    def index_table(self) -> pd.DataFrame:
        """Every département at the date: the rows of the monthly index."""
        return self.departements[self.index_columns]

    def panel_rows(self) -> pd.DataFrame:
        """Every EPCI at the end of the month: its rows of the analysts' panel."""
        table = pd.DataFrame(self.epci.drop(columns="geometry"))
        table.insert(0, "mois", self.end)
        if "ifn" not in table:  # without an IFN file: the column, empty
            table["ifn"] = np.nan
        return table[[c for c in schema.names(schema.PANEL_EPCI_COLUMNS) if c in table]]

    def fiche_rows(self, sirens: list[str]) -> FicheRows:
        """The figures of the fiches of ``sirens``: each EPCI whole, with one row per
        département it reaches (that département's density at the same date)."""
        reference = self.sources.reference
        epci = self.epci.loc[self.epci["siren_epci"].isin(sirens)]
        columns = [c for c in EPCI_COLUMNS if c in epci.columns]
        if "ifn" in epci.columns:
            columns.append("ifn")
        own = pd.DataFrame(epci[columns])
        reached = own.assign(departement=own["departements"].astype(str).str.split(",")).explode(
            "departement"
        )
        reached["departement"] = reached["departement"].str.strip()
        departements = self.departements.set_index("code")
        codes = reached["departement"]
        reached["nom_departement"] = codes.map(reference.departement_name)
        reached["nom_avec_charniere"] = codes.map(reference.departement_of_name)
        reached["densite_departement"] = codes.map(departements["cible_departementale"])
        reached["postes_departementaux"] = codes.map(departements["departementaux"])
        reached["collectivite_departementale"] = codes.map(config.departemental_collectivity)
        located = self.current.loc[
            self.current["statut"].eq(LOCATED) & self.current["siren_epci"].isin(sirens)
        ]
        structures = pd.DataFrame(located.reindex(columns=STRUCTURE_COLUMNS))
        # A table typed without the column (tests, older bundles): the day was given.
        day = structures["jour_comite_connu"]
        structures["jour_comite_connu"] = day.where(day.notna(), True).astype(bool)
        structures = structures.reset_index(drop=True)
        # Posts counted by the ANCT for a département the EPCI does not reach.
        reaches = structures["siren_epci"].map(own.set_index("siren_epci")["departements"])
        elsewhere = [
            dep not in str(deps).split(",")
            for dep, deps in zip(structures["departement"], reaches, strict=True)
        ]
        away = structures.loc[elsewhere].groupby("siren_epci")["postes"].sum()
        reached["postes_comptes_ailleurs"] = reached["siren_epci"].map(away).fillna(0)
        reached["postes_comptes_ailleurs"] = reached["postes_comptes_ailleurs"].astype("int64")
        order = [*columns, *DEPARTEMENT_COLUMNS, "postes_comptes_ailleurs"]
        communes = self.communes.loc[self.communes["siren_epci"].isin(sirens)]
        kept = [c for c in [*COMMUNE_COLUMNS, "mairie_lon", "mairie_lat"] if c in communes]
        # The places its map shows: those of each département it reaches and those
        # nearest to their communes, as each of their reports shows them.
        near = self._places_near
        places = pd.concat(
            [
                self.places.loc[
                    self.places["id"].isin(set().union(*(near(c) for c in codes)))
                ].assign(siren_epci=siren)
                for siren, codes in reached.groupby("siren_epci", sort=False)["departement"]
            ]
            or [self.places.iloc[:0].assign(siren_epci=None)]
        )
        return FicheRows(
            epci=reached[order].reset_index(drop=True),
            structures=structures,
            trajectory=self.trajectory.loc[self.trajectory["siren_epci"].isin(sirens)],
            communes=communes[[*kept, "geometry"]],
            places=places.reset_index(drop=True),
            context=self.fiche_context(),
        )

    def _places_near(self, departement: str) -> frozenset:
        """Ids of the places a report of ``departement`` shows: those in it and those
        nearest to one of its communes or of the communes of its EPCI."""
        if departement not in self._near:
            self._near[departement] = self._places_of(departement)
        return self._near[departement]

    def _places_of(self, departement: str) -> frozenset:
        sirens = self.sources.epci_of_departement.get(departement, [])
        communes = self.communes
        scope = communes["departement"].eq(departement) | communes["siren_epci"].isin(sirens)
        ids = set(communes.loc[scope, "id_lieu"].dropna())
        ids |= set(self.places.loc[self.places["departement"].eq(departement), "id"])
        return frozenset(ids)

    def fiche_context(self) -> dict:
        """What every fiche of the situation says of its date and sources."""
        national, _, national_month = self.target
        provenance_now = provenance()
        return {
            "situation": self.label,
            "mois": self.month,
            "cible_nationale": national,
            "cible_nationale_mois": national_month,
            "comparables_disponibles": self.comparables_available,
            "editions_liste_nationale": self.sources.national.national_editions,
            "edition_reference": self.sources.reference.edition,
            "fichiers_selection": self.sources.rows.files,
            "fichiers_complementaires": self.sources.extras.sources,
            "lieux_source": "fichier" if self.sources.extras.places is not None else "mairies",
            "ifn_fourni": self.sources.extras.ifn is not None,
            "genere_le": provenance_now["genere_le"],
        }

    def sirens_of(self, departements: list[str]) -> list[str]:
        """The EPCI reaching ``departements``, each once, in the order of the reference."""
        wanted = set(departements)
        deps = self.epci["departements"].astype(str).str.split(",")
        mask = deps.map(lambda codes: bool(wanted & {c.strip() for c in codes}))
        return list(self.epci.loc[mask, "siren_epci"])


def _optional(rows: pd.DataFrame) -> list[str]:
    """Columns some situations have (the IFN, the distances), in the report's order."""
    optional = ["ifn", *(config.beyond_column(km) for km in config.DISTANCE_THRESHOLDS_KM)]
    optional.append("population_sans_distance")
    return [c for c in optional if c in rows.columns]


def _previous_month(month: str) -> str:
    return (pd.Period(month, freq="M") - 1).strftime("%Y-%m")


def _places(
    sources: Sources, current: pd.DataFrame, end: str | None
) -> tuple[gpd.GeoDataFrame, dict | None]:
    """The places of mediation that existed at the end of ``end`` (the situation's month;
    all of them without one) and how they were dated; without a places file, the town
    halls of the communes hosting a selected structure (not dated)."""
    if sources.dated_places is None:
        return sources.rows.town_halls(current, sources.reference), None
    dated = sources.dated_places
    return places_at(dated, end), dating_summary(dated, end)


def _distances(communes: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> pd.DataFrame:
    """``distance.nearest_place`` of every commune, each measured in the metric CRS of
    its département, as in its report."""
    crs = communes["departement"].map(config.metric_crs)
    parts = [
        nearest_place(communes.loc[rows], places, int(code))
        for code, rows in crs.groupby(crs).groups.items()
    ]
    return pd.concat(parts).reindex(communes.index)


def national_target(
    sources: Sources, end: str | None, situation: dict | None = None
) -> tuple[float, str, str | None]:
    """Density of the programme at the end of ``end``: posts of the national list read
    back to then ÷ national population.

    Returns the density, the French description of its computation and the month
    (YYYY-MM) it describes. When the selections do not cover the country (the
    Hautes-Alpes rounds typed by hand), the national list is read back to the same
    month, and the label says so. Communes of unknown population are left out, and so
    are the posts located in their EPCI.
    """
    reference = sources.reference
    current = sources.national.until(end).table
    unknown = reference.epci.loc[reference.epci["population"].isna(), "siren"]
    left_out = int(
        current.loc[
            current["statut"].eq(LOCATED) & current["siren_epci"].isin(set(unknown)),
            "postes",
        ].sum()
    )
    posts = int(current["postes"].sum()) - left_out
    # « jusqu'au 5 avril 2023 » at a list's edition: its month was not over.
    until = until_month_end(end, situation) if end else "jusqu'à sa date"
    label = (
        f"{fmt_number(posts)} postes attribués par les comités {until} ÷ population de la France"
    )
    if not covers_country(sources.given):
        editions = sources.national.national_editions
        if editions:
            edition = fmt_date(max(e["edition"] for e in editions))
            label += f" ; postes lus dans la liste nationale du {edition} relue à cette date"
    if left_out:
        label += (
            f" ; {fmt_number(left_out)} poste(s) d'intercommunalités de population "
            "inconnue laissés de côté"
        )
    return density(posts, sources.target_population), label, end


def departement_targets(
    epci: pd.DataFrame, epci_of_departement: dict[str, list[str]], counts: pd.DataFrame
) -> pd.DataFrame:
    """Every département's own density, on the same base as each EPCI's: posts located
    in its EPCI ÷ their whole population (EPCI of known population), and how it was
    computed, in French (``cible_departementale``, ``cible_departementale_calcul``).

    The posts of the Conseil départemental (and of the Region, and those located
    elsewhere) serve no EPCI in particular: counting them in the target but not in any
    EPCI would make the posts missing add up to more than the département lacks.
    """
    known = epci.loc[epci["population"].notna()].set_index("siren_epci")
    rows = {}
    for code, sirens in epci_of_departement.items():
        mine = known.loc[known.index.intersection(sirens)]
        posts = int(mine["postes"].sum())
        label = (
            f"{plural(posts, 'poste')} localisés dans les intercommunalités du département ÷ "
            "leur population, comme la densité de chaque intercommunalité"
        )
        aside = 0
        if code in counts.index:
            located = counts.at[code, "localises_dans_un_epci_du_departement"]
            aside = counts.at[code, "lus"] - located
        if aside:
            label += (
                f" ; {plural(int(aside), 'poste')} comptés pour le département hors de ses "
                f"intercommunalités ({config.departemental_collectivity(code)}, la Région, "
                "les structures situées ailleurs ou à vérifier) n'y entrent pas, puisqu'aucune "
                "intercommunalité n'en est créditée"
            )
        rows[code] = {
            "cible_departementale": density(posts, int(mine["population"].sum())),
            "cible_departementale_calcul": label,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def funding_summary(current: pd.DataFrame, departement: str) -> dict:
    """The State's funding of the posts counted for ``departement``
    (``indicators.state_funding``: the national list's amounts, those of its attributions
    for hand-typed rows): ``total`` (euros) of the posts whose amount is known,
    ``postes``, and ``postes_montant_inconnu`` (the posts no file gives an amount for)."""
    rows = current.loc[current["departement"] == departement]
    given = state_funding(rows)
    return {
        "total": float(given.sum()),
        "postes": int(rows["postes"].sum()),
        "postes_montant_inconnu": int(rows.loc[given.isna(), "postes"].sum()),
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
                        # A round typed by its month: « 03/2021 », no invented day.
                        "date": pd.Timestamp(r.date_comite).strftime(
                            "%d/%m/%Y" if getattr(r, "jour_comite_connu", True) else "%m/%Y"
                        ),
                        "postes": int(r.postes),
                    }
                    for r in group.sort_values("date_comite").itertuples()
                ],
            }
        )
    return out


def _flags_taken(current: pd.DataFrame, departement: str) -> int:
    """Hand rows of the département whose QPV / ZRR / France Services flags come from the
    national list (``pipeline.from_national``)."""
    if "drapeaux_source" not in current:
        return 0
    ours = current.loc[current["departement"].eq(departement), "drapeaux_source"]
    return int(ours.eq(FLAGS_FROM_LIST).sum())


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


def prepare(
    departement: str,
    selections: MatchedSelections,
    reference: Reference,
    month: str | None = None,
    extras: Extras | None = None,
) -> Prepared:
    """The report of one département at the end of ``month`` (if given): the slice of a
    situation of these sources (``Sources.of``: computed once for the same objects)."""
    return Sources.of(selections, reference, extras).at(month).departement(departement)


def prepare_one(
    departement: str, selection_paths=None, reference: Reference | None = None
) -> Prepared:
    """Convenience for one département: match its selection files, then prepare."""
    reference = reference or load_reference()
    departement = check_departement(reference, departement)
    return prepare(departement, match_selections(selection_paths, reference), reference)
