"""Maps that differentiate: labels inside their territory, sized
by area, numbered when they would overlap; finer classes when every EPCI shares one."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from analyse.analysis import pipeline, situation
from analyse.render import maps
from analyse.wording import map_label, short_epci_name

matplotlib.use("Agg")


def _labels(fig):
    ax = fig.axes[0]
    return {t.get_text(): t for t in ax.texts if t.get_text() and t is not ax.title}


@pytest.fixture(scope="module")
def nord(reference):
    return situation.prepare_one("59", reference=reference)


def test_nord_labels_sit_inside_their_territory_and_are_readable(nord):
    fig, legend = maps.density_map(nord.indicators, nord.outline, nord.hosts, nord.crs, "Nord")
    epci = nord.indicators.to_crs(nord.crs).set_index("nom_epci")
    labels = _labels(fig)
    # Douaisis Agglo: its name, or its number in the key, inside its territory.
    number = next((str(n) for n, name in legend["key"] if "Douaisis" in name), None)
    douaisis = next(
        t for text, t in labels.items() if text.startswith("Douaisis") or text == number
    )
    x, y = douaisis.get_position()
    import shapely

    assert epci.loc["Communauté d'agglomération Douaisis Agglo", "geometry"].contains(
        shapely.Point(x, y)
    )
    names = [t for t in labels.values() if not t.get_text().isdigit()]
    assert min(t.get_fontsize() for t in names) >= maps.MIN_FONT_PT
    # A label never overlaps another: those that would are numbers, with a key.
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in names]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    numbers = [t.get_text() for t in labels.values() if t.get_text().isdigit()]
    assert sorted(int(n) for n in numbers) == [n for n, _ in legend["key"]]
    # Every EPCI is named on the map or in the key.
    assert len(names) + len(numbers) == len(epci)


def test_one_national_class_gets_finer_classes_and_values(reference):
    reunion = situation.prepare_one("974", reference=reference)
    indicators = reunion.indicators.copy()
    indicators["conseillers_pour_10000_hab"] = [0.55, 0.66, 0.83, 0.93, 0.97]
    fig, legend = maps.density_map(indicators, reunion.outline, reunion.hosts, reunion.crs, "974")
    colours = {to_hex(c) for c in np.atleast_2d(fig.axes[0].collections[0].get_facecolor())}
    assert len(colours) >= 3  # one national class (0,5 à 1), at least three shades
    assert "même classe nationale" in legend["title"]
    texts = [t.get_text() for t in fig.axes[0].texts]
    for name, value in zip(
        indicators["nom_epci"], ["0,55", "0,66", "0,83", "0,93", "0,97"], strict=True
    ):
        assert f"{map_label(name)}\n{value}" in texts


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Métropole Européenne de Lille", "Métropole Européenne de Lille"),
        ("Communauté d'agglomération Intercommunale de la Réunion Est (CIREST)", "CIREST"),
        (
            "Communauté d'agglomération CIVIS (Communauté Intercommunale des Villes Solidaires)",
            "CIVIS",
        ),
        ("Communauté d'agglomération Douaisis Agglo", "Douaisis Agglo"),
        ("Communauté de communes du Briançonnais", "Briançonnais"),
    ],
)
def test_map_labels(name, label):
    assert map_label(name) == label
    assert not short_epci_name(name).startswith("Européenne")


def test_report_maps_are_shown_with_their_title_and_alternative(prepared_05, monkeypatch):
    """The notebook's map cells are one call each: the bundle's map, shown with its
    French text alternative and its legend, no title drawn inside (the heading above
    names it); no fragility map without the IFN."""
    import matplotlib.pyplot as plt

    shown = []

    def draw(fig, alt):
        titles = [t for ax in fig.axes for t in (ax.get_title(loc="left"), ax.get_title())]
        # Titles are wrapped to the figure's width, in French typography.
        drawn = [t.replace("\n", " ") for t in titles if t]
        plt.close(fig)
        return repr((drawn, alt)).encode()

    def record(svg, legend=None):
        drawn, alt = eval(svg.decode())  # what ``draw`` recorded
        shown.append((drawn, alt, legend["title"]))

    monkeypatch.setattr(maps, "svg_bytes", draw)
    monkeypatch.setattr(maps, "show_svg", record)
    maps.show_density_map(prepared_05)
    maps.show_distance_map(prepared_05)
    assert prepared_05.context["ifn_fourni"] is False  # prepared without IFN
    maps.show_fragility_map(prepared_05)
    assert shown == [
        (
            [],
            "Carte des conseillers numériques pour 10 000 habitants par intercommunalité, "
            "Hautes-Alpes",
            "Conseillers pour 10\u202f000 habitants",
        ),
        (
            [],
            "Carte de la distance de chaque commune au lieu de médiation le plus proche, "
            "Hautes-Alpes",
            "Distance au lieu le plus proche",
        ),
    ]


def test_class_colours_are_colorbrewer_ylgnbu_without_importing_matplotlib():
    import subprocess
    import sys

    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from analyse.render import colours

    low, high = colours.CLASS_COLOURS_RANGE
    sampled = [
        to_hex(plt.get_cmap(colours.CLASS_COLOURS_MAP)(x)) for x in np.linspace(low, high, 5)
    ]
    assert sampled == colours.CLASS_COLOURS
    code = "import sys, analyse.render.exports; print('matplotlib' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"


def test_every_text_of_a_map_stays_text_in_its_svg(prepared_05, reference):
    """The polygons become one image in the page's SVG; the names and codes
    stay text (readable at any width, found by a search): the density map of 05 and
    the index's map of France."""
    import re

    from analyse.render import national
    from analyse.territory.reference import departement_shapes

    def texts(svg: str) -> str:
        return " ".join(t.strip() for t in re.findall(r"<text[^>]*>([^<]*)", svg))

    fig, _ = maps.density_map(
        prepared_05.indicators,
        prepared_05.outline,
        prepared_05.hosts,
        prepared_05.crs,
        "Hautes-Alpes : conseillers numériques pour 10 000 habitants",
    )
    drawn = texts(maps.figure_svg(fig, "carte"))
    # Names and codes, not a title repeating the heading above the figure.
    assert "Briançonnais" in drawn and "conseillers numériques pour" not in drawn, drawn
    selections = pipeline.match_selections(None, reference)
    table = situation.Sources.of(selections, reference).at("2021-06").index_table()
    svg = maps.figure_svg(national.national_map(table, departement_shapes()), "carte")
    drawn = texts(svg)
    for name in ("75", "93", "Paris et", "Guadeloupe", "Mayotte"):
        assert name in drawn, (name, drawn)
    assert svg.count("<image") >= 1  # the polygons


