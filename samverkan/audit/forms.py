"""The filters of the audit log search."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.audit.models import AuditAction, AuditEvent, ObjectType
from samverkan.places.models import Municipality


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class AuditEventFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        method="filter_from", label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        method="filter_to", label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = django_filters.CharFilter(field_name="actor_username", lookup_expr="iexact", label=_("User name"))
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, label=_("Action"), empty_label=_("All"))
    object_type = django_filters.ChoiceFilter(choices=ObjectType.choices, label=_("Object type"), empty_label=_("All"))
    object_id = django_filters.NumberFilter(field_name="object_id", label=_("Object id"), min_value=1)
    municipality = django_filters.ModelChoiceFilter(
        field_name="municipality_id",
        queryset=Municipality.objects.none(),
        label=_("Municipality"),
        empty_label=_("All"),
        method="filter_municipality",
    )

    class Meta:
        model = AuditEvent
        fields = ["date_from", "date_to", "actor", "action", "object_type", "object_id", "municipality"]

    def __init__(self, *args, municipalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["municipality"].queryset = municipalities

    # Days are local (Europe/Stockholm) days; the log stores UTC.
    def filter_from(self, queryset, name, value: dt.date):
        return queryset.filter(at__gte=_local_midnight(value))

    def filter_to(self, queryset, name, value: dt.date):
        return queryset.filter(at__lt=_local_midnight(value + dt.timedelta(days=1)))

    def filter_municipality(self, queryset, name, value: Municipality):
        return queryset.filter(municipality_id=value.pk)
