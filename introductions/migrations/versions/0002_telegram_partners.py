"""Telegram for partners: linked chats, one-time link codes, and a channel on outbox messages.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "partner_telegram_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(128), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        _when("linked_at"),
        sa.UniqueConstraint("partner_id", name="uq_partner_telegram_links_partner_id"),
    )
    op.create_table(
        "partner_telegram_link_codes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.UniqueConstraint("code_hash", name="uq_partner_telegram_link_codes_code_hash"),
    )
    # SQLite cannot add constraints to an existing table: batch mode rebuilds it (env.py sets render_as_batch,
    # and PostgreSQL runs the same operations as plain ALTER TABLE). Existing rows are emails.
    with op.batch_alter_table("introduction_outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="email"))
        batch.add_column(sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True))
        batch.create_check_constraint("ck_introduction_outbox_channel", "channel IN ('email', 'telegram')")
        batch.create_check_constraint(
            "ck_introduction_outbox_telegram_chat", "(channel = 'telegram') = (telegram_chat_id IS NOT NULL)"
        )


def downgrade() -> None:
    # Telegram messages cannot become emails: drop them before the column that tells them apart.
    op.execute("DELETE FROM introduction_outbox WHERE channel = 'telegram'")
    with op.batch_alter_table("introduction_outbox") as batch:
        batch.drop_constraint("ck_introduction_outbox_telegram_chat", type_="check")
        batch.drop_constraint("ck_introduction_outbox_channel", type_="check")
        batch.drop_column("telegram_chat_id")
        batch.drop_column("channel")
    op.drop_table("partner_telegram_link_codes")
    op.drop_table("partner_telegram_links")
