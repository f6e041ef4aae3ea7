"""The dialogue state of a search conversation, read from and written to Rasa slots in one place.

What the user is working on (topic, kind, filters), the list on screen and the record they opened
stay until the user changes them: asides (an FAQ, chit-chat, an out-of-scope question, a search
that finds nothing) read the state but never write it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from knowledge.search import FilterError, Filters

MAX_SHOWN_MEMORY = 200


def _filters(tracker: Tracker) -> Filters:
    try:
        sdg = tracker.get_slot("sdg")
        return Filters(
            sdg=int(sdg) if sdg not in (None, "") else None,
            country=tracker.get_slot("country"),
            region=tracker.get_slot("region"),
            places=tuple(tracker.get_slot("places") or ()),
            exclude=tuple(tracker.get_slot("excluded_countries") or ()),
        ).validated()
    except (FilterError, TypeError, ValueError):
        return Filters()


def filter_events(filters: Filters) -> list[dict[str, Any]]:
    """The slot events that store the filters."""
    return [
        SlotSet("sdg", filters.sdg),
        SlotSet("country", filters.country),
        SlotSet("region", filters.region),
        SlotSet("places", list(filters.places) or None),
        SlotSet("excluded_countries", list(filters.exclude) or None),
    ]


@dataclass(frozen=True)
class DialogueState:
    topic: str | None = None  # the need the list answers (slot last_query)
    kind: str = "solution"  # solution | partner
    filters: Filters = field(default_factory=Filters)
    results: tuple[str, ...] = ()  # ids of the list on screen, in order
    offset: int = 0  # where that list starts in the ranking
    selected: str | None = None  # the record the user opened or acted on
    shown: tuple[str, ...] = ()  # every id shown in this conversation (forged payloads select nothing else)

    @classmethod
    def of(cls, tracker: Tracker) -> "DialogueState":
        kind = tracker.get_slot("last_kind")
        return cls(
            topic=tracker.get_slot("last_query") or None,
            kind=kind if kind in ("solution", "partner") else "solution",
            filters=_filters(tracker),
            results=tuple(tracker.get_slot("last_results") or ()),
            offset=int(float(tracker.get_slot("result_offset") or 0)),
            selected=tracker.get_slot("selected_id") or None,
            shown=tuple(tracker.get_slot("shown_ids") or ()),
        )

    def with_list(self, ids: list[str], *, offset: int) -> "DialogueState":
        shown = [i for i in self.shown if i not in ids] + list(ids)
        return replace(self, results=tuple(ids), offset=offset, shown=tuple(shown[-MAX_SHOWN_MEMORY:]))

    def events(self) -> list[dict[str, Any]]:
        """The slot events that store this state (all of it: callers pass a complete state)."""
        return [
            SlotSet("last_query", self.topic),
            SlotSet("last_kind", self.kind),
            *filter_events(self.filters),
            SlotSet("last_results", list(self.results)),
            SlotSet("result_offset", float(self.offset)),
            SlotSet("selected_id", self.selected),
            SlotSet("shown_ids", list(self.shown)),
        ]

    def was_shown(self, record_id: str | None) -> bool:
        return bool(record_id) and (record_id in self.shown or record_id in self.results)
