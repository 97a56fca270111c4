"""Server time of "right place, right time": ``suggestions_compute`` on the Ystad demo, per focus area.

Each run builds a fresh SQLite database in a temporary ``SAMVERKAN_VAR_DIR`` with ``samverkan migrate`` and
``samverkan demo`` (about 33,000 synthetic reports over three years) in subprocesses, then measures in another
subprocess with ``django.setup()``, so nothing touches the developer's database.

What is timed is the whole page's computation for Ystad as the view calls it: reading the focus area's reports
through the access funnel, the 250 m grid over the outline, the weekly back-test of three forecasts over 52 weeks,
next week's ranking, places and time blocks — the first call in a fresh process (cold) separately, then the median
of warm calls. There is no reference implementation of the whole to compare with; the forecasts themselves are
benchmarked in ``bench_forecast``.

Run as ``python -m bench.run suggestions``; ``--quick`` measures one focus area.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import ROOT

DEMO_INCIDENTS = 33_000
END_DATE = dt.date(2026, 11, 25)
WARM_REPEAT = 3
FOCUS_AREAS = ("droger", "trafik", "trygghet")


def _samverkan(var_dir: Path, *args: str) -> float:
    env = {**os.environ, "SAMVERKAN_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"}
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "samverkan.cli", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def _here(var_dir: Path, *args: str) -> dict:
    env = {**os.environ, "SAMVERKAN_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_suggestions", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="suggestions-demo-") as tmp:
        var_dir = Path(tmp)
        build = _samverkan(var_dir, "migrate", "-v0")
        build += _samverkan(var_dir, "demo", "--end-date", END_DATE.isoformat(), "--incidents", str(DEMO_INCIDENTS))
        for focus in FOCUS_AREAS[:1] if quick else FOCUS_AREAS:
            m = _here(var_dir, focus)
            rows.append(
                {
                    "case": f"suggestions, Ystad demo, {focus}, 52-week back-test",
                    "ours_s": m["warm_s"],
                    "note": (
                        f"cold first call {m['cold_s']:.3f} s; {m['placed']} placed reports in 52 weeks "
                        f"({m['not_placed']} not placeable); {m['cells']} cells of {m['cell_size']:g} m; "
                        f"{m['weeks']} weeks back-tested; PAI at 5 %: {m['pai5']}; ranked by {m['chosen']}; "
                        f"{m['suggestions']} places; {m['queries']} queries; database built in {build:.0f} s"
                    ),
                }
            )
    return rows


# --------------------------------------------------------------------------------------------------------------------
# Subprocess side: Django is set up from the environment given by the parent.
# --------------------------------------------------------------------------------------------------------------------


def _measure(focus: str) -> dict:
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from samverkan.accounts.models import User
    from samverkan.places.models import Municipality
    from samverkan.plan.suggestions import suggestions_compute

    ystad = Municipality.objects.get(code="1286")
    user = User.objects.get(username="samordnare")
    now = dt.datetime.combine(END_DATE, dt.time(12), tzinfo=ZoneInfo("Europe/Stockholm"))

    def call() -> dict:
        return suggestions_compute(user=user, municipality_id=ystad.pk, focus_area_code=focus, now=now)

    began = time.perf_counter()
    result = call()
    cold = time.perf_counter() - began
    times = []
    for _ in range(WARM_REPEAT):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    with CaptureQueriesContext(connection) as queries:
        call()
    bt = result["backtest"] or {"methods": [], "weeks": 0, "chosen": None}
    return {
        "cold_s": cold,
        "warm_s": sorted(times)[len(times) // 2],
        "placed": result["events"]["placed"],
        "not_placed": sum(result["events"]["not_placed"].values()),
        "cells": result["grid"]["cells_studied"],
        "cell_size": result["grid"]["cell_size"],
        "weeks": bt["weeks"],
        "pai5": {m["code"]: m["rows"][1]["pai"] for m in bt["methods"]},
        "chosen": bt["chosen"],
        "suggestions": len(result["suggestions"]),
        "queries": len(queries),
    }


def _main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(json.dumps(_measure(argv[0])))


if __name__ == "__main__":
    _main(sys.argv[1:])
