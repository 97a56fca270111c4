"""Hot and cold spots on a grid: Getis–Ord Gi*, false-discovery control and emerging hot spots.

Gi* asks, for every studied cell, whether the counts in the disc of radius
``radius`` around it (the cell itself included) are higher or lower than the
study area's mean would make likely. On a regular grid the disc is the same
footprint everywhere, so the neighbourhood sums are one correlation of the
count array with that footprint instead of a sparse weights matrix; the result
equals PySAL esda's ``G_Local(y, w, star=True, transform="B")`` with
``w = DistanceBand(centres, threshold=radius, binary=True)``.

With thousands of cells tested at once, a plain 5 % threshold marks hundreds
of cells by chance alone, so the hot/cold labels are decided on
Benjamini–Hochberg adjusted p-values.

Emerging hot spots follow a cell through time slices (weeks, months): Gi* per
slice, the Mann–Kendall trend test on the cell's series of Gi* z-scores, and a
category after ESRI's Emerging Hot Spot Analysis.

References
----------
Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
distance statistics. *Geographical Analysis* 24(3), 189-206.

Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
distributional issues and an application. *Geographical Analysis* 27(4), 286-306.

Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. *Journal of the Royal
Statistical Society B* 57(1), 289-300.

Anselin, L. (1995). Local indicators of spatial association — LISA.
*Geographical Analysis* 27(2), 93-115.

Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245-259.

Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Griffin.

Esri. How Emerging Hot Spot Analysis works. ArcGIS Pro documentation,
Space Time Pattern Mining toolbox.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage, special

from samverkan.analysis._validate import as_rng, positive

#: Confidence levels of the hot/cold labels: (adjusted p threshold, label magnitude).
LABEL_LEVELS: tuple[tuple[float, int], ...] = ((0.01, 3), (0.05, 2), (0.10, 1))

#: Every value :attr:`EmergingResult.category` can take; ``""`` marks cells outside the mask.
EMERGING_CATEGORIES: tuple[str, ...] = (
    "new_hot",
    "consecutive_hot",
    "intensifying_hot",
    "persistent_hot",
    "diminishing_hot",
    "sporadic_hot",
    "oscillating_hot",
    "historical_hot",
    "new_cold",
    "consecutive_cold",
    "intensifying_cold",
    "persistent_cold",
    "diminishing_cold",
    "sporadic_cold",
    "oscillating_cold",
    "historical_cold",
    "no_pattern",
    "",
)

# Centre distances equal to the radius count as inside (esda/libpysal use <=); the slack keeps a tie such as
# a (3, 4) offset at radius 5 cells inside despite rounding in radius / cell_size.
_TIE_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class GiStarResult:
    """Gi* z-scores, p-values and hot/cold labels for every cell of a grid.

    Attributes
    ----------
    z : ndarray, shape ``(ny, nx)``
        Gi* z-score; NaN outside the mask.
    p : ndarray, shape ``(ny, nx)``
        Two-sided p-value of ``z`` under the normal approximation; NaN outside the mask.
    p_fdr : ndarray, shape ``(ny, nx)``
        ``p`` adjusted by Benjamini–Hochberg over the studied cells; NaN outside the mask.
    label : ndarray of int8, shape ``(ny, nx)``
        +3/+2/+1 hot spot at 99/95/90 % confidence (``p_fdr`` <= 0.01/0.05/0.10 and ``z`` > 0), -3/-2/-1 the
        same for cold spots, 0 not significant or outside the mask.
    p_sim : ndarray or None
        Conditional-permutation pseudo p-value (one-sided, in the direction of the observed deviation, as in
        esda); NaN outside the mask. ``None`` when no permutations were asked for.
    radius : float
        Neighbourhood radius in metres.
    cell_size : float
        Cell side in metres.
    n_cells : int
        Number of studied cells.
    """

    z: NDArray[np.float64]
    p: NDArray[np.float64]
    p_fdr: NDArray[np.float64]
    label: NDArray[np.int8]
    p_sim: NDArray[np.float64] | None
    radius: float
    cell_size: float
    n_cells: int


@dataclass(frozen=True, slots=True)
class MannKendallResult:
    """Mann–Kendall trend test, one value per series.

    Attributes
    ----------
    s : ndarray
        Kendall's S: concordant minus discordant pairs of (time, value).
    var_s : ndarray
        Variance of S under no trend, corrected for ties in the values.
    z : ndarray
        Standardised S (with continuity correction if asked for); 0 where ``var_s`` is 0.
    p : ndarray
        Two-sided p-value of ``z`` under the normal approximation.
    """

    s: NDArray[np.float64]
    var_s: NDArray[np.float64]
    z: NDArray[np.float64]
    p: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EmergingResult:
    """Emerging hot spot categories and the per-slice Gi* results behind them.

    Attributes
    ----------
    category : ndarray of str, shape ``(ny, nx)``
        One of :data:`EMERGING_CATEGORIES`; ``""`` outside the mask.
    z : ndarray, shape ``(T, ny, nx)``
        Gi* z-score of every slice; NaN outside the mask.
    p_fdr : ndarray, shape ``(T, ny, nx)``
        Benjamini–Hochberg adjusted p-values of every slice (adjusted within the slice).
    significant : ndarray of int8, shape ``(T, ny, nx)``
        +1 hot, -1 cold, 0 neither at level ``alpha``, per slice.
    trend_s, trend_z, trend_p : ndarray, shape ``(ny, nx)``
        Mann–Kendall S, z and two-sided p of each cell's Gi* z series; NaN outside the mask.
    alpha : float
        Significance level used for the slices and for the trend.
    radius, cell_size : float
        Neighbourhood radius and cell side in metres.
    n_cells : int
        Number of studied cells.
    """

    category: NDArray[np.str_]
    z: NDArray[np.float64]
    p_fdr: NDArray[np.float64]
    significant: NDArray[np.int8]
    trend_s: NDArray[np.float64]
    trend_z: NDArray[np.float64]
    trend_p: NDArray[np.float64]
    alpha: float
    radius: float
    cell_size: float
    n_cells: int


def _footprint(radius: float, cell_size: float) -> NDArray[np.float64]:
    """Disc of cell offsets whose centre distance is <= ``radius``, as a float (2h+1, 2h+1) array of 0/1."""
    q2 = (radius / cell_size) ** 2 * (1.0 + _TIE_SLACK)
    h = math.isqrt(math.floor(q2))
    off = np.arange(-h, h + 1)
    return (off[:, None] ** 2 + off[None, :] ** 2 <= q2).astype(np.float64)


def _disc_sum(values: NDArray[np.float64], footprint: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sum of ``values`` over the footprint around every cell (zero outside the grid), by direct summation.

    Direct float64 sums of integer-valued counts are exact, so the sums equal a sparse ``W @ y``. Small
    footprints go through one 2-D correlation; larger discs are split into row spans: one 1-D box sum per
    distinct span width, then shifted row additions, which needs O(radius) instead of O(radius²) work per cell.
    """
    size = footprint.shape[0]
    if size <= 7:
        return ndimage.correlate(values, footprint, mode="constant", cval=0.0)
    h = size // 2
    ny = values.shape[0]
    half_widths = (footprint.sum(axis=1) // 2).astype(int)
    boxes = {
        w: ndimage.correlate1d(values, np.ones(2 * w + 1), axis=1, mode="constant", cval=0.0)
        for w in set(half_widths.tolist())
    }
    out = boxes[half_widths[h]].copy()
    for row, w in enumerate(half_widths):
        d = row - h
        if d > 0 and d < ny:
            out[: ny - d] += boxes[w][d:]
        elif d < 0 and -d < ny:
            out[-d:] += boxes[w][: ny + d]
    return out


def _full_grid_neighbours(shape: tuple[int, int], footprint: NDArray[np.float64]) -> NDArray[np.float64]:
    """Neighbour counts on an unmasked grid without a 2-D correlation.

    Footprint row ``a`` (vertical offset ``a - h``) covers ``2 w_a + 1`` columns; a cell's count is the sum over
    rows that stay inside the grid of the columns that do, which is one small matrix product.
    """
    ny, nx = shape
    h = footprint.shape[0] // 2
    offsets = np.arange(-h, h + 1)
    half_widths = footprint.sum(axis=1) // 2
    rows = np.arange(ny)[:, None] + offsets[None, :]
    row_inside = ((rows >= 0) & (rows < ny)).astype(np.float64)
    cols = np.arange(nx)[None, :]
    w = half_widths[:, None]
    col_count = np.minimum(cols + w, nx - 1) - np.maximum(cols - w, 0) + 1
    return row_inside @ col_count


def _studied(shape: tuple[int, ...], mask: ArrayLike | None) -> NDArray[np.bool_]:
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"mask must have the shape of the count grid {shape} (got {m.shape})")
    m = m.astype(bool)
    if m.sum() < 2:
        raise ValueError(f"mask must select at least 2 cells (got {int(m.sum())})")
    return m


