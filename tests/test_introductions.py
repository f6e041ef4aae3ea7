"""Brokered introductions: the store and the outbox on SQLite and on a real PostgreSQL, delivering to a
real local SMTP server (aiosmtpd) and reading what arrived."""

from __future__ import annotations

import email
import logging
import os
import re
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

from knowledge.catalogue import Contact, Partner, Solution
from introductions import emails
from introductions.db import make_engine, upgrade
from introductions.mailer import SmtpMailer
from introductions.models import Introduction, OutboxMessage
from introductions.outbox import OutboxWorker
from introductions.service import IntroductionService, InvalidRequest, RateLimited
from introductions.tokens import DecisionSigner, InvalidToken, TokenExpired, signing_secret
from knowledge.settings import Settings
from tests.postgres import postgres_url  # noqa: F401 - session fixture

FOCAL_EMAIL = "ana.focal@amexcid.example"
BROKER_EMAIL = "partnerships@unossc.example"
BASE_URL = "https://galaxy.example"
AMEXCID = Partner(
    id="p-amexcid",
    name="Mexican Agency for International Development Cooperation",
    acronym="AMEXCID",
    aliases=(),
    type="government_agency",
    country="MEX",
    regions=("latin_america_caribbean",),
    sdgs=(6, 17),
    focus_areas=("water",),
    description="",
    source_url="https://www.gob.mx/amexcid",
    contact=Contact(name="Ana Focal", email=FOCAL_EMAIL),
)
IBSA = replace(AMEXCID, id="p-ibsa-fund", name="IBSA Fund", acronym=None, contact=None)
PARTNERS = {p.id: p for p in (AMEXCID, IBSA)}
RAINWATER = Solution(
    id="s-rainwater",
    title="Community rainwater harvesting in dry regions",
    summary="",
    description="",
    countries=("MEX",),
    regions=("latin_america_caribbean",),
    sdgs=(6,),
    themes=(),
    provider="p-amexcid",
    provider_name="AMEXCID",
    other_partners=(),
    year=2020,
    status="active",
    source_url="https://example.org/rainwater",
)
SOLUTIONS = {RAINWATER.id: RAINWATER}
REQUESTER = {
    "name": "Amina Diallo",
    "organisation": "Ministry of Water and Sanitation",
    "role": "Programme Officer",
    "email": "amina.diallo@water.example",
    "message": "We would like to learn how your rainwater harvesting was scaled to forty villages.",
}
PERSONAL = (*REQUESTER.values(), "Ana Focal", FOCAL_EMAIL)
LINK = re.compile(re.escape(BASE_URL) + r"/introductions/([A-Za-z0-9_.\-]+)/(accept|decline)")


# -- fixtures -----------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class Received:
    recipients: tuple[str, ...]
    subject: str
    body: str
    message_id: str


