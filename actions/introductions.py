"""Brokered introductions in the conversation: pick the partner, collect the requester's details
(introduction_form), show a summary, and store the request only after explicit consent."""
from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.base import GalaxyAction, input_channel, latest_entities, latest_text
from actions.context import ActionContext
from actions.formatting import payload
from actions.search import chosen_record_id
from knowledge.catalogue import Partner, Solution
from introductions.service import IntroductionError, IntroductionService, InvalidRequest, RateLimited
from knowledge.services import KnowledgeServices
from knowledge.text import words

DETAIL_SLOTS = ("requester_name", "requester_organisation", "requester_role", "requester_email", "intro_message")
FIELD_LABELS = {
    "requester_name": "name",
    "requester_organisation": "organisation and role",
    "requester_email": "email",
    "intro_message": "message",
}
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_ROLE_SPLIT = re.compile(r"\s*(?:,|;|\s[-–—]\s)\s*")


def _forget_details() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in DETAIL_SLOTS] + [
        SlotSet("intro_stage", None),
        SlotSet("intro_target_id", None),
        SlotSet("intro_partner_id", None),
    ]


def _partner_of(services: KnowledgeServices, record: Solution | Partner | None) -> Partner | None:
    if isinstance(record, Partner):
        return record
    if isinstance(record, Solution) and record.provider:
        provider = services.retriever.get(record.provider)
        return provider if isinstance(provider, Partner) else None
    return None


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


