"""``samverkan retention``: gallring — anonymise reports past their period and delete old raw import data.

A dry run unless ``--apply``: it prints what it would do, with counts per category and municipality. Meant for a
nightly timer (``samverkan-retention.timer``, see ``docs/retention.md``); a run after a complete one does nothing.
Exit codes: 0 done (or nothing to do); 1 a batch failed and was rolled back, run again to continue.
"""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.imports.retention import RawDataSummary, import_raw_data_delete
from samverkan.incidents.models import Category
from samverkan.incidents.retention import DEFAULT_BATCH_SIZE, AnonymisationSummary, incidents_anonymise
from samverkan.places.models import Municipality

logger = logging.getLogger("samverkan.retention")


def _batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise CommandError(_("--batch-size must be a whole number of at least 1 (got %(value)s).") % {"value": value})
    return size


class Command(BaseCommand):
    help = (
        "Gallring: anonymise reports older than their category's retention period and delete raw import data older "
        "than SAMVERKAN_IMPORT_RAW_RETENTION_DAYS. A dry run unless --apply."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply", action="store_true", help="carry it out (without it: only show what would be done)"
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=DEFAULT_BATCH_SIZE,
            metavar="N",
            help=f"reports per transaction (default {DEFAULT_BATCH_SIZE})",
        )

    def handle(self, *args, **options):
        apply, batch_size = options["apply"], options["batch_size"]
        now = timezone.now()
        try:
            reports = incidents_anonymise(now=now, apply=apply, batch_size=batch_size)
            raw = import_raw_data_delete(now=now, apply=apply, batch_size=batch_size)
        except (DatabaseError, OSError) as exc:
            logger.exception("retention failed", extra={"dry_run": not apply})
            raise CommandError(
                _("Retention stopped: %(error)s. The batch that failed was undone; run the command again to continue.")
                % {"error": exc}
            ) from None
        logger.info(
            "retention",
            extra={
                "dry_run": not apply,
                "reports": reports.total,
                "import_records": raw.import_records,
                "import_files": raw.files,
                "import_bytes": raw.file_bytes,
                "polisen_events": raw.polisen_events,
                "public_requests": raw.public_requests,
            },
        )
        if not apply:
            self.stdout.write(_("Dry run: nothing was changed. Run with --apply to carry it out."))
        if reports.total == 0 and raw.total == 0:
            self.stdout.write(_("Nothing to do."))
            return
        self._reports(reports)
        self._raw(raw)

    def _reports(self, summary: AnonymisationSummary) -> None:
        if summary.applied:
            self.stdout.write(_("Reports anonymised: %(count)d") % {"count": summary.total})
        else:
            self.stdout.write(_("Reports to anonymise: %(count)d") % {"count": summary.total})
        if not summary.total:
            return
        categories = Category.objects.in_bulk(list(summary.per_category()))
        by_category: dict[str, int] = {}
        for category_id, n in summary.per_category().items():
            # Versions of a category share its name and mean the same thing to the reader.
            name = categories[category_id].name
            by_category[name] = by_category.get(name, 0) + n
        municipalities = Municipality.objects.in_bulk(list(summary.per_municipality()))
        by_municipality = {municipalities[m].name: n for m, n in summary.per_municipality().items()}
        for heading, counts in ((_("By category:"), by_category), (_("By municipality:"), by_municipality)):
            self.stdout.write(f"  {heading}")
            for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
                self.stdout.write(f"    {name}: {n}")

    def _raw(self, summary: RawDataSummary) -> None:
        if summary.applied:
            imports = _("Imports whose raw data was deleted: %(count)d")
            files = _("Uploaded files deleted: %(count)d")
            events = _("Police events whose raw text was deleted: %(count)d")
            requests = _("Public requests cleared: %(count)d")
        else:
            imports = _("Imports whose raw data would be deleted: %(count)d")
            files = _("Uploaded files to delete: %(count)d")
            events = _("Police events whose raw text would be deleted: %(count)d")
            requests = _("Public requests to clear: %(count)d")
        self.stdout.write(imports % {"count": summary.import_records})
        size = f" ({filesizeformat(summary.file_bytes)})" if summary.files else ""
        self.stdout.write(files % {"count": summary.files} + size)
        self.stdout.write(events % {"count": summary.polisen_events})
        self.stdout.write(requests % {"count": summary.public_requests})
