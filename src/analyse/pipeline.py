"""The data path: raw → clean → matched (once) → per département → prepared files.

``match_selections`` reads and matches every selection file once (the national list
included); ``prepare`` derives what one département's report shows from that table;
``save`` writes it to ``data/processed/departements/<dep>/`` and ``load`` reads it back.
The report notebook only ever calls ``load``: it never reads raw or national files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from analyse import __version__, config
from analyse.atomic import atomic_path, write_text
from analyse.errors import UserError
from analyse.indicators import (
    epci_indicators,
    posts_per_epci,
    reconciliation,
    to_csv_frame,
)
from analyse.matching import LOCATED, Matcher, read_aliases, review_table
from analyse.reference import Reference, load_reference
from analyse.selections import list_selection_files, read_selections


class UnknownDepartementError(UserError):
    """A département code absent from the reference (message in French)."""


@dataclass
class MatchedSelections:
    """Every selection row, matched, and the files it came from (with checksums)."""

    table: pd.DataFrame
    files: list[dict]

    def until(self, month: str | None) -> MatchedSelections:
        """The situation at the end of ``month`` (YYYY-MM): committees up to it."""
        if month is None:
            return self
        return MatchedSelections(self.table.loc[self.table["mois_comite"] <= month], self.files)

    @property
    def months(self) -> list[str]:
        return sorted(self.table["mois_comite"].unique())


@dataclass
class Prepared:
    """Everything the report of one département shows."""

    departement: str
    nom: str
    crs: int
    indicators: gpd.GeoDataFrame  # one row per EPCI, geometry in EPSG:4326
    communes: gpd.GeoDataFrame  # current communes of the département
    # Rows counted for the département, plus rows counted elsewhere but located in one
    # of its EPCI (flag ``compte_pour_departement``), with their match results.
    selections: pd.DataFrame
    review: pd.DataFrame
    hosts: gpd.GeoDataFrame  # town halls of communes where a located structure sits
    counts: dict
    changes: pd.DataFrame  # rows of this month's committees (monthly reports only)
    context: dict = field(default_factory=dict)

    @property
    def outline(self) -> gpd.GeoSeries:
        """Outline of the département, dissolved from its communes."""
        return gpd.GeoSeries(
            [shapely.union_all(self.communes.geometry.to_numpy())], crs=self.communes.crs
        )

    @property
    def counted(self) -> pd.DataFrame:
        """Rows counted for the département (as the ANCT counts them)."""
        return self.selections.loc[self.selections["compte_pour_departement"]]


def check_departement(reference: Reference, departement: str) -> str:
    """Normalise a département code ('5' → '05', '2a' → '2A') or raise a French error."""
    code = str(departement).strip().upper()
    if code.isdigit() and len(code) == 1:
        code = code.zfill(2)
    known = list(reference.departements["code"])
    if code not in known:
        raise UnknownDepartementError(
            f"Le code département « {departement} » n'existe pas dans le référentiel "
            f"({reference.edition}). Codes valides : {', '.join(known)}."
        )
    return code


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(config.PROJECT_ROOT.resolve()))
    except ValueError:
        return str(path)


def match_selections(
    selection_paths: Iterable[Path] | None = None,
    reference: Reference | None = None,
    aliases: pd.DataFrame | None = None,
) -> MatchedSelections:
    """Read every selection file under ``selection_paths`` and match every row, once."""
    reference = reference or load_reference()
    paths = list(selection_paths or [config.SELECTIONS_DIR])
    files = [
        {"fichier": _relative(f), "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
        for f in list_selection_files(paths)
    ]
    aliases = aliases if aliases is not None else read_aliases()
    table = Matcher(reference, aliases).match(read_selections(paths))
    return MatchedSelections(table, files)


def prepare(
    departement: str,
    selections: MatchedSelections,
    reference: Reference,
    month: str | None = None,
) -> Prepared:
    """What the report of ``departement`` shows, at the end of ``month`` if given."""
    departement = check_departement(reference, departement)
    current = selections.until(month).table
    communes_all = reference.communes
    communes = communes_all.loc[
        (communes_all["type"] == "COM") & (communes_all["departement"] == departement)
    ].reset_index(drop=True)
    indicators = epci_indicators(reference.epci, communes_all, current, departement)
    sirens = list(indicators["siren_epci"])
    counts = reconciliation(current, departement, sirens)

    counted = current["departement"] == departement
    located_here = (current["statut"] == LOCATED) & current["siren_epci"].isin(sirens)
    ours = current.loc[counted | located_here].copy()
    ours["compte_pour_departement"] = ours["departement"] == departement
    ours["dans_un_epci_du_departement"] = ours["statut"].eq(LOCATED) & ours["siren_epci"].isin(
        sirens
    )
    ours = ours.reset_index(drop=True)

    changes = pd.DataFrame(columns=ours.columns)
    newly_covered: list[str] = []
    if month is not None:
        changes = ours.loc[ours["mois_comite"] == month].reset_index(drop=True)
        before = posts_per_epci(selections.until(_previous_month(month)).table)
        newly_covered = sorted(
            indicators.loc[
                (indicators["postes"] > 0) & (indicators["siren_epci"].map(before).fillna(0) == 0),
                "nom_epci",
            ]
        )

    context = {
        "departement": departement,
        "nom": reference.departement_name(departement),
        "nom_avec_charniere": reference.departement_of_name(departement),
        "crs": config.metric_crs(departement),
        "mois": month,
        "epci_nouvellement_couverts": newly_covered,
        "edition_reference": reference.edition,
        "fichiers_selection": selections.files,
        "genere_le": datetime.now().astimezone().isoformat(timespec="seconds"),
        "version": __version__,
        "financement_par_poste_eur": config.STATE_FUNDING_PER_POST_EUR,
    }
    return Prepared(
        departement=departement,
        nom=context["nom"],
        crs=context["crs"],
        indicators=indicators,
        communes=communes,
        selections=ours,
        review=review_table(ours.loc[ours["compte_pour_departement"]]),
        hosts=_hosts(ours.loc[ours["dans_un_epci_du_departement"]], communes_all),
        counts=counts,
        changes=changes,
        context=context,
    )


def _previous_month(month: str) -> str:
    return (pd.Period(month, freq="M") - 1).strftime("%Y-%m")


def _hosts(located: pd.DataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Town-hall points of the communes where located structures sit, with their posts."""
    posts = located.dropna(subset=["insee_commune"]).groupby("insee_commune")["postes"].sum()
    current = communes.loc[(communes["type"] == "COM") & communes["insee"].isin(posts.index)]
    rows = pd.DataFrame(current[["insee", "nom", "mairie_lon", "mairie_lat"]]).assign(
        postes=lambda f: f["insee"].map(posts)
    )
    known = rows["mairie_lon"].notna()
    # A commune without a known town hall gets a point sure to lie inside it.
    fallback = current.geometry.representative_point()
    geometry = [
        shapely.Point(x, y) if ok else point
        for x, y, ok, point in zip(
            rows["mairie_lon"], rows["mairie_lat"], known, fallback, strict=True
        )
    ]
    return gpd.GeoDataFrame(
        rows.drop(columns=["mairie_lon", "mairie_lat"]).reset_index(drop=True),
        geometry=geometry,
        crs=config.GEOGRAPHIC_CRS,
    )


