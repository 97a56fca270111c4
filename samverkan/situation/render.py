"""Charts and map images of a lägesbild picture (schema 1), for the web page and the PDF.

Every function here is a pure function of the picture dict: no database, no request. The SVGs are inline markup
(``viewBox`` sizing, ``width="100%"``) with a ``<title>`` and ``<desc>`` for screen readers; the map layers are PNGs
that Leaflet places with ``L.imageOverlay`` and that WeasyPrint embeds as data URIs.

Colour is never the only carrier of meaning: trend lines differ in dash pattern and are labelled at their ends,
heat-map cells carry their counts, key-figure bars state their numbers and flags in words, and hot and cold cells
are hatched and dotted. The points of ``picture["map"]["points"]`` are never drawn: these renderings are shared.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.utils import formats
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from samverkan.places.geo import geometry_from_geojson, to_sweref, to_wgs84

Picture = Mapping[str, Any]
RGB = tuple[int, int, int]

# Trend lines: (colour, dash pattern, width). The total is solid and heavier; each focus area has its own dash
# pattern, so the lines stay apart in greyscale print. Colours (Okabe–Ito, darkened) keep 3:1 against white.
LINE_STYLES: tuple[tuple[str, str, float], ...] = (
    ("#1a1a1a", "", 3.0),
    ("#0060a0", "9 4", 2.2),
    ("#b8420a", "2 3", 2.4),
    ("#00775a", "12 3 2 3", 2.2),
    ("#9c3f78", "16 5", 2.2),
    ("#6b5800", "2 3 2 3 9 3", 2.2),
)

# Characters of a focus area's name that fit beside the trend chart.
LABEL_CHARS = 14

# ColorBrewer Blues (9 classes): light to dark, for the weekday × hour heat map.
BLUES: tuple[str, ...] = (
    "#f7fbff",
    "#deebf7",
    "#c6dbef",
    "#9ecae1",
    "#6baed6",
    "#4292c6",
    "#2171b5",
    "#08519c",
    "#08306b",
)
# ColorBrewer YlOrBr (7 classes), for the density layer: it stays apart from the red and blue of Gi*.
YLORBR: tuple[str, ...] = ("#ffffd4", "#fee391", "#fec44f", "#fe9929", "#ec7014", "#cc4c02", "#8c2d04")
KDE_ALPHA = 200

# Gi* label → (fill, pattern colour, pattern, spacing in pixels). Denser patterns mean higher confidence, so the
# three levels differ without colour too.
GI_STYLES: dict[int, tuple[str, str, str, int]] = {
    3: ("#b2182b", "#4d0010", "hatch", 4),
    2: ("#d6604d", "#67001f", "hatch", 6),
    1: ("#f4a582", "#8c1a1a", "hatch", 8),
    -1: ("#92c5de", "#0b3a6e", "dots", 8),
    -2: ("#4393c3", "#062a55", "dots", 6),
    -3: ("#2166ac", "#021b3a", "dots", 4),
}
GI_FILL_ALPHA = 120
GI_CONFIDENCE = {3: 99, 2: 95, 1: 90}

# Below this share of the peak a density is rounding noise of the kernel sums, not a place with reports.
KDE_NOISE = 1e-6
EARTH_RADIUS_M = 6_371_008.8
# Knot spacing (pixels) of the exact projection; between knots SWEREF coordinates are interpolated bilinearly,
# which over a few hundred metres is off by millimetres.
PROJECTION_KNOTS = 16

# xgettext cannot read calls inside f-strings (before Python 3.12's grammar), so the texts used there are named
# here for extraction; they are translated where they are used.
# Also kept in our catalogue: the weekday abbreviations (Django's Swedish says "tors"; ours says "tor") and the
# default rating scale, which lives in config/settings.py where makemessages does not look.
_KEPT = (
    gettext_noop("Mon"),
    gettext_noop("Tue"),
    gettext_noop("Wed"),
    gettext_noop("Thu"),
    gettext_noop("Fri"),
    gettext_noop("Sat"),
    gettext_noop("Sun"),
    gettext_noop("Green"),
    gettext_noop("Yellow"),
    gettext_noop("Red"),
)
_IN_F_STRINGS = (
    gettext_noop("Number of reports"),
    gettext_noop("Reports by weekday and hour"),
    gettext_noop("Hour of day (local time)"),
    gettext_noop("Reports"),
    gettext_noop("Weekday"),
    gettext_noop("Reports against the usual range"),
    gettext_noop("reports in the period"),
    gettext_noop("usual range"),
    gettext_noop("expected"),
    gettext_noop("Density (reports per km²)"),
    gettext_noop("Hot and cold spots (Getis–Ord Gi*)"),
    gettext_noop("No hatching or dots: no significant deviation."),
)


# ---------------------------------------------------------------------------------------------------------------
# Small helpers


def _num(value: float, decimals: int = 0) -> str:
    """A number in the active language's format (decimal comma and grouping in Swedish)."""
    if decimals <= 0:
        return formats.number_format(round(float(value)), use_l10n=True, force_grouping=True)
    return formats.number_format(round(float(value), decimals), decimals, use_l10n=True, force_grouping=True)


def _sig(value: float, digits: int = 2) -> str:
    """``value`` rounded to ``digits`` significant digits, without trailing noise."""
    if value == 0 or not math.isfinite(value):
        return _num(0)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = _num(round(value, decimals), decimals)
    if decimals:
        sep = formats.get_format("DECIMAL_SEPARATOR")
        text = text.rstrip("0").rstrip(sep)
    return text


def _metres(value: float) -> str:
    return _num(value, 0 if float(value).is_integer() else 1)


def _signed_percent(fraction: float) -> str:
    pct = 100.0 * fraction
    return ("+" if pct > 0 else "") + _num(pct, 1)


def _safe_id(prefix: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", prefix) or "chart"


def _hex_rgb(colour: str) -> RGB:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _rgb_hex(rgb: Sequence[float]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(float(v)) for v in rgb))


