"""Areas from GeoJSON and GeoPackage: reading, reprojection, versioning, re-linking of reports, and every refusal."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.utils import timezone
from pyogrio.raw import write as write_raw
from shapely.geometry import shape

from samverkan.imports.areas import areas_import
from samverkan.imports.base import ImportFailed
from samverkan.incidents.models import Precision
from samverkan.places.models import Area
from tests.factories import YSTAD, IncidentFactory, square

# Ystad town centre in SWEREF 99 TM (EPSG:3006) and the same spot in WGS84.
YSTAD_E, YSTAD_N = 425_300.0, 6_143_200.0
YSTAD_LON, YSTAD_LAT = 13.8200, 55.4295


def feature(props: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write_geojson(path: Path, features: list[dict], **extra) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", **extra, "features": features}), encoding="utf-8")
    return path


def write_gpkg(path: Path, geoms: list, fields: dict[str, list], *, crs: str | None = "EPSG:3006", layer="deso"):
    write_raw(
        path,
        shapely.to_wkb(np.array(geoms, dtype=object)),
        [np.array(values, dtype=object) for values in fields.values()],
        list(fields),
        layer=layer,
        driver="GPKG",
        geometry_type="Polygon",
        crs=crs,
        append=path.exists(),
    )
    return path


def day(y: int, m: int, d: int, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, hour))


def import_districts(path, **kwargs):
    options = {"kind": "district", "name_field": "namn", "municipality": "Ystad"}
    options.update(kwargs)
    return areas_import(path=path, **options)


def refused(**kwargs) -> list[str]:
    """The error lines of an import that must fail, after checking that nothing was written."""
    before = list(Area.objects.order_by("pk").values_list("pk", "valid_to"))
    with pytest.raises(ImportFailed) as info:
        areas_import(**kwargs)
    assert list(Area.objects.order_by("pk").values_list("pk", "valid_to")) == before
    return [str(e) for e in info.value.errors]


def west_east(tmp_path, east_half=0.01, name="areas.geojson") -> Path:
    """Two districts beside Centrum: Väster (west) and Öster (east), ±0.01° squares."""
    return write_geojson(
        tmp_path / name,
        [
            feature({"namn": "Väster", "kod": "V"}, square(YSTAD[0] - 0.03, YSTAD[1], 0.01)),
            feature({"namn": "Öster", "kod": "O"}, square(YSTAD[0] + 0.03, YSTAD[1], east_half)),
        ],
    )


def test_geojson_in_wgs84_creates_areas_and_links_reports(world, tmp_path):
    inside = IncidentFactory(municipality=world.ystad, lon=YSTAD[0] - 0.03, lat=YSTAD[1], occurred_from=day(2024, 5, 1))
    before = IncidentFactory(municipality=world.ystad, lon=YSTAD[0] - 0.03, lat=YSTAD[1], occurred_from=day(2023, 5, 1))
    vague = IncidentFactory(
        municipality=world.ystad, lon=YSTAD[0] - 0.03, lat=YSTAD[1], occurred_from=day(2024, 5, 1),
        precision=Precision.MUNICIPALITY,
    )  # fmt: skip
    summary = import_districts(west_east(tmp_path), code_field="kod", valid_from=dt.date(2024, 1, 1))

    assert (summary.created, summary.updated, summary.unchanged, summary.total) == (2, 0, 0, 2)
    west = Area.objects.get(name="Väster")
    assert (west.kind, west.code, west.municipality, west.valid_from, west.valid_to) == (
        "district",
        "V",
        world.ystad,
        dt.date(2024, 1, 1),
        None,
    )
    assert west.source == "areas.geojson"
    assert shape(west.geometry).symmetric_difference(shape(square(YSTAD[0] - 0.03, YSTAD[1], 0.01))).area < 1e-12
    assert (west.min_lon, west.max_lat) == pytest.approx((YSTAD[0] - 0.04, YSTAD[1] + 0.01))
    assert list(inside.areas.all()) == [west]
    assert list(before.areas.all()) == []  # it happened before the area existed
    assert list(vague.areas.all()) == []  # no point to test
    assert summary.extra["incidents_relinked"] == 1
    # Centrum (also a Ystad district) is not in the file: reported, left current.
    assert Area.objects.get(name="Centrum").valid_to is None
    assert any("1 område finns inte i filen och lämnas orört: Centrum" in note for note in summary.notes)


def test_valid_from_defaults_to_today(world, tmp_path):
    summary = import_districts(west_east(tmp_path))
    assert Area.objects.get(name="Väster").valid_from == timezone.localdate()
    assert summary.extra["valid_from"] == timezone.localdate().isoformat()
    assert any("--valid-from" in note for note in summary.notes)


def test_first_areas_of_a_kind_cover_the_whole_history(world, tmp_path):
    old = IncidentFactory(municipality=world.ystad, lon=YSTAD[0] - 0.03, lat=YSTAD[1], occurred_from=day(2019, 5, 1))
    summary = import_districts(west_east(tmp_path), kind="zone")
    west = Area.objects.get(name="Väster")
    assert west.valid_from == dt.date(2000, 1, 1)
    assert list(old.areas.all()) == [west]
    assert not any("--valid-from" in note for note in summary.notes)
    # A later change of the same kind starts today, as boundary changes do.
    import_districts(west_east(tmp_path, east_half=0.02, name="changed.geojson"), kind="zone")
    assert Area.objects.get(name="Öster", valid_to=None).valid_from == timezone.localdate()


def test_geopackage_in_sweref_is_reprojected_and_deso_code_gives_the_municipality(world, tmp_path):
    path = write_gpkg(
        tmp_path / "deso.gpkg",
        [shapely.box(YSTAD_E - 300, YSTAD_N - 300, YSTAD_E + 300, YSTAD_N + 300)],
        {"deso": ["1286A0010"], "namn": ["Ystad centrum"]},
    )
    summary = areas_import(path=path, kind="deso", name_field="namn", code_field="deso", valid_from=dt.date(2024, 1, 1))

    assert summary.created == 1
    area = Area.objects.get(kind="deso")
    assert (area.code, area.name, area.municipality) == ("1286A0010", "Ystad centrum", world.ystad)
    centre = shape(area.geometry).centroid
    assert (centre.x, centre.y) == pytest.approx((YSTAD_LON, YSTAD_LAT), abs=0.001)
    # 600 m is about 0.0095° of longitude and 0.0054° of latitude at Ystad.
    assert area.max_lon - area.min_lon == pytest.approx(0.0095, abs=0.0003)
    assert area.max_lat - area.min_lat == pytest.approx(0.0054, abs=0.0003)
    assert summary.extra["crs"] == "EPSG:3006"
    assert any("1286A0010 → 1286 Ystad" in note for note in summary.notes)


def test_municipality_field_with_scb_codes_stored_as_numbers(world, tmp_path):
    path = write_geojson(
        tmp_path / "a.geojson",
        [
            feature({"namn": "Hamnen", "kommun": 1286}, square(YSTAD[0], YSTAD[1] - 0.03, 0.005)),
            feature({"namn": "Hamnen", "kommun": 1291}, square(14.35, 55.556, 0.005)),
        ],
    )
    summary = areas_import(path=path, kind="zone", name_field="namn", municipality_field="kommun")
    assert summary.created == 2
    assert set(Area.objects.filter(name="Hamnen").values_list("municipality__code", flat=True)) == {"1286", "1291"}


def test_second_import_is_unchanged_even_with_rings_turned_around(world, tmp_path):
    path = west_east(tmp_path)
    import_districts(path, code_field="kod", valid_from=dt.date(2024, 1, 1))
    count = Area.objects.count()
    again = import_districts(path, code_field="kod", valid_from=dt.date(2025, 1, 1))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Area.objects.count() == count
    assert Area.objects.get(name="Väster").valid_from == dt.date(2024, 1, 1)

    # The fixture's Centrum, written clockwise from another corner, is the same area.
    ring = square(*YSTAD, 0.01)["coordinates"][0]
    clockwise = {"type": "Polygon", "coordinates": [list(reversed(ring[1:] + ring[1:2]))]}
    centrum = write_geojson(tmp_path / "centrum.geojson", [feature({"namn": "Centrum"}, clockwise)])
    summary = import_districts(centrum)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 1)


def test_changed_boundary_adds_a_version_and_reports_follow_the_dates(world, tmp_path):
    import_districts(west_east(tmp_path), code_field="kod", valid_from=dt.date(2024, 1, 1))
    old = Area.objects.get(name="Öster")
    # Points at the east edge of the old square, which the shrunken boundary no longer covers.
    edge = (YSTAD[0] + 0.038, YSTAD[1])
    early = IncidentFactory(municipality=world.ystad, lon=edge[0], lat=edge[1], occurred_from=day(2024, 6, 1))
    late_out = IncidentFactory(municipality=world.ystad, lon=edge[0], lat=edge[1], occurred_from=day(2025, 6, 1))
    late_in = IncidentFactory(
        municipality=world.ystad, lon=YSTAD[0] + 0.03, lat=YSTAD[1], occurred_from=day(2025, 6, 1)
    )
    # Placed at area level only: it follows its area to the new version.
    late_area = IncidentFactory(
        municipality=world.ystad, lon=YSTAD[0] + 0.03, lat=YSTAD[1], occurred_from=day(2025, 6, 1),
        precision=Precision.AREA,
    )  # fmt: skip
    # 00:30 on 1 January in Stockholm is 23:30 UTC on 31 December: by its local date it belongs to the new version.
    new_year = IncidentFactory(
        municipality=world.ystad, lon=YSTAD[0] + 0.03, lat=YSTAD[1],
        occurred_from=day(2025, 1, 1, hour=0) + dt.timedelta(minutes=30),
    )  # fmt: skip
    for incident in (early, late_out, late_in, late_area, new_year):
        incident.areas.add(old)

    summary = import_districts(
        west_east(tmp_path, east_half=0.005, name="v2.geojson"), code_field="kod", valid_from=dt.date(2025, 1, 1)
    )

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    old.refresh_from_db()
    new = Area.objects.get(name="Öster", valid_to__isnull=True)
    assert new.pk != old.pk
    assert (old.valid_from, old.valid_to) == (dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    assert (new.valid_from, new.code, new.source) == (dt.date(2025, 1, 1), "O", "v2.geojson")
    assert list(early.areas.all()) == [old]
    assert list(late_out.areas.all()) == []
    assert list(late_in.areas.all()) == [new]
    assert list(late_area.areas.all()) == [new]
    assert list(new_year.areas.all()) == [new]
    assert summary.extra["incidents_relinked"] == 4
    assert Area.objects.get(name="Väster").valid_to is None


def test_dry_run_reports_and_writes_nothing(world, tmp_path):
    import_districts(west_east(tmp_path), code_field="kod", valid_from=dt.date(2024, 1, 1))
    old = Area.objects.get(name="Öster")
    incident = IncidentFactory(
        municipality=world.ystad, lon=YSTAD[0] + 0.03, lat=YSTAD[1], occurred_from=day(2025, 6, 1)
    )
    incident.areas.add(old)
    path = write_geojson(
        tmp_path / "v2.geojson",
        [
            feature({"namn": "Öster", "kod": "O"}, square(YSTAD[0] + 0.03, YSTAD[1], 0.005)),
            feature({"namn": "Norr", "kod": "N"}, square(YSTAD[0], YSTAD[1] + 0.03, 0.01)),
        ],
    )
    rows = list(Area.objects.order_by("pk").values_list("pk", "valid_to"))

    summary = import_districts(path, code_field="kod", valid_from=dt.date(2025, 1, 1), end_missing=True, dry_run=True)

    assert summary.dry_run
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 0)
    assert summary.extra["incidents_relinked"] == 1
    assert summary.extra["ended"] == 2  # Väster and Centrum would end
    assert any("skulle avslutas" in note for note in summary.notes)
    assert list(Area.objects.order_by("pk").values_list("pk", "valid_to")) == rows
    assert list(incident.areas.all()) == [old]
    assert summary.lines()[0].startswith("Provkörning – inget sparades: 2 poster lästa, 1 nya, 1 ändrade")


def test_end_missing_ends_absent_areas_and_their_later_links(world, tmp_path):
    centrum = Area.objects.get(name="Centrum")
    earlier = IncidentFactory(municipality=world.ystad, occurred_from=day(2024, 6, 1))
    later = IncidentFactory(municipality=world.ystad, occurred_from=day(2025, 6, 1))
    earlier.areas.add(centrum)
    later.areas.add(centrum)
    path = write_geojson(tmp_path / "a.geojson", [feature({"namn": "Norr"}, square(YSTAD[0], YSTAD[1] + 0.03, 0.01))])

    summary = import_districts(path, valid_from=dt.date(2025, 1, 1), end_missing=True)

    centrum.refresh_from_db()
    assert centrum.valid_to == dt.date(2025, 1, 1)
    assert summary.extra["ended"] == 1
    assert list(earlier.areas.all()) == [centrum]
    assert list(later.areas.all()) == []


def test_codeless_area_gets_its_code_as_a_new_version(world, tmp_path):
    path = write_geojson(tmp_path / "a.geojson", [feature({"namn": "Centrum", "kod": "C1"}, square(*YSTAD, 0.01))])
    summary = import_districts(path, code_field="kod", valid_from=dt.date(2025, 1, 1))
    assert (summary.created, summary.updated) == (0, 1)
    assert Area.objects.get(name="Centrum", valid_to__isnull=True).code == "C1"


def test_invalid_geometry_is_repaired_and_noted(world, tmp_path):
    lon, lat = YSTAD[0], YSTAD[1] - 0.03
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + 0.01, lat + 0.01], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]],
    }
    path = write_geojson(tmp_path / "a.geojson", [feature({"namn": "Fluga"}, bowtie)])
    summary = import_districts(path)
    area = Area.objects.get(name="Fluga")
    geom = shape(area.geometry)
    assert geom.is_valid and geom.geom_type == "MultiPolygon"
    assert geom.area == pytest.approx(0.00005, rel=1e-3)
    assert "1 ogiltig geometri reparerades (objekt 1)." in summary.notes


def test_refuses_a_file_that_is_missing_or_unreadable(world, tmp_path):
    errors = refused(path=tmp_path / "nope.geojson", kind="district", name_field="namn", municipality="1286")
    assert errors == [f"Filen finns inte: {tmp_path / 'nope.geojson'}"]
    junk = tmp_path / "junk.gpkg"
    junk.write_text("inte en geopackage")
    errors = refused(path=junk, kind="district", name_field="namn", municipality="1286")
    assert errors[0].startswith("Filen kunde inte läsas som GeoJSON eller GeoPackage")


def test_refuses_a_file_without_features(world, tmp_path):
    path = write_geojson(tmp_path / "empty.geojson", [])
    assert refused(path=path, kind="district", name_field="namn", municipality="1286") == [
        "Filen innehåller inga objekt."
    ]


def test_refuses_a_missing_name_field_listing_the_fields(world, tmp_path):
    path = write_geojson(tmp_path / "a.geojson", [feature({"NAMN_1": "X", "id": 3}, square(*YSTAD, 0.01))])
    errors = refused(path=path, kind="district", name_field="namn", municipality="1286")
    assert errors == ["fält 'namn': Fältet (--name-field) finns inte i filen. Fält som finns: NAMN_1, id."]


def test_finds_a_field_whatever_its_case(world, tmp_path):
    path = write_geojson(tmp_path / "a.geojson", [feature({"NAMN": "Norr"}, square(YSTAD[0], YSTAD[1] + 0.03, 0.01))])
    assert import_districts(path).created == 1


def test_refuses_wrong_geometry_types_and_missing_names_by_feature_number(world, tmp_path):
    path = write_geojson(
        tmp_path / "a.geojson",
        [
            feature({"namn": "Bra"}, square(YSTAD[0], YSTAD[1] + 0.03, 0.01)),
            feature({"namn": "Punkt"}, {"type": "Point", "coordinates": list(YSTAD)}),
            feature({"namn": ""}, square(YSTAD[0], YSTAD[1] - 0.03, 0.01)),
            feature({"namn": "Tom"}, None),
            feature({"namn": "Linje"}, {"type": "LineString", "coordinates": [list(YSTAD), [13.9, 55.5]]}),
            feature({"namn": "Lång" * 51}, square(YSTAD[0] + 0.03, YSTAD[1], 0.01)),
        ],
    )
    errors = refused(path=path, kind="district", name_field="namn", municipality="1286")
    assert errors == [
        "rad 2: Geometrin är Point; bara Polygon och MultiPolygon kan bli områden.",
        "rad 3, fält 'namn': Namn saknas.",
        "rad 4: Geometri saknas.",
        "rad 5: Geometrin är LineString; bara Polygon och MultiPolygon kan bli områden.",
        "rad 6, fält 'namn': Namnet är längre än 200 tecken.",
    ]


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_refuses_a_geopackage_without_a_crs(world, tmp_path):
    path = write_gpkg(
        tmp_path / "nocrs.gpkg",
        [shapely.box(YSTAD_E - 300, YSTAD_N - 300, YSTAD_E + 300, YSTAD_N + 300)],
        {"deso": ["1286A0010"]},
        crs=None,
    )
    errors = refused(path=path, kind="deso", name_field="deso", code_field="deso")
    assert len(errors) == 1 and errors[0].startswith("Filen anger inget koordinatsystem")
    assert "EPSG:3006" in errors[0]


def test_refuses_sweref_numbers_in_a_wgs84_geojson(world, tmp_path):
    box = shapely.box(YSTAD_E - 300, YSTAD_N - 300, YSTAD_E + 300, YSTAD_N + 300)
    path = write_geojson(tmp_path / "a.geojson", [feature({"namn": "Centrum"}, shapely.geometry.mapping(box))])
    errors = refused(path=path, kind="district", name_field="namn", municipality="Ystad")
    assert errors[0].startswith("Koordinaterna ser ut att vara SWEREF 99 TM men filen anger WGS84.")
    assert errors[1].startswith("rad 1: Området ligger utanför Sverige")


def test_a_geojson_declaring_sweref_is_reprojected(world, tmp_path):
    box = shapely.box(YSTAD_E - 300, YSTAD_N - 300, YSTAD_E + 300, YSTAD_N + 300)
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}}
    path = write_geojson(tmp_path / "a.geojson", [feature({"namn": "Mitt"}, shapely.geometry.mapping(box))], crs=crs)
    import_districts(path)
    centre = shape(Area.objects.get(name="Mitt").geometry).centroid
    assert (centre.x, centre.y) == pytest.approx((YSTAD_LON, YSTAD_LAT), abs=0.001)


def test_refuses_areas_outside_sweden(world, tmp_path):
    path = write_geojson(tmp_path / "a.geojson", [feature({"namn": "Berlin"}, square(13.40, 52.52, 0.01))])
    errors = refused(path=path, kind="district", name_field="namn", municipality="Ystad")
    assert errors == ["rad 1: Området ligger utanför Sverige (longitud 13.3900–13.4100, latitud 52.5100–52.5300)."]


def test_refuses_unknown_or_underivable_municipalities(world, tmp_path):
    path = write_geojson(
        tmp_path / "a.geojson",
        [
            feature({"namn": "A", "kommun": "9999", "deso": "9999A0001"}, square(YSTAD[0], YSTAD[1] + 0.03, 0.01)),
            feature({"namn": "B", "kommun": "", "deso": "A0002"}, square(YSTAD[0], YSTAD[1] - 0.03, 0.01)),
        ],
    )
    errors = refused(path=path, kind="zone", name_field="namn", municipality_field="kommun")
    assert errors == ["rad 1, fält 'kommun': Okänd kommun: '9999'.", "rad 2, fält 'kommun': Kommun saknas."]
    errors = refused(path=path, kind="deso", name_field="namn", code_field="deso")
    assert errors[0].startswith("rad 1, fält 'deso': Kommunen kan inte härledas ur '9999A0001'")
    assert errors[1].startswith("rad 2, fält 'deso': Kommunen kan inte härledas ur 'A0002'")
    assert refused(path=path, kind="zone", name_field="namn", municipality="Atlantis") == [
        "fält '--municipality': Okänd kommun: 'Atlantis'."
    ]
    assert refused(path=path, kind="zone", name_field="namn") == [
        "fält '--municipality': Ange kommunen med --municipality eller --municipality-field."
    ]


def test_municipality_by_name_or_code(world, tmp_path):
    path = write_geojson(tmp_path / "a.geojson", [feature({"namn": "Norr"}, square(YSTAD[0], YSTAD[1] + 0.03, 0.01))])
    for value in ("1286", "Ystads kommun", "ystad"):
        Area.objects.filter(name="Norr").delete()
        import_districts(path, municipality=value)
        assert Area.objects.get(name="Norr").municipality == world.ystad


def test_refuses_the_same_code_twice_in_a_file(world, tmp_path):
    path = write_geojson(
        tmp_path / "a.geojson",
        [
            feature({"namn": "A", "kod": "X"}, square(YSTAD[0], YSTAD[1] + 0.03, 0.01)),
            feature({"namn": "B", "kod": "X"}, square(YSTAD[0], YSTAD[1] - 0.03, 0.01)),
        ],
    )
    errors = refused(path=path, kind="district", name_field="namn", code_field="kod", municipality="1286")
    assert errors == ["rad 2, fält 'kod': Samma koden 'X' finns redan på rad 1."]


def test_refuses_a_new_version_that_does_not_start_after_the_current_one(world, tmp_path):
    import_districts(west_east(tmp_path), code_field="kod", valid_from=dt.date(2024, 1, 1))
    path = west_east(tmp_path, east_half=0.005, name="v2.geojson")
    errors = refused(
        path=path,
        kind="district",
        name_field="namn",
        code_field="kod",
        municipality="1286",
        valid_from=dt.date(2024, 1, 1),
    )
    assert errors == [
        "rad 2, fält '--valid-from': Området 'Öster' har en gällande version från 2024-01-01; den nya versionen "
        "måste börja senare än så (nu 2024-01-01)."
    ]


def test_several_layers_need_a_choice(world, tmp_path):
    path = tmp_path / "two.gpkg"
    box = shapely.box(YSTAD_E - 300, YSTAD_N - 300, YSTAD_E + 300, YSTAD_N + 300)
    write_gpkg(path, [box], {"deso": ["1286A0010"]}, layer="deso")
    write_gpkg(path, [box], {"regso": ["1286R001"]}, layer="regso")
    errors = refused(path=path, kind="deso", name_field="deso", code_field="deso")
    assert errors == ["Filen har flera lager (deso, regso); välj ett med --layer."]
    errors = refused(path=path, kind="deso", name_field="deso", layer="kommun")
    assert errors == ["Lagret 'kommun' finns inte i filen. Lager med geometri: deso, regso."]
    summary = areas_import(path=path, kind="regso", name_field="regso", code_field="regso", layer="regso")
    assert summary.created == 1
    assert Area.objects.get(kind="regso").source == "two.gpkg (regso)"


def test_command_imports_and_prints_the_summary(world, tmp_path, capsys):
    path = west_east(tmp_path)
    call_command(
        "import", "areas", str(path), "--kind", "district", "--name-field", "namn", "--code-field", "kod",
        "--municipality", "Ystad", "--valid-from", "2024-01-01", "--quiet",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "Klart: 2 poster lästa, 2 nya, 0 ändrade, 0 oförändrade, 0 avvisade." in out
    assert Area.objects.filter(kind="district", valid_from=dt.date(2024, 1, 1)).count() == 2


def test_command_exits_with_code_2_on_bad_input(world, tmp_path, capsys):
    path = write_geojson(
        tmp_path / "a.geojson", [feature({"namn": "Punkt"}, {"type": "Point", "coordinates": [13.8, 55.4]})]
    )
    with pytest.raises(CommandError) as info:
        call_command("import", "areas", str(path), "--kind", "zone", "--name-field", "namn", "--municipality", "Ystad")
    assert info.value.returncode == 2
    assert "Inget sparades" in str(info.value)
    assert "rad 1: Geometrin är Point" in capsys.readouterr().err

    with pytest.raises(CommandError) as info:
        call_command(
            "import", "areas", str(path), "--kind", "zone", "--name-field", "namn", "--municipality", "Ystad",
            "--valid-from", "1 januari",
        )  # fmt: skip
    assert info.value.returncode == 2
    assert "Ogiltigt datum '1 januari'; skriv ÅÅÅÅ-MM-DD." in capsys.readouterr().err


ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SAMVERKAN_SHARED", ROOT.parent / "shared"))
KOMMUNER = SHARED / "data" / "sweden-geo" / "okfse_swedish_municipalities.geojson"


@pytest.mark.skipif(not KOMMUNER.is_file(), reason=f"shared data not found: {KOMMUNER}")
def test_all_290_kommun_outlines_from_real_data(db, tmp_path):
    summary = areas_import(
        path=KOMMUNER, kind="zone", name_field="kom_namn", code_field="id", municipality_field="id",
        valid_from=dt.date(2024, 1, 1),
    )  # fmt: skip
    assert (summary.created, summary.total) == (290, 290)
    ystad = Area.objects.get(kind="zone", code="1286")
    assert (ystad.name, ystad.municipality.code) == ("Ystad", "1286")
    # The bounding box the data's description gives for Ystad.
    assert (ystad.min_lon, ystad.min_lat, ystad.max_lon, ystad.max_lat) == pytest.approx(
        (13.6266, 55.3713, 14.2168, 55.5721), abs=1e-4
    )
    again = areas_import(path=KOMMUNER, kind="zone", name_field="kom_namn", code_field="id", municipality_field="id")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 290)
