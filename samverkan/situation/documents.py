"""A saved situational picture as a document: accessible HTML, and the same HTML printed to A4 PDF by WeasyPrint.

The document is the record of what was known when a decision was taken, so it is built only from the snapshot —
its frozen picture, texts, ratings, version and author — never from the database as it is now. The document is
Swedish, like the texts in the picture itself. Every page of the PDF carries the data cutoff, the sources and
"Sida n av N"; the police view is marked as such on every page, and the shared view says on its first page that
police-only data is left out.

Nothing is fetched while printing: charts are inline SVG, the map is a PNG data URI, fonts come from the system.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from samverkan.situation import render

POLICE_MARK = "Polisens vy – innehåller uppgifter som bara polisen får se"
SHARED_NOTE = "Uppgifter som bara polisen får se ingår inte."
FLAG_WORDS = {
    "higher": "▲ Fler än väntat",
    "lower": "▼ Färre än väntat",
    "as_expected": "● Som väntat",
    "too_few": "För få rapporter för att säga något",
}
TREND_WORDS = {"increasing": "ökar", "decreasing": "minskar"}
# Where reports come from (Incident.source), as the footer names them.
SOURCE_NAMES = {
    "form": "Rapporter i Samverkan (EST)",
    "api": "rapporter via API",
    "polisen": "polisens öppna händelser",
    "csv": "importerade filer",
    "open311": "invånares observationer (Open311)",
    "demo": "syntetiska demodata",
}
GENERIC_SOURCES = "Rapporter och importerade händelser i Samverkan"
# Rating markers by position on the scale (best first), so a rating reads without its colour.
RATING_SHAPES = ("○", "◔", "◑", "◕", "●")
RATING_COLOURS = {"green": "#1a7f37", "yellow": "#9a6700", "red": "#b3261e"}
VIEW_NAMES = {"shared": "Gemensam vy (kommun och polis)", "police": "Polisens vy"}
MAP_WIDTH = 800


def snapshot_html(snapshot, *, pdf: bool = False) -> str:
    """The saved picture as a complete HTML page (``<html lang="sv">``), the yearly template for yearly snapshots.

    With ``pdf`` the page is the one printed to PDF: the weekday × hour table, which the heat map shows in print,
    is left out, since 25 columns do not fit an A4 page.
    """
    template = "situation/yearly_document.html" if snapshot.kind == "yearly" else "situation/document.html"
    with translation.override("sv"):
        return render_to_string(template, document_context(snapshot, pdf=pdf))


def snapshot_pdf(snapshot) -> bytes:
    """The saved picture as an A4 PDF."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = snapshot_html(snapshot, pdf=True)
    # Everything the document needs is inline: any other URL would leak the reader's request or stall the print, so
    # it stops the print instead.
    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def document_context(snapshot, *, pdf: bool = False) -> dict[str, Any]:
    """Everything the document templates show, from the snapshot alone."""
    picture = snapshot.picture
    period = picture.get("period") or {}
    place = (picture.get("area") or {}).get("name") or picture["municipality"]["name"]
    author = snapshot.created_by
    map_part = picture.get("map") or {}
    return {
        "picture": picture,
        "snapshot": snapshot,
        "place": place,
        "title": f"Lägesbild {period.get('label', '')} – {place}",
        "period_label": period.get("label", ""),
        "period_dates": _dates(period),
        "focus_name": (picture.get("focus_area") or {}).get("name") or "Alla fokusområden",
        "view_name": VIEW_NAMES.get(picture.get("view"), picture.get("view")),
        "police": picture.get("view") == "police",
        "police_mark": POLICE_MARK,
        "shared_note": SHARED_NOTE if picture.get("restricted_excluded") or picture.get("view") == "shared" else "",
        "version": snapshot.number,
        "author": (author.get_full_name() or author.get_username()) if author else "",
        "saved_at": _local(snapshot.created_at),
        "cutoff": _local(snapshot.data_cutoff),
        "sources": sources_line(picture),
        "key_rows": [_key_row(f) for f in picture.get("key_figures") or []],
        "total_row": _key_row(picture["total"]) if picture.get("total", {}).get("name") else None,
        "baseline": (picture.get("total") or {}).get("baseline", ""),
        "trend_sentence": trend_sentence(picture),
        "trend_svg": _safe(render.trend_svg(picture, id_prefix="doc-trend")),
        "bars_svg": _safe(render.key_figures_bars_svg(picture, id_prefix="doc-bars")),
        "weekday_svg": _safe(render.weekday_hour_svg(picture, id_prefix="doc-weekday")),
        "weekday_table": None if pdf else _safe(render.weekday_hour_table_html(picture)),
        "weekday_peak": weekday_peak_sentence(picture),
        "map_uri": _map_uri(snapshot, picture),
        "map_alt": map_alt(picture),
        "map_legend": _safe(render.legend_html(picture)) if map_part.get("grid") else "",
        "map_message": map_part.get("message", ""),
        "top_categories": [
            {**c, "change": _signed(c["count"] - c.get("previous", 0))} for c in picture.get("top_categories") or []
        ],
        "top_areas": picture.get("top_areas") or [],
        "near_repeat": picture.get("near_repeat") or {},
        "ratings": rating_rows(snapshot.ratings or []),
        "rating_colours": sorted(RATING_COLOURS.items()),
        "assessment": snapshot.assessment,
        "decisions": snapshot.decisions,
        "yearly": yearly_view(picture.get("yearly")),
        "h": "h2",
    }


