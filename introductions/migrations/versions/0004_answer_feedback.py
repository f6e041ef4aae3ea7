"""Answer feedback (👍/👎 with an optional reason) and its staff review.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("answer_ref", sa.String(500), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=True),
        sa.Column("expected", sa.String(500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _when("resolved_at", nullable=True),
        sa.CheckConstraint("rating IN ('up', 'down')", name="ck_answer_feedback_rating"),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="ck_answer_feedback_status"),
        sa.UniqueConstraint("conversation_id", "answer_ref", name="uq_answer_feedback_conversation_answer"),
    )
    op.create_index("ix_answer_feedback_conversation_id", "answer_feedback", ["conversation_id"])
    op.create_index("ix_answer_feedback_status_created", "answer_feedback", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("answer_feedback")
