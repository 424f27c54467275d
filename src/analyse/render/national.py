"""National views: the reconciliation of every post, and the monthly index of départements,
shown from the tables of ``analyse.analysis.national``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd

from analyse import config
from analyse.analysis.national import CONTROL_COLUMNS
from analyse.atomic import write_text
from analyse.render.colours import CLASS_COLOURS, NO_POST_COLOUR, class_colour, density_classes
from analyse.render.maps import FIGURE_WIDTH_IN, MIN_FONT_PT, RASTER_BELOW_ZORDER, figure_svg
from analyse.territory.matching import REVIEW, UNLOCATABLE
from analyse.wording import fmt_number, french_date, read_back_note

CONTROL_LABELS = {
    "lus": "lus",
    "localises_dans_un_epci_du_departement": "EPCI du dép.",
    "localises_hors_departement": "hors dép.",
    "departementaux": "départ.",
    "regionaux": "région.",
    "non_localisables": "non loc.",
    "en_revue": "revue",
    "rejetes": "rejetés",
}


def control_text(
    table: pd.DataFrame, matched: pd.DataFrame, anomalies: pd.DataFrame | None = None
) -> str:
    """The national reconciliation (``analysis.national.control_table`` of ``matched``)
    as printed by ``analyse controle``."""
    total = table.iloc[-1]
    widths = {c: max(len(CONTROL_LABELS[c]), 6) for c in CONTROL_COLUMNS}
    header = "dép.   " + " ".join(f"{CONTROL_LABELS[c]:>{widths[c]}}" for c in CONTROL_COLUMNS)
    lines = ["Rapprochement national des postes, par département (Code département)", header]
    for row in table.itertuples(index=False):
        if row.departement == "Total":
            lines.append("-" * len(header))
        values = " ".join(f"{fmt_number(getattr(row, c)):>{widths[c]}}" for c in CONTROL_COLUMNS)
        lines.append(f"{row.departement:<6} {values}")
    read = int(total["lus"])
    review = matched.loc[matched["statut"] == REVIEW]
    unlocatable = matched.loc[matched["statut"] == UNLOCATABLE]
    share = 100 * review["postes"].sum() / read if read else 0.0
    located = total["localises_dans_un_epci_du_departement"] + total["localises_hors_departement"]
    lines += [
        "",
        f"Postes lus : {fmt_number(read)} ; localisés dans un EPCI : {fmt_number(located)}"
        f" ; départementaux : {fmt_number(total['departementaux'])} ; régionaux : "
        f"{fmt_number(total['regionaux'])} ; non localisables : "
        f"{fmt_number(total['non_localisables'])} ; en revue : {fmt_number(total['en_revue'])} "
        f"({fmt_number(share, 2)} %).",
    ]
    for title, rows in (("Non localisables", unlocatable), ("À vérifier", review)):
        if rows.empty:
            continue
        lines += ["", f"{title} ({fmt_number(rows['postes'].sum())} postes) :"]
        for row in rows.itertuples():
            line = f"  {row.fichier}, ligne {row.ligne} : « {row.structure} » "
            line += f"({row.departement}, {row.postes} poste(s)) — {row.motif}"
            if row.candidats:
                line += f" ; candidats : {row.candidats}"
            lines.append(line)
    if anomalies is not None and len(anomalies):
        lines += ["", f"Lignes rejetées ({fmt_number(len(anomalies))}, mode tolérant) :"]
        lines += [f"  {row.motif}" for row in anomalies.itertuples()]
    alerts = matched.loc[matched["alerte"] != ""]
    if len(alerts):
        lines += [
            "",
            f"{fmt_number(len(alerts))} ligne(s) dont le code postal ne correspond pas "
            "à la commune du code INSEE (la commune du code INSEE fait foi).",
        ]
    return "\n".join(lines)


# Paris and its petite couronne: too small to read on the map of France, shown in an inset.
PARIS_AREA = ("75", "92", "93", "94")


# The index's map at a phone's width: main map, then Paris and the overseas départements.
NATIONAL_MAP_HEIGHT_IN = 5.6
MAP_ALT = "Carte de France des conseillers numériques pour {base} habitants, par département"


def national_map(table: pd.DataFrame, shapes: gpd.GeoDataFrame) -> plt.Figure:
    """Density by département: metropolitan France in Lambert-93, Paris and its petite
    couronne enlarged, overseas in insets. Drawn at a phone's width with text of at
    least ``MIN_FONT_PT`` (an inline SVG: its text stays readable); the title and the
    legend are HTML, in the page (``index_legend``)."""
    data = shapes.merge(table, on="code")
    classes, _ = density_classes(data["conseillers_pour_10000_hab"])
    data["couleur"] = [class_colour(c) for c in classes]
    fig = plt.figure(figsize=(FIGURE_WIDTH_IN, NATIONAL_MAP_HEIGHT_IN))
    main = fig.add_axes((0.0, 0.2, 0.72, 0.8))
    metro = data.loc[~data["code"].isin(config.OVERSEAS_CRS)].to_crs(config.METROPOLITAN_CRS)
    metro.plot(ax=main, color=metro["couleur"], edgecolor="white", linewidth=0.3)
    main.set_axis_off()
    paris = metro.loc[metro["code"].isin(PARIS_AREA)]
    if len(paris):
        inset = fig.add_axes((0.73, 0.5, 0.27, 0.34))
        paris.plot(ax=inset, color=paris["couleur"], edgecolor="white", linewidth=0.8)
        for row in paris.itertuples():
            point = row.geometry.representative_point()
            inset.text(point.x, point.y, row.code, fontsize=MIN_FONT_PT, ha="center", va="center")
        inset.set_axis_off()
        inset.set_title("Paris et\npetite couronne", fontsize=MIN_FONT_PT, linespacing=1.1)
        # Where the inset is, on the main map.
        xmin, ymin, xmax, ymax = paris.total_bounds
        main.add_patch(
            plt.Rectangle((xmin, ymin), xmax - xmin, ymax - ymin, fill=False, linewidth=0.8)
        )
    for i, (code, crs) in enumerate(config.OVERSEAS_CRS.items()):
        inset = fig.add_axes((0.005 + i * 0.2, 0.0, 0.19, 0.14))
        part = data.loc[data["code"] == code].to_crs(crs)
        part.plot(ax=inset, color=part["couleur"], edgecolor="white", linewidth=0.4)
        inset.set_axis_off()
        name = part["nom"].iloc[0] if len(part) else code
        inset.set_title(name, fontsize=MIN_FONT_PT)
    for ax in fig.axes:
        # Polygons as one image; codes and names stay text.
        ax.set_rasterization_zorder(RASTER_BELOW_ZORDER)
    return fig


def index_legend() -> list[dict]:
    """The classes of the index's map, for its HTML legend: colour and label."""
    _, labels = density_classes(pd.Series([], dtype=float))
    return [{"couleur": NO_POST_COLOUR, "libelle": "aucun conseiller", "hachure": False}] + [
        {"couleur": colour, "libelle": label, "hachure": False}
        for colour, label in zip(CLASS_COLOURS, labels, strict=True)
    ]


