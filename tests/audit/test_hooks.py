"""Each place that must leave a trace records exactly one event: who, what, when, from where — and no free text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from samverkan.accounts.models import ApiToken, Membership, Role, User
from samverkan.incidents.models import Category, Incident, Sensitivity
from samverkan.plan.models import Agreement
from samverkan.situation.selectors import picture_compute
from samverkan.situation.services import snapshot_save
from tests.audit.conftest import as_text, client_for
from tests.factories import YSTAD, IncidentFactory, UserFactory

SECRET_TEXT = "Hemlig iakttagelse bakom Storgatans skola"
WHEN = (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
FIXTURES = Path(__file__).parent.parent / "imports" / "fixtures"


def form_data(**overrides):
    data = {
        "category": Category.objects.get(code="klotter", municipality=None).pk,
        "lat": YSTAD[1],
        "lon": YSTAD[0],
        "occurred_from": WHEN,
        "description": "Klotter på gaveln.",
        "severity": 1,
        "sensitivity": "shared",
    }
    data.update(overrides)
    return data


def restricted_report(world, **kwargs):
    return IncidentFactory(
        municipality=world.ystad,
        source_organisation=world.polis,
        sensitivity=Sensitivity.POLICE_RESTRICTED,
        description=SECRET_TEXT,
        **kwargs,
    )


def assert_who_where(event, user, organisation, address="10.0.0.7"):
    assert event.actor_id == user.pk and event.actor_username == user.username
    assert event.actor_organisations == [organisation.pk]
    assert event.client_address == address
    assert abs(event.at - timezone.now()) < dt.timedelta(minutes=1)


# --- reports ---------------------------------------------------------------------------------------------------------


def test_creating_editing_and_reviewing_a_report(world, since):
    reporter = client_for(world, "kommun_rapportor")
    reporter.post(reverse("incidents:create"), form_data(description=SECRET_TEXT))
    incident = Incident.objects.get()
    created = since.one("report_created")
    assert_who_where(created, world.users["kommun_rapportor"], world.kommun)
    assert (created.object_type, created.object_id, created.municipality_id) == (
        "incident",
        incident.pk,
        world.ystad.pk,
    )
    assert created.organisations == [world.kommun.pk] and not created.restricted
    assert created.details == {"status": "new", "sensitivity": "shared", "source": "form"}

    since.reset()
    moved = form_data(description="Ny text utan namn.", lat=YSTAD[1] + 0.001, lon=YSTAD[0] + 0.002, severity=2)
    assert reporter.post(reverse("incidents:edit", args=[incident.pk]), moved).status_code == 302
    changed = since.one("report_changed")
    assert changed.details["fields"] == ["description", "lat", "lon", "severity", "x", "y"]
    assert set(changed.details) == {"fields"}
    text = as_text(changed)
    for forbidden in ("Ny text", "Hemlig", f"{YSTAD[1] + 0.001}", f"{YSTAD[0] + 0.002}", "55.43", "13.82"):
        assert forbidden not in text
    assert len(since.all()) == 1

    since.reset()
    reviewer = client_for(world, "kommun_samordnare", address="10.0.0.9")
    reviewer.post(reverse("incidents:review", args=[incident.pk]), {"to_status": "reviewed", "note": SECRET_TEXT})
    reviewed = since.one("report_reviewed")
    assert_who_where(reviewed, world.users["kommun_samordnare"], world.kommun, address="10.0.0.9")
    assert reviewed.details["status"] == ["new", "reviewed"]
    assert "Hemlig" not in as_text(reviewed)
    assert [e.action for e in since.all()] == ["report_reviewed"]


def test_a_save_that_changes_nothing_records_nothing(world, since):
    incident = IncidentFactory(municipality=world.ystad, source_organisation=world.kommun)
    since.reset()
    incident.save()
    assert since.all() == []


def test_a_sensitivity_change_names_old_and_new_and_is_police_only(world, since):
    incident = restricted_report(world)
    since.reset()
    incident.sensitivity = Sensitivity.SHARED
    incident.save()
    event = since.one("report_changed")
    assert event.details == {"fields": ["sensitivity"], "sensitivity": ["police_restricted", "shared"]}
    assert event.restricted and event.actor_id is None and event.client_address == ""


def test_reading_a_police_only_report_on_the_page_and_through_the_api(world, since):
    incident = restricted_report(world)
    shared = IncidentFactory(municipality=world.ystad, source_organisation=world.kommun)
    since.reset()
    police = client_for(world, "polis_analytiker")
    assert police.get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    event = since.one("restricted_read")
    assert_who_where(event, world.users["polis_analytiker"], world.polis)
    assert (event.object_type, event.object_id, event.municipality_id) == ("incident", incident.pk, world.ystad.pk)
    assert event.restricted and event.details == {"view": "incidents:detail"}
    assert "Hemlig" not in as_text(event)

    since.reset()
    assert police.get(reverse("api:incident", args=[incident.pk])).status_code == 200
    assert since.one("restricted_read").details == {"view": "api:incident"}

    since.reset()
    assert police.get(reverse("incidents:edit", args=[incident.pk])).status_code == 200
    assert since.one("restricted_read").details == {"view": "incidents:edit"}

    since.reset()
    police.get(reverse("incidents:detail", args=[shared.pk]))
    police.get(reverse("api:incident", args=[shared.pk]))
    # A refused read shows nothing, so there is nothing to record either.
    client_for(world, "kommun_samordnare").get(reverse("incidents:detail", args=[incident.pk]))
    assert since.all() == []


def test_the_api_records_the_token_user(world, since):
    incident = restricted_report(world)
    key = ApiToken.new_key()
    ApiToken.objects.create(user=world.users["polis_analytiker"], name="GIS", key_hash=ApiToken.hash_key(key))
    since.reset()
    from django.test import Client

    client = Client(REMOTE_ADDR="192.0.2.5", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(reverse("api:incident", args=[incident.pk])).status_code == 200
    event = since.one("restricted_read")
    assert_who_where(event, world.users["polis_analytiker"], world.polis, address="192.0.2.5")


def test_lists_and_maps_record_the_police_only_reports_they_return(world, since):
    police_only = [restricted_report(world) for _ in range(3)]
    IncidentFactory.create_batch(2, municipality=world.ystad, source_organisation=world.kommun)
    since.reset()
    police = client_for(world, "polis_samordnare")
    police.get(reverse("incidents:list"), {"status": "new"})
    listed = since.one("restricted_list")
    assert_who_where(listed, world.users["polis_samordnare"], world.polis)
    assert listed.restricted and listed.municipality_id == world.ystad.pk
    assert listed.details["count"] == 3 and listed.details["ids"] == sorted(i.pk for i in police_only)
    assert listed.details["view"] == "incidents:list" and listed.details["filters"] == {"status": "new"}

    since.reset()
    api_page = police.get(reverse("api:incidents"), {"page_size": 4})
    assert api_page.status_code == 200 and len(api_page.json()["items"]) == 4
    on_page = [i["id"] for i in api_page.json()["items"] if i["sensitivity"] == "police_restricted"]
    assert len(on_page) == 2 and since.one("restricted_list").details["ids"] == sorted(on_page)
    since.reset()
    newest_two = police.get(reverse("api:incidents"), {"page_size": 2}).json()["items"]
    assert {i["sensitivity"] for i in newest_two} == {"shared"} and since.all() == []

    since.reset()
    geojson = police.get(reverse("api:incidents_geojson"))
    assert len(geojson.json()["features"]) == 5
    export = since.one("export")
    assert export.details["kind"] == "api_geojson" and export.details["rows"] == 5
    assert export.details["restricted_rows"] == 3 and export.details["restricted_ids"] == sorted(
        i.pk for i in police_only
    )
    assert export.restricted and len(since.all()) == 1

    since.reset()
    police.get(reverse("situation:dashboard"))
    assert since.one("restricted_list").details["view"] == "situation:dashboard"

    since.reset()
    kommun = client_for(world, "kommun_samordnare")
    kommun.get(reverse("situation:dashboard"))
    kommun.get(reverse("incidents:list"))
    kommun.get(reverse("api:incidents"))
    assert since.all("restricted_list") == []


def test_list_ids_are_capped_but_the_count_is_exact(world, since, monkeypatch):
    from samverkan.audit import services

    monkeypatch.setattr(services, "MAX_IDS", 2)
    for _ in range(3):
        restricted_report(world)
    since.reset()
    client_for(world, "polis_samordnare").get(reverse("incidents:list"))
    listed = since.one("restricted_list")
    assert listed.details["count"] == 3 and len(listed.details["ids"]) == 2


# --- exports ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exports:csv", "exports:geojson"])
def test_report_exports_record_kind_filters_and_rows(world, since, name):
    restricted_report(world)
    IncidentFactory.create_batch(2, municipality=world.ystad, source_organisation=world.kommun)
    since.reset()
    kommun = client_for(world, "kommun_analytiker")
    response = kommun.get(reverse(name), {"status": "new", "source": "form"})
    b"".join(response.streaming_content)
    event = since.one("export")
    assert_who_where(event, world.users["kommun_analytiker"], world.kommun)
    assert event.details == {
        "kind": name.split(":")[1],
        "filters": {"source": "form", "status": "new"},
        "rows": 2,
        "restricted_rows": 0,
    }
    assert not event.restricted and event.municipality_id == world.ystad.pk

    since.reset()
    b"".join(client_for(world, "polis_analytiker").get(reverse(name)).streaming_content)
    police = since.one("export")
    assert police.details["rows"] == 3 and police.details["restricted_rows"] == 1 and police.restricted


def test_snapshot_and_follow_up_pdfs_are_recorded(world, since, monkeypatch):
    # The documents themselves are tested in situation/ and plan/; here only that their export leaves a trace.
    monkeypatch.setattr("samverkan.situation.views.snapshot_pdf", lambda snapshot: b"%PDF-1.7")
    monkeypatch.setattr("samverkan.plan.agreement_services.followup_pdf", lambda agreement: b"%PDF-1.7")
    user = world.users["polis_samordnare"]
    picture = picture_compute(user=user, municipality_id=world.ystad.pk, period="2025-W10", view="police")
    snapshot = snapshot_save(user=user, picture=picture)
    agreement = Agreement.objects.create(
        title="Överenskommelse",
        municipality=world.ystad,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2026, 12, 31),
    )
    since.reset()
    police = client_for(world, "polis_samordnare")
    assert police.get(reverse("situation:snapshot_pdf", args=[snapshot.pk])).status_code == 200
    event = since.one("export")
    assert (event.object_type, event.object_id, event.municipality_id) == ("snapshot", snapshot.pk, world.ystad.pk)
    assert event.details["kind"] == "snapshot_pdf" and event.restricted

    since.reset()
    assert police.get(reverse("plan_agreement:followup_pdf", args=[agreement.pk])).status_code == 200
    event = since.one("export")
    assert (event.object_type, event.object_id, event.municipality_id) == ("agreement", agreement.pk, world.ystad.pk)
    assert event.details["kind"] == "followup_pdf" and not event.restricted


# --- imports ---------------------------------------------------------------------------------------------------------


class NoOptions(forms.Form):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)


def test_a_web_import_is_recorded_once_when_committed(world, since, settings, monkeypatch, tmp_path):
    from samverkan.imports import registry
    from samverkan.imports.base import ImportSummary
    from samverkan.imports.models import ImportRecord

    def run(path, *, user, options, dry_run, progress):
        return ImportSummary(kind="lines", dry_run=dry_run, total=3, created=2, updated=1)

    settings.SAMVERKAN_IMPORTS_SYNC = True
    settings.VAR_DIR = tmp_path
    monkeypatch.setitem(registry.IMPORTERS, "lines", registry.Importer("lines", "Lines", NoOptions, run))
    client = client_for(world, "kommun_samordnare")
    client.post(reverse("imports:new", args=["lines"]), {"file": SimpleUploadedFile("x.csv", b"a\nb\nc\n")})
    assert since.all("import_committed") == []  # the check writes nothing
    record = ImportRecord.objects.get()
    client.post(reverse("imports:confirm", args=[record.pk]))
    event = since.one("import_committed")
    assert_who_where(event, world.users["kommun_samordnare"], world.kommun)
    assert (event.object_type, event.object_id) == ("importrecord", record.pk)
    assert event.details == {
        "kind": "lines",
        "via": "web",
        "total": 3,
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "rejected": 0,
    }


def test_a_command_line_import_is_recorded_with_its_counts(world, since):
    call_command("import", "polisen", str(FIXTURES / "polisen_events.json"), "--quiet", "--dry-run")
    assert since.all() == []
    call_command("import", "polisen", str(FIXTURES / "polisen_events.json"), "--quiet")
    event = since.one("import_committed")
    assert event.actor_id is None and event.client_address == "" and event.details["via"] == "command"
    assert event.details["kind"] == "polisen" and event.details["created"] > 0
    # Importers write with their own SQL: one event for the import, none per report.
    assert since.all("report_created") == []


# --- memberships, users, tokens ------------------------------------------------------------------------------------


def test_membership_added_changed_and_removed(world, since):
    user = UserFactory(username="ny_kollega")
    since.reset()
    membership = Membership.objects.create(user=user, organisation=world.kommun, role=Role.LASARE)
    added = since.one("membership_added")
    assert added.details == {
        "user_id": user.pk,
        "username": "ny_kollega",
        "organisation_id": world.kommun.pk,
        "role": "lasare",
    }
    assert (added.object_type, added.object_id, added.organisations) == ("membership", membership.pk, [world.kommun.pk])

    since.reset()
    membership.role = Role.SAMORDNARE
    membership.save()
    changed = since.one("membership_changed")
    assert changed.details["role"] == ["lasare", "samordnare"] and changed.details["fields"] == ["role"]

    since.reset()
    membership.delete()
    assert since.one("membership_removed").details["role"] == "samordnare"


def test_user_changes_name_the_watched_fields_and_never_the_password(world, since):
    user = world.users["kommun_lasare"]
    since.reset()
    user.is_staff = True
    user.set_password("ett nytt långt lösenord")
    user.first_name = "Kalle"
    user.save()
    event = since.one("user_changed")
    assert event.details == {
        "user_id": user.pk,
        "username": "kommun_lasare",
        "fields": ["is_staff", "password"],
        "is_staff": [False, True],
    }
    assert event.organisations == [world.kommun.pk]
    assert "Kalle" not in as_text(event) and user.password not in as_text(event)

    since.reset()
    user.first_name = "Olle"
    user.save()
    user.save(update_fields=["last_login"])
    assert since.all() == []

    since.reset()
    user.delete()
    assert [e.action for e in since.all()] == ["membership_removed", "user_deleted"]
    assert since.one("user_deleted").organisations == [world.kommun.pk]


def test_removing_a_users_second_factor_is_recorded(world, since):
    user = world.users["polis_analytiker"]
    TOTPDevice.objects.create(user=user, name="telefon", confirmed=True)
    StaticDevice.objects.create(user=user, name="reservkoder", confirmed=True)
    since.reset()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    events = since.all()
    assert [e.action for e in events] == ["user_changed", "user_changed"]
    assert [e.details["second_factor"] for e in events] == [["removed", "totpdevice"], ["removed", "staticdevice"]]
    assert all((e.object_type, e.object_id) == ("user", user.pk) for e in events)
    assert events[0].organisations == [world.polis.pk]


def test_user_changes_in_the_admin_carry_the_admin_and_address(world, since):
    admin = User.objects.create_superuser("root", password="x" * 20)
    target = world.users["kommun_lasare"]
    since.reset()
    client = client_for_superuser(admin)
    response = client.post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        {
            "username": target.username,
            "is_active": "on",
            "is_superuser": "on",
            "date_joined_0": "2025-01-01",
            "date_joined_1": "10:00:00",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": Membership.objects.get(user=target).pk,
            "memberships-0-user": target.pk,
            "memberships-0-organisation": world.kommun.pk,
            "memberships-0-role": "samordnare",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = since.one("user_changed")
    assert event.actor_username == "root" and event.client_address == "10.0.0.8"
    assert event.details["is_superuser"] == [False, True]
    assert since.one("membership_changed").details["role"] == ["lasare", "samordnare"]


def client_for_superuser(user):
    from django.test import Client

    client = Client(REMOTE_ADDR="10.0.0.8")
    client.force_login(user)
    return client


def test_api_tokens_created_by_command_and_revoked(world, since, capsys):
    call_command("create_api_token", "polis_analytiker", "GIS-klient")
    token = ApiToken.objects.get()
    created = since.one("token_created")
    assert (created.object_type, created.object_id) == ("apitoken", token.pk)
    assert created.details == {"user_id": world.users["polis_analytiker"].pk, "username": "polis_analytiker"}
    assert capsys.readouterr().out.strip() not in as_text(created) and "GIS-klient" not in as_text(created)

    since.reset()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())  # use is not a change
    token.refresh_from_db()
    token.revoked = True
    token.save()
    assert since.one("token_revoked").details["revoked"] == [False, True]

    since.reset()
    token.delete()
    assert since.one("token_revoked").details["deleted"] is True


def test_no_event_holds_free_text_or_coordinates(world, since):
    """After a round of everything that records, no event holds a description, a note or a coordinate."""
    reporter = client_for(world, "polis_rapportor")
    reporter.post(reverse("incidents:create"), form_data(description=SECRET_TEXT, sensitivity="police_restricted"))
    incident = Incident.objects.get()
    samordnare = client_for(world, "polis_samordnare")
    samordnare.get(reverse("incidents:detail", args=[incident.pk]))
    samordnare.post(reverse("incidents:review", args=[incident.pk]), {"to_status": "closed", "note": SECRET_TEXT})
    samordnare.get(reverse("incidents:list"))
    samordnare.get(reverse("api:incidents_geojson"))
    b"".join(samordnare.get(reverse("exports:csv")).streaming_content)
    events = since.all()
    assert {e.action for e in events} >= {"report_created", "restricted_read", "report_reviewed", "export"}
    text = json.dumps([e.export_row() for e in events], ensure_ascii=False)
    for forbidden in ("Hemlig", "Storgatan", str(incident.lat)[:6], str(incident.lon)[:6], str(round(incident.x))):
        assert forbidden not in text
