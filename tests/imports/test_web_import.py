"""The browser import flow: upload → dry run → read the result → confirm, with access checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from samverkan.imports import registry
from samverkan.imports.base import ImportFailed, ImportSummary, RowError
from samverkan.imports.models import ImportRecord

CALLS: list[dict] = []


class FakeOptions(forms.Form):
    label = forms.CharField(required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)


def fake_run(path, *, user, options, dry_run, progress):
    lines = path.read_text(encoding="utf-8").splitlines()
    CALLS.append({"dry_run": dry_run, "options": options, "user": user.username})
    bad = [RowError(row=i, field="text", message="ogiltigt värde") for i, line in enumerate(lines, 1) if "bad" in line]
    if bad:
        raise ImportFailed(bad)
    for i in range(len(lines)):
        progress(i + 1, len(lines))
    return ImportSummary(kind="fake", dry_run=dry_run, total=len(lines), created=len(lines))


@pytest.fixture
def fake_importer(settings, monkeypatch):
    settings.SAMVERKAN_IMPORTS_SYNC = True
    monkeypatch.setitem(registry.IMPORTERS, "fake", registry.Importer("fake", "Fake", FakeOptions, fake_run))
    CALLS.clear()


def client_for(world, key):
    client = Client()
    client.force_login(world.users[key])
    return client


def upload(client, content: bytes, **extra):
    return client.post(
        reverse("imports:new", args=["fake"]),
        {"file": SimpleUploadedFile("data.csv", content), "label": "x", **extra},
    )


def test_check_then_confirm(world, fake_importer):
    client = client_for(world, "kommun_samordnare")
    response = upload(client, b"a\nb\nc\n")
    record = ImportRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:detail", args=[record.pk])
    assert record.status == "checked" and record.dry_run and record.summary["created"] == 3
    page = client.get(response["Location"]).content.decode()
    assert 'id="confirm-import"' in page
    client.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "done" and not record.dry_run and record.processed == 3
    assert [c["dry_run"] for c in CALLS] == [True, False]
    assert CALLS[0]["options"] == {"label": "x"}


def test_errors_are_listed_and_cannot_be_confirmed(world, fake_importer):
    client = client_for(world, "kommun_samordnare")
    upload(client, b"ok\nbad\nok\nbad\n")
    record = ImportRecord.objects.get()
    assert record.status == "failed"
    assert record.errors == [
        {"row": 2, "field": "text", "message": "ogiltigt värde"},
        {"row": 4, "field": "text", "message": "ogiltigt värde"},
    ]
    page = client.get(reverse("imports:detail", args=[record.pk])).content.decode()
    assert "ogiltigt värde" in page and 'id="confirm-import"' not in page
    client.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "failed" and len(CALLS) == 1


def test_htmx_poll_returns_the_status_fragment(world, fake_importer):
    client = client_for(world, "kommun_samordnare")
    upload(client, b"a\n")
    record = ImportRecord.objects.get()
    fragment = client.get(reverse("imports:detail", args=[record.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section id="import-status"') and "<html" not in fragment


@pytest.mark.parametrize("key", ["kommun_rapportor", "kommun_lasare", "nobody"])
def test_roles_without_import_are_refused(world, fake_importer, key):
    client = client_for(world, key)
    assert client.get(reverse("imports:list")).status_code == 403
    assert upload(client, b"a\n").status_code == 403
    assert not ImportRecord.objects.exists()


def test_someone_elses_record_is_404(world, fake_importer):
    upload(client_for(world, "kommun_samordnare"), b"a\n")
    record = ImportRecord.objects.get()
    other = client_for(world, "polis_analytiker")
    assert other.get(reverse("imports:detail", args=[record.pk])).status_code == 404
    assert other.post(reverse("imports:confirm", args=[record.pk])).status_code == 404


def test_empty_file_is_refused_in_the_form(world, fake_importer):
    response = upload(client_for(world, "kommun_samordnare"), b"")
    assert response.status_code == 200
    assert not ImportRecord.objects.exists()


def test_areas_through_the_browser(world, settings, tmp_path):
    import json

    from samverkan.places.models import Area
    from tests.factories import YSTAD, square

    settings.SAMVERKAN_IMPORTS_SYNC = True
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"namn": "Hamnen"}, "geometry": square(YSTAD[0], YSTAD[1] - 0.02, 0.005)}
        ],
    }
    client = client_for(world, "kommun_samordnare")
    form = client.get(reverse("imports:new", args=["areas"])).content.decode()
    assert "Ystad" in form and "Simrishamn" not in form  # only the user's municipalities
    response = client.post(
        reverse("imports:new", args=["areas"]),
        {
            "file": SimpleUploadedFile("omraden.geojson", json.dumps(geojson).encode()),
            "municipality": world.ystad.pk,
            "kind": "zone",
            "name_field": "namn",
        },
    )
    record = ImportRecord.objects.get()
    assert response.status_code == 302 and record.status == "checked", record.errors
    assert record.summary["created"] == 1 and not Area.objects.filter(name="Hamnen").exists()
    client.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "done"
    assert Area.objects.get(name="Hamnen").municipality == world.ystad
    # Another municipality cannot be chosen.
    refused = client.post(
        reverse("imports:new", args=["areas"]),
        {
            "file": SimpleUploadedFile("omraden.geojson", json.dumps(geojson).encode()),
            "municipality": world.simrishamn.pk,
            "kind": "zone",
            "name_field": "namn",
        },
    )
    assert refused.status_code == 200 and ImportRecord.objects.count() == 1


def test_reports_from_csv_through_the_browser(world, settings):
    from pathlib import Path

    from samverkan.incidents.models import Incident
    from samverkan.places.services import area_create
    from tests.factories import YSTAD, square

    settings.SAMVERKAN_IMPORTS_SYNC = True
    # The example places one row by area name.
    area_create(
        municipality=world.ystad, kind="district", name="Sandskogen", geometry=square(YSTAD[0] + 0.05, YSTAD[1], 0.01)
    )
    examples = Path(__file__).resolve().parents[2] / "samverkan" / "imports" / "examples"
    client = client_for(world, "kommun_samordnare")
    client.post(
        reverse("imports:new", args=["incidents"]),
        {
            "file": SimpleUploadedFile("est-export.csv", (examples / "est-export.csv").read_bytes()),
            "mapping": SimpleUploadedFile("est-export.toml", (examples / "est-export.toml").read_bytes()),
        },
    )
    record = ImportRecord.objects.get()
    assert record.status == "checked", record.errors
    assert record.summary["created"] == record.summary["total"] > 0
    assert not Incident.objects.exists()
    client.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "done"
    assert Incident.objects.filter(source="csv").count() == record.summary["created"]
    from django.db.models import Sum

    from samverkan.situation.models import DailyCount

    counted = DailyCount.objects.filter(area=None).aggregate(n=Sum("count"))["n"]
    assert counted == Incident.objects.count()
    # A user of another municipality cannot import into Ystad.
    other = client_for(world, "simrishamn_samordnare")
    other.post(
        reverse("imports:new", args=["incidents"]),
        {
            "file": SimpleUploadedFile("est-export.csv", (examples / "est-export.csv").read_bytes()),
            "mapping": SimpleUploadedFile("est-export.toml", (examples / "est-export.toml").read_bytes()),
        },
    )
    refused = ImportRecord.objects.exclude(pk=record.pk).get()
    assert refused.status == "failed" and refused.errors


def test_police_events_through_the_browser_only_for_own_municipalities(world, settings):
    import json

    from samverkan.imports.models import PolisenEvent

    settings.SAMVERKAN_IMPORTS_SYNC = True
    events = [
        {
            "id": 1,
            "datetime": "2026-08-09 18:50:13 +02:00",
            "name": "9 augusti 18.24, Skadegörelse, Ystad",
            "summary": "Krossad ruta.",
            "url": "/x/1",
            "type": "Skadegörelse",
            "location": {"name": "Ystad", "gps": "55.429505,13.820031"},
        },
        {
            "id": 2,
            "datetime": "2026-08-09 9:10:00 +02:00",
            "name": "9 augusti 08.50, Stöld, Malmö",
            "summary": "Cykelstöld.",
            "url": "/x/2",
            "type": "Stöld",
            "location": {"name": "Malmö", "gps": "55.604981,13.003822"},
        },
    ]
    client = client_for(world, "kommun_samordnare")
    client.post(
        reverse("imports:new", args=["polisen"]),
        {"file": SimpleUploadedFile("events.json", json.dumps(events).encode())},
    )
    record = ImportRecord.objects.get()
    assert record.status == "checked", record.errors
    client.post(reverse("imports:confirm", args=[record.pk]))
    assert list(PolisenEvent.objects.values_list("event_id", flat=True)) == [1]
    from samverkan.situation.models import DailyCount

    assert list(DailyCount.objects.values_list("municipality__code", "day", "count")) == [
        ("1286", dt.date(2026, 8, 9), 1)
    ]
