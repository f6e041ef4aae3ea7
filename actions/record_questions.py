"""Answers to questions about one record ("who paid for it?", "did it work?", "how long did the Kenya
one run?") from its catalogue fields; when the catalogue lacks the field, it says so and gives the
source link. A question no field answers ("does it link with banks?") gets the record's own sentence
that does, or is told the record never mentions it. Never a new search. A question about the opened record that the NLU read as a search
or an FAQ question ("who are the partners on it?", "sources?") is recognised here too."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import ends_as_question, latest_text, text_without
from actions.dialogue import DialogueState
from actions.formatting import ENGLISH, connectable, countries_text, details_text, partner_type_name, payload, provider_text, sdgs_text
from actions.i18n import Texts, country_name
from actions.references import RECORD_WORDS, describes_item, only_points_at_it, points_back
from knowledge.catalogue import Partner, Record, Solution
from knowledge.closed_values import closed_entities
from knowledge.names_i18n import i18n_entities
from knowledge.passages import Rarity, asks_beyond, not_mentioned, passage
from knowledge.search import place_spans
from knowledge.services import KnowledgeServices
from knowledge.text import STOPWORDS, tokens

Lookup = Callable[[str], Record | None]
ATTRIBUTES = (
    "start_year", "duration", "status", "funders", "results", "budget", "sdgs", "countries", "provider",
    "partners", "sources", "contact", "type", "focus", "themes",
)


def _sources(record: Record) -> list[str]:
    return list(dict.fromkeys([record.source_url, *record.sources]))


def _missing(record: Record, attribute: str, t: Texts) -> str:
    what = t(f"record.label.{attribute}") if attribute in ATTRIBUTES else t("record.label.other")
    return t("record.missing", what=what, name=record.name, source=_sources(record)[0])


_SENTENCES = re.compile(r"(?<=[.!?])\s+")
# a figure that is not a year ("56,000", "300 000", "40%", "USD 2 million"): what a results question asks for
_FIGURE = re.compile(r"\b(?!(?:19|20)\d\d\b)\d[\d,.\s]*(?:%|\b)")
FIGURE_SENTENCES = 2


def _figures(record: Solution) -> str:
    """The sentences of a record's summary and description that give figures (at most two), or ""."""
    said = []
    for sentence in _SENTENCES.split(" ".join(f"{record.summary} {record.description}".split())):
        if _FIGURE.search(sentence) and len(sentence.split()) >= 5 and sentence not in said:
            said.append(sentence)
    return " ".join(said[:FIGURE_SENTENCES])


def _solution_answer(record: Solution, attribute: str, lookup: Lookup, t: Texts) -> str | None:
    title = f"**{record.title}**"
    if attribute == "start_year":
        return t("record.started", title=title, year=record.year) if record.year else None
    if attribute == "duration":
        if not record.year:
            return None
        status = record.status if record.status in ("active", "completed") else "unknown"
        return t(f"record.duration.{status}", title=title, year=record.year)
    if attribute == "status":
        if record.status not in ("active", "completed"):
            return None
        return t("record.status", title=title, status=t(f"record.status.{record.status}"))
    if attribute == "funders":
        if record.funders:
            return t("record.funders", title=title, funders=", ".join(record.funders))
        if record.provider_countries:  # no funder named, but the countries that provided or funded it are
            return t("record.funders_countries", title=title, countries=", ".join(country_name(c, t.language) for c in record.provider_countries))
        return None
    if attribute == "results":
        if record.results:
            return t("record.results", title=title, results=record.results)
        figures = _figures(record)  # "numbers?": no results field, but the description gives figures
        return t("record.results_described", title=title, figures=figures) if figures else None
    if attribute == "budget":
        return t("record.budget", title=title, budget=record.budget) if record.budget else None
    if attribute == "sdgs":
        return t("record.sdgs", title=title, sdgs=sdgs_text(record.sdgs, t)) if record.sdgs else None
    if attribute == "countries":
        if not record.countries:
            return None
        text = t("record.countries", title=title, countries=countries_text(record.countries, t))
        if record.provider_countries:
            text += t("record.provided_from", countries=countries_text(record.provider_countries, t))
        return text
    if attribute == "provider":
        provider = provider_text(record, lookup, t)
        return t("record.provider", title=title, provider=provider) if provider != t("card.not_stated") else None
    if attribute == "partners":
        names = []
        for partner_id in record.other_partners:
            partner = lookup(partner_id)
            names.append(partner.display_name() if isinstance(partner, Partner) else partner_id)
        if not names:
            return None
        return t("record.partners", provider=provider_text(record, lookup, t), title=title, partners=", ".join(names))
    if attribute == "themes":
        return t("record.themes", title=title, themes=", ".join(record.themes)) if record.themes else None
    if attribute == "contact":
        provider = lookup(record.provider) if record.provider else None
        if isinstance(provider, Partner):
            return t("record.contact_provider", provider=provider.display_name(), title=title)
        return None
    return None


