"""What the gazetteer's rule-based side finds in a message (SDG numbers, ordinals, the closed
vocabularies and the `old` role), for action tests that feed trackers as the NLU would; countries
and regions come from spaCy inside Rasa, so tests pass those themselves."""
from __future__ import annotations

from typing import Any

from knowledge.closed_values import assign_roles, closed_entities
from bot.nlu.gazetteer_patterns import regex_entities


USES = {"refine_search": ("operation", "scope"), "ask_record": ("attribute",)}  # as bot/nlu/dialogue_vocabulary.py


def understood(text: str, *extra: dict[str, Any], intent: str | None = None) -> list[dict[str, Any]]:
    """Entities as the pipeline gives them; `intent` limits the closed vocabularies as the pipeline does
    (None: all of them)."""
    found = regex_entities(text) + [dict(e) for e in extra]
    taken = [(e["start"], e["end"]) for e in found if "start" in e]
    closed = [
        e
        for e in closed_entities(text)
        if (intent is None or e["entity"] in USES.get(intent, ())) and not any(s < e["end"] and e["start"] < t for s, t in taken)
    ]
    return sorted(assign_roles(text, found) + closed, key=lambda e: e["start"])


def place(text: str, phrase: str, entity: str, value: Any) -> dict[str, Any]:
    """An entity for `phrase` as it appears in `text`."""
    start = text.index(phrase)
    return {"entity": entity, "value": value, "start": start, "end": start + len(phrase)}
