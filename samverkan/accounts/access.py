"""The one access funnel: who may see and do what.

Every page, API endpoint and export that shows or changes a report asks this module, either for a queryset
filter (``incident_scope`` / ``incidents_visible_to``) or for one object by a user-supplied id
(``access_incident_by_id``). A forbidden object answers exactly like a missing one (``Http404``), so ids reveal
nothing.

The rules, in one place:

* A user acts only through memberships: each ties the user to an organisation with one role, and the organisation
  covers one or more municipalities. Nobody sees another municipality's data without a membership there —
  superusers included (they administer the system, not its reports).
* ``police_restricted`` reports are seen only through a membership in a police organisation.
* A ``rapportor`` (reporter) sees only the reports they made, and edits them only while they are new.
* A ``lasare`` (steering group) reads; ``samordnare``, ``analytiker`` and ``admin`` read, edit, review and import
  (imports only into the municipalities their organisation covers; an import record is seen by the one who made it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from samverkan.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from samverkan.incidents.models import Category, Incident, Sensitivity, Status
from samverkan.places.models import Area, Municipality


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    REVIEW = "review"
    IMPORT = "import"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.ADMIN: frozenset({Action.VIEW, Action.CREATE, Action.EDIT, Action.REVIEW, Action.IMPORT}),
    Role.SAMORDNARE: frozenset({Action.VIEW, Action.CREATE, Action.EDIT, Action.REVIEW, Action.IMPORT}),
    Role.ANALYTIKER: frozenset({Action.VIEW, Action.CREATE, Action.EDIT, Action.REVIEW, Action.IMPORT}),
    Role.RAPPORTOR: frozenset({Action.VIEW, Action.CREATE, Action.EDIT}),
    Role.LASARE: frozenset({Action.VIEW}),
}

# Roles whose view is limited to the reports the user made.
OWN_ONLY_ROLES = frozenset({Role.RAPPORTOR})


@dataclass(frozen=True)
class Grant:
    """One membership, flattened to what the rules need."""

    organisation_id: int
    organisation_kind: str
    role: str
    municipality_ids: frozenset[int]

    @property
    def is_police(self) -> bool:
        return self.organisation_kind == OrganisationKind.POLIS

    def allows(self, action: Action) -> bool:
        return action in ROLE_ACTIONS.get(self.role, frozenset())


def grants_for(user: User | AnonymousUser | None) -> tuple[Grant, ...]:
    """The user's memberships as grants, cached on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    cached = getattr(user, "_samverkan_grants", None)
    if cached is not None:
        return cached
    memberships = Membership.objects.filter(user=user).select_related("organisation")
    municipality_ids: dict[int, set[int]] = {}
    for org_id, muni_id in Organisation.municipalities.through.objects.filter(
        organisation__memberships__user=user
    ).values_list("organisation_id", "municipality_id"):
        municipality_ids.setdefault(org_id, set()).add(muni_id)
    grants = tuple(
        Grant(
            organisation_id=m.organisation_id,
            organisation_kind=m.organisation.kind,
            role=m.role,
            municipality_ids=frozenset(municipality_ids.get(m.organisation_id, set())),
        )
        for m in memberships
    )
    user._samverkan_grants = grants  # type: ignore[union-attr]
    return grants


def _grant_scope(user: User, grant: Grant, action: Action) -> Q | None:
    if not grant.allows(action) or not grant.municipality_ids:
        return None
    q = Q(municipality_id__in=grant.municipality_ids)
    if not grant.is_police:
        q &= ~Q(sensitivity=Sensitivity.POLICE_RESTRICTED)
    if grant.role in OWN_ONLY_ROLES:
        q &= Q(reporter_id=user.pk)
        if action == Action.EDIT:
            q &= Q(status=Status.NEW)
    return q


def incident_scope(user: User | AnonymousUser | None, action: Action = Action.VIEW) -> Q:
    """A filter that keeps exactly the incidents ``user`` may perform ``action`` on."""
    scopes = [s for g in grants_for(user) if (s := _grant_scope(user, g, action)) is not None]  # type: ignore[arg-type]
    if not scopes:
        return Q(pk__in=[])
    combined = scopes[0]
    for s in scopes[1:]:
        combined |= s
    return combined


def incidents_visible_to(user: User | AnonymousUser | None, action: Action = Action.VIEW) -> QuerySet[Incident]:
    return Incident.objects.filter(incident_scope(user, action))


def access_incident_by_id(user: User | AnonymousUser | None, incident_id: object, action: Action) -> Incident:
    """The incident with this id if ``user`` may perform ``action`` on it; else ``Http404``, as if it did not exist."""
    try:
        pk = int(str(incident_id))
    except (TypeError, ValueError):
        raise Http404("No such report") from None
    try:
        return (
            incidents_visible_to(user, action)
            .select_related("category__focus_area", "municipality", "source_organisation", "reporter")
            .get(pk=pk)
        )
    except Incident.DoesNotExist:
        raise Http404("No such report") from None


