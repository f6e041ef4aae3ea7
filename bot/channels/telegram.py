"""The Telegram bridge's own channel (`/webhooks/telegram/webhook`), authenticated by a shared secret.

The bridge (bot/telegram) posts `{"chat_id": 123, "message": "…"}` with
`Authorization: Bearer <TELEGRAM_CHANNEL_TOKEN>`; the conversation is `telegram:<chat id>`, an id that no
other channel accepts (they open only the sessions they issued), and the channel name and metadata
(`{"channel": "telegram", "chat_id": 123}`) are set here. Same guarantees as the REST channel."""
from __future__ import annotations

import re

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.rest import guarded_turn, refused
from bot.channels.sessions import bearer_matches
from knowledge.settings import Settings, secret, settings

PREFIX = "telegram:"


def conversation_id(chat_id: int) -> str:
    return f"{PREFIX}{chat_id}"


class GalaxyTelegramInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, config: Settings | None = None) -> None:
        self.token = secret(config or settings(), "telegram_channel_token")

    async def _extract_sender(self, req: Request) -> str | None:
        return conversation_id(req.ctx.chat_id)

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any]:
        metadata: dict[str, Any] = {"channel": self.name(), "chat_id": request.ctx.chat_id}
        # Telegram's language of the user's app (IETF tag such as "fr" or "pt-br"): the reply language
        # of a new conversation (actions/language.py); only a short tag is passed on.
        body = request.json if isinstance(request.json, dict) else {}
        code = body.get("language_code")
        if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})?", code):
            metadata["language_code"] = code.lower()
        return metadata

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answered(message: UserMessage) -> Any:
            collector = message.output_channel
            return await guarded_turn(message, on_new_message, lambda: bool(getattr(collector, "messages", None)))

        blueprint = super().blueprint(answered)

        @blueprint.middleware("request")
        async def authorise(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            if not bearer_matches(request.headers.get("Authorization"), self.token):
                return refused(401, "This channel is for the Telegram bridge only.")
            body = request.json if isinstance(request.json, dict) else {}
            chat_id = body.get("chat_id")
            if isinstance(chat_id, bool) or not isinstance(chat_id, int):
                return refused(400, "chat_id must be an integer.")
            request.ctx.chat_id = chat_id
            return None

        return blueprint
