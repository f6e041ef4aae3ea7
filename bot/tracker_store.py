"""Rasa's SQL tracker store, made to honour erasure: conversations persist across restarts (SQLite in the
state directory by default, any SQL URL from TRACKER_STORE_URL), and a turn in which `action_delete_my_data`
ran and told the client to erase its history deletes the conversation's stored events instead of saving
them again.

Rasa saves the whole in-memory tracker at the end of every turn, so deleting rows from inside the action
would be undone a moment later; the store is the one place where the deletion sticks.
"""
from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from introductions.conversations import erase_conversation, plain_postgres_url
from knowledge.settings import settings

logger = logging.getLogger(__name__)
ERASE_ACTION = "action_delete_my_data"


class ErasableSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, host: str | None = None, url: str | None = None, **kwargs: Any) -> None:
        target = url or (host if host and "://" in host else None) or settings().tracker_store_url
        # Rasa's SQLAlchemy 1.4 speaks PostgreSQL through psycopg2: plain postgresql:// URLs.
        target = plain_postgres_url(target)
        if target.startswith("sqlite:///"):
            Path(target[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(domain=domain, host=target, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        # This turn's events are the ones after the latest user message: read from memory, so the hot path
        # gains no query (Rasa's own save counts the stored events once more).
        this_turn = itertools.takewhile(lambda e: not isinstance(e, UserUttered), reversed(tracker.events))
        this_turn = list(this_turn)
        # the action erases only when it says so to the client (`erase_history`): when it asked first, or
        # read the message as something else, the conversation is saved as usual
        erased = any(isinstance(e, BotUttered) and isinstance(e.data.get("custom"), dict) and e.data["custom"].get("erase_history") for e in this_turn)
        if erased and any(isinstance(e, ActionExecuted) and e.action_name == ERASE_ACTION for e in this_turn):
            with self.engine.begin() as connection:
                removed = erase_conversation(connection, tracker.sender_id)
            # The id is a random server-issued one and the count is not personal data.
            logger.info("conversation erased at the user's request (%d stored events)", removed)
            return
        await super().save(tracker)
