"""Indicators of an agreement: each status word on constructed values, each source of values, the page and access."""

import datetime as dt
import types
from zoneinfo import ZoneInfo

import pytest
from django.http import Http404
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse

from samverkan.incidents.models import Category, FocusArea
from samverkan.plan.indicators import (
    ACHIEVED,
    LIKELY,
    NOT_ACHIEVED,
    TOO_LITTLE_DATA,
    UNCERTAIN,
    UNLIKELY,
    indicator_row,
    indicator_status,
    indicator_table,
)
from samverkan.plan.models import Agreement, Indicator, IndicatorValue
from samverkan.situation.models import SurveyIndex
from samverkan.situation.services import daily_counts_rebuild
from tests.factories import IncidentFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def eval_urls(settings):
    """The evaluation pages under /plan/, unless the project's URLs already include them."""
    try:
        reverse("plan_eval:indicators", args=[1])
    except NoReverseMatch:
        import config.urls

        module = types.ModuleType("plan_eval_test_urls")
        module.urlpatterns = [*config.urls.urlpatterns, path("plan/", include("samverkan.plan.evaluation_urls"))]
        settings.ROOT_URLCONF = module


# --------------------------------------------------------------------------------------------------------------------
# Status words on constructed values: baseline 100 in 2022, target 80 in 2025 (lower is better).
# The straight path: 93.3 in 2023, 86.7 in 2024.
# --------------------------------------------------------------------------------------------------------------------


def status(values, direction="decrease", baseline_year=2022, baseline_value=100.0, target_year=2025, target_value=80.0):
    return indicator_status(
        values=values,
        direction=direction,
        baseline_year=baseline_year,
        baseline_value=baseline_value,
        target_year=target_year,
        target_value=target_value,
    ).word


@pytest.mark.parametrize(
    ("values", "word"),
    [
        ({2023: 78.0}, ACHIEVED),
        ({2023: 80.0}, ACHIEVED),  # exactly at the target
        ({2023: 92.0}, LIKELY),
        ({2023: 93.0, 2024: 86.0}, LIKELY),
        ({2024: 86.0 + 2 / 3}, LIKELY),  # exactly on the path
        ({2023: 96.0}, UNCERTAIN),
        ({2023: 90.0, 2024: 88.0}, UNCERTAIN),  # the latest year decides: behind 86.7
        ({2023: 100.0}, UNLIKELY),  # unchanged is not on the way
        ({2023: 104.0}, UNLIKELY),
        ({2023: 95.0, 2025: 85.0}, NOT_ACHIEVED),
        ({2026: 81.0}, NOT_ACHIEVED),
        ({}, TOO_LITTLE_DATA),
        ({2022: 100.0}, TOO_LITTLE_DATA),  # only the baseline year
    ],
)
def test_status_words_lower_is_better(values, word):
    assert status(values) == word


@pytest.mark.parametrize(
    ("values", "word"),
    [
        ({2024: 71.0}, ACHIEVED),
        ({2024: 66.0}, LIKELY),  # path 63.3 in 2024
        ({2024: 60.0}, UNCERTAIN),
        ({2024: 45.0}, UNLIKELY),
        ({2025: 69.0}, NOT_ACHIEVED),
    ],
)
def test_status_words_higher_is_better(values, word):
    assert status(values, direction="increase", baseline_value=50.0, target_value=70.0) == word


def test_status_baseline_from_the_baseline_year_and_missing_parts():
    assert status({2022: 100.0, 2023: 92.0}, baseline_value=None) == LIKELY
    assert status({2022: 100.0, 2023: 97.0}, baseline_value=None) == UNCERTAIN
    assert status({2023: 92.0}, baseline_value=None) == TOO_LITTLE_DATA  # no value in the baseline year
    assert status({2023: 92.0}, target_value=None) == TOO_LITTLE_DATA
    reason = indicator_status(
        values={2023: 92.0},
        direction="decrease",
        baseline_year=2022,
        baseline_value=100.0,
        target_year=None,
        target_value=80.0,
    ).reason
    assert reason == "Inget mål är satt."
    with pytest.raises(ValueError, match="direction"):
        status({2023: 1.0}, direction="sideways")


