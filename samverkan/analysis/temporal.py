"""When events happen: weekday × hour profiles, comparison with a baseline, and trends over periods.

Every function here respects small numbers: a jump from 2 to 4 events is not reported as "+100 %", a weekday × hour
table with a handful of events says its chi-square test is unreliable, and a trend over a few events is "too_few".

References
----------
Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples from Poisson series.
*Biometrika* 31(3/4), 313-323.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from samverkan.analysis._validate import as_rng

N_WEEKDAYS = 7
N_HOURS = 24
N_CELLS = N_WEEKDAYS * N_HOURS

# Cochran's rule of thumb for the chi-square approximation: every expected count at least 5.
MIN_EXPECTED_PER_CELL = 5.0

BaselineFlag = Literal["higher", "lower", "as_expected", "too_few"]
TrendFlag = Literal["increasing", "decreasing", "no_trend", "too_few"]


def _whole_numbers(values: ArrayLike, name: str) -> NDArray[np.int64]:
    """1-D array of whole numbers; NaN, inf and fractions are refused with the argument's name."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must hold numbers (got dtype {arr.dtype})")
    flat = arr.astype(np.float64).ravel()
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(flat != np.round(flat)):
        raise ValueError(f"{name} must hold whole numbers")
    return flat.astype(np.int64)


def _level(level: float) -> float:
    lv = float(level)
    if not (0.0 < lv < 1.0):
        raise ValueError(f"level must be between 0 and 1, e.g. 0.95 (got {level!r})")
    return lv


# --------------------------------------------------------------------------------------------------------------------
# Weekday × hour
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekdayHourProfile:
    """Events per weekday and hour of day, with a test against "every hour of the week is alike".

    Attributes
    ----------
    counts : ndarray, shape (7, 24)
        Events (or summed weights) per cell; row 0 is Monday, column 0 is 00:00-00:59 local time.
    shares : ndarray, shape (7, 24)
        ``counts / n``; all zeros when there are no events.
    n : float
        Total number of events (sum of weights).
    chi2, dof, p : float, int, float
        Pearson chi-square goodness-of-fit statistic against the uniform distribution over the 168 cells,
        its degrees of freedom (167) and p-value. ``nan`` when ``n == 0``.
    test_reliable : bool
        False when the chi-square approximation should not be trusted (see ``reliability_note``).
    reliability_note : str
        Why the test is unreliable, or ``""``.
    p_monte_carlo : float or None
        Monte-Carlo p-value of the same statistic (multinomial draws under uniformity), computed when an ``rng``
        was given and the weights are whole numbers; valid for any ``n``.
    simulations : int
        Number of Monte-Carlo draws behind ``p_monte_carlo`` (0 when none).
    """

    counts: NDArray[np.float64]
    shares: NDArray[np.float64]
    n: float
    chi2: float
    dof: int
    p: float
    test_reliable: bool
    reliability_note: str
    p_monte_carlo: float | None
    simulations: int


