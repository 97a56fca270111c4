"""The access funnel: every role × organisation kind × sensitivity × action × ownership, through pages and API.

A forbidden object must answer 404 exactly like a missing one.
"""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from samverkan.accounts.access import Action, access_incident_by_id, incidents_visible_to
from samverkan.accounts.models import Role
from samverkan.incidents.models import Sensitivity, Status
from tests.factories import SIMRISHAMN, IncidentFactory

ROLES = list(Role.values)
KINDS = ["kommun", "polis"]
SENSITIVITIES = list(Sensitivity.values)
ACTIONS = [Action.VIEW, Action.EDIT, Action.REVIEW]


def expected(role: str, kind: str, sensitivity: str, action: Action, *, own: bool, same_municipality: bool) -> bool:
    """The rules as the product promises them, written out independently of the implementation."""
    if not same_municipality:
        return False
    if sensitivity == Sensitivity.POLICE_RESTRICTED and kind != "polis":
        return False
    if role == Role.RAPPORTOR:
        return own and action in (Action.VIEW, Action.EDIT)
    if role == Role.LASARE:
        return action == Action.VIEW
    return True


def make_incident(world, *, reporter_key: str, sensitivity: str, in_ystad: bool):
    reporter = world.users[reporter_key]
    organisation = world.polis if reporter_key.startswith("polis") else world.kommun
    if in_ystad:
        return IncidentFactory(
            municipality=world.ystad, source_organisation=organisation, reporter=reporter, sensitivity=sensitivity
        )
    return IncidentFactory(
        municipality=world.simrishamn,
        source_organisation=world.polis,
        reporter=reporter,
        sensitivity=sensitivity,
        lon=SIMRISHAMN[0],
        lat=SIMRISHAMN[1],
    )


def http_status(client: Client, action: Action, incident_id: int) -> int:
    if action == Action.VIEW:
        return client.get(reverse("incidents:detail", args=[incident_id])).status_code
    if action == Action.EDIT:
        return client.get(reverse("incidents:edit", args=[incident_id])).status_code
    response = client.post(reverse("incidents:review", args=[incident_id]), {"to_status": Status.REVIEWED})
    return 302 if response.status_code == 302 else response.status_code


CASES = list(itertools.product(ROLES, KINDS, SENSITIVITIES, ACTIONS, [True, False]))


@pytest.mark.parametrize(("role", "kind", "sensitivity", "action", "own"), CASES)
def test_matrix_in_own_municipality(world, role, kind, sensitivity, action, own):
    user_key = f"{kind}_{role}"
    # "Other" reports are made by a colleague of the same organisation kind, so ownership is the only difference.
    other_key = f"{kind}_{Role.SAMORDNARE if role != Role.SAMORDNARE else Role.ANALYTIKER}"
    incident = make_incident(world, reporter_key=user_key if own else other_key, sensitivity=sensitivity, in_ystad=True)
    allowed = expected(role, kind, sensitivity, action, own=own, same_municipality=True)

    visible_ids = set(incidents_visible_to(world.users[user_key], action).values_list("pk", flat=True))
    assert (incident.pk in visible_ids) is allowed

    client = Client()
    client.force_login(world.users[user_key])
    status = http_status(client, action, incident.pk)
    if allowed:
        assert status in (200, 302)
    else:
        assert status == 404
        # The same answer as for an id that does not exist.
        assert http_status(client, action, 999_999) == 404

    api = client.get(f"/api/incidents/{incident.pk}")
    if expected(role, kind, sensitivity, Action.VIEW, own=own, same_municipality=True):
        assert api.status_code == 200
    else:
        assert api.status_code == 404
        assert api.json() == client.get("/api/incidents/999999").json()


@pytest.mark.parametrize("role", ROLES)
def test_nobody_sees_another_municipality(world, role):
    incident = make_incident(world, reporter_key="polis_samordnare", sensitivity=Sensitivity.SHARED, in_ystad=False)
    user = world.users[f"kommun_{role}"]
    for action in ACTIONS:
        with pytest.raises(Exception) as excinfo:
            access_incident_by_id(user, incident.pk, action)
        assert excinfo.typename == "Http404"
    client = Client()
    client.force_login(user)
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 404
    # The police district covers Simrishamn too, so its analyst sees it.
    assert access_incident_by_id(world.users["polis_analytiker"], incident.pk, Action.VIEW) == incident


def test_user_without_membership_sees_nothing(world):
    make_incident(world, reporter_key="kommun_samordnare", sensitivity=Sensitivity.PUBLIC, in_ystad=True)
    assert not incidents_visible_to(world.users["nobody"]).exists()
    client = Client()
    client.force_login(world.users["nobody"])
    assert client.get("/api/incidents").json()["count"] == 0


def test_superuser_without_membership_sees_no_reports(world):
    incident = make_incident(world, reporter_key="kommun_samordnare", sensitivity=Sensitivity.PUBLIC, in_ystad=True)
    root = world.users["nobody"]
    root.is_superuser = root.is_staff = True
    root.save()
    client = Client()
    client.force_login(root)
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 404


def test_reporter_cannot_edit_own_report_after_review(world):
    incident = make_incident(world, reporter_key="kommun_rapportor", sensitivity=Sensitivity.SHARED, in_ystad=True)
    incident.status = Status.REVIEWED
    incident.save()
    client = Client()
    client.force_login(world.users["kommun_rapportor"])
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    assert client.get(reverse("incidents:edit", args=[incident.pk])).status_code == 404


@pytest.mark.parametrize("bad_id", ["abc", "-1", "1.5", "99999999999999999999"])
def test_malformed_ids_are_404(world, bad_id):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    assert client.get(f"/reports/{bad_id}/").status_code == 404
    assert client.get(f"/api/incidents/{bad_id}").status_code in (404, 422)


def test_anonymous_is_sent_to_login(world):
    incident = make_incident(world, reporter_key="kommun_samordnare", sensitivity=Sensitivity.PUBLIC, in_ystad=True)
    response = Client().get(reverse("incidents:detail", args=[incident.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert Client().get("/api/incidents").status_code == 401
