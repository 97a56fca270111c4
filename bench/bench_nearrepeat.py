"""Knox near-repeat test: speed on synthetic data, and the result for burglary in Vancouver.

(a) Synthetic: 10k and 100k events over a 50 × 25 km area (40 % spread evenly, 60 % in 300 Gaussian clusters of
150-800 m with heavy-tailed sizes), times uniform over 3 years, bands 0-100-200-400 m × 0-7-14-21-28 days,
99 permutations. Reference: a plain script that, for the observed times and for every permutation, asks the k-d
tree for the pairs again and bins them with ``numpy.histogram2d``. For 100k the reference is timed on the observed
table plus one permutation and extrapolated to 1 + 99 tables.

(b) Real data: Vancouver Police Department, residential and commercial break and enter 2022-2024
(``SHARED/data/vancouver-vpd-2020-2026``, see its SOURCE.md). Rows without coordinates (X = 0 or blank) and the
"X NK_LOC ST" / "UNKNOWN" default points are dropped; times are dates (whole days), as in the Near Repeat
Calculator, because burglary times are mostly guesses. Coordinates are snapped by VPD to the hundred block, so the
0-100 m band largely means "same block".
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from bench.run import SHARED, median_time
from samverkan.analysis.nearrepeat import KnoxResult, knox_test

DATA = SHARED / "data" / "vancouver-vpd-2020-2026"
SYNTH_D = np.array([0.0, 100.0, 200.0, 400.0])
SYNTH_T = np.array([0.0, 7.0, 14.0, 21.0, 28.0])
REAL_D = np.array([0.0, 100.0, 200.0, 400.0, 800.0])
REAL_T = np.array([0.0, 7.0, 14.0, 28.0])
BURGLARY = {
    "residential": "Break and Enter Residential/Other",
    "commercial": "Break and Enter Commercial",
}


def synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_background = int(0.4 * n)
    n_clustered = n - n_background
    n_clusters = 300
    cx = rng.uniform(0, 50_000, n_clusters)
    cy = rng.uniform(0, 25_000, n_clusters)
    weight = rng.pareto(1.5, n_clusters) + 1.0
    sigma = rng.uniform(150, 800, n_clusters)
    k = rng.choice(n_clusters, n_clustered, p=weight / weight.sum())
    x = np.r_[rng.uniform(0, 50_000, n_background), cx[k] + rng.normal(0, 1, n_clustered) * sigma[k]]
    y = np.r_[rng.uniform(0, 25_000, n_background), cy[k] + rng.normal(0, 1, n_clustered) * sigma[k]]
    t = rng.uniform(0, 3 * 365, n)
    return x, y, t


def reference_table(
    x: np.ndarray, y: np.ndarray, t: np.ndarray, d_edges: np.ndarray, t_edges: np.ndarray
) -> np.ndarray:
    """One Knox table the way a typical script does it: find the pairs, then a 2-D histogram."""
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(d_edges[-1], output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    dt_ = np.abs(t[i] - t[j])
    table, _, _ = np.histogram2d(d, dt_, bins=[d_edges, t_edges])
    return table.astype(np.int64)


def reference_knox(x: np.ndarray, y: np.ndarray, t: np.ndarray, permutations: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    observed = reference_table(x, y, t, SYNTH_D, SYNTH_T)
    for _ in range(permutations):
        reference_table(x, y, rng.permutation(t), SYNTH_D, SYNTH_T)
    return observed


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def synthetic_rows(quick: bool) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n in (10_000,) if quick else (10_000, 100_000):
        x, y, t = synthetic(n, np.random.default_rng(n))

        def ours(x: np.ndarray = x, y: np.ndarray = y, t: np.ndarray = t) -> KnoxResult:
            return knox_test(x, y, t, distance_bands=SYNTH_D, time_bands=SYNTH_T, permutations=99, rng=1)

        result = ours()
        ours_s = median_time(ours, repeat=3)
        if n <= 10_000:
            ref_s = median_time(partial(reference_knox, x, y, t, 99, 1))
            how = "reference run in full"
        else:
            start = time.perf_counter()
            reference_knox(x, y, t, 1, 1)
            ref_s = (time.perf_counter() - start) / 2 * 100
            how = "reference timed on 2 tables, extrapolated to 100"
        ref_obs = reference_table(x, y, t, SYNTH_D, SYNTH_T)
        # histogram2d closes its last bin on the right; with continuous coordinates no pair sits exactly on 400 m or
        # 28 days, so both tables must agree.
        same = np.array_equal(ref_obs, result.observed)
        mem = peak_mb(ours) if not quick else float("nan")
        rows.append(
            {
                "case": f"knox synthetic {n // 1000}k x 99 perm",
                "ours_s": ours_s,
                "reference": "kd-tree + histogram2d per permutation",
                "reference_s": ref_s,
                "ratio": ref_s / ours_s,
                "note": (
                    f"{result.n_pairs_considered:,} pairs < 400 m; {how}; observed tables equal: {same}; "
                    f"peak traced memory {mem:.0f} MB; target <= 15 s for 100k"
                ),
            }
        )
    return rows


def load_burglary(folder: Path, years: tuple[int, int]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Located burglaries per kind as ``(x, y, day number)``."""
    found: dict[str, tuple[list[float], list[float], list[float]]] = {k: ([], [], []) for k in BURGLARY}
    kind_of = {v: k for k, v in BURGLARY.items()}
    for path in sorted(folder.glob("*.csv.gz")):
        with gzip.open(path, "rt", newline="") as fh:
            for row in csv.DictReader(fh):
                kind = kind_of.get(row["TYPE"])
                if kind is None or not years[0] <= int(row["YEAR"]) <= years[1]:
                    continue
                xs, ys = row["X"].strip(), row["Y"].strip()
                if not xs or not ys or float(xs) == 0.0:
                    continue
                block = row["HUNDRED_BLOCK"]
                if "NK_LOC" in block or "UNKNOWN" in block:
                    continue
                day = dt.date(int(row["YEAR"]), int(row["MONTH"]), int(row["DAY"])).toordinal()
                found[kind][0].append(float(xs))
                found[kind][1].append(float(ys))
                found[kind][2].append(float(day))
    return {k: (np.array(v[0]), np.array(v[1]), np.array(v[2])) for k, v in found.items()}


