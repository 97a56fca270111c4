"""Charts and map images of a lägesbild picture: readable markup, numbers present, patterns as well as colours, and
map overlays that land where Leaflet puts them."""

from __future__ import annotations

import copy
import io
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from django.utils import translation
from PIL import Image

from samverkan.places.geo import to_sweref, to_wgs84
from samverkan.situation import render

SVG = "{http://www.w3.org/2000/svg}"
CELL = 200.0
X0, Y0, NX, NY = 413_000.0, 6_136_300.0, 185, 110
# Ystad town centre; with this grid it is the centre of cell [34, 61].
HOT_X, HOT_Y = 425_300.0, 6_143_200.0
HOT_ROW, HOT_COL = 34, 61


def _grid_bbox() -> list[float]:
    xs = np.array([X0, X0 + NX * CELL, X0, X0 + NX * CELL])
    ys = np.array([Y0, Y0, Y0 + NY * CELL, Y0 + NY * CELL])
    lon, lat = to_wgs84(xs, ys)
    return [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]


def _round3(a: np.ndarray) -> np.ndarray:
    out = np.zeros_like(a)
    nz = a > 0
    digits = 2 - np.floor(np.log10(a[nz])).astype(int)
    out[nz] = [round(float(v), int(d)) for v, d in zip(a[nz], digits, strict=True)]
    return out


def sample_picture() -> dict:
    """A weekly picture of Ystad (week 48 2026) as the computing side produces it (schema 1)."""
    rng = np.random.default_rng(48)
    # Reports clustered in the town centre, by the harbour and in Löderup, plus a thin scatter.
    centres = [(HOT_X, HOT_Y, 30, 250.0), (426_800.0, 6_142_600.0, 14, 300.0), (441_000.0, 6_139_000.0, 8, 350.0)]
    xs, ys = [], []
    for cx, cy, n, sd in centres:
        xs.append(rng.normal(cx, sd, n))
        ys.append(rng.normal(cy, sd, n))
    xs.append(rng.uniform(X0 + 2000, X0 + NX * CELL - 2000, 8))
    ys.append(rng.uniform(Y0 + 2000, Y0 + NY * CELL - 2000, 8))
    px, py = np.concatenate(xs), np.concatenate(ys)
    cx = X0 + (np.arange(NX) + 0.5) * CELL
    cy = Y0 + (np.arange(NY) + 0.5) * CELL
    gx, gy = np.meshgrid(cx, cy)
    bandwidth = 400.0
    kde = np.zeros((NY, NX))
    for x, y in zip(px, py, strict=True):
        d2 = ((gx - x) ** 2 + (gy - y) ** 2) / bandwidth**2
        kde += np.where(d2 < 1, 3 / (math.pi * bandwidth**2) * (1 - d2) ** 2, 0.0) * 1e6
    kde = _round3(kde)
    peak = kde.max()
    gi = np.zeros((NY, NX), dtype=int)
    gi[kde >= 0.25 * peak] = 1
    gi[kde >= 0.4 * peak] = 2
    gi[kde >= 0.6 * peak] = 3
    gi[80:84, 100:106] = -1
    gi[81:83, 101:104] = -2
    lon, lat = to_wgs84(px, py)

    weekday_hour = rng.poisson(0.15, (7, 24))
    weekday_hour[4:6, 20:24] += rng.poisson(2.0, (2, 4))  # Friday and Saturday evenings
    weekday_hour[5, 23] = 14
    labels = [f"v. {w}" for w in range(37, 49)]
    droger = [3, 5, 4, 6, 5, 7, 6, 8, 7, 9, 8, 12]
    trafik = [6, 4, 5, 5, 7, 4, 6, 5, 6, 5, 7, 6]
    trygghet = [10, 12, 9, 11, 13, 12, 14, 12, 15, 13, 16, 24]
    total = [a + b + c for a, b, c in zip(droger, trafik, trygghet, strict=True)]

    def figure(code: str, name: str, series: list[int]) -> dict:
        base = series[-9:-1]
        expected = sum(base) / len(base)
        lower = max(0, math.floor(expected - 2 * math.sqrt(expected)))
        upper = math.ceil(expected + 2 * math.sqrt(expected))
        current = series[-1]
        flag = "higher" if current > upper else "lower" if current < lower else "as_expected"
        return {
            "code": code,
            "name": name,
            "current": current,
            "expected": expected,
            "lower": lower,
            "upper": upper,
            "flag": flag,
            "percent_change": 100 * (series[-1] - expected) / expected,
            "p": 0.03,
            "baseline": "de 8 föregående veckorna",
        }

    return {
        "schema": 1,
        "municipality": {"id": 1, "code": "1286", "name": "Ystad"},
        "area": None,
        "focus_area": None,
        "period": {"kind": "week", "start": "2026-11-23", "end": "2026-11-30", "label": "Vecka 48 2026"},
        "view": "shared",
        "restricted_excluded": True,
        "data_cutoff": "2026-11-30T06:00:00+00:00",
        "total": {**figure("", "Totalt", total), "code": None},
        "key_figures": [
            figure("droger", "Droger", droger),
            figure("trafik", "Trafik", trafik),
            figure("trygghet", "Trygghet", trygghet),
        ],
        "trend": {
            "labels": labels,
            "starts": [f"2026-{m}" for m in ["09-07", "09-14", "09-21", "09-28", "10-05", "10-12"]]
            + [f"2026-{m}" for m in ["10-19", "10-26", "11-02", "11-09", "11-16", "11-23"]],
            "total": total,
            "by_focus": {"droger": droger, "trafik": trafik, "trygghet": trygghet},
            "test": {"flag": "increasing", "relative_change": 0.04, "ci": [0.01, 0.07], "p": 0.004, "per": "vecka"},
        },
        "weekday_hour": {
            "counts": weekday_hour.tolist(),
            "n": int(weekday_hour.sum()),
            "p": 0.001,
            "test_reliable": True,
            "note": "Fler rapporter fredag och lördag kväll.",
        },
        "top_categories": [{"code": "narkotika", "name": "Misstänkt narkotikahantering", "count": 9, "previous": 6}],
        "top_areas": [{"id": 3, "name": "Centrum", "count": 21}],
        "map": {
            "crs": "EPSG:3006",
            "grid": {"x0": X0, "y0": Y0, "cell_size": CELL, "nx": NX, "ny": NY},
            "bandwidth": bandwidth,
            "radius": 400.0,
            "kernel": "quartic",
            "kde": kde.tolist(),
            "gi": gi.tolist(),
            "points_used": len(px),
            "points_excluded": 7,
            "bbox_wgs84": _grid_bbox(),
            "points": np.column_stack([lon, lat]).tolist(),
        },
        "near_repeat": {"tested": False, "significant": False, "message": "För få rapporter.", "bands": []},
    }


