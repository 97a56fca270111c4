"""The agreement in use: meetings with their agenda, minutes and decisions, the public follow-up of citizen promises,
and the follow-up report of the agreement period.

Writes go through the access funnel (``samverkan.accounts.access``): a user writes only in the municipalities where
a role lets them edit plans, and an object out of reach answers ``Http404`` exactly like a missing one. The reads
that the meeting pages and the follow-up document need live here beside the writes that use them.

Texts that become part of the record (the agenda drafted from the situational picture, the follow-up document) are
Swedish, like the situational picture they come from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation

from samverkan.accounts.access import (
    Action,
    access_agreement_by_id,
    access_meeting_by_id,
    agreements_visible_to,
    measures_visible_to,
    meetings_visible_to,
    plan_municipality_ids,
    snapshots_visible_to,
)
from samverkan.accounts.models import Organisation, User
from samverkan.incidents.models import FocusArea
from samverkan.incidents.screening import screen
from samverkan.plan.indicators import indicator_row
from samverkan.plan.models import (
    Agreement,
    CitizenPromise,
    Commitment,
    Decision,
    Direction,
    Evaluation,
    Goal,
    Indicator,
    IndicatorSource,
    Measure,
    MeasureKind,
    MeasureStatus,
    MeasureTerm,
    Meeting,
    Problem,
    PromiseStatus,
)
from samverkan.situation.documents import FLAG_WORDS, number, value_text
from samverkan.situation.models import Snapshot, View

OPEN_MEASURE_STATUSES = (MeasureStatus.PLANNED, MeasureStatus.ONGOING, MeasureStatus.DELAYED)
# Ratings that ask for attention at a meeting; green areas are left out of the agenda.
AGENDA_RATINGS = {"red": "Röd", "yellow": "Gul"}


def _swedish(label) -> str:
    """A choice's label in Swedish, whatever the request's language: the agenda and the report are Swedish documents."""
    with translation.override("sv"):
        return str(label)


VERDICT_SV = {
    "effect_shown": "Effekt påvisad",
    "no_effect_shown": "Ingen effekt påvisad",
    "too_little_data": "För lite data för att bedöma effekten",
}
SOURCE_SV = {
    IndicatorSource.INCIDENTS: "rapporter i Samverkan",
    IndicatorSource.STATISTICS: "importerad statistik",
    IndicatorSource.SURVEY: "enkät",
    IndicatorSource.MANUAL: "inmatade värden",
}
MEASURE_TITLE_LENGTH = Measure._meta.get_field("title").max_length or 300


def screen_texts(**texts: str) -> None:
    """Refuse texts with personal data (personnummer, phone numbers, e-mail addresses, number plates): minutes,
    decisions and follow-ups are public documents, and the promises' follow-ups are shown to the public as they are.
    """
    errors: dict[str, str] = {}
    for field, text in texts.items():
        findings = screen(text or "")
        if findings:
            found = ", ".join(f"{f.label} ”{f.text}”" for f in findings)
            errors[field] = f"Ta bort personuppgifterna: {found}."
    if errors:
        raise ValidationError(errors)


# --------------------------------------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaDraft:
    """A drafted agenda and the saved picture it was drafted from (None when the municipality has none)."""

    text: str
    snapshot: Snapshot | None


def latest_snapshot(*, user: User, municipality_id: int) -> Snapshot | None:
    """The municipality's latest saved picture in the shared view.

    A meeting is shared between the parties, so its agenda never draws on the police view, even when the one who
    prepares it could read that view.
    """
    return (
        snapshots_visible_to(user)
        .filter(municipality_id=municipality_id, view=View.SHARED)
        .select_related("municipality", "area")
        .order_by("-created_at", "-id")
        .first()
    )


def open_measures(*, user: User, municipality_id: int) -> QuerySet[Measure]:
    """The municipality's measures that are planned, ongoing or delayed, the earliest first."""
    return (
        measures_visible_to(user)
        .filter(municipality_id=municipality_id, status__in=OPEN_MEASURE_STATUSES)
        .select_related("responsible_organisation", "focus_area")
        .prefetch_related("areas")
        .order_by("start", "id")
    )


