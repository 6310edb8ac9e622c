"""Forms of the infusion log. Quantities are text with their unit; the core parses them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ivig.core.infusion_checks import CHECKIN_SYMPTOMS, symptom_words
from ivig.core.triage import load_triage_data
from ivig.web.forms import RecordTimeField

TIME_FORMAT = "%Y-%m-%dT%H:%M"


class TimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kw: Any) -> None:
        super().__init__(format=TIME_FORMAT, **kw)


def time_field(label: Any = None) -> forms.DateTimeField:
    return RecordTimeField(
        label=label or _("Time"), input_formats=[TIME_FORMAT], widget=TimeInput()
    )


def now_local() -> str:
    return timezone.localtime().strftime(TIME_FORMAT)


class StartForm(forms.Form):
    """Which approved plan, which day, when. Each approved version is listed with its label,
    approval date, dose and error/override status; a replaced version is marked. Only the
    latest approval of the current prescription is preselected, and the page says so."""

    approval = forms.TypedChoiceField(
        label=_("Approved plan"), coerce=int, widget=forms.RadioSelect, empty_value=None
    )
    day = forms.TypedChoiceField(label=_("Day of the course"), coerce=int)
    started_at = time_field(_("Started at"))

    def __init__(
        self, *args: Any, choices: list[Any], default: Any | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["approval"].choices = [  # type: ignore[attr-defined]
            (c.approval.pk, start_choice_text(c)) for c in choices
        ]
        if default is not None and not self.is_bound:
            self.initial.setdefault("approval", default.pk)
        days = sorted(
            {int(d["day"]) for c in choices for d in c.approval.snapshot.get("days", [])}
        )
        self.fields["day"].choices = [(d, str(d)) for d in days or [1]]  # type: ignore[attr-defined]
        self.fields["day"].help_text = _(
            "The next day of the approved plan is chosen for you; its date is the plan's."
        )


def start_choice_text(choice: Any) -> str:
    """One line per approved version: label, approval date, dose, errors approved anyway, and
    whether a newer version replaces it."""
    version = choice.version
    course = choice.course
    parts = [f"{version} #{version.pk} ({version.get_kind_display()})"]
    parts.append(
        str(_("approved %(date)s")) % {"date": f"{choice.approval.approved_at:%Y-%m-%d}"}
    )
    if course:
        parts.append(
            str(_("%(dose)s: %(grams)s g (%(per_kg)s g/kg) over %(days)s day(s)"))
            % {
                "dose": course.get("dose_given", ""),
                "grams": course.get("dose_g", "?"),
                "per_kg": course.get("dose_g_per_kg", "?"),
                "days": course.get("days", "?"),
            }
        )
    if choice.overrides:
        reasons = "; ".join(f"{o.get('code')}: {o.get('reason')}" for o in choice.overrides)
        parts.append(
            str(_("APPROVED DESPITE %(n)s ERROR(S) (reasons: %(reasons)s)"))
            % {"n": len(choice.overrides), "reasons": reasons}
        )
    else:
        parts.append(str(_("no error findings")))
    if not choice.current:
        parts.append(
            str(_("REPLACED by %(newer)s: check before using"))
            % {"newer": ", ".join(f"{v} #{v.pk}" for v in choice.replaced_by)}
        )
    return " · ".join(parts)


class RateForm(forms.Form):
    at = time_field()
    rate = forms.CharField(
        label=_("New rate"),
        max_length=40,
        help_text=_('With its unit: "2 mL/kg/h" or a pump rate "40 mL/h".'),
    )
    reason = forms.CharField(
        label=_("Reason (required when the rate is above the plan, the advice or the label)"),
        max_length=300,
        required=False,
    )


class ReasonForm(forms.Form):
    at = time_field()
    reason = forms.CharField(label=_("Reason"), max_length=300)


class StopForm(forms.Form):
    at = time_field()
    volume = forms.CharField(
        label=_("Volume infused, from the pump (with unit)"),
        max_length=40,
        required=False,
        help_text=_(
            'As the pump shows it, e.g. "165 mL". Leave empty to take it from the rates logged.'
        ),
    )
    reason = forms.CharField(
        label=_("Reason (required when less than the day's volume was given)"),
        max_length=300,
        required=False,
    )


class ResumeForm(forms.Form):
    at = time_field()
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class VitalsForm(forms.Form):
    at = time_field()
    temperature = forms.CharField(
        label=_("Temperature (°C or °F)"),
        required=False,
        max_length=20,
        help_text=_('With the unit: "37.2 °C" or "99.5 °F".'),
    )
    heart_rate = forms.CharField(label=_("Heart rate (/min)"), required=False, max_length=20)
    blood_pressure = forms.CharField(
        label=_("Blood pressure (mmHg)"), required=False, max_length=20, help_text="105/65"
    )
    spo2 = forms.CharField(label=_("Oxygen saturation SpO2 (%)"), required=False, max_length=10)
    breathing_rate = forms.CharField(
        label=_("Breathing rate (/min)"), required=False, max_length=20
    )


def _symptom_choices(names: Any = None) -> list[tuple[str, str]]:
    from django.utils.translation import get_language

    language = get_language() or "en"
    data = load_triage_data()
    return symptom_words(names if names is not None else data.symptoms, language)


class SymptomForm(forms.Form):
    at = time_field()
    symptoms = forms.MultipleChoiceField(
        label=_("What do you see?"), widget=forms.CheckboxSelectMultiple, required=False
    )
    temperature = forms.CharField(label=_("Temperature (°C or °F)"), required=False, max_length=20)

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        during = [s.name for s in load_triage_data().symptoms.values() if "during" in s.windows] + [
            "blue_lips_or_skin",
            "seizure",
            "confused_or_hard_to_wake",
        ]
        self.fields["symptoms"].choices = _symptom_choices(during)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("symptoms") and not data.get("temperature"):
            raise forms.ValidationError(_("Tick at least one symptom or give a temperature."))
        return data


class PremedicationForm(forms.Form):
    at = time_field()
    name = forms.CharField(label=_("Medicine"), max_length=100)
    dose = forms.CharField(
        label=_("Dose with unit"), max_length=40, help_text=_('e.g. "250 mg" or "5 mL"')
    )


class FluidForm(forms.Form):
    at = time_field()
    fluid = forms.CharField(label=_("Fluid"), max_length=100, help_text=_("e.g. saline 0.9%"))
    volume = forms.CharField(label=_("Volume with unit"), max_length=40, help_text='"100 mL"')


class VialForm(forms.Form):
    at = time_field()
    brand = forms.CharField(label=_("Brand"), max_length=100)
    size = forms.CharField(label=_("Vial size"), max_length=40, required=False, help_text='"5 g"')
    lot_number = forms.CharField(label=_("Lot number"), max_length=60)
    expiry = forms.DateField(label=_("Expiry date"), widget=forms.DateInput(attrs={"type": "date"}))


class CorrectionForm(forms.Form):
    reason = forms.CharField(label=_("Why is this entry wrong?"), max_length=300)


class CheckInForm(forms.Form):
    symptoms = forms.MultipleChoiceField(
        label=_("Since the infusion, has there been any of these?"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    temperature = forms.CharField(
        label=_("Temperature (°C or °F)"),
        required=False,
        max_length=20,
        help_text=_('With the unit: "37.2 °C" or "100.4 °F". Leave empty if not measured.'),
    )
    headache = forms.TypedChoiceField(
        label=_("Headache, 0 (none) to 10 (worst)"),
        coerce=int,
        choices=[(i, str(i)) for i in range(11)],
        initial=0,
    )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["symptoms"].choices = _symptom_choices(CHECKIN_SYMPTOMS)  # type: ignore[attr-defined]


class HydrationForm(forms.Form):
    at = time_field()
    volume = forms.CharField(
        label=_("How much was drunk (with unit)"),
        max_length=40,
        help_text=_('"250 mL", "0.5 L", "8 oz" or "1 cup" (a cup is 240 mL)'),
    )
    confirm = forms.BooleanField(
        label=_("Yes, this amount is right (it is more than usual for one drink)"),
        required=False,
    )

    def clean_at(self) -> Any:
        at = self.cleaned_data["at"]
        # the form's clock has minutes: a drink "now" is never refused as a future one
        if at > timezone.now() + timedelta(minutes=1):
            raise forms.ValidationError(
                _("%(given)s is in the future: record a drink once it was drunk.")
                % {"given": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")}
            )
        return at


class FluidLimitForm(forms.Form):
    limit = forms.CharField(
        label=_("Fluid limit per 24 h (with unit)"),
        max_length=40,
        help_text=_('"1200 mL/day", "1.2 L/day" or "40 oz/day"'),
    )
    reason = forms.CharField(label=_("Reason (heart or kidney condition)"), max_length=300)
