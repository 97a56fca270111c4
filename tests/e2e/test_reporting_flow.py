"""A report's way through the product in a real browser: reporter on a phone, coordinator at a desk."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import YSTAD, IncidentFactory

# Municipalities and categories come from data migrations, which a transactional test's flush removes; serialized
# rollback restores them.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct horse battery"
DESCRIPTION = "Nytt klotter på väggen vid stationen, ungefär två meter brett."


def log_in(session, username: str) -> None:
    page = session.page
    page.goto(session.url("/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form").get_by_role("button", name="Logga in").click()
    page.wait_for_url(session.url("/"))


def log_out(session, username: str) -> None:
    session.page.get_by_role("button", name=f"Logga ut ({username})").click()
    session.page.wait_for_url(session.url("/accounts/login/"))


def assert_fits_the_width(page) -> None:
    # On a phone nothing may push the page wider than the screen (sideways scrolling hides the values).
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"page is {width[0]} px wide on a {width[1]} px screen"


def wait_for_outline(page, map_id: str) -> None:
    # Leaflet really loaded from our static files and drew the municipality outline (there are no tiles).
    expect(page.locator(f"#{map_id}.leaflet-container")).to_be_visible()
    assert page.evaluate("typeof window.L") == "object"
    expect(page.locator(f"#{map_id} .leaflet-overlay-pane path").first).to_be_attached()


def fill_the_weeks(world) -> None:
    """Reports spread over Ystad and the last nine weeks, so that the map and the dashboard show something."""
    from samverkan.incidents.models import Category, Status

    rng = random.Random(1286)
    categories = list(Category.objects.filter(municipality=None, code__in=["klotter", "skadegorelse", "narkotika"]))
    categories += list(Category.objects.filter(municipality=None, code__in=["fortkorning", "otrygg-plats"]))
    now = timezone.now()
    for _ in range(40):
        lon = YSTAD[0] + rng.uniform(-0.06, 0.06)
        lat = YSTAD[1] + rng.uniform(-0.04, 0.04)
        IncidentFactory(
            category=rng.choice(categories),
            occurred_from=now - dt.timedelta(hours=rng.uniform(1, 24 * 63)),
            lon=lon,
            lat=lat,
            status=rng.choice([Status.REVIEWED, Status.ACTED_ON, Status.CLOSED, Status.NEW]),
            municipality=world.ystad,
            source_organisation=rng.choice([world.kommun, world.polis]),
        )


def test_report_reviewed_and_shown_on_map_and_dashboard(world, open_browser, screenshot):
    from samverkan.incidents.models import Incident, Status

    fill_the_weeks(world)
    session = open_browser(PHONE)
    page = session.page

    # 1. The reporter writes a report on a phone.
    log_in(session, "kommun_rapportor")
    page.get_by_role("link", name="Ny rapport").click()
    page.wait_for_url(session.url("/reports/new/"))
    wait_for_outline(page, "report-map")
    page.select_option("#id_category", label="Klotter")
    assert page.input_value("#id_lat") == ""
    page.locator("#report-map").click()
    lat = float(page.input_value("#id_lat"))
    lon = float(page.input_value("#id_lon"))
    assert abs(lat - YSTAD[1]) < 0.1
    assert abs(lon - YSTAD[0]) < 0.1
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)
    page.fill("#id_description", DESCRIPTION)
    assert_fits_the_width(page)
    screenshot(page, "report-form.png", full_page=True)
    page.click("#submit-report")
    page.wait_for_url(re.compile(r"/reports/\d+/$"))
    incident_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(page.locator("#incident-status")).to_have_text("Ny")
    expect(page.locator(".description")).to_have_text(DESCRIPTION)
    wait_for_outline(page, "detail-map")
    assert_fits_the_width(page)
    incident = Incident.objects.get(pk=incident_id)
    assert incident.reporter == world.users["kommun_rapportor"]
    assert incident.municipality == world.ystad
    assert (round(incident.lat, 6), round(incident.lon, 6)) == (lat, lon)
    log_out(session, "kommun_rapportor")

    # 2. The coordinator finds it among the new reports and reviews it.
    page.set_viewport_size(DESKTOP)
    log_in(session, "kommun_samordnare")
    page.goto(session.url("/reports/"))
    total = Incident.objects.count()
    waiting = Incident.objects.filter(status=Status.NEW).count()
    assert 1 < waiting < total
    expect(page.locator("#results tbody tr")).to_have_count(total)
    page.select_option("#id_status", label="Ny")
    page.locator("form.filters").get_by_role("button", name="Filtrera").click()
    page.wait_for_url(re.compile(r"status=new"))
    expect(page.locator("#results tbody tr")).to_have_count(waiting)
    expect(page.locator("#results .status")).to_have_text(["Ny"] * waiting)
    page.locator(f'#results a[href="/reports/{incident_id}/"]').click()
    page.wait_for_url(session.url(f"/reports/{incident_id}/"))
    page.select_option("#id_to_status", label="Granskad")
    page.get_by_role("button", name="Spara granskning").click()
    page.wait_for_url(session.url(f"/reports/{incident_id}/"))
    expect(page.locator("#incident-status")).to_have_text("Granskad")
    assert Incident.objects.get(pk=incident_id).status == Status.REVIEWED

    # 3. The map of reports loads them and clusters them over our own outlines.
    page.goto(session.url("/reports/map/"))
    wait_for_outline(page, "incident-map")
    loaded = page.wait_for_selector("#incident-map[data-loaded]")
    assert int(loaded.get_attribute("data-loaded")) == total
    expect(page.locator("#incident-map .leaflet-marker-icon").first).to_be_visible()
    expect(page.locator("#map-status")).to_contain_text(str(total))
    screenshot(page, "map.png", full_page=True)

    # 4. The dashboard.
    page.goto(session.url("/"))
    expect(page.locator(".card")).to_have_count(3)
    screenshot(page, "dashboard.png")

    assert session.problems.items == []


def test_report_without_pin_is_refused_and_keeps_the_text(world, open_browser):
    from samverkan.incidents.models import Incident

    # Many staff browsers ask for English; the product still speaks Swedish unless the user switches.
    session = open_browser(PHONE, locale="en-US")
    page = session.page
    log_in(session, "kommun_rapportor")
    page.goto(session.url("/reports/new/"))
    wait_for_outline(page, "report-map")
    page.select_option("#id_category", label="Klotter")
    page.fill("#id_description", DESCRIPTION)
    page.click("#submit-report")
    expect(page.get_by_text("Sätt en nål på kartan eller använd din position.")).to_be_visible()
    assert page.url == session.url("/reports/new/")
    wait_for_outline(page, "report-map")
    assert page.input_value("#id_lat") == ""
    assert page.input_value("#id_description") == DESCRIPTION
    assert page.input_value("#id_category") != ""
    assert not Incident.objects.exists()
    assert session.problems.items == []
