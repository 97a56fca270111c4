"""Periods of a picture: reading them, naming them in Swedish, and the earlier periods they are compared with."""

import datetime as dt
import itertools

import pytest

from samverkan.situation.periods import Period, baseline_for, period_containing, period_parse, trend_periods

D = dt.date


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "label"),
    [
        ("2026-W48", "week", D(2026, 11, 23), D(2026, 11, 30), "Vecka 48 2026"),
        ("2026w01", "week", D(2025, 12, 29), D(2026, 1, 5), "Vecka 1 2026"),
        ("2026-W53", "week", D(2026, 12, 28), D(2027, 1, 4), "Vecka 53 2026"),
        ("2026-11", "month", D(2026, 11, 1), D(2026, 12, 1), "November 2026"),
        ("2026-12", "month", D(2026, 12, 1), D(2027, 1, 1), "December 2026"),
        ("2026-T1", "tertial", D(2026, 1, 1), D(2026, 5, 1), "Tertial 1 2026"),
        ("2026-T2", "tertial", D(2026, 5, 1), D(2026, 9, 1), "Tertial 2 2026"),
        ("2026-t3", "tertial", D(2026, 9, 1), D(2027, 1, 1), "Tertial 3 2026"),
        ("2026", "year", D(2026, 1, 1), D(2027, 1, 1), "2026"),
        ("2026-11-01/2026-11-15", "custom", D(2026, 11, 1), D(2026, 11, 16), "1–15 november 2026"),
        ("2026-10-28 / 2026-11-03", "custom", D(2026, 10, 28), D(2026, 11, 4), "28 oktober–3 november 2026"),
        ("2025-12-28/2026-01-03", "custom", D(2025, 12, 28), D(2026, 1, 4), "28 december 2025–3 januari 2026"),
        ("2026-06-06/2026-06-06", "custom", D(2026, 6, 6), D(2026, 6, 7), "6 juni 2026"),
    ],
)
def test_parse_and_label(text, kind, start, end, label):
    p = period_parse(text)
    assert (p.kind, p.start, p.end, p.label) == (kind, start, end, label)
    assert period_parse(p.code) == p


@pytest.mark.parametrize(
    "text",
    ["2025-W53", "2026-W00", "2026-13", "2026-T4", "26", "vecka 48", "2026-11-15/2026-11-01", "2026-02-30/2026-03-01"],
)
def test_unreadable_periods_are_refused_with_the_forms_understood(text):
    with pytest.raises(ValueError, match=r"period"):
        period_parse(text)


def test_a_period_must_not_be_empty():
    with pytest.raises(ValueError, match="end after it starts"):
        Period("custom", D(2026, 1, 2), D(2026, 1, 2))
    with pytest.raises(ValueError, match="kind"):
        Period("quarter", D(2026, 1, 1), D(2026, 4, 1))


def test_the_iso_week_of_a_day_at_new_year():
    # 1 January 2027 is a Friday in ISO week 53 of 2026.
    week = period_containing("week", D(2027, 1, 1))
    assert week == period_parse("2026-W53")
    assert period_containing("week", D(2027, 1, 4)).label == "Vecka 1 2027"
    assert period_containing("tertial", D(2026, 8, 31)) == period_parse("2026-T2")
    assert period_containing("month", D(2026, 2, 28)).end == D(2026, 3, 1)
    assert period_containing("year", D(2026, 7, 1)) == period_parse("2026")
    with pytest.raises(ValueError):
        period_containing("custom", D(2026, 7, 1))


def test_shifted_steps_by_the_period_unit():
    assert period_parse("2026-01").shifted(-1) == period_parse("2025-12")
    assert period_parse("2026-T1").shifted(-1) == period_parse("2025-T3")
    assert period_parse("2026-T1").shifted(-3) == period_parse("2025-T1")
    assert period_parse("2026-W01").shifted(-1) == period_parse("2025-W52")
    assert period_parse("2026").shifted(2) == period_parse("2028")
    custom = period_parse("2026-11-01/2026-11-15")
    assert custom.shifted(-1) == period_parse("2026-10-17/2026-10-31")


def test_week_baseline_is_the_eight_previous_weeks():
    week = period_parse("2026-W10")
    base = baseline_for(week)
    assert [p.code for p in base.periods] == [f"2026-W{w:02d}" for w in range(2, 10)]
    assert base.words == "de 8 föregående veckorna"
    # Weeks that began before anything was recorded are left out, and the words say how many remain.
    base = baseline_for(week, data_start=D(2026, 2, 2))  # Monday of week 6
    assert [p.code for p in base.periods] == ["2026-W06", "2026-W07", "2026-W08", "2026-W09"]
    assert base.words == "de 4 föregående veckorna"
    assert baseline_for(week, data_start=D(2026, 2, 23)).words == "den föregående veckan"
    assert baseline_for(week, data_start=D(2026, 2, 24)).words == "inga tidigare perioder med data"
    assert baseline_for(week, data_start=D(2026, 3, 2)).periods == ()


def test_month_baseline_is_seasonal_when_the_data_reaches_back():
    month = period_parse("2026-11")
    seasonal = baseline_for(month, data_start=D(2023, 11, 1))
    assert [p.code for p in seasonal.periods] == ["2023-11", "2024-11", "2025-11"]
    assert seasonal.words == "samma månad de 3 föregående åren"
    recent = baseline_for(month, data_start=D(2023, 11, 2))
    assert [p.code for p in recent.periods] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert recent.words == "de 6 föregående månaderna"


def test_tertial_year_and_custom_baselines():
    tertial = period_parse("2026-T2")
    assert [p.code for p in baseline_for(tertial).periods] == ["2023-T2", "2024-T2", "2025-T2"]
    assert baseline_for(tertial).words == "samma tertial de 3 föregående åren"
    short = baseline_for(tertial, data_start=D(2025, 1, 1))
    assert [p.code for p in short.periods] == ["2025-T2", "2025-T3", "2026-T1"]
    assert short.words == "de 3 föregående tertialen"
    year = baseline_for(period_parse("2026"))
    assert [p.code for p in year.periods] == ["2023", "2024", "2025"] and year.words == "de 3 föregående åren"
    custom = baseline_for(period_parse("2026-11-01/2026-11-15"))
    assert len(custom.periods) == 8 and all(p.days == 15 for p in custom.periods)
    assert custom.periods[-1].end == D(2026, 11, 1) and custom.periods[0].start == D(2026, 11, 1) - dt.timedelta(120)
    assert custom.words == "de 8 föregående perioderna om 15 dagar"


@pytest.mark.parametrize(("text", "n"), [("2026-W48", 26), ("2026-11", 24), ("2026-T3", 9), ("2026", 5)])
def test_trend_periods_end_with_the_period(text, n):
    period = period_parse(text)
    periods = trend_periods(period)
    assert len(periods) == n and periods[-1] == period
    assert all(a.end == b.start for a, b in itertools.pairwise(periods))


def test_trend_periods_start_with_the_data_but_always_hold_the_period():
    period = period_parse("2026-W10")
    assert [p.code for p in trend_periods(period, data_start=D(2026, 2, 23))] == ["2026-W09", "2026-W10"]
    assert trend_periods(period, data_start=D(2026, 3, 4)) == (period,)


def test_seed_is_fixed_per_period():
    assert period_parse("2026-W48").seed == period_parse("2026-W48").seed
    assert period_parse("2026-W48").seed != period_parse("2026-W47").seed
