"""Indicators of an agreement: their values per year, and a status word for each in the words municipalities use.

Values per year, by the indicator's source:

* ``incidents`` — the number of reports per year, summed from the daily counts (``situation.DailyCount``) of the
  agreement's municipality, or of the indicator's area; only the indicator's categories (by code, so versions of a
  category count together), else its focus area, else all reports. Always the shared view: police-only reports are
  left out, because indicators are read by every party and the public. The current year and a first year in which
  reporting started after 1 January are *partial*: shown, but not used for the status, because a part of a year
  cannot be held against a yearly target.
* ``survey`` and ``statistics`` — ``situation.SurveyIndex`` rows with the indicator's ``survey_source`` and
  ``survey_code`` for the municipality (or the indicator's area).
* ``manual`` — the ``IndicatorValue`` rows entered by hand.

Baseline: ``baseline_value`` when set, else the value in ``baseline_year``. The baseline year defaults to the year
before the agreement starts, the target year to the year the agreement ends. Latest: the value of the latest whole
year.

Status (``direction`` decides what "better" means — lower for "decrease", higher for "increase"):

1. **för lite data** — no values, no target, no baseline, or no value after the baseline year yet.
2. **uppnått** — the latest value meets the target (at or better than it).
3. **inte uppnått** — a value for the target year (or later) exists and does not meet the target.
4. **troligt** — on track: the latest value is at or better than the straight line from the baseline (in the
   baseline year) to the target (in the target year), read at the latest value's year.
5. **osäkert** — better than the baseline but behind that line.
6. **inte troligt** — no better than the baseline (unchanged or moving the wrong way).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Min, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from samverkan.accounts.access import Action, access_agreement_by_id
from samverkan.incidents.models import Sensitivity
from samverkan.plan.models import Agreement, Direction, Indicator, IndicatorSource
from samverkan.situation.models import DailyCount, SurveyIndex

ACHIEVED = "uppnått"
LIKELY = "troligt"
UNCERTAIN = "osäkert"
UNLIKELY = "inte troligt"
NOT_ACHIEVED = "inte uppnått"
TOO_LITTLE_DATA = "för lite data"
STATUS_WORDS = (ACHIEVED, LIKELY, UNCERTAIN, UNLIKELY, NOT_ACHIEVED, TOO_LITTLE_DATA)

# The table shows at most this many years, the latest ones.
MAX_YEARS = 10
_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Status:
    word: str
    reason: str


def indicator_status(
    *,
    values: dict[int, float],
    direction: str,
    baseline_year: int | None,
    baseline_value: float | None,
    target_year: int | None,
    target_value: float | None,
) -> Status:
    """The status word of an indicator from its whole-year ``values`` (rules in the module docstring).

    ``baseline_value`` None: the value in ``baseline_year`` is used.
    """
    if direction not in (Direction.DECREASE, Direction.INCREASE):
        raise ValueError(f"direction must be 'decrease' or 'increase' (got {direction!r})")
    sign = -1.0 if direction == Direction.DECREASE else 1.0

    def at_least(a: float, b: float) -> bool:
        """Whether ``a`` is at or better than ``b``."""
        return sign * (a - b) >= -_TOLERANCE * max(1.0, abs(a), abs(b))

    if not values:
        return Status(TOO_LITTLE_DATA, "Inga värden ännu.")
    year = max(values)
    latest = values[year]
    if target_value is None or target_year is None:
        return Status(TOO_LITTLE_DATA, "Inget mål är satt.")
    if at_least(latest, target_value):
        return Status(ACHIEVED, f"{year}: {_sv(latest)}, målet {_sv(target_value)} är nått.")
    if year >= target_year:
        return Status(NOT_ACHIEVED, f"Målåret {target_year} har passerats utan att målet {_sv(target_value)} nåtts.")
    baseline = baseline_value if baseline_value is not None else values.get(baseline_year) if baseline_year else None
    if baseline is None or baseline_year is None:
        return Status(TOO_LITTLE_DATA, "Utgångsvärde saknas.")
    if year <= baseline_year:
        return Status(TOO_LITTLE_DATA, f"Inget värde efter utgångsåret {baseline_year} ännu.")
    if target_year > baseline_year:
        path = baseline + (target_value - baseline) * (year - baseline_year) / (target_year - baseline_year)
        if at_least(latest, path):
            return Status(LIKELY, f"{year}: {_sv(latest)}, i fas med vägen mot målet ({_sv(path)} detta år).")
    else:
        path = target_value
    if at_least(latest, baseline) and not at_least(baseline, latest):
        return Status(
            UNCERTAIN, f"{year}: {_sv(latest)}, bättre än utgångsvärdet men efter vägen mot målet ({_sv(path)})."
        )
    return Status(UNLIKELY, f"{year}: {_sv(latest)}, inte bättre än utgångsvärdet {_sv(baseline)}.")


def _sv(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".") if not float(value).is_integer() else f"{value:.0f}"
    return text.replace(".", ",").replace("-", "−")


# --------------------------------------------------------------------------------------------------------------------
# Values per year
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearValues:
    """Values per year; ``partial`` holds the years that cover only a part of the year."""

    values: dict[int, float]
    partial: frozenset[int] = field(default_factory=frozenset)

    @property
    def whole(self) -> dict[int, float]:
        return {y: v for y, v in self.values.items() if y not in self.partial}


def indicator_values(indicator: Indicator, *, today: dt.date | None = None) -> YearValues:
    """The indicator's values per year from its source (see the module docstring)."""
    today = today or timezone.localdate()
    municipality_id = indicator.agreement.municipality_id
    if indicator.source == IndicatorSource.INCIDENTS:
        return _incident_values(indicator, municipality_id, today)
    if indicator.source in (IndicatorSource.SURVEY, IndicatorSource.STATISTICS):
        rows = SurveyIndex.objects.filter(
            municipality_id=municipality_id, source=indicator.survey_source, code=indicator.survey_code
        )
        rows = rows.filter(area_id=indicator.area_id) if indicator.area_id else rows.filter(area__isnull=True)
        return YearValues({int(y): float(v) for y, v in rows.values_list("year", "value")})
    return YearValues({int(y): float(v) for y, v in indicator.values.values_list("year", "value")})


