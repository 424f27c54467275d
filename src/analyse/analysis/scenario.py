"""Where the next posts should go: a placement scenario over the communes' town halls.

Demand is each commune's population at its town hall (optionally weighted by its digital
fragility index); candidates are the town halls of the département's communes; the
places that exist (those of neighbouring départements included) stay open. Two
objectives:

- ``couverture``: maximise the population within ``rayon_km`` of a place (maximal
  covering location problem, ``spopt.locate.MCLP``). The existing places enter the model
  as one pre-selected facility whose distance to each commune is that of its nearest
  place (``predefined_facilities_arr``): a commune is covered by them exactly when its
  nearest place is within the radius.
- ``distance``: minimise the population-weighted distance to the nearest place
  (p-median). spopt's ``PMedian`` builds one variable and one constraint per (commune,
  candidate) pair — 26 000 for the Hautes-Alpes, 420 000 for the Nord, far beyond the
  time allowed. A commune is never better served by a new post farther than its
  nearest existing place, so only the pairs where a candidate is nearer than the
  existing place are needed: the same p-median, solved exactly with PuLP's CBC, a
  hundred times smaller. Tests check it against ``spopt.locate.PMedian``.

Both models are solved with a time limit; when the model is too large or the solver
does not prove optimality in time, the scenario says so and falls back to the greedy
order (each post where it brings the most, given the previous ones). The posts chosen
together are then listed in the order a greedy reading gives: first the one that brings
the most on its own, then the one that adds the most to it, and so on.

Distances are straight lines between town halls in the département's metric CRS (the
same points as ``distance.nearest_place``): they understate travel in mountain areas.
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analyse import config
from analyse.analysis.distance import DEFAULT_THRESHOLDS_KM
from analyse.errors import UserError
from analyse.territory.places import town_hall_points
from analyse.wording import fmt_number, month_end, plural, situation_at

OBJECTIVES = ("couverture", "distance")
WEIGHTINGS = (None, "ifn")
# A post covers the inhabitants who would no longer be « far » from a place.
DEFAULT_RADIUS_KM = float(config.FAR_KM)
# Beyond this, CBC stops and the greedy order is used instead (never hang).
TIME_LIMIT_S = 20.0
# Above this many (commune, candidate) pairs in the model, building it alone would take
# longer than the time limit: the greedy order is used directly.
MAX_PAIRS = 150_000

METHOD_OPTIMAL = "optimal"
METHOD_GREEDY = "glouton"

PROPOSAL_COLUMNS = [
    "rang",
    "insee",
    "commune",
    "siren_epci",
    "nom_epci",
    "population_commune",
    "population_nouvellement_a_moins_du_rayon",
    "population_a_moins_du_rayon_cumulee",
    "habitants_rapproches",
    "gain_moyen_km",
    "distance_economisee_hab_km",
    "distance_economisee_cumulee_hab_km",
    "ex_aequo",
]
# How a tie is broken, in French: several communes would bring exactly as much.
TIE_RULE = (
    "à apport égal, la commune de plus forte fragilité numérique (IFN), puis la plus "
    "peuplée, puis la première dans la liste officielle des communes"
)


class ScenarioError(UserError):
    """Bad scenario settings (message in French)."""


@dataclass(frozen=True)
class Settings:
    """What the user asked: how many posts, which radius, objective and weighting."""

    postes: int
    rayon_km: float = DEFAULT_RADIUS_KM
    objectif: str = "couverture"
    ponderation: str | None = None

    def check(self) -> Settings:
        if self.postes < 1:
            raise ScenarioError(f"--postes attend un entier positif ; reçu : {self.postes}.")
        if not self.rayon_km > 0:
            raise ScenarioError(
                f"--rayon attend une distance positive en km ; reçu : {self.rayon_km}."
            )
        if self.objectif not in OBJECTIVES:
            raise ScenarioError(
                f"--objectif attend « couverture » ou « distance » ; reçu : « {self.objectif} »."
            )
        if self.ponderation not in WEIGHTINGS:
            raise ScenarioError(f"--ponderation attend « ifn » ; reçu : « {self.ponderation} ».")
        return self


@dataclass
class Instance:
    """Demand and candidates: the same communes, in the same order.

    ``existing``: distance in metres from each commune to its nearest existing place
    (infinite when there is none); ``distances``: square matrix of town hall to town hall
    distances in metres; ``weight``: what each commune counts for in the objective
    (its population, times its IFN factor when weighted).
    """

    communes: pd.DataFrame  # insee, nom, siren_epci, population
    population: np.ndarray
    weight: np.ndarray
    existing: np.ndarray
    distances: np.ndarray
    points: gpd.GeoSeries  # town halls, EPSG:4326
    weighting_note: str = ""
    ifn: np.ndarray | None = None  # each commune's IFN (NaN where unknown), for ties

    def tie_key(self, j: int) -> tuple:
        """``TIE_RULE``: the larger key wins among candidates that bring as much."""
        ifn = -np.inf if self.ifn is None or np.isnan(self.ifn[j]) else float(self.ifn[j])
        return (ifn, float(self.population[j]), -self._code_rank[j])

    @functools.cached_property
    def _code_rank(self) -> np.ndarray:
        """Rank of each commune's INSEE code (0: the smallest)."""
        return np.argsort(np.argsort(self.communes["insee"].to_numpy(dtype=str), kind="stable"))

    @property
    def size(self) -> int:
        return len(self.population)