def _partner_answer(record: Partner, attribute: str, t: Texts) -> str | None:
    name = f"**{record.display_name()}**"
    if attribute == "type":
        return t("record.partner_type", name=name, type=partner_type_name(record.type, t))
    if attribute in ("countries", "provider"):
        return t("record.based_in", name=name, country=country_name(record.country, t.language)) if record.country else None
    if attribute in ("focus", "themes", "results"):
        return t("record.works_on", name=name, focus=", ".join(record.focus_areas)) if record.focus_areas else None
    if attribute == "sdgs":
        return t("record.partner_sdgs", name=name, sdgs=sdgs_text(record.sdgs, t)) if record.sdgs else None
    if attribute == "contact":
        return t("record.contact_partner", name=name)
    return None


def answer(record: Record, attribute: str, lookup: Lookup, t: Texts = ENGLISH) -> tuple[str, bool]:
    """(reply, found), in the conversation's language: found is False when the catalogue lacks the field."""
    if attribute == "sources":
        return t("record.sources", name=record.name, sources=" · ".join(_sources(record))), True
    text = _solution_answer(record, attribute, lookup, t) if isinstance(record, Solution) else _partner_answer(record, attribute, t)
    if text is None:
        return _missing(record, attribute, t), False
    return text, True


def record_buttons(record: Record, state: DialogueState, lookup: Lookup, t: Texts = ENGLISH) -> list[dict[str, str]]:
    """Under a record: connect to its provider (when there is one to introduce) and back to the list."""
    buttons = []
    if connectable(record, lookup):
        rank = state.offset + state.results.index(record.id) + 1 if record.id in state.results else None
        buttons.append({"title": t("button.connect_them"), "payload": payload("request_introduction", ordinal=rank) if rank else payload("request_introduction")})
    if state.results and state.topic:
        buttons.append({"title": t("button.back"), "payload": payload("show_results")})
    return buttons


# Words of a question about a record that ask for more of it, or point at it, rather than about a subject.
_GENERIC = tuple(
    """everything anything more details detail info information overview summary describe explain all full
    whole again exactly actually really basically first second third fourth fifth sixth seventh eighth
    ninth tenth last next previous former latter top bottom above below earlier other ones one's""".split()
)


def _asked_phrases(question: str) -> list[str]:
    """The words of a question that name a field, and a "linked to" that asks nothing itself."""
    phrases = [question[e["start"] : e["end"]] for e in closed_entities(question) if e["entity"] == "attribute"]
    linked = _LINK_VERB.search(question)
    return phrases + [linked.group()] if linked else phrases


# "The Uzbek one:", "the solar project -": the words that say which item, not what is asked of it
_NAMING = re.compile(rf"^\W*(?:and\s+)?the\s+(?:[^\W\d_][\w'-]*\s+){{1,4}}?(?:{RECORD_WORDS})\b\s*[:,;-]?", re.IGNORECASE)


def _is_question(text: str) -> bool:
    return ends_as_question(text) or _opens_with(text, 2, _QUESTION_WORDS)


_MEMBERS = re.compile(r"\bmembers?(?:hip)?\b|\bmembres?\b|(?<!\w)(?:член\w*|участни\w*)|أعضاء|الأعضاء|عضوية", re.IGNORECASE)
# "does it link with banks?", "is it linked to the health system?": "link" is the verb, not the sources.
_LINK_VERB = re.compile(r"\blink(?:s|ed|ing)?\s+(?:up\s+)?(?:with|to|into)\b", re.IGNORECASE)


