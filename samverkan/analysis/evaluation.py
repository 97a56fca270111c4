"""Did a measure work? Before/after comparisons against control areas.

Counts are events in an area over a period. "Treated" is where the measure
ran, "control" a comparable area without it, "buffer"/"displacement" the
surroundings of the treated area where crime could move to. All statistics
treat the counts as independent Poisson variables; overdispersed counts
(e.g. one address producing most events) make every interval here too narrow.

References
----------
Bowers, K. J. & Johnson, S. D. (2003). Measuring the geographical displacement
and diffusion of benefit effects of crime prevention activity. *Journal of
Quantitative Criminology* 19(3), 275-301.

Farrington, D. P. & Welsh, B. C. (2002). *Effects of improved street lighting on
crime: a systematic review.* Home Office Research Study 251.

Wheeler, A. P. & Ratcliffe, J. H. (2018). A simple weighted displacement
difference test to evaluate place based crime interventions. *Crime Science*
7:11.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from scipy import optimize, special

from samverkan.analysis._validate import positive

#: Counts below this (in the before periods and the control after period) are
#: too few for the log-normal approximation and for any effect a municipality
#: would care about: ±√n Poisson noise at n = 10 is already ±30 %.
DEFAULT_MIN_COUNT = 10

#: A study that can only detect reductions larger than this says little when it
#: finds nothing.
DEFAULT_MAX_DETECTABLE_REDUCTION = 0.5

_BAND_TOL = 1e-9


def _count(value: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite count >= 0 (got {value!r})")
    return v


def _level(level: float) -> float:
    v = float(level)
    if not (math.isfinite(v) and 0.0 < v < 1.0):
        raise ValueError(f"level must lie strictly between 0 and 1 (got {level!r})")
    return v


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _two_sided_p(z: float) -> float:
    # erfc keeps precision for large |z| where 1 - cdf would round to 0.
    return math.erfc(abs(z) / math.sqrt(2.0))


@dataclass(frozen=True, slots=True)
class RateRatio:
    """Relative change in the treated area against the control area.

    Attributes
    ----------
    ratio : float
        ``RR = (after_treated / before_treated) / (after_control / before_control)``.
        Below 1: the treated area went better than the control (a relative
        reduction); ``1 - ratio`` is the share of crime prevented. Farrington &
        Welsh's relative effect size is ``1 / ratio``.
    ci_low, ci_high : float
        Confidence interval ``exp(log RR ± z·se)``.
    se_log : float
        ``sqrt(1/a_t + 1/b_t + 1/a_c + 1/b_c)``, the standard error of ``log RR``.
    z, p_value : float
        Wald test of ``RR = 1``, two-sided.
    level : float
    treated_change, control_change : float
        After-rate ÷ before-rate in each area (per unit of duration).
    continuity_corrected : bool
        True when a zero count made us add 0.5 to all four counts.
    """

    ratio: float
    ci_low: float
    ci_high: float
    se_log: float
    z: float
    p_value: float
    level: float
    treated_change: float
    control_change: float
    continuity_corrected: bool

    @property
    def percent_change(self) -> float:
        """``100 × (RR − 1)``: −25 means 25 % less crime than the control trend predicts."""
        return 100.0 * (self.ratio - 1.0)


def rate_ratio(
    before_treated: float,
    after_treated: float,
    before_control: float,
    after_control: float,
    *,
    before_duration: float = 1.0,
    after_duration: float = 1.0,
    level: float = 0.95,
) -> RateRatio:
    """Ratio of the treated area's change to the control area's change, with a CI.

    ``RR = (a_t / b_t) / (a_c / b_c)`` with ``b`` before, ``a`` after, ``t``
    treated, ``c`` control. Treating the four counts as independent Poisson
    variables, the delta method gives

    ``var(log RR) = 1/a_t + 1/b_t + 1/a_c + 1/b_c``

    and the interval ``exp(log RR ± z_{(1+level)/2} · sqrt(var))`` (Farrington &
    Welsh 2002, after Wilson's relative effect size).

    Durations: the before and after periods may differ in length; they scale
    both areas alike, so they cancel in ``RR`` and its variance and only change
    ``treated_change`` and ``control_change`` (the per-area rate ratios).

    Zeros: ``log RR`` and its variance are undefined when any count is 0. Then
    0.5 is added to all four counts (Haldane-Anscombe correction) and
    ``continuity_corrected`` is set; such results rest on very few events, which
    :func:`measure_verdict` reports as too little data.

    Parameters
    ----------
    before_treated, after_treated, before_control, after_control : float
        Counts, >= 0.
    before_duration, after_duration : float
        Period lengths in any common unit, > 0.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    RateRatio

    References
    ----------
    Farrington, D. P. & Welsh, B. C. (2002). *Effects of improved street
    lighting on crime: a systematic review.* Home Office Research Study 251.
    """
    b_t = _count(before_treated, "before_treated")
    a_t = _count(after_treated, "after_treated")
    b_c = _count(before_control, "before_control")
    a_c = _count(after_control, "after_control")
    t_b = positive(before_duration, "before_duration")
    t_a = positive(after_duration, "after_duration")
    lvl = _level(level)
    corrected = min(b_t, a_t, b_c, a_c) == 0
    if corrected:
        b_t, a_t, b_c, a_c = b_t + 0.5, a_t + 0.5, b_c + 0.5, a_c + 0.5
    ratio = (a_t / b_t) / (a_c / b_c)
    se = math.sqrt(1 / a_t + 1 / b_t + 1 / a_c + 1 / b_c)
    z = math.log(ratio) / se
    half = _z(lvl) * se
    return RateRatio(
        ratio=ratio,
        ci_low=ratio * math.exp(-half),
        ci_high=ratio * math.exp(half),
        se_log=se,
        z=z,
        p_value=_two_sided_p(z),
        level=lvl,
        treated_change=(a_t / t_a) / (b_t / t_b),
        control_change=(a_c / t_a) / (b_c / t_b),
        continuity_corrected=corrected,
    )


WDQInterpretation = Literal[
    "no_success",
    "diffusion_exceeds_effect",
    "diffusion",
    "no_displacement",
    "displacement_smaller_than_effect",
    "displacement_exceeds_effect",
]


@dataclass(frozen=True, slots=True)
class DisplacementQuotient:
    """Weighted displacement quotient (Bowers & Johnson 2003).

    Attributes
    ----------
    success_measure : float
        ``A_a/C_a − A_b/C_b``; negative = the treated area fell relative to the
        control.
    buffer_measure : float
        ``B_a/C_a − B_b/C_b``; positive = the buffer rose relative to the control
        (displacement), negative = it fell too (diffusion of benefits).
    wdq : float
        ``buffer_measure / success_measure``; NaN when ``success_measure >= 0``.
    interpretation : str
        ``"no_success"`` when ``success_measure >= 0``; otherwise by ``wdq``:
        ``> 1`` "diffusion_exceeds_effect", ``(0, 1]`` "diffusion", ``0``
        "no_displacement", ``[-1, 0)`` "displacement_smaller_than_effect",
        ``< -1`` "displacement_exceeds_effect".
    """

    success_measure: float
    buffer_measure: float
    wdq: float
    interpretation: WDQInterpretation


def weighted_displacement_quotient(
    before_treated: float,
    after_treated: float,
    before_buffer: float,
    after_buffer: float,
    before_control: float,
    after_control: float,
) -> DisplacementQuotient:
    """Weighted displacement quotient of Bowers & Johnson (2003).

    With ``A`` treated, ``B`` buffer, ``C`` control and subscripts ``b`` before,
    ``a`` after:

    ``WDQ = (B_a/C_a − B_b/C_b) / (A_a/C_a − A_b/C_b)``

    The denominator is the success measure. Bowers & Johnson read the WDQ only
    after a relative reduction in the treated area, so when the success measure
    is 0 or positive ``wdq`` is NaN and the interpretation "no_success". The
    WDQ has no sampling distribution; use
    :func:`weighted_displacement_difference` for a test. Period lengths cancel
    (each ratio is within one period), so none are taken.

    Parameters
    ----------
    before_treated, after_treated, before_buffer, after_buffer : float
        Counts, >= 0.
    before_control, after_control : float
        Counts, > 0 (they divide).

    Returns
    -------
    DisplacementQuotient

    Raises
    ------
    ValueError
        On negative or non-finite counts, or a zero control count.

    References
    ----------
    Bowers, K. J. & Johnson, S. D. (2003). Measuring the geographical
    displacement and diffusion of benefit effects of crime prevention activity.
    *Journal of Quantitative Criminology* 19(3), 275-301.
    """
    a_b = _count(before_treated, "before_treated")
    a_a = _count(after_treated, "after_treated")
    b_b = _count(before_buffer, "before_buffer")
    b_a = _count(after_buffer, "after_buffer")
    c_b = _count(before_control, "before_control")
    c_a = _count(after_control, "after_control")
    if c_b == 0:
        raise ValueError("before_control must be > 0: the WDQ divides by the control counts")
    if c_a == 0:
        raise ValueError("after_control must be > 0: the WDQ divides by the control counts")
    success = a_a / c_a - a_b / c_b
    buffer = b_a / c_a - b_b / c_b
    if success >= 0:
        return DisplacementQuotient(success, buffer, math.nan, "no_success")
    wdq = buffer / success
    return DisplacementQuotient(success, buffer, wdq, _wdq_band(wdq))


def _wdq_band(wdq: float) -> WDQInterpretation:
    # Counts divided by counts rarely hit ±1 or 0 exactly in floating point
    # (45/100 − 50/100 is −0.04999…), so the band edges get a small tolerance.
    if math.isclose(wdq, 0.0, abs_tol=_BAND_TOL):
        return "no_displacement"
    if math.isclose(wdq, 1.0, rel_tol=_BAND_TOL):
        return "diffusion"
    if math.isclose(wdq, -1.0, rel_tol=_BAND_TOL):
        return "displacement_smaller_than_effect"
    if wdq > 1:
        return "diffusion_exceeds_effect"
    if wdq > 0:
        return "diffusion"
    if wdq > -1:
        return "displacement_smaller_than_effect"
    return "displacement_exceeds_effect"


@dataclass(frozen=True, slots=True)
class DisplacementDifference:
    """Weighted displacement difference test (Wheeler & Ratcliffe 2018).

    Attributes
    ----------
    wdd : float
        Estimated change in crimes (per unit of duration) attributable to the
        measure, treated area plus displacement area; negative = fewer crimes.
    se : float
        Standard error, ``sqrt`` of the sum of the (duration-scaled) counts.
    z, p_value : float
        ``wdd / se`` and its two-sided normal p-value.
    ci_low, ci_high : float
        ``wdd ± z_{(1+level)/2} · se``.
    level : float
    treated_difference : float
        ``ΔT − ΔC_T`` (the difference-in-differences of the treated area).
    displacement_difference : float
        ``ΔD − ΔC_D`` (0 without a displacement area).
    """

    wdd: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    level: float
    treated_difference: float
    displacement_difference: float


def weighted_displacement_difference(
    before_treated: float,
    after_treated: float,
    before_control: float,
    after_control: float,
    *,
    before_displacement: float = 0.0,
    after_displacement: float = 0.0,
    before_displacement_control: float = 0.0,
    after_displacement_control: float = 0.0,
    before_duration: float = 1.0,
    after_duration: float = 1.0,
    level: float = 0.95,
) -> DisplacementDifference:
    """Weighted displacement difference with a Poisson standard error.

    ``WDD = ΔT − ΔC_T + ΔD − ΔC_D`` where ``Δ`` is after minus before in the
    treated area ``T``, its control ``C_T``, the displacement area ``D`` and
    its control ``C_D``. Treating the eight counts as independent Poisson
    variables, ``var(WDD)`` is the sum of the counts (Wheeler & Ratcliffe
    2018). Leave the displacement counts at 0 for a plain
    difference-in-differences.

    Unequal periods: every count is divided by its period's duration, giving a
    per-unit-time WDD, and each count then enters the variance as
    ``count / duration²`` (Wheeler 2021). With both durations 1 this is the
    original statistic.

    Parameters
    ----------
    before_treated, after_treated, before_control, after_control : float
        Counts, >= 0.
    before_displacement, after_displacement, before_displacement_control, after_displacement_control : float
        Counts, >= 0; default 0 (no displacement area).
    before_duration, after_duration : float
        Period lengths, > 0.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    DisplacementDifference

    Raises
    ------
    ValueError
        On negative or non-finite counts, or when all counts are 0 (the
        variance is then 0 and there is nothing to test).

    References
    ----------
    Wheeler, A. P. & Ratcliffe, J. H. (2018). A simple weighted displacement
    difference test to evaluate place based crime interventions. *Crime
    Science* 7:11.

    Wheeler, A. P. (2021). The WDD test with different pre/post time periods.
    andrewpwheeler.com, 9 January 2021.
    """
    names = (
        "before_treated",
        "after_treated",
        "before_control",
        "after_control",
        "before_displacement",
        "after_displacement",
        "before_displacement_control",
        "after_displacement_control",
    )
    raw = (
        before_treated,
        after_treated,
        before_control,
        after_control,
        before_displacement,
        after_displacement,
        before_displacement_control,
        after_displacement_control,
    )
    counts = [_count(v, n) for v, n in zip(raw, names, strict=True)]
    t_b = positive(before_duration, "before_duration")
    t_a = positive(after_duration, "after_duration")
    lvl = _level(level)
    durations = (t_b, t_a) * 4
    rates = [c / d for c, d in zip(counts, durations, strict=True)]
    var = math.fsum(c / (d * d) for c, d in zip(counts, durations, strict=True))
    if var == 0:
        raise ValueError("all counts are 0: the WDD has no variance and nothing to test")
    bt, at, bc, ac, bd, ad, bdc, adc = rates
    treated_diff = (at - bt) - (ac - bc)
    disp_diff = (ad - bd) - (adc - bdc)
    wdd = treated_diff + disp_diff
    se = math.sqrt(var)
    z = wdd / se
    half = _z(lvl) * se
    return DisplacementDifference(
        wdd=wdd,
        se=se,
        z=z,
        p_value=_two_sided_p(z),
        ci_low=wdd - half,
        ci_high=wdd + half,
        level=lvl,
        treated_difference=treated_diff,
        displacement_difference=disp_diff,
    )


@dataclass(frozen=True, slots=True)
class MinimumDetectableEffect:
    """The mildest reduction a before/after study of this size can detect.

    Attributes
    ----------
    ratio : float
        The largest true ``RR < 1`` detected with the requested power; NaN when
        no reduction is detectable.
    reduction : float
        ``1 − ratio`` (e.g. 0.3 = a 30 % reduction); NaN when not detectable.
    detectable : bool
    alpha, power : float
    """

    ratio: float
    reduction: float
    detectable: bool
    alpha: float
    power: float


def minimum_detectable_effect(
    before_treated: float,
    before_control: float,
    *,
    before_duration: float = 1.0,
    after_duration: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> MinimumDetectableEffect:
    """Smallest reduction (as a rate ratio) detectable with the before counts at hand.

    Planning assumptions: without the measure both areas keep their before
    rates, so the expected after counts are ``b·r`` with ``r = after_duration /
    before_duration``; with a true effect ``θ < 1`` the treated after count is
    ``b_t·r·θ``. The test is the two-sided Wald test of :func:`rate_ratio` at
    level ``alpha``.

    Derivation: ``log RR̂`` is approximately normal with mean ``log θ`` and
    variance (delta method, evaluated under the alternative)

    ``V(θ) = 1/(b_t·r·θ) + 1/b_t + 1/(b_c·r) + 1/b_c``,

    so power ≈ ``Φ((−log θ − z_{1−α/2}·√V(θ)) / √V(θ))`` (ignoring the far
    tail). Power equals ``power`` when ``−log θ = k·√V(θ)`` with
    ``k = z_{1−α/2} + z_{power}``. With ``u = −log θ`` and ``m = b_t·r`` this is
    ``h(u) = u² − k²·(c₀ + e^u/m) = 0``, ``c₀ = 1/b_t + 1/(b_c·r) + 1/b_c``.
    ``h(0) < 0``; ``h`` first falls, then rises to a maximum at the larger root
    of ``h'(u) = 2u − k²e^u/m = 0``, ``u* = −W₋₁(−k²/(2m))`` (Lambert W), then
    falls for ever (a near-total reduction leaves so few events that the log
    scale loses its power). If ``h(u*) < 0`` no reduction is detectable;
    otherwise the MDE is ``θ = e^{−u}`` at the root of ``h`` in ``(0, u*]``.

    Parameters
    ----------
    before_treated, before_control : float
        Before-period counts, >= 0. A zero count means nothing is detectable.
    before_duration, after_duration : float
        Period lengths, > 0.
    alpha : float
        Two-sided significance level in (0, 1).
    power : float
        Desired power in (0, 1).

    Returns
    -------
    MinimumDetectableEffect

    References
    ----------
    Farrington, D. P. & Welsh, B. C. (2002). *Effects of improved street
    lighting on crime: a systematic review.* Home Office Research Study 251.

    Corless, R. M., Gonnet, G. H., Hare, D. E. G., Jeffrey, D. J. & Knuth, D. E.
    (1996). On the Lambert W function. *Advances in Computational Mathematics*
    5, 329-359.
    """
    b_t = _count(before_treated, "before_treated")
    b_c = _count(before_control, "before_control")
    r = positive(after_duration, "after_duration") / positive(before_duration, "before_duration")
    a = float(alpha)
    if not (math.isfinite(a) and 0.0 < a < 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1 (got {alpha!r})")
    pw = float(power)
    if not (math.isfinite(pw) and 0.0 < pw < 1.0):
        raise ValueError(f"power must lie strictly between 0 and 1 (got {power!r})")
    none = MinimumDetectableEffect(math.nan, math.nan, False, a, pw)
    if b_t == 0 or b_c == 0:
        return none
    k = NormalDist().inv_cdf(1.0 - a / 2.0) + NormalDist().inv_cdf(pw)
    if k <= 0:
        raise ValueError("alpha and power together demand no evidence (z_{1-alpha/2} + z_power <= 0)")
    m = b_t * r
    c0 = 1.0 / b_t + 1.0 / (b_c * r) + 1.0 / b_c
    k2 = k * k

    def h(u: float) -> float:
        return u * u - k2 * (c0 + math.exp(u) / m)

    # e^u = (2m/k²)·u has a root only when 2m/k² >= e; otherwise h falls everywhere.
    arg = -k2 / (2.0 * m)
    if arg < -1.0 / math.e:
        return none
    u_star = float(-special.lambertw(arg, k=-1).real)
    if not math.isfinite(u_star) or h(u_star) < 0:
        return none
    u = float(optimize.brentq(h, 0.0, u_star, xtol=1e-12))
    theta = math.exp(-u)
    return MinimumDetectableEffect(theta, 1.0 - theta, True, a, pw)


Outcome = Literal["effect_shown", "no_effect_shown", "too_little_data"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Plain-language outcome of a before/after comparison.

    Attributes
    ----------
    outcome : {"effect_shown", "no_effect_shown", "too_little_data"}
    direction : {"reduction", "increase"} or None
        Set when ``outcome == "effect_shown"``: whether the treated area fell or
        rose relative to the control.
    reason : str
        Machine-readable why: "counts_below_minimum", "ci_excludes_one",
        "mde_too_weak" or "ci_includes_one".
    rate_ratio : RateRatio
    mde : MinimumDetectableEffect
    min_count : int
    max_detectable_reduction : float
    """

    outcome: Outcome
    direction: Literal["reduction", "increase"] | None
    reason: str
    rate_ratio: RateRatio
    mde: MinimumDetectableEffect
    min_count: int
    max_detectable_reduction: float


def measure_verdict(
    before_treated: float,
    after_treated: float,
    before_control: float,
    after_control: float,
    *,
    before_duration: float = 1.0,
    after_duration: float = 1.0,
    level: float = 0.95,
    power: float = 0.8,
    min_count: int = DEFAULT_MIN_COUNT,
    max_detectable_reduction: float = DEFAULT_MAX_DETECTABLE_REDUCTION,
) -> Verdict:
    """Say whether the data show an effect, show none, or are too few to tell.

    In order:

    1. ``too_little_data`` ("counts_below_minimum") if ``before_treated``,
       ``before_control`` or ``after_control`` is below ``min_count``. The
       treated after count is exempt: a measure that works may rightly leave it
       small.
    2. ``effect_shown`` ("ci_excludes_one") if the :func:`rate_ratio` interval
       at ``level`` excludes 1, with ``direction`` "reduction" or "increase".
    3. ``too_little_data`` ("mde_too_weak") if nothing was shown and the
       :func:`minimum_detectable_effect` at ``alpha = 1 − level`` and ``power``
       is a reduction larger than ``max_detectable_reduction`` (or none is
       detectable): a null result from such a study says little.
    4. ``no_effect_shown`` ("ci_includes_one") otherwise. This is not proof of
       no effect, only that an effect of the detectable size is unlikely.

    Parameters
    ----------
    before_treated, after_treated, before_control, after_control : float
        Counts, >= 0.
    before_duration, after_duration : float
        Period lengths, > 0.
    level : float
        Confidence level in (0, 1).
    power : float
        Power for the detectable-effect check, in (0, 1).
    min_count : int
        Minimum count, >= 1 (default 10).
    max_detectable_reduction : float
        In (0, 1) (default 0.5).

    Returns
    -------
    Verdict

    References
    ----------
    Farrington, D. P. & Welsh, B. C. (2002). *Effects of improved street
    lighting on crime: a systematic review.* Home Office Research Study 251.
    """
    if int(min_count) != min_count or min_count < 1:
        raise ValueError(f"min_count must be a whole number >= 1 (got {min_count!r})")
    mdr = float(max_detectable_reduction)
    if not (math.isfinite(mdr) and 0.0 < mdr < 1.0):
        raise ValueError(
            f"max_detectable_reduction must lie strictly between 0 and 1 (got {max_detectable_reduction!r})"
        )
    rr = rate_ratio(
        before_treated,
        after_treated,
        before_control,
        after_control,
        before_duration=before_duration,
        after_duration=after_duration,
        level=level,
    )
    mde = minimum_detectable_effect(
        before_treated,
        before_control,
        before_duration=before_duration,
        after_duration=after_duration,
        alpha=1.0 - rr.level,
        power=power,
    )

    def verdict(outcome: Outcome, reason: str, direction: Literal["reduction", "increase"] | None = None) -> Verdict:
        return Verdict(outcome, direction, reason, rr, mde, int(min_count), mdr)

    if min(float(before_treated), float(before_control), float(after_control)) < min_count:
        return verdict("too_little_data", "counts_below_minimum")
    if rr.ci_high < 1.0:
        return verdict("effect_shown", "ci_excludes_one", "reduction")
    if rr.ci_low > 1.0:
        return verdict("effect_shown", "ci_excludes_one", "increase")
    if not mde.detectable or mde.reduction > mdr:
        return verdict("too_little_data", "mde_too_weak")
    return verdict("no_effect_shown", "ci_includes_one")
