"""Server mode (`python -m ops`) on free loopback ports for tests and benchmarks: its own state directory,
PostgreSQL, Redis, N Rasa workers, action servers and nginx, stopped and removed afterwards whatever
happens. Conversations go through nginx's one public port, as a user's would; single workers are reached
on their own ports when a test needs to choose."""
from __future__ import annotations

import os
import secrets
import signal
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from harness.stack import MODEL, PYTHON, ROOT, SEED

PORT_SPAN = 44  # ops/topology.py: the internal ports run from SERVE_INTERNAL_PORT to +43


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_range(span: int = PORT_SPAN) -> int:
    """The first of `span` consecutive free loopback ports (in a range no other harness hands out)."""
    rng = secrets.SystemRandom()
    for _ in range(200):
        base = rng.randrange(20000, 30000)
        if all(_port_free(p) for p in range(base, base + span + 1)):
            return base
    raise RuntimeError("no free range of loopback ports found")


class ServedStack:
    def __init__(self, rasa_workers: int = 2, action_workers: int = 1, extra_env: dict[str, str] | None = None) -> None:
        # Under /tmp itself and world-traversable: PostgreSQL runs as `postgres` and must reach its data.
        self.workdir: Path | None = Path(tempfile.mkdtemp(prefix="galaxy-serve-"))
        self.workdir.chmod(0o755)
        self.state_dir = self.workdir / "state"
        self.base = free_port_range()
        self.serve_port = self.base + PORT_SPAN  # the public port, just past the internal ones
        self.rasa_workers = rasa_workers
        self.tokens = {name: secrets.token_urlsafe(24) for name in (
            "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "REST_CHANNEL_TOKEN", "TELEGRAM_CHANNEL_TOKEN", "SESSION_SECRET")}
        self.env = {
            **os.environ,
            "GALAXY_ENV_FILE": "",  # the developer's .env stays out of the tests
            "GALAXY_STATE_DIR": str(self.workdir / "state"),
            "GALAXY_STORE_DIR": str(self.workdir / "state" / "store"),
            "SERVE_PORT": str(self.serve_port),
            "SERVE_INTERNAL_PORT": str(self.base),
            "RASA_WORKERS": str(rasa_workers),
            "ACTION_WORKERS": str(action_workers),
            "RATE_LIMIT_PER_MINUTE": "1000",
            "RATE_LIMIT_PER_IP_PER_MINUTE": "100000",
            "INTRODUCTION_SECRET": "served-test-secret-not-for-production",
            "TELEGRAM_BOT_TOKEN": "",
            **self.tokens,
            **(extra_env or {}),
        }
        for name in ("TRACKER_STORE_URL", "DATABASE_URL", "LOCK_STORE_URL", "PUBLIC_BASE_URL", "WIDGET_ORIGINS"):
            self.env.pop(name, None)  # server mode brings its own
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.tokens['REST_CHANNEL_TOKEN']}"
        self._sessions: dict[str, str] = {}

    @classmethod
    def attached(cls, state_dir: Path, serve_port: int, base: int, rasa_workers: int = 2) -> ServedStack:
        """A handle on a server mode already running (`python -m ops start`) with the tokens generated into
        its state directory; stop() leaves it running."""
        stack = cls.__new__(cls)
        stack.workdir = None
        stack.state_dir = Path(state_dir)
        stack.base, stack.serve_port, stack.rasa_workers = base, serve_port, rasa_workers
        stack.tokens = {name.upper(): (stack.state_dir / name).read_text().strip()
                        for name in ("rasa_auth_token", "rest_channel_token")}
        stack.http = requests.Session()
        stack.http.headers["Authorization"] = f"Bearer {stack.tokens['REST_CHANNEL_TOKEN']}"
        stack._sessions = {}
        return stack

    # --- addresses ---
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.serve_port}"

    def worker_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.base + index}"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs" / "serve"

    # --- lifecycle ---
    def ops(self, command: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([str(PYTHON), "-m", "ops", command], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def start(self) -> ServedStack:
        if not MODEL.exists():
            raise RuntimeError(f"no trained model at {MODEL}: run `make train` (make test does)")
        try:
            subprocess.run([str(PYTHON), "-m", "knowledge", "ingest", *map(str, SEED)], cwd=ROOT, env=self.env,
                           check=True, capture_output=True, timeout=900)
            started = self.ops("start")
            if started.returncode != 0:
                raise RuntimeError(f"python -m ops start failed:\n{started.stdout}\n{started.stderr}\n{self.log_tails()}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.workdir is None:
            return  # attached: not ours to stop
        try:
            self.ops("stop", timeout=120)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tails(self, lines: int = 15) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")) if self.logs.exists() else []:
            out.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)

    # --- supervisor ---
    def supervisorctl(self, *args: str) -> str:
        conf = self.state_dir / "serve" / "supervisord.conf"
        result = subprocess.run([str(PYTHON.parent / "supervisorctl"), "-c", str(conf), *args], capture_output=True,
                                text=True, timeout=60, check=False)
        return result.stdout.strip()

    def pid(self, program: str) -> int:
        out = self.supervisorctl("pid", program)
        return int(out) if out.isdigit() else 0

    def kill(self, program: str, *, wait: bool = True, timeout: float = 60) -> int:
        """kill -9 of `program`'s process group; returns its pid, with `wait` once the process has exited.

        The signal is delivered at once but the exit is not: while the kernel frees a large process its
        listening socket still completes handshakes, and a request written to it then is reset. nginx does
        not resend a POST it has already written (the worker might have applied it), so a test that means
        "after the worker died" waits for the death itself; the chaos benchmark does not, as a user
        cannot."""
        pid = self.pid(program)
        assert pid, f"{program} is not running:\n{self.supervisorctl('status')}"
        os.killpg(pid, signal.SIGKILL)
        if not wait:
            return pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                return pid  # exited and reaped by supervisord
            if fields and fields[0] in ("Z", "X"):
                return pid  # exited, its files (and sockets) closed, not yet reaped
            time.sleep(0.05)
        raise AssertionError(f"{program} (pid {pid}) did not exit within {timeout}s of SIGKILL")

    def state(self, program: str) -> str:
        return self.supervisorctl("status", program).split()[1] if self.supervisorctl("status", program) else ""

    def wait_restarted(self, program: str, old_pid: int, timeout: float = 120) -> int:
        """Waits until supervisor runs `program` again under a new pid; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pid(program)
            if pid and pid != old_pid and self.state(program) == "RUNNING":
                return pid
            time.sleep(0.5)
        raise AssertionError(f"{program} was not restarted within {timeout}s:\n{self.supervisorctl('status')}")

    def wait_worker_ready(self, index: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.worker_url(index)}/status", params={"token": self.tokens["RASA_AUTH_TOKEN"]},
                                timeout=3).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise AssertionError(f"rasa-{index} did not answer /status within {timeout}s:\n{self.log_tails()}")

    # --- conversations ---
    def session(self, sender: str) -> str:
        if sender not in self._sessions:
            issued = self.http.post(f"{self.url}/webhooks/rest/session", timeout=30)
            issued.raise_for_status()
            self._sessions[sender] = issued.json()["session_id"]
        return self._sessions[sender]

    def conversation_id(self, sender: str) -> str:
        return "rest:" + self.session(sender).partition(".")[0]

    def post(self, message: str, sender: str, base: str | None = None) -> requests.Response:
        return self.http.post(f"{base or self.url}/webhooks/rest/webhook",
                              json={"sender": self.session(sender), "message": message}, timeout=120)

    def send(self, message: str, sender: str, base: str | None = None) -> list[dict]:
        reply = self.post(message, sender, base)
        reply.raise_for_status()
        return reply.json()

    def tracker(self, sender: str, worker: int = 0) -> dict:
        return self.tracker_of(self.conversation_id(sender), worker)

    def tracker_of(self, conversation_id: str, worker: int = 0) -> dict:
        """A conversation's tracker by its id (`rest:…`, `socketio:…`), read from one worker."""
        reply = requests.get(f"{self.worker_url(worker)}/conversations/{conversation_id}/tracker",
                             params={"token": self.tokens["RASA_AUTH_TOKEN"]}, timeout=60)
        reply.raise_for_status()
        return reply.json()
