"""The Papermill batch and the monthly run, on the embedded Hautes-Alpes rounds."""

from __future__ import annotations

import re

import pytest

from analyse import cli, config
from analyse.analysis import bundle, pipeline, situation
from analyse.run import batch
from analyse.run.monthly import MonthError, check_month, months_between, run_months
from analyse.run.report import ReportJob

pytestmark = pytest.mark.lot


def test_one_failure_does_not_stop_the_others(reference, tmp_path):
    selections = pipeline.match_selections(None, reference)
    good = bundle.save(situation.prepare("05", selections, reference), tmp_path / "data05")
    previous = tmp_path / "reports" / "38"
    previous.mkdir(parents=True)
    (previous / "rapport.html").write_text("rapport précédent", encoding="utf-8")
    jobs = [
        ReportJob("05", good, tmp_path / "reports" / "05", "Hautes-Alpes"),
        # No prepared data: the notebook fails, and the previous report must survive.
        ReportJob("38", tmp_path / "absent", previous, "Isère"),
    ]
    results = batch.run_jobs(jobs, workers=2, progress=False)
    assert [(r.departement, r.ok) for r in results] == [("05", True), ("38", False)]
    assert "Données préparées introuvables" in results[1].error
    for name in ("rapport.html", "couverture.xlsx", "couverture.gpkg", "carte_interactive.html"):
        assert (tmp_path / "reports" / "05" / name).exists(), name
    assert (previous / "rapport.html").read_text(encoding="utf-8") == "rapport précédent"
    assert sorted(p.name for p in previous.iterdir()) == ["rapport.html"]  # no leftovers
    text = batch.summary(results)
    assert "2 rapport(s) : 1 réussi(s), 1 en échec." in text
    assert "échec 38 : " in text
    assert 0 < results[0].worker_rss_mb < 1024
    assert 0 < results[0].kernel_rss_mb < 1024


def test_batch_cli_exit_code(tmp_path, capsys):
    code = cli.main(["rapports", "--departements", "2A", "--sortie", str(tmp_path), "-j", "1"])
    assert code == 0
    assert (tmp_path / "2A" / "rapport.html").exists()
    out = capsys.readouterr().out
    assert "1 rapport(s) : 1 réussi(s), 0 en échec." in out
    # Without --selections, every département of a batch reads the national list.
    assert "Données utilisées : liste nationale COSELEC de l'ANCT" in out
    assert cli.main(["rapports", "--departements", "05,99", "--sortie", str(tmp_path)]) == 2


def test_month_validation():
    assert check_month("2021-06") == "2021-06"
    with pytest.raises(MonthError, match="AAAA-MM"):
        check_month("juin 2021")
    assert months_between("2021-11", "2022-02") == ["2021-11", "2021-12", "2022-01", "2022-02"]
    with pytest.raises(MonthError):
        months_between("2022-02", "2021-11")


def _without_date(html: str) -> str:
    return re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", "", html)


def test_monthly_report_and_index(reference, tmp_path):
    selections = pipeline.match_selections(None, reference)
    [result] = run_months(
        ["2021-04"],
        situation.Sources.of(selections, reference),
        ["05"],
        tmp_path,
        1,
        progress=False,
    )
    # The index is the situation's: the rounds typed for 05 (18 posts), the national list
    # read back to the end of April 2021 for the other départements.
    rows = situation.Sources.of(selections, reference).at("2021-04").index_table()
    assert rows.set_index("code").at["05", "postes"] == 18
    assert result.total_posts == rows["postes"].sum() and all(r.ok for r in result.results)
    index = (tmp_path / "2021-04" / "index.html").read_text(encoding="utf-8")
    assert '<a href="05/rapport.html">Hautes-Alpes</a>' in index
    assert index.count("<tr>") == 1 + 101  # header + every département of the reference
    assert 'data-tri="7"' in index  # 7 posts granted in April 2021
    assert "data:image/png;base64," in index and "triable" in index
    report = (tmp_path / "2021-04" / "05" / "rapport.html").read_text(encoding="utf-8")
    assert "Ce qui a changé en avril 2021" in report
    assert "situation fin avril 2021" in report
    # March: only the 11 EPCI posts; the April report lists what April added.
    march = situation.prepare("05", selections, reference, month="2021-03")
    assert march.counts["lus"] == 11 and march.counts["departementaux"] == 0
    # Running the same month again gives the same files (but for the generation date).
    csv = (tmp_path / "2021-04" / "05" / "indicateurs_epci.csv").read_bytes()
    run_months(
        ["2021-04"],
        situation.Sources.of(selections, reference),
        ["05"],
        tmp_path,
        1,
        progress=False,
    )
    assert (tmp_path / "2021-04" / "05" / "indicateurs_epci.csv").read_bytes() == csv
    again = (tmp_path / "2021-04" / "index.html").read_text(encoding="utf-8")
    assert _without_date(again) == _without_date(index)
    # The month's folder: its reports, its index and its EPCI's fiches, nothing else.
    assert sorted(p.name for p in (tmp_path / "2021-04").iterdir()) == ["05", "index.html"]
    # Its EPCI's fiches in its own folder, cut from the same situation.
    assert '<a href="epci/240500439.html">' in report
    fiche = (tmp_path / "2021-04" / "05" / "epci" / "240500439.html").read_text(encoding="utf-8")
    assert "Situation fin avril 2021" in fiche
    # A run with --sortie keeps the month's prepared data inside its output folder.
    kept = tmp_path / config.PREPARED_SUBDIR / "mensuel" / "2021-04" / "05"
    assert bundle.load("05", kept).context["mois"] == "2021-04"


def test_monthly_cli_rejects_a_bad_month(capsys):
    assert cli.main(["mensuel", "--mois", "2021-13", "--departements", "05"]) == 2
    assert "mois invalide" in capsys.readouterr().err
    assert not (config.REPORTS_DIR / "2021-13").exists()


def test_several_months_in_one_pool_index_as_soon_as_a_month_is_done(reference, tmp_path):
    """Each month's index is written once its last report is done (while the next
    month's reports go on: the workers do not wait for it); one summary per month,
    months in order, each with its reports in place."""
    selections = pipeline.match_selections(None, reference)
    seen = []

    def on_month(result) -> None:
        own = tmp_path / result.month / "05" / "rapport.html"
        seen.append((result.month, result.index.exists(), own.exists()))

    sources = situation.Sources.of(selections, reference)
    results = run_months(
        ["2021-03", "2021-04", "2021-05"],
        sources,
        ["05"],
        tmp_path,
        1,
        progress=False,
        on_month=on_month,
    )
    assert seen == [("2021-03", True, True), ("2021-04", True, True), ("2021-05", True, True)]
    posts_05 = [
        sources.at(m.month).index_table().set_index("code").at["05", "postes"] for m in results
    ]
    assert posts_05 == [11, 18, posts_05[2]]
    assert [r.total_posts for r in results] == [
        sources.at(m.month).index_table()["postes"].sum() for m in results
    ]
    assert all(r.ok and r.month == m.month for m in results for r in m.results)
    assert (tmp_path / "2021-03" / "05" / "couverture.gpkg").exists()


def test_monthly_cli_over_several_months(tmp_path, capsys):
    args = ["mensuel", "--mois", "2021-03", "--jusqu-a", "2021-04", "--departements", "05"]
    assert cli.main([*args, "--sortie", str(tmp_path), "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert out.index("2021-03 : ") < out.index("2021-04 : ")
    assert "2 mois en " in out
    assert (tmp_path / "2021-04" / "index.html").exists()
