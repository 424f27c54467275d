"""Reading raw selection rounds (comités de sélection) into one clean table.

Accepts what French spreadsheets export: CSV in UTF-8 (with or without BOM) or
Windows-1252, with ``;`` or ``,`` separators, and ``.xlsx``. Every row keeps the file
and line it came from, so that any later message can point back to it.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pandas as pd

from analyse import config
from analyse.errors import UserError
from analyse.read.codes import commune_code, departement_code
from analyse.read.files import (
    CONTROL_RE,
    CsvFileError,
    check_row_shape,
    data_suffix,
    file_lines,
    is_gzip,
    read_bytes,
    read_csv_rows,
    read_csv_table,
)
from analyse.read.names import normalise_name, normalise_text

REQUIRED_COLUMNS = ["date_comite", "departement", "structure", "type_structure", "postes"]
OPTIONAL_COLUMNS = ["commune", "code", "source", "financement"]
STRUCTURE_TYPES = ["commune", "epci", "departement", "region", "association", "autre"]
# The ``source`` of every row of the national COSELEC list.
COSELEC_SOURCE = "Liste nationale des structures validées en COSELEC (ANCT)"
# Files read from a folder (a file named on the command line is read whatever its suffix):
# a .txt or .md beside the data is more often a README than an export. ``.csv.gz`` counts
# as ``.csv`` (see ``data_suffix``).
FOLDER_SUFFIXES = {".csv", ".xlsx"}

# Output columns, in order. ``fichier`` and ``ligne`` locate the row in its source.
COLUMNS = [
    "fichier",
    "ligne",
    "date_comite",
    "mois_comite",
    # Whether the file gave the committee's day: a round typed by its month only
    # (« 2021-03 ») is dated the first of it, a day nobody gave (« comité de mars 2021 »).
    "jour_comite_connu",
    "departement",
    "structure",
    "type_structure",
    "postes",
    "commune",
    "code",
    "source",
    # Only in the national COSELEC list (empty otherwise):
    "code_postal",
    "statut_juridique",
    "zrr",
    "qpv",
    "france_services",
    # The State's funding of the row, in euros: the national list's « Investissement
    # financier estimatif total de l'Etat », or a hand file's ``financement``; missing
    # (NaN) when the file does not say.
    "financement_etat_eur",
]

# Départements, plus the overseas collectivities that appear in the national list
# (975 Saint-Pierre-et-Miquelon, 977 Saint-Barthélemy, 978 Saint-Martin, 98x Pacific).
_DEPARTEMENT_RE = re.compile(r"^(?:\d{2}|2A|2B|97[1-8]|98[4-9])$")
# A post count as typed: ASCII digits, an optional minus sign. Python's int() also reads
# « 1_0 », « ５ » (full-width), « ٣ » (Arabic-Indic) and even « ² » passes str.isdigit().
_COUNT_RE = re.compile(r"-?[0-9]+")


def parse_count(text: str) -> int | None:
    """A whole number written in ASCII digits (« 3 », « -2 »); None for anything else."""
    text = text.strip()
    return int(text) if _COUNT_RE.fullmatch(text) else None


class SelectionError(UserError):
    """Bad input in a selection file; the message (in French) names file, line and value."""

    def __init__(self, fichier: str, message: str, ligne: int | None = None, colonne: str = ""):
        self.fichier, self.ligne, self.colonne = fichier, ligne, colonne
        where = fichier if ligne is None else f"{fichier}, ligne {ligne}"
        if colonne:
            where += f", colonne « {colonne} »"
        super().__init__(f"{where} : {message}")


# ----------------------------------------------------------------------- file level


def list_selection_files(paths: Iterable[Path], skipped: list[str] | None = None) -> list[Path]:
    """Expand folders into their selection files (sorted), keep files as given.

    Each file is read once: the same file reached twice (a folder and a file inside it)
    or a second copy with the same content (same SHA-256) is kept at its first mention
    only. A folder's other files (``README.txt``, ``notes.md``…) are not data: only its
    ``.csv`` and ``.xlsx`` files are read. Every file left aside is described, in
    French, in ``skipped``.
    """
    files: list[Path] = []
    seen_paths: dict[Path, Path] = {}
    seen_sums: dict[str, Path] = {}
    notes = skipped if skipped is not None else []
    for path in map(Path, paths):
        if path.is_dir():
            candidates = []
            for p in sorted(path.iterdir()):
                if p.name.startswith((".", "~$")):  # hidden files, Excel lock files
                    continue
                if p.is_file() and data_suffix(p) in FOLDER_SUFFIXES:
                    candidates.append(p)
                else:
                    notes.append(
                        f"{p} : ignoré (seuls les fichiers .csv et .xlsx d'un dossier sont lus)."
                    )
        elif path.is_file():
            candidates = [path]
        elif path.exists():
            raise SelectionError(str(path), "ni un fichier ni un dossier : impossible de le lire.")
        else:
            raise SelectionError(str(path), "fichier ou dossier introuvable.")
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved in seen_paths:
                first = seen_paths[resolved]
                same = "" if str(first) == str(candidate) else f" (même fichier que {first})"
                notes.append(f"{candidate} : déjà lu{same}, compté une seule fois.")
                continue
            try:
                digest = hashlib.sha256(candidate.read_bytes()).hexdigest()
            except OSError as error:
                raise SelectionError(
                    str(candidate), f"fichier illisible ({error.strerror})."
                ) from None
            if digest in seen_sums:
                notes.append(
                    f"{candidate} : contenu identique à {seen_sums[digest]} (même somme SHA-256), "
                    "compté une seule fois."
                )
                continue
            seen_paths[resolved] = candidate
            seen_sums[digest] = candidate
            files.append(candidate)
    return files


def _read_csv_rows(path: Path, name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        table = read_csv_rows(path, name)
    except CsvFileError as error:
        raise SelectionError(name, error.reason, error.line) from None
    return table.header, table.rows


# A selection table is a few thousand rows of a few dozen columns; a sheet is read row
# by row without trusting its declared size (one value in XFD1048576 must not make the
# reader allocate 17 billion cells), and refused beyond this many rows.
_XLSX_MAX_ROWS = 200_000


def _cell_text(value: object) -> str:
    """A cell as pandas' Excel reader gives it in text: 3.0 → « 3 », a date → ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_records(sheet, name: str) -> list[tuple[int, list[str]]]:
    """The non-empty rows of a read-only sheet, with their Excel row number."""
    sheet.reset_dimensions()
    records = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > _XLSX_MAX_ROWS:
            limit = f"{_XLSX_MAX_ROWS:_}".replace("_", " ")
            raise SelectionError(
                name,
                f"la feuille « {sheet.title} » a des valeurs au-delà de la ligne {limit} "
                "(une cellule saisie très loin du tableau ?) : effacez-les ou copiez le "
                "tableau seul dans un nouveau classeur.",
            )
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            records.append((number, cells))
    return records


