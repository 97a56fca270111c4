"""Reads for the public pages: the agreement in plain words, citizen promises, finished measures and the yearly
situational picture's public version.

No user: everything here is for anyone. So each function copies out only the fields written for the public —
never a measure's description, motivation, resources or target group, never the assessment, decisions or rating
motivations of a situational picture, never an evaluation computed in the police view — and the yearly figures
come suppressed below ``SAMVERKAN_PUBLIC_MIN_COUNT``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone

from samverkan.incidents.models import FocusArea, Sensitivity
from samverkan.places.models import Municipality
from samverkan.plan.models import (
    Agreement,
    CitizenPromise,
    Evaluation,
    Measure,
    MeasureKind,
    MeasureStatus,
    PromiseStatus,
)
from samverkan.situation.models import DailyCount, Snapshot, View

YEARLY_KIND = "yearly"
# An evaluation's own summary quotes its counts, which may be small; the public is told the verdict only.
VERDICT_WORDS = {
    "effect_shown": "Utvärderingen visar en effekt.",
    "no_effect_shown": "Utvärderingen visar ingen säker effekt.",
    "too_little_data": "Det finns för lite data för att säga om åtgärden hade effekt.",
}
FEED_LENGTH = 50


@dataclass(frozen=True, slots=True)
class PublicAgreement:
    title: str
    parties: list[str]
    period_start: dt.date
    period_end: dt.date
    signed_on: dt.date | None
    focus_areas: list[str]
    summary: str
    goals: list[str]
    steering_group: str
    current: bool


@dataclass(frozen=True, slots=True)
class PublicPromise:
    id: int
    municipality_code: str
    text: str
    responsible: str
    period_start: dt.date
    period_end: dt.date
    status: str
    status_label: str
    follow_up: str
    follow_up_updated: dt.date | None


@dataclass(frozen=True, slots=True)
class PublicMeasure:
    id: int
    title: str
    focus_area: str
    kind_label: str
    areas: list[str]
    start: dt.date
    end: dt.date | None
    evaluation_summary: str
    evaluated_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PublicYearlyRow:
    """A focus area's counts, one per column; None where the count is below the minimum and suppressed."""

    name: str
    counts: list[int | None]


@dataclass(frozen=True, slots=True)
class PublicYearly:
    period_label: str
    columns: list[str]
    rows: list[PublicYearlyRow]
    complete: bool
    through: dt.date | None
    min_count: int


# --------------------------------------------------------------------------------------------------------------------
# Municipalities
# --------------------------------------------------------------------------------------------------------------------


def _yearly_snapshots():
    return Snapshot.objects.filter(kind=YEARLY_KIND, view=View.SHARED)


def municipalities_public() -> list[Municipality]:
    """The municipalities with something published: an agreement or a yearly situational picture."""
    with_yearly = _yearly_snapshots().values("municipality_id")
    return list(
        Municipality.objects.filter(Q(agreements__isnull=False) | Q(pk__in=with_yearly)).distinct().order_by("name")
    )


def municipality_public(code: str) -> Municipality:
    """The municipality with SCB code ``code``; ``Http404`` for any other string."""
    municipality = Municipality.objects.filter(code=str(code)).first()
    if municipality is None:
        raise Http404("No such municipality")
    return municipality


# --------------------------------------------------------------------------------------------------------------------
# The agreement and its citizen promises
# --------------------------------------------------------------------------------------------------------------------


def _covering(qs, today: dt.date):
    return qs.filter(period_start__lte=today, period_end__gte=today)


def public_agreement(municipality: Municipality, *, today: dt.date | None = None) -> PublicAgreement | None:
    """The agreement in force today, else the latest one; None when the municipality has none."""
    today = today or timezone.localdate()
    agreements = Agreement.objects.filter(municipality=municipality).order_by("-period_start", "-period_end", "-id")
    agreement = _covering(agreements, today).first() or agreements.first()
    if agreement is None:
        return None
    return PublicAgreement(
        title=agreement.title,
        parties=[p.name for p in agreement.parties.order_by("name")],
        period_start=agreement.period_start,
        period_end=agreement.period_end,
        signed_on=agreement.signed_on,
        focus_areas=[f.name for f in agreement.focus_areas.order_by("ordering", "code")],
        summary=agreement.summary,
        goals=[g.text for g in agreement.goals.order_by("id")],
        # The steering group is written as functions ("kommundirektör"), not names.
        steering_group=agreement.steering_group,
        current=agreement.period_start <= today <= agreement.period_end,
    )


def _promise(p: CitizenPromise) -> PublicPromise:
    return PublicPromise(
        id=p.pk,
        municipality_code=p.agreement.municipality.code,
        text=p.text,
        responsible=p.responsible.name,
        period_start=p.period_start,
        period_end=p.period_end,
        status=p.status,
        status_label=PromiseStatus(p.status).label,
        follow_up=p.follow_up,
        follow_up_updated=p.follow_up_updated,
    )


