"""Password rules and the page where users change their own password."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse

PASSWORD = "correct horse battery"
STRONG = "Lax och potatis i ugn 1912"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def change(client: Client, old: str, new: str):
    return client.post(
        reverse("accounts:password_change"), {"old_password": old, "new_password1": new, "new_password2": new}
    )


def test_the_validators_stay_configured():
    names = {v["NAME"].rsplit(".", 1)[-1]: v.get("OPTIONS", {}) for v in django_settings.AUTH_PASSWORD_VALIDATORS}
    assert names == {
        "UserAttributeSimilarityValidator": {},
        "MinimumLengthValidator": {"min_length": 12},
        "CommonPasswordValidator": {},
        "NumericPasswordValidator": {},
    }


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Kort lösen", "password_too_short"),
        ("password1234", "password_too_common"),
        ("830192847561", "password_entirely_numeric"),
        ("polis_samordnare!", "password_too_similar"),
    ],
)
def test_weak_passwords_are_refused(world, password, code):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=world.users["polis_samordnare"])
    assert code in [e.code for e in refused.value.error_list]


def test_a_strong_password_passes(world):
    validate_password(STRONG, user=world.users["polis_samordnare"])


def test_the_page_changes_the_password(world):
    user = world.users["kommun_samordnare"]
    client = Client()
    client.force_login(user)
    page = client.get(reverse("accounts:password_change"))
    assert page.status_code == 200
    response = change(client, PASSWORD, STRONG)
    assert response.status_code == 302
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username=user.username, password=STRONG) == user
    assert authenticate(request, username=user.username, password=PASSWORD) is None


@pytest.mark.parametrize("new", ["Kort lösen", "password1234", "830192847561", "kommun_samordnare1"])
def test_the_page_refuses_weak_passwords(world, new):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    response = change(client, PASSWORD, new)
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="kommun_samordnare", password=PASSWORD) is not None


def test_the_page_needs_the_old_password(world):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    response = change(client, "not the password", STRONG)
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]


def test_the_page_needs_a_log_in_and_the_second_factor(world, unverified_sessions):
    response = Client().get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client = Client()
    client.force_login(world.users["polis_samordnare"])
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp_enrol"))
    assert change(client, PASSWORD, STRONG).status_code == 302
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="polis_samordnare", password=PASSWORD) is not None


def test_the_header_links_to_the_page(world):
    client = Client()
    client.force_login(world.users["kommun_lasare"])
    assert f'href="{reverse("accounts:password_change")}"' in client.get("/").content.decode()
    assert 'href="/accounts/password/"' not in Client().get(reverse("accounts:login")).content.decode()
