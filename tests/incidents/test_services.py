"""Writes of reports: create, edit, review — including the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from samverkan.incidents import services
from samverkan.incidents.models import Category, Precision, Sensitivity, Status
from samverkan.places.geo import point_to_sweref
from tests.factories import SIMRISHAMN, YSTAD


def klotter():
    return Category.objects.get(code="klotter", municipality=None)


def create(world, user_key="kommun_rapportor", **kwargs):
    defaults = {
        "category": klotter(),
        "lon": YSTAD[0],
        "lat": YSTAD[1],
        "occurred_from": timezone.now() - dt.timedelta(minutes=10),
    }
    defaults.update(kwargs)
    return services.incident_create(user=world.users[user_key], **defaults)


def test_create_places_the_report(world):
    incident = create(world, description="Klotter på elskåpet.")
    assert incident.municipality == world.ystad
    assert incident.source_organisation == world.kommun
    assert incident.status == Status.NEW
    x, y = point_to_sweref(*YSTAD)
    assert (incident.x, incident.y) == pytest.approx((x, y))
    # SWEREF 99 TM near Ystad: easting ~425 km, northing ~6,143 km.
    assert 420_000 < incident.x < 430_000 and 6_140_000 < incident.y < 6_146_000
    assert [a.name for a in incident.areas.all()] == ["Centrum"]
    assert incident.personal_data_flags == []


def test_area_assignment_respects_validity_dates(world):
    from samverkan.places.models import Area
    from samverkan.places.services import area_replace
    from tests.factories import square

    old = Area.objects.get(name="Centrum")
    area_replace(area=old, geometry=square(YSTAD[0] + 0.05, YSTAD[1], 0.01), valid_from=dt.date(2024, 1, 1))
    before = create(world, occurred_from=timezone.make_aware(dt.datetime(2023, 6, 1, 12)))
    after = create(world, occurred_from=timezone.make_aware(dt.datetime(2024, 6, 1, 12)))
    assert list(before.areas.values_list("pk", flat=True)) == [old.pk]
    assert list(after.areas.all()) == []  # the new boundary no longer covers the point
    assert Area.objects.filter(name="Centrum").count() == 2


def test_police_member_reports_for_the_police(world):
    incident = create(world, "polis_rapportor", lon=SIMRISHAMN[0], lat=SIMRISHAMN[1])
    assert incident.municipality == world.simrishamn
    assert incident.source_organisation == world.polis


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(SIMRISHAMN[0], SIMRISHAMN[1]), (13.0, 55.6), (2.35, 48.85), (200.0, 55.0)],
    ids=["other-municipality", "malmo-not-covered", "paris", "invalid"],
)
def test_point_outside_covered_municipalities_is_refused(world, lon, lat):
    with pytest.raises(ValidationError) as excinfo:
        create(world, lon=lon, lat=lat)
    assert "location" in excinfo.value.message_dict


def test_future_time_and_reversed_window_are_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        create(world, occurred_from=timezone.now() + dt.timedelta(hours=2))
    assert "occurred_from" in excinfo.value.message_dict
    start = timezone.now() - dt.timedelta(hours=1)
    with pytest.raises(ValidationError) as excinfo:
        create(world, occurred_from=start, occurred_to=start - dt.timedelta(minutes=1))
    assert "occurred_to" in excinfo.value.message_dict


def test_kommun_staff_cannot_restrict_to_police(world):
    with pytest.raises(ValidationError) as excinfo:
        create(world, "kommun_samordnare", sensitivity=Sensitivity.POLICE_RESTRICTED)
    assert "sensitivity" in excinfo.value.message_dict
    assert (
        create(world, "polis_analytiker", sensitivity=Sensitivity.POLICE_RESTRICTED).sensitivity == "police_restricted"
    )


def test_reader_cannot_report(world):
    with pytest.raises(ValidationError):
        create(world, "kommun_lasare")


def test_inactive_category_is_refused(world):
    category = klotter()
    category.active = False
    category.save()
    with pytest.raises(ValidationError) as excinfo:
        create(world, category=category)
    assert "category" in excinfo.value.message_dict


def test_personal_data_is_flagged_then_redacted_in_review(world):
    incident = create(world, description="Ring mig på 070-123 45 67 om bilen ABC 123.")
    kinds = sorted(f["kind"] for f in incident.personal_data_flags)
    assert kinds == ["phone", "plate"]
    reviewer = world.users["kommun_samordnare"]
    with pytest.raises(ValidationError) as excinfo:
        services.incident_review(user=reviewer, incident_id=incident.pk, to_status=Status.REVIEWED)
    assert "redact_personal_data" in excinfo.value.message_dict
    incident = services.incident_review(
        user=reviewer, incident_id=incident.pk, to_status=Status.REVIEWED, redact_personal_data=True
    )
    assert "070" not in incident.description and "ABC" not in incident.description
    assert incident.description.startswith("Ring mig på ")
    assert incident.personal_data_flags == []
    change = incident.status_changes.get()
    assert (change.from_status, change.to_status, change.redacted) == ("new", "reviewed", True)


def test_review_workflow_moves_forward_only(world):
    incident = create(world)
    reviewer = world.users["kommun_analytiker"]
    services.incident_review(user=reviewer, incident_id=incident.pk, to_status=Status.REVIEWED)
    services.incident_review(user=reviewer, incident_id=incident.pk, to_status=Status.ACTED_ON)
    with pytest.raises(ValidationError):
        services.incident_review(user=reviewer, incident_id=incident.pk, to_status=Status.NEW)
    services.incident_review(user=reviewer, incident_id=incident.pk, to_status=Status.CLOSED)
    assert list(incident.status_changes.values_list("to_status", flat=True)) == ["reviewed", "acted_on", "closed"]


def test_reporter_cannot_review(world):
    incident = create(world)
    with pytest.raises(Http404):
        services.incident_review(user=world.users["kommun_rapportor"], incident_id=incident.pk, to_status="reviewed")


def test_update_moves_the_report_and_rescreens(world):
    incident = create(world)
    updated = services.incident_update(
        user=world.users["kommun_rapportor"],
        incident_id=incident.pk,
        category=klotter(),
        lon=YSTAD[0] + 0.05,
        lat=YSTAD[1],
        occurred_from=incident.occurred_from,
        description="Mejla test@example.se",
    )
    assert updated.areas.count() == 0
    assert [f["kind"] for f in updated.personal_data_flags] == ["email"]
    assert updated.x > incident.x


def test_precision_municipality_gets_no_areas(world):
    incident = create(world, precision=Precision.MUNICIPALITY)
    assert incident.areas.count() == 0