def _ramp(stops: Sequence[str], t: float) -> str:
    """Colour at ``t`` in [0, 1] along a piecewise-linear ramp through ``stops``."""
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    k = min(int(t), len(stops) - 2)
    a, b = np.array(_hex_rgb(stops[k]), float), np.array(_hex_rgb(stops[k + 1]), float)
    return _rgb_hex(a + (b - a) * (t - k))


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour such as ``"#08306b"``."""
    channels = []
    for v in _hex_rgb(colour):
        s = v / 255
        channels.append(s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _text_colour_on(fill: str) -> str:
    # Pure black or white: whichever contrasts more always reaches at least 4.58:1.
    return "#000000" if contrast_ratio(fill, "#000000") >= contrast_ratio(fill, "#ffffff") else "#ffffff"


def _nice_step(span: float, target: int, multiples: Sequence[float] = (1, 2, 2.5, 5)) -> float:
    """The smallest "nice" step (1, 2, 2.5 or 5 × 10^k) that splits ``span`` into at most ``target`` parts."""
    raw = span / max(target, 1)
    if raw <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for m in (*multiples, 10):
        if m * magnitude >= raw * (1 - 1e-9):
            return float(m * magnitude)
    return 10.0 * magnitude


def _place_name(picture: Picture) -> str:
    area = picture.get("area")
    if area:
        return str(area.get("name", ""))
    return str((picture.get("municipality") or {}).get("name", ""))


def _context_suffix(picture: Picture) -> str:
    parts = [_place_name(picture)]
    focus = picture.get("focus_area")
    if focus:
        parts.append(str(focus.get("name", "")))
    period = (picture.get("period") or {}).get("label")
    if period:
        parts.append(str(period))
    return ", ".join(p for p in parts if p)


def _svg_open(prefix: str, width: float, height: float, title: str, desc: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" width="100%" '
        f'role="img" aria-labelledby="{prefix}-title {prefix}-desc" class="{css_class}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>',
    ]


def _empty_svg(prefix: str, title: str, message: str, css_class: str) -> str:
    parts = _svg_open(prefix, 720, 60, title, message, css_class)
    parts.append(f'<text x="360" y="34" text-anchor="middle" fill="#333">{escape(message)}</text></svg>')
    return mark_safe("".join(parts))


# ---------------------------------------------------------------------------------------------------------------
# Trend


def _focus_names(picture: Picture) -> dict[str, str]:
    names = {str(k["code"]): str(k.get("name") or k["code"]) for k in picture.get("key_figures") or []}
    focus = picture.get("focus_area")
    if focus:
        names.setdefault(str(focus["code"]), str(focus.get("name") or focus["code"]))
    return names


def _trend_series(picture: Picture, n: int) -> list[tuple[str, list[float]]]:
    trend = picture.get("trend") or {}
    total = [float(v) for v in trend.get("total") or []]
    if len(total) != n:
        raise ValueError(f"trend.total has {len(total)} values for {n} labels")
    series = [(_("Total"), total)]
    by_focus = trend.get("by_focus") or {}
    names = _focus_names(picture)
    order = [c for c in names if c in by_focus] + [c for c in by_focus if c not in names]
    for code in order:
        values = [float(v) for v in by_focus[code]]
        if len(values) != n:
            raise ValueError(f"trend.by_focus.{code} has {len(values)} values for {n} labels")
        # One focus area chosen: its line is the total line, drawn once.
        if len(by_focus) == 1 and values == total:
            continue
        series.append((names.get(code, code.capitalize()), values))
    return series


def _spread_labels(ys: Sequence[float], gap: float, lo: float, hi: float) -> list[float]:
    """Move label positions apart by at least ``gap``, keeping them within [lo, hi] where there is room."""
    order = sorted(range(len(ys)), key=lambda k: ys[k])
    placed = [0.0] * len(ys)
    previous = -math.inf
    for k in order:
        placed[k] = max(ys[k], previous + gap, lo)
        previous = placed[k]
    following = math.inf
    for k in reversed(order):
        placed[k] = min(placed[k], following - gap, hi)
        following = placed[k]
    return placed


def trend_test_sentence(picture: Picture) -> str:
    """The trend test's result in words (the active language), or ``""`` when the picture has none."""
    test = (picture.get("trend") or {}).get("test") or {}
    flag = test.get("flag")
    per = str(test.get("per") or _("period"))
    change = test.get("relative_change")
    if flag in {"increasing", "decreasing"} and change is not None:
        word = _("increasing") if flag == "increasing" else _("decreasing")
        text = _("Trend test: %(direction)s, %(change)s %% per %(per)s") % {
            "direction": word,
            "change": _signed_percent(float(change)),
            "per": per,
        }
        ci = test.get("ci")
        if ci:
            text += " " + _("(95 %% interval %(low)s to %(high)s %%)") % {
                "low": _signed_percent(float(ci[0])),
                "high": _signed_percent(float(ci[1])),
            }
        return text + "."
    if flag == "no_trend":
        return _("Trend test: no clear trend.")
    if flag == "too_few":
        return _("Trend test: too few reports to tell a trend.")
    return ""


