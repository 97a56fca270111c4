"""The police's open events (https://polisen.se/api/events): read, check, resolve the kommun, upsert.

The police publish the latest few hundred events; each has an id, a publication time, a name ("9 augusti 18.24,
Trafikolycka, Ystad"), a short summary, a type and a location whose ``gps`` is the centre of the kommun or county,
never the spot. Events are edited after publication (type, name, location), so they are upserted by id, and the raw
JSON is kept in :class:`PolisenEvent` to tell an edit from a repeat.

Each event that resolves to a kommun also becomes an :class:`Incident` of municipality precision (source "polisen",
external id = the police's id). Such points feed counts and trends but never hotspot maps, KDE or Gi*, and no area is
assigned. Police-published text is public and needs no review, so these reports are "reviewed" from the start —
unless the screening finds personal data in the summary (the police sometimes publish phone numbers), in which case
they wait as "new" for a reviewer to redact, like every other report.

Reading is ``decode_events`` (bytes → objects: a JSON array as the API serves it, or JSON Lines, either of them
optionally gzipped, recognised by its magic bytes), checking is ``check_event``, and ``polisen_import`` does both and
writes everything in one transaction — or nothing, on any error or on a dry run. ``polisen_fetch`` asks the API
politely (a User-Agent with a contact, at most one request a minute) and imports the answer the same way.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import re
import urllib.request
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from samverkan.imports.base import ImportFailed, ImportSummary, Progress, RowError, no_progress
from samverkan.imports.models import ImportKind, ImportRecord, ImportStatus, PolisenEvent
from samverkan.imports.polisen_types import MAPPING_VERSION, MUNICIPALITY_GPS, category_for, is_summary
from samverkan.incidents.models import Category, Incident, Precision, Sensitivity, Source, Status
from samverkan.incidents.screening import screen
from samverkan.places.geo import in_sweden, to_sweref
from samverkan.places.models import Municipality
from samverkan.situation.services import daily_counts_rebuild

API_URL = "https://polisen.se/api/events"
# The fields the API serves. Files may carry more (an archive adds when it saw the event); only these decide
# whether an event has changed, so an archived copy and the live API agree on what is "unchanged".
API_FIELDS = ("id", "datetime", "name", "summary", "url", "type", "location")
MIN_FETCH_INTERVAL = 60  # seconds: at most one request a minute
FETCH_TIMEOUT = 30.0
MAX_RESPONSE_BYTES = 50 * 1024 * 1024

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("januari", "jan"),
            ("februari", "feb"),
            ("mars", "mar"),
            ("april", "apr"),
            ("maj",),
            ("juni", "jun"),
            ("juli", "jul"),
            ("augusti", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

# "2026-08-22 9:48:12 +02:00": the hour is not zero-padded. ISO 8601 with "T" or "Z" is accepted as well.
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?\s*(?:([+-])(\d{2}):?(\d{2})|Z)", re.ASCII
)
# The start of the name: "9 augusti 18.24" or "26 september 14:21" (":" until November 2023, "." since).
_NAME_TIME = re.compile(r"\s*(\d{1,2})\s+([^\W\d_]+)\s+(\d{1,2})[.:](\d{2})(?!\d)")

_MAX_LENGTHS = {"name": 500, "type": 200, "location.name": 200, "url": 500}
# A location that names a county ("… län") is stored as the county, in a shorter column.
_COUNTY_MAX = 100
_CHUNK = 900  # ids per IN list: below SQLite's default limit of 999 parameters a query
_WRITE_BATCH = 2000  # rows per progress step


# --- reading ----------------------------------------------------------------------------------------------------------


def _fail(message: str, row: int | None = None) -> ImportFailed:
    return ImportFailed([RowError(row, None, message)])


def decode_events(data: bytes) -> list[tuple[int, Any]]:
    """The events in ``data`` as ``(row, value)`` pairs, where row is the position in a JSON array (1 = first event)
    or the line number in JSON Lines. Raises :class:`ImportFailed` for a broken gzip stream, an empty file, text that
    is not UTF-8, and JSON that does not parse (naming the line and the position) or nests too deeply."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise _fail("Den gzip-packade filen är trasig eller avkortad och kan inte packas upp.") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail("Filen är kodad som UTF-16. Spara den som UTF-8 och försök igen.")
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise _fail("Filen är tom: den innehåller inga händelser.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise _fail(
            f"filen är inte kodad som UTF-8 (otillåten byte 0x{data[exc.start]:02x} vid tecken {column}). "
            "Spara filen som UTF-8 och försök igen.",
            row=line,
        ) from None
    if text.lstrip().startswith("["):
        try:
            value = _loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(_json_message(exc), row=exc.lineno) from None
        except RecursionError:
            raise _fail(_TOO_DEEP) from None
        return list(enumerate(value, start=1))
    return _json_lines(text)


