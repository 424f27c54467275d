"""Report parts on territories: priority territories, each EPCI's trajectory, comparison
with similar EPCI, and the sparklines of the monthly index.

Self-contained: each function takes the prepared bundle (``bundle.Prepared``) or plain
tables and returns escaped HTML (Jinja2 templates with autoescape, in
``templates/territoires/``, the small multiples in SVG) or a sentence; for the monthly
index, the numbers its template (``templates/national/``) formats.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from analyse import config
from analyse.analysis.comparison import KIND_LABELS
from analyse.render.fragments import Markup, percent, render
from analyse.render.tables import html_table
from analyse.schema import FLAGS
from analyse.territory.places import FORMAT_CURRENT
from analyse.wording import (
    capitalise,
    epci_subject,
    esc,
    fmt_number,
    fmt_signed,
    month_end,
    month_label,
    short_epci_name,
    situation_label,
)

PRIORITY_TITLE = "Quartiers prioritaires, zones rurales, France Services"
TRAJECTORY_TITLE = "Mois après mois : la couverture de chaque intercommunalité"
COMPARISON_TITLE = "Comparaison avec des intercommunalités semblables"
UNKNOWN = "non renseigné"  # a flag no file documents: never shown as 0


def _render(name: str, **values) -> str:
    return render(f"territoires/{name}", **values)


# ------------------------------------------------------------ priority territories


def priority_rows(territories: dict) -> list[dict]:
    """One row per flag: the département's posts, share and undocumented share, and
    the national shares (when known)."""
    dep = territories.get("departement") or {}
    nat = territories.get("france") or {}
    rows = []
    for flag, label in FLAGS.items():
        total = dep.get("postes", 0)
        # Unknown for every post: not a zero.
        unknown = total > 0 and dep.get(f"postes_{flag}_non_documente", 0) >= total
        rows.append(
            {
                "libelle": f"Postes dans des structures {label}",
                "postes": UNKNOWN if unknown else fmt_number(dep.get(f"postes_{flag}", 0)),
                "part": UNKNOWN if unknown else percent(dep.get(f"postes_{flag}", 0), total),
                "non_documente": percent(dep.get(f"postes_{flag}_non_documente", 0), total),
                "structures": UNKNOWN if unknown else fmt_number(dep.get(f"structures_{flag}", 0)),
                "france_part": percent(nat.get(f"postes_{flag}", 0), nat.get("postes", 0))
                if nat
                else "–",
                "france_non_documente": percent(
                    nat.get(f"postes_{flag}_non_documente", 0), nat.get("postes", 0)
                )
                if nat
                else "–",
            }
        )
    return rows


def priority_html(prepared) -> str:
    """The short table of posts in QPV, in ZRR and in France Services structures."""
    territories = prepared.context.get("territoires_prioritaires") or {}
    dep = territories.get("departement") or {}
    return _render(
        "prioritaires.html.j2",
        phrase=Markup(priority_sentence(prepared)),
        lignes=priority_rows(territories),
        total=fmt_number(dep.get("postes", 0)),
        france=bool(territories.get("france")),
        repris=prepared.context.get("drapeaux_repris", 0),
        quand=situation_label(prepared.context.get("situation")),
    )


def priority_sentence(prepared) -> str:
    """« 40 % des postes du département sont dans des structures situées en ZRR, contre
    18 % des postes de toute la France : c'est une part des postes, pas la part des
    habitants » — for the flag whose share differs most from the national one,
    when the gap reaches ``config.PRIORITY_GAP_POINTS``; '' otherwise."""
    territories = prepared.context.get("territoires_prioritaires") or {}
    dep, nat = territories.get("departement") or {}, territories.get("france") or {}
    if not dep.get("postes") or not nat.get("postes"):
        return ""
    best, gap = None, 0.0
    for flag in FLAGS:
        here = 100 * dep[f"postes_{flag}"] / dep["postes"]
        there = 100 * nat[f"postes_{flag}"] / nat["postes"]
        if abs(here - there) >= max(gap, config.PRIORITY_GAP_POINTS):
            best, gap = (flag, here, there), abs(here - there)
    if best is None:
        return ""
    flag, here, there = best
    undocumented = dep[f"postes_{flag}_non_documente"]
    note = (
        f" (non documenté pour {percent(undocumented, dep['postes'])} des postes)"
        if undocumented
        else ""
    )
    return esc(
        f"{fmt_number(here)} % des postes du département sont dans des structures "
        f"{FLAGS[flag]}, contre {fmt_number(there)} % des postes de toute la France{note} : "
        "c'est une part des postes, pas la part des habitants."
    )


# --------------------------------------------------------------------- trajectory


# One panel per EPCI, in SVG units that show as CSS pixels at about the width of a
# phone's column; the panels flow in as many columns as the page holds (one on a phone),
# so that their text (``_PANEL_FONT``) never shrinks under 9 px.
_PANEL_WIDTH, _PANEL_HEIGHT = 320, 100
_PANEL_LEFT, _PANEL_RIGHT, _PANEL_TOP, _PANEL_BOTTOM = 36, 314, 6, 78
_PANEL_FONT = 10.5


def trajectory_panels(trajectory: pd.DataFrame) -> dict:
    """Geometry of the small multiples (``territoires/courbes.html.j2``): each EPCI's
    density at the end of each month, on a shared scale, and the month it first got a
    conseiller."""
    names = list(dict.fromkeys(trajectory["nom_epci"]))
    months = sorted(trajectory["mois"].unique())
    top = trajectory["conseillers_pour_10000_hab"].max()
    top = 1.0 if pd.isna(top) or top <= 0 else float(top) * 1.05
    ticks = [v for v in MaxNLocator(4, steps=[1, 2, 5, 10]).tick_values(0, top) if 0 <= v <= top]
    # As many decimals as the step between ticks needs (0,05 ; 0,1 ; 1).
    decimals = max(0, -math.floor(math.log10(ticks[1] - ticks[0]))) if len(ticks) > 1 else 1
    # Each month a slot of equal width, the last one included.
    slots = max(len(months), 1)

    def x_of(i: float) -> float:
        return round(_PANEL_LEFT + i / slots * (_PANEL_RIGHT - _PANEL_LEFT), 1)

    def y_of(v: float) -> float:
        return round(_PANEL_BOTTOM - v / top * (_PANEL_BOTTOM - _PANEL_TOP), 1)

    month_ticks = [
        {"x": x_of(i), "label": month_label(m) if i == 0 else m[:4]}
        for i, m in enumerate(months)
        if i == 0 or m.endswith("-01")
    ]
    # The first tick names its month: a January too near it would overlap.
    month_ticks = [
        t for i, t in enumerate(month_ticks) if i == 0 or t["x"] - month_ticks[0]["x"] > 70
    ]
    panels = []
    for name in names:
        own = trajectory.loc[trajectory["nom_epci"] == name].set_index("mois").reindex(months)
        density = own["conseillers_pour_10000_hab"].astype(float).to_numpy()
        # A step line: each month's value holds until the next month.
        steps_xy = []
        for i, value in enumerate(density):
            if np.isnan(value):
                continue
            y = y_of(value)
            steps_xy += [(x_of(i), y), (x_of(i + 1), y)]
        covered = np.flatnonzero(own["postes"].fillna(0).to_numpy() > 0)
        last = density[-1] if len(density) else np.nan
        if np.isnan(last):
            label = "population inconnue"
        else:
            label = fmt_number(last, 2) if last > 0 else "aucun conseiller"
        panels.append(
            {
                "title": f"{short_epci_name(name)} — {label}",
                "points": steps_xy,
                "area": (
                    [(steps_xy[0][0], _PANEL_BOTTOM), *steps_xy, (steps_xy[-1][0], _PANEL_BOTTOM)]
                    if steps_xy
                    else []
                ),
                "first": x_of(covered[0]) if len(covered) else None,
                "alt": f"Densité à la fin de chaque mois, {short_epci_name(name)} : {label}",
            }
        )
    return {
        "panels": panels,
        "width": _PANEL_WIDTH,
        "height": _PANEL_HEIGHT,
        "left": _PANEL_LEFT,
        "right": _PANEL_RIGHT,
        "top_y": _PANEL_TOP,
        "bottom_y": _PANEL_BOTTOM,
        "font": _PANEL_FONT,
        "y_ticks": [{"y": y_of(v), "label": fmt_number(v, decimals)} for v in ticks],
        "x_ticks": month_ticks,
    }


def trajectory_figure(trajectory: pd.DataFrame, title: str, alt: str) -> str:
    """The small multiples of each EPCI's density, month after month (HTML and SVG)."""
    return _render(
        "courbes.html.j2",
        titre=title,
        alt=alt,
        courbes=trajectory_panels(trajectory) if len(trajectory) else None,
        base=fmt_number(config.DENSITY_BASE),
    )


