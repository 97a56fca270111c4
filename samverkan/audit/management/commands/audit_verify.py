"""``samverkan audit_verify [--file EXPORT.jsonl]``: check the audit log's checksum chain.

Without ``--file`` the whole table: every hash recomputed, every event linked to the one before, numbered without
gaps. With ``--file`` an export: every line's hash, and the links between lines whose events are consecutive.
The first break is reported and the exit code is 1; an intact chain prints its length and last hash, which can be
kept elsewhere so that later removal of the newest events shows too.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from samverkan.audit import chain
from samverkan.audit.exports import events_in_order, read_jsonl
from samverkan.audit.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit log's checksum chain (the whole table, or an exported JSON Lines file with --file)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, metavar="EXPORT.jsonl", help="verify this export instead")

    def handle(self, *args, file: Path | None = None, **options):
        last: dict = {}
        count = 0

        def counted(events):
            nonlocal count, last
            for event in events:
                count += 1
                last = event
                yield event

        if file is not None:
            if not file.is_file():
                raise CommandError(f"The file {file} does not exist.", returncode=2)
            breaks = chain.verify(counted(read_jsonl(file)), whole_chain=False)
            where = "line"
        else:
            rows = (event.export_row() for event in events_in_order(AuditEvent.objects.all()))
            breaks = chain.verify(counted(rows), whole_chain=True)
            where = "row"
        first = next(breaks, None)
        if first is not None:
            raise CommandError(
                f"The chain is broken at {where} {first.position} (event number {first.seq}): {first.reason}.",
                returncode=1,
            )
        if count == 0:
            self.stdout.write("No audit events.")
            return
        self.stdout.write(
            f"{count} audit events, chain intact. Last event number {last.get('seq')}, hash {last.get('hash')}."
        )
