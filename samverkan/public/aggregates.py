"""The public figures: reports per area and month, small counts suppressed, published after a delay.

What is counted: reports with sensitivity "public" in categories open to the public (``Category.public``), read from
the pre-aggregated ``DailyCount`` rows — never from the reports themselves, so the figures survive the reports'
anonymisation and deletion, and no report field but its day, category, sensitivity and area can reach them.

The table has one row per published area, a row for the rest of the municipality ("outside named areas") and a
row for the whole municipality; one column per month. Every figure below ``SAMVERKAN_PUBLIC_MIN_COUNT`` (k) is
suppressed and shown as "färre än k" — zero too, so a suppressed cell never says whether anything happened.

Differencing. The whole-municipality row is the sum of the others in each month, so a single suppressed cell
in a month could be computed as the total minus the published cells. Each month column is therefore protected on
its own (secondary suppression): when the published figures would pin a suppressed count of one or more to a
single value, the smallest published cell of that month is hidden as well (shown as "dold"); when every cell is
already suppressed, the total is hidden instead. No other sums are published — no totals over the period per area,
none per category — so the month columns share no equation and protecting each column protects the table.

Areas. Only areas whose counts add up without overlap are published: where a DeSO lies inside a district, the
district is kept and the DeSO left out, or its count would be a difference of published figures. Drawn zones are
the parties' working areas (often one street or a park) and are never published.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import shapely
from django.conf import settings
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from samverkan.incidents.models import Category, Sensitivity
from samverkan.places.geo import geometry_from_geojson
from samverkan.places.models import Area, AreaKind, Municipality
from samverkan.situation.models import DailyCount

SHOWN = "shown"
FEWER = "fewer"  # below k
HIDDEN = "hidden"  # k or more, hidden so that a small count elsewhere in the month cannot be computed

HIDDEN_TEXT = "dold"
OUTSIDE_NAME = "Övriga kommunen (utanför namngivna områden)"
TOTAL_NAME = "Hela kommunen"

# Preference when areas overlap: the first kind wins. Zones are missing on purpose (see the module docstring).
PUBLISHED_KINDS = (AreaKind.DISTRICT, AreaKind.REGSO, AreaKind.DESO, AreaKind.PLACE)
# Neighbouring outlines drawn by hand often overlap by a sliver; only more than this share of the smaller area
# counts as overlapping.
OVERLAP_SHARE = 0.01
MAX_MONTHS = 60


def fewer_text(k: int) -> str:
    return f"färre än {k}"


@dataclass(frozen=True, slots=True)
class PublicCell:
    """One published figure: ``value`` None when suppressed; ``status`` SHOWN, FEWER or HIDDEN."""

    value: int | None
    text: str
    status: str


# --------------------------------------------------------------------------------------------------------------------
# Which months are public
# --------------------------------------------------------------------------------------------------------------------


def _add_months(first: dt.date, n: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def latest_published_month(today: dt.date, delay_months: int) -> dt.date:
    """The first day of the latest month whose figures are public on ``today``.

    A month is published once ``delay_months`` whole calendar months have passed since it ended. With a delay of
    one: October ends on 31 October, November is the whole month that must pass, so October is published from
    1 December — on 30 November the latest published month is still September. With no delay a month is
    published the day after it ends.
    """
    if delay_months < 0:
        raise ValueError(f"delay_months must be 0 or more (got {delay_months})")
    return _add_months(today.replace(day=1), -(delay_months + 1))


def published_months(today: dt.date, delay_months: int, months: int) -> list[dt.date]:
    """The first days of the last ``months`` published months, oldest first."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS} (got {months})")
    latest = latest_published_month(today, delay_months)
    return [_add_months(latest, -i) for i in range(months - 1, -1, -1)]


# --------------------------------------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------------------------------------


