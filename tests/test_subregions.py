"""Sub-regions inside the divisions ("West Africa", "Central Asia", "the Gulf"): named in four languages,
kept apart from the division names that contain them, and filtering on their countries."""
from __future__ import annotations

import pytest

from actions.filters import apply
from actions.search import ActionRefineSearch, ActionSearchSolutions
from knowledge.geo import REGION_KEYS, geography, subregions
from knowledge.search import Filters
from tests.nlu_entities import place
from tests.test_dialogue import SOLAR_LIST, request, run, slots_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("solar pumps in West Africa", ["west_africa"]),
        ("only Pacific", ["pacific"]),
        ("swap for South Asia", ["south_asia"]),
        ("anything in South-East Asia or the Gulf?", ["southeast_asia", "gulf"]),
        ("Asie centrale et Afrique de l'Ouest", ["central_asia", "west_africa"]),
        ("проекты в Центральной Азии", ["central_asia"]),
        ("что есть по Юго-Восточной Азии", ["southeast_asia"]),
        ("مشاريع في غرب أفريقيا", ["west_africa"]),
        ("بدول الخليج", ["gulf"]),
        ("в Центральной Азии и на Кавказе", ["central_asia", "south_caucasus"]),
        ("Something from Oceania on coastal resilience?", ["pacific"]),
        # a division's own name is the division, and a country is a country
        ("Latin America and the Caribbean", []),
        ("Middle East and North Africa", []),
        ("Moyen-Orient et Afrique du Nord, gestion de l'eau", []),
        ("Латинская Америка и Карибский бассейн", []),
        ("الدول العربية ومنطقة آسيا والمحيط الهادئ", []),
        ("Asia and the Pacific", []),
        ("Asia-Pacific", []),
        ("South Africa", []),
        ("the Gulf of Guinea", []),
    ],
)
def test_subregions_are_found_in_four_languages_and_never_inside_a_division_name(text, expected):
    assert [m.key for m in subregions().mentions(text)] == expected


def test_every_subregion_has_a_division_names_in_four_languages_and_known_countries():
    geo = geography()
    assert len(subregions().by_key) >= 20
    for subregion in subregions().by_key.values():
        assert subregion.division in REGION_KEYS and subregion.source
        assert set(subregion.labels) == {"en", "fr", "ru", "ar"}
        assert subregion.countries and all(geo.is_country(code) for code in subregion.countries), subregion.key


def test_the_nlu_division_becomes_the_subregion_the_user_named():
    text = "only West Africa"
    req = request(text, place(text, "West Africa", "region", "africa"))
    assert req.new == {"region": ["west_africa"]}
    assert apply(Filters(sdg=6), req).filters == Filters(sdg=6, region="west_africa")
    # named in a language the NLU did not read as a region at all
    assert request("seulement l'Asie centrale").new == {"region": ["central_asia"]}
    # moving away from a sub-region, and a bare division, still work
    text = "Asia instead of East Africa"
    req = request(text, place(text, "Asia", "region", "asia_pacific"), {**place(text, "East Africa", "region", "africa"), "role": "old"})
    assert req.new == {"region": ["asia_pacific"]} and req.old == {"region": ["east_africa"]}
    assert apply(Filters(region="east_africa"), req).filters == Filters(region="asia_pacific")
    assert Filters(region="central_asia").validated().region == "central_asia"
    assert Filters(region="West Africa").validated().region == "africa"  # a name, as before: the division


def test_a_subregion_filter_keeps_the_records_of_its_countries(retriever):
    found = {r.record.id for r in retriever.search("community projects", kind="solution", filters=Filters(region="central_asia"), top_k=10)}
    assert found == {"s-heritage"}
    east = retriever.search("water for villages", kind="solution", filters=Filters(region="east_africa"), top_k=10)
    assert {r.record.id for r in east} == {"s-rainwater", "s-solar-mamas", "s-milk-banks"}  # Kenya/Ethiopia, Tanzania, Mozambique
    assert "in Kenya, Ethiopia" in next(r for r in east if r.record.id == "s-rainwater").why


@pytest.mark.asyncio
async def test_narrowing_to_a_subregion_says_so_and_widening_offers_the_division(context, tracker_factory, domain):
    text = "only East Africa"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=[place(text, "East Africa", "region", "africa")], slots=SOLAR_LIST), domain)
    assert slots_of(events)["region"] == "east_africa" and "East Africa" in messages[0]["text"]
    assert set(slots_of(events)["last_results"]) <= {"s-rainwater", "s-solar-mamas", "s-milk-banks"}
    assert slots_of(events)["last_results"]  # a list was shown: the subset check above is not vacuous
    # a need nothing in the sub-region answers: the whole division is one tap away
    text = "silk road heritage tourism in East Africa"
    messages, events = await run(ActionSearchSolutions(context), tracker_factory(text, entities=[place(text, "East Africa", "region", "africa")]), domain)
    # a new need: the close matches from anywhere, saying the sub-region had none
    assert messages[0]["text"].startswith("Nothing in East Africa matches closely, so I looked everywhere.") and "Silk road heritage corridors" in messages[0]["text"]
    # the sub-region asked for as a filter: the whole division is one tap away
    heritage = {"last_query": "silk road heritage tourism", "last_kind": "solution", "last_results": ["s-heritage"], "shown_ids": ["s-heritage"], "result_offset": 0.0}
    text = "only East Africa"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=[place(text, "East Africa", "region", "africa")], slots=heritage), domain)
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert '/find_solution{"topic":"silk road heritage tourism","region":"africa","operation":"replace"}' in payloads
    assert any(b["title"] == "Whole region: Africa" for m in messages for b in m.get("buttons") or [])


