"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at ``/open311/v2/``: how the public, and apps such as
FixMyStreet (FixaMinGata), send observations to the municipality.

Endpoints, each as ``.json`` or ``.xml``: ``discovery``, ``services``, ``services/{service_code}``, ``requests``
(GET lists, POST creates) and ``requests/{service_request_id}``.

* Services are the categories open to the public; ``service_code`` is the category code, ``jurisdiction_id`` the
  municipality's SCB code (needed on POST only when several municipalities take requests).
* A POST never reaches the lägesbild: it waits in a moderated queue (``PublicRequest``). The citizen's e-mail, name,
  phone, device and account ids, address text and media URL are accepted, so existing clients work, and dropped.
* Reads publish what a moderator has let through: the description only of accepted requests with no personal data
  left in it, the position only of accepted requests and rounded to 3 decimals (about 110 m north–south and 65 m
  east–west in Skåne). The moderators' notes are never published.
* Errors use the GeoReport format, ``[{"code": 400, "description": "…"}]`` or ``<errors><error>…``, in Swedish and
  naming the field. POST takes an ``api_key`` when ``SAMVERKAN_OPEN311_API_KEYS`` lists any (else 403). Each client
  address is rate-limited: ``SAMVERKAN_OPEN311_RATE`` for POST (default ``"10/600"``: 10 per 600 s) and
  ``SAMVERKAN_OPEN311_READ_RATE`` for GET (default ``"120/60"``); beyond it, 429.
* POST is exempt from CSRF: outside clients use no cookies, and the view reads no session.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from samverkan.core import throttle
from samverkan.imports.models_open311 import PublicRequest, PublicRequestStatus
from samverkan.imports.open311_services import (
    agency_names,
    jurisdiction_resolve,
    public_categories,
    public_category_by_code,
    public_request_create,
    public_request_is_closed,
    public_requests_closed_q,
)
from samverkan.incidents.models import Category

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The date this implementation of the API last changed, which clients use to notice changes.
CHANGESET = "2026-11-25T00:00:00+00:00"
# The spec's defaults for a request list: the last 90 days, at most 1000 requests.
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_REQUESTS = 1000
COORDINATE_DECIMALS = 3

SERVICE_NOTICE = "Tack! Din iakttagelse granskas innan den används."
STATUS_NOTES = {
    PublicRequestStatus.PENDING: "Iakttagelsen väntar på granskning.",
    PublicRequestStatus.ACCEPTED: "Iakttagelsen har granskats och används i kommunens lägesbild.",
    PublicRequestStatus.REJECTED: "Iakttagelsen har granskats och används inte.",
}
STATUS_NOTE_CLOSED = "Ärendet är avslutat."

# XML names of the items of each list, as the spec writes them.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
}
# Characters XML 1.0 cannot carry (and PostgreSQL text cannot hold NUL); dropped from input so every answer parses.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


# --- rendering ------------------------------------------------------------------------------------------------------


