"""Changes of reports, memberships, users and API tokens, recorded wherever they are made (pages, API, admin,
commands) — which is why these are signals and not calls in each service.

A ``pre_save`` receiver keeps the stored values of the watched fields on the instance, so the ``post_save``
receiver can name what changed. Only field names and old → new codes are recorded, never text or coordinates.
Importers write reports with SQL of their own; they record one event per import instead (``imports.services``).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from samverkan.accounts.models import ApiToken, Membership, User
from samverkan.audit.models import AuditAction, ObjectType
from samverkan.audit.services import record
from samverkan.incidents.models import Incident, Sensitivity

# Derived or bookkeeping fields whose change is not a change of the report.
INCIDENT_IGNORED = frozenset({"updated_at"})
# Reports: these changes are recorded with their old and new values (codes and ids, not text).
INCIDENT_VALUES = ("status", "sensitivity", "municipality")
USER_WATCHED = ("is_active", "is_staff", "is_superuser", "password")
USER_VALUES = ("is_active", "is_staff", "is_superuser")
MEMBERSHIP_WATCHED = ("user", "organisation", "role")
TOKEN_WATCHED = ("user", "name", "revoked")


def _watched_fields(model, names: tuple[str, ...] | None, update_fields, ignored=frozenset()) -> list:
    fields = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in ignored and (names is None or f.name in names)
    ]
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    return fields


def _snapshot(sender, instance, update_fields, names: tuple[str, ...] | None = None, ignored=frozenset()) -> None:
    """Keep the stored values of the fields this save may change (one query; none for a new object)."""
    instance._audit_before = None
    if instance._state.adding or instance.pk is None:
        return
    fields = _watched_fields(sender, names, update_fields, ignored)
    if not fields:
        return
    stored = sender._base_manager.filter(pk=instance.pk).values(*[f.attname for f in fields]).first()
    if stored is not None:
        instance._audit_before = {f.name: stored[f.attname] for f in fields}


def _changes(instance) -> dict[str, tuple[Any, Any]]:
    before = getattr(instance, "_audit_before", None) or {}
    instance._audit_before = None
    out = {}
    for name, old in before.items():
        new = getattr(instance, instance._meta.get_field(name).attname)
        if new != old:
            out[name] = (old, new)
    return out


def _username(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return User.objects.filter(pk=user_id).values_list("username", flat=True).first() or ""


def _organisations_of(user_id: int | None) -> list[int]:
    return list(Membership.objects.filter(user_id=user_id).values_list("organisation_id", flat=True))


# --- reports ------------------------------------------------------------------------------------------------------


@receiver(pre_save, sender=Incident, dispatch_uid="audit_incident_pre_save")
def incident_pre_save(sender, instance: Incident, raw=False, update_fields=None, **kwargs) -> None:
    if not raw:
        _snapshot(sender, instance, update_fields, ignored=INCIDENT_IGNORED)


@receiver(post_save, sender=Incident, dispatch_uid="audit_incident_post_save")
def incident_post_save(sender, instance: Incident, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    restricted = instance.sensitivity == Sensitivity.POLICE_RESTRICTED
    if created:
        record(
            AuditAction.REPORT_CREATED,
            obj=instance,
            organisation_ids=[instance.source_organisation_id],
            restricted=restricted,
            details={"status": instance.status, "sensitivity": instance.sensitivity, "source": instance.source},
        )
        return
    changes = _changes(instance)
    if not changes:
        return
    details: dict[str, Any] = {"fields": sorted(changes)}
    for name in INCIDENT_VALUES:
        if name in changes:
            details[name] = list(changes[name])
    if "sensitivity" in changes:
        restricted = restricted or changes["sensitivity"][0] == Sensitivity.POLICE_RESTRICTED
    # The review workflow is what moves a report's status; an edit never does.
    action = AuditAction.REPORT_REVIEWED if "status" in changes else AuditAction.REPORT_CHANGED
    record(
        action, obj=instance, organisation_ids=[instance.source_organisation_id], restricted=restricted, details=details
    )


# --- memberships --------------------------------------------------------------------------------------------------


@receiver(pre_save, sender=Membership, dispatch_uid="audit_membership_pre_save")
def membership_pre_save(sender, instance: Membership, raw=False, update_fields=None, **kwargs) -> None:
    if not raw:
        _snapshot(sender, instance, update_fields, MEMBERSHIP_WATCHED)


def _membership_details(instance: Membership) -> dict[str, Any]:
    return {
        "user_id": instance.user_id,
        "username": _username(instance.user_id),
        "organisation_id": instance.organisation_id,
        "role": instance.role,
    }


@receiver(post_save, sender=Membership, dispatch_uid="audit_membership_post_save")
def membership_post_save(sender, instance: Membership, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    if created:
        action, details = AuditAction.MEMBERSHIP_ADDED, _membership_details(instance)
    else:
        changes = _changes(instance)
        if not changes:
            return
        action = AuditAction.MEMBERSHIP_CHANGED
        details = {**_membership_details(instance), "fields": sorted(changes)}
        for name, (old, new) in changes.items():
            details[name if name == "role" else f"{name}_id"] = [old, new]
    record(action, obj=instance, organisation_ids=[instance.organisation_id], details=details)


@receiver(post_delete, sender=Membership, dispatch_uid="audit_membership_post_delete")
def membership_post_delete(sender, instance: Membership, **kwargs) -> None:
    record(
        AuditAction.MEMBERSHIP_REMOVED,
        obj=instance,
        organisation_ids=[instance.organisation_id],
        details=_membership_details(instance),
    )


# --- users --------------------------------------------------------------------------------------------------------


@receiver(pre_save, sender=User, dispatch_uid="audit_user_pre_save")
def user_pre_save(sender, instance: User, raw=False, update_fields=None, **kwargs) -> None:
    # A log-in saves ``last_login`` alone: no query then.
    if not raw:
        _snapshot(sender, instance, update_fields, USER_WATCHED)


@receiver(post_save, sender=User, dispatch_uid="audit_user_post_save")
def user_post_save(sender, instance: User, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    base = {"user_id": instance.pk, "username": instance.get_username()}
    if created:
        details = {**base, **{name: getattr(instance, name) for name in USER_VALUES}}
        record(AuditAction.USER_CREATED, obj=instance, details=details)
        return
    changes = _changes(instance)
    if not changes:
        return
    details = {**base, "fields": sorted(changes)}
    for name in USER_VALUES:
        if name in changes:
            details[name] = list(changes[name])
    record(AuditAction.USER_CHANGED, obj=instance, organisation_ids=_organisations_of(instance.pk), details=details)


@receiver(pre_delete, sender=User, dispatch_uid="audit_user_pre_delete")
def user_pre_delete(sender, instance: User, **kwargs) -> None:
    # The memberships go first in the cascade; remember whose organisations the user was in.
    instance._audit_organisations = _organisations_of(instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="audit_user_post_delete")
def user_post_delete(sender, instance: User, **kwargs) -> None:
    record(
        AuditAction.USER_DELETED,
        obj=instance,
        organisation_ids=getattr(instance, "_audit_organisations", []),
        details={"user_id": instance.pk, "username": instance.get_username()},
    )


# --- API tokens ---------------------------------------------------------------------------------------------------


@receiver(pre_save, sender=ApiToken, dispatch_uid="audit_token_pre_save")
def token_pre_save(sender, instance: ApiToken, raw=False, update_fields=None, **kwargs) -> None:
    if not raw:
        _snapshot(sender, instance, update_fields, TOKEN_WATCHED)


@receiver(post_save, sender=ApiToken, dispatch_uid="audit_token_post_save")
def token_post_save(sender, instance: ApiToken, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    details: dict[str, Any] = {"user_id": instance.user_id, "username": _username(instance.user_id)}
    if created:
        action = AuditAction.TOKEN_CREATED
    else:
        changes = _changes(instance)
        if not changes:
            return
        details["fields"] = sorted(changes)
        if "revoked" in changes:
            details["revoked"] = list(changes["revoked"])
        action = AuditAction.TOKEN_REVOKED if changes.get("revoked") == (False, True) else AuditAction.TOKEN_CHANGED
    record(action, obj=instance, organisation_ids=_organisations_of(instance.user_id), details=details)


@receiver(post_delete, sender=ApiToken, dispatch_uid="audit_token_post_delete")
def token_post_delete(sender, instance: ApiToken, **kwargs) -> None:
    record(
        AuditAction.TOKEN_REVOKED,
        obj=instance,
        organisation_ids=_organisations_of(instance.user_id),
        details={"user_id": instance.user_id, "deleted": True},
    )


# --- second factors ---------------------------------------------------------------------------------------------


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="audit_totp_post_delete")
@receiver(post_delete, sender=StaticDevice, dispatch_uid="audit_static_post_delete")
def second_factor_post_delete(sender, instance, **kwargs) -> None:
    # Removing a user's devices (a lost phone, the admin action, a move to a new phone) lowers the protection of an
    # account that sees police-only data until the user sets up again: it is a change of the user's access.
    record(
        AuditAction.USER_CHANGED,
        object_type=ObjectType.USER,
        object_id=instance.user_id,
        organisation_ids=_organisations_of(instance.user_id),
        details={
            "user_id": instance.user_id,
            "username": _username(instance.user_id),
            "fields": ["second_factor"],
            "second_factor": ["removed", sender._meta.model_name],
        },
    )
