"""The agreement is written in the admin: its problems, goals, indicators, commitments and citizen promises inline.

Measures, meetings and evaluations have their own pages, where the access funnel applies; they are not here.
"""

from django.contrib import admin

from samverkan.plan.models import (
    Agreement,
    CitizenPromise,
    Commitment,
    Goal,
    Indicator,
    IndicatorValue,
    Problem,
)


class ProblemInline(admin.StackedInline):
    model = Problem
    extra = 0


class GoalInline(admin.TabularInline):
    model = Goal
    extra = 0


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0


class CitizenPromiseInline(admin.StackedInline):
    model = CitizenPromise
    extra = 0


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["title", "municipality", "period_start", "period_end", "signed_on"]
    list_filter = ["municipality"]
    search_fields = ["title"]
    filter_horizontal = ["parties", "focus_areas"]
    inlines = [ProblemInline, GoalInline, CommitmentInline, CitizenPromiseInline]


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "agreement", "source", "baseline_year", "baseline_value", "target_year", "target_value"]
    list_filter = ["source", "agreement"]
    filter_horizontal = ["categories"]
    inlines = [IndicatorValueInline]
