"""``samverkan import polisen PATH|- [--municipality NAME ...]``: the police's open events from a file or stdin.

The file is what https://polisen.se/api/events serves (a JSON array) or JSON Lines, either of them optionally
gzipped; the format is recognised from the content, not the file name.
"""

from __future__ import annotations

import sys
from pathlib import Path

from samverkan.imports.base import ImportFailed, ImportSummary, RowError
from samverkan.imports.polisen import polisen_import
from samverkan.imports.progress import terminal_progress


def add_arguments(parser) -> None:
    parser.add_argument("path", metavar="PATH|-", help="JSON array or JSON Lines, optionally gzipped; - reads stdin")
    parser.add_argument(
        "--municipality",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="only events in these municipalities (names or SCB codes) and the county-level events of their "
        "counties; put PATH first or repeat the option",
    )


def read_input(path: str) -> bytes:
    """The bytes to import; a file that cannot be read is an import error (exit code 2), not a traceback."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        message = f"Filen {path} finns inte."
    except IsADirectoryError:
        message = f"{path} är en mapp, inte en fil."
    except PermissionError:
        message = f"Filen {path} får inte läsas (behörighet saknas)."
    except OSError as exc:
        message = f"Filen {path} kan inte läsas: {exc.strerror or exc}."
    raise ImportFailed([RowError(None, None, message)])


def handle(options, stdout, stderr) -> ImportSummary:
    data = read_input(options["path"])
    with terminal_progress("Polisens händelser", quiet=options["quiet"]) as progress:
        return polisen_import(
            data=data,
            municipalities=options["municipality"],
            dry_run=options["dry_run"],
            progress=progress,
        )
