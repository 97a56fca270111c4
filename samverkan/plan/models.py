"""The agreement, its goals and indicators, citizen promises, measures with their activity log, meetings and
decisions, and evaluations of finished measures.

Place and group, never person: target groups are groups ("young people 12–17"), places are areas or drawn polygons,
and nothing here records individuals.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.models import Organisation
from samverkan.incidents.models import Category, FocusArea
from samverkan.places.models import Area, Municipality


class Agreement(models.Model):
    """A samverkansöverenskommelse between a municipality and the police (and others)."""

    title = models.CharField(_("title"), max_length=300)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="agreements")
    parties = models.ManyToManyField(Organisation, related_name="agreements", verbose_name=_("parties"))
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to (inclusive)"))
    signed_on = models.DateField(_("signed"), null=True, blank=True)
    focus_areas = models.ManyToManyField(FocusArea, related_name="agreements", verbose_name=_("focus areas"))
    summary = models.TextField(_("in plain words"), blank=True, help_text=_("Shown to the public."))
    steering_group = models.TextField(_("steering group"), blank=True, help_text=_("Functions, not names."))
    meeting_schedule = models.TextField(_("meeting schedule"), blank=True)
    follow_up = models.TextField(_("how work is documented and followed up"), blank=True)

    class Meta:
        ordering = ["-period_start"]
        verbose_name = _("cooperation agreement")
        verbose_name_plural = _("cooperation agreements")

    def __str__(self) -> str:
        return self.title


class Problem(models.Model):
    """A problem in focus with its probable causes (the crime triangle: victim, offender, place/situation)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="problems")
    focus_area = models.ForeignKey(FocusArea, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("problem"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    cause_victim = models.TextField(_("causes: victim / target"), blank=True)
    cause_offender = models.TextField(_("causes: offender"), blank=True)
    cause_place = models.TextField(_("causes: place and situation"), blank=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")

    def __str__(self) -> str:
        return self.title


class IndicatorSource(models.TextChoices):
    INCIDENTS = "incidents", _("Reports in Samverkan")
    STATISTICS = "statistics", _("Imported statistics")
    SURVEY = "survey", _("Survey")
    MANUAL = "manual", _("Entered by hand")


class Direction(models.TextChoices):
    DECREASE = "decrease", _("Lower is better")
    INCREASE = "increase", _("Higher is better")


class Indicator(models.Model):
    """What a goal is measured by: counts of reports (by focus area, category, area), imported statistics or a
    survey index, per period."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("name"), max_length=300)
    source = models.CharField(_("source"), max_length=20, choices=IndicatorSource.choices)
    unit = models.CharField(_("unit"), max_length=100, default="rapporter")
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.DECREASE)
    # For source "incidents": which reports count.
    focus_area = models.ForeignKey(FocusArea, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # For source "survey"/"statistics": the SurveyIndex source and code it reads.
    survey_source = models.CharField(max_length=50, blank=True)
    survey_code = models.CharField(max_length=50, blank=True)
    baseline_year = models.PositiveIntegerField(_("baseline year"), null=True, blank=True)
    baseline_value = models.FloatField(_("baseline"), null=True, blank=True)
    target_value = models.FloatField(_("target"), null=True, blank=True)
    target_year = models.PositiveIntegerField(_("target year"), null=True, blank=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return self.name


class IndicatorValue(models.Model):
    """A value of an indicator for a year that is entered or imported (report counts are computed, not stored)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    year = models.PositiveIntegerField(_("year"))
    value = models.FloatField(_("value"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["year"]
        constraints = [models.UniqueConstraint(fields=["indicator", "year"], name="one_value_per_indicator_year")]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.year} = {self.value}"


class Goal(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="goals")
    problem = models.ForeignKey(Problem, on_delete=models.SET_NULL, null=True, blank=True, related_name="goals")
    text = models.TextField(_("goal"))
    indicator = models.ForeignKey(Indicator, on_delete=models.SET_NULL, null=True, blank=True, related_name="goals")

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.text[:80]


class Commitment(models.Model):
    """What one party commits to."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="commitments")
    party = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("commitment"))

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def __str__(self) -> str:
        return self.text[:80]


class PromiseStatus(models.TextChoices):
    PLANNED = "planned", _("Not started")
    ONGOING = "ongoing", _("Ongoing")
    KEPT = "kept", _("Kept")
    PARTLY = "partly", _("Partly kept")
    NOT_KEPT = "not_kept", _("Not kept")


class CitizenPromise(models.Model):
    """A medborgarlöfte: a short public promise for a period, with the party responsible and a public follow-up."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="promises")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to (inclusive)"))
    text = models.TextField(_("promise"))
    responsible = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.PLANNED)
    follow_up = models.TextField(_("public follow-up"), blank=True)
    follow_up_updated = models.DateField(_("follow-up updated"), null=True, blank=True)
    ordering = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["period_start", "ordering", "id"]
        verbose_name = _("citizen promise")
        verbose_name_plural = _("citizen promises")

    def __str__(self) -> str:
        return self.text[:80]


class MeasureKind(models.TextChoices):
    SITUATIONAL = "situational", _("Situational")
    SOCIAL = "social", _("Social")


class MeasureTerm(models.TextChoices):
    SHORT = "short", _("Short term")
    LONG = "long", _("Long term")


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ONGOING = "ongoing", _("Ongoing")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    DELAYED = "delayed", _("Delayed")


class Measure(models.Model):
    """An åtgärd: who does what, where and when, why, and what effect is expected."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="measures")
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="measures")
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("what is done"), blank=True)
    focus_area = models.ForeignKey(FocusArea, on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField(_("kind"), max_length=12, choices=MeasureKind.choices)
    term = models.CharField(_("term"), max_length=6, choices=MeasureTerm.choices)
    responsible_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="measures")
    responsible_person = models.CharField(_("responsible (function or name of staff)"), max_length=200, blank=True)
    target_group = models.CharField(
        _("target group"), max_length=300, blank=True, help_text=_("A group, never a person.")
    )
    areas = models.ManyToManyField(Area, blank=True, related_name="measures", verbose_name=_("areas"))
    polygon = models.JSONField(_("drawn place (GeoJSON, WGS84)"), null=True, blank=True)
    # [{"weekdays": [4, 5], "start": "20:00", "end": "02:00"}] — ISO weekdays 1–7, local time; end before start runs
    # past midnight.
    time_windows = models.JSONField(_("time windows"), default=list, blank=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED)
    resources = models.TextField(_("resources"), blank=True)
    problem = models.ForeignKey(Problem, on_delete=models.SET_NULL, null=True, blank=True, related_name="measures")
    motivation = models.TextField(_("why here and now"), blank=True, help_text=_("The problem or hotspot behind it."))
    snapshot = models.ForeignKey(
        "situation.Snapshot", on_delete=models.SET_NULL, null=True, blank=True, related_name="measures"
    )
    expected_effect = models.TextField(_("expected effect"), blank=True)
    indicator = models.ForeignKey(Indicator, on_delete=models.SET_NULL, null=True, blank=True, related_name="measures")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")

    def __str__(self) -> str:
        return self.title


class MeasureActivity(models.Model):
    """The activity log of a measure: what was done, when, by whom (an organisation and the user who wrote it)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="activities")
    date = models.DateField(_("date"))
    text = models.TextField(_("what was done"))
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return f"{self.date}: {self.text[:60]}"


class Meeting(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="meetings")
    agreement = models.ForeignKey(Agreement, on_delete=models.SET_NULL, null=True, blank=True, related_name="meetings")
    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=300)
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    snapshot = models.ForeignKey(
        "situation.Snapshot", on_delete=models.SET_NULL, null=True, blank=True, related_name="meetings"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


class Decision(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("decision"))
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner"))
    measure = models.ForeignKey(Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions")

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return self.text[:80]


class Evaluation(models.Model):
    """The measured effect of a measure, frozen when computed: the counts, the statistics and the verdict."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="evaluations")
    computed_at = models.DateTimeField(auto_now_add=True)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    parameters = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    verdict = models.CharField(max_length=30)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.measure}: {self.verdict}"
