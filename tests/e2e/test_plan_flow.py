"""A coordinator goes from next week's hotspot to a planned measure, logs what was done, ends the measure and reads
its evaluation."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.test_reporting_flow import log_in
from tests.factories import YSTAD, IncidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TITLE = "Nattpatrull vid stationen"
ACTIVITY = "Extra ronder vid stationen"
CELL = 250.0
WEEKS = 30
# Control reports lie at least this far from the hotspot: beyond the suggested place (a few cells), the 500 m
# surroundings of the evaluation and the 250 m the suggestions look around a place for its busiest hours.
CONTROL_DISTANCE_M = 2500.0
# The two hotspot reports of the whole measure period, on these Fridays (weeks before this week's Monday).
DURING_MEASURE = (12, 14)


@dataclass(frozen=True)
class Thirty:
    """What ``fill_thirty_weeks`` made: the hotspot (SWEREF metres) and the measure period the data were shaped for,
    with the reports inside the measure's times (Friday 20 to Saturday 04) per zone and period."""

    x: float
    y: float
    start: dt.date
    end: dt.date
    treated_before: int
    treated_after: int
    control_before: int
    control_after: int


def _local(day: dt.date, hour: float) -> dt.datetime:
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
    return timezone.make_aware(moment)


def fill_thirty_weeks(world) -> Thirty:
    """Thirty weeks of drug reports in Ystad: three every Friday night at one spot (two Friday 20–24, one Saturday
    00–04), except the eight weeks a measure ran there (16 to 8 weeks ago), which had two in all; two a Friday night
    elsewhere in the municipality, every week; and some daytime reports elsewhere, outside the measure's times."""
    from samverkan.incidents.models import Category
    from samverkan.places.geo import point_to_sweref, to_wgs84

    rng = random.Random(1286)
    categories = list(Category.objects.filter(municipality=None, focus_area__code="droger").order_by("code"))
    assert categories
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    start = monday - dt.timedelta(weeks=16)
    end = start + dt.timedelta(days=55)

    # The spot sits in the middle of a forecast cell (cells lie on whole multiples of 250 m), so the reports there
    # fall in one cell and the suggested place is that cell.
    x0, y0 = point_to_sweref(*YSTAD)
    hx, hy = (math.floor(x0 / CELL) + 0.5) * CELL, (math.floor(y0 / CELL) + 0.5) * CELL

    def report(x: float, y: float, when: dt.datetime) -> None:
        lon, lat = to_wgs84(x, y)
        IncidentFactory(
            category=rng.choice(categories),
            occurred_from=when,
            lon=float(lon),
            lat=float(lat),
            x=x,
            y=y,
            municipality=world.ystad,
            source_organisation=rng.choice([world.kommun, world.polis]),
            description="Misstänkt narkotikaförsäljning.",
        )

    def elsewhere() -> tuple[float, float]:
        while True:
            lon = YSTAD[0] + rng.uniform(-0.09, 0.09)
            lat = YSTAD[1] + rng.uniform(-0.09, 0.09)
            x, y = point_to_sweref(lon, lat)
            if math.hypot(x - hx, y - hy) > CONTROL_DISTANCE_M:
                return x, y

    def at_spot() -> tuple[float, float]:
        return hx + rng.uniform(-40, 40), hy + rng.uniform(-40, 40)

    counts = {"treated": {"before": 0, "after": 0}, "control": {"before": 0, "after": 0}}

    def period(day: dt.date) -> str | None:
        if start <= day <= end:
            return "after"
        if start - dt.timedelta(days=56) <= day < start:
            return "before"
        return None

    for weeks_back in range(1, WEEKS + 1):
        friday = monday - dt.timedelta(weeks=weeks_back) + dt.timedelta(days=4)
        which = period(friday)
        measured = which == "after"
        if not measured:
            report(*at_spot(), _local(friday, rng.uniform(20.2, 23.8)))
            report(*at_spot(), _local(friday, rng.uniform(20.2, 23.8)))
            report(*at_spot(), _local(friday, rng.uniform(24.2, 27.8)))
            spot = 3
        elif weeks_back in DURING_MEASURE:
            report(*at_spot(), _local(friday, rng.uniform(20.2, 23.8)))
            spot = 1
        else:
            spot = 0
        report(*elsewhere(), _local(friday, rng.uniform(20.2, 23.8)))
        report(*elsewhere(), _local(friday, rng.uniform(24.2, 27.8)))
        if which:
            counts["treated"][which] += spot
            counts["control"][which] += 2
        # Daytime reports elsewhere, outside the measure's times.
        report(*elsewhere(), _local(friday - dt.timedelta(days=rng.randrange(4)), rng.uniform(9, 16)))
    return Thirty(
        x=hx,
        y=hy,
        start=start,
        end=end,
        treated_before=counts["treated"]["before"],
        treated_after=counts["treated"]["after"],
        control_before=counts["control"]["before"],
        control_after=counts["control"]["after"],
    )