def _check_values(values: NDArray[np.float64], studied: NDArray[np.bool_], name: str) -> None:
    inside = values if studied.all() else values[..., studied]
    if not np.all(np.isfinite(inside)):
        raise ValueError(f"{name} contains NaN or infinite values in studied cells")
    if np.any(inside < 0):
        raise ValueError(f"{name} must be >= 0 (got a minimum of {inside.min()!r})")


def _counts_2d(counts: ArrayLike, name: str = "counts") -> NDArray[np.float64]:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (ny, nx) array (got {c.ndim} dimensions)")
    if c.size < 2:
        raise ValueError(f"{name} must hold at least 2 cells (got {c.size})")
    return c


def benjamini_hochberg(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (step-up false discovery rate control).

    A hypothesis is rejected at false discovery rate ``q`` when its adjusted
    p-value is <= ``q``. NaN entries (cells outside a study area) are left NaN
    and do not count towards the number of tests.

    Parameters
    ----------
    p : array_like
        p-values in [0, 1], any shape.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape as ``p``.

    Raises
    ------
    ValueError
        If a p-value is infinite or outside [0, 1].

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
    practical and powerful approach to multiple testing. *Journal of the Royal
    Statistical Society B* 57(1), 289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    arr = np.asarray(p, dtype=np.float64)
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(arr)
    vals = arr[ok]
    if np.any((vals < 0) | (vals > 1)):
        raise ValueError("p must hold values in [0, 1] (or NaN for untested entries)")
    if vals.size:
        out[ok] = _bh_adjust(vals)
    return out


def _bh_adjust(vals: NDArray[np.float64], multiplicity: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """BH adjustment of a 1-D array of valid p-values, each optionally standing for ``multiplicity`` tests.

    A value standing for several tied tests takes the rank of the last of them, which is the rank whose
    ratio ``p * m / rank`` the step-up minimum picks for a tie group; both forms give identical results.
    """
    order, adjusted = _ascending(vals)
    if multiplicity is None:
        m = vals.size
        factor = np.arange(1, m + 1, dtype=np.float64)
    else:
        m = int(multiplicity.sum())
        factor = np.cumsum(multiplicity[order]).astype(np.float64)
    np.divide(m, factor, out=factor)
    adjusted *= factor
    backwards = adjusted[::-1]
    np.minimum.accumulate(backwards, out=backwards)
    np.minimum(adjusted, 1.0, out=adjusted)
    result = np.empty(vals.size)
    result[order] = adjusted
    return result


def _ascending(vals: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """An ascending order of non-negative values, and the values in that order.

    Count data give p-values with huge tie groups, on which ``argsort`` is several times slower than a plain
    sort. Non-negative doubles order like their bit patterns read as integers, so the index is packed into
    the low bits of each pattern and the integers are sorted. Dropping those low bits can misorder values
    that differ only there; the result is checked and ``argsort`` takes over if it is not ascending. The order
    within ties is arbitrary, which BH does not mind: tied p-values get equal adjusted values.
    """
    m = vals.size
    shift = max(1, (m - 1).bit_length())
    if shift <= 32:
        keys = vals.view(np.int64) >> shift
        keys <<= shift
        keys |= np.arange(m, dtype=np.int64)
        keys.sort()
        keys &= (1 << shift) - 1
        order = keys.astype(np.intp, copy=False)
        ordered = vals[order]
        if m < 2 or bool(np.all(ordered[1:] >= ordered[:-1])):
            return order, ordered
    order = np.argsort(vals)
    return order, vals[order]


def _labels(z: NDArray[np.float64], p_fdr: NDArray[np.float64]) -> NDArray[np.int8]:
    """Signed confidence level: the number of nested thresholds in LABEL_LEVELS that ``p_fdr`` meets."""
    level = np.zeros(z.shape, dtype=np.int8)
    for threshold, _ in LABEL_LEVELS:
        level += p_fdr <= threshold  # NaN compares False, so unstudied cells stay 0
    np.negative(level, out=level, where=z < 0)
    return level


def gi_star(
    counts: ArrayLike,
    *,
    radius: float,
    cell_size: float,
    mask: ArrayLike | None = None,
    permutations: int = 0,
    rng: int | np.random.Generator | None = None,
) -> GiStarResult:
    """Getis–Ord Gi* hot and cold spots on a grid of counts.

    For studied cell *i* with neighbourhood sum :math:`S_i` over the
    :math:`k_i` studied cells whose centres lie within ``radius`` (the cell
    itself included, binary weights), among :math:`n` studied cells with mean
    :math:`\\bar y` and standard deviation :math:`s` (divisor :math:`n`),

    .. math:: z_i = \\frac{S_i - k_i \\bar y}{s \\sqrt{k_i (n - k_i) / (n - 1)}}.

    This is esda's ``G_Local(y, w, star=True, transform="B").Zs`` with
    ``w = DistanceBand(centres, threshold=radius, binary=True)`` built on the
    studied cells only (esda adds the unit self-weight). Cells outside the
    mask are neither focal cells nor neighbours.

    Parameters
    ----------
    counts : array_like, shape ``(ny, nx)``
        Non-negative counts (or weighted sums) per cell, laid out as in
        :class:`samverkan.analysis.grid.Grid`. Values outside the mask are ignored
        and may be NaN.
    radius : float
        Neighbourhood radius in metres, > 0; centre distances equal to it count.
        With ``radius < cell_size`` the neighbourhood is the cell alone and
        ``z`` reduces to the standardised count :math:`(y_i - \\bar y)/s`: no
        spatial smoothing, only outliers.
    cell_size : float
        Cell side in metres, > 0.
    mask : array_like of bool, shape ``(ny, nx)``, optional
        True for studied cells (e.g. inside the municipality); default all. At least 2 cells.
    permutations : int, default 0
        Number of conditional permutations for ``p_sim``; 0 skips them.
    rng : int or numpy.random.Generator, optional
        Required when ``permutations > 0``.

    Returns
    -------
    GiStarResult

    Raises
    ------
    ValueError
        If ``counts`` is not 2-D or holds NaN, inf or negative values in studied
        cells; if the mask's shape differs or it selects fewer than 2 cells; if
        ``radius`` or ``cell_size`` is not > 0; if ``permutations`` is negative;
        if ``permutations > 0`` without ``rng``.

    Notes
    -----
    Degenerate cases, where esda returns NaN or ±inf, are reported as "no
    evidence": ``z = 0``, ``p = 1``, label 0 and ``p_sim = 1``. They are
    (a) zero variance — every studied cell has the same count, for example a
    week without incidents — and (b) a cell whose neighbourhood holds every
    studied cell, so its sum is the grand total whatever the pattern.

    The permutation test holds the focal value and redistributes the others
    (conditional randomisation, Anselin 1995): in each permutation the
    :math:`k_i - 1` neighbours of cell *i* are drawn without replacement from
    the other :math:`n - 1` studied cells. As in esda one draw sequence per
    permutation is shared by all cells. The pseudo p-value is
    :math:`(\\min(n_{\\ge}, n_{\\le}) + 1)/(P + 1)`, with :math:`n_{\\ge}`
    (:math:`n_{\\le}`) the simulated sums at least (at most) the observed one.
    Without ties this equals esda's folded value; with ties, common for sparse
    counts, esda counts them on the upper side only and can report
    :math:`1/(P+1)` for a neighbourhood of zeros whose sum is the most likely
    outcome, which this count avoids.

    References
    ----------
    Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
    distance statistics. *Geographical Analysis* 24(3), 189-206.

    Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
    distributional issues and an application. *Geographical Analysis* 27(4), 286-306.

    Anselin, L. (1995). Local indicators of spatial association — LISA.
    *Geographical Analysis* 27(2), 93-115.

    Examples
    --------
    >>> counts = np.zeros((9, 9))
    >>> counts[3:6, 3:6] = 5
    >>> res = gi_star(counts, radius=100.0, cell_size=100.0)
    >>> int(res.label[4, 4]), bool(res.z[4, 4] > 3)
    (3, True)
    """
    c = _counts_2d(counts)
    radius = positive(radius, "radius")
    cell_size = positive(cell_size, "cell_size")
    studied = _studied(c.shape, mask)
    _check_values(c, studied, "counts")
    if int(permutations) != permutations or permutations < 0:
        raise ValueError(f"permutations must be a whole number >= 0 (got {permutations!r})")
    permutations = int(permutations)
    generator = as_rng(rng) if permutations > 0 else None

    shape = c.shape
    full = bool(studied.all())

    def inside(a: NDArray[np.float64]) -> NDArray[np.float64]:
        return a.ravel() if full else a[studied]

    def spread(values: NDArray[np.float64]) -> NDArray[np.float64]:
        if full:
            return values.reshape(shape)
        out = np.full(shape, np.nan)
        out[studied] = values
        return out

    footprint = _footprint(radius, cell_size)
    # Float64 direct correlation of integer-valued counts is exact, so sums match a sparse W @ y bit for bit.
    sums = _disc_sum(c if full else np.where(studied, c, 0.0), footprint)
    k_grid = _full_grid_neighbours(shape, footprint) if full else _disc_sum(studied.astype(np.float64), footprint)

    y = inside(c)
    n = y.size
    s_obs = inside(sums)
    k = np.asarray(inside(k_grid), dtype=np.float64)
    mean = float(y.mean())
    sd = math.sqrt(float(np.mean((y - mean) ** 2)))

    table = _tabulate(s_obs, k, n)
    if table is None:
        z_in, p_in = _z_and_p(s_obs, k, n, mean, sd)
        p_fdr_in = _bh_adjust(p_in)
        label_in = _labels(z_in, p_fdr_in)
    else:
        # Integer sums: every cell with the same (sum, neighbour count) has the same z, p and adjusted p, so
        # the statistics are computed once per distinct pair (usually a few hundred) and looked up.
        index, s_u, k_u, multiplicity = table
        z_u, p_u = _z_and_p(s_u, k_u, n, mean, sd)
        p_fdr_u = _bh_adjust(p_u, multiplicity)
        label_u = _labels(z_u, p_fdr_u)
        z_in, p_in, p_fdr_in, label_in = z_u[index], p_u[index], p_fdr_u[index], label_u[index]

    p_sim = None
    if generator is not None:
        sim = np.ones(n)
        if sd > 0:
            sim = _conditional_permutation_p(y, s_obs, k.astype(np.intp), permutations, generator)
        p_sim = spread(sim)

    if full:
        label = label_in.reshape(shape)
    else:
        label = np.zeros(shape, dtype=np.int8)
        label[studied] = label_in
    return GiStarResult(
        z=spread(z_in),
        p=spread(p_in),
        p_fdr=spread(p_fdr_in),
        label=label,
        p_sim=p_sim,
        radius=radius,
        cell_size=cell_size,
        n_cells=int(n),
    )


def _z_and_p(
    sums: NDArray[np.float64], k: NDArray[np.float64], n: int, mean: float, sd: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gi* z and two-sided p from neighbourhood sums and sizes; degenerate cells get z = 0."""
    # In-place arithmetic: on large grids fresh temporaries cost as much as the arithmetic.
    z = np.zeros(sums.size)
    if sd > 0:
        den = n - k
        den *= k
        den *= sd * sd / (n - 1)
        np.sqrt(den, out=den)
        np.multiply(k, mean, out=z)
        np.subtract(sums, z, out=z)
        with np.errstate(divide="ignore", invalid="ignore"):
            z /= den
        if k.max() >= n:
            z[k >= n] = 0.0  # neighbourhood holds every studied cell
    p = np.abs(z)
    np.negative(p, out=p)
    special.ndtr(p, out=p)
    p *= 2.0
    return z, p


def _tabulate(
    sums: NDArray[np.float64], k: NDArray[np.float64], n: int
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]] | None:
    """Group cells by (integer sum, neighbour count); None when the sums are not integers or too spread out.

    Returns the group of each cell, each group's sum and count, and its number of cells.
    """
    width = int(k.max()) + 1
    if (float(sums.max()) + 1.0) * width > n + 65536:
        return None
    s_int = sums.astype(np.int64)
    if not np.array_equal(s_int, sums):
        return None
    key = s_int
    key *= width
    key += k.astype(np.int64)
    counts = np.bincount(key)
    present = np.flatnonzero(counts)
    lookup = np.zeros(counts.size, dtype=np.intp)
    lookup[present] = np.arange(present.size)
    return (
        lookup[key],
        (present // width).astype(np.float64),
        (present % width).astype(np.float64),
        counts[present],
    )


def _conditional_permutation_p(
    y: NDArray[np.float64],
    observed: NDArray[np.float64],
    k: NDArray[np.intp],
    permutations: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Folded pseudo p-values of neighbourhood sums under conditional randomisation.

    Each permutation draws ``d = max(m) + 1`` distinct cells, ``m_i = k_i - 1``
    being the number of other cells in neighbourhood *i*. Cell *i* takes the
    first ``m_i`` draws, with draw ``m_i`` standing in if cell *i* itself is
    among them: deleting one fixed element from a uniformly random sequence
    leaves a uniformly random sequence of the others, so every cell gets an
    exact draw without replacement from the other ``n - 1`` cells.

    Without the stand-in, all cells with the same ``m`` share the same
    simulated sums (the prefix sums of the draws), so the counts of simulated
    sums at or above (below) each cell's observed one are rank queries in the
    sorted prefix sums: O(n log P) instead of O(n P). The few (permutation,
    cell) pairs where the cell drew itself are then corrected one by one.
    """
    n = y.size
    m = k - 1
    d = int(m.max()) + 1
    draws = _distinct_draws(rng, n, d, permutations)
    drawn = y[draws]
    prefix = np.zeros((permutations, d + 1))
    np.cumsum(drawn, axis=1, out=prefix[:, 1:])

    # Simulated sum >= observed  <=>  sum of the drawn others >= observed - own value (with rounding slack).
    tol = 1e-9 * max(1.0, float(np.abs(y).sum()))
    need = observed - y
    hi = need - tol
    lo = need + tol
    n_ge = np.empty(n, dtype=np.int64)
    n_le = np.empty(n, dtype=np.int64)
    by_m = np.argsort(m, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(m, minlength=d))])
    for mv in range(d):
        cells = by_m[bounds[mv] : bounds[mv + 1]]
        if cells.size == 0:
            continue
        column = np.sort(prefix[:, mv])
        n_ge[cells] = permutations - np.searchsorted(column, hi[cells], side="left")
        n_le[cells] = np.searchsorted(column, lo[cells], side="right")

    rows, pos = np.nonzero(np.arange(d)[None, :] < m[draws])
    cells = draws[rows, pos]
    stand_in = m[cells]
    plain = prefix[rows, stand_in]
    fixed = plain + (drawn[rows, stand_in] - y[cells])
    np.add.at(n_ge, cells, (fixed >= hi[cells]).astype(np.int64) - (plain >= hi[cells]))
    np.add.at(n_le, cells, (fixed <= lo[cells]).astype(np.int64) - (plain <= lo[cells]))
    return (np.minimum(n_ge, n_le) + 1.0) / (permutations + 1.0)


def _distinct_draws(rng: np.random.Generator, n: int, size: int, rows: int) -> NDArray[np.intp]:
    """``rows`` independent uniform sequences of ``size`` distinct integers below ``n``."""
    if size * size > n:
        # Repeats would be common, so draw each row without replacement directly.
        return np.stack([rng.choice(n, size=size, replace=False) for _ in range(rows)])
    # Rejection: a uniform sequence conditioned on having no repeats is uniform over distinct sequences,
    # and with size² <= n at most about half the rows need another try.
    out = rng.integers(0, n, size=(rows, size))
    while True:
        ordered = np.sort(out, axis=1)
        again = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if again.size == 0:
            return out
        out[again] = rng.integers(0, n, size=(again.size, size))


def mann_kendall(series: ArrayLike, *, continuity: bool = True) -> MannKendallResult:
    """Mann–Kendall test for a monotonic trend, vectorised over many series.

    :math:`S = \\sum_{i<j} \\operatorname{sign}(x_j - x_i)`; under no trend
    :math:`\\operatorname{Var}(S) = [T(T-1)(2T+5) - \\sum_g t_g(t_g-1)(2t_g+5)]/18`
    with :math:`t_g` the sizes of groups of tied values, and
    :math:`z = (S - \\operatorname{sign}(S))/\\sqrt{\\operatorname{Var}(S)}`
    with the continuity correction (or :math:`S/\\sqrt{\\operatorname{Var}(S)}`
    without, which is what ``scipy.stats.kendalltau(range(T), x, method="asymptotic")``
    computes).

    Parameters
    ----------
    series : array_like, shape ``(T, ...)``
        Time along the first axis, ``T >= 3``; one series per trailing index.
    continuity : bool, default True
        Apply the continuity correction of one unit to S.

    Returns
    -------
    MannKendallResult
        Arrays of the trailing shape of ``series``.

    Raises
    ------
    ValueError
        If ``series`` has fewer than 3 time steps or holds NaN/inf.

    References
    ----------
    Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245-259.

    Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Griffin.

    Examples
    --------
    >>> res = mann_kendall([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> float(res.s), round(float(res.p), 4)
    (10.0, 0.0275)
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 0 or x.shape[0] < 3:
        raise ValueError("series must have at least 3 time steps along the first axis")
    if not np.all(np.isfinite(x)):
        raise ValueError("series contains NaN or infinite values")
    t = x.shape[0]
    s_int = np.zeros(x.shape[1:], dtype=np.int64)
    for i in range(t - 1):
        later = x[i + 1 :]
        s_int += np.count_nonzero(later > x[i], axis=0)
        s_int -= np.count_nonzero(later < x[i], axis=0)
    s = s_int.astype(np.float64)
    tie_term = _tie_term(x)
    var_s = (t * (t - 1) * (2 * t + 5) - tie_term) / 18.0
    numerator = s - np.sign(s) if continuity else s
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var_s > 0, numerator / np.sqrt(np.where(var_s > 0, var_s, 1.0)), 0.0)
    p = 2.0 * special.ndtr(-np.abs(z))
    return MannKendallResult(s=s, var_s=var_s, z=z, p=p)


def _tie_term(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sum over groups of tied values of t(t-1)(2t+5), per series along the first axis.

    Counted per value as (c-1)(2c+5), with c the size of its tie group, read off as the length of its run
    in the sorted series.
    """
    t = x.shape[0]
    srt = np.sort(x, axis=0)
    tied = srt[1:] == srt[:-1]
    if not tied.any():
        return np.zeros(x.shape[1:])
    steps = np.arange(t).reshape((t,) + (1,) * (x.ndim - 1))
    first = np.ones(x.shape, dtype=bool)
    first[1:] = ~tied
    last = np.ones(x.shape, dtype=bool)
    last[:-1] = ~tied
    run_start = np.maximum.accumulate(np.where(first, steps, 0), axis=0)
    run_end = np.flip(np.minimum.accumulate(np.flip(np.where(last, steps, t - 1), axis=0), axis=0), axis=0)
    c = (run_end - run_start + 1).astype(np.float64)
    return ((c - 1) * (2 * c + 5)).sum(axis=0)


def _classify(
    same: NDArray[np.bool_],
    opposite: NDArray[np.bool_],
    trend_up: NDArray[np.bool_],
    trend_down: NDArray[np.bool_],
    side: str,
) -> NDArray[np.str_]:
    """Categories for cells significant on ``side`` in the final slice.

    ``same`` and ``opposite`` are (T, n) significance flags on this side and
    the other; ``trend_up`` means the Gi* z-scores grow more extreme on this side.
    """
    t, n = same.shape
    out = np.full(n, "", dtype="<U20")
    n_same = same.sum(axis=0)
    # "At least 90 percent of the slices", in integers to avoid rounding at e.g. 9 of 10.
    mostly = 10 * n_same >= 9 * t
    ever_opposite = opposite.any(axis=0)
    before_final = same[:-1].any(axis=0)
    # Length of the run of significant slices that ends in the final slice.
    run = np.zeros(n, dtype=np.int64)
    running = np.ones(n, dtype=bool)
    for i in range(t - 1, -1, -1):
        running &= same[i]
        run += running
    single_final_run = run == n_same

    out[mostly & trend_up] = f"intensifying_{side}"
    out[mostly & trend_down] = f"diminishing_{side}"
    out[mostly & ~trend_up & ~trend_down] = f"persistent_{side}"
    rest = ~mostly
    out[rest & ever_opposite] = f"oscillating_{side}"
    rest &= ~ever_opposite
    out[rest & ~before_final] = f"new_{side}"
    rest &= before_final
    out[rest & single_final_run] = f"consecutive_{side}"
    out[rest & ~single_final_run] = f"sporadic_{side}"
    return out


def emerging_hotspots(
    counts_by_slice: ArrayLike,
    *,
    radius: float,
    cell_size: float,
    mask: ArrayLike | None = None,
    alpha: float = 0.05,
) -> EmergingResult:
    """Emerging hot and cold spots: how each cell's Gi* significance and trend developed over time slices.

    Gi* (:func:`gi_star`) is computed in every slice with the same
    neighbourhood; a cell is a significant hot (cold) spot in a slice when its
    Benjamini–Hochberg adjusted p-value is <= ``alpha`` and ``z > 0`` (``< 0``).
    The Mann–Kendall test (:func:`mann_kendall`, continuity-corrected, ties
    corrected) on the cell's series of z-scores gives the trend, significant
    when its p <= ``alpha``. Categories, after Esri's Emerging Hot Spot
    Analysis (hot side; the cold side mirrors it with "cold" for "hot" and a
    falling z-score as intensifying):

    - ``new_hot``: hot in the final slice and never before.
    - ``consecutive_hot``: the hot slices are one uninterrupted run of at least two that ends in the final slice,
      fewer than 90 % of the slices.
    - ``intensifying_hot``: hot in at least 90 % of the slices including the final one, z rising significantly.
    - ``persistent_hot``: as intensifying but without a significant trend.
    - ``diminishing_hot``: as intensifying but with z falling significantly.
    - ``sporadic_hot``: hot in the final slice, hot on and off before, fewer than 90 % of the slices, never cold.
    - ``oscillating_hot``: hot in the final slice, cold in some earlier slice, fewer than 90 % hot.
    - ``historical_hot``: not hot in the final slice but hot in at least 90 % of the slices.
    - ``no_pattern``: none of these.

    Simplifications against Esri: the neighbourhood is spatial only (Esri's
    space-time cube can add earlier slices to a cell's neighbourhood), and
    significance uses one level ``alpha`` throughout.

    Parameters
    ----------
    counts_by_slice : array_like, shape ``(T, ny, nx)``
        Counts per time slice and cell, ``T >= 3`` (Esri asks for at least 10;
        with few slices the trend test can rarely reach significance).
    radius, cell_size : float
        As in :func:`gi_star`.
    mask : array_like of bool, shape ``(ny, nx)``, optional
        Studied cells, the same in every slice.
    alpha : float, default 0.05
        Significance level in (0, 1) for slices and trend.

    Returns
    -------
    EmergingResult

    Raises
    ------
    ValueError
        If ``counts_by_slice`` is not 3-D or has fewer than 3 slices, for bad
        ``alpha``, and for everything :func:`gi_star` refuses.

    References
    ----------
    Esri. How Emerging Hot Spot Analysis works. ArcGIS Pro documentation,
    Space Time Pattern Mining toolbox.

    Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
    distance statistics. *Geographical Analysis* 24(3), 189-206.

    Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245-259.

    Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Griffin.
    """
    cube = np.asarray(counts_by_slice, dtype=np.float64)
    if cube.ndim != 3:
        raise ValueError(f"counts_by_slice must be a 3-D (T, ny, nx) array (got {cube.ndim} dimensions)")
    if cube.shape[0] < 3:
        raise ValueError(f"counts_by_slice must hold at least 3 time slices (got {cube.shape[0]})")
    a = float(alpha)
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must lie in (0, 1) (got {alpha!r})")
    slices = [gi_star(cube[t], radius=radius, cell_size=cell_size, mask=mask) for t in range(cube.shape[0])]
    studied = ~np.isnan(slices[0].z)
    z = np.stack([r.z for r in slices])
    p_fdr = np.stack([r.p_fdr for r in slices])
    significant = np.zeros(z.shape, dtype=np.int8)
    sig = np.nan_to_num(p_fdr, nan=1.0) <= a
    significant[sig & (z > 0)] = 1
    significant[sig & (z < 0)] = -1

    zs = z[:, studied]
    mk = mann_kendall(zs)
    rising = (mk.p <= a) & (mk.s > 0)
    falling = (mk.p <= a) & (mk.s < 0)
    hot = significant[:, studied] == 1
    cold = significant[:, studied] == -1

    cat = np.full(zs.shape[1], "no_pattern", dtype="<U20")
    final_hot = hot[-1]
    final_cold = cold[-1]
    cat[final_hot] = _classify(hot, cold, rising, falling, "hot")[final_hot]
    cat[final_cold] = _classify(cold, hot, falling, rising, "cold")[final_cold]
    t = zs.shape[0]
    neither = ~final_hot & ~final_cold
    cat[neither & (10 * hot.sum(axis=0) >= 9 * t)] = "historical_hot"
    cat[neither & (10 * cold.sum(axis=0) >= 9 * t)] = "historical_cold"

    category = np.full(studied.shape, "", dtype="<U20")
    category[studied] = cat
    trend = []
    for values in (mk.s, mk.z, mk.p):
        grid = np.full(studied.shape, np.nan)
        grid[studied] = values
        trend.append(grid)
    return EmergingResult(
        category=category,
        z=z,
        p_fdr=p_fdr,
        significant=significant,
        trend_s=trend[0],
        trend_z=trend[1],
        trend_p=trend[2],
        alpha=a,
        radius=slices[0].radius,
        cell_size=slices[0].cell_size,
        n_cells=slices[0].n_cells,
    )
