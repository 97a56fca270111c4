"""Right place, right time: where and when next week's reports of a focus area are most likely, as suggestions.

The ranking is only as good as it has been, so before anything is ranked three forecasts are back-tested week by
week over the past year (rolling origin: each week forecast from what was reported before it, scored on what that
week brought): the naive baseline (each cell's count in the last four weeks), a kernel density surface of the last
twelve weeks, and the prospective hotspots of Bowers et al. (2004). The one with the best mean PAI on 5 % of the area
ranks next week's cells — the naive baseline unless another one did better, since it is the simplest — and its
record is always shown beside the baseline's, so nobody trusts a model that does no better than last month's counts.

Neighbouring top cells are one place, not several suggestions; each place gets the two four-hour blocks of the week
when most reports near it happened during the last year, in the form a measure stores (``Measure.time_windows``) and
in the short text the measure form reads ("fre 20–24; lör 00–04").

Only reports placed on the exact spot or street can be put in a 250 m cell; those placed only in the municipality
or an area are counted and named, never spread out over cells.

References
----------
Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting: the future of crime mapping? *British
Journal of Criminology* 44(5), 641-658.

Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for predicting spatial patterns of crime.
*Security Journal* 21, 4-28.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from numpy.typing import NDArray
from shapely.geometry import mapping

from samverkan.accounts.access import Action, incidents_visible_to, picture_views_allowed, plan_municipality_ids
from samverkan.analysis.forecast import (
    Backtest,
    ForecastMethod,
    NaiveCounts,
    ProspectiveHotspots,
    RetrospectiveKDE,
    backtest,
)
from samverkan.analysis.grid import Grid
from samverkan.analysis.temporal import weekday_hour_profile
from samverkan.incidents.models import FocusArea, Precision, Sensitivity
from samverkan.incidents.selectors import local_midnight
from samverkan.places.geo import geometry_from_geojson, to_sweref, to_wgs84
from samverkan.places.models import Area, Municipality
from samverkan.places.selectors import area_ids_containing

VIEWS = ("shared", "police")
COVERAGES = (0.01, 0.05, 0.10)
# The method that ranks is the one with the best mean PAI at this coverage: 5 % of the area is about what a
# municipality's patrols and caretakers can cover in a week.
CHOICE_COVERAGE = 0.05

NAIVE_LOOKBACK_DAYS = 28.0
# Cells with the same count in the last four weeks are ordered by their count over the last year.
NAIVE_HISTORY_DAYS = 365.0
KDE_LOOKBACK_DAYS = 84.0
KDE_BANDWIDTH_CELLS = 2.0
PROSPECTIVE_DISTANCE = 400.0
PROSPECTIVE_DAYS = 56.0

MIN_EVENTS = 30
MIN_BACKTEST_WEEKS = 4
PLACEABLE = (Precision.EXACT, Precision.STREET)
# Large municipalities get coarser cells rather than a back-test over a million cells.
MAX_CELLS = 250_000

# A place is at most this many edge-neighbouring cells; top cells within SEPARATION cells of a place belong to its
# hotspot and do not become suggestions of their own.
MAX_PLACE_CELLS = 4
SEPARATION_CELLS = 2
PROFILE_DAYS = 364.0
# Below this many reports near a place, its busiest hours are as much chance as pattern, and the words say so.
MIN_PROFILE_EVENTS = 20
NEAR_M = 250.0
BLOCK_HOURS = 4

WEEKDAYS_SV = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")
METHODS = (
    ("naive", "Naiv prognos (förra veckornas antal)", "naiv prognos"),
    ("kde", "KDE (tolv veckor)", "KDE"),
    ("prospective", "Prospektiv (Bowers m.fl.)", "prospektiv"),
)


def suggestions_compute(
    *,
    user,
    municipality_id: int,
    focus_area_code: str,
    weeks_history: int = 52,
    cell_size: float = 250.0,
    top: int = 10,
    view: str = "shared",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Next week's places and times for a focus area, with the back-test that chose the ranking.

    Parameters
    ----------
    user
        Whose access decides: the municipality must be one whose plans the user may read (else ``Http404``, as if
        it did not exist; reporters read none). The police view needs a police membership covering it.
    municipality_id, focus_area_code
        Which reports: the municipality's reports of the focus area, through ``incidents_visible_to``.
    weeks_history
        Weeks back-tested, ending with the last complete ISO week; also the window of the "too few" check.
    cell_size
        Cell side in metres (SWEREF 99 TM); coarser when the municipality would need more than ``MAX_CELLS``.
    top
        Number of places suggested.
    view
        "shared" leaves police-only reports out; "police" includes them.
    now
        The moment the forecast is made (aware); default the present. Reports after it are ignored.

    Returns
    -------
    dict
        Plain JSON: ``state`` ("ok" or "too_few") with a ``message``, the reports used and left out, the grid,
        ``backtest`` (per method and coverage the mean hit rate and PAI, the chosen method and a sentence) and
        ``suggestions`` (rank, centre, WGS84 polygon, area name, score, reports in the last four weeks, time windows
        as JSON and text, and a motivation for a measure).

    Raises
    ------
    Http404
        Municipality not readable, or unknown focus area.
    PermissionDenied
        Police view without a police membership covering the municipality.
    ValueError
        Unknown view, ``weeks_history``/``top`` below 1, ``cell_size`` not a positive number, naive ``now``.

    References
    ----------
    Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for predicting spatial patterns of
    crime. *Security Journal* 21, 4-28.

    Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting: the future of crime mapping? *British
    Journal of Criminology* 44(5), 641-658.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be 'shared' or 'police' (got {view!r})")
    if int(weeks_history) != weeks_history or weeks_history < 1:
        raise ValueError(f"weeks_history must be a whole number >= 1 (got {weeks_history!r})")
    if int(top) != top or top < 1:
        raise ValueError(f"top must be a whole number >= 1 (got {top!r})")
    if not (isinstance(cell_size, int | float) and math.isfinite(cell_size) and cell_size > 0):
        raise ValueError(f"cell_size must be a positive number of metres (got {cell_size!r})")
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    municipality = _access(user, municipality_id, view)
    focus = FocusArea.objects.filter(code=focus_area_code).first()
    if focus is None:
        raise Http404("No such focus area")

    today = timezone.localdate(now)
    week_start = today - dt.timedelta(days=today.weekday())
    origin = local_midnight(week_start)
    history_start = week_start - dt.timedelta(weeks=int(weeks_history))
    target = week_start + dt.timedelta(weeks=1)
    at = (now - origin).total_seconds() / 86400.0

    events = _load(user, municipality, focus, view, origin, now, history_start, weeks_history)
    grid, mask = _grid(municipality, events, float(cell_size))
    inside = grid.locate(events.x, events.y).inside if events.x.size else np.zeros(0, dtype=bool)
    in_history = events.t >= _days(history_start, origin)
    placed, outside = int((inside & in_history).sum()), int((~inside & in_history).sum())

    iso = target.isocalendar()
    result: dict[str, Any] = {
        "municipality": {"id": municipality.pk, "code": municipality.code, "name": municipality.name},
        "focus_area": {"code": focus.code, "name": focus.name_sv},
        "view": view,
        "restricted_excluded": view == "shared",
        "data_cutoff": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "week": {
            "year": iso.year,
            "week": iso.week,
            "code": f"{iso.year}-W{iso.week:02d}",
            "label": f"vecka {iso.week}",
            "start": target.isoformat(),
            "end": (target + dt.timedelta(days=7)).isoformat(),
        },
        "grid": {
            "crs": "EPSG:3006",
            "x0": grid.x0,
            "y0": grid.y0,
            "cell_size": grid.cell_size,
            "nx": grid.nx,
            "ny": grid.ny,
            "cells_studied": int(grid.check_mask(mask).sum()),
        },
        "events": {
            "placed": placed,
            "outside": outside,
            "not_placed": events.not_placed,
            "weeks": int(weeks_history),
            "message": _left_out_message(events.not_placed, outside, int(weeks_history)),
        },
        "state": "ok",
        "message": "",
        "backtest": None,
        "suggestions": [],
    }
    if placed < MIN_EVENTS:
        result["state"] = "too_few"
        result["message"] = (
            f"För få rapporter med plats på gatunivå för en prognos: {placed} under de senaste {weeks_history} "
            f"veckorna, minst {MIN_EVENTS} behövs. Inga platser föreslås."
        )
        return result

    x, y, t = events.x[inside], events.y[inside], events.t[inside]
    first_usable = float(t.min()) + NAIVE_LOOKBACK_DAYS
    bounds = [
        b
        for k in range(int(weeks_history), -1, -1)
        if (b := _days(week_start - dt.timedelta(weeks=k), origin)) >= first_usable
    ]
    if len(bounds) - 1 < MIN_BACKTEST_WEEKS:
        result["state"] = "too_few"
        result["message"] = (
            f"För kort historik för att pröva prognoserna: rapporterna räcker till {max(len(bounds) - 1, 0)} veckors "
            f"prov, minst {MIN_BACKTEST_WEEKS} behövs (varje prövad vecka kräver fyra veckors rapporter före sig). "
            "Inga platser föreslås."
        )
        return result

    methods = _methods(grid.cell_size)
    bt = backtest(x, y, t, grid=grid, periods=bounds, methods=list(methods.values()), mask=mask, coverages=COVERAGES)
    table, chosen = _backtest_table(bt)
    result["backtest"] = {
        "weeks": len(bounds) - 1,
        "from": (week_start - dt.timedelta(weeks=len(bounds) - 1)).isoformat(),
        "to": week_start.isoformat(),
        "events": int(bt.n_events.sum()),
        "coverages": list(COVERAGES),
        "methods": table,
        "chosen": chosen,
        "sentence": _backtest_sentence(table, chosen, len(bounds) - 1),
    }

    score = methods[chosen](x, y, t, grid=grid, at=at, horizon=7.0)
    places = _places(score, grid.check_mask(mask), int(top))
    wd, hr = events.weekday[inside], events.hour[inside]
    result["suggestions"] = _suggestions(
        places,
        score=score,
        grid=grid,
        x=x,
        y=y,
        t=t,
        weekday=wd,
        hour=hr,
        at=at,
        municipality=municipality,
        focus=focus,
        week_label=result["week"]["label"],
        method_label=next(short for code, _n, short in METHODS if code == chosen),
    )
    if not result["suggestions"]:
        result["message"] = "Prognosen pekar inte ut någon ruta: inga rapporter de senaste veckorna."
    return result


# --------------------------------------------------------------------------------------------------------------------
# Access and data
# --------------------------------------------------------------------------------------------------------------------


def _access(user, municipality_id: object, view: str) -> Municipality:
    try:
        mid = int(str(municipality_id))
    except (TypeError, ValueError):
        raise Http404("No such municipality") from None
    if mid not in plan_municipality_ids(user, Action.VIEW):
        raise Http404("No such municipality")
    if view == "police" and "police" not in picture_views_allowed(user, mid):
        raise PermissionDenied("The police view needs a police membership covering the municipality.")
    return Municipality.objects.get(pk=mid)


@dataclass(frozen=True, slots=True)
class _Events:
    """Placeable reports as arrays: SWEREF metres, days since the origin, local ISO weekday (0 = Monday) and hour."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    t: NDArray[np.float64]
    weekday: NDArray[np.int64]
    hour: NDArray[np.int64]
    not_placed: dict[str, int]


