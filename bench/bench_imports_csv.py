"""Import of reports from a municipal CSV export: 1,000,000 rows (100,000 with ``--quick``) into a fresh SQLite.

The file is what municipalities send: cp1252, semicolons, decimal commas, Swedish dates and times ("21.30"), with
points in Ystad. Each case runs ``samverkan import incidents`` in a subprocess against a new database under a
temporary ``SAMVERKAN_VAR_DIR`` (migrated, with the Ystad demo's outlines, areas and organisations but no reports), so
the time includes starting Django. Target: the first run of 1M rows in < 120 s. The second run of the same file finds
every row unchanged.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from samverkan.core.demo.geography import KOMMUNER

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "Ärendenr",
    "Kategori",
    "Datum",
    "Klockslag",
    "Latitud",
    "Longitud",
    "Beskrivning",
    "Antal personer",
    "Allvarlighet",
    "Polisanmält",
    "Felanmält",
]
CATEGORIES = {
    "Klotter": "klotter",
    "Skadegörelse": "skadegorelse",
    "Nedskräpning": "nedskrapning",
    "Brand": "brand",
    "Belysning ur funktion": "otrygg-plats",
    "Otrygg samling": "otrygg-samling",
    "Narkotika": "narkotika",
    "Berusade personer": "berusade",
    "Buskörning": "buskorning",
    "Övrigt": "ovrigt",
}
WHAT = (
    "Klotter på elskåp",
    "Krossad ruta i busskur",
    "Skräp och flaskor",
    "Brand i papperskorg",
    "Trasig belysning",
    "Grupp ungdomar, stökigt",
    "Misstänkt langning",
    "Berusade personer, bråk",
    "Mopeder i hög fart",
    "Cykelställ vandaliserat",
)
WHERE = (
    "Stortorget",
    "Sandskogen",
    "busstationen",
    "Östra förstaden",
    "hamnen",
    "Norra Ystad",
    "idrottsplatsen",
    "skolgården",
    "gångtunneln",
    "Surbrunnsplan",
)
MAPPING = f"""
source_key = "bench-est"
organisation = "Ystads kommun"
municipality = "1286"

[file]
encoding = "auto"
delimiter = "auto"

[columns]
external_id = "Ärendenr"
category = "Kategori"
date = "Datum"
time = "Klockslag"
lat = "Latitud"
lon = "Longitud"
description = "Beskrivning"
persons = "Antal personer"
severity = "Allvarlighet"
police_reported = "Polisanmält"
fault_reported = "Felanmält"

[categories]
{chr(10).join(f'"{k}" = "{v}"' for k, v in CATEGORIES.items())}
"""


def ystad_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in Ystad kommun (the demo's outline), most of them in town."""
    outline = shape(next(k for k in KOMMUNER if k.code == "1286").geojson())
    lon, lat = np.empty(0), np.empty(0)
    while lon.size < n:
        town = rng.random(2 * n) < 0.8
        cand_lon = np.where(town, rng.normal(13.825, 0.015, 2 * n), rng.uniform(13.63, 14.07, 2 * n))
        cand_lat = np.where(town, rng.normal(55.436, 0.006, 2 * n), rng.uniform(55.42, 55.57, 2 * n))
        # Rounded as written to the file, so that no point crosses the outline on the way.
        cand_lon, cand_lat = cand_lon.round(6), cand_lat.round(6)
        keep = shapely.contains_xy(outline, cand_lon, cand_lat)
        lon, lat = np.concatenate([lon, cand_lon[keep]]), np.concatenate([lat, cand_lat[keep]])
    return lon[:n], lat[:n]


def write_export(path: Path, n: int, *, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lon, lat = ystad_points(n, rng)
    days = np.datetime64("2022-01-01") + rng.integers(0, 3 * 365, n)
    minutes = rng.integers(0, 24 * 60, n)
    categories = rng.integers(0, len(CATEGORIES), n)
    what, where, extra = rng.integers(0, len(WHAT), n), rng.integers(0, len(WHERE), n), rng.integers(1, 60, n)
    door = rng.integers(1, 10_000, n)  # free text is mostly unique, so screening it cannot lean on a cache
    persons = rng.integers(0, 20, n)
    severity = rng.integers(1, 4, n)
    police, fault = rng.random(n) < 0.2, rng.random(n) < 0.3
    names = list(CATEGORIES)
    with open(path, "w", encoding="cp1252", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(n):
            writer.writerow(
                (
                    f"EST-{i:07d}",
                    names[categories[i]],
                    str(days[i]),
                    f"{minutes[i] // 60:02d}.{minutes[i] % 60:02d}",
                    f"{lat[i]:.6f}".replace(".", ","),
                    f"{lon[i]:.6f}".replace(".", ","),
                    f"{WHAT[what[i]]} vid {WHERE[where[i]]}, ca {extra[i]} m från ingång {door[i]}",
                    str(persons[i]) if persons[i] else "",
                    str(severity[i]),
                    "ja" if police[i] else "nej",
                    "x" if fault[i] else "",
                )
            )


def samverkan(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "samverkan.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"samverkan {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def run(quick: bool) -> list[dict]:
    n = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-import-") as tmp:
        directory = Path(tmp)
        env = {**os.environ, "SAMVERKAN_VAR_DIR": str(directory / "var"), "DATABASE_URL": ""}
        env["DJANGO_SETTINGS_MODULE"] = "config.settings"
        samverkan(["migrate", "-v0"], env)
        samverkan(["demo", "--incidents", "0"], env)
        export = directory / "est-export.csv"
        generated = time.perf_counter()
        write_export(export, n, seed=1286)
        generated = time.perf_counter() - generated
        mapping = directory / "est-export.toml"
        mapping.write_text(MAPPING, encoding="utf-8")
        command = ["import", "incidents", str(export), "--mapping", str(mapping), "--quiet"]
        first, first_out = samverkan(command, env)
        second, second_out = samverkan(command, env)
        size_mb = export.stat().st_size / 1e6
    if f"{n} nya" not in first_out or f"{n} oförändrade" not in second_out:
        raise RuntimeError(f"unexpected import summaries:\n{first_out}\n{second_out}")
    note = f"{size_mb:.0f} MB cp1252 CSV generated in {generated:.0f} s; includes Django start-up"
    return [
        {
            "case": f"CSV import, {n:,} rows, first run (all new)",
            "ours_s": first,
            "note": ("target < 120 s; " if n == 1_000_000 else "") + note,
        },
        {"case": f"CSV import, {n:,} rows, second run (all unchanged)", "ours_s": second, "note": note},
    ]


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(result)
