"""Between courses (primary immunodeficiency): IgG trough levels (lab results with units and
dates) and infections (date, type, antibiotics, days missed), charted against the IVIG doses.
Access through ``ivig.web.access``; entries are kept with history and archived, never deleted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from ivig.core import family, units
from ivig.web import access
from ivig.web.access import Action
from ivig.web.accounts.models import User
from ivig.web.patients.models import Infection, LabResult, LabTest, Patient

MAX_PAST_YEARS = 30


def _check_date(value: date) -> date:
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError(_("The date is in the future."))
    if value.year < today.year - MAX_PAST_YEARS:
        raise forms.ValidationError(_("The date is too far in the past."))
    return value


class TroughForm(forms.Form):
    level = forms.CharField(
        label=_lazy("IgG trough level"),
        max_length=30,
        help_text=_lazy("With its unit, e.g. “7.5 g/L” or “750 mg/dL”."),
    )
    taken_on = forms.DateField(
        label=_lazy("Date of the sample"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_level(self) -> units.Quantity:
        text = self.cleaned_data["level"]
        try:
            quantity = units.parse(text, "level", units.Kind.IGG_LEVEL)
        except units.QuantityError as error:
            raise forms.ValidationError(str(error)) from error
        if quantity.magnitude <= 0:
            raise forms.ValidationError(_("The level must be more than zero."))
        return quantity

    def clean_taken_on(self) -> date:
        return _check_date(self.cleaned_data["taken_on"])


class InfectionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Infection
        fields = ["started_on", "kind", "antibiotics", "days_missed", "notes"]
        widgets = {"started_on": forms.DateInput(attrs={"type": "date"})}

    def clean_started_on(self) -> date:
        return _check_date(self.cleaned_data["started_on"])


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str


def trough_lines() -> tuple[Decimal, Decimal, str]:
    t = family.family_data()["troughs"]
    lower = units.grams_per_litre(units.parse(t["lower"], "family.toml", units.Kind.IGG_LEVEL))
    target = units.grams_per_litre(units.parse(t["target"], "family.toml", units.Kind.IGG_LEVEL))
    return lower, target, "; ".join(family.source_line(k) for k in t["sources"])


def chart(
    patient: Patient, troughs: list[LabResult], infections: list[Infection]
) -> dict[str, Any]:
    """Coordinates for the SVG (template draws it): troughs in g/L over time, IVIG doses as
    bars, infections as marks, and the cited reference lines. Empty when nothing to draw."""
    from ivig.web.infusions import records

    if not troughs and not infections:
        return {}  # nothing to draw: do not read every infusion for the dose bars
    doses = records.doses(patient)  # every infusion's bar, without reading its events
    dates = (
        [t.taken_on for t in troughs]
        + [d for d, _, _ in doses]
        + [i.started_on for i in infections]
    )
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    width, height, left, right, top, bottom = 640, 240, 48, 12, 12, 36
    lower, target, source = trough_lines()
    values = [t.g_per_l for t in troughs]
    top_value = max([*values, target]) * Decimal("1.2")

    def x(day: date) -> float:
        return left + (width - left - right) * (day - first).days / span

    def y(value: Decimal) -> float:
        return float(top + (height - top - bottom) * (1 - value / top_value))

    points = [
        ChartPoint(x(t.taken_on), y(t.g_per_l), f"{t.taken_on}: {t.text}")
        for t in sorted(troughs, key=lambda r: r.taken_on)
    ]
    ticks = [Decimal(v) for v in range(0, int(top_value) + 1, 2 if top_value < 20 else 5)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_edge": width - right,
        "baseline": height - bottom,
        "top": top,
        "points": points,
        "polyline": " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points),
        "doses": [{"x": x(d), "label": f"{d}: {g} g {brand}"} for d, g, brand in doses],
        "infections": [
            {"x": x(i.started_on), "label": f"{i.started_on}: {i.kind}"} for i in infections
        ],
        "lines": [
            {"y": y(lower), "label": _("lower limit %(v)s g/L") % {"v": f"{lower.normalize():f}"}},
            {"y": y(target), "label": _("target %(v)s g/L") % {"v": f"{target.normalize():f}"}},
        ],
        "ticks": [{"y": y(t), "label": f"{t}"} for t in ticks],
        "first": first,
        "last": last,
        "source": source,
    }


def between_context(patient: Patient) -> dict[str, Any]:
    troughs = list(patient.lab_results.active().filter(test=LabTest.IGG_TROUGH))
    infections = list(patient.infections.active())
    return {
        "troughs": troughs,
        "infections": infections,
        "chart": chart(patient, troughs, infections),
        "days_missed": sum(i.days_missed for i in infections),
    }


@login_required
def between_courses(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id)
    can_record = access.can(request.user, patient, Action.RECORD_MEASUREMENT)
    # The forms show when asked for (?record=trough or infection: a link from each section,
    # no JavaScript) or after a refused entry; otherwise the page is the levels, the chart and
    # the infections (two forms of widgets were about half of the page's time).
    asked = request.GET.get("record")
    trough_form = TroughForm(prefix="trough") if asked == "trough" else None
    infection_form = InfectionForm(prefix="infection") if asked == "infection" else None
    if request.method == "POST":
        patient = access.get_patient_for_user(
            request.user, patient_id, action=Action.RECORD_MEASUREMENT
        )
        what = request.POST.get("what")
        if what == "trough":
            trough_form = TroughForm(request.POST, prefix="trough")
            if trough_form.is_valid():
                quantity = trough_form.cleaned_data["level"]
                LabResult.objects.create(
                    patient=patient,
                    test=LabTest.IGG_TROUGH,
                    value=quantity.magnitude,
                    unit=re.sub(r"^[\d.]+\s*", "", quantity.text.strip()) or quantity.unit,
                    taken_on=trough_form.cleaned_data["taken_on"],
                    recorded_by=cast(User, request.user),
                )
                messages.success(request, _("IgG level saved."))
                return redirect("patients:between", patient_id=patient.pk)
        elif what == "infection":
            infection_form = InfectionForm(request.POST, prefix="infection")
            if infection_form.is_valid():
                infection = infection_form.save(commit=False)
                infection.patient = patient
                infection.recorded_by = request.user
                infection.save()
                messages.success(request, _("Infection saved."))
                return redirect("patients:between", patient_id=patient.pk)
        else:
            messages.error(request, _("Choose what to record."))
    context = {
        "patient": patient,
        "can_record": can_record,
        "trough_form": trough_form,
        "infection_form": infection_form,
        **between_context(patient),
    }
    return render(request, "patients/between_courses.html", context)