@dataclass
class Result:
    """The posts proposed, in order, and what they change."""

    settings: Settings
    proposals: gpd.GeoDataFrame  # PROPOSAL_COLUMNS + geometry (town hall, EPSG:4326)
    beyond_before: dict[int, int]
    beyond_after: dict[int, int]
    method: str  # METHOD_OPTIMAL or METHOD_GREEDY
    method_note: str  # in French: how the posts were chosen
    solve_seconds: float
    objective_value: float  # of the weighted objective, for the tests
    notes: list[str] = field(default_factory=list)
    places: str = ""  # in French: the existing places it starts from, and their date

    def summary(self) -> dict:
        """JSON-ready description (stored in the prepared bundle's context)."""
        return {
            "postes": self.settings.postes,
            "rayon_km": self.settings.rayon_km,
            "objectif": self.settings.objectif,
            "ponderation": self.settings.ponderation,
            "methode": self.method,
            "methode_note": self.method_note,
            "duree_resolution_s": round(self.solve_seconds, 3),
            "valeur_objectif": self.objective_value,
            "population_au_dela_avant": {str(k): v for k, v in self.beyond_before.items()},
            "population_au_dela_apres": {str(k): v for k, v in self.beyond_after.items()},
            "remarques": self.notes,
            "regle_ex_aequo": TIE_RULE,
            "lieux": self.places,
        }


# ---------------------------------------------------------------------------- instance


def ifn_factor(communes: pd.DataFrame) -> tuple[np.ndarray, str]:
    """IFN ÷ the population-weighted mean IFN of the communes; 1 where it is missing."""
    if "ifn" not in communes:
        raise ScenarioError(
            "--ponderation ifn demande l'indice de fragilité numérique : ajoutez --fragilite."
        )
    ifn = pd.to_numeric(communes["ifn"], errors="coerce").to_numpy(dtype=float)
    population = communes["population"].fillna(0).to_numpy(dtype=float)
    known = ~np.isnan(ifn)
    if not known.any() or population[known].sum() == 0:
        raise ScenarioError("--ponderation ifn : aucune commune du département n'a d'IFN.")
    mean = float(np.average(ifn[known], weights=population[known]))
    factor = np.where(known, ifn / mean, 1.0)
    missing = int((~known).sum())
    note = (
        "Pondération par la fragilité numérique : chaque habitant compte pour l'IFN de sa "
        f"commune divisé par l'IFN moyen du département ({mean:.2f}".replace(".", ",")
        + ", moyenne pondérée par la population) : un habitant d'une commune plus fragile "
        "que la moyenne compte plus d'une fois."
    )
    if missing:
        note += f" {missing} commune(s) sans IFN comptent pour la moyenne (facteur 1)."
    return factor, note


