"""Reads of reports. Every function takes the user and starts from the access funnel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from samverkan.accounts.access import Action, incidents_visible_to
from samverkan.accounts.models import User
from samverkan.incidents.models import FocusArea, Incident, Status


def incident_list_visible_to(user: User) -> QuerySet[Incident]:
    return incidents_visible_to(user, Action.VIEW).select_related(
        "category__focus_area", "municipality", "source_organisation"
    )


def incidents_waiting_for_review(user: User) -> QuerySet[Incident]:
    return incidents_visible_to(user, Action.REVIEW).filter(status=Status.NEW)


def iso_week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.isoweekday() - 1)


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class WeekCounts:
    """Counts of one focus area: this ISO week so far, and each previous week (oldest first) both over the same
    weekdays as have passed this week (a fair comparison mid-week) and in full."""

    focus_area: FocusArea
    current: int
    previous_to_date: tuple[int, ...]
    previous_full: tuple[int, ...]

    @property
    def baseline_mean(self) -> float:
        return sum(self.previous_to_date) / len(self.previous_to_date) if self.previous_to_date else 0.0

    @property
    def full_week_mean(self) -> float:
        return sum(self.previous_full) / len(self.previous_full) if self.previous_full else 0.0


def weekly_counts_by_focus_area(
    user: User, *, today: dt.date | None = None, weeks_back: int = 8, municipality_id: int | None = None
) -> tuple[dt.date, list[WeekCounts]]:
    """This ISO week (Europe/Stockholm) and the ``weeks_back`` weeks before it, per focus area, in one query."""
    today = today or timezone.localdate()
    week_start = iso_week_start(today)
    start = week_start - dt.timedelta(weeks=weeks_back)
    qs = incidents_visible_to(user, Action.VIEW).filter(
        occurred_from__gte=local_midnight(start), occurred_from__lt=local_midnight(week_start + dt.timedelta(days=7))
    )
    if municipality_id is not None:
        qs = qs.filter(municipality_id=municipality_id)
    # Bucket by local day in Python: database date functions differ between SQLite and PostgreSQL in time-zone
    # handling, and a few thousand rows are cheap to walk.
    days_elapsed = (today - week_start).days + 1
    full: dict[tuple[int, int], int] = {}
    to_date: dict[tuple[int, int], int] = {}
    for focus_id, occurred in qs.values_list("category__focus_area_id", "occurred_from").iterator():
        offset = (timezone.localtime(occurred).date() - start).days
        key = (focus_id, offset // 7)
        full[key] = full.get(key, 0) + 1
        if offset % 7 < days_elapsed:
            to_date[key] = to_date.get(key, 0) + 1
    rows = []
    for fa in FocusArea.objects.filter(active=True):
        rows.append(
            WeekCounts(
                focus_area=fa,
                current=to_date.get((fa.pk, weeks_back), 0),
                previous_to_date=tuple(to_date.get((fa.pk, w), 0) for w in range(weeks_back)),
                previous_full=tuple(full.get((fa.pk, w), 0) for w in range(weeks_back)),
            )
        )
    return week_start, rows


def status_counts(user: User) -> dict[str, int]:
    return dict(
        incidents_visible_to(user, Action.VIEW).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
