"""Digital fragility index (IFN, La Mednum, fragilite-numerique.fr) per commune and EPCI.

The IFN scores each territory from 1 (low risk) to 10 (high risk) on five sub-scores
(no very-high-speed broadband, no 4G, poverty, people over 65, people without a diploma)
and their mean, ``total``. The files follow an older commune geography than the
reference: some codes are former communes (now communes déléguées), Paris and Lyon are
given by arrondissement only, Marseille's own row is empty. ``join_ifn`` resolves those
codes to current communes and lists every row it could not use, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analyse.errors import UserError
from analyse.read.codes import codes
from analyse.read.files import file_lines, read_csv_strings
from analyse.territory.reference import isin_codes

# Source column → our column. ``total`` is the index itself (mean of the sub-scores).
SCORE_COLUMNS = {
    "total": "ifn",
    "no_thd_coverage_rate": "ifn_couverture_thd",
    "no_4g_coverage_rate": "ifn_couverture_4g",
    "poverty_rate": "ifn_pauvrete",
    "older_65_rate": "ifn_plus_65_ans",
    "nscol15p_rate": "ifn_sans_diplome",
}
IFN_COLUMNS = list(SCORE_COLUMNS.values())
# The scale of the index and of each sub-score.
IFN_MIN, IFN_MAX = 1, 10
REQUIRED_COLUMNS = ["name", "code", *SCORE_COLUMNS]

# How a current commune got its score (column ``ifn_origine``).
ORIGIN_OWN = "code de la commune"
ORIGIN_ARRONDISSEMENTS = "moyenne de ses arrondissements"
ORIGIN_ATTACHED = "moyenne de ses communes déléguées ou associées"

# Entities attached to a current commune whose IFN rows may stand for it. Marseille's
# secteurs (SRM) group arrondissements and would count them twice.
_ATTACHED_TYPES = {
    "ARM": "arrondissement",
    "COMD": "commune déléguée",
    "COMA": "commune associée",
}

UNMATCHED_COLUMNS = ["niveau", "code", "nom", "motif"]
MOTIF_DUPLICATE = "code en double dans le fichier IFN : seule la première ligne est retenue"


class IFNFileError(UserError):
    """An IFN file is missing or malformed (message in French)."""


@dataclass
class IFN:
    """IFN scores: ``communes`` keyed by ``insee``, ``epci`` keyed by ``siren_epci``.

    Both also keep ``nom`` (the name in the IFN file). Codes are strings with their
    leading zeros; rows are kept even when their scores are empty.
    """

    communes: pd.DataFrame
    epci: pd.DataFrame


def _read_one(path: Path, key: str, width: int) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise IFNFileError(f"{path} : fichier de l'indice de fragilité numérique introuvable.")
    if path.stat().st_size == 0:
        raise IFNFileError(f"{path} : le fichier de l'indice de fragilité numérique est vide.")
    raw = read_csv_strings(path, IFNFileError)
    raw.columns = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise IFNFileError(
            f"{path} : colonne(s) manquante(s) : {', '.join(missing)} "
            f"(attendu : {', '.join(REQUIRED_COLUMNS)}). "
            "Téléchargez le fichier depuis fragilite-numerique.fr sans le modifier."
        )
    table = pd.DataFrame({key: codes(raw["code"], width), "nom": raw["name"].str.strip()})
    lines = file_lines(raw)
    texts = {s: raw[s].str.strip().str.replace(",", ".", regex=False) for s in SCORE_COLUMNS}
    # The file writes 0 everywhere for the communes without inhabitants (the villages
    # destroyed at Verdun): no score, kept as written. Any other value is on the scale.
    no_inhabitant = pd.concat([t.isin(["0", "0.0"]) for t in texts.values()], axis=1).all(axis=1)
    for source, ours in SCORE_COLUMNS.items():
        text = texts[source]
        # ASCII digits only: float() also reads « ５ », « ٣ » or « 1_0 ».
        written = text.str.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
        values = pd.to_numeric(text.where(written.fillna(False), "").replace("", np.nan))
        bad = text.ne("") & ~written.fillna(False).astype(bool)
        off_scale = values.notna() & ~values.between(IFN_MIN, IFN_MAX) & ~no_inhabitant
        for mask, why in (
            (bad, "valeur non numérique"),
            (off_scale, f"valeur hors de l'échelle de l'indice ({IFN_MIN} à {IFN_MAX})"),
        ):
            if mask.any():
                at = int(mask.to_numpy().argmax())
                raise IFNFileError(
                    f"{path}, ligne {lines[at]}, colonne « {source} » : {why} "
                    f"« {raw[source].iloc[at]} »."
                )
        table[ours] = values
    return table


def read_ifn(communes_csv: Path, epci_csv: Path) -> IFN:
    """Read the commune and EPCI files of the IFN (columns of ``IFN_COLUMNS``)."""
    return IFN(
        communes=_read_one(communes_csv, "insee", 5),
        epci=_read_one(epci_csv, "siren_epci", 9),
    )


def _departement_of(insee: pd.Series) -> pd.Series:
    """Département prefix of INSEE codes ('05061' → '05', '2A004' → '2A', '97411' → '974')."""
    overseas = insee.str.startswith("97")
    return insee.str[:3].where(overseas, insee.str[:2])


def _report(frame: pd.DataFrame, niveau: str, code: str, motif: str | pd.Series) -> pd.DataFrame:
    """Rows of the unmatched table for every row of ``frame``."""
    return pd.DataFrame(
        {"niveau": niveau, "code": frame[code], "nom": frame["nom"], "motif": motif},
        columns=UNMATCHED_COLUMNS,
    )


def _current_types(communes: pd.DataFrame) -> pd.Series:
    if "type" in communes:
        return communes["type"]
    return pd.Series("COM", index=communes.index)


def _commune_scores(
    communes: pd.DataFrame, ifn: pd.DataFrame
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Scores of the current communes, indexed by INSEE, and the report of the IFN rows
    that were not used as such."""
    # A table of current communes alone has no attached entities to resolve.
    types = _current_types(communes)
    communes = communes.assign(
        type=types, **{c: None for c in ("insee_parent", "population") if c not in communes}
    )
    current = communes.loc[types == "COM"]
    names = current.drop_duplicates("insee").set_index("insee")["nom"]
    # A commune déléguée may share its code with its current commune: the latter wins.
    attached = communes.loc[
        isin_codes(types, _ATTACHED_TYPES) & ~isin_codes(communes["insee"], names.index)
    ].drop_duplicates("insee")
    attached = attached.set_index("insee")

    # Only the IFN rows of the départements at hand are checked, so that a join on one
    # département does not report the rest of France as unknown.
    if "departement" in current:
        ifn = ifn.loc[isin_codes(_departement_of(ifn["insee"]), current["departement"].unique())]
    report = []
    duplicated = ifn["insee"].duplicated()
    report.append(_report(ifn.loc[duplicated], "commune", "insee", MOTIF_DUPLICATE))
    ifn = ifn.loc[~duplicated]
    empty = ifn[IFN_COLUMNS].isna().all(axis=1)
    report.append(_report(ifn.loc[empty], "commune", "insee", "ligne sans valeur dans le fichier"))
    ifn = ifn.loc[~empty]

    is_own = isin_codes(ifn["insee"], names.index)
    own = ifn.loc[is_own].set_index("insee")[IFN_COLUMNS].assign(ifn_origine=ORIGIN_OWN)

    others = ifn.loc[~is_own].assign(parent=lambda f: f["insee"].map(attached["insee_parent"]))
    unknown = others["parent"].isna()
    report.append(
        _report(
            others.loc[unknown],
            "commune",
            "insee",
            "code absent du référentiel (commune fusionnée ou code erroné)",
        )
    )
    others = others.loc[~unknown]
    superseded = isin_codes(others["parent"], own.index)
    kept = others.loc[superseded]
    motifs = [
        f"{_ATTACHED_TYPES.get(kind, 'ancien code')} de {names.get(parent, '')} ({parent}) : "
        "la valeur propre de la commune actuelle est retenue"
        for kind, parent in zip(kept["insee"].map(attached["type"]), kept["parent"], strict=True)
    ]
    report.append(
        _report(kept, "commune", "insee", pd.Series(motifs, index=kept.index, dtype=object))
    )
    # A current commune without a row of its own takes the population-weighted mean of
    # its attached entities: Paris, Lyon and Marseille by arrondissement, communes
    # nouvelles still listed under their former communes' codes.
    derived = {}
    for insee, group in others.loc[~superseded].groupby("parent", sort=True):
        weights = group["insee"].map(attached["population"]).fillna(0).to_numpy(dtype=float)
        if weights.sum() <= 0:
            weights = np.ones(len(group))
        values = {}
        for column in IFN_COLUMNS:
            known = group[column].notna().to_numpy()
            values[column] = (
                float(np.average(group[column][known], weights=weights[known]))
                if known.any() and weights[known].sum() > 0
                else np.nan
            )
        kinds = set(group["insee"].map(attached["type"]))
        values["ifn_origine"] = ORIGIN_ARRONDISSEMENTS if kinds == {"ARM"} else ORIGIN_ATTACHED
        derived[insee] = values
    scores = pd.concat([own, pd.DataFrame.from_dict(derived, orient="index")])
    return scores, report