def one_hot_picture() -> dict:
    """The sample picture with nothing on the map but one hot cell, at Ystad's town centre."""
    picture = sample_picture()
    gi = np.zeros((NY, NX), dtype=int)
    gi[HOT_ROW, HOT_COL] = 3
    picture["map"]["gi"] = gi.tolist()
    picture["map"]["kde"] = None
    return picture


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def check_accessible_svg(root: ET.Element) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") and root.get("width") == "100%"
    ids = root.get("aria-labelledby").split()
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert [by_id[i].tag for i in ids] == [f"{SVG}title", f"{SVG}desc"]
    assert all(by_id[i].text.strip() for i in ids)


def decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    image.load()
    return np.asarray(image.convert("RGBA"))


def mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def overlay_pixel(lon: float, lat: float, bounds: list[list[float]], width: int, height: int) -> tuple[int, int]:
    """Row and column at (lon, lat) of an image that Leaflet stretches over ``bounds`` on the Mercator plane."""
    (s, w), (n, e) = bounds
    col = math.floor((lon - w) / (e - w) * width)
    row = math.floor((mercator_y(n) - mercator_y(lat)) / (mercator_y(n) - mercator_y(s)) * height)
    return row, col


# --- trend -------------------------------------------------------------------------------------------------------


def test_trend_svg_has_lines_styles_labels_and_latest_numbers():
    picture = sample_picture()
    with translation.override("en"):
        svg = render.trend_svg(picture)
    root = parse(svg)
    check_accessible_svg(root)
    assert "Ystad" in root.find(f"{SVG}title").text and "Vecka 48 2026" in root.find(f"{SVG}title").text
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == 4
    assert len({ln.get("stroke-dasharray") for ln in lines}) == 4  # solid, dashed, dotted, dash-dot
    for line in lines:
        assert len(line.get("points").split()) == 12
    labels = texts(root.find(f".//{SVG}g[@class='line-labels']"))
    assert labels == ["Total 42", "Droger 12", "Trafik 6", "Trygghet 24"]
    desc = root.find(f"{SVG}desc").text
    assert "Total 42, Droger 12, Trafik 6, Trygghet 24" in desc
    assert "increasing, +4.0 % per vecka (95 % interval +1.0 to +7.0 %)" in desc
    assert "v. 48" in texts(root) and "Number of reports" in texts(root)