def weekday_hour_profile(
    weekday: ArrayLike,
    hour: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    rng: int | np.random.Generator | None = None,
    simulations: int = 9999,
) -> WeekdayHourProfile:
    """Tabulate events by ISO weekday and hour and test whether they are spread evenly over the week.

    Parameters
    ----------
    weekday : array_like of int
        ISO weekday of each event, 0 = Monday … 6 = Sunday, in Europe/Stockholm local time (the caller converts
        from UTC; around the change to and from summer time one local hour occurs 0 or 2 times a year, which this
        table ignores).
    hour : array_like of int
        Local hour of each event, 0 … 23.
    weights : array_like of float, optional
        Non-negative weight per event, e.g. the number of incidents an aggregated row stands for. The chi-square
        test treats the weighted counts as counts, which is only valid for whole-number weights; fractional weights
        mark the test unreliable.
    rng : int or numpy.random.Generator, optional
        When given, also compute a Monte-Carlo p-value, which stays valid when expected counts are small.
    simulations : int, default 9999
        Number of Monte-Carlo draws.

    Returns
    -------
    WeekdayHourProfile
        With no events: zero counts and shares, ``chi2 = p = nan`` and ``test_reliable = False``.

    Raises
    ------
    ValueError
        If ``weekday`` or ``hour`` hold values outside their ranges, fractions or NaN; if lengths differ; if
        ``weights`` are negative or not finite; if ``simulations < 1``.

    Notes
    -----
    The chi-square approximation needs every expected count to be at least 5 (Cochran 1954), i.e. at least
    840 events for 168 equally likely cells; below that ``test_reliable`` is False and ``p_monte_carlo`` (with an
    ``rng``) is the p-value to show. The Monte-Carlo p-value is ``(1 + #{simulated chi2 >= observed}) /
    (1 + simulations)`` (Hope 1968).

    References
    ----------
    Cochran, W. G. (1954). Some methods for strengthening the common χ² tests. *Biometrics* 10(4), 417-451.
    Hope, A. C. A. (1968). A simplified Monte Carlo significance test procedure. *Journal of the Royal
    Statistical Society B* 30(3), 582-598.
    Ratcliffe, J. H. (2002). Aoristic signatures and the spatio-temporal analysis of high volume crime patterns.
    *Journal of Quantitative Criminology* 18(1), 23-43.
    """
    wd = _whole_numbers(weekday, "weekday")
    hr = _whole_numbers(hour, "hour")
    if wd.size != hr.size:
        raise ValueError(f"weekday and hour must have the same length (got {wd.size} and {hr.size})")
    if np.any((wd < 0) | (wd >= N_WEEKDAYS)):
        raise ValueError("weekday must be an ISO weekday 0 (Monday) … 6 (Sunday)")
    if np.any((hr < 0) | (hr >= N_HOURS)):
        raise ValueError("hour must be 0 … 23")
    whole_weights = True
    w: NDArray[np.float64] | None = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.size != wd.size:
            raise ValueError(f"weights must have one value per event (got {w.size} for {wd.size} events)")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and >= 0")
        whole_weights = bool(np.all(w == np.round(w)))
    if int(simulations) != simulations or simulations < 1:
        raise ValueError(f"simulations must be a whole number >= 1 (got {simulations!r})")

    counts = np.bincount(wd * N_HOURS + hr, weights=w, minlength=N_CELLS).astype(np.float64)
    n = float(counts.sum())
    dof = N_CELLS - 1
    if n == 0:
        zeros = np.zeros((N_WEEKDAYS, N_HOURS))
        return WeekdayHourProfile(zeros, zeros.copy(), 0.0, math.nan, dof, math.nan, False, "no events", None, 0)

    res = stats.chisquare(counts)
    chi2 = float(res.statistic)
    expected = n / N_CELLS
    notes = []
    if expected < MIN_EXPECTED_PER_CELL:
        notes.append(
            f"expected {expected:.2f} events per weekday-hour cell, below {MIN_EXPECTED_PER_CELL:g} "
            f"(needs at least {int(MIN_EXPECTED_PER_CELL * N_CELLS)} events)"
        )
    if not whole_weights:
        notes.append("fractional weights: the chi-square test assumes whole counts")

    p_mc: float | None = None
    sims = 0
    if rng is not None and whole_weights:
        gen = as_rng(rng)
        draws = gen.multinomial(round(n), np.full(N_CELLS, 1.0 / N_CELLS), size=int(simulations))
        sim_chi2 = ((draws - expected) ** 2).sum(axis=1) / expected
        # Sums taken in a different order differ in the last bits; equal tables must count as "at least as extreme".
        tol = 1e-9 * max(1.0, chi2)
        p_mc = float((1 + np.count_nonzero(sim_chi2 >= chi2 - tol)) / (1 + int(simulations)))
        sims = int(simulations)

    return WeekdayHourProfile(
        counts=counts.reshape(N_WEEKDAYS, N_HOURS),
        shares=(counts / n).reshape(N_WEEKDAYS, N_HOURS),
        n=n,
        chi2=chi2,
        dof=dof,
        p=float(res.pvalue),
        test_reliable=not notes,
        reliability_note="; ".join(notes),
        p_monte_carlo=p_mc,
        simulations=sims,
    )