def test_a_place_the_filters_move_away_from_leaves_the_topic():
    from actions.search import without_places

    central, pacific = Filters(region="central_asia"), Filters(region="pacific")
    assert without_places("water projects in Central Asia", pacific, central) == "water projects"
    assert without_places("solar for schools in Kenya", Filters(region="asia_pacific"), Filters(country="KEN")) == "solar for schools"
    assert without_places("rice in West Africa", Filters(region="west_africa", sdg=2), Filters(region="west_africa")) == "rice in West Africa"
    assert without_places("Kenya", Filters(country="UGA"), Filters(country="KEN")) == "Kenya"  # nothing else to search
    west = Filters(region="west_africa")
    assert without_places("Je cherche des projets d'irrigation en Afrique de l'Ouest", central, west) == "Je cherche des projets d'irrigation"
    assert without_places("нужны проекты по водоснабжению в Центральной Азии", pacific, central) == "нужны проекты по водоснабжению"
    assert without_places("أبحث عن مشاريع الطاقة الشمسية في غرب أفريقيا", central, west) == "أبحث عن مشاريع الطاقة الشمسية"


@pytest.mark.asyncio
async def test_changing_the_place_searches_the_need_there_not_the_old_place(context, tracker_factory, domain):
    slots = {**SOLAR_LIST, "last_query": "silk road heritage tourism in Kenya", "country": "KEN"}
    text = "only Central Asia"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=[place(text, "Central Asia", "region", "europe_cis")], slots=slots), domain)
    assert slots_of(events)["last_query"] == "silk road heritage tourism" and slots_of(events)["region"] == "central_asia" and slots_of(events)["country"] is None
    assert slots_of(events)["last_results"] == ["s-heritage"] and '"silk road heritage tourism"' in messages[0]["text"]


def test_a_subregion_the_nlu_did_not_tag_is_no_topic_word():
    from actions.search import leftover_topic
    from tests.conftest import make_tracker

    text = "what about the Gulf instead?"
    assert "gulf" not in leftover_topic(text, make_tracker(text, intent="refine_search", entities=[]))


@pytest.mark.asyncio
async def test_a_filter_change_after_a_search_that_found_nothing_is_for_that_need(context, tracker_factory, domain):
    text = "what about Central Asia instead?"
    tracker = tracker_factory(text, intent="refine_search", entities=[place(text, "Central Asia", "region", "europe_cis"), {"entity": "operation", "value": "replace", "start": 23, "end": 30}], slots=SOLAR_LIST)
    tracker.events.extend([
        {"event": "user", "text": "silk road heritage tourism in East Africa"}, {"event": "action", "name": "action_search_solutions"},
        {"event": "slot", "name": "search_outcome", "value": "nothing"}, {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
    ])
    messages, events = await run(ActionRefineSearch(context), tracker, domain)
    assert slots_of(events)["last_query"] == "silk road heritage tourism" and slots_of(events)["region"] == "central_asia"
    assert slots_of(events)["last_results"] == ["s-heritage"]

    # and past a filter change that found nothing either
    tracker.events.extend([
        {"event": "action", "name": "action_refine_search"}, {"event": "slot", "name": "search_outcome", "value": "nothing"},
        {"event": "action", "name": "action_listen"}, {"event": "user", "text": "and in West Africa?"},
    ])
    tracker.latest_message.update(text="and in West Africa?", entities=[place("and in West Africa?", "West Africa", "region", "africa")])
    messages, _ = await run(ActionRefineSearch(context), tracker, domain)
    assert '"silk road heritage tourism"' in messages[0]["text"] and "West Africa" in messages[0]["text"]


@pytest.mark.parametrize("text", [
    "А если вместо этого Южный Кавказ?", "وماذا عن دول الخليج بدلاً من ذلك؟", "Et plutôt en Afrique centrale ?", "ok widen it to the whole region then",
    "is there anything similar in Central Asia?", "something like that in the Gulf?", "quelque chose de similaire en Afrique centrale ?",
    "есть что-то похожее в Южном Кавказе?", "pas l'Afrique du Nord ni l'Afrique de l'Ouest", "neither the Gulf nor the Sahel",
])
def test_moving_elsewhere_or_widening_adds_no_topic_words(text):
    from actions.search import leftover_topic
    from tests.conftest import make_tracker

    assert leftover_topic(text, make_tracker(text, intent="refine_search", entities=[])) == ""


def test_a_place_taken_out_of_a_sentence_leaves_no_stray_space():
    from actions.search import without_places

    topic = "Solar power for rural villages in the Sahel. What have other Southern countries done?"
    assert without_places(topic, Filters(country="NER"), Filters(region="sahel")) == "Solar power for rural villages. What have other Southern countries done?"
