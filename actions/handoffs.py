"""Hand-off to a person at UNOSSC: ask what it is about and how staff can reach the user (handoff_form),
show what will be shared, and only after consent store it and mail the staff mailbox. Without consent only
the anonymous fact that a hand-off was asked is counted."""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, input_channel, latest_text
from actions.details import HANDOFF_DETAILS, HANDOFF_FIELDS, DetailForm, by_slot, consent_is_current, digest
from actions.formatting import payload
from actions.i18n import Texts
from actions.introductions import correct_at_summary, status_lines
from actions.search import search_if_a_need
from introductions.validation import IntroductionError, InvalidRequest
from knowledge.services import KnowledgeServices

logger = logging.getLogger(__name__)

HANDOFF_SLOTS = tuple(by_slot(HANDOFF_DETAILS))
# Words of an English message that ask for a person; "human" alone is not one ("human milk banks").
_ASKS_FOR_A_PERSON = frozenset(
    """talk talking speak speaking chat chatting contact call phone transfer hand pass connect reach
    person persons people someone somebody anyone anybody staff agent agents operator representative
    officer colleague team member members real live being""".split()
)
SUMMARY_ACTIONS = {"action_confirm_handoff", "action_correct_handoff_detail", "action_submit_handoff"}


def _forget() -> list[dict[str, Any]]:
    return [SlotSet("handoff_stage", None), SlotSet("handoff_topic", None), SlotSet("handoff_summary_digest", None)]


def show_handoff_summary(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, intro: str = "") -> list[dict[str, Any]]:
    t = Texts.of(tracker)
    lines = [intro] if intro else []
    lines += [
        t("handoff.summary_head"),
        f"• {t('handoff.about')}: {tracker.get_slot('handoff_topic')}",
        f"• {t('handoff.reach_me')}: {tracker.get_slot('handoff_email')}",
        "",
        t("handoff.consent"),
    ]
    buttons = [
        {"title": t("handoff.yes"), "payload": payload("affirm")},
        {"title": t("intro.no"), "payload": payload("deny")},
        {"title": t("handoff.change_question"), "payload": payload("correct_detail", field="handoff_topic")},
        {"title": t("handoff.change_email"), "payload": payload("correct_detail", field="handoff_email")},
    ]
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
    return [SlotSet("handoff_stage", "confirming"), SlotSet("handoff_summary_digest", digest(tracker, HANDOFF_SLOTS))]


class ActionHumanHandoff(GalaxyAction):
    """ "Talk to a person": counts the ask (anonymously) and starts the hand-off form."""

    def name(self) -> str:
        return "action_human_handoff"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        said = set(re.findall(r"[a-z]+", text.casefold()))
        if Texts.of(tracker).language == "en" and said - {"human", "humans", "a", "the", "please", "pls"} and not _ASKS_FOR_A_PERSON & said:
            # "human milk banks" read as "a human, please": the catalogue answers it closely, so it is a need
            found = await search_if_a_need(self, services, dispatcher, tracker, domain)
            if found is not None:
                return found + [SlotSet("handoff_stage", None)]
        introductions = self.context.introductions
        contact = self.context.settings.unossc_contact
        if introductions is None:
            dispatcher.utter_message(text=Texts.of(tracker)("handoff.unavailable", contact=contact))
            return []
        try:
            introductions.handoffs.note_asked(input_channel(tracker))
        except Exception as exc:  # noqa: BLE001 - a count must not stop the user from reaching a person
            logger.error("hand-off count not stored: %s", type(exc).__name__)
        dispatcher.utter_message(response="utter_handoff_start")
        events = [SlotSet("handoff_stage", "collecting"), SlotSet("handoff_topic", None), SlotSet("handoff_summary_digest", None)]
        known = tracker.get_slot("requester_email")
        if known and not tracker.get_slot("handoff_email"):
            events.append(SlotSet("handoff_email", known))  # shown in the summary, where it can be changed
        if tracker.get_slot("intro_stage"):  # one consent question at a time
            events.append(SlotSet("intro_stage", None))
        return events


class ValidateHandoffForm(DetailForm):
    details = HANDOFF_DETAILS
    fields = HANDOFF_FIELDS

    def name(self) -> str:
        return "validate_handoff_form"

    def cancelled(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff_cancelled", contact=self.context.settings.unossc_contact)
        return _forget()


class ActionConfirmHandoff(GalaxyAction):
    def name(self) -> str:
        return "action_confirm_handoff"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.get_slot("handoff_stage") is None:
            return []  # the form stopped because the user cancelled: nothing to confirm
        return show_handoff_summary(services, dispatcher, tracker)


class ActionCorrectHandoffDetail(GalaxyAction):
    """A correction at the hand-off's summary ("my email should be …"), as for introductions."""

    def name(self) -> str:
        return "action_correct_handoff_detail"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.get_slot("handoff_stage") != "confirming":
            dispatcher.utter_message(response="utter_nothing_to_correct")
            return [SlotSet("handoff_stage", None)]
        return correct_at_summary(services, dispatcher, tracker, by_slot(HANDOFF_DETAILS), HANDOFF_FIELDS, "handoff_stage", "handoff_summary_digest", show_handoff_summary)


class ActionSubmitHandoff(GalaxyAction):
    """Stores the hand-off the user agreed to; the staff email goes out through the outbox."""

    def name(self) -> str:
        return "action_submit_handoff"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        introductions = self.context.introductions
        if introductions is None:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        topic, email = tracker.get_slot("handoff_topic"), tracker.get_slot("handoff_email")
        if tracker.get_slot("handoff_stage") != "confirming" or not topic or not email:
            dispatcher.utter_message(response="utter_deny")
            return [SlotSet("handoff_stage", None)]
        if not consent_is_current(tracker, HANDOFF_SLOTS, "handoff_summary_digest", SUMMARY_ACTIONS):
            return show_handoff_summary(services, dispatcher, tracker, Texts.of(tracker)("handoff.check_again"))
        key = "|".join([tracker.sender_id, tracker.get_slot("handoff_summary_digest"), date.today().isoformat()])
        try:
            handoff = introductions.handoffs.request(
                conversation_id=tracker.sender_id,
                channel=input_channel(tracker),
                topic=topic,
                email=email,
                idempotency_key=hashlib.sha256(key.encode()).hexdigest(),
            )
        except InvalidRequest as exc:
            dispatcher.utter_message(text=f"Your {'email' if exc.field == 'email' else 'question'} {exc.problem}; nothing was sent.")
            return [SlotSet("handoff_summary_digest", None), SlotSet("handoff_stage", "confirming")]
        except IntroductionError:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        dispatcher.utter_message(text=Texts.of(tracker)("handoff.recorded", reference=handoff.reference, email=handoff.email))
        return _forget()


class ActionDeclineHandoff(GalaxyAction):
    def name(self) -> str:
        return "action_decline_handoff"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff_no_consent", contact=self.context.settings.unossc_contact)
        return _forget()


class ActionCancelHandoff(GalaxyAction):
    def name(self) -> str:
        return "action_cancel_handoff"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff_cancelled", contact=self.context.settings.unossc_contact)
        return _forget() + [SlotSet("requested_slot", None)]


class ActionHandoffStatus(GalaxyAction):
    def name(self) -> str:
        return "action_handoff_status"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        introductions = self.context.introductions
        if introductions is None:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        t = Texts.of(tracker)
        lines = status_lines(services, introductions, tracker.sender_id, t)
        if not introductions.handoffs.for_conversation(tracker.sender_id):
            lines.insert(0, t("status.no_handoffs"))
        dispatcher.utter_message(text="\n".join(lines))
        return []
