"""The introduction actions against a real (SQLite) introductions store and the mini catalogue."""
from __future__ import annotations

from dataclasses import replace

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.introductions import (
    ActionConfirmIntroduction,
    ActionCorrectDetail,
    ActionDeclineConsent,
    ActionDeleteMyData,
    ActionIntroductionStatus,
    ActionRequestIntroduction,
    ActionSubmitIntroduction,
    ValidateIntroductionForm,
)
from actions.details import INTRODUCTION_DETAILS, by_slot, listed_details
from actions.i18n import Texts
from introductions.bootstrap import build_introductions
from tests.test_actions import slots_of

DETAILS = {
    "requester_name": "Amina Diallo",
    "requester_organisation": "Ministry of Water",
    "requester_role": "policy adviser",
    "requester_email": "amina@example.org",
    "intro_message": "We want to learn how the rainwater ponds were organised.",
}


@pytest.fixture
def intro_context(context, tmp_path):
    settings = replace(context.settings, database_url=f"sqlite:///{tmp_path / 'intro.sqlite3'}", introduction_secret="test-secret")
    introductions = build_introductions(settings, context.services.retriever)
    assert introductions is not None
    return replace(context, settings=settings, introductions=introductions)


async def run(action, tracker, domain=None):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return dispatcher, events


@pytest.mark.asyncio
async def test_request_from_a_shown_result_targets_its_provider(intro_context, tracker_factory):
    tracker = tracker_factory('/request_introduction{"ordinal": 1}', intent="request_introduction", entities=[{"entity": "ordinal", "value": 1}], slots={"last_results": ["s-rainwater"], "shown_ids": ["s-rainwater"]})
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker)
    assert slots_of(events) == {"intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "selected_id": "s-rainwater", "intro_stage": "collecting", "intro_summary_digest": None}
    assert "Poverty and Hunger Facility (PHF)" in dispatcher.messages[0]["about"]


@pytest.mark.asyncio
async def test_a_second_request_offers_the_known_details_for_reuse(intro_context, tracker_factory):
    known = {k: v for k, v in DETAILS.items() if k != "intro_message"}
    tracker = tracker_factory('/request_introduction{"ordinal": 1}', intent="request_introduction", entities=[{"entity": "ordinal", "value": 1}], slots={"last_results": ["s-rainwater"], "shown_ids": ["s-rainwater"], **known})
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker)
    assert slots_of(events)["intro_stage"] == "collecting"
    reuse = dispatcher.messages[1]["text"]
    assert "reuse" in reuse and "Amina Diallo" in reuse and "amina@example.org" in reuse and "change" in reuse


@pytest.mark.asyncio
async def test_a_forged_ordinal_or_a_solution_without_partner_starts_nothing(intro_context, tracker_factory):
    forged = tracker_factory('/request_introduction{"ordinal": 5}', intent="request_introduction", entities=[{"entity": "ordinal", "value": 5}], slots={"last_results": ["s-rainwater", "s-milk-banks"]})
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), forged)
    assert slots_of(events) == {"intro_stage": None} and dispatcher.messages[0]["text"].startswith("I only showed 2 results")
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ['/request_introduction{"ordinal":1}', '/request_introduction{"ordinal":2}']
    orphan = tracker_factory("connect me", intent="request_introduction", entities=[{"entity": "ordinal", "value": 1}], slots={"last_results": ["s-milk-banks"]})
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), orphan)
    assert slots_of(events) == {"intro_stage": None} and "not a registered Galaxy partner" in dispatcher.messages[0]["text"]


@pytest.mark.asyncio
async def test_form_validation(intro_context, tracker_factory):
    form = ValidateIntroductionForm(intro_context)
    tracker = tracker_factory("x")
    dispatcher = CollectingDispatcher()
    assert form.validate_requester_email("amina at example", dispatcher, tracker, {}) == {"requester_email": None}
    assert form.validate_requester_email(" <amina@example.org> ", dispatcher, tracker, {}) == {"requester_email": "amina@example.org"}
    # Nothing after a comma is taken for a role: the role is a question of its own, and optional.
    assert form.validate_requester_organisation("UN Country Office, Amman", dispatcher, tracker, {}) == {"requester_organisation": "UN Country Office, Amman"}
    assert form.validate_requester_role("policy adviser", dispatcher, tracker, {}) == {"requester_role": "policy adviser"}
    assert form.validate_requester_role("", dispatcher, tracker, {}) == {"requester_role": ""}  # skipped
    assert form.validate_requester_name("🙂", dispatcher, tracker, {}) == {"requester_name": None}
    assert form.validate_intro_message("hi", dispatcher, tracker, {}) == {"intro_message": None}