class Inbox:
    """aiosmtpd handler keeping every email that arrived."""

    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append(
            Received(tuple(envelope.rcpt_tos), str(parsed["Subject"]), parsed.get_content(), str(parsed["Message-ID"]))
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    controller, received = start_smtp(smtp_port)
    try:
        yield received
    finally:
        controller.stop()


@pytest.fixture
def settings(tmp_path, smtp_port: int) -> Settings:
    return Settings(
        state_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="Galaxy Assistant <galaxy@unossc.example>",
        introduction_secret="test-secret-not-for-production",
        public_base_url=BASE_URL,
        broker_email=BROKER_EMAIL,
        introductions_per_day=5,
        introduction_ttl_days=14,
        retention_days=180,
    )


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'introductions.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url = request.getfixturevalue("postgres_url")
    upgrade(url)  # idempotent: the first test creates the schema, the others find it current
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE introduction_outbox, introductions, handoffs, handoff_asked RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_service(url: str, settings: Settings, clock: Clock) -> IntroductionService:
    return IntroductionService(url, settings, PARTNERS.get, solution_lookup=SOLUTIONS.get, clock=clock)


@pytest.fixture
def service(database_url: str, settings: Settings, clock: Clock) -> Iterator[IntroductionService]:
    svc = make_service(database_url, settings, clock)
    yield svc
    svc.close()


@pytest.fixture
def worker(database_url: str, settings: Settings) -> Iterator[OutboxWorker]:
    w = OutboxWorker(database_url, SmtpMailer(settings, timeout=5))
    yield w
    w.close()


def ask(service: IntroductionService, **overrides: str | None) -> Introduction:
    fields = dict(
        conversation_id="conv-1",
        channel="telegram",
        target_kind="solution",
        target_id="s-rainwater",
        partner_id="p-amexcid",
        idempotency_key="key-1",
        **REQUESTER,
    )
    fields.update(overrides)
    return service.request(**fields)


def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        introductions = connection.scalar(select(func.count()).select_from(Introduction))
        messages = connection.scalar(select(func.count()).select_from(OutboxMessage))
    engine.dispose()
    return introductions, messages


def link(received: Received, decision: str) -> str:
    return {d: token for token, d in LINK.findall(received.body)}[decision]


# -- schema -------------------------------------------------------------------------------------------


def test_migrations_create_exactly_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from introductions.models import Base

    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": "introductions_alembic_version"}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


# -- requests -----------------------------------------------------------------------------------------


def test_request_and_its_notification_are_committed_together(database_url, service, monkeypatch) -> None:
    introduction = ask(service)

    assert re.fullmatch(r"GX-[2-9A-Z]{6}", introduction.reference)
    assert introduction.status == "pending"
    assert introduction.consent_at == introduction.created_at
    assert introduction.expires_at - introduction.created_at == timedelta(days=14)
    [notification] = service.outbox_of(introduction)
    assert (notification.kind, notification.recipient_email, notification.delivered_at) == (
        "partner_notification",
        FOCAL_EMAIL,
        None,
    )
    for shared in ("Amina Diallo", "Programme Officer", "Ministry of Water and Sanitation", "forty villages"):
        assert shared in notification.body
    assert REQUESTER["email"] not in notification.body  # revealed only on acceptance
    assert introduction.reference in notification.subject and "Amina" not in notification.subject
    assert sorted(d for _, d in LINK.findall(notification.body)) == ["accept", "decline"]

    # A failure after the row was written and before the message was added leaves neither behind.
    def broken(*args, **kwargs):
        raise RuntimeError("template failed")

    monkeypatch.setattr(emails, "partner_notification", broken)
    with pytest.raises(RuntimeError):
        ask(service, idempotency_key="key-2", conversation_id="conv-2")
    assert counts(database_url) == (1, 1)


def test_same_idempotency_key_gives_one_request_and_one_email(database_url, service) -> None:
    first = ask(service)
    again = ask(service, message="Sorry, pressed confirm twice.")

    assert again.reference == first.reference
    assert again.message == REQUESTER["message"]
    assert counts(database_url) == (1, 1)
    with pytest.raises(InvalidRequest) as error:
        ask(service, conversation_id="someone-else")
    assert error.value.field == "idempotency_key"
    assert counts(database_url) == (1, 1)


def test_daily_limit_per_conversation_and_per_email(database_url, settings, clock) -> None:
    service = make_service(database_url, replace(settings, introductions_per_day=2), clock)
    try:
        first = ask(service, idempotency_key="a")
        clock.advance(hours=1)
        ask(service, idempotency_key="b")
        with pytest.raises(RateLimited) as limited:
            ask(service, idempotency_key="c")
        assert limited.value.limit == 2
        assert limited.value.retry_after == first.created_at + timedelta(days=1)
        assert ask(service, idempotency_key="a").reference == first.reference  # a replay is not a new request
        ask(service, idempotency_key="other", conversation_id="conv-2", email="lea@rural.example")  # others are not affected
        # A new conversation does not reset the limit of the same requester (emails compare case-insensitively).
        with pytest.raises(RateLimited):
            ask(service, idempotency_key="d", conversation_id="conv-3", email="Amina.Diallo@water.example")
        clock.now = first.created_at + timedelta(days=1, seconds=1)
        ask(service, idempotency_key="c")
        assert counts(database_url) == (4, 4)
    finally:
        service.close()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "amina.diallo@@water"}, "email"),
        ({"email": "amina@localhost"}, "email"),
        ({"name": "   "}, "name"),
        ({"name": "Amina\x00Diallo"}, "name"),
        ({"organisation": "M" * 201}, "organisation"),
        ({"message": "x" * 1001}, "message"),
        ({"partner_id": "p-unknown", "target_kind": "partner", "target_id": "p-unknown"}, "partner_id"),
        ({"target_kind": "person"}, "target_kind"),
        ({"target_kind": "partner", "target_id": "p-ibsa-fund"}, "target_id"),
        ({"partner_id": "p-ibsa-fund"}, "partner_id"),  # not a partner of that solution
        ({"target_id": "s-unknown"}, "target_id"),
    ],
)
def test_invalid_requests_are_refused_and_nothing_is_stored(sqlite_url, settings, clock, overrides, field) -> None:
    service = make_service(sqlite_url, settings, clock)
    try:
        with pytest.raises(InvalidRequest) as error:
            ask(service, **overrides)
    finally:
        service.close()
    assert error.value.field == field
    typed = [str(value).strip()[:20] for key, value in overrides.items() if key in REQUESTER and str(value).strip()]
    assert not any(value in str(error.value) for value in typed)  # errors may be logged: no personal data
    assert counts(sqlite_url) == (0, 0)


