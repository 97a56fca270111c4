"""Kernel density surfaces: against the direct sum, scipy's gaussian_kde, hand-computed values and invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import gaussian_kde

from samverkan.analysis.grid import Grid
from samverkan.analysis.kde import KDEResult, kde_exact, kde_grid

KERNELS = ("quartic", "gaussian")
GRID = Grid(412_345.0, 6_141_230.0, 25.0, 40, 30)


def scattered(rng: np.random.Generator, grid: Grid, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points anywhere in the grid (not on centres): a uniform scatter, a tight clump and a few just outside."""
    n_clump, n_out = n // 4, n // 10
    n_uniform = n - n_clump - n_out
    x = [
        rng.uniform(grid.x0, grid.x1, n_uniform),
        rng.normal(grid.x0 + 0.3 * (grid.x1 - grid.x0), grid.cell_size, n_clump),
    ]
    y = [
        rng.uniform(grid.y0, grid.y1, n_uniform),
        rng.normal(grid.y0 + 0.6 * (grid.y1 - grid.y0), grid.cell_size, n_clump),
    ]
    x.append(rng.uniform(grid.x1, grid.x1 + 3 * grid.cell_size, n_out))
    y.append(rng.uniform(grid.y0, grid.y1, n_out))
    return np.concatenate(x), np.concatenate(y)


def assert_one_percent_rule(approx: np.ndarray, exact: np.ndarray) -> None:
    """Relative error <= 1 % in every cell whose exact value exceeds 1 % of the peak."""
    assert exact.max() > 0
    studied = exact > 0.01 * exact.max()
    rel = np.abs(approx[studied] - exact[studied]) / exact[studied]
    assert rel.max() <= 0.01, f"max relative error {rel.max():.4f}"
    # Outside the studied cells the error stays small against the peak too.
    assert np.abs(approx - exact).max() <= 1e-3 * exact.max()


# --- against the direct sum ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("cells", [0.6, 1.0, 1.7, 2.5, 4.0, 10.0])
def test_matches_direct_sum_within_one_percent(kernel: str, cells: float) -> None:
    rng = np.random.default_rng(int(cells * 10))
    x, y = scattered(rng, GRID, 400)
    h = cells * GRID.cell_size
    fast = kde_grid(x, y, grid=GRID, bandwidth=h, kernel=kernel).density
    exact = kde_exact(x, y, grid=GRID, bandwidth=h, kernel=kernel).density
    assert_one_percent_rule(fast, exact)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("cells", [1.0, 2.5, 4.0])
def test_single_point_anywhere_within_one_percent(kernel: str, cells: float) -> None:
    # One point is the hardest case: every studied cell is fed by that point alone, out to the kernel's edge.
    rng = np.random.default_rng(7)
    grid = Grid(0.0, 0.0, 10.0, 30, 30)
    for px, py in rng.uniform(100.0, 200.0, (25, 2)):
        fast = kde_grid([px], [py], grid=grid, bandwidth=cells * 10.0, kernel=kernel).density
        exact = kde_exact([px], [py], grid=grid, bandwidth=cells * 10.0, kernel=kernel).density
        assert_one_percent_rule(fast, exact)


@pytest.mark.parametrize("cells", [0.4, 1.0, 2.5, 7.0])
def test_quartic_is_exact_to_rounding(cells: float) -> None:
    rng = np.random.default_rng(3)
    x, y = scattered(rng, GRID, 300)
    w = rng.uniform(0.0, 3.0, x.size)
    h = cells * GRID.cell_size
    fast = kde_grid(x, y, grid=GRID, bandwidth=h, weights=w).density
    exact = kde_exact(x, y, grid=GRID, bandwidth=h, weights=w).density
    np.testing.assert_allclose(fast, exact, rtol=1e-9, atol=1e-12 * exact.max())


# --- hand-computed values ----------------------------------------------------------------------------------------


