"""socket.io channel of the web widget (bot/widget): Rasa's SocketIOInput with the REST channel's
guarantees, and the widget's bundle and demo pages served by the same Rasa process under /widget/.

Like the REST channel it answers empty text without a turn, cuts very long messages and sends an
apology for any turn that produced no message (for example when the action server is down).
"""
from __future__ import annotations

import html
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.rest import guarded_turn


WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
BUNDLE = WIDGET_DIR / "dist" / "galaxy-widget.js"
PAGES = {"/widget": "index.html", "/widget/webinar": "webinar.html"}
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # anything else gets a fresh id
MISSING_BUNDLE_NOTICE = (
    '<p class="notice" role="alert">The widget is not built yet: run <code>make widget</code> '
    "(make run does it) and reload this page.</p>"
)


class GalaxySocketIOOutput(SocketIOOutput):
    """Sends each utterance as one `bot_uttered` event (the widget lays out paragraphs and result
    cards itself, keeping a reply and its buttons together) and counts what it sent."""

    def __init__(self, sio: Any, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text.strip()})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        replies = [{"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons]
        await self._send_message(recipient_id, {"text": text.strip(), "quick_replies": replies})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        self.sent += 1
        await super().send_custom_json(recipient_id, json_message, **kwargs)


class WidgetSocketBlueprint(SocketBlueprint):
    """Attaches socket.io like Rasa's blueprint and adds the widget routes at the root of the app:
    channel blueprints are mounted under /webhooks/socketio/, which is no address to give people."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        app.add_route(widget_page, "/widget", methods=["GET"], name="galaxy_widget_demo", strict_slashes=False)
        app.add_route(widget_page, "/widget/webinar", methods=["GET"], name="galaxy_widget_webinar", strict_slashes=False)
        app.add_route(widget_bundle, "/widget/galaxy-widget.js", methods=["GET"], name="galaxy_widget_bundle")


async def widget_page(request: Request) -> HTTPResponse:
    page = (WIDGET_DIR / "pages" / PAGES[request.path.rstrip("/")]).read_text(encoding="utf-8")
    bundle_url = html.escape(f"{request.scheme}://{request.host}/widget/galaxy-widget.js")
    page = page.replace("<!-- widget-url -->", bundle_url)
    if not BUNDLE.exists():
        page = page.replace("<!-- widget-status -->", MISSING_BUNDLE_NOTICE)
    return response.html(page, headers={"Cache-Control": "no-cache"})


async def widget_bundle(_: Request) -> HTTPResponse:
    if not BUNDLE.exists():
        return response.text("galaxy-widget.js is not built: run `make widget`", status=404)
    # no-cache: pages revalidate, so a rebuilt widget reaches users without a renamed file.
    return await response.file(BUNDLE, mime_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


class GalaxySocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return GalaxySocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        async def answered(message: UserMessage) -> Any:
            output = GalaxySocketIOOutput(self.sio, self.bot_message_evt)
            message.output_channel = output
            return await guarded_turn(message, on_new_message, lambda: output.sent > 0)

        # Rasa's blueprint() creates self.sio and its event handlers (connect, user_uttered, ...);
        # the blueprint object is replaced to add the widget routes, session_request to fix it.
        super().blueprint(answered)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            # Rasa 3.6 calls sio.enter_room without await, a coroutine since python-socketio 5.10: the
            # socket never joined the session's room and every reply of a persistent session was lost.
            requested = (data or {}).get("session_id")
            session_id = requested if isinstance(requested, str) and SESSION_ID.fullmatch(requested) else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        blueprint = WidgetSocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return blueprint
