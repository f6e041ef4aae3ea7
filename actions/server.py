"""The action server: rasa-sdk's webhook app with our actions, whose knowledge services are
loaded and warmed once when the server starts (not at import, not per request)."""
from __future__ import annotations

import argparse
import logging
import time

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from actions.context import ActionContext
from actions.decisions import install as install_decisions
from actions.registry import build_actions
from actions.telegram_partners import install as install_telegram_partners
from introductions.bootstrap import build_introductions
from knowledge.services import build_services
from knowledge.settings import settings

logger = logging.getLogger("actions.server")


def build_app(context: ActionContext, *, load: bool = True) -> Sanic:
    executor = ActionExecutor()
    for action in build_actions(context):
        executor.register_action(action)
    app = create_app(executor, cors_origins=[])
    install_decisions(app, context)
    install_telegram_partners(app, context)

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
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--port", type=int, default=config.action_port)
    args = parser.parse_args()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(ActionContext(settings=config))
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
