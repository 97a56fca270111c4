"""Evaluation of a measure on simulated reports with a known effect: counts per zone, statistics equal to the analysis
core's, the verdict and displacement in words, time windows, police-only data and who may do what."""

import datetime as dt
import json
import types
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone, translation

from samverkan.accounts.models import Role
from samverkan.analysis.evaluation import measure_verdict, rate_ratio, weighted_displacement_quotient
from samverkan.incidents.models import Category, FocusArea
from samverkan.places.geo import to_sweref, to_wgs84
from samverkan.places.services import area_create, area_replace
from samverkan.plan.evaluation import evaluations_visible_to, measure_evaluate, window_day
from samverkan.plan.models import Evaluation, Indicator, Measure
from tests.factories import YSTAD, IncidentFactory, square

STOCKHOLM = ZoneInfo("Europe/Stockholm")
X0, Y0 = (float(v) for v in to_sweref(*YSTAD))
START = dt.date(2026, 3, 2)  # a Monday
END = dt.date(2026, 3, 29)  # 28 days, so the default before period is 2026-02-02 to 2026-03-01
TODAY = dt.date(2026, 4, 15)

# Offsets in metres from the centre of the treated square (±200 m): inside, in the 500 m ring, and far away.
TREATED = (0.0, 0.0)
BUFFER = (450.0, 0.0)
CONTROL = (3000.0, 0.0)


