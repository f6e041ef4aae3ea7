"""Telegram for partners: the signed callback data of the Accept/Decline buttons, the signature of the
bridge's calls to the action server, the wording of the messages, and TelegramNotifier, which sends partner
notifications through the Bot API from the outbox worker.

Neither the bot token nor the URL that contains it is ever logged or put into an exception message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from introductions import emails
from introductions.tokens import Decision, InvalidToken
from knowledge.settings import Settings

log = logging.getLogger(__name__)

CALLBACK_PREFIX = "gxd:"
CALLBACK_MAX_BYTES = 64  # Telegram's limit on callback_data
BRIDGE_SIGNATURE_HEADER = "X-Galaxy-Bridge-Signature"
LINK_START_PREFIX = "link_"
ANSWER_MAX = 200  # answerCallbackQuery text limit
_CALLBACK_SALT = b"galaxy-telegram-decision-v1"
_BRIDGE_SALT = b"galaxy-telegram-bridge-v1"
_SIGNATURE_BYTES = 16  # 128 bits, 22 base64 characters: the whole callback_data stays near 35 bytes
_DECISION_CODES: dict[str, Decision] = {"a": "accept", "d": "decline"}


# -- callback data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackClaims:
    reference: str  # with its "GX-"
    decision: Decision
    signature: str


def _callback_signature(secret: str, reference: str, decision: Decision, expires_at: datetime) -> str:
    # The expiry is signed but not carried: it comes from the row, so data for a deleted request can never
    # decide a later one that happened to get the same reference.
    key = hmac.new(secret.encode(), _CALLBACK_SALT, hashlib.sha256).digest()  # not the bridge's key
    message = f"{reference}|{decision[0]}|{int(expires_at.timestamp())}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def callback_data(secret: str, reference: str, decision: Decision, expires_at: datetime) -> str:
    """`gxd:7K3Q9P:a:<signature>`: what the Accept or Decline button sends back."""
    short = reference.removeprefix("GX-")
    data = f"{CALLBACK_PREFIX}{short}:{decision[0]}:{_callback_signature(secret, reference, decision, expires_at)}"
    if len(data.encode()) > CALLBACK_MAX_BYTES:  # cannot happen with six-character references
        raise ValueError("callback data longer than Telegram allows")
    return data


_INVALID_BUTTON = "This button is not valid. Please use the buttons of the introduction message."


def parse_callback_data(data: object) -> CallbackClaims:
    """The claims of a button's data, not yet verified (that needs the row's expiry); InvalidToken if malformed."""
    if not isinstance(data, str) or not data.startswith(CALLBACK_PREFIX) or len(data.encode()) > CALLBACK_MAX_BYTES:
        raise InvalidToken(_INVALID_BUTTON)
    parts = data[len(CALLBACK_PREFIX) :].split(":")
    if len(parts) != 3 or parts[1] not in _DECISION_CODES or not parts[0].isalnum():
        raise InvalidToken(_INVALID_BUTTON)
    return CallbackClaims("GX-" + parts[0].upper(), _DECISION_CODES[parts[1]], parts[2])


def verify_callback(secret: str, claims: CallbackClaims, expires_at: datetime) -> bool:
    expected = _callback_signature(secret, claims.reference, claims.decision, expires_at)
    return hmac.compare_digest(expected.encode(), claims.signature.encode())


# -- bridge → action server -----------------------------------------------------------------------------


def _bridge_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _BRIDGE_SALT, hashlib.sha256).digest()


def sign_bridge_request(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of a request body, sent in X-Galaxy-Bridge-Signature."""
    return hmac.new(_bridge_key(secret), body, hashlib.sha256).hexdigest()


def verify_bridge_request(secret: str, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(sign_bridge_request(secret, body).encode(), signature.strip().lower().encode())


# -- wording ------------------------------------------------------------------------------------------


def notification_text(
    reference: str, requester: emails.Requester, focal: emails.FocalPoint, solution: str | None, expires_at: datetime
) -> str:
    """The partner notification as a Telegram message (plain text; HTML-escaped when sent). Like the email,
    it holds no requester email address: that comes with acceptance."""
    about = f' about the solution "{solution}"' if solution else ""
    return (
        f"Introduction request {reference} for {focal.partner_name}\n\n"
        f"{requester.described()} found you on the South-South Galaxy and asks to be introduced{about}. "
        f"They agreed to share these details with you.\n\n"
        f"Their message:\n{requester.message}\n\n"
        f"Accept, and we send you their email address and send them {focal.email}. Decline, and we let them "
        f"know politely; nothing else is shared. Open until {expires_at:%d %B %Y %H:%M} UTC."
    )


@dataclass(frozen=True)
class TelegramAnswer:
    """The bridge's reply to a button press: answerCallbackQuery's text, and the notification's new text."""

    text: str
    show_alert: bool = False
    message_text: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text[:ANSWER_MAX], "show_alert": self.show_alert, "message_text": self.message_text}


