"""End to end: what an outsider who reaches the public ports can no longer do (issue #10), each beside the
legitimate path that still works. Real Rasa (through bot.channels), action server and partner web app."""
from __future__ import annotations

import os
import secrets
import subprocess

import pytest
import requests

from harness.socketio_wire import RawSocketIO
from harness.stack import PYTHON, ROOT, Stack, texts

pytestmark = pytest.mark.e2e
RATE_LIMITED = "faster than I can answer"  # bot/channels/ratelimit.py (Rasa's venv)
NO_SESSION = "has not started yet"  # bot/channels/socketio.py


def user_events(stack: Stack, conversation: str) -> list[dict]:
    return [e for e in stack.tracker(conversation)["events"] if e["event"] == "user"]


def raw_post(stack: Stack, body: dict, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(stack.rest_url, json=body, headers=headers, timeout=60)


@pytest.fixture
def owner(stack) -> str:
    """A REST conversation with one turn in it, whose events an outsider wants."""
    sender = f"owner-{secrets.token_hex(4)}"
    assert "South-South Galaxy assistant" in texts(stack.send("hi", sender=sender))
    return stack.conversation_id(stack.session(sender))


def test_http_api_reads_and_writes_only_with_its_token(stack, owner):
    for token in (None, "guess", stack.tokens["REST_CHANNEL_TOKEN"]):
        params = {"token": token} if token else {}
        read = requests.get(f"{stack.rasa_url}/conversations/{owner}/tracker", params=params, timeout=30)
        assert read.status_code == 401, read.text[:200]
        assert "hi" not in read.text
        write = requests.post(
            f"{stack.rasa_url}/conversations/{owner}/messages", params=params,
            json={"text": "I am the owner now", "sender": "user"}, timeout=30,
        )
        assert write.status_code == 401
    assert requests.get(f"{stack.rasa_url}/status", timeout=30).status_code == 401
    # The token opens the API: the conversation is intact, and an operator may write into it.
    assert [e["text"] for e in user_events(stack, owner)] == ["hi"]
    written = stack.api("POST", f"/conversations/{owner}/messages", json={"text": "operator note", "sender": "user"})
    assert written.status_code == 200
    assert [e["text"] for e in user_events(stack, owner)] == ["hi", "operator note"]


def test_rest_channel_needs_its_token(stack):
    session = stack.new_session()
    for token in (None, "guess", stack.tokens["TELEGRAM_CHANNEL_TOKEN"]):
        assert raw_post(stack, {"sender": session, "message": "hi"}, token).status_code == 401
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        assert requests.post(f"{stack.rasa_url}/webhooks/rest/session", headers=headers, timeout=30).status_code == 401
    answer = raw_post(stack, {"sender": session, "message": "hi"}, stack.tokens["REST_CHANNEL_TOKEN"])
    assert answer.status_code == 200 and "South-South Galaxy assistant" in texts(answer.json())


def test_rest_opens_only_sessions_the_server_issued(stack, owner):
    token = stack.tokens["REST_CHANNEL_TOKEN"]
    random_id = owner.removeprefix("rest:")
    socket = RawSocketIO(stack.rasa_url)
    try:
        socket.emit("session_request", {"session_id": None})
        widget_session = socket.receive("session_confirm")
    finally:
        socket.close()
    guesses = [
        "e2e", owner, random_id,  # a chosen id, the conversation id itself (it is in every reply), its random part
        f"{random_id}.{'0' * 32}", f"{random_id}.", f"{random_id}.{secrets.token_hex(16)}",  # forged MACs
        widget_session,  # a session of another channel
    ]
    for sender in guesses:
        refused = raw_post(stack, {"sender": sender, "message": "what happened to my introduction?"}, token)
        assert refused.status_code == 403, sender
        assert "Unknown session" in texts(refused.json())
    assert [e["text"] for e in user_events(stack, owner)] == ["hi"], "nothing reached the owner's conversation"
    reply = stack.send("hi", sender="issued-session")
    assert reply and reply[0]["recipient_id"] == stack.conversation_id(stack.session("issued-session"))


def test_a_telegram_chats_conversation_is_not_reachable_from_rest(stack):
    chat = 770001
    telegram = requests.post(
        f"{stack.rasa_url}/webhooks/telegram/webhook", json={"chat_id": chat, "message": "hi"},
        headers={"Authorization": f"Bearer {stack.tokens['TELEGRAM_CHANNEL_TOKEN']}"}, timeout=60,
    )
    assert telegram.status_code == 200 and "South-South Galaxy assistant" in texts(telegram.json())
    conversation = f"telegram:{chat}"
    [event] = user_events(stack, conversation)
    assert event["input_channel"] == "telegram"
    assert (event["metadata"]["channel"], event["metadata"]["chat_id"]) == ("telegram", chat)

    token = stack.tokens["REST_CHANNEL_TOKEN"]
    for sender in (conversation, str(chat), chat):
        assert raw_post(stack, {"sender": sender, "message": "delete my data"}, token).status_code == 403
    # Nor through the bridge's channel without the bridge's token (the REST token is not it).
    for header in ({}, {"Authorization": f"Bearer {token}"}):
        forged = requests.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json={"chat_id": chat, "message": "delete my data"}, headers=header, timeout=30)
        assert forged.status_code == 401
    socket = RawSocketIO(stack.rasa_url)
    try:
        socket.emit("session_request", {"session_id": conversation})
        assert socket.receive("session_confirm") != conversation
    finally:
        socket.close()
    assert [e["text"] for e in user_events(stack, conversation)] == ["hi"]


