"""Forms of the measure pages, and the time-window notation people write ("fre–lör 20–02; sön 14–18").

Forms parse and validate input; writes happen in services, which check everything again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import shapely.geometry
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from samverkan.accounts.models import Organisation, User
from samverkan.incidents.models import FocusArea
from samverkan.places.models import Area, Municipality
from samverkan.plan import services
from samverkan.plan.models import Agreement, Indicator, Measure, MeasureKind, MeasureStatus, MeasureTerm

# --- the time-window notation -------------------------------------------------------------------------------------

_DAYS: dict[str, tuple[int, ...]] = {}
for _iso, _names in {
    1: ("mån", "måndag", "mon", "monday"),
    2: ("tis", "tisdag", "tue", "tues", "tuesday"),
    3: ("ons", "onsdag", "wed", "wednesday"),
    4: ("tor", "tors", "torsdag", "thu", "thur", "thurs", "thursday"),
    5: ("fre", "fredag", "fri", "friday"),
    6: ("lör", "lördag", "sat", "saturday"),
    7: ("sön", "söndag", "sun", "sunday"),
}.items():
    for _name in _names:
        _DAYS[_name] = (_iso,)
        if _name.endswith("dag"):
            _DAYS[_name + "ar"] = (_iso,)  # "fredagar"
        if _name.endswith("day"):
            _DAYS[_name + "s"] = (_iso,)  # "fridays"
_GROUPS: dict[str, tuple[int, ...]] = {
    "alla dagar": (1, 2, 3, 4, 5, 6, 7),
    "varje dag": (1, 2, 3, 4, 5, 6, 7),
    "dagligen": (1, 2, 3, 4, 5, 6, 7),
    "every day": (1, 2, 3, 4, 5, 6, 7),
    "daily": (1, 2, 3, 4, 5, 6, 7),
    "vardagar": (1, 2, 3, 4, 5),
    "weekdays": (1, 2, 3, 4, 5),
    "helger": (6, 7),
    "helgen": (6, 7),
    "helg": (6, 7),
    "weekends": (6, 7),
    "weekend": (6, 7),
}
_DASHES = re.compile(r"\s*[-‐‑‒–—−]\s*")
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_TIMES = re.compile(rf"(?:\bkl\.?\s*)?{_TIME}-{_TIME}(?!\d)")
_WHOLE_DAY = ("00:00", "00:00")


def _minutes(hour: str, minute: str | None, *, end: bool) -> int:
    h, m = int(hour), int(minute or 0)
    if m > 59 or h > 24 or (h == 24 and (m or not end)):
        written = f"{hour}:{minute}" if minute is not None else hour
        raise ValidationError(_("“%(time)s” is not a time of day.") % {"time": written})
    return h * 60 + m


def _day_set(text: str) -> tuple[int, ...]:
    text = text.strip().strip(",").strip()
    if not text:
        return _GROUPS["alla dagar"]
    for phrase in sorted(_GROUPS, key=len, reverse=True):
        text = re.sub(rf"\b{phrase}\b", phrase.replace(" ", "_"), text)
    text = re.sub(r"\s+(?:och|and)\s+|\s*[,&/+]\s*", " ", text)
    days: set[int] = set()
    for token in text.split():
        bounds = token.split("-")
        if len(bounds) > 2:
            raise ValidationError(_("Could not read the days “%(days)s”.") % {"days": token})
        found = [_one_day(b) for b in bounds]
        if len(found) == 1:
            days.update(found[0])
            continue
        first, last = found
        if len(first) != 1 or len(last) != 1:
            raise ValidationError(_("Could not read the days “%(days)s”.") % {"days": token})
        # A range may wrap past Sunday: "lör–mån" is Saturday, Sunday and Monday.
        day = first[0]
        days.add(day)
        while day != last[0]:
            day = day % 7 + 1
            days.add(day)
    return tuple(sorted(days))


def _one_day(token: str) -> tuple[int, ...]:
    name = token.strip(".").replace("_", " ")
    if name in _DAYS:
        return _DAYS[name]
    if name in _GROUPS:
        return _GROUPS[name]
    raise ValidationError(
        _("“%(word)s” is not a day. Write mån, tis, ons, tor, fre, lör, sön, vardagar, helger or alla dagar.")
        % {"word": token.replace("_", " ")}
    )


def parse_time_windows(text: str) -> list[dict[str, Any]]:
    """Read the time windows people write into the stored form.

    Windows are separated by ``;`` or new lines; each is days then times, e.g. ``fre–lör 20–02``, ``mån, ons
    18:30–21``, ``vardagar kl 7–9``, ``sön`` (the whole day) or ``20–02`` (every day). English day names work too.
    An end before the start runs past midnight; ``24`` is midnight at the end of the day. Returns
    ``[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}, …]``; raises ``ValidationError`` with a message that
    quotes what could not be read.
    """
    windows = []
    for raw in re.split(r"[;\n]", text or ""):
        segment = _DASHES.sub("-", raw.strip().lower())
        if not segment:
            continue
        times = list(_TIMES.finditer(segment))
        if len(times) > 1:
            raise ValidationError(
                _("“%(window)s” has more than one time. Separate the windows with a semicolon: fre 20–02; lör 18–02.")
                % {"window": raw.strip()}
            )
        if times:
            match = times[0]
            start = _minutes(match[1], match[2], end=False)
            end = _minutes(match[3], match[4], end=True)
            if start == end:
                raise ValidationError(
                    _("In “%(window)s” the start and the end are the same time.") % {"window": raw.strip()}
                )
            days_text = segment[: match.start()] + " " + segment[match.end() :]
            span = (f"{start // 60:02d}:{start % 60:02d}", f"{end // 60 % 24:02d}:{end % 60:02d}")
        else:
            if re.search(r"\d", segment):
                raise ValidationError(
                    _("Could not read the times in “%(window)s”. Write them like 20–02 or 18:30–21:00.")
                    % {"window": raw.strip()}
                )
            days_text, span = segment, _WHOLE_DAY
        windows.append({"weekdays": list(_day_set(days_text)), "start": span[0], "end": span[1]})
    return windows


def _days_text(weekdays: Sequence[int], names: dict[int, Any]) -> str:
    days = sorted(set(weekdays))
    if days == [1, 2, 3, 4, 5, 6, 7]:
        return _("every day")
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    # Weekend nights are often written across Sunday: "lör–mån", not "mån, lör–sön".
    if len(runs) > 1 and runs[0][0] == 1 and runs[-1][-1] == 7:
        runs = [runs[-1] + runs[0], *runs[1:-1]]
    return ", ".join(str(names[r[0] - 1]) if len(r) == 1 else f"{names[r[0] - 1]}–{names[r[-1] - 1]}" for r in runs)


def _clock(value: str, *, end: bool, short: bool) -> str:
    hour, minute = value.split(":")
    if end and value == "00:00":
        hour = "24"
    return hour if short and minute == "00" else f"{hour}:{minute}"


def format_times(window: dict[str, Any], *, short: bool = True) -> str:
    """The times of a window, "20–02" (or "20:00–02:00"); empty for the whole day."""
    if (window["start"], window["end"]) == _WHOLE_DAY:
        return ""
    return f"{_clock(window['start'], end=False, short=short)}–{_clock(window['end'], end=True, short=short)}"


def format_time_windows(windows: Iterable[dict[str, Any]]) -> str:
    """The windows in the notation ``parse_time_windows`` reads, in the current language: "fre–lör 20–02"."""
    parts = []
    for w in windows:
        days = _days_text(w["weekdays"], {i: str(WEEKDAYS_ABBR[i]).lower() for i in range(7)})
        parts.append(" ".join(p for p in (days, format_times(w)) if p))
    return "; ".join(parts)


def describe_time_windows(windows: Iterable[dict[str, Any]]) -> list[str]:
    """Each window in words: "fredag–lördag 20:00–02:00 (until the next day)"."""
    lines = []
    for w in windows:
        days = _days_text(w["weekdays"], {i: str(WEEKDAYS[i]).lower() for i in range(7)})
        times = format_times(w, short=False)
        if not times:
            lines.append(_("%(days)s, all day") % {"days": days})
        elif w["end"] <= w["start"] and w["end"] != "00:00":
            lines.append(_("%(days)s %(times)s (until the next day)") % {"days": days, "times": times})
        else:
            lines.append(f"{days} {times}")
    return lines


# --- the measure form ---------------------------------------------------------------------------------------------


def _query_id(text: str) -> int | None:
    """An id from a query string, or None: ASCII digits only (``int`` also reads "²" and other scripts' digits) and
    small enough for the database's 64-bit keys, so a crafted link cannot make a lookup fail."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _one_polygon(data: Any) -> Any:
    """A suggested place of several parts (grid cells touching only at a corner) becomes the outline around them:
    a measure has one drawn place."""
    if isinstance(data, dict) and data.get("type") == "MultiPolygon":
        # Through JSON, so the coordinates are lists as in any GeoJSON that comes in.
        return json.loads(json.dumps(shapely.geometry.mapping(shapely.geometry.shape(data).convex_hull)))
    return data


class _AreaChoice(forms.ModelMultipleChoiceField):
    def __init__(self, *args, with_municipality: bool = False, **kwargs):
        self.with_municipality = with_municipality
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Area) -> str:
        label = f"{obj.name} ({obj.get_kind_display()})"
        return f"{label} – {obj.municipality.name}" if self.with_municipality else label


