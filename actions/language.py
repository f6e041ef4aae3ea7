"""The reply language of a conversation: the `language` slot, set every turn (a custom slot mapping,
so it is set before any response is chosen) from a switch request, the language the NLU detected
(bot/nlu/language.py), or, on a conversation's first message, the channel's hint (Telegram's
`language_code`). Short or ambiguous messages and button presses keep the language."""
from __future__ import annotations

import re
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
        events = [SlotSet(SLOT, requested)]
        if requested != "en" and not tracker.get_slot("records_note_shown"):
            dispatcher.utter_message(text=t("language.records_note"))
            events.append(SlotSet("records_note_shown", True))
        asked = _asked_beside(tracker)
        if asked is not None and self.context is not None and self.context.services is not None:
            # "D'accord, je continue en français : quels ODD pour le réseau GN-SEC ?": the question is answered
            # too, in the new language, as any message is that may ask about the list or search
            from actions.base import ends_as_question
            from actions.search import ActionSearchPartners, ActionSearchSolutions, search_if_a_need

            rest = _with_text(tracker, asked, {**tracker.slots, SLOT: requested, "records_note_shown": True})
            services = self.context.services
            if ends_as_question(rest.latest_message["text"]):
                search = ActionSearchPartners if tracker.get_slot("last_kind") == "partner" else ActionSearchSolutions
                events += await search(self.context).act(services, dispatcher, rest, domain)
            else:  # "… in French from now on. Thanks for your help!": a need only when the catalogue answers it closely
                events += await search_if_a_need(ActionSearchSolutions(self.context), services, dispatcher, rest, domain) or []
        return events


# A switch request and a question in one message ("Let me switch to English for my editor. Which of these two
# has Chinese involvement?"): the sentences or the clause after a colon that do not name the language
_PARTS = re.compile(r"(?<=[.!?:;؟])\s+")
_FEWEST_WORDS = 3


def _asked_beside(tracker: Tracker) -> tuple[int, int] | None:
    """Where the message asks something besides the switch: the span of its last part that does not name
    a language and has a few words, or None."""
    text = tracker.latest_message.get("text") or ""
    if text.startswith("/"):
        return None
    named = [(e["start"], e["end"]) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == SLOT and isinstance(e.get("start"), int)]
    bounds = [0] + [m.end() for m in _PARTS.finditer(text)] + [len(text)]
    for start, end in reversed(list(zip(bounds, bounds[1:]))):
        part = text[start:end].strip()
        if any(start <= s < end for s, _ in named):
            return None  # the part that asks for the language: nothing after it
        if len(re.findall(r"[^\W\d_]+", part)) >= _FEWEST_WORDS:
            return start, end
    return None


def _with_text(tracker: Tracker, span: tuple[int, int], slots: dict[str, Any]) -> Tracker:
    """The tracker as if the user had sent only `span` of their message (its entities moved with it)."""
    start, end = span
    part = (tracker.latest_message.get("text") or "")[start:end]
    shift = start + len(part) - len(part.lstrip())
    latest = dict(tracker.latest_message)
    latest["text"] = part.strip()
    latest["entities"] = [
        {**e, "start": e["start"] - shift, "end": e["end"] - shift}
        for e in tracker.latest_message.get("entities") or []
        if isinstance(e.get("start"), int) and isinstance(e.get("end"), int) and start <= e["start"] and e["end"] <= end and e.get("entity") != SLOT
    ]
    copy = tracker.copy()
    copy.latest_message = latest
    copy.slots = slots
    return copy


def tell_unsupported(dispatcher: CollectingDispatcher) -> None:
    """A message in a language we do not speak: say, in English, which ones we do."""
    dispatcher.utter_message(text=Texts("en")("language.unsupported"), buttons=language_buttons())
