"""The public pages: agreement, citizen promises, finished measures, the yearly picture's public version and the
feed — open to anyone, and never showing free text written for the parties."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from samverkan.incidents.models import Category, Sensitivity
from samverkan.places.models import Area
from samverkan.plan.demo import KOMMUN, POLIS, TITLE, YSTAD_CODE, demo_agreement_load
from samverkan.plan.models import (
    Agreement,
    CitizenPromise,
    Commitment,
    Decision,
    Evaluation,
    Measure,
    MeasureActivity,
    MeasureStatus,
    Meeting,
    Problem,
    PromiseStatus,
)
from samverkan.public.selectors import VERDICT_WORDS
from samverkan.situation.services import daily_counts_rebuild, snapshot_save
from tests.factories import IncidentFactory

ATOM = "{http://www.w3.org/2005/Atom}"
# Free text written for the parties; none of it may reach a public page.
SECRET = {
    "measure": "HEMLIG-ATGARDSTEXT-4711",
    "agreement": "HEMLIG-OVERENSKOMMELSE-2231",
    "police_evaluation": "POLISENS-UTVARDERING-9090",
    "old_evaluation": "GAMMAL-UTVARDERING-3131",
    "assessment": "HEMLIG-BEDOMNING-5150",
    "decisions": "HEMLIG-BESLUT-6262",
    "motivation": "HEMLIG-MOTIVERING-7373",
    "near_repeat": "HEMLIG-NARUPPREPNING-8484",
    "analysis": "HEMLIG-ANALYS-9595",
}
# An evaluation's summary quotes raw counts, small ones too: the public sees the verdict in words only.
SHARED_EVALUATION = "Antalet rapporter i området minskade från 3 till 1. OFFENTLIG-SAMMANFATTNING-1212"
POLICE_ONLY_COUNT = 777


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def pages_of(client: Client, code: str = YSTAD_CODE) -> dict[str, str]:
    return {
        url: page(client, url)
        for url in ("/oppet/", f"/oppet/{code}/", f"/oppet/{code}/arlig-lagesbild/", f"/oppet/{code}/flode/")
    }


def article(html: str, element_id: str) -> str:
    match = re.search(rf'<article[^>]*id="{element_id}".*?</article>', html, re.S)
    assert match, element_id
    return match.group(0)


def yearly_picture(world, *, view: str = "shared", by_focus=None, key_figures=None, label: str = "2025") -> dict:
    """A yearly picture as ``yearly_picture`` makes it, with free text in every place the public must not see."""
    picture = {
        "schema": 1,
        "municipality": {"id": world.ystad.pk, "code": YSTAD_CODE, "name": "Ystad"},
        "area": None,
        "focus_area": None,
        "period": {"kind": "year", "start": "2025-01-01", "end": "2026-01-01", "label": label},
        "view": view,
        "restricted_excluded": view == "shared",
        "data_cutoff": timezone.now().isoformat(),
        "total": {"current": 3},
        "key_figures": key_figures or [],
        "near_repeat": {"message": SECRET["near_repeat"]},
    }
    if by_focus is not None:
        picture["yearly"] = {
            "year": 2025,
            "complete": True,
            "through": "2025-12-31",
            "years": [2023, 2024, 2025],
            "mapping": {"total": [0, 0, 0], "by_focus": by_focus},
            "analysis": [{"topic": "Trender", "text": SECRET["analysis"]}],
            "proposals": [{"kind": "area", "problem": SECRET["analysis"], "evidence": [SECRET["analysis"]]}],
        }
    return picture


def reports(world, category: str, year: int, n: int, *, sensitivity=Sensitivity.PUBLIC, municipality=None) -> None:
    """``n`` reports in mid-June of ``year``; those in Ystad are linked to its area too, so the area counts exist
    beside the municipality's."""
    municipality = municipality or world.ystad
    centrum = Area.objects.get(municipality=world.ystad, name="Centrum")
    when = timezone.make_aware(dt.datetime(year, 6, 10, 14, 0))
    for i in range(n):
        incident = IncidentFactory(
            municipality=municipality,
            source_organisation=world.kommun,
            category=Category.objects.get(code=category, municipality=None),
            sensitivity=sensitivity,
            occurred_from=when + dt.timedelta(days=i),
            description=SECRET["measure"],
        )
        if municipality == world.ystad:
            incident.areas.add(centrum)