def trend_svg(picture: Picture, *, id_prefix: str = "trend") -> str:
    """Line chart of ``picture["trend"]``: the total and each focus area, labelled at the line ends.

    Raises
    ------
    ValueError
        If a series has a different length from ``trend.labels``.
    """
    prefix = _safe_id(id_prefix)
    trend = picture.get("trend") or {}
    labels = [str(v) for v in trend.get("labels") or []]
    per = (trend.get("test") or {}).get("per")
    heading = _("Reports per %(per)s") % {"per": per} if per else _("Reports per period")
    title = f"{heading}, {_context_suffix(picture)}".rstrip(", ")
    if not labels:
        return _empty_svg(prefix, title, _("No reports to show for this period."), "chart chart-trend")
    n = len(labels)
    series = _trend_series(picture, n)

    width, height = 720.0, 330.0
    left, right, top, bottom = 56.0, width - 170.0, 16.0, height - 62.0
    plot_w, plot_h = right - left, bottom - top
    vmax = max(max(values) for _name, values in series)
    step = max(1.0, _nice_step(vmax, 5, (1, 2, 5)))
    ymax = max(step, math.ceil(vmax / step) * step)

    def x_at(i: int) -> float:
        return left + (i / (n - 1) * plot_w if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return bottom - v / ymax * plot_h

    latest = ", ".join(f"{name} {_num(values[-1])}" for name, values in series)
    desc_parts = [
        _("Line chart of the number of reports per %(per)s from %(first)s to %(last)s.")
        % {"per": per or _("period"), "first": labels[0], "last": labels[-1]},
        _("Latest period (%(label)s): %(values)s.") % {"label": labels[-1], "values": latest},
    ]
    sentence = trend_test_sentence(picture)
    if sentence:
        desc_parts.append(sentence)
    out = _svg_open(prefix, width, height, title, " ".join(desc_parts), "chart chart-trend")

    # Horizontal grid lines and y ticks.
    out.append('<g class="axis axis-y" fill="#333">')
    tick = 0.0
    while tick <= ymax + 1e-9:
        y = y_at(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#d9d9d9" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_num(tick))}</text>')
        tick += step
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(_('Number of reports'))}</text></g>"
    )

    # X ticks, thinned to fit; counted back from the latest period so that it always has its label.
    char_w = 6.6
    longest = max(len(label) for label in labels)
    fits = max(1, int(plot_w // (longest * char_w + 12)))
    every = max(1, math.ceil(n / fits))
    out.append('<g class="axis axis-x" fill="#333">')
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555" stroke-width="1"/>')
    out.append('<g class="ticks">')
    for i in range(n - 1, -1, -every):
        x = x_at(i)
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" stroke="#555"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 19}" text-anchor="middle">{escape(labels[i])}</text>')
    out.append("</g>")
    axis_label = str(per).capitalize() if per else _("Period")
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" text-anchor="middle">{escape(axis_label)}</text>')
    out.append("</g>")

    # Lines, drawn from the last focus area to the total so the total stays on top.
    styled = [(name, values, LINE_STYLES[k % len(LINE_STYLES)]) for k, (name, values) in enumerate(series)]
    for name, values, (colour, dash, stroke_w) in reversed(styled):
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(values))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<polyline class="series" data-series="{escape(name)}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="{stroke_w}"{dash_attr} stroke-linejoin="round"/>'
        )
        out.append(
            f'<circle cx="{x_at(n - 1):.1f}" cy="{y_at(values[-1]):.1f}" r="3.5" fill="{colour}" '
            'stroke="#fff" stroke-width="1"/>'
        )

    # Direct labels at the line ends: a sample of the line's own style, then name and latest value.
    ends = [y_at(values[-1]) for _name, values, _style in styled]
    placed = _spread_labels(ends, 16.0, top + 6, bottom)
    x_end = x_at(n - 1)
    out.append('<g class="line-labels" fill="#1a1a1a">')
    for (name, values, (colour, dash, stroke_w)), y_line, y_label in zip(styled, ends, placed, strict=True):
        if abs(y_label - y_line) > 1:
            out.append(
                f'<line x1="{x_end + 5:.1f}" y1="{y_line:.1f}" x2="{right + 8:.1f}" y2="{y_label:.1f}" '
                'stroke="#999" stroke-width="0.8"/>'
            )
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{right + 10:.1f}" y1="{y_label:.1f}" x2="{right + 36:.1f}" y2="{y_label:.1f}" '
            f'stroke="{colour}" stroke-width="{stroke_w}"{dash_attr}/>'
        )
        weight = ' font-weight="bold"' if values is series[0][1] else ""
        # Long names are shortened to fit the margin; the full names are in the description.
        short = name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1].rstrip() + "…"
        out.append(
            f'<text x="{right + 41:.1f}" y="{y_label + 4:.1f}"{weight}>'
            f"{escape(short)} {escape(_num(values[-1]))}</text>"
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))


# ---------------------------------------------------------------------------------------------------------------
# Weekday × hour


def _weekday_counts(picture: Picture) -> list[list[int]]:
    counts = (picture.get("weekday_hour") or {}).get("counts")
    if counts is None:
        return [[0] * 24 for _day in range(7)]
    rows = [[int(v) for v in row] for row in counts]
    if len(rows) != 7 or any(len(row) != 24 for row in rows):
        raise ValueError("weekday_hour.counts must be 7 rows (Monday first) of 24 hours")
    return rows


def _weekday_short() -> list[str]:
    return [str(WEEKDAYS_ABBR[d]).capitalize() for d in range(7)]


def _weekday_long() -> list[str]:
    return [str(WEEKDAYS[d]).capitalize() for d in range(7)]


def heat_colour(count: int, peak: int) -> str:
    """Fill of a heat-map cell: white for 0, then light to dark blue up to ``peak``."""
    if count <= 0 or peak <= 0:
        return "#ffffff"
    # Even a single report gets a visible tint; the ramp spans the rest linearly.
    return _ramp(BLUES[1:], 0.08 + 0.92 * count / peak)


def _weekday_title(picture: Picture) -> str:
    return f"{_('Reports by weekday and hour')}, {_context_suffix(picture)}".rstrip(", ")


def _weekday_desc(picture: Picture, counts: list[list[int]]) -> str:
    total = sum(map(sum, counts))
    if total == 0:
        return _("No reports in the period.")
    peak = max(max(row) for row in counts)
    day, hour = next((d, h) for d in range(7) for h in range(24) if counts[d][h] == peak)
    text = _(
        "Heat map of %(n)s reports by weekday (rows, Monday first) and hour of day (columns, local time); "
        "each cell shows its count. Most reports: %(day)s %(start)s–%(end)s with %(peak)s."
    ) % {
        "n": _num(total),
        "day": _weekday_long()[day],
        "start": f"{hour:02d}:00",
        "end": f"{(hour + 1) % 24:02d}:00",
        "peak": _num(peak),
    }
    note = (picture.get("weekday_hour") or {}).get("note")
    return f"{text} {note}" if note else text


