"""``samverkan import areas PATH --kind … --name-field …``: areas from GeoJSON or GeoPackage."""

from __future__ import annotations

import datetime as dt
from typing import Any

from samverkan.imports.areas import areas_import
from samverkan.imports.base import ImportFailed, ImportSummary, RowError
from samverkan.imports.progress import terminal_progress
from samverkan.places.models import AreaKind


def add_arguments(parser) -> None:
    parser.add_argument("path", help="GeoJSON or GeoPackage file (SCB's DeSO and RegSO files work as published)")
    parser.add_argument("--kind", required=True, choices=AreaKind.values, help="what kind of areas the file holds")
    parser.add_argument("--name-field", required=True, help="field with the area's name")
    parser.add_argument("--code-field", help="field with a stable code (e.g. the DeSO code); identifies the area")
    parser.add_argument("--municipality", help="SCB code or name of the municipality every area belongs to")
    parser.add_argument("--municipality-field", help="field with each area's municipality (SCB code)")
    parser.add_argument("--valid-from", help="YYYY-MM-DD: the day new areas and versions start (default today)")
    parser.add_argument("--layer", help="layer to read when the file has several")
    parser.add_argument(
        "--end-missing",
        action="store_true",
        help="end current areas of this kind and municipality that the file lacks (default: leave them)",
    )


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ImportFailed([RowError(None, "--valid-from", f"Ogiltigt datum {value!r}; skriv ÅÅÅÅ-MM-DD.")]) from None


def handle(options: dict[str, Any], stdout, stderr) -> ImportSummary:
    valid_from = _date(options.get("valid_from"))
    with terminal_progress("Områden", quiet=options.get("quiet", False), unit="områden") as progress:
        return areas_import(
            path=options["path"],
            kind=options["kind"],
            name_field=options["name_field"],
            code_field=options.get("code_field"),
            municipality=options.get("municipality"),
            municipality_field=options.get("municipality_field"),
            valid_from=valid_from,
            layer=options.get("layer"),
            end_missing=options.get("end_missing", False),
            dry_run=options.get("dry_run", False),
            progress=progress,
        )
