"""End to end: the web widget (bot/widget) in headless Chromium, talking over socket.io to the real
Rasa server (bot/channels/socketio.py) and the real action server."""
from __future__ import annotations

import json
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from harness.chromium import CHROMIUM, launch as launch_chromium
from harness.socketio_wire import RawSocketIO
from harness.stack import ROOT, SEED, Stack
from knowledge.catalogue import Solution, load_catalogue, load_faq

pytestmark = pytest.mark.e2e

BUNDLE = ROOT / "bot" / "widget" / "dist" / "galaxy-widget.js"
REPLY_TIMEOUT_MS = 90_000
EMPTY_MESSAGE_REPLY = "I didn't receive any text"  # bot/channels/rest.py; not importable here (Rasa's venv)
APOLOGY = "Sorry, something went wrong on my side"


@pytest.fixture(scope="module", autouse=True)
def bundle_built() -> None:
    if not BUNDLE.exists():
        pytest.fail(f"no widget bundle at {BUNDLE}: run `make widget` (make test does)")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run `make system-deps` (make test does)")
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser):
    """A phone-sized page with empty storage, i.e. a visitor who never chatted before."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def other_origin(tmp_path, stack):
    """A page on http://localhost:PORT (another origin than Rasa's 127.0.0.1) embedding the widget."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Partner site</title></head>'
        f'<body><h1>A partner site</h1><script src="{stack.rasa_url}/widget/galaxy-widget.js" '
        'data-title="Ask the Galaxy" defer></script></body></html>',
        encoding="utf-8",
    )
    # On the port the stack put in WIDGET_ORIGINS (http://localhost:<site_port>): an allowed embedding site.
    server = ThreadingHTTPServer(("127.0.0.1", stack.site_port), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def send(page: Page, text: str) -> None:
    box = page.locator("#gw-input")  # its label follows the interface language
    box.fill(text)
    box.press("Enter")


def bot_messages(page: Page):
    return page.locator(".msg.bot")


def wait_for_bot_message(page: Page, index: int):
    message = bot_messages(page).nth(index)
    expect(message).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    return message


def stored_conversation(page: Page, key: str) -> dict:
    return json.loads(page.evaluate("key => localStorage.getItem(key)", key) or "{}")


def user_texts(stack: Stack, session_id: str) -> list[str]:
    """What the user said in the conversation the widget's (server-issued) session opens."""
    tracker = stack.tracker(stack.conversation_id(session_id, "socketio"))
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


def water_titles() -> set[str]:
    return {
        r.title
        for r in load_catalogue(SEED)
        if isinstance(r, Solution) and (6 in r.sdgs or "water" in f"{r.title} {r.summary}".lower())
    }


def test_search_shows_cards_buttons_answer_and_the_conversation_survives_a_reload(stack, page):
    page.goto(f"{stack.rasa_url}/widget/")
    page.get_by_role("button", name="Open chat: Galaxy Assistant").click()
    send(page, "find a solution for water scarcity")

    expect(page.locator(".msg.user")).to_have_text(["find a solution for water scarcity"])
    wait_for_bot_message(page, 0)
    cards = page.locator(".card")
    expect(cards.first).to_be_visible()
    titles = cards.locator("h3 strong").all_inner_texts()
    assert set(titles) & water_titles(), titles
    first_title = titles[0]
    expect(cards.first.get_by_role("link")).to_have_attribute("href", re.compile(r"^https?://"))

    page.get_by_role("button", name="Details of 1").first.click()
    details = wait_for_bot_message(page, 1)
    expect(details).to_contain_text("Sources:")
    expect(details).to_contain_text(first_title)
    # The button's title is shown as the user's message, never its /intent payload.
    expect(page.locator(".msg.user")).to_have_text(["find a solution for water scarcity", "Details of 1"])

    session_id = stored_conversation(page, f"galaxy-widget@{stack.rasa_url}")["sessionId"]
    page.reload()
    # The panel reopens with the whole conversation, and Rasa still holds its context.
    expect(page.locator(".msg")).to_have_count(4)
    expect(page.locator(".card").first).to_contain_text(first_title)
    send(page, "tell me more about the second one")
    expect(wait_for_bot_message(page, 2)).to_contain_text("Sources:")
    assert stored_conversation(page, f"galaxy-widget@{stack.rasa_url}")["sessionId"] == session_id
    assert user_texts(stack, session_id)[-1] == "tell me more about the second one"


def test_embedded_on_another_origin_by_keyboard_with_right_to_left_text(stack, page, other_origin):
    page.goto(other_origin)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    panel = page.locator("#gw-panel")
    expect(panel).to_have_attribute("aria-label", "Ask the Galaxy chat")
    expect(panel).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()

    page.keyboard.type("أبحث عن حلول لندرة المياه")
    page.keyboard.press("Enter")
    user_bubble = page.locator(".msg.user").first
    expect(user_bubble).to_have_attribute("dir", "auto")
    assert user_bubble.evaluate("node => getComputedStyle(node).direction") == "rtl"
    reply = wait_for_bot_message(page, 0)
    assert reply.evaluate("node => node.closest('[aria-live]').getAttribute('aria-live')") == "polite"

    # Typed markup stays text.
    send(page, "<b>bold</b> <img src=x>")
    expect(page.locator(".msg.user").nth(1)).to_have_text("<b>bold</b> <img src=x>")
    assert page.locator(".log b, .log img").count() == 0
    wait_for_bot_message(page, 1)

    # 360 px wide: the panel fits and nothing scrolls sideways.
    box = panel.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator(".log").evaluate("log => log.scrollWidth <= log.clientWidth")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    # After an Arabic reply the interface is Arabic: "فتح المحادثة" is "Open chat".
    expect(page.get_by_role("button", name="فتح المحادثة: Ask the Galaxy")).to_be_focused()


def test_arabic_replies_are_whole_right_to_left_bubbles_and_the_interface_follows(stack, page):
    page.goto(f"{stack.rasa_url}/widget/")
    page.get_by_role("button", name="Open chat: Galaxy Assistant").click()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    send(page, "بالعربية من فضلك")
    reply = wait_for_bot_message(page, 0)
    expect(reply).to_contain_text("سأجيبك بالعربية")
    # and, once per conversation, that the catalogue's records are in English
    expect(wait_for_bot_message(page, 1)).to_contain_text("بالإنجليزية")
    # The bubble itself is right to left (not just its text runs), and so is the panel.
    expect(reply).to_have_attribute("dir", "rtl")
    assert reply.evaluate("node => getComputedStyle(node).direction") == "rtl"
    panel = page.get_by_role("dialog")
    expect(panel).to_have_attribute("dir", "rtl")
    # The widget's own strings are Arabic now: send button, placeholder, selector.
    expect(page.get_by_role("button", name="إرسال")).to_be_visible()
    expect(page.get_by_label("رسالتك")).to_have_attribute("placeholder", re.compile("اسأل"))
    expect(page.get_by_label("اللغة")).to_have_value("ar")

    # The selector: French at once in the interface, then the assistant confirms in French.
    page.get_by_label("اللغة").select_option("fr")
    expect(page.get_by_role("button", name="Envoyer")).to_be_visible()
    expect(page.locator(".msg.user").nth(1)).to_have_text("Français")  # the title, not the /switch_language payload
    french = wait_for_bot_message(page, 2)
    expect(french).to_contain_text("je vous répondrai désormais en français")
    expect(french).not_to_have_attribute("dir", "rtl")
    expect(panel).to_have_attribute("dir", "ltr")
    session_id = stored_conversation(page, f"galaxy-widget@{stack.rasa_url}")["sessionId"]
    tracker = stack.tracker(stack.conversation_id(session_id, "socketio"))
    assert tracker["slots"]["language"] == "fr"


def test_webinar_page_starts_a_new_conversation_with_a_hidden_webinar_payload_once(stack, page):
    page.goto(f"{stack.rasa_url}/widget/webinar")
    welcome = wait_for_bot_message(page, 0)  # opened by itself, answered without anything typed
    expect(welcome).to_contain_text("webinar")
    expect(page.locator(".msg.user")).to_have_count(0)
    session_id = stored_conversation(page, f"galaxy-webinar@{stack.rasa_url}")["sessionId"]
    assert user_texts(stack, session_id) == ["/webinar"]
    # The top webinar questions come as buttons; one press gets the FAQ answer.
    top = sorted((e for e in load_faq(ROOT / "knowledge" / "data" / "faq.jsonl") if e.webinar_rank), key=lambda e: e.webinar_rank)
    page.locator("button.choice", has_text=top[0].question).click()
    answer = wait_for_bot_message(page, 1)
    expect(answer).to_contain_text(top[0].answer.split(".")[0][:40])
    expect(answer).not_to_contain_text("](")  # markdown links become real links


    page.reload()
    answered = bot_messages(page).count()
    send(page, "hi")
    expect(page.locator(".msg.user")).to_have_text([top[0].question, "hi"])
    expect(wait_for_bot_message(page, answered)).to_contain_text("Galaxy assistant")
    # Rasa logs the user's turn before it answers, so the reply means the tracker is complete.
    assert user_texts(stack, session_id) == ["/webinar", top[0].question, "hi"]


def test_socketio_channel_answers_empty_text_without_a_turn_and_cuts_long_text(stack):
    client = RawSocketIO(stack.rasa_url)
    try:
        assert client.connected
        session_id = client.new_session()
        assert client.say("   ", session_id)["text"].startswith(EMPTY_MESSAGE_REPLY)
        assert user_texts(stack, session_id) == []

        assert client.say("water " * 1000, session_id)["text"]
        assert [len(text) for text in user_texts(stack, session_id)] == [3000]
    finally:
        client.close()


def test_action_server_down_gives_the_widget_an_apology(stack, page):
    page.goto(f"{stack.rasa_url}/widget/")
    page.get_by_role("button", name="Open chat: Galaxy Assistant").click()
    stack.stop_actions()
    try:
        send(page, "find solutions for school meals")
        expect(wait_for_bot_message(page, 0)).to_contain_text(APOLOGY)
    finally:
        stack.start_actions()


def test_widget_reconnects_after_rasa_restarts_and_sends_what_was_typed_meanwhile(stack, page):
    page.goto(f"{stack.rasa_url}/widget/")
    page.get_by_role("button", name="Open chat: Galaxy Assistant").click()
    send(page, "hi")
    wait_for_bot_message(page, 0)
    status = page.get_by_role("status")

    stack.stop_rasa()
    expect(status).to_contain_text("Retrying", timeout=30_000)
    send(page, "what can you do?")
    expect(page.locator(".msg.user")).to_have_text(["hi", "what can you do?"])
    stack.start_rasa()
    expect(bot_messages(page).last).to_contain_text("I can:", timeout=REPLY_TIMEOUT_MS)
    expect(status).to_be_hidden()


def test_erase_history_payload_clears_the_stored_conversation_and_session(stack, page):
    page.goto(f"{stack.rasa_url}/widget/")
    page.get_by_role("button", name="Open chat: Galaxy Assistant").click()
    send(page, "hi")
    wait_for_bot_message(page, 0)
    key = f"galaxy-widget@{stack.rasa_url}"
    old_session = stored_conversation(page, key)["sessionId"]
    # What the "delete my data" action sends: a custom payload, here through Rasa's API (token) to this socket.
    erased = stack.api(
        "POST", f"/conversations/{stack.conversation_id(old_session, 'socketio')}/tracker/events",
        params={"output_channel": "socketio", "execute_side_effects": "true"},
        json={"event": "bot", "text": None, "data": {"custom": {"erase_history": True}}},
    )
    assert erased.status_code == 200
    expect(page.locator(".msg")).to_have_count(0)
    page.wait_for_function(
        "([key, old]) => { const s = JSON.parse(localStorage.getItem(key) || '{}'); return s.sessionId && s.sessionId !== old && !s.messages.length; }",
        arg=[key, old_session],
    )
    page.reload()
    expect(page.locator(".msg")).to_have_count(0)
    send(page, "hi")
    expect(wait_for_bot_message(page, 0)).to_contain_text("Galaxy assistant")
    new_session = stored_conversation(page, key)["sessionId"]
    assert user_texts(stack, new_session) == ["hi"] and user_texts(stack, old_session) == ["hi"]
