"""Sessions end: after two idle hours, ten hours after the log-in however busy, and elsewhere on a password change."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from samverkan.accounts.middleware import LOGIN_AT_SESSION_KEY

PASSWORD = "correct horse battery"
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    with time_machine.travel(dt.datetime.now(dt.UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller


def logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_the_defaults():
    assert django_settings.SESSION_COOKIE_AGE == 2 * 60 * 60
    # Renewed by the log-in policy at most once a minute, not by a write on every request.
    assert not django_settings.SESSION_SAVE_EVERY_REQUEST
    assert django_settings.SAMVERKAN_SESSION_MAX_AGE_SECONDS == 10 * 60 * 60


def test_a_session_ends_after_two_idle_hours(world, clock):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    clock.shift(HOUR + dt.timedelta(minutes=59))
    assert client.get("/").status_code == 200
    # Each request renews the idle time.
    clock.shift(HOUR + dt.timedelta(minutes=59))
    assert client.get("/").status_code == 200
    clock.shift(2 * HOUR + dt.timedelta(minutes=1))
    response = client.get("/reports/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/reports/"


def test_a_busy_session_ends_ten_hours_after_the_log_in(world, clock):
    client = Client()
    assert client.post(reverse("accounts:login"), {"username": "kommun_samordnare", "password": PASSWORD}).status_code
    started = client.session[LOGIN_AT_SESSION_KEY]
    for _ in range(6):
        clock.shift(HOUR + dt.timedelta(minutes=30))
        assert client.get("/").status_code == 200
    clock.shift(HOUR)  # 10 h 0 min: still on
    assert client.get("/").status_code == 200
    clock.shift(dt.timedelta(minutes=1))
    response = client.get("/reports/?period=week", follow=True)
    assert response.redirect_chain[0] == ("/accounts/login/?next=/reports/%3Fperiod%3Dweek", 302)
    assert not logged_in(client)
    assert [m.level_tag for m in response.context["messages"]] == ["info"]
    assert client.session.get(LOGIN_AT_SESSION_KEY) is None
    assert started > 0


def test_the_limit_is_configurable(world, clock, settings):
    settings.SAMVERKAN_SESSION_MAX_AGE_SECONDS = 60 * 60
    client = Client()
    client.force_login(world.users["polis_samordnare"])
    clock.shift(dt.timedelta(minutes=59))
    assert client.get("/").status_code == 200
    clock.shift(dt.timedelta(minutes=2))
    assert client.get("/").status_code == 302
    assert not logged_in(client)


def test_logging_in_again_restarts_the_clock(world, clock):
    client = Client()
    login = {"username": "kommun_samordnare", "password": PASSWORD}
    client.post(reverse("accounts:login"), login)
    for _ in range(6):
        clock.shift(HOUR + dt.timedelta(minutes=30))
        assert client.get("/").status_code == 200
    client.post(reverse("accounts:login"), login)
    # Eleven hours after the first log-in, two after the second.
    for _ in range(2):
        clock.shift(HOUR)
        assert client.get("/").status_code == 200


def test_the_api_answers_401_after_the_limit(world, clock):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    assert client.get("/api/categories").status_code == 200
    for _ in range(7):
        clock.shift(HOUR + dt.timedelta(minutes=30))
        client.get("/api/categories")
    assert client.get("/api/categories").status_code == 401
    assert not logged_in(client)


def test_sessions_from_before_the_limit_count_from_their_first_request(world, clock):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    session = client.session
    del session[LOGIN_AT_SESSION_KEY]
    session.save()
    clock.shift(dt.timedelta(minutes=5))
    client.get("/")
    assert client.session[LOGIN_AT_SESSION_KEY] == int(dt.datetime.now(dt.UTC).timestamp())


def test_a_password_change_ends_the_other_sessions_but_not_this_one(world):
    user = world.users["polis_samordnare"]
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    response = here.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Lax och potatis i ugn 1912",
            "new_password2": "Lax och potatis i ugn 1912",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    # This session keeps its log-in and its second factor.
    assert here.get("/").status_code == 200
    assert here.get(reverse("accounts:password_change_done")).status_code == 200
    response = elsewhere.get("/reports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_requests_renew_the_session_at_most_once_a_minute(world, clock):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    client.get("/")
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    clock.shift(dt.timedelta(seconds=30))
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date == first
    clock.shift(dt.timedelta(seconds=31))
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date == first + dt.timedelta(seconds=61)
