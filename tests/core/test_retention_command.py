"""``samverkan retention``: a dry run by default, ``--apply`` to carry it out, a summary line in the log."""

from __future__ import annotations

import datetime as dt
import io
import logging
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.utils import translation

from samverkan.core.management.commands import retention as command
from samverkan.imports.models import ImportRecord
from samverkan.incidents import services
from samverkan.incidents.models import Category, Incident
from tests.factories import SIMRISHAMN, YSTAD

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2029, 6, 15, 3, 0, tzinfo=STOCKHOLM)
LOG_FIELDS = {
    "dry_run",
    "reports",
    "import_records",
    "import_files",
    "import_bytes",
    "polisen_events",
    "public_requests",
}


@pytest.fixture(autouse=True)
def _english_and_a_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with translation.override("en"):
        yield


@pytest.fixture
def due(world):
    """Three reports past the default 36 months (two in Ystad, one in Simrishamn), one not, and an old import."""
    made = []
    for user, code, (lon, lat), when in [
        ("kommun_rapportor", "klotter", YSTAD, dt.datetime(2026, 1, 10, 22, tzinfo=STOCKHOLM)),
        ("kommun_rapportor", "klotter", YSTAD, dt.datetime(2026, 2, 10, 22, tzinfo=STOCKHOLM)),
        ("polis_rapportor", "narkotika", SIMRISHAMN, dt.datetime(2026, 3, 10, 22, tzinfo=STOCKHOLM)),
        ("kommun_rapportor", "klotter", YSTAD, dt.datetime(2026, 7, 10, 22, tzinfo=STOCKHOLM)),
    ]:
        with time_machine.travel(when, tick=False):
            made.append(
                services.incident_create(
                    user=world.users[user],
                    category=Category.objects.get(code=code, municipality=None),
                    lon=lon,
                    lat=lat,
                    occurred_from=when,
                    description="Ring Kalle på 070-123 45 67",
                )
            )
    with time_machine.travel(NOW - dt.timedelta(days=100), tick=False):
        ImportRecord.objects.create(kind="polisen", filename="https://polisen.se/api/events", errors=[{"row": 1}])
    return made


def run(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("retention", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def rows() -> list:
    return [*Incident.objects.order_by("pk").values(), *ImportRecord.objects.order_by("pk").values()]


def test_a_dry_run_by_default_tells_what_it_would_do(due, caplog):
    before = rows()
    with caplog.at_level(logging.INFO, logger="samverkan.retention"):
        out = run()
    assert rows() == before
    assert "Dry run: nothing was changed. Run with --apply to carry it out." in out
    assert "Reports to anonymise: 3" in out
    assert "    Graffiti: 2\n" in out and "    Suspected drug dealing or use: 1\n" in out
    assert "    Ystad: 2\n" in out and "    Simrishamn: 1\n" in out
    assert "Imports whose raw data would be deleted: 1" in out
    (record,) = [r for r in caplog.records if r.name == "samverkan.retention"]
    assert {key: getattr(record, key) for key in LOG_FIELDS} == {
        "dry_run": True,
        "reports": 3,
        "import_records": 1,
        "import_files": 0,
        "import_bytes": 0,
        "polisen_events": 0,
        "public_requests": 0,
    }


def test_apply_does_it_and_a_second_run_does_nothing(due, caplog):
    caplog.set_level(logging.INFO, logger="samverkan.retention")
    out = run("--apply", "--batch-size", "2")
    assert "Dry run" not in out
    assert "Reports anonymised: 3" in out and "Imports whose raw data was deleted: 1" in out
    assert Incident.objects.filter(anonymised_at__isnull=False).count() == 3
    assert not Incident.objects.filter(anonymised_at__isnull=False).exclude(description="").exists()
    assert Incident.objects.get(pk=due[3].pk).description  # younger than 36 months
    after = rows()
    assert "Nothing to do." in run("--apply")
    assert "Nothing to do." in run()
    assert rows() == after
    logged = [(r.dry_run, r.reports, r.import_records) for r in caplog.records if r.name == "samverkan.retention"]
    assert logged == [(False, 3, 1), (False, 0, 0), (True, 0, 0)]


@pytest.mark.parametrize("size", ["0", "-1", "many"])
def test_a_bad_batch_size_is_refused(db, size):
    with pytest.raises(CommandError, match="--batch-size"):
        run("--batch-size", size)


def test_a_failed_batch_stops_the_run_with_an_error(due, monkeypatch):
    def fail(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(command, "incidents_anonymise", fail)
    with pytest.raises(CommandError, match="run the command again"):
        run("--apply")
