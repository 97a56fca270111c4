"""The checksum chain of the audit log, as plain functions of plain values (no database).

Each event's ``hash`` is SHA-256 over the previous event's hash followed by a canonical JSON of the event's own
fields, so changing, removing or reordering any event breaks every link after it. The same functions verify the
table and an exported file, which is why the canonical form is built from exactly the values an export carries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# The ``prev_hash`` of the first event.
GENESIS = "0" * 64

# The fields that the hash covers, in the order an export writes them (``prev_hash`` and ``hash`` follow).
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "actor_organisation_ids",
    "action",
    "object_type",
    "object_id",
    "municipality_id",
    "organisation_ids",
    "restricted",
    "details",
    "client_address",
)


def timestamp(moment: dt.datetime) -> str:
    """UTC with microseconds: both databases keep microseconds, so the text survives a round trip exactly."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of one event given the previous hash and the event's fields (``HASHED_FIELDS``, export form)."""
    missing = [name for name in HASHED_FIELDS if name not in fields]
    if missing:
        raise ValueError(f"missing fields: {', '.join(missing)}")
    payload = prev_hash + canonical_json({name: fields[name] for name in HASHED_FIELDS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    """Where a chain is broken: the position in the input (1-based line or row), the event's number and why."""

    position: int
    seq: int | None
    reason: str


def verify(events: Iterable[Mapping[str, Any]], *, whole_chain: bool) -> Iterator[Break]:
    """The breaks in a run of events (export form: ``HASHED_FIELDS`` plus ``prev_hash`` and ``hash``).

    Every event's hash is recomputed. Links are checked between consecutive events whose numbers are consecutive;
    a filtered export skips numbers, and there the link cannot be checked. With ``whole_chain`` the events must be
    the whole table: numbered 1, 2, 3 … without gaps, the first linked to ``GENESIS``.
    """
    previous: Mapping[str, Any] | None = None
    for position, event in enumerate(events, start=1):
        seq = event.get("seq")
        try:
            matches = event_hash(str(event["prev_hash"]), event) == event["hash"]
        except (KeyError, ValueError, TypeError) as exc:
            yield Break(position, seq if isinstance(seq, int) else None, f"unreadable event: {exc}")
            previous = None
            continue
        if not matches:
            yield Break(position, seq, "the hash does not match the event's content")
        previous_seq = previous.get("seq") if previous is not None else None
        if whole_chain:
            want_seq = previous_seq + 1 if isinstance(previous_seq, int) else 1
            want_prev = previous["hash"] if previous is not None else GENESIS
            if seq != want_seq:
                yield Break(position, seq, f"event number {seq} where {want_seq} was expected (missing events)")
            elif event["prev_hash"] != want_prev:
                yield Break(position, seq, "not linked to the previous event")
        elif isinstance(seq, int) and isinstance(previous_seq, int):
            if seq <= previous_seq:
                yield Break(position, seq, "events out of order")
            elif seq == previous_seq + 1 and event["prev_hash"] != previous["hash"]:
                yield Break(position, seq, "not linked to the previous event")
        previous = event
