"""Gallring (retention) of raw import data: what came in from outside is kept only as long as it is needed.

After ``SAMVERKAN_IMPORT_RAW_RETENTION_DAYS`` days:

* **Imports** (``ImportRecord``, by when they were started): the uploaded file, its attachments (a mapping file) and
  the file of rejected rows are deleted, and the rows' contents go from the record — the error list quotes cell
  values, and a crash's traceback may too. The record keeps its file name, kind, status, times and counts.
  Files in the upload folder that no record names any more are deleted by the same age (their modification time).
* **Police events** (``PolisenEvent``, by when they were last imported): the raw JSON and the summary text go; the
  name, type, place and time stay. The report made from an event is not touched here: it has its own period.
* **Public requests** (Open311 and the public form, ``PublicRequest``, by when they were moderated): contact details
  are never stored (see ``models_open311``); what a citizen left is the description and the pin. The moderators'
  note goes after the period. A rejected request then also loses its description and its moderator, and its pin is
  coarsened like a report's; an accepted one keeps them as long as its report does — until the report is
  anonymised (or gone), since the public Open311 answer shows the report's text and place. Requests still waiting
  for moderation are never touched.

Reports themselves are never deleted here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from samverkan.imports.models import ImportRecord, PolisenEvent, PublicRequest
from samverkan.imports.models_open311 import PublicRequestStatus
from samverkan.imports.services import upload_dir
from samverkan.incidents.retention import places_coarsen
from samverkan.places.geo import to_sweref

DEFAULT_BATCH_SIZE = 500
# Keys of an import's summary that hold the rows' contents rather than counts.
_SUMMARY_ROW_KEYS = ("errors", "traceback")
# A pin within this many degrees (about a centimetre) of its cell's centre has been coarsened already.
_SNAPPED_DEGREES = 1e-7


def raw_cutoff(*, now: dt.datetime, days: int | None = None) -> dt.datetime:
    """Raw data written before this moment is due (``SAMVERKAN_IMPORT_RAW_RETENTION_DAYS`` before ``now``)."""
    return now - dt.timedelta(days=settings.SAMVERKAN_IMPORT_RAW_RETENTION_DAYS if days is None else days)


@dataclass
class RawDataSummary:
    """What a run deleted (or, on a dry run, would)."""

    applied: bool
    import_records: int = 0
    files: int = 0
    file_bytes: int = 0
    polisen_events: int = 0
    public_requests: int = 0

    @property
    def total(self) -> int:
        return self.import_records + self.files + self.polisen_events + self.public_requests


# --- selection (reads only) ------------------------------------------------------------------------------------------


def import_records_due(*, cutoff: dt.datetime) -> QuerySet[ImportRecord]:
    """Imports started before ``cutoff`` that still hold a stored file or the contents of rows."""
    holds_rows = ~Q(stored_path="") | ~Q(errors=[])
    for key in _SUMMARY_ROW_KEYS:
        holds_rows |= Q(summary__has_key=key)
    return ImportRecord.objects.filter(created_at__lt=cutoff).filter(holds_rows)


def polisen_events_due(*, cutoff: dt.datetime) -> QuerySet[PolisenEvent]:
    """Police events last imported before ``cutoff`` that still keep their raw JSON or summary text."""
    return PolisenEvent.objects.filter(updated_at__lt=cutoff).filter(~Q(raw={}) | ~Q(summary=""))


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def import_record_files(record: ImportRecord, folder: Path) -> list[Path]:
    """The files of an import that lie in the upload folder: never a file elsewhere, such as one a command-line
    import read where the user keeps it."""
    named = [record.stored_path]
    named += [value for value in (record.options or {}).values() if isinstance(value, str)]
    extra = (record.summary or {}).get("extra")
    if isinstance(extra, dict) and isinstance(extra.get("rejects_path"), str):
        named.append(extra["rejects_path"])
    return [Path(name) for name in named if name and _inside(Path(name), folder)]


def stray_upload_files(*, cutoff: dt.datetime, folder: Path, named: set[Path]) -> list[Path]:
    """Files in the upload folder last written before ``cutoff`` that no import names (an upload whose record was
    never created or has been deleted)."""
    if not folder.is_dir():
        return []
    limit = cutoff.timestamp()
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.resolve() not in named and path.stat().st_mtime < limit
    )


@dataclass(frozen=True)
class _RequestChange:
    pk: int
    values: dict[str, Any]


def _public_request_changes(*, cutoff: dt.datetime) -> list[_RequestChange]:
    """What to clear on each request moderated before ``cutoff``; only requests with something left to clear."""
    report_gone = Q(incident__isnull=True) | Q(incident__anonymised_at__isnull=False)
    whole = Q(status=PublicRequestStatus.REJECTED) | (Q(status=PublicRequestStatus.ACCEPTED) & report_gone)
    rows = list(
        PublicRequest.objects.filter(
            status__in=[PublicRequestStatus.ACCEPTED, PublicRequestStatus.REJECTED], moderated_at__lt=cutoff
        )
        .filter(~Q(note="") | whole)
        .annotate(whole=Case(When(whole, then=Value(True)), default=Value(False), output_field=BooleanField()))
        .values("pk", "whole", "lat", "lon", "note", "description", "personal_data_flags", "moderated_by_id")
        .order_by("pk")
    )
    cleared = [r for r in rows if r["whole"]]
    coarse: dict[int, tuple[float, float]] = {}
    if cleared:
        x, y = to_sweref([r["lon"] for r in cleared], [r["lat"] for r in cleared])
        places = places_coarsen(x, y)
        coarse = {r["pk"]: (float(places.lat[i]), float(places.lon[i])) for i, r in enumerate(cleared)}
    changes = []
    for r in rows:
        values: dict[str, Any] = {}
        if r["note"]:
            values["note"] = ""
        if r["whole"]:
            if r["description"]:
                values["description"] = ""
            if r["personal_data_flags"]:
                values["personal_data_flags"] = []
            if r["moderated_by_id"] is not None:
                values["moderated_by"] = None
            lat, lon = coarse[r["pk"]]
            if not np.allclose((lat, lon), (r["lat"], r["lon"]), rtol=0, atol=_SNAPPED_DEGREES):
                values.update(lat=lat, lon=lon)
        if values:
            changes.append(_RequestChange(r["pk"], values))
    return changes


# --- writes ----------------------------------------------------------------------------------------------------------


def _delete(path: Path) -> int | None:
    """Delete a file and return its size; None when it was gone already (a run interrupted after deleting it)."""
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return None
    return size


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _record_without_rows(record: ImportRecord, files: list[Path]) -> dict:
    file_names = {str(path) for path in files}
    options = {k: v for k, v in (record.options or {}).items() if not (isinstance(v, str) and v in file_names)}
    summary = {k: v for k, v in (record.summary or {}).items() if k not in _SUMMARY_ROW_KEYS}
    if isinstance(summary.get("extra"), dict):
        summary["extra"] = {k: v for k, v in summary["extra"].items() if k != "rejects_path"}
    return {"stored_path": "", "errors": [], "options": options, "summary": summary}


def import_raw_data_delete(
    *, now: dt.datetime | None = None, apply: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> RawDataSummary:
    """Delete the raw import data older than its period; without ``apply`` only count it (a dry run writes nothing).

    Files are deleted before their record is updated, so an interruption leaves at worst a record naming a file that
    is gone, which the next run completes. A run after a complete one finds nothing to do.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    cutoff = raw_cutoff(now=now)
    summary = RawDataSummary(applied=apply)
    folder = upload_dir()

    named: set[Path] = set()
    for record in ImportRecord.objects.exclude(stored_path="").only("stored_path", "options", "summary").iterator():
        named.update(path.resolve() for path in import_record_files(record, folder))

    for record in import_records_due(cutoff=cutoff).order_by("pk").iterator():
        files = import_record_files(record, folder)
        for path in files:
            size = _delete(path) if apply else _size(path)
            if size is not None:
                summary.files += 1
                summary.file_bytes += size
        if apply:
            ImportRecord.objects.filter(pk=record.pk).update(**_record_without_rows(record, files))
        summary.import_records += 1

    for path in stray_upload_files(cutoff=cutoff, folder=folder, named=named):
        size = _delete(path) if apply else _size(path)
        if size is not None:
            summary.files += 1
            summary.file_bytes += size

    events = polisen_events_due(cutoff=cutoff)
    if not apply:
        summary.polisen_events = events.count()
    else:
        last_id = 0
        while ids := list(events.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                summary.polisen_events += PolisenEvent.objects.filter(pk__in=ids).update(raw={}, summary="")
            last_id = ids[-1]

    changes = _public_request_changes(cutoff=cutoff)
    summary.public_requests = len(changes)
    if apply:
        for start in range(0, len(changes), batch_size):
            with transaction.atomic():
                for change in changes[start : start + batch_size]:
                    PublicRequest.objects.filter(pk=change.pk).update(**change.values)
    return summary
