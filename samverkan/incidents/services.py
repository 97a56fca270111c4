"""Writes of reports: create, edit, review. Views, the API and importers call these and nothing else."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.access import (
    Action,
    access_incident_by_id,
    categories_visible_to,
    creating_grants,
    municipalities_visible_to,
    sensitivities_allowed,
)
from samverkan.accounts.models import User
from samverkan.incidents.models import Category, Incident, Precision, Sensitivity, Source, Status, StatusChange
from samverkan.incidents.screening import redact, screen
from samverkan.places.geo import in_sweden, point_to_sweref
from samverkan.places.selectors import area_ids_containing, municipality_containing
from samverkan.situation.services import daily_counts_touch

# The review workflow only moves forward; closing is possible from every open state.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.REVIEWED, Status.CLOSED),
    Status.REVIEWED: (Status.ACTED_ON, Status.CLOSED),
    Status.ACTED_ON: (Status.CLOSED,),
    Status.CLOSED: (),
}


@dataclass(frozen=True)
class Placement:
    municipality_id: int
    organisation_id: int
    x: float
    y: float


def _place(*, user: User, lat: float, lon: float, organisation_id: int | None = None) -> Placement:
    """Find the municipality (among those the user may report in) that contains the point, and the organisation the
    report is made for. Raises ValidationError naming ``location`` when the point is outside them all."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not in_sweden(lon, lat):
        raise ValidationError({"location": _("The position is not in Sweden. Place the pin on the map again.")})
    candidates = municipalities_visible_to(user, Action.CREATE)
    municipality = municipality_containing(lon=lon, lat=lat, candidates=candidates)
    if municipality is None and candidates.exists() and not candidates.exclude(geometry=None).exists():
        raise ValidationError(
            {
                "location": _(
                    "The municipality's boundary has not been loaded, so the position cannot be checked. "
                    "Ask the administrator to load it (samverkan import_municipality_outlines)."
                )
            }
        )
    if municipality is None:
        raise ValidationError({"location": _("The position is outside the municipalities your organisation works in.")})
    grants = creating_grants(user, municipality.pk)
    if organisation_id is not None:
        grants = [g for g in grants if g.organisation_id == organisation_id]
    if not grants:
        raise ValidationError({"organisation": _("You cannot report for that organisation in this municipality.")})
    x, y = point_to_sweref(lon, lat)
    return Placement(municipality_id=municipality.pk, organisation_id=grants[0].organisation_id, x=x, y=y)


def _check_category(user: User, category: Category, day: dt.date) -> None:
    if not categories_visible_to(user).usable_on(day).filter(pk=category.pk).exists():
        raise ValidationError({"category": _("This category cannot be used.")})


def _check_times(occurred_from: dt.datetime, occurred_to: dt.datetime | None) -> None:
    if timezone.is_naive(occurred_from) or (occurred_to is not None and timezone.is_naive(occurred_to)):
        raise ValueError("times must be timezone-aware")
    if occurred_from > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_from": _("The time cannot be in the future.")})
    if occurred_to is not None and occurred_to < occurred_from:
        raise ValidationError({"occurred_to": _("The end of the time window is before its start.")})


def incident_submitted_with(*, user: User, submission_key: uuid.UUID) -> Incident | None:
    """The report that ``user`` already sent with this submission key, or None.

    A key that belongs to someone else's report is refused without showing that report.
    """
    earlier = Incident.objects.filter(submission_key=submission_key).first()
    if earlier is not None and earlier.reporter_id != user.pk:
        raise ValidationError(
            {
                "submission_key": _(
                    "This report has already been sent from another account. Check the details and send it again."
                )
            }
        )
    return earlier


@transaction.atomic
def incident_create(
    *,
    user: User,
    category: Category,
    lat: float,
    lon: float,
    occurred_from: dt.datetime,
    occurred_to: dt.datetime | None = None,
    description: str = "",
    persons_estimate: int | None = None,
    severity: int = 1,
    police_reported: bool = False,
    fault_reported: bool = False,
    sensitivity: str = Sensitivity.SHARED,
    precision: str = Precision.EXACT,
    source: str = Source.FORM,
    external_id: str | None = None,
    organisation_id: int | None = None,
    submission_key: uuid.UUID | None = None,
) -> Incident:
    """Record a report made by ``user``.

    The point decides the municipality; the areas it falls in are assigned now, against the areas valid when it
    happened. Personal data found in the description is stored as findings so the report waits for redaction.

    A report sent again with the same ``submission_key`` (a retry after a lost answer) is not saved twice: the one
    saved first is returned, also when both copies arrive at the same moment.
    """
    if submission_key is not None and (earlier := incident_submitted_with(user=user, submission_key=submission_key)):
        return earlier
    _check_times(occurred_from, occurred_to)
    local_day = timezone.localdate(occurred_from)
    _check_category(user, category, local_day)
    if sensitivity not in sensitivities_allowed(user):
        raise ValidationError({"sensitivity": _("You cannot choose this sensitivity level.")})
    placement = _place(user=user, lat=lat, lon=lon, organisation_id=organisation_id)
    incident = Incident(
        category=category,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        lat=lat,
        lon=lon,
        x=placement.x,
        y=placement.y,
        precision=precision,
        municipality_id=placement.municipality_id,
        description=description.strip(),
        persons_estimate=persons_estimate,
        severity=severity,
        police_reported=police_reported,
        fault_reported=fault_reported,
        source_organisation_id=placement.organisation_id,
        reporter=user,
        sensitivity=sensitivity,
        status=Status.NEW,
        source=source,
        external_id=external_id,
        personal_data_flags=[f.as_dict() for f in screen(description.strip())],
        submission_key=submission_key,
    )
    # The key's uniqueness is left to the database: only the failed insert tells reliably that a copy sent at the
    # same moment won.
    incident.full_clean(exclude=["x", "y", "areas", "submission_key"])
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError:
        if submission_key is None:
            raise
        earlier = incident_submitted_with(user=user, submission_key=submission_key)
        if earlier is None:
            raise
        return earlier
    if precision != Precision.MUNICIPALITY:
        incident.areas.set(
            area_ids_containing(municipality_id=placement.municipality_id, lon=[lon], lat=[lat], on=local_day)[0]
        )
    daily_counts_touch(municipality_id=placement.municipality_id, days=[local_day])
    return incident


