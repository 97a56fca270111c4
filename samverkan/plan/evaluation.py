"""Did a measure work? A before/after comparison of the measure's place against a comparison area, with a check for
displacement to the surroundings, frozen as an :class:`~samverkan.plan.models.Evaluation`.

How the numbers are made:

* **Zones** (SWEREF 99 TM metres, shapely). The *treated* area is the union of the current geometries of the
  measure's areas and its drawn polygon. The *buffer* is the ring of ``buffer_metres`` around it (buffer, then the
  treated area taken out), where crime pushed away by the measure would most likely go. The *control* is the chosen
  control areas with the treated area and the buffer taken out, or by default every other report of the municipality
  (outside treated area and buffer).
* **Reports** come through the access funnel (``incidents_visible_to``), only from the measure's municipality, only of
  the measure's focus area — or of its indicator's categories when the indicator names categories. The shared view
  (the default) leaves police-only reports out, so an evaluation can be read by every party; the police view includes
  them and is shown only to police members. Only reports placed exactly or to the street can be put in a zone; the
  others (area or municipality precision) are counted as left out and said so.
* **Time windows.** A measure with time windows (e.g. Friday and Saturday 20:00–02:00) is judged only on reports
  inside them, by local weekday and time. A window that runs past midnight belongs to the day it starts: a report at
  01:00 on Saturday is in Friday's window and counts on Friday's date.
* **Periods.** After: the measure's start to its end, or to yesterday (the last full day) while it runs. Before: the
  same number of days just before the start, at least 28. Either length can be given instead.
* **Statistics** from :mod:`samverkan.analysis.evaluation`: the rate ratio of treated against control with its
  interval, the minimum detectable effect, the verdict (effect shown / no effect shown / too little data), the
  weighted displacement quotient (Bowers & Johnson 2003) and the weighted displacement difference (Wheeler &
  Ratcliffe 2018). The WDD is meant for a control of about the treated area's size; the default control (the rest of
  the municipality) is much bigger, so its counts are scaled to the treated area's (and the buffer's) before count.
  The interval then treats the scaled counts as Poisson counts, which is cautious (too wide) whenever the control has
  more reports than the area it is scaled to.

The summary is plain Swedish, because it is read by the steering group and the council as it stands.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from samverkan.accounts.access import Action, access_measure_by_id, incidents_visible_to, picture_views_allowed
from samverkan.analysis.evaluation import (
    DEFAULT_MIN_COUNT,
    measure_verdict,
    weighted_displacement_difference,
    weighted_displacement_quotient,
)
from samverkan.incidents.models import Category, Precision, Sensitivity
from samverkan.incidents.selectors import local_midnight
from samverkan.places.geo import geometry_from_geojson, to_sweref
from samverkan.places.models import Area
from samverkan.plan.models import Evaluation, Measure

SCHEMA = 1
VIEWS = ("shared", "police")
ZONES = ("treated", "buffer", "control")

MIN_BEFORE_DAYS = 28
MAX_BUFFER_METRES = 5000
PLACEABLE = (Precision.EXACT, Precision.STREET)
# Changes smaller than this are "about unchanged" in words; Poisson noise alone is larger at the counts we see.
UNCHANGED = 0.05

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# --------------------------------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------------------------------


def evaluations_visible_to(user, measure: Measure) -> QuerySet[Evaluation]:
    """The measure's evaluations the user may read: shared ones, and police ones only through a police membership.

    The measure itself must already have come through ``access_measure_by_id``.
    """
    evaluations = measure.evaluations.select_related("computed_by")
    if "police" in picture_views_allowed(user, measure.municipality_id):
        return evaluations
    return evaluations.exclude(parameters__view="police")


# --------------------------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------------------------


def measure_evaluate(
    *,
    user,
    measure_id: object,
    before_days: int | None = None,
    after_days: int | None = None,
    control_area_ids: Iterable[int] | None = None,
    buffer_metres: float = 500,
    view: str = "shared",
    today: dt.date | None = None,
) -> Evaluation:
    """Evaluate a measure and store the result as a new :class:`Evaluation`.

    Parameters
    ----------
    user
        Must be allowed to edit the measure (samordnare, analytiker, admin in its municipality); otherwise
        ``Http404``, as if the measure did not exist.
    measure_id
        The measure.
    before_days, after_days
        Lengths of the periods in days. Defaults: after = start to end (or to yesterday while the measure runs);
        before = as long as the after period, at least 28 days, ending the day before the start.
    control_area_ids
        Areas of the measure's municipality to compare with; None or empty: the rest of the municipality.
    buffer_metres
        Width of the displacement ring around the treated area, 0–5000 m; 0 means no displacement check.
    view
        "shared" (police-only reports left out) or "police" (included; needs a police membership covering the
        municipality, else ``PermissionDenied``).
    today
        The local date to evaluate as of (tests); default today.

    Raises
    ------
    Http404
        No such measure, or the user may not edit it.
    PermissionDenied
        The police view without a police membership.
    ValueError
        The measure has no place, has not run a full day, bad period lengths or buffer, time windows that cannot be
        read, or control areas outside the municipality.
    """
    measure: Measure = access_measure_by_id(user, measure_id, Action.EDIT)
    if view not in VIEWS:
        raise ValueError(_("The view must be shared or police (got %(view)r).") % {"view": view})
    if view == "police" and "police" not in picture_views_allowed(user, measure.municipality_id):
        raise PermissionDenied("The police view needs a police membership covering the municipality.")
    buffer_m = float(buffer_metres)
    if not (math.isfinite(buffer_m) and 0 <= buffer_m <= MAX_BUFFER_METRES):
        raise ValueError(
            _("The buffer must be between 0 and %(max)s metres (got %(value)s).")
            % {"max": MAX_BUFFER_METRES, "value": buffer_metres}
        )
    windows = parse_time_windows(measure.time_windows)
    today = today or timezone.localdate()
    before, after = _periods(measure, today, before_days, after_days)

    treated = _treated_geometry(measure)
    buffer = treated.buffer(buffer_m).difference(treated) if buffer_m > 0 else None
    control_ids = sorted({int(i) for i in control_area_ids or ()})
    control = _control_geometry(measure, control_ids, treated, buffer)
    categories, filter_words = _report_filter(measure)

    counts, weekly, left_out, bins = _count(
        user=user,
        measure=measure,
        view=view,
        categories=categories,
        windows=windows,
        before=before,
        after=after,
        treated=treated,
        buffer=buffer,
        control=control,
    )
    stats = _statistics(counts, before_days=_days(before), after_days=_days(after), has_buffer=buffer is not None)
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "view": view,
        "restricted_excluded": view == "shared",
        "data_cutoff": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
        "periods": {
            "before": {"first": before[0].isoformat(), "last": before[1].isoformat(), "days": _days(before)},
            "after": {"first": after[0].isoformat(), "last": after[1].isoformat(), "days": _days(after)},
        },
        "filter": filter_words,
        "time_windows": windows,
        "zones": {
            "treated": {**counts["treated"], "area_km2": _round(treated.area / 1e6)},
            "buffer": None if buffer is None else {**counts["buffer"], "area_km2": _round(buffer.area / 1e6)},
            "control": {
                **counts["control"],
                "area_km2": None if control is None else _round(control.area / 1e6),
                "rest_of_municipality": control is None,
            },
        },
        "buffer_metres": buffer_m,
        "left_out": left_out,
        "weekly": {"starts": [b[0].isoformat() for b in bins], "days": [b[1] for b in bins], **weekly},
        **stats,
    }
    result["summary_parts"] = summary_parts(result)
    parameters = {
        "before_days": before_days,
        "after_days": after_days,
        "control_area_ids": control_ids,
        "buffer_metres": buffer_m,
        "view": view,
        "today": today.isoformat(),
    }
    return Evaluation.objects.create(
        measure=measure,
        computed_by=user,
        parameters=parameters,
        result=result,
        verdict=result["verdict"]["outcome"],
        summary=" ".join(result["summary_parts"]),
    )


# --------------------------------------------------------------------------------------------------------------------
# Time: periods and windows
# --------------------------------------------------------------------------------------------------------------------


def _days(period: tuple[dt.date, dt.date]) -> int:
    return (period[1] - period[0]).days + 1


def _periods(
    measure: Measure, today: dt.date, before_days: int | None, after_days: int | None
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(first, last) local dates, both included, of the before and after periods."""
    # Today is not over: counting it would make any running measure look like a reduction.
    last_full = today - dt.timedelta(days=1)
    if after_days is not None:
        if int(after_days) != after_days or after_days < 1:
            raise ValueError(
                _("The after period must be a whole number of days, at least 1 (got %(value)s).")
                % {"value": after_days}
            )
        after_last = measure.start + dt.timedelta(days=int(after_days) - 1)
        if after_last > last_full:
            raise ValueError(
                _("An after period of %(days)s days would end on %(end)s, after the last full day (%(last)s).")
                % {"days": after_days, "end": after_last, "last": last_full}
            )
    else:
        after_last = min(measure.end, last_full) if measure.end else last_full
    if after_last < measure.start:
        raise ValueError(
            _("The measure starts on %(start)s and has not run a full day yet.") % {"start": measure.start}
        )
    after_length = (after_last - measure.start).days + 1
    if before_days is None:
        before_days = max(after_length, MIN_BEFORE_DAYS)
    elif int(before_days) != before_days or before_days < 7:
        raise ValueError(
            _("The before period must be a whole number of days, at least 7 (got %(value)s).") % {"value": before_days}
        )
    before_first = measure.start - dt.timedelta(days=int(before_days))
    return (before_first, measure.start - dt.timedelta(days=1)), (measure.start, after_last)


