"""Tests for samverkan.analysis.evaluation: rate ratio, WDQ, WDD, MDE, verdict."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from samverkan.analysis.evaluation import (
    measure_verdict,
    minimum_detectable_effect,
    rate_ratio,
    weighted_displacement_difference,
    weighted_displacement_quotient,
)

Z95 = 1.959963984540054

# --- rate ratio -------------------------------------------------------------------------------------------------


def test_rate_ratio_hand_computed():
    r = rate_ratio(80, 60, 200, 220)
    # (60/80) / (220/200) = 0.75 / 1.1
    assert r.ratio == pytest.approx(0.75 / 1.1, rel=1e-14)
    # 1/60 + 1/80 + 1/220 + 1/200 = 0.0387121...
    assert r.se_log == pytest.approx(math.sqrt(0.016666666666666666 + 0.0125 + 0.004545454545454545 + 0.005))
    assert r.se_log == pytest.approx(0.196754, abs=1e-6)
    assert r.ci_low == pytest.approx(0.46365, abs=1e-5)
    assert r.ci_high == pytest.approx(1.00264, abs=1e-5)
    assert r.treated_change == pytest.approx(0.75)
    assert r.control_change == pytest.approx(1.1)
    assert r.percent_change == pytest.approx(100 * (0.75 / 1.1 - 1))
    assert not r.continuity_corrected
    assert r.z == pytest.approx(math.log(0.75 / 1.1) / r.se_log)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(r.z)), rel=1e-12)


def test_rate_ratio_level_changes_only_the_interval():
    r95 = rate_ratio(80, 60, 200, 220)
    r90 = rate_ratio(80, 60, 200, 220, level=0.90)
    assert r90.ratio == r95.ratio and r90.p_value == r95.p_value
    z90 = stats.norm.ppf(0.95)
    assert r90.ci_high == pytest.approx(r90.ratio * math.exp(z90 * r90.se_log))
    assert r90.ci_low > r95.ci_low


def test_rate_ratio_durations_cancel_in_rr_but_not_in_area_changes():
    plain = rate_ratio(80, 60, 200, 220)
    r = rate_ratio(80, 60, 200, 220, before_duration=2.0, after_duration=1.0)
    assert r.ratio == pytest.approx(plain.ratio)
    assert r.ci_low == pytest.approx(plain.ci_low) and r.ci_high == pytest.approx(plain.ci_high)
    # per unit time: treated 40 -> 60, control 100 -> 220
    assert r.treated_change == pytest.approx(1.5)
    assert r.control_change == pytest.approx(2.2)


def test_rate_ratio_zero_count_uses_half_continuity_correction():
    r = rate_ratio(10, 0, 20, 20)
    assert r.continuity_corrected
    assert r.ratio == pytest.approx((0.5 / 10.5) / (20.5 / 20.5))
    assert r.se_log == pytest.approx(math.sqrt(1 / 0.5 + 1 / 10.5 + 2 / 20.5))


def test_rate_ratio_tiny_p_value_keeps_precision():
    r = rate_ratio(2000, 1000, 5000, 5000)  # z is about -15.9; 1 - cdf would round to 0
    assert 0 < r.p_value < 1e-50
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(r.z)), rel=1e-9)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((-1, 5, 5, 5), {}, "before_treated"),
        ((5, math.nan, 5, 5), {}, "after_treated"),
        ((5, 5, math.inf, 5), {}, "before_control"),
        ((5, 5, 5, -0.5), {}, "after_control"),
        ((5, 5, 5, 5), {"level": 1.0}, "level"),
        ((5, 5, 5, 5), {"level": 0.0}, "level"),
        ((5, 5, 5, 5), {"before_duration": 0.0}, "before_duration"),
        ((5, 5, 5, 5), {"after_duration": -1.0}, "after_duration"),
    ],
)
def test_rate_ratio_refuses_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rate_ratio(*args, **kwargs)


def test_rate_ratio_ci_covers_the_true_ratio_about_95_percent():
    rng = np.random.default_rng(20240601)
    n = 4000
    mu_bt, mu_bc, mu_ac = 60.0, 150.0, 165.0
    true_rr = 0.7
    mu_at = mu_bt * true_rr * mu_ac / mu_bc
    counts = rng.poisson([mu_bt, mu_at, mu_bc, mu_ac], size=(n, 4))
    covered = 0
    for bt, at, bc, ac in counts:
        r = rate_ratio(bt, at, bc, ac)
        covered += r.ci_low <= true_rr <= r.ci_high
    assert 0.93 <= covered / n <= 0.97


# --- weighted displacement quotient -----------------------------------------------------------------------------


def test_wdq_hand_computed_displacement_smaller_than_effect():
    q = weighted_displacement_quotient(100, 60, 50, 55, 200, 200)
    assert q.success_measure == pytest.approx(60 / 200 - 100 / 200)  # -0.2
    assert q.buffer_measure == pytest.approx(55 / 200 - 50 / 200)  # +0.025
    assert q.wdq == pytest.approx(0.025 / -0.2)  # -0.125
    assert q.interpretation == "displacement_smaller_than_effect"


def test_wdq_control_trend_is_taken_out():
    # Control doubles; treated stays flat (a relative fall), buffer also flat (also a relative fall: diffusion).
    q = weighted_displacement_quotient(40, 40, 30, 30, 100, 200)
    assert q.success_measure == pytest.approx(40 / 200 - 40 / 100)  # -0.2
    assert q.buffer_measure == pytest.approx(30 / 200 - 30 / 100)  # -0.15
    assert q.wdq == pytest.approx(0.75)
    assert q.interpretation == "diffusion"


@pytest.mark.parametrize(
    ("after_buffer", "wdq", "interpretation"),
    [
        (90, 2.0, "diffusion_exceeds_effect"),  # buffer falls by 10/100, twice the treated 5/100
        (95, 1.0, "diffusion"),
        (100, 0.0, "no_displacement"),
        (105, -1.0, "displacement_smaller_than_effect"),
        (110, -2.0, "displacement_exceeds_effect"),
    ],
)
def test_wdq_interpretation_bands(after_buffer, wdq, interpretation):
    q = weighted_displacement_quotient(50, 45, 100, after_buffer, 100, 100)
    assert q.wdq == pytest.approx(wdq)
    assert q.interpretation == interpretation


def test_wdq_without_success_is_nan():
    q = weighted_displacement_quotient(50, 60, 100, 90, 100, 100)
    assert q.success_measure == pytest.approx(0.1)
    assert math.isnan(q.wdq)
    assert q.interpretation == "no_success"
    flat = weighted_displacement_quotient(50, 50, 100, 90, 100, 100)
    assert flat.success_measure == 0 and math.isnan(flat.wdq)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((50, 45, 100, 90, 0, 100), "before_control must be > 0"),
        ((50, 45, 100, 90, 100, 0), "after_control must be > 0"),
        ((50, 45, -1, 90, 100, 100), "before_buffer"),
        ((50, math.nan, 100, 90, 100, 100), "after_treated"),
    ],
)
def test_wdq_refuses_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        weighted_displacement_quotient(*args)


# --- weighted displacement difference ---------------------------------------------------------------------------


def test_wdd_hand_computed_with_displacement_area():
    d = weighted_displacement_difference(
        100,
        70,
        100,
        95,
        before_displacement=50,
        after_displacement=55,
        before_displacement_control=50,
        after_displacement_control=50,
    )
    # (70-100) - (95-100) = -25; (55-50) - (50-50) = +5
    assert d.treated_difference == pytest.approx(-25)
    assert d.displacement_difference == pytest.approx(5)
    assert d.wdd == pytest.approx(-20)
    assert d.se == pytest.approx(math.sqrt(100 + 70 + 100 + 95 + 50 + 55 + 50 + 50))
    assert d.z == pytest.approx(-20 / math.sqrt(570))
    assert d.ci_low == pytest.approx(-20 - Z95 * math.sqrt(570))
    assert d.ci_high == pytest.approx(-20 + Z95 * math.sqrt(570))
    assert d.p_value == pytest.approx(2 * stats.norm.sf(20 / math.sqrt(570)))


def test_wdd_unequal_periods_match_wheeler_2021_worked_example():
    # Two years before, one after: treated 80 -> 20, control 100 -> 50.
    raw = weighted_displacement_difference(80, 20, 100, 50)
    assert raw.wdd == pytest.approx(-10)
    assert raw.se == pytest.approx(math.sqrt(250))  # about 15.8
    per_year = weighted_displacement_difference(80, 20, 100, 50, before_duration=2.0, after_duration=1.0)
    assert per_year.wdd == pytest.approx(-20)
    assert per_year.se == pytest.approx(math.sqrt(20 + 80 / 4 + 50 + 100 / 4))  # sqrt(115), about 10.7
    assert per_year.se == pytest.approx(10.72, abs=0.01)
    assert per_year.ci_low < 0 < per_year.ci_high  # not significant at 5 %


def test_wdd_refuses_bad_input():
    with pytest.raises(ValueError, match="all counts are 0"):
        weighted_displacement_difference(0, 0, 0, 0)
    with pytest.raises(ValueError, match="after_displacement_control"):
        weighted_displacement_difference(5, 5, 5, 5, after_displacement_control=-2)
    with pytest.raises(ValueError, match="before_duration"):
        weighted_displacement_difference(5, 5, 5, 5, before_duration=0)
    with pytest.raises(ValueError, match="level"):
        weighted_displacement_difference(5, 5, 5, 5, level=1.5)


def test_wdd_ci_covers_the_true_difference_about_95_percent():
    rng = np.random.default_rng(77)
    n = 4000
    mu = np.array([120.0, 80.0, 110.0, 105.0, 60.0, 70.0, 55.0, 50.0])
    true_wdd = (mu[1] - mu[0]) - (mu[3] - mu[2]) + (mu[5] - mu[4]) - (mu[7] - mu[6])
    counts = rng.poisson(mu, size=(n, 8))
    covered = 0
    for c in counts:
        d = weighted_displacement_difference(
            c[0],
            c[1],
            c[2],
            c[3],
            before_displacement=c[4],
            after_displacement=c[5],
            before_displacement_control=c[6],
            after_displacement_control=c[7],
        )
        covered += d.ci_low <= true_wdd <= d.ci_high
    assert 0.93 <= covered / n <= 0.97


# --- minimum detectable effect ----------------------------------------------------------------------------------


def test_mde_solves_the_power_equation():
    m = minimum_detectable_effect(100, 400)
    assert m.detectable
    theta = m.ratio
    k = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    var = 1 / (100 * theta) + 1 / 100 + 1 / 400 + 1 / 400
    assert -math.log(theta) == pytest.approx(k * math.sqrt(var), rel=1e-9)
    assert m.reduction == pytest.approx(1 - theta)
    # Of the two roots of the power equation, the MDE is the one closest to "no effect".
    thetas = np.linspace(theta + 1e-6, 1.0, 2000)
    v = 1 / (100 * thetas) + 1 / 100 + 2 / 400
    assert np.all(-np.log(thetas) < k * np.sqrt(v))


def test_mde_with_durations_uses_expected_after_counts():
    m = minimum_detectable_effect(100, 400, before_duration=2.0, after_duration=1.0)
    k = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    var = 1 / (50 * m.ratio) + 1 / 100 + 1 / 200 + 1 / 400
    assert -math.log(m.ratio) == pytest.approx(k * math.sqrt(var), rel=1e-9)
    assert m.reduction > minimum_detectable_effect(100, 400).reduction


def test_mde_has_the_requested_power_in_simulation():
    m = minimum_detectable_effect(100, 400)
    rng = np.random.default_rng(99)
    n = 4000
    counts = rng.poisson([100.0, 100.0 * m.ratio, 400.0, 400.0], size=(n, 4))
    rejected = 0
    for bt, at, bc, ac in counts:
        rejected += rate_ratio(bt, at, bc, ac).ci_high < 1.0
    assert 0.76 <= rejected / n <= 0.84


def test_mde_shrinks_with_more_data_and_vanishes_with_too_little():
    reductions = [minimum_detectable_effect(n, n).reduction for n in (20, 50, 200, 1000)]
    assert all(a > b for a, b in itertools.pairwise(reductions))
    for tiny in ((5, 5), (0, 100), (100, 0)):
        m = minimum_detectable_effect(*tiny)
        assert not m.detectable and math.isnan(m.ratio)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"power": 1.0}, "power"),
        ({"power": -0.1}, "power"),
        ({"after_duration": 0.0}, "after_duration"),
    ],
)
def test_mde_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        minimum_detectable_effect(100, 100, **kwargs)
    with pytest.raises(ValueError, match="before_control"):
        minimum_detectable_effect(100, -1)


# --- verdict ----------------------------------------------------------------------------------------------------


def test_verdict_effect_shown_reduction_and_increase():
    down = measure_verdict(200, 100, 400, 400)
    assert (down.outcome, down.direction, down.reason) == ("effect_shown", "reduction", "ci_excludes_one")
    up = measure_verdict(100, 200, 400, 400)
    assert (up.outcome, up.direction) == ("effect_shown", "increase")
    assert down.rate_ratio.ratio == pytest.approx(0.5)


def test_verdict_too_few_counts():
    v = measure_verdict(8, 0, 300, 300)
    assert (v.outcome, v.reason, v.direction) == ("too_little_data", "counts_below_minimum", None)
    # The treated after count is exempt from the minimum: a working measure may leave it near zero.
    ok = measure_verdict(60, 3, 300, 300)
    assert ok.outcome == "effect_shown"


def test_verdict_null_result_from_a_weak_study_is_too_little_data():
    v = measure_verdict(20, 16, 20, 20)  # MDE is a reduction of about 87 %
    assert v.mde.reduction > 0.5
    assert (v.outcome, v.reason) == ("too_little_data", "mde_too_weak")


def test_verdict_null_result_from_a_strong_study_is_no_effect_shown():
    v = measure_verdict(1000, 980, 1000, 1000)
    assert v.mde.reduction < 0.5
    assert (v.outcome, v.reason, v.direction) == ("no_effect_shown", "ci_includes_one", None)


def test_verdict_thresholds_are_settings():
    v = measure_verdict(20, 16, 20, 20, max_detectable_reduction=0.9)
    assert v.outcome == "no_effect_shown"
    assert measure_verdict(8, 6, 300, 300, min_count=5).reason != "counts_below_minimum"
    with pytest.raises(ValueError, match="min_count"):
        measure_verdict(20, 16, 20, 20, min_count=0)
    with pytest.raises(ValueError, match="max_detectable_reduction"):
        measure_verdict(20, 16, 20, 20, max_detectable_reduction=1.0)
    with pytest.raises(ValueError, match="after_control"):
        measure_verdict(20, 16, 20, -1)
