"""Settings of every Galaxy Assistant process, read once from the environment.

Both environments (Rasa's Python 3.10 and the action server's 3.11) import it; besides the standard library
it needs only python-dotenv, which loads the project's `.env` (or GALAXY_ENV_FILE) for every entry point
without overriding what the environment already sets. Defaults run on one machine with nothing installed;
`.env.example` lists every variable.
"""
from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"


# A public address, never a person's: who users are referred to when the assistant cannot help.
PUBLIC_CONTACT = "https://www.southsouth-galaxy.org"
# With no SMTP server configured, mail lands in files under the state directory, addressed here.
LOCAL_BROKER_EMAIL = "galaxy-broker@localhost"


def load_env_file() -> Path | None:
    """Loads `.env` (GALAXY_ENV_FILE, else the project's) into the environment, never overriding a variable
    that is already set; GALAXY_ENV_FILE set to an empty value turns it off (the tests do)."""
    from dotenv import load_dotenv

    configured = os.environ.get("GALAXY_ENV_FILE")
    if configured is not None and not configured.strip():
        return None
    path = Path(configured) if configured else PROJECT_ROOT / ".env"
    if not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a typo in .env must fail loudly, at start-up
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    state_dir: Path = PROJECT_ROOT / ".galaxy"
    store_dir: Path = PROJECT_ROOT / ".galaxy" / "store"
    catalogue_paths: tuple[Path, ...] = field(
        default_factory=lambda: (DATA_DIR / "partners.jsonl", DATA_DIR / "solutions.jsonl")
    )
    faq_path: Path = DATA_DIR / "faq.jsonl"
    embed_backend: str = "onnx"
    # Where the ONNX export of MiniLM is cached (shared by every state dir: it depends on the model only).
    onnx_dir: Path = PROJECT_ROOT / "models" / "onnx"
    # Imports also embed with the multilingual encoder, so French, Russian or Arabic needs find
    # English records (knowledge.multilingual); off: English-only search, faster imports.
    multilingual_search: bool = True
    log_level: str = "INFO"
    unossc_contact: str = PUBLIC_CONTACT
    # Brokered introductions (introductions/): store, SMTP delivery, signed links, retention.
    # repr=False: a URL may hold a password, and settings may be printed.
    database_url: str = field(default=f"sqlite:///{PROJECT_ROOT / '.galaxy' / 'introductions.sqlite3'}", repr=False)
    smtp_host: str = ""  # empty: mail goes to files in mail_dir
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "Galaxy Assistant <galaxy-assistant@localhost>"
    smtp_starttls: bool = False
    # Empty: a random secret is generated into state_dir/secret on first use (one machine only).
    introduction_secret: str = field(default="", repr=False)
    public_base_url: str = "http://127.0.0.1:5055"
    broker_email: str = LOCAL_BROKER_EMAIL
    introductions_per_day: int = 5
    introduction_ttl_days: int = 14
    retention_days: int = 180
    # Telegram (bot/telegram/): the bridge runs only when a token is set. The base URL is a setting so
    # tests point it at a local fake Bot API; it is followed by the token, as Telegram's own is.
    telegram_bot_token: str = field(default="", repr=False)
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_mode: str = "polling"  # or "webhook"
    telegram_webhook_url: str = ""  # public HTTPS URL Telegram posts updates to (webhook mode)
    telegram_webhook_secret: str = field(default="", repr=False)
    telegram_webhook_port: int = 8443
    telegram_bot_username: str = ""  # for the t.me deep links `make run` and the staff CLI print
    # --- Conversations and local mail ---
    # Rasa's tracker store (bot/tracker_store.py): any SQL URL; default an SQLite file in the state dir.
    tracker_store_url: str = field(default=f"sqlite:///{PROJECT_ROOT / '.galaxy' / 'conversations.sqlite3'}", repr=False)
    # Where mail goes as one .eml file per message when SMTP_HOST is empty.
    mail_dir: Path = PROJECT_ROOT / ".galaxy" / "mail"

    @property
    def mail_to_files(self) -> bool:
        return not self.smtp_host
    # --- Hand-offs ---
    # Mailbox of the UNOSSC staff who answer "talk to a person" (introductions/handoffs.py); empty: BROKER_EMAIL.
    staff_email: str = ""

    @property
    def staff_mailbox(self) -> str:
        """Where hand-offs are mailed: STAFF_EMAIL, else the broker's address."""
        return self.staff_email or self.broker_email

    # --- Private surfaces ---
    # Tokens and secrets of the private surfaces. Empty: generated into state_dir on first use
    # (`generated_secret`), which works when every process runs on one machine; set them in production.
    rasa_auth_token: str = field(default="", repr=False)  # Rasa's HTTP API (--auth-token)
    action_server_token: str = field(default="", repr=False)  # Rasa -> action server (?token=)
    rest_channel_token: str = field(default="", repr=False)  # trusted integrations on the REST channel
    telegram_channel_token: str = field(default="", repr=False)  # the bridge's own channel
    session_secret: str = field(default="", repr=False)  # signs the conversation ids the channels issue
    action_host: str = "127.0.0.1"  # the action server is private: loopback unless told otherwise
    partner_host: str = "127.0.0.1"  # the public partner web app (accept/decline pages, bridge endpoints)
    partner_port: int = 5056
    widget_origins: tuple[str, ...] = ("http://127.0.0.1:5005",)  # CORS allow-list of Rasa and socket.io
    rate_limit_per_minute: int = 30  # messages per conversation (session) and minute, REST and socket.io
    rate_limit_per_ip_per_minute: int = 120  # messages per client address and minute, REST and socket.io
    # --- Staff analytics (analytics/) ---
    # The dashboard (`python -m analytics.web`): its own port, loopback unless told otherwise, behind a token.
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 5057
    dashboard_token: str = field(default="", repr=False)  # empty: generated into state_dir/dashboard_token
    dashboard_refresh_seconds: int = 300  # how often the dashboard re-reads the stores
    # --- Action server (server mode) ---
    # A Chroma server holding the catalogue generations (e.g. http://127.0.0.1:8000); empty: the local
    # persistent store under GALAXY_STORE_DIR.
    chroma_url: str = ""
    # Threads that run actions off the event loop (0: one per CPU core).
    action_threads: int = 0
    # How often an action server looks for a newly imported catalogue generation, in seconds.
    generation_poll_seconds: float = 2.0
    # --- Server mode (ops/, make serve) ---
    # Rasa's lock store (bot/lock_store.py): a redis:// URL; empty: in memory (one Rasa process, make run).
    lock_store_url: str = field(default="", repr=False)
    serve_port: int = 8088  # nginx, the one public port of make serve
    rasa_workers: int = 2
    action_workers: int = 2
    # First of the loopback ports make serve gives its internal processes (Rasa and action workers, ...).
    serve_internal_port: int = 5100
    telegram_metrics_port: int = 0  # the bridge's Prometheus metrics on loopback; 0: none

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}/webhook"

    @property
    def partner_url(self) -> str:
        return f"http://{self.partner_host}:{self.partner_port}"


