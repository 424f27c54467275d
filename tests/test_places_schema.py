"""Today's national places file (schema standard-mediation-num) and the 2022 JSON
give the same distances for the same places; ``--programmes`` chooses the places."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import PLACES_FILE

from analyse.analysis import inputs, pipeline, situation
from analyse.read.files import read_bytes
from analyse.territory import places

# The schema's own example file (tests/donnees/README.md says where it comes from).
SCHEMA_EXAMPLE = Path(__file__).parent / "donnees" / "standard-mediation-num-exemple-valide.csv"
# A place of the current file that is not a conseillers' place: in the middle of the
# Champsaur-Valgaudemar (Saint-Bonnet-en-Champsaur), which has no conseiller.
FRANCE_SERVICES_ONLY = {"latitude": 44.6817, "longitude": 6.0753, "code_insee": "05132"}


def _places_05() -> list[dict]:
    data = json.loads(read_bytes(PLACES_FILE).decode("utf-8"))
    return [p for p in data if str(p.get("code_postal", "")).startswith("05")]


def _to_current_schema(rows: list[dict], target, reference) -> None:
    """The converter: 2022 places written as today's file (header of the schema's
    example), ``code_insee`` filled from the reference for most places, left empty or
    wrong for two (the spatial join then takes over), plus one France Services place."""
    header = next(csv.reader(SCHEMA_EXAMPLE.open(encoding="utf-8")))
    frame = pd.DataFrame(rows)
    located = places.locate_places(
        places.read_places(_write_json(rows, target.with_suffix(".json")))[0],
        reference.communes,
        reference.postal_codes,
    )
    out = pd.DataFrame({column: "" for column in header}, index=frame.index)
    for column in ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj", "source"):
        out[column] = frame[column].fillna("").astype(str)
    out["latitude"] = frame["latitude"].astype(str)
    out["longitude"] = frame["longitude"].astype(str)
    out["services"] = frame["services"].fillna("").str.replace(", ", "|")
    out["code_insee"] = located["insee"].fillna("").to_numpy()
    out.loc[0, "code_insee"] = ""  # absent: spatial join
    out.loc[1, "code_insee"] = "99999"  # invalid: spatial join
    out["dispositif_programmes_nationaux"] = "Conseillers numériques|Aidants Connect"
    out.loc[2, "dispositif_programmes_nationaux"] = "France Services, Conseillers numériques"
    extra = {column: "" for column in header} | {
        "id": "fs-champsaur",
        "nom": "France Services du Champsaur",
        "commune": "Saint-Bonnet-en-Champsaur",
        "code_postal": "05500",
        "dispositif_programmes_nationaux": "France Services",
    }
    extra |= {k: str(v) for k, v in FRANCE_SERVICES_ONLY.items()}
    out = pd.concat([out, pd.DataFrame([extra])], ignore_index=True)
    out.to_csv(target, index=False, quoting=csv.QUOTE_ALL)


def _write_json(rows, path):
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def _distances(reference, selections, path, programmes=places.DEFAULT_PROGRAMMES):
    extras = inputs.load_extras(reference, places_path=path, programmes=programmes)
    prepared = situation.prepare("05", selections, reference, extras=extras)
    return prepared, prepared.communes.set_index("insee")["distance_m"].sort_index()


@pytest.fixture(scope="module")
def files(tmp_path_factory, reference):
    folder = tmp_path_factory.mktemp("lieux")
    rows = _places_05()
    old = _write_json(rows, folder / "lieux-2022.json")
    new = folder / "lieux-actuels.csv"
    _to_current_schema(rows, new, reference)
    return old, new, len(rows)


@pytest.fixture(scope="module")
def selections(reference):
    return pipeline.match_selections(None, reference)


def test_current_schema_gives_the_same_distances_as_the_2022_json(files, reference, selections):
    old, new, count = files
    assert count >= 10
    before, distances_2022 = _distances(reference, selections, old)
    after, distances_now = _distances(reference, selections, new)
    pd.testing.assert_series_equal(distances_2022, distances_now)
    chosen = after.context["lieux_selection"]
    assert (chosen["lus"], chosen["retenus"]) == (count + 1, count)
    assert chosen["programmes"] == ["Conseillers numériques"]
    assert before.context["lieux_selection"]["format"] == places.FORMAT_2022


def test_programmes_chooses_the_places(files, reference, selections):
    _, new, count = files
    _, default = _distances(reference, selections, new)
    everything, all_places = _distances(reference, selections, new, places.parse_programmes("tous"))
    assert everything.context["lieux_selection"]["retenus"] == count + 1
    # The France Services place brings Saint-Bonnet-en-Champsaur to 0 m or so.
    assert all_places["05132"] < 1_000 < default["05132"]
    fs, _ = _distances(reference, selections, new, places.parse_programmes("France services"))
    assert fs.context["lieux_selection"]["retenus"] == 2  # « France Services » twice


def test_valid_insee_code_gives_the_commune(files, reference):
    _, new, _ = files
    read, _ = places.read_places(new, None)
    located = places.locate_places(read, reference.communes, reference.postal_codes)
    by_code = located["commune_declaree_resolue_par"] == places.BY_INSEE_CODE
    assert by_code.sum() == len(located) - 2  # the empty and the wrong code
    assert (located.loc[by_code, "insee"] == located.loc[by_code, "code_insee"]).all()


def test_programme_names_are_compared_loosely():
    listed = pd.Series(["Conseillers numériques|France Services", "Aidants Connect", ""])
    assert places.programme_mask(listed, ("conseiller numerique",)).tolist() == [True, False, False]
    assert places.programme_mask(listed, None).all()
    with pytest.raises(places.PlacesFileError):
        places.parse_programmes(" , ")


def test_report_says_which_places_it_counts(files, reference, selections):
    from analyse.render.territories_report import places_programmes_html

    _, new, count = files
    chosen, _ = _distances(reference, selections, new)
    text = " ".join(places_programmes_html(chosen).split())
    assert "rattachés au programme « Conseillers numériques »" in text
    assert f"soit {count} lieux sur les {count + 1} du fichier" in text
    everything, _ = _distances(reference, selections, new, places.parse_programmes("tous"))
    assert "tous les lieux de médiation numérique" in places_programmes_html(everything)


def test_empty_programmes_option_fails_clearly(capsys, tmp_path):
    from analyse import cli

    args = ["rapport", "-d", "05", "--lieux", str(PLACES_FILE), "--programmes", " , "]
    assert cli.main([*args, "--sortie", str(tmp_path / "sortie")]) == 2
    assert "--programmes : aucun programme donné" in capsys.readouterr().err
    assert not (tmp_path / "sortie").exists()
