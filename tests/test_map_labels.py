"""The names and numbers written on the report's maps never overlap one another, nor the
proposed posts' numbered discs (Hautes-Alpes, Isère, Nord: the maps an official reads,
with three proposed posts), and their text stays 9,5 pt or more at the figure's width."""

from __future__ import annotations

import matplotlib
import pytest

from analyse.analysis import scenario, situation
from analyse.render import maps

matplotlib.use("Agg")


@pytest.fixture(scope="module", params=["05", "38", "59"])
def drawn(request, reference):
    """The density map, the distance map and the proposals map of a département."""
    prepared = situation.prepare_one(request.param, reference=reference)
    proposals, _ = scenario.for_postes(prepared, 3)
    figures = [
        maps.density_map(
            prepared.indicators, prepared.outline, prepared.hosts, prepared.crs, prepared.nom
        ),
        maps.report_distance_map(prepared, prepared.nom),
        maps.report_distance_map(prepared, prepared.nom, proposals),
    ]
    yield request.param, prepared, proposals, figures
    for fig, _ in figures:
        matplotlib.pyplot.close(fig)


def _written(fig) -> list:
    """Every text drawn on the map but its title, with the box it covers on the figure
    (its disc, for a number in a disc)."""
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    found = []
    for text in ax.texts:
        patch = text.get_bbox_patch()
        box = (patch or text).get_window_extent(renderer)
        found.append((text.get_text(), box))
    return found


def test_no_two_labels_overlap(drawn):
    departement, prepared, proposals, figures = drawn
    for fig, legend in figures:
        fig.canvas.draw()
        written = _written(fig)
        overlaps = [
            (a, b)
            for i, (a, box_a) in enumerate(written)
            for b, box_b in written[i + 1 :]
            if box_a.overlaps(box_b)
        ]
        assert overlaps == [], f"{departement} : {overlaps}"
        # Every EPCI is named on the map or numbered, once, with its name in the key.
        names = [t for t, _ in written if not t.isdigit()]
        assert len(names) + len(legend["key"]) == len(prepared.indicators)
        assert [n for n, _ in legend["key"]] == list(range(1, len(legend["key"]) + 1))


def test_label_text_stays_readable_at_a_phone_width(drawn):
    _, _, _, figures = drawn
    for fig, _ in figures:
        assert fig.get_figwidth() == maps.FIGURE_WIDTH_IN
        sizes = [t.get_fontsize() for t in fig.axes[0].texts]
        assert min(sizes) >= maps.MIN_FONT_PT


def test_proposed_posts_are_drawn_with_the_labels_clear_of_them(drawn):
    _, _, proposals, figures = drawn
    fig, legend = figures[2]
    discs = [t for t in fig.axes[0].texts if t.get_bbox_patch() and t.get_color() == "white"]
    assert sorted(t.get_text() for t in discs) == sorted(str(r) for r in proposals["rang"])
    assert "poste proposé (n° : rang)" in [item["label"] for item in legend["items"]]
