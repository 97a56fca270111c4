"""Server time of the weekly lägesbild: ``picture_compute`` on a real database, for the Ystad demo and 1M reports.

Targets from the issue: the weekly picture of the Ystad demo under 1 s, and under 2 s with 1,000,000 reports
(pre-aggregated counts, not a scan of every row).

Each case builds a fresh SQLite database in a temporary ``SAMVERKAN_VAR_DIR`` with ``samverkan migrate`` and
``samverkan demo`` in subprocesses, then measures in another subprocess with ``django.setup()``, so the settings
are read from that environment and nothing touches the developer's database. The demo command writes about 5,000
reports a second through the ORM (over three minutes for a million), so the million case loads the demo without
reports and writes the synthetic reports of the same generator straight into the tables, then rebuilds the daily
counts with ``situation.services.daily_counts_rebuild``.

What is timed is the picture computation for the latest full ISO week (the figures, trend, map, weekday × hour and
near-repeat test) as the page's view would call it — the first call in a fresh process separately (cold: the
user's grants, the projection and the database pages not yet cached), then the median of warm calls. There is no
reference implementation to compare with.

Run as ``python -m bench.run lagesbild_page``; ``--quick`` skips the million.
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
MILLION = 1_000_000
WARM_REPEAT = 5
END_DATE = dt.date(2026, 11, 25)


def _samverkan(var_dir: Path, *args: str) -> float:
    env = {**os.environ, "SAMVERKAN_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"}
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "samverkan.cli", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def _here(var_dir: Path, *args: str) -> dict:
    """Run this module in a subprocess against the database in ``var_dir``; it prints one JSON object."""
    env = {**os.environ, "SAMVERKAN_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_lagesbild_page", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _case(label: str, m: dict, build_s: float, target: float) -> dict:
    return {
        "case": label,
        "ours_s": m["shared_warm_s"],
        "note": (
            f"target < {target:g} s; {m['period']} ({m['week_reports']} reports in the week, {m['total_reports']:,} "
            f"in the database); cold first call {m['shared_cold_s']:.3f} s; police view {m['police_warm_s']:.3f} s; "
            f"area {m['area']!r} {m['area_warm_s']:.3f} s; year {m['year_warm_s']:.3f} s; {m['queries']} queries; "
            f"JSON {m['json_kb']:.0f} kB; database built in {build_s:.0f} s"
        ),
    }


def run(quick: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="lagesbild-demo-") as tmp:
        var_dir = Path(tmp)
        build = _samverkan(var_dir, "migrate", "-v0")
        build += _samverkan(var_dir, "demo", "--end-date", END_DATE.isoformat(), "--incidents", str(DEMO_INCIDENTS))
        rows.append(_case("weekly picture, Ystad demo (33,000 reports)", _here(var_dir, "measure"), build, 1.0))
    if quick:
        rows.append({"case": "weekly picture, 1,000,000 reports", "ours_s": None, "note": "skipped in --quick"})
        return rows
    with tempfile.TemporaryDirectory(prefix="lagesbild-million-") as tmp:
        var_dir = Path(tmp)
        build = _samverkan(var_dir, "migrate", "-v0")
        build += _samverkan(var_dir, "demo", "--end-date", END_DATE.isoformat(), "--incidents", "0")
        began = time.perf_counter()
        _here(var_dir, "fill", str(MILLION))
        build += time.perf_counter() - began
        rows.append(_case("weekly picture, 1,000,000 reports", _here(var_dir, "measure"), build, 2.0))
    return rows


# --------------------------------------------------------------------------------------------------------------------
# Subprocess side: Django is set up from the environment given by the parent.
# --------------------------------------------------------------------------------------------------------------------


def _fill(n: int) -> dict:
    """Write ``n`` synthetic reports of the demo generator directly, link them to areas, rebuild the daily counts."""
    import numpy as np
    from django.db import connection, transaction

    from samverkan.accounts.models import Organisation, User
    from samverkan.core.demo import synth
    from samverkan.core.demo.load import ORGANISATION_OF
    from samverkan.incidents.models import Category, Incident, Source
    from samverkan.places.geo import to_sweref
    from samverkan.places.models import Municipality
    from samverkan.places.selectors import area_ids_containing
    from samverkan.situation.services import daily_counts_rebuild

    start, end = synth.default_period(END_DATE)
    data = synth.generate(start, end, rng=2023, n_target=n)
    x, y = to_sweref(data.lon, data.lat)
    occurred = [t.strftime("%Y-%m-%d %H:%M:%S") for t in synth.local_datetimes(data.occurred)]
    categories = dict(Category.objects.filter(municipality__isnull=True).values_list("code", "pk"))
    municipalities = dict(
        Municipality.objects.filter(code__in=set(data.municipality.tolist())).values_list("code", "pk")
    )
    organisations = {kind: Organisation.objects.get(name=name).pk for kind, name in ORGANISATION_OF.items()}
    users = dict(User.objects.values_list("username", "pk"))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    first_id = (Incident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    ids = np.arange(first_id, first_id + len(data))
    columns = (
        "id, occurred_from, reported_at, lat, lon, x, y, precision, description, severity, police_reported, "
        "fault_reported, sensitivity, status, source, external_id, personal_data_flags, created_at, updated_at, "
        "category_id, municipality_id, reporter_id, source_organisation_id"
    )
    rows = (
        (
            int(ids[i]),
            occurred[i],
            occurred[i],
            float(data.lat[i]),
            float(data.lon[i]),
            float(x[i]),
            float(y[i]),
            str(data.precision[i]),
            str(data.description[i]),
            int(data.severity[i]),
            bool(data.police_reported[i]),
            bool(data.fault_reported[i]),
            str(data.sensitivity[i]),
            str(data.status[i]),
            Source.DEMO,
            f"bench-{i}",
            "[]",
            now,
            now,
            categories[str(data.category[i])],
            municipalities[str(data.municipality[i])],
            users[str(data.reporter[i])],
            organisations[str(data.organisation[i])],
        )
        for i in range(len(data))
    )
    placeholders = ", ".join(["%s"] * 23)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO incidents_incident ({columns}) VALUES ({placeholders})", rows)
        links = []
        for code, municipality_id in municipalities.items():
            where = np.flatnonzero(data.municipality == code)
            per_point = area_ids_containing(municipality_id=municipality_id, lon=data.lon[where], lat=data.lat[where])
            links.extend((int(ids[i]), a) for i, area_ids in zip(where, per_point, strict=True) for a in area_ids)
        cursor.executemany("INSERT INTO incidents_incident_areas (incident_id, area_id) VALUES (%s, %s)", links)
    daily_counts_rebuild(municipality_ids=list(municipalities.values()))
    return {"reports": len(data), "links": len(links)}


def _measure() -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from samverkan.accounts.models import User
    from samverkan.incidents.models import Incident
    from samverkan.places.models import Area, Municipality
    from samverkan.situation.periods import period_containing
    from samverkan.situation.selectors import picture_compute

    ystad = Municipality.objects.get(code="1286")
    week = period_containing("week", END_DATE).shifted(-1)
    year = period_containing("year", END_DATE).shifted(-1)
    centrum = Area.objects.filter(municipality=ystad).current().order_by("pk").first()
    samordnare = User.objects.get(username="samordnare")
    kommunpolis = User.objects.get(username="kommunpolis")

    def timed(**kwargs) -> tuple[float, dict]:
        began = time.perf_counter()
        result = picture_compute(municipality_id=ystad.pk, **kwargs)
        return time.perf_counter() - began, result

    def warm(**kwargs) -> float:
        times = sorted(timed(**kwargs)[0] for _ in range(WARM_REPEAT))
        return times[len(times) // 2]

    cold, picture = timed(user=samordnare, period=week)
    with CaptureQueriesContext(connection) as queries:
        picture_compute(user=samordnare, municipality_id=ystad.pk, period=week)
    return {
        "period": week.label,
        "week_reports": picture["total"]["current"],
        "total_reports": Incident.objects.count(),
        "shared_cold_s": cold,
        "shared_warm_s": warm(user=samordnare, period=week),
        "police_warm_s": warm(user=kommunpolis, period=week, view="police"),
        "area": centrum.name,
        "area_warm_s": warm(user=samordnare, period=week, area_id=centrum.pk),
        "year_warm_s": warm(user=samordnare, period=year),
        "queries": len(queries),
        "json_kb": len(json.dumps(picture)) / 1024,
    }


def _main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    if argv[0] == "fill":
        result = _fill(int(argv[1]))
    elif argv[0] == "measure":
        result = _measure()
    else:
        raise SystemExit(f"unknown command {argv[0]!r}; expected fill N or measure")
    print(json.dumps(result))


if __name__ == "__main__":
    _main(sys.argv[1:])