def test_quartic_single_point_by_hand() -> None:
    grid = Grid(0.0, 0.0, 100.0, 5, 5)
    h = 250.0
    r = kde_grid([250.0], [250.0], grid=grid, bandwidth=h, kernel="quartic")
    peak = 3.0 / (math.pi * 0.25**2)  # per km², bandwidth 0.25 km
    assert r.density[2, 2] == pytest.approx(peak, rel=1e-12)
    assert r.density[2, 3] == pytest.approx(peak * (1 - (100 / h) ** 2) ** 2, rel=1e-12)
    assert r.density[3, 3] == pytest.approx(peak * (1 - 2 * (100 / h) ** 2) ** 2, rel=1e-12)
    assert r.density[2, 4] == pytest.approx(peak * (1 - (200 / h) ** 2) ** 2, rel=1e-12)
    assert r.density[4, 4] == 0.0  # 283 m away, beyond the radius
    assert r.density[0, 2] == pytest.approx(peak * (1 - (200 / h) ** 2) ** 2, rel=1e-12)


def test_gaussian_single_point_by_hand() -> None:
    grid = Grid(0.0, 0.0, 100.0, 7, 7)
    h = 200.0
    px, py = 330.0, 370.0
    r = kde_grid([px], [py], grid=grid, bandwidth=h, kernel="gaussian")
    cx, cy = grid.centres()
    expected = np.exp(-((cx - px) ** 2 + (cy - py) ** 2) / (2 * h * h)) / (2 * math.pi * 0.2**2)
    assert_one_percent_rule(r.density, expected)
    np.testing.assert_allclose(kde_exact([px], [py], grid=grid, bandwidth=h, kernel="gaussian").density, expected)


def test_exact_quartic_integrates_to_one() -> None:
    # A fine grid turns the sum over cells into the kernel's integral: checks the 3 / (π h²) factor.
    grid = Grid(-60.0, -60.0, 1.0, 120, 120)
    r = kde_exact([0.3], [-0.2], grid=grid, bandwidth=50.0, kernel="quartic")
    assert r.density.sum() * grid.cell_area / 1e6 == pytest.approx(1.0, abs=1e-4)


# --- scipy.stats.gaussian_kde -------------------------------------------------------------------------------------


def isotropic_sample(rng: np.random.Generator, n: int, sd: float, centre: tuple[float, float]) -> np.ndarray:
    """Points whose sample covariance (as np.cov computes it) is exactly sd² I."""
    raw = rng.normal(size=(2, n)) * [[3.0], [1.0]] + rng.normal(size=(2, n)) * 0.5
    raw -= raw.mean(axis=1, keepdims=True)
    chol = np.linalg.cholesky(np.cov(raw))
    return sd * np.linalg.solve(chol, raw) + np.asarray(centre)[:, None]


@pytest.mark.parametrize("cells", [1.3, 3.0])
def test_gaussian_matches_scipy_gaussian_kde(cells: float) -> None:
    # gaussian_kde's kernel covariance is the data covariance times factor². Data whitened to covariance
    # sd² I with bw_method = h / sd therefore give the isotropic kernel h² I that kde_grid uses.
    rng = np.random.default_rng(11)
    grid = Grid(500_000.0, 6_200_000.0, 20.0, 50, 40)
    sd, h = 150.0, cells * grid.cell_size
    pts = isotropic_sample(rng, 300, sd, (grid.x0 + 480.0, grid.y0 + 410.0))
    reference = gaussian_kde(pts, bw_method=h / sd)
    np.testing.assert_allclose(reference.covariance, h * h * np.eye(2), rtol=1e-9, atol=1e-9 * h * h)
    cx, cy = grid.centres()
    expected = reference(np.vstack([cx.ravel(), cy.ravel()])).reshape(grid.shape) * pts.shape[1] * 1e6

    fast = kde_grid(pts[0], pts[1], grid=grid, bandwidth=h, kernel="gaussian").density
    assert_one_percent_rule(fast, expected)
    exact = kde_exact(pts[0], pts[1], grid=grid, bandwidth=h, kernel="gaussian").density
    np.testing.assert_allclose(exact, expected, rtol=1e-8, atol=1e-12 * expected.max())


