"""The partner web app (`python -m introductions.web`): the only public surface of brokering, in a process and
port of its own (PARTNER_PORT) so that the action server, which holds private powers, is never exposed.

It serves the signed accept/decline links of the notification emails (`/introductions/<token>/accept|decline`;
a GET only shows what the link will do, since mail scanners open links, and the decision is a POST), the
Telegram bridge's signed endpoints (`/introductions/telegram/decision|link`, bodies HMAC-signed with the
introductions secret), and runs the outbox delivery worker (email and Telegram)."""
from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, html as html_response, json as json_response, raw as raw_response
from sqlalchemy import Engine, func, select

from introductions.conversations import purge_stored_conversations
from introductions.db import make_engine, utcnow
from introductions.models import OutboxMessage
from introductions.mailer import mailer_for
from introductions.outbox import OutboxWorker
from introductions.service import DecisionResult, IntroductionService, InvalidRequest, TelegramLinkError
from introductions.telegram import BRIDGE_SIGNATURE_HEADER, TelegramAnswer, TelegramNotifier, verify_bridge_request
from introductions.tokens import DecisionError, signing_secret
from knowledge.settings import Settings, settings
from ops.proxy import direct_loopback

logger = logging.getLogger("introductions.web")
T = TypeVar("T")
OUTBOX_POLL_SECONDS = 2.0
EXPIRY_CHECK_SECONDS = 600.0
OUTBOX_MAX_ATTEMPTS = 8  # OutboxWorker's default: a message with as many attempts has failed for good
UNAVAILABLE = "Introductions are unavailable right now. Please try again in a few minutes."


class HoldsIntroductions(Protocol):
    settings: Settings
    introductions: IntroductionService | None


@dataclass
class PartnerWebContext:
    settings: Settings
    # None while loading at start-up, or when the database is unreachable.
    introductions: IntroductionService | None = None


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#0a5ea8;color:#fff;cursor:pointer}}</style>
</head><body><h1>{title}</h1>{body}<p><small>South-South Galaxy assistant · UNOSSC</small></p></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTTPResponse:
    return html_response(_PAGE.format(title=html.escape(title), body=body), status=status)


def decisions_blueprint(context: HoldsIntroductions) -> Blueprint:
    blueprint = Blueprint("introduction_decisions", url_prefix="/introductions")

    async def check(token: str, decision: str, operation: str) -> DecisionResult | HTTPResponse:
        """Runs preview or decide for a link; an HTTP page when the link cannot be used."""
        introductions = context.introductions
        if introductions is None:
            return _page("Please try again later", "<p>The service is starting or unavailable.</p>", 503)
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, getattr(introductions, operation), token)
        except DecisionError as exc:
            return _page("This link cannot be used", f"<p>{html.escape(str(exc))}</p>", 400)
        if result.decision != decision:
            return _page("This link cannot be used", "<p>The link is not valid.</p>", 400)
        if result.already_decided:
            return _page("Already answered", f"<p>Introduction {html.escape(result.reference)} was already {html.escape(result.status)}.</p>")
        return result

    @blueprint.get("/<token>/<decision:accept|decline>")
    async def preview(request: Request, token: str, decision: str) -> HTTPResponse:
        result = await check(token, decision, "preview")
        if isinstance(result, HTTPResponse):
            return result
        verb = "Accept" if decision == "accept" else "Decline"
        body = (
            f"<p>Introduction request <strong>{html.escape(result.reference)}</strong>.</p>"
            f"<form method='post'><button type='submit'>{verb} this introduction</button></form>"
        )
        return _page(f"{verb} the introduction?", body)

    @blueprint.post("/<token>/<decision:accept|decline>")
    async def decide(request: Request, token: str, decision: str) -> HTTPResponse:
        result = await check(token, decision, "decide")
        if isinstance(result, HTTPResponse):
            return result
        if result.status == "accepted":
            return _page("Thank you!", "<p>You accepted the introduction. We are emailing you and the requester each other's contact details.</p>")
        return _page("Thank you", "<p>You declined the introduction. We will let the requester know politely.</p>")

    return blueprint


def telegram_partners_blueprint(context: HoldsIntroductions) -> Blueprint:
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


async def deliver_forever(context: HoldsIntroductions) -> None:
    """Sends due outbox messages every couple of seconds, for as long as the partner web app runs."""
    settings = context.settings
    # Telegram notifications go out only when a bot token is set; until then they wait in the outbox.
    worker = OutboxWorker(
        settings.database_url, mailer_for(settings), telegram=TelegramNotifier.from_settings(settings)
    )
    loop = asyncio.get_running_loop()
    since_expiry_check = EXPIRY_CHECK_SECONDS
    try:
        while True:
            introductions = context.introductions
            if introductions is not None:
                try:
                    await loop.run_in_executor(None, worker.deliver_due)
                    since_expiry_check += OUTBOX_POLL_SECONDS
                    if since_expiry_check >= EXPIRY_CHECK_SECONDS:
                        since_expiry_check = 0.0
                        await loop.run_in_executor(None, introductions.expire_overdue)
                        # Retention: blank personal details of requests decided or expired long ago.
                        await loop.run_in_executor(None, introductions.purge_personal_data)
                        await loop.run_in_executor(None, introductions.handoffs.purge_personal_data)
                        await loop.run_in_executor(
                            None, purge_stored_conversations, settings.tracker_store_url, settings.retention_days
                        )
                except Exception as exc:  # noqa: BLE001 - keep delivering; the outbox keeps the work
                    logger.error("outbox delivery round failed: %s", type(exc).__name__)
            await asyncio.sleep(OUTBOX_POLL_SECONDS)
    finally:
        worker.close()


