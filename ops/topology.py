"""What `make serve` runs and where: the processes, their loopback ports, the stores, and the environment
they share; rendered into supervisord.conf and nginx.conf (templates in ops/templates/) under the state dir.

Ports: nginx on SERVE_PORT (the one public port); every other process on loopback from SERVE_INTERNAL_PORT
on: Rasa workers at +0.., action servers at +20.., the action-server balancer at +40, PostgreSQL +41,
Redis +42, the partner web app +43, the Telegram bridge's metrics +39.
"""
from __future__ import annotations

import glob
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from knowledge.settings import PROJECT_ROOT, Settings, generated_secret

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_WORKERS = 20  # of each kind: the port plan leaves room for 20
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
MODEL = PROJECT_ROOT / "models" / "galaxy.tar.gz"
DB_USER = "galaxy"
CONVERSATIONS_DB = "galaxy_conversations"
INTRODUCTIONS_DB = "galaxy_introductions"


@dataclass(frozen=True)
class Program:
    name: str
    command: str
    startsecs: int = 5
    stopsignal: str = "TERM"
    user: str = ""


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def running_as_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True)
class Topology:
    config: Settings
    rasa_workers: int
    action_workers: int
    serve_port: int
    base_port: int
    # PostgreSQL and Redis are the project's own (data under the state dir) unless their URLs are set.
    managed_postgres: bool
    managed_redis: bool
    telegram: bool
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, config: Settings) -> Topology:
        for name, count in (("RASA_WORKERS", config.rasa_workers), ("ACTION_WORKERS", config.action_workers)):
            if not 1 <= count <= MAX_WORKERS:
                raise ValueError(f"{name} must be between 1 and {MAX_WORKERS}, got {count}")
        return cls(
            config=config,
            rasa_workers=config.rasa_workers,
            action_workers=config.action_workers,
            serve_port=config.serve_port,
            base_port=config.serve_internal_port,
            # The embedded defaults are SQLite files: server mode brings its own PostgreSQL instead.
            managed_postgres=config.tracker_store_url.startswith("sqlite") or config.database_url.startswith("sqlite"),
            managed_redis=not config.lock_store_url,
            telegram=bool(config.telegram_bot_token),
        )

    # --- where things live ---
    @property
    def serve_dir(self) -> Path:
        return self.config.state_dir / "serve"

    @property
    def run_dir(self) -> Path:
        return self.serve_dir / "run"

    @property
    def logs(self) -> Path:
        return self.config.state_dir / "logs" / "serve"

    @property
    def postgres_data(self) -> Path:
        return self.serve_dir / "postgres"

    @property
    def supervisord_conf(self) -> Path:
        return self.serve_dir / "supervisord.conf"

    @property
    def nginx_conf(self) -> Path:
        return self.serve_dir / "nginx.conf"

    # --- ports ---
    @property
    def rasa_ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.rasa_workers)]

    @property
    def action_ports(self) -> list[int]:
        return [self.base_port + 20 + i for i in range(self.action_workers)]

    @property
    def action_lb_port(self) -> int:
        return self.base_port + 40

    @property
    def postgres_port(self) -> int:
        return self.base_port + 41

    @property
    def redis_port(self) -> int:
        return self.base_port + 42

    @property
    def partner_port(self) -> int:
        return self.base_port + 43

    @property
    def telegram_metrics_port(self) -> int:
        return self.base_port + 39

    @property
    def public_url(self) -> str:
        return f"http://{self.config.host}:{self.serve_port}"

    def postgres_password(self) -> str:
        return generated_secret(self.config.state_dir, "postgres_password")

    def postgres_url(self, database: str) -> str:
        return f"postgresql+psycopg://{DB_USER}:{self.postgres_password()}@127.0.0.1:{self.postgres_port}/{database}"

    @property
    def tracker_store_url(self) -> str:
        configured = self.config.tracker_store_url
        return self.postgres_url(CONVERSATIONS_DB) if configured.startswith("sqlite") else configured

    @property
    def database_url(self) -> str:
        configured = self.config.database_url
        return self.postgres_url(INTRODUCTIONS_DB) if configured.startswith("sqlite") else configured

    @property
    def lock_store_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0" if self.managed_redis else self.config.lock_store_url

    def environment(self) -> dict[str, str]:
        """The environment every supervised process inherits (URLs with the generated database password
        stay in the environment, never on a command line or in a generated file)."""
        env = dict(os.environ)
        env.update(
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            RASA_TELEMETRY_ENABLED="false",
            # Rasa's and the partner app's Sanic trust one proxy (nginx, which sets X-Forwarded-For to the
            # client's address): rate limits count each client, not nginx.
            SANIC_PROXIES_COUNT="1",
            PYTHONPATH=str(PROJECT_ROOT),
            GALAXY_STATE_DIR=str(self.config.state_dir),
            GALAXY_STORE_DIR=str(self.config.store_dir),
            TRACKER_STORE_URL=self.tracker_store_url,
            DATABASE_URL=self.database_url,
            LOCK_STORE_URL=self.lock_store_url,
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_lb_port}/webhook",
            # The bridge and the staff tools reach Rasa through nginx, like everyone else.
            RASA_PORT=str(self.serve_port),
            PARTNER_PORT=str(self.partner_port),
            TELEGRAM_METRICS_PORT=str(self.telegram_metrics_port),
            PUBLIC_BASE_URL=self.config.public_base_url
            if os.environ.get("PUBLIC_BASE_URL", "").strip()
            else self.public_url,
        )
        origins = [o for o in self.config.widget_origins if not o.endswith(f":{self.config.rasa_port}")]
        env["WIDGET_ORIGINS"] = ",".join(dict.fromkeys([self.public_url, *origins]))
        env.update(self.extra)
        return env

    def programs(self) -> list[Program]:
        python = VENV_BIN / "python"
        programs: list[Program] = []
        if self.managed_postgres:
            bindir = postgres_bindir()
            if bindir is None:
                raise RuntimeError("PostgreSQL is not installed: run `make system-deps` (Debian's postgresql)")
            programs.append(Program(
                "postgres",
                f"{bindir / 'postgres'} -D {self.postgres_data} -c listen_addresses=127.0.0.1 -p {self.postgres_port}"
                f" -c unix_socket_directories={self.run_dir} -c max_connections=100",
                startsecs=3, stopsignal="INT", user="postgres" if running_as_root() else "",
            ))
        if self.managed_redis:
            redis = shutil.which("redis-server")
            if redis is None:
                raise RuntimeError("Redis is not installed: run `make system-deps` (Debian's redis-server)")
            # Locks only: nothing to keep on disk.
            programs.append(Program(
                "redis",
                f"{redis} --bind 127.0.0.1 --port {self.redis_port} --dir {self.serve_dir} --save '' "
                "--appendonly no --protected-mode yes",
                startsecs=2,
            ))
        for i, port in enumerate(self.action_ports):
            programs.append(Program(f"actions-{i}", f"{python} -m actions --host 127.0.0.1 --port {port}", startsecs=5))
        for i, port in enumerate(self.rasa_ports):
            programs.append(Program(
                f"rasa-{i}",
                f"{RASA_PYTHON} -m bot.channels run --enable-api --interface 127.0.0.1 --port {port} --model {MODEL}"
                f" --endpoints endpoints.yml --credentials credentials.yml",
                startsecs=10,
            ))
        programs.append(Program(
            "partners", f"{python} -m introductions.web --host 127.0.0.1 --port {self.partner_port} --no-deliver", startsecs=5
        ))
        programs.append(Program("outbox", f"{python} -m introductions worker", startsecs=5))
        if self.telegram:
            programs.append(Program("telegram", f"{python} -m bot.telegram", startsecs=5))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        programs.append(Program(
            "nginx", f"{nginx} -e {self.logs}/nginx-error.log -c {self.nginx_conf} -g 'daemon off;'",
            startsecs=2, stopsignal="QUIT",
        ))
        return programs

    def groups(self) -> dict[str, list[str]]:
        return {
            "rasa": [f"rasa-{i}" for i in range(self.rasa_workers)],
            "actions": [f"actions-{i}" for i in range(self.action_workers)],
        }

    def render(self) -> None:
        """Writes supervisord.conf and nginx.conf into the state directory."""
        for directory in (self.serve_dir, self.run_dir, self.logs, self.serve_dir / "nginx"):
            directory.mkdir(parents=True, exist_ok=True)
        if running_as_root():
            # nginx's workers run as www-data, postgres as postgres: they need their own directories.
            _chown(self.serve_dir / "nginx", "www-data")
            _chown(self.run_dir, "postgres")
        jinja = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True)
        # Members of a group are listed there, not as programs of their own name.
        self.supervisord_conf.write_text(jinja.get_template("supervisord.conf.j2").render(
            root=PROJECT_ROOT, run=self.run_dir, logs=self.logs, programs=self.programs(), groups=self.groups(),
        ))
        self.nginx_conf.write_text(jinja.get_template("nginx.conf.j2").render(
            user="www-data" if running_as_root() else "", run=self.run_dir, logs=self.logs,
            nginx_tmp=self.serve_dir / "nginx", rasa_ports=self.rasa_ports, action_ports=self.action_ports,
            partner_port=self.partner_port, public_host=self.config.host, serve_port=self.serve_port,
            action_lb_port=self.action_lb_port,
        ))

    def supervisorctl(self) -> list[str]:
        return [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(self.supervisord_conf)]

    def supervisord(self) -> list[str]:
        return [str(Path(sys.executable).parent / "supervisord"), "-c", str(self.supervisord_conf)]


def _chown(path: Path, user: str) -> None:
    shutil.chown(path, user=user, group=None)
