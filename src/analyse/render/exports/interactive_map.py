"""``carte_interactive.html``: an interactive map (folium / Leaflet), self-contained:
Leaflet's JavaScript and CSS (from the XStatic-Leaflet package) are inside the file, so
polygons, tooltips and legend work with no network at all (préfecture networks often
block CDNs). The OpenStreetMap background is an optional layer, off by default. Every
value from input data is HTML-escaped before it reaches a tooltip.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from analyse import config, schema
from analyse.atomic import atomic_path
from analyse.render.exports.common import container_text, is_container, to_wgs84
from analyse.wording import fmt_number

if TYPE_CHECKING:
    import folium

# ------------------------------------------------------------------- interactive map

PLACE_COLOUR = "#d95f02"


def _tooltip_spec(names: list[str], renames: dict[str, str] | None = None) -> list[tuple]:
    """Tooltip fields: (column, French label from analyse.schema); optional ones are
    shown when present."""
    return [(name, (renames or {}).get(name, schema.ALL[name].label)) for name in names]


EPCI_TOOLTIP = _tooltip_spec(
    [
        "nom_epci",
        "population",
        "postes",
        "conseillers_pour_10000_hab",
        "ifn",
        config.FAR_COLUMN,
        "postes_manquants_cible_nationale",
        "rang_priorite",
    ]
)
PLACE_TOOLTIP = _tooltip_spec(
    ["nom", "adresse", "code_postal", "commune", "commune_declaree", "nom_commune", "nom_epci"]
    + ["postes"],
    # A place's name reads « Lieu », as in the report.
    {"nom": schema.ALL["nom"].heading},
)


def _html_text(value: object) -> str:
    """Text for an HTML page, escaped; braces too, as folium renders elements with Jinja."""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _tooltip_value(column: str, value: object) -> str:
    """One tooltip value: figures the French way, text HTML-escaped (tooltips are HTML)."""
    value = container_text(value) if is_container(value) else value
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, float | np.floating) and math.isnan(value):
        return "–"
    shown = schema.ALL[column].shown
    if shown is not None and isinstance(value, int | float | np.number):
        return fmt_number(float(value), shown)
    return _html_text(value)


def _tooltip_layer(
    frame: gpd.GeoDataFrame, spec: list[tuple[str, str]], what: str, keep: Sequence[str] = ()
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Geometry, the escaped tooltip columns and our own ``keep`` columns: nothing else
    from the input reaches the page."""
    frame = to_wgs84(frame, what).reset_index(drop=True)
    frame = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty].reset_index(drop=True)
    shown = [(column, label) for column, label in spec if column in frame.columns]
    data = {column: [_tooltip_value(column, v) for v in frame[column]] for column, _ in shown}
    data.update({column: frame[column].to_numpy() for column in keep})
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.to_numpy(), crs=frame.crs)
    return out, [column for column, _ in shown], [label for _, label in shown]


def _tooltip(fields: list[str], labels: list[str]) -> folium.GeoJsonTooltip | None:
    import folium

    return folium.GeoJsonTooltip(fields=fields, aliases=labels) if fields else None


def _legend_html(labels: list[str], colours: list[str], show_places: bool) -> str:
    items = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
        f'vertical-align:middle;background:{colour};border:1px solid #777"></span>'
        f"{_html_text(label)}</div>"
        for label, colour in zip(labels, colours, strict=True)
    )
    if show_places:
        items += (
            '<div style="margin-top:4px"><span style="display:inline-block;width:12px;'
            f"height:12px;margin:0 7px 0 1px;border-radius:50%;background:{PLACE_COLOUR};"
            'vertical-align:middle"></span>Lieu</div>'
        )
    return (
        '<div style="position:fixed;bottom:24px;right:12px;z-index:1000;background:#fff;'
        "padding:8px 10px;border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.3);"
        'font:13px/1.5 sans-serif">'
        f"<strong>{_html_text(schema.DENSITY_LABEL)}</strong>{items}</div>"
    )


BACKGROUND_LAYER = "Fond OpenStreetMap (demande une connexion)"


