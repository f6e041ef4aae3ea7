"""End to end: the Telegram bridge (`python -m bot.telegram`, long polling) between a fake Bot API on
loopback and the real Rasa and action servers."""
from __future__ import annotations

import json
import time

import pytest
import requests

from knowledge.catalogue import Solution, load_catalogue, load_faq
from harness.fake_telegram import BOT_USERNAME, TOKEN, Bridge, FakeBotApi, keyboard_of, running_fake_api
from harness.stack import ROOT, SEED, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api():
    yield from running_fake_api()


@pytest.fixture(scope="module")
def bridge(stack, api, tmp_path_factory):
    running = Bridge(tmp_path_factory.mktemp("bridge"), api, stack.env, stack.rasa_port)
    try:
        yield running
    finally:
        running.stop()


def test_start_greets_shows_typing_and_sets_commands(api, bridge):
    chat = 1001
    api.text(chat, "/start")
    (reply,) = api.wait_messages(chat, 1)
    assert "South-South Galaxy assistant" in reply.params["text"]
    assert reply.params["parse_mode"] == "HTML"
    assert keyboard_of(reply), "the greeting's suggestions come as inline buttons"
    assert api.calls_of("sendChatAction", chat)[0].params["action"] == "typing"
    commands = {c["command"] for c in api.calls_of("setMyCommands")[0].params["commands"]}
    assert {"start", "help", "restart", "privacy"} <= commands


def test_search_answers_with_an_inline_keyboard_and_a_button_press_opens_details(api, bridge):
    chat = 1002
    api.text(chat, "find a solution for water scarcity")
    (results,) = api.wait_messages(chat, 1)
    water = {r.title for r in load_catalogue(SEED) if isinstance(r, Solution) and 6 in r.sdgs}
    assert any(title in results.params["text"] for title in water)
    assert "<b>" in results.params["text"], "bold titles are rendered as HTML"
    buttons = keyboard_of(results)
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons if "callback_data" in b)
    details = next(b for b in buttons if b["text"] == "Details of 1")
    api.press(chat, details["callback_data"])
    answered = api.wait_for(lambda: api.calls_of("answerCallbackQuery"), what="answerCallbackQuery")
    assert answered
    replies = api.wait_messages(chat, 2)
    assert "Sources:" in replies[1].params["text"]


def test_flood_control_is_waited_out_and_the_reply_still_arrives(api, bridge):
    chat = 1003
    api.fail_next("sendMessage", 1)
    api.text(chat, "hello")
    attempts = api.wait_for(lambda: (lambda c: c if len(c) >= 2 else None)(api.calls_of("sendMessage", chat)), what="a retried sendMessage")
    assert attempts[0].params["text"] == attempts[1].params["text"]
    assert attempts[1].at - attempts[0].at >= 0.9, "the retry waited for retry_after (1 s)"


def test_a_sticker_gets_a_polite_text_only_answer(api, bridge):
    chat = 1004
    api.sticker(chat)
    (reply,) = api.wait_messages(chat, 1)
    assert "only read text" in reply.params["text"]


def test_webinar_deep_link_welcomes_with_top_questions_and_a_question_button_answers(api, bridge):
    chat = 1005
    api.text(chat, "/start webinar")
    (welcome,) = api.wait_messages(chat, 1)
    assert "webinar" in welcome.params["text"].lower()
    ranked = sorted((e for e in load_faq(ROOT / "knowledge" / "data" / "faq.jsonl") if e.webinar_rank), key=lambda e: e.webinar_rank)
    buttons = keyboard_of(welcome)
    assert [b["text"] for b in buttons[:2]] == [ranked[0].question[:64], ranked[1].question[:64]]
    api.press(chat, buttons[1]["callback_data"])
    replies = api.wait_messages(chat, 2)
    assert ranked[1].answer.split(".")[0][:40] in replies[1].params["text"].replace("&amp;", "&")


def test_solution_deep_link_opens_that_solution(api, bridge):
    chat = 1006
    records = load_catalogue(SEED)
    partners = {r.id for r in records if not isinstance(r, Solution)}
    # a solution whose provider is a registered partner, so the details offer an introduction
    solution = next(r for r in records if isinstance(r, Solution) and r.provider in partners)
    api.text(chat, f"/start solution_{solution.id}")
    (reply,) = api.wait_messages(chat, 1)
    assert solution.title.split(":")[0] in reply.params["text"].replace("&amp;", "&")
    assert any(b["text"] == "Connect me with them" for b in keyboard_of(reply))


