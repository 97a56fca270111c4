"""Everything a weekly lägesbild computes, for 1M events over three years, end to end in the analysis core.

Per run: bin every event into the 500 × 250 grid (100 m cells over 50 × 25 km), a quartic KDE (250 m) of all events,
Gi* (250 m) with FDR labels on the counts, the weekday × hour profile, and for each of three focus areas the weekly
series over three years with its trend (Poisson regression and Mann–Kendall) and this week against the previous
eight. Target: ≤ 1 s for 1M events. There is no single reference library for the whole chain; the parts are
compared with their references in the kde, hotspots and nearrepeat benchmarks.
"""

from __future__ import annotations

import numpy as np

from bench.bench_kde import GRID, town_events
from bench.run import median_time
from samverkan.analysis.hotspots import gi_star
from samverkan.analysis.kde import kde_grid
from samverkan.analysis.temporal import compare_to_baseline, trend, weekday_hour_profile

WEEKS = 156
SECONDS_PER_WEEK = 7 * 24 * 3600


def synthetic(n: int, *, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, y = town_events(n, seed=seed)
    # Seconds since a Monday 00:00, with more events in the evening and at weekends.
    week = rng.integers(0, WEEKS, n)
    day = rng.choice(7, size=n, p=[0.12, 0.12, 0.13, 0.14, 0.16, 0.18, 0.15])
    hour = (rng.normal(19, 4, n) % 24).astype(int)
    t = week * SECONDS_PER_WEEK + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    return {"x": x, "y": y, "t": t, "focus": rng.choice(3, size=n, p=[0.2, 0.2, 0.6])}


def weekly_picture(ev: dict[str, np.ndarray]) -> dict[str, object]:
    counts = GRID.bin(ev["x"], ev["y"])
    density = kde_grid(ev["x"], ev["y"], grid=GRID, bandwidth=250.0, kernel="quartic")
    hot = gi_star(counts, radius=250.0, cell_size=GRID.cell_size)
    seconds_in_week = ev["t"] % SECONDS_PER_WEEK
    profile = weekday_hour_profile(seconds_in_week // 86400, (seconds_in_week % 86400) // 3600)
    week_index = ev["t"] // SECONDS_PER_WEEK
    per_focus = []
    for focus in range(3):
        series = np.bincount(week_index[ev["focus"] == focus], minlength=WEEKS)
        per_focus.append((trend(series), compare_to_baseline(int(series[-1]), series[-9:-1])))
    return {"density": density, "hot": hot, "profile": profile, "per_focus": per_focus}


def run(quick: bool) -> list[dict]:
    rows = []
    for n in (100_000,) if quick else (100_000, 1_000_000):
        ev = synthetic(n, seed=7)
        result = weekly_picture(ev)
        ours = median_time(lambda ev=ev: weekly_picture(ev), repeat=3 if quick else 5)
        hot_cells = int((result["hot"].label > 0).sum())
        rows.append(
            {
                "case": f"weekly lägesbild chain, {n:,} events, 3 focus areas × {WEEKS} weeks",
                "ours_s": ours,
                "note": f"target ≤ 1 s; {hot_cells} hot cells after FDR; "
                f"trend flags {[t.flag for t, _ in result['per_focus']]}",
            }
        )
    return rows
