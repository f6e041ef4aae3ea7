"""Signed, expiring accept/decline links for partners, and the secret that signs them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

from knowledge.settings import Settings, generated_secret

Decision = Literal["accept", "decline"]
_SALT = "galaxy-introduction-decision-v1"
_CODES: dict[str, Decision] = {"a": "accept", "d": "decline"}


class DecisionError(Exception):
    """A decision link that cannot be used; the message is safe to show to the person who clicked it."""


class InvalidToken(DecisionError):
    """Tampered, truncated, signed with another secret, or for an introduction that no longer exists."""


class TokenExpired(DecisionError):
    """The link (or the introduction it belongs to) is past its expiry."""


@dataclass(frozen=True)
class DecisionClaims:
    reference: str
    decision: Decision
    expires_at: datetime


def signing_secret(settings: Settings) -> str:
    """INTRODUCTION_SECRET, or a random secret kept in state_dir/secret (created on first use, mode 0600).

    Every process that signs or checks links must see the same secret: on more than one machine, set
    INTRODUCTION_SECRET."""
    return generated_secret(Path(settings.state_dir), "secret", settings.introduction_secret)


class DecisionSigner:
    """Makes and checks the tokens in {public_base_url}/introductions/{token}/accept|decline."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt=_SALT)

    def sign(self, reference: str, decision: Decision, expires_at: datetime) -> str:
        # The reference is random (ids are guessable and SQLite may reuse them) and the expiry ties the
        # token to one row: a deleted request's link can never decide a later one.
        return self._serializer.dumps([reference, decision[0], int(expires_at.timestamp())])

    def verify(self, token: str, now: datetime) -> DecisionClaims:
        try:
            payload = self._serializer.loads(token)
            reference, code, expiry = payload
            claims = DecisionClaims(str(reference), _CODES[code], datetime.fromtimestamp(int(expiry), timezone.utc))
        except (BadSignature, ValueError, TypeError, KeyError):
            raise InvalidToken("This link is not valid. Please use the link from the email exactly as sent.") from None
        if now >= claims.expires_at:
            raise TokenExpired("This link has expired: the introduction request is no longer open.")
        return claims
