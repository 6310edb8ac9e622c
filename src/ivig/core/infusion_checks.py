"""Checks made while an infusion runs and in the days after, against an approved plan.

Everything here works on the *approved snapshot* of a plan (the ``ivig-plan/1`` document made by
:func:`ivig.render.plan_json.plan_to_dict`), because that is exactly what the prescriber saw and
approved; label figures missing from the snapshot come from the catalogue, the first-infusion
advice from ``rules.toml``, the check-in tiers from ``triage.toml`` and the hydration wording from
``hydration.toml``. Pure: no Django, no database, no network.

- :func:`check_rate` - a new pump rate typed as text ("2 mL/kg/h", "40 mL/h"): the planned step
  at that moment, and warnings when the rate is above the plan, above the first-infusion advice or
  above the label maximum (each with its source). Any warning means a reason is required.
- :func:`parse_vitals` - vitals with explicit units; every bad field named.
- :func:`checkin_tiers` / :func:`checkin_schedule` - the risk-aware check-ins after the last day.
- :func:`delivered_ml` / :func:`planned_cumulative_ml` - actual vs planned volume.
- :func:`hydration_windows` - hydration wording and hours, with the source.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from ivig.core import units
from ivig.core.catalogue import load_catalogue
from ivig.core.checks import fmt, rule_citation, rules
from ivig.core.timeline import tier_age_over_years, timeline_data
from ivig.core.triage import VitalSigns, load_triage_data
from ivig.core.triage.vitals import entry_guard
from ivig.core.units import Kind, QuantityError

# A pump is programmed to 0.1 mL/h: a new rate within half of that of the plan is "the plan".
PUMP_TOLERANCE_ML_H = Decimal("0.05")
RATE_TOLERANCE_ML_KG_H = Decimal("0.0005")


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


# --- Snapshot access ---------------------------------------------------------------------------


def is_plan_snapshot(snapshot: object) -> bool:
    """True when an approval's snapshot is a computed plan (it has days with steps)."""
    return (
        isinstance(snapshot, Mapping)
        and isinstance(snapshot.get("days"), list)
        and bool(snapshot["days"])
        and isinstance(snapshot.get("patient"), Mapping)
    )


def plan_day(snapshot: Mapping[str, Any], day: int) -> Mapping[str, Any] | None:
    for entry in snapshot.get("days", []):
        if entry.get("day") == day:
            return dict(entry)
    return None


def day_numbers(snapshot: Mapping[str, Any]) -> list[int]:
    return [int(entry["day"]) for entry in snapshot.get("days", [])]


@dataclass(frozen=True)
class PlannedStep:
    step: int
    start_min: Decimal
    end_min: Decimal
    rate_ml_kg_h: Decimal
    rate_ml_h: Decimal
    cumulative_ml: Decimal


def planned_steps(snapshot: Mapping[str, Any], day: int) -> list[PlannedStep]:
    entry = plan_day(snapshot, day)
    if entry is None:
        return []
    steps = []
    for s in entry.get("steps", []):
        steps.append(
            PlannedStep(
                step=int(s["step"]),
                start_min=_dec(s["start_min"]) or Decimal(0),
                end_min=_dec(s["end_min"]) or Decimal(0),
                rate_ml_kg_h=_dec(s["rate_ml_kg_h"]) or Decimal(0),
                rate_ml_h=_dec(s["rate_ml_h"]) or Decimal(0),
                cumulative_ml=_dec(s["cumulative_ml"]) or Decimal(0),
            )
        )
    return steps


def planned_step_at(snapshot: Mapping[str, Any], day: int, minute: Decimal) -> PlannedStep | None:
    """The step the plan runs at ``minute`` after the start (the last step after the end)."""
    steps = planned_steps(snapshot, day)
    if not steps:
        return None
    for step in steps:
        if step.start_min <= minute < step.end_min:
            return step
    return steps[-1] if minute >= steps[-1].end_min else steps[0]