def weekday_hour_svg(picture: Picture, *, id_prefix: str = "weekday-hour") -> str:
    """7 × 24 heat map of ``picture["weekday_hour"]["counts"]`` with the count written in every non-empty cell."""
    prefix = _safe_id(id_prefix)
    counts = _weekday_counts(picture)
    peak = max(max(row) for row in counts)
    cell_w, cell_h = 26.0, 24.0
    left, top = 44.0, 22.0
    width = left + 24 * cell_w + 8
    grid_bottom = top + 7 * cell_h
    height = grid_bottom + 66
    out = _svg_open(prefix, width, height, _weekday_title(picture), _weekday_desc(picture, counts), "chart chart-heat")
    font = 11 if peak < 100 else 9 if peak < 1000 else 7
    out.append('<g class="hours" fill="#333" text-anchor="middle">')
    for h in range(24):
        out.append(f'<text x="{left + (h + 0.5) * cell_w:.1f}" y="{top - 7}">{h}</text>')
    out.append("</g>")
    out.append('<g class="days" fill="#333" text-anchor="end">')
    for d, name in enumerate(_weekday_short()):
        out.append(f'<text x="{left - 6}" y="{top + (d + 0.5) * cell_h + 4:.1f}">{escape(name)}</text>')
    out.append("</g>")
    days = _weekday_long()
    out.append(f'<g class="cells" font-size="{font}" text-anchor="middle">')
    for d in range(7):
        for h in range(24):
            c = counts[d][h]
            fill = heat_colour(c, peak)
            x, y = left + h * cell_w, top + d * cell_h
            tip = f"{days[d]} {h:02d}–{(h + 1) % 24:02d}: {_num(c)}"
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_w}" height="{cell_h}" fill="{fill}" '
                f'stroke="#c8c8c8" stroke-width="0.6"><title>{escape(tip)}</title></rect>'
            )
            if c > 0:
                out.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + font * 0.36:.1f}" '
                    f'fill="{_text_colour_on(fill)}">{escape(_num(c))}</text>'
                )
    out.append("</g>")
    out.append(
        f'<text x="{left + 12 * cell_w:.1f}" y="{grid_bottom + 18}" text-anchor="middle" fill="#333">'
        f"{escape(_('Hour of day (local time)'))}</text>"
    )
    # Key: five steps of the ramp with the counts they stand for.
    key_y = grid_bottom + 30
    out.append(f'<g class="key" fill="#333"><text x="{left}" y="{key_y + 13}">{escape(_("Reports"))}:</text>')
    steps = sorted({0, *(round(peak * f) for f in (0.25, 0.5, 0.75, 1.0))}) if peak else [0]
    for k, value in enumerate(steps):
        x = left + 80 + k * 56
        out.append(
            f'<rect x="{x}" y="{key_y}" width="22" height="16" fill="{heat_colour(value, peak)}" '
            'stroke="#999" stroke-width="0.6"/>'
        )
        out.append(f'<text x="{x + 27}" y="{key_y + 13}">{escape(_num(value))}</text>')
    out.append("</g></svg>")
    return mark_safe("".join(out))


def weekday_hour_table_html(picture: Picture) -> str:
    """The weekday × hour counts as an HTML table with row and column totals: the accessible alternative."""
    counts = _weekday_counts(picture)
    total_word = escape(_("Total"))
    head = "".join(f'<th scope="col">{h}</th>' for h in range(24))
    rows = []
    for name, row in zip(_weekday_long(), counts, strict=True):
        cells = "".join(f"<td>{escape(_num(c))}</td>" for c in row)
        rows.append(f'<tr><th scope="row">{escape(name)}</th>{cells}<td>{escape(_num(sum(row)))}</td></tr>')
    col_totals = "".join(f"<td>{escape(_num(sum(counts[d][h] for d in range(7))))}</td>" for h in range(24))
    grand = _num(sum(map(sum, counts)))
    return mark_safe(
        '<table class="weekday-hour">'
        f"<caption>{escape(_weekday_title(picture))}</caption>"
        f'<thead><tr><th scope="col">{escape(_("Weekday"))}</th>{head}<th scope="col">{total_word}</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody>"
        f'<tfoot><tr><th scope="row">{total_word}</th>{col_totals}<td>{escape(grand)}</td></tr></tfoot>'
        "</table>"
    )


# ---------------------------------------------------------------------------------------------------------------
# Key figures


def flag_text(flag: str | None) -> str:
    """A key figure's flag in words, with a symbol that does not depend on colour."""
    if flag == "higher":
        return "▲ " + _("Higher than usual")
    if flag == "lower":
        return "▼ " + _("Lower than usual")
    if flag == "as_expected":
        return "● " + _("Within the usual range")
    if flag == "too_few":
        return _("Too few reports to tell a change.")
    return ""


