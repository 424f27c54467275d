"""Maps and charts of the report (matplotlib figures, French labels)."""

from __future__ import annotations

import io
import math
import re

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analyse import config
from analyse.render import cache
from analyse.render.colours import (  # noqa: F401  (the maps' names for them)
    CLASS_COLOURS,
    NO_POST_COLOUR,
    UNKNOWN_CLASS,
    UNKNOWN_COLOUR,
    UNKNOWN_LABEL,
    class_colour,
    density_classes,
    range_labels,
)
from analyse.wording import fmt_number, map_label, month_label, plural

MAP_TOLERANCE_M = 50
# Labels inside a map: their group identifier in the SVG (styled by the page).
LABEL_GID = "etiquette"
# Titles drawn in a figure: this size, wrapped at this many characters, on this many
# lines at most (each this tall).
TITLE_PT = 11
# Type of structure → (label, colour) in the timeline; Okabe-Ito colours.
TYPE_STYLES = {
    "epci": ("Intercommunalités", "#0072B2"),
    "commune": ("Communes", "#E69F00"),
    "departement": ("Département", "#009E73"),
    "association": ("Associations", "#CC79A7"),
    "autre": ("Autres structures", "#999999"),
}


# Figures are drawn at the width of a phone's screen (390 px, less the page's margins),
# in points that an inline SVG shows as CSS pixels: text of ``MIN_FONT_PT`` stays at
# least 9 px there, and the figure only grows on wider screens and on paper.
FIGURE_WIDTH_IN = 4.9
MIN_FONT_PT = 9.5
# Polygons are embedded as an image at this resolution (sharp on a retina screen at the
# figure's largest width); points, lines above them and every text stay vector.
RASTER_DPI = 200
# matplotlib rasterizes the artists whose zorder is at most this: polygons and lines
# (1, 2), never texts (3) nor the markers drawn above them.
RASTER_BELOW_ZORDER = 2.5


def use_report_style() -> None:
    """Figure defaults for the report: text no smaller than ``MIN_FONT_PT``."""
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def figure_svg(fig: Figure, alt: str) -> str:
    """``fig`` as an inline SVG whose text is real text (readable and sharp at any width),
    with ``alt`` as its accessible name; identifiers made unique to this figure so that
    several figures live in one page. Closes the figure."""
    import hashlib

    from markupsafe import escape

    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "analyse"}):
        fig.savefig(buffer, format="svg", dpi=RASTER_DPI, metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*|<!--.*?-->\s*", "", svg, flags=re.DOTALL)
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'(id="|url\(#|href="#)', lambda m: m[1] + prefix, svg)
    # Map labels: a white halo drawn by the browser (a matplotlib path effect would turn
    # the text into outlines).
    svg = re.sub(rf'id="{prefix}{LABEL_GID}[^"]*"', 'class="etiquette"', svg)
    return svg.replace("<svg ", f'<svg class="figure" role="img" aria-label="{escape(alt)}" ', 1)


def show(fig: Figure, alt: str, legend: dict | None = None) -> None:
    """Display a figure in the notebook as an inline SVG with a French text alternative.

    The figure is rendered once and closed; the SVG is in the page, so the exported
    report stays a single offline file. The legend, when given, is written in HTML
    under the figure (readable on a phone).
    """
    show_svg(svg_bytes(fig, alt), legend)


def svg_bytes(fig: Figure, alt: str) -> bytes:
    """The figure as inline SVG (``figure_svg``), in bytes the cache can keep."""
    return figure_svg(fig, alt).encode("utf-8")


def show_svg(svg: bytes, legend: dict | None = None) -> None:
    """Display an SVG (``svg_bytes``) as ``show`` does."""
    from IPython.display import HTML, display

    from analyse.render.fragments import Markup, render

    markup = Markup(svg.decode("utf-8"))
    display(HTML(render("figure.html.j2", svg=markup, legend=legend)))


def _drawn(draw, alt: str) -> tuple[bytes, dict]:
    """``draw()``'s figure as SVG bytes named ``alt``, with its legend."""
    fig, legend = draw()
    return svg_bytes(fig, alt), legend