def prepare_one(
    departement: str,
    selection_paths: Iterable[Path] | None = None,
    reference: Reference | None = None,
) -> Prepared:
    """Convenience for one département: match its selection files, then prepare."""
    reference = reference or load_reference()
    departement = check_departement(reference, departement)
    return prepare(departement, match_selections(selection_paths, reference), reference)


# ------------------------------------------------------------------------- storage

_TABLES = {
    "indicators": "indicateurs_epci.parquet",
    "communes": "communes.parquet",
    "selections": "selections.parquet",
    "review": "revue.parquet",
    "hosts": "structures.parquet",
    "changes": "nouveautes.parquet",
}


def save(prepared: Prepared, folder: Path | None = None) -> Path:
    """Write the prepared bundle (each file atomically, the manifest last)."""
    folder = Path(folder or config.prepared_dir(prepared.departement))
    folder.mkdir(parents=True, exist_ok=True)
    for attribute, name in _TABLES.items():
        with atomic_path(folder / name) as tmp:
            getattr(prepared, attribute).to_parquet(tmp, index=False)
    meta = {"context": prepared.context, "counts": prepared.counts}
    write_text(folder / "contexte.json", json.dumps(meta, ensure_ascii=False, indent=2))
    return folder


def load(departement: str, folder: Path | None = None) -> Prepared:
    """Read a bundle written by ``save``."""
    folder = Path(folder or config.prepared_dir(departement))
    meta_path = folder / "contexte.json"
    if not meta_path.exists():
        raise FileNotFoundError(
            f"Données préparées introuvables pour le département {departement} ({folder}). "
            f"Lancez d'abord : analyse rapport --departement {departement}"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    context = meta["context"]
    geo = {"indicators", "communes", "hosts"}
    tables = {
        attribute: (gpd.read_parquet if attribute in geo else pd.read_parquet)(folder / name)
        for attribute, name in _TABLES.items()
    }
    return Prepared(
        departement=context["departement"],
        nom=context["nom"],
        crs=context["crs"],
        counts=meta["counts"],
        context=context,
        **tables,
    )


def write_indicators_csv(indicators: gpd.GeoDataFrame, target: Path) -> None:
    """``indicateurs_epci.csv``: UTF-8, ``,`` separator, ``.`` decimals."""
    with atomic_path(target) as tmp:
        to_csv_frame(indicators).to_csv(tmp, index=False, encoding="utf-8")