def answering(slots, text="/affirm", intent="affirm", *, after="action_confirm_introduction", entities=None, sender_id="test-user"):
    """A tracker whose latest user message answers what the action `after` said."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "intent_ranking": [], "metadata": {}}
    events = [{"event": "action", "name": after}, {"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
    return Tracker(sender_id, slots, latest, events, False, None, {}, "action_listen")


async def shown(action, context, slots):
    """Run a summary-showing action and return the slots after it (with the summary's digest)."""
    dispatcher, events = await run(action(context), answering(slots, "", "affirm"))
    return {**slots, **slots_of(events)}, dispatcher


@pytest.mark.asyncio
async def test_consent_stores_once_and_status_lists_it(intro_context, tracker_factory):
    slots = {**DETAILS, "intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "intro_stage": "confirming"}
    slots, dispatcher = await shown(ActionConfirmIntroduction, intro_context, slots)
    assert "Email: amina@example.org" in dispatcher.messages[0]["text"] and slots["intro_stage"] == "confirming"
    first, submitted = await run(ActionSubmitIntroduction(intro_context), answering(slots))
    second, _ = await run(ActionSubmitIntroduction(intro_context), answering(slots, after="action_submit_introduction"))
    assert "(status: pending)" in first.messages[0]["text"]
    assert first.messages[0]["text"][:40] == second.messages[0]["text"][:40]  # same reference: one request
    assert slots_of(submitted)["intro_message"] is None and "requester_email" not in slots_of(submitted)
    (stored,) = intro_context.introductions.for_conversation("test-user")
    assert stored.reference in first.messages[0]["text"] and stored.partner_id == "p-fund"
    status, _ = await run(ActionIntroductionStatus(intro_context), tracker_factory("status?", intent="introduction_status"))
    assert f"{stored.reference} to Poverty and Hunger Facility (PHF): **pending**" in status.messages[-1]["text"]
    # a request sent cannot be taken back here: said so, with the way to UNOSSC staff
    withdraw, _ = await run(ActionIntroductionStatus(intro_context), tracker_factory("Our board wants to wait. Please withdraw the request.", intent="introduction_status"))
    assert stored.reference in withdraw.messages[0]["text"] and "already been sent" in withdraw.messages[0]["text"]
    assert withdraw.messages[0]["buttons"][0]["payload"] == "/human_handoff"
    deleted, events = await run(ActionDeleteMyData(intro_context), tracker_factory("delete my data", intent="delete_my_data", slots=slots))
    assert deleted.messages[0]["custom"] == {"erase_history": True}
    assert "deleted 1 introduction request(s) and 0 request(s) to talk to a person" in deleted.messages[1]["text"]
    assert "history is erased" in deleted.messages[1]["text"] and slots_of(events)["requester_email"] is None
    assert intro_context.introductions.for_conversation("test-user") == []


@pytest.mark.asyncio
async def test_a_correction_at_the_summary_changes_the_field_and_asks_again(intro_context):
    slots = {**DETAILS, "intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "intro_stage": "confirming"}
    slots, _ = await shown(ActionConfirmIntroduction, intro_context, slots)
    entities = [{"entity": "field", "value": "requester_organisation"}, {"entity": "detail_value", "value": "the Ministry of Water Resources"}]
    corrected, events = await run(ActionCorrectDetail(intro_context), answering(slots, "my organisation is actually the Ministry of Water Resources", "correct_detail", entities=entities))
    new = {**slots, **slots_of(events)}
    assert new["requester_organisation"] == "the Ministry of Water Resources" and new["intro_stage"] == "confirming"
    assert "Organisation: the Ministry of Water Resources" in corrected.messages[-1]["text"] and "Do you agree" in corrected.messages[-1]["text"]
    # A "yes" to the old summary, or after something else ran, sends nothing: the summary comes back.
    stale, events = await run(ActionSubmitIntroduction(intro_context), answering({**slots, "requester_organisation": "the Ministry of Water Resources"}))
    assert "check the details once more" in stale.messages[0]["text"] and slots_of(events)["intro_stage"] == "confirming"
    after_search, _ = await run(ActionSubmitIntroduction(intro_context), answering(new, after="action_search_solutions"))
    assert "check the details once more" in after_search.messages[0]["text"]
    assert intro_context.introductions.for_conversation("test-user") == []
    done, _ = await run(ActionSubmitIntroduction(intro_context), answering(new, after="action_correct_detail"))
    (stored,) = intro_context.introductions.for_conversation("test-user")
    assert stored.reference in done.messages[0]["text"] and stored.requester_organisation == "the Ministry of Water Resources"


@pytest.mark.asyncio
async def test_a_too_long_message_is_refused_before_consent(intro_context, tracker_factory):
    form = ValidateIntroductionForm(intro_context)
    dispatcher = CollectingDispatcher()
    assert form.validate_intro_message("We want to learn. " + "x" * 1182, dispatcher, tracker_factory("x"), {}) == {"intro_message": None}
    assert "under 1,000 characters (yours has 1,200)" in dispatcher.messages[0]["text"]


@pytest.mark.asyncio
async def test_consent_is_needed_and_refusal_forgets(intro_context, tracker_factory):
    not_asked = {**DETAILS, "intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "intro_stage": "collecting"}
    dispatcher, _ = await run(ActionSubmitIntroduction(intro_context), tracker_factory("/affirm", intent="affirm", slots=not_asked))
    assert dispatcher.messages[0]["response"] == "utter_which_partner"
    dispatcher, events = await run(ActionDeclineConsent(intro_context), tracker_factory("no", intent="deny", slots=not_asked))
    assert dispatcher.messages[0]["response"] == "utter_no_consent"
    assert all(value is None for value in slots_of(events).values())
    assert intro_context.introductions.for_conversation("test-user") == []


@pytest.mark.asyncio
async def test_correcting_the_email_reopens_only_that_field(intro_context, tracker_factory):
    slots = {**DETAILS, "intro_stage": "confirming"}
    tracker = tracker_factory("my email is wrong", intent="correct_detail", entities=[{"entity": "field", "value": "requester_email"}], slots=slots)
    _, events = await run(ActionCorrectDetail(intro_context), tracker)
    assert slots_of(events) == {"requester_email": None, "intro_stage": "collecting", "intro_summary_digest": None}
    _, events = await run(ActionCorrectDetail(intro_context), tracker_factory("fix it", intent="correct_detail"))
    assert slots_of(events) == {"intro_stage": None}


@pytest.mark.asyncio
async def test_a_partner_named_outright_is_the_target(intro_context, tracker_factory):
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory("introduce me to TIKA", intent="request_introduction"))
    assert slots_of(events)["intro_partner_id"] == "p-tika"
    vague, events = await run(ActionRequestIntroduction(intro_context), tracker_factory("introduce me to someone who knows about water", intent="request_introduction"))
    assert slots_of(events) == {"intro_stage": None} and vague.messages[0]["response"] == "utter_which_partner"


@pytest.mark.asyncio
async def test_unavailable_store_gets_an_apology_not_a_false_done(context, tracker_factory):
    dispatcher, events = await run(ActionDeleteMyData(context), tracker_factory("delete my data", intent="delete_my_data"))
    assert "could not delete" in dispatcher.messages[1]["text"] and "Done" not in dispatcher.messages[1]["text"]


@pytest.mark.asyncio
async def test_a_correction_while_the_form_runs_is_not_taken_as_the_answer(intro_context):
    text = "wait, my name should be Amina Diallo-Keita"
    latest = {"text": text, "intent": {"name": "correct_detail", "confidence": 0.9}, "intent_ranking": [], "metadata": {},
              "entities": [{"entity": "field", "value": "requester_name"}, {"entity": "detail_value", "value": "Amina Diallo-Keita"}]}
    slots = {**{k: v for k, v in DETAILS.items() if k not in ("requester_email", "intro_message")}, "requested_slot": "requester_email", "requester_email": text}
    events = [{"event": "action", "name": "introduction_form"}, {"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest},
              {"event": "slot", "name": "requester_email", "value": text}]
    tracker = Tracker("test-user", slots, latest, events, False, None, {"name": "introduction_form"}, "action_listen")
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), tracker)
    assert slots_of(result) == {"requester_email": None, "requester_name": "Amina Diallo-Keita"}
    assert "changed your name" in dispatcher.messages[0]["text"]
    # Without a new value, the detail is asked again (the form asks its first empty slot).
    latest["entities"] = [{"entity": "field", "value": "requester_organisation"}]
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), tracker)
    assert slots_of(result) == {"requester_email": None, "requester_organisation": None}


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "expected"), [
    ("Amina Diallo, Ministry of Energy Mali, rural electrification officer, amina.diallo@example.org. we want to train 20 women",
     {"requester_name": "Amina Diallo", "requester_organisation": "Ministry of Energy Mali", "requester_role": "rural electrification officer",
      "requester_email": "amina.diallo@example.org", "intro_message": "we want to train 20 women"}),
    ("Айгерим Садыкова, КазНУ, a.sadykova@example.kz",
     {"requester_name": "Айгерим Садыкова", "requester_organisation": "КазНУ", "requester_email": "a.sadykova@example.kz"}),
])
async def test_all_the_details_in_one_answer_fill_their_questions(intro_context, text, expected):
    latest = {"text": text, "intent": {"name": "inform", "confidence": 0.9}, "intent_ranking": [], "metadata": {}, "entities": []}
    events = [{"event": "action", "name": "introduction_form"}, {"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest},
              {"event": "slot", "name": "requester_name", "value": text}]
    tracker = Tracker("test-user", {"requested_slot": "requester_name", "requester_name": text}, latest, events, False, None, {"name": "introduction_form"}, "action_listen")
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), tracker)
    assert slots_of(result) == expected
    # a name with a comma but no email address is one answer, to the question asked
    text = "Diallo, Amina"
    latest["text"] = text
    events[-1]["value"] = text
    tracker = Tracker("test-user", {"requested_slot": "requester_name", "requester_name": text}, latest, events, False, None, {"name": "introduction_form"}, "action_listen")
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), tracker)
    assert slots_of(result).get("requester_name", text) == text and set(slots_of(result)) <= {"requester_name"}