def legend_item(kind: str, colour: str, label: str, hatch: bool = False) -> dict:
    """One line of an HTML legend: a colour patch, a point or a line."""
    return {"kind": kind, "colour": colour, "label": label, "hatch": hatch}


def _map_figure(data: gpd.GeoDataFrame) -> tuple[Figure, plt.Axes]:
    """A figure shaped like the territory, so that no page space is wasted."""
    xmin, ymin, xmax, ymax = data.total_bounds
    # The legend is HTML under the image: the map alone takes the figure's width.
    width = FIGURE_WIDTH_IN
    height = float(np.clip(width * (ymax - ymin) / max(xmax - xmin, 1.0), 2.5, 6.5))
    fig, ax = plt.subplots(figsize=(width, height))
    # Axes off first: geopandas redraws the figure after each layer, and ticks that
    # nobody will see are the costliest part of those draws.
    ax.set_axis_off()
    # Fixed margins rather than tight_layout, which draws every polygon once more only to
    # measure an axes that has no ticks. No title: the heading above the figure names it.
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    # Polygons as one image (a commune map in vector would weigh megabytes).
    ax.set_rasterization_zorder(RASTER_BELOW_ZORDER)
    return fig, ax


def set_map_title(ax: plt.Axes, title: str) -> None:
    """A map names itself by the heading above it and its text alternative, not by a
    title drawn inside it that would repeat the heading: ``title`` is the map's name for
    the cache and the analysts' notebook (``ax``'s label), never drawn."""
    ax.set_label(title)


def _plot_outline(ax: plt.Axes, outline: gpd.GeoSeries, crs: int, width: float) -> None:
    """The département's limit, simplified like the polygons it surrounds."""
    outline.to_crs(crs).simplify(MAP_TOLERANCE_M).boundary.plot(
        ax=ax, color="#222222", linewidth=width
    )


def _plot_points(
    ax: plt.Axes, points: gpd.GeoDataFrame, size: float, colour: str, edge: float
) -> None:
    """Points drawn above the polygons, with a white edge that keeps them apart."""
    points.plot(
        ax=ax,
        marker="o",
        markersize=size,
        color=colour,
        edgecolor="white",
        linewidth=edge,
        zorder=4,
    )


def local_classes(values: np.ndarray, count: int = 4) -> list[float]:
    """Upper bounds of finer classes spanning the département's own densities (rounded
    to 2 decimals, distinct), used when every EPCI falls in one national class."""
    low, high = float(values.min()), float(values.max())
    bounds = np.round(np.linspace(low, high, count + 1)[1:-1], 2)
    return sorted({float(b) for b in bounds if low <= b < high})


