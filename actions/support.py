"""Actions that keep a user from getting stuck: clarification on low-confidence NLU, FAQ
questions the ResponseSelector missed, hand-off to a person, introductions."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, latest_text
from actions.context import ActionContext
from actions.formatting import payload
from actions.search import chosen_record_id
from knowledge.catalogue import Partner, Solution
from knowledge.handoffs import HandoffLog
from knowledge.services import KnowledgeServices
from knowledge.text import words

# What each intent offers as a suggestion when the assistant is unsure.
SUGGESTIONS = {
    "find_solution": ("Find solutions", "find a solution"),
    "find_partner": ("Find partners", "find partner organisations"),
    "faq": ("About the Galaxy", "what is the South-South Galaxy?"),
    "human_handoff": ("Talk to a person", None),
    "help": ("What can you do?", None),
}


class ActionClarify(GalaxyAction):
    """Low NLU confidence: answer from the FAQ when it clearly covers the question, otherwise
    suggest the likely intents instead of guessing."""

    def name(self) -> str:
        return "action_clarify"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        if not words(text):
            dispatcher.utter_message(response="utter_text_only")
            return []
        if services.faq is not None:
            match = services.faq.best(text)
            if match is not None:
                dispatcher.utter_message(text=f"{match.entry.answer}" + (f"\n\nSource: {match.entry.source}" if match.entry.source and match.entry.source.startswith("http") else ""))
                return []
        ranking = [r.get("name") for r in tracker.latest_message.get("intent_ranking", [])]
        buttons = []
        for intent in ranking:
            if intent in SUGGESTIONS and len(buttons) < 3:
                title, _ = SUGGESTIONS[intent]
                buttons.append({"title": title, "payload": payload(intent)})
        for intent in ("find_solution", "find_partner", "help"):
            if len(buttons) < 3 and all(b["payload"] != payload(intent) for b in buttons):
                buttons.append({"title": SUGGESTIONS[intent][0], "payload": payload(intent)})
        dispatcher.utter_message(
            text="I'm not sure I understood. Did you want one of these? You can also describe a development need in a sentence, such as \"solutions for school meals in Africa\".",
            buttons=buttons,
        )
        return []


class ActionFaqFallback(GalaxyAction):
    """A question about the Galaxy that no FAQ answer covers: search the FAQ semantically,
    else say honestly that we do not know and who to ask."""

    def name(self) -> str:
        return "action_faq_fallback"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        match = services.faq.best(latest_text(tracker)) if services.faq else None
        if match is not None:
            dispatcher.utter_message(text=match.entry.answer)
        else:
            dispatcher.utter_message(response="utter_dont_know", contact=self.context.settings.unossc_contact)
        return []


class ActionHumanHandoff(Action):
    def __init__(self, context: ActionContext) -> None:
        self.context = context
        self._log: HandoffLog | None = None

    def name(self) -> str:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if self._log is None:
            self._log = HandoffLog(self.context.settings.state_dir / "handoffs.sqlite3")
        channel = (tracker.get_latest_input_channel() or "unknown")
        reference = self._log.record(tracker.sender_id, channel, latest_text(tracker))
        dispatcher.utter_message(response="utter_handoff", contact=self.context.settings.unossc_contact, reference=f"H-{reference:05d}")
        return []


class ActionRequestIntroduction(GalaxyAction):
    """Confirms which partner the user means. Brokered introductions (form, consent, delivery)
    are not built yet, so the assistant says so and points to UNOSSC rather than pretending."""

    def name(self) -> str:
        return "action_request_introduction"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        record_id = chosen_record_id(tracker) or tracker.get_slot("selected_id")
        partner = self._named_partner(services, tracker) if record_id is None else None
        record = services.retriever.get(record_id) if record_id else partner
        if record is None:
            dispatcher.utter_message(response="utter_which_partner")
            return []
        if isinstance(record, Solution):
            owner = services.retriever.get(record.provider) if record.provider else None
            who = owner.display_name() if isinstance(owner, Partner) else (record.provider_name or "the provider")
            about = f"the team behind **{record.title}** ({who})"
        else:
            about = f"**{record.display_name()}**"
        dispatcher.utter_message(response="utter_introduction_unavailable", about=about, contact=self.context.settings.unossc_contact)
        return [SlotSet("selected_id", record.id)]

    @staticmethod
    def _named_partner(services: KnowledgeServices, tracker: Tracker) -> Partner | None:
        text = latest_text(tracker)
        if not words(text):
            return None
        hits = services.retriever.search(text, kind="partner", top_k=1)
        # Only a partner named outright (acronym or name) counts; a vague match is not a choice.
        if hits and hits[0].score >= 1.0:
            record = hits[0].record
            return record if isinstance(record, Partner) else None
        return None


class ActionIntroductionStatus(Action):
    def __init__(self, context: ActionContext) -> None:
        self.context = context

    def name(self) -> str:
        return "action_introduction_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_no_introductions", contact=self.context.settings.unossc_contact)
        return []
