"""The saved bundle of one département: the contract between three processes.

The command (``analyse rapport``, ``rapports``, ``mensuel``) cuts a département's slice of
a situation (``situation.Situation.departement``) and ``save``s it into a folder; the
batch worker reads it back to write the analyst exports (``report.write_analyst_exports``);
the report notebook's kernel ``load``s it and shows it. Nothing else passes between them.

The folder (``data_dir_for``: ``data/processed/departements/<dep>/`` by default,
``<sortie>/.donnees/…`` for a run with ``--sortie``) holds:

- one Parquet file per table of ``Prepared`` (``TABLES``), plus ``propositions.parquet``
  when a placement scenario was asked for;
- ``contexte.json``: ``{"version_bundle": …, "context": …, "counts": …}``; the
  version is the bundle's format (``BUNDLE_VERSION``, checked by ``load``); the context
  (``Context``, a dataclass whose fields are the JSON's keys) names the département, its
  month, the editions and checksums of every input, and the provenance of the bundle
  (``provenance``: when, which version, which commit).

``save`` writes the folder whole or not at all; ``load`` refuses a folder holding
another département's data, a context of other keys, or tables that do not match the
column registry (``check_tables``: pandera schemas generated from ``analyse.schema``,
checked at save and at load).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import pandas as pd
import shapely

from analyse import __version__, config, schema
from analyse.atomic import (
    naming,
    remove_dead_staging,
    remove_empty_parents,
    replace_dir,
    restore_dir,
    staging_dir,
)
from analyse.errors import UserError
from analyse.read.selections import clean_departement
from analyse.territory.places import REJECTED_COLUMNS

# Format of the bundle (its tables and the fields of its context): a reader refuses a bundle
# of another format rather than misread it. Raise it when either changes.
BUNDLE_VERSION = 2


@dataclass
class Context:
    """What a report says about its data: the ``context`` of ``contexte.json``, typed.

    Filled by ``situation.Situation.departement`` (and ``scenario.add_scenario`` for
    ``scenario``); its fields are the JSON's keys, checked at ``load``. Templates and the
    notebook read it like the dictionary it is saved as (``context["nom"]``,
    ``context.get("scenario")``).
    """

    VERSION: ClassVar[int] = BUNDLE_VERSION

    # The département and the month shown (``situation.Situation.departement``).
    departement: str  # INSEE code: 05, 2A, 974
    nom: str
    nom_avec_charniere: str  # « des Hautes-Alpes »
    collectivite_departementale: str  # with its article
    crs: int  # EPSG code of its maps and areas
    mois: str | None  # YYYY-MM of a monthly report, None for the current situation
    situation: dict  # the date described (``situation.when``)
    epci_nouvellement_couverts: list
    # The data used: editions and files, checksums of the optional inputs.
    edition_reference: str
    fichiers_selection: list
    editions_liste_nationale: list
    editions: list[str]  # the « Données utilisées » line
    fichiers_complementaires: list[dict]  # file, sha256, what it is
    # Provenance of the bundle (``provenance``).
    genere_le: str
    version: str
    commit: str
    # Funding and the posts counted elsewhere.
    financement: dict
    venus_d_ailleurs: Any
    drapeaux_repris: int
    # The optional inputs used.
    ifn_fourni: bool
    lieux_source: str  # "fichier" or "mairies"
    lieux_selection: dict
    lieux_dates: dict | None
    lieux_rejetes: dict
    population_au_dela: Any
    # Targets and the gaps' score.
    cible_nationale: float | None
    cible_nationale_calcul: str
    cible_nationale_mois: str | None
    cible_departementale: float | None
    cible_departementale_calcul: str
    cible_choisie: float | None
    formule_priorite: str
    # Priority territories and comparable EPCI (``situation.Situation.compute``).
    territoires_prioritaires: dict
    comparables_definition: Any
    comparables_disponibles: bool
    # The placement scenario's summary, when one was asked for.
    scenario: dict | None = None

    @classmethod
    def from_dict(cls, values: dict, where: object = "") -> Context:
        """The context saved as ``values``; a missing or unknown key is a bundle of
        another format."""
        names = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
        unknown, missing = set(values) - names, required - set(values)
        if unknown or missing:
            raise UserError(
                f"Les données de {where} n'ont pas le contexte attendu (format "
                f"{cls.VERSION} ; clés inconnues : {', '.join(sorted(unknown)) or 'aucune'} ; "
                f"manquantes : {', '.join(sorted(missing)) or 'aucune'}) : préparez-les à nouveau."
            )
        return cls(**values)

    def to_dict(self) -> dict:
        """The JSON of ``contexte.json`` (every value is already JSON)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    # Read (and completed) like the dictionary it is saved as.
    def __getitem__(self, key: str) -> Any:
        if key not in self:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self:
            raise KeyError(key)
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self else default


