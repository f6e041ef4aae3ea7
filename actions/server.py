"""The action server: rasa-sdk's webhook app with our actions, whose knowledge services are
loaded and warmed once when the server starts (not at import, not per request).

It is private: it listens on loopback (ACTION_HOST) and runs actions only for a caller that holds
ACTION_SERVER_TOKEN, which Rasa sends as `?token=` (endpoints.yml). Partners' pages and the bridge's
endpoints live in the partner web app (`python -m introductions.web`), never here."""
from __future__ import annotations

import argparse
import hmac
import logging
import time

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json as json_response

from actions.context import ActionContext
from actions.registry import build_actions
from introductions.bootstrap import build_introductions
from knowledge.services import build_services
from knowledge.settings import secret, settings

logger = logging.getLogger("actions.server")


OPEN_PATHS = frozenset({"/health"})  # what a caller without the token may reach


def require_token(app: Sanic, token: str) -> None:
    """Refuses every route but /health (/webhook runs actions on the tracker it is given) without the token."""
    expected = token.encode("utf-8")

    @app.on_request
    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = (request.args.get("token") or "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            return json_response({"error": "Unauthorised."}, status=401)
        return None


def build_app(context: ActionContext, *, load: bool = True, token: str | None = None) -> Sanic:
    executor = ActionExecutor()
    for action in build_actions(context):
        executor.register_action(action)
    app = create_app(executor, cors_origins=[])
    require_token(app, token or secret(context.settings, "action_server_token"))

    if load:

        @app.before_server_start
        async def load_knowledge(app: Sanic, _loop) -> None:  # noqa: ARG001 - Sanic's signature
            started = time.perf_counter()
            context.services = build_services(context.settings)
            context.introductions = build_introductions(context.settings, context.services.retriever)
            logger.info("action server ready in %.1fs", time.perf_counter() - started)

    return app


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
