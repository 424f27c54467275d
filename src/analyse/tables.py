"""Tables shown in the report, with French headers and French number formats.

Each function returns HTML in which every value from input data is escaped.
"""

from __future__ import annotations

import pandas as pd

from analyse import config
from analyse.wording import esc, fmt_euros, fmt_number

_BASE = fmt_number(config.DENSITY_BASE)
# A formatted figure: digits, (narrow) spaces, decimal comma, euro sign, dash for none.
_FIGURE_RE = r"[\d\s\u202f,\u2013€-]*"


def _html(frame: pd.DataFrame) -> str:
    """HTML table with escaped values; columns of figures right-aligned, text left."""
    numeric_cols = [
        c for c in frame.columns if frame[c].astype(str).str.fullmatch(_FIGURE_RE).all()
    ]
    text_cols = [c for c in frame.columns if c not in numeric_cols]
    styler = (
        frame.style.hide(axis="index")
        .format(escape="html", na_rep="–")
        .set_table_attributes('class="tableau"')
        .set_properties(subset=text_cols, **{"text-align": "left"})
        .set_properties(subset=numeric_cols, **{"text-align": "right", "white-space": "nowrap"})
        .set_table_styles([{"selector": "th", "props": "text-align: left;"}])
    )
    return styler.to_html()


def indicators_table(indicators: pd.DataFrame) -> str:
    """One line per EPCI, sorted by density (lowest first: where coverage is thinnest)."""
    rows = indicators.sort_values(
        ["conseillers_pour_10000_hab", "population"], ascending=[True, False]
    )
    frame = pd.DataFrame(
        {
            "Intercommunalité": rows["nom_epci"],
            "SIREN": rows["siren_epci"],
            "Départements": rows["departements"].str.replace(",", ", "),
            "Population": rows["population"].map(fmt_number),
            "Surface (km²)": rows["surface_km2"].map(lambda v: fmt_number(v)),
            "Postes": rows["postes"].map(fmt_number),
            f"Conseillers pour {_BASE} hab.": rows["conseillers_pour_10000_hab"].map(
                lambda v: fmt_number(v, 2)
            ),
            "Habitants par conseiller": rows["habitants_par_conseiller"].map(fmt_number),
            "Financement de l'État": rows["financement_etat_eur"].map(fmt_euros),
        }
    )
    total = {
        "Intercommunalité": "Total des intercommunalités",
        "SIREN": "",
        "Départements": "",
        "Population": fmt_number(indicators["population"].sum()),
        "Surface (km²)": fmt_number(indicators["surface_km2"].sum()),
        "Postes": fmt_number(indicators["postes"].sum()),
        f"Conseillers pour {_BASE} hab.": fmt_number(
            indicators["postes"].sum()
            / max(indicators["population"].sum(), 1)
            * config.DENSITY_BASE,
            2,
        ),
        "Habitants par conseiller": fmt_number(
            indicators["population"].sum() / indicators["postes"].sum()
            if indicators["postes"].sum()
            else None
        ),
        "Financement de l'État": fmt_euros(indicators["financement_etat_eur"].sum()),
    }
    return _html(pd.concat([frame, pd.DataFrame([total])], ignore_index=True))


def spread_variant_table(indicators: pd.DataFrame) -> str:
    """The labelled variant: département-level posts spread pro rata to population."""
    rows = indicators.sort_values("nom_epci")
    frame = pd.DataFrame(
        {
            "Intercommunalité": rows["nom_epci"],
            "Population dans le département": rows["population_dans_departement"].map(fmt_number),
            "Postes propres": rows["postes"].map(fmt_number),
            "Part des postes départementaux": rows["postes_departementaux_repartis"].map(
                lambda v: fmt_number(v, 2)
            ),
            "Postes, part départementale incluse": rows["postes_avec_departementaux_repartis"].map(
                lambda v: fmt_number(v, 2)
            ),
            f"Conseillers pour {_BASE} hab. (variante)": rows[
                "conseillers_pour_10000_hab_avec_departementaux_repartis"
            ].map(lambda v: fmt_number(v, 2)),
        }
    )
    return _html(frame)


