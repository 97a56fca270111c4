"""Observations sent by the public through Open311 GeoReport v2, waiting in a moderated queue.

A public request never goes straight into the lägesbild: a moderator (someone who may review reports in the
municipality) accepts it, which creates an :class:`~samverkan.incidents.models.Incident`, or rejects it.

Place, not person: the citizen's e-mail, name, phone, device and account ids that Open311 clients send are accepted
by the API and dropped; there are no fields for them here. The free-text address is dropped too, since the pin is
what we need and a home address in a public document says more about a person than about a place.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.incidents.models import Category, Incident
from samverkan.places.models import Municipality

# No 0/o, 1/l/i: the id is read aloud and typed by hand when a citizen asks about a request.
TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TOKEN_LENGTH = 12


def new_token() -> str:
    """A random public id, so that ids reveal neither how many requests there are nor when others came in."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


class PublicRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for moderation")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class PublicRequest(models.Model):
    """One observation from the public: what (the category), where (a pin), and an optional description."""

    token = models.CharField(_("public id"), max_length=20, unique=True, default=new_token, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=PublicRequestStatus.choices, default=PublicRequestStatus.PENDING
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="public_requests", verbose_name=_("category")
    )
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="public_requests", verbose_name=_("municipality")
    )
    description = models.TextField(_("description"), blank=True)
    # Matches of the personal-data screening, as on Incident; redaction at acceptance re-screens.
    personal_data_flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)
    # For the moderators only; never published, since it is free text written about a citizen's message.
    note = models.TextField(_("note"), blank=True)
    incident = models.OneToOneField(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="public_request"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("public request")
        verbose_name_plural = _("public requests")
        indexes = [
            models.Index(fields=["municipality", "status", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.token} {self.category} ({self.get_status_display()})"

    @property
    def needs_redaction(self) -> bool:
        return bool(self.personal_data_flags)
