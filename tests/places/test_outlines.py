import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from samverkan.places.models import Municipality
from tests.factories import square

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sweden-geo"


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def feature(code, geometry):
    return {"type": "Feature", "properties": {"id": code}, "geometry": geometry}


def test_load_and_reload(db, tmp_path):
    path = tmp_path / "k.geojson"
    path.write_text(
        json.dumps(collection(feature("1286", square(13.9, 55.5, 0.2)), feature(1291, square(14.3, 55.6, 0.1))))
    )
    call_command("import_municipality_outlines", str(path))
    assert Municipality.objects.get(code="1286").geometry["type"] == "Polygon"
    assert Municipality.objects.get(code="1291").geometry is not None  # numeric code 1291 → "1291"
    call_command("import_municipality_outlines", str(path))


def test_refuses_unknown_codes_and_foreign_coordinates_writing_nothing(db, tmp_path):
    path = tmp_path / "k.geojson"
    path.write_text(
        json.dumps(
            collection(
                feature("1286", square(13.9, 55.5, 0.2)),
                feature("9999", square(13, 55, 0.1)),
                feature("1291", square(425300, 6143200, 100)),
            )
        )
    )
    with pytest.raises(CommandError) as info:
        call_command("import_municipality_outlines", str(path))
    assert info.value.returncode == 2
    assert not Municipality.objects.exclude(geometry=None).exists()


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the kommun outlines are not at {SHARED}")
def test_all_290_from_the_open_file(db):
    call_command("import_municipality_outlines", str(SHARED / "okfse_swedish_municipalities.geojson"), "--approximate")
    assert Municipality.objects.exclude(geometry=None).count() == 290


def test_reporting_without_outlines_says_why(world):
    import datetime as dt

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from samverkan.incidents.models import Category
    from samverkan.incidents.services import incident_create

    Municipality.objects.update(geometry=None)
    with pytest.raises(ValidationError) as info:
        incident_create(
            user=world.users["kommun_rapportor"],
            category=Category.objects.get(code="klotter", municipality=None),
            lon=13.82,
            lat=55.43,
            occurred_from=timezone.now() - dt.timedelta(minutes=5),
        )
    assert "import_municipality_outlines" in str(info.value)
