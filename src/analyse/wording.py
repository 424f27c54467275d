"""French wording: numbers written the French way and the report's plain sentences."""

from __future__ import annotations

import html
import math
import re

import pandas as pd

from analyse import config

# Narrow no-break space: the French thousands separator, which never breaks a number
# across two lines.
THIN_SPACE = "\u202f"


MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def month_label(month: str) -> str:
    """'2021-03' → 'mars 2021'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def fmt_date(iso: str) -> str:
    """'2023-04-05' → '5 avril 2023'."""
    year, month, day = iso[:10].split("-")
    return f"{int(day)}{'er' if int(day) == 1 else ''} {MONTHS[int(month) - 1]} {year}"


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    """``1234.5`` → ``'1 234,5'`` (narrow no-break space, decimal comma)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", THIN_SPACE).replace(".", ",")


def fmt_euros(value: float | int) -> str:
    return f"{fmt_number(value)}{THIN_SPACE}€"


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """'1 conseiller', '2 conseillers' (French: 0 and 1 are singular)."""
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{fmt_number(count)} {word}"


def read_back_note(editions: list[dict], month: str | None) -> str:
    """Plain French saying that a past month is a later national list read back in time,
    naming the edition (``editions``: ``MatchedSelections.national_editions``).

    Empty without a national list (committee files are of their own time) or without a
    month. Escaped: ready for HTML.
    """
    if not editions or not month:
        return ""
    named = " et ".join(
        f"du {fmt_date(e['edition'])} ({esc(e['origine'])} {esc(e['fichier'])})" for e in editions
    )
    plural_lists = len(editions) > 1
    latest = max(e["edition"] for e in editions)
    if month >= latest[:7]:
        return (
            f"Chiffres tirés de la liste nationale {named} des structures validées par "
            "les comités de sélection."
        )
    return (
        f"Situation reconstituée : les mois passés sont la liste nationale {named} relue à "
        f"rebours, en ne gardant que les comités jusqu'à fin {month_label(month)}. "
        f"{'Ces listes ne gardent' if plural_lists else 'Cette liste ne garde'} que les "
        "structures encore dans le programme à sa date : celles qui s'en sont retirées "
        "depuis n'y figurent plus, et un mois passé peut compter moins de structures et de "
        "postes que ce qui avait été annoncé alors."
    )


_LEGAL_FORMS = (
    "Communauté de communes ",
    "Communauté d'agglomération ",
    "Communauté urbaine ",
    "Métropole ",
)
# Words that start some official names after their legal form and only make sense with
# it: « Métropole Européenne de Lille », « CA Intercommunale de la Réunion Est ».
_QUALIFIERS = ("Européenne ", "Intercommunale ")


def _split_legal_form(name: str) -> tuple[str, str]:
    for prefix in _LEGAL_FORMS:
        if name.startswith(prefix):
            return prefix.strip(), name[len(prefix) :]
    return "", name


def short_epci_name(name: str) -> str:
    """EPCI name without its legal form, for map labels ('CC du Briançonnais' → 'Briançonnais').

    A qualifier that needs its noun keeps it: 'Métropole Européenne de Lille' →
    'Métropole européenne de Lille', not 'Européenne de Lille'.
    """
    form, rest = _split_legal_form(name)
    if not form:
        return name
    if rest.startswith(_QUALIFIERS):
        noun = "Communauté" if form.startswith("Communauté") else form
        return f"{noun} {rest[0].lower()}{rest[1:]}"
    for article in ("du ", "de la ", "de l'", "des ", "de ", "d'"):
        if rest.startswith(article):
            return rest[len(article) :]
    return rest


def map_label(name: str) -> str:
    """The shortest clear label of an EPCI on a map: its acronym when it has one
    ('… Réunion Est (CIREST)' → 'CIREST'), else its short name."""
    short = short_epci_name(name)
    head = short.split(" (", 1)[0]
    if " (" in short and head.isupper() and " " not in head:  # 'CIVIS (Communauté …)'
        return head
    if short.endswith(")") and "(" in short:
        acronym = short[short.rindex("(") + 1 : -1]
        if acronym.isupper() and 2 <= len(acronym) <= 8:
            return acronym
    return short


def esc(value: object) -> str:
    """Escape a value coming from input data before it goes into HTML or Markdown."""
    return html.escape(str(value), quote=True)


def epci_subject(name: str, start: bool = False) -> str:
    """An EPCI name as the subject of a sentence: 'la communauté d'agglomération X'.

    'Communauté d'agglomération Intercommunale de la Réunion Est (CIREST)' reads
    'la communauté intercommunale de la Réunion Est (CIREST)'.
    """
    article = "La " if start else "la "
    form, rest = _split_legal_form(name)
    if form and rest.startswith(_QUALIFIERS):
        short = short_epci_name(name)
        return article + short[0].lower() + short[1:]
    if form and rest.startswith(("Communauté ", "Métropole ")):
        return article + rest[0].lower() + rest[1:]
    for kind in ("Communauté", "Métropole"):
        if name.startswith(kind):
            return article + name[0].lower() + name[1:]
    return name