class MeasureForm(forms.Form):
    municipality = forms.ModelChoiceField(queryset=Municipality.objects.none(), label=gettext_lazy("Municipality"))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    description = forms.CharField(
        label=gettext_lazy("What is done"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    focus_area = forms.ModelChoiceField(queryset=FocusArea.objects.none(), label=gettext_lazy("Focus area"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=MeasureKind.choices, widget=forms.RadioSelect)
    term = forms.ChoiceField(label=gettext_lazy("Term"), choices=MeasureTerm.choices, widget=forms.RadioSelect)
    responsible_organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), label=gettext_lazy("Responsible organisation")
    )
    responsible_person = forms.CharField(
        label=gettext_lazy("Responsible"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("A function or a member of staff."),
    )
    target_group = forms.CharField(
        label=gettext_lazy("Target group"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("A group, never a person."),
    )
    areas = _AreaChoice(
        queryset=Area.objects.none(),
        label=gettext_lazy("Areas"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    polygon = forms.CharField(required=False, widget=forms.HiddenInput)
    time_windows = forms.CharField(
        label=gettext_lazy("When during the week"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "For example “fre–lör 20–02; sön 14–18”. An end before the start runs past midnight. Empty: all day."
        ),
    )
    start = forms.DateField(label=gettext_lazy("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("End"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=MeasureStatus.choices)
    resources = forms.CharField(
        label=gettext_lazy("Resources"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    motivation = forms.CharField(
        label=gettext_lazy("Why here and now"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The problem or hotspot behind it."),
    )
    expected_effect = forms.CharField(
        label=gettext_lazy("Expected effect"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    agreement = forms.ModelChoiceField(
        queryset=Agreement.objects.none(), label=gettext_lazy("Agreement"), required=False
    )
    indicator = forms.ModelChoiceField(
        queryset=Indicator.objects.none(), label=gettext_lazy("Indicator"), required=False
    )

    def __init__(
        self,
        *args,
        user: User,
        municipality_ids: Iterable[int],
        measure: Measure | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.user = user
        self.measure = measure
        ids = sorted(municipality_ids)
        if measure is not None:
            ids = [measure.municipality_id]
            del self.fields["municipality"]
            self.fields["status"].choices = [
                (measure.status, MeasureStatus(measure.status).label),
                *((s, MeasureStatus(s).label) for s in services.TRANSITIONS.get(measure.status, ())),
            ]
        else:
            self.fields["municipality"].queryset = Municipality.objects.filter(pk__in=ids)
            chosen = self._chosen_municipality(ids)
            if chosen is not None:
                ids = [chosen]
                self.fields["municipality"].initial = chosen
            if len(self.fields["municipality"].queryset) == 1:
                self.fields["municipality"].widget = forms.HiddenInput()
        self.municipality_ids = ids
        several = len(ids) > 1
        focus = FocusArea.objects.filter(active=True)
        if measure is not None:
            focus = FocusArea.objects.filter(pk=measure.focus_area_id) | focus
        self.fields["focus_area"].queryset = focus
        org_ids = {o for m in ids for o in services.editing_organisation_ids(user, m)}
        if measure is not None:
            org_ids.add(measure.responsible_organisation_id)
        self.fields["responsible_organisation"].queryset = Organisation.objects.filter(pk__in=org_ids)
        if len(org_ids) == 1:
            self.fields["responsible_organisation"].initial = next(iter(org_ids))
        areas = Area.objects.filter(municipality_id__in=ids, valid_to__isnull=True)
        if measure is not None:
            # Areas replaced by a new version since the measure was made stay selectable on it.
            areas = areas | Area.objects.filter(pk__in=measure.areas.values("pk"))
        self.fields["areas"].queryset = areas.select_related("municipality").order_by("kind", "name")
        self.fields["areas"].with_municipality = several
        agreements = Agreement.objects.filter(municipality_id__in=ids)
        self.fields["agreement"].queryset = agreements
        self.fields["indicator"].queryset = Indicator.objects.filter(agreement__in=agreements).select_related(
            "agreement"
        )
        self.fields["indicator"].label_from_instance = lambda i: f"{i.name} ({i.agreement.title})"

    def _chosen_municipality(self, ids: list[int]) -> int | None:
        if len(ids) == 1:
            return ids[0]
        raw = self.data.get("municipality") if self.is_bound else self.initial.get("municipality")
        try:
            value = int(getattr(raw, "pk", raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return value if value in ids else None

    @classmethod
    def initial_for(cls, measure: Measure) -> dict[str, object]:
        return {
            "title": measure.title,
            "description": measure.description,
            "focus_area": measure.focus_area_id,
            "kind": measure.kind,
            "term": measure.term,
            "responsible_organisation": measure.responsible_organisation_id,
            "responsible_person": measure.responsible_person,
            "target_group": measure.target_group,
            "areas": [a.pk for a in measure.areas.all()],
            "polygon": json.dumps(measure.polygon) if measure.polygon else "",
            "time_windows": format_time_windows(measure.time_windows or []),
            "start": measure.start,
            "end": measure.end,
            "status": measure.status,
            "resources": measure.resources,
            "motivation": measure.motivation,
            "expected_effect": measure.expected_effect,
            "agreement": measure.agreement_id,
            "indicator": measure.indicator_id,
        }

    @classmethod
    def initial_from_query(cls, query, *, municipality_ids: Iterable[int]) -> dict[str, object]:
        """Prefill from links such as the forecast's suggestions: ``area`` (repeatable area ids), ``polygon``
        (GeoJSON), ``time_windows`` (the notation, or the stored JSON list), ``focus`` (id or code), ``motivation``,
        ``municipality``, ``start``, ``end``. What cannot be read is left out."""
        ids = set(municipality_ids)
        initial: dict[str, object] = {"start": timezone.localdate(), "status": MeasureStatus.PLANNED}
        area_ids = [i for i in map(_query_id, query.getlist("area")) if i is not None]
        areas = list(Area.objects.filter(pk__in=area_ids, municipality_id__in=ids, valid_to__isnull=True))
        if areas:
            initial["areas"] = [a.pk for a in areas]
            initial["municipality"] = areas[0].municipality_id
        municipality = query.get("municipality", "")
        if _query_id(municipality) in ids:
            initial["municipality"] = int(municipality)
        focus = query.get("focus", "").replace("\x00", "")
        found = (
            FocusArea.objects.filter(active=True)
            .filter(**({"pk": _query_id(focus)} if focus.isdigit() else {"code": focus}))
            .first()
            if focus
            else None
        )
        if found is not None:
            initial["focus_area"] = found.pk
        if query.get("polygon"):
            try:
                initial["polygon"] = json.dumps(services.polygon_clean(_one_polygon(json.loads(query["polygon"]))))
            except (ValueError, TypeError, AttributeError, ValidationError):
                pass
        windows = query.get("time_windows", "")
        if windows:
            try:
                parsed = json.loads(windows)
            except ValueError:
                initial["time_windows"] = windows
            else:
                try:
                    initial["time_windows"] = format_time_windows(services.time_windows_clean(parsed))
                except ValidationError:
                    initial["time_windows"] = windows
        for key in ("motivation", "title"):
            if query.get(key):
                initial[key] = query[key][:4000]
        for key in ("start", "end"):
            try:
                initial[key] = forms.DateField().clean(query.get(key)) or initial.get(key)
            except ValidationError:
                pass
        return initial

    def clean_polygon(self) -> dict[str, Any] | None:
        raw = (self.cleaned_data.get("polygon") or "").strip()
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            raise ValidationError(_("The drawn place could not be read. Clear it and draw it again.")) from None
        try:
            return services.polygon_clean(data)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["polygon"]) from None

    def clean_time_windows(self) -> list[dict[str, Any]]:
        return parse_time_windows(self.cleaned_data.get("time_windows") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end is before the start."))
        agreement, indicator = data.get("agreement"), data.get("indicator")
        if agreement and indicator and indicator.agreement_id != agreement.pk:
            self.add_error("indicator", _("The indicator belongs to another agreement."))
        return data

    def service_kwargs(self) -> dict[str, object]:
        d = self.cleaned_data
        kwargs: dict[str, object] = {
            "title": d["title"],
            "description": d.get("description") or "",
            "focus_area_id": d["focus_area"].pk,
            "kind": d["kind"],
            "term": d["term"],
            "responsible_organisation_id": d["responsible_organisation"].pk,
            "responsible_person": d.get("responsible_person") or "",
            "target_group": d.get("target_group") or "",
            "area_ids": [a.pk for a in d.get("areas") or ()],
            "polygon": d.get("polygon"),
            "time_windows": d.get("time_windows") or [],
            "start": d["start"],
            "end": d.get("end"),
            "status": d["status"],
            "resources": d.get("resources") or "",
            "motivation": d.get("motivation") or "",
            "expected_effect": d.get("expected_effect") or "",
            "agreement_id": d["agreement"].pk if d.get("agreement") else None,
            "indicator_id": d["indicator"].pk if d.get("indicator") else None,
        }
        if self.measure is None:
            kwargs["municipality_id"] = d["municipality"].pk
        return kwargs


class ActivityForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(
        label=gettext_lazy("What was done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=gettext_lazy("For"))

    def __init__(self, *args, user: User, measure: Measure, **kwargs):
        kwargs.setdefault("initial", {"date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        ids = services.editing_organisation_ids(user, measure.municipality_id)
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=ids)
        preferred = measure.responsible_organisation_id if measure.responsible_organisation_id in ids else None
        self.fields["organisation"].initial = preferred or (ids[0] if ids else None)
        if len(ids) <= 1:
            self.fields["organisation"].widget = forms.HiddenInput()


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(choices=MeasureStatus.choices)
    note = forms.CharField(required=False, max_length=2000)


class MeasureFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("All")), *MeasureStatus.choices]
    )
    focus_area = forms.ModelChoiceField(
        queryset=FocusArea.objects.filter(active=True),
        label=gettext_lazy("Focus area"),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    area = forms.ModelChoiceField(
        queryset=Area.objects.none(), label=gettext_lazy("Area"), required=False, empty_label=gettext_lazy("All")
    )
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label=gettext_lazy("Responsible organisation"),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    date_from = forms.DateField(
        label=gettext_lazy("Running from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Running to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, areas, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["organisation"].queryset = organisations

    def selector_kwargs(self) -> dict[str, Any]:
        """The filters for ``measure_list``; an invalid or empty form filters nothing."""
        if not self.is_bound or not self.is_valid():
            return {}
        d = self.cleaned_data
        return {
            "status": d.get("status") or None,
            "focus_area_id": d["focus_area"].pk if d.get("focus_area") else None,
            "area_id": d["area"].pk if d.get("area") else None,
            "organisation_id": d["organisation"].pk if d.get("organisation") else None,
            "period_start": d.get("date_from"),
            "period_end": d.get("date_to"),
        }
