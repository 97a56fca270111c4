"""Reads of measures. Every function takes the user and starts from the access funnel."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from django.db.models import Q, QuerySet

from samverkan.accounts.access import Action, access_measure_by_id, measures_visible_to
from samverkan.accounts.models import Organisation, User
from samverkan.places.geo import geometry_from_geojson
from samverkan.places.models import Area
from samverkan.plan.models import Measure, MeasureStatus
from samverkan.plan.services import TRANSITIONS, editing_organisation_ids


def _polygon_ids_in(qs: QuerySet[Measure], area: Area) -> list[int]:
    """Ids of the measures in ``qs`` whose drawn place overlaps the area (drawn places are few; shapely is fast)."""
    shape = geometry_from_geojson(area.geometry)
    shapely.prepare(shape)
    ids = []
    for pk, polygon in (
        qs.filter(municipality_id=area.municipality_id).exclude(polygon=None).values_list("pk", "polygon")
    ):
        try:
            if shape.intersects(geometry_from_geojson(polygon)):
                ids.append(pk)
        except (ValueError, TypeError, AttributeError):
            continue
    return ids


def _overlapping(qs: QuerySet[Measure], start: dt.date | None, end: dt.date | None) -> QuerySet[Measure]:
    """Measures whose period [start, end] shares at least one day with the given one (an open end runs on)."""
    if end is not None:
        qs = qs.filter(start__lte=end)
    if start is not None:
        qs = qs.filter(Q(end__isnull=True) | Q(end__gte=start))
    return qs


def measure_list(
    user: User,
    *,
    status: str | None = None,
    focus_area_id: int | None = None,
    area_id: int | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    organisation_id: int | None = None,
    municipality_id: int | None = None,
) -> QuerySet[Measure]:
    """The measures ``user`` may see, filtered. An area matches a measure chosen for it or drawn over it; a period
    matches every measure that runs on at least one of its days."""
    qs = measures_visible_to(user, Action.VIEW)
    if municipality_id is not None:
        qs = qs.filter(municipality_id=municipality_id)
    if status:
        qs = qs.filter(status=status)
    if focus_area_id is not None:
        qs = qs.filter(focus_area_id=focus_area_id)
    if organisation_id is not None:
        qs = qs.filter(responsible_organisation_id=organisation_id)
    qs = _overlapping(qs, period_start, period_end)
    if area_id is not None:
        area = Area.objects.filter(pk=area_id).first()
        if area is None:
            return qs.none()
        qs = qs.filter(Q(areas=area) | Q(pk__in=_polygon_ids_in(qs, area))).distinct()
    return qs.select_related("focus_area", "responsible_organisation", "municipality").order_by("-start", "-id")


def measures_in_area_during(
    user: User, *, area_id: int, start: dt.date, end: dt.date, include_cancelled: bool = False
) -> list[Measure]:
    """What was done in an area during a period, for the situational picture: the measures ``user`` may see that
    were chosen for the area or drawn over it, and ran on at least one day of [start, end]. Cancelled measures did
    not happen and are left out unless asked for."""
    qs = measure_list(user, area_id=area_id, period_start=start, period_end=end)
    if not include_cancelled:
        qs = qs.exclude(status=MeasureStatus.CANCELLED)
    return list(qs.prefetch_related("areas").order_by("start", "id"))


def measure_detail(user: User, measure_id: object) -> Measure:
    measure = access_measure_by_id(user, measure_id, Action.VIEW)
    return (
        Measure.objects.select_related(
            "municipality", "focus_area", "responsible_organisation", "agreement", "indicator", "problem", "snapshot"
        )
        .prefetch_related("areas")
        .get(pk=measure.pk)
    )


def may_edit_measure(user: User, measure: Measure) -> bool:
    return bool(editing_organisation_ids(user, measure.municipality_id))


def status_choices_after(status: str) -> list[tuple[str, str]]:
    """The statuses a measure can move to from ``status``, as (value, label)."""
    return [(s, MeasureStatus(s).label) for s in TRANSITIONS.get(status, ())]


def responsible_organisations(user: User, municipality_id: int) -> QuerySet[Organisation]:
    """The user's organisations that may be responsible for a measure in the municipality."""
    return Organisation.objects.filter(pk__in=editing_organisation_ids(user, municipality_id))


