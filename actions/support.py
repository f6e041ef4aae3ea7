"""Actions that keep a user from getting stuck: clarification on low-confidence NLU, FAQ
questions the ResponseSelector missed (the hand-off to a person is actions/handoffs.py)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, latest_text
from actions.formatting import payload
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


WEBINAR_WELCOME = (
    "Welcome, and thank you for joining the South-South Galaxy webinar! I'm the Galaxy's assistant. "
    "Here are the questions attendees ask most; press one, or ask your own. I can also find solutions "
    "and partners for a need, for example \"solutions for water scarcity in the Arab region\"."
)
WEBINAR_QUESTIONS = 5


class ActionWebinarWelcome(GalaxyAction):
    """Webinar entry point (web page or Telegram start=webinar): a short welcome and the top FAQ
    questions as buttons. A button sends the question's text, so the answer comes from the FAQ model."""

    def name(self) -> str:
        return "action_webinar_welcome"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        entries = services.faq.entries if services.faq else []
        ranked = sorted((e for e in entries if e.webinar_rank), key=lambda e: e.webinar_rank or 0)[:WEBINAR_QUESTIONS]
        buttons = [{"title": entry.question, "payload": entry.question} for entry in ranked]
        buttons.append({"title": "Find solutions", "payload": payload("find_solution")})
        dispatcher.utter_message(text=WEBINAR_WELCOME, buttons=buttons)
        return []
