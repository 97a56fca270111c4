"""Pages of the agreement: the agreement itself with its citizen promises, meetings with agenda, minutes and
decisions, and the follow-up report (HTML and PDF)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from samverkan.accounts.access import (
    Action,
    access_agreement_by_id,
    access_meeting_by_id,
    agreements_visible_to,
    plan_municipality_ids,
)
from samverkan.audit.services import record_export
from samverkan.core.csp import document_response
from samverkan.incidents.models import FocusArea
from samverkan.places.models import Municipality
from samverkan.plan import agreement_services as services
from samverkan.plan.models import MeasureKind, MeasureTerm, PromiseStatus

# --------------------------------------------------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------------------------------------------------


class PromiseForm(forms.Form):
    status = forms.ChoiceField(choices=PromiseStatus.choices, label=gettext_lazy("Status"))
    follow_up = forms.CharField(
        label=gettext_lazy("Public follow-up"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown to the public: no names or other personal data."),
    )


class MeetingForm(forms.Form):
    municipality = forms.ModelChoiceField(
        queryset=Municipality.objects.none(), label=gettext_lazy("Municipality"), empty_label=None
    )
    agreement = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Agreement"), required=False, empty_label=gettext_lazy("None")
    )
    held_on = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    agenda = forms.CharField(label=gettext_lazy("Agenda"), required=False, widget=forms.Textarea(attrs={"rows": 18}))
    snapshot = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        ids = plan_municipality_ids(user, Action.EDIT)
        self.fields["municipality"].queryset = Municipality.objects.filter(pk__in=ids)
        self.fields["agreement"].queryset = agreements_visible_to(user, Action.EDIT)


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=gettext_lazy("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 10}))


class DecisionForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Decision"), widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Owner"))
    create_measure = forms.BooleanField(label=gettext_lazy("Also create a planned measure"), required=False)
    focus_area = forms.ModelChoiceField(
        queryset=FocusArea.objects.filter(active=True), label=gettext_lazy("Focus area of the measure"), required=False
    )
    kind = forms.ChoiceField(
        choices=MeasureKind.choices, label=gettext_lazy("Kind of measure"), initial=MeasureKind.SITUATIONAL
    )
    term = forms.ChoiceField(choices=MeasureTerm.choices, label=gettext_lazy("Term"), initial=MeasureTerm.SHORT)

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = services.decision_owners(meeting.municipality_id)


def _errors_to_form(form: forms.Form, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _may(check, *args) -> bool:
    try:
        check(*args)
    except Http404:
        return False
    return True


# --------------------------------------------------------------------------------------------------------------------
# The agreement and its promises
# --------------------------------------------------------------------------------------------------------------------


@login_required
def agreement_current(request: HttpRequest) -> HttpResponse:
    """The agreement in force (or the latest), so a menu link needs no id."""
    if not plan_municipality_ids(request.user, Action.VIEW):
        raise PermissionDenied
    agreement = services.agreement_current(user=request.user)
    if agreement is None:
        return render(request, "plan/agreement_detail.html", {"agreement": None})
    return redirect("plan_agreement:detail", agreement_id=agreement.pk)


@login_required
def agreement_detail(request: HttpRequest, agreement_id: int) -> HttpResponse:
    agreement = services.agreement_full(access_agreement_by_id(request.user, agreement_id, Action.VIEW))
    may_edit = _may(access_agreement_by_id, request.user, agreement.pk, Action.EDIT)
    promises = [
        {
            "promise": p,
            "form": PromiseForm(prefix=f"p{p.pk}", initial={"status": p.status, "follow_up": p.follow_up})
            if may_edit
            else None,
        }
        for p in agreement.promises.all()
    ]
    context = {
        "agreement": agreement,
        "may_edit": may_edit,
        "promises": promises,
        "meetings": agreement.meetings.order_by("-held_on", "-id")[:5],
    }
    return render(request, "plan/agreement_detail.html", context)


@login_required
@require_POST
def promise_update(request: HttpRequest, promise_id: int) -> HttpResponse:
    promise = services.access_promise_by_id(request.user, promise_id, Action.EDIT)
    form = PromiseForm(request.POST, prefix=f"p{promise.pk}")
    if form.is_valid():
        try:
            promise = services.promise_update(
                user=request.user,
                promise_id=promise.pk,
                status=form.cleaned_data["status"],
                follow_up=form.cleaned_data["follow_up"],
            )
        except ValidationError as error:
            _errors_to_form(form, error)
    if request.htmx:
        saved = form.is_valid()
        if saved:
            form = PromiseForm(
                prefix=f"p{promise.pk}", initial={"status": promise.status, "follow_up": promise.follow_up}
            )
        context = {"item": {"promise": promise, "form": form}, "may_edit": True, "saved": saved}
        # htmx swaps only successful responses, so a refused form is answered with 200 to show its errors.
        return render(request, "plan/agreement_detail.html#promise", context)
    if form.is_valid():
        messages.success(request, _("The promise has been updated."))
    else:
        messages.error(request, _("The promise was not updated: %(errors)s") % {"errors": _flat(form)})
    url = reverse("plan_agreement:detail", kwargs={"agreement_id": promise.agreement_id})
    return redirect(f"{url}#promise-{promise.pk}")


def _flat(form: forms.Form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


@login_required
@xframe_options_sameorigin
def followup(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """The follow-up report of the agreement period as a standalone accessible HTML document."""
    agreement = access_agreement_by_id(request.user, agreement_id, Action.VIEW)
    return document_response(services.followup_html(agreement))


@login_required
def followup_pdf(request: HttpRequest, agreement_id: int) -> HttpResponse:
    agreement = access_agreement_by_id(request.user, agreement_id, Action.VIEW)
    record_export(request, kind="followup_pdf", obj=agreement)
    response = HttpResponse(services.followup_pdf(agreement), content_type="application/pdf")
    name = f"uppfoljning-{agreement.municipality.name}-{agreement.period_start.year}-{agreement.period_end.year}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name.replace(" ", "-").lower()}"'
    return response


# --------------------------------------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------------------------------------


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    if not plan_municipality_ids(request.user, Action.VIEW):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()
    paginator = Paginator(services.meeting_search(user=request.user, query=query), settings.SAMVERKAN_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "q": query,
        "query": params.urlencode(),
        "may_create": bool(plan_municipality_ids(request.user, Action.EDIT)),
    }
    template = "plan/meeting_list.html#results" if request.htmx else "plan/meeting_list.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    """A new meeting; on GET the agenda is drafted from the chosen municipality's latest picture and open measures."""
    ids = plan_municipality_ids(request.user, Action.EDIT)
    if not ids:
        raise PermissionDenied
    if request.method == "POST":
        form = MeetingForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = services.meeting_create(
                    user=request.user,
                    municipality_id=data["municipality"].pk,
                    held_on=data["held_on"],
                    title=data["title"],
                    agreement_id=data["agreement"].pk if data["agreement"] else None,
                    agenda=data["agenda"],
                    snapshot_id=data["snapshot"],
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("The meeting has been created."))
                return redirect("plan_agreement:meeting", meeting_id=meeting.pk)
        return render(request, "plan/meeting_form.html", {"form": form, "snapshot": None}, status=400)
    municipalities = Municipality.objects.filter(pk__in=ids).order_by("name")
    chosen = municipalities.filter(pk=_int(request.GET.get("municipality"))).first() or municipalities.first()
    assert chosen is not None
    draft = services.meeting_agenda_draft(user=request.user, municipality_id=chosen.pk)
    today = timezone.localdate()
    agreement = (
        agreements_visible_to(request.user, Action.EDIT)
        .filter(municipality=chosen, period_start__lte=today, period_end__gte=today)
        .first()
    )
    initial = {
        "municipality": chosen,
        "agreement": agreement,
        "held_on": today,
        "title": _("Cooperation meeting, week %(week)s") % {"week": today.isocalendar().week},
        "agenda": draft.text,
        "snapshot": draft.snapshot.pk if draft.snapshot else None,
    }
    context = {
        "form": MeetingForm(initial=initial, user=request.user),
        "snapshot": draft.snapshot,
        "municipalities": municipalities,
        "chosen": chosen,
    }
    return render(request, "plan/meeting_form.html", context)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _meeting_context(request: HttpRequest, meeting, **forms_) -> dict:
    may_edit = _may(access_meeting_by_id, request.user, meeting.pk, Action.EDIT)
    decisions = meeting.decisions.select_related("owner", "measure").order_by("id")
    context = {
        "meeting": meeting,
        "decisions": [{"decision": d, "measure_url": _measure_url(d.measure_id)} for d in decisions],
        "may_edit": may_edit,
    }
    if may_edit:
        context["minutes_form"] = forms_.get("minutes_form") or MinutesForm(initial={"minutes": meeting.minutes})
        context["decision_form"] = forms_.get("decision_form") or DecisionForm(meeting=meeting)
    return context


