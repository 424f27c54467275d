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


def situation_label(situation: dict | None) -> str:
    """The date a report describes, in words: '5 avril 2023' (a national list's
    edition) or 'fin avril 2021' (the end of a month); '' when unknown."""
    if not situation or not situation.get("mois"):
        return ""
    if situation.get("date"):
        return fmt_date(situation["date"])
    return f"fin {month_label(situation['mois'])}"


def situation_at(situation: dict | None, start: bool = False) -> str:
    """'au 5 avril 2023' or 'à la fin avril 2021' ('Au …', 'À la …' with ``start``)."""
    label = situation_label(situation)
    if not label:
        return ""
    text = f"à la {label}" if label.startswith("fin ") else f"au {label}"
    return capitalise(text) if start else text


def month_end(month: str, situation: dict | None = None) -> str:
    """The end of ``month`` as a report dates it: 'fin avril 2021'; 'au 5 avril 2023'
    when ``month`` is the month of a situation dated by a list's edition (its last
    committee was on 5 April: the month was not over, and nothing is known after it)."""
    if situation and situation.get("date") and situation.get("mois") == month:
        return f"au {fmt_date(situation['date'])}"
    return f"fin {month_label(month)}"


def until_month_end(month: str, situation: dict | None = None) -> str:
    """'jusqu'à fin avril 2021', or 'jusqu'au 5 avril 2023' (see ``month_end``)."""
    end = month_end(month, situation)
    return f"jusqu'{end}" if end.startswith("au ") else f"jusqu'à {end}"


def committee_when(date, day_known: bool = True, article: str = "du") -> str:
    """The date of a committee as it is known: 'du 14 avril 2021'; 'de mars 2021' (or
    'd'avril 2021') for a round typed by its month only, never an invented first day.
    ``article``: 'du' (from) or 'au' (to: 'au 14 avril 2021', 'à mars 2021')."""
    iso = str(pd.Timestamp(date).date())
    if day_known:
        return f"{article} {fmt_date(iso)}"
    month = month_label(iso[:7])
    if article == "au":
        return f"à {month}"
    return f"d'{month}" if month[0] in "aeiou" else f"de {month}"


def situation_title(situation: dict | None) -> str:
    """'situation fin avril 2021' or 'situation au 5 avril 2023', for a title."""
    label = situation_label(situation)
    if not label:
        return ""
    return f"situation {label}" if label.startswith("fin ") else f"situation au {label}"


# The minus sign of French typography (a hyphen-minus is a hyphen, not a sign).
MINUS = "\u2212"


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    """``1234.5`` → ``'1 234,5'`` (narrow no-break space, decimal comma); a negative
    number with the minus sign « − », and never « −0,00 » for what rounds to zero."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if text.startswith("-"):
        text = text[1:] if not text.strip("-0.,") else MINUS + text[1:]
    return text.replace(",", THIN_SPACE).replace(".", ",")


def fmt_signed(value: float, decimals: int = 0) -> str:
    """A change: ``8`` → ``'+8'``, ``-3`` → ``'−3'``, ``0`` (or what rounds to it) → ``'0'``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = fmt_number(value, decimals)
    return ("+" if value > 0 and text.strip("0,") else "") + text


