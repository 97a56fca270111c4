"""``samverkan fetch polisen``: ask an outside source for its latest data and import it.

Exit codes: 0 done; 1 the request failed (network, HTTP), nothing imported; 2 the answer could not be imported,
nothing written; 3 asked too soon after the last request, no request made.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from samverkan.audit.services import record_import
from samverkan.imports import polisen
from samverkan.imports.base import ImportFailed, command_error
from samverkan.imports.progress import terminal_progress

TOO_SOON = 3


class Command(BaseCommand):
    help = "Fetch the latest data of an outside source and import it. Run 'samverkan fetch SOURCE --help'."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
        p = sub.add_parser(
            "polisen",
            help="the police's open events from https://polisen.se/api/events",
            description="Fetch the police's latest open events (about 500) and import them. At most one request a "
            "minute; every request is recorded as an import. Exit codes: 0 done, 1 the request failed, 2 the answer "
            "could not be imported (nothing written), 3 too soon after the last request (no request made).",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar (for cron); errors and summary only")
        p.add_argument("--dry-run", action="store_true", help="fetch and report what would change; write nothing")
        p.add_argument(
            "--min-interval",
            type=int,
            default=polisen.MIN_FETCH_INTERVAL,
            metavar="SECONDS",
            help=f"refuse to ask sooner than this after the last request (at least {polisen.MIN_FETCH_INTERVAL})",
        )
        p.add_argument(
            "--municipality",
            action="extend",
            nargs="+",
            default=[],
            metavar="NAME",
            help="only events in these municipalities (names or SCB codes)",
        )

    def handle(self, *args, **options):
        if options["min_interval"] < polisen.MIN_FETCH_INTERVAL:
            raise CommandError(
                f"--min-interval måste vara minst {polisen.MIN_FETCH_INTERVAL} sekunder: "
                "vi frågar polisen högst en gång i minuten.",
                returncode=2,
            )
        try:
            with terminal_progress("Polisens händelser", quiet=options["quiet"]) as progress:
                summary = polisen.polisen_fetch(
                    min_interval=options["min_interval"],
                    municipalities=options["municipality"],
                    dry_run=options["dry_run"],
                    progress=progress,
                )
        except polisen.FetchRefused as exc:
            raise CommandError(str(exc), returncode=TOO_SOON) from None
        except polisen.FetchFailed as exc:
            raise CommandError(f"{exc} Inget importerades.", returncode=1) from None
        except ImportFailed as exc:
            raise command_error(exc, self.stderr) from None
        if not summary.dry_run:
            record_import(kind="polisen_fetch", counts=summary.as_dict(), via="command", actor=None)
        for line in summary.lines():
            self.stdout.write(line)
