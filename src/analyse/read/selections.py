"""Reading raw selection rounds (comités de sélection) into one clean table.

Accepts what French spreadsheets export: CSV in UTF-8 (with or without BOM) or
Windows-1252, with ``;`` or ``,`` separators, and ``.xlsx``. Every row keeps the file
and line it came from, so that any later message can point back to it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pandas as pd

from analyse import config
from analyse.errors import UserError
from analyse.read.files import data_suffix, read_bytes
from analyse.read.names import normalise_name, normalise_text

REQUIRED_COLUMNS = ["date_comite", "departement", "structure", "type_structure", "postes"]
OPTIONAL_COLUMNS = ["commune", "code", "source"]
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
    # « Investissement financier estimatif total de l'Etat » of the row, in euros (NaN
    # where the file does not give it: analysis.indicators.state_funding).
    "investissement_etat_eur",
]

# Départements, plus the overseas collectivities that appear in the national list
# (975 Saint-Pierre-et-Miquelon, 977 Saint-Barthélemy, 978 Saint-Martin, 98x Pacific).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DEPARTEMENT_RE = re.compile(r"^(?:\d{2}|2A|2B|97[1-8]|98[4-9])$")


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


def _decode(raw: bytes, name: str) -> str:
    # UTF-8 first (the BOM of Excel's "CSV UTF-8" is dropped); Windows-1252 is what
    # Excel's plain "CSV" export writes on a French Windows.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise SelectionError(
            name, f"ni UTF-8 ni Windows-1252 (octet illisible en position {error.start})."
        ) from None
    # Windows-1252 maps almost every byte to a character: a binary file "decodes" too,
    # but a text export never holds control characters.
    control = _CONTROL_RE.search(text)
    if control:
        raise SelectionError(
            name,
            "ni UTF-8 ni Windows-1252 : le fichier n'est pas du texte (caractère de contrôle "
            f"en position {control.start()}). Est-ce bien un export CSV ?",
        )
    return text


def _read_csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text = _decode(read_bytes(path), str(path))
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    if not header_line:
        raise SelectionError(str(path), "le fichier est vide.")
    separator = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            rows.append((reader.line_num, record))
    except csv.Error as error:  # a field longer than csv.field_size_limit(), a stray quote
        raise SelectionError(
            str(path),
            f"ligne illisible comme CSV ({_csv_reason(error)}). Un guillemet non fermé "
            "englobe-t-il la suite du fichier ?",
            max(reader.line_num, 1),
        ) from None
    return header or [], rows


def _csv_reason(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return f"un champ dépasse {csv.field_size_limit():_} caractères".replace("_", " ")
    return text


def _read_xlsx_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    import zipfile

    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, header=None, engine="openpyxl")
    except zipfile.BadZipFile:
        # An .xlsx is a zip archive of XML parts: a CSV or an old .xls renamed is not.
        raise SelectionError(
            str(path),
            "n'est pas un classeur Excel .xlsx lisible : ce n'est pas une archive .xlsx (est-ce "
            "un CSV ou un ancien .xls renommé ?). Enregistrez-le depuis le tableur au format "
            ".xlsx ou CSV.",
        ) from None
    except (KeyError, ValueError, OSError) as error:  # a zip, but not a workbook
        raise SelectionError(
            str(path),
            f"n'est pas un classeur Excel .xlsx lisible (archive incomplète ou d'un autre "
            f"format : {type(error).__name__}). Enregistrez-le depuis le tableur au format "
            ".xlsx ou CSV.",
        ) from None
    names = list(sheets)
    if not names:
        return [], []
    frame = sheets[names[0]].fillna("")
    if not _has_table(frame):
        # The table on another sheet: say where, rather than read the wrong one.
        elsewhere = [n for n in names[1:] if _has_table(sheets[n].fillna(""))]
        if elsewhere:
            raise SelectionError(
                str(path),
                f"le tableau des sélections est sur la feuille « {elsewhere[0]} », pas sur "
                f"la première feuille « {names[0]} » : placez-le sur la première feuille.",
            )
    records = frame.to_numpy().tolist()
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for index, record in enumerate(records):
        if not any(str(cell).strip() for cell in record):
            continue
        if header is None:
            header = [str(cell).strip() for cell in record]
            continue
        rows.append((index + 1, [str(cell) for cell in record]))  # Excel rows start at 1
    return header or [], rows


def _has_table(frame: pd.DataFrame) -> bool:
    """Whether a sheet holds a selection table (its first non-empty row is the header)."""
    for record in frame.to_numpy().tolist():
        cells = [normalise_text(str(c)).replace(" ", "_") for c in record if str(c).strip()]
        if cells:
            return set(REQUIRED_COLUMNS) <= set(cells) or set(COSELEC_COLUMNS.values()) <= set(
                cells
            )
    return False


def read_selection_file(
    path: Path, display_name: str | None = None, rejected: list[dict] | None = None
) -> pd.DataFrame:
    """Read and validate one selection file into the clean table (see ``COLUMNS``).

    A bad row raises ``SelectionError``, unless ``rejected`` is given (tolerant mode):
    then it is appended there, with its reason, and reading goes on.
    """
    path = Path(path)
    name = display_name or str(path)
    if path.suffix.lower() == ".xlsx":  # a compressed CSV (.csv.gz) is read as CSV
        header, rows = _read_xlsx_rows(path)
    else:
        header, rows = _read_csv_rows(path)
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
    width = len(header) - next(i for i, h in enumerate(reversed(header)) if h)  # named columns
    records = []
    for line, record in rows:
        cells = {c: (record[i].strip() if i < len(record) else "") for c, i in position.items()}
        values = to_native(cells)
        try:
            _check_shape(record, header, width, name, line)
            records.append(_clean_record(values, name, line))
        except SelectionError as error:
            if rejected is None:
                raise
            rejected.append(_anomaly(error, values))
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def _check_shape(record: list[str], header: list[str], width: int, name: str, line: int) -> None:
    """A row shorter than the header (a truncated last line) or holding control
    characters (NUL…) is refused, naming its line, rather than padded or read as text."""
    if len(record) < width:
        raise SelectionError(
            name,
            f"ligne incomplète : {len(record)} cellule(s) au lieu de {width} (colonnes "
            f"manquantes à partir de « {header[len(record)]} »). Le fichier a-t-il été "
            "tronqué ?",
            line,
        )
    for column, cell in zip(header, record, strict=False):
        control = _CONTROL_RE.search(cell)
        if control:
            raise SelectionError(
                name,
                f"caractère de contrôle interdit (code {ord(control.group()):#04x}) dans "
                f"« {_CONTROL_RE.sub('?', cell)[:80]} ».",
                line,
                column,
            )


ANOMALY_COLUMNS = ["fichier", "ligne", "colonne", "departement", "structure", "postes", "motif"]


def _anomaly(error: SelectionError, values: dict[str, str] | None = None) -> dict:
    """A rejected row (or file) as listed in the report's "Anomalies" section."""
    values = values or {}
    posts = values.get("postes", "")
    return {
        "fichier": error.fichier,
        "ligne": error.ligne,
        "colonne": error.colonne,
        "departement": clean_departement(values.get("departement", "")) or "",
        "structure": values.get("structure", ""),
        # Posts of a rejected row still count in "read" when they can be read at all.
        # An implausible count (1 000 000 000) is not a count: none is carried.
        "postes": int(posts)
        if posts.strip().isdigit() and int(posts) <= config.MAX_POSTS_PER_ROW
        else 0,
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


def structure_type_from_coselec(name: str, siret: str, legal_status: str) -> str:
    """Type of structure of a COSELEC row, which only says public or private."""
    upper = normalise_text(name).upper()
    siren = siret[:9]
    if siren.startswith("22") or _DEPARTEMENT_NAME_RE.match(upper):
        return "departement"
    if _REGION_NAME_RE.match(upper):
        return "region"
    if normalise_text(legal_status) == "publique":
        if siren.startswith("21"):  # SIREN of communes
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
    values["type_structure"] = structure_type_from_coselec(
        values["structure"], values["code"], values["statut_juridique"]
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
    return table


def _display_name(path: Path) -> str:
    """Path relative to the project when inside it (short, stable across machines)."""
    try:
        return str(path.resolve().relative_to(config.PROJECT_ROOT.resolve()))
    except ValueError:
        return str(path)


def read_project_csv(
    path: Path, name: str, required: list[str], sniff: bool = False
) -> pd.DataFrame:
    """One of the project's own CSV files (UTF-8; ``,`` separated unless ``sniff``), with
    its columns checked; a malformed file raises ``SelectionError`` naming it."""
    options = {"sep": None, "engine": "python"} if sniff else {}
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", **options)
    except (pd.errors.EmptyDataError, csv.Error) as error:
        if Path(path).stat().st_size == 0:  # emptied by hand: nothing pinned, nothing wrong
            return pd.DataFrame(columns=required)
        raise SelectionError(name, f"fichier illisible comme CSV ({error}).") from None
    except UnicodeDecodeError as error:
        raise SelectionError(
            name, f"fichier illisible : pas en UTF-8 (octet illisible en position {error.start})."
        ) from None
    except (ValueError, pd.errors.ParserError, OSError) as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise SelectionError(name, f"fichier illisible comme CSV ({reason}).") from None
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
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
    """INSEE code of a département with its leading zero restored ('5' → '05')."""
    value = value.strip().upper()
    if value.endswith(".0"):  # a spreadsheet turned the code into a float
        value = value[:-2]
    if value.isdigit() and len(value) < 2:
        value = value.zfill(2)
    return value if _DEPARTEMENT_RE.match(value) else None


def clean_commune(value: str) -> str:
    """INSEE code of a commune with its leading zero restored ('5061' → '05061')."""
    value = value.strip().upper()
    if value.endswith(".0"):
        value = value[:-2]
    if value.isdigit() and len(value) == 4:
        value = value.zfill(5)
    return value


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
    try:
        posts = int(raw_posts)
    except ValueError:
        raise SelectionError(
            name, f"nombre de postes non entier « {raw_posts} ».", line, "postes"
        ) from None
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
    return {
        "fichier": name,
        "ligne": line,
        "date_comite": date,
        "mois_comite": date.strftime("%Y-%m"),
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
        "investissement_etat_eur": _funding(values.get("investissement_etat_eur", ""), name, line),
    }


def _funding(value: str, name: str, line: int) -> float:
    """The row's State funding in euros; NaN when the file leaves it empty."""
    text = re.sub(r"\s+", "", value or "").replace(",", ".").replace("€", "")
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise SelectionError(
            name,
            f"investissement de l'État illisible « {value} » (attendu : un montant en euros).",
            line,
            "investissement_etat_eur",
        ) from None


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
    for line, row in enumerate(table.itertuples(), start=2):
        month = row.date_comite.strip()[:7]
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise SelectionError(
                name,
                f"mois de comité illisible « {row.date_comite} » (attendu AAAA-MM).",
                line,
                "date_comite",
            )
        if not row.postes.strip().isdigit():
            raise SelectionError(
                name, f"nombre de postes non entier « {row.postes} ».", line, "postes"
            )
        keys.add(
            _duplicate_key(row.departement.strip().zfill(2), row.structure, month, int(row.postes))
        )
    return keys


def _duplicate_key(departement: str, structure: str, month: str, posts: int) -> tuple:
    return (departement, normalise_name(structure), month, int(posts))


# A row is "the same row" as another of its file when every value read is equal.
_ROW_IDENTITY = [c for c in COLUMNS if c != "ligne"]


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
