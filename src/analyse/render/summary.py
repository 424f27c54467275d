"""« En bref »: the plain sentences at the top of the report.

Above ``tables`` and ``territories_report``, whose sentences it gathers.
"""

from __future__ import annotations

import html
import re

from analyse.render.territories_report import summary_sentences as territory_sentences
from analyse.wording import esc, fmt_date, situation_at, summary_sentences


def situation_sentence(context: dict) -> str:
    """The first line of « En bref »: the one date the report describes, and where its
    figures come from at that date. Escaped."""
    situation = context.get("situation")
    when = situation_at(situation, start=True)
    if not when:
        return ""
    national = context.get("editions_liste_nationale") or []
    typed = len(context.get("fichiers_selection") or []) > len(national)
    if situation.get("date"):
        source = "liste nationale des structures retenues, à sa date"
    elif context.get("mois"):
        source = "comités de sélection jusqu'à la fin de ce mois"
    else:
        source = "dernier comité de sélection lu"
    text = f"<strong>Situation {esc(when[0].lower() + when[1:])}</strong> ({source})"
    if typed and national:
        edition = fmt_date(max(e["edition"] for e in national))
        text += (
            f" : décisions saisies pour le département ; chiffres nationaux et postes "
            f"comptés pour d'autres départements tirés de la liste nationale du {edition}, "
            "relue à la même date"
        )
    return text + "."


# « En bref » is read on a phone's first screens: at most this many words.
SUMMARY_WORDS = 150


def _words(sentence: str) -> int:
    """Words of an escaped sentence as a reader counts them (« 2 038 586 » is one)."""
    text = re.sub(r"<[^>]+>", " ", html.unescape(sentence))
    return len(re.sub(r"(\d)[\u202f\u00a0 ](?=\d{3}\b)", r"\1", text).split())


def summary_html(prepared) -> str:
    """The plain sentences at the top of the report, in a highlighted box: what changed
    for the territory first, within ``SUMMARY_WORDS``; then, below the box, the date
    described and where its figures come from."""
    of_name = prepared.context.get("nom_avec_charniere", prepared.nom)
    sentences = summary_sentences(
        prepared.indicators,
        prepared.counts,
        of_name,
        prepared.context.get("population_au_dela"),
        prepared.gaps,
        prepared.context.get("cible_nationale_mois"),
        prepared.context.get("lieux_rejetes"),
        prepared.context.get("collectivite_departementale", "le Conseil départemental"),
        prepared.context.get("situation"),
        prepared.context.get("financement"),
    )
    # Comparable EPCI and priority territories, when they say something.
    sentences += territory_sentences(prepared)
    kept, count = [], _words("En bref")
    for sentence in sentences:  # in order of importance: the rest is in its section
        if count + _words(sentence) <= SUMMARY_WORDS:
            kept.append(sentence)
            count += _words(sentence)
    items = "".join(f"<li>{s}</li>" for s in kept)  # already escaped
    first = situation_sentence(prepared.context)
    source = f'<p class="note situation">{first}</p>' if first else ""
    return f'<div class="resume"><p><strong>En bref</strong></p><ul>{items}</ul></div>{source}'
