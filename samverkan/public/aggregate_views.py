"""The public figures: the method page, the map and table, and the open-data downloads (CSV, GeoJSON).

No log-in. Every figure comes from ``aggregates.public_figures``, so the page, the CSV and the GeoJSON show the same
suppressed cells; nothing here reads reports or looks at ``request.user``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from samverkan.public import aggregates
from samverkan.public.selectors import municipality_public

MONTH_PARAMETER = "manad"
# Colour classes of the map, as multiples of k: below k (or hidden), k…2k−1, 2k…4k−1, 4k…8k−1, 8k and more.
CLASS_STEPS = (1, 2, 4, 8)
DOWNLOAD_CACHE_SECONDS = 3600


def _count_class(cell: aggregates.PublicCell, k: int) -> int:
    if cell.value is None:
        return 0
    return sum(1 for step in CLASS_STEPS if cell.value >= step * k)


def _display(cell: aggregates.PublicCell, k: int) -> str:
    if cell.status == aggregates.FEWER:
        return _("fewer than %(k)d") % {"k": k}
    if cell.status == aggregates.HIDDEN:
        return _("hidden")
    return cell.text


def _row_name(row: dict[str, Any]) -> str:
    if row["kind"] == "outside":
        return _("Rest of the municipality (outside named areas)")
    if row["kind"] == "total":
        return _("Whole municipality")
    return row["name"]


def _legend(k: int) -> list[dict[str, Any]]:
    legend = [{"class": 0, "label": _("fewer than %(k)d, or hidden") % {"k": k}}]
    for i, step in enumerate(CLASS_STEPS, start=1):
        low = step * k
        if i < len(CLASS_STEPS):
            label = f"{low}–{CLASS_STEPS[i] * k - 1}"
        else:
            label = _("%(n)d or more") % {"n": low}
        legend.append({"class": i, "label": label})
    return legend


def method(request: HttpRequest) -> HttpResponse:
    context = {
        "min_count": settings.SAMVERKAN_PUBLIC_MIN_COUNT,
        "delay_months": settings.SAMVERKAN_PUBLIC_DELAY_MONTHS,
        "categories": sorted({c.name for c in aggregates.public_categories()}),
        "example_fewer": aggregates.fewer_text(settings.SAMVERKAN_PUBLIC_MIN_COUNT),
    }
    return render(request, "public/method.html", context)


def figures(request: HttpRequest, code: str) -> HttpResponse:
    municipality = municipality_public(code)
    data = aggregates.public_figures(municipality=municipality)
    k = data["min_count"]
    keys = data["month_keys"]
    selected = request.GET.get(MONTH_PARAMETER)
    if selected not in keys:
        selected = keys[-1]
    column = keys.index(selected)
    month_labels = [formats.date_format(m, "F Y") for m in data["months"]]

    rows = []
    for row in data["rows"]:
        cells = [{"text": _display(c, k), "status": c.status, "class": _count_class(c, k)} for c in row["cells"]]
        rows.append({"kind": row["kind"], "name": _row_name(row), "geometry": row["geometry"], "cells": cells})
    map_data = {
        "months": [{"key": key, "label": label} for key, label in zip(keys, month_labels, strict=True)],
        "selected": selected,
        "outline": next((r["geometry"] for r in rows if r["kind"] == "total"), None),
        "areas": [
            {"name": r["name"], "geometry": r["geometry"], "cells": dict(zip(keys, r["cells"], strict=True))}
            for r in rows
            if r["kind"] == "area"
        ],
        "summary": [
            {"id": f"summary-{r['kind']}", "cells": {key: c["text"] for key, c in zip(keys, r["cells"], strict=True)}}
            for r in rows
            if r["kind"] != "area"
        ],
    }
    context = {
        "municipality": municipality,
        "code": municipality.code,
        "figures": data,
        "k": k,
        "rows": rows,
        "summary_rows": [
            {"id": f"summary-{r['kind']}", "name": r["name"], "text": r["cells"][column]["text"]}
            for r in rows
            if r["kind"] != "area"
        ],
        "months": [{"key": key, "label": label} for key, label in zip(keys, month_labels, strict=True)],
        "selected": selected,
        "selected_label": month_labels[column],
        "first_label": month_labels[0],
        "last_label": month_labels[-1],
        "legend": _legend(k),
        "map_data": map_data,
        "month_parameter": MONTH_PARAMETER,
    }
    return render(request, "public/figures.html", context)


def _download_text(cell: aggregates.PublicCell, k: int) -> str:
    if cell.status == aggregates.FEWER:
        return f"<{k}"
    if cell.status == aggregates.HIDDEN:
        return ".."  # as in Statistics Sweden's tables: not published
    return str(cell.value)


@cache_control(public=True, max_age=DOWNLOAD_CACHE_SECONDS)
def figures_csv(request: HttpRequest, code: str) -> HttpResponse:
    municipality = municipality_public(code)
    data = aggregates.public_figures(municipality=municipality)
    k = data["min_count"]
    out = io.StringIO()
    # The BOM and semicolons make Excel with Swedish settings open the file correctly.
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["område", "månad", "antal"])
    for row in data["rows"]:
        for key, cell in zip(data["month_keys"], row["cells"], strict=True):
            writer.writerow([row["name"], key, _download_text(cell, k)])
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="siffror-{municipality.code}.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@cache_control(public=True, max_age=DOWNLOAD_CACHE_SECONDS)
def figures_geojson(request: HttpRequest, code: str) -> HttpResponse:
    municipality = municipality_public(code)
    data = aggregates.public_figures(municipality=municipality)
    features = []
    for row in data["rows"]:
        properties: dict[str, Any] = {"name": row["name"], "kind": row["kind"]}
        for key, cell in zip(data["month_keys"], row["cells"], strict=True):
            properties[key] = cell.value
            properties[f"{key}_text"] = cell.text
        features.append({"type": "Feature", "geometry": row["geometry"], "properties": properties})
    collection = {
        "type": "FeatureCollection",
        "municipality": data["municipality"],
        "min_count": data["min_count"],
        "months": data["month_keys"],
        "features": features,
    }
    response = JsonResponse(
        collection, content_type="application/geo+json; charset=utf-8", json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response