@pytest.mark.asyncio
async def test_a_need_read_as_an_introduction_request_with_nobody_named_is_searched(intro_context, tracker_factory):
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory("human milk banks for premature babies", intent="request_introduction"))
    assert "Human milk bank network" in dispatcher.messages[0]["text"]
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory("connect me with someone", intent="request_introduction"))
    assert dispatcher.messages[0]["response"] == "utter_which_partner"
    # a request in another language to be put in touch with nobody named is asked back too
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory("свяжите меня с кем-нибудь", intent="request_introduction", slots={"language": "ru"}))
    assert dispatcher.messages[0]["response"] == "utter_which_partner"


@pytest.mark.asyncio
async def test_a_message_read_as_delete_my_data_that_is_not_about_the_users_data_erases_nothing(intro_context, tracker_factory):
    from tests.nlu_entities import understood

    slots = {**DETAILS, "last_query": "school meals", "last_kind": "solution", "last_results": ["s-school-meals"], "shown_ids": ["s-school-meals"], "country": "BRA"}
    text = "remove the country and tell me about the Brazil centre itself"
    dispatcher, events = await run(ActionDeleteMyData(intro_context), tracker_factory(text, intent="delete_my_data", entities=understood(text), slots=slots))
    assert not any(m.get("custom") for m in dispatcher.messages) and "country" in slots_of(events) and slots_of(events)["country"] is None
    dispatcher, events = await run(ActionDeleteMyData(intro_context), tracker_factory("tell me about the centre in Brazil", intent="delete_my_data", slots=slots))
    assert events == [] and not any(m.get("custom") for m in dispatcher.messages)
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/delete_my_data", "/show_results"]
    # the button, or a message about the user's own data, deletes
    for text in ("/delete_my_data", "please forget me", "supprimez mes données", "удалите мою переписку", "احذف بياناتي"):
        dispatcher, events = await run(ActionDeleteMyData(intro_context), tracker_factory(text, intent="delete_my_data", slots=slots))
        assert dispatcher.messages[0]["custom"] == {"erase_history": True}, text


