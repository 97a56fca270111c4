"""The police's open events archive (85,011 real events) through ``samverkan import polisen``, end to end.

Each database gets a fresh schema (``samverkan migrate`` in a subprocess); then the import is timed as the user runs
it, process start included: the first import, and the same file again, which must change nothing. SQLite in a
temporary directory always; PostgreSQL in a database created for the run and dropped after, when a server answers
(``SAMVERKAN_BENCH_POSTGRES``, default ``postgres://postgres@127.0.0.1:5432``). Targets: first import < 20 s, the
repeat < 10 s, on both. ``--quick`` imports the first 10,000 events only. Skipped when the shared data is absent.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import ROOT, SHARED

ARCHIVE = SHARED / "data" / "polisen-events" / "polisen_events_2022-09_to_2026-08.jsonl.gz"
POSTGRES = os.environ.get("SAMVERKAN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
QUICK_EVENTS = 10_000
SUMMARY = re.compile(r"(\d+) poster lästa, (\d+) nya, (\d+) ändrade, (\d+) oförändrade")


def samverkan(*args: str, env: dict[str, str]) -> tuple[float, str]:
    """Run ``samverkan ARGS`` as the user would; (seconds, stdout). Raises on a non-zero exit."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "samverkan.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"samverkan {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def import_twice(label: str, path: Path, env: dict[str, str]) -> list[dict]:
    samverkan("migrate", "--noinput", "-v", "0", env=env)
    rows = []
    for attempt, target in (("first import", 20.0), ("same file again", 10.0)):
        seconds, out = samverkan("import", "polisen", str(path), "--quiet", env=env)
        match = SUMMARY.search(out)
        if match is None:
            raise RuntimeError(f"no summary in the output:\n{out}")
        total, created, updated, unchanged = (int(g) for g in match.groups())
        reports = re.search(r"Rapporter: (\d+) nya", out)
        note = (
            f"{total / seconds:,.0f} events/s; {created} new, {updated} changed, {unchanged} unchanged; "
            f"{reports.group(1) if reports else '?'} new reports; target < {target:g} s"
        )
        print(f"{label}, {attempt}: {seconds:.2f} s, {total / seconds:,.0f} events/s", file=sys.stderr)
        rows.append({"case": f"{label}: {attempt}, {total:,} events", "ours_s": seconds, "note": note})
    return rows


def base_env(var_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SAMVERKAN_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT))
    return env


def postgres_rows(path: Path, var_dir: str) -> list[dict]:
    try:
        import psycopg
    except ImportError:
        return [{"case": "PostgreSQL", "ours_s": None, "note": "skipped: psycopg is not installed"}]
    name = f"samverkan_bench_polisen_{os.getpid()}"
    try:
        admin = psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        return [{"case": "PostgreSQL", "ours_s": None, "note": f"skipped: no server at {POSTGRES} ({exc})"[:200]}]
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            env = base_env(var_dir)
            env["DATABASE_URL"] = f"{POSTGRES}/{name}"
            return import_twice("PostgreSQL", path, env)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(quick: bool) -> list[dict]:
    if not ARCHIVE.is_file():
        return [{"case": "polisen archive", "ours_s": None, "note": f"skipped: {ARCHIVE} is absent"}]
    rows = []
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-polisen-") as tmp:
        path = ARCHIVE
        if quick:
            path = Path(tmp) / "events.jsonl"
            with gzip.open(ARCHIVE, "rt", encoding="utf-8") as f:
                path.write_text("".join(line for _, line in zip(range(QUICK_EVENTS), f, strict=False)))
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        rows += import_twice("SQLite", path, base_env(str(sqlite_dir)))
        postgres_dir = Path(tmp) / "postgres"
        postgres_dir.mkdir()
        rows += postgres_rows(path, str(postgres_dir))
    return rows