def sweref_square(cx: float, cy: float, half: float) -> dict:
    xs = [cx - half, cx + half, cx + half, cx - half, cx - half]
    ys = [cy - half, cy - half, cy + half, cy + half, cy - half]
    lon, lat = to_wgs84(xs, ys)
    return {"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]]}


@pytest.fixture
def eval_urls(settings):
    """The evaluation pages under /plan/, unless the project's URLs already include them."""
    try:
        reverse("plan_eval:indicators", args=[1])
    except NoReverseMatch:
        import config.urls

        module = types.ModuleType("plan_eval_test_urls")
        module.urlpatterns = [*config.urls.urlpatterns, path("plan/", include("samverkan.plan.evaluation_urls"))]
        settings.ROOT_URLCONF = module


def make_measure(world, *, start=START, end=END, polygon=None, areas=(), windows=(), focus="trygghet", **extra):
    measure = Measure.objects.create(
        municipality=world.ystad,
        title="Belysning och ronder vid torget",
        focus_area=FocusArea.objects.get(code=focus),
        kind="situational",
        term="short",
        responsible_organisation=world.kommun,
        polygon=sweref_square(X0, Y0, 200.0) if polygon is None and not areas else polygon,
        time_windows=list(windows),
        start=start,
        end=end,
        created_by=world.users["kommun_samordnare"],
        **extra,
    )
    measure.areas.set(areas)
    return measure


def report(world, when, offset=TREATED, *, category="klotter", precision="exact", sensitivity="shared"):
    lon, lat = (float(v) for v in to_wgs84(X0 + offset[0], Y0 + offset[1]))
    return IncidentFactory(
        occurred_from=when,
        municipality=world.ystad,
        source_organisation=world.kommun,
        category=Category.objects.get(code=category, municipality=None),
        lon=lon,
        lat=lat,
        precision=precision,
        sensitivity=sensitivity,
    )


def spread(world, n, first, days, offset, **kwargs):
    """``n`` reports spread over ``days`` days from ``first``, at noon and various hours."""
    for i in range(n):
        day = first + dt.timedelta(days=i * days // n)
        report(world, dt.datetime.combine(day, dt.time(10 + i % 8), tzinfo=STOCKHOLM), offset, **kwargs)


def simulate(world, treated, buffer, control):
    """(before, after) counts in each zone over the default periods."""
    before_first = START - dt.timedelta(days=28)
    for (b, a), offset in ((treated, TREATED), (buffer, BUFFER), (control, CONTROL)):
        spread(world, b, before_first, 28, offset)
        spread(world, a, START, 28, offset)


def evaluate(world, measure, user="kommun_samordnare", **kwargs):
    evaluation = measure_evaluate(user=world.users[user], measure_id=measure.pk, today=TODAY, **kwargs)
    json.dumps(evaluation.result, allow_nan=False)
    return evaluation


def zone_counts(result):
    return {z: (c["before"], c["after"]) for z, c in result["zones"].items() if c is not None}


# --------------------------------------------------------------------------------------------------------------------
# Known effects
# --------------------------------------------------------------------------------------------------------------------


def test_a_clear_reduction_is_shown(world):
    measure = make_measure(world)
    simulate(world, treated=(40, 10), buffer=(20, 20), control=(40, 40))
    evaluation = evaluate(world, measure)
    result = evaluation.result
    assert zone_counts(result) == {"treated": (40, 10), "buffer": (20, 20), "control": (40, 40)}
    assert result["periods"]["before"] == {"first": "2026-02-02", "last": "2026-03-01", "days": 28}
    assert result["periods"]["after"] == {"first": "2026-03-02", "last": "2026-03-29", "days": 28}
    expected = rate_ratio(40, 10, 40, 40, before_duration=28, after_duration=28)
    assert result["rate_ratio"]["ratio"] == pytest.approx(expected.ratio, rel=1e-3)
    assert result["rate_ratio"]["ci_low"] == pytest.approx(expected.ci_low, rel=1e-3)
    assert result["rate_ratio"]["ci_high"] == pytest.approx(expected.ci_high, rel=1e-3)
    assert evaluation.verdict == "effect_shown" and result["verdict"]["direction"] == "reduction"
    assert result["wdq"]["wdq"] == pytest.approx(weighted_displacement_quotient(40, 10, 20, 20, 40, 40).wdq)
    # Hand-computed: (10 − 40) − (40 − 40) + (20 − 20) − (20 − 20) = −30 reports.
    assert result["wdd"]["wdd"] == pytest.approx(-30.0)
    assert evaluation.summary.startswith("Antalet rapporter i området minskade från 40 till 10 medan jämförelseområdet")
    assert "var i stort sett oförändrat (relativ effekt 0,25, 95 % KI 0,11–0,57)" in evaluation.summary
    assert "En effekt kan visas: rapporterna i området minskade med 75 %" in evaluation.summary
    assert "Uppgifter som bara polisen får se ingår inte." in evaluation.summary
    # The weekly series add up to the counts, and the measure's start falls on a week boundary.
    weekly = result["weekly"]
    assert weekly["days"] == [7] * 8
    assert weekly["starts"][4] == "2026-03-02"
    assert sum(weekly["treated"][:4]) == 40 and sum(weekly["treated"][4:]) == 10
    assert sum(weekly["control"]) == 80
    assert evaluation.parameters["view"] == "shared" and evaluation.computed_by == world.users["kommun_samordnare"]


def test_the_control_is_scaled_for_the_wdd_but_not_for_the_rate_ratio(world):
    measure = make_measure(world)
    simulate(world, treated=(40, 10), buffer=(20, 20), control=(80, 80))
    result = evaluate(world, measure).result
    assert result["rate_ratio"]["ratio"] == pytest.approx(0.25)
    # The control of 80 is scaled to the area's 40 (and the buffer's 20): the same −30 as with a control of 40.
    assert result["wdd"]["wdd"] == pytest.approx(-30.0)


def test_few_reports_are_too_little_data(world):
    measure = make_measure(world)
    simulate(world, treated=(4, 2), buffer=(0, 0), control=(40, 40))
    evaluation = evaluate(world, measure)
    assert evaluation.verdict == "too_little_data"
    assert evaluation.result["verdict"]["reason"] == "counts_below_minimum"
    assert "För lite data för att säga något" in evaluation.summary
    assert "går inte att bedöma: där finns för få rapporter (0 före, 0 efter)" in evaluation.summary


def test_a_study_too_small_to_detect_a_halving_says_so(world):
    measure = make_measure(world)
    simulate(world, treated=(40, 32), buffer=(0, 0), control=(40, 40))
    evaluation = evaluate(world, measure)
    verdict = measure_verdict(40, 32, 40, 40, before_duration=28, after_duration=28)
    assert (evaluation.verdict, evaluation.result["verdict"]["reason"]) == ("too_little_data", "mde_too_weak")
    assert verdict.reason == "mde_too_weak" and verdict.mde.detectable
    reduction = round(100 * verdict.mde.reduction)
    assert evaluation.result["mde"]["reduction"] == pytest.approx(verdict.mde.reduction, rel=1e-3)
    assert (
        f"Effekten är inte säkerställd: med så här få rapporter kan bara en minskning på minst {reduction} % "
        "upptäckas." in evaluation.summary
    )


def test_a_study_that_can_detect_nothing_says_so(world):
    measure = make_measure(world)
    simulate(world, treated=(12, 9), buffer=(0, 0), control=(12, 12))
    evaluation = evaluate(world, measure)
    assert evaluation.result["verdict"]["reason"] == "mde_too_weak" and not evaluation.result["mde"]["detectable"]
    assert "kan ingen minskning upptäckas säkert" in evaluation.summary


def test_no_effect_shown_in_a_study_large_enough(world):
    measure = make_measure(world)
    simulate(world, treated=(200, 190), buffer=(0, 0), control=(200, 200))
    evaluation = evaluate(world, measure)
    verdict = measure_verdict(200, 190, 200, 200)
    assert evaluation.verdict == verdict.outcome == "no_effect_shown"
    reduction = round(100 * verdict.mde.reduction)
    assert f"Ingen effekt kunde visas, fast en minskning på {reduction} % eller mer sannolikt hade upptäckts." in (
        evaluation.summary
    )


def test_displacement_to_the_surroundings_is_named(world):
    measure = make_measure(world)
    simulate(world, treated=(40, 10), buffer=(20, 35), control=(40, 40))
    result = evaluate(world, measure).result
    expected = weighted_displacement_quotient(40, 10, 20, 35, 40, 40)
    assert result["wdq"]["wdq"] == pytest.approx(expected.wdq) and result["wdq"]["wdq"] < 0
    assert result["wdq"]["interpretation"] == "displacement_smaller_than_effect"
    assert "Tecken på förflyttning till närområdet, men mindre än minskningen i området (WDQ −0,50)" in " ".join(
        result["summary_parts"]
    )


def test_no_displacement_when_the_surroundings_stay_put(world):
    measure = make_measure(world)
    simulate(world, treated=(40, 10), buffer=(20, 20), control=(40, 40))
    summary = evaluate(world, measure).summary
    assert "Inga tecken på förflyttning till närområdet (WDQ 0,00)" in summary


# --------------------------------------------------------------------------------------------------------------------
# Which reports count
# --------------------------------------------------------------------------------------------------------------------


def at(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=STOCKHOLM)


def test_window_day_follows_the_start_day_past_midnight():
    windows = [{"weekdays": [6], "start": "20:00", "end": "02:00"}]  # Saturday night
    saturday, sunday = dt.date(2026, 3, 7), dt.date(2026, 3, 8)
    assert window_day(at(saturday, 20), windows) == saturday
    assert window_day(at(sunday, 1, 59), windows) == saturday
    assert window_day(at(sunday, 2), windows) is None
    assert window_day(at(saturday, 19, 59), windows) is None
    assert window_day(at(saturday, 1), windows) is None  # Friday night is not in the window
    sunday_night = [{"weekdays": [7], "start": "22:00", "end": "03:00"}]
    monday = dt.date(2026, 3, 9)
    assert window_day(at(monday, 2), sunday_night) == sunday  # Monday's previous day is Sunday (7)
    daytime = [{"weekdays": [1, 2, 3, 4, 5], "start": "08:00", "end": "16:00"}]
    assert window_day(at(monday, 8), daytime) == monday
    assert window_day(at(monday, 16), daytime) is None
    assert window_day(at(saturday, 12), daytime) is None
    assert window_day(at(saturday, 3), []) == saturday


def test_only_reports_inside_the_time_windows_count(world):
    measure = make_measure(world, windows=[{"weekdays": [5], "start": "20:00", "end": "02:00"}])  # Friday night
    friday = dt.date(2026, 3, 6)
    saturday = friday + dt.timedelta(days=1)
    inside = [at(friday, 21), at(saturday, 1, 30), at(friday - dt.timedelta(days=7), 23)]
    outside = [at(friday, 19), at(saturday, 3), at(saturday, 21), at(friday - dt.timedelta(days=1), 23)]
    for when in inside + outside:
        report(world, when)
    result = evaluate(world, measure).result
    assert zone_counts(result)["treated"] == (1, 2)
    assert result["left_out"]["outside_windows"] == len(outside)
    assert "Bara rapporter inom åtgärdens tider räknas." in result["summary_parts"]


def test_a_window_past_midnight_at_the_start_belongs_to_the_day_before(world):
    saturday = dt.date(2026, 3, 7)
    measure = make_measure(
        world,
        start=saturday,
        end=saturday + dt.timedelta(days=27),
        windows=[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}],
    )
    report(world, at(saturday, 1))  # Friday night: before the measure
    report(world, at(saturday, 21))  # Saturday night: after
    assert zone_counts(evaluate(world, measure).result)["treated"] == (1, 1)


def test_focus_area_or_indicator_categories(world):
    for category in ("klotter", "narkotika"):
        report(world, at(START + dt.timedelta(days=3), 12), category=category)
    by_focus = make_measure(world)  # trygghet: klotter counts, narkotika (droger) not
    assert zone_counts(evaluate(world, by_focus).result)["treated"] == (0, 1)
    indicator = Indicator.objects.create(agreement=_agreement(world), name="Narkotika vid torget", source="incidents")
    indicator.categories.set([Category.objects.get(code="narkotika", municipality=None)])
    by_indicator = make_measure(world, indicator=indicator)
    result = evaluate(world, by_indicator).result
    assert result["filter"]["codes"] == ["narkotika"]
    assert zone_counts(result)["treated"] == (0, 1)


def _agreement(world):
    from samverkan.plan.models import Agreement

    return Agreement.objects.create(
        title="Överenskommelse",
        municipality=world.ystad,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2027, 12, 31),
    )


