"""End to end, over REST: from a search to a delivered email in a real local SMTP server, then
accept through the signed link and check both sides were informed."""
from __future__ import annotations

import re
import time

import pytest
import requests

from tests.stack import MODEL, Stack, free_port, texts
from tests.test_introductions import start_smtp

pytestmark = pytest.mark.e2e
BROKER = "partner-desk@example.org"
REQUESTER = "amina.diallo@example.org"


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
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does)")
    port, _ = smtp
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "BROKER_EMAIL": BROKER, "SMTP_FROM": "Galaxy <galaxy@example.org>"}
    running = Stack(tmp_path_factory.mktemp("intro-stack"), extra_env=env).start()
    try:
        yield running
    finally:
        running.stop()


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def test_search_to_accepted_introduction(stack, smtp):
    _, inbox = smtp
    sender = "e2e-intro"
    assert "partners that best match" in texts(stack.send("tell me about AMEXCID", sender=sender))
    start = texts(stack.send('/request_introduction{"ordinal": 1}', sender=sender))
    assert "Mexican Agency for International Development Cooperation" in start and "What is your name?" in start
    assert "Which organisation" in texts(stack.send("Amina Diallo", sender=sender))
    assert "What email address" in texts(stack.send("Ministry of Water, policy adviser", sender=sender))
    assert "doesn't look like an email" in texts(stack.send("amina at example", sender=sender))
    assert "what would you like to discuss" in texts(stack.send(REQUESTER, sender=sender))
    summary = texts(stack.send("We would like to learn how your food security programmes were designed.", sender=sender))
    assert "Role: policy adviser" in summary and f"Email: {REQUESTER}" in summary and "Do you agree" in summary
    assert not inbox.messages, "nothing may be sent before consent"

    done = texts(stack.send("/affirm", sender=sender))
    reference = re.search(r"GX-[0-9A-Z]{6}", done).group(0)
    assert "status: pending" in done
    texts(stack.send("/affirm", sender=sender))  # a double click must not create a second request

    notification = wait_for(lambda: inbox.to(BROKER))[0]
    assert reference in notification.subject + notification.body
    assert "Amina Diallo" in notification.body and "food security" in notification.body
    accept = re.search(r"http://\S+/introductions/\S+/accept", notification.body).group(0)
    assert requests.get(accept, timeout=10).status_code == 200  # the page only asks to confirm
    assert "accepted the introduction" in requests.post(accept, timeout=10).text
    assert "Already answered" in requests.post(accept, timeout=10).text

    to_requester = wait_for(lambda: inbox.to(REQUESTER))
    assert any(BROKER in m.body for m in to_requester), "the requester gets the partner's contact after acceptance"
    wait_for(lambda: len(inbox.to(BROKER)) >= 2)
    assert any(REQUESTER in m.body for m in inbox.to(BROKER)[1:])

    status = texts(stack.send("what happened to my introduction?", sender=sender))
    assert reference in status and "accepted" in status
    assert len(re.findall(r"GX-[0-9A-Z]{6}", status)) == 1
    assert REQUESTER not in stack.log_tail("actions", lines=100000)


def test_no_consent_stores_nothing_and_cancel_works(stack, smtp):
    sender = "e2e-intro-no"
    stack.send("tell me about TIKA", sender=sender)
    stack.send('/request_introduction{"ordinal": 1}', sender=sender)
    assert "cancelled" in texts(stack.send("cancel", sender=sender))
    stack.send('/request_introduction{"ordinal": 1}', sender=sender)
    for answer in ("Lea Moreau", "Rural Network", "lea@example.org", "We want to discuss scholarships for nurses."):
        reply = texts(stack.send(answer, sender=sender))
    assert "Do you agree" in reply
    assert "won't share your details" in texts(stack.send("/deny", sender=sender))
    assert "no introduction requests" in texts(stack.send("what happened to my introduction?", sender=sender))


def test_forged_payloads_cannot_skip_the_form_or_pick_unseen_partners(stack):
    sender = "e2e-forged"
    # Consent with nothing collected does nothing.
    assert "Do you agree" not in texts(stack.send("/affirm", sender=sender))
    # An ordinal pointing at nothing that was shown selects no partner.
    reply = texts(stack.send('/request_introduction{"ordinal": 3}', sender=sender))
    assert "What is your name?" not in reply
    assert "no introduction requests" in texts(stack.send("what happened to my introduction?", sender=sender))
