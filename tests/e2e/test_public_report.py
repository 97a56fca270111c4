"""Digital trygghetsvandring in a real browser: a citizen on a phone marks an unsafe place and sends it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import PHONE
from tests.e2e.test_reporting_flow import assert_fits_the_width, wait_for_outline
from tests.factories import YSTAD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COMMENT = "Buskarna vid gångtunneln har vuxit igen och lampan är trasig."


def test_citizen_reports_an_unsafe_place_from_a_phone(world, open_browser, screenshot):
    from samverkan.imports.models_open311 import PublicRequest, PublicRequestStatus
    from samverkan.incidents.models import Incident

    session = open_browser(PHONE)
    page = session.page
    found: dict[str, list[dict]] = {}
    form_url = session.url(f"/oppet/{world.ystad.code}/trygghetsvandring/")

    page.goto(form_url)
    wait_for_outline(page, "public-report-map")
    found["report form"] = axe_violations(page)

    # Sent empty, the form comes back with the reasons beside the fields.
    page.click("#send-report")
    expect(page.locator("#pin-error")).to_have_text("Sätt en nål på kartan eller använd din position.")
    expect(page.locator("#kind-error")).to_be_visible()
    wait_for_outline(page, "public-report-map")
    found["report form with errors"] = axe_violations(page)

    page.get_by_label("Otrygg plats").check()
    assert page.input_value("#id_lat") == ""
    page.locator("#public-report-map").click()
    lat = float(page.input_value("#id_lat"))
    lon = float(page.input_value("#id_lon"))
    assert abs(lat - YSTAD[1]) < 0.1 and abs(lon - YSTAD[0]) < 0.1
    expect(page.locator("#public-report-map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#pin-status")).to_have_text("Nålen är satt.")
    page.fill("#id_comment", COMMENT)
    assert_fits_the_width(page)
    screenshot(page, "public-report-form.png", full_page=True)

    page.click("#send-report")
    page.wait_for_url(re.compile(rf"/oppet/{world.ystad.code}/trygghetsvandring/tack/\?arende=[a-z2-9]{{12}}$"))
    public_request = PublicRequest.objects.get()
    assert public_request.status == PublicRequestStatus.PENDING
    assert public_request.description == COMMENT
    assert (round(public_request.lat, 6), round(public_request.lon, 6)) == (lat, lon)
    assert not Incident.objects.exists()
    expect(page.locator("#report-id")).to_have_text(public_request.token)
    expect(page.locator("#report-follow")).to_have_attribute(
        "href", session.url(f"/open311/v2/requests/{public_request.token}.json")
    )
    assert "Buskarna" not in page.content()
    assert_fits_the_width(page)
    found["thanks page"] = axe_violations(page)

    failing = {name: violations for name, violations in found.items() if violations}
    assert not failing, "\n".join(f"{name}:\n{describe(violations)}" for name, violations in failing.items())
    # The empty form came back with 200: no failed request, script error or request outside the server.
    assert session.problems.items == []


def test_keyboard_places_the_pin_at_the_centre_and_warns_outside_the_municipality(world, open_browser):
    session = open_browser(PHONE)
    page = session.page
    page.goto(session.url(f"/oppet/{world.ystad.code}/trygghetsvandring/"))
    wait_for_outline(page, "public-report-map")
    page.focus("#pin-at-centre")
    page.keyboard.press("Enter")
    lat = float(page.input_value("#id_lat"))
    lon = float(page.input_value("#id_lon"))
    # The map opens on the municipality's outline (a square around Ystad here), so its centre is Ystad.
    assert abs(lat - YSTAD[1]) < 0.01 and abs(lon - YSTAD[0]) < 0.01
    expect(page.locator("#pin-status")).to_have_text("Nålen är satt.")

    # Moved far east, outside the outline, the pin still lands but the citizen is told at once.
    page.locator("#public-report-map").focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    page.focus("#pin-at-centre")
    page.keyboard.press("Enter")
    assert float(page.input_value("#id_lon")) > YSTAD[0] + 0.1
    expect(page.locator("#pin-status")).not_to_have_text("Nålen är satt.")
    assert session.problems.items == []