FORM_DOMAIN = {"forms": {"introduction_form": {"required_slots": list(DETAILS)}}}


def _form_tracker(text, asked, *, intent="inform", confidence=0.9, slots=None):
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "intent_ranking": [], "metadata": {}, "entities": []}
    events = [{"event": "action", "name": "introduction_form"}, {"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest},
              {"event": "slot", "name": asked, "value": text}]
    values = {"intro_stage": "collecting", "intro_partner_id": "p-amexcid", "intro_target_id": "p-amexcid", **(slots or {}), "requested_slot": asked, asked: text}
    return Tracker("test-user", values, latest, events, False, None, {"name": "introduction_form"}, "action_listen")


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["Actually wait, I need to check with my director first. Cancel that for now.", "Пока не готов давать свои данные", "never mind", "annulez s'il vous plaît"])
async def test_a_request_to_stop_while_a_detail_is_asked_cancels_and_is_not_the_answer(intro_context, text):
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "requester_name"))
    assert {"event": "active_loop", "name": None, "timestamp": None} in result
    assert slots_of(result)["requester_name"] is None and slots_of(result)["intro_stage"] is None and slots_of(result)["intro_partner_id"] is None
    assert dispatcher.messages[0]["response"] == "utter_intro_cancelled"
    # the summary the rule asks for next is not shown
    after = Tracker("test-user", {"intro_stage": None}, {"text": text, "intent": {"name": "inform"}, "entities": []}, [], False, None, {}, "introduction_form")
    confirm, events = await run(ActionConfirmIntroduction(intro_context), after)
    assert events == [] and confirm.messages == []
    # a long message to the partner that says "not now" is still the message
    message = "We would like to visit in spring, not now because of the harvest, and learn how the agency works with ministries."
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(message, "intro_message", slots=DETAILS), FORM_DOMAIN)
    assert slots_of(result)["intro_message"] == message


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["Finalement non, je préfère attendre. N'envoyez rien pour l'instant.", "Ничего не отправляйте пока", "please don't send it"])
async def test_a_request_not_to_send_while_the_role_is_asked_cancels(intro_context, text):
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "requester_role", slots={"requester_name": "Sophie Martin"}))
    assert {"event": "active_loop", "name": None, "timestamp": None} in result
    assert dispatcher.messages[0]["response"] == "utter_intro_cancelled"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text", ["I'd rather not give my email. Just send my name: Grace Akello, Gulu Women Energy Network.", "je préfère ne pas donner mon e-mail", "без почты, пожалуйста"]
)
async def test_refusing_the_email_keeps_the_form_and_says_why_it_is_needed(intro_context, text):
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "requester_name"))
    assert {"event": "active_loop", "name": None, "timestamp": None} not in result
    assert slots_of(result).get("requester_name") is None and slots_of(result).get("requester_email") is None
    assert dispatcher.messages[0]["text"] == Texts("en")("form.email_needed")


@pytest.mark.asyncio
async def test_every_detail_with_the_message_in_one_answer_skips_the_optional_role(intro_context):
    text = "Sophie Martin, PNUD Maroc, sophie.martin@undp.org. Message : j'aimerais échanger sur une cartographie de la coopération triangulaire."
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "requester_name"))
    slots = slots_of(result)
    assert slots["requester_name"] == "Sophie Martin" and slots["requester_email"] == "sophie.martin@undp.org"
    assert slots["requester_role"] == "" and slots["intro_message"].startswith("j'aimerais")