def _inline_leaflet(fmap: folium.Map) -> None:
    """Put Leaflet's JavaScript and CSS inside the page instead of CDN links.

    folium 0.20 draws with Leaflet 1.9.3, the version XStatic-Leaflet ships (BSD-2, its
    copyright header kept). jQuery, Bootstrap and the awesome-markers plugins that folium
    links by default serve only markers and popups this map does not use.
    """
    import base64

    import folium
    from xstatic.pkg import leaflet

    folder = Path(leaflet.BASE_DIR)
    script = (folder / "leaflet.js").read_text(encoding="utf-8")
    # A source map would be fetched by the developer tools: there is none to fetch.
    script = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", script)
    style = re.sub(
        r"url\(images/([\w-]+\.png)\)",
        lambda m: (
            "url(data:image/png;base64,"
            + base64.b64encode((folder / "images" / m.group(1)).read_bytes()).decode("ascii")
            + ")"
        ),
        (folder / "leaflet.css").read_text(encoding="utf-8"),
    )
    fmap.default_js, fmap.default_css = [], []
    header = fmap.get_root().header
    for name, template, code in (
        ("leaflet_css", "<style>{{ this.code }}</style>", style),
        ("leaflet_js", "<script>{{ this.code }}</script>", script),
    ):
        # The code goes in as a value, not as the template: Jinja must not read it.
        element = folium.Element(template)
        element.code = code
        header.add_child(element, name=name)


PROPOSAL_COLOUR = "#d7301f"


def _proposals_layer(fmap: folium.Map, proposals: gpd.GeoDataFrame) -> None:
    """The posts proposed by ``--postes``: a numbered red marker each, its rank, commune
    and intercommunalité in the tooltip, as in the report's map."""
    import folium

    points = to_wgs84(proposals, "propositions")
    layer = folium.FeatureGroup(name="Postes proposés")
    for row in points.itertuples():
        where = _html_text(row.commune)
        if isinstance(getattr(row, "nom_epci", None), str):
            where += f" ({_html_text(row.nom_epci)})"
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            icon=folium.DivIcon(
                html=(
                    f'<div style="width:24px;height:24px;border-radius:50%;'
                    f"background:{PROPOSAL_COLOUR};color:#fff;border:2px solid #fff;"
                    "font:bold 13px/24px sans-serif;text-align:center;"
                    f'box-shadow:0 0 3px rgba(0,0,0,.5)">{int(row.rang)}</div>'
                ),
                icon_size=(28, 28),
                icon_anchor=(14, 14),
            ),
            tooltip=f"Poste proposé n° {int(row.rang)} : {where}",
        ).add_to(layer)
    layer.add_to(fmap)


def _metric_scale():
    """A scale in kilometres only (folium's shows miles too), drawn after the map."""
    from branca.element import MacroElement
    from jinja2 import Template

    scale = MacroElement()
    scale._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    return scale


# Leaflet writes a tooltip on one line, as wide as its longest value: on a phone it ran
# past the screen. Its lines wrap; on a phone each label goes above its value, and the
# tooltip, placed by Leaflet on the side of the point towards the map's centre, is never
# wider than half the screen, so that it always fits.
TOOLTIP_STYLE = """<style>
.leaflet-tooltip.foliumtooltip { white-space: normal; width: max-content; max-width: 22rem; }
.foliumtooltip th, .foliumtooltip td {
  white-space: normal; overflow-wrap: anywhere; vertical-align: top;
}
@media (max-width: 640px) {
  .leaflet-tooltip.foliumtooltip { max-width: calc(50vw - 24px); font-size: 12px; line-height: 1.3;
                                   padding: 4px 6px; }
  .foliumtooltip table, .foliumtooltip tbody, .foliumtooltip tr,
  .foliumtooltip th, .foliumtooltip td { display: block; padding: 0; }
  .foliumtooltip tr { margin-bottom: 3px; }
  .foliumtooltip th { font-weight: normal; color: #444; }
  .foliumtooltip td { font-weight: 600; }
}
</style>"""

# Leaflet chooses a tooltip's side from the map's centre at the moment it opens; a tap
# while the map still moves (a slow phone, a busy machine) put one 9 px past the screen's
# left edge. After Leaflet places it, it is slid back inside the map, whatever the cause.
TOOLTIP_INSIDE = """(function () {
  var place = L.Tooltip.prototype._setPosition;
  L.Tooltip.prototype._setPosition = function (pos) {
    place.call(this, pos);
    // In the map's own coordinates, not the screen's: during a zoom the screen shows
    // the tooltip half-way through its move.
    var el = this._container, at = L.DomUtil.getPosition(el);
    var left = this._map.layerPointToContainerPoint(at).x
      + (parseFloat(getComputedStyle(el).marginLeft) || 0);
    var right = left + el.offsetWidth, width = this._map.getSize().x;
    var shift = Math.max(0, -left) - Math.max(0, right - width);
    if (shift) { L.DomUtil.setPosition(el, at.add([shift, 0])); }
  };
})();"""

# folium's page disables pinch-zoom and names no language: a reader must be able to zoom
# (WCAG 1.4.4) and a screen reader to know the page is French.
_PAGE_FIXES = (
    (re.compile(r"<html>"), '<html lang="fr">'),
    (
        re.compile(r'<meta name="viewport" content="[^"]*"\s*/?>'),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ),
)


