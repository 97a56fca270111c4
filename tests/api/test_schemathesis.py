"""Schemathesis against the OpenAPI document of ``/api/``: every operation, as three callers (a police analyst, a
municipal reporter, nobody), in-process against the WSGI app. No answer may be a 5xx, and every answer must have a
documented status code and match its declared schema.

``SAMVERKAN_FUZZ_EXAMPLES`` sets the examples of the fuzzing phase per operation and caller (default 5, for the
short run inside ``make test``). ``SAMVERKAN_FUZZ_PHASES`` names the schemathesis phases to run (default
``examples,fuzzing``; the coverage phase, which adds boundary values and wrong methods, costs most of a full run).
``SAMVERKAN_FUZZ_MIN_CASES`` makes the module fail unless every operation ran for every caller and at least that
many cases were sent in all. ``make test-fuzz`` sets all three and runs in one process, so that one counter sees
every case.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from config.wsgi import application
from tests.factories import SIMRISHAMN, YSTAD

EXAMPLES = int(os.environ.get("SAMVERKAN_FUZZ_EXAMPLES", "5"))
PHASES = os.environ.get("SAMVERKAN_FUZZ_PHASES", "examples,fuzzing").split(",")
MIN_CASES = int(os.environ.get("SAMVERKAN_FUZZ_MIN_CASES", "0"))
CALLERS = ("polis_analytiker", "kommun_rapportor", "anonymous")

# A filter naming an area or category the caller cannot see, and a report the caller may not make (a point outside
# their municipalities, a category they cannot use), are schema-valid and still refused with 422: JSON Schema
# cannot express those rules. Everywhere else schema-valid input must be accepted.
REFERS_TO_DATA = ["GET /api/incidents", "GET /api/incidents.geojson", "POST /api/incidents"]

schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    application,
    config=schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "phases": {phase: {"enabled": phase in PHASES} for phase in ("examples", "coverage", "fuzzing")},
            "operations": [
                {
                    "include-name": REFERS_TO_DATA,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 422, 429]},
                    },
                }
            ],
        }
    ),
)

SENT: Counter[tuple[str, str]] = Counter()
ANSWERS: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def cases_sent(request):
    """Report how many cases were sent and, when asked for a minimum, hold the run to it."""
    yield SENT
    total = sum(SENT.values())
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if total and reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nschemathesis: {total} cases sent to {len(SENT)} operation × caller pairs "
                f"(fewest {min(SENT.values(), default=0)}, most {max(SENT.values(), default=0)})"
            )
            for label in sorted({label for label, _ in ANSWERS}):
                statuses = sorted((status, n) for (other, status), n in ANSWERS.items() if other == label)
                reporter.write_line(f"  {label}: " + ", ".join(f"{status} × {n}" for status, n in statuses))
    if MIN_CASES:
        labels = {result.ok().label for result in schema.get_all_operations()}
        missing = {(caller, label) for caller in CALLERS for label in labels} - set(SENT)
        assert not missing, f"operations never exercised: {sorted(missing)}"
        assert total >= MIN_CASES, f"only {total} cases sent, {MIN_CASES} required"


@dataclass(frozen=True)
class Seeded:
    incident_ids: list[int]
    area_ids: list[int]
    category_ids: list[int]
    category_codes: list[str]
    focus_area_ids: list[int]


@pytest.fixture
def seeded(world, settings) -> Seeded:
    """Reports of every sensitivity and status in both municipalities, areas of several kinds and versions, and a
    municipality's own category, so that answers carry data and not only empty lists."""
    from samverkan.incidents.models import Category, FocusArea, Precision, Sensitivity, Status
    from samverkan.places.models import Area
    from samverkan.places.services import area_create, area_replace
    from tests.factories import IncidentFactory, square

    # Fuzzing sends far more reports and exports than a person would; the limits have their own tests.
    settings.SAMVERKAN_REPORT_RATE = "1000000/600"
    settings.SAMVERKAN_EXPORT_RATE = "1000000/600"

    harbour = area_create(
        municipality=world.ystad, kind="zone", name="Hamnen", geometry=square(YSTAD[0] + 0.02, YSTAD[1], 0.01)
    )
    area_replace(area=harbour, geometry=square(YSTAD[0] + 0.02, YSTAD[1], 0.015), valid_from=dt.date(2024, 1, 1))
    area_create(
        municipality=world.simrishamn,
        kind="deso",
        name="Simrishamn C",
        code="1291C1010",
        geometry=square(*SIMRISHAMN, 0.01),
        approximate=True,
    )
    own = Category.objects.create(
        code="ystad-strandstaedning",
        name_sv="Nedskräpning på stranden",
        name_en="Litter on the beach",
        focus_area=FocusArea.objects.get(code="trygghet"),
        municipality=world.ystad,
        public=True,
    )
    shared = Category.objects.get(code="klotter", municipality=None)
    now = dt.datetime.now(dt.UTC)
    reporter = world.users["kommun_rapportor"]
    incidents = []
    for i, sensitivity in enumerate(Sensitivity.values * 2):
        status = Status.values[i % len(Status.values)]
        for municipality, centre, organisation in (
            (world.ystad, YSTAD, world.kommun if sensitivity != "police_restricted" else world.polis),
            (world.simrishamn, SIMRISHAMN, world.polis),
        ):
            incidents.append(
                IncidentFactory(
                    municipality=municipality,
                    source_organisation=organisation,
                    reporter=reporter if organisation == world.kommun else None,
                    category=own if i % 3 == 0 and municipality == world.ystad else shared,
                    sensitivity=sensitivity,
                    status=status,
                    lon=centre[0] + 0.001 * i,
                    lat=centre[1],
                    occurred_from=now - dt.timedelta(days=3 * i, hours=i),
                    occurred_to=now - dt.timedelta(days=3 * i) if i % 2 else None,
                    precision=Precision.values[i % len(Precision.values)],
                    persons_estimate=i if i % 2 else None,
                    external_id=f"fuzz-{municipality.code}-{i}" if i % 3 == 1 else None,
                )
            )
    return Seeded(
        incident_ids=[incident.pk for incident in incidents],
        area_ids=list(Area.objects.values_list("pk", flat=True)),
        category_ids=[own.pk, shared.pk, *Category.objects.filter(code="narkotika").values_list("pk", flat=True)],
        category_codes=["klotter", "narkotika", "buskorning", own.code],
        focus_area_ids=list(FocusArea.objects.values_list("pk", flat=True)),
    )


