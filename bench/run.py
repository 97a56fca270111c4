"""Run the benchmarks: ``python -m bench.run [NAME ...]``.

Each module ``bench/bench_<name>.py`` exposes ``run(quick: bool) -> list[dict]``; every row holds at least
``case``, ``ours_s`` and, where a reference library covers the same computation, ``reference``,
``reference_s`` and ``ratio`` (reference time ÷ ours). Rows are printed as a table and written as JSON to
``var/bench/results.json`` together with a description of the machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SAMVERKAN_SHARED", ROOT.parent / "shared"))


def median_time(fn: Callable[[], object], *, repeat: int = 3) -> float:
    """Median wall time of ``repeat`` calls of ``fn`` in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def machine() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
    }


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))


def print_table(rows: list[dict[str, object]]) -> None:
    cols = ["bench", "case", "ours_s", "reference", "reference_s", "ratio", "note"]

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None else str(v)

    table = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) if table else len(c) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(discover())})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "results.json"))
    args = parser.parse_args(argv)
    rows: list[dict[str, object]] = []
    for name in args.names or discover():
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name}", file=sys.stderr, flush=True)
        for row in module.run(quick=args.quick):
            rows.append({"bench": name, **row})
    print_table(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2, ensure_ascii=False, default=str))
    print(f"\nwritten: {out}  machine: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
