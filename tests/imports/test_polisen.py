"""The police's open events: reading every format, the quirks of the real data, upserts, refusals, fetching."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import gzip
import io
import json
import os
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from samverkan.imports import polisen
from samverkan.imports.base import ImportFailed
from samverkan.imports.models import ImportRecord, ImportStatus, PolisenEvent
from samverkan.imports.polisen import Places, parse_published, polisen_fetch, polisen_import, time_from_name
from samverkan.imports.polisen_types import MAPPINGS, MUNICIPALITY_GPS, category_for, normalise_type
from samverkan.incidents.models import Category, Incident, Precision, Sensitivity, Source, Status
from samverkan.places.geo import point_to_sweref
from samverkan.places.models import Municipality

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SAMVERKAN_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data" / "polisen-events"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "polisen_events.json"
STOCKHOLM = ZoneInfo("Europe/Stockholm")

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"the police events archive is not at {DATA}")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the tests never touch the network")

    monkeypatch.setattr(polisen, "urllib_get", refuse)


def events() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def by_id(items: list[dict], event_id: int) -> dict:
    return next(e for e in items if e["id"] == event_id)


def write(tmp_path: Path, payload: bytes | str | list, name: str = "events.json") -> Path:
    path = tmp_path / name
    if isinstance(payload, list):
        payload = json.dumps(payload, ensure_ascii=False)
    path.write_bytes(payload.encode("utf-8") if isinstance(payload, str) else payload)
    return path


def jsonl(items: list[dict]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in items)


def run(path: Path | str, *args: str) -> str:
    out = io.StringIO()
    call_command("import", "polisen", str(path), "--quiet", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(path: Path | str, *args: str) -> str:
    """Run an import that must fail: exit code 2, the errors on stderr, nothing written."""
    before = (PolisenEvent.objects.count(), Incident.objects.count())
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import", "polisen", str(path), "--quiet", *args, stdout=io.StringIO(), stderr=err)
    assert exc.value.returncode == 2
    assert "Inget sparades" in str(exc.value)
    assert (PolisenEvent.objects.count(), Incident.objects.count()) == before
    return err.getvalue()


def incident(event_id: int) -> Incident:
    return Incident.objects.select_related("category", "municipality").get(
        source=Source.POLISEN, external_id=str(event_id)
    )


def local(year, month, day, hour, minute, second=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=STOCKHOLM)


# --- reading the police's formats ------------------------------------------------------------------------------------


def test_published_time_with_an_hour_not_zero_padded():
    assert parse_published("2026-08-22 9:48:12 +02:00") == local(2026, 8, 22, 9, 48, 12)
    assert parse_published("2026-08-22 19:48:12 +02:00") == local(2026, 8, 22, 19, 48, 12)
    assert parse_published("2026-01-05 0:01:02 +01:00") == local(2026, 1, 5, 0, 1, 2)
    for bad in ("2026-08-22", "22/8/2026 9:48", "2026-13-01 9:48:12 +02:00", "2026-08-22 25:00:00 +02:00", ""):
        assert parse_published(bad) is None, bad


@pytest.mark.parametrize(
    ("name", "published", "expected"),
    [
        ("9 augusti 18.24, Trafikolycka, Ystad", local(2026, 8, 9, 18, 50), local(2026, 8, 9, 18, 24)),
        ("09 augusti 18.24, Trafikolycka, Ystad", local(2026, 8, 9, 18, 50), local(2026, 8, 9, 18, 24)),
        ("26 september 14:21, Mord/dråp, försök, Stockholm", local(2022, 9, 26, 15, 55), local(2022, 9, 26, 14, 21)),
        # New Year: the event happened the year before it was published …
        ("31 december 23.50, Brand, Ystad", local(2026, 1, 1, 0, 40), local(2025, 12, 31, 23, 50)),
        # … and a notice in December can be about January.
        ("2 januari 10.00, Polisinsats/kommendering, Ystad", local(2025, 12, 28, 9, 0), local(2026, 1, 2, 10, 0)),
        # A leap day is placed in the leap year.
        ("29 februari 12.00, Stöld, Ystad", local(2024, 3, 1, 8, 0), local(2024, 2, 29, 12, 0)),
    ],
)
def test_time_in_the_name(name, published, expected):
    assert time_from_name(name, published) == expected


@pytest.mark.parametrize(
    "name", ["Trafikolycka, Ystad", "9 smörgåsar 18.24, Brand, Ystad", "31 april 10.00, Brand, Ystad", "9 maj 24.10, X"]
)
def test_unreadable_time_in_the_name(name):
    assert time_from_name(name, local(2026, 5, 9, 12, 0)) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Ystad", "1286"),
        ("YSTAD", "1286"),
        ("Upplands väsby", "0114"),
        ("Upplands-bro", "0139"),
        ("Östra göinge", "1256"),
        ("Lilla edet", "1462"),
        ("Dals-ed", "1438"),
        ("Göteborg", "1480"),
        ("Gotland", "0980"),
        ("Region Gotland", "0980"),
        ("Ystads kommun", "1286"),
        ("Ystad kommun", "1286"),
        ("Göteborgs stad", "1480"),
        ("Falu kommun", "2080"),
        ("Borås", "1490"),
        ("1286", "1286"),
        ("Skåne län", None),
        ("Bro", None),
        ("", None),
    ],
)
def test_kommun_names_as_the_police_write_them(text, code):
    kommun = Places.load().kommun(text)
    assert (kommun.code if kommun else None) == code


@needs_data
@pytest.mark.django_db
def test_every_location_name_in_the_archive_resolves():
    places = Places.load()
    with (DATA / "location_names.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 311
    for row in rows:
        if row["kind"] == "municipality":
            kommun = places.kommun(row["location_name"])
            assert kommun is not None and kommun.code == row["code"], row
            assert row["code"] in MUNICIPALITY_GPS
        else:
            assert places.county(row["location_name"]) == row["official_name"], row


@pytest.mark.django_db
def test_every_kommun_has_the_polices_point():
    assert set(MUNICIPALITY_GPS) == set(Municipality.objects.values_list("code", flat=True))


# --- the type mapping ---------------------------------------------------------------------------------------------

# The 107 type names of the archive's event_types.csv (97 seen, 10 documented but never seen), for checkouts
# without the shared data.
TYPES = """
Trafikolycka|Sammanfattning natt|Brand|Rattfylleri|Trafikkontroll|Övrigt|Misshandel|Stöld|Trafikolycka, personskada|
Trafikbrott|Sammanfattning kväll och natt|Stöld/inbrott|Arbetsplatsolycka|Skadegörelse|Rån|Fylleri/LOB|
Trafikolycka, vilt|Försvunnen person|Narkotikabrott|Trafikolycka, singel|Mord/dråp, försök|Bedrägeri|
Misshandel, grov|Olaga hot|Olovlig körning|Knivlagen|Våld/hot mot tjänsteman|Bråk|Farligt föremål, misstänkt|
Inbrott|Mord/dråp|Fjällräddning|Kontroll person/fordon|Vapenlagen|Djur|Trafikolycka, smitning från|Trafikhinder|
Motorfordon, stöld|Räddningsinsats|Stöld, försök|Olaga intrång|Ofredande/förargelse|Explosion|Anträffad död|
Rån, försök|Fylleri|Åldringsbrott|Skottlossning|Våldtäkt|Information|Polisinsats/kommendering|Häleri|
Motorfordon, anträffat stulet|Detonation|Sexualbrott|Rån övrigt|Kontroll|Inbrott, försök|Vållande till kroppsskada|
Larm Överfall|Sedlighetsbrott|Uppdatering|Ordningslagen|Hemfridsbrott|Larm Inbrott|Sjukdom/olycksfall|Mordbrand|
Skyddslagen|Skottlossning, misstänkt|Rån väpnat|Alkohollagen|Anträffat gods|Efterlyst person|Smällar|
Sabotage mot blåljusverksamhet|Olaga frihetsberövande/människorov|Sjölagen|Miljöbrott|Våldtäkt, försök|
Luftfartslagen|Utlänningslagen|Missbruk av urkund|Ekobrott|Brand automatlarm|Hets mot folkgrupp|
Lagen om hundar och katter |Sammanfattning dag|Sammanfattning kväll|Förfalskningsbrott|Varningslarm/haveri|Bombhot|
Sammanfattning eftermiddag|Spridning smitta/kemikalier|Upphittat föremål|Sammanfattning helg|Sammanfattning dygn|
Sammanfattning vecka|Djur skadat/omhändertaget|Gränskontroll|Naturkatastrof|Ofog barn/ungdom|Olaga frihetsberövande|
Olaga intrång/hemfridsbrott|Sammanfattning förmiddag|Spridning smittsamma kemikalier|Stöld, ringa|Tillfälligt obemannat
"""


def known_types() -> list[str]:
    if (DATA / "event_types.csv").is_file():
        with (DATA / "event_types.csv").open(encoding="utf-8") as f:
            return [row["type"] for row in csv.DictReader(f)]
    return [t.removeprefix("\n") for t in TYPES.strip("\n").split("|")]


def test_mapping_covers_every_known_type():
    types_ = known_types()
    assert len(types_) == 107
    assert "Lagen om hundar och katter " in types_
    for version, mapping in MAPPINGS.items():
        day = mapping["valid_from"]
        missing = [t for t in types_ if not category_for(t, day)[1]]
        assert not missing, f"mapping version {version} lacks {missing}"


def test_type_lookup_ignores_case_and_spacing_and_keeps_unknown_types_as_other():
    day = dt.date(2026, 8, 1)
    assert category_for("Lagen om hundar och katter ", day) == ("ovrigt", True)
    assert category_for("  trafikolycka,   PERSONSKADA ", day) == ("trafikolycka", True)
    assert category_for("Sammanfattning natt", day) == (None, True)
    assert category_for("Sammanfattning morgon", day) == (None, False)
    assert category_for("Drönarobservation", day) == ("ovrigt", False)
    assert normalise_type("Fylleri/LOB ") == normalise_type("fylleri/lob")


@pytest.mark.django_db
def test_every_mapped_category_exists_as_a_shared_category_off_the_checklist():
    codes = {code for m in MAPPINGS.values() for code in m["types"].values() if code is not None} | {"ovrigt"}
    shared = {c.code: c for c in Category.objects.filter(municipality=None, code__in=codes)}
    assert set(shared) == codes
    # The police's own categories stay off the report form; the EST ones keep their state.
    assert not shared["trafikolycka"].active and not shared["trafikolycka"].public
    assert shared["skadegorelse"].active and shared["skadegorelse"].public


# --- importing ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_of_the_fixture(tmp_path, world):
    out = run(write(tmp_path, events()))
    assert "15 poster lästa, 15 nya" in out
    assert "sammanfattningar" in out and "sparades utan rapport" in out
    assert "Okända typer" in out and "Drönarobservation (1)" in out

    assert PolisenEvent.objects.count() == 15
    # 2 summaries and 1 notice keep no report; 1 event stays at county level.
    assert Incident.objects.filter(source=Source.POLISEN).count() == 11

    ystad = incident(900001)
    assert ystad.municipality.code == "1286"
    assert ystad.category.code == "trafikolycka"
    assert ystad.occurred_from == local(2026, 8, 9, 18, 24)
    assert ystad.reported_at == local(2026, 8, 9, 18, 50, 13)
    assert (ystad.lat, ystad.lon) == (55.429505, 13.820031)
    assert (ystad.x, ystad.y) == pytest.approx(point_to_sweref(13.820031, 55.429505))
    assert ystad.precision == Precision.MUNICIPALITY
    assert ystad.sensitivity == Sensitivity.PUBLIC
    assert ystad.status == Status.REVIEWED
    assert ystad.source_organisation is None and ystad.reporter is None
    assert ystad.description == "Två bilar har kolliderat i en korsning i centrum."
    # Municipality precision: no area, although the point lies in Ystad's "Centrum".
    assert not ystad.areas.exists()
    event = PolisenEvent.objects.get(event_id=900001)
    assert event.incident == ystad and event.raw == by_id(events(), 900001)


@pytest.mark.django_db
def test_county_located_events_take_the_kommun_from_the_name_and_its_own_point(tmp_path):
    run(write(tmp_path, events()))
    simrishamn = incident(900002)
    assert simrishamn.municipality.code == "1291"
    # The county's centre (given in gps) lies in another kommun; the report gets Simrishamn's point.
    assert (simrishamn.lat, simrishamn.lon) == MUNICIPALITY_GPS["1291"]
    assert PolisenEvent.objects.get(event_id=900002).county == "Skåne län"
    assert incident(900003).municipality.code == "0114"  # "Upplands väsby"
    assert incident(900004).municipality.code == "1438"  # location "Dals-ed"
    assert incident(900014).municipality.code == "1286"  # "Ystads kommun"
    assert incident(900012).municipality.code == "0980"  # Gotlands län has one kommun
    assert incident(900015).municipality.code == "0123"  # location "Järfälla" wins over the name's "Upplands-Bro"


@pytest.mark.django_db
def test_times_of_the_real_formats(tmp_path):
    run(write(tmp_path, events()))
    assert incident(900003).reported_at == local(2026, 8, 22, 9, 48, 12)
    assert incident(900003).occurred_from == local(2026, 8, 22, 9, 30)
    assert incident(900004).occurred_from == local(2023, 3, 21, 6, 40)  # "06:40"
    assert incident(900009).occurred_from == local(2025, 12, 31, 23, 50)  # published 1 January 2026
    assert incident(900014).occurred_from == local(2026, 8, 9, 10, 50)  # "9 augusti"


@pytest.mark.django_db
def test_summaries_notices_and_county_level_events_are_kept_without_reports(tmp_path):
    summary = polisen_import(data=write(tmp_path, events()).read_bytes())
    county_only = PolisenEvent.objects.get(event_id=900005)  # "Trafikkontroll, "
    assert county_only.municipality is None and county_only.county == "Västerbottens län"
    assert county_only.incident is None
    night = PolisenEvent.objects.get(event_id=900006)
    assert night.municipality is None and night.county == "Skåne län" and night.incident is None
    ystad_night = PolisenEvent.objects.get(event_id=900007)
    assert ystad_night.municipality.code == "1286" and ystad_night.incident is None
    assert PolisenEvent.objects.get(event_id=900013).incident is None  # "Uppdatering"
    assert summary.extra["county_level"] == 2
    assert summary.extra["summaries"] == 2
    assert summary.extra["notices"] == 1
    assert summary.extra["incidents_created"] == 11


@pytest.mark.django_db
def test_unknown_type_and_trailing_space(tmp_path):
    summary = polisen_import(data=write(tmp_path, events()).read_bytes())
    assert dict(summary.unknown_types) == {"Drönarobservation": 1}
    assert incident(900008).category.code == "ovrigt"
    assert incident(900010).category.code == "ovrigt"
    assert PolisenEvent.objects.get(event_id=900010).type == "Lagen om hundar och katter"


@pytest.mark.django_db
def test_personal_data_in_the_summary_waits_for_redaction(tmp_path):
    summary = polisen_import(data=write(tmp_path, events()).read_bytes())
    flagged = incident(900011)
    assert flagged.status == Status.NEW
    assert [f["kind"] for f in flagged.personal_data_flags] == ["phone"]
    assert summary.extra["personal_data_flagged"] == 1


@pytest.mark.django_db
def test_json_lines_gzip_and_stdin_give_the_same_result(tmp_path, monkeypatch):
    items = events()
    run(write(tmp_path, jsonl(items), "events.jsonl"))
    expected = sorted(PolisenEvent.objects.values_list("event_id", "municipality_id", "county"))
    first = sorted(Incident.objects.values_list("external_id", "category_id", "municipality_id", "occurred_from"))
    PolisenEvent.objects.all().delete()
    Incident.objects.all().delete()

    # Gzip recognised by its magic bytes, whatever the name says.
    run(write(tmp_path, gzip.compress(json.dumps(items).encode()), "events.txt"))
    assert sorted(PolisenEvent.objects.values_list("event_id", "municipality_id", "county")) == expected
    PolisenEvent.objects.all().delete()
    Incident.objects.all().delete()

    stdin = io.TextIOWrapper(io.BytesIO(gzip.compress(jsonl(items).encode())))
    monkeypatch.setattr(sys, "stdin", stdin)
    run("-")
    assert sorted(PolisenEvent.objects.values_list("event_id", "municipality_id", "county")) == expected
    again = sorted(Incident.objects.values_list("external_id", "category_id", "municipality_id", "occurred_from"))
    assert again == first


@pytest.mark.django_db
def test_a_second_import_changes_nothing(tmp_path):
    path = write(tmp_path, events())
    run(path)
    stamps = dict(Incident.objects.values_list("pk", "updated_at"))
    summary = polisen_import(data=path.read_bytes())
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 15)
    assert summary.extra["incidents_created"] == summary.extra["incidents_updated"] == 0
    assert dict(Incident.objects.values_list("pk", "updated_at")) == stamps


@pytest.mark.django_db
def test_archive_fields_do_not_make_an_event_changed(tmp_path):
    items = events()
    run(write(tmp_path, items))
    for item in items:
        item["archive_last_seen_utc"] = "2026-08-22T17:54:00Z"
    summary = polisen_import(data=json.dumps(items).encode())
    assert summary.unchanged == 15 and summary.updated == 0


@pytest.mark.django_db
def test_edited_events_are_upserted_and_their_reports_follow(tmp_path):
    run(write(tmp_path, events()))
    kept = incident(900001)
    edited = events()
    # The police change the type and the name ("Anträffad död" becoming "Mord/dråp" happens).
    first = by_id(edited, 900001)
    first["type"] = "Misshandel"
    first["name"] = "9 augusti 18.20, Misshandel, Ystad"
    # The kommun changes: the report moves from Simrishamn to Ystad.
    by_id(edited, 900002)["name"] = "30 juli 19.34, Misshandel, Ystad"
    # The event no longer names a kommun: its report goes, the event stays at county level.
    by_id(edited, 900014)["name"] = "9 augusti 10.50, Stöld, Skåne län"
    # A summary becomes an ordinary event: it gets a report.
    by_id(edited, 900007)["type"] = "Bråk"

    summary = polisen_import(data=json.dumps(edited).encode())
    assert (summary.created, summary.updated, summary.unchanged) == (0, 4, 11)
    assert summary.extra["incidents_created"] == 1
    assert summary.extra["incidents_updated"] == 2
    assert summary.extra["incidents_deleted"] == 1
    assert summary.extra["incidents_moved"] == 1

    changed = incident(900001)
    assert changed.pk == kept.pk
    assert changed.category.code == "misshandel"
    assert changed.occurred_from == local(2026, 8, 9, 18, 20)
    assert PolisenEvent.objects.get(event_id=900001).raw["type"] == "Misshandel"
    moved = incident(900002)
    assert moved.municipality.code == "1286" and (moved.lat, moved.lon) == MUNICIPALITY_GPS["1286"]
    assert not Incident.objects.filter(external_id="900014").exists()
    gone = PolisenEvent.objects.get(event_id=900014)
    assert gone.municipality is None and gone.county == "Skåne län" and gone.incident is None
    assert incident(900007).category.code == "brak-vald"
    assert PolisenEvent.objects.get(event_id=900007).incident == incident(900007)


@pytest.mark.django_db
def test_a_reviewers_status_survives_an_edit_by_the_police(tmp_path):
    run(write(tmp_path, events()))
    Incident.objects.filter(external_id="900001").update(status=Status.ACTED_ON)
    edited = events()
    by_id(edited, 900001)["summary"] = "Två bilar har kolliderat. Ingen skadad."
    polisen_import(data=json.dumps(edited).encode())
    assert incident(900001).status == Status.ACTED_ON
    assert incident(900001).description == "Två bilar har kolliderat. Ingen skadad."


@pytest.mark.django_db
def test_the_last_copy_of_a_repeated_event_wins(tmp_path):
    items = events()
    later = copy.deepcopy(by_id(items, 900001))
    later["summary"] = "Rättad text."
    summary = polisen_import(data=json.dumps([*items, later]).encode())
    assert summary.total == 16 and summary.created == 15 and summary.extra["duplicates"] == 1
    assert incident(900001).description == "Rättad text."


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_reports_what_would_change(tmp_path):
    path = write(tmp_path, events())
    out = run(path, "--dry-run")
    assert out.startswith("Provkörning – inget sparades: 15 poster lästa, 15 nya")
    assert PolisenEvent.objects.count() == 0 and Incident.objects.count() == 0
    real = polisen_import(data=path.read_bytes())
    dry = polisen_import(data=path.read_bytes(), dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (0, 0, 15)
    assert real.extra["incidents_created"] == 11


@pytest.mark.django_db
def test_limited_to_municipalities(tmp_path):
    path = write(tmp_path, events())
    summary = polisen_import(data=path.read_bytes(), municipalities=["ystad", "Simrishamn"])
    # Ystad's and Simrishamn's events, and Skåne's county-level summary; the other kommuner's are skipped.
    assert set(PolisenEvent.objects.values_list("event_id", flat=True)) == {
        900001,
        900002,
        900006,
        900007,
        900008,
        900009,
        900010,
        900011,
        900013,
        900014,
    }
    assert summary.extra["skipped_outside_municipalities"] == 5
    assert "5 händelser i andra kommuner hoppades över." in summary.lines()
    assert set(Incident.objects.values_list("municipality__code", flat=True)) == {"1286", "1291"}

    # A stored event that moves to a kommun outside the limit keeps its record but loses its report.
    edited = events()
    by_id(edited, 900002)["name"] = "30 juli 19.34, Misshandel, Lund"
    summary = polisen_import(data=json.dumps(edited).encode(), municipalities=["1286", "1291"])
    assert summary.updated == 1 and summary.extra["incidents_deleted"] == 1
    assert PolisenEvent.objects.get(event_id=900002).municipality.name == "Lund"
    assert not Incident.objects.filter(external_id="900002").exists()


@pytest.mark.django_db
def test_a_failure_while_writing_leaves_the_database_as_before(tmp_path, monkeypatch):
    original = polisen._Statements.insert
    calls = []

    def insert_then_fail(self, rows, step):
        calls.append(len(rows))
        if len(calls) == 2:  # the reports are written, the events not yet
            raise RuntimeError("the machine went down")
        return original(self, rows, step)

    monkeypatch.setattr(polisen._Statements, "insert", insert_then_fail)
    with pytest.raises(RuntimeError):
        polisen_import(data=write(tmp_path, events()).read_bytes())
    assert calls[0] == 11
    assert Incident.objects.count() == 0 and PolisenEvent.objects.count() == 0


# --- refusals: exit code 2, every error named, nothing written --------------------------------------------------------


@pytest.mark.django_db
def test_truncated_json_array(tmp_path):
    text = json.dumps(events(), ensure_ascii=False, indent=1)
    err = refused(write(tmp_path, text[: len(text) // 2]))
    assert "ogiltig JSON" in err and "avkortad" in err
    assert err.startswith(f"rad {text[: len(text) // 2].count(chr(10)) + 1}")


@pytest.mark.django_db
def test_broken_json_lines_name_their_line_numbers(tmp_path):
    lines = jsonl(events()).splitlines()
    lines[3] = lines[3][:-10]
    lines[7] = "{id: 5}"
    err = refused(write(tmp_path, "\n".join(lines)))
    assert "rad 4: ogiltig JSON" in err and "rad 8: ogiltig JSON" in err


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["id", "datetime", "type", "name", "location"])
def test_missing_required_field(tmp_path, field):
    items = events()
    del items[2][field]
    err = refused(write(tmp_path, items))
    assert f"rad 3, fält '{field}': saknas." in err


@pytest.mark.django_db
def test_bad_values_are_all_reported_with_their_rows(tmp_path):
    items = events()
    items[0]["datetime"] = "2026-08-09 18.50"
    items[1]["id"] = "abc"
    items[2]["location"] = {"gps": "55.99,13.59"}
    items[3]["type"] = 42
    items[4]["name"] = "x" * 600
    items.append("inte ett objekt")
    err = refused(write(tmp_path, items))
    assert "rad 1, fält 'datetime': '2026-08-09 18.50' är ingen tid" in err and "(händelse 900001)" in err
    assert "rad 2, fält 'id': ska vara ett positivt heltal" in err
    assert "rad 3, fält 'location.name': saknas." in err
    assert "rad 4, fält 'type': ska vara text" in err
    assert "rad 5, fält 'name': är för långt (600 tecken, högst 500)." in err
    assert "rad 16: händelsen ska vara ett JSON-objekt" in err
    with pytest.raises(ImportFailed) as exc:
        polisen_import(data=json.dumps(items).encode())
    assert [(e.row, e.field) for e in exc.value.errors] == [
        (1, "datetime"),
        (2, "id"),
        (3, "location.name"),
        (4, "type"),
        (5, "name"),
        (16, None),
    ]


@pytest.mark.django_db
def test_one_bad_event_stops_the_good_ones_too(tmp_path):
    run(write(tmp_path, events()[:3], "first.json"))
    items = events()
    by_id(items, 900001)["summary"] = "Ändrad."
    items[-1]["datetime"] = "igår"
    refused(write(tmp_path, items))
    assert PolisenEvent.objects.count() == 3
    assert incident(900001).description != "Ändrad."


@pytest.mark.django_db
def test_text_that_is_not_utf8(tmp_path):
    err = refused(write(tmp_path, json.dumps(events(), ensure_ascii=False).encode("cp1252")))
    assert "inte kodad som UTF-8" in err and "rad 1" in err
    err = refused(write(tmp_path, json.dumps(events(), ensure_ascii=False).encode("utf-16")))
    assert "UTF-16" in err


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [b"", b"  \n\n", gzip.compress(b"", mtime=0)], ids=["empty", "blank", "gzip"])
def test_empty_file(tmp_path, payload):
    assert "Filen är tom" in refused(write(tmp_path, payload))


@pytest.mark.django_db
def test_truncated_gzip(tmp_path):
    packed = gzip.compress(jsonl(events()).encode())
    assert "gzip" in refused(write(tmp_path, packed[: len(packed) // 2]))


@pytest.mark.django_db
def test_not_json_at_all(tmp_path):
    err = refused(write(tmp_path, "<html><body>Tjänsten är inte tillgänglig</body></html>"))
    assert "rad 1: ogiltig JSON" in err and "JSON Lines" in err


@pytest.mark.django_db
def test_unknown_municipality_and_missing_file(tmp_path):
    path = write(tmp_path, events())
    assert "'Atlantis' är ingen kommun" in refused(path, "--municipality", "Ystad", "Atlantis")
    assert "finns inte" in refused(tmp_path / "saknas.json")
    assert "är en mapp" in refused(tmp_path)


# --- fetching ---------------------------------------------------------------------------------------------------------


class FakeApi:
    def __init__(self, body: bytes | Exception) -> None:
        self.body = body
        self.requests: list[tuple[str, dict, float]] = []

    def __call__(self, url, headers, timeout):
        self.requests.append((url, dict(headers), timeout))
        if isinstance(self.body, Exception):
            raise self.body
        return self.body


def fetch(monkeypatch, api: FakeApi, *args: str) -> str:
    monkeypatch.setattr(polisen, "urllib_get", api)
    out = io.StringIO()
    call_command("fetch", "polisen", "--quiet", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def age_last_fetch(seconds: float) -> None:
    last = ImportRecord.objects.latest("created_at")
    ImportRecord.objects.filter(pk=last.pk).update(created_at=last.created_at - dt.timedelta(seconds=seconds))


@pytest.mark.django_db
def test_fetch_asks_politely_and_imports(monkeypatch, settings):
    settings.SAMVERKAN_CONTACT = "trygghet@ystad.se"
    api = FakeApi(gzip.compress(json.dumps(events()).encode()))
    out = fetch(monkeypatch, api)
    assert "15 nya" in out
    [(url, headers, timeout)] = api.requests
    assert url == "https://polisen.se/api/events"
    assert headers["User-Agent"].startswith("Samverkan/") and "trygghet@ystad.se" in headers["User-Agent"]
    assert timeout > 0
    record = ImportRecord.objects.get()
    assert record.kind == "polisen" and record.status == ImportStatus.DONE and record.summary["created"] == 15
    assert PolisenEvent.objects.count() == 15


@pytest.mark.django_db
def test_fetch_without_a_contact_setting(monkeypatch, settings):
    if hasattr(settings, "SAMVERKAN_CONTACT"):
        del settings.SAMVERKAN_CONTACT
    api = FakeApi(json.dumps(events()[:1]).encode())
    fetch(monkeypatch, api)
    assert api.requests[0][1]["User-Agent"].startswith("Samverkan/")


@pytest.mark.django_db
def test_fetch_at_most_once_a_minute(monkeypatch):
    api = FakeApi(json.dumps(events()).encode())
    fetch(monkeypatch, api)
    with pytest.raises(CommandError) as exc:
        fetch(monkeypatch, api)
    assert exc.value.returncode == 3 and "Vänta" in str(exc.value)
    assert len(api.requests) == 1
    age_last_fetch(61)
    out = fetch(monkeypatch, api)
    assert "15 oförändrade" in out and len(api.requests) == 2
    # A longer interval is honoured; a shorter one than a minute is refused outright.
    age_last_fetch(61)
    with pytest.raises(CommandError) as exc:
        fetch(monkeypatch, api, "--min-interval", "300")
    assert exc.value.returncode == 3
    with pytest.raises(CommandError) as exc:
        fetch(monkeypatch, api, "--min-interval", "10")
    assert exc.value.returncode == 2 and "minst 60" in str(exc.value)
    assert len(api.requests) == 2
    with pytest.raises(ValueError):
        polisen_fetch(min_interval=30, http_get=api)


@pytest.mark.django_db
def test_fetch_failures_write_no_events(monkeypatch):
    with pytest.raises(CommandError) as exc:
        fetch(monkeypatch, FakeApi(OSError("Name or service not known")))
    assert exc.value.returncode == 1 and "Kunde inte hämta" in str(exc.value)
    assert ImportRecord.objects.get().status == ImportStatus.FAILED
    age_last_fetch(61)
    with pytest.raises(CommandError) as exc:
        fetch(monkeypatch, FakeApi(b'[{"id": 1, "name": "tre'))
    assert exc.value.returncode == 2
    failed = ImportRecord.objects.latest("created_at")
    assert failed.status == ImportStatus.FAILED and "ogiltig JSON" in failed.errors[0]["message"]
    assert PolisenEvent.objects.count() == 0 and Incident.objects.count() == 0


@pytest.mark.django_db
def test_fetch_service_takes_its_http_function(monkeypatch):
    api = FakeApi(json.dumps(events()).encode())
    summary = polisen_fetch(http_get=api, municipalities=["Ystad"], dry_run=True)
    assert summary.dry_run and summary.created == 9 and PolisenEvent.objects.count() == 0
    assert ImportRecord.objects.get().status == ImportStatus.CHECKED


# --- the real data ----------------------------------------------------------------------------------------------------


@needs_data
@pytest.mark.django_db
def test_ystad_events_all_resolve_to_ystad(tmp_path):
    summary = polisen_import(data=(DATA / "ystad_events.json").read_bytes())
    assert summary.created == summary.total == 216
    assert set(PolisenEvent.objects.values_list("municipality__code", flat=True)) == {"1286"}
    assert Incident.objects.filter(municipality__code="1286").count() == Incident.objects.count() == 216
    assert summary.extra["county_level"] == 0


@needs_data
@pytest.mark.slow
@pytest.mark.django_db
def test_the_whole_archive_imports_without_errors():
    data = (DATA / "polisen_events_2022-09_to_2026-08.jsonl.gz").read_bytes()
    started = time.perf_counter()
    summary = polisen_import(data=data)
    assert summary.total == summary.created == PolisenEvent.objects.count() == 85_011
    assert not summary.errors and summary.rejected == 0
    assert summary.extra["time_from_published"] == 0
    # Every event located at a kommun keeps it; county-level events are those without a kommun in their name.
    assert not PolisenEvent.objects.filter(municipality=None).exclude(location_name__endswith=" län").exists()
    assert Incident.objects.count() == summary.extra["incidents_created"] > 60_000
    again = polisen_import(data=data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 85_011)
    assert time.perf_counter() - started < 60
