"""Reports from CSV and Excel files, described by a TOML mapping (``mapping.py``, ``docs/import-mapping.md``).

Three steps. *Reading* streams the rows of a CSV file (UTF-8 with or without BOM, or cp1252; ``;``, ``,`` or tab) or
of an XLSX sheet. *Validation* turns every row into typed values and checks them — dates, coordinates inside Sweden
and inside the municipality, categories, duplicates — collecting every problem with its row number. *Writing*
upserts the valid rows on (source, external id) in one transaction: new rows are inserted, changed rows updated,
the rest counted as unchanged.

Row numbers are those the user sees in Excel: the header is row 1 and the first data row row 2.

Sized for a million rows: values that repeat (dates, times, categories) are parsed once and cached, coordinates
are projected and tested against outlines as arrays, and rows are written in batches with one prepared statement
each, because Django's bulk_create spends about 90 µs a row preparing values, most of a two-minute budget.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import re
import time
from array import array
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from samverkan.accounts.models import Organisation
from samverkan.imports.base import ImportFailed, ImportSummary, Progress, RowError, no_progress
from samverkan.imports.mapping import COLUMN_KEYS, STATUSES, Mapping, normalise
from samverkan.incidents.models import Category, Incident, Precision, Sensitivity, Source, Status
from samverkan.incidents.screening import redact, screen
from samverkan.places.geo import contains_points, geometry_from_geojson, in_sweden, to_sweref, to_wgs84
from samverkan.places.models import Area, Municipality
from samverkan.places.selectors import area_ids_containing
from samverkan.situation.services import daily_counts_rebuild

STOCKHOLM = ZoneInfo("Europe/Stockholm")
BATCH_SIZE = 5000
PROGRESS_EVERY = 5000
ROW_NUMBERS = "Radnumren räknas som i Excel: rubrikraden är rad 1, första dataraden rad 2."

# SWEREF 99 TM plausibility box for Sweden (metres).
SWEREF_E = (200_000.0, 1_000_000.0)
SWEREF_N = (6_100_000.0, 7_700_000.0)
EARLIEST_YEAR = 1970
# Excel keeps a time without a date as a fraction of a day counted from 1899-12-30.
EXCEL_TIME_YEAR = 1900
MAX_EXTERNAL_ID = 200
NUL_MESSAGE = "cellen innehåller ett nolltecken (\\x00), som inte kan sparas – kanske en binärfil eller fel kodning"
# The report form and the API take at most this many persons; the column itself overflows past 2**31.
MAX_PERSONS = 10_000

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
DELIMITER_NAMES = {";": "semikolon", ",": "komma", "\t": "tabb"}
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "cp1252 (Windows)"}


class BadValue(ValueError):  # noqa: N818 - reads as what it is: a bad value
    """A cell that cannot be read; the message is for the user, in Swedish."""


# --- reading ----------------------------------------------------------------------------------------------------------


@dataclass
class Table:
    """An open file: its header, and its rows as (row number as in Excel, cell values)."""

    kind: str
    details: str
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, Sequence[Any]]]
    approx_rows: int | None


def _fail(message: str, row: int | None = None, column: str | None = None) -> ImportFailed:
    return ImportFailed([RowError(row, column, message)])


@contextmanager
def open_table(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    expected_columns: Sequence[str] = (),
) -> Iterator[Table]:
    """Open a CSV or XLSX file (XLSX told by its zip signature) positioned after its header row.

    The header is the first row with any content. Raises :class:`ImportFailed` for a missing, empty or unreadable
    file.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise _fail(f"filen {str(path)!r} finns inte") from None
    except OSError as exc:
        raise _fail(f"filen {str(path)!r} går inte att läsa: {exc.strerror}") from None
    if head == XLS_MAGIC:
        raise _fail("filen är en gammal Excel-fil (.xls), som inte stöds – spara den som .xlsx eller CSV")
    if head.startswith(XLSX_MAGIC):
        with _open_xlsx(path, sheet) as table:
            yield table
    else:
        with _open_csv(path, encoding, delimiter, expected_columns) as table:
            yield table


def _first_row(rows: Iterator[tuple[int, Sequence[Any]]], empty_message: str) -> tuple[int, list[str]]:
    for number, row in rows:
        if any(_cell_text(v) for v in row):
            return number, [_cell_text(v).lstrip("\ufeff") for v in row]
    raise _fail(empty_message)


@contextmanager
def _open_xlsx(path: Path, sheet: str | None) -> Iterator[Table]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign zip file
        raise _fail(f"filen går inte att läsa som Excel-fil (.xlsx): {exc}") from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            names = ", ".join(repr(n) for n in workbook.sheetnames)
            raise _fail(f"bladet {sheet!r} finns inte i filen; blad i filen: {names}")
        rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
        header_row, header = _first_row(rows, f"bladet {worksheet.title!r} är tomt")
        approx = worksheet.max_row - header_row if worksheet.max_row else None
        yield Table("Excel", f"bladet {worksheet.title!r}", header, header_row, rows, approx)
    finally:
        workbook.close()


def _scan_csv(path: Path, encoding: str | None) -> tuple[str, bool, int]:
    """Encoding (strict UTF-8 when the whole file decodes as such, else cp1252), whether it has a BOM, and the
    number of line breaks, in one pass over the bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")() if encoding is None else None
    lines = 0
    size = 0
    bom = False
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if size == 0:
                bom = chunk.startswith(codecs.BOM_UTF8)
            size += len(chunk)
            lines += chunk.count(b"\n")
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    decoder = None
                    encoding = "cp1252"
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
            encoding = "utf-8-sig"
        except UnicodeDecodeError:
            encoding = "cp1252"
    if size == 0 or (bom and size == len(codecs.BOM_UTF8)):
        raise _fail("filen är tom")
    assert encoding is not None
    return encoding, bom, lines


def _detect_delimiter(sample: str, expected_columns: Sequence[str]) -> str:
    """The separator that splits the header into the most of the mapping's columns (then into the most fields)."""
    expected = {normalise(c) for c in expected_columns}
    best, best_score = ";", (-1, -1)
    for candidate in (";", ",", "\t"):
        try:
            header = next(csv.reader(io.StringIO(sample), delimiter=candidate), [])
        except csv.Error:
            continue
        score = (len(expected & {normalise(h.lstrip("\ufeff")) for h in header}), len(header))
        if score > best_score:
            best, best_score = candidate, score
    return best


