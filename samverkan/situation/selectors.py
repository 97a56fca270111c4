"""Reads of the situational picture: one period × municipality or area × one or all focus areas, as one dict.

Counts over time (key figures, baselines, trend, top categories and areas) come from the pre-aggregated
``DailyCount`` rows, so a picture costs the same whether the municipality has a thousand reports or a million. Only
the current period's points — for the map, the weekday × hour table and the near-repeat test — are read from the
reports, through the access funnel, as plain value tuples.

The dict follows schema 1 (see ``docs/architecture.md`` and the snapshot model): it is what the page renders, what
a snapshot freezes and what a PDF prints, so everything in it is plain JSON — ints, rounded floats, strings, lists.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from typing import Any

import numpy as np
import shapely
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, Min, OuterRef, Q, Sum
from django.http import Http404
from django.utils import timezone
from scipy.spatial import cKDTree

from samverkan.accounts.access import Action, incidents_visible_to, municipality_ids_for, picture_views_allowed
from samverkan.analysis.grid import Grid
from samverkan.analysis.hotspots import gi_star
from samverkan.analysis.kde import kde_grid
from samverkan.analysis.nearrepeat import knox_test
from samverkan.analysis.temporal import compare_to_baseline, trend, weekday_hour_profile
from samverkan.incidents.models import FocusArea, Incident, Precision, Sensitivity
from samverkan.incidents.selectors import local_midnight
from samverkan.places.geo import geometry_from_geojson, to_sweref, to_wgs84
from samverkan.places.models import Area, Municipality
from samverkan.situation.models import DailyCount
from samverkan.situation.periods import UNIT_SV, Period, baseline_for, period_parse, trend_periods

SCHEMA = 1
VIEWS = ("shared", "police")

# Map: cell side, KDE bandwidth (quartic radius) and Gi* radius in cells, for a municipality and for an area.
MUNICIPALITY_CELL = 200.0
MUNICIPALITY_BANDWIDTH = 400.0
AREA_CELL = 100.0
AREA_BANDWIDTH = 250.0
GI_RADIUS_CELLS = 2
# A surface from a handful of points shows where those few points are, not a pattern.
MIN_MAP_POINTS = 5
# The point layer is for looking at single reports; a year of a busy town would make the page megabytes long, so
# only the most recent are listed (``points_used`` still counts them all).
MAX_LISTED_POINTS = 10_000
# Large municipalities (Kiruna is 250 km across) get coarser cells rather than a page of a million numbers.
MAX_CELLS = 250_000

# Near-repeat: the Knox test over the period and the 12 weeks before it, on points placed at least to the street.
KNOX_HISTORY = dt.timedelta(weeks=12)
KNOX_DISTANCES = (0.0, 100.0, 200.0, 400.0)
KNOX_DAYS = (0.0, 7.0, 14.0)
KNOX_PERMUTATIONS = 99
KNOX_ALPHA = 0.05
KNOX_MIN_RATIO = 1.2
MIN_KNOX_EVENTS = 20
# The test's time is about 0.4 µs per pair of events within the largest distance (99 permutations), and pairs grow
# with the square of the events: a busy town centre has millions within 12 weeks. Beyond these limits only the most
# recent events are tested, which shortens the window but keeps the test valid, and the message says so.
MAX_KNOX_EVENTS = 10_000
MAX_KNOX_PAIRS = 1_000_000
KNOX_PRECISIONS = (Precision.EXACT, Precision.STREET)

WEEKDAY_HOUR_SIMULATIONS = 999
TOP = 10


def picture_compute(
    *,
    user,
    municipality_id: int,
    period: Period | str,
    focus_area_code: str | None = None,
    area_id: int | None = None,
    view: str = "shared",
) -> dict[str, Any]:
    """The situational picture of ``period`` for a municipality (or one of its areas), as a schema-1 dict.

    Parameters
    ----------
    user
        Whose access decides: the municipality must be one the user may view (else ``Http404``, as if it did not
        exist), through a role that sees every report — a reporter, who sees only their own, gets
        ``PermissionDenied``. The police view needs a police membership covering the municipality.
    municipality_id, area_id
        The area must belong to the municipality (else ``Http404``). None: the whole municipality.
    period
        A :class:`~samverkan.situation.periods.Period` or its text form ("2026-W48", "2026-11", "2026-T3", "2026",
        "2026-11-01/2026-11-15").
    focus_area_code
        One focus area ("droger"), or None for all.
    view
        "shared" leaves police-only reports out and says so; "police" includes them.

    Raises
    ------
    Http404, PermissionDenied
        As above; also ``Http404`` for an unknown focus area.
    ValueError
        For an unknown view or a period text that cannot be read.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be 'shared' or 'police' (got {view!r})")
    if not isinstance(period, Period):
        period = period_parse(period)
    municipality, area = _access(user, municipality_id, area_id, view)
    focus = None
    if focus_area_code:
        focus = FocusArea.objects.filter(code=focus_area_code).first()
        if focus is None:
            raise Http404("No such focus area")
    data_cutoff = timezone.now()
    today = timezone.localdate(data_cutoff)

    counts = DailyCount.objects.filter(municipality_id=municipality.pk)
    if view == "shared":
        counts = counts.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
    data_start = counts.filter(area__isnull=True).aggregate(first=Min("day"))["first"]
    counts = counts.filter(area_id=area.pk) if area else counts.filter(area__isnull=True)
    if area is not None and data_start is not None:
        data_start = max(data_start, area.valid_from)
    if focus is not None:
        counts = counts.filter(category__focus_area_id=focus.pk)

    # A period still running is compared over its days so far with the same number of days of earlier periods.
    elapsed = (today - period.start).days + 1 if period.start <= today < period.end else None
    focus_areas = [focus] if focus else list(FocusArea.objects.filter(active=True))
    series = _period_counts(counts, period, data_start, elapsed)

    return {
        "schema": SCHEMA,
        "municipality": {"id": municipality.pk, "code": municipality.code, "name": municipality.name},
        "area": {"id": area.pk, "name": area.name} if area else None,
        "focus_area": {"code": focus.code, "name": focus.name_sv} if focus else None,
        "period": {
            "kind": period.kind,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label,
            "complete": period.end <= today,
        },
        "view": view,
        "restricted_excluded": view == "shared",
        "data_cutoff": data_cutoff.astimezone(dt.UTC).isoformat(timespec="seconds"),
        **_figures(series, focus_areas, elapsed),
        "top_categories": _top_categories(counts, period, elapsed),
        "top_areas": _top_areas(municipality, period, view, focus),
        **_points_part(user, municipality, area, focus, period, view),
    }