def test_request_normalises_what_the_user_typed(sqlite_url, settings, clock) -> None:
    service = make_service(sqlite_url, settings, clock)
    try:
        introduction = ask(
            service,
            name="  Amina   Diallo ",
            role="",
            email="Amina.Diallo@WATER.example",
            message="First line.\r\n\r\n\r\n  Second   line. ",
        )
    finally:
        service.close()
    assert introduction.requester_name == "Amina Diallo"
    assert introduction.requester_role is None
    assert introduction.requester_email == "Amina.Diallo@water.example"
    assert introduction.message == "First line.\n\nSecond line."


# -- delivery -----------------------------------------------------------------------------------------


def test_smtp_down_keeps_requests_pending_until_it_comes_back(database_url, service, worker, smtp_port, clock) -> None:
    introduction = ask(service)
    start = clock()

    assert worker.deliver_due(start) == 0  # nothing listens on the SMTP port
    [message] = service.outbox_of(introduction)
    assert (message.attempts, message.last_error, message.delivered_at) == (1, "ConnectionRefusedError", None)
    assert message.next_attempt_at > start
    assert worker.deliver_due(start) == 0  # backing off: not due yet
    assert service.outbox_of(introduction)[0].attempts == 1
    assert worker.deliver_due(start + timedelta(hours=1)) == 0
    assert service.outbox_of(introduction)[0].attempts == 2
    assert service.get(introduction.reference).status == "pending"

    controller, inbox = start_smtp(smtp_port)
    try:
        assert worker.deliver_due(start + timedelta(hours=2)) == 1
        assert worker.deliver_due(start + timedelta(hours=3)) == 0
    finally:
        controller.stop()
    [received] = inbox.messages
    assert received.recipients == (FOCAL_EMAIL,)
    assert "Amina Diallo" in received.body
    [message] = service.outbox_of(introduction)
    assert message.delivered_at == start + timedelta(hours=2)
    assert message.last_error is None
    assert service.get(introduction.reference).status == "delivered"


