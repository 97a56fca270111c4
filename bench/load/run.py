"""Load test: ``python -m bench.load.run [--users-reporters 50] [--users-readers 20] [--duration 300]``.

Reporters send reports through the form while readers browse the dashboard, filtered lists, the map, the
lägesbild and the public pages, against gunicorn on loopback in the production profile with PostgreSQL. Every
report carries a submission key the client chose; at the end the database is asked how many reports it holds per
key, so a lost or doubled report shows, and whether the daily counts behind the dashboard agree. Prints a table
(requests, failures, median, p95, p99 per kind of request) and writes ``var/bench/load.json``; exits 1 when a
request failed, a report was lost or doubled, or a daily count is off.

The run creates its own database (``--database``, default ``samverkan_load``; dropped first when it exists, and
dropped again at the end), loads the Ystad demo and the load users into it, and starts gunicorn with a random
secret key on a free port. Rate limits are raised for the run: 50 reporters behind one address are not a flood.
"""

# Locust patches the standard library for gevent when it is imported; it goes first so that everything after it
# sees the patched modules.
from locust.env import Environment  # isort: skip

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gevent
import psycopg
from gevent import subprocess as gsubprocess

from bench.load import locustfile

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROTECTED = {"test", "postgres", "template0", "template1"}
# Rate limits far above what the simulated users send, so the run measures the service and not the limiter.
UNLIMITED = "1000000/60"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users-reporters", type=int, default=50, help="simulated reporters (default 50)")
    parser.add_argument("--users-readers", type=int, default=20, help="simulated readers (default 20)")
    parser.add_argument("--duration", type=int, default=300, help="seconds of load after the first user starts")
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="users started per second (default 2)")
    parser.add_argument("--incidents", type=int, default=33_000, help="demo reports loaded first (default 33000)")
    parser.add_argument("--database", default="samverkan_load", help="database to create (default samverkan_load)")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the server's log afterwards")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "load.json"))
    args = parser.parse_args(argv)
    if args.database in PROTECTED or not args.database.replace("_", "").isalnum():
        parser.error(f"--database {args.database!r}: choose a plain name of the load test's own")
    if args.users_reporters < 1 or args.users_readers < 0 or args.duration < 1:
        parser.error("at least one reporter, no negative readers and a positive duration")
    return args


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def fresh_database(server: str, name: str, *, keep: bool):
    """A new, empty database ``name`` on ``server`` (an old one of the name is dropped), dropped again on exit
    unless ``keep``."""

    def drop() -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        if not keep:
            drop()


def samverkan(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run a management command (or with ``-m``, a module) in the server's environment; its stdout."""
    command = [sys.executable, *args] if args[0] == "-m" else [str(BIN / "samverkan"), *args]
    done = gsubprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def start_gunicorn(env: dict[str, str], port: int, args: argparse.Namespace, log: Path) -> subprocess.Popen:
    command = [
        str(BIN / "gunicorn"),
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={args.workers}",
        "--worker-class=gthread",
        f"--threads={args.threads}",
        "--timeout=60",
    ]
    if int(importlib.metadata.version("gunicorn").split(".")[0]) >= 27:
        # Otherwise it takes the per-user control socket another gunicorn on this machine may be using.
        command.append("--no-control-socket")
    with log.open("w") as out:
        return gsubprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    import geventhttpclient

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode} before it answered")
        try:
            client = geventhttpclient.HTTPClient("127.0.0.1", port, connection_timeout=2, network_timeout=10)
            response = client.get("/health/", headers={"X-Forwarded-Proto": "https"})
            if response.status_code == 200:
                return
        except OSError:
            pass
        gevent.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer /health/ with 200 within {timeout:.0f} s")


