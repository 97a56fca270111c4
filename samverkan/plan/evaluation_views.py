"""Pages of the follow-up: the evaluation of a measure (with its chart), and the indicators of an agreement."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from samverkan.accounts.access import Action, access_measure_by_id, picture_views_allowed, plan_municipality_ids
from samverkan.places.models import Area
from samverkan.plan.evaluation import MAX_BUFFER_METRES, ZONES, evaluations_visible_to, measure_evaluate
from samverkan.plan.indicators import indicator_table
from samverkan.plan.models import Evaluation, Measure
from samverkan.situation.render import LINE_STYLES, _nice_step, _num, _safe_id, _signed_percent, _svg_open

# Zone → line style (colour, dash, width): the measure's area solid and heavy, the buffer dotted, the control dashed,
# so the three differ in greyscale print too.
ZONE_STYLES = {"treated": LINE_STYLES[0], "buffer": LINE_STYLES[2], "control": LINE_STYLES[1]}


def zone_names(result: dict[str, Any]) -> dict[str, str]:
    control = _("Rest of municipality") if result["zones"]["control"]["rest_of_municipality"] else _("Control")
    return {
        "treated": _("Measure area"),
        "buffer": _("Surroundings (%(m)s m)") % {"m": _num(result.get("buffer_metres", 0))},
        "control": control,
    }


class EvaluationForm(forms.Form):
    before_days = forms.IntegerField(
        label=gettext_lazy("Days before"),
        min_value=7,
        max_value=3650,
        required=False,
        help_text=gettext_lazy("Empty: as long as the after period, at least 28 days."),
    )
    after_days = forms.IntegerField(
        label=gettext_lazy("Days after"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=gettext_lazy("Empty: from the start to the end of the measure, or to yesterday while it runs."),
    )
    buffer_metres = forms.IntegerField(
        label=gettext_lazy("Surroundings (metres)"),
        min_value=0,
        max_value=MAX_BUFFER_METRES,
        initial=500,
        help_text=gettext_lazy("The ring around the place where reports could move to; 0: no check."),
    )
    control_areas = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Compare with"),
        queryset=Area.objects.none(),
        required=False,
        help_text=gettext_lazy("None chosen: the rest of the municipality."),
    )

    def __init__(self, *args: Any, measure: Measure, views: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["control_areas"].queryset = (
            Area.objects.current().filter(municipality_id=measure.municipality_id).order_by("kind", "name")
        )
        if "police" in views:
            self.fields["view"] = forms.ChoiceField(
                label=_("View"),
                choices=[
                    ("shared", _("Shared (municipality and police)")),
                    ("police", _("Police (with police-only data)")),
                ],
                initial="shared",
            )


@login_required
@require_http_methods(["GET", "POST"])
def measure_evaluate_page(request: HttpRequest, measure_id: int) -> HttpResponse:
    """GET: the latest evaluation the user may read (or the one asked for) and, for those who may, the form to run a
    new one. POST: run it."""
    measure = access_measure_by_id(request.user, measure_id, Action.VIEW)
    can_run = measure.municipality_id in plan_municipality_ids(request.user, Action.EDIT)
    views = picture_views_allowed(request.user, measure.municipality_id)
    form = None
    if can_run:
        form = EvaluationForm(request.POST or None, measure=measure, views=views)
    if request.method == "POST":
        if form is None:
            raise Http404("No such measure")
        if form.is_valid():
            data = form.cleaned_data
            try:
                measure_evaluate(
                    user=request.user,
                    measure_id=measure.pk,
                    before_days=data["before_days"],
                    after_days=data["after_days"],
                    control_area_ids=[a.pk for a in data["control_areas"]],
                    buffer_metres=data["buffer_metres"],
                    view=data.get("view") or "shared",
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The measure has been evaluated."))
                return redirect("plan_eval:measure_evaluate", measure_id=measure.pk)

    evaluations = list(evaluations_visible_to(request.user, measure))
    for e in evaluations:
        e.verdict_label = verdict_words(e.verdict)
    chosen = request.GET.get("evaluation")
    evaluation = evaluations[0] if evaluations else None
    if chosen:
        evaluation = next((e for e in evaluations if str(e.pk) == chosen), None)
        if evaluation is None:
            raise Http404("No such evaluation")
    context: dict[str, Any] = {
        "measure": measure,
        "evaluation": evaluation,
        "evaluations": evaluations,
        "form": form,
        "can_run": can_run,
    }
    if evaluation is not None:
        context.update(_evaluation_context(evaluation))
    return render(request, "plan/evaluation.html", context)


def _evaluation_context(evaluation: Evaluation) -> dict[str, Any]:
    result = evaluation.result
    names = zone_names(result)
    periods = result["periods"]
    ratio = periods["after"]["days"] / periods["before"]["days"]
    zone_rows = []
    for zone in ZONES:
        counts = result["zones"].get(zone)
        if counts is None:
            continue
        expected = counts["before"] * ratio
        zone_rows.append(
            {
                "key": zone,
                "name": names[zone],
                "before": counts["before"],
                "after": counts["after"],
                # The before count brought to the after period's length, so the two can be compared directly.
                "before_scaled": expected,
                "change": None if expected == 0 else _signed_percent(counts["after"] / expected - 1) + " %",
                "area_km2": counts.get("area_km2"),
            }
        )
    weekly = result["weekly"]
    week_rows = [
        {"start": start, "days": days, "counts": [weekly[z][i] for z in ZONES if result["zones"].get(z) is not None]}
        for i, (start, days) in enumerate(zip(weekly["starts"], weekly["days"], strict=True))
    ]
    return {
        "result": result,
        "zone_rows": zone_rows,
        "zone_headers": [names[z] for z in ZONES if result["zones"].get(z) is not None],
        "week_rows": week_rows,
        "chart_svg": weekly_svg(result),
        "verdict_words": verdict_words(evaluation.verdict),
        "mde_percent": _num(100 * result["mde"]["reduction"]) + " %" if result["mde"]["detectable"] else None,
    }


def verdict_words(code: str) -> str:
    return {
        "effect_shown": _("Effect shown"),
        "no_effect_shown": _("No effect shown"),
        "too_little_data": _("Too little data"),
    }.get(code, code)


def weekly_svg(result: dict[str, Any], *, id_prefix: str = "evaluation-weekly") -> str:
    """The weekly counts of each zone, one panel per zone sharing the time axis, with the measure's start marked.

    Each zone has its own scale (the rest of a municipality has far more reports than a square), its own line style,
    and a direct label with its weekly average before and after. Weeks shorter than seven days (at the ends) are
    scaled to a whole week and drawn as open circles.
    """
    prefix = _safe_id(id_prefix)
    weekly = result["weekly"]
    starts = [dt.date.fromisoformat(s) for s in weekly["starts"]]
    days = weekly["days"]
    names = zone_names(result)
    zones = [z for z in ZONES if result["zones"].get(z) is not None]
    after_first = dt.date.fromisoformat(result["periods"]["after"]["first"])
    split = next((i for i, s in enumerate(starts) if s >= after_first), len(starts))
    n = len(starts)
    title = _("Reports per week before and after the measure started")

    def mean(values: list[float], lo: int, hi: int) -> float:
        span = sum(days[lo:hi])
        return 7 * sum(values[lo:hi]) / span if span else 0.0

    # Per zone: the weekly values (short weeks scaled to seven days), and the weekly averages before and after.
    per_week: dict[str, list[float]] = {}
    before_mean: dict[str, float] = {}
    after_mean: dict[str, float] = {}
    for z in zones:
        raw = [float(v) for v in weekly[z]]
        per_week[z] = [v * 7 / d for v, d in zip(raw, days, strict=True)]
        before_mean[z], after_mean[z] = mean(raw, 0, split), mean(raw, split, n)
    desc = " ".join(
        [
            _("Line chart in %(k)s panels, one per zone, of the reports per week from %(first)s to %(last)s;")
            % {"k": len(zones), "first": starts[0].isoformat(), "last": starts[-1].isoformat()},
            _("the measure started on %(start)s.") % {"start": after_first.isoformat()},
            *[
                _("%(zone)s: %(before)s a week before, %(after)s a week after.")
                % {"zone": names[z], "before": _num(before_mean[z], 1), "after": _num(after_mean[z], 1)}
                for z in zones
            ],
        ]
    )
    width, panel_h, gap = 760.0, 96.0, 34.0
    left, right, top = 56.0, width - 220.0, 20.0
    bottom_axis = 46.0
    height = top + len(zones) * (panel_h + gap) - gap + bottom_axis
    plot_w = right - left

    def x_at(i: float) -> float:
        return left + (i + 0.5) / n * plot_w

    out = _svg_open(prefix, width, height, title, desc, "chart chart-evaluation")
    x_split = left + split / n * plot_w
    for k, z in enumerate(zones):
        y0 = top + k * (panel_h + gap)
        y1 = y0 + panel_h
        values = per_week[z]
        vmax = max(values) if values else 0.0
        step = max(1.0, _nice_step(max(vmax, 1.0), 2, (1, 2, 5)))
        ymax = max(step, math.ceil(vmax / step) * step)

        def y_at(v: float, y1: float = y1, ymax: float = ymax) -> float:
            return y1 - v / ymax * panel_h

        colour, dash, stroke = ZONE_STYLES[z]
        out.append(f'<g class="panel" data-zone="{z}" fill="#333">')
        tick = 0.0
        while tick <= ymax + 1e-9:
            y = y_at(tick)
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e0e0e0"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_num(tick))}</text>')
            tick += step
        out.append(f'<line x1="{left}" y1="{y1}" x2="{right}" y2="{y1}" stroke="#555"/>')
        # The averages before and after, as thin grey steps behind the line.
        for lo, hi, avg in ((0, split, before_mean[z]), (split, n, after_mean[z])):
            if hi > lo:
                y = y_at(avg)
                out.append(
                    f'<line class="mean" x1="{left + lo / n * plot_w:.1f}" y1="{y:.1f}" '
                    f'x2="{left + hi / n * plot_w:.1f}" y2="{y:.1f}" stroke="#8a8a8a" stroke-width="1.2" '
                    'stroke-dasharray="1 2"/>'
                )
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(values))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<polyline class="series" data-series="{escape(names[z])}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="{stroke}"{dash_attr} stroke-linejoin="round"/>'
        )
        for i, v in enumerate(values):
            fill = colour if days[i] == 7 else "#ffffff"
            out.append(
                f'<circle cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="2.8" fill="{fill}" stroke="{colour}" '
                'stroke-width="1.2"/>'
            )
        label_y = y0 + panel_h / 2
        out.append(
            f'<line x1="{right + 10:.1f}" y1="{label_y - 4:.1f}" x2="{right + 36:.1f}" y2="{label_y - 4:.1f}" '
            f'stroke="{colour}" stroke-width="{stroke}"{dash_attr}/>'
        )
        out.append(f'<text x="{right + 41:.1f}" y="{label_y:.1f}" font-weight="bold">{escape(names[z])}</text>')
        out.append(
            f'<text x="{right + 41:.1f}" y="{label_y + 15:.1f}">'
            + escape(
                _("%(before)s → %(after)s a week")
                % {"before": _num(before_mean[z], 1), "after": _num(after_mean[z], 1)}
            )
            + "</text>"
        )
        out.append("</g>")

    bottom = top + len(zones) * (panel_h + gap) - gap
    out.append(
        f'<line class="start" x1="{x_split:.1f}" y1="{top - 8}" x2="{x_split:.1f}" y2="{bottom}" stroke="#1a1a1a" '
        'stroke-width="1.5" stroke-dasharray="6 3"/>'
    )
    out.append(
        f'<text x="{x_split + 4:.1f}" y="{top - 6}" fill="#1a1a1a">'
        f"{escape(_('Measure starts %(date)s') % {'date': f'{after_first.day}/{after_first.month}'})}</text>"
    )
    every = max(1, math.ceil(n / max(1, int(plot_w // 48))))
    out.append('<g class="axis axis-x" fill="#333">')
    for i in range(split % every, n, every):
        x = left + i / n * plot_w
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" stroke="#555"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">{starts[i].day}/{starts[i].month}</text>')
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6:.1f}" text-anchor="middle">'
        f"{escape(_('Week starting (day/month)'))}</text></g></svg>"
    )
    return mark_safe("".join(out))


@login_required
def indicators_page(request: HttpRequest, agreement_id: int) -> HttpResponse:
    table = indicator_table(user=request.user, agreement_id=agreement_id)
    return render(request, "plan/indicators.html", table)
