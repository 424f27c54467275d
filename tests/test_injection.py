"""Names from input data are escaped everywhere they reach HTML."""

from __future__ import annotations

import pytest

from analyse import cli
from analyse.analysis import pipeline
from analyse.analysis.national import departement_table
from analyse.render import tables
from analyse.render.national import index_html
from analyse.render.summary import summary_html

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "comite.csv").write_text(
        "date_comite,departement,structure,type_structure,postes,commune,code,source\n"
        f'2021-04,05,"{SCRIPT}",association,1,05061,,"{IMG}"\n'
        f'2021-04,05,"{IMG}",epci,2,,,note\n'
        "2021-03,05,Briançonnais,epci,1,,,note\n",
        encoding="utf-8",
    )
    return folder


def _assert_escaped(html: str) -> None:
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html


def test_report_tables_escape_input(reference, hostile):
    selections = pipeline.match_selections([hostile], reference)
    prepared = pipeline.prepare("05", selections, reference)
    assert len(prepared.review) == 1  # the hostile EPCI name is not guessed
    html = "".join(
        [
            summary_html(prepared),
            tables.selections_table(prepared.counted),
            tables.review_section(prepared.review),
            tables.crossing_tables(prepared),
            tables.provenance_html(prepared.context),
        ]
    )
    _assert_escaped(html)
    index = index_html(
        departement_table(selections, reference, "2021-04").assign(nom=SCRIPT),
        "2021-04",
        "data:image/png;base64,",
        {"05": IMG},
        "maintenant",
    )
    _assert_escaped(index.split("<script>", 1)[0])  # before the page's own sorting script


@pytest.mark.lot
def test_hostile_names_never_run_in_the_report(hostile, tmp_path):
    assert (
        cli.main(["rapport", "-d", "05", "--selections", str(hostile), "--sortie", str(tmp_path)])
        == 0
    )
    html = (tmp_path / "05" / "rapport.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert IMG not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