def test_an_opening_or_the_address_label_is_no_detail():
    assert listed_details("حسناً، بريدي y.alhassan@example.org والرسالة: نرغب في شراكة", by_slot(INTRODUCTION_DETAILS)) == {}


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "language"), [("Can you introduce me to them?", "en"), ("Хочу с ними связаться.", "ru")])
async def test_an_introduction_to_them_with_several_items_on_screen_asks_which_with_buttons(intro_context, tracker_factory, text, language):
    listed = {"last_query": "agencies", "last_kind": "partner", "last_results": ["p-tika", "p-amexcid"], "shown_ids": ["p-tika", "p-amexcid"], "result_offset": 0.0, "language": language}
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory(text, intent="request_introduction", slots=listed))
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ['/request_introduction{"ordinal":1}', '/request_introduction{"ordinal":2}']
    assert slots_of(events)["intro_stage"] is None


def test_a_name_said_after_a_sentence_or_an_introduction_is_only_the_name():
    details = by_slot(INTRODUCTION_DETAILS)
    text = "Хочу с ними познакомиться. Меня зовут Дилноза Рахимова, Министерство юстиции Республики Узбекистан, d.rakhimova@minjust.uz. Сообщение: хотели бы обменяться опытом."
    found = listed_details(text, details)
    assert found["requester_name"] == "Дилноза Рахимова" and found["requester_organisation"] == "Министерство юстиции Республики Узбекистан"
    assert listed_details("I'm Dr Alberto Mondlane, Farmanguinhos, a.mondlane@example.org", details)["requester_name"] == "Dr Alberto Mondlane"


@pytest.mark.asyncio
async def test_a_phone_number_asked_for_is_said_not_kept_and_an_introduction_offered(intro_context, tracker_factory):
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory("Can you give me the phone number of the head of TIKA?", intent="request_introduction"))
    assert "no phone numbers" in dispatcher.messages[0]["text"] and slots_of(events)["intro_partner_id"] == "p-tika"
    dispatcher, _ = await run(ActionRequestIntroduction(intro_context), tracker_factory("please introduce me to TIKA", intent="request_introduction"))
    assert not any("phone" in (m.get("text") or "") for m in dispatcher.messages)


@pytest.mark.asyncio
async def test_another_partner_and_details_said_in_passing_while_the_name_is_asked(intro_context):
    text = "Could you put me in touch with TIKA instead? I'm Grace Akello from the Northern Uganda Women Energy Network, grace.akello@example.org"
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "requester_name", intent="request_introduction"))
    slots = slots_of(result)
    assert slots["intro_partner_id"] == "p-tika" and "Turkish Cooperation" in dispatcher.messages[0]["text"]
    assert slots["requester_name"] == "Grace Akello" and slots["requester_organisation"] == "the Northern Uganda Women Energy Network"
    assert slots["requester_email"] == "grace.akello@example.org"


@pytest.mark.asyncio
async def test_a_question_while_a_detail_is_asked_is_answered_and_the_detail_asked_again(intro_context):
    listed = {"last_query": "water", "last_kind": "solution", "last_results": ["s-rainwater", "s-school-meals"], "shown_ids": ["s-rainwater", "s-school-meals"], "selected_id": "s-rainwater"}
    tracker = _form_tracker("which countries was it in?", "requester_organisation", intent="ask_record", slots={"requester_name": "Amina Diallo", **listed})
    tracker.latest_message["entities"] = [{"entity": "attribute", "value": "countries"}]
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), tracker)
    assert slots_of(result)["requester_organisation"] is None and "Kenya" in dispatcher.messages[0]["text"]
    # a plain answer is the answer
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker("Ministry of Water, Kenya", "requester_organisation", slots={"requester_name": "Amina Diallo"}), FORM_DOMAIN)
    assert slots_of(result)["requester_organisation"] == "Ministry of Water, Kenya"


@pytest.mark.asyncio
async def test_a_labelled_answer_fills_the_detail_it_names_and_a_long_role_is_a_role(intro_context):
    text = "Message: we would like to explore sending five women from Gulu district to your solar engineer training next year."
    tracker = _form_tracker(text, "requester_role", intent="find_solution", slots={k: v for k, v in DETAILS.items() if k not in ("requester_role", "intro_message")})
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), tracker, FORM_DOMAIN)
    assert slots_of(result)["intro_message"] == text[len("Message: "):] and slots_of(result)["requester_role"] == ""  # the optional role left out
    role = "head of the rural electrification unit in the ministry of energy and mines"
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(role, "requester_role", intent="find_solution"), FORM_DOMAIN)
    assert slots_of(result)["requester_role"] == role


