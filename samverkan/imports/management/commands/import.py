# noqa: N999 - the command is `samverkan import`, which names the module
"""``samverkan import polisen|incidents|areas …``: one command, one subcommand per source.

Each source module (``samverkan/imports/cli_<source>.py``) provides ``add_arguments(parser)`` and
``handle(options, stdout, stderr) -> ImportSummary``. Bad input ends with the errors listed and exit code 2;
nothing is written then. A database that fails during the import (a restart, a lost connection) ends it with a
one-line message and exit code 1; the import's single transaction is rolled back, so running it again is safe.
"""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from samverkan.audit.services import record_import
from samverkan.imports.base import ImportFailed, command_error

SOURCES = {
    "polisen": "the police's open events (JSON array, JSON Lines, optionally gzipped; - for stdin)",
    "incidents": "reports from CSV or Excel with a TOML mapping",
    "areas": "areas from GeoJSON or GeoPackage",
}


def source_module(name: str):
    return importlib.import_module(f"samverkan.imports.cli_{name}")


class Command(BaseCommand):
    help = "Import data into Samverkan. Run 'samverkan import SOURCE --help' for each source."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
        for name, description in SOURCES.items():
            p = sub.add_parser(name, help=description, description=description)
            p.add_argument("--dry-run", action="store_true", help="check and report what would change; write nothing")
            p.add_argument("--quiet", action="store_true", help="no progress bar (for cron); errors and summary only")
            source_module(name).add_arguments(p)

    def handle(self, *args, **options):
        module = source_module(options["source"])
        try:
            summary = module.handle(options, self.stdout, self.stderr)
        except ImportFailed as exc:
            raise command_error(exc, self.stderr) from None
        except (OperationalError, InterfaceError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(
                f"Importen avbröts av ett databasfel: {detail}. En avbruten import sparar ingenting; "
                "kör den igen när databasen svarar."
            ) from None
        if not summary.dry_run:
            record_import(kind=options["source"], counts=summary.as_dict(), via="command", actor=None)
        for line in summary.lines():
            self.stdout.write(line)
