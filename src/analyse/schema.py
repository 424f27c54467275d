"""Declaration of exported columns: name, French label, GeoPackage field, format.

One entry per column, read by every exporter (CSV rounding, workbook headers and
number formats, GeoPackage field names, report and index labels), so that a column is
described once. Only the columns added for priority territories, trajectories and
comparisons are declared here so far; ``exports.HEADERS``, ``exports.EPCI_FIELDS`` and
``exports.NUMBER_FORMATS`` take them from ``headers()``, ``gpkg_fields()`` and
``number_formats()``, so the older dicts can be folded in column by column.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyse import config
from analyse.wording import fmt_number

INTEGER = "#,##0"
DECIMAL = "#,##0.00"
PERCENT = "0.0 %"


@dataclass(frozen=True)
class Column:
    """One exported column."""

    name: str  # in our tables, the CSV and the XLSX source
    label: str  # French header (workbook, report, index)
    field: str  # GeoPackage field: ASCII lowercase, at most 30 characters
    number_format: str | None = None  # Excel format (None: text)
    decimals: int | None = None  # rounding in the CSV (None: as is)


# The three flags of the national COSELEC list, as (key, French label).
FLAGS = {
    "qpv": "en quartier prioritaire (QPV)",
    "zrr": "en zone de revitalisation rurale (ZRR)",
    "france_services": "labellisées France Services",
}
_FLAG_SHORT = {"qpv": "QPV", "zrr": "ZRR", "france_services": "France Services"}
_FLAG_FIELD = {"qpv": "qpv", "zrr": "zrr", "france_services": "fs"}


def _flag_columns() -> list[Column]:
    columns = []
    for flag, short in _FLAG_SHORT.items():
        field = _FLAG_FIELD[flag]
        columns += [
            Column(f"postes_{flag}", f"Postes {short}", f"postes_{field}", INTEGER),
            Column(
                f"postes_{flag}_non_documente",
                f"Postes {short} : non documenté",
                f"postes_{field}_nd",
                INTEGER,
            ),
            Column(f"structures_{flag}", f"Structures {short}", f"structures_{field}", INTEGER),
            Column(
                f"structures_{flag}_non_documente",
                f"Structures {short} : non documenté",
                f"structures_{field}_nd",
                INTEGER,
            ),
        ]
    return columns


_BASE = fmt_number(config.DENSITY_BASE)

# Columns added to the per-EPCI indicators (CSV, sheet « Indicateurs », layer ``epci``).
EPCI_COLUMNS: list[Column] = [
    Column("structures", "Structures", "structures", INTEGER),
    *_flag_columns(),
    Column("premier_mois_conseiller", "Premier mois avec un conseiller", "premier_mois"),
    Column("classe_densite", "Classe de densité de population", "classe_densite"),
    Column(
        "densite_mediane_meme_type",
        f"Médiane des EPCI du même type (conseillers pour {_BASE} hab.)",
        "med_meme_type",
        DECIMAL,
        3,
    ),
    Column(
        "densite_mediane_comparables",
        f"Médiane des EPCI comparables (conseillers pour {_BASE} hab.)",
        "med_comparables",
        DECIMAL,
        3,
    ),
    Column(
        "ecart_comparables",
        f"Écart à la médiane des comparables (conseillers pour {_BASE} hab.)",
        "ecart_comparables",
        DECIMAL,
        3,
    ),
]

# Columns of the monthly trajectory (sheet « Trajectoire »).
TRAJECTORY_COLUMNS: list[Column] = [
    Column("siren_epci", "SIREN", "siren"),
    Column("nom_epci", "Intercommunalité", "nom"),
    Column("mois", "Mois (fin de)", "mois"),
    Column("postes", "Postes", "postes", INTEGER),
    Column(
        "conseillers_pour_10000_hab",
        f"Conseillers pour {_BASE} hab.",
        "densite_10000_hab",
        DECIMAL,
        3,
    ),
]

ALL: dict[str, Column] = {c.name: c for c in EPCI_COLUMNS + TRAJECTORY_COLUMNS}


def epci_names() -> list[str]:
    return [c.name for c in EPCI_COLUMNS]


def headers() -> dict[str, str]:
    """Column name → French header, for the workbook."""
    return {c.name: c.label for c in ALL.values()}


def gpkg_fields() -> dict[str, str]:
    """Column name → GeoPackage field, for the ``epci`` layer."""
    return {c.name: c.field for c in EPCI_COLUMNS}


def number_formats() -> dict[str, str]:
    return {c.name: c.number_format for c in ALL.values() if c.number_format}


def csv_decimals() -> dict[str, int]:
    return {c.name: c.decimals for c in EPCI_COLUMNS if c.decimals is not None}


# Columns of the monthly index of départements (``national.index_html``), in page order.
# The index shows each flag as a share of the département's posts; the last column is
# the sparkline of its density, its header followed by the months it covers.
INDEX_COLUMNS: list[Column] = [
    Column("code", "Code", "code"),
    Column("nom", "Département", "nom"),
    Column("postes", "Postes", "postes", INTEGER),
    Column("population", "Population", "population", INTEGER),
    Column(
        "conseillers_pour_10000_hab",
        f"Conseillers pour {fmt_number(config.DENSITY_BASE)} hab.",
        "densite_10000_hab",
        DECIMAL,
    ),
    Column("variation", "Évolution sur le mois", "variation", INTEGER),
    # « postes » stays out of these headers, which must not be taken for « Postes ».
    Column("part_qpv", "En QPV", "part_qpv", PERCENT),
    Column("part_zrr", "En ZRR", "part_zrr", PERCENT),
    Column("part_france_services", "France Services", "part_fs", PERCENT),
    Column("trajectoire", "Densité", "trajectoire"),
]