def meeting_agenda_draft(*, user: User, municipality_id: int) -> AgendaDraft:
    """An agenda for a meeting of the municipality: the latest saved picture summarised (period, key figures with
    their flags, areas rated red or yellow) and the open measures, in Swedish."""
    if municipality_id not in plan_municipality_ids(user, Action.VIEW):
        raise Http404("No such municipality")
    snapshot = latest_snapshot(user=user, municipality_id=municipality_id)
    measures = list(open_measures(user=user, municipality_id=municipality_id))
    lines = ["1. Föregående mötes beslut: uppföljning", ""]
    lines += _picture_lines(snapshot)
    lines += ["", "3. Åtgärder som pågår eller är planerade"]
    if measures:
        lines += [f"   - {_measure_line(m)}" for m in measures]
    else:
        lines.append("   Inga öppna åtgärder.")
    lines += [
        "",
        "4. Beslut: åtgärder och prioriterade platser till nästa möte (ansvarig organisation för varje beslut)",
        "5. Övrigt",
    ]
    return AgendaDraft(text="\n".join(lines), snapshot=snapshot)


def _picture_lines(snapshot: Snapshot | None) -> list[str]:
    if snapshot is None:
        return ["2. Lägesbild", "   Ingen sparad lägesbild finns. Spara en lägesbild före mötet."]
    picture = snapshot.picture or {}
    place = (picture.get("area") or {}).get("name") or snapshot.municipality.name
    cutoff = timezone.localtime(snapshot.data_cutoff).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"2. Lägesbild {snapshot.period_label} – {place} (version {snapshot.number}, data t.o.m. {cutoff})",
        "   Nyckeltal:",
    ]
    figures = list(picture.get("key_figures") or [])
    if (picture.get("total") or {}).get("name"):
        figures.append(picture["total"])
    for figure in figures:
        expected = number(figure.get("expected", 0.0), 1)
        flag = FLAG_WORDS.get(figure.get("flag", ""), "")
        lines.append(f"   - {figure.get('name', '')}: {figure.get('current', 0)} (förväntat {expected}) – {flag}")
    attention = [r for r in snapshot.ratings or [] if r.get("rating") in AGENDA_RATINGS]
    # Red before yellow: the most urgent areas first.
    attention.sort(key=lambda r: (list(AGENDA_RATINGS).index(r["rating"]), r.get("area", "")))
    if attention:
        lines.append("   Områden bedömda som röda eller gula:")
        for r in attention:
            motivation = f" – {r['motivation']}" if r.get("motivation") else ""
            lines.append(f"   - {r.get('area', '')}: {AGENDA_RATINGS[r['rating']]}{motivation}")
    else:
        lines.append("   Inga områden bedömda som röda eller gula.")
    return lines


def _measure_line(measure: Measure) -> str:
    areas = ", ".join(a.name for a in measure.areas.all())
    period = f"från {measure.start.isoformat()}" + (f" till {measure.end.isoformat()}" if measure.end else "")
    parts = [_swedish(MeasureStatus(measure.status).label).lower(), measure.responsible_organisation.name]
    if areas:
        parts.append(areas)
    parts.append(period)
    return f"{measure.title} ({', '.join(parts)})"


@transaction.atomic
def meeting_create(
    *,
    user: User,
    municipality_id: int,
    held_on: dt.date,
    title: str,
    agreement_id: int | None = None,
    agenda: str | None = None,
    snapshot_id: int | None = None,
) -> Meeting:
    """Create a meeting of the municipality. Without ``agenda`` the agenda is drafted from the latest saved picture
    and the open measures (``meeting_agenda_draft``); the meeting refers to the picture it was prepared from —
    ``snapshot_id`` when the agenda was drafted earlier, else the latest."""
    if municipality_id not in plan_municipality_ids(user, Action.EDIT):
        raise Http404("No such municipality")
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Ange en rubrik för mötet."})
    agreement = None
    if agreement_id is not None:
        agreement = access_agreement_by_id(user, agreement_id, Action.EDIT)
        if agreement.municipality_id != municipality_id:
            raise ValidationError({"agreement": "Överenskommelsen gäller en annan kommun."})
    if agenda is not None:
        screen_texts(agenda=agenda)
    if agenda is None:
        draft = meeting_agenda_draft(user=user, municipality_id=municipality_id)
        agenda, snapshot = draft.text, draft.snapshot
    elif snapshot_id is not None:
        snapshot = (
            snapshots_visible_to(user).filter(pk=snapshot_id, municipality_id=municipality_id, view=View.SHARED).first()
        )
        if snapshot is None:
            raise ValidationError({"snapshot": "Lägesbilden finns inte för den här kommunen."})
    else:
        snapshot = latest_snapshot(user=user, municipality_id=municipality_id)
    return Meeting.objects.create(
        municipality_id=municipality_id,
        agreement=agreement,
        held_on=held_on,
        title=title,
        agenda=agenda,
        snapshot=snapshot,
        created_by=user,
    )