def interactive_map(
    epci: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame | None = None,
    title: str = "",
    proposals: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The interactive map: EPCI coloured by density, places as markers, the proposed
    posts (``proposals``) numbered, tooltips; Leaflet inside the page, so that it draws
    with no network, in its file as in a notebook (the explorer shows it as is)."""
    # folium directly rather than GeoDataFrame.explore(): explore() links Leaflet from
    # CDNs, blank offline. Imported here: only this export needs folium.
    import folium

    from analyse.render.colours import CLASS_COLOURS, NO_POST_COLOUR, density_classes

    if places is None:
        places = gpd.GeoDataFrame(geometry=[], crs=epci.crs)
    density = epci.get("conseillers_pour_10000_hab", pd.Series(np.nan, index=epci.index))
    classes, class_labels = density_classes(density)
    epci = epci.assign(couleur=[NO_POST_COLOUR if c < 0 else CLASS_COLOURS[c] for c in classes])
    polygons, epci_fields, epci_labels = _tooltip_layer(epci, EPCI_TOOLTIP, "epci", ["couleur"])
    points, place_fields, place_labels = _tooltip_layer(places, PLACE_TOOLTIP, "lieux")

    # Quarter zoom steps: the territory fills the screen at the first zoom, not half of it.
    fmap = folium.Map(
        location=[46.6, 2.5],
        zoom_start=6,
        control_scale=False,
        tiles=None,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    _inline_leaflet(fmap)
    # Off by default: nothing leaves the machine unless the reader asks for the background.
    folium.TileLayer(
        "OpenStreetMap", name=BACKGROUND_LAYER, overlay=True, control=True, show=False
    ).add_to(fmap)
    if len(polygons):
        folium.GeoJson(
            polygons.__geo_interface__,
            name="Intercommunalités",
            style_function=lambda feature: {
                "fillColor": feature["properties"]["couleur"],
                "color": "#555555",
                "weight": 1,
                "fillOpacity": 0.7,
            },
            highlight_function=lambda feature: {"weight": 3, "fillOpacity": 0.85},
            tooltip=_tooltip(epci_fields, epci_labels),
        ).add_to(fmap)
    if len(points):
        folium.GeoJson(
            points.__geo_interface__,
            name="Lieux",
            marker=folium.CircleMarker(
                radius=6,
                color="#7f2704",
                weight=1,
                fill=True,
                fill_color=PLACE_COLOUR,
                fill_opacity=0.9,
            ),
            tooltip=_tooltip(place_fields, place_labels),
        ).add_to(fmap)
    if proposals is not None and len(proposals):
        _proposals_layer(fmap, proposals)
    # Framed on the territory: a place with wrong coordinates must not zoom the map out.
    bounds = (polygons if len(polygons) else points).total_bounds
    if np.isfinite(bounds).all():
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    # Collapsed: open, the menu covers the title and the zoom buttons on a phone.
    folium.LayerControl(collapsed=True).add_to(fmap)
    _metric_scale().add_to(fmap)

    root = fmap.get_root()
    root.header.add_child(folium.Element(TOOLTIP_STYLE), name="infobulles")
    root.script.add_child(folium.Element(TOOLTIP_INSIDE), name="infobulles_dans_la_carte")
    root.title = _html_text(title)
    if title:
        root.html.add_child(
            folium.Element(
                '<h1 style="position:fixed;top:10px;left:60px;right:64px;z-index:1000;'
                "margin:0;background:rgba(255,255,255,.9);padding:6px 12px;border-radius:4px;"
                'box-shadow:0 0 6px rgba(0,0,0,.3);font:bold 16px/1.3 sans-serif">'
                f"{_html_text(title)}</h1>"
            )
        )
    root.html.add_child(
        folium.Element(
            _legend_html(
                ["Aucun conseiller", *class_labels],
                [NO_POST_COLOUR, *CLASS_COLOURS],
                show_places=bool(len(points)),
            )
        )
    )
    return fmap


def write_interactive_map(
    target: Path,
    epci: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    title: str,
    proposals: gpd.GeoDataFrame | None = None,
) -> None:
    """``carte_interactive.html``: the ``interactive_map``, a page of its own."""
    fmap = interactive_map(epci, places, title, proposals)
    with atomic_path(Path(target)) as tmp:
        fmap.save(str(tmp))
        page = tmp.read_text(encoding="utf-8")
        for pattern, replacement in _PAGE_FIXES:
            page = pattern.sub(replacement, page, count=1)
        tmp.write_text(page, encoding="utf-8")
