"""Each EPCI's density month after month: one panel per EPCI whose title is HTML text
(it wraps, never runs into its neighbour), on a shared scale, the dotted line explained
under the panels and not only in the text alternative."""

from __future__ import annotations

import re

from analyse.render import territories_report


def test_one_titled_panel_per_epci_and_the_dotted_line_explained(prepared_05):
    html = territories_report.trajectory_figure(
        prepared_05.trajectory, "Conseillers pour 10 000 habitants", "Graphiques"
    )
    titles = re.findall(r'<p class="panneau-titre">([^<]+)</p>', html)
    assert len(titles) == len(prepared_05.indicators) == 9
    assert "Gap-Tallard-Durance — 0,20" in titles
    caption = html.split('<figcaption class="legende">', 1)[1]
    assert "pointillé&#160;: premier mois avec un conseiller" in caption
    # One shared scale: every panel has the same vertical ticks.
    panels = html.split('<div class="panneau">')[1:]
    ticks = {tuple(re.findall(r'text-anchor="end">([^<]+)<', p)) for p in panels}
    assert len(ticks) == 1 and next(iter(ticks))[0] == "0"
    # The last month has its width: the step line reaches the panel's right edge.
    last = re.findall(r'<polyline points="([^"]+)"', panels[0])[0].split()[-1]
    assert float(last.split(",")[0]) == territories_report._PANEL_RIGHT


def test_no_month_says_so():
    import pandas as pd

    empty = pd.DataFrame(columns=["nom_epci", "mois", "conseillers_pour_10000_hab", "postes"])
    html = territories_report.trajectory_figure(empty, "Titre", "Graphiques")
    assert "Aucun mois à montrer." in html
