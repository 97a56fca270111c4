"""The importers the browser offers: for each kind, the options form and the function that runs it.

Each ``run`` takes the stored file, the user (imports are limited to the municipalities the user's organisation
covers), the options from the form, ``dry_run`` and a progress callback, and returns an ImportSummary or raises
ImportFailed — exactly like the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from samverkan.imports.base import ImportSummary

Runner = Callable[..., ImportSummary]


@dataclass(frozen=True)
class Importer:
    kind: str
    label: str
    form_class: type[forms.Form]
    run: Runner  # run(path: Path, *, user, options: dict, dry_run: bool, progress: Progress) -> ImportSummary


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


def importer_for(kind: str) -> Importer:
    _load_builtin()
    try:
        return IMPORTERS[kind]
    except KeyError:
        raise ValueError(f"unknown import kind {kind!r}") from None


def available() -> dict[str, Importer]:
    _load_builtin()
    return dict(IMPORTERS)


def _load_builtin() -> None:
    # The adapters live beside the importers and register themselves on import.
    from samverkan.imports import web_adapters  # noqa: F401
