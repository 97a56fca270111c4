"""Fuzzed importers: random and mutated police events (JSON), reports (CSV, Excel, TOML mappings) and areas (GeoJSON).

For every input an importer either returns its summary or refuses with :class:`ImportFailed`, whose errors each say
where (a row and/or a field, or the file as a whole) and why, in text that can be shown and stored; no other
exception escapes. A refusal and a dry run leave every table an import writes exactly as it was (compared row by
row, not only counted), and what a successful import wrote obeys the importer's documented rules: a point inside
its municipality's outline or its named area, the police's kommun point, areas that are valid polygons inside
Sweden with one current version per identity, area links only where the point lies, and daily counts that agree
with the reports.

The inputs start from small files that import fine and are mutated at every level: fields dropped, duplicated and
retyped, huge numbers, NaN and Infinity, NUL bytes, lone surrogates, very long strings, odd dates and times, deep
nesting, invalid or foreign geometry, coordinates outside Sweden or in the wrong system, other encodings, BOMs,
delimiters, quoting and line ends, truncation and flipped bytes; and entirely random bytes.

Each example runs in a savepoint that is rolled back, so examples do not see each other's writes. The default run
is short; ``SAMVERKAN_FUZZ_EXAMPLES=2000`` searches harder.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import gzip
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from shapely.geometry import shape

from samverkan.imports.areas import areas_import
from samverkan.imports.base import ImportFailed, ImportSummary, RowError
from samverkan.imports.mapping import load_mapping, parse_mapping
from samverkan.imports.models import ImportRecord, ImportStatus, PolisenEvent
from samverkan.imports.polisen import polisen_import
from samverkan.imports.polisen_types import MUNICIPALITY_GPS
from samverkan.imports.services import import_record_create, import_record_start
from samverkan.imports.tabular import MAX_EXTERNAL_ID, incidents_import
from samverkan.incidents.models import Incident, Precision, Source
from samverkan.places.geo import SWEDEN_LAT, SWEDEN_LON, contains_points, in_sweden, point_to_sweref
from samverkan.places.models import Area
from samverkan.situation.models import DailyCount
from samverkan.situation.services import daily_counts_rebuild
from tests.factories import YSTAD, IncidentFactory, square

# GDAL and GEOS warn about the broken geometry these tests feed them on purpose.
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio.raw"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning:shapely.io"),
]

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "polisen_events.json"
EXAMPLES = int(os.environ.get("SAMVERKAN_FUZZ_EXAMPLES") or 50)

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # The database and files are reset per example by a rolled-back savepoint and overwritten paths.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
# The browser flow runs each importer twice (check, then confirm): fewer examples keep the default run short.
fuzz_browser = settings(fuzz, max_examples=max(10, EXAMPLES // 3))

# What the importer in the browser says when it crashed instead of refusing (services.import_record_run).
CRASH_MESSAGE = "Ett oväntat fel inträffade. Inget sparades."


# --- the properties ---------------------------------------------------------------------------------------------------

WRITTEN = {
    "incidents": Incident,
    "incident areas": Incident.areas.through,
    "polisen events": PolisenEvent,
    "areas": Area,
    "daily counts": DailyCount,
    "import records": ImportRecord,
}


def snapshot(*, exclude: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table an import writes, so that an update is noticed as well as an insert."""
    return {
        name: list(model.objects.order_by("pk").values_list()) for name, model in WRITTEN.items() if name not in exclude
    }


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


def assert_clean_refusal(exc: ImportFailed) -> None:
    """The documented refusal: at least one error, each with a row number as the user sees it and/or a field name
    when it concerns one, and a message that the terminal can print and the import record can store."""
    assert exc.errors, "a refusal names at least one problem"
    for error in exc.errors:
        assert isinstance(error, RowError), error
        assert error.row is None or (type(error.row) is int and error.row >= 1), error
        assert error.field is None or (isinstance(error.field, str) and error.field.strip()), error
        assert isinstance(error.message, str) and error.message.strip(), error
        for text in (error.message, error.field or ""):
            text.encode("utf-8")  # no lone surrogates: the record (JSON) and the terminal must take it
            assert "\x00" not in text, error  # PostgreSQL refuses NUL in text and JSON
        assert "Traceback" not in error.message, error
        str(error)
    json.dumps([{"row": e.row, "field": e.field, "message": e.message} for e in exc.errors])


def assert_daily_counts_agree() -> None:
    """Baselines read the daily counts: per municipality they must add up to the reports."""
    counted = dict(
        DailyCount.objects.filter(area=None)
        .values("municipality_id")
        .annotate(n=Sum("count"))
        .values_list("municipality_id", "n")
    )
    reports = Counter(Incident.objects.values_list("municipality_id", flat=True))
    assert counted == dict(reports)


def assert_fits_columns() -> None:
    """What was written fits every database, not only the forgiving SQLite of the default run: text within its
    column's length and without NUL, integers within their column's range."""
    ranges = BaseDatabaseOperations.integer_field_ranges
    for model in (Incident, PolisenEvent, Area):
        fields = model._meta.concrete_fields
        for values in model.objects.values_list(*(f.attname for f in fields)):
            for f, value in zip(fields, values, strict=True):
                if isinstance(value, str):
                    assert "\x00" not in value, (model, f.name)
                    assert f.max_length is None or len(value) <= f.max_length, (model, f.name, len(value))
                elif isinstance(value, int) and f.get_internal_type() in ranges:
                    low, high = ranges[f.get_internal_type()]
                    assert low <= value <= high, (model, f.name, value)
                elif f.get_internal_type() == "JSONField":
                    assert "\\u0000" not in json.dumps(value), (model, f.name)


def imported_or_refused(
    run: Callable[[], ImportSummary], *, dry_run: bool, exclude: tuple[str, ...] = ()
) -> ImportSummary | None:
    """Run an import: its summary, or None after checking that the refusal is clean and wrote nothing."""
    before = snapshot(exclude=exclude)
    try:
        summary = run()
    except ImportFailed as exc:
        assert_clean_refusal(exc)
        assert snapshot(exclude=exclude) == before, "a refused import wrote something"
        return None
    assert isinstance(summary, ImportSummary)
    for error in summary.errors:  # rows set aside by --skip-invalid are listed like a refusal's
        assert_clean_refusal(ImportFailed([error]))
    if dry_run:
        assert snapshot(exclude=exclude) == before, "a dry run wrote something"
    assert_daily_counts_agree()
    assert_fits_columns()
    return summary


