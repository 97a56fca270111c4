"""Who may search the audit log and what they see; the page's filters; the export with its checksums."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from samverkan.accounts.access import audit_events_visible_to
from samverkan.audit.models import AuditAction, AuditEvent
from samverkan.incidents.models import Sensitivity
from tests.audit.conftest import client_for
from tests.factories import SIMRISHAMN, IncidentFactory


@pytest.fixture
def trail(world):
    """A police-only read and a shared report's review in Ystad, and a report made in Simrishamn."""
    restricted = IncidentFactory(
        municipality=world.ystad, source_organisation=world.polis, sensitivity=Sensitivity.POLICE_RESTRICTED
    )
    shared = IncidentFactory(municipality=world.ystad, source_organisation=world.kommun)
    IncidentFactory(
        municipality=world.simrishamn, source_organisation=world.kommun_simrishamn, lon=SIMRISHAMN[0], lat=SIMRISHAMN[1]
    )
    client_for(world, "polis_analytiker").get(reverse("incidents:detail", args=[restricted.pk]))
    client_for(world, "kommun_samordnare").post(reverse("incidents:review", args=[shared.pk]), {"to_status": "closed"})
    return {"restricted": restricted, "shared": shared}


def visible(world, key) -> set[str]:
    return set(audit_events_visible_to(world.users[key]).values_list("action", flat=True))


def test_police_only_events_only_through_police_memberships(world, trail):
    read = AuditEvent.objects.get(action="restricted_read")
    assert read.restricted and read.municipality_id == world.ystad.pk
    assert read in audit_events_visible_to(world.users["polis_samordnare"])
    assert read in audit_events_visible_to(world.users["polis_admin"])
    assert read not in audit_events_visible_to(world.users["kommun_samordnare"])
    assert read not in audit_events_visible_to(world.users["kommun_admin"])
    reviewed = AuditEvent.objects.get(action="report_reviewed")
    assert reviewed in audit_events_visible_to(world.users["kommun_samordnare"])
    assert reviewed in audit_events_visible_to(world.users["polis_samordnare"])


def test_each_sees_the_events_of_their_municipalities_and_organisations(world, trail):
    simrishamn = audit_events_visible_to(world.users["simrishamn_samordnare"])
    assert set(simrishamn.exclude(municipality_id=None).values_list("municipality_id", flat=True)) == {
        world.simrishamn.pk
    }
    # The memberships of their own organisation (made when the world was set up) are theirs to see.
    assert simrishamn.filter(action="membership_added").count() == 1
    kommun = audit_events_visible_to(world.users["kommun_samordnare"])
    assert kommun.filter(action="membership_added").count() == 5
    assert not kommun.filter(municipality_id=world.simrishamn.pk).exists()
    for key in ("kommun_analytiker", "kommun_rapportor", "kommun_lasare", "polis_lasare", "nobody"):
        assert not audit_events_visible_to(world.users[key]).exists(), key