def test_trend_line_heights_follow_the_values():
    root = parse(render.trend_svg(sample_picture()))
    total = root.find(f".//{SVG}polyline[@data-series='{translation.gettext('Total')}']")
    ys = [float(p.split(",")[1]) for p in total.get("points").split()]
    values = sample_picture()["trend"]["total"]
    # y grows downwards and is linear in the value.
    slope = (ys[-1] - ys[0]) / (values[-1] - values[0])
    assert slope < 0
    assert ys == pytest.approx([ys[0] + slope * (v - values[0]) for v in values], abs=0.15)


def test_trend_ticks_are_thinned_and_keep_the_latest_period():
    picture = sample_picture()
    n = 53
    picture["trend"]["labels"] = [f"Vecka {w} 2026" for w in range(1, n + 1)]
    picture["trend"]["total"] = list(range(n))
    picture["trend"]["by_focus"] = {"droger": [v // 2 for v in range(n)]}
    root = parse(render.trend_svg(picture))
    ticks = root.find(f".//{SVG}g[@class='axis axis-x']/{SVG}g[@class='ticks']")
    shown = texts(ticks)
    assert 3 <= len(shown) < 15
    assert "Vecka 53 2026" in shown
    xs = sorted(float(t.get("x")) for t in ticks.iter(f"{SVG}text"))
    assert min(np.diff(xs)) > 14 * 6  # labels of 14 characters do not collide


def test_trend_end_labels_are_pushed_apart():
    picture = sample_picture()
    for code in ("droger", "trafik", "trygghet"):
        picture["trend"]["by_focus"][code][-1] = 5
    root = parse(render.trend_svg(picture))
    ys = sorted(float(t.get("y")) for t in root.find(f".//{SVG}g[@class='line-labels']").iter(f"{SVG}text"))
    assert min(np.diff(ys)) >= 15.9


def test_trend_single_focus_area_is_drawn_once():
    picture = sample_picture()
    droger = picture["trend"]["by_focus"]["droger"]
    picture["focus_area"] = {"code": "droger", "name": "Droger"}
    picture["trend"]["total"] = droger
    picture["trend"]["by_focus"] = {"droger": droger}
    root = parse(render.trend_svg(picture))
    assert len(root.findall(f".//{SVG}polyline")) == 1


def test_trend_handles_one_period_no_data_and_escapes_names():
    picture = sample_picture()
    picture["trend"] = {
        "labels": ["v. 48"],
        "total": [1],
        "by_focus": {"x": [0], "y": [1]},
        "test": {"flag": "too_few"},
    }
    picture["key_figures"][0].update(code="x", name="<Droger & co>")
    root = parse(render.trend_svg(picture))
    assert any("<Droger & co> 0" == t for t in texts(root))
    picture["trend"] = {"labels": [], "total": [], "by_focus": {}}
    root = parse(render.trend_svg(picture))
    check_accessible_svg(root)
    assert not root.findall(f".//{SVG}polyline")


def test_trend_shortens_long_names_at_the_line_end_but_not_in_the_description():
    picture = sample_picture()
    picture["key_figures"][2]["name"] = "Trygghet i offentlig miljö"
    root = parse(render.trend_svg(picture))
    labels = texts(root.find(f".//{SVG}g[@class='line-labels']"))
    assert labels[3] == "Trygghet i of… 24"
    assert "Trygghet i offentlig miljö 24" in root.find(f"{SVG}desc").text


def test_trend_refuses_series_of_the_wrong_length():
    picture = sample_picture()
    picture["trend"]["by_focus"]["trafik"] = [1, 2]
    with pytest.raises(ValueError, match="trafik"):
        render.trend_svg(picture)


def test_trend_line_colours_keep_3_to_1_against_white():
    assert render.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert render.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    for colour, _dash, _width in render.LINE_STYLES:
        assert render.contrast_ratio(colour, "#ffffff") >= 3.0


# --- weekday × hour ----------------------------------------------------------------------------------------------


def test_weekday_hour_svg_writes_every_nonzero_count_with_enough_contrast():
    picture = sample_picture()
    counts = picture["weekday_hour"]["counts"]
    with translation.override("sv"):
        svg = render.weekday_hour_svg(picture)
    root = parse(svg)
    check_accessible_svg(root)
    assert texts(root.find(f".//{SVG}g[@class='days']")) == ["Mån", "Tis", "Ons", "Tor", "Fre", "Lör", "Sön"]
    assert texts(root.find(f".//{SVG}g[@class='hours']")) == [str(h) for h in range(24)]
    cells = root.find(f".//{SVG}g[@class='cells']")
    written: dict[int, tuple[str, str]] = {}
    fills: list[str] = []
    for el in cells:
        if el.tag == f"{SVG}rect":
            fills.append(el.get("fill"))
        else:
            written[len(fills) - 1] = (el.text, el.get("fill"))
    assert len(fills) == 7 * 24
    for k, fill in enumerate(fills):
        count = counts[k // 24][k % 24]
        if count:
            text, ink = written[k]
            assert text == str(count)
            assert render.contrast_ratio(ink, fill) >= 4.5
        else:
            assert k not in written
            assert fill == "#ffffff"
    # Darker means more: the fill's luminance falls as the count rises.
    by_count = {counts[k // 24][k % 24]: render.relative_luminance(f) for k, f in enumerate(fills)}
    ordered = [by_count[c] for c in sorted(by_count)]
    assert ordered == sorted(ordered, reverse=True)
    with translation.override("en"):
        desc = parse(render.weekday_hour_svg(picture)).find(f"{SVG}desc").text
    assert f"Heat map of {picture['weekday_hour']['n']} reports" in desc
    assert "Most reports: Saturday 23:00–00:00 with 14." in desc
    assert desc.endswith(picture["weekday_hour"]["note"])


def test_weekday_hour_table_has_every_count_and_totals():
    picture = sample_picture()
    counts = picture["weekday_hour"]["counts"]
    with translation.override("sv"):
        html = render.weekday_hour_table_html(picture)
    table = ET.fromstring(html)
    assert table.find("caption").text
    head = [th.text for th in table.find("thead/tr")]
    assert head[1:25] == [str(h) for h in range(24)]
    rows = table.findall("tbody/tr")
    assert [r.find("th").text for r in rows] == ["Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Lördag", "Söndag"]
    assert all(r.find("th").get("scope") == "row" for r in rows)
    for d, row in enumerate(rows):
        values = [int(td.text) for td in row.findall("td")]
        assert values[:24] == counts[d]
        assert values[24] == sum(counts[d])
    foot = [int(td.text) for td in table.findall("tfoot/tr/td")]
    assert foot[:24] == [sum(counts[d][h] for d in range(7)) for h in range(24)]
    assert foot[24] == picture["weekday_hour"]["n"]


def test_weekday_hour_empty_and_malformed():
    picture = sample_picture()
    picture["weekday_hour"]["counts"] = [[0] * 24 for _ in range(7)]
    root = parse(render.weekday_hour_svg(picture))
    assert not root.find(f".//{SVG}g[@class='cells']").findall(f"{SVG}text")
    picture["weekday_hour"] = None
    check_accessible_svg(parse(render.weekday_hour_svg(picture)))
    picture["weekday_hour"] = {"counts": [[1] * 24] * 6}
    with pytest.raises(ValueError, match="7 rows"):
        render.weekday_hour_svg(picture)


# --- key figures -------------------------------------------------------------------------------------------------


def test_key_figure_bars_state_numbers_flags_and_range():
    picture = sample_picture()
    with translation.override("en"):
        root = parse(render.key_figures_bars_svg(picture))
    check_accessible_svg(root)
    groups = root.findall(f".//{SVG}g[@class='key-figure']")
    assert [g.get("data-code") for g in groups] == ["droger", "trafik", "trygghet"]
    for group, figure in zip(groups, picture["key_figures"], strict=True):
        words = " ".join(texts(group))
        assert figure["name"] in words
        assert f"{figure['current']} (expected {figure['expected']:.1f}; {figure['lower']}–{figure['upper']})" in words
        bar = group.find(f"{SVG}rect")
        whisker = group.find(f"{SVG}g").findall(f"{SVG}line")
        x_lower, x_upper = float(whisker[0].get("x1")), float(whisker[0].get("x2"))
        x_bar_end = float(bar.get("x")) + float(bar.get("width"))
        # Positions are linear in the value, from the bar's left edge.
        left = float(bar.get("x"))
        per_unit = (x_bar_end - left) / figure["current"]
        assert x_lower - left == pytest.approx(figure["lower"] * per_unit, abs=0.1)
        assert x_upper - left == pytest.approx(figure["upper"] * per_unit, abs=0.1)
    words = " ".join(texts(root))
    assert "▲ Higher than usual" in words and "● Within the usual range" in words


def test_key_figure_bars_without_figures():
    picture = sample_picture()
    picture["key_figures"] = []
    root = parse(render.key_figures_bars_svg(picture))
    assert len(root.findall(f".//{SVG}g[@class='key-figure']")) == 1  # the total stands in
    picture["total"] = None
    root = parse(render.key_figures_bars_svg(picture))
    check_accessible_svg(root)
    assert not root.findall(f".//{SVG}g[@class='key-figure']")


# --- map overlays ------------------------------------------------------------------------------------------------


def test_hot_cell_lands_at_its_lon_lat():
    lon, lat = (float(v) for v in to_wgs84(HOT_X, HOT_Y))
    assert (lon, lat) == pytest.approx((13.8200, 55.4295), abs=6e-4)
    layers = render.map_layers(one_hot_picture())
    assert layers["kde_png"] is None
    image = decode(layers["gi_png"])
    height, width = image.shape[:2]
    assert (width, height) == (layers["width"], layers["height"])
    bounds = layers["bounds"]
    w, s, e, n = _grid_bbox()
    assert bounds == [[s, w], [n, e]]
    r, c = overlay_pixel(lon, lat, bounds, width, height)
    assert image[r, c, 3] > 0
    hot_fill, ink = render.GI_STYLES[3][0], render.GI_STYLES[3][1]
    assert tuple(image[r, c, :3]) in {render._hex_rgb(hot_fill), render._hex_rgb(ink)}
    # 30 m inside each edge of the 200 m cell is hot; 70 m outside each edge is not.
    for dx, dy in [(70, 0), (-70, 0), (0, 70), (0, -70)]:
        for offset, expect_hot in [(1.0, True), (170 / 70, False)]:
            plon, plat = (float(v) for v in to_wgs84(HOT_X + dx * offset, HOT_Y + dy * offset))
            pr, pc = overlay_pixel(plon, plat, bounds, width, height)
            assert (image[pr, pc, 3] > 0) == expect_hot, (dx, dy, offset)
    # Far away everything is transparent: one cell, one small patch.
    far = overlay_pixel(*(float(v) for v in to_wgs84(440_000.0, 6_150_000.0)), bounds, width, height)
    assert image[far][3] == 0
    cell_px = (image[:, :, 3] > 0).sum()
    pixel_m = (e - w) / width * math.cos(math.radians(lat)) * math.pi / 180 * render.EARTH_RADIUS_M
    assert cell_px * pixel_m**2 == pytest.approx(CELL**2, rel=0.2)


def cells_under_pixels(layers: dict) -> np.ndarray:
    """Grid label index (row * NX + col, or -1 outside) under every overlay pixel, projected directly with pyproj."""
    height, width = layers["height"], layers["width"]
    (s, w), (n, e) = layers["bounds"]
    lon = w + (np.arange(width) + 0.5) / width * (e - w)
    my = mercator_y(n) - (np.arange(height) + 0.5) / height * (mercator_y(n) - mercator_y(s))
    lat = np.degrees(2 * np.arctan(np.exp(my)) - np.pi / 2)
    x, y = to_sweref(*np.meshgrid(lon, lat))
    col, row = np.floor((x - X0) / CELL).astype(int), np.floor((y - Y0) / CELL).astype(int)
    inside = (col >= 0) & (col < NX) & (row >= 0) & (row < NY)
    return np.where(inside, row * NX + col, -1)


def test_every_overlay_pixel_shows_the_cell_under_it():
    picture = sample_picture()
    layers = render.map_layers(picture)
    image = decode(layers["gi_png"])
    cells = cells_under_pixels(layers)
    gi = np.array(picture["map"]["gi"]).ravel()
    expected = np.where(cells >= 0, gi[cells], 0)
    # Pixel centres within millimetres of a cell edge may fall either way.
    assert ((image[:, :, 3] > 0) != (expected != 0)).sum() <= 2
    for level, (fill, ink, _pattern, _spacing) in render.GI_STYLES.items():
        colours = {tuple(px) for px in image[expected == level][:, :3]}
        assert colours <= {render._hex_rgb(fill), render._hex_rgb(ink)}, level


def test_every_lone_hot_or_cold_cell_carries_its_pattern():
    picture = sample_picture()
    gi = np.zeros((NY, NX), dtype=int)
    spots = {3: (20, 20), 2: (20, 60), 1: (20, 100), -1: (70, 20), -2: (70, 60), -3: (70, 100)}
    for level, (i, j) in spots.items():
        gi[i, j] = level
    picture["map"]["gi"] = gi.tolist()
    layers = render.map_layers(picture)
    image = decode(layers["gi_png"])
    cells = cells_under_pixels(layers)
    for level, (i, j) in spots.items():
        ink = render._hex_rgb(render.GI_STYLES[level][1])
        pixels = image[cells == i * NX + j]
        assert len(pixels) >= 36, level
        assert any(tuple(px[:3]) == ink and px[3] == 255 for px in pixels), level


def test_hot_and_cold_cells_carry_different_patterns():
    picture = sample_picture()
    layers = render.map_layers(picture)
    image = decode(layers["gi_png"])
    alpha = image[:, :, 3]
    colours = {tuple(px) for px in image[alpha > 0][:, :3]}
    for level, (fill, ink, _pattern, _spacing) in render.GI_STYLES.items():
        if level in (3, 2, 1, -1, -2):  # the levels the sample has
            assert render._hex_rgb(fill) in colours and render._hex_rgb(ink) in colours, level
    # Hot ink pixels lie on diagonals (hatch), cold ink pixels in 2 × 2 blocks on a square lattice (dots).
    hot_ink = np.argwhere(np.all(image[:, :, :3] == render._hex_rgb(render.GI_STYLES[3][1]), axis=2) & (alpha == 255))
    spacing = render.GI_STYLES[3][3]
    assert len(hot_ink) and np.all((hot_ink.sum(axis=1) % spacing) < 2)
    cold_ink = np.argwhere(np.all(image[:, :, :3] == render._hex_rgb(render.GI_STYLES[-2][1]), axis=2) & (alpha == 255))
    spacing = render.GI_STYLES[-2][3]
    assert len(cold_ink) and np.all(cold_ink % spacing < 2)
    legend = {e["level"]: e for e in layers["gi_legend"]}
    assert {legend[k]["pattern"] for k in (1, 2, 3)} == {"hatch"}
    assert {legend[k]["pattern"] for k in (-1, -2, -3)} == {"dots"}
    assert len({legend[k]["spacing"] for k in (1, 2, 3)}) == 3


def test_kde_overlay_is_transparent_where_density_is_zero_and_classes_rise():
    picture = sample_picture()
    layers = render.map_layers(picture)
    image = decode(layers["kde_png"])
    bounds, height, width = layers["bounds"], layers["height"], layers["width"]
    kde = np.array(picture["map"]["kde"])
    legend = layers["kde_legend"]
    assert legend[0]["lower"] == 0 and legend[-1]["upper"] >= kde.max() > legend[-1]["lower"]
    assert len(legend) >= 3
    lum = [render.relative_luminance(e["colour"]) for e in legend]
    assert lum == sorted(lum, reverse=True)
    # The peak cell gets the top class colour; a cell far from every report is transparent.
    i, j = np.unravel_index(np.argmax(kde), kde.shape)
    lon, lat = (float(v) for v in to_wgs84(X0 + (j + 0.5) * CELL, Y0 + (i + 0.5) * CELL))
    r, c = overlay_pixel(lon, lat, bounds, width, height)
    assert tuple(image[r, c]) == (*render._hex_rgb(legend[-1]["colour"]), render.KDE_ALPHA)
    zero = np.argwhere(kde == 0)[0]
    lon, lat = (float(v) for v in to_wgs84(X0 + (zero[1] + 0.5) * CELL, Y0 + (zero[0] + 0.5) * CELL))
    assert image[overlay_pixel(lon, lat, bounds, width, height)][3] == 0
    # Every class the data reaches shows on the image.
    classes = {tuple(image[p]) for p in map(tuple, np.argwhere(image[:, :, 3] > 0))}
    assert {render._hex_rgb(e["colour"]) for e in legend} == {px[:3] for px in classes}


def test_overlay_size_follows_cells_and_is_capped():
    picture = sample_picture()
    layers = render.map_layers(picture, pixels_per_cell=2)
    # 37 km wide at 100 m a pixel, give or take the grid's tilt against the meridians.
    assert 370 <= layers["width"] <= 385
    aspect = layers["height"] / layers["width"]
    (s, w), (n, e) = layers["bounds"]
    assert aspect == pytest.approx((mercator_y(n) - mercator_y(s)) / math.radians(e - w), rel=0.01)
    layers = render.map_layers(picture, pixels_per_cell=50, max_side=600)
    assert max(layers["width"], layers["height"]) <= 600
    assert decode(layers["kde_png"]).shape[:2] == (layers["height"], layers["width"])


def test_empty_layers_give_none():
    picture = sample_picture()
    picture["map"]["kde"] = None
    picture["map"]["gi"] = None
    layers = render.map_layers(picture)
    assert layers["kde_png"] is None and layers["gi_png"] is None and layers["bounds"] is not None
    assert layers["kde_legend"] == [] and layers["gi_legend"] == []
    picture["map"]["kde"] = np.zeros((NY, NX)).tolist()
    picture["map"]["gi"] = np.zeros((NY, NX), dtype=int).tolist()
    layers = render.map_layers(picture)
    assert layers["kde_png"] is None and layers["gi_png"] is None
    picture["map"] = None
    layers = render.map_layers(picture)
    assert layers["bounds"] is None and layers["kde_png"] is None
    assert render.map_png(picture) is None
    assert render.png_data_uri(None) is None


def test_bbox_is_derived_from_the_grid_when_missing_and_shape_is_checked():
    picture = one_hot_picture()
    picture["map"]["bbox_wgs84"] = None
    layers = render.map_layers(picture)
    (s, w), (n, e) = layers["bounds"]
    gw, gs, ge, gn = _grid_bbox()
    assert (w, s, e, n) == pytest.approx((gw, gs, ge, gn), abs=2e-3)
    image = decode(layers["gi_png"])
    lon, lat = (float(v) for v in to_wgs84(HOT_X, HOT_Y))
    assert image[overlay_pixel(lon, lat, layers["bounds"], layers["width"], layers["height"])][3] > 0
    picture["map"]["gi"] = [[0] * 3] * 2
    with pytest.raises(ValueError, match=r"map\.gi"):
        render.map_layers(picture)


# --- static map --------------------------------------------------------------------------------------------------


def _square_outline(half: float = 0.12) -> dict:
    lon, lat = 13.92, 55.46
    ring = [[lon - half, lat - half / 2], [lon + half, lat - half / 2], [lon + half, lat + half / 2]]
    ring += [[lon - half, lat + half / 2], [lon - half, lat - half / 2]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {}}


def test_map_png_draws_layers_outline_and_scale_bar():
    picture = one_hot_picture()
    png = render.map_png(picture, outline_geojson=_square_outline(), width=800)
    image = decode(png)
    height, width = image.shape[:2]
    assert width == 800
    margin = 0.04 * NX * CELL
    assert height == pytest.approx(800 * (NY * CELL + 2 * margin) / (NX * CELL + 2 * margin), abs=1)
    scale = 800 / (NX * CELL + 2 * margin)
    r = int((Y0 + NY * CELL + margin - HOT_Y) * scale)
    c = int((HOT_X - (X0 - margin)) * scale)
    patch = image[r - 1 : r + 2, c - 1 : c + 2, :3].reshape(-1, 3)
    hot = {render._hex_rgb(render.GI_STYLES[3][1])}
    assert any(tuple(px) in hot or (px[0] > px[2] + 40) for px in patch)
    # The outline is drawn dark grey along the square's western edge.
    ox, oy = to_sweref(13.92 - 0.12, 55.46)
    orow, ocol = int((Y0 + NY * CELL + margin - float(oy)) * scale), int((float(ox) - (X0 - margin)) * scale)
    assert (image[orow, ocol - 2 : ocol + 3, :3] < 100).all(axis=1).any()
    # Scale bar: solid black in the bottom-left corner.
    corner = image[height - 30 :, :200, :3]
    assert (corner.sum(axis=2) == 0).sum() > 50
    # Without an outline the map still draws the grid's extent.
    assert decode(render.map_png(picture, width=400)).shape[1] == 400
    with pytest.raises(ValueError, match="width"):
        render.map_png(picture, width=20)


def test_map_png_of_an_outline_alone_and_ignores_points():
    picture = sample_picture()
    picture["map"]["grid"] = None
    assert render.map_png(picture, outline_geojson=_square_outline()) is not None
    picture = sample_picture()
    with_points = render.map_png(picture, width=300)
    picture["map"]["points"] = []
    assert render.map_png(picture, width=300) == with_points


# --- legend ------------------------------------------------------------------------------------------------------


def test_legend_states_method_and_excluded_reports_with_pattern_swatches():
    picture = sample_picture()
    with translation.override("en"):
        html = render.legend_html(picture)
    root = ET.fromstring(html)
    words = " ".join(root.itertext())
    assert "Cells 200 m, KDE bandwidth 400 m (quartic kernel), Gi* radius 400 m, FDR-corrected" in words
    assert "7 reports with only the municipality as place are not shown on the map but are counted" in words
    items = root.findall(".//li")
    swatches = [li.find(f"{SVG}svg") for li in items if li.find(f"{SVG}svg") is not None]
    legend = render.map_layers(picture)
    assert len(swatches) == len(legend["kde_legend"]) + len(legend["gi_legend"])
    hatched = [s for s in swatches if s.findall(f"{SVG}line")]
    dotted = [s for s in swatches if s.findall(f"{SVG}circle")]
    assert len(hatched) == 3 and len(dotted) == 3
    assert "Hot spot, 99 % confidence" in words and "Cold spot, 90 % confidence" in words


def test_legend_in_swedish_numbers_and_one_excluded():
    picture = sample_picture()
    picture["map"]["points_excluded"] = 1
    picture["map"]["cell_size"] = 250.0
    picture["map"]["grid"]["cell_size"] = 250.0
    picture["map"]["bandwidth"] = 412.5
    with translation.override("en"):
        words = " ".join(ET.fromstring(render.legend_html(picture)).itertext())
    assert "Cells 250 m, KDE bandwidth 412.5 m" in words
    assert "1 report with only the municipality as place is not shown" in words
    with translation.override("sv"):
        assert "412,5" in render.method_sentence(picture)
    picture["map"]["points_excluded"] = 0
    assert render.excluded_sentence(picture) == ""


def test_map_description_counts_hot_and_cold_cells():
    picture = sample_picture()
    gi = np.array(picture["map"]["gi"])
    with translation.override("en"):
        text = render.map_description(picture)
    assert f"Hot-spot cells (hatched): {(gi > 0).sum()}. Cold-spot cells (dotted): {(gi < 0).sum()}." in text
    assert f"{picture['map']['points_used']} reports on the map" in text


def test_data_uri_round_trip():
    png = render.map_layers(one_hot_picture())["gi_png"]
    uri = render.png_data_uri(png)
    assert uri.startswith("data:image/png;base64,")
    import base64

    assert base64.b64decode(uri.split(",", 1)[1]) == png


def test_weasyprint_renders_the_charts_and_map():
    weasyprint = pytest.importorskip("weasyprint")
    picture = sample_picture()
    map_uri = render.png_data_uri(render.map_png(picture, width=500))
    html = (
        "<html><body>"
        + render.trend_svg(picture)
        + render.weekday_hour_svg(picture)
        + render.key_figures_bars_svg(picture)
        + f'<img src="{map_uri}" alt="{render.map_description(picture)}">'
        + render.legend_html(picture)
        + "</body></html>"
    )
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf.startswith(b"%PDF")


def test_ids_are_unique_per_prefix():
    picture = sample_picture()
    a = render.trend_svg(picture, id_prefix="trend-1")
    b = render.trend_svg(copy.deepcopy(picture), id_prefix="trend 2")
    ids = re.findall(r'id="([^"]+)"', a + b)
    assert len(ids) == len(set(ids)) == 4
