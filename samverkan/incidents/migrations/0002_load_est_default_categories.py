from django.db import migrations

from samverkan.incidents.defaults import CATEGORIES, FOCUS_AREAS


def load(apps, schema_editor):
    FocusArea = apps.get_model("incidents", "FocusArea")
    Category = apps.get_model("incidents", "Category")
    focus = {}
    for order, (code, sv, en) in enumerate(FOCUS_AREAS):
        focus[code], _ = FocusArea.objects.get_or_create(
            code=code, defaults={"name_sv": sv, "name_en": en, "ordering": order}
        )
    for order, (code, sv, en, fa, public) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            code=code,
            municipality=None,
            defaults={"name_sv": sv, "name_en": en, "focus_area": focus[fa], "public": public, "ordering": order},
        )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_reports_categories_focus_areas")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
