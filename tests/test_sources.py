"""Embedded open data and the defaults built on them (data/raw/SOURCES.md, analyse.read.sources)."""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import date
from pathlib import Path

import pytest

from analyse import cli, config
from analyse.analysis import pipeline
from analyse.read import sources
from analyse.read.files import CompressedFileError, content_sha256, read_bytes
from analyse.read.selections import SelectionError, read_selection_file
from analyse.territory.fragility import read_ifn
from analyse.territory.places import read_places

EMBEDDED = [config.EMBEDDED_NATIONAL_LIST, *config.EMBEDDED_IFN, config.EMBEDDED_PLACES]


def test_sources_md_gives_the_true_checksums_of_every_embedded_file():
    text = (config.RAW_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for path in EMBEDDED:
        rows = [line for line in text.splitlines() if line.startswith(f"| `{path.name}` | ")]
        content, archive = next(
            found for row in rows if (found := re.findall(r"`([0-9a-f]{64})`", row))
        )
        assert content == content_sha256(path), path.name
        assert archive == hashlib.sha256(path.read_bytes()).hexdigest(), path.name
    assert "La Mednum" in text and "Licence Ouverte" in text
    # About 1 MB together: small enough for the repository.
    assert sum(p.stat().st_size for p in EMBEDDED) < 1_200_000


def test_embedded_copies_are_read_like_the_published_files():
    national = read_selection_file(config.EMBEDDED_NATIONAL_LIST)
    assert len(national) == 2_889 and national["postes"].sum() == 3_925
    ifn = read_ifn(*config.EMBEDDED_IFN)
    assert len(ifn.communes) == 35_008 and len(ifn.epci) == 1_255
    places, rejected = read_places(config.EMBEDDED_PLACES)
    assert len(places) == 2_733 and rejected.empty
    # No contact data: the e-mails and phone numbers were removed before embedding.
    assert not {"email", "courriel", "telephone"} & set(places.columns)


def test_a_damaged_archive_is_refused_clearly(tmp_path):
    broken = tmp_path / "liste.csv.gz"
    broken.write_bytes(gzip.compress(b"Raison sociale;x\n" * 100)[:40])
    with pytest.raises(CompressedFileError, match=r"liste\.csv\.gz : archive gzip illisible"):
        read_bytes(broken)
    with pytest.raises(CompressedFileError):
        read_selection_file(broken)
    assert issubclass(CompressedFileError, SelectionError.__mro__[1])  # a UserError: exit 2


def test_the_embedded_national_list_is_the_default_outside_the_seed():
    assert sources.seed_departements() == {"05"}
    assert sources.default_selections("05") == [config.SELECTIONS_DIR]
    assert sources.default_selections("38") == [config.EMBEDDED_NATIONAL_LIST]
    assert sources.default_selections(None) == [config.EMBEDDED_NATIONAL_LIST]  # other commands
    national = sources.national_list()
    assert national.embedded and national.last_committee == date(2023, 4, 5)
    assert national.edition == (
        "liste nationale COSELEC de l'ANCT, édition du 05/04/2023 (copie embarquée)"
    )


def _downloaded(tmp_path, monkeypatch, last_date: str):
    """A downloaded list (``analyse telecharger``'s place) whose last committee is ``last_date``."""
    lines = read_bytes(config.EMBEDDED_NATIONAL_LIST).decode("utf-8").splitlines(keepends=True)
    extra = lines[1].replace("16/06/2021", last_date)
    target = tmp_path / "national" / "structures-validees-coselec.csv"
    target.parent.mkdir()
    target.write_text("".join([*lines, extra]), encoding="utf-8")
    monkeypatch.setattr(config, "NATIONAL_LIST", target)
    return target


def test_a_newer_downloaded_list_wins(tmp_path, monkeypatch):
    target = _downloaded(tmp_path, monkeypatch, "12/05/2023")
    national = sources.national_list()
    assert national.path == target and not national.embedded
    assert "dernier comité le 12/05/2023" in national.edition
    assert sources.default_selections("38") == [target]
    assert sources.default_selections("05") == [config.SELECTIONS_DIR]  # the seed stays


def test_an_older_downloaded_list_does_not_replace_the_embedded_one(tmp_path, monkeypatch):
    _downloaded(tmp_path, monkeypatch, "01/02/2022")  # its latest committee: 05/04/2023
    assert sources.national_list().embedded is False  # same edition: the download wins
    lines = read_bytes(config.EMBEDDED_NATIONAL_LIST).decode("utf-8").splitlines(keepends=True)
    older = [line for line in lines if "/2023;" not in line]
    config.NATIONAL_LIST.write_text("".join(older), encoding="utf-8")
    assert sources.national_list().embedded


def test_a_downloaded_file_that_is_not_a_list_is_named(tmp_path, monkeypatch):
    target = tmp_path / "structures-validees-coselec.csv"
    target.write_text("a;b\n1;2\n", encoding="utf-8")
    monkeypatch.setattr(config, "NATIONAL_LIST", target)
    with pytest.raises(sources.MissingDataError, match="n'est pas une liste nationale"):
        sources.national_list()


def test_explicit_selections_without_the_departement_stop_with_a_clear_message(tmp_path, capsys):
    code = cli.main(
        [
            "rapport",
            "-d",
            "38",
            "--selections",
            str(config.SELECTIONS_DIR),
            "--sortie",
            str(tmp_path),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "aucune ligne pour Isère (38)" in err
    assert (
        "--selections data/raw/embarque/cnfs-structures-validees-coselec-2023-04-05.csv.gz" in err
    )
    assert not any(tmp_path.iterdir())
    # The same for a batch: every uncovered département named, nothing written.
    code = cli.main(
        ["rapports", "--departements", "05,38,2A", "--selections", str(config.SELECTIONS_DIR)]
        + ["--sortie", str(tmp_path)]
    )
    assert code == 2
    assert "Isère (38), Corse-du-Sud (2A)" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_an_empty_departement_inside_a_national_list_is_a_real_zero(reference, tmp_path):
    lines = read_bytes(config.EMBEDDED_NATIONAL_LIST).decode("utf-8").splitlines(keepends=True)
    extract = tmp_path / "coselec-05.csv"
    kept = [line for line in lines if ";5;" in line]
    extract.write_text(lines[0] + "".join(kept), encoding="utf-8")
    selections = pipeline.match_selections([extract], reference)
    assert selections.has_national_list
    pipeline.check_covered(selections, ["38"], reference)  # no error: a real zero
    seed = pipeline.match_selections(None, reference)
    with pytest.raises(pipeline.UncoveredDepartementError):
        pipeline.check_covered(seed, ["38"], reference)
    pipeline.check_covered(seed, ["05"], reference)


def test_controle_reads_the_national_list_by_default(capsys):
    assert cli.main(["controle"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Données utilisées : liste nationale COSELEC de l'ANCT, édition du 05/04/2023 "
        "(copie embarquée)."
    )
    assert "3\u202f925" in out or "3 925" in out


@pytest.mark.parametrize(
    ("argv", "national"),
    [
        (["rapport", "-d", "05"], False),  # the Hautes-Alpes rounds: the seed's story
        (["rapports", "--departements", "05"], True),
        (["mensuel", "--mois", "2021-03", "--departements", "05"], True),
        (["controle"], True),
    ],
)
def test_defaults_per_command(argv, national, reference):
    """For 05 itself, only `rapport` reads the hand-typed rounds; the batch, the monthly
    report and the control read the national list, like the national index."""
    args = cli._parser().parse_args(argv)
    selections = cli._selections(args, reference, ["05"])
    assert selections.has_national_list is national
    expected = 3_925 if national else 18
    assert selections.table["postes"].sum() == expected


def test_telecharger_says_which_edition_the_commands_now_use(tmp_path, monkeypatch, capsys):
    """A newer list saved where `analyse telecharger` saves it becomes the default."""
    from analyse.read import download

    target = tmp_path / "national" / "structures-validees-coselec.csv"
    monkeypatch.setattr(config, "NATIONAL_LIST", target)

    # The transfer is tested elsewhere; the validation runs as in a real download.
    def fake_download(url, path, sha256=None, checksum=None, validate=None):
        newer = _downloaded(tmp_path, monkeypatch, "12/05/2023")
        assert newer == Path(path)
        table = validate(newer)
        return download.DownloadResult(newer, content_sha256(newer), newer.stat().st_size, table)

    monkeypatch.setattr(download, "download", fake_download)
    argv = ["telecharger", "--url", "http://127.0.0.1:9/liste.csv", "--sortie", str(target)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert (
        "Liste nationale utilisée désormais par défaut : liste nationale COSELEC de l'ANCT "
        "téléchargée, dernier comité le 12/05/2023" in out
    )
