"""The Ystad demo: its geography, the synthetic reports and the ``samverkan demo`` command."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import numpy as np
import pytest
import shapely
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.test import RequestFactory
from django.utils import timezone
from shapely.geometry import shape

from samverkan.accounts.models import Membership, Organisation, User
from samverkan.core.demo import geography, synth
from samverkan.incidents.models import Incident, Source
from samverkan.incidents.screening import screen
from samverkan.places.geo import to_sweref
from samverkan.places.models import Area, Municipality

START, END = dt.date(2022, 6, 1), dt.date(2025, 6, 1)
CENTRE = shape(next(a for a in geography.YSTAD_AREAS if a.code == "ystad-centrum").geojson())
BEACHES = shapely.union_all(
    [shape(a.geojson()) for a in geography.YSTAD_AREAS if a.code in {"ystad-sandskogen", "ystad-nybrostrand"}]
)


def _weekend_night(weekday: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Friday or Saturday evening from 21:00, or the small hours of the following morning."""
    return (np.isin(weekday, (4, 5)) & (hour >= 21)) | (np.isin(weekday, (5, 6)) & (hour < 4))


def _weekday_morning(weekday: np.ndarray, hour: np.ndarray) -> np.ndarray:
    return (weekday < 5) & (hour >= 6) & (hour < 12)


# --- geography ----------------------------------------------------------------------------------------------------


def test_kommun_outlines_are_valid_and_do_not_overlap():
    outlines = {k.code: shape(k.geojson()) for k in geography.KOMMUNER}
    assert sorted(outlines) == ["1264", "1265", "1270", "1286", "1291"]
    for geom in outlines.values():
        assert geom.is_valid and geom.area > 0
    for a, b in itertools.combinations(outlines.values(), 2):
        assert a.intersection(b).area < 1e-8


def test_every_locality_lies_in_its_own_kommun_only():
    outlines = {k.code: shape(k.geojson()) for k in geography.KOMMUNER}
    for code, localities in geography.LOCALITIES.items():
        for name, lon, lat in localities:
            inside = [c for c, geom in outlines.items() if geom.contains(shapely.Point(lon, lat))]
            assert inside == [code], name


def test_ystad_areas_are_valid_inside_ystad_and_apart():
    ystad = shape(geography.kommun("1286").geojson())
    areas = [shape(a.geojson()) for a in geography.YSTAD_AREAS]
    assert len(areas) >= 12
    assert {a.kind for a in geography.YSTAD_AREAS} == {"district", "place"}
    for area in areas:
        assert area.is_valid and ystad.contains(area)
    for a, b in itertools.combinations(areas, 2):
        assert a.intersection(b).area < 0.01 * min(a.area, b.area)


def test_contains_agrees_with_shapely():
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(13.4, 14.4, 20_000), rng.uniform(55.35, 55.8, 20_000)
    for kommun in geography.KOMMUNER:
        expected = shapely.contains_xy(shape(kommun.geojson()), lon, lat)
        assert np.array_equal(geography.contains(kommun.outline, lon, lat), expected)
        assert expected.any()


# --- synthetic reports, no database -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports() -> synth.SyntheticIncidents:
    return synth.generate(START, END, rng=11, n_target=20_000)


