"""What the fiche of an intercommunalité shows, one record per EPCI.

``fiche_rows`` takes a département's prepared tables (``bundle.Prepared``: the very
tables its report shows) and keeps, for each of its EPCI, the figures of its fiche:
its indicators and gaps, the département's and the nation's density, the structures
located in it, its trajectory and its communes. Nothing is computed twice: every
figure is a column the report's functions already computed. An EPCI spanning two
départements has one record in each département's rows; ``combine`` puts them
together, whole (its own figures are the same in both, its départements' figures are
listed side by side).

``next_posts`` is the placement model of ``analysis.scenario`` restricted to the
communes of one EPCI.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from analyse import config
from analyse.analysis.bundle import Prepared
from analyse.analysis.scenario import Settings, build_instance, greedy_order, proposals_table
from analyse.territory.matching import LOCATED

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
    "departement",
    "fichier",
    "ligne",
]
COMMUNE_COLUMNS = ["insee", "nom", "departement", "siren_epci", "population", "distance_m"]

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
    place (EPSG:4326); ``places``: the places of mediation near them.
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
                self.places,
                self.context,
            )
        )

    def each(self) -> Iterator[tuple[str, FicheRows]]:
        """The rows of each EPCI in turn (split once: faster than ``of`` for many)."""
        groups = {
            name: dict(iter(getattr(self, name).groupby("siren_epci", sort=False)))
            for name in ("epci", "structures", "trajectory", "communes")
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
                        self.places,
                        self.context,
                        records[siren],
                    )
                ),
            )


# The next posts of an EPCI are a function of its communes (population, town hall,
# distance to the nearest place) alone: a monthly run computes them once for the months
# that did not change them, not once a month. Kept by a digest of those communes.
_NEXT_POSTS: dict[bytes, gpd.GeoDataFrame] = {}
_NEXT_POSTS_KEPT = 20_000  # ≈ 16 EPCI-months of France; a few kB each


def _communes_digest(communes: pd.DataFrame, crs: int) -> bytes:
    import hashlib

    digest = hashlib.sha256(f"{crs}|{list(communes.columns)}|{list(communes.dtypes)}".encode())
    digest.update(pd.util.hash_pandas_object(communes, index=False).to_numpy().tobytes())
    return digest.digest()


def with_proposals(rows: FicheRows) -> FicheRows:
    """``rows`` (one EPCI's) with the best places for its next posts."""
    if len(rows.epci):
        crs = metric_crs(rows)
        key = _communes_digest(rows.communes, crs)
        if key not in _NEXT_POSTS:
            if len(_NEXT_POSTS) >= _NEXT_POSTS_KEPT:
                _NEXT_POSTS.clear()
            _NEXT_POSTS[key] = next_posts(rows.communes, crs)
        rows.proposals = _NEXT_POSTS[key].copy()
    return rows


def fiche_rows(prepared: Prepared) -> FicheRows:
    """The fiche's figures of every EPCI of the département of ``prepared``."""
    ctx = prepared.context
    gaps = prepared.gaps.set_index("siren_epci")
    indicators = prepared.indicators.set_index("siren_epci", drop=False)
    columns = [c for c in EPCI_COLUMNS if c in indicators.columns]
    epci = pd.DataFrame(indicators[columns]).reset_index(drop=True)
    sirens = epci["siren_epci"]
    epci["postes_manquants_cible_nationale"] = sirens.map(gaps["postes_manquants_cible_nationale"])
    if "ifn" in indicators.columns:
        epci["ifn"] = indicators["ifn"].to_numpy()
    epci["departement"] = prepared.departement
    epci["nom_departement"] = prepared.nom
    epci["nom_avec_charniere"] = ctx.get("nom_avec_charniere", prepared.nom)
    epci["densite_departement"] = ctx["cible_departementale"]
    epci["postes_departementaux"] = prepared.counts["departementaux"]
    epci["collectivite_departementale"] = ctx["collectivite_departementale"]

    located = prepared.selections.loc[
        prepared.selections["statut"].eq(LOCATED) & prepared.selections["siren_epci"].isin(sirens)
    ]
    structures = pd.DataFrame(located[STRUCTURE_COLUMNS]).reset_index(drop=True)
    # Posts counted by the ANCT for a département the EPCI does not reach.
    reaches = structures["siren_epci"].map(epci.set_index("siren_epci")["departements"])
    elsewhere = [
        dep not in str(deps).split(",")
        for dep, deps in zip(structures["departement"], reaches, strict=True)
    ]
    away = structures.loc[elsewhere].groupby("siren_epci")["postes"].sum()
    epci["postes_comptes_ailleurs"] = sirens.map(away).fillna(0).astype("int64")

    communes = prepared.communes
    kept = [c for c in [*COMMUNE_COLUMNS, "mairie_lon", "mairie_lat"] if c in communes.columns]
    context = {
        key: ctx.get(key)
        for key in (
            "mois",
            "cible_nationale",
            "cible_nationale_mois",
            "comparables_disponibles",
            "editions_liste_nationale",
            "edition_reference",
            "fichiers_selection",
            "fichiers_complementaires",
            "lieux_source",
            "ifn_fourni",
            "genere_le",
        )
    }
    context["dernier_comite"] = _last_committee(prepared.selections)
    return FicheRows(
        epci=epci,
        structures=structures,
        trajectory=prepared.trajectory.loc[prepared.trajectory["siren_epci"].isin(sirens)],
        communes=communes.loc[communes["siren_epci"].isin(sirens), [*kept, "geometry"]],
        places=prepared.places,
        context=context,
    )


def _last_committee(selections: pd.DataFrame) -> str | None:
    if not len(selections):
        return None
    return str(pd.to_datetime(selections["date_comite"]).max().date())


def combine(parts: list[FicheRows]) -> FicheRows:
    """The rows of several départements as one: an EPCI that spans two keeps one row per
    département in ``epci``, and its structures, months and communes once."""
    if not parts:
        raise ValueError("aucune fiche à combiner")

    def union(frames, key):
        table = pd.concat(frames, ignore_index=True)
        return table.drop_duplicates(subset=key).reset_index(drop=True)

    communes = union([p.communes for p in parts], ["insee"])
    places = union([p.places for p in parts], ["id"]) if len(parts) > 1 else parts[0].places
    # The same selection row is in both départements' tables when its EPCI spans them.
    structures = union([p.structures for p in parts], ["fichier", "ligne"])
    return FicheRows(
        epci=union([p.epci for p in parts], ["siren_epci", "departement"]),
        structures=structures,
        trajectory=union([p.trajectory for p in parts], ["siren_epci", "mois"]),
        communes=gpd.GeoDataFrame(communes, geometry="geometry", crs=parts[0].communes.crs),
        places=gpd.GeoDataFrame(places, geometry="geometry", crs=parts[0].places.crs),
        context=parts[0].context,
    )


def missing_departements(rows: FicheRows) -> list[str]:
    """Départements some EPCI of ``rows`` reach but whose rows are not there: their
    fiches would not be whole without them."""
    have = set(rows.epci["departement"])
    reached = {d for deps in rows.epci["departements"] for d in str(deps).split(",") if d}
    return sorted(reached - have)


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
