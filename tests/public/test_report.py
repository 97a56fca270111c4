"""Digital trygghetsvandring: a citizen reports an unsafe place into the moderated queue; floods, robots, oversized
posts and forged posts are refused cheaply."""

from __future__ import annotations

import math
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from samverkan.core import throttle
from samverkan.imports.models_open311 import PublicRequest, PublicRequestStatus
from samverkan.incidents.models import Incident
from samverkan.public import report_views
from samverkan.public.forms import COMMENT_MAX_CHARS
from tests.factories import SIMRISHAMN, YSTAD

COMMENT = "Trasig gatubelysning längs gångvägen bakom skolan, mörkt efter 16."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def url(world) -> str:
    return reverse("public:report", args=[world.ystad.code])


def form_data(**overrides):
    data = {"kind": "otrygg-plats", "lat": f"{YSTAD[1] + 0.002}", "lon": f"{YSTAD[0] - 0.003}", "comment": COMMENT}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def html_of(response) -> str:
    return response.content.decode()


def test_form_offers_the_public_categories_a_pin_and_a_hidden_honeypot(client, url):
    response = client.get(url)
    html = html_of(response)
    assert response.status_code == 200
    assert '<html lang="sv">' in html
    for name in ("Otrygg plats", "Klotter", "Nedskräpning/dumpning", "Skadegörelse", "Buskörning", "Fortkörning"):
        assert name in html
    # Categories not open to the public are not offered.
    assert "Misstänkt narkotikahantering" not in html and "Hot/våld mot anställd" not in html
    assert 'type="radio" name="kind"' in html
    assert 'type="hidden" name="lat"' in html and 'type="hidden" name="lon"' in html
    assert 'maxlength="1000"' in html
    trap = re.search(r'<input[^>]*name="website"[^>]*>', html)
    assert trap is not None
    for attribute in ('type="text"', 'autocomplete="off"', 'tabindex="-1"', 'aria-hidden="true"'):
        assert attribute in trap.group(0)
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'id="public-report-outline"' in html
    # Assets are served locally, and there are no inline scripts.
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/samverkan/public.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)


def test_report_enters_the_moderated_queue_and_the_thanks_page_gives_its_id(client, url, world):
    response = client.post(url, form_data())
    assert response.status_code == 302
    public_request = PublicRequest.objects.get()
    assert not Incident.objects.exists()
    assert public_request.status == PublicRequestStatus.PENDING
    assert public_request.category.code == "otrygg-plats"
    assert public_request.municipality == world.ystad
    assert public_request.description == COMMENT
    assert (public_request.lat, public_request.lon) == (
        pytest.approx(YSTAD[1] + 0.002),
        pytest.approx(YSTAD[0] - 0.003),
    )
    assert public_request.personal_data_flags == []

    thanks = reverse("public:report_thanks", args=[world.ystad.code])
    assert response["Location"] == f"{thanks}?arende={public_request.token}"
    page = client.get(response["Location"])
    html = html_of(page)
    assert page.status_code == 200
    assert public_request.token in html
    follow = f"/open311/v2/requests/{public_request.token}.json"
    assert f'href="http://testserver{follow}"' in html
    # The comment is never echoed back.
    assert "gatubelysning" not in html
    # The id really is the Open311 id, and the request there says it waits for review.
    answer = client.get(follow)
    assert answer.status_code == 200
    assert answer.json()[0]["service_request_id"] == public_request.token
    assert answer.json()[0]["status"] == "open"


def test_comment_is_optional(client, url):
    assert client.post(url, form_data(comment=None)).status_code == 302
    assert PublicRequest.objects.get().description == ""


def test_point_outside_the_municipality_is_refused_beside_the_map(client, url):
    response = client.post(url, form_data(lat=str(SIMRISHAMN[1]), lon=str(SIMRISHAMN[0])))
    html = html_of(response)
    assert response.status_code == 200
    assert 'id="pin-error"' in html and "Ystad" in re.search(r'id="pin-error">([^<]*)<', html).group(1)
    assert not PublicRequest.objects.exists()