@contextmanager
def _open_csv(path: Path, encoding: str | None, delimiter: str | None, expected: Sequence[str]) -> Iterator[Table]:
    encoding, bom, lines = _scan_csv(path, encoding)
    # Descriptions can be long; the csv module's default limit (128 kB) is for protection, not for our data.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    with open(path, encoding=encoding, errors="strict", newline="") as f:
        try:
            sample = f.read(64 * 1024)
        except UnicodeDecodeError:
            raise _fail(_decode_message(encoding, None)) from None
        if not sample.strip().lstrip("\ufeff").strip():
            raise _fail("filen är tom")
        if delimiter is None:
            delimiter = _detect_delimiter(sample.lstrip("\ufeff"), expected)
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        rows = _csv_rows(reader, encoding)
        header_row, header = _first_row(rows, "filen är tom")
        name = ENCODING_NAMES.get(encoding, encoding) + (" med BOM" if bom else "")
        details = f"{name}, {DELIMITER_NAMES[delimiter]}"
        yield Table("CSV", details, header, header_row, rows, max(lines - header_row, 0))


def _decode_message(encoding: str, row: int | None) -> str:
    where = f" (vid rad {row})" if row else ""
    return (
        f"filen går inte att läsa som {ENCODING_NAMES.get(encoding, encoding)}{where}; spara den som UTF-8 eller ange "
        "rätt encoding under [file] i mappningen"
    )


def _csv_rows(reader: Any, encoding: str) -> Iterator[tuple[int, Sequence[Any]]]:
    # Counting records, not lines: a quoted cell with line breaks is one row in Excel too.
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _fail(_decode_message(encoding, number + 1)) from None
        except csv.Error as exc:
            raise _fail(f"filen går inte att läsa som CSV: {exc}", row=number + 1) from None
        number += 1
        yield number, row


def _cell_text(value: Any) -> str:
    """A cell as text: CSV cells as they are (trimmed), Excel numbers without a spurious ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    return str(value)


# --- values -----------------------------------------------------------------------------------------------------------

_DATE_FORMATS: tuple[tuple[re.Pattern[str], tuple[int, int, int]], ...] = (
    # pattern, group numbers of (year, month, day)
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),
    (re.compile(r"(\d{1,2})/(\d{1,2})(?:\s+|/)(\d{4})"), (3, 2, 1)),  # Swedish day/month: "3/5 2024"
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), (3, 2, 1)),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), (1, 2, 3)),
)
_TIME_PART = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:[.,]\d+)?)?"
_TIME = re.compile(r"(?:kl\.?\s*)?(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,]\d+)?)?", re.IGNORECASE)
_TIME_COMPACT = re.compile(r"(?:kl\.?\s*)?(\d{2})(\d{2})", re.IGNORECASE)
# A date, then optionally a time after a space, "T" or "kl": the lazy date part finds the first split that works.
# DOTALL: a cell can hold a line break, and the pattern must still match any non-empty text.
_DATETIME = re.compile(rf"(.+?)(?:(?:\s+|T)(?:kl\.?\s*)?({_TIME_PART}))?", re.IGNORECASE | re.DOTALL)

TRUE_WORDS = frozenset({"ja", "j", "x", "1", "true", "sant", "yes", "y"})
FALSE_WORDS = frozenset({"nej", "n", "0", "false", "falskt", "no", "", "-"})
SEVERITY_WORDS = {"1": 1, "2": 2, "3": 3, "låg": 1, "lag": 1, "medel": 2, "hög": 3, "hog": 3}


@lru_cache(maxsize=1 << 16)
def parse_date(text: str) -> dt.date:
    for pattern, (year, month, day) in _DATE_FORMATS:
        match = pattern.fullmatch(text)
        if match:
            try:
                value = dt.date(int(match[year]), int(match[month]), int(match[day]))
            except ValueError:
                raise BadValue(f"ogiltigt datum {text!r}") from None
            if value.year < EARLIEST_YEAR:
                raise BadValue(f"orimligt datum {text!r} (före {EARLIEST_YEAR})")
            return value
    raise BadValue(f"ogiltigt datum {text!r} – skriv t.ex. 2024-05-03, 3/5 2024 eller 03.05.2024")


@lru_cache(maxsize=1 << 12)
def parse_time(text: str) -> dt.time:
    match = _TIME.fullmatch(text) or _TIME_COMPACT.fullmatch(text)
    if match:
        try:
            return dt.time(int(match[1]), int(match[2]), int(match[3] or 0) if match.re is _TIME else 0)
        except ValueError:
            pass
    raise BadValue(f"ogiltig tid {text!r} – skriv t.ex. 21:30 eller 21.30")


@lru_cache(maxsize=1 << 16)
def parse_datetime_text(text: str) -> tuple[dt.date, dt.time | None]:
    """A date with an optional time: "2024-05-03", "2024-05-03 21:30", "2024-05-03T21:30", "3/5 2024 21.30"."""
    match = _DATETIME.fullmatch(text)
    assert match is not None  # the pattern matches any non-empty text
    date = parse_date(match[1])
    return date, parse_time(match[2]) if match[2] else None


def date_and_time(value: Any) -> tuple[dt.date, dt.time | None]:
    """A date cell, possibly with a time. An Excel date at midnight counts as a date without a time."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(STOCKHOLM).replace(tzinfo=None)
        return value.date(), (value.time() if value.time() != dt.time(0) else None)
    if isinstance(value, dt.date):
        return value, None
    return parse_datetime_text(value.strip() if isinstance(value, str) else _cell_text(value))


def time_of(value: Any) -> dt.time:
    """A time cell: "21:30", "21.30", "kl 21.30", "2130", or an Excel time."""
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.datetime) and value.year <= EXCEL_TIME_YEAR:
        return value.time()
    return parse_time(value.strip() if isinstance(value, str) else _cell_text(value))


