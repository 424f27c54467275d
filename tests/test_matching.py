"""Matching seed rows to official codes, review of unknown names, aliases, codes."""

from __future__ import annotations

import pandas as pd
from conftest import EPCI_05
from conftest import selection_row as _row

from analyse.territory.matching import DEPARTEMENT_LEVEL, LOCATED, REVIEW, Matcher, read_aliases


def test_every_seed_row_is_resolved_with_its_spelling(matcher, seed):
    matched = matcher.match(seed).set_index("structure")
    expected_epci = {
        "Briançonnais": EPCI_05["briancon"],
        "Buëch-Dévoluy": EPCI_05["buech_devoluy"],
        "Champsaur-Vaulgaudemar": EPCI_05["champsaur"],
        "Guillestrois-Queyras": EPCI_05["guillestrois"],
        "Pays des Écrins": EPCI_05["ecrins"],
        "Serre-Ponçon": EPCI_05["serre_poncon"],
        "Serre-Ponçon Val d’Avance": EPCI_05["spva"],
        "Sisteronais-Buëch": EPCI_05["sisteronais"],
        # A commune's posts go to its EPCI.
        "Gap": EPCI_05["gap"],
        "Espinasses": EPCI_05["spva"],
        "Orpierre": EPCI_05["sisteronais"],
    }
    for structure, siren in expected_epci.items():
        assert matched.loc[structure, "statut"] == LOCATED, structure
        assert matched.loc[structure, "siren_epci"] == siren, structure
    assert matched.loc["Gap", "insee_commune"] == "05061"
    assert matched.loc["Espinasses", "insee_commune"] == "05050"
    assert matched.loc["Orpierre", "insee_commune"] == "05097"
    # The typo is caught by fuzzy matching, and said so.
    assert matched.loc["Champsaur-Vaulgaudemar", "methode"].startswith("nom approché")
    assert matched.loc["Serre-Ponçon Val d’Avance", "methode"] == "nom exact"
    # The Conseil départemental stays in its own category, attached to no EPCI.
    assert matched.loc["Conseil départemental", "statut"] == DEPARTEMENT_LEVEL
    assert pd.isna(matched.loc["Conseil départemental", "siren_epci"])


def test_unknown_name_goes_to_review_with_candidates(matcher):
    rows = pd.DataFrame([_row("Communauté de communes du Haut Nulle-Part", posts=3)])
    result = matcher.match(rows).iloc[0]
    assert result["statut"] == REVIEW
    assert result["motif"] == "nom introuvable dans le référentiel"
    assert result["candidats"].count("score") == 3
    assert pd.isna(result["siren_epci"])


def test_close_but_ambiguous_name_is_not_guessed(matcher):
    # "Serre-Ponçon Val" sits between two EPCI names: neither is clearly ahead.
    rows = pd.DataFrame([_row("Serre-Ponçon Val")])
    result = matcher.match(rows).iloc[0]
    assert result["statut"] == REVIEW


def test_alias_pins_a_name_to_a_code(reference, tmp_path):
    aliases_file = tmp_path / "aliases.csv"
    aliases_file.write_text(
        "departement,nom,code,commentaire\n05,Haut Nulle-Part,200067825,test\n", "utf-8"
    )
    matcher = Matcher(reference, read_aliases(aliases_file))
    result = matcher.match(pd.DataFrame([_row("CC du Haut Nulle-Part")])).iloc[0]
    assert (result["statut"], result["siren_epci"], result["methode"]) == (
        LOCATED,
        EPCI_05["gap"],
        "alias",
    )


def test_codes_win_over_names(matcher):
    rows = pd.DataFrame(
        [
            # SIRET of an EPCI: its first nine digits are the SIREN.
            _row("Nom sans rapport", code="20006876500011"),
            # INSEE code of the commune, leading zero already restored by the reader.
            _row("Mairie", kind="commune", commune="05097"),
            # An association located by its commune goes to that commune's EPCI.
            _row("Association X", kind="association", commune="05061"),
            # Without a commune, an association cannot be located: review.
            _row("Association Y", kind="association"),
        ]
    )
    result = matcher.match(rows)
    assert list(result["siren_epci"].iloc[:3]) == [
        EPCI_05["sisteronais"],
        EPCI_05["sisteronais"],
        EPCI_05["gap"],
    ]
    assert result["statut"].iloc[3] == REVIEW


def test_commune_deleguee_resolves_to_its_commune(matcher, reference):
    communes = reference.communes
    delegated = communes.loc[
        (communes["type"] == "COMD") & (communes["insee"] != communes["insee_parent"])
    ].iloc[0]
    rows = pd.DataFrame(
        [_row("X", kind="commune", dep=delegated["departement"], commune=delegated["insee"])]
    )
    result = matcher.match(rows).iloc[0]
    assert result["insee_commune"] == delegated["insee_parent"]
