"""HandoffService: requests to talk to a person at UNOSSC. Stored only after the user consented, in the
introductions database, with the email to the staff mailbox written into the same outbox transaction;
without consent only an anonymous count is kept. Staff follow up and close them (`handoffs` CLI)."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from introductions import emails, validation
from introductions.db import SqlStore
from introductions.models import Handoff, HandoffAsked, OutboxMessage, delete_for_conversation
from introductions.validation import InvalidRequest, identifier

log = logging.getLogger(__name__)

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # as introductions: no 0/O, 1/I/L, U
_REFERENCE = re.compile(rf"^GH-[{_REFERENCE_ALPHABET}]{{6}}$")


class HandoffService(SqlStore):
    def note_asked(self, channel: str) -> None:
        """Count that a hand-off was asked for: the day and the channel, nothing that identifies anyone."""
        with self._sessions() as session:
            session.add(HandoffAsked(asked_on=self._clock().date(), channel=identifier("channel", channel, 64)))
            session.commit()

    def asked_count(self, since: date | None = None) -> int:
        query = select(func.count(HandoffAsked.id))
        if since is not None:
            query = query.where(HandoffAsked.asked_on >= since)
        with self._sessions() as session:
            return int(session.scalar(query) or 0)

    def request(self, *, conversation_id: str, channel: str, topic: str, email: str, idempotency_key: str) -> Handoff:
        """Store a consented hand-off and its email to the staff mailbox in one transaction; the same
        idempotency_key returns the same hand-off."""
        now = self._clock()
        conversation_id = identifier("conversation_id", conversation_id, 255)
        channel = identifier("channel", channel, 64)
        idempotency_key = identifier("idempotency_key", idempotency_key, 128)
        topic = validation.topic(topic)
        email = validation.email(email)
        with self._sessions() as session:
            existing = self._by_key(session, idempotency_key, conversation_id)
            if existing is not None:
                return existing
            handoff = Handoff(
                reference=self._new_reference(session),
                created_at=now,
                updated_at=now,
                conversation_id=conversation_id,
                channel=channel,
                topic=topic,
                email=email,
                consent_at=now,
                status="open",
                idempotency_key=idempotency_key,
            )
            try:
                session.add(handoff)
                session.flush()
                subject, body = emails.staff_handoff(handoff.reference, topic, email, channel, now)
                session.add(
                    OutboxMessage(
                        handoff_id=handoff.id,
                        kind="staff_handoff",
                        channel="email",
                        recipient_email=self.settings.staff_mailbox,
                        subject=subject,
                        body=body,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                session.commit()
            except IntegrityError:
                session.rollback()
                existing = self._by_key(session, idempotency_key, conversation_id)
                if existing is None:
                    raise
                return existing
        log.info("hand-off %s stored; staff email pending", handoff.reference)
        return handoff

    def _by_key(self, session: Session, key: str, conversation_id: str) -> Handoff | None:
        existing = session.scalar(select(Handoff).where(Handoff.idempotency_key == key))
        if existing is not None and existing.conversation_id != conversation_id:
            raise InvalidRequest("idempotency_key", "was already used by another conversation")
        return existing

    def _new_reference(self, session: Session) -> str:
        while True:
            reference = "GH-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
            if session.scalar(select(Handoff.id).where(Handoff.reference == reference)) is None:
                return reference

    def for_conversation(self, conversation_id: str) -> list[Handoff]:
        query = (
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.created_at.desc(), Handoff.id.desc())
        )
        with self._sessions() as session:
            return list(session.scalars(query))

    def get(self, reference: str) -> Handoff | None:
        reference = reference.strip().upper()
        if not _REFERENCE.match(reference):
            return None
        with self._sessions() as session:
            return session.scalar(select(Handoff).where(Handoff.reference == reference))

    def find(self, status: str | None = None, limit: int | None = None) -> list[Handoff]:
        query = select(Handoff).order_by(Handoff.created_at.desc(), Handoff.id.desc())
        if status is not None:
            query = query.where(Handoff.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._sessions() as session:
            return list(session.scalars(query))

    def outbox_of(self, handoff: Handoff) -> list[OutboxMessage]:
        with self._sessions() as session:
            query = select(OutboxMessage).where(OutboxMessage.handoff_id == handoff.id).order_by(OutboxMessage.id)
            return list(session.scalars(query))

    def close_handoff(self, reference: str) -> tuple[Handoff, bool] | None:
        """Mark a hand-off as dealt with; returns it and whether this call closed it (None: no such hand-off)."""
        handoff = self.get(reference)
        if handoff is None:
            return None
        now = self._clock()
        with self._sessions() as session:
            closed = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.status == "open")
                .values(status="closed", closed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            session.commit()
        if closed:
            log.info("hand-off %s closed", handoff.reference)
        return self.get(reference), bool(closed)

    def purge_personal_data(self, older_than_days: int | None = None) -> int:
        """Blank topic and email (and delete the staff email) of hand-offs closed, or opened, more than
        `older_than_days` (default: RETENTION_DAYS) ago; reference, status and dates stay."""
        days = self.settings.retention_days if older_than_days is None else older_than_days
        if days < 0:
            raise ValueError("older_than_days must be 0 or more")
        now = self._clock()
        cutoff = now - timedelta(days=days)
        old = or_(
            (Handoff.status == "closed") & (Handoff.closed_at <= cutoff),
            (Handoff.status == "open") & (Handoff.created_at <= cutoff),
        )
        with self._sessions() as session:
            ids = list(session.scalars(select(Handoff.id).where(Handoff.personal_data_purged_at.is_(None), old)))
            if not ids:
                return 0
            session.execute(delete(OutboxMessage).where(OutboxMessage.handoff_id.in_(ids)))
            session.execute(
                update(Handoff)
                .where(Handoff.id.in_(ids))
                .values(topic="", email="", personal_data_purged_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        log.info("personal data purged from %d hand-off(s)", len(ids))
        return len(ids)

    def delete_for_conversation(self, conversation_id: str) -> int:
        """Delete every hand-off of a conversation and its emails (the user asked)."""
        with self._sessions() as session:
            removed = delete_for_conversation(session, Handoff, OutboxMessage.handoff_id, conversation_id)
        if removed:
            log.info("%d hand-off(s) deleted at the user's request", removed)
        return removed
