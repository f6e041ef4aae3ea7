"""The bridge's two HTTP peers on our side: its own Rasa channel (bot/channels/telegram.py: one conversation
per chat, `telegram:<chat id>`, authenticated by TELEGRAM_CHANNEL_TOKEN) and the partner web app's endpoints
(Telegram accept/decline buttons and chat linking, introductions/web.py)."""
from __future__ import annotations

import json
import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error; the user is told, the bridge carries on."""


class RasaClient:
    def __init__(self, rasa_url: str, token: str, *, timeout: float = 60.0) -> None:
        self.webhook = f"{rasa_url.rstrip('/')}/webhooks/telegram/webhook"
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0), headers={"Authorization": f"Bearer {token}"}
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, chat_id: int, message: str, *, language_code: str | None = None) -> list[dict[str, Any]]:
        """One turn of the chat's conversation; the channel, not the bridge, names the channel and the chat.
        `language_code` is Telegram's language of the user's app, passed on as a hint (message metadata)."""
        body: dict[str, Any] = {"chat_id": chat_id, "message": message}
        if language_code:
            body["language_code"] = language_code
        try:
            response = await self._client.post(self.webhook, json=body)
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected reply")
        return [reply for reply in replies if isinstance(reply, dict)]


class PartnerDesk:
    """Forwards a partner's Telegram actions to the partner web app, which owns the decisions.

    Bodies are signed with the introductions secret, so only a process that holds it can decide."""

    def __init__(self, partner_base_url: str, secret: str, *, timeout: float = 20.0) -> None:
        self.base = partner_base_url.rstrip("/")
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0))

    async def close(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        from introductions.telegram import BRIDGE_SIGNATURE_HEADER, sign_bridge_request

        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", BRIDGE_SIGNATURE_HEADER: sign_bridge_request(self._secret, body)}
        try:
            response = await self._client.post(f"{self.base}{path}", content=body, headers=headers)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("partner web app unreachable for %s (%s)", path, type(exc).__name__)
            return {"text": "The introductions service is not reachable right now. Please try again in a few minutes.", "show_alert": True}
        if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
            return {"text": "Something went wrong. Please try again later.", "show_alert": True}
        return answer

    async def decide(self, callback_data: str, chat_id: int) -> dict[str, Any]:
        return await self._post("/introductions/telegram/decision", {"data": callback_data, "chat_id": chat_id})

    async def link(self, code: str, chat_id: int) -> dict[str, Any]:
        return await self._post("/introductions/telegram/link", {"code": code, "chat_id": chat_id})