@pytest.mark.asyncio
async def test_details_listed_with_the_request_and_a_need_read_as_a_status_question(intro_context, tracker_factory):
    text = "Please introduce me to TIKA. Chikondi Banda, Malawi ICT Agency, c.banda@example.org"
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory(text, intent="request_introduction"))
    slots = slots_of(events)
    assert slots["intro_partner_id"] == "p-tika" and slots["requester_name"] == "Chikondi Banda"
    assert slots["requester_organisation"] == "Malawi ICT Agency" and slots["requester_email"] == "c.banda@example.org"
    text = "We are a water ministry and want rainwater harvesting ponds for dryland villages"
    dispatcher, events = await run(ActionIntroductionStatus(intro_context), tracker_factory(text, intent="introduction_status"))
    assert "Rainwater harvesting ponds" in dispatcher.messages[0]["text"]
    dispatcher, events = await run(ActionIntroductionStatus(intro_context), tracker_factory("any news on my request?", intent="introduction_status"))
    assert dispatcher.messages[0]["response"] == "utter_no_introductions"
    # asked while the summary waits for consent: that request, not sent, with its summary and buttons again
    waiting = {**DETAILS, "intro_stage": "confirming", "intro_partner_id": "p-tika", "intro_target_id": "p-tika"}
    dispatcher, events = await run(ActionIntroductionStatus(intro_context), tracker_factory("what is the status of my introduction?", intent="introduction_status", slots=waiting))
    assert "has not been sent yet" in dispatcher.messages[0]["text"] and "Amina Diallo" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/affirm" and slots_of(events)["intro_stage"] == "confirming"


@pytest.mark.asyncio
async def test_a_command_or_a_bare_yes_while_a_detail_is_asked_is_not_the_detail(intro_context):
    listed = {"last_query": "water", "last_kind": "solution", "last_results": ["s-rainwater", "s-school-meals"], "shown_ids": ["s-rainwater", "s-school-meals"], "language": "fr"}
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker("Afficher plus", "requester_name", intent="show_more", slots=listed), FORM_DOMAIN)
    assert slots_of(result)["requester_name"] is None
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker("Oui, je confirme.", "requester_role", intent="affirm", slots=DETAILS), FORM_DOMAIN)
    assert slots_of(result) == {"requester_role": ""}  # the optional role left out: the summary comes next
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker("yes", "requester_email", intent="affirm", slots={"requester_name": "A"}), FORM_DOMAIN)
    assert slots_of(result) == {"requester_email": None}
    text = "Aminata Sow, ministère de la Formation professionnelle, aminata.sow@example.org. Message : nous souhaitons organiser une visite."
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "requester_role", slots={"language": "fr"}), FORM_DOMAIN)
    assert slots_of(result)["requester_name"] == "Aminata Sow" and slots_of(result)["intro_message"] == "nous souhaitons organiser une visite"


@pytest.mark.asyncio
async def test_them_with_details_after_it_is_the_record_opened_and_a_need_about_response_teams_is_no_status_question(intro_context, tracker_factory):
    slots = {"last_query": "funders", "last_kind": "partner", "last_results": ["p-tika", "p-fund"], "shown_ids": ["p-tika", "p-fund"], "selected_id": "p-fund"}
    text = "Please introduce me to them. Chikondi Banda, Malawi ICT Agency, c.banda@example.org"
    entities = [{"entity": "country", "value": "MWI", "start": text.index("Malawi"), "end": text.index("Malawi") + 6}]
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory(text, intent="request_introduction", entities=entities, slots=slots))
    assert slots_of(events)["intro_partner_id"] == "p-fund" and slots_of(events)["requester_name"] == "Chikondi Banda"
    text = "We want South-South support to set up a rainwater emergency response team for dryland villages"
    dispatcher, events = await run(ActionIntroductionStatus(intro_context), tracker_factory(text, intent="introduction_status"))
    assert "Rainwater harvesting ponds" in dispatcher.messages[0]["text"]


def test_a_closing_yes_send_it_is_no_part_of_the_message():
    from actions.details import by_slot, introduced_details, INTRODUCTION_DETAILS

    given = introduced_details("Message: we would like to visit your training centre next year. Yes, you can send it.", by_slot(INTRODUCTION_DETAILS))
    assert given == {"intro_message": "we would like to visit your training centre next year."}
    given = introduced_details("Message: please send us your training calendar for next year", by_slot(INTRODUCTION_DETAILS))
    assert given == {"intro_message": "please send us your training calendar for next year"}


@pytest.mark.asyncio
async def test_a_name_read_as_show_more_is_still_the_name(intro_context):
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker("Lea Moreau", "requester_name", intent="show_more", confidence=0.95), FORM_DOMAIN)
    assert slots_of(result)["requester_name"] == "Lea Moreau"


