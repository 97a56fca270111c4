"""The daily counts behind baselines and trends follow every write: form, edit, imports, demo."""

import datetime as dt

from django.db.models import Sum
from django.utils import timezone

from samverkan.incidents import services
from samverkan.incidents.models import Category, Incident
from samverkan.situation.models import DailyCount
from samverkan.situation.services import daily_counts_rebuild
from tests.factories import YSTAD, IncidentFactory


def total(**filters) -> int:
    return DailyCount.objects.filter(**filters).aggregate(n=Sum("count"))["n"] or 0


def test_rebuild_counts_per_local_day_category_and_area(world):
    make = {"municipality": world.ystad, "source_organisation": world.kommun}
    # 23:30 local time on 1 June is 21:30 UTC: it belongs to 1 June.
    late = IncidentFactory(occurred_from=timezone.make_aware(dt.datetime(2026, 6, 1, 23, 30)), **make)
    late.areas.add(world.ystad.areas.get(name="Centrum"))
    IncidentFactory(occurred_from=timezone.make_aware(dt.datetime(2026, 6, 2, 0, 30)), **make)
    IncidentFactory(
        occurred_from=timezone.make_aware(dt.datetime(2026, 6, 2, 9)), sensitivity="police_restricted", **make
    )
    daily_counts_rebuild()
    assert total(day=dt.date(2026, 6, 1), area=None) == 1
    assert total(day=dt.date(2026, 6, 2), area=None) == 2
    assert total(day=dt.date(2026, 6, 2), area=None, sensitivity="police_restricted") == 1
    assert total(area__name="Centrum") == 1
    # A second rebuild replaces, never adds.
    daily_counts_rebuild()
    assert total(area=None) == 3


def test_the_report_form_service_keeps_counts_current(world):
    category = Category.objects.get(code="klotter", municipality=None)
    user = world.users["kommun_rapportor"]
    when = timezone.now() - dt.timedelta(hours=1)
    incident = services.incident_create(user=user, category=category, lon=YSTAD[0], lat=YSTAD[1], occurred_from=when)
    day = timezone.localdate(when)
    assert total(day=day, area=None) == 1 and total(day=day, area__name="Centrum") == 1
    earlier = when - dt.timedelta(days=3)
    services.incident_update(
        user=user, incident_id=incident.pk, category=category, lon=YSTAD[0], lat=YSTAD[1], occurred_from=earlier
    )
    assert total(day=day) == 0
    assert total(day=timezone.localdate(earlier), area=None) == 1
    assert Incident.objects.count() == 1
