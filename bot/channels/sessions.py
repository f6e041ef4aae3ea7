"""Conversation ids issued by the server: a session is a random id and its HMAC (`<random>.<mac>`), and the
conversation it opens is `<channel>:<random>`. A client keeps the session, never chooses the id: anything
the server did not sign (a guessed id, another channel's id, a Telegram chat id) opens nothing.

Standard library only: Rasa's environment (channels) and the tests' environment both import it."""
from __future__ import annotations

import hashlib
import hmac
import secrets

RANDOM_BYTES = 18  # 144 bits: not guessable
MAC_CHARS = 32  # 192 bits of HMAC-SHA256, URL-safe


class SessionIssuer:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a session secret is needed")
        self._key = secret.encode("utf-8")

    def _mac(self, channel: str, random_id: str) -> str:
        digest = hmac.new(self._key, f"{channel}:{random_id}".encode("ascii"), hashlib.sha256).hexdigest()
        return digest[:MAC_CHARS]

    def issue(self, channel: str) -> str:
        """A new session of `channel` (what the client keeps)."""
        random_id = secrets.token_urlsafe(RANDOM_BYTES)
        return f"{random_id}.{self._mac(channel, random_id)}"

    def conversation(self, channel: str, session: object) -> str | None:
        """The conversation id a session of `channel` opens, or None when the server did not issue it."""
        if not isinstance(session, str) or len(session) > 128:
            return None
        random_id, _, mac = session.partition(".")
        if not random_id or not mac or not random_id.isascii():
            return None
        if not hmac.compare_digest(mac, self._mac(channel, random_id)):
            return None
        return f"{channel}:{random_id}"


def bearer_matches(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and bool(token) and hmac.compare_digest(given.strip().encode(), token.encode())