def key_figures_bars_svg(picture: Picture, *, id_prefix: str = "key-figures") -> str:
    """Bars of the current count per focus area, with the usual (Poisson) range as a whisker and the expected value
    as a diamond; numbers and flags written beside each bar."""
    prefix = _safe_id(id_prefix)
    figures = list(picture.get("key_figures") or [])
    if not figures and picture.get("total"):
        figures = [{"name": _("Total"), **picture["total"]}]
    title = f"{_('Reports against the usual range')}, {_context_suffix(picture)}".rstrip(", ")
    if not figures:
        return _empty_svg(prefix, title, _("No key figures for this period."), "chart chart-bars")
    # Each row: the name above its bar; numbers and flag in words to the right of the bar.
    row_h, width = 54.0, 720.0
    left, right = 12.0, 380.0
    top = 4.0
    height = top + row_h * len(figures) + 40
    vmax = max(
        max(float(f.get("current") or 0), float(f.get("upper") or 0), float(f.get("expected") or 0)) for f in figures
    )
    scale_max = max(1.0, vmax) * 1.05

    def x_at(v: float) -> float:
        return left + v / scale_max * (right - left)

    lines = []
    for f in figures:
        line = _("%(name)s: %(current)s reports, expected %(expected)s (usual range %(lower)s–%(upper)s). %(flag)s") % {
            "name": f.get("name", ""),
            "current": _num(f.get("current") or 0),
            "expected": _num(float(f.get("expected") or 0), 1),
            "lower": _num(f.get("lower") or 0),
            "upper": _num(f.get("upper") or 0),
            "flag": flag_text(f.get("flag")),
        }
        lines.append(line.strip())
    out = _svg_open(prefix, width, height, title, " ".join(lines), "chart chart-bars")
    for k, f in enumerate(figures):
        y = top + k * row_h
        mid = y + 32
        current = float(f.get("current") or 0)
        lower, upper = float(f.get("lower") or 0), float(f.get("upper") or 0)
        expected = float(f.get("expected") or 0)
        out.append(f'<g class="key-figure" data-code="{escape(str(f.get("code") or ""))}">')
        out.append(f'<text x="{left}" y="{y + 13}" font-weight="bold">{escape(f.get("name", ""))}</text>')
        out.append(
            f'<rect x="{left}" y="{mid - 8}" width="{max(0.0, x_at(current) - left):.1f}" height="16" '
            'fill="#4a6f96" stroke="#1f3b57" stroke-width="0.8"/>'
        )
        xl, xu, xe = x_at(lower), x_at(upper), x_at(expected)
        out.append(
            f'<g stroke="#111" stroke-width="1.6"><line x1="{xl:.1f}" y1="{mid}" x2="{xu:.1f}" y2="{mid}"/>'
            f'<line x1="{xl:.1f}" y1="{mid - 7}" x2="{xl:.1f}" y2="{mid + 7}"/>'
            f'<line x1="{xu:.1f}" y1="{mid - 7}" x2="{xu:.1f}" y2="{mid + 7}"/></g>'
        )
        out.append(f'<path d="M{xe:.1f},{mid - 6} l6,6 l-6,6 l-6,-6 z" fill="#fff" stroke="#111" stroke-width="1.4"/>')
        numbers = _("%(current)s (expected %(expected)s; %(lower)s–%(upper)s)") % {
            "current": _num(current),
            "expected": _num(expected, 1),
            "lower": _num(lower),
            "upper": _num(upper),
        }
        out.append(f'<text x="{right + 14}" y="{mid - 2}">{escape(numbers)}</text>')
        out.append(
            f'<text x="{right + 14}" y="{mid + 12}" font-size="10" fill="#333">'
            f"{escape(flag_text(f.get('flag')))}</text></g>"
        )
    key_y = top + row_h * len(figures) + 16
    out.append(
        f'<g class="key" font-size="11" fill="#333">'
        f'<rect x="{left}" y="{key_y - 6}" width="18" height="12" fill="#4a6f96" stroke="#1f3b57"/>'
        f'<text x="{left + 24}" y="{key_y + 4}">{escape(_("reports in the period"))}</text>'
        f'<g stroke="#111" stroke-width="1.6"><line x1="{left + 190}" y1="{key_y}" x2="{left + 214}" y2="{key_y}"/>'
        f'<line x1="{left + 190}" y1="{key_y - 6}" x2="{left + 190}" y2="{key_y + 6}"/>'
        f'<line x1="{left + 214}" y1="{key_y - 6}" x2="{left + 214}" y2="{key_y + 6}"/></g>'
        f'<text x="{left + 220}" y="{key_y + 4}">{escape(_("usual range"))}</text>'
        f'<path d="M{left + 326},{key_y - 6} l6,6 l-6,6 l-6,-6 z" fill="#fff" stroke="#111" stroke-width="1.4"/>'
        f'<text x="{left + 338}" y="{key_y + 4}">{escape(_("expected"))}</text></g>'
    )
    out.append("</svg>")
    return mark_safe("".join(out))


# ---------------------------------------------------------------------------------------------------------------
# Maps


class _MapGrid:
    __slots__ = ("cell", "nx", "ny", "x0", "y0")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.x0, self.y0 = float(spec["x0"]), float(spec["y0"])
        self.cell = float(spec["cell_size"])
        self.nx, self.ny = int(spec["nx"]), int(spec["ny"])
        if self.cell <= 0 or self.nx < 1 or self.ny < 1:
            raise ValueError("map.grid needs cell_size > 0 and nx, ny >= 1")

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x0 + self.nx * self.cell, self.y0 + self.ny * self.cell

    def cell_index(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.intp]:
        """Flat index ``row * nx + col`` of the cell under each (x, y), or -1 outside. Row 0 is the south."""
        col = np.floor((x - self.x0) / self.cell)
        row = np.floor((y - self.y0) / self.cell)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return np.where(inside, row * self.nx + col, -1).astype(np.intp)


def _take(values: NDArray[Any], index: NDArray[np.intp], fill: Any) -> NDArray[Any]:
    """``values`` (ny × nx) at flat cell indices; index -1 picks ``fill``."""
    return np.append(values.ravel(), np.asarray(fill, dtype=values.dtype))[index]


def _grid_of(picture: Picture) -> _MapGrid | None:
    spec = (picture.get("map") or {}).get("grid")
    return _MapGrid(spec) if spec else None


def _layer(picture: Picture, key: str, grid: _MapGrid, dtype: type) -> NDArray[Any] | None:
    raw = (picture.get("map") or {}).get(key)
    if raw is None:
        return None
    arr: NDArray[Any] = np.asarray(raw, dtype=dtype)
    if arr.shape != (grid.ny, grid.nx):
        raise ValueError(f"map.{key} has shape {arr.shape}, the grid is {(grid.ny, grid.nx)}")
    return arr


def _kde_array(picture: Picture, grid: _MapGrid) -> NDArray[np.float64] | None:
    kde = _layer(picture, "kde", grid, float)
    if kde is None:
        return None
    kde = np.where(np.isfinite(kde), kde, 0.0)
    peak = float(kde.max(initial=0.0))
    if peak <= 0:
        return None
    return np.where(kde > peak * KDE_NOISE, kde, 0.0)


def _kde_classes(kde: NDArray[np.float64]) -> tuple[float, list[str]]:
    """Class width and class colours: equal, round-numbered classes from 0 up to the peak."""
    peak = float(kde.max())
    step = _nice_step(peak, 5)
    n = max(1, math.ceil(peak / step - 1e-9))
    colours = [_ramp(YLORBR, 0.18 + 0.82 * k / (n - 1)) if n > 1 else _ramp(YLORBR, 0.6) for k in range(n)]
    return step, colours


def kde_legend(picture: Picture) -> list[dict[str, Any]]:
    """Legend entries of the density layer: ``{label, colour, pattern: "solid", lower, upper}``, low to high."""
    grid = _grid_of(picture)
    kde = _kde_array(picture, grid) if grid else None
    if kde is None:
        return []
    step, colours = _kde_classes(kde)
    return [
        {
            "label": f"{_sig(k * step, 3)}–{_sig((k + 1) * step, 3)}",
            "colour": colour,
            "pattern": "solid",
            "lower": k * step,
            "upper": (k + 1) * step,
        }
        for k, colour in enumerate(colours)
    ]


