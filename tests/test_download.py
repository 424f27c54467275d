"""Download of the COSELEC list, against a local HTTP server only (never the internet)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NATIONAL_FILE

from analyse.read.download import (
    COSELEC_API_URL,
    DownloadError,
    DownloadResult,
    download,
    resolve_resource,
    sidecar_path,
)
from analyse.read.files import read_bytes

CSV_NAME = "coselec.csv"

# A tiny file with the real header, for tests that do not need the national list.
SMALL_CSV = (
    "Raison sociale;Commune INSEE;Département;Région;"
    "Nombre de conseillers validés par le COSELEC;Date de validation en comité de sélection\n"
    "COMMUNE TEST;Gap;Hautes-Alpes;Provence-Alpes-Côte d'Azur;1;28/04/2021\n"
).encode()

HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>data.gouv.fr</title></head><body></body></html>\n"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    # Under this prefix, a file is sent without its length (no Content-Length: the end
    # of the connection ends it), as a server streaming an export does: a transfer cut
    # there looks complete.
    UNANNOUNCED = "/sans-longueur/"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if not self.path.startswith(self.UNANNOUNCED):
            return super().do_GET()
        path = Path(self.translate_path("/" + self.path[len(self.UNANNOUNCED) :]))
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(path.read_bytes())
        self.close_connection = True


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Serve a temporary folder on 127.0.0.1 (ephemeral port); yield (base URL, folder)."""
    root = tmp_path_factory.mktemp("served")
    # The national list as data.gouv.fr serves it: the embedded copy, decompressed.
    (root / CSV_NAME).write_bytes(read_bytes(NATIONAL_FILE))
    (root / "small.csv").write_bytes(SMALL_CSV)
    (root / "small-bom.csv").write_bytes(b"\xef\xbb\xbf" + SMALL_CSV)
    (root / "page.html").write_bytes(HTML_PAGE)
    (root / "empty.csv").write_bytes(b"")
    (root / "not-json").write_bytes(HTML_PAGE)

    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def shared_csv(served) -> Path:
    """The full national list, uncompressed, as served."""
    return served[1] / CSV_NAME


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_only(folder: Path, *names: str) -> None:
    """No temporary file left: the folder holds exactly ``names``."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_coselec_api_is_data_gouv() -> None:
    assert COSELEC_API_URL.startswith("https://www.data.gouv.fr/api/1/datasets/")


def test_download_success(served, shared_csv, tmp_path) -> None:
    base, _ = served
    target = tmp_path / "selections" / "coselec.csv"  # the folder is created

    result = download(f"{base}/{CSV_NAME}", target)

    assert isinstance(result, DownloadResult)
    assert result.path == target
    assert target.read_bytes() == shared_csv.read_bytes()
    assert result.sha256 == _sha256(shared_csv)
    assert result.size == shared_csv.stat().st_size
    sidecar = sidecar_path(target)
    assert sidecar.name == "coselec.csv.sha256"
    assert sidecar.read_text(encoding="utf-8") == f"{result.sha256}  coselec.csv\n"
    _assert_only(target.parent, "coselec.csv", "coselec.csv.sha256")


def test_expected_sha256_passes(served, shared_csv, tmp_path) -> None:
    base, _ = served
    target = tmp_path / "coselec.csv"
    expected = _sha256(shared_csv)

    result = download(f"{base}/{CSV_NAME}", target, sha256=expected.upper())

    assert result.sha256 == expected
    assert target.read_bytes() == shared_csv.read_bytes()


def test_wrong_sha256_creates_nothing(served, shared_csv, tmp_path) -> None:
    base, _ = served
    target = tmp_path / "coselec.csv"

    with pytest.raises(DownloadError, match="SHA-256"):
        download(f"{base}/{CSV_NAME}", target, sha256="0" * 64)

    assert not target.exists()
    assert not sidecar_path(target).exists()
    _assert_only(tmp_path)


def test_wrong_sha256_keeps_previous_target(served, shared_csv, tmp_path) -> None:
    base, _ = served
    target = tmp_path / "coselec.csv"
    previous = b"Raison sociale;Nombre de conseillers valid\xc3\xa9s\nANCIENNE;1\n"
    target.write_bytes(previous)
    sidecar_path(target).write_text("ancienne somme  coselec.csv\n", encoding="utf-8")

    with pytest.raises(DownloadError):
        download(f"{base}/{CSV_NAME}", target, sha256="f" * 64)

    assert target.read_bytes() == previous
    assert sidecar_path(target).read_text(encoding="utf-8") == "ancienne somme  coselec.csv\n"
    _assert_only(tmp_path, "coselec.csv", "coselec.csv.sha256")


def test_replaces_previous_target(served, tmp_path) -> None:
    base, _ = served
    target = tmp_path / "coselec.csv"
    target.write_bytes(b"old")
    sidecar_path(target).write_text("old  coselec.csv\n", encoding="utf-8")

    result = download(f"{base}/small.csv", target)

    assert target.read_bytes() == SMALL_CSV
    assert sidecar_path(target).read_text(encoding="utf-8") == f"{result.sha256}  coselec.csv\n"
    _assert_only(tmp_path, "coselec.csv", "coselec.csv.sha256")


def test_header_with_bom_is_accepted(served, tmp_path) -> None:
    base, _ = served
    result = download(f"{base}/small-bom.csv", tmp_path / "coselec.csv")
    assert result.size == len(SMALL_CSV) + 3


def test_http_404(served, tmp_path) -> None:
    base, _ = served
    url = f"{base}/absent.csv"
    target = tmp_path / "coselec.csv"

    with pytest.raises(DownloadError, match="404") as info:
        download(url, target)

    assert url in str(info.value)
    _assert_only(tmp_path)


def test_connection_refused(tmp_path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/coselec.csv"
    target = tmp_path / "coselec.csv"

    with pytest.raises(DownloadError) as info:
        download(url, target, timeout=2)

    message = str(info.value)
    assert "réseau" in message
    assert url in message
    assert "--selections" in message
    _assert_only(tmp_path)


def test_timeout(tmp_path) -> None:
    # A socket that listens but never answers: the connection opens, no response comes.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/coselec.csv"
        with pytest.raises(DownloadError, match="réseau") as info:
            download(url, tmp_path / "coselec.csv", timeout=0.2)
    assert url in str(info.value)
    _assert_only(tmp_path)


def test_invalid_url(tmp_path) -> None:
    with pytest.raises(DownloadError, match="invalide"):
        download("pas-une-adresse/coselec.csv", tmp_path / "coselec.csv")
    _assert_only(tmp_path)


@pytest.mark.parametrize("name", ["page.html", "empty.csv"])
def test_not_the_coselec_list(served, tmp_path, name) -> None:
    base, _ = served
    target = tmp_path / "coselec.csv"

    with pytest.raises(DownloadError, match="n'est pas la liste attendue"):
        download(f"{base}/{name}", target)

    assert not target.exists()
    _assert_only(tmp_path)


def test_not_the_coselec_list_keeps_previous_target(served, tmp_path) -> None:
    base, _ = served
    target = tmp_path / "coselec.csv"
    target.write_bytes(SMALL_CSV)

    with pytest.raises(DownloadError, match="HTML"):
        download(f"{base}/page.html", target)

    assert target.read_bytes() == SMALL_CSV
    _assert_only(tmp_path, "coselec.csv")


def _dataset_json(root: Path, base: str, checksum: str, name: str = "dataset.json") -> str:
    """A data.gouv.fr-style dataset description with an older and a newer CSV."""
    import json

    dataset = {
        "resources": [
            {
                "format": "csv",
                "url": f"{base}/small.csv",
                "title": "ancienne",
                "last_modified": "2022-01-01T00:00:00",
                "checksum": None,
            },
            {
                "format": "csv",
                "url": f"{base}/{CSV_NAME}",
                "title": "structures validées",
                "last_modified": "2023-04-05T10:00:00",
                "checksum": {"type": "sha1", "value": checksum},
            },
            {
                "format": "pdf",
                "url": f"{base}/page.html",
                "title": "notice",
                "last_modified": "2024-01-01T00:00:00",
            },
        ]
    }
    (root / name).write_text(json.dumps(dataset), encoding="utf-8")
    return f"{base}/{name}"


def test_resolve_picks_the_latest_csv_with_its_checksum(served, shared_csv) -> None:
    base, root = served
    sha1 = hashlib.sha1(shared_csv.read_bytes()).hexdigest()
    resource = resolve_resource(_dataset_json(root, base, sha1))
    assert resource.url == f"{base}/{CSV_NAME}"
    assert resource.checksum == ("sha1", sha1)


def test_published_checksum_is_verified(served, shared_csv, tmp_path) -> None:
    base, root = served
    good = resolve_resource(
        _dataset_json(root, base, hashlib.sha1(shared_csv.read_bytes()).hexdigest())
    )
    result = download(good.url, tmp_path / "ok.csv", checksum=good.checksum)
    assert result.sha256 == _sha256(shared_csv)
    bad = resolve_resource(_dataset_json(root, base, "0" * 40, "bad.json"))
    with pytest.raises(DownloadError, match="SHA-1"):
        download(bad.url, tmp_path / "bad.csv", checksum=bad.checksum)
    _assert_only(tmp_path, "ok.csv", "ok.csv.sha256")


def test_api_answer_that_is_not_json(served) -> None:
    base, _ = served
    with pytest.raises(DownloadError, match="JSON"):
        resolve_resource(f"{base}/not-json")


def test_cli_telecharger(served, shared_csv, tmp_path, capsys) -> None:
    from analyse import cli

    base, root = served
    api = _dataset_json(root, base, hashlib.sha1(shared_csv.read_bytes()).hexdigest(), "cli.json")
    target = tmp_path / "coselec.csv"
    assert cli.main(["telecharger", "--api", api, "--sortie", str(target)]) == 0
    assert target.read_bytes() == shared_csv.read_bytes()
    assert "3925" in capsys.readouterr().out.replace("\u202f", "").replace(" ", "")
    refused = f"http://127.0.0.1:{_free_port()}/api"
    assert cli.main(["telecharger", "--api", refused, "--sortie", str(target)]) == 2
    assert "réseau" in capsys.readouterr().err
    assert target.read_bytes() == shared_csv.read_bytes()  # previous copy intact


def test_bad_rows_never_replace_the_good_copy(served, shared_csv, tmp_path, capsys) -> None:
    """A file with the right header but a bad row is refused before anything is replaced."""
    from analyse import cli

    base, root = served
    lines = shared_csv.read_text(encoding="utf-8").splitlines()[:3]
    lines[2] = lines[2].replace(";1;14/04/2021;", ";beaucoup;14/04/2021;")
    (root / "bad-rows.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "coselec.csv"
    target.write_bytes(b"la bonne copie")
    sidecar_path(target).write_text("abc  coselec.csv\n", encoding="utf-8")

    code = cli.main(["telecharger", "--url", f"{base}/bad-rows.csv", "--sortie", str(target)])

    err = capsys.readouterr().err
    assert code == 2, err
    assert "ligne 3" in err and "nombre de postes non entier « beaucoup »" in err
    assert "Rien n'a été remplacé" in err
    assert target.read_bytes() == b"la bonne copie"
    assert sidecar_path(target).read_text(encoding="utf-8") == "abc  coselec.csv\n"
    _assert_only(tmp_path, "coselec.csv", "coselec.csv.sha256")


@pytest.mark.parametrize(
    "answer",
    ["[1, 2]", '{"resources": [1]}', '{"resources": [{"format": "csv", "url": 3}]}', '"texte"'],
)
def test_malformed_api_answer(served, tmp_path, capsys, answer) -> None:
    from analyse import cli

    base, root = served
    (root / "api.json").write_text(answer, encoding="utf-8")
    target = tmp_path / "coselec.csv"
    code = cli.main(["telecharger", "--api", f"{base}/api.json", "--sortie", str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{base}/api.json" in err and "Traceback" not in err
    assert not target.exists()


def _good_copy(shared_csv: Path, tmp_path: Path) -> Path:
    target = tmp_path / "coselec.csv"
    target.write_bytes(shared_csv.read_bytes())
    sidecar_path(target).write_text(f"{_sha256(target)}  coselec.csv\n", encoding="utf-8")
    return target


def _serve_variant(root: Path, shared_csv: Path, kind: str) -> str:
    """A well-formed list that is not a plausible newer edition of the embedded one."""
    lines = shared_csv.read_text(encoding="utf-8").splitlines()
    if kind == "tronquée":  # cut after 200 rows, no length, no checksum
        kept = lines[:201]
    elif kind == "une ligne":
        kept = lines[:2]
    elif kind == "datée dans le futur":
        kept = [lines[0], *(re.sub(r";\d\d/\d\d/\d{4};", ";05/04/2099;", x) for x in lines[1:3])]
    else:  # an older edition: the committees up to 2022 only
        kept = [lines[0], *(x for x in lines[1:] if re.search(r";\d\d/\d\d/202[12];", x))]
    name = f"variante-{kind.replace(' ', '-')}.csv"
    (root / name).write_text("\n".join(kept) + "\n", encoding="utf-8")
    return name


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("tronquée", "200 structures contre 2 889"),
        ("une ligne", "1 structure contre 2 889"),
        ("datée dans le futur", "date de comité dans le futur"),
        ("plus ancienne", "est antérieur à celui de la copie actuelle (05/04/2023"),
    ],
)
def test_implausible_lists_never_replace_the_good_copy(
    served, shared_csv, tmp_path, capsys, kind, expected
) -> None:
    """A list cut short, of one row, dated in the future or older than the copy in place
    is refused (exit 2, the good copy and its checksum kept); ``--forcer`` replaces it
    and says so, except for a row the reports themselves would refuse."""
    from analyse import cli

    base, root = served
    name = _serve_variant(root, shared_csv, kind)
    target = _good_copy(shared_csv, tmp_path)
    before = target.read_bytes(), sidecar_path(target).read_text(encoding="utf-8")
    argv = ["telecharger", "--url", f"{base}/{name}", "--sortie", str(target)]

    code = cli.main(argv)
    err = capsys.readouterr().err.replace("\u202f", " ")
    assert code == 2, err
    assert expected in err, err
    assert "Traceback" not in err
    assert (target.read_bytes(), sidecar_path(target).read_text(encoding="utf-8")) == before
    _assert_only(tmp_path, "coselec.csv", "coselec.csv.sha256")

    code = cli.main([*argv, "--forcer"])
    captured = capsys.readouterr()
    if kind == "datée dans le futur":  # every report would refuse the row: not forced
        assert code == 2
        assert target.read_bytes() == before[0]
        return
    assert code == 0, captured.err
    assert target.read_bytes() == (root / name).read_bytes()
    assert "malgré ce qui la rendait douteuse (--forcer)" in captured.out


def test_plausible_list_replaces_without_forcing(served, shared_csv, tmp_path, capsys) -> None:
    """The same edition again (or a newer one) replaces the copy without any option."""
    from analyse import cli

    base, _ = served
    target = _good_copy(shared_csv, tmp_path)
    assert cli.main(["telecharger", "--url", f"{base}/{CSV_NAME}", "--sortie", str(target)]) == 0
    assert "--forcer" not in capsys.readouterr().out


def test_leftovers_of_a_killed_download_are_removed(served, shared_csv, tmp_path) -> None:
    """Temporary files of a download killed mid-way (its process gone) are removed by the
    next run; those of a download still running are left alone."""
    import subprocess
    import sys

    base, _ = served
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    target = tmp_path / "coselec.csv"
    killed = [
        tmp_path / f".coselec.{pid}-x1.tmp.csv",
        tmp_path / f".coselec.csv.{pid}-x2.tmp.sha256",
    ]
    running = tmp_path / f".coselec.{os.getpid()}-x3.tmp.csv"
    for path in [*killed, running]:
        path.write_bytes(b"moitie")

    download(f"{base}/{CSV_NAME}", target)

    assert not any(p.exists() for p in killed)
    assert running.exists()


# ------------------------------------------- issue 31, item 5: smaller defects, one by one


def test_deeply_nested_api_answer_is_said_in_french(tmp_path, capsys) -> None:
    """``json.loads`` raises RecursionError, not ValueError, on an answer nested 100 000
    deep: a traceback instead of « la réponse n'est pas la description attendue »."""
    from analyse import cli

    api = tmp_path / "api.json"
    api.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    target = tmp_path / "sortie" / "coselec.csv"
    code = cli.main(["telecharger", "--api", api.as_uri(), "--sortie", str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "api.json" in err and "imbriqu" in err and "Traceback" not in err, err
    assert not target.exists()


def test_a_malformed_sha256_is_refused_before_downloading(tmp_path, capsys) -> None:
    """``--sha256 xyz`` can match no file: said at once, naming the option, before any
    connection (the port here is closed: a download would say « réseau »)."""
    from analyse import cli

    url = f"http://127.0.0.1:{_free_port()}/coselec.csv"
    target = tmp_path / "coselec.csv"
    code = cli.main(["telecharger", "--url", url, "--sha256", "xyz", "--sortie", str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--sha256" in err and "« xyz »" in err and "64" in err, err
    assert "réseau" not in err, err
    _assert_only(tmp_path)


@pytest.mark.parametrize("url", ["", "pas-une-adresse/coselec.csv", "gopher://exemple.fr/x"])
def test_a_bad_address_is_said_in_french(tmp_path, capsys, url) -> None:
    """« (unknown url type: '') » was urllib's English inside the French message."""
    from analyse import cli

    code = cli.main(["telecharger", "--url", url, "--sortie", str(tmp_path / "coselec.csv")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "unknown" not in err and "url type" not in err, err
    assert "adresse" in err and "http" in err, err
    _assert_only(tmp_path)


def test_a_resource_without_date_is_not_the_newest(served, tmp_path) -> None:
    """A resource whose ``last_modified`` is null compared as the text « None », after
    every date: it was taken as the newest edition."""
    import json

    base, root = served
    dataset = {
        "resources": [
            {"format": "csv", "url": f"{base}/small.csv", "last_modified": None},
            {"format": "csv", "url": f"{base}/{CSV_NAME}", "last_modified": "2023-04-05"},
            {"format": "csv", "url": f"{base}/page.html"},
        ]
    }
    (root / "sans-date.json").write_text(json.dumps(dataset), encoding="utf-8")
    assert resolve_resource(f"{base}/sans-date.json").url == f"{base}/{CSV_NAME}"


# ------------------------------------------------ issue 31, item 4: no silent shrinking


def _cut(root: Path, shared_csv: Path, rows: int) -> str:
    """The national list cut at a row boundary after ``rows`` rows."""
    lines = shared_csv.read_text(encoding="utf-8").splitlines()
    name = f"coupee-{rows}.csv"
    (root / name).write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    return name


def test_a_list_cut_without_checksum_or_length_never_replaces_the_copy(
    served, shared_csv, tmp_path, capsys
) -> None:
    """A list cut after 2 686 of its 2 889 rows (93 %), sent without length or checksum,
    replaced the good copy with exit 0: 203 structures and 216 posts lost, unsaid."""
    from analyse import cli

    base, root = served
    name = _cut(root, shared_csv, 2686)
    target = _good_copy(shared_csv, tmp_path)
    before = target.read_bytes(), sidecar_path(target).read_text(encoding="utf-8")
    url = f"{base}{_QuietHandler.UNANNOUNCED}{name}"

    code = cli.main(["telecharger", "--url", url, "--sortie", str(target)])
    err = capsys.readouterr().err.replace("\u202f", " ")
    assert code == 2, err
    assert "203 attributions (structure et comité) de la copie actuelle manquent" in err, err
    lost = shared_csv.read_text(encoding="utf-8").splitlines()[2687].split(";")[0]
    assert f"« {lost} »" in err, err  # the first example
    assert "ni somme de contrôle ni longueur" in err and "--forcer" in err, err
    assert "est conservée" in err, err
    assert (target.read_bytes(), sidecar_path(target).read_text(encoding="utf-8")) == before

    # Forced, it is saved, and the command says what was lost.
    assert cli.main(["telecharger", "--url", url, "--sortie", str(target), "--forcer"]) == 0
    out = capsys.readouterr().out.replace("\u202f", " ")
    assert "203 attributions (structure et comité) de la copie actuelle manquent" in out, out
    assert target.read_bytes() == (root / name).read_bytes()


def test_a_shorter_list_confirmed_by_its_publisher_replaces_the_copy(
    served, shared_csv, tmp_path, capsys
) -> None:
    """Editions drop the structures that left the programme: a shorter list whose length
    the server announced, or whose checksum was given, is the publisher's."""
    from analyse import cli

    base, root = served
    name = _cut(root, shared_csv, 2686)
    target = _good_copy(shared_csv, tmp_path)
    # The length announced (Content-Length) and received.
    assert cli.main(["telecharger", "--url", f"{base}/{name}", "--sortie", str(target)]) == 0
    assert target.read_bytes() == (root / name).read_bytes()
    capsys.readouterr()
    # No length, but the checksum given.
    target = _good_copy(shared_csv, tmp_path)
    url = f"{base}{_QuietHandler.UNANNOUNCED}{name}"
    checksum = _sha256(root / name)
    code = cli.main(["telecharger", "--url", url, "--sha256", checksum, "--sortie", str(target)])
    assert code == 0, capsys.readouterr().err
    assert target.read_bytes() == (root / name).read_bytes()
