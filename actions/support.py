"""Actions that keep a user from getting stuck: clarification on low-confidence NLU, FAQ answers
checked against the question, out-of-scope and thanks that keep the results one tap away (the
hand-off to a person is actions/handoffs.py)."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, latest_text
from actions.compare import answer_comparison
from actions.dialogue import DialogueState
from actions.formatting import ENGLISH, payload
from actions.i18n import Texts, faq_answer
from actions.language import tell_unsupported, unsupported_language
from actions.feedback import faq_just_answered, faq_ref, feedback_buttons
from actions.record_questions import answer_if_about_opened, open_or_answer, quote_about_opened
from actions.references import POINTING_BACK, described as described_records, points_back
from actions.filters import FilterRequest
from actions.search import ActionSearchPartners, answer_about_described, back_button, back_to_results, leftover_topic, need_of, refine, search_if_a_need
from knowledge.catalogue import FaqEntry, Partner
from knowledge.faq import FaqMatch
from knowledge.services import KnowledgeServices
from knowledge.text import is_common_word, words

# What each intent offers as a suggestion when the assistant is unsure (the button title's catalogue key).
SUGGESTIONS = {
    "find_solution": "button.find_solutions",
    "find_partner": "button.find_partners",
    "faq": "button.about_galaxy",
    "human_handoff": "button.talk_to_person",
    "help": "button.what_can_you_do",
}


def faq_text(entry: FaqEntry, t: Texts = ENGLISH) -> str:
    """The entry's answer in the conversation's language (the team's translations, actions/messages/faq/)."""
    source = f"\n\n{t('faq.source')}: {entry.source}" if entry.source and entry.source.startswith("http") and entry.source not in entry.answer else ""
    return faq_answer(entry.id, entry.answer, t.language) + source


def faq_reply(match: FaqMatch, contact: str, t: Texts = ENGLISH) -> str:
    """The answer, or, when the entry may not say what was asked, the entry as the nearest thing we
    know, said as such, with whom to ask."""
    if match.covered:
        return faq_text(match.entry, t)
    return t("faq.nearest", question=match.entry.question, answer=faq_text(match.entry, t), contact=contact)


# A follow-up that points back at the answer's subject says little else: "who organised it?", "how many
# solutions and orgs are on it?" (words, whatever they are)
FOLLOW_UP_WORDS = 10
_WORD = re.compile(r"[^\W_]+")
_POINTS_BACK = re.compile(rf"\b({'|'.join(sorted(POINTING_BACK))})\b", re.IGNORECASE)


def faq_follow_up(services: KnowledgeServices, tracker: Tracker) -> FaqMatch | None:
    """A question right after an FAQ answer that points back at its subject ("who organised it?" after the
    webinar's answer): the entry that covers it once its subject is put in, None otherwise."""
    text = latest_text(tracker)
    entry_id = faq_just_answered(tracker)
    entry = services.faq.get(entry_id) if entry_id and services.faq is not None else None
    if entry is None or not entry.topics or not text or not _POINTS_BACK.search(text):
        return None
    if len(_WORD.findall(text)) > FOLLOW_UP_WORDS:
        # "our ministry has a good practice in e-procurement, how do we submit it?": the message says
        # itself what "it" is
        return None
    match = faq_best(services, _POINTS_BACK.sub(entry.topics[0], text, count=1))
    if match is None or not match.covered:
        return None
    # the follow-up reading only when it fits better than the question read alone: "how many solutions
    # and orgs are on it?" after the webinar's answer is the figures question, not about the webinar
    plain = faq_best(services, text)
    return match if plain is None or not plain.covered or plain.similarity < match.similarity else None


def answer_faq_follow_up(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, contact: str) -> list[dict[str, Any]] | None:
    match = faq_follow_up(services, tracker)
    return None if match is None else reply_with_faq(match, dispatcher, tracker, contact)


def recent_fallbacks(tracker: Tracker) -> int:
    """How many misses in a row came just before this one (user turns in between count). A clarification
    or an out-of-scope reply that understood the message after all (it searched, answered or opened
    something: it set slots) was no miss, so "zzxqv" after a need read as out of scope and searched
    is a first miss, not "still"."""
    actions: list[list[Any]] = []  # [name, whether it set slots], in order
    for event in tracker.events:
        kind = event.get("event")
        if kind == "action" and event.get("name") not in ("action_listen", None):
            actions.append([event.get("name"), False])
        elif kind == "slot" and actions:
            actions[-1][1] = True
        elif kind == "user" and actions:
            actions.append([None, False])  # slots set from the user's message belong to no action
    count = 0
    for name, set_slots in reversed(actions):
        if name is None:
            continue
        if name == "action_default_fallback" or (name in ("action_clarify", "action_out_of_scope") and not set_slots):
            count += 1
        else:
            break
    return count


CLARIFY_TEXTS = ("clarify.first", "clarify.second", "clarify.third")


class ActionClarify(GalaxyAction):
    """Low NLU confidence: open the item on screen the message describes, answer from the FAQ when it
    clearly covers the question, search when the catalogue answers the text closely; otherwise suggest
    the likely intents instead of guessing. Repeated misses vary the reply and offer the main actions,
    a person at UNOSSC among them."""

    def name(self) -> str:
        return "action_clarify"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        state = DialogueState.of(tracker)
        t = Texts.of(tracker)
        if not words(text):
            dispatcher.utter_message(response="utter_text_only")
            return []
        if unsupported_language(tracker):
            tell_unsupported(dispatcher)
            return []
        back = await back_to_results(self, services, dispatcher, tracker, domain)  # "Revenons à la liste : montrez-m'en d'autres."
        if back is not None:
            return back
        answered = answer_if_about_opened(services, dispatcher, tracker)  # "sources?"
        if answered is None:  # "who organised it?" right after the webinar's FAQ answer
            answered = answer_faq_follow_up(services, dispatcher, tracker, self.context.settings.unossc_contact)
        if answered is None:  # "do they buy from local smallholders?" with a record open
            answered = quote_about_opened(services, dispatcher, tracker)
        if answered is not None:
            return answered
        # Before asking back: a description of an item on screen, a question the FAQ clearly covers,
        # or a need the catalogue answers closely ("halal certification") is understood after all.
        described = described_records(text, tracker, state, services.retriever.get) if state.results else []
        if len(described) == 1:  # "the rainwater one", "which SDGs is the religious leaders one about"
            return open_or_answer(services, dispatcher, tracker, state, described[0], t)
        match = faq_best(services, text)
        if match is not None and match.covered:
            dispatcher.utter_message(text=faq_text(match.entry, t), buttons=back_button(state, t))
            return [SlotSet("faq_outcome", "answered")]
        request = FilterRequest.of(tracker, text, vocabulary=True)
        if state.topic and (request.operation == "list" or (not leftover_topic(text, tracker) and request.changes_anything())):
            # "in Morocco" after a search, read as unsure: a filter change of that search; "ما هي الفلاتر
            # المفعلة الآن؟": which filters are on
            return await refine(services, dispatcher, tracker, state, request, kind=state.kind)
        found = await search_if_a_need(self, services, dispatcher, tracker, domain)
        if found is not None:
            return found
        misses = recent_fallbacks(tracker)
        ranking = [r.get("name") for r in tracker.latest_message.get("intent_ranking", [])]
        buttons = []
        if misses == 0:
            for intent in ranking:
                if intent in SUGGESTIONS and len(buttons) < 3:
                    buttons.append({"title": t(SUGGESTIONS[intent]), "payload": payload(intent)})
        for intent in ("find_solution", "find_partner", "help") if misses == 0 else ("find_solution", "find_partner", "human_handoff", "help"):
            if len(buttons) < (3 if misses == 0 else 4) and all(b["payload"] != payload(intent) for b in buttons):
                buttons.append({"title": t(SUGGESTIONS[intent]), "payload": payload(intent)})
        buttons = back_button(state, t) + buttons
        dispatcher.utter_message(text=t(CLARIFY_TEXTS[min(misses, len(CLARIFY_TEXTS) - 1)]), buttons=buttons)
        return []


class ActionAnswerFaq(GalaxyAction):
    """A question about the Galaxy: the ResponseSelector's answer only when it is confident and the
    question is semantically close to that entry; else the closest entry when it clearly covers the
    question; else an honest "I don't know" with the contact. The results stay one tap away."""

    def name(self) -> str:
        return "action_answer_faq"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        entry_id, confidence = faq_selection(tracker)
        state = DialogueState.of(tracker)
        t = Texts.of(tracker)
        answered = answer_if_about_opened(services, dispatcher, tracker)  # "can you give me their email?"
        if answered is None:
            answered = answer_about_described(services, dispatcher, tracker)  # "Is FEIMS on the Galaxy? Send me the link."
        if answered is not None:
            return answered
        match = services.faq.check(text, entry_id, confidence) if services.faq is not None and text else None
        if match is None or not match.covered:
            match = faq_follow_up(services, tracker) or match  # "when was it?" after the webinar's answer
        if match is None and not text and services.faq is not None:
            entry = services.faq.get(entry_id)  # a button payload: the entry it names
            match = FaqMatch(entry, 1.0) if entry else None
        named = services.retriever.named_partners(text) if text else []
        if named and (match is None or about_another_partner(match, named)):
            # "what is the South Centre?" read as a question about the Galaxy: the organisation's
            # profile answers it, not the nearest FAQ entry (which would be about UNOSSC).
            return await ActionSearchPartners(self.context).act(services, dispatcher, tracker, domain)
        if match is None:
            # "human milk bank network" read as a question about the Galaxy: a need after all
            found = await search_if_a_need(self, services, dispatcher, tracker, domain)
            if found is not None:
                return found
            if state.results and text and points_back(text):
                # "is Tonga a member of that regional system hosted near Bangkok?": a question about an
                # item on the list, not about the Galaxy
                from actions.records import ActionAnswerRecordQuestion

                return await ActionAnswerRecordQuestion(self.context).act(services, dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_dont_know", contact=self.context.settings.unossc_contact, buttons=back_button(state, t))
            return [SlotSet("faq_outcome", "dont_know")]
        reply = faq_reply(match, self.context.settings.unossc_contact, t)
        dispatcher.utter_message(text=reply, buttons=back_button(state, t) + feedback_buttons(faq_ref(match.entry.id)))
        outcome = "answered" if match.entry.id == entry_id and match.covered else "low_confidence"
        return [SlotSet("faq_outcome", outcome)]


def faq_best(services: KnowledgeServices, text: str) -> FaqMatch | None:
    """The FAQ entry that clearly covers a question, by the FAQ's own search; None when none does or
    when the question names catalogue organisations the entry says nothing about."""
    match = services.faq.best(text) if services.faq is not None and text else None
    if match is None or about_another_partner(match, services.retriever.named_partners(text)):
        return None
    return match


def faq_selected(services: KnowledgeServices, tracker: Tracker) -> FaqMatch | None:
    """The FAQ's answer to the latest message whatever intent it was read as: the ResponseSelector's entry
    checked against the question (as `ActionAnswerFaq` does), else the entry that clearly covers it."""
    text = latest_text(tracker)
    entry_id, confidence = faq_selection(tracker)
    if services.faq is not None and text and entry_id:
        match = services.faq.check(text, entry_id, confidence)
        if match is not None and not about_another_partner(match, services.retriever.named_partners(text)):
            return match
    return faq_best(services, text)


def faq_selection(tracker: Tracker) -> tuple[str, float]:
    """The FAQ entry the ResponseSelector chose for the latest message and its confidence ("", 0.0: none)."""
    selected = ((tracker.latest_message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    key = str(selected.get("intent_response_key") or "")
    return (key.split("/", 1)[1] if "/" in key else ""), float(selected.get("confidence") or 0.0)


def reply_with_faq(match: FaqMatch, dispatcher: CollectingDispatcher, tracker: Tracker, contact: str) -> list[dict[str, Any]]:
    """An FAQ entry's answer, with the way back to the results and the feedback buttons."""
    t = Texts.of(tracker)
    dispatcher.utter_message(text=faq_reply(match, contact, t), buttons=back_button(DialogueState.of(tracker), t) + feedback_buttons(faq_ref(match.entry.id)))
    return [SlotSet("faq_outcome", "answered")]


def about_another_partner(match: FaqMatch, named: list[Partner]) -> bool:
    """Whether the question names catalogue organisations of which the FAQ entry says nothing."""
    return bool(named) and not any(names_partner(match.entry, partner) for partner in named)


def names_partner(entry: FaqEntry, partner: Partner) -> bool:
    """Whether an FAQ entry is about this organisation: its name, acronym or an alias appears in the
    entry's question or answer (an acronym as written, a name in any case)."""
    text = " ".join((entry.question, *entry.variants, entry.answer))
    folded = text.casefold()
    if partner.acronym and re.search(rf"\b{re.escape(partner.acronym)}\b", text):
        return True
    return any(name and name.casefold() in folded for name in (partner.name, *partner.aliases))


class ActionFaqFallback(GalaxyAction):
    """A question about the Galaxy that no FAQ answer covers: search the FAQ semantically,
    else say honestly that we do not know and who to ask."""

    def name(self) -> str:
        return "action_faq_fallback"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        match = faq_best(services, latest_text(tracker))
        if match is not None:
            dispatcher.utter_message(text=faq_reply(match, self.context.settings.unossc_contact, Texts.of(tracker)))
            return [SlotSet("faq_outcome", "answered" if match.covered else "low_confidence")]
        dispatcher.utter_message(response="utter_dont_know", contact=self.context.settings.unossc_contact)
        return [SlotSet("faq_outcome", "dont_know")]


_JOKE = re.compile(r"\b(?:jokes?|joking|make\s+me\s+laugh|something\s+funny|blagues?|dr[ôo]le)\b|(?<!\w)(?:шутк\w*|анекдот\w*|пошути\w*)|(?:نكت|نكتة|اضحكني)", re.IGNORECASE)


class ActionOutOfScope(GalaxyAction):
    """Outside what the assistant does: say so, and point back to the current results when there are some."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        text = latest_text(tracker)
        if text and not any(is_common_word(w) for w in re.findall(r"[^\W\d_]+", text)):
            # no word of any language model's vocabulary ("asdf qwer", "KOICA?"): not understood rather
            # than out of scope, so the clarification (and its FAQ and catalogue checks) answers
            return await ActionClarify(self.context).act(services, dispatcher, tracker, domain)
        answered = answer_comparison(services, dispatcher, tracker, state, Texts.of(tracker), text or "")  # "compare it with the Kyrgyz one"
        if answered is None:
            answered = answer_if_about_opened(services, dispatcher, tracker)
        if answered is None:  # "do they buy from local smallholders?" with a record open
            answered = quote_about_opened(services, dispatcher, tracker)
        if answered is not None:
            return answered
        found = await search_if_a_need(self, services, dispatcher, tracker, domain)  # "coffee growing"
        if found is not None:
            return found
        t = Texts.of(tracker)
        if text and _JOKE.search(text):
            # "tell me a joke, it's been a long week": a light word, and the results stay where they were
            dispatcher.utter_message(text=t("out_of_scope.joke"), buttons=back_button(state, t))
            return []
        if state.results and state.topic:
            dispatcher.utter_message(
                text=t("out_of_scope.with_results", topic=state.topic),
                buttons=back_button(state, t) + [{"title": t("button.what_can_you_do"), "payload": payload("help")}],
            )
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        return []


WEBINAR_QUESTIONS = 5


class ActionWebinarWelcome(GalaxyAction):
    """Webinar entry point (web page or Telegram start=webinar): a short welcome and the top FAQ
    questions as buttons. A button sends the question's text, so the answer comes from the FAQ model."""

    def name(self) -> str:
        return "action_webinar_welcome"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        entries = services.faq.entries if services.faq else []
        ranked = sorted((e for e in entries if e.webinar_rank), key=lambda e: e.webinar_rank or 0)[:WEBINAR_QUESTIONS]
        buttons = [{"title": entry.question, "payload": entry.question} for entry in ranked]
        t = Texts.of(tracker)
        buttons.append({"title": t("button.find_solutions"), "payload": payload("find_solution")})
        dispatcher.utter_message(text=t("webinar.welcome"), buttons=buttons)
        return []


class ActionGreet(GalaxyAction):
    """"Hi", "how are you?": the full greeting at the start; in the middle of a search, a short one that keeps
    the results one tap away instead of starting over."""

    def name(self) -> str:
        return "action_greet"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        if state.results and state.topic:
            t = Texts.of(tracker)
            dispatcher.utter_message(text=t("greet.with_results", topic=state.topic), buttons=back_button(state, t))
        else:
            dispatcher.utter_message(response="utter_greet")
        return []


class ActionThank(GalaxyAction):
    """"Thanks": you're welcome, with the results one tap away when there are some."""

    def name(self) -> str:
        return "action_thank"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        if text and need_of(text) != text:
            # "thanks, that's useful! also anything on rice in West Africa?": the need after the thanks
            found = await search_if_a_need(self, services, dispatcher, tracker, domain)
            if found is not None:
                return found
        dispatcher.utter_message(response="utter_thank", buttons=back_button(DialogueState.of(tracker), Texts.of(tracker)))
        return []
