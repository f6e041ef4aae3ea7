"""Hand-offs to UNOSSC staff (with consent), the anonymous count of hand-offs asked, and outbox messages
owed by a hand-off.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_KINDS = "'partner_notification', 'requester_accepted', 'partner_accepted', 'requester_declined'"
KINDS = OLD_KINDS + ", 'staff_handoff'"


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(16), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        _when("consent_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        _when("closed_at", nullable=True),
        _when("personal_data_purged_at", nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_handoffs_status"),
        sa.UniqueConstraint("reference", name="uq_handoffs_reference"),
        sa.UniqueConstraint("idempotency_key", name="uq_handoffs_idempotency_key"),
    )
    op.create_index("ix_handoffs_conversation_created", "handoffs", ["conversation_id", "created_at"])
    op.create_table(
        "handoff_asked",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
    )
    op.create_index("ix_handoff_asked_asked_on", "handoff_asked", ["asked_on"])
    # SQLite rebuilds the table (batch mode); existing rows all belong to introductions.
    with op.batch_alter_table("introduction_outbox") as batch:
        batch.alter_column("introduction_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("handoff_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_introduction_outbox_handoff", "handoffs", ["handoff_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_introduction_outbox_handoff_id", ["handoff_id"])
        batch.drop_constraint("ck_introduction_outbox_kind", type_="check")
        batch.create_check_constraint("ck_introduction_outbox_kind", f"kind IN ({KINDS})")
        batch.create_check_constraint(
            "ck_introduction_outbox_owner", "(introduction_id IS NULL) <> (handoff_id IS NULL)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM introduction_outbox WHERE handoff_id IS NOT NULL")
    with op.batch_alter_table("introduction_outbox") as batch:
        batch.drop_constraint("ck_introduction_outbox_owner", type_="check")
        batch.drop_constraint("ck_introduction_outbox_kind", type_="check")
        batch.create_check_constraint("ck_introduction_outbox_kind", f"kind IN ({OLD_KINDS})")
        batch.drop_index("ix_introduction_outbox_handoff_id")
        batch.drop_constraint("fk_introduction_outbox_handoff", type_="foreignkey")
        batch.drop_column("handoff_id")
        batch.alter_column("introduction_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("handoff_asked")
    op.drop_table("handoffs")
