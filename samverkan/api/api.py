"""The JSON API under ``/api/`` (OpenAPI at ``/api/docs``).

Session authentication serves our own pages (with CSRF); bearer tokens serve other clients. Every endpoint goes
through the same access funnel as the pages, and every error is a 4xx JSON body naming the field.
"""

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, NinjaAPI, Path, Query, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import HttpBearer, django_auth
from pydantic import BeforeValidator

from samverkan.accounts.access import (
    Action,
    access_incident_by_id,
    areas_visible_to,
    categories_visible_to,
)
from samverkan.accounts.models import ApiToken
from samverkan.audit.services import record_export, record_restricted_list, record_restricted_read
from samverkan.incidents import services
from samverkan.incidents.forms import IncidentFilter
from samverkan.incidents.models import Precision, Sensitivity, Source
from samverkan.incidents.models import Status as ReportStatus
from samverkan.incidents.selectors import incident_list_visible_to
from samverkan.places.models import AreaKind

# Maps never need more points than this at once; beyond it the client narrows the filter.
GEOJSON_LIMIT = 20000

# Ids are 64-bit integers in the database: a larger number must be refused here (422), as the database would fail
# on it instead of finding nothing.
ObjectId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# HTML forms send a field left empty as "", which the report list reads as "any"; the API reads it the same way,
# so that the map can pass the list's query string on unchanged.
Blank = Literal[""]
# Free text goes into PostgreSQL text columns, which cannot hold the NUL character.
NO_NUL = r"^[^\x00]*$"


def _iso_8601(pattern: str) -> BeforeValidator:
    # Pydantic also reads a number as a Unix timestamp (date_to=0 is 1970-01-01); the document promises ISO 8601.
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not re.match(pattern, value):
            raise ValueError("Use ISO 8601, e.g. 2025-03-01 or 2025-03-01T21:30:00+01:00")
        return value

    return BeforeValidator(check)


IsoDate = Annotated[dt.date, _iso_8601(r"\d{4}-\d{2}-\d{2}\Z")]
IsoDateTime = Annotated[dt.datetime, _iso_8601(r"\d{4}-\d{2}-\d{2}[Tt ]")]


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            api_token = ApiToken.objects.select_related("user").get(key_hash=ApiToken.hash_key(token), revoked=False)
        except ApiToken.DoesNotExist:
            return None
        if not api_token.user.is_active:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        request.user = api_token.user
        return api_token.user


api = NinjaAPI(
    title="Samverkan API",
    version="1.0.0",
    description="Reports, categories and areas of a Samverkan installation.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError):
    detail = [
        {"loc": ["body", field], "msg": str(message)}
        for field, messages in exc.message_dict.items()
        for message in messages
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404):
    return api.create_response(request, {"detail": "Not found"}, status=404)


class IncidentFilterIn(Schema):
    date_from: IsoDate | Blank | None = None
    date_to: IsoDate | Blank | None = None
    area: ObjectId | Blank | None = None
    focus_area: ObjectId | Blank | None = None
    category: ObjectId | Blank | None = None
    status: ReportStatus | Blank | None = None
    source: Source | Blank | None = None


class IncidentOut(Schema):
    id: int
    category: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name")
    focus_area: str = Field(..., alias="category.focus_area.code")
    occurred_from: dt.datetime
    occurred_to: dt.datetime | None
    reported_at: dt.datetime
    lat: float
    lon: float
    x: float
    y: float
    precision: str
    municipality: str = Field(..., alias="municipality.code")
    description: str
    persons_estimate: int | None
    severity: int
    police_reported: bool
    fault_reported: bool
    organisation: str = Field(..., alias="source_organisation.name")
    sensitivity: str
    status: str
    source: str
    external_id: str | None
    needs_redaction: bool


class IncidentIn(Schema):
    category: str = Field(
        ..., max_length=60, pattern=r"^[-a-zA-Z0-9_]+$", description="Category code, see /api/categories"
    )
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)
    occurred_from: IsoDateTime
    occurred_to: IsoDateTime | None = None
    description: str = Field("", max_length=4000, pattern=NO_NUL)
    persons_estimate: int | None = Field(None, ge=0, le=10000)
    severity: int = Field(1, ge=1, le=3)
    police_reported: bool = False
    fault_reported: bool = False
    sensitivity: Sensitivity = Sensitivity.SHARED
    precision: Precision = Precision.EXACT
    external_id: str | None = Field(None, max_length=200, pattern=NO_NUL)
    submission_key: uuid.UUID | None = Field(
        None,
        description="A UUID the client chooses once per report and sends again with every retry of it: a report "
        "already saved with this key is returned (200) instead of being saved twice. A key used by another "
        "account's report is refused (422).",
    )


