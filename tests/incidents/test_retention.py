"""Gallring of reports: who is due when, what anonymisation removes and keeps, and that counts do not move."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from samverkan.incidents import services
from samverkan.incidents.models import Category, Incident, Precision, Source, Status, StatusChange
from samverkan.incidents.retention import (
    incidents_anonymise,
    incidents_due_for_anonymisation,
    places_coarsen,
    retention_cutoff,
)
from samverkan.places.geo import point_to_sweref, to_sweref
from samverkan.places.models import Area
from samverkan.situation.models import DailyCount
from samverkan.situation.selectors import picture_compute
from samverkan.situation.services import daily_counts_rebuild
from tests.factories import YSTAD, IncidentFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2029, 6, 15, 12, 0, tzinfo=STOCKHOLM)
DAY = dt.timedelta(days=1)
CUTOFF_36 = dt.datetime(2026, 6, 15, 12, 0, tzinfo=STOCKHOLM)
CUTOFF_12 = dt.datetime(2028, 6, 15, 12, 0, tzinfo=STOCKHOLM)


def category(code: str) -> Category:
    return Category.objects.get(code=code, municipality=None)


def report(
    world, when: dt.datetime, code: str = "skadegorelse", *, user="kommun_rapportor", lon=YSTAD[0], lat=YSTAD[1], **kw
) -> Incident:
    """A report made through the service at the time it happened, by a reporter, with personal data in its text."""
    kw.setdefault("description", "Sprejade på väggen, ring Kalle på 070-123 45 67.")
    with time_machine.travel(when + dt.timedelta(hours=1), tick=False):
        return services.incident_create(
            user=world.users[user], category=category(code), lon=lon, lat=lat, occurred_from=when, **kw
        )


def reviewed(world, incident: Incident, note: str = "Pratade med fastighetsägaren Anna Berg.") -> Incident:
    with time_machine.travel(incident.occurred_from + dt.timedelta(hours=2), tick=False):
        return services.incident_review(
            user=world.users["kommun_samordnare"],
            incident_id=incident.pk,
            to_status=Status.REVIEWED,
            note=note,
            redact_personal_data=True,
        )


def due_ids(now: dt.datetime = NOW) -> set[int]:
    return set(incidents_due_for_anonymisation(now=now).values_list("pk", flat=True))


def run(*, apply: bool = True, batch_size: int = 500):
    with time_machine.travel(NOW, tick=False):
        return incidents_anonymise(apply=apply, batch_size=batch_size)


def snapshot() -> dict:
    """Every row anonymisation could touch, in full."""
    return {
        "incidents": list(Incident.objects.order_by("pk").values()),
        "changes": list(StatusChange.objects.order_by("pk").values()),
        "areas": sorted(Incident.areas.through.objects.values_list("incident_id", "area_id")),
        "counts": daily_counts(),
    }


def daily_counts() -> list[tuple]:
    return sorted(
        DailyCount.objects.values_list("municipality_id", "area_id", "day", "category_id", "sensitivity", "count"),
        key=str,
    )


# --- the period -----------------------------------------------------------------------------------------------------


def test_cutoff_counts_calendar_months_on_stockholm_time():
    assert retention_cutoff(now=NOW, months=36) == CUTOFF_36
    # A day the earlier month lacks becomes its last day.
    assert retention_cutoff(now=dt.datetime(2029, 5, 31, 8, tzinfo=STOCKHOLM), months=3) == dt.datetime(
        2029, 2, 28, 8, tzinfo=STOCKHOLM
    )
    assert retention_cutoff(now=dt.datetime(2028, 2, 29, 8, tzinfo=STOCKHOLM), months=48) == dt.datetime(
        2024, 2, 29, 8, tzinfo=STOCKHOLM
    )
    # Across the new year and in UTC: 00:30 on 1 January in Stockholm is still 31 December in UTC.
    now_utc = dt.datetime(2028, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert retention_cutoff(now=now_utc, months=1) == dt.datetime(2028, 12, 1, 0, 30, tzinfo=STOCKHOLM)


def test_a_day_before_and_after_the_period_per_category(world, settings):
    settings.SAMVERKAN_RETENTION_MONTHS = 36
    klotter = category("klotter")
    klotter.retention_months = 12
    klotter.save()
    default_old = report(world, CUTOFF_36 - DAY)
    default_young = report(world, CUTOFF_36 + DAY)
    own_old = report(world, CUTOFF_12 - DAY, "klotter")
    own_young = report(world, CUTOFF_12 + DAY, "klotter")
    default_at_own_age = report(world, CUTOFF_12 - DAY)

    assert due_ids() == {default_old.pk, own_old.pk}
    summary = run()
    assert summary.total == 2
    assert summary.per_category() == {default_old.category_id: 1, klotter.pk: 1}
    assert summary.per_municipality() == {world.ystad.pk: 2}
    anonymised = set(Incident.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True))
    assert anonymised == {default_old.pk, own_old.pk}
    for young in (default_young, own_young, default_at_own_age):
        young.refresh_from_db()
        assert young.description and young.reporter is not None and young.precision == Precision.EXACT


def test_the_default_comes_from_the_setting(world, settings):
    settings.SAMVERKAN_RETENTION_MONTHS = 12
    year_old = report(world, CUTOFF_12 - DAY)
    young = report(world, CUTOFF_12 + DAY)
    assert due_ids() == {year_old.pk}
    settings.SAMVERKAN_RETENTION_MONTHS = 13
    assert due_ids() == set()
    # A month and two days later both are 13 months old.
    assert due_ids(NOW + dt.timedelta(days=32)) == {year_old.pk, young.pk}


# --- what is removed and what is kept ---------------------------------------------------------------------------------


def test_dry_run_counts_and_writes_nothing(world):
    old = reviewed(world, report(world, CUTOFF_36 - DAY))
    simrishamn = report(world, CUTOFF_36 - 30 * DAY, "klotter", user="polis_rapportor", lon=14.35, lat=55.556)
    report(world, CUTOFF_36 + DAY)
    before = snapshot()
    summary = run(apply=False)
    assert not summary.applied
    assert summary.total == 2
    assert summary.counts == {(old.category_id, world.ystad.pk): 1, (simrishamn.category_id, world.simrishamn.pk): 1}
    assert snapshot() == before


def test_apply_removes_text_and_people_and_coarsens_the_place(world, settings):
    settings.SAMVERKAN_RETENTION_GRID_METRES = 500
    incident = reviewed(world, report(world, CUTOFF_36 - 40 * DAY, lon=YSTAD[0] + 0.0031, lat=YSTAD[1] - 0.0017))
    assert incident.personal_data_flags == [] and incident.reviewed_by is not None
    flagged = report(world, CUTOFF_36 - 41 * DAY)  # never reviewed: still holds its findings
    assert flagged.personal_data_flags
    old_x, old_y = incident.x, incident.y
    area_ids = set(incident.areas.values_list("pk", flat=True))
    assert area_ids

    run()
    incident.refresh_from_db()
    flagged.refresh_from_db()
    for anonymised in (incident, flagged):
        assert anonymised.description == ""
        assert anonymised.personal_data_flags == []
        assert anonymised.reporter is None
        assert anonymised.reviewed_by is None
        assert anonymised.anonymised_at == NOW
        assert anonymised.precision == Precision.AREA
    change = incident.status_changes.get()
    assert (change.note, change.changed_by) == ("", None)
    assert (change.from_status, change.to_status) == (Status.NEW, Status.REVIEWED)
    # The centre of the point's own 500 m cell, no farther than half the cell's diagonal.
    assert (math.floor(incident.x / 500), math.floor(incident.y / 500)) == (
        math.floor(old_x / 500),
        math.floor(old_y / 500),
    )
    assert (incident.x % 500, incident.y % 500) == (250, 250)
    assert math.dist((incident.x, incident.y), (old_x, old_y)) <= 500 / math.sqrt(2)
    assert point_to_sweref(incident.lon, incident.lat) == pytest.approx((incident.x, incident.y), abs=0.01)
    # What counts is kept as it was.
    assert set(incident.areas.values_list("pk", flat=True)) == area_ids
    assert incident.municipality == world.ystad
    assert incident.status == Status.REVIEWED
    assert incident.occurred_from == CUTOFF_36 - 40 * DAY


def test_the_grid_size_is_a_setting(world, settings):
    settings.SAMVERKAN_RETENTION_GRID_METRES = 1000
    incident = report(world, CUTOFF_36 - DAY, lon=YSTAD[0] + 0.004, lat=YSTAD[1] + 0.002)
    old = (incident.x, incident.y)
    run()
    incident.refresh_from_db()
    assert (incident.x % 1000, incident.y % 1000) == (500, 500)
    assert (incident.x // 1000, incident.y // 1000) == (old[0] // 1000, old[1] // 1000)


def test_a_municipality_level_point_is_not_moved(world):
    incident = IncidentFactory(
        municipality=world.ystad,
        precision=Precision.MUNICIPALITY,
        source=Source.POLISEN,
        external_id="123",
        occurred_from=CUTOFF_36 - DAY,
    )
    run()
    after = Incident.objects.get(pk=incident.pk)
    assert (after.lon, after.lat, after.x, after.y) == (incident.lon, incident.lat, incident.x, incident.y)
    assert after.precision == Precision.MUNICIPALITY
    assert after.description == "" and after.anonymised_at == NOW


def test_coarsening_is_vectorised_and_stable():
    x, y = to_sweref([13.80, 13.83, 14.35], [55.42, 55.44, 55.556])
    once = places_coarsen(x, y, cell_size=250)
    twice = places_coarsen(once.x, once.y, cell_size=250)
    np.testing.assert_array_equal(once.x, twice.x)
    np.testing.assert_array_equal(once.y, twice.y)
    assert np.all(np.floor(once.x / 250) == np.floor(x / 250))
    assert np.all(np.hypot(once.x - x, once.y - y) <= 250 / math.sqrt(2))


# --- counts ---------------------------------------------------------------------------------------------------------


def _point_leaving_centrum(cell_size: float) -> tuple[float, float]:
    """A point inside Centrum (a square of ±0.01° around Ystad) whose grid cell's centre lies outside it."""
    offsets = np.linspace(-0.0099, 0.0099, 41)
    lon, lat = np.meshgrid(YSTAD[0] + offsets, YSTAD[1] + offsets)
    x, y = to_sweref(lon.ravel(), lat.ravel())
    moved = places_coarsen(x, y, cell_size=cell_size)
    outside = (np.abs(moved.lon - YSTAD[0]) > 0.01) | (np.abs(moved.lat - YSTAD[1]) > 0.01)
    assert outside.any()
    i = int(np.argmax(outside))
    return float(lon.ravel()[i]), float(lat.ravel()[i])


