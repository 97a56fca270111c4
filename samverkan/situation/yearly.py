"""The yearly situational picture that Lag (2023:196) om kommuners ansvar för brottsförebyggande arbete requires.

Section 4 of the law says what a municipality's lägesbild contains: a mapping of crime, its extent and consequences;
other information that matters; and an analysis of them. From it the municipality decides on an action plan. The
yearly picture is the ordinary year picture (``picture_compute``) with those parts added under ``picture["yearly"]``:

``mapping``
    Reports per focus area, category and area this year and the previous years (from the daily counts), and their
    consequences — the share rated most serious (severity 3) and the share reported to the police — counted from the
    reports the user may see, in aggregate only.
``other_information``
    Survey indices and key figures (:class:`~samverkan.situation.models.SurveyIndex`): the latest value up to the
    year and the one before it, for the municipality and its areas.
``analysis``
    Trends, hot spots, times and repeats from the picture, in words with their numbers.
``proposals``
    A draft list of problems that may need measures — focus areas above their expected level or rising, places with
    many reports or hot spots, indices that got worse — each with its evidence. A draft for people to weigh, not a
    decision.

Everything is plain JSON, frozen with the snapshot like the rest of the picture.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from samverkan.accounts.access import Action, incidents_visible_to
from samverkan.analysis.temporal import compare_to_baseline, trend
from samverkan.incidents.models import Sensitivity
from samverkan.incidents.selectors import local_midnight
from samverkan.places.geo import to_wgs84
from samverkan.places.models import Area, Municipality
from samverkan.places.selectors import area_ids_containing
from samverkan.situation.documents import SOURCE_NAMES, WEEKDAYS_SV, number, p_text, percent, value_text
from samverkan.situation.models import DailyCount, Polarity, Snapshot, SurveyIndex
from samverkan.situation.selectors import picture_compute

SURVEY_SOURCE_NAMES = {
    "trygghetsmätning": "Polisens trygghetsmätning",
    "kolada": "Kolada",
    "can": "CAN:s drogvaneundersökning",
    "ntu": "Brås nationella trygghetsundersökning (NTU)",
}
# Survey values older than this many years before the picture's year are history, not the present state.
SURVEY_MAX_AGE = 5
TOP_CATEGORIES = 15
TOP_AREAS = 10
PROPOSED_AREAS = 3
# Gi* labels are ±1, ±2, ±3 for 90, 95 and 99 % confidence after FDR; proposals rest on 95 % or more.
HOT_LABEL = 2
MIN_TREND_YEARS = 3
SEVERE = 3


def yearly_picture(*, user, municipality_id: int, year: int, view: str = "shared") -> dict[str, Any]:
    """The lägesbild of ``year`` in the law's structure: the year picture plus ``picture["yearly"]``.

    Access as for :func:`~samverkan.situation.selectors.picture_compute` (``Http404`` for a municipality the user
    may not view, ``PermissionDenied`` for a reporter or a police view without a police membership).
    """
    year = int(year)
    picture = picture_compute(user=user, municipality_id=municipality_id, period=str(year), view=view)
    municipality = Municipality.objects.get(pk=picture["municipality"]["id"])
    years = [dt.date.fromisoformat(start).year for start in picture["trend"]["starts"]]
    complete = bool(picture["period"].get("complete", True))
    through = min(dt.date(year, 12, 31), timezone.localdate(dt.datetime.fromisoformat(picture["data_cutoff"])))
    reports = incidents_visible_to(user, Action.VIEW).filter(municipality_id=municipality.pk)
    counts = DailyCount.objects.filter(municipality_id=municipality.pk)
    if view == "shared":
        reports = reports.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
        counts = counts.exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)

    mapping = _mapping(counts, reports, years)
    indices = _survey_indices(municipality, year)
    hot = _hot_cells_by_area(picture, municipality)
    surveys = {i["source"]: i["source_name"] for i in indices}
    picture["sources"] = _sources(reports, year) + [{"code": c, "name": n} for c, n in sorted(surveys.items())]
    picture["yearly"] = {
        "year": year,
        "complete": complete,
        "through": through.isoformat(),
        "years": years,
        "mapping": mapping,
        "other_information": {"indices": indices},
        "analysis": _analysis(picture, mapping, indices, hot, complete),
        "proposals": _proposals(picture, mapping, indices, hot, complete),
    }
    return picture


def yearly_due(municipality, *, today: dt.date | None = None) -> dict[str, Any]:
    """When the municipality's next yearly picture is due: ``{"last", "due", "overdue"}``.

    ``last`` is the day the latest yearly picture was first saved — later versions correct a picture, they do not
    renew it — and ``due`` that day plus ``SAMVERKAN_YEARLY_INTERVAL_YEARS``. With no yearly picture at all, ``last``
    and ``due`` are None and it is overdue: the law has applied since 1 July 2023.
    """
    municipality_id = getattr(municipality, "pk", municipality)
    today = today or timezone.localdate()
    saved = Snapshot.objects.filter(municipality_id=municipality_id, kind="yearly", number=1).aggregate(
        last=Max("created_at")
    )["last"]
    if saved is None:
        return {"last": None, "due": None, "overdue": True}
    last = timezone.localdate(saved)
    due = _add_years(last, settings.SAMVERKAN_YEARLY_INTERVAL_YEARS)
    return {"last": last, "due": due, "overdue": today > due}


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


# --------------------------------------------------------------------------------------------------------------------
# Mapping: extent and consequences
# --------------------------------------------------------------------------------------------------------------------


def _mapping(counts, reports, years: list[int]) -> dict[str, Any]:
    index = {y: i for i, y in enumerate(years)}
    start, end = dt.date(years[0], 1, 1), dt.date(years[-1] + 1, 1, 1)
    in_years = counts.filter(day__gte=start, day__lt=end)

    total = [0] * len(years)
    focus: dict[str, dict[str, Any]] = {}
    categories: dict[str, dict[str, Any]] = {}
    rows = (
        in_years.filter(area__isnull=True)
        .annotate(year=ExtractYear("day"))
        .values_list(
            "year",
            "category__code",
            "category__name_sv",
            "category__focus_area__code",
            "category__focus_area__name_sv",
            "category__focus_area__ordering",
        )
        .annotate(n=Sum("count"))
        .order_by("year", "category_id")
    )
    for year, code, name, focus_code, focus_name, ordering, n in rows:
        i = index[year]
        total[i] += n
        f = focus.setdefault(
            focus_code, {"code": focus_code, "name": focus_name, "order": ordering, "counts": [0] * len(years)}
        )
        f["counts"][i] += n
        # Versions of a category share a code; the newest name is shown.
        c = categories.setdefault(code, {"code": code, "name": name, "focus": focus_name, "counts": [0] * len(years)})
        c["name"] = name
        c["counts"][i] += n
    by_focus = [
        {key: value for key, value in f.items() if key != "order"}
        for f in sorted(focus.values(), key=lambda f: (f["order"], f["code"]))
    ]
    by_category = sorted(categories.values(), key=lambda c: (-c["counts"][-1], -sum(c["counts"]), c["name"]))

    areas: dict[int, dict[str, Any]] = {}
    area_rows = (
        in_years.filter(area__isnull=False, area__valid_to__isnull=True)
        .annotate(year=ExtractYear("day"))
        .values_list("year", "area_id", "area__name")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for year, area_id, name, n in area_rows:
        entry = areas.setdefault(area_id, {"id": area_id, "name": name, "counts": [0] * len(years)})
        entry["counts"][index[year]] += n
    by_area = sorted(areas.values(), key=lambda a: (-a["counts"][-1], -sum(a["counts"]), a["name"]))

    return {
        "total": total,
        "by_focus": by_focus,
        "by_category": by_category[:TOP_CATEGORIES],
        "by_area": by_area[:TOP_AREAS],
        "consequences": _consequences(reports, years),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _consequences(reports, years: list[int]) -> dict[str, Any]:
    aggregates = {}
    for y in years:
        when = Q(
            occurred_from__gte=local_midnight(dt.date(y, 1, 1)), occurred_from__lt=local_midnight(dt.date(y + 1, 1, 1))
        )
        aggregates[f"n{y}"] = Count("id", filter=when)
        aggregates[f"severe{y}"] = Count("id", filter=when & Q(severity=SEVERE))
        aggregates[f"police{y}"] = Count("id", filter=when & Q(police_reported=True))
    totals = reports.aggregate(**aggregates)
    by_year = [
        {
            "year": y,
            "reports": totals[f"n{y}"],
            "severe": totals[f"severe{y}"],
            "severe_share": _share(totals[f"severe{y}"], totals[f"n{y}"]),
            "police_reported": totals[f"police{y}"],
            "police_share": _share(totals[f"police{y}"], totals[f"n{y}"]),
        }
        for y in years
    ]
    this_year = reports.filter(
        occurred_from__gte=local_midnight(dt.date(years[-1], 1, 1)),
        occurred_from__lt=local_midnight(dt.date(years[-1] + 1, 1, 1)),
    )
    rows = (
        this_year.values_list(
            "category__focus_area__code", "category__focus_area__name_sv", "category__focus_area__ordering"
        )
        .annotate(
            n=Count("id"),
            severe=Count("id", filter=Q(severity=SEVERE)),
            police=Count("id", filter=Q(police_reported=True)),
        )
        .order_by("category__focus_area__ordering", "category__focus_area__code")
    )
    by_focus = [
        {
            "code": code,
            "name": name,
            "reports": n,
            "severe": severe,
            "severe_share": _share(severe, n),
            "police_reported": police,
            "police_share": _share(police, n),
        }
        for code, name, _ordering, n, severe, police in rows
    ]
    return {"by_year": by_year, "by_focus": by_focus}


def _sources(reports, year: int) -> list[dict[str, Any]]:
    rows = (
        reports.filter(
            occurred_from__gte=local_midnight(dt.date(year, 1, 1)),
            occurred_from__lt=local_midnight(dt.date(year + 1, 1, 1)),
        )
        .values_list("source")
        .annotate(n=Count("id"))
        .order_by("-n", "source")
    )
    return [{"code": code, "name": SOURCE_NAMES.get(code, code), "count": n} for code, n in rows]


# --------------------------------------------------------------------------------------------------------------------
# Other relevant information: survey indices
# --------------------------------------------------------------------------------------------------------------------


def _survey_indices(municipality: Municipality, year: int) -> list[dict[str, Any]]:
    """For every indicator and area: the latest value up to ``year`` and the one before it."""
    series: dict[tuple, list[SurveyIndex]] = defaultdict(list)
    rows = (
        SurveyIndex.objects.filter(municipality=municipality, year__lte=year, year__gte=year - SURVEY_MAX_AGE)
        .select_related("area")
        .order_by("year")
    )
    for row in rows:
        series[(row.source, row.code, row.area_id)].append(row)
    result = []
    for values in series.values():
        latest = values[-1]
        before = values[-2] if len(values) > 1 else None
        change = None if before is None else round(latest.value - before.value, 6)
        worse = None
        if change is not None and latest.polarity != Polarity.NEUTRAL and change != 0:
            worse = (change > 0) == (latest.polarity == Polarity.HIGHER_WORSE)
        result.append(
            {
                "source": latest.source,
                "source_name": SURVEY_SOURCE_NAMES.get(latest.source, latest.source.capitalize()),
                "code": latest.code,
                "name": latest.name,
                "unit": latest.unit,
                "area": latest.area.name if latest.area_id else None,
                "year": latest.year,
                "value": latest.value,
                "previous_year": before.year if before else None,
                "previous": before.value if before else None,
                "change": change,
                "polarity": latest.polarity,
                "worse": worse,
                "note": latest.note,
            }
        )
    result.sort(key=lambda r: (r["source_name"], r["name"], r["area"] is not None, r["area"] or ""))
    return result


# --------------------------------------------------------------------------------------------------------------------
# Analysis and proposals
# --------------------------------------------------------------------------------------------------------------------


def _hot_cells_by_area(picture: dict[str, Any], municipality: Municipality) -> dict[str, Any]:
    """Hot cells (Gi*, 95 % or more) and the current areas they lie in."""
    m = picture.get("map") or {}
    gi, grid = m.get("gi"), m.get("grid")
    result: dict[str, Any] = {"cells": 0, "cold": 0, "cell_size": (grid or {}).get("cell_size"), "areas": []}
    if not gi or not grid:
        return result
    hot = [(i, j) for i, row in enumerate(gi) for j, v in enumerate(row) if v >= HOT_LABEL]
    result["cold"] = sum(1 for row in gi for v in row if v <= -HOT_LABEL)
    result["cells"] = len(hot)
    if not hot:
        return result
    size = grid["cell_size"]
    x = [grid["x0"] + (j + 0.5) * size for _i, j in hot]
    y = [grid["y0"] + (i + 0.5) * size for i, _j in hot]
    lon, lat = to_wgs84(x, y)
    inside = area_ids_containing(municipality_id=municipality.pk, lon=lon, lat=lat)
    per_area: dict[int, int] = defaultdict(int)
    for ids in inside:
        for area_id in ids:
            per_area[area_id] += 1
    names = dict(Area.objects.filter(pk__in=per_area).values_list("pk", "name"))
    result["areas"] = sorted(
        ({"id": pk, "name": names[pk], "cells": n} for pk, n in per_area.items()),
        key=lambda a: (-a["cells"], a["name"]),
    )
    result["outside"] = sum(1 for ids in inside if not ids)
    return result


FLAG_SV = {"higher": "fler än väntat", "lower": "färre än väntat", "as_expected": "inom det väntade"}


def _figure_sentence(figure: dict[str, Any]) -> str:
    if figure["flag"] == "too_few":
        return f"{number(figure['current'])} rapporter; för få för att säga något om en förändring"
    change = "" if figure.get("percent_change") is None else f", {percent(figure['percent_change'] / 100, 0)}"
    return (
        f"{number(figure['current'])} rapporter mot förväntat {number(figure['expected'], 1)} "
        f"(normalt {number(figure['lower'])}–{number(figure['upper'])}, jämfört med {figure['baseline']}{change}): "
        f"{FLAG_SV.get(figure['flag'], figure['flag'])}"
    )


def _finished(mapping_counts: list[int], complete: bool) -> list[int]:
    # A year still running has not got all its reports yet; trends are tested on finished years.
    return mapping_counts if complete else mapping_counts[:-1]


def _trend_words(counts: list[int]) -> tuple[str, dict[str, Any] | None]:
    if len(counts) < MIN_TREND_YEARS:
        return "för få hela år för att pröva en trend", None
    t = trend(counts)
    if t.flag in ("increasing", "decreasing") and t.relative_change is not None:
        word = "ökande" if t.flag == "increasing" else "minskande"
        ci = t.relative_change_ci
        interval = f" (95 % konfidensintervall {percent(ci[0])} till {percent(ci[1])})" if ci else ""
        p = f", {p_text(t.p)}" if t.p is not None else ""
        return f"{word} trend, {percent(t.relative_change)} per år{interval}{p}", {
            "flag": t.flag,
            "relative_change": round(t.relative_change, 4),
        }
    if t.flag == "no_trend":
        return "ingen tydlig trend", {"flag": t.flag, "relative_change": None}
    return "för få rapporter för att pröva en trend", {"flag": t.flag, "relative_change": None}


def _analysis(
    picture: dict[str, Any],
    mapping: dict[str, Any],
    indices: list[dict[str, Any]],
    hot: dict[str, Any],
    complete: bool,
) -> list[dict[str, str]]:
    years = [dt.date.fromisoformat(s).year for s in picture["trend"]["starts"]]
    label = picture["period"]["label"]
    items = []
    so_far = "" if complete else " hittills"
    items.append({"topic": "Omfattning", "text": f"{label}{so_far}: {_figure_sentence(picture['total'])}."})

    finished = _finished(mapping["total"], complete)
    span = f"{years[0]}–{years[len(finished) - 1]}" if finished else ""
    words, _t = _trend_words(finished)
    per_focus = []
    for f in mapping["by_focus"]:
        focus_words, _ft = _trend_words(_finished(f["counts"], complete))
        per_focus.append(f"{f['name']}: {focus_words}")
    trend_text = f"Alla rapporter {span}: {words}."
    if per_focus:
        trend_text += " " + "; ".join(per_focus) + "."
    items.append({"topic": "Trender", "text": trend_text})

    flagged = [f for f in picture["key_figures"] if f["flag"] in ("higher", "lower")]
    if flagged:
        items.append(
            {
                "topic": "Fokusområden",
                "text": " ".join(f"{f['name']}: {_figure_sentence(f)}." for f in flagged),
            }
        )
    else:
        items.append({"topic": "Fokusområden", "text": "Inget fokusområde avviker tydligt från de tidigare åren."})

    places = []
    total = picture["total"]["current"]
    for a in (picture.get("top_areas") or [])[:PROPOSED_AREAS]:
        share = f", {percent(a['count'] / total, 0, sign=False)} av alla" if total else ""
        places.append(f"{a['name']} ({number(a['count'])} rapporter{share})")
    text = "Flest rapporter: " + ", ".join(places) + "." if places else "Inga rapporter knutna till områden."
    if hot["cells"]:
        where = ", ".join(f"{a['name']} ({number(a['cells'])})" for a in hot["areas"][:PROPOSED_AREAS])
        text += (
            f" Gi*-analysen ({number(hot['cell_size'])} m celler) visar {number(hot['cells'])} heta celler med "
            "minst 95 % säkerhet efter korrektion för många test" + (f", flest i {where}" if where else "") + "."
        )
    elif picture["map"].get("gi") is not None:
        text += " Gi*-analysen visar inga heta celler med minst 95 % säkerhet."
    items.append({"topic": "Platser", "text": text})

    counts = picture["weekday_hour"]["counts"]
    n = sum(map(sum, counts))
    if n:
        by_day = [sum(row) for row in counts]
        by_hour = [sum(row[h] for row in counts) for h in range(24)]
        day = max(range(7), key=by_day.__getitem__)
        hour = max(range(24), key=by_hour.__getitem__)
        evening = sum(by_hour[h] for h in (*range(18, 24), *range(0, 6)))
        items.append(
            {
                "topic": "Tider",
                "text": (
                    f"Flest rapporter på {WEEKDAYS_SV[day]}ar ({percent(by_day[day] / n, 0, sign=False)}) och "
                    f"klockan {hour:02d}–{(hour + 1) % 24:02d} ({percent(by_hour[hour] / n, 0, sign=False)}); "
                    f"{percent(evening / n, 0, sign=False)} mellan klockan 18 och 06."
                ),
            }
        )
    items.append({"topic": "Upprepning i tid och rum", "text": picture["near_repeat"]["message"]})

    by_year = mapping["consequences"]["by_year"]
    if by_year and by_year[-1]["reports"]:
        now = by_year[-1]
        text = (
            f"{percent(now['severe_share'], 0, sign=False)} av rapporterna {years[-1]} bedömdes som allvarligast "
            f"(nivå 3) och {percent(now['police_share'], 0, sign=False)} polisanmäldes"
        )
        before = by_year[-2] if len(by_year) > 1 and by_year[-2]["reports"] else None
        if before:
            text += (
                f", mot {percent(before['severe_share'], 0, sign=False)} och "
                f"{percent(before['police_share'], 0, sign=False)} året före"
            )
        items.append({"topic": "Konsekvenser", "text": text + "."})

    changed = [i for i in indices if i["change"] is not None]
    if changed:
        parts = [
            f"{_index_name(i)}: {value_text(i['previous'])} ({i['previous_year']}) → "
            f"{value_text(i['value'])} ({i['year']})"
            + (" – sämre" if i["worse"] else " – bättre" if i["worse"] is False else "")
            for i in changed
        ]
        items.append({"topic": "Trygghetsmätningar och andra källor", "text": "; ".join(parts) + "."})
    return items


def _index_name(index: dict[str, Any]) -> str:
    where = f", {index['area']}" if index["area"] else ""
    return f"{index['name']} ({index['source_name']}{where})"


def _proposals(
    picture: dict[str, Any],
    mapping: dict[str, Any],
    indices: list[dict[str, Any]],
    hot: dict[str, Any],
    complete: bool,
) -> list[dict[str, Any]]:
    proposals: list[dict[str, Any]] = []

    figures = {f["code"]: f for f in picture["key_figures"]}
    for focus in mapping["by_focus"]:
        evidence = []
        figure = figures.get(focus["code"])
        if figure and figure["flag"] == "higher":
            evidence.append(f"{picture['period']['label']}: {_figure_sentence(figure)}.")
        words, t = _trend_words(_finished(focus["counts"], complete))
        if t and t["flag"] == "increasing":
            evidence.append(f"{words[0].upper()}{words[1:]}.")
        if evidence:
            proposals.append(
                {"kind": "focus_area", "problem": f"{focus['name']}: fler rapporter än tidigare", "evidence": evidence}
            )

    total = picture["total"]["current"]
    area_years = {a["id"]: a["counts"] for a in mapping["by_area"]}
    chosen: dict[int, dict[str, Any]] = {}
    for rank, a in enumerate((picture.get("top_areas") or [])[:PROPOSED_AREAS], start=1):
        share = f" ({percent(a['count'] / total, 0, sign=False)} av alla)" if total else ""
        entry = chosen.setdefault(a["id"], {"name": a["name"], "why": [], "evidence": []})
        entry["why"].append("många rapporter")
        entry["evidence"].append(f"{number(a['count'])} rapporter{share}, plats {rank} bland kommunens områden.")
    for a in hot["areas"][:PROPOSED_AREAS]:
        entry = chosen.setdefault(a["id"], {"name": a["name"], "why": [], "evidence": []})
        entry["why"].append("het plats")
        entry["evidence"].append(f"{number(a['cells'])} heta celler (Gi*, minst 95 % säkerhet).")
    for area_id, entry in chosen.items():
        counts = area_years.get(area_id)
        if complete and counts and len(counts) > 1 and any(counts[:-1]):
            c = compare_to_baseline(counts[-1], counts[:-1])
            if c.flag == "higher":
                entry["why"].append("fler än tidigare år")
                entry["evidence"].append(
                    f"{number(c.current)} rapporter mot förväntat {number(c.expected, 1)} utifrån de tidigare åren "
                    f"(normalt {number(c.lower)}–{number(c.upper)})."
                )
        why = entry["why"]
        reasons = why[0] if len(why) == 1 else f"{', '.join(why[:-1])} och {why[-1]}"
        proposals.append({"kind": "area", "problem": f"{entry['name']}: {reasons}", "evidence": entry["evidence"]})
    if hot.get("outside"):
        proposals.append(
            {
                "kind": "place",
                "problem": "Heta platser utanför de namngivna områdena",
                "evidence": [
                    f"{number(hot['outside'])} heta celler (Gi*, minst 95 % säkerhet) ligger utanför alla områden."
                ],
            }
        )

    for i in indices:
        if i["worse"]:
            unit = f" {i['unit']}" if i["unit"] else ""
            proposals.append(
                {
                    "kind": "survey",
                    "problem": f"{_index_name(i)} har blivit sämre",
                    "evidence": [
                        f"{value_text(i['previous'])}{unit} ({i['previous_year']}) → {value_text(i['value'])}{unit} "
                        f"({i['year']})."
                    ],
                }
            )
    return proposals
