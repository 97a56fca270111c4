"""Browser tests: Debian's chromium, driven by Playwright, against pytest-django's live server.

Screenshots go to ``var/screenshots/`` on every run; with ``SAMVERKAN_UPDATE_SCREENSHOTS=1`` they are also written to
``docs/screenshots/``, where the README shows them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _chromium() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


@pytest.fixture(scope="module")
def browser(django_db_setup) -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (make test installs it as root via apt)")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # While Playwright's event loop runs in this thread, Django keeps connections per async context rather than per
    # thread, so the tests get fresh connection objects. These lack the copy of the migrated data (municipalities,
    # categories) that serialized rollback restores after each flush; hand it over, as Django's parallel runner does.
    serialized = {
        c.alias: c._test_serialized_contents for c in connections.all() if hasattr(c, "_test_serialized_contents")
    }
    # Playwright's sync API runs an event loop in the main thread, and Django refuses ORM calls from a thread with a
    # running event loop unless this is set. The tests make no concurrent ORM calls from that loop. It is set only
    # while the browser runs, so that Django's check still guards every other test in the session.
    unsafe_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        # The connections opened inside Playwright's context are not seen once it stops; close them now.
        connections.close_all()
        playwright.stop()
        if unsafe_before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(autouse=True)
def _offline_map(settings) -> None:
    # No base-map tiles: the maps must work from our own outlines, and the tests must not touch the network.
    settings.SAMVERKAN_TILE_URL = ""


@dataclass
class Problems:
    """What went wrong in the browser: script errors, failed or refused requests."""

    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.items.append(text)


@dataclass
class Session:
    page: Any
    problems: Problems
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def open_browser(browser, live_server) -> Iterator[Callable[..., Session]]:
    """Open a fresh browser context at a given viewport and browser language; requests may go to the live server
    only."""
    contexts = []
    sessions: list[Session] = []
    base = live_server.url

    def open_(viewport: dict[str, int], locale: str = "sv-SE") -> Session:
        context = browser.new_context(viewport=viewport, locale=locale, timezone_id="Europe/Stockholm")
        contexts.append(context)
        context.set_default_timeout(10_000)
        problems = Problems()

        def only_live_server(route) -> None:
            if route.request.url.startswith(base + "/"):
                route.continue_()
            else:
                problems.add(f"request outside the live server: {route.request.url}")
                route.abort()

        context.route("**/*", only_live_server)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.add(f"script error: {exc}"))
        page.on("console", lambda msg: problems.add(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
        page.on(
            "response",
            lambda r: (
                problems.add(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        sessions.append(Session(page=page, problems=problems, base_url=base))
        return sessions[-1]

    yield open_
    for session in sessions:
        # Shown by pytest with a failing test's output, where they usually explain the failure.
        for problem in session.problems.items:
            print(f"browser: {problem}")
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(settings) -> Callable[[Any, str], Path]:
    """Save a PNG of the page under var/screenshots/ (and docs/screenshots/ when asked to update them)."""
    targets = [Path(settings.VAR_DIR) / "screenshots"]
    if os.environ.get("SAMVERKAN_UPDATE_SCREENSHOTS"):
        targets.append(DOCS_SCREENSHOTS)

    def save(page, name: str, *, full_page: bool = False) -> Path:
        png = page.screenshot(full_page=full_page, animations="disabled")
        for target in targets:
            target.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(png)
        return targets[0] / name

    return save
