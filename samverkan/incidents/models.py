"""Reports (observations and incidents), their categories and focus areas.

Place, not person: there are no fields for names, personal identity numbers, number plates or faces. Free text
is screened for such data on the way in (``screening.py``) and waits for a reviewer when something is found.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.models import Organisation
from samverkan.places.models import Area, Municipality


class FocusArea(models.Model):
    """A focus area of the cooperation agreement (droger, trafik, trygghet by default)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_sv = models.CharField(_("Swedish name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    ordering = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["ordering", "code"]
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv


class CategoryQuerySet(models.QuerySet):
    def usable_on(self, day: dt.date) -> CategoryQuerySet:
        return self.filter(Q(active=True) & Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day)))


class Category(models.Model):
    """What was observed. Categories are versioned with validity dates so old reports keep their meaning.

    A category with a municipality belongs to that kommun's own checklist; one without is shared by all.
    """

    code = models.SlugField(_("code"), max_length=60)
    name_sv = models.CharField(_("Swedish name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120)
    focus_area = models.ForeignKey(FocusArea, on_delete=models.PROTECT, related_name="categories")
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="categories",
        help_text=_("Empty: used by every municipality."),
    )
    active = models.BooleanField(_("active"), default=True)
    public = models.BooleanField(_("open to the public"), default=False)
    valid_from = models.DateField(_("valid from"), default=dt.date(2000, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    ordering = models.PositiveSmallIntegerField(default=0)
    # Gallring: raw reports of this category are anonymised this many months after they occurred. Empty: the
    # setting SAMVERKAN_RETENTION_MONTHS applies.
    retention_months = models.PositiveSmallIntegerField(
        _("kept in full for (months)"),
        null=True,
        blank=True,
        help_text=_(
            "Empty: the site's default. After this, free text and reporter are removed and the place coarsened."
        ),
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["focus_area__ordering", "ordering", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "municipality", "valid_from"], name="category_code_unique_per_version"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv


class Precision(models.TextChoices):
    EXACT = "exact", _("Exact spot")
    STREET = "street", _("Street or block")
    AREA = "area", _("Area")
    MUNICIPALITY = "municipality", _("Municipality only")


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("Public")
    SHARED = "shared", _("Shared between the parties")
    POLICE_RESTRICTED = "police_restricted", _("Police only")


class Status(models.TextChoices):
    NEW = "new", _("New")
    REVIEWED = "reviewed", _("Reviewed")
    ACTED_ON = "acted_on", _("Acted on")
    CLOSED = "closed", _("Closed")


class Source(models.TextChoices):
    FORM = "form", _("Report form")
    API = "api", _("API")
    POLISEN = "polisen", _("Police open events")
    CSV = "csv", _("File import")
    OPEN311 = "open311", _("Open311")
    DEMO = "demo", _("Synthetic demo data")


class Incident(models.Model):
    """One report: what, where, when — and how sure we are of the where."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="incidents")
    occurred_from = models.DateTimeField(_("occurred (from)"))
    occurred_to = models.DateTimeField(
        _("occurred (to)"), null=True, blank=True, help_text=_("Only when the time is a window.")
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    lat = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)])
    lon = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)])
    # SWEREF 99 TM (EPSG:3006) metres, computed from lat/lon on write; the analysis core works in these.
    x = models.FloatField(_("easting (SWEREF 99 TM)"), editable=False)
    y = models.FloatField(_("northing (SWEREF 99 TM)"), editable=False)
    precision = models.CharField(_("location precision"), max_length=12, choices=Precision.choices)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="incidents")
    areas = models.ManyToManyField(Area, related_name="incidents", blank=True, verbose_name=_("areas"))
    description = models.TextField(_("description"), blank=True)
    persons_estimate = models.PositiveIntegerField(_("about how many persons"), null=True, blank=True)
    severity = models.PositiveSmallIntegerField(
        _("seriousness"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    police_reported = models.BooleanField(_("reported to the police"), default=False)
    fault_reported = models.BooleanField(_("sent as a fault report"), default=False)
    # Empty for records from outside sources (the police's open events, public Open311 requests).
    source_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("organisation"),
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("reporter"),
    )
    sensitivity = models.CharField(
        _("sensitivity"), max_length=20, choices=Sensitivity.choices, default=Sensitivity.SHARED
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.FORM)
    # NULL (not "") for reports without one, so the unique constraint with source only binds imported records.
    external_id = models.CharField(_("external id"), max_length=200, null=True, blank=True)  # noqa: DJ001
    # Matches of the personal-data screening: [{"kind", "start", "end", "text"}]; non-empty means the report
    # waits for a reviewer to redact before it leaves review. Redaction re-screens, which empties the list.
    personal_data_flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Set by gallring (retention): free text and reporter removed, place coarsened; counts keep the report.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    # A key the form or API client chooses once per report, so that re-sending after a lost answer (a dropped
    # connection, a database restart) finds the report already saved instead of saving it twice.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-occurred_from", "-id"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="incident_source_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(occurred_to__isnull=True) | Q(occurred_to__gte=models.F("occurred_from")),
                name="incident_window_ordered",
            ),
            models.CheckConstraint(condition=Q(severity__gte=1) & Q(severity__lte=3), name="incident_severity_1_3"),
        ]
        indexes = [
            models.Index(fields=["municipality", "occurred_from"]),
            models.Index(fields=["status"]),
            models.Index(fields=["reporter"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category} {self.occurred_from:%Y-%m-%d}"

    @property
    def needs_redaction(self) -> bool:
        return bool(self.personal_data_flags)

    @property
    def is_synthetic(self) -> bool:
        return self.source == Source.DEMO


class StatusChange(models.Model):
    """The review trail of a report: who moved it from which status to which, and why."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Status.choices)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    redacted = models.BooleanField(default=False)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.from_status} → {self.to_status}"
