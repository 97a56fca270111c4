"""The JSON API: list, create, get, categories, areas; session and token auth; errors as 4xx JSON."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from samverkan.accounts.models import ApiToken
from tests.factories import SIMRISHAMN, YSTAD, IncidentFactory


@pytest.fixture
def token(world):
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=world.users["kommun_samordnare"], name="test", key_hash=ApiToken.hash_key(key), prefix=key[:8]
    )
    return key


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def payload(**overrides):
    data = {
        "category": "klotter",
        "lat": YSTAD[1],
        "lon": YSTAD[0],
        "occurred_from": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "description": "Klotter på bron",
    }
    data.update(overrides)
    return data


def test_token_create_and_read_back(world, token):
    client = Client()
    response = client.post("/api/incidents", payload(), content_type="application/json", **bearer(token))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["category"] == "klotter" and body["municipality"] == "1286" and body["source"] == "api"
    got = client.get(f"/api/incidents/{body['id']}", **bearer(token))
    assert got.status_code == 200 and got.json()["description"] == "Klotter på bron"
    listing = client.get("/api/incidents", **bearer(token)).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == body["id"]


def test_revoked_or_wrong_token_is_401(world, token):
    assert Client().get("/api/incidents", **bearer("nonsense")).status_code == 401
    ApiToken.objects.update(revoked=True)
    assert Client().get("/api/incidents", **bearer(token)).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "no-such"}, "category"),
        ({"lat": 123}, "lat"),
        ({"occurred_from": "2024-02-31T10:00:00"}, "occurred_from"),
        ({"lat": SIMRISHAMN[1], "lon": SIMRISHAMN[0]}, "location"),
        ({"severity": 7}, "severity"),
        ({"sensitivity": "police_restricted"}, "sensitivity"),
    ],
)
def test_bad_input_is_422_naming_the_field(world, token, change, field):
    response = Client().post("/api/incidents", payload(**change), content_type="application/json", **bearer(token))
    assert response.status_code == 422, response.content
    locations = [str(part) for item in response.json()["detail"] for part in item["loc"]]
    assert field in locations


def test_malformed_json_is_4xx(world, token):
    response = Client().post("/api/incidents", "{not json", content_type="application/json", **bearer(token))
    assert 400 <= response.status_code < 500


def test_session_post_needs_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["kommun_samordnare"])
    response = client.post("/api/incidents", payload(), content_type="application/json")
    assert response.status_code == 403


def test_list_filters_and_pagination(world, token, settings):
    now = timezone.now()
    for i in range(3):
        IncidentFactory(
            municipality=world.ystad, source_organisation=world.kommun, occurred_from=now - dt.timedelta(days=i)
        )
    IncidentFactory(municipality=world.ystad, source_organisation=world.kommun, status="closed")
    client = Client()
    assert client.get("/api/incidents", {"status": "closed"}, **bearer(token)).json()["count"] == 1
    assert client.get("/api/incidents", {"status": "bogus"}, **bearer(token)).status_code == 422
    assert client.get("/api/incidents", {"page": 2}, **bearer(token)).status_code in (200, 404)


def test_categories_and_areas(world, token):
    client = Client()
    categories = client.get("/api/categories", **bearer(token)).json()
    assert {"klotter", "narkotika", "buskorning"} <= {c["code"] for c in categories}
    areas = client.get("/api/areas", **bearer(token)).json()
    assert areas["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in areas["features"]] == ["Centrum"]
    assert areas["features"][0]["geometry"]["type"] == "Polygon"


def test_geojson_of_visible_reports(world, token):
    IncidentFactory(municipality=world.ystad, source_organisation=world.kommun)
    IncidentFactory(municipality=world.ystad, source_organisation=world.polis, sensitivity="police_restricted")
    fc = Client().get("/api/incidents.geojson", **bearer(token)).json()
    assert len(fc["features"]) == 1
    assert fc["features"][0]["geometry"]["coordinates"] == [YSTAD[0], YSTAD[1]]


def test_openapi_document(world):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/incidents", "/api/incidents/{incident_id}", "/api/categories", "/api/areas"} <= set(paths)
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    assert client.get("/api/docs").status_code == 200
