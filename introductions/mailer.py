"""SMTP delivery of outbox messages. Logs carry the outbox id only: never an address or a body."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

from knowledge.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    outbox_id: int
    recipient: str
    subject: str
    body: str

    def __repr__(self) -> str:  # reprs reach tracebacks and logs
        return f"Email(outbox_id={self.outbox_id})"


class Mailer(Protocol):
    def send(self, email: Email) -> None:
        """Hand the email to the mail system or raise; an exception means "try again later"."""


class SmtpMailer:
    """Sends through the SMTP server of the settings: STARTTLS when SMTP_STARTTLS, login when SMTP_USER."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def send(self, email: Email) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = email.recipient
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False)
        # One Message-ID per outbox row: a redelivery after a crash is recognisably the same email.
        domain = parseaddr(self.settings.smtp_from)[1].rpartition("@")[2] or "galaxy-assistant"
        message["Message-ID"] = f"<introduction-outbox-{email.outbox_id}@{domain}>"
        message.set_content(email.body)
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self.timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
        log.info("outbox message %s sent", email.outbox_id)
