"""``samverkan import_municipality_outlines FILE.geojson --code-field id``: municipality boundaries.

Reports are checked to lie in a municipality the reporter's organisation covers, so each municipality in use needs
its outline. The file is a GeoJSON FeatureCollection in WGS84 with the SCB code in a property.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from samverkan.places.services import municipality_outlines_load


class Command(BaseCommand):
    help = "Load municipality outlines from a GeoJSON FeatureCollection (WGS84) with the SCB code in a property."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--code-field", default="id", help="the property with the four-digit SCB code")
        parser.add_argument("--approximate", action="store_true", help="mark the outlines as simplified")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, path, code_field, approximate, dry_run, **options):
        try:
            with open(path, encoding="utf-8-sig") as f:
                data = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"Filen kunde inte läsas som GeoJSON: {exc}", returncode=2) from None
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, list) or not features:
            raise CommandError("Filen är ingen FeatureCollection med objekt.", returncode=2)
        try:
            result = municipality_outlines_load(
                features=features, code_field=code_field, approximate=approximate, dry_run=dry_run
            )
        except ValueError as exc:
            self.stderr.write(str(exc))
            raise CommandError("Inget sparades.", returncode=2) from None
        head = "Provkörning – inget sparades" if dry_run else "Klart"
        self.stdout.write(
            f"{head}: {result['read']} objekt, {result['changed']} kommungränser nya eller ändrade, "
            f"{result['unchanged']} oförändrade."
        )
