"""The situational picture: pre-aggregated daily counts, and saved pictures (immutable numbered versions)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.incidents.models import Category, Sensitivity
from samverkan.places.models import Area, Municipality


class DailyCount(models.Model):
    """Reports per local day (Europe/Stockholm), municipality, category and sensitivity — and per area.

    Rows with ``area`` NULL count the whole municipality; rows with an area count the reports linked to it. Kept up
    to date by ``situation.services.daily_counts_rebuild`` after every write, so baselines and trends over years
    never scan the reports themselves.
    """

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    day = models.DateField()
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    sensitivity = models.CharField(max_length=20, choices=Sensitivity.choices)
    count = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        indexes = [
            models.Index(fields=["municipality", "day"]),
            models.Index(fields=["area", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.day} {self.category_id}: {self.count}"
