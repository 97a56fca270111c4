"""Municipalities and areas.

Geometry is stored as GeoJSON in WGS84 (lon/lat), the form every client and importer speaks; spatial tests use
shapely in memory, so SQLite and PostgreSQL behave the same without a spatial extension. Areas are versioned: a
boundary change ends the old row (``valid_to``) and adds a new one, never overwriting what earlier reports were
assigned to.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Municipality(models.Model):
    """A kommun, identified by its four-digit SCB code."""

    code = models.CharField(_("SCB code"), max_length=4, unique=True)
    name = models.CharField(_("name"), max_length=100)
    county = models.CharField(_("county"), max_length=100, blank=True)
    geometry = models.JSONField(
        _("outline (GeoJSON, WGS84)"),
        null=True,
        blank=True,
        help_text=_("Used to check that a reported point lies in the municipality."),
    )
    geometry_approximate = models.BooleanField(_("outline is approximate"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return self.name


class AreaKind(models.TextChoices):
    DISTRICT = "district", _("District")
    DESO = "deso", _("DeSO")
    REGSO = "regso", _("RegSO")
    ZONE = "zone", _("Zone")
    PLACE = "place", _("Place")


class AreaQuerySet(models.QuerySet):
    def valid_on(self, day: dt.date) -> AreaQuerySet:
        return self.filter(Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day)))

    def current(self) -> AreaQuerySet:
        return self.filter(valid_to__isnull=True)


class Area(models.Model):
    """A district, DeSO, RegSO, drawn zone or named place inside a municipality, valid for a period."""

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="areas")
    kind = models.CharField(_("kind"), max_length=10, choices=AreaKind.choices)
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=50, blank=True)
    geometry = models.JSONField(_("geometry (GeoJSON, WGS84)"))
    # Bounding box of the geometry, kept so point lookups can skip most polygons without parsing them.
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    valid_from = models.DateField(_("valid from"), default=dt.date(2000, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("Empty while the area is current."))
    approximate = models.BooleanField(_("approximate outline"), default=False)
    source = models.CharField(_("source"), max_length=200, blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["municipality__name", "kind", "name"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="area_valid_to_after_valid_from",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "kind", "valid_to"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
