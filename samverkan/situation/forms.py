"""Forms of the situational-picture pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.access import Action, municipalities_visible_to, picture_views_allowed
from samverkan.incidents.models import FocusArea
from samverkan.places.models import Area
from samverkan.situation.models import PeriodKind, View
from samverkan.situation.periods import period_containing, period_parse


class PictureForm(forms.Form):
    """Which picture: municipality or area, period, focus area, view. Read from the query string (GET)."""

    municipality = forms.ModelChoiceField(queryset=None, label=_("Municipality"), empty_label=None)
    kind = forms.ChoiceField(choices=PeriodKind.choices, label=_("Period"), initial=PeriodKind.WEEK)
    period = forms.CharField(
        label=_("Which"),
        required=False,
        max_length=30,
        help_text=_("E.g. 2026-W48 (week), 2026-11 (month), 2026-T3 (tertial), 2026 (year) or 2026-11-01/2026-11-15."),
    )
    area = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("Area"), required=False, empty_label=_("All"))
    focus = forms.ModelChoiceField(
        queryset=FocusArea.objects.filter(active=True),
        to_field_name="code",
        label=_("Focus area"),
        required=False,
        empty_label=_("All"),
    )
    view = forms.ChoiceField(choices=View.choices, label=_("View"), initial=View.SHARED)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        municipalities = municipalities_visible_to(user, Action.VIEW)
        self.fields["municipality"].queryset = municipalities
        self.fields["area"].queryset = Area.objects.current().filter(municipality__in=municipalities)
        police = any("police" in picture_views_allowed(user, m.pk) for m in municipalities)
        if not police:
            self.fields["view"].choices = [c for c in View.choices if c[0] == View.SHARED]

    def clean(self):
        data = super().clean()
        municipality = data.get("municipality")
        text = (data.get("period") or "").strip()
        kind = data.get("kind") or PeriodKind.WEEK
        try:
            if text:
                data["period_obj"] = period_parse(text)
            elif kind == PeriodKind.CUSTOM:
                raise ValueError("custom")
            else:
                # The latest complete period of the kind: the one before the period containing today.
                current = period_containing(kind, timezone.localdate())
                data["period_obj"] = period_containing(kind, current.start - dt.timedelta(days=1))
        except ValueError:
            self.add_error("period", _("Write the period as in the examples."))
        area = data.get("area")
        if area and municipality and area.municipality_id != municipality.pk:
            self.add_error("area", _("The area is not in the chosen municipality."))
        if municipality and data.get("view") not in picture_views_allowed(self.user, municipality.pk):
            self.add_error("view", _("You cannot see this view of the municipality."))
        return data


class AnnotationForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    assessment = forms.CharField(
        label=_("Assessment"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    decisions = forms.CharField(
        label=_("Decisions"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        scale = [("", _("Not rated")), *settings.SAMVERKAN_RATING_SCALE]
        self.area_fields = []
        for area in areas:
            rating = forms.ChoiceField(label=area["name"], choices=scale, required=False)
            motivation = forms.CharField(label=_("Motivation"), required=False, max_length=2000)
            self.fields[f"rating_{area['id']}"] = rating
            self.fields[f"motivation_{area['id']}"] = motivation
            self.area_fields.append((area, self[f"rating_{area['id']}"], self[f"motivation_{area['id']}"]))

    def ratings(self, areas) -> list[dict]:
        return [
            {
                "area_id": area["id"],
                "area": area["name"],
                "rating": self.cleaned_data.get(f"rating_{area['id']}", ""),
                "motivation": self.cleaned_data.get(f"motivation_{area['id']}", ""),
            }
            for area in areas
        ]


class YearlyForm(forms.Form):
    """Which yearly picture to draft: municipality, year and view."""

    municipality = forms.ModelChoiceField(queryset=None, label=_("Municipality"), empty_label=None)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    view = forms.ChoiceField(choices=View.choices, label=_("View"), initial=View.SHARED)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Drafting saves a picture, which readers of the steering group may not do.
        municipalities = municipalities_visible_to(user, Action.EDIT)
        self.fields["municipality"].queryset = municipalities.filter(
            pk__in=[m.pk for m in municipalities if picture_views_allowed(user, m.pk, Action.EDIT)]
        )
        self.fields["year"].initial = timezone.localdate().year - 1

    def clean(self):
        data = super().clean()
        municipality = data.get("municipality")
        if municipality and data.get("view") not in picture_views_allowed(self.user, municipality.pk, Action.EDIT):
            self.add_error("view", _("You cannot see this view of the municipality."))
        return data