def test_in_a_group_only_mentions_and_replies_are_answered(api, bridge):
    group = -2001
    api.text(group, "hello everyone", chat_type="supergroup", user_id=55)
    api.text(group, "/roll@dice_bot", chat_type="supergroup", user_id=55)  # another bot's command
    api.text(group, f"@{BOT_USERNAME} hello", chat_type="supergroup", user_id=55)
    replies = api.wait_messages(group, 1)
    assert "South-South Galaxy assistant" in replies[0].params["text"]
    api.wait_for(lambda: api.calls_of("sendChatAction", group), what="typing in the group")
    assert len(api.calls_of("sendMessage", group)) == 1, "the unaddressed messages got no answer"


def test_messages_of_one_chat_are_answered_in_order(api, bridge):
    chat = 1007
    for text in ("hi", "what can you do?", "thanks"):
        api.text(chat, text)
    replies = api.wait_messages(chat, 3)
    assert "South-South Galaxy assistant" in replies[0].params["text"]
    assert "I can:" in replies[1].params["text"]
    assert "welcome" in replies[2].params["text"].lower()


def test_privacy_restart_and_unknown_commands(api, bridge):
    chat = 1008
    api.text(chat, "/privacy")
    (privacy,) = api.wait_messages(chat, 1)
    assert "delete my data" in privacy.params["text"]
    api.text(chat, "/restart")
    restarted = api.wait_messages(chat, 2)[1]
    assert "starting over" in restarted.params["text"].lower()
    api.text(chat, "/frobnicate")
    unknown = api.wait_messages(chat, 3)[2]
    assert "/frobnicate" in unknown.params["text"] and "/help" in unknown.params["text"]


def test_the_token_never_reaches_the_log(api, bridge):
    api.wait_for(lambda: api.calls_of("sendMessage"), what="some traffic")
    log = bridge.log()
    assert "getUpdates" in log or "Telegram bridge starting" in log, "the log is being written"
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def test_with_rasa_down_the_user_is_told_and_the_bridge_keeps_running(api, stack, tmp_path):
    chat = 1009
    dead_rasa = free_port()
    other = FakeBotApi(TOKEN).start()
    lonely = Bridge(tmp_path, other, stack.env, dead_rasa)
    try:
        other.text(chat, "find a solution for water scarcity")
        (first,) = other.wait_messages(chat, 1)
        assert "can't reach the assistant" in first.params["text"]
        other.text(chat, "hello?")
        other.wait_messages(chat, 2)
        assert lonely.process.poll() is None
    finally:
        lonely.stop()
        other.stop()


def test_one_throttled_chat_does_not_hold_up_another(api, bridge):
    slow, fast = 1010, 1011
    api.fail_next("sendMessage", 3)
    api.text(slow, "hello")
    api.wait_for(lambda: api.calls_of("sendMessage", slow), what="the throttled chat's first attempt")
    api.text(fast, "hello")
    fast_reply = api.wait_messages(fast, 1)[0]
    slow_replies = api.wait_messages(slow, 2)
    assert fast_reply.at < slow_replies[-1].at, "the other chat was answered while the first one waited"
    assert json.dumps(fast_reply.params["text"])


def test_webhook_mode_registers_the_webhook_and_checks_telegrams_secret_token(stack, tmp_path):
    chat, port, secret = 1012, free_port(), "s3cret-Token_for-tests"
    other = FakeBotApi(TOKEN).start()
    hook = Bridge(tmp_path, other, stack.env, stack.rasa_port, extra_env={
        "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_URL": "https://galaxy.example.org/telegram",
        "TELEGRAM_WEBHOOK_SECRET": secret, "TELEGRAM_WEBHOOK_PORT": str(port),
    })
    try:
        registered = other.wait_for(lambda: other.calls_of("setWebhook"), what="setWebhook")[0].params
        assert registered["url"] == "https://galaxy.example.org/telegram" and registered["secret_token"] == secret
        update = {"update_id": 1, **other.text_update(chat, "hello")}
        url = f"http://127.0.0.1:{port}/telegram"

        def post(headers: dict[str, str]) -> list[requests.Response]:
            try:
                return [requests.post(url, json=update, headers=headers, timeout=10)]
            except requests.ConnectionError:
                return []

        (forged,) = other.wait_for(lambda: post({}), 30, "the webhook server to listen")
        assert forged.status_code == 403
        time.sleep(0.5)
        assert not other.calls_of("sendMessage", chat), "an update without Telegram's secret is ignored"
        assert post({"X-Telegram-Bot-Api-Secret-Token": secret})[0].status_code == 200
        (reply,) = other.wait_messages(chat, 1)
        assert "South-South Galaxy assistant" in reply.params["text"]
    finally:
        hook.stop()
        other.stop()
