"""Rasa's lock store chosen from the environment: Redis when LOCK_STORE_URL is set (several Rasa processes
share one conversation's lock, so their turns are serialised), else Rasa's in-memory store (one process,
`make run`, nothing to install).

Rasa's ticket lock is read, changed and written back without any atomicity (`issue_ticket`, `cleanup`, …):
two processes issuing a ticket for one conversation at the same moment can draw the same number and both
run. Each of those read-modify-write steps runs here under a short Redis mutex (redis-py's Lock).

Rasa 3.6's `type: redis` in endpoints.yml cannot be switched off by an empty variable (an empty url becomes
host "" and fails at start-up), so endpoints.yml names this class and the choice is made here.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

from knowledge.settings import settings

logger = logging.getLogger(__name__)


def redis_lock_store(url: str) -> RedisLockStore:
    """A RedisLockStore from a redis:// (or rediss://) URL: host, port, /db, user and password."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("LOCK_STORE_URL must be a redis:// or rediss:// URL")
    db = parts.path.strip("/") or "0"
    return RedisLockStore(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(db),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=parts.scheme == "rediss",
    )


# A ticket update takes a few milliseconds; the mutex expires on its own if a process dies holding it.
MUTEX_SECONDS = 5.0


class GalaxyLockStore(LockStore):
    """Delegates to a RedisLockStore (LOCK_STORE_URL) or an InMemoryLockStore; Rasa's ticket logic in
    LockStore stays as it is, its read-modify-write steps made atomic across processes."""

    def __init__(self, endpoint_config: Any = None, url: str | None = None) -> None:
        target = url if url is not None else settings().lock_store_url
        self.backend: LockStore = redis_lock_store(target) if target else InMemoryLockStore()
        # The URL may hold a password: only the kind of store is logged.
        logger.info("lock store: %s", type(self.backend).__name__)
        super().__init__()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.backend.save_lock(lock)

    @contextlib.contextmanager
    def _atomic(self, conversation_id: str) -> Iterator[None]:
        if not isinstance(self.backend, RedisLockStore):
            yield  # one process, one event loop: nothing runs between the read and the write
            return
        mutex = self.backend.red.lock(
            f"{self.backend.key_prefix}mutex:{conversation_id}", timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS
        )
        if not mutex.acquire():
            raise LockError(f"could not update the lock of conversation {conversation_id!r}")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # expired meanwhile: another process may hold it now
                mutex.release()

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._atomic(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._atomic(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._atomic(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # One step: another process's ticket issued between "finish" and "delete" must not be deleted.
        with self._atomic(conversation_id):
            LockStore.finish_serving(self, conversation_id, ticket_number)
            if not self.is_someone_waiting(conversation_id):
                self.delete_lock(conversation_id)