@dataclass
class Prepared:
    """Everything the report of one département shows.

    Its tables, and the context that names it (``departement``, ``nom``, ``crs`` are read
    from there: the context is what ``contexte.json`` keeps).
    """

    indicators: gpd.GeoDataFrame  # one row per EPCI, geometry in EPSG:4326
    communes: gpd.GeoDataFrame  # current communes of the département
    # Rows counted for the département, plus rows counted elsewhere but located in one
    # of its EPCI (flag ``compte_pour_departement``), with their match results.
    selections: pd.DataFrame
    review: pd.DataFrame
    hosts: gpd.GeoDataFrame  # town halls of communes where a located structure sits
    counts: dict
    changes: pd.DataFrame  # rows of this month's committees (monthly reports only)
    gaps: pd.DataFrame  # one row per EPCI, most urgent first
    places: gpd.GeoDataFrame  # places of mediation in or near the département
    unmatched_ifn: pd.DataFrame  # IFN codes without a territory, and the reverse
    anomalies: pd.DataFrame  # rows rejected in tolerant mode that may concern it
    context: Context  # what the report says about its data
    # Places of the --lieux file set aside (impossible coordinates) that may concern it:
    # those whose postal code is in the département, then those of unknown département.
    places_rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[*REJECTED_COLUMNS, "departement"])
    )
    # Posts proposed by the placement scenario, in order (``analyse.analysis.scenario``); None
    # when no scenario was asked for.
    propositions: gpd.GeoDataFrame | None = None
    # Posts and density of each EPCI at the end of each month (``analyse.analysis.trajectory``).
    trajectory: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["siren_epci", "nom_epci", "mois", "postes", "conseillers_pour_10000_hab"]
        )
    )

    def __post_init__(self) -> None:
        if isinstance(self.context, dict):
            self.context = Context.from_dict(self.context)

    @property
    def departement(self) -> str:
        """INSEE code of the département (05, 2A, 974)."""
        return self.context["departement"]

    @property
    def nom(self) -> str:
        return self.context["nom"]

    @property
    def crs(self) -> int:
        """EPSG code of the metric CRS of its maps and areas."""
        return self.context["crs"]

    @property
    def outline(self) -> gpd.GeoSeries:
        """Outline of the département, dissolved from its communes."""
        return gpd.GeoSeries(
            [shapely.union_all(self.communes.geometry.to_numpy())], crs=self.communes.crs
        )

    @property
    def gaps_geo(self) -> gpd.GeoDataFrame:
        """The gaps table with the EPCI geometry: every indicator of an EPCI in one layer."""
        geometry = self.indicators.set_index("siren_epci").geometry
        return gpd.GeoDataFrame(
            self.gaps.drop(columns="geometry", errors="ignore"),
            geometry=self.gaps["siren_epci"].map(geometry).to_numpy(),
            crs=self.indicators.crs,
        )

    @property
    def counted(self) -> pd.DataFrame:
        """Rows counted for the département (as the ANCT counts them)."""
        return self.selections.loc[self.selections["compte_pour_departement"]]


def provenance() -> dict:
    """Where a bundle comes from, for its context: when it was prepared, by which version
    and commit of the project."""
    return {
        "genere_le": datetime.now().astimezone().isoformat(timespec="seconds"),
        "version": __version__,
        "commit": _commit(),
    }


@functools.cache
def _commit() -> str:
    """Commit of the project that produced the report ('inconnu' outside a checkout);
    '+modifié' when the working tree has uncommitted changes."""
    import subprocess

    try:
        run = functools.partial(
            subprocess.run, cwd=config.PROJECT_ROOT, capture_output=True, text=True, timeout=5
        )
        head = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
        dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "inconnu"
    return (head or "inconnu") + (" +modifié" if head and dirty else "")


