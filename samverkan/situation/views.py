"""The dashboard: this ISO week per focus area against the previous weeks, plus what waits for review."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from samverkan.analysis.temporal import compare_to_baseline
from samverkan.incidents.selectors import incidents_waiting_for_review, weekly_counts_by_focus_area

BASELINE_WEEKS = 8


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    week_start, rows = weekly_counts_by_focus_area(request.user, today=today, weeks_back=BASELINE_WEEKS)
    # The current week is still running, so it is compared with the same weekdays of the previous weeks.
    days_elapsed = (today - week_start).days + 1
    cards = []
    for row in rows:
        comparison = compare_to_baseline(row.current, list(row.previous_to_date))
        cards.append({"row": row, "comparison": comparison, "sparkline": [*row.previous_full, row.current]})
    iso = week_start.isocalendar()
    context = {
        "cards": cards,
        "iso_year": iso.year,
        "iso_week": iso.week,
        "week_start": week_start,
        "week_end": week_start + dt.timedelta(days=6),
        "days_elapsed": days_elapsed,
        "baseline_weeks": BASELINE_WEEKS,
        "waiting": incidents_waiting_for_review(request.user).count(),
        "recent": incidents_waiting_for_review(request.user).select_related("category")[:5],
    }
    return render(request, "situation/dashboard.html", context)
