"""What the gazetteer's rule-based side finds in a message (SDG numbers, ordinals, the closed
vocabularies and the `old` role), for action tests that feed trackers as the NLU would; countries
and regions come from spaCy inside Rasa, so tests pass those themselves."""
from __future__ import annotations

from typing import Any

from bot.nlu.closed_values import assign_roles, closed_entities
from bot.nlu.gazetteer_patterns import regex_entities


def understood(text: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    found = regex_entities(text) + [dict(e) for e in extra]
    return sorted(assign_roles(text, found) + closed_entities(text), key=lambda e: e["start"])


def place(text: str, phrase: str, entity: str, value: Any) -> dict[str, Any]:
    """An entity for `phrase` as it appears in `text`."""
    start = text.index(phrase)
    return {"entity": entity, "value": value, "start": start, "end": start + len(phrase)}