def yearly_view(yearly: dict[str, Any] | None) -> dict[str, Any] | None:
    """The yearly parts of a picture (``picture["yearly"]``, see ``situation.yearly``) as table rows of text."""
    if not yearly:
        return None
    mapping = yearly["mapping"]

    def counted(name: str, counts: list[int], **more: Any) -> dict[str, Any]:
        change = _signed(counts[-1] - counts[-2]) if len(counts) > 1 else "–"
        return {"name": name, "counts": counts, "change": change, **more}

    def shares(row: dict[str, Any]) -> dict[str, Any]:
        return {
            **row,
            "severe_text": "–" if row["severe_share"] is None else percent(row["severe_share"], 0, sign=False),
            "police_text": "–" if row["police_share"] is None else percent(row["police_share"], 0, sign=False),
        }

    def direction(index: dict[str, Any]) -> str:
        if index["change"] is None:
            return "–"
        if index["change"] == 0:
            return "Oförändrat"
        if index["worse"] is None:
            return "Högre" if index["change"] > 0 else "Lägre"
        return "▼ Sämre" if index["worse"] else "▲ Bättre"

    return {
        "year": yearly["year"],
        "complete": yearly["complete"],
        "through": yearly["through"],
        "years": yearly["years"],
        "focus_rows": [counted(f["name"], f["counts"]) for f in mapping["by_focus"]],
        "total_row": counted("Totalt", mapping["total"]),
        "category_rows": [counted(c["name"], c["counts"], focus=c["focus"]) for c in mapping["by_category"]],
        "area_rows": [counted(a["name"], a["counts"]) for a in mapping["by_area"]],
        "consequences": [shares(r) for r in mapping["consequences"]["by_year"]],
        "consequences_by_focus": [shares(r) for r in mapping["consequences"]["by_focus"]],
        "indices": [
            {
                **i,
                "value_text": value_text(i["value"]),
                "previous_text": "–"
                if i["previous"] is None
                else f"{value_text(i['previous'])} ({i['previous_year']})",
                "direction": direction(i),
            }
            for i in yearly["other_information"]["indices"]
        ],
        "analysis": yearly["analysis"],
        "proposals": yearly["proposals"],
    }


def sources_line(picture: dict[str, Any]) -> str:
    """The sources behind the picture: named from ``picture["sources"]`` (codes or {"code"|"name"} entries) when
    the picture lists them, else a general line."""
    listed = picture.get("sources") or []
    names: list[str] = []
    for entry in listed:
        if isinstance(entry, dict):
            name = entry.get("name") or SOURCE_NAMES.get(entry.get("code", ""), entry.get("code", ""))
        else:
            name = SOURCE_NAMES.get(str(entry), str(entry))
        if name and name not in names:
            names.append(name)
    if not names:
        return GENERIC_SOURCES
    text = ", ".join(names)
    return text[0].upper() + text[1:]


