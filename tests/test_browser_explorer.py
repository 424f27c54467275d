"""The explorer notebook on a laptop without network: executed with every connection
leaving the machine refused, exported to HTML as JupyterLab does, and opened in Chromium
with every request leaving the machine blocked, its map still draws the EPCI of the
département (Leaflet inside the page, as in the report's interactive map)."""

from __future__ import annotations

import nbformat
import pytest

from analyse import config

pytestmark = pytest.mark.navigateur

# The kernel imports this first (PYTHONPATH): any connection or name lookup outside the
# machine fails, and is written down; loopback stays open for Jupyter's own sockets.
NETWORK_GUARD = """
import os
import socket

_LOG = os.environ["ANALYSE_TEST_RESEAU"]
with open(_LOG, "a", encoding="utf-8") as _file:
    _file.write("garde active\\n")
_LOCAL = {None, "", "localhost", "127.0.0.1", "::1", "0.0.0.0"}


def _refuse(what):
    with open(_LOG, "a", encoding="utf-8") as file:
        file.write(f"bloqué : {what}\\n")
    raise OSError(f"réseau bloqué par le test : {what}")


_connect, _connect_ex, _getaddrinfo = (
    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
)


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL:
        _refuse(address)
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL:
        _refuse(address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL:
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = (
    connect, connect_ex, getaddrinfo
)
"""
DEPARTEMENT = "05"


@pytest.fixture(scope="module")
def explorer_html(whole_panel, tmp_path_factory, monkeypatch_module):
    """The explorer executed offline on the whole panel, exported to HTML."""
    import papermill
    from nbconvert import HTMLExporter

    from analyse.run.report import ensure_kernel

    folder = tmp_path_factory.mktemp("explorateur")
    guard = folder / "garde"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    log = folder / "reseau.txt"
    monkeypatch_module.setenv("PYTHONPATH", str(guard))
    monkeypatch_module.setenv("ANALYSE_TEST_RESEAU", str(log))
    executed = folder / "explorer.ipynb"
    papermill.execute_notebook(
        str(config.NOTEBOOKS_DIR / "explorer.ipynb"),
        str(executed),
        parameters={"dossier_panel": str(whole_panel), "departement": DEPARTEMENT},
        kernel_name=ensure_kernel(),
        cwd=str(config.NOTEBOOKS_DIR),
        progress_bar=False,
    )
    attempts = log.read_text(encoding="utf-8").splitlines()
    assert attempts[:1] == ["garde active"], "le noyau n'a pas chargé la garde réseau"
    assert attempts[1:] == [], f"le notebook a voulu joindre le réseau : {attempts[1:]}"
    html, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    page = folder / "explorer.html"
    page.write_text(html, encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_explorer_map_draws_its_polygons_offline(browser, explorer_html, whole_panel):
    import pandas as pd

    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    blocked: list[tuple[str, str]] = []

    def route(request_route) -> None:
        request = request_route.request
        if request.url.startswith(("file:", "data:", "about:")):
            request_route.continue_()
        else:
            blocked.append((request.frame.url, request.url))
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"erreur JavaScript : {e}"))
    page.goto(explorer_html.as_uri(), wait_until="load")
    try:
        # The map: the page that folium puts in an iframe of the notebook's output.
        maps = [frame for frame in page.frames if frame.query_selector(".leaflet-container")]
        assert maps, f"aucune carte Leaflet dans la page ; requêtes bloquées : {blocked}"
        polygons = maps[0].locator("path.leaflet-interactive")
        rows = pd.read_parquet(whole_panel / "panel_epci.parquet")
        last = rows.loc[rows["mois"] == rows["mois"].max()]
        expected = last["departements"].str.split(",").map(lambda d: DEPARTEMENT in d).sum()
        assert polygons.count() >= expected == 9
        # Nothing the map needs comes from the network (the notebook page's own
        # scripts, MathJax, are not the map's).
        from_map = [url for frame, url in blocked if frame != page.url]
        assert from_map == [], from_map
        assert errors == [], errors
    finally:
        context.close()
