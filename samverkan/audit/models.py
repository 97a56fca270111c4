"""The audit log: who did what, when and from where — append-only and chained.

Rows are written only by ``services.record`` and never changed or removed. That is enforced three times: here (the
model and its querysets refuse updates and deletes), in the database (triggers from migration 0002 refuse UPDATE
and DELETE on SQLite and PostgreSQL), and in the product (no page, API or admin edits it). Each row carries the
SHA-256 of the previous one (``chain.py``), so an edit made behind all three — by someone who drops the triggers —
still shows when the chain is verified (``samverkan audit_verify``).

The actor is kept as plain values, not a foreign key: deleting a user must not touch the log.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.audit import chain


class AuditAction(models.TextChoices):
    RESTRICTED_READ = "restricted_read", _("Read a police-only report")
    RESTRICTED_LIST = "restricted_list", _("Listed police-only reports")
    EXPORT = "export", _("Export")
    REPORT_CREATED = "report_created", _("Report created")
    REPORT_CHANGED = "report_changed", _("Report changed")
    REPORT_REVIEWED = "report_reviewed", _("Report reviewed")
    IMPORT_COMMITTED = "import_committed", _("Import committed")
    MEMBERSHIP_ADDED = "membership_added", _("Membership added")
    MEMBERSHIP_CHANGED = "membership_changed", _("Membership changed")
    MEMBERSHIP_REMOVED = "membership_removed", _("Membership removed")
    USER_CREATED = "user_created", _("User created")
    USER_CHANGED = "user_changed", _("User changed")
    USER_DELETED = "user_deleted", _("User deleted")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    TOKEN_CHANGED = "token_changed", _("API token changed")
    AUDIT_EXPORTED = "audit_exported", _("Audit log exported")


class ObjectType(models.TextChoices):
    """What an event is about, named by the model (``Model._meta.model_name``)."""

    INCIDENT = "incident", _("Report")
    MEMBERSHIP = "membership", _("Membership")
    USER = "user", _("User")
    API_TOKEN = "apitoken", _("API token")
    IMPORT = "importrecord", _("Import")
    SNAPSHOT = "snapshot", _("Situational picture")
    AGREEMENT = "agreement", _("Agreement")


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be removed")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError("audit events cannot be changed")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # Each event's hash depends on the one before; only services.record appends, one at a time, under a lock.
        raise AppendOnlyError("audit events are appended one at a time through samverkan.audit.services.record")


def _id_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def id_text(ids: Any) -> str:
    """Organisation ids as ``",3,7,"``: a ``contains ",3,"`` filter then finds an id on SQLite and PostgreSQL
    alike, which a JSON list cannot (Django has no JSON ``contains`` on SQLite)."""
    unique = sorted({int(i) for i in ids})
    return "," + ",".join(str(i) for i in unique) + "," if unique else ""


class AuditEvent(models.Model):
    # The position in the chain: 1, 2, 3 … without gaps; the link to the previous event is checked by it.
    seq = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    at = models.DateTimeField(_("when"), editable=False)
    actor_id = models.BigIntegerField(_("user id"), null=True, blank=True, editable=False)
    actor_username = models.CharField(_("user name"), max_length=150, blank=True, editable=False)
    # The organisations the actor was a member of at the time, as ``",3,7,"`` (see ``id_text``).
    actor_organisation_ids = models.CharField(max_length=500, blank=True, editable=False)
    action = models.CharField(_("action"), max_length=30, choices=AuditAction.choices, editable=False)
    object_type = models.CharField(
        _("object type"), max_length=20, choices=ObjectType.choices, blank=True, editable=False
    )
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True, editable=False)
    # Whose data the event concerns, for scoping the search: the municipality and the organisations of the object.
    municipality_id = models.IntegerField(_("municipality"), null=True, blank=True, editable=False)
    organisation_ids = models.CharField(max_length=500, blank=True, editable=False)
    # Whether the event concerns police-only reports; such events are shown only through police memberships.
    restricted = models.BooleanField(_("police only"), default=False, editable=False)
    # Field names, counts, ids and old → new codes of statuses and roles; never free text or coordinates.
    details = models.JSONField(_("details"), default=dict, blank=True, editable=False)
    client_address = models.CharField(_("address"), max_length=100, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, unique=True, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # Nobody is granted changes through Django's permissions either; only viewing exists.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["at"]),
            models.Index(fields=["municipality_id", "at"]),
            models.Index(fields=["action", "at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor_username"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        if not self._hash_matches():
            raise AppendOnlyError("audit events are appended through samverkan.audit.services.record")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be removed")

    def _hash_matches(self) -> bool:
        try:
            return bool(self.hash) and self.hash == chain.event_hash(self.prev_hash, self.export_fields())
        except (TypeError, ValueError, AttributeError):
            return False

    @property
    def actor_organisations(self) -> list[int]:
        return _id_list(self.actor_organisation_ids)

    @property
    def organisations(self) -> list[int]:
        return _id_list(self.organisation_ids)

    def export_fields(self) -> dict[str, Any]:
        """The hashed fields as an export writes them (``chain.HASHED_FIELDS``)."""
        return {
            "seq": self.seq,
            "at": chain.timestamp(self.at),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "actor_organisation_ids": self.actor_organisations,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "municipality_id": self.municipality_id,
            "organisation_ids": self.organisations,
            "restricted": self.restricted,
            "details": self.details,
            "client_address": self.client_address,
        }

    def export_row(self) -> dict[str, Any]:
        return {**self.export_fields(), "prev_hash": self.prev_hash, "hash": self.hash}