class CategoryOut(Schema):
    code: str
    name_sv: str
    name_en: str
    focus_area: str = Field(..., alias="focus_area.code")
    municipality: str | None = Field(None, alias="municipality.code")
    active: bool
    public: bool
    valid_from: dt.date
    valid_to: dt.date | None


class ErrorOut(Schema):
    detail: Any


class PointOut(Schema):
    type: Literal["Point"]
    coordinates: tuple[float, float] = Field(..., description="Longitude and latitude (WGS84)")


class IncidentFeaturePropertiesOut(Schema):
    id: int
    category: str = Field(..., description="The category's name in the caller's language")
    focus_area: str
    occurred: str = Field(..., description="Local time (Europe/Stockholm) as YYYY-MM-DD HH:MM")
    status: str
    precision: str


class IncidentFeatureOut(Schema):
    type: Literal["Feature"]
    id: int
    geometry: PointOut
    properties: IncidentFeaturePropertiesOut


class IncidentFeatureCollectionOut(Schema):
    type: Literal["FeatureCollection"]
    features: list[IncidentFeatureOut]
    truncated: bool = Field(..., description=f"Whether there were more than {GEOJSON_LIMIT} reports")


class PolygonOut(Schema):
    type: Literal["Polygon"]
    coordinates: list[list[list[float]]]


class MultiPolygonOut(Schema):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[list[float]]]]


class AreaPropertiesOut(Schema):
    id: int
    name: str
    kind: str
    code: str
    municipality: str
    valid_from: dt.date
    valid_to: dt.date | None
    approximate: bool


class AreaFeatureOut(Schema):
    type: Literal["Feature"]
    id: int
    # Area imports accept only these two (samverkan.places.geo).
    geometry: PolygonOut | MultiPolygonOut = Field(..., discriminator="type")
    properties: AreaPropertiesOut


class AreaFeatureCollectionOut(Schema):
    type: Literal["FeatureCollection"]
    features: list[AreaFeatureOut]


