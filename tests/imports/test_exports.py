"""Exports of the report list: what each role gets, the filters, the file formats, redaction, and the cost."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.imports import exports
from samverkan.incidents.models import Incident, Sensitivity, Status
from samverkan.incidents.screening import screen
from samverkan.incidents.selectors import incident_list_visible_to
from samverkan.places.geo import point_to_sweref
from samverkan.places.models import Area
from samverkan.places.services import area_create
from tests.factories import SIMRISHAMN, YSTAD, IncidentFactory, square

pytestmark = pytest.mark.urls("tests.imports.export_test_urls")

UTC = dt.UTC


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    assert response.streaming, "an export is streamed, not built in memory"
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def csv_dicts(response) -> list[dict[str, str]]:
    header, *rows = csv_rows(response)
    assert tuple(header) == exports.CSV_HEADERS
    return [dict(zip(header, row, strict=True)) for row in rows]


def geojson(response) -> dict:
    return json.loads(body(response).decode("utf-8"))


@pytest.fixture
def reports(world):
    """Reports in Ystad and Simrishamn: one police-only, one by the kommun's reporter, different statuses."""
    u = world.users
    made = {
        "shared": IncidentFactory(municipality=world.ystad, source_organisation=world.kommun),
        "public_reviewed": IncidentFactory(
            municipality=world.ystad, sensitivity=Sensitivity.PUBLIC, status=Status.REVIEWED
        ),
        "police_only": IncidentFactory(
            municipality=world.ystad, sensitivity=Sensitivity.POLICE_RESTRICTED, source_organisation=world.polis
        ),
        "by_reporter": IncidentFactory(municipality=world.ystad, reporter=u["kommun_rapportor"]),
        "simrishamn": IncidentFactory(municipality=world.simrishamn, lon=SIMRISHAMN[0], lat=SIMRISHAMN[1]),
        "old": IncidentFactory(
            municipality=world.ystad,
            occurred_from=dt.datetime(2024, 1, 15, 12, 30, tzinfo=UTC),
            reported_at=dt.datetime(2024, 7, 1, 20, 5, tzinfo=UTC),
        ),
    }
    return made


def ids_of(rows: list[dict[str, str]]) -> set[int]:
    return {int(r["id"]) for r in rows}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("kommun_samordnare", {"shared", "public_reviewed", "by_reporter", "old"}),
        ("polis_analytiker", {"shared", "public_reviewed", "police_only", "by_reporter", "simrishamn", "old"}),
        ("kommun_rapportor", {"by_reporter"}),
        ("simrishamn_samordnare", {"simrishamn"}),
        ("nobody", set()),
    ],
)
def test_each_role_exports_exactly_what_it_may_see(world, reports, user, expected):
    client = client_for(world.users[user])
    wanted = {reports[name].pk for name in expected}
    visible = set(incident_list_visible_to(world.users[user]).values_list("pk", flat=True))
    assert visible == wanted, "the fixture's expectation agrees with the access funnel"

    rows = csv_dicts(client.get(reverse("exports:csv")))
    assert ids_of(rows) == wanted and len(rows) == len(wanted)

    features = geojson(client.get(reverse("exports:geojson")))["features"]
    assert {f["id"] for f in features} == wanted and len(features) == len(wanted)


def test_anonymous_is_sent_to_log_in(world, reports):
    for name in ("exports:csv", "exports:geojson"):
        response = Client().get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_post_is_refused(world):
    assert client_for(world.users["kommun_samordnare"]).post(reverse("exports:csv")).status_code == 405