TABLES = {
    "indicators": "indicateurs_epci.parquet",
    "communes": "communes.parquet",
    "selections": "selections.parquet",
    "review": "revue.parquet",
    "hosts": "structures.parquet",
    "changes": "nouveautes.parquet",
    "gaps": "lacunes.parquet",
    "places": "lieux.parquet",
    "unmatched_ifn": "ifn_non_apparies.parquet",
    "anomalies": "anomalies.parquet",
    "places_rejected": "lieux_rejetes.parquet",
    "trajectory": "trajectoire.parquet",
}


# Columns every bundle has in these tables; any other column of the registry they hold is
# checked for its kind all the same (a number is a number).
_REQUIRED = {
    "indicators": schema.names(schema.INDICATOR_COLUMNS + schema.EPCI_COLUMNS),
    "gaps": [
        *schema.names(schema.INDICATOR_COLUMNS + schema.EPCI_COLUMNS),
        "score_priorite",
        "rang_priorite",
    ],
    "trajectory": schema.names(schema.TRAJECTORY_COLUMNS),
}
# One row per EPCI: its SIREN once, nine digits.
_ONE_ROW_PER_EPCI = ("indicators", "gaps")
_NUMBER_FORMATS = {schema.INTEGER, schema.DECIMAL, schema.ONE_DECIMAL, schema.PERCENT, schema.COUNT}


def _is_number(column: schema.Column) -> bool:
    """Whether the registry says the column holds numbers (rounded, formatted as one)."""
    return (
        column.shown is not None
        or column.decimals is not None
        or column.number_format in _NUMBER_FORMATS
    )


@functools.cache
def table_schemas() -> dict:
    """The pandera schema of each table of ``Prepared`` (and of the proposals), generated
    from the column registry (``analyse.schema``): required columns, numbers stored as
    numbers, one row per EPCI where there should be."""
    import pandera.pandas as pa

    numeric = pa.Check(
        lambda s: pd.api.types.is_numeric_dtype(s) or bool(s.isna().all()),
        name="nombres",
        error="des nombres sont attendus",
    )
    siren = pa.Check.str_matches(r"^\d{9}$", error="SIREN à 9 chiffres attendu")
    schemas = {}
    for attribute in [*TABLES, "propositions"]:
        required = set(_REQUIRED.get(attribute, []))
        columns = {}
        for column in schema.ALL.values():
            checks = [numeric] if _is_number(column) else []
            if column.name == "siren_epci" and attribute in _ONE_ROW_PER_EPCI:
                checks.append(siren)
            columns[column.name] = pa.Column(
                checks=checks,
                nullable=True,
                required=column.name in required,
                unique=column.name == "siren_epci" and attribute in _ONE_ROW_PER_EPCI,
                coerce=False,
            )
        schemas[attribute] = pa.DataFrameSchema(columns, strict=False, name=attribute)
    return schemas


class BundleTableError(UserError):
    """A table of a bundle does not match the column registry (message in French)."""


def check_tables(prepared: Prepared, where: object = "") -> None:
    """Check each table of ``prepared`` against ``table_schemas`` (the first problem
    found: a missing column, text where numbers belong, an EPCI twice)."""
    import pandera.errors

    for attribute, table_schema in table_schemas().items():
        table = getattr(prepared, attribute)
        if table is None:
            continue
        try:
            table_schema.validate(table, lazy=False)
        except pandera.errors.SchemaError as error:
            problem = str(error).splitlines()[0]
            raise BundleTableError(
                f"Table « {attribute} » des données préparées {where}non conforme au "
                f"registre des colonnes : {problem}. Préparez-les à nouveau (« analyse "
                f"rapport --departement {prepared.departement} »)."
            ) from error


# Written only when a scenario was asked for.
PROPOSALS_FILE = "propositions.parquet"
# The context and the reconciliation counts.
CONTEXT_FILE = "contexte.json"


