"""The report's section « Où placer les prochains postes ? » and the CLI's printout.

Sentences, table and caveats come from the scenario solved with the prepared bundle
(``Prepared.propositions`` and ``context["scenario"]``, or ``analysis.scenario.for_postes``
in a notebook asking another number of posts); nothing here solves; the HTML is a Jinja2 template
with autoescape (``templates/scenario/section.html.j2``).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from matplotlib.figure import Figure

from analyse.render.fragments import render
from analyse.wording import fmt_number, plural, with_preposition

TITLE = "Où placer les prochains postes ?"
ORDINALS = ["premier", "deuxième", "troisième", "quatrième", "cinquième", "sixième"]

CAVEATS = [
    "Les distances sont à vol d'oiseau, de mairie à mairie : en montagne ou autour d'un "
    "estuaire, le trajet réel est bien plus long.",
    "Les habitants d'une commune sont tous comptés à sa mairie : dans une commune étendue, "
    "certains sont plus loin ou plus près.",
    "Les lieux existants, ceux des départements voisins compris, restent ouverts ; la "
    "charge de chaque conseiller n'est pas prise en compte.",
    "Une commune voisine de celle proposée ferait souvent presque aussi bien : c'est un "
    "secteur qui est désigné, autant qu'une commune.",
    "C'est une proposition de calcul, pas une décision : le choix d'un lieu dépend aussi "
    "d'une structure prête à porter le poste, de locaux, des transports et des besoins "
    "que les chiffres ne disent pas.",
]


def _km(value: float) -> str:
    return fmt_number(value, 0 if float(value).is_integer() else 1)


def sentences(proposals: pd.DataFrame, summary: dict) -> list[str]:
    """One plain French sentence per proposed post, in order of choice."""
    radius = _km(summary["rayon_km"])
    lines = []
    for row in proposals.itertuples():
        where = with_preposition("à", row.commune)
        if isinstance(row.nom_epci, str):
            where += f" ({row.nom_epci})"
        more = " de plus" if row.rang > 1 else ""
        if summary["objectif"] == "couverture":
            count = row.population_nouvellement_a_moins_du_rayon
            lines.append(
                f"Un poste {where} rapprocherait {plural(count, 'habitant')}{more} à moins "
                f"de {radius} km d'un conseiller{_tie_words(row, summary)}."
            )
        else:
            count = row.habitants_rapproches
            text = (
                f"Un poste {where} rapprocherait {plural(count, 'habitant')}{more} d'un "
                f"conseiller, de {fmt_number(row.gain_moyen_km, 1)} km en moyenne"
            )
            newly = row.population_nouvellement_a_moins_du_rayon
            if newly:
                text += f", dont {fmt_number(newly)} passeraient à moins de {radius} km"
            lines.append(text + _tie_words(row, summary) + ".")
    return lines


def _tie_words(row, summary: dict) -> str:
    """« (ex aequo avec 12 autres communes ; choisie : … ) » when others bring as much."""
    others = int(getattr(row, "ex_aequo", 0) or 0)
    if not others:
        return ""
    rule = summary.get("regle_ex_aequo", "")
    return (
        f" (ex aequo avec {plural(others, 'autre commune', 'autres communes')}, qui "
        "apporteraient exactement "
        f"autant" + (f" ; retenue selon la règle : {rule}" if rule else "") + ")"
    )


def headline(summary: dict, count: int) -> str:
    """What was asked, in one sentence."""
    if summary["objectif"] == "couverture":
        goal = (
            "rapprocher le plus d'habitants possible à moins de "
            f"{_km(summary['rayon_km'])} km d'un lieu où travaille un conseiller"
        )
    else:
        goal = "réduire le plus possible la distance moyenne des habitants au lieu le plus proche"
    asked = summary["postes"]
    text = f"Si l'on finançait {plural(asked, 'poste')} de plus, où les placer pour {goal} ?"
    if count == 0:
        text += " Le calcul n'en propose aucun (voir ci-dessous)."
    elif count < asked:
        text += f" Le calcul n'en propose que {count} (voir ci-dessous)."
    return text


def ranking_criterion(summary: dict) -> str:
    """What the order of the posts is based on, in words."""
    if summary["objectif"] == "couverture":
        text = f"habitants passant à moins de {_km(summary['rayon_km'])} km"
    else:
        text = "distance économisée, en habitants × km"
    if summary.get("ponderation") == "ifn":
        text += ", pondérés par la fragilité numérique"
    return text


def table_rows(proposals: pd.DataFrame, summary: dict) -> list[dict]:
    """The table of proposals, values formatted the French way."""
    rows = []
    for row in proposals.itertuples():
        rows.append(
            {
                "rang": row.rang,
                "commune": row.commune,
                "insee": row.insee,
                "epci": row.nom_epci if isinstance(row.nom_epci, str) else "–",
                "nouveaux": fmt_number(row.population_nouvellement_a_moins_du_rayon),
                "cumul": fmt_number(row.population_a_moins_du_rayon_cumulee),
                "rapproches": fmt_number(row.habitants_rapproches),
                "gain": fmt_number(row.gain_moyen_km, 1),
            }
        )
    return rows


def beyond_rows(summary: dict) -> list[dict]:
    before, after = summary["population_au_dela_avant"], summary["population_au_dela_apres"]
    return [
        {
            "seuil": f"plus de {k} km",
            "avant": fmt_number(before[k]),
            "apres": fmt_number(after[k]),
            "ecart": fmt_number(after[k] - before[k]),
        }
        for k in before
    ]


def section_html(proposals: pd.DataFrame, summary: dict) -> str:
    """Headline, sentences, table, before/after and caveats (no map; the method is in
    the analysts' part, ``tables.method_html``)."""
    return render(
        "scenario/section.html.j2",
        titre=TITLE,
        question=headline(summary, len(proposals)),
        phrases=sentences(proposals, summary),
        lignes=table_rows(proposals, summary),
        rayon=_km(summary["rayon_km"]),
        critere=ranking_criterion(summary),
        au_dela=beyond_rows(summary),
        remarques=summary.get("remarques", []),
        precautions=CAVEATS,
    )


def proposals_map(prepared, proposals: gpd.GeoDataFrame, summary: dict) -> tuple[Figure, dict]:
    """The distance map of the report, with the proposed posts numbered by rank, and its
    legend (for ``maps.show``)."""
    from analyse.render import maps

    return maps.report_distance_map(
        prepared, f"{prepared.nom} : lieux existants et postes proposés", proposals
    )


def cli_text(prepared, proposals: pd.DataFrame, summary: dict) -> str:
    """What ``analyse scenario`` prints."""
    lines = [
        f"{TITLE} — {prepared.nom} ({prepared.departement})",
        headline(summary, len(proposals)),
    ]
    lines.append(
        summary["methode_note"]
        + f" Durée de résolution : {fmt_number(summary['duree_resolution_s'], 2)} s."
    )
    lines += summary.get("remarques", [])
    if summary.get("lieux"):
        lines.append(summary["lieux"])
    if len(proposals):
        lines.append("")
        header = (
            f"{'rang':>4}  {'commune':<28}{'intercommunalité':<48}"
            f"{'à < ' + _km(summary['rayon_km']) + ' km':>10}{'cumul':>10}{'rapprochés':>12}"
            f"{'gain km':>9}"
        )
        lines.append(header)
        for row in table_rows(proposals, summary):
            lines.append(
                f"{row['rang']:>4}  {row['commune'][:27]:<28}{row['epci'][:47]:<48}"
                f"{row['nouveaux']:>10}{row['cumul']:>10}{row['rapproches']:>12}{row['gain']:>9}"
            )
        lines.append("")
        lines += sentences(proposals, summary)
    lines.append("")
    lines.append("Population du département loin d'un lieu : avant → après")
    for row in beyond_rows(summary):
        lines.append(f"  à {row['seuil']:<14}{row['avant']:>10} → {row['apres']:>10}")
    lines.append("")
    lines.append("À lire avec précaution :")
    lines += [f"  – {caveat}" for caveat in CAVEATS]
    return "\n".join(lines)
