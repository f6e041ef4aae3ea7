"""The partner's side of an introduction, served by the action server (not by Rasa): the signed
accept/decline links of the notification email, and the outbox delivery loop (email and Telegram).

A GET only shows what the link will do (mail scanners open links); the decision is a POST."""
from __future__ import annotations

import asyncio
import html
import logging

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, html as html_response

from actions.context import ActionContext
from introductions.mailer import mailer_for
from introductions.outbox import OutboxWorker
from introductions.service import DecisionResult
from introductions.telegram import TelegramNotifier
from introductions.tokens import DecisionError

logger = logging.getLogger(__name__)
OUTBOX_POLL_SECONDS = 2.0
EXPIRY_CHECK_SECONDS = 600.0

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#0a5ea8;color:#fff;cursor:pointer}}</style>
</head><body><h1>{title}</h1>{body}<p><small>South-South Galaxy assistant · UNOSSC</small></p></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTTPResponse:
    return html_response(_PAGE.format(title=html.escape(title), body=body), status=status)


def decisions_blueprint(context: ActionContext) -> Blueprint:
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


async def deliver_forever(context: ActionContext) -> None:
    """Sends due outbox messages every couple of seconds, for as long as the server runs."""
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
                except Exception as exc:  # noqa: BLE001 - keep delivering; the outbox keeps the work
                    logger.error("outbox delivery round failed: %s", type(exc).__name__)
            await asyncio.sleep(OUTBOX_POLL_SECONDS)
    finally:
        worker.close()


def install(app: Sanic, context: ActionContext) -> None:
    app.blueprint(decisions_blueprint(context))

    @app.after_server_start
    async def start_delivery(app: Sanic, _loop) -> None:  # noqa: ARG001 - Sanic's signature
        app.add_task(deliver_forever(context), name="outbox")
