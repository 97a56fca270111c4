"""axe-core finds no serious or critical violation on any public page: every page reachable by links from /oppet/."""

from __future__ import annotations

from collections import deque
from urllib.parse import urldefrag, urlparse

import pytest

from tests.e2e import test_accessibility
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PUBLIC = "/oppet/"
MAX_PAGES = 60

# The demo-like data of the product's own axe test: reports, the Ystad demo agreement and an evaluated measure.
filled = test_accessibility.filled
planned = test_accessibility.planned


def test_every_public_page_has_no_serious_or_critical_violations(planned, open_browser):
    ystad = planned[0].municipality
    session = open_browser(PHONE)
    page = session.page
    start = session.url(PUBLIC)
    queue = deque([start])
    seen = {start}
    found: dict[str, list[dict]] = {}
    others: list[str] = []

    while queue and len(found) < MAX_PAGES:
        url = queue.popleft()
        path = url.removeprefix(session.base_url)
        # Downloads (CSV, GeoJSON) and feeds are fetched, not opened: a browser saves or shows them as text.
        head = page.request.get(url)
        assert head.ok, f"{path} answered {head.status}"
        if not head.headers.get("content-type", "").startswith("text/html"):
            others.append(path)
            continue
        response = page.goto(url)
        assert response is not None and response.ok, f"{path} answered {response and response.status}"
        found[path] = axe_violations(page)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = urldefrag(href).url
            if link.startswith(start) and urlparse(link).netloc == urlparse(start).netloc and link not in seen:
                seen.add(link)
                queue.append(link)

    print(f"axe checked {len(found)} public pages: {', '.join(found)}; fetched only: {', '.join(others) or 'none'}")
    # The start page leads to the municipality and from there to the citizen's report form.
    assert PUBLIC in found
    assert f"{PUBLIC}{ystad.code}/trygghetsvandring/" in found
    failing = {path: violations for path, violations in found.items() if violations}
    assert not failing, "\n".join(f"{path}:\n{describe(violations)}" for path, violations in failing.items())
    assert session.problems.items == []
