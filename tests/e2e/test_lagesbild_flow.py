"""A coordinator builds the week's situational picture, writes an assessment, rates an area, saves it, downloads the
PDF, and corrects the text in a second version."""

from __future__ import annotations

import datetime as dt
import random
import re
import subprocess
from collections import Counter

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.test_reporting_flow import log_in
from tests.factories import YSTAD, IncidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ASSESSMENT = "Klottret i centrum har ökat sedan skolstarten; nattvandrarna ser fler grupper vid torget."
DECISIONS = "Kommunen sanerar inom ett dygn; polisen patrullerar torget fredag och lördag kväll."
MOTIVATION = "Flest rapporter i kommunen, flera om samlingar sent på kvällen."
ASSESSMENT_V2 = "Efter samrådet: ökningen gäller främst klotter vid stationen, inte torget."
POLICE_ONLY_MARKER = "Polisens vy"
CATEGORY_CODES = ["klotter", "skadegorelse", "narkotika", "berusade", "fortkorning", "otrygg-plats"]


def the_week(today: dt.date) -> tuple[dt.date, str]:
    """The last complete ISO week: its Monday and its text form (``2026-W47``)."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    iso = monday.isocalendar()
    return monday, f"{iso.year}-W{iso.week:02d}"


def fill_ten_weeks(world, week_start: dt.date) -> None:
    """Reports over Ystad and the last ten weeks, a dozen of them in the chosen week, some in Centrum, and one
    report only the police may see in the chosen week."""
    from samverkan.incidents.models import Category, Sensitivity
    from samverkan.places.models import Area

    rng = random.Random(1286)
    categories = list(Category.objects.filter(municipality=None, code__in=CATEGORY_CODES))
    centrum = Area.objects.get(municipality=world.ystad, name="Centrum")
    now = timezone.now()
    week_midnight = timezone.make_aware(dt.datetime.combine(week_start, dt.time()))
    moments = [now - dt.timedelta(hours=rng.uniform(1, 24 * 70)) for _ in range(30)]
    moments += [week_midnight + dt.timedelta(hours=rng.uniform(0.5, 24 * 7 - 0.5)) for _ in range(12)]
    for i, moment in enumerate(moments):
        in_centrum = i % 3 == 0
        spread = 0.008 if in_centrum else 0.06
        incident = IncidentFactory(
            category=rng.choice(categories),
            occurred_from=moment,
            lon=YSTAD[0] + rng.uniform(-spread, spread),
            lat=YSTAD[1] + rng.uniform(-spread * 0.7, spread * 0.7),
            municipality=world.ystad,
            source_organisation=rng.choice([world.kommun, world.polis]),
        )
        if in_centrum:
            incident.areas.add(centrum)
    restricted = IncidentFactory(
        category=categories[0],
        occurred_from=week_midnight + dt.timedelta(days=2, hours=22),
        municipality=world.ystad,
        source_organisation=world.polis,
        sensitivity=Sensitivity.POLICE_RESTRICTED,
        description="Spaning mot misstänkt langning vid stationen.",
    )
    restricted.areas.add(centrum)


def expected_counts(week_start: dt.date) -> tuple[int, Counter]:
    """Reports of the shared view in the week (local days): the total and the count per focus area code."""
    from samverkan.incidents.models import Incident, Sensitivity

    week = (week_start, week_start + dt.timedelta(days=7))
    in_week = [
        i
        for i in Incident.objects.select_related("category__focus_area").exclude(
            sensitivity=Sensitivity.POLICE_RESTRICTED
        )
        if week[0] <= timezone.localtime(i.occurred_from).date() < week[1]
    ]
    return len(in_week), Counter(i.category.focus_area.code for i in in_week)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def row_number(text: str, name: str) -> int:
    """The first number after ``name`` at the start of a table row in pdftotext's layout output."""
    match = re.search(rf"^\s*{re.escape(name)}\s+(\d+)\b", text, re.MULTILINE)
    assert match, f"no row {name!r} in the PDF text:\n{text}"
    return int(match.group(1))


