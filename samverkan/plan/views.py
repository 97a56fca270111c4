"""Measure pages: list, detail with its activity log, form, month calendar and map.

Views parse input, call one service or selector, and render. Whatever a user may not see or change answers 404,
like a missing page, so ids and pages reveal nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from samverkan.accounts.access import Action, access_measure_by_id, plan_municipality_ids
from samverkan.accounts.models import Organisation
from samverkan.places.models import Area, Municipality
from samverkan.plan import selectors, services
from samverkan.plan.forms import (
    ActivityForm,
    MeasureFilterForm,
    MeasureForm,
    StatusForm,
    describe_time_windows,
    format_times,
)
from samverkan.plan.models import Measure


def _viewable_ids(user) -> frozenset[int]:
    ids = plan_municipality_ids(user, Action.VIEW)
    if not ids:
        raise Http404("No measures")
    return ids


def _filter_form(request: HttpRequest, ids: frozenset[int]) -> MeasureFilterForm:
    return MeasureFilterForm(
        request.GET or None,
        areas=Area.objects.filter(municipality_id__in=ids).current().select_related("municipality"),
        organisations=Organisation.objects.filter(measures__municipality_id__in=ids).distinct(),
    )


def _query_without(request: HttpRequest, *keys: str) -> str:
    query = request.GET.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()


def _form_errors_from(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields and not form.fields[field].widget.is_hidden else None
        if field == "polygon":
            target = "polygon"
        for error in errors:
            form.add_error(target, error)


def _outlines(municipality_ids) -> list[dict]:
    return [
        {"name": m.name, "geometry": m.geometry}
        for m in Municipality.objects.filter(pk__in=municipality_ids).exclude(geometry=None)
    ]


# --- list, detail ---------------------------------------------------------------------------------------------


@login_required
def measure_list(request: HttpRequest) -> HttpResponse:
    ids = _viewable_ids(request.user)
    form = _filter_form(request, ids)
    measures = selectors.measure_list(request.user, **form.selector_kwargs())
    page = Paginator(measures, settings.SAMVERKAN_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": form,
        "page": page,
        "query": _query_without(request, "page"),
        "may_create": bool(plan_municipality_ids(request.user, Action.EDIT)),
    }
    template = "plan/measure_list.html#results" if request.htmx else "plan/measure_list.html"
    return render(request, template, context)


def _detail_context(request: HttpRequest, measure: Measure, activity_form: ActivityForm | None = None) -> dict:
    may_edit = selectors.may_edit_measure(request.user, measure)
    areas = list(measure.areas.all())
    return {
        "measure": measure,
        "areas": areas,
        "windows": describe_time_windows(measure.time_windows or []),
        "activities": measure.activities.select_related("organisation", "created_by"),
        "may_edit": may_edit,
        "status_choices": selectors.status_choices_after(measure.status) if may_edit else [],
        "activity_form": (activity_form or ActivityForm(user=request.user, measure=measure)) if may_edit else None,
        "map_data": {
            "polygon": measure.polygon,
            "areas": [{"name": a.name, "geometry": a.geometry} for a in areas],
        },
        "outlines": _outlines([measure.municipality_id]),
    }


@login_required
def measure_detail(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = selectors.measure_detail(request.user, measure_id)
    return render(request, "plan/measure_detail.html", _detail_context(request, measure))


@login_required
@require_POST
def measure_status(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = access_measure_by_id(request.user, measure_id, Action.EDIT)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.measure_set_status(
                user=request.user,
                measure_id=measure.pk,
                to_status=form.cleaned_data["to_status"],
                note=form.cleaned_data.get("note") or "",
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    messages.error(request, error)
        else:
            messages.success(request, _("The status has been changed."))
    else:
        messages.error(request, _("Unknown status."))
    return redirect("plan:measure_detail", measure_id=measure.pk)


@login_required
@require_POST
def activity_add(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = access_measure_by_id(request.user, measure_id, Action.EDIT)
    form = ActivityForm(request.POST, user=request.user, measure=measure)
    if form.is_valid():
        try:
            services.activity_add(
                user=request.user,
                measure_id=measure.pk,
                date=form.cleaned_data["date"],
                text=form.cleaned_data["text"],
                organisation_id=form.cleaned_data["organisation"].pk,
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The activity has been added to the log."))
            return redirect(reverse("plan:measure_detail", kwargs={"measure_id": measure.pk}) + "#activities")
    measure = selectors.measure_detail(request.user, measure.pk)
    return render(request, "plan/measure_detail.html", _detail_context(request, measure, form))


# --- the form -------------------------------------------------------------------------------------------------


def _form_context(form: MeasureForm, title: str, measure: Measure | None = None) -> dict:
    areas = form.fields["areas"].queryset
    return {
        "form": form,
        "title": title,
        "measure": measure,
        "outlines": _outlines(form.municipality_ids),
        "areas_data": [{"id": a.pk, "name": a.name, "geometry": a.geometry} for a in areas],
    }


@login_required
@require_http_methods(["GET", "POST"])
def measure_create(request: HttpRequest) -> HttpResponse:
    ids = plan_municipality_ids(request.user, Action.EDIT)
    if not ids:
        raise Http404("No measures")
    if request.method == "POST":
        form = MeasureForm(request.POST, user=request.user, municipality_ids=ids)
        if form.is_valid():
            try:
                measure = services.measure_create(user=request.user, **form.service_kwargs())
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("The measure has been saved."))
                return redirect("plan:measure_detail", measure_id=measure.pk)
    else:
        initial = MeasureForm.initial_from_query(request.GET, municipality_ids=ids)
        form = MeasureForm(initial=initial, user=request.user, municipality_ids=ids)
    return render(request, "plan/measure_form.html", _form_context(form, _("New measure")))


@login_required
@require_http_methods(["GET", "POST"])
def measure_edit(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = access_measure_by_id(request.user, measure_id, Action.EDIT)
    ids = [measure.municipality_id]
    if request.method == "POST":
        form = MeasureForm(request.POST, user=request.user, municipality_ids=ids, measure=measure)
        if form.is_valid():
            try:
                services.measure_update(user=request.user, measure_id=measure.pk, **form.service_kwargs())
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("The measure has been updated."))
                return redirect("plan:measure_detail", measure_id=measure.pk)
    else:
        form = MeasureForm(
            initial=MeasureForm.initial_for(measure), user=request.user, municipality_ids=ids, measure=measure
        )
    return render(request, "plan/measure_form.html", _form_context(form, _("Edit measure"), measure))


# --- calendar and map -----------------------------------------------------------------------------------------


def _month(value: str | None) -> dt.date:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return dt.date(year, month, 1)
    except (TypeError, ValueError):
        return timezone.localdate().replace(day=1)


@login_required
def measure_calendar(request: HttpRequest) -> HttpResponse:
    ids = _viewable_ids(request.user)
    form = _filter_form(request, ids)
    for key in ("date_from", "date_to"):
        del form.fields[key]
    first = _month(request.GET.get("month"))
    filters = {k: v for k, v in form.selector_kwargs().items() if k not in ("period_start", "period_end")}
    month = selectors.measure_calendar(request.user, year=first.year, month=first.month, **filters)
    weeks = [
        {
            "number": week[0].date.isocalendar().week,
            "days": [
                {
                    "date": day.date,
                    "in_month": day.in_month,
                    "today": day.date == timezone.localdate(),
                    "entries": [
                        {"measure": e.measure, "times": ", ".join(t for t in map(format_times, e.windows) if t)}
                        for e in day.entries
                    ],
                }
                for day in week
            ],
        }
        for week in month.weeks
    ]
    query = _query_without(request, "month")
    context = {
        "filter": form,
        "month": month,
        "weeks": weeks,
        "weekdays": [week_day.date for week_day in month.weeks[0]],
        "query": query,
        "previous": month.previous.strftime("%Y-%m"),
        "next": month.next.strftime("%Y-%m"),
        "current": timezone.localdate().strftime("%Y-%m"),
    }
    return render(request, "plan/measure_calendar.html", context)


@login_required
def measure_map(request: HttpRequest) -> HttpResponse:
    ids = _viewable_ids(request.user)
    form = _filter_form(request, ids)
    query = request.GET.urlencode()
    context = {
        "filter": form,
        "geojson_url": reverse("plan:measure_geojson") + ("?" + query if query else ""),
        "outlines": _outlines(ids),
    }
    return render(request, "plan/measure_map.html", context)


@login_required
def measure_geojson(request: HttpRequest) -> JsonResponse:
    ids = _viewable_ids(request.user)
    form = _filter_form(request, ids)
    data = selectors.measures_geojson(request.user, **form.selector_kwargs())
    detail = reverse("plan:measure_detail", kwargs={"measure_id": 0})
    data["detail_url"] = detail
    return JsonResponse(data)
