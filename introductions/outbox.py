"""OutboxWorker: sends the emails (and Telegram messages) that introductions owe, with retries and backoff,
across restarts.

A message is claimed by an atomic conditional UPDATE that pushes its next_attempt_at one lease ahead
(with SELECT … FOR UPDATE SKIP LOCKED where the database has it), so concurrent workers never send the
same message; it is marked delivered in the transaction right after a successful send. A worker that dies
between claim and mark leaves the message due again when the lease ends: at least once, and once in
practice. Logs carry outbox ids and exception class names only.

Telegram rows go through a TelegramNotifier; a worker without one leaves them alone, due, for a worker that
has one (or for this one once a token is configured).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from introductions.db import make_engine, utcnow
from introductions.mailer import Email, Mailer
from introductions.models import Introduction, OutboxMessage
from introductions.telegram import TelegramError, TelegramNotice, TelegramNotifier

log = logging.getLogger(__name__)


class OutboxWorker:
    def __init__(
        self,
        database_url: str,
        mailer: Mailer,
        *,
        max_attempts: int = 8,
        base_delay: float = 2.0,
        backoff_factor: float = 4.0,
        max_delay: float = 6 * 3600.0,
        lease_seconds: float = 300.0,
        batch_size: int = 100,
        rng: random.Random | None = None,
        telegram: TelegramNotifier | None = None,
    ) -> None:
        # With the defaults the retries span about nine hours of SMTP outage (2 s, 8 s, 32 s … capped at 6 h).
        self.engine = make_engine(database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.mailer = mailer
        self.telegram = telegram
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.backoff_factor = backoff_factor
        self.max_delay = max_delay
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self._rng = rng or random.Random()

    def close(self) -> None:
        self.engine.dispose()
        if self.telegram is not None:
            self.telegram.close()

    def retry_delay(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`: exponential, capped, with jitter so retries spread out."""
        delay = min(self.max_delay, self.base_delay * self.backoff_factor ** max(0, attempts - 1))
        return delay / 2 + self._rng.uniform(0, delay / 2)

    def deliver_due(self, now: datetime | None = None) -> int:
        """Send the messages due at `now` (at most batch_size); returns how many were delivered."""
        now = now or utcnow()
        delivered = 0
        for _ in range(self.batch_size):
            # One claim at a time: a lease never has to outlast a whole batch of slow sends.
            claimed = self._claim_next(now)
            if claimed is None:
                break
            message, kind, introduction_id = claimed
            try:
                if isinstance(message, TelegramNotice):
                    assert self.telegram is not None  # _claim_next picks Telegram rows only then
                    self.telegram.send(message)
                else:
                    self.mailer.send(message)
            except Exception as exc:  # noqa: BLE001 - any failure is retried; only the class name is kept
                # Telegram's 429 says how long to wait: never retry sooner.
                retry_after = exc.retry_after if isinstance(exc, TelegramError) else None
                self._failed(message.outbox_id, type(exc).__name__, now, min_delay=retry_after)
                continue
            self._delivered(message.outbox_id, kind, introduction_id, now)
            delivered += 1
        return delivered

    def _claim_next(self, now: datetime) -> tuple[Email | TelegramNotice, str, int] | None:
        conditions = [
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.attempts < self.max_attempts,
            OutboxMessage.next_attempt_at <= now,
        ]
        if self.telegram is None:
            conditions.append(OutboxMessage.channel == "email")
        due = (
            select(OutboxMessage)
            .where(*conditions)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)  # ignored by SQLite, where the UPDATE below decides
        )
        for _ in range(3):  # another worker may win the race for the row we saw
            with self._sessions() as session, session.begin():
                message = session.scalars(due).first()
                if message is None:
                    return None
                won = session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == message.id,
                        OutboxMessage.delivered_at.is_(None),
                        OutboxMessage.next_attempt_at == message.next_attempt_at,
                    )
                    .values(next_attempt_at=now + self.lease)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won == 1:
                    return self._prepared(session, message), message.kind, message.introduction_id
        return None

    @staticmethod
    def _prepared(session: Session, message: OutboxMessage) -> Email | TelegramNotice:
        if message.channel != "telegram" or message.telegram_chat_id is None:
            return Email(message.id, message.recipient_email, message.subject, message.body)
        # The buttons are signed over the request's reference and expiry, read in the claiming transaction.
        reference, expires_at = session.execute(
            select(Introduction.reference, Introduction.expires_at).where(Introduction.id == message.introduction_id)
        ).one()
        return TelegramNotice(
            message.id,
            message.telegram_chat_id,
            message.body,
            reference,
            expires_at,
            decision_buttons=message.kind == "partner_notification",
        )

    def _delivered(self, outbox_id: int, kind: str, introduction_id: int, now: datetime) -> None:
        with self._sessions() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id)
                .values(delivered_at=now, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if kind == "partner_notification":
                session.execute(
                    update(Introduction)
                    .where(Introduction.id == introduction_id, Introduction.status == "pending")
                    .values(status="delivered", updated_at=now)
                    .execution_options(synchronize_session=False)
                )
        log.info("outbox message %s delivered", outbox_id)

    def _failed(self, outbox_id: int, error: str, now: datetime, *, min_delay: float | None = None) -> None:
        with self._sessions() as session, session.begin():
            attempts = session.scalar(select(OutboxMessage.attempts).where(OutboxMessage.id == outbox_id))
            if attempts is None:  # deleted meanwhile (expired, purged or deleted on request)
                return
            attempts += 1
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id)
                .values(
                    attempts=attempts,
                    last_error=error[:200],
                    next_attempt_at=now + timedelta(seconds=max(self.retry_delay(attempts), min_delay or 0.0)),
                )
                .execution_options(synchronize_session=False)
            )
        if attempts >= self.max_attempts:
            log.error("outbox message %s not delivered after %d attempts (%s); giving up", outbox_id, attempts, error)
        else:
            log.warning("outbox message %s not delivered (attempt %d, %s); will retry", outbox_id, attempts, error)

    def run_forever(
        self,
        stop_event: threading.Event,
        *,
        poll_interval: float = 1.0,
        housekeeping: Callable[[], object] | None = None,
        housekeeping_interval: float = 60.0,
    ) -> None:
        """Deliver until stop_event is set, polling every `poll_interval` seconds; `housekeeping` (for
        example expiring overdue requests) runs every `housekeeping_interval` seconds."""
        log.info("outbox worker started")
        next_housekeeping = time.monotonic()
        while not stop_event.is_set():
            try:
                if housekeeping is not None and time.monotonic() >= next_housekeeping:
                    next_housekeeping = time.monotonic() + housekeeping_interval
                    housekeeping()
                busy = self.deliver_due() >= self.batch_size
            except Exception as exc:  # noqa: BLE001 - a database outage must not end the worker
                log.error("outbox worker pass failed (%s); retrying", type(exc).__name__)
                busy = False
            if not busy:
                stop_event.wait(poll_interval)
        log.info("outbox worker stopped")