def test_reports_without_a_precise_place_are_left_out_and_counted(world):
    measure = make_measure(world)
    report(world, at(START, 12), precision="street")
    report(world, at(START, 13), precision="municipality")
    report(world, at(START, 14), precision="area")
    result = evaluate(world, measure).result
    assert zone_counts(result)["treated"] == (0, 1)
    assert result["left_out"]["imprecise"] == 2
    assert "2 rapporter med plats bara på område- eller kommunnivå kunde inte placeras" in " ".join(
        result["summary_parts"]
    )


def test_police_only_reports_stay_out_of_the_shared_view(world):
    measure = make_measure(world)
    simulate(world, treated=(10, 10), buffer=(0, 0), control=(10, 10))
    spread(world, 5, START, 28, TREATED, sensitivity="police_restricted")
    shared = evaluate(world, measure)
    assert zone_counts(shared.result)["treated"] == (10, 10)
    # A police analyst sees the same shared evaluation unless asking for the police view.
    police_shared = evaluate(world, measure, user="polis_analytiker")
    assert zone_counts(police_shared.result)["treated"] == (10, 10)
    police = evaluate(world, measure, user="polis_analytiker", view="police")
    assert zone_counts(police.result)["treated"] == (10, 15)
    assert "Polisens vy" in police.summary
    with pytest.raises(PermissionDenied):
        evaluate(world, measure, view="police")
    # The police evaluation is read only by the police.
    assert police not in evaluations_visible_to(world.users["kommun_samordnare"], measure)
    assert shared in evaluations_visible_to(world.users["kommun_samordnare"], measure)
    assert police in evaluations_visible_to(world.users["polis_lasare"], measure)


