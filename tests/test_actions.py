from __future__ import annotations

import pytest

from actions.context import ActionContext
from actions.records import ActionShowDetails
from actions.search import ActionSearchPartners, ActionSearchSolutions, ActionShowMore
from rasa_sdk.executor import CollectingDispatcher

from tests.nlu_entities import place, understood
from actions.introductions import ActionIntroductionStatus
from actions.support import ActionClarify, ActionFaqFallback


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run(action, dispatcher, tracker, domain):
    return await action.run(dispatcher, tracker, domain)


@pytest.mark.asyncio
async def test_search_solutions_lists_matches_with_facts_and_buttons(context, dispatcher, tracker_factory, domain):
    tracker = tracker_factory("find a solution for water scarcity in Kenya", entities=[{"entity": "country", "value": "KEN", "start": 37, "end": 42}])
    events = await run(ActionSearchSolutions(context), dispatcher, tracker, domain)
    (message,) = dispatcher.messages
    assert "Rainwater harvesting ponds for dryland villages" in message["text"]
    assert "Countries: Kenya, Ethiopia" in message["text"]
    assert "6 (Clean Water and Sanitation)" in message["text"]
    assert "Provider: Poverty and Hunger Facility (PHF)" in message["text"]
    assert "https://example.org/s/rainwater" in message["text"]
    assert any(b["payload"] == '/show_details{"ordinal":1}' for b in message["buttons"])
    slots = slots_of(events)
    assert slots["country"] == "KEN" and slots["last_results"] == ["s-rainwater"]
    assert slots["last_query"] == "find a solution for water scarcity in Kenya"


@pytest.mark.asyncio
async def test_refinement_narrows_the_last_search_and_any_country_clears_it(context, tracker_factory, domain):
    from rasa_sdk.executor import CollectingDispatcher

    first = CollectingDispatcher()
    events = await run(ActionSearchSolutions(context), first, tracker_factory("training women in rural communities"), domain)
    slots = slots_of(events)
    narrowed = CollectingDispatcher()
    tracker = tracker_factory("only in Asia", entities=[{"entity": "region", "value": "asia_pacific", "start": 8, "end": 12}], slots=slots)
    events = await run(ActionSearchSolutions(context), narrowed, tracker, domain)
    slots = slots_of(events)
    assert slots["region"] == "asia_pacific" and slots["last_query"] == "training women in rural communities"
    assert "filters: Asia and the Pacific" in narrowed.messages[0]["text"]
    assert slots["last_results"][0] == "s-solar-mamas"
    assert all(i in ("s-solar-mamas", "s-e-gov") for i in slots["last_results"])
    cleared = CollectingDispatcher()
    events = await run(ActionSearchSolutions(context), cleared, tracker_factory("any region", entities=understood("any region"), slots=slots), domain)
    assert slots_of(events)["region"] is None
    assert "filters:" not in cleared.messages[0]["text"]


@pytest.mark.asyncio
async def test_a_filter_that_matches_nothing_says_so_and_keeps_the_earlier_results(context, dispatcher, tracker_factory, domain):
    earlier = {"last_query": "school meals", "last_kind": "solution", "last_results": ["s-school-meals"], "result_offset": 0.0, "country": "NPL"}
    # a need with close matches elsewhere gets them, and the reply says the place had none
    tracker = tracker_factory("milk banks for newborns", slots=earlier)
    events = await run(ActionSearchSolutions(context), dispatcher, tracker, domain)
    (message,) = dispatcher.messages
    assert message["text"].startswith("Nothing in Nepal matches closely, so I looked everywhere.") and "Human milk bank network" in message["text"]
    assert slots_of(events)["country"] is None and slots_of(events)["last_results"][0] == "s-milk-banks"
    # with only Nepal asked for, it stays Nepal
    dispatcher = CollectingDispatcher()
    text = "milk banks for newborns, only in Nepal"
    tracker = tracker_factory(text, slots=earlier, entities=understood(text, place(text, "Nepal", "country", "NPL")))
    events = await run(ActionSearchSolutions(context), dispatcher, tracker, domain)
    (message,) = dispatcher.messages
    assert message["text"].startswith('I found no solutions about "milk banks for newborns')
    assert 'Your earlier results on "school meals" are still here.' in message["text"]
    assert "Human milk bank network" not in message["text"]  # no silent "closest from anywhere"
    payloads = [b["payload"] for b in message["buttons"]]
    assert any(p.startswith('/find_solution{"topic":"milk banks for newborns') and p.endswith('"operation":"clear"}') for p in payloads)
    assert "/show_results" in payloads
    assert slots_of(events) == {"search_outcome": "nothing"}  # the dialogue state is untouched


