"""The access matrix over every URL of the project: role × organisation × sensitivity × action × ownership, for
every page, htmx fragment, export, feed, API operation and Open311 endpoint.

Django's URL resolver and the API's OpenAPI schema are walked, and every pattern must be classified in ``ROUTES``
(or ``API_OPERATIONS``): a page added later without a line here fails ``test_every_pattern_is_classified``, so it
cannot escape the matrix. For each pattern, every user kind of the ``world`` fixture (and the anonymous visitor)
asks for it with the ids of every object of the kind it takes — objects of the other municipality, the police's
view, police-only reports, other reporters' reports, other users' imports — and list pages are crawled with their
filters set to ids the user may not see. The answer must be the promised one (success, 404 like a missing object,
403 for a page the role never gets, the log-in page for the anonymous), and no answer, whatever its status or
format (HTML, JSON, GeoJSON, CSV, Atom, XML, PDF as text), may contain a canary the user may not see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from samverkan.api.api import api
from tests.security.conftest import (
    ANONYMOUS,
    EDIT_ROLES,
    EVERYONE,
    HAVE_PDFTOTEXT,
    LOGGED_IN,
    NOBODY,
    POLICE_READERS,
    ROLES,
    SIMRISHAMN_READERS,
    USER_KEYS,
    WEEK,
    YSTAD_READERS,
    CanaryWorld,
    Target,
    of,
    pdf_text,
)

# --- who may use the pages that take no object id ---------------------------------------------------------------

# Reporting: every role but the steering group's readers.
CREATORS = of(("kommun", "polis"), ("admin", "samordnare", "analytiker", "rapportor")) | {"simrishamn_samordnare"}
# Importing and moderating: the roles that edit and review.
EDITORS = of(("kommun", "polis"), EDIT_ROLES) | {"simrishamn_samordnare"}
# Plans and situational pictures: every role that sees all reports of a municipality.
READERS = YSTAD_READERS | SIMRISHAMN_READERS
# The audit log: coordinators and administrators.
AUDITORS = of(("kommun", "polis"), ("admin", "samordnare")) | {"simrishamn_samordnare"}

PUBLIC, APP, API = "public", "app", "api"
# The header htmx sends: such requests get a fragment of the page.
HTMX = {"HTTP_HX_REQUEST": "true"}


# --- the table -----------------------------------------------------------------------------------------------------

Query = dict[str, Any]


@dataclass(frozen=True)
class Check:
    """One way of calling a URL pattern, and who gets what.

    ``target`` names the kind of object whose id fills the URL (each object of the canary world in turn, allowed to
    the users of its ``action``); without it, ``may`` lists the users who succeed. ``queries`` are the query strings
    to crawl, ``data`` the POST body for a target, ``state`` a reading of the database that a refused POST must
    leave unchanged. ``shows``: an allowed GET shows the target's canary (so the leak check sees real content).
    ``expensive``: succeed for one allowed user per object only (PDFs); every refusal is still checked.
    ``headers``: request headers, e.g. ``HTMX`` for the fragment an htmx request gets instead of the page.
    """

    method: str = "GET"
    target: str | None = None
    action: str = "view"
    may: frozenset[str] = LOGGED_IN
    queries: Callable[[CanaryWorld], list[Query]] = lambda cw: [{}]
    kwargs: Callable[[CanaryWorld], list[tuple[Query, frozenset[str]]]] | None = None
    data: Callable[[CanaryWorld, Any], Query] | None = None
    state: Callable[[Any], Any] | None = None
    ok: tuple[int, ...] = (200,)
    refused: tuple[int, ...] = (404,)
    shows: bool = False
    expensive: bool = False
    json_body: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """A URL pattern's audience (``PUBLIC``: no log-in, published data only; ``APP``: log-in required, the access
    funnel decides) and its checks."""

    audience: str
    checks: tuple[Check, ...]
    # Present only in some configurations (e.g. media files served by Django when DEBUG is on).
    optional: bool = False
    why: str = ""


def app(*checks: Check, **more: Any) -> Route:
    return Route(APP, checks or (Check(),), **more)


def public(*checks: Check, **more: Any) -> Route:
    return Route(PUBLIC, checks or (Check(may=EVERYONE),), **more)


def incident_filters(cw: CanaryWorld) -> list[Query]:
    """The report list's filters: ids of the other municipality's area and checklist, and a few plain ones."""
    return [
        {},
        {"area": cw["simrishamn_area"].pk, "category": cw["simrishamn_category"].pk},
        {"status": "new", "source": "form", "date_from": "2025-01-01", "date_to": "2025-12-31"},
    ]


def foreign_ids(cw: CanaryWorld) -> list[Query]:
    return [{}, {"area": cw["simrishamn_area"].pk, "category": cw["simrishamn_category"].pk}]


def measure_filters(cw: CanaryWorld) -> list[Query]:
    return [
        {},
        {"area": cw["simrishamn_area"].pk, "organisation": cw.world.kommun_simrishamn.pk},
        {"status": "done", "date_from": "2025-01-01", "date_to": "2025-12-31"},
    ]


def calendar_months(cw: CanaryWorld) -> list[Query]:
    # March 2025: the month the canary measures ran.
    return [{}, {"month": "2025-03", "area": cw["simrishamn_area"].pk}]


def picture_queries(cw: CanaryWorld) -> list[Query]:
    w = cw.world
    return [
        {},
        {"municipality": w.simrishamn.pk, "kind": "week", "period": WEEK, "view": "shared"},
        {"municipality": w.ystad.pk, "kind": "week", "period": WEEK, "view": "police"},
    ]


def audit_filters(cw: CanaryWorld) -> list[Query]:
    return [
        {},
        {"municipality": cw.world.simrishamn.pk},
        {"object_type": "incident", "object_id": cw["reportrestricted"].pk, "format": "csv"},
    ]


def codes(*present: str) -> Callable[[CanaryWorld], list[tuple[Query, frozenset[str]]]]:
    """Public pages by SCB code: the two municipalities of the world answer everyone; a code that is no
    municipality answers 404 to everyone."""
    return lambda cw: [({"code": c}, EVERYONE) for c in present] + [({"code": "9999"}, NOBODY)]


def fmt_kwargs(cw: CanaryWorld, **more: str) -> list[tuple[Query, frozenset[str]]]:
    return [({"fmt": fmt, **more}, EVERYONE) for fmt in ("json", "xml")]


def open311_requests(cw: CanaryWorld) -> list[tuple[Query, frozenset[str]]]:
    cases = [({"fmt": "json", "service_request_id": t.obj.token}, EVERYONE) for t in cw.targets["public_request"]]
    return [*cases, ({"fmt": "xml", "service_request_id": "finnsinte"}, NOBODY)]


def current_status(obj: Any) -> Any:
    obj.refresh_from_db()
    return obj.status


ROUTES: dict[str, Route] = {
    # --- open to anyone, showing nothing of anyone's data --------------------------------------------------------
    "health/": public(Check(may=EVERYONE), why="monitoring; no data"),
    "i18n/setlang/": public(
        Check(method="POST", may=EVERYONE, data=lambda cw, t: {"language": "en", "next": "/"}, ok=(302,))
    ),
    "accounts/login/": public(),
    "accounts/logout/": public(Check(method="POST", may=EVERYONE, ok=(302,))),
    "api/openapi.json": public(Check(may=EVERYONE), why="the schema, no data"),
    "api/docs": public(Check(may=EVERYONE), why="the schema browser, no data"),
    "api/": public(Check(may=NOBODY), why="the API's root answers 404"),
    "^media/(?P<path>.*)$": public(
        Check(kwargs=lambda cw: [({"path": "finns-inte.csv"}, NOBODY)]),
        optional=True,
        why="uploaded files, served by Django only with DEBUG on",
    ),
    # Log-in through the organisation's identity provider, when SAMVERKAN_OIDC_ENABLED: hand-offs, no data.
    **{
        f"oidc/{part}/": Route(
            PUBLIC, (), optional=True, why="the identity provider's hand-off: tests/accounts/test_oidc.py"
        )
        for part in ("authenticate", "callback", "logout")
    },
    # The public site: aggregates and texts written for the public.
    "oppet/": public(),
    "oppet/metod/": public(),
    "oppet/^(?P<code>[0-9]{4})/$": public(Check(kwargs=codes("1286", "1291"))),
    "oppet/^(?P<code>[0-9]{4})/flode/$": public(Check(kwargs=codes("1286", "1291"))),
    "oppet/^(?P<code>[0-9]{4})/arlig-lagesbild/$": public(Check(kwargs=codes("1286", "1291"))),
    "oppet/<str:code>/siffror/": public(Check(kwargs=codes("1286", "1291"))),
    "oppet/<str:code>/siffror.csv": public(Check(kwargs=codes("1286", "1291"))),
    "oppet/<str:code>/siffror.geojson": public(Check(kwargs=codes("1286", "1291"))),
    "oppet/<str:code>/trygghetsvandring/": public(Check(kwargs=codes("1286", "1291"))),
    "oppet/<str:code>/trygghetsvandring/tack/": public(Check(kwargs=codes("1286"))),
    # Open311 GeoReport v2: what moderators let through, never a pending request's text.
    "open311/v2/^discovery\\.(?P<fmt>json|xml)$": public(Check(kwargs=fmt_kwargs)),
    "open311/v2/^services\\.(?P<fmt>json|xml)$": public(
        Check(kwargs=fmt_kwargs, queries=lambda cw: [{}, {"jurisdiction_id": "1291"}])
    ),
    "open311/v2/^services/(?P<service_code>[\\w-]+)\\.(?P<fmt>json|xml)$": public(
        Check(
            kwargs=lambda cw: [
                # A municipality's own category that is not open to the public is no service.
                ({"fmt": "json", "service_code": cw["simrishamn_category"].code}, NOBODY),
                ({"fmt": "xml", "service_code": "finns-inte"}, NOBODY),
            ],
            queries=lambda cw: [{}, {"jurisdiction_id": "1291"}],
        )
    ),
    "open311/v2/^requests\\.(?P<fmt>json|xml)$": public(
        Check(
            kwargs=fmt_kwargs,
            queries=lambda cw: [
                {},
                {"jurisdiction_id": "1291"},
                {"status": "open"},
                {"service_request_id": ",".join(t.obj.token for t in cw.targets["public_request"])},
            ],
        )
    ),
    "open311/v2/^requests/(?P<service_request_id>[\\w-]+)\\.(?P<fmt>json|xml)$": public(Check(kwargs=open311_requests)),
    "open311/v2/^(?P<path>.*)$": public(Check(kwargs=lambda cw: [({"path": "requests/x/y.json"}, NOBODY)])),
    # --- signed in: every user gets the page, limited to what they may see -----------------------------------------
    "": app(),
    "accounts/password/": app(),
    "accounts/password/done/": app(),
    # The second factor: users who need none, or have given it (as every test session has), are sent on.
    "accounts/otp/": app(Check(ok=(302,), queries=lambda cw: [{}, {"next": "/reports/"}])),
    "accounts/otp/setup/": app(Check(ok=(200, 302))),
    "accounts/otp/backup-codes/": app(Check(ok=(200, 302))),
    "accounts/otp/new-phone/": app(Check(ok=(200, 302))),
    "reports/": app(Check(queries=incident_filters), Check(queries=foreign_ids, headers=HTMX)),
    "reports/map/": app(Check(queries=foreign_ids)),
    "reports/export/csv/": app(Check(queries=incident_filters)),
    "reports/export/geojson/": app(Check(queries=incident_filters)),
    "reports/new/": app(Check(may=CREATORS, refused=(403,))),
    "lagesbild/spara/": app(
        Check(method="POST", data=lambda cw, t: {"token": "ingen-sadan-bild"}, ok=(302,)),
        why="saves only a picture the user built in this session (see test_readers_cannot_write_pictures)",
    ),
    # --- by role ------------------------------------------------------------------------------------------------
    "imports/": app(Check(may=EDITORS, refused=(403,))),
    "imports/new/<slug:kind>/": app(
        Check(
            kwargs=lambda cw: (
                [({"kind": k}, EDITORS) for k in ("polisen", "incidents", "areas")] + [({"kind": "finns-inte"}, NOBODY)]
            ),
            refused=(403, 404),
        )
    ),
    "moderation/": app(Check(may=EDITORS)),
    "plan/atgarder/": app(
        Check(may=READERS, queries=measure_filters),
        Check(may=READERS, queries=lambda cw: measure_filters(cw)[:2], headers=HTMX),
    ),
    "plan/atgarder/ny/": app(
        Check(
            may=EDITORS,
            queries=lambda cw: [
                {},
                {"municipality": cw.world.simrishamn.pk, "area": cw["simrishamn_area"].pk, "focus": "trygghet"},
            ],
        )
    ),
    "plan/atgarder/kalender/": app(Check(may=READERS, queries=calendar_months)),
    "plan/atgarder/karta/": app(Check(may=READERS, queries=lambda cw: measure_filters(cw)[:2])),
    "plan/atgarder/karta/geojson/": app(Check(may=READERS, queries=measure_filters)),
    "plan/forslag/": app(
        Check(
            may=READERS,
            refused=(403,),
            queries=lambda cw: [
                {},
                {"municipality": cw.world.simrishamn.pk, "focus": "trygghet"},
                {"municipality": cw.world.ystad.pk, "focus": "trygghet", "view": "police"},
            ],
        )
    ),
    "overenskommelse/": app(Check(may=READERS, ok=(302,), refused=(403,))),
    "overenskommelse/moten/": app(
        Check(
            may=READERS,
            refused=(403,),
            # Searching for the canaries' common prefix must find only the meetings the user may read.
            queries=lambda cw: [{}, {"q": "qzx"}, {"q": "Beslut"}],
        ),
        Check(may=READERS, refused=(403,), queries=lambda cw: [{"q": "qzx"}], headers=HTMX),
    ),
    "overenskommelse/moten/nytt/": app(
        Check(may=EDITORS, refused=(403,), queries=lambda cw: [{}, {"municipality": cw.world.simrishamn.pk}])
    ),
    "lagesbild/": app(Check(may=READERS, refused=(403,), queries=picture_queries)),
    "lagesbild/arlig/": app(Check(may=READERS, refused=(403,))),
    "lagesbild/sparade/": app(Check(may=READERS, refused=(403,))),
    "granskning/": app(
        Check(may=AUDITORS, refused=(403,), queries=audit_filters),
        Check(may=AUDITORS, refused=(403,), headers=HTMX),
    ),
    "granskning/export/": app(Check(may=AUDITORS, refused=(403,), queries=audit_filters)),
    # --- by object ----------------------------------------------------------------------------------------------
    "reports/<int:incident_id>/": app(Check(target="incident", shows=True)),
    "reports/<int:incident_id>/edit/": app(Check(target="incident", action="edit", shows=True)),
    "reports/<int:incident_id>/review/": app(
        Check(
            method="POST",
            target="incident",
            action="review",
            data=lambda cw, t: {"to_status": "reviewed", "note": "Granskad"},
            state=current_status,
            ok=(302,),
        )
    ),
    "imports/<int:record_id>/": app(
        Check(target="import", shows=True), Check(target="import", shows=True, headers=HTMX)
    ),
    "imports/<int:record_id>/confirm/": app(
        Check(method="POST", target="import", action="edit", state=current_status, ok=(302,))
    ),
    "moderation/<int:request_id>/": app(Check(target="public_request", shows=True)),
    "moderation/<int:request_id>/accept/": app(
        Check(
            method="POST",
            target="public_request",
            action="edit",
            data=lambda cw, t: {"note": "Godkänd"},
            state=current_status,
            ok=(302,),
        )
    ),
    "moderation/<int:request_id>/reject/": app(
        Check(
            method="POST",
            target="public_request",
            action="edit",
            data=lambda cw, t: {"note": "Skräp"},
            state=current_status,
            ok=(302,),
        )
    ),
    "plan/atgarder/<int:measure_id>/": app(Check(target="measure", shows=True)),
    "plan/atgarder/<int:measure_id>/andra/": app(Check(target="measure", action="edit", shows=True)),
    "plan/atgarder/<int:measure_id>/status/": app(
        Check(
            method="POST",
            target="measure",
            action="edit",
            data=lambda cw, t: {"to_status": "ongoing"},
            state=current_status,
            ok=(302,),
        )
    ),
    "plan/atgarder/<int:measure_id>/aktivitet/": app(
        Check(
            method="POST",
            target="measure",
            action="edit",
            data=lambda cw, t: {"date": "2025-03-06", "text": "Rond vid torget", "organisation": cw.world.polis.pk},
            state=lambda m: m.activities.count(),
            ok=(200, 302),
        )
    ),
    "plan/atgarder/<int:measure_id>/utvardering/": app(
        Check(target="measure", shows=True),
        Check(
            method="POST",
            target="measure",
            action="edit",
            data=lambda cw, t: {"buffer_metres": "inte ett tal"},
            state=lambda m: m.evaluations.count(),
        ),
    ),
    "plan/overenskommelser/<int:agreement_id>/indikatorer/": app(Check(target="agreement")),
    "overenskommelse/<int:agreement_id>/": app(Check(target="agreement", shows=True)),
    "overenskommelse/<int:agreement_id>/uppfoljning/": app(Check(target="agreement")),
    "overenskommelse/<int:agreement_id>/uppfoljning/pdf/": app(Check(target="agreement", expensive=True)),
    "overenskommelse/lofte/<int:promise_id>/": app(
        Check(
            method="POST",
            target="promise",
            action="edit",
            data=lambda cw, t: {f"p{t.pk}-status": "ongoing", f"p{t.pk}-follow_up": "Arbetet pågår."},
            state=current_status,
            ok=(302,),
        ),
        Check(
            method="POST",
            target="promise",
            action="edit",
            data=lambda cw, t: {f"p{t.pk}-status": "kept", f"p{t.pk}-follow_up": "Klart."},
            state=current_status,
            headers=HTMX,
        ),
    ),
    "overenskommelse/moten/<int:meeting_id>/": app(Check(target="meeting", shows=True)),
    "overenskommelse/moten/<int:meeting_id>/protokoll/": app(
        Check(
            method="POST",
            target="meeting",
            action="edit",
            data=lambda cw, t: {"minutes": "Nytt protokoll"},
            state=lambda m: type(m).objects.get(pk=m.pk).minutes,
            ok=(302,),
        )
    ),
    "overenskommelse/moten/<int:meeting_id>/beslut/": app(
        Check(
            method="POST",
            target="meeting",
            action="edit",
            data=lambda cw, t: {"text": "Extra rond", "owner": cw.world.polis.pk, "kind": "social", "term": "short"},
            state=lambda m: m.decisions.count(),
            ok=(302,),
        )
    ),
    # The page frames the document below; the frame's own URL is checked there.
    "lagesbild/sparade/<int:snapshot_id>/": app(Check(target="snapshot")),
    "lagesbild/sparade/<int:snapshot_id>/dokument/": app(Check(target="snapshot", shows=True)),
    "lagesbild/sparade/<int:snapshot_id>/pdf/": app(Check(target="snapshot", shows=True, expensive=True)),
    "lagesbild/sparade/<int:snapshot_id>/andra/": app(
        Check(target="snapshot", action="edit", shows=True),
        Check(
            method="POST",
            target="snapshot",
            action="edit",
            data=lambda cw, t: {"token": "frozen", "assessment": "Ny bedömning", "decisions": ""},
            state=lambda s: type(s).objects.filter(lineage=s.lineage).count(),
            ok=(302,),
        ),
    ),
    "lagesbild/sparade/<int:snapshot_id>/jamfor/<int:other_id>/": app(Check(target="snapshot_pair", shows=True)),
}

# The JSON API (django-ninja), by operation of its OpenAPI schema. Session log-in works as on the pages; anonymous
# callers get 401.
API_OPERATIONS: dict[tuple[str, str], Check] = {
    ("GET", "/api/incidents"): Check(queries=incident_filters),
    ("POST", "/api/incidents"): Check(
        method="POST",
        may=CREATORS - {"simrishamn_samordnare"},
        data=lambda cw, t: {
            "category": "klotter",
            "lat": 55.43,
            "lon": 13.82,
            "occurred_from": "2025-03-05T20:00:00+01:00",
            "description": "Klotter på muren",
        },
        json_body=True,
        ok=(201,),
        refused=(403, 422),
    ),
    ("GET", "/api/incidents.geojson"): Check(queries=incident_filters),
    ("GET", "/api/incidents/{incident_id}"): Check(target="incident", shows=True),
    ("GET", "/api/categories"): Check(),
    ("GET", "/api/areas"): Check(queries=lambda cw: [{}, {"current": "false"}, {"kind": "zone"}]),
}

# Models whose rows hold reports, plans or pictures: never in the Django admin, where the access funnel does not
# apply.
NOT_IN_ADMIN = (
    "incidents.Incident",
    "imports.ImportRecord",
    "imports.PublicRequest",
    "imports.PolisenEvent",
    "plan.Measure",
    "plan.Meeting",
    "plan.Evaluation",
    "situation.Snapshot",
    "situation.DailyCount",
)


# --- walking the resolver ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    route: str
    name: str
    kwargs: tuple[str, ...]
    callback: Callable[..., Any]


def walk(patterns=None, prefix: str = "", namespaces: tuple[str, ...] = ()) -> Iterator[Pattern]:
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = namespaces + ((p.namespace,) if p.namespace else ())
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            names = tuple(p.pattern.regex.groupindex)
            name = ":".join((*namespaces, p.name)) if p.name else ""
            yield Pattern(prefix + str(p.pattern), name, names, p.callback)


def project_patterns() -> dict[str, list[Pattern]]:
    found: dict[str, list[Pattern]] = {}
    for p in walk():
        if not p.route.startswith("admin/"):
            found.setdefault(p.route, []).append(p)
    return found


def api_operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def test_every_pattern_is_classified():
    found = project_patterns()
    api_prefix = reverse("api:api-root")
    api_paths = {path for _method, path in api_operations()}
    unclassified = []
    for route, patterns in found.items():
        if route in ROUTES:
            continue
        # The API's operations are classified by method and path below.
        if route.startswith(api_prefix.lstrip("/")) and "/" + route.replace("<", "{").replace(">", "}") in api_paths:
            continue
        unclassified.append(f"{route} ({', '.join(p.name for p in patterns)})")
    assert not unclassified, "URL patterns missing from ROUTES in tests/security/test_every_url.py:\n" + "\n".join(
        unclassified
    )
    stale = [r for r, spec in ROUTES.items() if r not in found and not spec.optional]
    assert not stale, f"ROUTES lists patterns that no longer exist: {stale}"


def test_every_api_operation_is_classified():
    operations = api_operations()
    assert operations - set(API_OPERATIONS) == set(), "API operations missing from API_OPERATIONS"
    assert set(API_OPERATIONS) - operations == set(), "API_OPERATIONS lists operations that no longer exist"


def test_every_user_meets_objects_it_may_not_see(canaries):
    """For every kind of object and action, every signed-in user kind is refused at least one object, so no row of
    the matrix checks only successes."""
    for kind, targets in canaries.targets.items():
        for action in targets[0].allowed:
            for key in LOGGED_IN:
                assert any(key not in t.allowed[action] for t in targets), (kind, action, key)
            assert any(t.allowed[action] for t in targets), (kind, action)


def test_reports_plans_and_pictures_are_not_in_the_admin():
    registered = {f"{m._meta.app_label}.{m.__name__}" for m in admin.site._registry}
    assert registered.isdisjoint(NOT_IN_ADMIN), registered & set(NOT_IN_ADMIN)


def test_admin_is_for_staff_only(canaries):
    """Every admin page sends users without staff status (an organisation's admin role is not staff status) and
    visitors to the admin log-in."""
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
        urls.append(reverse(f"admin:{info[0]}_{info[1]}_change", args=[1]))
    login = reverse("admin:login")
    checked = 0
    keys = (ANONYMOUS, "nobody", "kommun_admin", "polis_admin")
    for key in keys:
        client = client_for(canaries, key)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(login), (key, url)
            checked += 1
    assert checked == len(keys) * len(urls)


# --- running a check -----------------------------------------------------------------------------------------------


def client_for(cw: CanaryWorld, key: str) -> Client:
    client = Client()
    if key != ANONYMOUS:
        client.force_login(cw.world.users[key])
    return client


def body_text(response) -> str:
    """Everything a response carries that a person or program could read: headers and body, PDFs as text."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    if response.get("Content-Type", "").startswith("application/pdf"):
        if not HAVE_PDFTOTEXT:
            pytest.skip("pdftotext (poppler-utils) is missing, so PDFs cannot be searched for canaries")
        return headers + "\n" + pdf_text(content)
    return headers + "\n" + content.decode("utf-8", errors="replace")


@dataclass
class Tally:
    requests: int = 0
    failures: list[str] = field(default_factory=list)


def snapshot_pairs(cw: CanaryWorld) -> list[Target]:
    """Pairs for the comparison page: versions of one picture compare; pictures of different lineages never do,
    whoever asks."""
    s = {name: cw[name] for name in ("snapshotystad", "snapshotystadtwo", "snapshotpolice", "snapshotsimrishamn")}
    texts = {t.name: t.canaries for t in cw.targets["snapshot"]}
    pairs = [
        ("snapshotystad", "snapshotystadtwo", YSTAD_READERS),
        ("snapshotpolice", "snapshotpolice", POLICE_READERS),
        ("snapshotsimrishamn", "snapshotsimrishamn", SIMRISHAMN_READERS),
        ("snapshotystad", "snapshotpolice", NOBODY),
        ("snapshotystad", "snapshotsimrishamn", NOBODY),
        ("snapshotsimrishamn", "snapshotystad", NOBODY),
    ]
    return [Target(f"{a}-{b}", (s[a], s[b]), {"view": allowed}, texts[a]) for a, b, allowed in pairs]


def url_builder(pattern: Pattern) -> Callable[[Query], str]:
    """The URL of the pattern for given keyword arguments."""
    if pattern.name:
        return lambda kwargs: reverse(pattern.name, kwargs=kwargs)
    # The one pattern without a name: the media files Django serves when DEBUG is on.
    assert pattern.route == "^media/(?P<path>.*)$"
    return lambda kwargs: "/media/" + kwargs["path"]


def url_kwargs(pattern_kwargs: tuple[str, ...], target: Target) -> dict[str, int]:
    if isinstance(target.obj, tuple):
        return dict(zip(pattern_kwargs, (o.pk for o in target.obj), strict=True))
    (name,) = pattern_kwargs
    return {name: target.pk}


@dataclass(frozen=True)
class Case:
    path: str
    query: Query
    allowed: frozenset[str]
    target: Target | None = None


def cases_of(check: Check, cw: CanaryWorld, build: Callable[[Query], str], kwarg_names: tuple[str, ...]) -> list[Case]:
    queries = check.queries(cw)
    if check.target is not None:
        targets = snapshot_pairs(cw) if check.target == "snapshot_pair" else cw.targets[check.target]
        return [
            Case(build(url_kwargs(kwarg_names, t)), q, t.allowed[check.action], t) for t in targets for q in queries
        ]
    variants = check.kwargs(cw) if check.kwargs else [({}, check.may)]
    return [Case(build(kw), q, allowed) for kw, allowed in variants for q in queries]


def expensive_choice(allowed: frozenset[str]) -> frozenset[str]:
    """One allowed user, the one with the fewest rights (a reader before an editor)."""
    order = {role: i for i, role in enumerate(reversed(ROLES))}
    ranked = sorted(allowed, key=lambda k: (order.get(k.rsplit("_", 1)[-1], 9), k))
    return frozenset(ranked[:1])


# The public site and Open311 never look at the user: they are asked by the visitor, a user without membership,
# the one with the fewest rights and the one with the most.
PUBLIC_KEYS = (ANONYMOUS, "nobody", "kommun_rapportor", "polis_admin")


def run_check(check: Check, audience: str, cw: CanaryWorld, cases: list[Case], tally: Tally) -> None:
    login = reverse("accounts:login")
    keys = PUBLIC_KEYS if audience == PUBLIC else USER_KEYS
    clients = {key: client_for(cw, key) for key in keys}
    public_page = audience == PUBLIC
    # An expensive check (a PDF) succeeds once, for the least privileged user of the first object anyone may see;
    # every refusal is still asked for.
    first = next((c for c in cases if c.allowed), None) if check.expensive else None
    for case in cases:
        if not check.expensive:
            succeed_for = case.allowed
        else:
            succeed_for = expensive_choice(case.allowed) if case is first else NOBODY
        for key in keys:
            if key in case.allowed and key not in succeed_for:
                continue
            client = clients[key]
            data = check.data(cw, case.target) if check.data else {}
            before = check.state(case.target.obj) if check.state and case.target else None
            if check.method == "GET":
                response = client.get(case.path, case.query, **check.headers)
            elif check.json_body:
                response = client.post(case.path, json.dumps(data), content_type="application/json", **check.headers)
            else:
                response = client.post(case.path, data, **check.headers)
            tally.requests += 1
            htmx = " (htmx)" if check.headers else ""
            where = f"{check.method} {case.path}?{case.query}{htmx} as {key}"
            status = response.status_code
            if status >= 500:
                tally.failures.append(f"{where}: {status}")
            if key == ANONYMOUS and audience == APP:
                expected_login = status == 302 and response["Location"].startswith(login)
                if not expected_login:
                    tally.failures.append(f"{where}: {status}, not the log-in page")
            elif key == ANONYMOUS and audience == API:
                if status != 401:
                    tally.failures.append(f"{where}: {status}, not 401")
            elif key in case.allowed:
                # A filter naming something the user may not see may be refused as invalid, or ignored.
                ok = check.ok + ((400, 422) if case.query else ())
                if status not in ok:
                    tally.failures.append(f"{where}: {status}, expected one of {ok}")
            else:
                if status not in check.refused:
                    tally.failures.append(f"{where}: {status}, expected a refusal {check.refused}")
            if before is not None and (key not in case.allowed or key == ANONYMOUS):
                after = check.state(case.target.obj)
                if after != before:
                    tally.failures.append(f"{where}: refused, but changed {before!r} to {after!r}")
            text = body_text(response)
            leaked = cw.leaks(text, key, public_page=public_page)
            if leaked:
                tally.failures.append(f"{where}: LEAK of {leaked}")
            if (
                check.shows
                and check.method == "GET"
                and key in succeed_for
                and case.target is not None
                and case.target.canaries
                and status == 200
                and not any(c in text.lower() for c in case.target.canaries)
            ):
                tally.failures.append(f"{where}: the page does not show its object's text")


@pytest.mark.parametrize("route", list(ROUTES))
def test_route(route, canaries):
    spec = ROUTES[route]
    patterns = project_patterns().get(route)
    if patterns is None:
        assert spec.optional
        pytest.skip(f"{route} is not in this configuration")
    if not spec.checks:
        pytest.skip(spec.why)
    (pattern,) = patterns
    build = url_builder(pattern)
    tally = Tally()
    for check in spec.checks:
        run_check(check, spec.audience, canaries, cases_of(check, canaries, build, pattern.kwargs), tally)
    assert not tally.failures, f"{len(tally.failures)} of {tally.requests} requests failed:\n" + "\n".join(
        tally.failures[:40]
    )
    assert tally.requests >= len(PUBLIC_KEYS if spec.audience == PUBLIC else USER_KEYS)


@pytest.mark.parametrize("operation", list(API_OPERATIONS), ids=" ".join)
def test_api_operation(operation, canaries):
    _method, path = operation
    check = API_OPERATIONS[operation]
    names = tuple(part[1:-1] for part in path.split("/") if part.startswith("{"))

    def build(kwargs: Query) -> str:
        return path.format(**kwargs)

    tally = Tally()
    run_check(check, API, canaries, cases_of(check, canaries, build, names), tally)
    assert not tally.failures, f"{len(tally.failures)} of {tally.requests} requests failed:\n" + "\n".join(
        tally.failures[:40]
    )


# --- writes that a reading role must not make ------------------------------------------------------------------


def test_readers_cannot_write_pictures(canaries):
    """The steering group's readers read situational pictures; saving, drafting and editing them is for the roles
    that edit. Checked on the live picture (whose save needs the session's copy), the yearly draft and a version."""
    from samverkan.situation.models import Snapshot

    w = canaries.world
    query = {"municipality": w.ystad.pk, "kind": "week", "period": WEEK, "view": "shared"}
    count = Snapshot.objects.count()
    for key in ("kommun_lasare", "polis_lasare"):
        reader = client_for(canaries, key)
        page = reader.get(reverse("situation:picture"), query)
        assert page.status_code == 200 and page.context.get("annotation") is None
        assert reverse("situation:picture_save") not in page.content.decode()
        # A copy of the picture in the session, as if the page had offered to save it.
        session = reader.session
        session["situation:pictures"] = {"t": page.context["picture"]}
        session.save()
        assert reader.post(reverse("situation:picture_save"), {"token": "t", "assessment": "x"}).status_code == 403
        drafted = reader.post(reverse("situation:yearly"), {"municipality": w.ystad.pk, "year": 2025, "view": "shared"})
        assert drafted.status_code == 200 and drafted.context["form"].errors
        snapshot = canaries["snapshotystad"]
        assert reader.get(reverse("situation:snapshot_edit", args=[snapshot.pk])).status_code == 404
        assert "snapshot_edit" not in str(reader.get(reverse("situation:snapshot", args=[snapshot.pk])).content)
    assert Snapshot.objects.count() == count

    editor = client_for(canaries, "kommun_samordnare")
    page = editor.get(reverse("situation:picture"), query)
    token = page.context["annotation"]["token"].value()
    assert editor.post(reverse("situation:picture_save"), {"token": token, "assessment": "Lugnt"}).status_code == 302
    drafted = editor.post(reverse("situation:yearly"), {"municipality": w.ystad.pk, "year": 2025, "view": "shared"})
    assert drafted.status_code == 302
    assert Snapshot.objects.count() == count + 2
