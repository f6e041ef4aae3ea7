"""Masks what could identify a person in a text users typed (a need, a feedback reason) before staff see
it: email addresses, phone numbers, links and @handles."""
from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# +254 712 345 678, (021) 555-0199, 0712345678: seven or more digits with the usual separators.
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\(?\d[\d\s().-]{5,}\d(?![\w])")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,}")  # Telegram/Twitter handles


def _phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[phone]" if digits >= 7 else match.group(0)


def mask_text(text: str, limit: int = 300) -> str:
    """The text with emails, phone numbers, links and handles replaced by placeholders, cut to `limit`."""
    masked = _EMAIL.sub("[email]", text or "")
    masked = _URL.sub("[link]", masked)
    masked = _HANDLE.sub("[handle]", masked)
    masked = _PHONE.sub(_phone, masked)
    masked = " ".join(masked.split())
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"
