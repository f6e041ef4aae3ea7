"""Conversations persist in the SQL tracker store: a Rasa restart mid-form carries on where it was, "delete my
data" erases the stored conversation for good (Rasa saves the tracker again at the end of the turn), and the
retention purge removes old conversations. On SQLite (the default) and PostgreSQL."""
from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from harness.stack import Stack, texts
from introductions.conversations import conversation_engine, purge_conversations, stored_conversations
from tests.postgres import postgres_url  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e


def _conversation(stack: Stack, sender: str) -> str:
    """The stored conversation id of a test's REST session (`rest:<random id>`)."""
    return "rest:" + stack.session(sender).partition(".")[0]


def _events(url: str, sender: str) -> int:
    engine = conversation_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_stack(request, tmp_path_factory):
    from harness.stack import MODEL

    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does)")
    workdir = tmp_path_factory.mktemp(f"conversations-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'state' / 'conversations.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    stack = Stack(workdir, extra_env={"TRACKER_STORE_URL": url}).start()
    try:
        yield stack, url
    finally:
        stack.stop()


def test_a_conversation_survives_a_rasa_restart_mid_form(store_stack):
    stack, url = store_stack
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    assert "Mexican Agency for International Development Cooperation" in texts(stack.send("tell me about AMEXCID", sender=sender))
    stack.send('/request_introduction{"ordinal": 1}', sender=sender)
    assert "Which organisation" in texts(stack.send("Amina Diallo", sender=sender))
    assert _events(url, _conversation(stack, sender)) > 0

    stack.stop_rasa()
    stack.start_rasa()

    # The form is still waiting for the organisation and goes on to the next question.
    after = texts(stack.send("Ministry of Water Resources", sender=sender))
    assert "role" in after.lower()
    assert "cancelled" in texts(stack.send("cancel", sender=sender))


def test_delete_my_data_erases_the_stored_conversation(store_stack):
    stack, url = store_stack
    sender = f"erase-{uuid.uuid4().hex[:8]}"
    stack.send("find a solution for school meals", sender=sender)
    stack.send("my name is Amina Diallo, amina@example.org", sender=sender)
    conversation = _conversation(stack, sender)
    assert _events(url, conversation) > 0
    reply = texts(stack.send("please delete my data", sender=sender))
    assert "erased" in reply or "deleted" in reply  # the user is told what was done
    assert _events(url, conversation) == 0, "the turn's save must not bring the conversation back"
    # The next message starts a fresh conversation that knows nothing of the old one.
    stack.send("hello", sender=sender)
    engine = conversation_engine(url)
    try:
        with engine.connect() as connection:
            data = " ".join(r[0] for r in connection.execute(sa.text("SELECT data FROM events WHERE sender_id = :s"), {"s": conversation}))
    finally:
        engine.dispose()
    assert data, "the new conversation is stored"
    assert "amina" not in data.lower() and "school meals" not in data


def test_retention_purge_removes_only_old_conversations(tmp_path):
    url = f"sqlite:///{tmp_path / 'conversations.sqlite3'}"
    engine = conversation_engine(url)
    events = sa.Table(
        "events", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("sender_id", sa.String(255)),
        sa.Column("timestamp", sa.Float), sa.Column("data", sa.Text),
    )
    events.metadata.create_all(engine)
    now = time.time()
    with engine.begin() as connection:
        connection.execute(events.insert(), [
            {"sender_id": "old", "timestamp": now - 200 * 86400, "data": "{}"},
            {"sender_id": "old", "timestamp": now - 190 * 86400, "data": "{}"},
            {"sender_id": "recent", "timestamp": now - 200 * 86400, "data": "{}"},
            {"sender_id": "recent", "timestamp": now - 3 * 86400, "data": "{}"},
        ])
    assert purge_conversations(engine, 180, now=now) == 1
    assert stored_conversations(engine) == ["recent"]
    assert purge_conversations(engine, 180, now=now) == 0


def test_purge_without_any_conversation_yet(tmp_path):
    assert purge_conversations(conversation_engine(f"sqlite:///{tmp_path / 'none.sqlite3'}"), 180) == 0