def test_request_committed_before_a_crash_is_delivered_once_after_restart(database_url, settings, clock, inbox) -> None:
    service = make_service(database_url, settings, clock)
    reference = ask(service).reference
    service.close()  # the process dies before any worker ran

    restarted = OutboxWorker(database_url, SmtpMailer(settings, timeout=5))
    another = OutboxWorker(database_url, SmtpMailer(settings, timeout=5))
    try:
        assert restarted.deliver_due() == 1
        assert restarted.deliver_due() == 0
        assert another.deliver_due() == 0
    finally:
        restarted.close()
        another.close()
    assert [m.recipients for m in inbox.messages] == [(FOCAL_EMAIL,)]
    assert reference in inbox.messages[0].subject


class WorkerKilled(BaseException):
    """Stands for the worker process dying in the middle of a send."""


class DyingMailer:
    def send(self, email: object) -> None:
        raise WorkerKilled


def test_worker_killed_while_sending_is_redelivered_once_after_the_lease(
    database_url, settings, service, worker, inbox, clock
) -> None:
    ask(service)
    dying = OutboxWorker(database_url, DyingMailer(), lease_seconds=300)
    try:
        with pytest.raises(WorkerKilled):
            dying.deliver_due(clock())
    finally:
        dying.close()

    assert worker.deliver_due(clock() + timedelta(seconds=60)) == 0  # still claimed by the dead worker
    assert worker.deliver_due(clock() + timedelta(seconds=301)) == 1
    assert worker.deliver_due(clock() + timedelta(hours=1)) == 0
    assert len(inbox.messages) == 1


def test_concurrent_workers_send_each_message_once(database_url, settings, service, inbox) -> None:
    for n in range(6):
        ask(service, conversation_id=f"conv-{n}", idempotency_key=f"key-{n}", email=f"requester{n}@water.example")
    workers = [OutboxWorker(database_url, SmtpMailer(settings, timeout=5), batch_size=1) for _ in range(2)]
    start = threading.Barrier(len(workers))
    delivered: list[int] = []

    def drain(worker: OutboxWorker) -> None:
        start.wait()
        total = 0
        while (sent := worker.deliver_due()) > 0:
            total += sent
        delivered.append(total)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for w in workers:
            w.close()
    assert sum(delivered) == 6
    assert len(inbox.messages) == 6
    assert len({m.message_id for m in inbox.messages}) == 6


# -- decisions ----------------------------------------------------------------------------------------


def test_accept_gives_both_sides_each_others_contact(database_url, service, worker, inbox, clock) -> None:
    introduction = ask(service)
    assert worker.deliver_due() == 1
    [notification] = inbox.messages
    assert inbox.to(REQUESTER["email"]) == []  # the requester has nothing from the partner yet

    clock.advance(days=2)
    result = service.decide(link(notification, "accept"))

    assert (result.reference, result.decision, result.status, result.already_decided) == (
        introduction.reference,
        "accept",
        "accepted",
        False,
    )
    assert result.decided_at == clock()
    assert worker.deliver_due(clock()) == 2
    [to_requester] = inbox.to(REQUESTER["email"])
    assert FOCAL_EMAIL in to_requester.body and "Ana Focal" in to_requester.body
    assert "accepted" in to_requester.subject
    [_, to_partner] = inbox.to(FOCAL_EMAIL)
    for detail in (REQUESTER["email"], REQUESTER["name"], REQUESTER["organisation"], REQUESTER["role"]):
        assert detail in to_partner.body
    assert service.get(introduction.reference).status == "accepted"
    # The partner's contact left the partner's own mailbox once: in the email written after acceptance.
    assert [m for m in inbox.messages if FOCAL_EMAIL in m.body and FOCAL_EMAIL not in m.recipients] == [to_requester]


