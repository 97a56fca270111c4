"""``samverkan import incidents PATH --mapping FILE.toml [--dry-run] [--skip-invalid] [--quiet]``.

Reports from a CSV or Excel (.xlsx) file, with a TOML mapping that names the columns (``docs/import-mapping.md``).
"""

from __future__ import annotations

from pathlib import Path

from samverkan.imports.base import ImportFailed, ImportSummary
from samverkan.imports.mapping import load_mapping
from samverkan.imports.progress import terminal_progress
from samverkan.imports.tabular import ROW_NUMBERS, incidents_import

MAX_PRINTED_ERRORS = 200


def add_arguments(parser) -> None:
    parser.add_argument("path", help="the CSV or XLSX file")
    parser.add_argument("--mapping", required=True, metavar="FILE.toml", help="which column holds what (TOML)")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="write the valid rows and put the invalid ones in <name>.rejects.csv beside the file",
    )


def handle(options, stdout, stderr) -> ImportSummary:
    mapping = load_mapping(options["mapping"])
    try:
        with terminal_progress("Läser och sparar rapporter", quiet=options["quiet"], unit="rader") as progress:
            summary = incidents_import(
                path=Path(options["path"]),
                mapping=mapping,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                progress=progress,
            )
    except ImportFailed as exc:
        if any(error.row is not None for error in exc.errors):
            stderr.write(ROW_NUMBERS)
        raise
    for error in summary.errors[:MAX_PRINTED_ERRORS]:
        stderr.write(f"Avvisad: {error}")
    if len(summary.errors) > MAX_PRINTED_ERRORS:
        stderr.write(f"… och {len(summary.errors) - MAX_PRINTED_ERRORS} fel till.")
    return summary