def _days(day: dt.date, origin: dt.datetime) -> float:
    return (local_midnight(day) - origin).total_seconds() / 86400.0


def _load(
    user,
    municipality: Municipality,
    focus: FocusArea,
    view: str,
    origin: dt.datetime,
    now: dt.datetime,
    history_start: dt.date,
    weeks_history: int,
) -> _Events:
    reports = incidents_visible_to(user, Action.VIEW).filter(
        municipality_id=municipality.pk, category__focus_area_id=focus.pk, occurred_from__lt=now
    )
    if view == "shared":
        reports = reports.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
    # The naive forecast's tie-break looks a year behind the first week back-tested.
    load_from = local_midnight(history_start) - dt.timedelta(days=NAIVE_HISTORY_DAYS)
    rows = list(
        reports.filter(occurred_from__gte=load_from, precision__in=PLACEABLE)
        .order_by("occurred_from", "id")
        .values_list("occurred_from", "x", "y")
    )
    not_placed = {
        str(p): n
        for p in (Precision.MUNICIPALITY, Precision.AREA)
        if (n := reports.filter(occurred_from__gte=local_midnight(history_start), precision=p).order_by().count())
    }
    stockholm = timezone.get_default_timezone()
    local = [when.astimezone(stockholm) for when, _x, _y in rows]
    base = origin.timestamp()
    return _Events(
        x=np.array([r[1] for r in rows], dtype=np.float64),
        y=np.array([r[2] for r in rows], dtype=np.float64),
        t=np.array([(when.timestamp() - base) / 86400.0 for when, _x, _y in rows], dtype=np.float64),
        weekday=np.array([w.weekday() for w in local], dtype=np.int64),
        hour=np.array([w.hour for w in local], dtype=np.int64),
        not_placed=not_placed,
    )