def test_partner_without_contact_is_brokered_by_unossc(sqlite_url, settings, clock, inbox) -> None:
    service = make_service(sqlite_url, settings, clock)
    worker = OutboxWorker(sqlite_url, SmtpMailer(settings, timeout=5))
    try:
        ask(service, target_kind="partner", target_id="p-ibsa-fund", partner_id="p-ibsa-fund")
        worker.deliver_due()
        [notification] = inbox.to(BROKER_EMAIL)
        assert "IBSA Fund has no focal point on file" in notification.body
        service.decide(link(notification, "accept"))
        worker.deliver_due()
    finally:
        worker.close()
        service.close()
    [to_requester] = inbox.to(REQUESTER["email"])
    assert BROKER_EMAIL in to_requester.body


def test_decline_tells_the_requester_politely(database_url, service, worker, inbox) -> None:
    ask(service)
    worker.deliver_due()
    result = service.decide(link(inbox.messages[0], "decline"))

    assert (result.status, result.already_decided) == ("declined", False)
    assert worker.deliver_due() == 1
    [to_requester] = inbox.to(REQUESTER["email"])
    assert "Dear Amina Diallo" in to_requester.body
    assert "not able to take up your introduction request" in to_requester.body
    assert "find partners like" in to_requester.body
    assert FOCAL_EMAIL not in to_requester.body and "Ana Focal" not in to_requester.body
    assert len(inbox.to(FOCAL_EMAIL)) == 1  # the partner only got the request


def test_a_declined_requester_is_offered_similar_partners(sqlite_url, settings, clock, inbox) -> None:
    asked: list[str] = []

    def similar(partner_id: str) -> list[Partner]:
        asked.append(partner_id)
        return [AMEXCID, IBSA]  # the declined partner itself must not be offered back

    service = IntroductionService(sqlite_url, settings, PARTNERS.get, similar_partners=similar, clock=clock)
    worker = OutboxWorker(sqlite_url, SmtpMailer(settings, timeout=5))
    try:
        introduction = ask(service)
        worker.deliver_due()
        service.decide(link(inbox.messages[0], "decline"))
        worker.deliver_due()
        [to_requester] = inbox.to(REQUESTER["email"])
        assert asked == [introduction.partner_id]
        assert IBSA.display_name() in to_requester.body and IBSA.source_url in to_requester.body
        assert AMEXCID.display_name() not in to_requester.body.split("similar themes")[1]
    finally:
        service.close()
        worker.close()


def test_tampered_forged_expired_and_reused_links_are_refused(sqlite_url, settings, clock, inbox) -> None:
    service = make_service(sqlite_url, settings, clock)
    worker = OutboxWorker(sqlite_url, SmtpMailer(settings, timeout=5))
    try:
        introduction = ask(service)
        worker.deliver_due()
        accept, decline = link(inbox.messages[0], "accept"), link(inbox.messages[0], "decline")
        payload, signature = accept.rsplit(".", 1)
        decline_payload = decline.rsplit(".", 1)[0]
        for bad in (
            # (the first character: the last one of base64 may carry only padding bits)
            payload + "." + ("B" if signature[0] == "A" else "A") + signature[1:],  # signature changed
            ("B" if payload[0] == "A" else "A") + payload[1:] + "." + signature,  # payload changed
            decline_payload + "." + signature,  # decision swapped under the accept signature
            "not-a-token",
            DecisionSigner("another-secret").sign(introduction.reference, "accept", introduction.expires_at),
            DecisionSigner(settings.introduction_secret).sign(
                introduction.reference, "accept", introduction.expires_at + timedelta(days=30)
            ),  # right secret, expiry of no such row
        ):
            with pytest.raises(InvalidToken):
                service.decide(bad)
        assert service.get(introduction.reference).status == "delivered"

        assert service.preview(accept).already_decided is False
        assert service.decide(accept).already_decided is False
        again = service.decide(accept)
        other = service.decide(decline)
        assert (again.status, again.already_decided) == ("accepted", True)
        assert (other.decision, other.status, other.already_decided) == ("decline", "accepted", True)
        assert [m.kind for m in service.outbox_of(introduction)] == [
            "partner_notification",
            "requester_accepted",
            "partner_accepted",
        ]

        late = ask(service, idempotency_key="key-late")
        worker.deliver_due()
        late_accept = link(inbox.to(FOCAL_EMAIL)[-1], "accept")
        clock.advance(days=14, seconds=1)
        with pytest.raises(TokenExpired):
            service.decide(late_accept)
        assert service.get(late.reference).status == "delivered"
        assert service.expire_overdue() == 1
        with pytest.raises(TokenExpired):
            service.decide(late_accept)
    finally:
        worker.close()
        service.close()


