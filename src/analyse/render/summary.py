"""« En bref »: the plain sentences at the top of the report.

Above ``tables`` and ``territories_report``, whose sentences it gathers.
"""

from __future__ import annotations

from analyse.render.territories_report import summary_sentences as territory_sentences
from analyse.wording import summary_sentences


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
    )
    # Priority territories and comparable EPCI, when they say something.
    sentences += territory_sentences(prepared)
    items = "".join(f"<li>{s}</li>" for s in sentences)  # already escaped
    return f'<div class="resume"><p><strong>En bref</strong></p><ul>{items}</ul></div>'
