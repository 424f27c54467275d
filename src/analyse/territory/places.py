"""Where conseillers work: places of digital mediation, or town halls as a fallback.

The national file of places (data.gouv.fr, « Lieux de médiation numérique … fournis par
Conseiller numérique », schema LaMednum/standard-mediation-num) gives each place a name,
a declared commune and postal code, and coordinates. Coordinates are what we trust for
location; the declared commune is only used to flag places whose coordinates look wrong
(far from the commune they claim).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analyse import config
from analyse.errors import UserError
from analyse.read.codes import COMMUNE_WIDTH, codes
from analyse.read.files import data_suffix, read_bytes, read_csv_strings
from analyse.read.names import ABBREVIATIONS, normalise_name, normalise_text
from analyse.territory.matching import LOCATED
from analyse.territory.reference import current_commune_codes, isin_codes

# A place more than this far from the commune it declares is flagged: beyond the
# imprecision of a geocoded address, it is probably the wrong place or commune.
FAR_FROM_DECLARED_M = 5_000

# When a place lies outside every commune (a point at sea, coordinates swapped), the
# nearest commune is searched among those within this many degrees (about 50 km).
_NEAREST_SEARCH_DEG = 0.5

PLACE_COLUMNS = ["id", "nom", "commune_declaree", "code_postal", "adresse", "services", "siret"]
REJECTED_COLUMNS = [*PLACE_COLUMNS, "latitude", "longitude", "motif"]
SOURCE_PLACES = "lieu de médiation numérique"
SOURCE_TOWN_HALL = "mairie"

# How the declared commune was resolved (column ``commune_declaree_resolue_par``).
BY_POSTAL_AND_NAME = "code postal et nom"
BY_POSTAL_AND_PREFIX = "code postal et début du nom"
BY_NAME_IN_DEPARTEMENT = "nom, dans le département"
BY_POSTAL_ONLY = "code postal seul (une seule commune)"
UNRESOLVED = "non résolue"

# Source field → our column. Only ``latitude`` and ``longitude`` are required.
_SOURCE_FIELDS = {
    "id": "id",
    "nom": "nom",
    "commune": "commune_declaree",
    "code_postal": "code_postal",
    "adresse": "adresse",
    "services": "services",
    "pivot": "siret",
}
_REQUIRED_FIELDS = ["latitude", "longitude"]

# "MARSEILLE 11", "LYON 9EME", "Paris 1er arrondissement", "NANCY CEDEX", "CAHORS CEDEX 9":
# the arrondissement or Cedex suffix is not part of the commune's name.
_SUFFIX_RE = re.compile(
    r"(?:\s+cedex(?:\s+\d+)?|\s+\d{1,2}\s*(?:er|e|eme)?(?:\s+arrondissement)?)$"
)


# Same expansions as ``names.normalise_name``, for the strict key that skips the rest.


# Today's national file (schema standard-mediation-num, 2023 onwards) lists every place
# of digital mediation with the national programmes it belongs to; the July 2022 file
# held only the conseillers' places, without that field. Recognised by its columns.
PROGRAMMES_FIELD = "dispositif_programmes_nationaux"
DEFAULT_PROGRAMMES = ("Conseillers numériques",)
ALL_PROGRAMMES = "tous"
FORMAT_CURRENT = "schéma standard-mediation-num, fichier national actuel"
FORMAT_2022 = "lieux des conseillers numériques (fichier de juillet 2022)"
BY_INSEE_CODE = "code INSEE du fichier"
_PROGRAMME_SPLIT_RE = re.compile(r"[|,;]")


def programme_key(name: str) -> str:
    """A programme name compared without case, accents or plural: « Conseillers
    numériques », « conseiller numerique » and « CONSEILLERS NUMÉRIQUES » match."""
    words = normalise_text(name).split()
    return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words)


def parse_programmes(value: str | None) -> tuple[str, ...] | None:
    """``--programmes``: comma-separated names, or « tous » (None: every place)."""
    if value is None:
        return DEFAULT_PROGRAMMES
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise PlacesFileError(
            "--programmes : aucun programme donné (exemple : « France Services »)."
        )
    if any(normalise_text(n) == ALL_PROGRAMMES for n in names):
        return None
    return names


def programme_mask(listed: pd.Series, programmes: tuple[str, ...] | None) -> pd.Series:
    """Rows whose ``dispositif_programmes_nationaux`` names one of ``programmes``
    (every row when ``programmes`` is None)."""
    if programmes is None:
        return pd.Series(True, index=listed.index)
    wanted = {programme_key(p) for p in programmes}
    return listed.map(
        lambda text: bool(wanted & {programme_key(p) for p in _PROGRAMME_SPLIT_RE.split(text)})
    )


def _conseillers_only(programmes: tuple[str, ...] | None) -> bool:
    """Whether ``programmes`` asks for the conseillers' places only (the default)."""
    wanted = {programme_key(p) for p in DEFAULT_PROGRAMMES}
    return programmes is not None and {programme_key(p) for p in programmes} == wanted


class PlacesFileError(UserError):
    """The places file is missing or malformed (message in French)."""


