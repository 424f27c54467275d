"""The fiche of an intercommunalité: one offline HTML page, one A4 sheet when printed.

Its figures come from ``analysis.fiche`` (the same tables as the département's report);
this module turns them into plain French sentences and small inline SVG figures
(density beside its département, the nation and comparable territories; the month by
month line; a locator map), then into a page from the Jinja templates of
``templates/fiche/`` (the project's one environment, ``render.fragments``, autoescaped).
No kernel, no matplotlib: a fiche renders in a few milliseconds.

``search_page`` writes the offline page that finds an EPCI's fiche from a commune's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from analyse import config
from analyse.analysis.comparison import KIND_LABELS
from analyse.render.fragments import TEMPLATES_DIR, Markup, render
from analyse.render.tables import source_words
from analyse.territory.reference import Reference, departement_shapes
from analyse.wording import (
    at_commune,
    capitalise,
    committee_when,
    epci_subject,
    fmt_date,
    fmt_number,
    french_date,
    month_end,
    month_label,
    noun,
    plural,
    short_epci_name,
)
from analyse.wording import situation_label as situation_words

if TYPE_CHECKING:  # a type only: the fiche's figures are computed in analysis.fiche
    from analyse.analysis import fiche as data

_BASE = fmt_number(config.DENSITY_BASE)
# Structures named one by one on the fiche; the others are counted in one line, so that
# a métropole's fiche still fits one A4 page.
STRUCTURES_SHOWN = 5
# Width of the SVG figures, in CSS pixels: their text keeps its size on a 390 px phone.
FIGURE_WIDTH = 340
MAP_MAX_HEIGHT = 320
COLOURS = {
    "epci": "#6baed6",
    "epci_border": "#08519c",
    "other": "#e8e8e8",
    "outline": "#333333",
    "place": "#b35806",
    "proposal": "#08519c",
    "bar": "#9ecae1",
    "bar_own": "#08519c",
}


# ------------------------------------------------------------------------- sentences


def _share(part: float, whole: float) -> str:
    """« 3,4 % », « moins de 0,1 % » (never « 0,0 % » for a few inhabitants)."""
    if not whole:
        return "–"
    value = 100 * part / whole
    if 0 < value < 0.05:
        return "moins de 0,1 %"
    return f"{fmt_number(value, 1)} %"


def _compare(value: float, other: float) -> str:
    """Where ``value`` stands against ``other``, at the precision shown (two decimals)."""
    if round(value, 2) > round(other, 2):
        return "au-dessus"
    if round(value, 2) < round(other, 2):
        return "en dessous"
    return "au niveau"


def situation_label(context: dict) -> str:
    """The date of the situation the fiche was cut from, as its title says it: « fin
    avril 2021 » (the end of a month), « au 5 avril 2023 » (a national list's edition)."""
    label = situation_words(context.get("situation"))
    if not label or label.startswith("fin "):
        return label
    return f"au {label}"


def _records(rows: data.FicheRows) -> list[dict]:
    """The EPCI's rows, one per département it reaches, as dicts."""
    return rows.records()


def _own(rows: data.FicheRows) -> dict:
    """The EPCI's own figures (the same in each of its départements' rows)."""
    return _records(rows)[0]


def _holder(row) -> str:
    """« le Conseil départemental des Hautes-Alpes », « la Collectivité de Corse »."""
    collectivity = row["collectivite_departementale"]
    if collectivity == "le Conseil départemental":
        return f"{collectivity} {row['nom_avec_charniere']}"
    return collectivity


@dataclass
class Structure:
    nom: str
    commune: str
    postes: int
    comites: str


def structures(rows: data.FicheRows) -> tuple[list[Structure], str, int]:
    """The structures holding the EPCI's posts, most posts first; a line for those not
    named (beyond ``STRUCTURES_SHOWN``); and how many structures there are."""
    grouped: dict[tuple, dict] = {}
    names = dict(zip(rows.communes["insee"], rows.communes["nom"], strict=True))
    table = rows.structures
    days = table["jour_comite_connu"] if "jour_comite_connu" in table else [True] * len(table)
    for name, insee, posts, date, day in zip(
        table["structure"],
        table["insee_commune"],
        table["postes"],
        table["date_comite"],
        days,
        strict=True,
    ):
        item = grouped.setdefault((str(name), insee), {"postes": 0, "dates": set()})
        item["postes"] += int(posts)
        item["dates"].add((str(pd.Timestamp(date).date()), bool(day)))
    ranked = sorted(grouped.items(), key=lambda kv: (-kv[1]["postes"], kv[0][0]))
    shown = []
    for (name, insee), item in ranked[:STRUCTURES_SHOWN]:
        dates = sorted(item["dates"])
        # A round typed by its month is « de mars 2021 », never a first day nobody gave.
        if len(dates) == 1:
            committees = f"comité {committee_when(*dates[0])}"
        elif len(dates) == 2 and all(day for _, day in dates):
            committees = f"comités des {fmt_date(dates[0][0])} et {fmt_date(dates[1][0])}"
        elif len(dates) == 2:
            committees = f"comités {committee_when(*dates[0])} et {committee_when(*dates[1])}"
        else:
            committees = (
                f"{len(dates)} comités, {committee_when(*dates[0])} "
                f"{committee_when(*dates[-1], article='au')}"
            )
        shown.append(Structure(name, names.get(insee, ""), item["postes"], committees))
    rest = ranked[STRUCTURES_SHOWN:]
    more = ""
    if rest:
        posts = sum(item["postes"] for _, item in rest)
        others = plural(len(rest), "autre structure", "autres structures")
        more = f"et {others} ({plural(posts, 'poste')})."
    return shown, more, len(grouped)


def posts_sentence(own: pd.Series, count: int) -> str:
    posts = int(own["postes"])
    if posts == 0:
        return "Aucun poste de conseiller numérique n'est situé dans l'intercommunalité."
    verb = "est situé" if posts < 2 else "sont situés"
    held = "porté par" if posts < 2 else "portés par"
    return (
        f"{capitalise(plural(posts, 'poste'))} de conseiller numérique {verb} dans "
        f"l'intercommunalité, {held} {plural(count, 'structure')} :"
    )


def elsewhere_sentence(rows: data.FicheRows, names: dict[str, str]) -> str:
    """Posts located here that the ANCT counts for another département."""
    own = _own(rows)
    away = int(own["postes_comptes_ailleurs"])
    if not away:
        return ""
    reached = str(own["departements"]).split(",")
    others = rows.structures.loc[~rows.structures["departement"].isin(reached), "departement"]
    # A national structure's posts may be counted in many départements: three named.
    codes = sorted(set(others))
    where = ", ".join(names.get(code, code) for code in codes[:3])
    if len(codes) > 3:
        where += f" et {plural(len(codes) - 3, 'autre', 'autres')}"
    verb = "est compté" if away < 2 else "sont comptés"
    return (
        f"Parmi eux, {plural(away, 'poste')} {verb} par l'ANCT pour un autre département "
        f"({where}) : {'il figure' if away < 2 else 'ils figurent'} dans le rapport de ce "
        "département, pas dans celui de l'intercommunalité."
    )


def departemental_sentence(rows: data.FicheRows) -> str:
    """The posts of the Conseil(s) départemental(aux) that serve the whole département,
    said apart: they are not in the intercommunalité's count."""
    holders = [
        (_holder(row), int(row["postes_departementaux"]))
        for row in _records(rows)
        if row["postes_departementaux"]
    ]
    if not holders:
        return ""
    total = sum(posts for _, posts in holders)
    if len(holders) == 1:
        holder, posts = holders[0]
        clauses = f"{holder} a {plural(posts, 'poste')} pour tout son département"
    else:
        clauses = (
            ", ".join(f"{holder} ({plural(posts, 'poste')})" for holder, posts in holders[:-1])
            + f" et {holders[-1][0]} ({plural(holders[-1][1], 'poste')}) ont des postes pour "
            "tout leur département"
        )
    tail = (
        "il n'est rattaché à aucune intercommunalité et n'est pas compté ci-dessus"
        if total < 2
        else "ils ne sont rattachés à aucune intercommunalité et ne sont pas comptés ci-dessus"
    )
    return f"En plus, {clauses} : {tail}."


def density_sentence(rows: data.FicheRows) -> str:
    own = _own(rows)
    density = own["conseillers_pour_10000_hab"]
    if pd.isna(density):
        return (
            "La population d'une de ses communes n'est pas connue : la densité de "
            "conseillers de l'intercommunalité ne peut pas être calculée."
        )
    national = rows.context.get("cible_nationale")
    records = _records(rows)
    if len(records) == 1:
        row = records[0]
        parts = [
            f"{_compare(density, row['densite_departement'])} de celle du département "
            f"{row['nom_avec_charniere']} ({fmt_number(row['densite_departement'], 2)})"
        ]
    else:
        # One clause per direction: « au-dessus de celle de ses départements : … ».
        by_side: dict[str, list[str]] = {}
        for row in records:
            side = _compare(density, row["densite_departement"])
            value = fmt_number(row["densite_departement"], 2)
            by_side.setdefault(side, []).append(f"{row['nom_avec_charniere']} ({value})")
        parts = [
            f"{side} de celle {'des départements' if len(names) > 1 else 'du département'} "
            f"{_join(names)}"
            for side, names in by_side.items()
        ]
    if national is not None:
        when = rows.context.get("cible_nationale_mois")
        parts.append(
            f"{_compare(density, national)} de celle de la France"
            + (f" {month_end(when, rows.context.get('situation'))}" if when else "")
            + f" ({fmt_number(national, 2)})"
        )
    median = own["densite_mediane_comparables"]
    if pd.notna(median):
        parts.append(
            f"{_compare(density, median)} de celle des {_comparables(own)} "
            f"({fmt_number(median, 2)}, médiane)"
        )
    return (
        f"Avec {fmt_number(density, 2)} conseiller pour {_BASE} habitants, la densité de "
        f"l'intercommunalité est {_join(parts)}."
    )


def _comparables(own) -> str:
    kind = KIND_LABELS.get(own["type_epci"], "intercommunalités")
    density_class = str(own["classe_densite"]).split(" (")[0]
    qualifier = {"peu dense": "peu denses", "intermédiaire": "de densité intermédiaire"}.get(
        density_class, "denses"
    )
    return f"{kind} {qualifier} de France"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def trajectory_sentence(rows: data.FicheRows) -> str:
    history = rows.trajectory.sort_values("mois")
    first = _own(rows)["premier_mois_conseiller"]
    if history.empty:
        return ""
    start = month_label(str(history["mois"].iloc[0]))
    if not first:
        return f"Aucun conseiller dans l'intercommunalité depuis le début du programme ({start})."
    months = list(history["mois"])
    shown = [m for m in months if m.endswith("-12")] + months[-1:]
    posts = history.set_index("mois")["postes"]
    situation = rows.context.get("situation")
    steps = ", ".join(
        f"{plural(int(posts[m]), 'poste')} {month_end(m, situation)}" for m in dict.fromkeys(shown)
    )
    return f"Premier conseiller en {month_label(first)} ; {steps}."


def fragility_sentences(rows: data.FicheRows) -> list[str]:
    own = _own(rows)
    sentences = []
    if "ifn" in own and pd.notna(own["ifn"]):
        sentences.append(
            f"Son indice de fragilité numérique est de {fmt_number(own['ifn'], 1)} sur 10 "
            "(de 1, risque faible, à 10, risque fort d'exclusion numérique ; La Mednum)."
        )
    far = own.get(config.FAR_COLUMN)
    population = own["population"]
    if pd.notna(far) and pd.notna(population):
        if far == 0:
            sentences.append(
                f"Tous ses habitants vivent à moins de {config.FAR_KM} km à vol d'oiseau "
                "d'un lieu où travaille un conseiller numérique."
            )
        else:
            sentences.append(
                f"{capitalise(plural(int(far), 'habitant'))} ({_share(far, population)}) "
                f"{'vit' if far < 2 else 'vivent'} à plus de {config.FAR_KM} km à vol "
                "d'oiseau du lieu le plus proche où travaille un conseiller numérique."
            )
    return sentences


def missing_sentence(rows: data.FicheRows) -> str:
    own = _own(rows)
    national = rows.context.get("cible_nationale")
    missing = own["postes_manquants_cible_nationale"]
    if national is None or pd.isna(missing):
        return ""
    when = rows.context.get("cible_nationale_mois")
    at = f" {month_end(when, rows.context.get('situation'))}" if when else ""
    target = (
        f"la densité de la France{at} ({fmt_number(national, 2)} conseiller pour {_BASE} habitants)"
    )
    if int(missing) == 0:
        return f"L'intercommunalité atteint déjà {target}."
    return f"Pour atteindre {target}, il lui manque {plural(int(missing), 'poste')}."


def next_posts_sentences(proposals: pd.DataFrame) -> list[str]:
    if proposals.empty:
        return [
            "Chaque commune de l'intercommunalité a déjà un lieu où travaille un conseiller "
            "numérique, ou n'a pas d'habitant à en rapprocher : aucun lieu n'est proposé."
        ]
    first = proposals.iloc[0]
    sentences = [
        f"Un poste de plus rapprocherait le plus d'habitants d'un conseiller s'il était "
        f"{at_commune(first['commune'])} (n° 1 sur la carte) : "
        f"{plural(int(first['habitants_rapproches']), 'habitant')} en "
        f"{'serait' if first['habitants_rapproches'] < 2 else 'seraient'} plus "
        f"{'proche' if first['habitants_rapproches'] < 2 else 'proches'}, de "
        f"{fmt_number(first['gain_moyen_km'], 1)} km en moyenne."
    ]
    if len(proposals) > 1:
        then = ", puis ".join(
            f"{at_commune(row.commune)} (n° {row.rang})" for row in proposals.iloc[1:].itertuples()
        )
        sentences.append(f"Les postes suivants iraient {then}.")
    sentences.append(
        "Lieux choisis parmi les mairies de ses communes, chacun là où il rapproche le plus "
        "d'habitants du lieu le plus proche, compte tenu des lieux existants et des "
        "précédents (distances à vol d'oiseau)."
    )
    return sentences


# ------------------------------------------------------------------------- figures


@dataclass
class Bar:
    label: str
    value: float
    own: bool = False


def bars(rows: data.FicheRows) -> list[Bar]:
    """The density of the EPCI beside its département(s), the nation and comparables."""
    own = _own(rows)
    items = [Bar(short_epci_name(own["nom_epci"]), own["conseillers_pour_10000_hab"], True)]
    items += [
        Bar(str(row["nom_departement"]), row["densite_departement"]) for row in _records(rows)
    ]
    if rows.context.get("cible_nationale") is not None:
        items.append(Bar("France", rows.context["cible_nationale"]))
    if pd.notna(own["densite_mediane_comparables"]):
        items.append(
            Bar("Intercommunalités semblables (médiane)", own["densite_mediane_comparables"])
        )
    return items


def bar_chart(items: list[Bar]) -> dict:
    """Geometry of the horizontal bar chart (pixels), for ``fiche/barres.svg.j2``."""
    known = [b.value for b in items if pd.notna(b.value)]
    top = max(known) if known and max(known) > 0 else 1.0
    length = FIGURE_WIDTH - 60
    step = 29
    shown = []
    for index, bar in enumerate(items):
        value = bar.value if pd.notna(bar.value) else None
        width = 0.0 if value is None else max(value / top * length, 0.0)
        shown.append(
            {
                "label": bar.label,
                "y": index * step,
                "width": round(width, 1),
                "value": "inconnue" if value is None else fmt_number(value, 2),
                "own": bar.own,
            }
        )
    return {"bars": shown, "width": FIGURE_WIDTH, "height": len(items) * step}


def line_chart(trajectory: pd.DataFrame) -> dict | None:
    """Geometry of the month-by-month line of density (pixels), for ``fiche/courbe.svg.j2``."""
    history = trajectory.sort_values("mois")
    if len(history) < 2:
        return None
    values = history["conseillers_pour_10000_hab"].astype(float).to_numpy()
    if np.isnan(values).all():
        return None
    months = list(history["mois"])
    left, right, top_y, bottom_y = 40, FIGURE_WIDTH - 8, 10, 92
    top = float(np.nanmax(values)) or 1.0
    step = (right - left) / (len(months) - 1)

    def x(i: int) -> float:
        return round(left + i * step, 1)

    def y(v: float) -> float:
        return round(bottom_y - (bottom_y - top_y) * v / top, 1)

    points = [(x(i), y(v)) for i, v in enumerate(values) if not np.isnan(v)]
    ticks = [
        {"x": x(i), "label": m[:4] if i else month_label(m)}
        for i, m in enumerate(months)
        if i == 0 or m.endswith("-01")
    ]
    # The first tick names its month; a January too near it would overlap.
    ticks = [t for i, t in enumerate(ticks) if i == 0 or t["x"] - ticks[0]["x"] > 60]
    return {
        "width": FIGURE_WIDTH,
        "height": 118,
        "points": points,
        "area": [(points[0][0], bottom_y), *points, (points[-1][0], bottom_y)],
        "ticks": ticks,
        "left": left,
        "right": right,
        "top_y": top_y,
        "bottom_y": bottom_y,
        "top_label": fmt_number(top, 2),
        "last": points[-1],
        "last_label": fmt_number(values[-1], 2),
    }


# A proposed place's numbered disc (radius and stroke, pixels): two discs never closer
# than their diameter, strokes and a pixel.
DISC_RADIUS, DISC_STROKE = 8, 2
DISC_SPACING = 2 * DISC_RADIUS + DISC_STROKE + 1


def spread_discs(points: np.ndarray, width: float, height: float, rounds: int = 200) -> np.ndarray:
    """Centres of the numbered discs of ``points`` (pixels), each pair pushed apart along
    the line between them until none overlaps another, all within the figure; a disc
    moved from its point is joined to it by a line (``fiche/carte.svg.j2``)."""
    xy = np.array(points, dtype=float).reshape(-1, 2)
    low, high = DISC_RADIUS + 1, np.array([width, height]) - DISC_RADIUS - 1
    for _ in range(rounds):
        moved = False
        for i in range(len(xy)):
            for j in range(i + 1, len(xy)):
                step = xy[j] - xy[i]
                distance = float(np.hypot(*step))
                if distance >= DISC_SPACING:
                    continue
                if distance < 1e-6:  # the same point: apart along an angle of their own
                    angle = 2.4 * j
                    step, distance = np.array([np.cos(angle), np.sin(angle)]), 1.0
                push = (DISC_SPACING - distance) / 2 * step / distance
                xy[i] -= push
                xy[j] += push
                moved = True
        xy = np.clip(xy, low, high)
        if not moved:
            break
    return np.round(xy, 1)


@dataclass
class _Frame:
    """Projected metres → SVG pixels (y downwards), fitting ``bounds`` in the figure."""

    bounds: tuple[float, float, float, float]
    width: float = FIGURE_WIDTH
    height: float = field(init=False)
    scale: float = field(init=False)

    def __post_init__(self) -> None:
        xmin, ymin, xmax, ymax = self.bounds
        dx, dy = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
        self.scale = min((self.width - 8) / dx, (MAP_MAX_HEIGHT - 8) / dy)
        self.height = round(dy * self.scale + 8, 1)
        self.width = round(dx * self.scale + 8, 1)

    def pixels(self, coordinates: np.ndarray) -> np.ndarray:
        xmin, _, _, ymax = self.bounds
        out = np.empty_like(coordinates, dtype=float)
        out[:, 0] = (coordinates[:, 0] - xmin) * self.scale + 4
        out[:, 1] = (ymax - coordinates[:, 1]) * self.scale + 4
        return np.round(out, 1)

    def path(self, geometries) -> str:
        """SVG path data of polygons (one string for all of them)."""
        geometries = np.asarray(geometries, dtype=object)
        geometries = geometries[~shapely.is_empty(geometries) & ~pd.isna(geometries)]
        if not len(geometries):
            return ""
        polygons = shapely.get_parts(geometries)
        rings = np.concatenate(
            [shapely.get_rings(polygons)] if len(polygons) else [np.array([], dtype=object)]
        )
        parts = []
        for ring in rings:
            xy = self.pixels(shapely.get_coordinates(ring))[:-1]
            if len(xy) < 3:
                continue
            parts.append("M" + " ".join(f"{a:g},{b:g}" for a, b in xy) + "Z")
        return "".join(parts)


@dataclass
class _Background:
    """What every fiche of the same départements draws the same way: their outline and
    the other intercommunalités, already in pixels."""

    frame: _Frame
    outline: str
    others: dict[str, str]
    tolerance: float


class MapMaker:
    """The locator maps of many fiches, sharing the work done once per CRS (projecting
    every outline) and once per group of départements (their background)."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self._projected: dict[int, tuple] = {}
        self._backgrounds: dict[tuple, _Background] = {}
        self._places: dict[int, tuple] = {}
        self._transformers: dict[int, object] = {}
        # An EPCI's communes are the reference's: drawn once, whichever month's fiche.
        self._communes: dict[tuple, str] = {}

    def project(self, geometries, crs: int) -> np.ndarray:
        """Shapely geometries from EPSG:4326 to ``crs`` (one transformer per CRS)."""
        if crs not in self._transformers:
            from pyproj import Transformer

            self._transformers[crs] = Transformer.from_crs(
                config.GEOGRAPHIC_CRS, crs, always_xy=True
            )
        transformer = self._transformers[crs]

        def move(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

        return shapely.transform(np.asarray(geometries, dtype=object), move)

    def projected(self, crs: int) -> tuple:
        """Outlines of the départements and of the EPCI drawn in ``crs``, projected once."""
        if crs not in self._projected:
            shapes = departement_shapes().to_crs(config.GEOGRAPHIC_CRS)
            codes = [c for c in shapes["code"] if config.metric_crs(c) == crs]
            shapes = shapes.loc[shapes["code"].isin(codes)]
            epci = self.reference.epci.to_crs(config.GEOGRAPHIC_CRS)
            reach = epci["departements"].map(lambda d: set(str(d).split(",")))
            epci = epci.loc[reach.map(lambda d: bool(d & set(codes)))]
            self._projected[crs] = (
                dict(zip(shapes["code"], self.project(shapes.geometry, crs), strict=True)),
                list(epci["siren"]),
                [set(str(d).split(",")) for d in epci["departements"]],
                self.project(epci.geometry, crs),
            )
        return self._projected[crs]

    def background(self, departements: tuple[str, ...], crs: int) -> _Background:
        key = (departements, crs)
        if key not in self._backgrounds:
            self._backgrounds[key] = self._background(departements, crs)
        return self._backgrounds[key]

    def _background(self, departements: tuple[str, ...], crs: int) -> _Background:
        shapes, sirens, reaches, geometries = self.projected(crs)
        outline = [shapes[code] for code in departements if code in shapes]
        frame = _Frame(tuple(shapely.total_bounds(outline)))
        tolerance = 1.2 / frame.scale  # a pixel and a bit, in metres
        wanted = set(departements)
        touching = [i for i, reach in enumerate(reaches) if reach & wanted]
        simple = shapely.simplify(geometries[touching], tolerance)
        others = {sirens[i]: frame.path([g]) for i, g in zip(touching, simple, strict=True)}
        outline = shapely.simplify(np.asarray(outline, dtype=object), tolerance)
        return _Background(frame, frame.path(outline), others, tolerance)

    def places_xy(self, places, crs: int) -> np.ndarray:
        """Projected coordinates of the places (computed once per table and CRS)."""
        cached = self._places.get(crs)
        if cached is None or cached[0] is not places:
            kept = places.loc[places.geometry.notna() & ~places.geometry.is_empty]
            points = self.project(kept.geometry.to_crs(config.GEOGRAPHIC_CRS).to_numpy(), crs)
            xy = shapely.get_coordinates(points)
            cached = self._places[crs] = (places, xy[np.isfinite(xy).all(axis=1)])
        return cached[1]

    def _communes_path(
        self, rows: data.FicheRows, siren: str, departements: tuple[str, ...], crs: int
    ) -> str:
        key = (siren, departements, crs, tuple(rows.communes["insee"]))
        if key not in self._communes:
            back = self.background(departements, crs)
            communes = rows.communes.to_crs(config.GEOGRAPHIC_CRS).geometry.to_numpy()
            fine = shapely.simplify(self.project(communes, crs), back.tolerance / 2)
            self._communes[key] = back.frame.path(fine)
        return self._communes[key]

    def locator(self, rows: data.FicheRows, proposals: pd.DataFrame, crs: int) -> dict:
        """Geometry of the locator map (pixels), for ``fiche/carte.svg.j2``."""
        siren = rows.epci["siren_epci"].iat[0]
        departements = tuple(sorted(str(rows.epci["departements"].iat[0]).split(",")))
        back = self.background(departements, crs)
        frame = back.frame
        xmin, ymin, xmax, ymax = frame.bounds
        xy = self.places_xy(rows.places, crs)
        inside = (xy[:, 0] >= xmin) & (xy[:, 0] <= xmax) & (xy[:, 1] >= ymin) & (xy[:, 1] <= ymax)
        place_xy = frame.pixels(xy[inside])
        proposed = []
        if len(proposals):
            spots = self.project(proposals.geometry.to_numpy(), crs)
            xy = frame.pixels(shapely.get_coordinates(spots))
            discs = spread_discs(xy, frame.width, frame.height)
            proposed = [
                {"x": a, "y": b, "cx": c, "cy": d, "rang": int(r)}
                for (a, b), (c, d), r in zip(xy, discs, proposals["rang"], strict=True)
            ]
        others = "".join(d for s, d in back.others.items() if s != siren)
        return {
            "width": frame.width,
            "height": frame.height,
            "outline": back.outline,
            "others": others,
            "communes": self._communes_path(rows, siren, departements, crs),
            "border": back.others.get(siren, ""),
            "places": [{"x": a, "y": b} for a, b in place_xy],
            "proposals": proposed,
        }


# --------------------------------------------------------------------------- page


def fiche_values(
    rows: data.FicheRows,
    maps: MapMaker,
    names: dict[str, str],
    reports: dict[str, str] | None = None,
) -> dict:
    """Everything the template of one EPCI's fiche shows (``rows``: its rows only;
    ``names``: départements' names by code; ``reports``: relative links to the
    départements' reports that exist)."""
    own = _own(rows)
    crs = config.metric_crs(str(rows.epci["departement"].iloc[0]))
    proposals = rows.proposals if rows.proposals is not None else pd.DataFrame()
    named, more, count = structures(rows)
    context = rows.context
    # Every département it reaches, prepared or not (files of one département only).
    departements = [
        {"code": code, "nom": names.get(code, code), "rapport": (reports or {}).get(code, "")}
        for code in str(own["departements"]).split(",")
    ]
    name = str(own["nom_epci"])
    population = own["population"]
    posts = own["postes"]
    figures = [
        (
            "postes",
            fmt_number(posts),
            f"{noun(posts, 'poste situé', 'postes situés')} dans l'intercommunalité",
        ),
        (
            "densite",
            fmt_number(own["conseillers_pour_10000_hab"], 2),
            f"conseiller pour {_BASE} habitants",
        ),
    ]
    missing = own["postes_manquants_cible_nationale"]
    if pd.notna(missing):
        figures.append(
            (
                "manquants",
                fmt_number(missing),
                f"{noun(missing, 'poste manquant', 'postes manquants')} pour la densité de "
                "la France",
            )
        )
    if "ifn" in own and pd.notna(own["ifn"]):
        figures.append(
            (
                "ifn",
                fmt_number(own["ifn"], 1),
                "fragilité numérique, de 1 (faible) à 10 (forte)",
            )
        )
    far = own.get(config.FAR_COLUMN)
    if pd.notna(far):
        figures.append(
            (
                config.FAR_COLUMN.removeprefix("population_"),
                fmt_number(far),
                f"{noun(far, 'habitant')} à plus de {config.FAR_KM} km d'un lieu",
            )
        )
    return {
        "nom": name,
        "sujet": epci_subject(name, start=True),
        "siren": own["siren_epci"],
        "situation": situation_label(context),
        "departements": departements,
        "population": "inconnue" if pd.isna(population) else fmt_number(population),
        "communes": int(own["nb_communes"]),
        "chiffres": [{"cle": k, "valeur": v, "libelle": label} for k, v, label in figures],
        "phrase_postes": posts_sentence(own, count),
        "structures": named,
        "autres_structures": more,
        "phrase_ailleurs": elsewhere_sentence(rows, names),
        "phrase_departementaux": departemental_sentence(rows),
        "phrase_densite": density_sentence(rows),
        "barres": bar_chart(bars(rows)),
        "phrase_trajectoire": trajectory_sentence(rows),
        "courbe": line_chart(rows.trajectory),
        "phrases_fragilite": fragility_sentences(rows),
        "phrase_manquants": missing_sentence(rows),
        "phrases_postes_suivants": next_posts_sentences(proposals),
        "carte": maps.locator(rows, proposals, crs),
        "sources": source_words(context, mayotte="976" in str(own["departements"]).split(",")),
        "date": french_date(context.get("genere_le") or ""),
        "base": _BASE,
    }


def fiche_html(
    rows: data.FicheRows,
    maps: MapMaker,
    names: dict[str, str],
    reports: dict[str, str] | None = None,
) -> str:
    """The whole page of one EPCI's fiche (``rows``: its rows only, ``FicheRows.of``)."""
    return render("fiche/fiche.html.j2", **fiche_values(rows, maps, names, reports))


# ------------------------------------------------------------------------ search page


def search_values(reference: Reference, sirens: set[str], context: dict) -> dict:
    """The search page's data: every commune of an EPCI that has a fiche, and the EPCI
    of each département (an EPCI spanning two is listed under both)."""
    communes = reference.communes
    communes = communes.loc[(communes["type"] == "COM") & communes["siren_epci"].isin(sirens)]
    communes = communes.sort_values(["nom", "departement"])
    epci = reference.epci.loc[reference.epci["siren"].isin(sirens)].sort_values("nom")
    names = dict(zip(epci["siren"], epci["nom"], strict=True))
    departements = []
    for row in reference.departements.itertuples():
        members = [
            {"siren": s, "nom": n}
            for s, n, deps in zip(epci["siren"], epci["nom"], epci["departements"], strict=True)
            if row.code in str(deps).split(",")
        ]
        if members:
            departements.append({"code": row.code, "nom": row.nom, "epci": members})
    return {
        "communes": [
            [nom, dep, siren]
            for nom, dep, siren in zip(
                communes["nom"], communes["departement"], communes["siren_epci"], strict=True
            )
        ],
        "noms_epci": names,
        "departements": departements,
        "situation": situation_label(context),
    }


# uFuzzy (Leon Sorokin, MIT licence beside it), the fuzzy matcher of the search page: a
# commune is found despite a typo or two and whatever the order of its words, offline.
# The minified build of the npm package @leeoniya/ufuzzy, as published; to update it:
# « npm pack @leeoniya/ufuzzy@VERSION », copy dist/uFuzzy.iife.min.js here and change
# the version and digest below (tests/test_fiches.py checks them).
UFUZZY = TEMPLATES_DIR / "fiche" / "uFuzzy.iife.min.js"
UFUZZY_VERSION = "1.0.19"
UFUZZY_SHA256 = "3eef8ba0ad55444c31f0e86f8375f25916515402cf2d4d7b5a2c01b4b67f2e19"


def search_page(reference: Reference, sirens: set[str], context: dict) -> str:
    return render(
        "fiche/index.html.j2",
        **search_values(reference, sirens, context),
        ufuzzy=Markup(UFUZZY.read_text(encoding="utf-8")),
    )