def planned_cumulative_ml(snapshot: Mapping[str, Any], day: int, minute: Decimal) -> Decimal:
    """Volume the plan has delivered ``minute`` minutes after the start."""
    total = Decimal(0)
    for step in planned_steps(snapshot, day):
        if minute <= step.start_min:
            break
        end = min(minute, step.end_min)
        total += step.rate_ml_h * (end - step.start_min) / 60
    return total


def delivered_ml(changes: Sequence[tuple[Decimal, Decimal]], until_min: Decimal) -> Decimal:
    """Volume given by a pump from ``(minute, pump mL/h)`` changes (0 = paused) up to a minute."""
    total = Decimal(0)
    ordered = sorted(changes)
    for index, (start, rate) in enumerate(ordered):
        if start >= until_min:
            break
        end = ordered[index + 1][0] if index + 1 < len(ordered) else until_min
        total += rate * (min(end, until_min) - start) / 60
    return total


def delivered_ml_at(
    changes: Sequence[tuple[Decimal, Decimal]], minutes: Sequence[Decimal]
) -> list[Decimal]:
    """``delivered_ml(changes, m)`` for every minute ``m``, in one pass over the changes
    (the same sums in the same order, so the same Decimals) instead of one pass per minute."""
    ordered = sorted(changes)
    starts = [start for start, _rate in ordered]
    before: list[Decimal] = []  # volume up to each change's start
    total = Decimal(0)
    for index, (start, rate) in enumerate(ordered):
        before.append(total)
        if index + 1 < len(ordered):
            total += rate * (ordered[index + 1][0] - start) / 60
    result = []
    for minute in minutes:
        count = bisect_left(starts, minute)  # changes that started before this minute
        if count == 0:
            result.append(Decimal(0))
            continue
        start, rate = ordered[count - 1]
        result.append(before[count - 1] + rate * (minute - start) / 60)
    return result


# --- Rate check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateWarning:
    code: str  # above_plan | above_first_infusion_advice | above_label_max | not_checkable
    message_en: str
    message_es: str
    source: str

    def message(self, language: str = "en") -> str:
        return self.message_es if language.startswith("es") else self.message_en


@dataclass(frozen=True)
class RateCheck:
    rate_text: str
    rate_ml_kg_h: Decimal  # conservative: the higher of per dosing weight and per actual weight
    pump_rate_ml_h: Decimal
    planned: PlannedStep | None
    warnings: tuple[RateWarning, ...]

    @property
    def reason_required(self) -> bool:
        return bool(self.warnings)

    def codes(self) -> list[str]:
        return [w.code for w in self.warnings]


def _first_infusion_limit() -> tuple[Decimal, str]:
    section = rules()["first_infusion"]
    quantity = units.parse(section["max_rate"], "rules.toml first_infusion.max_rate", Kind.RATE)
    limit = units.rate_to_ml_kg_h(quantity, None, None)
    assert limit is not None
    return limit, rule_citation("first_infusion")


def label_max_rate(snapshot: Mapping[str, Any]) -> tuple[Decimal | None, str, str]:
    """(maximum mL/kg/h, printed words, source): the approved label row, else the strictest row
    of the product in the catalogue. ``None`` when no label maximum is known."""
    product = snapshot.get("product") or {}
    label = product.get("label") or {}
    catalogue = load_catalogue()
    catalogue_product = catalogue.products.get(product.get("id", ""))
    indication = (snapshot.get("course") or {}).get("indication")
    facts = []
    if catalogue_product is not None:
        facts = [
            row.max_rate
            for row in catalogue_product.indications
            if row.max_rate is not None and (not label or row.indication == indication)
        ]
    approved = (label.get("max_rate") or {}) if label else {}
    approved_rate = _dec(approved.get("rate_ml_kg_h"))
    if approved_rate is not None:
        source = catalogue.cite(facts[0].source_ids) if facts else "approved plan snapshot"
        return approved_rate, ", ".join(approved.get("printed", [])), source
    if facts:
        strictest = min(facts, key=lambda f: f.governing_ml_kg_h)
        words = ", ".join(p.text for p in strictest.printed)
        return strictest.governing_ml_kg_h, words, catalogue.cite(strictest.source_ids)
    return None, "", ""


