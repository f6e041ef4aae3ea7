"""Unit tests of the private surfaces' mechanisms: issued sessions, bearer tokens, rate-limit windows,
generated secrets, and the action server's token check (served in-process over ASGI)."""
from __future__ import annotations

import asyncio
import os
import stat
from contextlib import asynccontextmanager

import httpx
import pytest
from sanic import Sanic

from bot.channels.ratelimit import ClientLimits, SlidingWindow
from bot.channels.sessions import SessionIssuer, bearer_matches
from knowledge.settings import SECRET_NAMES, generated_secret, load_settings, secret


def test_an_issued_session_opens_its_conversation_and_nothing_else_does() -> None:
    issuer = SessionIssuer("k1")
    session = issuer.issue("socketio")
    random_id, mac = session.split(".")
    assert issuer.conversation("socketio", session) == f"socketio:{random_id}"
    assert issuer.conversation("rest", session) is None, "a session works on its own channel only"
    assert SessionIssuer("k2").conversation("socketio", session) is None, "another secret, another server"
    for forged in (random_id, f"socketio:{random_id}", f"{random_id}.{'0' * len(mac)}", f"{random_id}.{mac[:-1]}x", "", None, 42, "é." + mac):
        assert issuer.conversation("socketio", forged) is None, forged
    assert issuer.issue("socketio") != session


def test_bearer_tokens_are_compared_exactly() -> None:
    assert bearer_matches("Bearer s3cret", "s3cret") and bearer_matches("bearer s3cret", "s3cret")
    for header in (None, "", "s3cret", "Bearer", "Bearer s3cre", "Bearer s3cretx", "Basic s3cret"):
        assert not bearer_matches(header, "s3cret"), header
    assert not bearer_matches("Bearer ", ""), "an empty token opens nothing"


def test_a_sliding_window_refuses_the_hit_over_its_limit_until_the_oldest_leaves() -> None:
    now = [0.0]
    window = SlidingWindow(3, 60, clock=lambda: now[0])
    assert [window.hit("a") for _ in range(4)] == [True, True, True, False]
    assert window.hit("b"), "another key has its own window"
    now[0] = 59.9
    assert not window.hit("a")
    now[0] = 60.1
    assert [window.hit("a") for _ in range(4)] == [True, True, True, False]
    now[0] = 1000.0
    window.hit("c")
    assert set(window._hits) == {"c"}, "idle keys are forgotten"
    assert all(SlidingWindow(0).hit("x") for _ in range(100)), "0 switches the limit off"


def test_client_limits_hold_per_session_and_per_address() -> None:
    now = [0.0]
    limits = ClientLimits(per_session=2, per_ip=3, clock=lambda: now[0])
    assert limits.allow("s1", "1.2.3.4") and limits.allow("s1", "1.2.3.4")
    assert not limits.allow("s1", "1.2.3.4"), "the session's limit"
    assert limits.allow("s2", "1.2.3.4") is False, "the address's limit: new sessions do not reset it"
    assert limits.allow("s3", "5.6.7.8"), "another client is unaffected"
    now[0] = 61
    assert limits.allow("s1", "1.2.3.4")


def test_generated_secrets_are_made_once_private_and_overridable(tmp_path) -> None:
    first = generated_secret(tmp_path, "session_secret")
    assert len(first) >= 40 and generated_secret(tmp_path, "session_secret") == first
    assert stat.S_IMODE(os.stat(tmp_path / "session_secret").st_mode) == 0o600
    assert generated_secret(tmp_path, "session_secret", "from-env") == "from-env"
    config = load_settings()
    from dataclasses import replace

    config = replace(config, state_dir=tmp_path, rest_channel_token="set-in-env")
    values = {name: secret(config, name) for name in SECRET_NAMES}
    assert values["rest_channel_token"] == "set-in-env" and values["session_secret"] == first
    assert len(set(values.values())) == len(SECRET_NAMES), "each surface has its own secret"
    with pytest.raises(KeyError):
        secret(config, "introduction_secret")


def test_widget_origins_are_an_allow_list(monkeypatch) -> None:
    monkeypatch.setenv("WIDGET_ORIGINS", "https://a.example/, *, https://b.example")
    assert load_settings().widget_origins == ("https://a.example", "https://b.example")
    monkeypatch.delenv("WIDGET_ORIGINS")
    monkeypatch.setenv("RASA_PORT", "5999")
    assert load_settings().widget_origins == ("http://127.0.0.1:5999",)
    assert load_settings().public_base_url == "http://127.0.0.1:5056", "links point at the partner web app"


@asynccontextmanager
async def asgi(app: Sanic):
    receive: asyncio.Queue = asyncio.Queue()
    sent: asyncio.Queue = asyncio.Queue()
    await receive.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive.get, sent.put))
    assert (await sent.get())["type"] == "lifespan.startup.complete"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://actions") as client:
            yield client
    finally:
        await receive.put({"type": "lifespan.shutdown"})
        await sent.get()
        await lifespan


@pytest.mark.asyncio
async def test_the_action_server_runs_actions_only_for_the_token(context) -> None:
    from actions.server import build_app

    Sanic.test_mode = True
    app = build_app(context, load=False, token="rasa-knows-this")
    forged = {"next_action": "action_search_solutions", "sender_id": "x", "tracker": {"sender_id": "x", "events": []}, "domain": {}}
    async with asgi(app) as client:
        assert (await client.get("/health")).status_code == 200
        for params in ({}, {"token": "guess"}, {"token": "rasa-knows-this "}):
            assert (await client.post("/webhook", json=forged, params=params)).status_code == 401
            assert (await client.get("/actions", params=params)).status_code == 401
        listed = await client.get("/actions", params={"token": "rasa-knows-this"})
        assert listed.status_code == 200 and {"name": "action_search_solutions"} in listed.json()
        assert (await client.get("/introductions/x/accept", params={"token": "rasa-knows-this"})).status_code >= 400, \
            "partner pages are not served by the action server"


class _Request:
    def __init__(self, ip: str, headers: dict[str, str] | None = None) -> None:
        self.ip = ip
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}


def test_only_a_direct_caller_on_this_machine_counts_as_loopback() -> None:
    from ops.proxy import direct_loopback

    assert direct_loopback(_Request("127.0.0.1"))
    assert direct_loopback(_Request("::1"))
    # through nginx (any forwarding header), from elsewhere, or with no usable address: not loopback
    for headers in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}, {"X-Real-IP": "203.0.113.9"}):
        assert not direct_loopback(_Request("127.0.0.1", headers))
    assert not direct_loopback(_Request("203.0.113.9"))
    assert not direct_loopback(_Request(""))
