"""Brokered introductions: a seeker's consented request to meet a partner, stored, delivered by email (and
Telegram, to partners who linked a chat) through a transactional outbox, and accepted or declined by the
partner through signed links or Telegram buttons.

Independent of Rasa and of any web framework. Names are imported lazily so that `python -m knowledge`
does not load SQLAlchemy for commands that never touch the introductions store.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "Introduction": "introductions.models",
    "OutboxMessage": "introductions.models",
    "IntroductionService": "introductions.service",
    "HandoffService": "introductions.handoffs",
    "Handoff": "introductions.models",
    "DecisionResult": "introductions.service",
    "IntroductionError": "introductions.validation",
    "InvalidRequest": "introductions.validation",
    "RateLimited": "introductions.service",
    "WrongChat": "introductions.service",
    "TelegramLinkError": "introductions.service",
    "TelegramNotifier": "introductions.telegram",
    "DecisionError": "introductions.tokens",
    "InvalidToken": "introductions.tokens",
    "TokenExpired": "introductions.tokens",
    "OutboxWorker": "introductions.outbox",
    "SmtpMailer": "introductions.mailer",
    "Email": "introductions.mailer",
    "upgrade": "introductions.db",
    "make_engine": "introductions.db",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
