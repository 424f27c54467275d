"""Priority territories: posts and structures in QPV, in ZRR, labelled France Services.

The national COSELEC list flags each structure ``ZRR``, ``QPV`` and ``France services``
(``oui``, ``non``, or ``Non défini`` / ``non renseigné`` / ``sans objet``, which
``selections.clean_flag`` turns into ''). A structure is « non documentée » for a flag
when the list does not say ``oui`` or ``non``: that share is always counted apart,
never folded into « non ». Selection files other than the national list carry no flag,
so all their posts are « non documentés ».

A structure is its SIRET when the row has one (or, typed by hand, when the national list
gives it: ``structure_key``), otherwise its name and commune.
"""

from __future__ import annotations

import pandas as pd

from analyse.read.names import normalise_name
from analyse.schema import FLAGS
from analyse.territory.matching import LOCATED

YES, UNDOCUMENTED = "oui", ""


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    """A text column, '' where missing or absent."""
    if name not in rows:
        return pd.Series("", index=rows.index, dtype=object)
    return rows[name].fillna("").astype(str)


def structure_key(rows: pd.DataFrame) -> pd.Series:
    """Identity of the structure of each row: its SIRET; for a hand-typed row without
    one, the SIRET the national list gives its structure (``siret_liste``,
    ``pipeline.from_national``: the CC typed « Sisteronais-Buëch » is the list's « CC DU
    SISTERONAIS-BUECH », one structure); else its name and commune."""
    is_siret = r"\d{14}"
    siret = _column(rows, "code")
    listed = _column(rows, "siret_liste")
    fallback = _column(rows, "structure").map(normalise_name) + "|" + _column(rows, "commune")
    fallback = listed.where(listed.str.fullmatch(is_siret), fallback)
    return siret.where(siret.str.fullmatch(is_siret), fallback)


def flag_counts(
    rows: pd.DataFrame, by: str | None = None, keys: pd.Series | None = None
) -> pd.DataFrame:
    """Posts and structures per flag (``oui`` and not documented), with the totals.

    Columns ``postes``, ``structures``, and for each flag of ``schema.FLAGS``:
    ``postes_<flag>``, ``postes_<flag>_non_documente``, ``structures_<flag>``,
    ``structures_<flag>_non_documente``. Grouped by ``by`` (one row per value), or a
    single row for all of ``rows``. ``keys``: ``structure_key`` of a table that holds
    ``rows`` (by index), when the caller counts many subsets of it.
    """
    structures = structure_key(rows) if keys is None else keys.reindex(rows.index)
    rows = rows.assign(_structure=structures, _all="ensemble")
    key = by or "_all"
    grouped = rows.groupby(key)
    out = pd.DataFrame(
        {"postes": grouped["postes"].sum(), "structures": grouped["_structure"].nunique()}
    )
    for flag in FLAGS:
        values = _column(rows, flag)  # a file without flags documents none
        for suffix, wanted in (("", YES), ("_non_documente", UNDOCUMENTED)):
            part = rows.loc[values == wanted].groupby(key)
            out[f"postes_{flag}{suffix}"] = part["postes"].sum()
            out[f"structures_{flag}{suffix}"] = part["_structure"].nunique()
    out = out.fillna(0).astype("int64")
    return out.rename_axis(by) if by else out


def epci_flag_counts(matched: pd.DataFrame, keys: pd.Series | None = None) -> pd.DataFrame:
    """``flag_counts`` of the posts located in each EPCI, indexed by SIREN."""
    located = matched.loc[matched["statut"] == LOCATED]
    return flag_counts(located, "siren_epci", keys)


def summary(rows: pd.DataFrame) -> dict:
    """One territory's counts as a plain dict (for the prepared context)."""
    return {k: int(v) for k, v in flag_counts(rows).iloc[0].items()} if len(rows) else {}


def share(counts: dict, column: str, of: str = "postes") -> float | None:
    """``counts[column] / counts[of]`` (None when there is nothing to divide)."""
    total = counts.get(of, 0)
    return counts.get(column, 0) / total if total else None