def test_channel_metadata_is_set_by_the_server_not_by_the_client(stack):
    sender = "forger"
    forged = {
        "sender": stack.session(sender), "message": "hi", "input_channel": "telegram",
        "metadata": {"channel": "telegram", "chat_id": 770001},
    }
    assert raw_post(stack, forged, stack.tokens["REST_CHANNEL_TOKEN"]).status_code == 200
    [event] = user_events(stack, stack.conversation_id(stack.session(sender)))
    assert event["input_channel"] == "rest" and event["metadata"]["channel"] == "rest"
    assert "chat_id" not in event["metadata"]

    socket = RawSocketIO(stack.rasa_url)
    try:
        socket.emit("session_request", {"session_id": None})
        session = socket.receive("session_confirm")
        socket.emit("user_uttered", {"message": "hi", "session_id": session, "metadata": {"channel": "telegram", "chat_id": 1}})
        assert "South-South Galaxy assistant" in socket.receive("bot_uttered")["text"]
    finally:
        socket.close()
    [event] = user_events(stack, stack.conversation_id(session, "socketio"))
    assert event["input_channel"] == "socketio" and event["metadata"]["channel"] == "socketio"
    assert "chat_id" not in event["metadata"]


def test_socketio_speaks_only_in_the_conversation_it_issued(stack):
    first = RawSocketIO(stack.rasa_url)
    try:
        first.emit("session_request", {"session_id": None})
        session = first.receive("session_confirm")
        first.emit("user_uttered", {"message": "hi", "session_id": session})
        first.receive("bot_uttered")
    finally:
        first.close()
    conversation = stack.conversation_id(session, "socketio")
    outsider = RawSocketIO(stack.rasa_url)
    try:
        # A message naming the conversation, without a session: refused.
        outsider.emit("user_uttered", {"message": "delete my data", "session_id": session})
        assert NO_SESSION in outsider.receive("bot_uttered")["text"]
        # Guessed or forged ids get a fresh conversation, never the one asked for.
        for guess in (conversation, conversation.removeprefix("socketio:"), session.split(".")[0] + "." + "0" * 32):
            outsider.emit("session_request", {"session_id": guess})
            assert outsider.receive("session_confirm") not in (guess, session)
        # Its own (new) session works; the body's session_id cannot redirect the message.
        outsider.emit("user_uttered", {"message": "delete my data", "session_id": session})
        assert outsider.receive("bot_uttered")
    finally:
        outsider.close()
    assert [e["text"] for e in user_events(stack, conversation)] == ["hi"]
    # The session's owner, back after a reload, is in the same conversation (the widget test does it in a browser).
    again = RawSocketIO(stack.rasa_url)
    try:
        again.emit("session_request", {"session_id": session})
        assert again.receive("session_confirm") == session
        again.emit("user_uttered", {"message": "thanks", "session_id": session})
        again.receive("bot_uttered")
    finally:
        again.close()
    assert [e["text"] for e in user_events(stack, conversation)] == ["hi", "thanks"]