# --------------------------------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------------------------------


def agreement_for(world):
    return Agreement.objects.create(
        title="Samverkansöverenskommelse 2025–2026",
        municipality=world.ystad,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2026, 12, 31),
    )


def at(year, month, day, hour=12):
    return dt.datetime(year, month, day, hour, tzinfo=STOCKHOLM)


def report(world, when, category="klotter", sensitivity="shared", area=None):
    incident = IncidentFactory(
        occurred_from=when,
        municipality=world.ystad,
        source_organisation=world.kommun,
        category=Category.objects.get(code=category, municipality=None),
        sensitivity=sensitivity,
    )
    if area is not None:
        incident.areas.add(area)
    return incident


def test_incident_counts_per_year(world):
    agreement = agreement_for(world)
    centrum = world.ystad.areas.get(name="Centrum")
    report(world, at(2024, 1, 1, 0))  # reporting starts on 1 January 2024: a whole year
    for month in (2, 3, 4):
        report(world, at(2024, month, 10), area=centrum)
    report(world, at(2024, 5, 5), category="narkotika")  # droger, not trygghet
    report(world, at(2024, 6, 6), sensitivity="police_restricted")
    report(world, at(2025, 3, 3))
    report(world, at(2025, 4, 4), area=centrum)
    report(world, at(2026, 2, 2))
    report(world, at(2026, 12, 2))  # after "today"
    daily_counts_rebuild()
    trygghet = Indicator.objects.create(
        agreement=agreement,
        name="Rapporter om trygghet",
        source="incidents",
        focus_area=FocusArea.objects.get(code="trygghet"),
        baseline_year=2024,
        target_value=3,
        target_year=2026,
    )
    row = indicator_row(trygghet, today=TODAY)
    assert {y: v["value"] for y, v in row["values"].items()} == {2024: 4.0, 2025: 2.0, 2026: 1.0}
    assert [y for y, v in row["values"].items() if v["partial"]] == [2026]
    assert row["baseline"] == {"year": 2024, "value": 4.0}
    assert row["latest"] == {"year": 2025, "value": 2.0}
    assert row["status"] == ACHIEVED

    drugs = Indicator.objects.create(agreement=agreement, name="Narkotika", source="incidents")
    drugs.categories.set([Category.objects.get(code="narkotika", municipality=None)])
    assert {y: v["value"] for y, v in indicator_row(drugs, today=TODAY)["values"].items()} == {
        2024: 1.0,
        2025: 0.0,
        2026: 0.0,
    }

    in_centrum = Indicator.objects.create(agreement=agreement, name="Centrum", source="incidents", area=centrum)
    assert {y: v["value"] for y, v in indicator_row(in_centrum, today=TODAY)["values"].items()} == {
        2024: 3.0,
        2025: 1.0,
        2026: 0.0,
    }


def test_a_first_year_that_started_late_is_partial(world):
    agreement = agreement_for(world)
    report(world, at(2024, 9, 1))
    report(world, at(2025, 3, 1))
    daily_counts_rebuild()
    indicator = Indicator.objects.create(agreement=agreement, name="Alla", source="incidents")
    row = indicator_row(indicator, today=TODAY)
    assert [y for y, v in row["values"].items() if v["partial"]] == [2024, 2026]
    # The default baseline year is the year before the agreement (2024), which is partial: no baseline value.
    assert row["baseline"] == {"year": 2024, "value": None}
    assert row["status"] == TOO_LITTLE_DATA


def test_no_reports_at_all_is_too_little_data(world):
    indicator = Indicator.objects.create(
        agreement=agreement_for(world), name="Alla", source="incidents", baseline_value=10, target_value=5
    )
    row = indicator_row(indicator, today=TODAY)
    assert row["values"] == {} and row["status"] == TOO_LITTLE_DATA


