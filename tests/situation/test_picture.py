"""The computed picture: its figures equal the analysis core's on the same data, and it respects the access rules."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from django.core.exceptions import PermissionDenied
from django.http import Http404
from shapely.geometry import Polygon

from samverkan.analysis.grid import Grid
from samverkan.analysis.hotspots import gi_star
from samverkan.analysis.kde import kde_grid
from samverkan.analysis.nearrepeat import knox_test
from samverkan.analysis.temporal import compare_to_baseline, trend, weekday_hour_profile
from samverkan.incidents.models import Category
from samverkan.places.geo import to_sweref, to_wgs84
from samverkan.places.services import area_create
from samverkan.situation.models import DailyCount
from samverkan.situation.periods import period_parse
from samverkan.situation.selectors import WEEKDAY_HOUR_SIMULATIONS, picture_compute
from samverkan.situation.services import daily_counts_rebuild
from tests.factories import SIMRISHAMN, YSTAD, IncidentFactory, square

STOCKHOLM = ZoneInfo("Europe/Stockholm")
X0, Y0 = (float(v) for v in to_sweref(*YSTAD))


def at(year, month, day, hour=12, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def report(world, when, *, category="klotter", dx=0.0, dy=0.0, precision="exact", sensitivity="shared", areas=()):
    """A report ``dx``, ``dy`` metres from Ystad's centre (as the tests' square outline places it)."""
    lon, lat = (float(v) for v in to_wgs84(X0 + dx, Y0 + dy))
    incident = IncidentFactory(
        occurred_from=when,
        municipality=world.ystad,
        source_organisation=world.kommun,
        category=Category.objects.get(code=category, municipality=None),
        lon=lon,
        lat=lat,
        precision=precision,
        sensitivity=sensitivity,
    )
    for area in areas:
        incident.areas.add(area)
    return incident


def picture(world, period, user="kommun_samordnare", **kwargs):
    result = picture_compute(user=world.users[user], municipality_id=world.ystad.pk, period=period, **kwargs)
    json.dumps(result, allow_nan=False)  # plain JSON, no NaN and no numpy types
    return result


def assert_figure(figure, current, baseline):
    expected = compare_to_baseline(current, baseline)
    assert figure["current"] == expected.current
    assert figure["expected"] == pytest.approx(expected.expected, abs=0.005)
    assert (figure["lower"], figure["upper"], figure["flag"]) == (expected.lower, expected.upper, expected.flag)
    assert figure["p"] == pytest.approx(expected.p, rel=5e-3)
    if expected.percent_change is None:
        assert figure["percent_change"] is None
    else:
        assert figure["percent_change"] == pytest.approx(expected.percent_change, abs=0.05)


# --------------------------------------------------------------------------------------------------------------------
# Counts, baselines, trend, top lists
# --------------------------------------------------------------------------------------------------------------------

DRUGS = [3, 5, 2, 4, 6, 3, 5, 4]
SAFETY = [10, 12, 9, 11, 10, 13, 12, 11]


def weekly_world(world):
    """Weeks 2–9 of 2025 with the counts above, week 10 with 14 drug and 11 safety reports, none on traffic."""
    first_monday = dt.date(2025, 1, 6)
    for week, counts in enumerate([*zip(DRUGS, SAFETY, strict=True), (14, 11)]):
        monday = first_monday + dt.timedelta(weeks=week)
        for category, n in (("narkotika", counts[0]), ("klotter", counts[1])):
            for i in range(n):
                day = monday + dt.timedelta(days=i % 7)
                report(world, at(day.year, day.month, day.day, 8 + i % 12), category=category, dx=37.0 * i)
    daily_counts_rebuild()


def test_key_figures_equal_the_baseline_comparison_of_the_counts(world):
    weekly_world(world)
    result = picture(world, "2025-W10")
    figures = {f["code"]: f for f in result["key_figures"]}
    assert list(figures) == ["droger", "trafik", "trygghet"]
    assert_figure(figures["droger"], 14, DRUGS)
    assert_figure(figures["trygghet"], 11, SAFETY)
    assert_figure(figures["trafik"], 0, [0] * 8)
    assert_figure(result["total"], 25, [a + b for a, b in zip(DRUGS, SAFETY, strict=True)])
    assert (figures["droger"]["flag"], figures["trygghet"]["flag"], figures["trafik"]["flag"]) == (
        "higher",
        "as_expected",
        "too_few",
    )
    assert figures["droger"]["baseline"] == "de 8 föregående veckorna"
    assert result["period"] == {
        "kind": "week",
        "start": "2025-03-03",
        "end": "2025-03-10",
        "label": "Vecka 10 2025",
        "complete": True,
    }
    assert result["municipality"] == {"id": world.ystad.pk, "code": "1286", "name": "Ystad"}
    assert result["area"] is None and result["focus_area"] is None and result["schema"] == 1


def test_trend_counts_each_week_since_the_data_began_and_tests_the_total(world):
    weekly_world(world)
    tr = picture(world, "2025-W10")["trend"]
    totals = [a + b for a, b in zip(DRUGS, SAFETY, strict=True)] + [25]
    assert tr["total"] == totals
    assert tr["by_focus"] == {"droger": [*DRUGS, 14], "trafik": [0] * 9, "trygghet": [*SAFETY, 11]}
    assert tr["starts"][0] == "2025-01-06" and tr["labels"][-1] == "v. 10"
    expected = trend(totals)
    assert tr["test"]["flag"] == expected.flag and tr["test"]["per"] == "vecka"
    assert tr["test"]["relative_change"] == pytest.approx(expected.relative_change, abs=1e-4)
    assert tr["test"]["ci"] == pytest.approx(list(expected.relative_change_ci), abs=1e-4)
    assert tr["test"]["p"] == pytest.approx(expected.p, rel=5e-3)


def test_top_categories_with_the_previous_period_and_a_focus_filter(world):
    weekly_world(world)
    result = picture(world, "2025-W10")
    assert result["top_categories"] == [
        {"code": "narkotika", "name": "Misstänkt narkotikahantering", "count": 14, "previous": 4},
        {"code": "klotter", "name": "Klotter", "count": 11, "previous": 11},
    ]
    drugs = picture(world, "2025-W10", focus_area_code="droger")
    assert drugs["focus_area"] == {"code": "droger", "name": "Droger"}
    assert [f["code"] for f in drugs["key_figures"]] == ["droger"]
    assert_figure(drugs["total"], 14, DRUGS)
    assert drugs["trend"]["total"] == [*DRUGS, 14] and list(drugs["trend"]["by_focus"]) == ["droger"]
    assert [c["code"] for c in drugs["top_categories"]] == ["narkotika"]
    assert drugs["weekday_hour"]["n"] == 14 and drugs["map"]["points_used"] == 14


def test_counts_come_from_the_daily_counts(world):
    weekly_world(world)
    row = DailyCount.objects.filter(area=None, day=dt.date(2025, 3, 3)).first()
    row.count += 5
    row.save()
    result = picture(world, "2025-W10")
    assert result["total"]["current"] == 30
    # The points still come from the reports themselves.
    assert result["weekday_hour"]["n"] == 25 and result["map"]["points_used"] == 25


# --------------------------------------------------------------------------------------------------------------------
# Each kind of period
# --------------------------------------------------------------------------------------------------------------------


def ten_days_before(n):
    return [dt.date(2025, 3, 1) - dt.timedelta(days=10 * k) for k in range(n, 0, -1)]


@pytest.mark.parametrize(
    ("period", "baseline_starts", "words", "trend_length"),
    [
        ("2025-W10", [dt.date(2025, 1, 6) + dt.timedelta(weeks=k) for k in range(8)], "de 8 föregående veckorna", 9),
        (
            "2025-11",
            [dt.date(2022, 11, 1), dt.date(2023, 11, 1), dt.date(2024, 11, 1)],
            "samma månad de 3 föregående åren",
            24,
        ),
        (
            "2025-11",
            [dt.date(2025, m, 1) for m in range(5, 11)],
            "de 6 föregående månaderna",
            7,
        ),
        (
            "2025-T2",
            [dt.date(2022, 5, 1), dt.date(2023, 5, 1), dt.date(2024, 5, 1)],
            "samma tertial de 3 föregående åren",
            9,
        ),
        ("2025", [dt.date(2022, 1, 1), dt.date(2023, 1, 1), dt.date(2024, 1, 1)], "de 3 föregående åren", 4),
        ("2025-03-01/2025-03-10", ten_days_before(8), "de 8 föregående perioderna om 10 dagar", 9),
    ],
)
def test_each_kind_of_period_against_its_baseline(world, period, baseline_starts, words, trend_length):
    baseline = [1 + k % 3 for k in range(len(baseline_starts))]
    for start, n in zip(baseline_starts, baseline, strict=True):
        for i in range(n):
            report(world, at(start.year, start.month, start.day, 9 + i))
    p = period_parse(period)
    for i in range(5):
        report(world, at(p.start.year, p.start.month, p.start.day, 10 + i))
    daily_counts_rebuild()
    result = picture(world, p)
    assert_figure(result["total"], 5, baseline)
    assert result["total"]["baseline"] == words
    assert result["period"]["label"] == p.label and result["period"]["kind"] == p.kind
    assert len(result["trend"]["total"]) == trend_length and result["trend"]["total"][-1] == 5
    assert sum(result["trend"]["total"]) <= 5 + sum(baseline)


def test_a_running_period_is_compared_over_the_days_so_far(world, monkeypatch):
    from django.utils import timezone

    report(world, at(2025, 2, 24, 10))  # Monday of the week before
    report(world, at(2025, 2, 28, 10))  # its Friday: later in the week than "today"
    report(world, at(2025, 3, 4, 10))  # Tuesday of this week
    daily_counts_rebuild()
    monkeypatch.setattr(timezone, "now", lambda: at(2025, 3, 5, 12).astimezone(dt.UTC))  # a Wednesday
    result = picture(world, "2025-W10")
    assert result["period"]["complete"] is False
    assert result["total"]["baseline"] == "den föregående veckan (samma antal dagar)"
    assert result["total"]["current"] == 1 and result["total"]["expected"] == 1.0
    assert result["trend"]["total"] == [2, 1]
    assert result["top_categories"] == [{"code": "klotter", "name": "Klotter", "count": 1, "previous": 1}]


# --------------------------------------------------------------------------------------------------------------------
# Local time: weekday × hour and the ISO week around the change to and from summer time
# --------------------------------------------------------------------------------------------------------------------


def test_weekday_hour_equals_the_profile_of_local_times(world):
    times = [at(2025, 3, 3, 0, 15), at(2025, 3, 3, 23, 59), at(2025, 3, 5, 17), at(2025, 3, 5, 17, 40)]
    times += [at(2025, 3, 9, 23, 30), at(2025, 3, 8, 2)]
    for when in times:
        report(world, when)
    daily_counts_rebuild()
    result = picture(world, "2025-W10")["weekday_hour"]
    period = period_parse("2025-W10")
    expected = weekday_hour_profile(
        [t.weekday() for t in times], [t.hour for t in times], rng=period.seed, simulations=WEEKDAY_HOUR_SIMULATIONS
    )
    assert result["counts"] == expected.counts.astype(int).tolist()
    assert result["counts"][6][23] == 1 and result["counts"][2][17] == 2
    assert result["n"] == 6 and result["test_reliable"] is False
    assert result["p"] == pytest.approx(expected.p_monte_carlo, rel=5e-3)
    assert "840" in result["note"]


@pytest.mark.parametrize(
    ("sunday", "week", "next_week"),
    [(dt.date(2026, 3, 29), "2026-W13", "2026-W14"), (dt.date(2026, 10, 25), "2026-W43", "2026-W44")],
)
def test_a_sunday_evening_report_belongs_to_its_iso_week_across_summer_time_changes(world, sunday, week, next_week):
    # 23:30 on the day summer time begins (or ends) is 21:30 (22:30) UTC; 00:30 on Monday is still Sunday in UTC.
    report(world, at(sunday.year, sunday.month, sunday.day, 23, 30))
    monday = sunday + dt.timedelta(days=1)
    report(world, at(monday.year, monday.month, monday.day, 0, 30))
    daily_counts_rebuild()
    this = picture(world, week)
    assert this["total"]["current"] == 1 and this["weekday_hour"]["n"] == 1
    assert this["weekday_hour"]["counts"][6][23] == 1
    following = picture(world, next_week)
    assert following["total"]["current"] == 1 and following["weekday_hour"]["counts"][0][0] == 1


# --------------------------------------------------------------------------------------------------------------------
# Map: KDE and Gi* on the grid over the outline
# --------------------------------------------------------------------------------------------------------------------


def outline_in_sweref(geojson):
    ring = np.asarray(geojson["coordinates"][0])
    x, y = to_sweref(ring[:, 0], ring[:, 1])
    return Polygon(np.column_stack([x, y]))


def test_map_equals_kde_and_gi_star_on_the_same_points(world):
    offsets = [(0, 0), (30, 40), (-50, 20), (60, -30), (10, 90), (-80, -60), (120, 10), (40, 160)]
    offsets += [(2500, 2500), (-3000, 1500), (1000, -4000), (-2000, -6000)]
    for i, (dx, dy) in enumerate(offsets):
        report(world, at(2025, 3, 3 + i % 7, 12), dx=dx, dy=dy)
    report(world, at(2025, 3, 4), precision="municipality")
    report(world, at(2025, 3, 5), precision="municipality", dx=500)
    daily_counts_rebuild()
    result = picture(world, "2025-W10")
    m = result["map"]
    assert (m["crs"], m["kernel"], m["bandwidth"], m["radius"], m["state"]) == ("EPSG:3006", "quartic", 400, 400, "ok")
    assert (m["points_used"], m["points_excluded"]) == (12, 2)
    assert result["total"]["current"] == 14  # counted, though not mapped
    grid = Grid(**m["grid"])
    assert grid.cell_size == 200
    outline = outline_in_sweref(world.ystad.geometry)
    xmin, ymin, xmax, ymax = outline.bounds
    assert grid.x0 <= xmin and grid.y0 <= ymin and grid.x1 >= xmax and grid.y1 >= ymax
    assert grid.x0 > xmin - grid.cell_size and grid.y0 > ymin - grid.cell_size
    lon0, lat0, lon1, lat1 = (
        c for c in world.ystad.geometry["coordinates"][0][0] + world.ystad.geometry["coordinates"][0][2]
    )
    assert m["bbox_wgs84"] == pytest.approx([lon0, lat0, lon1, lat1])

    x = np.array([X0 + dx for dx, _ in offsets])
    y = np.array([Y0 + dy for _, dy in offsets])
    cx, cy = grid.centres()
    mask = shapely.contains_xy(outline, cx, cy)
    assert 0 < mask.sum() < mask.size  # the square in degrees is not square in metres
    kde = np.array([[np.nan if v is None else v for v in row] for row in m["kde"]])
    assert np.array_equal(np.isnan(kde), ~mask)
    reference = kde_grid(x, y, grid=grid, bandwidth=400.0, kernel="quartic").density
    np.testing.assert_allclose(kde[mask], reference[mask], rtol=5e-3, atol=1e-12)
    labels = gi_star(grid.bin(x, y), radius=400.0, cell_size=200.0, mask=mask).label
    assert np.array_equal(np.array(m["gi"]), labels)
    assert (labels > 0).any()
    lon, lat = to_wgs84(x, y)
    expected_points = np.array(sorted(zip(lon.tolist(), lat.tolist(), strict=True)))
    np.testing.assert_allclose(np.array(sorted(m["points"])), expected_points, atol=1e-6)


def test_too_few_points_give_no_surface(world):
    for dx in (0, 100, 200, 300):
        report(world, at(2025, 3, 4), dx=dx)
    daily_counts_rebuild()
    m = picture(world, "2025-W10")["map"]
    assert m["kde"] is None and m["gi"] is None and m["state"] == "too_few"
    assert m["points_used"] == 4 and len(m["points"]) == 4 and "4 av minst 5" in m["message"]


# --------------------------------------------------------------------------------------------------------------------
# Near-repeat
# --------------------------------------------------------------------------------------------------------------------


def pairs_world(world, *, paired: bool):
    """Fifteen spots 600 m apart over the period and the twelve weeks before; with ``paired``, a second report
    at each spot a day after the first."""
    start = dt.datetime(2024, 12, 9, 10, tzinfo=STOCKHOLM)  # twelve weeks before week 10 of 2025
    events = []
    for k in range(15):
        dx, dy = 600.0 * (k % 5 - 2), 600.0 * (k // 5 - 1)
        when = start + dt.timedelta(days=6 * k)
        events.append((when, dx, dy))
        if paired:
            events.append((when + dt.timedelta(days=1), dx + 10, dy))
        else:
            events.append((when + dt.timedelta(days=1), dx + 300, dy + 300))
    for when, dx, dy in events:
        report(world, when, dx=dx, dy=dy)
    daily_counts_rebuild()
    return sorted(events)


def test_near_repeat_equals_the_knox_test_and_says_so_in_swedish(world):
    events = pairs_world(world, paired=True)
    period = period_parse("2025-W10")
    result = picture(world, period)["near_repeat"]
    t = np.array([(when - events[0][0]).total_seconds() / 86400 for when, _, _ in events])
    x = np.array([X0 + dx for _, dx, _ in events])
    y = np.array([Y0 + dy for _, _, dy in events])
    knox = knox_test(
        x, y, t, distance_bands=[0, 100, 200, 400], time_bands=[0, 7, 14], permutations=99, rng=period.seed
    )
    assert result["tested"] is True and result["significant"] is True
    assert [b["observed"] for b in result["bands"]] == knox.observed.ravel().tolist()
    assert [b["expected"] for b in result["bands"]] == pytest.approx(knox.expected.ravel().tolist(), abs=0.005)
    assert [b["p"] for b in result["bands"]] == pytest.approx(knox.p.ravel().tolist())
    assert result["bands"][0]["distance"] == "0–100 m" and result["bands"][0]["days"] == "0–7 dagar"
    assert result["bands"][0]["observed"] == 15
    ratio = f"{knox.ratio[0, 0]:.1f}".replace(".", ",")
    assert result["message"] == (
        f"Händelser nära varandra i tid och rum: risken för upprepning inom 100 m och 7 dagar är {ratio} gånger "
        f"den förväntade (p = {knox.p[0, 0]:.2f})."
    ).replace("p = 0.", "p = 0,")
    # The same picture twice gives the same permutations.
    assert picture(world, period)["near_repeat"] == result


def test_no_near_repeat_and_too_few_events(world):
    pairs_world(world, paired=False)
    result = picture(world, "2025-W10")["near_repeat"]
    assert result["tested"] is True and result["significant"] is False
    assert result["message"].startswith("Ingen tydlig upprepning")
    assert result["bands"][0]["observed"] == 0
    few = picture(world, "2024-W50")["near_repeat"]  # only the first week of reports lies before it
    assert few == {"tested": False, "significant": False, "message": few["message"], "bands": []}
    assert "För få händelser" in few["message"]


# --------------------------------------------------------------------------------------------------------------------
# Restricted data, empty periods, areas, access
# --------------------------------------------------------------------------------------------------------------------


def test_police_only_reports_count_in_the_police_view_only(world):
    for i in range(6):
        report(world, at(2025, 3, 4, 10 + i), dx=50 * i)
    report(world, at(2025, 3, 4, 20), sensitivity="police_restricted", category="narkotika", dx=20)
    daily_counts_rebuild()
    for user in ("kommun_samordnare", "polis_analytiker"):
        shared = picture(world, "2025-W10", user=user)
        assert shared["view"] == "shared" and shared["restricted_excluded"] is True
        assert shared["total"]["current"] == 6 and shared["map"]["points_used"] == 6
        assert shared["weekday_hour"]["n"] == 6
        assert [c["code"] for c in shared["top_categories"]] == ["klotter"]
    police = picture(world, "2025-W10", user="polis_analytiker", view="police")
    assert police["view"] == "police" and police["restricted_excluded"] is False
    assert police["total"]["current"] == 7 and police["map"]["points_used"] == 7
    assert police["weekday_hour"]["counts"][1][20] == 1
    assert {f["code"]: f["current"] for f in police["key_figures"]}["droger"] == 1


def test_an_empty_period_is_all_zeros(world):
    result = picture(world, "2025-W10")
    assert result["total"]["current"] == 0 and result["total"]["flag"] == "too_few"
    assert all(f["current"] == 0 and f["flag"] == "too_few" for f in result["key_figures"])
    assert result["trend"]["total"] == [0] * 26 and result["trend"]["test"]["flag"] == "too_few"
    assert result["top_categories"] == [] and result["top_areas"] == []
    assert result["weekday_hour"]["n"] == 0 and result["weekday_hour"]["p"] is None
    assert result["map"]["kde"] is None and result["map"]["state"] == "too_few" and result["map"]["points"] == []
    assert result["near_repeat"]["tested"] is False
    centrum = world.ystad.areas.get(name="Centrum")
    assert picture(world, "2025-W10", area_id=centrum.pk)["total"]["current"] == 0


def test_an_area_picture(world):
    centrum = world.ystad.areas.get(name="Centrum")
    inside = [(0, 0), (100, 50), (-150, 80), (200, -200), (50, 300), (-250, -100)]
    for i, (dx, dy) in enumerate(inside):
        report(world, at(2025, 3, 4, 8 + i), dx=dx, dy=dy, areas=[centrum])
    for dx in (3000, 3500, -4000):
        report(world, at(2025, 3, 5), dx=dx)
    daily_counts_rebuild()
    result = picture(world, "2025-W10", area_id=centrum.pk)
    assert result["area"] == {"id": centrum.pk, "name": "Centrum"}
    assert result["total"]["current"] == 6 and result["weekday_hour"]["n"] == 6
    m = result["map"]
    assert (m["grid"]["cell_size"], m["bandwidth"], m["radius"], m["points_used"]) == (100, 250, 200, 6)
    outline = outline_in_sweref(centrum.geometry)
    grid = Grid(**m["grid"])
    assert grid.x0 <= outline.bounds[0] and grid.x1 >= outline.bounds[2] and grid.nx < 30
    x = np.array([X0 + dx for dx, _ in inside])
    y = np.array([Y0 + dy for _, dy in inside])
    cx, cy = grid.centres()
    mask = shapely.contains_xy(outline, cx, cy)
    kde = np.array([[np.nan if v is None else v for v in row] for row in m["kde"]])
    reference = kde_grid(x, y, grid=grid, bandwidth=250.0).density
    np.testing.assert_allclose(kde[mask], reference[mask], rtol=5e-3, atol=1e-12)
    whole = picture(world, "2025-W10")
    assert whole["total"]["current"] == 9
    assert whole["top_areas"] == [{"id": centrum.pk, "name": "Centrum", "count": 6}]


def test_who_may_compute_which_picture(world):
    period = "2025-W10"
    ystad = world.ystad.pk
    for user in ("nobody", "simrishamn_samordnare"):
        with pytest.raises(Http404):
            picture_compute(user=world.users[user], municipality_id=ystad, period=period)
    for user in ("kommun_rapportor", "polis_rapportor"):
        with pytest.raises(PermissionDenied):
            picture_compute(user=world.users[user], municipality_id=ystad, period=period)
    for user in ("kommun_admin", "kommun_samordnare", "kommun_analytiker", "kommun_lasare", "polis_lasare"):
        assert picture_compute(user=world.users[user], municipality_id=ystad, period=period)["view"] == "shared"
    with pytest.raises(PermissionDenied):
        picture_compute(user=world.users["kommun_samordnare"], municipality_id=ystad, period=period, view="police")
    police = picture_compute(user=world.users["polis_lasare"], municipality_id=ystad, period=period, view="police")
    assert police["view"] == "police"
    elsewhere = area_create(
        municipality=world.simrishamn, kind="district", name="Hamnen", geometry=square(*SIMRISHAMN, 0.01)
    )
    for bad in (elsewhere.pk, 999_999, "x"):
        with pytest.raises(Http404):
            picture_compute(user=world.users["polis_analytiker"], municipality_id=ystad, period=period, area_id=bad)
    with pytest.raises(Http404):
        picture_compute(
            user=world.users["kommun_samordnare"], municipality_id=ystad, period=period, focus_area_code="x"
        )
    with pytest.raises(Http404):
        picture_compute(user=world.users["kommun_samordnare"], municipality_id="abc", period=period)
    with pytest.raises(ValueError, match="view"):
        picture_compute(user=world.users["kommun_samordnare"], municipality_id=ystad, period=period, view="public")
    with pytest.raises(ValueError, match="period"):
        picture_compute(user=world.users["kommun_samordnare"], municipality_id=ystad, period="vecka 10")


def test_a_municipality_without_an_outline_is_mapped_over_its_points(world):
    world.ystad.geometry = None
    world.ystad.save()
    offsets = [(0, 0), (100, 0), (0, 100), (-300, 200), (500, -400), (50, 50)]
    for dx, dy in offsets:
        report(world, at(2025, 3, 4), dx=dx, dy=dy)
    daily_counts_rebuild()
    m = picture(world, "2025-W10")["map"]
    grid = Grid(**m["grid"])
    x = np.array([X0 + dx for dx, _ in offsets])
    y = np.array([Y0 + dy for _, dy in offsets])
    # The points' box grown by the bandwidth, and every cell studied.
    assert grid.x0 <= x.min() - 400 < grid.x0 + 200 and grid.x1 >= x.max() + 400
    assert grid.y0 <= y.min() - 400 < grid.y0 + 200 and grid.y1 >= y.max() + 400
    assert all(v is not None for row in m["kde"] for v in row)
    assert np.array(m["gi"]).shape == grid.shape


def test_a_large_municipality_gets_coarser_cells(world):
    world.ystad.geometry = square(*YSTAD, 1.5)
    world.ystad.save()
    for dx in range(0, 3000, 500):
        report(world, at(2025, 3, 4), dx=dx)
    daily_counts_rebuild()
    m = picture(world, "2025-W10")["map"]
    grid = Grid(**m["grid"])
    assert grid.cell_size > 200 and grid.cell_size % 200 == 0
    assert grid.nx * grid.ny <= 250_000
    assert m["bandwidth"] == 2 * grid.cell_size and m["radius"] == 2 * grid.cell_size
    assert len(m["kde"]) == grid.ny and len(m["kde"][0]) == grid.nx
