"""The gazetteer's data side (the spaCy ruler itself runs inside Rasa; see test_e2e)."""
from __future__ import annotations

import pytest

from bot.nlu.gazetteer_patterns import regex_entities, ruler_patterns
from knowledge.geo import geography


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("projects for SDG 13", [("sdg", 13)]),
        ("sdg#6 and goal six", [("sdg", 6), ("sdg", 6)]),
        ("tell me more about the second one", [("ordinal", 2)]),
        ("open number 3", [("ordinal", 3)]),
        ("the last one please", [("ordinal", -1)]),
        ("SDG 18 does not exist", []),
    ],
)
def test_numbers_and_ordinals(text, expected):
    assert [(e["entity"], e["value"]) for e in regex_entities(text)] == expected


def test_patterns_cover_countries_aliases_regions_and_goals():
    ids = {(p["id"], " ".join(t.get("LOWER", t.get("TEXT", "")) for t in p["pattern"])) for p in ruler_patterns()}
    assert ("country:KEN", "kenyan") in ids
    assert ("country:TUR", "türkiye") in ids and ("country:TUR", "turkiye") in ids
    assert ("region:arab_states", "arab region") in ids
    assert ("sdg:2", "zero hunger") in ids


def test_every_country_has_a_division_or_is_northern_america():
    import pycountry

    geo = geography()
    assert geo.division("KEN") == "africa" and geo.division("EGY") == "arab_states"
    assert geo.division("TUR") == "europe_cis" and geo.division("MEX") == "latin_america_caribbean"
    without = {c.alpha_3 for c in pycountry.countries if geo.division(c.alpha_3) is None}
    # Northern America and uninhabited or remote territories only.
    assert without <= {"USA", "CAN", "GRL", "SPM", "ATA", "ATF", "BVT", "HMD", "SGS", "UMI", "IOT", "CCK", "CXR", "NFK", "PCN"}
    assert geo.region_key("Arab region") == "arab_states" and geo.region_key("CIS countries") == "europe_cis"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my email is wrong", [("field", "requester_email")]),
        ("my organisation is actually the Ministry of Water Resources", [("field", "requester_organisation"), ("detail_value", "the Ministry of Water Resources")]),
        ("the organisation should be UN Country Office, Amman", [("field", "requester_organisation"), ("detail_value", "UN Country Office, Amman")]),
        ("change the message to we want to learn about drip irrigation.", [("field", "intro_message"), ("detail_value", "we want to learn about drip irrigation")]),
        ("change my role to programme officer", [("field", "requester_role"), ("detail_value", "programme officer")]),
        ("I want to edit the message", [("field", "intro_message")]),
        ("Ministry of Water, policy adviser", []),  # an answer, not a correction
    ],
)
def test_corrections_name_the_field_and_the_new_value(text, expected):
    assert [(e["entity"], e["value"]) for e in regex_entities(text) if e["entity"] in ("field", "detail_value")] == expected
