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
