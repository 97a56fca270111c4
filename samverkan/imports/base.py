"""What every importer shares: row errors, the summary, the refusal, and progress reporting.

An importer validates the whole input before it writes anything. It either returns an :class:`ImportSummary`
(after writing everything in one transaction, or nothing on a dry run) or raises :class:`ImportFailed` with every
error it found, having written nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Called with (items done, total items or None when unknown); importers call it at least every few thousand items.
Progress = Callable[[int, int | None], None]


def no_progress(done: int, total: int | None) -> None:
    return None


@dataclass(frozen=True)
class RowError:
    """One problem in the input: where (the row or line number as the user sees it in the file — for a spreadsheet
    the header is row 1 — or the feature number; the field name as in the file) and why, in the user's words."""

    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"rad {self.row}")
        if self.field:
            where.append(f"fält {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ImportSummary:
    kind: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    unknown_types: Counter[str] = field(default_factory=Counter)
    # The category that records of unknown types were given (code), named in the summary.
    unknown_as: str = "övrigt"
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["unknown_types"] = dict(self.unknown_types)
        data["errors"] = [asdict(e) for e in self.errors]
        return data

    def lines(self) -> list[str]:
        """The summary as short lines for a terminal."""
        head = "Provkörning – inget sparades" if self.dry_run else "Klart"
        out = [
            f"{head}: {self.total} poster lästa, {self.created} nya, {self.updated} ändrade, "
            f"{self.unchanged} oförändrade, {self.rejected} avvisade."
        ]
        if self.unknown_types:
            types = ", ".join(f"{name} ({n})" for name, n in self.unknown_types.most_common())
            out.append(f"Okända typer (sparade som {self.unknown_as}): {types}")
        out.extend(self.notes)
        return out


class ImportFailed(Exception):  # noqa: N818 - reads as what happened: the import failed
    """The input cannot be imported; nothing was written. ``errors`` lists every problem found."""

    def __init__(self, errors: list[RowError], *, summary: ImportSummary | None = None) -> None:
        self.errors = errors
        self.summary = summary
        super().__init__("; ".join(str(e) for e in errors[:5]) + (" …" if len(errors) > 5 else ""))


def command_error(exc: ImportFailed, stderr) -> Exception:
    """Write the errors of a failed import to a command's stderr and return the CommandError (exit code 2) to raise."""
    from django.core.management.base import CommandError

    for error in exc.errors[:200]:
        stderr.write(str(error))
    if len(exc.errors) > 200:
        stderr.write(f"… och {len(exc.errors) - 200} fel till.")
    return CommandError(f"Importen avbröts: {len(exc.errors)} fel. Inget sparades.", returncode=2)
