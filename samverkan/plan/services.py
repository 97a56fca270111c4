"""Writes of measures (åtgärder) and their activity log. Views and the API call these and nothing else.

Every write goes through the access funnel: a measure is changed only by a user who may edit plans in its
municipality, and anything else (another municipality, a reader, a reporter) answers like a missing measure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from shapely.geometry import Polygon

from samverkan.accounts.access import (
    OWN_ONLY_ROLES,
    Action,
    access_measure_by_id,
    grants_for,
    plan_municipality_ids,
    snapshots_visible_to,
)
from samverkan.accounts.models import User
from samverkan.incidents.models import FocusArea
from samverkan.incidents.screening import screen
from samverkan.places.geo import geometry_from_geojson, in_sweden
from samverkan.places.models import Area, Municipality
from samverkan.plan.models import Agreement, Indicator, Measure, MeasureActivity, MeasureStatus, Problem

S = MeasureStatus

# Planned work starts, runs and ends; a delay can happen before or during it; cancelling is possible until it ends.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.PLANNED: (S.ONGOING, S.DELAYED, S.CANCELLED),
    S.ONGOING: (S.DONE, S.DELAYED, S.CANCELLED),
    S.DELAYED: (S.ONGOING, S.DONE, S.CANCELLED),
    S.DONE: (),
    S.CANCELLED: (),
}
ENDING = frozenset({S.DONE, S.CANCELLED})

# Free text is screened like reports are: a measure describes places and groups, never individuals.
SCREENED_FIELDS = (
    "title",
    "description",
    "responsible_person",
    "target_group",
    "resources",
    "motivation",
    "expected_effect",
)

MAX_WINDOWS = 20
MAX_VERTICES = 500
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# --- shapes of input ----------------------------------------------------------------------------------------------


def time_windows_clean(value: object) -> list[dict[str, Any]]:
    """The time windows in their stored form, or ``ValidationError`` naming ``time_windows``.

    Stored form: ``[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}]`` with ISO weekdays 1–7 and local
    times. An end at or before the start runs past midnight, so 00:00–00:00 is the whole day.
    """
    if value is None or value == "" or value == []:
        return []
    if not isinstance(value, list):
        raise ValidationError({"time_windows": _("The time windows must be a list.")})
    if len(value) > MAX_WINDOWS:
        raise ValidationError({"time_windows": _("At most %(n)d time windows.") % {"n": MAX_WINDOWS}})
    cleaned = []
    for window in value:
        if not isinstance(window, dict) or set(window) != {"weekdays", "start", "end"}:
            raise ValidationError(
                {"time_windows": _("Each time window needs exactly the keys weekdays, start and end.")}
            )
        days = window["weekdays"]
        if (
            not isinstance(days, list)
            or not days
            or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days)
        ):
            raise ValidationError({"time_windows": _("Weekdays are numbers from 1 (Monday) to 7 (Sunday).")})
        for key in ("start", "end"):
            if not isinstance(window[key], str) or not _HHMM.match(window[key]):
                raise ValidationError({"time_windows": _("Times are written HH:MM, from 00:00 to 23:59.")})
        cleaned.append({"weekdays": sorted(set(days)), "start": window["start"], "end": window["end"]})
    return cleaned


def polygon_clean(value: object, *, municipality: Municipality | None = None) -> dict[str, Any] | None:
    """A drawn place as a GeoJSON Polygon in WGS84, checked to be a simple polygon in Sweden (and touching the
    municipality when its outline is known); ``None`` when nothing was drawn. Errors name ``polygon``."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise ValidationError({"polygon": _("The drawn place must be a polygon.")})
    rings_in = value.get("coordinates")
    if not isinstance(rings_in, list) or not rings_in:
        raise ValidationError({"polygon": _("The drawn place has no corners.")})
    rings: list[list[list[float]]] = []
    vertices = 0
    for ring_in in rings_in:
        ring = _ring(ring_in)
        vertices += len(ring)
        rings.append(ring)
    if vertices > MAX_VERTICES:
        raise ValidationError(
            {"polygon": _("The drawn place has too many corners (at most %(n)d).") % {"n": MAX_VERTICES}}
        )
    if not all(in_sweden(lon, lat) for ring in rings for lon, lat in ring):
        raise ValidationError({"polygon": _("The drawn place is not in Sweden. Clear it and draw it again.")})
    shape = Polygon(rings[0], rings[1:])
    if not shape.is_valid or shape.area == 0:
        raise ValidationError({"polygon": _("The drawn place crosses itself. Clear it and draw it again.")})
    if municipality is not None and municipality.geometry:
        if not geometry_from_geojson(municipality.geometry).intersects(shape):
            raise ValidationError({"polygon": _("The drawn place is outside %(name)s.") % {"name": municipality.name}})
    return {"type": "Polygon", "coordinates": rings}


