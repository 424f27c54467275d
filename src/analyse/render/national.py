"""National views: the reconciliation of every post, and the monthly index of départements."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd

from analyse import config
from analyse.analysis.indicators import ACCOUNTED, density, reconciliation
from analyse.analysis.pipeline import MatchedSelections
from analyse.atomic import write_text
from analyse.errors import ReconciliationError
from analyse.render.maps import (
    CLASS_COLOURS,
    NO_POST_COLOUR,
    class_colour,
    density_classes,
    month_label,
)
from analyse.territory.matching import REVIEW, UNLOCATABLE
from analyse.territory.reference import Reference, sum_or_missing
from analyse.wording import fmt_number, french_date, read_back_note

CONTROL_COLUMNS = ["lus", *ACCOUNTED]
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


def epci_by_departement(reference: Reference) -> dict[str, list[str]]:
    """SIREN of the EPCI that have at least one commune in each département."""
    current = reference.communes.loc[reference.communes["type"] == "COM"]
    groups = current.dropna(subset=["siren_epci"]).groupby("departement")["siren_epci"]
    return {dep: sorted(set(sirens)) for dep, sirens in groups}


def control_table(
    matched: pd.DataFrame, reference: Reference, anomalies: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One line per département present in the data or the reference, plus a total.

    Each line is a ``reconciliation`` (which asserts that its categories add up).
    """
    sirens = epci_by_departement(reference)
    rejected_codes = set() if anomalies is None else set(anomalies["departement"]) - {""}
    codes = sorted(
        set(matched["departement"]) | set(reference.departements["code"]) | rejected_codes,
        key=lambda c: (len(c) > 2 and c.isdigit(), c),
    )
    rows = []
    for code in codes:
        counts = reconciliation(matched, code, sirens.get(code, []), anomalies)
        rows.append({"departement": code, **{k: counts[k] for k in CONTROL_COLUMNS}})
    table = pd.DataFrame(rows)
    total = table[CONTROL_COLUMNS].sum()
    # Rejected rows count where their département could be read.
    rejected = 0
    if anomalies is not None:
        rejected = int(anomalies.loc[anomalies["departement"] != "", "postes"].sum())
    if total["lus"] != matched["postes"].sum() + rejected:
        raise ReconciliationError(
            f"Rapprochement national faux : {matched['postes'].sum()} postes lus, "
            f"{total['lus']} répartis entre départements."
        )
    return pd.concat(
        [table, pd.DataFrame([{"departement": "Total", **total.to_dict()}])], ignore_index=True
    )


def control_text(
    matched: pd.DataFrame, reference: Reference, anomalies: pd.DataFrame | None = None
) -> str:
    """The national reconciliation as printed by ``analyse controle``."""
    table = control_table(matched, reference, anomalies)
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


# ---------------------------------------------------------------------- monthly index


def departement_table(
    selections: MatchedSelections, reference: Reference, month: str
) -> pd.DataFrame:
    """Posts counted per département at the end of ``month`` and the change since the
    month before, with the density per 10 000 inhabitants."""
    current = selections.until(month).table
    previous = selections.until(str(pd.Period(month, freq="M") - 1)).table
    communes = reference.communes.loc[reference.communes["type"] == "COM"]
    # A département with a commune of unknown population has no population (never a
    # partial sum): its density is left empty, and the index says so.
    population = sum_or_missing(communes["population"], communes["departement"])
    table = reference.departements[["code", "nom"]].copy()
    # Collectivities outside the reference keep their posts in the table (and the
    # national total), without population or report.
    others = sorted(set(current["departement"]) - set(table["code"]))
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                {"code": others, "nom": [config.OVERSEAS_COLLECTIVITIES.get(c, c) for c in others]}
            ),
        ],
        ignore_index=True,
    )
    table["population"] = table["code"].map(population).astype("Int64")
    table["postes"] = table["code"].map(current.groupby("departement")["postes"].sum())
    table["postes"] = table["postes"].fillna(0).astype("int64")
    before = table["code"].map(previous.groupby("departement")["postes"].sum()).fillna(0)
    table["variation"] = (table["postes"] - before).astype("int64")
    table["conseillers_pour_10000_hab"] = density(table["postes"], table["population"])
    return add_index_columns(table, current, month)