def real_rows(quick: bool) -> list[dict[str, object]]:
    if not DATA.is_dir():
        return [{"case": "knox vancouver burglary", "ours_s": None, "note": f"skipped: {DATA} not found"}]
    years = (2022, 2024)
    permutations = 19 if quick else 99
    rows: list[dict[str, object]] = []
    for kind, (x, y, t) in load_burglary(DATA, years).items():
        ours = partial(
            knox_test, x, y, t, distance_bands=REAL_D, time_bands=REAL_T, permutations=permutations, rng=2024
        )
        res = ours()
        ours_s = median_time(ours)
        same_place = int(np.unique(np.column_stack([x, y]), axis=0).shape[0])
        cells = "; ".join(
            f"{REAL_D[k]:.0f}-{REAL_D[k + 1]:.0f} m × 0-7 d: ratio {res.ratio[k, 0]:.2f} p {res.p[k, 0]:.2f}"
            for k in range(REAL_D.size - 1)
        )
        rows.append(
            {
                "case": f"knox vancouver {kind} B&E {years[0]}-{years[1]}",
                "ours_s": ours_s,
                "note": (
                    f"{res.n_events:,} events on {same_place:,} distinct points, {res.n_pairs_considered:,} pairs "
                    f"< 800 m, {permutations} perm; {cells}; 7-14 d at 0-100 m: ratio {res.ratio[0, 1]:.2f} "
                    f"p {res.p[0, 1]:.2f}"
                ),
            }
        )
    return rows


def run(quick: bool) -> list[dict[str, object]]:
    return synthetic_rows(quick) + real_rows(quick)
