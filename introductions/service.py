"""IntroductionService: stores consented introduction requests, records the partner's decision (from an
email link or a Telegram button), links partners' Telegram chats, and writes every message it owes into the
outbox in the same transaction (delivery is introductions/outbox.py)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.catalogue import Partner, Solution
from introductions import emails, telegram
from introductions.db import SqlStore, utcnow
from introductions.feedback import FeedbackStore
from introductions.handoffs import HandoffService
from introductions import validation
from introductions.models import (
    OPEN_STATUSES,
    Introduction,
    OutboxMessage,
    PartnerTelegramLink,
    TelegramLinkCode,
    delete_for_conversation,
)
from introductions.tokens import (
    Decision,
    DecisionClaims,
    DecisionError,
    DecisionSigner,
    InvalidToken,
    TokenExpired,
    signing_secret,
)
from introductions.validation import IntroductionError, InvalidRequest
from introductions.validation import identifier as _identifier
from knowledge.settings import Settings

log = logging.getLogger(__name__)

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud and typed back
_REFERENCE = re.compile(rf"^GX-[{_REFERENCE_ALPHABET}]{{6}}$")
_RATE_WINDOW = timedelta(days=1)
LINK_CODE_TTL = timedelta(days=7)
_LINK_CODE = re.compile(r"^[A-Za-z0-9_-]{16,59}$")  # fits a start parameter after "link_"
_CHAT_ID_LIMIT = 2**53  # Telegram chat ids fit in 52 bits and a sign
_LINK_EXPIRED = "This link has expired: the introduction request is no longer open."
_NEW_LINK = "Please ask the UNOSSC team for a new link."
_BUTTON_EXPIRED = "This introduction request has expired: it can no longer be accepted or declined."


class RateLimited(IntroductionError):
    """The conversation already made `limit` requests in the last 24 hours."""

    def __init__(self, limit: int, retry_after: datetime) -> None:
        self.limit = limit
        self.retry_after = retry_after
        super().__init__(
            f"at most {limit} introduction requests a day; try again after {retry_after:%Y-%m-%d %H:%M} UTC"
        )


class WrongChat(DecisionError):
    """A Telegram button pressed in a chat that is not the one linked to the request's partner."""


