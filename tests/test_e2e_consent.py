"""End to end, over REST with the real servers and a local SMTP server: a correction at the summary reaches
the partner (and the old value does not), limits are applied before consent, and a hand-off to a person goes
from consent to the staff mailbox, its status, and its closing by the staff CLI."""
from __future__ import annotations

import json
import re
import subprocess

import pytest
from sqlalchemy import create_engine, text

from harness.stack import PYTHON, ROOT, free_port, started, texts
from tests.test_e2e_introductions import wait_for
from tests.test_introductions import start_smtp

pytestmark = pytest.mark.e2e
BROKER = "partner-desk@example.org"
STAFF = "galaxy-staff@example.org"


@pytest.fixture(scope="module")
def smtp():
    port = free_port()
    controller, inbox = start_smtp(port)
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, smtp):
    port, _ = smtp
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "BROKER_EMAIL": BROKER, "STAFF_EMAIL": STAFF, "SMTP_FROM": "Galaxy <galaxy@example.org>"}
    yield from started(tmp_path_factory.mktemp("consent-stack"), extra_env=env)


def cli(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), "-m", "introductions", *args], cwd=ROOT, env=stack.env, capture_output=True, text=True)


def test_a_correction_at_the_summary_is_what_reaches_the_partner(stack, smtp):
    _, inbox = smtp
    sender, requester = "e2e-correction", "amina.correction@example.org"
    stack.send("tell me about AMEXCID", sender=sender)
    assert "What is your name?" in texts(stack.send('/request_introduction{"ordinal": 1}', sender=sender))
    assert "Which organisation" in texts(stack.send("Amina Diallo", sender=sender))
    # A city after a comma is part of the organisation; the role is its own, optional, question.
    assert "What is your role" in texts(stack.send("UN Country Office, Amman", sender=sender))
    assert "What email address" in texts(stack.send("/skip", sender=sender))
    assert "what would you like to discuss" in texts(stack.send(requester, sender=sender))
    # Too long: refused now, with the limit, not after consent.
    refused = texts(stack.send("We would like to learn from you. " + "x" * 1167, sender=sender))
    assert "under 1,000 characters (yours has 1,200)" in refused and "Do you agree" not in refused
    summary = texts(stack.send("We would like to learn how your water programmes were designed.", sender=sender))
    assert "Organisation: UN Country Office, Amman" in summary and "Role: not given" in summary and "Do you agree" in summary

    corrected = texts(stack.send("sorry, my organisation is actually the Ministry of Water Resources", sender=sender))
    assert "Organisation: the Ministry of Water Resources" in corrected and "Do you agree" in corrected, corrected
    assert "UN Country Office" not in corrected
    assert not inbox.to(BROKER), "nothing may be sent before consent"

    done = texts(stack.send("/affirm", sender=sender))
    reference = re.search(r"GX-[0-9A-Z]{6}", done).group(0)
    notification = wait_for(lambda: [m for m in inbox.to(BROKER) if reference in m.subject])[0]
    assert "Ministry of Water Resources" in notification.body
    assert "UN Country Office" not in notification.body and "Amman" not in notification.body
    shown = json.loads(cli(stack, "show", reference, "--json").stdout)
    assert shown["requester_organisation"] == "the Ministry of Water Resources" and shown["requester_role"] is None


def test_a_search_between_the_summary_and_yes_sends_nothing_until_the_summary_is_confirmed(stack, smtp):
    _, inbox = smtp
    sender = "e2e-stale-consent"
    stack.send("tell me about TIKA", sender=sender)
    stack.send('/request_introduction{"ordinal": 1}', sender=sender)
    for answer in ("Lea Moreau", "Rural Network", "/skip", "lea.stale@example.org", "We want to discuss scholarships for nurses."):
        reply = texts(stack.send(answer, sender=sender))
    assert "Do you agree" in reply
    stack.send("solutions for school meals", sender=sender)
    again = texts(stack.send("/affirm", sender=sender))
    assert "check the details once more" in again and "GX-" not in again
    assert "GX-" in texts(stack.send("/affirm", sender=sender))
    assert wait_for(lambda: inbox.to(BROKER))


def test_handoff_from_consent_to_the_staff_mailbox_status_and_close(stack, smtp):
    _, inbox = smtp
    sender, email = "e2e-handoff", "omar.handoff@example.org"
    start = texts(stack.send("I'd like to talk to someone at UNOSSC", sender=sender))
    assert "What would you like to talk to UNOSSC about?" in start
    assert "What email address" in texts(stack.send("We want to know how our ministry can join the Galaxy as a partner.", sender=sender))
    summary = texts(stack.send(email, sender=sender))
    assert "join the Galaxy" in summary and email in summary and "Do you agree" in summary
    assert "no hand-offs" in cli(stack, "handoffs", "list").stdout, "nothing stored before consent"

    done = texts(stack.send("/affirm", sender=sender))
    reference = re.search(r"GH-[0-9A-Z]{6}", done).group(0)
    mail = wait_for(lambda: inbox.to(STAFF))[0]
    assert reference in mail.subject and "join the Galaxy" in mail.body and email in mail.body

    status = texts(stack.send("what happened to my request to talk to someone?", sender=sender))
    assert reference in status and "open" in status
    listed = cli(stack, "handoffs", "list").stdout
    assert reference in listed and "open" in listed
    assert email in cli(stack, "handoffs", "show", reference).stdout
    assert "closed" in cli(stack, "handoffs", "close", reference).stdout
    assert "already closed" in cli(stack, "handoffs", "close", reference).stdout
    assert "closed" in texts(stack.send("what happened to my request to talk to someone?", sender=sender))

    deleted = texts(stack.send("delete my data", sender=sender))
    assert "1 request(s) to talk to a person" in deleted and "history is erased" in deleted
    assert reference not in cli(stack, "handoffs", "list").stdout


def test_a_handoff_without_consent_leaves_only_an_anonymous_count(stack, smtp):
    _, inbox = smtp
    sender = "e2e-handoff-no"
    before = len(inbox.to(STAFF))
    stack.send("can I speak to a real person?", sender=sender)
    stack.send("I need help with a confidential funding question.", sender=sender)
    assert "Do you agree" in texts(stack.send("confidential.person@example.org", sender=sender))
    assert "nothing was stored" in texts(stack.send("/deny", sender=sender))
    engine = create_engine(stack.env["DATABASE_URL"])
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT topic, email FROM handoffs")).fetchall()
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(handoff_asked)"))]
        asked = connection.execute(text("SELECT count(*) FROM handoff_asked")).scalar()
    engine.dispose()
    assert all("confidential" not in topic and "confidential" not in email for topic, email in stored)
    assert columns == ["id", "asked_on", "channel"] and asked >= 1
    assert len(inbox.to(STAFF)) == before
