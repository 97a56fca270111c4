"""Simulated users of the load test: reporters who send reports through the form, readers who browse.

Run by ``python -m bench.load.run``, which prepares a database and a server and calls :func:`configure` with what
``bench.load.fixtures prepare`` printed. Standalone, against a server with the demo loaded: write that output to a
file (``python -m bench.load.fixtures prepare --reporters 50 --readers 20 > setup.json``), then
``SAMVERKAN_LOAD_SETUP=setup.json locust -f bench/load/locustfile.py --host http://127.0.0.1:8000``.

The client talks plain HTTP to gunicorn on loopback and says ``X-Forwarded-Proto: https``, as nginx does in
production, so Django runs exactly as it would behind the proxy: its cookies are ``Secure`` and its CSRF check wants
an HTTPS ``Origin``. The cookie policy below lets the client send those cookies back over the loopback connection.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import threading
import uuid
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import gevent
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CATEGORY_SELECT = re.compile(r'<select name="category"[^>]*>(.*?)</select>', re.S)
OPTION_VALUE = re.compile(r'<option value="(\d+)"')
DETAIL_LINK = re.compile(r'href="/reports/(\d+)/"')
DETAIL_PATH = re.compile(r"^/reports/\d+/$")
# Ordinary observation texts without anything the personal-data screening would hold back for review.
DESCRIPTIONS = (
    "Klotter på busskuren vid torget.",
    "Krossad ruta i cykelrummet, glas på marken.",
    "Grupp ungdomar samlade vid skolans baksida, högljutt och nedskräpat.",
    "Trasig gatubelysning längs gångvägen mot stationen.",
    "Kanyler och skräp vid lekplatsen.",
    "Mopeder som kör på gångbanan i parken.",
    "Dumpade möbler bakom återvinningsstationen.",
    "",
)

# Seconds a user waits between tasks (reading a page, walking on), and a reporter spends filling in the form. A
# reporter thus sends a report about every 20 s: 50 of them send some 150 a minute, far more than a municipality
# gets in a day.
REPORTER_WAIT = (3, 10)
READER_WAIT = (3, 10)
FORM_FILLING = (5, 20)
# Share of reports sent a second time with the same form, as when a phone loses the answer and the reporter presses
# the button again: the submission key must lead to the report saved the first time, not to a second one.
SEND_AGAIN = 0.05

SETUP: dict = {}
# Submission keys by outcome: "sent" for every report posted, "confirmed" when the server answered with the new
# report's page. The run compares them with what the database holds.
_lock = threading.Lock()
SUBMISSIONS: dict[str, set[str]] = {"sent": set(), "confirmed": set()}
_usernames: dict[str, list[str]] = {}


def configure(setup: dict) -> None:
    """Use ``setup`` (the output of ``bench.load.fixtures prepare``) for the users spawned from now on."""
    SETUP.clear()
    SETUP.update(setup)
    _usernames["reporters"] = list(setup["reporters"])
    _usernames["readers"] = list(setup["readers"])
    for outcome in SUBMISSIONS.values():
        outcome.clear()


if os.environ.get("SAMVERKAN_LOAD_SETUP"):
    with open(os.environ["SAMVERKAN_LOAD_SETUP"], encoding="utf-8") as f:
        configure(json.load(f))


def _next_username(kind: str) -> str:
    with _lock:
        names = _usernames[kind]
        if not names:
            raise StopUser(f"more {kind} spawned than prepared log-ins")
        return names.pop(0)


class LoopbackCookiePolicy(DefaultCookiePolicy):
    """Sends ``Secure`` cookies over plain HTTP; only for a client that stands in for TLS on loopback."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class SamverkanUser(FastHttpUser):
    abstract = True
    kind = ""
    default_headers = {"X-Forwarded-Proto": "https", "Accept-Language": "sv"}

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(LoopbackCookiePolicy())
        self.username = _next_username(self.kind)
        self.log_in()

    def https(self, path: str) -> str:
        """The address the browser would have used, for the Origin and Referer headers Django checks on POST."""
        return f"https://{urlsplit(self.host).netloc}{path}"

    def page(self, path: str, name: str, expect: str | None = None) -> str:
        """GET a page; anything but 200 (or a page without ``expect``) counts as a failure."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return ""
            text = response.text or ""
            if expect is not None and expect not in text:
                response.failure(f"{expect!r} missing from the page")
                return ""
            return text

    def post_form(self, path: str, data: dict[str, str], name: str, *, referer: str | None = None):
        headers = {"Origin": self.https(""), "Referer": self.https(referer or path)}
        return self.client.post(path, data=data, headers=headers, name=name, allow_redirects=False, catch_response=True)

    def log_in(self) -> None:
        text = self.page("/accounts/login/", "log-in page", expect="csrfmiddlewaretoken")
        token = CSRF_FIELD.search(text)
        if token is None:
            raise StopUser("no log-in form")
        data = {"username": self.username, "password": SETUP["password"], "csrfmiddlewaretoken": token.group(1)}
        with self.post_form("/accounts/login/", data, "log-in") as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or "/accounts/" in location:
                # A second factor or a refusal: the load users are chosen so that neither should happen.
                response.failure(f"log-in of {self.username} answered {response.status_code} {location}")
                raise StopUser()
        self.page(location or "/", "dashboard")


class Reporter(SamverkanUser):
    """A reporter on duty: opens the form, sends a report, sees it saved; now and then looks at own reports."""

    kind = "reporters"
    wait_time = between(*REPORTER_WAIT)

    @task(6)
    def send_report(self) -> None:
        text = self.page("/reports/new/", "report form", expect="csrfmiddlewaretoken")
        if not text:
            return
        token = CSRF_FIELD.search(text)
        select = CATEGORY_SELECT.search(text)
        categories = OPTION_VALUE.findall(select.group(1)) if select else []
        if token is None or not categories:
            return
        lat, lon = random.choice(SETUP["places"])
        # A little scatter so that reports do not pile up on the very same points.
        lat += random.uniform(-0.0005, 0.0005)
        lon += random.uniform(-0.0008, 0.0008)
        occurred = dt.datetime.now(STOCKHOLM) - dt.timedelta(minutes=random.randint(5, 600))
        key = str(uuid.uuid4())
        gevent.sleep(random.uniform(*FORM_FILLING))
        data = {
            "csrfmiddlewaretoken": token.group(1),
            "submission_key": key,
            "category": random.choice(categories),
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
            "occurred_from": occurred.strftime("%Y-%m-%dT%H:%M"),
            "occurred_to": "",
            "description": random.choice(DESCRIPTIONS),
            "persons_estimate": str(random.choice(["", "1", "3", "8"])),
            "severity": str(random.choice([1, 1, 1, 2, 2, 3])),
            "sensitivity": "shared",
            "confirm_personal_data": "",
        }
        with _lock:
            SUBMISSIONS["sent"].add(key)
        with self.post_form("/reports/new/", data, "report send") as response:
            location = urlsplit(response.headers.get("Location", "")).path
            if response.status_code != 302 or not DETAIL_PATH.match(location):
                errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.text or "", re.S)
                response.failure(f"status {response.status_code} {location} {' '.join(errors)[:200]}")
                return
            with _lock:
                SUBMISSIONS["confirmed"].add(key)
        if random.random() < SEND_AGAIN:
            with self.post_form("/reports/new/", data, "report send again (same key)") as again:
                if again.status_code != 302 or urlsplit(again.headers.get("Location", "")).path != location:
                    again.failure(f"status {again.status_code} {again.headers.get('Location')}, not {location}")
        self.page(location, "report detail")

    @task(1)
    def own_reports(self) -> None:
        self.page("/reports/", "report list")


class Reader(SamverkanUser):
    """A coordinator or steering-group member: dashboard, filtered lists, the map, the lägesbild, public pages."""

    kind = "readers"
    wait_time = between(*READER_WAIT)

    def _filters(self) -> dict[str, str]:
        today = dt.datetime.now(STOCKHOLM).date()
        filters = {"date_from": (today - dt.timedelta(days=random.choice([7, 30, 90]))).isoformat()}
        if random.random() < 0.5:
            filters["focus_area"] = str(random.choice(SETUP["focus_areas"])["pk"])
        if random.random() < 0.4:
            filters["area"] = str(random.choice(SETUP["areas"]))
        if random.random() < 0.3:
            filters["status"] = random.choice(["new", "reviewed"])
        return filters

    @task(3)
    def dashboard(self) -> None:
        self.page("/", "dashboard")

    @task(4)
    def report_list(self) -> None:
        filters = self._filters()
        text = self.page(f"/reports/?{urlencode(filters)}", "report list (filtered)")
        ids = DETAIL_LINK.findall(text)
        if random.random() < 0.3:
            self.page(f"/reports/?{urlencode({**filters, 'page': 2})}", "report list (page 2)")
        if ids:
            self.page(f"/reports/{random.choice(ids)}/", "report detail")

    @task(2)
    def map_filtered(self) -> None:
        filters = self._filters()
        self.page(f"/reports/map/?{urlencode(filters)}", "map (filtered)")
        # What the map page's script fetches.
        self.page(f"/api/incidents.geojson?{urlencode(filters)}", "map reports (GeoJSON, filtered)")
        self.page("/api/areas", "map areas (GeoJSON)")

    @task(1)
    def map_from_menu(self) -> None:
        # Opened from the menu the map has no filters, so its script asks for every report the reader may see.
        self.page("/reports/map/", "map (all)")
        self.page("/api/incidents.geojson", "map reports (GeoJSON, all)")
        self.page("/api/areas", "map areas (GeoJSON)")

    @task(2)
    def situational_picture(self) -> None:
        kind = random.choice(["week", "week", "month"])
        query = {"municipality": SETUP["municipality"]["id"], "kind": kind, "view": "shared"}
        if random.random() < 0.5:
            query["focus"] = random.choice(SETUP["focus_areas"])["code"]
        # The key figures are only there when the picture was built (not when the form sent the reader back).
        self.page(f"/lagesbild/?{urlencode(query)}", f"lägesbild ({kind})", expect='id="h-key"')

    @task(1)
    def public_pages(self) -> None:
        code = SETUP["municipality"]["code"]
        self.page("/oppet/", "public start")
        self.page(f"/oppet/{code}/", "public municipality")
        self.page(f"/oppet/{code}/siffror/", "public figures")