def sees_police_restricted(user: User | AnonymousUser | None) -> bool:
    """Whether any membership can show the user ``police_restricted`` reports: one in a police organisation."""
    return any(g.is_police for g in grants_for(user))


def can(user: User | AnonymousUser | None, action: Action) -> bool:
    """Whether the user may perform ``action`` on anything at all (used to show or hide buttons)."""
    return any(g.allows(action) and g.municipality_ids for g in grants_for(user))


def municipality_ids_for(user: User | AnonymousUser | None, action: Action = Action.VIEW) -> frozenset[int]:
    ids: set[int] = set()
    for g in grants_for(user):
        if g.allows(action):
            ids |= g.municipality_ids
    return frozenset(ids)


def municipalities_visible_to(
    user: User | AnonymousUser | None, action: Action = Action.VIEW
) -> QuerySet[Municipality]:
    return Municipality.objects.filter(pk__in=municipality_ids_for(user, action))


def areas_visible_to(user: User | AnonymousUser | None) -> QuerySet[Area]:
    return Area.objects.filter(municipality_id__in=municipality_ids_for(user, Action.VIEW))


def access_area_by_id(user: User | AnonymousUser | None, area_id: object) -> Area:
    try:
        pk = int(str(area_id))
        return areas_visible_to(user).get(pk=pk)
    except (TypeError, ValueError, Area.DoesNotExist):
        raise Http404("No such area") from None


def categories_visible_to(user: User | AnonymousUser | None) -> QuerySet[Category]:
    """Shared categories plus the own checklists of the municipalities the user works in."""
    if not grants_for(user):
        return Category.objects.none()
    return Category.objects.filter(
        Q(municipality__isnull=True) | Q(municipality_id__in=municipality_ids_for(user))
    ).select_related("focus_area")


def creating_grants(user: User | AnonymousUser | None, municipality_id: int) -> list[Grant]:
    """Memberships through which ``user`` may report in the municipality; police first, so their reports keep the
    police organisation as source when the user is in both."""
    grants = [g for g in grants_for(user) if g.allows(Action.CREATE) and municipality_id in g.municipality_ids]
    return sorted(grants, key=lambda g: (not g.is_police, g.organisation_id))


def sensitivities_allowed(user: User | AnonymousUser | None) -> list[str]:
    """Which sensitivity levels the user may give a report: only police members may restrict to the police."""
    allowed = [Sensitivity.PUBLIC, Sensitivity.SHARED]
    if any(g.is_police and g.allows(Action.CREATE) for g in grants_for(user)):
        allowed.append(Sensitivity.POLICE_RESTRICTED)
    return [str(s) for s in allowed]


def access_import_record_by_id(user: User | AnonymousUser | None, record_id: object):
    """An import record made by ``user`` (who must still be allowed to import); else ``Http404``."""
    from samverkan.imports.models import ImportRecord

    if not can(user, Action.IMPORT):
        raise Http404("No such import")
    try:
        return ImportRecord.objects.get(pk=int(str(record_id)), user=user)
    except (TypeError, ValueError, ImportRecord.DoesNotExist):
        raise Http404("No such import") from None


def public_requests_moderated_by(user: User | AnonymousUser | None):
    """Observations from the public (Open311) waiting in the municipalities where ``user`` may review reports."""
    from samverkan.imports.models import PublicRequest

    return PublicRequest.objects.filter(municipality_id__in=municipality_ids_for(user, Action.REVIEW))


def access_public_request_by_id(user: User | AnonymousUser | None, request_id: object):
    """The public request with this id if ``user`` may moderate it; else ``Http404``, as if it did not exist."""
    from samverkan.imports.models import PublicRequest

    try:
        pk = int(str(request_id))
        return public_requests_moderated_by(user).select_related("category__focus_area", "municipality").get(pk=pk)
    except (TypeError, ValueError, PublicRequest.DoesNotExist):
        raise Http404("No such request") from None


def snapshots_visible_to(user: User | AnonymousUser | None, action: Action = Action.VIEW):
    """Saved pictures of the municipalities the user may view; police views only through a police grant there.
    With ``Action.EDIT``: those the user may add a version to (readers of the steering group only read).

    Reporters, who see only their own reports, see no pictures.
    """
    from samverkan.situation.models import Snapshot, View

    shared: set[int] = set()
    police: set[int] = set()
    for g in grants_for(user):
        if not g.allows(action) or g.role in OWN_ONLY_ROLES:
            continue
        shared |= g.municipality_ids
        if g.is_police:
            police |= g.municipality_ids
    return Snapshot.objects.filter(
        Q(view=View.SHARED, municipality_id__in=shared) | Q(view=View.POLICE, municipality_id__in=police)
    )


