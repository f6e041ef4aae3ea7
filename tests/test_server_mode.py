"""Server mode (`make serve`, ops/): two Rasa workers behind nginx share the PostgreSQL tracker store and the
Redis lock store under supervisord. Two simultaneous messages of one conversation on two workers are
served one after the other; a conversation carries on through nginx while the worker that served it is
killed mid-form; supervisord restarts what dies. One served stack for the module (it takes minutes).

(A single Rasa restart with the PostgreSQL store is tests/test_conversation_store.py.)"""
from __future__ import annotations

import os
import signal
import threading
import uuid

import pytest

from harness.served import ServedStack
from harness.socketio_wire import RawSocketIO
from harness.stack import texts

APOLOGY = "Sorry, something went wrong on my side"  # bot/channels/rest.py, for a turn that failed

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served():
    stack = ServedStack(rasa_workers=2, action_workers=1).start()
    try:
        yield stack
    finally:
        stack.stop()


def _turns(tracker: dict) -> list[list[dict]]:
    """The tracker's events cut at each user message: one list per turn, the user event first."""
    turns: list[list[dict]] = []
    for event in tracker["events"]:
        if event["event"] == "user":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
    return turns


def test_the_lock_store_serialises_two_simultaneous_messages_on_two_workers(served):
    sender = f"lock-{uuid.uuid4().hex[:8]}"
    assert texts(served.send("hello", sender))  # the conversation exists before the race
    messages = ["tell me about AMEXCID", "solutions for water in Kenya"]
    replies: dict[int, list[dict]] = {}
    go = threading.Barrier(2)

    def send(worker: int) -> None:
        go.wait()
        replies[worker] = served.send(messages[worker], sender, base=served.worker_url(worker))

    threads = [threading.Thread(target=send, args=(w,)) for w in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    # Both answered, neither with the apology of a failed turn.
    for worker in (0, 1):
        assert texts(replies[worker]) and APOLOGY not in texts(replies[worker]), replies
    turns = _turns(served.tracker(sender))
    assert [t[0]["text"] for t in turns[-2:]] in (messages, messages[::-1])
    # None lost: each stored turn holds the bot messages its worker sent, and ends listening (the second
    # turn began after the first was saved, not inside it).
    by_text = {turn[0]["text"]: turn for turn in turns[-2:]}
    for worker in (0, 1):
        stored = [e.get("text") for e in by_text[messages[worker]] if e["event"] == "bot"]
        assert stored == [m.get("text") for m in replies[worker]]
        actions = [e.get("name") for e in by_text[messages[worker]] if e["event"] == "action"]
        assert actions[-1] == "action_listen"
    assert sum(1 for t in turns for e in t if e["event"] == "user") == 3


def test_the_widget_channel_talks_over_a_websocket_through_nginx(served):
    # nginx must pass the Upgrade handshake and keep one client on the worker that holds its session
    client = RawSocketIO(served.url)
    try:
        assert client.connected
        session_id = client.new_session()
        assert "introduce you to a partner" in client.say("hello", session_id)["text"]
        found = client.say("tell me about AMEXCID", session_id)["text"]
        assert "AMEXCID" in found and "Mexican Agency for International Development Cooperation" in found
    finally:
        client.close()
    # the conversation is in the shared store, whichever worker served it
    conversation = "socketio:" + session_id.partition(".")[0]  # bot/channels/sessions.py
    assert [t[0]["text"] for t in _turns(served.tracker_of(conversation))] == ["hello", "tell me about AMEXCID"]


def test_the_supervisor_restarts_a_killed_process(served):
    old = served.pid("outbox")
    assert old
    os.kill(old, signal.SIGKILL)
    new = served.wait_restarted("outbox", old)
    assert new != old


def test_a_conversation_carries_on_through_nginx_while_its_worker_is_killed_mid_form(served):
    sender = f"failover-{uuid.uuid4().hex[:8]}"
    assert "Mexican Agency for International Development Cooperation" in texts(served.send("tell me about AMEXCID", sender))
    served.send('/request_introduction{"ordinal": 1}', sender)
    assert "Which organisation" in texts(served.send("Amina Diallo", sender))

    # Whichever worker served the turns, kill -9 one of them: once it has died, nginx sends the next turn to
    # a live worker, which reads the half-filled form from PostgreSQL.
    old = served.kill("rasa:rasa-0")
    reply = texts(served.send("Ministry of Water Resources", sender))
    # The form is still waiting for the organisation and goes on to the next question.
    assert "role" in reply.lower() and APOLOGY not in reply
    assert served.tracker(sender, worker=1)["slots"].get("requester_name") == "Amina Diallo"

    # supervisord brings the killed worker back, and it serves the same conversation from the store.
    served.wait_restarted("rasa:rasa-0", old)
    served.wait_worker_ready(0)
    assert served.tracker(sender, worker=0)["slots"].get("requester_name") == "Amina Diallo"
    assert "cancelled" in texts(served.send("cancel", sender, base=served.worker_url(0)))