def fmt_percent(value: float, decimals: int = 1) -> str:
    """A share in percent that never reads 0 or 100 when it is not: ``0.004`` →
    ``'moins de 0,1 %'``; 0 and 100 exactly without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value == 0 or value == 100:
        return f"{fmt_number(value)} %"
    step = 10**-decimals
    if value < step / 2:
        return f"moins de {fmt_number(step, decimals)} %"
    if value >= 100 - step / 2:
        return f"plus de {fmt_number(100 - step, decimals)} %"
    return f"{fmt_number(value, decimals)} %"


def fmt_euros(value: float | int) -> str:
    return f"{fmt_number(value)}{THIN_SPACE}€"


def noun(count: float, singular: str, plural_form: str | None = None) -> str:
    """The word alone, agreed with ``count``: 'poste' for 0 and 1, 'postes' from 2 (French:
    0 and 1 are singular)."""
    return singular if abs(count) < 2 else (plural_form or singular + "s")


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """'1 conseiller', '2 conseillers' (French: 0 and 1 are singular)."""
    return f"{fmt_number(count)} {noun(count, singular, plural_form)}"


def read_back_note(editions: list[dict], month: str | None) -> str:
    """Plain French saying that a past month is a later national list read back in time,
    naming the edition (``editions``: ``MatchedSelections.national_editions``).

    Empty without a national list (committee files are of their own time) or without a
    month. Escaped: ready for HTML.
    """
    if not editions or not month:
        return ""
    # The edition by its date: the file it came from is for the analysts.
    named = " et ".join(f"du {fmt_date(e['edition'])}" for e in editions)
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

    A name whose next word needs its legal form stays whole, as the tables write it
    (one name for one intercommunalité in a report): 'Métropole Européenne de Lille',
    'Communauté d'agglomération Intercommunale de la Réunion Est (CIREST)'.
    """
    form, rest = _split_legal_form(name)
    if not form or rest.startswith(_QUALIFIERS):
        return name
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

    A name whose next word needs its legal form is written as the tables write it:
    'la Communauté d'agglomération Intercommunale de la Réunion Est (CIREST)'.
    """
    article = "La " if start else "la "
    form, rest = _split_legal_form(name)
    if form and rest.startswith(_QUALIFIERS):
        return article + name
    if form and rest.startswith(("Communauté ", "Métropole ")):
        return article + rest[0].lower() + rest[1:]
    for kind in ("Communauté", "Métropole"):
        if name.startswith(kind):
            return article + name[0].lower() + name[1:]
    return name


def with_preposition(preposition: str, phrase: str) -> str:
    """'à' + 'le Conseil départemental' → 'au Conseil départemental'; 'de' + 'la X' → 'de la X';
    a commune's own article too: 'à' + 'Le Monêtier-les-Bains' → 'au Monêtier-les-Bains'."""
    contracted = {
        ("à", "le "): "au ",
        ("de", "le "): "du ",
        ("à", "les "): "aux ",
        ("de", "les "): "des ",
    }
    for (prep, article), joined in contracted.items():
        if preposition == prep and phrase[:1].lower() + phrase[1 : len(article)] == article:
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
    situation: dict | None = None,
    funding: dict | None = None,
) -> list[str]:
    """Plain sentences for an elected official, computed from the figures, what changed
    for the territory first: its posts, the intercommunalités without any or the least
    covered, the first to reinforce, then the inhabitants far from a conseiller.

    ``of_departement`` is the name with its charnière ('des Hautes-Alpes'); ``beyond``
    the département's population beyond ``config.DISTANCE_THRESHOLDS_KM``; ``gaps`` the
    priority table;
    ``target_month`` the month (YYYY-MM) the national target describes;
    ``rejected_places`` the places set aside for impossible coordinates (context
    ``lieux_rejetes``): beyond a small share, the distances are said to be incomplete.
    ``collectivity`` who holds the département-level posts ('la Collectivité de Corse').
    ``situation`` (context ``situation``): the date the report describes; with it, the
    sentences are written at that date (« À la fin avril 2021, 18 postes avaient été
    attribués »). ``funding`` (context ``financement``): the State's funding of the posts.
    """
    remoteness = _remoteness_sentence(beyond, rejected_places)
    # Incomplete distances qualify every figure of remoteness: said right after the posts.
    incomplete = bool(rejected_places and rejected_places.get("incomplet"))
    return [
        s
        for s in (
            _posts_sentence(counts, of_departement, collectivity, situation, funding),
            remoteness if incomplete else "",
            _unknown_population_sentence(indicators),
            _coverage_sentence(indicators, situation),
            _lowest_density_sentence(indicators, situation),
            _priority_sentence(gaps, target_month, situation),
            "" if incomplete else remoteness,
        )
        if s
    ]


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


