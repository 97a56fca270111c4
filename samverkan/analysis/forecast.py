"""Rank grid cells for the next period, and score such rankings honestly.

Three forecasts, each a score per cell (higher = more events expected):

- :func:`naive_counts` - events per cell in the last period (the baseline that
  must be shown beside every other forecast);
- :func:`retrospective_kde` - a kernel density surface of the last ``lookback``
  days (Chainey et al. 2008);
- :func:`prospective_hotspots` - the space-time weighted risk of Bowers, Johnson
  & Pease (2004).

:func:`hit_rate_pai` scores a ranking against the events that happened next
(hit rate, PAI, PEI at fixed area coverages) and :func:`backtest` repeats that
over a rolling origin.

Time is a plain number of **days** on any common origin (e.g. days since
1970-01-01); the web side converts datetimes. An event at time ``t`` belongs to
the past of a forecast made at ``at`` when ``t < at``.

References
----------
Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting: the
future of crime mapping? *British Journal of Criminology* 44(5), 641-658.

Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for
predicting spatial patterns of crime. *Security Journal* 21, 4-28.

Hunt, J. M. (2016). *Do crime hot spots move? Exploring the effects of the
modifiable areal unit problem and modifiable temporal unit problem on crime hot
spot stability.* PhD dissertation, American University, Washington DC.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from samverkan.analysis._validate import finite_coords, positive
from samverkan.analysis.grid import Grid
from samverkan.analysis.kde import Kernel, kde_grid

DEFAULT_COVERAGES: tuple[float, ...] = (0.01, 0.05, 0.10)

# Floating point turns e.g. 0.29 * 100 into 28.999999999999996; without this
# slack the number of flagged cells would silently lose one.
_COUNT_SLACK = 1e-9


def _events(
    x: ArrayLike, y: ArrayLike, t: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    xa, ya = finite_coords(x, y)
    ta = np.asarray(t, dtype=np.float64).ravel()
    if ta.size != xa.size:
        raise ValueError(f"t must have one value per event (got {ta.size} times for {xa.size} events)")
    if not np.all(np.isfinite(ta)):
        raise ValueError("t contains NaN or infinite values")
    return xa, ya, ta


def _finite(value: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number (got {value!r})")
    return v


def _window(t: NDArray[np.float64], at: float, lookback: float) -> NDArray[np.bool_]:
    return (t >= at - lookback) & (t < at)


def naive_counts(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    grid: Grid,
    at: float,
    lookback: float,
    history: float | None = 365.0,
) -> NDArray[np.float64]:
    """Score each cell by its count of events in the last ``lookback`` days.

    Ties between cells with the same recent count are broken by the count over
    the longer ``history`` window: the score is

    ``n_recent + n_history / (1 + max(n_history))``

    and because the added fraction is below 1, ``floor(score)`` is still the
    recent count and a higher recent count always ranks first. Cells equal on
    both counts stay tied (see :func:`hit_rate_pai` for how ties are scored).

    Parameters
    ----------
    x, y : array_like
        Event coordinates in metres. Events outside the grid have no cell and
        are ignored.
    t : array_like
        Event times in days.
    grid : Grid
    at : float
        Forecast time in days; only events with ``at - lookback <= t < at``
        count as recent.
    lookback : float
        Length of the "last period" in days, > 0.
    history : float or None
        Length of the tie-breaking window in days (``at - history <= t < at``),
        > 0; ``None`` leaves ties unbroken.

    Returns
    -------
    ndarray, shape ``(ny, nx)``
        The score; all zeros when no event falls in the window.

    References
    ----------
    Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
    for predicting spatial patterns of crime. *Security Journal* 21, 4-28.
    """
    xa, ya, ta = _events(x, y, t)
    at = _finite(at, "at")
    lookback = positive(lookback, "lookback")
    recent = _window(ta, at, lookback)
    score = grid.bin(xa[recent], ya[recent])
    if history is not None:
        history = positive(history, "history")
        past = _window(ta, at, history)
        hist = grid.bin(xa[past], ya[past])
        score = score + hist / (1.0 + hist.max())
    return score


def retrospective_kde(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    grid: Grid,
    at: float,
    lookback: float,
    bandwidth: float,
    kernel: Kernel = "quartic",
) -> NDArray[np.float64]:
    """Score each cell by the kernel density of the events in the last ``lookback`` days.

    Every event with ``at - lookback <= t < at`` gets the same weight; the
    surface is :func:`samverkan.analysis.kde.kde_grid` (events per km²).

    Parameters
    ----------
    x, y, t : array_like
        Event coordinates in metres and times in days.
    grid : Grid
    at : float
        Forecast time in days.
    lookback : float
        Days of history to smooth, > 0.
    bandwidth : float
        Kernel bandwidth in metres, > 0.
    kernel : {"quartic", "gaussian"}

    Returns
    -------
    ndarray, shape ``(ny, nx)``
        Density in events per km²; all zeros when no event falls in the window.

    References
    ----------
    Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
    for predicting spatial patterns of crime. *Security Journal* 21, 4-28.
    """
    xa, ya, ta = _events(x, y, t)
    at = _finite(at, "at")
    lookback = positive(lookback, "lookback")
    sel = _window(ta, at, lookback)
    result = kde_grid(xa[sel], ya[sel], grid=grid, bandwidth=bandwidth, kernel=kernel)
    return np.asarray(result.density, dtype=np.float64)


def prospective_hotspots(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    grid: Grid,
    at: float,
    distance_bandwidth: float = 400.0,
    time_bandwidth: float = 56.0,
) -> NDArray[np.float64]:
    """Space-time weighted risk after Bowers, Johnson & Pease (2004).

    Each past event with ``at - time_bandwidth < t < at`` adds to every cell
    whose centre lies within ``distance_bandwidth`` metres of the centre of the
    event's own cell the weight

    ``w = 1 / (1 + d) × 1 / (1 + k)``

    where ``d`` is the Euclidean distance between the two cell centres in cell
    widths (0 for the event's own cell, 1 for an edge neighbour, √2 for a
    corner neighbour, ...) and ``k = floor((at - t) / 7)`` is the number of
    whole weeks since the event (0 in the last seven days). With the defaults
    (400 m, 56 days = 8 weeks) this is the weighting of Bowers et al. Events
    outside the grid still add to the cells within reach of them.

    Parameters
    ----------
    x, y, t : array_like
        Event coordinates in metres and times in days.
    grid : Grid
    at : float
        Forecast time in days.
    distance_bandwidth : float
        Metres, > 0. Shorter than one cell width means each event only scores
        its own cell.
    time_bandwidth : float
        Days, > 0.

    Returns
    -------
    ndarray, shape ``(ny, nx)``
        The risk score; all zeros when no event falls in the window.

    References
    ----------
    Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting:
    the future of crime mapping? *British Journal of Criminology* 44(5),
    641-658.
    """
    xa, ya, ta = _events(x, y, t)
    at = _finite(at, "at")
    distance_bandwidth = positive(distance_bandwidth, "distance_bandwidth")
    time_bandwidth = positive(time_bandwidth, "time_bandwidth")
    sel = (ta > at - time_bandwidth) & (ta < at)
    weeks_ago = np.floor((at - ta[sel]) / 7.0)
    time_weight = 1.0 / (1.0 + weeks_ago)

    cs = grid.cell_size
    reach = math.floor(distance_bandwidth / cs + _COUNT_SLACK)
    # Bin onto a grid padded by the kernel's reach so that events just outside
    # the study grid still contribute to the cells near its edge.
    padded = Grid(grid.x0 - reach * cs, grid.y0 - reach * cs, cs, grid.nx + 2 * reach, grid.ny + 2 * reach)
    weighted = padded.bin(xa[sel], ya[sel], weights=time_weight)
    di, dj = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    d = np.hypot(di, dj)
    kernel = np.where(d * cs <= distance_bandwidth * (1 + _COUNT_SLACK), 1.0 / (1.0 + d), 0.0)
    spread = ndimage.correlate(weighted, kernel, mode="constant", cval=0.0)
    return np.ascontiguousarray(spread[reach : reach + grid.ny, reach : reach + grid.nx])


@dataclass(frozen=True, slots=True)
class HitRate:
    """How well a ranking caught the next period's events at one area coverage.

    Attributes
    ----------
    coverage : float
        Requested share of the studied area, in (0, 1].
    n_cells : int
        Cells flagged: ``floor(coverage × n_study_cells)``, never more.
    area_share : float
        ``n_cells / n_study_cells`` (can be a little under ``coverage``).
    hit_rate : float
        Share of the next period's events (in studied cells) that fell in the
        flagged cells; NaN when there were no such events.
    pai : float
        Predictive accuracy index, ``hit_rate / area_share``; NaN when no cell
        is flagged or there were no events.
    pei : float
        Predictive efficiency index: hits ÷ the most hits any choice of
        ``n_cells`` cells could have had; NaN when that maximum is 0.
    n_events : int
        Next-period events in studied cells (the hit-rate denominator).
    n_outside_mask : int
        Next-period events in cells outside the mask (left out of everything).
    """

    coverage: float
    n_cells: int
    area_share: float
    hit_rate: float
    pai: float
    pei: float
    n_events: int
    n_outside_mask: int


def _coverages(coverages: Sequence[float]) -> tuple[float, ...]:
    cov = tuple(float(c) for c in coverages)
    if not cov:
        raise ValueError("coverages must hold at least one value")
    for c in cov:
        if not (math.isfinite(c) and 0.0 < c <= 1.0):
            raise ValueError(f"coverages must lie in (0, 1] (got {c!r})")
    return cov


def _score(score: ArrayLike, grid: Grid, study: NDArray[np.bool_]) -> NDArray[np.float64]:
    s = np.asarray(score, dtype=np.float64)
    if s.shape != grid.shape:
        raise ValueError(f"score must have the grid's shape {grid.shape} (got {s.shape})")
    if not np.all(np.isfinite(s[study])):
        raise ValueError("score contains NaN or infinite values in studied cells")
    return s


def _n_flagged(coverage: float, n_study: int) -> int:
    return math.floor(coverage * n_study + _COUNT_SLACK)


def hit_rate_pai(
    score: ArrayLike,
    events_next_x: ArrayLike,
    events_next_y: ArrayLike,
    *,
    grid: Grid,
    mask: ArrayLike | None = None,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
) -> list[HitRate]:
    """Hit rate, PAI and PEI of a cell ranking against the events that followed.

    For each coverage ``c`` the ``n = floor(c × N)`` highest-scoring of the
    ``N`` studied cells are flagged (never more than the coverage allows).

    Ties at the threshold are scored by their expectation: if ``k`` more cells
    are needed and ``m`` studied cells share the threshold score, each tied cell
    counts with weight ``k / m``. That is exactly the mean hit rate over all
    ways of breaking the tie at random, so neither a lucky nor an unlucky
    tie-break (e.g. by cell index) flatters or punishes a method whose scores
    tie - which matters for count-based rankings with many zero cells.

    - hit rate = hits ÷ events in studied cells (Chainey et al. 2008);
    - PAI = hit rate ÷ ``n / N`` (exactly; ``n / N`` is reported as
      ``area_share``);
    - PEI = hits ÷ (sum of the ``n`` largest actual counts), i.e. PAI ÷ the best
      PAI achievable with ``n`` cells that period (Hunt 2016).

    Parameters
    ----------
    score : array_like, shape ``(ny, nx)``
        Forecast score (higher = riskier); must be finite in studied cells.
    events_next_x, events_next_y : array_like
        Coordinates of the events of the period being forecast. All must lie in
        the grid (an event outside it usually means a wrong coordinate system).
    grid : Grid
    mask : array_like of bool, optional
        Studied cells (True). Events in other cells are left out of the hit
        rate and counted in ``n_outside_mask``.
    coverages : sequence of float
        Area shares in (0, 1].

    Returns
    -------
    list of HitRate
        One per coverage, in the given order. With no events in studied cells,
        ``hit_rate``, ``pai`` and ``pei`` are NaN; with ``n_cells == 0``,
        ``hit_rate`` is 0 and ``pai``/``pei`` NaN.

    Raises
    ------
    ValueError
        On a score of the wrong shape or with NaN, a mask selecting no cell,
        coverages outside (0, 1], event coordinates that are NaN, mismatched
        or outside the grid.

    References
    ----------
    Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
    for predicting spatial patterns of crime. *Security Journal* 21, 4-28.

    Hunt, J. M. (2016). *Do crime hot spots move? Exploring the effects of the
    modifiable areal unit problem and modifiable temporal unit problem on crime
    hot spot stability.* PhD dissertation, American University.
    """
    study = grid.check_mask(mask)
    if not study.any():
        raise ValueError("mask selects no cell")
    s = _score(score, grid, study)
    cov = _coverages(coverages)
    ex, ey = finite_coords(events_next_x, events_next_y, names=("events_next_x", "events_next_y"))
    idx = grid.locate(ex, ey)
    n_out = int((~idx.inside).sum())
    if n_out:
        raise ValueError(f"events_next_x/events_next_y: {n_out} of {ex.size} events lie outside the grid")
    counts_all = grid.bin(ex, ey)
    counts = counts_all[study]
    n_outside_mask = round(counts_all.sum() - counts.sum())
    total = float(counts.sum())
    ss = s[study]
    n_study = int(ss.size)
    desc_scores = -np.sort(-ss)
    desc_counts = -np.sort(-counts)

    out: list[HitRate] = []
    for c in cov:
        n = _n_flagged(c, n_study)
        area_share = n / n_study
        if n == 0:
            hit_rate = math.nan if total == 0 else 0.0
            out.append(HitRate(c, 0, 0.0, hit_rate, math.nan, math.nan, int(total), n_outside_mask))
            continue
        threshold = desc_scores[n - 1]
        above = ss > threshold
        tied = ss == threshold
        k = n - int(above.sum())
        hits = float(counts[above].sum()) + float(counts[tied].sum()) * k / int(tied.sum())
        best = float(desc_counts[:n].sum())
        if total == 0:
            hit_rate = pai = pei = math.nan
        else:
            hit_rate = hits / total
            pai = hit_rate / area_share
            pei = hits / best
        out.append(HitRate(c, n, area_share, hit_rate, pai, pei, int(total), n_outside_mask))
    return out


def flag_cells(score: ArrayLike, *, grid: Grid, coverage: float, mask: ArrayLike | None = None) -> NDArray[np.bool_]:
    """The cells to show as flagged at one coverage.

    The ``floor(coverage × N)`` studied cells with the highest score; ties are
    broken by the flat cell index (row-major, lowest first) so the map is
    reproducible. :func:`hit_rate_pai` scores ties by their expectation
    instead, so a map drawn from this can differ from the scored ranking only
    inside a tie.

    Parameters
    ----------
    score : array_like, shape ``(ny, nx)``
    grid : Grid
    coverage : float
        Area share in (0, 1].
    mask : array_like of bool, optional
        Studied cells.

    Returns
    -------
    ndarray of bool, shape ``(ny, nx)``

    References
    ----------
    Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
    for predicting spatial patterns of crime. *Security Journal* 21, 4-28.
    """
    study = grid.check_mask(mask)
    if not study.any():
        raise ValueError("mask selects no cell")
    s = _score(score, grid, study)
    (c,) = _coverages((coverage,))
    cells = np.flatnonzero(study.ravel())
    n = _n_flagged(c, cells.size)
    # lexsort sorts by the last key first: score descending, then index ascending.
    order = np.lexsort((cells, -s.ravel()[cells]))
    flagged = np.zeros(grid.nx * grid.ny, dtype=bool)
    flagged[cells[order[:n]]] = True
    return flagged.reshape(grid.shape)


class ForecastMethod(Protocol):
    """A forecast usable in :func:`backtest`: a name and a scoring call."""

    @property
    def name(self) -> str: ...

    def __call__(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        t: NDArray[np.float64],
        *,
        grid: Grid,
        at: float,
        horizon: float,
    ) -> NDArray[np.float64]: ...


@dataclass(frozen=True, slots=True)
class NaiveCounts:
    """:func:`naive_counts` as a back-test method.

    ``lookback=None`` uses the length of the period being forecast (``horizon``),
    i.e. "the last period of the same length".
    """

    lookback: float | None = None
    history: float | None = 365.0
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return "naive" if self.lookback is None else f"naive {self.lookback:g}d"

    def __call__(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        t: NDArray[np.float64],
        *,
        grid: Grid,
        at: float,
        horizon: float,
    ) -> NDArray[np.float64]:
        lookback = horizon if self.lookback is None else self.lookback
        return naive_counts(x, y, t, grid=grid, at=at, lookback=lookback, history=self.history)


@dataclass(frozen=True, slots=True)
class RetrospectiveKDE:
    """:func:`retrospective_kde` as a back-test method."""

    lookback: float = 91.0
    bandwidth: float = 300.0
    kernel: Kernel = "quartic"
    label: str | None = None

    @property
    def name(self) -> str:
        return self.label or f"kde {self.lookback:g}d {self.bandwidth:g}m"

    def __call__(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        t: NDArray[np.float64],
        *,
        grid: Grid,
        at: float,
        horizon: float,
    ) -> NDArray[np.float64]:
        return retrospective_kde(
            x, y, t, grid=grid, at=at, lookback=self.lookback, bandwidth=self.bandwidth, kernel=self.kernel
        )


@dataclass(frozen=True, slots=True)
class ProspectiveHotspots:
    """:func:`prospective_hotspots` as a back-test method."""

    distance_bandwidth: float = 400.0
    time_bandwidth: float = 56.0
    label: str | None = None

    @property
    def name(self) -> str:
        return self.label or f"prospective {self.distance_bandwidth:g}m {self.time_bandwidth:g}d"

    def __call__(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        t: NDArray[np.float64],
        *,
        grid: Grid,
        at: float,
        horizon: float,
    ) -> NDArray[np.float64]:
        return prospective_hotspots(
            x, y, t, grid=grid, at=at, distance_bandwidth=self.distance_bandwidth, time_bandwidth=self.time_bandwidth
        )


@dataclass(frozen=True, slots=True)
class MethodScore:
    """One method at one coverage over all back-test periods.

    ``hit_rate``, ``pai`` and ``pei`` are means over the periods where the
    value is defined (periods without events give NaN and are skipped); NaN if
    it is defined in no period. ``per_period`` holds every period's
    :class:`HitRate`, in period order.
    """

    method: str
    coverage: float
    hit_rate: float
    pai: float
    pei: float
    per_period: tuple[HitRate, ...]

    def values(self, field: str) -> NDArray[np.float64]:
        """One per-period field (e.g. ``"pai"``) as an array."""
        return np.array([getattr(h, field) for h in self.per_period], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Backtest:
    """Result of :func:`backtest`.

    Attributes
    ----------
    period_start, period_end : ndarray, shape ``(n_periods,)``
        Each forecast period ``[start, end)`` in days.
    n_events : ndarray of int, shape ``(n_periods,)``
        Events per period in studied cells.
    methods : tuple of str
        Method names, the naive baseline included.
    coverages : tuple of float
    scores : tuple of MethodScore
        One per method × coverage, methods outer.
    """

    period_start: NDArray[np.float64]
    period_end: NDArray[np.float64]
    n_events: NDArray[np.int64]
    methods: tuple[str, ...]
    coverages: tuple[float, ...]
    scores: tuple[MethodScore, ...]

    def score(self, method: str, coverage: float) -> MethodScore:
        """The :class:`MethodScore` of ``method`` at ``coverage``."""
        for s in self.scores:
            if s.method == method and math.isclose(s.coverage, coverage):
                return s
        raise KeyError(f"no score for method {method!r} at coverage {coverage!r}")


def _mean_defined(values: Sequence[float]) -> float:
    ok = [v for v in values if math.isfinite(v)]
    return math.fsum(ok) / len(ok) if ok else math.nan


def backtest(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    grid: Grid,
    periods: ArrayLike,
    methods: Sequence[ForecastMethod] = (),
    mask: ArrayLike | None = None,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
) -> Backtest:
    """Rolling-origin back-test of cell forecasts.

    ``periods`` are the boundaries ``p_0 < p_1 < ... < p_K``; period ``k`` is
    ``[p_k, p_{k+1})``. For each period every method forecasts from the events
    with ``t < p_k`` only (nothing from the period itself or later can leak in)
    and is scored with :func:`hit_rate_pai` on the events inside the period.

    A naive baseline (:class:`NaiveCounts` with the previous period of the same
    length) is added in front when ``methods`` holds no :class:`NaiveCounts`, so
    no forecast is reported without its baseline.

    Parameters
    ----------
    x, y, t : array_like
        All events: coordinates in metres (all inside the grid), times in days.
    grid : Grid
    periods : array_like
        At least two strictly increasing boundaries in days.
    methods : sequence of ForecastMethod
        E.g. ``[RetrospectiveKDE(), ProspectiveHotspots()]``; names must be
        unique.
    mask : array_like of bool, optional
        Studied cells.
    coverages : sequence of float
        Area shares in (0, 1].

    Returns
    -------
    Backtest

    Raises
    ------
    ValueError
        On empty or mismatched events, NaN, events outside the grid, fewer than
        two or non-increasing boundaries, duplicate method names, bad coverages
        or mask.

    References
    ----------
    Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
    for predicting spatial patterns of crime. *Security Journal* 21, 4-28.

    Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting:
    the future of crime mapping? *British Journal of Criminology* 44(5),
    641-658.
    """
    xa, ya, ta = _events(x, y, t)
    if xa.size == 0:
        raise ValueError("x is empty: there are no events to back-test")
    n_out = int((~grid.locate(xa, ya).inside).sum())
    if n_out:
        raise ValueError(f"x/y: {n_out} of {xa.size} events lie outside the grid")
    bounds = np.asarray(periods, dtype=np.float64).ravel()
    if bounds.size < 2:
        raise ValueError(f"periods must hold at least two boundaries (got {bounds.size})")
    if not np.all(np.isfinite(bounds)):
        raise ValueError("periods contains NaN or infinite values")
    if np.any(np.diff(bounds) <= 0):
        raise ValueError("periods must be strictly increasing")
    cov = _coverages(coverages)
    study = grid.check_mask(mask)
    if not study.any():
        raise ValueError("mask selects no cell")

    chosen: list[ForecastMethod] = list(methods)
    if not any(isinstance(m, NaiveCounts) for m in chosen):
        chosen.insert(0, NaiveCounts())
    names = tuple(m.name for m in chosen)
    if len(set(names)) != len(names):
        raise ValueError(f"methods must have unique names (got {names})")

    per: dict[tuple[str, float], list[HitRate]] = {(n, c): [] for n in names for c in cov}
    n_events: list[int] = []
    for start, end in itertools.pairwise(bounds):
        past = ta < start
        nxt = (ta >= start) & (ta < end)
        xp, yp, tp = xa[past], ya[past], ta[past]
        period_events = -1
        for method in chosen:
            score = method(xp, yp, tp, grid=grid, at=float(start), horizon=float(end - start))
            rates = hit_rate_pai(score, xa[nxt], ya[nxt], grid=grid, mask=study, coverages=cov)
            for r in rates:
                per[(method.name, r.coverage)].append(r)
            period_events = rates[0].n_events
        n_events.append(period_events)

    scores = tuple(
        MethodScore(
            method=n,
            coverage=c,
            hit_rate=_mean_defined([h.hit_rate for h in per[(n, c)]]),
            pai=_mean_defined([h.pai for h in per[(n, c)]]),
            pei=_mean_defined([h.pei for h in per[(n, c)]]),
            per_period=tuple(per[(n, c)]),
        )
        for n in names
        for c in cov
    )
    return Backtest(
        period_start=bounds[:-1].copy(),
        period_end=bounds[1:].copy(),
        n_events=np.asarray(n_events, dtype=np.int64),
        methods=names,
        coverages=cov,
        scores=scores,
    )
