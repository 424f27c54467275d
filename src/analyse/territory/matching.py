"""Matching: resolve each selection row to an official code, then to an EPCI.

Order of evidence, strongest first: a code in the row (SIREN, SIRET, INSEE), an alias
pinned by the analyst in ``data/raw/aliases.csv``, an exact match of normalised names
within the row's département, then a fuzzy match (rapidfuzz) that must be both above
a score and clearly ahead of the runner-up. Anything else goes to review with its
reason and best candidates: a name is never guessed, and a post in review is not
counted anywhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

from analyse import config
from analyse.read.codes import DEPARTEMENT_WIDTH, codes
from analyse.read.files import file_lines
from analyse.read.names import normalise_name
from analyse.territory.reference import Reference, current_commune_codes

# Status of a matched row.
LOCATED = "epci"  # attached to an EPCI à fiscalité propre
DEPARTEMENT_LEVEL = "departemental"  # a Conseil départemental: own category
REGION_LEVEL = "regional"  # a Conseil régional: own category
UNLOCATABLE = "non_localisable"  # known place, but outside every EPCI of the reference
REVIEW = "revue"  # not resolved: listed for a person to decide
STATUSES = [LOCATED, DEPARTEMENT_LEVEL, REGION_LEVEL, UNLOCATABLE, REVIEW]

MATCH_COLUMNS = [
    "statut",
    "insee_commune",
    "siren_epci",
    "nom_officiel",
    "methode",
    "motif",
    "candidats",
    "alerte",
]


@dataclass
class _Candidates:
    """Names of one kind (EPCI or commune) within one département, by normalised key."""

    keys: list[str]
    codes: list[str]
    names: list[str]

    def exact(self, key: str) -> list[int]:
        return [i for i, k in enumerate(self.keys) if k == key]

    def best(self, key: str, limit: int = 3) -> list[tuple[int, float]]:
        found = process.extract(key, self.keys, scorer=fuzz.token_sort_ratio, limit=limit)
        return [(index, score) for _, score, index in found]


def read_aliases(path: Path | None = None) -> pd.DataFrame:
    """Analyst-pinned names: ``departement,nom,code[,commentaire]`` (empty file allowed)."""
    from analyse.read.selections import SelectionError, read_project_csv

    path = Path(path or config.ALIASES_FILE)
    columns = ["departement", "cle", "code"]
    if not path.exists():
        return pd.DataFrame(columns=columns)
    name = _relative(path)
    table = read_project_csv(path, name, ["departement", "nom", "code"])
    if table.empty:
        return pd.DataFrame(columns=columns)
    lines = file_lines(table)
    table["departement"] = codes(table["departement"], DEPARTEMENT_WIDTH)
    table["cle"] = table["nom"].map(normalise_name)
    table["code"] = table["code"].str.strip()
    # A commune's INSEE code (05061, 2A004) or an EPCI's SIREN (9 digits).
    bad = ~table["code"].str.fullmatch(r"\d{9}|\d[\dAB]\d{3}")
    if bad.any():
        position = int(bad.to_numpy().argmax())
        raise SelectionError(
            name,
            f"code « {table['code'].iloc[position]} » ni SIREN d'EPCI (9 chiffres) ni code "
            "INSEE de commune (5 caractères).",
            lines[position],
            "code",
        )
    # One name, two codes: which one is meant cannot be guessed (the last must not win).
    first: dict[tuple[str, str], int] = {}
    for position, key in enumerate(zip(table["departement"], table["cle"], strict=True)):
        earlier = first.setdefault(key, position)
        if table["code"].iloc[earlier] != table["code"].iloc[position]:
            raise SelectionError(
                name,
                f"alias contradictoire : « {table['nom'].iloc[position]} » ({key[0]}) pointe "
                f"vers {table['code'].iloc[position]} ici et vers "
                f"{table['code'].iloc[earlier]} à la ligne {lines[earlier]} : gardez une "
                "seule des deux lignes.",
                lines[position],
                "nom",
            )
    return table[columns]


_relative = config.relative_to_project


class Matcher:
    """Resolves selection rows against a reference (see module docstring)."""

    def __init__(self, reference: Reference, aliases: pd.DataFrame):
        communes = reference.communes
        is_current = communes["type"] == "COM"
        self._current = communes.loc[is_current].set_index("insee")
        # Arrondissements and communes déléguées or associées point to their commune.
        self._current_of = current_commune_codes(communes).to_dict()
        # Département prefixes of INSEE codes the reference covers ('05', '2A', '974'…).
        self._known_prefixes = set(reference.departements["code"])
        self._departement_of = dict(
            zip(
                reference.departements["code"],
                map(reference.departement_of_name, reference.departements["code"]),
                strict=True,
            )
        )
        # Postal codes of each current commune (those of its communes déléguées included).
        codes = reference.postal_codes["insee"]
        current_codes = codes.map(self._current_of).fillna(codes).tolist()
        self._postal_of: dict[str, set[str]] = defaultdict(set)
        self._communes_of_postal: dict[str, set[str]] = defaultdict(set)
        for postal, insee in zip(
            reference.postal_codes["code_postal"].tolist(), current_codes, strict=True
        ):
            self._postal_of[insee].add(postal)
            self._communes_of_postal[postal].add(insee)
        self._epci = reference.epci.set_index("siren")
        self._aliases = {(row.departement, row.cle): row.code for row in aliases.itertuples()}
        # Name candidates are built per département on first use: most rows of the
        # national list are resolved by their codes and never need them.
        self._communes_named = communes.loc[communes["type"].isin(["COM", "COMD", "COMA"])]
        self._candidate_cache: dict[tuple[str, str], _Candidates] = {}

    def _collectivity_name(self, departement: str, level: bool) -> str:
        """'Conseil départemental des Hautes-Alpes', 'Collectivité de Corse', or the region
        'Région (postes comptés pour les Hautes-Alpes)'."""
        of_name = self._departement_of.get(departement, departement)
        if not level:
            return f"Région (postes comptés pour le département {of_name})"
        name = config.departemental_collectivity(departement)
        if name == "le Conseil départemental":
            return f"Conseil départemental {of_name}"
        return name[name.index(" ") + 1 :]

    def _candidates(self, kind: str, dep: str) -> _Candidates:
        """EPCI with at least one commune in ``dep``, or communes of ``dep`` (communes
        déléguées and associées included, resolving to their current commune)."""
        if (kind, dep) not in self._candidate_cache:
            rows = self._communes_named.loc[self._communes_named["departement"] == dep]
            if kind == "epci":
                sirens = rows.loc[rows["type"] == "COM", "siren_epci"].dropna().unique()
                epci = self._epci.loc[self._epci.index.intersection(sirens)]
                names, codes = list(epci["nom"]), list(epci.index)
            else:
                names = list(rows["nom"])
                codes = list(rows["insee"].map(self._current_of))
            self._candidate_cache[(kind, dep)] = _Candidates(
                [normalise_name(n) for n in names], codes, names
            )
        return self._candidate_cache[(kind, dep)]

    # ------------------------------------------------------------------ resolution

    def current_commune(self, insee: str) -> str | None:
        """Current commune of an INSEE code (itself, or the parent of an attached one)."""
        found = self._current_of.get(insee)
        return found if isinstance(found, str) else None

    def _commune_result(self, insee: str, method: str) -> dict:
        commune = self._current.loc[insee]
        if not isinstance(commune["siren_epci"], str):
            return _unlocatable(
                f"la commune {commune['nom']} ({insee}) n'appartient à aucun EPCI", insee
            )
        return {
            "statut": LOCATED,
            "insee_commune": insee,
            "siren_epci": commune["siren_epci"],
            "nom_officiel": commune["nom"],
            "methode": method,
        }

    def _epci_result(self, siren: str, method: str) -> dict:
        return {
            "statut": LOCATED,
            "insee_commune": None,
            "siren_epci": siren,
            "nom_officiel": self._epci.loc[siren, "nom"],
            "methode": method,
        }

    def _by_code(self, row: pd.Series) -> dict | None:
        """Resolve from a code in the row: SIREN or SIRET of an EPCI, INSEE of the commune.

        A structure sits in the commune of its INSEE code, hence in that commune's EPCI;
        an EPCI's own SIREN (the first nine digits of its SIRET) is stronger still.
        """
        code = str(row["code"] or "")
        if code[:9] in self._epci.index:
            return self._epci_result(code[:9], "code SIREN")
        if row["type_structure"] == "epci" and not row["commune"]:
            return None  # an EPCI without a known SIREN: matched by name
        for candidate, method in ((row["commune"], "code commune"), (code, "code INSEE")):
            insee = self.current_commune(candidate) if len(candidate) == 5 else None
            if insee:
                return self._commune_result(insee, method)
        commune = row["commune"]
        if commune:
            if commune[:3] not in self._known_prefixes and commune[:2] not in self._known_prefixes:
                return _unlocatable(
                    f"commune {commune} hors du référentiel (collectivité d'outre-mer)", None
                )
            nearby = sorted(self._communes_of_postal.get(row.get("code_postal", ""), ()))
            listed = "; ".join(
                f"{self._current.loc[c, 'nom']} ({c}, même code postal)" for c in nearby
            )
            return _review(f"code commune inconnu du référentiel « {commune} »", listed)
        return None

    def _by_name(self, row: pd.Series) -> dict:
        dep, kind = row["departement"], row["type_structure"]
        key = normalise_name(row["structure"])
        alias = self._aliases.get((dep, key))
        if alias:
            if alias in self._epci.index:
                return self._epci_result(alias, "alias")
            insee = self.current_commune(alias)
            if insee:
                return self._commune_result(insee, "alias")
            return _review(f"l'alias pointe vers un code inconnu « {alias} »", "")
        if kind == "epci":
            resolve = self._epci_result
        elif kind == "commune":
            resolve = self._commune_result
        else:
            return _review("commune d'implantation non renseignée (colonne « commune »)", "")
        candidates = self._candidates(kind, dep)
        if not candidates.keys:
            return _review(f"aucun territoire de ce type dans le département {dep}", "")

        exact = candidates.exact(key)
        exact_codes = sorted({candidates.codes[i] for i in exact})
        if len(exact_codes) == 1:
            return resolve(exact_codes[0], "nom exact")
        if len(exact_codes) > 1:
            listed = "; ".join(f"{candidates.names[i]} ({candidates.codes[i]})" for i in exact)
            return _review("nom ambigu : plusieurs territoires portent ce nom", listed)

        best = candidates.best(key)
        listed = "; ".join(
            f"{candidates.names[i]} ({candidates.codes[i]}, score {score:.0f})" for i, score in best
        )
        if not best or best[0][1] < config.FUZZY_SCORE:
            return _review("nom introuvable dans le référentiel", listed)
        runner_up = best[1][1] if len(best) > 1 else 0.0
        if (
            best[0][1] - runner_up < config.FUZZY_MARGIN
            and candidates.codes[best[1][0]] != candidates.codes[best[0][0]]
        ):
            return _review("nom ambigu : plusieurs candidats proches", listed)
        index, score = best[0]
        return resolve(candidates.codes[index], f"nom approché (score {score:.0f})")

    def match_row(self, row: pd.Series) -> dict:
        if row["type_structure"] in ("departement", "region"):
            level = row["type_structure"] == "departement"
            return {
                "statut": DEPARTEMENT_LEVEL if level else REGION_LEVEL,
                "insee_commune": None,
                "siren_epci": None,
                "nom_officiel": self._collectivity_name(row["departement"], level),
                "methode": "type de structure",
                "motif": "",
                "candidats": "",
            }
        result = {"motif": "", "candidats": "", **(self._by_code(row) or self._by_name(row))}
        result["alerte"] = self._postal_alert(row, result.get("insee_commune"))
        return result

    def _postal_alert(self, row: pd.Series, insee: str | None) -> str:
        """The INSEE code decides where a structure sits; a postal code of another
        commune is only reported, for the analyst to check the source."""
        postal = row.get("code_postal", "")
        if not postal or not insee or postal in self._postal_of.get(insee, {postal}):
            return ""
        name = self._current.loc[insee, "nom"]
        return f"code postal {postal} différent de ceux de {name} ({insee})"

    def match(self, selections: pd.DataFrame) -> pd.DataFrame:
        """The selections with the columns of ``MATCH_COLUMNS`` added."""
        results = [self.match_row(row) for _, row in selections.iterrows()]
        matched = pd.DataFrame.from_records(results, index=selections.index, columns=MATCH_COLUMNS)
        for column in MATCH_COLUMNS:
            if column not in matched:
                matched[column] = None
        text = ["motif", "candidats", "alerte"]
        matched[text] = matched[text].astype(object).fillna("")
        return pd.concat([selections, matched[MATCH_COLUMNS]], axis=1)


def _review(reason: str, candidates: str) -> dict:
    return {
        "statut": REVIEW,
        "insee_commune": None,
        "siren_epci": None,
        "nom_officiel": None,
        "methode": "",
        "motif": reason,
        "candidats": candidates,
    }


def _unlocatable(reason: str, insee: str | None) -> dict:
    return {
        "statut": UNLOCATABLE,
        "insee_commune": insee,
        "siren_epci": None,
        "nom_officiel": None,
        "methode": "",
        "motif": reason,
        "candidats": "",
    }


# Columns of the review table: file, line, name, posts, reason, best candidates.
REVIEW_COLUMNS = [
    "fichier",
    "ligne",
    "departement",
    "structure",
    "type_structure",
    "postes",
    "motif",
    "candidats",
]


def review_table(matched: pd.DataFrame) -> pd.DataFrame:
    """Rows a person must look at: file, line, name, posts, reason, best candidates."""
    return matched.loc[matched["statut"] == REVIEW, REVIEW_COLUMNS].reset_index(drop=True)
