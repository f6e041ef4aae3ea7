"""Partners on Telegram: linking a chat with a one-time code, the Telegram copy of the partner notification
(delivered to a fake Bot API on loopback, with a 429 on the way), Accept/Decline buttons, and the signed
endpoints the Telegram bridge calls on the action server. SQLite and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sanic import Sanic
from sqlalchemy import select, text

from actions.context import ActionContext
from introductions.web import PartnerWebContext
from introductions.db import make_engine, upgrade
from introductions.mailer import SmtpMailer
from introductions.models import Introduction, OutboxMessage, TelegramLinkCode
from introductions.outbox import OutboxWorker
from introductions.service import (
    LINK_CODE_TTL,
    IntroductionService,
    InvalidRequest,
    TelegramLinkError,
    WrongChat,
)
from introductions.telegram import (
    BRIDGE_SIGNATURE_HEADER,
    CALLBACK_PREFIX,
    TelegramNotifier,
    callback_data,
    sign_bridge_request,
    verify_bridge_request,
)
from introductions.tokens import InvalidToken, TokenExpired, signing_secret
from knowledge.settings import Settings
from tests.postgres import postgres_url  # noqa: F401 - session fixture
from tests.test_introductions import (
    BASE_URL,
    BROKER_EMAIL,
    FOCAL_EMAIL,
    LINK,
    PARTNERS,
    PERSONAL,
    REQUESTER,
    SOLUTIONS,
    Clock,
    _free_port,
    ask,
    inbox,  # noqa: F401 - fixture
    smtp_port,  # noqa: F401 - fixture
)

TOKEN = "123456789:AAE-test-token-not-real_x"
CHAT = 7_700_000_001
OTHER_CHAT = -1_001_234_567_890  # a group: negative ids are valid chats


# -- a fake Bot API -----------------------------------------------------------------------------------


@dataclass
class BotApi:
    """sendMessage on loopback: records what it got; answers 429 (retry_after) `throttle` times first."""

    port: int
    throttle: int = 0
    retry_after: int = 3600
    calls: list[dict[str, Any]] | None = None
    answered_429: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def sent(self) -> list[dict[str, Any]]:
        return [c for c in self.calls or [] if c["ok"]]


@pytest.fixture
def bot_api() -> Iterator[BotApi]:
    api = BotApi(port=0, calls=[])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != f"/bot{TOKEN}/sendMessage":
                status, answer = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            else:
                with lock:
                    throttled = api.answered_429 < api.throttle
                    api.answered_429 += throttled
                if throttled:
                    status, answer = 429, {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests",
                        "parameters": {"retry_after": api.retry_after},
                    }
                else:
                    status, answer = 200, {"ok": True, "result": {"message_id": len(api.calls or []) + 1}}
            api.calls.append({"ok": status == 200, "path": self.path, "payload": payload})
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path, smtp_port: int, bot_api: BotApi) -> Settings:
    return Settings(
        state_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="Galaxy Assistant <galaxy@unossc.example>",
        introduction_secret="test-secret-not-for-production",
        public_base_url=BASE_URL,
        broker_email=BROKER_EMAIL,
        telegram_bot_token=TOKEN,
        telegram_base_url=bot_api.base_url,
        telegram_bot_username="GalaxyTestBot",
    )


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'introductions.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url = request.getfixturevalue("postgres_url")
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE introduction_outbox, introductions, partner_telegram_links, partner_telegram_link_codes "
                "RESTART IDENTITY CASCADE"
            )
        )
    engine.dispose()
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(database_url: str, settings: Settings, clock: Clock) -> Iterator[IntroductionService]:
    svc = IntroductionService(database_url, settings, PARTNERS.get, solution_lookup=SOLUTIONS.get, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def worker(database_url: str, settings: Settings) -> Iterator[OutboxWorker]:
    w = OutboxWorker(database_url, SmtpMailer(settings, timeout=5), telegram=TelegramNotifier.from_settings(settings))
    yield w
    w.close()


def linked(service: IntroductionService, chat_id: int = CHAT, partner_id: str = "p-amexcid") -> None:
    assert service.link_telegram_chat(service.create_telegram_link_code(partner_id), chat_id) == partner_id


def buttons(call: dict[str, Any]) -> dict[str, str]:
    [row] = call["payload"]["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for button in row}


def kinds(service: IntroductionService, introduction: Introduction) -> list[tuple[str, str]]:
    return [(m.channel, m.kind) for m in service.outbox_of(introduction)]


# -- linking a chat -----------------------------------------------------------------------------------


def test_link_code_links_once_and_only_until_it_expires(database_url, service, clock) -> None:
    code = service.create_telegram_link_code("p-amexcid")
    assert len(f"link_{code}") <= 64 and all(c.isalnum() or c in "_-" for c in code)
    assert service.telegram_chat_for("p-amexcid") is None

    assert service.link_telegram_chat(code, CHAT) == "p-amexcid"
    assert service.telegram_chat_for("p-amexcid") == CHAT
    with pytest.raises(TelegramLinkError) as reused:
        service.link_telegram_chat(code, OTHER_CHAT)
    assert reused.value.reason == "used"
    assert service.telegram_chat_for("p-amexcid") == CHAT  # a second chat cannot take it over

    late = service.create_telegram_link_code("p-amexcid")
    clock.advance(seconds=LINK_CODE_TTL.total_seconds() + 1)
    with pytest.raises(TelegramLinkError) as expired:
        service.link_telegram_chat(f"link_{late}", OTHER_CHAT)
    assert expired.value.reason == "expired"
    for wrong in ("x" * 24, "", "not a code!", code[:-1] + ("A" if code[-1] != "A" else "B")):
        with pytest.raises(TelegramLinkError) as unknown:
            service.link_telegram_chat(wrong, OTHER_CHAT)
        assert unknown.value.reason == "unknown"
    with pytest.raises(InvalidRequest):
        service.create_telegram_link_code("p-unknown")

    # A fresh code moves the partner to another chat; only hashes of codes are ever stored.
    linked(service, OTHER_CHAT)
    assert service.telegram_chat_for("p-amexcid") == OTHER_CHAT
    engine = make_engine(database_url)
    with engine.connect() as connection:
        hashes = list(connection.scalars(select(TelegramLinkCode.code_hash)))
    engine.dispose()
    assert len(hashes) == 3 and code not in hashes

    pending = service.create_telegram_link_code("p-amexcid")
    assert service.unlink_telegram("p-amexcid") is True
    assert service.telegram_chat_for("p-amexcid") is None
    with pytest.raises(TelegramLinkError):  # unlinking also revokes codes not used yet
        service.link_telegram_chat(pending, CHAT)
    assert service.unlink_telegram("p-amexcid") is False


# -- notifications ------------------------------------------------------------------------------------


def test_request_for_a_linked_partner_owes_an_email_and_a_telegram_message(database_url, service, settings, clock):
    unlinked = ask(service, idempotency_key="before-linking")
    linked(service)
    introduction = ask(service, idempotency_key="after-linking")

    assert kinds(service, unlinked) == [("email", "partner_notification")]
    assert kinds(service, introduction) == [("email", "partner_notification"), ("telegram", "partner_notification")]
    email, message = service.outbox_of(introduction)
    assert (email.recipient_email, email.telegram_chat_id) == (FOCAL_EMAIL, None)
    assert message.telegram_chat_id == CHAT
    for shared in ("Amina Diallo", "Programme Officer", "forty villages", introduction.reference):
        assert shared in message.body
    assert REQUESTER["email"] not in message.body  # revealed only on acceptance, as by email

    # Without a bot token nothing could send it: no Telegram row is written.
    tokenless = IntroductionService(
        database_url, replace(settings, telegram_bot_token=""), PARTNERS.get, solution_lookup=SOLUTIONS.get, clock=clock
    )
    try:
        assert kinds(tokenless, ask(tokenless, idempotency_key="no-token")) == [("email", "partner_notification")]
    finally:
        tokenless.close()


def test_worker_delivers_each_notification_once_and_waits_out_telegrams_429(
    database_url, service, worker, inbox, bot_api, clock
) -> None:
    linked(service)
    introduction = ask(service, message="Our R&D <pilot> covers forty villages.")
    bot_api.throttle = 1
    start = clock()

    assert worker.deliver_due(start) == 1  # the email; Telegram said 429
    assert len(inbox.to(FOCAL_EMAIL)) == 1
    assert service.get(introduction.reference).status == "delivered"  # either notification is enough
    telegram_row = service.outbox_of(introduction)[1]
    assert (telegram_row.attempts, telegram_row.last_error, telegram_row.delivered_at) == (1, "TelegramError", None)
    assert telegram_row.next_attempt_at >= start + timedelta(seconds=bot_api.retry_after)  # not the 2 s backoff
    assert worker.deliver_due(start + timedelta(minutes=5)) == 0

    assert worker.deliver_due(start + timedelta(seconds=bot_api.retry_after)) == 1
    assert worker.deliver_due(start + timedelta(days=1)) == 0
    assert len(bot_api.calls) == 2 and len(bot_api.sent) == 1
    [call] = bot_api.sent
    payload = call["payload"]
    assert (payload["chat_id"], payload["parse_mode"]) == (CHAT, "HTML")
    assert "R&amp;D &lt;pilot&gt;" in payload["text"]  # the requester's text cannot inject markup
    data = buttons(call)
    assert sorted(data) == ["Accept", "Decline"]
    for value in data.values():
        assert value.startswith(CALLBACK_PREFIX) and len(value.encode()) <= 64
    assert len(inbox.messages) == 1
    assert all(m.delivered_at is not None for m in service.outbox_of(introduction))


def test_telegram_messages_wait_for_a_worker_that_can_send_them(
    database_url, service, settings, inbox, bot_api
) -> None:
    linked(service)
    introduction = ask(service)
    email_only = OutboxWorker(database_url, SmtpMailer(settings, timeout=5))
    try:
        assert email_only.deliver_due() == 1
        assert email_only.deliver_due() == 0
    finally:
        email_only.close()
    waiting = service.outbox_of(introduction)[1]
    assert (waiting.channel, waiting.attempts, waiting.delivered_at) == ("telegram", 0, None)
    assert bot_api.calls == []

    notifier = TelegramNotifier.from_settings(settings)
    with_telegram = OutboxWorker(database_url, SmtpMailer(settings, timeout=5), telegram=notifier)
    try:
        assert with_telegram.deliver_due() == 1
    finally:
        with_telegram.close()
    assert len(bot_api.sent) == 1 and len(inbox.messages) == 1


def test_a_wrong_token_is_retried_and_never_quoted(database_url, service, settings, bot_api, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    linked(service)
    introduction = ask(service)
    bad = TelegramNotifier("999:wrong-token", "secret", base_url=bot_api.base_url)
    worker = OutboxWorker(database_url, SmtpMailer(replace(settings, smtp_port=_free_port()), timeout=5), telegram=bad)
    try:
        assert worker.deliver_due() == 0
    finally:
        worker.close()
    assert [m.attempts for m in service.outbox_of(introduction)] == [1, 1]
    assert "not delivered (attempt 1, TelegramError)" in caplog.text  # the failure is logged, by class name
    assert "999:wrong-token" not in caplog.text and bot_api.base_url not in caplog.text


# -- decisions from Telegram --------------------------------------------------------------------------


def sent_buttons(service: IntroductionService, worker: OutboxWorker, bot_api: BotApi) -> dict[str, str]:
    linked(service)
    ask(service)
    worker.deliver_due()
    return buttons(bot_api.sent[-1])


def test_accept_button_exchanges_contacts_once(database_url, service, worker, inbox, bot_api) -> None:
    data = sent_buttons(service, worker, bot_api)
    [introduction] = service.find()

    result = service.decide_from_telegram(data["Accept"], CHAT)
    assert (result.reference, result.decision, result.status, result.already_decided) == (
        introduction.reference,
        "accept",
        "accepted",
        False,
    )
    answer = service.telegram_answer(result)
    assert REQUESTER["email"] in answer.message_text and REQUESTER["organisation"] in answer.message_text
    assert len(answer.as_json()["text"]) <= 200

    again = service.decide_from_telegram(data["Accept"], CHAT)  # a retried update or a double press
    other = service.decide_from_telegram(data["Decline"], CHAT)
    assert (again.already_decided, other.already_decided, other.status) == (True, True, "accepted")
    assert service.telegram_answer(again).message_text is None
    assert kinds(service, introduction) == [
        ("email", "partner_notification"),
        ("telegram", "partner_notification"),
        ("email", "requester_accepted"),
        ("email", "partner_accepted"),
    ]
    assert worker.deliver_due() == 2
    [to_requester] = inbox.to(REQUESTER["email"])
    assert FOCAL_EMAIL in to_requester.body


def test_decline_button_tells_the_requester_politely(database_url, service, worker, inbox, bot_api) -> None:
    data = sent_buttons(service, worker, bot_api)
    result = service.decide_from_telegram(data["Decline"], CHAT)
    assert (result.status, result.already_decided) == ("declined", False)
    assert REQUESTER["email"] not in service.telegram_answer(result).message_text
    assert worker.deliver_due() == 1
    [to_requester] = inbox.to(REQUESTER["email"])
    assert "not able to take up your introduction request" in to_requester.body
    assert FOCAL_EMAIL not in to_requester.body


@pytest.mark.parametrize("decision", ["Accept", "Decline"])
def test_a_requester_who_asked_on_telegram_hears_back_there_too(database_url, service, worker, inbox, bot_api, decision) -> None:
    requester_chat = 5_550_001
    linked(service)
    ask(service, conversation_id=str(requester_chat))
    worker.deliver_due()
    data = buttons(bot_api.sent[-1])
    [introduction] = service.find()
    service.decide_from_telegram(data[decision], CHAT)
    kind = "requester_accepted" if decision == "Accept" else "requester_declined"
    assert ("telegram", kind) in kinds(service, introduction)
    worker.deliver_due()
    [update] = [c["payload"] for c in bot_api.sent if c["payload"]["chat_id"] == requester_chat]
    assert introduction.reference in update["text"] and "reply_markup" not in update
    assert (FOCAL_EMAIL in update["text"]) == (decision == "Accept"), "the contact only on acceptance"
    assert inbox.to(REQUESTER["email"]), "the email goes out as well"


def test_wrong_chat_tampered_and_expired_buttons_are_refused(
    database_url, service, settings, worker, bot_api, clock
) -> None:
    data = sent_buttons(service, worker, bot_api)
    [introduction] = service.find()
    accept = data["Accept"]
    prefix, signature = accept.rsplit(":", 1)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    for bad in (
        prefix + ":" + flipped,  # signature changed
        data["Decline"].rsplit(":", 1)[0] + ":" + signature,  # decision swapped under the accept signature
        CALLBACK_PREFIX + "ZZZZZZ:a:" + signature,  # another reference
        callback_data("another-secret", introduction.reference, "accept", introduction.expires_at),
        callback_data(
            settings.introduction_secret, introduction.reference, "accept", introduction.expires_at + timedelta(days=1)
        ),  # right secret, expiry of no such row
        "gxd:",
        accept + "x" * 40,  # longer than Telegram allows
        "/start",
    ):
        with pytest.raises(InvalidToken):
            service.decide_from_telegram(bad, CHAT)
    with pytest.raises(WrongChat):
        service.decide_from_telegram(accept, OTHER_CHAT)
    service.unlink_telegram("p-amexcid")
    with pytest.raises(WrongChat):  # unlinked: the old chat's buttons no longer decide
        service.decide_from_telegram(accept, CHAT)
    linked(service)
    assert service.get(introduction.reference).status == "delivered"

    clock.advance(days=14, seconds=1)
    with pytest.raises(TokenExpired):
        service.decide_from_telegram(accept, CHAT)
    assert service.get(introduction.reference).status == "delivered"


def test_an_email_decision_withdraws_the_telegram_message_not_yet_sent(
    database_url, service, settings, inbox, bot_api
) -> None:
    linked(service)
    introduction = ask(service)
    email_only = OutboxWorker(database_url, SmtpMailer(settings, timeout=5))
    try:
        assert email_only.deliver_due() == 1  # Telegram is not configured on this worker: its row waits
    finally:
        email_only.close()
    [notification] = inbox.to(FOCAL_EMAIL)
    accept = {d: t for t, d in LINK.findall(notification.body)}["accept"]

    assert service.decide(accept).status == "accepted"
    assert kinds(service, introduction) == [
        ("email", "partner_notification"),
        ("email", "requester_accepted"),
        ("email", "partner_accepted"),
    ]  # the partner answered: asking again on Telegram would be noise
    assert bot_api.calls == []


# -- the bridge's endpoints ---------------------------------------------------------------------------


@asynccontextmanager
async def bridge_client(context: PartnerWebContext) -> AsyncIterator[httpx.AsyncClient]:
    """The partner web app's Telegram routes, served in-process over ASGI (lifespan included)."""
    from introductions.web import install

    Sanic.test_mode = True  # several apps per process
    app = Sanic(f"telegram_partners_{id(context)}", configure_logging=False)
    install(app, context, deliver=False)
    receive: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await receive.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive.get, sent.put))
    assert (await sent.get())["type"] == "lifespan.startup.complete"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge") as client:
            yield client
    finally:
        await receive.put({"type": "lifespan.shutdown"})
        await sent.get()
        await lifespan