def test_missing_pin_is_refused_in_swedish_and_keeps_the_comment(client, url):
    response = client.post(url, form_data(lat="", lon=""))
    html = html_of(response)
    assert response.status_code == 200
    assert "Sätt en nål på kartan eller använd din position." in html
    assert html.count("Sätt en nål på kartan") == 1
    assert COMMENT in html
    assert not PublicRequest.objects.exists()


@pytest.mark.parametrize(("lat", "lon"), [("55.43", ""), ("norr", "13.8"), ("nan", "13.8"), ("95", "13.8")])
def test_broken_pin_is_refused(client, url, lat, lon):
    response = client.post(url, form_data(lat=lat, lon=lon))
    assert response.status_code == 200
    assert 'id="pin-error"' in html_of(response)
    assert not PublicRequest.objects.exists()


def test_comment_longer_than_the_limit_is_refused_and_the_limit_itself_accepted(client, url):
    response = client.post(url, form_data(comment="x" * (COMMENT_MAX_CHARS + 1)))
    assert response.status_code == 200
    assert "1000" in html_of(response) and "1001" in html_of(response)
    assert not PublicRequest.objects.exists()
    assert client.post(url, form_data(comment="å" * COMMENT_MAX_CHARS)).status_code == 302
    assert len(PublicRequest.objects.get().description) == COMMENT_MAX_CHARS


@pytest.mark.parametrize("kind", [None, "narkotika", "finns-inte"])
def test_kind_must_be_a_public_category(client, url, kind):
    response = client.post(url, form_data(kind=kind))
    assert response.status_code == 200
    assert 'id="kind-error"' in html_of(response)
    assert not PublicRequest.objects.exists()


def test_personal_data_in_the_comment_is_flagged_for_the_moderator(client, url):
    response = client.post(url, form_data(comment="Ring mig på 070-123 45 67 om lampan vid torget."))
    assert response.status_code == 302
    public_request = PublicRequest.objects.get()
    assert public_request.needs_redaction
    assert [f["kind"] for f in public_request.personal_data_flags] == ["phone"]
    assert "070-123 45 67" not in html_of(client.get(response["Location"]))


def test_control_characters_are_dropped_from_the_comment_and_nul_refused(client, url):
    assert client.post(url, form_data(comment="Lampan\x0b är\x07 trasig")).status_code == 302
    assert PublicRequest.objects.get().description == "Lampan är trasig"
    # PostgreSQL cannot store NUL; Django's field refuses it with a message.
    assert client.post(url, form_data(comment="Lampan\x00")).status_code == 200
    assert PublicRequest.objects.count() == 1


def test_honeypot_looks_like_success_but_stores_nothing(client, url, world):
    response = client.post(url, form_data(website="https://spam.example"))
    assert response.status_code == 302
    thanks = reverse("public:report_thanks", args=[world.ystad.code])
    assert re.fullmatch(re.escape(thanks) + r"\?arende=[a-z2-9]{12}", response["Location"])
    assert client.get(response["Location"]).status_code == 200
    assert not PublicRequest.objects.exists()
    assert not Incident.objects.exists()


def test_rate_limit_refuses_with_a_friendly_429_before_any_database_work(
    client, url, settings, django_assert_num_queries
):
    settings.SAMVERKAN_PUBLIC_REPORT_RATE = "2/600"
    assert client.post(url, form_data()).status_code == 302
    assert client.post(url, form_data()).status_code == 302
    with django_assert_num_queries(0):
        response = client.post(url, form_data())
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    html = html_of(response)
    assert '<html lang="sv">' in html
    with translation.override("sv"):
        assert gettext("Please wait a little") in html
    # The wait is told in whole minutes, rounded up.
    minutes = math.ceil(int(response["Retry-After"]) / 60)
    assert re.search(rf"<p>[^<]*\b{minutes} minut", html)
    assert PublicRequest.objects.count() == 2
    # Robots are refused too, and reading the form is not limited.
    assert client.post(url, form_data(website="x")).status_code == 429
    assert client.get(url).status_code == 200
    # Another address has its own budget.
    assert Client(REMOTE_ADDR="192.0.2.7").post(url, form_data()).status_code == 302