def access_snapshot_by_id(user: User | AnonymousUser | None, snapshot_id: object, action: Action = Action.VIEW):
    from samverkan.situation.models import Snapshot

    try:
        return (
            snapshots_visible_to(user, action)
            .select_related("municipality", "area", "created_by")
            .get(pk=int(str(snapshot_id)))
        )
    except (TypeError, ValueError, Snapshot.DoesNotExist):
        raise Http404("No such picture") from None


def picture_views_allowed(
    user: User | AnonymousUser | None, municipality_id: int, action: Action = Action.VIEW
) -> list[str]:
    """Which renderings of a municipality's picture the user may build (with ``Action.EDIT``: save): none, shared,
    or shared and police."""
    views: list[str] = []
    for g in grants_for(user):
        if municipality_id not in g.municipality_ids or not g.allows(action) or g.role in OWN_ONLY_ROLES:
            continue
        if "shared" not in views:
            views.append("shared")
        if g.is_police and "police" not in views:
            views.append("police")
    return views


def can_see_pictures(user: User | AnonymousUser | None) -> bool:
    """Whether the user may build and read situational pictures (every role that sees all reports)."""
    return any(g.allows(Action.VIEW) and g.role not in OWN_ONLY_ROLES and g.municipality_ids for g in grants_for(user))


# --- the agreement and measures ---------------------------------------------------------------------------------
# Plans are shared between the parties of a municipality: every role that sees all reports there reads them;
# samordnare, analytiker and admin (who may edit reports) also write them. Reporters see none.


def plan_municipality_ids(user: User | AnonymousUser | None, action: Action = Action.VIEW) -> frozenset[int]:
    ids: set[int] = set()
    for g in grants_for(user):
        if g.allows(action) and g.role not in OWN_ONLY_ROLES:
            ids |= g.municipality_ids
    return frozenset(ids)


def _plan_object(model, user, object_id: object, action: Action):
    try:
        pk = int(str(object_id))
        return model.objects.get(pk=pk, municipality_id__in=plan_municipality_ids(user, action))
    except (TypeError, ValueError, model.DoesNotExist):
        raise Http404(f"No such {model._meta.model_name}") from None


def measures_visible_to(user: User | AnonymousUser | None, action: Action = Action.VIEW):
    from samverkan.plan.models import Measure

    return Measure.objects.filter(municipality_id__in=plan_municipality_ids(user, action))


def access_measure_by_id(user: User | AnonymousUser | None, measure_id: object, action: Action = Action.VIEW):
    from samverkan.plan.models import Measure

    return _plan_object(Measure, user, measure_id, action)


def agreements_visible_to(user: User | AnonymousUser | None, action: Action = Action.VIEW):
    from samverkan.plan.models import Agreement

    return Agreement.objects.filter(municipality_id__in=plan_municipality_ids(user, action))


def access_agreement_by_id(user: User | AnonymousUser | None, agreement_id: object, action: Action = Action.VIEW):
    from samverkan.plan.models import Agreement

    return _plan_object(Agreement, user, agreement_id, action)


def meetings_visible_to(user: User | AnonymousUser | None, action: Action = Action.VIEW):
    from samverkan.plan.models import Meeting

    return Meeting.objects.filter(municipality_id__in=plan_municipality_ids(user, action))


def access_meeting_by_id(user: User | AnonymousUser | None, meeting_id: object, action: Action = Action.VIEW):
    from samverkan.plan.models import Meeting

    return _plan_object(Meeting, user, meeting_id, action)


# --- the audit log ----------------------------------------------------------------------------------------------
# Samordnare and admins search it: the events of the municipalities their organisations cover, the events about
# their organisations (memberships, users, tokens) and the events of their colleagues; events about police-only
# reports only through a police membership. Nobody changes it.

AUDIT_ROLES = frozenset({Role.SAMORDNARE, Role.ADMIN})


def can_search_audit(user: User | AnonymousUser | None) -> bool:
    return any(g.role in AUDIT_ROLES for g in grants_for(user))


def audit_events_visible_to(user: User | AnonymousUser | None):
    from samverkan.audit.models import AuditEvent

    scopes = []
    for g in grants_for(user):
        if g.role not in AUDIT_ROLES:
            continue
        organisation = f",{g.organisation_id},"
        q = (
            Q(municipality_id__in=g.municipality_ids)
            | Q(organisation_ids__contains=organisation)
            | Q(actor_organisation_ids__contains=organisation)
        )
        if not g.is_police:
            q &= Q(restricted=False)
        scopes.append(q)
    if not scopes:
        return AuditEvent.objects.none()
    combined = scopes[0]
    for s in scopes[1:]:
        combined |= s
    return AuditEvent.objects.filter(combined)
