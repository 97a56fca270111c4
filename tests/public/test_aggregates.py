"""The public figures: suppression below k, secondary suppression against differencing, the publication delay,
what is counted (public sensitivity in public categories only), and the pages and downloads that show them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from samverkan.incidents.models import Category, Incident
from samverkan.places.services import area_create, area_replace
from samverkan.public.aggregates import (
    FEWER,
    HIDDEN,
    SHOWN,
    latest_published_month,
    protect_column,
    public_areas,
    public_figures,
    published_months,
)
from samverkan.situation.models import DailyCount
from samverkan.situation.services import daily_counts_rebuild
from tests.factories import YSTAD, IncidentFactory, square

K = 5
# With the default delay of one month, on 1 December 2026 the latest published month is October 2026.
TODAY = dt.date(2026, 12, 1)
OCTOBER = dt.date(2026, 10, 1)
SEPTEMBER = dt.date(2026, 9, 1)
NORR = (13.82, 55.45)


# --------------------------------------------------------------------------------------------------------------------
# An attacker: every integer assignment of the suppressed cells that agrees with what is published
# --------------------------------------------------------------------------------------------------------------------


def possible_values(values: list[int], total: int, statuses: list[str], total_status: str, k: int, cap: int = 40):
    """For each cell, the set of values it can take given the published figures and the labels: a "fewer" cell
    lies in 0…k−1, a "hidden" one in k…cap, a shown one is what it shows, and the cells add up to the total."""
    ranges = []
    for v, s in zip(values, statuses, strict=True):
        ranges.append([v] if s == SHOWN else range(k) if s == FEWER else range(k, cap + 1))
    possible: list[set[int]] = [set() for _ in values]
    for combo in itertools.product(*ranges):
        t = sum(combo)
        if total_status == SHOWN and t != total:
            continue
        if total_status == FEWER and t >= k:
            continue
        if total_status == HIDDEN and t < k:
            continue
        for i, v in enumerate(combo):
            possible[i].add(v)
    return possible


def pinned_small_counts(values, total, statuses, total_status, k):
    """The suppressed counts of one or more that the attacker can pin to their true value."""
    possible = possible_values(values, total, statuses, total_status, k)
    return [
        (i, values[i]) for i, s in enumerate(statuses) if s == FEWER and values[i] >= 1 and possible[i] == {values[i]}
    ]


# --------------------------------------------------------------------------------------------------------------------
# The publication delay
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "delay", "latest"),
    [
        (dt.date(2026, 11, 25), 1, dt.date(2026, 9, 1)),
        (dt.date(2026, 11, 30), 1, dt.date(2026, 9, 1)),  # November has not passed yet: October waits
        (dt.date(2026, 12, 1), 1, dt.date(2026, 10, 1)),  # October ended 31/10, all of November passed
        (dt.date(2026, 12, 31), 1, dt.date(2026, 10, 1)),
        (dt.date(2027, 1, 15), 1, dt.date(2026, 11, 1)),  # across the new year
        (dt.date(2026, 11, 1), 0, dt.date(2026, 10, 1)),  # no delay: the day after the month ends
        (dt.date(2026, 10, 31), 0, dt.date(2026, 9, 1)),
        (dt.date(2026, 12, 1), 2, dt.date(2026, 9, 1)),
        (dt.date(2027, 2, 28), 3, dt.date(2026, 10, 1)),
    ],
)
def test_latest_published_month(today, delay, latest):
    assert latest_published_month(today, delay) == latest


def test_published_months_end_at_the_latest_and_run_oldest_first():
    months = published_months(TODAY, 1, 12)
    assert months[0] == dt.date(2025, 11, 1) and months[-1] == OCTOBER and len(months) == 12
    assert months == sorted(months) and len(set(months)) == 12
    assert published_months(TODAY, 1, 1) == [OCTOBER]


@pytest.mark.parametrize(
    ("delay", "months", "argument"), [(-1, 12, "delay_months"), (1, 0, "months"), (1, 61, "months")]
)
def test_bad_delay_or_months_are_refused(delay, months, argument):
    with pytest.raises(ValueError, match=argument):
        published_months(TODAY, delay, months)


# --------------------------------------------------------------------------------------------------------------------
# Suppression of one month column
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "statuses", "total_status"),
    [
        ([4, 10], [FEWER, HIDDEN], SHOWN),  # alone, 4 = 14 − 10: the 10 must go too
        ([3, 6, 8], [FEWER, HIDDEN, SHOWN], SHOWN),  # the smallest shown cell is hidden
        ([4, 4, 9], [FEWER, FEWER, HIDDEN], SHOWN),  # two hidden summing to 8 can only be 4 and 4
        ([3, 4, 9], [FEWER, FEWER, SHOWN], SHOWN),  # 7 = 3+4 = 4+3: nothing pinned, nothing more hidden
        ([0, 7], [FEWER, SHOWN], SHOWN),  # the hidden cell can be worked out, but only as zero
        ([4, 4], [FEWER, FEWER], HIDDEN),  # nothing left to hide but the total
        ([1, 2], [FEWER, FEWER], FEWER),  # a small total is itself suppressed
        ([5, 6], [SHOWN, SHOWN], SHOWN),
    ],
)
def test_protect_column(values, statuses, total_status):
    assert protect_column(values, sum(values), K) == (statuses, total_status)


def test_the_smallest_shown_cell_is_the_one_hidden_first_on_ties():
    assert protect_column([9, 2, 6, 6], 23, K) == ([SHOWN, FEWER, HIDDEN, SHOWN], SHOWN)


@pytest.mark.parametrize("k", [3, 5, 7])
def test_no_small_count_can_be_worked_out_in_any_column(k):
    rng = np.random.default_rng(20261201)
    columns = []
    for _ in range(400):
        n = int(rng.integers(1, 5))
        small = rng.random(n) < 0.6
        values = [int(rng.integers(0, k)) if s else int(rng.integers(k, k + 8)) for s in small]
        columns.append(values)
    columns += [[k - 1, k - 1, k + 3], [1, 2 * k], [k - 1, k - 1], [k - 1, 0, k], [1, 1, k]]
    unprotected_leaks = 0
    for values in columns:
        total = sum(values)
        statuses, total_status = protect_column(values, total, k)
        assert all(s == SHOWN for v, s in zip(values, statuses, strict=True) if v >= k and s != HIDDEN)
        assert all(s == FEWER for v, s in zip(values, statuses, strict=True) if v < k)
        assert pinned_small_counts(values, total, statuses, total_status, k) == [], (values, statuses, total_status)
        primary = [FEWER if v < k else SHOWN for v in values]
        unprotected_leaks += bool(pinned_small_counts(values, total, primary, FEWER if total < k else SHOWN, k))
    # Without secondary suppression the same attacker does find small counts: the check above has teeth.
    assert unprotected_leaks > 20


# --------------------------------------------------------------------------------------------------------------------
# From the daily counts
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def klotter(db):
    category = Category.objects.get(code="klotter", municipality=None)
    assert category.public
    return category


@pytest.fixture
def brand(db):
    category = Category.objects.get(code="brand", municipality=None)
    assert not category.public
    return category


def add_reports(world, category, *, month, n, area=None, sensitivity="public", where=YSTAD):
    when = timezone.make_aware(dt.datetime(month.year, month.month, 15, 12, 0))
    for i in range(n):
        incident = IncidentFactory(
            municipality=world.ystad,
            source_organisation=world.kommun,
            category=category,
            sensitivity=sensitivity,
            occurred_from=when + dt.timedelta(hours=i),
            lon=where[0],
            lat=where[1],
        )
        if area is not None:
            incident.areas.add(area)


def row(figures, kind, name=None):
    return next(r for r in figures["rows"] if r["kind"] == kind and (name is None or r["name"] == name))


def column(figures, month):
    index = figures["months"].index(month)
    return [r["cells"][index] for r in figures["rows"]]


@pytest.fixture
def norr(world):
    return area_create(municipality=world.ystad, kind="district", name="Norr", geometry=square(*NORR, 0.005))


@pytest.mark.parametrize(("n", "shown"), [(4, False), (5, True), (6, True)])
def test_suppression_edges(world, klotter, settings, n, shown):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = 5
    centrum = world.ystad.areas.get(name="Centrum")
    add_reports(world, klotter, month=OCTOBER, n=n, area=centrum)
    add_reports(world, klotter, month=OCTOBER, n=10, where=(13.9, 55.4))  # outside every named area
    daily_counts_rebuild()
    figures = public_figures(municipality=world.ystad, today=TODAY)
    cell = row(figures, "area", "Centrum")["cells"][-1]
    if shown:
        assert (cell.value, cell.text, cell.status) == (n, str(n), SHOWN)
        assert row(figures, "outside")["cells"][-1].value == 10
    else:
        assert (cell.value, cell.text, cell.status) == (None, "färre än 5", FEWER)
        # 4 = 14 − 10: the rest of the municipality is hidden too, or the 4 could be worked out.
        outside = row(figures, "outside")["cells"][-1]
        assert (outside.value, outside.text, outside.status) == (None, "dold", HIDDEN)
    assert row(figures, "total")["cells"][-1].value == n + 10
    # Months without reports are zero, and zero is suppressed like any small count.
    empty = row(figures, "area", "Centrum")["cells"][0]
    assert (empty.value, empty.text) == (None, "färre än 5")


def test_k_comes_from_the_setting(world, klotter, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = 7
    centrum = world.ystad.areas.get(name="Centrum")
    add_reports(world, klotter, month=OCTOBER, n=6, area=centrum)
    daily_counts_rebuild()
    figures = public_figures(municipality=world.ystad, today=TODAY)
    assert figures["min_count"] == 7
    assert row(figures, "area", "Centrum")["cells"][-1].text == "färre än 7"
    assert row(figures, "total")["cells"][-1].text == "färre än 7"


def test_secondary_suppression_protects_every_month(world, klotter, norr, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = K
    centrum = world.ystad.areas.get(name="Centrum")
    away = (13.9, 55.4)
    # October: Centrum 3 alone among shown counts; September: Centrum and Norr 4 each, which a sum of 8 would pin.
    add_reports(world, klotter, month=OCTOBER, n=3, area=centrum)
    add_reports(world, klotter, month=OCTOBER, n=6, area=norr, where=NORR)
    add_reports(world, klotter, month=OCTOBER, n=8, where=away)
    add_reports(world, klotter, month=SEPTEMBER, n=4, area=centrum)
    add_reports(world, klotter, month=SEPTEMBER, n=4, area=norr, where=NORR)
    add_reports(world, klotter, month=SEPTEMBER, n=9, where=away)
    daily_counts_rebuild()
    figures = public_figures(municipality=world.ystad, today=TODAY)
    assert [r["name"] for r in figures["rows"]][:2] == ["Centrum", "Norr"]
    assert [(c.value, c.status) for c in column(figures, OCTOBER)] == [
        (None, FEWER),
        (None, HIDDEN),
        (8, SHOWN),
        (17, SHOWN),
    ]
    assert [(c.value, c.status) for c in column(figures, SEPTEMBER)] == [
        (None, FEWER),
        (None, FEWER),
        (None, HIDDEN),
        (17, SHOWN),
    ]
    truth = {OCTOBER: [3, 6, 8], SEPTEMBER: [4, 4, 9]}
    for month in figures["months"]:
        cells = column(figures, month)
        values = truth.get(month, [0, 0, 0])
        statuses = [c.status for c in cells[:-1]]
        total = cells[-1]
        # No suppressed value equals a published total minus the published cells of its month …
        if total.status == SHOWN:
            hidden = [i for i, c in enumerate(cells[:-1]) if c.status != SHOWN]
            assert len(hidden) != 1, month
        # … nor can any other combination of the published figures and the labels pin it.
        assert pinned_small_counts(values, sum(values), statuses, total.status, K) == [], month


def test_only_public_reports_in_public_categories_count(world, klotter, brand, norr, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = K
    centrum = world.ystad.areas.get(name="Centrum")
    add_reports(world, klotter, month=OCTOBER, n=5, area=centrum)
    add_reports(world, klotter, month=OCTOBER, n=4, area=norr, where=NORR)
    for area, where in ((centrum, YSTAD), (norr, NORR)):
        # Each of these would lift Centrum above 5 or Norr to 5 and more if it were counted.
        add_reports(world, klotter, month=OCTOBER, n=2, area=area, sensitivity="shared", where=where)
        add_reports(world, klotter, month=OCTOBER, n=2, area=area, sensitivity="police_restricted", where=where)
        add_reports(world, brand, month=OCTOBER, n=3, area=area, where=where)
    daily_counts_rebuild()
    figures = public_figures(municipality=world.ystad, today=TODAY)
    assert [(c.value, c.status) for c in column(figures, OCTOBER)] == [
        (5, SHOWN),
        (None, FEWER),
        (None, FEWER),
        (9, SHOWN),
    ]
    names = figures["categories"]
    assert klotter.name in names and brand.name not in names


def test_the_delay_holds_a_month_back_until_a_whole_month_has_passed(world, klotter, settings):
    settings.SAMVERKAN_PUBLIC_DELAY_MONTHS = 1
    centrum = world.ystad.areas.get(name="Centrum")
    add_reports(world, klotter, month=OCTOBER, n=6, area=centrum)
    daily_counts_rebuild()
    before = public_figures(municipality=world.ystad, today=dt.date(2026, 11, 30))
    assert before["months"][-1] == SEPTEMBER and OCTOBER not in before["months"]
    assert all(c.value is None for r in before["rows"] for c in r["cells"])
    assert before["next_publication"] == dt.date(2026, 12, 1)
    after = public_figures(municipality=world.ystad, today=dt.date(2026, 12, 1))
    assert after["month_keys"][-1] == "2026-10"
    assert row(after, "area", "Centrum")["cells"][-1].value == 6
    settings.SAMVERKAN_PUBLIC_DELAY_MONTHS = 0
    assert public_figures(municipality=world.ystad, today=dt.date(2026, 11, 1))["months"][-1] == OCTOBER


def test_figures_come_from_the_daily_counts_not_the_reports(world, klotter, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = K
    centrum = world.ystad.areas.get(name="Centrum")
    add_reports(world, klotter, month=OCTOBER, n=6, area=centrum)
    daily_counts_rebuild()
    before = public_figures(municipality=world.ystad, today=TODAY)
    # Reports are deleted after their retention time; the aggregates stay, and so do the public figures.
    Incident.areas.through.objects.all().delete()
    Incident.objects.all().delete()
    assert DailyCount.objects.exists()
    assert public_figures(municipality=world.ystad, today=TODAY) == before
    assert row(before, "area", "Centrum")["cells"][-1].value == 6


def test_overlapping_areas_and_zones_are_not_published(world, klotter):
    area_create(municipality=world.ystad, kind="deso", name="DeSO i Centrum", geometry=square(*YSTAD, 0.004))
    area_create(municipality=world.ystad, kind="zone", name="Torget", geometry=square(13.88, 55.40, 0.002))
    area_create(municipality=world.ystad, kind="place", name="Byn", geometry=square(13.90, 55.48, 0.005))
    # Touching Centrum along an edge is not overlapping.
    area_create(municipality=world.ystad, kind="deso", name="Grannen", geometry=square(13.84, 55.43, 0.01))
    names = [a.name for a in public_areas(world.ystad)]
    assert names == ["Centrum", "Grannen", "Byn"]


def test_a_municipality_without_areas_has_only_its_total(world, klotter, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = K
    when = timezone.make_aware(dt.datetime(2026, 10, 3, 9))
    for _ in range(6):
        IncidentFactory(municipality=world.simrishamn, category=klotter, sensitivity="public", occurred_from=when)
    daily_counts_rebuild()
    figures = public_figures(municipality=world.simrishamn, today=TODAY)
    assert [r["kind"] for r in figures["rows"]] == ["total"]
    assert figures["rows"][0]["cells"][-1].value == 6
    # Simrishamn's reports never reach Ystad's figures.
    assert row(public_figures(municipality=world.ystad, today=TODAY), "total")["cells"][-1].value is None


def test_earlier_versions_of_an_area_count_for_the_current_one(world, klotter, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = K
    old = world.ystad.areas.get(name="Centrum")
    add_reports(world, klotter, month=SEPTEMBER, n=3, area=old)
    new = area_replace(area=old, geometry=square(*YSTAD, 0.012), valid_from=dt.date(2026, 9, 20))
    september_end = timezone.make_aware(dt.datetime(2026, 9, 25, 12))
    for _ in range(3):
        incident = IncidentFactory(
            municipality=world.ystad, category=klotter, sensitivity="public", occurred_from=september_end
        )
        incident.areas.add(new)
    daily_counts_rebuild()
    figures = public_figures(municipality=world.ystad, today=TODAY)
    assert [r["id"] for r in figures["rows"] if r["kind"] == "area"] == [new.pk]
    assert row(figures, "area", "Centrum")["cells"][figures["months"].index(SEPTEMBER)].value == 6


# --------------------------------------------------------------------------------------------------------------------
# Pages and downloads
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def published(world, klotter, norr, settings):
    """Reports in the latest published month today: Centrum 3, Norr 6, elsewhere 8 (so Norr is hidden)."""
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = K
    settings.SAMVERKAN_PUBLIC_DELAY_MONTHS = 1
    month = latest_published_month(timezone.localdate(), 1)
    centrum = world.ystad.areas.get(name="Centrum")
    add_reports(world, klotter, month=month, n=3, area=centrum)
    add_reports(world, klotter, month=month, n=6, area=norr, where=NORR)
    add_reports(world, klotter, month=month, n=8, where=(13.9, 55.4))
    add_reports(world, klotter, month=month, n=7, area=centrum, sensitivity="shared")
    daily_counts_rebuild()
    return f"{month:%Y-%m}"


def test_pages_need_no_login(published):
    client = Client()
    for url in ("/oppet/metod/", "/oppet/1286/siffror/", f"/oppet/1286/siffror/?manad={published}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "html" in response["Content-Type"]
    assert client.get("/oppet/1286/siffror.csv").status_code == 200
    assert client.get("/oppet/1286/siffror.geojson").status_code == 200


@pytest.mark.parametrize("suffix", ["siffror/", "siffror.csv", "siffror.geojson"])
@pytest.mark.parametrize("code", ["9999", "abcd", "12866"])
def test_unknown_municipality_is_404(world, code, suffix):
    assert Client().get(f"/oppet/{code}/{suffix}").status_code == 404


def test_csv_follows_the_same_rules(published, world):
    response = Client().get("/oppet/1286/siffror.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["område", "månad", "antal"]
    latest = {r[0]: r[2] for r in rows[1:] if r[1] == published}
    assert latest == {
        "Centrum": "<5",
        "Norr": "..",
        "Övriga kommunen (utanför namngivna områden)": "8",
        "Hela kommunen": "17",
    }
    figures = public_figures(municipality=world.ystad)
    assert len(rows) - 1 == len(figures["rows"]) * 12
    for name, _month, value in rows[1:]:
        assert value in ("<5", "..") or int(value) >= K, (name, value)


def test_geojson_follows_the_same_rules(published):
    response = Client().get("/oppet/1286/siffror.geojson")
    assert response["Content-Type"].startswith("application/geo+json")
    collection = json.loads(response.content)
    assert collection["type"] == "FeatureCollection" and collection["min_count"] == K
    by_name = {f["properties"]["name"]: f for f in collection["features"]}
    assert by_name["Centrum"]["geometry"]["type"] == "Polygon"
    assert by_name["Centrum"]["properties"][published] is None
    assert by_name["Centrum"]["properties"][f"{published}_text"] == "färre än 5"
    assert by_name["Norr"]["properties"][published] is None
    assert by_name["Norr"]["properties"][f"{published}_text"] == "dold"
    assert by_name["Hela kommunen"]["properties"][published] == 17
    for feature in collection["features"]:
        for key in collection["months"]:
            value, text = feature["properties"][key], feature["properties"][f"{key}_text"]
            assert (value is None and text in ("färre än 5", "dold")) or (value >= K and text == str(value))


def test_figures_page_shows_the_table_map_data_and_downloads(published):
    response = Client().get(f"/oppet/1286/siffror/?manad={published}")
    body = response.content.decode()
    data = json.loads(
        re.search(r'<script id="public-figures-data" type="application/json">(.*?)</script>', body, re.S)[1]
    )
    assert data["selected"] == published and len(data["months"]) == 12
    areas = {a["name"]: a["cells"][published] for a in data["areas"]}
    assert areas["Centrum"]["class"] == 0 and areas["Norr"]["class"] == 0
    assert {s["id"]: s["cells"][published] for s in data["summary"]}["summary-total"] == "17"
    assert '<td class="count-shown">17</td>' in body and '<td class="count-fewer">' in body
    assert '<td class="count-hidden">' in body
    assert "/oppet/1286/siffror.csv" in body and "/oppet/1286/siffror.geojson" in body
    # The seven shared reports in Centrum stay out: no 10 for Centrum, no 24 for the whole municipality.
    assert not {"10", "24"} & set(re.findall(r'<td class="count-shown">(\d+)</td>', body))


def test_english_labels(published):
    client = Client()
    client.cookies["django_language"] = "en"
    body = client.get("/oppet/1286/siffror/").content.decode()
    assert "fewer than 5" in body and "Whole municipality" in body


@pytest.mark.parametrize("url", ["/oppet/metod/", "/oppet/1286/siffror/"])
def test_pages_link_only_to_public_urls_and_have_no_inline_scripts(published, url):
    body = Client().get(url).content.decode()
    for href in re.findall(r'href="([^"]+)"', body):
        assert href.startswith(("/oppet/", "/static/", "#")), href
    for attributes in re.findall(r"<script([^>]*)>", body):
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes


def test_method_page_states_the_rules(published, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = 6
    body = Client().get("/oppet/metod/").content.decode()
    assert "färre än 6" in body
    assert Category.objects.get(code="klotter", municipality=None).name in body
    assert Category.objects.get(code="brand", municipality=None).name not in body
