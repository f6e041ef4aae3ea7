"""REST channel (`/webhooks/rest/webhook`) for trusted integrations, that never leaves a user without an answer.

Every call carries `Authorization: Bearer <REST_CHANNEL_TOKEN>`. The conversation is not the client's to
choose: `POST /webhooks/rest/session` issues a session (random id + HMAC, bot/channels/sessions.py) and the
webhook accepts only a `sender` it issued, opening conversation `rest:<random id>`; the channel name and
metadata are set here, never taken from the body. Messages are limited per session and per client address.

Rasa logs and swallows a failing custom action (for instance when the action server is down),
which leaves the user with silence; this channel sends an apology for any turn that produced
no message. Very long messages are cut to a size the NLU handles well.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.metrics import TurnTimer
from bot.channels.ratelimit import RATE_LIMITED_REPLY, ClientLimits, client_address
from bot.channels.sessions import SessionIssuer, bearer_matches
from knowledge.settings import Settings, secret, settings

logger = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 3000
EMPTY_MESSAGE_REPLY = "I didn't receive any text. Tell me in a few words what you're looking for, or type \"help\"."
SILENT_TURN_APOLOGY = (
    "Sorry, something went wrong on my side and I couldn't complete that. "
    "Please try again in a minute; if it keeps happening, contact UNOSSC."
)


async def guarded_turn(
    message: UserMessage,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    replied: Callable[[], bool],
) -> Any:
    """Runs one user turn so that the user always gets an answer: empty text is answered without a turn,
    very long text is cut, and a turn that sent nothing (`replied()` false) ends with an apology."""
    output = message.output_channel
    if not (message.text or "").strip():
        await output.send_text_message(message.sender_id, EMPTY_MESSAGE_REPLY)
        return None
    if len(message.text) > MAX_MESSAGE_CHARS:
        message.text = message.text[:MAX_MESSAGE_CHARS]
    result = None
    with TurnTimer(message.input_channel or "unknown") as turn:
        try:
            result = await on_new_message(message)
        except Exception:  # noqa: BLE001 - the user gets an apology, the log the details
            turn.failed()
            logger.exception("processing a %s message failed", message.input_channel or "user")
        if not replied():
            turn.silent()
            await output.send_text_message(message.sender_id, SILENT_TURN_APOLOGY)
    return result


def client_limits(config: Settings) -> ClientLimits:
    return ClientLimits(config.rate_limit_per_minute, config.rate_limit_per_ip_per_minute)


def session_issuer(config: Settings) -> SessionIssuer:
    return SessionIssuer(secret(config, "session_secret"))


def refused(status: int, text: str) -> HTTPResponse:
    # A list of messages, like a turn's answer, so a client shows the text as it would a reply.
    return response.json([{"text": text}], status=status)


class GalaxyRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, config: Settings | None = None) -> None:
        self.config = config or settings()
        self.token = secret(self.config, "rest_channel_token")
        self.sessions = session_issuer(self.config)
        self.limits = client_limits(self.config)

    async def _extract_sender(self, req: Request) -> str | None:
        return req.ctx.conversation  # checked by the middleware below

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # never the body's "input_channel"

    def get_metadata(self, request: Request) -> dict[str, Any]:
        return {"channel": self.name()}  # never the body's "metadata"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answered(message: UserMessage) -> Any:
            collector = message.output_channel
            return await guarded_turn(message, on_new_message, lambda: bool(getattr(collector, "messages", None)))

        blueprint = super().blueprint(answered)

        @blueprint.middleware("request")
        async def authorise(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None  # the health check
            if not bearer_matches(request.headers.get("Authorization"), self.token):
                return refused(401, "This channel needs its token (Authorization: Bearer …).")
            if request.path.endswith("/session"):
                return None
            body = request.json if isinstance(request.json, dict) else {}
            conversation = self.sessions.conversation(self.name(), body.get("sender"))
            if conversation is None:
                return refused(403, "Unknown session: get one from POST /webhooks/rest/session.")
            if not self.limits.allow(conversation, client_address(request)):
                return refused(429, RATE_LIMITED_REPLY)
            request.ctx.conversation = conversation
            return None

        @blueprint.route("/session", methods=["POST"])
        async def new_session(_: Request) -> HTTPResponse:
            return response.json({"session_id": self.sessions.issue(self.name())})

        return blueprint
