from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ivig.core import units
from ivig.core.checks import WEIGHT_CONFIRM_CODES, weight_findings
from ivig.core.vocabulary import CONDITIONS
from ivig.web.accounts.models import CareTeam
from ivig.web.forms import RecordTimeField
from ivig.web.patients.models import (
    MEASUREMENT_UNIT_KIND,
    Measurement,
    MeasurementKind,
    Patient,
    condition_words,
)

_LEADING_NUMBER = re.compile(r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def condition_choices() -> list[tuple[str, str]]:
    """Condition codes with their plain words in the active language, sorted by the words."""
    return sorted(((code, condition_words(code)) for code in CONDITIONS), key=lambda c: c[1])


class PatientForm(forms.ModelForm):  # type: ignore[type-arg]
    conditions = forms.MultipleChoiceField(
        label=_("Conditions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every condition that applies. The checks use them."),
    )

    class Meta:
        model = Patient
        fields = ["name", "birth_date", "sex", "blood_group", "conditions"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["conditions"].choices = condition_choices()  # type: ignore[attr-defined]
        self.fields["name"].widget.attrs["autocomplete"] = "off"

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in name):
            raise forms.ValidationError(
                _("The name cannot hold line breaks, tabs or other control characters.")
            )
        return name

    def clean_birth_date(self) -> Any:
        birth_date = self.cleaned_data["birth_date"]
        if birth_date and birth_date > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return birth_date

    def clean_conditions(self) -> list[str]:
        chosen = set(self.cleaned_data["conditions"])
        return [code for code in CONDITIONS if code in chosen]  # stable vocabulary order


_EXAMPLES = {
    MeasurementKind.WEIGHT: _("for example 20.4 kg or 45 lb"),
    MeasurementKind.HEIGHT: _("for example 112 cm or 44 in"),
}


def _quantity_message(kind: MeasurementKind, error: units.QuantityError) -> str:
    example = _EXAMPLES[kind]
    if "unit is missing" in error.problem or "without a unit" in error.problem:
        return str(_("Write the unit after the number, %(example)s.") % {"example": example})
    if "decimal separator" in error.problem:
        return str(
            _("Use a point for decimals and no thousands separator, %(example)s.")
            % {"example": example}
        )
    if "right kind of unit" in error.problem:
        if kind == MeasurementKind.WEIGHT:
            return str(_("This is not a unit of weight: %(example)s.") % {"example": example})
        return str(_("This is not a unit of length: %(example)s.") % {"example": example})
    if "too large" in error.problem or "too small" in error.problem:
        return str(_("This number cannot be real: check it, %(example)s.") % {"example": example})
    return str(_("Write a number and its unit, %(example)s.") % {"example": example})


class MeasurementForm(forms.Form):
    value = forms.CharField(label=_("Value with its unit"), max_length=40)
    taken_at = RecordTimeField(
        label=_("Measured on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(
        self, *args: Any, kind: MeasurementKind, ask_confirm: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if ask_confirm:  # only once a weight was found unusual for the age
            self.fields["confirm_implausible"] = forms.BooleanField(
                label=_("I have checked this weight and its unit: it is right."),
                required=False,
                help_text=_("Asked only for a weight that is unusual for the age."),
            )
        self.fields["value"].label = (
            _("Weight, with its unit") if kind == MeasurementKind.WEIGHT
            else _("Height, with its unit")
        )
        self.fields["value"].help_text = _EXAMPLES[kind]
        self.fields["value"].widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
        self.quantity: units.Quantity | None = None

    def clean_value(self) -> str:
        text = self.cleaned_data["value"].strip()
        try:
            quantity = units.parse(text, self.kind.value, MEASUREMENT_UNIT_KIND[self.kind])
        except units.QuantityError as error:
            raise forms.ValidationError(_quantity_message(self.kind, error)) from error
        if quantity.magnitude.as_tuple().exponent < -3:  # type: ignore[operator]
            raise forms.ValidationError(_("Use at most 3 decimal places."))
        bounds = settings.MEASUREMENT_BOUNDS
        if self.kind == MeasurementKind.WEIGHT:
            low, high, shown = bounds["weight_kg_min"], bounds["weight_kg_max"], "kg"
            value = units.mass_kg(quantity)
        else:
            low, high, shown = bounds["height_cm_min"], bounds["height_cm_max"], "cm"
            value = units.length_cm(quantity)
        if not Decimal(low) <= value <= Decimal(high):
            raise forms.ValidationError(
                _("This is outside %(low)s–%(high)s %(unit)s: check the number and the unit.")
                % {"low": low, "high": high, "unit": shown}
            )
        self.quantity = quantity
        return str(text)

    def clean_taken_at(self) -> Any:
        taken_at = self.cleaned_data["taken_at"]
        if taken_at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("The date cannot be in the future."))
        return taken_at

    def weight_warnings(self, patient: Patient, language: str) -> list[str]:
        """The plausibility findings for a typed weight (the same core check the plan runs),
        as messages in ``language``; empty for a height or an ordinary weight."""
        if self.kind != MeasurementKind.WEIGHT or self.quantity is None:
            return []
        taken = self.cleaned_data.get("taken_at") or timezone.now()
        on = timezone.localtime(taken).date()
        age = units.years_between(patient.birth_date, on) if patient.birth_date <= on else None
        sex = patient.sex if patient.sex in ("male", "female") else None
        return [
            f.text(language)
            for f in weight_findings(self.quantity, age, sex)
            if f.code in WEIGHT_CONFIRM_CODES
        ]

    def build(self, patient: Patient, recorded_by: Any) -> Measurement:
        """An unsaved Measurement with the value and unit exactly as entered."""
        assert self.quantity is not None
        text = self.quantity.text
        number = _LEADING_NUMBER.match(text)
        assert number is not None
        return Measurement(
            patient=patient,
            kind=self.kind,
            value=self.quantity.magnitude,
            unit=text[number.end():].strip(),
            taken_at=self.cleaned_data["taken_at"],
            recorded_by=recorded_by,
        )


class NewPatientForm(PatientForm):
    """A new patient with, optionally, the first weight and height (measured now), so the plan
    can be entered straight away."""

    team = forms.ModelChoiceField(
        label=_("Care team"), queryset=CareTeam.objects.none(), empty_label=None
    )
    weight = forms.CharField(
        label=_("Weight today, with its unit"), max_length=40, required=False
    )
    height = forms.CharField(
        label=_("Height, with its unit"), max_length=40, required=False
    )

    class Meta(PatientForm.Meta):
        fields = ["team", *PatientForm.Meta.fields]

    def __init__(
        self, *args: Any, teams: QuerySet[CareTeam], ask_confirm: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        if ask_confirm:  # only once the first weight was found unusual for the age
            self.fields["confirm_implausible"] = forms.BooleanField(
                label=_("I have checked this weight and its unit: it is right."),
                required=False,
                help_text=_("Asked only for a weight that is unusual for the age."),
            )
        self.fields["weight"].help_text = _EXAMPLES[MeasurementKind.WEIGHT]
        self.fields["height"].help_text = _EXAMPLES[MeasurementKind.HEIGHT]
        for name in ("weight", "height"):
            self.fields[name].widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
        self.measurement_forms: dict[MeasurementKind, MeasurementForm] = {}

    def _measurement(self, kind: MeasurementKind) -> str:
        text = (self.cleaned_data.get(kind.value) or "").strip()
        if not text:
            return ""
        form = MeasurementForm(
            {"value": text, "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
            kind=kind,
        )
        if not form.is_valid():
            raise forms.ValidationError(list(form.errors.get("value") or form.errors["taken_at"]))
        self.measurement_forms[kind] = form
        return text

    def clean_weight(self) -> str:
        return self._measurement(MeasurementKind.WEIGHT)

    def clean_height(self) -> str:
        return self._measurement(MeasurementKind.HEIGHT)

    def first_weight_warnings(self, language: str) -> list[str]:
        """The same plausibility findings as the weight form, for the first weight typed here
        (the patient is not saved yet: its birth date and sex come from this form)."""
        form = self.measurement_forms.get(MeasurementKind.WEIGHT)
        birth_date = self.cleaned_data.get("birth_date")
        if form is None or birth_date is None:
            return []
        probe = Patient(birth_date=birth_date, sex=self.cleaned_data.get("sex") or "")
        return form.weight_warnings(probe, language)

    def measurements(self, patient: Patient, recorded_by: Any) -> list[Measurement]:
        """The first weight and height as unsaved Measurements (after ``is_valid``)."""
        return [form.build(patient, recorded_by) for form in self.measurement_forms.values()]
