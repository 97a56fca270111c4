"""Forms of the report pages. They parse and validate input; writes happen in services."""

from __future__ import annotations

import uuid

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.access import categories_visible_to, sensitivities_allowed
from samverkan.incidents.models import Category, FocusArea, Incident, Sensitivity, Source, Status
from samverkan.incidents.services import TRANSITIONS
from samverkan.places.models import Area


class IncidentForm(forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.none(), label=_("What did you see?"))
    lat = forms.FloatField(widget=forms.HiddenInput, min_value=-90, max_value=90)
    lon = forms.FloatField(widget=forms.HiddenInput, min_value=-180, max_value=180)
    occurred_from = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    occurred_to = forms.DateTimeField(
        label=_("Until (if it went on for a while)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Describe the place and what happened. Do not write names, identity numbers or number plates."),
    )
    persons_estimate = forms.IntegerField(
        label=_("About how many persons"), required=False, min_value=0, max_value=10000
    )
    severity = forms.TypedChoiceField(
        label=_("How serious"),
        coerce=int,
        choices=[(1, _("Low")), (2, _("Medium")), (3, _("High"))],
        initial=1,
        widget=forms.RadioSelect,
    )
    police_reported = forms.BooleanField(label=_("Reported to the police"), required=False)
    fault_reported = forms.BooleanField(label=_("Sent as a fault report"), required=False)
    sensitivity = forms.ChoiceField(label=_("Who may see it"), choices=Sensitivity.choices, initial=Sensitivity.SHARED)
    # Set when the reporter has seen the personal-data warning and chooses to send anyway.
    confirm_personal_data = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # One key per filled-in form: sending it again (after a lost answer or a double click) finds the saved report.
    # Optional, so a page rendered before the key existed can still be sent.
    submission_key = forms.UUIDField(required=False, widget=forms.HiddenInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["category"].queryset = categories_visible_to(user).usable_on(today)
        allowed = sensitivities_allowed(user)
        self.fields["sensitivity"].choices = [c for c in Sensitivity.choices if c[0] in allowed]
        self.fields["lat"].error_messages["required"] = _("Place a pin on the map or use your position.")
        self.fields["lon"].error_messages["required"] = _("Place a pin on the map or use your position.")

    @classmethod
    def initial_for(cls, incident: Incident | None = None) -> dict[str, object]:
        if incident is None:
            return {
                "occurred_from": timezone.localtime().replace(second=0, microsecond=0),
                "severity": 1,
                "submission_key": uuid.uuid4(),
            }
        return {
            "category": incident.category_id,
            "lat": incident.lat,
            "lon": incident.lon,
            "occurred_from": timezone.localtime(incident.occurred_from),
            "occurred_to": timezone.localtime(incident.occurred_to) if incident.occurred_to else None,
            "description": incident.description,
            "persons_estimate": incident.persons_estimate,
            "severity": incident.severity,
            "police_reported": incident.police_reported,
            "fault_reported": incident.fault_reported,
            "sensitivity": incident.sensitivity,
        }

    def renew_submission_key(self) -> None:
        """Render the form again with a fresh key, for when the one sent cannot be used."""
        self.data = self.data.copy()
        self.data["submission_key"] = str(uuid.uuid4())

    def service_kwargs(self) -> dict[str, object]:
        d = self.cleaned_data
        return {
            "category": d["category"],
            "lat": d["lat"],
            "lon": d["lon"],
            "occurred_from": d["occurred_from"],
            "occurred_to": d.get("occurred_to"),
            "description": d.get("description") or "",
            "persons_estimate": d.get("persons_estimate"),
            "severity": d["severity"],
            "police_reported": d["police_reported"],
            "fault_reported": d["fault_reported"],
            "sensitivity": d["sensitivity"],
        }


class ReviewForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=())
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    redact_personal_data = forms.BooleanField(label=_("Redact the personal data found"), required=False)

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = TRANSITIONS.get(incident.status, ())
        self.fields["to_status"].choices = [(s, Status(s).label) for s in allowed]
        if not incident.personal_data_flags:
            del self.fields["redact_personal_data"]


class IncidentFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        field_name="occurred_from",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="occurred_from",
        lookup_expr="date__lte",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    area = django_filters.ModelChoiceFilter(
        field_name="areas", queryset=Area.objects.none(), label=_("Area"), empty_label=_("All")
    )
    focus_area = django_filters.ModelChoiceFilter(
        field_name="category__focus_area",
        queryset=FocusArea.objects.filter(active=True),
        label=_("Focus area"),
        empty_label=_("All"),
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.none(), label=_("Category"), empty_label=_("All")
    )
    status = django_filters.ChoiceFilter(choices=Status.choices, label=_("Status"), empty_label=_("All"))
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("Source"), empty_label=_("All"))

    class Meta:
        model = Incident
        fields = ["date_from", "date_to", "area", "focus_area", "category", "status", "source"]

    def __init__(self, *args, user, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["area"].queryset = areas
        self.filters["category"].queryset = categories_visible_to(user)
