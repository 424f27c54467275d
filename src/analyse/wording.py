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


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    """``1234.5`` → ``'1 234,5'`` (narrow no-break space, decimal comma)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", THIN_SPACE).replace(".", ",")


def fmt_euros(value: float | int) -> str:
    return f"{fmt_number(value)}{THIN_SPACE}€"


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """'1 conseiller', '2 conseillers' (French: 0 and 1 are singular)."""
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{fmt_number(count)} {word}"


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


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def french_date(timestamp: str) -> str:
    """'2026-11-27T08:19:33+00:00' → '27 novembre 2026' ('1er' for the first day)."""
    from datetime import datetime

    from analyse.maps import MONTHS

    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return str(timestamp)
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS[moment.month - 1]} {moment.year}"


def summary_sentences(
    indicators: pd.DataFrame,
    counts: dict,
    of_departement: str,
    beyond: dict | None = None,
    gaps: pd.DataFrame | None = None,
    collectivity: str = "le Conseil départemental",
) -> list[str]:
    """Three to five plain sentences for an elected official, computed from the figures.

    ``of_departement`` is the name with its charnière ('des Hautes-Alpes'); ``beyond``
    the département's population beyond 10/20/30 km; ``gaps`` the priority table;
    ``collectivity`` who holds the département-level posts ('la Collectivité de Corse').
    """
    return [
        s
        for s in (
            _posts_sentence(counts, of_departement, collectivity),
            _coverage_sentence(indicators),
            _lowest_density_sentence(indicators),
            _remoteness_sentence(beyond),
            _priority_sentence(gaps),
        )
        if s
    ][:5]


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
    return (
        f"{plural(len(uncovered), 'intercommunalité')} sur {fmt_number(len(indicators))} "
        f"{verb} aucun conseiller numérique ({names}), pour "
        f"{fmt_number(uncovered['population'].sum())} habitants."
    )


def _lowest_density_sentence(indicators: pd.DataFrame) -> str:
    covered = indicators.loc[indicators["postes"] > 0]
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


def _remoteness_sentence(beyond: dict | None) -> str:
    if not beyond or not beyond.get("population"):
        return ""
    far = beyond["population_au_dela_20km"]
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


def _priority_sentence(gaps: pd.DataFrame | None) -> str:
    if gaps is None or not len(gaps):
        return ""
    first = gaps.sort_values("rang_priorite").iloc[0]
    missing = int(first["postes_manquants_cible_nationale"])
    tail = (
        f"il lui manque {plural(missing, 'poste')} pour atteindre la densité nationale du "
        "programme."
        if missing
        else "elle atteint déjà la densité nationale du programme."
    )
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