def density_map(
    indicators: gpd.GeoDataFrame,
    outline: gpd.GeoSeries,
    hosts: gpd.GeoDataFrame,
    crs: int,
    title: str,
    column: str = "conseillers_pour_10000_hab",
) -> tuple[Figure, dict]:
    """Choropleth of conseillers per 10 000 inhabitants per EPCI, in a metric CRS, and
    its legend (for ``show``).

    The national classes keep maps comparable; when every EPCI with a post falls in the
    same one, finer classes of the département's own range are used; when they fall in
    two classes at most (La Réunion), each EPCI also shows its value, so that the map
    still tells them apart.
    """
    epci = indicators.to_crs(crs)
    # Drawn at this scale, a pixel is about 100 m: simplifying to 50 m changes nothing
    # visible and halves the drawing time of large départements.
    epci["geometry"] = epci.geometry.simplify(MAP_TOLERANCE_M)
    classes, labels = density_classes(epci[column])
    values = epci[column].astype(float).to_numpy()
    national = sorted(set(classes[classes >= 0]))
    fine = len(national) == 1 and len(set(np.round(values[classes >= 0], 2))) > 1
    # Two classes or fewer for several EPCI (La Réunion: 1 and 4): each EPCI shows its value.
    show_values = len(national) <= 2 and len(epci) > 1
    if fine:
        bounds = local_classes(values[classes >= 0])
        local = np.searchsorted([*bounds, np.inf], values, side="left")
        colours_available = [
            to_hex(plt.get_cmap("YlGnBu")(x)) for x in np.linspace(0.2, 0.95, len(bounds) + 1)
        ]
        colours = [
            class_colour(c) if c < 0 else colours_available[k]
            for c, k in zip(classes, local, strict=True)
        ]
        edges = [fmt_number(v, 2) for v in bounds]
        low = fmt_number(values[classes >= 0].min(), 2)
        high = fmt_number(values[classes >= 0].max(), 2)
        # Upper bounds inclusive, as computed.
        fine_labels = [f"de {low} à {edges[0]}" if edges else f"de {low} à {high}"] + [
            f"plus de {a} et jusqu'à {b}" for a, b in zip(edges, [*edges[1:], high], strict=True)
        ]
    else:
        colours = [class_colour(c) for c in classes]

    fig, ax = _map_figure(epci)
    epci.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.8)
    no_post = epci.loc[classes == -1]
    if len(no_post):
        no_post.plot(ax=ax, facecolor="none", edgecolor="#7f7f7f", hatch="///", linewidth=0)
    unknown = epci.loc[classes == UNKNOWN_CLASS]
    if len(unknown):
        unknown.plot(ax=ax, facecolor="none", edgecolor="#7f7f7f", hatch="..", linewidth=0)
    _plot_outline(ax, outline, crs, 1.6)
    if len(hosts):
        _plot_points(ax, hosts.to_crs(crs), 36, "#d95f02", 0.8)
    set_map_title(ax, title)
    ax.set_axis_off()
    ax.set_aspect("equal")
    names = [
        wrap_label(map_label(name)) + (f"\n{fmt_number(value, 2)}" if show_values else "")
        for name, value in zip(epci["nom_epci"], values, strict=True)
    ]
    key = place_labels(ax, epci.geometry, names, list(epci["nom_epci"]))

    base = fmt_number(config.DENSITY_BASE)
    items = [legend_item("patch", NO_POST_COLOUR, "aucun conseiller", hatch=True)]
    if fine:
        items += [
            legend_item("patch", c, label)
            for c, label in zip(colours_available, fine_labels, strict=True)
        ]
        legend_title = (
            f"Conseillers pour {base} habitants. Toutes les intercommunalités sont dans la "
            f"même classe nationale ({labels[national[0]]}) : la carte les distingue par "
            "des classes plus fines, et chacune porte sa valeur."
        )
    else:
        # Every class is listed, present or not, so that all maps read the same way.
        items += [
            legend_item("patch", c, label) for c, label in zip(CLASS_COLOURS, labels, strict=True)
        ]
        legend_title = f"Conseillers pour {base} habitants" + (
            " (la valeur de chaque intercommunalité est écrite sous son nom)" if show_values else ""
        )
    if (classes == UNKNOWN_CLASS).any():
        items.append(legend_item("patch", UNKNOWN_COLOUR, UNKNOWN_LABEL, hatch=True))
    items += [
        legend_item("line", "#222222", "limite du département"),
        legend_item("point", "#d95f02", "commune d'une structure retenue"),
    ]
    legend = {
        "title": legend_title,
        "items": items,
        "key": key,
        "key_title": "Intercommunalités numérotées sur la carte",
    }
    return fig, legend


