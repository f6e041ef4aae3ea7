"""Erasure and retention of the stored conversations (Rasa's SQL tracker store, table `events`).

Shared by the Rasa process (bot/tracker_store.py, SQLAlchemy 1.4) and the staff tools and outbox worker
(SQLAlchemy 2), so it uses only SQLAlchemy Core that both versions share.
"""
from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

EVENTS = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))


def plain_postgres_url(url: str) -> str:
    """`postgresql://…` for any PostgreSQL spelling (postgres://, postgresql+psycopg://, +psycopg2), so each
    environment can pick the driver it has."""
    for prefix in ("postgres://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def conversation_engine(url: str) -> "sa.engine.Engine":
    url = plain_postgres_url(url)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        # psycopg 3 in the action server's environment, psycopg2 in Rasa's: use whichever is installed.
        try:
            import psycopg  # noqa: F401

            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        except ImportError:
            pass
    return sa.create_engine(url, hide_parameters=True)


def _has_events_table(connection: "sa.engine.Connection") -> bool:
    return sa.inspect(connection).has_table("events")


def erase_conversation(connection: "sa.engine.Connection", sender_id: str) -> int:
    """Deletes every stored event of one conversation; returns how many rows went."""
    if not _has_events_table(connection):
        return 0
    return connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id == sender_id)).rowcount or 0


def purge_conversations(engine: "sa.engine.Engine", older_than_days: int, *, now: float | None = None) -> int:
    """Deletes the conversations whose last event is older than the retention period; returns how many."""
    cutoff = (now if now is not None else time.time()) - older_than_days * 86400
    with engine.begin() as connection:
        if not _has_events_table(connection):
            return 0
        stale = (
            sa.select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(sa.func.max(EVENTS.c.timestamp) < cutoff)
        )
        senders = [row[0] for row in connection.execute(stale)]
        for start in range(0, len(senders), 500):
            chunk = senders[start:start + 500]
            connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(chunk)))
    return len(senders)


def stored_conversations(engine: "sa.engine.Engine") -> list[str]:
    with engine.connect() as connection:
        if not _has_events_table(connection):
            return []
        return [row[0] for row in connection.execute(sa.select(EVENTS.c.sender_id).distinct())]


def purge_stored_conversations(tracker_store_url: str, older_than_days: int) -> int:
    """Retention for the tracker store at a URL (the staff `purge` command and the worker call it)."""
    engine = conversation_engine(tracker_store_url)
    try:
        return purge_conversations(engine, older_than_days)
    finally:
        engine.dispose()
