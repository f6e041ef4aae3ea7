"""Search actions: find solutions or partners, change the filters, page through a list and bring it
back after an aside. The dialogue state (actions/dialogue.py) changes only when a list is shown."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, latest_text, text_without
from actions.dialogue import DialogueState
from actions.details import last_bot_action
from actions.feedback import feedback_buttons, search_ref
from actions.filters import FilterOutcome, FilterRequest, apply, names_goal
from actions.formatting import filters_text, payload, result_block, result_buttons
from knowledge.geo import REGION_LABELS, geography, sdg_name
from knowledge.search import Filters, SearchResult
from knowledge.services import KnowledgeServices
from knowledge.text import words

PAGE_SIZE = 3
# MiniLM cosine below which a record is unrelated even as a "nearest" one (unrelated texts score 0-0.15).
MIN_RELEVANCE = 0.2
# Words that only steer a refinement ("only in Asia", "what about SDG 5", "keep solar") and carry no topic.
_REFINEMENT_WORDS = set(
    """only just now then what how about and also instead rather same but within inside from across
    countries country region regions area areas sdg sdgs goal goals filter filters any every all
    anywhere everywhere worldwide global globally remove clear drop reset without restrict limit narrow
    ones one those these more less there here okay ok yes no please thanks keep keeping leave stay
    change switch replace swap add plus too well everything nothing else results result list search
    searching looking show see topic subject theme pls plz thx hmm hm actually okay ok well right maybe
    perhaps kindly sorry wait oh ah yeah yep sure fine great good instead make try let lets look""".split()
)


# Spans that steer the search rather than describe the need; topic words that only map to a goal
# ("renewable energy") stay topic words.
_STEERING = ("country", "region", "sdg", "operation", "scope", "ordinal")


def leftover_topic(text: str, tracker: Tracker) -> str:
    """The words of a message that are neither entities nor steering words: a new topic, if any."""
    stripped = text_without(tracker, _STEERING, keep=lambda entity, said: not names_goal(entity, said)) if text else ""
    content = [w for w in words(stripped) if w not in _REFINEMENT_WORDS and not w.isdigit()]
    return " ".join(content)


def filter_label(name: str, value: Any) -> str:
    if name == "country":
        return geography().country_name(str(value))
    if name == "region":
        return REGION_LABELS.get(str(value), str(value))
    return f"SDG {value} ({sdg_name(int(value))})"


def state_text(state: DialogueState) -> str:
    noun = "solutions" if state.kind == "solution" else "partners"
    topic = f"{noun} about \"{state.topic}\"" if state.topic else f"no topic yet ({noun})"
    return f"Topic: {topic}. Filters: {filters_text(state.filters) or 'none'}."


def close_matches(results: list[SearchResult]) -> list[SearchResult]:
    return [r for r in results if r.close_match]


def nearest(results: list[SearchResult]) -> list[SearchResult]:
    """Records to offer when nothing is a close match: only those that are at least about the request."""
    return [r for r in results if r.dense >= MIN_RELEVANCE or r.score >= 1.0]


def ranked_page(services: KnowledgeServices, topic: str, kind: str, filters: Filters, offset: int) -> tuple[list[SearchResult], bool, str]:
    """One page of the list for a topic: the close matches in rank order or, when there are none,
    the nearest records; (page, more to come, outcome). Pages count shown items, so paging never
    repeats or skips one."""
    found = services.retriever.search(topic, kind=kind, top_k=offset + PAGE_SIZE + 1, filters=filters)
    sequence = close_matches(found)
    outcome = "match"
    if not sequence:
        sequence = nearest(found)
        outcome = "no_close_match" if sequence else "nothing"
    return sequence[offset : offset + PAGE_SIZE], len(sequence) > offset + PAGE_SIZE, outcome


def back_button(state: DialogueState) -> list[dict[str, str]]:
    return [{"title": "Back to your results", "payload": payload("show_results")}] if state.results and state.topic else []


def run_search(
    services: KnowledgeServices,
    dispatcher: CollectingDispatcher,
    previous: DialogueState,
    *,
    topic: str,
    kind: str,
    filters: Filters,
    note: str = "",
) -> list[dict[str, Any]]:
    """Searches and shows the list; the state changes only when something is shown."""
    noun = "solutions" if kind == "solution" else "partners"
    shown, more, outcome = ranked_page(services, topic, kind, filters, 0)
    if not shown:
        return _nothing(dispatcher, previous, topic=topic, kind=kind, filters=filters, note=note)
    where = f" (filters: {filters_text(filters)})" if filters.any() else ""
    if outcome == "match":
        header = f"{note}Here are the {noun} that best match \"{topic}\"{where}:"
    else:
        header = f"{note}I found no close match for \"{topic}\"{where}. These are the nearest {noun}, which may not fit your need:"
    state = replace(previous, topic=topic, kind=kind, filters=filters, selected=None).with_list([r.id for r in shown], offset=0)
    _show_list(services, dispatcher, state, shown, header=header, more=more)
    if outcome == "no_close_match" and filters.any():
        intent = "find_solution" if kind == "solution" else "find_partner"
        dispatcher.utter_message(
            text="A wider search may find a closer match.",
            buttons=[{"title": "Search without filters", "payload": payload(intent, topic=topic, operation="clear")}],
        )
    return state.events() + [SlotSet("search_outcome", outcome)]


def _nothing(dispatcher: CollectingDispatcher, previous: DialogueState, *, topic: str, kind: str, filters: Filters, note: str) -> list[dict[str, Any]]:
    noun = "solutions" if kind == "solution" else "partners"
    where = f" for {filters_text(filters)}" if filters.any() else ""
    text = f"{note}I found no {noun} about \"{topic}\"{where}."
    buttons: list[dict[str, str]] = []
    if filters.any():
        intent = "find_solution" if kind == "solution" else "find_partner"
        buttons.append({"title": "Search without filters", "payload": payload(intent, topic=topic, operation="clear")})
    if previous.results and previous.topic:
        text += f" Your earlier results on \"{previous.topic}\" are still here."
        buttons += back_button(previous)
    else:
        text += " Try describing the need in other words, or ask about a country, region or SDG."
    buttons.append({"title": "Talk to a person", "payload": payload("human_handoff")})
    dispatcher.utter_message(text=text, buttons=buttons)
    return [SlotSet("search_outcome", "nothing")]


def _show_list(
    services: KnowledgeServices,
    dispatcher: CollectingDispatcher,
    state: DialogueState,
    results: list[SearchResult],
    *,
    header: str,
    more: bool,
) -> None:
    blocks = "\n\n".join(
        result_block(state.offset + rank, result, services.retriever.get) for rank, result in enumerate(results, start=1)
    )
    footer = ""
    if state.filters.any():
        footer = "\n\nSay \"any country\", \"any SDG\" or \"clear the filters\" to widen the search."
    buttons = result_buttons(results, more=more, lookup=services.retriever.get, first_rank=state.offset + 1)
    if state.topic:
        buttons += feedback_buttons(search_ref(state.topic))
    dispatcher.utter_message(text=f"{header}\n\n{blocks}{footer}", buttons=buttons)


class SearchAction(GalaxyAction):
    """A new search: the message is the need. A message that only changes filters ("only in Asia")
    refines the current search instead."""

    kind = "solution"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        text = latest_text(tracker)
        request = FilterRequest.of(tracker, text)
        topic_entity = next((str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "topic" and e.get("value")), None)
        if topic_entity:  # a button ("Search without filters") names its topic
            topic = " ".join(topic_entity.split())[:500]
        elif state.topic and not leftover_topic(text, tracker):
            return await refine(services, dispatcher, tracker, state, request, kind=state.kind)
        elif state.topic and self.kind != state.kind and _points_back(text) and len(leftover_topic(text, tracker).split()) <= 3:
            # "who funds this kind of work?" after a solution search: partners for the same topic
            topic = f"{state.topic} {leftover_topic(text, tracker)}".strip()
        else:
            topic = text
        if not words(topic or ""):
            dispatcher.utter_message(response="utter_ask_topic")
            return []
        outcome = apply(state.filters, request)
        if outcome.conflict:
            return ask_conflict(dispatcher, outcome)
        filters = outcome.filters
        # "Kenya and Uganda" in a need is not one filter: search the need, which names both.
        for name in ("country", "region"):
            if len(request.new.get(name) or []) > 1:
                filters = replace(filters, **{name: None})
        return run_search(services, dispatcher, state, topic=topic, kind=self.kind, filters=filters)


_POINTING_BACK = frozenset("this that these those it such same them".split())


def _points_back(text: str) -> bool:
    return any(w in _POINTING_BACK for w in text.casefold().replace("?", " ").replace(",", " ").split())


def ask_conflict(dispatcher: CollectingDispatcher, outcome: FilterOutcome) -> list[dict[str, Any]]:
    operation = "remove" if outcome.conflict and "remove" in outcome.conflict else "replace"
    buttons = [
        {"title": filter_label(name, value), "payload": payload("refine_search", operation=operation, scope=name) if operation == "remove" else payload("refine_search", operation=operation, **{name: value})}
        for name, value in outcome.choices
    ]
    dispatcher.utter_message(text=outcome.conflict or "Which one do you mean?", buttons=buttons)
    return []


async def refine(
    services: KnowledgeServices,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    state: DialogueState,
    request: FilterRequest,
    *,
    kind: str,
) -> list[dict[str, Any]]:
    """The current search with its filters (and maybe its topic) changed as the message asks."""
    text = latest_text(tracker)
    if request.operation == "list" and not request.changes_anything():
        dispatcher.utter_message(text=state_text(state), buttons=back_button(state))
        return []
    if request.operation is None and request.scopes and not request.new and not request.old and last_bot_action(tracker) == "action_refine_search":
        request = replace(request, operation="remove")  # "the country", answering "Which filter should I remove?"
    outcome = apply(state.filters, request)
    if outcome.conflict:
        return ask_conflict(dispatcher, outcome)
    extra = leftover_topic(text, tracker) if text else ""
    topic = state.topic
    if extra:
        if request.operation in ("replace", "clear") or "topic" in request.scopes or not topic:
            topic = extra
        elif extra not in (topic or ""):
            topic = f"{topic} {extra}"
    elif request.operation in ("clear", "remove") and "topic" in request.scopes:
        topic = None
    if not topic:
        if outcome.filters != state.filters:
            dispatcher.utter_message(text=f"Done. {state_text(replace(state, filters=outcome.filters, topic=None))} What should I look for?")
            return [SlotSet("sdg", outcome.filters.sdg), SlotSet("country", outcome.filters.country), SlotSet("region", outcome.filters.region)]
        dispatcher.utter_message(response="utter_ask_topic")
        return []
    if outcome.filters == state.filters and topic == state.topic and not outcome.unknown:
        if request.changes_anything():
            dispatcher.utter_message(text=f"Nothing to change: {state_text(state)}", buttons=back_button(state))
            return []
    note = ""
    if outcome.unknown:
        note = "I couldn't use part of that (" + "; ".join(outcome.unknown) + "). "
    return run_search(services, dispatcher, state, topic=topic, kind=kind, filters=outcome.filters, note=note)


class ActionSearchSolutions(SearchAction):
    kind = "solution"

    def name(self) -> str:
        return "action_search_solutions"


class ActionSearchPartners(SearchAction):
    kind = "partner"

    def name(self) -> str:
        return "action_search_partners"


class ActionRefineSearch(GalaxyAction):
    """Add, replace, remove, clear or list the filters of the current search."""

    def name(self) -> str:
        return "action_refine_search"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        request = FilterRequest.of(tracker, latest_text(tracker))
        return await refine(services, dispatcher, tracker, state, request, kind=state.kind)


class ActionShowMore(GalaxyAction):
    def name(self) -> str:
        return "action_show_more"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        if not state.topic:
            dispatcher.utter_message(response="utter_nothing_to_page")
            return []
        offset = state.offset + PAGE_SIZE
        shown, more, outcome = ranked_page(services, state.topic, state.kind, state.filters, offset)
        noun = "solutions" if state.kind == "solution" else "partners"
        if not shown:
            closeness = "close matches" if outcome == "match" else noun
            dispatcher.utter_message(text=f"That's all the {closeness} I have for \"{state.topic}\".", buttons=back_button(state))
            return []
        header = f"More {noun} for \"{state.topic}\":" if outcome == "match" else f"More {noun}, not close matches for \"{state.topic}\":"
        new = state.with_list([r.id for r in shown], offset=offset)
        _show_list(services, dispatcher, new, shown, header=header, more=more)
        return new.events()


class ActionShowResults(GalaxyAction):
    """The list the user last saw, again (after an FAQ, an aside or a record's details)."""

    def name(self) -> str:
        return "action_show_results"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        if not state.results:
            dispatcher.utter_message(response="utter_nothing_to_detail")
            return []
        reasons = _reasons(services, state)
        found = [services.retriever.get(i) for i in state.results]
        results = [SearchResult(record=r, score=0.0, why=reasons.get(r.id, "shown earlier")) for r in found if r is not None]
        if not results:
            dispatcher.utter_message(text="Those results are no longer in the catalogue. Tell me what you're looking for.")
            return []
        noun = "solutions" if state.kind == "solution" else "partners"
        header = f"Your results for \"{state.topic}\"" + (f" (filters: {filters_text(state.filters)})" if state.filters.any() else "") + ":" if state.topic else f"The {noun} I showed you:"
        _show_list(services, dispatcher, state, results, header=header, more=bool(state.topic))
        return []


def _reasons(services: KnowledgeServices, state: DialogueState) -> dict[str, str]:
    """Why each record of the list matched its topic, from one search."""
    if not state.topic:
        return {}
    ranked = services.retriever.search(state.topic, kind=state.kind, top_k=state.offset + PAGE_SIZE + 1, filters=state.filters)
    return {result.id: result.why for result in ranked}