def _minutes(text: object, where: str) -> int:
    match = _TIME.match(str(text).strip())
    if not match:
        raise ValueError(_("%(where)s: expected a time as HH:MM (got %(text)r).") % {"where": where, "text": text})
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_time_windows(raw: object) -> list[dict[str, Any]]:
    """The measure's time windows, checked: ``[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}]``.

    Weekdays are ISO (1 = Monday … 7 = Sunday). ``end`` at or before ``start`` runs past midnight into the next day
    (equal times: a whole day from ``start``). An empty list means no windows: every hour counts.
    """
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list):
        raise ValueError(_("The time windows must be a list."))
    windows = []
    for n, window in enumerate(raw, start=1):
        where = _("Time window %(n)s") % {"n": n}
        if not isinstance(window, dict):
            raise ValueError(_("%(where)s: expected weekdays, start and end.") % {"where": where})
        days = window.get("weekdays") or list(range(1, 8))
        if not isinstance(days, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
            raise ValueError(_("%(where)s: weekdays must be numbers 1 (Monday) to 7 (Sunday).") % {"where": where})
        start, end = window.get("start", "00:00"), window.get("end", "00:00")
        _minutes(start, where)
        _minutes(end, where)
        windows.append({"weekdays": sorted(set(days)), "start": str(start).strip(), "end": str(end).strip()})
    return windows


def window_day(local: dt.datetime, windows: Sequence[dict[str, Any]]) -> dt.date | None:
    """The date whose window holds the local time ``local``, or None when no window does.

    Without windows every time counts on its own date. A window past midnight belongs to its start day, so a time
    in its after-midnight part counts on the previous date.
    """
    if not windows:
        return local.date()
    minute = local.hour * 60 + local.minute
    weekday = local.isoweekday()
    previous = 7 if weekday == 1 else weekday - 1
    for window in windows:
        start, end = _minutes(window["start"], "start"), _minutes(window["end"], "end")
        days = window["weekdays"]
        if start < end:
            if weekday in days and start <= minute < end:
                return local.date()
        elif weekday in days and minute >= start:
            return local.date()
        elif previous in days and minute < end:
            return local.date() - dt.timedelta(days=1)
    return None


# --------------------------------------------------------------------------------------------------------------------
# Place: zones
# --------------------------------------------------------------------------------------------------------------------


def _sweref(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda c: np.column_stack(to_sweref(c[:, 0], c[:, 1])))


def _current_version(area: Area) -> Area:
    """The current version of an area whose boundary may have changed since the measure was planned."""
    if area.valid_to is None:
        return area
    successors = Area.objects.current().filter(municipality_id=area.municipality_id, kind=area.kind)
    successors = successors.filter(code=area.code) if area.code else successors.filter(name=area.name)
    return successors.order_by("-valid_from").first() or area


def _union_of_areas(areas: Iterable[Area]) -> BaseGeometry | None:
    parts = [_sweref(geometry_from_geojson(_current_version(a).geometry)) for a in areas]
    return shapely.union_all(parts) if parts else None


def _treated_geometry(measure: Measure) -> BaseGeometry:
    parts = []
    from_areas = _union_of_areas(measure.areas.all())
    if from_areas is not None:
        parts.append(from_areas)
    if measure.polygon:
        parts.append(_sweref(geometry_from_geojson(measure.polygon)))
    if not parts:
        raise ValueError(_("The measure has neither areas nor a drawn place, so there is nothing to compare."))
    treated = shapely.union_all(parts)
    if treated.is_empty or treated.area <= 0:
        raise ValueError(_("The measure's place has no area."))
    return treated


def _control_geometry(
    measure: Measure, ids: list[int], treated: BaseGeometry, buffer: BaseGeometry | None
) -> BaseGeometry | None:
    """The chosen control areas without the treated area and buffer; None for "the rest of the municipality"."""
    if not ids:
        return None
    areas = list(Area.objects.filter(pk__in=ids, municipality_id=measure.municipality_id))
    missing = sorted(set(ids) - {a.pk for a in areas})
    if missing:
        raise ValueError(
            _("Control areas %(ids)s are not areas of %(municipality)s.")
            % {"ids": ", ".join(map(str, missing)), "municipality": measure.municipality}
        )
    union = _union_of_areas(areas)
    assert union is not None
    taken = treated if buffer is None else shapely.union(treated, buffer)
    control = union.difference(taken)
    if control.is_empty or control.area <= 0:
        raise ValueError(_("The control areas lie wholly inside the measure's place and its buffer."))
    return control


# --------------------------------------------------------------------------------------------------------------------
# Which reports, and counting them
# --------------------------------------------------------------------------------------------------------------------


def _report_filter(measure: Measure) -> tuple[Q, dict[str, Any]]:
    indicator = measure.indicator
    if indicator is not None:
        codes = sorted(set(indicator.categories.values_list("code", flat=True)))
        if codes:
            names = dict(Category.objects.filter(code__in=codes).values_list("code", "name_sv"))
            # Versions of a category share its code, so reports keep counting across a checklist revision.
            return Q(category__code__in=codes), {
                "kind": "categories",
                "codes": codes,
                "names": [names.get(c, c) for c in codes],
                "indicator": indicator.name,
            }
    focus = measure.focus_area
    return Q(category__focus_area_id=focus.pk), {"kind": "focus_area", "code": focus.code, "name": focus.name_sv}


def _bins(before: tuple[dt.date, dt.date], after: tuple[dt.date, dt.date]) -> list[tuple[dt.date, int]]:
    """Weeks counted back and forward from the measure's start, so the start falls on a week boundary; the first
    and last weeks may be shorter."""
    start = after[0]
    bins = []
    day = start
    while day > before[0]:
        first = max(day - dt.timedelta(days=7), before[0])
        bins.append((first, (day - first).days))
        day = first
    bins.reverse()
    day = start
    while day <= after[1]:
        last = min(day + dt.timedelta(days=6), after[1])
        bins.append((day, (last - day).days + 1))
        day = last + dt.timedelta(days=1)
    return bins


def _count(
    *,
    user,
    measure: Measure,
    view: str,
    categories: Q,
    windows: list[dict[str, Any]],
    before: tuple[dt.date, dt.date],
    after: tuple[dt.date, dt.date],
    treated: BaseGeometry,
    buffer: BaseGeometry | None,
    control: BaseGeometry | None,
) -> tuple[dict[str, dict[str, int]], dict[str, list[int]], dict[str, int], list[tuple[dt.date, int]]]:
    reports = incidents_visible_to(user, Action.VIEW).filter(categories, municipality_id=measure.municipality_id)
    if view == "shared":
        reports = reports.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
    # A window past midnight on the last day reaches into the next morning.
    end = after[1] + dt.timedelta(days=2 if windows else 1)
    rows = list(
        reports.filter(occurred_from__gte=local_midnight(before[0]), occurred_from__lt=local_midnight(end))
        .order_by()
        .values_list("occurred_from", "x", "y", "precision")
    )
    stockholm = timezone.get_default_timezone()
    days: list[dt.date] = []
    xs: list[float] = []
    ys: list[float] = []
    imprecise = outside_windows = 0
    for when, x, y, precision in rows:
        day = window_day(when.astimezone(stockholm), windows)
        if day is None or not before[0] <= day <= after[1]:
            if day is None and before[0] <= when.astimezone(stockholm).date() <= after[1]:
                outside_windows += 1
            continue
        if precision not in PLACEABLE:
            imprecise += 1
            continue
        days.append(day)
        xs.append(x)
        ys.append(y)
    x_a, y_a = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    zone = np.full(x_a.size, -1, dtype=int)
    in_treated = shapely.intersects_xy(treated, x_a, y_a)
    zone[in_treated] = 0
    free = ~in_treated
    if buffer is not None:
        in_buffer = free & shapely.intersects_xy(buffer, x_a, y_a)
        zone[in_buffer] = 1
        free &= ~in_buffer
    in_control = free if control is None else free & shapely.intersects_xy(control, x_a, y_a)
    zone[in_control] = 2

    bins = _bins(before, after)
    bin_starts = [b[0] for b in bins]
    weekly = {name: [0] * len(bins) for name in ZONES}
    counts = {name: {"before": 0, "after": 0} for name in ZONES}
    for day, z in zip(days, zone.tolist(), strict=True):
        if z < 0:
            continue
        name = ZONES[z]
        counts[name]["after" if day >= after[0] else "before"] += 1
        weekly[name][bisect.bisect_right(bin_starts, day) - 1] += 1
    left_out = {"imprecise": imprecise, "outside_windows": outside_windows, "placed": len(days)}
    return counts, weekly, left_out, bins


# --------------------------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------------------------


def _round(value: float | None, digits: int = 4) -> float | None:
    """A JSON-safe number: None for NaN/inf, else rounded to ``digits`` significant digits."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}")


def _statistics(counts: dict[str, dict[str, int]], *, before_days: int, after_days: int, has_buffer: bool) -> dict:
    bt, at = counts["treated"]["before"], counts["treated"]["after"]
    bc, ac = counts["control"]["before"], counts["control"]["after"]
    bb, ab = counts["buffer"]["before"], counts["buffer"]["after"]
    verdict = measure_verdict(bt, at, bc, ac, before_duration=before_days, after_duration=after_days)
    rr, mde = verdict.rate_ratio, verdict.mde
    out: dict[str, Any] = {
        "verdict": {"outcome": verdict.outcome, "direction": verdict.direction, "reason": verdict.reason},
        "min_count": verdict.min_count,
        "max_detectable_reduction": verdict.max_detectable_reduction,
        "rate_ratio": {
            "ratio": _round(rr.ratio),
            "ci_low": _round(rr.ci_low),
            "ci_high": _round(rr.ci_high),
            "p": _round(rr.p_value, 3),
            "level": rr.level,
            "treated_change": _round(rr.treated_change),
            "control_change": _round(rr.control_change),
            "continuity_corrected": rr.continuity_corrected,
        },
        "mde": {
            "detectable": mde.detectable,
            "reduction": _round(mde.reduction),
            "ratio": _round(mde.ratio),
            "power": mde.power,
        },
        "wdq": None,
        "wdd": None,
    }
    if has_buffer and bc > 0 and ac > 0:
        q = weighted_displacement_quotient(bt, at, bb, ab, bc, ac)
        out["wdq"] = {
            "wdq": _round(q.wdq),
            "success_measure": _round(q.success_measure),
            "buffer_measure": _round(q.buffer_measure),
            "interpretation": q.interpretation,
        }
    if bc > 0:
        # Control counts scaled to the treated area's (and buffer's) before count; the WDD is then in reports over the
        # after period.
        scale_t, scale_b = bt / bc, (bb / bc if has_buffer else 0.0)
        try:
            d = weighted_displacement_difference(
                bt,
                at,
                bc * scale_t,
                ac * scale_t,
                before_displacement=bb if has_buffer else 0.0,
                after_displacement=ab if has_buffer else 0.0,
                before_displacement_control=bc * scale_b,
                after_displacement_control=ac * scale_b,
                before_duration=before_days / after_days,
                after_duration=1.0,
            )
        except ValueError:
            d = None
        if d is not None:
            out["wdd"] = {
                "wdd": _round(d.wdd),
                "ci_low": _round(d.ci_low),
                "ci_high": _round(d.ci_high),
                "p": _round(d.p_value, 3),
                "treated_difference": _round(d.treated_difference),
                "displacement_difference": _round(d.displacement_difference),
            }
    return out


# --------------------------------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------------------------------


def _sv(value: float, decimals: int = 2) -> str:
    """A number with a decimal comma, as Swedish text writes it."""
    text = f"{float(value):.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace(".", ",").replace("-", "−")


def _percent(fraction: float) -> str:
    return f"{round(100 * fraction):d} %"


def _change_words(change: float | None) -> str:
    """ "minskade med 12 %", "ökade med 12 %" or "var i stort sett oförändrat" for a ratio of rates."""
    if change is None or abs(change - 1) < UNCHANGED:
        return "var i stort sett oförändrat"
    if change < 1:
        return f"minskade med {_percent(1 - change)}"
    return f"ökade med {_percent(change - 1)}"


def summary_parts(result: dict[str, Any]) -> list[str]:
    """The evaluation in plain Swedish, one sentence (or two) per part: what happened, the verdict, displacement,
    what was left out, and the view."""
    zones, rr, mde = result["zones"], result["rate_ratio"], result["mde"]
    bt, at = zones["treated"]["before"], zones["treated"]["after"]
    before_days, after_days = result["periods"]["before"]["days"], result["periods"]["after"]["days"]
    treated_change = rr["treated_change"]
    unchanged = treated_change is None or abs(treated_change - 1) < UNCHANGED
    if before_days == after_days:
        counts = f"({bt} före, {at} efter)" if unchanged else f"från {bt} till {at}"
    else:
        scaled = f"omräknat till lika långa perioder: {_sv(bt * after_days / before_days, 1)} mot {at}"
        before_words = f"{bt} under {before_days} dagar före"
        after_words = f"{at} under {after_days} dagar efter"
        counts = (
            f"({before_words}, {after_words}; {scaled})"
            if unchanged
            else f"från {before_words} till {after_words} ({scaled})"
        )
    verb = "var i stort sett oförändrat" if unchanged else "minskade" if treated_change < 1 else "ökade"
    control = "jämförelseområdet"
    ci = f"{_sv(rr['ci_low'])}–{_sv(rr['ci_high'])}"
    level = round(100 * rr["level"])
    first = (
        f"Antalet rapporter i området {verb} {counts} medan {control} {_change_words(rr['control_change'])} "
        f"(relativ effekt {_sv(rr['ratio'])}, {level} % KI {ci})."
    )
    parts = [first]

    verdict = result["verdict"]
    if verdict["reason"] == "counts_below_minimum":
        parts.append(
            f"För lite data för att säga något: det behövs minst {result['min_count']} rapporter i området före "
            f"åtgärden och i {control} både före och efter (här {bt}, {zones['control']['before']} och "
            f"{zones['control']['after']})."
        )
    elif verdict["reason"] == "mde_too_weak":
        if mde["detectable"]:
            parts.append(
                "Effekten är inte säkerställd: med så här få rapporter kan bara en minskning på minst "
                f"{_percent(mde['reduction'])} upptäckas."
            )
        else:
            parts.append("Effekten är inte säkerställd: med så här få rapporter kan ingen minskning upptäckas säkert.")
    elif verdict["outcome"] == "effect_shown" and verdict["direction"] == "reduction":
        parts.append(
            f"En effekt kan visas: rapporterna i området minskade med {_percent(1 - rr['ratio'])} jämfört med "
            f"utvecklingen i {control} ({level} % KI {round(100 * (1 - rr['ci_high']))}–{_percent(1 - rr['ci_low'])})."
        )
    elif verdict["outcome"] == "effect_shown":
        parts.append(
            f"En förändring kan visas, men åt fel håll: rapporterna i området ökade med {_percent(rr['ratio'] - 1)} "
            f"jämfört med utvecklingen i {control}."
        )
    else:
        parts.append(
            "Ingen effekt kunde visas, fast en minskning på "
            f"{_percent(mde['reduction'])} eller mer sannolikt hade upptäckts."
        )

    displacement = displacement_sentence(result)
    if displacement:
        parts.append(displacement)
    left_out = result["left_out"]["imprecise"]
    if left_out:
        parts.append(
            f"{left_out} {'rapport' if left_out == 1 else 'rapporter'} med plats bara på område- eller kommunnivå "
            "kunde inte placeras och är inte med."
        )
    if result["time_windows"]:
        parts.append("Bara rapporter inom åtgärdens tider räknas.")
    if result["view"] == "police":
        parts.append("Polisens vy: innehåller uppgifter som bara polisen får se.")
    else:
        parts.append("Uppgifter som bara polisen får se ingår inte.")
    return parts


def displacement_sentence(result: dict[str, Any]) -> str:
    """Displacement to the buffer in words, from the WDQ; "" when the evaluation has no buffer."""
    buffer = result["zones"].get("buffer")
    if buffer is None:
        return ""
    metres = f"{result['buffer_metres']:.0f}"
    if buffer["before"] + buffer["after"] < DEFAULT_MIN_COUNT:
        return (
            f"Förflyttning till närområdet ({metres} m runt området) går inte att bedöma: där finns för få rapporter "
            f"({buffer['before']} före, {buffer['after']} efter)."
        )
    wdq = result.get("wdq")
    if wdq is None:
        return "Förflyttning går inte att bedöma utan rapporter i jämförelseområdet både före och efter."
    if wdq["interpretation"] == "no_success":
        return (
            "Förflyttning bedöms inte: området minskade inte jämfört med jämförelseområdet, och WDQ "
            "(Bowers & Johnson) läses bara efter en minskning."
        )
    value = f"WDQ {_sv(wdq['wdq'])}"
    return {
        "no_displacement": f"Inga tecken på förflyttning till närområdet ({value}).",
        "diffusion": f"Inga tecken på förflyttning; närområdet minskade också, en spridning av nyttan ({value}).",
        "diffusion_exceeds_effect": (
            f"Inga tecken på förflyttning; närområdet minskade mer än området självt, en spridning av nyttan ({value})."
        ),
        "displacement_smaller_than_effect": (
            f"Tecken på förflyttning till närområdet, men mindre än minskningen i området ({value})."
        ),
        "displacement_exceeds_effect": (
            f"Tecken på förflyttning till närområdet som är större än minskningen i området ({value})."
        ),
    }[wdq["interpretation"]]
