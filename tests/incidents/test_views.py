"""Report pages through the test client: the form, its refusals, list filters, review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.incidents.models import Category, Incident
from tests.factories import SIMRISHAMN, YSTAD, IncidentFactory


@pytest.fixture
def reporter(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(world.users["kommun_rapportor"])
    return client


def form_data(**overrides):
    data = {
        "category": Category.objects.get(code="klotter", municipality=None).pk,
        "lat": YSTAD[1],
        "lon": YSTAD[0],
        "occurred_from": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "description": "Nytt klotter på skolans gavel.",
        "severity": 1,
        "sensitivity": "shared",
    }
    data.update(overrides)
    return data


def test_form_defaults_to_now_and_lists_categories(reporter):
    response = reporter.get(reverse("incidents:create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Klotter" in html and 'type="datetime-local"' in html
    assert timezone.localtime().strftime("%Y-%m-%dT") in html
    # Assets are served locally, never from a CDN.
    assert "/static/vendor/leaflet/leaflet.js" in html and "unpkg" not in html and "cdn" not in html.lower()


def test_report_is_saved_and_shown(reporter, world):
    response = reporter.post(reverse("incidents:create"), form_data())
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("incidents:detail", args=[incident.pk])
    page = reporter.get(response["Location"]).content.decode()
    assert "Nytt klotter på skolans gavel." in page


def test_missing_pin_comes_back_in_swedish_and_keeps_the_text(reporter):
    response = reporter.post(reverse("incidents:create"), form_data(lat="", lon="", description="Trasig belysning"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sätt en nål på kartan eller använd din position." in html
    assert "Trasig belysning" in html
    assert not Incident.objects.exists()


def test_point_outside_the_municipalities_is_refused_with_a_message(reporter):
    response = reporter.post(reverse("incidents:create"), form_data(lat=SIMRISHAMN[1], lon=SIMRISHAMN[0]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "utanför de kommuner din organisation arbetar i" in html
    assert "Nytt klotter på skolans gavel." in html
    assert not Incident.objects.exists()


def test_bad_date_comes_back_beside_the_field(reporter):
    response = reporter.post(reverse("incidents:create"), form_data(occurred_from="2024-02-31T10:00"))
    assert response.status_code == 200
    assert "Fyll i ett giltigt datum/tid." in response.content.decode()
    assert not Incident.objects.exists()


def test_personal_data_warns_first_then_sends(reporter):
    data = form_data(description="Ägaren heter något, ring 0411-123 45")
    first = reporter.post(reverse("incidents:create"), data)
    html = first.content.decode()
    assert first.status_code == 200 and not Incident.objects.exists()
    assert "<mark>0411-123 45</mark>" in html
    assert 'name="confirm_personal_data" value="True"' in html or 'name="confirm_personal_data" value="1"' in html
    second = reporter.post(reverse("incidents:create"), {**data, "confirm_personal_data": "1"})
    assert second.status_code == 302
    incident = Incident.objects.get()
    assert incident.personal_data_flags[0]["kind"] == "phone"


def test_list_filters_and_paginates(world, settings):
    settings.SAMVERKAN_PAGE_SIZE = 5
    now = timezone.now()
    for i in range(12):
        IncidentFactory(
            municipality=world.ystad,
            source_organisation=world.kommun,
            reporter=world.users["kommun_rapportor"],
            occurred_from=now - dt.timedelta(days=i),
            status="new" if i % 2 else "closed",
        )
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    page1 = client.get(reverse("incidents:list"), {"status": "new"})
    assert page1.context["page"].paginator.count == 6
    assert len(page1.context["page"].object_list) == 5
    page2 = client.get(reverse("incidents:list"), {"status": "new", "page": 2})
    assert len(page2.context["page"].object_list) == 1
    since = (now - dt.timedelta(days=2)).astimezone(timezone.get_current_timezone()).date().isoformat()
    recent = client.get(reverse("incidents:list"), {"date_from": since})
    assert recent.context["page"].paginator.count == 3
    htmx = client.get(reverse("incidents:list"), {"status": "new"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in htmx.content and b'id="results"' in htmx.content


def test_review_from_the_detail_page(world):
    incident = IncidentFactory(
        municipality=world.ystad, source_organisation=world.kommun, reporter=world.users["kommun_rapportor"]
    )
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'name="to_status"' in page
    response = client.post(reverse("incidents:review", args=[incident.pk]), {"to_status": "reviewed", "note": "ok"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "reviewed"


def test_map_page_and_english(world):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    client.post(reverse("set_language"), {"language": "en"})
    html = client.get(reverse("incidents:map")).content.decode()
    assert "Map of reports" in html and "leaflet.markercluster.js" in html
    client.post(reverse("set_language"), {"language": "sv"})
    assert "Karta över rapporter" in client.get(reverse("incidents:map")).content.decode()


def test_rapportor_sees_only_own_reports_in_list(world):
    own = IncidentFactory(
        municipality=world.ystad, source_organisation=world.kommun, reporter=world.users["kommun_rapportor"]
    )
    IncidentFactory(
        municipality=world.ystad, source_organisation=world.kommun, reporter=world.users["kommun_samordnare"]
    )
    client = Client()
    client.force_login(world.users["kommun_rapportor"])
    assert [i.pk for i in client.get(reverse("incidents:list")).context["page"]] == [own.pk]


def test_swedish_by_default_even_for_english_browsers(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    client.force_login(world.users["kommun_samordnare"])
    html = client.get(reverse("incidents:map")).content.decode()
    assert "Karta över rapporter" in html and 'lang="sv"' in html
