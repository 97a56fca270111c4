import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "municipalities.csv"


def load(apps, schema_editor):
    Municipality = apps.get_model("places", "Municipality")
    existing = set(Municipality.objects.values_list("code", flat=True))
    with DATA.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["code"] not in existing]
    Municipality.objects.bulk_create(
        [Municipality(code=r["code"], name=r["name"], county=r["county"]) for r in rows]
    )


class Migration(migrations.Migration):
    dependencies = [("places", "0001_municipalities_and_versioned_areas")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
