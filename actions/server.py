"""The action server: rasa-sdk's webhook app with our actions, whose knowledge services are
loaded and warmed once when the server starts (not at import, not per request).

It is private: it listens on loopback (ACTION_HOST) and runs actions only for a caller that holds
ACTION_SERVER_TOKEN, which Rasa sends as `?token=` (endpoints.yml). Partners' pages and the bridge's
endpoints live in the partner web app (`python -m introductions.web`), never here.

The event loop only parses requests and writes replies: every action runs in a thread pool sized to
the cores (`OffloadingExecutor`), because actions embed, rank and call the introductions database
synchronously. A background task loads a newly imported catalogue generation (`GENERATION_POLL_SECONDS`).
`/health` is liveness; `/ready` (records, generation, database) and `/metrics` (Prometheus) answer a
token holder or a direct loopback caller. Nothing about a conversation is kept between calls: every
call brings its tracker, so any action server of several can take any call."""
from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json as json_response, raw
from sqlalchemy import text

from actions.context import ActionContext
from actions.metrics import ActionMetrics
from actions.registry import build_actions
from introductions.bootstrap import build_introductions
from knowledge.services import build_services
from knowledge.settings import secret, settings
from ops.proxy import direct_loopback

logger = logging.getLogger("actions.server")


OPEN_PATHS = frozenset({"/health"})  # what a caller without the token may reach
LOOPBACK_PATHS = frozenset({"/ready", "/metrics"})  # also open to a direct caller on this machine


def pool_size(configured: int) -> int:
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


class OffloadingExecutor(ActionExecutor):
    """Runs each action call in a worker thread, on that thread's own event loop, and counts it.

    Our actions are `async def` but do synchronous work (ONNX embedding, BM25, fusion, SQLAlchemy);
    run on the server's loop they would stall every other conversation for the length of each one."""

    def __init__(self, pool: ThreadPoolExecutor, metrics: ActionMetrics) -> None:
        super().__init__()
        self.pool = pool
        self.metrics = metrics
        self._local = threading.local()

    async def run(self, action_call: dict[str, Any]):  # type: ignore[override] - same contract
        name = str(action_call.get("next_action") or "unknown")
        self.metrics.calls.labels(action=name).inc()
        started = time.perf_counter()
        self.metrics.in_flight.inc()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self._run_in_thread, action_call)
        except Exception:
            self.metrics.error(name)
            raise
        finally:
            self.metrics.in_flight.dec()
            self.metrics.seconds.labels(action=name).observe(time.perf_counter() - started)

    def _run_in_thread(self, action_call: dict[str, Any]):
        loop = getattr(self._local, "loop", None)
        if loop is None:  # one loop per worker thread, kept for its life
            loop = self._local.loop = asyncio.new_event_loop()
        return loop.run_until_complete(ActionExecutor.run(self, action_call))


def require_token(app: Sanic, token: str) -> None:
    """Refuses every route but /health (/webhook runs actions on the tracker it is given) without the
    token; /ready and /metrics also answer a direct loopback caller (a supervisor, a local Prometheus)."""
    expected = token.encode("utf-8")

    @app.on_request
    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if request.path in LOOPBACK_PATHS and direct_loopback(request):
            return None
        given = (request.args.get("token") or "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            return json_response({"error": "Unauthorised."}, status=401)
        return None


def database_state(context: ActionContext) -> str:
    """"ok", "unreachable" or "not connected" (the introductions service could not be built)."""
    service = context.introductions
    if service is None:
        return "not connected"
    try:
        with service.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "not reachable now"; no details (URLs hold passwords)
        return "unreachable"


def readiness(context: ActionContext) -> tuple[bool, dict[str, Any]]:
    services = context.services
    database = database_state(context)
    if services is None:
        return False, {"ready": False, "knowledge": "loading", "database": database}
    body = {
        "records": len(services.retriever),
        "generation": services.generation,
        "loaded_at": round(services.loaded_at, 3),
        "database": database,
    }
    ready = body["records"] > 0 and database == "ok"
    return ready, {"ready": ready, **body}


def watch_generations(context: ActionContext, metrics: ActionMetrics, *, connect: bool = True) -> None:
    """One look: loads a new serving generation, and (with `connect`) builds the introductions service
    if its database was unreachable until now, so a database that comes back is used without a restart."""
    services = context.services
    if services is None:
        return
    try:
        if services.refresh():
            metrics.reloads.inc()
        metrics.records.set(len(services.retriever))
    except Exception:  # noqa: BLE001 - a half-written or unreachable store: keep serving the old one
        logger.exception("could not load the serving catalogue generation; still serving %s", services.generation)
    if connect and context.introductions is None:
        context.introductions = build_introductions(context.settings, services.retriever)


def build_app(context: ActionContext, *, load: bool = True, token: str | None = None) -> Sanic:
    pool = ThreadPoolExecutor(max_workers=pool_size(context.settings.action_threads), thread_name_prefix="action")
    metrics = ActionMetrics()
    context.metrics = metrics
    executor = OffloadingExecutor(pool, metrics)
    for action in build_actions(context):
        executor.register_action(action)
    app = create_app(executor, cors_origins=[])
    require_token(app, token or secret(context.settings, "action_server_token"))
    # Loading a generation takes seconds: it never borrows a thread that actions are waiting for.
    watcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generation-watch")

    @app.get("/ready")
    async def ready(_request: Request) -> HTTPResponse:
        ok, body = await asyncio.get_running_loop().run_in_executor(watcher, readiness, context)
        return json_response(body, status=200 if ok else 503)

    @app.get("/metrics")
    async def prometheus(_request: Request) -> HTTPResponse:
        return raw(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    if load:

        @app.before_server_start
        async def load_knowledge(app: Sanic, _loop) -> None:  # noqa: ARG001 - Sanic's signature
            started = time.perf_counter()
            context.services = build_services(context.settings)
            context.introductions = build_introductions(context.settings, context.services.retriever)
            metrics.records.set(len(context.services.retriever))
            logger.info("action server ready in %.1fs", time.perf_counter() - started)

    @app.after_server_start
    async def start_watch(app: Sanic, _loop) -> None:  # noqa: ARG001
        app.add_task(_watch(context, metrics, watcher), name="generation-watch")

    @app.before_server_stop
    async def stop_pools(app: Sanic, _loop) -> None:  # noqa: ARG001
        await app.cancel_task("generation-watch", raise_exception=False)
        pool.shutdown(wait=False, cancel_futures=True)
        watcher.shutdown(wait=False, cancel_futures=True)

    return app


DATABASE_RETRY_SECONDS = 30.0  # an unreachable database is tried again this often (each try logs an error)


async def _watch(context: ActionContext, metrics: ActionMetrics, watcher: ThreadPoolExecutor) -> None:
    interval = max(0.2, context.settings.generation_poll_seconds)
    loop = asyncio.get_running_loop()
    last_try = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        connect = time.monotonic() - last_try >= DATABASE_RETRY_SECONDS
        if connect:
            last_try = time.monotonic()
        await loop.run_in_executor(watcher, partial(watch_generations, context, metrics, connect=connect))


def main() -> None:
    config = settings()
    parser = argparse.ArgumentParser(description="Galaxy Assistant action server")
    parser.add_argument("--host", default=config.action_host)
    parser.add_argument("--port", type=int, default=config.action_port)
    args = parser.parse_args()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(ActionContext(settings=config))
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