def test_rate_limit_defaults_to_five_posts_per_ten_minutes(client, url, settings):
    del settings.SAMVERKAN_PUBLIC_REPORT_RATE
    statuses = [client.post(url, form_data(comment="")).status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert 0 < int(client.post(url, form_data())["Retry-After"]) <= 600


def test_rate_limit_window_ends(client, url, settings, monkeypatch):
    settings.SAMVERKAN_PUBLIC_REPORT_RATE = "1/600"
    now = 1_800_000_000.0  # the start of a 600-second window
    monkeypatch.setattr(throttle.time, "time", lambda: now)
    assert client.post(url, form_data()).status_code == 302
    response = client.post(url, form_data())
    assert response.status_code == 429 and response["Retry-After"] == "600"
    now += 599
    assert client.post(url, form_data())["Retry-After"] == "1"
    now += 1
    assert client.post(url, form_data()).status_code == 302


def test_rate_limit_uses_the_proxy_header_when_set(url, settings):
    settings.SAMVERKAN_PUBLIC_REPORT_RATE = "1/600"
    settings.SAMVERKAN_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    # Both come through the same proxy (one REMOTE_ADDR); the proxy's own entry is the last one.
    first = Client(HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.1")
    second = Client(HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.2")
    assert first.post(url, form_data()).status_code == 302
    assert second.post(url, form_data()).status_code == 302
    assert first.post(url, form_data()).status_code == 429
    # A client cannot escape by forging the entries before the proxy's.
    assert Client(HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1").post(url, form_data()).status_code == 429


def test_oversized_post_is_refused_with_413_before_any_database_work(client, url, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.post(url, form_data(comment="x" * (report_views.MAX_BODY_BYTES + 1)))
    assert response.status_code == 413
    assert '<html lang="sv">' in html_of(response)
    assert not PublicRequest.objects.exists()


def test_largest_possible_comment_fits_the_body_limit(client, url):
    # Four-byte characters percent-encode to 12 bytes each: the worst a real comment can do.
    response = client.post(url, form_data(comment="🌳" * COMMENT_MAX_CHARS, kind="klotter"))
    assert response.status_code == 302
    assert PublicRequest.objects.get().description == "🌳" * COMMENT_MAX_CHARS


def test_csrf_is_enforced(url):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(url, form_data()).status_code == 403
    assert not PublicRequest.objects.exists()
    # With the token from the form, the same post goes through.
    browser.get(url)
    token = browser.cookies["csrftoken"].value
    assert browser.post(url, form_data(csrfmiddlewaretoken=token)).status_code == 302
    assert PublicRequest.objects.count() == 1


def test_unknown_municipality_is_404(client, db):
    assert client.get(reverse("public:report", args=["9999"])).status_code == 404
    assert client.post(reverse("public:report", args=["9999"]), form_data()).status_code == 404
    assert client.get(reverse("public:report_thanks", args=["9999"])).status_code == 404


def test_municipality_that_takes_no_reports_says_so_and_stores_nothing(client, world):
    # Malmö exists (every municipality does) but has no outline to check a pin against.
    url = reverse("public:report", args=["1280"])
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="kind"' not in html_of(response)
    with translation.override("sv"):
        assert gettext("Reports for this municipality cannot be sent here yet.") in html_of(response)
    assert client.post(url, form_data()).status_code == 200
    assert not PublicRequest.objects.exists()


@pytest.mark.parametrize("token", ["<script>alert(1)</script>", "abc", "ABCDEFGHJKMN", "abcdefghjkmn0"])
def test_thanks_page_shows_only_well_formed_ids(client, world, token):
    response = client.get(reverse("public:report_thanks", args=[world.ystad.code]), {"arende": token})
    html = html_of(response)
    assert response.status_code == 200
    assert 'id="report-id"' not in html and "open311" not in html
    assert "<script>alert" not in html


def test_thanks_page_is_not_cached(client, world):
    response = client.get(reverse("public:report_thanks", args=[world.ystad.code]), {"arende": "abcdefghjkmn"})
    assert 'id="report-id"' in html_of(response)
    assert "no-store" in response["Cache-Control"]
