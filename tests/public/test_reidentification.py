"""Try to re-identify: crawl every public link from the start page and every download, and look for anything that
must never be public — free text, shared-only or police-only data, exact places or times, counts below k."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from urllib.parse import urljoin, urlparse

import pytest
from django.test import Client
from django.utils import timezone

from samverkan.incidents.models import Category
from samverkan.plan.demo import demo_agreement_load
from samverkan.plan.models import Measure
from samverkan.situation.services import daily_counts_rebuild, snapshot_save
from tests.factories import YSTAD, IncidentFactory

SECRETS = {
    "description": "HEMLIG-BESKRIVNING-7319",
    "measure": "HEMLIG-ATGARD-5521",
    "assessment": "HEMLIG-BEDOMNING-8842",
    "request": "HEMLIG-MEDBORGARE-6604",
}
LIMIT = 200


@pytest.fixture
def published(world, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = 5
    klotter = Category.objects.get(code="klotter", municipality=None)
    assert klotter.public
    centrum = world.ystad.areas.get(name="Centrum")
    # Four months back is published under the default delay of one whole month.
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=100)).replace(day=15)
    when = timezone.make_aware(dt.datetime.combine(month, dt.time(21, 13)))
    public_points = []
    for i in range(7):
        incident = IncidentFactory(
            municipality=world.ystad,
            source_organisation=world.kommun,
            category=klotter,
            sensitivity="public",
            occurred_from=when + dt.timedelta(hours=i),
            lon=YSTAD[0] + 0.000123 * i,
            lat=YSTAD[1] + 0.000071 * i,
            description=SECRETS["description"],
        )
        incident.areas.add(centrum)
        public_points.append(incident)
    # Shared-only and police-only reports in a public category: never counted publicly.
    for sensitivity in ("shared", "police_restricted"):
        for _ in range(3):
            incident = IncidentFactory(
                municipality=world.ystad,
                source_organisation=world.polis,
                category=klotter,
                sensitivity=sensitivity,
                occurred_from=when,
                description=SECRETS["description"],
            )
            incident.areas.add(centrum)
    daily_counts_rebuild()
    demo_agreement_load(
        municipalities={"1286": world.ystad},
        organisations={"Ystads kommun": world.kommun, "Lokalpolisområde Ystad": world.polis},
    )
    Measure.objects.update(description=SECRETS["measure"], motivation=SECRETS["measure"], resources=SECRETS["measure"])
    picture = {
        "schema": 1,
        "municipality": {"id": world.ystad.pk, "code": "1286", "name": "Ystad"},
        "area": None,
        "focus_area": None,
        "period": {"kind": "year", "start": "2025-01-01", "end": "2026-01-01", "label": "2025"},
        "view": "shared",
        "restricted_excluded": True,
        "data_cutoff": timezone.now().isoformat(),
        "total": {"current": 3},
        "key_figures": [],
    }
    snapshot_save(
        user=world.users["kommun_samordnare"], picture=picture, assessment=SECRETS["assessment"], kind="yearly"
    )
    from samverkan.imports.open311_services import public_request_create

    public_request_create(
        municipality=world.ystad, category=klotter, lat=YSTAD[1], lon=YSTAD[0], description=SECRETS["request"]
    )
    return {"points": public_points, "when": when}


def crawl(client: Client) -> dict[str, bytes]:
    seen: dict[str, bytes] = {}
    queue = ["/oppet/"]
    while queue and len(seen) < LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code in (200, 301, 302), (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        seen[url] = body
        if "html" not in response.get("Content-Type", ""):
            continue
        for href in re.findall(r'href="([^"#]+)', body.decode()):
            target = urljoin(url, href.replace("&amp;", "&"))
            parsed = urlparse(target)
            if parsed.netloc or not parsed.path.startswith("/oppet/"):
                continue
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if path not in seen and path not in queue:
                queue.append(path)
    return seen


def test_nothing_private_can_be_reached(published, world):
    pages = crawl(Client())
    urls = set(pages)
    # The crawl reached the municipality page, the figures and both downloads.
    assert any(u.startswith("/oppet/1286/") for u in urls)
    assert any(u.endswith("siffror.csv") for u in urls) and any(u.endswith("siffror.geojson") for u in urls)
    everything = b"\n".join(pages.values()).decode("utf-8", errors="replace")
    for name, secret in SECRETS.items():
        assert secret not in everything, f"{name} text reached the public site"
    for incident in published["points"]:
        for value in (f"{incident.lat:.6f}", f"{incident.lon:.6f}", f"{incident.lat:.5f}", f"{incident.lon:.5f}"):
            assert value not in everything, f"a report's coordinate {value} is public"
    local = timezone.localtime(published["when"])
    assert local.strftime("%Y-%m-%d %H:%M") not in everything
    assert local.strftime("%Y-%m-%d") not in everything  # month precision only


def test_every_published_count_is_at_least_k(published, world):
    pages = crawl(Client())
    csv_url = next(u for u in pages if u.endswith("siffror.csv"))
    text = pages[csv_url].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    numbers = [cell for row in rows[1:] for cell in row[2:]]
    assert numbers, "the CSV publishes figures"
    for cell in numbers:
        if cell.strip() in ("", "<5", ".."):
            continue
        assert int(cell) >= 5 or (int(cell) == 0 and False), f"a count below k is published: {cell}"
    # The seven public reports are published; the six shared and restricted ones never add to them.
    assert "7" in numbers and "13" not in numbers and "10" not in numbers
    geo_url = next(u for u in pages if u.endswith("siffror.geojson"))
    collection = json.loads(pages[geo_url])
    for feature in collection["features"]:
        for key, value in feature["properties"].items():
            if isinstance(value, int) and key not in ("id",):
                assert value >= 5, (key, value)