def accepted_text(reference: str, requester: emails.Requester, focal: emails.FocalPoint) -> str:
    """The partner accepted, so they may now see the requester's contact details (also sent by email)."""
    role = f"Role: {requester.role}\n" if requester.role else ""
    return (
        f"You accepted introduction {reference}. The requester's contact details:\n\n"
        f"Name: {requester.name}\n{role}Organisation: {requester.organisation}\nEmail: {requester.email}\n\n"
        f"They are receiving {focal.email} as the contact for {focal.partner_name}, and both of you get this by "
        f"email too."
    )


def declined_text(reference: str) -> str:
    return f"You declined introduction {reference}. We let the requester know politely; nothing else was shared."


# -- sending ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramNotice:
    """One Telegram outbox row, ready to send."""

    outbox_id: int
    chat_id: int
    text: str
    reference: str
    expires_at: datetime
    decision_buttons: bool = True  # Accept/Decline under a partner's notification; none under a requester's update

    def __repr__(self) -> str:  # reprs reach tracebacks and logs
        return f"TelegramNotice(outbox_id={self.outbox_id})"


class TelegramError(Exception):
    """The Bot API did not take the message; the outbox retries. Messages hold no token, URL or chat id."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds Telegram asked us to wait (429), the minimum next delay


class TelegramNotifier:
    """Sends the outbox's Telegram messages (sendMessage, HTML): partner notifications with Accept/Decline
    buttons, and updates to requesters who asked on Telegram. Synchronous: it runs in the outbox worker's thread."""

    def __init__(
        self,
        token: str,
        secret: str,
        *,
        base_url: str = "https://api.telegram.org/bot",
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValueError("a bot token is required")
        # httpx logs every request URL at INFO, and ours contains the token: keep it quiet unless a
        # deployment configured the logger on purpose.
        for name in ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.WARNING)
        self._url = f"{base_url}{token}/sendMessage"
        self._secret = secret
        self._client = httpx.Client(timeout=timeout, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramNotifier | None:
        """A notifier when TELEGRAM_BOT_TOKEN is set, else None (Telegram rows then wait in the outbox)."""
        if not settings.telegram_bot_token:
            return None
        from introductions.tokens import signing_secret

        return cls(settings.telegram_bot_token, signing_secret(settings), base_url=settings.telegram_base_url)

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return "TelegramNotifier()"

    def send(self, notice: TelegramNotice) -> None:
        """Deliver or raise TelegramError; a raise means "try again later"."""
        payload: dict[str, Any] = {
            "chat_id": notice.chat_id,
            "text": html.escape(notice.text),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if notice.decision_buttons:
            accept = callback_data(self._secret, notice.reference, "accept", notice.expires_at)
            decline = callback_data(self._secret, notice.reference, "decline", notice.expires_at)
            keyboard = [[{"text": "Accept", "callback_data": accept}, {"text": "Decline", "callback_data": decline}]]
            payload["reply_markup"] = {"inline_keyboard": keyboard}
        try:
            response = self._client.post(self._url, json=payload)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # `from None`: httpx exceptions carry the request, whose URL holds the token.
            raise TelegramError(f"Bot API unreachable or answered garbage ({type(exc).__name__})") from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            answer = answer if isinstance(answer, dict) else {}
            parameters = answer.get("parameters") if isinstance(answer.get("parameters"), dict) else {}
            retry_after = parameters.get("retry_after")
            code = answer.get("error_code", response.status_code)
            raise TelegramError(
                f"Bot API refused sendMessage ({code})",
                retry_after=float(retry_after) if isinstance(retry_after, (int, float)) else None,
            )
        log.info("outbox message %s sent to Telegram", notice.outbox_id)