def _posts_sentence(
    counts: dict,
    of_departement: str,
    collectivity: str,
    situation: dict | None = None,
    funding: dict | None = None,
) -> str:
    when = situation_at(situation, start=True)
    if counts["lus"] == 0:
        return (
            (f"{when}, aucun" if when else "Aucun")
            + " poste de conseiller numérique n'apparaît pour le département "
            f"{esc(of_departement)} dans les fichiers de sélection fournis."
        )
    parts = [
        f"{plural(counts['localises_dans_un_epci_du_departement'], 'poste')} dans les "
        "intercommunalités"
    ]
    for key, where in (
        ("departementaux", with_preposition("à", collectivity)),
        ("regionaux", "à la Région"),
        ("localises_hors_departement", "dans des structures hors du département"),
        ("non_localisables", "non localisables"),
        ("en_revue", "encore à vérifier"),
    ):
        if counts.get(key):
            parts.append(f"{plural(counts[key], 'poste')} {where}")
    if when:
        verb = "avait été attribué" if counts["lus"] < 2 else "avaient été attribués"
    else:
        verb = "a été attribué" if counts["lus"] < 2 else "ont été attribués"
    return (
        (f"{when}, " if when else "")
        + f"{plural(counts['lus'], 'poste')} de conseiller numérique {verb} au titre du "
        f"département {esc(of_departement)}, soit {_funding_words(counts, funding)} : "
        f"{', '.join(parts)}."
    )


def _funding_words(counts: dict, funding: dict | None) -> str:
    """The State's funding of the posts whose amount is known, and how many posts have
    none (« montant non connu »: never a flat rate)."""
    unknown = funding.get("postes_montant_inconnu", 0) if funding else counts["lus"]
    if funding and unknown < funding.get("postes", 0):
        text = f"{fmt_euros(funding['total'])} de financement de l'État"
        if unknown:
            text += (
                f" (montants de la liste nationale ; montant non connu pour "
                f"{plural(unknown, 'poste')})"
            )
        return text
    return "un financement de l'État dont le montant n'est pas connu (absent des fichiers)"


def _coverage_sentence(indicators: pd.DataFrame, situation: dict | None = None) -> str:
    uncovered = indicators.loc[indicators["postes"] == 0]
    if not len(indicators):
        return ""
    when = situation_at(situation, start=True)
    past = bool(when)
    if len(indicators) == 1:
        only = esc(epci_subject(indicators["nom_epci"].iloc[0]))
        if past:
            has = "avait au moins un" if not len(uncovered) else "n’avait aucun"
            return (
                f"{when}, la seule intercommunalité du département, {only}, {has} "
                "conseiller numérique."
            )
        has = "a au moins un" if not len(uncovered) else "n’a aucun"
        return f"La seule intercommunalité du département, {only}, {has} conseiller numérique."
    if not len(uncovered):
        if past:
            return (
                f"Les {fmt_number(len(indicators))} intercommunalités du département "
                "avaient toutes au moins un conseiller numérique."
            )
        return (
            f"Les {fmt_number(len(indicators))} intercommunalités du département ont toutes "
            "au moins un conseiller numérique."
        )
    names = ", ".join(esc(short_epci_name(n)) for n in uncovered["nom_epci"])
    if past:
        verb = "n’avait" if len(uncovered) < 2 else "n’avaient"
    else:
        verb = "n’a" if len(uncovered) < 2 else "n’ont"
    known = uncovered.loc[~_unknown(uncovered)]
    if known.empty:
        people = "dont la population est inconnue"
    else:
        people = f"pour {plural(known['population'].sum(), 'habitant')}"
        if len(known) < len(uncovered):
            people += " (sans compter celles dont la population est inconnue)"
    return (
        f"{capitalise(plural(len(uncovered), 'intercommunalité'))} sur "
        f"{fmt_number(len(indicators))} {verb} aucun conseiller numérique ({names}), {people}."
    )