def _ring(ring_in: object) -> list[list[float]]:
    if not isinstance(ring_in, list):
        raise ValidationError({"polygon": _("The drawn place could not be read.")})
    ring = []
    for point in ring_in:
        if (
            not isinstance(point, list | tuple)
            or len(point) < 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in point[:2])
        ):
            raise ValidationError({"polygon": _("The drawn place could not be read.")})
        # Six decimals is about 0.1 m; more only bloats the stored JSON.
        ring.append([round(float(point[0]), 6), round(float(point[1]), 6)])
    if ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    if len(ring) < 4:
        raise ValidationError({"polygon": _("Draw at least three corners.")})
    return ring


def _screen_texts(texts: dict[str, str]) -> None:
    errors: dict[str, list[str]] = {}
    for field, text in texts.items():
        findings = screen(text)
        if findings:
            found = ", ".join(f"{f.label} “{f.text}”" for f in findings)
            errors[field] = [_("Remove the personal data: %(found)s.") % {"found": found}]
    if errors:
        raise ValidationError(errors)


# --- who acts ---------------------------------------------------------------------------------------------------


def editing_organisation_ids(user: User, municipality_id: int) -> list[int]:
    """The organisations through which ``user`` may edit plans in the municipality."""
    return sorted(
        {
            g.organisation_id
            for g in grants_for(user)
            if g.allows(Action.EDIT) and g.role not in OWN_ONLY_ROLES and municipality_id in g.municipality_ids
        }
    )


def _acting_organisation_id(user: User, measure: Measure, organisation_id: int | None = None) -> int:
    ids = editing_organisation_ids(user, measure.municipality_id)
    if organisation_id is not None:
        if organisation_id not in ids:
            raise ValidationError({"organisation": _("You cannot write for that organisation here.")})
        return organisation_id
    if measure.responsible_organisation_id in ids:
        return measure.responsible_organisation_id
    if not ids:
        raise Http404("No such measure")
    return ids[0]


def _municipality_for_edit(user: User, municipality_id: object) -> Municipality:
    try:
        pk = int(str(municipality_id))
    except (TypeError, ValueError):
        raise Http404("No such municipality") from None
    if pk not in plan_municipality_ids(user, Action.EDIT):
        raise Http404("No such municipality")
    return Municipality.objects.get(pk=pk)


# --- the fields of a measure --------------------------------------------------------------------------------------