def _read_xlsx_rows(path: Path, name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    import zipfile

    import openpyxl

    # A compressed workbook (.xlsx.gz) is opened from its decompressed bytes.
    source = io.BytesIO(read_bytes(path)) if is_gzip(path) else path
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except zipfile.BadZipFile:
        # An .xlsx is a zip archive of XML parts: a CSV or an old .xls renamed is not.
        raise SelectionError(
            name,
            "n'est pas un classeur Excel .xlsx lisible : ce n'est pas une archive .xlsx (est-ce "
            "un CSV ou un ancien .xls renommé ?). Enregistrez-le depuis le tableur au format "
            ".xlsx ou CSV.",
        ) from None
    except (KeyError, ValueError, OSError, TypeError) as error:  # a zip, not a workbook
        raise SelectionError(
            name,
            f"n'est pas un classeur Excel .xlsx lisible (archive incomplète ou d'un autre "
            f"format : {type(error).__name__}). Enregistrez-le depuis le tableur au format "
            ".xlsx ou CSV.",
        ) from None
    try:
        # The sheets a person sees: a hidden sheet (an old version, a lookup table) is
        # never read in place of the visible one.
        visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
        hidden = [ws for ws in book.worksheets if ws.sheet_state != "visible"]
        if not visible:
            return [], []
        records = _sheet_records(visible[0], name)
        if not _has_table(records):
            # The table on another sheet: say where, rather than read the wrong one.
            for sheet in [*visible[1:], *hidden]:
                if _has_table(_sheet_records(sheet, name)):
                    state = "" if sheet.sheet_state == "visible" else " masquée"
                    raise SelectionError(
                        name,
                        f"le tableau des sélections est sur la feuille{state} « {sheet.title} »"
                        f", pas sur la première feuille visible « {visible[0].title} » : "
                        "placez-le sur la première feuille visible.",
                    )
    except SelectionError:
        raise
    except (ValueError, TypeError, KeyError, OSError) as error:  # a damaged sheet
        raise SelectionError(
            name,
            f"feuille illisible du classeur ({type(error).__name__}). Enregistrez-le à "
            "nouveau depuis le tableur au format .xlsx ou CSV.",
        ) from None
    finally:
        book.close()
    if not records:
        return [], []
    (_, header), rows = records[0], records[1:]
    # A sheet stores no empty cell: a row ends at its last value. Padded to the header,
    # so that only cells beyond it (never missing ones) are refused.
    width = len(header)
    rows = [(number, [*cells, *[""] * (width - len(cells))]) for number, cells in rows]
    return [cell.strip() for cell in header], rows


def _has_table(records: list[tuple[int, list[str]]]) -> bool:
    """Whether a sheet holds a selection table (its first non-empty row is the header)."""
    if not records:
        return False
    cells = [normalise_text(c).replace(" ", "_") for c in records[0][1] if c.strip()]
    return set(REQUIRED_COLUMNS) <= set(cells) or set(COSELEC_COLUMNS.values()) <= set(cells)


def read_selection_file(
    path: Path, display_name: str | None = None, rejected: list[dict] | None = None
) -> pd.DataFrame:
    """Read and validate one selection file into the clean table (see ``COLUMNS``).

    A bad row raises ``SelectionError``, unless ``rejected`` is given (tolerant mode):
    then it is appended there, with its reason, and reading goes on.
    """
    path = Path(path)
    name = display_name or str(path)
    if data_suffix(path) == ".xlsx":  # compressed or not; a .csv.gz is read as CSV
        header, rows = _read_xlsx_rows(path, name)
    else:
        header, rows = _read_csv_rows(path, name)
    if not header:
        raise SelectionError(name, "le fichier est vide.")
    columns = [normalise_text(h).replace(" ", "_") for h in header]
    repeated = sorted(
        {h for h, c in zip(header, columns, strict=True) if c and columns.count(c) > 1}
    )
    if repeated:
        raise SelectionError(
            name,
            f"colonne(s) en double dans l'en-tête : {', '.join(repeated)} (chaque colonne "
            "ne doit figurer qu'une fois : laquelle lire ?).",
            ligne=1,
        )
    if not rows:
        raise SelectionError(name, "le fichier n'a aucune ligne de données.")
    if set(COSELEC_COLUMNS.values()) <= set(columns):
        to_native = _coselec_values
    else:
        to_native = _native_values
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise SelectionError(
                name,
                f"colonne(s) obligatoire(s) absente(s) : {', '.join(missing)} "
                f"(colonnes trouvées : {', '.join(header)}).",
                ligne=1,
            )
    position = {c: i for i, c in enumerate(columns)}
    records = []
    for line, record in rows:
        cells = {c: (record[i].strip() if i < len(record) else "") for c, i in position.items()}
        values = to_native(cells)
        try:
            _check_shape(record, header, name, line)
            records.append(_clean_record(values, name, line))
        except SelectionError as error:
            if rejected is None:
                raise
            rejected.append(_anomaly(error, values))
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def _check_shape(record: list[str], header: list[str], name: str, line: int) -> None:
    """A row shorter than the header (a truncated last line), with cells beyond it, or
    holding control characters (NUL, NEL…) is refused, naming its line, rather than
    padded, cut or read as text."""
    try:
        check_row_shape(header, record, name, line)
    except CsvFileError as error:
        raise SelectionError(name, error.reason, line) from None
    for column, cell in zip(header, record, strict=False):
        control = CONTROL_RE.search(cell)
        if control:
            raise SelectionError(
                name,
                f"caractère de contrôle interdit (code {ord(control.group()):#04x}) dans "
                f"« {CONTROL_RE.sub('?', cell)[:80]} ».",
                line,
                column,
            )


ANOMALY_COLUMNS = ["fichier", "ligne", "colonne", "departement", "structure", "postes", "motif"]


def _anomaly(error: SelectionError, values: dict[str, str] | None = None) -> dict:
    """A rejected row (or file) as listed in the report's "Anomalies" section."""
    values = values or {}
    count = parse_count(values.get("postes", ""))
    return {
        "fichier": error.fichier,
        "ligne": error.ligne,
        "colonne": error.colonne,
        "departement": clean_departement(values.get("departement", "")) or "",
        "structure": values.get("structure", ""),
        # Posts of a rejected row still count in "read" when they can be read at all.
        # An implausible count (1 000 000 000) is not a count: none is carried.
        "postes": count if count is not None and 0 < count <= config.MAX_POSTS_PER_ROW else 0,
        "motif": str(error),
    }


def _native_values(cells: dict[str, str]) -> dict[str, str]:
    return {c: cells.get(c, "") for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}


# ----------------------------------------------------------------- national COSELEC list

# Our column ← the COSELEC list's column (normalised header).
COSELEC_COLUMNS = {
    "structure": "raison_sociale",
    "postes": "nombre_de_conseillers_valides_par_le_coselec",
    "date_comite": "date_de_validation_en_comite_de_selection",
    "statut_juridique": "type",
    "code": "siret",
    "departement": "code_departement",
    "commune": "code_commune_insee",
    "code_postal": "code_postal",
}
# Read when present; a list without it is still recognised as the national list.
COSELEC_FUNDING = "investissement_financier_estimatif_total_de_l_etat"
COSELEC_FLAGS = {"zrr": "zrr", "qpv": "qpv", "france_services": "france_services"}
# Optional column of the list (normalised header): the State's funding of each row.
COSELEC_FUNDING = "investissement_financier_estimatif_total_de_l_etat"

# Département- and region-level bodies, recognised by name (the SIREN of a département
# starts with 22). "CONSEIL DEP ASS…" or "CONSEIL DEP DE L'ACCES AU DROIT" are
# associations and public interest groups, not the département.
_DEPARTEMENT_NAME_RE = re.compile(
    r"^(?:DEPARTEMENT (?:DE|DU|DES|D)\b|CONSEIL DEPARTEMENTAL (?:DE|DU|DES|D)\b"
    r"|COLLECTIVITE DE CORSE$|COLLECTIVITE EUROPEENNE D ALSACE$"
    r"|COLLECTIVITE TERRITORIALE DE (?:MARTINIQUE|GUYANE)$)"
)
_REGION_NAME_RE = re.compile(r"^(?:REGION|CONSEIL REGIONAL)\b(?! DE LA REGION)")
_EPCI_NAME_RE = re.compile(
    r"^(?:CC|CA|CU|COMMUNAUTE (?:DE |D )?(?:COMMUNES|AGGLOMERATION|AGGLO|URBAINE)"
    r"|COMMUNAUTE COMMUNES|METROPOLE|EUROMETROPOLE)\b"
)
_ASSOCIATION_NAME_RE = re.compile(r"\b(?:ASSOCIATION|ASSO|ASS|ASSOC)\b")
# « COMMUNE DE VAL-DE-VIRIEU », « COMMUNE D'ORNANS »: what follows names the commune.
_COMMUNE_NAME_RE = re.compile(r"^(?:COMMUNE|MAIRIE|VILLE) (?:DE |D |DU |DES )?(.+)$")
# The column of the list that names the structure's commune (« Commune INSEE »).
COSELEC_COMMUNE_NAME = "commune_insee"


def is_commune(name: str, siret: str, commune_name: str = "") -> bool:
    """Whether a public structure of the list is a commune. The list says only « publique »
    and the reference knows no commune's SIREN, so a commune is recognised by its SIREN
    when that says it: 21… for the communes that existed when SIRENs were given (the
    commune de Gap, 210500617). A commune nouvelle (created since 2015: Val-de-Virieu,
    2019) got a SIREN of the 200… series, which EPCI and syndicates share: it is a
    commune when the list's own columns say so, its name being « COMMUNE DE » the very
    commune where the list places it (« COMMUNE DE VAL-DE-VIRIEU », commune
    Val-de-Virieu). A « COMMUNE DE VILLEURBANNE » with a public establishment's SIREN
    (26…, a CCAS's) stays what its SIREN says it is."""
    siren = siret[:9]
    if siren.startswith("21"):
        return True
    found = _COMMUNE_NAME_RE.match(normalise_text(name).upper())
    return (
        siren.startswith("200")
        and found is not None
        and bool(commune_name.strip())
        and normalise_name(found.group(1)) == normalise_name(commune_name)
    )


def structure_type_from_coselec(
    name: str, siret: str, legal_status: str, commune_name: str = ""
) -> str:
    """Type of structure of a COSELEC row, which only says public or private.
    ``commune_name``: the list's « Commune INSEE » (see ``is_commune``)."""
    upper = normalise_text(name).upper()
    siren = siret[:9]
    if siren.startswith("22") or _DEPARTEMENT_NAME_RE.match(upper):
        return "departement"
    if _REGION_NAME_RE.match(upper):
        return "region"
    if normalise_text(legal_status) == "publique":
        if is_commune(name, siret, commune_name):
            return "commune"
        if _EPCI_NAME_RE.match(upper):
            return "epci"
        return "autre"
    return "association" if _ASSOCIATION_NAME_RE.search(upper) else "autre"


def clean_flag(value: str) -> str:
    """'oui' / 'non'; the list's 'Non défini', 'non renseigné', 'sans objet' become ''."""
    value = normalise_text(value)
    return value if value in ("oui", "non") else ""


def _coselec_values(cells: dict[str, str]) -> dict[str, str]:
    values = {ours: cells.get(theirs, "") for ours, theirs in COSELEC_COLUMNS.items()}
    values.update(
        {ours: clean_flag(cells.get(theirs, "")) for ours, theirs in COSELEC_FLAGS.items()}
    )
    values["financement"] = cells.get(COSELEC_FUNDING, "")
    values["type_structure"] = structure_type_from_coselec(
        values["structure"],
        values["code"],
        values["statut_juridique"],
        cells.get(COSELEC_COMMUNE_NAME, ""),
    )
    commune = clean_commune(values["commune"])
    # Saint-Martin (97801) and other overseas collectivities are listed with
    # "Code département" 0: their INSEE code starts with the collectivity's code.
    if values["departement"].strip() in ("0", "00") and commune[:2] == "97":
        values["departement"] = commune[:3]
    values["investissement_etat_eur"] = cells.get(COSELEC_FUNDING, "")
    values["source"] = COSELEC_SOURCE
    return values


def read_selections(
    paths: Iterable[Path] | None = None,
    rejected: list[dict] | None = None,
    skipped: list[str] | None = None,
) -> pd.DataFrame:
    """Read every selection file under ``paths`` (default: ``data/raw/selections``).

    With ``rejected`` (tolerant mode), bad rows and unreadable files are listed there
    instead of stopping the run. Files left aside (read already, not data) are described
    in ``skipped``.
    """
    files = list_selection_files(paths or [config.SELECTIONS_DIR], skipped)
    if not files:
        raise SelectionError(
            ", ".join(str(p) for p in (paths or [config.SELECTIONS_DIR])),
            "aucun fichier de sélection (.csv, .xlsx) trouvé.",
        )
    frames = [pd.DataFrame(columns=COLUMNS)]
    for path in files:
        try:
            frames.append(read_selection_file(path, _display_name(path), rejected))
        except SelectionError as error:
            if rejected is None:
                raise
            rejected.append(_anomaly(error))
    table = pd.concat(frames, ignore_index=True)
    table["ligne"] = table["ligne"].astype("int64")
    table["postes"] = table["postes"].astype("int64")
    table["jour_comite_connu"] = table["jour_comite_connu"].astype(bool)
    table["financement_etat_eur"] = table["financement_etat_eur"].astype(float)
    return table


_display_name = config.relative_to_project


def read_project_csv(path: Path, name: str, required: list[str]) -> pd.DataFrame:
    """One of the project's own CSV files, read by ``read_csv_strings`` like every CSV,
    with its columns checked; a malformed file raises ``SelectionError`` naming it."""
    if Path(path).stat().st_size == 0:  # emptied by hand: nothing pinned, nothing wrong
        return pd.DataFrame(columns=required)
    try:
        table = read_csv_table(path, name)
    except CsvFileError as error:
        raise SelectionError(name, error.reason, error.line) from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise SelectionError(
            name,
            f"colonne(s) absente(s) : {', '.join(missing)} (attendu : {','.join(required)} ; "
            f"trouvé : {', '.join(table.columns)}).",
            1,
        )
    return table


# ------------------------------------------------------------------------ row level


def clean_departement(value: str) -> str | None:
    """INSEE code of a département (``codes.departement_code``: '5', '5.0' → '05'), or
    None when it is no département code."""
    value = departement_code(value)
    return value if _DEPARTEMENT_RE.match(value) else None


clean_commune = commune_code


def parse_committee_date(value: str) -> pd.Timestamp | None:
    """Committee date as YYYY-MM, YYYY-MM-DD or DD/MM/YYYY; None when unreadable (or
    outside the range of dates pandas can hold, such as 0001-01-01)."""
    date = _parse_date(value)
    try:
        return None if date is None else pd.Timestamp(date)
    except (ValueError, OverflowError):
        return None


def _parse_date(value: str) -> datetime | None:
    value = value.strip()
    for pattern, fmt in (
        (r"^\d{4}-\d{2}$", "%Y-%m"),
        (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
        (r"^\d{4}-\d{2}-\d{2}[ T]00:00:00$", "%Y-%m-%d %H:%M:%S"),  # from .xlsx dates
        (r"^\d{2}/\d{2}/\d{4}$", "%d/%m/%Y"),
    ):
        if re.match(pattern, value):
            try:
                return datetime.strptime(value.replace("T", " "), fmt)
            except ValueError:
                return None
    return None


def _clean_record(values: dict[str, str], name: str, line: int) -> dict:
    parsed = _parse_date(values["date_comite"])
    if parsed is not None and parsed.strftime("%Y-%m") < config.FIRST_COMMITTEE_MONTH:
        raise SelectionError(
            name,
            f"date de comité antérieure au programme « {values['date_comite']} » (aucun "
            "comité avant septembre 2020, présentation de France Relance qui le finance ; "
            "le premier de la liste nationale date du 24/03/2021).",
            line,
            "date_comite",
        )
    date = parse_committee_date(values["date_comite"])
    if date is None:
        raise SelectionError(
            name,
            f"date de comité illisible « {values['date_comite']} » "
            "(attendu AAAA-MM, AAAA-MM-JJ ou JJ/MM/AAAA).",
            line,
            "date_comite",
        )
    if date > pd.Timestamp.now():
        raise SelectionError(
            name,
            f"date de comité dans le futur « {values['date_comite']} ».",
            line,
            "date_comite",
        )
    departement = clean_departement(values["departement"])
    if departement is None:
        raise SelectionError(
            name,
            f"code département invalide « {values['departement']} ».",
            line,
            "departement",
        )
    structure = values["structure"]
    if not structure:
        raise SelectionError(name, "nom de structure vide.", line, "structure")
    kind = normalise_text(values["type_structure"])
    if kind not in STRUCTURE_TYPES:
        raise SelectionError(
            name,
            f"type de structure inconnu « {values['type_structure']} » "
            f"(attendu : {', '.join(STRUCTURE_TYPES)}).",
            line,
            "type_structure",
        )
    raw_posts = values["postes"]
    if not raw_posts:
        raise SelectionError(name, "nombre de postes vide.", line, "postes")
    posts = parse_count(raw_posts)
    if posts is None:
        raise SelectionError(
            name,
            f"nombre de postes non entier « {raw_posts} » (chiffres 0 à 9 seulement).",
            line,
            "postes",
        )
    if posts <= 0:
        raise SelectionError(
            name, f"nombre de postes nul ou négatif « {raw_posts} ».", line, "postes"
        )
    if posts > config.MAX_POSTS_PER_ROW:
        raise SelectionError(
            name,
            f"nombre de postes invraisemblable « {raw_posts} » pour une seule structure "
            f"(plafond : {config.MAX_POSTS_PER_ROW} ; la plus grosse attribution de la "
            "liste nationale est de 37 postes). Est-ce un SIRET ou un montant saisi dans la "
            "mauvaise colonne ?",
            line,
            "postes",
        )
    commune = clean_commune(values.get("commune", ""))
    postal = clean_commune(values.get("code_postal", ""))  # same lost leading zero
    funding = _funding(values.get("financement", ""), name, line)
    return {
        "fichier": name,
        "ligne": line,
        "date_comite": date,
        "mois_comite": date.strftime("%Y-%m"),
        "jour_comite_connu": not re.fullmatch(r"\d{4}-\d{2}", values["date_comite"].strip()),
        "departement": departement,
        "structure": structure,
        "type_structure": kind,
        "postes": posts,
        "commune": commune,
        "code": re.sub(r"\s+", "", values.get("code", "")),
        "source": values.get("source", ""),
        "code_postal": postal,
        "statut_juridique": values.get("statut_juridique", ""),
        "zrr": values.get("zrr", ""),
        "qpv": values.get("qpv", ""),
        "france_services": values.get("france_services", ""),
        "financement_etat_eur": funding,
    }


def _funding(value: str, name: str, line: int) -> float:
    """Euros of a funding cell (« 74858 », « 74 858,50 € »); NaN when empty."""
    text = re.sub(r"[\s\u202f\u00a0€]", "", value).replace(",", ".")
    if not text:
        return float("nan")
    try:
        amount = float(text)
    except ValueError:
        amount = -1.0
    if not amount >= 0:
        raise SelectionError(
            name,
            f"financement illisible « {value} » (attendu un montant en euros).",
            line,
            "financement",
        )
    return amount


# ------------------------------------------------------------------------- row checks
# Checks across rows (the reference's départements, duplicates between files), run
# once every file is read; bad rows stop the run or, in tolerant mode, are set aside.


def _reject(error: SelectionError, row: pd.Series, rejected: list[dict] | None) -> None:
    """Raise ``error``, or, in tolerant mode, set the row aside with its reason."""
    if rejected is None:
        raise error
    rejected.append(
        {
            "fichier": row["fichier"],
            "ligne": int(row["ligne"]),
            "colonne": error.colonne,
            "departement": row["departement"],
            "structure": row["structure"],
            "postes": int(row["postes"]),
            "motif": str(error),
        }
    )


def check_departements(
    rows: pd.DataFrame, reference_codes: Iterable[str], rejected: list[dict] | None = None
) -> pd.DataFrame:
    """Refuse a département code that exists nowhere (neither among ``reference_codes``,
    the départements of the territorial reference, nor an overseas collectivity), naming
    file, line and value."""
    known = set(reference_codes) | set(config.OVERSEAS_COLLECTIVITIES)
    unknown = ~rows["departement"].isin(known)
    for _, row in rows.loc[unknown].iterrows():
        error = SelectionError(
            row["fichier"],
            f"code département inconnu « {row['departement']} ».",
            int(row["ligne"]),
            "departement",
        )
        _reject(error, row, rejected)
    return rows.loc[~unknown]


def read_confirmed_duplicates(path: Path | None = None) -> set[tuple]:
    """Keys of the repeated grants an analyst confirmed in ``data/raw/doublons_confirmes.csv``.

    A malformed file stops the run with its line, column and value: a confirmation
    that cannot be read must not silently turn into a refusal or a double count.
    """
    path = Path(path or config.CONFIRMED_DUPLICATES_FILE)
    if not path.exists():
        return set()
    name = _display_name(path)
    table = read_project_csv(path, name, ["departement", "structure", "date_comite", "postes"])
    keys = set()
    lines = file_lines(table)
    for line, row in zip(lines, table.itertuples(), strict=True):
        month = row.date_comite.strip()[:7]
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise SelectionError(
                name,
                f"mois de comité illisible « {row.date_comite} » (attendu AAAA-MM).",
                line,
                "date_comite",
            )
        posts = parse_count(row.postes)
        if posts is None or posts < 1:
            raise SelectionError(
                name,
                f"nombre de postes non entier « {row.postes} » (chiffres 0 à 9 seulement).",
                line,
                "postes",
            )
        keys.add(_duplicate_key(departement_code(row.departement), row.structure, month, posts))
    return keys


def _duplicate_key(departement: str, structure: str, month: str, posts: int) -> tuple:
    return (departement, normalise_name(structure), month, int(posts))


# A row is "the same row" as another of its file when every value read is equal.
# (A missing funding is NaN, which equals nothing: it is left out.)
_ROW_IDENTITY = [
    c for c in COLUMNS if c not in ("ligne", "financement_etat_eur", "jour_comite_connu")
]


def check_duplicates(
    rows: pd.DataFrame, confirmed: set[tuple], rejected: list[dict] | None = None
) -> pd.DataFrame:
    """Probable duplicates, refused unless confirmed (in tolerant mode, set aside):
    the same structure, committee and posts in two files, or a row repeated identically
    within one file (homonyms of one file, such as two CCAS with different SIRET, are
    different rows)."""
    keys = [
        _duplicate_key(d, s, m, p)
        for d, s, m, p in zip(
            rows["departement"], rows["structure"], rows["mois_comite"], rows["postes"], strict=True
        )
    ]
    identities = list(zip(*(rows[c] for c in _ROW_IDENTITY), strict=True))
    files, lines = rows["fichier"].tolist(), rows["ligne"].tolist()
    first_key: dict[tuple, int] = {}
    first_row: dict[tuple, int] = {}
    keep = []
    for position, (key, identity) in enumerate(zip(keys, identities, strict=True)):
        earlier_key = first_key.setdefault(key, position)
        earlier_row = first_row.setdefault(identity, position)
        if key in confirmed:
            keep.append(True)
            continue
        if earlier_row != position:
            where = f"la ligne {lines[earlier_row]} du même fichier"
        elif files[earlier_key] != files[position]:
            where = f"{files[earlier_key]}, ligne {lines[earlier_key]}"
        else:
            keep.append(True)
            continue
        row = rows.iloc[position]
        error = SelectionError(
            row["fichier"],
            f"probable doublon : « {row['structure']} » ({row['departement']}, comité "
            f"{row['mois_comite']}, {row['postes']} poste(s)) figure déjà dans {where}. "
            "S'il s'agit bien de deux attributions, confirmez-le dans "
            f"{_display_name(config.CONFIRMED_DUPLICATES_FILE)}.",
            int(row["ligne"]),
            "structure",
        )
        _reject(error, row, rejected)
        keep.append(False)
    return rows.loc[keep]
