"""Download the national COSELEC list from data.gouv.fr, safely.

The file is streamed to a temporary file beside the target, hashed on the way, checked
(expected SHA-256 if given, then the header of the COSELEC list) and only then renamed
onto the target. A failed or interrupted download never leaves a half-written file and
never damages a previous copy. Only the standard library is used.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from analyse import __version__ as _version
from analyse.atomic import atomic_path, remove_dead_temporaries
from analyse.errors import UserError, os_error_text

# Dataset page on data.gouv.fr (ANCT): "Conseiller numérique – Liste des structures
# validées par le comité de sélection". The slug was found in public code that reads the
# very edition embedded in data/raw/embarque/ (20230405, 3 925 posts).
COSELEC_DATASET_URL = (
    "https://www.data.gouv.fr/fr/datasets/"
    "conseiller-numerique-liste-des-structures-validees-par-le-comite-de-selection/"
)

# The data.gouv.fr API describes the dataset and its resources (URL, format, checksum,
# date): the current CSV is found there rather than through a resource id that changes
# with each new edition.
COSELEC_API_URL = (
    "https://www.data.gouv.fr/api/1/datasets/"
    "conseiller-numerique-liste-des-structures-validees-par-le-comite-de-selection/"
)

# Both must appear in the first line of the COSELEC CSV.
EXPECTED_HEADER_PARTS = ("Raison sociale", "Nombre de conseillers valid")

_CHUNK_SIZE = 64 * 1024
_HEAD_SIZE = 64 * 1024
_USER_AGENT = f"analyse/{_version} (Conseillers numériques France Services; urllib)"


class DownloadError(UserError):
    """A download that failed or was rejected; the message (in French) is for the user."""


class ImplausibleListError(DownloadError):
    """A well-formed list that does not look like a newer edition of the copy it would
    replace (far fewer posts, an older last committee…)."""


@dataclass(frozen=True)
class Resource:
    """A CSV resource of the dataset, as described by the data.gouv.fr API."""

    url: str
    title: str
    last_modified: str
    checksum: tuple[str, str] | None  # (algorithm, hex digest), e.g. ("sha1", "…")


@dataclass(frozen=True)
class DownloadResult:
    """A completed download: where it is, its SHA-256 (hex) and its size in bytes."""

    path: Path
    sha256: str
    size: int
    content: object = None  # what ``validate`` returned (the table read), if given


def sidecar_path(target: Path) -> Path:
    """Path of the ``.sha256`` file written beside ``target``."""
    target = Path(target)
    return target.with_suffix(target.suffix + ".sha256")


def _manual_hint() -> str:
    return (
        "Vous pouvez télécharger le fichier à la main depuis data.gouv.fr "
        f"({COSELEC_DATASET_URL}) puis l'indiquer avec --selections CHEMIN."
    )


def _network_error(url: str, detail: object) -> DownloadError:
    return DownloadError(
        f"Échec du téléchargement de {url} : le serveur n'a pas pu être joint, "
        "probablement faute d'accès au réseau (pas de connexion, nom de domaine introuvable, "
        f"connexion refusée ou délai dépassé). Détail : {detail}. {_manual_hint()}"
    )


def _http_error(url: str, code: int, reason: str) -> DownloadError:
    if code == 404:
        why = "le fichier n'existe pas (ou plus) à cette adresse"
    elif 500 <= code < 600:
        why = "le serveur rencontre un problème, réessayez plus tard"
    else:
        why = "la requête a été refusée"
    return DownloadError(
        f"Échec du téléchargement de {url} : le serveur a répondu HTTP {code} "
        f"({reason}) ; {why}. {_manual_hint()}"
    )


def _check_header(path: Path, url: str) -> None:
    """Raise DownloadError unless the first line looks like the COSELEC list header."""
    with path.open("rb") as f:
        head = f.read(_HEAD_SIZE)
    first_line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    if all(part in first_line for part in EXPECTED_HEADER_PARTS):
        return
    looks_html = head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    what = "une page web (HTML)" if looks_html else "un fichier sans l'en-tête attendu"
    if not head:
        what = "un fichier vide"
    raise DownloadError(
        f"Le fichier reçu de {url} n'est pas la liste attendue des structures validées par "
        f"le comité de sélection (COSELEC) : c'est {what}, sans les colonnes "
        "« Raison sociale » et « Nombre de conseillers validés par le COSELEC » en première "
        f"ligne. Rien n'a été enregistré. {_manual_hint()}"
    )


def resolve_resource(api_url: str = COSELEC_API_URL, timeout: float = 30) -> Resource:
    """The most recent CSV resource of the dataset, with the checksum the API publishes."""
    import json

    with TemporaryDirectory() as folder:
        tmp = Path(folder) / "dataset.json"
        _stream(api_url, tmp, timeout)
        try:
            dataset = json.loads(tmp.read_text(encoding="utf-8"))
        except RecursionError:  # arrays within arrays, thousands deep
            raise DownloadError(
                f"La réponse de {api_url} n'est pas la description JSON attendue du jeu de "
                "données (tableaux ou objets imbriqués trop profondément). "
                f"{_manual_hint()}"
            ) from None
        except ValueError as exc:
            where = (
                f"ligne {exc.lineno}, colonne {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else "pas en UTF-8"
            )
            raise DownloadError(
                f"La réponse de {api_url} n'est pas la description JSON attendue du jeu de "
                f"données (JSON invalide : {where}). {_manual_hint()}"
            ) from exc
    try:
        return _latest_csv(dataset, api_url)
    except (AttributeError, TypeError, KeyError):
        # JSON, but not the dataset description: a list, resources that are not objects…
        raise DownloadError(
            f"La réponse de {api_url} est du JSON, mais pas la description attendue d'un jeu "
            "de données data.gouv.fr (un objet avec une liste « resources » d'objets). "
            f"{_manual_hint()}"
        ) from None


def _latest_csv(dataset: dict, api_url: str) -> Resource:
    resources = [
        r
        for r in dataset.get("resources", [])
        if str(r.get("format", "")).lower() == "csv" and isinstance(r.get("url"), str) and r["url"]
    ]
    if not resources:
        raise DownloadError(
            f"Le jeu de données décrit par {api_url} ne contient aucune ressource CSV. "
            f"{_manual_hint()}"
        )
    # A resource without a date (null, absent) is older than any dated one: « None »
    # compared as text would come after every date.
    latest = max(resources, key=lambda r: str(r.get("last_modified") or ""))
    checksum = latest.get("checksum") or {}
    algorithm = str(checksum.get("type", "")).lower()
    return Resource(
        url=latest["url"],
        title=str(latest.get("title", "")),
        last_modified=str(latest.get("last_modified", "")),
        checksum=(algorithm, str(checksum["value"]).lower())
        if algorithm in hashlib.algorithms_available and checksum.get("value")
        else None,
    )


# Addresses a download may take: the web, and local files (a copy on a shared drive).
URL_SCHEMES = ("https", "http", "file")


def check_url(url: str, option: str | None = "--url") -> None:
    """Refuse, before any connection, an address that urllib cannot fetch (its own
    message, « unknown url type », is English)."""
    scheme = urllib.parse.urlsplit(url).scheme.lower() if url else ""
    if scheme not in URL_SCHEMES:
        what = f"{option} : adresse" if option else "Adresse de téléchargement"
        what += f" invalide « {url} »" if url else " vide"
        raise DownloadError(
            f"{what} : une adresse commence par https://, http:// ou file:// (par exemple "
            "https://www.data.gouv.fr/…/fichier.csv). Rien n'a été téléchargé."
        )


def check_sha256(value: str | None) -> str | None:
    """``--sha256``: 64 hexadecimal digits (lower-cased), checked before downloading."""
    if value is None:
        return None
    cleaned = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", cleaned):
        raise DownloadError(
            f"--sha256 : « {value} » n'est pas une somme SHA-256 : 64 chiffres "
            "hexadécimaux (0 à 9, a à f) sont attendus, tels que « sha256sum » les écrit. "
            "Rien n'a été téléchargé."
        )
    return cleaned


@dataclass(frozen=True)
class _Received:
    """A body received: its SHA-256 (hex), its size, the other digest asked for, and the
    length the server announced (None: it announced none)."""

    sha256: str
    size: int
    other: str | None
    announced: int | None


def _announced_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _stream(url: str, tmp: Path, timeout: float, also: str | None = None) -> _Received:
    """Write the body at ``url`` into ``tmp``; return its SHA-256 (hex), its size,
    when ``also`` names another hash algorithm that digest too, and its announced
    length."""
    check_url(url, None)
    digest = hashlib.sha256()
    other = hashlib.new(also) if also else None
    size, announced = 0, None
    try:
        # An address with accents (« …/liste-validée.csv ») is sent percent-encoded.
        address = urllib.parse.quote(url, safe=":/?#[]@!$&'()*+,;=%~")
        request = urllib.request.Request(address, headers={"User-Agent": _USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response, tmp.open("wb") as out:
            announced = _announced_length(response)
            while chunk := response.read(_CHUNK_SIZE):
                digest.update(chunk)
                if other is not None:
                    other.update(chunk)
                out.write(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _http_error(url, exc.code, str(exc.reason)) from exc
    except urllib.error.URLError as exc:
        raise _network_error(url, exc.reason) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise _network_error(url, str(exc) or type(exc).__name__) from exc
    except http.client.HTTPException as exc:
        raise DownloadError(
            f"Échec du téléchargement de {url} : la connexion a été interrompue avant la fin "
            f"du fichier ({type(exc).__name__}). Rien n'a été enregistré ; réessayez. "
            f"{_manual_hint()}"
        ) from exc
    except ValueError:  # what urlsplit accepts and urlopen does not
        raise DownloadError(
            f"Adresse de téléchargement invalide : « {url} » (une adresse commence par "
            "https://, http:// ou file://)."
        ) from None
    except OSError as exc:
        raise DownloadError(
            f"Échec du téléchargement de {url} vers {tmp.parent} : {exc}. Rien n'a été enregistré."
        ) from exc
    other_hex = other.hexdigest() if other is not None else None
    return _Received(digest.hexdigest(), size, other_hex, announced)


def download(
    url: str,
    target: Path,
    sha256: str | None = None,
    timeout: float = 30,
    checksum: tuple[str, str] | None = None,
    validate: Callable[[Path, str | None], object] | None = None,
) -> DownloadResult:
    """Download ``url`` to ``target`` atomically and write ``target``'s ``.sha256`` sidecar.

    If ``sha256`` is given, the download must match it; likewise ``checksum``, an
    (algorithm, hex digest) pair such as the ``sha1`` that data.gouv.fr publishes. The
    content must look like the COSELEC list (checked on its first line); ``validate``,
    when given, then reads the whole temporary file (every row, with the reader the
    reports use) and raises ``UserError`` on a bad row; it is also told how the publisher
    vouched for the file being whole (the checksum verified, the length the server
    announced, in French; None when nothing did). Its result is kept in
    ``DownloadResult.content``; it may also raise ``DownloadError`` (a list that is not
    plausible), passed on as it is. Temporary files of a killed earlier download are
    removed first. On any failure ``DownloadError`` is raised, no temporary
    file remains, and the previous ``target`` and its ``.sha256`` are left as they were:
    both are replaced only once the new file is wholly valid.
    """
    target = Path(target)
    sidecar = sidecar_path(target)
    content = None
    if target.parent.is_dir():  # what a killed download left behind
        for leftover in (target, sidecar):
            remove_dead_temporaries(leftover)
    try:
        with atomic_path(target) as tmp, atomic_path(sidecar) as tmp_sidecar:
            expected = [("sha256", sha256.strip().lower())] if sha256 else []
            if checksum:
                expected.append((checksum[0].lower(), checksum[1].strip().lower()))
            also = checksum[0].lower() if checksum and checksum[0].lower() != "sha256" else None
            received = _stream(url, tmp, timeout, also)
            digest, size = received.sha256, received.size
            for algorithm, value in expected:
                got = digest if algorithm == "sha256" else received.other
                if got != value:
                    raise DownloadError(
                        f"La somme de contrôle {algorithm.upper().replace('SHA', 'SHA-')} du "
                        "fichier téléchargé depuis "
                        f"{url} ne correspond pas : attendue {value}, obtenue {got}. "
                        f"Le fichier n'a pas été enregistré ; {target} est inchangé."
                    )
            _check_header(tmp, url)
            # How the publisher vouched for the file being whole, if it did.
            if expected:
                confirmed = "somme de contrôle " + ", ".join(
                    a.upper().replace("SHA", "SHA-") for a, _ in expected
                )
            elif received.announced == size:
                confirmed = f"longueur annoncée par le serveur ({size} octets)"
            else:
                confirmed = None
            if validate is not None:
                try:
                    content = validate(tmp, confirmed)
                except DownloadError:
                    raise
                except UserError as exc:
                    raise DownloadError(
                        f"Le fichier reçu de {url} a l'en-tête de la liste nationale mais une "
                        f"ligne invalide : {exc} Rien n'a "
                        f"été remplacé : {target} et sa somme de contrôle sont inchangés."
                    ) from None
            tmp_sidecar.write_text(f"{digest}  {target.name}\n", encoding="utf-8")
            # Leaving the blocks renames the sidecar, then the file: a kill between the
            # two leaves a sidecar that does not match, which says the copy is suspect.
    except OSError as exc:  # creating the temporary files or renaming them
        raise DownloadError(f"Impossible d'enregistrer {target} : {os_error_text(exc)}") from exc
    return DownloadResult(path=target, sha256=digest, size=size, content=content)
