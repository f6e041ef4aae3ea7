"""Answer feedback: 👍/👎 buttons under a result list or an FAQ answer (`feedback_buttons`), the action that
stores the rating with the answer shown (`action_record_feedback`), and, after a 👎 and the optional one-line
reason asked by `feedback_form`, the action that stores the reason and thanks (`action_save_feedback_reason`).

A button's `answer` is an opaque reference of what was shown ("search:<query>", "faq:<key>"). It is trusted
only if this conversation was shown that answer (its own bot messages carry the button, or its search or
FAQ answer is in the tracker); otherwise the rating is stored as unverified and never counted. The
conversation is always the tracker's own: a payload cannot rate in another conversation.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, input_channel, latest_entities
from actions.i18n import Texts
from knowledge.services import KnowledgeServices

logger = logging.getLogger(__name__)

RATINGS = ("up", "down")
FEEDBACK_INTENT = "feedback"
SKIPPED = "-"  # feedback_reason when the user pressed Skip
SEARCH_ACTIONS = ("action_search_solutions", "action_search_partners", "action_refine_search")


def feedback_payload(rating: str, answer_ref: str) -> str:
    return f"/{FEEDBACK_INTENT}" + json.dumps({"rating": rating, "answer": answer_ref}, ensure_ascii=False, separators=(",", ":"))


def feedback_buttons(answer_ref: str) -> list[dict[str, str]]:
    """The 👍 and 👎 buttons for an answer, e.g. `feedback_buttons("search:" + query)` or `("faq:" + key)`."""
    return [
        {"title": "👍", "payload": feedback_payload("up", answer_ref)},
        {"title": "👎", "payload": feedback_payload("down", answer_ref)},
    ]


def search_ref(query: str) -> str:
    return f"search:{' '.join(query.split())}"


def faq_ref(key: str) -> str:
    return f"faq:{key}"


def _button_refs(event: dict[str, Any]) -> list[str]:
    data = event.get("data") or {}
    refs = []
    for button in data.get("buttons") or []:
        text = str((button or {}).get("payload") or "")
        if text.startswith(f"/{FEEDBACK_INTENT}{{"):
            try:
                answer = json.loads(text[len(FEEDBACK_INTENT) + 1 :]).get("answer")
            except (ValueError, AttributeError):
                continue
            if isinstance(answer, str):
                refs.append(answer)
    return refs


def faq_just_answered(tracker: Any) -> str | None:
    """The FAQ entry the assistant's last message answered (its feedback buttons name it), None when the
    last thing said was something else."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None
            seen_user = True  # the message being answered now; the bot's messages before it come next
        elif kind == "bot" and seen_user:
            refs = [r for r in _button_refs(event) if r.startswith("faq:")]
            return refs[-1][len("faq:") :] if refs else None
    return None


def shown_answers(events: list[dict[str, Any]]) -> list[str]:
    """References of the answers this conversation was shown, oldest first: feedback buttons in its bot
    messages, FAQ answers it got (utter_faq/<key>), searches it ran (last_query set by a search action)."""
    shown: list[str] = []
    after_search = False
    for event in events:
        kind = event.get("event")
        if kind == "bot":
            shown.extend(_button_refs(event))
            utter = (event.get("metadata") or {}).get("utter_action")
            if isinstance(utter, str) and utter.startswith("utter_faq/"):
                shown.append(faq_ref(utter.split("/", 1)[1]))
        elif kind == "action":
            after_search = event.get("name") in SEARCH_ACTIONS
        elif kind == "slot" and after_search and event.get("name") == "last_query" and event.get("value"):
            shown.append(search_ref(str(event["value"])))
        elif kind == "user":
            after_search = False
    return shown


class ActionRecordFeedback(GalaxyAction):
    """Stores a 👍/👎 for the answer it names (or, typed without buttons, offers them for the latest answer);
    a verified 👎 then asks for a reason (feedback_form)."""

    def name(self) -> str:
        return "action_record_feedback"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        t = Texts.of(tracker)
        ratings = [r for r in latest_entities(tracker, "rating") if r in RATINGS]
        answers = [a for a in latest_entities(tracker, "answer") if isinstance(a, str) and a.strip()]
        shown = shown_answers(tracker.events)
        if not ratings:
            if not shown:
                dispatcher.utter_message(text=t("feedback.nothing_to_rate"))
            else:
                dispatcher.utter_message(text=t("feedback.was_it_helpful"), buttons=feedback_buttons(shown[-1]))
            return [SlotSet("feedback_stage", "done")]
        rating = ratings[0]
        answer = answers[0].strip() if answers else (shown[-1] if shown else "")
        if not answer:
            dispatcher.utter_message(text=t("feedback.nothing_to_rate"))
            return [SlotSet("feedback_stage", "done")]
        verified = answer in shown
        introductions = self.context.introductions
        if introductions is None:
            dispatcher.utter_message(text=t("feedback.not_saved"))
            return [SlotSet("feedback_stage", "done")]
        try:
            row = introductions.feedback.record(tracker.sender_id, input_channel(tracker), rating, answer, verified=verified)
        except Exception as exc:  # noqa: BLE001 - feedback must never break the conversation
            logger.error("feedback not stored: %s", type(exc).__name__)
            dispatcher.utter_message(text=t("feedback.not_saved"))
            return [SlotSet("feedback_stage", "done")]
        if not verified:
            logger.info("feedback on an answer this conversation was not shown: stored unverified")
        if rating == "down" and verified:
            return [SlotSet("feedback_id", row.id), SlotSet("feedback_reason", None), SlotSet("feedback_stage", "reason")]
        dispatcher.utter_message(response="utter_feedback_thanks")
        return [SlotSet("feedback_id", None), SlotSet("feedback_stage", "done")]


class ActionSaveFeedbackReason(GalaxyAction):
    """After feedback_form: stores the one-line reason of a 👎 (unless skipped) and thanks."""

    def name(self) -> str:
        return "action_save_feedback_reason"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        reason = str(tracker.get_slot("feedback_reason") or "").strip()
        feedback_id = tracker.get_slot("feedback_id")
        skipped = reason in ("", SKIPPED) or (tracker.latest_message.get("intent") or {}).get("name") in ("skip", "deny")
        introductions = self.context.introductions
        if not skipped and introductions is not None and isinstance(feedback_id, int):
            try:
                introductions.feedback.add_reason(feedback_id, tracker.sender_id, reason)
            except Exception as exc:  # noqa: BLE001
                logger.error("feedback reason not stored: %s", type(exc).__name__)
        dispatcher.utter_message(response="utter_feedback_thanks")
        return [SlotSet("feedback_reason", None), SlotSet("feedback_id", None), SlotSet("feedback_stage", "done")]