@transaction.atomic
def incident_update(
    *,
    user: User,
    incident_id: object,
    category: Category,
    lat: float,
    lon: float,
    occurred_from: dt.datetime,
    occurred_to: dt.datetime | None = None,
    description: str = "",
    persons_estimate: int | None = None,
    severity: int = 1,
    police_reported: bool = False,
    fault_reported: bool = False,
    sensitivity: str = Sensitivity.SHARED,
) -> Incident:
    """Edit a report through the access funnel (a reporter only while it is new)."""
    incident = access_incident_by_id(user, incident_id, Action.EDIT)
    if incident.anonymised_at is not None:
        # Its place is a grid cell's centre now; an edit would re-assign areas from that and shift the counts that
        # gallring promised to keep.
        raise ValidationError(_("This report has been anonymised (gallring) and can no longer be changed."))
    before = (incident.municipality_id, timezone.localdate(incident.occurred_from))
    _check_times(occurred_from, occurred_to)
    local_day = timezone.localdate(occurred_from)
    if category.pk != incident.category_id:
        _check_category(user, category, local_day)
    if sensitivity != incident.sensitivity and sensitivity not in sensitivities_allowed(user):
        raise ValidationError({"sensitivity": _("You cannot choose this sensitivity level.")})
    moved = (lat, lon) != (incident.lat, incident.lon)
    if moved:
        placement = _place(user=user, lat=lat, lon=lon, organisation_id=incident.source_organisation_id)
        incident.municipality_id = placement.municipality_id
        incident.x, incident.y = placement.x, placement.y
    incident.category = category
    incident.lat, incident.lon = lat, lon
    incident.occurred_from, incident.occurred_to = occurred_from, occurred_to
    incident.description = description.strip()
    incident.persons_estimate = persons_estimate
    incident.severity = severity
    incident.police_reported = police_reported
    incident.fault_reported = fault_reported
    incident.sensitivity = sensitivity
    incident.personal_data_flags = [f.as_dict() for f in screen(incident.description)]
    incident.full_clean(exclude=["x", "y", "areas"])
    incident.save()
    if moved or before[1] != local_day:
        incident.areas.set(
            area_ids_containing(municipality_id=incident.municipality_id, lon=[lon], lat=[lat], on=local_day)[0]
        )
    daily_counts_touch(municipality_id=before[0], days=[before[1]])
    daily_counts_touch(municipality_id=incident.municipality_id, days=[local_day])
    return incident


@transaction.atomic
def incident_review(
    *,
    user: User,
    incident_id: object,
    to_status: str,
    note: str = "",
    redact_personal_data: bool = False,
) -> Incident:
    """Move a report along the review workflow; optionally redact the personal data that screening found.

    A report with unredacted personal data cannot leave review: the reviewer must redact it first (or edit the
    description so nothing is found).
    """
    incident = access_incident_by_id(user, incident_id, Action.REVIEW)
    from_status = incident.status
    if to_status not in TRANSITIONS.get(from_status, ()):
        raise ValidationError(
            {
                "to_status": _("A report that is “%(from)s” cannot be moved to “%(to)s”.")
                % {
                    "from": Status(from_status).label,
                    "to": Status(to_status).label if to_status in Status else to_status,
                }
            }
        )
    redacted = False
    if redact_personal_data and incident.personal_data_flags:
        incident.description = redact(incident.description, incident.personal_data_flags)
        incident.personal_data_flags = [f.as_dict() for f in screen(incident.description)]
        redacted = True
    if incident.personal_data_flags:
        raise ValidationError(
            {"redact_personal_data": _("The description contains personal data. Redact it before you continue.")}
        )
    incident.status = to_status
    incident.reviewed_by = user
    incident.reviewed_at = timezone.now()
    incident.save(
        update_fields=["status", "reviewed_by", "reviewed_at", "description", "personal_data_flags", "updated_at"]
    )
    StatusChange.objects.create(
        incident=incident,
        from_status=from_status,
        to_status=to_status,
        changed_by=user,
        note=note.strip(),
        redacted=redacted,
    )
    return incident