def test_counts_and_the_picture_are_the_same_after_anonymisation(world, settings):
    # Centrum's edges lie near the centres of 500 m cells; with 1 km cells some of its points move out of it.
    settings.SAMVERKAN_RETENTION_GRID_METRES = 1000
    edge = _point_leaving_centrum(1000)
    reports = [
        report(world, dt.datetime(2026, 3, 2, 21, 15, tzinfo=STOCKHOLM), lon=edge[0], lat=edge[1]),
        report(world, dt.datetime(2026, 3, 9, 23, 50, tzinfo=STOCKHOLM), "klotter"),
        report(world, dt.datetime(2026, 4, 1, 0, 10, tzinfo=STOCKHOLM), "narkotika", lon=YSTAD[0] + 0.05),
        report(
            world,
            dt.datetime(2026, 5, 30, 14, 0, tzinfo=STOCKHOLM),
            "fortkorning",
            user="polis_rapportor",
            sensitivity="police_restricted",
        ),
        report(world, dt.datetime(2027, 2, 1, 9, 0, tzinfo=STOCKHOLM)),  # young: stays as it is
    ]
    centrum = Area.objects.get(name="Centrum")
    assert centrum in reports[0].areas.all()
    user = world.users["polis_samordnare"]

    def picture(**kwargs) -> dict:
        with time_machine.travel(NOW, tick=False):
            result = picture_compute(user=user, municipality_id=world.ystad.pk, period="2026", view="police", **kwargs)
        return {key: result[key] for key in ("total", "key_figures", "trend", "top_categories", "top_areas")}

    counts_before = daily_counts()
    pictures_before = [picture(), picture(area_id=centrum.pk)]
    assert pictures_before[0]["total"]["current"] == 4
    assert pictures_before[1]["total"]["current"] == 3

    summary = run()
    assert summary.total == 4
    moved = Incident.objects.get(pk=reports[0].pk)
    assert max(abs(moved.lon - YSTAD[0]), abs(moved.lat - YSTAD[1])) > 0.01  # the coarsened point left Centrum …
    assert centrum in moved.areas.all()  # … and the report still counts there
    daily_counts_rebuild()
    assert daily_counts() == counts_before
    assert [picture(), picture(area_id=centrum.pk)] == pictures_before