def gi_legend(picture: Picture) -> list[dict[str, Any]]:
    """Legend entries of the Gi* layer: ``{label, colour, pattern, pattern_colour, spacing, level}``."""
    grid = _grid_of(picture)
    if grid is None or (picture.get("map") or {}).get("gi") is None:
        return []
    entries = []
    for level in (3, 2, 1, -1, -2, -3):
        fill, ink, pattern, spacing = GI_STYLES[level]
        if level > 0:
            label = _("Hot spot, %(confidence)s %% confidence") % {"confidence": GI_CONFIDENCE[level]}
        else:
            label = _("Cold spot, %(confidence)s %% confidence") % {"confidence": GI_CONFIDENCE[-level]}
        entries.append(
            {
                "label": label,
                "colour": fill,
                "pattern": pattern,
                "pattern_colour": ink,
                "spacing": spacing,
                "level": level,
            }
        )
    return entries


def _kde_indexed(kde: NDArray[np.float64], cells: NDArray[np.intp]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Palette index of each pixel's density class, and the RGBA palette (entry 0 transparent: no density)."""
    step, colours = _kde_classes(kde)
    # Entry k + 1 for densities in (k·step, (k+1)·step].
    klass = np.clip(np.ceil(kde / step), 0, len(colours)).astype(np.uint8)
    palette = np.zeros((len(colours) + 1, 4), dtype=np.uint8)
    palette[1:] = [[*_hex_rgb(c), KDE_ALPHA] for c in colours]
    return _take(klass, cells, 0), palette


def _gi_indexed(gi: NDArray[np.int_], cells: NDArray[np.intp]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Hot and cold cells filled and marked with screen-aligned patterns: hatch lines 2 px wide along the "/"
    diagonal for hot cells, 2 × 2 px dots for cold ones, denser for higher confidence.

    Palette: entry 0 transparent, ``4 + level`` the fill and ``11 + level`` the pattern ink of each level -3..3.
    """
    labels = _take(np.clip(gi, -3, 3).astype(np.int8), cells, 0)
    palette = np.zeros((15, 4), dtype=np.uint8)
    spacing = np.ones(7, dtype=np.intp)
    for lv, (fill_colour, ink_colour, _pattern, space) in GI_STYLES.items():
        palette[4 + lv] = (*_hex_rgb(fill_colour), GI_FILL_ALPHA)
        palette[11 + lv] = (*_hex_rgb(ink_colour), 255)
        spacing[3 + lv] = space
    index = np.zeros(cells.shape, dtype=np.uint8)
    r, c = np.nonzero(labels)
    level = labels[r, c].astype(np.intp)
    s = spacing[level + 3]
    marked = np.where(level > 0, (r + c) % s < 2, (r % s < 2) & (c % s < 2))
    index[r, c] = np.where(marked, 11 + level, 4 + level)
    return index, palette


def _png(index: NDArray[np.uint8], palette: NDArray[np.uint8]) -> bytes:
    """An indexed PNG with per-entry transparency: a quarter of the bytes of RGBA to compress."""
    image = Image.fromarray(index, "P")
    image.putpalette(palette[:, :3].ravel().tolist())
    buf = io.BytesIO()
    image.save(buf, format="PNG", transparency=bytes(palette[:, 3].tolist()))
    return buf.getvalue()


def _rgba_image(index: NDArray[np.uint8], palette: NDArray[np.uint8]) -> Image.Image:
    return Image.fromarray(palette[index], "RGBA")


def png_data_uri(png: bytes | None) -> str | None:
    """``data:image/png;base64,…`` for an ``<img src>`` (the PDF needs no separate files)."""
    if png is None:
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _bbox(picture: Picture, grid: _MapGrid) -> tuple[float, float, float, float]:
    bbox = (picture.get("map") or {}).get("bbox_wgs84")
    if bbox:
        w, s, e, n = (float(v) for v in bbox)
        if w < e and s < n:
            return w, s, e, n
    # The grid's edges are slightly curved in lon/lat, so their whole outline is sampled, not only the corners.
    x0, y0, x1, y1 = grid.extent
    t = np.linspace(0.0, 1.0, 33)
    xs = np.concatenate([x0 + (x1 - x0) * t, np.full_like(t, x1), x1 - (x1 - x0) * t, np.full_like(t, x0)])
    ys = np.concatenate([np.full_like(t, y0), y0 + (y1 - y0) * t, np.full_like(t, y1), y1 - (y1 - y0) * t])
    lon, lat = to_wgs84(xs, ys)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _mercator_y(lat_deg: NDArray[np.float64] | float) -> NDArray[np.float64]:
    return np.log(np.tan(np.pi / 4 + np.radians(lat_deg) / 2))


def overlay_pixel_centres(
    bounds: tuple[float, float, float, float], width: int, height: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitudes of the columns and latitudes of the rows (north first) of an image stretched over ``bounds``
    (w, s, e, n) by ``L.imageOverlay``.

    Leaflet places the image's corners and scales it linearly on the Web Mercator plane, so columns are evenly
    spaced in longitude and rows evenly spaced in Mercator y (not in latitude).
    """
    w, s, e, n = bounds
    lon = w + (np.arange(width) + 0.5) / width * (e - w)
    y_n, y_s = float(_mercator_y(n)), float(_mercator_y(s))
    my = y_n - (np.arange(height) + 0.5) / height * (y_n - y_s)
    lat = np.degrees(2 * np.arctan(np.exp(my)) - np.pi / 2)
    return lon, lat


def _interp_weights(n: int, knots: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """For positions 0..n-1: the knot before each and the fraction of the way to the next knot."""
    pos = np.arange(n)
    if len(knots) == 1:
        return np.zeros(n, dtype=np.intp), np.zeros(n)
    k = np.clip(np.searchsorted(knots, pos, side="right") - 1, 0, len(knots) - 2)
    return k, (pos - knots[k]) / (knots[k + 1] - knots[k])


def _knots(n: int) -> NDArray[np.intp]:
    k = np.arange(0, n, PROJECTION_KNOTS)
    return k if k[-1] == n - 1 else np.append(k, n - 1)


def _sweref_mesh(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """SWEREF 99 TM (x, y) of every (lat row, lon column) pixel: exact at knots, bilinear between them."""
    kr, kc = _knots(len(lat)), _knots(len(lon))
    lon_k, lat_k = np.meshgrid(lon[kc], lat[kr])
    ir, tr = _interp_weights(len(lat), kr)
    ic, tc = _interp_weights(len(lon), kc)
    ir1, ic1 = np.minimum(ir + 1, len(kr) - 1), np.minimum(ic + 1, len(kc) - 1)
    out = []
    for knot_values in to_sweref(lon_k, lat_k):
        along = knot_values[:, ic] * (1 - tc) + knot_values[:, ic1] * tc
        out.append(along[ir] * (1 - tr)[:, None] + along[ir1] * tr[:, None])
    return out[0], out[1]


def _overlay_size(bounds: tuple[float, float, float, float], pixel_m: float, max_side: int) -> tuple[int, int]:
    w, s, e, n = bounds
    lat_c = math.radians((s + n) / 2)
    width_m = math.radians(e - w) * EARTH_RADIUS_M * math.cos(lat_c)
    aspect = float(_mercator_y(n) - _mercator_y(s)) / math.radians(e - w)
    width = max(1, math.ceil(width_m / pixel_m))
    height = max(1, round(width * aspect))
    shrink = max(width, height) / max_side
    if shrink > 1:
        width, height = max(1, math.floor(width / shrink)), max(1, math.floor(height / shrink))
    return width, height


def map_layers(picture: Picture, *, pixels_per_cell: float = 8.0, max_side: int = 2048) -> dict[str, Any]:
    """PNG overlays of the density and Gi* layers for Leaflet, resampled onto the map's own lon/lat raster.

    Returns
    -------
    dict
        ``kde_png`` and ``gi_png`` (PNG bytes, or None when the layer is absent or empty), ``bounds``
        ``[[s, w], [n, e]]`` for ``L.imageOverlay`` (None without a grid), ``width`` and ``height`` in pixels, and
        the legend entries ``kde_legend`` and ``gi_legend`` (see :func:`kde_legend`, :func:`gi_legend`).
    """
    result: dict[str, Any] = {
        "kde_png": None,
        "gi_png": None,
        "bounds": None,
        "width": 0,
        "height": 0,
        "kde_legend": kde_legend(picture),
        "gi_legend": gi_legend(picture),
    }
    grid = _grid_of(picture)
    if grid is None:
        return result
    kde = _kde_array(picture, grid)
    gi = _layer(picture, "gi", grid, int)
    bounds = _bbox(picture, grid)
    w, s, e, n = bounds
    result["bounds"] = [[s, w], [n, e]]
    width, height = _overlay_size(bounds, grid.cell / pixels_per_cell, max_side)
    result["width"], result["height"] = width, height
    has_gi = gi is not None and bool((gi != 0).any())
    if kde is None and not has_gi:
        return result
    lon, lat = overlay_pixel_centres(bounds, width, height)
    cells = grid.cell_index(*_sweref_mesh(lon, lat))
    if kde is not None:
        result["kde_png"] = _png(*_kde_indexed(kde, cells))
    if gi is not None and has_gi:
        result["gi_png"] = _png(*_gi_indexed(gi, cells))
    return result


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font.
        return ImageFont.load_default()


def _outline_rings(
    outline_geojson: Mapping[str, Any] | None,
) -> list[tuple[NDArray[np.float64], list[NDArray[np.float64]]]]:
    """(exterior, holes) rings of the outline in SWEREF 99 TM, each an (n, 2) array."""
    if not outline_geojson:
        return []
    data = dict(outline_geojson)
    if data.get("type") == "FeatureCollection":
        geoms = [geometry_from_geojson(f) for f in data.get("features") or []]
    else:
        geoms = [geometry_from_geojson(data)]
    rings = []
    for geom in geoms:
        polygons = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        for poly in polygons:

            def project(coords: Any) -> NDArray[np.float64]:
                arr = np.asarray(coords, dtype=float)[:, :2]
                x, y = to_sweref(arr[:, 0], arr[:, 1])
                return np.column_stack([x, y])

            rings.append((project(poly.exterior.coords), [project(h.coords) for h in poly.interiors]))
    return rings


def _scale_bar_metres(target_m: float) -> float:
    choices = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000)
    fitting = [c for c in choices if c <= target_m]
    return float(fitting[-1] if fitting else choices[0])


def _distance_label(metres: float) -> str:
    if metres >= 1000:
        return f"{_sig(metres / 1000, 3)} km"
    return f"{_num(metres)} m"


def map_png(picture: Picture, *, outline_geojson: Mapping[str, Any] | None = None, width: int = 800) -> bytes | None:
    """A static map for the PDF, drawn in SWEREF 99 TM (true metres): the municipality outline, the density classes,
    hatched hot and dotted cold cells, a scale bar and a north arrow. None when there is nothing to draw."""
    if width < 100:
        raise ValueError("width must be at least 100 pixels")
    grid = _grid_of(picture)
    rings = _outline_rings(outline_geojson)
    boxes = []
    if grid is not None:
        boxes.append(grid.extent)
    for exterior, _holes in rings:
        boxes.append((exterior[:, 0].min(), exterior[:, 1].min(), exterior[:, 0].max(), exterior[:, 1].max()))
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    margin = 0.04 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    scale = width / (x1 - x0)  # pixels per metre
    height = max(1, min(3 * width, round((y1 - y0) * scale)))

    def to_px(points: NDArray[np.float64]) -> list[tuple[float, float]]:
        return [(float((px - x0) * scale), float((y1 - py) * scale)) for px, py in points]

    background, land = (236, 239, 242), (255, 255, 255)
    image = Image.new("RGBA", (width, height), (*background, 255))
    draw = ImageDraw.Draw(image)
    if rings:
        for exterior, holes in rings:
            draw.polygon(to_px(exterior), fill=(*land, 255))
            for hole in holes:
                draw.polygon(to_px(hole), fill=(*background, 255))
    else:
        draw.rectangle((0, 0, width, height), fill=(*land, 255))

    if grid is not None:
        xs = x0 + (np.arange(width) + 0.5) / scale
        ys = y1 - (np.arange(height) + 0.5) / scale
        cells = grid.cell_index(*np.meshgrid(xs, ys))
        kde = _kde_array(picture, grid)
        if kde is not None:
            image.alpha_composite(_rgba_image(*_kde_indexed(kde, cells)))
        gi = _layer(picture, "gi", grid, int)
        if gi is not None and (gi != 0).any():
            image.alpha_composite(_rgba_image(*_gi_indexed(gi, cells)))

    draw = ImageDraw.Draw(image)
    for exterior, holes in rings:
        for ring in (exterior, *holes):
            pts = to_px(ring)
            draw.line([*pts, pts[0]], fill=(60, 60, 60, 255), width=2)

    font = _font(13)
    # Scale bar, bottom left, on a white box so that it reads over any layer.
    bar_m = _scale_bar_metres(0.22 * width / scale)
    bar_px = bar_m * scale
    bx, by = 12.0, height - 16.0
    draw.rectangle((bx - 6, by - 26, bx + bar_px + 8, by + 9), fill=(255, 255, 255, 230), outline=(120, 120, 120, 255))
    draw.rectangle((bx, by, bx + bar_px / 2, by + 5), fill=(0, 0, 0, 255))
    draw.rectangle((bx + bar_px / 2, by, bx + bar_px, by + 5), fill=(255, 255, 255, 255), outline=(0, 0, 0, 255))
    draw.text((bx, by - 21), _distance_label(bar_m), fill=(0, 0, 0, 255), font=font)
    # North arrow, top right (grid north: it differs from true north by about a degree here).
    ax, ay = width - 26.0, 14.0
    draw.rectangle((ax - 14, ay - 6, ax + 14, ay + 42), fill=(255, 255, 255, 230), outline=(120, 120, 120, 255))
    draw.polygon([(ax, ay), (ax - 8, ay + 20), (ax, ay + 15), (ax + 8, ay + 20)], fill=(0, 0, 0, 255))
    draw.text((ax - 4, ay + 22), "N", fill=(0, 0, 0, 255), font=font)

    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


def map_description(picture: Picture) -> str:
    """Alternative text for the map image: what it shows, in words."""
    m = picture.get("map") or {}
    parts = [_("Map of %(place)s.") % {"place": _place_name(picture)}]
    used = int(m.get("points_used") or 0)
    parts.append(ngettext("%(n)s report on the map.", "%(n)s reports on the map.", used) % {"n": _num(used)})
    gi = m.get("gi")
    if gi is not None:
        arr = np.asarray(gi)
        hot, cold = int((arr > 0).sum()), int((arr < 0).sum())
        if hot or cold:
            parts.append(
                _("Hot-spot cells (hatched): %(hot)s. Cold-spot cells (dotted): %(cold)s.")
                % {"hot": _num(hot), "cold": _num(cold)}
            )
        else:
            parts.append(_("No significant hot or cold spots."))
    return " ".join(parts)


def _swatch(entry: Mapping[str, Any]) -> str:
    """A 28 × 16 inline SVG swatch drawn with plain shapes (no <pattern>), so it prints the same everywhere."""
    w, h = 28, 16
    shapes = [f'<rect width="{w}" height="{h}" fill="{entry["colour"]}" stroke="#666" stroke-width="1"/>']
    ink = entry.get("pattern_colour", "#000")
    spacing = int(entry.get("spacing") or 4)
    if entry.get("pattern") == "hatch":
        for k in range(0, w + h, spacing):
            # The line x + y = k clipped to the swatch, running like the map's "/" hatching.
            xa, ya = max(0, k - h), min(h, k)
            xb, yb = min(w, k), max(0, k - w)
            shapes.append(f'<line x1="{xa}" y1="{ya}" x2="{xb}" y2="{yb}" stroke="{ink}" stroke-width="1.6"/>')
    elif entry.get("pattern") == "dots":
        for cx in range(spacing // 2, w, spacing):
            for cy in range(spacing // 2, h, spacing):
                shapes.append(f'<circle cx="{cx}" cy="{cy}" r="1.3" fill="{ink}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="swatch" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'aria-hidden="true" focusable="false">' + "".join(shapes) + "</svg>"
    )


def method_sentence(picture: Picture) -> str:
    """Cell size, bandwidth, kernel and Gi* radius in one sentence (the active language)."""
    m = picture.get("map") or {}
    grid = m.get("grid") or {}
    kernels = {"quartic": _("quartic"), "gaussian": _("Gaussian")}
    kernel = str(m.get("kernel") or "quartic")
    return _(
        "Cells %(cell)s m, KDE bandwidth %(bandwidth)s m (%(kernel)s kernel), Gi* radius %(radius)s m, FDR-corrected"
    ) % {
        "cell": _metres(float(grid.get("cell_size") or 0)),
        "bandwidth": _metres(float(m.get("bandwidth") or 0)),
        "kernel": kernels.get(kernel, kernel),
        "radius": _metres(float(m.get("radius") or 0)),
    }


def excluded_sentence(picture: Picture) -> str:
    """How many reports the map leaves out for having only the municipality as place; ``""`` when none."""
    n = int((picture.get("map") or {}).get("points_excluded") or 0)
    if n <= 0:
        return ""
    return ngettext(
        "%(n)s report with only the municipality as place is not shown on the map but is counted in the totals.",
        "%(n)s reports with only the municipality as place are not shown on the map but are counted in the totals.",
        n,
    ) % {"n": _num(n)}


def legend_html(picture: Picture) -> str:
    """The map's legend: method, excluded reports, density classes and hot/cold patterns."""
    parts = ['<div class="map-legend">', f'<p class="map-method">{escape(method_sentence(picture))}.</p>']
    excluded = excluded_sentence(picture)
    if excluded:
        parts.append(f'<p class="map-excluded">{escape(excluded)}</p>')
    kde = kde_legend(picture)
    if kde:
        parts.append(f'<p class="legend-heading">{escape(_("Density (reports per km²)"))}</p><ul class="legend">')
        parts.extend(f"<li>{_swatch(e)} {escape(e['label'])}</li>" for e in kde)
        parts.append("</ul>")
    gi = gi_legend(picture)
    if gi:
        parts.append(
            f'<p class="legend-heading">{escape(_("Hot and cold spots (Getis–Ord Gi*)"))}</p><ul class="legend">'
        )
        parts.extend(f"<li>{_swatch(e)} {escape(e['label'])}</li>" for e in gi)
        parts.append(f"<li>{escape(_('No hatching or dots: no significant deviation.'))}</li></ul>")
    parts.append("</div>")
    return mark_safe("".join(parts))