def rating_rows(ratings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Area ratings with the scale's label and a shape by position on the scale, so they read without colour."""
    scale = [(code, str(label)) for code, label in settings.SAMVERKAN_RATING_SCALE]
    position = {code: i for i, (code, _label) in enumerate(scale)}
    labels = dict(scale)
    rows = []
    for r in ratings:
        code = r.get("rating", "")
        i = position.get(code)
        if i is None:
            shape = "?"
        else:
            step = (len(RATING_SHAPES) - 1) / max(len(scale) - 1, 1)
            shape = RATING_SHAPES[round(i * step)]
        rows.append(
            {
                "area": r.get("area", ""),
                "code": code,
                "label": labels.get(code, code),
                "shape": shape,
                "colour": RATING_COLOURS.get(code, "#444444"),
                "motivation": r.get("motivation", ""),
            }
        )
    return rows


def trend_sentence(picture: dict[str, Any]) -> str:
    """The trend test in Swedish words and numbers."""
    trend = picture.get("trend") or {}
    test = trend.get("test") or {}
    flag = test.get("flag")
    per = test.get("per") or "period"
    n = len(trend.get("labels") or [])
    if not (picture.get("period") or {}).get("complete", True):
        n -= 1  # a period still running is left out of the test
    if flag in TREND_WORDS and test.get("relative_change") is not None:
        text = (
            f"Antalet rapporter {TREND_WORDS[flag]} över de {n} perioderna: "
            f"{percent(test['relative_change'])} per {per}"
        )
        if test.get("ci"):
            lo, hi = test["ci"]
            text += f" (95 % konfidensintervall {percent(lo)} till {percent(hi)})"
        if test.get("p") is not None:
            text += f", {p_text(test['p'])}"
        return text + "."
    if flag == "no_trend":
        p = f" ({p_text(test['p'])})" if test.get("p") is not None else ""
        return f"Ingen tydlig trend över de {n} perioderna{p}."
    return "För få rapporter eller perioder för att säga något om en trend."


WEEKDAYS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def weekday_peak_sentence(picture: dict[str, Any]) -> str:
    """When in the week most reports happened: the busiest weekday and hour, with their shares."""
    counts = (picture.get("weekday_hour") or {}).get("counts") or []
    total = sum(sum(row) for row in counts)
    if not total:
        return ""
    by_day = [sum(row) for row in counts]
    by_hour = [sum(row[h] for row in counts) for h in range(24)]
    day = max(range(7), key=lambda d: by_day[d])
    hour = max(range(24), key=lambda h: by_hour[h])
    share = percent(by_day[day] / total, 0, sign=False)
    return (
        f"Flest rapporter på {WEEKDAYS_SV[day]}ar ({number(by_day[day])} av {number(total)}, {share})"
        f" och klockan {hour:02d}–{(hour + 1) % 24:02d} ({number(by_hour[hour])} av {number(total)})."
    )


def map_alt(picture: dict[str, Any]) -> str:
    """Alternative text for the map: what it shows, in words and numbers."""
    m = picture.get("map") or {}
    place = (picture.get("area") or {}).get("name") or picture["municipality"]["name"]
    text = f"Karta över {place}: {number(m.get('points_used', 0))} rapporter med känd plats."
    gi = m.get("gi")
    if gi is not None:
        hot = sum(1 for row in gi for v in row if v > 0)
        cold = sum(1 for row in gi for v in row if v < 0)
        text += f" {number(hot)} heta celler (streckade) och {number(cold)} kalla celler (prickade) enligt Gi*."
    if m.get("points_excluded"):
        text += f" {number(m['points_excluded'])} rapporter med bara kommunen som plats visas inte."
    return text


def _map_uri(snapshot, picture: dict[str, Any]) -> str | None:
    if not (picture.get("map") or {}).get("grid"):
        return None
    place = snapshot.area if snapshot.area_id else snapshot.municipality
    png = render.map_png(picture, outline_geojson=getattr(place, "geometry", None) or None, width=MAP_WIDTH)
    if not png:
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _key_row(figure: dict[str, Any]) -> dict[str, Any]:
    change = figure.get("percent_change")
    return {
        "name": figure.get("name", ""),
        "current": figure.get("current", 0),
        "expected": number(figure.get("expected", 0.0), 1),
        "range": f"{number(figure.get('lower', 0))}–{number(figure.get('upper', 0))}",
        "change": "–" if change is None else percent(change / 100, 0),
        "flag": figure.get("flag", ""),
        "flag_words": FLAG_WORDS.get(figure.get("flag", ""), ""),
    }


def _dates(period: dict[str, Any]) -> str:
    if not period.get("start"):
        return ""
    first = dt.date.fromisoformat(period["start"])
    last = dt.date.fromisoformat(period["end"]) - dt.timedelta(days=1)
    return f"{first.isoformat()} – {last.isoformat()}"


def _local(moment: dt.datetime | str | None) -> str:
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _safe(markup: str | None) -> SafeString:
    # The render functions escape every text they put into their markup.
    return mark_safe(markup or "")


def number(value: float, decimals: int = 0) -> str:
    """A number as Swedish text: decimal comma, a no-break space between thousands."""
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def p_text(p: float) -> str:
    """A p-value as it is written in the documents: "p < 0,001" rather than a row of zeros."""
    return "p < 0,001" if p < 0.001 else f"p = {number(p, 3)}"


def value_text(value: float) -> str:
    """A measured value as given: whole numbers without decimals, others with at most two."""
    if float(value).is_integer():
        return number(value)
    return number(value, 2).rstrip("0").rstrip(",")


def percent(fraction: float, decimals: int = 1, *, sign: bool = True) -> str:
    """A fraction as a Swedish percentage: 0.125 → "+12,5 %"."""
    text = number(abs(fraction) * 100, decimals)
    prefix = ("+" if fraction > 0 else "−" if fraction < 0 else "±") if sign else ""
    return f"{prefix}{text}\u00a0%"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else f"−{-n}" if n < 0 else "±0"
