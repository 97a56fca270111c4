"""Gi*, FDR labels, Mann–Kendall and emerging hot spots against esda, libpysal, scipy and hand-computed cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from samverkan.analysis.hotspots import (
    EMERGING_CATEGORIES,
    benjamini_hochberg,
    emerging_hotspots,
    gi_star,
    mann_kendall,
)

CELL = 100.0


def esda_gi_star(counts: np.ndarray, radius: float, mask: np.ndarray | None = None):
    """esda's Gi* on the studied cells' centres, with DistanceBand weights and esda's own self-weights."""
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    ny, nx = counts.shape
    studied = np.ones((ny, nx), bool) if mask is None else mask
    # A real SWEREF 99 TM origin, so centre coordinates are large numbers as in production.
    xs, ys = np.meshgrid(425000.0 + (np.arange(nx) + 0.5) * CELL, 6142000.0 + (np.arange(ny) + 0.5) * CELL)
    pts = np.column_stack([xs[studied], ys[studied]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands when radius < cell size
        w = libpysal.weights.DistanceBand(pts, threshold=radius, binary=True, silence_warnings=True)
        assert np.all(w.sparse.diagonal() == 0)  # the self-weight below is esda's doing, not the weights'
        return esda.G_Local(counts[studied], w, star=True, transform="B", permutations=0)


def clustered(seed: int, shape=(15, 20)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.poisson(3.0, shape).astype(float)
    c[3:6, 4:8] += rng.poisson(6.0, (3, 4))
    c[9:13, 12:16] = rng.poisson(0.3, (4, 4))
    return c


# --- agreement with esda -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [50.0, 100.0, 150.0, 250.0, 500.0])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_z_and_p_equal_esda(radius: float, masked: bool, seed: int) -> None:
    counts = clustered(seed)
    mask = np.random.default_rng(100 + seed).random(counts.shape) > 0.3 if masked else None
    ours = gi_star(counts, radius=radius, cell_size=CELL, mask=mask)
    ref = esda_gi_star(counts, radius, mask)
    studied = np.ones(counts.shape, bool) if mask is None else mask
    np.testing.assert_allclose(ours.z[studied], ref.Zs, rtol=0, atol=1e-8)
    # esda's p_norm is one-sided.
    np.testing.assert_allclose(ours.p[studied], 2 * ref.p_norm, rtol=0, atol=1e-12)
    assert np.all(np.isnan(ours.z[~studied])) and np.all(np.isnan(ours.p[~studied]))
    assert ours.n_cells == int(studied.sum())


def test_radius_on_a_diagonal_distance_matches_esda_with_float_counts() -> None:
    # radius 500 m holds (3, 4) and (5, 0) offsets at exactly 500 m: ties must be inside, as in DistanceBand.
    counts = np.random.default_rng(3).gamma(1.5, 2.0, (15, 20))
    ours = gi_star(counts, radius=500.0, cell_size=CELL)
    ref = esda_gi_star(counts, 500.0)
    np.testing.assert_allclose(ours.z.ravel(), ref.Zs, rtol=0, atol=1e-8)


def test_whole_and_fractional_counts_agree() -> None:
    # z is scale-free, so halving the counts must not change it. Halved counts have fractional neighbourhood
    # sums and are computed cell by cell; whole counts are grouped by (sum, neighbour count).
    counts = clustered(7, shape=(30, 40))
    mask = np.random.default_rng(17).random(counts.shape) > 0.2
    for radius in (150.0, 400.0):
        whole = gi_star(counts, radius=radius, cell_size=CELL, mask=mask)
        half = gi_star(counts / 2, radius=radius, cell_size=CELL, mask=mask)
        np.testing.assert_allclose(half.z[mask], esda_gi_star(counts / 2, radius, mask).Zs, rtol=0, atol=1e-8)
        np.testing.assert_allclose(half.z, whole.z, rtol=0, atol=1e-12, equal_nan=True)
        np.testing.assert_array_equal(half.label, whole.label)
        for res in (whole, half):
            adjusted = stats.false_discovery_control(res.p[mask], method="bh")
            np.testing.assert_allclose(res.p_fdr[mask], adjusted, rtol=1e-13, atol=1e-15)


def test_masked_out_cells_are_not_neighbours() -> None:
    counts = clustered(4)
    mask = np.ones(counts.shape, bool)
    mask[:, 10] = False
    changed = counts.copy()
    changed[:, 10] = 1000.0  # huge values in a masked-out column must not leak into neighbour sums
    a = gi_star(counts, radius=250.0, cell_size=CELL, mask=mask)
    b = gi_star(changed, radius=250.0, cell_size=CELL, mask=mask)
    np.testing.assert_array_equal(a.z, b.z)


def test_nan_outside_the_mask_is_allowed() -> None:
    counts = clustered(5)
    mask = np.ones(counts.shape, bool)
    mask[0, :] = False
    with_nan = counts.copy()
    with_nan[0, :] = np.nan
    a = gi_star(counts, radius=150.0, cell_size=CELL, mask=mask)
    b = gi_star(with_nan, radius=150.0, cell_size=CELL, mask=mask)
    np.testing.assert_array_equal(a.z, b.z)


# --- hand-computed and degenerate cases ----------------------------------------------------------------------------


def test_hand_computed_row_of_five() -> None:
    # counts 1 2 3 4 10 in a row, radius one cell: sums 3 6 9 17 14, k 2 3 3 3 2, n 5, mean 4, variance 10.
    # k(n-k)/(n-1) = 1.5 for k = 2 and 3, so every denominator is sqrt(10 * 1.5) = sqrt(15).
    res = gi_star(np.array([[1.0, 2.0, 3.0, 4.0, 10.0]]), radius=1.0, cell_size=1.0)
    expected = np.array([3 - 8, 6 - 12, 9 - 12, 17 - 12, 14 - 8]) / math.sqrt(15.0)
    np.testing.assert_allclose(res.z[0], expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(res.p[0], 2 * stats.norm.sf(np.abs(expected)), rtol=1e-12)


def test_radius_below_cell_size_gives_standardised_counts() -> None:
    counts = clustered(6)
    res = gi_star(counts, radius=60.0, cell_size=CELL)
    np.testing.assert_allclose(res.z, stats.zscore(counts, axis=None), rtol=0, atol=1e-12)


def test_zero_variance_reports_no_evidence() -> None:
    res = gi_star(np.full((6, 7), 2.0), radius=150.0, cell_size=CELL, permutations=19, rng=0)
    assert np.all(res.z == 0) and np.all(res.p == 1) and np.all(res.label == 0)
    assert res.p_sim is not None and np.all(res.p_sim == 1)


def test_neighbourhood_holding_every_cell_reports_no_evidence() -> None:
    counts = np.array([[0.0, 1.0, 5.0], [2.0, 9.0, 0.0], [1.0, 1.0, 3.0]])
    res = gi_star(counts, radius=150.0, cell_size=CELL)
    ref = esda_gi_star(counts, 150.0)
    # Only the centre cell reaches all nine cells; esda divides 0 by 0 there.
    assert not np.isfinite(ref.Zs[4])
    assert res.z[1, 1] == 0 and res.p[1, 1] == 1
    others = np.arange(9) != 4
    np.testing.assert_allclose(res.z.ravel()[others], ref.Zs[others], rtol=0, atol=1e-8)


# --- FDR and labels ------------------------------------------------------------------------------------------------


def test_benjamini_hochberg_equals_scipy() -> None:
    rng = np.random.default_rng(8)
    p = np.concatenate([rng.uniform(size=300), rng.uniform(0, 0.01, 40), [0.02, 0.02, 0.02, 0.0, 1.0]])
    np.testing.assert_allclose(benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), atol=1e-15)


def test_benjamini_hochberg_ignores_nan_and_keeps_shape() -> None:
    rng = np.random.default_rng(9)
    p = rng.uniform(0, 0.2, (6, 5))
    p[0, :] = np.nan
    out = benjamini_hochberg(p)
    assert out.shape == p.shape and np.all(np.isnan(out[0]))
    np.testing.assert_allclose(out[1:].ravel(), stats.false_discovery_control(p[1:].ravel()), atol=1e-15)


def test_benjamini_hochberg_orders_values_one_ulp_apart() -> None:
    up = float(np.nextafter(0.3, 1.0))
    p = np.array([up, 0.3, 0.01, 0.5, up, 0.3])
    np.testing.assert_array_equal(benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"))


@pytest.mark.parametrize("bad", [[0.1, 1.5], [-0.01, 0.2], [0.1, np.inf]])
def test_benjamini_hochberg_refuses_values_outside_unit_interval(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="p must"):
        benjamini_hochberg(bad)


def test_labels_follow_fdr_adjusted_p() -> None:
    counts = clustered(10, shape=(30, 40))
    mask = np.ones(counts.shape, bool)
    mask[:5, :5] = False
    res = gi_star(counts, radius=150.0, cell_size=CELL, mask=mask)
    adjusted = stats.false_discovery_control(res.p[mask], method="bh")
    np.testing.assert_allclose(res.p_fdr[mask], adjusted, atol=1e-15)
    level = np.select([adjusted <= 0.01, adjusted <= 0.05, adjusted <= 0.10], [3, 2, 1], 0)
    expected = (np.sign(res.z[mask]) * level).astype(int)
    np.testing.assert_array_equal(res.label[mask], expected)
    assert np.all(res.label[~mask] == 0)
    assert {3, -3} <= set(np.unique(res.label).tolist())  # both hot and cold spots present
    # Some cells are significant on the raw p but not after the correction.
    assert np.any((res.p[mask] <= 0.05) & (res.label[mask] == 0))


# --- permutation inference -----------------------------------------------------------------------------------------


def test_permutation_p_matches_exact_enumeration() -> None:
    # Row 1 2 3 4 10, radius one cell. E.g. the middle cell holds 3 and draws 2 of {1, 2, 4, 10}: sums
    # 6 8 14 9 15 17 against the observed 9 → 4/6 at least, 3/6 at most → p ≈ 0.5.
    res = gi_star(np.array([[1.0, 2.0, 3.0, 4.0, 10.0]]), radius=1.0, cell_size=1.0, permutations=20000, rng=1)
    assert res.p_sim is not None
    np.testing.assert_allclose(res.p_sim[0], [1 / 4, 1 / 6, 1 / 2, 1 / 6, 1 / 4], atol=0.015)


def test_permutation_p_agrees_with_esda_on_continuous_data() -> None:
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    counts = np.random.default_rng(11).gamma(2.0, 1.0, (15, 20))
    xs, ys = np.meshgrid((np.arange(20) + 0.5) * CELL, (np.arange(15) + 0.5) * CELL)
    w = libpysal.weights.DistanceBand(np.column_stack([xs.ravel(), ys.ravel()]), threshold=250.0, binary=True)
    ref = esda.G_Local(counts.ravel(), w, star=True, transform="B", permutations=9999, seed=1)
    ours = gi_star(counts, radius=250.0, cell_size=CELL, permutations=9999, rng=2)
    assert ours.p_sim is not None
    diff = np.abs(ours.p_sim.ravel() - ref.p_sim)
    assert diff.mean() < 0.012 and diff.max() < 0.05


def test_permutation_p_counts_ties_on_both_sides() -> None:
    # A cell whose neighbourhood is all zeros in sparse data: its sum 0 is the most likely simulated sum, so
    # the pseudo p is about P(simulated sum = 0), a hypergeometric probability, not 1/(P+1).
    counts = np.zeros((15, 20))
    counts.flat[np.random.default_rng(12).choice(300, 30, replace=False)] = 1.0
    res = gi_star(counts, radius=100.0, cell_size=CELL, permutations=4999, rng=3)
    assert res.p_sim is not None
    interior = np.zeros(counts.shape, bool)
    interior[1:-1, 1:-1] = True
    # Rook neighbourhood at radius one cell; wrap-around from np.roll never reaches interior cells.
    sums = counts + sum(np.roll(counts, s, a) for s in (1, -1) for a in (0, 1))
    cells = np.argwhere(interior & (sums == 0))
    assert len(cells) > 0
    i, j = cells[0]
    # Four other cells drawn from 299, of which 30 are ones (the cell itself is 0).
    p_zero = stats.hypergeom(299, 30, 4).pmf(0)
    assert abs(res.p_sim[i, j] - p_zero) < 0.03


def test_null_p_values_are_uniform() -> None:
    rng = np.random.default_rng(13)
    p, p_sim = [], []
    for _ in range(500):
        r = gi_star(rng.gamma(4.0, 1.0, (12, 12)), radius=150.0, cell_size=CELL, permutations=199, rng=rng)
        assert r.p_sim is not None
        p.append(r.p[6, 6])
        p_sim.append(r.p_sim[6, 6])
    assert stats.kstest(p, "uniform").pvalue > 0.001
    # The folded pseudo p lives on (0, 0.5]; doubled it is uniform.
    assert stats.kstest(np.minimum(2 * np.array(p_sim), 1.0), "uniform").pvalue > 0.001


def test_permutations_are_reproducible_with_a_seed() -> None:
    counts = clustered(14)
    a = gi_star(counts, radius=150.0, cell_size=CELL, permutations=99, rng=5)
    b = gi_star(counts, radius=150.0, cell_size=CELL, permutations=99, rng=np.random.default_rng(5))
    assert a.p_sim is not None and b.p_sim is not None
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    assert gi_star(counts, radius=150.0, cell_size=CELL).p_sim is None


# --- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"counts": np.ones(10)}, "2-D"),
        ({"counts": np.ones((1, 1))}, "at least 2"),
        ({"mask": np.ones((4, 4), bool)}, "mask must have the shape"),
        ({"mask": np.eye(5, 6, dtype=bool) & False}, "at least 2 cells"),
        ({"radius": 0.0}, "radius"),
        ({"radius": -5.0}, "radius"),
        ({"radius": float("nan")}, "radius"),
        ({"cell_size": 0.0}, "cell_size"),
        ({"permutations": -1}, "permutations"),
        ({"permutations": 9.5}, "permutations"),
        ({"permutations": 9}, "rng"),
    ],
)
def test_gi_star_refuses_bad_arguments(kwargs: dict, message: str) -> None:
    args = {"counts": np.arange(30.0).reshape(5, 6), "radius": 150.0, "cell_size": CELL}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        gi_star(**args)


@pytest.mark.parametrize(("value", "message"), [(np.nan, "NaN"), (np.inf, "NaN or infinite"), (-1.0, ">= 0")])
def test_gi_star_refuses_bad_counts(value: float, message: str) -> None:
    counts = np.arange(30.0).reshape(5, 6)
    counts[2, 3] = value
    with pytest.raises(ValueError, match=message):
        gi_star(counts, radius=150.0, cell_size=CELL)


# --- Mann–Kendall --------------------------------------------------------------------------------------------------


def test_mann_kendall_equals_kendalltau_without_ties() -> None:
    x = np.random.default_rng(15).normal(size=(20, 40))
    x[:, 0] = np.arange(20.0)  # a perfect trend as well
    res = mann_kendall(x, continuity=False)
    t = np.arange(20)
    for j in range(x.shape[1]):
        ref = stats.kendalltau(t, x[:, j], method="asymptotic")
        assert res.s[j] == pytest.approx(ref.statistic * 20 * 19 / 2, abs=1e-9)
        assert res.p[j] == pytest.approx(ref.pvalue, rel=1e-10)


def test_mann_kendall_tie_correction_equals_kendalltau() -> None:
    x = np.round(np.random.default_rng(16).normal(size=(25, 30)))  # many ties
    res = mann_kendall(x, continuity=False)
    t = np.arange(25)
    n0 = 25 * 24 / 2
    for j in range(x.shape[1]):
        ref = stats.kendalltau(t, x[:, j], method="asymptotic")
        _, sizes = np.unique(x[:, j], return_counts=True)
        n2 = float(np.sum(sizes * (sizes - 1) / 2))
        assert res.s[j] == pytest.approx(ref.statistic * math.sqrt(n0 * (n0 - n2)), abs=1e-9)
        assert res.p[j] == pytest.approx(ref.pvalue, rel=1e-10)


def test_mann_kendall_hand_computed_with_continuity() -> None:
    # 1..5: S = 10, Var = 5*4*15/18 = 50/3, z = 9 / sqrt(50/3).
    res = mann_kendall([1.0, 2.0, 3.0, 4.0, 5.0])
    assert float(res.s) == 10 and float(res.var_s) == pytest.approx(50 / 3)
    assert float(res.z) == pytest.approx(9 / math.sqrt(50 / 3))
    # 3 1 3 1 5: 5 pairs rise, 3 fall, 2 tie, so S = 2; two tied pairs give Var = (5*4*15 - 2*(2*1*9))/18.
    tied = mann_kendall([3.0, 1.0, 3.0, 1.0, 5.0])
    assert float(tied.s) == 2 and float(tied.var_s) == pytest.approx(264 / 18)
    assert float(tied.z) == pytest.approx(1 / math.sqrt(264 / 18))
    flat = mann_kendall(np.zeros(6))
    assert float(flat.z) == 0 and float(flat.p) == 1


@pytest.mark.parametrize("series", [[1.0, 2.0], [1.0, np.nan, 3.0, 4.0]])
def test_mann_kendall_refuses_bad_series(series: list[float]) -> None:
    with pytest.raises(ValueError, match="series"):
        mann_kendall(series)


# --- emerging hot spots --------------------------------------------------------------------------------------------


def cube(extra: list[float], *, seed: int = 0, background: float = 2.0, cold_slices: tuple[int, ...] = ()):
    """Poisson background on 15 x 15 cells, ``extra`` added to a 3 x 3 block per slice, zeros in a 5 x 5 block."""
    rng = np.random.default_rng(seed)
    c = rng.poisson(background, (len(extra), 15, 15)).astype(float)
    for t, e in enumerate(extra):
        c[t, 6:9, 6:9] += e
    for t in cold_slices:
        c[t, 5:10, 5:10] = 0.0
    return c


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([0] * 9 + [12], "new_hot"),
        ([0] * 7 + [12] * 3, "consecutive_hot"),
        ([0, 0] + [12] * 8, "consecutive_hot"),  # a run of 80 % is not yet persistent
        ([4 + 2 * t for t in range(10)], "intensifying_hot"),
        ([10] * 10, "persistent_hot"),
        ([24 - 2 * t for t in range(10)], "diminishing_hot"),
        ([0, 0, 12, 0, 0, 12, 0, 0, 0, 12], "sporadic_hot"),
        ([12] * 9 + [0], "historical_hot"),
        ([12] * 8 + [0, 0], "no_pattern"),  # hot in only 80 % of the slices
        ([0] * 10, "no_pattern"),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_emerging_categories_on_built_cubes(extra: list[float], expected: str, seed: int) -> None:
    res = emerging_hotspots(cube(extra, seed=seed), radius=150.0, cell_size=CELL)
    assert res.category[7, 7] == expected
    assert set(np.unique(res.category).tolist()) <= set(EMERGING_CATEGORIES)


def test_emerging_cold_side_and_oscillation() -> None:
    osc = emerging_hotspots(cube([0] * 9 + [12], background=5.0, cold_slices=(1, 2, 3)), radius=150.0, cell_size=CELL)
    assert osc.category[7, 7] == "oscillating_hot"
    new_cold = emerging_hotspots(cube([0] * 10, background=5.0, cold_slices=(9,)), radius=150.0, cell_size=CELL)
    assert new_cold.category[7, 7] == "new_cold"
    persistent = emerging_hotspots(
        cube([0] * 10, background=5.0, cold_slices=tuple(range(10))), radius=150.0, cell_size=CELL
    )
    assert persistent.category[7, 7] == "persistent_cold"


def test_emerging_uses_gi_star_per_slice_and_mann_kendall_per_cell() -> None:
    counts = cube([4 + 2 * t for t in range(10)], seed=2)
    mask = np.ones((15, 15), bool)
    mask[0] = False
    res = emerging_hotspots(counts, radius=150.0, cell_size=CELL, mask=mask)
    for t in (0, 9):
        single = gi_star(counts[t], radius=150.0, cell_size=CELL, mask=mask)
        np.testing.assert_array_equal(res.z[t], single.z)
        np.testing.assert_array_equal(res.p_fdr[t], single.p_fdr)
    mk = mann_kendall(res.z[:, 7, 7])
    assert res.trend_s[7, 7] == float(mk.s) and res.trend_p[7, 7] == float(mk.p)
    assert np.all(res.category[0] == "") and np.all(np.isnan(res.trend_z[0]))
    expected_sig = np.where(res.p_fdr <= 0.05, np.sign(res.z), 0)
    np.testing.assert_array_equal(res.significant, np.nan_to_num(expected_sig).astype(np.int8))


def test_emerging_survives_an_empty_week() -> None:
    counts = cube([0] * 4 + [12] * 6)
    counts[2] = 0.0  # a slice without incidents: zero variance, Gi* reports no evidence
    res = emerging_hotspots(counts, radius=150.0, cell_size=CELL)
    assert np.all(res.z[2] == 0)
    assert res.category[7, 7] == "consecutive_hot"


@pytest.mark.parametrize(
    ("counts", "kwargs", "message"),
    [
        (np.ones((10, 5)), {}, "3-D"),
        (np.ones((2, 5, 5)), {}, "at least 3 time slices"),
        (np.ones((4, 5, 5)), {"alpha": 0.0}, "alpha"),
        (np.ones((4, 5, 5)), {"alpha": 1.5}, "alpha"),
        (np.ones((4, 5, 5)), {"mask": np.ones((4, 4), bool)}, "mask"),
        (np.full((4, 5, 5), -1.0), {}, ">= 0"),
    ],
)
def test_emerging_refuses_bad_input(counts: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        emerging_hotspots(counts, radius=150.0, cell_size=CELL, **kwargs)