def _local(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekday (Monday 0), hour and month of local datetime64 values."""
    minutes = values.astype("datetime64[m]")
    days = minutes.astype("datetime64[D]")
    weekday = (days.astype(np.int64) + 3) % 7
    hour = ((minutes - days) // np.timedelta64(1, "h")).astype(int)
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    return weekday, hour, month


def test_same_seed_and_dates_give_the_same_reports(reports):
    again = synth.generate(START, END, rng=11, n_target=20_000)
    for name in synth.SyntheticIncidents.__slots__:
        assert np.array_equal(np.asarray(getattr(reports, name)), np.asarray(getattr(again, name))), name
    other = synth.generate(START, END, rng=12, n_target=20_000)
    assert not np.array_equal(reports.lon, other.lon)


def test_exact_count_and_refusals():
    assert len(synth.generate(START, END, rng=1, n_target=0)) == 0
    assert len(synth.generate(START, END, rng=1, n_target=7)) == 7
    with pytest.raises(ValueError, match="end"):
        synth.generate(END, START, rng=1)
    with pytest.raises(ValueError, match="n_target"):
        synth.generate(START, END, rng=1, n_target=-1)


def test_points_lie_in_their_kommun(reports):
    assert set(reports.municipality) == {k.code for k in geography.KOMMUNER}
    for kommun in geography.KOMMUNER:
        rows = reports.municipality == kommun.code
        assert shapely.contains_xy(shape(kommun.geojson()), reports.lon[rows], reports.lat[rows]).all()
    ystad = reports.municipality == "1286"
    # The other four kommuner together have fewer reports than Ystad alone.
    assert ystad.mean() > 0.7


def test_times_stay_within_the_period(reports):
    start, end = np.datetime64(START, "m"), np.datetime64(END, "m")
    finished = reports.occurred + reports.window_minutes.astype("timedelta64[m]")
    assert (reports.occurred >= start).all() and (finished <= end).all()
    assert (reports.report_delay_minutes >= 0).all()
    assert (finished + reports.report_delay_minutes.astype("timedelta64[m]") <= end).all()
    assert 0.05 < (reports.window_minutes > 0).mean() < 0.4
    assert np.all(np.diff(reports.occurred.astype(np.int64)) >= 0)


def test_weekend_nights_dominate_the_town_centre(reports):
    weekday, hour, _ = _local(reports.occurred)
    in_centre = shapely.contains_xy(CENTRE, reports.lon, reports.lat)
    nights = (in_centre & _weekend_night(weekday, hour)).sum()
    mornings = (in_centre & _weekday_morning(weekday, hour)).sum()
    assert nights > 3 * mornings
    disorder = np.isin(reports.category, ["ordningsstorning", "brak-vald", "berusade"])
    assert (disorder & in_centre & _weekend_night(weekday, hour)).sum() > 0.5 * (disorder & in_centre).sum()


def test_reckless_driving_on_summer_evenings(reports):
    _, hour, month = _local(reports.occurred)
    moped = reports.category == "buskorning"
    assert moped.sum() > 500
    assert np.isin(month[moped], range(5, 10)).mean() > 0.8
    assert ((hour[moped] >= 17) & (hour[moped] <= 23)).mean() > 0.8


def test_beach_disorder_in_summer(reports):
    _, _, month = _local(reports.occurred)
    at_beach = shapely.contains_xy(BEACHES, reports.lon, reports.lat)
    disorder = at_beach & np.isin(reports.category, ["ordningsstorning", "berusade"])
    assert disorder.sum() > 200
    assert np.isin(month[disorder], (6, 7, 8)).mean() > 0.8


def test_vandalism_near_schools_after_school_hours(reports):
    weekday, hour, month = _local(reports.occurred)
    schools = np.asarray([v for k, v in geography.YSTAD_SPOTS.items() if k.startswith("skola_")])
    near = np.zeros(len(reports), dtype=bool)
    for lon, lat in schools:
        near |= np.hypot((reports.lon - lon) * 63_000, (reports.lat - lat) * 111_320) < 200
    vandalism = near & np.isin(reports.category, ["skadegorelse", "klotter"])
    after_school = (weekday < 5) & (hour >= 15) & (hour <= 21)
    assert vandalism.sum() > 300
    assert after_school[vandalism].mean() > 0.6
    # July is the summer holiday: well under the twelfth of the reports an even spread over the year would give.
    assert (month[vandalism] == 7).mean() < 0.5 / 12


def test_seasons_and_trend(reports):
    _, _, month = _local(reports.occurred)
    unsafe = reports.category == "otrygg-plats"
    assert np.isin(month[unsafe], (10, 11, 12, 1, 2)).mean() > 0.6
    drugs = reports.category == "narkotika"
    first = reports.occurred < np.datetime64(START.replace(year=START.year + 1), "m")
    last = reports.occurred >= np.datetime64(END.replace(year=END.year - 1), "m")
    assert (drugs & last).sum() > 1.1 * (drugs & first).sum()


def test_sensitivity_organisation_and_status(reports):
    restricted = reports.sensitivity == "police_restricted"
    assert 0.03 < restricted.mean() < 0.07
    assert (reports.organisation[restricted] == "polis").all()
    assert (reports.sensitivity == "shared").mean() > 0.7
    assert (reports.sensitivity == "public").any()
    assert set(reports.organisation[reports.municipality != "1286"]) == {"polis"}
    age = (np.datetime64(END, "m") - reports.occurred) / np.timedelta64(1, "D")
    assert np.isin(reports.status[age > 90], ["closed", "acted_on"]).mean() > 0.9
    assert np.isin(reports.status[age <= 7], ["new", "reviewed"]).all()
    assert set(np.unique(reports.severity)) == {1, 2, 3}
    given = reports.persons != synth.PERSONS_UNKNOWN
    assert given.any() and (reports.persons[given] >= 1).all()


def test_a_few_descriptions_carry_personal_data_for_the_review_queue(reports):
    flagged = np.asarray([bool(screen(text)) for text in reports.description])
    assert flagged.sum() == round(synth.PERSONAL_DATA_SHARE * len(reports))
    age = (np.datetime64(END, "m") - reports.occurred[flagged]) / np.timedelta64(1, "D")
    assert (age <= synth.PERSONAL_DATA_RECENT_DAYS).all()
    assert (reports.status[flagged] == "new").all()
    assert not any("{" in text or "}" in text for text in reports.description)


def test_local_times_become_utc_so_that_elapsed_time_adds_up():
    local = np.asarray(
        ["2025-07-01T12:00", "2025-01-15T12:00", "2025-03-30T02:30", "2025-10-26T02:30"], "datetime64[m]"
    )
    utc = synth.local_datetimes(local)
    assert utc == [
        dt.datetime(2025, 7, 1, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 15, 11, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 30, 1, 30, tzinfo=dt.UTC),  # 02:30 does not exist that night: read as winter time
        dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC),  # the first 02:30 of the night, still summer time
    ]
    # Forty minutes after that spring-gap time is 04:10 summer time; adding by the wall clock would give 03:10,
    # twenty minutes before it began.
    assert timezone.localtime(utc[2] + dt.timedelta(minutes=40)).time() == dt.time(4, 10)


# --- the command ----------------------------------------------------------------------------------------------------

DEMO_ARGS = ("--incidents", "600", "--end-date", "2025-06-01", "--seed", "7")


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def fast_hasher(settings):
    # Hashing six passwords with the production hasher would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _snapshot() -> dict[str, object]:
    return {
        "municipalities": sorted(Municipality.objects.values_list("code", "name", "county", "geometry_approximate")),
        "areas": sorted(Area.objects.values_list("code", "kind", "approximate", "source")),
        "organisations": sorted(Organisation.objects.values_list("name", "kind", "municipalities__code")),
        "users": sorted(User.objects.values_list("username", "password")),
        "memberships": sorted(Membership.objects.values_list("user__username", "organisation__name", "role")),
        "incidents": _incident_rows(),
        "links": sorted(Incident.areas.through.objects.values_list("incident__external_id", "area__code")),
    }


def _incident_rows() -> list[tuple]:
    return sorted(
        Incident.objects.filter(source=Source.DEMO).values_list(
            "external_id", "category__code", "occurred_from", "occurred_to", "reported_at", "lat", "lon",
            "municipality__code", "description", "persons_estimate", "severity", "police_reported", "sensitivity",
            "status", "source_organisation__name", "reporter__username",
        )
    )  # fmt: skip


@pytest.mark.django_db
def test_second_run_changes_nothing(fast_hasher):
    first = _run(*DEMO_ARGS)
    assert "Created 5 municipality outlines" in first
    before = _snapshot()
    assert len(before["incidents"]) == 600
    second = _run(*DEMO_ARGS)
    assert "Nothing to do" in second
    assert _snapshot() == before


@pytest.mark.django_db
def test_reset_regenerates_the_same_reports_for_the_same_seed(fast_hasher):
    _run(*DEMO_ARGS)
    before = _incident_rows()
    out = _run(*DEMO_ARGS, "--reset")
    assert "Deleted 600 demo reports" in out
    assert _incident_rows() == before
    _run("--incidents", "600", "--end-date", "2025-06-01", "--seed", "8", "--reset")
    assert _incident_rows() != before
    assert Incident.objects.filter(source=Source.DEMO).count() == 600


@pytest.mark.django_db
def test_loaded_reports_lie_in_their_municipality_with_areas_assigned(fast_hasher):
    _run(*DEMO_ARGS)
    # All 290 municipalities come with the migrations; the demo gives the five of LPO Ystad their outlines.
    with_outline = Municipality.objects.exclude(geometry=None)
    assert sorted(with_outline.values_list("code", flat=True)) == ["1264", "1265", "1270", "1286", "1291"]
    assert with_outline.filter(county="Skåne län", geometry_approximate=True).count() == 5
    outlines = {m.pk: shape(m.geometry) for m in with_outline}
    incidents = list(Incident.objects.filter(source=Source.DEMO).prefetch_related("areas"))
    lon = np.asarray([i.lon for i in incidents])
    lat = np.asarray([i.lat for i in incidents])
    for municipality_id, outline in outlines.items():
        rows = np.asarray([i.municipality_id == municipality_id for i in incidents])
        assert shapely.contains_xy(outline, lon[rows], lat[rows]).all()
    x, y = to_sweref(lon, lat)
    assert np.allclose(x, [i.x for i in incidents]) and np.allclose(y, [i.y for i in incidents])

    areas = {a.pk: shape(a.geometry) for a in Area.objects.all()}
    assert len(areas) == len(geography.YSTAD_AREAS)
    assigned = 0
    for incident in incidents:
        expected = {pk for pk, geom in areas.items() if geom.intersects(shapely.Point(incident.lon, incident.lat))}
        got = {a.pk for a in incident.areas.all()}
        assert got == expected, incident.external_id
        assigned += bool(got)
    assert assigned > 0.5 * len(incidents)


@pytest.mark.django_db
def test_loaded_reports_show_the_patterns(fast_hasher):
    _run(*DEMO_ARGS)
    centre = Area.objects.get(code="ystad-centrum")
    in_centre = [timezone.localtime(t) for t in centre.incidents.values_list("occurred_from", flat=True)]
    weekday = np.asarray([t.weekday() for t in in_centre])
    hour = np.asarray([t.hour for t in in_centre])
    assert _weekend_night(weekday, hour).sum() > 3 * _weekday_morning(weekday, hour).sum()
    moped_months = [
        timezone.localtime(t).month
        for t in Incident.objects.filter(category__code="buskorning").values_list("occurred_from", flat=True)
    ]
    assert len(moped_months) > 20
    assert np.isin(moped_months, range(5, 10)).mean() > 0.75


@pytest.mark.django_db
def test_flags_sensitivity_and_organisations_are_consistent(fast_hasher):
    _run(*DEMO_ARGS)
    demo = Incident.objects.filter(source=Source.DEMO)
    for incident in demo.exclude(personal_data_flags=[]):
        assert incident.status == "new"
        assert incident.personal_data_flags == [f.as_dict() for f in screen(incident.description)]
    assert demo.exclude(personal_data_flags=[]).exists()
    restricted = demo.filter(sensitivity="police_restricted")
    assert restricted.exists()
    assert set(restricted.values_list("source_organisation__kind", flat=True)) == {"polis"}
    assert set(demo.exclude(municipality__code="1286").values_list("source_organisation__name", flat=True)) == {
        "Lokalpolisområde Ystad"
    }
    assert set(demo.filter(source_organisation__name="Ystadbostäder").values_list("reporter__username", flat=True)) == {
        "vardar"
    }
    assert not demo.filter(reported_at__lt=F("occurred_from")).exists()
    assert not demo.filter(reported_at__lt=F("occurred_to")).exists()
    assert not demo.filter(reviewed_at__lt=F("reported_at")).exists()
    assert not demo.filter(status="new", reviewed_by__isnull=False).exists()
    assert not demo.exclude(status="new").filter(reviewed_by__isnull=True).exists()


@pytest.mark.django_db
def test_users_log_in_with_the_demo_password_and_have_the_described_memberships(fast_hasher):
    out = _run(*DEMO_ARGS)
    expected = {
        ("admin", "Ystads kommun", "admin"),
        ("samordnare", "Ystads kommun", "samordnare"),
        ("kommunpolis", "Lokalpolisområde Ystad", "analytiker"),
        ("rapportor", "Ystads kommun", "rapportor"),
        ("vardar", "Ystadbostäder", "rapportor"),
        ("styrgrupp", "Ystads kommun", "lasare"),
    }
    assert set(Membership.objects.values_list("user__username", "organisation__name", "role")) == expected
    for username, _, _ in expected:
        # django-axes' backend needs the request (for the client address).
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password="samverkan-demo") is not None, username
        assert authenticate(request, username=username, password="wrong password") is None
        assert username in out
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.get(username="samordnare").is_staff
    covers = {o.name: {m.code for m in o.municipalities.all()} for o in Organisation.objects.all()}
    assert covers == {
        "Ystads kommun": {"1286"},
        "Ystadbostäder": {"1286"},
        "Lokalpolisområde Ystad": {"1286", "1291", "1265", "1264", "1270"},
    }
    assert {o.name: o.kind for o in Organisation.objects.all()} == {
        "Ystads kommun": "kommun",
        "Ystadbostäder": "bostadsbolag",
        "Lokalpolisområde Ystad": "polis",
    }


@pytest.mark.django_db
def test_bad_arguments_are_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("--end-date", "2025-13-01")
    with pytest.raises(CommandError, match="--incidents"):
        _run("--incidents", "-5")
    assert not Municipality.objects.exclude(geometry=None).exists()
