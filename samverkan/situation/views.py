"""Pages of the situational picture: the dashboard, a live picture to annotate and save, saved versions, PDF."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from samverkan.accounts.access import (
    Action,
    access_snapshot_by_id,
    can_see_pictures,
    municipalities_visible_to,
    picture_views_allowed,
    snapshots_visible_to,
)
from samverkan.analysis.temporal import compare_to_baseline
from samverkan.audit.services import record_export, record_restricted_list
from samverkan.core.csp import document_response
from samverkan.incidents.selectors import incidents_waiting_for_review, weekly_counts_by_focus_area
from samverkan.places.models import Area, Municipality
from samverkan.situation import render as charts
from samverkan.situation.documents import snapshot_html, snapshot_pdf
from samverkan.situation.forms import AnnotationForm, PictureForm, YearlyForm
from samverkan.situation.models import Snapshot, View
from samverkan.situation.selectors import picture_compute
from samverkan.situation.services import snapshot_save
from samverkan.situation.yearly import yearly_due, yearly_picture

BASELINE_WEEKS = 8
# Pictures shown but not yet saved are kept in the session, so what is saved is exactly what the user saw.
SESSION_KEY = "situation:pictures"
KEPT_PICTURES = 3


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
    recent = list(incidents_waiting_for_review(request.user).select_related("category")[:5])
    record_restricted_list(request, recent)
    context = {
        "cards": cards,
        "iso_year": iso.year,
        "iso_week": iso.week,
        "week_start": week_start,
        "week_end": week_start + dt.timedelta(days=6),
        "days_elapsed": days_elapsed,
        "baseline_weeks": BASELINE_WEEKS,
        "waiting": incidents_waiting_for_review(request.user).count(),
        "recent": recent,
        "yearly": _yearly_reminders(request.user),
    }
    return render(request, "situation/dashboard.html", context)


def _yearly_reminders(user) -> list[dict]:
    """The municipalities whose yearly picture (Lag 2023:196) is overdue or due within three months."""
    if not can_see_pictures(user):
        return []
    soon = timezone.localdate() + dt.timedelta(days=90)
    reminders = []
    for municipality in municipalities_visible_to(user, Action.VIEW).filter(geometry__isnull=False):
        due = yearly_due(municipality)
        if due["overdue"] or (due["due"] and due["due"] <= soon):
            # The steering group is reminded too, but only those who may save a picture are offered to draft it.
            can_draft = bool(picture_views_allowed(user, municipality.pk, Action.EDIT))
            reminders.append({"municipality": municipality, "can_draft": can_draft, **due})
    return reminders


@login_required
@require_http_methods(["GET", "POST"])
def yearly(request: HttpRequest) -> HttpResponse:
    """Draft the yearly situational picture in the law's structure; it is saved at once as version 1 and then
    completed with texts and ratings like any saved picture."""
    if not can_see_pictures(request.user):
        raise PermissionDenied
    form = YearlyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        picture = yearly_picture(
            user=request.user, municipality_id=data["municipality"].pk, year=data["year"], view=data["view"]
        )
        snapshot = snapshot_save(user=request.user, picture=picture, kind="yearly")
        messages.success(request, _("The yearly picture has been drafted. Add the assessment and decisions."))
        return redirect("situation:snapshot", snapshot_id=snapshot.pk)
    return render(request, "situation/yearly.html", {"form": form})


def _keep(request: HttpRequest, picture: dict) -> str:
    token = uuid.uuid4().hex
    kept = request.session.get(SESSION_KEY, {})
    kept[token] = picture
    request.session[SESSION_KEY] = dict(list(kept.items())[-KEPT_PICTURES:])
    return token


def _areas_of(picture: dict) -> list[dict]:
    if picture.get("area"):
        return [picture["area"]]
    return [
        {"id": a.pk, "name": a.name}
        for a in Area.objects.current().filter(municipality_id=picture["municipality"]["id"]).order_by("name")
    ]


def _picture_context(picture: dict) -> dict:
    layers = charts.map_layers(picture)
    outline = None
    if picture.get("area"):
        area = Area.objects.filter(pk=picture["area"]["id"]).first()
        outline = area.geometry if area else None
    else:
        outline = (
            Municipality.objects.filter(pk=picture["municipality"]["id"]).values_list("geometry", flat=True).first()
        )
    return {
        "picture": picture,
        "trend_svg": charts.trend_svg(picture),
        "trend_sentence": charts.trend_test_sentence(picture),
        "weekday_hour_svg": charts.weekday_hour_svg(picture),
        "weekday_hour_table": charts.weekday_hour_table_html(picture),
        "key_figures_svg": charts.key_figures_bars_svg(picture),
        "legend": charts.legend_html(picture),
        "map_description": charts.map_description(picture),
        "kde_uri": charts.png_data_uri(layers.get("kde_png")) if layers else None,
        "gi_uri": charts.png_data_uri(layers.get("gi_png")) if layers else None,
        "bounds": layers.get("bounds") if layers else None,
        "outlines": [{"name": picture["municipality"]["name"], "geometry": outline}] if outline else [],
        "flag_words": {
            "higher": _("Higher than usual"),
            "lower": _("Lower than usual"),
            "as_expected": _("Within the usual range"),
            "too_few": _("Too few reports to tell a change."),
        },
    }


@login_required
def picture(request: HttpRequest) -> HttpResponse:
    if not can_see_pictures(request.user):
        raise PermissionDenied
    form = PictureForm(request.GET or None, user=request.user)
    context: dict = {"form": form}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        picture = picture_compute(
            user=request.user,
            municipality_id=data["municipality"].pk,
            period=data["period_obj"],
            focus_area_code=data["focus"].code if data.get("focus") else None,
            area_id=data["area"].pk if data.get("area") else None,
            view=data["view"],
        )
        context.update(_picture_context(picture))
        # Readers of the steering group read pictures; saving one is for those who edit.
        if data["view"] in picture_views_allowed(request.user, data["municipality"].pk, Action.EDIT):
            token = _keep(request, picture)
            context["annotation"] = AnnotationForm(initial={"token": token}, areas=_areas_of(picture))
    return render(request, "situation/picture.html", context)


@login_required
@require_POST
def picture_save(request: HttpRequest) -> HttpResponse:
    kept = request.session.get(SESSION_KEY, {})
    token = request.POST.get("token", "")
    if token not in kept:
        messages.error(request, _("The picture is no longer available; build it again before saving."))
        return redirect("situation:picture")
    picture = kept[token]
    if picture["view"] not in picture_views_allowed(request.user, picture["municipality"]["id"], Action.EDIT):
        raise PermissionDenied
    areas = _areas_of(picture)
    form = AnnotationForm(request.POST, areas=areas)
    if not form.is_valid():
        context = {"form": PictureForm(user=request.user), "annotation": form, **_picture_context(picture)}
        return render(request, "situation/picture.html", context)
    snapshot = snapshot_save(
        user=request.user,
        picture=picture,
        assessment=form.cleaned_data["assessment"],
        decisions=form.cleaned_data["decisions"],
        ratings=form.ratings(areas),
    )
    messages.success(request, _("The situational picture has been saved as version %(n)s.") % {"n": snapshot.number})
    return redirect("situation:snapshot", snapshot_id=snapshot.pk)


@login_required
def snapshot_list(request: HttpRequest) -> HttpResponse:
    if not can_see_pictures(request.user):
        raise PermissionDenied
    snapshots = snapshots_visible_to(request.user).select_related("municipality", "area", "created_by")[:200]
    return render(request, "situation/snapshot_list.html", {"snapshots": snapshots})


def _versions(snapshot):
    # Versions share the snapshot's municipality and view, so the user may read all of them.
    return Snapshot.objects.filter(lineage=snapshot.lineage).order_by("number").only("pk", "number", "created_at")


@login_required
def snapshot_detail(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = access_snapshot_by_id(request.user, snapshot_id)
    may_edit = snapshots_visible_to(request.user, Action.EDIT).filter(pk=snapshot.pk).exists()
    context = {"snapshot": snapshot, "versions": _versions(snapshot), "may_edit": may_edit}
    return render(request, "situation/snapshot_detail.html", context)


@login_required
@xframe_options_sameorigin
def snapshot_document(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    """The saved picture as a standalone accessible HTML document (the same one that is printed to PDF)."""
    snapshot = access_snapshot_by_id(request.user, snapshot_id)
    return document_response(snapshot_html(snapshot))


@login_required
def snapshot_pdf_view(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = access_snapshot_by_id(request.user, snapshot_id)
    record_export(request, kind="snapshot_pdf", obj=snapshot, restricted=snapshot.view == View.POLICE)
    response = HttpResponse(snapshot_pdf(snapshot), content_type="application/pdf")
    name = f"lagesbild-{snapshot.municipality.name}-{snapshot.period_label}-v{snapshot.number}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name.replace(" ", "-").lower()}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def snapshot_edit(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    """Edit the texts and ratings of a saved picture: the result is a new version; the figures stay frozen."""
    previous = access_snapshot_by_id(request.user, snapshot_id, Action.EDIT)
    areas = _areas_of(previous.picture)
    initial = {"token": "frozen", "assessment": previous.assessment, "decisions": previous.decisions}
    for rating in previous.ratings:
        initial[f"rating_{rating['area_id']}"] = rating.get("rating", "")
        initial[f"motivation_{rating['area_id']}"] = rating.get("motivation", "")
    form = AnnotationForm(request.POST or None, initial=initial, areas=areas)
    if request.method == "POST" and form.is_valid():
        snapshot = snapshot_save(
            user=request.user,
            picture=previous.picture,
            assessment=form.cleaned_data["assessment"],
            decisions=form.cleaned_data["decisions"],
            ratings=form.ratings(areas),
            previous=previous,
            kind=previous.kind,
            extra=previous.extra,
        )
        messages.success(request, _("Saved as version %(n)s.") % {"n": snapshot.number})
        return redirect("situation:snapshot", snapshot_id=snapshot.pk)
    return render(request, "situation/snapshot_edit.html", {"snapshot": previous, "annotation": form})


@login_required
def snapshot_compare(request: HttpRequest, snapshot_id: int, other_id: int) -> HttpResponse:
    left = access_snapshot_by_id(request.user, snapshot_id)
    right = access_snapshot_by_id(request.user, other_id)
    if left.lineage != right.lineage:
        raise Http404("Not versions of the same picture")
    rows = []
    for key, label in (("assessment", _("Assessment")), ("decisions", _("Decisions"))):
        rows.append(
            {
                "label": label,
                "left": getattr(left, key),
                "right": getattr(right, key),
                "changed": getattr(left, key) != getattr(right, key),
            }
        )
    left_ratings = {r["area"]: r for r in left.ratings}
    right_ratings = {r["area"]: r for r in right.ratings}
    for area in sorted(set(left_ratings) | set(right_ratings)):
        a, b = left_ratings.get(area, {}), right_ratings.get(area, {})
        rows.append(
            {
                "label": area,
                "left": " – ".join(filter(None, [a.get("rating", ""), a.get("motivation", "")])),
                "right": " – ".join(filter(None, [b.get("rating", ""), b.get("motivation", "")])),
                "changed": a != b,
            }
        )
    figures_changed = left.picture != right.picture
    context = {"left": left, "right": right, "rows": rows, "figures_changed": figures_changed}
    return render(request, "situation/snapshot_compare.html", context)
