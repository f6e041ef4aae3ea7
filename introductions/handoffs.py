"""HandoffLog: requests to talk to a person at UNOSSC, kept so staff can follow up."""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS handoff (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    conversation_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    message TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Handoff:
    id: int
    created_at: float
    conversation_id: str
    channel: str
    message: str


class HandoffLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, conversation_id: str, channel: str, message: str) -> int:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO handoff (created_at, conversation_id, channel, message) VALUES (?, ?, ?, ?)",
                (time.time(), conversation_id, channel, message[:2000]),
            )
            return int(cursor.lastrowid)

    def recent(self, limit: int = 50) -> list[Handoff]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created_at, conversation_id, channel, message FROM handoff ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Handoff(*row) for row in rows]
