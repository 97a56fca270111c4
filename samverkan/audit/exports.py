"""The audit log as JSON Lines and CSV, oldest first, each event with its ``prev_hash`` and ``hash``.

A JSON Lines export can be verified on its own (``samverkan audit_verify --file``): every line carries exactly the
fields its hash covers. The CSV is the same table for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from samverkan.audit import chain
from samverkan.audit.models import AuditEvent
from samverkan.imports.exports import neutralise_formula

COLUMNS = (*chain.HASHED_FIELDS, "prev_hash", "hash")
CHUNK_SIZE = 2000


def events_in_order(queryset: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    return queryset.order_by("seq").iterator(chunk_size=CHUNK_SIZE)


def jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[bytes]:
    for event in events:
        yield (json.dumps(event.export_row(), ensure_ascii=False) + "\n").encode("utf-8")


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str):
        return neutralise_formula(value)
    return "" if value is None else value


def csv_chunks(events: Iterable[AuditEvent]) -> Iterator[bytes]:
    """UTF-8 with a byte order mark and ``;`` between fields, as Excel in Sweden expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    rows = 0
    for event in events:
        row = event.export_row()
        writer.writerow([_cell(row[name]) for name in COLUMNS])
        rows += 1
        if rows % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The events of an exported file, one a line; a line that is not a JSON object becomes an empty event, which
    verification reports as unreadable at that line."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                value = {}
            yield value if isinstance(value, dict) else {}
