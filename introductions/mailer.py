"""Delivery of outbox emails: over SMTP, or into a local folder (one .eml file per message) when no SMTP
server is configured. Logs carry the outbox id only: never an address or a body."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
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


def compose(settings: Settings, email: Email) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    # One Message-ID per outbox row: a redelivery after a crash is recognisably the same email.
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "galaxy-assistant"
    message["Message-ID"] = f"<introduction-outbox-{email.outbox_id}@{domain}>"
    message.set_content(email.body)
    return message


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when SMTP_HOST is set, else the local mail folder (so `make run` works end to end offline)."""
    return FolderMailer(settings) if settings.mail_to_files else SmtpMailer(settings)


class FolderMailer:
    """Writes each email as `<outbox id>.eml` in MAIL_DIR (readable by the service's user only). The file is
    named by the outbox row, so a redelivery after a crash overwrites the same file instead of adding one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = Path(settings.mail_dir)

    def send(self, email: Email) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self.folder / f"{email.outbox_id:08d}.eml"
        partial = final.with_suffix(".eml.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(compose(self.settings, email).as_bytes())
        partial.replace(final)  # atomic: a reader never sees half a message
        log.info("outbox message %s written to the local mail folder", email.outbox_id)


class SmtpMailer:
    """Sends through the SMTP server of the settings: STARTTLS when SMTP_STARTTLS, login when SMTP_USER."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def send(self, email: Email) -> None:
        message = compose(self.settings, email)
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self.timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
        log.info("outbox message %s sent", email.outbox_id)