def add_index_columns(table: pd.DataFrame, current: pd.DataFrame, month: str) -> pd.DataFrame:
    """Posts in QPV, ZRR, France Services (and not documented) per département, and its
    density at the end of each month since ``config.TRAJECTORY_START`` (issue 12)."""
    from analyse.analysis import priority_areas, trajectory

    flags = priority_areas.flag_counts(current, "departement")
    for flag in priority_areas.FLAGS:
        for column in (f"postes_{flag}", f"postes_{flag}_non_documente"):
            table[column] = table["code"].map(flags[column]).fillna(0).astype("int64")
    population = table.set_index("code")["population"].astype("Float64").astype(float)
    densities = trajectory.departement_densities(current, population, trajectory.month_range(month))
    table["trajectoire"] = [list(densities.loc[c]) for c in table["code"]]
    return table


# Paris and its petite couronne: too small to read on the map of France, shown in an inset.
PARIS_AREA = ("75", "92", "93", "94")


def national_map(table: pd.DataFrame, shapes: gpd.GeoDataFrame, title: str) -> plt.Figure:
    """Density by département: metropolitan France in Lambert-93, Paris and its petite
    couronne enlarged, overseas in insets. The legend is HTML, in the page
    (``index_legend``)."""
    data = shapes.merge(table, on="code")
    classes, _ = density_classes(data["conseillers_pour_10000_hab"])
    data["couleur"] = [class_colour(c) for c in classes]
    fig = plt.figure(figsize=(9, 8.5))
    main = fig.add_axes((0.0, 0.14, 0.74, 0.82))
    metro = data.loc[~data["code"].isin(config.OVERSEAS_CRS)].to_crs(config.METROPOLITAN_CRS)
    metro.plot(ax=main, color=metro["couleur"], edgecolor="white", linewidth=0.4)
    main.set_axis_off()
    main.set_title(title, loc="left", fontsize=13)
    paris = metro.loc[metro["code"].isin(PARIS_AREA)]
    if len(paris):
        inset = fig.add_axes((0.75, 0.62, 0.24, 0.3))
        paris.plot(ax=inset, color=paris["couleur"], edgecolor="white", linewidth=0.8)
        for row in paris.itertuples():
            point = row.geometry.representative_point()
            inset.text(point.x, point.y, row.code, fontsize=11, ha="center", va="center")
        inset.set_axis_off()
        inset.set_title("Paris et petite couronne", fontsize=11)
        # Where the inset is, on the main map.
        xmin, ymin, xmax, ymax = paris.total_bounds
        main.add_patch(
            plt.Rectangle((xmin, ymin), xmax - xmin, ymax - ymin, fill=False, linewidth=0.8)
        )
    for i, (code, crs) in enumerate(config.OVERSEAS_CRS.items()):
        inset = fig.add_axes((0.01 + i * 0.198, 0.0, 0.18, 0.14))
        part = data.loc[data["code"] == code].to_crs(crs)
        part.plot(ax=inset, color=part["couleur"], edgecolor="white", linewidth=0.4)
        inset.set_axis_off()
        name = part["nom"].iloc[0] if len(part) else code
        inset.set_title(name, fontsize=11)
    return fig


def index_legend() -> list[dict]:
    """The classes of the index's map, for its HTML legend: colour and label."""
    _, labels = density_classes(pd.Series([], dtype=float))
    return [{"couleur": NO_POST_COLOUR, "libelle": "aucun conseiller", "hachure": False}] + [
        {"couleur": colour, "libelle": label, "hachure": False}
        for colour, label in zip(CLASS_COLOURS, labels, strict=True)
    ]


def _png_data_uri(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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
    map_uri: str,
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
        carte=map_uri,
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
    title = f"Conseillers pour {fmt_number(config.DENSITY_BASE)} habitants, fin " + month_label(
        month
    )
    uri = _png_data_uri(national_map(table, shapes, title))
    write_text(target, index_html(table, month, uri, links, generated, editions))