def answer_fields(
    dispatcher: CollectingDispatcher,
    record: Record,
    attributes: list[str],
    state: DialogueState,
    lookup: Lookup,
    t: Texts = ENGLISH,
    *,
    question: str = "",
    counts: Rarity | None = None,
) -> list[dict[str, Any]]:
    """The answers to up to three fields of one record, in one message under its buttons. With the
    `question` and the catalogue's word `counts` (`Retriever.word_counts`), a sentence of the record that shares the question's
    rare words is quoted after a field the catalogue lacks, and alone when no field was asked ("does it
    link with banks?"); with neither a field nor such a sentence, the whole record."""
    attributes = list(dict.fromkeys(attributes))
    if "partners" in attributes and question and _MEMBERS.search(question) and isinstance(record, Solution) and not record.other_partners:
        # "who are its members?" of a regional process or network: the countries taking part
        attributes = ["countries" if a == "partners" else a for a in attributes]
    involved = countries_asked(record, question, t)
    if involved:  # "is Russia involved?": the lines below answer it, not the lists of countries or partners
        attributes = [a for a in attributes if a not in ("countries", "partners")]
    linked = _LINK_VERB.search(question) if question else None
    if linked and "sources" in attributes:
        attributes.remove("sources")
    quote = None
    asked_phrases = _asked_phrases(question) if question else []
    if question and counts is not None:
        quote = passage(record, question, counts, ignore=[*asked_phrases, *_GENERIC])
    if not attributes:
        if involved:
            text = "\n\n".join(involved)
        elif quote:
            text = t("record.description_answer", name=record.name, quote=quote)
        elif question and t.language == "en" and _is_question(question) and asks_beyond(record, question, ignore=[*asked_phrases, *_GENERIC]):
            text = t("record.not_mentioned", name=record.name, source=_sources(record)[0])  # "is biometrics part of it?"
        else:
            text = details_text(record, lookup, t)
        dispatcher.utter_message(text=text, buttons=record_buttons(record, state, lookup, t))
        return [SlotSet("selected_id", record.id)]
    answers = [answer(record, attribute, lookup, t) for attribute in attributes[:3]]
    replies = [reply for reply, _ in answers]
    # the quote goes with a field the catalogue lacks: beside a field it has, it would be noise
    if quote and not involved and not all(found for _, found in answers) and not any(quote.rstrip("…") in reply for reply in replies):
        replies.append(t("record.description_says", quote=quote))
    elif not quote and not involved and question and t.language == "en" and _is_question(question):
        # the other half of a two-part question ("were women trained as technicians, and is it still running?"):
        # a clause without a field phrase whose words the record never uses
        missing = [
            word
            for clause in _question_clauses(_NAMING.sub(" ", question))
            if not any(e["entity"] == "attribute" for e in closed_entities(clause))
            for word in not_mentioned(record, clause, ignore=[*_GENERIC, *_QUESTION_WORDS, *_VAGUE])
        ]
        if missing:
            replies.append(t("record.says_nothing_of", words=", ".join(f"“{w}”" for w in missing[:4]), source=_sources(record)[0]))
    replies += involved
    dispatcher.utter_message(text="\n\n".join(replies), buttons=record_buttons(record, state, lookup, t))
    return [SlotSet("selected_id", record.id)]


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def countries_asked(record: Record, question: str, t: Texts = ENGLISH) -> list[str]:
    """Whether the countries a question names take part in a solution ("is Russia involved?", "did India
    fund it?", "La France y a-t-elle participé ?"): where it took place, who provided or funded it, else
    the record's sentence that names the country, else that the record does not name it."""
    if not isinstance(record, Solution) or not question:
        return []
    named = [(start, end, code) for start, end, kind, code in place_spans(question) if kind == "country"]
    if t.language != "en":
        named += [(e["start"], e["end"], e["value"]) for e in i18n_entities(question, [(s, e) for s, e, _ in named]) if e["entity"] == "country"]
    lines: list[str] = []
    for start, end, code in sorted(named):
        if describes_item(question, end) or any(code in line for line in lines):
            continue
        country = country_name(code, t.language)
        if code in record.countries:
            lines.append(t("record.country_worked", country=country, name=record.name))
        elif code in record.provider_countries:
            lines.append(t("record.country_provided", country=country, name=record.name))
        else:
            sentences = [s for text in (record.title, record.summary, record.description) for s in _SENTENCE.split(text or "")]
            quote = next((s.strip() for s in sentences if any(c == code for _, _, k, c in place_spans(s.replace("-", " ")) if k == "country")), None)
            key = "record.country_in_text" if quote else "record.country_not_named"
            lines.append(t(key, country=country, name=record.name, quote=quote or ""))
    return lines


# Where a question splits into parts: "…technicians, and is it still running?", "…banks? And who…"
_CLAUSES = re.compile(r"[?;]|,?\s+and\s+(?=(?:is|are|was|were|does|do|did|has|have|who|what|when|where|how|can|could)\b)", re.IGNORECASE)
def _question_clauses(text: str) -> list[str]:
    """The parts of a message that ask: "Open the second one. Were women trained, and is it running?" ->
    ["Were women trained", "is it running"] (a sentence that ends in "?" or opens with a question word)."""
    clauses: list[str] = []
    for match in re.finditer(r"[^.!?]+[.!?]*", text):
        sentence = match.group(0).strip()
        if sentence.endswith("?") or _is_question(sentence):
            clauses += [c.strip() for c in _CLAUSES.split(sentence) if c.strip()]
    return clauses