# ---------------------------------------------------------------------------- reading


def _read_records(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise PlacesFileError(f"{path} : fichier des lieux de médiation numérique introuvable.")
    if path.is_dir():
        raise PlacesFileError(
            f"{path} : c'est un dossier ; --lieux attend le fichier des lieux de médiation "
            "numérique (JSON ou CSV de data.gouv.fr)."
        )
    if path.stat().st_size == 0:
        raise PlacesFileError(f"{path} : le fichier des lieux de médiation numérique est vide.")
    if data_suffix(path) == ".csv":  # pandas decompresses a .csv.gz itself
        return read_csv_strings(path, PlacesFileError)
    try:
        data = json.loads(read_bytes(path).decode("utf-8"))
    except RecursionError:  # arrays within arrays, thousands deep: no list of places
        raise PlacesFileError(
            f"{path} : fichier illisible comme JSON (tableaux ou objets imbriqués trop "
            "profondément) ; une liste de lieux était attendue."
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise PlacesFileError(f"{path} : fichier illisible comme JSON ({error}).") from error
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise PlacesFileError(
            f"{path} : une liste de lieux était attendue (tableau JSON d'objets, format "
            "« standard-mediation-num » de data.gouv.fr)."
        )
    return pd.DataFrame.from_records(data)


def _check_programmes(path: Path, listed: pd.Series, programmes: tuple[str, ...] | None) -> None:
    """Refuse a programme that no place of the file belongs to (a misspelt name would
    keep no place, and every inhabitant would seem far from a conseiller)."""
    if programmes is None:
        return
    known: dict[str, str] = {}
    for text in listed:
        for name in _PROGRAMME_SPLIT_RE.split(text):
            if name.strip():
                known.setdefault(programme_key(name), name.strip())
    unknown = [p for p in programmes if programme_key(p) not in known]
    if unknown:
        raise PlacesFileError(
            f"--programmes : aucun lieu de {path} n'appartient au(x) programme(s) "
            f"« {' », « '.join(unknown)} ». Programmes du fichier : "
            f"{', '.join(sorted(known.values(), key=normalise_text))} (ou « tous »)."
        )


def _text(values: pd.Series) -> pd.Series:
    """Strings with surrounding spaces removed; missing values become ''."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def _clean_postal(values: pd.Series) -> pd.Series:
    """'5700' → '05700', '30252Cedex' → '30252'; anything else is kept as written."""
    text = _text(values)
    found = text.str.extract(r"^(\d{4,5})(?!\d)", expand=False)
    return found.str.zfill(5).fillna(text)


def read_places(
    path: Path,
    programmes: tuple[str, ...] | None = DEFAULT_PROGRAMMES,
    selection: dict | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read the places file (JSON list, or CSV with the same fields).

    Today's national file (``dispositif_programmes_nationaux`` among its columns) is
    filtered to the places of ``programmes`` (None: every place); the 2022 file holds
    only conseillers' places and is read whole. ``selection``, when given, receives
    what was kept: ``format``, ``programmes`` (None: all), ``lus``, ``retenus``. Its
    ``code_insee``, when present, is kept in the column ``code_insee``.

    Returns ``(places, rejected)``. ``places`` is a GeoDataFrame of points in EPSG:4326
    with the columns of ``PLACE_COLUMNS`` (``siret`` from the ``pivot`` field, digits
    only, '' when absent). ``rejected`` holds the rows without usable coordinates, with
    ``latitude``, ``longitude`` as read and a French ``motif``: no row is dropped
    silently.
    """
    path = Path(path)
    raw = _read_records(path)
    missing = [f for f in _REQUIRED_FIELDS if f not in raw.columns]
    if missing:
        raise PlacesFileError(
            f"{path} : champ(s) manquant(s) : {', '.join(missing)} "
            f"(attendu au moins : {', '.join(_REQUIRED_FIELDS)})."
        )
    current = PROGRAMMES_FIELD in raw.columns
    if not current and not _conseillers_only(programmes):
        # The 2022 file holds the conseillers' places only: any other choice would be
        # read as the conseillers' places under another name.
        raise PlacesFileError(
            f"--programmes : {config.relative_to_project(path)} ne dit pas à quels "
            "programmes appartiennent ses lieux "
            f"(pas de colonne {PROGRAMMES_FIELD}) ; il ne contient que les lieux des "
            "conseillers numériques (fichier de juillet 2022). Retirez --programmes, ou "
            "donnez avec --lieux le fichier national actuel des lieux de médiation "
            "numérique."
        )
    read = len(raw)
    if current:
        listed = _text(raw[PROGRAMMES_FIELD])
        _check_programmes(path, listed, programmes)
        # Places of other programmes are not « dropped »: the report says which
        # programmes it counts and how many places of the file that leaves.
        raw = raw.loc[programme_mask(listed, programmes)]
        raw = raw.reset_index(drop=True)
    if selection is not None:
        selection.update(
            format=FORMAT_CURRENT if current else FORMAT_2022,
            programmes=(list(programmes) if programmes else None) if current else None,
            lus=read,
            retenus=len(raw),
        )
    table = pd.DataFrame(index=raw.index)
    for source, ours in _SOURCE_FIELDS.items():
        table[ours] = _text(raw[source]) if source in raw else ""
    table["code_postal"] = _clean_postal(table["code_postal"])
    if "code_insee" in raw:
        table["code_insee"] = codes(raw["code_insee"], COMMUNE_WIDTH)
    table["siret"] = table["siret"].str.replace(r"\D", "", regex=True)
    # Rows without an identifier get their position in the file, so that every place
    # can be named in a table.
    table["id"] = table["id"].where(table["id"] != "", "ligne " + (raw.index + 1).astype(str))

    lat_text = _text(raw["latitude"]).str.replace(",", ".", regex=False)
    lon_text = _text(raw["longitude"]).str.replace(",", ".", regex=False)
    lat = pd.to_numeric(lat_text, errors="coerce")
    lon = pd.to_numeric(lon_text, errors="coerce")
    motif = pd.Series("", index=raw.index)
    absent = (lat_text == "") | (lon_text == "")
    not_numeric = ~absent & (lat.isna() | lon.isna() | ~np.isfinite(lat) | ~np.isfinite(lon))
    out_of_range = ~absent & ~not_numeric & ((lat.abs() > 90) | (lon.abs() > 180))
    zero = ~absent & ~not_numeric & (lat == 0) & (lon == 0)
    motif[absent] = "coordonnées absentes"
    motif[not_numeric] = "coordonnées non numériques"
    motif[out_of_range] = "coordonnées hors des bornes (latitude ±90°, longitude ±180°)"
    motif[zero] = "coordonnées nulles (0, 0)"
    bad = motif != ""

    # Coordinates as read, in text: a list or an object is shown as written.
    rejected = table.loc[bad].assign(
        latitude=_text(raw.loc[bad, "latitude"]),
        longitude=_text(raw.loc[bad, "longitude"]),
        motif=motif[bad],
    )
    good = table.loc[~bad]
    places = gpd.GeoDataFrame(
        good.reset_index(drop=True),
        geometry=gpd.points_from_xy(lon[~bad], lat[~bad]),
        crs=config.GEOGRAPHIC_CRS,
    )
    return places, rejected[REJECTED_COLUMNS].reset_index(drop=True)


def rejected_departement(rejected: pd.DataFrame, postal_codes: pd.DataFrame, communes) -> pd.Series:
    """Probable département of each rejected place, from its declared postal code (the
    only clue left without coordinates); empty when the code is unknown."""
    department_of = communes.drop_duplicates("insee").set_index("insee")["departement"]
    postal = postal_codes.assign(departement=postal_codes["insee"].map(department_of))
    by_code = postal.dropna(subset=["departement"]).drop_duplicates("code_postal")
    found = rejected["code_postal"].map(by_code.set_index("code_postal")["departement"])
    # Overseas collectivities outside the reference (Saint-Pierre-et-Miquelon, the
    # Pacific): their postal code starts with their code, so that their places are not
    # listed in every département's report as of unknown département.
    overseas = rejected["code_postal"].astype(str).str.extract(r"^(97[5-8]|98\d)\d\d$")[0]
    return found.fillna(overseas).fillna("").astype(str)


# --------------------------------------------------------------------------- locating


def _strict_key(name: str) -> str:
    """Key of a declared commune name: case, accents and punctuation only, without
    arrondissement or Cedex suffix ('MARSEILLE 11' → 'marseille', 'St Bonnet' → 'saint
    bonnet'). Articles and designations are kept: 'Gray' and 'Gray-la-Ville' differ.
    The loose key, ``normalise_name`` of this one, ignores them ('LA BATIE-NEUVE')."""
    words = _SUFFIX_RE.sub("", normalise_text(name)).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


def _is_current(communes: pd.DataFrame) -> pd.Series:
    """Rows that are current communes (a table without ``type`` holds only those)."""
    if "type" not in communes:
        return pd.Series(True, index=communes.index)
    return communes["type"] == "COM"


def _current_code(communes: pd.DataFrame) -> pd.Series:
    """Current commune of each row: itself, or the parent of an attached entity."""
    return communes["insee"].map(current_commune_codes(communes))


def _keys_of(names: pd.Series) -> tuple[list[str], list[str]]:
    """Strict and loose keys of names, each distinct name computed once."""
    distinct = pd.unique(names.astype(str))
    strict = {n: _strict_key(n) for n in distinct}
    loose = {n: normalise_name(k) for n, k in strict.items()}
    text = names.astype(str).tolist()
    return [strict[n] for n in text], [loose[n] for n in text]


def _name_keys(communes: pd.DataFrame) -> pd.DataFrame:
    """Every name a current commune goes by: its own, and those of its arrondissements
    and communes déléguées (which also go by their current commune's name)."""
    named = communes.loc[communes["type"] != "SRM"] if "type" in communes else communes
    strict, loose = _keys_of(named["nom"])
    own = pd.DataFrame(
        {
            "insee": named["insee"].to_numpy(dtype=object),
            "stricte": strict,
            "large": loose,
            "courante": _current_code(named).to_numpy(dtype=object),
            "departement": named["departement"].to_numpy(dtype=object),
        }
    )
    is_current = own["insee"] == own["courante"]
    current_keys = own.loc[is_current].drop_duplicates("insee").set_index("insee")
    parents = own.loc[~is_current].assign(
        stricte=lambda f: f["courante"].map(current_keys["stricte"]),
        large=lambda f: f["courante"].map(current_keys["large"]),
    )
    keys = pd.concat([own, parents.dropna(subset=["stricte"])], ignore_index=True)
    return keys.dropna(subset=["courante"]).drop_duplicates()


def _unique_match(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.Series:
    """Current commune of each row of ``left`` that matches exactly one in ``right``."""
    found = (
        left.rename_axis("ligne")
        .reset_index()
        .merge(right[[*on, "courante"]].drop_duplicates(), on=on)
    )
    counts = found.groupby("ligne")["courante"].nunique()
    found = found.loc[found["ligne"].map(counts) == 1]
    return found.drop_duplicates("ligne").set_index("ligne")["courante"]


def _prefix_match(left: pd.DataFrame, postal: pd.DataFrame) -> pd.Series:
    """Commune of the postal code whose name starts with the declared name, when exactly
    one does ('ROMORANTIN' → Romorantin-Lanthenay, 'ANCENIS' → Ancenis-Saint-Géréon)."""
    found = (
        left.rename_axis("ligne")
        .reset_index()
        .merge(
            postal[["code_postal", "stricte", "courante"]],
            on="code_postal",
            suffixes=("", "_ref"),
        )
    )
    starts = [
        bool(key) and ref.startswith(key + " ")
        for key, ref in zip(found["stricte"], found["stricte_ref"], strict=True)
    ]
    found = found.loc[starts]
    counts = found.groupby("ligne")["courante"].nunique()
    found = found.loc[found["ligne"].map(counts) == 1]
    return found.drop_duplicates("ligne").set_index("ligne")["courante"]


def _resolve_declared(
    places: pd.DataFrame, communes: pd.DataFrame, postal_codes: pd.DataFrame
) -> pd.DataFrame:
    """Current commune each place declares, and how it was resolved.

    Evidence, strongest first: postal code and name (strict, then ignoring articles);
    postal code and the beginning of the name; the name alone within the département
    where the point lies; the postal code alone when it serves a single commune. A
    declared commune that none of these resolves is left empty, never guessed.
    """
    postal = postal_codes[["code_postal", "insee"]].astype(object)
    postal = postal.loc[isin_codes(postal["code_postal"], places["code_postal"].unique())]
    # Only the communes that can be named: those of the départements searched and those
    # served by the declared postal codes (a national reference has 37 000 names).
    departements = set(places["departement_recherche"].dropna()) | set(
        communes.loc[isin_codes(communes["insee"], postal["insee"].unique()), "departement"]
    )
    keys = _name_keys(communes.loc[isin_codes(communes["departement"], departements)])
    postal = postal.merge(keys, on="insee")
    strict, loose = _keys_of(places["commune_declaree"])
    left = pd.DataFrame(
        {
            "code_postal": places["code_postal"].astype(object).to_numpy(),
            "stricte": strict,
            "large": loose,
            "departement": places["departement_recherche"].astype(object).to_numpy(),
        },
        index=places.index,
    )
    served = postal.groupby("code_postal")["courante"]
    single = served.first().loc[served.nunique() == 1]
    candidates = [
        (left["code_postal"].map(single), BY_POSTAL_ONLY),
        (_unique_match(left, keys, ["departement", "large"]), BY_NAME_IN_DEPARTEMENT),
        (_unique_match(left, keys, ["departement", "stricte"]), BY_NAME_IN_DEPARTEMENT),
        (_prefix_match(left, postal), BY_POSTAL_AND_PREFIX),
        (_unique_match(left, postal, ["code_postal", "large"]), BY_POSTAL_AND_NAME),
        (_unique_match(left, postal, ["code_postal", "stricte"]), BY_POSTAL_AND_NAME),
    ]
    result = pd.DataFrame(
        {"insee_commune_declaree": None, "commune_declaree_resolue_par": UNRESOLVED},
        index=places.index,
    )
    # Weakest evidence first, so that stronger evidence overwrites it.
    for found, method in candidates:
        found = found.dropna()
        result.loc[found.index, "insee_commune_declaree"] = found
        result.loc[found.index, "commune_declaree_resolue_par"] = method
    return result


def _distances_m(
    points: gpd.GeoSeries, targets: gpd.GeoSeries, departements: pd.Series
) -> pd.Series:
    """Distance in metres from each point to its target geometry (same index), computed
    in the metric CRS of each row's département."""
    out = pd.Series(np.nan, index=points.index)
    crs_of = departements.fillna("").map(config.metric_crs)
    for crs, rows in crs_of.groupby(crs_of).groups.items():
        a = points.loc[rows].to_crs(crs).to_numpy()
        b = targets.loc[rows].to_crs(crs).to_numpy()
        out.loc[rows] = shapely.distance(a, b)
    return out


def _nearest_commune(points: gpd.GeoSeries, current: gpd.GeoDataFrame) -> pd.DataFrame:
    """Nearest current commune (and distance in metres) of points outside every one."""
    result = pd.DataFrame(
        {"insee_la_plus_proche": None, "distance_commune_la_plus_proche_m": np.nan},
        index=points.index,
    )
    if points.empty:
        return result
    x, y = points.x.to_numpy(), points.y.to_numpy()
    d = _NEAREST_SEARCH_DEG
    boxes = pd.Series(shapely.box(x - d, y - d, x + d, y + d), index=points.index)
    for index, box in boxes.items():
        candidates = current.iloc[current.sindex.query(box, predicate="intersects")]
        if candidates.empty:
            continue
        crs = config.metric_crs(str(candidates["departement"].iloc[0]))
        point = points.loc[[index]].to_crs(crs).iloc[0]
        distances = shapely.distance(candidates.geometry.to_crs(crs).to_numpy(), point)
        best = int(np.argmin(distances))
        result.loc[index, "insee_la_plus_proche"] = candidates["insee"].iloc[best]
        result.loc[index, "distance_commune_la_plus_proche_m"] = float(distances[best])
    return result


def locate_places(
    places: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, postal_codes: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Current commune of each place, and checks against the commune it declares.

    ``communes`` is the reference commune table (all types: arrondissements and communes
    déléguées resolve declared names such as « MARSEILLE 11 »); ``postal_codes`` is
    ``ref.postal_codes``. Adds to ``places`` (same rows, same order):

    - ``insee``, ``nom_commune``, ``departement``, ``siren_epci``: the current commune
      containing the point and its EPCI (empty when ``hors_commune``);
    - ``hors_commune``: the point lies in no commune (at sea, wrong coordinates), with
      ``insee_la_plus_proche`` and ``distance_commune_la_plus_proche_m`` for those;
    - ``insee_commune_declaree`` and ``commune_declaree_resolue_par``: the current
      commune the place declares, resolved from its postal code and normalised name;
    - ``distance_commune_declaree_m``: metres from the point to that commune's outline
      (0 inside it; empty when unresolved or when the reference has no outline for it)
      and ``loin_de_la_commune_declaree``, true beyond ``FAR_FROM_DECLARED_M``
      (nullable boolean: unknown when the distance is);
    - ``source``: « lieu de médiation numérique ».
    """
    # Work on positions: the spatial join below deduplicates by index label.
    original_index = places.index
    places = places.to_crs(config.GEOGRAPHIC_CRS).reset_index(drop=True)
    columns = ["insee", "nom", "departement", "siren_epci", "geometry"]
    current = communes.loc[_is_current(communes), [c for c in columns if c in communes]]
    # A few current communes of the reference have no outline (communes nouvelles of the
    # latest edition): they can be declared, not found by the spatial join.
    current = current.loc[current.geometry.notna() & ~current.geometry.is_empty]
    current = current.to_crs(config.GEOGRAPHIC_CRS).reset_index(drop=True)

    # A point on a shared boundary intersects two communes: keep the first by code, so
    # that the result is deterministic and no place is duplicated.
    joined = gpd.sjoin(places[["geometry"]], current, how="left", predicate="intersects").drop(
        columns="index_right"
    )
    joined = joined.sort_values("insee", kind="stable")
    joined = joined.loc[~joined.index.duplicated(keep="first")].reindex(places.index)
    out = places.copy()
    out["insee"] = joined["insee"]
    out["nom_commune"] = joined["nom"]
    out["departement"] = joined["departement"]
    if "siren_epci" in joined:
        out["siren_epci"] = joined["siren_epci"]
    out["hors_commune"] = out["insee"].isna()

    outside = out.loc[out["hors_commune"]]
    nearest = _nearest_commune(outside.geometry, current)
    out["insee_la_plus_proche"] = nearest["insee_la_plus_proche"].reindex(out.index)
    out["distance_commune_la_plus_proche_m"] = nearest["distance_commune_la_plus_proche_m"].reindex(
        out.index
    )

    # Declared names are looked up in the département where the point is (or, outside
    # every commune, that of the nearest commune).
    dep_of_insee = current.set_index("insee")["departement"]
    search = out["departement"].fillna(out["insee_la_plus_proche"].map(dep_of_insee))
    declared = _resolve_declared(out.assign(departement_recherche=search), communes, postal_codes)
    out["insee_commune_declaree"] = declared["insee_commune_declaree"]
    out["commune_declaree_resolue_par"] = declared["commune_declaree_resolue_par"]
    # Today's file gives the commune's code: when valid, it is the declared commune.
    coded = _insee_codes(out, communes, current) if "code_insee" in out else None
    if coded is not None:
        valid = coded.notna()
        out.loc[valid, "insee_commune_declaree"] = coded[valid]
        out.loc[valid, "commune_declaree_resolue_par"] = BY_INSEE_CODE

    distance = pd.Series(np.nan, index=out.index)
    same = out["insee_commune_declaree"].notna() & (out["insee_commune_declaree"] == out["insee"])
    distance[same] = 0.0
    other = out["insee_commune_declaree"].notna() & ~same
    if other.any():
        shapes = current.set_index("insee").geometry
        targets = gpd.GeoSeries(
            out.loc[other, "insee_commune_declaree"].map(shapes),
            index=out.index[other],
            crs=config.GEOGRAPHIC_CRS,
        )
        # The metric CRS is the place's département's (the declared one's at sea).
        deps = out.loc[other, "departement"].fillna(
            out.loc[other, "insee_commune_declaree"].map(dep_of_insee)
        )
        distance[other] = _distances_m(out.geometry[other], targets, deps)
    out["distance_commune_declaree_m"] = distance
    far = (distance > FAR_FROM_DECLARED_M).astype("boolean")
    out["loin_de_la_commune_declaree"] = far.mask(distance.isna())
    out["source"] = SOURCE_PLACES
    if coded is not None:
        # A valid code gives the place's commune and département in place of the
        # spatial join; its coordinates still give the distances, and a point far
        # from that commune is still flagged above.
        valid = coded.notna()
        names = current.set_index("insee")
        out.loc[valid, "insee"] = coded[valid]
        out.loc[valid, "nom_commune"] = coded[valid].map(names["nom"])
        out.loc[valid, "departement"] = coded[valid].map(names["departement"])
        if "siren_epci" in names:
            out.loc[valid, "siren_epci"] = coded[valid].map(names["siren_epci"])
    out.index = original_index
    return out


# Metropolitan France, roughly: a point whose latitude and longitude, swapped, fall in
# it was probably typed the wrong way round.
_METROPOLE_LAT, _METROPOLE_LON = (41.0, 51.5), (-5.5, 10.0)
MOTIF_OUTSIDE = "coordonnées hors de France (à plus de 50 km de toute commune du référentiel)"


def split_outside(located: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Places of ``locate_places`` whose point lies in no commune and near none (swapped
    latitude and longitude, a point in another country) are not used: they are
    returned apart, as rows of ``REJECTED_COLUMNS`` with their reason, so that every
    place read is either used or listed."""
    far = located["hors_commune"].astype(bool) & located["insee_la_plus_proche"].isna()
    points = located.geometry[far]
    lat, lon = points.y, points.x
    swapped = lon.between(*_METROPOLE_LAT) & lat.between(*_METROPOLE_LON)
    motif = pd.Series(MOTIF_OUTSIDE, index=points.index)
    motif[swapped] = MOTIF_OUTSIDE + " : latitude et longitude inversées ?"
    rejected = pd.DataFrame(located.loc[far, PLACE_COLUMNS]).assign(
        latitude=lat.map(lambda v: f"{v:g}"), longitude=lon.map(lambda v: f"{v:g}"), motif=motif
    )
    return located.loc[~far], rejected[REJECTED_COLUMNS].reset_index(drop=True)


def _insee_codes(out: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, current) -> pd.Series:
    """The current commune of each valid ``code_insee`` (an old or delegated code
    resolved to its current commune); missing when absent or unknown."""
    resolved = out["code_insee"].map(current_commune_codes(communes).to_dict())
    return resolved.where(resolved.isin(set(current["insee"])))


# ------------------------------------------------------------------------ town halls


def town_hall_points(communes: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Town hall of each commune, or a point sure to lie inside it when unknown."""
    known = communes["mairie_lon"].notna() & communes["mairie_lat"].notna()
    town_halls = gpd.points_from_xy(communes["mairie_lon"], communes["mairie_lat"])
    inside = communes.geometry.to_crs(config.GEOGRAPHIC_CRS).representative_point()
    points = np.where(known.to_numpy(), np.asarray(town_halls), inside.to_numpy())
    return gpd.GeoSeries(points, index=communes.index, crs=config.GEOGRAPHIC_CRS)


def town_hall_places(
    matched: pd.DataFrame, communes: gpd.GeoDataFrame, epci: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One point per located structure, at a town hall: the fallback without places file.

    ``matched`` is the matched selection table; only its located rows (``statut``
    ``LOCATED``, 'epci') are placed, each at the town hall of its ``insee_commune``. An
    EPCI matched by SIREN has no commune: it is placed in the commune of the row's
    ``commune`` column when that commune belongs to the EPCI (the seat, as declared),
    otherwise in the most populous commune of the EPCI, a proxy for its seat.
    ``communes`` must hold every member commune of these EPCI (pass ``ref.communes``);
    ``epci`` (``ref.epci``) gives a point inside the EPCI when none of its communes is
    known, or when the chosen commune has neither town hall nor outline.

    Columns: id (« fichier:ligne » of the row), nom (structure), insee, nom_commune,
    departement (of the commune), siren_epci, postes, emplacement (how the commune was
    chosen, in French), point (« mairie » or « point intérieur »), source « mairie ».
    """
    columns = [
        "id",
        "nom",
        "insee",
        "nom_commune",
        "departement",
        "siren_epci",
        "postes",
        "emplacement",
        "point",
        "source",
    ]
    located = matched.loc[matched["statut"] == LOCATED]
    if located.empty:
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs=config.GEOGRAPHIC_CRS)
    is_current = _is_current(communes)
    current = communes.loc[is_current].drop_duplicates("insee").set_index("insee")
    # The row's commune may be an arrondissement or a commune déléguée.
    current_of = current_commune_codes(communes).to_dict()

    def as_current(code: object) -> str | None:
        code = str(code).strip() if isinstance(code, str) else ""
        found = current_of.get(code)
        return found if isinstance(found, str) and found in current.index else None

    members = current.loc[current["siren_epci"].notna()].reset_index()
    most_populous = (
        members.sort_values(["population", "insee"], ascending=[False, True])
        .drop_duplicates("siren_epci")
        .set_index("siren_epci")["insee"]
    )
    rows = []
    for index, row in located.iterrows():
        siren = row.get("siren_epci")
        siren = siren if isinstance(siren, str) else None
        insee, how = as_current(row.get("insee_commune")), "commune de la structure"
        if insee is None:
            seat = as_current(row.get("commune"))
            if seat is not None and siren is not None and current.at[seat, "siren_epci"] == siren:
                insee, how = seat, "commune du siège indiquée dans la sélection"
            elif siren in most_populous.index:
                insee, how = (
                    most_populous[siren],
                    "commune la plus peuplée de l'EPCI (siège supposé)",
                )
            else:
                how = "point intérieur de l'EPCI (aucune commune membre connue)"
        file, line = row.get("fichier"), row.get("ligne")
        rows.append(
            {
                "id": f"{file}:{line}" if pd.notna(file) and pd.notna(line) else str(index),
                "nom": row.get("structure", row.get("nom_officiel")),
                "insee": insee,
                "siren_epci": siren,
                "postes": row.get("postes"),
                "emplacement": how,
            }
        )
    table = pd.DataFrame.from_records(rows)
    known = table["insee"].notna()
    chosen = current.reindex(table["insee"])
    table["nom_commune"] = chosen["nom"].to_numpy()
    table["departement"] = chosen["departement"].to_numpy()
    points = town_hall_points(gpd.GeoDataFrame(chosen, geometry="geometry", crs=communes.crs))
    geometry = np.asarray(points.to_numpy(), dtype=object)
    table["point"] = np.where(
        chosen["mairie_lon"].notna().to_numpy(), "mairie", "point intérieur de la commune"
    )
    # No commune, or a commune without town hall nor outline: a point inside the EPCI.
    missing = (~known | pd.isna(geometry)).to_numpy()
    if missing.any():
        shapes = epci.set_index("siren").geometry.to_crs(config.GEOGRAPHIC_CRS)
        inside = shapes.representative_point()
        geometry[missing] = table.loc[missing, "siren_epci"].map(inside).to_numpy()
        table.loc[missing, "point"] = "point intérieur de l'EPCI"
    table["source"] = SOURCE_TOWN_HALL
    return gpd.GeoDataFrame(table[columns], geometry=list(geometry), crs=config.GEOGRAPHIC_CRS)


# ----------------------------------------------------------------------------- dates

# How a place got its date (column ``datation``), strongest evidence first. The places
# file says where conseillers work, not since when: a place is dated by the first
# committee of its structure (the ``pivot`` field is the structure's SIRET), else by the
# first post located where it stands (its commune, its EPCI, its département).
#
# « Located » as everywhere else in the project (maps, densities, the report's counts):
# a post of a commune or of a structure with an address (association, CCAS…) in that
# commune; a post of an intercommunalité in the whole EPCI, not in the commune of its
# seat (its conseillers serve every commune: dating a place of the seat by it would
# favour one commune the post is not more in than the others); the posts of a Conseil
# départemental or a Région in no commune nor EPCI (a category apart, serving the whole
# département: they date a place at the département's step only). A literal « posts
# granted in its commune », seats included, would date 96 more of the embedded places
# by a seat's commune, and 4 of them later than the first post of their EPCI.
# The rule as the README and the report's « Date des lieux » state it, word for word:
DATING_RULE = (
    "Un lieu qu'aucune structure ne date compte à partir du premier poste situé dans sa "
    "commune, sinon dans son intercommunalité, sinon du premier poste compté pour son "
    "département. Un poste est situé là où le rapport le compte : celui d'une commune ou "
    "d'une structure (association, CCAS…) dans sa commune ; celui d'une "
    "intercommunalité dans toute l'intercommunalité, pas dans la commune de son siège ; "
    "ceux du Conseil départemental ou de la Région dans aucune commune ni "
    "intercommunalité, si bien qu'ils ne datent un lieu qu'au dernier pas, celui du "
    "département. Ainsi l'antenne de la Croix-Rouge de Sisteron, structure absente de la "
    "liste nationale, compte à partir du 24/03/2021, premier poste situé dans la "
    "communauté de communes du Sisteronais-Buëch (celui de la communauté de communes "
    "elle-même, dont le siège est à Sisteron, mais qui sert toutes ses communes) : aucun "
    "poste n'est situé à Sisteron même."
)
DATED_BY_SIRET = "SIRET de la structure"
DATED_BY_SIREN = "SIREN de la structure"
DATED_BY_COMMUNE = "premier poste de la commune"
DATED_BY_EPCI = "premier poste de l'intercommunalité"
DATED_BY_DEPARTEMENT = "premier poste du département"
UNDATED = "non daté"
DATING_ORDER = (
    DATED_BY_SIRET,
    DATED_BY_SIREN,
    DATED_BY_COMMUNE,
    DATED_BY_EPCI,
    DATED_BY_DEPARTEMENT,
    UNDATED,
)


def _siret_siren(digits: pd.Series) -> tuple[pd.Series, pd.Series]:
    """SIRET and SIREN of identifiers given as digits: the first 14 digits of 14 or more
    (« 34106240403159/APE:8790B » is a SIRET and an APE code), the first 9 of those and
    of a 9-digit SIREN; missing otherwise (a 13-digit code is not guessed)."""
    length = digits.str.len()
    return digits.str[:14].where(length >= 14), digits.str[:9].where((length >= 14) | (length == 9))


def _first_dates(dates: pd.Series, keys: pd.Series) -> pd.Series:
    """Earliest date per non-empty key."""
    keys = keys.astype(object).where(keys.notna() & keys.astype(str).ne(""))
    return dates.groupby(keys, dropna=True).min()


def date_places(places: gpd.GeoDataFrame, selections: pd.DataFrame) -> gpd.GeoDataFrame:
    """Since when each place counts: ``places`` with ``date_debut`` and ``datation``.

    ``places`` are located places (``locate_places``: ``siret``, ``insee``,
    ``siren_epci``, ``departement``; a missing column skips its rule). ``selections`` is
    the whole matched selection table (``MatchedSelections.table``, every month: a
    structure granted later must not be dated by an earlier neighbour). A place counts
    from, in this order, the first committee of the structure whose SIRET is its
    ``pivot``; of a structure with the same SIREN (first 9 digits); the first post
    located in its commune; in its EPCI; the first post counted for its département.
    ``date_debut`` is a Timestamp, NaT when nothing dates the place (« non daté »):
    ``places_at`` then counts it at every date. Same rows, same index.
    """
    rows = selections.loc[selections["date_comite"].notna()]
    dates = pd.to_datetime(rows["date_comite"])
    siret, siren = _siret_siren(rows["code"].astype(str).str.replace(r"\D", "", regex=True))
    located = rows["statut"].eq(LOCATED)
    lookups = [
        (DATED_BY_SIRET, "siret", _first_dates(dates, siret)),
        (DATED_BY_SIREN, "siren", _first_dates(dates, siren)),
        (
            DATED_BY_COMMUNE,
            "insee",
            _first_dates(dates[located], rows.loc[located, "insee_commune"]),
        ),
        (
            DATED_BY_EPCI,
            "siren_epci",
            _first_dates(dates[located], rows.loc[located, "siren_epci"]),
        ),
        (DATED_BY_DEPARTEMENT, "departement", _first_dates(dates, rows["departement"])),
    ]
    pivot = places["siret"].astype(str) if "siret" in places else pd.Series("", places.index)
    keys = pd.DataFrame(index=places.index)
    keys["siret"], keys["siren"] = _siret_siren(pivot.str.replace(r"\D", "", regex=True))
    for column in ("insee", "siren_epci", "departement"):
        keys[column] = places[column].astype(object) if column in places else None
    start = pd.Series(pd.NaT, index=places.index, dtype="datetime64[ns]")
    how = pd.Series(UNDATED, index=places.index, dtype=object)
    for method, key, first in lookups:
        found = keys[key].map(first) if len(first) else pd.Series(pd.NaT, index=places.index)
        fill = start.isna() & found.notna()
        start[fill] = pd.to_datetime(found[fill])
        how[fill] = method
    out = places.copy()
    out["date_debut"] = start
    out["datation"] = how
    return out


def places_at(dated_places: gpd.GeoDataFrame, month: str | None) -> gpd.GeoDataFrame:
    """The places counted at the end of ``month`` (YYYY-MM; None: every place): those
    dated up to that month's last day, and those no rule dates (``date_places``)."""
    if month is None:
        return dated_places
    end = pd.Period(month, freq="M").end_time
    start = dated_places["date_debut"]
    return dated_places.loc[start.isna() | (start <= end)]


def dating_summary(dated_places: gpd.GeoDataFrame, month: str | None) -> dict:
    """What the report says of the places' dates: ``total`` places, how many each rule
    dated (``par_regle``, rules in ``DATING_ORDER``, zeros left out), ``non_dates`` and
    ``retenus`` (places counted at the end of ``month``), with ``mois``."""
    counts = dated_places["datation"].value_counts()
    return {
        "total": len(dated_places),
        "par_regle": {rule: int(counts[rule]) for rule in DATING_ORDER[:-1] if counts.get(rule)},
        "non_dates": int(counts.get(UNDATED, 0)),
        "retenus": len(places_at(dated_places, month)),
        "mois": month,
    }