# --------------------------------------------------------------------------------------------------------------------
# This period against a baseline
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaselineComparison:
    """One period's count set against comparable earlier periods.

    Attributes
    ----------
    current : int
        This period's count.
    expected : float
        Mean count of the baseline periods.
    lower, upper : int
        Prediction limits: the smallest and largest count for this period that the conditional test would not call
        unusual at ``level`` (two-sided). A count below ``lower`` is flagged "lower", above ``upper`` "higher".
    ratio : float or None
        ``current / expected``; None when the baseline is all zeros.
    percent_change : float or None
        ``100 * (ratio - 1)``; None when the flag is "too_few" or the baseline is all zeros.
    p : float
        Two-sided p-value of the conditional (binomial) test of equal Poisson rates.
    flag : {"higher", "lower", "as_expected", "too_few"}
    n_baseline : int
        Number of baseline periods.
    dispersion : float or None
        Variance ÷ mean of the baseline counts (None with fewer than two periods or a zero mean). Values well above
        1 mean the counts vary more than a Poisson model allows, so flags come too easily.
    level : float
    min_events : float
    """

    current: int
    expected: float
    lower: int
    upper: int
    ratio: float | None
    percent_change: float | None
    p: float
    flag: BaselineFlag
    n_baseline: int
    dispersion: float | None
    level: float
    min_events: float


def _first_true(pred: Callable[[int], bool], lo: int, hi: int) -> int:
    """Smallest x in [lo, hi] with ``pred(x)`` for a predicate that is False then True; ``pred(hi)`` must hold."""
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def compare_to_baseline(
    current: int,
    baseline: ArrayLike,
    *,
    min_events: float = 10,
    level: float = 0.95,
) -> BaselineComparison:
    """Is this period's count unusual compared with comparable earlier periods?

    Under the null hypothesis the current count ``X`` and the baseline total ``S`` over ``k`` periods are Poisson
    with the same rate per period. Given ``N = X + S``, ``X`` is then ``Binomial(N, 1 / (k + 1))`` whatever the
    rate; this conditional test ("C-test") accounts for the uncertainty of the baseline mean, which a plain
    Poisson interval around the mean ignores.

    Parameters
    ----------
    current : int
        This period's count, >= 0.
    baseline : array_like of int
        Counts in ``k >= 1`` comparable earlier periods: the previous weeks, or the same month in earlier years when
        the count is seasonal (see :func:`seasonal_baseline`).
    min_events : float, default 10
        When ``current + expected`` is below this, the flag is "too_few" and no percentage is given: with a
        handful of events a change from 2 to 4 is "+100 %" and says nothing.
    level : float, default 0.95
        Two-sided level of the prediction limits; a count is flagged when ``p <= 1 - level``.

    Returns
    -------
    BaselineComparison

    Raises
    ------
    ValueError
        If ``current`` or ``baseline`` hold negative numbers, fractions, NaN; if ``baseline`` is empty; if ``level``
        is not in (0, 1); if ``min_events`` is negative.

    Notes
    -----
    With ``q = 1 / (k + 1)``, the upper tail ``P(X' >= x | N = x + S)`` falls and the lower tail
    ``P(X' <= x | N = x + S)`` rises as ``x`` grows, so the counts not rejected at ``level`` form an interval
    ``[lower, upper]``: these are the Poisson prediction limits for a new count given the baseline (Nelson 1970).
    The p-value is twice the smaller tail, capped at 1. The test assumes Poisson variation; crime counts often
    vary more (see ``dispersion``).

    References
    ----------
    Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples from Poisson series.
    *Biometrika* 31(3/4), 313-323.
    Nelson, W. (1970). Confidence intervals for the ratio of two Poisson means and Poisson predictor intervals.
    *IEEE Transactions on Reliability* R-19(2), 42-49.
    Krishnamoorthy, K. & Thomson, J. (2004). A more powerful test for comparing two Poisson means. *Journal of
    Statistical Planning and Inference* 119(1), 23-35.

    Examples
    --------
    >>> compare_to_baseline(4, [2, 2, 2, 2, 2, 2, 2, 2]).flag
    'too_few'
    """
    cur_arr = _whole_numbers(np.atleast_1d(np.asarray(current)), "current")
    if cur_arr.size != 1:
        raise ValueError("current must be a single count")
    x = int(cur_arr[0])
    if x < 0:
        raise ValueError(f"current must be >= 0 (got {x})")
    base = _whole_numbers(baseline, "baseline")
    if base.size == 0:
        raise ValueError("baseline must hold at least one earlier period")
    if np.any(base < 0):
        raise ValueError("baseline must hold counts >= 0")
    lv = _level(level)
    me = float(min_events)
    if not math.isfinite(me) or me < 0:
        raise ValueError(f"min_events must be a finite number >= 0 (got {min_events!r})")

    k = int(base.size)
    s = int(base.sum())
    expected = s / k
    q = 1.0 / (k + 1)
    half_alpha = (1.0 - lv) / 2.0

    def upper_tail(c: int) -> float:
        return float(stats.binom.sf(c - 1, c + s, q))

    def lower_tail(c: int) -> float:
        return float(stats.binom.cdf(c, c + s, q))

    # Bracket the upper limit: beyond it the upper tail drops to half_alpha or below.
    hi = max(1, math.ceil(expected + 10.0 * math.sqrt(expected + 1.0) + 10.0))
    while upper_tail(hi) > half_alpha:
        hi *= 2
    upper = _first_true(lambda c: upper_tail(c) <= half_alpha, 0, hi) - 1
    lower = _first_true(lambda c: lower_tail(c) > half_alpha, 0, hi)

    p = min(1.0, 2.0 * min(upper_tail(x), lower_tail(x)))
    ratio = x / expected if expected > 0 else None
    flag: BaselineFlag
    if x + expected < me:
        flag = "too_few"
    elif x > upper:
        flag = "higher"
    elif x < lower:
        flag = "lower"
    else:
        flag = "as_expected"
    percent = None if flag == "too_few" or ratio is None else 100.0 * (ratio - 1.0)
    dispersion = float(np.var(base, ddof=1) / expected) if k >= 2 and expected > 0 else None
    return BaselineComparison(
        current=x,
        expected=float(expected),
        lower=int(lower),
        upper=int(upper),
        ratio=ratio,
        percent_change=percent,
        p=float(p),
        flag=flag,
        n_baseline=k,
        dispersion=dispersion,
        level=lv,
        min_events=me,
    )


