"""One record: its details ("tell me about the Kenya one") and questions about it ("who paid for it?")."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, latest_entities, latest_text, text_without
from actions.compare import answer_comparison
from actions.dialogue import DialogueState
from actions.filters import FilterRequest, apply
from actions.formatting import ENGLISH, details_text, filters_text, payload
from actions.i18n import Texts
from actions.record_questions import ATTRIBUTES, answer_about_first, answer_fields, asked_fields, open_or_answer, record_buttons
from actions.references import EARLIER_SHOWN, Reference, choice_buttons, describe_match, describes_something, description_of, named_phrase, names_an_item, resolve
from actions.search import back_to_results, close_matches, nearest, ranked_page, refine, run_search, search_if_a_need
from actions.support import answer_faq_follow_up, faq_selected, reply_with_faq
from knowledge.catalogue import Record
from knowledge.multilingual import is_foreign
from knowledge.search import Filters
from knowledge.services import KnowledgeServices


def explain_reference(dispatcher: CollectingDispatcher, services: KnowledgeServices, state: DialogueState, reference: Reference, intent: str, t: Texts = ENGLISH) -> None:
    """Why no single record was chosen, with what the user can do next."""
    if reference.candidates:
        buttons = choice_buttons(reference.candidates, state, services.retriever.get, lambda rank: payload(intent, ordinal=rank))
        dispatcher.utter_message(text=t("records.several"), buttons=buttons)
    elif reference.out_of_range is not None and state.results:
        count = len(state.results)
        first = state.offset + 1
        dispatcher.utter_message(
            text=t("records.only_showed", count=count, first=first, last=state.offset + count) if count != 1 else t("records.only_showed_one", first=first, last=state.offset + count),
            buttons=choice_buttons(state.results, state, services.retriever.get, lambda rank: payload(intent, ordinal=rank)),
        )
    elif state.results:
        dispatcher.utter_message(
            text=t("records.which", count=len(state.results)),
            buttons=choice_buttons(state.results, state, services.retriever.get, lambda rank: payload(intent, ordinal=rank)),
        )
    else:
        dispatcher.utter_message(response="utter_nothing_to_detail")


def list_moved_to(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, state: DialogueState, t: Texts = ENGLISH) -> tuple[DialogueState, list[dict[str, Any]]]:
    """"Go back to East Africa and open the second one", "widen to all of Europe and the CIS and tell me
    about the second": an ordinal said with a place the filters are not on is about the list of the same
    topic in that place. That list becomes the one on screen (said in a line), then the ordinal is read
    against it. The state unchanged when the message names no such place or that list would be empty."""
    if not state.topic or not latest_entities(tracker, "ordinal"):
        return state, []
    text = latest_text(tracker) or ""
    # the places said before the ordinal: "open the second one. Did India fund it?" asks about India
    entities = tracker.latest_message.get("entities") or []
    ordinal_at = min((e["start"] for e in entities if e.get("entity") == "ordinal" and isinstance(e.get("start"), int)), default=None)
    if ordinal_at is not None:
        entities = [e for e in entities if not isinstance(e.get("start"), int) or e["start"] < ordinal_at]
    request = FilterRequest.of_entities(entities, text)
    if not (request.new.get("country") or request.new.get("region")) or request.operation in ("remove", "clear"):
        return state, []
    moved = FilterRequest(operation="replace", new={k: v for k, v in request.new.items() if k in ("country", "region")}, either=request.either)
    outcome = apply(state.filters, moved)
    if outcome.conflict or outcome.filters == state.filters:
        return state, []
    shown, _, outcome_kind = ranked_page(services, state.topic, state.kind, outcome.filters, 0)
    if not shown:
        return state, []
    new = replace(state, filters=outcome.filters, selected=None).with_list([r.id for r in shown], offset=0)
    dispatcher.utter_message(text=t("records.from_list", topic=state.topic, filters=filters_text(outcome.filters, t)))
    return new, new.events() + [SlotSet("search_outcome", outcome_kind)]


# A description in another language than the records' ("celui sur l'eau", "проект про леса") names a listed
# record when the multilingual encoder puts it clearly closest of those listed, and no other record of the
# catalogue closer (chosen on the outside conversations' references: mUSE cosines of the message with the
# record's closest chunk; the records meant scored 0.27-0.29, the next listed 0.15-0.19)
ACROSS_LANGUAGES_FLOOR = 0.2
ACROSS_LANGUAGES_MARGIN = 0.08
ACROSS_LANGUAGES_SLACK = 0.02


def listed_across_languages(services: KnowledgeServices, state: DialogueState, text: str) -> str | None:
    """The shown record a description in another language describes, or None (English, or no clear one)."""
    retriever = services.retriever
    if not is_foreign(retriever.language_of(text)):
        return None
    ids = list(dict.fromkeys([*state.results, *state.shown[-EARLIER_SHOWN:]]))
    listed = sorted(retriever.cross_lingual_cosines(text, ids).items(), key=lambda pair: -pair[1])
    if not listed:
        return None
    best, second = listed[0][1], (listed[1][1] if len(listed) > 1 else -1.0)
    if best < ACROSS_LANGUAGES_FLOOR or best - second < ACROSS_LANGUAGES_MARGIN:
        return None
    catalogue = retriever.cross_lingual_cosines(text, [r.id for r in retriever.records if r.kind == state.kind])
    if max(catalogue.values(), default=best) > best + ACROSS_LANGUAGES_SLACK:
        return None  # another record of the catalogue fits it better: the one meant may be unlisted
    return listed[0][0]


def described_elsewhere(services: KnowledgeServices, tracker: Tracker, state: DialogueState, text: str) -> tuple[list[str], str, Filters]:
    """The catalogue's records a description fits when none of the shown ones does ("the Mongolia one"
    after a list with no Mongolian record, "the Fiji cookstove one"): a country alone is looked for
    within the topic on screen, words are looked for as they are, in the countries named; the close
    matches the description fits best, with the query and filters that found them. ([], …) when the
    message describes nothing or nothing fits."""
    said, countries = description_of(text, tracker)
    listed = listed_across_languages(services, state, text) if said else None
    if listed is not None:  # "Celui sur l'eau : avec quel pays ?" with the Djibouti water utility listed
        return [listed], state.topic or "", state.filters
    named = named_phrase(text)
    # "which countries did the milk bank project cover?" looks for "milk bank"; "the Mauritius one: what did
    # the visitors learn?" for the topic in Mauritius, not for "visitors learn"
    said = description_of(named, tracker)[0] if named else said
    if not said and not (countries and state.topic):
        return [], "", state.filters
    query = said or state.topic or ""
    base = replace(state.filters, country=None, region=None, places=(), exclude=()) if countries else (Filters(sdg=state.filters.sdg) if not said else Filters())
    if len(countries) == 1:
        filters = replace(base, country=next(iter(countries)))
    elif countries:
        filters = replace(base, places=tuple(sorted(countries)))
    else:
        filters = base
    matched: list[str] = []
    for kind in _kinds_described(text, state.kind):
        results = services.retriever.search(query, kind=kind, top_k=10, filters=filters)
        # a country alone ("the Nepal one") names the records of that country at least about the topic
        found = close_matches(results) or ([] if said else nearest(results))
        matched = describe_match(text, tracker, [r.id for r in found], services.retriever.get)
        if matched:
            break
    shown = [i for i in matched if state.was_shown(i)]
    return shown or matched, query, filters  # of those it fits, the ones shown are the ones meant


_PROJECT_WORDS = re.compile(
    r"\b(?:projects?|programmes?|programs?|initiatives?|solutions?|schemes?|projets?)\b|(?<!\w)(?:проект\w*|программ\w*)|(?:مشروع|برنامج|مبادرة)",
    re.IGNORECASE,
)


def _kinds_described(text: str, kind: str) -> list[str]:
    """Where a description of an unlisted item is looked for: the kind on screen, then the other one, unless
    it says which ("the mudflow project" is a solution even with partners on screen)."""
    if _PROJECT_WORDS.search(text):
        return ["solution"]
    return [kind, "partner" if kind == "solution" else "solution"]


def open_described_elsewhere(
    services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, state: DialogueState, text: str, t: Texts, answer: "Callable[[DialogueState, str], list[dict[str, Any]]]"
) -> list[dict[str, Any]] | None:
    """A description that fits no shown record but records of the catalogue: the one it fits is opened
    (or `answer`ed) and remembered as shown, the list on screen stays; several become the new list.
    None when the catalogue has none either."""
    matched, query, filters = described_elsewhere(services, tracker, state, text)
    if not matched:
        return None
    if len(matched) == 1:
        record_id = matched[0]
        if not state.was_shown(record_id):
            dispatcher.utter_message(text=t("records.not_listed_one"))
        new = replace(state, shown=tuple([i for i in state.shown if i != record_id] + [record_id]), selected=record_id)
        return [SlotSet("shown_ids", list(new.shown))] + answer(new, record_id)
    dispatcher.utter_message(text=t("records.not_listed_several"))
    return run_search(services, dispatcher, state, topic=query, kind=state.kind, filters=filters, t=t)


class ActionShowDetails(GalaxyAction):
    def name(self) -> str:
        return "action_show_details"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        back = await back_to_results(self, services, dispatcher, tracker, domain)  # "revenons aux résultats sur l'eau"
        if back is not None:
            return back
        state = DialogueState.of(tracker)
        t = Texts.of(tracker)
        compared = answer_comparison(services, dispatcher, tracker, state, t, latest_text(tracker))
        if compared is not None:
            return compared
        request = FilterRequest.of(tracker, latest_text(tracker), vocabulary=True)
        if state.topic and request.exclusive and ({"country", "region"} & set(request.new)) and not any(e.get("entity") == "ordinal" for e in tracker.latest_message.get("entities") or []):
            # "Покажи только проекты в Таджикистане", "show only the ones in Kenya": the list narrowed, not a record opened
            return await refine(services, dispatcher, tracker, state, request, kind=state.kind)
        linked = self._linked(services, tracker)
        if linked is not None:
            # A deep link names a public record: it becomes the list, so "connect me" can follow.
            new = replace(state.with_list([linked.id], offset=0), selected=linked.id)
            dispatcher.utter_message(text=details_text(linked, services.retriever.get, t), buttons=record_buttons(linked, new, services.retriever.get, t))
            return [SlotSet("last_results", list(new.results)), SlotSet("shown_ids", list(new.shown)), SlotSet("result_offset", 0.0), SlotSet("selected_id", linked.id)]
        state, moved = list_moved_to(services, dispatcher, tracker, state, t)
        reference = resolve(tracker, state, text_without(tracker, ("attribute", "operation", "scope")), services.retriever.get)
        if moved:
            if reference.record_id is None:
                explain_reference(dispatcher, services, state, reference, "show_details", t)
                return moved
            return moved + open_or_answer(services, dispatcher, tracker, state, reference.record_id, t)
        if reference.record_id is None:
            text = latest_text(tracker)
            if not state.results and text and describes_something(text_without(tracker, ("attribute", "operation", "scope", "country", "region", "ordinal"))):
                # "human milk banks" read as "open that one" with nothing on screen: it is a need
                kind = "partner" if services.retriever.named_partners(text) else "solution"
                if ranked_page(services, text, kind, state.filters, 0)[2] == "match":
                    return run_search(services, dispatcher, state, topic=text, kind=kind, filters=state.filters, t=t)
            if state.results and not reference.candidates and reference.out_of_range is None and text:
                opened = open_described_elsewhere(
                    services, dispatcher, tracker, state, text_without(tracker, ("attribute", "operation", "scope")), t,
                    lambda new, record_id: open_or_answer(services, dispatcher, tracker, new, record_id, t),
                )
                if opened is not None:
                    return opened
            explain_reference(dispatcher, services, state, reference, "show_details", t)
            return []
        return open_or_answer(services, dispatcher, tracker, state, reference.record_id, t)

    @staticmethod
    def _linked(services: KnowledgeServices, tracker: Tracker) -> Record | None:
        """The public catalogue record a deep link names (entity record_id), if it exists."""
        for value in reversed(latest_entities(tracker, "record_id")):
            record = services.retriever.get(str(value)) if isinstance(value, str) else None
            if record is not None:
                return record
        return None


class ActionAnswerRecordQuestion(GalaxyAction):
    """A question about the opened record (or the one the message points at), answered from its fields."""

    def name(self) -> str:
        return "action_answer_record_question"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        t = Texts.of(tracker)
        compared = answer_comparison(services, dispatcher, tracker, state, t, latest_text(tracker))
        if compared is not None:
            return compared
        attributes = [a for a in latest_entities(tracker, "attribute") if a in ATTRIBUTES]
        state, moved = list_moved_to(services, dispatcher, tracker, state, t)
        reference = resolve(tracker, state, text_without(tracker, ("attribute", "operation", "scope")), services.retriever.get)
        if moved:
            record = services.retriever.get(reference.record_id) if reference.record_id else None
            if record is None:
                explain_reference(dispatcher, services, state, reference, "show_details", t)
                return moved
            return moved + answer_fields(dispatcher, record, attributes, state, services.retriever.get, t, question=latest_text(tracker), counts=services.retriever.word_counts)
        if not reference.explicit:
            answered = answer_faq_follow_up(services, dispatcher, tracker, self.context.settings.unossc_contact)
            if answered is not None:  # "who organised it?" right after the webinar's FAQ answer
                return answered
        if reference.record_id is None:
            if not state.results:
                # "halal certification" read as a question about a record, with none shown: a need
                # ("who funded it?" only asks, so it asks back which record)
                asks_only = not describes_something(text_without(tracker, ("attribute", "operation", "scope", "ordinal")))
                found = None if asks_only else await search_if_a_need(self, services, dispatcher, tracker, domain)
                if found is not None:
                    return found
                # "who were the contact persons again?" with nothing shown: the FAQ answers it when it covers it
                match = faq_selected(services, tracker)
                if match is not None and match.covered:
                    return reply_with_faq(match, dispatcher, tracker, self.context.settings.unossc_contact)
                dispatcher.utter_message(text=t("records.which_record"))
                return []
            question = latest_text(tracker)
            if not reference.candidates and reference.out_of_range is None:
                first = answer_about_first(services, dispatcher, tracker, attributes or asked_fields(tracker))
                if first is not None:
                    return first
            if not reference.candidates and reference.out_of_range is None and names_an_item(question or "", tracker):
                opened = open_described_elsewhere(
                    services, dispatcher, tracker, state, text_without(tracker, ("attribute", "operation", "scope")), t,
                    lambda new, record_id: answer_fields(
                        dispatcher, services.retriever.get(record_id), attributes, new, services.retriever.get, t, question=question, counts=services.retriever.word_counts
                    ),
                )
                if opened is not None:
                    return opened
            explain_reference(dispatcher, services, state, reference, "show_details", t)
            return []
        record = services.retriever.get(reference.record_id)
        if record is None:
            dispatcher.utter_message(text=t("records.gone"))
            return []
        return answer_fields(dispatcher, record, attributes, state, services.retriever.get, t, question=latest_text(tracker), counts=services.retriever.word_counts)