class TelegramLinkError(IntroductionError):
    """A link code that cannot be used; `reason` is unknown, used or expired and the message is safe to show."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class TelegramLinkCodeIssued:
    partner_id: str
    code: str
    expires_at: datetime

    @property
    def start_parameter(self) -> str:
        return telegram.LINK_START_PREFIX + self.code

    def __repr__(self) -> str:  # the code is a credential until used
        return f"TelegramLinkCodeIssued(partner_id={self.partner_id!r})"


@dataclass(frozen=True)
class DecisionResult:
    reference: str
    decision: Decision  # what the link asked for
    status: str  # the introduction's status now
    already_decided: bool  # True: this call changed nothing (second click, or the other link was used)
    partner_id: str
    decided_at: datetime | None


class IntroductionService(SqlStore):
    """Requests, decisions, status and data-protection chores of brokered introductions."""

    def __init__(
        self,
        database_url: str,
        settings: Settings,
        partner_lookup: Callable[[str], Partner | None],
        *,
        solution_lookup: Callable[[str], Solution | None] | None = None,
        similar_partners: Callable[[str], list[Partner]] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(database_url, settings, clock=clock)
        self._partner_lookup = partner_lookup
        self._solution_lookup = solution_lookup
        self._similar_partners = similar_partners
        self._secret = signing_secret(settings)
        self._signer = DecisionSigner(self._secret)
        # Hand-offs to staff live in the same database (and outbox).
        self.handoffs = HandoffService(self.engine, settings, clock=clock)
        # Answer feedback (👍/👎) too; it goes with the conversation's requests when the user deletes their data.
        self.feedback = FeedbackStore(self.engine, settings, clock=clock)

    def close(self) -> None:
        self.handoffs.close()
        self.feedback.close()
        super().close()

    # -- requests -------------------------------------------------------------------------------------

    def request(
        self,
        *,
        conversation_id: str,
        channel: str,
        target_kind: str,
        target_id: str,
        partner_id: str,
        name: str,
        organisation: str,
        role: str | None,
        email: str,
        message: str,
        idempotency_key: str,
    ) -> Introduction:
        """Store a request the user consented to, with its partner notification, in one transaction.

        The same idempotency_key returns the same introduction (a retried update, a double click)."""
        now = self._clock()
        conversation_id = _identifier("conversation_id", conversation_id, 255)
        channel = _identifier("channel", channel, 64)
        idempotency_key = _identifier("idempotency_key", idempotency_key, 128)
        if target_kind not in ("solution", "partner"):
            raise InvalidRequest("target_kind", "must be 'solution' or 'partner'")
        target_id = _identifier("target_id", target_id, 128)
        partner_id = _identifier("partner_id", partner_id, 128)
        # The same validators as the conversation's form: what the user agreed to is what is stored.
        requester = emails.Requester(
            name=validation.name(name),
            organisation=validation.organisation(organisation),
            role=validation.role(role),
            email=validation.email(email),
            message=validation.message(message),
        )
        partner = self._partner_lookup(partner_id)
        if partner is None:
            raise InvalidRequest("partner_id", "is not a partner in the catalogue")
        solution = self._solution_for(target_kind, target_id, partner_id)

        with self._sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                # Serialise one conversation's requests so that the daily limit holds under concurrency
                # (SQLite already serialises writers: see db.make_engine).
                session.execute(select(func.pg_advisory_xact_lock(func.hashtext(conversation_id))))
                session.execute(select(func.pg_advisory_xact_lock(func.hashtext(requester.email.lower()))))
            existing = self._by_key(session, idempotency_key, conversation_id)
            if existing is not None:
                return existing
            self._check_rate(session, conversation_id, requester.email, now)
            introduction = Introduction(
                reference=self._new_reference(session),
                created_at=now,
                updated_at=now,
                conversation_id=conversation_id,
                channel=channel,
                target_kind=target_kind,
                target_id=target_id,
                partner_id=partner_id,
                requester_name=requester.name,
                requester_organisation=requester.organisation,
                requester_role=requester.role,
                requester_email=requester.email,
                message=requester.message,
                consent_at=now,
                status="pending",
                idempotency_key=idempotency_key,
                expires_at=now + timedelta(days=self.settings.introduction_ttl_days),
            )
            try:
                session.add(introduction)
                session.flush()  # assigns the id the notification refers to
                notification = self._notification(introduction, requester, partner, solution, now)
                session.add(notification)
                chat_id = self._notification_chat(session, partner_id)
                if chat_id is not None:
                    session.add(self._telegram_notification(introduction, requester, partner, solution, chat_id, now))
                session.commit()
            except IntegrityError:
                # A concurrent call with the same key won the race: answer with its row.
                session.rollback()
                existing = self._by_key(session, idempotency_key, conversation_id)
                if existing is None:
                    raise
                return existing
        log.info(
            "introduction %s stored for partner %s; outbox message %s pending",
            introduction.reference,
            partner_id,
            notification.id,
        )
        return introduction

    def _by_key(self, session: Session, key: str, conversation_id: str) -> Introduction | None:
        existing = session.scalar(select(Introduction).where(Introduction.idempotency_key == key))
        if existing is not None and existing.conversation_id != conversation_id:
            raise InvalidRequest("idempotency_key", "was already used by another conversation")
        return existing

    def _check_rate(self, session: Session, conversation_id: str, email: str, now: datetime) -> None:
        """At most INTRODUCTIONS_PER_DAY per conversation and per requester email (across conversations), so
        a new conversation does not reset the limit."""
        limit = self.settings.introductions_per_day
        for identity in (
            Introduction.conversation_id == conversation_id,
            func.lower(Introduction.requester_email) == email.lower(),
        ):
            recent = select(Introduction.created_at).where(identity, Introduction.created_at > now - _RATE_WINDOW)
            times = sorted(session.scalars(recent))
            if len(times) >= limit:
                raise RateLimited(limit, times[len(times) - limit] + _RATE_WINDOW)

    def _new_reference(self, session: Session) -> str:
        while True:
            reference = "GX-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
            if session.scalar(select(Introduction.id).where(Introduction.reference == reference)) is None:
                return reference

    def _solution_for(self, target_kind: str, target_id: str, partner_id: str) -> Solution | None:
        if target_kind == "partner":
            if target_id != partner_id:
                raise InvalidRequest("target_id", "must be the partner's id when the target is a partner")
            return None
        if self._solution_lookup is None:
            return None
        solution = self._solution_lookup(target_id)
        if solution is None:
            raise InvalidRequest("target_id", "is not a solution in the catalogue")
        if partner_id not in (solution.provider, *solution.other_partners):
            raise InvalidRequest("partner_id", "is not a partner of this solution")
        return solution

    def _solution_label(self, introduction: Introduction, solution: Solution | None = None) -> str | None:
        if introduction.target_kind != "solution":
            return None
        if solution is None and self._solution_lookup is not None:
            solution = self._solution_lookup(introduction.target_id)
        return solution.title if solution is not None else introduction.target_id

    def _focal_point(self, partner_id: str, partner: Partner | None = None) -> emails.FocalPoint:
        if partner is None:
            partner = self._partner_lookup(partner_id)
        return emails.FocalPoint.of(partner, partner_id, self.settings.broker_email)

    def _link(self, introduction: Introduction, decision: Decision) -> str:
        token = self._signer.sign(introduction.reference, decision, introduction.expires_at)
        return f"{self.settings.public_base_url.rstrip('/')}/introductions/{token}/{decision}"

    def _notification_chat(self, session: Session, partner_id: str) -> int | None:
        # Without a token nothing could send it; the email alone then notifies the partner.
        if not self.settings.telegram_bot_token:
            return None
        return _linked_chat(session, partner_id)

    def _telegram_notification(
        self,
        introduction: Introduction,
        requester: emails.Requester,
        partner: Partner,
        solution: Solution | None,
        chat_id: int,
        now: datetime,
    ) -> OutboxMessage:
        focal = self._focal_point(partner.id, partner)
        reference = introduction.reference
        label = self._solution_label(introduction, solution)
        text = telegram.notification_text(reference, requester, focal, label, introduction.expires_at)
        # The buttons' signed data is made when sending (from reference and expiry), so it is not stored.
        subject = f"Introduction request {reference}"
        return _outbox(introduction, "partner_notification", "", subject, text, now, telegram_chat_id=chat_id)

    def _notification(
        self,
        introduction: Introduction,
        requester: emails.Requester,
        partner: Partner,
        solution: Solution | None,
        now: datetime,
    ) -> OutboxMessage:
        focal = self._focal_point(partner.id, partner)
        subject, body = emails.partner_notification(
            introduction.reference,
            requester,
            focal,
            self._solution_label(introduction, solution),
            self._link(introduction, "accept"),
            self._link(introduction, "decline"),
            introduction.expires_at,
        )
        return _outbox(introduction, "partner_notification", focal.email, subject, body, now)

    # -- decisions ------------------------------------------------------------------------------------

    def preview(self, token: str) -> DecisionResult:
        """What a link would do, without doing it: for a confirmation page (mail scanners open GET links)."""
        claims = self._signer.verify(token, self._clock())
        with self._sessions() as session:
            introduction = _claimed(session, claims)
            if introduction.status == "expired":
                raise TokenExpired("This link has expired: the introduction request is no longer open.")
            return _result(introduction, claims.decision, already_decided=introduction.status not in OPEN_STATUSES)

    def decide(self, token: str) -> DecisionResult:
        """Accept or decline from a signed link; once per introduction, whichever link comes first."""
        now = self._clock()
        claims = self._signer.verify(token, now)
        with self._sessions() as session:
            introduction = _claimed(session, claims)
            return self._record_decision(session, introduction, claims.decision, now, _LINK_EXPIRED)

    def decide_from_telegram(self, callback_data: str, chat_id: int) -> DecisionResult:
        """Accept or decline from a Telegram button: the data must be signed for this request and pressed in the
        chat linked to its partner. Exactly what the email links do; a second press changes nothing."""
        now = self._clock()
        claims = telegram.parse_callback_data(callback_data)
        chat_id = _chat_id(chat_id)
        with self._sessions() as session:
            introduction = session.scalar(select(Introduction).where(Introduction.reference == claims.reference))
            if introduction is None or not telegram.verify_callback(self._secret, claims, introduction.expires_at):
                raise InvalidToken("This button is not valid: the introduction request no longer exists.")
            if _linked_chat(session, introduction.partner_id) != chat_id:
                raise WrongChat("This chat is not linked to the partner this introduction request is for.")
            return self._record_decision(session, introduction, claims.decision, now, _BUTTON_EXPIRED)

    def _record_decision(
        self, session: Session, introduction: Introduction, decision: Decision, now: datetime, expired: str
    ) -> DecisionResult:
        new_status = "accepted" if decision == "accept" else "declined"
        overdue = introduction.status in OPEN_STATUSES and now >= introduction.expires_at
        if introduction.status == "expired" or overdue:
            raise TokenExpired(expired)
        # The status condition makes the decision single-use even when two clicks (or a link and a button) race.
        changed = session.execute(
            update(Introduction)
            .where(Introduction.id == introduction.id, Introduction.status.in_(OPEN_STATUSES))
            .values(status=new_status, decided_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            session.rollback()
            session.refresh(introduction)
            return _result(introduction, decision, already_decided=True)
        session.refresh(introduction)
        # The partner answered on one channel: a notification still waiting on the other would ask again.
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.introduction_id == introduction.id,
                OutboxMessage.kind == "partner_notification",
                OutboxMessage.delivered_at.is_(None),
            )
        )
        for message in self._decision_messages(introduction, now):
            session.add(message)
        session.commit()
        log.info("introduction %s %s", introduction.reference, new_status)
        return _result(introduction, decision, already_decided=False)

    def telegram_answer(self, result: DecisionResult) -> telegram.TelegramAnswer:
        """What the bridge shows after a button press: on a fresh accept the requester's contact details (the
        partner may see them now), on a fresh decline a confirmation, otherwise just the state."""
        if result.already_decided:
            return telegram.TelegramAnswer(
                f"Introduction {result.reference} was already {result.status}.", show_alert=True
            )
        introduction = self.get(result.reference)
        if result.status == "declined" or introduction is None:
            return telegram.TelegramAnswer(
                "Declined. We will let the requester know politely.",
                message_text=telegram.declined_text(result.reference),
            )
        requester = _requester(introduction)
        return telegram.TelegramAnswer(
            "Accepted. You and the requester now receive each other's contact details.",
            message_text=telegram.accepted_text(result.reference, requester, self._focal_point(result.partner_id)),
        )

    def _alternatives(self, partner_id: str, limit: int = 3) -> list[tuple[str, str]]:
        """Similar partners to offer a declined requester; none (and a log line) if the search fails."""
        if self._similar_partners is None:
            return []
        try:
            partners = self._similar_partners(partner_id)
        except Exception as exc:  # noqa: BLE001 - a decline must be recorded even if the search is down
            log.warning("no similar partners for a declined request (%s)", type(exc).__name__)
            return []
        return [(p.display_name(), p.source_url) for p in partners if p.id != partner_id][:limit]

    def _decision_messages(self, introduction: Introduction, now: datetime) -> list[OutboxMessage]:
        requester = _requester(introduction)
        focal = self._focal_point(introduction.partner_id)
        solution = self._solution_label(introduction)
        if introduction.status == "declined":
            subject, body = emails.requester_declined(
                introduction.reference, requester, focal, solution, self._alternatives(introduction.partner_id)
            )
            declined = _outbox(introduction, "requester_declined", requester.email, subject, body, now)
            return [declined, *self._in_requester_chat(introduction, "requester_declined", body, now)]
        to_requester = emails.requester_accepted(introduction.reference, requester, focal, solution)
        to_partner = emails.partner_accepted(introduction.reference, requester, focal)
        return [
            _outbox(introduction, "requester_accepted", requester.email, *to_requester, now),
            _outbox(introduction, "partner_accepted", focal.email, *to_partner, now),
        ] + self._in_requester_chat(introduction, "requester_accepted", to_requester[1], now)

    def _in_requester_chat(self, introduction: Introduction, kind: str, text: str, now: datetime) -> list[OutboxMessage]:
        """The requester's update again in the Telegram chat they asked from (conversation `telegram:<chat id>`)."""
        chat = introduction.conversation_id.removeprefix("telegram:")
        if introduction.channel != "telegram" or not self.settings.telegram_bot_token or not re.fullmatch(r"-?\d{1,20}", chat):
            return []
        subject = f"Introduction {introduction.reference}"
        return [_outbox(introduction, kind, "", subject, text, now, telegram_chat_id=int(chat))]

    # -- Telegram links ---------------------------------------------------------------------------------

    def partner_name(self, partner_id: str) -> str:
        partner = self._partner_lookup(partner_id)
        return partner.display_name() if partner is not None else partner_id

    def create_telegram_link_code(self, partner_id: str) -> str:
        """A one-time code (valid LINK_CODE_TTL) that links the chat sending `/start link_<code>` to the
        partner; only its hash is stored. InvalidRequest for a partner not in the catalogue."""
        return self.issue_telegram_link_code(partner_id).code

    def issue_telegram_link_code(self, partner_id: str) -> TelegramLinkCodeIssued:
        """create_telegram_link_code, with the partner and expiry (for staff tools)."""
        partner_id = _identifier("partner_id", partner_id, 128)
        if self._partner_lookup(partner_id) is None:
            raise InvalidRequest("partner_id", "is not a partner in the catalogue")
        now = self._clock()
        code = secrets.token_urlsafe(18)  # 24 characters, 144 bits
        expires_at = now + LINK_CODE_TTL
        with self._sessions() as session:
            session.add(
                TelegramLinkCode(
                    code_hash=_code_hash(code), partner_id=partner_id, created_at=now, expires_at=expires_at
                )
            )
            session.commit()
        log.info("Telegram link code issued for partner %s", partner_id)
        return TelegramLinkCodeIssued(partner_id, code, expires_at)

    def link_telegram_chat(self, code: str, chat_id: int) -> str:
        """Use a link code once: from now on the partner's notifications also go to `chat_id`, and its buttons
        work there only. Returns the partner id; TelegramLinkError when the code cannot be used."""
        chat_id = _chat_id(chat_id)
        code = code.strip().removeprefix(telegram.LINK_START_PREFIX) if isinstance(code, str) else ""
        unknown = TelegramLinkError("unknown", f"This link code is not valid. {_NEW_LINK}")
        if not _LINK_CODE.match(code):
            raise unknown
        now = self._clock()
        for attempt in range(2):
            with self._sessions() as session:
                row = session.scalar(select(TelegramLinkCode).where(TelegramLinkCode.code_hash == _code_hash(code)))
                if row is None:
                    raise unknown
                if row.used_at is not None:
                    raise TelegramLinkError("used", f"This link code was already used. {_NEW_LINK}")
                if now >= row.expires_at:
                    raise TelegramLinkError("expired", f"This link code has expired. {_NEW_LINK}")
                # Conditional: of two chats racing with one code, one wins.
                won = session.execute(
                    update(TelegramLinkCode)
                    .where(TelegramLinkCode.id == row.id, TelegramLinkCode.used_at.is_(None))
                    .values(used_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won != 1:
                    session.rollback()
                    raise TelegramLinkError("used", f"This link code was already used. {_NEW_LINK}")
                partner_id = row.partner_id
                link = session.scalar(select(PartnerTelegramLink).where(PartnerTelegramLink.partner_id == partner_id))
                if link is None:
                    session.add(PartnerTelegramLink(partner_id=partner_id, chat_id=chat_id, linked_at=now))
                else:  # a new code moves the partner to the new chat
                    link.chat_id, link.linked_at = chat_id, now
                try:
                    session.commit()
                except IntegrityError:
                    # Another code of the same partner linked it at the same moment: try again as an update.
                    session.rollback()
                    if attempt:
                        raise
                    continue
            log.info("partner %s linked a Telegram chat", partner_id)
            return partner_id
        raise AssertionError("unreachable")

    def unlink_telegram(self, partner_id: str) -> bool:
        """Stop Telegram for a partner: the link, its unused codes and its unsent Telegram messages go.
        Returns whether a chat was linked."""
        with self._sessions() as session:
            removed = session.execute(
                delete(PartnerTelegramLink).where(PartnerTelegramLink.partner_id == partner_id)
            ).rowcount
            session.execute(
                delete(TelegramLinkCode).where(
                    TelegramLinkCode.partner_id == partner_id, TelegramLinkCode.used_at.is_(None)
                )
            )
            unsent = select(Introduction.id).where(Introduction.partner_id == partner_id)
            session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.channel == "telegram",
                    OutboxMessage.delivered_at.is_(None),
                    OutboxMessage.introduction_id.in_(unsent),
                )
            )
            session.commit()
        if removed:
            log.info("partner %s unlinked its Telegram chat", partner_id)
        return bool(removed)

    def telegram_chat_for(self, partner_id: str) -> int | None:
        with self._sessions() as session:
            return _linked_chat(session, partner_id)

    def telegram_links(self) -> list[PartnerTelegramLink]:
        with self._sessions() as session:
            return list(session.scalars(select(PartnerTelegramLink).order_by(PartnerTelegramLink.partner_id)))

    # -- status ---------------------------------------------------------------------------------------

    def for_conversation(self, conversation_id: str) -> list[Introduction]:
        """The conversation's requests, newest first, with overdue ones shown as expired."""
        self.expire_overdue()
        query = (
            select(Introduction)
            .where(Introduction.conversation_id == conversation_id)
            .order_by(Introduction.created_at.desc(), Introduction.id.desc())
        )
        with self._sessions() as session:
            return list(session.scalars(query))

    def get(self, reference: str) -> Introduction | None:
        reference = reference.strip().upper()
        if not _REFERENCE.match(reference):
            return None
        with self._sessions() as session:
            return session.scalar(select(Introduction).where(Introduction.reference == reference))

    def find(self, status: str | None = None, limit: int | None = None) -> list[Introduction]:
        """Newest first, for staff tools."""
        query: Select[tuple[Introduction]] = select(Introduction).order_by(
            Introduction.created_at.desc(), Introduction.id.desc()
        )
        if status is not None:
            query = query.where(Introduction.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._sessions() as session:
            return list(session.scalars(query))

    def outbox_of(self, introduction: Introduction) -> list[OutboxMessage]:
        with self._sessions() as session:
            query = (
                select(OutboxMessage).where(OutboxMessage.introduction_id == introduction.id).order_by(OutboxMessage.id)
            )
            return list(session.scalars(query))

    # -- housekeeping and data protection ---------------------------------------------------------------

    def expire_overdue(self, now: datetime | None = None) -> int:
        """Close open requests past expires_at; their unsent notifications are withdrawn (links are dead)."""
        now = now or self._clock()
        with self._sessions() as session:
            ids = list(
                session.scalars(
                    select(Introduction.id).where(
                        Introduction.status.in_(OPEN_STATUSES), Introduction.expires_at <= now
                    )
                )
            )
            if not ids:
                return 0
            expired = session.execute(
                update(Introduction)
                .where(Introduction.id.in_(ids), Introduction.status.in_(OPEN_STATUSES))
                .values(status="expired", updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.introduction_id.in_(ids),
                    OutboxMessage.kind == "partner_notification",
                    OutboxMessage.delivered_at.is_(None),
                )
            )
            session.commit()
        if expired:
            log.info("%d introduction request(s) expired", expired)
        return expired

    def purge_personal_data(self, older_than_days: int | None = None) -> int:
        """Blank the requester's details (and delete the emails that quote them) of requests closed more
        than `older_than_days` (default: RETENTION_DAYS) ago; reference, status and dates stay."""
        days = self.settings.retention_days if older_than_days is None else older_than_days
        if days < 0:
            raise ValueError("older_than_days must be 0 or more")
        now = self._clock()
        cutoff = now - timedelta(days=days)
        closed_before_cutoff = or_(
            Introduction.status.in_(("accepted", "declined")) & (Introduction.decided_at <= cutoff),
            (Introduction.status == "expired") & (Introduction.expires_at <= cutoff),
        )
        with self._sessions() as session:
            ids = list(
                session.scalars(
                    select(Introduction.id).where(Introduction.personal_data_purged_at.is_(None), closed_before_cutoff)
                )
            )
            if not ids:
                return 0
            session.execute(delete(OutboxMessage).where(OutboxMessage.introduction_id.in_(ids)))
            session.execute(
                update(Introduction)
                .where(Introduction.id.in_(ids))
                .values(
                    requester_name="",
                    requester_organisation="",
                    requester_role=None,
                    requester_email="",
                    message="",
                    personal_data_purged_at=now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
        log.info("personal data purged from %d introduction request(s)", len(ids))
        return len(ids)

    def delete_for_conversation(self, conversation_id: str) -> int:
        """Delete every request of a conversation and the emails not yet sent for them, and the conversation's
        answer feedback (the user asked)."""
        with self._sessions() as session:
            removed = delete_for_conversation(session, Introduction, OutboxMessage.introduction_id, conversation_id)
        self.feedback.delete_for_conversation(conversation_id)
        if removed:
            log.info("%d introduction request(s) deleted at the user's request", removed)
        return removed


def _requester(introduction: Introduction) -> emails.Requester:
    return emails.Requester(
        name=introduction.requester_name,
        organisation=introduction.requester_organisation,
        role=introduction.requester_role,
        email=introduction.requester_email,
        message=introduction.message,
    )


def _claimed(session: Session, claims: DecisionClaims) -> Introduction:
    introduction = session.scalar(select(Introduction).where(Introduction.reference == claims.reference))
    if introduction is None or int(introduction.expires_at.timestamp()) != int(claims.expires_at.timestamp()):
        raise InvalidToken("This link is not valid: the introduction request no longer exists.")
    return introduction


def _outbox(
    introduction: Introduction,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    *,
    telegram_chat_id: int | None = None,
) -> OutboxMessage:
    """An outbox row: an email to `recipient`, or with `telegram_chat_id` a Telegram message to that chat."""
    return OutboxMessage(
        introduction_id=introduction.id,
        kind=kind,
        channel="email" if telegram_chat_id is None else "telegram",
        telegram_chat_id=telegram_chat_id,
        recipient_email=recipient if telegram_chat_id is None else "",
        subject=subject,
        body=body,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _linked_chat(session: Session, partner_id: str) -> int | None:
    """The Telegram chat the partner linked, if any."""
    return session.scalar(select(PartnerTelegramLink.chat_id).where(PartnerTelegramLink.partner_id == partner_id))


def _code_hash(code: str) -> str:
    # Codes are random (144 bits), so a plain hash cannot be reversed by guessing.
    return hashlib.sha256(code.encode()).hexdigest()


def _chat_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -_CHAT_ID_LIMIT < value < _CHAT_ID_LIMIT:
        raise InvalidRequest("chat_id", "must be a Telegram chat id")
    return value


def _result(introduction: Introduction, decision: Decision, *, already_decided: bool) -> DecisionResult:
    return DecisionResult(
        reference=introduction.reference,
        decision=decision,
        status=introduction.status,
        already_decided=already_decided,
        partner_id=introduction.partner_id,
        decided_at=introduction.decided_at,
    )
