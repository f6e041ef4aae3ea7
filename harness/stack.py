"""Starts the real action server, Rasa server and partner web app on free loopback ports for end-to-end
tests and benchmarks, and always stops them. Every token of the private surfaces is set (random) in the
environment the processes share, so a bridge with a state directory of its own agrees with them."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "galaxy.tar.gz"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
PYTHON = ROOT / ".venv" / "bin" / "python"
SEED = [ROOT / "knowledge" / "data" / "partners.jsonl", ROOT / "knowledge" / "data" / "solutions.jsonl"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, workdir: Path, catalogue: list[Path] | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.catalogue = catalogue or SEED
        self.action_port = free_port()
        self.rasa_port = free_port()
        self.partner_port = free_port()
        self.site_port = free_port()  # a page on another origin that may embed the widget (WIDGET_ORIGINS)
        self.tokens = {name: secrets.token_urlsafe(24) for name in (
            "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "REST_CHANNEL_TOKEN", "TELEGRAM_CHANNEL_TOKEN", "SESSION_SECRET")}
        self.env = dict(
            os.environ,
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONPATH=str(ROOT),
            GALAXY_STATE_DIR=str(self.workdir / "state"),
            GALAXY_STORE_DIR=str(self.workdir / "store"),
            ACTION_PORT=str(self.action_port),
            RASA_PORT=str(self.rasa_port),
            PARTNER_PORT=str(self.partner_port),
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            PUBLIC_BASE_URL=f"http://127.0.0.1:{self.partner_port}",
            WIDGET_ORIGINS=f"http://127.0.0.1:{self.rasa_port},http://localhost:{self.site_port}",
            # Every test talks from 127.0.0.1: the address limit is out of the way, the session limit is
            # the default (tests/test_e2e_security.py exceeds it).
            RATE_LIMIT_PER_MINUTE="30",
            RATE_LIMIT_PER_IP_PER_MINUTE="100000",
            **self.tokens,
            DATABASE_URL=f"sqlite:///{self.workdir / 'state' / 'introductions.sqlite3'}",
            INTRODUCTION_SECRET="e2e-test-secret-not-for-production",
        )
        self.env.update(extra_env or {})
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.partners: subprocess.Popen | None = None
        self._sessions: dict[str, str] = {}
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.tokens['REST_CHANNEL_TOKEN']}"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def partner_url(self) -> str:
        return f"http://127.0.0.1:{self.partner_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def build_store(self) -> None:
        subprocess.run([str(PYTHON), "-m", "knowledge", "ingest", *map(str, self.catalogue)], env=self.env, check=True, cwd=ROOT, capture_output=True)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")
        # A process group of its own, so stopping also stops anything it started.
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start_actions(self) -> None:
        self.actions = self._spawn("actions", [str(PYTHON), "-m", "actions", "--port", str(self.action_port)])
        self._wait(f"http://127.0.0.1:{self.action_port}/health", self.actions, "actions")

    def start_rasa(self) -> None:
        # As scripts/run_stack.sh: bot.channels gives Rasa its auth token and the CORS allow-list.
        self.rasa = self._spawn(
            "rasa",
            [
                str(RASA_PYTHON), "-m", "bot.channels", "run", "--enable-api", "--interface", "127.0.0.1",
                "--port", str(self.rasa_port), "--model", str(MODEL), "--endpoints", "endpoints.yml",
                "--credentials", "credentials.yml",
            ],
        )
        # /status answers once the model is loaded (409 before), and only with the API token.
        self._wait(f"{self.rasa_url}/status?token={self.tokens['RASA_AUTH_TOKEN']}", self.rasa, "rasa")

    def start_partners(self) -> None:
        self.partners = self._spawn("partners", [str(PYTHON), "-m", "introductions.web", "--port", str(self.partner_port)])
        self._wait(f"{self.partner_url}/health", self.partners, "partners")

    def start(self) -> "Stack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.build_store()
        try:
            self.start_partners()  # loads in the background while the others start
            self.start_actions()
            self.start_rasa()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, url: str, process: subprocess.Popen, name: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                if requests.get(url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} did not answer {url.split('?')[0]} within {timeout}s:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    @staticmethod
    def _terminate(process: subprocess.Popen | None) -> None:
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)

    def stop_actions(self) -> None:
        self._terminate(self.actions)

    def stop_rasa(self) -> None:
        self._terminate(self.rasa)

    def stop(self) -> None:
        self._terminate(self.rasa)
        self._terminate(self.actions)
        self._terminate(self.partners)

    def new_session(self) -> str:
        """A REST session issued by the server (what a trusted integration keeps for one user)."""
        issued = self.http.post(f"{self.rasa_url}/webhooks/rest/session", timeout=30)
        issued.raise_for_status()
        return issued.json()["session_id"]

    def session(self, sender: str) -> str:
        """The REST session a test calls `sender`, issued on first use."""
        if sender not in self._sessions:
            self._sessions[sender] = self.new_session()
        return self._sessions[sender]

    @staticmethod
    def conversation_id(session: str, channel: str = "rest") -> str:
        """The conversation a session opens (bot/channels/sessions.py): `<channel>:<random id>`."""
        return f"{channel}:{session.partition('.')[0]}"

    def post(self, message: str, sender: str = "e2e") -> requests.Response:
        return self.http.post(self.rest_url, json={"sender": self.session(sender), "message": message}, timeout=60)

    def send(self, message: str, sender: str = "e2e") -> list[dict]:
        reply = self.post(message, sender)
        reply.raise_for_status()
        return reply.json()

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Rasa's HTTP API with its token (`?token=`)."""
        params = {**kwargs.pop("params", {}), "token": self.tokens["RASA_AUTH_TOKEN"]}
        return requests.request(method, f"{self.rasa_url}{path}", params=params, timeout=60, **kwargs)

    def tracker(self, conversation_id: str) -> dict:
        reply = self.api("GET", f"/conversations/{conversation_id}/tracker")
        reply.raise_for_status()
        return reply.json()


def started(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A running stack for a module-scoped fixture (`yield from started(...)`), stopped afterwards."""
    import pytest

    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does)")
    running = Stack(workdir, extra_env=extra_env).start()
    try:
        yield running
    finally:
        running.stop()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


if __name__ == "__main__":  # manual use: python -m harness.stack DIR
    stack = Stack(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/galaxy-stack")).start()
    print(stack.rest_url, stack.partner_url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run `finally` on kill, too
    try:
        signal.pause()
    finally:
        stack.stop()
