"""French wording: numbers written the French way and the report's plain sentences."""

from __future__ import annotations

import html
import math

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


def short_epci_name(name: str) -> str:
    """EPCI name without its legal form, for map labels ('CC du Briançonnais' → 'Briançonnais')."""
    for prefix in (
        "Communauté de communes ",
        "Communauté d'agglomération ",
        "Communauté urbaine ",
        "Métropole ",
    ):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            for article in ("du ", "de la ", "de l'", "des ", "de ", "d'"):
                if rest.startswith(article):
                    return rest[len(article) :]
            return rest
    return name


def esc(value: object) -> str:
    """Escape a value coming from input data before it goes into HTML or Markdown."""
    return html.escape(str(value), quote=True)


def epci_subject(name: str, start: bool = False) -> str:
    """An EPCI name as the subject of a sentence: 'la communauté d'agglomération X'."""
    for form in ("Communauté", "Métropole"):
        if name.startswith(form):
            article = "La " if start else "la "
            return article + name[0].lower() + name[1:]
    return name


def summary_sentences(indicators: pd.DataFrame, counts: dict, of_departement: str) -> list[str]:
    """Three to five plain sentences for an elected official, computed from the figures.

    ``of_departement`` is the name with its charnière ('des Hautes-Alpes').
    """
    total_epci = counts["localises_dans_un_epci_du_departement"]
    dep_level = counts["departementaux"]
    sentences = []
    if counts["lus"] == 0:
        sentences.append(
            f"Aucun poste de conseiller numérique n'apparaît pour le département "
            f"{esc(of_departement)} dans les fichiers de sélection fournis."
        )
    else:
        sentences.append(
            f"{plural(counts['lus'], 'poste')} de conseiller numérique "
            f"{'a été attribué' if counts['lus'] < 2 else 'ont été attribués'} au titre du "
            f"département {esc(of_departement)}, soit "
            f"{fmt_euros(counts['lus'] * config.STATE_FUNDING_PER_POST_EUR)} "
            "de financement de l'État."
        )
        parts = [f"{plural(total_epci, 'poste')} dans les intercommunalités"]
        if dep_level:
            parts.append(f"{plural(dep_level, 'poste')} au Conseil départemental")
        if counts.get("regionaux"):
            parts.append(f"{plural(counts['regionaux'], 'poste')} à la Région")
        if counts.get("non_localisables"):
            parts.append(f"{plural(counts['non_localisables'], 'poste')} non localisables")
        if counts["localises_hors_departement"]:
            parts.append(
                f"{plural(counts['localises_hors_departement'], 'poste')} "
                "dans des structures situées hors du département"
            )
        if counts["en_revue"]:
            parts.append(f"{plural(counts['en_revue'], 'poste')} encore à vérifier")
        sentences.append("Ils se répartissent ainsi : " + ", ".join(parts) + ".")

    covered = indicators.loc[indicators["postes"] > 0]
    uncovered = indicators.loc[indicators["postes"] == 0]
    if len(covered):
        ranked = covered.sort_values("conseillers_pour_10000_hab")
        lowest, highest = ranked.iloc[0], ranked.iloc[-1]
        sentences.append(
            f"{esc(epci_subject(lowest['nom_epci'], start=True))} compte 1 conseiller pour "
            f"{fmt_number(lowest['habitants_par_conseiller'])} habitants, la densité la plus "
            + (
                "faible parmi les intercommunalités qui en ont au moins un."
                if len(uncovered)
                else "faible du département."
            )
        )
        if highest["siren_epci"] != lowest["siren_epci"]:
            sentences.append(
                f"La densité la plus forte est celle de {esc(epci_subject(highest['nom_epci']))}, "
                "avec "
                f"{fmt_number(highest['conseillers_pour_10000_hab'], 1)} conseiller(s) pour "
                f"{fmt_number(10_000)} habitants."
            )
    if len(uncovered):
        names = ", ".join(esc(short_epci_name(n)) for n in uncovered["nom_epci"])
        population = uncovered["population"].sum()
        sentences.append(
            f"{plural(len(uncovered), 'intercommunalité')} sur {fmt_number(len(indicators))} "
            f"{'n’a' if len(uncovered) < 2 else 'n’ont'} aucun conseiller numérique "
            f"({names}), pour {fmt_number(population)} habitants."
        )
    elif len(indicators):
        sentences.append(
            f"Les {fmt_number(len(indicators))} intercommunalités du département ont toutes au "
            "moins un conseiller numérique."
        )
    return sentences[:5]