def _press_release_rounds(months: list[str] | None = None):
    """The Hautes-Alpes press release of 28/04/2021: 11 posts to intercommunalités in
    March, then 4 to the Conseil départemental and 1 each to Gap, Espinasses, Orpierre."""
    import pandas as pd

    rows = [("2021-03", "epci", 11), ("2021-04", "departement", 4), ("2021-04", "commune", 3)]
    rows += [(m, "association", 1) for m in months or []]
    return pd.DataFrame(rows, columns=["mois_comite", "type_structure", "postes"])


def test_timeline_of_the_press_release_says_each_round_and_its_running_total():
    fig = maps.timeline_chart(_press_release_rounds(), "Chronologie")
    ax = fig.axes[0]
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["11 (cumul 11)", "7 (cumul 18)"]
    assert ax.get_title(loc="left") == "Total : 18 postes"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["mars 2021", "avril 2021"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Intercommunalités",
        "Communes",
        "Département",
    ]
    assert ax.get_ylim()[1] == pytest.approx(11 * 1.2)


def test_a_long_timeline_shows_totals_only_on_slanted_months():
    later = ["2021-05", "2021-06", "2021-07", "2021-08"]
    ax = maps.timeline_chart(_press_release_rounds(later), "Chronologie").axes[0]
    assert [t.get_text() for t in ax.texts] == ["11", "7", "1", "1", "1", "1"]
    assert ax.get_title(loc="left") == "Total : 22 postes"
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {45}


def test_a_timeline_without_rounds_says_so():
    ax = maps.timeline_chart(_press_release_rounds().iloc[0:0], "Chronologie").axes[0]
    assert [t.get_text() for t in ax.texts] == ["Aucune sélection"]
