"""The partner's side of an introduction on Telegram, served by the action server for the Telegram bridge
(over loopback): Accept/Decline button presses and `/start link_<code>` chat links.

Every body is signed by the bridge (X-Galaxy-Bridge-Signature, HMAC of the body with the introductions
signing secret), so nothing else on the machine can decide or link in a partner's name."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json as json_response

from actions.context import ActionContext
from introductions.service import IntroductionService, InvalidRequest, TelegramLinkError
from introductions.telegram import BRIDGE_SIGNATURE_HEADER, TelegramAnswer, verify_bridge_request
from introductions.tokens import DecisionError, signing_secret

logger = logging.getLogger(__name__)
T = TypeVar("T")
UNAVAILABLE = "Introductions are unavailable right now. Please try again in a few minutes."


def telegram_partners_blueprint(context: ActionContext) -> Blueprint:
    blueprint = Blueprint("introduction_telegram", url_prefix="/introductions/telegram")
    secret: list[str] = []  # read on first use: the secret may be a file created at start-up

    def signed_json(request: Request) -> dict[str, Any] | HTTPResponse:
        if not secret:
            secret.append(signing_secret(context.settings))
        if not verify_bridge_request(secret[0], request.body or b"", request.headers.get(BRIDGE_SIGNATURE_HEADER)):
            return json_response({"text": "Unauthorised."}, status=401)
        try:
            payload = json.loads(request.body)
        except (TypeError, ValueError):
            payload = None
        if not isinstance(payload, dict) or isinstance(payload.get("chat_id"), bool) or not isinstance(
            payload.get("chat_id"), int
        ):
            return json_response({"text": "Malformed request."}, status=400)
        return payload

    async def call(operation: Callable[[IntroductionService], T]) -> T | HTTPResponse:
        introductions = context.introductions
        if introductions is None:
            return json_response({"text": UNAVAILABLE}, status=503)
        try:
            return await asyncio.get_running_loop().run_in_executor(None, operation, introductions)
        except (DecisionError, TelegramLinkError, InvalidRequest):
            raise  # answered by the handlers below
        except Exception as exc:  # noqa: BLE001 - a database outage: the bridge tells the partner to retry
            logger.error("Telegram partner request failed: %s", type(exc).__name__)
            return json_response({"text": UNAVAILABLE}, status=503)

    @blueprint.post("/decision")
    async def decision(request: Request) -> HTTPResponse:
        payload = signed_json(request)
        if isinstance(payload, HTTPResponse):
            return payload
        data, chat_id = payload.get("data"), payload["chat_id"]

        def decide(service: IntroductionService) -> TelegramAnswer:
            return service.telegram_answer(service.decide_from_telegram(data, chat_id))

        try:
            answer = await call(decide)
        except (DecisionError, InvalidRequest) as exc:
            # Invalid, tampered, expired or pressed in another chat: a clear answer, the message stays.
            return json_response(TelegramAnswer(str(exc), show_alert=True).as_json())
        if isinstance(answer, HTTPResponse):
            return answer
        return json_response(answer.as_json())

    @blueprint.post("/link")
    async def link(request: Request) -> HTTPResponse:
        payload = signed_json(request)
        if isinstance(payload, HTTPResponse):
            return payload
        code = payload.get("code")
        if not isinstance(code, str):
            return json_response({"text": "Malformed request."}, status=400)

        def link_chat(service: IntroductionService) -> str:
            return service.partner_name(service.link_telegram_chat(code, payload["chat_id"]))

        try:
            name = await call(link_chat)
        except (TelegramLinkError, InvalidRequest) as exc:
            return json_response({"text": str(exc)}, status=400)
        if isinstance(name, HTTPResponse):
            return name
        return json_response(
            {
                "text": f"This chat now receives introduction requests for {name}, with Accept and Decline "
                "buttons. The UNOSSC team can unlink it at any time."
            }
        )

    return blueprint


def install(app: Sanic, context: ActionContext) -> None:
    app.blueprint(telegram_partners_blueprint(context))