# Words of a question that ask nothing of the record's content
_VAGUE = tuple("involve involved involves include included includes happen happened exist exists use used still really actually exactly also please any part"
               " kind sort much many well anyone anybody".split())


# "there": the common misspelling of "their" ("can u give me there email adress?")
_MISSPELT_BACK = frozenset({"there"})
# Words that ask about a kind of thing, not the thing open: "who funds this kind of work?" is a search.
_CATEGORY = frozenset("kind kinds type types sort sorts similar such other others like".split())
_LETTERS = re.compile(r"[^\W\d_]+")


def asked_of_opened(text: str, state: DialogueState, *, pointing: bool = False) -> list[str]:
    """The fields a message asks of the record the user opened when it asks nothing else: a field
    phrase and at most one other content word when it points back ("who are the partners on it?",
    "can u give me there email adress?"), none when it does not ("sources?"); `pointing`: only when it
    points back. [] otherwise, so "who funds solar in Kenya?" stays a search and "only SDG 5" or "any
    other countries?" a filter change."""
    if not text or not state.selected or not state.was_shown(state.selected):
        return []
    phrases = closed_entities(text)
    if any(e["entity"] == "operation" for e in phrases) or re.search(r"\d", text):
        return []
    found = [e for e in phrases if e["entity"] == "attribute" and e["value"] in ATTRIBUTES]
    if not found:
        return []
    rest = text
    for entity in sorted(found, key=lambda e: e["start"], reverse=True):
        rest = rest[: entity["start"]] + " " + rest[entity["end"] :]
    said = _LETTERS.findall(rest.casefold())
    if any(w in _CATEGORY for w in said):
        return []
    pointing_back = points_back(text, _MISSPELT_BACK)
    if all(w in _QUESTION_WORDS or w in STOPWORDS for w in said) and _opens_with(text, 3, _QUESTION_WORDS):
        # nothing but a question about a field: "which countries?", "and where can I read more?"
        return list(dict.fromkeys(str(e["value"]) for e in found))
    if (pointing or any(e["entity"] == "scope" for e in phrases)) and not pointing_back:
        return []  # "the country" may name a filter
    if len(tokens(rest)) > (1 if pointing_back else 0):
        return []
    if not pointing_back and len(_LETTERS.findall(text)) > 3:
        return []
    return list(dict.fromkeys(str(e["value"]) for e in found))


_QUESTION_WORDS = frozenset("when which what who whom whose how where why did does do is was were are has have".split())
_FIELD_QUESTION_WORDS = _QUESTION_WORDS | {"since"}  # a field phrase that asks: "since when"


def _opens_with(span: str, words: int, among: frozenset[str]) -> bool:
    """Whether one of the first `words` words of `span` is in `among`."""
    return any(w in among for w in _LETTERS.findall(span.casefold())[:words])


def fields_asked(tracker: Tracker) -> list[str]:
    """The fields an English question about a record asks ("when did the Bangladesh one start?",
    "which SDGs is the religious leaders one about"); [] for a request to open it ("tell me about the
    Kenya one") or for field words inside an entity the NLU found."""
    text = latest_text(tracker)
    if not text or Texts.of(tracker).language != "en":
        return []
    taken = [(e.get("start"), e.get("end")) for e in tracker.latest_message.get("entities") or [] if isinstance(e.get("start"), int)]
    found = [
        e for e in closed_entities(text)
        if e["entity"] == "attribute" and e["value"] in ATTRIBUTES and not any(s < e["end"] and e["start"] < t for s, t in taken)
    ]
    # a question: a question mark, a question word first, or a field phrase that is one ("since when")
    asking = ends_as_question(text) or _opens_with(text, 3, _QUESTION_WORDS) or any(
        _opens_with(text[e["start"] : e["end"]], 1, _FIELD_QUESTION_WORDS) for e in found
    )
    return list(dict.fromkeys(str(e["value"]) for e in found)) if asking else []


def asked_fields(tracker: Tracker) -> list[str]:
    """The fields a question asks in any language: `fields_asked` in English, the NLU's attribute entities
    in a question in another language."""
    if Texts.of(tracker).language == "en":
        return fields_asked(tracker)
    text = latest_text(tracker) or ""
    if not ends_as_question(text):
        return []
    found = [*(tracker.latest_message.get("entities") or []), *closed_entities(text)]  # the NLU's, and the closed vocabulary's
    return list(dict.fromkeys(str(e.get("value")) for e in found if e.get("entity") == "attribute" and e.get("value") in ATTRIBUTES))