def _append(parent: ET.Element, name: str, value: Any) -> None:
    if value is None:
        return
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(element, LIST_ITEMS[name], item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def _without_none(value: Any) -> Any:
    """Absent rather than null, as in the XML: what we do not publish is not there."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _respond(fmt: str, data: list[Any] | dict[str, Any], *, root: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        element = ET.Element(root)
        if isinstance(data, list):
            for item in data:
                _append(element, LIST_ITEMS[root], item)
        else:
            for key, value in data.items():
                _append(element, key, value)
        body = ET.tostring(element, encoding="utf-8", xml_declaration=True)
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    body = json.dumps(_without_none(data), ensure_ascii=False)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def _errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    return _respond(fmt, [{"code": status, "description": d} for d in descriptions], root="errors", status=status)


def _shown(value: str) -> str:
    """User input echoed in an error message: printable and short."""
    value = _CONTROL_CHARACTERS.sub("", value)
    return value if len(value) <= 60 else value[:60] + "…"


def _w3c(value: dt.datetime) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds")


# --- rate limits ----------------------------------------------------------------------------------------------------


def _retry_after(request: HttpRequest) -> int | None:
    """Posts and reads have their own limits per client address; the seconds to wait when over the limit."""
    if request.method == "POST":
        return throttle.retry_after(request, scope="open311:post", setting="SAMVERKAN_OPEN311_RATE", default="10/600")
    return throttle.retry_after(request, scope="open311:read", setting="SAMVERKAN_OPEN311_READ_RATE", default="120/60")


# --- the endpoint wrapper -------------------------------------------------------------------------------------------


def _endpoint(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Method check, rate limit, and ValidationError → 400 in the GeoReport error format."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            fmt = kwargs["fmt"] = kwargs.get("fmt") or ("xml" if request.path.endswith(".xml") else "json")
            if request.method not in methods:
                response = _errors(fmt, 405, f"Metoden {_shown(request.method or '')} stöds inte här.")
                response["Allow"] = ", ".join(methods)
                return response
            retry_after = _retry_after(request)
            if retry_after is not None:
                response = _errors(fmt, 429, f"För många anrop från din adress. Försök igen om {retry_after} sekunder.")
                response["Retry-After"] = str(retry_after)
                return response
            try:
                return view(request, *args, **kwargs)
            except ValidationError as exc:
                return _errors(fmt, 400, *(str(m) for messages in exc.message_dict.values() for m in messages))

        return wrapper

    return decorate


READ = ("GET", "HEAD")


# --- views ----------------------------------------------------------------------------------------------------------


@_endpoint(*READ)
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(request.path).rsplit("/", 1)[0]
    data = {
        "changeset": CHANGESET,
        "contact": getattr(settings, "SAMVERKAN_OPEN311_CONTACT", "") or None,
        "key_service": getattr(settings, "SAMVERKAN_OPEN311_KEY_SERVICE", "") or None,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _respond(fmt, data, root="discovery")


def _service(category: Category) -> dict[str, Any]:
    focus = category.focus_area.name_sv
    return {
        "service_code": category.code,
        "service_name": category.name_sv,
        "description": f"{category.name_sv} (fokusområde {focus.lower()})",
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys([category.name_sv.lower(), focus.lower()])),
        "group": focus,
    }


@_endpoint(*READ)
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    municipality = jurisdiction_resolve(request.GET.get("jurisdiction_id") or None, required=False)
    return _respond(fmt, [_service(c) for c in public_categories(municipality)], root="services")


@_endpoint(*READ)
def service_definition(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    municipality = jurisdiction_resolve(request.GET.get("jurisdiction_id") or None, required=False)
    category = public_category_by_code(service_code, municipality)
    if category is None:
        return _errors(fmt, 404, f"service_code {_shown(service_code)!r} finns inte. Se services.{fmt}.")
    # Our services ask for no attributes beyond the standard fields (metadata is false).
    return _respond(fmt, {"service_code": category.code, "attributes": []}, root="service_definition")


@_endpoint(*READ, "POST")
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    jurisdiction_id = params.get("jurisdiction_id") or None
    municipality = jurisdiction_resolve(jurisdiction_id, required=False) if jurisdiction_id else None
    qs = PublicRequest.objects.all()
    if municipality is not None:
        qs = qs.filter(municipality=municipality)
    ids = _comma_list(params, "service_request_id")
    if ids:
        # The spec: with service_request_id, every other filter is ignored.
        qs = qs.filter(token__in=ids[:MAX_REQUESTS])
    else:
        qs = _filtered(qs, params)
    return _respond(fmt, _requests_out(qs), root="service_requests")


@_endpoint(*READ)
def request_detail(request: HttpRequest, service_request_id: str, fmt: str) -> HttpResponse:
    data = _requests_out(PublicRequest.objects.filter(token=service_request_id))
    if not data:
        return _errors(fmt, 404, f"service_request_id {_shown(service_request_id)!r} finns inte.")
    return _respond(fmt, data, root="service_requests")


@_endpoint(*READ, "POST", "PUT", "PATCH", "DELETE")
def not_found(request: HttpRequest, path: str, fmt: str) -> HttpResponse:
    return _errors(fmt, 404, f"{_shown(path)!r} finns inte i GeoReport v2 här. Se discovery.{fmt}.")


# --- reading requests -----------------------------------------------------------------------------------------------


def _comma_list(params: QueryDict, name: str) -> list[str]:
    # Control characters (NUL, which PostgreSQL cannot compare) are in no code or id.
    values = (_CONTROL_CHARACTERS.sub("", value) for value in params.getlist(name))
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _parse_w3c(params: QueryDict, name: str, errors: dict[str, str]) -> dt.datetime | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    # A "+" in an unescaped query string arrives as a space: "2024-05-03T12:00:00 02:00".
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        errors[name] = f"{name} måste vara en tidpunkt i W3C-format, t.ex. 2024-05-03T12:00:00+02:00."
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _filtered(qs: Any, params: QueryDict) -> Any:
    errors: dict[str, str] = {}
    codes = _comma_list(params, "service_code")
    start = _parse_w3c(params, "start_date", errors)
    end = _parse_w3c(params, "end_date", errors)
    statuses = set(_comma_list(params, "status"))
    if not statuses <= {"open", "closed"}:
        errors["status"] = "status måste vara open eller closed."
    if start and end and end < start:
        errors["end_date"] = "end_date ligger före start_date."
    if errors:
        raise ValidationError(errors)
    if codes:
        qs = qs.filter(category__code__in=codes)
    if start is None:
        start = (end or timezone.now()) - DEFAULT_WINDOW
    qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    if statuses == {"open"}:
        qs = qs.exclude(public_requests_closed_q())
    elif statuses == {"closed"}:
        qs = qs.filter(public_requests_closed_q())
    return qs


def _requests_out(qs: Any) -> list[dict[str, Any]]:
    items = list(
        qs.select_related("category", "municipality", "incident").order_by("-created_at", "-id")[:MAX_REQUESTS]
    )
    agencies = agency_names({r.municipality_id for r in items})
    return [_request_out(r, agencies.get(r.municipality_id) or f"{r.municipality.name} kommun") for r in items]


def _request_out(public_request: PublicRequest, agency: str) -> dict[str, Any]:
    accepted = public_request.status == PublicRequestStatus.ACCEPTED
    closed = public_request_is_closed(public_request)
    updated = public_request.updated_at
    if public_request.incident is not None:
        updated = max(updated, public_request.incident.updated_at)
    show_text = accepted and not public_request.personal_data_flags and public_request.description
    return {
        "service_request_id": public_request.token,
        "status": "closed" if closed else "open",
        "status_notes": STATUS_NOTE_CLOSED if closed and accepted else STATUS_NOTES[public_request.status],
        "service_name": public_request.category.name_sv,
        "service_code": public_request.category.code,
        "description": public_request.description if show_text else None,
        "agency_responsible": agency,
        "requested_datetime": _w3c(public_request.created_at),
        "updated_datetime": _w3c(updated),
        "lat": round(public_request.lat, COORDINATE_DECIMALS) if accepted else None,
        "long": round(public_request.lon, COORDINATE_DECIMALS) if accepted else None,
    }


# --- creating a request ---------------------------------------------------------------------------------------------


def _api_key_valid(request: HttpRequest) -> bool:
    keys = [str(k) for k in getattr(settings, "SAMVERKAN_OPEN311_API_KEYS", []) or []]
    if not keys:
        return True
    given = (request.POST.get("api_key") or request.GET.get("api_key") or "").encode()
    # Every key is compared, in constant time, so the answer's timing says nothing about which came close.
    return any([hmac.compare_digest(given, key.encode()) for key in keys])


def _coordinate(data: QueryDict, name: str, low: float, high: float, errors: dict[str, str]) -> float | None:
    text = (data.get(name) or "").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        example = "55.43" if name == "lat" else "13.82"
        errors[name] = f"{name} måste vara ett tal i decimalgrader (WGS84), t.ex. {name}={example}."
        return None
    if not math.isfinite(value) or not low <= value <= high:
        errors[name] = f"{name} måste ligga mellan {low:g} och {high:g}."
        return None
    return value


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    if not _api_key_valid(request):
        return _errors(fmt, 403, "api_key saknas eller är ogiltig.")
    data = request.POST
    errors: dict[str, str] = {}
    municipality = None
    try:
        municipality = jurisdiction_resolve(data.get("jurisdiction_id") or None, required=True)
    except ValidationError as exc:
        errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
    code = (data.get("service_code") or "").strip()
    category = None
    if not code:
        errors["service_code"] = f"service_code saknas: välj en tjänst ur services.{fmt}."
    elif "jurisdiction_id" not in errors:
        category = public_category_by_code(code, municipality)
        if category is None:
            errors["service_code"] = f"service_code {_shown(code)!r} finns inte. Se services.{fmt}."
    lat = lon = None
    if not (data.get("lat") or "").strip() and not (data.get("long") or "").strip():
        errors["lat"] = "lat och long krävs: iakttagelsen behöver en punkt på kartan (address_string räcker inte här)."
    else:
        lat = _coordinate(data, "lat", -90, 90, errors)
        lon = _coordinate(data, "long", -180, 180, errors)
    description = _CONTROL_CHARACTERS.sub("", data.get("description") or "")
    # The personal fields Open311 clients send (email, first_name, last_name, phone, device_id, account_id) and
    # address_string and media_url are never read: place, not person.
    if errors:
        raise ValidationError(errors)
    assert municipality is not None and category is not None and lat is not None and lon is not None
    public_request = public_request_create(
        municipality=municipality, category=category, lat=lat, lon=lon, description=description
    )
    return _respond(
        fmt,
        [{"service_request_id": public_request.token, "service_notice": SERVICE_NOTICE}],
        root="service_requests",
    )