def _lowest_density_sentence(indicators: pd.DataFrame, situation: dict | None = None) -> str:
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
    counts = "comptait" if situation_label(situation) else "compte"
    return (
        f"{esc(epci_subject(lowest['nom_epci'], start=True))} {counts} "
        f"{fmt_number(lowest['postes'])} conseiller{'s' if lowest['postes'] > 1 else ''} "
        f"pour {fmt_number(lowest['population'])} habitants, soit 1 pour {per} : la densité "
        f"la plus faible {where}."
        if lowest["postes"] > 1
        else f"{esc(epci_subject(lowest['nom_epci'], start=True))} {counts} 1 conseiller pour "
        f"{per} habitants, la densité la plus faible {where}."
    )


def _remoteness_sentence(beyond: dict | None, rejected: dict | None = None) -> str:
    if not beyond or not beyond.get("population"):
        return ""
    far = beyond[config.FAR_COLUMN]
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
            f"{fmt_number(among)} du fichier des lieux pour ce département {verb} ; les "
            f"{plural(far, 'habitant')} ({share} %) comptés à plus de {config.FAR_KM} km "
            "d'un lieu sont donc une estimation haute."
        )
    if far == 0:
        return (
            f"Tous les habitants vivent à moins de {config.FAR_KM} km à vol d'oiseau d'un lieu où "
            "travaille un conseiller numérique."
        )
    share = fmt_percent(100 * far / beyond["population"])
    lives = "vit" if far < 2 else "vivent"
    return (
        f"{capitalise(plural(far, 'habitant'))} ({share} de la population) {lives} à plus de "
        f"{config.FAR_KM} km à vol d'oiseau d'un lieu où travaille un conseiller numérique."
    )


def _priority_sentence(
    gaps: pd.DataFrame | None, target_month: str | None = None, situation: dict | None = None
) -> str:
    if gaps is None or not len(gaps) or gaps["rang_priorite"].isna().all():
        return ""
    first = gaps.sort_values("rang_priorite", na_position="last").iloc[0]
    missing = first["postes_manquants_cible_nationale"]
    when = f" ({month_end(target_month, situation)})" if target_month else ""
    past = bool(situation_label(situation))
    if no_epci_lacks_posts(gaps):
        lacks = "ne manquait" if past else "ne manque"
        rests = "ne tenait" if past else "ne tient"
        return (
            f"Aucune intercommunalité {lacks} de postes pour atteindre la densité nationale "
            f"du programme{when} : le classement de priorité {rests} qu'à "
            f"{ranking_basis(gaps)} ; en tête, {esc(epci_subject(first['nom_epci']))}."
        )
    if pd.isna(missing):
        tail = "la densité nationale du programme n'est pas connue."
    elif missing:
        lacks = "il lui manquait" if past else "il lui manque"
        tail = (
            f"{lacks} {plural(int(missing), 'poste')} pour atteindre la densité "
            f"nationale du programme{when}."
        )
    else:
        reaches = "elle atteignait déjà" if past else "elle atteint déjà"
        tail = f"{reaches} la densité nationale du programme{when}."
    return (
        f"Priorité n° 1 : {esc(epci_subject(first['nom_epci']))}, avec un score de priorité "
        f"de {fmt_number(first['score_priorite'], 1)} sur 100 (plus il est élevé, plus le besoin "
        f"de postes est grand) ; {tail}"
    )


def no_epci_lacks_posts(gaps: pd.DataFrame | None) -> bool:
    """Every ranked intercommunalité already reaches the national target: the deficit
    term of the priority score is 0 everywhere, and the ranking rests on the rest."""
    if gaps is None or not len(gaps) or "postes_manquants_cible_nationale" not in gaps:
        return False
    ranked = gaps.loc[gaps["rang_priorite"].notna(), "postes_manquants_cible_nationale"]
    return bool(len(ranked)) and ranked.notna().all() and bool((ranked == 0).all())


def ranking_basis(gaps: pd.DataFrame) -> str:
    """What the priority ranking rests on when no intercommunalité lacks posts: the
    other terms of the score that have data, in words."""
    terms = []
    if "ifn" in gaps and gaps["ifn"].notna().any():
        terms.append("la fragilité numérique")
    if config.FAR_COLUMN in gaps:
        terms.append("l'éloignement des habitants")
    return " et à ".join(terms) or "rien"


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
