"""The agreement in use: meetings prepared from the situational picture, decisions that become measures, citizen
promises followed up by those allowed to, the follow-up report (HTML and PDF), and the Ystad demo agreement."""

import datetime as dt
import shutil
import subprocess
import sys
import types
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from samverkan.incidents.models import Category, FocusArea
from samverkan.places.models import Area
from samverkan.places.services import area_create
from samverkan.plan import agreement_services as services
from samverkan.plan.demo import TITLE, demo_agreement_load
from samverkan.plan.models import (
    Agreement,
    CitizenPromise,
    Decision,
    Evaluation,
    Goal,
    Indicator,
    IndicatorValue,
    Measure,
    MeasureStatus,
    Meeting,
    PromiseStatus,
)
from samverkan.situation.documents import FLAG_WORDS
from samverkan.situation.models import SurveyIndex
from samverkan.situation.selectors import picture_compute
from samverkan.situation.services import daily_counts_rebuild, snapshot_save
from tests.factories import YSTAD, IncidentFactory, square

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(autouse=True)
def agreement_urls(settings):
    """The pages under /overenskommelse/, also before the project's URLs include them."""
    try:
        reverse("plan_agreement:meetings")
        return
    except NoReverseMatch:
        pass
    from config import urls as project_urls

    module = types.ModuleType("tests_plan_agreement_urls")
    module.urlpatterns = [
        path("overenskommelse/", include("samverkan.plan.agreement_urls")),
        *project_urls.urlpatterns,
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__


def focus(code):
    return FocusArea.objects.get(code=code)


def agreement_for(world, **more):
    agreement = Agreement.objects.create(
        title=more.pop("title", "Överenskommelse Ystad 2025–2026"),
        municipality=more.pop("municipality", world.ystad),
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2026, 12, 31),
        signed_on=dt.date(2025, 2, 1),
        steering_group="Kommundirektör, lokalpolisområdeschef",
        meeting_schedule="Varje tisdag",
        **more,
    )
    agreement.parties.add(world.kommun, world.polis)
    agreement.focus_areas.add(focus("droger"), focus("trygghet"))
    return agreement


def measure(world, title, status, **more):
    return Measure.objects.create(
        municipality=more.pop("municipality", world.ystad),
        title=title,
        focus_area=more.pop("focus_area", focus("trygghet")),
        kind="situational",
        term="short",
        responsible_organisation=more.pop("responsible", world.kommun),
        start=more.pop("start", dt.date(2025, 3, 1)),
        status=status,
        created_by=world.users["kommun_samordnare"],
        **more,
    )


def promise(world, agreement, **more):
    return CitizenPromise.objects.create(
        agreement=agreement,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2026, 12, 31),
        text=more.pop("text", "Kommunen förbättrar belysningen i gångtunnlar i Östra förstaden."),
        responsible=more.pop("responsible", world.kommun),
        **more,
    )


def saved_picture(world, *, view="shared", user="kommun_samordnare", ratings=()):
    """A saved weekly picture of Ystad (week 10 of 2025) with drug reports well above the eight weeks before."""
    monday = dt.date(2025, 1, 6)
    for week in range(9):
        n = 12 if week == 8 else 2
        for i in range(n):
            day = monday + dt.timedelta(weeks=week, days=i % 7)
            IncidentFactory(
                occurred_from=dt.datetime(day.year, day.month, day.day, 20, tzinfo=STOCKHOLM),
                municipality=world.ystad,
                source_organisation=world.kommun,
                category=Category.objects.get(code="narkotika", municipality=None),
            )
    daily_counts_rebuild()
    picture = picture_compute(user=world.users[user], municipality_id=world.ystad.pk, period="2025-W10", view=view)
    snapshot = snapshot_save(user=world.users[user], picture=picture, ratings=list(ratings))
    snapshot.refresh_from_db()
    return snapshot


