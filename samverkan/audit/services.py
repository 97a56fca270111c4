"""Writing the audit log. ``record`` appends one event; the other functions are what views call for the reads and
exports that must leave a trace.

Appending is serialised so the chain never forks: on PostgreSQL by a transaction-level advisory lock, on SQLite by
its single write lock (the settings begin every transaction IMMEDIATE, which takes it at once). The unique
``seq`` and ``prev_hash`` columns refuse a fork even if that were bypassed. ``record`` joins the caller's
transaction when there is one, so an event is committed together with the change it records, or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from samverkan.accounts.access import grants_for
from samverkan.audit import chain
from samverkan.audit.middleware import current_request
from samverkan.audit.models import AuditAction, AuditEvent, id_text
from samverkan.core.throttle import client_address
from samverkan.incidents.models import Incident, Sensitivity

# Any fixed 64-bit number; every process appending to the log takes this one lock.
ADVISORY_LOCK_KEY = 7_390_412_208_661_220_101
# A list or export names at most this many police-only reports by id; the count is always exact.
MAX_IDS = 500
# Query parameters kept as an export's filters: only these names, values cut short. Nothing typed freely.
FILTER_NAMES = frozenset(
    {
        "date_from",
        "date_to",
        "area",
        "focus_area",
        "category",
        "status",
        "source",
        "page",
        "actor",
        "action",
        "object_type",
        "object_id",
        "municipality",
        "format",
    }
)
MAX_FILTER_LENGTH = 40

_FROM_REQUEST: Any = object()


def _user_of(request: HttpRequest | None):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])


def record(
    action: str,
    *,
    obj: Any = None,
    request: HttpRequest | None = None,
    actor: Any = _FROM_REQUEST,
    object_type: str = "",
    object_id: int | None = None,
    municipality_id: int | None = None,
    organisation_ids: Iterable[int | None] = (),
    restricted: bool = False,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event and return it.

    The actor and address come from ``request``, else from the request being served (see ``middleware``); outside a
    request (commands, background imports) pass ``actor`` or leave it empty. ``obj`` fills in the object's type, id
    and municipality. ``details`` holds field names, counts, ids and codes — never free text or coordinates.
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    request = request if request is not None else current_request.get()
    if actor is _FROM_REQUEST:
        actor = _user_of(request)
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = obj.pk if object_id is None else object_id
        if municipality_id is None:
            municipality_id = getattr(obj, "municipality_id", None)
    # What is hashed must be what the database gives back: JSON types only (tuples become lists, keys strings).
    clean_details = json.loads(chain.canonical_json(dict(details or {})))
    # No savepoint inside a caller's transaction: if the event cannot be written, the change must not be either.
    with transaction.atomic(savepoint=False):
        _lock()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, chain.GENESIS)
        event = AuditEvent(
            seq=seq,
            prev_hash=prev_hash,
            at=timezone.now(),
            actor_id=actor.pk if actor is not None else None,
            actor_username=actor.get_username() if actor is not None else "",
            actor_organisation_ids=id_text(g.organisation_id for g in grants_for(actor)),
            action=action,
            object_type=object_type,
            object_id=object_id,
            municipality_id=municipality_id,
            organisation_ids=id_text(i for i in organisation_ids if i is not None),
            restricted=restricted,
            details=clean_details,
            client_address=client_address(request)[:100] if request is not None else "",
        )
        event.hash = chain.event_hash(prev_hash, event.export_fields())
        event.save()
    return event


def _view_name(request: HttpRequest | None) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else ""


def safe_filters(params: Mapping[str, Any]) -> dict[str, str]:
    """The known filter parameters of a request, shortened; anything else (free text) is left out."""
    kept = {}
    for name in sorted(FILTER_NAMES):
        value = params.get(name)
        if value not in (None, ""):
            # NUL cannot be stored in PostgreSQL text or JSON; a crafted query string must not fail the request.
            kept[name] = str(value).replace("\x00", "")[:MAX_FILTER_LENGTH]
    return kept


@dataclass(frozen=True)
class _Contents:
    """What a list or export held: how many reports, how many police-only and which (up to ``MAX_IDS``), and the
    municipality when they all lie in one."""

    rows: int
    restricted: int
    restricted_ids: list[int]
    municipality_id: int | None


def _rows_contents(rows: Iterable[Any]) -> _Contents:
    """``rows`` are incidents or ``(id, sensitivity, municipality_id)`` tuples."""
    triples = [row[:3] if isinstance(row, tuple) else (row.pk, row.sensitivity, row.municipality_id) for row in rows]
    police = sorted(pk for pk, sensitivity, _m in triples if sensitivity == Sensitivity.POLICE_RESTRICTED)
    municipalities = {m for _pk, _s, m in triples}
    single = next(iter(municipalities)) if len(municipalities) == 1 else None
    return _Contents(len(triples), len(police), police[:MAX_IDS], single)


def _queryset_contents(queryset: QuerySet[Incident]) -> _Contents:
    """The same for a queryset, counted in one query (and one more for the ids when there are police-only ones)."""
    police = Q(sensitivity=Sensitivity.POLICE_RESTRICTED)
    totals = queryset.aggregate(
        rows=Count("pk"), restricted=Count("pk", filter=police), low=Min("municipality_id"), high=Max("municipality_id")
    )
    ids: list[int] = []
    if totals["restricted"]:
        ids = list(queryset.filter(police).order_by("pk").values_list("pk", flat=True)[:MAX_IDS])
    single = totals["low"] if totals["low"] == totals["high"] else None
    return _Contents(totals["rows"], totals["restricted"], ids, single)


def record_restricted_read(request: HttpRequest, incident: Incident) -> AuditEvent | None:
    """A police-only report was shown to the user (a page or an API answer); other reports leave no trace."""
    if incident.sensitivity != Sensitivity.POLICE_RESTRICTED:
        return None
    return record(
        AuditAction.RESTRICTED_READ,
        obj=incident,
        request=request,
        organisation_ids=[incident.source_organisation_id],
        restricted=True,
        details={"view": _view_name(request)},
    )


def record_restricted_list(request: HttpRequest, rows: Iterable[Any]) -> AuditEvent | None:
    """One event for a list or API page that showed police-only reports: how many, and which (up to ``MAX_IDS``).
    ``rows`` are incidents or ``(id, sensitivity, municipality_id)`` tuples; a page without such reports leaves no
    trace."""
    police = _rows_contents(
        row for row in rows if (row[1] if isinstance(row, tuple) else row.sensitivity) == Sensitivity.POLICE_RESTRICTED
    )
    if not police.rows:
        return None
    return record(
        AuditAction.RESTRICTED_LIST,
        request=request,
        object_type="incident",
        municipality_id=police.municipality_id,
        restricted=True,
        details={
            "view": _view_name(request),
            "count": police.restricted,
            "ids": police.restricted_ids,
            "filters": safe_filters(request.GET),
        },
    )


def record_export(
    request: HttpRequest | None,
    *,
    kind: str,
    queryset: QuerySet[Incident] | None = None,
    rows: Iterable[Any] | None = None,
    obj: Any = None,
    restricted: bool = False,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An export left the system: its kind, filters and number of rows, and the police-only reports in it.

    The reports are given as the export's ``queryset`` (counted here before it streams) or as the ``rows`` it
    wrote (incidents or ``(id, sensitivity, municipality_id)``); a document about one object (a PDF) gives ``obj``
    and says whether it holds police-only data.
    """
    info: dict[str, Any] = {"kind": kind, "filters": safe_filters(request.GET) if request is not None else {}}
    contents = None
    if queryset is not None:
        contents = _queryset_contents(queryset)
    elif rows is not None:
        contents = _rows_contents(rows)
    if contents is not None:
        info["rows"] = contents.rows
        info["restricted_rows"] = contents.restricted
        if contents.restricted_ids:
            info["restricted_ids"] = contents.restricted_ids
        restricted = restricted or contents.restricted > 0
    info.update(details or {})
    return record(
        AuditAction.EXPORT,
        obj=obj,
        request=request,
        municipality_id=contents.municipality_id if contents is not None else None,
        restricted=restricted,
        details=info,
    )


def record_import(
    *, kind: str, counts: Mapping[str, Any], via: str, obj: Any = None, actor: Any = _FROM_REQUEST
) -> AuditEvent:
    """One event for a committed import (importers write with their own SQL, so no per-report events): the kind,
    the counts of the summary and ``via`` (``web`` or ``command``)."""
    numbers = {k: counts[k] for k in ("total", "created", "updated", "unchanged", "rejected")}
    details = {"kind": kind, "via": via, **numbers}
    return record(AuditAction.IMPORT_COMMITTED, obj=obj, actor=actor, details=details)
