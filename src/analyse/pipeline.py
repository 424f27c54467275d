"""The data path of one département: raw → clean → matched → indicators → prepared files.

``prepare`` runs the stages in order and returns a ``Prepared`` bundle; ``save`` writes
it to ``data/processed/departements/<dep>/`` and ``load`` reads it back. The report
notebook only ever calls ``load``: it never reads raw or national files itself.
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
from analyse.indicators import epci_indicators, reconciliation, to_csv_frame
from analyse.matching import LOCATED, Matcher, read_aliases, review_table
from analyse.reference import Reference, load_reference
from analyse.selections import list_selection_files, read_selections


class UnknownDepartementError(ValueError):
    """A département code absent from the reference (message in French)."""


@dataclass
class Prepared:
    """Everything the report of one département shows."""

    departement: str
    nom: str
    crs: int
    indicators: gpd.GeoDataFrame  # one row per EPCI, geometry in EPSG:4326
    communes: gpd.GeoDataFrame  # current communes of the département
    selections: pd.DataFrame  # rows counted for the département, with match results
    review: pd.DataFrame
    counts: dict
    context: dict = field(default_factory=dict)

    @property
    def outline(self) -> gpd.GeoSeries:
        """Outline of the département, dissolved from its communes."""
        return gpd.GeoSeries(
            [shapely.union_all(self.communes.geometry.to_numpy())], crs=self.communes.crs
        )

    @property
    def hosts(self) -> gpd.GeoDataFrame:
        """Communes where a located structure sits (town-hall points), with their posts."""
        located = self.selections.loc[
            (self.selections["statut"] == LOCATED) & self.selections["insee_commune"].notna()
        ]
        posts = located.groupby("insee_commune")["postes"].sum()
        hosts = self.communes.loc[self.communes["insee"].isin(posts.index)].copy()
        hosts["postes"] = hosts["insee"].map(posts)
        points = gpd.points_from_xy(hosts["mairie_lon"], hosts["mairie_lat"])
        # Communes without a known town hall get a point inside their area.
        fallback = hosts.geometry.representative_point()
        geometry = [
            p if not p.is_empty and p.is_valid and p.x == p.x else f
            for p, f in zip(points, fallback, strict=True)
        ]
        return gpd.GeoDataFrame(
            hosts.drop(columns="geometry"), geometry=geometry, crs=config.GEOGRAPHIC_CRS
        )


def check_departement(reference: Reference, departement: str) -> str:
    """Normalise a département code ('5' → '05', '2a' → '2A') or raise a French error."""
    code = departement.strip().upper()
    if code.isdigit() and len(code) == 1:
        code = code.zfill(2)
    known = list(reference.departements["code"])
    if code not in known:
        raise UnknownDepartementError(
            f"Le code département « {departement} » n'existe pas dans le référentiel "
            f"({reference.edition}). Codes valides : {', '.join(known)}."
        )
    return code


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def prepare(
    departement: str,
    selection_paths: Iterable[Path] | None = None,
    reference: Reference | None = None,
    aliases: pd.DataFrame | None = None,
) -> Prepared:
    """Run every stage for one département and return what its report needs."""
    reference = reference or load_reference()
    departement = check_departement(reference, departement)
    paths = list(selection_paths or [config.SELECTIONS_DIR])
    files = list_selection_files(paths)
    selections = read_selections(paths)
    matched = Matcher(reference, aliases if aliases is not None else read_aliases()).match(
        selections
    )

    communes = reference.communes.loc[
        (reference.communes["type"] == "COM") & (reference.communes["departement"] == departement)
    ].reset_index(drop=True)
    indicators = epci_indicators(reference.epci, reference.communes, matched, departement)
    counts = reconciliation(matched, departement, list(indicators["siren_epci"]))
    ours = matched.loc[matched["departement"] == departement].reset_index(drop=True)
    context = {
        "departement": departement,
        "nom": reference.departement_name(departement),
        "nom_avec_charniere": reference.departement_of_name(departement),
        "crs": config.metric_crs(departement),
        "edition_reference": reference.edition,
        "fichiers_selection": [{"fichier": _relative(f), "sha256": _sha256(f)} for f in files],
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
        review=review_table(ours),
        counts=counts,
        context=context,
    )


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(config.PROJECT_ROOT.resolve()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------- storage

_FILES = {
    "indicators": "indicateurs_epci.parquet",
    "communes": "communes.parquet",
    "selections": "selections.parquet",
    "review": "revue.parquet",
}


def save(prepared: Prepared, folder: Path | None = None) -> Path:
    """Write the prepared bundle (each file atomically); returns the folder."""
    folder = Path(folder or config.prepared_dir(prepared.departement))
    folder.mkdir(parents=True, exist_ok=True)
    for attribute, name in _FILES.items():
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
    return Prepared(
        departement=context["departement"],
        nom=context["nom"],
        crs=context["crs"],
        indicators=gpd.read_parquet(folder / _FILES["indicators"]),
        communes=gpd.read_parquet(folder / _FILES["communes"]),
        selections=pd.read_parquet(folder / _FILES["selections"]),
        review=pd.read_parquet(folder / _FILES["review"]),
        counts=meta["counts"],
        context=context,
    )


def write_indicators_csv(prepared: Prepared, target: Path) -> None:
    """``indicateurs_epci.csv``: UTF-8, ``,`` separator, ``.`` decimals."""
    with atomic_path(target) as tmp:
        to_csv_frame(prepared.indicators).to_csv(tmp, index=False, encoding="utf-8")