def regressions(*cases: dict[str, Any]) -> Callable:
    """Inputs that once crashed an importer, tried on every run before the random ones."""

    def decorate(test: Callable) -> Callable:
        for case in reversed(cases):
            test = example(**case)(test)
        return test

    return decorate


# --- building blocks of the inputs ------------------------------------------------------------------------------------

ODD_TEXTS = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "Ystad\x00",
    "\ufeff",
    "\ud800",
    "a\udfffb",
    "\u202eYstad",
    "x" * 100_000,
    "A" * 501,
    "²",
    "١٢٣",
    "１２８６",
    "0",
    "-1",
    "1e400",
    "NaN",
    "null",
    "Ystad, Simrishamn",
    ",",
    "Skåne län",
    "Gotlands län",
    "Region Gotland",
    "Okänt län",
    "Robert'); DROP TABLE incidents_incident;--",
    "Ring 070-123 45 67",
]
texts = st.one_of(st.sampled_from(ODD_TEXTS), st.text(max_size=30))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)


def containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)


json_values = st.recursive(scalars, containers, max_leaves=8)

# Raw JSON that json.dumps cannot produce, put into the text in place of a placeholder string.
RAW_FRAGMENTS = {
    "deep list": "[" * 100_000 + "]" * 100_000,
    "deep object": '{"a":' * 3000 + "1" + "}" * 3000,
    "nested 50": "[" * 50 + "]" * 50,
    "5000 digits": "9" * 5000,
    "400 digits": "-" + "9" * 400,
    "1e999": "1e999",
    "-1e999": "-1e999",
    "1.5e-400": "1.5e-400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "surrogate": '"\\ud800"',
    "surrogate inside": '"x\\udfff"',
    "NUL inside": '"a\\u0000b"',
    "NUL": '"\\u0000"',
}


def placeholder(name: str) -> str:
    return f"@@{name}@@"


def with_fragments(text: str) -> str:
    for name, fragment in RAW_FRAGMENTS.items():
        text = text.replace(json.dumps(placeholder(name)), fragment)
    return text


raw_values = st.sampled_from(sorted(RAW_FRAGMENTS)).map(placeholder)

ENCODINGS = [
    ("utf-8", "surrogatepass", b""),
    ("utf-8", "surrogatepass", b"\xef\xbb\xbf"),
    ("utf-8", "surrogatepass", b"\xef\xbb\xbf\xef\xbb\xbf"),
    ("utf-16", "surrogatepass", b""),
    ("utf-16-le", "surrogatepass", b""),
    ("utf-32", "surrogatepass", b""),
    ("cp1252", "replace", b""),
    ("latin-1", "replace", b""),
]


@st.composite
def encoded(draw, text: str) -> bytes:
    """The text in an encoding (mostly UTF-8), perhaps behind a BOM."""
    encoding, errors, prefix = draw(st.sampled_from(ENCODINGS))
    return prefix + text.encode(encoding, errors)


DAMAGES = st.tuples(
    st.sampled_from(["cut", "flip", "insert", "delete"]),
    st.floats(0, 1),
    st.integers(1, 255),
    st.sampled_from([b"\x00", b"\xff", b'"', b"\r", b"\n", b"\xc3", b"]"]),
)


@st.composite
def mangled(draw, data: bytes) -> bytes:
    """Damage as files suffer it: cut off, bytes flipped, inserted or lost. What is drawn does not depend on the
    bytes, which for an Excel file hold the time it was written."""
    for damage, where, mask, inserted in draw(st.lists(DAMAGES, max_size=2)):
        at = int(where * len(data))
        if damage == "cut":
            data = data[:at]
        elif damage == "flip" and at < len(data):
            data = data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :]
        elif damage == "insert":
            data = data[:at] + inserted + data[at:]
        elif damage == "delete":
            data = data[:at] + data[at + 1 :]
    return data


# --- police events ----------------------------------------------------------------------------------------------------

BASE_EVENTS: list[dict] = json.loads(FIXTURE.read_text(encoding="utf-8"))
EVENT_FIELDS = ["id", "datetime", "name", "summary", "url", "type", "location"]
ODD_EVENT_VALUES = {
    "id": st.one_of(
        st.integers(),
        st.sampled_from([0, -1, 2**63 - 1, 2**63, 10**30, "123", " 42 ", "²", "١٢", "12a", 1.5, 1e20, True]),
    ),
    "datetime": st.sampled_from(
        [
            "0001-01-01 0:00:00 +14:00",
            "0001-01-01 0:00:00 -14:00",
            "9999-12-31 23:59:59 -14:00",
            "9999-12-31 23:59:59 +14:00",
            "2026-02-30 10:00:00 +01:00",
            "2026-08-22T09:48:12Z",
            "2026-08-22 9:48:12.123456789 +02:00",
            "2026-08-22 9:48:12",
            "2026-08-22 24:00:00 +02:00",
            "2026-08-22 9:48:12 +15:00",
            "2026-08-22 9:48:12 +02:99",
            "1970-01-01 00:00:00 +00:00",
            "1900-01-01 00:00:00 +01:00",
            "2100-01-01 00:00:00 +01:00",
            "22/8/2026 9:48",
            "２０２６-08-22 9:48:12 +02:00",
        ]
    ),
    "name": st.sampled_from(
        [
            "31 februari 12.00, Brand, Ystad",
            "99 december 99.99, Brand, Ystad",
            "1 maj 00.00, , ",
            ",,,,",
            "9 augusti 18.24, Trafikolycka, Simrishamn",
            "9 augusti 18.24, Trafikolycka, Malmö",
            "9 augusti 18.24, Trafikolycka, Gotland",
            "9 augusti 18.24, Trafikolycka, 1286",
            "9 augusti 18.24, Trafikolycka",
            "Sammanfattning natt, Skåne län",
            "29 februari 12.00, Stöld, Ystad",
            "9 AUGUSTI 18:24, Brand, YSTAD",
        ]
    ),
    "type": st.sampled_from(
        ["Trafikolycka", "Sammanfattning natt", "Uppdatering", "Information", "Okänd typ", "Brand ", "stöld"]
    ),
    "location": st.one_of(
        st.fixed_dictionaries(
            {"name": st.sampled_from(["Ystad", "Skåne län", "Gotlands län", "Malmö", "Nowhere", "Region Gotland"])},
            optional={"gps": st.sampled_from(["55.43,13.82", "nan,nan", "inf,-inf", "1e999,1", "55.43", ",", ""])},
        ),
        json_values,
    ),
}


