"""Back-test of cell forecasts on real data: Vancouver Police Department crime, 2020-2026.

Monthly rolling origin: for each month of 2023-2025 (``quick``: July-December
2025) every method ranks the cells from the events before the 1st of the month
and is scored on that month's events (:func:`samverkan.analysis.forecast.backtest`).

Data: ``SHARED/vancouver-vpd-2020-2026/*.csv.gz`` (see its SOURCE.md). Rows
without a location (X = 0 or blank: all violent crime), rows at the
"X NK_LOC ST" / "UNKNOWN" default points and the two vehicle-collision types
(not crimes) are dropped. Coordinates are UTM 10N metres snapped by VPD to the
hundred block, so 100 m cells are close to the resolution of the data.

Mask (the studied area): cells with at least one located crime of any type in
the whole file (2020-01 to 2026-02). This stands in for the city's land area
(it leaves out water, parks and cells no event ever reached); it uses the
locations of later events but no counts, and is the same for every method.

Methods: "naive 1m" = counts in the last period of the forecast month's length
(about the last month), ties broken by 12-month counts; "naive 1m no tiebreak" =
the same without the tie-break (ties scored by expectation); "naive 12m" =
counts of the last 365 days; "kde 3m" and "kde 12m" = quartic KDE of the last
91 or 365 days with bandwidth 2 × cell size; "prospective" = Bowers, Johnson &
Pease (2004) weights, 400 m and 8 weeks.

For comparison: Chainey, Tompson & Uhlig (2008) found KDE the best of the
common hotspot maps; Camacho Doyle, Gerell & Andershed (2021) found naive
counts about as good in a Swedish city.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import time
from pathlib import Path

import numpy as np

from bench.run import SHARED, median_time
from samverkan.analysis.forecast import Backtest, NaiveCounts, ProspectiveHotspots, RetrospectiveKDE, backtest
from samverkan.analysis.grid import Grid

DATA = SHARED / "data" / "vancouver-vpd-2020-2026"
EPOCH = dt.date(1970, 1, 1)
NOT_CRIME = ("Vehicle Collision",)
CRIMES = {
    "residential burglary": "Break and Enter Residential/Other",
    "theft from vehicle": "Theft from Vehicle",
    "all types": None,
}
CELLS = (100.0, 250.0)
COVERAGES = (0.01, 0.05, 0.10)


def load(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Located property crimes as ``(type, x, y, t_days)``."""
    types: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    ts: list[float] = []
    for path in sorted(folder.glob("*.csv.gz")):
        with gzip.open(path, "rt", newline="") as fh:
            for row in csv.DictReader(fh):
                x, y = row["X"].strip(), row["Y"].strip()
                if not x or not y or float(x) == 0.0:
                    continue
                block = row["HUNDRED_BLOCK"]
                if "NK_LOC" in block or "UNKNOWN" in block or row["TYPE"].startswith(NOT_CRIME):
                    continue
                day = dt.date(int(row["YEAR"]), int(row["MONTH"]), int(row["DAY"]))
                minutes = int(row["HOUR"]) * 60 + int(row["MINUTE"])
                types.append(row["TYPE"])
                xs.append(float(x))
                ys.append(float(y))
                ts.append((day - EPOCH).days + minutes / 1440.0)
    return np.array(types), np.array(xs), np.array(ys), np.array(ts)


def month_starts(first: tuple[int, int], n: int) -> np.ndarray:
    """Day numbers of ``n + 1`` consecutive month starts from ``first`` (year, month)."""
    y, m = first
    out = []
    for _ in range(n + 1):
        out.append((dt.date(y, m, 1) - EPOCH).days)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return np.array(out, dtype=float)


def methods_for(cell: float) -> list:
    return [
        NaiveCounts(lookback=None, label="naive 1m"),
        NaiveCounts(lookback=None, history=None, label="naive 1m no tiebreak"),
        NaiveCounts(lookback=365.0, label="naive 12m"),
        RetrospectiveKDE(lookback=91.0, bandwidth=2 * cell, label="kde 3m"),
        RetrospectiveKDE(lookback=365.0, bandwidth=2 * cell, label="kde 12m"),
        ProspectiveHotspots(distance_bandwidth=400.0, time_bandwidth=56.0, label="prospective"),
    ]


def run(quick: bool) -> list[dict]:
    if not DATA.is_dir():
        return [{"case": "forecast vancouver", "ours_s": None, "note": f"skipped: {DATA} not found"}]
    t0 = time.perf_counter()
    types, x, y, t = load(DATA)
    rows: list[dict] = [
        {
            "case": "load vancouver",
            "ours_s": time.perf_counter() - t0,
            "note": f"{x.size} located crimes, {len(set(types.tolist()))} types",
        }
    ]
    periods = month_starts((2025, 7), 6) if quick else month_starts((2023, 1), 36)
    for cell in CELLS:
        grid = Grid.covering(float(x.min()), float(y.min()), float(x.max()), float(y.max()), cell)
        mask = grid.bin(x, y) > 0
        for crime, type_name in CRIMES.items():
            sel = np.ones(x.size, dtype=bool) if type_name is None else types == type_name
            xs, ys, ts = x[sel], y[sel], t[sel]
            methods = methods_for(cell)
            result: list[Backtest] = []

            def once(xs=xs, ys=ys, ts=ts, grid=grid, mask=mask, methods=methods, result=result) -> None:
                result.append(
                    backtest(xs, ys, ts, grid=grid, periods=periods, methods=methods, mask=mask, coverages=COVERAGES)
                )

            seconds = median_time(once)
            bt = result[-1]
            per_month = float(bt.n_events.mean())
            for method in bt.methods:
                for cov in COVERAGES:
                    s = bt.score(method, cov)
                    rows.append(
                        {
                            "case": f"{crime} {cell:g}m {method} @{cov:g}",
                            "ours_s": seconds,
                            "note": (
                                f"hit={s.hit_rate:.3f}, PAI={s.pai:.2f}, PEI={s.pei:.2f}; "
                                f"{bt.n_events.size} months, {per_month:.0f} events/month, "
                                f"{int(mask.sum())} cells"
                            ),
                        }
                    )
    return rows
