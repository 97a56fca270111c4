"""Periods of a situational picture: ISO week, month, tertial, year or custom dates, and the periods to compare with.

A period is a half-open range of local dates (Europe/Stockholm), ``start`` ≤ day < ``end``, because reports are
bucketed by the local day they happened on. Weeks are ISO weeks; tertials are January–April, May–August and
September–December, the cycle of the deeper analysis in EST.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import dataclass

MONTHS_SV = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
KINDS = ("week", "month", "tertial", "year", "custom")

# The unit a trend is counted in, as the picture names it.
UNIT_SV = {"week": "vecka", "month": "månad", "tertial": "tertial", "year": "år", "custom": "period"}

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_TERTIAL = re.compile(r"^(\d{4})-?T([123])$")
_YEAR = re.compile(r"^(\d{4})$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*/\s*(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """A range of local days, ``start`` ≤ day < ``end``, of one kind.

    Build periods with :func:`period_parse`, :func:`period_containing` or :meth:`Period.custom` rather than
    directly, so that a week starts on a Monday and a tertial on the first of January, May or September.
    """

    kind: str
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"period kind must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.end <= self.start:
            raise ValueError(f"a period must end after it starts (got {self.start} to {self.end})")

    @classmethod
    def custom(cls, first: dt.date, last: dt.date) -> Period:
        """The custom period from ``first`` to ``last``, both days included."""
        if last < first:
            raise ValueError(f"the last day ({last}) comes before the first ({first})")
        return cls("custom", first, last + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last(self) -> dt.date:
        """The last day included."""
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        """Swedish name: "Vecka 48 2026", "November 2026", "Tertial 3 2026", "2026", "1–15 november 2026"."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            return f"Vecka {iso.week} {iso.year}"
        if self.kind == "month":
            return f"{MONTHS_SV[self.start.month - 1].capitalize()} {self.start.year}"
        if self.kind == "tertial":
            return f"Tertial {(self.start.month - 1) // 4 + 1} {self.start.year}"
        if self.kind == "year":
            return str(self.start.year)
        return _date_range_sv(self.start, self.last)

    @property
    def short_label(self) -> str:
        """A compact name for chart axes: "v. 48", "nov 2026", "T3 2026", "2026", "1 nov"."""
        if self.kind == "week":
            return f"v. {self.start.isocalendar().week}"
        if self.kind == "month":
            return f"{MONTHS_SV[self.start.month - 1][:3]} {self.start.year}"
        if self.kind == "tertial":
            return f"T{(self.start.month - 1) // 4 + 1} {self.start.year}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.day} {MONTHS_SV[self.start.month - 1][:3]}"

    @property
    def code(self) -> str:
        """The text :func:`period_parse` reads: "2026-W48", "2026-11", "2026-T3", "2026", "2026-11-01/2026-11-15"."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "tertial":
            return f"{self.start.year}-T{(self.start.month - 1) // 4 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}/{self.last.isoformat()}"

    def shifted(self, n: int) -> Period:
        """The period ``n`` units later (earlier when negative): weeks, months, tertials, years, or for a custom
        period its own length."""
        if self.kind == "week":
            return Period("week", self.start + dt.timedelta(weeks=n), self.end + dt.timedelta(weeks=n))
        if self.kind in ("month", "tertial", "year"):
            months = {"month": 1, "tertial": 4, "year": 12}[self.kind]
            start = _add_months(self.start, n * months)
            return Period(self.kind, start, _add_months(start, months))
        step = dt.timedelta(days=n * self.days)
        return Period("custom", self.start + step, self.end + step)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    @property
    def seed(self) -> int:
        """A fixed random seed for this period, so that permutation tests give the same answer every time the
        picture of the period is computed."""
        return zlib.crc32(f"{self.kind}:{self.start.isoformat()}:{self.end.isoformat()}".encode())


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month (``day`` is the first of a month here)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _date_range_sv(first: dt.date, last: dt.date) -> str:
    if first == last:
        return f"{first.day} {MONTHS_SV[first.month - 1]} {first.year}"
    if first.year != last.year:
        return (
            f"{first.day} {MONTHS_SV[first.month - 1]} {first.year}–{last.day} {MONTHS_SV[last.month - 1]} {last.year}"
        )
    if first.month != last.month:
        return f"{first.day} {MONTHS_SV[first.month - 1]}–{last.day} {MONTHS_SV[last.month - 1]} {last.year}"
    return f"{first.day}–{last.day} {MONTHS_SV[last.month - 1]} {last.year}"


def period_parse(value: str) -> Period:
    """Read a period: "2026-W48" (ISO week), "2026-11" (month), "2026-T3" (tertial), "2026" (year) or
    "2026-11-01/2026-11-15" (custom, both days included).

    Raises
    ------
    ValueError
        Saying which forms are understood, or what is wrong with the dates (week 53 in a year without one, month 13,
        a last day before the first).
    """
    text = str(value).strip().upper()
    try:
        if m := _WEEK.match(text):
            year, week = int(m[1]), int(m[2])
            start = dt.date.fromisocalendar(year, week, 1)
            return Period("week", start, start + dt.timedelta(weeks=1))
        if m := _MONTH.match(text):
            start = dt.date(int(m[1]), int(m[2]), 1)
            return Period("month", start, _add_months(start, 1))
        if m := _TERTIAL.match(text):
            start = dt.date(int(m[1]), 4 * (int(m[2]) - 1) + 1, 1)
            return Period("tertial", start, _add_months(start, 4))
        if m := _YEAR.match(text):
            year = int(m[1])
            return Period("year", dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
        if m := _CUSTOM.match(text):
            return Period.custom(dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2]))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid period: {exc}") from None
    raise ValueError(
        f"{value!r} is not a period; expected e.g. 2026-W48 (week), 2026-11 (month), 2026-T3 (tertial), "
        "2026 (year) or 2026-11-01/2026-11-15 (dates)"
    )


def period_containing(kind: str, day: dt.date) -> Period:
    """The week, month, tertial or year that ``day`` falls in."""
    if kind == "week":
        start = day - dt.timedelta(days=day.isoweekday() - 1)
        return Period("week", start, start + dt.timedelta(weeks=1))
    if kind == "month":
        start = day.replace(day=1)
        return Period("month", start, _add_months(start, 1))
    if kind == "tertial":
        start = dt.date(day.year, 4 * ((day.month - 1) // 4) + 1, 1)
        return Period("tertial", start, _add_months(start, 4))
    if kind == "year":
        return Period("year", dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1))
    raise ValueError(f"kind must be week, month, tertial or year (got {kind!r})")


# --------------------------------------------------------------------------------------------------------------------
# Comparable earlier periods
# --------------------------------------------------------------------------------------------------------------------

BASELINE_WEEKS = 8
SEASONAL_YEARS = 3
FALLBACK_MONTHS = 6
FALLBACK_TERTIALS = 3
CUSTOM_REPEATS = 8
TREND_LENGTH = {"week": 26, "month": 24, "tertial": 9, "year": 5, "custom": CUSTOM_REPEATS + 1}


@dataclass(frozen=True, slots=True)
class Baseline:
    """The earlier periods a period is compared with (oldest first) and Swedish words describing them."""

    periods: tuple[Period, ...]
    words: str


def _covered(period: Period, data_start: dt.date | None) -> bool:
    # A period that began before anything was recorded would look quiet only for lack of records.
    return data_start is None or data_start <= period.start


def baseline_for(period: Period, *, data_start: dt.date | None = None) -> Baseline:
    """The comparable earlier periods of ``period``.

    Week: the 8 previous weeks. Month: the same month in the 3 previous years when the data reaches back that far,
    else the 6 previous months. Tertial: the same tertial in the 3 previous years, else the 3 previous tertials.
    Year: the 3 previous years. Custom: 8 periods of the same length immediately before.

    Periods that start before ``data_start`` (the first day with recorded data) are left out, since they would count
    missing records as quiet days; the words then name how many remain. With none left, ``periods`` is empty.
    """
    seasonal = False
    if period.kind == "week":
        candidates = [period.shifted(-k) for k in range(BASELINE_WEEKS, 0, -1)]
    elif period.kind in ("month", "tertial"):
        per_year = 12 if period.kind == "month" else 3
        same = [period.shifted(-k * per_year) for k in range(SEASONAL_YEARS, 0, -1)]
        if all(_covered(p, data_start) for p in same):
            candidates, seasonal = same, True
        else:
            n = FALLBACK_MONTHS if period.kind == "month" else FALLBACK_TERTIALS
            candidates = [period.shifted(-k) for k in range(n, 0, -1)]
    elif period.kind == "year":
        candidates = [period.shifted(-k) for k in range(SEASONAL_YEARS, 0, -1)]
    else:
        candidates = [period.shifted(-k) for k in range(CUSTOM_REPEATS, 0, -1)]
    periods = tuple(p for p in candidates if _covered(p, data_start))
    return Baseline(periods, baseline_words(period, len(periods), seasonal=seasonal))


def baseline_words(period: Period, n: int, *, seasonal: bool) -> str:
    """Swedish words for ``n`` comparable periods: "de 8 föregående veckorna", "samma månad de 3 föregående åren"."""
    if n == 0:
        return "inga tidigare perioder med data"
    if seasonal:
        unit = "månad" if period.kind == "month" else "tertial"
        return f"samma {unit} föregående år" if n == 1 else f"samma {unit} de {n} föregående åren"
    one, many = {
        "week": ("den föregående veckan", "veckorna"),
        "month": ("den föregående månaden", "månaderna"),
        "tertial": ("det föregående tertialet", "tertialen"),
        "year": ("det föregående året", "åren"),
        "custom": ("den föregående perioden", "perioderna"),
    }[period.kind]
    if period.kind == "custom":
        length = "1 dag" if period.days == 1 else f"{period.days} dagar"
        return f"{one} om {length}" if n == 1 else f"de {n} föregående {many} om {length}"
    return one if n == 1 else f"de {n} föregående {many}"


def trend_periods(period: Period, *, data_start: dt.date | None = None) -> tuple[Period, ...]:
    """The periods of the trend chart, oldest first, ending with ``period``: 26 weeks, 24 months, 9 tertials, 5 years,
    or for custom dates the period and the 8 before it. Earlier periods starting before ``data_start`` are left out;
    ``period`` itself is always the last."""
    n = TREND_LENGTH[period.kind]
    earlier = (period.shifted(-k) for k in range(n - 1, 0, -1))
    return (*(p for p in earlier if _covered(p, data_start)), period)