@st.composite
def police_event(draw) -> Any:
    event: Any = copy.deepcopy(draw(st.sampled_from(BASE_EVENTS)))
    for _ in range(draw(st.integers(0, 3))):
        change = draw(st.sampled_from(["drop", "retype", "odd", "raw", "text", "location", "whole"]))
        key = draw(st.sampled_from(EVENT_FIELDS))
        if not isinstance(event, dict):
            break
        if change == "drop":
            event.pop(key, None)
        elif change == "retype":
            event[key] = draw(json_values)
        elif change == "odd":
            event[key] = draw(ODD_EVENT_VALUES.get(key, texts))
        elif change == "raw":
            event[key] = draw(raw_values)
        elif change == "text":
            event[key] = draw(texts)
        elif change == "location":
            location = event.get("location")
            if not isinstance(location, dict):
                location = event["location"] = {}
            part = draw(st.sampled_from(["name", "gps", "extra"]))
            if draw(st.booleans()):
                location.pop(part, None)
            else:
                location[part] = draw(st.one_of(texts, json_values, raw_values))
        else:
            event = draw(json_values)
    return event


@st.composite
def police_files(draw) -> bytes:
    events = draw(st.lists(police_event(), max_size=5))
    ascii_only = draw(st.booleans())
    layout = draw(st.sampled_from(["array", "lines", "object"]))
    if layout == "array":
        text = json.dumps(events, ensure_ascii=ascii_only, indent=draw(st.sampled_from([None, 1])))
    elif layout == "lines":
        end = draw(st.sampled_from(["\n", "\r\n", "\n\n", "\r"]))
        text = "".join(json.dumps(e, ensure_ascii=ascii_only) + end for e in events)
    else:
        text = json.dumps(events[0] if events else {}, ensure_ascii=ascii_only)
    data = draw(encoded(with_fragments(text)))
    if draw(st.booleans()):
        data = gzip.compress(data)
    return draw(mangled(data))


@pytest.fixture
def police_world(world):
    """The test world with the police fixture imported, so that mutated copies update, move and delete."""
    polisen_import(data=FIXTURE.read_bytes())
    return world


def assert_police_events_consistent() -> None:
    for event in PolisenEvent.objects.select_related("incident", "municipality"):
        incident = event.incident
        if incident is None:
            continue
        assert incident.source == Source.POLISEN and incident.external_id == str(event.event_id)
        assert event.municipality is not None and incident.municipality_id == event.municipality_id
        assert incident.precision == Precision.MUNICIPALITY
        assert (incident.lat, incident.lon) == MUNICIPALITY_GPS[event.municipality.code]
        assert (incident.x, incident.y) == pytest.approx(point_to_sweref(incident.lon, incident.lat), abs=0.01)
        assert not incident.areas.exists()  # a kommun's centre says nothing about the area
    assert not Incident.objects.filter(source=Source.POLISEN, polisen__isnull=True).exists()


def police_file(**fields: Any) -> bytes:
    """The first police event with some fields replaced (raw fragments by their placeholder), as a JSON array."""
    return with_fragments(json.dumps([{**BASE_EVENTS[0], **fields}])).encode()


@fuzz
@regressions(
    *(
        {"data": data, "municipalities": (), "dry_run": False}
        for data in [
            police_file(summary=placeholder("deep list")),
            police_file(summary=placeholder("deep object")),
            police_file(extra=placeholder("nested 50")),
            police_file(summary=placeholder("5000 digits")),
            police_file(summary=placeholder("NaN")),
            police_file(extra=placeholder("1e999")),
            police_file(summary=placeholder("NUL inside")),
            police_file(name=placeholder("surrogate inside")),
            police_file(location={"name": "Ystad", placeholder("NUL"): 1}),
            police_file(location={"name": "Å" * 150 + " län"}),
            police_file(datetime="0001-01-01 0:00:00 +14:00"),
            police_file(datetime="9999-12-31 23:59:59 -14:00"),
            police_file(id="²"),
            police_file(id=placeholder("NaN")),
            (RAW_FRAGMENTS["deep object"] + "\n").encode(),  # JSON Lines
        ]
    )
)
@given(
    data=police_files(),
    municipalities=st.sampled_from([(), ("Ystad",), ("1286", "Simrishamn"), ("Gotland",)]),
    dry_run=st.booleans(),
)
def test_mutated_police_events_are_imported_or_refused(police_world, data, municipalities, dry_run):
    with rolled_back():
        before = PolisenEvent.objects.count()
        summary = imported_or_refused(
            lambda: polisen_import(data=data, municipalities=municipalities, dry_run=dry_run), dry_run=dry_run
        )
        if summary is not None and not dry_run:
            assert PolisenEvent.objects.count() - before == summary.created
            assert_police_events_consistent()


# --- reports from CSV and Excel ---------------------------------------------------------------------------------------

