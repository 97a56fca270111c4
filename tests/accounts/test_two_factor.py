"""Two-factor log-in: who needs it, setting up the app, codes and backup codes, and that no page is reachable without
it for the users who need it."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from samverkan.accounts.middleware import OPEN_TO_UNVERIFIED
from samverkan.accounts.models import ApiToken
from samverkan.accounts.otp import BACKUP_CODE_COUNT, needs_second_factor
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
NEEDING = ["polis_admin", "polis_samordnare", "polis_analytiker", "polis_rapportor", "polis_lasare", "kommun_admin"]
NOT_NEEDING = ["kommun_samordnare", "kommun_analytiker", "kommun_rapportor", "kommun_lasare", "nobody"]


def code(device: TOTPDevice, *, step: int = 0) -> str:
    """The app's code now (``step=1``: the next one, which the device also accepts and has not seen yet)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + step):0{device.digits}d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def frozen_clock():
    """The clock stands still at the current second until shifted (sessions stay valid after the test's travel)."""
    return time_machine.travel(dt.datetime.now(dt.UTC).replace(microsecond=0), tick=False)


def password_login(client: Client, username: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})


def is_verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


# --- who needs it ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", NEEDING)
def test_police_members_and_administrators_need_a_second_factor(world, username):
    assert needs_second_factor(world.users[username])


@pytest.mark.parametrize("username", NOT_NEEDING)
def test_municipal_staff_without_admin_role_do_not(world, username):
    assert not needs_second_factor(world.users[username])


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_staff_and_superusers_need_it_without_memberships(db, flag):
    assert needs_second_factor(UserFactory(**{flag: True}))


def test_nobody_needs_it_when_switched_off(world, settings):
    settings.SAMVERKAN_OTP_REQUIRED = False
    assert not any(needs_second_factor(user) for user in world.users.values())
    client = Client()
    password_login(client, "polis_analytiker")
    assert client.get(reverse("situation:dashboard")).status_code == 200


def test_anonymous_needs_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert not needs_second_factor(AnonymousUser())
    assert not needs_second_factor(None)


# --- every page is closed until the second factor is given ---------------------------------------------------------

SAMPLE_VALUES = ("1", "1286", "json", "x")


def _named_patterns(patterns, namespace=()):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespace, pattern.namespace) if pattern.namespace else namespace
            yield from _named_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield ":".join((*namespace, pattern.name)), pattern


def every_url() -> dict[str, str]:
    """One concrete path for every named URL the resolver knows, with sample values for its parameters."""
    urls: dict[str, str] = {}
    for name, pattern in _named_patterns(get_resolver().url_patterns):
        if name in urls:
            continue
        keys = sorted(pattern.pattern.regex.groupindex)
        for values in itertools.product(SAMPLE_VALUES, repeat=len(keys)):
            try:
                urls[name] = reverse(name, kwargs=dict(zip(keys, values, strict=True)))
                break
            except NoReverseMatch:
                continue
    return urls


def test_the_url_list_covers_the_product():
    urls = every_url()
    # A sample from every part of the product, so that a change in the walk cannot quietly test nothing.
    for name in [
        "situation:dashboard",
        "incidents:detail",
        "imports:new",
        "plan:measure_list",
        "plan_agreement:meeting",
        "public:municipality",
        "admin:index",
        "api:incidents",
        "accounts:password_change",
        "accounts:otp_backup_codes",
    ]:
        assert name in urls, name
    assert len(urls) > 150


@pytest.mark.parametrize("username", [*NEEDING, "staff", "superuser"])
def test_an_unverified_session_reaches_no_page_but_the_way_in_and_out(world, unverified_sessions, username):
    if username in ("staff", "superuser"):
        user = UserFactory(is_staff=True, is_superuser=username == "superuser")
    else:
        user = world.users[username]
        if username.startswith("polis"):
            confirmed_device(user)
    target = reverse("accounts:otp_verify" if username.startswith("polis") else "accounts:otp_enrol")
    client = Client()
    client.force_login(user)
    for name, path in every_url().items():
        response = client.get(path)
        if name in OPEN_TO_UNVERIFIED:
            assert response.status_code != 403, name
            continue
        if name.startswith("api:"):
            assert response.status_code == 403, name
            assert response.json()["detail"], name
        else:
            assert response.status_code == 302, (name, path, response.status_code)
            assert response["Location"].split("?")[0] == target, (name, response["Location"])
    assert not is_verified(client)