def test_link_of_a_deleted_request_is_refused(sqlite_url, settings, clock) -> None:
    service = make_service(sqlite_url, settings, clock)
    try:
        introduction = ask(service)
        [notification] = service.outbox_of(introduction)
        accept = {d: t for t, d in LINK.findall(notification.body)}["accept"]
        assert service.delete_for_conversation("conv-1") == 1
        with pytest.raises(InvalidToken):
            service.decide(accept)
    finally:
        service.close()


def test_overdue_requests_expire_and_their_unsent_notification_is_withdrawn(sqlite_url, settings, clock) -> None:
    service = make_service(sqlite_url, settings, clock)
    try:
        old = ask(service, idempotency_key="old")
        clock.advance(days=10)
        new = ask(service, idempotency_key="new")
        clock.advance(days=5)

        listed = service.for_conversation("conv-1")

        assert [(i.reference, i.status) for i in listed] == [(new.reference, "pending"), (old.reference, "expired")]
        assert service.outbox_of(old) == []
        assert len(service.outbox_of(new)) == 1
        assert service.expire_overdue() == 0
    finally:
        service.close()


# -- data protection ----------------------------------------------------------------------------------


def test_purge_blanks_personal_data_of_requests_closed_before_the_retention_period(
    database_url, service, clock
) -> None:
    accepted = ask(service, idempotency_key="accepted")
    [notification] = service.outbox_of(accepted)
    service.decide(LINK.search(notification.body).group(1))  # the accept link comes first
    clock.advance(days=100)
    declined = ask(service, idempotency_key="declined")
    declined_link = {d: t for t, d in LINK.findall(service.outbox_of(declined)[0].body)}["decline"]
    service.decide(declined_link)
    clock.advance(days=81)  # accepted closed 181 days ago, declined 81 days ago
    pending = ask(service, idempotency_key="pending")

    assert service.purge_personal_data() == 1
    purged = service.get(accepted.reference)
    assert (purged.requester_name, purged.requester_organisation, purged.requester_role) == ("", "", None)
    assert (purged.requester_email, purged.message) == ("", "")
    assert purged.personal_data_purged_at == clock()
    assert (purged.reference, purged.status, purged.created_at, purged.decided_at) == (
        accepted.reference,
        "accepted",
        accepted.created_at,
        accepted.created_at,
    )
    assert service.outbox_of(purged) == []  # the emails quoted the same data
    assert service.get(declined.reference).requester_email == REQUESTER["email"]

    assert service.purge_personal_data(older_than_days=0) == 1  # the declined one; never an open request
    assert service.get(declined.reference).requester_name == ""
    assert service.get(pending.reference).requester_name == "Amina Diallo"
    assert service.purge_personal_data(older_than_days=0) == 0


def test_user_can_delete_their_requests(database_url, service, worker, inbox) -> None:
    delivered = ask(service, idempotency_key="one")
    worker.deliver_due()
    unsent = ask(service, idempotency_key="two")
    kept = ask(service, idempotency_key="three", conversation_id="conv-2")

    assert service.delete_for_conversation("conv-1") == 2

    assert service.for_conversation("conv-1") == []
    assert service.get(delivered.reference) is None and service.get(unsent.reference) is None
    assert worker.deliver_due() == 1  # only conv-2's notification is left to send
    assert counts(database_url) == (1, 1)
    assert service.get(kept.reference).requester_email == REQUESTER["email"]
    assert service.delete_for_conversation("conv-1") == 0


