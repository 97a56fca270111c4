"""Import records and the raw data of outside sources."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.imports.models_open311 import PublicRequest  # noqa: F401 - the Open311 queue, kept in its own module
from samverkan.incidents.models import Incident
from samverkan.places.models import Municipality


class ImportKind(models.TextChoices):
    POLISEN = "polisen", _("Police open events")
    INCIDENTS = "incidents", _("Reports from CSV or Excel")
    AREAS = "areas", _("Areas from GeoJSON or GeoPackage")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    CHECKED = "checked", _("Checked (dry run)")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportRecord(models.Model):
    """One import, from the command line or the browser: what was read, what came of it, how far it has come."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    filename = models.CharField(_("file"), max_length=300)
    stored_path = models.CharField(max_length=500, blank=True, editable=False)
    options = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.filename} ({self.get_status_display()})"


class PolisenEvent(models.Model):
    """One event of the police's open events, as last published (upserted by the police's id).

    The raw JSON is kept. Events that resolve to a municipality also become an :class:`Incident` of municipality
    precision (the coordinates are the municipality's or county's centre, never the spot); the others stay here at
    county level and are counted.
    """

    event_id = models.BigIntegerField(_("police event id"), unique=True)
    published_at = models.DateTimeField(_("published"))
    name = models.CharField(_("name"), max_length=500)
    summary = models.TextField(_("summary"), blank=True)
    url = models.CharField(_("url"), max_length=500, blank=True)
    type = models.CharField(_("type"), max_length=200)
    location_name = models.CharField(_("location"), max_length=200)
    county = models.CharField(_("county"), max_length=100, blank=True)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, null=True, blank=True)
    incident = models.OneToOneField(Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="polisen")
    raw = models.JSONField(_("raw JSON"))
    first_imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("police open event")
        verbose_name_plural = _("police open events")
        indexes = [models.Index(fields=["municipality", "published_at"])]

    def __str__(self) -> str:
        return self.name