def _grid(municipality: Municipality, events: _Events, cell: float) -> tuple[Grid, NDArray[np.bool_] | None]:
    """The grid over the outline (or, without one, over the reports), cell corners on whole multiples of the cell
    size so a cell is the same from one week to the next, and the cells that touch the outline."""
    outline = None
    if municipality.geometry:
        wgs = geometry_from_geojson(municipality.geometry)
        outline = shapely.transform(wgs, lambda c: np.column_stack(to_sweref(c[:, 0], c[:, 1])))
        box = outline.bounds
    elif events.x.size:
        box = (events.x.min(), events.y.min(), events.x.max(), events.y.max())
    else:
        box = (0.0, 0.0, cell, cell)
    cells = ((box[2] - box[0]) / cell + 1) * ((box[3] - box[1]) / cell + 1)
    if cells > MAX_CELLS:
        cell *= math.ceil(math.sqrt(cells / MAX_CELLS))
    x0, y0 = math.floor(box[0] / cell) * cell, math.floor(box[1] / cell) * cell
    grid = Grid.covering(x0, y0, box[2], box[3], cell)
    mask = None
    if outline is not None:
        xs = grid.x0 + np.arange(grid.nx) * cell
        ys = grid.y0 + np.arange(grid.ny) * cell
        gx, gy = np.meshgrid(xs, ys)
        shapely.prepare(outline)
        # A cell partly on land is studied: reports along the shore fall in such cells.
        touches = shapely.intersects(outline, shapely.box(gx, gy, gx + cell, gy + cell))
        mask = touches if touches.sum() >= 2 else None
    return grid, mask