def _missing_as_none(value) -> float | None:
    return None if pd.isna(value) else value


def index_rows(table: pd.DataFrame, links: dict[str, str]) -> list[dict]:
    """One row of the index per département, by code: its values as numbers (None when
    missing), formatted by the page's template."""
    from analyse.render import territories_report

    top = territories_report.common_top(table)
    rows = []
    for row in table.sort_values("code").to_dict("records"):
        population = _missing_as_none(row["population"])
        rows.append(
            {
                "code": row["code"],
                "nom": row["nom"],
                "lien": links.get(row["code"]),
                "postes": int(row["postes"]),
                "population": None if population is None else int(population),
                # A collectivity outside the reference has no population to show; a
                # département with a commune of unknown population says so.
                "collectivite": row["code"] in config.OVERSEAS_COLLECTIVITIES,
                "densite": _missing_as_none(row["conseillers_pour_10000_hab"]),
                "variation": int(row["variation"]),
                **territories_report.index_values(row, top),
            }
        )
    return rows


def index_html(
    table: pd.DataFrame,
    month: str,
    map_svg: str,
    links: dict[str, str],
    generated: str,
    editions: list[dict] | None = None,
) -> str:
    """The monthly index page: a sortable table of every département and the map
    (template ``templates/national/index.html.j2``, autoescaped).

    ``editions`` (``MatchedSelections.national_editions``) names the national list the
    month was read back from."""
    from analyse.render.fragments import Markup, render
    from analyse.schema import INDEX_COLUMNS

    return render(
        "national/index.html.j2",
        mois=month,
        debut=config.TRAJECTORY_START,
        base=config.DENSITY_BASE,
        total_postes=int(table["postes"].sum()),
        total_variation=int(table["variation"].sum()),
        # read_back_note escapes the file names and origins it quotes.
        note=Markup(read_back_note(editions or [], month)),
        carte=Markup(map_svg),
        colonnes=INDEX_COLUMNS,
        drapeaux=[c for c in INDEX_COLUMNS if c.name.startswith("part_")],
        lignes=index_rows(table, links),
        genere=french_date(generated),
        legende=index_legend(),
    )


def write_index(
    target: Path,
    table: pd.DataFrame,
    shapes: gpd.GeoDataFrame,
    month: str,
    links: dict[str, str],
    generated: str,
    editions: list[dict] | None = None,
) -> None:
    alt = MAP_ALT.format(base=fmt_number(config.DENSITY_BASE))
    svg = figure_svg(national_map(table, shapes), alt)
    write_text(target, index_html(table, month, svg, links, generated, editions))