def build_instance(
    communes: gpd.GeoDataFrame, crs: int, ponderation: str | None = None
) -> Instance:
    """The scenario's instance from the communes of a prepared bundle.

    ``communes`` needs ``insee, nom, siren_epci, population, distance_m`` and the
    geometry (``mairie_lon``/``mairie_lat`` used when present, as in the distance
    analysis); ``distance_m`` is the distance to the nearest existing place.
    """
    if {"mairie_lon", "mairie_lat"} <= set(communes.columns):
        points = town_hall_points(communes)
    else:
        points = communes.geometry.to_crs(config.GEOGRAPHIC_CRS).representative_point()
    projected = points.to_crs(crs)
    xy = np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])
    distances = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    population = communes["population"].fillna(0).to_numpy(dtype=float)
    existing = communes["distance_m"].astype(float).fillna(np.inf).to_numpy()
    weight, note = population, ""
    if ponderation == "ifn":
        factor, note = ifn_factor(communes)
        weight = population * factor
    ifn = (
        pd.to_numeric(communes["ifn"], errors="coerce").to_numpy(dtype=float)
        if "ifn" in communes
        else None
    )
    frame = pd.DataFrame(
        {
            "insee": communes["insee"].astype(str).to_numpy(),
            "nom": communes["nom"].to_numpy(),
            "siren_epci": communes["siren_epci"].to_numpy(),
            "population": population.astype("int64"),
        }
    )
    return Instance(
        frame, population, weight, existing, distances, points.reset_index(drop=True), note, ifn
    )


# -------------------------------------------------------------------------- objectives


def nearest_after(instance: Instance, chosen: list[int]) -> np.ndarray:
    """Distance of each commune to its nearest place once ``chosen`` are opened."""
    if not chosen:
        return instance.existing.copy()
    return np.minimum(instance.existing, instance.distances[:, chosen].min(axis=1))


def objective(instance: Instance, chosen: list[int], settings: Settings) -> float:
    """Weighted population within the radius (couverture), or weighted distance in
    km (distance, smaller is better)."""
    nearest = nearest_after(instance, chosen)
    if settings.objectif == "couverture":
        return float(instance.weight[nearest <= settings.rayon_km * 1000].sum())
    return float((instance.weight * nearest).sum() / 1000)


def _gain(instance: Instance, nearest: np.ndarray, settings: Settings) -> np.ndarray:
    """What opening each candidate would add, given the current nearest distances."""
    d = instance.distances
    if settings.objectif == "couverture":
        radius = settings.rayon_km * 1000
        newly = (d <= radius) & (nearest > radius)[:, None]
        return instance.weight @ newly
    saved = np.clip(nearest[:, None] - d, 0, None)
    saved[~np.isfinite(saved)] = 0
    return instance.weight @ saved


def greedy_order(
    instance: Instance, settings: Settings, pool: list[int] | None = None
) -> list[int]:
    """Posts one at a time, each where it adds the most (ties: ``TIE_RULE``).

    ``pool`` restricts the candidates (the posts an exact model chose, to order them);
    by default every commune is a candidate, and ``settings.postes`` are picked.
    """
    pool = list(range(instance.size)) if pool is None else list(pool)
    count = min(settings.postes, len(pool))
    chosen: list[int] = []
    nearest = instance.existing.copy()
    for _ in range(count):
        gains = _gain(instance, nearest, settings)
        remaining = [j for j in pool if j not in chosen]
        top = max(gains[j] for j in remaining)
        tied = [j for j in remaining if np.isclose(gains[j], top, rtol=1e-9, atol=1e-6)]
        best = max(tied, key=instance.tie_key)
        chosen.append(best)
        nearest = np.minimum(nearest, instance.distances[:, best])
    return chosen


def brute_force(instance: Instance, settings: Settings) -> tuple[list[int], float]:
    """Every set of ``settings.postes`` candidates tried (for the tests: small only)."""
    better = max if settings.objectif == "couverture" else min
    return better(
        (
            (list(c), objective(instance, list(c), settings))
            for c in itertools.combinations(range(instance.size), settings.postes)
        ),
        key=lambda pair: pair[1],
    )


# ------------------------------------------------------------------------------ models


class _NotSolved(Exception):
    """The model was too large or not proven optimal in time: reason in French."""


def _seconds(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _cbc(time_limit: float):
    import pulp

    return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, threads=1)


