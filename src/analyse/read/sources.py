"""Which data a command uses when the user names none, and how each edition is described.

Defaults (README, « Données utilisées par défaut »):

- ``rapport``: the rounds typed by hand in ``data/raw/selections/`` for the départements
  they cover (the Hautes-Alpes of the press release), the national COSELEC list for
  every other département;
- ``rapports``, ``mensuel``, ``controle``: the national list for every département, so
  that the national index and the département reports rest on one source;
- ``--fragilite`` and ``--lieux``: the embedded IFN 2023 and places of July 2022.

The national list is the newest edition among the copy embedded in ``data/raw/embarque/``
and the one ``analyse telecharger`` writes to ``data/raw/national/``: the one whose
latest committee is the latest, read from the file itself (it survives copies, whereas
file dates after a ``git clone`` mean nothing). On a tie the downloaded copy wins (a
later snapshot of the same committees, with the ANCT's corrections). The edition a
report names is ``list_edition``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from analyse import config
from analyse.errors import UserError
from analyse.read.files import CsvFileError, data_suffix, read_csv_rows
from analyse.read.names import normalise_text
from analyse.read.selections import (
    COSELEC_COLUMNS,
    list_selection_files,
    parse_committee_date,
    read_selections,
)

EMBEDDED = "copie embarquée"
NATIONAL_NAME = "liste nationale COSELEC de l'ANCT"


class MissingDataError(UserError):
    """A default data file is missing from the project (message in French)."""


def fr_date(day: date | str) -> str:
    """``05/04/2023``, the way the national list and French readers write dates."""
    return date.fromisoformat(str(day)[:10]).strftime("%d/%m/%Y")


relative = config.relative_to_project


def last_committee(path: Path) -> date | None:
    """Date of the latest committee in a national COSELEC list; None if ``path`` is not
    one (no « Date de validation en comité de sélection » column with a readable date)
    or cannot be read as CSV (the selection reader, which reads it next, says why)."""
    try:
        table = read_csv_rows(path)
    except CsvFileError:
        return None
    header = [normalise_text(h).replace(" ", "_") for h in table.header]
    column = COSELEC_COLUMNS["date_comite"]
    if column not in header:
        return None
    at = header.index(column)
    dates = [parse_committee_date(row[at]) for _, row in table.rows if len(row) > at]
    known = [d for d in dates if d is not None]
    return max(known).date() if known else None


# A date in a file name: 2023-04-05, as data.gouv.fr names its resources.
_DATE_IN_NAME = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")


def list_edition(path: Path, latest_committee: date) -> tuple[str, str]:
    """The edition of a national list: the one rule that names it, everywhere.

    The date in the file's name (``…-2023-04-05.csv``, as data.gouv.fr names its
    resources) when there is one; otherwise the date of the list's latest committee
    (the copy of ``analyse telecharger`` has no date in its name). Returns the edition
    (AAAA-MM-JJ) and how it was found, in French.
    """
    found = _DATE_IN_NAME.search(Path(path).name)
    if found:
        return found.group(0), "date du nom du fichier"
    return latest_committee.isoformat(), "date de son dernier comité"


@dataclass(frozen=True)
class NationalList:
    """One copy of the national list: where it is, its edition, whether it is embedded."""

    path: Path
    last_committee: date | None
    embedded: bool

    @property
    def edition(self) -> str:
        """In French, for the command's output and the report's provenance."""
        if self.embedded:
            edition, _ = list_edition(self.path, self.last_committee or date.min)
            return f"{NATIONAL_NAME}, édition du {fr_date(edition)} ({EMBEDDED})"
        last = fr_date(self.last_committee) if self.last_committee else "inconnu"
        return f"{NATIONAL_NAME} téléchargée, dernier comité le {last} ({relative(self.path)})"


def national_list() -> NationalList:
    """The national list used by default: the newest edition (see the module's note)."""
    copies = []
    if config.EMBEDDED_NATIONAL_LIST.exists():
        copies.append(
            NationalList(
                config.EMBEDDED_NATIONAL_LIST,
                last_committee(config.EMBEDDED_NATIONAL_LIST),
                embedded=True,
            )
        )
    if config.NATIONAL_LIST.exists():
        downloaded = NationalList(
            config.NATIONAL_LIST, last_committee(config.NATIONAL_LIST), embedded=False
        )
        if downloaded.last_committee is None:
            raise MissingDataError(
                f"{relative(config.NATIONAL_LIST)} n'est pas une liste nationale COSELEC "
                "lisible (pas de date de comité). Supprimez-le ou relancez « analyse "
                "telecharger »."
            )
        copies.append(downloaded)
    if not copies:
        raise MissingDataError(
            f"liste nationale introuvable : ni {relative(config.EMBEDDED_NATIONAL_LIST)} "
            f"(copie embarquée), ni {relative(config.NATIONAL_LIST)}. Récupérez le dépôt "
            "complet ou lancez « analyse telecharger »."
        )
    return max(copies, key=lambda c: (c.last_committee or date.min, not c.embedded))


def _attributions(table) -> list[tuple[str, str]]:
    """Each row of a national list as the attribution it records: its structure (SIRET,
    else name and commune) and its committee's day."""
    ident = table["code"].where(table["code"] != "", table["structure"] + "|" + table["commune"])
    return list(zip(ident, table["date_comite"].dt.strftime("%Y-%m-%d"), strict=True))


def vanished_attributions(new, previous):
    """The rows of ``previous`` whose attribution (``_attributions``) ``new`` lacks."""
    kept = set(_attributions(new))
    return previous.loc[[pair not in kept for pair in _attributions(previous)]]


EXAMPLES_SHOWN = 3


def implausible_edition(
    new, previous, today: date | None = None, confirmed: str | None = None
) -> list[str]:
    """What makes ``new`` (a national list read by ``read_selection_file``) look like
    something other than a newer edition of ``previous`` (the copy it would replace,
    same reading; None: nothing to compare with), in French; empty when plausible.

    Refused: fewer structures or posts than ``config.DOWNLOAD_MIN_SHARE`` of the
    previous edition, a committee after ``today``, a last committee earlier than the
    previous edition's, and, unless ``confirmed`` (how the publisher vouched for the
    file received: its checksum, its announced length), any attribution of
    ``previous`` missing from ``new``: editions add committees, so a list cut at a row
    boundary (complete rows, fewer of them) is otherwise unseen.
    """
    from analyse.wording import fmt_number, plural

    today = today or date.today()
    problems = []
    latest = new["date_comite"].max().date() if len(new) else None
    if latest is not None and latest > today:
        problems.append(
            f"son dernier comité est daté du {fr_date(latest)}, dans le futur (aujourd'hui : "
            f"{fr_date(today)})"
        )
    if previous is None or not len(previous):
        return problems
    share = config.DOWNLOAD_MIN_SHARE
    for what, count, before in (
        ("structure", len(new), len(previous)),
        ("poste", int(new["postes"].sum()), int(previous["postes"].sum())),
    ):
        if count < share * before:
            problems.append(
                f"{plural(count, what)} contre {fmt_number(before)} dans la copie "
                f"actuelle ({fmt_number(100 * count / before)} % ; au moins "
                f"{fmt_number(100 * share)} % attendus : une liste coupée en route ?)"
            )
    missing = vanished_attributions(new, previous)
    if len(missing) and confirmed is None:
        examples = " ; ".join(
            f"« {row.structure} », comité du {fr_date(row.date_comite)}"
            for row in missing.head(EXAMPLES_SHOWN).itertuples()
        )
        more = " ; …" if len(missing) > EXAMPLES_SHOWN else ""
        count = len(missing)
        problems.append(
            f"{plural(count, 'attribution')} (structure et comité) de la copie actuelle "
            f"{'manquent' if count > 1 else 'manque'} dans la liste reçue, soit "
            f"{plural(int(missing['postes'].sum()), 'poste')} (par exemple {examples}{more}), "
            "et rien ne confirme qu'elle est entière (ni somme de contrôle ni longueur "
            "annoncée par le serveur : une liste coupée en route ?)"
        )
    before = previous["date_comite"].max().date()
    if latest is not None and latest < before:
        problems.append(
            f"son dernier comité, le {fr_date(latest)}, est antérieur à celui de la copie "
            f"actuelle ({fr_date(before)} ; une édition plus ancienne ?)"
        )
    return problems


def seed_departements() -> set[str]:
    """Départements covered by the rounds typed by hand in ``data/raw/selections/``."""
    if not list_selection_files([config.SELECTIONS_DIR]):
        return set()
    return set(read_selections([config.SELECTIONS_DIR])["departement"])


def default_selections(departement: str | None = None) -> list[Path]:
    """What ``--selections`` means when absent: for one département (``rapport``), the
    hand-typed rounds if they cover it; otherwise, and for every other command, the
    national list."""
    if departement is not None and departement in seed_departements():
        return [config.SELECTIONS_DIR]
    return [national_list().path]


def describe_selections(paths: Iterable[Path]) -> list[str]:
    """One French phrase per selection path: which data, which edition."""
    phrases = []
    for path in map(Path, paths):
        if path.resolve() == config.SELECTIONS_DIR.resolve():
            phrases.append(f"sélections des comités saisies dans {relative(path)}/")
            continue
        files = list_selection_files([path]) if path.is_dir() else [path]
        for file in files:
            last = last_committee(file) if data_suffix(file) != ".xlsx" else None
            if last is None:
                phrases.append(f"sélections : {relative(file)}")
            elif file.resolve() == config.EMBEDDED_NATIONAL_LIST.resolve():
                phrases.append(NationalList(file, last, embedded=True).edition)
            else:
                phrases.append(
                    f"{NATIONAL_NAME}, dernier comité le {fr_date(last)} ({relative(file)})"
                )
    return phrases


def editions_line(editions: list[str]) -> str:
    """The one line every command prints: which data, which editions."""
    return "Données utilisées : " + " ; ".join(editions) + "."
