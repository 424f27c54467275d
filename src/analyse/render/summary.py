"""« En bref »: the plain sentences at the top of the report.

Above ``tables`` and ``territories_report``, whose sentences it gathers.
"""

from __future__ import annotations

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


def summary_html(prepared) -> str:
    """The plain sentences at the top of the report, in a highlighted box."""
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
    # Priority territories and comparable EPCI, when they say something.
    sentences += territory_sentences(prepared)
    first = situation_sentence(prepared.context)
    items = "".join(f"<li>{s}</li>" for s in [first, *sentences] if s)  # already escaped
    return f'<div class="resume"><p><strong>En bref</strong></p><ul>{items}</ul></div>'
