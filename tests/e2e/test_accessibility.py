"""axe-core finds no serious or critical violation on the product's pages, and the lägesbild works with the keyboard."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import DESKTOP
from tests.e2e.test_lagesbild_flow import fill_ten_weeks, the_week
from tests.e2e.test_plan_flow import evaluated_measure, fill_thirty_weeks
from tests.e2e.test_reporting_flow import PASSWORD, log_in, wait_for_outline

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Enough for every focusable element of a week's picture, the map controls and the form fields included.
MAX_TABS = 250


def a_public_request(world) -> None:
    """One observation from the public waiting for moderation, so the moderation list has a row."""
    from samverkan.imports.models_open311 import PublicRequest
    from samverkan.incidents.models import Category

    PublicRequest.objects.create(
        category=Category.objects.get(code="klotter", municipality=None),
        lat=55.431,
        lon=13.821,
        municipality=world.ystad,
        description="Klotter på busskuren vid torget.",
    )


def picture_url(world) -> str:
    _monday, week_text = the_week(timezone.localdate())
    return f"/lagesbild/?municipality={world.ystad.pk}&kind=week&period={week_text}&view=shared"


@pytest.fixture
def filled(world):
    from samverkan.situation.services import daily_counts_rebuild

    monday, _week_text = the_week(timezone.localdate())
    fill_ten_weeks(world, monday)
    daily_counts_rebuild()
    a_public_request(world)
    return world


@pytest.fixture
def planned(filled):
    """The Ystad demo agreement (promises, indicators, meetings) and an evaluated measure at a drug hotspot."""
    from samverkan.plan.demo import KOMMUN, POLIS, YSTAD_CODE, demo_agreement_load
    from samverkan.plan.models import Agreement
    from samverkan.situation.services import daily_counts_rebuild

    world = filled
    data = fill_thirty_weeks(world)
    daily_counts_rebuild()
    assert demo_agreement_load(
        municipalities={YSTAD_CODE: world.ystad},
        organisations={KOMMUN: world.kommun, POLIS: world.polis},
        created_by=world.users["kommun_samordnare"],
    )
    agreement = Agreement.objects.get(municipality=world.ystad)
    assert agreement.promises.exists() and agreement.meetings.exists()
    return agreement, evaluated_measure(world, data)


def test_no_serious_or_critical_violations(filled, planned, open_browser):
    from samverkan.imports.models_open311 import PublicRequest
    from samverkan.incidents.models import Incident, Sensitivity

    world = filled
    session = open_browser(DESKTOP)
    page = session.page
    found: dict[str, list[dict]] = {}

    def check(name: str) -> None:
        found[name] = axe_violations(page)

    page.goto(session.url("/accounts/login/"))
    check("login")
    page.fill("#id_username", "kommun_samordnare")
    page.fill("#id_password", PASSWORD)
    page.locator("main form").get_by_role("button", name="Logga in").click()
    page.wait_for_url(session.url("/"))
    check("dashboard")

    page.goto(session.url("/reports/new/"))
    wait_for_outline(page, "report-map")
    check("report form")

    page.goto(session.url("/reports/"))
    expect(page.locator("#results tbody tr").first).to_be_visible()
    check("report list")

    incident = Incident.objects.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED).order_by("pk").first()
    page.goto(session.url(f"/reports/{incident.pk}/"))
    wait_for_outline(page, "detail-map")
    check("report detail")

    page.goto(session.url("/reports/map/"))
    page.wait_for_selector("#incident-map[data-loaded]")
    check("map")

    page.goto(session.url(picture_url(world)))
    expect(page.locator("#key-figures")).to_be_visible()
    wait_for_outline(page, "picture-map")
    check("lägesbild")

    page.click("#save-picture")
    page.wait_for_url(re.compile(r"/lagesbild/sparade/\d+/$"))
    snapshot_path = page.url.removeprefix(session.base_url)
    expect(page.frame_locator("iframe.document").locator("h1")).to_be_visible()
    check("saved picture")

    page.goto(session.url(snapshot_path + "dokument/"))
    check("document")

    page.goto(session.url("/imports/"))
    check("imports")

    page.goto(session.url("/moderation/"))
    expect(page.locator(f'main a[href="/moderation/{PublicRequest.objects.get().pk}/"]')).to_be_visible()
    check("moderation")

    agreement, measure = planned
    page.goto(session.url("/plan/atgarder/"))
    expect(page.locator(f'main a[href="/plan/atgarder/{measure.pk}/"]')).to_be_visible()
    check("measures")

    page.goto(session.url(f"/plan/atgarder/{measure.pk}/"))
    page.wait_for_selector("#measure-detail-map[data-ready]")
    check("measure detail")

    ongoing = agreement.measures.get(status="ongoing")
    page.goto(session.url(f"/plan/atgarder/{ongoing.pk}/"))
    expect(page.locator('button[name="to_status"]').first).to_be_visible()
    check("measure detail, ongoing")

    page.goto(session.url("/plan/atgarder/ny/"))
    page.wait_for_selector("#measure-draw-map[data-ready]")
    check("measure form")

    page.goto(session.url(f"/plan/atgarder/kalender/?month={measure.start:%Y-%m}"))
    expect(page.get_by_text(measure.title).first).to_be_visible()
    check("measure calendar")

    page.goto(session.url("/plan/atgarder/karta/"))
    page.wait_for_selector("#measure-map[data-loaded]")
    check("measure map")

    page.goto(session.url(f"/plan/forslag/?municipality={world.ystad.pk}&focus=droger"))
    page.wait_for_selector("#suggestion-map[data-loaded]")
    expect(page.locator("#backtest")).to_be_visible()
    check("suggestions")

    page.goto(session.url("/overenskommelse/"))
    page.wait_for_url(session.url(f"/overenskommelse/{agreement.pk}/"))
    expect(page.locator(f"#promise-{agreement.promises.first().pk}")).to_be_attached()
    check("agreement")

    page.goto(session.url("/overenskommelse/moten/"))
    meeting = agreement.meetings.order_by("pk").first()
    expect(page.locator(f'main a[href="/overenskommelse/moten/{meeting.pk}/"]')).to_be_visible()
    check("meetings")

    page.goto(session.url(f"/overenskommelse/moten/{meeting.pk}/"))
    expect(page.locator("#decisions")).to_be_visible()
    check("meeting")

    page.goto(session.url(f"/plan/atgarder/{measure.pk}/utvardering/"))
    expect(page.locator("#verdict")).to_be_visible()
    expect(page.locator("svg.chart-evaluation")).to_be_visible()
    check("evaluation")

    page.goto(session.url(f"/plan/overenskommelser/{agreement.pk}/indikatorer/"))
    expect(page.locator("#indicators tbody tr")).to_have_count(agreement.indicators.count())
    check("indicators")

    page.goto(session.url(f"/overenskommelse/{agreement.pk}/uppfoljning/"))
    expect(page.locator("h1")).to_be_visible()
    check("follow-up report")

    assert len(found) == 24
    failing = {name: violations for name, violations in found.items() if violations}
    assert not failing, "\n".join(f"{name}:\n{describe(violations)}" for name, violations in failing.items())
    assert session.problems.items == []


def focus_state(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                id: el.id,
                show: el.matches('form.filters button[type=submit]'),
                visible: el.matches(':focus-visible'),
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
            };
        }"""
    )


def test_lagesbild_works_with_the_keyboard(filled, open_browser):
    session = open_browser(DESKTOP)
    page = session.page
    log_in(session, "kommun_samordnare")
    page.goto(session.url(picture_url(filled)))
    expect(page.locator("#key-figures")).to_be_visible()

    reached: dict[str, dict] = {}
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        state = focus_state(page)
        if state["show"] and "show" not in reached:
            reached["show"] = state
        if state["id"] == "save-picture":
            reached["save"] = state
            break
    assert set(reached) == {"show", "save"}, f"Tab reached only {sorted(reached)} in {MAX_TABS} presses"
    for name, state in reached.items():
        assert state["visible"] and state["outline"], f"the {name} button has no visible focus: {state}"

    # Enter on the focused save button saves, as a click would.
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/lagesbild/sparade/\d+/$"))
    assert session.problems.items == []
