"""Starts the real action server and Rasa server on free loopback ports for end-to-end tests
and benchmarks, and always stops them."""
from __future__ import annotations

import os
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
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
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
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            PUBLIC_BASE_URL=f"http://127.0.0.1:{self.action_port}",
            DATABASE_URL=f"sqlite:///{self.workdir / 'state' / 'introductions.sqlite3'}",
            INTRODUCTION_SECRET="e2e-test-secret-not-for-production",
        )
        self.env.update(extra_env or {})
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

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
        self.rasa = self._spawn(
            "rasa",
            [
                str(RASA), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(self.rasa_port),
                "--model", str(MODEL), "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                "--cors", "*",  # as scripts/run_stack.sh: the web widget is embedded on other origins
            ],
        )
        self._wait(f"{self.rasa_url}/status", self.rasa, "rasa")

    def start(self) -> "Stack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.build_store()
        try:
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
        raise RuntimeError(f"{name} did not answer {url} within {timeout}s:\n{self.log_tail(name)}")

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

    def send(self, message: str, sender: str = "e2e") -> list[dict]:
        reply = requests.post(self.rest_url, json={"sender": sender, "message": message}, timeout=60)
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
    print(stack.rest_url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run `finally` on kill, too
    try:
        signal.pause()
    finally:
        stack.stop()