@pytest.mark.asyncio
async def test_search_partners_names_the_partner(context, dispatcher, tracker_factory, domain):
    # a message that only names the partner opens its profile; one that says more lists the partners
    await run(ActionSearchPartners(context), dispatcher, tracker_factory("tell me about TIKA", intent="find_partner"), domain)
    assert dispatcher.messages[0]["text"].startswith("**Turkish Cooperation and Coordination Agency (TIKA)**")
    assert "focal@tika.example" not in dispatcher.messages[0]["text"]
    dispatcher.messages.clear()
    await run(ActionSearchPartners(context), dispatcher, tracker_factory("TIKA health work with hospitals", intent="find_partner"), domain)
    assert dispatcher.messages[0]["text"].splitlines()[2].startswith("1. **Turkish Cooperation and Coordination Agency (TIKA)**")
    # the partner's projects asked for: its solutions
    dispatcher.messages.clear()
    await run(ActionSearchPartners(context), dispatcher, tracker_factory("does TIKA have other projects?", intent="find_partner"), domain)
    assert "solutions that best match" in dispatcher.messages[0]["text"] or "nearest solutions" in dispatcher.messages[0]["text"]
    assert "focal@tika.example" not in dispatcher.messages[0]["text"]


@pytest.mark.asyncio
async def test_search_without_topic_asks_for_one(context, dispatcher, tracker_factory, domain):
    events = await run(ActionSearchSolutions(context), dispatcher, tracker_factory("find a solution"), domain)
    assert dispatcher.messages[0]["response"] == "utter_ask_topic" and events == []


@pytest.mark.asyncio
async def test_show_more_pages_through_close_matches_only_and_details_open_the_chosen_item(context, tracker_factory, domain, monkeypatch):
    from rasa_sdk.executor import CollectingDispatcher

    import actions.search

    monkeypatch.setattr(actions.search, "PAGE_SIZE", 1)
    first = CollectingDispatcher()
    slots = slots_of(await run(ActionSearchSolutions(context), first, tracker_factory("community development project"), domain))
    seen = list(slots["last_results"])
    for _ in range(2):
        more = CollectingDispatcher()
        slots.update(slots_of(await run(ActionShowMore(context), more, tracker_factory("show more", intent="show_more", slots=slots), domain)))
        assert more.messages[0]["text"].startswith("More solutions")
        seen += slots["last_results"]
    # the close matches in rank order, each once; the records below the relevance floor never follow them
    ranked = context.services.retriever.search("community development project", top_k=10)
    expected = [r.id for r in ranked if r.close_match] or [r.id for r in actions.search.nearest(ranked)]
    assert seen == expected[:3] and len(set(seen)) == 3
    end = CollectingDispatcher()
    await run(ActionShowMore(context), end, tracker_factory("show more", intent="show_more", slots=slots), domain)
    assert end.messages[0]["text"].startswith("That's all the") or len(expected) > 3
    details = CollectingDispatcher()
    tracker = tracker_factory("tell me more about number 3", intent="show_details", entities=[{"entity": "ordinal", "value": 3}], slots=slots)
    events = await run(ActionShowDetails(context), details, tracker, domain)
    assert slots_of(events)["selected_id"] == slots["last_results"][0]  # number 3 is the one on screen (page three)
    assert "Sources: " in details.messages[0]["text"]


@pytest.mark.asyncio
async def test_forged_ordinal_selects_nothing(context, dispatcher, tracker_factory, domain):
    tracker = tracker_factory('/show_details{"ordinal": 9}', intent="show_details", entities=[{"entity": "ordinal", "value": 9}], slots={"last_results": ["s-rainwater"]})
    events = await run(ActionShowDetails(context), dispatcher, tracker, domain)
    assert events == [] and dispatcher.messages[0]["text"].startswith("I only showed 1 result")


@pytest.mark.asyncio
async def test_details_and_more_without_a_search(context, tracker_factory, domain):
    from rasa_sdk.executor import CollectingDispatcher

    d1, d2 = CollectingDispatcher(), CollectingDispatcher()
    await run(ActionShowDetails(context), d1, tracker_factory("the first one", intent="show_details"), domain)
    await run(ActionShowMore(context), d2, tracker_factory("more", intent="show_more"), domain)
    assert d1.messages[0]["response"] == "utter_nothing_to_detail"
    assert d2.messages[0]["response"] == "utter_nothing_to_page"


@pytest.mark.asyncio
async def test_clarify_answers_from_the_faq_or_suggests_intents(context, tracker_factory, domain):
    from rasa_sdk.executor import CollectingDispatcher

    faq = CollectingDispatcher()
    await run(ActionClarify(context), faq, tracker_factory("when was the galaxy launched", intent="nlu_fallback"), domain)
    assert "2019" in faq.messages[0]["text"]
    unsure = CollectingDispatcher()
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "find_partner", "confidence": 0.3}]
    await run(ActionClarify(context), unsure, tracker_factory("blorp the zingers", intent="nlu_fallback", intent_ranking=ranking), domain)
    assert unsure.messages[0]["buttons"][0]["payload"] == "/find_partner"
    emoji = CollectingDispatcher()
    await run(ActionClarify(context), emoji, tracker_factory("🙂🙂", intent="nlu_fallback"), domain)
    assert emoji.messages[0]["response"] == "utter_text_only"