class ActionRequestIntroduction(IntroductionAction):
    """Works out which partner the user means: a result they were shown (button or "the second
    one"), the item they opened, or an organisation they name outright."""

    def name(self) -> str:
        return "action_request_introduction"

    async def broker(self, services: KnowledgeServices, introductions: IntroductionService, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        record_id = chosen_record_id(tracker) if latest_entities(tracker, "ordinal") else None
        record = services.retriever.get(record_id) if record_id else None
        if record is None:
            named = services.retriever.named_partners(latest_text(tracker))
            record = named[0] if named else None
        if record is None and tracker.get_slot("selected_id") in (tracker.get_slot("shown_ids") or []):
            record = services.retriever.get(tracker.get_slot("selected_id"))
        if record is None and len(tracker.get_slot("last_results") or []) == 1:
            record = services.retriever.get(tracker.get_slot("last_results")[0])
        if record is None:
            dispatcher.utter_message(response="utter_which_partner")
            return [SlotSet("intro_stage", None)]
        partner = _partner_of(services, record)
        if partner is None:
            dispatcher.utter_message(
                text=f"The team behind **{record.title}** is not a registered Galaxy partner yet, so I can't send them a request. The UNOSSC team can help: {self.context.settings.unossc_contact}."
            )
            return [SlotSet("intro_stage", None)]
        about = f"**{partner.display_name()}**" if isinstance(record, Partner) else f"**{partner.display_name()}**, the provider of **{record.title}**"
        dispatcher.utter_message(response="utter_intro_start", about=about)
        name, email = tracker.get_slot("requester_name"), tracker.get_slot("requester_email")
        if name and email:
            organisation = tracker.get_slot("requester_organisation") or "your organisation"
            dispatcher.utter_message(
                text=f"I'll reuse the details you gave me before ({name}, {organisation}, {email}); you can change "
                "any of them in the summary before anything is sent."
            )
        return [
            SlotSet("intro_target_id", record.id),
            SlotSet("intro_partner_id", partner.id),
            SlotSet("selected_id", record.id),
            SlotSet("intro_stage", "collecting"),
        ]


class ValidateIntroductionForm(FormValidationAction):
    def __init__(self, context: ActionContext) -> None:
        super().__init__()
        self.context = context

    def name(self) -> str:
        return "validate_introduction_form"

    def validate_requester_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
        name = " ".join(str(value or "").split())
        if not re.search(r"[^\W\d_]", name) or len(name) > 120 or name.startswith("/"):
            dispatcher.utter_message(text="Please type your name (up to 120 characters).")
            return {"requester_name": None}
        return {"requester_name": name}

    def validate_requester_organisation(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not re.search(r"[^\W\d_]", text) or len(text) > 300 or text.startswith("/"):
            dispatcher.utter_message(text="Please type the name of your organisation.")
            return {"requester_organisation": None}
        organisation, role = _split_role(text)
        return {"requester_organisation": organisation, "requester_role": role or None}

    def validate_requester_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
        email = str(value or "").strip().strip("<>").strip()
        if len(email) > 254 or not _EMAIL.match(email):
            dispatcher.utter_message(text="That doesn't look like an email address. Please type it again, e.g. name@organisation.org.")
            return {"requester_email": None}
        return {"requester_email": email}

    def validate_intro_message(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
        message = str(value or "").strip()
        if len(words(message)) < 2 or message.startswith("/"):
            dispatcher.utter_message(text="Please write a sentence or two about what you'd like to discuss.")
            return {"intro_message": None}
        if len(message) > 1500:
            dispatcher.utter_message(text="That's a bit long: please keep it under 1,500 characters.")
            return {"intro_message": None}
        return {"intro_message": message}


def _split_role(text: str) -> tuple[str, str]:
    parts = _ROLE_SPLIT.split(text, maxsplit=1)
    organisation = parts[0].strip()
    role = parts[1].strip() if len(parts) > 1 else ""
    return organisation, role


def _summary(services: KnowledgeServices, tracker: Tracker) -> str:
    partner = services.retriever.get(tracker.get_slot("intro_partner_id") or "")
    target = services.retriever.get(tracker.get_slot("intro_target_id") or "")
    who = partner.display_name() if isinstance(partner, Partner) else "the partner"
    lines = [f"Here is what I would send to **{who}**" + (f" about **{target.title}**" if isinstance(target, Solution) else "") + ":"]
    lines.append(f"• Name: {tracker.get_slot('requester_name')}")
    lines.append(f"• Organisation: {tracker.get_slot('requester_organisation')}")
    lines.append(f"• Role: {tracker.get_slot('requester_role') or 'not given'}")
    lines.append(f"• Email: {tracker.get_slot('requester_email')}")
    lines.append(f"• Message: {tracker.get_slot('intro_message')}")
    lines.append("")
    lines.append(f"Do you agree that I share these details with {who} so they can contact you? They get your details now; you get theirs only if they accept.")
    return "\n".join(lines)


class ActionConfirmIntroduction(GalaxyAction):
    def name(self) -> str:
        return "action_confirm_introduction"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        buttons = [
            {"title": "Yes, share my details", "payload": payload("affirm")},
            {"title": "No, don't send anything", "payload": payload("deny")},
        ] + [{"title": f"Change {label}", "payload": payload("correct_detail", field=slot)} for slot, label in FIELD_LABELS.items()]
        dispatcher.utter_message(text=_summary(services, tracker), buttons=buttons)
        return [SlotSet("intro_stage", "confirming")]


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
        target = services.retriever.get(target_id)
        key_source = "|".join([tracker.sender_id, target_id, partner_id, details["requester_email"] or "", details["intro_message"] or "", date.today().isoformat()])
        try:
            introduction = introductions.request(
                conversation_id=tracker.sender_id,
                channel=input_channel(tracker),
                target_kind=target.kind if target else "partner",
                target_id=target_id,
                partner_id=partner_id,
                name=details["requester_name"],
                organisation=details["requester_organisation"],
                role=details["requester_role"],
                email=details["requester_email"],
                message=details["intro_message"],
                idempotency_key=hashlib.sha256(key_source.encode("utf-8")).hexdigest(),
            )
        except RateLimited as exc:
            dispatcher.utter_message(text=f"You've reached the limit of {exc.limit} introduction requests a day, which protects partners from spam. Please try again tomorrow; nothing was sent this time.")
            return [SlotSet("intro_stage", None)]
        except InvalidRequest as exc:
            label = FIELD_LABELS.get(f"requester_{exc.field}", FIELD_LABELS.get(exc.field, exc.field))
            dispatcher.utter_message(text=f"Your {label} {exc.problem}. Say \"change my {label.split()[0]}\" to fix it; nothing was sent.")
            return []
        except IntroductionError:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        partner = services.retriever.get(partner_id)
        who = partner.display_name() if isinstance(partner, Partner) else "the partner"
        dispatcher.utter_message(
            text=(
                f"Thank you. Your request **{introduction.reference}** is recorded and {who} will be notified "
                f"(status: {introduction.status}). If they accept, you'll receive their contact details at {details['requester_email']}"
                f"{' and in this chat' if introduction.channel == 'telegram' else ''}. "
                "Ask \"what happened to my introduction?\" at any time."
            )
        )
        # The contact details stay for the next request (offered for reuse); the message was for this partner.
        return [
            SlotSet("intro_stage", None),
            SlotSet("intro_target_id", None),
            SlotSet("intro_partner_id", None),
            SlotSet("intro_message", None),
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


class ActionCorrectDetail(GalaxyAction):
    """"My email is wrong": clear that detail and let the form ask for it again."""

    def name(self) -> str:
        return "action_correct_detail"

    async def act(self, services: KnowledgeServices, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.get_slot("intro_stage") != "confirming":
            dispatcher.utter_message(response="utter_nothing_to_correct")
            return [SlotSet("intro_stage", None)]
        fields = [f for f in latest_entities(tracker, "field") if f in FIELD_LABELS]
        if not fields:
            dispatcher.utter_message(
                text="Which detail would you like to change?",
                buttons=[{"title": label.capitalize(), "payload": payload("correct_detail", field=slot)} for slot, label in FIELD_LABELS.items()],
            )
            return [SlotSet("intro_stage", "confirming")]
        field = fields[-1]
        dispatcher.utter_message(text=f"Okay, let's fix your {FIELD_LABELS[field]}.")
        events = [SlotSet(field, None), SlotSet("intro_stage", "collecting")]
        if field == "requester_organisation":
            events.append(SlotSet("requester_role", None))
        return events


class ActionIntroductionStatus(IntroductionAction):
    def name(self) -> str:
        return "action_introduction_status"

    async def broker(self, services: KnowledgeServices, introductions: IntroductionService, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        requests = introductions.for_conversation(tracker.sender_id)
        if not requests:
            dispatcher.utter_message(response="utter_no_introductions")
            return []
        lines = ["Your introduction requests:"]
        for item in requests:
            partner = services.retriever.get(item.partner_id)
            who = partner.display_name() if isinstance(partner, Partner) else item.partner_id
            lines.append(f"• {item.reference} to {who}: **{item.status}** (requested {item.created_at:%d %b %Y})")
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionDeleteMyData(IntroductionAction):
    def name(self) -> str:
        return "action_delete_my_data"

    async def broker(self, services: KnowledgeServices, introductions: IntroductionService, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        removed = introductions.delete_for_conversation(tracker.sender_id)
        dispatcher.utter_message(
            text=f"Done: I deleted the personal details of {removed} introduction request(s) and forgot the details you gave in this conversation."
            if removed
            else "Done: I hold no introduction requests for you, and I've forgotten the details you gave in this conversation."
        )
        return _forget_details()