def _resolve(
    *,
    user: User,
    municipality: Municipality,
    focus_area_id: object,
    responsible_organisation_id: object,
    area_ids: Iterable[object],
    agreement_id: object | None,
    indicator_id: object | None,
    problem_id: object | None,
    snapshot_id: object | None,
    polygon: object,
    time_windows: object,
    start: dt.date,
    end: dt.date | None,
    texts: dict[str, str],
    existing: Measure | None = None,
) -> dict[str, Any]:
    """Check every reference against the municipality and the user's rights; the values to store."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    focus = FocusArea.objects.filter(pk=_int(focus_area_id)).first()
    # A focus area retired since the measure was made may stay on it; new choices are among the active ones.
    if focus is None or not (focus.active or (existing is not None and existing.focus_area_id == focus.pk)):
        refuse("focus_area", _("Choose a focus area."))

    organisation_id = _int(responsible_organisation_id)
    allowed_orgs = set(editing_organisation_ids(user, municipality.pk))
    if existing is not None:
        # Whoever edits may keep the organisation that was responsible, even if it is not their own.
        allowed_orgs.add(existing.responsible_organisation_id)
    if organisation_id not in allowed_orgs:
        refuse("responsible_organisation", _("Choose one of your organisations that works in the municipality."))

    wanted_areas = {_int(a) for a in area_ids}
    areas = list(Area.objects.filter(pk__in=wanted_areas, municipality=municipality))
    kept = {a.pk for a in existing.areas.all()} if existing else set()
    if len(areas) != len(wanted_areas) or any(a.valid_to is not None and a.pk not in kept for a in areas):
        refuse("areas", _("Choose current areas of the municipality."))

    agreement = None
    if agreement_id not in (None, ""):
        agreement = Agreement.objects.filter(pk=_int(agreement_id), municipality=municipality).first()
        if agreement is None:
            refuse("agreement", _("Choose an agreement of the municipality."))
    indicator = None
    if indicator_id not in (None, ""):
        indicator = Indicator.objects.filter(pk=_int(indicator_id), agreement__municipality=municipality).first()
        if indicator is None:
            refuse("indicator", _("Choose an indicator of the municipality's agreement."))
        elif agreement is None and "agreement" not in errors:
            agreement = indicator.agreement
        elif agreement is not None and indicator.agreement_id != agreement.pk:
            refuse("indicator", _("The indicator belongs to another agreement."))
    problem = None
    if problem_id not in (None, ""):
        problem = Problem.objects.filter(pk=_int(problem_id), agreement__municipality=municipality).first()
        if problem is None or (agreement is not None and problem.agreement_id != agreement.pk):
            refuse("problem", _("Choose a problem of the agreement."))
    snapshot = None
    if snapshot_id not in (None, ""):
        snapshot = snapshots_visible_to(user).filter(pk=_int(snapshot_id), municipality=municipality).first()
        if snapshot is None:
            refuse("snapshot", _("The situational picture was not found."))

    if end is not None and end < start:
        refuse("end", _("The end is before the start."))

    cleaned: dict[str, Any] = {}
    for key, check in (
        ("polygon", lambda: polygon_clean(polygon, municipality=municipality)),
        ("time_windows", lambda: time_windows_clean(time_windows)),
        ("texts", lambda: _screen_texts(texts)),
    ):
        try:
            cleaned[key] = check()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    refuse(field, message)
    if errors:
        raise ValidationError(errors)
    return {
        "focus_area": focus,
        "responsible_organisation_id": organisation_id,
        "areas": areas,
        "agreement": agreement,
        "indicator": indicator,
        "problem": problem,
        "snapshot": snapshot,
        "polygon": cleaned["polygon"],
        "time_windows": cleaned["time_windows"],
    }


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _texts(**texts: str) -> dict[str, str]:
    return {k: (v or "").strip() for k, v in texts.items()}


def _end_on_ending(measure: Measure, on: dt.date) -> None:
    # A measure cancelled before it began ends on its start day, so its period stays a valid interval.
    if measure.end is None:
        measure.end = max(on, measure.start)


def _log_status(*, user: User, measure: Measure, from_status: str, on: dt.date, note: str) -> MeasureActivity:
    # The log is shared data read by every party, so it is written in Swedish whatever the writer's language.
    with translation.override("sv"):
        text = _("Status: %(from)s → %(to)s.") % {
            "from": MeasureStatus(from_status).label,
            "to": MeasureStatus(measure.status).label,
        }
    if note.strip():
        text = f"{text} {note.strip()}"
    return MeasureActivity.objects.create(
        measure=measure,
        date=on,
        text=text,
        organisation_id=_acting_organisation_id(user, measure),
        created_by=user,
    )


def _check_transition(from_status: str, to_status: str) -> None:
    if to_status not in MeasureStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if to_status not in TRANSITIONS.get(from_status, ()):
        raise ValidationError(
            {
                "status": _("A measure that is “%(from)s” cannot become “%(to)s”.")
                % {"from": MeasureStatus(from_status).label, "to": MeasureStatus(to_status).label}
            }
        )


# --- services -----------------------------------------------------------------------------------------------------


@transaction.atomic
def measure_create(
    *,
    user: User,
    municipality_id: object,
    title: str,
    focus_area_id: object,
    kind: str,
    term: str,
    responsible_organisation_id: object,
    start: dt.date,
    end: dt.date | None = None,
    status: str = MeasureStatus.PLANNED,
    description: str = "",
    responsible_person: str = "",
    target_group: str = "",
    area_ids: Iterable[object] = (),
    polygon: object = None,
    time_windows: object = None,
    resources: str = "",
    motivation: str = "",
    expected_effect: str = "",
    agreement_id: object | None = None,
    indicator_id: object | None = None,
    problem_id: object | None = None,
    snapshot_id: object | None = None,
) -> Measure:
    """Record a measure in a municipality where ``user`` may edit plans (else ``Http404``, as if it did not exist).

    A measure recorded as already done or cancelled gets today as its end when none is given.
    """
    municipality = _municipality_for_edit(user, municipality_id)
    texts = _texts(
        title=title,
        description=description,
        responsible_person=responsible_person,
        target_group=target_group,
        resources=resources,
        motivation=motivation,
        expected_effect=expected_effect,
    )
    refs = _resolve(
        user=user,
        municipality=municipality,
        focus_area_id=focus_area_id,
        responsible_organisation_id=responsible_organisation_id,
        area_ids=area_ids,
        agreement_id=agreement_id,
        indicator_id=indicator_id,
        problem_id=problem_id,
        snapshot_id=snapshot_id,
        polygon=polygon,
        time_windows=time_windows,
        start=start,
        end=end,
        texts=texts,
    )
    areas = refs.pop("areas")
    measure = Measure(
        municipality=municipality,
        kind=kind,
        term=term,
        start=start,
        end=end,
        status=status,
        created_by=user,
        **texts,
        **refs,
    )
    if status in ENDING:
        _end_on_ending(measure, timezone.localdate())
    measure.full_clean(exclude=["created_by"])
    measure.save()
    measure.areas.set(areas)
    return measure


@transaction.atomic
def measure_update(
    *,
    user: User,
    measure_id: object,
    title: str,
    focus_area_id: object,
    kind: str,
    term: str,
    responsible_organisation_id: object,
    start: dt.date,
    end: dt.date | None = None,
    status: str | None = None,
    description: str = "",
    responsible_person: str = "",
    target_group: str = "",
    area_ids: Iterable[object] = (),
    polygon: object = None,
    time_windows: object = None,
    resources: str = "",
    motivation: str = "",
    expected_effect: str = "",
    agreement_id: object | None = None,
    indicator_id: object | None = None,
    problem_id: object | None = None,
    snapshot_id: object | None = None,
) -> Measure:
    """Edit a measure through the access funnel. A changed status follows the same rules as ``measure_set_status``
    and is written to the activity log."""
    measure = access_measure_by_id(user, measure_id, Action.EDIT)
    from_status = measure.status
    if status is not None and status != from_status:
        _check_transition(from_status, status)
    texts = _texts(
        title=title,
        description=description,
        responsible_person=responsible_person,
        target_group=target_group,
        resources=resources,
        motivation=motivation,
        expected_effect=expected_effect,
    )
    refs = _resolve(
        user=user,
        municipality=measure.municipality,
        focus_area_id=focus_area_id,
        responsible_organisation_id=responsible_organisation_id,
        area_ids=area_ids,
        agreement_id=agreement_id,
        indicator_id=indicator_id,
        problem_id=problem_id,
        snapshot_id=snapshot_id,
        polygon=polygon,
        time_windows=time_windows,
        start=start,
        end=end,
        texts=texts,
        existing=measure,
    )
    areas = refs.pop("areas")
    for key, value in {**texts, **refs, "kind": kind, "term": term, "start": start, "end": end}.items():
        setattr(measure, key, value)
    today = timezone.localdate()
    if status is not None and status != from_status:
        measure.status = status
        if status in ENDING:
            _end_on_ending(measure, today)
    measure.full_clean(exclude=["created_by"])
    measure.save()
    measure.areas.set(areas)
    if measure.status != from_status:
        _log_status(user=user, measure=measure, from_status=from_status, on=today, note="")
    return measure


@transaction.atomic
def measure_set_status(
    *, user: User, measure_id: object, to_status: str, on: dt.date | None = None, note: str = ""
) -> Measure:
    """Move a measure along planned → ongoing → done (or delayed, or cancelled) and log the change.

    Ending a measure (done or cancelled) sets its end date to ``on`` (default today) when it has none.
    """
    measure = access_measure_by_id(user, measure_id, Action.EDIT)
    from_status = measure.status
    _check_transition(from_status, to_status)
    on = on or timezone.localdate()
    _screen_texts({"note": note})
    measure.status = to_status
    if to_status in ENDING:
        _end_on_ending(measure, on)
    measure.save(update_fields=["status", "end", "updated_at"])
    _log_status(user=user, measure=measure, from_status=from_status, on=on, note=note)
    if to_status == MeasureStatus.DONE:
        _evaluate_when_done(user=user, measure=measure)
    return measure


def _evaluate_when_done(*, user: User, measure: Measure) -> None:
    """A measure that ends gets its evaluation at once, when it has a place and enough days to compare; otherwise
    it can still be evaluated on demand later."""
    from samverkan.plan.evaluation import measure_evaluate

    try:
        with transaction.atomic():
            measure_evaluate(user=user, measure_id=measure.pk)
    except (ValueError, ValidationError):
        pass


@transaction.atomic
def activity_add(
    *, user: User, measure_id: object, date: dt.date, text: str, organisation_id: int | None = None
) -> MeasureActivity:
    """Write what was done to a measure's activity log, for one of the user's organisations in its municipality."""
    measure = access_measure_by_id(user, measure_id, Action.EDIT)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write what was done.")})
    if date > timezone.localdate():
        raise ValidationError({"date": _("The log is for what has been done; the date cannot be in the future.")})
    _screen_texts({"text": text})
    activity = MeasureActivity(
        measure=measure,
        date=date,
        text=text,
        organisation_id=_acting_organisation_id(user, measure, organisation_id),
        created_by=user,
    )
    activity.full_clean()
    activity.save()
    return activity
