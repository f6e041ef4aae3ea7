"""Search actions: find solutions or partners, page through them, open one."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, latest_entities, latest_text
from actions.formatting import details_text, filters_text, payload, result_block, result_buttons
from knowledge.catalogue import Record
from knowledge.geo import fold, sdgs
from knowledge.search import Filters, FilterError, SearchResult
from knowledge.services import KnowledgeServices
from knowledge.text import words

PAGE_SIZE = 3
# MiniLM cosine below which a result is not about the request (unrelated texts score about 0-0.15).
MIN_RELEVANCE = 0.2
MAX_SHOWN_MEMORY = 200
# Words that only steer a refinement ("only in Asia", "what about SDG 5") and carry no topic.
_REFINEMENT_WORDS = set(
    """only just now then what how about and also instead rather same but within inside from across
    countries country region regions area areas sdg sdgs goal goals filter filters any every all
    anywhere everywhere worldwide global globally remove clear drop reset without restrict limit narrow
    ones one those these more less there here okay ok yes no please thanks""".split()
)
_CLEAR = re.compile(
    r"\b(any|all|every|no|other)\s+(country|countries|region|regions|where|sdgs?|goals?|filters?|topics?)\b"
    r"|\b(anywhere|everywhere|worldwide|globally)\b"
    r"|\b(remove|clear|drop|reset|without|forget)\b[^.?!]*\b(filters?|country|countries|region|regions|sdgs?|goals?)\b",
    re.IGNORECASE,
)


def _names_goal(entity: dict[str, Any], text: str) -> bool:
    """An `sdg` entity is a filter only when the goal is named outright ("SDG 7", "goal six",
    "Climate Action"); topic words the gazetteer also maps to a goal ("renewable energy",
    "hunger") describe the need and are searched for, not filtered on."""
    if entity.get("entity") != "sdg":
        return True
    if "start" not in entity or "end" not in entity:
        return True  # from a button payload
    span = text[entity["start"] : entity["end"]]
    if re.search(r"\d|\bsdgs?\b|\bgoal\b", span, re.IGNORECASE):
        return True
    try:
        goal = sdgs().get(int(entity.get("value")))
    except (TypeError, ValueError):
        return False
    return goal is not None and fold(span) == fold(goal.name)


def _filter_entities(tracker: Tracker, name: str, text: str) -> list[Any]:
    return [
        e.get("value")
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == name and _names_goal(e, text)
    ]


def _is_refinement(text: str, tracker: Tracker) -> bool:
    """True when the message only changes filters of the previous search."""
    if not tracker.get_slot("last_query"):
        return False
    if not text:  # a button payload: keep the previous topic
        return True
    stripped = text
    entities = [e for e in tracker.latest_message.get("entities", []) if _names_goal(e, text)]
    for entity in sorted(entities, key=lambda e: -int(e.get("start", 0))):
        if "start" in entity and "end" in entity:
            stripped = stripped[: entity["start"]] + " " + stripped[entity["end"] :]
    content = [w for w in words(stripped) if w not in _REFINEMENT_WORDS and not w.isdigit()]
    return not content


def _filters_after(text: str, tracker: Tracker) -> tuple[Filters, list[dict[str, Any]]]:
    """The filters for this turn: the persisted ones, changed by what the user just said."""
    sdg, country, region = tracker.get_slot("sdg"), tracker.get_slot("country"), tracker.get_slot("region")
    new_sdg = _filter_entities(tracker, "sdg", text) if text else latest_entities(tracker, "sdg")
    new_country, new_region = latest_entities(tracker, "country"), latest_entities(tracker, "region")
    clear = _CLEAR.search(text)
    if clear:
        said = clear.group(0).lower()
        everything = "filter" in said or any(w in said for w in ("anywhere", "everywhere", "worldwide", "globally"))
        if everything or "countr" in said or "where" in said or "region" in said:
            country = region = None
        if everything or "sdg" in said or "goal" in said or "topic" in said:
            sdg = None
    if new_country:
        country, region = new_country[-1], (new_region[-1] if new_region else None)
    elif new_region:
        region, country = new_region[-1], None
    if new_sdg:
        sdg = new_sdg[-1]
    try:
        sdg_value = int(sdg) if sdg not in (None, "") else None
    except (TypeError, ValueError):
        sdg_value = None
    filters = Filters(sdg=sdg_value, country=country, region=region)
    events = [SlotSet("sdg", filters.sdg), SlotSet("country", filters.country), SlotSet("region", filters.region)]
    return filters, events


class SearchAction(GalaxyAction):
    kind = "solution"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        refinement = _is_refinement(text, tracker)
        query = tracker.get_slot("last_query") if refinement else text
        kind = (tracker.get_slot("last_kind") or self.kind) if refinement else self.kind
        if not words(query or ""):
            dispatcher.utter_message(response="utter_ask_topic")
            return []
        filters, events = _filters_after(text, tracker)
        try:
            filters = filters.validated()
        except FilterError:
            filters = Filters()
            events = [SlotSet("sdg", None), SlotSet("country", None), SlotSet("region", None)]
        results = relevant(services.retriever.search(query, kind=kind, top_k=PAGE_SIZE + 1, filters=filters))
        note = ""
        if not results and filters.any():
            note = f"I found nothing for {filters_text(filters)}, so here are the closest matches from anywhere:\n\n"
            results = relevant(services.retriever.search(query, kind=kind, top_k=PAGE_SIZE + 1))
        events += [SlotSet("last_query", query), SlotSet("last_kind", kind), SlotSet("result_offset", 0.0)]
        return events + present(services, dispatcher, tracker, results, kind=kind, filters=filters, note=note, offset=0)


def slot_filters(tracker: Tracker) -> Filters:
    """The filters the conversation holds (validated; none when a stored value is unusable)."""
    try:
        sdg = tracker.get_slot("sdg")
        return Filters(
            sdg=int(sdg) if sdg not in (None, "") else None,
            country=tracker.get_slot("country"),
            region=tracker.get_slot("region"),
        ).validated()
    except (FilterError, TypeError, ValueError):
        return Filters()


def relevant(results: list[SearchResult]) -> list[SearchResult]:
    """Drop results that only share a stray word with the request; named partners always stay."""
    return [r for r in results if r.dense >= MIN_RELEVANCE or r.score >= 1.0]


def present(
    services: KnowledgeServices,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    results: list[SearchResult],
    *,
    kind: str,
    filters: Filters,
    note: str,
    offset: int,
) -> list[dict[str, Any]]:
    noun = "solutions" if kind == "solution" else "partners"
    if not results:
        dispatcher.utter_message(
            text=(f"I couldn't find more {noun} for that." if offset else f"I couldn't find {noun} for that. Try describing the need in other words, or ask about a country, region or SDG."),
            buttons=[{"title": "Talk to a person", "payload": payload("human_handoff")}],
        )
        return [SlotSet("last_results", [])] if not offset else []
    more = len(results) > PAGE_SIZE and not note
    results = results[:PAGE_SIZE]
    header = f"Here are the {noun} that best match" + (f" (filters: {filters_text(filters)})" if filters.any() and not note else "") + ":"
    if offset:
        header = f"More {noun}:"
    blocks = "\n\n".join(result_block(rank, result, services.retriever.get) for rank, result in enumerate(results, start=1))
    footer = "\n\nSay \"any country\" or \"any SDG\" to widen the search." if filters.any() and not note else ""
    dispatcher.utter_message(text=f"{note}{header}\n\n{blocks}{footer}", buttons=result_buttons(results, more=more))
    ids = [r.id for r in results]
    shown = [i for i in (tracker.get_slot("shown_ids") or []) if i not in ids] + ids
    return [SlotSet("last_results", ids), SlotSet("shown_ids", shown[-MAX_SHOWN_MEMORY:]), SlotSet("result_offset", float(offset))]


class ActionSearchSolutions(SearchAction):
    kind = "solution"

    def name(self) -> str:
        return "action_search_solutions"


class ActionSearchPartners(SearchAction):
    kind = "partner"

    def name(self) -> str:
        return "action_search_partners"


class ActionShowMore(GalaxyAction):
    def name(self) -> str:
        return "action_show_more"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        query = tracker.get_slot("last_query")
        if not query:
            dispatcher.utter_message(response="utter_nothing_to_page")
            return []
        kind = tracker.get_slot("last_kind") or "solution"
        offset = int(tracker.get_slot("result_offset") or 0) + PAGE_SIZE
        filters = slot_filters(tracker)
        shown = tracker.get_slot("last_results") or []
        if filters.any() and shown and not any(services.retriever.matches(i, filters) for i in shown):
            filters = Filters()  # the list on screen was the "from anywhere" fallback: page that one
        results = relevant(services.retriever.search(query, kind=kind, top_k=PAGE_SIZE + 1, filters=filters, offset=offset))
        return present(services, dispatcher, tracker, results, kind=kind, filters=filters, note="", offset=offset)


def chosen_record_id(tracker: Tracker) -> str | None:
    """The record the user points at: an ordinal within the last list, or a title mention.
    Only ids the assistant has shown can be chosen, so forged payloads select nothing else."""
    last = list(tracker.get_slot("last_results") or [])
    if not last:
        return None
    ordinals = latest_entities(tracker, "ordinal")
    if ordinals:
        try:
            number = int(ordinals[-1])
        except (TypeError, ValueError):
            return None
        if number == -1:
            return last[-1]
        return last[number - 1] if 1 <= number <= len(last) else None
    if len(last) == 1:
        return last[0]
    return None


class ActionShowDetails(GalaxyAction):
    def name(self) -> str:
        return "action_show_details"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        linked = self._linked(services, tracker)
        if linked is not None:
            # A deep link names the record: it becomes the one shown, so "connect me" can follow.
            return self._show(services, dispatcher, tracker, linked) + [SlotSet("last_results", [linked.id])]
        last = list(tracker.get_slot("last_results") or [])
        record_id = chosen_record_id(tracker) or self._by_title(services, tracker, last)
        if not last:
            dispatcher.utter_message(response="utter_nothing_to_detail")
            return []
        if record_id is None:
            buttons = [{"title": f"Details of {i}", "payload": payload("show_details", ordinal=i)} for i in range(1, len(last) + 1)]
            dispatcher.utter_message(text=f"Which one? I showed {len(last)} result(s); pick a number.", buttons=buttons)
            return []
        record = services.retriever.get(record_id)
        if record is None:
            dispatcher.utter_message(text="That item is no longer in the catalogue. Try a new search.")
            return []
        return self._show(services, dispatcher, tracker, record)

    @staticmethod
    def _show(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, record: Record) -> list[dict[str, Any]]:
        buttons = [{"title": "Connect me with them", "payload": payload("request_introduction")}]
        if tracker.get_slot("last_query"):
            buttons.insert(0, {"title": "Back to more results", "payload": payload("show_more")})
        dispatcher.utter_message(text=details_text(record, services.retriever.get), buttons=buttons)
        return [SlotSet("selected_id", record.id)]

    @staticmethod
    def _linked(services: KnowledgeServices, tracker: Tracker) -> Record | None:
        """The public catalogue record a deep link names (entity record_id), if it exists."""
        for value in reversed(latest_entities(tracker, "record_id")):
            record = services.retriever.get(str(value)) if isinstance(value, str) else None
            if record is not None:
                return record
        return None

    @staticmethod
    def _by_title(services: KnowledgeServices, tracker: Tracker, last: list[str]) -> str | None:
        text = latest_text(tracker).casefold()
        for record_id in last:
            record = services.retriever.get(record_id)
            if record and len(record.title) > 3 and record.title.casefold() in text:
                return record_id
        return None
