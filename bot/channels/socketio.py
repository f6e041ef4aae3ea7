"""socket.io channel of the web widget (bot/widget): Rasa's SocketIOInput with the REST channel's
guarantees, and the widget's bundle and demo pages served by the same Rasa process under /widget/.

Like the REST channel it answers empty text without a turn, cuts very long messages and sends an
apology for any turn that produced no message (for example when the action server is down).

Conversations are issued here: `session_request` returns a signed session (random id + HMAC,
bot/channels/sessions.py) unless the client sent one this server issued, and a socket speaks only in the
conversation its session opened (`socketio:<random id>`), whatever `user_uttered` claims. Browsers may
connect from WIDGET_ORIGINS only; messages are limited per session and per client address.
The worker's Prometheus metrics and readiness (`/metrics`, `/ready`, bot/channels/metrics.py) are added to
the app here too.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import metrics
from bot.channels.ratelimit import RATE_LIMITED_REPLY, client_address
from bot.channels.rest import client_limits, guarded_turn, session_issuer
from knowledge.settings import Settings, settings

logger = logging.getLogger(__name__)
NO_SESSION_REPLY = "This conversation has not started yet. Please reload the page."

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
BUNDLE = WIDGET_DIR / "dist" / "galaxy-widget.js"
PAGES = {"/widget": "index.html", "/widget/webinar": "webinar.html"}
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
        # As the REST channel does: {"custom": …} (Rasa's own would pass the keys to sio.emit as arguments).
        await self._send_message(recipient_id, {"custom": json_message})


class WidgetSocketBlueprint(SocketBlueprint):
    """Attaches socket.io like Rasa's blueprint and adds the widget routes at the root of the app:
    channel blueprints are mounted under /webhooks/socketio/, which is no address to give people."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        app.add_route(widget_page, "/widget", methods=["GET"], name="galaxy_widget_demo", strict_slashes=False)
        app.add_route(widget_page, "/widget/webinar", methods=["GET"], name="galaxy_widget_webinar", strict_slashes=False)
        app.add_route(widget_bundle, "/widget/galaxy-widget.js", methods=["GET"], name="galaxy_widget_bundle")
        # The worker's /metrics and /ready (loopback only): this channel is always configured.
        metrics.install(app)


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

    def __init__(self, *args: Any, config: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config or settings()
        self.sessions = session_issuer(self.config)
        self.limits = client_limits(self.config)

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return GalaxySocketIOOutput(self.sio, self.bot_message_evt)

    def allowed_origin(self, environ: dict[str, Any]) -> bool:
        """Browsers send Origin on cross-origin requests and websockets: it must be on the allow-list or
        this server's own. Clients without one are not browsers, which CORS does not concern."""
        origin = environ.get("HTTP_ORIGIN")
        if not origin:
            return True
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin.rstrip("/") in (*self.config.widget_origins, own)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        async def answered(message: UserMessage) -> Any:
            output = GalaxySocketIOOutput(self.sio, self.bot_message_evt)
            message.output_channel = output
            return await guarded_turn(message, on_new_message, lambda: output.sent > 0)

        # Rasa's blueprint() creates self.sio and its event handlers; connect, session_request and
        # user_uttered are replaced below, and the blueprint object to add the widget routes.
        super().blueprint(answered)
        sio = self.sio
        name = self.name()

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            if not self.allowed_origin(environ):
                logger.info("socket.io connection from a foreign origin refused")
                return False
            request = environ.get("sanic.request")
            # The driver's REMOTE_ADDR is always 127.0.0.1: the client address is the request's.
            await sio.save_session(sid, {"ip": client_address(request)}, namespace=self.namespace)
            return True

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            requested = (data or {}).get("session_id") if isinstance(data, dict) else None
            conversation = self.sessions.conversation(name, requested)
            session = requested if conversation is not None else self.sessions.issue(name)
            conversation = conversation or self.sessions.conversation(name, session)
            state = await sio.get_session(sid, namespace=self.namespace)
            state["conversation"] = conversation
            await sio.save_session(sid, state, namespace=self.namespace)
            # Rasa 3.6 calls sio.enter_room without await, a coroutine since python-socketio 5.10: the
            # socket never joined the session's room and every reply of a persistent session was lost.
            await sio.enter_room(sid, conversation, namespace=self.namespace)
            await sio.emit("session_confirm", session, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: dict | None) -> None:
            state = await sio.get_session(sid, namespace=self.namespace)
            conversation = state.get("conversation")
            if conversation is None:  # no session_request yet: the body's session_id is not trusted
                await sio.emit(self.bot_message_evt, {"text": NO_SESSION_REPLY}, room=sid, namespace=self.namespace)
                return
            if not self.limits.allow(conversation, state.get("ip", "")):
                await sio.emit(self.bot_message_evt, {"text": RATE_LIMITED_REPLY}, room=sid, namespace=self.namespace)
                return
            text = (data or {}).get("message", "") if isinstance(data, dict) else ""
            message = UserMessage(
                text if isinstance(text, str) else "",
                GalaxySocketIOOutput(sio, self.bot_message_evt),
                conversation,
                input_channel=name,
                metadata={"channel": name},  # never the client's
            )
            await answered(message)

        blueprint = WidgetSocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return blueprint