FULL_MAPPING = """
source_key = "fuzz-full"
organisation = "Ystads kommun"
default_category = "ovrigt"

[columns]
external_id = "Id"
category = "Kategori"
date = "Datum"
time = "Tid"
end_date = "Slutdatum"
end_time = "Sluttid"
reported_at = "Rapporterad"
lat = "Lat"
lon = "Lon"
place = "Plats"
description = "Beskrivning"
persons = "Personer"
severity = "Allvar"
police_reported = "Polisanmäld"
fault_reported = "Felanmäld"
status = "Status"
municipality = "Kommun"

[categories]
"Klotter" = "klotter"
"Skadegörelse" = "skadegorelse"
"""
FULL_ROW = {
    "Id": "A-1",
    "Kategori": "Klotter",
    "Datum": "2024-05-03",
    "Tid": "21:30",
    "Slutdatum": "2024-05-03",
    "Sluttid": "22:15",
    "Rapporterad": "2024-05-04 08:00",
    "Lat": "55,4295",
    "Lon": "13,8200",
    "Plats": "Centrum",
    "Beskrivning": "Klotter på väggen vid Östra torget",
    "Personer": "3",
    "Allvar": "medel",
    "Polisanmäld": "nej",
    "Felanmäld": "ja",
    "Status": "ny",
    "Kommun": "Ystad",
}
# Positions in SWEREF 99 TM, no id column (rows are told apart by a hash of their values), strict categories.
SWEREF_MAPPING = """
source_key = "fuzz-sweref"
organisation = "Ystads kommun"
municipality = "1286"
sensitivity = "delad"
status = "granskad"

[file]
encoding = "auto"
delimiter = "auto"

[columns]
category = "Kategori"
datetime = "Tidpunkt"
x = "E"
y = "N"
description = "Beskrivning"

[categories]
"Klotter" = "klotter"
"""
SWEREF_ROW = {
    "Kategori": "Klotter",
    "Tidpunkt": "3/5 2024 21.30",
    "E": "425 300,5",
    "N": "6143200",
    "Beskrivning": "Klotter på elskåpet",
}
TABLES = {"full": (FULL_MAPPING, FULL_ROW), "sweref": (SWEREF_MAPPING, SWEREF_ROW)}

ODD_CELLS = {
    "date": [
        "2024-02-30",
        "2024-13-01",
        "0001-01-01",
        "1969-12-31",
        "9999-12-31",
        "99999-01-01",
        "2024-05-03\n21:30",
        "2024\n-05-03",
        "3/5 2024",
        "03.05.2024",
        "20240503",
        "2024-05-03T21:30",
        "2024-05-03 kl 21.30",
        "2024-05-03 25:00",
        "2100-01-01",
        "idag",
        "45000",
        "2024-05-03 21:30:00.123456789",
        "٢٠٢٤-٠٥-٠٣",
        "２０２４-０５-０３",
        "2024-05-03 21:30+02:00",
        "2024-03-31 02:30",
        "2024-10-27 02:30",
    ],
    "time": ["24:00", "23:60", "21.30", "kl 21.30", "2130", "9:5", "-1:00", "21:30:61", "0000", "99:99", "٢١:٣٠"],
    "number": [
        "NaN",
        "inf",
        "-inf",
        "1e400",
        "1e-400",
        "55,4295,1",
        "1_000",
        "5\u00a0543",
        "0",
        "-0",
        "90",
        "-90",
        "181",
        "13,82",
        "55,43",
        "6143200",
        "425300",
        "١٢",
        "0x10",
        "9" * 400,
    ],
    "persons": ["1e300", "9" * 30, "-1", "2.5", "3000000000", "10000", "10001", "NaN", "inf", "ett par"],
    "severity": ["0", "4", "hög", "3.0", "1.5", "HÖG"],
    "flag": ["kanske", "JA", "x", "2", "sant"],
    "status": ["ny", "Granskad", "bortglömd", "closed"],
    "municipality": ["1286", "Ystad", "Simrishamn", "1291", "0000", "Ystads kommun", "99999", "١٢٨٦", "Gotland"],
    "place": ["Centrum", "centrum ", "Okänd plats"],
    "category": ["Klotter", "Skadegörelse", "Okänd", "klotter", "Övrigt"],
    "text": ["x" * 100_000, "\x00", "a\x00b", "\ud800", "\r", '"', "a;b,c\td", "Ring 070-123 45 67", "=1+1"],
    "id": ["A-1", "x" * 300, "\x00", " ", "A-1 "],
}
KIND_OF = {
    "Id": "id",
    "Kategori": "category",
    "Datum": "date",
    "Tidpunkt": "date",
    "Slutdatum": "date",
    "Rapporterad": "date",
    "Tid": "time",
    "Sluttid": "time",
    "Lat": "number",
    "Lon": "number",
    "E": "number",
    "N": "number",
    "Plats": "place",
    "Beskrivning": "text",
    "Personer": "persons",
    "Allvar": "severity",
    "Polisanmäld": "flag",
    "Felanmäld": "flag",
    "Status": "status",
    "Kommun": "municipality",
}


def cells_for(column: str) -> st.SearchStrategy[str]:
    odd = st.sampled_from(ODD_CELLS[KIND_OF.get(column, "text")])
    return st.one_of(odd, odd, texts)  # mostly the values that matter for the column


@st.composite
def tables(draw, base: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """A header and rows that import fine, then mutated: cells, row lengths, duplicates, blank rows, the header."""
    header = list(base)
    rows = []
    for n in range(draw(st.integers(1, 4))):
        row = dict(base)
        if "Id" in row:
            row["Id"] = f"A-{n}"
        row["Beskrivning"] = f"{row['Beskrivning']} {n}"
        rows.append([row[c] for c in header])
    for _ in range(draw(st.integers(0, 5))):
        change = draw(st.sampled_from(["cell", "cell", "cell", "short", "long", "duplicate", "blank", "header"]))
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, len(header) - 1))
        if change == "cell" and j < len(rows[i]):
            rows[i][j] = draw(cells_for(header[j]))
        elif change == "short":
            rows[i] = rows[i][:j]
        elif change == "long":
            rows[i] = rows[i] + draw(st.lists(texts, min_size=1, max_size=3))
        elif change == "duplicate":
            rows.insert(i, list(rows[i]))
        elif change == "blank":
            rows.insert(i, [""] * draw(st.integers(0, len(header))))
        elif change == "header":
            header = list(header)
            header[j] = draw(st.one_of(st.sampled_from(header), texts))
    return header, rows