def test_week_picture_saved_printed_and_revised(world, open_browser, screenshot):
    from samverkan.incidents.models import Incident, Sensitivity
    from samverkan.places.models import Area
    from samverkan.situation.models import Snapshot
    from samverkan.situation.services import daily_counts_rebuild

    week_start, week_text = the_week(timezone.localdate())
    fill_ten_weeks(world, week_start)
    daily_counts_rebuild()
    total, per_focus = expected_counts(week_start)
    with_restricted = Incident.objects.filter(sensitivity=Sensitivity.POLICE_RESTRICTED).count() + total
    assert 10 <= total < with_restricted
    centrum = Area.objects.get(municipality=world.ystad, name="Centrum")

    session = open_browser(DESKTOP)
    page = session.page
    log_in(session, "kommun_samordnare")

    # 1. Build the week's picture of Ystad, shared view.
    page.goto(session.url("/lagesbild/"))
    page.select_option("#id_municipality", value=str(world.ystad.pk))
    page.select_option("#id_kind", value="week")
    page.fill("#id_period", week_text)
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(rf"period={week_text}"))
    rows = page.locator("#key-figures tbody tr")
    expect(rows.last.locator("td").first).to_have_text(str(total))
    on_screen = {}
    for row in rows.all()[:-1]:
        name = row.locator("th").inner_text().strip()
        on_screen[name] = int(row.locator("td").first.inner_text())
    assert on_screen == {
        "Droger": per_focus["droger"],
        "Trafik": per_focus["trafik"],
        "Trygghet": per_focus["trygghet"],
    }
    assert sum(on_screen.values()) == total

    # 2. Assessment, decisions, Centrum rated red; saved as version 1.
    page.fill("#id_assessment", ASSESSMENT)
    page.fill("#id_decisions", DECISIONS)
    page.select_option(f"#id_rating_{centrum.pk}", value="red")
    page.fill(f"#id_motivation_{centrum.pk}", MOTIVATION)
    screenshot(page, "lagesbild.png", full_page=True)
    page.click("#save-picture")
    page.wait_for_url(re.compile(r"/lagesbild/sparade/\d+/$"))
    first = Snapshot.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert (first.number, first.assessment, first.decisions) == (1, ASSESSMENT, DECISIONS)
    assert first.picture["total"]["current"] == total
    expect(page.frame_locator("iframe.document").locator("h1")).to_contain_text("Ystad")

    # 3. The PDF says what the screen said, and nothing only the police may see.
    with page.expect_download() as download_info:
        page.click("#download-pdf")
    download = download_info.value
    assert download.suggested_filename.endswith("-v1.pdf")
    text = pdf_text(download.path())
    assert row_number(text, "Totalt") == total
    for name, count in on_screen.items():
        assert row_number(text, name) == count, name
    assert ASSESSMENT in " ".join(text.split())
    assert MOTIVATION in " ".join(text.split())
    assert "Sida 1 av" in text
    assert "Uppgifter som bara polisen får se ingår inte" in text
    assert POLICE_ONLY_MARKER not in text
    assert "langning" not in text

    # 4. A corrected assessment is a new version; the comparison shows both texts.
    page.locator(f'a[href="/lagesbild/sparade/{first.pk}/andra/"]').click()
    page.wait_for_url(session.url(f"/lagesbild/sparade/{first.pk}/andra/"))
    expect(page.locator("#id_assessment")).to_have_value(ASSESSMENT)
    page.fill("#id_assessment", ASSESSMENT_V2)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/lagesbild/sparade/\d+/$"))
    second = Snapshot.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert second.pk != first.pk
    assert (second.number, second.assessment, second.decisions) == (2, ASSESSMENT_V2, DECISIONS)
    assert second.picture == first.picture
    page.locator(f'a[href="/lagesbild/sparade/{first.pk}/jamfor/{second.pk}/"]').click()
    page.wait_for_url(session.url(f"/lagesbild/sparade/{first.pk}/jamfor/{second.pk}/"))
    expect(page.locator("table.compare").get_by_text(ASSESSMENT, exact=True)).to_be_visible()
    expect(page.locator("table.compare").get_by_text(ASSESSMENT_V2, exact=True)).to_be_visible()
    expect(page.locator("table.compare tr.changed")).to_have_count(1)

    assert session.problems.items == []
