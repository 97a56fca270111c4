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


class Polarity(models.TextChoices):
    HIGHER_WORSE = "higher_worse", _("Higher is worse")
    HIGHER_BETTER = "higher_better", _("Higher is better")
    NEUTRAL = "neutral", _("Neither (context)")


class SurveyIndex(models.Model):
    """A yearly figure from outside the reports, for the yearly picture's "other relevant information".

    For example the police's safety survey (trygghetsmätning: a problem index 0–6 per area), Kolada key figures
    (N07540, reported crimes per 100,000 inhabitants) or a school survey of drug habits. ``area`` NULL: the whole
    municipality. ``polarity`` says which direction is a worsening, so the yearly picture can point out indices that
    got worse without guessing.
    """

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=60)  # "trygghetsmätning", "kolada", "can", …
    code = models.CharField(_("indicator code"), max_length=60)  # "problemindex", "N07540", …
    name = models.CharField(_("name"), max_length=200)
    value = models.FloatField(_("value"))
    unit = models.CharField(_("unit"), max_length=60, blank=True)  # "index 0–6", "per 100 000 inv."
    polarity = models.CharField(_("direction"), max_length=15, choices=Polarity.choices, default=Polarity.HIGHER_WORSE)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["municipality", "source", "code", "area", "year"]
        verbose_name = _("survey index")
        verbose_name_plural = _("survey indices")
        # Two partial constraints because NULL areas are never equal in SQL: one figure per municipality-wide
        # indicator and year, one per area.
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year", "source", "code"],
                condition=models.Q(area__isnull=True),
                name="survey_index_unique_municipality",
            ),
            models.UniqueConstraint(
                fields=["municipality", "area", "year", "source", "code"],
                condition=models.Q(area__isnull=False),
                name="survey_index_unique_area",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.code} {self.year}: {self.value}"
