"""An import killed with SIGKILL half-way leaves the database as it was; running it again finishes it, once each.

This runs the real command in a subprocess against its own SQLite file, kills it while it writes, and inspects the
database with sqlite3 directly.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.bench_imports_csv import MAPPING, write_export

ROOT = Path(__file__).resolve().parents[2]
ROWS = 60_000

pytestmark = pytest.mark.slow


def samverkan(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "samverkan.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def reports(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        total, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM incidents_incident WHERE source = 'csv'"
        ).fetchone()
    return total, distinct


def test_kill_minus_nine_then_rerun(tmp_path):
    env = {**os.environ, "SAMVERKAN_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    assert samverkan(["migrate", "-v0"], env).returncode == 0
    assert samverkan(["demo", "--incidents", "0"], env).returncode == 0
    export = tmp_path / "export.csv"
    write_export(export, ROWS, seed=7)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    db = tmp_path / "var" / "samverkan.sqlite3"
    command = [sys.executable, "-m", "samverkan.cli", "import", "incidents", str(export), "--mapping", str(mapping)]

    # Kill it while it writes: uncommitted pages of the import's transaction grow the write-ahead log.
    wal = db.parent / "samverkan.sqlite3-wal"
    before = wal.stat().st_size if wal.exists() else 0
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > before + 2_000_000:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the import finished before it could be killed; raise ROWS"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert reports(db) == (0, 0)

    finished = samverkan(command[3:], env)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert reports(db) == (ROWS, ROWS)
    again = samverkan(command[3:], env)
    assert f"{ROWS} oförändrade" in again.stdout
    assert reports(db) == (ROWS, ROWS)