def reconciliation_table(counts: dict) -> str:
    """Where every post read went; the first line equals the sum of the others."""
    frame = pd.DataFrame(
        [
            ("Postes lus dans les fichiers de sélection", counts["lus"]),
            (
                "dont localisés dans une intercommunalité du département",
                counts["localises_dans_un_epci_du_departement"],
            ),
            (
                "dont localisés dans une structure hors du département",
                counts["localises_hors_departement"],
            ),
            (
                "dont attribués au Conseil départemental (catégorie à part)",
                counts["departementaux"],
            ),
            ("dont en attente de vérification (non comptés ailleurs)", counts["en_revue"]),
        ],
        columns=["", "Postes"],
    )
    frame["Postes"] = frame["Postes"].map(fmt_number)
    return _html(frame)


def review_table(review: pd.DataFrame) -> str:
    """Rows a person must check, with file, line, reason and best candidates."""
    frame = pd.DataFrame(
        {
            "Fichier": review["fichier"],
            "Ligne": review["ligne"].map(fmt_number),
            "Structure (telle que publiée)": review["structure"],
            "Type": review["type_structure"],
            "Postes": review["postes"].map(fmt_number),
            "Motif": review["motif"],
            "Meilleurs candidats": review["candidats"],
        }
    )
    return _html(frame)


def selections_table(selections: pd.DataFrame) -> str:
    """Every selection row of the département and what it was matched to."""
    rows = selections.sort_values(["date_comite", "structure"])
    frame = pd.DataFrame(
        {
            "Comité": rows["mois_comite"],
            "Structure (telle que publiée)": rows["structure"],
            "Postes": rows["postes"].map(fmt_number),
            "Rattachée à": rows["nom_officiel"].fillna("–"),
            "Méthode": rows["methode"].replace("", "–"),
            "Fichier, ligne": rows["fichier"] + ", l. " + rows["ligne"].astype(str),
        }
    )
    return _html(frame)


def provenance_html(context: dict) -> str:
    """Footer: sources and editions, selection files with checksums, date, version."""
    files = "".join(
        f"<li><code>{esc(f['fichier'])}</code> (sha256 {esc(f['sha256'][:12])}…)</li>"
        for f in context.get("fichiers_selection", [])
    )
    return (
        '<footer class="provenance"><p><strong>Sources.</strong> Référentiel territorial : '
        f"{esc(context.get('edition_reference', ''))}. "
        "Sélections des comités (fichiers utilisés) :</p>"
        f"<ul>{files}</ul>"
        f"<p>Rapport généré le {esc(context.get('genere_le', ''))} par analyse "
        f"{esc(context.get('version', ''))}.</p></footer>"
    )


def summary_html(prepared) -> str:
    """The plain sentences at the top of the report, in a highlighted box."""
    from analyse.wording import summary_sentences

    of_name = prepared.context.get("nom_avec_charniere", prepared.nom)
    sentences = summary_sentences(prepared.indicators, prepared.counts, of_name)
    items = "".join(f"<li>{s}</li>" for s in sentences)  # already escaped
    return f'<div class="resume"><p><strong>En bref</strong></p><ul>{items}</ul></div>'


def map_caption(prepared) -> str:
    """How to read the map, with the facts specific to this département."""
    text = (
        "Chaque intercommunalité est colorée selon son nombre de conseillers numériques "
        f"pour {_BASE} habitants ; les zones hachurées n'en ont aucun. "
        "Les points orange marquent les communes où siège une structure retenue "
        "(commune ou association) ; les postes du Conseil départemental ne sont pas "
        "cartographiés. Le trait noir est la limite du département."
    )
    spanning = prepared.indicators.loc[
        prepared.indicators["departements"].str.contains(",", regex=False)
    ]
    if len(spanning):
        names = ", ".join(esc(n) for n in spanning["nom_epci"])
        text += (
            f" Certaines intercommunalités débordent sur un département voisin ({names}) : "
            "elles sont représentées et comptées en entier, avec toute leur population."
        )
    return text


def review_section(review: pd.DataFrame) -> str:
    """The review list, or a sentence saying there is nothing to check."""
    if review.empty:
        return "<p>Aucune ligne n'est en attente de vérification.</p>"
    intro = (
        f"<p><strong>{fmt_number(len(review))} ligne(s) à vérifier</strong>, "
        f"soit {fmt_number(review['postes'].sum())} poste(s) non comptés dans les "
        "intercommunalités. Pour les rattacher, ajoutez le nom et le code officiel dans "
        "<code>data/raw/aliases.csv</code> puis relancez le rapport.</p>"
    )
    return intro + review_table(review)
