"""Server mode's lifecycle: prepare the stores (PostgreSQL data directory, databases), start supervisord
with the rendered configuration, start the processes in order (stores, action servers, Rasa workers, the
partner web app, the outbox worker, the Telegram bridge, nginx), wait until each answers, stop everything.

supervisord restarts whatever dies; this module only orders the first start and reports readiness.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from knowledge.settings import SECRET_NAMES, secret
from ops.topology import CONVERSATIONS_DB, DB_USER, INTRODUCTIONS_DB, Topology, postgres_bindir, running_as_root

START_TIMEOUT = 900.0  # Rasa workers load their model side by side; minutes on a busy 2-core machine


@dataclass(frozen=True)
class Probe:
    """One readiness check: a process name and whether it answered, with what it said."""

    name: str
    ready: bool
    detail: str


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: as root, its tools run as the `postgres` user the package creates.
    return ["runuser", "-u", "postgres", "--", *command] if running_as_root() else command


def init_postgres(topology: Topology) -> None:
    """A PostgreSQL cluster of the project's own under the state dir, password-protected (the password is a
    generated secret in the state dir), created once."""
    if (topology.postgres_data / "PG_VERSION").exists():
        return
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run `make system-deps` (Debian's postgresql)")
    topology.serve_dir.mkdir(parents=True, exist_ok=True)
    # initdb reads the password from a file, so it never appears on a command line.
    with tempfile.NamedTemporaryFile("w", dir=topology.serve_dir, prefix="pw-", delete=False) as handle:
        handle.write(topology.postgres_password())
    pwfile = Path(handle.name)
    try:
        if running_as_root():
            import shutil

            shutil.chown(pwfile, user="postgres")
            topology.postgres_data.mkdir(mode=0o700, exist_ok=True)
            shutil.chown(topology.postgres_data, user="postgres", group="postgres")
        subprocess.run(
            _as_postgres([str(bindir / "initdb"), "-D", str(topology.postgres_data), "-U", DB_USER,
                          f"--pwfile={pwfile}", "-A", "scram-sha-256", "-E", "UTF8"]),
            check=True, capture_output=True, text=True, timeout=180,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def create_databases(topology: Topology, timeout: float = 60.0) -> None:
    """Waits for the project's PostgreSQL to accept connections and creates the two databases if missing."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = psycopg.connect(
                host="127.0.0.1", port=topology.postgres_port, user=DB_USER, password=topology.postgres_password(),
                dbname="postgres", autocommit=True, connect_timeout=3,
            )
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    with connection:
        existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        for database in (CONVERSATIONS_DB, INTRODUCTIONS_DB):
            if database not in existing:
                # Names are our constants, not input: identifiers cannot be bound as parameters.
                connection.execute(f'CREATE DATABASE "{database}"')


def wait_for_redis(topology: Topology, timeout: float = 30.0) -> None:
    import redis

    client = redis.Redis.from_url(topology.lock_store_url, socket_timeout=2)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def ctl(topology: Topology, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*topology.supervisorctl(), *args], capture_output=True, text=True, timeout=120, check=check)


def supervisord_running(topology: Topology) -> bool:
    return ctl(topology, "pid", check=False).stdout.strip().isdigit()


def start(topology: Topology) -> None:
    """Starts everything and returns once every process answers (RuntimeError with the log tail if not)."""
    env = topology.environment()
    # Every process reads the same generated secrets: create them once before any starts.
    for name in SECRET_NAMES:
        secret(topology.config, name)
    if topology.managed_postgres:
        init_postgres(topology)
    topology.render()
    if supervisord_running(topology):
        ctl(topology, "reread", check=False)
        ctl(topology, "update", check=False)
    else:
        subprocess.run(topology.supervisord(), env=env, check=True, timeout=60)
        deadline = time.monotonic() + 30
        while not supervisord_running(topology):
            if time.monotonic() > deadline:
                raise RuntimeError(f"supervisord did not start: see {topology.logs}/supervisord.log")
            time.sleep(0.2)
    if topology.managed_postgres:
        ctl(topology, "start", "postgres")
        create_databases(topology)
    if topology.managed_redis:
        ctl(topology, "start", "redis")
        wait_for_redis(topology)
    # Action servers first (Rasa's warm-up turn calls them), then the Rasa workers side by side.
    ctl(topology, "start", "actions:*", "rasa:*", "partners", "outbox", *(["telegram"] if topology.telegram else []), "nginx")
    wait_ready(topology)


