"""``samverkan audit_export --out FILE [--format jsonl|csv]``: the whole audit log, oldest first, with its hashes.

The export itself is recorded in the log (as the event after the last one exported).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from samverkan.audit.exports import csv_chunks, events_in_order, jsonl_lines
from samverkan.audit.models import AuditAction, AuditEvent
from samverkan.audit.services import record


class Command(BaseCommand):
    help = "Export the audit log with its checksum chain (JSON Lines by default; verify with audit_verify --file)."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, metavar="FILE")
        parser.add_argument("--format", choices=["jsonl", "csv"], default=None, help="default: from the file name")

    def handle(self, *args, out: Path, format: str | None = None, **options):
        kind = format or ("csv" if out.suffix.lower() == ".csv" else "jsonl")
        last_seq = AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0
        events = AuditEvent.objects.filter(seq__lte=last_seq)
        writer = csv_chunks if kind == "csv" else jsonl_lines
        try:
            with out.open("wb") as target:
                for chunk in writer(events_in_order(events)):
                    target.write(chunk)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror or exc}.", returncode=2) from None
        rows = events.count()
        record(AuditAction.AUDIT_EXPORTED, details={"format": kind, "rows": rows, "via": "command"})
        self.stdout.write(f"{rows} audit events written to {out}.")