def test_csv_format_for_swedish_excel(world, reports):
    old = reports["old"]
    Incident.objects.filter(pk=old.pk).update(
        occurred_to=dt.datetime(2024, 1, 15, 14, 0, tzinfo=UTC), persons_estimate=4, police_reported=True, severity=2
    )
    old.areas.add(Area.objects.get(name="Centrum"))
    old.areas.add(area_create(municipality=world.ystad, kind="zone", name="Ackes torg", geometry=square(*YSTAD, 0.002)))
    response = client_for(world.users["kommun_samordnare"]).get(reverse("exports:csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="samverkan-rapporter-{today}.csv"'
    assert "no-store" in response["Cache-Control"]
    row = next(r for r in csv_dicts(response) if r["id"] == str(old.pk))
    # Winter time is UTC+1, summer time UTC+2.
    assert (row["tid från"], row["tid till"], row["rapporterad"]) == (
        "2024-01-15 13:30",
        "2024-01-15 15:00",
        "2024-07-01 22:05",
    )
    assert row["lat"] == "55,430000" and row["lon"] == "13,820000"
    x, y = point_to_sweref(YSTAD[0], YSTAD[1])
    assert (row["x"], row["y"]) == (f"{x:.2f}".replace(".", ","), f"{y:.2f}".replace(".", ","))
    assert 425_000 < x < 426_000 and 6_143_000 < y < 6_144_000
    assert row["kategori"] == "klotter" and row["kategorinamn"] == "Klotter"
    assert row["fokusområde"] and row["kommun"] == "Ystad"
    assert row["områden"] == "Ackes torg, Centrum"
    assert row["platsnoggrannhet"] == "Exakt plats" and row["status"] == "Ny" and row["källa"] == "Rapportformulär"
    assert row["känslighet"] == "Delas mellan parterna"
    assert (row["personer ca"], row["allvarlighet"], row["polisanmäld"], row["felanmäld"]) == ("4", "2", "ja", "nej")
    assert row["beskrivning"] == "Klotter på elskåpet vid busshållplatsen."
    assert row["externt id"] == "" and row["organisation"] == ""


def test_geojson_is_a_feature_collection_in_wgs84(world, reports):
    reports["shared"].areas.add(Area.objects.get(name="Centrum"))
    response = client_for(world.users["polis_analytiker"]).get(reverse("exports:geojson"))
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"].endswith(f'-{timezone.localdate().isoformat()}.geojson"')
    data = geojson(response)
    assert data["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in data["features"]}
    simrishamn = by_id[reports["simrishamn"].pk]
    assert simrishamn["geometry"] == {"type": "Point", "coordinates": [SIMRISHAMN[0], SIMRISHAMN[1]]}
    assert simrishamn["properties"]["municipality"] == "1291"
    shared = by_id[reports["shared"].pk]["properties"]
    assert shared["areas"] == ["Centrum"] and shared["organisation"] == "Ystads kommun"
    assert shared["category"] == "klotter" and shared["status"] == "new"
    old = by_id[reports["old"].pk]["properties"]
    assert old["occurred_from"] == "2024-01-15T13:30:00+01:00"
    assert all("personal_data_flags" not in f["properties"] for f in data["features"])


def test_empty_geojson_still_parses(world):
    data = geojson(client_for(world.users["nobody"]).get(reverse("exports:geojson")))
    assert data == {"type": "FeatureCollection", "features": []}


def test_filters_of_the_list_apply(world, reports):
    client = client_for(world.users["polis_analytiker"])
    reviewed = csv_dicts(client.get(reverse("exports:csv"), {"status": "reviewed"}))
    assert ids_of(reviewed) == {reports["public_reviewed"].pk}

    since = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    recent = csv_dicts(client.get(reverse("exports:csv"), {"date_from": since}))
    assert reports["old"].pk not in ids_of(recent) and len(recent) == 5

    centrum = Area.objects.get(name="Centrum")
    reports["shared"].areas.add(centrum)
    in_area = geojson(client.get(reverse("exports:geojson"), {"area": centrum.pk, "status": "new"}))
    assert [f["id"] for f in in_area["features"]] == [reports["shared"].pk]


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"date_from": "igår"}, {"area": "999999"}])
@pytest.mark.parametrize("name", ["exports:csv", "exports:geojson"])
def test_invalid_filter_is_refused_with_a_message(world, reports, query, name):
    response = client_for(world.users["kommun_samordnare"]).get(reverse(name), query)
    assert response.status_code == 400
    assert not response.streaming
    text = response.content.decode()
    assert "Filtret är ogiltigt" in text
    assert any(word in text for word in ("Status", "Från", "From", "Område", "Area"))


def test_area_of_another_municipality_is_not_a_valid_filter(world, reports):
    """A kommun user cannot probe Simrishamn's areas through the export's filter."""
    other = area_create(
        municipality=world.simrishamn, kind="district", name="Hamnen", geometry=square(*SIMRISHAMN, 0.01)
    )
    response = client_for(world.users["kommun_samordnare"]).get(reverse("exports:csv"), {"area": other.pk})
    assert response.status_code == 400