@pytest.mark.parametrize("source", ["survey", "statistics"])
def test_survey_and_statistics_read_the_survey_index(world, source):
    agreement = agreement_for(world)
    centrum = world.ystad.areas.get(name="Centrum")
    for year, value in ((2024, 1.6), (2025, 1.4)):
        SurveyIndex.objects.create(
            municipality=world.ystad, year=year, source="trygghetsmatning", code="problemindex", name="P", value=value
        )
    SurveyIndex.objects.create(
        municipality=world.ystad,
        area=centrum,
        year=2025,
        source="trygghetsmatning",
        code="problemindex",
        name="P",
        value=2.5,
    )
    SurveyIndex.objects.create(
        municipality=world.ystad, year=2025, source="trygghetsmatning", code="annat", name="A", value=9
    )
    SurveyIndex.objects.create(
        municipality=world.simrishamn, year=2025, source="trygghetsmatning", code="problemindex", name="P", value=3
    )
    common = {
        "agreement": agreement,
        "source": source,
        "survey_source": "trygghetsmatning",
        "survey_code": "problemindex",
    }
    whole = Indicator.objects.create(name="Problemindex", target_value=1.2, target_year=2026, **common)
    row = indicator_row(whole, today=TODAY)
    assert {y: v["value"] for y, v in row["values"].items()} == {2024: 1.6, 2025: 1.4}
    assert row["baseline"] == {"year": 2024, "value": 1.6}
    # Path from 1.6 (2024) to 1.2 (2026): 1.4 in 2025, met exactly.
    assert row["status"] == LIKELY
    area = Indicator.objects.create(name="Problemindex centrum", area=centrum, **common)
    assert {y: v["value"] for y, v in indicator_row(area, today=TODAY)["values"].items()} == {2025: 2.5}


def test_manual_values(world):
    agreement = agreement_for(world)
    indicator = Indicator.objects.create(
        agreement=agreement,
        name="Andel trygga i centrum",
        source="manual",
        unit="%",
        direction="increase",
        baseline_value=60,
        target_value=70,
    )
    IndicatorValue.objects.create(indicator=indicator, year=2025, value=61)
    row = indicator_row(indicator, today=TODAY)
    assert row["values"] == {2025: {"value": 61.0, "partial": False}}
    assert row["target"] == {"year": 2026, "value": 70.0}
    # Path from 60 (2024) to 70 (2026) is 65 in 2025: 61 is better than the baseline but behind.
    assert row["status"] == UNCERTAIN
    IndicatorValue.objects.create(indicator=indicator, year=2026, value=66)
    assert indicator_row(indicator, today=TODAY)["status"] == NOT_ACHIEVED


# --------------------------------------------------------------------------------------------------------------------
# The table, the page and access
# --------------------------------------------------------------------------------------------------------------------


def test_table_and_page(world, eval_urls):
    agreement = agreement_for(world)
    manual = Indicator.objects.create(
        agreement=agreement, name="Manuell", source="manual", baseline_value=10, target_value=5, target_year=2026
    )
    IndicatorValue.objects.create(indicator=manual, year=2025, value=4)
    Indicator.objects.create(agreement=agreement, name="Utan värden", source="manual")
    table = indicator_table(user=world.users["kommun_lasare"], agreement_id=agreement.pk, today=TODAY)
    assert [r["status"] for r in table["rows"]] == [ACHIEVED, TOO_LITTLE_DATA]
    assert table["years"] == [2025]
    client = Client()
    client.force_login(world.users["polis_lasare"])
    response = client.get(reverse("plan_eval:indicators", args=[agreement.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and 'id="indicators"' in html
    assert f"<strong>{ACHIEVED}</strong>" in html and f"<strong>{TOO_LITTLE_DATA}</strong>" in html


@pytest.mark.parametrize("user", ["kommun_rapportor", "simrishamn_samordnare", "nobody"])
def test_indicators_are_missing_for_those_without_access(world, eval_urls, user):
    agreement = agreement_for(world)
    with pytest.raises(Http404):
        indicator_table(user=world.users[user], agreement_id=agreement.pk)
    client = Client()
    client.force_login(world.users[user])
    assert client.get(reverse("plan_eval:indicators", args=[agreement.pk])).status_code == 404
