"""Categories for the police's open events, beside the EST checklist.

They are shared (no municipality), not open to the public, and inactive: inactive keeps them off the report form's
checklist (rapportörer do not report murders or mountain rescues), while imports still file events under them and
lists can filter by them. Police event types that match an EST category (skadegörelse, brand, stöld/inbrott,
bråk, berusade, ordningsstörning, övrigt) use that one; see ``samverkan/imports/polisen_types.py``.
"""

from django.db import migrations

CATEGORIES = [
    # code, Swedish, English, focus area
    ("trafikolycka", "Trafikolycka", "Traffic accident", "trafik"),
    ("rattfylleri", "Rattfylleri", "Drink or drug driving", "trafik"),
    ("trafikbrott", "Trafikbrott", "Traffic offence", "trafik"),
    ("trafikkontroll", "Trafikkontroll", "Traffic check", "trafik"),
    ("trafikhinder", "Trafikhinder", "Traffic obstruction", "trafik"),
    ("narkotikabrott", "Narkotikabrott", "Drug offence", "droger"),
    ("alkohollagen", "Brott mot alkohollagen", "Alcohol Act offence", "droger"),
    ("misshandel", "Misshandel", "Assault", "trygghet"),
    ("grovt-vald", "Mord, dråp och frihetsberövande", "Murder, manslaughter and unlawful detention", "trygghet"),
    ("skjutning-sprangning", "Skottlossning och sprängning", "Shootings and explosions", "trygghet"),
    ("vapen", "Vapen och knivar", "Weapons and knives", "trygghet"),
    ("hot-ofredande", "Olaga hot och ofredande", "Threats and harassment", "trygghet"),
    ("vald-hot-tjansteman", "Våld/hot mot tjänsteman", "Violence or threats against officials", "trygghet"),
    ("sexualbrott", "Sexualbrott", "Sexual offence", "trygghet"),
    ("ran", "Rån", "Robbery", "trygghet"),
    ("olaga-intrang", "Olaga intrång och hemfridsbrott", "Trespass", "trygghet"),
    ("bedrageri", "Bedrägeri och ekobrott", "Fraud and economic crime", "trygghet"),
    ("olycka-raddning", "Olycka, räddning, försvunnen person", "Accident, rescue, missing person", "trygghet"),
    ("polisinsats", "Polisinsats och kontroll", "Police operation or check", "trygghet"),
]

FOCUS_AREAS = {"droger": ("Droger", "Drugs"), "trafik": ("Trafik", "Traffic"), "trygghet": ("Trygghet", "Safety")}

FIRST_ORDERING = 100  # after the EST checklist


def load(apps, schema_editor):
    FocusArea = apps.get_model("incidents", "FocusArea")
    Category = apps.get_model("incidents", "Category")
    focus = {
        code: FocusArea.objects.get_or_create(code=code, defaults={"name_sv": sv, "name_en": en})[0]
        for code, (sv, en) in FOCUS_AREAS.items()
    }
    for order, (code, sv, en, fa) in enumerate(CATEGORIES, start=FIRST_ORDERING):
        Category.objects.get_or_create(
            code=code,
            municipality=None,
            defaults={
                "name_sv": sv,
                "name_en": en,
                "focus_area": focus[fa],
                "public": False,
                "active": False,
                "ordering": order,
            },
        )


def unload(apps, schema_editor):
    Category = apps.get_model("incidents", "Category")
    Category.objects.filter(code__in=[c[0] for c in CATEGORIES], municipality=None, incidents__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_source_organisation_optional_for_outside_sources")]

    operations = [migrations.RunPython(load, unload)]