def _first_or_switch(snapshot: Mapping[str, Any]) -> bool | None:
    patient = snapshot.get("patient") or {}
    previous = patient.get("previous_product")
    if previous and previous != (snapshot.get("product") or {}).get("id"):
        return True
    first = patient.get("first_infusion")
    return None if first is None else bool(first)


def check_rate(
    snapshot: Mapping[str, Any], day: int, minute: Decimal, rate_text: str, field: str = "rate"
) -> RateCheck:
    """Check a new rate against the approved plan. Raises QuantityError on bad input."""
    quantity = units.parse(rate_text, field, Kind.RATE)
    patient = snapshot.get("patient") or {}
    product = snapshot.get("product") or {}
    actual_kg = _dec(patient.get("weight_kg"))
    dosing_kg = _dec(patient.get("dosing_weight_kg")) or actual_kg
    concentration = _dec(product.get("concentration_mg_ml"))
    if not actual_kg or not dosing_kg:
        raise QuantityError(field, rate_text, "a plan with a weight", "the plan has no weight")
    kind = units.rate_kind(quantity)
    if kind is units.RateKind.ML_H:
        pump = quantity.to("mL/h")
        nominal = pump / dosing_kg
    else:
        converted = units.rate_to_ml_kg_h(quantity, concentration, dosing_kg)
        if converted is None:
            raise QuantityError(
                field, rate_text, "mL/kg/h or mL/h", "the plan does not give the concentration"
            )
        nominal = converted
        # The pump is programmed as the plan programs it: rounded DOWN to 0.1 mL/h
        # (units.pump_rate_ml_h), so a rate typed exactly as prescribed reads as the plan's.
        pump = units.pump_rate_ml_h(nominal * dosing_kg)
    effective = max(nominal, pump / actual_kg)
    planned = planned_step_at(snapshot, day, minute)
    warnings: list[RateWarning] = []
    # A rate per kg is compared with the prescribed rate per kg; a pump rate with the pump rate
    # (the plan's pump rates are rounded down to 0.1 mL/h, so per kg would look "above").
    above_plan = planned is not None and (
        pump > planned.rate_ml_h + PUMP_TOLERANCE_ML_H
        if kind is units.RateKind.ML_H
        else nominal > planned.rate_ml_kg_h + RATE_TOLERANCE_ML_KG_H
    )
    if planned is not None and above_plan:
        warnings.append(
            RateWarning(
                "above_plan",
                f"{fmt(pump, 1)} mL/h is above the approved plan for this moment: step "
                f"{planned.step}, {fmt(planned.rate_ml_h, 1)} mL/h "
                f"({fmt(planned.rate_ml_kg_h, 3)} mL/kg/h).",
                f"{fmt(pump, 1)} mL/h supera el plan aprobado para este momento: paso "
                f"{planned.step}, {fmt(planned.rate_ml_h, 1)} mL/h "
                f"({fmt(planned.rate_ml_kg_h, 3)} mL/kg/h).",
                "approved plan",
            )
        )
    first = _first_or_switch(snapshot)
    limit, cite = _first_infusion_limit()
    if first is not False and effective > limit + RATE_TOLERANCE_ML_KG_H:
        why_en = "first infusion or product switch" if first else "first infusion not known"
        why_es = "primera infusión o cambio de producto" if first else "no se sabe si es la primera"
        warnings.append(
            RateWarning(
                "above_first_infusion_advice",
                f"{fmt(effective, 3)} mL/kg/h is above the advice of at most {fmt(limit)} "
                f"mL/kg/h for a first infusion ({why_en}).",
                f"{fmt(effective, 3)} mL/kg/h supera el consejo de no pasar de {fmt(limit)} "
                f"mL/kg/h en una primera infusión ({why_es}).",
                cite,
            )
        )
    maximum, printed, source = label_max_rate(snapshot)
    if maximum is not None and effective > maximum + RATE_TOLERANCE_ML_KG_H:
        brand = product.get("brand", "")
        warnings.append(
            RateWarning(
                "above_label_max",
                f"{fmt(effective, 3)} mL/kg/h is above the {brand} label maximum "
                f"({printed or fmt(maximum, 3) + ' mL/kg/h'}).",
                f"{fmt(effective, 3)} mL/kg/h supera el máximo de la ficha técnica de {brand} "
                f"({printed or fmt(maximum, 3) + ' mL/kg/h'}).",
                source,
            )
        )
    return RateCheck(quantity.text, effective, pump, planned, tuple(warnings))


