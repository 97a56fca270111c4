"""Measures: the services and their refusals, the time-window notation, drawn places, list filters, the calendar,
the pages and the GeoJSON endpoint."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.urls import urlpatterns as project_urlpatterns
from samverkan.accounts.access import measures_visible_to
from samverkan.incidents.models import FocusArea
from samverkan.places.models import Area
from samverkan.places.services import area_create
from samverkan.plan import selectors, services
from samverkan.plan.forms import describe_time_windows, format_time_windows, parse_time_windows
from samverkan.plan.models import Agreement, Indicator, Measure, MeasureActivity, MeasureStatus
from tests.factories import SIMRISHAMN, YSTAD, square

# The project's URLs plus the plan's, for as long as config/urls.py does not include them.
urlpatterns = list(project_urlpatterns)
if not any(getattr(p, "namespace", None) == "plan" for p in urlpatterns):
    urlpatterns.insert(0, path("plan/", include("samverkan.plan.urls")))

pytestmark = pytest.mark.urls("tests.plan.test_measures")

INSIDE_CENTRUM = square(YSTAD[0], YSTAD[1], 0.002)
ELSEWHERE_IN_YSTAD = square(YSTAD[0] + 0.05, YSTAD[1] + 0.04, 0.002)


def focus(code: str = "trygghet") -> FocusArea:
    return FocusArea.objects.get(code=code)


def centrum(world) -> Area:
    return Area.objects.get(municipality=world.ystad, name="Centrum")


def make(world, user_key: str = "kommun_samordnare", **overrides) -> Measure:
    user = world.users[user_key]
    organisation = world.polis if user_key.startswith("polis") else world.kommun
    kwargs = {
        "user": user,
        "municipality_id": world.ystad.pk,
        "title": "Nattvandring vid torget",
        "focus_area_id": focus().pk,
        "kind": "social",
        "term": "short",
        "responsible_organisation_id": organisation.pk,
        "start": dt.date(2025, 3, 5),
    }
    kwargs.update(overrides)
    return services.measure_create(**kwargs)


def update_kwargs(measure: Measure, **overrides) -> dict:
    kwargs = {
        "measure_id": measure.pk,
        "title": measure.title,
        "focus_area_id": measure.focus_area_id,
        "kind": measure.kind,
        "term": measure.term,
        "responsible_organisation_id": measure.responsible_organisation_id,
        "start": measure.start,
        "end": measure.end,
        "area_ids": [a.pk for a in measure.areas.all()],
        "polygon": measure.polygon,
        "time_windows": measure.time_windows,
    }
    kwargs.update(overrides)
    return kwargs


def client_for(world, key: str) -> Client:
    # English pages, so the assertions do not depend on the state of the Swedish translation.
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world.users[key])
    return client


# --- the time-window notation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "fre–lör 20–02; sön 14–18",
            [
                {"weekdays": [5, 6], "start": "20:00", "end": "02:00"},
                {"weekdays": [7], "start": "14:00", "end": "18:00"},
            ],
        ),
        ("mån, ons 18:30–21", [{"weekdays": [1, 3], "start": "18:30", "end": "21:00"}]),
        ("fredagar och lördagar kl. 20.30 - 02", [{"weekdays": [5, 6], "start": "20:30", "end": "02:00"}]),
        ("vardagar kl 7-9", [{"weekdays": [1, 2, 3, 4, 5], "start": "07:00", "end": "09:00"}]),
        (
            "helger 10-16\ntis 8-9",
            [
                {"weekdays": [6, 7], "start": "10:00", "end": "16:00"},
                {"weekdays": [2], "start": "08:00", "end": "09:00"},
            ],
        ),
        ("lör–mån 22–03", [{"weekdays": [1, 6, 7], "start": "22:00", "end": "03:00"}]),
        ("sön", [{"weekdays": [7], "start": "00:00", "end": "00:00"}]),
        ("20–02", [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "20:00", "end": "02:00"}]),
        ("alla dagar 18–24", [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "18:00", "end": "00:00"}]),
        ("Fri-Sat 20-02", [{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}]),
        ("", []),
        (" ; \n", []),
    ],
)
def test_time_windows_are_read_from_what_people_write(text, expected):
    assert parse_time_windows(text) == expected


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("fra 20-02", "“fra”"),
        ("fre 25-02", "“25”"),
        ("fre 20:75-22", "“20:75”"),
        ("fre 24-02", "“24”"),
        ("fre 20", "“fre 20”"),
        ("fre-lör 20-20", "“fre-lör 20-20”"),
        ("fre 20-02 lör 18-02", "“fre 20-02 lör 18-02”"),
        ("fre-lör-sön 10-12", "“fre-lör-sön”"),
        ("vardagar-helger 10-12", "“vardagar-helger”"),
    ],
)
def test_bad_time_windows_are_refused_quoting_what_was_wrong(text, quoted):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        parse_time_windows(text)
    assert quoted in caught.value.messages[0]


def test_time_windows_are_written_back_in_the_notation_and_in_words():
    windows = parse_time_windows("lör–mån 22–03; ons 18:30–21; sön; mån-fre 18-24")
    with translation.override("sv"):
        assert format_time_windows(windows) == "lör–mån 22–03; ons 18:30–21; sön; mån–fre 18–24"
        words = describe_time_windows(windows)
    assert words[0].startswith("lördag–måndag 22:00–03:00 ")  # followed by "(until the next day)" in words
    assert words[1] == "onsdag 18:30–21:00"
    assert words[3] == "måndag–fredag 18:00–24:00"


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sets(st.integers(1, 7), min_size=1),
            st.integers(0, 23 * 60 + 59),
            st.integers(0, 23 * 60 + 59),
        ).filter(lambda t: t[1] != t[2] or t[1] == 0),
        max_size=4,
    ),
    st.sampled_from(["sv", "en"]),
)
def test_writing_and_reading_the_notation_round_trips(raw, language):
    windows = [
        {"weekdays": sorted(days), "start": f"{a // 60:02d}:{a % 60:02d}", "end": f"{b // 60:02d}:{b % 60:02d}"}
        for days, a, b in raw
    ]
    with translation.override(language):
        assert parse_time_windows(format_time_windows(windows)) == windows


def test_stored_time_windows_are_checked_at_the_service():
    assert services.time_windows_clean([{"weekdays": [6, 5, 5], "start": "20:00", "end": "02:00"}]) == [
        {"weekdays": [5, 6], "start": "20:00", "end": "02:00"}
    ]
    for bad in (
        {"weekdays": [5]},
        [{"weekdays": [0], "start": "20:00", "end": "02:00"}],
        [{"weekdays": [], "start": "20:00", "end": "02:00"}],
        [{"weekdays": [True], "start": "20:00", "end": "02:00"}],
        [{"weekdays": [5], "start": "24:00", "end": "02:00"}],
        [{"weekdays": [5], "start": "8:00", "end": "09:00"}],
        [{"weekdays": [5], "start": "08:00", "end": "09:00", "who": "x"}],
    ):
        with pytest.raises(ValidationError) as caught:
            services.time_windows_clean(bad)
        assert "time_windows" in caught.value.message_dict


# --- drawn places ---------------------------------------------------------------------------------------------


def test_a_drawn_polygon_in_sweden_is_kept_closed_and_rounded():
    ring = [[13.8200001234, 55.43], [13.83, 55.43], [13.83, 55.44]]
    cleaned = services.polygon_clean({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}})
    assert cleaned == {
        "type": "Polygon",
        "coordinates": [[[13.82, 55.43], [13.83, 55.43], [13.83, 55.44], [13.82, 55.43]]],
    }
    assert services.polygon_clean(None) is None and services.polygon_clean("") is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"type": "Point", "coordinates": [13.82, 55.43]}, "must be a polygon"),
        ({"type": "Polygon", "coordinates": []}, "no corners"),
        ({"type": "Polygon", "coordinates": [[[13.82, 55.43], [13.83, 55.43]]]}, "at least three corners"),
        (square(2.35, 48.85, 0.01), "not in Sweden"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[13.8, 55.4], [13.9, 55.5], [13.9, 55.4], [13.8, 55.5], [13.8, 55.4]]],
            },
            "crosses itself",
        ),
        ({"type": "Polygon", "coordinates": [[[13.8, 55.4], [float("nan"), 55.5], [13.9, 55.4]]]}, "could not be read"),
        ({"type": "Polygon", "coordinates": [[[13.8, 55.4], ["x", 55.5], [13.9, 55.4]]]}, "could not be read"),
    ],
)
def test_bad_drawn_places_are_refused(value, words):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.polygon_clean(value)
    assert words in caught.value.message_dict["polygon"][0]


def test_a_drawn_place_must_touch_the_municipality(world):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.polygon_clean(square(*SIMRISHAMN, 0.002), municipality=world.ystad)
    assert "outside Ystad" in caught.value.message_dict["polygon"][0]
    assert services.polygon_clean(INSIDE_CENTRUM, municipality=world.ystad)["type"] == "Polygon"


# --- creating and editing -----------------------------------------------------------------------------------------


def test_samordnare_records_a_measure_with_place_and_time(world):
    measure = make(
        world,
        area_ids=[centrum(world).pk],
        polygon=INSIDE_CENTRUM,
        time_windows=[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}],
        target_group="Unga 13–17 år",
        responsible_person="Fältsekreterare",
    )
    measure.refresh_from_db()
    assert measure.municipality == world.ystad and measure.status == MeasureStatus.PLANNED
    assert list(measure.areas.all()) == [centrum(world)]
    assert measure.polygon["type"] == "Polygon" and measure.time_windows[0]["weekdays"] == [5, 6]
    assert measure.created_by == world.users["kommun_samordnare"] and measure.end is None


def test_analytiker_creates_and_edits(world):
    measure = make(world, "polis_analytiker", title="Trafikkontroller")
    assert measure.responsible_organisation == world.polis
    services.measure_update(user=world.users["kommun_analytiker"], **update_kwargs(measure, title="Fler kontroller"))
    measure.refresh_from_db()
    # The kommun's analyst keeps the police as responsible, though it is not her own organisation.
    assert measure.title == "Fler kontroller" and measure.responsible_organisation == world.polis


@pytest.mark.parametrize(
    "key", ["kommun_lasare", "polis_lasare", "kommun_rapportor", "nobody", "simrishamn_samordnare"]
)
def test_who_may_not_write_gets_not_found(world, key):
    measure = make(world)
    user = world.users[key]
    with pytest.raises(Http404):
        make(world, key) if key != "nobody" else services.measure_create(
            user=user,
            municipality_id=world.ystad.pk,
            title="x",
            focus_area_id=focus().pk,
            kind="social",
            term="short",
            responsible_organisation_id=world.kommun.pk,
            start=dt.date(2025, 3, 1),
        )
    with pytest.raises(Http404):
        services.measure_update(user=user, **update_kwargs(measure, title="Ändrad"))
    with pytest.raises(Http404):
        services.measure_set_status(user=user, measure_id=measure.pk, to_status=MeasureStatus.ONGOING)
    with pytest.raises(Http404):
        services.activity_add(user=user, measure_id=measure.pk, date=dt.date(2025, 3, 6), text="Gick runt torget.")
    measure.refresh_from_db()
    assert measure.title == "Nattvandring vid torget" and measure.status == MeasureStatus.PLANNED
    assert not measure.activities.exists()


def test_who_reads_which_measures(world):
    ystad = make(world)
    simrishamn = services.measure_create(
        user=world.users["simrishamn_samordnare"],
        municipality_id=world.simrishamn.pk,
        title="Belysning i parken",
        focus_area_id=focus().pk,
        kind="situational",
        term="long",
        responsible_organisation_id=world.kommun_simrishamn.pk,
        start=dt.date(2025, 3, 1),
    )
    seen = lambda key: set(measures_visible_to(world.users[key]).values_list("pk", flat=True))  # noqa: E731
    assert seen("kommun_lasare") == seen("kommun_samordnare") == {ystad.pk}
    assert seen("polis_lasare") == {ystad.pk, simrishamn.pk}
    assert seen("simrishamn_samordnare") == {simrishamn.pk}
    assert seen("kommun_rapportor") == seen("polis_rapportor") == seen("nobody") == set()


def test_references_must_belong_to_the_municipality_and_the_user(world):
    simrishamn_area = area_create(
        municipality=world.simrishamn, kind="district", name="Hamnen", geometry=square(*SIMRISHAMN, 0.01)
    )
    other_agreement = Agreement.objects.create(
        title="Simrishamn 2025",
        municipality=world.simrishamn,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2027, 12, 31),
    )
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        make(
            world,
            responsible_organisation_id=world.polis.pk,  # not the kommun samordnare's organisation
            area_ids=[simrishamn_area.pk],
            agreement_id=other_agreement.pk,
            end=dt.date(2025, 3, 1),
            target_group="Kalle, 070-123 45 67",
        )
    errors = caught.value.message_dict
    assert set(errors) == {"responsible_organisation", "areas", "agreement", "end", "target_group"}
    assert "070-123 45 67" in errors["target_group"][0]
    assert not Measure.objects.exists()


def test_an_indicator_brings_its_agreement_and_must_match_it(world):
    agreement = Agreement.objects.create(
        title="Ystad 2023–2025",
        municipality=world.ystad,
        period_start=dt.date(2023, 1, 1),
        period_end=dt.date(2025, 12, 31),
    )
    other = Agreement.objects.create(
        title="Ystad 2026–2028",
        municipality=world.ystad,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2028, 12, 31),
    )
    indicator = Indicator.objects.create(agreement=agreement, name="Anmälda narkotikabrott", source="statistics")
    measure = make(world, indicator_id=indicator.pk)
    assert measure.agreement == agreement and measure.indicator == indicator
    with pytest.raises(ValidationError) as caught:
        make(world, indicator_id=indicator.pk, agreement_id=other.pk)
    assert set(caught.value.message_dict) == {"indicator"}


# --- status --------------------------------------------------------------------------------------------------


def status_log(measure: Measure) -> list[str]:
    return list(measure.activities.order_by("id").values_list("text", flat=True))


def label_sv(status: str) -> str:
    with translation.override("sv"):
        return str(MeasureStatus(status).label)


def test_planned_ongoing_done_sets_the_end_and_logs_each_step(world):
    user = world.users["kommun_samordnare"]
    measure = make(world)
    services.measure_set_status(user=user, measure_id=measure.pk, to_status="ongoing", on=dt.date(2025, 3, 6))
    services.measure_set_status(user=user, measure_id=measure.pk, to_status="done", on=dt.date(2025, 4, 30))
    measure.refresh_from_db()
    assert measure.status == "done" and measure.end == dt.date(2025, 4, 30)
    log = status_log(measure)
    assert len(log) == 2
    assert label_sv("planned") in log[0] and label_sv("ongoing") in log[0]
    assert label_sv("ongoing") in log[1] and label_sv("done") in log[1]
    assert set(measure.activities.values_list("organisation", flat=True)) == {world.kommun.pk}


def test_ending_keeps_an_end_that_was_planned(world):
    user = world.users["kommun_samordnare"]
    measure = make(world, end=dt.date(2025, 6, 30), status="ongoing")
    services.measure_set_status(user=user, measure_id=measure.pk, to_status="done", on=dt.date(2025, 5, 2))
    measure.refresh_from_db()
    assert measure.end == dt.date(2025, 6, 30)


def test_cancelling_before_the_start_ends_on_the_start_day(world):
    user = world.users["kommun_samordnare"]
    measure = make(world, start=dt.date(2025, 9, 1))
    services.measure_set_status(
        user=user, measure_id=measure.pk, to_status="cancelled", on=dt.date(2025, 8, 1), note="Ingen personal."
    )
    measure.refresh_from_db()
    assert measure.status == "cancelled" and measure.end == dt.date(2025, 9, 1)
    assert status_log(measure)[0].endswith("Ingen personal.")


def test_delayed_can_resume_and_end(world):
    user = world.users["polis_samordnare"]
    measure = make(world)
    for step in ("delayed", "ongoing", "delayed", "done"):
        services.measure_set_status(user=user, measure_id=measure.pk, to_status=step, on=dt.date(2025, 3, 10))
    measure.refresh_from_db()
    assert measure.status == "done" and len(status_log(measure)) == 4
    # Written by a police member for a kommun's measure: logged for the police.
    assert set(measure.activities.values_list("organisation", flat=True)) == {world.polis.pk}


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((), "done"),
        ((), "planned"),
        (("ongoing",), "planned"),
        (("ongoing", "done"), "ongoing"),
        (("ongoing", "done"), "cancelled"),
        (("cancelled",), "ongoing"),
        ((), "finished"),
    ],
)
def test_refused_status_changes(world, path, refused):
    user = world.users["kommun_samordnare"]
    measure = make(world)
    for step in path:
        services.measure_set_status(user=user, measure_id=measure.pk, to_status=step)
    before = measure.activities.count()
    with pytest.raises(ValidationError) as caught:
        services.measure_set_status(user=user, measure_id=measure.pk, to_status=refused)
    assert "status" in caught.value.message_dict
    assert measure.activities.count() == before


def test_a_status_changed_in_the_form_follows_the_same_rules(world):
    user = world.users["kommun_samordnare"]
    measure = make(world)
    with pytest.raises(ValidationError):
        services.measure_update(user=user, **update_kwargs(measure, status="done"))
    services.measure_update(user=user, **update_kwargs(measure, status="ongoing"))
    services.measure_update(user=user, **update_kwargs(measure, status="cancelled"))
    measure.refresh_from_db()
    assert measure.status == "cancelled" and measure.end == max(timezone.localdate(), measure.start)
    assert len(status_log(measure)) == 2


# --- the activity log ----------------------------------------------------------------------------------------


def test_activities_are_logged_for_the_users_organisation(world):
    measure = make(world)
    activity = services.activity_add(
        user=world.users["polis_analytiker"], measure_id=measure.pk, date=dt.date(2025, 3, 7), text=" Patrull 21–23. "
    )
    assert activity.organisation == world.polis and activity.text == "Patrull 21–23."
    assert activity.created_by == world.users["polis_analytiker"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"text": "   "}, "text"),
        ({"date": timezone.localdate() + dt.timedelta(days=1)}, "date"),
        ({"text": "Pratade med 19850101-1234."}, "text"),
        ({"organisation_id": "polis"}, "organisation"),
    ],
)
def test_bad_activities_are_refused(world, overrides, field):
    measure = make(world)
    kwargs = {"date": dt.date(2025, 3, 7), "text": "Gick runt torget."}
    if overrides.get("organisation_id") == "polis":
        overrides = {"organisation_id": world.polis.pk}  # the kommun samordnare is not in the police
    kwargs.update(overrides)
    with pytest.raises(ValidationError) as caught:
        services.activity_add(user=world.users["kommun_samordnare"], measure_id=measure.pk, **kwargs)
    assert field in caught.value.message_dict
    assert not MeasureActivity.objects.exists()


# --- reading: filters, area and period ------------------------------------------------------------------------


@pytest.fixture
def several(world):
    user = world.users["kommun_samordnare"]
    in_centrum = make(
        world, title="A centrum", area_ids=[centrum(world).pk], start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31)
    )
    drawn = make(
        world,
        title="B drawn",
        polygon=INSIDE_CENTRUM,
        start=dt.date(2025, 2, 1),
        end=dt.date(2025, 2, 28),
        focus_area_id=focus("droger").pk,
    )
    elsewhere = make(
        world, "polis_samordnare", title="C elsewhere", polygon=ELSEWHERE_IN_YSTAD, start=dt.date(2025, 3, 1)
    )
    cancelled = make(world, title="D cancelled", area_ids=[centrum(world).pk], start=dt.date(2025, 2, 10))
    services.measure_set_status(user=user, measure_id=cancelled.pk, to_status="cancelled", on=dt.date(2025, 2, 12))
    services.measure_set_status(user=user, measure_id=elsewhere.pk, to_status="ongoing")
    return {"a": in_centrum, "b": drawn, "c": elsewhere, "d": cancelled}


def titles(qs) -> list[str]:
    return sorted(m.title[0] for m in qs)


def test_list_filters(world, several):
    user = world.users["kommun_lasare"]
    assert titles(selectors.measure_list(user)) == ["A", "B", "C", "D"]
    assert titles(selectors.measure_list(user, status="ongoing")) == ["C"]
    assert titles(selectors.measure_list(user, focus_area_id=focus("droger").pk)) == ["B"]
    assert titles(selectors.measure_list(user, organisation_id=world.polis.pk)) == ["C"]
    # An area matches measures chosen for it and measures drawn over it.
    assert titles(selectors.measure_list(user, area_id=centrum(world).pk)) == ["A", "B", "D"]
    # Periods overlap: C has no end and runs on; D ended 2025-02-12.
    assert titles(selectors.measure_list(user, period_start=dt.date(2025, 1, 31), period_end=dt.date(2025, 2, 1))) == [
        "A",
        "B",
    ]
    assert titles(selectors.measure_list(user, period_start=dt.date(2025, 2, 13))) == ["B", "C"]
    assert titles(selectors.measure_list(user, period_end=dt.date(2024, 12, 31))) == []
    assert titles(selectors.measure_list(world.users["simrishamn_samordnare"])) == []


def test_measures_in_an_area_during_a_period(world, several):
    user = world.users["polis_lasare"]
    found = selectors.measures_in_area_during(
        user, area_id=centrum(world).pk, start=dt.date(2025, 1, 15), end=dt.date(2025, 2, 15)
    )
    assert [m.title[0] for m in found] == ["A", "B"]
    with_cancelled = selectors.measures_in_area_during(
        user, area_id=centrum(world).pk, start=dt.date(2025, 1, 15), end=dt.date(2025, 2, 15), include_cancelled=True
    )
    assert [m.title[0] for m in with_cancelled] == ["A", "B", "D"]
    assert (
        selectors.measures_in_area_during(
            world.users["kommun_rapportor"],
            area_id=centrum(world).pk,
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
        )
        == []
    )


# --- the calendar --------------------------------------------------------------------------------------------


def test_calendar_shows_measures_on_the_days_of_their_windows(world):
    weekend = make(
        world,
        title="Helgkvällar",
        start=dt.date(2025, 3, 5),
        end=dt.date(2025, 3, 20),
        time_windows=[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}],
    )
    allday = make(world, title="Hela dagen", start=dt.date(2025, 3, 30), end=dt.date(2025, 4, 2))
    gone = make(world, title="Inställd", start=dt.date(2025, 3, 1))
    services.measure_set_status(user=world.users["kommun_samordnare"], measure_id=gone.pk, to_status="cancelled")
    month = selectors.measure_calendar(world.users["kommun_lasare"], year=2025, month=3)
    days = {d.date: d for week in month.weeks for d in week}
    # March 2025 begins on a Saturday and ends on a Monday: ISO weeks from 24 February to 6 April.
    assert min(days) == dt.date(2025, 2, 24) and max(days) == dt.date(2025, 4, 6) and len(month.weeks) == 6
    assert all(len(week) == 7 for week in month.weeks)
    assert not days[dt.date(2025, 2, 28)].in_month and days[dt.date(2025, 3, 1)].in_month
    on = lambda m: sorted(d for d, day in days.items() if any(e.measure == m for e in day.entries))  # noqa: E731
    assert on(weekend) == [dt.date(2025, 3, 7), dt.date(2025, 3, 8), dt.date(2025, 3, 14), dt.date(2025, 3, 15)]
    assert [e.windows for e in days[dt.date(2025, 3, 7)].entries] == [
        ({"weekdays": [5, 6], "start": "20:00", "end": "02:00"},)
    ]
    assert on(allday) == [dt.date(2025, 3, 30), dt.date(2025, 3, 31), dt.date(2025, 4, 1), dt.date(2025, 4, 2)]
    assert on(gone) == []
    assert (month.previous, month.next) == (dt.date(2025, 2, 1), dt.date(2025, 4, 1))
    assert selectors.measure_calendar(world.users["kommun_rapportor"], year=2025, month=3).weeks[1][4].entries == ()


def test_calendar_page(world):
    make(
        world,
        title="Helgkvällar",
        start=dt.date(2025, 3, 5),
        end=dt.date(2025, 3, 20),
        time_windows=[{"weekdays": [5], "start": "20:00", "end": "02:00"}],
    )
    html = (
        client_for(world, "kommun_lasare").get(reverse("plan:measure_calendar"), {"month": "2025-03"}).content.decode()
    )
    friday = html.split('data-date="2025-03-07"')[1].split("</td>")[0]
    thursday = html.split('data-date="2025-03-06"')[1].split("</td>")[0]
    assert "Helgkvällar" in friday and "20–02" in friday and "Helgkvällar" not in thursday
    assert "month=2025-02" in html and "month=2025-04" in html and "<caption>" in html
    assert client_for(world, "kommun_rapportor").get(reverse("plan:measure_calendar")).status_code == 404


# --- pages ------------------------------------------------------------------------------------------------------


def form_data(world, **overrides) -> dict:
    data = {
        "municipality": world.ystad.pk,
        "title": "Fältarbete vid stationen",
        "focus_area": focus("droger").pk,
        "kind": "social",
        "term": "short",
        "responsible_organisation": world.kommun.pk,
        "responsible_person": "Fältsekreterare",
        "target_group": "Unga 15–20 år",
        "areas": [centrum(world).pk],
        "polygon": json.dumps(INSIDE_CENTRUM),
        "time_windows": "fre–lör 20–02; sön 14–18",
        "start": "2025-03-05",
        "end": "",
        "status": "planned",
    }
    data.update(overrides)
    return data


def test_create_through_the_form(world):
    client = client_for(world, "kommun_samordnare")
    response = client.post(reverse("plan:measure_create"), form_data(world))
    measure = Measure.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("plan:measure_detail", args=[measure.pk])
    assert measure.time_windows == [
        {"weekdays": [5, 6], "start": "20:00", "end": "02:00"},
        {"weekdays": [7], "start": "14:00", "end": "18:00"},
    ]
    assert measure.polygon["type"] == "Polygon" and list(measure.areas.all()) == [centrum(world)]
    html = client.get(response["Location"]).content.decode()
    assert "Fältarbete vid stationen" in html and "friday–saturday 20:00–02:00" in html.lower()
    assert reverse("plan:measure_edit", args=[measure.pk]) in html and 'name="to_status" value="ongoing"' in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"time_windows": "fre–lör 20–26"}, "“26” is not a time of day."),
        ({"polygon": "{not json"}, "The drawn place could not be read."),
        ({"polygon": json.dumps(square(*SIMRISHAMN, 0.002))}, "The drawn place is outside Ystad."),
        ({"end": "2025-03-01"}, "The end is before the start."),
        ({"responsible_organisation": "999999"}, "Select a valid choice."),
    ],
)
def test_form_errors_come_back_beside_the_fields(world, overrides, message):
    response = client_for(world, "kommun_samordnare").post(
        reverse("plan:measure_create"), form_data(world, **overrides)
    )
    html = response.content.decode()
    assert response.status_code == 200 and message in html
    assert "Fältarbete vid stationen" in html and not Measure.objects.exists()


def test_create_is_prefilled_from_a_suggestion_link(world):
    query = {
        "area": [str(centrum(world).pk)],
        "polygon": json.dumps(INSIDE_CENTRUM),
        "time_windows": json.dumps([{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}]),
        "focus": "droger",
        "motivation": "Hotspot i centrum fredag–lördag kväll.",
    }
    response = client_for(world, "kommun_samordnare").get(reverse("plan:measure_create"), query)
    form = response.context["form"]
    assert form.initial["areas"] == [centrum(world).pk]
    assert form.initial["focus_area"] == focus("droger").pk
    assert json.loads(form.initial["polygon"])["type"] == "Polygon"
    assert form.initial["time_windows"] == "Fri–Sat 20–02".lower()
    assert "Hotspot i centrum fredag–lördag kväll." in response.content.decode()
    text = client_for(world, "kommun_samordnare").get(reverse("plan:measure_create"), {"time_windows": "sön 14–18"})
    assert text.context["form"].initial["time_windows"] == "sön 14–18"


def test_reader_reads_but_cannot_change(world):
    measure = make(world)
    client = client_for(world, "kommun_lasare")
    html = client.get(reverse("plan:measure_detail", args=[measure.pk])).content.decode()
    assert "Nattvandring vid torget" in html
    assert reverse("plan:measure_edit", args=[measure.pk]) not in html and 'name="to_status"' not in html
    assert client.get(reverse("plan:measure_edit", args=[measure.pk])).status_code == 404
    assert client.get(reverse("plan:measure_create")).status_code == 404
    assert client.post(reverse("plan:measure_status", args=[measure.pk]), {"to_status": "ongoing"}).status_code == 404
    response = client.post(reverse("plan:measure_activity_add", args=[measure.pk]), {"date": "2025-03-07", "text": "x"})
    assert response.status_code == 404
    measure.refresh_from_db()
    assert measure.status == "planned" and not measure.activities.exists()


@pytest.mark.parametrize("key", ["kommun_rapportor", "simrishamn_samordnare"])
def test_others_see_nothing(world, key):
    measure = make(world)
    client = client_for(world, key)
    assert client.get(reverse("plan:measure_detail", args=[measure.pk])).status_code == 404
    assert client.get(reverse("plan:measure_edit", args=[measure.pk])).status_code == 404
    if key == "kommun_rapportor":
        for name in ("measure_list", "measure_map", "measure_geojson", "measure_create"):
            assert client.get(reverse(f"plan:{name}")).status_code == 404
    else:
        assert "Nattvandring" not in client.get(reverse("plan:measure_list")).content.decode()


def test_status_buttons_and_activity_form(world):
    measure = make(world)
    client = client_for(world, "kommun_samordnare")
    response = client.post(reverse("plan:measure_status", args=[measure.pk]), {"to_status": "ongoing"})
    assert response.status_code == 302
    response = client.post(reverse("plan:measure_status", args=[measure.pk]), {"to_status": "planned"})
    assert "cannot become" in client.get(response["Location"]).content.decode()
    response = client.post(
        reverse("plan:measure_activity_add", args=[measure.pk]),
        {"date": "2025-03-07", "text": "Två nattvandrare på torget 21–23.", "organisation": world.kommun.pk},
    )
    assert response.status_code == 302
    html = client.get(reverse("plan:measure_detail", args=[measure.pk])).content.decode()
    assert "Två nattvandrare på torget 21–23." in html and "2025-03-07" in html
    response = client.post(
        reverse("plan:measure_activity_add", args=[measure.pk]),
        {"date": "2025-03-08", "text": "Ring 0701234567.", "organisation": world.kommun.pk},
    )
    assert response.status_code == 200 and "0701234567" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == "ongoing" and measure.activities.count() == 2  # status change + one activity


def test_edit_through_the_form(world):
    measure = make(world, time_windows=[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}])
    client = client_for(world, "kommun_analytiker")
    page = client.get(reverse("plan:measure_edit", args=[measure.pk]))
    assert page.context["form"].initial["time_windows"] == "fri–sat 20–02"
    data = form_data(world, title="Nattvandring, utökad", time_windows="fre–sön 20–02", status="ongoing")
    del data["municipality"]
    response = client.post(reverse("plan:measure_edit", args=[measure.pk]), data)
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.title == "Nattvandring, utökad" and measure.status == "ongoing"
    assert measure.time_windows == [{"weekdays": [5, 6, 7], "start": "20:00", "end": "02:00"}]


def test_list_page_filters_and_pages(world, several, settings):
    settings.SAMVERKAN_PAGE_SIZE = 2
    client = client_for(world, "kommun_lasare")
    html = client.get(reverse("plan:measure_list"), {"area": centrum(world).pk}).content.decode()
    # Newest start first.
    assert "D cancelled" in html and "B drawn" in html and "C elsewhere" not in html and "page=2" in html
    second = client.get(reverse("plan:measure_list"), {"area": centrum(world).pk, "page": 2}).content.decode()
    assert "A centrum" in second and "D cancelled" not in second
    only = client.get(reverse("plan:measure_list"), {"status": "ongoing"}).content.decode()
    assert "C elsewhere" in only and "A centrum" not in only


def test_geojson_shows_only_visible_measures(world, several):
    simrishamn_area = area_create(
        municipality=world.simrishamn, kind="district", name="Hamnen", geometry=square(*SIMRISHAMN, 0.01)
    )
    other = services.measure_create(
        user=world.users["simrishamn_samordnare"],
        municipality_id=world.simrishamn.pk,
        title="E Simrishamn",
        focus_area_id=focus().pk,
        kind="situational",
        term="long",
        responsible_organisation_id=world.kommun_simrishamn.pk,
        start=dt.date(2025, 3, 1),
        area_ids=[simrishamn_area.pk],
    )

    def ids(key, **query):
        data = client_for(world, key).get(reverse("plan:measure_geojson"), query).json()
        found = set()
        for f in data["features"]:
            if f["properties"]["role"] == "measure":
                found.add(f["properties"]["id"])
            else:
                found |= {m["id"] for m in f["properties"]["measures"]}
        return found, data

    ystad = {several[k].pk for k in "abcd"}
    found, data = ids("kommun_lasare")
    assert found == ystad and data["count"] == 4 and data["without_place"] == 0
    area_features = [f for f in data["features"] if f["properties"]["role"] == "area"]
    assert [f["properties"]["name"] for f in area_features] == ["Centrum"]
    assert {m["id"] for m in area_features[0]["properties"]["measures"]} == {several["a"].pk, several["d"].pk}
    assert ids("polis_lasare")[0] == ystad | {other.pk}
    assert ids("simrishamn_samordnare")[0] == {other.pk}
    assert ids("kommun_lasare", status="ongoing")[0] == {several["c"].pk}
    assert client_for(world, "kommun_rapportor").get(reverse("plan:measure_geojson")).status_code == 404


def test_map_page_loads_local_assets(world):
    html = client_for(world, "kommun_lasare").get(reverse("plan:measure_map"), {"status": "ongoing"}).content.decode()
    assert "/static/samverkan/plan.js" in html and "/static/vendor/leaflet/leaflet.js" in html
    assert reverse("plan:measure_geojson") + "?status=ongoing" in html


def test_the_form_knows_the_only_municipality_and_organisation(world):
    html = client_for(world, "kommun_samordnare").get(reverse("plan:measure_create")).content.decode()
    assert f'type="hidden" name="municipality" value="{world.ystad.pk}"' in html
    assert f'<option value="{world.kommun.pk}" selected>' in html


def test_a_user_in_several_municipalities_chooses_one_and_its_areas(world):
    client = client_for(world, "polis_samordnare")
    html = client.get(reverse("plan:measure_create")).content.decode()
    assert '<select name="municipality"' in html and "Simrishamn" in html
    data = form_data(world, municipality=world.simrishamn.pk, responsible_organisation=world.polis.pk, polygon="")
    response = client.post(reverse("plan:measure_create"), data)
    # The choices follow the chosen municipality: Ystad's Centrum is not among Simrishamn's areas.
    assert response.status_code == 200 and "areas" in response.context["form"].errors
    assert not Measure.objects.exists()
    data["areas"] = []
    response = client.post(reverse("plan:measure_create"), data)
    assert response.status_code == 302 and Measure.objects.get().municipality == world.simrishamn


def test_a_suggested_place_in_several_parts_becomes_one_outline(world):
    a, b = square(YSTAD[0], YSTAD[1], 0.001), square(YSTAD[0] + 0.002, YSTAD[1] + 0.002, 0.001)
    multi = {"type": "MultiPolygon", "coordinates": [a["coordinates"], b["coordinates"]]}
    query = {"polygon": json.dumps(multi), "time_windows": "fre 20–24; lör 00–04", "municipality": world.ystad.pk}
    response = client_for(world, "kommun_samordnare").get(reverse("plan:measure_create"), query)
    initial = response.context["form"].initial
    polygon = json.loads(initial["polygon"])
    corners = {tuple(p) for p in polygon["coordinates"][0]}
    assert polygon["type"] == "Polygon" and (YSTAD[0] - 0.001, YSTAD[1] - 0.001) in corners
    assert (YSTAD[0] + 0.003, YSTAD[1] + 0.003) in corners
    assert parse_time_windows(initial["time_windows"]) == [
        {"weekdays": [5], "start": "20:00", "end": "00:00"},
        {"weekdays": [6], "start": "00:00", "end": "04:00"},
    ]


def test_a_measure_that_ends_is_evaluated_at_once(world):
    import datetime as dt

    from django.utils import timezone

    from samverkan.incidents.models import FocusArea
    from samverkan.plan.models import Evaluation
    from samverkan.plan.services import measure_create, measure_set_status

    user = world.users["kommun_samordnare"]
    today = timezone.localdate()
    measure = measure_create(
        user=user,
        municipality_id=world.ystad.pk,
        title="Extra ronder i centrum",
        focus_area_id=FocusArea.objects.get(code="trygghet").pk,
        kind="situational",
        term="short",
        responsible_organisation_id=world.kommun.pk,
        start=today - dt.timedelta(days=60),
        area_ids=[world.ystad.areas.get(name="Centrum").pk],
    )
    measure_set_status(user=user, measure_id=measure.pk, to_status="ongoing")
    measure_set_status(user=user, measure_id=measure.pk, to_status="done")
    evaluation = Evaluation.objects.get(measure=measure)
    assert evaluation.verdict == "too_little_data"
    # Without a place there is nothing to compare: it ends all the same, to be evaluated later if ever.
    placeless = measure_create(
        user=user,
        municipality_id=world.ystad.pk,
        title="Föräldravandring",
        focus_area_id=FocusArea.objects.get(code="droger").pk,
        kind="social",
        term="long",
        responsible_organisation_id=world.kommun.pk,
        start=today - dt.timedelta(days=60),
    )
    measure_set_status(user=user, measure_id=placeless.pk, to_status="ongoing")
    assert measure_set_status(user=user, measure_id=placeless.pk, to_status="done").status == "done"
    assert not Evaluation.objects.filter(measure=placeless).exists()
