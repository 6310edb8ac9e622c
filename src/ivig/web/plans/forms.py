"""The plan form: it mirrors the plan file and builds the one order document.

The form does not validate clinical content itself: it assembles ``{"patient": ..., "order": ...}``
(the patient part from the patient's record) and the core's ``build_plan`` validates it. Each
``Problem.field`` of an ``OrderError`` (e.g. ``order.titration[2].rate``) is put back next to the
form field it came from (:func:`attach_problems`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ivig.core.catalogue import Catalogue, RateFact, load_catalogue
from ivig.core.dosing import rule_pack_ids
from ivig.core.order import Problem
from ivig.core.vocabulary import DOSING_WEIGHT_METHODS, VIAL_ROUNDING
from ivig.web.patients.models import Patient
from ivig.web.plans.models import PlanKind
from ivig.web.ui.words import rule_pack as rule_pack_words

STEP_PREFIX = "step"
PREMED_PREFIX = "premed"
DEFAULT_STEP_ROWS = 4
DEFAULT_PREMED_ROWS = 2
MAX_ROWS = 40


def _words(pair: tuple[str, str]) -> str:
    return pair[1] if (get_language() or "en").startswith("es") else pair[0]


def product_choices(catalogue: Catalogue) -> list[tuple[str, str]]:
    out = []
    for product in sorted(catalogue.products.values(), key=lambda p: p.brand.lower()):
        concentration = product.concentration_mg_ml
        percent = f" {concentration / 10:g}%" if concentration is not None else ""
        out.append((product.id, f"{product.brand}{percent} ({product.manufacturer})"))
    return out


def indication_choices(catalogue: Catalogue) -> list[tuple[str, str]]:
    es = (get_language() or "en").startswith("es")
    return [("", "—")] + [
        (i.id, i.name_es if es else i.name_en) for i in catalogue.indications.values()
    ]


class PlanForm(forms.Form):
    """Every scalar field of the order (rows of steps and premedication are formsets)."""

    kind = forms.ChoiceField(label=_("Kind of plan"), choices=PlanKind.choices)
    label = forms.CharField(
        label=_("Label"),
        required=False,
        max_length=200,
        help_text=_("Optional, e.g. “December course”."),
    )
    product = forms.ChoiceField(label=_("Product"))
    indication = forms.ChoiceField(label=_("Indication"), required=False)
    dose = forms.CharField(
        label=_("Dose"),
        max_length=50,
        help_text=_("With its unit: “2 g/kg” for the course, “400 mg/kg/day”, “40 g”."),
    )
    days = forms.CharField(label=_("Days"), max_length=3, help_text=_("1 to 5 days."))
    dosing_weight = forms.ChoiceField(label=_("Dosing weight"))
    vial_rounding = forms.ChoiceField(label=_("Vial rounding"))
    start = forms.CharField(
        label=_("Start (date and time)"),
        required=False,
        max_length=30,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    prescriber = forms.CharField(label=_("Prescriber"), required=False, max_length=200)
    setting = forms.ChoiceField(
        label=_("Where it is given"),
        required=False,
        choices=[
            ("", _("not stated")),
            ("hospital", _("hospital")),
            ("clinic", _("clinic (outpatient)")),
            ("home", _("home")),
        ],
        help_text=_("A first infusion or a new product at home gets a warning."),
    )
    first_infusion = forms.ChoiceField(
        label=_("First infusion"),
        choices=[
            ("unknown", _("Not known")),
            ("yes", _("Yes, the first IVIG infusion")),
            ("no", _("No, IVIG was given before")),
        ],
        initial="unknown",
        widget=forms.RadioSelect,
        help_text=_(
            "Not known keeps the first-infusion advice (slower rates) active, and the plan says so."
        ),
    )
    previous_product = forms.ChoiceField(label=_("Previous product"), required=False)
    titration_form = forms.ChoiceField(
        label=_("Titration written as"),
        choices=[
            ("steps", _("Steps (rate and minutes)")),
            ("rule", _("A rule (start, increase, every, max)")),
        ],
        widget=forms.RadioSelect,
    )
    rule_start = forms.CharField(label=_("Rule: start rate"), required=False, max_length=40)
    rule_increase_by = forms.CharField(label=_("Rule: increase by"), required=False, max_length=40)
    rule_every_minutes = forms.CharField(
        label=_("Rule: every (minutes)"), required=False, max_length=5
    )
    rule_max = forms.CharField(label=_("Rule: maximum rate"), required=False, max_length=40)
    rule_first_step_minutes = forms.CharField(
        label=_("Rule: first step (minutes)"), required=False, max_length=5
    )
    saline_amount = forms.CharField(
        label=_("Saline"),
        required=False,
        max_length=40,
        help_text=_("e.g. “10 mL/kg” or “250 mL”; leave empty for none."),
    )
    saline_timing = forms.CharField(label=_("Saline timing"), required=False, max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, catalogue: Catalogue | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        catalogue = catalogue or load_catalogue()
        products = product_choices(catalogue)
        self.fields["product"].choices = [  # type: ignore[attr-defined]
            ("", _("— choose the prescribed product —")),
            *products,
        ]
        self.fields["previous_product"].choices = [("", "—"), *products]  # type: ignore[attr-defined]
        self.fields["indication"].choices = indication_choices(catalogue)  # type: ignore[attr-defined]
        self.fields["dosing_weight"].choices = [  # type: ignore[attr-defined]
            (code, _words(words)) for code, words in DOSING_WEIGHT_METHODS.items()
        ] + [(pack, rule_pack_words(pack)) for pack in rule_pack_ids()]
        self.fields["vial_rounding"].choices = [  # type: ignore[attr-defined]
            (code, _words(words)) for code, words in VIAL_ROUNDING.items()
        ]


class StepForm(forms.Form):
    rate = forms.CharField(
        label=_("Rate"),
        required=False,
        max_length=40,
        help_text=_("With its unit, e.g. “0.5 mL/kg/h”."),
    )
    minutes = forms.CharField(
        label=_("Minutes"),
        required=False,
        max_length=5,
        help_text=_("Empty on the last step: it runs until the dose is in."),
    )

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not (data.get("rate") or "").strip() and not (data.get("minutes") or "").strip()


class PremedicationForm(forms.Form):
    name = forms.CharField(label=_("Medicine"), required=False, max_length=100)
    dose = forms.CharField(
        label=_("Dose"), required=False, max_length=40, help_text=_("e.g. “15 mg/kg”.")
    )
    minutes_before = forms.CharField(label=_("Minutes before"), required=False, max_length=5)
    repeat_every = forms.CharField(
        label=_("Repeat every"), required=False, max_length=20, help_text=_("e.g. “4 h”.")
    )
    repeat_before_step = forms.CharField(
        label=_("Repeat before step"), required=False, max_length=3
    )

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not any((data.get(k) or "").strip() for k in PREMED_FIELDS)


PREMED_FIELDS = ("name", "dose", "minutes_before", "repeat_every", "repeat_before_step")


StepFormSet: type[BaseFormSet[StepForm]] = formset_factory(
    StepForm, extra=0, max_num=MAX_ROWS, absolute_max=MAX_ROWS
)
PremedicationFormSet: type[BaseFormSet[PremedicationForm]] = formset_factory(
    PremedicationForm, extra=0, max_num=MAX_ROWS, absolute_max=MAX_ROWS
)


# --- The patient part of the order document, from the record ----------------------------------


FIRST_INFUSION_VALUES = {"yes": True, "no": False, "unknown": None}


def first_infusion_value(value: object) -> bool | None:
    """The form's yes / no / not known as the order document's True / False / absent. Anything
    else (an old ticked box "on") is read as yes only when it says so, never as "no"."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in FIRST_INFUSION_VALUES:
        return FIRST_INFUSION_VALUES[text]
    return True if text in ("on", "true", "1") else None