def trajectory_html(prepared) -> str:
    """When each EPCI first got a conseiller, and its posts at a few dates."""
    history = prepared.trajectory
    months = sorted(history["mois"].unique()) if len(history) else []
    # Year ends and the month shown: enough to read the trajectory in a table.
    shown = [m for m in months if m.endswith("-12")] + months[-1:]
    shown = list(dict.fromkeys(shown))
    posts = (
        history.pivot_table(index="siren_epci", columns="mois", values="postes")
        if len(history)
        else pd.DataFrame()
    )
    rows = prepared.indicators.sort_values("nom_epci")
    frame = rows[["nom_epci", "premier_mois_conseiller"]].reset_index(drop=True)
    # An EPCI without any month in the history has no post at any of them.
    in_history = rows["siren_epci"].isin(posts.index).to_numpy()
    situation = prepared.context.get("situation")
    columns = {f"postes_{m}": f"Postes {month_end(m, situation)}" for m in shown}
    for month, column in zip(shown, columns, strict=True):
        values = posts[month].reindex(rows["siren_epci"]).to_numpy()
        frame[column] = np.where(in_history, values, 0)
    table = html_table(
        frame,
        "trajectoire",
        headings=columns,
        formats={"premier_mois_conseiller": lambda m: month_label(m) if m else "jamais"},
        missing={"premier_mois_conseiller": "jamais"},
        classes="trajectoire",
    )
    return _render(
        "trajectoire.html.j2", tableau=Markup(table), debut=month_label(config.TRAJECTORY_START)
    )


