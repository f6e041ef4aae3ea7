"""Button payloads as Telegram callback data (at most 64 bytes).

A short payload travels as it is ("p:" + payload). A longer one (a question text, a payload with
entities) is kept in a small SQLite table under a key derived from its hash ("k:" + key), so buttons
keep working after the bridge restarts. Callback data comes from the user's client and can be forged:
it only ever becomes a message to Rasa, which treats it like typed text."""
from __future__ import annotations

import base64
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

INLINE_PREFIX = "p:"
KEY_PREFIX = "k:"
MAX_CALLBACK_BYTES = 64
KEEP_SECONDS = 90 * 24 * 3600  # buttons older than this may stop working; Telegram keeps chats longer


class PayloadStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS callback_payloads (key TEXT PRIMARY KEY, payload TEXT NOT NULL, used_at REAL NOT NULL)"
        )
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def callback_data(self, payload: str) -> str:
        inline = INLINE_PREFIX + payload
        if len(inline.encode("utf-8")) <= MAX_CALLBACK_BYTES:
            return inline
        # 18 bytes of SHA-256 (24 base64 characters): no collision among any realistic number of buttons.
        key = base64.urlsafe_b64encode(hashlib.sha256(payload.encode("utf-8")).digest()[:18]).decode("ascii")
        with self._lock:
            self._db.execute(
                "INSERT INTO callback_payloads (key, payload, used_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET used_at = excluded.used_at",
                (key, payload, time.time()),
            )
        return KEY_PREFIX + key

    def payload(self, data: str) -> str | None:
        """The payload behind callback data; None when it is unknown (expired, or not ours)."""
        if data.startswith(INLINE_PREFIX):
            return data[len(INLINE_PREFIX) :]
        if data.startswith(KEY_PREFIX):
            with self._lock:
                row = self._db.execute(
                    "SELECT payload FROM callback_payloads WHERE key = ?", (data[len(KEY_PREFIX) :],)
                ).fetchone()
            return row[0] if row else None
        return None

    def prune(self, older_than: float = KEEP_SECONDS) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM callback_payloads WHERE used_at < ?", (time.time() - older_than,)).rowcount