def first_infusion_choice(value: object) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "unknown"


def patient_document(
    patient: Patient, *, first_infusion: bool | None, previous_product: str
) -> dict[str, Any]:
    """The ``[patient]`` table from the patient's record (latest weight and height, as entered)."""
    table: dict[str, Any] = {"name": patient.name}
    weight = patient.latest_weight()
    if weight is not None:
        table["weight"] = weight.text
    height = patient.latest_height()
    if height is not None:
        table["height"] = height.text
    if patient.sex in ("female", "male"):
        table["sex"] = patient.sex
    if patient.birth_date:
        table["birth_date"] = patient.birth_date.isoformat()
    if patient.blood_group:
        table["blood_group"] = patient.blood_group
    table["conditions"] = list(patient.conditions or [])
    if first_infusion is not None:  # not known: the key is left out, and the engine says so
        table["first_infusion"] = first_infusion
    if previous_product:
        table["previous_product"] = previous_product
    return table


def _int_or_text(value: str) -> int | str:
    value = value.strip()
    return int(value) if re.fullmatch(r"\d{1,6}", value) else value


def order_document(
    patient: Patient,
    form: PlanForm,
    steps: BaseFormSet[StepForm],
    premedication: BaseFormSet[PremedicationForm],
) -> dict[str, Any]:
    """The order document the forms describe (all three must be valid)."""
    d = form.cleaned_data
    order: dict[str, Any] = {
        "product": d["product"],
        "dose": d["dose"].strip(),
        "days": _int_or_text(d["days"]),
        "dosing_weight": d["dosing_weight"],
        "vial_rounding": d["vial_rounding"],
    }
    if d.get("indication"):
        order["indication"] = d["indication"]
    if (d.get("start") or "").strip():
        order["start"] = d["start"].strip()
    if (d.get("prescriber") or "").strip():
        order["prescriber"] = d["prescriber"].strip()
    if d.get("setting"):
        order["setting"] = d["setting"]
    if d["titration_form"] == "rule":
        rule: dict[str, Any] = {}
        for key in ("start", "increase_by", "max"):
            if (d.get(f"rule_{key}") or "").strip():
                rule[key] = d[f"rule_{key}"].strip()
        for key in ("every_minutes", "first_step_minutes"):
            if (d.get(f"rule_{key}") or "").strip():
                rule[key] = _int_or_text(d[f"rule_{key}"])
        order["titration"] = rule
    else:
        rows = []
        for step in steps.forms:
            if step.is_blank():
                continue
            row: dict[str, Any] = {"rate": step.cleaned_data["rate"].strip()}
            if step.cleaned_data["minutes"].strip():
                row["minutes"] = _int_or_text(step.cleaned_data["minutes"])
            rows.append(row)
        order["titration"] = rows
    premeds = []
    for premed in premedication.forms:
        if premed.is_blank():
            continue
        row = {"name": premed.cleaned_data["name"].strip()}
        if premed.cleaned_data["dose"].strip():
            row["dose"] = premed.cleaned_data["dose"].strip()
        if premed.cleaned_data["minutes_before"].strip():
            row["minutes_before"] = _int_or_text(premed.cleaned_data["minutes_before"])
        if (premed.cleaned_data.get("repeat_every") or "").strip():
            row["repeat_every"] = premed.cleaned_data["repeat_every"].strip()
        if (premed.cleaned_data.get("repeat_before_step") or "").strip():
            row["repeat_before_step"] = _int_or_text(premed.cleaned_data["repeat_before_step"])
        premeds.append(row)
    if premeds:
        order["premedication"] = premeds
    if (d.get("saline_amount") or "").strip():
        saline: dict[str, Any] = {"amount": d["saline_amount"].strip()}
        if (d.get("saline_timing") or "").strip():
            saline["timing"] = d["saline_timing"].strip()
        order["saline"] = saline
    if (d.get("notes") or "").strip():
        order["notes"] = d["notes"].strip()
    return {
        "patient": patient_document(
            patient,
            first_infusion=first_infusion_value(d.get("first_infusion")),
            previous_product=d.get("previous_product") or "",
        ),
        "order": order,
    }


