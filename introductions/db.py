"""Engines and schema migrations of the introductions store (SQLite by default, any SQLAlchemy URL)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

if TYPE_CHECKING:
    from knowledge.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def normalize_url(database_url: str) -> str:
    """Route plain PostgreSQL URLs to psycopg 3, the driver this project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def make_engine(database_url: str) -> Engine:
    """An engine that never puts statement parameters (personal data) into logs or error messages."""
    url = make_url(normalize_url(database_url))
    # SQLAlchemy logs statements and result rows whenever its logger inherits INFO/DEBUG (a root logger
    # at DEBUG is enough); rows hold personal data, so it logs only when configured explicitly.
    engine_logger = logging.getLogger("sqlalchemy.engine")
    if engine_logger.level == logging.NOTSET:
        engine_logger.setLevel(logging.WARNING)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, hide_parameters=True, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        path = Path(url.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # personal data: readable by the service's user only
    engine = create_engine(url, hide_parameters=True, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi_connection.cursor()
        # WAL lets the action server, the link endpoint and the worker read while one of them writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        # Take the write lock up front: a deferred transaction that reads, then writes, fails at once
        # ("database is locked") when another process committed in between, whatever the busy timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class SqlStore:
    """What every store of the introductions database holds: an engine, a session factory and a clock.

    Given a URL it owns its engine (and disposes of it on close); given an engine, it shares it, so the
    stores of one service use one connection pool."""

    def __init__(self, database: str | Engine, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self._owns_engine = not isinstance(database, Engine)
        self.engine = make_engine(database) if isinstance(database, str) else database
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._clock = clock

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()


def _alembic(database_url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    engine = make_engine(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["engine"] = engine  # migrations/env.py runs on the caller's database
        getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema up to `revision`; safe to call at every start, from several processes."""
    _alembic(database_url, "upgrade", revision)


def downgrade(database_url: str, revision: str) -> None:
    _alembic(database_url, "downgrade", revision)
