"""Gi* and emerging hot spots against PySAL esda on a 500 x 250 grid and on Vancouver police data.

esda's ``G_Local`` runs on libpysal ``DistanceBand`` weights over the cell centres; the time to build those weights
is reported apart, since a caller may reuse them. Every comparison also checks that the z-scores agree.
"""

from __future__ import annotations

import csv
import gzip
import time
import warnings

import numpy as np

from bench.run import SHARED, median_time
from samverkan.analysis.grid import Grid
from samverkan.analysis.hotspots import emerging_hotspots, gi_star

CELL = 100.0
RADIUS = 250.0
VANCOUVER = SHARED / "data" / "vancouver-vpd-2020-2026"


def clustered_counts(ny: int, nx: int, *, seed: int) -> np.ndarray:
    """Poisson counts around a low background plus Gaussian clusters (about one per 3,000 cells)."""
    rng = np.random.default_rng(seed)
    return rng.poisson(cluster_rate(ny, nx, rng)).astype(np.float64)


def cluster_rate(ny: int, nx: int, rng: np.random.Generator, *, background: float = 0.3) -> np.ndarray:
    rows, cols = np.ogrid[:ny, :nx]
    lam = np.full((ny, nx), background)
    for _ in range(max(1, ny * nx // 3000)):
        i, j, r = rng.uniform(0, ny), rng.uniform(0, nx), rng.uniform(1.5, 6.0)
        lam += rng.uniform(1.0, 8.0) * np.exp(-((rows - i) ** 2 + (cols - j) ** 2) / (2 * r * r))
    return lam


def weekly_cube(ny: int, nx: int, weeks: int, *, seed: int) -> np.ndarray:
    """Weekly counts: stable clusters, plus clusters that switch on mid-period and clusters that grow."""
    rng = np.random.default_rng(seed)
    stable = cluster_rate(ny, nx, rng, background=0.05) * 0.15
    switching = cluster_rate(ny, nx, rng, background=0.0) * 0.15
    growing = cluster_rate(ny, nx, rng, background=0.0) * 0.15
    t = np.arange(weeks)[:, None, None]
    lam = stable + switching * (t >= weeks * 2 // 3) + growing * (2 * t / weeks)
    return rng.poisson(lam).astype(np.float64)


def esda_rows(counts: np.ndarray, label: str, *, repeat: int) -> list[dict[str, object]]:
    """Ours against esda on one grid: analytic z with prebuilt weights, and the same including the weights build."""
    import esda
    import libpysal
    from libpysal.weights import fill_diagonal

    ny, nx = counts.shape
    xs, ys = np.meshgrid((np.arange(nx) + 0.5) * CELL, (np.arange(ny) + 0.5) * CELL)
    pts = np.column_stack([xs.ravel(), ys.ravel()])
    y = counts.ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        band = libpysal.weights.DistanceBand(pts, threshold=RADIUS, binary=True, silence_warnings=True)
        t_band = time.perf_counter() - t0
        t0 = time.perf_counter()
        # The self-weights esda would add for star=True, added here so its timing holds only the statistic.
        w = fill_diagonal(band, 1.0)
        t_diag = time.perf_counter() - t0

        def run_esda() -> object:
            return esda.G_Local(y, w, star=True, transform="B", permutations=0)

        ref = run_esda()
        esda_s = median_time(run_esda, repeat=repeat)

    ours = gi_star(counts, radius=RADIUS, cell_size=CELL)
    ours_s = median_time(lambda: gi_star(counts, radius=RADIUS, cell_size=CELL), repeat=max(5, repeat))
    dz = float(np.max(np.abs(ours.z.ravel() - ref.Zs)))
    if not dz < 1e-8:
        raise AssertionError(f"{label}: z differs from esda by {dz:.3g}")
    hot = int((ours.label > 0).sum())
    cold = int((ours.label < 0).sum())
    note = (
        f"{ny * nx:,} cells, max|z - z_esda| = {dz:.1e}; weights prebuilt: DistanceBand {t_band:.2f} s "
        f"+ self-weights {t_diag:.2f} s, max {int(band.max_neighbors) + 1} neighbours incl. self; "
        f"FDR labels: {hot} hot, {cold} cold cells"
    )
    build = t_band + t_diag
    return [
        {
            "case": f"{label}: Gi* z, p, FDR labels",
            "ours_s": ours_s,
            "reference": "esda G_Local(star=True, transform='B', permutations=0), weights prebuilt",
            "reference_s": esda_s,
            "ratio": esda_s / ours_s,
            "note": note,
        },
        {
            "case": f"{label}: Gi* incl. building the weights",
            "ours_s": ours_s,
            "reference": "libpysal DistanceBand + self-weights + esda G_Local",
            "reference_s": build + esda_s,
            "ratio": (build + esda_s) / ours_s,
            "note": "weights built once (single timing), esda statistic median as above",
        },
    ]


def permutation_row(counts: np.ndarray, label: str, permutations: int, *, esda_repeat: int) -> dict[str, object]:
    import esda
    import libpysal

    ny, nx = counts.shape
    xs, ys = np.meshgrid((np.arange(nx) + 0.5) * CELL, (np.arange(ny) + 0.5) * CELL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.fill_diagonal(
            libpysal.weights.DistanceBand(
                np.column_stack([xs.ravel(), ys.ravel()]), threshold=RADIUS, binary=True, silence_warnings=True
            ),
            1.0,
        )

        def run_esda() -> object:
            return esda.G_Local(
                counts.ravel(),
                w,
                star=True,
                transform="B",
                permutations=permutations,
                keep_simulations=False,
                n_jobs=1,
                seed=1,
            )

        t0 = time.perf_counter()
        ref = run_esda()
        esda_s = time.perf_counter() - t0
        if esda_repeat > 1:
            esda_s = median_time(run_esda, repeat=esda_repeat)
    ours = gi_star(counts, radius=RADIUS, cell_size=CELL, permutations=permutations, rng=1)
    ours_s = median_time(
        lambda: gi_star(counts, radius=RADIUS, cell_size=CELL, permutations=permutations, rng=1), repeat=5
    )
    assert ours.p_sim is not None
    diff = np.abs(ours.p_sim.ravel() - ref.p_sim)
    try:
        import numba  # noqa: F401

        engine = "numba"
    except ImportError:
        engine = "plain Python (numba not installed)"
    return {
        "case": f"{label}: Gi* with {permutations} conditional permutations",
        "ours_s": ours_s,
        "reference": "esda G_Local(permutations, n_jobs=1)",
        "reference_s": esda_s,
        "ratio": esda_s / ours_s,
        "note": (
            f"{ny * nx:,} cells; esda crand in {engine}, "
            f"{'median of ' + str(esda_repeat) if esda_repeat > 1 else 'one run'}; "
            f"mean |p_sim - p_sim_esda| = {diff.mean():.3f} "
            "(Monte Carlo noise, and esda counts ties on the upper side only)"
        ),
    }


def vancouver_counts(years: range) -> tuple[Grid, dict[tuple[int, int], tuple[list[float], list[float]]]] | None:
    """Located property-crime points per (year, month) from the VPD files, or None when the data is absent."""
    files = [VANCOUVER / f"crimedata_csv_AllNeighbourhoods_{y}.csv.gz" for y in years]
    if not all(f.exists() for f in files):
        return None
    by_month: dict[tuple[int, int], tuple[list[float], list[float]]] = {}
    for f in files:
        with gzip.open(f, "rt", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    x, y = float(row["X"]), float(row["Y"])
                except ValueError:
                    continue
                if x == 0.0 or y == 0.0:  # violent crime has its location withheld
                    continue
                xs, ys = by_month.setdefault((int(row["YEAR"]), int(row["MONTH"])), ([], []))
                xs.append(x)
                ys.append(y)
    allx = np.concatenate([np.asarray(v[0]) for v in by_month.values()])
    ally = np.concatenate([np.asarray(v[1]) for v in by_month.values()])
    grid = Grid.covering(float(allx.min()), float(ally.min()), float(allx.max()), float(ally.max()), CELL)
    return grid, by_month


def real_rows(quick: bool) -> list[dict[str, object]]:
    loaded = vancouver_counts(range(2020, 2026))
    if loaded is None:
        return [{"case": "Vancouver VPD", "ours_s": None, "note": f"skipped: {VANCOUVER} not found"}]
    grid, by_month = loaded
    months = sorted(by_month)
    cube = np.stack([grid.bin(*by_month[m]) for m in months])
    # Study cells: those with any incident in six years (the rest is water, parks or outside the city).
    mask = cube.sum(axis=0) > 0
    year = cube[-12:].sum(axis=0)
    rows = []
    if not quick:
        rows += esda_rows_masked(year, mask, "Vancouver 2025, 100 m cells with incidents")
    res = emerging_hotspots(cube, radius=RADIUS, cell_size=CELL, mask=mask)
    t = median_time(lambda: emerging_hotspots(cube, radius=RADIUS, cell_size=CELL, mask=mask), repeat=3)
    cats, counts = np.unique(res.category[mask], return_counts=True)
    summary = ", ".join(f"{c} {n}" for c, n in sorted(zip(cats, counts, strict=True), key=lambda t: -t[1])[:6])
    rows.append(
        {
            "case": f"Vancouver emerging hot spots, {len(months)} months x {int(mask.sum()):,} cells",
            "ours_s": t,
            "note": f"property crime 2020-2025, r = {RADIUS:.0f} m; {summary}",
        }
    )
    return rows


def esda_rows_masked(counts: np.ndarray, mask: np.ndarray, label: str) -> list[dict[str, object]]:
    import esda
    import libpysal
    from libpysal.weights import fill_diagonal

    ny, nx = counts.shape
    xs, ys = np.meshgrid((np.arange(nx) + 0.5) * CELL, (np.arange(ny) + 0.5) * CELL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = fill_diagonal(
            libpysal.weights.DistanceBand(
                np.column_stack([xs[mask], ys[mask]]), threshold=RADIUS, binary=True, silence_warnings=True
            ),
            1.0,
        )

        def run_esda() -> object:
            return esda.G_Local(counts[mask], w, star=True, transform="B", permutations=0)

        ref = run_esda()
        esda_s = median_time(run_esda, repeat=3)
    ours = gi_star(counts, radius=RADIUS, cell_size=CELL, mask=mask)
    ours_s = median_time(lambda: gi_star(counts, radius=RADIUS, cell_size=CELL, mask=mask), repeat=5)
    dz = float(np.max(np.abs(ours.z[mask] - ref.Zs)))
    if not dz < 1e-8:
        raise AssertionError(f"{label}: z differs from esda by {dz:.3g}")
    return [
        {
            "case": f"{label}: Gi*",
            "ours_s": ours_s,
            "reference": "esda G_Local, weights prebuilt",
            "reference_s": esda_s,
            "ratio": esda_s / ours_s,
            "note": (
                f"{int(mask.sum()):,} studied of {ny * nx:,} cells; max|z - z_esda| = {dz:.1e}; "
                f"{int((ours.label > 0).sum())} hot, {int((ours.label < 0).sum())} cold cells"
            ),
        }
    ]


def run(quick: bool) -> list[dict[str, object]]:
    ny, nx = (50, 100) if quick else (250, 500)
    counts = clustered_counts(ny, nx, seed=20240308)
    rows = esda_rows(counts, f"synthetic {nx}x{ny}", repeat=3)

    small = clustered_counts(50, 100, seed=7)
    rows.append(permutation_row(small, "synthetic 100x50", 99 if quick else 999, esda_repeat=3))
    if not quick:
        rows.append(permutation_row(counts, f"synthetic {nx}x{ny}", 999, esda_repeat=1))

    weeks = 10 if quick else 52
    cube = weekly_cube(ny, nx, weeks, seed=11)
    res = emerging_hotspots(cube, radius=RADIUS, cell_size=CELL)
    t = median_time(lambda: emerging_hotspots(cube, radius=RADIUS, cell_size=CELL), repeat=3)
    cats, n = np.unique(res.category, return_counts=True)
    rows.append(
        {
            "case": f"synthetic {nx}x{ny} x {weeks} weekly slices: emerging hot spots",
            "ours_s": t,
            "note": "; ".join(f"{c} {k}" for c, k in zip(cats, n, strict=True)),
        }
    )
    rows += real_rows(quick)
    return rows