def _left_out_message(not_placed: dict[str, int], outside: int, weeks: int) -> str:
    municipality, area = not_placed.get(str(Precision.MUNICIPALITY), 0), not_placed.get(str(Precision.AREA), 0)
    if municipality and area:
        what = f"{municipality} rapporter bara kommunen som plats och {area} bara ett område"
    elif municipality:
        what = f"{municipality} rapporter bara kommunen som plats"
    elif area:
        what = f"{area} rapporter bara ett område som plats"
    else:
        what = ""
    parts = []
    if what:
        parts.append(
            f"Under de senaste {weeks} veckorna har {what}; de kan inte placeras i en ruta och ingår inte i prognosen."
        )
    if outside:
        parts.append(f"{outside} rapporter ligger utanför kommunens gräns och ingår inte.")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------------------------------
# Back-test
# --------------------------------------------------------------------------------------------------------------------


def _methods(cell: float) -> dict[str, ForecastMethod]:
    return {
        "naive": NaiveCounts(lookback=NAIVE_LOOKBACK_DAYS, history=NAIVE_HISTORY_DAYS, label="naive"),
        "kde": RetrospectiveKDE(lookback=KDE_LOOKBACK_DAYS, bandwidth=KDE_BANDWIDTH_CELLS * cell, label="kde"),
        "prospective": ProspectiveHotspots(
            distance_bandwidth=PROSPECTIVE_DISTANCE, time_bandwidth=PROSPECTIVE_DAYS, label="prospective"
        ),
    }


