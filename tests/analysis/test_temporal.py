from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from samverkan.analysis.temporal import (
    compare_to_baseline,
    seasonal_baseline,
    trend,
    weekday_hour_profile,
)

# --------------------------------------------------------------------------------------------------------------------
# weekday_hour_profile
# --------------------------------------------------------------------------------------------------------------------


def test_profile_counts_match_a_hand_tally():
    rng = np.random.default_rng(3)
    wd = rng.integers(0, 7, 500)
    hr = rng.integers(0, 24, 500)
    prof = weekday_hour_profile(wd, hr)
    tally = np.zeros((7, 24))
    for a, b in zip(wd, hr, strict=True):
        tally[a, b] += 1
    np.testing.assert_array_equal(prof.counts, tally)
    np.testing.assert_allclose(prof.shares, tally / 500)
    assert prof.n == 500
    assert prof.shares.sum() == pytest.approx(1.0)


def test_profile_monday_midnight_and_sunday_late_are_the_corners():
    prof = weekday_hour_profile([0, 6, 6], [0, 23, 23])
    assert prof.counts[0, 0] == 1
    assert prof.counts[6, 23] == 2
    assert prof.counts.sum() == 3


def test_profile_chi_square_hand_computed():
    # 840 events: 10 in each of the first 84 cells, none in the rest. Expected 5 per cell, so every cell
    # contributes 5**2 / 5 = 5 and chi2 = 168 * 5 = 840.
    cells = np.repeat(np.arange(84), 10)
    prof = weekday_hour_profile(cells // 24, cells % 24)
    assert prof.chi2 == pytest.approx(840.0)
    assert prof.dof == 167
    assert prof.p == pytest.approx(stats.chi2.sf(840.0, 167))
    assert prof.test_reliable


def test_profile_even_spread_gives_chi2_zero():
    cells = np.repeat(np.arange(168), 6)
    prof = weekday_hour_profile(cells // 24, cells % 24)
    assert prof.chi2 == pytest.approx(0.0)
    assert prof.p == pytest.approx(1.0)


def test_profile_small_counts_are_flagged_unreliable():
    rng = np.random.default_rng(4)
    prof = weekday_hour_profile(rng.integers(0, 7, 839), rng.integers(0, 24, 839))
    assert not prof.test_reliable
    assert "below 5" in prof.reliability_note
    assert prof.p_monte_carlo is None
    big = weekday_hour_profile(rng.integers(0, 7, 840), rng.integers(0, 24, 840))
    assert big.test_reliable


def test_profile_monte_carlo_agrees_with_chi_square_when_counts_are_large():
    rng = np.random.default_rng(5)
    # A mild evening excess so that p is neither 0 nor 1.
    probs = np.ones(168)
    probs[18::24] = 1.25
    cells = rng.choice(168, size=4000, p=probs / probs.sum())
    prof = weekday_hour_profile(cells // 24, cells % 24, rng=6, simulations=4999)
    assert 0.005 < prof.p < 0.5
    assert prof.p_monte_carlo == pytest.approx(prof.p, abs=0.03)
    assert prof.simulations == 4999


def test_profile_monte_carlo_detects_a_strong_pattern_with_few_events():
    # 60 events, all on Friday night: far too few for the chi-square approximation, clear for Monte Carlo.
    prof = weekday_hour_profile(np.full(60, 4), np.repeat([22, 23], 30), rng=1, simulations=999)
    assert not prof.test_reliable
    assert prof.p_monte_carlo == pytest.approx(1 / 1000)


def test_profile_monte_carlo_under_uniformity_is_not_small():
    rng = np.random.default_rng(7)
    ps = [
        weekday_hour_profile(rng.integers(0, 7, 200), rng.integers(0, 24, 200), rng=rng, simulations=199).p_monte_carlo
        for _ in range(40)
    ]
    assert all(p is not None for p in ps)
    arr = np.array(ps, dtype=float)
    assert 0.3 < arr.mean() < 0.7
    assert np.mean(arr <= 0.05) <= 0.15


def test_profile_monte_carlo_is_reproducible_with_a_seed():
    rng = np.random.default_rng(8)
    wd, hr = rng.integers(0, 7, 100), rng.integers(0, 24, 100)
    a = weekday_hour_profile(wd, hr, rng=11, simulations=499)
    b = weekday_hour_profile(wd, hr, rng=11, simulations=499)
    assert a.p_monte_carlo == b.p_monte_carlo


def test_profile_whole_weights_equal_repeated_events():
    wd = np.array([0, 1, 1, 5])
    hr = np.array([3, 4, 4, 20])
    weighted = weekday_hour_profile(wd, hr, weights=[2, 1, 3, 1])
    repeated = weekday_hour_profile(np.repeat(wd, [2, 1, 3, 1]), np.repeat(hr, [2, 1, 3, 1]))
    np.testing.assert_array_equal(weighted.counts, repeated.counts)
    assert weighted.chi2 == pytest.approx(repeated.chi2)


def test_profile_fractional_weights_mark_the_test_unreliable():
    rng = np.random.default_rng(9)
    wd, hr = rng.integers(0, 7, 2000), rng.integers(0, 24, 2000)
    prof = weekday_hour_profile(wd, hr, weights=np.full(2000, 0.5), rng=1)
    assert prof.n == pytest.approx(1000.0)
    assert not prof.test_reliable
    assert "fractional" in prof.reliability_note
    assert prof.p_monte_carlo is None


def test_profile_empty_is_a_documented_empty_result():
    prof = weekday_hour_profile([], [])
    assert prof.n == 0
    assert prof.counts.shape == (7, 24)
    assert not prof.counts.any()
    assert not prof.shares.any()
    assert math.isnan(prof.chi2)
    assert math.isnan(prof.p)
    assert not prof.test_reliable


@pytest.mark.parametrize(
    ("weekday", "hour", "match"),
    [
        ([7], [1], "weekday"),
        ([-1], [1], "weekday"),
        ([1], [24], "hour"),
        ([1], [-1], "hour"),
        ([1.5], [1], "weekday"),
        ([1], [np.nan], "hour"),
        ([np.inf], [1], "weekday"),
        ([1, 2], [1], "same length"),
        (["mon"], [1], "weekday"),
    ],
)
def test_profile_refuses_bad_values(weekday, hour, match):
    with pytest.raises(ValueError, match=match):
        weekday_hour_profile(weekday, hour)


def test_profile_refuses_bad_weights_and_simulations():
    with pytest.raises(ValueError, match="weights"):
        weekday_hour_profile([1, 2], [3, 4], weights=[1, -1])
    with pytest.raises(ValueError, match="weights"):
        weekday_hour_profile([1, 2], [3, 4], weights=[1])
    with pytest.raises(ValueError, match="weights"):
        weekday_hour_profile([1, 2], [3, 4], weights=[1, np.nan])
    with pytest.raises(ValueError, match="simulations"):
        weekday_hour_profile([1, 2], [3, 4], rng=1, simulations=0)


# --------------------------------------------------------------------------------------------------------------------
# compare_to_baseline
# --------------------------------------------------------------------------------------------------------------------


def _limits_by_scan(s: int, k: int, level: float) -> tuple[int, int]:
    """Prediction limits found by checking every candidate count against the binomial tails."""
    q = 1 / (k + 1)
    half = (1 - level) / 2
    xs = np.arange(0, 400)
    up = stats.binom.sf(xs - 1, xs + s, q)
    low = stats.binom.cdf(xs, xs + s, q)
    upper = int(xs[up > half].max())
    lower = int(xs[low > half].min())
    return lower, upper


@pytest.mark.parametrize(("baseline", "level"), [([20] * 8, 0.95), ([3, 5, 4], 0.95), ([0] * 8, 0.9), ([57], 0.99)])
def test_baseline_limits_equal_a_full_scan(baseline, level):
    res = compare_to_baseline(0, baseline, level=level)
    assert (res.lower, res.upper) == _limits_by_scan(sum(baseline), len(baseline), level)


def test_baseline_p_value_is_the_doubled_binomial_tail():
    res = compare_to_baseline(40, [20] * 8)
    one_sided = stats.binomtest(40, 200, 1 / 9, alternative="greater").pvalue
    assert res.p == pytest.approx(2 * one_sided)
    assert res.flag == "higher"
    assert res.expected == 20
    assert res.ratio == 2
    assert res.percent_change == pytest.approx(100.0)


def test_baseline_flags_follow_the_limits():
    base = [12, 15, 9, 14, 10, 13, 11, 12]
    ref = compare_to_baseline(0, base, min_events=0)
    assert compare_to_baseline(ref.upper, base, min_events=0).flag == "as_expected"
    assert compare_to_baseline(ref.upper + 1, base, min_events=0).flag == "higher"
    assert compare_to_baseline(ref.lower, base, min_events=0).flag == "as_expected"
    assert compare_to_baseline(ref.lower - 1, base, min_events=0).flag == "lower"
    assert compare_to_baseline(ref.upper + 1, base, min_events=0).p <= 0.05
    assert compare_to_baseline(ref.upper, base, min_events=0).p > 0.05


@pytest.mark.parametrize("k", [1, 2, 4, 8, 13, 26, 52, 104])
@pytest.mark.parametrize("min_events", [0, 10])
def test_baseline_two_to_four_is_never_higher(k, min_events):
    for baseline in (np.full(k, 2), np.tile([0, 4], k)):
        res = compare_to_baseline(4, baseline, min_events=min_events)
        assert res.expected == 2
        assert res.flag != "higher"
        if min_events == 10:
            assert res.flag == "too_few"
            assert res.percent_change is None


def test_baseline_too_few_threshold():
    assert compare_to_baseline(5, [4, 5], min_events=10).flag == "too_few"  # 5 + 4.5 < 10
    not_few = compare_to_baseline(5, [5, 5], min_events=10)  # 5 + 5 = 10
    assert not_few.flag == "as_expected"
    assert not_few.percent_change == pytest.approx(0.0)


def test_baseline_percent_change_and_lower_flag():
    assert compare_to_baseline(30, [20] * 8).percent_change == pytest.approx(50.0)
    low = compare_to_baseline(10, [30] * 8)
    assert low.flag == "lower"
    assert low.percent_change == pytest.approx(100 * (10 / 30 - 1))


def test_baseline_all_zero_has_no_ratio():
    res = compare_to_baseline(12, [0] * 8)
    assert res.ratio is None
    assert res.percent_change is None
    assert res.flag == "higher"
    assert res.dispersion is None


def test_baseline_dispersion_is_variance_over_mean():
    res = compare_to_baseline(10, [10, 20])
    assert res.dispersion == pytest.approx(50 / 15)


def test_baseline_false_alarm_rate_is_at_most_alpha():
    rng = np.random.default_rng(12)
    flagged = 0
    runs = 500
    for _ in range(runs):
        res = compare_to_baseline(int(rng.poisson(15)), rng.poisson(15, 8), min_events=0)
        flagged += res.flag in ("higher", "lower")
    # The conditional test is conservative: at most 5 % plus sampling noise (sd about 1 %).
    assert flagged / runs <= 0.075


def test_baseline_detects_a_real_doubling():
    assert compare_to_baseline(60, [30, 28, 33, 31, 29, 30, 27, 32]).flag == "higher"


@pytest.mark.parametrize(
    ("current", "baseline", "kwargs", "match"),
    [
        (-1, [1, 2], {}, "current"),
        (1.5, [1, 2], {}, "current"),
        ([1, 2], [1, 2], {}, "current"),
        (1, [], {}, "baseline"),
        (1, [1, -2], {}, "baseline"),
        (1, [1, 2.5], {}, "baseline"),
        (1, [1, np.nan], {}, "baseline"),
        (1, [1, 2], {"level": 1.0}, "level"),
        (1, [1, 2], {"level": 0.0}, "level"),
        (1, [1, 2], {"min_events": -1}, "min_events"),
    ],
)
def test_baseline_refuses_bad_input(current, baseline, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_to_baseline(current, baseline, **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# seasonal_baseline
# --------------------------------------------------------------------------------------------------------------------


def test_seasonal_baseline_same_month_in_earlier_years():
    monthly = np.arange(36) * 10
    np.testing.assert_array_equal(seasonal_baseline(monthly, period=35, season_length=12, n_seasons=2), [110, 230])
    np.testing.assert_array_equal(seasonal_baseline(monthly, period=-1, season_length=12, n_seasons=2), [110, 230])


def test_seasonal_baseline_previous_weeks():
    weekly = np.arange(20)
    np.testing.assert_array_equal(seasonal_baseline(weekly, period=10, season_length=1, n_seasons=8), np.arange(2, 10))


def test_seasonal_baseline_feeds_compare_to_baseline():
    monthly = np.array([40, 30, 20] * 3 + [41, 30, 60])
    base = seasonal_baseline(monthly, period=-1, season_length=3, n_seasons=3)
    np.testing.assert_array_equal(base, [20, 20, 20])
    assert compare_to_baseline(int(monthly[-1]), base).flag == "higher"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"period": 12, "season_length": 12, "n_seasons": 2}, "n_seasons=2"),
        ({"period": 40, "season_length": 12, "n_seasons": 1}, "outside"),
        ({"period": -37, "season_length": 12, "n_seasons": 1}, "outside"),
        ({"period": 30, "season_length": 0, "n_seasons": 1}, "season_length"),
        ({"period": 30, "season_length": 12, "n_seasons": 0}, "n_seasons"),
        ({"period": 30.5, "season_length": 12, "n_seasons": 1}, "period"),
    ],
)
def test_seasonal_baseline_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        seasonal_baseline(np.arange(36), **kwargs)


def test_seasonal_baseline_refuses_nan():
    with pytest.raises(ValueError, match="series"):
        seasonal_baseline([1.0, np.nan, 3.0], period=2, season_length=1, n_seasons=1)


# --------------------------------------------------------------------------------------------------------------------
# trend
# --------------------------------------------------------------------------------------------------------------------

SERIES = np.array([31, 28, 35, 40, 33, 45, 41, 50, 47, 55, 49, 60])


def _poisson_mle_by_optimizer(y):
    t = np.arange(y.size, dtype=float)

    def nll(b):
        eta = b[0] + b[1] * t
        return float(np.sum(np.exp(eta) - y * eta))

    res = optimize.minimize(
        nll,
        x0=[math.log(y.mean()), 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
    )
    return res.x


def test_trend_slope_matches_a_direct_likelihood_maximisation():
    b = _poisson_mle_by_optimizer(SERIES)
    res = trend(SERIES, overdispersion=False)
    assert res.slope == pytest.approx(b[1], abs=1e-6)
    assert res.relative_change == pytest.approx(math.exp(b[1]) - 1, abs=1e-6)


def test_trend_poisson_standard_error_and_interval():
    res = trend(SERIES, overdispersion=False)
    t = np.arange(SERIES.size, dtype=float)
    X = np.column_stack([np.ones_like(t), t])
    b = _poisson_mle_by_optimizer(SERIES)
    mu = np.exp(X @ b)
    se = math.sqrt(np.linalg.inv(X.T @ (X * mu[:, None]))[1, 1])
    assert res.slope_ci is not None
    assert res.slope_ci[0] == pytest.approx(b[1] - 1.959964 * se, abs=1e-5)
    assert res.slope_ci[1] == pytest.approx(b[1] + 1.959964 * se, abs=1e-5)
    assert res.p == pytest.approx(2 * stats.norm.sf(abs(b[1]) / se), rel=1e-4)
    assert res.relative_change_ci == pytest.approx((math.expm1(res.slope_ci[0]), math.expm1(res.slope_ci[1])))
    assert res.se_scale == 1.0
    assert res.flag == "increasing"


def test_trend_overdispersion_widens_the_interval():
    y = np.array([10, 60, 5, 70, 12, 80, 9, 90, 15, 85])
    plain = trend(y, overdispersion=False)
    quasi = trend(y, overdispersion=True)
    t = np.arange(y.size)
    mu = np.exp(_poisson_mle_by_optimizer(y) @ np.vstack([np.ones(y.size), t]))
    pearson = float(np.sum((y - mu) ** 2 / mu) / (y.size - 2))
    assert quasi.dispersion == pytest.approx(pearson, rel=1e-4)
    assert quasi.se_scale == pytest.approx(math.sqrt(pearson), rel=1e-4)
    assert plain.slope == pytest.approx(quasi.slope)
    assert plain.slope_ci is not None and quasi.slope_ci is not None
    assert quasi.slope_ci[1] - quasi.slope_ci[0] > 3 * (plain.slope_ci[1] - plain.slope_ci[0])
    assert plain.flag == "increasing"
    assert quasi.flag == "no_trend"


def test_trend_mann_kendall_against_scipy_kendalltau():
    y = np.array([5, 7, 7, 6, 9, 12, 9, 14, 11, 15, 15, 18])
    res = trend(y)
    t = np.arange(y.size)
    s = sum(np.sign(y[j] - y[i]) for i in range(y.size) for j in range(i + 1, y.size))
    assert res.mk_s == s
    ref = stats.kendalltau(t, y, method="asymptotic")
    assert res.kendall_tau == pytest.approx(ref.statistic)
    # scipy's asymptotic test has no continuity correction; undo ours to compare.
    assert 2 * stats.norm.sf(abs(res.mk_s) / math.sqrt(res.mk_var)) == pytest.approx(ref.pvalue)
    assert res.mk_z == pytest.approx((s - 1) / math.sqrt(res.mk_var))


def test_trend_mann_kendall_variance_without_ties():
    res = trend(np.arange(10) * 3 + 1)
    assert res.mk_var == pytest.approx(10 * 9 * 25 / 18)
    assert res.mk_s == 45
    assert res.kendall_tau == pytest.approx(1.0)


def test_trend_decreasing_and_flat():
    assert trend(SERIES[::-1]).flag == "decreasing"
    flat = trend(np.random.default_rng(2).poisson(30, 12))
    assert flat.flag == "no_trend"
    const = trend([7, 7, 7, 7])
    assert const.slope == pytest.approx(0.0, abs=1e-12)
    assert const.mk_p == 1.0
    assert math.isnan(const.kendall_tau)


def test_trend_too_few():
    res = trend([1, 2, 3, 5, 6])
    assert res.total == 17
    assert res.flag == "too_few"
    assert res.slope is not None
    assert trend([1, 2, 3, 5, 6], min_total=10).flag != "too_few"


def test_trend_without_maximum_likelihood_estimate_falls_back_to_mann_kendall():
    zero = trend([0, 0, 0, 0])
    assert zero.slope is None
    assert zero.flag == "too_few"
    last = trend([0, 0, 0, 0, 0, 0, 0, 0, 40])
    assert last.slope is None
    assert last.p is None
    assert last.flag == ("increasing" if last.mk_p <= 0.05 else "no_trend")
    assert trend([0, 40, 0]).slope == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("series", "kwargs", "match"),
    [
        ([1, 2], {}, "at least 3"),
        ([1, -2, 3], {}, "series"),
        ([1, 2.5, 3], {}, "series"),
        ([1, np.nan, 3], {}, "series"),
        ([1, 2, 3], {"level": 1.5}, "level"),
    ],
)
def test_trend_refuses_bad_input(series, kwargs, match):
    with pytest.raises(ValueError, match=match):
        trend(series, **kwargs)