def _access(user, municipality_id: object, area_id: object, view: str) -> tuple[Municipality, Area | None]:
    try:
        mid = int(str(municipality_id))
    except (TypeError, ValueError):
        raise Http404("No such municipality") from None
    if mid not in municipality_ids_for(user, Action.VIEW):
        raise Http404("No such municipality")
    allowed = picture_views_allowed(user, mid)
    if not allowed:
        raise PermissionDenied("A picture needs a role that sees every report of the municipality.")
    if view not in allowed:
        raise PermissionDenied("The police view needs a police membership covering the municipality.")
    municipality = Municipality.objects.get(pk=mid)
    if area_id is None:
        return municipality, None
    try:
        return municipality, Area.objects.get(pk=int(str(area_id)), municipality_id=mid)
    except (TypeError, ValueError, Area.DoesNotExist):
        raise Http404("No such area") from None


# --------------------------------------------------------------------------------------------------------------------
# Counts over time, from the daily counts
# --------------------------------------------------------------------------------------------------------------------


class _Series:
    """Counts per period and focus area: in full, and over the first ``elapsed`` days of each period."""

    def __init__(self, period: Period, trend: tuple[Period, ...], baseline) -> None:
        self.period = period
        self.trend = trend
        self.baseline = baseline
        self.full: dict[tuple[Period, int], int] = defaultdict(int)
        self.to_date: dict[tuple[Period, int], int] = defaultdict(int)
        self.focus_ids: set[int] = set()

    def count(self, p: Period, focus_id: int | None = None, *, to_date: bool = False) -> int:
        table = self.to_date if to_date else self.full
        if focus_id is not None:
            return table[(p, focus_id)]
        return sum(table[(p, f)] for f in self.focus_ids)