def _json_lines(text: str) -> list[tuple[int, Any]]:
    events: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            events.append((lineno, _loads(line)))
        except json.JSONDecodeError as exc:
            message = _json_message(exc)
            if not events and not errors:
                message += " Filen ska vara en JSON-lista ([…]) eller JSON Lines (ett JSON-objekt per rad)."
            errors.append(RowError(lineno, None, message))
        except RecursionError:
            errors.append(RowError(lineno, None, _TOO_DEEP))
    if errors:
        raise ImportFailed(errors)
    return events


_TOO_DEEP = "JSON-värdet är för djupt nästlat (listor eller objekt i hundratals nivåer) för att vara en händelse."


class _NotStorable:
    """A number the JSON parser read but the database cannot store as JSON (NaN, Infinity, 1e999, a number of
    thousands of digits); :func:`_unstorable` reports it with the event's row and the field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 30 else f"{text[:12]}…({len(text)} tecken)"


def _parse_float(text: str) -> float | _NotStorable:
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else _NotStorable(text)


def _parse_int(text: str) -> int | _NotStorable:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return _NotStorable(text)


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_NotStorable)


_JSON_MESSAGES = {
    "Expecting value": "ett värde saknas",
    "Expecting ',' delimiter": "ett kommatecken saknas",
    "Expecting ':' delimiter": "ett kolon saknas",
    "Expecting property name enclosed in double quotes": "ett fältnamn inom citattecken saknas",
    "Unterminated string starting at": "en textsträng avslutas aldrig",
    "Invalid control character at": "otillåtet styrtecken i en textsträng",
    "Invalid \\escape": "ogiltig \\-sekvens i en textsträng",
    "Invalid \\uXXXX escape": "ogiltig \\u-sekvens i en textsträng",
    "Extra data": "det finns mer text efter JSON-värdet",
}


def _json_message(exc: json.JSONDecodeError) -> str:
    what = _JSON_MESSAGES.get(exc.msg, "tecknet passar inte in")
    message = f"ogiltig JSON vid tecken {exc.colno}: {what}."
    # The text ends inside a string or right where more was expected: typical of a cut-off download.
    if exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string"):
        message += " Texten tar slut mitt i en händelse – är filen avkortad?"
    return message


# --- checking ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class EventData:
    """One checked event: the raw object and what was read from it."""

    row: int
    event_id: int
    raw: dict[str, Any]
    published_at: dt.datetime
    occurred_from: dt.datetime
    # False when the time in the name could not be read and the publication time stands in for it.
    time_from_name: bool
    name: str
    summary: str
    url: str
    type: str
    location_name: str
    place: str  # the text after the last comma of the name: the kommun, since 2026 mostly where location is the county
    gps: tuple[float, float] | None


_OFFSETS: dict[tuple[str, str, str], dt.tzinfo] = {}
# Publication times outside these bounds are typing errors; they would also overflow date arithmetic at year 1 or 9999.
_EARLIEST_PUBLISHED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_CLOCK_SKEW = dt.timedelta(days=1)


def parse_published(value: str) -> dt.datetime | None:
    """``"2026-08-22 9:48:12 +02:00"`` → an aware datetime; None when it is not such a time."""
    match = _DATETIME.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    key = (sign or "+", off_h or "00", off_m or "00")
    tz = _OFFSETS.get(key)
    if tz is None:
        if int(key[1]) > 14 or int(key[2]) > 59:
            return None
        delta = dt.timedelta(hours=int(key[1]), minutes=int(key[2]))
        tz = _OFFSETS[key] = dt.timezone(-delta if key[0] == "-" else delta)
    try:
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    except ValueError:
        return None


def time_from_name(name: str, published_at: dt.datetime) -> dt.datetime | None:
    """The local time at the start of the name ("9 augusti 18.24"), in the year that puts it nearest to the
    publication: an event published on 1 January about "31 december 23.50" happened the year before, and a notice
    published in December about "2 januari" is for the year after. None when the name has no readable time."""
    match = _NAME_TIME.match(name)
    if match is None:
        return None
    month = MONTHS.get(match[2].casefold())
    if month is None:
        return None
    day, hour, minute = int(match[1]), int(match[3]), int(match[4])
    year = published_at.astimezone(STOCKHOLM).year
    best = None
    for candidate_year in (year, year - 1, year + 1):
        try:
            candidate = dt.datetime(candidate_year, month, day, hour, minute, tzinfo=STOCKHOLM)
        except ValueError:
            continue
        if best is None or abs(candidate - published_at) < abs(best - published_at):
            best = candidate
    return best


def _gps(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, str):
        return None
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        return None
    return (lat, lon) if in_sweden(lon, lat) else None


def _text(
    obj: dict[str, Any], key: str, row: int, errors: list[RowError], *, required: bool, label: str | None = None
) -> str:
    label = label or key
    value = obj.get(key)
    if value is None:
        if required:
            errors.append(RowError(row, label, "saknas."))
        return ""
    if not isinstance(value, str):
        errors.append(RowError(row, label, f"ska vara text, inte {json.dumps(value, ensure_ascii=False)[:60]}."))
        return ""
    if required and not value.strip():
        errors.append(RowError(row, label, "är tomt."))
    limit = _MAX_LENGTHS.get(label)
    if limit is not None and len(value) > limit:
        errors.append(RowError(row, label, f"är för långt ({len(value)} tecken, högst {limit})."))
    return value


# Nesting of a real event: the event, its location. Deeper values are refused before they reach the database.
_MAX_DEPTH = 20
# Characters no database text or JSON column takes: NUL and halves of surrogate pairs ("\\ud800" in the JSON).
_UNSTORABLE_CHARACTER = re.compile(r"[\x00\ud800-\udfff]")


def _unstorable(row: int, obj: Any) -> RowError | None:
    """The first value of an event that cannot be stored as it is, named by its path ("location.gps", "x[2]").

    Walks without recursion: the parser accepts nesting far deeper than Python's recursion limit."""
    stack: list[tuple[str, Any, int]] = [("", obj, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return RowError(row, path or None, f"är för djupt nästlat (högst {_MAX_DEPTH} nivåer).")
        if isinstance(value, _NotStorable):
            return RowError(row, path or None, f"talet {value.text} kan inte sparas (inget ändligt JSON-tal).")
        if isinstance(value, str):
            if match := _UNSTORABLE_CHARACTER.search(value):
                return RowError(row, path or None, _character_message(match[0]))
        elif isinstance(value, dict):
            for key, item in value.items():
                if match := _UNSTORABLE_CHARACTER.search(key):
                    return RowError(row, path or None, f"ett fältnamn {_character_message(match[0])}")
                stack.append((f"{path}.{key}" if path else key, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return None


def _character_message(character: str) -> str:
    if character == "\x00":
        return "innehåller ett nolltecken (\\u0000), som inte kan sparas."
    return f"innehåller ett ogiltigt tecken (\\u{ord(character):04x}, ett ensamt surrogattecken), som inte kan sparas."


def check_event(row: int, obj: Any) -> tuple[EventData | None, list[RowError]]:
    """Check one event object; returns it read, or the errors (field names as in the JSON)."""
    if not isinstance(obj, dict):
        return None, [RowError(row, None, "händelsen ska vara ett JSON-objekt ({…}).")]
    if (error := _unstorable(row, obj)) is not None:
        return None, [error]
    errors: list[RowError] = []
    event_id = obj.get("id")
    if isinstance(event_id, str) and event_id.strip().isascii() and event_id.strip().isdigit():
        event_id = int(event_id)
    if event_id is None:
        errors.append(RowError(row, "id", "saknas."))
    elif isinstance(event_id, bool) or not isinstance(event_id, int) or not 0 < event_id < 2**63:
        errors.append(RowError(row, "id", f"ska vara ett positivt heltal, inte {json.dumps(event_id)[:40]}."))
    published_text = _text(obj, "datetime", row, errors, required=True)
    published_at = None
    if published_text.strip():
        published_at = parse_published(published_text)
        if published_at is None:
            errors.append(
                RowError(row, "datetime", f"{published_text!r} är ingen tid; väntade t.ex. 2026-08-22 9:48:12 +02:00.")
            )
        elif published_at < _EARLIEST_PUBLISHED:
            errors.append(RowError(row, "datetime", f"{published_text!r} ligger före 1970."))
        elif published_at > timezone.now() + _CLOCK_SKEW:
            errors.append(RowError(row, "datetime", f"{published_text!r} ligger i framtiden."))
    name = _text(obj, "name", row, errors, required=True)
    type_ = _text(obj, "type", row, errors, required=True)
    summary = _text(obj, "summary", row, errors, required=False)
    url = _text(obj, "url", row, errors, required=False)
    location = obj.get("location")
    location_name = ""
    if location is None:
        errors.append(RowError(row, "location", "saknas."))
    elif not isinstance(location, dict):
        errors.append(RowError(row, "location", "ska vara ett objekt med name och gps."))
    else:
        location_name = _text(location, "name", row, errors, required=True, label="location.name")
        if len(location_name.strip()) > _COUNTY_MAX and place_key(location_name).endswith(" län"):
            errors.append(
                RowError(
                    row,
                    "location.name",
                    f"är för långt för ett län ({len(location_name)} tecken, högst {_COUNTY_MAX}).",
                )
            )
    if errors:
        if isinstance(event_id, int) and not isinstance(event_id, bool):
            errors = [RowError(e.row, e.field, f"{e.message} (händelse {event_id})") for e in errors]
        return None, errors
    assert published_at is not None and isinstance(event_id, int)
    occurred = time_from_name(name, published_at)
    return (
        EventData(
            row=row,
            event_id=event_id,
            raw=obj,
            published_at=published_at,
            occurred_from=occurred or published_at,
            time_from_name=occurred is not None,
            name=name.strip(),
            summary=summary.strip(),
            url=url.strip(),
            type=type_.strip(),
            location_name=location_name.strip(),
            place=name.rsplit(",", 1)[1].strip() if "," in name else "",
            gps=_gps(location.get("gps")),  # type: ignore[union-attr]
        ),
        [],
    )


# --- where: kommun or county ----------------------------------------------------------------------------------------


class Kommun(NamedTuple):
    id: int
    code: str
    name: str
    county: str


def place_key(text: str) -> str:
    """Names compared as the police write them: case, hyphens and spacing vary ("Upplands väsby", "Dals-ed")."""
    return " ".join(text.replace("-", " ").replace("\u2013", " ").split()).casefold()


# Genitive forms that are not the name plus "s" ("Falu kommun" is Falun), and the name a kommun gives itself.
_ALIASES = {"falu": "falun", "region gotland": "gotland"}


@dataclass
class Places:
    """The 290 kommuner and 21 counties, for resolving the police's place names."""

    by_key: dict[str, Kommun]
    by_code: dict[str, Kommun]
    counties: dict[str, str]  # place_key → the county's name
    sole_kommun: dict[str, Kommun]  # counties with a single kommun (Gotlands län): county level is that kommun

    @classmethod
    def load(cls) -> Places:
        kommuner = [Kommun(*row) for row in Municipality.objects.values_list("id", "code", "name", "county")]
        per_county: dict[str, list[Kommun]] = {}
        for k in kommuner:
            if k.county:
                per_county.setdefault(k.county, []).append(k)
        return cls(
            by_key={place_key(k.name): k for k in kommuner},
            by_code={k.code: k for k in kommuner},
            counties={place_key(c): c for c in per_county},
            sole_kommun={c: ks[0] for c, ks in per_county.items() if len(ks) == 1},
        )

    def kommun(self, text: str) -> Kommun | None:
        """The kommun named by ``text``: its name in any casing, its SCB code, or "Ystads kommun", "Ystad kommun",
        "Göteborgs stad", "Region Gotland"."""
        key = place_key(text)
        if not key:
            return None
        if key in self.by_code:
            return self.by_code[key]
        bases = [key]
        for suffix in (" kommun", " stad"):
            if key.endswith(suffix):
                bases.append(key.removesuffix(suffix).rstrip())
        bases += [b[:-1] for b in bases if b.endswith("s")]
        for base in bases:
            base = _ALIASES.get(base, base)
            if base in self.by_key:
                return self.by_key[base]
        return None

    def county(self, text: str) -> str | None:
        key = place_key(text)
        if key in self.counties:
            return self.counties[key]
        return text.strip() if key.endswith(" län") else None

    def resolve(self, location_name: str, place: str) -> tuple[Kommun | None, str]:
        """(kommun or None, county) of an event: the kommun in ``location.name``; or, when that is a county, the
        kommun after the last comma of the name if it lies in that county."""
        county = self.county(location_name)
        if county is None:
            kommun = self.kommun(location_name) or self.kommun(place)
            return kommun, kommun.county if kommun else ""
        kommun = self.kommun(place)
        if kommun is not None and kommun.county != county:
            kommun = None
        if kommun is None:
            kommun = self.sole_kommun.get(county)
        return kommun, county


# --- the import -------------------------------------------------------------------------------------------------------


class _Stored(NamedTuple):
    pk: int
    raw: dict[str, Any]


class _Existing(NamedTuple):
    pk: int
    status: str
    municipality_id: int


@dataclass
class _Plan:
    """What one event comes to."""

    event: EventData
    kommun: Kommun | None
    county: str
    category_id: int | None  # None: no report
    coordinates: tuple[float, float] | None
    stored: _Stored | None


@dataclass
class _Counts:
    county_level: int = 0
    summaries: int = 0
    notices: int = 0
    skipped: int = 0
    time_from_published: int = 0
    duplicates: int = 0
    without_coordinates: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0
    incidents_deleted: int = 0
    incidents_moved: int = 0
    flagged: int = 0
    unknown_types: Counter[str] = field(default_factory=Counter)


def _api_view(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: raw.get(key) for key in API_FIELDS}


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


class _Categories:
    """The shared categories by code, picking the version valid on the day."""

    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[dt.date, dt.date | None, int]]] = {}
        rows = Category.objects.filter(municipality__isnull=True).values_list("code", "valid_from", "valid_to", "id")
        for code, valid_from, valid_to, pk in rows.order_by("valid_from"):
            self.versions.setdefault(code, []).append((valid_from, valid_to, pk))
        self.missing: set[str] = set()

    def id_for(self, code: str, day: dt.date) -> int | None:
        versions = self.versions.get(code)
        if not versions:
            self.missing.add(code)
            return None
        for valid_from, valid_to, pk in versions:
            if valid_from <= day and (valid_to is None or day < valid_to):
                return pk
        earlier = [pk for valid_from, _to, pk in versions if valid_from <= day]
        return earlier[-1] if earlier else versions[0][2]


def _resolve_filter(places: Places, names: Sequence[str]) -> tuple[set[int], set[str]]:
    kommuner, errors = [], []
    for name in names:
        kommun = places.kommun(name)
        if kommun is None:
            errors.append(RowError(None, "--municipality", f"{name!r} är ingen kommun."))
        else:
            kommuner.append(kommun)
    if errors:
        raise ImportFailed(errors)
    return {k.id for k in kommuner}, {k.county for k in kommuner}


def polisen_import(
    *,
    data: bytes,
    municipalities: Sequence[str] = (),
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Import the police's open events in ``data`` (JSON array or JSON Lines, optionally gzipped).

    ``municipalities`` (names or SCB codes) limits the import to events in those kommuner and the county-level events
    of their counties; events elsewhere are skipped and counted — except events stored before, which are still
    updated (and lose their report when they have moved out). Everything is checked before anything is written;
    any error raises :class:`ImportFailed` with all of them, having written nothing. A dry run returns the same
    summary and writes nothing.
    """
    places = Places.load()
    restrict_ids, restrict_counties = _resolve_filter(places, municipalities)
    items = decode_events(data)
    total = len(items)
    # Checking takes the first half of the bar and writing the second, so it keeps moving through both.
    half = total // 2
    progress(0, total)
    events: list[EventData] = []
    errors: list[RowError] = []
    for i, (row, obj) in enumerate(items, start=1):
        event, event_errors = check_event(row, obj)
        if event is None:
            errors.extend(event_errors)
        else:
            events.append(event)
        if i % 5000 == 0:
            progress(i * half // total, total)
    if errors:
        raise ImportFailed(errors)
    progress(half, total)

    summary = ImportSummary(kind=ImportKind.POLISEN, dry_run=dry_run, total=total)
    counts = _Counts()
    categories = _Categories()

    latest: dict[int, EventData] = {}
    for event in events:
        latest[event.event_id] = event  # a later copy of the same event wins, as the API would serve it
    counts.duplicates = len(events) - len(latest)
    events = list(latest.values())

    stored: dict[int, _Stored] = {}
    for chunk in _chunks([e.event_id for e in events]):
        for event_id, pk, raw in PolisenEvent.objects.filter(event_id__in=chunk).values_list("event_id", "pk", "raw"):
            stored[event_id] = _Stored(pk, raw)

    plans: list[_Plan] = []
    for event in events:
        kommun, county = places.resolve(event.location_name, event.place)
        in_scope = not restrict_ids or (kommun.id in restrict_ids if kommun else county in restrict_counties)
        previous = stored.get(event.event_id)
        if not in_scope and previous is None:
            counts.skipped += 1
            continue
        day = timezone.localdate(event.occurred_from)
        code, known = category_for(event.type, day)
        if not known and code is not None:
            counts.unknown_types[event.type] += 1
        if kommun is None:
            counts.county_level += 1
        if not event.time_from_name:
            counts.time_from_published += 1
        if code is None:
            if is_summary(event.type):
                counts.summaries += 1
            else:
                counts.notices += 1
        # An event whose raw text gallring has deleted ({}) is kept as it stands: importing an archived copy again
        # must not bring back text that was redacted or removed.
        if previous is not None and (not previous.raw or _api_view(previous.raw) == _api_view(event.raw)):
            summary.unchanged += 1
            continue
        coordinates = None
        if kommun is not None:
            coordinates = MUNICIPALITY_GPS.get(kommun.code)
            if coordinates is None and event.gps is not None and places.kommun(event.location_name) == kommun:
                coordinates = event.gps
        category_id = None
        if kommun is not None and code is not None and in_scope:
            if coordinates is None:
                counts.without_coordinates += 1
            else:
                category_id = categories.id_for(code, day)
        plans.append(_Plan(event, kommun, county, category_id, coordinates, previous))
    if categories.missing:
        raise ImportFailed(
            [
                RowError(None, "type", f"kategorin {code!r} finns inte. Kör 'samverkan migrate' och försök igen.")
                for code in sorted(categories.missing)
            ]
        )

    summary.created = sum(1 for p in plans if p.stored is None)
    summary.updated = len(plans) - summary.created
    _write(plans, counts, dry_run=dry_run, progress=lambda done: progress(half + done, total), span=total - half)
    progress(total, total)
    _summarise(summary, counts, restricted=bool(restrict_ids))
    return summary


# Written by the import; on update the report keeps what a reviewer may have set (sensitivity, severity, …).
_INCIDENT_COLUMNS = (
    "category_id",
    "occurred_from",
    "reported_at",
    "lat",
    "lon",
    "x",
    "y",
    "precision",
    "municipality_id",
    "description",
    "status",
    "personal_data_flags",
    "updated_at",
)
_INCIDENT_INSERT_ONLY = (
    "occurred_to",
    "police_reported",
    "source_organisation_id",
    "reporter_id",
    "sensitivity",
    "source",
    "external_id",
    "created_at",
)
_EVENT_COLUMNS = (
    "published_at",
    "name",
    "summary",
    "url",
    "type",
    "location_name",
    "county",
    "municipality_id",
    "incident_id",
    "raw",
    "updated_at",
)
_EVENT_INSERT_ONLY = ("event_id", "first_imported_at")


def _write(plans: list[_Plan], counts: _Counts, *, dry_run: bool, progress: Callable[[int], None], span: int) -> None:
    """Work out the reports of the events to create or update and write it all in one transaction (nothing on a
    dry run). ``progress`` is called with 0 … ``span`` as the writing advances."""
    existing: dict[str, _Existing] = {}
    for chunk in _chunks([str(p.event.event_id) for p in plans]):
        rows = Incident.objects.filter(source=Source.POLISEN, external_id__in=chunk).values_list(
            "external_id", "pk", "status", "municipality_id"
        )
        for external_id, pk, status, municipality_id in rows:
            existing[external_id] = _Existing(pk, status, municipality_id)

    now = timezone.now()
    with_report = [p for p in plans if p.category_id is not None]
    lat = [p.coordinates[0] for p in with_report]  # type: ignore[index]
    lon = [p.coordinates[1] for p in with_report]  # type: ignore[index]
    x, y = to_sweref(lon, lat)
    new_incidents: list[tuple[Any, ...]] = []
    changed_incidents: list[tuple[Any, ...]] = []
    for i, plan in enumerate(with_report):
        event = plan.event
        flags = [f.as_dict() for f in screen(event.summary)]
        counts.flagged += bool(flags)
        external_id = str(event.event_id)
        before = existing.get(external_id)
        if flags:
            status = Status.NEW
        elif before is not None and before.status != Status.NEW:
            status = before.status  # a reviewer may have moved it on; an edit by the police does not undo that
        else:
            status = Status.REVIEWED
        kommun_id = plan.kommun.id  # type: ignore[union-attr]
        values = (
            plan.category_id,
            event.occurred_from,
            event.published_at,
            lat[i],
            lon[i],
            float(x[i]),
            float(y[i]),
            Precision.MUNICIPALITY.value,
            kommun_id,
            event.summary,
            str(status),
            flags,
            now,
        )
        if before is None:
            new_incidents.append(
                (*values, None, True, None, None, Sensitivity.PUBLIC.value, Source.POLISEN.value, external_id, now)
            )
        else:
            changed_incidents.append((*values, before.pk))
            counts.incidents_moved += before.municipality_id != kommun_id
    wanted = {str(p.event.event_id) for p in with_report}
    doomed = [e.pk for external_id, e in existing.items() if external_id not in wanted]
    counts.incidents_created = len(new_incidents)
    counts.incidents_updated = len(changed_incidents)
    counts.incidents_deleted = len(doomed)
    if dry_run:
        return

    work = len(new_incidents) + len(changed_incidents) + len(plans)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        progress(span * done // max(work, 1))

    with transaction.atomic():
        incidents = _Statements(Incident, _INCIDENT_COLUMNS, _INCIDENT_INSERT_ONLY)
        incidents.insert(new_incidents, step)
        incidents.update(changed_incidents, step)
        incident_of = {}
        for chunk in _chunks([str(p.event.event_id) for p in with_report if str(p.event.event_id) not in existing]):
            rows = Incident.objects.filter(source=Source.POLISEN, external_id__in=chunk).values_list(
                "external_id", "pk"
            )
            incident_of.update(rows)
        for chunk in _chunks(doomed):
            try:
                Incident.objects.filter(pk__in=chunk).delete()
            except (ProtectedError, RestrictedError):
                raise _fail(
                    "En rapport från en polishändelse som inte längre hör till en kommun kan inte tas bort, eftersom "
                    "annat i Samverkan hänvisar till den. Inget sparades."
                ) from None
        new_events, changed_events = [], []
        for plan in plans:
            event = plan.event
            external_id = str(event.event_id)
            before = existing.get(external_id)
            values = (
                event.published_at,
                event.name,
                event.summary,
                event.url,
                event.type,
                event.location_name,
                plan.county,
                plan.kommun.id if plan.kommun else None,
                incident_of.get(external_id, before.pk if before and external_id in wanted else None),
                event.raw,
                now,
            )
            if plan.stored is None:
                new_events.append((*values, event.event_id, now))
            else:
                changed_events.append((*values, plan.stored.pk))
        events = _Statements(PolisenEvent, _EVENT_COLUMNS, _EVENT_INSERT_ONLY)
        events.insert(new_events, step)
        events.update(changed_events, step)
        at = _INCIDENT_COLUMNS.index("municipality_id")
        touched = {row[at] for row in new_incidents} | {row[at] for row in changed_incidents}
        touched |= {existing[str(p.event.event_id)].municipality_id for p in plans if str(p.event.event_id) in existing}
        if touched:
            daily_counts_rebuild(municipality_ids=touched)


class _Statements:
    """INSERT and UPDATE of many rows with one prepared statement each, values adapted as the ORM would.

    Django's bulk_create builds the SQL of every batch anew through the compiler, which costs more than the writing
    itself for tens of thousands of rows; executemany with a fixed statement takes a fraction of that. Columns not
    named get their field's default.
    """

    def __init__(self, model: type[Any], columns: Sequence[str], insert_only: Sequence[str]) -> None:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = {f.attname: f for f in meta.concrete_fields if not f.primary_key}
        given = [fields[c] for c in (*columns, *insert_only)]
        rest = [f for name, f in fields.items() if name not in columns and name not in insert_only]
        self.rest_values = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        self.insert_adapters = [self._adapter(f) for f in given]
        self.update_adapters = [self._adapter(fields[c]) for c in columns]
        table = quote(meta.db_table)
        names = ", ".join(quote(f.column) for f in (*given, *rest))
        self.insert_sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * (len(given) + len(rest)))})"
        self.copy_sql = f"COPY {table} ({names}) FROM STDIN"
        assignments = ", ".join(f"{quote(fields[c].column)} = %s" for c in columns)
        self.update_sql = f"UPDATE {table} SET {assignments} WHERE {quote(meta.pk.column)} = %s"

    @staticmethod
    def _adapter(f: Any) -> Callable[[Any], Any] | None:
        if f.get_internal_type() == "DateTimeField":
            return connection.ops.adapt_datetimefield_value
        if f.get_internal_type() == "JSONField":
            return lambda value: f.get_db_prep_save(value, connection)
        return None

    def _adapt(self, adapters: list[Callable[[Any], Any] | None], row: tuple[Any, ...]) -> list[Any]:
        return [value if adapt is None else adapt(value) for adapt, value in zip(adapters, row, strict=False)]

    def insert(self, rows: list[tuple[Any, ...]], step: Callable[[int], None]) -> None:
        with connection.cursor() as cursor:
            # PostgreSQL through psycopg 3: COPY, several times faster than row-by-row statements even pipelined.
            copy = getattr(cursor.cursor, "copy", None) if connection.vendor == "postgresql" else None
            for i in range(0, len(rows), _WRITE_BATCH):
                batch = [(*self._adapt(self.insert_adapters, r), *self.rest_values) for r in rows[i : i + _WRITE_BATCH]]
                if copy is not None:
                    with copy(self.copy_sql) as stream:
                        for row in batch:
                            stream.write_row(row)
                else:
                    cursor.executemany(self.insert_sql, batch)
                step(len(batch))

    def update(self, rows: list[tuple[Any, ...]], step: Callable[[int], None]) -> None:
        # Each row is the values of ``columns`` followed by the primary key.
        with connection.cursor() as cursor:
            for i in range(0, len(rows), _WRITE_BATCH):
                batch = rows[i : i + _WRITE_BATCH]
                cursor.executemany(self.update_sql, [(*self._adapt(self.update_adapters, r), r[-1]) for r in batch])
                step(len(batch))


def _summarise(summary: ImportSummary, counts: _Counts, *, restricted: bool) -> None:
    summary.unknown_types = counts.unknown_types
    summary.extra = {
        "mapping_version": MAPPING_VERSION,
        "incidents_created": counts.incidents_created,
        "incidents_updated": counts.incidents_updated,
        "incidents_deleted": counts.incidents_deleted,
        "incidents_moved": counts.incidents_moved,
        "personal_data_flagged": counts.flagged,
        "county_level": counts.county_level,
        "summaries": counts.summaries,
        "notices": counts.notices,
        "skipped_outside_municipalities": counts.skipped,
        "time_from_published": counts.time_from_published,
        "duplicates": counts.duplicates,
        "without_coordinates": counts.without_coordinates,
    }
    notes = summary.notes
    notes.append(
        f"Rapporter: {counts.incidents_created} nya, {counts.incidents_updated} ändrade, "
        f"{counts.incidents_deleted} borttagna ({counts.incidents_moved} flyttade till en annan kommun). "
        "Polisens punkt är kommunens mittpunkt: rapporterna räknas i antal och trender men aldrig i "
        "hotspotkartor."
    )
    if counts.flagged:
        notes.append(
            f"{counts.flagged} rapporter innehåller personuppgifter (t.ex. telefonnummer) och väntar på granskning."
        )
    if counts.county_level:
        notes.append(
            f"{counts.county_level} händelser kunde inte knytas till en kommun och sparades på länsnivå, utan rapport."
        )
    if counts.summaries:
        notes.append(
            f"{counts.summaries} sammanfattningar (”Sammanfattning …”) sparades utan rapport: de sammanfattar många "
            "händelser och skulle ge fel antal."
        )
    if counts.notices:
        notes.append(
            f"{counts.notices} meddelanden (”Uppdatering”, ”Information” m.fl.) sparades utan rapport: de beskriver "
            "ingen ny händelse."
        )
    if restricted:
        notes.append(f"{counts.skipped} händelser i andra kommuner hoppades över.")
    if counts.time_from_published:
        notes.append(
            f"{counts.time_from_published} händelser saknade läsbar tid i namnet; publiceringstiden användes i stället."
        )
    if counts.duplicates:
        notes.append(f"{counts.duplicates} händelser förekom flera gånger i filen; den sista förekomsten gäller.")
    if counts.without_coordinates:
        notes.append(f"{counts.without_coordinates} händelser saknar kommunens punkt och fick ingen rapport.")


# --- fetching ---------------------------------------------------------------------------------------------------------

# (url, headers, timeout in seconds) → the response body. Raises OSError (urllib's errors are OSErrors) or
# http.client.HTTPException when the request fails.
HttpGet = Callable[[str, Mapping[str, str], float], bytes]


class FetchRefused(Exception):  # noqa: N818 - reads as what happened
    """Asked again sooner than the minimum interval; no request was made."""

    def __init__(self, wait_seconds: int) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(
            f"Polisens API frågades nyss. Vänta {wait_seconds} sekunder till: vi frågar högst en gång i minuten."
        )


class FetchFailed(Exception):  # noqa: N818 - reads as what happened
    """The request failed (network, HTTP status, size); nothing was imported."""


def user_agent() -> str:
    """Names Samverkan and, when the installation has set one, whom the police can contact about the traffic."""
    try:
        version = metadata.version("samverkan")
    except metadata.PackageNotFoundError:
        version = "dev"
    contact = str(getattr(settings, "SAMVERKAN_CONTACT", "") or "").strip()
    contact = contact.encode("ascii", "replace").decode("ascii")
    return f"Samverkan/{version} ({contact})" if contact else f"Samverkan/{version}"


def urllib_get(url: str, headers: Mapping[str, str], timeout: float) -> bytes:
    request = urllib.request.Request(url, headers=dict(headers))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise OSError(f"svaret är större än {MAX_RESPONSE_BYTES // 1024 // 1024} MB")
    return body


def polisen_fetch(
    *,
    min_interval: int = MIN_FETCH_INTERVAL,
    municipalities: Sequence[str] = (),
    dry_run: bool = False,
    progress: Progress = no_progress,
    http_get: HttpGet | None = None,
) -> ImportSummary:
    """Fetch the police's current events and import them with :func:`polisen_import`.

    Every request is recorded as an :class:`ImportRecord` (kind polisen, file = the API's URL) before it is made;
    a call sooner than ``min_interval`` seconds (at least 60) after the last one raises :class:`FetchRefused`
    without a request. ``http_get`` defaults to urllib; tests pass their own.
    """
    if min_interval < MIN_FETCH_INTERVAL:
        raise ValueError(f"min_interval must be at least {MIN_FETCH_INTERVAL} seconds")
    last = ImportRecord.objects.filter(kind=ImportKind.POLISEN, filename=API_URL).order_by("-created_at").first()
    now = timezone.now()
    if last is not None:
        elapsed = (now - last.created_at).total_seconds()
        if elapsed < min_interval:
            raise FetchRefused(max(1, int(min_interval - elapsed + 0.999)))
    record = ImportRecord.objects.create(
        kind=ImportKind.POLISEN,
        filename=API_URL,
        options={"fetch": True, "municipalities": list(municipalities), "min_interval": min_interval},
        dry_run=dry_run,
        status=ImportStatus.RUNNING,
        started_at=now,
    )
    headers = {"User-Agent": user_agent(), "Accept": "application/json", "Accept-Encoding": "gzip"}
    try:
        data = (http_get or urllib_get)(API_URL, headers, FETCH_TIMEOUT)
    except (OSError, http.client.HTTPException) as exc:
        _finish(record, ImportStatus.FAILED, errors=[{"row": None, "field": None, "message": str(exc)}])
        raise FetchFailed(f"Kunde inte hämta {API_URL}: {exc}") from None
    try:
        summary = polisen_import(data=data, municipalities=municipalities, dry_run=dry_run, progress=progress)
    except ImportFailed as exc:
        _finish(
            record,
            ImportStatus.FAILED,
            errors=[{"row": e.row, "field": e.field, "message": e.message} for e in exc.errors[:1000]],
        )
        raise
    _finish(record, ImportStatus.CHECKED if dry_run else ImportStatus.DONE, summary=summary)
    return summary


def _finish(
    record: ImportRecord,
    status: str,
    *,
    summary: ImportSummary | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> None:
    record.status = status
    record.finished_at = timezone.now()
    if summary is not None:
        record.summary = summary.as_dict()
        record.total = summary.total
        record.processed = summary.total
    record.errors = errors or []
    record.save(update_fields=["status", "finished_at", "summary", "total", "processed", "errors"])