class ReportPagination(PageNumberPagination):
    """Ninja's page numbers with an upper bound, so that a huge page number is refused (422) instead of reaching
    the database as an offset it cannot hold."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=10**9)
        page_size: int | None = Field(None, ge=1)

    def paginate_queryset(self, queryset, pagination, request, **params):
        page = super().paginate_queryset(queryset, pagination, request, **params)
        # Read the page once here, so the police-only reports it hands out are recorded in the audit log.
        page[self.items_attribute] = items = list(page[self.items_attribute])
        record_restricted_list(request, items)
        return page


def _filtered(request: HttpRequest, filters: IncidentFilterIn):
    data = {k: v for k, v in filters.dict().items() if v is not None}
    filterset = IncidentFilter(
        data, queryset=incident_list_visible_to(request.user), user=request.user, areas=areas_visible_to(request.user)
    )
    if not filterset.is_valid():
        raise ValidationError({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    return filterset.qs.distinct() if data else filterset.qs


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


@api.get(
    "/incidents",
    response={200: list[IncidentOut], 401: ErrorOut, 422: ErrorOut},
    tags=["incidents"],
    url_name="incidents",
)
@paginate(ReportPagination, page_size=settings.SAMVERKAN_PAGE_SIZE)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilterIn]):
    """Reports visible to the caller, newest first, with the filters of the report list."""
    return _filtered(request, filters).order_by("-occurred_from", "-id")


@api.post(
    "/incidents",
    response={
        200: IncidentOut,
        201: IncidentOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    tags=["incidents"],
    url_name="incident_create",
    openapi_extra={
        "responses": {
            200: {"description": "A report with this submission_key was saved before; it is returned unchanged."},
            201: {"description": "The report was saved."},
        }
    },
)
def create_incident(request: HttpRequest, payload: IncidentIn):
    """Create a report. The point must lie in a municipality the caller's organisation covers.

    Send a ``submission_key`` to make retries safe: after a timeout or a dropped connection, send the same body
    again; the answer is then 200 with the report saved the first time.
    """
    if payload.submission_key is not None and (
        earlier := services.incident_submitted_with(user=request.user, submission_key=payload.submission_key)
    ):
        return Status(200, access_incident_by_id(request.user, earlier.pk, Action.VIEW))
    category = categories_visible_to(request.user).filter(code=payload.category).order_by("-valid_from").first()
    if category is None:
        raise ValidationError({"category": [f"Unknown category code {payload.category!r}"]})
    incident = services.incident_create(
        user=request.user,
        category=category,
        lat=payload.lat,
        lon=payload.lon,
        occurred_from=_aware(payload.occurred_from),
        occurred_to=_aware(payload.occurred_to),
        description=payload.description,
        persons_estimate=payload.persons_estimate,
        severity=payload.severity,
        police_reported=payload.police_reported,
        fault_reported=payload.fault_reported,
        sensitivity=payload.sensitivity,
        precision=payload.precision,
        source="api",
        external_id=payload.external_id,
        submission_key=payload.submission_key,
    )
    return Status(201, access_incident_by_id(request.user, incident.pk, Action.VIEW))


@api.get(
    "/incidents.geojson",
    response={200: IncidentFeatureCollectionOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    tags=["incidents"],
    url_name="incidents_geojson",
)
def incidents_geojson(request: HttpRequest, filters: Query[IncidentFilterIn]):
    """Visible reports as a GeoJSON FeatureCollection (newest first, at most 20,000)."""
    qs = _filtered(request, filters).order_by("-occurred_from", "-id")
    rows = list(
        qs.values_list(
            "id",
            "lon",
            "lat",
            "category__name_sv",
            "category__name_en",
            "category__focus_area__code",
            "occurred_from",
            "status",
            "precision",
            "sensitivity",
            "municipality_id",
        )[:GEOJSON_LIMIT]
    )
    record_export(request, kind="api_geojson", rows=[(r[0], r[-2], r[-1]) for r in rows])
    english = (getattr(request, "LANGUAGE_CODE", "sv") or "sv").startswith("en")
    features = [
        {
            "type": "Feature",
            "id": pk,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "id": pk,
                "category": name_en if english else name_sv,
                "focus_area": focus,
                "occurred": timezone.localtime(occurred).strftime("%Y-%m-%d %H:%M"),
                "status": status,
                "precision": precision,
            },
        }
        for pk, lon, lat, name_sv, name_en, focus, occurred, status, precision, _sensitivity, _municipality in rows
    ]
    collection = {"type": "FeatureCollection", "features": features, "truncated": len(features) == GEOJSON_LIMIT}
    # Rendered as it is: checking 20,000 features against IncidentFeatureCollectionOut would take longer than the
    # query. tests/api/test_schemathesis.py holds the answers to the declared schema instead.
    return api.create_response(request, collection, status=200)


@api.get(
    "/incidents/{incident_id}",
    response={200: IncidentOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    tags=["incidents"],
    url_name="incident",
)
def get_incident(request: HttpRequest, incident_id: Path[ObjectId]):
    incident = access_incident_by_id(request.user, incident_id, Action.VIEW)
    record_restricted_read(request, incident)
    return incident


@api.get("/categories", response={200: list[CategoryOut], 401: ErrorOut}, tags=["categories"], url_name="categories")
def list_categories(request: HttpRequest):
    return categories_visible_to(request.user).select_related("municipality")


@api.get(
    "/areas",
    response={200: AreaFeatureCollectionOut, 401: ErrorOut, 422: ErrorOut},
    tags=["areas"],
    url_name="areas_geojson",
)
def areas_geojson(request: HttpRequest, kind: AreaKind | Blank | None = None, current: bool = True):
    """Areas of the caller's municipalities as a GeoJSON FeatureCollection."""
    qs = areas_visible_to(request.user).select_related("municipality")
    if kind:
        qs = qs.filter(kind=kind)
    if current:
        qs = qs.current()
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": a.pk,
                "geometry": a.geometry,
                "properties": {
                    "id": a.pk,
                    "name": a.name,
                    "kind": a.kind,
                    "code": a.code,
                    "municipality": a.municipality.code,
                    "valid_from": a.valid_from.isoformat(),
                    "valid_to": a.valid_to.isoformat() if a.valid_to else None,
                    "approximate": a.approximate,
                },
            }
            for a in qs
        ],
    }
    # Rendered as it is, like the reports' GeoJSON: outlines of many DeSO areas hold hundreds of thousands of points.
    return api.create_response(request, collection, status=200)
