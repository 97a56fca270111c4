"""A private PostgreSQL cluster for the fault tests: its own data directory, port and socket, restarted at will.

The shared server on 5432 is never touched: other work and CI use it, and these tests restart and kill things.
Debian's server binaries (``/usr/lib/postgresql/<version>/bin``) do the work; as root they run as the ``postgres``
user through ``runuser``, because initdb refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]


class Unavailable(Exception):  # noqa: N818 - reads as the reason: the cluster is unavailable
    """The private cluster cannot be made here; the message says why and what to install."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise Unavailable(
            "PostgreSQL's server binaries are missing (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql"
        )
    return Path(found[-1]).parent


def _run_as() -> tuple[list[str], str | None]:
    """The prefix that runs a server binary as a user other than root, and that user's name."""
    if os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        runuser = None
    if runuser is None:
        raise Unavailable("running as root, and initdb refuses root: needs runuser and the postgres user to switch to")
    return [runuser, "-u", "postgres", "--"], "postgres"


class Cluster:
    """One PostgreSQL cluster in a temporary directory, trust authentication on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self.bin = _server_binaries()
        self.prefix, owner = _run_as()
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="samverkan-faults-pg-"))
        if owner is not None:
            shutil.chown(self.directory, user=owner, group=owner)
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [*self.prefix, str(self.bin / tool), *args], capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stdout}{done.stderr}{log}")

    def create(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # Speed over durability: a crash of this throw-away cluster loses nothing of value, and a restart with
        # `-m fast` still shuts down cleanly, so committed data survives it.
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.directory}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "40",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self.start()

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "start")

    def restart(self) -> None:
        """Stop (ending every session at once, as a failover or an administrator's restart does) and start again."""
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart")

    def destroy(self) -> None:
        try:
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except RuntimeError:
            pass  # not running
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", *, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=autocommit, connect_timeout=10)

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def dump(self, database: str, path: Path) -> None:
        self._client("pg_dump", "--format=custom", f"--file={path}", f"--dbname={self.url(database)}")

    def restore(self, database: str, path: Path) -> None:
        self._client("pg_restore", "--no-owner", f"--dbname={self.url(database)}", str(path))

    def _client(self, tool: str, *args: str) -> None:
        # Client tools connect over TCP and write files of the caller's, so they run as the caller.
        done = subprocess.run([str(self.bin / tool), *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed:\n{done.stdout}{done.stderr}")


def environment(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``samverkan`` subprocess against one database of the private cluster."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SAMVERKAN_ENV": "development",
        "SAMVERKAN_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


def samverkan(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samverkan.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def contents(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Every table's row count and an MD5 of all its rows in a fixed order.

    Sequences are left out on purpose: a rolled-back insert still advances them, and that is not data.
    """
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    ]
    result = {}
    for table in tables:
        result[table] = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) FROM \"{table}\" t"
        ).fetchone()
    return result