def run_locust(base_url: str, args: argparse.Namespace) -> Environment:
    locustfile.Reporter.fixed_count = args.users_reporters
    locustfile.Reader.fixed_count = args.users_readers
    user_classes = [locustfile.Reporter] + ([locustfile.Reader] if args.users_readers else [])
    # Users finish the task they are in when the time is up, so no report is cut off between send and answer.
    env = Environment(user_classes=user_classes, host=base_url, stop_timeout=60)
    runner = env.create_local_runner()
    runner.start(args.users_reporters + args.users_readers, spawn_rate=args.spawn_rate)
    gevent.spawn_later(args.duration, runner.quit)
    runner.greenlet.join()
    return env


def stats_rows(env: Environment) -> list[dict[str, object]]:
    rows = []
    entries = sorted(env.stats.entries.values(), key=lambda e: e.name)
    for entry in [*entries, env.stats.total]:
        rows.append(
            {
                "request": entry.name if entry is not env.stats.total else "all",
                "method": entry.method or "",
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "median_ms": round(entry.median_response_time or 0),
                "p95_ms": entry.get_response_time_percentile(0.95),
                "p99_ms": entry.get_response_time_percentile(0.99),
                "max_ms": round(entry.max_response_time or 0),
                "per_s": round(entry.total_rps, 2),
            }
        )
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    cols = ["request", "method", "requests", "failures", "median_ms", "p95_ms", "p99_ms", "max_ms", "per_s"]
    table = [[str(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(t, widths, strict=True))))


