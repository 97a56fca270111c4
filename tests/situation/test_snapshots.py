"""Saved pictures: numbered immutable versions, and who may read them."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from samverkan.accounts.access import access_snapshot_by_id, picture_views_allowed, snapshots_visible_to
from samverkan.situation.services import snapshot_save


def picture(world, view="shared"):
    return {
        "schema": 1,
        "municipality": {"id": world.ystad.pk, "code": "1286", "name": "Ystad"},
        "area": None,
        "focus_area": None,
        "period": {"kind": "week", "start": "2026-11-23", "end": "2026-11-30", "label": "Vecka 48 2026"},
        "view": view,
        "restricted_excluded": view == "shared",
        "data_cutoff": timezone.now().isoformat(),
        "total": {"current": 12},
    }


def test_versions_are_numbered_and_never_changed(world):
    user = world.users["kommun_samordnare"]
    first = snapshot_save(user=user, picture=picture(world), assessment="Lugnt.", decisions="Inga.")
    second = snapshot_save(user=user, picture=first.picture, assessment="Lugnt, men oro vid stationen.", previous=first)
    third = snapshot_save(user=user, picture=first.picture, assessment="Ny text", previous=first)
    assert (first.number, second.number, third.number) == (1, 2, 3)
    assert first.lineage == second.lineage == third.lineage
    first.refresh_from_db()
    assert first.assessment == "Lugnt." and first.picture["total"]["current"] == 12
    assert first.period_start == dt.date(2026, 11, 23)


def test_ratings_follow_the_configured_scale(world):
    user = world.users["kommun_samordnare"]
    saved = snapshot_save(
        user=user,
        picture=picture(world),
        ratings=[
            {"area_id": 1, "area": "Centrum", "rating": "red", "motivation": "Narkotika vid stationen"},
            {"area_id": 2, "area": "Hamnen", "rating": ""},
        ],
    )
    assert saved.ratings == [
        {"area_id": 1, "area": "Centrum", "rating": "red", "motivation": "Narkotika vid stationen"}
    ]
    with pytest.raises(ValidationError):
        snapshot_save(user=user, picture=picture(world), ratings=[{"area_id": 1, "rating": "purple"}])


def test_who_reads_which_snapshots(world):
    shared = snapshot_save(user=world.users["kommun_samordnare"], picture=picture(world))
    police = snapshot_save(user=world.users["polis_analytiker"], picture=picture(world, view="police"))
    visible = lambda key: set(snapshots_visible_to(world.users[key]).values_list("pk", flat=True))  # noqa: E731
    assert visible("kommun_samordnare") == {shared.pk}
    assert visible("kommun_lasare") == {shared.pk}
    assert visible("polis_analytiker") == {shared.pk, police.pk}
    assert visible("kommun_rapportor") == set()
    assert visible("simrishamn_samordnare") == set()
    with pytest.raises(Http404):
        access_snapshot_by_id(world.users["kommun_samordnare"], police.pk)
    assert picture_views_allowed(world.users["kommun_samordnare"], world.ystad.pk) == ["shared"]
    assert picture_views_allowed(world.users["polis_analytiker"], world.ystad.pk) == ["shared", "police"]
    assert picture_views_allowed(world.users["kommun_rapportor"], world.ystad.pk) == []