def number_of(value: Any) -> float:
    """A number with a decimal point or comma; spaces as thousands separators ("6 143 200,5") are allowed."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = value.strip() if isinstance(value, str) else _cell_text(value)
        try:
            number = float(text)
        except ValueError:
            cleaned = text.replace(",", ".").replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
            try:
                number = float(cleaned)
            except ValueError:
                raise BadValue(f"ogiltigt tal {text!r}") from None
        if "_" in text:
            raise BadValue(f"ogiltigt tal {text!r}")
    if not math.isfinite(number):
        raise BadValue(f"ogiltigt tal {_cell_text(value)!r}")
    return number


def flag_of(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = normalise(_cell_text(value))
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise BadValue(f"ogiltigt värde {_cell_text(value)!r} – ange ja eller nej (x, 1 och 0 går också)")


def persons_of(value: Any) -> int | None:
    text = _cell_text(value)
    if not text:
        return None
    try:
        number = number_of(value)
    except BadValue:
        number = math.nan
    if not number.is_integer() or number < 0:
        raise BadValue(f"ogiltigt antal personer {text!r} – ange ett heltal")
    if number > MAX_PERSONS:
        raise BadValue(f"orimligt antal personer {text!r} – högst {MAX_PERSONS}")
    return int(number)


def severity_of(value: Any) -> int:
    text = normalise(_cell_text(value))
    if not text:
        return 1
    severity = SEVERITY_WORDS.get(text.removesuffix(".0"))
    if severity is None:
        raise BadValue(f"ogiltig allvarlighetsgrad {_cell_text(value)!r} – ange 1, 2 eller 3 (låg, medel, hög)")
    return severity


# --- resolving names in the database ------------------------------------------------------------------------------


def _municipality_index() -> dict[str, Municipality]:
    index: dict[str, Municipality] = {}
    for municipality in Municipality.objects.all():
        index[municipality.code] = municipality
        index.setdefault(normalise(municipality.name), municipality)
    return index


def find_municipality(value: str, index: dict[str, Municipality]) -> Municipality | None:
    """By SCB code ("1286"; "114" for "0114", as Excel shortens it) or name ("Ystad", "Ystads kommun", "Malmö stad")."""
    text = normalise(value)
    if text.isdigit():
        return index.get(text.zfill(4))
    for suffix in ("", " kommun", " stad"):
        name = text.removesuffix(suffix) if suffix else text
        if name in index:
            return index[name]
        if suffix and name != text and name.endswith("s") and name[:-1] in index:
            return index[name[:-1]]
    return None


class _CategoryVersion(NamedTuple):
    pk: int
    municipality_id: int | None
    valid_from: dt.date
    valid_to: dt.date | None
    active: bool


class _Categories:
    """Source values → category codes (the mapping's table, then codes and Swedish names as they are), and a code
    → the category version usable in a municipality on a day."""

    def __init__(self, mapping: Mapping, problems: list[str]) -> None:
        self.versions: dict[str, list[_CategoryVersion]] = {}
        names: dict[str, str] = {}
        for c in Category.objects.order_by("valid_from"):
            self.versions.setdefault(c.code, []).append(
                _CategoryVersion(c.pk, c.municipality_id, c.valid_from, c.valid_to, c.active)
            )
            names.setdefault(normalise(c.code), c.code)
            names.setdefault(normalise(c.name_sv), c.code)
        known = ", ".join(sorted(self.versions))
        self.lookup = dict(names)
        for source_value, code in mapping.categories.items():
            if code not in self.versions:
                problems.append(
                    f"[categories] {source_value!r} pekar på kategorikoden {code!r}, som inte finns (koder: {known})"
                )
            self.lookup[source_value] = code
        self.default = mapping.default_category
        if self.default is not None and self.default not in self.versions:
            problems.append(f"default_category {self.default!r} är ingen kategorikod (koder: {known})")
        self._cache: dict[tuple[str, int, dt.date], int | None] = {}

    def code_for(self, value: str) -> str | None:
        return self.lookup.get(normalise(value))

    def usable(self, code: str, municipality_id: int, day: dt.date) -> int | None:
        key = (code, municipality_id, day)
        if key not in self._cache:
            found = [
                v
                for v in self.versions.get(code, ())
                if v.active
                and v.municipality_id in (None, municipality_id)
                and v.valid_from <= day
                and (v.valid_to is None or day < v.valid_to)
            ]
            # A municipality's own version of a code wins over the shared one.
            found.sort(key=lambda v: v.municipality_id is None)
            self._cache[key] = found[0].pk if found else None
        return self._cache[key]


class _Places:
    """Named places: the current areas of a municipality by name, each with a point inside it."""

    KIND_ORDER = ("place", "district", "zone", "regso", "deso")

    def __init__(self) -> None:
        self._by_municipality: dict[int, dict[str, tuple[int, float, float]]] = {}

    def find(self, municipality_id: int, name: str) -> tuple[int, float, float] | None:
        if municipality_id not in self._by_municipality:
            areas = Area.objects.filter(municipality_id=municipality_id).current()
            ranked = sorted(
                areas, key=lambda a: (self.KIND_ORDER.index(a.kind) if a.kind in self.KIND_ORDER else 9, a.pk)
            )
            places: dict[str, tuple[int, float, float]] = {}
            for area in ranked:
                key = normalise(area.name)
                if key in places:
                    continue
                geometry = geometry_from_geojson(area.geometry)
                point = geometry.centroid
                if not geometry.contains(point):  # a crescent's centroid lies outside it
                    point = geometry.representative_point()
                places[key] = (area.pk, point.x, point.y)
            self._by_municipality[municipality_id] = places
        return self._by_municipality[municipality_id].get(normalise(name))


# --- the import -------------------------------------------------------------------------------------------------------

WGS84_POINT, SWEREF_POINT, NAMED_PLACE = 0, 1, 2


class _Row(NamedTuple):
    """One valid row, typed; coordinates are kept in arrays beside the list of rows."""

    number: int
    external_id: str
    category_id: int
    occurred_from: dt.datetime
    occurred_to: dt.datetime | None
    reported_at: dt.datetime
    precision: str
    municipality_id: int
    description: str
    persons: int | None
    severity: int
    police_reported: bool
    fault_reported: bool
    status: str | None
    place_area_id: int | None
    day: dt.date


@dataclass
class _Checked:
    rows: list[_Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejected: dict[int, list[str]] = field(default_factory=dict)
    kinds: array = field(default_factory=lambda: array("b"))
    first: array = field(default_factory=lambda: array("d"))
    second: array = field(default_factory=lambda: array("d"))
    lon: np.ndarray = field(default_factory=lambda: np.empty(0))
    lat: np.ndarray = field(default_factory=lambda: np.empty(0))
    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    total: int = 0
    unknown_categories: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def reject(self, number: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(number, column, message))
        self.rejected.setdefault(number, []).append(f"{column}: {message}" if column else message)


def incidents_import(
    *,
    path: str | Path,
    mapping: Mapping,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress = no_progress,
    rejects_path: str | Path | None = None,
    allowed_municipality_ids: Collection[int] | None = None,
) -> ImportSummary:
    """Import the reports in a CSV or XLSX file as described by ``mapping``.

    Everything is validated first. With errors, :class:`ImportFailed` lists them all and nothing is written —
    unless ``skip_invalid``, when the valid rows are written and the rejected ones go, with row number and reason,
    to ``rejects_path`` (default ``<name>.rejects.csv`` beside the file). Rows are upserted on (source, external
    id), so a second run of the same file changes nothing. ``dry_run`` reports what would change and writes nothing.
    ``allowed_municipality_ids`` limits the rows to those municipalities (in the browser: where the user may import).
    """
    path = Path(path)
    started = time.perf_counter()
    context = _Context(mapping, allowed_municipality_ids)
    summary = ImportSummary(kind="incidents", dry_run=dry_run)
    with open_table(
        path,
        encoding=mapping.encoding,
        delimiter=mapping.delimiter,
        sheet=mapping.sheet,
        expected_columns=list(mapping.columns.values()),
    ) as table:
        indexes = _column_indexes(table, mapping)
        estimate = table.approx_rows
        checked = _check_rows(table, indexes, context, lambda done: progress(done, _total(estimate, done)))
    summary.notes.append(f"Filen lästes som {table.kind} ({table.details}).")
    if checked.total == 0:
        raise _fail("filen har en rubrikrad men inga datarader")
    _check_positions(checked, context)
    checked.errors.sort(key=lambda e: e.row or 0)
    summary.total = checked.total
    summary.errors = checked.errors
    summary.unknown_types = checked.unknown_categories
    if mapping.default_category:
        summary.unknown_as = mapping.default_category
    summary.notes.extend(checked.notes)
    if checked.errors:
        summary.notes.append(ROW_NUMBERS)
        if not skip_invalid:
            raise ImportFailed(checked.errors, summary=summary)
        summary.rejected = len(checked.rejected)
        target = Path(rejects_path) if rejects_path else path.with_name(f"{path.stem}.rejects.csv")
        if dry_run:
            summary.notes.append(f"{summary.rejected} rader skulle avvisas (provkörning: ingen fil med dem skrevs).")
        else:
            _write_rejects(path, target, mapping, checked.rejected)
            summary.extra["rejects_path"] = str(target)
            summary.notes.append(f"{summary.rejected} rader avvisades; de finns med skälen i {target}.")
    read = checked.total
    _write(
        checked,
        context,
        summary,
        dry_run=dry_run,
        progress=lambda done: progress(read + done, read + len(checked.rows)),
    )
    summary.extra.update(format=table.kind, details=table.details, seconds=round(time.perf_counter() - started, 2))
    return summary


def _total(estimate: int | None, done: int) -> int | None:
    # Reading and writing share one bar: until the rows are counted, assume every line is a row to write.
    return None if estimate is None else 2 * max(estimate, done)


class _Context:
    """What the mapping names, resolved in the database: organisation, municipality, categories, places."""

    def __init__(self, mapping: Mapping, allowed_municipality_ids: Collection[int] | None) -> None:
        self.mapping = mapping
        self.restricted = allowed_municipality_ids is not None
        problems: list[str] = []
        self.organisation = (
            Organisation.objects.filter(name=mapping.organisation).first()
            or Organisation.objects.filter(name__iexact=mapping.organisation).first()
        )
        if self.organisation is None:
            problems.append(f"organisationen {mapping.organisation!r} finns inte i Samverkan")
            self.covered: set[int] = set()
        else:
            self.covered = set(self.organisation.municipalities.values_list("pk", flat=True))
            if allowed_municipality_ids is not None:
                self.covered &= set(allowed_municipality_ids)
            if mapping.sensitivity == Sensitivity.POLICE_RESTRICTED and not self.organisation.is_police:
                problems.append(
                    f"sensitivity police_restricted kan bara användas när organisationen är polisen, inte för "
                    f"{self.organisation.name!r}"
                )
        self.municipality_index = _municipality_index()
        self.municipalities = {m.pk: m for m in self.municipality_index.values()}
        self.municipality: Municipality | None = None
        if mapping.municipality is not None:
            self.municipality = find_municipality(mapping.municipality, self.municipality_index)
            if self.municipality is None:
                problems.append(
                    f'kommunen {mapping.municipality!r} finns inte (ange SCB-kod, t.ex. "1286", eller namn)'
                )
            elif self.organisation is not None and self.municipality.pk not in self.covered:
                problems.append(self.not_covered(self.municipality))
        self.categories = _Categories(mapping, problems)
        self.places = _Places()
        self.now = timezone.now()
        if problems:
            raise ImportFailed([RowError(None, None, f"{mapping.name}: {p}") for p in problems])

    def not_covered(self, municipality: Municipality) -> str:
        name = self.organisation.name  # type: ignore[union-attr]
        if self.restricted:
            return f"du kan inte importera rapporter från {name!r} i {municipality.name}"
        return f"organisationen {name!r} arbetar inte i {municipality.name} (kommunen saknas bland dess kommuner)"


def _column_indexes(table: Table, mapping: Mapping) -> dict[str, int]:
    exact = {name: i for i, name in reversed(list(enumerate(table.header)))}
    loose = {normalise(name): i for i, name in reversed(list(enumerate(table.header)))}
    counts = Counter(normalise(name) for name in table.header)
    indexes: dict[str, int] = {}
    missing: list[str] = []
    errors: list[RowError] = []
    for key, column in mapping.columns.items():
        index = exact.get(column.strip(), loose.get(normalise(column)))
        if index is None:
            missing.append(f"{column!r} ({key}: {COLUMN_KEYS[key]})")
            continue
        if counts[normalise(column)] > 1:
            errors.append(RowError(table.header_row, column, "kolumnen finns flera gånger i rubrikraden"))
        indexes[key] = index
    if missing:
        found = ", ".join(repr(h) for h in table.header if h) or "inga"
        errors.append(
            RowError(
                table.header_row,
                None,
                f"rubrikraden stämmer inte med mappningen. Kolumner som saknas: {', '.join(missing)}. "
                f"Kolumner i filen: {found}.",
            )
        )
    if errors:
        raise ImportFailed(errors)
    return indexes


def _external_id_from_values(values: list[str]) -> str:
    return hashlib.sha1("\x1f".join(values).encode(), usedforsecurity=False).hexdigest()[:20]


def _status_words() -> dict[str, str]:
    words = dict(STATUSES)
    words.update({normalise(str(label)): code for code, label in Status.choices})
    return words


class _RowChecker:
    """Turns one row into typed values. Each step appends (mapping key, message) to ``problems`` for what is wrong
    and carries on, so that one pass finds every problem of the row."""

    def __init__(self, table: Table, idx: dict[str, int], context: _Context) -> None:
        self.idx = idx
        self.context = context
        self.mapping = context.mapping
        self.categories = context.categories
        self.now_limit = context.now + dt.timedelta(minutes=5)
        self.hashed_columns = sorted(idx.values(), key=lambda i: table.header[i])
        self.seen_ids: dict[str, int] = {}
        self.hash_counts: Counter[str] = Counter()
        self.municipality_cache: dict[str, Municipality | None] = {}
        self.status_words = _status_words()
        self.unknown_categories: Counter[str] = Counter()

    def cell(self, row: Sequence[Any], key: str) -> Any:
        i = self.idx.get(key)
        return row[i] if i is not None and i < len(row) else None

    def text(self, row: Sequence[Any], key: str) -> str:
        return _cell_text(self.cell(row, key))

    def check(self, number: int, row: Sequence[Any], problems: list[tuple[str | None, str]]) -> tuple | None:
        """The typed row and its position (kind, first, second coordinate), or None when something is wrong."""
        municipality = self.municipality(row, problems)
        times = self.times(row, problems)
        day = times[0] if times else None
        category_id = self.category(row, municipality, day, problems)
        position = self.position(row, municipality, problems)
        persons, severity, police_reported, fault_reported, status = self.details(row, problems)
        external_id = self.identity(number, row, problems)
        if problems:
            return None
        assert municipality is not None and times is not None and category_id is not None and position is not None
        day, start, end, reported = times
        kind, first, second, place_area_id = position
        precision = Precision.AREA if kind == NAMED_PLACE else self.mapping.precision
        description = self.text(row, "description")
        return (
            _Row(
                number,
                external_id,
                category_id,
                start,
                end,
                reported,
                precision,
                municipality.pk,
                description,
                persons,
                severity,
                police_reported,
                fault_reported,
                status,
                place_area_id,
                day,
            ),
            kind,
            first,
            second,
        )

    def municipality(self, row: Sequence[Any], problems: list) -> Municipality | None:
        context = self.context
        if context.municipality is not None:
            return context.municipality
        text = self.text(row, "municipality")
        if text not in self.municipality_cache:
            self.municipality_cache[text] = find_municipality(text, context.municipality_index) if text else None
        municipality = self.municipality_cache[text]
        if municipality is None:
            problems.append(("municipality", f"okänd kommun {text!r}" if text else "kommun saknas"))
        elif municipality.pk not in context.covered:
            problems.append(("municipality", context.not_covered(municipality)))
            return None
        return municipality

    def times(
        self, row: Sequence[Any], problems: list
    ) -> tuple[dt.date, dt.datetime, dt.datetime | None, dt.datetime] | None:
        """(local day, start, end or None, reported at), the times in UTC. The file's times are local (Stockholm);
        a date without a time is a window over the whole day."""
        raw = self.cell(row, "date")
        if not _cell_text(raw):
            problems.append(("date", "datum saknas"))
            return None
        try:
            day, clock = date_and_time(raw)
        except BadValue as exc:
            problems.append(("date", str(exc)))
            return None
        if "time" in self.idx and self.text(row, "time"):
            try:
                clock = time_of(self.cell(row, "time"))
            except BadValue as exc:
                problems.append(("time", str(exc)))
        start = dt.datetime.combine(day, clock or dt.time(0), tzinfo=STOCKHOLM)
        if start > self.now_limit:
            # Nothing more to check; an end on the day after 9999-12-31 would not even be a date.
            problems.append(("date", f"tidpunkten {_cell_text(raw)!r} ligger i framtiden"))
            return None
        end = self.end(row, day, start, clock is None, problems)
        # In UTC, because Python never finds an aware time in the hour the clocks skip or repeat equal to the same
        # instant read back from the database in another zone, which would make unchanged rows look changed.
        start = start.astimezone(dt.UTC)
        end = end and end.astimezone(dt.UTC)
        reported = end or start
        if "reported_at" in self.idx and self.text(row, "reported_at"):
            try:
                reported_day, reported_clock = date_and_time(self.cell(row, "reported_at"))
                reported = dt.datetime.combine(reported_day, reported_clock or dt.time(0), tzinfo=STOCKHOLM)
                reported = reported.astimezone(dt.UTC)
            except BadValue as exc:
                problems.append(("reported_at", str(exc)))
        return day, start, end, reported

    def end(
        self, row: Sequence[Any], day: dt.date, start: dt.datetime, time_unknown: bool, problems: list
    ) -> dt.datetime | None:
        """The end of the time window: from the end columns when given (a time alone falls on the start's day, or on
        the next when it is earlier: a window over midnight), else the end of the day when the start had no time."""
        raw_end = self.cell(row, "end_time")
        end_date_text = self.text(row, "end_date")
        if not (_cell_text(raw_end) or end_date_text):
            return dt.datetime.combine(day, dt.time(23, 59), tzinfo=STOCKHOLM) if time_unknown else None
        key = "end_time" if _cell_text(raw_end) else "end_date"
        try:
            end_day, end_clock, dated = day, None, bool(end_date_text)
            if end_date_text:
                end_day, _ = date_and_time(self.cell(row, "end_date"))
            if isinstance(raw_end, dt.datetime) and raw_end.year > EXCEL_TIME_YEAR:
                (end_day, end_clock), dated = date_and_time(raw_end), True
            elif _cell_text(raw_end):
                try:
                    end_clock = time_of(raw_end)
                except BadValue:
                    (end_day, end_clock), dated = date_and_time(raw_end), True
        except BadValue as exc:
            problems.append((key, str(exc)))
            return None
        end = dt.datetime.combine(end_day, end_clock or dt.time(23, 59), tzinfo=STOCKHOLM)
        if end < start and not dated:
            end += dt.timedelta(days=1)
        if end < start:
            problems.append((key, "sluttiden ligger före starttiden"))
            return None
        return end

    def category(
        self, row: Sequence[Any], municipality: Municipality | None, day: dt.date | None, problems: list
    ) -> int | None:
        categories = self.categories
        text = self.text(row, "category")
        code = categories.code_for(text) if text else None
        if code is None:
            if categories.default is not None:
                code = categories.default
                if text:
                    self.unknown_categories[text] += 1
            elif text:
                problems.append(("category", f"okänd kategori {text!r} – lägg till den i mappningens [categories]"))
                return None
            else:
                problems.append(("category", "kategori saknas (eller ange default_category i mappningen)"))
                return None
        if municipality is None or day is None:
            return None
        category_id = categories.usable(code, municipality.pk, day)
        if category_id is None:
            problems.append(
                ("category", f"kategorin {code!r} kan inte användas i {municipality.name} den {day.isoformat()}")
            )
        return category_id

    def position(
        self, row: Sequence[Any], municipality: Municipality | None, problems: list
    ) -> tuple[int, float, float, int | None] | None:
        """(kind, lon or x, lat or y, area id of a named place): coordinates when the row has them, else the place."""
        coordinates = self.mapping.coordinates
        if coordinates is not None:
            a_key, b_key = ("lat", "lon") if coordinates == "wgs84" else ("x", "y")
            a_raw, b_raw = self.cell(row, a_key), self.cell(row, b_key)
            if _cell_text(a_raw) or _cell_text(b_raw):
                a = self.coordinate(a_raw, a_key, b_key, problems)
                b = self.coordinate(b_raw, b_key, a_key, problems)
                if a is None or b is None:
                    return None
                if coordinates == "wgs84":
                    message, point = _wgs84_problem(lat=a, lon=b), (WGS84_POINT, b, a, None)
                else:
                    message, point = _sweref_problem(x=a, y=b), (SWEREF_POINT, a, b, None)
                if message:
                    problems.append((a_key, message))
                    return None
                return point
        place = self.text(row, "place")
        if not place:
            wanted = {"wgs84": "lat och lon", "sweref99tm": "x och y", None: "platsnamn"}[coordinates]
            if "place" in self.idx and coordinates is not None:
                wanted += " eller platsnamn"
            problems.append((None, f"position saknas ({wanted})"))
            return None
        if municipality is None:
            return None
        found = self.context.places.find(municipality.pk, place)
        if found is None:
            problems.append(("place", f"inget område i {municipality.name} heter {place!r}"))
            return None
        area_id, lon, lat = found
        return NAMED_PLACE, lon, lat, area_id

    @staticmethod
    def coordinate(raw: Any, key: str, other: str, problems: list) -> float | None:
        if not _cell_text(raw):
            problems.append((key, f"{key} saknas när {other} är ifylld"))
            return None
        try:
            return number_of(raw)
        except BadValue as exc:
            problems.append((key, str(exc)))
            return None

    def details(self, row: Sequence[Any], problems: list) -> tuple[int | None, int, bool, bool, str | None]:
        """Persons, severity, the two flags, and the status in the file (None when it has none for the row)."""
        values: list[Any] = []
        for key, parse, default in (
            ("persons", persons_of, None),
            ("severity", severity_of, 1),
            ("police_reported", flag_of, False),
            ("fault_reported", flag_of, False),
        ):
            value = default
            if key in self.idx:
                try:
                    value = parse(self.cell(row, key))
                except BadValue as exc:
                    problems.append((key, str(exc)))
            values.append(value)
        status = None
        text = self.text(row, "status")
        if text:
            status = self.status_words.get(normalise(text))
            if status is None:
                problems.append(("status", f"okänd status {text!r} (ny, granskad, åtgärdad eller avslutad)"))
        return (*values, status)  # type: ignore[return-value]

    def identity(self, number: int, row: Sequence[Any], problems: list) -> str:
        source_key = self.mapping.source_key
        if "external_id" in self.idx:
            local_id = self.text(row, "external_id")
            if not local_id:
                problems.append(("external_id", "id saknas"))
                return ""
        else:
            local_id = _external_id_from_values(
                [_cell_text(row[i]) if i < len(row) else "" for i in self.hashed_columns]
            )
            self.hash_counts[local_id] += 1
            if self.hash_counts[local_id] > 1:
                # Identical rows are told apart by their order, which keeps a re-import of the same file stable.
                local_id = f"{local_id}-{self.hash_counts[local_id]}"
        external_id = f"{source_key}:{local_id}"
        if len(external_id) > MAX_EXTERNAL_ID:
            problems.append(("external_id", f"id är för långt (högst {MAX_EXTERNAL_ID - len(source_key) - 1} tecken)"))
        elif external_id in self.seen_ids:
            problems.append(("external_id", f"id {local_id!r} finns redan på rad {self.seen_ids[external_id]}"))
        else:
            self.seen_ids[external_id] = number
        return external_id


def _check_rows(table: Table, idx: dict[str, int], context: _Context, progress: Any) -> _Checked:
    """Read and check every row: valid rows are kept typed, bad ones recorded with every reason."""
    out = _Checked()
    checker = _RowChecker(table, idx, context)
    names = {key: table.header[i] for key, i in idx.items()}
    width = len(table.header)
    is_csv = table.kind == "CSV"
    for number, row in table.rows:
        if number % PROGRESS_EVERY == 0:
            progress(out.total)
        # Empty lines, which Excel often leaves at the end.
        if not any(row) or (is_csv and not "".join(row).strip()):
            continue
        out.total += 1
        if len(row) > width and any(_cell_text(v) for v in row[width:]):
            out.reject(
                number,
                None,
                f"raden har {len(row)} fält men rubrikraden {width} – kanske en text med skiljetecknet i sig, "
                "utan citattecken",
            )
            continue
        if (is_csv and "\x00" in "".join(row)) or (not is_csv and any(isinstance(v, str) and "\x00" in v for v in row)):
            # Python's csv module reads NUL since 3.11, and PostgreSQL stores no text with it.
            for i, value in enumerate(row):
                if isinstance(value, str) and "\x00" in value:
                    out.reject(number, table.header[i] if i < width and table.header[i] else None, NUL_MESSAGE)
            continue
        problems: list[tuple[str | None, str]] = []
        checked = checker.check(number, row, problems)
        if checked is None:
            for key, message in problems:
                out.reject(number, names.get(key) if key else None, message)
            continue
        typed, kind, first, second = checked
        out.rows.append(typed)
        out.kinds.append(kind)
        out.first.append(first)
        out.second.append(second)
    out.unknown_categories = checker.unknown_categories
    progress(out.total)
    return out


def _wgs84_problem(*, lat: float, lon: float) -> str | None:
    if in_sweden(lon, lat):
        return None
    if in_sweden(lat, lon):
        return f"lat och lon verkar ombytta (lat {lat:g}, lon {lon:g})"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return f"ogiltiga koordinater (lat {lat:g}, lon {lon:g})"
    if SWEREF_N[0] <= max(lat, lon) <= SWEREF_N[1]:
        return (
            f"koordinaterna ser ut att vara SWEREF 99 TM (meter), men mappningen anger lat/lon (lat {lat:g}, "
            f"lon {lon:g})"
        )
    return f"punkten ligger utanför Sverige (lat {lat:g}, lon {lon:g})"


def _sweref_problem(*, x: float, y: float) -> str | None:
    def inside(e: float, n: float) -> bool:
        return SWEREF_E[0] <= e <= SWEREF_E[1] and SWEREF_N[0] <= n <= SWEREF_N[1]

    if inside(x, y):
        return None
    if inside(y, x):
        return f"nordlig och östlig koordinat verkar ombytta (x {x:.0f}, y {y:.0f})"
    if in_sweden(y, x) or in_sweden(x, y):
        return (
            f"koordinaterna ser ut att vara grader (WGS84), men mappningen anger x/y i SWEREF 99 TM (x {x:g}, y {y:g})"
        )
    return f"punkten ligger utanför Sverige (x {x:.0f}, y {y:.0f})"


def _check_positions(checked: _Checked, context: _Context) -> None:
    """Project every point both ways and check that it lies in its municipality; rows outside become errors."""
    n = len(checked.rows)
    kinds = np.frombuffer(checked.kinds, dtype=np.int8) if n else np.empty(0, np.int8)
    first = np.frombuffer(checked.first, dtype=np.float64) if n else np.empty(0)
    second = np.frombuffer(checked.second, dtype=np.float64) if n else np.empty(0)
    lon, lat, x, y = first.copy(), second.copy(), np.empty(n), np.empty(n)
    sweref = kinds == SWEREF_POINT
    if sweref.any():
        lon[sweref], lat[sweref] = to_wgs84(first[sweref], second[sweref])
        x[sweref], y[sweref] = first[sweref], second[sweref]
    if (~sweref).any():
        x[~sweref], y[~sweref] = to_sweref(lon[~sweref], lat[~sweref])
    municipality_ids = np.fromiter((r.municipality_id for r in checked.rows), dtype=np.int64, count=n)
    outside = np.zeros(n, dtype=bool)
    for municipality_id in np.unique(municipality_ids):
        municipality = context.municipalities[int(municipality_id)]
        rows = np.flatnonzero((municipality_ids == municipality_id) & (kinds != NAMED_PLACE))
        if rows.size == 0:
            continue
        if not municipality.geometry:
            checked.notes.append(
                f"{municipality.name} saknar kommungräns i Samverkan; kontrollen att punkterna ligger i kommunen "
                "gjordes inte."
            )
            continue
        inside = contains_points(municipality.geometry, lon[rows], lat[rows])
        outside[rows[~inside]] = True
    if outside.any():
        coordinates = context.mapping.coordinates
        for i in np.flatnonzero(outside):
            row = checked.rows[i]
            column = context.mapping.columns["lat" if coordinates == "wgs84" else "x"]
            name = context.municipalities[row.municipality_id].name
            where = (
                f"lat {lat[i]:.5f}, lon {lon[i]:.5f}"
                if coordinates == "wgs84"
                else f"x {first[i]:.0f}, y {second[i]:.0f}"
            )
            checked.reject(row.number, column, f"punkten ligger utanför {name} ({where})")
        keep = ~outside
        checked.rows = [r for r, k in zip(checked.rows, keep, strict=True) if k]
        lon, lat, x, y = lon[keep], lat[keep], x[keep], y[keep]
    checked.lon, checked.lat, checked.x, checked.y = lon, lat, x, y


# --- writing ----------------------------------------------------------------------------------------------------------

# Compared with what is stored to tell updated from unchanged rows (status only when the file has a status column).
COMPARED = (
    "category_id",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "lat",
    "lon",
    "precision",
    "municipality_id",
    "description",
    "persons_estimate",
    "severity",
    "police_reported",
    "fault_reported",
    "source_organisation_id",
    "sensitivity",
)
DESCRIPTION = COMPARED.index("description")
DERIVED = ("x", "y", "personal_data_flags")


def _write(checked: _Checked, context: _Context, summary: ImportSummary, *, dry_run: bool, progress: Any) -> None:
    mapping = context.mapping
    # A status column is the truth for the rows that fill it in; otherwise the status is the mapping's for new reports
    # and left alone for existing ones, so a re-import does not undo review work done in Samverkan.
    with_status = "status" in mapping.columns
    compared = COMPARED + (("status",) if with_status else ())
    new_status = mapping.status or Status.NEW
    writer = None if dry_run else _Writer(compared, new_status)
    areas = _AreaAssigner()
    rows = checked.rows
    organisation_id = context.organisation.pk  # type: ignore[union-attr]
    touched: set[int] = set()
    with transaction.atomic():
        for start in range(0, len(rows), BATCH_SIZE):
            batch = range(start, min(start + BATCH_SIZE, len(rows)))
            stored = {
                values[1]: values
                for values in Incident.objects.filter(
                    source=Source.CSV, external_id__in=[rows[i].external_id for i in batch]
                )
                .order_by()
                .values_list("id", "external_id", *compared)
            }
            new, changed = [], []
            for i in batch:
                row = rows[i]
                ours = (
                    row.category_id,
                    row.occurred_from,
                    row.occurred_to,
                    row.reported_at,
                    float(checked.lat[i]),
                    float(checked.lon[i]),
                    row.precision,
                    row.municipality_id,
                    row.description,
                    row.persons,
                    row.severity,
                    row.police_reported,
                    row.fault_reported,
                    organisation_id,
                    mapping.sensitivity,
                )
                old = stored.get(row.external_id)
                if with_status:
                    ours += (row.status or (old[-1] if old else new_status),)
                if old is None:
                    new.append((i, ours))
                    continue
                theirs = old[2:]
                if ours == theirs:
                    continue
                if ours[DESCRIPTION] != theirs[DESCRIPTION] and _redacted_from(theirs[DESCRIPTION], ours[DESCRIPTION]):
                    # A reviewer redacted the stored text; importing the original again must not bring it back.
                    ours = (*ours[:DESCRIPTION], theirs[DESCRIPTION], *ours[DESCRIPTION + 1 :])
                    if ours == theirs:
                        continue
                moved = ours[4:6] != theirs[4:6] or ours[7] != theirs[7] or row.day != timezone.localdate(theirs[1])
                changed.append((i, old[0], ours, moved))
            summary.created += len(new)
            summary.updated += len(changed)
            summary.unchanged += len(batch) - len(new) - len(changed)
            if writer is not None:
                writer.insert(checked, new, areas)
                writer.update(checked, changed, areas)
                touched.update(rows[i].municipality_id for i, *_rest in new)
                touched.update(rows[i].municipality_id for i, *_rest in changed)
            progress(batch.stop)
        if touched:
            # Baselines and trends read the daily counts, so they must see the new rows in the same transaction.
            daily_counts_rebuild(municipality_ids=touched)


def _redacted_from(stored: str, incoming: str) -> bool:
    return stored == redact(incoming)


@lru_cache(maxsize=4096)
def _screened(description: str) -> tuple[dict[str, Any], ...]:
    return tuple(f.as_dict() for f in screen(description))


class _AreaAssigner:
    """The areas each point lies in, valid on the day it happened — one vectorised lookup per municipality and
    period in which the set of valid areas stays the same."""

    def __init__(self) -> None:
        self._boundaries: dict[int, list[dt.date]] = {}

    def _epoch(self, municipality_id: int, day: dt.date) -> int:
        if municipality_id not in self._boundaries:
            dates: set[dt.date] = set()
            for valid_from, valid_to in Area.objects.filter(municipality_id=municipality_id).values_list(
                "valid_from", "valid_to"
            ):
                dates.add(valid_from)
                if valid_to is not None:
                    dates.add(valid_to)
            self._boundaries[municipality_id] = sorted(dates)
        boundaries = self._boundaries[municipality_id]
        return -1 if not boundaries else bisect.bisect_right(boundaries, day)

    def links(self, checked: _Checked, indices: Sequence[int]) -> dict[int, list[int]]:
        """Row index → area ids, for the rows that lie in any area."""
        groups: dict[tuple[int, int], list[int]] = {}
        for i in indices:
            row = checked.rows[i]
            epoch = self._epoch(row.municipality_id, row.day)
            if epoch >= 0:
                groups.setdefault((row.municipality_id, epoch), []).append(i)
        result: dict[int, list[int]] = {}
        for (municipality_id, _epoch), members in groups.items():
            at = np.asarray(members)
            found = area_ids_containing(
                municipality_id=municipality_id,
                lon=checked.lon[at],
                lat=checked.lat[at],
                on=checked.rows[members[0]].day,
            )
            for i, area_ids in zip(members, found, strict=True):
                if area_ids:
                    result[i] = area_ids
        for i in indices:
            area_id = checked.rows[i].place_area_id
            if area_id is not None and area_id not in result.get(i, ()):
                result.setdefault(i, []).append(area_id)
        return result


class _Writer:
    """Inserts and updates with one prepared statement per batch (see the module docstring for why not
    bulk_create)."""

    def __init__(self, compared: tuple[str, ...], new_status: str) -> None:
        meta = Incident._meta
        self.new_status = new_status
        quote = connection.ops.quote_name
        self.compared = compared
        self.adapt_datetime = connection.ops.adapt_datetimefield_value
        self.flags_field = meta.get_field("personal_data_flags")
        self.no_flags = self.flags_field.get_db_prep_save([], connection)
        now = timezone.now()
        self.now = self.adapt_datetime(now)
        given = (*compared, *DERIVED, "source", "external_id", "status", "created_at", "updated_at")
        given = tuple(dict.fromkeys(given))
        rest = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in given]
        self.rest_values = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        columns = [meta.get_field(name).column for name in given] + [f.column for f in rest]
        table = quote(meta.db_table)
        self.insert_sql = (
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        )
        updated = (*compared, *DERIVED, "updated_at")
        self.update_sql = (
            f"UPDATE {table} SET {', '.join(f'{quote(meta.get_field(n).column)} = %s' for n in updated)} "
            f"WHERE {quote(meta.pk.column)} = %s"
        )
        through = Incident.areas.through
        through_meta = through._meta
        self.link_table = quote(through_meta.db_table)
        self.link_incident = quote(through_meta.get_field("incident").column)
        self.link_area = quote(through_meta.get_field("area").column)
        self.datetime_positions = [
            i for i, n in enumerate(compared) if n in {"occurred_from", "occurred_to", "reported_at"}
        ]

    def _prepare(self, ours: tuple, x: float, y: float) -> list[Any]:
        values = list(ours)
        for p in self.datetime_positions:
            if values[p] is not None:
                values[p] = self.adapt_datetime(values[p])
        flags = _screened(ours[DESCRIPTION])
        values.extend((x, y, self.flags_field.get_db_prep_save(list(flags), connection) if flags else self.no_flags))
        return values

    def insert(self, checked: _Checked, new: list[tuple[int, tuple]], areas: _AreaAssigner) -> None:
        if not new:
            return
        has_status = "status" in self.compared
        params = []
        for i, ours in new:
            values = self._prepare(ours, float(checked.x[i]), float(checked.y[i]))
            values.extend((Source.CSV, checked.rows[i].external_id))
            if not has_status:
                values.append(self.new_status)
            values.extend((self.now, self.now))
            params.append((*values, *self.rest_values))
        with connection.cursor() as cursor:
            cursor.executemany(self.insert_sql, params)
        links = areas.links(checked, [i for i, _ in new])
        if links:
            by_external_id = dict(
                Incident.objects.filter(source=Source.CSV, external_id__in=[checked.rows[i].external_id for i in links])
                .order_by()
                .values_list("external_id", "id")
            )
            self._link([(by_external_id[checked.rows[i].external_id], ids) for i, ids in links.items()])

    def update(self, checked: _Checked, changed: list[tuple[int, int, tuple, bool]], areas: _AreaAssigner) -> None:
        if not changed:
            return
        params = []
        for i, pk, ours, _moved in changed:
            values = self._prepare(ours, float(checked.x[i]), float(checked.y[i]))
            values.extend((self.now, pk))
            params.append(values)
        with connection.cursor() as cursor:
            cursor.executemany(self.update_sql, params)
        moved = [(i, pk) for i, pk, _ours, was_moved in changed if was_moved]
        if moved:
            Incident.areas.through.objects.filter(incident_id__in=[pk for _, pk in moved]).delete()
            links = areas.links(checked, [i for i, _ in moved])
            pk_of = dict(moved)
            self._link([(pk_of[i], ids) for i, ids in links.items()])

    def _link(self, links: list[tuple[int, list[int]]]) -> None:
        params = [(incident_id, area_id) for incident_id, area_ids in links for area_id in area_ids]
        if params:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {self.link_table} ({self.link_incident}, {self.link_area}) VALUES (%s, %s)", params
                )


# --- rejects ----------------------------------------------------------------------------------------------------------


def _write_rejects(path: Path, target: Path, mapping: Mapping, rejected: dict[int, list[str]]) -> None:
    """The rejected rows as they were, with their row number and reasons: UTF-8 with BOM and semicolons, so Excel
    opens it right, to be fixed and imported again."""
    with (
        open_table(
            path,
            encoding=mapping.encoding,
            delimiter=mapping.delimiter,
            sheet=mapping.sheet,
            expected_columns=list(mapping.columns.values()),
        ) as table,
        open(target, "w", encoding="utf-8-sig", newline="") as out,
    ):
        writer = csv.writer(out, delimiter=";")
        writer.writerow([*table.header, "rad", "fel"])
        width = len(table.header)
        for number, row in table.rows:
            reasons = rejected.get(number)
            if reasons:
                cells = [_cell_text(v) for v in row]
                cells = (cells + [""] * width)[: max(width, len(cells))]
                writer.writerow([*cells, number, "; ".join(reasons)])