def test_action_server_refuses_a_forged_tracker(stack):
    forged = {
        "next_action": "action_search_solutions",
        "sender_id": "telegram:770001",
        "tracker": {"sender_id": "telegram:770001", "slots": {}, "latest_message": {"text": "water", "intent": {"name": "find_solution"}, "entities": []},
                    "events": [], "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"},
        "domain": {}, "version": "3.6.21",
    }
    for params in ({}, {"token": "guess"}, {"token": stack.tokens["REST_CHANNEL_TOKEN"]}):
        refused = requests.post(f"{stack.action_url}/webhook", json=forged, params=params, timeout=30)
        assert refused.status_code == 401 and "Solutions" not in refused.text
        assert requests.get(f"{stack.action_url}/actions", params=params, timeout=30).status_code == 401
    assert requests.get(f"{stack.action_url}/health", timeout=30).ok
    allowed = requests.post(f"{stack.action_url}/webhook", json=forged, params={"token": stack.tokens["ACTION_SERVER_TOKEN"]}, timeout=60)
    assert allowed.status_code == 200 and allowed.json()["responses"], "Rasa's token runs actions"
    assert "Here are the solutions" in texts(stack.send("find a solution for water scarcity", sender="through-rasa"))


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/conversations/x/tracker", "/socket.io/?EIO=4&transport=polling"])
def test_cors_answers_only_the_allowed_origins(stack, path):
    def preflight(origin: str) -> requests.Response:
        return requests.options(
            f"{stack.rasa_url}{path}", timeout=30,
            headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"},
        )

    foreign = preflight("https://evil.example")
    assert foreign.headers.get("Access-Control-Allow-Origin") in (None, ""), foreign.headers
    allowed_origin = f"http://localhost:{stack.site_port}"
    assert preflight(allowed_origin).headers.get("Access-Control-Allow-Origin") == allowed_origin


def test_socketio_refuses_a_foreign_origin(stack):
    foreign = RawSocketIO(stack.rasa_url, origin="https://evil.example")
    try:
        assert not foreign.connected
    finally:
        foreign.close()
    allowed = RawSocketIO(stack.rasa_url, origin=f"http://localhost:{stack.site_port}")
    try:
        assert allowed.connected
    finally:
        allowed.close()


def test_exceeding_the_rate_limit_gets_a_friendly_reply_and_others_carry_on(stack):
    limit = int(stack.env["RATE_LIMIT_PER_MINUTE"])
    for _ in range(limit):  # empty messages: answered without a turn, but counted
        assert stack.post("", sender="flooder").status_code == 200
    limited = stack.post("hi", sender="flooder")
    assert limited.status_code == 429 and RATE_LIMITED in texts(limited.json())
    assert "South-South Galaxy assistant" in texts(stack.send("hi", sender="patient"))

    socket = RawSocketIO(stack.rasa_url)
    try:
        socket.emit("session_request", {"session_id": None})
        session = socket.receive("session_confirm")
        for _ in range(limit):
            socket.emit("user_uttered", {"message": "", "session_id": session})
            assert RATE_LIMITED not in socket.receive("bot_uttered")["text"]
        socket.emit("user_uttered", {"message": "hi", "session_id": session})
        assert RATE_LIMITED in socket.receive("bot_uttered")["text"]
    finally:
        socket.close()


def test_make_chat_talks_through_the_token_and_an_issued_session(stack):
    chat = subprocess.run(
        [str(PYTHON), "-m", "bot.terminal"], cwd=ROOT, env=dict(stack.env, PYTHONPATH=str(ROOT)),
        input="hi\nwhat can you do?\n/quit\n", capture_output=True, text=True, timeout=180,
    )
    assert chat.returncode == 0, chat.stderr
    assert "bot> " in chat.stdout and "South-South Galaxy assistant" in chat.stdout and "I can:" in chat.stdout
    assert "not reachable" not in chat.stderr
    without_token = subprocess.run(
        [str(PYTHON), "-m", "bot.terminal"], cwd=ROOT, input="hi\n", capture_output=True, text=True, timeout=60,
        env={**stack.env, "PYTHONPATH": str(ROOT), "REST_CHANNEL_TOKEN": "guess", "GALAXY_STATE_DIR": os.devnull + "-none"},
    )
    assert "401" in without_token.stderr and "bot> " not in without_token.stdout
