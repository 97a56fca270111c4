"""Security tests along the OWASP Top 10 (2021). Which test covers each item, or why it does not apply here:

A01 Broken Access Control
    ``test_every_url.py``: every URL pattern and API operation × every user kind × objects of other municipalities,
    the police's view, police-only reports, other reporters' reports and other users' imports (IDOR on every
    id-taking URL, and on ids in query strings); no canary may leak into any page, fragment, export, feed, PDF or
    API answer. ``test_readers_cannot_write_pictures`` there. Here: CSRF (``test_post_without_csrf_token_*``) and
    open redirects after log-in, log-out and the language switch (``test_no_open_redirect``).
A02 Cryptographic Failures
    Passwords hashed by Django (PBKDF2), API tokens stored as hashes only, HTTPS with HSTS and secure cookies in the
    production profile: ``tests/core/test_hardening.py`` (``test_production_cookies_and_transport``, the deploy
    checks), ``tests/accounts/test_commands.py``. Here: ``test_session_cookie_is_http_only_and_same_site``.
A03 Injection
    SQL: ``test_sql_injection_in_filters`` (every list filter and query parameter: quotes, ``' OR 1=1 --``, NUL,
    unicode digits, huge numbers: never 5xx, never more rows than without the filter). XSS:
    ``test_stored_xss_is_escaped`` (descriptions, area, category, organisation, measure, agreement, promise,
    meeting, picture, import and request texts in pages, htmx fragments, JSON embedded with ``json_script``, Atom,
    Open311 XML and the standalone documents), ``test_stored_xss_in_pdfs_is_printed_as_text``,
    ``test_reflected_xss_is_escaped`` (query strings echoed in forms and errors), ``test_scripts_build_no_html``
    (our map scripts). CSV formula injection: ``tests/imports/test_exports.py``.
A04 Insecure Design
    Place, not person (no personal fields; free text screened), the moderated queue for public observations,
    suppression of small counts, rate limits and a honeypot: ``tests/public``, ``tests/imports/test_open311.py``,
    ``tests/incidents/test_screening.py``, ``tests/core/test_hardening.py``.
A05 Security Misconfiguration
    ``test_security_headers`` here (nosniff, Referrer-Policy, X-Frame-Options, Cross-Origin-Opener-Policy on every
    kind of answer; exports not cached). Content-Security-Policy, Django's deploy checks, and DEBUG or a missing
    SECRET_KEY refused in production: ``tests/core/test_hardening.py``, ``tests/test_settings.py``.
A06 Vulnerable and Outdated Components
    Not testable by the suite: dependencies are pinned in ``pyproject.toml`` and updated by the maintainers; the
    vendored scripts (Leaflet, htmx) carry their versions in ``samverkan/static/vendor``.
A07 Identification and Authentication Failures
    Lock-out after failed log-ins, two factors for police and administrators, password rules, session expiry:
    ``tests/accounts/test_lockout.py``, ``test_two_factor.py``, ``test_passwords.py``, ``test_sessions.py``.
A08 Software and Data Integrity Failures
    Imports check the whole file and write nothing on error; the audit log is a hash chain: ``tests/imports``,
    ``tests/audit/test_chain.py``. No untrusted data is unpickled.
A09 Security Logging and Monitoring Failures
    The audit log of reads and exports of restricted data, and the request log without personal data:
    ``tests/audit``, ``tests/core/test_hardening.py``. The audit pages are in the access matrix.
A10 Server-Side Request Forgery
    Nothing fetches a URL a user gives. The PDFs are printed with a URL fetcher that allows ``data:`` URIs only
    (``test_pdfs_fetch_nothing_from_the_network``), and user text reaches them escaped
    (``test_stored_xss_in_pdfs_is_printed_as_text``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from samverkan.api.api import api
from tests.security.conftest import HAVE_PDFTOTEXT, WEEK, pdf_text
from tests.security.test_every_url import ROUTES, cases_of, client_for, project_patterns, url_builder

# --- XSS ------------------------------------------------------------------------------------------------------------


def payload(tag: str) -> str:
    """Markup that runs script if any part of it reaches a page unescaped: in text, in an attribute, inside a
    ``<script>`` block (JSON embedded in the page) and as a URL."""
    return f'javascript:alert("{tag}")"><img src=x onerror=alert("{tag}")></script><script>alert("{tag}")</script>'


# Any of these in an HTML or XML answer means a payload got through unescaped.
RAW = re.compile(r"<script>alert\(|<img src=x onerror|(?:href|src|action|formaction)\s*=\s*[\"']?\s*javascript:", re.I)
# And one of these shows that a payload reached the answer, escaped: as HTML/XML text, or as JSON in a page.
ESCAPED = re.compile(r"&lt;script&gt;alert\(|\\u003Cscript\\u003Ealert\(|&lt;img src=x onerror", re.I)


@pytest.fixture
def poisoned(world):
    """Every text a user, an import or an administrator can write, set to a payload: in Ystad, seen by its
    coordinator, and on the public site where published."""
    from samverkan.imports.models import ImportKind, ImportRecord, ImportStatus
    from samverkan.imports.models_open311 import PublicRequest, PublicRequestStatus
    from samverkan.incidents.models import Category, FocusArea, Sensitivity
    from samverkan.places.services import area_create
    from samverkan.plan.models import (
        Agreement,
        CitizenPromise,
        Commitment,
        Decision,
        Goal,
        Measure,
        MeasureActivity,
        MeasureStatus,
        Meeting,
        Problem,
    )
    from samverkan.situation.selectors import picture_compute
    from samverkan.situation.services import daily_counts_rebuild, snapshot_save
    from tests.factories import YSTAD, IncidentFactory, square
    from tests.security.conftest import OCCURRED

    w = world
    user = w.users["kommun_samordnare"]
    trygghet = FocusArea.objects.get(code="trygghet")
    w.kommun.name = payload("organisation")
    w.kommun.save()
    centre = (YSTAD[0] + 0.05, YSTAD[1] + 0.05)
    area = area_create(municipality=w.ystad, kind="district", name=payload("area"), geometry=square(*centre, 0.01))
    # A shared category, named by an administrator, and one of the municipality's own.
    shared = Category.objects.get(code="klotter", municipality=None)
    shared.name_sv = payload("sharedcategory")[:120]
    shared.public = True
    shared.save()
    category = Category.objects.create(
        code="xss",
        name_sv=payload("category")[:120],
        name_en=payload("category")[:120],
        focus_area=trygghet,
        municipality=w.ystad,
        public=True,
    )
    incidents = []
    for i in range(3):
        incident = IncidentFactory(
            municipality=w.ystad,
            reporter=user,
            source_organisation=w.kommun,
            category=category,
            description=payload("description"),
            occurred_from=OCCURRED + dt.timedelta(hours=i),
            lon=centre[0],
            lat=centre[1],
            sensitivity=Sensitivity.PUBLIC,
        )
        incident.areas.add(area)
        incidents.append(incident)
    daily_counts_rebuild()

    agreement = Agreement.objects.create(
        title=payload("agreement"),
        municipality=w.ystad,
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2030, 12, 31),
        summary=payload("summary"),
        steering_group=payload("steering"),
        meeting_schedule=payload("schedule"),
        follow_up=payload("followup"),
    )
    agreement.parties.add(w.kommun, w.polis)
    agreement.focus_areas.add(trygghet)
    problem = Problem.objects.create(
        agreement=agreement, focus_area=trygghet, title=payload("problem"), description=payload("problem")
    )
    Goal.objects.create(agreement=agreement, problem=problem, text=payload("goal"))
    Commitment.objects.create(agreement=agreement, party=w.kommun, text=payload("commitment"))
    CitizenPromise.objects.create(
        agreement=agreement,
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2030, 12, 31),
        text=payload("promise"),
        responsible=w.kommun,
        follow_up=payload("promisefollowup"),
        follow_up_updated=timezone.localdate(),
    )
    measure = Measure.objects.create(
        agreement=agreement,
        municipality=w.ystad,
        title=payload("measure"),
        description=payload("measuredescription"),
        motivation=payload("motivation"),
        target_group=payload("targetgroup")[:300],
        focus_area=trygghet,
        kind="situational",
        term="short",
        responsible_organisation=w.kommun,
        start=dt.date(2025, 3, 1),
        end=dt.date(2025, 3, 31),
        status=MeasureStatus.DONE,
        polygon=square(*centre, 0.002),
        created_by=user,
    )
    measure.areas.set([area])
    MeasureActivity.objects.create(
        measure=measure, date=dt.date(2025, 3, 5), text=payload("activity"), organisation=w.kommun, created_by=user
    )
    meeting = Meeting.objects.create(
        municipality=w.ystad,
        agreement=agreement,
        held_on=dt.date(2025, 3, 4),
        title=payload("meeting"),
        agenda=payload("agenda"),
        minutes=payload("minutes"),
        created_by=user,
    )
    Decision.objects.create(meeting=meeting, text=payload("decision"), owner=w.kommun, measure=measure)
    picture = picture_compute(user=user, municipality_id=w.ystad.pk, period=WEEK, view="shared")
    snapshot = snapshot_save(
        user=user,
        picture=picture,
        assessment=payload("assessment"),
        decisions=payload("decisions"),
        ratings=[{"area_id": area.pk, "area": area.name, "rating": "red", "motivation": payload("rating")}],
    )
    record = ImportRecord.objects.create(
        kind=ImportKind.POLISEN,
        filename=payload("filename"),
        user=user,
        status=ImportStatus.FAILED,
        errors=[{"row": 2, "field": payload("field"), "message": payload("error")}],
        summary={"total": 1, "created": 0, "notes": [payload("note")], "unknown_types": {payload("type"): 1}},
    )
    request = PublicRequest.objects.create(
        municipality=w.ystad,
        category=category,
        lat=centre[1],
        lon=centre[0],
        description=payload("request"),
        status=PublicRequestStatus.ACCEPTED,
        moderated_at=timezone.now(),
    )
    return {
        "world": w,
        "incident": incidents[0],
        "area": area,
        "agreement": agreement,
        "measure": measure,
        "meeting": meeting,
        "snapshot": snapshot,
        "record": record,
        "request": request,
    }


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_stored_xss_is_escaped(poisoned, settings):
    """Every page, fragment, feed and document that shows a written text shows it escaped; JSON and CSV are served
    as such (never as HTML), and the PDFs print the payloads as text."""
    settings.SAMVERKAN_OPEN311_JURISDICTIONS = ["1286"]
    p = poisoned
    ystad = p["world"].ystad
    picture_query = {"municipality": ystad.pk, "kind": "week", "period": WEEK, "view": "shared"}
    htmx = {"HTTP_HX_REQUEST": "true"}
    pages = [
        (reverse("situation:dashboard"), {}, {}),
        (reverse("incidents:list"), {}, {}),
        (reverse("incidents:list"), {}, htmx),
        (reverse("incidents:detail", args=[p["incident"].pk]), {}, {}),
        (reverse("incidents:edit", args=[p["incident"].pk]), {}, {}),
        (reverse("incidents:map"), {}, {}),
        (reverse("incidents:create"), {}, {}),
        (reverse("situation:picture"), picture_query, {}),
        (reverse("situation:snapshot_document", args=[p["snapshot"].pk]), {}, {}),
        (reverse("situation:snapshot_edit", args=[p["snapshot"].pk]), {}, {}),
        (reverse("situation:snapshot_compare", args=[p["snapshot"].pk, p["snapshot"].pk]), {}, {}),
        (reverse("plan:measure_list"), {}, {}),
        (reverse("plan:measure_list"), {}, htmx),
        (reverse("plan:measure_detail", args=[p["measure"].pk]), {}, {}),
        (reverse("plan:measure_edit", args=[p["measure"].pk]), {}, {}),
        (reverse("plan:measure_calendar"), {"month": "2025-03"}, {}),
        (reverse("plan:measure_map"), {}, {}),
        (reverse("plan_eval:measure_evaluate", args=[p["measure"].pk]), {}, {}),
        (reverse("plan_eval:indicators", args=[p["agreement"].pk]), {}, {}),
        (reverse("plan_agreement:detail", args=[p["agreement"].pk]), {}, {}),
        (reverse("plan_agreement:followup", args=[p["agreement"].pk]), {}, {}),
        (reverse("plan_agreement:meetings"), {}, {}),
        (reverse("plan_agreement:meeting", args=[p["meeting"].pk]), {}, {}),
        (reverse("plan_agreement:meeting_create"), {}, {}),
        (reverse("imports:list"), {}, {}),
        (reverse("imports:detail", args=[p["record"].pk]), {}, {}),
        (reverse("imports:detail", args=[p["record"].pk]), {}, htmx),
        (reverse("moderation:list"), {}, {}),
        (reverse("moderation:detail", args=[p["request"].pk]), {}, {}),
    ]
    public_pages = [
        (reverse("public:municipality", args=["1286"]), {}, {}),
        (reverse("public:feed", args=["1286"]), {}, {}),
        (reverse("public:figures", args=["1286"]), {}, {}),
        (reverse("public:method"), {}, {}),
        (reverse("public:report", args=["1286"]), {}, {}),
        (reverse("open311:services", kwargs={"fmt": "xml"}), {}, {}),
        (reverse("open311:requests", kwargs={"fmt": "xml"}), {}, {}),
    ]
    coordinator = client_for_key(p["world"], "kommun_samordnare")
    shown = 0
    for client, batch in ((coordinator, pages), (Client(), public_pages)):
        for url, query, headers in batch:
            response = client.get(url, query, **headers)
            where = f"{url}?{query}"
            assert response.status_code == 200, where
            text = response.content.decode()
            assert not RAW.search(text), f"unescaped markup on {where}: {RAW.search(text).group(0)!r}"
            assert ESCAPED.search(text), f"{where} shows none of the written texts; the check would prove nothing"
            shown += 1
    assert shown == len(pages) + len(public_pages)
    # Lists that show no written text still must not let one through.
    for url, query in (
        (reverse("situation:snapshots"), {}),
        (reverse("situation:yearly"), {}),
        (reverse("plan_suggest:suggestions"), {"municipality": ystad.pk, "focus": "trygghet"}),
    ):
        assert not RAW.search(coordinator.get(url, query).content.decode()), url
    assert not RAW.search(Client().get(reverse("public:start")).content.decode())

    # JSON and CSV carry the texts as data, never as a document a browser would render.
    data_urls = [
        (coordinator, "/api/incidents", "application/json"),
        (coordinator, "/api/incidents.geojson", "application/json"),
        (coordinator, "/api/areas", "application/json"),
        (coordinator, "/api/categories", "application/json"),
        (coordinator, reverse("plan:measure_geojson"), "application/json"),
        (coordinator, reverse("exports:geojson"), "application/geo+json"),
        (coordinator, reverse("exports:csv"), "text/csv"),
        (Client(), reverse("public:figures_geojson", args=["1286"]), "application/geo+json"),
        (Client(), reverse("public:figures_csv", args=["1286"]), "text/csv"),
        (Client(), reverse("open311:requests", kwargs={"fmt": "json"}), "application/json"),
    ]
    for client, url, content_type in data_urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith(content_type), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if content_type.endswith("json"):
            assert "onerror" in json.dumps(json.loads(body)), f"{url} carries none of the texts"


def client_for_key(world, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


@pytest.mark.skipif(not HAVE_PDFTOTEXT, reason="pdftotext (poppler-utils) is missing, so PDF text cannot be read")
def test_stored_xss_in_pdfs_is_printed_as_text(poisoned):
    """The PDFs are printed from the escaped documents: the payloads appear as the characters they are, so no
    markup of theirs (an image to fetch, a script) reached the printer."""
    p = poisoned
    client = client_for_key(p["world"], "kommun_samordnare")
    for url in (
        reverse("situation:snapshot_pdf", args=[p["snapshot"].pk]),
        reverse("plan_agreement:followup_pdf", args=[p["agreement"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", url
        text = _squash(pdf_text(response.content)).replace(" ", "")
        assert "<imgsrc=xonerror=alert(" in text, url


@pytest.mark.parametrize(
    ("module", "printer", "renderer"),
    [
        ("samverkan.situation.documents", "snapshot_pdf", "snapshot_html"),
        ("samverkan.plan.agreement_services", "followup_pdf", "followup_html"),
    ],
)
def test_pdfs_fetch_nothing_from_the_network(monkeypatch, module, printer, renderer):
    """Should a document ever name an outside resource, printing it fails rather than fetching it (SSRF)."""
    import importlib

    from weasyprint.urls import FatalURLFetchingError

    documents = importlib.import_module(module)
    fetched = []
    for handler, method in ((urllib.request.HTTPHandler, "http_open"), (urllib.request.FileHandler, "file_open")):
        monkeypatch.setattr(handler, method, lambda self, req: fetched.append(req.full_url))
    for tag in ('<img src="http://127.0.0.1:9/secret">', '<link rel="stylesheet" href="file:///etc/passwd">'):
        page = f"<html><head>{tag}</head><body>Lägesbild</body></html>"
        monkeypatch.setattr(documents, renderer, lambda *args, page=page, **kwargs: page)
        with pytest.raises(FatalURLFetchingError):
            getattr(documents, printer)(None)
    assert fetched == []


def test_reflected_xss_is_escaped(canaries):
    """Query strings echoed back (in form fields, search boxes, errors) are escaped."""
    bad = payload("reflected")
    w = canaries.world
    signed_in = [
        (reverse("incidents:list"), {"date_from": bad, "status": bad}),
        (reverse("plan:measure_list"), {"date_from": bad}),
        (reverse("plan:measure_create"), {"title": bad, "motivation": bad, "time_windows": bad, "polygon": bad}),
        (reverse("plan_agreement:meetings"), {"q": bad}),
        (reverse("situation:picture"), {"municipality": w.ystad.pk, "kind": "week", "period": bad}),
        (reverse("plan_agreement:meeting_create"), {"municipality": bad}),
    ]
    public = [
        (reverse("accounts:login"), {"next": "/" + bad}),
        (reverse("public:figures", args=["1286"]), {"manad": bad}),
        (reverse("public:report_thanks", args=["1286"]), {"arende": bad}),
        (reverse("open311:requests", kwargs={"fmt": "xml"}), {"start_date": bad, "status": bad}),
        ("/open311/v2/" + bad + ".xml", {}),
    ]
    coordinator = client_for(canaries, "kommun_samordnare")
    for client, batch in ((coordinator, signed_in), (Client(), public)):
        for url, query in batch:
            response = client.get(url, query)
            assert response.status_code < 500, url
            text = response.content.decode()
            assert not RAW.search(text), f"unescaped markup on {url}: {RAW.search(text).group(0)!r}"
    # JSON errors that echo input are JSON, not HTML.
    response = coordinator.get("/api/incidents", {"status": bad, "date_from": bad})
    assert response.status_code == 422 and response["Content-Type"].startswith("application/json")


def test_scripts_build_no_html():
    """Our map scripts put text into the page as text (textContent, or strings passed through escapeHtml for
    Leaflet's tooltips and popups), never through innerHTML or eval."""
    folder = Path(django_settings.BASE_DIR) / "samverkan" / "static" / "samverkan"
    scripts = sorted(folder.glob("*.js"))
    assert scripts
    for script in scripts:
        code = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in code, f"{script.name} uses {sink}"
        for call in re.finditer(r"\.(bindPopup|bindTooltip)\(", code):
            for term in _terms(_first_argument(code, call.end())):
                assert SAFE_TERM.match(term), f"{script.name}: {call.group(1)} is given {term!r} unescaped"


# What a tooltip or popup may be built of: string literals, escaped values, our DOM-building helpers, and the
# detail URL the server wrote into the page with a numeric id put in.
SAFE_TERM = re.compile(
    r"""^("[^"]*"|'[^']*'|escapeHtml\(.*\)|popup\(.*\)|label\(.*\)|detailUrl\.replace\(.*\))$""", re.S
)


def _first_argument(code: str, start: int) -> str:
    """The source of a call's first argument, from just after its opening parenthesis."""
    depth, quote, i = 0, "", start
    while i < len(code):
        c = code[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            break
        i += 1
    return code[start:i]


def _terms(expression: str) -> list[str]:
    """The parts of a string concatenation ``a + "b" + c(d + e)``, split at its top-level plus signs."""
    terms, depth, quote, current = [], 0, "", ""
    for i, c in enumerate(expression):
        if quote:
            if c == quote and expression[i - 1] != "\\":
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "+" and depth == 0:
            terms.append(current.strip())
            current = ""
            continue
        current += c
    terms.append(current.strip())
    return terms


# --- CSRF ---------------------------------------------------------------------------------------------------------

# Views exempt from Django's CSRF middleware, each for a reason: Open311 clients send no cookies and the views read
# no session; the public report and the JSON API check the token themselves (after cheap refusals; only for
# cookie sessions).
CSRF_EXEMPT = {
    "open311/v2/^discovery\\.(?P<fmt>json|xml)$",
    "open311/v2/^services\\.(?P<fmt>json|xml)$",
    "open311/v2/^services/(?P<service_code>[\\w-]+)\\.(?P<fmt>json|xml)$",
    "open311/v2/^requests\\.(?P<fmt>json|xml)$",
    "open311/v2/^requests/(?P<service_request_id>[\\w-]+)\\.(?P<fmt>json|xml)$",
    "open311/v2/^(?P<path>.*)$",
    "oppet/<str:code>/trygghetsvandring/",
}


def _one_url(route: str, canaries) -> str:
    """A URL of the pattern, with the ids of an object someone may see."""
    (pattern,) = project_patterns()[route]
    if not ROUTES[route].checks:
        return url_builder(pattern)({})
    cases = cases_of(ROUTES[route].checks[0], canaries, url_builder(pattern), pattern.kwargs)
    return next((c.path for c in cases if c.allowed), cases[0].path)


def test_post_without_csrf_token_is_refused_everywhere(canaries):
    """Every URL of the project refuses a POST without the CSRF token — forms, htmx actions, log-in, log-out, the
    language switch — except the views exempt by design, which are exactly ``CSRF_EXEMPT`` (and the API's)."""
    found = project_patterns()
    exempt = set()
    checked = 0
    client = Client(enforce_csrf_checks=True)
    client.force_login(canaries.world.users["polis_admin"])
    anonymous = Client(enforce_csrf_checks=True)
    for route, patterns in found.items():
        if route.startswith("api/") and route not in ROUTES:
            continue  # the API's operations: below
        if getattr(patterns[0].callback, "csrf_exempt", False):
            exempt.add(route)
            continue
        url = _one_url(route, canaries)
        for who in (client, anonymous):
            response = who.post(url, {"note": "x", "to_status": "reviewed", "language": "en"})
            assert response.status_code == 403, f"POST {url} without a CSRF token: {response.status_code}"
            checked += 1
    assert exempt - {"api/", "api/docs", "api/openapi.json"} == CSRF_EXEMPT
    assert checked > 100
    # The public report checks the token itself.
    response = anonymous.post(reverse("public:report", args=["1286"]), {"comment": "x", "lat": "55.43", "lon": "13.82"})
    assert response.status_code == 403


def test_post_with_csrf_token_is_accepted(canaries):
    """The refusal above is the token's doing: the same client with the token gets through."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(canaries.world.users["kommun_samordnare"])
    page = client.get(reverse("incidents:detail", args=[canaries["reportbyreporter"].pk]))
    token = page.cookies[django_settings.CSRF_COOKIE_NAME].value
    url = reverse("incidents:review", args=[canaries["reportbyreporter"].pk])
    assert client.post(url, {"to_status": "reviewed"}).status_code == 403
    assert client.post(url, {"to_status": "reviewed", "csrfmiddlewaretoken": token}).status_code == 302
    canaries["reportbyreporter"].refresh_from_db()
    assert canaries["reportbyreporter"].status == "reviewed"


def test_api_post_needs_csrf_with_a_session_but_not_with_a_token(canaries):
    from samverkan.accounts.models import ApiToken
    from samverkan.incidents.models import Incident

    body = json.dumps({"category": "klotter", "lat": 55.43, "lon": 13.82, "occurred_from": "2025-03-05T20:00:00+01:00"})
    user = canaries.world.users["kommun_samordnare"]
    before = Incident.objects.count()
    session = Client(enforce_csrf_checks=True)
    session.force_login(user)
    assert session.post("/api/incidents", body, content_type="application/json").status_code == 403
    assert Incident.objects.count() == before
    key = "samverkan-test-key-0123456789abcdef"
    ApiToken.objects.create(user=user, name="GIS", key_hash=ApiToken.hash_key(key), prefix=key[:8])
    bearer = Client(enforce_csrf_checks=True)
    response = bearer.post("/api/incidents", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 201 and Incident.objects.count() == before + 1


def test_every_api_write_is_a_post_with_csrf():
    """The API's only write is POST /api/incidents (covered above); the rest only read."""
    schema = api.get_openapi_schema()
    writes = {(m, path) for path, ops in schema["paths"].items() for m in ops if m not in ("get", "head", "options")}
    assert writes == {("post", "/api/incidents")}


# --- SQL injection ------------------------------------------------------------------------------------------------

INJECTIONS = (
    "' OR 1=1 --",
    '1" OR "1"="1; DROP TABLE incidents_incident; --',
    "99999999999999999999",
    "-1",
    # NUL: PostgreSQL refuses it in text; "²" passes str.isdigit() but not int().
    "\x00",
    "ä' OR 'å'='å%²",
)


INCIDENT_PARAMS = ("date_from", "date_to", "area", "focus_area", "category", "status", "source", "page")
# (user, URL name, URL arguments, query parameters): every list, filter and query-string-reading page. An argument
# "measure" is filled with a measure of Ystad.
FILTERS = [
    ("kommun_rapportor", "incidents:list", {}, INCIDENT_PARAMS),
    ("kommun_rapportor", "incidents:map", {}, ("area", "category", "date_from")),
    # The exports read the list's filter, but answer an invalid one with 400 of their own.
    ("kommun_rapportor", "exports:csv", {}, ("date_from", "area", "category", "status")),
    ("kommun_rapportor", "exports:geojson", {}, ("date_to", "focus_area", "source", "page")),
    ("kommun_rapportor", "api:incidents", {}, INCIDENT_PARAMS),
    ("kommun_rapportor", "api:incidents_geojson", {}, INCIDENT_PARAMS),
    ("kommun_rapportor", "api:areas_geojson", {}, ("kind", "current")),
    (
        "kommun_lasare",
        "plan:measure_list",
        {},
        ("status", "focus_area", "area", "organisation", "date_from", "date_to", "page"),
    ),
    ("kommun_lasare", "plan:measure_calendar", {}, ("month", "area", "status")),
    ("kommun_lasare", "plan:measure_geojson", {}, ("area", "organisation", "date_from")),
    ("kommun_lasare", "plan:measure_map", {}, ("area", "status")),
    ("kommun_lasare", "plan_agreement:meetings", {}, ("q", "page")),
    ("kommun_lasare", "situation:picture", {}, ("municipality", "kind", "period", "area", "focus", "view")),
    ("kommun_lasare", "plan_suggest:suggestions", {}, ("municipality", "focus", "view")),
    ("kommun_lasare", "plan_eval:measure_evaluate", {"measure_id": "measure"}, ("evaluation",)),
    ("kommun_samordnare", "plan:measure_create", {}, ("municipality", "area", "focus", "polygon", "time_windows")),
    ("kommun_samordnare", "plan_agreement:meeting_create", {}, ("municipality",)),
    (
        "anonymous",
        "open311:requests",
        {"fmt": "json"},
        ("jurisdiction_id", "service_code", "start_date", "end_date", "status", "service_request_id"),
    ),
    ("anonymous", "open311:services", {"fmt": "json"}, ("jurisdiction_id",)),
    ("anonymous", "public:figures", {"code": "1286"}, ("manad",)),
    ("anonymous", "public:report_thanks", {"code": "1286"}, ("arende",)),
    (
        "kommun_samordnare",
        "audit:list",
        {},
        ("date_from", "date_to", "actor", "action", "object_type", "object_id", "municipality", "page"),
    ),
    ("kommun_samordnare", "audit:export", {}, ("actor", "object_id", "municipality", "format")),
]


@pytest.mark.parametrize(("key", "name", "kwargs", "params"), FILTERS, ids=[f[1] for f in FILTERS])
def test_sql_injection_in_filters(canaries, key, name, kwargs, params):
    """Every filter and query parameter, given quotes, SQL, NUL, unicode and huge numbers: a 4xx or an ordinary
    answer, never a server error, and never a row more than the unfiltered answer shows."""
    kwargs = {k: canaries["measureystad"].pk if v == "measure" else v for k, v in kwargs.items()}
    url = reverse(name, kwargs=kwargs)
    client = client_for(canaries, key)
    baseline = client.get(url)
    assert baseline.status_code == 200, url
    text = _body(baseline)
    seen, count = _canaries_in(canaries, text), _count(baseline, text)
    checked = 0
    for param in params:
        for value in INJECTIONS:
            response = client.get(url, {param: value})
            where = f"{url}?{param}={value!r} as {key}"
            assert response.status_code < 500, where
            text = _body(response)
            assert _canaries_in(canaries, text) <= seen, where
            if count is not None and response.status_code == 200:
                assert (_count(response, text) or 0) <= count, where
            checked += 1
    assert checked == len(params) * len(INJECTIONS)


# Pages crawled with query strings in the access matrix that are not filters: ``next`` is a redirect target (see
# the open-redirect test); a service's ``jurisdiction_id`` is read as on the list of services.
NOT_FILTERS = {"accounts:otp_verify", "open311:service"}


def test_every_crawled_query_string_is_tried_with_injections(canaries):
    """Every page the access matrix crawls with a query string is in ``FILTERS`` above, so a filter added there
    is tried here too."""
    names = {name for _key, name, _kwargs, _params in FILTERS} | NOT_FILTERS
    patterns = project_patterns()
    crawled = {
        patterns[route][0].name
        for route, spec in ROUTES.items()
        for check in spec.checks
        if route in patterns and check.method == "GET" and any(check.queries(canaries))
    }
    assert crawled <= names, crawled - names


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def _canaries_in(cw, text: str) -> set[str]:
    lowered = text.lower()
    return {c.text for c in cw.canaries.values() if c.text in lowered}


def _count(response, text: str) -> int | None:
    """The number of rows of a JSON list answer (API pages, GeoJSON), else None."""
    if response["Content-Type"].split(";")[0] not in ("application/json", "application/geo+json"):
        return None
    data = json.loads(text)
    if isinstance(data, dict) and "count" in data:
        return data["count"]
    if isinstance(data, dict) and "features" in data:
        return len(data["features"])
    return len(data) if isinstance(data, list) else None


def test_malformed_ids_in_paths_are_not_found(canaries):
    client = client_for(canaries, "polis_admin")
    for url in (
        "/reports/1%27%20OR%201=1/",
        "/api/incidents/1%20OR%201=1",
        "/api/incidents/99999999999999999999",
        "/oppet/1286%27--/siffror/",
        "/open311/v2/requests/%27%20OR%20%271%27=%271.json",
        "/lagesbild/sparade/99999999999999999999/",
    ):
        assert client.get(url).status_code in (404, 422), url


# --- open redirects -----------------------------------------------------------------------------------------------

EVIL = ("https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example", "javascript:alert(1)")


def _stays_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith(("//", "/\\"))


def test_no_open_redirect(world):
    """``next`` after log-in, log-out, the second factor and the language switch never leads off the site."""
    user = world.users["kommun_samordnare"]
    for target in EVIL:
        client = Client()
        response = client.post(
            reverse("accounts:login"),
            {"username": user.username, "password": "correct horse battery", "next": target},
        )
        assert response.status_code == 302 and _stays_on_site(response["Location"]), (target, response["Location"])
        response = client.get(reverse("accounts:login"), {"next": target})
        assert target not in response.content.decode()
        response = client.get(reverse("accounts:otp_verify"), {"next": target})
        assert response.status_code == 302 and _stays_on_site(response["Location"]), (target, response["Location"])
        response = client.post(reverse("set_language"), {"language": "en", "next": target}, HTTP_REFERER=target)
        assert response.status_code == 302 and _stays_on_site(response["Location"]), (target, response["Location"])
        response = client.post(reverse("accounts:logout") + "?next=" + target)
        assert response.status_code == 302 and _stays_on_site(response["Location"]), (target, response["Location"])
    # A local ``next`` is followed, so the refusals above are the check's doing.
    client = Client()
    response = client.post(
        reverse("accounts:login"),
        {"username": user.username, "password": "correct horse battery", "next": "/reports/"},
    )
    assert response["Location"] == "/reports/"


# --- headers and cookies ------------------------------------------------------------------------------------------


def test_security_headers(canaries):
    """Every kind of answer carries nosniff, a referrer policy and framing rules; exports are not cached."""
    client = client_for(canaries, "kommun_samordnare")
    snapshot = canaries["snapshotystad"]
    answers = {
        "page": client.get(reverse("incidents:list")),
        "fragment": client.get(reverse("incidents:list"), HTTP_HX_REQUEST="true"),
        "api": client.get("/api/incidents"),
        "export": client.get(reverse("exports:csv")),
        "document": client.get(reverse("situation:snapshot_document", args=[snapshot.pk])),
        "public": Client().get(reverse("public:start")),
        "open311": Client().get(reverse("open311:services", kwargs={"fmt": "json"})),
        "not found": client.get("/reports/999999/"),
        "log-in": Client().get(reverse("accounts:login")),
    }
    for kind, response in answers.items():
        assert response["X-Content-Type-Options"] == "nosniff", kind
        assert response["Referrer-Policy"] == "same-origin", kind
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", kind
        # Documents are framed by their own site's page; everything else by nobody.
        assert response["X-Frame-Options"] == ("SAMEORIGIN" if kind == "document" else "DENY"), kind
    cache = answers["export"]["Cache-Control"]
    assert "no-store" in cache and "private" in cache


def test_session_cookie_is_http_only_and_same_site(world):
    client = Client()
    user = world.users["kommun_samordnare"]
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": "correct horse battery"})
    assert response.status_code == 302
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