def install(app: Sanic, context: HoldsIntroductions, *, deliver: bool = True) -> None:
    """The partner routes on `app`; with `deliver`, the outbox worker runs beside them."""
    app.blueprint(decisions_blueprint(context))
    app.blueprint(telegram_partners_blueprint(context))

    if deliver:

        @app.after_server_start
        async def start_delivery(app: Sanic, _loop) -> None:  # noqa: ARG001 - Sanic's signature
            app.add_task(deliver_forever(context), name="outbox")


OUTBOX_BACKLOG = Gauge("galaxy_outbox_backlog", "Outbox messages not delivered yet (failed for good excluded)")
OUTBOX_OLDEST_DUE = Gauge("galaxy_outbox_oldest_due_seconds", "How long the oldest due outbox message has waited")
OUTBOX_FAILED = Gauge("galaxy_outbox_failed", "Outbox messages that used up their attempts")
DATABASE_UP = Gauge("galaxy_partners_database_up", "1 when the introductions store answers")


def outbox_state(engine: Engine, max_attempts: int = OUTBOX_MAX_ATTEMPTS) -> dict[str, Any]:
    """Backlog, messages failed for good, and the age of the oldest due message (None when nothing is due)."""
    now = utcnow()
    pending = (OutboxMessage.delivered_at.is_(None), OutboxMessage.attempts < max_attempts)
    with engine.connect() as connection:
        backlog = connection.execute(select(func.count()).select_from(OutboxMessage).where(*pending)).scalar_one()
        failed = connection.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.attempts >= max_attempts)).scalar_one()
        oldest = connection.execute(
            select(func.min(OutboxMessage.next_attempt_at)).where(*pending, OutboxMessage.next_attempt_at <= now)
        ).scalar_one()
    if isinstance(oldest, str):  # SQLite hands back text for an aggregate
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)
    age = round((now - oldest).total_seconds(), 1) if oldest is not None else None
    return {"backlog": backlog, "failed": failed, "oldest_due_seconds": age}


def build_app(context: PartnerWebContext, *, load: bool = True, deliver: bool = True) -> Sanic:
    app = Sanic("galaxy_partners", configure_logging=False)
    install(app, context, deliver=deliver)
    engines: dict[str, Engine] = {}

    def store_state() -> dict[str, Any]:
        if "db" not in engines:
            engines["db"] = make_engine(context.settings.database_url)
        try:
            state = {"database": "reachable", "outbox": outbox_state(engines["db"])}
        except Exception as exc:  # noqa: BLE001 - reported; the class name only (a URL may hold a password)
            DATABASE_UP.set(0)
            return {"database": f"unreachable ({type(exc).__name__})"}
        DATABASE_UP.set(1)
        outbox = state["outbox"]
        OUTBOX_BACKLOG.set(outbox["backlog"])
        OUTBOX_FAILED.set(outbox["failed"])
        OUTBOX_OLDEST_DUE.set(outbox["oldest_due_seconds"] or 0)
        return state

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        body: dict[str, Any] = {"status": "ok", "introductions": context.introductions is not None}
        # The store's details are for operators on the machine; the public answer stays a liveness check.
        if direct_loopback(request):
            body.update(await asyncio.get_running_loop().run_in_executor(None, store_state))
        return json_response(body)

    @app.get("/metrics")
    async def metrics(request: Request) -> HTTPResponse:
        if not direct_loopback(request):
            return json_response({"error": "not found"}, status=404)
        await asyncio.get_running_loop().run_in_executor(None, store_state)
        return raw_response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    if load:

        @app.after_server_start
        async def load_introductions(app: Sanic, _loop) -> None:  # noqa: ARG001 - Sanic's signature
            # In the background: the pages answer "try again" (503) until the catalogue is loaded.
            app.add_task(_load(context), name="load")

    return app


async def _load(context: PartnerWebContext) -> None:
    from introductions.bootstrap import build_introductions
    from knowledge.services import build_services

    def build() -> IntroductionService | None:
        started = time.perf_counter()
        # The catalogue names partners (a look-up) and finds similar ones for a declined request (a
        # search, seldom): the encoders load on that first search, not with the pages.
        services = build_services(context.settings, deferred=True)
        service = build_introductions(context.settings, services.retriever)
        logger.info("partner web app ready in %.1fs", time.perf_counter() - started)
        return service

    context.introductions = await asyncio.get_running_loop().run_in_executor(None, build)


def main() -> None:
    config = settings()
    parser = argparse.ArgumentParser(description="Galaxy Assistant partner web app (accept/decline pages, bridge endpoints, outbox)")
    parser.add_argument("--host", default=config.partner_host)
    parser.add_argument("--port", type=int, default=config.partner_port)
    # Server mode runs the outbox worker as a process of its own (`python -m introductions worker`).
    parser.add_argument("--no-deliver", action="store_true", help="do not run the outbox worker in this process")
    args = parser.parse_args()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(PartnerWebContext(settings=config), deliver=not args.no_deliver)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
