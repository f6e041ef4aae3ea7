"""Brokered introductions: a seeker's consented request to meet a partner, stored, delivered by email (and
Telegram, to partners who linked a chat) through a transactional outbox, and accepted or declined by the
partner through signed links or Telegram buttons.

Independent of Rasa and of any web framework. Names are imported lazily so that `python -m knowledge`
does not load SQLAlchemy for commands that never touch the introductions store.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "Introduction": "knowledge.introductions.models",
    "OutboxMessage": "knowledge.introductions.models",
    "IntroductionService": "knowledge.introductions.service",
    "DecisionResult": "knowledge.introductions.service",
    "IntroductionError": "knowledge.introductions.service",
    "InvalidRequest": "knowledge.introductions.service",
    "RateLimited": "knowledge.introductions.service",
    "WrongChat": "knowledge.introductions.service",
    "TelegramLinkError": "knowledge.introductions.service",
    "TelegramNotifier": "knowledge.introductions.telegram",
    "DecisionError": "knowledge.introductions.tokens",
    "InvalidToken": "knowledge.introductions.tokens",
    "TokenExpired": "knowledge.introductions.tokens",
    "OutboxWorker": "knowledge.introductions.outbox",
    "SmtpMailer": "knowledge.introductions.mailer",
    "Email": "knowledge.introductions.mailer",
    "upgrade": "knowledge.introductions.db",
    "make_engine": "knowledge.introductions.db",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