@pytest.mark.parametrize(("text", "expected"), [
    # an organisation written with commas, and the label of the address after a full stop
    ("Sure. I'm Mwila Banda, Department of Fisheries, Ministry of Fisheries and Livestock, Zambia. Email m.banda@example.zm",
     {"requester_name": "Mwila Banda", "requester_organisation": "Department of Fisheries, Ministry of Fisheries and Livestock, Zambia", "requester_email": "m.banda@example.zm"}),
    # a last part that names a job is the role
    ("Amina Diallo, Ministry of Energy, Mali, rural electrification officer, amina@example.org",
     {"requester_name": "Amina Diallo", "requester_organisation": "Ministry of Energy, Mali", "requester_role": "rural electrification officer", "requester_email": "amina@example.org"}),
    # a country after the organisation is part of it, not a role
    ("Dr Aïssata Moussa, Direction de la santé de la mère et de l'enfant, Niger, aissata.moussa@example.ne",
     {"requester_name": "Dr Aïssata Moussa", "requester_organisation": "Direction de la santé de la mère et de l'enfant, Niger", "requester_email": "aissata.moussa@example.ne"}),
    # Arabic commas around the address, "from" before the organisation, a labelled message joined by "and"
    ("اسمي محمد صالح عبد الله، من وزارة الصحة العامة التشادية، بريدي m.saleh@example.td، والرسالة: نرغب في ترشيح طبيبين للتدريب",
     {"requester_name": "محمد صالح عبد الله", "requester_organisation": "وزارة الصحة العامة التشادية", "requester_email": "m.saleh@example.td", "intro_message": "نرغب في ترشيح طبيبين للتدريب"}),
    # an organisation whose name begins with "De" keeps it
    ("Grace Akello, De La Salle University, grace@example.org", {"requester_name": "Grace Akello", "requester_organisation": "De La Salle University", "requester_email": "grace@example.org"}),
])
def test_details_listed_in_one_message_go_to_their_questions(text, expected):
    assert listed_details(text, by_slot(INTRODUCTION_DETAILS), last_sentence=True) == expected


def test_a_name_said_in_passing_is_not_cut_into_an_organisation():
    from actions.details import introduced_details

    found = introduced_details("I'm Mwila Banda, Department of Fisheries", by_slot(INTRODUCTION_DETAILS))
    assert found == {"requester_name": "Mwila Banda"}
    assert introduced_details("je suis Marie Traoré de l'ONG Espoir", by_slot(INTRODUCTION_DETAILS))["requester_organisation"] == "ONG Espoir"


@pytest.mark.asyncio
async def test_a_message_that_also_corrects_the_email_changes_both(intro_context):
    text = "Message: we would like to send five extension officers to the course next year. Oh wait - the email should be m.banda@example.zm, not the one I gave."
    given = {k: v for k, v in DETAILS.items() if k != "intro_message"}
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "intro_message", slots=given), FORM_DOMAIN)
    slots = slots_of(result)
    assert slots["requester_email"] == "m.banda@example.zm"
    assert slots["intro_message"] == "we would like to send five extension officers to the course next year."
    assert "email" in dispatcher.messages[0]["text"]
    # the same answer while the optional role is asked: the message it labels is taken, the role left out
    without_role = {k: v for k, v in given.items() if k != "requester_role"}
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "requester_role", slots=without_role), FORM_DOMAIN)
    slots = slots_of(result)
    assert slots["requester_email"] == "m.banda@example.zm" and slots["requester_role"] == ""
    assert slots["intro_message"] == "we would like to send five extension officers to the course next year."
    # a message that gives an address without correcting anything is the message
    plain = "We would like to learn from you; our team can be reached at team@example.org as well."
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(plain, "intro_message", slots=given), FORM_DOMAIN)
    assert slots_of(result)["intro_message"] == plain and "requester_email" not in slots_of(result)


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "asked"), [("Thanks. And please delete my data - now, not later.", "intro_message"), ("Et supprimez mes données, s'il vous plaît.", "requester_email")])
async def test_asking_to_delete_ones_data_while_a_detail_is_asked_stops_the_form_and_deletes(intro_context, text, asked):
    given = {k: v for k, v in DETAILS.items() if k not in (asked, "intro_message")}
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, asked, intent="delete_my_data", confidence=0.95, slots=given), FORM_DOMAIN)
    assert {"event": "active_loop", "name": None, "timestamp": None} in result
    assert dispatcher.messages[0]["custom"] == {"erase_history": True}
    assert slots_of(result)["requester_name"] is None and slots_of(result)["intro_stage"] is None
    # a message to the partner about deleting data is the message
    about = "We would like to understand how your agency deletes the personal data of the farmers it trains."
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(about, "intro_message", intent="delete_my_data", confidence=0.8, slots=given), FORM_DOMAIN)
    assert {"event": "active_loop", "name": None, "timestamp": None} not in result and not any(m.get("custom") for m in dispatcher.messages)


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "language"), [("Pouvez-vous me mettre en relation avec la TIKA ?", "fr"), ("could you connect me with AMEXCID please", "en")])
async def test_a_request_to_be_put_in_touch_read_as_a_search_starts_the_introduction(intro_context, tracker_factory, text, language):
    from actions.search import ActionSearchPartners

    dispatcher, events = await run(ActionSearchPartners(intro_context), tracker_factory(text, intent="find_partner", slots={"language": language}))
    assert slots_of(events)["intro_stage"] == "collecting" and slots_of(events)["intro_partner_id"] in ("p-tika", "p-amexcid")
    assert {"event": "followup", "name": "introduction_form", "timestamp": None} in events
    # a search that names a partner without asking to be put in touch is a search
    dispatcher, events = await run(ActionSearchPartners(intro_context), tracker_factory("TIKA partners in health", intent="find_partner"))
    assert "intro_stage" not in slots_of(events)


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["Actually our board wants to wait. Please withdraw the request.", "Отзовите запрос, пожалуйста"])
async def test_withdrawing_at_the_summary_sends_nothing(intro_context, text):
    slots = {**DETAILS, "intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "intro_stage": "confirming"}
    slots, _ = await shown(ActionConfirmIntroduction, intro_context, slots)
    declined, events = await run(ActionCorrectDetail(intro_context), answering(slots, text, "correct_detail"))
    assert declined.messages[0]["response"] == "utter_no_consent" and slots_of(events)["intro_stage"] is None
    assert intro_context.introductions.for_conversation("test-user") == []


@pytest.mark.asyncio
async def test_a_request_with_the_details_and_a_message_after_the_address_goes_to_the_summary(intro_context, tracker_factory):
    text = "Could you put me in touch with TIKA? I'm Amra Hodzic from Zeleni Put Tuzla, amra@example.ba. We'd like to discuss a greenhouse programme for returnee families."
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory(text, intent="request_introduction"))
    slots = slots_of(events)
    assert slots["intro_partner_id"] == "p-tika" and slots["requester_name"] == "Amra Hodzic" and slots["requester_organisation"] == "Zeleni Put Tuzla"
    assert slots["intro_message"] == "We'd like to discuss a greenhouse programme for returnee families" and slots["requester_role"] == ""