def _incident_values(indicator: Indicator, municipality_id: int, today: dt.date) -> YearValues:
    everything = DailyCount.objects.filter(municipality_id=municipality_id, area__isnull=True).exclude(
        sensitivity=Sensitivity.POLICE_RESTRICTED
    )
    first_day = everything.aggregate(first=Min("day"))["first"]
    if first_day is None:
        return YearValues({})
    rows = DailyCount.objects.filter(municipality_id=municipality_id).exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
    if indicator.area_id:
        rows = rows.filter(area_id=indicator.area_id)
        if indicator.area is not None:
            first_day = max(first_day, indicator.area.valid_from)
    else:
        rows = rows.filter(area__isnull=True)
    codes = list(indicator.categories.values_list("code", flat=True))
    if codes:
        rows = rows.filter(category__code__in=codes)
    elif indicator.focus_area_id:
        rows = rows.filter(category__focus_area_id=indicator.focus_area_id)
    sums = dict(
        rows.filter(day__gte=first_day, day__lte=today)
        .annotate(year=ExtractYear("day"))
        .values_list("year")
        .annotate(n=Sum("count"))
        .values_list("year", "n")
        .order_by()
    )
    # Years since reporting began count, with zero for a year without any such report.
    values = {year: float(sums.get(year, 0)) for year in range(first_day.year, today.year + 1)}
    partial = {today.year}
    if first_day > dt.date(first_day.year, 1, 1):
        partial.add(first_day.year)
    return YearValues(values, frozenset(partial))


# --------------------------------------------------------------------------------------------------------------------
# The table of an agreement
# --------------------------------------------------------------------------------------------------------------------


def indicator_row(indicator: Indicator, *, today: dt.date | None = None) -> dict[str, Any]:
    """One indicator with its values, baseline, target, latest value and status."""
    agreement: Agreement = indicator.agreement
    series = indicator_values(indicator, today=today)
    whole = series.whole
    baseline_year = indicator.baseline_year or agreement.period_start.year - 1
    target_year = indicator.target_year or agreement.period_end.year
    baseline = indicator.baseline_value if indicator.baseline_value is not None else whole.get(baseline_year)
    latest_year = max(whole) if whole else None
    status = indicator_status(
        values=whole,
        direction=indicator.direction,
        baseline_year=baseline_year,
        baseline_value=indicator.baseline_value,
        target_year=target_year,
        target_value=indicator.target_value,
    )
    return {
        "indicator": indicator,
        "values": {y: {"value": v, "partial": y in series.partial} for y, v in sorted(series.values.items())},
        "baseline": {"year": baseline_year, "value": baseline},
        "target": {"year": target_year, "value": indicator.target_value},
        "latest": None if latest_year is None else {"year": latest_year, "value": whole[latest_year]},
        "status": status.word,
        "reason": status.reason,
    }


def indicator_table(*, user, agreement_id: object, today: dt.date | None = None) -> dict[str, Any]:
    """Every indicator of an agreement the user may view (else ``Http404``), with the years to show as columns."""
    agreement: Agreement = access_agreement_by_id(user, agreement_id, Action.VIEW)
    indicators = agreement.indicators.select_related("agreement", "area", "focus_area").order_by("name", "id")
    rows = [indicator_row(i, today=today) for i in indicators]
    years = sorted({y for row in rows for y in row["values"]})[-MAX_YEARS:]
    for row in rows:
        row["cells"] = [row["values"].get(y) for y in years]
    return {"agreement": agreement, "years": years, "rows": rows, "status_words": STATUS_WORDS}