def join_ifn(
    communes: pd.DataFrame, epci: pd.DataFrame, ifn: IFN
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Join IFN scores to the current communes and to the EPCI of the reference.

    ``communes`` is the reference commune table (``ref.communes``, whole or restricted
    to some départements): its current communes (type COM) are returned, in their
    order, with the columns of ``IFN_COLUMNS`` and ``ifn_origine``; its communes
    déléguées and arrondissements only serve to resolve old codes. ``epci``
    (``ref.epci``) is returned with the same score columns, joined on ``siren``.

    No row is dropped: a territory without score keeps empty columns and is listed in
    the third table (``UNMATCHED_COLUMNS``: niveau, code, nom, motif), together with
    every IFN row that could not be used as such (unknown, empty, duplicated, or
    superseded by the current commune's own row).

    IFN commune codes are checked within the départements of ``communes`` only. IFN
    EPCI codes absent from ``epci`` are listed only when ``communes`` covers every
    département of the IFN commune file: with a subset of EPCI, a code unknown to the
    reference cannot be told from one merely outside the subset.
    """
    current = communes.loc[_current_types(communes) == "COM"]
    scores, report = _commune_scores(communes, ifn.communes)
    joined = current.drop(columns=[*IFN_COLUMNS, "ifn_origine"], errors="ignore").join(
        scores, on="insee"
    )
    report.append(
        _report(
            joined.loc[joined["ifn"].isna()],
            "commune",
            "insee",
            "commune du référentiel sans indice dans le fichier IFN",
        )
    )

    # Which IFN EPCI rows concern us: those of the given EPCI, or all of them when the
    # join is national (see the docstring).
    covered = set(current["departement"]) if "departement" in current else set()
    national = set(_departement_of(ifn.communes["insee"])) <= covered
    scores_epci = ifn.epci
    concerned = isin_codes(scores_epci["siren_epci"], epci["siren"]) | national
    duplicated = scores_epci["siren_epci"].duplicated().to_numpy()
    report.append(
        _report(scores_epci.loc[duplicated & concerned], "epci", "siren_epci", MOTIF_DUPLICATE)
    )
    scores_epci = scores_epci.loc[~duplicated]
    concerned = concerned[~duplicated]
    empty = scores_epci[IFN_COLUMNS].isna().all(axis=1).to_numpy()
    report.append(
        _report(
            scores_epci.loc[empty & concerned],
            "epci",
            "siren_epci",
            "ligne sans valeur dans le fichier",
        )
    )
    epci_out = epci.drop(columns=IFN_COLUMNS, errors="ignore").join(
        scores_epci.loc[~empty].set_index("siren_epci")[IFN_COLUMNS], on="siren"
    )
    report.append(
        _report(
            epci_out.loc[epci_out["ifn"].isna()],
            "epci",
            "siren",
            "EPCI du référentiel sans indice dans le fichier IFN",
        )
    )
    if national:
        unknown = scores_epci.loc[~isin_codes(scores_epci["siren_epci"], epci["siren"]) & ~empty]
        valid = unknown["siren_epci"].str.fullmatch(r"\d{9}").fillna(False).astype(bool)
        motif = pd.Series(
            np.where(
                valid,
                "SIREN absent du référentiel (EPCI fusionné, scindé ou renommé depuis)",
                "code qui n'est pas un SIREN",
            ),
            index=unknown.index,
        )
        report.append(_report(unknown, "epci", "siren_epci", motif))

    parts = [part for part in report if len(part)]
    unmatched = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=UNMATCHED_COLUMNS)
    )
    return joined, epci_out, unmatched