@pytest.mark.asyncio
async def test_faq_fallback_is_honest_when_the_faq_does_not_cover_it(context, dispatcher, tracker_factory, domain):
    await run(ActionFaqFallback(context), dispatcher, tracker_factory("what is the boiling point of mercury on the galaxy servers", intent="faq"), domain)
    assert dispatcher.messages[0]["response"] == "utter_dont_know"
    assert dispatcher.messages[0]["contact"] == context.settings.unossc_contact


@pytest.mark.asyncio
async def test_unloaded_services_get_an_apology(dispatcher, tracker_factory, domain):
    loading = ActionContext(services=None)
    await run(ActionSearchSolutions(loading), dispatcher, tracker_factory("water"), domain)
    await run(ActionIntroductionStatus(loading), dispatcher, tracker_factory("status?", intent="introduction_status"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable", "utter_service_unavailable"]


def test_the_input_channel_is_the_relaying_bridge_or_rasas_own(tracker_factory):
    from actions.base import input_channel

    assert input_channel(tracker_factory("hi", metadata={"channel": "telegram"}, input_channel="rest")) == "telegram"
    assert input_channel(tracker_factory("hi", metadata={"channel": "made-up"}, input_channel="rest")) == "rest"
    assert input_channel(tracker_factory("hi", input_channel="socketio")) == "socketio"
    assert input_channel(tracker_factory("hi")) == "unknown"


@pytest.mark.asyncio
async def test_a_deep_link_opens_its_record_and_makes_it_the_one_shown(context, dispatcher, tracker_factory, domain):
    tracker = tracker_factory('/show_details{"record_id":"s-rainwater"}', intent="show_details", entities=[{"entity": "record_id", "value": "s-rainwater"}])
    events = await run(ActionShowDetails(context), dispatcher, tracker, domain)
    (message,) = dispatcher.messages
    assert "Rainwater harvesting ponds for dryland villages" in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["Connect me with them"]
    slots = slots_of(events)
    assert slots["selected_id"] == "s-rainwater" and slots["last_results"] == ["s-rainwater"] and "s-rainwater" in slots["shown_ids"]


@pytest.mark.asyncio
async def test_a_deep_link_to_an_unknown_record_opens_nothing(context, dispatcher, tracker_factory, domain):
    tracker = tracker_factory('/show_details{"record_id":"s-nope"}', intent="show_details", entities=[{"entity": "record_id", "value": "s-nope"}])
    assert await run(ActionShowDetails(context), dispatcher, tracker, domain) == []
    assert dispatcher.messages[0]["response"] == "utter_nothing_to_detail"


@pytest.mark.asyncio
async def test_the_webinar_welcome_offers_the_top_questions_in_rank_order(context, dispatcher, tracker_factory, domain):
    from actions.support import WEBINAR_QUESTIONS, ActionWebinarWelcome
    from knowledge.catalogue import load_faq
    from knowledge.settings import DATA_DIR

    await run(ActionWebinarWelcome(context), dispatcher, tracker_factory("/webinar", intent="webinar"), domain)
    (message,) = dispatcher.messages
    ranked = sorted((e for e in load_faq(DATA_DIR / "faq.jsonl") if e.webinar_rank), key=lambda e: e.webinar_rank)
    questions = [b["payload"] for b in message["buttons"][:-1]]
    assert questions == [e.question for e in ranked][:WEBINAR_QUESTIONS]
    assert "webinar" in message["text"]


def test_a_forged_payloads_unusable_entities_are_dropped_before_any_action_reads_them():
    from actions.base import usable_entities

    forged = [
        {"entity": "ordinal", "value": float("inf")}, {"entity": "ordinal", "value": 10**30}, {"entity": "sdg", "value": {"$ne": None}},
        {"entity": "topic", "value": "x" * 10_000}, {"entity": 5, "value": 1}, "not an entity",
        {"entity": "ordinal", "value": 2, "start": "0", "end": None}, {"entity": "country", "value": "KEN", "start": 3, "end": 8},
        {"entity": "ordinal", "value": [1, 3]}, {"entity": "ordinal", "value": [[1]]},
    ]
    assert usable_entities(forged) == [{"entity": "ordinal", "value": 2}, {"entity": "country", "value": "KEN", "start": 3, "end": 8}, {"entity": "ordinal", "value": [1, 3]}]
    assert usable_entities(None) == [] and usable_entities({"entity": "x"}) == []


@pytest.mark.asyncio
async def test_an_infinite_ordinal_gets_an_answer_not_an_apology(context, tracker_factory, domain):
    from rasa_sdk.executor import CollectingDispatcher

    from actions.records import ActionShowDetails

    dispatcher = CollectingDispatcher()
    tracker = tracker_factory('/show_details{"ordinal": 1e309}', intent="show_details", entities=[{"entity": "ordinal", "value": float("inf")}],
                              slots={"last_results": ["s-rainwater"], "shown_ids": ["s-rainwater"], "result_offset": 0.0})
    await ActionShowDetails(context).run(dispatcher, tracker, domain)
    assert dispatcher.messages and dispatcher.messages[0].get("response") != "utter_service_unavailable"
