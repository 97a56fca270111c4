"""Open311 GeoReport v2 intake: discovery, services, requests (create, list, get), errors, keys, rate limits, and the
moderation pages that let a request into the lägesbild."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from samverkan.imports.models_open311 import PublicRequest
from samverkan.incidents.models import Category, FocusArea, Incident, Status
from tests.factories import SIMRISHAMN, YSTAD

pytestmark = pytest.mark.urls("tests.imports.open311_test_urls")

BASE = "/open311/v2"
PHONE = "070-123 45 67"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return Client()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def request_data(**overrides):
    data = {
        "jurisdiction_id": "1286",
        "service_code": "klotter",
        "lat": "55.43123",
        "long": "13.82456",
        "description": "Klotter på busskuren vid torget.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create(api, **overrides) -> str:
    response = api.post(f"{BASE}/requests.json", request_data(**overrides))
    assert response.status_code == 200, response.content
    return response.json()[0]["service_request_id"]


def get_one(api, token: str) -> dict:
    response = api.get(f"{BASE}/requests/{token}.json")
    assert response.status_code == 200, response.content
    (item,) = response.json()
    return item


def errors_of(response) -> list[dict]:
    body = response.json()
    assert isinstance(body, list) and body, body
    assert all(set(e) == {"code", "description"} and e["code"] == response.status_code for e in body), body
    return body


def accept(world, token: str, **data) -> None:
    moderator = logged_in(world.users["kommun_samordnare"])
    pk = PublicRequest.objects.get(token=token).pk
    response = moderator.post(f"/moderation/{pk}/accept/", data)
    assert response.status_code == 302, response.content


# --- discovery and services -------------------------------------------------------------------------------------------


def test_discovery_json_and_xml(world, api):
    data = api.get(f"{BASE}/discovery.json").json()
    (endpoint,) = data["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert data["changeset"] and endpoint["type"] == "production"

    response = api.get(f"{BASE}/discovery.xml")
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"
    assert {f.text for f in root.findall("endpoints/endpoint/formats/format")} == {"text/xml", "application/json"}


def test_services_are_the_public_categories_of_the_jurisdiction(world, api):
    trafik = FocusArea.objects.get(code="trafik")
    Category.objects.create(
        code="trasig-skylt",
        name_sv="Trasig skylt",
        name_en="Broken sign",
        focus_area=trafik,
        municipality=world.simrishamn,
        public=True,
    )
    Category.objects.filter(code="fortkorning").update(active=False)

    services = api.get(f"{BASE}/services.json", {"jurisdiction_id": "1286"}).json()
    by_code = {s["service_code"]: s for s in services}
    assert {"klotter", "otrygg-plats", "buskorning"} <= set(by_code)
    # Not open to the public, inactive, or another municipality's own.
    assert not {"narkotika", "brand", "fortkorning", "trasig-skylt"} & set(by_code)
    klotter = by_code["klotter"]
    assert klotter["service_name"] == "Klotter"
    assert klotter["group"] == "Trygghet"
    assert klotter["metadata"] is False and klotter["type"] == "realtime"
    assert klotter["description"] and klotter["keywords"]

    simrishamn = api.get(f"{BASE}/services.json", {"jurisdiction_id": "1291"}).json()
    assert "trasig-skylt" in {s["service_code"] for s in simrishamn}


def test_services_xml(world, api):
    root = ET.fromstring(api.get(f"{BASE}/services.xml", {"jurisdiction_id": "1286"}).content)
    assert root.tag == "services"
    klotter = next(s for s in root.findall("service") if s.findtext("service_code") == "klotter")
    assert klotter.findtext("service_name") == "Klotter"
    assert klotter.findtext("metadata") == "false"
    assert klotter.findtext("type") == "realtime"
    assert klotter.findtext("group") == "Trygghet"


def test_service_definition_and_unknown_service(world, api):
    assert api.get(f"{BASE}/services/klotter.json").json() == {"service_code": "klotter", "attributes": []}
    root = ET.fromstring(api.get(f"{BASE}/services/klotter.xml").content)
    assert root.tag == "service_definition" and root.findtext("service_code") == "klotter"

    response = api.get(f"{BASE}/services/narkotika.json")
    assert response.status_code == 404
    assert "narkotika" in errors_of(response)[0]["description"]
    response = api.get(f"{BASE}/services/nosuch.xml")
    assert response.status_code == 404
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.findtext("error/code") == "404"
    assert "nosuch" in root.findtext("error/description")


# --- creating requests ------------------------------------------------------------------------------------------------


def test_fixmystreet_style_post_queues_a_request_and_stores_nothing_personal(world, api, settings):
    settings.SAMVERKAN_OPEN311_API_KEYS = ["fms-secret"]
    personal = {
        "email": "anna.andersson@example.se",
        "first_name": "Annabella",
        "last_name": "Zetterqvist",
        "phone": "0701112233",
        "device_id": "device-7f3a9c",
        "account_id": "account-55012",
        "address_string": "Lingonstigen 17, Ystad",
        "media_url": "https://fms.example/photo/abc123.jpg",
    }
    response = api.post(
        f"{BASE}/requests.xml",
        {**request_data(), "api_key": "fms-secret", **personal, "attribute[foo]": "bar"},
    )
    assert response.status_code == 200, response.content
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    token = root.findtext("request/service_request_id")
    assert root.findtext("request/service_notice") == "Tack! Din iakttagelse granskas innan den används."

    public_request = PublicRequest.objects.get()
    assert public_request.token == token and public_request.status == "pending"
    assert public_request.category.code == "klotter" and public_request.municipality == world.ystad
    assert (public_request.lat, public_request.lon) == (55.43123, 13.82456)
    assert public_request.description == "Klotter på busskuren vid torget."
    assert not Incident.objects.exists()

    stored = [str(getattr(public_request, f.attname)) for f in PublicRequest._meta.concrete_fields]
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    for value in personal.values():
        assert not any(value in column for column in stored), value
        assert value not in dump.getvalue(), value


def test_token_is_random_not_a_count(world, api):
    first, second = create(api), create(api)
    assert first != second
    assert not first.isdigit() and len(first) >= 10


def test_personal_data_in_the_description_is_flagged(world, api):
    token = create(api, description=f"Ring mig på {PHONE} om klottret.")
    flags = PublicRequest.objects.get(token=token).personal_data_flags
    assert [f["kind"] for f in flags] == ["phone"] and flags[0]["text"] == PHONE


def test_post_is_csrf_exempt(world):
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"{BASE}/requests.json", request_data()).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"service_code": "nosuch"}, "nosuch"),
        ({"service_code": "narkotika"}, "narkotika"),
        ({"service_code": None}, "service_code"),
        ({"lat": None, "long": None, "address_string": "Stortorget 1"}, "lat"),
        ({"long": None}, "long"),
        ({"lat": "abc"}, "lat"),
        ({"lat": "nan"}, "lat"),
        ({"lat": "52.52", "long": "13.40"}, "Sverige"),
        ({"lat": str(SIMRISHAMN[1]), "long": str(SIMRISHAMN[0])}, "Ystad"),
        ({"description": "x" * 4001}, "description"),
        ({"jurisdiction_id": "9999"}, "jurisdiction_id"),
        ({"jurisdiction_id": None}, "jurisdiction_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field(world, api, overrides, field):
    response = api.post(f"{BASE}/requests.json", request_data(**overrides))
    assert response.status_code == 400
    assert any(field in e["description"] for e in errors_of(response)), response.json()
    assert not PublicRequest.objects.exists()


def test_bad_input_in_xml(world, api):
    response = api.post(f"{BASE}/requests.xml", request_data(lat="north"))
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    assert "lat" in root.findtext("error/description")


def test_control_characters_do_not_break_anything(world, api):
    token = create(api, description="Klotter\x00 på\x1b muren\uffff")
    assert PublicRequest.objects.get(token=token).description == "Klotter på muren"
    accept(world, token)
    assert ET.fromstring(api.get(f"{BASE}/requests/{token}.xml").content).findtext("request/description") == (
        "Klotter på muren"
    )


def test_jurisdiction_may_be_left_out_when_only_one_takes_requests(world, api, settings):
    settings.SAMVERKAN_OPEN311_JURISDICTIONS = ["1286"]
    create(api, jurisdiction_id=None)
    assert PublicRequest.objects.get().municipality == world.ystad
    # Simrishamn is not a jurisdiction now.
    response = api.post(f"{BASE}/requests.json", request_data(jurisdiction_id="1291"))
    assert response.status_code == 400


def test_simrishamn_request_in_simrishamn(world, api):
    create(api, jurisdiction_id="1291", lat=str(SIMRISHAMN[1]), long=str(SIMRISHAMN[0]))
    assert PublicRequest.objects.get().municipality == world.simrishamn


def test_api_key_enforced_when_configured(world, api, settings):
    settings.SAMVERKAN_OPEN311_API_KEYS = ["k1", "k2"]
    for data in (request_data(), request_data(api_key="wrong"), request_data(api_key="")):
        response = api.post(f"{BASE}/requests.json", data)
        assert response.status_code == 403
        assert "api_key" in errors_of(response)[0]["description"]
    assert not PublicRequest.objects.exists()
    assert api.post(f"{BASE}/requests.json", request_data(api_key="k2")).status_code == 200
    # Reading needs no key.
    assert api.get(f"{BASE}/services.json", {"jurisdiction_id": "1286"}).status_code == 200


def test_rate_limits(world, api, settings):
    settings.SAMVERKAN_OPEN311_RATE = "2/600"
    settings.SAMVERKAN_OPEN311_READ_RATE = "3/60"
    assert api.post(f"{BASE}/requests.json", request_data()).status_code == 200
    assert api.post(f"{BASE}/requests.json", request_data()).status_code == 200
    response = api.post(f"{BASE}/requests.json", request_data())
    assert response.status_code == 429
    assert errors_of(response) and 0 < int(response["Retry-After"]) <= 600
    assert PublicRequest.objects.count() == 2
    # Another address has its own budget.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post(f"{BASE}/requests.json", request_data()).status_code == 200

    for _ in range(3):
        assert api.get(f"{BASE}/services.json", {"jurisdiction_id": "1286"}).status_code == 200
    assert api.get(f"{BASE}/discovery.xml").status_code == 429


# --- reading requests -------------------------------------------------------------------------------------------------


def test_before_moderation_only_existence_and_status_are_public(world, api):
    token = create(api, description=f"Klotter, ring {PHONE}")
    item = get_one(api, token)
    assert item["status"] == "open"
    assert item["service_code"] == "klotter" and item["service_name"] == "Klotter"
    assert item["agency_responsible"] == "Ystads kommun"
    assert item["requested_datetime"] and item["updated_datetime"]
    assert "description" not in item and "lat" not in item and "long" not in item
    assert PHONE not in api.get(f"{BASE}/requests.json").content.decode()


def test_accept_with_redaction_publishes_the_redacted_text_and_a_coarse_position(world, api):
    token = create(api, description=f"Klotter på muren, ring {PHONE}")
    accept(world, token, redact_personal_data="on")

    item = get_one(api, token)
    assert item["status"] == "open"
    assert item["description"] == "Klotter på muren, ring [borttaget]"
    assert (item["lat"], item["long"]) == (55.431, 13.825)

    root = ET.fromstring(api.get(f"{BASE}/requests/{token}.xml").content)
    assert root.tag == "service_requests"
    assert root.findtext("request/description") == "Klotter på muren, ring [borttaget]"
    assert root.findtext("request/long") == "13.825"

    incident = Incident.objects.get()
    assert incident.source == "open311" and incident.external_id == token
    assert incident.reporter is None and incident.source_organisation is None
    assert incident.precision == "exact" and incident.sensitivity == "shared"
    assert incident.municipality == world.ystad
    assert incident.description == "Klotter på muren, ring [borttaget]" and incident.personal_data_flags == []
    assert incident.status == Status.REVIEWED
    assert [a.name for a in incident.areas.all()] == ["Centrum"]
    assert PublicRequest.objects.get().incident == incident
    moderator = logged_in(world.users["kommun_samordnare"])
    page = moderator.get(f"/moderation/{PublicRequest.objects.get().pk}/").content.decode()
    assert f'href="/reports/{incident.pk}/"' in page and 'action="/moderation/' not in page


def test_accept_without_redaction_keeps_the_text_private(world, api):
    token = create(api, description=f"Ring {PHONE}")
    accept(world, token)
    item = get_one(api, token)
    assert "description" not in item and "lat" in item
    incident = Incident.objects.get()
    # Waits for redaction in the report workflow like any report with personal data.
    assert incident.status == Status.NEW and incident.personal_data_flags


def test_rejected_and_closed_requests_are_closed(world, api):
    rejected, accepted = create(api), create(api)
    moderator = logged_in(world.users["kommun_samordnare"])
    pk = PublicRequest.objects.get(token=rejected).pk
    assert moderator.post(f"/moderation/{pk}/reject/", {"note": "Dubblett"}).status_code == 302
    item = get_one(api, rejected)
    assert item["status"] == "closed" and "description" not in item and "lat" not in item

    accept(world, accepted)
    assert get_one(api, accepted)["status"] == "open"
    assert {r["service_request_id"] for r in api.get(f"{BASE}/requests.json", {"status": "open"}).json()} == {accepted}
    Incident.objects.filter(external_id=accepted).update(status=Status.CLOSED)
    assert get_one(api, accepted)["status"] == "closed"
    assert {r["service_request_id"] for r in api.get(f"{BASE}/requests.json", {"status": "closed"}).json()} == {
        rejected,
        accepted,
    }
    page = moderator.get("/moderation/").content.decode()
    assert "kommun_samordnare" in page and 'id="moderated"' in page
    # The moderators' note is never published.
    assert "Dubblett" not in api.get(f"{BASE}/requests.json").content.decode()


def test_list_filters(world, api):
    klotter = create(api)
    plats = create(api, service_code="otrygg-plats")
    old = create(api)
    rejected = create(api, service_code="otrygg-plats")
    now = timezone.now()
    PublicRequest.objects.filter(token=old).update(created_at=now - dt.timedelta(days=120))
    PublicRequest.objects.filter(token=plats).update(created_at=now - dt.timedelta(days=10))
    moderator = logged_in(world.users["kommun_samordnare"])
    moderator.post(f"/moderation/{PublicRequest.objects.get(token=rejected).pk}/reject/", {"note": "Spam"})

    def ids(**params):
        response = api.get(f"{BASE}/requests.json", params)
        assert response.status_code == 200, response.content
        return {r["service_request_id"] for r in response.json()}

    # By default the last 90 days.
    assert ids() == {klotter, plats, rejected}
    assert ids(service_code="otrygg-plats") == {plats, rejected}
    assert ids(service_code="klotter,otrygg-plats") == {klotter, plats, rejected}
    assert ids(status="open") == {klotter, plats}
    assert ids(status="closed") == {rejected}
    assert ids(status="open,closed") == {klotter, plats, rejected}
    week_ago = timezone.localtime(now - dt.timedelta(days=7)).isoformat(timespec="seconds")
    assert ids(start_date=week_ago) == {klotter, rejected}
    assert ids(end_date=week_ago) == {plats}
    long_ago = (now - dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=long_ago, end_date=week_ago) == {old, plats}
    # With service_request_id the other filters are ignored, as the spec says.
    assert ids(service_request_id=f"{old},{klotter},nosuch", status="closed") == {old, klotter}
    assert ids(jurisdiction_id="1291") == set()

    xml = ET.fromstring(api.get(f"{BASE}/requests.xml", {"service_code": "klotter"}).content)
    assert xml.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in xml.findall("request")] == [klotter]


def test_plus_of_an_unescaped_offset_is_understood(world, api):
    token = create(api)
    start = (timezone.localtime() - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    response = api.get(f"{BASE}/requests.json?start_date={start}")  # the "+" arrives as a space
    assert response.status_code == 200
    assert [r["service_request_id"] for r in response.json()] == [token]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2024-13-45T00:00:00Z"}, "end_date"),
        ({"start_date": "2024-05-03T00:00:00Z", "end_date": "2024-05-01T00:00:00Z"}, "end_date"),
        ({"status": "pending"}, "status"),
        ({"jurisdiction_id": "0000"}, "jurisdiction_id"),
    ],
)
def test_bad_list_filters(world, api, params, field):
    response = api.get(f"{BASE}/requests.json", params)
    assert response.status_code == 400
    assert any(field in e["description"] for e in errors_of(response))


def test_unknown_request_path_and_method(world, api):
    response = api.get(f"{BASE}/requests/nosuch.json")
    assert response.status_code == 404 and "nosuch" in errors_of(response)[0]["description"]
    response = api.get(f"{BASE}/requests/nosuch.xml")
    assert response.status_code == 404 and ET.fromstring(response.content).tag == "errors"
    response = api.get(f"{BASE}/tickets.json")
    assert response.status_code == 404 and errors_of(response)
    response = api.post(f"{BASE}/services.json")
    assert response.status_code == 405 and errors_of(response) and "GET" in response["Allow"]
    response = api.get(f"{BASE}/services.csv")
    assert response.status_code == 404 and json.loads(response.content)[0]["code"] == 404


# --- moderation -------------------------------------------------------------------------------------------------------


def test_coordinator_of_ystad_moderates_ystad_requests(world, api):
    token = create(api, description=f"Klotter, ring {PHONE}")
    simrishamn_token = create(api, jurisdiction_id="1291", lat=str(SIMRISHAMN[1]), long=str(SIMRISHAMN[0]))
    pk = PublicRequest.objects.get(token=token).pk
    moderator = logged_in(world.users["kommun_samordnare"])

    page = moderator.get("/moderation/").content.decode()
    assert token in page and simrishamn_token not in page
    response = moderator.get(f"/moderation/{pk}/")
    assert response.status_code == 200
    assert f'<mark title="phone">{PHONE}</mark>' in response.content.decode()


@pytest.mark.parametrize("username", ["kommun_rapportor", "kommun_lasare", "simrishamn_samordnare", "nobody"])
def test_others_cannot_moderate_ystad_requests(world, api, username):
    token = create(api)
    pk = PublicRequest.objects.get(token=token).pk
    client = logged_in(world.users[username])
    assert client.get(f"/moderation/{pk}/").status_code == 404
    assert client.post(f"/moderation/{pk}/accept/").status_code == 404
    assert client.post(f"/moderation/{pk}/reject/", {"note": "Nej"}).status_code == 404
    if username != "simrishamn_samordnare":
        assert client.get("/moderation/").status_code == 404
    else:
        assert token not in client.get("/moderation/").content.decode()
    assert PublicRequest.objects.get().status == "pending" and not Incident.objects.exists()


def test_anonymous_is_sent_to_log_in(world, api):
    create(api)
    response = Client().get("/moderation/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_accept_creates_exactly_one_incident(world, api):
    token = create(api)
    pk = PublicRequest.objects.get(token=token).pk
    first = logged_in(world.users["kommun_samordnare"])
    second = logged_in(world.users["polis_samordnare"])
    assert first.post(f"/moderation/{pk}/accept/").status_code == 302
    assert second.post(f"/moderation/{pk}/accept/").status_code == 302
    assert second.post(f"/moderation/{pk}/reject/", {"note": "Sent"}).status_code == 302
    assert Incident.objects.count() == 1
    public_request = PublicRequest.objects.get()
    assert public_request.status == "accepted" and public_request.moderated_by == world.users["kommun_samordnare"]


def test_reject_needs_a_reason(world, api):
    token = create(api)
    pk = PublicRequest.objects.get(token=token).pk
    moderator = logged_in(world.users["kommun_samordnare"])
    response = moderator.post(f"/moderation/{pk}/reject/", {"note": "  "})
    assert response.status_code == 200
    assert PublicRequest.objects.get().status == "pending"


def test_incident_position_is_exact_while_the_public_one_is_rounded(world, api):
    token = create(api, lat="55.43149", long=str(YSTAD[0]))
    accept(world, token)
    assert Incident.objects.get().lat == 55.43149
    assert get_one(api, token)["lat"] == 55.431
