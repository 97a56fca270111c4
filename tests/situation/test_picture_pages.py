"""The situational-picture pages: build, annotate, save, version, compare, document and PDF; who may do what."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.situation.models import Snapshot
from samverkan.situation.services import daily_counts_rebuild
from tests.factories import YSTAD, IncidentFactory


@pytest.fixture
def reports(world):
    make = {"municipality": world.ystad, "source_organisation": world.kommun}
    start = timezone.make_aware(dt.datetime(2026, 11, 16, 20))
    for i in range(12):
        incident = IncidentFactory(
            occurred_from=start + dt.timedelta(hours=7 * i), lon=YSTAD[0] + 0.001 * (i % 4), **make
        )
        incident.areas.add(world.ystad.areas.get(name="Centrum"))
    IncidentFactory(occurred_from=start, sensitivity="police_restricted", municipality=world.ystad)
    daily_counts_rebuild()


def client_for(world, key):
    client = Client()
    client.force_login(world.users[key])
    return client


def query(world, **extra):
    return {"municipality": world.ystad.pk, "kind": "week", "period": "2026-W47", "view": "shared", **extra}


def test_build_annotate_save_edit_compare(world, reports):
    client = client_for(world, "kommun_samordnare")
    page = client.get(reverse("situation:picture"), query(world))
    assert page.status_code == 200
    picture = page.context["picture"]
    assert picture["total"]["current"] == 12  # the police-only report is left out of the shared view
    html = page.content.decode()
    assert 'id="picture-map"' in html and "<svg" in html and 'id="save-picture"' in html
    token = page.context["annotation"]["token"].value()
    area_id = world.ystad.areas.get(name="Centrum").pk
    saved = client.post(
        reverse("situation:picture_save"),
        {
            "token": token,
            "assessment": "Oro kring stationen på kvällar.",
            "decisions": "Extra ronder fredag.",
            f"rating_{area_id}": "red",
            f"motivation_{area_id}": "Många rapporter",
        },
    )
    first = Snapshot.objects.get()
    assert saved.status_code == 302 and saved["Location"] == reverse("situation:snapshot", args=[first.pk])
    assert first.picture == picture and first.number == 1
    assert first.ratings == [{"area_id": area_id, "area": "Centrum", "rating": "red", "motivation": "Många rapporter"}]
    document = client.get(reverse("situation:snapshot_document", args=[first.pk])).content.decode()
    assert "Oro kring stationen på kvällar." in document
    edited = client.post(
        reverse("situation:snapshot_edit", args=[first.pk]),
        {"token": "frozen", "assessment": "Lugnare än befarat.", "decisions": "Extra ronder fredag."},
    )
    second = Snapshot.objects.get(number=2)
    assert edited["Location"] == reverse("situation:snapshot", args=[second.pk])
    assert second.picture == first.picture and second.lineage == first.lineage
    first.refresh_from_db()
    assert first.assessment == "Oro kring stationen på kvällar."
    compare = client.get(reverse("situation:snapshot_compare", args=[first.pk, second.pk])).content.decode()
    assert "Oro kring stationen på kvällar." in compare and "Lugnare än befarat." in compare
    pdf = client.get(reverse("situation:snapshot_pdf", args=[second.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_police_view_only_for_the_police(world, reports):
    kommun = client_for(world, "kommun_samordnare")
    page = kommun.get(reverse("situation:picture"), query(world, view="police"))
    assert "picture" not in page.context or page.context.get("picture") is None
    police = client_for(world, "polis_analytiker")
    page = police.get(reverse("situation:picture"), query(world, view="police"))
    assert page.context["picture"]["total"]["current"] == 13


@pytest.mark.parametrize("key", ["kommun_rapportor", "nobody"])
def test_no_pictures_for_reporters_and_users_without_membership(world, reports, key):
    # A reporter sees only their own reports, so a picture of everything is not theirs to see.
    client = client_for(world, key)
    assert client.get(reverse("situation:picture"), query(world)).status_code == 403
    assert client.get(reverse("situation:snapshots")).status_code == 403


def test_another_municipality_cannot_even_be_chosen(world, reports):
    page = client_for(world, "simrishamn_samordnare").get(reverse("situation:picture"), query(world))
    assert page.status_code == 200 and page.context.get("picture") is None
    assert "municipality" in page.context["form"].errors


def test_saved_pictures_are_guarded_like_missing_ones(world, reports):
    owner = client_for(world, "polis_analytiker")
    page = owner.get(reverse("situation:picture"), query(world, view="police"))
    owner.post(reverse("situation:picture_save"), {"token": page.context["annotation"]["token"].value()})
    police_snapshot = Snapshot.objects.get()
    kommun = client_for(world, "kommun_samordnare")
    for name in ("snapshot", "snapshot_document", "snapshot_pdf", "snapshot_edit"):
        assert kommun.get(reverse(f"situation:{name}", args=[police_snapshot.pk])).status_code == 404
    assert owner.get(reverse("situation:snapshot", args=[police_snapshot.pk])).status_code == 200


def test_a_stale_token_cannot_save(world, reports):
    client = client_for(world, "kommun_samordnare")
    response = client.post(reverse("situation:picture_save"), {"token": "nope"})
    assert response.status_code == 302 and not Snapshot.objects.exists()


def test_bad_period_is_a_form_error(world, reports):
    page = client_for(world, "kommun_samordnare").get(reverse("situation:picture"), query(world, period="2026-W60"))
    assert page.status_code == 200 and page.context.get("picture") is None
    assert page.context["form"].errors["period"]


def test_yearly_draft_and_reminder(world, reports):
    client = client_for(world, "kommun_samordnare")
    dashboard = client.get(reverse("situation:dashboard"))
    assert [r["municipality"] for r in dashboard.context["yearly"]] == [world.ystad]  # none yet: overdue
    assert reverse("situation:yearly") in dashboard.content.decode()
    # The steering group is reminded as well, without the offer to draft what it may not save.
    reader_dashboard = client_for(world, "kommun_lasare").get(reverse("situation:dashboard"))
    assert [r["can_draft"] for r in reader_dashboard.context["yearly"]] == [False]
    assert reverse("situation:yearly") not in reader_dashboard.content.decode()
    response = client.post(
        reverse("situation:yearly"), {"municipality": world.ystad.pk, "year": 2026, "view": "shared"}
    )
    snapshot = Snapshot.objects.get()
    assert response["Location"] == reverse("situation:snapshot", args=[snapshot.pk])
    assert snapshot.kind == "yearly" and snapshot.number == 1 and snapshot.period_label == "2026"
    assert "yearly" in snapshot.picture
    document = client.get(reverse("situation:snapshot_document", args=[snapshot.pk])).content.decode()
    assert document.index("Kartläggning") < document.index("Analys") < document.index("Förslag till åtgärdsplan")
    assert client.get(reverse("situation:dashboard")).context["yearly"] == []
    # Readers of the steering group read it but cannot draft one for the police view.
    reader = client_for(world, "kommun_lasare")
    refused = reader.post(reverse("situation:yearly"), {"municipality": world.ystad.pk, "year": 2026, "view": "police"})
    assert refused.status_code == 200 and Snapshot.objects.count() == 1
