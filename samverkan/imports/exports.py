"""Exports of the report list as CSV (for Excel in a Swedish locale) and GeoJSON (for GIS tools).

An export holds exactly what the user may see on the report list — the access funnel and the list's filters — and
is streamed in chunks, so a large export never sits in memory. Descriptions still waiting for a reviewer to remove
personal data leave the system redacted; the screening findings themselves (which quote that data) never do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from samverkan.accounts.access import areas_visible_to
from samverkan.audit.services import record_export
from samverkan.incidents.forms import IncidentFilter
from samverkan.incidents.models import Incident, Precision, Sensitivity, Source, Status
from samverkan.incidents.screening import redact
from samverkan.incidents.selectors import incident_list_visible_to

logger = logging.getLogger(__name__)

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Rows fetched per database round trip; the area names of a chunk come in one more query.
CHUNK_SIZE = 2000

_DB_FIELDS = (
    "id",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "category__code",
    "category__name_sv",
    "category__focus_area__code",
    "category__focus_area__name_sv",
    "municipality__code",
    "municipality__name",
    "lat",
    "lon",
    "x",
    "y",
    "precision",
    "description",
    "personal_data_flags",
    "persons_estimate",
    "severity",
    "police_reported",
    "fault_reported",
    "source_organisation__name",
    "sensitivity",
    "status",
    "source",
    "external_id",
)


class ExportRow(NamedTuple):
    """One report as it may leave the system: the description is redacted where it held personal data."""

    id: int
    occurred_from: dt.datetime
    occurred_to: dt.datetime | None
    reported_at: dt.datetime
    category: str
    category_name: str
    focus_area: str
    focus_area_name: str
    municipality_code: str
    municipality: str
    areas: tuple[str, ...]
    lat: float
    lon: float
    x: float
    y: float
    precision: str
    description: str
    persons_estimate: int | None
    severity: int
    police_reported: bool
    fault_reported: bool
    organisation: str | None
    sensitivity: str
    status: str
    source: str
    external_id: str | None


def _safe_description(text: str, flags: Any) -> str:
    if not flags:
        return text
    try:
        return redact(text, flags)
    except (ValueError, TypeError):
        # Findings that no longer fit the text: screen it afresh rather than let it out unredacted.
        return redact(text)


def _batched(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def export_row_chunks(queryset: QuerySet[Incident], *, chunk_size: int | None = None) -> Iterator[list[ExportRow]]:
    """The reports of ``queryset`` (already limited by the access funnel) in chunks, newest first.

    A constant number of queries per chunk: the rows through one cursor, the area names of the chunk in one more.
    """
    size = chunk_size or CHUNK_SIZE
    rows = queryset.order_by("-occurred_from", "-id").values_list(*_DB_FIELDS, named=True).iterator(chunk_size=size)
    through = Incident.areas.through
    for batch in _batched(rows, size):
        areas: dict[int, list[str]] = {}
        for incident_id, name in (
            through.objects.filter(incident_id__in=[r.id for r in batch])
            .order_by("area__name", "area_id")
            .values_list("incident_id", "area__name")
        ):
            areas.setdefault(incident_id, []).append(name)
        yield [
            ExportRow(
                id=r.id,
                occurred_from=r.occurred_from,
                occurred_to=r.occurred_to,
                reported_at=r.reported_at,
                category=r.category__code,
                category_name=r.category__name_sv,
                focus_area=r.category__focus_area__code,
                focus_area_name=r.category__focus_area__name_sv,
                municipality_code=r.municipality__code,
                municipality=r.municipality__name,
                areas=tuple(areas.get(r.id, ())),
                lat=r.lat,
                lon=r.lon,
                x=r.x,
                y=r.y,
                precision=r.precision,
                description=_safe_description(r.description, r.personal_data_flags),
                persons_estimate=r.persons_estimate,
                severity=r.severity,
                police_reported=r.police_reported,
                fault_reported=r.fault_reported,
                organisation=r.source_organisation__name,
                sensitivity=r.sensitivity,
                status=r.status,
                source=r.source,
                external_id=r.external_id,
            )
            for r in batch
        ]


# --- CSV --------------------------------------------------------------------------------------------------------------

CSV_HEADERS = (
    "id",
    "tid från",
    "tid till",
    "rapporterad",
    "kategori",
    "kategorinamn",
    "fokusområde",
    "kommun",
    "områden",
    "lat",
    "lon",
    "x",
    "y",
    "platsnoggrannhet",
    "beskrivning",
    "personer ca",
    "allvarlighet",
    "polisanmäld",
    "felanmäld",
    "organisation",
    "känslighet",
    "status",
    "källa",
    "externt id",
)

# OWASP's list for CSV injection: a spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str | None) -> str:
    """Text for a CSV cell that a spreadsheet shows as text, never evaluates (a leading apostrophe if needed)."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if moment else ""


def _decimal_comma(value: float, places: int) -> str:
    # Excel in a Swedish locale reads "55,43" as a number and "55.43" as text.
    return f"{value:.{places}f}".replace(".", ",")


def _swedish_labels(choices: type[Any]) -> dict[str, str]:
    # Resolved once, up front: the rows are written after the view has returned, when the request's language may
    # no longer be active.
    with translation.override("sv"):
        return {value: str(label) for value, label in choices.choices}