def test_a_post_while_unverified_changes_nothing(world, unverified_sessions):
    from samverkan.incidents.models import Incident

    client = Client()
    client.force_login(world.users["polis_samordnare"])
    before = Incident.objects.count()
    response = client.post(
        reverse("incidents:create"),
        {"category": "1", "lat": "55.43", "lon": "13.82", "description": "Klotter vid stationen."},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_enrol")
    assert Incident.objects.count() == before


def test_an_htmx_request_loads_the_code_page_as_a_whole_page(world, unverified_sessions):
    client = Client()
    client.force_login(world.users["polis_lasare"])
    response = client.get(reverse("incidents:list"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == reverse("accounts:otp_enrol") + "?next=%2Freports%2F"


def test_the_menu_is_hidden_until_the_code_is_entered(world, unverified_sessions):
    client = Client()
    client.force_login(world.users["polis_analytiker"])
    page = client.get(reverse("accounts:otp_enrol")).content.decode()
    assert reverse("incidents:list") not in page and reverse("accounts:logout") in page


def test_users_who_do_not_need_it_are_not_held(world, unverified_sessions):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    dashboard = client.get(reverse("situation:dashboard"))
    assert dashboard.status_code == 200 and reverse("incidents:list") in dashboard.content.decode()
    # The two-factor pages send them on.
    response = client.get(reverse("accounts:otp_verify") + "?next=/reports/")
    assert response.status_code == 302 and response["Location"] == "/reports/"
    assert client.get(reverse("accounts:otp_enrol")).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.users["kommun_samordnare"]).exists()


# --- the API ---------------------------------------------------------------------------------------------------------


def test_api_session_requests_answer_403_json_until_verified(world, unverified_sessions):
    client = Client()
    client.force_login(world.users["polis_analytiker"])
    response = client.get("/api/categories")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "Two-factor" in response.json()["detail"] or "Tvåstegs" in response.json()["detail"]


def test_bearer_tokens_are_not_affected_and_do_not_lift_the_session(world, unverified_sessions):
    user = world.users["polis_analytiker"]
    key = ApiToken.new_key()
    ApiToken.objects.create(user=user, name="GIS", key_hash=ApiToken.hash_key(key), prefix=key[:8])
    # A client with only the token.
    assert Client().get("/api/categories", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    # A token beside an unverified session: the token counts, and a wrong token does not fall back to the session.
    client = Client()
    client.force_login(user)
    assert client.get("/api/categories", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert client.get("/api/categories", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


# --- setting up the app -----------------------------------------------------------------------------------------------


def test_first_log_in_sets_up_the_app_then_shows_backup_codes_once(world):
    user = world.users["polis_samordnare"]
    client = Client()
    response = password_login(client, "polis_samordnare")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_enrol") + "?next=%2F"

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<img class="otp-qr" src="data:image/png;base64,[A-Za-z0-9+/=]+"', html)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    secret = re.search(r'<code class="otp-secret" id="otp-secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    # A reload shows the same key: what was scanned stays valid.
    assert client.get(reverse("accounts:otp_enrol")).context["secret"].replace(" ", "") == secret
    assert TOTPDevice.objects.filter(user=user).count() == 1

    with frozen_clock() as clock:
        wrong = client.post(reverse("accounts:otp_enrol"), {"otp_token": "000000", "next": "/"})
        assert wrong.status_code == 200
        assert not TOTPDevice.objects.get(pk=device.pk).confirmed
        assert not is_verified(client)
        clock.shift(2)
        response = client.post(reverse("accounts:otp_enrol"), {"otp_token": code(device), "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_backup_codes") + "?next=%2F"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert is_verified(client)

    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{4}) ([a-z2-7]{4})</code></li>", codes_page)
    assert len(codes) == BACKUP_CODE_COUNT
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert {a + b for a, b in codes} == stored
    assert 'href="/"' in codes_page
    # Shown once: the next visit only counts them.
    again = client.get(reverse("accounts:otp_backup_codes"))
    assert again.context["codes"] is None and again.context["left"] == BACKUP_CODE_COUNT
    assert "<li><code>" not in again.content.decode()
    assert client.get("/").status_code == 200


def test_the_enrolment_page_is_csp_clean(world, unverified_sessions):
    client = Client()
    client.force_login(world.users["polis_lasare"])
    html = client.get(reverse("accounts:otp_enrol")).content.decode()
    assert "<style" not in html and ' style="' not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_someone_with_an_app_cannot_set_up_another_without_the_code(world, unverified_sessions):
    user = world.users["polis_samordnare"]
    confirmed_device(user)
    client = Client()
    client.force_login(user)
    response = client.get(reverse("accounts:otp_enrol"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    assert client.post(reverse("accounts:otp_enrol"), {"otp_token": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=user).count() == 1


# --- entering a code -----------------------------------------------------------------------------------------------


def test_a_code_from_the_app_finishes_the_log_in_and_returns_to_the_page_asked_for(world):
    user = world.users["polis_analytiker"]
    device = confirmed_device(user)
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD, "next": "/reports/"}
    )
    assert response["Location"] == "/reports/"
    response = client.get("/reports/")
    assert response["Location"] == reverse("accounts:otp_verify") + "?next=%2Freports%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'name="next" value="/reports/"' in page.content.decode()
    response = client.post(reverse("accounts:otp_verify"), {"otp_token": code(device), "next": "/reports/"})
    assert response.status_code == 302 and response["Location"] == "/reports/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/reports/").status_code == 200


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_next_never_leaves_the_site(world, unverified_sessions, next_url):
    user = world.users["polis_analytiker"]
    device = confirmed_device(user)
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts:otp_verify"), {"otp_token": code(device), "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("situation:dashboard")


def test_a_code_is_accepted_once(world, unverified_sessions):
    user = world.users["polis_analytiker"]
    device = confirmed_device(user)
    token = code(device)
    first, second = Client(), Client()
    first.force_login(user)
    second.force_login(user)
    assert first.post(reverse("accounts:otp_verify"), {"otp_token": token})["Location"] == "/"
    response = second.post(reverse("accounts:otp_verify"), {"otp_token": token})
    assert response.status_code == 200
    assert not is_verified(second)


def test_a_backup_code_works_once_and_says_how_many_are_left(world, unverified_sessions):
    user = world.users["kommun_admin"]
    confirmed_device(user)
    backup = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    for token in ("abcd2345", "efgh6723"):
        StaticToken.objects.create(device=backup, token=token)
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts:otp_verify"), {"otp_token": "ABCD 2345"}, follow=True)
    assert response.redirect_chain[0][0] == "/"
    assert [re.findall(r"\d+", str(m)) for m in response.context["messages"]] == [["1"]]
    assert StaticToken.objects.filter(device=backup).count() == 1
    assert not StaticToken.objects.filter(token="abcd2345").exists()

    other = Client()
    other.force_login(user)
    assert other.post(reverse("accounts:otp_verify"), {"otp_token": "abcd2345"}).status_code == 200
    assert not is_verified(other)


def test_a_wrong_app_code_does_not_throttle_the_backup_codes(world, unverified_sessions):
    user = world.users["polis_lasare"]
    device = confirmed_device(user)
    backup = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    StaticToken.objects.create(device=backup, token="abcd2345")
    client = Client()
    client.force_login(user)
    client.post(reverse("accounts:otp_verify"), {"otp_token": "000000"})
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert client.post(reverse("accounts:otp_verify"), {"otp_token": "abcd2345"}).status_code == 302


def test_wrong_codes_are_throttled_by_the_device(world, unverified_sessions):
    user = world.users["polis_analytiker"]
    device = confirmed_device(user)
    client = Client()
    client.force_login(user)
    with frozen_clock() as clock:
        client.post(reverse("accounts:otp_verify"), {"otp_token": "000000"})
        client.post(reverse("accounts:otp_verify"), {"otp_token": "000001"})
        device.refresh_from_db()
        # The second came within the second the first wrong code imposed: refused without being checked.
        assert device.throttling_failure_count == 1
        response = client.post(reverse("accounts:otp_verify"), {"otp_token": code(device)})
        assert response.status_code == 200
        until = timezone.localtime(timezone.now() + dt.timedelta(seconds=1)).strftime("%H:%M:%S")
        assert until in response.content.decode()
        assert not is_verified(client)
        clock.shift(2)
        response = client.post(reverse("accounts:otp_verify"), {"otp_token": code(device)})
        assert response.status_code == 302
        assert is_verified(client)
    assert TOTPDevice().throttling_enabled and StaticDevice().throttling_enabled


# --- backup codes, a new phone, the admin ---------------------------------------------------------------------------


def test_new_backup_codes_replace_the_old_ones(world):
    user = world.users["polis_samordnare"]
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts:otp_backup_codes"), follow=True)
    first = set(re.findall(r"<li><code>(\w{4}) (\w{4})</code></li>", response.content.decode()))
    assert len(first) == BACKUP_CODE_COUNT
    response = client.post(reverse("accounts:otp_backup_codes"), follow=True)
    second = set(re.findall(r"<li><code>(\w{4}) (\w{4})</code></li>", response.content.decode()))
    assert len(second) == BACKUP_CODE_COUNT and not first & second
    assert StaticToken.objects.filter(device__user=user).count() == BACKUP_CODE_COUNT


def test_moving_to_a_new_phone_needs_a_current_code_and_starts_over(world):
    user = world.users["polis_samordnare"]
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    with frozen_clock() as clock:
        assert client.post(reverse("accounts:otp_reset"), {"otp_token": "000000"}).status_code == 200
        assert TOTPDevice.objects.filter(pk=device.pk).exists()
        clock.shift(2)
        response = client.post(reverse("accounts:otp_reset"), {"otp_token": code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:otp_enrol")
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not is_verified(client)
    assert client.get("/")["Location"].startswith(reverse("accounts:otp_enrol"))


def test_the_admin_requires_the_second_factor(world, unverified_sessions):
    root = UserFactory(is_staff=True, is_superuser=True)
    device = confirmed_device(root)
    client = Client()
    client.force_login(root)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp_verify"))
    client.post(reverse("accounts:otp_verify"), {"otp_token": code(device)})
    assert client.get("/admin/").status_code == 200


def test_an_admin_removes_a_users_devices(world):
    root = UserFactory(is_staff=True, is_superuser=True)
    target = world.users["polis_lasare"]
    device = confirmed_device(target)
    StaticDevice.objects.create(user=target, name="backup", confirmed=True)
    client = Client()
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "remove_second_factor", "_selected_action": [target.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    # A session verified with the removed device is no longer verified.
    other = Client()
    assert other.login(username=target.username, password=PASSWORD)
    session = other.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert other.get("/")["Location"].startswith(reverse("accounts:otp_enrol"))


def test_admins_do_not_see_device_keys(world):
    assert django_settings.OTP_ADMIN_HIDE_SENSITIVE_DATA


# --- the demo -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("required", [True, False])
def test_the_demo_says_whether_two_factor_log_in_is_on_and_who_needs_it(db, settings, required):
    import io

    from django.core.management import call_command

    settings.SAMVERKAN_OTP_REQUIRED = required
    out = io.StringIO()
    call_command("demo", "--incidents", "0", "--end-date", "2025-06-01", stdout=out)
    text = out.getvalue()
    if required:
        assert "Two-factor log-in is on: admin and kommunpolis set up an authenticator app" in text
    else:
        assert "Two-factor log-in is off in this demo (SAMVERKAN_OTP_REQUIRED=false)" in text
        assert "SAMVERKAN_OTP_REQUIRED=true; admin and kommunpolis then set up" in text