# --- properties ---------------------------------------------------------------------------------------------------

coordinate = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(
    kernel=st.sampled_from(KERNELS),
    cells=st.floats(2.5, 6.0),
    points=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=40),
)
def test_mass_is_preserved_away_from_the_edges(kernel: str, cells: float, points: list[tuple[float, float]]) -> None:
    grid = Grid(300_000.0, 6_500_000.0, 50.0, 80, 80)
    margin = 32 * grid.cell_size  # beyond both kernels' reach (5 bandwidths for the Gaussian)
    inner = grid.x1 - grid.x0 - 2 * margin
    x = np.array([grid.x0 + margin + p[0] * inner for p in points])
    y = np.array([grid.y0 + margin + p[1] * inner for p in points])
    r = kde_grid(x, y, grid=grid, bandwidth=cells * grid.cell_size, kernel=kernel)
    assert r.density.sum() * grid.cell_area / 1e6 == pytest.approx(len(points), rel=0.01)


@settings(max_examples=30, deadline=None)
@given(
    kernel=st.sampled_from(KERNELS),
    cells=st.floats(0.5, 5.0),
    shift=st.tuples(st.integers(-400, 400), st.integers(-400, 400)),
    seed=st.integers(0, 2**32 - 1),
)
def test_translation_by_whole_cells_gives_the_same_surface(
    kernel: str, cells: float, shift: tuple[int, int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x, y = scattered(rng, GRID, 60)
    h = cells * GRID.cell_size
    dx, dy = shift[0] * GRID.cell_size, shift[1] * GRID.cell_size
    moved = Grid(GRID.x0 + dx, GRID.y0 + dy, GRID.cell_size, GRID.nx, GRID.ny)
    a = kde_grid(x, y, grid=GRID, bandwidth=h, kernel=kernel).density
    b = kde_grid(x + dx, y + dy, grid=moved, bandwidth=h, kernel=kernel).density
    np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9 * a.max())


@settings(max_examples=20, deadline=None)
@given(kernel=st.sampled_from(KERNELS), cells=st.floats(0.5, 5.0), seed=st.integers(0, 2**32 - 1))
def test_order_of_points_does_not_matter(kernel: str, cells: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = scattered(rng, GRID, 80)
    w = rng.uniform(0.0, 2.0, x.size)
    order = rng.permutation(x.size)
    h = cells * GRID.cell_size
    a = kde_grid(x, y, grid=GRID, bandwidth=h, kernel=kernel, weights=w).density
    b = kde_grid(x[order], y[order], grid=GRID, bandwidth=h, kernel=kernel, weights=w[order]).density
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12 * a.max())


@settings(max_examples=20, deadline=None)
@given(
    kernel=st.sampled_from(KERNELS),
    cells=st.floats(0.5, 5.0),
    seed=st.integers(0, 2**32 - 1),
    counts=st.lists(st.integers(0, 3), min_size=1, max_size=30),
)
def test_integer_weights_equal_duplicated_points(kernel: str, cells: float, seed: int, counts: list[int]) -> None:
    rng = np.random.default_rng(seed)
    n = len(counts)
    x = rng.uniform(GRID.x0 - 50.0, GRID.x1 + 50.0, n)
    y = rng.uniform(GRID.y0 - 50.0, GRID.y1 + 50.0, n)
    h = cells * GRID.cell_size
    weighted = kde_grid(x, y, grid=GRID, bandwidth=h, kernel=kernel, weights=counts)
    repeated = kde_grid(np.repeat(x, counts), np.repeat(y, counts), grid=GRID, bandwidth=h, kernel=kernel)
    np.testing.assert_allclose(weighted.density, repeated.density, rtol=1e-9, atol=1e-12 * max(1.0, n))
    assert weighted.total_weight == repeated.total_weight == sum(counts)


# --- edges of the grid --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_points_outside_the_grid_count_where_their_kernel_reaches(kernel: str) -> None:
    grid = Grid(0.0, 0.0, 10.0, 20, 20)
    h = 30.0
    near = kde_grid([-12.0], [95.0], grid=grid, bandwidth=h, kernel=kernel)
    assert near.density[:, 0].max() > 0
    assert_one_percent_rule(near.density, kde_exact([-12.0], [95.0], grid=grid, bandwidth=h, kernel=kernel).density)
    far = kde_grid([-1000.0, 5000.0], [95.0, 95.0], grid=grid, bandwidth=h, kernel=kernel)
    assert not far.density.any()
    assert far.n_points == 2 and far.total_weight == 2.0


@pytest.mark.parametrize("kernel", KERNELS)
def test_mass_spilling_over_the_edge_is_lost(kernel: str) -> None:
    grid = Grid(0.0, 0.0, 10.0, 40, 40)
    # A point on the left edge: half its kernel lies outside the grid.
    r = kde_grid([0.0], [200.0], grid=grid, bandwidth=40.0, kernel=kernel)
    assert r.density.sum() * grid.cell_area / 1e6 == pytest.approx(0.5, rel=0.02)


def test_result_describes_its_inputs() -> None:
    r = kde_grid([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], grid=GRID, bandwidth=80.0, kernel="gaussian", weights=[1, 0, 2.5])
    assert isinstance(r, KDEResult)
    assert r.grid == GRID and r.bandwidth == 80.0 and r.kernel == "gaussian"
    assert r.n_points == 3 and r.total_weight == 3.5
    assert r.density.shape == GRID.shape and r.density.dtype == np.float64
    with pytest.raises(AttributeError):
        r.bandwidth = 1.0  # type: ignore[misc]


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [kde_grid, kde_exact])
@pytest.mark.parametrize("kernel", KERNELS)
def test_no_points_give_an_all_zero_surface(fn, kernel: str) -> None:
    r = fn([], [], grid=GRID, bandwidth=50.0, kernel=kernel)
    assert r.density.shape == GRID.shape and not r.density.any()
    assert r.n_points == 0 and r.total_weight == 0.0