def public_promises(municipality: Municipality, *, today: dt.date | None = None) -> list[PublicPromise]:
    """The citizen promises whose period covers today, else those of the latest period, in their order."""
    today = today or timezone.localdate()
    promises = CitizenPromise.objects.filter(agreement__municipality=municipality).select_related(
        "responsible", "agreement__municipality"
    )
    current = _covering(promises, today)
    if not current.exists():
        latest = promises.order_by("-period_start", "-period_end").values_list("period_start", "period_end").first()
        if latest is None:
            return []
        current = promises.filter(period_start=latest[0], period_end=latest[1])
    return [_promise(p) for p in current.order_by("period_start", "ordering", "id")]


def promise_follow_ups(municipality: Municipality, *, limit: int = FEED_LENGTH) -> list[PublicPromise]:
    """The municipality's promises with a dated follow-up, newest follow-up first (the feed)."""
    promises = (
        CitizenPromise.objects.filter(agreement__municipality=municipality, follow_up_updated__isnull=False)
        .select_related("responsible", "agreement__municipality")
        .order_by("-follow_up_updated", "-id")[:limit]
    )
    return [_promise(p) for p in promises]


# --------------------------------------------------------------------------------------------------------------------
# Finished measures
# --------------------------------------------------------------------------------------------------------------------


def _public_evaluation(measure: Measure) -> Evaluation | None:
    # The prefetched evaluations are newest first (the model's ordering); police-view ones may hold figures from
    # police-only reports.
    for evaluation in measure.evaluations.all():
        if (evaluation.parameters or {}).get("view") != View.POLICE:
            return evaluation
    return None


def public_finished_measures(municipality: Municipality) -> list[PublicMeasure]:
    """The municipality's finished measures, latest first, each with its latest shared evaluation in words.

    Only the title, focus area, kind, areas and period are copied: the free texts staff write about a measure
    (what is done, why, resources, target group) are for the parties, not the public.
    """
    measures = (
        Measure.objects.filter(municipality=municipality, status=MeasureStatus.DONE)
        .select_related("focus_area")
        .prefetch_related("areas", "evaluations")
        .order_by("-end", "-start", "-id")
    )
    result = []
    for m in measures:
        evaluation = _public_evaluation(m)
        result.append(
            PublicMeasure(
                id=m.pk,
                title=m.title,
                focus_area=m.focus_area.name,
                kind_label=MeasureKind(m.kind).label if m.kind in MeasureKind.values else "",
                areas=sorted({a.name for a in m.areas.all()}),
                start=m.start,
                end=m.end,
                evaluation_summary=VERDICT_WORDS.get(evaluation.verdict, "") if evaluation else "",
                evaluated_on=timezone.localdate(evaluation.computed_at) if evaluation else None,
            )
        )
    return result


# --------------------------------------------------------------------------------------------------------------------
# The yearly situational picture, public version
# --------------------------------------------------------------------------------------------------------------------


def _suppressed(value: Any, k: int) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n >= k else None


def _mapping_or_empty(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _focus_names(codes: list[str]) -> dict[str, str]:
    return {f.code: f.name for f in FocusArea.objects.filter(code__in=codes)}


def public_yearly(municipality: Municipality) -> PublicYearly | None:
    """The latest yearly situational picture (shared view) reduced to counts per focus area, small ones suppressed.

    The counts per year come from the picture's mapping (``picture["yearly"]["mapping"]["by_focus"]``); a picture
    without it gives the period's count per focus area from its key figures. Nothing else is read: the assessment,
    decisions, ratings, analysis texts, near-repeat messages and map are for the parties.
    """
    snapshot = (
        _yearly_snapshots()
        .filter(municipality=municipality)
        .order_by("-period_start", "-number", "-created_at", "-id")
        .first()
    )
    if snapshot is None:
        return None
    k = settings.SAMVERKAN_PUBLIC_MIN_COUNT
    picture = _mapping_or_empty(snapshot.picture)
    yearly = _mapping_or_empty(picture.get("yearly"))
    mapping = _mapping_or_empty(yearly.get("mapping"))
    years = yearly.get("years") or []
    by_focus = mapping.get("by_focus")

    # The counts are read again from the public reports in public categories only: the picture's own figures
    # include shared reports, which are for the parties.
    columns = [str(y) for y in years] or [str(snapshot.period_start.year)]
    counts = (
        DailyCount.objects.filter(
            municipality=municipality,
            area=None,
            sensitivity=Sensitivity.PUBLIC,
            category__public=True,
            day__year__in=[int(c) for c in columns],
        )
        .values_list("category__focus_area__code", "day__year")
        .annotate(n=Sum("count"))
    )
    table: dict[str, dict[int, int]] = {}
    for code, year, n in counts:
        table.setdefault(code, {})[year] = n
    names = _focus_names(sorted(table) or [str(f.get("code", "")) for f in by_focus or [] if isinstance(f, dict)])
    rows: list[PublicYearlyRow] = [
        PublicYearlyRow(
            name=names.get(code, code),
            counts=[_suppressed(table.get(code, {}).get(int(c), 0), k) for c in columns],
        )
        for code in sorted(names)
    ]

    through = None
    if yearly.get("through"):
        try:
            through = dt.date.fromisoformat(str(yearly["through"]))
        except ValueError:
            through = None
    return PublicYearly(
        period_label=snapshot.period_label,
        columns=columns,
        rows=rows,
        complete=bool(yearly.get("complete", True)),
        through=through,
        min_count=k,
    )
