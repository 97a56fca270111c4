"""Reports from CSV and Excel with a TOML mapping: reading, validation, refusals, upserts, the command."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from samverkan.imports.base import ImportFailed
from samverkan.imports.mapping import parse_mapping
from samverkan.imports.tabular import incidents_import, parse_date, parse_datetime_text, parse_time
from samverkan.incidents.models import Incident, Source
from samverkan.incidents.screening import redact
from samverkan.places.geo import point_to_sweref
from samverkan.places.models import Municipality
from samverkan.places.services import area_create
from tests.factories import YSTAD, square

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "samverkan" / "imports" / "examples"
STOCKHOLM = ZoneInfo("Europe/Stockholm")

HEADER = ["Id", "Kategori", "Datum", "Tid", "Lat", "Lon", "Beskrivning", "Polisanmäld"]
MAPPING = """
source_key = "test-est"
organisation = "Ystads kommun"
municipality = "1286"

[columns]
external_id = "Id"
category = "Kategori"
date = "Datum"
time = "Tid"
lat = "Lat"
lon = "Lon"
description = "Beskrivning"
police_reported = "Polisanmäld"

[categories]
"Klotter" = "klotter"
"Skadegörelse" = "skadegorelse"
"""


def row(
    n: int,
    *,
    category: str = "Klotter",
    date: str = "2024-05-03",
    time: str = "21:30",
    lat: str = "55,4295",
    lon: str = "13,8200",
    description: str = "Klotter på väggen vid Östra torget",
    police: str = "nej",
) -> list[str]:
    return [f"A-{n}", category, date, time, lat, lon, description, police]


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    delimiter: str = ";",
    encoding: str = "utf-8",
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(path: Path, mapping: str = MAPPING, **options):
    return incidents_import(path=path, mapping=parse_mapping(mapping, name="test.toml"), **options)


def failure(path: Path, mapping: str = MAPPING, **options) -> list[str]:
    with pytest.raises(ImportFailed) as caught:
        run(path, mapping, **options)
    return [str(e) for e in caught.value.errors]


def imported() -> list[Incident]:
    return list(Incident.objects.filter(source=Source.CSV).order_by("external_id"))


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=STOCKHOLM)


# --- formats ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_encodings_and_separators_are_detected(world, tmp_path, encoding, delimiter):
    path = write_csv(
        tmp_path / "export.csv", [row(1), row(2, category="Skadegörelse")], delimiter=delimiter, encoding=encoding
    )
    summary = run(path)
    assert summary.created == 2
    klotter, skadegorelse = imported()
    assert klotter.description == "Klotter på väggen vid Östra torget"
    assert skadegorelse.category.code == "skadegorelse"
    assert klotter.lat == 55.4295 and klotter.lon == 13.82
    expected_encoding = {"utf-8": "UTF-8,", "utf-8-sig": "UTF-8 med BOM", "cp1252": "cp1252"}[encoding]
    expected_delimiter = {";": "semikolon", ",": "komma", "\t": "tabb"}[delimiter]
    assert expected_encoding in summary.extra["details"] and expected_delimiter in summary.extra["details"]


def test_a_forced_encoding_that_does_not_fit_is_refused_clearly(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1)], encoding="cp1252")
    errors = failure(path, MAPPING + '\n[file]\nencoding = "utf-8"\n')
    assert len(errors) == 1 and "går inte att läsa som UTF-8" in errors[0]
    assert run(path, MAPPING + '\n[file]\nencoding = "cp1252"\ndelimiter = ";"\n').created == 1


@pytest.mark.parametrize("lat,lon", [("55,4295", "13,82"), ("55.4295", "13.82"), (" 55,4295 ", "13,820")])
def test_decimal_commas_and_points(world, tmp_path, lat, lon):
    run(write_csv(tmp_path / "export.csv", [row(1, lat=lat, lon=lon)]))
    (incident,) = imported()
    assert (incident.lat, incident.lon) == (55.4295, 13.82)
    assert (incident.x, incident.y) == pytest.approx(point_to_sweref(13.82, 55.4295))


@pytest.mark.parametrize(
    "date,time",
    [
        ("2024-05-03", "21:30"),
        ("2024-05-03", "21.30"),
        ("2024-05-03", "kl 21.30"),
        ("2024-05-03 21:30", ""),
        ("2024-05-03T21:30", ""),
        ("2024-05-03 21:30:00", ""),
        ("3/5 2024", "21.30"),
        ("3/5 2024 21:30", ""),
        ("03.05.2024", "21.30"),
        ("03.05.2024 21.30", ""),
    ],
)
def test_iso_and_swedish_dates_and_times(world, tmp_path, date, time):
    run(write_csv(tmp_path / "export.csv", [row(1, date=date, time=time)]))
    (incident,) = imported()
    assert incident.occurred_from == local(2024, 5, 3, 21, 30)
    assert incident.occurred_to is None


def test_a_date_without_a_time_is_a_window_over_the_whole_day(world, tmp_path):
    run(write_csv(tmp_path / "export.csv", [row(1, date="2024-03-31", time="")]))
    (incident,) = imported()
    # The last Sunday of March: the clocks go forward, and the window still covers the local day.
    assert incident.occurred_from == local(2024, 3, 31, 0, 0)
    assert incident.occurred_to == local(2024, 3, 31, 23, 59)


def test_an_end_time_earlier_than_the_start_runs_over_midnight(world, tmp_path):
    header = [*HEADER, "Till"]
    mapping = MAPPING.replace('time = "Tid"', 'time = "Tid"\nend_time = "Till"')
    rows = [[*row(1, time="22:00"), "01.30"], [*row(2, time="22:00"), "2024-05-03 20:00"]]
    errors = failure(write_csv(tmp_path / "export.csv", rows, header=header), mapping)
    assert errors == ["rad 3, fält 'Till': sluttiden ligger före starttiden"]
    run(write_csv(tmp_path / "export.csv", rows[:1], header=header), mapping)
    (incident,) = imported()
    assert incident.occurred_to == local(2024, 5, 4, 1, 30)


def test_reported_at_defaults_to_the_occurrence(world, tmp_path):
    header = [*HEADER, "Rapporterad"]
    mapping = MAPPING.replace('time = "Tid"', 'time = "Tid"\nreported_at = "Rapporterad"')
    run(write_csv(tmp_path / "export.csv", [[*row(1), "6/5 2024 08.15"], [*row(2), ""]], header=header), mapping)
    first, second = imported()
    assert first.reported_at == local(2024, 5, 6, 8, 15)
    assert second.reported_at == second.occurred_from == local(2024, 5, 3, 21, 30)


def test_value_parsers():
    assert parse_date("2024-5-3") == dt.date(2024, 5, 3)
    assert parse_date("20240503") == dt.date(2024, 5, 3)
    assert parse_time("2130") == dt.time(21, 30)
    assert parse_time("21:30:15") == dt.time(21, 30, 15)
    assert parse_datetime_text("2024-05-03 kl 21.30") == (dt.date(2024, 5, 3), dt.time(21, 30))
    for bad in ("2024-02-30", "31/4 2024", "3 maj 2024", "0024-05-03"):
        with pytest.raises(ValueError):
            parse_date(bad)
    for bad in ("25:00", "21:75", "halv tio"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_xlsx_with_excel_dates_times_and_numbers(world, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([1001, "Klotter", dt.datetime(2024, 5, 3), dt.time(21, 30), 55.4295, 13.82, "Klotter på skolan", "x"])
    sheet.append([1002, "Skadegörelse", dt.datetime(2024, 5, 4, 2, 15), None, "55,4301", "13,8122", None, True])
    sheet.append([None] * len(HEADER))  # an empty row at the end, as Excel leaves them
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    summary = run(path)
    assert summary.created == 2
    assert summary.extra["format"] == "Excel"
    first, second = imported()
    assert first.external_id == "test-est:1001"  # not "1001.0"
    assert first.occurred_from == local(2024, 5, 3, 21, 30)
    assert first.police_reported is True
    assert second.occurred_from == local(2024, 5, 4, 2, 15)
    assert (second.lat, second.lon) == (55.4301, 13.8122)
    assert second.description == ""


def test_xlsx_errors_name_the_excel_row(world, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([1, "Klotter", "2024-05-03", "21:30", 55.4295, 13.82, "", "nej"])
    sheet.append([2, "Klotter", "2024-02-31", "21:30", 55.4295, 13.82, "", "nej"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    assert failure(path) == ["rad 3, fält 'Datum': ogiltigt datum '2024-02-31'"]


# --- coordinates ------------------------------------------------------------------------------------------------


def test_swapped_axes_are_named(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1), row(2, lat="13,8", lon="55,4")])
    assert failure(path) == ["rad 3, fält 'Lat': lat och lon verkar ombytta (lat 13.8, lon 55.4)"]


def test_points_outside_sweden_and_outside_the_municipality_are_refused(world, tmp_path):
    path = write_csv(
        tmp_path / "export.csv",
        [row(1, lat="52,52", lon="13,40"), row(2, lat="59,33", lon="18,07"), row(3)],
    )
    errors = failure(path)
    assert errors[0].startswith("rad 2, fält 'Lat': punkten ligger utanför Sverige")
    assert errors[1].startswith("rad 3, fält 'Lat': punkten ligger utanför Ystad")
    assert len(errors) == 2


SWEREF_MAPPING = MAPPING.replace('lat = "Lat"\nlon = "Lon"', 'x = "E"\ny = "N"')


def test_sweref_coordinates(world, tmp_path):
    header = ["Id", "Kategori", "Datum", "Tid", "E", "N", "Beskrivning", "Polisanmäld"]
    path = write_csv(tmp_path / "export.csv", [row(1, lat="425 300,5", lon="6143200")], header=header)
    run(path, SWEREF_MAPPING)
    (incident,) = imported()
    assert (incident.x, incident.y) == (425300.5, 6143200.0)
    assert incident.lon == pytest.approx(13.8205, abs=0.001) and incident.lat == pytest.approx(55.4295, abs=0.001)


def test_sweref_swapped_and_degrees_are_named(world, tmp_path):
    header = ["Id", "Kategori", "Datum", "Tid", "E", "N", "Beskrivning", "Polisanmäld"]
    rows = [row(1, lat="6143200", lon="425300"), row(2, lat="13,82", lon="55,43"), row(3, lat="150000", lon="6143200")]
    errors = failure(write_csv(tmp_path / "export.csv", rows, header=header), SWEREF_MAPPING)
    assert "rad 2, fält 'E': nordlig och östlig koordinat verkar ombytta" in errors[0]
    assert "rad 3, fält 'E': koordinaterna ser ut att vara grader (WGS84)" in errors[1]
    assert "rad 4, fält 'E': punkten ligger utanför Sverige" in errors[2]


def test_named_places_are_matched_to_areas(world, tmp_path):
    header = [*HEADER, "Plats"]
    mapping = MAPPING.replace('lon = "Lon"', 'lon = "Lon"\nplace = "Plats"')
    rows = [[*row(1, lat="", lon=""), "centrum"], [*row(2, lat="", lon=""), "Nowhere"], [*row(3, lat="", lon=""), ""]]
    errors = failure(write_csv(tmp_path / "export.csv", rows, header=header), mapping)
    assert errors == [
        "rad 3, fält 'Plats': inget område i Ystad heter 'Nowhere'",
        "rad 4: position saknas (lat och lon eller platsnamn)",
    ]
    run(write_csv(tmp_path / "export.csv", rows[:1], header=header), mapping)
    (incident,) = imported()
    assert incident.precision == "area"
    assert (incident.lon, incident.lat) == pytest.approx(YSTAD)
    assert list(incident.areas.values_list("name", flat=True)) == ["Centrum"]


def test_a_municipality_without_outline_skips_the_check_with_a_note(world, tmp_path):
    skurup = Municipality.objects.get(code="1264")
    assert not skurup.geometry
    world.kommun.municipalities.add(skurup)
    mapping = MAPPING.replace('municipality = "1286"', 'municipality = "Skurups kommun"')
    summary = run(write_csv(tmp_path / "export.csv", [row(1, lat="55,48", lon="13,50")]), mapping)
    assert summary.created == 1
    assert any("Skurup saknar kommungräns" in note for note in summary.notes)


def test_points_get_the_areas_they_lie_in(world, tmp_path):
    run(write_csv(tmp_path / "export.csv", [row(1), row(2, lat="55,48", lon="13,75")]))
    inside, outside = imported()
    assert list(inside.areas.values_list("name", flat=True)) == ["Centrum"]
    assert not outside.areas.exists()


# --- refusals -----------------------------------------------------------------------------------------------------


def test_a_header_that_does_not_match_lists_missing_and_found_columns(world, tmp_path):
    header = ["Id", "Kategori", "Datum", "Tid", "Latitud", "Lon", "Beskrivning", "Polisanmäld"]
    (error,) = failure(write_csv(tmp_path / "export.csv", [row(1)], header=header))
    assert error.startswith("rad 1: rubrikraden stämmer inte med mappningen. Kolumner som saknas: 'Lat'")
    assert "Kolumner i filen: 'Id', 'Kategori', 'Datum', 'Tid', 'Latitud', 'Lon'" in error


def test_column_names_match_regardless_of_case_and_spaces(world, tmp_path):
    header = [" id ", "KATEGORI", "Datum", "Tid", "Lat", "Lon", "Beskrivning", "Polisanmäld"]
    assert run(write_csv(tmp_path / "export.csv", [row(1)], header=header)).created == 1


def test_an_impossible_date(world, tmp_path):
    errors = failure(write_csv(tmp_path / "export.csv", [row(1), row(2, date="2024-02-31")]))
    assert errors == ["rad 3, fält 'Datum': ogiltigt datum '2024-02-31'"]


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "filen är tom"),
        (b"\xef\xbb\xbf", "filen är tom"),
        (b"\r\n\r\n", "filen är tom"),
        ("Id;Kategori;Datum;Tid;Lat;Lon;Beskrivning;Polisanmäld\r\n".encode(), "inga datarader"),
    ],
)
def test_an_empty_file(world, tmp_path, content, message):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    (error,) = failure(path)
    assert message in error


def test_every_bad_row_is_listed_with_row_field_and_reason(world, tmp_path):
    rows = [
        row(1),
        row(2, category="Grafitti"),
        row(3),
        row(4, date="2024-13-01", lat="fel", police="kanske"),
        row(5, date="2099-01-01"),
        row(3),
    ]
    errors = failure(write_csv(tmp_path / "export.csv", rows))
    assert errors == [
        "rad 3, fält 'Kategori': okänd kategori 'Grafitti' – lägg till den i mappningens [categories]",
        "rad 5, fält 'Datum': ogiltigt datum '2024-13-01'",
        "rad 5, fält 'Lat': ogiltigt tal 'fel'",
        "rad 5, fält 'Polisanmäld': ogiltigt värde 'kanske' – ange ja eller nej (x, 1 och 0 går också)",
        "rad 6, fält 'Datum': tidpunkten '2099-01-01' ligger i framtiden",
        "rad 7, fält 'Id': id 'A-3' finns redan på rad 4",
    ]


def test_nothing_is_written_when_any_row_is_bad(world, tmp_path):
    before = Incident.objects.count()
    failure(write_csv(tmp_path / "export.csv", [row(n) for n in range(1, 50)] + [row(50, date="2024-02-31")]))
    assert Incident.objects.count() == before


def test_a_row_with_more_fields_than_the_header(world, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(";".join(HEADER) + "\n" + ";".join(row(1)) + ";extra\n", encoding="utf-8")
    (error,) = failure(path)
    assert error.startswith("rad 2: raden har 9 fält men rubrikraden 8")


def test_the_organisation_must_exist_and_cover_the_municipality(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1)])
    (error,) = failure(path, MAPPING.replace('"Ystads kommun"', '"Ystad kommun"'))
    assert "organisationen 'Ystad kommun' finns inte" in error
    (error,) = failure(path, MAPPING.replace('"Ystads kommun"', '"Simrishamns kommun"'))
    assert "organisationen 'Simrishamns kommun' arbetar inte i Ystad" in error
    (error,) = failure(path, allowed_municipality_ids=[world.simrishamn.pk])
    assert "du kan inte importera rapporter från 'Ystads kommun' i Ystad" in error


def test_mapping_problems_are_listed_together():
    with pytest.raises(ImportFailed) as caught:
        parse_mapping('source_key = "Ystad EST"\nsensitivity = "hemlig"\ncolour = 1\n[columns]\nlat = "Lat"\n')
    messages = [e.message for e in caught.value.errors]
    assert any("okänd nyckel 'colour'" in m for m in messages)
    assert any("source_key 'Ystad EST'" in m for m in messages)
    assert any("organisation saknas" in m for m in messages)
    assert any("sensitivity 'hemlig' är okänd" in m for m in messages)
    assert any("lat kräver lon" in m for m in messages)
    assert any("date (eller datetime) saknas" in m for m in messages)
    with pytest.raises(ImportFailed, match="inte giltig TOML"):
        parse_mapping("source_key = \n")


def test_unknown_category_codes_in_the_mapping_are_refused(world, tmp_path):
    (error,) = failure(write_csv(tmp_path / "export.csv", [row(1)]), MAPPING + '"Graffiti" = "grafitti"\n')
    assert "[categories] 'graffiti' pekar på kategorikoden 'grafitti', som inte finns" in error


def test_default_category_takes_unknown_values_and_counts_them(world, tmp_path):
    mapping = MAPPING.replace('municipality = "1286"', 'municipality = "1286"\ndefault_category = "ovrigt"')
    summary = run(write_csv(tmp_path / "export.csv", [row(1, category="Grafitti"), row(2, category="Övrigt")]), mapping)
    assert [i.category.code for i in imported()] == ["ovrigt", "ovrigt"]
    assert summary.unknown_types == {"Grafitti": 1}  # "Övrigt" is the category's own Swedish name


# --- skipping invalid rows --------------------------------------------------------------------------------------


def test_skip_invalid_writes_the_valid_rows_and_the_rejects_file(world, tmp_path):
    path = write_csv(
        tmp_path / "export.csv",
        [row(1), row(2, date="2024-02-31"), row(3), row(4, lat="13,8", lon="55,4", category="Grafitti")],
        encoding="cp1252",
    )
    summary = run(path, skip_invalid=True)
    assert (summary.created, summary.rejected) == (2, 2)
    assert [i.external_id for i in imported()] == ["test-est:A-1", "test-est:A-3"]
    rejects = tmp_path / "export.rejects.csv"
    assert summary.extra["rejects_path"] == str(rejects)
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == [*HEADER, "rad", "fel"]
    assert lines[1][:8] == row(2, date="2024-02-31") and lines[1][8] == "3"
    assert lines[1][9] == "Datum: ogiltigt datum '2024-02-31'"
    assert lines[2][8] == "5" and "Kategori: okänd kategori 'Grafitti'" in lines[2][9] and "ombytta" in lines[2][9]
    assert len(lines) == 3


def test_skip_invalid_on_a_dry_run_writes_no_rejects_file(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1), row(2, date="2024-02-31")])
    summary = run(path, skip_invalid=True, dry_run=True)
    assert (summary.created, summary.rejected) == (1, 1)
    assert not (tmp_path / "export.rejects.csv").exists()
    assert not imported()


# --- upserts ---------------------------------------------------------------------------------------------------------


def test_a_second_run_changes_nothing(world, tmp_path):
    rows = [row(n) for n in range(1, 4)]
    # The hour the clocks skip and the hour they repeat: local times there must still compare equal when read back.
    rows += [row(4, date="2024-03-31", time="02:30"), row(5, date="2024-10-27", time="02:30")]
    path = write_csv(tmp_path / "export.csv", rows)
    assert run(path).created == 5
    stamps = {i.pk: i.updated_at for i in imported()}
    summary = run(path)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 5)
    assert {i.pk: i.updated_at for i in imported()} == stamps


def test_an_edited_row_is_updated(world, tmp_path):
    rows = [row(n) for n in range(1, 4)]
    run(write_csv(tmp_path / "export.csv", rows))
    before = {i.external_id: i.pk for i in imported()}
    rows[1] = row(2, category="Skadegörelse", lat="55,48", lon="13,75", description="Krossad ruta", police="ja")
    summary = run(write_csv(tmp_path / "export.csv", rows))
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 2)
    edited = Incident.objects.get(external_id="test-est:A-2")
    assert edited.pk == before["test-est:A-2"]
    assert (edited.category.code, edited.description, edited.police_reported) == ("skadegorelse", "Krossad ruta", True)
    assert (edited.x, edited.y) == pytest.approx(point_to_sweref(13.75, 55.48))
    assert not edited.areas.exists()  # moved out of Centrum
    assert list(Incident.objects.get(external_id="test-est:A-1").areas.values_list("name", flat=True)) == ["Centrum"]


def test_dry_run_writes_nothing_but_counts(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1), row(2)])
    before = Incident.objects.count()
    summary = run(path, dry_run=True)
    assert summary.dry_run and summary.created == 2
    assert Incident.objects.count() == before
    run(path)
    summary = run(write_csv(tmp_path / "export.csv", [row(1), row(2, description="Ändrad"), row(3)]), dry_run=True)
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 1)
    assert Incident.objects.get(external_id="test-est:A-2").description == "Klotter på väggen vid Östra torget"


def test_personal_data_is_flagged_and_a_redaction_survives_a_reimport(world, tmp_path):
    text = "Ring 070-123 45 67 om klottret"
    path = write_csv(tmp_path / "export.csv", [row(1, description=text)])
    run(path)
    (incident,) = imported()
    assert [f["kind"] for f in incident.personal_data_flags] == ["phone"]
    incident.description = redact(text)
    incident.personal_data_flags = []
    incident.save()
    summary = run(path)
    assert summary.unchanged == 1
    incident.refresh_from_db()
    assert incident.description == redact(text) and incident.personal_data_flags == []


def test_without_an_id_column_rows_are_identified_by_their_values(world, tmp_path):
    mapping = MAPPING.replace('external_id = "Id"\n', "")
    rows = [row(1), row(1), row(2, description="En annan")]  # the first two are identical: both are kept
    path = write_csv(tmp_path / "export.csv", rows)
    assert run(path, mapping).created == 3
    ids = [i.external_id for i in imported()]
    assert all(i.startswith("test-est:") for i in ids) and len(set(ids)) == 3
    summary = run(path, mapping)
    assert (summary.created, summary.unchanged) == (0, 3)


def test_status_column_and_mapping_constants(world, tmp_path):
    header = [*HEADER, "Status"]
    mapping = MAPPING.replace('municipality = "1286"', 'municipality = "1286"\nsensitivity = "public"')
    mapping = mapping.replace('lon = "Lon"', 'lon = "Lon"\nstatus = "Status"')
    path = write_csv(tmp_path / "export.csv", [[*row(1), "Granskad"], [*row(2), ""]], header=header)
    run(path, mapping)
    first, second = imported()
    assert (first.status, second.status) == ("reviewed", "new")
    assert first.sensitivity == "public" and first.source_organisation == world.kommun and first.reporter is None
    # Review work in Samverkan survives a re-import where the file says nothing about the status.
    Incident.objects.filter(pk=second.pk).update(status="closed")
    assert run(path, mapping).unchanged == 2
    second.refresh_from_db()
    assert second.status == "closed"
    errors = failure(write_csv(tmp_path / "export.csv", [[*row(1), "Kanske"]], header=header), mapping)
    assert errors == ["rad 2, fält 'Status': okänd status 'Kanske' (ny, granskad, åtgärdad eller avslutad)"]


def test_a_status_constant_applies_to_new_reports_only(world, tmp_path):
    mapping = MAPPING.replace('municipality = "1286"', 'municipality = "1286"\nstatus = "granskad"')
    path = write_csv(tmp_path / "export.csv", [row(1)])
    run(path, mapping)
    (incident,) = imported()
    assert incident.status == "reviewed"
    Incident.objects.filter(pk=incident.pk).update(status="closed")
    assert run(path, mapping).unchanged == 1
    incident.refresh_from_db()
    assert incident.status == "closed"


# --- the example and the command ------------------------------------------------------------------------------


def test_the_documented_example_imports(world, tmp_path):
    area_create(municipality=world.ystad, kind="district", name="Sandskogen", geometry=square(13.88, 55.43, 0.02))
    from samverkan.imports.mapping import load_mapping

    summary = incidents_import(path=EXAMPLES / "est-export.csv", mapping=load_mapping(EXAMPLES / "est-export.toml"))
    assert (summary.created, summary.rejected) == (10, 0)
    assert not summary.unknown_types
    by_id = {i.external_id: i for i in imported()}
    assert by_id["ystad-est-2024:EST-2024-0003"].precision == "area"
    assert by_id["ystad-est-2024:EST-2024-0007"].category.code == "otrygg-plats"
    assert by_id["ystad-est-2024:EST-2024-0004"].occurred_to == local(2024, 5, 11, 1, 30)


def test_the_command_imports_and_reports(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1), row(2)])
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    out = io.StringIO()
    call_command("import", "incidents", str(path), "--mapping", str(mapping), "--dry-run", "--quiet", stdout=out)
    assert "Provkörning – inget sparades: 2 poster lästa, 2 nya" in out.getvalue()
    assert not imported()
    call_command("import", "incidents", str(path), "--mapping", str(mapping), "--quiet", stdout=out)
    assert len(imported()) == 2


def test_the_command_exits_with_2_and_lists_the_errors(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1, date="2024-02-31"), row(2, lat="13,8", lon="55,4")])
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "incidents", str(path), "--mapping", str(mapping), "--quiet", stderr=err)
    assert caught.value.returncode == 2
    assert "2 fel. Inget sparades" in str(caught.value)
    printed = err.getvalue()
    assert "rubrikraden är rad 1, första dataraden rad 2" in printed
    assert "rad 2, fält 'Datum': ogiltigt datum '2024-02-31'" in printed
    assert "rad 3, fält 'Lat': lat och lon verkar ombytta" in printed
    assert not imported()


def test_the_command_skips_invalid_rows_when_asked(world, tmp_path):
    path = write_csv(tmp_path / "export.csv", [row(1), row(2, date="2024-02-31")])
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    args = [str(path), "--mapping", str(mapping), "--skip-invalid", "--quiet"]
    call_command("import", "incidents", *args, stdout=out, stderr=err)
    assert "1 nya, 0 ändrade, 0 oförändrade, 1 avvisade" in out.getvalue()
    assert "Avvisad: rad 3, fält 'Datum': ogiltigt datum '2024-02-31'" in err.getvalue()
    assert (tmp_path / "export.rejects.csv").exists()
    assert [i.external_id for i in imported()] == ["test-est:A-1"]


def test_the_command_refuses_a_missing_file_or_mapping(world, tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    for args in (
        [str(tmp_path / "missing.csv"), "--mapping", str(mapping)],
        [str(mapping), "--mapping", str(tmp_path / "missing.toml")],
    ):
        with pytest.raises(CommandError) as caught:
            call_command("import", "incidents", *args, "--quiet", stderr=io.StringIO())
        assert caught.value.returncode == 2
