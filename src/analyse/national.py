"""National views: the reconciliation of every post, and the monthly index of départements."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd

from analyse import config
from analyse.atomic import write_text
from analyse.errors import ReconciliationError
from analyse.indicators import ACCOUNTED, density, reconciliation
from analyse.maps import (
    CLASS_COLOURS,
    NO_POST_COLOUR,
    class_colour,
    density_classes,
    month_label,
)
from analyse.matching import REVIEW, UNLOCATABLE
from analyse.pipeline import MatchedSelections
from analyse.reference import Reference, sum_or_missing
from analyse.wording import esc, fmt_number, read_back_note

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
    from analyse import priority_areas, trajectory

    flags = priority_areas.flag_counts(current, "departement")
    for flag in priority_areas.FLAGS:
        for column in (f"postes_{flag}", f"postes_{flag}_non_documente"):
            table[column] = table["code"].map(flags[column]).fillna(0).astype("int64")
    population = table.set_index("code")["population"].astype("Float64").astype(float)
    densities = trajectory.departement_densities(current, population, trajectory.month_range(month))
    table["trajectoire"] = [list(densities.loc[c]) for c in table["code"]]
    return table


def national_map(table: pd.DataFrame, shapes: gpd.GeoDataFrame, title: str) -> plt.Figure:
    """Density by département: metropolitan France in Lambert-93, overseas in insets."""
    data = shapes.merge(table, on="code")
    classes, labels = density_classes(data["conseillers_pour_10000_hab"])
    data["couleur"] = [class_colour(c) for c in classes]
    fig = plt.figure(figsize=(9, 8.5))
    main = fig.add_axes((0.0, 0.12, 0.78, 0.82))
    metro = data.loc[~data["code"].isin(config.OVERSEAS_CRS)].to_crs(config.METROPOLITAN_CRS)
    metro.plot(ax=main, color=metro["couleur"], edgecolor="white", linewidth=0.4)
    main.set_axis_off()
    main.set_title(title, loc="left", fontsize=12)
    for i, (code, crs) in enumerate(config.OVERSEAS_CRS.items()):
        inset = fig.add_axes((0.02 + i * 0.155, 0.0, 0.14, 0.12))
        part = data.loc[data["code"] == code].to_crs(crs)
        part.plot(ax=inset, color=part["couleur"], edgecolor="white", linewidth=0.4)
        inset.set_axis_off()
        name = part["nom"].iloc[0] if len(part) else code
        inset.set_title(name, fontsize=7)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=NO_POST_COLOUR, label="aucun conseiller")]
    handles += [Patch(facecolor=c, label=lab) for c, lab in zip(CLASS_COLOURS, labels, strict=True)]
    fig.legend(
        handles=handles,
        loc="upper right",
        frameon=False,
        fontsize=9,
        title=f"Conseillers pour {fmt_number(config.DENSITY_BASE)} hab.",
    )
    return fig


def _png_data_uri(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_SORT_SCRIPT = """
document.querySelectorAll("table.triable th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var tbody = th.closest("table").tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    th.closest("tr").querySelectorAll("th").forEach(function (o) {
      o.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    Array.from(tbody.rows).sort(function (a, b) {
      var x = a.cells[col].dataset.tri, y = b.cells[col].dataset.tri;
      var nx = parseFloat(x), ny = parseFloat(y);
      var d = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y, "fr") : nx - ny;
      return asc ? d : -d;
    }).forEach(function (r) { tbody.appendChild(r); });
  });
});
"""


def _population_cell(row) -> str:
    """A département's population, « population inconnue » when a commune lacks one;
    a collectivity outside the reference has none to show."""
    if not pd.isna(row.population):
        return fmt_number(row.population)
    return "population inconnue" if row.code not in config.OVERSEAS_COLLECTIVITIES else "–"


def _sort_key(value: float) -> str:
    """Sort key of a number; a missing one sorts first."""
    return "-1" if pd.isna(value) else f"{float(value):.6f}"


def index_html(
    table: pd.DataFrame,
    month: str,
    map_uri: str,
    links: dict[str, str],
    generated: str,
    editions: list[dict] | None = None,
) -> str:
    """The monthly index page: a sortable table of every département and the map.

    ``editions`` (``MatchedSelections.national_editions``) names the national list the
    month was read back from."""
    from analyse import territories_report

    note = read_back_note(editions or [], month)
    top = territories_report.common_top(table)
    rows = []
    for row in table.sort_values("code").itertuples(index=False):
        link = links.get(row.code)
        name = esc(row.nom)
        cell = f'<a href="{esc(link)}">{name}</a>' if link else name
        sign = "+" if row.variation > 0 else ""
        rows.append(
            "<tr>"
            f'<td data-tri="{esc(row.code)}">{esc(row.code)}</td>'
            f'<td data-tri="{name}">{cell}</td>'
            f'<td class="n" data-tri="{row.postes}">{fmt_number(row.postes)}</td>'
            f'<td class="n" data-tri="{_sort_key(row.population)}">'
            f"{_population_cell(row)}</td>"
            f'<td class="n" data-tri="{_sort_key(row.conseillers_pour_10000_hab)}">'
            f"{fmt_number(row.conseillers_pour_10000_hab, 2)}</td>"
            f'<td class="n" data-tri="{row.variation}">{sign}{fmt_number(row.variation)}</td>'
            f"{territories_report.index_cells(row._asdict(), month, top)}"
            "</tr>"
        )
    total_posts = int(table["postes"].sum())
    total_change = int(table["variation"].sum())
    label = month_label(month)
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conseillers numériques — situation fin {esc(label)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 62rem; margin: 1.5rem auto;
       padding: 0 1rem; color: #222; line-height: 1.5; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }}
th {{ cursor: pointer; background: #f2f6fa; position: sticky; top: 0; }}
th[aria-sort=ascending]::after {{ content: " ▲"; }}
th[aria-sort=descending]::after {{ content: " ▼"; }}
td.n {{ text-align: right; white-space: nowrap; }}
img {{ max-width: 100%; height: auto; }}
footer {{ color: #555; font-size: 12px; margin-top: 2rem; }}
.avertissement {{ background: #fff7e6; border-left: 4px solid #E69F00; padding: 0.6rem 1rem; }}
@media print {{ th {{ position: static; }} }}
</style>
</head>
<body>
<h1>Conseillers numériques France Services — situation fin {esc(label)}</h1>
<p><strong>{fmt_number(total_posts)} postes</strong> attribués par les comités de sélection
depuis mars 2021, dont {fmt_number(total_change)} au cours de ce mois. Cliquez sur un
en-tête de colonne pour trier le tableau ; le nom d'un département mène à son rapport.</p>
{f'<p class="avertissement"><strong>À savoir.</strong> {note}</p>' if note else ""}
<img src="{map_uri}"
 alt="Carte de France des conseillers numériques pour 10 000 habitants, par département">
<table class="triable">
<thead><tr><th>Code</th><th>Département</th><th>Postes</th><th>Population</th>
<th>Conseillers pour {fmt_number(config.DENSITY_BASE)} hab.</th>
<th>Évolution sur le mois</th>{territories_report.index_headers(month)}</tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
<footer>Postes comptés par département comme l'ANCT les compte (« Code département » de la
liste nationale). {territories_report.index_note()} Généré le {esc(generated)}.</footer>
<script>{_SORT_SCRIPT}</script>
</body>
</html>
"""


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
