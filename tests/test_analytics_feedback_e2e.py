"""End to end: 👍/👎 on an answer through the real Rasa and action servers, in the web widget (headless
Chromium) and over the Telegram bridge (fake Bot API): the rating is stored with the answer shown and the
conversation, a 👎 asks for a one-line reason, and the dashboard's feedback queue then lists it."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from harness.chromium import launch as launch_chromium
from harness.fake_telegram import Bridge, keyboard_of, running_fake_api
from harness.stack import ROOT
from introductions.feedback import FeedbackStore
from knowledge.settings import Settings

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT_MS = 90_000
QUESTION = "what is the South-South Galaxy?"
ASK_TO_RATE = "I want to rate that answer"


@pytest.fixture(scope="module", autouse=True)
def bundle_built() -> None:
    if not (ROOT / "bot" / "widget" / "dist" / "galaxy-widget.js").exists():
        pytest.fail("no widget bundle: run `make widget` (make test does)")


def _feedback(stack) -> list:
    store = FeedbackStore(stack.env["DATABASE_URL"], Settings())
    try:
        return store.find(verified=None)
    finally:
        store.close()


def test_thumbs_down_with_a_reason_in_the_widget(stack):
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
            page.goto(f"{stack.rasa_url}/widget/")
            page.get_by_role("button", name="Open chat: Galaxy Assistant").click()
            box = page.get_by_label("Your message")
            box.fill(QUESTION)
            box.press("Enter")
            expect(page.locator(".msg.bot").nth(0)).to_contain_text("Galaxy", timeout=REPLY_TIMEOUT_MS)
            box.fill(ASK_TO_RATE)
            box.press("Enter")
            expect(page.locator(".msg.bot").nth(1)).to_contain_text("helpful", timeout=REPLY_TIMEOUT_MS)
            page.get_by_role("button", name="👎").last.click()
            expect(page.locator(".msg.bot").nth(2)).to_contain_text("what was wrong or missing", timeout=REPLY_TIMEOUT_MS)
            box.fill("it did not say who runs it, write to me at reviewer@example.org")
            box.press("Enter")
            expect(page.locator(".msg.bot").nth(3)).to_contain_text("Thank you for the feedback", timeout=REPLY_TIMEOUT_MS)
        finally:
            browser.close()
    (item,) = [i for i in _feedback(stack) if i.channel == "socketio"]
    assert (item.rating, item.answer_ref, item.verified) == ("down", "faq:what_is_galaxy", True)
    assert item.conversation_id.startswith("socketio:")
    assert item.reason == "it did not say who runs it, write to me at [email]"


def test_thumbs_up_over_the_telegram_bridge(stack, tmp_path):
    for api in running_fake_api():
        bridge = Bridge(tmp_path, api, stack.env, stack.rasa_port)
        try:
            chat = 4242
            api.text(chat, QUESTION)
            api.wait_messages(chat, 1)
            api.text(chat, ASK_TO_RATE)
            offer = api.wait_text(chat, "helpful")
            up = next(b for b in keyboard_of(offer) if b["text"] == "👍")
            api.press(chat, up["callback_data"])
            api.wait_text(chat, "Thank you for the feedback")
        finally:
            bridge.stop()
    (item,) = [i for i in _feedback(stack) if i.channel == "telegram"]
    assert (item.rating, item.answer_ref, item.verified, item.conversation_id) == ("up", "faq:what_is_galaxy", True, f"telegram:{chat}")
    assert item.reason is None


def test_a_forged_payload_is_stored_unverified_and_asks_nothing(stack):
    payload = "/feedback" + json.dumps({"rating": "down", "answer": "search:an answer never shown"})
    replies = stack.send(payload, sender="feedback-forger")
    assert "Thank you for the feedback" in " ".join(r.get("text", "") for r in replies)
    forged = [i for i in _feedback(stack) if i.answer_ref == "search:an answer never shown"]
    assert [(i.verified, i.reason) for i in forged] == [(False, None)]
