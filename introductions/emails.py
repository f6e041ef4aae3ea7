"""The wording of the four introduction emails. Plain text; subjects carry only the reference so that
no personal data travels in headers or ends up in mail-server logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from knowledge.catalogue import Partner

SIGNATURE = "Galaxy Assistant\nSouth-South Galaxy, United Nations Office for South-South Cooperation (UNOSSC)"


@dataclass(frozen=True)
class Requester:
    name: str
    organisation: str
    role: str | None
    email: str
    message: str

    def described(self) -> str:
        return f"{self.name} ({self.role}, {self.organisation})" if self.role else f"{self.name} ({self.organisation})"


@dataclass(frozen=True)
class FocalPoint:
    """Who speaks for the partner: its private contact, or the UNOSSC broker when it has none."""

    partner_name: str
    name: str
    email: str
    is_broker: bool

    @classmethod
    def of(cls, partner: Partner | None, partner_id: str, broker_email: str) -> FocalPoint:
        name = partner.display_name() if partner else partner_id
        if partner is not None and partner.contact is not None and partner.contact.email:
            return cls(name, partner.contact.name, partner.contact.email, is_broker=False)
        return cls(name, "UNOSSC partnership team", broker_email, is_broker=True)


def _about(solution: str | None) -> str:
    return f' about the solution "{solution}"' if solution else ""


def _quoted(text: str) -> str:
    return "\n".join(f"  > {line}" for line in text.splitlines() or [""])


def partner_notification(
    reference: str,
    requester: Requester,
    focal: FocalPoint,
    solution: str | None,
    accept_url: str,
    decline_url: str,
    expires_at: datetime,
) -> tuple[str, str]:
    """To the partner's focal point: who asks, why, and the two single-use links. No requester email yet."""
    forward = (
        f"{focal.partner_name} has no focal point on file with the Galaxy Assistant, so this request comes to "
        f"UNOSSC. If you accept on their behalf, the requester receives this address ({focal.email}) as the "
        f"contact for {focal.partner_name}.\n\n"
        if focal.is_broker
        else ""
    )
    greeting = f"Dear {focal.name}," if focal.name else "Dear colleague,"
    found = (
        f'found the solution "{solution}" on the South-South Galaxy and asks to be introduced to {focal.partner_name}'
        if solution
        else f"found {focal.partner_name} on the South-South Galaxy and asks to be introduced"
    )
    body = (
        f"{greeting}\n\n{forward}"
        f"{requester.described()} {found}. They agreed to share these details with you.\n\n"
        f"Their message:\n{_quoted(requester.message)}\n\n"
        f"Accept, and we send you their email address and send them yours:\n{accept_url}\n\n"
        f"Decline, and we let them know politely; nothing else is shared:\n{decline_url}\n\n"
        f"Each link works once, until {expires_at:%d %B %Y %H:%M} UTC. Until you accept, the requester has "
        f"received none of your contact details.\n\n"
        f"Reference: {reference}\n\n{SIGNATURE}\n"
    )
    return f"Introduction request {reference} from the South-South Galaxy", body


def requester_accepted(
    reference: str, requester: Requester, focal: FocalPoint, solution: str | None
) -> tuple[str, str]:
    """The only message that reveals a partner's contact to a requester, written once the partner accepted."""
    if focal.is_broker:
        contact = (
            f"Please write to the UNOSSC partnership team at {focal.email}; they will put you in touch with "
            f"{focal.partner_name}."
        )
    else:
        who = f"{focal.name} at {focal.partner_name}" if focal.name else focal.partner_name
        contact = f"You can now write to {who}: {focal.email}"
    body = (
        f"Dear {requester.name},\n\n"
        f"Good news: {focal.partner_name} accepted your introduction request {reference}{_about(solution)}.\n\n"
        f"{contact}\n\n"
        f"They have received your name, organisation, role and email address, and may write to you first.\n\n"
        f"{SIGNATURE}\n"
    )
    return f"Introduction {reference} accepted", body


def partner_accepted(reference: str, requester: Requester, focal: FocalPoint) -> tuple[str, str]:
    greeting = f"Dear {focal.name}," if focal.name else "Dear colleague,"
    role = f"Role: {requester.role}\n" if requester.role else ""
    body = (
        f"{greeting}\n\n"
        f"Thank you for accepting introduction {reference}. Here are the requester's contact details:\n\n"
        f"Name: {requester.name}\n{role}Organisation: {requester.organisation}\nEmail: {requester.email}\n\n"
        f"Their message:\n{_quoted(requester.message)}\n\n"
        f"They have received your address ({focal.email}) and may write to you.\n\n{SIGNATURE}\n"
    )
    return f"Introduction {reference}: contact details", body


def requester_declined(
    reference: str,
    requester: Requester,
    focal: FocalPoint,
    solution: str | None,
    alternatives: Sequence[tuple[str, str]] = (),
) -> tuple[str, str]:
    """`alternatives`: (name, source URL) of similar partners the requester could approach instead."""
    if alternatives:
        listed = "\n".join(f"- {name}: {url}" for name, url in alternatives)
        suggestions = (
            "Partners working on similar themes, whom you can find and contact through the Galaxy Assistant:\n"
            f"{listed}\n\n"
        )
    else:
        suggestions = (
            f"You can ask the Galaxy Assistant to find similar partners or solutions, for example: "
            f'"find partners like {focal.partner_name}".\n\n'
        )
    body = (
        f"Dear {requester.name},\n\n"
        f"Thank you for your interest in {focal.partner_name}. They are not able to take up your introduction "
        f"request {reference}{_about(solution)} at this time. This is often a matter of capacity or focus, not a "
        f"judgement of your work.\n\n"
        f"Your email address was not shared with them.\n\n"
        f"{suggestions}"
        f"{SIGNATURE}\n"
    )
    return f"Introduction request {reference}", body


def staff_handoff(reference: str, topic: str, email: str, channel: str, created_at: datetime) -> tuple[str, str]:
    """To the UNOSSC staff mailbox: a user asked to talk to a person and agreed to share this."""
    body = (
        "Dear colleagues,\n\n"
        f"A user of the Galaxy Assistant ({channel}) asked to talk to a person at UNOSSC on "
        f"{created_at:%d %B %Y %H:%M} UTC and agreed to share the following with you.\n\n"
        f"What it is about:\n{_quoted(topic)}\n\n"
        f"Reach them at: {email}\n\n"
        f"When you have answered, close it: python -m introductions handoffs close {reference}\n"
        "The user can ask the assistant for its status.\n\n"
        f"Reference: {reference}\n\n{SIGNATURE}\n"
    )
    return f"Hand-off request {reference} from the Galaxy Assistant", body
