"""Gallring (retention) of reports: after its category's period a report keeps what it counts for and loses the rest.

A report past its period keeps its category, municipality, areas, times, sensitivity, status and source — everything
the daily counts, baselines and public aggregates are made of — and loses what ties it to people or to a spot: the
description and its screening findings, the reporter, the reviewer, the notes and names of its review trail, and the
exact place, which moves to the centre of its cell in a national SWEREF 99 TM grid
(``SAMVERKAN_RETENTION_GRID_METRES``). The areas are not assigned again from the coarsened point, so counts per area
stay as they were.

The period is the category's ``retention_months``, else ``SAMVERKAN_RETENTION_MONTHS``, counted from when the report
occurred (its start). Selection (:func:`retention_cutoff`, :func:`incidents_due_for_anonymisation`) only reads;
:func:`incidents_anonymise` writes, in batches of one transaction each, so a failure leaves every report either
untouched or fully anonymised.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from numpy.typing import ArrayLike, NDArray

from samverkan.analysis.grid import Grid
from samverkan.incidents.models import Category, Incident, Precision, StatusChange
from samverkan.places.geo import to_wgs84

DEFAULT_BATCH_SIZE = 500

# What a coarsened point may claim: no longer a spot or a street, but still inside the areas it was assigned to.
# Reports already placed only by area or municipality keep their precision; a municipality-level point (the kommun's
# centre, never a spot) is not moved at all, since a grid cell would pretend it is somewhere in particular.
COARSENED_PRECISION = Precision.AREA
_FINER_THAN_COARSENED = (Precision.EXACT, Precision.STREET)


def retention_cutoff(*, now: dt.datetime, months: int) -> dt.datetime:
    """The moment ``months`` calendar months before ``now`` on Stockholm's clock; reports that occurred before it
    are due. A day that the earlier month lacks becomes its last day (31 May − 3 months = 28 or 29 February)."""
    local = timezone.localtime(now)
    year, month0 = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month0 + 1)[1])
    return local.replace(year=year, month=month0 + 1, day=day)


def retention_months_by_category() -> dict[int, int]:
    """Each category's own period, for the categories that have one (the rest use the setting)."""
    return dict(Category.objects.filter(retention_months__isnull=False).values_list("pk", "retention_months"))


def _due_by_age(*, now: dt.datetime, default_months: int, category_months: Mapping[int, int]) -> Q:
    by_months: dict[int, list[int]] = {}
    for category_id, months in category_months.items():
        by_months.setdefault(months, []).append(category_id)
    due = Q(occurred_from__lt=retention_cutoff(now=now, months=default_months)) & ~Q(
        category_id__in=list(category_months)
    )
    for months, category_ids in sorted(by_months.items()):
        due |= Q(category_id__in=category_ids, occurred_from__lt=retention_cutoff(now=now, months=months))
    return due


def _holds_personal_detail() -> Q:
    """Anything anonymisation removes. Besides reports never anonymised, this catches one that got text, a person or
    a precise place back afterwards (an edit, a review, a re-import of an old file)."""
    trail = StatusChange.objects.filter(incident=OuterRef("pk")).filter(~Q(note="") | Q(changed_by__isnull=False))
    return (
        Q(anonymised_at__isnull=True)
        | ~Q(description="")
        | ~Q(personal_data_flags=[])
        | Q(reporter__isnull=False)
        | Q(reviewed_by__isnull=False)
        | Q(precision__in=_FINER_THAN_COARSENED)
        | Exists(trail)
    )


def incidents_due_for_anonymisation(
    *, now: dt.datetime, default_months: int | None = None, category_months: Mapping[int, int] | None = None
) -> QuerySet[Incident]:
    """The reports past their period that still hold something anonymisation removes. Reads only.

    ``default_months`` defaults to ``SAMVERKAN_RETENTION_MONTHS``, ``category_months`` (category id → months) to
    the categories' own ``retention_months``.
    """
    if default_months is None:
        default_months = settings.SAMVERKAN_RETENTION_MONTHS
    if category_months is None:
        category_months = retention_months_by_category()
    due = _due_by_age(now=now, default_months=default_months, category_months=category_months)
    return Incident.objects.filter(due).filter(_holds_personal_detail())