# --- Vitals ------------------------------------------------------------------------------------

VITAL_FIELDS = ("temperature", "heart_rate", "blood_pressure", "spo2", "breathing_rate")
_PER_MIN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*min|bpm|per\s+min(?:ute)?)?\s*$", re.I)
_BP = re.compile(r"^\s*(\d{2,3})\s*/\s*(\d{2,3})\s*(?:mm\s*hg)?\s*$", re.I)
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")


@dataclass(frozen=True)
class Vitals:
    values: dict[str, str]  # normalised text with units, e.g. {"temperature": "100.4 °F"}
    temperature_c: Decimal | None
    errors: dict[str, str]
    # The readings as numbers, ready for ivig.core.triage.triage_vitals (only the valid ones).
    signs: VitalSigns = field(default_factory=VitalSigns)


def _whole(pattern: re.Pattern[str], text: str) -> Decimal | None:
    match = pattern.match(text)
    return Decimal(match.group(1)) if match else None


def parse_vitals(raw: Mapping[str, str]) -> Vitals:
    """Vitals typed as text; empty fields are skipped, every bad field is named."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    temperature_c: Decimal | None = None
    text = {k: (raw.get(k) or "").strip() for k in VITAL_FIELDS}
    if text["temperature"]:
        try:
            quantity = units.parse(text["temperature"], "temperature", Kind.TEMPERATURE)
            celsius = units.temperature_c(quantity)
            bounds = load_triage_data()  # the same plausibility bounds triage uses
            if not bounds.temperature_lowest_c <= celsius <= bounds.temperature_highest_c:
                errors["temperature"] = "not a plausible body temperature (is the unit right?)"
            else:
                temperature_c = celsius
                values["temperature"] = f"{quantity.text} (= {fmt(celsius, 1)} °C)"
        except QuantityError as exc:
            errors["temperature"] = f"{exc.problem}. Accepted: {exc.accepted}"
    # Entry-error guards (design choice) come from vitals.toml, not from here.
    heart_rate = breathing_rate = systolic = diastolic = spo2 = None
    if text["heart_rate"]:
        low, high = _guard("heart_rate")
        number = _whole(_PER_MIN, text["heart_rate"])
        if number is None or not low <= number <= high:
            errors["heart_rate"] = (
                f"a heart rate per minute between {fmt(low, 0)} and {fmt(high, 0)}, e.g. 110 /min"
            )
        else:
            heart_rate = number
            values["heart_rate"] = f"{fmt(number, 0)} /min"
    if text["breathing_rate"]:
        low, high = _guard("breathing_rate")
        number = _whole(_PER_MIN, text["breathing_rate"])
        if number is None or not low <= number <= high:
            errors["breathing_rate"] = (
                f"breaths per minute between {fmt(low, 0)} and {fmt(high, 0)}, e.g. 22 /min"
            )
        else:
            breathing_rate = number
            values["breathing_rate"] = f"{fmt(number, 0)} /min"
    if text["blood_pressure"]:
        low, _ = _guard("diastolic")
        match = _BP.match(text["blood_pressure"])
        if not match or not int(match.group(1)) > int(match.group(2)) >= low:
            errors["blood_pressure"] = "systolic/diastolic in mmHg, e.g. 105/65 mmHg"
        else:
            systolic, diastolic = Decimal(match.group(1)), Decimal(match.group(2))
            values["blood_pressure"] = f"{match.group(1)}/{match.group(2)} mmHg"
    if text["spo2"]:
        low, high = _guard("spo2")
        number = _whole(_PERCENT, text["spo2"])
        if number is None or not low <= number <= high:
            errors["spo2"] = (
                f"oxygen saturation in % between {fmt(low, 0)} and {fmt(high, 0)}, e.g. 98 %"
            )
        else:
            spo2 = number
            values["spo2"] = f"{fmt(number, 0)} %"
    if not values and not errors:
        errors["__all__"] = "enter at least one reading"
    signs = VitalSigns(
        temperature_c=temperature_c,
        heart_rate_per_min=heart_rate,
        breathing_rate_per_min=breathing_rate,
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        spo2_percent=spo2,
    )
    return Vitals(values, temperature_c, errors, signs)


def _guard(measure: str) -> tuple[Decimal, Decimal]:
    guard = entry_guard(measure)
    return (guard.lowest or Decimal(0), guard.highest or Decimal("Infinity"))


# --- Check-ins after the infusion ----------------------------------------------------------------

# A check-in window wider than this is a run of daily prompts, not one check-in: not scheduled.
_LONGEST_WINDOW_H = Decimal(72)


@dataclass(frozen=True)
class PlannedCheckIn:
    hours: Decimal  # after the end of the infusion
    label: str
    focus_en: str
    focus_es: str
    tiers: tuple[str, ...]


def checkin_tiers(snapshot: Mapping[str, Any], conditions: Iterable[str] = ()) -> tuple[str, ...]:
    """The check-in tiers that apply (``standard`` always), from the approved plan and the
    patient's conditions. A missing fact counts as the risky value (as in triage)."""
    data = load_triage_data()
    patient = snapshot.get("patient") or {}
    course = snapshot.get("course") or {}
    product = snapshot.get("product") or {}
    present = set(conditions) | set(patient.get("conditions") or [])
    age = _dec(patient.get("age_years"))
    course_g_kg = _dec(course.get("dose_g_per_kg"))
    days = int(course.get("days") or 1)
    facts: set[str] = set()
    first = _first_or_switch(snapshot)
    if first is not False:
        facts.add("first_infusion")
    elevated = timeline_data()["checkins"]["elevated"]
    day_limit = units.grams_per_kg_per_day(
        units.parse(elevated["day_dose_at_least"], "timeline.toml", Kind.DOSE_PER_KG_PER_DAY)
    )
    course_limit = units.grams_per_kg(
        units.parse(elevated["course_dose_at_least"], "timeline.toml", Kind.DOSE_PER_KG)
    )
    hemolysis = rules()["hemolysis"]
    hemolysis_limit = units.grams_per_kg(
        units.parse(hemolysis["course_dose_at_least"], "rules.toml", Kind.DOSE_PER_KG)
    )
    if course_g_kg is None or course_g_kg >= course_limit or course_g_kg / days >= day_limit:
        facts.update({"dose_1_g_kg_day_or_2_g_kg_course", "high_daily_dose"})
    if course_g_kg is None or course_g_kg >= hemolysis_limit:
        facts.add("course_dose_2_g_kg_or_more")
    group = patient.get("blood_group")
    if group in hemolysis["blood_groups"] or group in (None, "", "unknown"):
        facts.add("non_o_blood_group")
    if (product.get("contents") or {}).get("sucrose") is not False:
        facts.add("sucrose_containing_product")
    chosen = ["standard"]
    for name, tier in data.checkin_tiers.items():
        if name == "standard" or not tier.checkins:
            continue
        extra = tier.extra
        tier_facts = set(extra.get("criteria_facts", []))
        hit = bool(present & set(extra.get("criteria_conditions", [])))
        hit = hit or course.get("indication") in set(extra.get("criteria_indications", []))
        over = tier_age_over_years(extra)
        if over is not None and age is not None:
            hit = hit or age > over
        if name == "haemolysis":
            hit = {"non_o_blood_group", "course_dose_2_g_kg_or_more"} <= facts
        else:
            hit = hit or bool(tier_facts & facts)
        if hit:
            chosen.append(name)
    return tuple(chosen)


