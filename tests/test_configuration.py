"""Configuration and data that survive ordinary commands: `.env.example` means the same to python-dotenv and
to bash, documents every setting, `.env` reaches every entry point, `make clean` keeps databases and secrets,
and with no SMTP server mail lands in a local folder, never at a person's address."""
from __future__ import annotations

import os
import re
import subprocess
from email import message_from_bytes
from pathlib import Path

from dotenv import dotenv_values

from introductions.mailer import Email, FolderMailer, SmtpMailer, mailer_for
from knowledge.settings import PROJECT_ROOT, Settings, load_settings

EXAMPLE = PROJECT_ROOT / ".env.example"
# Read by the settings module itself, or by the processes' launchers, not meant to live in .env.
NOT_IN_ENV_FILE = {"GALAXY_ENV_FILE"}


def _settings_variables() -> set[str]:
    source = (PROJECT_ROOT / "knowledge" / "settings.py").read_text()
    return set(re.findall(r'(?:_env\w*|os\.environ\.get)\(\s*"([A-Z][A-Z0-9_]+)"', source)) - NOT_IN_ENV_FILE


def _bash_values(path: Path) -> dict[str, str]:
    script = f'set -euo pipefail; set -a; . "{path}"; set +a; env -0'
    out = subprocess.run(["bash", "-c", script], env={"PATH": os.environ["PATH"]}, capture_output=True, check=True).stdout
    pairs = (item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    return dict(pairs)


def test_env_example_means_the_same_to_python_dotenv_and_to_bash():
    python_side = dotenv_values(EXAMPLE)
    bash_side = _bash_values(EXAMPLE)
    assert len(python_side) >= 30
    for name, value in python_side.items():
        assert name in bash_side, f"bash drops {name}"
        assert bash_side[name] == value, f"{name}: bash reads {bash_side[name]!r}, python-dotenv {value!r}"


def test_every_setting_is_in_env_example_and_in_the_readme():
    documented = set(dotenv_values(EXAMPLE))
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    for name in sorted(_settings_variables()):
        assert name in documented, f"{name} is read by knowledge/settings.py but missing from .env.example"
        assert f"`{name}`" in table, f"{name} is missing from the README configuration table"


def test_dotenv_file_reaches_the_settings_but_the_environment_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text('RASA_PORT="6123"\nSMTP_FROM="Galaxy <bot@example.org>"\nLOG_LEVEL="debug"\n')
    monkeypatch.setenv("GALAXY_ENV_FILE", str(env_file))
    for name in ("RASA_PORT", "SMTP_FROM", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    loaded = load_settings()
    assert loaded.rasa_port == 6123
    assert loaded.smtp_from == "Galaxy <bot@example.org>"  # the value bash used to cut at the '<'
    assert loaded.log_level == "WARNING"
    for name in ("RASA_PORT", "SMTP_FROM"):
        os.environ.pop(name, None)


def test_a_command_line_tool_reads_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f'DATABASE_URL="sqlite:///{tmp_path / "from-dotenv.sqlite3"}"\n')
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(GALAXY_ENV_FILE=str(env_file), PYTHONPATH=str(PROJECT_ROOT))
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "introductions", "migrate"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-dotenv.sqlite3").exists()


def test_no_personal_address_is_a_default(monkeypatch):
    for name in ("UNOSSC_CONTACT", "BROKER_EMAIL", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    loaded = load_settings()
    assert loaded.broker_email.endswith("@localhost")
    assert "@" not in loaded.unossc_contact
    assert loaded.mail_to_files
    for text in (EXAMPLE.read_text(), (PROJECT_ROOT / "knowledge" / "settings.py").read_text()):
        assert "@unossc.org" not in text


def test_without_smtp_mail_goes_to_a_local_folder(tmp_path):
    settings = Settings(smtp_host="", mail_dir=tmp_path / "mail")
    mailer = mailer_for(settings)
    assert isinstance(mailer, FolderMailer)
    mailer.send(Email(7, "partner@example.org", "A request for you", "Dear partner,\nhello."))
    mailer.send(Email(7, "partner@example.org", "A request for you", "Dear partner,\nhello."))  # redelivery
    (saved,) = sorted((tmp_path / "mail").glob("*.eml"))
    message = message_from_bytes(saved.read_bytes())
    assert message["To"] == "partner@example.org" and message["Subject"] == "A request for you"
    assert "Dear partner" in message.get_payload()
    assert saved.stat().st_mode & 0o077 == 0
    assert isinstance(mailer_for(Settings(smtp_host="smtp.example.org")), SmtpMailer)


def _make(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=PROJECT_ROOT, input=stdin, capture_output=True, text=True, timeout=60)


def _state(tmp_path: Path) -> tuple[Path, Path]:
    state, models = tmp_path / "state", tmp_path / "models"
    for path in (state / "store" / "gen-1", state / "results", state / "logs", models):
        path.mkdir(parents=True)
    (models / "galaxy.tar.gz").write_bytes(b"model")
    for name in ("introductions.sqlite3", "conversations.sqlite3", "secret"):
        (state / name).write_text("keep me")
    (state / "logs" / "rasa.log").write_text("log")
    return state, models


def test_make_clean_keeps_databases_secrets_and_logs(tmp_path):
    state, models = _state(tmp_path)
    result = _make("clean", f"STATE={state}", f"MODELS_DIR={models}")
    assert result.returncode == 0, result.stderr
    assert not models.exists() and not (state / "store").exists() and not (state / "results").exists()
    for name in ("introductions.sqlite3", "conversations.sqlite3", "secret", "logs/rasa.log"):
        assert (state / name).exists(), f"make clean deleted {name}"


def test_reset_data_asks_before_deleting(tmp_path):
    state, _ = _state(tmp_path)
    refused = _make("reset-data", f"STATE={state}", stdin="no\n")
    assert refused.returncode != 0 and "nothing deleted" in refused.stdout
    assert (state / "introductions.sqlite3").exists()
    confirmed = _make("reset-data", f"STATE={state}", stdin="yes\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert not state.exists()


def test_copying_env_example_to_dotenv_changes_nothing(tmp_path, monkeypatch):
    """`cp .env.example .env` must give exactly the defaults (empty values mean "default")."""
    names = list(dotenv_values(EXAMPLE))
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GALAXY_ENV_FILE", "")
    defaults = load_settings()
    monkeypatch.setenv("GALAXY_ENV_FILE", str(EXAMPLE))
    try:
        from_example = load_settings()
    finally:
        for name in names:
            os.environ.pop(name, None)
    assert from_example == defaults