def test_personal_data_is_redacted_in_both_formats(world, reports):
    text = "Ring 070-123 45 67 eller mejla anna.svensson@example.se om klottret vid ABC 123."
    flags = [f.as_dict() for f in screen(text)]
    assert len(flags) == 3
    IncidentFactory(municipality=world.ystad, description=text, personal_data_flags=flags)
    client = client_for(world.users["kommun_samordnare"])
    csv_body = body(client.get(reverse("exports:csv"))).decode("utf-8-sig")
    geo_body = body(client.get(reverse("exports:geojson"))).decode("utf-8")
    for exported in (csv_body, geo_body):
        assert "070-123 45 67" not in exported and "anna.svensson" not in exported and "ABC 123" not in exported
        assert "Ring [borttaget] eller mejla [borttaget] om klottret vid [borttaget]." in exported


def test_stale_findings_are_screened_again_rather_than_leaked(world):
    text = "Ny text med 070-123 45 67."
    IncidentFactory(
        municipality=world.ystad,
        description=text,
        personal_data_flags=[{"kind": "phone", "start": 0, "end": 3, "text": "xyz"}],
    )
    rows = csv_dicts(client_for(world.users["kommun_samordnare"]).get(reverse("exports:csv")))
    assert [r["beskrivning"] for r in rows] == ["Ny text med [borttaget]."]


@pytest.mark.parametrize(
    "dangerous",
    ['=HYPERLINK("http://evil.example","klicka")', "+46 cmd", "-2+3", "@SUM(A1)", "\tfoo", "\r=1"],
)
def test_formula_injection_is_neutralised(world, dangerous):
    IncidentFactory(municipality=world.ystad, description=dangerous, external_id=dangerous, source="csv")
    rows = csv_dicts(client_for(world.users["kommun_samordnare"]).get(reverse("exports:csv")))
    assert rows[0]["beskrivning"] == "'" + dangerous
    assert rows[0]["externt id"] == "'" + dangerous


def test_harmless_text_is_left_alone():
    assert exports.neutralise_formula("Klotter = fult") == "Klotter = fult"
    assert exports.neutralise_formula(None) == ""


def test_rows_split_over_several_chunks_keep_their_areas(world, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 7)
    centrum = Area.objects.get(name="Centrum")
    made = IncidentFactory.create_batch(30, municipality=world.ystad)
    Incident.areas.through.objects.bulk_create(
        [Incident.areas.through(incident_id=i.pk, area_id=centrum.pk) for i in made[::2]]
    )
    rows = csv_dicts(client_for(world.users["kommun_samordnare"]).get(reverse("exports:csv")))
    assert ids_of(rows) == {i.pk for i in made} and len(rows) == 30
    with_area = {int(r["id"]) for r in rows if r["områden"] == "Centrum"}
    assert with_area == {i.pk for i in made[::2]}


@pytest.mark.parametrize("count", [30, 300])
@pytest.mark.parametrize("name", ["exports:csv", "exports:geojson"])
def test_number_of_queries_does_not_grow_with_rows(world, django_assert_max_num_queries, count, name):
    centrum = Area.objects.get(name="Centrum")
    made = Incident.objects.bulk_create(IncidentFactory.build_batch(count, municipality=world.ystad))
    Incident.areas.through.objects.bulk_create(
        [Incident.areas.through(incident_id=i.pk, area_id=centrum.pk) for i in made]
    )
    client = client_for(world.users["kommun_samordnare"])
    # Three or four of these record the export in the audit log: its count, the chain's last event, the insert, and on
    # PostgreSQL the lock that keeps the chain from forking.
    with django_assert_max_num_queries(13):
        response = client.get(reverse(name), {"status": "new"})
        data = body(response)
    assert data.count(b"Centrum") == count


def test_links_carry_the_filters(world):
    html = render_to_string("imports/export_links.html", {"query": "status=new&date_from=2026-01-01"})
    assert 'href="/reports/export/csv/?status=new&amp;date_from=2026-01-01"' in html
    assert 'href="/reports/export/geojson/?status=new&amp;date_from=2026-01-01"' in html
    assert ">CSV</a>" in html and ">GeoJSON</a>" in html
    bare = render_to_string("imports/export_links.html", {"query": ""})
    assert 'href="/reports/export/csv/"' in bare