def _proven(problem) -> bool:
    import pulp

    return problem.status == pulp.LpStatusOptimal and problem.sol_status == pulp.LpSolutionOptimal


def solve_covering(instance: Instance, settings: Settings, time_limit: float) -> list[int]:
    """Maximal covering (spopt MCLP), existing places as one pre-selected facility."""
    from spopt.locate import MCLP

    radius = settings.rayon_km * 1000
    pairs = int((instance.distances <= radius).sum())
    if pairs > MAX_PAIRS:
        raise _NotSolved(f"modèle trop grand ({pairs} couples commune-candidat)")
    # Communes already within the radius of a place count whatever is chosen: only the
    # others are demand (spopt builds its constraints in Python, pair by pair).
    rows = np.flatnonzero((instance.existing > radius) & (instance.weight > 0))
    # The nearest existing place as one more column, opened whatever happens.
    existing = np.where(np.isfinite(instance.existing), instance.existing, radius * 10)
    cost = np.column_stack([instance.distances[rows], existing[rows]])
    predefined = np.zeros(instance.size + 1, dtype=int)
    predefined[-1] = 1
    model = MCLP.from_cost_matrix(
        cost,
        instance.weight[rows],
        service_radius=radius,
        p_facilities=settings.postes + 1,
        predefined_facilities_arr=predefined,
    )
    try:
        model.solve(_cbc(time_limit), results=False)
    except RuntimeError as error:  # spopt: "Model is not solved: …" (time limit hit)
        raise _NotSolved(f"pas de solution en {_seconds(time_limit)} s") from error
    if not _proven(model.problem):
        raise _NotSolved(f"optimum non prouvé en {_seconds(time_limit)} s")
    return [j for j in range(instance.size) if model.fac_vars[j].value() > 0.5]


def solve_median(instance: Instance, settings: Settings, time_limit: float) -> list[int]:
    """p-median with the existing places kept, over the pairs where a candidate is
    nearer than the commune's nearest existing place (exact: see the module doc)."""
    import pulp

    finite = np.isfinite(instance.existing)
    # No existing place at all (no selection anywhere near): every commune must be
    # served by a new post, as in the plain p-median.
    cap = np.where(finite, instance.existing, instance.distances.max() * 10 + 1)
    rows, cols = np.nonzero((instance.distances < cap[:, None]) & (instance.weight > 0)[:, None])
    if len(rows) > MAX_PAIRS:
        raise _NotSolved(f"modèle trop grand ({len(rows)} couples commune-candidat)")
    problem = pulp.LpProblem("p_median_postes", pulp.LpMaximize)
    open_ = [pulp.LpVariable(f"y_{j}", cat=pulp.LpBinary) for j in range(instance.size)]
    serve = [pulp.LpVariable(f"z_{i}_{j}", 0, 1) for i, j in zip(rows, cols, strict=True)]
    saving = instance.weight[rows] * (cap[rows] - instance.distances[rows, cols]) / 1000
    problem += pulp.lpDot(saving.tolist(), serve)
    by_row: dict[int, list] = {}
    for var, i, j in zip(serve, rows, cols, strict=True):
        by_row.setdefault(int(i), []).append(var)
        problem += var <= open_[j]
    for i, variables in by_row.items():
        if finite[i]:
            problem += pulp.lpSum(variables) <= 1
        else:
            problem += pulp.lpSum(variables) == 1
    problem += pulp.lpSum(open_) == settings.postes
    problem.solve(_cbc(time_limit))
    if not _proven(problem):
        raise _NotSolved(f"optimum non prouvé en {_seconds(time_limit)} s")
    return [j for j in range(instance.size) if open_[j].value() > 0.5]


# ----------------------------------------------------------------------------- scenario


def tie_counts(instance: Instance, order: list[int], settings: Settings) -> list[int]:
    """For each post of ``order``, how many other communes (not chosen before it) would
    bring exactly as much in its place, given the posts before it."""
    counts = []
    nearest = instance.existing.copy()
    for rank, j in enumerate(order):
        gains = _gain(instance, nearest, settings)
        taken = set(order[:rank])
        same = np.isclose(gains, gains[j], rtol=1e-9, atol=1e-6)
        counts.append(int(sum(1 for k in np.flatnonzero(same) if k != j and k not in taken)))
        nearest = np.minimum(nearest, instance.distances[:, j])
    return counts


