"""Factories for tests. Geometry is small squares so point-in-polygon outcomes are obvious."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from samverkan.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from samverkan.incidents.models import Category, Incident, Precision, Sensitivity, Source, Status
from samverkan.places.geo import point_to_sweref


def square(lon: float, lat: float, half: float) -> dict:
    """A GeoJSON polygon: a square of ±half degrees around (lon, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half, lat - half],
                [lon + half, lat - half],
                [lon + half, lat + half],
                [lon - half, lat + half],
                [lon - half, lat - half],
            ]
        ],
    }


# Centres used throughout the tests (approximately the real towns).
YSTAD = (13.82, 55.43)
SIMRISHAMN = (14.35, 55.556)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrganisationKind.KOMMUN


def member(user: User, organisation: Organisation, role: str = Role.SAMORDNARE) -> Membership:
    return Membership.objects.create(user=user, organisation=organisation, role=role)


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident written directly (bypassing services), for read-side and access tests."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    category = factory.LazyFunction(lambda: Category.objects.get(code="klotter", municipality=None))
    occurred_from = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=2))
    lon = YSTAD[0]
    lat = YSTAD[1]
    x = factory.LazyAttribute(lambda o: point_to_sweref(o.lon, o.lat)[0])
    y = factory.LazyAttribute(lambda o: point_to_sweref(o.lon, o.lat)[1])
    precision = Precision.EXACT
    description = "Klotter på elskåpet vid busshållplatsen."
    sensitivity = Sensitivity.SHARED
    status = Status.NEW
    source = Source.FORM
