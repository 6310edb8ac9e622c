"""Forms of the infusion log. Quantities are text with their unit; the core parses them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ivig.core.infusion_checks import symptom_words
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


# --- Temperature with a °C/°F choice -------------------------------------------------------------

UNIT_CHOICES = [("°C", "°C"), ("°F", "°F")]
_HAS_LETTERS = re.compile(r"[^\d\s.,+-]")


class TemperatureWidget(forms.MultiWidget):
    """A number and a °C/°F choice side by side (the choice is remembered for the person)."""

    template_name = "infusions/widgets/temperature.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = [
            forms.TextInput(
                attrs={
                    "inputmode": "decimal",
                    "autocomplete": "off",
                    "size": 8,
                    "aria-label": _("Temperature (number)"),
                }
            ),
            forms.Select(
                choices=UNIT_CHOICES, attrs={"aria-label": _("Temperature unit (°C or °F)")}
            ),
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        return [value, None] if value else [None, None]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        # A plain "temperature" (the JSON API, a script) is read as typed, with its unit: it
        # must never be dropped because the two boxes of the page are absent.
        if f"{name}_0" not in data and name in data:
            return [data.get(name), ""]
        return super().value_from_datadict(data, files, name)


class TemperatureField(forms.MultiValueField):
    """A temperature as text for the one parser (``units.parse_temperature``). A number
    without a unit takes the unit chosen next to it; a unit typed in the box ("101.3 F",
    "38.5c") is read as typed. The value is the text with its unit, e.g. "38.5 °C"."""

    widget = TemperatureWidget

    def __init__(self, **kw: Any) -> None:
        fields = (
            forms.CharField(max_length=20, required=False),
            forms.ChoiceField(choices=UNIT_CHOICES, required=False),
        )
        kw.setdefault("required", False)
        super().__init__(fields, require_all_fields=False, **kw)

    def compress(self, data_list: list[Any]) -> str:
        if not data_list:
            return ""
        number = (data_list[0] or "").strip()
        unit = data_list[1] if len(data_list) > 1 else ""
        if not number:
            return ""
        # read (and refused with the field named) by the core with the rest of the form
        return number if _HAS_LETTERS.search(number) else f"{number} {unit or ''}".strip()


def temperature_unit_of(form: forms.Form, name: str = "temperature") -> str | None:
    """The °C/°F the person chose on a bound form (to remember it), or None."""
    if not form.is_bound or name not in form.fields:
        return None
    choice = form.data.get(form.add_prefix(name) + "_1")
    return choice if choice in dict(UNIT_CHOICES) else None


def set_temperature_unit(form: forms.Form, unit: str | None, name: str = "temperature") -> None:
    """Show the person's remembered unit on an unbound form."""
    if unit in dict(UNIT_CHOICES) and name in form.fields and not form.is_bound:
        form.initial[name] = ["", unit]


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
        days = sorted({int(d["day"]) for c in choices for d in c.approval.snapshot.get("days", [])})
        self.fields["day"].choices = [(d, str(d)) for d in days or [1]]  # type: ignore[attr-defined]
        self.fields["day"].help_text = _(
            "The next day of the approved plan is chosen for you; its date is the plan's."
        )


def _finding_title(code: object) -> str:
    """A finding's title in the page's language (its code when unknown)."""
    from django.utils.translation import get_language

    from ivig.core.findings import specs

    spec = specs().get(str(code))
    if spec is None:
        return str(code)
    return spec.title_es if (get_language() or "en").startswith("es") else spec.title_en


def start_choice_text(choice: Any) -> str:
    """One line per approved version: label, approval date, dose, errors approved anyway, and
    whether a newer version replaces it."""
    version = choice.version
    course = choice.course
    name = str(version) if str(version.pk) in str(version) else f"{version} #{version.pk}"
    parts = [f"{name} ({version.get_kind_display()})"]
    parts.append(str(_("approved %(date)s")) % {"date": f"{choice.approval.approved_at:%Y-%m-%d}"})
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
        reasons = "; ".join(
            f"{_finding_title(o.get('code'))}: {o.get('reason')}" for o in choice.overrides
        )
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
    temperature = TemperatureField(
        label=_("Temperature"),
        help_text=_('Choose °C or °F next to it, or type it: "37.2 °C", "99.5 F", "38.5c".'),
    )
    heart_rate = forms.CharField(label=_("Heart rate (/min)"), required=False, max_length=20)
    blood_pressure = forms.CharField(
        label=_("Blood pressure (mmHg)"), required=False, max_length=20, help_text="105/65"
    )
    spo2 = forms.CharField(label=_("Oxygen saturation SpO2 (%)"), required=False, max_length=10)
    breathing_rate = forms.CharField(
        label=_("Breathing rate (/min)"), required=False, max_length=20
    )


# Plain words for the triage table's organ groups (the web's headings; the codes are the data's).
GROUP_WORDS = {
    "breathing": _("Breathing, throat and chest"),
    "circulation": _("Heart, colour and fainting"),
    "neuro": _("Head, sleepiness, fits and weakness"),
    "skin": _("Skin, lips and face"),
    "temperature": _("Temperature and chills"),
    "kidney": _("Urine and fluids"),
    "blood": _("Blood (dark urine, yellow eyes, pale)"),
    "limb": _("An arm or a leg"),
    "gi": _("Stomach and gut"),
    "general": _("Tiredness and aches"),
    "site": _("Where the needle goes in"),
    "metabolic": _("Blood sugar"),
}


def symptom_groups(language: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """EVERY symptom of the triage table, grouped for people: the emergency signs first (any
    group), then the rest by body system in the data's order of groups."""
    data = load_triage_data()
    symptoms = list(data.symptoms.values())
    emergency = [s.name for s in symptoms if s.level == "emergency"]
    groups: list[tuple[str, list[tuple[str, str]]]] = [
        (str(_("Emergency signs: call emergency services")), symptom_words(emergency, language))
    ]
    for code in data.organ_groups:
        names = [s.name for s in symptoms if s.organ_group == code and s.level != "emergency"]
        if names:
            label = GROUP_WORDS.get(code, data.organ_groups[code])
            groups.append((str(label), symptom_words(names, language)))
    return groups


def _language() -> str:
    from django.utils.translation import get_language

    return "es" if (get_language() or "en").startswith("es") else "en"


FREE_TEXT_HELP = _(
    'In your own words, e.g. "she had a fit and her lips are swollen". Each phrase is read and '
    "shown with what it was read as, so you can check it."
)


class SymptomForm(forms.Form):
    at = time_field()
    symptoms = forms.MultipleChoiceField(
        label=_("What do you see?"), widget=forms.CheckboxSelectMultiple, required=False
    )
    free_text = forms.CharField(
        label=_("Anything else, in your own words"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=FREE_TEXT_HELP,
    )
    temperature = TemperatureField(label=_("Temperature"))

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["symptoms"].choices = symptom_groups(_language())  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("symptoms") and not data.get("temperature") and not data.get("free_text"):
            raise forms.ValidationError(
                _("Tick at least one symptom, describe it in words or give a temperature.")
            )
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
    free_text = forms.CharField(
        label=_("Anything else, in your own words"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=FREE_TEXT_HELP,
    )
    temperature = TemperatureField(
        label=_("Temperature"),
        help_text=_("Leave empty if not measured."),
    )
    headache = forms.TypedChoiceField(
        label=_("Headache, 0 (none) to 10 (worst)"),
        coerce=int,
        choices=[(i, str(i)) for i in range(11)],
        initial=0,
    )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["symptoms"].choices = symptom_groups(_language())  # type: ignore[attr-defined]


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
