"""Right place, right time: next week's places and times for a focus area, the back-test beside the naive baseline,
the link to plan a measure, and who may see it."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
import types
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse
from shapely.geometry import shape

from samverkan.incidents.models import Category, Precision, Sensitivity
from samverkan.places.geo import point_to_sweref, to_wgs84
from samverkan.plan.forms import parse_time_windows
from samverkan.plan.suggestions import MIN_EVENTS, suggestions_compute, time_blocks
from tests.factories import YSTAD, IncidentFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# A Wednesday: the current ISO week began on Monday 23 November, so the forecast is for week 49.
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=STOCKHOLM)
CELL = 250.0


# --------------------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------------------


def hotspot_point() -> tuple[float, float, float, float]:
    """The centre of the 250 m cell (corners on multiples of 250 m) that holds Ystad's centre, in SWEREF and WGS84."""
    x, y = point_to_sweref(*YSTAD)
    cx, cy = math.floor(x / CELL) * CELL + CELL / 2, math.floor(y / CELL) * CELL + CELL / 2
    lon, lat = to_wgs84([cx], [cy])
    return cx, cy, float(lon[0]), float(lat[0])


def _at(world, x: float, y: float, when: dt.datetime, **extra):
    lon, lat = to_wgs84([x], [y])
    return IncidentFactory(
        category=Category.objects.get(code="narkotika", municipality=None),
        municipality=world.ystad,
        source_organisation=world.kommun,
        lon=float(lon[0]),
        lat=float(lat[0]),
        occurred_from=when,
        **extra,
    )


