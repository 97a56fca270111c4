"""Writes of the situational picture: the daily counts behind baselines and trends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from samverkan.incidents.models import Incident
from samverkan.situation.models import DailyCount


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


@transaction.atomic
def daily_counts_rebuild(
    *, municipality_ids: Iterable[int] | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> int:
    """Recount the reports of these municipalities (all when None) on the local days ``start`` ≤ day < ``end``
    (open ends: all days). Returns the number of count rows written.

    Called after writes: a report's create or update touches one day, an import a range, the demo everything.
    """
    incidents = Incident.objects.all()
    counts = DailyCount.objects.all()
    if municipality_ids is not None:
        ids = list(municipality_ids)
        incidents = incidents.filter(municipality_id__in=ids)
        counts = counts.filter(municipality_id__in=ids)
    if start is not None:
        incidents = incidents.filter(occurred_from__gte=_local_midnight(start))
        counts = counts.filter(day__gte=start)
    if end is not None:
        incidents = incidents.filter(occurred_from__lt=_local_midnight(end))
        counts = counts.filter(day__lt=end)
    counts.delete()
    local_day = TruncDate("occurred_from", tzinfo=timezone.get_default_timezone())
    whole = (
        incidents.annotate(local_day=local_day)
        .values("municipality_id", "local_day", "category_id", "sensitivity")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_area = (
        Incident.areas.through.objects.filter(incident__in=incidents)
        .annotate(local_day=TruncDate("incident__occurred_from", tzinfo=timezone.get_default_timezone()))
        .values("incident__municipality_id", "area_id", "local_day", "incident__category_id", "incident__sensitivity")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = [
        DailyCount(
            municipality_id=r["municipality_id"],
            day=r["local_day"],
            category_id=r["category_id"],
            sensitivity=r["sensitivity"],
            count=r["n"],
        )
        for r in whole.iterator()
    ]
    rows += [
        DailyCount(
            municipality_id=r["incident__municipality_id"],
            area_id=r["area_id"],
            day=r["local_day"],
            category_id=r["incident__category_id"],
            sensitivity=r["incident__sensitivity"],
            count=r["n"],
        )
        for r in per_area.iterator()
    ]
    DailyCount.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def daily_counts_touch(*, municipality_id: int, days: Iterable[dt.date]) -> None:
    """Recount the given local days of one municipality (after a report was created, edited or moved)."""
    for day in sorted(set(days)):
        daily_counts_rebuild(municipality_ids=[municipality_id], start=day, end=day + dt.timedelta(days=1))


RATING_FIELDS = ("area_id", "area", "rating", "motivation")


def _clean_ratings(ratings: Iterable[dict]) -> list[dict]:
    from django.conf import settings
    from django.core.exceptions import ValidationError

    allowed = {code for code, _label in settings.SAMVERKAN_RATING_SCALE}
    cleaned = []
    for rating in ratings:
        if not rating.get("rating"):
            continue
        if rating["rating"] not in allowed:
            raise ValidationError({"ratings": f"unknown rating {rating['rating']!r}"})
        cleaned.append({key: rating.get(key, "") for key in RATING_FIELDS})
    return cleaned


@transaction.atomic
def snapshot_save(
    *,
    user,
    picture: dict,
    assessment: str = "",
    decisions: str = "",
    ratings: Iterable[dict] = (),
    previous=None,
    kind: str = "regular",
    extra: dict | None = None,
):
    """Freeze ``picture`` with the texts as a new snapshot: version 1 of a new lineage, or the next version after
    ``previous`` (whose lineage it joins). Earlier versions are never changed."""
    import uuid

    from samverkan.situation.models import Snapshot

    if previous is not None:
        # Lock the lineage so two people saving at once get consecutive numbers.
        versions = Snapshot.objects.select_for_update().filter(lineage=previous.lineage)
        number = max(v.number for v in versions) + 1
        lineage = previous.lineage
    else:
        number, lineage = 1, uuid.uuid4()
    period = picture["period"]
    return Snapshot.objects.create(
        lineage=lineage,
        number=number,
        municipality_id=picture["municipality"]["id"],
        area_id=(picture.get("area") or {}).get("id"),
        focus_area_code=(picture.get("focus_area") or {}).get("code", ""),
        period_kind=period["kind"],
        period_start=period["start"],
        period_end=period["end"],
        period_label=period["label"],
        view=picture["view"],
        kind=kind,
        data_cutoff=picture["data_cutoff"],
        picture=picture,
        assessment=assessment.strip(),
        decisions=decisions.strip(),
        ratings=_clean_ratings(ratings),
        extra=extra or {},
        created_by=user,
    )