def _period_counts(counts, period: Period, data_start: dt.date | None, elapsed: int | None) -> _Series:
    baseline = baseline_for(period, data_start=data_start)
    trend_ps = trend_periods(period, data_start=data_start)
    series = _Series(period, trend_ps, baseline)
    periods = sorted({*trend_ps, *baseline.periods, period}, key=lambda p: p.start)
    starts = [p.start for p in periods]
    rows = (
        counts.filter(day__gte=periods[0].start, day__lt=period.end)
        .values_list("day", "category__focus_area_id")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for day, focus_id, n in rows:
        p = periods[bisect.bisect_right(starts, day) - 1]
        if not p.contains(day):
            continue
        series.focus_ids.add(focus_id)
        series.full[(p, focus_id)] += n
        if elapsed is not None and (day - p.start).days < elapsed:
            series.to_date[(p, focus_id)] += n
    return series


def _figures(series: _Series, focus_areas: list[FocusArea], elapsed: int | None) -> dict[str, Any]:
    words = series.baseline.words + (" (samma antal dagar)" if elapsed is not None else "")
    running = elapsed is not None

    def figure(code: str, name: str, focus_id: int | None) -> dict[str, Any]:
        current = series.count(series.period, focus_id, to_date=running)
        base = [series.count(p, focus_id, to_date=running) for p in series.baseline.periods]
        return _key_figure(code, name, current, base, words)

    trend_counts = [series.count(p) for p in series.trend]
    # The running period's count is still growing; the trend is tested on finished periods only.
    tested = trend_counts[:-1] if running else trend_counts
    return {
        "total": figure("total", "Totalt", None),
        "key_figures": [figure(fa.code, fa.name_sv, fa.pk) for fa in focus_areas],
        "trend": {
            "labels": [p.short_label for p in series.trend],
            "starts": [p.start.isoformat() for p in series.trend],
            "total": trend_counts,
            "by_focus": {fa.code: [series.count(p, fa.pk) for p in series.trend] for fa in focus_areas},
            "test": _trend_test(tested, UNIT_SV[series.period.kind]),
        },
    }


def _key_figure(code: str, name: str, current: int, baseline: list[int], words: str) -> dict[str, Any]:
    if not baseline:
        return {
            "code": code,
            "name": name,
            "current": current,
            "expected": 0.0,
            "lower": 0,
            "upper": 0,
            "flag": "too_few",
            "percent_change": None,
            "p": 1.0,
            "baseline": words,
        }
    c = compare_to_baseline(current, baseline)
    return {
        "code": code,
        "name": name,
        "current": c.current,
        "expected": round(c.expected, 2),
        "lower": c.lower,
        "upper": c.upper,
        "flag": c.flag,
        "percent_change": None if c.percent_change is None else round(c.percent_change, 1),
        "p": _sig(c.p),
        "baseline": words,
    }


def _trend_test(counts: list[int], per: str) -> dict[str, Any]:
    if len(counts) < 3:
        return {"flag": "too_few", "relative_change": None, "ci": None, "p": None, "per": per}
    t = trend(counts)
    return {
        "flag": t.flag,
        "relative_change": None if t.relative_change is None else round(t.relative_change, 4),
        "ci": None if t.relative_change_ci is None else [round(v, 4) for v in t.relative_change_ci],
        "p": None if t.p is None else _sig(t.p),
        "per": per,
    }


def _top_categories(counts, period: Period, elapsed: int | None) -> list[dict[str, Any]]:
    previous = period.shifted(-1)
    previous_end = previous.end if elapsed is None else min(previous.end, previous.start + dt.timedelta(elapsed))
    rows = (
        counts.filter(day__gte=previous.start, day__lt=period.end)
        .values_list("category_id", "category__code", "category__name_sv")
        .annotate(
            current=Sum("count", filter=Q(day__gte=period.start)),
            previous=Sum("count", filter=Q(day__lt=previous_end)),
        )
        .order_by("category_id")
    )
    # Versions of a category share a code and mean the same thing to the reader; the newest name is shown.
    merged: dict[str, dict[str, Any]] = {}
    for _id, code, name, current, before in rows:
        entry = merged.setdefault(code, {"code": code, "name": name, "count": 0, "previous": 0})
        entry["name"] = name
        entry["count"] += current or 0
        entry["previous"] += before or 0
    ranked = sorted(
        (e for e in merged.values() if e["count"] > 0), key=lambda e: (-e["count"], -e["previous"], e["name"])
    )
    return ranked[:TOP]


def _top_areas(municipality: Municipality, period: Period, view: str, focus: FocusArea | None) -> list[dict[str, Any]]:
    rows = DailyCount.objects.filter(
        municipality_id=municipality.pk,
        area__isnull=False,
        area__valid_to__isnull=True,
        day__gte=period.start,
        day__lt=period.end,
    )
    if view == "shared":
        rows = rows.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
    if focus is not None:
        rows = rows.filter(category__focus_area_id=focus.pk)
    ranked = rows.values_list("area_id", "area__name").annotate(n=Sum("count")).order_by("-n", "area__name")[:TOP]
    return [{"id": area_id, "name": name, "count": n} for area_id, name, n in ranked if n > 0]


# --------------------------------------------------------------------------------------------------------------------
# The period's points: map, weekday × hour, near-repeat
# --------------------------------------------------------------------------------------------------------------------


def _points_part(
    user, municipality: Municipality, area: Area | None, focus: FocusArea | None, period: Period, view: str
) -> dict[str, Any]:
    reports = incidents_visible_to(user, Action.VIEW).filter(municipality_id=municipality.pk)
    if view == "shared":
        reports = reports.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
    if area is not None:
        # As a per-report lookup rather than a join, so the database walks the period's reports by time and not
        # every report ever linked to the area.
        links = Incident.areas.through.objects.filter(incident_id=OuterRef("pk"), area_id=area.pk)
        reports = reports.filter(Exists(links))
    if focus is not None:
        reports = reports.filter(category__focus_area_id=focus.pk)
    start, end = local_midnight(period.start), local_midnight(period.end)
    rows = list(
        reports.filter(occurred_from__gte=start, occurred_from__lt=end)
        .order_by("occurred_from", "id")
        .values_list("occurred_from", "x", "y", "lon", "lat", "precision")
    )
    history = (
        reports.filter(occurred_from__gte=start - KNOX_HISTORY, occurred_from__lt=start, precision__in=KNOX_PRECISIONS)
        .order_by("-occurred_from", "-id")
        .values_list("occurred_from", "x", "y")
    )
    precise = [(when, x, y) for when, x, y, _lon, _lat, precision in rows if precision in KNOX_PRECISIONS]
    room = max(MAX_KNOX_EVENTS - len(precise), 0)
    earlier = list(history[: room + 1])
    capped = len(precise) > MAX_KNOX_EVENTS or len(earlier) > room
    knox_rows = earlier[:room][::-1] + precise[-MAX_KNOX_EVENTS:]
    outline = area.geometry if area is not None else municipality.geometry
    sources = (
        reports.filter(occurred_from__gte=start, occurred_from__lt=end)
        .values_list("source")
        .annotate(n=Count("id"))
        .order_by("-n", "source")
    )
    return {
        # Where the period's reports come from (Incident.source codes), named in the document's footer.
        "sources": [{"code": code, "count": n} for code, n in sources],
        "weekday_hour": _weekday_hour([r[0] for r in rows], period),
        "map": _map(rows, outline, area is not None),
        "near_repeat": _near_repeat(knox_rows, period, capped=capped),
    }


def _weekday_hour(times: list[dt.datetime], period: Period) -> dict[str, Any]:
    stockholm = timezone.get_default_timezone()
    local = [t.astimezone(stockholm) for t in times]
    profile = weekday_hour_profile(
        [t.weekday() for t in local],
        [t.hour for t in local],
        rng=period.seed,
        simulations=WEEKDAY_HOUR_SIMULATIONS,
    )
    n = int(profile.n)
    if n == 0:
        p, note = None, "Inga händelser under perioden."
    elif profile.test_reliable:
        p = _sig(profile.p)
        note = "p-värdet prövar om händelserna är jämnt fördelade över veckans 168 timmar (chi-två-test)."
    else:
        p = _sig(profile.p_monte_carlo) if profile.p_monte_carlo is not None else None
        note = (
            f"Med {n} händelser räcker underlaget inte för ett chi-två-test (det kräver minst 840); "
            f"p-värdet är i stället simulerat ({profile.simulations} dragningar)."
        )
    return {
        "counts": profile.counts.astype(int).tolist(),
        "n": n,
        "p": p,
        "test_reliable": bool(profile.test_reliable),
        "note": note,
    }


def _map(rows: list[tuple], outline: dict | None, is_area: bool) -> dict[str, Any]:
    cell = AREA_CELL if is_area else MUNICIPALITY_CELL
    bandwidth = AREA_BANDWIDTH if is_area else MUNICIPALITY_BANDWIDTH
    mapped = [r for r in rows if r[5] != Precision.MUNICIPALITY]
    x = np.array([r[1] for r in mapped], dtype=np.float64)
    y = np.array([r[2] for r in mapped], dtype=np.float64)
    geometry = geometry_from_geojson(outline) if outline else None
    if geometry is not None:
        sweref = shapely.transform(geometry, lambda c: np.column_stack(to_sweref(c[:, 0], c[:, 1])))
        box = sweref.bounds
        bbox_wgs84 = [round(v, 6) for v in geometry.bounds]
    elif x.size:
        box = (x.min() - bandwidth, y.min() - bandwidth, x.max() + bandwidth, y.max() + bandwidth)
        lon, lat = to_wgs84([box[0], box[2]], [box[1], box[3]])
        bbox_wgs84 = [
            round(float(lon[0]), 6),
            round(float(lat[0]), 6),
            round(float(lon[1]), 6),
            round(float(lat[1]), 6),
        ]
    else:
        box, bbox_wgs84 = None, None

    grid = mask = None
    if box is not None:
        cells = ((box[2] - box[0]) / cell + 1) * ((box[3] - box[1]) / cell + 1)
        if cells > MAX_CELLS:
            scale = math.ceil(math.sqrt(cells / MAX_CELLS))
            cell, bandwidth = cell * scale, bandwidth * scale
        # Corners on whole multiples of the cell size keep cells identical from one picture to the next.
        x0, y0 = math.floor(box[0] / cell) * cell, math.floor(box[1] / cell) * cell
        grid = Grid.covering(x0, y0, box[2], box[3], cell)
        if geometry is not None:
            cx, cy = grid.centres()
            inside = shapely.contains_xy(sweref, cx, cy)
            # An outline smaller than a cell holds no cell centre; the whole box is studied instead.
            mask = inside if inside.sum() >= 2 else None

    result: dict[str, Any] = {
        "crs": "EPSG:3006",
        "grid": None
        if grid is None
        else {"x0": grid.x0, "y0": grid.y0, "cell_size": grid.cell_size, "nx": grid.nx, "ny": grid.ny},
        "bandwidth": bandwidth,
        "radius": GI_RADIUS_CELLS * cell,
        "kernel": "quartic",
        "kde": None,
        "gi": None,
        "points_used": int(x.size),
        "points_excluded": len(rows) - len(mapped),
        "bbox_wgs84": bbox_wgs84,
        "points": [[round(r[3], 6), round(r[4], 6)] for r in mapped[-MAX_LISTED_POINTS:]],
        "state": "ok",
        "message": "",
    }
    if grid is None or x.size < MIN_MAP_POINTS:
        result["state"] = "too_few"
        result["message"] = (
            f"För få händelser med känd plats för en karta ({x.size} av minst {MIN_MAP_POINTS}); "
            "punkterna visas var för sig."
            if x.size
            else "Inga händelser med känd plats under perioden."
        )
        return result
    density = kde_grid(x, y, grid=grid, bandwidth=bandwidth, kernel="quartic").density
    studied = grid.check_mask(mask)
    result["kde"] = [
        [_sig(v) if keep else None for v, keep in zip(row, keep_row, strict=True)]
        for row, keep_row in zip(density.tolist(), studied.tolist(), strict=True)
    ]
    if int(studied.sum()) >= 2:
        hot = gi_star(grid.bin(x, y), radius=GI_RADIUS_CELLS * cell, cell_size=cell, mask=mask)
        result["gi"] = hot.label.astype(int).tolist()
    return result


def _near_repeat(rows: list[tuple], period: Period, *, capped: bool) -> dict[str, Any]:
    n = len(rows)
    if n < MIN_KNOX_EVENTS:
        return {
            "tested": False,
            "significant": False,
            "message": (
                f"För få händelser med exakt plats för att pröva upprepning i tid och rum ({n} av minst "
                f"{MIN_KNOX_EVENTS} under perioden och de 12 veckorna före)."
            ),
            "bands": [],
        }
    x = np.array([r[1] for r in rows], dtype=np.float64)
    y = np.array([r[2] for r in rows], dtype=np.float64)
    for _ in range(4):
        tree = cKDTree(np.column_stack([x, y]))
        pairs = (int(tree.count_neighbors(tree, KNOX_DISTANCES[-1])) - len(rows)) // 2
        if pairs <= MAX_KNOX_PAIRS:
            break
        keep = max(MIN_KNOX_EVENTS, int(len(rows) * math.sqrt(MAX_KNOX_PAIRS / pairs)))
        rows, x, y, capped = rows[-keep:], x[-keep:], y[-keep:], True
    n = len(rows)
    origin = rows[0][0]
    t = np.array([(when - origin).total_seconds() / 86400.0 for when, _x, _y in rows])
    k = knox_test(
        x, y, t, distance_bands=KNOX_DISTANCES, time_bands=KNOX_DAYS, permutations=KNOX_PERMUTATIONS, rng=period.seed
    )
    bands = []
    for i in range(len(KNOX_DISTANCES) - 1):
        for j in range(len(KNOX_DAYS) - 1):
            ratio = float(k.ratio[i, j])
            bands.append(
                {
                    "distance": f"{KNOX_DISTANCES[i]:.0f}–{KNOX_DISTANCES[i + 1]:.0f} m",
                    "days": f"{KNOX_DAYS[j]:.0f}–{KNOX_DAYS[j + 1]:.0f} dagar",
                    "observed": int(k.observed[i, j]),
                    "expected": round(float(k.expected[i, j]), 2),
                    "ratio": None if math.isnan(ratio) else round(ratio, 2),
                    "p": _sig(float(k.p[i, j])),
                }
            )
    days = f"{KNOX_DAYS[1]:.0f} dagar"
    where = {0: f"inom {KNOX_DISTANCES[1]:.0f} m", 1: f"på {KNOX_DISTANCES[1]:.0f}–{KNOX_DISTANCES[2]:.0f} m avstånd"}
    hit = next(
        (
            i
            for i in (0, 1)
            if k.p[i, 0] <= KNOX_ALPHA and not math.isnan(k.ratio[i, 0]) and k.ratio[i, 0] > KNOX_MIN_RATIO
        ),
        None,
    )
    scope = f" (de senaste {n} händelserna)" if capped else ""
    if hit is not None:
        message = (
            f"Händelser nära varandra i tid och rum: risken för upprepning {where[hit]} och {days} är "
            f"{_sv(k.ratio[hit, 0], 1)} gånger den förväntade (p = {_sv(k.p[hit, 0], 2)}){scope}."
        )
    else:
        ratio = k.ratio[0, 0]
        ratio_text = "kvot saknas" if math.isnan(ratio) else f"kvot {_sv(ratio, 1)}"
        message = (
            f"Ingen tydlig upprepning i tid och rum: händelser {where[0]} och {days} från varandra är inte tydligt "
            f"fler än väntat ({ratio_text}, p = {_sv(k.p[0, 0], 2)}){scope}."
        )
    return {"tested": True, "significant": hit is not None, "message": message, "bands": bands}


# --------------------------------------------------------------------------------------------------------------------
# Numbers for JSON and for Swedish text
# --------------------------------------------------------------------------------------------------------------------


def _sig(value: float, digits: int = 3) -> float:
    """A plain float rounded to ``digits`` significant digits."""
    return float(f"{float(value):.{digits}g}")


def _sv(value: float, decimals: int) -> str:
    """A number with a decimal comma, as Swedish text writes it."""
    return f"{float(value):.{decimals}f}".replace(".", ",")