def place_labels(
    ax: plt.Axes,
    shapes: gpd.GeoSeries,
    labels: list[str],
    names: list[str],
    obstacles: list[Text] | None = None,
) -> list[tuple[int, str]]:
    """Write each label (already wrapped) inside its territory (representative point),
    sized by area.

    Largest territories first; a label that would overlap one already written or one of
    the ``obstacles`` (texts in a box drawn above the map), or that is far wider
    than its territory, is replaced by a number, and the numbers with their full names
    are returned for the legend. Deterministic: the same map every run.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # A number that finds no free spot in its territory numbers the name it would hide
    # too, and the labels are placed again.
    forced: set[int] = set()
    while True:
        written, key, hidden = _place(ax, renderer, shapes, labels, names, obstacles, forced)
        if hidden is None:
            return key
        for text in written:
            text.remove()
        forced.add(hidden)


def _disc_box(text: Text, renderer):
    """The display box of a text in a disc, the disc included."""
    text.update_bbox_position_size(renderer)
    return text.get_bbox_patch().get_window_extent(renderer)


def _place(ax, renderer, shapes, labels, names, obstacles, forced):
    """One placement for ``place_labels`` (the territories in ``forced`` numbered): the
    texts written, the key, and the name a number could not avoid (None when none)."""
    xmin, ymin, xmax, ymax = shapes.total_bounds
    extent = max((xmax - xmin) * (ymax - ymin), 1.0)
    placed = [_disc_box(t, renderer) for t in obstacles or []]
    owners: list[int | None] = [None] * len(placed)
    written: list[Text] = []
    key: list[tuple[int, str]] = []
    order = np.argsort(-shapes.area.to_numpy(), kind="stable")
    numbered: list[int] = []
    for i in order:
        if i in forced:
            numbered.append(i)
            continue
        shape = shapes.iloc[i]
        point = shape.representative_point()
        size = float(np.clip(8.5 + 12 * np.sqrt(shape.area / extent), MIN_FONT_PT, 12.0))
        text = ax.text(
            point.x,
            point.y,
            labels[i],
            ha="center",
            va="center",
            fontsize=size,
            linespacing=0.95,
            color="#111111",
            gid=LABEL_GID,
            zorder=5,
        )
        # With a margin: a browser draws the same text in a taller line box (the
        # font's ascent and descent) than matplotlib measures.
        box = text.get_window_extent(renderer).expanded(1.08, 1.3)
        sx0, sy0 = ax.transData.transform((shape.bounds[0], shape.bounds[1]))
        sx1, sy1 = ax.transData.transform((shape.bounds[2], shape.bounds[3]))
        too_big = box.width > 1.6 * abs(sx1 - sx0) or box.height > 1.6 * abs(sy1 - sy0)
        if too_big or any(box.overlaps(other) for other in placed):
            text.remove()
            numbered.append(i)
            continue
        placed.append(box)
        owners.append(i)
        written.append(text)
    # Numbers follow the reading order (north to south, west to east).
    numbered.sort(
        key=lambda i: (
            -shapes.iloc[i].representative_point().y,
            shapes.iloc[i].representative_point().x,
        )
    )
    for number, i in enumerate(numbered, start=1):
        text = ax.text(
            0,
            0,
            str(number),
            ha="center",
            va="center",
            fontsize=MIN_FONT_PT,
            fontweight="bold",
            color="#111111",
            bbox={
                "boxstyle": "circle,pad=0.2",
                "facecolor": "white",
                "edgecolor": "#444444",
                "linewidth": 0.6,
            },
            zorder=6,
        )
        written.append(text)
        # The first spot inside its territory where the number hides no label and no
        # other number: its representative point, else the nearest of a grid.
        first = None
        for point in _spots(shapes.iloc[i]):
            text.set_position((point.x, point.y))
            where = ax.transData.transform((point.x, point.y))
            if first is None:  # measured once: moved, the disc keeps its size
                first, origin = _disc_box(text, renderer), where
            box = first.translated(*(where - origin))
            hit = [k for k, other in enumerate(placed) if box.overlaps(other)]
            if not hit:
                break
        else:
            named = [owners[k] for k in hit if owners[k] is not None]
            if named:
                return written, key, named[0]
        placed.append(box)
        owners.append(None)
        key.append((number, names[i]))
    return written, key, None


def _spots(shape, steps: int = 12) -> list:
    """Points inside ``shape``: its representative point first, then a grid over its
    bounds, nearest first."""
    from shapely.geometry import Point

    centre = shape.representative_point()
    xmin, ymin, xmax, ymax = shape.bounds
    grid = [
        Point(x, y)
        for x in np.linspace(xmin, xmax, steps + 2)[1:-1]
        for y in np.linspace(ymin, ymax, steps + 2)[1:-1]
    ]
    inside = sorted((p for p in grid if shape.contains(p)), key=centre.distance)
    return [centre, *inside]


def wrap_label(name: str, width: int = 14) -> str:
    """Break a long name on hyphens and spaces so labels of small EPCI overlap less."""
    words = name.replace("-", "-\n").replace(" ", " \n").split("\n")
    lines, current = [], ""
    for word in words:
        if current and len(current) + len(word) > width:
            lines.append(current.rstrip())
            current = ""
        current += word
    lines.append(current.rstrip())
    return "\n".join(lines)


def timeline_chart(selections: pd.DataFrame, title: str) -> Figure:
    """Posts granted per committee month, stacked by type of structure."""
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 3.6))
    if selections.empty:
        ax.text(0.5, 0.5, "Aucune sélection", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    table = selections.pivot_table(
        index="mois_comite",
        columns="type_structure",
        values="postes",
        aggfunc="sum",
        fill_value=0,
    ).sort_index()
    positions = np.arange(len(table))
    bottom = np.zeros(len(table))
    for kind, (label, colour) in TYPE_STYLES.items():
        if kind in table.columns:
            values = table[kind].to_numpy()
            ax.bar(positions, values, 0.7, bottom=bottom, color=colour, label=label)
            bottom += values
    many = len(table) > 4  # a long series: totals only, slanted months
    running = np.cumsum(bottom)
    for x, (total, cumul) in enumerate(zip(bottom, running, strict=True)):
        text = fmt_number(total) if many else f"{fmt_number(total)} (cumul {fmt_number(cumul)})"
        ax.annotate(
            text,
            (x, total),
            ha="center",
            va="bottom",
            fontsize=MIN_FONT_PT,
            xytext=(0, 2),
            textcoords="offset points",
        )
    # At most one month named every ~0,3 inch: slanted names never touch.
    every = max(1, math.ceil(len(table) * 0.3 / FIGURE_WIDTH_IN))
    ax.set_xticks(
        positions[::every],
        [month_label(m) for m in table.index[::every]],
        rotation=45 if many else 0,
        ha="right" if many else "center",
        rotation_mode="anchor" if many else "default",
        fontsize=MIN_FONT_PT,
    )
    # Whole posts, written the French way.
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt_number(value)))
    ax.tick_params(axis="y", labelsize=MIN_FONT_PT)
    ax.set_ylabel("Postes attribués")
    ax.set_ylim(0, bottom.max() * 1.2)
    ax.legend(frameon=False, fontsize=MIN_FONT_PT)
    # The heading above names the chart: drawn inside, only what it does not say.
    ax.set_title(f"Total : {plural(running[-1], 'poste')}", loc="left", fontsize=TITLE_PT)
    ax.set_label(title)
    fig.tight_layout()
    return fig


def classed_commune_map(
    communes: gpd.GeoDataFrame,
    values: pd.Series,
    bins: list[float],
    labels: list[str],
    palette: str,
    legend_title: str,
    title: str,
    crs: int,
    outline: gpd.GeoSeries,
    points: gpd.GeoDataFrame | None = None,
    points_label: str = "",
    epci: gpd.GeoDataFrame | None = None,
    proposals: gpd.GeoDataFrame | None = None,
) -> tuple[Figure, dict]:
    """Communes coloured by explicit classes (upper bounds inclusive), grey when missing,
    and the legend (for ``show``). With ``epci`` (``nom_epci`` and geometry), their
    borders and names, within the département, so that a reader finds their territory;
    with ``proposals`` (points and ``rang``), proposed posts numbered by rank, which the
    names keep clear of."""
    data = communes.to_crs(crs)
    data["geometry"] = data.geometry.simplify(MAP_TOLERANCE_M)
    values = values.astype(float).to_numpy()
    classes = np.searchsorted([*bins, np.inf], values, side="left")
    colours = [to_hex(plt.get_cmap(palette)(x)) for x in np.linspace(0.15, 0.9, len(bins) + 1)]
    fill = [
        NO_POST_COLOUR if np.isnan(v) else colours[c] for v, c in zip(values, classes, strict=True)
    ]
    xmin, ymin, xmax, ymax = data.total_bounds
    fig, ax = _map_figure(data)
    data.plot(ax=ax, color=fill, edgecolor="white", linewidth=0.2)
    _plot_outline(ax, outline, crs, 1.4)
    items = [legend_item("patch", c, label) for c, label in zip(colours, labels, strict=True)]
    if np.isnan(values).any():
        items.append(legend_item("patch", NO_POST_COLOUR, "non renseigné"))
    key: list[tuple[int, str]] = []
    if epci is not None and len(epci):
        inside = _epci_within(epci, outline, crs)
        inside.boundary.plot(ax=ax, color="#333333", linewidth=0.9)
        items.append(legend_item("line", "#333333", "limite d'intercommunalité"))
    if points is not None and len(points):
        _plot_points(ax, points.to_crs(crs).cx[xmin:xmax, ymin:ymax], 14, "#222222", 0.5)
        items.append(legend_item("point", "#222222", points_label))
    items.append(legend_item("line", "#222222", "limite du département"))
    obstacles = []
    if proposals is not None and len(proposals):
        obstacles = _plot_proposals(ax, proposals.to_crs(crs))
        items.append(legend_item("point", PROPOSAL_COLOUR, "poste proposé (n° : rang)"))
    set_map_title(ax, title)
    ax.set_aspect("equal")
    if epci is not None and len(epci):
        names = [wrap_label(map_label(name)) for name in inside["nom_epci"]]
        key = place_labels(ax, inside.geometry, names, list(inside["nom_epci"]), obstacles)
    return fig, {
        "title": legend_title,
        "items": items,
        "key": key,
        "key_title": "Intercommunalités numérotées sur la carte",
    }


PROPOSAL_COLOUR = "#d7301f"


def _plot_proposals(ax: plt.Axes, points: gpd.GeoDataFrame) -> list:
    """Proposed posts as discs numbered by rank, above everything; the discs (for the
    labels to avoid)."""
    discs = []
    for rank, x, y in zip(points["rang"], points.geometry.x, points.geometry.y, strict=True):
        text = ax.text(
            x,
            y,
            str(rank),
            ha="center",
            va="center",
            color="white",
            fontsize=MIN_FONT_PT,
            fontweight="bold",
            bbox={
                "boxstyle": "circle,pad=0.3",
                "facecolor": PROPOSAL_COLOUR,
                "edgecolor": "white",
                "linewidth": 1.2,
            },
            zorder=7,
        )
        discs.append(text)
    return discs


def _epci_within(epci: gpd.GeoDataFrame, outline: gpd.GeoSeries, crs: int) -> gpd.GeoDataFrame:
    """The EPCI cut to the département (their names and borders on a map of its
    communes), simplified like the communes."""
    shapes = epci[["nom_epci", "geometry"]].to_crs(crs)
    limit = outline.to_crs(crs).union_all()
    shapes["geometry"] = shapes.geometry.intersection(limit).simplify(MAP_TOLERANCE_M)
    return shapes.loc[~shapes.geometry.is_empty & (shapes.geometry.area > 0)]


IFN_BINS = [4.0, 5.0, 6.0, 7.0]
DISTANCE_BINS_KM = [5.0, 10.0, 20.0, 30.0]


def fragility_map(
    communes: gpd.GeoDataFrame,
    outline: gpd.GeoSeries,
    crs: int,
    title: str,
    epci: gpd.GeoDataFrame | None = None,
) -> tuple[Figure, dict]:
    """Digital-fragility index (1 low risk, 10 high risk) of every commune."""
    return classed_commune_map(
        communes,
        communes["ifn"],
        IFN_BINS,
        range_labels(IFN_BINS),
        "OrRd",
        "Indice de fragilité numérique",
        title,
        crs,
        outline,
        epci=epci,
    )


def distance_map(
    communes: gpd.GeoDataFrame,
    outline: gpd.GeoSeries,
    places: gpd.GeoDataFrame,
    crs: int,
    title: str,
    places_label: str,
    epci: gpd.GeoDataFrame | None = None,
    proposals: gpd.GeoDataFrame | None = None,
) -> tuple[Figure, dict]:
    """Straight-line distance from each town hall to the nearest place, in km."""
    return classed_commune_map(
        communes,
        communes["distance_m"] / 1000,
        DISTANCE_BINS_KM,
        range_labels(DISTANCE_BINS_KM, " km"),
        "PuBu",
        "Distance au lieu le plus proche",
        title,
        crs,
        outline,
        places,
        places_label,
        epci,
        proposals,
    )


# ----------------------------------------------------- the maps of a département's report
# Each takes the prepared bundle (``bundle.Prepared``) and shows its map with its text
# alternative, so that each of the notebook's map cells is one call. Titles keep
# « 10 000 » with an ordinary space: it is drawn into the image.

PLACES_LABEL = "lieu où travaille un conseiller"


def report_distance_map(
    prepared, title: str, proposals: gpd.GeoDataFrame | None = None
) -> tuple[Figure, dict]:
    """The distance map of ``prepared`` (its communes, outline and places) and its legend;
    with ``proposals``, the proposed posts numbered by rank."""
    return distance_map(
        prepared.communes,
        prepared.outline,
        prepared.places,
        prepared.crs,
        title=title,
        places_label=PLACES_LABEL,
        epci=prepared.indicators,
        proposals=proposals,
    )


def show_density_map(prepared) -> None:
    """The report's first map: conseillers per 10 000 inhabitants of each EPCI."""
    name = prepared.nom
    title = f"{name} : conseillers numériques pour 10 000 habitants"
    # Drawn again only when what it shows changed (``cache``): not when a month brought
    # the département no new post.
    indicators = prepared.indicators[["nom_epci", "conseillers_pour_10000_hab", "geometry"]]
    alt = f"Carte des conseillers numériques pour 10 000 habitants par intercommunalité, {name}"
    svg, legend = cache.figure(
        "carte-densite",
        (indicators, prepared.communes.geometry, prepared.hosts.geometry, prepared.crs, title, alt),
        lambda: _drawn(
            lambda: density_map(
                prepared.indicators, prepared.outline, prepared.hosts, prepared.crs, title=title
            ),
            alt,
        ),
    )
    show_svg(svg, legend)


