"""The dialogue: filter operations, references to results, questions about a record, FAQ confidence and
state that survives asides, on the real small catalogue and MiniLM (no Rasa server)."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import DialogueState
from actions.filters import FilterRequest, apply
from actions.records import ActionAnswerRecordQuestion, ActionShowDetails
from actions.search import ActionRefineSearch, ActionSearchPartners, ActionSearchSolutions, ActionShowResults
from actions.support import ActionAnswerFaq, ActionClarify, ActionOutOfScope
from knowledge.closed_values import closed_entities
from knowledge.search import Filters
from tests.nlu_entities import place, understood


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def found(text):
    return {(e["entity"], e["value"]) for e in closed_entities(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("which filters are on?", {("operation", "list")}),
        ("what are you filtering on right now", {("operation", "list")}),
        ("clear everything, keep solar", {("operation", "clear")}),
        ("reset the filters please", {("operation", "clear"), ("scope", "all")}),
        ("Asia instead of Africa", {("operation", "replace")}),
        ("please take away the country", {("operation", "remove"), ("scope", "country")}),
        ("search anywhere", {("operation", "remove"), ("scope", "place")}),
        ("any SDG is fine", {("operation", "remove"), ("scope", "sdg")}),
        ("who paid for it?", {("attribute", "funders")}),
        ("how long did that one run?", {("attribute", "duration")}),
        ("did it work?", {("attribute", "results")}),
        ("where can I check this", {("attribute", "sources")}),
        ("how many schools did it reach", {("attribute", "results")}),
        ("من موّل المشروع الأول؟", {("attribute", "funders")}),  # a shadda inside the word
        ("كم عدد المزارعين؟", {("attribute", "results")}),
    ],
)
def test_the_closed_vocabularies_find_operations_scopes_and_attributes(text, expected):
    assert expected <= found(text)


def request(text, *extra):
    from tests.conftest import make_tracker

    return FilterRequest.of(make_tracker(text, entities=understood(text, *extra)), text)


AFRICA, ASIA = "africa", "asia_pacific"


def test_replace_moves_from_the_old_value_to_the_new_one_whatever_the_order():
    current = Filters(region=AFRICA)
    for text, new_at, old_at in (("Asia instead of Africa", "Asia", "Africa"), ("not Africa but Asia", "Asia", "Africa")):
        req = request(text, place(text, new_at, "region", ASIA), place(text, old_at, "region", AFRICA))
        assert req.old == {"region": [AFRICA]} and req.new == {"region": [ASIA]}
        assert apply(current, req).filters == Filters(region=ASIA)


def test_values_of_different_scopes_combine_and_the_same_scope_replaces():
    text = "only SDG 5"
    assert apply(Filters(region=AFRICA), request(text)).filters == Filters(sdg=5, region=AFRICA)
    assert apply(Filters(sdg=7, region=AFRICA), request(text)).filters == Filters(sdg=5, region=AFRICA)
    text = "just Kenya"
    assert apply(Filters(sdg=5, region=AFRICA), request(text, place(text, "Kenya", "country", "KEN"))).filters == Filters(sdg=5, country="KEN")


def test_remove_clear_and_list():
    current = Filters(sdg=5, country="KEN")
    assert apply(current, request("remove the country filter")).filters == Filters(sdg=5)
    assert apply(current, request("any SDG")).filters == Filters(country="KEN")
    assert apply(current, request("clear all filters")).filters == Filters()
    text = "drop Kenya"
    assert apply(current, request(text, place(text, "Kenya", "country", "KEN"))).filters == Filters(sdg=5)
    assert request("which filters are on?").operation == "list"
    # "remove that filter" with two filters on is a question, not a guess
    outcome = apply(current, request("remove that filter"))
    assert outcome.conflict and {name for name, _ in outcome.choices} == {"sdg", "country"}


def test_contradictory_values_ask_which_one():
    text = "only Asia and only Africa"
    outcome = apply(Filters(), request(text, place(text, "Asia", "region", ASIA), place(text, "Africa", "region", AFRICA)))
    assert outcome.conflict and [v for _, v in outcome.choices] == [ASIA, AFRICA]


SOLAR_LIST = {"last_query": "training in villages", "last_kind": "solution", "last_results": ["s-rainwater", "s-solar-mamas", "s-school-meals"], "shown_ids": ["s-rainwater", "s-solar-mamas", "s-school-meals"], "result_offset": 0.0}


async def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher.messages, events


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("tell me about the Kenya one", [{"entity": "country", "value": "KEN", "start": 18, "end": 23}], "s-rainwater"),
        ("the solar project please", [], "s-solar-mamas"),
        ("open the school meals one", [], "s-school-meals"),
        ("more about the last one", understood("more about the last one"), "s-school-meals"),
        ("what about the Indian one?", [{"entity": "country", "value": "IND", "start": 15, "end": 21}], "s-solar-mamas"),
    ],
)
async def test_descriptive_references_resolve_against_the_list(context, tracker_factory, domain, text, entities, expected):
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=entities, slots=SOLAR_LIST), domain)
    assert slots_of(events) == {"selected_id": expected}


@pytest.mark.asyncio
async def test_an_ambiguous_reference_asks_with_buttons_and_the_tenth_of_three_is_explained(context, tracker_factory, domain):
    text = "the Brazilian one"
    slots = {**SOLAR_LIST, "last_results": ["s-school-meals", "s-milk-banks", "s-rainwater"]}
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=[place(text, "Brazilian", "country", "BRA")], slots=slots), domain)
    assert events == [] and messages[0]["text"].startswith("Several results fit that")
    assert [b["payload"] for b in messages[0]["buttons"]] == ['/show_details{"ordinal":1}', '/show_details{"ordinal":2}']
    messages, events = await run(ActionShowDetails(context), tracker_factory("the tenth one", intent="show_details", entities=understood("the tenth one"), slots=SOLAR_LIST), domain)
    assert events == [] and messages[0]["text"].startswith("I only showed 3 results (numbers 1 to 3)")


@pytest.mark.asyncio
async def test_questions_about_the_opened_record_are_answered_from_its_fields(context, tracker_factory, domain):
    opened = {**SOLAR_LIST, "selected_id": "s-rainwater"}
    for text, answer in (
        ("when did it start?", "started in 2017"),
        ("which countries did it reach?", "Kenya, Ethiopia"),
        ("who runs it?", "Poverty and Hunger Facility"),
        ("where can I check this", "https://example.org/s/rainwater"),
    ):
        messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=opened), domain)
        assert answer in messages[0]["text"], text
        assert "last_query" not in slots_of(events)  # never a new search
    # a field the catalogue lacks: said so, with the source
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory("who paid for it?", intent="ask_record", entities=understood("who paid for it?"), slots=opened), domain)
    assert messages[0]["text"].startswith("The catalogue doesn't record who funded it") and "https://example.org/s/rainwater" in messages[0]["text"]
    # a question about another item of the list, by description
    text = "how long did the solar one run?"
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=opened), domain)
    assert "started in 2008" in messages[0]["text"] and slots_of(events) == {"selected_id": "s-solar-mamas"}


@pytest.mark.asyncio
async def test_a_question_no_field_answers_quotes_the_sentence_of_the_record_that_does(context, tracker_factory, domain):
    opened = {"last_query": "migrant workers", "last_results": ["s-e-gov", "s-rainwater"], "shown_ids": ["s-e-gov", "s-rainwater"], "selected_id": "s-e-gov"}
    for text in ("does it link with banks?", "are insurers part of it?"):
        messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=opened), domain)
        assert messages[0]["text"].startswith("From the description of **One-stop digital registry for migrant workers**: “Agencies, recruiters, insurers and banks"), text
        assert "Sources for" not in messages[0]["text"] and slots_of(events) == {"selected_id": "s-e-gov"}
    # a field the catalogue lacks, and a sentence that holds the question's rare word: both
    text = "who funded it, the banks?"
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=opened), domain)
    assert messages[0]["text"].startswith("The catalogue doesn't record who funded it") and "Its description says: “Agencies, recruiters, insurers and banks" in messages[0]["text"]
    # words that only name the record (its title) are not evidence; a subject the record never mentions
    # is said to be missing, with the source; a question that only points at the record opens it
    text = "does the migrant workers one use drones?"
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=opened), domain)
    assert messages[0]["text"].startswith("I can't find anything about that in the catalogue's record of **One-stop digital registry for migrant workers**")
    assert "From the description" not in messages[0]["text"]
    for text in ("and what about this one?", "more details on the first one?"):
        messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=opened), domain)
        assert "Countries:" in messages[0]["text"] and "can't find" not in messages[0]["text"], text
    # the same kind of question read as a search or as out of scope, when it points back at the opened record
    for action in (ActionSearchSolutions, ActionOutOfScope):
        messages, events = await run(action(context), tracker_factory("do they share it with insurers?", slots=opened), domain)
        assert messages[0]["text"].startswith("From the description of **One-stop digital registry") and slots_of(events) == {"selected_id": "s-e-gov"}
    # a need, or a question about a kind of thing, stays a search
    for text in ("insurers for migrant workers?", "who insures this kind of work?"):
        _, events = await run(ActionSearchSolutions(context), tracker_factory(text, slots=opened), domain)
        assert "last_query" in slots_of(events), text


@pytest.mark.asyncio
@pytest.mark.parametrize(("language", "started", "missing"), [
    ("fr", "a commencé en 2017", "Le catalogue n'indique pas ses bailleurs de fonds"),
    ("ru", "начало в 2017 году", "В каталоге не указаны источники финансирования"),
    ("ar", "بدأ في عام 2017", "لا يذكر الفهرس الجهات الممولة"),
])
async def test_record_questions_are_answered_in_the_conversations_language(context, tracker_factory, domain, language, started, missing):
    opened = {**SOLAR_LIST, "selected_id": "s-rainwater", "language": language}
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory("when did it start?", intent="ask_record", entities=understood("when did it start?"), slots=opened), domain)
    assert started in messages[0]["text"] and "**" in messages[0]["text"]
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory("who paid for it?", intent="ask_record", entities=understood("who paid for it?"), slots=opened), domain)
    assert messages[0]["text"].startswith(missing) and "https://example.org/s/rainwater" in messages[0]["text"]


@pytest.mark.asyncio
async def test_a_record_question_with_nothing_opened(context, tracker_factory, domain):
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory("who paid for it?", intent="ask_record", entities=understood("who paid for it?")), domain)
    assert events == [] and messages[0]["text"].startswith("Which record do you mean?")


@pytest.mark.asyncio
async def test_refinements_keep_the_topic_and_list_the_filters(context, tracker_factory, domain):
    _, events = await run(ActionSearchSolutions(context), tracker_factory("training women in rural communities"), domain)
    slots = slots_of(events)
    text = "only Asia"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text, place(text, "Asia", "region", ASIA)), slots=slots), domain)
    slots.update(slots_of(events))
    assert slots["region"] == ASIA and slots["last_query"] == "training women in rural communities"
    messages, events = await run(ActionRefineSearch(context), tracker_factory("which filters are on?", intent="refine_search", entities=understood("which filters are on?"), slots=slots), domain)
    assert events == []
    assert messages[0]["text"] == 'Topic: solutions about "training women in rural communities". Filters: Asia and the Pacific.'
    text = "clear everything, keep solar"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text), slots=slots), domain)
    slots.update(slots_of(events))
    assert slots["region"] is None and slots["last_query"] == "solar"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "entities", "language", "expected"),
    [
        ("who funded it?", None, "en", "Taking the first result"),
        ("Which countries received the support?", None, "en", "Taking the first result"),
        ("Il couvre quels pays ?", [{"entity": "attribute", "value": "countries", "start": 16, "end": 20}], "fr", "Je prends le premier résultat"),
        ("من موّل هذا البرنامج؟", [{"entity": "attribute", "value": "funders", "start": 3, "end": 7}], "ar", "سآخذ النتيجة الأولى"),
    ],
)
async def test_a_question_about_it_right_after_a_list_is_about_the_first_result(context, tracker_factory, domain, text, entities, language, expected):
    slots = {**SOLAR_LIST, "language": language}
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text) if entities is None else entities, slots=slots), domain)
    assert expected in messages[0]["text"]
    assert "Rainwater" in messages[1]["text"] or "rainwater" in messages[1]["text"].lower()
    assert slots_of(events).get("selected_id") == "s-rainwater"


@pytest.mark.asyncio
async def test_an_ordinal_that_counts_phases_is_no_reference_to_an_item(context, tracker_factory, domain):
    text = "and when did the second phase start?"
    at = text.index("second")
    entities = [*understood(text), {"entity": "ordinal", "value": 2, "start": at, "end": at + len("second")}]
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=entities, slots=SOLAR_LIST), domain)
    assert slots_of(events).get("selected_id") == "s-rainwater"


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["who funded the milk bank project?", "Who is TIKA?", "who funded the Kenya one?"])
async def test_a_question_that_names_an_item_is_not_taken_for_the_first_result(context, tracker_factory, domain, text):
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=SOLAR_LIST), domain)
    assert not any("Taking the first result" in (m.get("text") or "") for m in messages)


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "language"), [("Who is TIKA?", "en"), ("Tell me about the Turkish Cooperation and Coordination Agency as a partner.", "en"), ("C'est qui, la TIKA ?", "fr")])
async def test_a_message_that_only_names_a_partner_opens_its_profile_and_keeps_the_list(context, tracker_factory, domain, text, language):
    messages, events = await run(ActionSearchPartners(context), tracker_factory(text, intent="find_partner", slots={**SOLAR_LIST, "language": language}), domain)
    slots = slots_of(events)
    assert slots["selected_id"] == "p-tika" and slots["last_results"] == SOLAR_LIST["last_results"]
    assert messages[0]["text"].startswith("**Turkish Cooperation and Coordination Agency")


@pytest.mark.asyncio
async def test_a_partner_named_with_a_need_is_still_searched(context, tracker_factory, domain):
    messages, events = await run(ActionSearchPartners(context), tracker_factory("TIKA health projects for hospitals", intent="find_partner"), domain)
    assert slots_of(events).get("selected_id") in (None, "")
    assert "1." in messages[0]["text"]


@pytest.mark.asyncio
async def test_a_question_read_as_about_a_record_with_nothing_shown_is_answered_from_the_faq(context, tracker_factory, domain):
    asked = tracker_factory("Who were the contact persons again?", intent="ask_record")
    asked.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/who_to_contact", "confidence": 0.62}}}
    messages, events = await run(ActionAnswerRecordQuestion(context), asked, domain)
    assert "unossc.org" in messages[0]["text"] and slots_of(events)["faq_outcome"] == "answered"
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory("who funded it?", intent="ask_record", entities=understood("who funded it?")), domain)
    assert "Which record do you mean?" in messages[0]["text"]


@pytest.mark.asyncio
async def test_a_link_asked_for_a_listed_item_read_as_an_faq_is_its_source(context, tracker_factory, domain):
    slots = {"last_query": "milk", "last_kind": "solution", "last_results": ["s-milk-banks", "s-rainwater"], "shown_ids": ["s-milk-banks", "s-rainwater"], "result_offset": 0.0}
    messages, _ = await run(ActionAnswerFaq(context), tracker_factory("Is the milk bank one on the Galaxy? Send me the link.", intent="faq", slots=slots), domain)
    record = context.services.retriever.get("s-milk-banks")
    assert record.source_url in messages[0]["text"] and "Human milk bank network" in messages[0]["text"]


@pytest.mark.asyncio
async def test_an_item_named_by_a_country_the_only_listed_record_lacks_is_another_one(context, tracker_factory, domain):
    one = {"last_query": "rainwater ponds", "last_kind": "solution", "last_results": ["s-rainwater"], "shown_ids": ["s-rainwater"], "result_offset": 0.0}
    text = "tell me about the project with Brazil"
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=[place(text, "Brazil", "country", "BRA")], slots=one), domain)
    assert slots_of(events).get("selected_id") != "s-rainwater"
    assert "Rainwater harvesting ponds" not in messages[-1]["text"]


@pytest.mark.asyncio
async def test_the_members_of_a_regional_record_without_partners_are_its_countries(context, tracker_factory, domain):
    opened = {"last_query": "heritage", "last_kind": "solution", "last_results": ["s-heritage"], "shown_ids": ["s-heritage"], "selected_id": "s-heritage", "result_offset": 0.0}
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory("who are its members?", intent="ask_record", entities=[{"entity": "attribute", "value": "partners"}], slots=opened), domain)
    assert "Kazakhstan" in messages[0]["text"] and "doesn't record" not in messages[0]["text"]


@pytest.mark.asyncio
async def test_the_list_shown_again_survives_a_record_gone_from_the_catalogue(context, tracker_factory, domain):
    gone_first = {**SOLAR_LIST, "last_results": ["s-no-longer-there", "s-solar-mamas"], "shown_ids": ["s-no-longer-there", "s-solar-mamas"], "language": "fr"}
    messages, _ = await run(ActionShowResults(context), tracker_factory("back to the results", intent="show_results", slots=gone_first), domain)
    assert "Solar engineers trained in rural communities" in messages[0]["text"] and "Pourquoi" in messages[0]["text"]


@pytest.mark.asyncio
async def test_clearing_the_filters_says_so(context, tracker_factory, domain):
    filtered = {**SOLAR_LIST, "country": "KEN"}
    messages, events = await run(ActionRefineSearch(context), tracker_factory("clear all filters", intent="refine_search", entities=understood("clear all filters", intent="refine_search"), slots=filtered), domain)
    assert messages[0]["text"].startswith("I've removed the filters.") and slots_of(events)["country"] is None


def test_pronouns_for_the_item_open_in_four_languages():
    from actions.references import points_at_it

    for text in ("Quels pays africains y participent ?", "what did it achieve?", "Сколько женщин там учится?", "من يموله؟ ماذا فيه"):
        assert points_at_it(text), text
    assert not points_at_it("Quels pays africains participent ?") and not points_at_it("the Kenya one")


@pytest.mark.asyncio
async def test_why_a_result_matches_is_said_in_the_conversation_language(context, tracker_factory, domain):
    entities = [{"entity": "country", "value": "BRA", "start": 16, "end": 22}]
    english, _ = await run(ActionSearchSolutions(context), tracker_factory("school meals in Brazil", entities=entities), domain)
    french, _ = await run(ActionSearchSolutions(context), tracker_factory("school meals in Brazil", entities=entities, slots={"language": "fr"}), domain)
    assert "Why: in Brazil; matches " in english[0]["text"] and "'school'" in english[0]["text"]
    text = french[0]["text"]
    assert "Pourquoi: lieu : Brésil; mots en commun : " in text and "'school'" in text
    why = [line for line in text.splitlines() if "Pourquoi" in line]
    assert why and not any("in Brazil" in line or "matches" in line for line in why)


@pytest.mark.asyncio
async def test_asides_leave_the_state_alone_and_the_results_come_back(context, tracker_factory, domain):
    _, events = await run(ActionSearchSolutions(context), tracker_factory("school meals"), domain)
    slots = slots_of(events)
    before = DialogueState.of(tracker_factory("", slots=slots))
    selector = {"faq": {"response": {"intent_response_key": "faq/cost_fees", "confidence": 0.93}}}
    faq = tracker_factory("is the galaxy free to use?", intent="faq", slots=slots)
    faq.latest_message["response_selector"] = selector
    asides = [
        (ActionAnswerFaq(context), faq),
        (ActionOutOfScope(context), tracker_factory("what's the weather in Paris?", intent="out_of_scope", slots=slots)),
        (ActionClarify(context), tracker_factory("blorp zingers", intent="nlu_fallback", slots=slots)),
        (ActionSearchSolutions(context), tracker_factory("deep-sea mining of manganese nodules", slots=slots)),
    ]
    for action, tracker in asides:
        messages, events = await run(action, tracker, domain)
        assert set(slots_of(events)) <= {"search_outcome", "faq_outcome"}, action.name()
        assert {"title": "Back to your results", "payload": "/show_results"} in messages[-1]["buttons"], action.name()
    assert DialogueState.of(tracker_factory("", slots=slots)) == before
    messages, events = await run(ActionShowResults(context), tracker_factory("back to my results", intent="show_results", slots=slots), domain)
    assert messages[0]["text"].startswith('Your results for "school meals"') and "Home-grown school meals" in messages[0]["text"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("question", "selected", "expected"),
    [
        ("do we have to pay a fee to be listed?", "register_organisation", "cost_fees"),
        ("how do I sign up my ministry as a partner?", "register_organisation", "register_organisation"),
        ("is what I tell you here kept private?", "assistant_privacy", "assistant_privacy"),
        ("can I read the galaxy in arabic?", "interface_languages", "interface_languages"),
        ("how do I put our programme on the platform?", "submit_solution", "submit_solution"),
    ],
)
async def test_faq_answers_reach_their_own_entry(context, tracker_factory, domain, question, selected, expected):
    tracker = tracker_factory(question, intent="faq")
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{selected}", "confidence": 0.5}}}
    messages, events = await run(ActionAnswerFaq(context), tracker, domain)
    entry = context.services.faq.get(expected)
    # plainly, or as the nearest thing known when the answerability model is unsure
    assert entry.answer[:60] in messages[0]["text"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("question", "selected", "confidence"),
    [
        ("what is the maximum file size for partner logos?", "register_organisation", 0.41),
        # a confident selection that has nothing to do with the question is not answered either
        ("is what I tell you here kept private?", "galaxy_launch", 0.9),
    ],
)
async def test_an_faq_question_nobody_wrote_gets_an_honest_answer(context, tracker_factory, domain, question, selected, confidence):
    tracker = tracker_factory(question, intent="faq")
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{selected}", "confidence": confidence}}}
    messages, events = await run(ActionAnswerFaq(context), tracker, domain)
    assert messages[0]["response"] == "utter_dont_know" and slots_of(events) == {"faq_outcome": "dont_know"}


@pytest.mark.asyncio
async def test_an_entry_about_the_subject_that_does_not_say_what_is_asked_is_offered_as_the_nearest(context, tracker_factory, domain):
    question = "is there a galaxy newsletter I can subscribe to?"
    tracker = tracker_factory(question, intent="faq")
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/galaxy_content_types", "confidence": 0.9}}}
    messages, events = await run(ActionAnswerFaq(context), tracker, domain)
    entry = context.services.faq.get("galaxy_content_types")
    assert messages[0]["text"].startswith("This may not answer exactly what you asked; the closest I have is about")
    assert entry.answer[:60] in messages[0]["text"] and slots_of(events) == {"faq_outcome": "low_confidence"}
    # the entry's own words answer plainly
    tracker = tracker_factory("what sort of content does the galaxy carry besides solutions?", intent="faq")
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/galaxy_content_types", "confidence": 0.9}}}
    messages, events = await run(ActionAnswerFaq(context), tracker, domain)
    assert messages[0]["text"].startswith(entry.answer[:60]) and slots_of(events) == {"faq_outcome": "answered"}


@pytest.mark.asyncio
@pytest.mark.parametrize("selected", ["unossc_overview", "register_organisation"])
async def test_a_question_about_a_named_organisation_read_as_faq_gets_its_profile(context, tracker_factory, domain, selected):
    # "what is TIKA?" is about the partner, whatever FAQ entry the selector picked (none names TIKA)
    tracker = tracker_factory("what is TIKA exactly?", intent="faq")
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{selected}", "confidence": 0.92}}}
    messages, events = await run(ActionAnswerFaq(context), tracker, domain)
    assert "Turkish Cooperation and Coordination Agency (TIKA)" in messages[0]["text"]
    assert context.services.faq.get(selected).answer[:40] not in messages[0]["text"]
    assert slots_of(events)["last_results"][0] == "p-tika"
    unsure, _ = await run(ActionClarify(context), tracker_factory("what is TIKA exactly?", intent="nlu_fallback"), domain)
    assert "Turkish Cooperation and Coordination Agency (TIKA)" in unsure[0]["text"]


def test_an_faq_entry_naming_the_organisation_still_answers():
    from actions.support import about_another_partner, names_partner
    from knowledge.catalogue import FaqEntry, Partner
    from knowledge.faq import FaqMatch

    entry = FaqEntry(id="x", question="What is UNOSSC?", variants=("who runs the galaxy",), answer="The United Nations Office for South-South Cooperation hosts it.", source=None)
    unossc = Partner(id="p-unossc", name="United Nations Office for South-South Cooperation", acronym="UNOSSC", aliases=(), type="un_entity", country=None, regions=(), sdgs=(), focus_areas=(), description="", source_url="")
    care = Partner(id="p-care", name="Cooperative for Assistance and Relief Everywhere", acronym="CARE", aliases=(), type="ngo", country=None, regions=(), sdgs=(), focus_areas=(), description="", source_url="")
    assert names_partner(entry, unossc) and not about_another_partner(FaqMatch(entry, 0.9), [unossc])
    assert not names_partner(entry, care) and about_another_partner(FaqMatch(entry, 0.9), [care])
    assert not about_another_partner(FaqMatch(entry, 0.9), [])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("action", "intent"),
    [(ActionOutOfScope, "out_of_scope"), (ActionAnswerFaq, "faq"), (ActionAnswerRecordQuestion, "ask_record")],
)
async def test_a_need_read_as_something_else_is_searched_when_the_catalogue_answers_it(context, tracker_factory, domain, action, intent):
    # a bare topic read as out of scope, as an FAQ question nobody wrote, or as a question about no record
    tracker = tracker_factory("donated breast milk for premature babies", intent=intent)
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/register_organisation", "confidence": 0.6}}}
    messages, events = await run(action(context), tracker, domain)
    assert "Human milk bank network" in messages[0]["text"]
    assert slots_of(events)["last_query"] == "donated breast milk for premature babies"
    # what the catalogue does not answer closely keeps its own reply
    tracker = tracker_factory("what's the weather in Paris tomorrow?", intent=intent)
    tracker.latest_message["response_selector"] = {"faq": {"response": {"intent_response_key": "faq/register_organisation", "confidence": 0.6}}}
    messages, events = await run(action(context), tracker, domain)
    assert "last_query" not in slots_of(events) and "Human milk" not in (messages[0].get("text") or "")


@pytest.mark.asyncio
async def test_repeated_fallbacks_vary_and_offer_a_person(context, tracker_factory, domain):
    tracker = tracker_factory("blorp", intent="nlu_fallback")
    first, _ = await run(ActionClarify(context), tracker, domain)
    tracker.events.extend([{"event": "action", "name": "action_clarify"}, {"event": "action", "name": "action_listen"}, {"event": "user", "text": "zzz"}])
    second, _ = await run(ActionClarify(context), tracker, domain)
    assert first[0]["text"] != second[0]["text"]
    assert "/human_handoff" in [b["payload"] for b in second[0]["buttons"]]
    # an out-of-scope reply (or a clarification) that understood its message after all (it searched: slots
    # set) was no miss
    tracker = tracker_factory("zzxqv", intent="nlu_fallback")
    tracker.events.extend([
        {"event": "user", "text": "mother to child transmission of HIV"}, {"event": "action", "name": "action_out_of_scope"},
        {"event": "slot", "name": "last_query", "value": "mother to child transmission of HIV"}, {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "zzxqv"}, {"event": "slot", "name": "language", "value": "en"},
    ])
    again, _ = await run(ActionClarify(context), tracker, domain)
    assert again[0]["text"] == first[0]["text"]


@pytest.mark.asyncio
async def test_fillers_never_become_the_topic_and_which_filter_is_answered(context, tracker_factory, domain):
    _, events = await run(ActionSearchSolutions(context), tracker_factory("training women in rural communities"), domain)
    slots = slots_of(events)
    text = "hmm actually only in Asia pls"
    _, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text, place(text, "Asia", "region", ASIA), intent="refine_search"), slots=slots), domain)
    slots.update(slots_of(events))
    assert slots["last_query"] == "training women in rural communities" and slots["region"] == ASIA
    text = "and SDG 5"
    _, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text, intent="refine_search"), slots=slots), domain)
    slots.update(slots_of(events))
    messages, events = await run(ActionRefineSearch(context), tracker_factory("remove that filter", intent="refine_search", entities=understood("remove that filter", intent="refine_search"), slots=slots), domain)
    assert messages[0]["text"] == "Which filter should I remove?"
    assert '/refine_search{"operation":"remove","scope":"region"}' in [b["payload"] for b in messages[0]["buttons"]]
    answer = tracker_factory("the region", intent="refine_search", entities=understood("the region", intent="refine_search"), slots=slots)
    answer.events.extend([{"event": "action", "name": "action_refine_search"}, {"event": "action", "name": "action_listen"}, {"event": "user", "text": "the region"}])
    _, events = await run(ActionRefineSearch(context), answer, domain)
    assert slots_of(events)["region"] is None and slots_of(events)["sdg"] == 5


@pytest.mark.asyncio
async def test_an_unsure_nlu_still_finds_a_need_the_catalogue_answers_closely_or_a_described_item(context, tracker_factory, domain):
    messages, events = await run(ActionClarify(context), tracker_factory("solar engineers in villages", intent="nlu_fallback"), domain)
    assert messages[0]["text"].startswith('Here are the solutions that best match "solar engineers in villages"')
    messages, events = await run(ActionClarify(context), tracker_factory("the rainwater one", intent="nlu_fallback", slots=SOLAR_LIST), domain)
    assert slots_of(events) == {"selected_id": "s-rainwater"}


@pytest.mark.asyncio
async def test_an_unsure_filter_change_refines_the_current_search(context, tracker_factory, domain):
    _, events = await run(ActionSearchSolutions(context), tracker_factory("training women in rural communities"), domain)
    slots = slots_of(events)
    text = "in Asia"
    messages, events = await run(ActionClarify(context), tracker_factory(text, intent="nlu_fallback", entities=[place(text, "Asia", "region", ASIA)], slots=slots), domain)
    assert slots_of(events)["region"] == ASIA and slots_of(events)["last_query"] == "training women in rural communities"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("who are the partners on it?", ["partners"]),
        ("and who funded them", ["funders"]),
        ("sources?", ["sources"]),
        ("can u give me there email adress?", ["contact"]),
        ("who funds this kind of work?", []),  # a kind of thing: a search
        ("who funds solar energy in Kenya?", []),  # a new need
        ("partners in Africa for water", []),
    ],
)
def test_a_question_that_only_asks_a_field_of_the_opened_record_is_recognised(text, expected):
    from actions.record_questions import asked_of_opened

    opened = DialogueState(results=("s-rainwater", "s-solar-mamas"), shown=("s-rainwater", "s-solar-mamas"), selected="s-rainwater")
    assert asked_of_opened(text, opened) == expected
    assert asked_of_opened(text, DialogueState(results=("s-rainwater",))) == []  # nothing opened


@pytest.mark.asyncio
@pytest.mark.parametrize(("action", "text", "answer"), [
    (ActionSearchPartners, "who runs them?", "Poverty and Hunger Facility"),
    (ActionSearchSolutions, "sources?", "https://example.org/s/rainwater"),
    (ActionAnswerFaq, "can you give me their email?", "I can introduce you to"),
])
async def test_a_question_about_the_opened_record_read_as_a_search_or_faq_is_answered_from_the_record(context, tracker_factory, domain, action, text, answer):
    opened = {**SOLAR_LIST, "selected_id": "s-rainwater"}
    messages, events = await run(action(context), tracker_factory(text, intent="find_partner", slots=opened), domain)
    assert answer in messages[0]["text"]
    assert slots_of(events) == {"selected_id": "s-rainwater"}  # the list and the topic stay


@pytest.mark.asyncio
async def test_a_partner_search_no_profile_answers_shows_the_solutions_that_do(context, tracker_factory, domain):
    text = "which organisations share donated breast milk for premature babies?"
    messages, events = await run(ActionSearchPartners(context), tracker_factory(text, intent="find_partner"), domain)
    assert messages[0]["text"].startswith("No partner profile answers that, but these solutions do")
    assert "Human milk bank network" in messages[0]["text"]
    assert slots_of(events)["last_kind"] == "solution"
    # a bare need read as a partner search is a search for solutions; asking for organisations stays one
    messages, events = await run(ActionSearchPartners(context), tracker_factory("solar power for rural villages", intent="find_partner"), domain)
    assert messages[0]["text"].startswith("Here are the solutions") and slots_of(events)["last_kind"] == "solution"
    messages, events = await run(ActionSearchPartners(context), tracker_factory("organisations bringing solar power to rural villages", intent="find_partner"), domain)
    assert "Sunlight Villages Network" in messages[0]["text"] and slots_of(events)["last_kind"] == "partner"


@pytest.mark.asyncio
async def test_a_tie_between_described_records_goes_to_the_one_whose_title_holds_the_words(context, tracker_factory, domain):
    # both name villages: one in its title, the other through its provider ("Sunlight Villages Network")
    slots = {**SOLAR_LIST, "last_results": ["s-solar-mamas", "s-rainwater"], "shown_ids": ["s-solar-mamas", "s-rainwater"]}
    _, events = await run(ActionShowDetails(context), tracker_factory("the villages one", intent="show_details", slots=slots), domain)
    assert slots_of(events) == {"selected_id": "s-rainwater"}


@pytest.mark.asyncio
async def test_a_field_question_read_as_opening_a_record_answers_the_field(context, tracker_factory, domain):
    text = "when did the solar one start?"
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", slots=SOLAR_LIST), domain)
    assert "started in 2008" in messages[0]["text"] and slots_of(events) == {"selected_id": "s-solar-mamas"}
    # opening it is still opening it
    messages, events = await run(ActionShowDetails(context), tracker_factory("tell me about the solar one", intent="show_details", slots=SOLAR_LIST), domain)
    assert messages[0]["text"].startswith("**Solar engineers trained in rural communities**") and "Countries:" in messages[0]["text"]


@pytest.mark.asyncio
async def test_a_field_question_read_as_a_filter_change_is_answered_and_filter_changes_stay_filter_changes(context, tracker_factory, domain):
    opened = {**SOLAR_LIST, "selected_id": "s-rainwater"}
    text = "which SDGs does it contribute to"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text, intent="refine_search"), slots=opened), domain)
    assert "contributes to these SDGs" in messages[0]["text"] and slots_of(events) == {"selected_id": "s-rainwater"}
    for action, text in ((ActionRefineSearch, "only SDG 6"), (ActionSearchSolutions, "only SDG 6"), (ActionRefineSearch, "the country")):
        messages, events = await run(action(context), tracker_factory(text, intent="refine_search", entities=understood(text, intent="refine_search"), slots=opened), domain)
        assert "contributes to these SDGs" not in (messages[0].get("text") or ""), text


@pytest.mark.asyncio
async def test_an_unsure_field_question_about_a_described_record_answers_the_field(context, tracker_factory, domain):
    messages, events = await run(ActionClarify(context), tracker_factory("which SDGs is the solar one about", intent="nlu_fallback", slots=SOLAR_LIST), domain)
    assert "contributes to these SDGs" in messages[0]["text"] and slots_of(events) == {"selected_id": "s-solar-mamas"}


PAGE_TWO = {**SOLAR_LIST, "last_results": ["s-e-gov", "s-milk-banks", "s-heritage"], "result_offset": 3.0,
            "shown_ids": ["s-rainwater", "s-solar-mamas", "s-school-meals", "s-e-gov", "s-milk-banks", "s-heritage"]}


@pytest.mark.asyncio
async def test_a_description_reaches_the_page_shown_before_the_one_on_screen(context, tracker_factory, domain):
    text = "open the Kenya one"
    _, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=[place(text, "Kenya", "country", "KEN")], slots=PAGE_TWO), domain)
    assert slots_of(events) == {"selected_id": "s-rainwater"}
    # what is on screen still wins a tie: "the Brazilian one" is the milk banks on page two, not page one's school meals
    text = "the Brazilian one"
    _, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=[place(text, "Brazilian", "country", "BRA")], slots=PAGE_TWO), domain)
    assert slots_of(events) == {"selected_id": "s-milk-banks"}


def test_a_tie_on_a_country_goes_to_the_record_about_that_country_alone(context, tracker_factory):
    from dataclasses import replace

    from actions.references import describe_match

    records = {i: context.services.retriever.get(i) for i in ("s-school-meals", "s-milk-banks")}
    records["s-milk-banks"] = replace(records["s-milk-banks"], countries=["BRA"])
    text = "the Brazilian one"
    tracker = tracker_factory(text, intent="show_details", entities=[place(text, "Brazilian", "country", "BRA")])
    assert describe_match(text, tracker, list(records), records.get) == ["s-milk-banks"]


def test_a_bare_question_about_a_field_of_the_opened_record_is_for_the_record():
    from actions.record_questions import asked_of_opened

    opened = DialogueState(results=("s-rainwater", "s-solar-mamas"), shown=("s-rainwater", "s-solar-mamas"), selected="s-rainwater")
    assert asked_of_opened("which countries?", opened, pointing=True) == ["countries"]
    assert asked_of_opened("which countries", opened, pointing=True) == ["countries"]
    assert asked_of_opened("and where can i read more", opened) == ["sources"]
    assert asked_of_opened("any other countries?", opened, pointing=True) == []
    assert asked_of_opened("which countries have solar projects?", opened, pointing=True) == []


@pytest.mark.asyncio
async def test_back_to_the_results_with_a_place_narrows_them(context, tracker_factory, domain):
    text = "back to the list, anything in Kenya?"
    messages, events = await run(ActionShowResults(context), tracker_factory(text, intent="show_results", entities=[place(text, "Kenya", "country", "KEN")], slots=SOLAR_LIST), domain)
    assert slots_of(events)["country"] == "KEN" and slots_of(events)["last_query"] == "training in villages"
    assert "Rainwater harvesting ponds" in messages[0]["text"]


@pytest.mark.parametrize(("text", "need"), [
    ("hi, looking for rainwater ponds", "looking for rainwater ponds"),
    ("thanks thats useful! also anything on school meals", "also anything on school meals"),
    ("ok different thing. milk banks", "milk banks"),
    ("Здравствуйте. Нужны примеры", "Нужны примеры"),
    ("مرحبا، أبحث عن مشاريع", "أبحث عن مشاريع"),
    ("sorry cat on keyboard. ok fisheries then", "sorry cat on keyboard. ok fisheries then"),
    ("solar, wind and hydro", "solar, wind and hydro"),
])
def test_an_opening_that_says_nothing_about_the_need_is_not_its_topic(text, need):
    from actions.search import need_of

    assert need_of(text) == need


@pytest.mark.asyncio
async def test_a_new_need_drops_the_goal_chosen_for_the_last_one_and_keeps_the_place(context, tracker_factory, domain):
    slots = {**SOLAR_LIST, "sdg": 7, "country": "BRA"}
    text = "thanks! now school meals"
    _, events = await run(ActionSearchSolutions(context), tracker_factory(text, intent="find_solution", slots=slots), domain)
    assert slots_of(events)["sdg"] is None and slots_of(events)["country"] == "BRA"
    assert slots_of(events)["last_query"] == "now school meals"


def test_remove_one_value_and_put_another_on_in_one_message():
    text = "remove Morocco, add Sudan"
    req = request(text, place(text, "Morocco", "country", "MAR"), place(text, "Sudan", "country", "SDN"))
    assert apply(Filters(country="MAR"), req).filters == Filters(country="SDN")
    # "remove the filter, show Tajikistan": the filter on goes, the one named comes on
    text = "remove the filter, show me Tajikistan"
    req = request(text, place(text, "Tajikistan", "country", "TJK"))
    assert apply(Filters(country="UZB"), req).filters == Filters(country="TJK")
    # removing a place that is not on leaves it out of the results
    text = "remove Kenya"
    assert apply(Filters(sdg=5), request(text, place(text, "Kenya", "country", "KEN"))).filters == Filters(sdg=5, exclude=("KEN",))


def test_a_place_left_out_stays_out_and_comes_back_when_the_filters_are_cleared():
    central_asia = Filters(region="central_asia")
    for text, name in (("Leave out Bangladesh, they're already everywhere.", "Bangladesh"), ("the same except Bangladesh", "Bangladesh"), ("sauf le Bangladesh", "Bangladesh"), ("кроме Бангладеш", "Бангладеш")):
        req = request(text, place(text, name, "country", "BGD"))
        assert apply(central_asia, req).filters == Filters(region="central_asia", exclude=("BGD",)), text
    text = "everything except Bangladesh"  # everything there is, in the region on
    assert apply(central_asia, request(text, place(text, "Bangladesh", "country", "BGD"))).filters == Filters(region="central_asia", exclude=("BGD",))
    text = "can you take Bangladesh out?"
    assert apply(central_asia, request(text, place(text, "Bangladesh", "country", "BGD"))).filters == Filters(region="central_asia", exclude=("BGD",))
    left_out = Filters(region="central_asia", exclude=("BGD",))
    text = "only South Asia"  # a place that holds it: it stays out
    assert apply(left_out, request(text, place(text, "South Asia", "region", "south_asia"))).filters == Filters(region="south_asia", exclude=("BGD",))
    text = "only Kyrgyzstan"  # a place that does not: it goes with the place it was left out of
    assert apply(left_out, request(text, place(text, "Kyrgyzstan", "country", "KGZ"))).filters == Filters(country="KGZ")
    text = "what about the Gulf?"
    assert apply(Filters(region="north_africa", exclude=("EGY", "MAR")), request(text, place(text, "Gulf", "region", "gulf"))).filters == Filters(region="gulf")
    assert apply(left_out, request("clear all filters")).filters == Filters()


def test_places_said_under_one_not_are_all_left_out():
    north_africa = Filters(region="north_africa")
    cases = (
        ("Not Egypt or Morocco", (("Egypt", "EGY"), ("Morocco", "MAR"))),
        ("neither Egypt nor Morocco", (("Egypt", "EGY"), ("Morocco", "MAR"))),
        ("pas l'Égypte ni le Maroc", (("Égypte", "EGY"), ("Maroc", "MAR"))),
        ("ليس مصر والمغرب", (("مصر", "EGY"), ("والمغرب", "MAR"))),
        ("hide the ones in Tunisia", (("Tunisia", "TUN"),)),
        ("no Tunisia", (("Tunisia", "TUN"),)),
    )
    for text, said in cases:
        req = request(text, *(place(text, name, "country", code) for name, code in said))
        assert apply(north_africa, req).filters == Filters(region="north_africa", exclude=tuple(code for _, code in said)), text
    from actions.formatting import filters_text

    assert filters_text(Filters(region="north_africa", exclude=("EGY", "MAR", "TUN"))) == "North Africa, not Egypt, Morocco or Tunisia"
    # a place moved away from that is on goes, as before
    text = "not Egypt"
    assert apply(Filters(country="EGY", sdg=7), request(text, place(text, "Egypt", "country", "EGY"))).filters == Filters(sdg=7)
    # a question is no exclusion, nor a correction after a comma
    text = "are there no projects in Kenya?"
    assert request(text, place(text, "Kenya", "country", "KEN")).old == {}
    text = "not Kenya, Uganda"
    assert request(text, place(text, "Kenya", "country", "KEN"), place(text, "Uganda", "country", "UGA")).new == {"country": ["UGA"]}


def test_two_places_said_together_are_either_and_two_onlys_contradict():
    current = Filters(region="central_asia")
    text = "What's there for Kyrgyzstan or Tajikistan specifically?"
    req = request(text, place(text, "Kyrgyzstan", "country", "KGZ"), place(text, "Tajikistan", "country", "TJK"))
    assert apply(current, req).filters == Filters(places=("KGZ", "TJK"))
    text = "the Pacific or the Caribbean"
    req = request(text, place(text, "Pacific", "region", "asia_pacific"), place(text, "Caribbean", "region", "latin_america_caribbean"))
    assert apply(current, req).filters == Filters(places=("pacific", "caribbean"))
    text = "only Asia and only Africa"
    req = request(text, place(text, "Asia", "region", ASIA), place(text, "Africa", "region", AFRICA))
    assert apply(current, req).conflict == "several"
    # one removed, two added, in one message: the remove phrase governs only its own clause
    text = "Drop anything that's only Kazakhstan, we've seen those. What's there for Kyrgyzstan or Tajikistan?"
    req = request(text, place(text, "Kazakhstan", "country", "KAZ"), place(text, "Kyrgyzstan", "country", "KGZ"), place(text, "Tajikistan", "country", "TJK"))
    assert req.removed == {"country": ["KAZ"]}
    assert apply(current, req).filters == Filters(places=("KGZ", "TJK"), exclude=("KAZ",))
    text = "Merci ! Retirez aussi le Kenya des résultats."
    assert apply(Filters(region=AFRICA, exclude=("UGA",)), request(text, place(text, "Kenya", "country", "KEN"))).filters == Filters(region=AFRICA, exclude=("UGA", "KEN"))
    text = "Remove the Sahel filter but keep SDG 7."
    req = request(text, place(text, "Sahel", "region", "africa"), {"entity": "sdg", "value": 7, "start": text.index("SDG"), "end": text.index("SDG") + 5})
    assert apply(Filters(region="sahel", sdg=7), req).filters == Filters(sdg=7)
    text = "ok forget Vietnam, let's look at Indonesia"  # a new clause that is no list does not continue the removal
    req = request(text, place(text, "Vietnam", "country", "VNM"), place(text, "Indonesia", "country", "IDN"))
    assert apply(Filters(country="VNM"), req).filters == Filters(country="IDN")
    text = "exclude Kenya, Uganda and Tanzania"
    req = request(text, place(text, "Kenya", "country", "KEN"), place(text, "Uganda", "country", "UGA"), place(text, "Tanzania", "country", "TZA"))
    assert apply(Filters(region=AFRICA), req).filters == Filters(region=AFRICA, exclude=("KEN", "UGA", "TZA"))
    # taking one of two places off leaves the other as the filter
    text = "drop Tajikistan"
    assert apply(Filters(places=("KGZ", "TJK")), request(text, place(text, "Tajikistan", "country", "TJK"))).filters == Filters(country="KGZ")


@pytest.mark.asyncio
async def test_a_field_question_about_the_item_described_as_the_one_is_answered_not_searched(context, tracker_factory, domain):
    text = "and the solar one, who funded it?"
    messages, events = await run(ActionSearchPartners(context), tracker_factory(text, intent="find_partner", entities=understood(text, intent="find_partner"), slots=SOLAR_LIST), domain)
    assert slots_of(events) == {"selected_id": "s-solar-mamas"}
    assert "Here are the" not in messages[0]["text"]


@pytest.mark.asyncio
async def test_a_question_pointing_back_at_the_faq_just_answered_gets_that_subjects_entry(context, tracker_factory, domain):
    from rasa_sdk import Tracker

    text = "who organised it?"
    latest = {"text": text, "intent": {"name": "ask_record", "confidence": 0.9}, "entities": [], "intent_ranking": [], "metadata": {}}
    events = [
        {"event": "user", "text": "what was the rollout webinar?"},
        {"event": "bot", "text": "It was an online session…", "data": {"buttons": [{"title": "👍", "payload": '/feedback{"rating":"up","answer":"faq:rollout_webinar_overview"}'}]}},
        {"event": "user", "text": text, "parse_data": latest},
    ]
    tracker = Tracker("test-user", {}, latest, events, False, None, {}, "action_listen")
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker, domain)
    assert "faq:rollout_webinar_organiser" in str(messages[0]["buttons"])
    # without an FAQ answer just before, it asks which record
    messages, _ = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record"), domain)
    assert "Which record do you mean?" in messages[0]["text"]


@pytest.mark.asyncio
async def test_a_need_after_thanks_is_searched_and_thanks_alone_is_welcomed(context, tracker_factory, domain):
    from actions.support import ActionThank

    messages, events = await run(ActionThank(context), tracker_factory("thanks, that's useful! also anything on human milk banks?", intent="thank", slots=SOLAR_LIST), domain)
    assert "Human milk bank network" in messages[0]["text"] and slots_of(events)["last_query"] == "also anything on human milk banks?"
    messages, events = await run(ActionThank(context), tracker_factory("thanks a lot, that was helpful", intent="thank", slots=SOLAR_LIST), domain)
    assert messages[0]["response"] == "utter_thank" and events == []


@pytest.mark.asyncio
async def test_a_need_read_as_a_correction_with_nothing_to_correct_is_searched(context, tracker_factory, domain):
    from actions.introductions import ActionCorrectDetail

    messages, events = await run(ActionCorrectDetail(context), tracker_factory("human milk banks for premature babies", intent="correct_detail"), domain)
    assert "Human milk bank network" in messages[0]["text"]
    messages, events = await run(ActionCorrectDetail(context), tracker_factory("my email is wrong", intent="correct_detail"), domain)
    assert messages[0]["response"] == "utter_nothing_to_correct"


@pytest.mark.asyncio
async def test_more_about_a_described_item_opens_it_and_more_alone_pages(context, tracker_factory, domain):
    from actions.search import ActionShowMore

    messages, events = await run(ActionShowMore(context), tracker_factory("tell me more about the rainwater ponds", intent="show_more", slots=SOLAR_LIST), domain)
    assert slots_of(events) == {"selected_id": "s-rainwater"} and messages[0]["text"].startswith("**Rainwater harvesting ponds")
    messages, events = await run(ActionShowMore(context), tracker_factory("show me more", intent="show_more", slots=SOLAR_LIST), domain)
    assert "selected_id" not in slots_of(events) and not messages[0]["text"].startswith("**")


@pytest.mark.asyncio
async def test_a_country_the_opened_record_has_nothing_to_do_with_is_not_the_opened_record(context, tracker_factory, domain):
    opened = {**SOLAR_LIST, "selected_id": "s-rainwater"}
    text = "the Liberia one - what were the results"
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=[place(text, "Liberia", "country", "LBR"), {"entity": "attribute", "value": "results"}], slots=opened), domain)
    assert events == [] and "Rainwater" not in messages[0]["text"]


def test_a_question_with_its_own_subject_after_an_faq_answer_keeps_it(context, tracker_factory):
    from rasa_sdk import Tracker

    from actions.support import faq_follow_up

    def after_webinar(text):
        latest = {"text": text, "intent": {"name": "faq", "confidence": 0.9}, "entities": [], "intent_ranking": [], "metadata": {}}
        events = [
            {"event": "user", "text": "what was the rollout webinar?"},
            {"event": "bot", "text": "…", "data": {"buttons": [{"payload": '/feedback{"rating":"up","answer":"faq:rollout_webinar_overview"}'}]}},
            {"event": "user", "text": text, "parse_data": latest},
        ]
        return Tracker("test-user", {}, latest, events, False, None, {}, "action_listen")

    assert faq_follow_up(context.services, after_webinar("who organised it?")).entry.id == "rollout_webinar_organiser"
    follow = faq_follow_up(context.services, after_webinar("how many solutions and organisations are on it?"))
    assert follow is None or follow.entry.id == "galaxy_figures"


@pytest.mark.asyncio
async def test_an_ordinal_said_with_another_place_opens_that_place_s_list(context, tracker_factory, domain):
    text = "ok go back to East Africa and open the first one"
    entities = understood(text, place(text, "East Africa", "region", "africa"), intent="show_details") + [{"entity": "ordinal", "value": 1}]
    slots = {**SOLAR_LIST, "region": "west_africa"}
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=entities, slots=slots), domain)
    set_ = slots_of(events)
    assert messages[0]["text"] == 'From the results on "training in villages" (East Africa):'
    assert set_["region"] == "east_africa" and set_["last_results"] == ["s-solar-mamas"]  # in Tanzania
    assert set_["selected_id"] == "s-solar-mamas" and "Solar engineers trained in rural communities" in messages[1]["text"]
    # without an ordinal the place describes an item of the list on screen ("the Kenya one"): no new list
    text = "tell me about the Kenya one"
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=understood(text, place(text, "Kenya", "country", "KEN"), intent="show_details"), slots=SOLAR_LIST), domain)
    assert slots_of(events).get("selected_id") == "s-rainwater" and "last_results" not in slots_of(events)


def test_a_question_whether_a_country_takes_part_is_answered_from_the_record():
    from actions.i18n import Texts
    from actions.record_questions import countries_asked
    from knowledge.catalogue import Solution

    kollo = Solution(
        id="s-kollo", title="Kollo Project", summary="A Tunisia-France-Niger triangular project on safe motherhood.", description="",
        countries=("NER",), regions=(), sdgs=(3,), themes=(), provider=None, provider_name="ONFP", other_partners=(), year=2009,
        status="completed", source_url="http://example.org/kollo", provider_countries=("TUN",),
    )
    en = Texts("en")
    assert countries_asked(kollo, "did Tunisia fund it?", en) == ["Yes: Tunisia is one of the countries that provided or funded **Kollo Project**."]
    assert countries_asked(kollo, "was it in Niger?", en) == ["Yes: Niger is one of the countries where **Kollo Project** took place."]
    assert countries_asked(kollo, "and France?", en) == ["The record of **Kollo Project** names France: “A Tunisia-France-Niger triangular project on safe motherhood.”"]
    assert "does not name" in countries_asked(kollo, "is Brazil involved?", en)[0]
    assert countries_asked(kollo, "when did the Niger one start?", en) == []  # the country says which record
    assert "mentionne ce pays (France)" in countries_asked(kollo, "La France y a-t-elle participé ?", Texts("fr"))[0]


def test_the_other_half_of_a_two_part_question_is_not_dropped(services):
    from actions.i18n import Texts
    from actions.record_questions import answer_fields

    record = services.retriever.get("s-solar-mamas")
    state = DialogueState(topic="solar", results=("s-solar-mamas",), shown=("s-solar-mamas",), selected="s-solar-mamas")
    dispatcher = CollectingDispatcher()
    answer_fields(dispatcher, record, ["status"], state, services.retriever.get, Texts("en"), question="Were any nurses trained, and is it still running?", counts=services.retriever.word_counts)
    text = dispatcher.messages[0]["text"]
    assert "says nothing about “nurses”" in text and text.index("status") < text.index("nurses")
    dispatcher = CollectingDispatcher()
    answer_fields(dispatcher, record, ["status"], state, services.retriever.get, Texts("en"), question="is it still running, exactly?", counts=services.retriever.word_counts)
    assert "says nothing" not in dispatcher.messages[0]["text"]


def test_a_place_describes_an_item_only_when_an_item_word_follows_it():
    from actions.references import describes_item, points_back

    def after(text: str, place: str) -> bool:
        return describes_item(text, text.index(place) + len(place))

    assert after("the Kenya one", "Kenya") and after("open the Kuwait fund", "Kuwait") and after("the Brazilian agency", "Brazilian")
    # "fund" followed by what is funded is the verb: a question about the item open
    assert not after("did India fund it?", "India") and not after("is Brazil involved in it?", "Brazil")
    assert points_back("did India fund it?") and points_back("Who runs THAT?") and not points_back("solar pumps in Kenya")
    assert not points_back("can u give me there email?") and points_back("can u give me there email?", frozenset({"there"}))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "intent", "first", "second"),
    [
        ("compare 1 and 3", "show_details", "s-rainwater", "s-school-meals"),
        ("what's the difference between the second and the last one?", "show_details", "s-solar-mamas", "s-school-meals"),
        ("can you compare the first two?", "ask_record", "s-rainwater", "s-solar-mamas"),
        ("сравни первый и второй", "show_details", "s-rainwater", "s-solar-mamas"),
        ("قارن بين الأول والثالث", "show_details", "s-rainwater", "s-school-meals"),
    ],
)
async def test_items_of_the_list_are_compared_side_by_side(context, tracker_factory, domain, text, intent, first, second):
    from actions.records import ActionAnswerRecordQuestion

    action = ActionShowDetails(context) if intent == "show_details" else ActionAnswerRecordQuestion(context)
    messages, events = await run(action, tracker_factory(text, intent=intent, entities=understood(text, intent=intent), slots=SOLAR_LIST), domain)
    _assert_compared(context, messages, events, first, second)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "language"),
    [("how does it compare with the third one?", "en"), ("Comparez-le avec le troisième", "fr"), ("Сравните его с третьим", "ru"), ("قارنه بالثالث", "ar")],
)
async def test_the_opened_item_is_compared_with_another_when_the_messagepoints_at_it(context, tracker_factory, domain, text, language):
    slots = {**SOLAR_LIST, "selected_id": "s-rainwater", "language": language}
    entities = [{"entity": "ordinal", "value": 3}]
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=entities, slots=slots), domain)
    _assert_compared(context, messages, events, "s-rainwater", "s-school-meals")


def _assert_compared(context, messages, events, first, second):
    titles = {i: context.services.retriever.get(i).title for i in (first, second)}
    reply = messages[0]["text"]
    assert titles[first] in reply and titles[second] in reply and reply.index(titles[first]) < reply.index(titles[second])
    assert len([i for i in SOLAR_LIST["last_results"] if context.services.retriever.get(i).title in reply]) == 2
    assert events == []  # the list and the opened record stay as they were
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert all(any(p.startswith("/show_details") and str(SOLAR_LIST["last_results"].index(i) + 1) in p for p in payloads) for i in (first, second))


@pytest.mark.asyncio
async def test_a_comparison_without_two_items_asks_which_and_one_item_is_opened_as_before(context, tracker_factory, domain):
    messages, _ = await run(ActionShowDetails(context), tracker_factory("compare those please", intent="show_details", slots={**SOLAR_LIST, "last_results": SOLAR_LIST["last_results"][:1]}), domain)
    assert "Side by side" not in messages[0]["text"]
    text = "which is better for SDG 5?"  # a goal's number is no place in the list
    messages, _ = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=understood(text, intent="show_details"), slots=SOLAR_LIST), domain)
    assert "Which ones should I compare?" in messages[0]["text"]
    # "how does it compare with the third?" puts the opened record beside the third
    text = "how does it compare with the third one?"
    messages, _ = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=understood(text, intent="show_details"), slots={**SOLAR_LIST, "selected_id": "s-solar-mamas"}), domain)
    reply = messages[0]["text"]
    assert reply.index(context.services.retriever.get("s-solar-mamas").title) < reply.index(context.services.retriever.get("s-school-meals").title)


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["can national governments join?", "is there a fee to use the platform?", "peut-on s'inscrire gratuitement ?"])
async def test_a_question_about_the_platform_read_as_a_need_gets_the_faq_not_a_search(context, tracker_factory, domain, text):
    messages, events = await run(ActionSearchSolutions(context), tracker_factory(text, intent="find_solution", slots=SOLAR_LIST), domain)
    assert not any("Here are the" in (m.get("text") or "") or "nearest solutions" in (m.get("text") or "") for m in messages)
    assert any(e.get("name") == "faq_outcome" for e in events)
    assert "last_results" not in slots_of(events)  # the list on screen stays


@pytest.mark.asyncio
async def test_a_need_that_mentions_the_platform_is_still_searched(context, tracker_factory, domain):
    text = "what does the platform have on school meals?"
    messages, events = await run(ActionSearchSolutions(context), tracker_factory(text, intent="find_solution"), domain)
    assert "Here are the solutions" in messages[0]["text"]


def test_a_filter_said_under_keep_stays_on_while_the_other_goes():
    current = Filters(sdg=5, region=AFRICA)
    for text in ("Remove the region filter but keep the SDG", "keep the SDG and remove the region", "drop the region, leave the goal on", "убери регион, но оставь ЦУР"):
        assert apply(current, request(text)).filters == Filters(sdg=5), text
    # a keep phrase elsewhere in the message keeps nothing it does not name
    assert apply(current, request("remove the SDG filter")).filters == Filters(region=AFRICA)
    assert apply(current, request("leave out the SDG filter")).filters == Filters(region=AFRICA)
    # the goal kept named by its number, under a keep phrase: it stays; the country filter goes
    text = "Retirez le filtre pays, mais gardez l'ODD 1."
    assert apply(Filters(sdg=1, country="KEN"), request(text)).filters == Filters(sdg=1)


@pytest.mark.asyncio
async def test_an_item_described_that_was_not_shown_is_opened_from_the_catalogue_and_the_list_stays(context, tracker_factory, domain):
    text = "tell me about the Nepal one"
    registries = {**SOLAR_LIST, "last_query": "digital registries for workers"}
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=[place(text, "Nepal", "country", "NPL")], slots=registries), domain)
    assert messages[0]["text"].startswith("That one was not among the results I showed")
    assert slots_of(events)["selected_id"] == "s-e-gov" and slots_of(events)["shown_ids"] == SOLAR_LIST["shown_ids"] + ["s-e-gov"]
    assert "last_results" not in slots_of(events)
    # a question about an item named by its words is answered from that item, not the one open
    opened = {**SOLAR_LIST, "selected_id": "s-rainwater"}
    text = "which countries did the milk bank project cover?"
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=[{"entity": "attribute", "value": "countries"}], slots=opened), domain)
    assert slots_of(events)["selected_id"] == "s-milk-banks"
    assert "Mozambique" in " ".join(m.get("text") or "" for m in messages)
    # a description nothing in the catalogue fits is explained as before
    text = "tell me about the Mongolia one"
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=[place(text, "Mongolia", "country", "MNG")], slots=SOLAR_LIST), domain)
    assert "selected_id" not in slots_of(events) and "not among" not in messages[0]["text"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "country", "first", "second"),
    [
        ("compare the solar project with the Kenya one", ("Kenya", "KEN"), "s-solar-mamas", "s-rainwater"),
        ("school meals vs the rainwater ponds?", None, "s-school-meals", "s-rainwater"),
        ("what's the difference between the Indian one and the school meals?", ("Indian", "IND"), "s-solar-mamas", "s-school-meals"),
    ],
)
async def test_items_described_by_their_words_are_compared(context, tracker_factory, domain, text, country, first, second):
    extra = [place(text, country[0], "country", country[1])] if country else []
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=understood(text, *extra, intent="show_details"), slots=SOLAR_LIST), domain)
    titles = [context.services.retriever.get(i).title for i in (first, second)]
    reply = messages[0]["text"]
    assert all(title in reply for title in titles) and reply.index(titles[0]) < reply.index(titles[1]) and events == []


@pytest.mark.asyncio
async def test_more_like_this_with_a_goal_filters_and_a_question_naming_the_opened_records_country_is_answered(context, tracker_factory, domain):
    from actions.search import ActionShowMore

    text = "Any other projects like this one? Only show me ones under SDG 5 please"
    _, events = await run(ActionShowMore(context), tracker_factory(text, intent="show_more", entities=understood(text, intent="show_more"), slots=SOLAR_LIST), domain)
    assert slots_of(events)["sdg"] == 5 and slots_of(events)["last_query"] == SOLAR_LIST["last_query"]
    registry = {"last_query": "digital registry", "last_kind": "solution", "last_results": ["s-e-gov"], "shown_ids": ["s-e-gov"], "selected_id": "s-e-gov"}
    text = "Is it only used in Nepal or has another country replicated it?"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text, place(text, "Nepal", "country", "NPL"), intent="refine_search"), slots=registry), domain)
    assert "country" not in slots_of(events) and "Nepal" in messages[0]["text"] and "One-stop digital registry" in messages[0]["text"]


@pytest.mark.asyncio
async def test_back_to_the_named_results_is_the_list_and_that_bank_is_the_only_bank(context, tracker_factory, domain):
    messages, events = await run(ActionSearchSolutions(context), tracker_factory("ok back to the school feeding results", slots=SOLAR_LIST), domain)
    assert "last_query" not in slots_of(events) and "Rainwater harvesting ponds" in messages[0]["text"]
    funders = {"last_query": "funders", "last_kind": "partner", "last_results": ["p-tika", "p-fund", "p-solar-ngo"], "shown_ids": ["p-tika", "p-fund", "p-solar-ngo"]}
    text = "tell me more about that agency - where is it?"
    _, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", slots=funders), domain)
    assert slots_of(events)["selected_id"] == "p-tika"


def test_a_goal_named_by_its_ordinal_in_arabic_is_a_filter():
    text = "أضف فلتر الهدف الخامس من أهداف التنمية المستدامة"
    assert apply(Filters(country="SDN"), request(text)).filters == Filters(sdg=5, country="SDN")


@pytest.mark.asyncio
async def test_back_to_the_results_in_french_and_a_name_said_in_russian(context, tracker_factory, domain):
    text = "D'accord, revenons aux résultats sur l'eau."
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", slots={**SOLAR_LIST, "language": "fr"}), domain)
    assert "selected_id" not in slots_of(events) and "Rainwater harvesting ponds" in messages[0]["text"] and "Solar engineers" in messages[0]["text"]
    # back to the list asking for more: its next page, not the same list
    for action, intent in ((ActionShowDetails, "show_details"), (ActionClarify, "nlu_fallback")):
        more, events = await run(action(context), tracker_factory("Merci ! Revenons à la liste : montrez-m'en d'autres.", intent=intent, slots={**SOLAR_LIST, "language": "fr"}), domain)
        assert "Rainwater harvesting ponds" not in more[0]["text"] and "compris" not in more[0]["text"]
    # a name said in Russian meets the English record's through its Latin letters
    from actions.references import _latin, matched_words as _matched
    from knowledge.text import tokens

    said = set(tokens("Проект в Ферганской долине"))
    assert _matched(said | _latin(said), set(tokens("Climate-resilient agriculture in Uzbekistan's Fergana Valley"))) == {"ferganskoy"}
    assert not _matched(said | _latin(said), set(tokens("Silk road heritage corridors")))


@pytest.mark.asyncio
async def test_a_question_about_a_listed_item_read_as_an_faq_nobody_wrote_is_answered_from_the_item(context, tracker_factory, domain):
    text = "and is Tanzania part of that solar project?"
    messages, events = await run(ActionAnswerFaq(context), tracker_factory(text, intent="faq", entities=[place(text, "Tanzania", "country", "TZA")], slots=SOLAR_LIST), domain)
    assert "Solar engineers trained in rural communities" in messages[0]["text"] and "Tanzania" in messages[0]["text"]


@pytest.mark.asyncio
async def test_an_item_compared_with_one_not_listed_is_found_in_the_catalogue(context, tracker_factory, domain):
    text = "Compare that with the human milk bank network."
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", slots={**SOLAR_LIST, "selected_id": "s-rainwater"}), domain)
    reply = messages[0]["text"]
    assert "Rainwater harvesting ponds" in reply and "Human milk bank network" in reply and reply.index("Rainwater") < reply.index("Human milk")
    assert all("1" in b["payload"] for b in messages[0]["buttons"])  # only the listed one has a number to press


@pytest.mark.asyncio
async def test_which_filters_are_on_read_as_unsure_lists_them(context, tracker_factory, domain):
    text = "ما هي الفلاتر المفعلة الآن؟"
    messages, events = await run(ActionClarify(context), tracker_factory(text, intent="nlu_fallback", slots={**SOLAR_LIST, "country": "KEN", "language": "ar"}), domain)
    assert "كينيا" in messages[0]["text"] and events == []


def test_overlapping_steering_phrases_are_blanked_without_cutting_the_words_beside_them():
    from actions.base import blank_spans
    from actions.search import leftover_topic
    from tests.conftest import make_tracker

    assert blank_spans("Which filters are active now?", [(0, 13), (6, 13)]).split() == ["are", "active", "now?"]
    text = "Keep it to the Europe and CIS region, please. Which filters are active now?"
    assert leftover_topic(text, make_tracker(text, entities=understood(text, place(text, "Europe and CIS", "region", "europe_cis")))) == ""


@pytest.mark.asyncio
async def test_which_filters_are_active_lists_them(context, tracker_factory, domain):
    filtered = {**SOLAR_LIST, "region": "europe_cis"}
    text = "Keep it to the Europe and CIS region, please. Which filters are active now?"
    entities = understood(text, place(text, "Europe and CIS", "region", "europe_cis"))
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=entities, slots=filtered), domain)
    assert "Filters: Europe and the CIS" in messages[0]["text"] and slots_of(events).get("last_query", "training in villages") == "training in villages"


@pytest.mark.asyncio
async def test_a_french_question_about_an_item_described_as_celui_sur_answers_from_it(context, tracker_factory, domain):
    text = "Celui sur la collecte des eaux de pluie au Kenya : qui est le fournisseur ?"
    entities = understood(text, place(text, "Kenya", "country", "KEN"))
    messages, events = await run(ActionSearchSolutions(context), tracker_factory(text, entities=entities, slots={**SOLAR_LIST, "language": "fr"}), domain)
    assert messages[0]["text"].startswith("**Rainwater") and "est fourni par" in messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Hi, I coordinate a rural development NGO in Tuzla. What has been done to support farming families?", "en", False),
        ("We are a small NGO in northern Uganda. Are there examples of women running solar businesses?", "en", False),
        ("Je travaille au ministère de la Santé. Nous cherchons des expériences sur la santé maternelle.", "fr", False),
        ("which NGOs work on livelihoods in the Balkans?", "en", True),
        ("Which agencies fund solar mini-grids?", "en", True),
        ("which solutions with Kazakhstan as a donor?", "en", False),  # a donor is a role in the solutions
        ("I'm looking for climate adaptation projects in Europe, ideally funded by a Southern partner.", "en", False),
        ("بدي أعرف شو المؤسسات العربية اللي بتموّل مشاريع تنمية في الدول النامية", "ar", True),  # institutions that fund projects
    ],
)
def test_who_the_user_is_does_not_make_a_partner_search(text, language, expected):
    from actions.search import asks_for_partners

    assert asks_for_partners(text, language) is expected


@pytest.mark.asyncio
async def test_a_comparison_read_as_a_filter_change_asks_which_rather_than_filtering(context, tracker_factory, domain):
    text = "Compare that one with the Brazil one."
    entities = understood(text, place(text, "Brazil", "country", "BRA"))
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=entities, slots={**SOLAR_LIST, "last_results": ["s-rainwater", "s-solar-mamas"], "shown_ids": ["s-rainwater", "s-solar-mamas"]}), domain)
    assert messages[0]["text"].startswith("Which ones should I compare") and "country" not in slots_of(events)


@pytest.mark.asyncio
async def test_a_new_need_beside_a_filter_change_replaces_the_topic(context, tracker_factory, domain):
    filtered = {**SOLAR_LIST, "country": "KEN"}
    text = "remove the filter and find something on human milk banks for newborns"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text), slots=filtered), domain)
    assert "milk" in slots_of(events)["last_query"] and "training" not in slots_of(events)["last_query"]
    # a few words more are added to it
    text = "only Kenya, solar"
    messages, events = await run(ActionRefineSearch(context), tracker_factory(text, intent="refine_search", entities=understood(text, place(text, "Kenya", "country", "KEN")), slots=SOLAR_LIST), domain)
    assert slots_of(events)["last_query"] == "training in villages solar"


def test_a_record_no_longer_on_screen_is_gone_back_to_only_when_the_message_names_an_item(retriever):
    from actions.references import described
    from tests.conftest import make_tracker

    slots = {"last_query": "school meals", "last_kind": "solution", "last_results": ["s-school-meals"], "shown_ids": ["s-rainwater", "s-school-meals"], "result_offset": 0.0}
    for text, expected in [("who dug the ponds there?", []), ("back to the ponds one: who dug them?", ["s-rainwater"])]:
        tracker = make_tracker(text, slots=slots)
        assert described(text, tracker, DialogueState.of(tracker), retriever.get) == expected, text


@pytest.mark.asyncio
async def test_a_switch_of_language_with_a_question_answers_it_in_the_new_language(context, tracker_factory, domain):
    from actions.language import ActionSwitchLanguage

    text = "Let me switch to French for my colleague. Who funded the rainwater one?"
    at = text.index("Who")
    asked = [{**e, "start": e["start"] + at, "end": e["end"] + at} for e in understood(text[at:])]
    entities = [{"entity": "language", "value": "fr", "start": text.index("French"), "end": text.index("French") + 6}, *asked]
    messages, events = await run(ActionSwitchLanguage(context), tracker_factory(text, intent="switch_language", entities=entities, slots=SOLAR_LIST), domain)
    assert slots_of(events)["language"] == "fr"
    assert any("Rainwater harvesting ponds" in (m.get("text") or "") and "Le catalogue" in (m.get("text") or "") for m in messages), [m.get("text") for m in messages]
    # a switch alone only switches
    messages, events = await run(ActionSwitchLanguage(context), tracker_factory("in French please", intent="switch_language", entities=[{"entity": "language", "value": "fr", "start": 3, "end": 9}], slots=SOLAR_LIST), domain)
    assert not any("Rainwater" in (m.get("text") or "") for m in messages)


@pytest.mark.asyncio
async def test_show_only_the_ones_in_a_country_read_as_open_one_narrows_the_list(context, tracker_factory, domain):
    text = "Покажи только проекты в Кении."
    entities = understood(text, place(text, "Кении", "country", "KEN"))
    messages, events = await run(ActionShowDetails(context), tracker_factory(text, intent="show_details", entities=entities, slots={**SOLAR_LIST, "language": "ru"}), domain)
    assert slots_of(events)["country"] == "KEN" and "Rainwater harvesting ponds" in messages[0]["text"]


def test_a_results_question_on_a_record_without_results_gives_the_figures_its_description_has(retriever):
    from dataclasses import replace as changed

    from actions.i18n import Texts
    from actions.record_questions import answer

    record = changed(retriever.get("s-rainwater"), description="Since 2015 the groups have dug 420 ponds serving 12,000 households. They meet every month.")
    reply, found = answer(record, "results", retriever.get, Texts("en"))
    assert found and "420 ponds serving 12,000 households" in reply and "meet every month" not in reply
    # a year alone is no figure
    record = changed(record, description="The groups began digging in 2015 with the county government.")
    reply, found = answer(record, "results", retriever.get, Texts("en"))
    assert not found


@pytest.mark.asyncio
async def test_a_project_described_while_partners_are_on_screen_is_looked_for_among_the_solutions(context, tracker_factory, domain):
    partners = {"last_query": "agencies", "last_kind": "partner", "last_results": ["p-tika", "p-amexcid"], "shown_ids": ["p-tika", "p-amexcid"], "result_offset": 0.0}
    text = "Who funded the milk bank project?"
    messages, events = await run(ActionAnswerRecordQuestion(context), tracker_factory(text, intent="ask_record", entities=understood(text), slots=partners), domain)
    assert any("Human milk bank network" in (m.get("text") or "") for m in messages) and "Which one" not in str(messages)


@pytest.mark.asyncio
async def test_which_of_those_is_the_oldest_read_as_out_of_scope_compares_them(context, tracker_factory, domain):
    two = {**SOLAR_LIST, "last_results": ["s-rainwater", "s-solar-mamas"], "shown_ids": ["s-rainwater", "s-solar-mamas"]}
    messages, events = await run(ActionOutOfScope(context), tracker_factory("Which of those is the oldest?", intent="out_of_scope", slots=two), domain)
    assert messages[0]["text"].startswith("Side by side") and "outside what I can help with" not in str(messages)
