"""Browser adapters of the importers: an options form and a runner per kind, registered with the registry.

Each form limits what the user may touch to the municipalities their organisation covers (``Action.IMPORT``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.access import Action, municipalities_visible_to
from samverkan.imports.areas import areas_import
from samverkan.imports.base import ImportSummary, Progress
from samverkan.imports.mapping import load_mapping
from samverkan.imports.polisen import polisen_import
from samverkan.imports.registry import Importer, register
from samverkan.imports.tabular import incidents_import
from samverkan.places.models import AreaKind, Municipality


class AreasOptions(forms.Form):
    municipality = forms.ModelChoiceField(queryset=Municipality.objects.none(), label=_("Municipality"))
    kind = forms.ChoiceField(choices=AreaKind.choices, label=_("Kind of area"))
    name_field = forms.CharField(label=_("Field with the name"), max_length=100, initial="namn")
    code_field = forms.CharField(label=_("Field with the code (optional)"), max_length=100, required=False)
    layer = forms.CharField(label=_("Layer (GeoPackage with several layers)"), max_length=100, required=False)
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: today for changed boundaries; the whole history for the first areas of a kind."),
    )
    end_missing = forms.BooleanField(label=_("End current areas that are missing from the file"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities_visible_to(user, Action.IMPORT)


def run_areas(path: Path, *, user, options: dict, dry_run: bool, progress: Progress) -> ImportSummary:
    allowed = municipalities_visible_to(user, Action.IMPORT)
    municipality = allowed.get(pk=options["municipality"])
    valid_from = options.get("valid_from")
    return areas_import(
        path=path,
        kind=options["kind"],
        name_field=options["name_field"],
        code_field=options.get("code_field") or None,
        municipality=municipality.code,
        layer=options.get("layer") or None,
        valid_from=dt.date.fromisoformat(valid_from) if valid_from else None,
        end_missing=bool(options.get("end_missing")),
        dry_run=dry_run,
        progress=progress,
    )


class IncidentsOptions(forms.Form):
    mapping = forms.FileField(
        label=_("Mapping (TOML)"),
        help_text=_("Which columns hold what, and which values mean which category. See docs/import-mapping.md."),
    )
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows and set the invalid ones aside"),
        required=False,
        help_text=_("Without this, nothing is imported while any row is invalid."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)


def run_incidents(path: Path, *, user, options: dict, dry_run: bool, progress: Progress) -> ImportSummary:
    allowed = municipalities_visible_to(user, Action.IMPORT).values_list("pk", flat=True)
    return incidents_import(
        path=path,
        mapping=load_mapping(options["mapping"]),
        dry_run=dry_run,
        skip_invalid=bool(options.get("skip_invalid")),
        progress=progress,
        allowed_municipality_ids=set(allowed),
    )


class PolisenOptions(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)


def run_polisen(path: Path, *, user, options: dict, dry_run: bool, progress: Progress) -> ImportSummary:
    # Only the user's municipalities (and the county-level events of their counties) are taken from the file.
    codes = list(municipalities_visible_to(user, Action.IMPORT).values_list("code", flat=True))
    return polisen_import(data=path.read_bytes(), municipalities=codes, dry_run=dry_run, progress=progress)


register(Importer("polisen", _("Police open events (JSON)"), PolisenOptions, run_polisen))
register(Importer("incidents", _("Reports from CSV or Excel"), IncidentsOptions, run_incidents))
register(Importer("areas", _("Areas from GeoJSON or GeoPackage"), AreasOptions, run_areas))