def checkin_schedule(tiers: Iterable[str]) -> tuple[PlannedCheckIn, ...]:
    """One check-in per due hour (the end of each window) over the union of the tiers; a
    72-hour check-in always. Windows wider than 72 h (daily prompts) are not single check-ins."""
    data = load_triage_data()
    by_hour: dict[Decimal, list[tuple[str, Any]]] = {}
    for name in tiers:
        for item in data.checkin_tiers[name].checkins:
            if item.to_h - item.from_h > _LONGEST_WINDOW_H:
                continue
            by_hour.setdefault(item.to_h, []).append((name, item))
    out = []
    for hours in sorted(by_hour):
        items = by_hour[hours]
        first = items[0][1]
        focus_en = "; ".join(dict.fromkeys(i.focus_en for _n, i in items))
        focus_es = "; ".join(dict.fromkeys(i.focus_es for _n, i in items))
        names = tuple(dict.fromkeys(n for n, _i in items))
        out.append(PlannedCheckIn(hours, first.label, focus_en, focus_es, names))
    if not any(c.hours == 72 for c in out):  # pragma: no cover - the standard tier has it
        out.append(PlannedCheckIn(Decimal(72), "+72 h", "Anything new", "Algo nuevo", ()))
        out.sort(key=lambda c: c.hours)
    return tuple(out)


