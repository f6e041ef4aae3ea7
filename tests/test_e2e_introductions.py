"""End to end, over REST: from a search to a delivered email in a real local SMTP server, then
accept through the signed link and check both sides were informed."""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
import requests

from harness.fake_telegram import TOKEN, Bridge, keyboard_of, running_fake_api
from harness.stack import PYTHON, ROOT, free_port, started, texts
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
def telegram():
    yield from running_fake_api()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, smtp, telegram):
    port, _ = smtp
    env = {
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "BROKER_EMAIL": BROKER, "SMTP_FROM": "Galaxy <galaxy@example.org>",
        # The action server sends partners' Telegram notifications through the same fake Bot API.
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": telegram.base_url,
    }
    yield from started(tmp_path_factory.mktemp("intro-stack"), extra_env=env)


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
    assert "Mexican Agency for International Development Cooperation" in texts(stack.send("tell me about AMEXCID", sender=sender))
    start = texts(stack.send('/request_introduction{"ordinal": 1}', sender=sender))
    assert "Mexican Agency for International Development Cooperation" in start and "What is your name?" in start
    assert "Which organisation" in texts(stack.send("Amina Diallo", sender=sender))
    assert "What is your role" in texts(stack.send("Ministry of Water", sender=sender))
    assert "What email address" in texts(stack.send("policy adviser", sender=sender))
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
    for answer in ("Lea Moreau", "Rural Network", "/skip", "lea@example.org", "We want to discuss scholarships for nurses."):
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


def test_partner_linked_on_telegram_accepts_with_a_button(stack, smtp, telegram, tmp_path):
    _, inbox = smtp
    partner_chat, requester_chat = 9001, 9002
    link = subprocess.run(
        [str(PYTHON), "-m", "knowledge", "introductions", "telegram-link", "p-amexcid", "--json"],
        cwd=ROOT, env=stack.env, capture_output=True, text=True, check=True,
    )
    start_parameter = json.loads(link.stdout)["start_parameter"]
    bridge = Bridge(tmp_path, telegram, stack.env, stack.rasa_port)
    try:
        telegram.text(partner_chat, f"/start {start_parameter}")
        telegram.wait_text(partner_chat, "now receives introduction requests")

        # The requester, on Telegram too: search, press "Connect me", fill the form, consent twice.
        telegram.text(requester_chat, "tell me about AMEXCID")
        results = telegram.wait_text(requester_chat, "Mexican Agency for International Development Cooperation")
        connect = next(b for b in keyboard_of(results) if b["text"].startswith("Connect me"))
        telegram.press(requester_chat, connect["callback_data"])
        telegram.wait_text(requester_chat, "What is your name?")
        for answer, expected in (("Amina Diallo", "Which organisation"), ("Ministry of Water", "What is your role"), ("policy adviser", "What email address"),
                                 ("amina.tg@example.org", "what would you like to discuss"),
                                 ("We would like to learn how your food security programmes were designed.", "Do you agree")):
            telegram.text(requester_chat, answer)
            summary = telegram.wait_text(requester_chat, expected)
        consent = next(b for b in keyboard_of(summary) if b["text"] == "Yes, share my details")
        telegram.press(requester_chat, consent["callback_data"])
        telegram.press(requester_chat, consent["callback_data"])  # a double tap, delivered twice
        done = telegram.wait_text(requester_chat, "GX-")
        reference = re.search(r"GX-[0-9A-Z]{6}", done.params["text"]).group(0)

        notification = telegram.wait_text(partner_chat, reference)
        assert "Amina Diallo" in notification.params["text"] and "food security" in notification.params["text"]
        assert "amina.tg@example.org" not in notification.params["text"], "contacts only after acceptance"
        buttons = {b["text"]: b["callback_data"] for b in keyboard_of(notification)}
        assert set(buttons) == {"Accept", "Decline"} and all(len(d.encode()) <= 64 for d in buttons.values())

        # Someone else's chat cannot decide; the partner's chat can, once.
        telegram.press(requester_chat, buttons["Accept"])
        telegram.press(partner_chat, buttons["Accept"])
        accepted = telegram.wait_for(lambda: telegram.calls_of("editMessageText", partner_chat), what="the notification updated")
        assert "amina.tg@example.org" in accepted[0].params["text"]
        # the other chat's press is answered on its own schedule: waited for, not assumed done
        refused = telegram.wait_for(
            lambda: [a for a in (c.params.get("text", "") for c in telegram.calls_of("answerCallbackQuery")) if "not linked" in a or "not the chat" in a.lower() or "isn't" in a],
            what="the other chat's press refused",
        )
        assert refused

        to_requester = wait_for(lambda: inbox.to("amina.tg@example.org"))
        assert any("Mexican Agency" in m.body or BROKER in m.body for m in to_requester)
        # The requester asked on Telegram, so the good news (with the contact) reaches that chat too, without buttons.
        news = telegram.wait_text(requester_chat, "Good news")
        assert reference in news.params["text"] and BROKER in news.params["text"] and not keyboard_of(news)
        telegram.text(requester_chat, "what happened to my introduction?")
        status = telegram.wait_text(requester_chat, "accepted")
        assert len(set(re.findall(r"GX-[0-9A-Z]{6}", status.params["text"]))) == 1, "one request despite the double tap"
        assert "amina.tg@example.org" not in bridge.log() and TOKEN not in bridge.log()
        listed = subprocess.run(
            [str(PYTHON), "-m", "knowledge", "introductions", "list", "--json"],
            cwd=ROOT, env=stack.env, capture_output=True, text=True, check=True,
        ).stdout
        stored = [row for row in map(json.loads, listed.splitlines()) if row["reference"] == reference]
        assert [row["channel"] for row in stored] == ["telegram"]
    finally:
        bridge.stop()
