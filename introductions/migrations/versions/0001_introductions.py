"""Introductions and their email outbox.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = "'pending', 'delivered', 'accepted', 'declined', 'expired'"
KINDS = "'partner_notification', 'requester_accepted', 'partner_accepted', 'requester_declined'"


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(16), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(128), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=False),
        sa.Column("requester_name", sa.String(120), nullable=False),
        sa.Column("requester_organisation", sa.String(200), nullable=False),
        sa.Column("requester_role", sa.String(120), nullable=True),
        sa.Column("requester_email", sa.String(254), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _when("consent_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        _when("expires_at"),
        _when("decided_at", nullable=True),
        _when("personal_data_purged_at", nullable=True),
        sa.CheckConstraint("target_kind IN ('solution', 'partner')", name="ck_introductions_target_kind"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_introductions_status"),
        sa.UniqueConstraint("reference", name="uq_introductions_reference"),
        sa.UniqueConstraint("idempotency_key", name="uq_introductions_idempotency_key"),
    )
    op.create_index("ix_introductions_conversation_created", "introductions", ["conversation_id", "created_at"])
    op.create_index("ix_introductions_status_expires", "introductions", ["status", "expires_at"])

    op.create_table(
        "introduction_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "introduction_id",
            sa.Integer(),
            sa.ForeignKey("introductions.id", ondelete="CASCADE", name="fk_introduction_outbox_introduction"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient_email", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at"),
        sa.Column("last_error", sa.String(200), nullable=True),
        _when("delivered_at", nullable=True),
        _when("created_at"),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="ck_introduction_outbox_kind"),
    )
    op.create_index("ix_introduction_outbox_introduction_id", "introduction_outbox", ["introduction_id"])
    op.create_index("ix_introduction_outbox_due", "introduction_outbox", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("introduction_outbox")
    op.drop_table("introductions")
