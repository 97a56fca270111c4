"""Tests for samverkan.analysis.forecast: scores, hit rate/PAI/PEI, back-test."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest

from samverkan.analysis.forecast import (
    Backtest,
    NaiveCounts,
    ProspectiveHotspots,
    RetrospectiveKDE,
    backtest,
    flag_cells,
    hit_rate_pai,
    naive_counts,
    prospective_hotspots,
    retrospective_kde,
)
from samverkan.analysis.grid import Grid
from samverkan.analysis.kde import kde_grid

CS = 100.0


def centre(grid: Grid, i: int, j: int) -> tuple[float, float]:
    return grid.x0 + (j + 0.5) * grid.cell_size, grid.y0 + (i + 0.5) * grid.cell_size


# --- naive counts -----------------------------------------------------------------------------------------------


def test_naive_counts_window_is_half_open_and_counts_per_cell():
    g = Grid(0.0, 0.0, CS, 4, 3)
    x = [50, 50, 150, 150, 350, 350]
    y = [50, 50, 50, 250, 250, 250]
    t = [90.0, 99.9, 95.0, 70.0, 100.0, 89.99]  # at=100, lookback=10 keeps t in [90, 100)
    score = naive_counts(x, y, t, grid=g, at=100.0, lookback=10.0, history=None)
    expected = np.zeros((3, 4))
    expected[0, 0] = 2
    expected[0, 1] = 1
    np.testing.assert_array_equal(score, expected)


def test_naive_counts_history_breaks_ties_without_reordering_recent_counts():
    g = Grid(0.0, 0.0, CS, 3, 1)
    # Cell 0: 1 recent, 1 older. Cell 1: 1 recent, 5 older. Cell 2: 2 recent, 0 older.
    x = [50, 50, 150] + [150] * 5 + [250, 250]
    t = [95, 50, 95] + [40] * 5 + [96, 97]
    y = [50] * len(x)
    score = naive_counts(x, y, t, grid=g, at=100.0, lookback=10.0, history=365.0)
    np.testing.assert_array_equal(np.floor(score), [[1, 1, 2]])
    assert score[0, 2] > score[0, 1] > score[0, 0]
    # history counts 2, 6, 2; max 6, so the fractions are 2/7, 6/7, 2/7
    np.testing.assert_allclose(score, [[1 + 2 / 7, 1 + 6 / 7, 2 + 2 / 7]])


def test_naive_counts_empty_input_gives_zeros():
    g = Grid(0.0, 0.0, CS, 3, 2)
    np.testing.assert_array_equal(naive_counts([], [], [], grid=g, at=10.0, lookback=5.0), np.zeros((2, 3)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lookback": 0.0}, "lookback"),
        ({"lookback": -1.0}, "lookback"),
        ({"lookback": 5.0, "history": 0.0}, "history"),
        ({"lookback": 5.0, "at": math.nan}, "at"),
    ],
)
def test_naive_counts_refuses_bad_parameters(kwargs, match):
    g = Grid(0.0, 0.0, CS, 3, 2)
    args = {"grid": g, "at": 10.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        naive_counts([50.0], [50.0], [1.0], **args)


def test_event_arrays_are_checked():
    g = Grid(0.0, 0.0, CS, 3, 2)
    with pytest.raises(ValueError, match="t must have one value per event"):
        naive_counts([50.0, 60.0], [50.0, 60.0], [1.0], grid=g, at=10.0, lookback=5.0)
    with pytest.raises(ValueError, match="t contains NaN"):
        prospective_hotspots([50.0], [50.0], [math.nan], grid=g, at=10.0)
    with pytest.raises(ValueError, match="x contains NaN"):
        retrospective_kde([math.nan], [50.0], [1.0], grid=g, at=10.0, lookback=5.0, bandwidth=100.0)
    with pytest.raises(ValueError, match="same length"):
        prospective_hotspots([50.0], [50.0, 1.0], [1.0], grid=g, at=10.0)


# --- prospective hotspots ---------------------------------------------------------------------------------------


def test_prospective_single_event_hand_computed():
    g = Grid(0.0, 0.0, CS, 5, 5)
    x, y = centre(g, 2, 2)
    # 10 days ago -> one whole week -> time weight 1/2; reach 150 m covers edge (100 m) and corner (141 m) neighbours
    score = prospective_hotspots([x], [y], [90.0], grid=g, at=100.0, distance_bandwidth=150.0, time_bandwidth=56.0)
    expected = np.zeros((5, 5))
    expected[2, 2] = 1.0 * 0.5
    for i, j in [(1, 2), (3, 2), (2, 1), (2, 3)]:
        expected[i, j] = 0.5 * 0.5
    for i, j in [(1, 1), (1, 3), (3, 1), (3, 3)]:
        expected[i, j] = 1 / (1 + math.sqrt(2)) * 0.5
    np.testing.assert_allclose(score, expected, rtol=1e-12, atol=1e-15)


def test_prospective_time_window_edges():
    g = Grid(0.0, 0.0, CS, 3, 3)
    x, y = centre(g, 1, 1)
    at = 100.0
    # ages: 0 (same instant: future, excluded), 56 (== bandwidth, excluded), 55.9 (week 7), 6.9 (week 0)
    score = prospective_hotspots(
        [x] * 4, [y] * 4, [at, at - 56.0, at - 55.9, at - 6.9], grid=g, at=at, distance_bandwidth=50.0
    )
    assert score[1, 1] == pytest.approx(1 / 8 + 1.0)
    assert score.sum() == pytest.approx(1 / 8 + 1.0)


def brute_force_prospective(x, y, t, grid, at, dist_bw, time_bw):
    out = np.zeros(grid.shape)
    cs = grid.cell_size
    for xe, ye, te in zip(x, y, t, strict=True):
        age = at - te
        if not (0 < age < time_bw):
            continue
        ce = math.floor((xe - grid.x0) / cs)
        re = math.floor((ye - grid.y0) / cs)
        wt = 1.0 / (1.0 + math.floor(age / 7.0))
        for i in range(grid.ny):
            for j in range(grid.nx):
                d = math.hypot(i - re, j - ce)
                if d * cs <= dist_bw + 1e-9:
                    out[i, j] += wt / (1.0 + d)
    return out


def test_prospective_matches_brute_force_including_events_outside_grid():
    rng = np.random.default_rng(7)
    g = Grid(1000.0, 2000.0, CS, 12, 9)
    n = 150
    # Spread events beyond the grid by 500 m on each side: those within 400 m still count.
    x = rng.uniform(g.x0 - 500, g.x1 + 500, n)
    y = rng.uniform(g.y0 - 500, g.y1 + 500, n)
    t = rng.uniform(0, 100, n)
    got = prospective_hotspots(x, y, t, grid=g, at=80.0, distance_bandwidth=400.0, time_bandwidth=56.0)
    want = brute_force_prospective(x, y, t, g, 80.0, 400.0, 56.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["distance_bandwidth", "time_bandwidth"])
@pytest.mark.parametrize("value", [0.0, -5.0, math.inf])
def test_prospective_refuses_bad_bandwidths(name, value):
    g = Grid(0.0, 0.0, CS, 3, 3)
    with pytest.raises(ValueError, match=name):
        prospective_hotspots([50.0], [50.0], [1.0], grid=g, at=10.0, **{name: value})


def test_prospective_with_no_recent_events_is_zero():
    g = Grid(0.0, 0.0, CS, 3, 3)
    score = prospective_hotspots([50.0], [50.0], [1.0], grid=g, at=500.0)
    np.testing.assert_array_equal(score, np.zeros((3, 3)))


# --- retrospective KDE ------------------------------------------------------------------------------------------


def test_retrospective_kde_is_kde_of_the_window():
    rng = np.random.default_rng(3)
    g = Grid(0.0, 0.0, 50.0, 20, 16)
    n = 80
    x = rng.uniform(0, g.x1, n)
    y = rng.uniform(0, g.y1, n)
    t = rng.uniform(0, 200, n)
    at, lookback = 150.0, 60.0
    got = retrospective_kde(x, y, t, grid=g, at=at, lookback=lookback, bandwidth=200.0, kernel="quartic")
    sel = (t >= at - lookback) & (t < at)
    assert 0 < sel.sum() < n
    want = kde_grid(x[sel], y[sel], grid=g, bandwidth=200.0, kernel="quartic").density
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got.shape == g.shape


def test_retrospective_kde_single_event_hand_computed():
    g = Grid(0.0, 0.0, CS, 5, 5)
    x, y = centre(g, 2, 2)
    score = retrospective_kde([x, x], [y, y], [95.0, 10.0], grid=g, at=100.0, lookback=30.0, bandwidth=300.0)
    # Only the event at t=95 is in the window. Quartic peak 3 / (π h²) with h = 0.3 km:
    assert score[2, 2] == pytest.approx(3 / (math.pi * 0.09), rel=1e-9)
    # one cell (0.1 km) away: 3 / (π h²) · (1 − (0.1/0.3)²)²
    assert score[2, 3] == pytest.approx(3 / (math.pi * 0.09) * (1 - 1 / 9) ** 2, rel=1e-9)
    assert score[0, 0] == pytest.approx(3 / (math.pi * 0.09) * (1 - 8 / 9) ** 2, rel=1e-9)


def test_retrospective_kde_empty_window_is_zero_and_bad_parameters_refused():
    g = Grid(0.0, 0.0, CS, 3, 3)
    zero = retrospective_kde([50.0], [50.0], [500.0], grid=g, at=100.0, lookback=30.0, bandwidth=100.0)
    np.testing.assert_array_equal(zero, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="bandwidth"):
        retrospective_kde([50.0], [50.0], [90.0], grid=g, at=100.0, lookback=30.0, bandwidth=0.0)
    with pytest.raises(ValueError, match="kernel"):
        retrospective_kde([50.0], [50.0], [90.0], grid=g, at=100.0, lookback=30.0, bandwidth=100.0, kernel="box")
    with pytest.raises(ValueError, match="lookback"):
        retrospective_kde([50.0], [50.0], [90.0], grid=g, at=100.0, lookback=-1.0, bandwidth=100.0)


# --- hit rate, PAI, PEI -----------------------------------------------------------------------------------------


def row_grid(n: int) -> Grid:
    return Grid(0.0, 0.0, CS, n, 1)


def events_in(grid: Grid, counts) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for j, c in enumerate(counts):
        xs += [grid.x0 + (j + 0.5) * grid.cell_size] * int(c)
        ys += [grid.y0 + 0.5 * grid.cell_size] * int(c)
    return np.array(xs, dtype=float), np.array(ys, dtype=float)


def test_hit_rate_pai_pei_hand_computed():
    g = row_grid(10)
    score = np.array([[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]], dtype=float)
    counts = [1, 0, 3, 0, 0, 0, 0, 0, 4, 2]  # 10 events
    ex, ey = events_in(g, counts)
    r10, r30, r100 = hit_rate_pai(score, ex, ey, grid=g, coverages=(0.1, 0.3, 1.0))
    # 10 %: cell 0 -> 1 hit of 10; best single cell holds 4
    assert (r10.n_cells, r10.hit_rate, r10.pai, r10.pei) == (1, pytest.approx(0.1), pytest.approx(1.0), 0.25)
    # 30 %: cells 0-2 -> 4 hits; best three cells hold 4+3+2 = 9
    assert r30.n_cells == 3
    assert r30.hit_rate == pytest.approx(0.4)
    assert r30.pai == pytest.approx(0.4 / 0.3)
    assert r30.pei == pytest.approx(4 / 9)
    assert r100.hit_rate == 1.0 and r100.pai == 1.0 and r100.pei == 1.0
    for r in (r10, r30, r100):
        assert r.n_events == 10 and r.n_outside_mask == 0
        assert r.pai == r.hit_rate / r.area_share


def test_pai_is_hit_rate_over_area_share_and_never_more_cells_than_coverage():
    rng = np.random.default_rng(11)
    g = Grid(0.0, 0.0, CS, 13, 7)  # 91 cells: 5 % is 4.55 cells -> 4 flagged
    score = rng.random(g.shape)
    ex = rng.uniform(0, g.x1, 40)
    ey = rng.uniform(0, g.y1, 40)
    cov = (0.01, 0.05, 0.10, 0.29, 0.5, 1.0)
    for r in hit_rate_pai(score, ex, ey, grid=g, coverages=cov):
        assert r.n_cells == math.floor(r.coverage * 91 + 1e-9)
        assert r.area_share <= r.coverage
        if r.n_cells:
            assert r.pai == r.hit_rate / r.area_share
        else:
            assert r.hit_rate == 0.0 and math.isnan(r.pai)


def test_coverage_multiplying_to_a_whole_number_keeps_that_many_cells():
    g = row_grid(100)
    score = np.arange(100, dtype=float)[None, :]
    ex, ey = events_in(g, [1] * 100)
    (r,) = hit_rate_pai(score, ex, ey, grid=g, coverages=(0.29,))  # 0.29 * 100 is 28.999999999999996 in floats
    assert r.n_cells == 29
    assert r.hit_rate == pytest.approx(0.29)
    assert r.pai == pytest.approx(1.0)


def test_ties_at_threshold_are_scored_as_the_mean_over_all_tie_breaks():
    g = row_grid(8)
    score = np.array([[5, 3, 3, 3, 3, 1, 1, 0]], dtype=float)
    counts = [2, 4, 0, 1, 0, 3, 0, 1]
    ex, ey = events_in(g, counts)
    total = sum(counts)
    (r,) = hit_rate_pai(score, ex, ey, grid=g, coverages=(3 / 8,))
    # Brute force: cell 0 plus every choice of 2 of the 4 tied cells, equally likely.
    tied = [1, 2, 3, 4]
    rates = [(counts[0] + sum(counts[c] for c in pick)) / total for pick in itertools.combinations(tied, 2)]
    assert r.n_cells == 3
    assert r.hit_rate == pytest.approx(sum(rates) / len(rates))
    # A deterministic index tie-break would have claimed the best pair (cells 1 and 2) here:
    assert r.hit_rate < (counts[0] + counts[1] + counts[2]) / total


def test_all_tied_score_gives_coverage_share_of_events():
    g = row_grid(20)
    ex, ey = events_in(g, [3, 0, 1, 7] + [0] * 16)
    (r,) = hit_rate_pai(np.zeros(g.shape), ex, ey, grid=g, coverages=(0.25,))
    assert r.hit_rate == pytest.approx(0.25)
    assert r.pai == pytest.approx(1.0)


def test_mask_leaves_out_cells_and_their_events():
    g = row_grid(4)
    score = np.array([[4.0, 3.0, 2.0, 1.0]])
    ex, ey = events_in(g, [5, 1, 1, 2])
    mask = np.array([[False, True, True, True]])
    (r,) = hit_rate_pai(score, ex, ey, grid=g, mask=mask, coverages=(1 / 3,))
    assert r.n_events == 4 and r.n_outside_mask == 5
    assert r.n_cells == 1
    assert r.hit_rate == pytest.approx(1 / 4)
    assert r.pai == pytest.approx(0.75)
    assert r.pei == pytest.approx(0.5)


def test_no_next_events_gives_nan():
    g = row_grid(4)
    (r,) = hit_rate_pai(np.arange(4.0)[None, :], [], [], grid=g, coverages=(0.5,))
    assert r.n_events == 0
    assert math.isnan(r.hit_rate) and math.isnan(r.pai) and math.isnan(r.pei)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"score": np.zeros((2, 2))}, "score must have the grid's shape"),
        ({"score": np.array([[0.0, math.nan, 0.0, 0.0]])}, "score contains NaN"),
        ({"coverages": (0.0,)}, "coverages"),
        ({"coverages": (1.5,)}, "coverages"),
        ({"coverages": ()}, "coverages"),
        ({"mask": np.zeros((1, 4), dtype=bool)}, "mask selects no cell"),
        ({"mask": np.ones((4, 1), dtype=bool)}, "mask must have the grid's shape"),
        ({"events_next_x": [50.0, 1e6], "events_next_y": [50.0, 50.0]}, "outside the grid"),
        ({"events_next_x": [math.inf], "events_next_y": [50.0]}, "events_next_x contains NaN"),
        ({"events_next_x": [50.0], "events_next_y": [50.0, 50.0]}, "same length"),
    ],
)
def test_hit_rate_pai_refuses_bad_input(kwargs, match):
    g = row_grid(4)
    args = {"score": np.zeros(g.shape), "events_next_x": [50.0], "events_next_y": [50.0], **kwargs}
    with pytest.raises(ValueError, match=match):
        hit_rate_pai(args.pop("score"), args.pop("events_next_x"), args.pop("events_next_y"), grid=g, **args)


def test_nan_score_is_allowed_outside_the_mask():
    g = row_grid(3)
    score = np.array([[math.nan, 1.0, 0.0]])
    (r,) = hit_rate_pai(score, [150.0], [50.0], grid=g, mask=np.array([[False, True, True]]), coverages=(0.5,))
    assert r.hit_rate == 1.0


def test_flag_cells_takes_exactly_floor_coverage_cells_with_index_tiebreak():
    g = Grid(0.0, 0.0, CS, 5, 2)
    score = np.array([[1, 2, 2, 0, 0], [2, 0, 0, 0, 9]], dtype=float)
    flagged = flag_cells(score, grid=g, coverage=0.3)
    expected = np.zeros((2, 5), dtype=bool)
    expected[1, 4] = True  # the 9
    expected[0, 1] = expected[0, 2] = True  # first two of the three 2s in row-major order
    np.testing.assert_array_equal(flagged, expected)
    assert flag_cells(np.zeros((2, 5)), grid=g, coverage=0.39).sum() == 3
    mask = np.ones((2, 5), dtype=bool)
    mask[1, 4] = False
    masked = flag_cells(score, grid=g, coverage=0.5, mask=mask)
    assert masked.sum() == 4 and not masked[1, 4]


# --- back-test --------------------------------------------------------------------------------------------------


def stable_hotspot_events(rng: np.random.Generator, grid: Grid, days: int, per_day: float):
    """Events from a fixed intensity: three small hotspots over a uniform background."""
    n = rng.poisson(per_day * days)
    centres = np.array([[300.0, 300.0], [1500.0, 700.0], [900.0, 1700.0]])
    kind = rng.choice(4, size=n, p=[0.25, 0.2, 0.15, 0.4])
    x = np.empty(n)
    y = np.empty(n)
    hot = kind < 3
    x[hot] = centres[kind[hot], 0] + rng.normal(0, 60, hot.sum())
    y[hot] = centres[kind[hot], 1] + rng.normal(0, 60, hot.sum())
    x[~hot] = rng.uniform(grid.x0, grid.x1, (~hot).sum())
    y[~hot] = rng.uniform(grid.y0, grid.y1, (~hot).sum())
    x = np.clip(x, grid.x0, grid.x1 - 1e-6)
    y = np.clip(y, grid.y0, grid.y1 - 1e-6)
    t = rng.uniform(0, days, n)
    return x, y, t


@dataclass(frozen=True)
class RandomScore:
    seed: int

    @property
    def name(self) -> str:
        return "random"

    def __call__(self, x, y, t, *, grid, at, horizon):
        return np.random.default_rng([self.seed, int(at)]).random(grid.shape)


@dataclass(frozen=True)
class RecordsPast:
    seen: list

    @property
    def name(self) -> str:
        return "spy"

    def __call__(self, x, y, t, *, grid, at, horizon):
        self.seen.append((at, horizon, float(t.max()) if t.size else -math.inf))
        return np.zeros(grid.shape)


def test_backtest_on_stable_hotspots_all_methods_beat_random():
    rng = np.random.default_rng(2024)
    g = Grid(0.0, 0.0, CS, 20, 20)
    x, y, t = stable_hotspot_events(rng, g, days=360, per_day=6.0)
    periods = np.arange(180.0, 361.0, 30.0)  # six 30-day periods after half a year of history
    methods = [
        NaiveCounts(lookback=30.0),
        RetrospectiveKDE(lookback=90.0, bandwidth=150.0),
        ProspectiveHotspots(),
        RandomScore(seed=5),
    ]
    bt = backtest(x, y, t, grid=g, periods=periods, methods=methods, coverages=(0.05, 1.0))
    rand5 = bt.score("random", 0.05)
    assert 0.4 < rand5.pai < 1.6  # a random ranking catches about its area share
    for name in ("naive 30d", "kde 90d 150m", "prospective 400m 56d"):
        s5 = bt.score(name, 0.05)
        assert s5.pai > 4.0, name
        assert s5.hit_rate > rand5.hit_rate + 0.2, name
        assert np.all(bt.score(name, 1.0).values("hit_rate") == 1.0), name


def test_backtest_shapes_baseline_and_no_leakage():
    rng = np.random.default_rng(1)
    g = Grid(0.0, 0.0, CS, 10, 8)
    x, y, t = stable_hotspot_events(rng, Grid(0.0, 0.0, CS, 10, 8), days=100, per_day=3.0)
    seen: list = []
    periods = [40.0, 55.0, 70.0, 100.0]
    bt = backtest(x, y, t, grid=g, periods=periods, methods=[RecordsPast(seen)], coverages=(0.05, 0.1, 0.2))
    assert isinstance(bt, Backtest)
    assert bt.methods == ("naive", "spy")  # the naive baseline is always there, first
    assert bt.coverages == (0.05, 0.1, 0.2)
    assert len(bt.scores) == 2 * 3
    np.testing.assert_array_equal(bt.period_start, [40.0, 55.0, 70.0])
    np.testing.assert_array_equal(bt.period_end, [55.0, 70.0, 100.0])
    expected_n = [int(((t >= a) & (t < b)).sum()) for a, b in itertools.pairwise(periods)]
    np.testing.assert_array_equal(bt.n_events, expected_n)
    for s in bt.scores:
        assert len(s.per_period) == 3
        assert s.values("pai").shape == (3,)
        assert s.hit_rate == pytest.approx(np.mean(s.values("hit_rate")))
    assert [(a, h) for a, h, _ in seen] == [(40.0, 15.0), (55.0, 15.0), (70.0, 30.0)]
    assert all(latest < at for at, _, latest in seen)
    with pytest.raises(KeyError):
        bt.score("kde", 0.05)


def test_backtest_keeps_a_user_naive_method_as_the_baseline():
    rng = np.random.default_rng(2)
    g = Grid(0.0, 0.0, CS, 10, 8)
    x, y, t = stable_hotspot_events(rng, g, days=60, per_day=3.0)
    bt = backtest(x, y, t, grid=g, periods=[30.0, 60.0], methods=[NaiveCounts(lookback=7.0, label="last week")])
    assert bt.methods == ("last week",)


def test_backtest_mean_skips_periods_without_events():
    g = row_grid(4)
    x = [50.0, 50.0, 150.0, 50.0]
    y = [50.0] * 4
    t = [1.0, 2.0, 3.0, 25.0]  # nothing in [10, 20)
    bt = backtest(x, y, t, grid=g, periods=[10.0, 20.0, 30.0], coverages=(0.25,))
    s = bt.score("naive", 0.25)
    assert math.isnan(s.per_period[0].hit_rate)
    assert s.hit_rate == s.per_period[1].hit_rate


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": [], "y": [], "t": []}, "x is empty"),
        ({"t": [1.0, 2.0]}, "t must have one value per event"),
        ({"x": [50.0, 50.0, 5e5]}, "outside the grid"),
        ({"periods": [10.0]}, "at least two"),
        ({"periods": [10.0, 10.0]}, "strictly increasing"),
        ({"periods": [10.0, math.nan]}, "periods contains NaN"),
        ({"methods": [NaiveCounts(label="a"), NaiveCounts(label="a")]}, "unique names"),
        ({"coverages": (0.05, -0.1)}, "coverages"),
        ({"mask": np.zeros((1, 4), dtype=bool)}, "mask selects no cell"),
    ],
)
def test_backtest_refuses_bad_input(kwargs, match):
    g = row_grid(4)
    args = {"x": [50.0, 150.0, 250.0], "y": [50.0] * 3, "t": [1.0, 12.0, 25.0], "periods": [10.0, 20.0], **kwargs}
    with pytest.raises(ValueError, match=match):
        backtest(args.pop("x"), args.pop("y"), args.pop("t"), grid=g, **args)