def save_yearly(world, picture: dict):
    return snapshot_save(
        user=world.users["kommun_samordnare"],
        picture=picture,
        assessment=SECRET["assessment"],
        decisions=SECRET["decisions"],
        ratings=[{"area_id": 1, "area": "Centrum", "rating": "red", "motivation": SECRET["motivation"]}],
        kind="yearly",
    )


def evaluate(measure: Measure, user, *, view: str, verdict: str, summary: str, days_ago: int) -> Evaluation:
    evaluation = Evaluation.objects.create(
        measure=measure, computed_by=user, parameters={"view": view}, result={}, verdict=verdict, summary=summary
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(computed_at=timezone.now() - dt.timedelta(days=days_ago))
    return evaluation


@pytest.fixture
def published(world, settings):
    """The Ystad demo agreement, free text everywhere it may be written, evaluations in both views and yearly
    pictures in both views."""
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = 5
    user = world.users["kommun_samordnare"]
    assert demo_agreement_load(
        municipalities={YSTAD_CODE: world.ystad},
        organisations={KOMMUN: world.kommun, POLIS: world.polis},
        created_by=user,
    )
    secret = SECRET["measure"]
    Measure.objects.update(
        description=secret,
        motivation=secret,
        resources=secret,
        target_group=secret,
        expected_effect=secret,
        responsible_person=secret,
    )
    for measure in Measure.objects.all():
        MeasureActivity.objects.create(
            measure=measure, date=dt.date(2024, 5, 2), text=secret, organisation=world.kommun, created_by=user
        )
    Agreement.objects.update(meeting_schedule=SECRET["agreement"], follow_up=SECRET["agreement"])
    Problem.objects.update(description=SECRET["agreement"], cause_offender=SECRET["agreement"])
    Commitment.objects.update(text=SECRET["agreement"])
    Meeting.objects.update(minutes=SECRET["agreement"], agenda=SECRET["agreement"])
    Decision.objects.update(text=SECRET["agreement"])

    lighting = Measure.objects.get(title__startswith="Ny belysning")
    evaluate(lighting, user, view="shared", verdict="no_effect_shown", summary=SECRET["old_evaluation"], days_ago=30)
    evaluate(lighting, user, view="shared", verdict="effect_shown", summary=SHARED_EVALUATION, days_ago=10)
    # The newest evaluation is the police's: it may count police-only reports, so the shared one is shown.
    evaluate(lighting, user, view="police", verdict="too_little_data", summary=SECRET["police_evaluation"], days_ago=1)

    # The picture's own counts include shared reports: none of them may be published.
    by_focus = [
        {"code": "droger", "name": "Droger", "counts": [40, 50, 60]},
        {"code": "trafik", "name": "Trafik", "counts": [100, 120, 130]},
        {"code": "trygghet", "name": "Trygghet", "counts": [70, 80, 90]},
    ]
    save_yearly(world, yearly_picture(world, by_focus=by_focus))
    # The public reports in public categories: trygghet 4, 5, 6 and trafik 0, 12 (two categories), 3 in 2023–2025.
    for year, n in ((2023, 4), (2024, 5), (2025, 6)):
        reports(world, "klotter", year, n)
    reports(world, "buskorning", 2024, 7)
    reports(world, "fortkorning", 2024, 5)
    reports(world, "buskorning", 2025, 3)
    # None of these may count: shared or police-only reports, categories closed to the public, other years, another
    # municipality.
    reports(world, "klotter", 2023, 3, sensitivity=Sensitivity.SHARED)
    reports(world, "buskorning", 2025, 5, sensitivity=Sensitivity.POLICE_RESTRICTED)
    reports(world, "brand", 2023, 5)
    reports(world, "narkotika", 2024, 9)
    reports(world, "klotter", 2022, 8)
    reports(world, "buskorning", 2023, 6, municipality=world.simrishamn)
    daily_counts_rebuild()
    police = [{"code": "droger", "name": "Droger", "counts": [POLICE_ONLY_COUNT] * 3}]
    save_yearly(world, yearly_picture(world, view="police", by_focus=police))
    return {"lighting": lighting}


# --------------------------------------------------------------------------------------------------------------------
# Open to anyone
# --------------------------------------------------------------------------------------------------------------------


def test_pages_answer_without_login_and_start_lists_published_municipalities(published, world):
    client = Client()
    pages = pages_of(client)
    start = pages["/oppet/"]
    assert f'href="/oppet/{YSTAD_CODE}/"' in start and world.ystad.name in start
    # Simrishamn has published nothing.
    assert f'href="/oppet/{world.simrishamn.code}/"' not in start
    municipality = pages[f"/oppet/{YSTAD_CODE}/"]
    assert f'href="/oppet/{YSTAD_CODE}/arlig-lagesbild/"' in municipality
    assert f'href="/oppet/{YSTAD_CODE}/flode/"' in municipality
    assert 'href="/oppet/metod/"' in municipality


def test_a_municipality_with_nothing_published_still_has_its_pages(published, world):
    client = Client()
    code = world.simrishamn.code
    assert world.simrishamn.name in page(client, f"/oppet/{code}/")
    assert page(client, f"/oppet/{code}/arlig-lagesbild/")
    root = ET.fromstring(client.get(f"/oppet/{code}/flode/").content)
    assert root.findall(f"{ATOM}entry") == []


@pytest.mark.parametrize("code", ["9998", "0000", "abcd", "12860"])
@pytest.mark.parametrize("suffix", ["", "arlig-lagesbild/", "flode/"])
def test_unknown_municipality_is_404(published, code, suffix):
    assert Client().get(f"/oppet/{code}/{suffix}").status_code == 404


# --------------------------------------------------------------------------------------------------------------------
# The agreement, promises and measures
# --------------------------------------------------------------------------------------------------------------------


def test_agreement_in_plain_words(published, world):
    html = page(Client(), f"/oppet/{YSTAD_CODE}/")
    agreement = Agreement.objects.get(title=TITLE)
    assert escape(agreement.title) in html
    assert world.kommun.name in html and world.polis.name in html
    assert escape(agreement.summary) in html
    for goal in agreement.goals.all():
        assert escape(goal.text) in html
    for name in ("Droger", "Trafik", "Trygghet"):
        assert name in html
    assert escape(agreement.steering_group) in html
    # The demo agreement ran 2023–2025: it is the latest, not one in force.
    assert "8 mars 2023" in html


def test_promises_with_responsible_party_status_and_follow_up(published, world):
    html = page(Client(), f"/oppet/{YSTAD_CODE}/")
    promises = list(CitizenPromise.objects.all())
    assert len(promises) == 7
    with translation.override("sv"):
        labels = {p.pk: str(PromiseStatus(p.status).label) for p in promises}
    for p in promises:
        block = article(html, f"promise-{p.pk}")
        assert escape(p.text) in block
        assert p.responsible.name in block
        assert f"status-{p.status}" in block and labels[p.pk] in block
        assert escape(p.follow_up) in block


def test_promises_of_the_period_covering_today_else_the_latest(published, world):
    agreement = Agreement.objects.get(title=TITLE)
    today = timezone.localdate()
    old = CitizenPromise.objects.create(
        agreement=agreement,
        period_start=dt.date(2020, 1, 1),
        period_end=dt.date(2021, 12, 31),
        text="Ett gammalt löfte GAMMALT-LOFTE-1",
        responsible=world.kommun,
    )
    html = page(Client(), f"/oppet/{YSTAD_CODE}/")
    assert f'id="promise-{old.pk}"' not in html
    assert CitizenPromise.objects.filter(period_end=dt.date(2025, 12, 31)).count() == 7
    assert html.count('class="review public-promise"') == 7

    current = CitizenPromise.objects.create(
        agreement=agreement,
        period_start=today - dt.timedelta(days=30),
        period_end=today + dt.timedelta(days=300),
        text="Ett löfte för i år AKTUELLT-LOFTE-2",
        responsible=world.polis,
        status=PromiseStatus.ONGOING,
    )
    html = page(Client(), f"/oppet/{YSTAD_CODE}/")
    assert f'id="promise-{current.pk}"' in html
    assert html.count('class="review public-promise"') == 1


def test_finished_measures_with_the_latest_shared_evaluation(published, world):
    html = page(Client(), f"/oppet/{YSTAD_CODE}/")
    done = Measure.objects.filter(status=MeasureStatus.DONE)
    assert done.count() == 3
    for measure in done:
        block = article(html, f"measure-{measure.pk}")
        assert escape(measure.title) in block
        assert measure.focus_area.name_sv in block
        for area in measure.areas.all():
            assert escape(area.name) in block
    for measure in Measure.objects.exclude(status=MeasureStatus.DONE):
        assert f'id="measure-{measure.pk}"' not in html
    block = article(html, f"measure-{published['lighting'].pk}")
    assert escape(VERDICT_WORDS["effect_shown"]) in block
    # The older shared verdict and the police's are not shown.
    assert escape(VERDICT_WORDS["no_effect_shown"]) not in block
    assert escape(VERDICT_WORDS["too_little_data"]) not in block
    assert "OFFENTLIG-SAMMANFATTNING" not in html
    assert "juni 2024" in block  # the period, to the month
    assert SECRET["police_evaluation"] not in html
    assert SECRET["old_evaluation"] not in html


def test_a_measure_with_only_a_police_evaluation_shows_none(published, world):
    Evaluation.objects.filter(parameters__view="shared").delete()
    html = page(Client(), f"/oppet/{YSTAD_CODE}/")
    block = article(html, f"measure-{published['lighting'].pk}")
    assert SECRET["police_evaluation"] not in block
    assert "OFFENTLIG-SAMMANFATTNING" not in block
    for words in VERDICT_WORDS.values():
        assert escape(words) not in block


def test_free_text_for_the_parties_never_reaches_a_public_page(published, world):
    for language in ("sv", "en"):
        client = Client()
        client.cookies["django_language"] = language
        everything = "\n".join(pages_of(client).values())
        for name, secret in SECRET.items():
            assert secret not in everything, f"{name} reached a public page ({language})"
        assert "OFFENTLIG-SAMMANFATTNING" not in everything
        assert str(POLICE_ONLY_COUNT) not in everything


# --------------------------------------------------------------------------------------------------------------------
# The yearly picture's public version
# --------------------------------------------------------------------------------------------------------------------


def figure_cells(html: str) -> dict[str, list[str]]:
    table = re.search(r'<table[^>]*id="yearly-figures".*?</table>', html, re.S)
    assert table, "the yearly figures table"
    rows = {}
    for name, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table.group(0), re.S):
        rows[name] = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>.*?</td>", cells, re.S)]
    return rows