# --------------------------------------------------------------------------------------------------------------------
# Places and periods
# --------------------------------------------------------------------------------------------------------------------


def test_chosen_control_areas_replace_the_rest_of_the_municipality(world):
    west = area_create(municipality=world.ystad, kind="zone", name="Väster", geometry=sweref_square(X0 - 3000, Y0, 500))
    measure = make_measure(world)
    simulate(world, treated=(10, 5), buffer=(0, 0), control=(10, 10))  # east of the centre
    spread(world, 7, START - dt.timedelta(days=28), 28, (-3000.0, 0.0))
    spread(world, 3, START, 28, (-3000.0, 0.0))
    result = evaluate(world, measure, control_area_ids=[west.pk]).result
    assert zone_counts(result)["control"] == (7, 3)
    assert result["zones"]["control"]["rest_of_municipality"] is False
    assert result["zones"]["control"]["area_km2"] == pytest.approx(1.0, rel=1e-3)
    elsewhere = area_create(
        municipality=world.simrishamn, kind="zone", name="Annan kommun", geometry=square(14.35, 55.556, 0.005)
    )
    # The reasons are read in English here; the Swedish wording is the translators' to change.
    with translation.override("en"), pytest.raises(ValueError, match="not areas of"):
        evaluate(world, measure, control_area_ids=[elsewhere.pk])