@pytest.mark.asyncio
async def test_tell_me_about_the_agency_behind_it_read_as_an_introduction_answers_instead(intro_context, tracker_factory):
    opened = {"last_query": "rainwater", "last_kind": "solution", "last_results": ["s-rainwater"], "shown_ids": ["s-rainwater"], "selected_id": "s-rainwater", "result_offset": 0.0}
    dispatcher, events = await run(ActionRequestIntroduction(intro_context), tracker_factory("Tell me about the agency behind it.", intent="request_introduction", slots=opened))
    assert slots_of(events).get("intro_stage") != "collecting"
    assert "Rainwater harvesting ponds" in dispatcher.messages[0]["text"] and "What is your name" not in str(dispatcher.messages)


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "expected"), [("عفواً، الاسم الصحيح: محمد صالح عبد الرحمن.", "محمد صالح عبد الرحمن"), ("the correct name: Amina Diallo-Keita", "Amina Diallo-Keita")])
async def test_a_labelled_correction_at_the_summary_changes_that_detail(intro_context, text, expected):
    slots = {**DETAILS, "intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "intro_stage": "confirming"}
    slots, _ = await shown(ActionConfirmIntroduction, intro_context, slots)
    corrected, events = await run(ActionCorrectDetail(intro_context), answering(slots, text, "correct_detail"))
    assert slots_of(events)["requester_name"] == expected and slots_of(events)["intro_stage"] == "confirming"


@pytest.mark.asyncio
async def test_the_partner_of_a_request_is_the_one_named_before_the_details(intro_context, tracker_factory):
    from actions.search import ActionSearchSolutions

    text = "Fine. Please put me in touch with TIKA. I'm Amina Diallo, AMEXCID liaison office, amina@example.org. Message: we'd like to learn from your projects."
    dispatcher, events = await run(ActionSearchSolutions(intro_context), tracker_factory(text, intent="find_solution"))
    slots = slots_of(events)
    assert slots["intro_partner_id"] == "p-tika" and slots["requester_email"] == "amina@example.org"
    assert slots["intro_message"].startswith("we'd like to learn from your projects")


def test_a_labelled_message_after_a_self_introduction_is_the_message():
    from actions.details import introduced_details

    found = introduced_details("I'm Abena Owusu from Susu Sisters Network. Message: we'd like to learn how the girls' clubs work.", by_slot(INTRODUCTION_DETAILS))
    assert found == {"requester_name": "Abena Owusu", "requester_organisation": "Susu Sisters Network", "intro_message": "we'd like to learn how the girls' clubs work."}


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["Yes, send it.", "Oui, envoyez", "نعم، أرسلها."])
async def test_yes_send_it_while_the_message_is_asked_is_not_the_message(intro_context, text):
    given = {k: v for k, v in DETAILS.items() if k != "intro_message"}
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker(text, "intro_message", intent="affirm", slots=given), FORM_DOMAIN)
    assert slots_of(result).get("intro_message") is None and "Nothing is sent yet" in dispatcher.messages[0]["text"]


@pytest.mark.asyncio
@pytest.mark.parametrize("intent", ["refine_search", "find_partner"])
async def test_a_try_at_an_address_read_as_a_search_is_answered_as_an_address(intro_context, intent):
    given = {k: v for k, v in DETAILS.items() if k not in ("requester_email", "intro_message")}
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker("amina at example", "requester_email", intent=intent, confidence=0.95, slots=given), FORM_DOMAIN)
    assert slots_of(result).get("requester_email") is None and "doesn't look like an email" in dispatcher.messages[0]["text"]
    # a short question there is still an aside, answered before the address is asked again
    dispatcher, result = await run(ValidateIntroductionForm(intro_context), _form_tracker("what is PGTF?", "requester_email", intent="faq", confidence=0.95, slots=given), FORM_DOMAIN)
    assert not any("doesn't look like an email" in (m.get("text") or "") for m in dispatcher.messages)
