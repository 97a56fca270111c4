"""The audit log's search page and export, for samordnare and admins (``access.audit_events_visible_to``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from samverkan.accounts.access import audit_events_visible_to, can_search_audit, municipalities_visible_to
from samverkan.audit.exports import csv_chunks, events_in_order, jsonl_lines
from samverkan.audit.forms import AuditEventFilter
from samverkan.audit.models import AuditAction, AuditEvent
from samverkan.audit.services import record, safe_filters
from samverkan.places.models import Municipality

FORMATS = {
    "jsonl": ("jsonl", "application/jsonl; charset=utf-8", jsonl_lines),
    "csv": ("csv", "text/csv; charset=utf-8", csv_chunks),
}


def _filtered(request: HttpRequest) -> tuple[AuditEventFilter, QuerySet[AuditEvent] | None]:
    """The filter and the events it keeps; ``None`` for the events when the filter is not valid."""
    if not can_search_audit(request.user):
        raise PermissionDenied
    visible = audit_events_visible_to(request.user)
    filterset = AuditEventFilter(
        request.GET or None, queryset=visible, municipalities=municipalities_visible_to(request.user)
    )
    if not filterset.is_bound:
        return filterset, visible
    return filterset, (filterset.qs if filterset.is_valid() else None)


# Labels of the detail keys the log writes; any other key is shown as it is stored.
DETAIL_LABELS = {
    "fields": gettext_lazy("changed fields"),
    "status": gettext_lazy("status"),
    "sensitivity": gettext_lazy("sensitivity"),
    "municipality": gettext_lazy("municipality"),
    "role": gettext_lazy("role"),
    "count": gettext_lazy("how many"),
    "ids": gettext_lazy("report ids"),
    "rows": gettext_lazy("rows"),
    "restricted_rows": gettext_lazy("police-only rows"),
    "restricted_ids": gettext_lazy("police-only report ids"),
    "filters": gettext_lazy("filters"),
    "kind": gettext_lazy("kind"),
    "format": gettext_lazy("format"),
    "view": gettext_lazy("page"),
    "username": gettext_lazy("user name"),
}


def _detail_items(details: dict[str, Any]) -> list[tuple[str, str]]:
    items = []
    for key, value in details.items():
        if isinstance(value, list) and len(value) == 2 and key not in {"fields", "ids", "restricted_ids"}:
            shown = f"{value[0]} → {value[1]}"
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items())
        else:
            shown = str(value)
        items.append((str(DETAIL_LABELS.get(key, key)), shown))
    return items


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    filterset, events = _filtered(request)
    if events is None:
        events = AuditEvent.objects.none()
    paginator = Paginator(events.order_by("-seq"), settings.SAMVERKAN_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    names = dict(
        Municipality.objects.filter(pk__in={e.municipality_id for e in page if e.municipality_id}).values_list(
            "pk", "name"
        )
    )
    rows = [
        {"event": e, "municipality": names.get(e.municipality_id, ""), "details": _detail_items(e.details)}
        for e in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "rows": rows, "query": query.urlencode()}
    template = "audit/event_list.html#results" if request.htmx else "audit/event_list.html"
    return render(request, template, context)


@login_required
@require_GET
def event_export(request: HttpRequest) -> HttpResponse:
    filterset, events = _filtered(request)
    kind = request.GET.get("format") or "jsonl"
    if events is None or kind not in FORMATS:
        lines = [_("The filter is not valid:")]
        for name, errors in (filterset.errors if events is None else {}).items():
            label = filterset.form.fields[name].label if name in filterset.form.fields else name
            lines.append(f"{label}: {' '.join(errors)}")
        if kind not in FORMATS:
            lines.append(_("Unknown format: choose jsonl or csv."))
        return HttpResponseBadRequest("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    # What is exported is fixed now: events appended while it streams (this export's own among them) are left out.
    totals = events.aggregate(last=Max("seq"), rows=Count("pk"), restricted=Count("pk", filter=Q(restricted=True)))
    events = events.filter(seq__lte=totals["last"] or 0)
    municipality = filterset.form.cleaned_data.get("municipality") if filterset.is_bound else None
    record(
        AuditAction.AUDIT_EXPORTED,
        request=request,
        municipality_id=municipality.pk if municipality else None,
        restricted=bool(totals["restricted"]),
        details={"format": kind, "rows": totals["rows"], "filters": safe_filters(request.GET)},
    )
    extension, content_type, writer = FORMATS[kind]
    response = StreamingHttpResponse(writer(events_in_order(events)), content_type=content_type)
    filename = f"samverkan-granskning-{timezone.localdate().isoformat()}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response