def test_hotspot_to_measure_to_evaluation(world, open_browser, screenshot):
    from samverkan.plan.models import Evaluation, Measure, MeasureStatus
    from samverkan.situation.services import daily_counts_rebuild

    data = fill_thirty_weeks(world)
    daily_counts_rebuild()
    # The shape the verdict rests on: a clear drop at the spot while the rest of the municipality stays level.
    assert (data.treated_before, data.treated_after) == (24, len(DURING_MEASURE))
    assert data.control_before == data.control_after == 16

    session = open_browser(DESKTOP)
    page = session.page
    log_in(session, "kommun_samordnare")

    # 1. Next week's places for drugs in Ystad, with the back-test that ranked them.
    page.goto(session.url(f"/plan/forslag/?municipality={world.ystad.pk}&focus=droger&view=shared"))
    naive = page.locator('#backtest tbody tr[data-method="naive"]')
    expect(naive.locator("th")).to_contain_text("Naiv prognos")
    expect(page.locator("#backtest tbody tr")).to_have_count(3)
    expect(page.locator("#backtest tbody tr.chosen")).to_have_count(1)
    expect(page.locator("#backtest-sentence")).to_contain_text("träffade i snitt")
    expect(page.locator("#suggestion-map[data-loaded]")).to_be_attached()
    first = page.locator("#suggestion-1")
    expect(first).to_contain_text("fre 20–04")
    screenshot(page, "plan-forslag.png", full_page=True)

    # 2. "Plan a measure" on the first place opens the form with its place, times and motivation.
    link = first.locator('a[href^="/plan/atgarder/ny/?"]')
    query = parse_qs(urlsplit(link.get_attribute("href")).query)
    suggested = json.loads(query["polygon"][0])
    link.click()
    page.wait_for_url(re.compile(r"/plan/atgarder/ny/\?"))
    expect(page.locator("#measure-draw-map[data-ready]")).to_be_attached()
    expect(page.locator("#id_time_windows")).to_have_value("fre 20–04")
    drawn = json.loads(page.locator("#id_polygon").input_value())
    assert drawn["type"] == "Polygon" and drawn["coordinates"][0]
    assert _contains(drawn, data.x, data.y) and _contains(suggested, data.x, data.y)
    expect(page.locator("#id_motivation")).to_have_value(re.compile(r"^Prognos vecka \d+: .* droger i Ystad"))
    expect(page.locator("#id_focus_area")).to_have_value(str(_droger_pk()))

    page.fill("#id_title", TITLE)
    page.fill("#id_description", "Polis och fältgrupp går ronder vid stationen fredag kväll och natt.")
    page.check("#id_kind_0")
    page.check("#id_term_0")
    page.fill("#id_start", data.start.isoformat())
    page.fill("#id_end", data.end.isoformat())
    page.fill("#id_expected_effect", "Färre iakttagelser av narkotikaförsäljning vid stationen.")
    page.click("#save-measure")
    page.wait_for_url(re.compile(r"/plan/atgarder/\d+/$"))
    measure = Measure.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert (measure.title, measure.start, measure.end, measure.status) == (
        TITLE,
        data.start,
        data.end,
        MeasureStatus.PLANNED,
    )
    assert measure.time_windows == [{"weekdays": [5], "start": "20:00", "end": "04:00"}]
    assert measure.polygon["type"] == "Polygon"
    assert measure.motivation.startswith("Prognos vecka")
    expect(page.locator("#measure-detail-map[data-ready]")).to_be_attached()

    # 3. What was done goes into the log.
    page.fill("#id_date", (data.start + dt.timedelta(days=4)).isoformat())
    page.fill("#id_text", ACTIVITY)
    page.locator("#activities form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/plan/atgarder/{measure.pk}/#activities$"))
    expect(page.locator("#activity-log")).to_contain_text(ACTIVITY)

    # 4. Planned → ongoing → done, each through the status buttons.
    for status in (MeasureStatus.ONGOING, MeasureStatus.DONE):
        page.locator(f'button[name="to_status"][value="{status}"]').click()
        page.wait_for_url(session.url(f"/plan/atgarder/{measure.pk}/"))
        measure.refresh_from_db()
        assert measure.status == status
    expect(page.locator("#measure-status")).to_have_class(re.compile(r"\bstatus-done\b"))
    expect(page.locator('button[name="to_status"]')).to_have_count(0)
    assert measure.end == data.end
    expect(page.locator("#activity-log li")).to_have_count(3)

    # 5. The evaluation: ending the measure evaluated it already; run it again on demand, read the verdict, the
    # numbers and the chart.
    assert Evaluation.objects.filter(measure=measure).count() == 1
    page.locator("#measure-evaluate").click()
    page.wait_for_url(session.url(f"/plan/atgarder/{measure.pk}/utvardering/"))
    expect(page.locator("#verdict")).to_be_visible()
    page.locator("#evaluate-form button[type=submit]").click()
    page.wait_for_url(session.url(f"/plan/atgarder/{measure.pk}/utvardering/"))
    assert Evaluation.objects.filter(measure=measure).count() == 2
    evaluation = Evaluation.objects.filter(measure=measure).first()
    assert evaluation.verdict == "effect_shown"
    assert evaluation.result["verdict"]["direction"] == "reduction"
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text(f"från {data.treated_before} till {data.treated_after}")
    expect(verdict).to_contain_text("En effekt kan visas: rapporterna i området minskade med")
    expect(verdict).to_contain_text("Bara rapporter inom åtgärdens tider räknas.")
    treated = page.locator('#zone-counts tr[data-zone="treated"] td')
    expect(treated.nth(0)).to_have_text(str(data.treated_before))
    expect(treated.nth(1)).to_have_text(str(data.treated_after))
    control = page.locator('#zone-counts tr[data-zone="control"] td')
    expect(control.nth(0)).to_have_text(str(data.control_before))
    expect(control.nth(1)).to_have_text(str(data.control_after))
    expect(page.locator("#statistics tbody tr")).to_have_count(4)
    chart = page.locator("section[aria-labelledby=h-chart] svg.chart-evaluation")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline.series")).to_have_count(3)
    screenshot(page, "plan-utvardering.png", full_page=True)

    assert session.problems.items == []


