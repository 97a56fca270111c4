"""The backup and restore scripts against a real PostgreSQL server: a restored dump holds exactly what was saved.

Each run creates databases of its own names on the server of DATABASE_URL (never the test database itself), fills
one through the application (migrate, then the demo's reports), backs it up with scripts/backup.sh, restores the
dump with scripts/restore.sh and compares every table row by row; all databases are dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
TOOLS = ("pg_dump", "pg_restore", "createdb", "dropdb", "psql")


def _server() -> dict[str, str]:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("backup and restore need PostgreSQL: run with DATABASE_URL=postgres://USER@HOST:PORT/NAME")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: apt-get install postgresql-client")
    return {k: str(db.get(k) or "") for k in ("HOST", "PORT", "USER", "PASSWORD")}


def _url(server: dict[str, str], name: str) -> str:
    credentials = quote(server["USER"], safe="") + (
        ":" + quote(server["PASSWORD"], safe="") if server["PASSWORD"] else ""
    )
    return f"postgres://{credentials}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or '5432'}/{name}"


def _connect(server: dict[str, str], name: str):
    import psycopg

    return psycopg.connect(_url(server, name), autocommit=True)


def _run(args: list[str], *, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SAMVERKAN_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }
    return subprocess.run(args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def _contents(server: dict[str, str], name: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and an MD5 of all its rows (in a fixed order), and every sequence's position."""
    result: dict[str, tuple[int, str]] = {}
    with _connect(server, name) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        ]
        for table in tables:
            count, digest = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) FROM \"{table}\" t"
            ).fetchone()
            result[table] = (count, digest)
        for sequence, last_value in conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            result[f"sequence {sequence}"] = (last_value or 0, "")
    return result


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory):
    """A migrated database holding demo reports, and the dump backup.sh made of it."""
    server = _server()
    name = f"samverkan_ops_{uuid.uuid4().hex[:10]}"
    created: list[str] = []
    with _connect(server, "postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    created.append(name)
    try:
        url = _url(server, name)
        for args in (["migrate", "--noinput"], ["demo", "--incidents", "400", "--seed", "7"]):
            done = _run([sys.executable, "-m", "samverkan.cli", *args], database_url=url)
            assert done.returncode == 0, done.stderr
        directory = tmp_path_factory.mktemp("backups")
        done = _run(["bash", str(SCRIPTS / "backup.sh"), str(directory)], database_url=url)
        assert done.returncode == 0, done.stderr
        dumps = sorted(directory.glob(f"samverkan-{name}-*.dump"))
        assert len(dumps) == 1, done.stdout
        yield {"server": server, "name": name, "url": url, "dump": dumps[0], "created": created}
    finally:
        with _connect(server, "postgres") as conn:
            for database in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_a_restored_dump_holds_every_row_of_the_original(backed_up):
    server, restored = backed_up["server"], f"{backed_up['name']}_restored"
    backed_up["created"].append(restored)
    done = _run(["bash", str(SCRIPTS / "restore.sh"), str(backed_up["dump"]), restored], database_url=backed_up["url"])
    assert done.returncode == 0, done.stderr

    original = _contents(server, backed_up["name"])
    copy = _contents(server, restored)
    assert original["incidents_incident"][0] == 400
    assert original["accounts_user"][0] > 0
    assert copy == original


def test_restore_refuses_a_database_that_exists_and_leaves_it_alone(backed_up):
    server, name = backed_up["server"], backed_up["name"]
    before = _contents(server, name)
    done = _run(["bash", str(SCRIPTS / "restore.sh"), str(backed_up["dump"]), name], database_url=backed_up["url"])
    assert done.returncode != 0
    assert "already exists" in done.stderr
    assert _contents(server, name) == before


def test_restore_refuses_a_file_that_is_not_a_dump(backed_up, tmp_path):
    broken = tmp_path / "broken.dump"
    broken.write_bytes(backed_up["dump"].read_bytes()[:100])
    target = f"{backed_up['name']}_broken"
    backed_up["created"].append(target)
    done = _run(["bash", str(SCRIPTS / "restore.sh"), str(broken), target], database_url=backed_up["url"])
    assert done.returncode == 2
    with _connect(backed_up["server"], "postgres") as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [target]).fetchone()[0] == 0


def test_backup_keeps_the_newest_dumps_of_its_database_only(backed_up, tmp_path):
    name = backed_up["name"]
    older = [tmp_path / f"samverkan-{name}-2001-01-0{day}T000000Z.dump" for day in (1, 2, 3)]
    other = tmp_path / f"samverkan-{name}_other-2001-01-01T000000Z.dump"
    for path in [*older, other]:
        path.write_bytes(b"old")
    done = _run(
        ["bash", str(SCRIPTS / "backup.sh"), str(tmp_path)], database_url=backed_up["url"], SAMVERKAN_BACKUP_KEEP="2"
    )
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in tmp_path.glob(f"samverkan-{name}-*.dump"))
    # The new dump and the newest old one; another database's dump with a similar name is not this one's to prune.
    assert len(kept) == 2
    assert kept[0] == older[2].name
    assert not older[0].exists() and not older[1].exists()
    assert other.exists()
    assert not list(tmp_path.glob("*.partial"))