# --- runs -----------------------------------------------------------------------------------------------------------


def test_a_second_run_does_nothing(world):
    reviewed(world, report(world, CUTOFF_36 - DAY))
    report(world, CUTOFF_36 - 2 * DAY)
    assert run().total == 2
    after_first = snapshot()
    assert run(apply=False).total == 0
    assert run().total == 0
    assert snapshot() == after_first


def test_a_report_that_got_text_back_is_anonymised_again(world):
    incident = report(world, CUTOFF_36 - DAY)
    run()
    # An edit or a re-import of an old file can put text and an exact place back.
    Incident.objects.filter(pk=incident.pk).update(description="Ny text", precision=Precision.EXACT)
    assert due_ids() == {incident.pk}
    assert run().total == 1
    incident.refresh_from_db()
    assert (incident.description, incident.precision) == ("", Precision.AREA)


def test_a_failure_mid_batch_rolls_that_batch_back(world, monkeypatch):
    incidents = [reviewed(world, report(world, CUTOFF_36 - (i + 1) * DAY)) for i in range(4)]
    before = {row["id"]: row for row in snapshot()["incidents"]}
    notes_before = dict(StatusChange.objects.values_list("incident_id", "note"))
    original = QuerySet.update
    calls = []

    def update(self, **kwargs):
        if self.model is StatusChange:
            calls.append(kwargs)
            if len(calls) == 2:
                raise DatabaseError("disk full")
        return original(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    with pytest.raises(DatabaseError):
        run(batch_size=2)
    monkeypatch.undo()

    first, second = sorted(i.pk for i in incidents)[:2], sorted(i.pk for i in incidents)[2:]
    rows = {row["id"]: row for row in snapshot()["incidents"]}
    notes = dict(StatusChange.objects.values_list("incident_id", "note"))
    for pk in first:
        assert rows[pk]["description"] == "" and rows[pk]["anonymised_at"] == NOW and notes[pk] == ""
    for pk in second:
        assert rows[pk] == before[pk]  # nothing half-done: text, reporter, place, precision all as they were
        assert notes[pk] == notes_before[pk]
    # The next run continues with what is left.
    assert run().total == 2
    assert not Incident.objects.exclude(description="").exists()


# --- the category admin ---------------------------------------------------------------------------------------------


def test_the_category_admin_shows_and_edits_the_period(world, settings):
    settings.SAMVERKAN_RETENTION_MONTHS = 36
    root = world.users["nobody"]
    root.is_staff = root.is_superuser = True
    root.save()
    client = Client()
    client.force_login(root)
    klotter = category("klotter")
    url = f"/admin/incidents/category/{klotter.pk}/change/"
    form = {
        "code": klotter.code,
        "name_sv": klotter.name_sv,
        "name_en": klotter.name_en,
        "focus_area": klotter.focus_area_id,
        "municipality": "",
        "ordering": klotter.ordering,
        "active": "on",
        "public": "on",
        "valid_from": klotter.valid_from.isoformat(),
        "valid_to": "",
    }
    with translation.override("en"):
        page = client.get(url).content.decode()
        # The product speaks Swedish unless the user chose otherwise.
        assert 'name="retention_months"' in page and "nu 36 månader" in page
        assert client.post(url, {**form, "retention_months": "0"}).status_code == 200  # refused, shown again
        klotter.refresh_from_db()
        assert klotter.retention_months is None
        assert client.post(url, {**form, "retention_months": "12"}).status_code == 302
        klotter.refresh_from_db()
        assert klotter.retention_months == 12
        listing = client.get("/admin/incidents/category/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert '<td class="field-retention">12</td>' in listing
        assert '<td class="field-retention">36 (standard)</td>' in listing


def test_an_anonymised_report_can_no_longer_be_edited(world):
    incident = IncidentFactory(municipality=world.ystad)
    Incident.objects.filter(pk=incident.pk).update(anonymised_at=timezone.now())
    user = world.users["kommun_samordnare"]
    with pytest.raises(ValidationError, match="avidentifierad"):
        services.incident_update(
            user=user,
            incident_id=incident.pk,
            category=incident.category,
            lat=incident.lat,
            lon=incident.lon,
            occurred_from=incident.occurred_from,
            description="Ny text",
        )
    client = Client()
    client.force_login(user)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert reverse("incidents:edit", args=[incident.pk]) not in page
