"""A fake Telegram Bot API on loopback for end-to-end tests of the bridge: it hands out the updates a
test pushes (getUpdates long polling), records every call (sendMessage, answerCallbackQuery, …) and can
answer a call with flood control (429 retry_after) to test retries. Runs its own event loop in a thread."""
from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator
from typing import Any, Callable

from aiohttp import web

from harness.stack import PYTHON, ROOT

BOT_ID = 7000001
BOT_USERNAME = "galaxy_test_bot"
TOKEN = "123456789:AAE-fake-token-for-tests_only"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._failures: dict[str, list[int]] = {}  # method -> retry_after of the next failures
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._new_update: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0
        self.wrong_token_requests = 0
        self.handed_out: dict[int, float] = {}  # update_id -> when getUpdates returned it (monotonic)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> "FakeBotApi":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._new_update = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what tests do ------------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        with self._lock:
            self._updates.append({"update_id": update_id, **update})
        assert self._new_update is not None
        self._loop.call_soon_threadsafe(self._new_update.set)
        return update_id

    def text(self, chat_id: int, text: str, *, chat_type: str = "private", user_id: int | None = None, **extra: Any) -> int:
        return self.push(self.text_update(chat_id, text, chat_type=chat_type, user_id=user_id, **extra))

    def text_update(self, chat_id: int, text: str, *, chat_type: str = "private", user_id: int | None = None, **extra: Any) -> dict[str, Any]:
        """The update Telegram sends for a text message (without update_id)."""
        message = self._message(chat_id, chat_type, user_id) | {"text": text, **extra}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"message": message}

    def sticker(self, chat_id: int) -> int:
        sticker = {"file_id": "CAAC-sticker", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
        return self.push({"message": self._message(chat_id, "private", None) | {"sticker": sticker}})

    def press(self, chat_id: int, callback_data: str, message_id: int = 1, user_id: int | None = None) -> int:
        query = {
            "id": f"cb{next(self._update_ids)}",
            "from": self._user(user_id or chat_id),
            "chat_instance": f"ci{chat_id}",
            "data": callback_data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}, "text": "…", "from": {"id": BOT_ID, "is_bot": True, "first_name": "Galaxy"}},
        }
        return self.push({"callback_query": query})

    def fail_next(self, method: str, *retry_after: int) -> None:
        """The next len(retry_after) calls of `method` get 429 with these retry_after values."""
        with self._lock:
            self._failures.setdefault(method, []).extend(retry_after)

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [
                c for c in self.calls
                if c.method == method and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0, what: str = "a Bot API call") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; calls: {[c.method for c in self.calls]}")

    def wait_messages(self, chat_id: int, count: int, timeout: float = 60.0) -> list[Call]:
        return self.wait_for(
            lambda: (lambda found: found if len(found) >= count else None)(self.calls_of("sendMessage", chat_id)),
            timeout,
            f"{count} sendMessage call(s) to chat {chat_id}",
        )

    def wait_text(self, chat_id: int, needle: str, timeout: float = 60.0, method: str = "sendMessage") -> Call:
        """The first `method` call to the chat whose text contains `needle`."""
        return self.wait_for(
            lambda: next((c for c in self.calls_of(method, chat_id) if needle in str(c.params.get("text", ""))), None),
            timeout,
            f"{method} to chat {chat_id} containing {needle!r}",
        )

    # -- the Bot API --------------------------------------------------------------------------------

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Tester", "language_code": "en"}

    def _message(self, chat_id: int, chat_type: str, user_id: int | None) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Group"
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": self._user(user_id or abs(chat_id))}

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                for key, value in form.items():
                    params[key] = value
        for key, value in list(params.items()):  # PTB sends nested objects JSON-encoded in forms
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.wrong_token_requests += 1
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            with self._lock:
                self.calls.append(Call(method, params))
                failures = self._failures.get(method)
                retry_after = failures.pop(0) if failures else None
            if retry_after is not None:
                return web.json_response(
                    {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}", "parameters": {"retry_after": retry_after}},
                    status=429,
                )
        return web.json_response({"ok": True, "result": await self._result(method, params)})

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Galaxy", "username": BOT_USERNAME, "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method == "getUpdates":
            return await self._get_updates(int(params.get("offset") or 0), float(params.get("timeout") or 0))
        if method in ("sendMessage", "sendPhoto", "editMessageText"):
            chat_id = int(params.get("chat_id") or 0)
            message: dict[str, Any] = {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Galaxy", "username": BOT_USERNAME},
            }
            if "text" in params:
                message["text"] = params["text"]
            if method == "sendPhoto":
                message["photo"] = [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}]
            return message
        return True  # deleteWebhook, sendChatAction, answerCallbackQuery, setMyCommands, …

    async def _get_updates(self, offset: int, timeout: float) -> list[dict[str, Any]]:
        assert self._new_update is not None
        deadline = time.monotonic() + min(timeout, 2.0)  # short polls keep the tests quick to stop
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = list(self._updates)
            if pending or time.monotonic() >= deadline:
                now = time.monotonic()
                for update in pending:
                    self.handed_out.setdefault(update["update_id"], now)
                return pending
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass


class Bridge:
    """The bridge as a process, talking to `api` and to Rasa at `rasa_port`."""

    def __init__(
        self, workdir: Path, api: FakeBotApi, env: dict[str, str], rasa_port: int, extra_env: dict[str, str] | None = None
    ) -> None:
        self.log_path = workdir / "telegram.log"
        env = dict(
            env,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_BASE_URL=api.base_url,
            RASA_PORT=str(rasa_port),
            GALAXY_STATE_DIR=str(workdir / "state"),
            LOG_LEVEL="DEBUG",  # the token must stay out of even the most verbose logs
        )
        env.update(extra_env or {})
        self.process = subprocess.Popen(
            [str(PYTHON), "-m", "bot.telegram"], cwd=ROOT, env=env, stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT
        )
        api.wait_for(lambda: api.calls_of("getMe") or self.process.poll() is not None, 60, "the bridge to start")
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def running_fake_api() -> Iterator[FakeBotApi]:
    """A started fake Bot API for a fixture (`yield from running_fake_api()`), stopped afterwards."""
    fake = FakeBotApi(TOKEN).start()
    try:
        yield fake
    finally:
        fake.stop()


def keyboard_of(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]