def test_the_treated_area_is_the_current_version_of_the_measures_areas(world):
    old = area_create(
        municipality=world.ystad,
        kind="zone",
        name="Torget",
        code="T1",
        geometry=sweref_square(X0 + 2000, Y0, 200),
    )
    measure = make_measure(world, areas=[old])
    # The boundary moved to the centre after the measure was planned.
    area_replace(area=old, geometry=sweref_square(X0, Y0, 200), valid_from=dt.date(2026, 1, 1))
    report(world, at(START, 12))
    result = evaluate(world, measure, buffer_metres=0).result
    assert zone_counts(result)["treated"] == (0, 1)
    assert result["zones"]["buffer"] is None and result["wdq"] is None
    assert result["zones"]["treated"]["area_km2"] == pytest.approx(0.16, rel=1e-3)


def test_period_lengths_default_and_can_be_given(world):
    running = make_measure(world, start=dt.date(2026, 4, 1), end=None)
    result = evaluate(world, running).result
    # Running: the after period ends yesterday; the before period is at least 28 days.
    assert result["periods"]["after"] == {"first": "2026-04-01", "last": "2026-04-14", "days": 14}
    assert result["periods"]["before"] == {"first": "2026-03-04", "last": "2026-03-31", "days": 28}
    long = make_measure(world, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 1))
    result = evaluate(world, long).result
    assert result["periods"]["before"]["days"] == 60
    # Weeks are counted from the start both ways, so only the outermost weeks are short.
    assert result["weekly"]["days"] == [4] + [7] * 16 + [4]
    assert result["weekly"]["starts"][9] == "2026-01-01"
    given = evaluate(world, long, before_days=14, after_days=7).result["periods"]
    assert given["before"] == {"first": "2025-12-18", "last": "2025-12-31", "days": 14}
    assert given["after"] == {"first": "2026-01-01", "last": "2026-01-07", "days": 7}


def test_unequal_periods_are_compared_per_day_in_words(world):
    measure = make_measure(world)
    spread(world, 20, START - dt.timedelta(days=56), 56, TREATED)
    spread(world, 10, START, 28, TREATED)
    spread(world, 40, START - dt.timedelta(days=56), 56, CONTROL)
    spread(world, 20, START, 28, CONTROL)
    evaluation = evaluate(world, measure, before_days=56)
    assert zone_counts(evaluation.result)["treated"] == (20, 10)
    assert evaluation.result["rate_ratio"]["treated_change"] == pytest.approx(1.0)
    assert (
        "Antalet rapporter i området var i stort sett oförändrat (20 under 56 dagar före, 10 under 28 dagar efter; "
        "omräknat till lika långa perioder: 10,0 mot 10) medan"
    ) in evaluation.summary


@pytest.mark.parametrize(
    ("changes", "kwargs", "message"),
    [
        ({"start": TODAY, "end": None}, {}, "has not run a full day"),
        ({"polygon": None}, {}, "neither areas nor a drawn place"),
        ({}, {"after_days": 60}, "after the last full day"),
        ({}, {"before_days": 3}, "at least 7"),
        ({}, {"buffer_metres": -1}, "buffer"),
        ({"time_windows": [{"weekdays": [8], "start": "20:00", "end": "02:00"}]}, {}, "weekdays"),
        ({"time_windows": [{"weekdays": [5], "start": "25:00", "end": "02:00"}]}, {}, "HH:MM"),
        ({}, {"view": "everything"}, "view"),
    ],
)
def test_bad_input_is_refused_with_a_reason(world, changes, kwargs, message):
    measure = make_measure(world)
    Measure.objects.filter(pk=measure.pk).update(**changes)
    with translation.override("en"), pytest.raises(ValueError, match=message):
        evaluate(world, measure, **kwargs)
    assert not Evaluation.objects.exists()


# --------------------------------------------------------------------------------------------------------------------
# Access and the page
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user", ["kommun_lasare", "polis_lasare", "kommun_rapportor", "simrishamn_samordnare", "nobody"]
)
def test_only_editors_of_the_municipality_may_evaluate(world, user):
    measure = make_measure(world)
    with pytest.raises(Http404):
        evaluate(world, measure, user=user)


@pytest.mark.parametrize("role", [Role.SAMORDNARE, Role.ANALYTIKER, Role.ADMIN])
def test_editors_may_evaluate(world, role):
    measure = make_measure(world)
    assert evaluate(world, measure, user=f"kommun_{role}").measure == measure