def reconcile(counts: dict, sent: set[str], confirmed: set[str]) -> dict[str, object]:
    """Reports per submission key against what the client saw: lost, doubled and unexplained reports."""
    per_key: dict[str, int] = counts["per_key"]
    return {
        "sent": len(sent),
        "confirmed": len(confirmed),
        "stored": counts["stored_total"],
        "lost": sorted(k for k in confirmed if per_key.get(k, 0) == 0),
        "duplicated": sorted(k for k, n in per_key.items() if n > 1),
        # Sent, but the answer never came; stored or not, each may be there at most once.
        "unanswered_stored": sum(1 for k in sent - confirmed if per_key.get(k, 0) == 1),
        "stored_without_key": counts["stored_without_key"],
        "unexpected_keys": counts["unexpected_keys"],
        # Days whose pre-aggregated count (dashboard, lägesbild baselines) disagrees with the reports stored.
        "daily_counts_off": counts["daily_counts_off"],
    }


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def machine() -> dict[str, object]:
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    port = free_port()
    var_dir = Path(tempfile.mkdtemp(prefix="samverkan-load-"))
    log = Path(args.out).parent / "load-gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server: subprocess.Popen | None = None
    started = dt.datetime.now(dt.UTC)
    try:
        with fresh_database(args.server, args.database, keep=args.keep) as database_url:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "SAMVERKAN_ENV": "production",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "127.0.0.1",
                "SECURE_SSL_REDIRECT": "false",
                "DATABASE_URL": database_url,
                "SAMVERKAN_VAR_DIR": str(var_dir),
                "SAMVERKAN_TILE_URL": "",
                "SAMVERKAN_LOGIN_RATE": UNLIMITED,
                "SAMVERKAN_REPORT_RATE": UNLIMITED,
                "SAMVERKAN_EXPORT_RATE": UNLIMITED,
                "SAMVERKAN_MAP_RATE": UNLIMITED,
                "LOG_FORMAT": "json",
            }
            env.pop("DEBUG", None)
            step(f"database {args.database}: migrate, demo with {args.incidents} reports, static files")
            samverkan(env, "migrate", "--noinput")
            samverkan(env, "demo", "--incidents", str(args.incidents))
            samverkan(env, "collectstatic", "--noinput")
            setup = json.loads(
                samverkan(
                    env,
                    "-m",
                    "bench.load.fixtures",
                    "prepare",
                    f"--reporters={args.users_reporters}",
                    f"--readers={args.users_readers}",
                )
            )
            locustfile.configure(setup)
            step(f"gunicorn on 127.0.0.1:{port}: {args.workers} workers × {args.threads} threads (log: {log})")
            # CPU time of the server's processes (counted once they have exited) and of this process (the load
            # client), to tell a slow service from a starved one on a shared machine.
            children_before, self_before = _cpu_seconds(resource.RUSAGE_CHILDREN), _cpu_seconds(resource.RUSAGE_SELF)
            load_before = os.getloadavg()[0]
            server = start_gunicorn(env, port, args, log)
            wait_healthy(port, server)
            step(
                f"load: {args.users_reporters} reporters and {args.users_readers} readers for {args.duration} s "
                f"(spawn rate {args.spawn_rate}/s)"
            )
            locust_env = run_locust(f"http://127.0.0.1:{port}", args)
            step("stopping gunicorn and counting the reports")
            load_after = os.getloadavg()[0]
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            cpu = {
                "server_s": round(_cpu_seconds(resource.RUSAGE_CHILDREN) - children_before, 1),
                "load_client_s": round(_cpu_seconds(resource.RUSAGE_SELF) - self_before, 1),
                "load_average_1min": [round(load_before, 2), round(load_after, 2)],
            }
            sent = set(locustfile.SUBMISSIONS["sent"])
            confirmed = set(locustfile.SUBMISSIONS["confirmed"])
            counts = json.loads(samverkan(env, "-m", "bench.load.fixtures", "count", stdin=json.dumps(sorted(sent))))
            if args.keep:
                step(f"--keep: the database {database_url} stays until the next run")
    finally:
        if server is not None and server.poll() is None:
            server.kill()
        shutil.rmtree(var_dir, ignore_errors=True)

    rows = stats_rows(locust_env)
    reports = reconcile(counts, sent, confirmed)
    errors = [
        {"request": e.name, "method": e.method, "error": str(e.error), "occurrences": e.occurrences}
        for e in locust_env.stats.errors.values()
    ]
    total = rows[-1]
    ok = (
        total["failures"] == 0
        and not reports["lost"]
        and not reports["duplicated"]
        and not reports["stored_without_key"]
        and not reports["unexpected_keys"]
        and not reports["daily_counts_off"]
    )
    print()
    print_table(rows)
    print()
    print(
        f"reports: {reports['sent']} sent, {reports['confirmed']} confirmed, {reports['stored']} stored; "
        f"{len(reports['lost'])} lost, {len(reports['duplicated'])} duplicated, "
        f"{reports['stored_without_key']} stored without their key, {len(reports['unexpected_keys'])} unexpected"
    )
    for day in reports["daily_counts_off"]:
        print(
            f"daily count of {day['day']} in municipality {day['municipality']}: {day['counted']}, "
            f"but {day['reports']} reports"
        )
    if reports["stored"] and reports["stored_without_key"] == reports["stored"]:
        print("no report kept its submission key: the report form does not store the submission_key field")
    print(
        f"CPU: gunicorn used {cpu['server_s']} s and the load client {cpu['load_client_s']} s of "
        f"{os.cpu_count()} cores × {args.duration} s; 1-minute load average {cpu['load_average_1min'][0]} before, "
        f"{cpu['load_average_1min'][1]} at the end"
    )
    for error in errors:
        print(f"error: {error['occurrences']} × {error['method']} {error['request']}: {error['error'][:300]}")
    result = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            "reporters": args.users_reporters,
            "readers": args.users_readers,
            "duration_s": args.duration,
            "spawn_rate": args.spawn_rate,
            "demo_reports": args.incidents,
            "gunicorn": {"workers": args.workers, "threads": args.threads, "worker_class": "gthread"},
            "wait_s": {
                "reporter": locustfile.REPORTER_WAIT,
                "reader": locustfile.READER_WAIT,
                "form_filling": locustfile.FORM_FILLING,
            },
            "send_again_share": locustfile.SEND_AGAIN,
        },
        "cpu": cpu,
        "requests": rows,
        "errors": errors,
        "reports": {**reports, "lost": reports["lost"][:100], "duplicated": reports["duplicated"][:100]},
        "ok": ok,
    }
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"{'OK' if ok else 'FAILED'}: written to {args.out}")
    if ok and not args.keep:
        log.unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
