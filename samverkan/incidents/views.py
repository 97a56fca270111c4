"""Report pages: form, list, detail, review, map. Views parse input, call one service or selector, and render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from samverkan.accounts.access import Action, access_incident_by_id, areas_visible_to, can, municipalities_visible_to
from samverkan.audit.services import record_restricted_list, record_restricted_read
from samverkan.incidents import services
from samverkan.incidents.forms import IncidentFilter, IncidentForm, ReviewForm
from samverkan.incidents.screening import KIND_LABELS, highlight_segments, screen
from samverkan.incidents.selectors import incident_list_visible_to
from samverkan.incidents.services import TRANSITIONS


def _form_errors_from(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        for error in exc.messages:
            form.add_error(None, error)
        return
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        if field in {"location", "submission_key"}:
            target = None
        for error in errors:
            form.add_error(target, error)


def _map_context(user) -> dict[str, object]:
    municipalities = municipalities_visible_to(user, Action.CREATE) or municipalities_visible_to(user)
    return {"outlines": [{"name": m.name, "geometry": m.geometry} for m in municipalities if m.geometry]}


@login_required
@never_cache  # the page carries a one-time submission key; the back button must not bring the same one back
@require_http_methods(["GET", "POST"])
def incident_create(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.CREATE):
        raise PermissionDenied
    findings = []
    if request.method == "POST":
        form = IncidentForm(request.POST, user=request.user)
        if form.is_valid():
            findings = screen(form.cleaned_data.get("description") or "")
            if findings and not form.cleaned_data.get("confirm_personal_data"):
                # Show the warning and let the reporter either edit the text or send it as it is.
                data = request.POST.copy()
                data["confirm_personal_data"] = "1"
                form = IncidentForm(data, user=request.user)
                form.is_valid()
            else:
                try:
                    incident = services.incident_create(
                        user=request.user,
                        submission_key=form.cleaned_data.get("submission_key"),
                        **form.service_kwargs(),
                    )
                except ValidationError as exc:
                    if "submission_key" in exc.message_dict:
                        form.renew_submission_key()
                    _form_errors_from(form, exc)
                else:
                    if incident.personal_data_flags:
                        messages.warning(
                            request, _("Thank you! The report waits for a reviewer to remove the personal data.")
                        )
                    else:
                        messages.success(request, _("Thank you! Your report has been saved."))
                    return redirect("incidents:detail", incident_id=incident.pk)
    else:
        form = IncidentForm(initial=IncidentForm.initial_for(), user=request.user)
    context = {
        "form": form,
        "findings": [{"label": KIND_LABELS[f.kind], "text": f.text} for f in findings],
        "title": _("New report"),
        **_map_context(request.user),
    }
    return render(request, "incidents/incident_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def incident_edit(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access_incident_by_id(request.user, incident_id, Action.EDIT)
    if request.method == "POST":
        form = IncidentForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.incident_update(user=request.user, incident_id=incident.pk, **form.service_kwargs())
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("The report has been updated."))
                return redirect("incidents:detail", incident_id=incident.pk)
    else:
        record_restricted_read(request, incident)
        form = IncidentForm(initial=IncidentForm.initial_for(incident), user=request.user)
    context = {
        "form": form,
        "incident": incident,
        "title": _("Edit report"),
        "findings": [],
        **_map_context(request.user),
    }
    return render(request, "incidents/incident_form.html", context)


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    qs = incident_list_visible_to(request.user)
    filterset = IncidentFilter(
        request.GET or None, queryset=qs, user=request.user, areas=areas_visible_to(request.user).current()
    )
    filtered = filterset.qs.distinct() if filterset.is_bound and filterset.is_valid() else qs
    paginator = Paginator(filtered.order_by("-occurred_from", "-id"), settings.SAMVERKAN_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    record_restricted_list(request, page)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode()}
    template = "incidents/incident_list.html#results" if request.htmx else "incidents/incident_list.html"
    return render(request, template, context)


@login_required
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access_incident_by_id(request.user, incident_id, Action.VIEW)
    record_restricted_read(request, incident)
    may_review = _may(request.user, incident, Action.REVIEW) and bool(TRANSITIONS.get(incident.status))
    context = {
        "incident": incident,
        "segments": highlight_segments(incident.description, incident.personal_data_flags),
        "finding_labels": {k: str(v) for k, v in KIND_LABELS.items()},
        "review_form": ReviewForm(incident=incident) if may_review else None,
        "may_edit": incident.anonymised_at is None and _may(request.user, incident, Action.EDIT),
        "changes": incident.status_changes.select_related("changed_by"),
        "areas": incident.areas.all(),
        **_map_context(request.user),
    }
    return render(request, "incidents/incident_detail.html", context)


def _may(user, incident, action: Action) -> bool:
    try:
        access_incident_by_id(user, incident.pk, action)
    except Http404:
        return False
    return True


@login_required
@require_POST
def incident_review(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access_incident_by_id(request.user, incident_id, Action.REVIEW)
    form = ReviewForm(request.POST, incident=incident)
    if form.is_valid():
        try:
            services.incident_review(
                user=request.user,
                incident_id=incident.pk,
                to_status=form.cleaned_data["to_status"],
                note=form.cleaned_data.get("note", ""),
                redact_personal_data=form.cleaned_data.get("redact_personal_data", False),
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    messages.error(request, error)
        else:
            messages.success(request, _("The report has been reviewed."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(reverse("incidents:detail", kwargs={"incident_id": incident.pk}))


@login_required
def incident_map(request: HttpRequest) -> HttpResponse:
    filterset = IncidentFilter(
        request.GET or None,
        queryset=incident_list_visible_to(request.user),
        user=request.user,
        areas=areas_visible_to(request.user).current(),
    )
    query = request.GET.copy()
    context = {
        "filter": filterset,
        "geojson_url": reverse("api:incidents_geojson") + ("?" + query.urlencode() if query else ""),
        "areas_url": reverse("api:areas_geojson"),
        **_map_context(request.user),
    }
    return render(request, "incidents/incident_map.html", context)
