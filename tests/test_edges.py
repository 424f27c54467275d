"""Honest at every edge: nothing counted twice, implausible values refused, one dead
worker costs one département, no stale staging folder, no live link in the map caption."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from analyse import config, errors
from analyse.analysis import bundle, inputs, pipeline
from analyse.read.files import read_bytes
from analyse.read.selections import SelectionError, read_confirmed_duplicates, read_selection_file
from analyse.render import tables
from analyse.run import batch
from analyse.run.report import ReportJob

HEADER = "date_comite,departement,structure,type_structure,postes,commune,code,source"
SEED_FILE = config.SELECTIONS_DIR / "2021-03_comite_hautes-alpes.csv"


def _write(path, *lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------- 5. nothing counted twice


def test_a_file_given_twice_is_read_once(reference, tmp_path):
    selections = pipeline.match_selections([config.SELECTIONS_DIR, SEED_FILE], reference)
    assert selections.table["postes"].sum() == 18  # not 29
    assert any("compté une seule fois" in note for note in selections.skipped)
    # A copy elsewhere, same bytes: the same file under another name.
    copy = tmp_path / "copie.csv"
    copy.write_bytes(SEED_FILE.read_bytes())
    selections = pipeline.match_selections([config.SELECTIONS_DIR, copy], reference)
    assert selections.table["postes"].sum() == 18
    assert any("contenu identique" in note for note in selections.skipped)


def test_the_cli_says_which_file_it_read_once(capsys):
    from analyse import cli

    argv = ["controle", "--selections", str(config.SELECTIONS_DIR), "--selections", str(SEED_FILE)]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert re.search(r"^05\s+18\s", captured.out, re.MULTILINE), captured.out
    assert "2021-03_comite_hautes-alpes.csv : déjà lu" in captured.err
    assert "compté une seule fois" in captured.err


def test_identical_rows_in_one_file_are_probable_duplicates(reference, tmp_path):
    row = "2021-04,05,Gap,commune,1,,,note"
    path = _write(tmp_path / "sel" / "a.csv", HEADER, row, row, row)
    with pytest.raises(SelectionError, match="ligne 3.*probable doublon.*la ligne 2 du même"):
        pipeline.match_selections([path], reference)
    tolerant = pipeline.match_selections([path], reference, tolerant=True)
    assert tolerant.table["postes"].sum() == 1
    assert len(tolerant.anomalies) == 2
    # Two rows that differ (another commune) are not the same row.
    other = _write(tmp_path / "sel2" / "b.csv", HEADER, row, "2021-04,05,Gap,commune,1,05061,,")
    assert pipeline.match_selections([other], reference).table["postes"].sum() == 2


def test_a_folder_is_read_for_its_data_files_only(reference, tmp_path):
    folder = tmp_path / "sel"
    _write(folder / "comite.csv", HEADER, "2021-04,05,Gap,commune,1,,,")
    _write(folder / "README.txt", "Ce dossier contient les comités.")
    _write(folder / "notes.md", "# Notes")
    selections = pipeline.match_selections([folder], reference)
    assert selections.table["postes"].sum() == 1
    skipped = " ".join(selections.skipped)
    assert "README.txt : ignoré" in skipped and "notes.md : ignoré" in skipped


# ----------------------------------------------------- 6. implausible values refused


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2021-04,05,Gap,commune,1000000000,,,", "nombre de postes invraisemblable"),
        ("2021-04,05,Gap,commune,99999999999999999999,,,", "nombre de postes invraisemblable"),
        ("1900-01-01,05,Gap,commune,1,,,", "date de comité antérieure au programme"),
        ("0001-01-01,05,Gap,commune,1,,,", "date de comité antérieure au programme"),
        ("2021-04,05,Gap\x00,commune,1,,,", "caractère de contrôle interdit (code 0x00)"),
        ("2021-04,05,Gap,commune", "ligne incomplète : 4 cellule(s) au lieu de 8"),
    ],
)
def test_implausible_rows_are_refused(tmp_path, line, message):
    path = _write(tmp_path / "a.csv", HEADER, line)
    with pytest.raises(SelectionError, match="ligne 2") as error:
        read_selection_file(path)
    assert message in str(error.value)


def test_largest_real_grant_is_under_the_ceiling():
    table = read_selection_file(config.EMBEDDED_NATIONAL_LIST)
    assert table["postes"].max() == 37 < config.MAX_POSTS_PER_ROW
    assert table["mois_comite"].min() == "2021-03" >= config.FIRST_COMMITTEE_MONTH


def test_duplicated_header_column_and_truncated_national_list(tmp_path):
    path = _write(tmp_path / "a.csv", HEADER + ",postes", "2021-04,05,Gap,commune,1,,,,2")
    with pytest.raises(SelectionError, match="ligne 1 : colonne.s. en double.*postes"):
        read_selection_file(path)
    lines = read_bytes(config.EMBEDDED_NATIONAL_LIST).decode("utf-8").splitlines()
    truncated = tmp_path / "coselec.csv"
    truncated.write_text("\n".join(lines[:10]) + "\n" + lines[10][:40], encoding="utf-8")
    with pytest.raises(SelectionError, match="ligne 11 : ligne incomplète"):
        read_selection_file(truncated)


def test_target_must_be_positive_and_finite(reference):
    for value in (-1.0, 0.0, float("nan"), float("inf")):
        with pytest.raises(errors.UserError, match="--cible"):
            inputs.load_extras(reference, custom_target=value)


# --------------------------------------------------- 8. one dead worker, one failure


def _kill_38(job: ReportJob) -> batch.JobResult:
    """Stands in for a report: 38 kills its own worker; the others take a moment."""
    if job.departement == "38":
        os._exit(9)
    time.sleep(0.3)
    return batch.JobResult(job.departement, True, 0.3)


def test_one_dead_worker_costs_one_departement(tmp_path):
    codes = ["05", "38", "59", "13", "2A"]
    jobs = [ReportJob(c, tmp_path, tmp_path / c, c) for c in codes]
    results = batch.run_jobs(jobs, workers=2, progress=False, runner=_kill_38)
    assert [(r.departement, r.ok) for r in results] == [
        ("05", True),
        ("38", False),
        ("59", True),
        ("13", True),
        ("2A", True),
    ]
    assert "s'est arrêté brutalement, deux fois" in results[1].error
    assert "5 rapport(s) : 4 réussi(s), 1 en échec." in batch.summary(results)


# ------------------------------------------------ 10. staging of a killed save removed


def test_save_removes_staging_folders_of_killed_runs(prepared_05, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    parent = tmp_path / "departements"
    stale = parent / f".05.en-cours-{dead.pid}-abcd1234"
    stale.mkdir(parents=True)
    (stale / "communes.parquet").write_bytes(b"half")
    alive = parent / f".05.en-cours-{os.getpid()}-efgh5678"  # a run still going
    alive.mkdir()
    bundle.save(prepared_05, parent / "05")
    assert not stale.exists()
    assert alive.exists()
    assert sorted(p.name for p in parent.iterdir()) == sorted(["05", alive.name])


# ------------------------------------------------------ 11. no live link in the caption


def test_map_caption_never_renders_a_link(prepared_05):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    hostile = prepared_05.indicators.copy()
    hostile.loc[0, "nom_epci"] = "[cliquez](javascript:alert(1))"
    hostile.loc[0, "departements"] = "04,05"
    caption = tables.map_caption(type(prepared_05)(**{**vars(prepared_05), "indicators": hostile}))
    # Whether shown as HTML or through Markdown, the name stays text.
    assert "<a" not in markdown2html_mistune(caption)
    assert "[cliquez](javascript:alert(1))" in caption


def test_emptied_project_files_pin_nothing(tmp_path):
    """An aliases.csv or doublons_confirmes.csv emptied by hand is no error: nothing pinned."""
    from analyse.territory.matching import read_aliases

    empty = _write(tmp_path / "vide.csv", "")
    empty.write_bytes(b"")
    assert read_aliases(empty).empty
    assert read_confirmed_duplicates(empty) == set()


def test_a_worker_reports_its_own_memory_not_its_parents():
    """Linux keeps ``ru_maxrss`` across the fork-and-exec that starts a worker: a worker
    of a large parent (a test session, a run holding the country's tables) reported the
    parent's memory as its own peak (1 213 Mio in the complete tier)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from analyse.run import batch

    held = bytearray(600 * 2**20)
    held[::4096] = b"\x01" * len(held[::4096])  # resident, not only reserved
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        own, _ = pool.submit(batch._peak_rss_mb).result()
    assert own < 400, own
    del held