def test_yearly_public_version_suppresses_small_counts(published, world):
    client = Client()
    client.cookies["django_language"] = "en"
    html = page(client, f"/oppet/{YSTAD_CODE}/arlig-lagesbild/")
    assert all(f">{year}</th>" in html for year in (2023, 2024, 2025))
    cells = figure_cells(html)
    few = "fewer than 5"
    # Drugs has no public category, so it has no public counts at all.
    assert cells == {"Safety": [few, "5", "6"], "Traffic": [few, "12", few]}
    for secret in (SECRET["assessment"], SECRET["decisions"], SECRET["motivation"], SECRET["near_repeat"]):
        assert secret not in html
    assert SECRET["analysis"] not in html


def test_yearly_minimum_is_a_setting(published, world, settings):
    settings.SAMVERKAN_PUBLIC_MIN_COUNT = 6
    client = Client()
    client.cookies["django_language"] = "en"
    cells = figure_cells(page(client, f"/oppet/{YSTAD_CODE}/arlig-lagesbild/"))
    few = "fewer than 6"
    assert cells == {"Safety": [few, few, "6"], "Traffic": [few, "12", few]}


def test_yearly_uses_the_latest_picture_and_without_years_counts_its_period_year(published, world):
    # The picture's key figures are not what is published: the public reports of 2026 are.
    key_figures = [
        {"code": "droger", "name": "Droger", "current": 9},
        {"code": "trygghet", "name": "Trygghet", "current": 2},
    ]
    picture = yearly_picture(world, key_figures=key_figures, label="2026")
    picture["period"].update(start="2026-01-01", end="2027-01-01")
    save_yearly(world, picture)
    reports(world, "skadegorelse", 2026, 5)
    reports(world, "fortkorning", 2026, 4)
    reports(world, "klotter", 2026, 4, sensitivity=Sensitivity.SHARED)
    daily_counts_rebuild()
    client = Client()
    client.cookies["django_language"] = "en"
    html = page(client, f"/oppet/{YSTAD_CODE}/arlig-lagesbild/")
    assert figure_cells(html) == {"Safety": ["5"], "Traffic": ["fewer than 5"]}
    assert ">2026</th>" in html and ">2023</th>" not in html