@pytest.mark.parametrize("key", ["kommun_rapportor", "kommun_lasare", "polis_lasare", "kommun_analytiker", "nobody"])
def test_other_roles_are_refused_the_page_and_the_export(world, key):
    client = client_for(world, key)
    assert client.get(reverse("audit:list")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403
    assert reverse("audit:list") not in client.get(reverse("incidents:list")).content.decode()


def test_anonymous_visitors_are_sent_to_log_in():
    response = Client().get(reverse("audit:list"))
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_the_page_lists_in_swedish_newest_first_and_is_linked_in_the_header(world, trail, settings):
    settings.SAMVERKAN_PAGE_SIZE = 3
    client = client_for(world, "polis_samordnare")
    response = client.get(reverse("audit:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("audit:list")}"' in html
    with translation.override("sv"):
        title, read = translation.gettext("Audit log"), str(AuditAction.RESTRICTED_READ.label)
    assert f"<h1>{title}</h1>" in html and read in html
    seqs = [row["event"].seq for row in response.context["rows"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3
    assert response.context["page"].paginator.num_pages > 1
    second = client.get(reverse("audit:list"), {"page": 2})
    assert second.context["rows"][0]["event"].seq < seqs[-1]


def test_kommun_samordnare_does_not_see_police_only_events_on_the_page(world, trail):
    html = client_for(world, "kommun_samordnare").get(reverse("audit:list"), {"action": "restricted_read"})
    assert html.context["page"].paginator.count == 0
    police = client_for(world, "polis_samordnare").get(reverse("audit:list"), {"action": "restricted_read"})
    assert police.context["page"].paginator.count == 1


def test_filters(world, trail):
    client = client_for(world, "polis_samordnare")

    def found(**params) -> list[AuditEvent]:
        response = client.get(reverse("audit:list"), params)
        assert response.status_code == 200
        return [row["event"] for row in response.context["rows"]]

    [read] = found(actor="POLIS_ANALYTIKER")
    assert read.action == "restricted_read"
    assert [e.action for e in found(object_type="incident", object_id=trail["shared"].pk)] == [
        "report_reviewed",
        "report_created",
    ]
    assert {e.municipality_id for e in found(municipality=world.simrishamn.pk)} == {world.simrishamn.pk}
    today = timezone.localdate()
    assert found(date_from=today.isoformat(), date_to=today.isoformat(), action="restricted_read") == [read]
    tomorrow = today + dt.timedelta(days=1)
    assert found(date_from=tomorrow.isoformat()) == []
    # A municipality the user does not work in is not a choice.
    response = client_for(world, "simrishamn_samordnare").get(reverse("audit:list"), {"municipality": world.ystad.pk})
    assert "municipality" in response.context["filter"].errors


def test_the_export_holds_the_filtered_events_verifies_and_is_recorded(world, trail, tmp_path):
    client = client_for(world, "polis_samordnare")
    response = client.get(reverse("audit:export"), {"format": "jsonl", "municipality": world.ystad.pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/jsonl")
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content).decode()
    rows = [json.loads(line) for line in body.splitlines()]
    assert rows and {r["municipality_id"] for r in rows} == {world.ystad.pk}
    assert "restricted_read" in {r["action"] for r in rows}
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    path = tmp_path / "export.jsonl"
    path.write_text(body, encoding="utf-8")
    call_command("audit_verify", "--file", str(path))

    exported = AuditEvent.objects.order_by("-seq").first()
    assert exported.action == "audit_exported" and exported.seq not in {r["seq"] for r in rows}
    assert exported.details == {
        "format": "jsonl",
        "rows": len(rows),
        "filters": {"format": "jsonl", "municipality": str(world.ystad.pk)},
    }
    assert exported.actor_username == "polis_samordnare" and exported.restricted
    assert exported.municipality_id == world.ystad.pk

    rows[0]["actor_username"] = "någon annan"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="broken at line 1"):
        call_command("audit_verify", "--file", str(path))


def test_the_kommun_export_leaves_police_only_events_out_and_csv_opens_in_excel(world, trail):
    response = client_for(world, "kommun_samordnare").get(reverse("audit:export"), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffseq;at;actor_id;actor_username;")
    assert "restricted_read" not in body and "report_reviewed" in body
    assert body.splitlines()[0].endswith(";prev_hash;hash")


def test_a_bad_filter_or_format_is_refused_with_the_reason(world):
    client = client_for(world, "kommun_samordnare")
    bad = client.get(reverse("audit:export"), {"object_id": "x"})
    with translation.override("sv"):
        label = translation.gettext("Object id")
    assert bad.status_code == 400 and f"{label}: " in bad.content.decode()
    assert client.get(reverse("audit:export"), {"format": "xlsx"}).status_code == 400
    assert not AuditEvent.objects.filter(action="audit_exported").exists()
