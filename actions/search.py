"""Search actions: find solutions or partners, change the filters, page through a list and bring it
back after an aside. The dialogue state (actions/dialogue.py) changes only when a list is shown."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, blank_spans, latest_text, text_without
from actions.compare import answer_comparison
from actions.dialogue import DialogueState, filter_events
from actions.details import last_bot_action
from actions.feedback import feedback_buttons, search_ref
from actions.filters import FilterOutcome, FilterRequest, apply, names_goal
from actions.formatting import ENGLISH, filters_text, payload, result_block, result_buttons
from actions.i18n import Texts, country_name, region_label, sdg_label, sdg_name
from actions.record_questions import answer_about_first, answer_fields, answer_if_about_opened, asked_fields, open_or_answer, quote_about_opened, show_record
from actions.references import FOREIGN_POINTING, THE_ONE, described, describes_something, names_an_item, points_back
from knowledge.closed_values import closed_entities
from knowledge.names_i18n import arabic_cores
from knowledge.geo import geography, subregions
from knowledge.multilingual import ENGLISH as ENGLISH_QUERY, UNDETERMINED
from knowledge.search import Filters, SearchResult, need_core, place_spans
from knowledge.services import KnowledgeServices
from knowledge.text import tokens, words

PAGE_SIZE = 3
# MiniLM cosine below which a record is unrelated even as a "nearest" one (unrelated texts score 0-0.15).
MIN_RELEVANCE = 0.2
# The same bar on the multilingual encoder's cosine, scaled as its calibrated floor is to MiniLM's
# (0.242 / 0.334 in knowledge/data/relevance.json): "раннее предупреждение … в Армении" offers the
# Armenian hydromet record (0.18) as the nearest, not "nothing found"
MIN_RELEVANCE_FOREIGN = 0.15
# Words that only steer a refinement ("only in Asia", "what about SDG 5", "keep solar") and carry no topic.
_REFINEMENT_WORDS = set(
    """only just now then what how about and also instead rather same but within inside from across
    countries country region regions area areas sdg sdgs goal goals filter filters any every all
    anywhere everywhere worldwide global globally remove clear drop reset without restrict limit narrow
    ones one those these more less there here okay ok yes no please thanks keep keeping leave stay
    change switch replace swap add plus too well everything nothing else results result list search
    searching looking show see topic subject theme pls plz thx hmm hm actually okay ok well right maybe
    perhaps kindly sorry wait oh ah yeah yep sure fine great good instead make try let lets look back
    anything specifically specificaly actualy actully ve re ll seen saw already tried covered similar
    similarly comparable alike like such kind sort mostly mainly primarily chiefly especially
    particularly preferably ideally focus focused focusing concentrate emphasis""".split()
    # French, Russian and Arabic words around a filter change that the closed vocabulary (operations and
    # scopes, blanked by `leftover_topic`) does not hold ("ajoute un filtre ODD 6 et seulement l'Afrique",
    # "убери фильтр, покажи что есть по Таджикистану", "فقط مصر من فضلك")
    + """un une et le la les des de du au aux en à pour par dans sur que montre montrez montrer affiche
    affichez voir tous toutes efface effacer merci plaît vous il maintenant alors encore change changer
    garde garder
    покажи покажите показать что есть по фильтра и а пожалуйста спасибо очисти теперь тогда в во на для из
    оставь оставить
    من فضلك عامل التصفية الدول شكرا أظهر اظهر اعرض أرني في على إلى الى عن""".split()
    # and around a move elsewhere or a widening ("et plutôt en Afrique centrale ?", "а если вместо этого
    # Южный Кавказ?", "وماذا عن دول الخليج بدلاً من ذلك؟", "ok widen it to the whole region")
    + """widen widening broaden expand whole entire it plutôt plutot quoi sinon côté cote élargis élargir
    élargissez tout toute если как насчёт насчет ну этого это вместо расширь расширить весь всего всей
    всю وماذا ماذا ذلك بدلا بدلاً إذن اذن وسع وسّع كل كامل البحث بحث ليشمل يشمل لتشمل ليغطي""".split()
    # and the words of a place left out ("pas l'Égypte ni le Maroc", "neither Egypt nor Morocco", "ни Египет")
    + """not neither nor hide pas ni non не ни нет ليس لا ولا مش غير""".split()
    # and "anything similar in Asia?": the same need, elsewhere
    + """similaire similaires semblable semblables pareil pareils comparable comparables genre quelque chose
    похожее похожие похожий похожих подобное подобные аналогичное аналогичные такое такие то нибудь
    مشابه مشابهة مماثل مماثلة شبيه شبيهة مثله مثلها""".split()
    # and the verbs of a filter said as a setting or a question ("set the region to the Caribbean", "does it
    # include any Gulf countries?", "أضف فلتر الهدف السادس من أهداف التنمية المستدامة")
    + """set setting put include includes including included involve involves does do is are to
    التنمية المستدامة أهداف أضف فلتر الهدف""".split()
    # and the words that ask which filters are on ("which filters are active now?", "quels filtres sont
    # actifs ?", "какие фильтры сейчас включены?", "ما هي الفلاتر المفعلة حاليا؟")
    + """which what active applied applying current currently enabled used using turned
    quel quels quelle quelles actif actifs active actives appliqué appliqués appliquée appliquées activé activés
    какие какой активны активные включены включен применены применён сейчас действуют
    ما هي هو الفلاتر المفعلة المفعّلة النشطة المطبقة حاليا حالياً الآن""".split()
)


# Spans that steer the search rather than describe the need; topic words that only map to a goal
# ("renewable energy") stay topic words.
_STEERING = ("country", "region", "sdg", "operation", "scope", "ordinal")


# Beside a filter change, this many words that share none with the topic are a new need ("убери фильтр и
# найди что-нибудь про подготовку олимпийских спортсменов"), not words to add to it ("only the solar ones")
NEW_NEED_WORDS = 3


def _new_need(extra: str, topic: str) -> bool:
    def content(text: str) -> set[str]:
        return {w for w in tokens(text) if len(w) > 3}  # not "про", "sur", "في"

    return len(extra.split()) >= NEW_NEED_WORDS and not content(extra) & content(topic)


def leftover_topic(text: str, tracker: Tracker) -> str:
    """The words of a message that are neither entities nor steering words: a new topic, if any."""
    stripped = text_without(tracker, _STEERING, keep=lambda entity, said: not names_goal(entity, said)) if text else ""
    # the operation and scope phrases of every language, also when the NLU attached none (a filter
    # change read as another intent)
    stripped = blank_spans(stripped, [(e["start"], e["end"]) for e in closed_entities(stripped) if e["entity"] in ("operation", "scope")])
    # a sub-region the NLU did not tag ("what about the Gulf instead?") is a filter, not a topic
    stripped = blank_spans(stripped, [(m.start, m.end) for m in subregions().mentions(stripped)])
    content = [w for w in words(stripped) if w not in _REFINEMENT_WORDS and not w.isdigit()]
    return " ".join(content)


# Words of an opening that is no part of the need: a greeting, thanks, "ok, different thing", in the four
# languages ("hi, looking for irrigation", "thanks, that's useful! also rice in West Africa",
# "Здравствуйте. Нужны примеры…", "مرحبا، أبحث عن…").
_OPENING_WORDS = frozenset(
    """hi hello hey hiya greetings dear morning afternoon evening thanks thank thx ty cheers ok okay cool
    great nice alright right sorry so well fine good also and then now different another other thing
    question yes yeah yep sure lol haha hmm oh ah that thats that's this is was very really useful
    helpful interesting perfect excellent wonderful awesome amazing much lot lots you
    bonjour bonsoir salut merci bien alors accord très utile parfait super génial
    здравствуйте привет добрый день вечер утро спасибо большое ладно хорошо итак отлично понятно ок
    مرحبا مرحباً أهلا اهلا السلام عليكم شكرا شكراً جزيلا حسنا حسناً ممتاز""".split()
)
_OPENING_BREAK = re.compile(r"(?<=[.!?;:,،؛])\s+|\s+[-–—]\s+")


def need_of(text: str) -> str:
    """A need as the user typed it, without an opening that says nothing about it."""
    text = text.strip()
    start = 0
    for boundary in _OPENING_BREAK.finditer(text):
        opening = re.findall(r"[^\W\d_][\w'’]*", text[start : boundary.start()].casefold())
        if not all(w.strip("'’") in _OPENING_WORDS for w in opening):
            break
        start = boundary.end()
    return text[start:].strip() or text


def filter_label(name: str, value: Any, t: Texts = ENGLISH) -> str:
    if name == "country":
        return country_name(str(value), t.language)
    if name == "region":
        return region_label(str(value), t.language)
    return f"{sdg_label(int(value), t.language)} ({sdg_name(int(value), t.language)})"


def noun_of(kind: str, t: Texts) -> str:
    return t("noun.solutions") if kind == "solution" else t("noun.partners")


def state_text(state: DialogueState, t: Texts = ENGLISH) -> str:
    noun = noun_of(state.kind, t)
    topic = t("search.state_topic", noun=noun, topic=state.topic) if state.topic else t("search.state_no_topic", noun=noun)
    return t("search.state", topic=topic, filters=filters_text(state.filters, t) or t("search.state_no_filters"))


def close_matches(results: list[SearchResult]) -> list[SearchResult]:
    return [r for r in results if r.close_match]


def nearest(results: list[SearchResult]) -> list[SearchResult]:
    """Records to offer when nothing is a close match: only those that are at least about the request
    (on the multilingual encoder's scale for a need in another language)."""
    return [r for r in results if r.dense >= (MIN_RELEVANCE if r.language in (ENGLISH_QUERY, UNDETERMINED) else MIN_RELEVANCE_FOREIGN) or r.score >= 1.0]


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


def back_button(state: DialogueState, t: Texts = ENGLISH) -> list[dict[str, str]]:
    return [{"title": t("button.back"), "payload": payload("show_results")}] if state.results and state.topic else []


def records_note(dispatcher: CollectingDispatcher, tracker: Tracker, t: Texts, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Once per conversation, after the first list shown in French, Russian or Arabic: the records
    themselves are in English."""
    shown = any(e.get("event") == "slot" and e.get("name") == "search_outcome" and e.get("value") != "nothing" for e in events)
    if t.language == "en" or not shown or tracker.get_slot("records_note_shown"):
        return events
    dispatcher.utter_message(text=t("language.records_note"))
    return events + [SlotSet("records_note_shown", True)]


def run_search(
    services: KnowledgeServices,
    dispatcher: CollectingDispatcher,
    previous: DialogueState,
    *,
    topic: str,
    kind: str,
    filters: Filters,
    note: str = "",
    t: Texts = ENGLISH,
    solutions_instead: bool = False,
    widen: bool = False,
) -> list[dict[str, Any]]:
    """Searches and shows the list; the state changes only when something is shown.
    `solutions_instead`: a partner search without a close match shows the solutions that match closely
    (no profile about "halal industry with Malaysian support", but solutions whose providers are
    partners). `widen`: a need whose place (said, or kept from an earlier need) has fewer than two close
    matches gets the close matches from anywhere, those of the place first, and the reply says so: the
    user in Ghana asking about road safety wants the experience of others."""
    shown, more, outcome = ranked_page(services, topic, kind, filters, 0)
    place = replace(Filters(), country=filters.country, region=filters.region, places=filters.places)
    if widen and place.any() and (outcome != "match" or (len(shown) < 2 and not more)):
        anywhere = replace(filters, country=None, region=None, places=())
        # the place's name is no reason for a match elsewhere ("… in Tajikistan" matching Tajik records)
        wide_topic = need_core(topic, filters) if t.language == "en" else topic
        wide, wide_more, wide_outcome = ranked_page(services, wide_topic, kind, anywhere, 0)
        local = [r for r in shown if outcome == "match"]
        others = [r for r in wide if r.id not in {x.id for x in local}]
        nearer = wide_outcome == "no_close_match" and outcome != "match" and max([r.dense for r in wide] or [0.0]) > max([r.dense for r in shown] or [0.0])
        if others and (wide_outcome == "match" or nearer):
            # close matches from anywhere; or, when the place has none, the nearest from anywhere if nearer
            note += t("search.widened_few", count=len(local), place=filters_text(place, t)) if local else t("search.widened_none", place=filters_text(place, t))
            shown, more, filters = (local + others)[:PAGE_SIZE], wide_more or len(local + others) > PAGE_SIZE, anywhere
            outcome = "match" if wide_outcome == "match" else "no_close_match"
            topic = wide_topic
    if outcome != "match" and solutions_instead and kind == "partner":
        solutions = ranked_page(services, topic, "solution", filters, 0)
        if solutions[2] == "match":
            kind, (shown, more, outcome) = "solution", solutions
            note += t("search.no_partner_profiles")
    noun = noun_of(kind, t)
    if not shown:
        return _nothing(dispatcher, previous, topic=topic, kind=kind, filters=filters, note=note, t=t)
    where = t("search.where_filters", filters=filters_text(filters, t)) if filters.any() else ""
    key = "search.header_match" if outcome == "match" else "search.header_nearest"
    header = t(key, note=note, noun=noun, topic=topic, where=where)
    ids = [r.id for r in shown]
    # the record the user opened stays open through a filter change that keeps it ("it" still means it)
    selected = previous.selected if topic == previous.topic and kind == previous.kind and previous.selected in ids else None
    state = replace(previous, topic=topic, kind=kind, filters=filters, selected=selected).with_list(ids, offset=0)
    _show_list(services, dispatcher, state, shown, header=header, more=more, t=t)
    if outcome == "no_close_match" and filters.any():
        intent = "find_solution" if kind == "solution" else "find_partner"
        dispatcher.utter_message(
            text=t("search.wider"),
            buttons=[*_division_button(intent, topic, filters, t), {"title": t("button.without_filters"), "payload": payload(intent, topic=topic, operation="clear")}],
        )
    return state.events() + [SlotSet("search_outcome", outcome)]


def _division_button(intent: str, topic: str, filters: Filters, t: Texts) -> list[dict[str, str]]:
    """With a sub-region filter ("West Africa"), the same search over its whole division ("All of Africa")."""
    subregion = subregions().get(filters.region)
    if subregion is None:
        return []
    return [{"title": t("button.whole_division", region=region_label(subregion.division, t.language)), "payload": payload(intent, topic=topic, region=subregion.division, operation="replace")}]


def _nothing(dispatcher: CollectingDispatcher, previous: DialogueState, *, topic: str, kind: str, filters: Filters, note: str, t: Texts = ENGLISH) -> list[dict[str, Any]]:
    noun = noun_of(kind, t)
    where = t("search.nothing_where", filters=filters_text(filters, t)) if filters.any() else ""
    text = t("search.nothing", note=note, noun=noun, topic=topic, where=where)
    buttons: list[dict[str, str]] = []
    if filters.any():
        intent = "find_solution" if kind == "solution" else "find_partner"
        buttons += _division_button(intent, topic, filters, t)
        buttons.append({"title": t("button.without_filters"), "payload": payload(intent, topic=topic, operation="clear")})
    if previous.results and previous.topic:
        text += t("search.nothing_earlier", topic=previous.topic)
        buttons += back_button(previous, t)
    else:
        text += t("search.nothing_try")
    buttons.append({"title": t("button.talk_to_person"), "payload": payload("human_handoff")})
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
    t: Texts = ENGLISH,
) -> None:
    blocks = "\n\n".join(
        result_block(state.offset + rank, result, services.retriever.get, t) for rank, result in enumerate(results, start=1)
    )
    footer = ""
    if state.filters.any():
        footer = "\n\n" + t("search.widen_footer")
    buttons = result_buttons(results, more=more, lookup=services.retriever.get, first_rank=state.offset + 1, t=t)
    if state.topic:
        buttons += feedback_buttons(search_ref(state.topic))
    dispatcher.utter_message(text=f"{header}\n\n{blocks}{footer}", buttons=buttons)


# "ok back to the school feeding results", "go back to the list": the list kept, not a search for those words
_BACK_TO_RESULTS = re.compile(
    r"^\W*(?:(?:ok|okay|so|now|and|let'?s|please|can\s+we|go|thanks?|thank\s+you)\W+)*(?:go\s+)?back\s+to\b.{0,40}\b(?:results?|list|search)\b(?P<en>.{0,40})$"
    r"|^\W*(?:(?:d'accord|ok|bon|bien|alors|merci)\W+)*(?:revenons|retour(?:nons)?|revenir)\s+(?:aux?|à\s+la|à\s+mes|à\s+nos)\b.{0,40}\b(?:r[ée]sultats?|liste)\b(?P<fr>.{0,40})$"
    r"|^\W*(?:(?:хорошо|ладно|ок|итак|спасибо)\W+)*(?:вернёмся|вернемся|вернуться|назад)\s+к\s+.{0,40}(?:результат\w*|списк\w*)(?P<ru>.{0,40})$"
    r"|^\W*(?:(?:طيب|حسنا|حسنًا|تمام|شكرا|شكرًا)\W+)*(?:نعود|لنعد|العودة|ارجع|رجوع|عد)\s+(?:إلى|الى|ل)\s*.{0,40}(?:النتائج|القائمة)(?P<ar>.{0,40})$",
    re.IGNORECASE,
)
# What may follow "back to the list" and still only ask for it, or for its next page ("montrez-m'en d'autres")
_ONLY_PUNCTUATION = re.compile(r"^\W*(?:please|pls|s'il\s+vous\s+pla[iî]t|svp|stp|пожалуйста|من\s+فضلك|لو\s+سمحت)?\W*$", re.IGNORECASE)
_MORE_WORDS = re.compile(r"\b(?:more|others?|next)\b|d'autres|\bplus\b|\bsuite\b|(?<!\w)(?:ещ[её]|дальше|други[ех])(?!\w)|المزيد|غيرها|أخرى", re.IGNORECASE)


async def back_to_results(action: GalaxyAction, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The list kept, when the message only asks to go back to it (whatever intent it was read as)."""
    state = DialogueState.of(tracker)
    matched = _BACK_TO_RESULTS.match(latest_text(tracker) or "") if state.results and state.topic else None
    if matched is None:
        return None
    rest = next((g for g in matched.groups() if g is not None), "")
    if _MORE_WORDS.search(rest):  # "back to the list: show me more"
        return await ActionShowMore(action.context).act(services, dispatcher, tracker, domain)
    # the list as it was: nothing more said, or a few words naming it ("revenons aux résultats sur l'eau"),
    # not a question about one of its items ("revenons aux résultats : qui a financé le premier ?")
    if _ONLY_PUNCTUATION.match(rest) or (matched.group("en") is None and len(rest) <= 30 and "?" not in rest and "؟" not in rest):
        return await ActionShowResults(action.context).act(services, dispatcher, tracker, domain)
    return None


def answer_about_described(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
    """A question about a field of an item described as "the … one" or named by its acronym ("the Asian
    regional one, who supports that?", "who built MOSIP?"), read as a search: the answer from that
    record. None unless the message asks a field and describes exactly one shown record."""
    text = latest_text(tracker)
    if not text:
        return None
    asked = asked_fields(tracker)  # "Celui sur l'électrification rurale : qui est le fournisseur ?"
    state = DialogueState.of(tracker)
    matched = described(text_without(tracker, ("attribute", "operation", "scope")), tracker, state, services.retriever.get) if asked and state.shown else []
    record = services.retriever.get(matched[0]) if len(matched) == 1 else None
    if record is None or not (THE_ONE.search(text) or names_an_item(text, tracker) or _names_acronym(text, record.title)):
        return None
    return answer_fields(dispatcher, record, asked, state, services.retriever.get, Texts.of(tracker))


def _names_acronym(text: str, title: str) -> bool:
    """Whether the message names the record by an acronym of its title ("who funds MOSIP?", "PAA Africa")."""
    acronyms = {w.casefold() for w in re.findall(r"\b[A-Z][A-Z0-9]{2,}\b", title)}
    return bool(acronyms & set(re.findall(r"\w+", text.casefold())))


# A request to be put in touch ("Pouvez-vous me mettre en relation avec …", "connect me with …", "свяжите меня
# с …", "أريد التواصل مع …"); narrower than the introduction's own `_CONNECT`, which also counts "contact" and
# "présenter": a search is taken for a request only when it asks outright
_ASKS_TO_BE_CONNECTED = re.compile(
    r"\b(?:connect\s+(?:me|us)|put\s+(?:me|us)\s+in\s+touch|introduce\s+(?:me|us)|get\s+in\s+touch|reach\s+out\s+to"
    r"|(?:mett\w*|mis\w*|mise)\s+en\s+(?:relation|contact)|entrer\s+en\s+contact)\b"
    r"|(?<!\w)(?:свяж\w*|связат\w*|связаться|познаком\w*)|(?:أتواصل|التواصل|توصلني|وصلني|عرفني|عرّفني)",
    re.IGNORECASE,
)


async def introduction_instead(action: GalaxyAction, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A request to be put in touch with the one partner it names, read as a search ("Pouvez-vous me mettre
    en relation avec Partners in Population and Development ?"): the introduction, its form started. None
    for anything else."""
    text = latest_text(tracker)
    asked = _ASKS_TO_BE_CONNECTED.search(text) if text and not text.startswith("/") else None
    if asked is None:
        return None
    # the partner named in the sentence of the request ("Please put me in touch with the World Bank South-South
    # Facility. I'm Aida Sydykova, UN RCO Kyrgyzstan, …"), not the organisation the user then says they are from
    clause = re.split(r"[.!?;:؟]\s", text[asked.start() :], maxsplit=1)[0]
    if len(services.retriever.named_partners(clause)) != 1:
        return None
    from actions.introductions import ActionRequestIntroduction  # introductions searches through this module

    events = await ActionRequestIntroduction(action.context).run(dispatcher, tracker, domain)
    if SlotSet("intro_stage", "collecting") in events:
        events.append(FollowupAction("introduction_form"))
    return events


class SearchAction(GalaxyAction):
    """A new search: the message is the need. A message that only changes filters ("only in Asia")
    refines the current search instead."""

    kind = "solution"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        t = Texts.of(tracker)
        back = await back_to_results(self, services, dispatcher, tracker, domain)
        if back is not None:
            return back
        connect = await introduction_instead(self, services, dispatcher, tracker, domain)
        if connect is not None:
            return connect
        # "compare the azerbaijan and georgia ones" read as a search: the two items side by side
        # (asked which, when it points at items it does not make out: "compare that one with the Egypt exchange")
        said = latest_text(tracker) or ""
        answered = answer_comparison(services, dispatcher, tracker, DialogueState.of(tracker), t, said, ask=points_back(said) or bool(THE_ONE.search(said)))
        if answered is None:
            answered = answer_if_about_opened(services, dispatcher, tracker)  # "who are the partners on it?"
        if answered is None:
            answered = quote_about_opened(services, dispatcher, tracker)  # "do they buy from smallholders?"
        if answered is None:
            answered = answer_about_described(services, dispatcher, tracker)  # "the Asian regional one, who supports it?"
        if answered is None:
            answered = answer_about_first(services, dispatcher, tracker, asked_fields(tracker))  # "which countries received the support?"
        if answered is not None:
            return answered
        return records_note(dispatcher, tracker, t, await self._search(services, dispatcher, tracker, t))

    async def _search(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, t: Texts) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        text = latest_text(tracker)
        request = FilterRequest.of(tracker, text)
        topic_entity = next((str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "topic" and e.get("value")), None)
        if topic_entity:  # a button ("Search without filters") names its topic
            topic = " ".join(topic_entity.split())[:500]
        elif state.topic and not leftover_topic(text, tracker):
            return await refine(services, dispatcher, tracker, state, FilterRequest.of(tracker, text, vocabulary=True), kind=state.kind)
        elif state.topic and self.kind != state.kind and points_back(text, _SAME_KIND) and len(leftover_topic(text, tracker).split()) <= 3:
            # "who funds this kind of work?" after a solution search: partners for the same topic
            topic = f"{state.topic} {leftover_topic(text, tracker)}".strip()
        else:
            topic = need_of(text)
            asked = about_the_platform(self, services, dispatcher, state, text, t)
            if asked is not None:
                return asked
            if "sdg" not in request.new and "sdg" not in request.old:
                # a new need: the goal chosen for the previous one does not carry over (fish farming's
                # SDG 14 is no filter for rice); the places the user works in do
                state = replace(state, filters=replace(state.filters, sdg=None))
        if not words(topic or ""):
            dispatcher.utter_message(response="utter_ask_topic")
            return []
        outcome = apply(state.filters, request)
        if outcome.conflict:
            return ask_conflict(dispatcher, outcome, t)
        filters = outcome.filters
        # "Kenya and Uganda" in a need is not one filter: search the need, which names both. "Pacific or
        # Caribbean" is: either of them.
        if filters.places and not request.either:
            filters = replace(filters, places=())
        kind = self.kind
        names_a_partner = kind == "partner" and bool(services.retriever.named_partners(topic))
        if kind == "partner" and not names_a_partner and not topic_entity and topic == need_of(text) and not asks_for_partners(text, t.language):
            # a bare need ("drones for disaster resilience") read as a partner search: solutions, as for
            # every need that does not ask who, which agency, which fund…
            kind = "solution"
        if names_a_partner and not topic_entity and _SOLUTION_WORDS.search(topic) and not _ORGANISATION_WORDS.search(_WHO_ASKS.sub(" ", topic)):
            # "does PICA have other projects in the catalogue?", "TIKA's projects in health": its solutions
            kind, names_a_partner = "solution", False
        opened = open_named_partner(services, dispatcher, tracker, state, topic, t) if names_a_partner and not request.new else None
        if opened is not None:  # "who is ONEE?", "tell me about the Islamic Development Bank as a partner"
            return opened
        # a partner search no profile answers closely gets the solutions that do, unless it names a partner
        instead = kind == "partner" and not names_a_partner
        return run_search(services, dispatcher, state, topic=topic, kind=kind, filters=filters, t=t, solutions_instead=instead, widen=not request.exclusive)


# Words besides a partner's name that still only ask who it is ("c'est qui", "расскажите про … как партнёра")
_WHO_IS_WORDS = {"en": 0, "fr": 1, "ru": 2, "ar": 2}


def open_named_partner(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, state: DialogueState, topic: str, t: Texts) -> list[dict[str, Any]] | None:
    """A message that only names one partner ("who is ONEE?", "Tell me about the Islamic Development Bank
    as a partner", "C'est qui, l'OFPPT ?"): its profile, opened beside the list on screen (which stays, so
    "back to the results" still works). None when it says more than who it is ("IsDB projects on water")."""
    named = services.retriever.named_partners(topic)
    if len(named) != 1 or any(e.get("entity") in ("country", "region", "sdg", "ordinal") for e in tracker.latest_message.get("entities") or []):
        return None
    partner = named[0]
    name_stems = set(tokens(" ".join([partner.display_name(), partner.name, *partner.aliases])))
    foreign = {w.casefold() for w in services.retriever.names_said(partner, topic)}  # "صندوق إبسا", "Астанинский хаб"
    leftover = [w for w in words(topic) if not set(tokens(w)) <= name_stems and not _in_name(w, partner) and w not in FOREIGN_POINTING and w not in foreign]
    if len(leftover) > _WHO_IS_WORDS.get(t.language, 0):
        return None
    new = replace(state, selected=partner.id, shown=tuple([i for i in state.shown if i != partner.id] + [partner.id]))
    if not state.results:
        new = replace(new.with_list([partner.id], offset=0), topic=topic, kind="partner")
    return [e for e in new.events() if e["name"] != "selected_id"] + show_record(services, dispatcher, new, partner.id, t)


def _in_name(word: str, partner) -> bool:
    """Whether a word of the message is part of the partner's acronym or name as written ("l'ofppt")."""
    said = word.casefold().removeprefix("l'").removeprefix("l’")
    acronym = (partner.acronym or "").casefold()
    return bool(acronym) and (said == acronym or said.endswith(acronym))


# English words with which a message asks for organisations rather than solutions: who, an agency, a
# fund, a donor… A need without any of them, naming no partner, is a search for solutions.
_PARTNER_WORDS = frozenset(
    """partner partners partnering partnership partnerships agency agencies organisation organisations
    organization organizations org orgs who whom whose fund funds funder funders funding finance finances
    financing financier financiers donor donors donnor donnors sponsor sponsors ngo ngos institution
    institutions institute institutes ministry ministries bank banks foundation foundations university
    universities government governments body bodies entity entities company companies firm firms provider
    providers expert experts expertise collaborate collaborators cooperate connect contact introduce reach
    actor actors stakeholder stakeholders players champion champions network networks team teams grant
    grants supporter supporters association associations union council councils think tank tanks
    focal""".split()
)


# The same in French, Russian and Arabic, as word beginnings (inflections, and Arabic clitics: the
# article and a leading و/ب/ل are dropped first): "partenaires", "организации", "والمنظمات".
_PARTNER_STEMS = {
    "fr": tuple("""partenaire organisation organisme agence bailleur donateur donneur fonds financ institution
        ministère ministere banque fondation universit ong expert acteur réseau reseau contact coopér cooper""".split()),
    "ru": tuple("""партн организац агентств кто фонд донор финанс спонсор институт министерств банк университет
        нко эксперт ведомств учрежден сеть контакт сотруднич""".split()),
    "ar": tuple("""شريك شركاء منظم وكال جهة جهات ممول مانح صندوق صناديق بنك بنوك مصرف وزار جامع مؤسس خبير خبراء يمول تمول""".split()),
}


# Who the user is ("I work at the Ministry of Agriculture", "We are a small NGO in Uganda", "Notre ONG à
# Abidjan…", "Я работаю в Министерстве юстиции", "أنا من منظمة غير حكومية"): the organisation words
# of a self-introduction say who asks, not that organisations are asked for
_WHO_ASKS = re.compile(
    r"\b(?:(?:i\s*(?:'m|am)|we\s*(?:'re|are))\s+(?:a|an|the|with|from|at|in\s+charge|part\s+of|responsible)|(?:i|we)\s+(?:work|represent|coordinate|run|lead|manage|head|direct|chair|founded)"
    r"|our\s+(?:ngo|organi[sz]ation|ministry|agency|office|team|network))\b[^.!?;\n]*"
    r"|\b(?:je\s+(?:suis|travaille|représente)|nous\s+(?:sommes|travaillons|représentons)|notre\s+(?:ong|organisation|ministère|agence|bureau|équipe|réseau))\b[^.!?;\n]*"
    r"|(?<!\w)(?:я\s+(?:работаю|представляю|из)|мы\s+(?:работаем|представляем)|наш[аеи]?\s+(?:организац\w*|министерств\w*|агентств\w*|нко|ведомств\w*))[^.!?;\n]*"
    r"|(?:أنا\s+من|أعمل\s+(?:في|لدى|مع)|نحن\s+(?:منظمة|جمعية|وزارة|مؤسسة)|أمثل)[^.!?؟;\n]*",
    re.IGNORECASE,
)


# "coopération Sud-Sud", "сотрудничество Юг-Юг", "التعاون جنوب-جنوب": the platform's subject, not a partner
_SOUTH_SOUTH = re.compile(r"coop[ée]ration\s+(?:sud|triangulaire)|сотрудничеств\w*\s+юг|التعاون\s+(?:جنوب|فيما\s+بين|بين\s+بلدان)", re.IGNORECASE)


# Words that ask for solutions outright, and the words that still ask for organisations beside them
_SOLUTION_WORDS = re.compile(
    r"\b(?:solutions?|projects?|programmes?|programs?|initiatives?|examples?|experiences?|practices?|cases?"
    r"|projets?|programmes?|exemples?|expériences?|pratiques?)\b"
    r"|(?<!\w)(?:решени\w*|проект\w*|программ\w*|пример\w*|опыт\w*|практик\w*)"
    r"|(?:حلول|الحلول|مشاريع|المشاريع|مشروع|برامج|تجارب|التجارب|أمثلة|ممارسات)",
    re.IGNORECASE,
)
_ORGANISATION_WORDS = re.compile(
    r"\b(?:partners?|organi[sz]ations?|agenc(?:y|ies)|institutions?|who|whom|ngos?|companies|firms|foundations?|banks?"
    r"|partenaires?|organismes?|agences?|qui|bailleurs?|fondations?|banques?)\b"
    r"|(?<!\w)(?:партн\w*|организац\w*|агентств\w*|кто|фонды|фондов|учреждени\w*)"
    r"|(?:شريك|شركاء|منظمات|وكالات|جهات|من\s+هي|مؤسسات|المؤسسات|صناديق|الصناديق|الجهات|المانحين|الممولين)",
    re.IGNORECASE,
)


def asks_for_partners(text: str, language: str = "en") -> bool:
    """Whether a message asks for organisations (see _PARTNER_WORDS, _PARTNER_STEMS), not counting the
    words with which the user says who they are."""
    text = _SOUTH_SOUTH.sub(" ", _WHO_ASKS.sub(" ", text))
    solutions, organisations = _SOLUTION_WORDS.search(text), _ORGANISATION_WORDS.search(text)
    if solutions and (organisations is None or solutions.start() < organisations.start()):
        # "which solutions with Kazakhstan as a donor?", "disaster risk projects, ideally funded by a Southern
        # partner": solutions asked for first, the organisations are a role in them
        return False
    if language == "en" or language not in _PARTNER_STEMS:
        return bool(_PARTNER_WORDS & set(re.findall(r"[a-z]+", text.casefold())))
    said = re.findall(r"[^\W\d_]+", text.casefold())
    if language == "fr" and said and said[0] == "qui":  # "qui finance… ?", not "des projets qui aident…"
        return True
    if language == "ar":
        return any(core.removeprefix("ال").startswith(stem) for w in said for core in arabic_cores(w) for stem in _PARTNER_STEMS["ar"])
    return any(w.startswith(stem) for w in said for stem in _PARTNER_STEMS[language])


# "partners for such work", "the same for partners"
_SAME_KIND = frozenset({"such", "same"})


def ask_conflict(dispatcher: CollectingDispatcher, outcome: FilterOutcome, t: Texts = ENGLISH) -> list[dict[str, Any]]:
    operation = "remove" if outcome.conflict == "remove" else "replace"
    buttons = [
        {"title": filter_label(name, value, t), "payload": payload("refine_search", operation=operation, scope=name) if operation == "remove" else payload("refine_search", operation=operation, **{name: value})}
        for name, value in outcome.choices
    ]
    if outcome.conflict == "remove":
        question = t("filters.which_to_remove")
    elif {name for name, _ in outcome.choices} <= {"country", "region"} and len(outcome.choices) >= 2:
        first, second = (filter_label(name, value, t) for name, value in outcome.choices[:2])
        question = t("filters.pick_one", scope=t(f"filters.scope.{outcome.choices[0][0]}"), first=first, second=second)
    else:
        question = t("filters.one_at_a_time", scope=t(f"filters.scope.{outcome.choices[0][0]}"))
    dispatcher.utter_message(text=question, buttons=buttons)
    return []


# "in the", "en", "dans l'", "в", "في": the words that lead into a place name, in the four languages
def failed_need(tracker: Tracker) -> str | None:
    """The need of the last search when it found nothing ("solar in the Maghreb"): such a search keeps no
    list, so the state does not hold it. Read back over the messages just before this one while each
    found nothing, past those that only changed filters ("what about the Gulf instead?"). None when the
    message before this one found something."""
    users = [i for i, event in enumerate(tracker.events) if event.get("event") == "user"]
    for back in range(2, min(len(users), 4) + 1):
        previous, after = users[-back], users[-back + 1]
        nothing = any(e.get("event") == "slot" and e.get("name") == "search_outcome" and e.get("value") == "nothing" for e in tracker.events[previous:after])
        text = str(tracker.events[previous].get("text") or "")
        if not nothing or not text or text.startswith("/"):
            return None
        parsed = tracker.events[previous].get("parse_data") or {}
        said = Tracker(tracker.sender_id, {}, {**parsed, "text": text}, [], False, None, {}, "")
        if leftover_topic(text, said):  # words beyond places and steering: the need
            return need_of(text)
    return None


_PLACE_LEAD = re.compile(
    r"(?:\b(?:in|for|from|across|around|within|of|on|en|au|aux|dans|pour|de|du|des|в|во|по|для|из|на|في|من)\s+|\bd['’])?"
    r"(?:(?:the|la|le|les)\s+|l['’])?$",
    re.IGNORECASE,
)


def _place_pairs(filters: Filters) -> set[tuple[str, Any]]:
    """The places the filters name, as (kind, value) pairs as `place_spans` gives them."""
    pairs = {("country", filters.country), ("region", filters.region)}
    return pairs | {("country" if geography().is_country(p) else "region", p) for p in filters.places}


def without_places(topic: str, now: Filters, before: Filters | None) -> str:
    """The topic without the places a filter change moved away from: "water projects in Central Asia"
    with the region changed to the Pacific is "water projects" in the Pacific, not a search for Central
    Asia inside it. Places still filtered on, and topics that are nothing but a place, stay.
    `before` None: every place the filters do not keep goes."""
    now_places = _place_pairs(now)
    if before is not None and now_places == _place_pairs(before):
        return topic
    kept = topic
    # "leave out Bangladesh": its name goes from the need too, or it would still pull its records up
    excluded = {("country", code) for code in now.exclude}
    removed = False
    for start, end, kind, value in reversed(place_spans(topic)):
        gone = (kind, value) not in now_places if before is None else (kind, value) in _place_pairs(before) - now_places
        if gone or (kind, value) in excluded:
            lead = _PLACE_LEAD.search(kept[:start])
            kept = kept[: lead.start() if lead else start].rstrip() + " " + kept[end:].lstrip()
            removed = True
    if removed:  # "…water use. Central Asia only please." -> "…water use."
        sentences = re.split(r"(?<=[.!?؟])\s+", kept)
        kept = " ".join(x for x in sentences if any(w not in _REFINEMENT_WORDS for w in words(x))) or kept
    kept = re.sub(r"\s+([.,;:!?؟»])", r"\1", re.sub(r"\s+", " ", kept)).strip(" ,;-")  # "health ." -> "health."
    return kept if words(kept) else topic


async def refine(
    services: KnowledgeServices,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    state: DialogueState,
    request: FilterRequest,
    *,
    kind: str,
    topic_words: bool = True,
) -> list[dict[str, Any]]:
    """The current search with its filters (and maybe its topic) changed as the message asks;
    `topic_words`: whether the message's other words may change the topic."""
    t = Texts.of(tracker)
    text = latest_text(tracker)
    if request.operation == "list" and not request.changes_anything():
        dispatcher.utter_message(text=state_text(state, t), buttons=back_button(state, t))
        return []
    if request.operation is None and request.scopes and not request.new and not request.old and last_bot_action(tracker) == "action_refine_search":
        request = replace(request, operation="remove")  # "the country", answering "Which filter should I remove?"
    outcome = apply(state.filters, request)
    if outcome.conflict:
        return ask_conflict(dispatcher, outcome, t)
    extra = leftover_topic(text, tracker) if text and topic_words else ""
    topic = without_places(state.topic, outcome.filters, state.filters) if state.topic else state.topic
    places = {"country", "region"}
    failed = failed_need(tracker) if not extra and places & (set(request.new) | set(request.old)) else None
    if failed:
        # "solar in the Maghreb" found nothing (its list was not kept), then "what about the Gulf
        # instead?": the filter change is for that need, not for the list still on screen
        topic = without_places(failed, outcome.filters, None)
    if extra:
        if request.operation in ("replace", "clear") or "topic" in request.scopes or not topic or _new_need(extra, topic):
            topic = extra
        elif extra not in (topic or ""):
            topic = f"{topic} {extra}"
    elif request.operation in ("clear", "remove") and "topic" in request.scopes:
        topic = None
    if not topic:
        if outcome.filters != state.filters:
            dispatcher.utter_message(text=t("search.done_what_next", state=state_text(replace(state, filters=outcome.filters, topic=None), t)))
            return filter_events(outcome.filters)
        dispatcher.utter_message(response="utter_ask_topic")
        return []
    if outcome.filters == state.filters and topic == state.topic and not outcome.unknown:
        if request.changes_anything():
            dispatcher.utter_message(text=t("search.nothing_to_change", state=state_text(state, t)), buttons=back_button(state, t))
            return []
    note = ""
    if state.filters.any() and not outcome.filters.any():
        note = t("search.filters_cleared")  # "clear all filters": said, not only seen in the header
    if outcome.unknown:
        note += t("search.unusable", problems="; ".join(outcome.unknown))
    # a new need said as a follow-up ("and what about one-stop service centres?") with the place kept from
    # before, not said now: its close matches from anywhere when the place has few
    widen = bool(extra) and topic == extra and not (places & (set(request.new) | set(request.old))) and not request.exclusive
    return records_note(dispatcher, tracker, t, run_search(services, dispatcher, state, topic=topic, kind=kind, filters=outcome.filters, note=note, t=t, widen=widen))


def about_the_platform(action: "SearchAction", services: KnowledgeServices, dispatcher: CollectingDispatcher, state: DialogueState, text: str, t: Texts) -> list[dict[str, Any]] | None:
    """A question about joining or using the Galaxy read as a need ("can national governments join?")
    that the catalogue does not answer closely: the FAQ's answer, or honestly that we do not know."""
    if not asks_about_the_platform(text) or ranked_page(services, text, action.kind, state.filters, 0)[2] == "match":
        return None
    from actions.support import faq_best, faq_reply  # (support builds on this module)

    match = faq_best(services, text)
    contact = action.context.settings.unossc_contact
    if match is not None:
        dispatcher.utter_message(text=faq_reply(match, contact, t), buttons=back_button(state, t))
        return [SlotSet("faq_outcome", "answered" if match.covered else "low_confidence")]
    dispatcher.utter_message(response="utter_dont_know", contact=contact)
    return [SlotSet("faq_outcome", "dont_know")]


# A question about joining or using the platform itself, not a development need
_PLATFORM = re.compile(
    r"\b(?:join|joining|register|registering|registration|sign\s*up|signing\s+up|membership|become\s+a\s+(?:member|partner)"
    r"|an?\s+account|log\s*in|login|subscri\w+|fees?|costs?|charge|free\s+of\s+charge|for\s+free|(?:the|this)\s+(?:galaxy|platform|website|portal|site|assistant|bot))\b"
    r"|\b(?:contact\s+(?:person|point)|focal\s+points?|for\s+(?:our|my)\s+region|unossc\s+(?:office|staff|team|division)|regional\s+(?:office|rollout|roll-out|division)|roll-?out|webinar)\b"
    r"|\b(?:rejoindre|adh[ée]rer|inscri\w+|un\s+compte|gratuit\w*|frais|la\s+plateforme)\b"
    r"|(?<!\w)(?:присоедин\w+|зарегистр\w+|регистрац\w+|аккаунт\w*|бесплатн\w+|платформ\w+|вступить)"
    r"|(?<!\w)(?:الانضمام|انضمام|ينضم|تنضم|التسجيل|تسجيل|أسجل|اسجل|حساب|المنصة|مجان\w*|رسوم)",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"[?؟]\s*$|^\W*(?:can|could|may|how|who|what|which|is|are|do|does|should|where|when|peut|peuvent|comment|qui|est-ce"
    r"|можно|может|могут|как|кто|هل|كيف|من|ما|ماذا)\b",
    re.IGNORECASE,
)


def asks_about_the_platform(text: str) -> bool:
    return bool(text) and not text.startswith("/") and bool(_QUESTION.search(text)) and bool(_PLATFORM.search(text))


class ActionSearchSolutions(SearchAction):
    kind = "solution"

    def name(self) -> str:
        return "action_search_solutions"


class ActionSearchPartners(SearchAction):
    kind = "partner"

    def name(self) -> str:
        return "action_search_partners"


async def search_if_a_need(action: GalaxyAction, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A message read as something else (out of scope, an FAQ question nobody wrote, a question about
    no record) that the catalogue answers closely is a need after all ("coffee growing", "halal
    certification"): its search. None when the catalogue has no close match: then it was not."""
    text = latest_text(tracker)
    if not text or not words(text):
        return None
    state = DialogueState.of(tracker)
    # partners only when the message names one: place names alone make partner matches ("hotels in Istanbul")
    kind = "partner" if services.retriever.named_partners(text) else "solution"
    if ranked_page(services, text, kind, state.filters, 0)[2] != "match":
        return None
    search = ActionSearchPartners if kind == "partner" else ActionSearchSolutions
    return await search(action.context).act(services, dispatcher, tracker, domain)


class ActionRefineSearch(GalaxyAction):
    """Add, replace, remove, clear or list the filters of the current search."""

    def name(self) -> str:
        return "action_refine_search"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        # a comparison read as a filter change ("compare the Egypt and Viet Nam ones") is never one: asked which
        answered = answer_comparison(services, dispatcher, tracker, DialogueState.of(tracker), Texts.of(tracker), latest_text(tracker))
        if answered is None:
            answered = answer_if_about_opened(services, dispatcher, tracker, pointing=True)  # "which SDGs does it contribute to?"
        if answered is None:
            answered = answer_about_described(services, dispatcher, tracker)  # "which countries learned from the georgian model?"
        if answered is not None:
            return answered
        state = DialogueState.of(tracker)
        request = FilterRequest.of(tracker, latest_text(tracker))
        return await refine(services, dispatcher, tracker, state, request, kind=state.kind)


class ActionShowMore(GalaxyAction):
    def name(self) -> str:
        return "action_show_more"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        answered = answer_if_about_opened(services, dispatcher, tracker)  # "where can I read more?"
        if answered is not None:
            return answered
        t = Texts.of(tracker)
        state = DialogueState.of(tracker)
        text = latest_text(tracker)
        if text and state.shown and describes_something(text):
            matched = described(text, tracker, state, services.retriever.get)
            if len(matched) == 1:  # "tell me more about Kollo": that record, not the next page
                return open_or_answer(services, dispatcher, tracker, state, matched[0], t)
        if not state.topic:
            dispatcher.utter_message(response="utter_nothing_to_page")
            return []
        if text and any(e.get("entity") in ("country", "region", "sdg") for e in tracker.latest_message.get("entities") or []):
            # "any other projects like this one? only SDG 5": the same search with that filter
            return await refine(services, dispatcher, tracker, state, FilterRequest.of(tracker, text, vocabulary=True), kind=state.kind, topic_words=False)
        offset = state.offset + PAGE_SIZE
        shown, more, outcome = ranked_page(services, state.topic, state.kind, state.filters, offset)
        noun = noun_of(state.kind, t)
        if not shown:
            text = t("search.all_close", topic=state.topic) if outcome == "match" else t("search.all_noun", noun=noun, topic=state.topic)
            dispatcher.utter_message(text=text, buttons=back_button(state, t))
            return []
        header = t("search.more_match" if outcome == "match" else "search.more_nearest", noun=noun, topic=state.topic)
        new = state.with_list([r.id for r in shown], offset=offset)
        _show_list(services, dispatcher, new, shown, header=header, more=more, t=t)
        return new.events()


class ActionShowResults(GalaxyAction):
    """The list the user last saw, again (after an FAQ, an aside or a record's details)."""

    def name(self) -> str:
        return "action_show_results"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        t = Texts.of(tracker)
        state = DialogueState.of(tracker)
        request = FilterRequest.of(tracker, latest_text(tracker))
        if state.topic and request.new:
            # "back to the list, anything in Kyrgyzstan?": the list, narrowed as asked
            return await refine(services, dispatcher, tracker, state, replace(request, operation=request.operation or "add"), kind=state.kind, topic_words=False)
        if not state.results:
            dispatcher.utter_message(response="utter_nothing_to_detail")
            return []
        reasons = _reasons(services, state)
        found = [services.retriever.get(i) for i in state.results]
        results = [
            replace(reasons[r.id], score=0.0) if r.id in reasons else SearchResult(record=r, score=0.0, why="shown earlier", reasons=[("shown", ())])
            for r in found
            if r is not None
        ]
        if not results:
            dispatcher.utter_message(text=t("search.gone"))
            return []
        where = t("search.where_filters", filters=filters_text(state.filters, t)) if state.filters.any() else ""
        header = t("search.your_results", topic=state.topic, where=where) if state.topic else t("search.shown_before", noun=noun_of(state.kind, t))
        _show_list(services, dispatcher, state, results, header=header, more=bool(state.topic), t=t)
        return []


def _reasons(services: KnowledgeServices, state: DialogueState) -> dict[str, SearchResult]:
    """Why each record of the list matched its topic (`why`, `reasons`), from one search."""
    if not state.topic:
        return {}
    ranked = services.retriever.search(state.topic, kind=state.kind, top_k=state.offset + PAGE_SIZE + 1, filters=state.filters)
    return {result.id: result for result in ranked}