def grid_cell_centres(x: ArrayLike, y: ArrayLike, cell_size: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The centre of each point's cell in the national grid of ``cell_size`` metres: cells start at multiples of
    the cell size from SWEREF 99 TM's origin, so a point lands in the same cell whatever else is coarsened with it."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.size == 0:
        return xa, ya
    grid = Grid.covering(
        math.floor(xa.min() / cell_size) * cell_size,
        math.floor(ya.min() / cell_size) * cell_size,
        float(xa.max()),
        float(ya.max()),
        float(cell_size),
    )
    cells = grid.locate(xa, ya)
    return grid.x_centres()[cells.col], grid.y_centres()[cells.row]


@dataclass(frozen=True)
class CoarsenedPlaces:
    """Coarsened points, as stored: WGS84 recomputed from the SWEREF 99 TM cell centre."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]


def places_coarsen(x: ArrayLike, y: ArrayLike, *, cell_size: float | None = None) -> CoarsenedPlaces:
    """Move SWEREF 99 TM points to their grid cell's centre (``SAMVERKAN_RETENTION_GRID_METRES`` by default)."""
    cx, cy = grid_cell_centres(x, y, cell_size or settings.SAMVERKAN_RETENTION_GRID_METRES)
    lon, lat = to_wgs84(cx, cy)
    return CoarsenedPlaces(lon=lon, lat=lat, x=cx, y=cy)


@dataclass
class AnonymisationSummary:
    """What a run anonymised (or, on a dry run, would): reports per (category id, municipality id)."""

    applied: bool
    counts: Counter[tuple[int, int]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def per_category(self) -> Counter[int]:
        out: Counter[int] = Counter()
        for (category_id, _municipality_id), n in self.counts.items():
            out[category_id] += n
        return out

    def per_municipality(self) -> Counter[int]:
        out: Counter[int] = Counter()
        for (_category_id, municipality_id), n in self.counts.items():
            out[municipality_id] += n
        return out


def incidents_anonymise(
    *, now: dt.datetime | None = None, apply: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> AnonymisationSummary:
    """Anonymise the reports past their period; without ``apply`` only count them (a dry run writes nothing).

    Each batch of ``batch_size`` reports is one transaction: an error rolls that batch back whole and is raised;
    batches before it stay done, and a second run continues where this one stopped. A run after a complete one
    finds nothing to do.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    category_months = retention_months_by_category()
    summary = AnonymisationSummary(applied=apply)
    if not apply:
        rows = (
            incidents_due_for_anonymisation(now=now, category_months=category_months)
            .values_list("category_id", "municipality_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        summary.counts.update({(category_id, municipality_id): n for category_id, municipality_id, n in rows})
        return summary
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                incidents_due_for_anonymisation(now=now, category_months=category_months)
                .filter(pk__gt=last_id)
                .select_for_update()
                .order_by("pk")
                .values_list("pk", "category_id", "municipality_id", "x", "y", "precision")[:batch_size]
            )
            if not batch:
                return summary
            _anonymise_batch(batch, now=now)
        last_id = batch[-1][0]
        summary.counts.update((category_id, municipality_id) for _pk, category_id, municipality_id, *_ in batch)


def _anonymise_batch(rows: list[tuple[int, int, int, float, float, str]], *, now: dt.datetime) -> None:
    ids = [row[0] for row in rows]
    Incident.objects.filter(pk__in=ids).update(
        description="",
        personal_data_flags=[],
        reporter=None,
        reviewed_by=None,
        anonymised_at=now,
        updated_at=now,
    )
    movable = [row for row in rows if row[5] != Precision.MUNICIPALITY]
    if movable:
        places = places_coarsen([row[3] for row in movable], [row[4] for row in movable])
        moved = [
            Incident(
                pk=row[0],
                lon=float(places.lon[i]),
                lat=float(places.lat[i]),
                x=float(places.x[i]),
                y=float(places.y[i]),
                precision=COARSENED_PRECISION if row[5] in _FINER_THAN_COARSENED else row[5],
            )
            for i, row in enumerate(movable)
        ]
        Incident.objects.bulk_update(moved, ["lon", "lat", "x", "y", "precision"])
    StatusChange.objects.filter(incident_id__in=ids).update(note="", changed_by=None)