def show_distance_map(prepared) -> None:
    """Distance from each commune to the nearest place where a conseiller works."""
    name = prepared.nom
    title = f"{name} : distance au lieu de médiation le plus proche"
    communes = prepared.communes[["distance_m", "geometry"]]
    alt = f"Carte de la distance de chaque commune au lieu de médiation le plus proche, {name}"
    svg, legend = cache.figure(
        "carte-distance",
        (communes, prepared.places.geometry, _epci_shapes(prepared), prepared.crs, title, alt),
        lambda: _drawn(lambda: report_distance_map(prepared, title), alt),
    )
    show_svg(svg, legend)


def show_fragility_map(prepared) -> None:
    """The communes' digital-fragility index; nothing when the report has no IFN."""
    if not prepared.context["ifn_fourni"]:
        return
    name = prepared.nom
    title = f"{name} : indice de fragilité numérique"
    communes = prepared.communes[["ifn", "geometry"]]
    alt = f"Carte de l'indice de fragilité numérique des communes, {name}"
    svg, legend = cache.figure(
        "carte-fragilite",
        (communes, _epci_shapes(prepared), prepared.crs, title, alt),
        lambda: _drawn(
            lambda: fragility_map(
                prepared.communes,
                prepared.outline,
                prepared.crs,
                title=title,
                epci=prepared.indicators,
            ),
            alt,
        ),
    )
    show_svg(svg, legend)


TIMELINE_TITLE = "Postes attribués par mois de comité de sélection"


def show_timeline(prepared) -> None:
    """Posts granted per committee month: the same chart until a committee grants the
    département a post."""
    counted = prepared.counted
    alt = "Graphique des postes attribués par mois de comité de sélection"
    svg, legend = cache.figure(
        "chronologie",
        (counted[["mois_comite", "type_structure", "postes"]], TIMELINE_TITLE, alt),
        lambda: (svg_bytes(timeline_chart(counted, title=TIMELINE_TITLE), alt), None),
    )
    show_svg(svg, legend)


def _epci_shapes(prepared) -> gpd.GeoDataFrame:
    """What a map of communes shows of the EPCI: their names and shapes."""
    return prepared.indicators[["nom_epci", "geometry"]]
