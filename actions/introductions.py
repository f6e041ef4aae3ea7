"""Brokered introductions in the conversation: pick the partner, collect the requester's details
(introduction_form), show a summary, and store the request only after explicit consent."""
from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import GalaxyAction, ends_as_question, input_channel, latest_entities, latest_text, text_without
from actions.compare import answer_comparison, asks_to_compare
from actions.details import (
    EMAIL_IN,
    INTRODUCTION_DETAILS,
    SELF_INTRODUCTION,
    Detail,
    DetailForm,
    apply_correction,
    by_slot,
    consent_is_current,
    correction,
    digest,
    introduced_details,
    labelled_correction,
    listed_details,
    stops_the_form,
)
from actions.formatting import ENGLISH, payload
from actions.i18n import Texts
from actions.dialogue import DialogueState
from actions.records import explain_reference
from actions.references import Reference, points_at_it, resolve
from actions.search import search_if_a_need
from introductions.models import OPEN_STATUSES
from introductions.service import IntroductionError, IntroductionService, InvalidRequest, RateLimited
from knowledge.catalogue import Partner, Solution
from knowledge.closed_values import closed_entities
from knowledge.services import KnowledgeServices

DETAILS = by_slot(INTRODUCTION_DETAILS)
DETAIL_SLOTS = tuple(DETAILS)
FIELD_LABELS = {slot: detail.label for slot, detail in DETAILS.items()}
# What a summary showed (and consent covers): the details and the partner they go to.
SUMMARY_SLOTS = (*DETAIL_SLOTS, "intro_target_id", "intro_partner_id")
# Actions after which the user is looking at the summary.
SUMMARY_ACTIONS = {"action_confirm_introduction", "action_correct_detail", "action_submit_introduction"}


def _forget_details() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in DETAIL_SLOTS] + [
        SlotSet("intro_stage", None),
        SlotSet("intro_target_id", None),
        SlotSet("intro_partner_id", None),
        SlotSet("intro_summary_digest", None),
    ]


def _partner_of(services: KnowledgeServices, record: Solution | Partner | None) -> Partner | None:
    if isinstance(record, Partner):
        return record
    if isinstance(record, Solution) and record.provider:
        provider = services.retriever.get(record.provider)
        return provider if isinstance(provider, Partner) else None
    return None


# English words with which a message asks to meet someone rather than describing a need.
# Asking to be put in touch, in French, Russian and Arabic ("mise en relation", "познакомиться", "التواصل مع")
_CONNECT = re.compile(
    r"\b(?:mett\w*\s+en\s+(?:relation|contact)|mise\s+en\s+(?:relation|contact)|pr[ée]sent\w*|contact\w*)\b"
    r"|(?<!\w)(?:связ\w*|познаком\w*|контакт\w*|свести)|(?:تواصل|التواصل|عرّفني|عرفني|اتصال|أوصلني|وصلني)",
    re.IGNORECASE,
)
_ASKS_FOR_SOMEONE = re.compile(
    r"\b(introduc\w*|connect\w*|contact\w*|touch|reach|meet|talk|speak|someone|somebody|anyone|people|person|team|partner\w*)\b",
    re.IGNORECASE,
)