def make_hotspot(
    world, now: dt.datetime, *, events: int = 100, weeks: int = 30, saturday: int = 15, background: int = 60
):
    """A stable hotspot: ``events`` reports on Friday evenings over ``weeks`` weeks within 40 m of one cell's centre,
    ``saturday`` more on Saturday mornings 100 m away, and ``background`` on Tuesday mornings far from it."""
    rng = np.random.default_rng(49)
    cx, cy, _lon, _lat = hotspot_point()
    local = now.astimezone(STOCKHOLM)
    monday = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(events):
        week = weeks - (i * weeks) // events
        friday = monday - dt.timedelta(weeks=week) + dt.timedelta(days=4, hours=20)
        when = friday + dt.timedelta(minutes=int(rng.integers(0, 235)))
        _at(world, cx + rng.uniform(-40, 40), cy + rng.uniform(-40, 40), when)
    for i in range(saturday):
        saturday_morning = monday - dt.timedelta(weeks=1 + (i * weeks) // saturday) + dt.timedelta(days=5, hours=9)
        _at(world, cx + 100 + rng.uniform(-10, 10), cy + rng.uniform(-10, 10), saturday_morning)
    for i in range(background):
        angle, radius = rng.uniform(0, 2 * math.pi), rng.uniform(1500, 6000)
        tuesday = monday - dt.timedelta(weeks=1 + (i * weeks) // background) + dt.timedelta(days=1, hours=10)
        _at(world, cx + radius * math.cos(angle), cy + radius * math.sin(angle), tuesday)


@pytest.fixture
def hotspot(world):
    make_hotspot(world, NOW)
    return world


def compute(world, user="kommun_samordnare", **kwargs):
    kwargs.setdefault("now", NOW)
    return suggestions_compute(
        user=world.users[user], municipality_id=world.ystad.pk, focus_area_code="droger", **kwargs
    )


# --------------------------------------------------------------------------------------------------------------------
# Time blocks, by hand
# --------------------------------------------------------------------------------------------------------------------

FRI, SAT, SUN, MON, TUE = 4, 5, 6, 0, 1


@pytest.mark.parametrize(
    ("events", "windows", "text"),
    [
        (
            [(FRI, 21)] * 3 + [(SAT, 9)],
            [{"weekdays": [5], "start": "20:00", "end": "00:00"}, {"weekdays": [6], "start": "08:00", "end": "12:00"}],
            "fre 20–24; lör 08–12",
        ),
        ([(FRI, 21)] * 3 + [(SAT, 1)] * 2, [{"weekdays": [5], "start": "20:00", "end": "04:00"}], "fre 20–04"),
        ([(FRI, 21)] * 3 + [(SAT, 23)] * 2, [{"weekdays": [5, 6], "start": "20:00", "end": "00:00"}], "fre–lör 20–24"),
        ([(SUN, 22)] * 2 + [(MON, 2)], [{"weekdays": [7], "start": "20:00", "end": "04:00"}], "sön 20–04"),
        ([(FRI, 17)] * 2 + [(FRI, 21)] * 3, [{"weekdays": [5], "start": "16:00", "end": "00:00"}], "fre 16–24"),
        # A tie goes to the earlier block of the week; the two then share their hours on following days.
        ([(MON, 1), (TUE, 1), (FRI, 1)], [{"weekdays": [1, 2], "start": "00:00", "end": "04:00"}], "mån–tis 00–04"),
        ([(TUE, 5)], [{"weekdays": [2], "start": "04:00", "end": "08:00"}], "tis 04–08"),
        ([(SUN, 21), (MON, 22)], [{"weekdays": [1, 7], "start": "20:00", "end": "00:00"}], "sön–mån 20–24"),
        ([], [], ""),
    ],
)
def test_time_blocks_by_hand(events, windows, text):
    weekday = [d for d, _h in events]
    hour = [h for _d, h in events]
    got_windows, got_text, blocks = time_blocks(weekday, hour)
    assert got_windows == windows
    assert got_text == text
    assert sum(n for _d, _h, n in blocks) <= len(events)
    # The measure form reads the text back as the same windows.
    assert parse_time_windows(text) == windows


# --------------------------------------------------------------------------------------------------------------------
# The selector
# --------------------------------------------------------------------------------------------------------------------


def test_stable_hotspot_is_the_first_suggestion_on_friday_evenings(hotspot):
    result = compute(hotspot)
    assert result["state"] == "ok", result["message"]
    assert result["week"] == {
        "year": 2026,
        "week": 49,
        "code": "2026-W49",
        "label": "vecka 49",
        "start": "2026-11-30",
        "end": "2026-12-07",
    }
    assert result["events"]["placed"] == 175 and result["events"]["not_placed"] == {}
    first = result["suggestions"][0]
    cx, cy, lon, lat = hotspot_point()
    grid = result["grid"]
    hot_cell = [int((cy - grid["y0"]) // grid["cell_size"]), int((cx - grid["x0"]) // grid["cell_size"])]
    assert hot_cell in first["cells"]
    assert shape(first["polygon"]).contains(shapely.Point(lon, lat))
    assert first["time_windows"] == [
        {"weekdays": [5], "start": "20:00", "end": "00:00"},
        {"weekdays": [6], "start": "08:00", "end": "12:00"},
    ]
    assert first["time_windows_text"] == "fre 20–24; lör 08–12"
    assert first["area"] == "Centrum"
    # Four Fridays (weeks 45–48 have 3–4 reports each at the spot) and Saturdays nearby fall in the last 28 days.
    assert first["recent_count"] >= 10
    assert first["motivation"].startswith("Prognos vecka 49: ")
    assert "rapporter senaste 4 veckorna" in first["motivation"]
    # The far background reports are other suggestions, never merged into the hotspot's place.
    assert len(first["cells"]) <= 4
    assert all(s["rank"] == i for i, s in enumerate(result["suggestions"], start=1))
    assert len(result["suggestions"]) <= 10


def test_backtest_shows_naive_beside_the_others_and_the_best_ranks(hotspot):
    bt = compute(hotspot)["backtest"]
    assert [m["code"] for m in bt["methods"]] == ["naive", "kde", "prospective"]
    for m in bt["methods"]:
        assert [r["coverage"] for r in m["rows"]] == [0.01, 0.05, 0.10]
        assert all(r["hit_rate"] is not None and 0 <= r["hit_rate"] <= 1 for r in m["rows"])
    # The first report is on the Friday 30 weeks back; the first Monday with four full weeks of reports before it
    # is 25 weeks back.
    assert bt["weeks"] == 25
    # Compared at the one decimal shown.
    pai5 = {m["code"]: round(m["rows"][1]["pai"], 1) for m in bt["methods"]}
    assert pai5[bt["chosen"]] == max(pai5.values())
    if bt["chosen"] != "naive":
        assert pai5[bt["chosen"]] > pai5["naive"]
    assert [m["chosen"] for m in bt["methods"]].count(True) == 1
    assert bt["sentence"].startswith("Naiv prognos (förra veckornas antal) träffade i snitt ")
    assert "på 5 % av ytan; KDE " in bt["sentence"]


def test_backtest_by_hand_when_every_report_is_in_one_cell(world):
    # Only the Friday reports in one cell: every forecast flags that cell first every week, so each hits all of the
    # week's reports at every coverage, PAI = studied cells ÷ flagged cells, and the tie goes to the naive forecast.
    make_hotspot(world, NOW, saturday=0, background=0)
    result = compute(world)
    n = result["grid"]["cells_studied"]
    bt = result["backtest"]
    for m in bt["methods"]:
        for r in m["rows"]:
            assert r["hit_rate"] == 1.0
            assert r["pai"] == round(n / math.floor(r["coverage"] * n + 1e-9), 2)
    assert bt["chosen"] == "naive"
    assert "Förslagen rangordnas med den naiva prognosen" in bt["sentence"]
    assert "träffade i snitt 100 % av veckans händelser på 5 % av ytan; KDE 100 %; prospektiv 100 %" in bt["sentence"]
    assert len(result["suggestions"]) == 1
    assert result["suggestions"][0]["time_windows_text"] == "fre 20–24"


def test_a_moving_hotspot_is_ranked_by_a_smoothing_forecast(world):
    # Four reports a week in one cell, one cell further east every week: the naive forecast flags only cells that
    # had reports, never next week's, while KDE and the prospective forecast reach the neighbour. They tie at the
    # top, and of the two the simpler (KDE) ranks.
    cx, cy, _lon, _lat = hotspot_point()
    monday = dt.datetime(2026, 11, 23, tzinfo=STOCKHOLM)
    for week in range(30, 0, -1):
        for k in range(4):
            when = monday - dt.timedelta(weeks=week) + dt.timedelta(days=k, hours=18)
            _at(world, cx - 3500 + (30 - week) * CELL, cy, when)
    bt = compute(world)["backtest"]
    rows = {m["code"]: m["rows"][1] for m in bt["methods"]}
    assert rows["kde"]["hit_rate"] == 1.0 and rows["prospective"]["hit_rate"] == 1.0
    assert rows["naive"]["hit_rate"] < 0.1
    assert bt["chosen"] == "kde"
    assert "Förslagen rangordnas med KDE, som hade högst PAI vid 5 % av ytan" in bt["sentence"]


def test_reports_from_next_week_on_are_not_used(world):
    make_hotspot(world, NOW, saturday=0, background=0)
    before = compute(world)
    cx, cy, _lon, _lat = hotspot_point()
    # Reports after the moment of the forecast, far from the hotspot, must change nothing.
    for i in range(5):
        _at(world, cx + 3000, cy + 3000, NOW + dt.timedelta(hours=1 + i))
    after = compute(world)
    assert after["backtest"] == before["backtest"] and after["suggestions"] == before["suggestions"]


def test_too_few_reports_give_a_message_and_no_ranking(world):
    make_hotspot(world, NOW, events=MIN_EVENTS - 1, saturday=0, background=0)
    result = compute(world)
    assert result["state"] == "too_few"
    assert f"{MIN_EVENTS - 1} under de senaste 52 veckorna" in result["message"]
    assert f"minst {MIN_EVENTS}" in result["message"]
    assert result["backtest"] is None and result["suggestions"] == []


def test_too_short_a_history_gives_a_message_and_no_ranking(world):
    # Forty reports, all within the last six weeks: the first Monday with four weeks of reports before it leaves
    # one week to test.
    make_hotspot(world, NOW, events=40, weeks=6, saturday=0, background=0)
    result = compute(world)
    assert result["state"] == "too_few"
    assert "räcker till 1 veckors prov, minst 4 behövs" in result["message"]
    assert result["backtest"] is None and result["suggestions"] == []


def test_reports_without_a_street_place_are_counted_not_placed(hotspot):
    when = NOW - dt.timedelta(days=10)
    cx, cy, _lon, _lat = hotspot_point()
    for _ in range(5):
        _at(hotspot, cx, cy, when, precision=Precision.MUNICIPALITY)
    for _ in range(3):
        _at(hotspot, cx, cy, when, precision=Precision.AREA)
    # Older than the 52 weeks: not counted.
    _at(hotspot, cx, cy, NOW - dt.timedelta(weeks=60), precision=Precision.MUNICIPALITY)
    result = compute(hotspot)
    assert result["events"]["placed"] == 175
    assert result["events"]["not_placed"] == {"municipality": 5, "area": 3}
    assert "har 5 rapporter bara kommunen som plats och 3 bara ett område" in result["events"]["message"]
    assert "kan inte placeras" in result["events"]["message"]


def test_shared_view_leaves_police_only_reports_out(hotspot):
    cx, cy, _lon, _lat = hotspot_point()
    for i in range(7):
        _at(hotspot, cx, cy, NOW - dt.timedelta(days=3 + i), sensitivity=Sensitivity.POLICE_RESTRICTED)
    assert compute(hotspot, "polis_samordnare")["events"]["placed"] == 175
    assert compute(hotspot, "polis_samordnare", view="police")["events"]["placed"] == 182
    assert compute(hotspot, "kommun_samordnare")["events"]["placed"] == 175
    with pytest.raises(PermissionDenied):
        compute(hotspot, "kommun_samordnare", view="police")


@pytest.mark.parametrize("user", ["kommun_rapportor", "polis_rapportor", "simrishamn_samordnare", "nobody"])
def test_who_may_not_see_gets_404(hotspot, user):
    with pytest.raises(Http404):
        compute(hotspot, user)


def test_readers_may_see(hotspot):
    assert compute(hotspot, "kommun_lasare")["state"] == "ok"


def test_bad_input(hotspot):
    with pytest.raises(Http404):
        suggestions_compute(
            user=hotspot.users["kommun_samordnare"], municipality_id=hotspot.ystad.pk, focus_area_code="nope", now=NOW
        )
    with pytest.raises(Http404):
        suggestions_compute(
            user=hotspot.users["kommun_samordnare"], municipality_id="x", focus_area_code="droger", now=NOW
        )
    for kwargs in ({"view": "all"}, {"weeks_history": 0}, {"top": 0}, {"cell_size": 0.0}, {"cell_size": math.nan}):
        with pytest.raises(ValueError):
            compute(hotspot, **kwargs)
    with pytest.raises(ValueError, match="aware"):
        compute(hotspot, now=dt.datetime(2026, 11, 25, 12))


# --------------------------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------------------------


def _stub(request):
    return HttpResponse("measure form")


def _reversible(name: str) -> bool:
    try:
        reverse(name, urlconf="config.urls")
    except NoReverseMatch:
        return False
    return True


@pytest.fixture
def urls(settings):
    """The project's URLs, plus this page and the measure form where they are not wired in yet."""
    from config import urls as root

    patterns = list(root.urlpatterns)
    if not _reversible("plan_suggest:suggestions"):
        patterns.insert(0, path("plan/forslag/", include("samverkan.plan.suggestion_urls")))
    if not _reversible("plan:measure_create"):
        patterns.insert(0, path("plan/atgarder/ny/", include(([path("", _stub, name="measure_create")], "plan"))))
    module = types.ModuleType("suggestion_test_urls")
    module.urlpatterns = patterns  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = module


def client_for(world, key):
    client = Client()
    client.force_login(world.users[key])
    return client


def test_page_shows_backtest_map_and_create_links(world, urls):
    hotspot = world
    make_hotspot(hotspot, dt.datetime.now(STOCKHOLM), saturday=0, background=0)
    client = client_for(hotspot, "kommun_samordnare")
    page = client.get(reverse("plan_suggest:suggestions"), {"municipality": hotspot.ystad.pk, "focus": "droger"})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="backtest"' in text
    for code in ("naive", "kde", "prospective"):
        assert f'data-method="{code}"' in text
    assert "Naiv prognos (förra veckornas antal) träffade i snitt" in text
    assert 'id="suggestion-map"' in text and 'id="places-data"' in text
    result = page.context["result"]
    first = result["suggestions"][0]
    hrefs = re.findall(r'<li id="suggestion-1">.*?href="([^"]+)"', text, flags=re.S)
    assert hrefs, "the first suggestion has a link to plan a measure"
    link = urlsplit(html.unescape(hrefs[0]))
    assert link.path == reverse("plan:measure_create")
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert query["municipality"] == str(hotspot.ystad.pk)
    assert query["focus"] == "droger"
    assert json.loads(query["polygon"]) == first["polygon"]
    _cx, _cy, lon, lat = hotspot_point()
    assert shape(json.loads(query["polygon"])).contains(shapely.Point(lon, lat))
    assert query["time_windows"].startswith("fre 20–24")
    assert query["motivation"] == first["motivation"]
    assert re.match(r"Prognos vecka \d+: ruta 1 av \d+", query["motivation"])


def test_page_says_when_there_are_too_few(world, urls):
    make_hotspot(world, dt.datetime.now(STOCKHOLM), events=10, saturday=0, background=0)
    page = client_for(world, "kommun_samordnare").get(
        reverse("plan_suggest:suggestions"), {"municipality": world.ystad.pk, "focus": "droger"}
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="suggestion-message"' in text and "För få rapporter" in text
    assert 'id="backtest"' not in text and "suggestion-1" not in text


def test_page_refusals(world, urls):
    url = reverse("plan_suggest:suggestions")
    assert Client().get(url).status_code == 302
    for key in ("nobody", "kommun_rapportor", "polis_rapportor"):
        assert client_for(world, key).get(url).status_code == 403
    # A municipality the user does not work in is not a choice at all.
    page = client_for(world, "kommun_samordnare").get(url, {"municipality": world.simrishamn.pk, "focus": "droger"})
    assert page.status_code == 200 and "result" not in page.context and page.context["form"].errors
    # Only the police may choose the police view.
    page = client_for(world, "kommun_samordnare").get(
        url, {"municipality": world.ystad.pk, "focus": "droger", "view": "police"}
    )
    assert "result" not in page.context and "view" in page.context["form"].errors


def test_page_without_a_choice_shows_the_form(world, urls):
    page = client_for(world, "kommun_lasare").get(reverse("plan_suggest:suggestions"))
    assert page.status_code == 200 and "result" not in page.context
