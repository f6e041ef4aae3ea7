"""Prometheus metrics of a Rasa worker's channels (turns, latency, failed and silent turns) and its readiness,
served at `/metrics` and `/ready` to loopback callers only: nginx does not route them, and a request that
came through a proxy (X-Forwarded-For) is refused, so only an operator on the machine or a scraper beside
the worker reads them."""
from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from ops.proxy import direct_loopback

TURNS = Counter("galaxy_turns_total", "User turns handled, by channel", ["channel"])
TURN_ERRORS = Counter("galaxy_turn_errors_total", "Turns that raised, by channel", ["channel"])
SILENT_TURNS = Counter("galaxy_silent_turns_total", "Turns that sent nothing and got the apology, by channel", ["channel"])
TURN_SECONDS = Histogram(
    "galaxy_turn_seconds", "Time from a user message to the end of its turn, by channel", ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
)


class TurnTimer:
    """Counts one turn of `channel` and times it: `with TurnTimer("rest") as turn: …; turn.silent()`."""

    def __init__(self, channel: str) -> None:
        self.channel = channel or "unknown"
        self.started = 0.0

    def __enter__(self) -> TurnTimer:
        self.started = time.perf_counter()
        TURNS.labels(self.channel).inc()
        return self

    def __exit__(self, *_: Any) -> None:
        TURN_SECONDS.labels(self.channel).observe(time.perf_counter() - self.started)

    def failed(self) -> None:
        TURN_ERRORS.labels(self.channel).inc()

    def silent(self) -> None:
        SILENT_TURNS.labels(self.channel).inc()


def _sql_engine(store: Any) -> Any:
    """The SQLAlchemy engine under Rasa's tracker-store wrappers (fail-safe, awaitable), if any."""
    for _ in range(4):
        if hasattr(store, "engine"):
            return store.engine
        store = getattr(store, "inner_tracker_store", None) or getattr(store, "_tracker_store", None)
        if store is None:
            return None
    return None


async def worker_readiness(app: Sanic) -> dict[str, Any]:
    """Model loaded, tracker store and lock store reachable: what a worker needs to take a turn."""
    import asyncio

    agent = getattr(app.ctx, "agent", None)
    state: dict[str, Any] = {"model_loaded": bool(agent and agent.is_ready())}
    if agent is not None:
        loop = asyncio.get_running_loop()
        engine = _sql_engine(agent.tracker_store)
        if engine is not None:
            def ping() -> None:
                from sqlalchemy import text

                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))

            try:
                await loop.run_in_executor(None, ping)
                state["tracker_store"] = "reachable"
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                state["tracker_store"] = f"unreachable ({type(exc).__name__})"
        try:
            await loop.run_in_executor(None, agent.lock_store.get_lock, "galaxy-readiness")
            state["lock_store"] = type(getattr(agent.lock_store, "backend", agent.lock_store)).__name__
        except Exception as exc:  # noqa: BLE001
            state["lock_store"] = f"unreachable ({type(exc).__name__})"
    state["ready"] = state["model_loaded"] and "unreachable" not in f"{state.get('tracker_store')}{state.get('lock_store')}"
    return state


def install(app: Sanic) -> None:
    """`/metrics` and `/ready` on the worker's app."""

    async def metrics(request: Request) -> HTTPResponse:
        if not direct_loopback(request):
            return response.text("not found", status=404)
        return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    async def readiness(request: Request) -> HTTPResponse:
        if not direct_loopback(request):
            return response.text("not found", status=404)
        state = await worker_readiness(request.app)
        return response.json(state, status=200 if state.get("ready") else 503)

    app.add_route(metrics, "/metrics", methods=["GET"], name="galaxy_metrics")
    app.add_route(readiness, "/ready", methods=["GET"], name="galaxy_ready")