def protect_column(values: list[int], total: int, k: int) -> tuple[list[str], str]:
    """The status of each cell and of the total of one month column, where ``total`` is the sum of ``values``.

    Primary suppression: every figure below ``k`` is FEWER. Secondary suppression: when the total is published,
    the suppressed cells' sum σ = total − published cells is known. A reader also knows each FEWER cell lies in
    0…k−1 and each HIDDEN one is k or more. From that, a FEWER count of one or more is pinned to a single value
    in exactly two cases — it is the only suppressed cell (it equals σ), or every suppressed cell is FEWER and
    σ = (k−1)·their number (all must be k−1). Then the smallest published cell is HIDDEN too: with a cell of
    unknown size beside them, every FEWER cell may be anything from 0 up, so none is pinned (only σ = 0 pins
    anything, and then every suppressed cell is 0, which tells nothing about anyone). With no published cell left,
    the total is HIDDEN and the column holds no equation at all.

    The decision uses only σ and the pattern, which the reader can see anyway, so whether a column got a hidden
    cell reveals nothing more.
    """
    statuses = [FEWER if v < k else SHOWN for v in values]
    total_status = FEWER if total < k else SHOWN
    if total_status != SHOWN:
        return statuses, total_status
    suppressed = [i for i, s in enumerate(statuses) if s != SHOWN]
    if not suppressed:
        return statuses, total_status
    sigma = total - sum(v for v, s in zip(values, statuses, strict=True) if s == SHOWN)
    pinned = sigma > 0 and (len(suppressed) == 1 or sigma == (k - 1) * len(suppressed))
    if not pinned:
        return statuses, total_status
    shown = [i for i, s in enumerate(statuses) if s == SHOWN]
    if shown:
        statuses[min(shown, key=lambda i: (values[i], i))] = HIDDEN
    else:
        total_status = HIDDEN
    return statuses, total_status


def _cell(value: int, status: str, k: int) -> PublicCell:
    if status == SHOWN:
        return PublicCell(value=value, text=str(value), status=SHOWN)
    if status == FEWER:
        return PublicCell(value=None, text=fewer_text(k), status=FEWER)
    return PublicCell(value=None, text=HIDDEN_TEXT, status=HIDDEN)


# --------------------------------------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------------------------------------


def _overlaps(a: Any, b: Any) -> bool:
    if not a.intersects(b):
        return False
    return a.intersection(b).area > OVERLAP_SHARE * min(a.area, b.area)


def public_areas(municipality: Municipality) -> list[Area]:
    """The municipality's current areas that are published: of the kinds in ``PUBLISHED_KINDS``, none overlapping
    another (the earlier kind, then the earlier name, wins), ordered by kind and name."""
    rank = {kind: i for i, kind in enumerate(PUBLISHED_KINDS)}
    candidates = sorted(
        Area.objects.filter(municipality=municipality, kind__in=PUBLISHED_KINDS).current(),
        key=lambda a: (rank[a.kind], a.name, a.pk),
    )
    areas: list[Area] = []
    shapes = []
    for area in candidates:
        try:
            shape = geometry_from_geojson(area.geometry)
        except (ValueError, TypeError, AttributeError):
            continue
        if not shape.is_empty:
            areas.append(area)
            shapes.append(shape)
    # The tree finds the outlines whose boxes meet, so a municipality with hundreds of DeSO is not compared pair by
    # pair.
    tree = shapely.STRtree(shapes)
    chosen: set[int] = set()
    for i, shape in enumerate(shapes):
        neighbours = (int(j) for j in tree.query(shape))
        if not any(j in chosen and _overlaps(shape, shapes[j]) for j in neighbours):
            chosen.add(i)
    return [area for i, area in enumerate(areas) if i in chosen]


def _lineage_key(area: Area) -> tuple[str, str, str]:
    # area_replace keeps kind, code and name, so older versions of a current area share its key.
    return (area.kind, "code", area.code) if area.code else (area.kind, "name", area.name)


def _area_targets(municipality: Municipality, areas: list[Area]) -> dict[int, int]:
    """Area id → the published area it counts for: each published area itself, and its earlier versions, whose
    links hold the reports from before a boundary change."""
    targets = {a.pk: a.pk for a in areas}
    by_key = {_lineage_key(a): a.pk for a in areas}
    older = Area.objects.filter(municipality=municipality, kind__in=PUBLISHED_KINDS, valid_to__isnull=False)
    for area in older.only("id", "kind", "code", "name"):
        target = by_key.get(_lineage_key(area))
        if target is not None:
            targets[area.pk] = target
    return targets


