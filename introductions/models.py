"""SQLAlchemy models of the introductions store: each consented request, the emails and Telegram messages it
owes, the Telegram chats partners linked to receive requests in, and hand-offs to UNOSSC staff."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

# Column sizes are the validation limits shared by the forms and the services.
from introductions.validation import EMAIL_MAX, NAME_MAX, ORGANISATION_MAX, ROLE_MAX

TargetKind = Literal["solution", "partner"]
Status = Literal["pending", "delivered", "accepted", "declined", "expired"]
STATUSES: tuple[str, ...] = ("pending", "delivered", "accepted", "declined", "expired")
OPEN_STATUSES: tuple[str, ...] = ("pending", "delivered")
CLOSED_STATUSES: tuple[str, ...] = ("accepted", "declined", "expired")
MESSAGE_KINDS: tuple[str, ...] = (
    "partner_notification",
    "requester_accepted",
    "partner_accepted",
    "requester_declined",
    "staff_handoff",
)
HANDOFF_STATUSES: tuple[str, ...] = ("open", "closed")
OUTBOX_CHANNELS: tuple[str, ...] = ("email", "telegram")



class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone, PostgreSQL keeps timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class Introduction(Base):
    """A request, stored only once the requester consented to share these details with the partner."""

    __tablename__ = "introductions"
    __table_args__ = (
        CheckConstraint(_in("target_kind", ("solution", "partner")), name="ck_introductions_target_kind"),
        CheckConstraint(_in("status", STATUSES), name="ck_introductions_status"),
        UniqueConstraint("reference", name="uq_introductions_reference"),
        UniqueConstraint("idempotency_key", name="uq_introductions_idempotency_key"),
        Index("ix_introductions_conversation_created", "conversation_id", "created_at"),
        Index("ix_introductions_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(128))
    partner_id: Mapped[str] = mapped_column(String(128))
    # Personal data, blanked by purge_personal_data after the retention period.
    requester_name: Mapped[str] = mapped_column(String(NAME_MAX))
    requester_organisation: Mapped[str] = mapped_column(String(ORGANISATION_MAX))
    requester_role: Mapped[str | None] = mapped_column(String(ROLE_MAX), nullable=True)
    requester_email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    message: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    idempotency_key: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def __repr__(self) -> str:  # no personal data: reprs end up in logs and tracebacks
        return f"Introduction(reference={self.reference!r}, status={self.status!r}, partner_id={self.partner_id!r})"

    def as_json(self, *, personal_data: bool = False) -> dict[str, Any]:
        """Plain JSON; the requester's details only when `personal_data` is asked for (staff tools)."""
        data: dict[str, Any] = {
            "reference": self.reference,
            "status": self.status,
            "target_kind": self.target_kind,
            "target_id": self.target_id,
            "partner_id": self.partner_id,
            "channel": self.channel,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "personal_data_purged_at": self.personal_data_purged_at.isoformat()
            if self.personal_data_purged_at
            else None,
        }
        if personal_data:
            data.update(
                conversation_id=self.conversation_id,
                requester_name=self.requester_name,
                requester_organisation=self.requester_organisation,
                requester_role=self.requester_role,
                requester_email=self.requester_email,
                message=self.message,
                consent_at=self.consent_at.isoformat(),
            )
        return data


class OutboxMessage(Base):
    """An email or a Telegram message owed by an introduction, written in the same transaction as the change
    that owes it."""

    __tablename__ = "introduction_outbox"
    __table_args__ = (
        CheckConstraint(_in("kind", MESSAGE_KINDS), name="ck_introduction_outbox_kind"),
        CheckConstraint(_in("channel", OUTBOX_CHANNELS), name="ck_introduction_outbox_channel"),
        # A Telegram message needs its chat; an email has none.
        CheckConstraint(
            "(channel = 'telegram') = (telegram_chat_id IS NOT NULL)", name="ck_introduction_outbox_telegram_chat"
        ),
        # Owed by an introduction or by a hand-off, never both.
        CheckConstraint(
            "(introduction_id IS NULL) <> (handoff_id IS NULL)", name="ck_introduction_outbox_owner"
        ),
        Index("ix_introduction_outbox_due", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    introduction_id: Mapped[int | None] = mapped_column(
        ForeignKey("introductions.id", ondelete="CASCADE", name="fk_introduction_outbox_introduction"),
        index=True,
        nullable=True,
    )
    handoff_id: Mapped[int | None] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE", name="fk_introduction_outbox_handoff"), index=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Empty on the Telegram channel.
    recipient_email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # An exception class name only: SMTP errors quote addresses.
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return (
            f"OutboxMessage(id={self.id!r}, kind={self.kind!r}, channel={self.channel!r}, attempts={self.attempts!r})"
        )


class PartnerTelegramLink(Base):
    """The Telegram chat a partner's focal point linked (with a one-time code) to receive its requests."""

    __tablename__ = "partner_telegram_links"
    __table_args__ = (UniqueConstraint("partner_id", name="uq_partner_telegram_links_partner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(128))
    # One chat may speak for several partners (a focal point for a group of agencies).
    chat_id: Mapped[int] = mapped_column(BigInteger)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"PartnerTelegramLink(partner_id={self.partner_id!r})"


class TelegramLinkCode(Base):
    """A one-time code staff hand to a partner (as a t.me deep link); only its SHA-256 is stored."""

    __tablename__ = "partner_telegram_link_codes"
    __table_args__ = (UniqueConstraint("code_hash", name="uq_partner_telegram_link_codes_code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    partner_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"TelegramLinkCode(id={self.id!r}, partner_id={self.partner_id!r})"


class Handoff(Base):
    """A request to talk to a person at UNOSSC, stored only once the user consented to share it with staff."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(_in("status", HANDOFF_STATUSES), name="ck_handoffs_status"),
        UniqueConstraint("reference", name="uq_handoffs_reference"),
        UniqueConstraint("idempotency_key", name="uq_handoffs_idempotency_key"),
        Index("ix_handoffs_conversation_created", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(64))
    # Personal data, blanked by the retention purge.
    topic: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    idempotency_key: Mapped[str] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"Handoff(reference={self.reference!r}, status={self.status!r})"

    def as_json(self, *, personal_data: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "reference": self.reference,
            "status": self.status,
            "channel": self.channel,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "personal_data_purged_at": self.personal_data_purged_at.isoformat()
            if self.personal_data_purged_at
            else None,
        }
        if personal_data:
            data.update(
                conversation_id=self.conversation_id,
                topic=self.topic,
                email=self.email,
                consent_at=self.consent_at.isoformat(),
            )
        return data


class HandoffAsked(Base):
    """The anonymous fact that someone asked for a person (consented or not): no conversation id, no text."""

    __tablename__ = "handoff_asked"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asked_on: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(64))


def delete_for_conversation(session: Session, model: type[Introduction] | type[Handoff], outbox_column: Any, conversation_id: str) -> int:
    """Deletes a conversation's rows of `model` and their outbox messages, in the session's transaction (the
    user asked); returns how many rows of `model` went. Shared by introductions and hand-offs."""
    from sqlalchemy import delete, select

    ids = list(session.scalars(select(model.id).where(model.conversation_id == conversation_id)))
    if ids:
        session.execute(delete(OutboxMessage).where(outbox_column.in_(ids)))
        session.execute(delete(model).where(model.id.in_(ids)))
        session.commit()
    return len(ids)
