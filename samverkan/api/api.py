"""The JSON API under ``/api/`` (OpenAPI at ``/api/docs``).

Session authentication serves our own pages (with CSRF); bearer tokens serve other clients. Every endpoint goes
through the same access funnel as the pages, and every error is a 4xx JSON body naming the field.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import HttpBearer, django_auth

from samverkan.accounts.access import (
    Action,
    access_incident_by_id,
    areas_visible_to,
    categories_visible_to,
)
from samverkan.accounts.models import ApiToken
from samverkan.incidents import services
from samverkan.incidents.forms import IncidentFilter
from samverkan.incidents.models import Precision, Sensitivity
from samverkan.incidents.selectors import incident_list_visible_to

# Maps never need more points than this at once; beyond it the client narrows the filter.
GEOJSON_LIMIT = 20000


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
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    area: int | None = None
    focus_area: int | None = None
    category: int | None = None
    status: str | None = None
    source: str | None = None


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
    category: str = Field(..., description="Category code, see /api/categories")
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)
    occurred_from: dt.datetime
    occurred_to: dt.datetime | None = None
    description: str = Field("", max_length=4000)
    persons_estimate: int | None = Field(None, ge=0, le=10000)
    severity: int = Field(1, ge=1, le=3)
    police_reported: bool = False
    fault_reported: bool = False
    sensitivity: Sensitivity = Sensitivity.SHARED
    precision: Precision = Precision.EXACT
    external_id: str | None = Field(None, max_length=200)


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


@api.get("/incidents", response=list[IncidentOut], tags=["incidents"], url_name="incidents")
@paginate(PageNumberPagination, page_size=settings.SAMVERKAN_PAGE_SIZE)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilterIn]):
    """Reports visible to the caller, newest first, with the filters of the report list."""
    return _filtered(request, filters).order_by("-occurred_from", "-id")


@api.post(
    "/incidents",
    response={201: IncidentOut, 422: ErrorOut},
    tags=["incidents"],
    url_name="incident_create",
)
def create_incident(request: HttpRequest, payload: IncidentIn):
    """Create a report. The point must lie in a municipality the caller's organisation covers."""
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
    )
    return Status(201, access_incident_by_id(request.user, incident.pk, Action.VIEW))


@api.get("/incidents.geojson", tags=["incidents"], url_name="incidents_geojson")
def incidents_geojson(request: HttpRequest, filters: Query[IncidentFilterIn]):
    """Visible reports as a GeoJSON FeatureCollection (newest first, at most 20,000)."""
    qs = _filtered(request, filters).order_by("-occurred_from", "-id")
    rows = qs.values_list(
        "id",
        "lon",
        "lat",
        "category__name_sv",
        "category__name_en",
        "category__focus_area__code",
        "occurred_from",
        "status",
        "precision",
    )[:GEOJSON_LIMIT]
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
        for pk, lon, lat, name_sv, name_en, focus, occurred, status, precision in rows
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": len(features) == GEOJSON_LIMIT}


@api.get("/incidents/{incident_id}", response=IncidentOut, tags=["incidents"], url_name="incident")
def get_incident(request: HttpRequest, incident_id: int):
    return access_incident_by_id(request.user, incident_id, Action.VIEW)


@api.get("/categories", response=list[CategoryOut], tags=["categories"], url_name="categories")
def list_categories(request: HttpRequest):
    return categories_visible_to(request.user).select_related("municipality")


@api.get("/areas", tags=["areas"], url_name="areas_geojson")
def areas_geojson(request: HttpRequest, kind: str | None = None, current: bool = True):
    """Areas of the caller's municipalities as a GeoJSON FeatureCollection."""
    qs = areas_visible_to(request.user).select_related("municipality")
    if kind:
        qs = qs.filter(kind=kind)
    if current:
        qs = qs.current()
    return {
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
