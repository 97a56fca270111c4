# noqa: N999 - the command is `samverkan import`, which names the module
"""``samverkan import polisen|incidents|areas …``: one command, one subcommand per source.

Each source module (``samverkan/imports/cli_<source>.py``) provides ``add_arguments(parser)`` and
``handle(options, stdout, stderr) -> ImportSummary``. Bad input ends with the errors listed and exit code 2;
nothing is written then.
"""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand

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
        for line in summary.lines():
            self.stdout.write(line)