def _round(value: float, digits: int) -> float | None:
    return None if not math.isfinite(value) else round(float(value), digits)


def _backtest_table(bt: Backtest) -> tuple[list[dict[str, Any]], str]:
    table: list[dict[str, Any]] = []
    for code, name, short in METHODS:
        rows = []
        for c in COVERAGES:
            s = bt.score(code, c)
            rows.append({"coverage": c, "hit_rate": _round(s.hit_rate, 3), "pai": _round(s.pai, 2)})
        table.append({"code": code, "name": name, "short": short, "rows": rows})
    # Compared as shown (one decimal): a difference nobody can see is a tie, and a tie goes to the simplest.
    chosen, best = "naive", -math.inf
    for entry in table:
        pai = next(r["pai"] for r in entry["rows"] if r["coverage"] == CHOICE_COVERAGE)
        if pai is not None and round(pai, 1) > best:
            chosen, best = entry["code"], round(pai, 1)
    for entry in table:
        entry["chosen"] = entry["code"] == chosen
    return table, chosen


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{round(100 * share):d} %"


def _dec(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else f"{value:.{decimals}f}".replace(".", ",")


def _at(entry: dict[str, Any], field: str) -> float | None:
    return next(r[field] for r in entry["rows"] if r["coverage"] == CHOICE_COVERAGE)


def _backtest_sentence(table: list[dict[str, Any]], chosen: str, weeks: int) -> str:
    naive = table[0]
    others = "; ".join(f"{e['short']} {_pct(_at(e, 'hit_rate'))}" for e in table[1:])
    first = (
        f"{naive['name']} träffade i snitt {_pct(_at(naive, 'hit_rate'))} av veckans händelser på 5 % av ytan; "
        f"{others} (de senaste {weeks} veckorna)."
    )
    if chosen == "naive":
        second = (
            f"Förslagen rangordnas med den naiva prognosen: ingen annan metod hade högre PAI vid 5 % av ytan "
            f"(naiv {_dec(_at(naive, 'pai'))}, "
            + ", ".join(f"{e['short']} {_dec(_at(e, 'pai'))}" for e in table[1:])
            + ")."
        )
    else:
        best = next(e for e in table if e["code"] == chosen)
        second = (
            f"Förslagen rangordnas med {best['short']}, som hade högst PAI vid 5 % av ytan: "
            f"{_dec(_at(best, 'pai'))} mot {_dec(_at(naive, 'pai'))} för den naiva prognosen."
        )
    return f"{first} {second}"


# --------------------------------------------------------------------------------------------------------------------
# Places and times
# --------------------------------------------------------------------------------------------------------------------


def _places(score: NDArray[np.float64], studied: NDArray[np.bool_], top: int) -> list[list[tuple[int, int]]]:
    """Up to ``top`` places, best first, each a list of (row, col) cells with the best cell first.

    Cells are walked from the highest score (ties by row-major index, as ``forecast.flag_cells`` breaks them). A
    cell that shares an edge with a place joins it while the place has room; one close to a place but not joining it
    is part of the same hotspot and is passed over; any other starts a new place.
    """
    ny, nx = score.shape
    flat = np.flatnonzero((studied & (score > 0)).ravel())
    order = flat[np.lexsort((flat, -score.ravel()[flat]))]
    owner = -np.ones((ny, nx), dtype=np.int64)
    near = np.zeros((ny, nx), dtype=bool)
    places: list[list[tuple[int, int]]] = []
    s = SEPARATION_CELLS
    for index in order:
        r, c = divmod(int(index), nx)
        joined = False
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < ny and 0 <= cc < nx and owner[rr, cc] >= 0 and len(places[owner[rr, cc]]) < MAX_PLACE_CELLS:
                p = int(owner[rr, cc])
                places[p].append((r, c))
                owner[r, c] = p
                near[max(r - s, 0) : r + s + 1, max(c - s, 0) : c + s + 1] = True
                joined = True
                break
        if joined or near[r, c]:
            continue
        if len(places) == top:
            break
        owner[r, c] = len(places)
        places.append([(r, c)])
        near[max(r - s, 0) : r + s + 1, max(c - s, 0) : c + s + 1] = True
    return places


def _suggestions(
    places: list[list[tuple[int, int]]],
    *,
    score: NDArray[np.float64],
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    weekday: NDArray[np.int64],
    hour: NDArray[np.int64],
    at: float,
    municipality: Municipality,
    focus: FocusArea,
    week_label: str,
    method_label: str,
) -> list[dict[str, Any]]:
    if not places:
        return []
    cs = grid.cell_size
    idx = grid.locate(x, y)
    flat = idx.row * grid.nx + idx.col
    recent = (t >= at - NAIVE_LOOKBACK_DAYS) & (t < at)
    last_year = (t >= at - PROFILE_DAYS) & (t < at)
    points = shapely.points(x[last_year], y[last_year])
    shapes = []
    for cells in places:
        boxes = [
            shapely.box(grid.x0 + c * cs, grid.y0 + r * cs, grid.x0 + (c + 1) * cs, grid.y0 + (r + 1) * cs)
            for r, c in cells
        ]
        shapes.append(shapely.union_all(boxes).normalize())
    centres = [shape.centroid for shape in shapes]
    lon, lat = to_wgs84([p.x for p in centres], [p.y for p in centres])
    names = _area_names(municipality.pk, lon, lat)

    out = []
    for rank, (cells, shape) in enumerate(zip(places, shapes, strict=True), start=1):
        cell_ids = [r * grid.nx + c for r, c in cells]
        near = shapely.dwithin(shape, points, NEAR_M)
        windows, text, blocks = time_blocks(weekday[last_year][near], hour[last_year][near])
        n_recent = int((recent & np.isin(flat, cell_ids)).sum())
        polygon = _wgs84_geojson(shape)
        where = (
            f"ruta {rank} av {len(places)}"
            if len(cells) == 1
            else f"plats {rank} av {len(places)} ({len(cells)} rutor)"
        )
        motivation = (
            f"Prognos {week_label}: {where} för {focus.name_sv.lower()} i {municipality.name}, "
            f"{n_recent} rapporter senaste 4 veckorna (rangordnad med {method_label})."
        )
        if text:
            motivation += f" Flest rapporter i närheten det senaste året: {text}."
        out.append(
            {
                "rank": rank,
                "lon": round(float(lon[rank - 1]), 6),
                "lat": round(float(lat[rank - 1]), 6),
                "polygon": polygon,
                "cells": [[r, c] for r, c in cells],
                "area": names[rank - 1],
                "score": float(f"{float(score[cells[0]]):.3g}"),
                "recent_count": n_recent,
                "nearby_year": int(near.sum()),
                "time_windows": windows,
                "time_windows_text": text,
                "time_words": _time_words(blocks, int(near.sum())),
                "motivation": motivation,
            }
        )
    return out


def _wgs84_geojson(shape) -> dict[str, Any]:
    wgs = shapely.transform(shape, lambda c: np.round(np.column_stack(to_wgs84(c[:, 0], c[:, 1])), 6))
    geo = mapping(wgs)
    return {"type": geo["type"], "coordinates": _lists(geo["coordinates"])}


def _lists(value):
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    return float(value)


def _area_names(municipality_id: int, lon, lat) -> list[str | None]:
    """The name of the smallest current area of the municipality that contains each point (None outside all)."""
    per_point = area_ids_containing(municipality_id=municipality_id, lon=lon, lat=lat)
    ids = {a for ids in per_point for a in ids}
    size = {}
    name = {}
    for area in Area.objects.filter(pk__in=ids).only("id", "name", "geometry"):
        size[area.pk] = geometry_from_geojson(area.geometry).area
        name[area.pk] = area.name
    return [name[min(ids, key=lambda a: (size[a], a))] if ids else None for ids in per_point]


def _hours(h: int) -> str:
    return f"{h:02d}:00"


def time_blocks(weekday, hour) -> tuple[list[dict[str, Any]], str, list[tuple[int, int, int]]]:
    """The two four-hour blocks of the week with most events, as measure time windows and as text.

    Blocks start at 00, 04, …, 20 local time on each weekday (42 in a week); ties go to the earlier block of the
    week. Two blocks that follow each other become one window (Friday 20–24 and Saturday 00–04: "fre 20–04", a
    window past midnight), as do the same hours on two following days ("fre–lör 20–24").

    Parameters
    ----------
    weekday, hour : array_like of int
        Local weekday (0 = Monday) and hour of each event.

    Returns
    -------
    windows : list of dict
        ``[{"weekdays": [5], "start": "20:00", "end": "00:00"}]`` with ISO weekdays 1–7 (``Measure.time_windows``);
        an end at or before the start runs past midnight.
    text : str
        The same in the measure form's words: "fre 20–24; lör 00–04" ("" without events).
    blocks : list of (weekday, start hour, count)
        The chosen blocks, most events first.
    """
    counts = weekday_hour_profile(np.asarray(weekday, dtype=int), np.asarray(hour, dtype=int)).counts
    per_block = counts.reshape(7, 24 // BLOCK_HOURS, BLOCK_HOURS).sum(axis=2).ravel()
    order = np.lexsort((np.arange(per_block.size), -per_block))
    chosen = [int(i) for i in order[:2] if per_block[i] > 0]
    blocks = [(i // 6, (i % 6) * BLOCK_HOURS, int(per_block[i])) for i in chosen]
    if not blocks:
        return [], "", []
    spans = sorted((d, h) for d, h, _n in blocks)
    if len(spans) == 2:
        (d1, h1), (d2, h2) = spans
        last = 24 - BLOCK_HOURS
        if d1 == d2 and h2 == h1 + BLOCK_HOURS:
            spans_out = [([d1], h1, h2 + BLOCK_HOURS)]
        elif d2 == d1 + 1 and h1 == last and h2 == 0:
            spans_out = [([d1], h1, BLOCK_HOURS)]
        elif d1 == 0 and h1 == 0 and d2 == 6 and h2 == last:
            spans_out = [([6], h2, BLOCK_HOURS)]
        elif h1 == h2 and d2 == d1 + 1:
            spans_out = [([d1, d2], h1, h1 + BLOCK_HOURS)]
        elif h1 == h2 and d1 == 0 and d2 == 6:
            spans_out = [([6, 0], h1, h1 + BLOCK_HOURS)]
        else:
            spans_out = [([d1], h1, h1 + BLOCK_HOURS), ([d2], h2, h2 + BLOCK_HOURS)]
    else:
        d, h = spans[0]
        spans_out = [([d], h, h + BLOCK_HOURS)]
    windows = [
        {"weekdays": sorted(d + 1 for d in days), "start": _hours(s), "end": _hours(e % 24)} for days, s, e in spans_out
    ]
    text = "; ".join(
        f"{'–'.join(WEEKDAYS_SV[d] for d in days)} {s:02d}–{(e % 24) if e > 24 else e:02d}" for days, s, e in spans_out
    )
    return windows, text, blocks


def _time_words(blocks: list[tuple[int, int, int]], n: int) -> str:
    if not blocks:
        return "Inga rapporter i närheten det senaste året att välja tider efter."
    parts = [f"{WEEKDAYS_SV[d]} {h:02d}–{h + BLOCK_HOURS:02d} ({k} av {n})" for d, h, k in blocks]
    words = f"Flest rapporter inom {NEAR_M:.0f} m det senaste året: {' och '.join(parts)}."
    if n < MIN_PROFILE_EVENTS:
        words += f" Med färre än {MIN_PROFILE_EVENTS} rapporter är tiderna osäkra."
    return words
