"""An import interrupted while it writes — by a PostgreSQL restart or by ``kill -9`` — leaves the database exactly
as it was; running it again stores every row once.

The real command runs in a subprocess against a private cluster. So that it cannot commit before it is interrupted
however fast the machine, a session of the test holds a SHARE lock on the daily counts, which the import rewrites at
the very end of its one transaction; the interruption comes as soon as the import's rows fill the reports table
(or it waits on that lock with all of them written).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.bench_imports_csv import MAPPING, write_export
from tests.faults.cluster import ROOT, contents, environment, samverkan

ROWS = 3000
# About a third of the file in the reports table: the import is well into writing, and far from done.
WRITING_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("export")
    path, mapping = directory / "export.csv", directory / "mapping.toml"
    write_export(path, ROWS, seed=1286)
    mapping.write_text(MAPPING, encoding="utf-8")
    return path, mapping


@contextlib.contextmanager
def daily_counts_locked(cluster, database) -> Iterator[None]:
    conn = cluster.connect(database.name, autocommit=False)
    try:
        conn.execute("LOCK TABLE situation_dailycount IN SHARE MODE")
        yield
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.close()  # after a restart the connection is gone already


def wait_until_writing(cluster, database, process: subprocess.Popen) -> None:
    with cluster.connect(database.name) as conn:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"the import ended before it could be interrupted ({process.returncode}):\n{out}{err}")
            size, waiting = conn.execute(
                "SELECT pg_relation_size('incidents_incident'), "
                "(SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid())"
            ).fetchone()
            if size >= WRITING_BYTES or waiting:
                return
            time.sleep(0.02)
    pytest.fail("the import never started writing")


def wait_until_alone(cluster, database) -> None:
    """Until no other session is left on the database, so that nothing can still commit behind our back."""
    with cluster.connect(database.name) as conn:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if not others:
                return
            time.sleep(0.05)
    pytest.fail("the interrupted import's session never ended")


def snapshot(cluster, database) -> dict[str, tuple[int, str]]:
    with cluster.connect(database.name) as conn:
        return contents(conn)


def stored(cluster, database) -> tuple[int, int, int]:
    """Reports from the file, distinct external ids among them, and the reports the daily counts add up to."""
    with cluster.connect(database.name) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT external_id), "
            "(SELECT coalesce(sum(count), 0) FROM situation_dailycount WHERE area_id IS NULL) "
            "FROM incidents_incident WHERE source = 'csv'"
        ).fetchone()


def start_import(database, export, tmp_path) -> tuple[subprocess.Popen, list[str], dict[str, str]]:
    path, mapping = export
    args = ["import", "incidents", str(path), "--mapping", str(mapping), "--quiet"]
    env = environment(database.url, tmp_path / "var")
    process = subprocess.Popen(
        [sys.executable, "-m", "samverkan.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, args, env


def finish_and_check(cluster, database, args: list[str], env: dict[str, str]) -> None:
    again = samverkan(args, env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{ROWS} nya" in again.stdout
    assert stored(cluster, database) == (ROWS, ROWS, ROWS)


def test_restart_during_an_import_writes_nothing_and_a_rerun_stores_each_row_once(cluster, database, export, tmp_path):
    before = snapshot(cluster, database)
    process, args, env = start_import(database, export, tmp_path)
    try:
        with daily_counts_locked(cluster, database):
            wait_until_writing(cluster, database, process)
            cluster.restart()
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, out + err
    assert "Traceback" not in err
    assert "Importen avbröts av ett databasfel" in err and "kör den igen" in err
    assert snapshot(cluster, database) == before

    finish_and_check(cluster, database, args, env)


def test_kill_minus_nine_during_an_import_writes_nothing_and_a_rerun_finishes(cluster, database, export, tmp_path):
    before = snapshot(cluster, database)
    process, args, env = start_import(database, export, tmp_path)
    try:
        with daily_counts_locked(cluster, database):
            wait_until_writing(cluster, database, process)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    # The server notices the lost client when the import's statement ends, and rolls its transaction back.
    wait_until_alone(cluster, database)
    assert snapshot(cluster, database) == before

    finish_and_check(cluster, database, args, env)
