"""Lock-out after repeated failed log-ins (django-axes): wrong passwords and wrong two-factor codes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery"


def log_in(client: Client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def fail(client: Client, username: str, times: int) -> list[int]:
    return [log_in(client, username, "wrong password!").status_code for _ in range(times)]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The log-in rate limit (per address, in the cache) would otherwise carry attempts over from earlier tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limit(settings) -> int:
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def test_the_limit_and_cool_off_come_from_the_environment_with_safe_defaults():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert django_settings.AXES_COOLOFF_TIME == 0.5
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_a_user_name_is_locked_after_the_limit_and_the_right_password_then_fails(world, limit):
    client = Client()
    statuses = fail(client, "kommun_samordnare", limit)
    # The attempt that reaches the limit already answers with the lock-out page.
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert statuses[-1] == 429
    response = log_in(client, "kommun_samordnare", PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    text = response.content.decode()
    assert "30" in text  # minutes until the next try, from AXES_COOLOFF_HOURS
    assert "accounts/locked_out.html" in [t.name for t in response.templates]


def test_the_lock_out_page_is_swedish_and_says_how_long(world, limit):
    client = Client()
    fail(client, "kommun_samordnare", limit)
    text = client.post(reverse("accounts:login"), {"username": "kommun_samordnare", "password": PASSWORD})
    html = text.content.decode()
    assert '<html lang="sv">' in html
    assert "30" in html
    assert 'href="/accounts/login/"' in html


def test_the_lock_is_per_user_name_and_address(world, limit):
    client = Client()
    fail(client, "kommun_samordnare", limit)
    # Another user from the same address, and the same user from another address, are not locked.
    other_user = Client()
    assert log_in(other_user, "kommun_analytiker", PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="192.0.2.10")
    assert log_in(elsewhere, "kommun_samordnare", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(world, limit):
    client = Client()
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as clock:
        fail(client, "kommun_samordnare", limit)
        assert log_in(client, "kommun_samordnare", PASSWORD).status_code == 429
        clock.shift(dt.timedelta(minutes=31))
        assert log_in(client, "kommun_samordnare", PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_successful_log_in_resets_the_count(world, limit):
    client = Client()
    fail(client, "kommun_samordnare", limit - 1)
    assert log_in(client, "kommun_samordnare", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="kommun_samordnare").exists()


def test_wrong_two_factor_codes_count_and_end_the_half_finished_log_in(world, limit):
    user = world.users["polis_samordnare"]
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = Client()
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as clock:
        assert log_in(client, user.username, PASSWORD).status_code == 302
        statuses = []
        for _ in range(limit):
            # Past each wait the device imposes, so that every code is really checked.
            clock.shift(dt.timedelta(minutes=1))
            statuses.append(client.post(reverse("accounts:otp_verify"), {"otp_token": "000000"}).status_code)
        assert statuses == [200] * (limit - 1) + [429]
        assert not logged_in(client)
        # Locked: the password is refused too until the cool-off ends.
        assert log_in(client, user.username, PASSWORD).status_code == 429
        clock.shift(dt.timedelta(minutes=31))
        assert log_in(client, user.username, PASSWORD).status_code == 302
        token = f"{totp(device.bin_key):06d}"
        assert client.post(reverse("accounts:otp_verify"), {"otp_token": token}).status_code == 302
    assert logged_in(client)


def test_a_locked_user_cannot_enter_codes_in_a_session_opened_before(world, limit):
    user = world.users["polis_analytiker"]
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    half = Client()
    assert log_in(half, user.username, PASSWORD).status_code == 302
    fail(Client(), user.username, limit)
    response = half.post(reverse("accounts:otp_verify"), {"otp_token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 429
    assert not logged_in(half)


def test_the_test_client_logs_in_through_axes(world):
    client = Client()
    assert client.login(username="kommun_samordnare", password=PASSWORD)
    assert not Client().login(username="kommun_samordnare", password="wrong password!")
    assert AccessAttempt.objects.filter(username="kommun_samordnare").count() == 1