def with_preposition(preposition: str, phrase: str) -> str:
    """'à' + 'le Conseil départemental' → 'au Conseil départemental'; 'de' + 'la X' → 'de la X'."""
    contracted = {("à", "le "): "au ", ("de", "le "): "du ", ("à", "les "): "aux "}
    for (prep, article), joined in contracted.items():
        if preposition == prep and phrase.startswith(article):
            return joined + phrase[len(article) :]
    return f"{preposition} {phrase}"


def at_commune(name: str) -> str:
    """A commune as a place in a sentence: 'à Gap', 'au Monêtier-les-Bains' (« Le
    Monêtier-les-Bains »), 'aux Orres' (« Les Orres »)."""
    for article in ("Le ", "Les "):
        if name.startswith(article):
            return with_preposition("à", article.lower() + name[len(article) :])
    return f"à {name}"


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def french_date(timestamp: str) -> str:
    """'2026-11-27T08:19:33+00:00' → '27 novembre 2026' ('1er' for the first day)."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return str(timestamp)
    return fmt_date(moment.date().isoformat())


def summary_sentences(
    indicators: pd.DataFrame,
    counts: dict,
    of_departement: str,
    beyond: dict | None = None,
    gaps: pd.DataFrame | None = None,
    target_month: str | None = None,
    rejected_places: dict | None = None,
    collectivity: str = "le Conseil départemental",
) -> list[str]:
    """Three to five plain sentences for an elected official, computed from the figures.

    ``of_departement`` is the name with its charnière ('des Hautes-Alpes'); ``beyond``
    the département's population beyond 10/20/30 km; ``gaps`` the priority table;
    ``target_month`` the month (YYYY-MM) the national target describes;
    ``rejected_places`` the places set aside for impossible coordinates (context
    ``lieux_rejetes``): beyond a small share, the distances are said to be incomplete.
    ``collectivity`` who holds the département-level posts ('la Collectivité de Corse').
    """
    return [
        s
        for s in (
            _posts_sentence(counts, of_departement, collectivity),
            _unknown_population_sentence(indicators),
            _coverage_sentence(indicators),
            _lowest_density_sentence(indicators),
            _remoteness_sentence(beyond, rejected_places),
            _priority_sentence(gaps, target_month),
        )
        if s
    ][:5]


def _unknown(indicators: pd.DataFrame) -> pd.Series:
    """EPCI whose population is unknown (one of their communes has none)."""
    return indicators["population"].isna()


def _unknown_population_sentence(indicators: pd.DataFrame) -> str:
    unknown = indicators.loc[_unknown(indicators)]
    if unknown.empty:
        return ""
    names = ", ".join(esc(short_epci_name(n)) for n in unknown["nom_epci"])
    return (
        f"Population inconnue pour {plural(len(unknown), 'intercommunalité')} ({names}) : "
        "aucune source ne la donne ; elle est laissée hors des densités, du classement de "
        "priorité et de la cible nationale."
    )


def _posts_sentence(counts: dict, of_departement: str, collectivity: str) -> str:
    if counts["lus"] == 0:
        return (
            "Aucun poste de conseiller numérique n'apparaît pour le département "
            f"{esc(of_departement)} dans les fichiers de sélection fournis."
        )
    parts = [
        f"{plural(counts['localises_dans_un_epci_du_departement'], 'poste')} dans les "
        "intercommunalités"
    ]
    for key, where in (
        ("departementaux", with_preposition("à", collectivity)),
        ("regionaux", "à la Région"),
        ("localises_hors_departement", "dans des structures situées hors du département"),
        ("non_localisables", "non localisables"),
        ("en_revue", "encore à vérifier"),
    ):
        if counts.get(key):
            parts.append(f"{plural(counts[key], 'poste')} {where}")
    verb = "a été attribué" if counts["lus"] < 2 else "ont été attribués"
    return (
        f"{plural(counts['lus'], 'poste')} de conseiller numérique {verb} au titre du "
        f"département {esc(of_departement)}, soit "
        f"{fmt_euros(counts['lus'] * config.STATE_FUNDING_PER_POST_EUR)} de financement de "
        f"l'État : {', '.join(parts)}."
    )


def _coverage_sentence(indicators: pd.DataFrame) -> str:
    uncovered = indicators.loc[indicators["postes"] == 0]
    if not len(indicators):
        return ""
    if len(indicators) == 1:
        only = esc(epci_subject(indicators["nom_epci"].iloc[0]))
        has = "a au moins un" if not len(uncovered) else "n’a aucun"
        return f"La seule intercommunalité du département, {only}, {has} conseiller numérique."
    if not len(uncovered):
        return (
            f"Les {fmt_number(len(indicators))} intercommunalités du département ont toutes "
            "au moins un conseiller numérique."
        )
    names = ", ".join(esc(short_epci_name(n)) for n in uncovered["nom_epci"])
    verb = "n’a" if len(uncovered) < 2 else "n’ont"
    known = uncovered.loc[~_unknown(uncovered)]
    if known.empty:
        people = "dont la population est inconnue"
    else:
        people = f"pour {fmt_number(known['population'].sum())} habitants"
        if len(known) < len(uncovered):
            people += " (sans compter celles dont la population est inconnue)"
    return (
        f"{plural(len(uncovered), 'intercommunalité')} sur {fmt_number(len(indicators))} "
        f"{verb} aucun conseiller numérique ({names}), {people}."
    )


def _lowest_density_sentence(indicators: pd.DataFrame) -> str:
    covered = indicators.loc[indicators["postes"] > 0]
    covered = covered.loc[covered["conseillers_pour_10000_hab"].notna()]
    if not len(covered) or len(indicators) < 2:  # nothing to compare with
        return ""
    lowest = covered.sort_values("conseillers_pour_10000_hab").iloc[0]
    where = (
        "parmi les intercommunalités qui en ont au moins un"
        if len(covered) < len(indicators)
        else "du département"
    )
    per = fmt_number(lowest["habitants_par_conseiller"])
    return (
        f"{esc(epci_subject(lowest['nom_epci'], start=True))} compte "
        f"{fmt_number(lowest['postes'])} conseiller{'s' if lowest['postes'] > 1 else ''} "
        f"pour {fmt_number(lowest['population'])} habitants, soit 1 pour {per} : la densité "
        f"la plus faible {where}."
        if lowest["postes"] > 1
        else f"{esc(epci_subject(lowest['nom_epci'], start=True))} compte 1 conseiller pour "
        f"{per} habitants, la densité la plus faible {where}."
    )


def _remoteness_sentence(beyond: dict | None, rejected: dict | None = None) -> str:
    if not beyond or not beyond.get("population"):
        return ""
    far = beyond["population_au_dela_20km"]
    if rejected and rejected.get("incomplet"):
        count = rejected["nombre"]
        among = count + rejected["utilises"]
        verb = (
            "a des coordonnées impossibles et a été écarté"
            if count < 2
            else ("ont des coordonnées impossibles et ont été écartés")
        )
        share = fmt_number(100 * far / beyond["population"], 1)
        return (
            f"Distances incomplètes : {plural(count, 'lieu', 'lieux')} sur "
            f"{fmt_number(among)} du fichier des lieux pour ce département {verb} (liste "
            f"dans la section sur l'éloignement) ; les {fmt_number(far)} habitants "
            f"({share} %) comptés à plus de 20 km à vol d'oiseau d'un lieu où travaille un "
            "conseiller numérique sont donc une estimation haute."
        )
    if far == 0:
        return (
            "Tous les habitants vivent à moins de 20 km à vol d'oiseau d'un lieu où "
            "travaille un conseiller numérique."
        )
    share = fmt_number(100 * far / beyond["population"], 1)
    return (
        f"{fmt_number(far)} habitants ({share} % de la population) vivent à plus de 20 km à "
        "vol d'oiseau du lieu le plus proche où travaille un conseiller numérique."
    )


def _priority_sentence(gaps: pd.DataFrame | None, target_month: str | None = None) -> str:
    if gaps is None or not len(gaps) or gaps["rang_priorite"].isna().all():
        return ""
    first = gaps.sort_values("rang_priorite", na_position="last").iloc[0]
    missing = first["postes_manquants_cible_nationale"]
    when = f" (fin {month_label(target_month)})" if target_month else ""
    if pd.isna(missing):
        tail = "la densité nationale du programme n'est pas connue."
    elif missing:
        tail = (
            f"il lui manque {plural(int(missing), 'poste')} pour atteindre la densité "
            f"nationale du programme{when}."
        )
    else:
        tail = f"elle atteint déjà la densité nationale du programme{when}."
    return (
        f"Priorité n° 1 : {esc(epci_subject(first['nom_epci']))}, avec un score de "
        f"{fmt_number(first['score_priorite'], 1)} sur 100 ; {tail}"
    )


_MARKUP_RE = re.compile(r"(<style.*?</style>|<script.*?</script>|<[^>]*>)", re.S | re.I)
_UNIT_RE = re.compile(r"(\d) (km²|km|m|%|€|h|habitants?\b|postes?\b|conseillers?\b)")


def french_spacing(text: str) -> str:
    """No-break spaces where French typography wants them, in the text of an HTML page
    (tags, styles and scripts untouched): narrow before ; ! ?, normal before : and
    inside « », and between a number and its unit, so that nothing wraps alone."""
    parts = _MARKUP_RE.split(text)
    for i in range(0, len(parts), 2):  # even indices: text between tags
        chunk = parts[i]
        chunk = re.sub(r"[ \u00a0]([;!?])", "\u202f\\1", chunk)
        chunk = re.sub(r" :", "\u00a0:", chunk)
        chunk = chunk.replace("« ", "«\u00a0").replace(" »", "\u00a0»")
        chunk = chunk.replace("n° ", "n°\u00a0")
        parts[i] = _UNIT_RE.sub("\\1\u00a0\\2", chunk)
    return "".join(parts)
