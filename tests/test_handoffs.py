"""Hand-offs to UNOSSC staff: stored with consent in the introductions database, mailed to the staff mailbox
through the outbox (same transaction), closed, purged and deleted; the staff CLI; CSV export safety."""
from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from introductions.db import make_engine
from introductions.mailer import SmtpMailer
from introductions.models import Handoff, HandoffAsked, OutboxMessage
from introductions.outbox import OutboxWorker
from introductions.validation import InvalidRequest
from tests.postgres import postgres_url  # noqa: F401 - session fixture
from tests.test_introductions import (  # noqa: F401 - fixtures
    REQUESTER,
    Clock,
    ask,
    clock,
    database_url,
    inbox,
    make_service,
    settings,
    smtp_port,
    sqlite_url,
)

STAFF = "galaxy-staff@unossc.example"
TOPIC = "We would like to know how our ministry can join the Galaxy as a partner."


@pytest.fixture
def service(database_url, settings, clock):
    svc = make_service(database_url, replace(settings, staff_email=STAFF), clock)
    yield svc
    svc.close()


def rows(url: str, model) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return count


def handoff(service, **overrides):
    fields = dict(conversation_id="conv-1", channel="rest", topic=TOPIC, email="omar@ministry.example", idempotency_key="h-1")
    fields.update(overrides)
    return service.handoffs.request(**fields)


def test_a_consented_handoff_is_stored_with_its_staff_email_once(database_url, service, settings, inbox) -> None:
    first = handoff(service)
    assert first.reference.startswith("GH-") and len(first.reference) == 9 and first.status == "open"
    assert handoff(service).reference == first.reference  # a double click: one hand-off, one email
    assert (rows(database_url, Handoff), rows(database_url, OutboxMessage)) == (1, 1)
    worker = OutboxWorker(database_url, SmtpMailer(settings, timeout=5))
    try:
        assert worker.deliver_due() == 1
    finally:
        worker.close()
    (mail,) = inbox.to(STAFF)
    assert first.reference in mail.subject and TOPIC in mail.body and "omar@ministry.example" in mail.body
    assert "omar" not in mail.subject  # no personal data in headers
    assert [h.reference for h in service.handoffs.for_conversation("conv-1")] == [first.reference]


def test_staff_mailbox_defaults_to_the_broker(sqlite_url, settings, clock) -> None:
    svc = make_service(sqlite_url, replace(settings, staff_email=""), clock)
    try:
        handoff(svc)
        engine = make_engine(sqlite_url)
        with engine.connect() as connection:
            assert connection.scalar(select(OutboxMessage.recipient_email)) == settings.broker_email
        engine.dispose()
    finally:
        svc.close()


def test_invalid_handoffs_are_refused_with_the_forms_validators(sqlite_url, service) -> None:
    with pytest.raises(InvalidRequest) as refused:
        handoff(service, email="omar at ministry")
    assert refused.value.field == "email"
    with pytest.raises(InvalidRequest) as refused:
        handoff(service, topic="x " * 600)
    assert refused.value.field == "topic"
    assert rows(sqlite_url, Handoff) == 0


def test_the_anonymous_count_keeps_no_conversation_and_no_text(sqlite_url, service) -> None:
    service.handoffs.note_asked("telegram")
    service.handoffs.note_asked("rest")
    assert service.handoffs.asked_count() == 2
    assert set(HandoffAsked.__table__.columns.keys()) == {"id", "asked_on", "channel"}
    assert rows(sqlite_url, Handoff) == 0


def test_close_purge_and_delete_cover_handoffs(database_url, service, clock: Clock) -> None:
    closed, kept = handoff(service), handoff(service, conversation_id="conv-2", idempotency_key="h-2")
    assert service.handoffs.close_handoff(closed.reference.lower())[1] is True
    assert service.handoffs.close_handoff(closed.reference)[1] is False
    assert service.handoffs.close_handoff("GH-ZZZZZZ") is None
    clock.advance(days=181)
    # Retention: the closed one and the open one that nobody answered for the whole period.
    assert service.handoffs.purge_personal_data() == 2
    purged = service.handoffs.get(closed.reference)
    assert (purged.topic, purged.email, purged.status) == ("", "", "closed") and purged.personal_data_purged_at
    assert rows(database_url, OutboxMessage) == 0
    # Delete my data: the user's requests and hand-offs, nobody else's.
    ask(service, conversation_id="conv-2")
    assert service.handoffs.delete_for_conversation("conv-2") == 1
    assert service.delete_for_conversation("conv-2") == 1
    assert [h.reference for h in service.handoffs.find()] == [closed.reference]


def test_staff_cli_handoffs_and_formula_safe_export(sqlite_url, settings, clock, tmp_path, monkeypatch, capsys) -> None:
    from introductions.cli import main
    from knowledge.settings import settings as process_settings

    monkeypatch.setenv("GALAXY_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("INTRODUCTION_SECRET", settings.introduction_secret)
    process_settings.cache_clear()
    try:
        svc = make_service(sqlite_url, settings, clock)
        made = handoff(svc)
        # A requester who types a spreadsheet formula must not get it run on the staff's machine.
        ask(svc, name="=HYPERLINK(\"http://evil.example\",\"x\")", organisation="+Ministry", role="-1+2", message="@SUM(A1) we want to talk about water.")
        svc.close()

        assert main(["handoffs", "list", "--json"]) == 0
        [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert listed["reference"] == made.reference and "email" not in listed
        assert main(["handoffs", "show", made.reference]) == 0
        assert "omar@ministry.example" in capsys.readouterr().out
        assert main(["handoffs", "close", made.reference]) == 0
        assert capsys.readouterr().out == f"{made.reference}: closed\n"
        assert main(["handoffs", "list", "--status", "open"]) == 0
        assert capsys.readouterr().out == "no hand-offs with status open\n"
        assert main(["handoffs", "close", "GH-ZZZZZZ"]) == 1

        export = tmp_path / "export.csv"
        assert main(["export", "--csv", str(export)]) == 0
        with export.open(encoding="utf-8", newline="") as handle:
            (row,) = list(csv.DictReader(handle))
        assert row["requester_name"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
        assert row["requester_organisation"] == "'+Ministry" and row["requester_role"] == "'-1+2"
        assert row["message"].startswith("'@SUM(A1)")
        assert row["requester_email"] == REQUESTER["email"]  # ordinary cells unchanged
    finally:
        process_settings.cache_clear()