def signed(settings: Settings, payload: dict[str, Any], *, secret: str | None = None) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    signature = sign_bridge_request(secret or signing_secret(settings), body)
    return {"content": body, "headers": {BRIDGE_SIGNATURE_HEADER: signature, "Content-Type": "application/json"}}


def test_bridge_signature() -> None:
    body = b'{"data": "gxd:7K3Q9P:a:x", "chat_id": 1}'
    signature = sign_bridge_request("secret", body)
    assert verify_bridge_request("secret", body, signature)
    assert verify_bridge_request("secret", body, signature.upper())
    assert not verify_bridge_request("secret", body + b" ", signature)
    assert not verify_bridge_request("other", body, signature)
    assert not verify_bridge_request("secret", body, None)
    assert not verify_bridge_request("secret", body, "")


@pytest.mark.asyncio
async def test_decision_endpoint(sqlite_url, settings, clock, bot_api, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    service = IntroductionService(sqlite_url, settings, PARTNERS.get, solution_lookup=SOLUTIONS.get, clock=clock)
    no_smtp = SmtpMailer(replace(settings, smtp_port=_free_port()), timeout=5)
    worker = OutboxWorker(sqlite_url, no_smtp, telegram=TelegramNotifier.from_settings(settings))
    try:
        data = sent_buttons(service, worker, bot_api)
        context = PartnerWebContext(settings=settings, introductions=service)
        async with bridge_client(context) as client:
            press = {"data": data["Accept"], "chat_id": CHAT}
            for headers in ({}, {BRIDGE_SIGNATURE_HEADER: "0" * 64}):
                refused = await client.post(
                    "/introductions/telegram/decision", content=json.dumps(press), headers=headers
                )
                assert refused.status_code == 401
            forged = await client.post("/introductions/telegram/decision", **signed(settings, press, secret="guess"))
            assert forged.status_code == 401
            assert service.find()[0].status == "delivered"  # nothing was decided by the refused calls

            elsewhere = await client.post(
                "/introductions/telegram/decision", **signed(settings, {**press, "chat_id": OTHER_CHAT})
            )
            assert elsewhere.status_code == 200
            assert elsewhere.json()["message_text"] is None and "not linked" in elsewhere.json()["text"]
            not_a_chat = {"data": "x", "chat_id": "1"}
            malformed = await client.post("/introductions/telegram/decision", **signed(settings, not_a_chat))
            assert malformed.status_code == 400

            first = await client.post("/introductions/telegram/decision", **signed(settings, press))
            assert first.status_code == 200
            answer = first.json()
            assert set(answer) == {"text", "show_alert", "message_text"}
            assert answer["text"].startswith("Accepted") and len(answer["text"]) <= 200
            assert REQUESTER["email"] in answer["message_text"]

            second = (await client.post("/introductions/telegram/decision", **signed(settings, press))).json()
            assert (second["message_text"], second["show_alert"]) == (None, True)
            assert "already accepted" in second["text"]
            tampered = {"data": data["Accept"][:-2] + "zz", "chat_id": CHAT}
            invalid = (await client.post("/introductions/telegram/decision", **signed(settings, tampered))).json()
            assert invalid["message_text"] is None and "not valid" in invalid["text"]
        assert [k for _, k in kinds(service, service.find()[0])].count("requester_accepted") == 1

        async with bridge_client(PartnerWebContext(settings=settings)) as client:
            starting = await client.post("/introductions/telegram/decision", **signed(settings, press))
            assert starting.status_code == 503 and starting.json()["text"]
    finally:
        worker.close()
        service.close()
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert {"introductions.service", "introductions.telegram"} <= {r.name for r in caplog.records}
    for secret in (*PERSONAL, TOKEN, str(CHAT), data["Accept"]):
        assert secret not in logged


@pytest.mark.asyncio
async def test_link_endpoint(sqlite_url, settings, clock) -> None:
    service = IntroductionService(sqlite_url, settings, PARTNERS.get, solution_lookup=SOLUTIONS.get, clock=clock)
    try:
        code = service.create_telegram_link_code("p-amexcid")
        context = PartnerWebContext(settings=settings, introductions=service)
        async with bridge_client(context) as client:
            request = {"code": code, "chat_id": CHAT}
            unsigned = await client.post("/introductions/telegram/link", json=request)
            assert unsigned.status_code == 401
            assert service.telegram_chat_for("p-amexcid") is None

            done = await client.post("/introductions/telegram/link", **signed(settings, request))
            assert done.status_code == 200
            assert "Mexican Agency for International Development Cooperation (AMEXCID)" in done.json()["text"]
            assert service.telegram_chat_for("p-amexcid") == CHAT

            reused = await client.post("/introductions/telegram/link", **signed(settings, {**request, "chat_id": 5}))
            assert reused.status_code == 400 and "already used" in reused.json()["text"]
            unknown = await client.post(
                "/introductions/telegram/link", **signed(settings, {"code": "nope", "chat_id": 5})
            )
            assert unknown.status_code == 400 and "not valid" in unknown.json()["text"]
        assert service.telegram_chat_for("p-amexcid") == CHAT
    finally:
        service.close()


def test_the_partner_web_app_serves_the_bridge_routes_and_the_action_server_does_not(settings) -> None:
    from actions.server import build_app as action_server
    from introductions.web import build_app as partner_web_app

    Sanic.test_mode = True
    expected = {"introductions/telegram/decision", "introductions/telegram/link", "introductions/<token:str>/<decision:accept|decline>"}
    partner_paths = {route.path for route in partner_web_app(PartnerWebContext(settings=settings), load=False).router.routes}
    assert expected <= partner_paths
    action_paths = {route.path for route in action_server(ActionContext(settings=settings), load=False, token="t").router.routes}
    assert not {p for p in action_paths if p.startswith("introductions")}


# -- staff CLI ----------------------------------------------------------------------------------------


def test_staff_cli_links_lists_and_unlinks(sqlite_url, settings, tmp_path, monkeypatch, capsys) -> None:
    from knowledge.cli import main
    from knowledge.settings import settings as process_settings
    from tests.conftest import FIXTURES

    monkeypatch.setenv("GALAXY_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GALAXY_CATALOGUE", str(FIXTURES / "mini_catalogue.jsonl"))
    monkeypatch.setenv("INTRODUCTION_SECRET", settings.introduction_secret)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@GalaxyTestBot")
    process_settings.cache_clear()
    service = IntroductionService(sqlite_url, settings, PARTNERS.get)
    try:
        assert main(["introductions", "telegram-link", "p-amexcid", "--json"]) == 0
        issued = json.loads(capsys.readouterr().out)
        assert issued["start_parameter"] == "link_" + issued["code"]
        assert issued["link"] == f"https://t.me/GalaxyTestBot?start={issued['start_parameter']}"
        assert issued["partner_id"] == "p-amexcid" and issued["expires_at"]
        assert service.link_telegram_chat(issued["code"], CHAT) == "p-amexcid"

        assert main(["introductions", "telegram-links", "--json"]) == 0
        [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert (listed["partner_id"], listed["chat_id"]) == ("p-amexcid", CHAT)

        monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "")
        process_settings.cache_clear()
        assert main(["introductions", "telegram-link", "p-fund"]) == 0
        printed = capsys.readouterr().out
        assert "/start link_" in printed and "https://t.me/" not in printed
        assert main(["introductions", "telegram-link", "p-nobody"]) == 1
        assert "no partner p-nobody" in capsys.readouterr().err

        assert main(["introductions", "telegram-unlink", "p-amexcid"]) == 0
        assert "unlinked" in capsys.readouterr().out
        assert service.telegram_chat_for("p-amexcid") is None
        assert main(["introductions", "telegram-links"]) == 0
        assert "no partner has linked" in capsys.readouterr().out
    finally:
        service.close()
        process_settings.cache_clear()


# -- schema -------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    """A database with no schema at all (on PostgreSQL, a fresh database on the session's server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    from sqlalchemy.engine import make_url

    server = make_url(request.getfixturevalue("postgres_url"))
    name = f"galaxy_migrate_{tmp_path.name.lower().replace('-', '_')}"[:60]
    admin = make_engine(server.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))  # a test-made identifier, not user input
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def test_existing_emails_become_email_channel_rows_on_upgrade(empty_database_url) -> None:
    from introductions.db import downgrade

    url = empty_database_url
    upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO introductions (id, reference, created_at, updated_at, conversation_id, channel, "
                "target_kind, target_id, partner_id, requester_name, requester_organisation, requester_email, "
                "message, consent_at, status, idempotency_key, expires_at) VALUES (1, 'GX-2345AB', :t, :t, 'c', "
                "'web', 'partner', 'p-amexcid', 'p-amexcid', 'n', 'o', 'e@example.org', 'm', :t, 'pending', 'k', :t)"
            ),
            {"t": "2025-01-01 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO introduction_outbox (introduction_id, kind, recipient_email, subject, body, attempts, "
                "next_attempt_at, created_at) VALUES (1, 'partner_notification', 'e@example.org', 's', 'b', 0, :t, :t)"
            ),
            {"t": "2025-01-01 00:00:00"},
        )
    upgrade(url)
    with engine.connect() as connection:
        [row] = connection.execute(select(OutboxMessage.channel, OutboxMessage.telegram_chat_id)).all()
    assert tuple(row) == ("email", None)
    downgrade(url, "0001")
    upgrade(url)
    with engine.connect() as connection:
        assert connection.scalar(select(OutboxMessage.channel)) == "email"
    engine.dispose()