@pytest.mark.parametrize("fn", [kde_grid, kde_exact])
@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1.0, np.nan], [1.0, 2.0], "^x contains NaN"),
        ([1.0, 2.0], [np.inf, 2.0], "^y contains NaN or infinite"),
        ([1.0, 2.0], [1.0], "same length"),
    ],
)
def test_bad_coordinates_are_refused(fn, x: list[float], y: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fn(x, y, grid=GRID, bandwidth=50.0)


@pytest.mark.parametrize("fn", [kde_grid, kde_exact])
@pytest.mark.parametrize("bandwidth", [0.0, -5.0, np.nan, np.inf])
def test_bandwidth_must_be_positive(fn, bandwidth: float) -> None:
    with pytest.raises(ValueError, match="bandwidth"):
        fn([1.0], [1.0], grid=GRID, bandwidth=bandwidth)


@pytest.mark.parametrize("fn", [kde_grid, kde_exact])
def test_unknown_kernel_is_refused(fn) -> None:
    with pytest.raises(ValueError, match="kernel"):
        fn([1.0], [1.0], grid=GRID, bandwidth=50.0, kernel="epanechnikov")


@pytest.mark.parametrize("fn", [kde_grid, kde_exact])
@pytest.mark.parametrize(
    ("weights", "message"),
    [([1.0, -0.5], ">= 0"), ([1.0], "one value per point"), ([1.0, np.nan], "NaN")],
)
def test_bad_weights_are_refused(fn, weights: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=f"weights.*{message}"):
        fn([1.0, 2.0], [1.0, 2.0], grid=GRID, bandwidth=50.0, weights=weights)


def test_grid_must_be_a_grid() -> None:
    with pytest.raises(TypeError, match="grid"):
        kde_grid([1.0], [1.0], grid=(0, 0, 10, 5, 5), bandwidth=50.0)  # type: ignore[arg-type]
