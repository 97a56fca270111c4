"""The situational picture: pre-aggregated daily counts, and saved pictures (immutable numbered versions)."""

from __future__ import annotations

from django.conf import settings
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


class PeriodKind(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    TERTIAL = "tertial", _("Tertial")
    YEAR = "year", _("Year")
    CUSTOM = "custom", _("Custom dates")


class View(models.TextChoices):
    SHARED = "shared", _("Shared (municipality and police)")
    POLICE = "police", _("Police (with police-only data)")


class Snapshot(models.Model):
    """A saved situational picture: the data cutoff, parameters, every figure and text, frozen.

    Versions of the same picture share a ``lineage``; each save adds a version with the next ``number`` and never
    changes an earlier one, so the record shows what was known when a decision was taken.
    """

    lineage = models.UUIDField(editable=False, db_index=True)
    number = models.PositiveIntegerField(_("version"), editable=False)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    focus_area_code = models.CharField(max_length=40, blank=True)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until (exclusive)"))
    period_label = models.CharField(max_length=100)
    view = models.CharField(_("view"), max_length=10, choices=View.choices)
    kind = models.CharField(max_length=10, default="regular", editable=False)  # "regular" or "yearly" (the law's)
    data_cutoff = models.DateTimeField(_("data cutoff"))
    picture = models.JSONField(_("figures"))
    assessment = models.TextField(_("assessment"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    # [{"area_id": int, "area": str, "rating": "green"|"yellow"|"red"|…, "motivation": str}]
    ratings = models.JSONField(_("area ratings"), default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("saved situational picture")
        verbose_name_plural = _("saved situational pictures")
        constraints = [models.UniqueConstraint(fields=["lineage", "number"], name="snapshot_version_unique")]

    def __str__(self) -> str:
        return f"{self.period_label} {self.municipality} v{self.number}"
