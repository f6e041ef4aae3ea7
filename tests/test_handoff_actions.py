"""The hand-off actions against a real (SQLite) store: consent before anything is kept, the reference and
its status, a correction at the summary."""
from __future__ import annotations

import pytest

from actions.handoffs import (
    ActionConfirmHandoff,
    ActionCorrectHandoffDetail,
    ActionDeclineHandoff,
    ActionHandoffStatus,
    ActionHumanHandoff,
    ActionSubmitHandoff,
)
from tests.test_actions import slots_of
from tests.test_introduction_actions import answering, intro_context, run  # noqa: F401 - fixture

TOPIC = "We would like to know how our ministry can join the Galaxy."


@pytest.mark.asyncio
async def test_handoff_needs_consent_and_gives_a_reference_with_a_status(intro_context, tracker_factory):
    handoffs = intro_context.introductions.handoffs
    dispatcher, events = await run(ActionHumanHandoff(intro_context), tracker_factory("talk to a person", intent="human_handoff", slots={"requester_email": "amina@example.org"}))
    assert dispatcher.messages[0]["response"] == "utter_handoff_start"
    assert slots_of(events)["handoff_stage"] == "collecting" and slots_of(events)["handoff_email"] == "amina@example.org"
    assert handoffs.asked_count() == 1 and handoffs.find() == []

    slots = {"handoff_topic": TOPIC, "handoff_email": "amina@example.org", "handoff_stage": "collecting"}
    shown, events = await run(ActionConfirmHandoff(intro_context), answering(slots, after="handoff_form"))
    slots = {**slots, **slots_of(events)}
    assert TOPIC in shown.messages[0]["text"] and "Do you agree" in shown.messages[0]["text"]
    refused, _ = await run(ActionDeclineHandoff(intro_context), answering(slots, "no", "deny", after="action_confirm_handoff"))
    assert handoffs.find() == [] and refused.messages[0]["response"] == "utter_handoff_no_consent"

    corrected, events = await run(ActionCorrectHandoffDetail(intro_context), answering(
        slots, "my email should be a.diallo@example.org", "correct_detail", after="action_confirm_handoff",
        entities=[{"entity": "field", "value": "requester_email"}, {"entity": "detail_value", "value": "a.diallo@example.org"}]))
    slots = {**slots, **slots_of(events)}
    assert slots["handoff_email"] == "a.diallo@example.org" and "a.diallo@example.org" in corrected.messages[-1]["text"]
    done, events = await run(ActionSubmitHandoff(intro_context), answering(slots, after="action_correct_handoff_detail"))
    (stored,) = handoffs.find()
    assert stored.reference in done.messages[0]["text"] and stored.email == "a.diallo@example.org" and stored.topic == TOPIC
    assert slots_of(events)["handoff_stage"] is None
    status, _ = await run(ActionHandoffStatus(intro_context), tracker_factory("what happened to my request?", intent="handoff_status"))
    assert f"{stored.reference}: **open**" in status.messages[0]["text"]


@pytest.mark.asyncio
async def test_a_need_read_as_a_request_for_a_person_is_searched(intro_context, tracker_factory):
    dispatcher, events = await run(ActionHumanHandoff(intro_context), tracker_factory("human milk banks", intent="human_handoff"))
    assert "Human milk bank network" in dispatcher.messages[0]["text"]
    assert slots_of(events)["handoff_stage"] is None and slots_of(events)["last_query"] == "human milk banks"
    assert intro_context.introductions.handoffs.asked_count() == 0
    # asking for a person, even about a topic the catalogue covers, starts the hand-off
    for text in ("human", "human please", "I'd like to talk to someone about milk banks"):
        dispatcher, events = await run(ActionHumanHandoff(intro_context), tracker_factory(text, intent="human_handoff"))
        assert slots_of(events)["handoff_stage"] == "collecting", text


@pytest.mark.asyncio
async def test_the_form_asks_its_first_question_without_a_hint(intro_context):
    """The hand-off starts by emptying the topic: that reset is not an answer, so the form must not answer
    it with "please write a sentence or two" before it has asked anything. A real empty answer still is."""
    from rasa_sdk import Tracker

    from actions.handoffs import ValidateHandoffForm

    def started(events_after: list[dict]) -> Tracker:
        events = [{"event": "user", "text": "I'd like to talk to someone at UNOSSC", "parse_data": {}}, *events_after]
        latest = {"text": "I'd like to talk to someone at UNOSSC", "intent": {"name": "human_handoff", "confidence": 0.9}, "entities": []}
        return Tracker("form-user", {"handoff_stage": "collecting", "requested_slot": None}, latest, events, False, None, {"name": "handoff_form"}, "action_human_handoff")

    reset = [{"event": "slot", "name": "handoff_stage", "value": "collecting"}, {"event": "slot", "name": "handoff_topic", "value": None}]
    dispatcher, events = await run(ValidateHandoffForm(intro_context), started(reset), {"forms": {"handoff_form": {"required_slots": ["handoff_topic", "handoff_email"]}}})
    assert dispatcher.messages == [] and slots_of(events).get("handoff_topic") is None

    blank = [{"event": "slot", "name": "handoff_topic", "value": "  "}]
    dispatcher, events = await run(ValidateHandoffForm(intro_context), started(blank), {"forms": {"handoff_form": {"required_slots": ["handoff_topic", "handoff_email"]}}})
    assert "sentence or two" in dispatcher.messages[0]["text"] and slots_of(events)["handoff_topic"] is None


@pytest.mark.asyncio
async def test_thanks_while_the_hand_offs_subject_is_asked_is_welcomed_and_not_the_subject(intro_context):
    from rasa_sdk import Tracker

    from actions.handoffs import ValidateHandoffForm

    latest = {"text": "thx", "intent": {"name": "thank", "confidence": 0.99}, "intent_ranking": [], "metadata": {}, "entities": []}
    events = [{"event": "action", "name": "handoff_form"}, {"event": "action", "name": "action_listen"}, {"event": "user", "text": "thx", "parse_data": latest},
              {"event": "slot", "name": "handoff_topic", "value": "thx"}]
    tracker = Tracker("test-user", {"handoff_stage": "collecting", "requested_slot": "handoff_topic", "handoff_topic": "thx"}, latest, events, False, None, {"name": "handoff_form"}, "action_listen")
    dispatcher, result = await run(ValidateHandoffForm(intro_context), tracker, {"forms": {"handoff_form": {"required_slots": ["handoff_topic", "handoff_email"]}}})
    assert slots_of(result)["handoff_topic"] is None and dispatcher.messages[0]["response"] == "utter_thank"