@transaction.atomic
def meeting_update(
    *,
    user: User,
    meeting_id: object,
    minutes: str,
    agenda: str | None = None,
    title: str | None = None,
    held_on: dt.date | None = None,
) -> Meeting:
    """Write the minutes of a meeting (and, when given, change its agenda, title or date)."""
    meeting = access_meeting_by_id(user, meeting_id, Action.EDIT)
    screen_texts(minutes=minutes or "", agenda=agenda or "")
    meeting.minutes = minutes or ""
    fields = ["minutes"]
    if agenda is not None:
        meeting.agenda = agenda
        fields.append("agenda")
    if title is not None:
        if not title.strip():
            raise ValidationError({"title": "Ange en rubrik för mötet."})
        meeting.title = title.strip()
        fields.append("title")
    if held_on is not None:
        meeting.held_on = held_on
        fields.append("held_on")
    meeting.save(update_fields=fields)
    return meeting


def decision_owners(municipality_id: int) -> QuerySet[Organisation]:
    """The organisations that may own a decision in the municipality: those working there."""
    return Organisation.objects.filter(municipalities__id=municipality_id).order_by("name")


@transaction.atomic
def decision_add(
    *,
    user: User,
    meeting_id: object,
    text: str,
    owner_id: int,
    create_measure: bool = False,
    focus_area_id: int | None = None,
    kind: str = MeasureKind.SITUATIONAL,
    term: str = MeasureTerm.SHORT,
) -> Decision:
    """Record a decision of a meeting with the organisation that owns it.

    With ``create_measure`` the decision also becomes a planned measure: titled by the decision's first line, the
    owner responsible, starting on the meeting date, in the chosen focus area, referring to the picture the meeting
    was prepared from. The decision links to the measure, so the follow-up can trace a measure to its meeting.
    """
    meeting = access_meeting_by_id(user, meeting_id, Action.EDIT)
    text = (text or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "Skriv beslutet."
    else:
        try:
            screen_texts(text=text)
        except ValidationError as error:
            errors["text"] = error.message_dict["text"][0]
    owner = decision_owners(meeting.municipality_id).filter(pk=owner_id).first()
    if owner is None:
        errors["owner"] = "Välj en organisation som arbetar i kommunen."
    focus_area = None
    if create_measure:
        focus_area = FocusArea.objects.filter(pk=focus_area_id, active=True).first() if focus_area_id else None
        if focus_area is None:
            errors["focus_area"] = "Välj fokusområde för åtgärden."
        if kind not in MeasureKind.values:
            errors["kind"] = f"Okänd typ av åtgärd: {kind!r}."
        if term not in MeasureTerm.values:
            errors["term"] = f"Okänd tidshorisont: {term!r}."
    if errors:
        raise ValidationError(errors)
    assert owner is not None
    measure = None
    if create_measure:
        assert focus_area is not None
        measure = Measure.objects.create(
            agreement=meeting.agreement,
            municipality=meeting.municipality,
            title=measure_title(text),
            description=text,
            focus_area=focus_area,
            kind=kind,
            term=term,
            responsible_organisation=owner,
            start=meeting.held_on,
            status=MeasureStatus.PLANNED,
            motivation=f"Beslut på mötet ”{meeting.title}” {meeting.held_on.isoformat()}.",
            snapshot=meeting.snapshot,
            created_by=user,
        )
    return Decision.objects.create(meeting=meeting, text=text, owner=owner, measure=measure)


def measure_title(text: str) -> str:
    """A measure's title from a decision: its first line, shortened with an ellipsis to fit the title field."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(first) <= MEASURE_TITLE_LENGTH:
        return first
    return first[: MEASURE_TITLE_LENGTH - 1].rstrip() + "…"


def meeting_search(*, user: User, query: str = "") -> QuerySet[Meeting]:
    """The meetings the user may read, the latest first; with ``query`` only those whose title or a decision
    contains it (case-insensitive)."""
    meetings = meetings_visible_to(user).select_related("municipality", "agreement")
    # PostgreSQL cannot compare text with NUL in it; no title holds one.
    query = (query or "").replace("\x00", "").strip()
    if query:
        matching = Decision.objects.filter(text__icontains=query).values("meeting_id")
        meetings = meetings.filter(Q(title__icontains=query) | Q(pk__in=matching))
    return meetings.prefetch_related(
        Prefetch("decisions", queryset=Decision.objects.select_related("owner", "measure").order_by("id"))
    ).order_by("-held_on", "-id")


# --------------------------------------------------------------------------------------------------------------------
# Citizen promises
# --------------------------------------------------------------------------------------------------------------------


def access_promise_by_id(user: User, promise_id: object, action: Action = Action.VIEW) -> CitizenPromise:
    """The promise with this id if ``user`` may perform ``action`` on its agreement; else ``Http404``."""
    try:
        pk = int(str(promise_id))
    except (TypeError, ValueError):
        raise Http404("No such promise") from None
    agreement_id = CitizenPromise.objects.filter(pk=pk).values_list("agreement_id", flat=True).first()
    if agreement_id is None:
        raise Http404("No such promise")
    agreement = access_agreement_by_id(user, agreement_id, action)
    promise = CitizenPromise.objects.select_related("responsible").get(pk=pk)
    promise.agreement = agreement
    return promise


@transaction.atomic
def promise_update(*, user: User, promise_id: object, status: str, follow_up: str) -> CitizenPromise:
    """Set a promise's status and its public follow-up text; the follow-up date becomes today when either changed."""
    promise = access_promise_by_id(user, promise_id, Action.EDIT)
    if status not in PromiseStatus.values:
        raise ValidationError({"status": f"Okänd status: {status!r}."})
    follow_up = (follow_up or "").strip()
    screen_texts(follow_up=follow_up)
    if status == promise.status and follow_up == promise.follow_up:
        return promise
    promise.status = status
    promise.follow_up = follow_up
    promise.follow_up_updated = timezone.localdate()
    promise.save(update_fields=["status", "follow_up", "follow_up_updated"])
    return promise


# --------------------------------------------------------------------------------------------------------------------
# The agreement and its follow-up
# --------------------------------------------------------------------------------------------------------------------


def agreement_current(*, user: User, today: dt.date | None = None) -> Agreement | None:
    """The agreement to open first: the latest one in force today that the user may read, else the latest."""
    today = today or timezone.localdate()
    agreements = agreements_visible_to(user).order_by("-period_start", "-id")
    return agreements.filter(period_start__lte=today, period_end__gte=today).first() or agreements.first()


def agreement_full(agreement: Agreement) -> Agreement:
    """The agreement with everything its page shows fetched in a few queries."""
    return (
        Agreement.objects.filter(pk=agreement.pk)
        .select_related("municipality")
        .prefetch_related(
            "parties",
            "focus_areas",
            Prefetch("problems", queryset=Problem.objects.select_related("focus_area").order_by("id")),
            Prefetch(
                "goals",
                queryset=Goal.objects.select_related("problem", "indicator__area", "indicator__focus_area")
                .prefetch_related("indicator__categories")
                .order_by("id"),
            ),
            Prefetch("commitments", queryset=Commitment.objects.select_related("party").order_by("party__name", "id")),
            Prefetch("promises", queryset=CitizenPromise.objects.select_related("responsible")),
        )
        .get()
    )


def followup_context(agreement: Agreement, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the follow-up document shows: goals against their indicators, the measures of the period (done
    ones with the latest evaluation), and the citizen promises with their status."""
    now = now or timezone.now()
    agreement = agreement_full(agreement)
    # The agreement's own measures, and the municipality's measures without an agreement that ran in its period.
    unattached = Q(agreement__isnull=True, municipality_id=agreement.municipality_id, start__lte=agreement.period_end)
    unattached &= Q(end__isnull=True) | Q(end__gte=agreement.period_start)
    measures = list(
        Measure.objects.filter(Q(agreement=agreement) | unattached)
        .exclude(status=MeasureStatus.CANCELLED)
        .select_related("focus_area", "responsible_organisation")
        .prefetch_related(
            "areas",
            # The report is read by every party, so evaluations made in the police view stay out of it.
            Prefetch(
                "evaluations",
                queryset=Evaluation.objects.exclude(parameters__view="police").order_by("-computed_at", "-id"),
            ),
        )
        .order_by("start", "id")
    )
    measure_rows = [_measure_row(m) for m in measures]
    title = f"Uppföljning: {agreement.title}"
    return {
        "agreement": agreement,
        "title": title,
        "cutoff": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "period": f"{agreement.period_start.isoformat()} – {agreement.period_end.isoformat()}",
        "parties": ", ".join(p.name for p in agreement.parties.all()),
        "focus_areas": ", ".join(f.name_sv for f in agreement.focus_areas.all()),
        "goals": goal_rows(agreement, today=timezone.localdate(now)),
        "measures_done": [r for r in measure_rows if r["status_code"] == MeasureStatus.DONE],
        "measures_open": [r for r in measure_rows if r["status_code"] != MeasureStatus.DONE],
        "promises": [_promise_row(p) for p in agreement.promises.all()],
    }


def goal_rows(agreement: Agreement, *, today: dt.date) -> list[dict[str, Any]]:
    """Each goal with its indicator: baseline, target, the values per year of the period and a status word."""
    rows = []
    for goal in agreement.goals.all():
        indicator = goal.indicator
        rows.append(
            {
                "text": goal.text,
                "problem": goal.problem.title if goal.problem else "",
                "indicator": _indicator_view(indicator, agreement, today) if indicator else None,
            }
        )
    return rows


def _indicator_view(indicator: Indicator, agreement: Agreement, today: dt.date) -> dict[str, Any]:
    """An indicator as the document shows it: the values from the baseline year to the end of the agreement period,
    with baseline, target, the status word and its reason (``plan.indicators``)."""
    indicator.agreement = agreement
    row = indicator_row(indicator, today=today)
    unit = f" {indicator.unit}" if indicator.unit else ""

    def given(part: dict[str, Any]) -> str:
        if part["value"] is None:
            return f"saknas ({part['year']})" if part["year"] else "–"
        return f"{value_text(part['value'])}{unit} ({part['year']})"

    first = min(row["baseline"]["year"] or agreement.period_start.year, agreement.period_start.year)
    years = [
        {"year": year, "value": value_text(cell["value"]), "partial": cell["partial"]}
        for year, cell in row["values"].items()
        if first <= year <= agreement.period_end.year
    ]
    return {
        "name": indicator.name,
        "source": SOURCE_SV.get(indicator.source, indicator.source),
        "unit": indicator.unit,
        "where": indicator.area.name if indicator.area_id and indicator.area else "",
        "baseline": given(row["baseline"]),
        "target": given(row["target"]),
        "direction": "lägre är bättre" if indicator.direction == Direction.DECREASE else "högre är bättre",
        "years": years,
        "status": row["status"],
        "reason": row["reason"],
    }


def _measure_row(measure: Measure) -> dict[str, Any]:
    evaluation = next(iter(measure.evaluations.all()), None)
    verdict = ""
    if evaluation is not None:
        verdict = evaluation.summary or VERDICT_SV.get(evaluation.verdict, evaluation.verdict)
    period = measure.start.isoformat() + " – " + (measure.end.isoformat() if measure.end else "")
    return {
        "title": measure.title,
        "focus": measure.focus_area.name_sv,
        "responsible": measure.responsible_organisation.name,
        "areas": ", ".join(a.name for a in measure.areas.all()) or "–",
        "period": period,
        "status_code": measure.status,
        "status": _swedish(MeasureStatus(measure.status).label),
        "verdict": verdict,
        "evaluated": evaluation is not None,
    }


def _promise_row(promise: CitizenPromise) -> dict[str, Any]:
    return {
        "text": promise.text,
        "responsible": promise.responsible.name,
        "period": f"{promise.period_start.isoformat()} – {promise.period_end.isoformat()}",
        "status_code": promise.status,
        "status": _swedish(PromiseStatus(promise.status).label),
        "follow_up": promise.follow_up,
        "updated": promise.follow_up_updated.isoformat() if promise.follow_up_updated else "",
    }


def followup_html(agreement: Agreement, *, now: dt.datetime | None = None) -> str:
    """The follow-up report as a complete Swedish HTML page (``<html lang="sv">``), also the page printed to PDF."""
    with translation.override("sv"):
        return render_to_string("plan/followup.html", followup_context(agreement, now=now))


def followup_pdf(agreement: Agreement, *, now: dt.datetime | None = None) -> bytes:
    """The follow-up report as an A4 PDF, with the title, data cutoff and "Sida n av N" on every page."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # The document is self-contained; any other URL would leak the reader's request or stall the print.
    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    return HTML(string=followup_html(agreement, now=now), url_fetcher=fetcher).write_pdf()
