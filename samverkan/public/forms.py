"""The citizen's report of an unsafe place (digital trygghetsvandring): what, where, and an optional comment."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from samverkan.incidents.models import Category
from samverkan.places.models import Municipality
from samverkan.places.selectors import municipality_containing

COMMENT_MAX_CHARS = 1000
# The honeypot's name: a field people never see, which form-filling robots fill in.
HONEYPOT = "website"
# Characters XML 1.0 cannot carry; the comment may come out through Open311's XML after moderation.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
PIN_MISSING = _("Place a pin on the map or use your position.")
# One message beside the map, whichever coordinate is missing or broken (only a hand-made post breaks one).
PIN_ERRORS = {"required": PIN_MISSING, "invalid": PIN_MISSING, "min_value": PIN_MISSING, "max_value": PIN_MISSING}


class UnsafePlaceForm(forms.Form):
    """``categories`` are the public categories of ``municipality``; the pin must lie in its outline."""

    kind = forms.ChoiceField(
        label=_("What is it?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of problem it is.")},
    )
    lat = forms.FloatField(widget=forms.HiddenInput, min_value=-90, max_value=90, error_messages=PIN_ERRORS)
    lon = forms.FloatField(widget=forms.HiddenInput, min_value=-180, max_value=180, error_messages=PIN_ERRORS)
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "aria-describedby": "comment-help"}),
    )

    def __init__(self, *args: Any, municipality: Municipality, categories: list[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.municipality = municipality
        self.categories = {c.code: c for c in categories}
        self.fields["kind"].choices = [(c.code, c.name) for c in categories]

    def clean_comment(self) -> str:
        return _CONTROL_CHARACTERS.sub("", self.cleaned_data["comment"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lat, lon = cleaned.get("lat"), cleaned.get("lon")
        if "lat" in self.errors or "lon" in self.errors:
            # Both fields carry the same message; it is shown once, on lat.
            self.errors.pop("lon", None)
            if "lat" not in self.errors:
                self.add_error("lat", PIN_MISSING)
        elif lat is not None and lon is not None:
            if municipality_containing(lon=lon, lat=lat, candidates=[self.municipality]) is None:
                self.add_error(
                    "lat",
                    _("The pin lies outside %(name)s. Place it inside the outline on the map.")
                    % {"name": self.municipality.name},
                )
        return cleaned

    @property
    def category(self) -> Category:
        return self.categories[self.cleaned_data["kind"]]