@st.composite
def csv_files(draw, base: dict[str, str]) -> bytes:
    header, rows = draw(tables(base))
    delimiter = draw(st.sampled_from([";", ",", "\t", "|", " "]))
    end = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    quoting = draw(st.sampled_from(["minimal", "all", "none"]))
    if quoting == "none":
        text = "".join(delimiter.join(r) + end for r in [header, *rows])
    else:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer,
            delimiter=delimiter,
            lineterminator=end,
            quoting=csv.QUOTE_ALL if quoting == "all" else csv.QUOTE_MINIMAL,
        )
        writer.writerow(header)
        writer.writerows(rows)
        text = buffer.getvalue()
    return draw(mangled(draw(encoded(text))))


# Excel cells come typed: dates, times, numbers and booleans as well as text.
excel_cells = st.one_of(
    texts,
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.times(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
    st.none(),
)
EXCEL_ROW = {
    **FULL_ROW,
    "Datum": dt.datetime(2024, 5, 3, 21, 30),
    "Tid": dt.time(21, 30),
    "Lat": 55.4295,
    "Lon": 13.82,
    "Personer": 3,
    "Polisanmäld": False,
}


@st.composite
def excel_files(draw) -> bytes:
    header = list(EXCEL_ROW)
    rows = []
    for n in range(draw(st.integers(1, 3))):
        row = [{"Id": f"X-{n}"}.get(c, EXCEL_ROW[c]) for c in header]
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.integers(0, len(row) - 1))] = draw(excel_cells)
        rows.append(row)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        # What openpyxl itself cannot write is not a file anyone can hand us.
        sheet.append(
            [
                ILLEGAL_CHARACTERS_RE.sub("", v).encode("utf-8", "ignore").decode() if isinstance(v, str) else v
                for v in row
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return draw(mangled(buffer.getvalue()))


@pytest.fixture
def report_world(world, tmp_path):
    """The test world with reports already imported by each mapping, so that mutated files update them."""
    for mapping_text, base in TABLES.values():
        path = tmp_path / "seed.csv"
        path.write_text(";".join(base) + "\n" + ";".join(base.values()) + "\n", encoding="utf-8")
        incidents_import(path=path, mapping=parse_mapping(mapping_text))
    assert Incident.objects.filter(source=Source.CSV).count() == 2
    return world


def assert_reports_consistent(source_keys: set[str]) -> None:
    now = timezone.now()
    for incident in Incident.objects.filter(source=Source.CSV).select_related("municipality"):
        assert incident.municipality.code == "1286"  # the only municipality Ystads kommun covers
        assert in_sweden(incident.lon, incident.lat)
        assert (incident.x, incident.y) == pytest.approx(point_to_sweref(incident.lon, incident.lat), abs=0.01)
        links = list(incident.areas.all())
        if incident.precision == Precision.AREA:
            # A named place: the point is inside the area it was named by.
            assert any(contains_points(a.geometry, [incident.lon], [incident.lat])[0] for a in links)
        else:
            assert contains_points(incident.municipality.geometry, [incident.lon], [incident.lat])[0]
            for area in links:
                assert contains_points(area.geometry, [incident.lon], [incident.lat])[0], area
        assert incident.occurred_from <= now + dt.timedelta(minutes=5)
        assert incident.occurred_to is None or incident.occurred_to >= incident.occurred_from
        assert incident.persons_estimate is None or 0 <= incident.persons_estimate <= 10_000
        assert 1 <= incident.severity <= 3
        source_key, _, local_id = incident.external_id.partition(":")
        assert source_key in source_keys and local_id and len(incident.external_id) <= MAX_EXTERNAL_ID


def run_reports(path: Path, mapping_text: str, *, dry_run: bool, skip_invalid: bool, allowed: set[int] | None):
    mapping = parse_mapping(mapping_text, name="fuzz.toml")
    summary = imported_or_refused(
        lambda: incidents_import(
            path=path,
            mapping=mapping,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            rejects_path=path.with_name("rejects.csv"),
            allowed_municipality_ids=allowed,
        ),
        dry_run=dry_run,
    )
    if summary is not None and not dry_run:
        assert_reports_consistent({"fuzz-full", "fuzz-sweref"})
    return summary


def csv_file(base: dict[str, str], **cells: str) -> bytes:
    """One row of ``base`` with some cells replaced, as CSV."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([list(base), list({**base, **cells}.values())])
    return buffer.getvalue().encode()


@fuzz
@regressions(
    *(
        {"table": ("full", data), "dry_run": False, "skip_invalid": False, "restricted": False}
        for data in [
            csv_file(FULL_ROW, Datum="2024\n-05-03"),
            csv_file(FULL_ROW, Personer="1e300"),
            csv_file(FULL_ROW, Personer="3000000000"),
            csv_file(FULL_ROW, Datum="9999-12-31", Slutdatum="", Sluttid="00:00"),
            csv_file(FULL_ROW, Beskrivning="a\x00b"),
            csv_file(FULL_ROW, Id="x" * 300),
            csv_file(FULL_ROW, Lat="9" * 400),
        ]
    )
)
@given(
    table=st.sampled_from(sorted(TABLES)).flatmap(lambda key: st.tuples(st.just(key), csv_files(TABLES[key][1]))),
    dry_run=st.booleans(),
    skip_invalid=st.booleans(),
    restricted=st.booleans(),
)
def test_mutated_csv_is_imported_or_refused(report_world, tmp_path, table, dry_run, skip_invalid, restricted):
    key, data = table
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    allowed = {report_world.ystad.pk} if restricted else None
    with rolled_back():
        run_reports(path, TABLES[key][0], dry_run=dry_run, skip_invalid=skip_invalid, allowed=allowed)


@fuzz
@given(data=excel_files(), dry_run=st.booleans(), skip_invalid=st.booleans())
def test_mutated_excel_is_imported_or_refused(report_world, tmp_path, data, dry_run, skip_invalid):
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    with rolled_back():
        run_reports(path, FULL_MAPPING, dry_run=dry_run, skip_invalid=skip_invalid, allowed=None)


ODD_TOML_VALUES = [
    '""',
    '" "',
    "123",
    "1286",
    "-0",
    "1e400",
    "nan",
    "inf",
    "true",
    "[]",
    "{}",
    "2024-05-03",
    '"\\u0000"',
    '"Ystads kommun\\u0000"',
    '"' + "x" * 10_000 + '"',
    '"Simrishamns kommun"',
    '"police_restricted"',
    '"stängd"',
    '"tab"',
    '"|"',
    '"utf-16"',
    '"Blad2"',
    '"Datum"',
    '"Lat"',
    "[" * 100_000 + "]" * 100_000,
    "{a = " * 500 + "1" + "}" * 500,
    '"""\nflera\nrader"""',
]


@st.composite
def mapping_texts(draw) -> str:
    """The full mapping with lines dropped, duplicated or given odd values, and sometimes foreign keys."""
    lines = FULL_MAPPING.strip().splitlines()
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        change = draw(st.sampled_from(["drop", "duplicate", "value", "value", "insert"]))
        if change == "drop":
            del lines[i]
        elif change == "duplicate":
            lines.insert(i, lines[i])
        elif change == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            odd = st.sampled_from(ODD_TOML_VALUES)
            lines[i] = f"{key}= {draw(st.one_of(odd, odd, texts.map(json.dumps)))}"
        elif change == "insert":
            lines.insert(i, draw(st.sampled_from(["[file]", "[columns]", "[okänd]", "sheet = 1", "x = 1", "="])))
    return "\n".join(lines) + "\n"


@fuzz
@regressions(
    *(
        {"text": FULL_MAPPING.replace('"Ystads kommun"', value), "as_file": False, "encoding": ENCODINGS[0]}
        for value in ["[" * 100_000 + "]" * 100_000, "{a = " * 500 + "1" + "}" * 500, '"Ystads kommun\\u0000"']
    )
)
@given(text=mapping_texts(), as_file=st.booleans(), encoding=st.sampled_from(ENCODINGS))
def test_mutated_mappings_are_used_or_refused(report_world, tmp_path, text, as_file, encoding):
    csv_path = tmp_path / "export.csv"
    csv_path.write_text(";".join(FULL_ROW) + "\n" + ";".join(FULL_ROW.values()) + "\n", encoding="utf-8")
    with rolled_back():
        try:
            if as_file:
                mapping_path = tmp_path / "fuzz.toml"
                codec, errors, prefix = encoding
                mapping_path.write_bytes(prefix + text.encode(codec, errors))
                mapping = load_mapping(mapping_path)
            else:
                mapping = parse_mapping(text, name="fuzz.toml")
        except ImportFailed as exc:
            assert_clean_refusal(exc)
            return
        summary = imported_or_refused(lambda: incidents_import(path=csv_path, mapping=mapping), dry_run=False)
        if summary is not None:
            assert_reports_consistent({"fuzz-full", "fuzz-sweref", mapping.source_key})


# --- areas from GeoJSON -----------------------------------------------------------------------------------------------

WEST = square(YSTAD[0] - 0.03, YSTAD[1], 0.01)
EAST = square(YSTAD[0] + 0.03, YSTAD[1], 0.01)
CENTRUM_MOVED = square(YSTAD[0], YSTAD[1], 0.012)
BASE_FEATURES = [
    {"type": "Feature", "properties": {"namn": "Väster", "kod": "1286X01", "kommun": "1286"}, "geometry": WEST},
    {"type": "Feature", "properties": {"namn": "Öster", "kod": "1286X02", "kommun": "Ystad"}, "geometry": EAST},
    {"type": "Feature", "properties": {"namn": "Centrum", "kommun": "1286"}, "geometry": CENTRUM_MOVED},
]
ODD_COORDINATES = st.one_of(
    st.sampled_from(
        [
            [13.8, 55.4, 10.0],
            [float("nan"), 55.4],
            [13.8, float("inf")],
            [1e308, -1e308],
            [0.0, 0.0],
            [55.4, 13.8],
            [425_300.0, 6_143_200.0],
            [13.8],
            [],
            ["13.8", "55.4"],
            None,
        ]
    ),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=3),
)


@st.composite
def geometries(draw, geometry: dict) -> Any:
    geometry = copy.deepcopy(geometry)
    change = draw(
        st.sampled_from(
            ["none", "vertex", "vertex", "unclose", "few", "bowtie", "flat", "hole", "type", "shift", "raw", "multi"]
        )
    )
    ring = geometry["coordinates"][0]
    if change == "vertex":
        ring[draw(st.integers(0, len(ring) - 1))] = draw(ODD_COORDINATES)
    elif change == "unclose":
        ring.pop()
    elif change == "few":
        del ring[draw(st.integers(0, 3)) :]
    elif change == "bowtie":
        ring[1], ring[2] = ring[2], ring[1]
    elif change == "flat":
        geometry["coordinates"] = [[ring[0], ring[1], [2 * ring[1][0] - ring[0][0], ring[0][1]], ring[0]]]
    elif change == "hole":
        geometry["coordinates"].append([[x * 1.001, y * 1.001] for x, y in ring])
    elif change == "type":
        geometry["type"] = draw(
            st.sampled_from(["Point", "LineString", "MultiPolygon", "GeometryCollection", "Polygonn", "", None])
        )
    elif change == "shift":
        dx, dy = draw(st.sampled_from([(-13.8, -55.4), (0.0, 14.5), (11.0, 0.0), (100.0, 100.0), (425_000, 6e6)]))
        geometry["coordinates"] = [[[x + dx, y + dy] for x, y in ring]]
    elif change == "raw":
        geometry["coordinates"] = draw(st.one_of(raw_values, json_values))
    elif change == "multi":
        # Two parts that overlap, or touch, or lie apart: only the last is a valid MultiPolygon.
        dx = draw(st.sampled_from([0.005, 0.02, 0.5]))
        geometry = {"type": "MultiPolygon", "coordinates": [[ring], [[[x + dx, y] for x, y in ring]]]}
    return geometry


@st.composite
def area_feature(draw) -> Any:
    feature: Any = copy.deepcopy(draw(st.sampled_from(BASE_FEATURES)))
    feature["geometry"] = draw(geometries(feature["geometry"]))
    for _ in range(draw(st.integers(0, 2))):
        change = draw(st.sampled_from(["drop", "odd", "odd", "raw", "geometry", "type", "whole"]))
        key = draw(st.sampled_from(["namn", "kod", "kommun", "extra"]))
        if change == "drop":
            feature["properties"].pop(key, None)
        elif change == "odd":
            feature["properties"][key] = draw(
                st.one_of(texts, json_values, st.sampled_from(["1286A0010", "1291X01", "x" * 60, "Å" * 201]))
            )
        elif change == "raw":
            feature["properties"][key] = draw(raw_values)
        elif change == "geometry":
            feature["geometry"] = draw(st.one_of(st.none(), json_values))
        elif change == "type":
            feature["type"] = draw(st.one_of(texts, json_values))
        else:
            return draw(json_values)
    return feature


@st.composite
def area_files(draw) -> bytes:
    collection: Any = {"type": "FeatureCollection", "features": draw(st.lists(area_feature(), max_size=4))}
    for _ in range(draw(st.integers(0, 1))):
        change = draw(st.sampled_from(["crs", "type", "features", "bbox"]))
        if change == "crs":
            name = draw(
                st.sampled_from(
                    [
                        "EPSG:3006",
                        "urn:ogc:def:crs:EPSG::3006",
                        "urn:ogc:def:crs:OGC:1.3:CRS84",
                        "EPSG:4258",
                        "EPSG:3857",
                        "EPSG:4978",
                        "EPSG:5703",
                        "EPSG:3006+5613",
                        "EPSG:999999",
                        "nonsense",
                        "",
                    ]
                )
            )
            collection["crs"] = {"type": "name", "properties": {"name": name}}
        elif change == "type":
            collection["type"] = draw(st.one_of(texts, json_values))
        elif change == "features":
            collection["features"] = draw(st.one_of(json_values, raw_values))
        else:
            collection["bbox"] = draw(json_values)
    text = with_fragments(json.dumps(collection, ensure_ascii=draw(st.booleans())))
    return draw(mangled(draw(encoded(text))))


area_options = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["district", "zone", "deso"]),
        "code_field": st.sampled_from([None, "kod", "KOD", "saknas"]),
        "where": st.sampled_from(["Ystad", "1286", "field", "derived", "Simrishamn", "Ingenstans"]),
        "valid_from": st.sampled_from([None, dt.date(2024, 1, 1), dt.date(2000, 1, 1), dt.date(1999, 12, 31)]),
        "end_missing": st.booleans(),
        "layer": st.sampled_from([None, None, None, "areas", "saknas"]),
    }
)


@pytest.fixture
def area_world(world):
    """Reports at Centrum and the two districts, before and after 2024, with points and without."""
    for lon in (YSTAD[0] - 0.03, YSTAD[0], YSTAD[0] + 0.03):
        for year in (2023, 2025):
            for precision in (Precision.EXACT, Precision.MUNICIPALITY):
                IncidentFactory(
                    municipality=world.ystad,
                    lon=lon,
                    lat=YSTAD[1],
                    precision=precision,
                    occurred_from=timezone.make_aware(dt.datetime(year, 5, 1, 12)),
                )
    daily_counts_rebuild()  # the factory writes past the services
    return world


def assert_areas_consistent() -> None:
    current = Counter()
    for area in Area.objects.all():
        geometry = shape(area.geometry)
        assert geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.is_valid and geometry.area > 0, area
        lo_x, lo_y, hi_x, hi_y = geometry.bounds
        assert SWEDEN_LON[0] <= lo_x <= hi_x <= SWEDEN_LON[1] and SWEDEN_LAT[0] <= lo_y <= hi_y <= SWEDEN_LAT[1]
        assert (area.min_lon, area.min_lat, area.max_lon, area.max_lat) == pytest.approx(geometry.bounds)
        assert area.name.strip() and len(area.name) <= 200
        assert area.valid_to is None or area.valid_to > area.valid_from
        if area.valid_to is None:
            current[(area.municipality_id, area.kind, area.code or area.name)] += 1
    assert all(n == 1 for n in current.values()), current
    Link = Incident.areas.through
    for link in Link.objects.select_related("incident", "area"):
        incident, area = link.incident, link.area
        if incident.precision in (Precision.EXACT, Precision.STREET):
            assert shapely.intersects_xy(shape(area.geometry), incident.lon, incident.lat), (incident, area)
            day = timezone.localdate(incident.occurred_from)
            assert area.valid_from <= day and (area.valid_to is None or day < area.valid_to), (incident, area)


def run_areas(path: Path, options: dict, *, dry_run: bool) -> ImportSummary | None:
    where = options["where"]
    summary = imported_or_refused(
        lambda: areas_import(
            path=path,
            kind=options["kind"],
            name_field="namn",
            code_field=options["code_field"],
            municipality=None if where in ("field", "derived") else where,
            municipality_field="kommun" if where == "field" else None,
            valid_from=options["valid_from"],
            layer=options["layer"],
            end_missing=options["end_missing"],
            dry_run=dry_run,
        ),
        dry_run=dry_run,
    )
    if summary is not None and not dry_run:
        assert_areas_consistent()
    return summary


def area_file(features: list[dict], *, encoding: str = "utf-8") -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode(encoding)


# NaN hides from a geometry's bounds, so this one looked as if it lay in Ystad.
NAN_VERTEX = {"type": "Polygon", "coordinates": [[[*p] for p in WEST["coordinates"][0]]]}
NAN_VERTEX["coordinates"][0][1] = [float("nan"), YSTAD[1]]
DISTRICTS = {"kind": "district", "code_field": None, "where": "Ystad", "valid_from": None, "end_missing": False}


@fuzz
@regressions(
    *(
        {"data": data, "options": {**DISTRICTS, "layer": None}, "dry_run": False, "suffix": ".geojson"}
        for data in [
            area_file(BASE_FEATURES[:2], encoding="cp1252"),
            area_file([{**BASE_FEATURES[0], "geometry": NAN_VERTEX}]),
        ]
    )
)
@given(data=area_files(), options=area_options, dry_run=st.booleans(), suffix=st.sampled_from([".geojson", ".json"]))
def test_mutated_geojson_is_imported_or_refused(area_world, tmp_path, data, options, dry_run, suffix):
    path = tmp_path / f"areas{suffix}"
    path.write_bytes(data)
    with rolled_back():
        run_areas(path, options, dry_run=dry_run)


# --- anything at all --------------------------------------------------------------------------------------------------

MAGIC = [b"", b"\x1f\x8b", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xef\xbb\xbf", b"\xff\xfe", b"[", b"{", b'{"type":']
random_bytes = st.one_of(
    st.tuples(st.sampled_from(MAGIC), st.binary(max_size=400)).map(b"".join),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@pytest.mark.parametrize("kind", ["polisen", "csv", "areas"])
@fuzz
@given(data=random_bytes)
def test_random_bytes_are_refused_or_imported(world, tmp_path, kind, data):
    path = tmp_path / ("random.geojson" if kind == "areas" else "random.csv")
    path.write_bytes(data)
    with rolled_back():
        if kind == "polisen":
            imported_or_refused(lambda: polisen_import(data=data), dry_run=False)
        elif kind == "csv":
            run_reports(path, FULL_MAPPING, dry_run=False, skip_invalid=False, allowed=None)
        else:
            run_areas(path, {**DISTRICTS, "layer": None}, dry_run=False)


# --- the command line -------------------------------------------------------------------------------------------------

command_lines = st.one_of(
    st.tuples(
        st.just("polisen"),
        police_files(),
        st.lists(st.sampled_from(["Ystad", "1286", "Simrishamn", "Nowhere", "", "١٢٨٦", "Ystad\x00"]), max_size=2).map(
            lambda names: [arg for name in names for arg in ("--municipality", name)]
        ),
    ),
    st.tuples(st.just("incidents"), csv_files(FULL_ROW), st.sampled_from([[], ["--skip-invalid"]])),
    st.tuples(
        st.just("areas"),
        area_files(),
        st.tuples(
            st.sampled_from([["--municipality", "Ystad"], ["--municipality-field", "kommun"], []]),
            st.sampled_from([[], ["--valid-from", "2024-01-01"], ["--valid-from", "2024-13-01"], ["--valid-from", ""]]),
            st.sampled_from([[], ["--code-field", "kod"], ["--end-missing"], ["--layer", "x"]]),
        ).map(lambda parts: ["--kind", "district", "--name-field", "namn", *parts[0], *parts[1], *parts[2]]),
    ),
)


@fuzz_browser
@given(command=command_lines, dry_run=st.booleans())
def test_command_line_imports_or_exits_with_code_2(report_world, tmp_path, command, dry_run):
    source, data, options = command
    path = tmp_path / {"polisen": "events.json", "incidents": "export.csv", "areas": "areas.geojson"}[source]
    path.write_bytes(data)
    if source == "incidents":
        mapping = tmp_path / "fuzz.toml"
        mapping.write_text(FULL_MAPPING, encoding="utf-8")
        options = [*options, "--mapping", str(mapping)]
    args = [source, str(path), "--quiet", *options, *(["--dry-run"] if dry_run else [])]
    with rolled_back():
        before = snapshot()
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("import", *args, stdout=out, stderr=err)
        except CommandError as exc:
            assert exc.returncode == 2 and "Inget sparades" in str(exc), exc
            assert err.getvalue().strip(), "the errors are listed"
            err.getvalue().encode("utf-8")
            assert snapshot() == before, "a refused import wrote something"
            return
        assert "Klart" in out.getvalue() or "Provkörning" in out.getvalue()
        if dry_run:
            assert snapshot() == before, "a dry run wrote something"
        assert_daily_counts_agree()
        assert_fits_columns()


# --- the browser: upload, check, confirm -----------------------------------------------------------------------------

browser_uploads = st.one_of(
    police_files().map(lambda data: ("polisen", "events.json", data, {})),
    csv_files(FULL_ROW).map(lambda data: ("incidents", "export.csv", data, {"skip_invalid": False})),
    excel_files().map(lambda data: ("incidents", "export.xlsx", data, {"skip_invalid": True})),
    st.tuples(area_files(), st.sampled_from(["district", "zone"]), st.sampled_from([None, "kod"])).map(
        lambda t: ("areas", "areas.geojson", t[0], {"kind": t[1], "code_field": t[2], "name_field": "namn"})
    ),
)


def assert_record_clean(record: ImportRecord) -> None:
    assert record.status in (ImportStatus.CHECKED, ImportStatus.DONE, ImportStatus.FAILED), record.status
    if record.status == ImportStatus.FAILED:
        assert record.errors, "a failed import says why"
        assert all(e["message"] != CRASH_MESSAGE for e in record.errors), record.summary.get("traceback")
        assert all(e["message"].strip() for e in record.errors)


@pytest.fixture
def browser_world(world, settings, tmp_path):
    """Uploads under the test's directory, imports run at once. Set here, once: every assignment to ``settings``
    stacks another override, and a thousand examples would stack them past the recursion limit."""
    settings.VAR_DIR = tmp_path
    settings.SAMVERKAN_IMPORTS_SYNC = True
    return world


@fuzz_browser
@given(upload=browser_uploads)
def test_browser_imports_check_and_confirm_or_refuse(browser_world, upload):
    world = browser_world
    kind, name, data, options = upload
    if kind == "areas":
        options = {**options, "municipality": world.ystad.pk}
    attachments = {"mapping": SimpleUploadedFile("fuzz.toml", FULL_MAPPING.encode())} if kind == "incidents" else {}
    with rolled_back():
        record = import_record_create(
            user=world.users["kommun_samordnare"],
            kind=kind,
            upload=SimpleUploadedFile(name, data),
            options=options,
            attachments=attachments,
        )
        before = snapshot(exclude=("import records",))
        import_record_start(record=record, dry_run=True)
        record.refresh_from_db()
        assert_record_clean(record)
        assert snapshot(exclude=("import records",)) == before, "the check wrote something"
        if record.status == ImportStatus.CHECKED and not record.errors:
            import_record_start(record=record, dry_run=False)
            record.refresh_from_db()
            assert_record_clean(record)
            if record.status == ImportStatus.FAILED:
                assert snapshot(exclude=("import records",)) == before, "a failed import wrote something"
            assert_daily_counts_agree()
