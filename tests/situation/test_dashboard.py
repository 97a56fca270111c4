"""The dashboard: this ISO week per focus area against the same weekdays of the previous 8 weeks."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.incidents.models import Category
from samverkan.incidents.selectors import weekly_counts_by_focus_area
from tests.factories import IncidentFactory


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_week_to_date_counts(world):
    today = dt.date(2026, 11, 25)  # a Wednesday in ISO week 48
    narkotika = Category.objects.get(code="narkotika", municipality=None)
    make = {"municipality": world.ystad, "source_organisation": world.kommun}
    IncidentFactory(occurred_from=at(dt.date(2026, 11, 23)), category=narkotika, **make)  # this Monday
    IncidentFactory(occurred_from=at(dt.date(2026, 11, 25), 23), category=narkotika, **make)  # today, late
    IncidentFactory(occurred_from=at(dt.date(2026, 11, 16)), category=narkotika, **make)  # last Monday
    IncidentFactory(occurred_from=at(dt.date(2026, 11, 20)), category=narkotika, **make)  # last Friday: not to date
    IncidentFactory(occurred_from=at(dt.date(2026, 9, 27)), category=narkotika, **make)  # 9 weeks back: outside
    # Sunday 23:30 local time is still the previous ISO week, though it is Sunday 22:30 UTC.
    IncidentFactory(occurred_from=at(dt.date(2026, 11, 22), 23), category=narkotika, **make)
    week_start, rows = weekly_counts_by_focus_area(world.users["kommun_samordnare"], today=today)
    assert week_start == dt.date(2026, 11, 23)
    droger = next(r for r in rows if r.focus_area.code == "droger")
    assert droger.current == 2
    assert droger.previous_to_date == (0, 0, 0, 0, 0, 0, 0, 1)
    assert droger.previous_full == (0, 0, 0, 0, 0, 0, 0, 3)
    assert droger.baseline_mean == 1 / 8
    trafik = next(r for r in rows if r.focus_area.code == "trafik")
    assert trafik.current == 0 and sum(trafik.previous_full) == 0


def test_dashboard_renders_counts_and_honest_flags(world):
    make = {"municipality": world.ystad, "source_organisation": world.kommun}
    IncidentFactory(occurred_from=timezone.now() - dt.timedelta(minutes=5), **make)
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    response = client.get(reverse("situation:dashboard"))
    assert response.status_code == 200
    cards = {c["row"].focus_area.code: c for c in response.context["cards"]}
    assert cards["trygghet"]["row"].current == 1
    # One report against nothing is too few to call a change.
    assert cards["trygghet"]["comparison"].flag == "too_few"
    assert response.context["waiting"] == 1


def test_dashboard_hides_restricted_from_kommun(world):
    IncidentFactory(
        municipality=world.ystad,
        source_organisation=world.polis,
        sensitivity="police_restricted",
        occurred_from=timezone.now() - dt.timedelta(minutes=5),
    )
    kommun = Client()
    kommun.force_login(world.users["kommun_samordnare"])
    polis = Client()
    polis.force_login(world.users["polis_analytiker"])
    total = lambda c: sum(card["row"].current for card in c.get("/").context["cards"])  # noqa: E731
    assert total(kommun) == 0
    assert total(polis) == 1