@pytest.fixture
def in_process_requests():
    """Keep the test's database connection open across requests, as Django's test client does: at the end of a
    request the WSGI handler closes connections that are inside a transaction, and the test runs inside one."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=CALLERS)
def caller(request, world) -> tuple[str, dict[str, str]]:
    """The caller's name and the headers that authenticate them: a bearer token, or nothing for anonymous."""
    from samverkan.accounts.models import ApiToken

    if request.param == "anonymous":
        return request.param, {}
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=world.users[request.param], name="fuzz", key_hash=ApiToken.hash_key(key), prefix=key[:8]
    )
    return request.param, {"Authorization": f"Bearer {key}"}


def _use_seeded_values(case, data, seeded: Seeded) -> None:
    """Swap generated ids, codes, places and times for ones that exist, so that schema-valid cases reach the paths
    that find data (200 with items, 201) instead of stopping at "not found" or "unknown"."""
    if "incident_id" in case.path_parameters:
        case.path_parameters["incident_id"] = data.draw(st.sampled_from(seeded.incident_ids), label="incident_id")
    for name, values in (
        ("area", seeded.area_ids),
        ("category", seeded.category_ids),
        ("focus_area", seeded.focus_area_ids),
    ):
        if name in case.query and case.query[name] is not None:
            case.query[name] = data.draw(st.sampled_from(values), label=name)
    if case.method == "POST" and isinstance(case.body, dict):
        lon, lat = data.draw(st.sampled_from([YSTAD, SIMRISHAMN]), label="municipality")
        now = dt.datetime.now(dt.UTC)
        occurred = now - dt.timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 365), label="minutes ago"))
        case.body["category"] = data.draw(st.sampled_from(seeded.category_codes), label="category")
        case.body["lon"] = lon + data.draw(st.floats(-0.05, 0.05), label="dlon")
        case.body["lat"] = lat + data.draw(st.floats(-0.05, 0.05), label="dlat")
        case.body["occurred_from"] = occurred.isoformat()
        if case.body.get("occurred_to") is not None:
            case.body["occurred_to"] = min(now, occurred + dt.timedelta(hours=1)).isoformat()


def _send(case, caller: tuple[str, dict[str, str]]) -> None:
    name, headers = caller
    SENT[(name, case.operation.label)] += 1
    response = case.call(headers=headers)
    ANSWERS[(case.operation.label, response.status_code)] += 1
    case.validate_response(response, headers=headers)


FIXTURE_SCOPED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@schema.parametrize()
@FIXTURE_SCOPED
@pytest.mark.usefixtures("in_process_requests", "seeded")
def test_api(case, caller):
    """Every phase of schemathesis (examples, coverage of boundaries and wrong methods, fuzzing) as it generates."""
    _send(case, caller)


@schema.parametrize()
@schema.given(data=st.data())
@FIXTURE_SCOPED
@pytest.mark.parametrize("caller", ["polis_analytiker", "kommun_rapportor"], indirect=True)
@pytest.mark.usefixtures("in_process_requests")
def test_api_with_known_values(case, data, caller, seeded):
    """Fuzzing with the ids, codes, places and times of schema-valid cases swapped for ones that exist."""
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_negative:
        _use_seeded_values(case, data, seeded)
    _send(case, caller)


def test_map_passes_its_filter_form_to_the_api(world, seeded, client):
    """The map page hands its query string, fields left empty included, to the reports' GeoJSON; empty reads as any.

    The document declares the empty value (schemathesis sends it too); this holds the page and the API together.
    """
    from django.urls import reverse

    client.force_login(world.users["polis_analytiker"])
    form = {"date_from": "", "date_to": "", "area": "", "focus_area": "", "category": "", "status": "new", "source": ""}
    page = client.get(reverse("incidents:map"), form)
    answer = client.get(page.context["geojson_url"])
    assert answer.status_code == 200, answer.content
    assert {f["properties"]["status"] for f in answer.json()["features"]} == {"new"}
    assert client.get(reverse("api:incidents_geojson"), {**form, "status": "bogus"}).status_code == 422
