"""Reports sent to a live server while PostgreSQL restarts: retried with the same submission key, each one is
stored exactly once — none lost, none twice.

gunicorn serves the application against a private cluster with persistent database connections (as in production).
Two clients send reports at the same time, one through the report form (log in, fetch the form for its CSRF token
and submission key, post it) and one through the API with a bearer token. Every failed or unanswered attempt is
sent again with the same key until it is answered; every tenth report is sent once more after its answer, as a
client does when the answer is lost on the way. The cluster restarts in the middle of it all, and once more while
the server is idle: after that, the first request of every kind must succeed at once, i.e. the server must not
keep using a connection that died.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import requests

from bench.bench_imports_csv import ystad_points
from tests.faults.cluster import ROOT, environment, free_port

FORM_REPORTS = 40
API_REPORTS = 80
RESTART_AFTER = 40  # answered reports, of both clients together
AFTER_IDLE_RESTART = 6
PASSWORD = "samverkan-demo"  # the demo's published password
GUNICORN = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "2", "--graceful-timeout", "5"]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="submission_key" value="([^"]+)"')
DETAIL = re.compile(r"/reports/(\d+)/")


@pytest.fixture
def server(database, tmp_path) -> Iterator[str]:
    port = free_port()
    env = environment(
        database.url,
        tmp_path / "var",
        DEBUG="false",
        DATABASE_CONN_MAX_AGE="600",
        SAMVERKAN_REPORT_RATE="100000/60",
        SAMVERKAN_LOGIN_RATE="100000/60",
        SAMVERKAN_TILE_URL="",
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{port}"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/health/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Tally:
    """What the clients saw: the report id each key was answered with, and how many attempts failed."""

    answered: dict[str, int] = field(default_factory=dict)
    failed_attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, incident_id: int, failures: int) -> None:
        with self.lock:
            assert key not in self.answered
            self.answered[key] = incident_id
            self.failed_attempts += failures


def until_answered(send: Callable[[], requests.Response], accept: Callable[[requests.Response], bool]):
    """Send until the answer is accepted; server errors and lost connections are retried, anything else fails."""
    failures = 0
    deadline = time.monotonic() + 60
    while True:
        try:
            response = send()
        except requests.RequestException:
            response = None
        if response is not None and accept(response):
            return response, failures
        if response is not None and response.status_code < 500:
            pytest.fail(f"unexpected answer {response.status_code}: {response.text[:2000]}")
        failures += 1
        if time.monotonic() > deadline:
            pytest.fail("no answer within a minute")
        time.sleep(0.05)


def local_minute(hours_ago: float) -> str:
    moment = dt.datetime.now(ZoneInfo("Europe/Stockholm")) - dt.timedelta(hours=hours_ago)
    return moment.strftime("%Y-%m-%dT%H:%M")


class FormClient:
    def __init__(self, base: str, category_id: int) -> None:
        self.base, self.category_id = base, category_id
        self.session = requests.Session()
        page, _ = until_answered(lambda: self.session.get(f"{base}/accounts/login/", timeout=10), _ok)
        logged_in, _ = until_answered(
            lambda: self.session.post(
                f"{base}/accounts/login/",
                data={"username": "rapportor", "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page.text)},
                allow_redirects=False,
                timeout=10,
            ),
            lambda r: r.status_code == 302,
        )
        assert "/accounts/login/" not in logged_in.headers["Location"]

    def send(self, lon: float, lat: float, tally: Tally, *, resend: bool) -> str:
        url = f"{self.base}/reports/new/"
        page, failures = until_answered(lambda: self.session.get(url, timeout=10), _ok)
        key = KEY.search(page.text).group(1)
        data = {
            "csrfmiddlewaretoken": _csrf(page.text),
            "submission_key": key,
            "category": self.category_id,
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
            "occurred_from": local_minute(1),
            "description": "Klotter på elskåpet",
            "severity": 1,
            "sensitivity": "shared",
        }

        def post() -> requests.Response:
            return self.session.post(url, data=data, allow_redirects=False, timeout=10)

        def saved(response: requests.Response) -> bool:
            return response.status_code == 302 and bool(DETAIL.fullmatch(response.headers["Location"]))

        answer, more = until_answered(post, saved)
        incident_id = int(DETAIL.fullmatch(answer.headers["Location"]).group(1))
        tally.record(key, incident_id, failures + more)
        if resend:
            again, _ = until_answered(post, saved)
            assert again.headers["Location"] == answer.headers["Location"]
        return key


class ApiClient:
    def __init__(self, base: str, token: str) -> None:
        self.url = f"{base}/api/incidents"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def body(self, lon: float, lat: float, key: str) -> dict[str, object]:
        occurred = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        return {
            "category": "klotter",
            "lat": lat,
            "lon": lon,
            "occurred_from": occurred.isoformat(),
            "description": "Krossad ruta i busskuren",
            "submission_key": key,
        }

    def send(self, lon: float, lat: float, tally: Tally, *, resend: bool) -> str:
        key = str(uuid.uuid4())
        body = self.body(lon, lat, key)

        def post() -> requests.Response:
            return self.session.post(self.url, json=body, timeout=10)

        answer, failures = until_answered(post, lambda r: r.status_code in (200, 201))
        tally.record(key, answer.json()["id"], failures)
        if resend:
            again, _ = until_answered(post, lambda r: r.status_code in (200, 201))
            assert again.status_code == 200 and again.json()["id"] == answer.json()["id"]
        return key


def _ok(response: requests.Response) -> bool:
    return response.status_code == 200


def _csrf(html: str) -> str:
    return CSRF.search(html).group(1)


def test_reports_sent_through_a_restart_are_stored_once_each(cluster, database, server):
    with cluster.connect(database.name) as conn:
        category_id = conn.execute(
            "SELECT id FROM incidents_category WHERE code = 'klotter' AND municipality_id IS NULL"
        ).fetchone()[0]
    lon, lat = ystad_points(FORM_REPORTS + API_REPORTS + AFTER_IDLE_RESTART, np.random.default_rng(1286))
    tally = Tally()
    errors: list[BaseException] = []
    restart_once, restarted = threading.Lock(), threading.Event()

    def run(client, points: range) -> None:
        try:
            for n, i in enumerate(points):
                client.send(lon[i], lat[i], tally, resend=n % 10 == 9)
                if len(tally.answered) >= RESTART_AFTER and restart_once.acquire(blocking=False):
                    cluster.restart()
                    restarted.set()
        except BaseException as exc:  # pytest.fail raises outside Exception; the main thread reports it
            errors.append(exc)

    form, api = FormClient(server, category_id), ApiClient(server, database.token)
    threads = [
        threading.Thread(target=run, args=(form, range(FORM_REPORTS))),
        threading.Thread(target=run, args=(api, range(FORM_REPORTS, FORM_REPORTS + API_REPORTS))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert restarted.is_set()
    assert tally.failed_attempts > 0, "the restart interrupted no request; the test did not test anything"

    # Restarted while idle, the server must not hand out the dead connections it kept: each request works at once.
    cluster.restart()
    first = FORM_REPORTS + API_REPORTS
    for i in range(first, first + AFTER_IDLE_RESTART):
        key = str(uuid.uuid4())
        answer = api.session.post(api.url, json=api.body(lon[i], lat[i], key), timeout=10)
        assert answer.status_code == 201, f"request {i - first + 1} after the restart: {answer.status_code}"
        tally.record(key, answer.json()["id"], 0)

    with cluster.connect(database.name) as conn:
        stored = conn.execute("SELECT submission_key::text, id FROM incidents_incident").fetchall()
    assert len(tally.answered) == FORM_REPORTS + API_REPORTS + AFTER_IDLE_RESTART
    assert len(stored) == len({key for key, _ in stored}) == len(tally.answered)
    assert dict(stored) == tally.answered