# Plain-words symptoms for the short after-infusion questionnaire (triage vocabulary).
CHECKIN_SYMPTOMS = (
    "fever",
    "mild_headache",
    "headache_not_settling",
    "stiff_neck",
    "light_sensitivity_or_eye_pain",
    "vomiting_persistent",
    "rash_other",
    "hives_or_welts",
    "dark_or_red_urine",
    "less_urine",
    "one_limb_pain_swelling",
    "difficulty_breathing",
    "chest_pain",
    "tired",
    "aches",
)


def symptom_words(names: Iterable[str], language: str = "en") -> list[tuple[str, str]]:
    symptoms = load_triage_data().symptoms
    spanish = language.startswith("es")
    return [
        (name, symptoms[name].es if spanish else symptoms[name].en)
        for name in names
        if name in symptoms
    ]


# --- Hydration ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HydrationWindow:
    name: str  # before | during | after
    from_h: Decimal  # relative to the start (before) or the end (after) of the infusion
    to_h: Decimal
    en: str
    es: str
    source: str


@cache
def _hydration_data() -> Mapping[str, Any]:
    text = resources.files("ivig.data").joinpath("hydration.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def hydration_windows() -> tuple[HydrationWindow, ...]:
    data = _hydration_data()
    sources = data["sources"]
    out = []
    for name in ("before", "during", "after"):
        w = data["windows"][name]
        s = sources[w["source"]]
        out.append(
            HydrationWindow(
                name,
                Decimal(str(w["from_h"])),
                Decimal(str(w["to_h"])),
                w["en"],
                w["es"],
                f"{s['document']}, {s['revision']}, {s['section']}",
            )
        )
    return tuple(out)


def hydration_volume_ml(text: str, field: str = "volume") -> Decimal:
    """A drink's volume typed with its unit ("250 mL", "1 L"); raises QuantityError."""
    quantity = units.parse(text, field, Kind.VOLUME)
    volume = units.ml(quantity)
    if volume <= 0 or volume > 5000:
        raise QuantityError(field, text, Kind.VOLUME.value, "must be more than 0 and at most 5 L")
    return volume