# --------------------------------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------------------------------


def public_categories(municipality: Municipality | None = None) -> list[Category]:
    """The active categories open to the public: the shared ones and, given a municipality, its own."""
    scope = Q(municipality__isnull=True)
    if municipality is not None:
        scope |= Q(municipality=municipality)
    return list(Category.objects.filter(scope, public=True, active=True, valid_to__isnull=True))


def _monthly_counts(municipality: Municipality, start: dt.date, end: dt.date) -> dict[tuple[int | None, dt.date], int]:
    rows = (
        DailyCount.objects.filter(
            municipality=municipality,
            day__gte=start,
            day__lt=end,
            sensitivity=Sensitivity.PUBLIC,
            category__public=True,
        )
        .annotate(month=TruncMonth("day"))
        .values("area_id", "month")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {(r["area_id"], r["month"]): int(r["n"]) for r in rows}


def public_figures(*, municipality: Municipality, months: int = 12, today: dt.date | None = None) -> dict[str, Any]:
    """Suppressed counts per published area and month for the last ``months`` published months.

    Returns a dict with ``municipality`` ({code, name}), ``min_count`` (k), ``delay_months``, ``months`` (first
    days, oldest first), ``month_keys`` ("YYYY-MM"), ``next_publication`` (the day the next month is published),
    ``categories`` (names) and ``rows``: one dict per area (``kind`` "area", with ``id`` and ``geometry``), then
    one for the rest of the municipality (``kind`` "outside", only when there are areas) and one for the whole
    municipality (``kind`` "total", with the municipality's outline), each with ``name`` and ``cells``: one
    ``PublicCell`` per month.
    """
    today = today or timezone.localdate()
    k = int(settings.SAMVERKAN_PUBLIC_MIN_COUNT)
    delay = int(settings.SAMVERKAN_PUBLIC_DELAY_MONTHS)
    month_starts = published_months(today, delay, months)
    counts = _monthly_counts(municipality, month_starts[0], _add_months(month_starts[-1], 1))

    areas = public_areas(municipality)
    targets = _area_targets(municipality, areas)
    per_area: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[dt.date, int] = defaultdict(int)
    for (area_id, month), n in counts.items():
        if area_id is None:
            totals[month] += n
        elif area_id in targets:
            per_area[targets[area_id]][month] += n

    columns: list[tuple[list[str], str]] = []
    outside: list[int] = []
    for month in month_starts:
        values = [per_area[a.pk][month] for a in areas]
        if areas:
            # A report on the shared edge of two areas is linked to both; the rest of the municipality is never
            # negative.
            outside.append(max(0, totals[month] - sum(values)))
            values.append(outside[-1])
        columns.append(protect_column(values, totals[month], k))

    rows: list[dict[str, Any]] = []
    for i, area in enumerate(areas):
        rows.append(
            {
                "kind": "area",
                "id": area.pk,
                "name": area.name,
                "geometry": area.geometry,
                "cells": [_cell(per_area[area.pk][m], columns[j][0][i], k) for j, m in enumerate(month_starts)],
            }
        )
    if areas:
        rows.append(
            {
                "kind": "outside",
                "id": None,
                "name": OUTSIDE_NAME,
                "geometry": None,
                "cells": [_cell(outside[j], columns[j][0][-1], k) for j in range(len(month_starts))],
            }
        )
    rows.append(
        {
            "kind": "total",
            "id": None,
            "name": TOTAL_NAME,
            "geometry": municipality.geometry,
            "cells": [_cell(totals[m], columns[j][1], k) for j, m in enumerate(month_starts)],
        }
    )
    return {
        "municipality": {"code": municipality.code, "name": municipality.name},
        "min_count": k,
        "delay_months": delay,
        "months": month_starts,
        "month_keys": [f"{m:%Y-%m}" for m in month_starts],
        "next_publication": _add_months(today.replace(day=1), 1),
        "categories": sorted({c.name for c in public_categories(municipality)}),
        "rows": rows,
    }