def load_settings() -> Settings:
    load_env_file()
    host = _env("GALAXY_HOST", "127.0.0.1")
    action_port = _env_int("ACTION_PORT", 5055)
    state_dir = Path(_env("GALAXY_STATE_DIR", str(PROJECT_ROOT / ".galaxy")))
    catalogue = os.environ.get("GALAXY_CATALOGUE", "").strip()
    paths = (
        tuple(Path(p) for p in catalogue.split(os.pathsep) if p)
        if catalogue
        else Settings().catalogue_paths
    )
    unossc_contact = _env("UNOSSC_CONTACT", PUBLIC_CONTACT)
    rasa_port = _env_int("RASA_PORT", 5005)
    partner_host = _env("PARTNER_HOST", host)  # --- Private surfaces ---
    partner_port = _env_int("PARTNER_PORT", 5056)
    return Settings(
        host=host,
        rasa_port=rasa_port,
        action_port=action_port,
        state_dir=state_dir,
        store_dir=Path(_env("GALAXY_STORE_DIR", str(state_dir / "store"))),
        catalogue_paths=paths,
        faq_path=Path(_env("GALAXY_FAQ", str(DATA_DIR / "faq.jsonl"))),
        embed_backend=_env("GALAXY_EMBED_BACKEND", "onnx").lower(),
        onnx_dir=Path(_env("GALAXY_ONNX_DIR", str(PROJECT_ROOT / "models" / "onnx"))),
        multilingual_search=_env_bool("GALAXY_MULTILINGUAL_SEARCH", True),
        log_level=_env("LOG_LEVEL", "INFO").upper(),
        unossc_contact=unossc_contact,
        database_url=_env("DATABASE_URL", f"sqlite:///{state_dir / 'introductions.sqlite3'}"),
        smtp_host=os.environ.get("SMTP_HOST", "").strip(),
        smtp_port=_env_int("SMTP_PORT", 25),
        smtp_user=_env("SMTP_USER", ""),
        smtp_password=os.environ.get("SMTP_PASSWORD", ""),
        smtp_from=_env("SMTP_FROM", "Galaxy Assistant <galaxy-assistant@localhost>"),
        smtp_starttls=_env_bool("SMTP_STARTTLS", False),
        introduction_secret=os.environ.get("INTRODUCTION_SECRET", "").strip(),
        # The accept/decline links are served by the partner web app (see the private surfaces below).
        public_base_url=_env("PUBLIC_BASE_URL", f"http://{partner_host}:{partner_port}").rstrip("/"),
        broker_email=_env("BROKER_EMAIL", LOCAL_BROKER_EMAIL),
        introductions_per_day=_env_int("INTRODUCTIONS_PER_DAY", 5),
        introduction_ttl_days=_env_int("INTRODUCTION_TTL_DAYS", 14),
        retention_days=_env_int("RETENTION_DAYS", 180),
        telegram_bot_token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
        telegram_base_url=_env("TELEGRAM_BASE_URL", "https://api.telegram.org/bot"),
        telegram_mode=_env("TELEGRAM_MODE", "polling").lower(),
        telegram_webhook_url=_env("TELEGRAM_WEBHOOK_URL", ""),
        telegram_webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
        telegram_webhook_port=_env_int("TELEGRAM_WEBHOOK_PORT", 8443),
        telegram_bot_username=_env("TELEGRAM_BOT_USERNAME", "").lstrip("@"),
        # --- Conversations and local mail ---
        tracker_store_url=_env("TRACKER_STORE_URL", f"sqlite:///{state_dir / 'conversations.sqlite3'}"),
        mail_dir=Path(_env("MAIL_DIR", str(state_dir / "mail"))),
        # --- Hand-offs ---
        staff_email=_env("STAFF_EMAIL", ""),
        # --- Private surfaces ---
        rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN", "").strip(),
        action_server_token=os.environ.get("ACTION_SERVER_TOKEN", "").strip(),
        rest_channel_token=os.environ.get("REST_CHANNEL_TOKEN", "").strip(),
        telegram_channel_token=os.environ.get("TELEGRAM_CHANNEL_TOKEN", "").strip(),
        session_secret=os.environ.get("SESSION_SECRET", "").strip(),
        action_host=_env("ACTION_HOST", "127.0.0.1"),
        partner_host=partner_host,
        partner_port=partner_port,
        widget_origins=tuple(
            origin.strip().rstrip("/")
            for origin in _env("WIDGET_ORIGINS", f"http://{host}:{rasa_port}").split(",")
            if origin.strip() and origin.strip() != "*"  # an allow-list: "*" is never honoured
        ),
        rate_limit_per_minute=_env_int("RATE_LIMIT_PER_MINUTE", 30),
        rate_limit_per_ip_per_minute=_env_int("RATE_LIMIT_PER_IP_PER_MINUTE", 120),
        # --- Staff analytics ---
        dashboard_host=_env("DASHBOARD_HOST", "127.0.0.1"),
        dashboard_port=_env_int("DASHBOARD_PORT", 5057),
        dashboard_token=os.environ.get("DASHBOARD_TOKEN", "").strip(),
        dashboard_refresh_seconds=_env_int("DASHBOARD_REFRESH_SECONDS", 300),
        # --- Action server (server mode) ---
        chroma_url=_env("CHROMA_URL", "").rstrip("/"),
        action_threads=_env_int("ACTION_THREADS", 0),
        generation_poll_seconds=float(_env("GENERATION_POLL_SECONDS", "2.0")),
        # --- Server mode ---
        lock_store_url=_env("LOCK_STORE_URL", ""),
        serve_port=_env_int("SERVE_PORT", 8088),
        rasa_workers=_env_int("RASA_WORKERS", 2),
        action_workers=_env_int("ACTION_WORKERS", 2),
        serve_internal_port=_env_int("SERVE_INTERNAL_PORT", 5100),
        telegram_metrics_port=_env_int("TELEGRAM_METRICS_PORT", 0),
    )


# --- Private surfaces ---
SECRET_NAMES = (
    "rasa_auth_token", "action_server_token", "rest_channel_token", "telegram_channel_token", "session_secret",
    "dashboard_token",  # staff analytics
)


def generated_secret(state_dir: Path, name: str, configured: str = "") -> str:
    """`configured`, or a random secret kept in state_dir/<name> (created on first use, mode 0600).

    The one get-or-create helper of every generated secret: every process on the machine that reads
    the same state directory sees the same value. On more than one machine, set the variable."""
    if configured:
        return configured
    path = Path(state_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it right now
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it or set the variable") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32))
    return path.read_text(encoding="utf-8").strip()


def secret(config: Settings, name: str) -> str:
    """One of SECRET_NAMES: its variable (RASA_AUTH_TOKEN …) or the generated value in the state dir."""
    if name not in SECRET_NAMES:
        raise KeyError(name)
    return generated_secret(config.state_dir, name, getattr(config, name))


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()