def answer_about_first(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, attributes: list[str]) -> list[dict[str, Any]] | None:
    """"Who funded it?" right after a list, with no record opened: the first result on screen is the one
    asked about, and the answer says so (the user can name another). None when a record is open, the
    message names an item, or it asks no field."""
    state = DialogueState.of(tracker)
    if not attributes or not state.results or (state.selected and state.was_shown(state.selected)):
        return None
    if not only_points_at_it(text_without(tracker, ("attribute", "operation", "scope")), tracker):
        return None
    record = services.retriever.get(state.results[0])
    if record is None:
        return None
    t = Texts.of(tracker)
    dispatcher.utter_message(text=t("records.taking_first"))
    return answer_fields(dispatcher, record, attributes, state, services.retriever.get, t, question=latest_text(tracker), counts=services.retriever.word_counts)


def answer_if_about_opened(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, *, pointing: bool = False) -> list[dict[str, Any]] | None:
    """The answer from the opened record when the message only asks one of its fields, whatever
    intent it was read as; None when it asks something else (see `asked_of_opened`)."""
    state = DialogueState.of(tracker)
    text = latest_text(tracker)
    places = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") in ("country", "region", "sdg")]
    if places and not (ends_as_question(text) and points_back(text) and all(e.get("entity") == "country" for e in places)):
        return None  # "partners in Kenya?": a search or a filter; "is it only used in Nepal?" asks about it
    attributes = asked_of_opened(text, state, pointing=pointing)  # [] unless a record is open
    if places and not attributes and state.selected and state.was_shown(state.selected):
        # "is it only used in Nepal or has another country replicated it?": where it works
        if any(e["entity"] == "attribute" and e["value"] == "countries" for e in closed_entities(text)):
            attributes = ["countries"]
    record = services.retriever.get(state.selected) if attributes and state.selected else None
    if record is None:
        return None
    return answer_fields(dispatcher, record, attributes, state, services.retriever.get, Texts.of(tracker), question=latest_text(tracker), counts=services.retriever.word_counts)


def quote_about_opened(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
    """A question that points back at the opened record and that one of its sentences answers, read as a
    search ("do they buy from smallholder farmers?" with PAA Africa open): that sentence. None otherwise,
    so "who funds this kind of work?", "any of these in Asia?" or a new need stay searches."""
    state = DialogueState.of(tracker)
    text = latest_text(tracker)
    t = Texts.of(tracker)
    if not text or t.language != "en" or not state.selected or not state.was_shown(state.selected) or not _is_question(text):
        return None
    said = _LETTERS.findall(text.casefold())
    if not points_back(text, _MISSPELT_BACK) or any(w in _CATEGORY for w in said):
        return None
    if any(e.get("entity") in ("country", "region", "sdg") for e in tracker.latest_message.get("entities") or []):
        return None
    phrases = closed_entities(text)
    if any(e["entity"] == "operation" for e in phrases):
        return None
    record = services.retriever.get(state.selected)
    if record is None:
        return None
    quote = passage(record, text, services.retriever.word_counts, ignore=[*_asked_phrases(text), *_GENERIC])
    if quote is None:
        return None
    dispatcher.utter_message(text=t("record.description_answer", name=record.name, quote=quote), buttons=record_buttons(record, state, services.retriever.get, t))
    return [SlotSet("selected_id", record.id)]


def show_record(services: KnowledgeServices, dispatcher: CollectingDispatcher, state: DialogueState, record_id: str, t: Texts = ENGLISH) -> list[dict[str, Any]]:
    record = services.retriever.get(record_id)
    if record is None:
        dispatcher.utter_message(text=t("records.gone"))
        return []
    dispatcher.utter_message(text=details_text(record, services.retriever.get, t), buttons=record_buttons(record, state, services.retriever.get, t))
    return [SlotSet("selected_id", record.id)]


def open_or_answer(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, state: DialogueState, record_id: str, t: Texts = ENGLISH) -> list[dict[str, Any]]:
    """The record the message points at: the fields it asks about ("when did the Bangladesh one
    start?"), else the whole record ("tell me about the Kenya one")."""
    asked = fields_asked(tracker)
    record = services.retriever.get(record_id) if asked else None
    if record is not None:
        return answer_fields(dispatcher, record, asked, state, services.retriever.get, t, question=latest_text(tracker), counts=services.retriever.word_counts)
    return show_record(services, dispatcher, state, record_id, t)
