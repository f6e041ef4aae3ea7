"""Settings of every Galaxy Assistant process, read once from the environment.

Standard library only, so the Rasa environment (Python 3.10) can import it too.
Defaults run on one machine with nothing installed; `.env.example` lists every variable.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"


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
    embed_backend: str = "torch"
    log_level: str = "INFO"
    unossc_contact: str = "shams.banihani@unossc.org"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"


def load_settings() -> Settings:
    state_dir = Path(_env("GALAXY_STATE_DIR", str(PROJECT_ROOT / ".galaxy")))
    catalogue = os.environ.get("GALAXY_CATALOGUE", "").strip()
    paths = (
        tuple(Path(p) for p in catalogue.split(os.pathsep) if p)
        if catalogue
        else Settings().catalogue_paths
    )
    return Settings(
        host=_env("GALAXY_HOST", "127.0.0.1"),
        rasa_port=_env_int("RASA_PORT", 5005),
        action_port=_env_int("ACTION_PORT", 5055),
        state_dir=state_dir,
        store_dir=Path(_env("GALAXY_STORE_DIR", str(state_dir / "store"))),
        catalogue_paths=paths,
        faq_path=Path(_env("GALAXY_FAQ", str(DATA_DIR / "faq.jsonl"))),
        embed_backend=_env("GALAXY_EMBED_BACKEND", "torch").lower(),
        log_level=_env("LOG_LEVEL", "INFO").upper(),
        unossc_contact=_env("UNOSSC_CONTACT", "shams.banihani@unossc.org"),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()
