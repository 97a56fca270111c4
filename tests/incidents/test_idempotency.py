"""A report sent twice with the same submission key is saved once — from the form, the API and the service.

Retries after a lost answer (a dropped connection, a database restart, a double click) must neither lose a report
nor save it twice; a key that belongs to someone else's report must never hand that report out.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.accounts.models import ApiToken
from samverkan.incidents import services
from samverkan.incidents.models import Category, Incident
from samverkan.situation.models import DailyCount
from tests.factories import SIMRISHAMN, YSTAD

KEY_INPUT = re.compile(r'<input type="hidden" name="submission_key" value="([^"]*)"[^>]*>')


def klotter():
    return Category.objects.get(code="klotter", municipality=None)


def create(world, user_key="kommun_rapportor", **kwargs):
    defaults = {
        "category": klotter(),
        "lon": YSTAD[0],
        "lat": YSTAD[1],
        "occurred_from": timezone.now() - dt.timedelta(minutes=10),
        "description": "Klotter på elskåpet.",
    }
    defaults.update(kwargs)
    return services.incident_create(user=world.users[user_key], **defaults)


def form_key(response) -> str:
    keys = KEY_INPUT.findall(response.content.decode())
    assert len(keys) == 1, "the form must carry exactly one submission key"
    return keys[0]


@pytest.fixture
def reporter(world):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world.users["kommun_rapportor"])
    return client


def form_data(**overrides):
    data = {
        "category": klotter().pk,
        "lat": YSTAD[1],
        "lon": YSTAD[0],
        "occurred_from": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "description": "Nytt klotter på skolans gavel.",
        "severity": 1,
        "sensitivity": "shared",
    }
    data.update(overrides)
    return data


# The service


def test_the_same_key_twice_saves_one_report_and_counts_it_once(world):
    key = uuid.uuid4()
    first = create(world, submission_key=key)
    again = create(world, submission_key=key)
    assert again.pk == first.pk
    assert Incident.objects.filter(submission_key=key).count() == Incident.objects.count() == 1
    day = timezone.localdate(first.occurred_from)
    assert (
        sum(DailyCount.objects.filter(municipality=world.ystad, area=None, day=day).values_list("count", flat=True))
        == 1
    )


def test_different_keys_and_no_key_save_separate_reports(world):
    create(world, submission_key=uuid.uuid4())
    create(world, submission_key=uuid.uuid4())
    create(world)
    create(world)
    assert Incident.objects.count() == 4


def test_a_refused_report_does_not_use_up_its_key(world):
    key = uuid.uuid4()
    with pytest.raises(ValidationError):
        create(world, submission_key=key, lat=SIMRISHAMN[1], lon=SIMRISHAMN[0])
    assert not Incident.objects.exists()
    incident = create(world, submission_key=key)
    assert incident.submission_key == key


def test_a_key_of_another_users_report_is_refused_without_showing_it(world):
    key = uuid.uuid4()
    theirs = create(world, user_key="kommun_samordnare", submission_key=key)
    with pytest.raises(ValidationError) as caught:
        create(world, user_key="kommun_rapportor", submission_key=key)
    assert set(caught.value.message_dict) == {"submission_key"}
    assert str(theirs.pk) not in str(caught.value)
    assert Incident.objects.count() == 1


@pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL: two connections writing at the same moment",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_copies_at_the_same_moment_save_one_report(world):
    """The second copy passes the look-up before the first is committed; its insert then waits on the unique key
    and fails when the first commits, and it must return the first instead of an error."""
    key = uuid.uuid4()
    outcome: dict[str, object] = {}

    def second_copy() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            outcome["incident"] = create(world, submission_key=key)
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    def waits_for_us(cursor) -> bool:
        # pg_locks, not pg_stat_activity: the latter is a snapshot frozen for the rest of our transaction.
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [outcome.get("pid", 0)])
        return cursor.fetchone()[0] > 0

    thread = threading.Thread(target=second_copy)
    with transaction.atomic():
        first = create(world, submission_key=key)
        thread.start()
        deadline = time.monotonic() + 10
        with connection.cursor() as cursor:
            while thread.is_alive() and not waits_for_us(cursor) and time.monotonic() < deadline:
                time.sleep(0.01)
            waited = waits_for_us(cursor)
    thread.join(10)
    assert waited, f"the second copy did not wait for the first: {outcome}"
    assert "error" not in outcome, outcome.get("error")
    assert outcome["incident"].pk == first.pk
    assert Incident.objects.filter(submission_key=key).count() == 1


# The form


def test_each_empty_form_carries_a_new_key_and_is_not_cached(reporter):
    first = reporter.get(reverse("incidents:create"))
    second = reporter.get(reverse("incidents:create"))
    keys = {uuid.UUID(form_key(first)), uuid.UUID(form_key(second))}
    assert len(keys) == 2
    assert "no-store" in first["Cache-Control"]


def test_sending_the_form_twice_saves_once_and_redirects_both_times(reporter):
    key = form_key(reporter.get(reverse("incidents:create")))
    first = reporter.post(reverse("incidents:create"), form_data(submission_key=key))
    again = reporter.post(reverse("incidents:create"), form_data(submission_key=key))
    incident = Incident.objects.get()
    assert incident.submission_key == uuid.UUID(key)
    detail = reverse("incidents:detail", args=[incident.pk])
    assert (first.status_code, first["Location"]) == (again.status_code, again["Location"]) == (302, detail)
    assert "Your report has been saved" in reporter.get(detail).content.decode()


def test_an_invalid_form_keeps_its_key_until_it_is_saved(reporter):
    key = form_key(reporter.get(reverse("incidents:create")))
    invalid = reporter.post(reverse("incidents:create"), form_data(submission_key=key, lat="", lon=""))
    assert invalid.status_code == 200 and form_key(invalid) == key
    warned = reporter.post(reverse("incidents:create"), form_data(submission_key=key, description="Ring 070-123 45 67"))
    assert warned.status_code == 200 and "personal-data-warning" in warned.content.decode()
    assert form_key(warned) == key
    assert not Incident.objects.exists()
    saved = reporter.post(reverse("incidents:create"), form_data(submission_key=key))
    assert saved.status_code == 302
    assert Incident.objects.get().submission_key == uuid.UUID(key)


def test_a_form_without_a_key_is_still_saved(reporter):
    assert reporter.post(reverse("incidents:create"), form_data()).status_code == 302
    assert reporter.post(reverse("incidents:create"), form_data()).status_code == 302
    assert Incident.objects.filter(submission_key=None).count() == 2


def test_the_form_refuses_a_key_of_another_users_report_and_offers_a_new_one(reporter, world):
    key = uuid.uuid4()
    theirs = create(world, user_key="kommun_samordnare", submission_key=key, description="Samordnarens egen text")
    response = reporter.post(reverse("incidents:create"), form_data(submission_key=str(key)))
    html = response.content.decode()
    assert response.status_code == 200
    assert "already been sent from another account" in html
    assert "Samordnarens egen text" not in html and reverse("incidents:detail", args=[theirs.pk]) not in html
    assert Incident.objects.count() == 1
    fresh = form_key(response)
    assert fresh and uuid.UUID(fresh) != key
    saved = reporter.post(reverse("incidents:create"), form_data(submission_key=fresh))
    assert saved.status_code == 302
    assert Incident.objects.get(submission_key=fresh).reporter == world.users["kommun_rapportor"]


def test_the_edit_form_carries_no_key(reporter, world):
    incident = create(world, submission_key=uuid.uuid4())
    html = reporter.get(reverse("incidents:edit", args=[incident.pk])).content.decode()
    assert 'name="submission_key"' not in html


# The API


@pytest.fixture
def token(world):
    def make(user_key: str) -> dict[str, str]:
        key = ApiToken.new_key()
        ApiToken.objects.create(
            user=world.users[user_key], name="test", key_hash=ApiToken.hash_key(key), prefix=key[:8]
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return make


def api_post(headers, **overrides):
    body = {
        "category": "klotter",
        "lat": YSTAD[1],
        "lon": YSTAD[0],
        "occurred_from": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "description": "Klotter på bron",
    }
    body.update(overrides)
    return Client().post("/api/incidents", body, content_type="application/json", **headers)


def test_api_repeat_answers_200_with_the_saved_report(world, token):
    headers = token("kommun_samordnare")
    key = str(uuid.uuid4())
    first = api_post(headers, submission_key=key)
    again = api_post(headers, submission_key=key)
    assert first.status_code == 201, first.content
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert Incident.objects.get().submission_key == uuid.UUID(key)


def test_api_without_a_key_saves_every_time(world, token):
    headers = token("kommun_samordnare")
    assert [api_post(headers).status_code for _ in range(2)] == [201, 201]
    assert Incident.objects.count() == 2


def test_api_refuses_a_key_of_another_users_report(world, token):
    key = str(uuid.uuid4())
    theirs = api_post(token("kommun_samordnare"), submission_key=key, description="Samordnarens egen text")
    assert theirs.status_code == 201
    response = api_post(token("polis_samordnare"), submission_key=key)
    assert response.status_code == 422, response.content
    assert [item["loc"] for item in response.json()["detail"]] == [["body", "submission_key"]]
    assert "Samordnarens egen text" not in response.content.decode()
    assert Incident.objects.count() == 1


def test_api_malformed_key_is_422(world, token):
    response = api_post(token("kommun_samordnare"), submission_key="not-a-uuid")
    assert response.status_code == 422
    assert not Incident.objects.exists()


def test_api_documents_the_key_and_both_answers(world):
    schema = Client().get("/api/openapi.json").json()
    operation = schema["paths"]["/api/incidents"]["post"]
    assert {"200", "201", "422"} <= set(operation["responses"])
    assert "submission_key" in operation["responses"]["200"]["description"]
    assert schema["components"]["schemas"]["IncidentIn"]["properties"]["submission_key"]["description"]