def csv_chunks(chunks: Iterable[list[ExportRow]]) -> Iterator[bytes]:
    """UTF-8 with a byte order mark, ``;`` between fields, decimal commas, local times: what Excel in Sweden opens
    correctly with a double click."""
    labels = {
        "precision": _swedish_labels(Precision),
        "sensitivity": _swedish_labels(Sensitivity),
        "status": _swedish_labels(Status),
        "source": _swedish_labels(Source),
    }
    yes, no = "ja", "nej"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADERS)
    yield buffer.getvalue().encode("utf-8")
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        for row in chunk:
            writer.writerow(
                (
                    row.id,
                    _local(row.occurred_from),
                    _local(row.occurred_to),
                    _local(row.reported_at),
                    neutralise_formula(row.category),
                    neutralise_formula(row.category_name),
                    neutralise_formula(row.focus_area_name),
                    neutralise_formula(row.municipality),
                    neutralise_formula(", ".join(row.areas)),
                    _decimal_comma(row.lat, 6),
                    _decimal_comma(row.lon, 6),
                    _decimal_comma(row.x, 2),
                    _decimal_comma(row.y, 2),
                    labels["precision"].get(row.precision, row.precision),
                    neutralise_formula(row.description),
                    "" if row.persons_estimate is None else row.persons_estimate,
                    row.severity,
                    yes if row.police_reported else no,
                    yes if row.fault_reported else no,
                    neutralise_formula(row.organisation),
                    labels["sensitivity"].get(row.sensitivity, row.sensitivity),
                    labels["status"].get(row.status, row.status),
                    labels["source"].get(row.source, row.source),
                    neutralise_formula(row.external_id),
                )
            )
        yield buffer.getvalue().encode("utf-8")


# --- GeoJSON ----------------------------------------------------------------------------------------------------------


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(STOCKHOLM).isoformat() if moment else None


def _feature(row: ExportRow) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": {
            "id": row.id,
            "occurred_from": _iso(row.occurred_from),
            "occurred_to": _iso(row.occurred_to),
            "reported_at": _iso(row.reported_at),
            "category": row.category,
            "category_name": row.category_name,
            "focus_area": row.focus_area,
            "focus_area_name": row.focus_area_name,
            "municipality": row.municipality_code,
            "municipality_name": row.municipality,
            "areas": list(row.areas),
            "x": row.x,
            "y": row.y,
            "precision": row.precision,
            "description": row.description,
            "persons_estimate": row.persons_estimate,
            "severity": row.severity,
            "police_reported": row.police_reported,
            "fault_reported": row.fault_reported,
            "organisation": row.organisation,
            "sensitivity": row.sensitivity,
            "status": row.status,
            "source": row.source,
            "external_id": row.external_id,
        },
    }


def geojson_chunks(chunks: Iterable[list[ExportRow]]) -> Iterator[bytes]:
    """A FeatureCollection in WGS84 (RFC 7946: coordinates are [lon, lat]), written piece by piece."""
    yield b'{"type": "FeatureCollection", "features": ['
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        text = ",\n".join(json.dumps(_feature(row), ensure_ascii=False) for row in chunk)
        yield (("\n" if first else ",\n") + text).encode("utf-8")
        first = False
    yield b"\n]}\n"


# --- views ------------------------------------------------------------------------------------------------------------


def _filtered_incidents(request: HttpRequest) -> QuerySet[Incident] | HttpResponse:
    """The report list's queryset for this request, or a 400 response naming what is wrong with the filter."""
    qs = incident_list_visible_to(request.user)
    if not request.GET:
        return qs
    filterset = IncidentFilter(
        request.GET, queryset=qs, user=request.user, areas=areas_visible_to(request.user).current()
    )
    if not filterset.is_valid():
        lines = [_("The filter is not valid:")]
        for name, errors in filterset.errors.items():
            label = filterset.form.fields[name].label if name in filterset.form.fields else name
            lines.append(f"{label}: {' '.join(errors)}")
        return HttpResponseBadRequest("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    # The area filter joins the many-to-many table; distinct keeps each report once, as on the list.
    return filterset.qs.distinct()


def _attachment(content: Iterator[bytes], *, extension: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type=content_type)
    filename = f"samverkan-rapporter-{timezone.localdate(timezone=STOCKHOLM).isoformat()}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Reports are not public documents until checked for confidentiality: keep copies out of shared caches.
    patch_cache_control(response, private=True, no_store=True)
    return response


def _log_export(request: HttpRequest, kind: str) -> None:
    logger.info("export %s by user %s with filters %r", kind, request.user.pk, request.GET.urlencode())


@login_required
@require_GET
def incidents_csv(request: HttpRequest) -> HttpResponse:
    qs = _filtered_incidents(request)
    if isinstance(qs, HttpResponse):
        return qs
    _log_export(request, "csv")
    record_export(request, kind="csv", queryset=qs)
    return _attachment(csv_chunks(export_row_chunks(qs)), extension="csv", content_type="text/csv; charset=utf-8")


@login_required
@require_GET
def incidents_geojson(request: HttpRequest) -> HttpResponse:
    qs = _filtered_incidents(request)
    if isinstance(qs, HttpResponse):
        return qs
    _log_export(request, "geojson")
    record_export(request, kind="geojson", queryset=qs)
    return _attachment(geojson_chunks(export_row_chunks(qs)), extension="geojson", content_type="application/geo+json")