def test_personal_data_never_reaches_the_logs(sqlite_url, settings, clock, smtp_port, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    service = make_service(sqlite_url, settings, clock)
    worker = OutboxWorker(sqlite_url, SmtpMailer(settings, timeout=5))
    try:
        with pytest.raises(InvalidRequest):
            ask(service, email="amina.diallo@@water.example")
        ask(service)
        ask(service, idempotency_key="second")
        worker.deliver_due(clock())  # SMTP is down: failures are logged
        controller, inbox = start_smtp(smtp_port)
        try:
            worker.deliver_due(clock() + timedelta(hours=1))
            first, second = inbox.to(FOCAL_EMAIL)
            service.decide(link(first, "accept"))
            service.decide(link(second, "decline"))
            worker.deliver_due(clock() + timedelta(hours=2))
        finally:
            controller.stop()
        clock.advance(days=200)
        service.purge_personal_data()
        service.delete_for_conversation("conv-1")
    finally:
        worker.close()
        service.close()

    ours = [r for r in caplog.records if r.name.startswith(("knowledge", "introductions", "sqlalchemy", "alembic"))]
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in ours)
    assert {"introductions.service", "introductions.outbox", "introductions.mailer"} <= {
        r.name for r in ours
    }
    assert "ConnectionRefusedError" in logged  # the failure itself is logged, by class name
    for value in PERSONAL:
        assert value not in logged
    assert "@" not in logged


def test_generated_secret_is_private_and_stable(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    secret = signing_secret(settings)
    assert len(secret) >= 32
    assert signing_secret(settings) == secret
    assert stat.S_IMODE(os.stat(tmp_path / "state" / "secret").st_mode) == 0o600
    assert signing_secret(replace(settings, introduction_secret="from-env")) == "from-env"


# -- staff CLI ----------------------------------------------------------------------------------------


def test_staff_cli_lists_shows_exports_purges_and_delivers(
    sqlite_url, settings, clock, inbox, smtp_port, tmp_path, monkeypatch, capsys
) -> None:
    import json

    from knowledge.cli import main
    from knowledge.settings import settings as process_settings

    monkeypatch.setenv("GALAXY_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("INTRODUCTION_SECRET", settings.introduction_secret)
    process_settings.cache_clear()
    try:
        service = make_service(sqlite_url, settings, clock)
        introduction = ask(service)
        service.close()

        assert main(["introductions", "deliver"]) == 0
        assert capsys.readouterr().out == "1 email(s) delivered\n"
        assert len(inbox.to(FOCAL_EMAIL)) == 1

        assert main(["introductions", "list", "--json"]) == 0
        [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert (listed["reference"], listed["status"]) == (introduction.reference, "delivered")
        assert "requester_email" not in listed

        assert main(["introductions", "show", introduction.reference.lower(), "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["requester_email"] == REQUESTER["email"]
        assert [(m["kind"], m["attempts"]) for m in shown["outbox"]] == [("partner_notification", 0)]
        assert shown["outbox"][0]["delivered_at"] is not None

        export = tmp_path / "introductions.csv"
        assert main(["introductions", "export", "--csv", str(export)]) == 0
        rows = export.read_text(encoding="utf-8").splitlines()
        assert rows[0].startswith("reference,status,created_at")
        assert introduction.reference in rows[1] and REQUESTER["email"] in rows[1]
        assert stat.S_IMODE(os.stat(export).st_mode) == 0o600

        assert main(["introductions", "purge", "--older-than-days", "0", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["purged"] == 0  # still open: never purged
        assert main(["introductions", "show", "GX-ZZZZZZ"]) == 1
    finally:
        process_settings.cache_clear()