# --------------------------------------------------------------------- comparison


def comparison_html(prepared) -> str:
    """Each EPCI's density beside the median of its kind and of comparable EPCI."""
    ind = prepared.indicators.sort_values("nom_epci")
    # The density and what it compares to first, beside the name: in sight on a phone.
    columns = [
        "nom_epci",
        "conseillers_pour_10000_hab",
        "densite_mediane_comparables",
        "ecart_comparables",
        "densite_mediane_meme_type",
        "type_epci",
        "classe_densite",
    ]
    classes = ind["classe_densite"]
    frame = ind[columns].assign(classe_densite=classes.where(classes != ""))
    table = html_table(
        frame,
        "comparaison",
        formats={"ecart_comparables": _signed, "type_epci": _nature},
        missing={"classe_densite": "population inconnue"},
        classes="comparaison",
    )
    return _render(
        "comparaison.html.j2",
        phrase=Markup(comparison_sentence(prepared)),
        tableau=Markup(table),
        disponible=prepared.context.get("comparables_disponibles", False),
        definition=prepared.context.get("comparables_definition", ""),
    )


_NATURES = {
    "CC": "communauté de communes",
    "CA": "communauté d'agglomération",
    "CU": "communauté urbaine",
    "ME": "métropole",
}


def _nature(kind: str) -> str:
    """« CA » → « communauté d'agglomération »: the nature in words."""
    return _NATURES.get(kind, kind)


def _signed(value: float) -> str:
    if value is None or pd.isna(value):
        return "–"
    return fmt_signed(value, 2)


