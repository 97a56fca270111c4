"""The page "right place, right time": choose a municipality and focus area, see the back-test and next week's
places, and turn one into a planned measure."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.access import Action, picture_views_allowed, plan_municipality_ids
from samverkan.incidents.models import FocusArea
from samverkan.places.models import Municipality
from samverkan.plan.suggestions import suggestions_compute

VIEW_CHOICES = (("shared", _("Shared")), ("police", _("Police")))


class SuggestionForm(forms.Form):
    """Which forecast: municipality, focus area and view. Read from the query string (GET)."""

    municipality = forms.ModelChoiceField(
        queryset=Municipality.objects.none(), label=_("Municipality"), empty_label=None
    )
    focus = forms.ModelChoiceField(
        queryset=FocusArea.objects.filter(active=True), to_field_name="code", label=_("Focus area"), empty_label=None
    )
    view = forms.ChoiceField(choices=VIEW_CHOICES, label=_("View"), initial="shared", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        municipalities = Municipality.objects.filter(pk__in=plan_municipality_ids(user, Action.VIEW))
        self.fields["municipality"].queryset = municipalities
        if not any("police" in picture_views_allowed(user, m.pk) for m in municipalities):
            self.fields["view"].choices = VIEW_CHOICES[:1]

    def clean(self):
        data = super().clean()
        data["view"] = data.get("view") or "shared"
        municipality = data.get("municipality")
        if (
            municipality
            and data.get("view") == "police"
            and "police" not in picture_views_allowed(self.user, municipality.pk)
        ):
            self.add_error("view", _("You cannot see this view of the municipality."))
        return data


def create_query(result: dict, suggestion: dict) -> str:
    """The query string that opens the measure form with the suggestion's place, times and motivation filled in."""
    return urlencode(
        {
            "municipality": result["municipality"]["id"],
            "focus": result["focus_area"]["code"],
            "polygon": json.dumps(suggestion["polygon"], separators=(",", ":")),
            "time_windows": suggestion["time_windows_text"],
            "motivation": suggestion["motivation"],
        }
    )


@login_required
def suggestions(request: HttpRequest) -> HttpResponse:
    if not plan_municipality_ids(request.user, Action.VIEW):
        raise PermissionDenied
    form = SuggestionForm(request.GET or None, user=request.user)
    context: dict = {"form": form}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        result = suggestions_compute(
            user=request.user,
            municipality_id=data["municipality"].pk,
            focus_area_code=data["focus"].code,
            view=data["view"],
        )
        for s in result["suggestions"]:
            s["create_query"] = create_query(result, s)
        context["result"] = result
        context["places"] = [
            {"rank": s["rank"], "lat": s["lat"], "lon": s["lon"], "polygon": s["polygon"]}
            for s in result["suggestions"]
        ]
        outline = data["municipality"].geometry
        context["outlines"] = [{"name": data["municipality"].name, "geometry": outline}] if outline else []
    return render(request, "plan/suggestions.html", context)