def stop(topology: Topology) -> None:
    if supervisord_running(topology):
        ctl(topology, "shutdown", check=False)
        pidfile = topology.run_dir / "supervisord.pid"
        deadline = time.monotonic() + 60
        while pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.2)


def probes(topology: Topology) -> list[Probe]:
    """Readiness of every process, from its own endpoint on loopback."""
    token = secret(topology.config, "rasa_auth_token")
    checks: list[tuple[str, str, dict[str, str]]] = []
    checks += [(f"actions-{i}", f"http://127.0.0.1:{p}/health", {}) for i, p in enumerate(topology.action_ports)]
    # /status answers once the model is loaded (409 before), and only with the API token.
    checks += [(f"rasa-{i}", f"http://127.0.0.1:{p}/status", {"token": token}) for i, p in enumerate(topology.rasa_ports)]
    checks.append(("partners", f"http://127.0.0.1:{topology.partner_port}/health", {}))
    checks.append(("nginx", f"http://127.0.0.1:{topology.serve_port}/webhooks/rest/", {}))
    if topology.telegram:
        checks.append(("telegram", f"http://127.0.0.1:{topology.telegram_metrics_port}/metrics", {}))
    found: list[Probe] = []
    for name, url, params in checks:
        try:
            reply = requests.get(url, params=params, timeout=3)
            detail = reply.text[:200] if reply.headers.get("content-type", "").startswith("application/json") else str(reply.status_code)
            if name.startswith("rasa") and reply.ok:
                ready = requests.get(f"{url.rsplit('/', 1)[0]}/ready", timeout=3)
                detail = ready.text[:200]
            if name == "telegram" and reply.ok:
                age = [l for l in reply.text.splitlines() if l.startswith("galaxy_telegram_last_update_age_seconds")]
                detail = f"last update {float(age[0].split()[-1]):.0f}s ago" if age else "no metrics"
            found.append(Probe(name, reply.ok, detail))
        except requests.RequestException as exc:
            found.append(Probe(name, False, type(exc).__name__))
    return found


def wait_ready(topology: Topology, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        waiting = [p for p in probes(topology) if not p.ready]
        if not waiting:
            return
        if time.monotonic() > deadline:
            names = ", ".join(p.name for p in waiting)
            raise RuntimeError(f"not ready after {timeout:.0f}s: {names}; logs in {topology.logs}/")
        time.sleep(1.0)


def status(topology: Topology) -> str:
    if not supervisord_running(topology):
        return "server mode is not running (make serve starts it)"
    lines = [ctl(topology, "status", check=False).stdout.rstrip(), "", "readiness:"]
    lines += [f"  {p.name:<12} {'ready' if p.ready else 'NOT READY':<10} {p.detail}" for p in probes(topology)]
    return "\n".join(lines)


def program_pid(topology: Topology, name: str) -> int:
    """The pid supervisor reports for a program (`rasa:rasa-0`, `outbox`), 0 when it is not running."""
    out = ctl(topology, "pid", name, check=False).stdout.strip()
    return int(out) if out.isdigit() else 0


def environment_for_tools(topology: Topology) -> dict[str, str]:
    """What a staff tool or a test needs to talk to the served stores (the same URLs as the processes)."""
    return {k: v for k, v in topology.environment().items() if k in (
        "TRACKER_STORE_URL", "DATABASE_URL", "LOCK_STORE_URL", "GALAXY_STATE_DIR", "GALAXY_STORE_DIR")} | {
        "PATH": os.environ.get("PATH", "")}