def pdf_pages(data: bytes, tmp_path) -> list[str]:
    target = tmp_path / "followup.pdf"
    target.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True, check=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def squash(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


# --------------------------------------------------------------------------------------------------------------------
# Meetings: the agenda from the picture and the open measures
# --------------------------------------------------------------------------------------------------------------------


def test_the_agenda_summarises_the_latest_shared_picture_and_lists_the_open_measures(world):
    centrum = Area.objects.get(municipality=world.ystad, name="Centrum")
    snapshot = saved_picture(
        world,
        ratings=[
            {"area_id": centrum.pk, "area": "Centrum", "rating": "red", "motivation": "Langning vid stationen"},
            {"area_id": 98, "area": "Hamnen", "rating": "yellow", "motivation": "Samlingar kvällstid"},
            {"area_id": 99, "area": "Sandskogen", "rating": "green", "motivation": "Lugnt"},
        ],
    )
    # A later police-view picture must not leak into a meeting that both parties read.
    saved_picture(world, view="police", user="polis_analytiker")
    lighting = measure(world, "Belysning i gångtunnlar", MeasureStatus.ONGOING, end=dt.date(2025, 6, 30))
    lighting.areas.add(centrum)
    measure(world, "Fältgruppen vid stationen", MeasureStatus.PLANNED)
    measure(world, "Röjning i Sandskogen", MeasureStatus.DELAYED)
    measure(world, "Trafikkontroller i Köpingebro", MeasureStatus.DONE)
    measure(world, "Kameror i parken", MeasureStatus.CANCELLED)
    measure(world, "Simrishamns åtgärd", MeasureStatus.ONGOING, municipality=world.simrishamn)

    meeting = services.meeting_create(
        user=world.users["kommun_samordnare"],
        municipality_id=world.ystad.pk,
        held_on=dt.date(2025, 3, 11),
        title="EST-möte vecka 11",
    )

    assert meeting.snapshot == snapshot
    agenda = meeting.agenda
    assert f"Lägesbild {snapshot.period_label}" in agenda and "Vecka 10" in snapshot.period_label
    assert f"version {snapshot.number}" in agenda
    drugs = next(f for f in snapshot.picture["key_figures"] if f["code"] == "droger")
    assert drugs["flag"] == "higher"
    assert f"Droger: {drugs['current']} (förväntat " in agenda
    assert f"– {FLAG_WORDS['higher']}" in agenda
    for figure in snapshot.picture["key_figures"]:
        assert f"{figure['name']}: {figure['current']} " in agenda
    assert "Centrum: Röd – Langning vid stationen" in agenda
    assert "Hamnen: Gul – Samlingar kvällstid" in agenda
    assert agenda.index("Centrum: Röd") < agenda.index("Hamnen: Gul")
    assert "Sandskogen: " not in agenda
    assert "Belysning i gångtunnlar (pågående, Ystads kommun, Centrum, från 2025-03-01 till 2025-06-30)" in agenda
    assert "Fältgruppen vid stationen (planerad" in agenda
    assert "Röjning i Sandskogen (försenad" in agenda
    for absent in ("Trafikkontroller i Köpingebro", "Kameror i parken", "Simrishamns åtgärd"):
        assert absent not in agenda


def test_without_a_saved_picture_the_agenda_says_so(world):
    draft = services.meeting_agenda_draft(user=world.users["polis_analytiker"], municipality_id=world.ystad.pk)
    assert draft.snapshot is None
    assert "Ingen sparad lägesbild finns" in draft.text
    assert "Inga öppna åtgärder." in draft.text


def test_only_editors_of_the_municipality_create_meetings(world):
    for key in ("kommun_lasare", "kommun_rapportor", "simrishamn_samordnare", "nobody"):
        with pytest.raises(Http404):
            services.meeting_create(
                user=world.users[key], municipality_id=world.ystad.pk, held_on=dt.date(2025, 3, 11), title="Möte"
            )
    with pytest.raises(ValidationError) as refused:
        services.meeting_create(
            user=world.users["kommun_samordnare"],
            municipality_id=world.ystad.pk,
            held_on=dt.date(2025, 3, 11),
            title="",
        )
    assert "title" in refused.value.message_dict
    other = agreement_for(world, municipality=world.simrishamn, title="Simrishamn")
    with pytest.raises(Http404):
        services.meeting_create(
            user=world.users["kommun_samordnare"],
            municipality_id=world.ystad.pk,
            held_on=dt.date(2025, 3, 11),
            title="Möte",
            agreement_id=other.pk,
        )
    assert not Meeting.objects.exists()


def test_the_new_meeting_page_prefills_the_agenda_and_creates_the_meeting(world, client):
    snapshot = saved_picture(world)
    measure(world, "Fältgruppen vid stationen", MeasureStatus.PLANNED)
    client.force_login(world.users["kommun_samordnare"])
    page = client.get(reverse("plan_agreement:meeting_create"))
    assert page.status_code == 200
    form = page.context["form"]
    assert "Fältgruppen vid stationen" in form.initial["agenda"]
    assert form.initial["snapshot"] == snapshot.pk
    response = client.post(
        reverse("plan_agreement:meeting_create"),
        {
            "municipality": world.ystad.pk,
            "held_on": "2025-03-11",
            "title": "EST-möte",
            "agenda": form.initial["agenda"] + "\n6. Tillägg",
            "snapshot": snapshot.pk,
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("plan_agreement:meeting", args=[meeting.pk])
    assert meeting.agenda == form.initial["agenda"] + "\n6. Tillägg" and meeting.snapshot == snapshot
    client.force_login(world.users["kommun_lasare"])
    assert client.get(reverse("plan_agreement:meeting_create")).status_code == 403


def test_minutes_are_written_by_editors_only(world, client):
    meeting = services.meeting_create(
        user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, held_on=dt.date(2025, 3, 11), title="M"
    )
    url = reverse("plan_agreement:meeting_minutes", args=[meeting.pk])
    client.force_login(world.users["kommun_lasare"])
    assert client.post(url, {"minutes": "Nej"}).status_code == 404
    page = client.get(reverse("plan_agreement:meeting", args=[meeting.pk]))
    assert page.status_code == 200 and "minutes_form" not in page.context
    client.force_login(world.users["polis_samordnare"])
    assert client.post(url, {"minutes": "Polisen ökar närvaron."}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.minutes == "Polisen ökar närvaron."
    with pytest.raises(ValidationError):
        services.meeting_update(
            user=world.users["kommun_samordnare"], meeting_id=meeting.pk, minutes="Ring 070-123 45 67"
        )


# --------------------------------------------------------------------------------------------------------------------
# Decisions: search, and a decision that becomes a planned measure
# --------------------------------------------------------------------------------------------------------------------


def meeting_with(world, title, held_on, *decisions, municipality=None, owner=None):
    meeting = Meeting.objects.create(
        municipality=municipality or world.ystad,
        held_on=held_on,
        title=title,
        created_by=world.users["kommun_samordnare"],
    )
    for text in decisions:
        Decision.objects.create(meeting=meeting, text=text, owner=owner or world.kommun)
    return meeting


def test_decisions_are_searched_in_decision_texts_and_meeting_titles(world):
    lighting = meeting_with(world, "EST-möte vecka 10", dt.date(2025, 3, 4), "Byt BELYSNINGEN i gångtunneln.")
    title = meeting_with(world, "Extra möte om belysning", dt.date(2025, 3, 6), "Inga beslut om detta.")
    meeting_with(world, "EST-möte vecka 11", dt.date(2025, 3, 11), "Polisen prioriterar hamnen.")
    meeting_with(
        world, "Simrishamn", dt.date(2025, 3, 5), "Belysning i Simrishamn.", municipality=world.simrishamn,
        owner=world.kommun_simrishamn,
    )  # fmt: skip
    user = world.users["kommun_lasare"]
    assert list(services.meeting_search(user=user, query="belysning")) == [title, lighting]
    assert len(services.meeting_search(user=user)) == 3
    assert list(services.meeting_search(user=user, query="  ")) == list(services.meeting_search(user=user))
    assert list(services.meeting_search(user=user, query="finns inte")) == []
    assert list(services.meeting_search(user=world.users["kommun_rapportor"], query="belysning")) == []
    police = services.meeting_search(user=world.users["polis_lasare"], query="belysning")
    assert {m.title for m in police} == {"Extra möte om belysning", "EST-möte vecka 10", "Simrishamn"}


def test_the_meeting_list_searches_and_pages(world, client, settings):
    settings.SAMVERKAN_PAGE_SIZE = 2
    for day in range(1, 6):
        meeting_with(world, f"Möte {day}", dt.date(2025, 3, day), f"Beslut {day}: hamnen prioriteras.")
    meeting_with(world, "Möte 6", dt.date(2025, 3, 6), "Beslut om skolan.")
    client.force_login(world.users["kommun_lasare"])
    url = reverse("plan_agreement:meetings")
    first = client.get(url, {"q": "hamnen"})
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 5
    assert [m.title for m in first.context["page"]] == ["Möte 5", "Möte 4"]
    third = client.get(url, {"q": "hamnen", "page": 3})
    assert [m.title for m in third.context["page"]] == ["Möte 1"]
    assert "q=hamnen&amp;page=2" in third.content.decode()
    fragment = client.get(url, {"q": "skolan"}, headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and "Beslut om skolan." in fragment.content.decode()
    client.force_login(world.users["kommun_rapportor"])
    assert client.get(url).status_code == 403


def test_a_decision_can_become_a_planned_measure(world):
    snapshot = saved_picture(world)
    agreement = agreement_for(world)
    meeting = services.meeting_create(
        user=world.users["kommun_samordnare"],
        municipality_id=world.ystad.pk,
        held_on=dt.date(2025, 3, 11),
        title="EST-möte vecka 11",
        agreement_id=agreement.pk,
    )
    decision = services.decision_add(
        user=world.users["kommun_samordnare"],
        meeting_id=meeting.pk,
        text="Polisen är synlig vid stationen fredag och lördag kväll\nTill och med maj.",
        owner_id=world.polis.pk,
        create_measure=True,
        focus_area_id=focus("droger").pk,
    )
    created = decision.measure
    assert created is not None
    assert created.title == "Polisen är synlig vid stationen fredag och lördag kväll"
    assert created.status == MeasureStatus.PLANNED
    assert created.responsible_organisation == world.polis
    assert created.start == dt.date(2025, 3, 11) and created.end is None
    assert created.focus_area == focus("droger")
    assert created.municipality == world.ystad and created.agreement == agreement
    assert created.snapshot == snapshot
    assert created.description == decision.text and "EST-möte vecka 11" in created.motivation

    plain = services.decision_add(
        user=world.users["kommun_samordnare"],
        meeting_id=meeting.pk,
        text="Felanmäl belysningen.",
        owner_id=world.kommun.pk,
    )
    assert plain.measure is None
    assert Measure.objects.count() == 1


def test_a_decision_is_refused_without_what_it_needs(world):
    meeting = meeting_with(world, "EST-möte", dt.date(2025, 3, 11))
    samordnare = world.users["kommun_samordnare"]
    cases = [
        ({"text": "Ny belysning", "owner_id": world.kommun.pk, "create_measure": True}, "focus_area"),
        ({"text": "Ny belysning", "owner_id": world.kommun_simrishamn.pk}, "owner"),
        ({"text": "  ", "owner_id": world.kommun.pk}, "text"),
        ({"text": "Ring 070-123 45 67", "owner_id": world.kommun.pk}, "text"),
    ]
    for arguments, field in cases:
        with pytest.raises(ValidationError) as refused:
            services.decision_add(user=samordnare, meeting_id=meeting.pk, **arguments)
        assert field in refused.value.message_dict
    with pytest.raises(Http404):
        services.decision_add(
            user=world.users["kommun_lasare"], meeting_id=meeting.pk, text="Beslut", owner_id=world.kommun.pk
        )
    with pytest.raises(Http404):
        services.decision_add(
            user=world.users["simrishamn_samordnare"], meeting_id=meeting.pk, text="Beslut", owner_id=world.kommun.pk
        )
    assert not Decision.objects.exists() and not Measure.objects.exists()


def test_the_add_decision_form_creates_the_measure(world, client):
    meeting = meeting_with(world, "EST-möte", dt.date(2025, 3, 11))
    client.force_login(world.users["kommun_analytiker"])
    url = reverse("plan_agreement:decision_add", args=[meeting.pk])
    without_focus = {"text": "Röj slyet", "owner": world.kommun.pk, "create_measure": "on", "kind": "situational"}
    refused = client.post(url, {**without_focus, "term": "short"})
    assert refused.status_code == 400 and "focus_area" in refused.context["decision_form"].errors
    response = client.post(
        url,
        {
            "text": "Röj slyet längs stråket i Sandskogen",
            "owner": world.kommun.pk,
            "create_measure": "on",
            "focus_area": focus("trygghet").pk,
            "kind": "situational",
            "term": "long",
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.measure.title == "Röj slyet längs stråket i Sandskogen" and decision.measure.term == "long"
    page = client.get(reverse("plan_agreement:meeting", args=[meeting.pk]))
    assert "Röj slyet längs stråket i Sandskogen" in page.content.decode()


# --------------------------------------------------------------------------------------------------------------------
# Citizen promises
# --------------------------------------------------------------------------------------------------------------------


def test_promise_follow_up_is_written_by_editors_only(world):
    agreement = agreement_for(world)
    kept = promise(world, agreement)
    for key in ("kommun_lasare", "polis_lasare", "kommun_rapportor", "simrishamn_samordnare", "nobody"):
        with pytest.raises(Http404):
            services.promise_update(user=world.users[key], promise_id=kept.pk, status="kept", follow_up="Klart.")
    with pytest.raises(Http404):
        services.promise_update(user=world.users["kommun_samordnare"], promise_id=10**6, status="kept", follow_up="")
    kept.refresh_from_db()
    assert kept.status == PromiseStatus.PLANNED and kept.follow_up == "" and kept.follow_up_updated is None

    updated = services.promise_update(
        user=world.users["polis_analytiker"], promise_id=kept.pk, status="ongoing", follow_up=" Två av fyra klara. "
    )
    kept.refresh_from_db()
    assert (kept.status, kept.follow_up, kept.follow_up_updated) == (
        "ongoing",
        "Två av fyra klara.",
        timezone.localdate(),
    )
    assert updated.follow_up == kept.follow_up
    for status, follow_up, field in (("done", "Klart", "status"), ("kept", "Mejla a.b@example.se", "follow_up")):
        with pytest.raises(ValidationError) as refused:
            services.promise_update(
                user=world.users["kommun_samordnare"], promise_id=kept.pk, status=status, follow_up=follow_up
            )
        assert field in refused.value.message_dict


def test_the_promise_form_answers_readers_like_a_missing_promise(world, client):
    agreement = agreement_for(world)
    kept = promise(world, agreement)
    url = reverse("plan_agreement:promise_update", args=[kept.pk])
    data = {f"p{kept.pk}-status": "kept", f"p{kept.pk}-follow_up": "Ny belysning i alla fyra tunnlarna."}
    client.force_login(world.users["kommun_lasare"])
    assert client.post(url, data).status_code == 404
    detail = client.get(reverse("plan_agreement:detail", args=[agreement.pk]))
    assert detail.status_code == 200 and url not in detail.content.decode()
    client.force_login(world.users["kommun_samordnare"])
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].endswith(f"#promise-{kept.pk}")
    kept.refresh_from_db()
    assert kept.status == "kept" and kept.follow_up == "Ny belysning i alla fyra tunnlarna."
    fragment = client.post(url, {**data, f"p{kept.pk}-status": "partly"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert f'id="promise-{kept.pk}"' in fragment.content.decode()
    personal = {**data, f"p{kept.pk}-follow_up": "Ring 070-123 45 67"}
    refused = client.post(url, personal, headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "Ta bort personuppgifterna" in refused.content.decode()
    kept.refresh_from_db()
    assert kept.status == "partly" and kept.follow_up == "Ny belysning i alla fyra tunnlarna."
    detail = client.get(reverse("plan_agreement:detail", args=[agreement.pk]))
    assert url in detail.content.decode()


def test_the_agreement_page_shows_the_agreement(world, client):
    agreement = agreement_for(world, summary="Vi arbetar tillsammans.")
    problem = agreement.problems.create(
        focus_area=focus("droger"), title="Langning vid stationen", cause_victim="Unga", cause_offender="Langare",
        cause_place="Mörkt bakom terminalen",
    )  # fmt: skip
    indicator = Indicator.objects.create(
        agreement=agreement, name="Problemindex", source="survey", baseline_year=2024, baseline_value=1.43,
        target_year=2026, target_value=1.2,
    )  # fmt: skip
    Goal.objects.create(agreement=agreement, problem=problem, indicator=indicator, text="Lägre problemindex")
    agreement.commitments.create(party=world.polis, text="Polisen deltar i EST-mötena.")
    promise(world, agreement, status="ongoing", follow_up="Hälften klart.")
    client.force_login(world.users["kommun_lasare"])
    html = client.get(reverse("plan_agreement:detail", args=[agreement.pk])).content.decode()
    for text in (
        agreement.title, "Ystads kommun", "Lokalpolisområde Ystad", "2025-01-01", "2026-12-31",
        "Langning vid stationen", "Mörkt bakom terminalen", "Problemindex", "1,43", "Polisen deltar i EST-mötena.",
        "Kommundirektör", "Varje tisdag", "Kommunen förbättrar belysningen", "Hälften klart.",
    ):  # fmt: skip
        assert text in html, text
    assert client.get(reverse("plan_agreement:current")).url == reverse("plan_agreement:detail", args=[agreement.pk])
    client.force_login(world.users["simrishamn_samordnare"])
    assert client.get(reverse("plan_agreement:detail", args=[agreement.pk])).status_code == 404


# --------------------------------------------------------------------------------------------------------------------
# The follow-up report
# --------------------------------------------------------------------------------------------------------------------


def followup_world(world):
    agreement = agreement_for(world)
    problem = agreement.problems.create(focus_area=focus("trygghet"), title="Otrygghet kvällstid")
    survey = Indicator.objects.create(
        agreement=agreement, name="Trygghetsmätningens problemindex", source="survey", unit="index 0–6",
        survey_source="trygghetsmätning", survey_code="problemindex", baseline_year=2024, baseline_value=1.43,
        target_year=2026, target_value=1.2,
    )  # fmt: skip
    for year, value in ((2024, 1.43), (2025, 1.30)):
        SurveyIndex.objects.create(
            municipality=world.ystad, year=year, source="trygghetsmätning", code="problemindex", name="Problemindex",
            value=value,
        )  # fmt: skip
    walks = Indicator.objects.create(
        agreement=agreement, name="Föräldravandringar", source="manual", unit="vandringar", direction="increase",
        baseline_year=2024, baseline_value=10, target_year=2026, target_value=20,
    )  # fmt: skip
    IndicatorValue.objects.create(indicator=walks, year=2025, value=11)
    Goal.objects.create(agreement=agreement, problem=problem, indicator=survey, text="Problemindex högst 1,2 år 2026")
    Goal.objects.create(agreement=agreement, indicator=walks, text="Fler föräldravandringar")
    Goal.objects.create(agreement=agreement, text="Ett mål utan indikator")
    centrum = Area.objects.get(municipality=world.ystad, name="Centrum")
    done = measure(
        world, "Ny belysning i gångtunnlar", MeasureStatus.DONE, agreement=agreement, end=dt.date(2025, 6, 1)
    )
    done.areas.add(centrum)
    Evaluation.objects.create(
        measure=done, computed_by=world.users["kommun_samordnare"], parameters={"view": "shared"},
        verdict="no_effect_shown", summary="Antalet rapporter minskade med 20 %, men skillnaden kan vara slump.",
    )  # fmt: skip
    Evaluation.objects.create(
        measure=done, computed_by=world.users["polis_analytiker"], parameters={"view": "police"},
        verdict="effect_shown", summary="Polisens vy: hemlig slutsats.",
    )  # fmt: skip
    measure(world, "Fältgruppen vid stationen", MeasureStatus.ONGOING, agreement=agreement)
    measure(world, "Inställd åtgärd", MeasureStatus.CANCELLED, agreement=agreement)
    measure(world, "Simrishamns åtgärd", MeasureStatus.DONE, municipality=world.simrishamn)
    promise(world, agreement, status="partly", follow_up="Tre av fyra tunnlar klara.")
    promise(world, agreement, text="Polisen kontrollerar mopeder i Köpingebro.", responsible=world.polis, status="kept")
    return agreement


def test_the_follow_up_shows_goals_against_indicators_measures_and_promises(world, client):
    agreement = followup_world(world)
    client.force_login(world.users["kommun_lasare"])
    response = client.get(reverse("plan_agreement:followup", args=[agreement.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="sv">' in html
    text = squash(html)
    assert f"Uppföljning: {agreement.title}" in text
    for expected in (
        "Problemindex högst 1,2 år 2026", "Trygghetsmätningens problemindex", "1,43 index 0–6 (2024)",
        "1,2 index 0–6 (2026)", "1,3", "Troligt", "Fler föräldravandringar", "10 vandringar (2024)", "Osäkert",
        "Ett mål utan indikator", "Målet har ingen indikator.",
        "Ny belysning i gångtunnlar", "Centrum", "2025-03-01 – 2025-06-01", "Genomförd",
        "Antalet rapporter minskade med 20 %, men skillnaden kan vara slump.", "Fältgruppen vid stationen", "Pågående",
        "Kommunen förbättrar belysningen", "Delvis uppfyllt", "Tre av fyra tunnlar klara.",
        "Polisen kontrollerar mopeder i Köpingebro.", "Uppfyllt",
    ):  # fmt: skip
        assert expected in text, expected
    for absent in ("hemlig slutsats", "Inställd åtgärd", "Simrishamns åtgärd"):
        assert absent not in text
    client.force_login(world.users["simrishamn_samordnare"])
    assert client.get(reverse("plan_agreement:followup", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("plan_agreement:followup_pdf", args=[agreement.pk])).status_code == 404


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is missing")
def test_the_follow_up_pdf_has_title_cutoff_and_page_numbers_on_every_page(world, client, tmp_path):
    agreement = followup_world(world)
    for i in range(40):
        promise(world, agreement, text=f"Löfte nummer {i} om tryggare gator i Ystad.", status="ongoing")
    now = dt.datetime(2026, 1, 15, 9, 30, tzinfo=STOCKHOLM)
    data = services.followup_pdf(agreement, now=now)
    assert data.startswith(b"%PDF")
    pages = pdf_pages(data, tmp_path)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        text = squash(page)
        assert f"Sida {number} av {len(pages)}" in text
        assert "Data t.o.m. 2026-01-15 09:30" in text
        assert "Uppföljning:" in text
    assert "Sida 1 av" in squash(pages[0])
    assert "Trygghetsmätningens problemindex" in squash(" ".join(pages))
    client.force_login(world.users["kommun_lasare"])
    response = client.get(reverse("plan_agreement:followup_pdf", args=[agreement.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "uppfoljning-ystad-2025-2026.pdf" in response["Content-Disposition"]


# --------------------------------------------------------------------------------------------------------------------
# The Ystad demo agreement
# --------------------------------------------------------------------------------------------------------------------


def test_the_demo_agreement_is_loaded_once(world):
    hamnen = area_create(
        municipality=world.ystad, kind="district", name="Hamnen och stationen", geometry=square(*YSTAD, 0.005)
    )
    arguments = {
        "municipalities": {"1286": world.ystad},
        "organisations": {"Ystads kommun": world.kommun, "Lokalpolisområde Ystad": world.polis},
    }
    assert demo_agreement_load(**arguments) is True
    counts = {model: model.objects.count() for model in (Agreement, CitizenPromise, Measure, Meeting, Decision, Goal)}
    assert demo_agreement_load(**arguments) is False
    assert {model: model.objects.count() for model in counts} == counts

    agreement = Agreement.objects.get(title=TITLE)
    assert agreement.signed_on == dt.date(2023, 3, 8)
    assert (agreement.period_start, agreement.period_end) == (dt.date(2023, 1, 1), dt.date(2025, 12, 31))
    assert set(agreement.parties.all()) == {world.kommun, world.polis}
    assert set(agreement.focus_areas.values_list("code", flat=True)) == {"droger", "trafik", "trygghet"}
    assert 3 <= agreement.problems.count() <= 5
    assert all(p.cause_victim and p.cause_offender and p.cause_place for p in agreement.problems.all())
    assert 6 <= agreement.promises.count() <= 8
    assert {p.responsible for p in agreement.promises.all()} == {world.kommun, world.polis}
    assert all(p.follow_up and p.period_start.year == 2024 for p in agreement.promises.all())
    assert set(agreement.commitments.values_list("party", flat=True)) == {world.kommun.pk, world.polis.pk}
    assert agreement.goals.filter(indicator__isnull=True).count() == 0

    drugs = Indicator.objects.get(agreement=agreement, source="incidents", area__isnull=False)
    assert drugs.area == hamnen and list(drugs.categories.values_list("code", flat=True)) == ["narkotika"]
    assert drugs.baseline_year == 2023 and drugs.baseline_value is None  # no reports in the test world
    survey = Indicator.objects.get(agreement=agreement, source="survey")
    assert (survey.survey_source, survey.survey_code) == ("trygghetsmätning", "problemindex")
    assert (survey.baseline_year, survey.baseline_value, survey.target_year, survey.target_value) == (
        2023,
        1.43,
        2025,
        1.2,
    )
    assert SurveyIndex.objects.get(municipality=world.ystad, year=2023, code="problemindex").value == 1.43
    assert Indicator.objects.filter(agreement=agreement, categories__code="buskorning").exists()

    statuses = set(agreement.measures.values_list("status", flat=True))
    assert {MeasureStatus.DONE, MeasureStatus.ONGOING, MeasureStatus.PLANNED} <= statuses
    for done in agreement.measures.filter(status=MeasureStatus.DONE):
        assert done.end is not None and agreement.period_start <= done.end <= agreement.period_end
    assert agreement.measures.filter(areas=hamnen).exists()
    assert any(m.time_windows for m in agreement.measures.all())
    assert agreement.meetings.count() == 2
    assert all(m.decisions.exists() for m in agreement.meetings.all())
    assert Decision.objects.filter(meeting__agreement=agreement, measure__isnull=False).exists()


def test_the_demo_agreement_counts_its_report_baselines_from_the_reports(world):
    hamnen = area_create(
        municipality=world.ystad, kind="district", name="Hamnen och stationen", geometry=square(*YSTAD, 0.005)
    )
    narkotika = Category.objects.get(code="narkotika", municipality=None)
    # The reports begin on 1 March 2023, so the baseline is the first twelve months: 3 in the area, 1 outside it.
    for day, inside in (
        (dt.date(2023, 3, 1), True), (dt.date(2023, 7, 1), True), (dt.date(2024, 2, 28), True),
        (dt.date(2024, 1, 5), False), (dt.date(2024, 3, 2), True),
    ):  # fmt: skip
        incident = IncidentFactory(
            occurred_from=dt.datetime(day.year, day.month, day.day, 21, tzinfo=STOCKHOLM),
            municipality=world.ystad,
            source_organisation=world.kommun,
            category=narkotika,
        )
        if inside:
            incident.areas.add(hamnen)
    daily_counts_rebuild()
    demo_agreement_load(
        municipalities={"1286": world.ystad},
        organisations={"Ystads kommun": world.kommun, "Lokalpolisområde Ystad": world.polis},
    )
    drugs = Indicator.objects.get(agreement__title=TITLE, area=hamnen)
    assert (drugs.baseline_value, drugs.target_value) == (3.0, 2.0)