# --- the calendar -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """A measure on one day, with the time windows that start that day (none: it runs all day)."""

    measure: Measure
    windows: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class CalendarDay:
    date: dt.date
    in_month: bool
    entries: tuple[CalendarEntry, ...]


@dataclass(frozen=True, slots=True)
class MonthCalendar:
    """A month as ISO weeks (Monday first), each day with the measures active on it."""

    year: int
    month: int
    weeks: tuple[tuple[CalendarDay, ...], ...]
    previous: dt.date
    next: dt.date

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)


def measure_calendar(user: User, *, year: int, month: int, **filters: Any) -> MonthCalendar:
    """The measures active on each day of a month and the weeks around it.

    A measure is active from its start to its end (or on) unless cancelled; with time windows, only on the weekdays
    where a window starts — a window past midnight is shown on the day it begins.
    """
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    grid_start = first - dt.timedelta(days=first.isoweekday() - 1)
    grid_end = last + dt.timedelta(days=7 - last.isoweekday())
    measures = list(
        measure_list(user, period_start=grid_start, period_end=grid_end, **filters)
        .exclude(status=MeasureStatus.CANCELLED)
        .order_by("start", "title", "id")
    )
    weeks = []
    day = grid_start
    while day <= grid_end:
        week = []
        for _ in range(7):
            entries = []
            for m in measures:
                if m.start <= day and (m.end is None or day <= m.end):
                    windows = tuple(w for w in m.time_windows or () if day.isoweekday() in w.get("weekdays", ()))
                    if windows or not m.time_windows:
                        entries.append(CalendarEntry(measure=m, windows=windows))
            week.append(CalendarDay(date=day, in_month=day.month == month, entries=tuple(entries)))
            day += dt.timedelta(days=1)
        weeks.append(tuple(week))
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = last + dt.timedelta(days=1)
    return MonthCalendar(year=year, month=month, weeks=tuple(weeks), previous=previous, next=following)


# --- the map ------------------------------------------------------------------------------------------------------


def measures_geojson(user: User, **filters: Any) -> dict[str, Any]:
    """The visible measures as a GeoJSON FeatureCollection: one feature per drawn place (``role`` "measure") and one
    per area a measure was chosen for (``role`` "area", listing its measures). Measures with neither are counted in
    ``without_place``."""
    measures = list(measure_list(user, **filters).prefetch_related("areas"))
    features: list[dict[str, Any]] = []
    areas: dict[int, dict[str, Any]] = {}
    without_place = 0
    for m in measures:
        summary = {
            "id": m.pk,
            "title": m.title,
            "status": m.status,
            "status_label": str(m.get_status_display()),
            "start": m.start.isoformat(),
            "end": m.end.isoformat() if m.end else None,
        }
        if m.polygon:
            features.append(
                {
                    "type": "Feature",
                    "id": f"measure-{m.pk}",
                    "geometry": m.polygon,
                    "properties": {"role": "measure", **summary},
                }
            )
        for area in m.areas.all():
            feature = areas.setdefault(
                area.pk,
                {
                    "type": "Feature",
                    "id": f"area-{area.pk}",
                    "geometry": area.geometry,
                    "properties": {"role": "area", "id": area.pk, "name": area.name, "measures": []},
                },
            )
            feature["properties"]["measures"].append(summary)
        if not m.polygon and not m.areas.all():
            without_place += 1
    return {
        "type": "FeatureCollection",
        "features": [*areas.values(), *features],
        "count": len(measures),
        "without_place": without_place,
    }
