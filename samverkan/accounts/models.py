"""Users, organisations and memberships.

What a user may see and do follows from memberships alone (see ``access.py``): a membership ties a user to an
organisation with one role, and the organisation covers one or more municipalities.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.places.models import Municipality


class User(AbstractUser):
    """A person who logs in. Personal details beyond the user name are optional."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class OrganisationKind(models.TextChoices):
    KOMMUN = "kommun", _("Municipality")
    POLIS = "polis", _("Police")
    BOSTADSBOLAG = "bostadsbolag", _("Housing company")
    RADDNINGSTJANST = "raddningstjanst", _("Rescue service")
    BEVAKNING = "bevakning", _("Security company")
    OTHER = "other", _("Other")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    municipalities = models.ManyToManyField(
        Municipality, related_name="organisations", verbose_name=_("municipalities covered")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_police(self) -> bool:
        return self.kind == OrganisationKind.POLIS


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SAMORDNARE = "samordnare", _("Coordinator")
    ANALYTIKER = "analytiker", _("Analyst")
    RAPPORTOR = "rapportor", _("Reporter")
    LASARE = "lasare", _("Reader (steering group)")


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_role_per_organisation")]

    def __str__(self) -> str:
        return f"{self.user} – {self.organisation} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A bearer token for API clients. Only a hash is stored; the token itself is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)