def save(prepared: Prepared, folder: Path | None = None, keep_previous: bool = False) -> Path:
    """Write the prepared bundle: built whole in a folder beside ``folder``, then swapped
    in, so that a reader never sees new tables next to an old manifest.

    With ``keep_previous``, the bundle it replaces is kept aside until ``settle`` says
    whether the report written from the new one is in place (the bundle and the report
    change together, or not at all)."""
    folder = Path(folder or config.prepared_dir(prepared.departement))
    check_tables(prepared)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # A run killed while writing leaves its staging folder behind: the next one clears it.
    prefix = f".{folder.name}.en-cours-"
    remove_dead_staging(folder.parent, prefix)
    build = staging_dir(folder.parent, prefix)
    try:
        for attribute, name in TABLES.items():
            with naming(build / name):
                getattr(prepared, attribute).to_parquet(build / name, index=False)
        if prepared.propositions is not None:
            with naming(build / PROPOSALS_FILE):
                prepared.propositions.to_parquet(build / PROPOSALS_FILE, index=False)
        meta = {
            "version_bundle": BUNDLE_VERSION,
            "context": prepared.context.to_dict(),
            "counts": prepared.counts,
            # The tables as checked just above: ``load`` checks again only what differs.
            CHECKED_KEY: {p.name: _digest(p.read_bytes()) for p in build.glob("*.parquet")},
        }
        with naming(build / CONTEXT_FILE):
            (build / CONTEXT_FILE).write_text(
                json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        if keep_previous:
            _first(folder).unlink(missing_ok=True)
            if not folder.exists():  # a first bundle: ``settle`` removes it on failure
                _first(folder).touch()
        replace_dir(folder, build, keep=_previous(folder) if keep_previous else None)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        _first(folder).unlink(missing_ok=True)
        if not folder.exists():  # a first run that failed: no empty .donnees/ left behind
            remove_empty_parents(folder, config.PREPARED_SUBDIR)
        raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return folder


def _previous(folder: Path) -> Path:
    """Where ``save(keep_previous=True)`` keeps the bundle it replaced."""
    return Path(folder).with_name(f".{Path(folder).name}.precedent")


def _first(folder: Path) -> Path:
    """The mark ``save(keep_previous=True)`` leaves when there was no bundle before."""
    return Path(folder).with_name(f".{Path(folder).name}.premier")


def settle(folder: Path, report_written: bool) -> None:
    """After the report of a bundle saved with ``keep_previous``: keep the new bundle if
    its report is in place, else put the previous one back (or, on a first run, remove
    the new one and the folders emptied by that), so that the prepared data always
    match the report beside them. A bundle saved otherwise is left as it is."""
    previous, first = _previous(folder), _first(folder)
    if not previous.exists() and not first.exists():
        return
    first.unlink(missing_ok=True)
    if report_written:
        shutil.rmtree(previous, ignore_errors=True)
    else:
        restore_dir(folder, previous, config.PREPARED_SUBDIR)


def data_dir_for(departement: str, reports_dir: Path | None, month: str | None = None) -> Path:
    """Where a run writing reports to ``reports_dir`` prepares the data of a département.

    The default run uses ``data/processed/departements/<dep>`` (the notebook's default
    in JupyterLab) or ``data/processed/mensuel/<month>/<dep>``; a run with ``--sortie``
    keeps its prepared data inside its own output folder (``.donnees/``), so that two
    runs at the same time never feed each other's notebooks and nothing is left behind
    in the project when that folder is removed.
    """
    default = reports_dir is None or Path(reports_dir).resolve() == config.REPORTS_DIR.resolve()
    base = config.PROCESSED_DIR if default else Path(reports_dir) / config.PREPARED_SUBDIR
    if month:
        return base / "mensuel" / month / departement
    return base / "departements" / departement


def notebook_departement(value: object) -> str:
    """The notebook's ``departement`` parameter as an INSEE code.

    Papermill's command line turns ``-p departement 05`` into the integer 5 and keeps
    ``2a`` in lower case: both are what an analyst types, so both are accepted.
    """
    code = clean_departement(str(value))
    if code is None:
        raise UserError(f"Paramètre « departement » invalide : {value!r} (attendu : 05, 2A, 974…)")
    return code


def load(departement: object, folder: Path | None = None) -> Prepared:
    """Read a bundle written by ``save``, checking it is the requested département's."""
    departement = notebook_departement(departement)
    folder = Path(folder or config.prepared_dir(departement))
    meta_path = folder / CONTEXT_FILE
    if not meta_path.exists():
        raise FileNotFoundError(
            f"Données préparées introuvables pour le département {departement} ({folder}). "
            f"Lancez d'abord : analyse rapport --departement {departement}"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("version_bundle") != BUNDLE_VERSION:
        raise UserError(
            f"Les données de {folder} ont été préparées par une autre version de l'outil "
            f"(format {meta.get('version_bundle', 'sans numéro')}, attendu {BUNDLE_VERSION}) : "
            f"relancez « analyse rapport --departement {departement} »."
        )
    context = Context.from_dict(meta["context"], folder)
    if context.departement != departement:
        raise UserError(
            f"Les données de {folder} sont celles du département {context['departement']}, "
            f"pas du {departement} demandé : lancez « analyse rapport --departement "
            f"{departement} » ou corrigez le paramètre « dossier_donnees »."
        )
    geo = {"indicators", "communes", "hosts", "places"}
    contents = {name: (folder / name).read_bytes() for name in TABLES.values()}
    tables = {
        attribute: (_read_geo if attribute in geo else _read)(contents[name])
        for attribute, name in TABLES.items()
    }
    proposals = folder / PROPOSALS_FILE
    if proposals.exists():
        contents[PROPOSALS_FILE] = proposals.read_bytes()
    prepared = Prepared(
        counts=meta["counts"],
        context=context,
        propositions=_read_geo(contents[PROPOSALS_FILE]) if proposals.exists() else None,
        **tables,
    )
    # Tables byte for byte as ``save`` checked them are not checked twice; any other (a
    # table changed by hand, a bundle of an older run) is.
    checked = meta.get(CHECKED_KEY) or {}
    if any(checked.get(name) != _digest(data) for name, data in contents.items()):
        check_tables(prepared, f"de {folder} ")
    return prepared


# Key of the context file: the digest of each table as checked when it was saved.
CHECKED_KEY = "tables_verifiees"


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _read(data: bytes) -> pd.DataFrame:
    import io

    return pd.read_parquet(io.BytesIO(data))


@functools.lru_cache(maxsize=32)
def _crs(projjson: str):
    """A CRS from its PROJJSON, parsed once: pyproj takes ≈ 50 ms each time, and every
    geographic table of every bundle carries the same two or three."""
    from pyproj import CRS

    return CRS.from_json(projjson)


def _read_geo(data: bytes) -> gpd.GeoDataFrame:
    """``geopandas.read_parquet`` of a table written by ``save`` (GeoParquet, WKB
    geometries), each CRS parsed once per process (``_crs``)."""
    import io

    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    geo = json.loads(table.schema.metadata[b"geo"])
    frame = table.to_pandas()
    crs = {}
    for column, about in geo["columns"].items():
        if about.get("encoding", "WKB").upper() != "WKB":
            return gpd.read_parquet(io.BytesIO(data))
        crs[column] = _crs(json.dumps(about["crs"])) if about.get("crs") else None
        frame[column] = gpd.GeoSeries.from_wkb(frame[column], crs=crs[column], index=frame.index)
    primary = geo["primary_column"]
    return gpd.GeoDataFrame(frame, geometry=primary, crs=crs[primary])


def scenario_posts(folder: Path) -> int:
    """Posts of the placement scenario saved in ``folder`` (0: none asked for, or no
    bundle there: the notebook then says that the prepared data are missing)."""
    path = Path(folder) / CONTEXT_FILE
    if not path.exists():
        return 0
    meta = json.loads(path.read_text(encoding="utf-8"))
    return int((meta["context"].get("scenario") or {}).get("postes", 0))


def situation_day(situation: dict | None) -> str:
    """The date a report describes (context ``situation``) as AAAA-MM-JJ: the national
    list's edition, else the last day of the month; '' when unknown."""
    if not situation or not situation.get("mois"):
        return ""
    if situation.get("date"):
        return str(situation["date"])
    return pd.Period(situation["mois"], freq="M").end_time.strftime("%Y-%m-%d")