def _measure_url(measure_id: int | None) -> str | None:
    # The measures' pages are their own app; without it the decision still names its measure.
    if measure_id is None:
        return None
    try:
        return reverse("plan:measure_detail", kwargs={"measure_id": measure_id})
    except NoReverseMatch:
        return None


@login_required
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access_meeting_by_id(request.user, meeting_id, Action.VIEW)
    return render(request, "plan/meeting_detail.html", _meeting_context(request, meeting))


@login_required
@require_POST
def meeting_minutes(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access_meeting_by_id(request.user, meeting_id, Action.EDIT)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        context = _meeting_context(request, meeting, minutes_form=form)
        return render(request, "plan/meeting_detail.html", context, status=400)
    services.meeting_update(user=request.user, meeting_id=meeting.pk, minutes=form.cleaned_data["minutes"])
    messages.success(request, _("The minutes have been saved."))
    return redirect("plan_agreement:meeting", meeting_id=meeting.pk)


@login_required
@require_POST
def decision_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access_meeting_by_id(request.user, meeting_id, Action.EDIT)
    form = DecisionForm(request.POST, meeting=meeting)
    if form.is_valid():
        data = form.cleaned_data
        try:
            decision = services.decision_add(
                user=request.user,
                meeting_id=meeting.pk,
                text=data["text"],
                owner_id=data["owner"].pk,
                create_measure=data["create_measure"],
                focus_area_id=data["focus_area"].pk if data["focus_area"] else None,
                kind=data["kind"],
                term=data["term"],
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            if decision.measure_id:
                messages.success(request, _("The decision has been recorded and a planned measure created."))
            else:
                messages.success(request, _("The decision has been recorded."))
            return redirect(f"{reverse('plan_agreement:meeting', kwargs={'meeting_id': meeting.pk})}#decisions")
    context = _meeting_context(request, meeting, decision_form=form)
    return render(request, "plan/meeting_detail.html", context, status=400)
