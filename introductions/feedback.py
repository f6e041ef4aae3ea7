"""Answer feedback (👍/👎 on a result list or an FAQ answer), stored in the introductions database beside
introductions and hand-offs: the rating, the reference of the answer shown ("search:<query>", "faq:<key>"),
the conversation, an optional one-line reason, and the staff review (open → resolved, with a label).

A rating whose answer the conversation was never shown is kept as `verified = False` (a forged or stale
payload): it never reaches the dashboard's counts, the review queue or the export. Erased with the
conversation ("delete my data") and deleted after RETENTION_DAYS."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from introductions.db import SqlStore
from introductions.models import Base, UtcDateTime
from knowledge.masking import mask_text

log = logging.getLogger(__name__)

RATINGS: tuple[str, ...] = ("up", "down")
FEEDBACK_STATUSES: tuple[str, ...] = ("open", "resolved")
ANSWER_REF_MAX = 500
REASON_MAX = 300
LABEL_MAX = 64
NOTE_MAX = 1000


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Feedback(Base):
    """One conversation's rating of one answer it was shown (a second press changes the rating)."""

    __tablename__ = "answer_feedback"
    __table_args__ = (
        CheckConstraint(_in("rating", RATINGS), name="ck_answer_feedback_rating"),
        CheckConstraint(_in("status", FEEDBACK_STATUSES), name="ck_answer_feedback_status"),
        UniqueConstraint("conversation_id", "answer_ref", name="uq_answer_feedback_conversation_answer"),
        Index("ix_answer_feedback_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    rating: Mapped[str] = mapped_column(String(8))
    answer_ref: Mapped[str] = mapped_column(String(ANSWER_REF_MAX))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    label: Mapped[str | None] = mapped_column(String(LABEL_MAX), nullable=True)
    expected: Mapped[str | None] = mapped_column(String(ANSWER_REF_MAX), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"Feedback(id={self.id!r}, rating={self.rating!r}, status={self.status!r})"

    @property
    def answer_kind(self) -> str:
        return self.answer_ref.split(":", 1)[0] if ":" in self.answer_ref else "other"

    @property
    def answer_value(self) -> str:
        return self.answer_ref.split(":", 1)[1] if ":" in self.answer_ref else self.answer_ref

    def as_json(self, *, conversation: bool = False) -> dict[str, Any]:
        """Plain JSON; the conversation id only for staff tools that need it (`show`)."""
        data: dict[str, Any] = {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "channel": self.channel,
            "rating": self.rating,
            "answer_ref": self.answer_ref,
            "answer_kind": self.answer_kind,
            "verified": self.verified,
            "reason": self.reason,
            "status": self.status,
            "label": self.label,
            "expected": self.expected,
            "note": self.note,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }
        if conversation:
            data["conversation_id"] = self.conversation_id
        return data


class FeedbackStore(SqlStore):
    """Records, reviews, exports and erases answer feedback."""

    def record(self, conversation_id: str, channel: str, rating: str, answer_ref: str, *, verified: bool) -> Feedback:
        """Stores (or, pressed again, changes) the conversation's rating of an answer."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}")
        answer_ref = answer_ref.strip()[:ANSWER_REF_MAX]
        now = self._clock()
        with self._sessions() as session:
            row = session.scalars(
                select(Feedback).where(Feedback.conversation_id == conversation_id, Feedback.answer_ref == answer_ref)
            ).first()
            if row is None:
                row = Feedback(
                    created_at=now, conversation_id=conversation_id, answer_ref=answer_ref, status="open", reason=None
                )
                session.add(row)
            elif row.rating != rating:
                row.reason = None  # a reason given for the other rating no longer applies
            row.updated_at = now
            row.channel = channel[:64]
            row.rating = rating
            row.verified = verified or bool(row.verified)
            session.commit()
            return row

    def add_reason(self, feedback_id: int, conversation_id: str, reason: str) -> bool:
        """The one-line reason of a 👎, only for a rating of this same conversation."""
        reason = mask_text(reason, REASON_MAX)  # a reason is kept without contact details
        with self._sessions() as session:
            row = session.get(Feedback, feedback_id)
            if row is None or row.conversation_id != conversation_id or not reason:
                return False
            row.reason = reason
            row.updated_at = self._clock()
            session.commit()
            return True

    def get(self, feedback_id: int) -> Feedback | None:
        with self._sessions() as session:
            return session.get(Feedback, feedback_id)

    def find(
        self, *, status: str | None = None, rating: str | None = None, verified: bool | None = True, limit: int | None = None
    ) -> list[Feedback]:
        query = select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc())
        if status:
            query = query.where(Feedback.status == status)
        if rating:
            query = query.where(Feedback.rating == rating)
        if verified is not None:
            query = query.where(Feedback.verified.is_(verified))
        if limit:
            query = query.limit(limit)
        with self._sessions() as session:
            return list(session.scalars(query))

    def resolve(self, feedback_id: int, label: str, *, expected: str | None = None, note: str | None = None) -> Feedback | None:
        """Staff's verdict on an item: a label (e.g. "wrong_result", "correct", "missing_content"), the answer
        that should have been given (a record id, an FAQ key), a note."""
        label = label.strip()[:LABEL_MAX]
        if not label:
            raise ValueError("a label is needed to resolve feedback")
        now = self._clock()
        with self._sessions() as session:
            row = session.get(Feedback, feedback_id)
            if row is None:
                return None
            row.status, row.label, row.resolved_at, row.updated_at = "resolved", label, now, now
            row.expected = (expected or "").strip()[:ANSWER_REF_MAX] or None
            row.note = (note or "").strip()[:NOTE_MAX] or None
            session.commit()
            return row

    def delete_for_conversation(self, conversation_id: str) -> int:
        """Deletes a conversation's feedback (the user asked to delete their data)."""
        with self._sessions() as session:
            removed = session.execute(delete(Feedback).where(Feedback.conversation_id == conversation_id)).rowcount or 0
            session.commit()
        if removed:
            log.info("%d feedback item(s) deleted at the user's request", removed)
        return removed

    def purge(self, older_than_days: int | None = None) -> int:
        """Deletes feedback given more than `older_than_days` (default RETENTION_DAYS) ago."""
        days = self.settings.retention_days if older_than_days is None else older_than_days
        if days < 0:
            raise ValueError("older_than_days must be 0 or more")
        cutoff = self._clock() - timedelta(days=days)
        with self._sessions() as session:
            removed = session.execute(delete(Feedback).where(Feedback.created_at <= cutoff)).rowcount or 0
            session.commit()
        if removed:
            log.info("%d feedback item(s) older than %d day(s) deleted", removed, days)
        return removed
