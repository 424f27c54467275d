"""The saved bundle as a typed contract: its context is ``bundle.Context`` (with its
format's version), its tables are checked against the column registry at save and load."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from analyse.analysis import bundle
from analyse.analysis.bundle import BundleTableError, Context, check_tables
from analyse.errors import UserError


def test_the_context_is_typed_and_read_back_the_same(prepared_05, tmp_path):
    context = prepared_05.context
    assert isinstance(context, Context) and Context.VERSION == bundle.BUNDLE_VERSION
    assert context.departement == context["departement"] == "05"
    assert context.nom == "Hautes-Alpes" and context.crs == 2154
    assert context.get("absente", "défaut") == "défaut" and "absente" not in context
    folder = bundle.save(prepared_05, tmp_path / "05")
    meta = json.loads((folder / bundle.CONTEXT_FILE).read_text("utf-8"))
    assert set(meta["context"]) == {f.name for f in dataclasses.fields(Context)}
    loaded = bundle.load("05", folder)
    assert isinstance(loaded.context, Context)
    assert loaded.context.to_dict() == json.loads(json.dumps(context.to_dict()))


def test_a_context_with_unknown_or_missing_keys_is_refused(prepared_05, tmp_path):
    folder = bundle.save(prepared_05, tmp_path / "05")
    path = folder / bundle.CONTEXT_FILE
    meta = json.loads(path.read_text("utf-8"))
    meta["context"]["couleur"] = "bleu"
    del meta["context"]["cible_nationale"]
    path.write_text(json.dumps(meta), "utf-8")
    with pytest.raises(UserError, match="inconnues : couleur ; manquantes : cible_nationale"):
        bundle.load("05", folder)


def test_tables_are_checked_against_the_registry_at_save_and_load(prepared_05, tmp_path):
    folder = bundle.save(prepared_05, tmp_path / "05")
    gaps = pd.read_parquet(folder / bundle.TABLES["gaps"])
    gaps["postes"] = gaps["postes"].astype(str)
    gaps.to_parquet(folder / bundle.TABLES["gaps"], index=False)
    with pytest.raises(BundleTableError, match=r"« gaps ».*postes.*nombres"):
        bundle.load("05", folder)

    no_month = prepared_05.trajectory.drop(columns="mois")
    broken = dataclasses.replace(prepared_05, trajectory=no_month)
    with pytest.raises(BundleTableError, match=r"« trajectory ».*mois"):
        bundle.save(broken, tmp_path / "autre")
    assert not (tmp_path / "autre").exists()

    twice = pd.concat([prepared_05.indicators, prepared_05.indicators.iloc[:1]])
    with pytest.raises(BundleTableError, match=r"« indicators ».*siren_epci"):
        check_tables(dataclasses.replace(prepared_05, indicators=twice))


def test_the_schemas_are_built_once_per_process(prepared_05):
    """The check is cheap because its schemas are generated once (its speed is measured
    in bench/, not asserted here: a timed assert fails on a loaded machine)."""
    from analyse.analysis.bundle import table_schemas

    check_tables(prepared_05)
    built = table_schemas.cache_info().misses
    check_tables(prepared_05)
    check_tables(prepared_05)
    assert table_schemas.cache_info().misses == built == 1


def test_load_reads_the_tables_as_geopandas_and_checks_only_what_changed(
    prepared_05, tmp_path, monkeypatch
):
    """A bundle read back as saved is not checked twice (its digests match), and its
    geographic tables are those ``geopandas.read_parquet`` gives, CRS included."""
    import geopandas as gpd

    folder = bundle.save(prepared_05, tmp_path / "05")
    checks = []
    monkeypatch.setattr(bundle, "check_tables", lambda *a, **k: checks.append(a))
    loaded = bundle.load("05", folder)
    assert checks == []
    for attribute in ("indicators", "communes", "hosts", "places"):
        expected = gpd.read_parquet(folder / bundle.TABLES[attribute])
        got = getattr(loaded, attribute)
        assert got.crs == expected.crs and got.geometry.name == expected.geometry.name
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(expected))
    trajectory = pd.read_parquet(folder / bundle.TABLES["trajectory"])
    trajectory.to_parquet(folder / bundle.TABLES["trajectory"], index=False, compression="gzip")
    bundle.load("05", folder)
    assert len(checks) == 1
