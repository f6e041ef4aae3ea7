"""A throwaway PostgreSQL server for tests: Debian's binaries, a temporary data directory, a free loopback
port, stopped whatever happens. Import `postgres_url` into a test module to use it.

Needs the Debian package `postgresql` (server binaries in /usr/lib/postgresql/*/bin). Without it the tests
that use this fixture FAIL: a missing database must not pass as a skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DATABASE = "galaxy_test"
SUPERUSER = "galaxy"


def _bindir() -> Path:
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
    )
    if not found or not (found[-1] / "pg_ctl").exists():
        pytest.fail(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb and pg_ctl): "
            "install the Debian package `postgresql` (apt-get install -y postgresql)",
            pytrace=False,
        )
    return found[-1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _runner() -> tuple[list[str], pwd.struct_passwd | None]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user the package creates."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "running as root and there is no `postgres` user: install the Debian package `postgresql`", pytrace=False
        )
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail(
            "running as root and `runuser` (util-linux) is missing: cannot start PostgreSQL as `postgres`",
            pytrace=False,
        )
    return [runuser, "-u", "postgres", "--"], user


def _run(prefix: list[str], *command: str) -> None:
    result = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(
            f"{Path(command[0]).name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (psycopg 3) of an empty database on a private PostgreSQL server."""
    bindir = _bindir()
    prefix, user = _runner()
    # Under /tmp itself: pytest's own tmp dirs are private to root, and postgres must reach the data dir.
    root = Path(tempfile.mkdtemp(prefix="galaxy-pg-"))
    data = root / "data"
    log_file = root / "server.log"
    started = False
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        _run(prefix, str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        )
        _run(
            prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log_file),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        started = True
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE galaxy_test")
        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
