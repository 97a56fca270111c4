"""Shared fixtures: two municipalities, a kommun, a police district covering both, users of every role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

# Django models are imported inside the fixtures so that the analysis tests never load Django.


@pytest.fixture(autouse=True)
def _fast_password_hashing(request):
    # Real hashing costs ~0.3 s a user; the world fixture makes a dozen users per test.
    if "settings" in request.fixturenames or "db" in request.fixturenames or "world" in request.fixturenames:
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def unverified_sessions():
    """Ask for this to test the half-finished log-in: ``force_login`` then leaves the second factor to be given."""


@pytest.fixture(autouse=True)
def _verified_sessions(request, monkeypatch):
    """``Client.force_login`` also gives the second factor, for the users who need one; ``Client.login`` works with
    django-axes' backend.

    Most tests log in with ``force_login`` to test what comes after the log-in, which for police and administrators
    includes the second factor: the session is verified the way ``django_otp.login`` does it. Tests of the
    unverified state ask for ``unverified_sessions`` or log in through the pages.
    """
    from django.test import Client

    original_force_login = Client.force_login
    original_login = Client.login
    verify = "unverified_sessions" not in request.fixturenames

    def force_login(self, user, backend=None):
        original_force_login(self, user, backend)
        if verify:
            _verify_session(self, user)

    def login(self, **credentials):
        # Axes needs the request (for the client address) that Client.login does not pass to authenticate().
        if "request" not in credentials:
            from django.http import HttpRequest

            credentials["request"] = HttpRequest()
            credentials["request"].META["REMOTE_ADDR"] = "127.0.0.1"
        return original_login(self, **credentials)

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "login", login)


def _verify_session(client, user) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from samverkan.accounts.models import User
    from samverkan.accounts.otp import needs_second_factor

    # A fresh copy: the access funnel caches memberships on the user object, which the test may still change.
    if not needs_second_factor(User.objects.get(pk=user.pk)):
        return
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user_id=user.pk, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@dataclass
class World:
    ystad: Any
    simrishamn: Any
    kommun: Any
    kommun_simrishamn: Any
    polis: Any
    users: dict[str, Any]


@pytest.fixture
def world(db) -> World:
    from samverkan.accounts.models import OrganisationKind, Role
    from samverkan.places.models import Municipality
    from samverkan.places.services import area_create
    from tests.factories import SIMRISHAMN, YSTAD, OrganisationFactory, UserFactory, member, square

    # All 290 municipalities exist from the migrations; the tests give two of them simple square outlines.
    ystad = Municipality.objects.get(code="1286")
    ystad.geometry = square(*YSTAD, 0.1)
    ystad.save()
    simrishamn = Municipality.objects.get(code="1291")
    simrishamn.geometry = square(*SIMRISHAMN, 0.1)
    simrishamn.save()
    area_create(municipality=ystad, kind="district", name="Centrum", geometry=square(*YSTAD, 0.01))
    kommun = OrganisationFactory(name="Ystads kommun", kind=OrganisationKind.KOMMUN)
    kommun.municipalities.add(ystad)
    kommun_s = OrganisationFactory(name="Simrishamns kommun", kind=OrganisationKind.KOMMUN)
    kommun_s.municipalities.add(simrishamn)
    polis = OrganisationFactory(name="Lokalpolisområde Ystad", kind=OrganisationKind.POLIS)
    polis.municipalities.add(ystad, simrishamn)
    users: dict[str, Any] = {}
    for role in Role.values:
        users[f"kommun_{role}"] = u = UserFactory(username=f"kommun_{role}")
        member(u, kommun, role)
        users[f"polis_{role}"] = u = UserFactory(username=f"polis_{role}")
        member(u, polis, role)
    users["simrishamn_samordnare"] = u = UserFactory(username="simrishamn_samordnare")
    member(u, kommun_s, Role.SAMORDNARE)
    users["nobody"] = UserFactory(username="nobody")
    return World(ystad, simrishamn, kommun, kommun_s, polis, users)