def test_yearly_page_without_a_picture(world):
    html = page(Client(), f"/oppet/{YSTAD_CODE}/arlig-lagesbild/")
    assert 'id="yearly-figures"' not in html


# --------------------------------------------------------------------------------------------------------------------
# The feed
# --------------------------------------------------------------------------------------------------------------------


def test_feed_of_follow_ups_newest_first(published, world):
    agreement = Agreement.objects.get(title=TITLE)
    undated = CitizenPromise.objects.create(
        agreement=agreement,
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2025, 12, 31),
        text="Ett löfte utan uppföljning",
        responsible=world.kommun,
    )
    marked_up = CitizenPromise.objects.get(text__startswith="Kommunen förbättrar belysningen")
    marked_up.follow_up = "Klart <b>i juni</b> & på tid."
    marked_up.save()

    response = Client().get(f"/oppet/{YSTAD_CODE}/flode/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    dated = CitizenPromise.objects.exclude(follow_up_updated=None).order_by("-follow_up_updated", "-id")
    assert len(entries) == dated.count() == 7
    assert undated.pk not in [int(e.find(f"{ATOM}link").get("href").rsplit("-", 1)[1]) for e in entries]
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    for entry, promise in zip(entries, dated, strict=True):
        assert entry.find(f"{ATOM}link").get("href").endswith(f"/oppet/{YSTAD_CODE}/#promise-{promise.pk}")
        assert entry.find(f"{ATOM}updated").text.startswith(promise.follow_up_updated.isoformat())
        assert promise.text.startswith(entry.find(f"{ATOM}title").text.rstrip("…").strip())
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "text"
        assert promise.follow_up in content.text
        with translation.override("sv"):
            assert str(PromiseStatus(promise.status).label) in content.text
    # Plain text stays plain text: no markup is handed to feed readers.
    assert b"<b>" not in response.content


# --------------------------------------------------------------------------------------------------------------------
# With the demo data and a real yearly picture
# --------------------------------------------------------------------------------------------------------------------


def test_with_the_demo_agreement_and_a_real_yearly_picture(world, settings):
    from samverkan.situation.yearly import yearly_picture as compute_yearly

    settings.SAMVERKAN_PUBLIC_MIN_COUNT = 5
    user = world.users["kommun_samordnare"]
    year = timezone.localdate().year - 1
    klotter = Category.objects.get(code="klotter", municipality=None)
    buskorning = Category.objects.get(code="buskorning", municipality=None)
    when = timezone.make_aware(dt.datetime(year, 6, 10, 14, 0))
    mix = (
        (klotter, 7, Sensitivity.PUBLIC),
        (klotter, 3, Sensitivity.SHARED),
        (buskorning, 2, Sensitivity.PUBLIC),
        (buskorning, 4, Sensitivity.SHARED),
    )
    for i, (category, n, sensitivity) in enumerate(mix):
        for j in range(n):
            IncidentFactory(
                municipality=world.ystad,
                source_organisation=world.kommun,
                category=category,
                sensitivity=sensitivity,
                occurred_from=when + dt.timedelta(days=10 * i + j),
                description=SECRET["measure"],
            )
    daily_counts_rebuild()
    assert demo_agreement_load(
        municipalities={YSTAD_CODE: world.ystad},
        organisations={KOMMUN: world.kommun, POLIS: world.polis},
        created_by=user,
    )
    picture = compute_yearly(user=user, municipality_id=world.ystad.pk, year=year)
    snapshot_save(user=user, picture=picture, assessment=SECRET["assessment"], kind="yearly")

    client = Client()
    client.cookies["django_language"] = "en"
    pages = pages_of(client)
    cells = figure_cells(pages[f"/oppet/{YSTAD_CODE}/arlig-lagesbild/"])
    assert cells["Safety"][-1] == "7"
    assert cells["Traffic"][-1] == "fewer than 5"
    everything = "\n".join(pages.values())
    assert SECRET["assessment"] not in everything and SECRET["measure"] not in everything
    assert escape(TITLE) in pages[f"/oppet/{YSTAD_CODE}/"]
    assert len(ET.fromstring(pages[f"/oppet/{YSTAD_CODE}/flode/"].encode()).findall(f"{ATOM}entry")) == 7