def client_for(world, key):
    client = Client()
    client.force_login(world.users[key])
    return client


def recent_measure(world):
    today = timezone.localdate()
    measure = make_measure(world, start=today - dt.timedelta(days=28), end=today - dt.timedelta(days=1))
    spread(world, 12, today - dt.timedelta(days=56), 28, TREATED)
    spread(world, 6, today - dt.timedelta(days=28), 28, TREATED)
    spread(world, 20, today - dt.timedelta(days=56), 56, CONTROL)
    return measure


def test_page_runs_and_shows_an_evaluation(world, eval_urls):
    measure = recent_measure(world)
    url = reverse("plan_eval:measure_evaluate", args=[measure.pk])
    client = client_for(world, "kommun_samordnare")
    empty = client.get(url)
    assert empty.status_code == 200 and 'id="no-evaluation"' in empty.content.decode()
    assert 'id="evaluate-form"' in empty.content.decode()
    posted = client.post(url, {"buffer_metres": "300", "before_days": "", "after_days": ""})
    assert posted.status_code == 302 and posted["Location"] == url
    evaluation = Evaluation.objects.get()
    assert evaluation.parameters["buffer_metres"] == 300
    assert zone_counts(evaluation.result)["treated"] == (12, 6)
    page = client.get(url)
    html = page.content.decode()
    assert page.context["evaluation"] == evaluation
    assert evaluation.result["summary_parts"][0] in html
    assert 'id="zone-counts"' in html and 'id="statistics"' in html
    svg = page.context["chart_svg"]
    assert svg.count('class="panel"') == 3 and 'class="start"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count('stroke-dasharray="9 4"') >= 1  # the control line is dashed, not told apart by colour alone


def test_page_form_errors_are_shown(world, eval_urls):
    measure = make_measure(world, start=timezone.localdate(), end=None)
    url = reverse("plan_eval:measure_evaluate", args=[measure.pk])
    response = client_for(world, "kommun_samordnare").post(url, {"buffer_metres": "500"})
    assert response.status_code == 200
    assert "has not run a full day" in response.content.decode() or response.context["form"].non_field_errors()
    assert not Evaluation.objects.exists()


def test_readers_see_but_cannot_run(world, eval_urls):
    measure = recent_measure(world)
    evaluation = measure_evaluate(user=world.users["kommun_samordnare"], measure_id=measure.pk)
    url = reverse("plan_eval:measure_evaluate", args=[measure.pk])
    reader = client_for(world, "kommun_lasare")
    page = reader.get(url)
    assert page.status_code == 200 and page.context["evaluation"] == evaluation
    assert page.context["form"] is None and 'id="evaluate-form"' not in page.content.decode()
    assert reader.post(url, {"buffer_metres": "500"}).status_code == 404
    assert Evaluation.objects.count() == 1


@pytest.mark.parametrize("user", ["kommun_rapportor", "simrishamn_samordnare", "nobody"])
def test_page_is_missing_for_those_without_access(world, eval_urls, user):
    measure = make_measure(world)
    url = reverse("plan_eval:measure_evaluate", args=[measure.pk])
    assert client_for(world, user).get(url).status_code == 404
    assert client_for(world, user).post(url, {"buffer_metres": "500"}).status_code == 404


def test_police_evaluations_are_not_shown_to_the_municipality(world, eval_urls):
    measure = recent_measure(world)
    police = measure_evaluate(user=world.users["polis_analytiker"], measure_id=measure.pk, view="police")
    url = reverse("plan_eval:measure_evaluate", args=[measure.pk])
    kommun = client_for(world, "kommun_samordnare")
    assert kommun.get(url).context["evaluation"] is None
    assert kommun.get(url, {"evaluation": police.pk}).status_code == 404
    assert client_for(world, "polis_lasare").get(url).context["evaluation"] == police


def test_police_members_may_choose_the_police_view_on_the_page(world, eval_urls):
    measure = recent_measure(world)
    url = reverse("plan_eval:measure_evaluate", args=[measure.pk])
    police = client_for(world, "polis_analytiker")
    assert "view" in police.get(url).context["form"].fields
    assert "view" not in client_for(world, "kommun_samordnare").get(url).context["form"].fields
    assert police.post(url, {"buffer_metres": "500", "view": "police"}).status_code == 302
    assert Evaluation.objects.get().parameters["view"] == "police"
