"""Gallring of raw import data: uploaded files and rows, police events' texts, public requests' free text and pins."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from samverkan.imports import services
from samverkan.imports.models import ImportRecord, ImportStatus, PolisenEvent, PublicRequest
from samverkan.imports.open311_services import public_request_accept, public_request_create, public_request_reject
from samverkan.imports.polisen import polisen_import
from samverkan.imports.retention import import_raw_data_delete
from samverkan.incidents.models import Category, Incident
from samverkan.incidents.retention import incidents_anonymise
from samverkan.places.geo import point_to_sweref
from tests.factories import YSTAD

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=STOCKHOLM)
DAY = dt.timedelta(days=1)
OLD = NOW - 91 * DAY  # the period is 90 days
YOUNG = NOW - 89 * DAY
EVENTS = Path(__file__).resolve().parent / "fixtures" / "polisen_events.json"
CSV = b"Id;Datum;Plats;Beskrivning\n1;2026-02-31;Stortorget;Kalle Anka klottrade, ring 070-123 45 67\n"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.SAMVERKAN_IMPORT_RAW_RETENTION_DAYS = 90


def run(*, apply: bool = True, now: dt.datetime = NOW):
    with time_machine.travel(now, tick=False):
        return import_raw_data_delete(apply=apply, batch_size=2)


def uploaded(world, when: dt.datetime) -> ImportRecord:
    """A browser import that was checked and failed on a row: its file, mapping and rejected rows are on disk, and
    the record quotes the bad cell, as ``services.import_record_run`` leaves it."""
    with time_machine.travel(when, tick=False):
        record = services.import_record_create(
            user=world.users["kommun_samordnare"],
            kind="incidents",
            upload=SimpleUploadedFile("rapporter.csv", CSV),
            options={"municipality": world.ystad.pk, "skip_invalid": True},
            attachments={"mapping": SimpleUploadedFile("ystad.toml", b'source_key = "ystad"\n')},
        )
    rejects = Path(record.stored_path).with_name(f"{Path(record.stored_path).stem}.rejects.csv")
    rejects.write_bytes(CSV)
    errors = [{"row": 2, "field": "Datum", "message": "ogiltigt datum '2026-02-31'"}]
    record.status = ImportStatus.DONE
    record.errors = errors
    record.summary = {
        "kind": "incidents",
        "total": 1,
        "created": 0,
        "rejected": 1,
        "errors": errors,
        "notes": ["Filen lästes som CSV (UTF-8, ';')."],
        "extra": {"rejects_path": str(rejects), "format": "CSV"},
    }
    record.save()
    return record


def files_of(record: ImportRecord) -> list[Path]:
    return [Path(record.stored_path), Path(record.options["mapping"]), Path(record.summary["extra"]["rejects_path"])]


def snapshot() -> dict:
    uploads = Path(services.upload_dir())
    return {
        "records": list(ImportRecord.objects.order_by("pk").values()),
        "events": list(PolisenEvent.objects.order_by("pk").values()),
        "requests": list(PublicRequest.objects.order_by("pk").values()),
        "incidents": list(Incident.objects.order_by("pk").values()),
        "files": sorted((p.name, p.read_bytes()) for p in uploads.iterdir()),
    }


# --- imports --------------------------------------------------------------------------------------------------------


def test_uploaded_files_and_rows_go_after_the_period_and_the_counts_stay(world):
    old, young = uploaded(world, OLD), uploaded(world, YOUNG)
    assert all(path.exists() for path in files_of(old) + files_of(young))
    before = snapshot()

    dry = run(apply=False)
    assert (dry.import_records, dry.files, dry.file_bytes) == (1, 3, 2 * len(CSV) + len(b'source_key = "ystad"\n'))
    assert snapshot() == before

    done = run()
    assert (done.import_records, done.files) == (1, 3)
    assert not any(path.exists() for path in files_of(old))
    assert all(path.exists() for path in files_of(young))
    old_after = ImportRecord.objects.get(pk=old.pk)
    assert old_after.stored_path == "" and old_after.errors == []
    assert old_after.options == {"municipality": world.ystad.pk, "skip_invalid": True}
    assert old_after.summary == {
        "kind": "incidents",
        "total": 1,
        "created": 0,
        "rejected": 1,
        "notes": ["Filen lästes som CSV (UTF-8, ';')."],
        "extra": {"format": "CSV"},
    }
    assert "2026-02-31" not in json.dumps(list(ImportRecord.objects.filter(pk=old.pk).values()), default=str)
    assert (old_after.filename, old_after.status, old_after.created_at) == ("rapporter.csv", "done", old.created_at)
    young_after = ImportRecord.objects.filter(pk=young.pk).values().get()
    assert young_after == next(r for r in before["records"] if r["id"] == young.pk)

    after_first = snapshot()
    assert run().total == 0
    assert snapshot() == after_first


def test_a_file_outside_the_upload_folder_is_never_deleted(world, tmp_path):
    own = tmp_path / "kommunens-egen-fil.csv"
    own.write_bytes(CSV)
    with time_machine.travel(OLD, tick=False):
        record = ImportRecord.objects.create(kind="incidents", filename=own.name, stored_path=str(own))
    assert run().import_records == 1
    assert own.read_bytes() == CSV
    assert ImportRecord.objects.get(pk=record.pk).stored_path == ""


def test_stray_uploads_go_by_age_but_not_a_young_imports_file(world):
    young = uploaded(world, YOUNG)
    folder = Path(services.upload_dir())
    stray_old, stray_new = folder / "abc-gammal.csv", folder / "def-ny.csv"
    stray_old.write_bytes(CSV)
    stray_new.write_bytes(CSV)
    for path in (stray_old, Path(young.stored_path)):
        os.utime(path, (OLD.timestamp(), OLD.timestamp()))
    assert run(apply=False).files == 1
    assert run().files == 1
    assert not stray_old.exists()
    assert stray_new.exists() and all(path.exists() for path in files_of(young))


# --- police events --------------------------------------------------------------------------------------------------


def test_police_events_lose_their_raw_text_after_the_period(world):
    events = json.loads(EVENTS.read_text(encoding="utf-8"))
    with time_machine.travel(OLD, tick=False):
        polisen_import(data=json.dumps(events[:8]).encode())
    with time_machine.travel(YOUNG, tick=False):
        polisen_import(data=json.dumps(events[8:]).encode())
    old_ids = {e["id"] for e in events[:8]}
    reports_before = list(Incident.objects.order_by("pk").values())
    assert any(PolisenEvent.objects.filter(event_id__in=old_ids).exclude(incident=None).values_list("pk"))
    young_before = list(PolisenEvent.objects.exclude(event_id__in=old_ids).order_by("pk").values())
    kept = ("event_id", "published_at", "name", "type", "location_name", "county", "municipality_id", "incident_id")
    old_kept = list(PolisenEvent.objects.filter(event_id__in=old_ids).order_by("pk").values_list(*kept))
    assert all(PolisenEvent.objects.values_list("raw", flat=True))

    assert run(apply=False).polisen_events == len(old_ids)
    assert run().polisen_events == len(old_ids)
    old_events = PolisenEvent.objects.filter(event_id__in=old_ids)
    assert all((raw, summary) == ({}, "") for raw, summary in old_events.values_list("raw", "summary"))
    assert list(old_events.order_by("pk").values_list(*kept)) == old_kept
    assert list(PolisenEvent.objects.exclude(event_id__in=old_ids).order_by("pk").values()) == young_before
    # The reports made from the events have their own period; they are not touched here.
    assert list(Incident.objects.order_by("pk").values()) == reports_before
    assert run().polisen_events == 0
    # Importing the archived copy again brings nothing back: neither the raw text nor changes to the reports.
    summary = polisen_import(data=json.dumps(events[:8]).encode())
    assert summary.unchanged == len(old_ids)
    assert all(raw == {} for raw in PolisenEvent.objects.filter(event_id__in=old_ids).values_list("raw", flat=True))
    assert list(Incident.objects.order_by("pk").values()) == reports_before


# --- public requests ------------------------------------------------------------------------------------------------


def request(
    world, *, moderated: dt.datetime | None, accept: bool = False, where=(YSTAD[0] + 0.0042, YSTAD[1] - 0.0013)
):
    klotter = Category.objects.get(code="klotter", municipality=None)
    with time_machine.travel(moderated - 2 * DAY if moderated else OLD - 30 * DAY, tick=False):
        public_request = public_request_create(
            municipality=world.ystad,
            category=klotter,
            lon=where[0],
            lat=where[1],
            description="Klotter på garaget, jag bor på Lilla Västergatan 3, ring 070-123 45 67",
        )
    if moderated is None:
        return public_request
    with time_machine.travel(moderated, tick=False):
        moderator = world.users["kommun_samordnare"]
        if accept:
            return public_request_accept(
                user=moderator, request_id=public_request.pk, redact_personal_data=True, note="Ringde tillbaka."
            )
        return public_request_reject(user=moderator, request_id=public_request.pk, note="Gäller en privat tomt.")


def test_rejected_requests_lose_text_moderator_and_exact_pin_after_the_period(world, settings):
    settings.SAMVERKAN_RETENTION_GRID_METRES = 500
    old, young = request(world, moderated=OLD), request(world, moderated=YOUNG)
    waiting = request(world, moderated=None)
    before = snapshot()
    assert run(apply=False).public_requests == 1
    assert snapshot() == before

    assert run().public_requests == 1
    old_after = PublicRequest.objects.get(pk=old.pk)
    assert (old_after.description, old_after.personal_data_flags, old_after.note) == ("", [], "")
    assert old_after.moderated_by is None and old_after.status == "rejected"
    x, y = point_to_sweref(old.lon, old.lat)
    cx, cy = point_to_sweref(old_after.lon, old_after.lat)
    assert (math.floor(cx / 500), math.floor(cy / 500)) == (math.floor(x / 500), math.floor(y / 500))
    assert (cx % 500, cy % 500) == pytest.approx((250, 250), abs=0.01)
    assert math.dist((x, y), (cx, cy)) <= 500 / math.sqrt(2)
    untouched = {r["id"]: r for r in before["requests"]}
    for kept in (young, waiting):
        assert PublicRequest.objects.filter(pk=kept.pk).values().get() == untouched[kept.pk]
    assert run().public_requests == 0


def test_an_accepted_request_keeps_text_and_pin_as_long_as_its_report(world):
    accepted = request(world, moderated=OLD, accept=True)
    assert accepted.description and accepted.incident is not None and accepted.note
    assert run().public_requests == 1
    after = PublicRequest.objects.get(pk=accepted.pk)
    assert after.note == ""  # the moderators' own words go after the period …
    assert (after.description, after.lat, after.lon) == (
        accepted.description,
        accepted.lat,
        accepted.lon,
    )  # … not these
    assert after.moderated_by == world.users["kommun_samordnare"]
    assert run().public_requests == 0

    # Once the report has been anonymised, the request follows it.
    later = NOW + dt.timedelta(days=3 * 366 + 31)
    with time_machine.travel(later, tick=False):
        assert incidents_anonymise(apply=True).total == 1
    assert run(now=later).public_requests == 1
    after = PublicRequest.objects.get(pk=accepted.pk)
    report = Incident.objects.get(pk=accepted.incident_id)
    assert after.description == "" and after.moderated_by is None
    assert (after.lon, after.lat) == pytest.approx((report.lon, report.lat), abs=1e-9)
    assert run(now=later).public_requests == 0


def test_a_check_whose_file_is_gone_cannot_be_confirmed_and_says_why(world):
    record = uploaded(world, OLD)
    run()
    record.refresh_from_db()
    record.status, record.dry_run = ImportStatus.CHECKED, False
    record.save()
    services.import_record_run(record.pk)
    record.refresh_from_db()
    assert record.status == ImportStatus.FAILED
    assert "gallrad" in record.errors[0]["message"]
    assert "traceback" not in record.summary
