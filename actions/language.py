"""The reply language of a conversation: the `language` slot, set every turn (a custom slot mapping,
so it is set before any response is chosen) from a switch request, the language the NLU detected
(bot/nlu/language.py), or, on a conversation's first message, the channel's hint (Telegram's
`language_code`). Short or ambiguous messages and button presses keep the language."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ActionContext
from actions.formatting import payload
from actions.i18n import LANGUAGE_NAMES, SUPPORTED, Texts, language_of

SLOT = "language"


def requested_language(tracker: Tracker) -> str | None:
    """The language a switch request names (the `language` entity), if any; the last one said wins."""
    named = [str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == SLOT]
    named = [code for code in named if code in SUPPORTED]
    return named[-1] if named else None


def detected_language(tracker: Tracker) -> dict[str, Any]:
    found = tracker.latest_message.get(SLOT)
    return found if isinstance(found, dict) else {}


def unsupported_language(tracker: Tracker) -> str | None:
    """The code of a language we do not speak, when the message is clearly written in one."""
    found = detected_language(tracker)
    return str(found.get("detected") or "") or None if found.get("supported") is False else None


def pressed_button(tracker: Tracker) -> bool:
    """Whether the message is the payload of a button the assistant just offered: its words are ours
    (often English search texts), not the user's choice of language."""
    text = (tracker.latest_message.get("text") or "").strip()
    users = [i for i, event in enumerate(tracker.events) if event.get("event") == "user"]
    if not users or not text:
        return False
    earlier = tracker.events[users[-2] + 1 if len(users) > 1 else 0 : users[-1]]
    for event in reversed(earlier):
        if event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            if any(str(b.get("payload") or "").strip() == text for b in buttons):
                return True
    return False


def first_message(tracker: Tracker) -> bool:
    return sum(1 for event in tracker.events if event.get("event") == "user") <= 1


def channel_hint(tracker: Tracker) -> str | None:
    """Telegram's `language_code` (e.g. "fr", "ru-RU"), passed by the bridge in the message metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    code = metadata.get("language_code") if isinstance(metadata, dict) else None
    if not isinstance(code, str) or not code:
        return None
    short = code.strip().lower()[:2]
    return short if short in SUPPORTED else None


def reply_language(tracker: Tracker) -> str:
    """What the slot should be after this message."""
    current = language_of(tracker)
    requested = requested_language(tracker)
    if requested:
        return requested
    code = detected_language(tracker).get("code")
    if code in SUPPORTED and not pressed_button(tracker):
        return str(code)
    if first_message(tracker):
        hint = channel_hint(tracker)
        if hint:
            return hint
    return current


def language_buttons() -> list[dict[str, str]]:
    return [{"title": name, "payload": payload("switch_language", language=code)} for code, name in LANGUAGE_NAMES.items()]


class ActionDetectLanguage(Action):
    """Custom slot mapping of `language` (runs in action_extract_slots after every user message)."""

    def __init__(self, context: ActionContext | None = None) -> None:
        self.context = context

    def name(self) -> str:
        return "action_detect_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        if tracker.get_slot(SLOT) == language:
            return []
        return [SlotSet(SLOT, language)]


class ActionSwitchLanguage(Action):
    """"In French please": confirm in the new language (the slot is already set); "change language"
    without naming one: offer the four."""

    def __init__(self, context: ActionContext | None = None) -> None:
        self.context = context

    def name(self) -> str:
        return "action_switch_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        requested = requested_language(tracker)
        if requested is None:
            dispatcher.utter_message(text=Texts.of(tracker)("language.which"), buttons=language_buttons())
            return []
        t = Texts(requested)
        dispatcher.utter_message(text=t("language.switched"))
        if requested != "en" and not tracker.get_slot("records_note_shown"):
            dispatcher.utter_message(text=t("language.records_note"))
            return [SlotSet(SLOT, requested), SlotSet("records_note_shown", True)]
        return [SlotSet(SLOT, requested)]


def tell_unsupported(dispatcher: CollectingDispatcher) -> None:
    """A message in a language we do not speak: say, in English, which ones we do."""
    dispatcher.utter_message(text=Texts("en")("language.unsupported"), buttons=language_buttons())
