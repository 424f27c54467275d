"""What the fiche of an intercommunalité shows, one record per EPCI and département.

``FicheRows`` holds the fiches' figures of some EPCI, cut from a situation of the
country (``analysis.situation.Situation.fiche_rows``): the very tables its reports show,
at the same date. Nothing is computed here but where an EPCI's next posts should go:
``next_posts`` is the placement model of ``analysis.scenario`` restricted to the
communes of one EPCI.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from analyse import config, digest, schema
from analyse.analysis.scenario import Settings, build_instance, greedy_order, proposals_table

# Columns of the indicators and gaps tables the fiche shows (as the report names them).
EPCI_COLUMNS = [
    "siren_epci",
    "nom_epci",
    "type_epci",
    "departements",
    "nb_communes",
    "population",
    "postes",
    "conseillers_pour_10000_hab",
    "classe_densite",
    "densite_mediane_comparables",
    "premier_mois_conseiller",
    *(config.beyond_column(km) for km in config.DISTANCE_THRESHOLDS_KM),
    "postes_manquants_cible_nationale",
    *schema.names(schema.DERIVED_EPCI_COLUMNS),
]
# What each record says of the département it comes from and of the nation.
DEPARTEMENT_COLUMNS = [
    "departement",
    "nom_departement",
    "nom_avec_charniere",
    "densite_departement",
    "postes_departementaux",
    "collectivite_departementale",
]
STRUCTURE_COLUMNS = [
    "siren_epci",
    "structure",
    "insee_commune",
    "nom_officiel",
    "postes",
    "date_comite",
    "jour_comite_connu",
    "departement",
    "fichier",
    "ligne",
]
# ``ifn`` (when the index was given): the placement's tie rule (``scenario.TIE_RULE``:
# highest IFN, then most populous, then smallest code) reads it, as in the report.
COMMUNE_COLUMNS = ["insee", "nom", "departement", "siren_epci", "population", "distance_m", "ifn"]

# How many places the fiche proposes for the EPCI's next posts.
NEXT_POSTS = 3


@dataclass
class FicheRows:
    """The fiches' data of one or several départements.

    ``epci``: one row per (EPCI, département it reaches), ``EPCI_COLUMNS`` (plus ``ifn``
    when the index was given), ``DEPARTEMENT_COLUMNS``, and ``postes_comptes_ailleurs``
    (posts located in it that the ANCT counts for a département it does not reach);
    ``context``: the situation (``mois``, date, national target, sources) shared by all;
    ``structures``: the located selection rows; ``trajectory``: posts and density at the
    end of each month; ``communes``: its communes with their distance to the nearest
    place (EPSG:4326); ``places``: the places of mediation its map shows (one row per
    EPCI and place: those of the départements it reaches and those nearest to their
    communes).
    """

    epci: pd.DataFrame
    structures: pd.DataFrame
    trajectory: pd.DataFrame
    communes: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    context: dict
    # ``epci`` as dicts, made once (``records``).
    _records: list[dict] | None = field(default=None, repr=False, compare=False)
    # One EPCI's rows (``of``, ``each``): where its next posts should go (``next_posts``),
    # solved here so that rendering only shows them.
    proposals: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def records(self) -> list[dict]:
        """The rows of ``epci`` as dicts (an EPCI's: one per département it reaches)."""
        if self._records is None:
            self._records = self.epci.to_dict("records")
        return self._records

    def sirens(self) -> list[str]:
        return list(dict.fromkeys(self.epci["siren_epci"]))

    def of(self, siren: str) -> FicheRows:
        """The rows of one EPCI."""

        def mine(frame):
            return frame.loc[frame["siren_epci"] == siren]

        return with_proposals(
            FicheRows(
                mine(self.epci),
                mine(self.structures),
                mine(self.trajectory),
                mine(self.communes),
                mine(self.places),
                self.context,
            )
        )

    def each(self) -> Iterator[tuple[str, FicheRows]]:
        """The rows of each EPCI in turn (split once: faster than ``of`` for many)."""
        groups = {
            name: dict(iter(getattr(self, name).groupby("siren_epci", sort=False)))
            for name in ("epci", "structures", "trajectory", "communes", "places")
        }
        records: dict[str, list[dict]] = {}
        for record in self.records():
            records.setdefault(record["siren_epci"], []).append(record)
        for siren in self.sirens():

            def mine(name, siren=siren):
                frame = getattr(self, name)
                return groups[name].get(siren, frame.iloc[:0])

            yield (
                siren,
                with_proposals(
                    FicheRows(
                        mine("epci"),
                        mine("structures"),
                        mine("trajectory"),
                        mine("communes"),
                        mine("places"),
                        self.context,
                        records[siren],
                    )
                ),
            )


# The next posts of an EPCI are a function of its communes (population, town hall,
# distance to the nearest place) alone: a monthly run computes them once for the months
# that did not change them, not once a month. Kept under the project's one key rule
# (``digest.key``: the code and the content of those communes).
_NEXT_POSTS: dict[str, gpd.GeoDataFrame] = {}
_NEXT_POSTS_KEPT = 20_000  # ≈ 16 EPCI-months of France; a few kB each


def with_proposals(rows: FicheRows) -> FicheRows:
    """``rows`` (one EPCI's) with the best places for its next posts."""
    if len(rows.epci):
        crs = metric_crs(rows)
        key = digest.key("postes-suivants", rows.communes, crs)
        if key not in _NEXT_POSTS:
            if len(_NEXT_POSTS) >= _NEXT_POSTS_KEPT:
                _NEXT_POSTS.clear()
            _NEXT_POSTS[key] = next_posts(rows.communes, crs)
        rows.proposals = _NEXT_POSTS[key].copy()
    return rows


def next_posts(communes: gpd.GeoDataFrame, crs: int, posts: int = NEXT_POSTS) -> gpd.GeoDataFrame:
    """The best places for the EPCI's next posts: the placement model of the report
    (``analysis.scenario``, objective « distance ») with the EPCI's own communes as
    demand and candidates, in the order of its greedy reading. For the first post the
    greedy choice is the model's optimum; the next ones each add the most given the
    previous. Places that would bring no inhabitant nearer are left out."""
    if communes.empty:
        return gpd.GeoDataFrame(columns=["rang", "insee", "commune"], geometry=[], crs=4326)
    instance = build_instance(communes.reset_index(drop=True), crs)
    settings = Settings(min(posts, instance.size), objectif="distance")
    order = greedy_order(instance, settings)
    table = proposals_table(instance, order, settings)
    return table.loc[table["habitants_rapproches"] > 0].reset_index(drop=True)


def metric_crs(rows: FicheRows) -> int:
    """The metric CRS of an EPCI's maps and distances: its first département's."""
    return config.metric_crs(str(rows.epci["departement"].iloc[0]))
