"""The one registry of columns: name, French label, GeoPackage field, formats.

Each column a reader or an analyst sees is declared once here, and read by every output:
the CSV (rounding), the workbook (headers, number formats), the GeoPackage (field names,
per layer), the interactive map (tooltip labels, decimals) and the report's tables
(headings, decimals shown). A layer or a report table that names a column differently
says so in a few renames, next to its list of columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from analyse import config
from analyse.wording import fmt_number

# Excel number formats. Excel and LibreOffice show them with the reader's separators,
# so "#,##0.00" reads "1 234,56" on a French system.
INTEGER = "#,##0"
DECIMAL = "#,##0.00"
ONE_DECIMAL = "#,##0.0"
PERCENT = "0.0 %"
COUNT = "0"  # a rank or a line number: no thousands separator

_BASE = fmt_number(config.DENSITY_BASE)
MONTH_PATTERN = r"\d{4}-\d{2}"  # AAAA-MM
DENSITY_LABEL = f"Conseillers pour {_BASE} hab."


@dataclass(frozen=True)
class Column:
    """One column of our tables, as every output names and formats it."""

    name: str  # in our tables, the CSV and the XLSX source
    label: str  # French header (workbook, interactive map)
    field: str = ""  # GeoPackage field, ASCII lowercase, ≤ 30 characters ("": the name)
    number_format: str | None = None  # Excel format (None: from the dtype)
    decimals: int | None = None  # rounding in the CSV (None: as is; 0: whole numbers)
    description: str = ""
    report_label: str = ""  # heading in the report's tables, when not ``label``
    shown: int | None = None  # decimals shown to a reader (report, map); None: text
    unit: str = ""  # unit of a quantity (data packages), in French
    table_type: str = ""  # Table Schema type when the values do not say it ("date")
    pattern: str = ""  # what its text values look like (data packages), a regex

    def __post_init__(self) -> None:
        if not self.field:
            object.__setattr__(self, "field", self.name)

    @property
    def heading(self) -> str:
        """The column's heading in the report's tables."""
        return self.report_label or self.label


# ------------------------------------------------------------------ indicators per EPCI

# reports/<dep>/indicateurs_epci.csv, in order (analyse.analysis.indicators.epci_indicators).
INDICATOR_COLUMNS: list[Column] = [
    Column("siren_epci", "SIREN", description="SIREN de l'intercommunalité"),
    Column("nom_epci", "Intercommunalité", description="nom de l'intercommunalité"),
    Column("type_epci", "Type", description="nature : CC, CA, CU, métropole, EPT"),
    Column("departements", "Départements", description="départements où elle a des communes"),
    Column("nb_communes", "Nombre de communes", shown=0, unit="communes"),
    Column(
        "population",
        "Population",
        description="population municipale",
        shown=0,
        unit="habitants",
    ),
    Column(
        "population_dans_departement",
        "Population dans le département",
        "population_dans_dep",
        description="clé de répartition des postes départementaux",
        report_label="Population dans le département (clé de répartition)",
        shown=0,
    ),
    Column(
        "postes",
        "Postes",
        number_format=INTEGER,
        description="postes localisés dans le territoire",
        shown=0,
        unit="postes",
    ),
    Column(
        "conseillers_pour_10000_hab",
        DENSITY_LABEL,
        "densite_10000_hab",
        DECIMAL,
        3,
        description="postes ÷ population × 10 000 (indicators.density)",
        shown=2,
        unit=f"conseillers pour {_BASE} habitants",
    ),
    Column(
        "habitants_par_conseiller",
        "Habitants par conseiller",
        "hab_par_conseiller",
        INTEGER,  # float only because of empty cells
        0,
        shown=0,
        unit="habitants",
    ),
    Column(
        "surface_km2",
        "Surface (km²)",
        number_format=ONE_DECIMAL,
        decimals=1,
        description="dans la projection métrique du département",
        shown=0,
        unit="km²",
    ),
    Column(
        "habitants_par_km2",
        "Habitants par km²",
        "hab_par_km2",
        ONE_DECIMAL,
        1,
        shown=0,
        unit="habitants par km²",
    ),
    Column(
        "financement_etat_eur",
        "Financement de l'État (€)",
        description=(
            "somme de l'« investissement financier estimatif total de l'État » des "
            "structures de la liste nationale ; vide si un poste n'a pas de montant connu"
        ),
        report_label="Financement de l'État",
        shown=0,
        unit="euros",
    ),
    Column(
        "postes_departementaux_repartis",
        "Part des postes départementaux",
        "postes_dep_repartis",
        decimals=3,
        description="postes départementaux répartis au prorata de la population",
        shown=2,
    ),
    Column(
        "postes_avec_departementaux_repartis",
        "Postes, part départementale incluse",
        "postes_avec_dep_repartis",
        decimals=3,
        shown=2,
    ),
    Column(
        "conseillers_pour_10000_hab_avec_departementaux_repartis",
        f"{DENSITY_LABEL} (variante)",
        "densite_10000_hab_variante",
        decimals=3,
        description="densité, part des postes départementaux incluse",
        shown=2,
    ),
]

# Gaps (analysis.gaps), fragility index (territory.fragility) and population far from
# places (analysis.distance): the same field name in every layer that carries them.
_IFN_PARTS = {
    "couverture_thd": "couverture THD",
    "couverture_4g": "couverture 4G",
    "pauvrete": "pauvreté",
    "plus_65_ans": "plus de 65 ans",
    "sans_diplome": "sans diplôme",
    "origine": "origine",
}
# Target → (its name in French, its GeoPackage abbreviation).
_TARGETS = {
    "nationale": ("nationale", "nat"),
    "departementale": ("départementale", "dep"),
    "choisie": ("choisie", "choisie"),
}
GAP_COLUMNS: list[Column] = [
    Column(
        "ifn",
        "Indice de fragilité numérique",
        description="IFN de La Mednum, de 1 à 10",
        report_label="Fragilité numérique (IFN, de 1 faible à 10 forte)",
        shown=1,
    ),
    *(Column(f"ifn_{key}", f"IFN : {words}") for key, words in _IFN_PARTS.items()),
    *(
        Column(
            f"postes_manquants_cible_{target}",
            f"Postes manquants (cible {words})",
            f"postes_manquants_{short}",
            description="postes à ajouter pour atteindre la cible (arrondi au-dessus)",
            # {} : the target's value, known only when the report is built.
            report_label=f"Postes manquants, cible {words} ({{}})",
            shown=0,
            unit="postes",
        )
        for target, (words, short) in _TARGETS.items()
    ),
    Column(
        "score_priorite",
        "Score de priorité",
        number_format="0.0",
        description="de 0 à 100 : déficit de densité, fragilité numérique, éloignement "
        "(analysis.gaps.SCORE_FORMULA)",
        shown=1,
        unit="points sur 100",
    ),
    Column("rang_priorite", "Rang de priorité", number_format=COUNT, report_label="Rang", shown=0),
    *(
        Column(
            config.beyond_column(km),
            f"Population à plus de {km} km d'un lieu",
            f"pop_au_dela_{km}km",
            description="à vol d'oiseau, depuis la mairie, jusqu'au lieu de médiation le "
            "plus proche",
            report_label=f"Habitants à plus de {km} km",
            shown=0,
            unit="habitants",
        )
        for km in config.DISTANCE_THRESHOLDS_KM
    ),
    Column(
        "population_sans_distance",
        "Population sans distance calculée",
        "pop_sans_distance",
        description="communes sans point de départ",
        unit="habitants",
    ),
]

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
        words = FLAGS[flag]
        columns += [
            Column(
                f"postes_{flag}",
                f"Postes {short}",
                f"postes_{field}",
                INTEGER,
                description=f"postes des structures {words} selon la liste nationale",
                unit="postes",
            ),
            Column(
                f"postes_{flag}_non_documente",
                f"Postes {short} : non documenté",
                f"postes_{field}_nd",
                INTEGER,
                description=f"postes des structures dont la liste ne dit pas si elles sont {words}",
                unit="postes",
            ),
            Column(
                f"structures_{flag}",
                f"Structures {short}",
                f"structures_{field}",
                INTEGER,
                description=f"structures {words} (SIRET, sinon nom et commune)",
                unit="structures",
            ),
            Column(
                f"structures_{flag}_non_documente",
                f"Structures {short} : non documenté",
                f"structures_{field}_nd",
                INTEGER,
                description=f"structures dont la liste ne dit pas si elles sont {words}",
                unit="structures",
            ),
        ]
    return columns


# Columns added to the per-EPCI indicators (CSV, sheet « Indicateurs », layer ``epci``):
# priority territories, trajectory, comparisons.
EPCI_COLUMNS: list[Column] = [
    Column(
        "structures",
        "Structures",
        "structures",
        INTEGER,
        description="structures dont les postes sont localisés ici (SIRET, sinon nom et commune)",
        unit="structures",
    ),
    *_flag_columns(),
    Column(
        "premier_mois_conseiller",
        "Premier mois avec un conseiller",
        "premier_mois",
        description="AAAA-MM ; vide si aucun poste à la date",
        pattern=MONTH_PATTERN,
    ),
    Column(
        "classe_densite",
        "Classe de densité de population",
        "classe_densite",
        description="habitants par km² de toute l'intercommunalité (comparison.density_class)",
    ),
    Column(
        "densite_mediane_meme_type",
        f"Médiane des EPCI du même type (conseillers pour {_BASE} hab.)",
        "med_meme_type",
        DECIMAL,
        3,
        description="dans toute la France, à la même date",
        shown=2,
        unit=f"conseillers pour {_BASE} habitants",
    ),
    Column(
        "densite_mediane_comparables",
        f"Médiane des EPCI comparables (conseillers pour {_BASE} hab.)",
        "med_comparables",
        DECIMAL,
        3,
        description="même nature et même classe de densité, dans toute la France, à la même date",
        shown=2,
        unit=f"conseillers pour {_BASE} habitants",
    ),
    Column(
        "ecart_comparables",
        f"Écart à la médiane des comparables (conseillers pour {_BASE} hab.)",
        "ecart_comparables",
        DECIMAL,
        3,
        description="densité moins la médiane des comparables",
        shown=2,
        unit=f"conseillers pour {_BASE} habitants",
    ),
]

# Indicators of every EPCI computed from the other figures of its situation: each one is
# a function of ``analysis.indicators`` registered under its name (``@epci_indicator``)
# and its column here. Nothing else: the situation computes it for the whole country,
# and it reaches the report's CSV, workbook and GeoPackage (with ``EPCI_COLUMNS``), the
# panel and the fiches' data (docs/architecture.md, « Ajouter un indicateur »).
DERIVED_EPCI_COLUMNS: list[Column] = [
    # (none yet)
]
EPCI_COLUMNS += DERIVED_EPCI_COLUMNS

# ------------------------------------------------------------- communes, places, scenario

# Communes of the reference (analyse.territory.reference.COMMUNE_COLUMNS), with the nearest place
# (analyse.analysis.distance.nearest_place).
COMMUNE_COLUMNS: list[Column] = [
    Column("insee", "Code INSEE"),
    Column("nom", "Nom", report_label="Lieu"),
    Column("type", "Type", description="COM, ARM, COMD, COMA : nature de la commune"),
    Column("departement", "Département", description="code officiel géographique"),
    Column("insee_parent", "Commune de rattachement", description="code INSEE"),
    Column("mairie_lon", "Longitude de la mairie"),
    Column("mairie_lat", "Latitude de la mairie"),
    Column("population_origine", "Origine de la population"),
    Column(
        "distance_m",
        "Distance au lieu le plus proche (m)",
        "dist_lieu_m",
        INTEGER,  # metres: decimals would be false precision
        description="à vol d'oiseau, depuis la mairie",
    ),
    Column("id_lieu", "Identifiant du lieu"),
    Column("nom_lieu", "Lieu le plus proche"),
    Column("point_commune", "Point de départ", "point_depart", description="mairie ou centre"),
]

# Places (analyse.territory.places: national « lieux de médiation numérique » file, or town halls).
PLACE_COLUMNS: list[Column] = [
    Column("id", "Identifiant", "identifiant"),
    Column("commune", "Commune"),
    Column("commune_declaree", "Commune déclarée"),
    Column("code_postal", "Code postal"),
    Column("adresse", "Adresse"),
    Column("services", "Services"),
    Column("siret", "SIRET"),
    Column("pivot", "SIRET (pivot)", description="identifiant de la structure"),
    Column("latitude", "Latitude (telle que lue)"),
    Column("longitude", "Longitude (telle que lue)"),
    Column("insee_commune", "Code INSEE de la commune (position)"),
    Column(
        "nom_commune",
        "Commune (position)",
        description="commune où se trouvent les coordonnées",
        report_label="Commune où il se trouve",
    ),
    Column("hors_commune", "Hors de toute commune"),
    Column("insee_la_plus_proche", "Commune la plus proche", "insee_plus_proche"),
    Column(
        "distance_commune_la_plus_proche_m",
        "Distance à la commune la plus proche (m)",
        "dist_commune_proche_m",
    ),
    Column("insee_commune_declaree", "Code INSEE de la commune déclarée", "insee_declaree"),
    Column("commune_declaree_resolue_par", "Commune déclarée reconnue par", "declaree_resolue_par"),
    Column(
        "distance_commune_declaree_m",
        "Distance à la commune déclarée (m)",
        "dist_commune_declaree_m",
        # The report shows it in kilometres (divided by 1 000 there).
        report_label="Écart (km)",
        shown=1,
    ),
    Column("loin_de_la_commune_declaree", "Loin de la commune déclarée", "loin_commune_declaree"),
    Column("horaires", "Horaires"),
    Column("conditions_access", "Conditions d'accès", "conditions_acces"),
    Column("labels_nationaux", "Labels nationaux"),
    Column("site_web", "Site web"),
    Column("source", "Source"),
    Column("date_maj", "Date de mise à jour"),
    Column(
        "date_debut",
        "Compte à partir du",
        description="premier comité de sa structure, sinon premier poste de sa commune, "
        "de son intercommunalité ou de son département",
    ),
    Column("datation", "Daté par", description="la règle qui a daté le lieu"),
]

# Posts proposed by the placement scenario (analyse.analysis.scenario.PROPOSAL_COLUMNS).
PROPOSAL_COLUMNS: list[Column] = [
    Column("rang", "Rang", number_format=COUNT),
    Column("population_commune", "Population de la commune"),
    Column(
        "population_nouvellement_a_moins_du_rayon",
        "Habitants passant à moins du rayon",
        "pop_nouv_moins_rayon",
    ),
    Column(
        "population_a_moins_du_rayon_cumulee",
        "Habitants passés à moins du rayon (cumul)",
        "pop_moins_rayon_cumul",
    ),
    Column("habitants_rapproches", "Habitants rapprochés d'un lieu"),
    Column("gain_moyen_km", "Gain moyen (km)", number_format=ONE_DECIMAL),
    Column(
        "distance_economisee_hab_km",
        "Distance économisée (habitants × km)",
        "dist_economisee_hab_km",
        INTEGER,
    ),
    Column(
        "distance_economisee_cumulee_hab_km",
        "Distance économisée, cumul (habitants × km)",
        "dist_econ_cumul_hab_km",
        INTEGER,
    ),
    Column(
        "ex_aequo",
        "Autres communes qui apporteraient autant",
        number_format=COUNT,
        description="communes qui, à la place de celle-ci, apporteraient exactement autant",
    ),
]

# ------------------------------------------------------- selection rows and their checks

# Rows of the selection files as matched (analyse.territory.matching), the review list, the
# anomalies and the IFN codes that did not match.
SELECTION_COLUMNS: list[Column] = [
    Column("fichier", "Fichier"),
    Column("ligne", "Ligne", number_format=COUNT, shown=0),  # a line number, not a quantity
    Column("structure", "Structure (telle que publiée)", report_label="Structure"),
    Column("type_structure", "Type de structure"),
    Column("motif", "Motif"),
    Column("candidats", "Meilleurs candidats"),
    Column("mois_comite", "Mois du comité"),
    Column("nom_officiel", "Rattachée à", description="intercommunalité ou commune reconnue"),
    Column("methode", "Méthode", description="code, nom exact ou nom approché (score)"),
    Column("niveau", "Niveau", description="commune ou intercommunalité"),
    Column("code", "Code"),
    Column(
        "mois",
        "Mois (fin de)",
        description="AAAA-MM : situation à la fin de ce mois",
        pattern=MONTH_PATTERN,
    ),
]

# The date every analyst's file of a report describes (first column of its CSV).
SITUATION_COLUMNS: list[Column] = [
    Column(
        "date_situation",
        "Date de la situation",
        description="AAAA-MM-JJ : date que décrivent les chiffres (édition de la liste "
        "nationale, ou dernier jour du mois)",
        table_type="date",
    ),
]

# ------------------------------------------------------------------ the analysts' panel

# Columns only the panel has (analyse.analysis.panel, analyse.run.panel): the month's
# national target and the reconciliation of each département's posts
# (analyse.analysis.indicators.reconciliation), under the panel's names.
_PER_10000 = f"conseillers pour {_BASE} habitants"
PANEL_ONLY_COLUMNS: list[Column] = [
    Column(
        "cible_nationale",
        f"Cible nationale (conseillers pour {_BASE} hab.)",
        number_format=DECIMAL,
        decimals=4,
        description=(
            "densité du programme en France à la fin du mois : postes attribués par les "
            "comités jusque-là ÷ population de la France (situation.national_target)"
        ),
        shown=2,
        unit=_PER_10000,
    ),
    Column("nom_departement", "Nom du département", description="nom officiel"),
    Column(
        "postes_comptes",
        "Postes comptés pour le département",
        number_format=INTEGER,
        description=(
            "postes des lignes de la liste nationale rattachées au département (décompte "
            "de l'ANCT, indice mensuel)"
        ),
        unit="postes",
    ),
    Column(
        "postes_nouveaux",
        "Postes attribués dans le mois",
        number_format=INTEGER,
        description="postes comptés pour le département, attribués par les comités du mois",
        unit="postes",
    ),
    Column(
        "postes_localises",
        "Postes localisés dans ses EPCI",
        number_format=INTEGER,
        description=(
            "postes des structures situées dans une intercommunalité ayant une commune dans "
            "le département, quel que soit le département qui les compte"
        ),
        unit="postes",
    ),
    *(
        Column(name, label, number_format=INTEGER, description=words, unit="postes")
        for name, label, words in (
            (
                "localises_dans_un_epci_du_departement",
                "Comptés ici, localisés dans un de ses EPCI",
                "postes comptés pour le département et localisés dans un de ses EPCI",
            ),
            (
                "localises_hors_departement",
                "Comptés ici, localisés hors du département",
                "postes comptés pour le département, localisés dans un EPCI sans commune ici",
            ),
            (
                "departementaux",
                "Postes départementaux",
                "postes du conseil départemental (ou de la collectivité), catégorie à part",
            ),
            ("regionaux", "Postes régionaux", "postes du conseil régional, catégorie à part"),
            (
                "non_localisables",
                "Postes non localisables",
                "postes dont la structure n'a pu être rattachée à aucune commune",
            ),
            ("en_revue", "Postes à vérifier", "rattachement incertain, à vérifier"),
            (
                "venus_d_ailleurs",
                "Comptés ailleurs, localisés ici",
                "postes comptés pour un autre département, localisés dans un de ses EPCI",
            ),
        )
    ),
]

ALL: dict[str, Column] = {}
for _column in (
    INDICATOR_COLUMNS
    + GAP_COLUMNS
    + EPCI_COLUMNS
    + COMMUNE_COLUMNS
    + PLACE_COLUMNS
    + PROPOSAL_COLUMNS
    + SELECTION_COLUMNS
    + SITUATION_COLUMNS
    + PANEL_ONLY_COLUMNS
):
    if _column.name in ALL:
        raise ValueError(f"Colonne déclarée deux fois : {_column.name}")
    ALL[_column.name] = _column


def names(columns: Iterable[Column]) -> list[str]:
    return [c.name for c in columns]


def columns(column_names: Iterable[str]) -> list[Column]:
    return [ALL[name] for name in column_names]


# Columns of the monthly trajectory (sheet « Trajectoire »).
TRAJECTORY_COLUMNS: list[Column] = columns(
    ["siren_epci", "nom_epci", "mois", "postes", "conseillers_pour_10000_hab"]
)

# One row per (EPCI, month) of the panel (analyse.analysis.panel), in order.
PANEL_EPCI_COLUMNS: list[Column] = columns(
    [
        "mois",
        "siren_epci",
        "nom_epci",
        "type_epci",
        "departements",
        "nb_communes",
        "population",
        "surface_km2",
        "habitants_par_km2",
        "classe_densite",
        "postes",
        "structures",
        "conseillers_pour_10000_hab",
        "habitants_par_conseiller",
        "financement_etat_eur",
        *names(_flag_columns()),
        "premier_mois_conseiller",
        "ifn",
        *(config.beyond_column(km) for km in config.DISTANCE_THRESHOLDS_KM),
        "population_sans_distance",
        "cible_nationale",
        "postes_manquants_cible_nationale",
        "score_priorite",
        "densite_mediane_meme_type",
        "densite_mediane_comparables",
        "ecart_comparables",
        *names(DERIVED_EPCI_COLUMNS),
    ]
)

# One row per (département, month) of the panel (analyse.run.panel), in order.
PANEL_DEPARTEMENT_COLUMNS: list[Column] = columns(
    [
        "mois",
        "departement",
        "nom_departement",
        "population",
        "postes_comptes",
        "postes_nouveaux",
        "conseillers_pour_10000_hab",
        "postes_localises",
        "localises_dans_un_epci_du_departement",
        "localises_hors_departement",
        "departementaux",
        "regionaux",
        "non_localisables",
        "en_revue",
        "venus_d_ailleurs",
        *[f"postes_{flag}{suffix}" for flag in FLAGS for suffix in ("", "_non_documente")],
        "cible_nationale",
    ]
)

# The panel's geometry file: one outline per EPCI, not repeated per month.
PANEL_GEOMETRY_COLUMNS: list[Column] = columns(
    ["siren_epci", "nom_epci", "type_epci", "departements"]
)

# ------------------------------------------------------------------ GeoPackage layers


@dataclass(frozen=True)
class Layer:
    """The columns of one GeoPackage layer, and the few it names differently."""

    columns: tuple[str, ...]
    renames: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> dict[str, str]:
        """Column name → field name."""
        return {name: self.renames.get(name, ALL[name].field) for name in self.columns}


_GAPS = tuple(names(GAP_COLUMNS))
_WHERE = ("insee", "nom", "departement", "siren_epci", "nom_epci", "postes")
LAYERS: dict[str, Layer] = {
    "epci": Layer(
        (*_GAPS, *names(INDICATOR_COLUMNS), *names(EPCI_COLUMNS)),
        # The layer is the EPCI: its own SIREN, name and type need no suffix.
        {"siren_epci": "siren", "nom_epci": "nom", "type_epci": "type"},
    ),
    "communes": Layer(
        (
            *_GAPS,
            *_WHERE,
            "type",
            "population",
            "insee_parent",
            "mairie_lon",
            "mairie_lat",
            "distance_m",
            "id_lieu",
            "nom_lieu",
            "point_commune",
        )
    ),
    "lieux": Layer(
        (*_GAPS, *_WHERE, *names(PLACE_COLUMNS)),
        # One SIRET and one INSEE field, whichever the places file called them.
        {"pivot": "siret", "insee_commune": "insee"},
    ),
    "propositions": Layer(
        ("rang", "insee", "commune", "siren_epci", "nom_epci", *names(PROPOSAL_COLUMNS[1:]))
    ),
}

# ------------------------------------------------------------------ report tables

# Headings a report table gives a column in its own context, when not ``Column.heading``.
TABLE_HEADINGS: dict[str, dict[str, str]] = {
    "variante": {
        "population_dans_departement": "Population dans le département",
        "population": "Population de l'intercommunalité (base de la densité)",
        "postes": "Postes propres",
        "conseillers_pour_10000_hab_avec_departementaux_repartis": (
            f"{DENSITY_LABEL}, postes départementaux répartis"
        ),
    },
    "croisements": {
        "departement": "Compté pour",
        "siren_epci": "SIREN de l'intercommunalité",
    },
    "revue": {"structure": ALL["structure"].label, "type_structure": "Type"},
    "selections": {"mois_comite": "Comité", "structure": ALL["structure"].label},
    "selections_detail": {"structure": ALL["structure"].label, "fichier": "Fichier, ligne"},
    "ifn_non_rapproches": {"nom": ALL["nom"].label},
    "comparaison": {
        "type_epci": "Nature",
        "classe_densite": "Densité de population",
        "densite_mediane_meme_type": "Médiane, même nature",
        "densite_mediane_comparables": "Médiane, comparables",
        "ecart_comparables": f"Écart aux comparables (conseillers pour {_BASE} hab.)",
    },
    "trajectoire": {"premier_mois_conseiller": "Premier conseiller"},
}


def headings(column_names: Iterable[str], table: str = "") -> dict[str, str]:
    """Column name → heading in the report table ``table``."""
    renames = TABLE_HEADINGS.get(table, {})
    return {name: renames.get(name, ALL[name].heading) for name in column_names}


# ------------------------------------------------------------------ readers


def epci_names() -> list[str]:
    return names(EPCI_COLUMNS)


def headers() -> dict[str, str]:
    """Column name → French header, for the workbook."""
    return {c.name: c.label for c in ALL.values()}


def gpkg_fields(layer: str = "epci") -> dict[str, str]:
    """Column name → GeoPackage field, for ``layer``."""
    return LAYERS[layer].fields()


def number_formats() -> dict[str, str]:
    return {c.name: c.number_format for c in ALL.values() if c.number_format}


def csv_decimals() -> dict[str, int]:
    """Rounding of the CSV's columns (indicators, the columns added to them, the panel's)."""
    declared = INDICATOR_COLUMNS + EPCI_COLUMNS + PANEL_ONLY_COLUMNS
    return {c.name: c.decimals for c in declared if c.decimals is not None}


# Columns of the monthly index of départements (``national.index_html``), in page order.
# The index shows each flag as a share of the département's posts; the last column is
# the sparkline of its density, its header followed by the months it covers.
INDEX_COLUMNS: list[Column] = [
    Column("code", "Code", "code"),
    Column("nom", "Département", "nom"),
    Column("postes", "Postes", "postes", INTEGER),
    Column("population", "Population", "population", INTEGER),
    Column("conseillers_pour_10000_hab", DENSITY_LABEL, "densite_10000_hab", DECIMAL),
    Column("variation", "Évolution sur le mois", "variation", INTEGER),
    # « postes » stays out of these headers, which must not be taken for « Postes ».
    Column("part_qpv", "En QPV", "part_qpv", PERCENT),
    Column("part_zrr", "En ZRR", "part_zrr", PERCENT),
    Column("part_france_services", "France Services", "part_fs", PERCENT),
    Column("trajectoire", "Densité", "trajectoire"),
]


# ------------------------------------------------------------------ data dictionary

# The README's data dictionary of the panel sits between these two lines; it is
# written by ``scripts/dictionnaire.py`` from the registry (a test compares them).
DICTIONARY_START = "<!-- dictionnaire du panel : début (scripts/dictionnaire.py) -->"
DICTIONARY_END = "<!-- dictionnaire du panel : fin -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def data_dictionary() -> str:
    """The panel's data dictionary in Markdown: one table per file, one line per column
    (name, French title, unit, description), as declared here."""
    parts = []
    for title, declared in (
        ("`panel_epci.csv` / `.parquet` : une ligne par (EPCI, mois)", PANEL_EPCI_COLUMNS),
        (
            "`panel_departements.csv` / `.parquet` : une ligne par (département, mois)",
            PANEL_DEPARTEMENT_COLUMNS,
        ),
        ("`epci.csv`, `epci.parquet`, `epci.gpkg` : une ligne par EPCI", PANEL_GEOMETRY_COLUMNS),
    ):
        lines = [title, "", "| colonne | intitulé | unité | description |", "|---|---|---|---|"]
        lines += [
            f"| `{c.name}` | {_cell(c.label)} | {_cell(c.unit)} | {_cell(c.description)} |"
            for c in declared
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