def _contains(polygon: dict, x: float, y: float) -> bool:
    """Whether a WGS84 GeoJSON polygon holds the SWEREF point (x, y)."""
    import shapely
    from shapely.geometry import shape

    from samverkan.places.geo import to_wgs84

    lon, lat = to_wgs84(x, y)
    return bool(shapely.contains_xy(shape(polygon), float(lon), float(lat)))


def _droger_pk() -> int:
    from samverkan.incidents.models import FocusArea

    return FocusArea.objects.get(code="droger").pk


def evaluated_measure(world, data: Thirty):
    """The measure of the flow above, made and evaluated through the services (for pages that show one)."""
    from shapely.geometry import box

    from samverkan.places.geo import to_wgs84
    from samverkan.plan.evaluation import measure_evaluate
    from samverkan.plan.services import measure_create

    user = world.users["kommun_samordnare"]
    corners = box(data.x - CELL / 2, data.y - CELL / 2, data.x + CELL / 2, data.y + CELL / 2).exterior.coords
    lon, lat = to_wgs84([c[0] for c in corners], [c[1] for c in corners])
    polygon = {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in zip(lon, lat, strict=True)]]}
    measure = measure_create(
        user=user,
        municipality_id=world.ystad.pk,
        title=TITLE,
        focus_area_id=_droger_pk(),
        kind="situational",
        term="short",
        responsible_organisation_id=world.kommun.pk,
        start=data.start,
        end=data.end,
        status="done",
        polygon=polygon,
        time_windows=[{"weekdays": [5], "start": "20:00", "end": "04:00"}],
        motivation="Flest rapporter om narkotika fredag kväll vid stationen.",
    )
    measure_evaluate(user=user, measure_id=measure.pk)
    return measure
