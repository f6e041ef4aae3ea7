"""Shared behaviour of the Galaxy actions: access to the knowledge services and a friendly
answer when they are not available, instead of silence."""
from __future__ import annotations

import logging
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ActionContext
from knowledge.services import KnowledgeServices

logger = logging.getLogger(__name__)


# An ordinal that counts something else than the items on screen ("when did the second phase start?",
# "la deuxième phase", "второй этап", "المرحلة الثانية") is no reference to an item
_COUNTS_OTHER = re.compile(
    r"^\W*(?:phases?|stages?|steps?|years?|rounds?|editions?|cohorts?|times?|waves?|parts?|halves|half|quarters?|terms?|batch(?:es)?"
    r"|étapes?|éditions?|années?|fois|vagues?|этап\w*|фаз\w*|год\w*|раунд\w*|волн\w*|раз)\b",
    re.IGNORECASE,
)
_COUNTED_BEFORE = re.compile(r"(?:phase|étape|المرحلة|الدورة|الجولة|السنة)\s*$", re.IGNORECASE)


def without_counting_ordinals(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The entities without the ordinals that count phases, years or times rather than items."""
    kept = []
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if entity.get("entity") == "ordinal" and isinstance(start, int) and isinstance(end, int) and (
            _COUNTS_OTHER.match(text[end:]) or _COUNTED_BEFORE.search(text[:start])
        ):
            continue
        kept.append(entity)
    return kept


def ends_as_question(text: str | None) -> bool:
    """Whether a message ends with a question mark, the Arabic one included."""
    return (text or "").rstrip().endswith(("?", "؟"))


class GalaxyAction(Action, ABC):
    """Base of every action that needs the knowledge services. Never registered itself."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.context.ready:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        tracker.latest_message["entities"] = without_counting_ordinals(usable_entities(tracker.latest_message.get("entities")), tracker.latest_message.get("text") or "")
        try:
            return await self.act(self.context.require(), dispatcher, tracker, domain)
        except Exception:  # the user gets an apology; the details go to the log
            logger.exception("action %s failed", self.name())
            if self.context.metrics is not None:
                self.context.metrics.error(self.name())
            dispatcher.utter_message(response="utter_service_unavailable")
            return []

    @abstractmethod
    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        ...


MAX_ENTITY_TEXT = 500
MAX_ENTITY_NUMBER = 10**6


def _usable_value(value: Any, depth: int = 0) -> bool:
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) <= MAX_ENTITY_NUMBER
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) <= MAX_ENTITY_NUMBER
    if isinstance(value, str):
        return len(value) <= MAX_ENTITY_TEXT
    if isinstance(value, list) and depth == 0:
        return len(value) <= 20 and all(_usable_value(v, 1) for v in value)
    return False


def usable_entities(entities: Any) -> list[dict[str, Any]]:
    """The entities a message can carry: a forged payload (`/show_details{"ordinal": 1e309}`, nested
    objects, huge numbers or texts, spans that are not numbers) loses what no action can read."""
    if not isinstance(entities, list):
        return []
    kept = []
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("entity"), str) or not _usable_value(entity.get("value")):
            continue
        if not all(isinstance(entity.get(k), int) and not isinstance(entity.get(k), bool) for k in ("start", "end") if k in entity):
            entity = {k: v for k, v in entity.items() if k not in ("start", "end")}
        kept.append(entity)
    return kept


def latest_entities(tracker: Tracker, name: str) -> list[Any]:
    return [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == name]


_PAYLOAD = re.compile(r"^/\w[\w/]*(\{.*\})?$", re.DOTALL)


def latest_text(tracker: Tracker) -> str:
    """What the user typed; empty for button payloads ("/show_more", '/find_solution{...}'),
    which carry an intent and entities but no words to search for."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if _PAYLOAD.match(text) else text


def text_without(tracker: Tracker, names: tuple[str, ...], keep: "Callable[[dict[str, Any], str], bool] | None" = None) -> str:
    """What the user typed with the spans of these entities blanked (so "how long" is not a description);
    `keep(entity, text)` spares an entity whose words still count."""
    text = latest_text(tracker)
    spans = [
        (int(e["start"]), int(e["end"]))
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") in names and "start" in e and "end" in e and not (keep and keep(e, text))
    ]
    return blank_spans(text, spans)


def blank_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with each span replaced by a space; overlapping spans ("Which filters" and "filters") are
    blanked once, so no word beside them is cut."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + " " + text[end:]
    return text


# Channels that relay through Rasa's REST channel name themselves in the message metadata.
RELAYED_CHANNELS = frozenset({"telegram"})


def input_channel(tracker: Tracker) -> str:
    """The channel the user is on: a relaying bridge's own name (Telegram), else Rasa's channel name."""
    metadata = tracker.latest_message.get("metadata") or {}
    relayed = metadata.get("channel") if isinstance(metadata, dict) else None
    if relayed in RELAYED_CHANNELS:
        return str(relayed)
    return tracker.get_latest_input_channel() or "unknown"
