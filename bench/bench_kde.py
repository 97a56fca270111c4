"""Kernel density surfaces of 10k-1M synthetic events on a 500 x 250 grid, against scipy's gaussian_kde.

Events: a seeded mixture of Gaussian clusters (a town centre, districts, hot spots of 80-800 m) plus a uniform
background of 20 %, over 50 x 25 km at (400000, 6130000) in SWEREF 99 TM; 100 m cells; bandwidth 250 m.

``scipy.stats.gaussian_kde`` evaluates every event at every cell centre, so for a million events it would run for
about ten minutes. It is timed on a subsample and its time scaled linearly in the number of events (its cost is
events x cells). Its kernel is the subsample's covariance times factor²; the factor is chosen to give that kernel
the same area (determinant) as ours, 250² m² per axis - the evaluation cost does not depend on the shape.

Accuracy is checked against the direct sum (:func:`samverkan.analysis.kde.kde_exact` and the same sum at chosen
cells) in the cells above 1 % of the peak.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from scipy.stats import gaussian_kde

from bench.run import median_time
from samverkan.analysis.grid import Grid
from samverkan.analysis.kde import kde_exact, kde_grid

GRID = Grid(400_000.0, 6_130_000.0, 100.0, 500, 250)
BANDWIDTH = 250.0
KERNELS = ("quartic", "gaussian")


def town_events(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` events: 80 % in Gaussian clusters of varied size and weight, 20 % uniform over the area."""
    rng = np.random.default_rng(seed)
    width, height = GRID.x1 - GRID.x0, GRID.y1 - GRID.y0
    n_clusters = 40
    centres = np.column_stack(
        [rng.uniform(0.15, 0.85, n_clusters) * width, rng.uniform(0.15, 0.85, n_clusters) * height]
    )
    centres[0] = (0.45 * width, 0.5 * height)  # the town centre: large and busy
    sd = np.exp(rng.uniform(math.log(80.0), math.log(800.0), n_clusters))
    sd[0] = 1500.0
    share = rng.pareto(1.5, n_clusters) + 0.1
    share[0] = share.sum()
    share /= share.sum()
    n_background = n // 5
    which = rng.choice(n_clusters, size=n - n_background, p=share)
    pts = centres[which] + rng.normal(size=(which.size, 2)) * sd[which, None]
    x = np.concatenate([pts[:, 0], rng.uniform(0.0, width, n_background)]) + GRID.x0
    y = np.concatenate([pts[:, 1], rng.uniform(0.0, height, n_background)]) + GRID.y0
    order = rng.permutation(n)
    return x[order], y[order]


def direct_at(x: np.ndarray, y: np.ndarray, rows: np.ndarray, cols: np.ndarray, kernel: str) -> np.ndarray:
    """The direct sum over all events at the centres of the given cells, events per km²."""
    cx = GRID.x0 + (cols + 0.5) * GRID.cell_size
    cy = GRID.y0 + (rows + 0.5) * GRID.cell_size
    out = np.zeros(cx.size)
    for start in range(0, x.size, 20_000):
        sl = slice(start, start + 20_000)
        r2 = ((cx[None, :] - x[sl, None]) ** 2 + (cy[None, :] - y[sl, None]) ** 2) / BANDWIDTH**2
        if kernel == "quartic":
            out += (np.maximum(1.0 - r2, 0.0) ** 2).sum(axis=0) * 3.0 / math.pi
        else:
            out += np.exp(-0.5 * r2).sum(axis=0) / (2.0 * math.pi)
    return out * 1e6 / BANDWIDTH**2


def max_rel_error(approx: np.ndarray, exact: np.ndarray, peak: float) -> float:
    studied = exact > 0.01 * peak
    return float(np.max(np.abs(approx[studied] - exact[studied]) / exact[studied]))


def accuracy_note(x: np.ndarray, y: np.ndarray, density: np.ndarray, kernel: str, *, n_sub: int, n_cells: int) -> str:
    """Max relative error against the direct sum: at sampled cells with all events, and on a subsample everywhere."""
    rng = np.random.default_rng(5)
    peak = float(density.max())
    candidates = np.flatnonzero(density > 0.01 * peak)
    chosen = np.append(rng.choice(candidates, size=min(n_cells, candidates.size), replace=False), density.argmax())
    rows, cols = np.unravel_index(chosen, GRID.shape)
    exact = direct_at(x, y, rows, cols, kernel)
    at_cells = max_rel_error(density.ravel()[chosen], exact, float(exact.max()))

    sub = rng.choice(x.size, size=n_sub, replace=False)
    fast = kde_grid(x[sub], y[sub], grid=GRID, bandwidth=BANDWIDTH, kernel=kernel).density
    ref = kde_exact(x[sub], y[sub], grid=GRID, bandwidth=BANDWIDTH, kernel=kernel).density
    on_sub = max_rel_error(fast, ref, float(ref.max()))
    return (
        f"max rel. error vs direct sum in cells > 1 % of peak: {at_cells:.1e} at {rows.size} random such cells "
        f"(all {x.size:,} events), {on_sub:.1e} over the whole grid for a {n_sub:,}-event subsample"
    )


def gaussian_kde_seconds(x: np.ndarray, y: np.ndarray, n_sub: int, *, repeat: int) -> float:
    """Median time of scipy's gaussian_kde over all cell centres for ``n_sub`` events."""
    rng = np.random.default_rng(9)
    sub = rng.choice(x.size, size=n_sub, replace=False)
    data = np.vstack([x[sub], y[sub]])
    factor = BANDWIDTH / np.linalg.det(np.cov(data)) ** 0.25
    cx, cy = GRID.centres()
    centres = np.vstack([cx.ravel(), cy.ravel()])
    return median_time(lambda: gaussian_kde(data, bw_method=factor)(centres), repeat=repeat)


def run(quick: bool) -> list[dict[str, object]]:
    sizes = (2_000, 20_000) if quick else (10_000, 100_000, 1_000_000)
    n_ref = 500 if quick else 2_000
    largest = sizes[-1]
    x_all, y_all = town_events(largest, seed=2024)
    ref_s = None
    rows: list[dict[str, object]] = []
    for kernel in KERNELS:
        for n in sizes:
            x, y = x_all[:n], y_all[:n]
            surface = partial(kde_grid, x, y, grid=GRID, bandwidth=BANDWIDTH, kernel=kernel)
            result = surface()
            ours_s = median_time(surface, repeat=5)
            row: dict[str, object] = {
                "case": f"{kernel} KDE, {n:,} events, {GRID.nx} x {GRID.ny} cells, h = {BANDWIDTH:g} m",
                "ours_s": ours_s,
            }
            notes = []
            if kernel == "gaussian":
                if ref_s is None:
                    ref_s = gaussian_kde_seconds(x_all, y_all, n_ref, repeat=3)
                reference_s = ref_s * n / n_ref
                row |= {
                    "reference": "scipy.stats.gaussian_kde",
                    "reference_s": reference_s,
                    "ratio": reference_s / ours_s,
                }
                notes.append(f"reference timed on {n_ref:,} events ({ref_s:.2f} s) and scaled by n / {n_ref:,}")
            else:
                notes.append("no reference library for the quartic kernel")
            if n == largest:
                notes.append(accuracy_note(x, y, result.density, kernel, n_sub=n_ref, n_cells=100 if quick else 300))
            row["note"] = "; ".join(notes)
            rows.append(row)
    return rows