class IntroductionAction(GalaxyAction, ABC):
    """An action that needs the introductions store; an apology when it is unavailable.
    Never registered itself."""

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if self.context.introductions is None:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        return await self.broker(services, self.context.introductions, dispatcher, tracker)

    @abstractmethod
    async def broker(self, services: KnowledgeServices, introductions: IntroductionService, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        ...


def _details_start(text: str) -> int | None:
    """Where the sentence with the requester's details begins ("… to them. Chikondi Banda, …, c@b.org"),
    or where "I'm …" begins; None when the details are the whole message."""
    email = EMAIL_IN.search(text)
    ends = [m.end() for m in re.finditer(r"[.!?]\s+", text[: email.start()])] if email else []
    start = ends[-1] if ends else None
    introduced = re.search(SELF_INTRODUCTION + r"[A-ZÀ-ÖØ-ÞА-ЯЁ]", text)
    if introduced and (start is None or introduced.start() < start):
        start = introduced.start()
    return start or None


# A request for someone's phone number or personal contact ("номер телефона руководителя", "le numéro de
# téléphone du responsable", "رقم هاتف المدير")
_ASKS_PHONE = re.compile(
    r"\b(?:phone|telephone|mobile\s+number|cell(?:phone)?|whatsapp|t[ée]l[ée]phone|portable)\b|(?<!\w)(?:телефон\w*|мобильн\w*|ватсап\w*)|(?:هاتف|جوال|واتساب)",
    re.IGNORECASE,
)


# A request to be told about something ("Tell me about the agency behind them", "Parlez-moi de …", "Расскажите о …",
# "حدثني عن …"): information wanted, not an introduction
_TELL_ME = re.compile(r"^\W*(?:(?:please\s+)?tell\s+me|what\s+do\s+you\s+know|parle[zs]?[- ]moi|dites[- ]m'en|racontez|расскаж\w*|حدثني|أخبرني|احكيلي)\b", re.IGNORECASE)


class ActionRequestIntroduction(IntroductionAction):
    """Works out which partner the user means: a result they were shown (button or "the second
    one"), the item they opened, or an organisation they name outright."""

    def name(self) -> str:
        return "action_request_introduction"

    async def broker(self, services: KnowledgeServices, introductions: IntroductionService, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        state = DialogueState.of(tracker)
        said = latest_text(tracker)
        given = listed_details(said, by_slot(INTRODUCTION_DETAILS), last_sentence=True) or introduced_details(said, by_slot(INTRODUCTION_DETAILS))
        cut = _details_start(said) if given else None
        if cut:
            # "Please introduce me to them. Chikondi Banda, Malawi ICT Agency, c.banda@…": who is meant is
            # said before the details; their words (Malawi) describe no item
            tracker.latest_message["entities"] = [e for e in tracker.latest_message.get("entities") or [] if not isinstance(e.get("start"), int) or e["start"] < cut]
        # read as a request for an introduction but asking to compare ("compare the UN Women one with the
        # GEF one") or a question about a record ("qui le finance ?"): answered as such, no form
        compared = answer_comparison(services, dispatcher, tracker, state, Texts.of(tracker), said)
        if compared is None and asks_to_compare(said):
            # nothing on screen to compare: say how, rather than start an introduction
            dispatcher.utter_message(text=Texts.of(tracker)("compare.which", first=state.offset + 1, second=state.offset + 2))
            compared = []
        if compared is not None:
            return compared + [SlotSet("intro_stage", None)]
        asks_field = latest_entities(tracker, "attribute") or any(e["entity"] == "attribute" for e in closed_entities(said))
        asks = ends_as_question(said) or bool(_TELL_ME.match(said or ""))
        if said and asks_field and asks and not (_CONNECT.search(said) or _ASKS_PHONE.search(said) or (_ASKS_FOR_SOMEONE.search(said) and not _TELL_ME.match(said))):
            from actions.records import ActionAnswerRecordQuestion

            return await ActionAnswerRecordQuestion(self.context).act(services, dispatcher, tracker, {}) + [SlotSet("intro_stage", None)]
        text = text_without(tracker, ("attribute", "operation", "scope"))
        if cut and len(text) == len(said):
            text = text[:cut]
        reference = resolve(tracker, state, text, services.retriever.get, describe=False)
        if reference.out_of_range is not None:
            explain_reference(dispatcher, services, state, reference, "request_introduction")
            return [SlotSet("intro_stage", None)]
        record = services.retriever.get(reference.record_id) if reference.explicit and reference.record_id else None
        if record is None:
            # the partner named before the details ("… with the World Bank facility. I'm Aida, UN RCO, …")
            named = services.retriever.named_partners(text) or services.retriever.named_partners(latest_text(tracker))
            record = named[0] if named else None
        if record is None:
            described = resolve(tracker, state, text, services.retriever.get)
            if described.candidates:
                explain_reference(dispatcher, services, state, described, "request_introduction")
                return [SlotSet("intro_stage", None)]
            record = services.retriever.get(described.record_id) if described.record_id else None
        if record is None:
            # nobody to introduce: a need read as a request ("smallholder rice production") is searched;
            # a request that asks for an introduction ("introduce me to someone who knows water") is asked back
            text = latest_text(tracker)
            bare_need = not (_ASKS_FOR_SOMEONE.search(text) or _CONNECT.search(text))  # "Есть ли что-нибудь про …?"
            found = await search_if_a_need(self, services, dispatcher, tracker, {}) if bare_need else None
            if found is not None:
                return found + [SlotSet("intro_stage", None)]
            if state.results and points_at_it(text):  # "introduce me to them", "Хочу с ними связаться"
                # "can you introduce me to them?" with several items on screen: which one, a button each
                explain_reference(dispatcher, services, state, Reference(), "request_introduction", Texts.of(tracker))
                return [SlotSet("intro_stage", None)]
            dispatcher.utter_message(response="utter_which_partner")
            return [SlotSet("intro_stage", None)]
        partner = _partner_of(services, record)
        t = Texts.of(tracker)
        if partner is None:
            dispatcher.utter_message(text=t("intro.not_partner", title=record.title, contact=self.context.settings.unossc_contact))
            return [SlotSet("intro_stage", None)]
        about = f"**{partner.display_name()}**" if isinstance(record, Partner) else t("intro.about_provider", partner=partner.display_name(), title=record.title)
        if _ASKS_PHONE.search(said or ""):
            # "give me the phone number of ASAN's head": the catalogue keeps no such contact; an introduction instead
            dispatcher.utter_message(text=t("intro.no_phone"))
        dispatcher.utter_message(response="utter_intro_start", about=about)
        name, email = tracker.get_slot("requester_name"), tracker.get_slot("requester_email")
        if name and email:
            organisation = tracker.get_slot("requester_organisation") or t("intro.your_organisation")
            dispatcher.utter_message(text=t("intro.reuse", name=name, organisation=organisation, email=email))
        events = [
            SlotSet("intro_target_id", record.id),
            SlotSet("intro_partner_id", partner.id),
            SlotSet("selected_id", record.id),
            SlotSet("intro_stage", "collecting"),
            SlotSet("intro_summary_digest", None),
        ]
        # "… I'm Grace Akello from the Northern Uganda Women Energy Network, grace@example.org": the form
        # asks only what is missing
        events += [SlotSet(slot, value) for slot, value in given.items()]
        if {"requester_email", "intro_message"} <= given.keys() and "requester_role" not in given:
            events.append(SlotSet("requester_role", ""))  # everything but the optional role: the summary follows
        if tracker.get_slot("handoff_stage"):  # one consent question at a time
            events.append(SlotSet("handoff_stage", None))
        return events


class ValidateIntroductionForm(DetailForm):
    """The requester's details, checked by the validators the store uses (introductions.validation)."""

    details = INTRODUCTION_DETAILS

    def name(self) -> str:
        return "validate_introduction_form"

    def cancelled(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_intro_cancelled")
        return _forget_details()

    def switched(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
        """"Could you put me in touch with Barefoot College?" while the details for another partner are
        asked: the request is for the partner named now."""
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/") or not (_ASKS_FOR_SOMEONE.search(text) or _CONNECT.search(text)):
            return None
        services = self.context.services
        named = services.retriever.named_partners(text) if services is not None else []
        partner = named[0] if len(named) == 1 else None
        if partner is None:
            return None
        if partner.id == tracker.get_slot("intro_partner_id"):
            return []  # "je voudrais être mise en relation avec l'OFPPT": the request under way; asked again
        dispatcher.utter_message(text=Texts.of(tracker)("intro.switched", who=partner.display_name()))
        return [SlotSet("intro_target_id", partner.id), SlotSet("intro_partner_id", partner.id), SlotSet("selected_id", partner.id), SlotSet("intro_summary_digest", None)]


def _summary(services: KnowledgeServices, tracker: Tracker, intro: str = "") -> str:
    t = Texts.of(tracker)
    partner = services.retriever.get(tracker.get_slot("intro_partner_id") or "")
    target = services.retriever.get(tracker.get_slot("intro_target_id") or "")
    who = partner.display_name() if isinstance(partner, Partner) else t("intro.the_partner")
    lines = [intro] if intro else []
    about = t("intro.summary_about", title=target.title) if isinstance(target, Solution) else ""
    lines.append(t("intro.summary_head", who=who, about=about))
    for slot in ("requester_name", "requester_organisation", "requester_role", "requester_email", "intro_message"):
        value = tracker.get_slot(slot) or (t("intro.not_given") if slot == "requester_role" else tracker.get_slot(slot))
        lines.append(f"• {t('field.' + slot)}: {value}")
    lines.append("")
    lines.append(t("intro.consent", who=who))
    return "\n".join(lines)


def show_summary(services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, intro: str = "") -> list[dict[str, Any]]:
    """The summary with the consent buttons; consent will cover exactly what it shows."""
    t = Texts.of(tracker)
    buttons = [
        {"title": t("intro.yes"), "payload": payload("affirm")},
        {"title": t("intro.no"), "payload": payload("deny")},
    ] + [{"title": t("intro.change", label=t("label." + slot)), "payload": payload("correct_detail", field=slot)} for slot in FIELD_LABELS]
    dispatcher.utter_message(text=_summary(services, tracker, intro), buttons=buttons)
    return [SlotSet("intro_stage", "confirming"), SlotSet("intro_summary_digest", digest(tracker, SUMMARY_SLOTS))]


class ActionConfirmIntroduction(GalaxyAction):
    def name(self) -> str:
        return "action_confirm_introduction"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.get_slot("intro_stage") is None:
            return []  # the form stopped because the user cancelled: nothing to confirm
        return show_summary(services, dispatcher, tracker)


class ActionSubmitIntroduction(IntroductionAction):
    """Stores the request the user consented to; the partner is notified through the outbox."""

    def name(self) -> str:
        return "action_submit_introduction"

    async def broker(self, services: KnowledgeServices, introductions: IntroductionService, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        details = {name: tracker.get_slot(name) for name in DETAIL_SLOTS}
        target_id, partner_id = tracker.get_slot("intro_target_id"), tracker.get_slot("intro_partner_id")
        # Consent counts only right after the summary, for details that were all collected.
        if tracker.get_slot("intro_stage") != "confirming" or not target_id or not partner_id or not all(details[n] for n in DETAIL_SLOTS if n != "requester_role"):
            dispatcher.utter_message(response="utter_which_partner")
            return [SlotSet("intro_stage", None)]
        # Consent is for the summary the user just read: after anything else (a search, a correction the
        # summary has not shown yet), show it again and ask again.
        if not consent_is_current(tracker, SUMMARY_SLOTS, "intro_summary_digest", SUMMARY_ACTIONS):
            return show_summary(services, dispatcher, tracker, Texts.of(tracker)("intro.check_again"))
        target = services.retriever.get(target_id)
        key_source = "|".join([tracker.sender_id, tracker.get_slot("intro_summary_digest"), date.today().isoformat()])
        try:
            introduction = introductions.request(
                conversation_id=tracker.sender_id,
                channel=input_channel(tracker),
                target_kind=target.kind if target else "partner",
                target_id=target_id,
                partner_id=partner_id,
                name=details["requester_name"],
                organisation=details["requester_organisation"],
                role=details["requester_role"] or None,
                email=details["requester_email"],
                message=details["intro_message"],
                idempotency_key=hashlib.sha256(key_source.encode("utf-8")).hexdigest(),
            )
        except RateLimited as exc:
            dispatcher.utter_message(text=Texts.of(tracker)("intro.rate_limited", limit=exc.limit))
            return [SlotSet("intro_stage", None)]
        except InvalidRequest as exc:
            # The form uses the store's validators, so this is a detail that changed meanwhile (a forged slot).
            label = FIELD_LABELS.get(f"requester_{exc.field}", FIELD_LABELS.get(exc.field, exc.field))
            dispatcher.utter_message(text=f"Your {label} {exc.problem}. Say \"change my {label}\" to fix it; nothing was sent.")
            return [SlotSet("intro_stage", "confirming"), SlotSet("intro_summary_digest", None)]
        except IntroductionError:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        partner = services.retriever.get(partner_id)
        t = Texts.of(tracker)
        who = partner.display_name() if isinstance(partner, Partner) else t("intro.the_partner")
        dispatcher.utter_message(
            text=t(
                "intro.recorded", reference=introduction.reference, who=who, status=introduction.status, email=details["requester_email"],
                in_chat=t("intro.in_this_chat") if introduction.channel == "telegram" else "",
            )
        )
        # The contact details stay for the next request (offered for reuse); the message was for this partner.
        return [
            SlotSet("intro_stage", None),
            SlotSet("intro_target_id", None),
            SlotSet("intro_partner_id", None),
            SlotSet("intro_message", None),
            SlotSet("intro_summary_digest", None),
        ]


class ActionDeclineConsent(GalaxyAction):
    def name(self) -> str:
        return "action_decline_consent"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_no_consent")
        return _forget_details()


class ActionCancelIntroduction(GalaxyAction):
    def name(self) -> str:
        return "action_cancel_introduction"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_intro_cancelled")
        return _forget_details() + [SlotSet("requested_slot", None)]


def correct_at_summary(
    services: KnowledgeServices,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    details: dict[str, Detail],
    fields: dict[str, str] | None,
    stage: str,
    digest_slot: str,
    summary: Callable[..., list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """A correction at a summary: with a valid new value, change it and show the summary again (consent is
    asked again); without one, clear it so that the form asks it again; without a field, ask which."""
    found = correction(tracker, details, fields) or labelled_correction(latest_text(tracker), details)
    if found is None:
        t = Texts.of(tracker)
        dispatcher.utter_message(
            text=t("intro.which_detail"),
            buttons=[{"title": t(f"label.{slot}").capitalize(), "payload": payload("correct_detail", field=slot)} for slot in details],
        )
        return [SlotSet(stage, "confirming"), SlotSet(digest_slot, None)]
    detail, value = found
    events = apply_correction(detail, value, dispatcher, Texts.of(tracker))
    if events[0]["value"] is None:  # asked again by the form, then the summary comes back
        return events + [SlotSet(stage, "collecting"), SlotSet(digest_slot, None)]
    return events + summary(services, dispatcher, _with_slots(tracker, events))


class ActionCorrectDetail(GalaxyAction):
    """A correction at the introduction's summary: "the organisation should be X" changes it and shows the
    summary again; "my email is wrong" clears it so that the form asks it again."""

    def name(self) -> str:
        return "action_correct_detail"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.get_slot("intro_stage") != "confirming":
            # nothing to correct: a need read as a correction ("Нужны примеры адаптации…") is searched
            found = await search_if_a_need(self, services, dispatcher, tracker, domain)
            if found is not None:
                return found + [SlotSet("intro_stage", None)]
            if ends_as_question(latest_text(tracker)):
                # "btw what's the PGTF, could it pay for a small exchange visit?": a question, for the FAQ
                from actions.support import ActionAnswerFaq

                return await ActionAnswerFaq(self.context).act(services, dispatcher, tracker, domain) + [SlotSet("intro_stage", None)]
            dispatcher.utter_message(response="utter_nothing_to_correct")
            return [SlotSet("intro_stage", None)]
        if stops_the_form(latest_text(tracker), None):
            # "Actually our board wants to wait. Please withdraw the request." at the summary: nothing is sent
            return await ActionDeclineConsent(self.context).act(services, dispatcher, tracker, domain)
        return correct_at_summary(services, dispatcher, tracker, DETAILS, None, "intro_stage", "intro_summary_digest", show_summary)


def _with_slots(tracker: Tracker, events: list[dict[str, Any]]) -> Tracker:
    updated = tracker.copy()
    updated.slots = {**tracker.slots, **{e["name"]: e["value"] for e in events if e.get("event") == "slot"}}
    return updated


def _day(moment: Any, t: Texts) -> str:
    # English spells the month ("02 Dec 2026"); the other languages get the unambiguous ISO date.
    return f"{moment:%d %b %Y}" if t.language == "en" else f"{moment:%Y-%m-%d}"


def status_lines(services: KnowledgeServices, introductions: IntroductionService, conversation_id: str, t: Texts = ENGLISH) -> list[str]:
    """The conversation's introduction requests and hand-offs with their status; empty when there are none."""
    lines: list[str] = []
    requests = introductions.for_conversation(conversation_id)
    if requests:
        lines.append(t("status.introductions"))
        for item in requests:
            partner = services.retriever.get(item.partner_id)
            who = partner.display_name() if isinstance(partner, Partner) else item.partner_id
            lines.append(t("status.introduction", reference=item.reference, who=who, status=t(f"status.{item.status}"), day=_day(item.created_at, t)))
    handoffs = introductions.handoffs.for_conversation(conversation_id)
    if handoffs:
        lines.append(t("status.handoffs"))
        for handoff in handoffs:
            if handoff.status == "open":
                state = t("status.handoff_open")
            else:
                state = t("status.handoff_closed", day=_day(handoff.closed_at, t))
            lines.append(t("status.handoff", reference=handoff.reference, state=state, day=_day(handoff.created_at, t)))
    return lines


# What asks after requests made ("any news on my introduction?", "statut de ma demande", "статус запроса")
_ASKS_STATUS = re.compile(
    r"\b(?:status|news|updates?|progress|heard\s+back|pending|accepted|declined|any\s+(?:reply|replies|answer|response))\b"
    r"|\b(?:my|our|the)\s+(?:\w+\s+)?(?:requests?|introductions?|hand-?offs?)\b"
    r"|\b(?:statut|nouvelles|suivi|(?:ma|mes|notre|nos)\s+demandes?)\b|(?<!\w)(?:статус\w*|новост\w*|(?:мо[йиюя]|наш\w*)\s+(?:запрос\w*|заявк\w*))|(?:حالة|طلبي|طلباتي|طلبنا)",
    re.IGNORECASE,
)


# Asking to take back a request ("Please withdraw the request", "retirez ma demande", "отзовите запрос", "اسحب الطلب")
_WITHDRAW = re.compile(
    r"\b(?:withdraw\w*|take\s+back|call\s+off|cancel\s+(?:the|my)\s+(?:request|introduction)|retir\w*|annul\w*)\b"
    r"|(?<!\w)(?:отзов\w*|отозв\w*|отмен\w*)|(?:اسحب|سحب|إلغاء\s+الطلب|ألغ)",
    re.IGNORECASE,
)


class ActionIntroductionStatus(IntroductionAction):
    def name(self) -> str:
        return "action_introduction_status"

    async def broker(self, services: KnowledgeServices, introductions: IntroductionService, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        lines = status_lines(services, introductions, tracker.sender_id, Texts.of(tracker))
        if not lines and not _ASKS_STATUS.search(latest_text(tracker) or ""):
            # "we're the ICT agency of Malawi and want support to set up a CERT" read as asking after a
            # request: a need, searched (or said to have no close match)
            from actions.search import ActionSearchSolutions

            return await ActionSearchSolutions(self.context).act(services, dispatcher, tracker, {})
        waiting = services.retriever.get(tracker.get_slot("intro_partner_id") or "") if tracker.get_slot("intro_stage") == "confirming" else None
        if waiting is not None and _WITHDRAW.search(latest_text(tracker) or ""):
            return await ActionDeclineConsent(self.context).act(services, dispatcher, tracker, {})  # not sent: nothing is
        open_requests = [i for i in introductions.for_conversation(tracker.sender_id) if i.status in OPEN_STATUSES]
        if open_requests and not waiting and _WITHDRAW.search(latest_text(tracker) or ""):
            # "Please withdraw the request": a request sent is with the partner already; UNOSSC staff close it
            t = Texts.of(tracker)
            references = ", ".join(i.reference for i in open_requests)
            dispatcher.utter_message(
                text=t("intro.withdraw_sent", references=references, contact=self.context.settings.unossc_contact),
                buttons=[{"title": t("button.talk_to_person"), "payload": payload("human_handoff")}],
            )
            return []
        if lines:
            dispatcher.utter_message(text="\n".join(lines))
        elif not waiting and not introductions.for_conversation(tracker.sender_id):
            dispatcher.utter_message(response="utter_no_introductions")
        if waiting is not None:
            # the summary is shown and not yet agreed to: that request is the one asked after, not sent; the
            # summary again, with its consent buttons
            who = waiting.display_name() if isinstance(waiting, Partner) else waiting.title
            return show_summary(services, dispatcher, tracker, Texts.of(tracker)("intro.status_unconfirmed", who=who))
        return []


# What says the message is about the user's own data ("delete my data", "erase this conversation", "forget
# me", "supprimez mes données", "удалите мою переписку", "احذف بياناتي"): a deletion is never read from a
# message that does not ("remove the country and tell me about the Brazil centre" is a filter change)
_OWN_DATA = re.compile(
    r"\b(?:data|details|history|information|info|conversation|chat|records?|profile|account|e-?mail|contact|consent|gdpr"
    r"|forget|forgotten|personal|stored|told|shared|gave|database|system|(?:delete|erase|remove|forget|wipe)\s+(?:me|us|everything|all|my\s+(?:stuff|things|messages|info\w*)))\b"
    r"|\b(?:donn[ée]es|informations?|infos|historique|conversation|profil|compte|coordonn[ée]es|oubli\w*|effacement|personnelles|fichiers|sur\s+moi|que\s+j'ai)\b"
    r"|(?<!\w)(?:данн\w*|информаци\w*|истори\w*|переписк\w*|разговор\w*|чат\w*|профил\w*|сведени\w*|забуд\w*|забыть|удалени\w*|обо\s+мне|рассказал\w*|поделил\w*)"
    r"|(?:بيانات|معلومات|سجل|محادثة|المحادثة|الدردشة|ملفي|انساني|انسى|المحو|إيميل|ايميل|عني|قلته|شاركت|أعطيت)",
    re.IGNORECASE,
)


def asks_to_delete_own_data(text: str) -> bool:
    """Whether a message (not a button) is about the user's own data, so a deletion can be read from it."""
    return bool(_OWN_DATA.search(text or ""))


class ActionDeleteMyData(GalaxyAction):
    """Deletes the conversation's introduction requests and hand-offs, forgets the details it holds, and has
    the conversation's history erased (the tracker store erases it after this action; the widget clears its
    copy on `erase_history`)."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        introductions = self.context.introductions
        t = Texts.of(tracker)
        text = latest_text(tracker)  # "" for the button's payload, which deletes
        if text and not asks_to_delete_own_data(text):
            # read as "delete my data" but about something else: a filter change goes to the filters;
            # anything else is asked, with the deletion one tap away; nothing is erased
            from actions.filters import FilterRequest
            from actions.search import refine

            state = DialogueState.of(tracker)
            if state.topic and any(e["entity"] == "operation" for e in closed_entities(text)):
                return await refine(services, dispatcher, tracker, state, FilterRequest.of(tracker, text, vocabulary=True), kind=state.kind)
            keep = {"title": t("button.keep_data"), "payload": payload("show_results") if state.results else payload("help")}
            dispatcher.utter_message(text=t("erase.confirm"), buttons=[{"title": t("button.erase"), "payload": payload("delete_my_data")}, keep])
            return []
        dispatcher.utter_message(json_message={"erase_history": True})
        if introductions is None:
            dispatcher.utter_message(text=t("erase.unavailable"))
        else:
            requests = introductions.delete_for_conversation(tracker.sender_id)
            handoffs = introductions.handoffs.delete_for_conversation(tracker.sender_id)
            dispatcher.utter_message(text=t("erase.done", requests=requests, handoffs=handoffs))
        return _forget_details() + [
            SlotSet("handoff_stage", None),
            SlotSet("handoff_topic", None),
            SlotSet("handoff_email", None),
            SlotSet("handoff_summary_digest", None),
        ]
