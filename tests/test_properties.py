"""Invariants, checked on generated inputs (hypothesis) and on every département."""

from __future__ import annotations

import functools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyse.analysis.indicators import ACCOUNTED, reconciliation
from analyse.read.names import normalise_name
from analyse.territory.matching import STATUSES

NAMES = st.text(alphabet=st.sampled_from(list("abcdeéèêëçàôûABCDÉ -’'’.()0123456789")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(NAMES)
def test_normalisation_is_idempotent(name):
    key = normalise_name(name)
    assert normalise_name(key) == key


def test_official_epci_names_keep_distinct_keys_in_every_departement(reference):
    communes = reference.communes.loc[reference.communes["type"] == "COM"]
    names = reference.epci.set_index("siren")["nom"]
    for dep, sirens in communes.dropna(subset=["siren_epci"]).groupby("departement")["siren_epci"]:
        official = names.reindex(sorted(set(sirens))).dropna()
        keys = official.map(normalise_name)
        assert keys.is_unique, (dep, official[keys.duplicated(keep=False)].tolist())


ROWS = st.lists(
    st.tuples(
        st.sampled_from(["05", "04", "38"]),
        st.sampled_from(STATUSES),
        st.sampled_from(["200067825", "200068765", "240500439", None]),
        st.integers(min_value=1, max_value=12),
    ),
    max_size=30,
)


@pytest.mark.lent
@settings(max_examples=100, deadline=None)
@given(ROWS)
def test_every_post_read_is_accounted_for(rows):
    matched = pd.DataFrame(rows, columns=["departement", "statut", "siren_epci", "postes"])
    if matched.empty:
        matched = matched.astype({"postes": "int64"})
    for dep in ("05", "04", "38"):
        counts = reconciliation(matched, dep, ["200067825", "200068765"])
        assert counts["lus"] == sum(counts[k] for k in ACCOUNTED)
        assert all(v >= 0 for v in counts.values())
        assert counts["lus"] == matched.loc[matched["departement"] == dep, "postes"].sum()


@functools.cache
def _tiny():
    """The tiny reference and its matcher, built once for every generated example."""
    from conftest import make_tiny_reference

    from analyse.territory.matching import Matcher

    reference = make_tiny_reference()
    return reference, Matcher(reference, pd.DataFrame(columns=["departement", "cle", "code"]))


TINY_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["05", "04"]),
        st.sampled_from(["Aval", "Amont", "Milieu", "Voisine", "Inconnue", "Alpha Bravo"]),
        st.sampled_from(["commune", "epci", "departement", "association"]),
        st.integers(min_value=1, max_value=9),
    ),
    max_size=15,
)


@settings(max_examples=30, deadline=None)
@given(TINY_ROWS)
def test_densities_and_totals_on_generated_selections(rows):

    from analyse.analysis.indicators import epci_indicators
    from analyse.read.selections import COLUMNS

    reference, matcher = _tiny()
    frame = pd.DataFrame(
        [
            {
                "fichier": "f.csv",
                "ligne": i + 2,
                "date_comite": pd.Timestamp("2021-04-01"),
                "mois_comite": "2021-04",
                "departement": d,
                "structure": s,
                "type_structure": k,
                "postes": p,
                "commune": "",
                "code": "",
                "source": "",
            }
            for i, (d, s, k, p) in enumerate(rows)
        ],
        columns=COLUMNS,
    )
    matched = matcher.match(frame)
    for dep in ("05", "04"):
        table = epci_indicators(reference.epci, reference.communes, matched, dep)
        assert (table["conseillers_pour_10000_hab"] >= 0).all()
        assert (table["postes"] >= 0).all()
        counts = reconciliation(matched, dep, list(table["siren_epci"]))
        assert counts["lus"] == sum(counts[k] for k in ACCOUNTED)
        # EPCI posts plus the other categories make the département total.
        own = matched.loc[
            (matched["departement"] == dep) & matched["siren_epci"].isin(table["siren_epci"])
        ]
        assert own["postes"].sum() == counts["localises_dans_un_epci_du_departement"]
