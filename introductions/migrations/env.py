"""Alembic environment of the introductions store. The database comes from the caller
(`introductions.db.upgrade` passes its engine); otherwise from settings().database_url."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from introductions.db import make_engine
from introductions.models import Base

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = "introductions_alembic_version"  # its own table: the database may be shared
MIGRATION_LOCK = 7_205_731_001  # PostgreSQL advisory lock: processes starting together migrate one by one


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    owned = engine is None
    if owned:
        from knowledge.settings import settings

        engine = make_engine(config.get_main_option("sqlalchemy.url") or settings().database_url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                version_table=VERSION_TABLE,
                render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
                compare_type=True,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; pass a database URL")
run_migrations_online()
