"""The introduction actions against a real (SQLite) introductions store and the mini catalogue."""
from __future__ import annotations

from dataclasses import replace

import pytest
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
    assert slots_of(events) == {"intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "selected_id": "s-rainwater", "intro_stage": "collecting"}
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
    assert slots_of(events) == {"intro_stage": None} and dispatcher.messages[0]["response"] == "utter_which_partner"
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
    assert form.validate_requester_organisation("Ministry of Water, policy adviser", dispatcher, tracker, {}) == {"requester_organisation": "Ministry of Water", "requester_role": "policy adviser"}
    assert form.validate_requester_organisation("Ministry of Water", dispatcher, tracker, {}) == {"requester_organisation": "Ministry of Water", "requester_role": None}
    assert form.validate_requester_name("🙂", dispatcher, tracker, {}) == {"requester_name": None}
    assert form.validate_intro_message("hi", dispatcher, tracker, {}) == {"intro_message": None}


@pytest.mark.asyncio
async def test_consent_stores_once_and_status_lists_it(intro_context, tracker_factory):
    slots = {**DETAILS, "intro_target_id": "s-rainwater", "intro_partner_id": "p-fund", "intro_stage": "confirming"}
    dispatcher, events = await run(ActionConfirmIntroduction(intro_context), tracker_factory("", slots=slots))
    assert "Email: amina@example.org" in dispatcher.messages[0]["text"] and slots_of(events) == {"intro_stage": "confirming"}
    first, submitted = await run(ActionSubmitIntroduction(intro_context), tracker_factory("/affirm", intent="affirm", slots=slots))
    second, _ = await run(ActionSubmitIntroduction(intro_context), tracker_factory("/affirm", intent="affirm", slots=slots))
    assert "(status: pending)" in first.messages[0]["text"]
    assert first.messages[0]["text"][:40] == second.messages[0]["text"][:40]  # same reference: one request
    assert slots_of(submitted)["intro_message"] is None and "requester_email" not in slots_of(submitted)
    (stored,) = intro_context.introductions.for_conversation("test-user")
    assert stored.reference in first.messages[0]["text"] and stored.partner_id == "p-fund"
    status, _ = await run(ActionIntroductionStatus(intro_context), tracker_factory("status?", intent="introduction_status"))
    assert f"{stored.reference} to Poverty and Hunger Facility (PHF): **pending**" in status.messages[0]["text"]
    deleted, events = await run(ActionDeleteMyData(intro_context), tracker_factory("delete my data", intent="delete_my_data", slots=slots))
    assert "1 introduction request" in deleted.messages[0]["text"] and slots_of(events)["requester_email"] is None
    assert intro_context.introductions.for_conversation("test-user") == []


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
    assert slots_of(events) == {"requester_email": None, "intro_stage": "collecting"}
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
    assert events == [] and dispatcher.messages[0]["response"] == "utter_service_unavailable"
