"""`python -m bot.channels run …`: `rasa run` with the private surfaces of the settings.

Rasa's HTTP API gets `--auth-token` (RASA_AUTH_TOKEN, or the one generated into the state directory) and
CORS the allow-list WIDGET_ORIGINS, never "*"; endpoints.yml reads ACTION_SERVER_TOKEN, set here the same
way. The tokens go to Rasa inside this process, so they never appear on a command line (`ps`)."""
from __future__ import annotations

import os
import sys

from knowledge.settings import secret, settings

SET_HERE = ("--auth-token", "--cors", "--jwt-secret")


def rasa_argv(argv: list[str]) -> list[str]:
    if any(arg.split("=", 1)[0] in SET_HERE for arg in argv):
        raise SystemExit(f"{', '.join(SET_HERE)} come from the settings (RASA_AUTH_TOKEN, WIDGET_ORIGINS)")
    config = settings()
    origins = list(config.widget_origins)
    # "--auth-token=…" in one word: a token may start with "-", which argparse would take for an option.
    return ["rasa", *argv, f"--auth-token={secret(config, 'rasa_auth_token')}", *(["--cors", *origins] if origins else [])]


def main() -> None:
    config = settings()
    os.environ["ACTION_SERVER_TOKEN"] = secret(config, "action_server_token")
    # Empty counts as unset: `.env.example` lists the variable with an empty value.
    if not os.environ.get("ACTION_ENDPOINT_URL", "").strip():
        os.environ["ACTION_ENDPOINT_URL"] = config.action_url
    # Rasa's telemetry and its Sentry error reports would send data off the machine (errors can carry what
    # users typed); the closed network here refuses them anyway, after retries.
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    sys.argv = rasa_argv(sys.argv[1:])
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