def seasonal_baseline(series: ArrayLike, *, period: int, season_length: int, n_seasons: int) -> NDArray[np.float64]:
    """Pick the comparable earlier periods for ``series[period]`` from a regular count series.

    The values returned are ``series[period - m * season_length]`` for ``m = n_seasons, …, 1`` (oldest first).
    With a monthly series, ``season_length=12, n_seasons=3`` gives the same month in the three previous years;
    with a weekly series, ``season_length=1, n_seasons=8`` gives the eight previous weeks. Pass the result as
    ``baseline`` to :func:`compare_to_baseline`.

    Parameters
    ----------
    series : array_like
        Counts for consecutive, equally long periods (oldest first). Missing periods must be filled in (with 0 if
        nothing happened) so that positions line up.
    period : int
        Index of the period to compare; negative values count from the end as in Python (-1 = latest).
    season_length : int
        Number of periods in one cycle (12 months, 52 ISO weeks — note ISO years with week 53), or 1 for the
        immediately preceding periods.
    n_seasons : int
        How many earlier cycles to take, >= 1.

    Returns
    -------
    ndarray, shape (n_seasons,)

    Raises
    ------
    ValueError
        If ``period`` is outside the series, ``season_length`` or ``n_seasons`` is below 1, or the series does not
        reach back far enough (the message says how many cycles are available).

    References
    ----------
    Hyndman, R. J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*, 3rd ed., §5.2 (seasonal
    naïve method). OTexts.
    """
    arr = np.asarray(series, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError("series contains NaN or infinite values")
    for name, value in (("period", period), ("season_length", season_length), ("n_seasons", n_seasons)):
        if int(value) != value:
            raise ValueError(f"{name} must be a whole number (got {value!r})")
    n = arr.size
    if not -n <= period < n:
        raise ValueError(f"period {period} is outside the series of {n} periods")
    if season_length < 1:
        raise ValueError(f"season_length must be >= 1 (got {season_length})")
    if n_seasons < 1:
        raise ValueError(f"n_seasons must be >= 1 (got {n_seasons})")
    idx = int(period) % n
    available = idx // int(season_length)
    if available < n_seasons:
        raise ValueError(
            f"n_seasons={n_seasons} reaches before the start of the series: period {idx} has {available} "
            f"earlier cycles of {season_length}"
        )
    picks = idx - np.arange(int(n_seasons), 0, -1) * int(season_length)
    return arr[picks].copy()


# --------------------------------------------------------------------------------------------------------------------
# Trend over periods
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendResult:
    """Trend of a count series: log-linear Poisson regression and the Mann–Kendall test.

    Attributes
    ----------
    n_periods : int
    total : int
        Sum of the series.
    slope : float or None
        Change of log(expected count) per period. None when the maximum-likelihood estimate does not exist (no
        events, or every event in the first or the last period).
    slope_ci : tuple of float, or None
        Confidence interval of ``slope`` at ``level``.
    p : float or None
        Two-sided p-value for ``slope == 0``.
    relative_change, relative_change_ci : float / tuple of float, or None
        ``exp(slope) - 1``: relative change per period (0.05 = +5 % per period), and its interval.
    dispersion : float or None
        Pearson chi-square ÷ (n_periods - 2) of the Poisson fit; above 1 means more variation than Poisson.
    se_scale : float
        Factor applied to the Poisson standard error (``sqrt(max(1, dispersion))`` when correcting for
        overdispersion, else 1).
    mk_s, mk_var, mk_z, mk_p : float
        Mann–Kendall statistic S, its variance (with the tie correction), the normal score with continuity
        correction, and the two-sided p-value.
    kendall_tau : float
        Kendall's tau-b between period and count (``nan`` for a constant series).
    flag : {"increasing", "decreasing", "no_trend", "too_few"}
    level : float
    """

    n_periods: int
    total: int
    slope: float | None
    slope_ci: tuple[float, float] | None
    p: float | None
    relative_change: float | None
    relative_change_ci: tuple[float, float] | None
    dispersion: float | None
    se_scale: float
    mk_s: float
    mk_var: float
    mk_z: float
    mk_p: float
    kendall_tau: float
    flag: TrendFlag
    level: float


def _poisson_loglinear(y: NDArray[np.float64], tc: NDArray[np.float64]) -> tuple[NDArray[np.float64], bool]:
    """Fit ``log E[y] = b0 + b1 * tc`` by Newton-Raphson (IRLS) with step halving; return (beta, converged)."""
    X = np.column_stack([np.ones_like(tc), tc])
    beta = np.array([math.log(y.mean()), 0.0])

    def loglik(b: NDArray[np.float64]) -> float:
        eta = X @ b
        return float(np.sum(y * eta - np.exp(eta)))

    ll = loglik(beta)
    for _ in range(200):
        mu = np.exp(X @ beta)
        score = X.T @ (y - mu)
        info = X.T @ (X * mu[:, None])
        step = np.linalg.solve(info, score)
        for _ in range(60):
            candidate = beta + step
            ll_new = loglik(candidate)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            step = step / 2.0
        beta, ll = candidate, ll_new
        if np.max(np.abs(step)) < 1e-10 * (1.0 + np.max(np.abs(beta))):
            return beta, True
    return beta, False


def _mann_kendall(y: NDArray[np.float64]) -> tuple[float, float, float, float, float]:
    """(S, Var S, z, p, tau_b) of the Mann–Kendall test with tie correction."""
    n = y.size
    diff = np.sign(y[None, :] - y[:, None])
    s = float(np.triu(diff, 1).sum())
    _, ties = np.unique(y, return_counts=True)
    var = float((n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18.0)
    n0 = n * (n - 1) / 2.0
    n2 = float(np.sum(ties * (ties - 1) / 2.0))
    tau = s / math.sqrt(n0 * (n0 - n2)) if n0 > n2 else math.nan
    if var <= 0:
        return s, var, 0.0, 1.0, tau
    z = (s - math.copysign(1.0, s)) / math.sqrt(var) if s != 0 else 0.0
    return s, var, z, float(2.0 * stats.norm.sf(abs(z))), tau


def trend(
    series: ArrayLike,
    *,
    level: float = 0.95,
    min_total: int = 20,
    overdispersion: bool = True,
) -> TrendResult:
    """Estimate the trend of a count series with a log-linear Poisson regression and the Mann–Kendall test.

    Parameters
    ----------
    series : array_like of int
        Counts in consecutive, equally long periods (oldest first), at least 3.
    level : float, default 0.95
        Confidence level of the intervals; the flag needs ``p <= 1 - level``.
    min_total : int, default 20
        Below this total the flag is "too_few" (estimates are still given when they exist).
    overdispersion : bool, default True
        Quasi-Poisson correction: multiply the standard error by ``sqrt(max(1, dispersion))`` and use Student's t
        with ``n_periods - 2`` degrees of freedom, so that extra variation (usual for crime counts) widens the
        interval and it is never narrower than the plain Poisson one. With False: plain Poisson Wald inference.

    Returns
    -------
    TrendResult
        The flag comes from the Poisson regression, or from Mann–Kendall when the regression estimate does not
        exist (every event in the first or the last period).

    Raises
    ------
    ValueError
        If ``series`` has fewer than 3 periods or holds negative numbers, fractions or NaN; if ``level`` is not in
        (0, 1).

    Notes
    -----
    The regression is ``log E[y_t] = b0 + b1 (t - mean t)``, fitted by Newton-Raphson, which for the canonical log
    link is iteratively reweighted least squares. The Mann–Kendall test makes no distributional assumption but, like
    the regression, assumes independent periods; serial correlation makes both too eager.

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed., §6.2 (log-linear models) and §4.5
    (over-dispersion). Chapman & Hall.
    Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245-259.
    Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. Griffin.
    """
    y_int = _whole_numbers(series, "series")
    if y_int.size < 3:
        raise ValueError(f"series needs at least 3 periods (got {y_int.size})")
    if np.any(y_int < 0):
        raise ValueError("series must hold counts >= 0")
    lv = _level(level)
    n = int(y_int.size)
    total = int(y_int.sum())
    y = y_int.astype(np.float64)
    t = np.arange(n, dtype=np.float64)

    mk_s, mk_var, mk_z, mk_p, tau = _mann_kendall(y)

    slope = p = rel = dispersion = None
    slope_ci = rel_ci = None
    scale = 1.0
    alpha = 1.0 - lv
    # The likelihood keeps rising as the slope goes to ±infinity when all events sit in the first or last period.
    has_mle = total > 0 and 0 < float(np.dot(t, y)) / total < n - 1
    if has_mle:
        tc = t - t.mean()
        beta, converged = _poisson_loglinear(y, tc)
        if converged:
            mu = np.exp(beta[0] + beta[1] * tc)
            info_11 = float(np.sum(mu * tc * tc))
            info_01 = float(np.sum(mu * tc))
            info_00 = float(np.sum(mu))
            var_slope = info_00 / (info_00 * info_11 - info_01 * info_01)
            dispersion = float(np.sum((y - mu) ** 2 / mu) / (n - 2))
            if overdispersion:
                scale = math.sqrt(max(1.0, dispersion))
                crit = float(stats.t.ppf(1.0 - alpha / 2.0, df=n - 2))
            else:
                crit = float(stats.norm.ppf(1.0 - alpha / 2.0))
            se = math.sqrt(var_slope) * scale
            slope = float(beta[1])
            slope_ci = (slope - crit * se, slope + crit * se)
            tail = stats.t.sf(abs(slope) / se, df=n - 2) if overdispersion else stats.norm.sf(abs(slope) / se)
            p = float(2.0 * tail)
            rel = math.expm1(slope)
            rel_ci = (math.expm1(slope_ci[0]), math.expm1(slope_ci[1]))

    flag: TrendFlag
    if total < min_total:
        flag = "too_few"
    elif slope is not None and p is not None:
        flag = "no_trend" if p > alpha else ("increasing" if slope > 0 else "decreasing")
    else:
        flag = "no_trend" if mk_p > alpha else ("increasing" if mk_s > 0 else "decreasing")

    return TrendResult(
        n_periods=n,
        total=total,
        slope=slope,
        slope_ci=slope_ci,
        p=p,
        relative_change=rel,
        relative_change_ci=rel_ci,
        dispersion=dispersion,
        se_scale=scale,
        mk_s=mk_s,
        mk_var=mk_var,
        mk_z=mk_z,
        mk_p=mk_p,
        kendall_tau=tau,
        flag=flag,
        level=lv,
    )