def _beyond(instance: Instance, nearest: np.ndarray) -> dict[int, int]:
    return {t: int(instance.population[nearest > t * 1000].sum()) for t in DEFAULT_THRESHOLDS_KM}


def proposals_table(
    instance: Instance, order: list[int], settings: Settings, epci_names: dict | None = None
) -> gpd.GeoDataFrame:
    """One row per post, in order: what it adds given the previous ones (real
    inhabitants, never weighted), and the cumulative effect."""
    radius = settings.rayon_km * 1000
    population = instance.population
    nearest = instance.existing.copy()
    rows = []
    for rank, j in enumerate(order, start=1):
        after = np.minimum(nearest, instance.distances[:, j])
        closer = after < nearest
        saved = np.where(closer, nearest - after, 0.0)
        saved[~np.isfinite(saved)] = 0.0
        newly = (after <= radius) & (nearest > radius)
        moved = int(population[closer].sum())
        saved_km = float((population * saved).sum() / 1000)
        rows.append(
            {
                "rang": rank,
                "insee": instance.communes["insee"].iat[j],
                "commune": instance.communes["nom"].iat[j],
                "siren_epci": instance.communes["siren_epci"].iat[j],
                "population_commune": int(population[j]),
                "population_nouvellement_a_moins_du_rayon": int(population[newly].sum()),
                "habitants_rapproches": moved,
                "gain_moyen_km": saved_km / moved if moved else 0.0,
                "distance_economisee_hab_km": saved_km,
            }
        )
        nearest = after
    table = pd.DataFrame(rows, columns=[c for c in PROPOSAL_COLUMNS if c != "nom_epci"])
    table.insert(4, "nom_epci", table["siren_epci"].map(epci_names or {}))
    table["population_a_moins_du_rayon_cumulee"] = table[
        "population_nouvellement_a_moins_du_rayon"
    ].cumsum()
    table["distance_economisee_cumulee_hab_km"] = table["distance_economisee_hab_km"].cumsum()
    table["ex_aequo"] = pd.Series(tie_counts(instance, order, settings), dtype="int64")
    table = table[PROPOSAL_COLUMNS]
    return gpd.GeoDataFrame(
        table, geometry=instance.points.iloc[order].to_numpy(), crs=config.GEOGRAPHIC_CRS
    )


def _useful(instance: Instance, order: list[int], settings: Settings) -> list[int]:
    """The posts of ``order`` up to the last one that still brings something."""
    nearest = instance.existing.copy()
    kept: list[int] = []
    for j in order:
        after = np.minimum(nearest, instance.distances[:, j])
        if objective_gain(instance, nearest, after, settings) <= 0:
            break
        kept.append(j)
        nearest = after
    return kept


def objective_gain(
    instance: Instance, before: np.ndarray, after: np.ndarray, settings: Settings
) -> float:
    """Weighted gain of going from ``before`` to ``after`` nearest distances."""
    if settings.objectif == "couverture":
        radius = settings.rayon_km * 1000
        return float(instance.weight[(after <= radius) & (before > radius)].sum())
    saved = np.where(after < before, before - after, 0.0)
    saved[~np.isfinite(saved)] = 1.0  # from no place at all to one: a gain
    return float((instance.weight * saved).sum())