# --- From a stored order document back to the form ------------------------------------------------


def initial_from_document(
    document: Mapping[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Initial values for (form, step rows, premedication rows) from an order document."""
    order = document.get("order") or {}
    patient = document.get("patient") or {}
    initial: dict[str, Any] = {
        key: order.get(key, "")
        for key in (
            "product",
            "indication",
            "dose",
            "dosing_weight",
            "vial_rounding",
            "prescriber",
            "notes",
            "setting",
        )
    }
    initial["days"] = str(order.get("days", ""))
    initial["start"] = str(order.get("start", ""))
    initial["first_infusion"] = first_infusion_choice(patient.get("first_infusion"))
    initial["previous_product"] = patient.get("previous_product", "")
    titration = order.get("titration")
    steps: list[dict[str, Any]] = []
    if isinstance(titration, Mapping):
        initial["titration_form"] = "rule"
        for key in ("start", "increase_by", "every_minutes", "max", "first_step_minutes"):
            initial[f"rule_{key}"] = str(titration.get(key, ""))
    else:
        initial["titration_form"] = "steps"
        for row in titration or []:
            if isinstance(row, Mapping):
                steps.append(
                    {"rate": str(row.get("rate", "")), "minutes": str(row.get("minutes", "") or "")}
                )
    saline = order.get("saline")
    if isinstance(saline, Mapping):
        initial["saline_amount"] = saline.get("amount", "")
        initial["saline_timing"] = saline.get("timing", "")
    elif isinstance(saline, str):
        initial["saline_amount"] = saline
    premeds = [
        {
            "name": str(row.get("name", "")),
            "dose": str(row.get("dose", "") or ""),
            "minutes_before": str(row.get("minutes_before", "") or ""),
            "repeat_every": str(row.get("repeat_every", "") or ""),
            "repeat_before_step": str(row.get("repeat_before_step", "") or ""),
        }
        for row in order.get("premedication") or []
        if isinstance(row, Mapping)
    ]
    return initial, steps, premeds


def rows_from_data(
    data: Mapping[str, Any], prefix: str, keys: Sequence[str]
) -> list[dict[str, str]]:
    """The rows as typed (for re-rendering after "add a step" without showing errors)."""
    try:
        total = min(int(data.get(f"{prefix}-TOTAL_FORMS", 0)), MAX_ROWS)
    except (TypeError, ValueError):
        total = 0
    return [{key: str(data.get(f"{prefix}-{i}-{key}", "")) for key in keys} for i in range(total)]


# --- OrderError problems back onto the fields -----------------------------------------------

_FORM_FIELDS = {
    "order.product": "product",
    "order.indication": "indication",
    "order.dose": "dose",
    "order.days": "days",
    "order.dosing_weight": "dosing_weight",
    "order.vial_rounding": "vial_rounding",
    "order.start": "start",
    "order.prescriber": "prescriber",
    "order.setting": "setting",
    "order.notes": "notes",
    "order.saline": "saline_amount",
    "order.saline.amount": "saline_amount",
    "order.saline.timing": "saline_timing",
    "order.titration.start": "rule_start",
    "order.titration.increase_by": "rule_increase_by",
    "order.titration.every_minutes": "rule_every_minutes",
    "order.titration.max": "rule_max",
    "order.titration.first_step_minutes": "rule_first_step_minutes",
    "patient.first_infusion": "first_infusion",
    "patient.previous_product": "previous_product",
}
_ROW = re.compile(r"^order\.(titration|premedication)\[(\d+)\](?:\.(\w+))?$")


def problem_text(problem: Problem) -> str:
    text = f"{problem.problem[:1].upper()}{problem.problem[1:]}."
    if problem.given not in (None, ""):
        text += f" {_('Given')}: {problem.given}."
    return f"{text} {_('Accepted')}: {problem.accepted}."


def attach_problems(
    problems: Sequence[Problem],
    form: PlanForm,
    steps: BaseFormSet[StepForm],
    premedication: BaseFormSet[PremedicationForm],
) -> list[str]:
    """Put each problem next to its field. Returns those that belong to no field (shown on top)."""
    step_rows = [f for f in steps.forms if not f.is_blank()]
    premed_rows = [f for f in premedication.forms if not f.is_blank()]
    elsewhere: list[str] = []
    for problem in problems:
        text = problem_text(problem)
        name = _FORM_FIELDS.get(problem.field)
        if name is not None:
            form.add_error(name, text)
            continue
        match = _ROW.match(problem.field)
        if match:
            rows = step_rows if match.group(1) == "titration" else premed_rows
            index, key = int(match.group(2)), match.group(3)
            if index < len(rows):
                row = rows[index]
                row.add_error(key if key in row.fields else None, text)
                continue
        if problem.field == "order.titration":
            target = "rule_start" if form.cleaned_data.get("titration_form") == "rule" else None
            if target:
                form.add_error(target, text)
            else:
                elsewhere.append(_("Titration") + ": " + text)
            continue
        if problem.field.startswith("patient."):
            elsewhere.append(
                _("Patient record") + f" ({problem.field.removeprefix('patient.')}): " + text
            )
            continue
        elsewhere.append(f"{problem.field}: {text}")
    return elsewhere


# --- What the label says about the chosen product -------------------------------------------


def _rate(fact: RateFact | None, catalogue: Catalogue) -> dict[str, Any] | None:
    if fact is None:
        return None
    return {
        "printed": " = ".join(p.text for p in fact.printed),
        "ml_kg_h": fact.governing_ml_kg_h,
        "minutes": fact.minutes,
        "note": fact.note,
        "source": catalogue.cite(fact.source_ids),
    }


def product_facts(
    catalogue: Catalogue, product_id: str, indication_id: str | None
) -> dict[str, Any] | None:
    """Concentration, sugars, IgA and the label's rates for the indication, each with its source."""
    product = catalogue.products.get(product_id)
    if product is None:
        return None
    sugars = []
    for name in ("sucrose", "maltose", "sorbitol", "glucose", "proline"):
        fact = getattr(product, name)
        sugars.append(
            {"name": name, "value": fact.value, "source": catalogue.cite(fact.source_ids)}
        )
    concentrations = product.concentrations_mg_ml.value
    facts: dict[str, Any] = {
        "brand": product.brand,
        "manufacturer": product.manufacturer,
        "concentrations": [f"{c / 10:g}% ({c:g} mg/mL)" for c in concentrations or ()],
        "concentration_source": catalogue.cite(product.concentrations_mg_ml.source_ids),
        "contents": sugars,
        "iga": product.iga.value,
        "iga_source": catalogue.cite(product.iga.source_ids),
        "label": None,
    }
    label = product.indication(indication_id) if indication_id else None
    if label is not None:
        facts["label"] = {
            "population": label.population,
            "initial": _rate(label.initial_rate, catalogue),
            "step": label.step.interval_text if label.step else None,
            "step_source": catalogue.cite(label.step.source_ids) if label.step else "",
            "max": _rate(label.max_rate, catalogue),
            "note": label.rates_note,
            "source": catalogue.cite(label.source_ids),
        }
    facts["labeled_for_indication"] = label is not None
    return facts
