"""Open311 intake: the queue of public requests, and the reads the API and the moderation pages share.

Writes: ``public_request_create`` (from the API; never touches the lägesbild), ``public_request_accept`` (creates
the Incident) and ``public_request_reject``. Moderation goes through ``access_public_request_by_id``, which answers
404 for "missing" and "not yours" alike, as the report funnel in ``accounts/access.py`` does.

Jurisdictions are the municipalities that take requests: the SCB codes in ``SAMVERKAN_OPEN311_JURISDICTIONS`` when
set, else every municipality with an outline that a municipal organisation works in (someone there can moderate).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.access import access_public_request_by_id
from samverkan.accounts.models import Organisation, OrganisationKind, User
from samverkan.imports.models_open311 import PublicRequest, PublicRequestStatus
from samverkan.incidents.models import Category, Incident, Precision, Sensitivity, Source, Status, StatusChange
from samverkan.incidents.screening import redact, screen
from samverkan.places.geo import in_sweden, point_to_sweref
from samverkan.places.models import Municipality
from samverkan.places.selectors import area_ids_containing, municipality_containing
from samverkan.situation.services import daily_counts_touch

DESCRIPTION_MAX_CHARS = 4000

# --- reads shared by the API and the moderation pages ---------------------------------------------------------------


def jurisdictions() -> list[Municipality]:
    codes = list(getattr(settings, "SAMVERKAN_OPEN311_JURISDICTIONS", []) or [])
    qs = Municipality.objects.filter(geometry__isnull=False)
    if codes:
        qs = qs.filter(code__in=codes)
    else:
        qs = qs.filter(organisations__kind=OrganisationKind.KOMMUN).distinct()
    return list(qs.order_by("code"))


def jurisdiction_resolve(jurisdiction_id: str | None, *, required: bool) -> Municipality | None:
    """The municipality a request is addressed to. ``jurisdiction_id`` is its SCB code; it may be left out when
    only one municipality takes requests. Raises ValidationError naming ``jurisdiction_id``."""
    available = jurisdictions()
    if jurisdiction_id:
        for municipality in available:
            if municipality.code == jurisdiction_id:
                return municipality
        raise ValidationError(
            {
                "jurisdiction_id": "jurisdiction_id är okänd här. Giltiga värden (kommunkod enligt SCB): "
                + (", ".join(m.code for m in available) or "inga")
                + "."
            }
        )
    if len(available) == 1:
        return available[0]
    if not available:
        raise ValidationError({"jurisdiction_id": "Ingen kommun tar emot iakttagelser via Open311 här."})
    if required:
        raise ValidationError(
            {
                "jurisdiction_id": "jurisdiction_id krävs eftersom flera kommuner tar emot iakttagelser: ange "
                "kommunkoden enligt SCB (" + ", ".join(m.code for m in available) + ")."
            }
        )
    return None


def public_categories(municipality: Municipality | None, *, day: dt.date | None = None) -> list[Category]:
    """The categories open to the public on ``day`` (default today): shared ones, and the municipality's own, which
    win over a shared one with the same code. Without a municipality, shared ones only."""
    day = day or timezone.localdate()
    scope = Q(municipality__isnull=True)
    if municipality is not None:
        scope |= Q(municipality=municipality)
    by_code: dict[str, Category] = {}
    for category in Category.objects.usable_on(day).filter(scope, public=True).select_related("focus_area"):
        current = by_code.get(category.code)
        if current is None or (current.municipality_id is None and category.municipality_id is not None):
            by_code[category.code] = category
    return sorted(by_code.values(), key=lambda c: (c.focus_area.ordering, c.ordering, c.code))


def public_category_by_code(code: str, municipality: Municipality | None) -> Category | None:
    for category in public_categories(municipality):
        if category.code == code:
            return category
    return None


def agency_names(municipality_ids: set[int]) -> dict[int, str]:
    """The municipal organisation answering for each municipality (e.g. "Ystads kommun")."""
    names: dict[int, str] = {}
    for muni_id, org_name in (
        Organisation.municipalities.through.objects.filter(
            organisation__kind=OrganisationKind.KOMMUN, municipality_id__in=municipality_ids
        )
        .order_by("organisation__name")
        .values_list("municipality_id", "organisation__name")
    ):
        names.setdefault(muni_id, org_name)
    return names


def public_requests_closed_q() -> Q:
    """Closed to the public: rejected, or accepted and the report it became is closed (or gone)."""
    return Q(status=PublicRequestStatus.REJECTED) | (
        Q(status=PublicRequestStatus.ACCEPTED) & (Q(incident__isnull=True) | Q(incident__status=Status.CLOSED))
    )


def public_request_is_closed(public_request: PublicRequest) -> bool:
    if public_request.status == PublicRequestStatus.REJECTED:
        return True
    if public_request.status == PublicRequestStatus.ACCEPTED:
        incident = public_request.incident
        return incident is None or incident.status == Status.CLOSED
    return False


# --- moderation access ----------------------------------------------------------------------------------------------


# --- writes ---------------------------------------------------------------------------------------------------------


def public_request_create(
    *, municipality: Municipality, category: Category, lat: float, lon: float, description: str = ""
) -> PublicRequest:
    """Queue an observation from the public for moderation. The point must lie in ``municipality``.

    Raises ValidationError with Swedish messages naming the Open311 field (``lat``, ``description``).
    """
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_CHARS:
        raise ValidationError(
            {"description": f"description är för lång: högst {DESCRIPTION_MAX_CHARS} tecken (fick {len(description)})."}
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not in_sweden(lon, lat):
        raise ValidationError(
            {"lat": "lat/long ligger utanför Sverige. Ange punkten i decimalgrader (WGS84), t.ex. lat=55.43."}
        )
    if municipality_containing(lon=lon, lat=lat, candidates=[municipality]) is None:
        raise ValidationError({"lat": f"lat/long ligger utanför {municipality.name} kommun."})
    return PublicRequest.objects.create(
        category=category,
        lat=lat,
        lon=lon,
        municipality=municipality,
        description=description,
        personal_data_flags=[f.as_dict() for f in screen(description)],
    )


def _pending_for_update(user: User, request_id: object) -> PublicRequest:
    public_request = access_public_request_by_id(user, request_id)
    # Locked, so two moderators pressing "accept" at once make one report, not two.
    public_request = PublicRequest.objects.select_for_update().select_related("category").get(pk=public_request.pk)
    if public_request.status != PublicRequestStatus.PENDING:
        raise ValidationError({"status": _("This request has already been moderated.")})
    return public_request


@transaction.atomic
def public_request_accept(
    *, user: User, request_id: object, redact_personal_data: bool = False, note: str = ""
) -> PublicRequest:
    """Accept a request into the lägesbild: it becomes an Incident from source ``open311``.

    The Incident has no reporter and no organisation (a citizen made it), the citizen's pin as an exact position,
    the time the request came in as the time of the observation, and sensitivity ``shared``: the parties see it as
    they see their staff's reports, and the public sees it only through this API (coarsened, after moderation).
    When the moderator redacts, the request and the report keep only the redacted text. A report still holding
    personal data stays "new", waiting for redaction like any other; otherwise it starts as reviewed, since the
    moderator has just read it.
    """
    public_request = _pending_for_update(user, request_id)
    redacted = False
    if redact_personal_data and public_request.personal_data_flags:
        # The stored findings are what the moderator saw; a second pass catches data that was glued to them.
        text = redact(redact(public_request.description, public_request.personal_data_flags))
        public_request.description = text
        public_request.personal_data_flags = [f.as_dict() for f in screen(text)]
        redacted = True
    now = timezone.now()
    occurred = public_request.created_at
    x, y = point_to_sweref(public_request.lon, public_request.lat)
    clean = not public_request.personal_data_flags
    incident = Incident(
        category=public_request.category,
        occurred_from=occurred,
        reported_at=occurred,
        lat=public_request.lat,
        lon=public_request.lon,
        x=x,
        y=y,
        precision=Precision.EXACT,
        municipality_id=public_request.municipality_id,
        description=public_request.description,
        source_organisation=None,
        reporter=None,
        sensitivity=Sensitivity.SHARED,
        status=Status.REVIEWED if clean else Status.NEW,
        source=Source.OPEN311,
        external_id=public_request.token,
        personal_data_flags=public_request.personal_data_flags,
        reviewed_by=user if clean else None,
        reviewed_at=now if clean else None,
    )
    incident.full_clean(exclude=["x", "y", "areas"])
    incident.save()
    incident.areas.set(
        area_ids_containing(
            municipality_id=public_request.municipality_id,
            lon=[public_request.lon],
            lat=[public_request.lat],
            on=timezone.localdate(occurred),
        )[0]
    )
    daily_counts_touch(municipality_id=public_request.municipality_id, days=[timezone.localdate(occurred)])
    if clean:
        StatusChange.objects.create(
            incident=incident,
            from_status=Status.NEW,
            to_status=Status.REVIEWED,
            changed_by=user,
            changed_at=now,
            note=note.strip(),
            redacted=redacted,
        )
    public_request.status = PublicRequestStatus.ACCEPTED
    public_request.incident = incident
    public_request.moderated_by = user
    public_request.moderated_at = now
    public_request.note = note.strip()
    public_request.save()
    return public_request


@transaction.atomic
def public_request_reject(*, user: User, request_id: object, note: str) -> PublicRequest:
    """Reject a request; the note (why) is for the moderators and is never published."""
    if not note.strip():
        raise ValidationError({"note": _("Say why the request is rejected.")})
    public_request = _pending_for_update(user, request_id)
    public_request.status = PublicRequestStatus.REJECTED
    public_request.moderated_by = user
    public_request.moderated_at = timezone.now()
    public_request.note = note.strip()
    public_request.save()
    return public_request