def run(
    instance: Instance,
    settings: Settings,
    epci_names: dict | None = None,
    time_limit: float = TIME_LIMIT_S,
) -> Result:
    """Solve the scenario: the exact model, or the greedy order when it cannot be."""
    settings = settings.check()
    notes = [instance.weighting_note] if instance.weighting_note else []
    if settings.postes > instance.size:
        raise ScenarioError(
            f"--postes {settings.postes} : le département n'a que {instance.size} communes."
        )
    import pulp  # noqa: F401  (imported before the clock starts: spopt alone takes ~3 s)
    import spopt.locate  # noqa: F401

    start = time.perf_counter()
    solve = solve_covering if settings.objectif == "couverture" else solve_median
    try:
        chosen = solve(instance, settings, time_limit)
        order = greedy_order(instance, settings, pool=chosen)
        # Among equally good choices the solver picks any: the greedy order, when it
        # reaches the same optimum, follows the stated tie rule instead.
        ruled = greedy_order(instance, settings)
        better = max if settings.objectif == "couverture" else min
        if np.isclose(
            better(objective(instance, ruled, settings), objective(instance, order, settings)),
            objective(instance, ruled, settings),
        ):
            order = ruled
        method = METHOD_OPTIMAL
        model = (
            "couverture maximale (spopt MCLP)"
            if settings.objectif == "couverture"
            else ("p-médiane")
        )
        method_note = f"Choix optimal : modèle de {model}, résolu par CBC (PuLP)."
    except _NotSolved as reason:
        order = greedy_order(instance, settings)
        method = METHOD_GREEDY
        method_note = (
            f"Le modèle exact n'a pas été résolu ({reason}) : les postes sont choisis un à "
            "un, chacun là où il apporte le plus (ordre glouton, proche de l'optimum sans "
            "le garantir)."
        )
    seconds = time.perf_counter() - start
    useful = _useful(instance, order, settings)
    radius = settings.rayon_km
    radius_text = fmt_number(radius, 0 if float(radius).is_integer() else 1)
    if settings.objectif == "couverture" and not useful:
        notes.append(
            f"Tous les habitants sont déjà à moins de {radius_text} km d'un lieu existant : "
            "un poste de plus n'en rapprocherait aucun de ce seuil. Essayez un rayon plus "
            "petit ou l'objectif « distance »."
        )
    elif len(useful) < len(order):
        notes.append(
            f"Au-delà de {plural(len(useful), 'poste')}, un poste de plus n'apporterait plus "
            "rien : les suivants ne sont pas proposés."
        )
    order = useful
    before = _beyond(instance, instance.existing)
    after = _beyond(instance, nearest_after(instance, order))
    return Result(
        settings,
        proposals_table(instance, order, settings, epci_names),
        before,
        after,
        method,
        method_note,
        seconds,
        objective(instance, order, settings),
        notes,
    )


def scenario_for(prepared, settings: Settings, time_limit: float = TIME_LIMIT_S) -> Result:
    """The scenario of a prepared département (``bundle.Prepared``): from the distances
    of its report, to the places of its date (``places_note``)."""
    instance = build_instance(prepared.communes, prepared.crs, settings.check().ponderation)
    names = dict(
        zip(prepared.indicators["siren_epci"], prepared.indicators["nom_epci"], strict=True)
    )
    result = run(instance, settings, names, time_limit)
    result.places = places_note(prepared.context)
    return result


def places_note(context) -> str:
    """Which existing places the scenario starts from, and their date, in French: those
    of the report's situation (the distances of its communes)."""
    situation = context.get("situation")
    dating = context.get("lieux_dates") or {}
    if context.get("lieux_source") != "fichier":
        when = situation_at(situation)
        return (
            "Lieux existants : les mairies des communes où siège une structure retenue"
            + (f" {when}" if when else "")
            + " (la liste des lieux de médiation numérique n'a pas été fournie)."
        )
    if dating.get("mois"):
        return (
            f"Lieux existants : les {plural(dating['retenus'], 'lieu', 'lieux')} de "
            f"médiation numérique qui existaient {month_end(dating['mois'], situation)} "
            f"(sur {fmt_number(dating['total'])} du fichier), ceux des distances du rapport."
        )
    return "Lieux existants : tous les lieux de médiation numérique du fichier."


def add_scenario(prepared, settings: Settings) -> None:
    """Solve the placement scenario and keep its proposals and summary in ``prepared``."""
    result = scenario_for(prepared, settings)
    prepared.propositions = result.proposals
    prepared.context["scenario"] = result.summary()


def for_postes(prepared, postes: int) -> tuple[gpd.GeoDataFrame, dict]:
    """Proposals and summary of ``prepared`` for ``postes`` more posts: those of the bundle
    when they answer ``postes``, else solved now (a notebook opened in JupyterLab with
    another value; default radius and objective)."""
    stored = prepared.context.get("scenario")
    if prepared.propositions is not None and stored and stored["postes"] == postes:
        return prepared.propositions, stored
    add_scenario(prepared, Settings(int(postes)))
    return prepared.propositions, prepared.context["scenario"]