def comparison_sentence(prepared) -> str:
    """« La communauté de communes X est à 0,61 conseiller pour 10 000 habitants quand
    les communautés de communes peu denses comparables sont à 1,4 » — for the EPCI
    furthest below its comparables, when below ``config.COMPARABLE_GAP_RATIO`` of
    their median; '' otherwise."""
    ind = prepared.indicators
    if not prepared.context.get("comparables_disponibles") or not len(ind):
        return ""
    median = ind["densite_mediane_comparables"].astype(float)
    ratio = ind["conseillers_pour_10000_hab"].astype(float) / median.where(median > 0)
    # An EPCI without any conseiller is already named by the coverage sentence.
    if (ratio.notna() & ind["postes"].gt(0)).any():
        ratio = ratio.where(ind["postes"].gt(0))
    if ratio.dropna().empty or ratio.min() >= config.COMPARABLE_GAP_RATIO:
        return ""
    row = ind.loc[ratio.idxmin()]
    kind = KIND_LABELS.get(row["type_epci"], "intercommunalités")
    density_class = row["classe_densite"].split(" (")[0]
    qualifier = {"peu dense": "peu denses", "intermédiaire": "de densité intermédiaire"}.get(
        density_class, "denses"
    )
    return esc(
        f"{epci_subject(row['nom_epci'], start=True)} est à "
        f"{fmt_number(row['conseillers_pour_10000_hab'], 2)} conseiller pour "
        f"{fmt_number(config.DENSITY_BASE)} habitants quand les {kind} {qualifier} "
        f"comparables sont à {fmt_number(row['densite_mediane_comparables'], 2)} (médiane "
        "nationale)."
    )


def summary_sentences(prepared) -> list[str]:
    """Sentences on priority territories and comparable EPCI for « En bref », if any."""
    return [s for s in (comparison_sentence(prepared), priority_sentence(prepared)) if s]


# ------------------------------------------------------------ index sparklines

# Size of a sparkline of the monthly index, in pixels.
SPARKLINE_WIDTH, SPARKLINE_HEIGHT = 120, 28


def sparkline_points(
    values: list[float],
    top: float | None = None,
    width: int = SPARKLINE_WIDTH,
    height: int = SPARKLINE_HEIGHT,
) -> list[tuple[float, float]]:
    """Points (in pixels) of a line of ``values``, missing ones skipped, on a scale from 0
    to ``top`` (shared by every line of a page, so that they compare); none under two."""
    known = [(i, v) for i, v in enumerate(values) if v is not None and v == v]
    if len(known) < 2:
        return []
    top = top or max(v for _, v in known) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)
    return [(2 + i * step, height - 2 - (height - 4) * v / top) for i, v in known]


def common_top(table: pd.DataFrame) -> float | None:
    """Highest density of the index's sparklines: their common scale."""
    values = [v for line in table.get("trajectoire", []) for v in line if v == v]
    return max(values) if values else None


def index_values(row: dict, top: float | None = None) -> dict:
    """What the index shows of one département besides its posts: per flag, its posts and
    its undocumented posts (shown as shares of ``row["postes"]``), and the sparkline of its
    density since ``config.TRAJECTORY_START``. Numbers, formatted by the page's template."""
    total = row.get("postes", 0)
    flags = []
    for flag in FLAGS:
        yes = row.get(f"postes_{flag}", 0)
        flags.append(
            {
                "postes": yes,
                "non_documente": row.get(f"postes_{flag}_non_documente", 0),
                "part": yes / total if total else None,
            }
        )
    values = [float(v) for v in row.get("trajectoire", []) or []]
    known = [v for v in values if v == v]
    curve = {
        "largeur": SPARKLINE_WIDTH,
        "hauteur": SPARKLINE_HEIGHT,
        "points": sparkline_points(values, top),
        "premiere": known[0] if known else None,
        "derniere": known[-1] if known else None,
        "evolution": known[-1] - known[0] if known else None,
    }
    return {"drapeaux": flags, "courbe": curve}


# ------------------------------------------------------------ places: programmes


def places_programmes_html(prepared) -> str:
    """Which places the distances count: the file's format and the programmes kept."""
    if prepared.context.get("lieux_source") != "fichier":
        return ""
    chosen = prepared.context.get("lieux_selection") or {}
    if not chosen:
        return ""
    programmes = chosen.get("programmes")
    dating = prepared.context.get("lieux_dates") or {}
    current = chosen.get("format") == FORMAT_CURRENT
    return _render(
        "lieux_programmes.html.j2",
        actuel=current,
        programmes=programmes,
        lus=fmt_number(chosen.get("lus", 0)),
        retenus=fmt_number(chosen.get("retenus", 0)),
        format=chosen.get("format", ""),
        mois=(
            capitalise(month_end(dating["mois"], prepared.context.get("situation")))
            if dating.get("mois")
            else None
        ),
        a_la_date=fmt_number(dating.get("retenus", 0)),
    )
