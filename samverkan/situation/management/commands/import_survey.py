"""``samverkan import_survey PATH [--format long|kolada] [--dry-run]``: survey indices and key figures for the yearly
situational picture (see ``samverkan/situation/survey_import.py`` for the columns).

Bad input ends with every error listed and exit code 2; nothing is written then.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from samverkan.imports.base import ImportFailed, command_error
from samverkan.imports.tabular import ROW_NUMBERS
from samverkan.situation.survey_import import FORMATS, survey_import


class Command(BaseCommand):
    help = (
        "Import yearly survey indices and key figures (trygghetsmätning, Kolada, …) from CSV or Excel. "
        "Columns: kommun; område (optional); år; källa; kod; namn; värde; enhet — or --format kolada for Kolada's "
        "N07540 table."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV or XLSX file")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="long",
            help="long: one figure a row (default); kolada: kommun_kod, anmalda_brott_per_100k, period, …",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report what would change; write nothing")
        parser.add_argument("--encoding", choices=("utf-8-sig", "cp1252"), help="default: detected")
        parser.add_argument("--delimiter", choices=(";", ",", "\t"), help="default: detected from the header")

    def handle(self, *args, **options):
        try:
            summary = survey_import(
                path=Path(options["path"]),
                fmt=options["format"],
                dry_run=options["dry_run"],
                encoding=options["encoding"],
                delimiter=options["delimiter"],
            )
        except ImportFailed as exc:
            if any(error.row is not None for error in exc.errors):
                self.stderr.write(ROW_NUMBERS)
            raise command_error(exc, self.stderr) from None
        for line in summary.lines():
            self.stdout.write(line)
