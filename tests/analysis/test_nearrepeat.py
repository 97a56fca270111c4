from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from samverkan.analysis.nearrepeat import knox_test

D_EDGES = np.array([0.0, 100.0, 200.0, 400.0])
T_EDGES = np.array([0.0, 7.0, 14.0, 21.0])


def _brute_table(x, y, t, d_edges, t_edges):
    """Knox table from every pair (i < j), O(n²)."""
    d = pdist(np.column_stack([x, y]))
    dt = pdist(np.asarray(t, dtype=float)[:, None], metric="cityblock")
    db = np.searchsorted(d_edges, d, side="right") - 1
    tb = np.searchsorted(t_edges, dt, side="right") - 1
    keep = (db >= 0) & (db < d_edges.size - 1) & (tb >= 0) & (tb < t_edges.size - 1)
    k, l_ = d_edges.size - 1, t_edges.size - 1
    return np.bincount(db[keep] * l_ + tb[keep], minlength=k * l_).reshape(k, l_)


def _lattice_events(n, seed):
    """Points on a 20 m lattice and whole or half days, so that many pairs sit exactly on band edges."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 40, n) * 20.0
    y = rng.integers(0, 40, n) * 20.0
    t = rng.integers(0, 120, n) + rng.choice([0.0, 0.5], n)
    return x, y, t


def test_counts_equal_brute_force_including_pairs_on_band_edges():
    x, y, t = _lattice_events(400, 1)
    d = pdist(np.column_stack([x, y]))
    dt = pdist(t[:, None], metric="cityblock")
    # The data must exercise the half-open edges, or this test could not catch an off-by-one.
    assert np.count_nonzero(np.isin(d, D_EDGES)) > 50
    assert np.count_nonzero(np.isin(dt, T_EDGES)) > 50
    res = knox_test(x, y, t, distance_bands=D_EDGES, time_bands=T_EDGES, permutations=9, rng=0)
    np.testing.assert_array_equal(res.observed, _brute_table(x, y, t, D_EDGES, T_EDGES))
    assert res.n_pairs_considered == np.count_nonzero(d < 400.0)
    assert res.n_events == 400


def test_counts_equal_brute_force_with_a_band_not_starting_at_zero():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1500, 300), rng.uniform(0, 1500, 300)
    t = rng.uniform(0, 200, 300)
    d_edges = np.array([50.0, 150.0, 275.5])
    t_edges = np.array([1.0, 3.0, 10.0, 30.0])
    res = knox_test(x, y, t, distance_bands=d_edges, time_bands=t_edges, permutations=1, rng=0)
    np.testing.assert_array_equal(res.observed, _brute_table(x, y, t, d_edges, t_edges))
    d = pdist(np.column_stack([x, y]))
    assert res.n_pairs_considered == np.count_nonzero((d >= 50.0) & (d < 275.5))


def test_expected_and_p_equal_brute_force_permutations():
    x, y, t = _lattice_events(200, 3)
    perms = 19
    res = knox_test(x, y, t, distance_bands=D_EDGES, time_bands=T_EDGES, permutations=perms, rng=42)
    gen = np.random.default_rng(42)
    sims = np.array([_brute_table(x, y, gen.permutation(t), D_EDGES, T_EDGES) for _ in range(perms)])
    obs = _brute_table(x, y, t, D_EDGES, T_EDGES)
    np.testing.assert_allclose(res.expected, sims.mean(axis=0))
    np.testing.assert_allclose(res.p, (1 + (sims >= obs).sum(axis=0)) / (1 + perms))
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_allclose(res.ratio, obs / sims.mean(axis=0))


def test_result_does_not_depend_on_event_order():
    x, y, t = _lattice_events(300, 4)
    a = knox_test(x, y, t, distance_bands=D_EDGES, time_bands=T_EDGES, permutations=1, rng=0)
    o = np.random.default_rng(5).permutation(300)
    b = knox_test(x[o], y[o], t[o], distance_bands=D_EDGES, time_bands=T_EDGES, permutations=1, rng=0)
    np.testing.assert_array_equal(a.observed, b.observed)


def test_p_values_are_roughly_uniform_without_interaction():
    rng = np.random.default_rng(6)
    ps = []
    for _ in range(60):
        x, y = rng.uniform(0, 2000, 250), rng.uniform(0, 2000, 250)
        t = rng.uniform(0, 365, 250)
        res = knox_test(x, y, t, distance_bands=[0, 200, 400], time_bands=[0, 14, 28], permutations=39, rng=rng)
        ps.append(res.p.ravel())
    p = np.concatenate(ps)
    assert 0.4 < p.mean() < 0.6
    assert np.mean(p <= 0.05) < 0.1
    assert np.mean(p <= 0.5) == pytest.approx(0.5, abs=0.1)


def _near_repeat_events(seed):
    """Background burglaries plus, for 40 % of them, a repeat within 60 m and 6 days."""
    rng = np.random.default_rng(seed)
    n = 600
    x, y = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    t = rng.uniform(0, 730, n)
    src = rng.random(n) < 0.4
    angle = rng.uniform(0, 2 * np.pi, src.sum())
    r = rng.uniform(0, 60, src.sum())
    xr = x[src] + r * np.cos(angle)
    yr = y[src] + r * np.sin(angle)
    tr = t[src] + rng.uniform(0, 6, src.sum())
    return np.r_[x, xr], np.r_[y, yr], np.r_[t, tr]


def test_p_is_small_and_ratio_high_for_a_near_repeat_process():
    x, y, t = _near_repeat_events(7)
    res = knox_test(x, y, t, distance_bands=D_EDGES, time_bands=T_EDGES, permutations=99, rng=8)
    assert res.p[0, 0] == pytest.approx(0.01)
    assert res.ratio[0, 0] > 3
    # Far-apart times carry no extra pairs.
    assert res.p[2, 2] > 0.05


def test_seeded_runs_are_reproducible():
    x, y, t = _near_repeat_events(9)
    kw = {"distance_bands": D_EDGES, "time_bands": T_EDGES, "permutations": 29}
    a = knox_test(x, y, t, rng=123, **kw)
    b = knox_test(x, y, t, rng=np.random.default_rng(123), **kw)
    c = knox_test(x, y, t, rng=124, **kw)
    np.testing.assert_array_equal(a.expected, b.expected)
    np.testing.assert_array_equal(a.p, b.p)
    np.testing.assert_array_equal(a.observed, c.observed)
    assert not np.array_equal(a.expected, c.expected)


def test_result_fields():
    x, y, t = _lattice_events(100, 10)
    res = knox_test(x, y, t, distance_bands=[0, 100, 400], time_bands=[0, 7, 14, 28], permutations=5, rng=1)
    assert res.observed.shape == (2, 3)
    assert res.expected.shape == (2, 3)
    assert res.permutations == 5
    np.testing.assert_array_equal(res.distance_bands, [0, 100, 400])
    np.testing.assert_array_equal(res.time_bands, [0, 7, 14, 28])
    assert np.all((res.p > 0) & (res.p <= 1))


def test_no_close_pairs_gives_nan_ratio_and_p_one():
    x = np.array([0.0, 10_000.0, 20_000.0])
    res = knox_test(x, np.zeros(3), [0.0, 1.0, 2.0], distance_bands=D_EDGES, time_bands=T_EDGES, rng=0)
    assert res.n_pairs_considered == 0
    assert not res.observed.any()
    assert np.all(np.isnan(res.ratio))
    assert np.all(res.p == 1.0)


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_events_is_a_documented_empty_result(n):
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    res = knox_test(np.zeros(n), np.zeros(n), np.zeros(n), distance_bands=D_EDGES, time_bands=T_EDGES, rng=gen)
    assert res.n_events == n
    assert res.observed.shape == (3, 3)
    assert not res.observed.any()
    assert not res.expected.any()
    assert np.all(np.isnan(res.ratio))
    assert np.all(res.p == 1.0)
    assert gen.bit_generator.state == state


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": [0.0, np.nan, 1.0]}, "x"),
        ({"y": [0.0, 1.0]}, "same length"),
        ({"t": [0.0, np.inf, 1.0]}, "t contains"),
        ({"t": [0.0, 1.0]}, "t must have"),
        ({"distance_bands": [0, 200, 100]}, "distance_bands"),
        ({"distance_bands": [0, 100, 100]}, "distance_bands"),
        ({"distance_bands": [100]}, "distance_bands"),
        ({"distance_bands": [-10, 100]}, "distance_bands"),
        ({"distance_bands": [0, np.nan]}, "distance_bands"),
        ({"time_bands": [7, 0]}, "time_bands"),
        ({"time_bands": []}, "time_bands"),
        ({"permutations": 0}, "permutations"),
        ({"permutations": 2.5}, "permutations"),
        ({"rng": None}, "rng"),
    ],
)
def test_refuses_bad_input(kwargs, match):
    args = {
        "x": [0.0, 1.0, 2.0],
        "y": [0.0, 1.0, 2.0],
        "t": [0.0, 1.0, 2.0],
        "distance_bands": D_EDGES,
        "time_bands": T_EDGES,
        "permutations": 9,
        "rng": 0,
    }
    args.update(kwargs)
    x, y, t = args.pop("x"), args.pop("y"), args.pop("t")
    with pytest.raises(ValueError, match=match):
        knox_test(x, y, t, **args)
