"""Moderation of public (Open311) requests: the queue, one request, accept or reject.

Only users who may review reports in a request's municipality see it; to everyone else the pages answer 404, as the
report pages do.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from samverkan.accounts.access import (
    Action,
    access_public_request_by_id,
    municipalities_visible_to,
    municipality_ids_for,
    public_requests_moderated_by,
)
from samverkan.imports import open311_services as services
from samverkan.imports.models_open311 import PublicRequestStatus
from samverkan.incidents.screening import KIND_LABELS, highlight_segments

RECENTLY_MODERATED = 20


class AcceptForm(forms.Form):
    redact_personal_data = forms.BooleanField(label=gettext_lazy("Redact the personal data found"), required=False)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why is it rejected? (not published)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        # Both forms have a note on the same page; distinct ids keep each label tied to its own field.
        kwargs.setdefault("auto_id", "id_reject_%s")
        super().__init__(*args, **kwargs)


def _require_moderator(request: HttpRequest) -> None:
    if not municipality_ids_for(request.user, Action.REVIEW):
        raise Http404("No such page")


@login_required
def moderation_list(request: HttpRequest) -> HttpResponse:
    _require_moderator(request)
    scope = public_requests_moderated_by(request.user).select_related("category", "municipality")
    context = {
        "pending": scope.filter(status=PublicRequestStatus.PENDING).order_by("created_at", "id"),
        "moderated": scope.exclude(status=PublicRequestStatus.PENDING)
        .select_related("moderated_by")
        .order_by("-moderated_at", "-id")[:RECENTLY_MODERATED],
    }
    return render(request, "imports/moderation_list.html", context)


def _detail(request: HttpRequest, request_id: int, accept_form: AcceptForm, reject_form: RejectForm) -> HttpResponse:
    public_request = access_public_request_by_id(request.user, request_id)
    pending = public_request.status == PublicRequestStatus.PENDING
    context = {
        "public_request": public_request,
        "pending": pending,
        "segments": highlight_segments(public_request.description, public_request.personal_data_flags),
        "finding_labels": sorted({str(KIND_LABELS[f["kind"]]) for f in public_request.personal_data_flags}),
        "accept_form": accept_form if pending else None,
        "reject_form": reject_form if pending else None,
        "outlines": [
            {"name": m.name, "geometry": m.geometry}
            for m in municipalities_visible_to(request.user, Action.REVIEW)
            if m.geometry
        ],
    }
    return render(request, "imports/moderation_detail.html", context)


@login_required
def moderation_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    return _detail(request, request_id, AcceptForm(), RejectForm())


def _report_errors(request: HttpRequest, exc: ValidationError) -> None:
    for errors in exc.message_dict.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_POST
def moderation_accept(request: HttpRequest, request_id: int) -> HttpResponse:
    public_request = access_public_request_by_id(request.user, request_id)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return _detail(request, public_request.pk, form, RejectForm())
    try:
        public_request = services.public_request_accept(
            user=request.user,
            request_id=public_request.pk,
            redact_personal_data=form.cleaned_data["redact_personal_data"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        _report_errors(request, exc)
        return redirect("moderation:detail", request_id=public_request.pk)
    if public_request.personal_data_flags:
        messages.warning(request, _("Accepted. The report waits for the personal data to be redacted."))
    else:
        messages.success(request, _("Accepted. The observation is now a report in the situational picture."))
    return redirect("moderation:list")


@login_required
@require_POST
def moderation_reject(request: HttpRequest, request_id: int) -> HttpResponse:
    public_request = access_public_request_by_id(request.user, request_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _detail(request, public_request.pk, AcceptForm(), form)
    try:
        services.public_request_reject(user=request.user, request_id=public_request.pk, note=form.cleaned_data["note"])
    except ValidationError as exc:
        _report_errors(request, exc)
        return redirect("moderation:detail", request_id=public_request.pk)
    messages.success(request, _("Rejected."))
    return redirect("moderation:list")
