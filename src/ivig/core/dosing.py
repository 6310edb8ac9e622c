"""Dosing weight, course → days, vial rounding and volume.

Formulas and thresholds come from data/dosing.toml, each with its source. The order says which
method to use; nothing here chooses a method by itself. When a method cannot be applied (a child,
a short patient, a missing height), the result says so in plain words.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ivig.core import units
from ivig.core.order import DoseBasis, Order, OrderError, Patient, Problem
from ivig.core.units import Kind


@dataclass(frozen=True)
class Note:
    """Something the checks must report about dosing (turned into a finding)."""

    code: str
    params: dict[str, str]
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class DosingWeight:
    weight_kg: Decimal
    method: str  # the method applied: "actual" | "ideal" | "adjusted"
    requested: str  # what the order asked for: a method or a rule pack id
    actual_kg: Decimal
    ideal_kg: Decimal | None
    adjusted_kg: Decimal | None
    bmi_kg_m2: Decimal | None
    explanation: str
    notes: tuple[Note, ...]
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class VialUse:
    size_g: Decimal
    count: int


@dataclass(frozen=True)
class DayDose:
    day: int
    prescribed_g: Decimal  # the day's share of the prescribed dose, before rounding
    dose_g: Decimal  # what is given that day, after the requested rounding
    vials: tuple[VialUse, ...] | None  # None when the product's vial sizes are unknown
    vial_total_g: Decimal | None
    wasted_g: Decimal | None


@dataclass(frozen=True)
class Course:
    prescribed_g: Decimal  # whole course, as prescribed (before rounding)
    dose_g: Decimal  # whole course, after rounding
    days: tuple[DayDose, ...]
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class DosingData:
    raw: dict[str, Any]

    def quantity(self, section: str, key: str, kind: Kind) -> units.Quantity:
        return units.parse(self.raw[section][key], f"dosing.toml {section}.{key}", kind)

    def sources(self, section: str, key: str = "sources") -> tuple[str, ...]:
        return tuple(self.raw[section][key])


@cache
def load_dosing_data() -> DosingData:
    text = resources.files("ivig.data").joinpath("dosing.toml").read_text(encoding="utf-8")
    return DosingData(tomllib.loads(text))


def rule_pack_ids() -> tuple[str, ...]:
    return tuple(load_dosing_data().raw["rule_packs"])


def dosing_sources() -> dict[str, dict[str, str]]:
    return dict(load_dosing_data().raw["sources"])


def _missing(field: str, why: str, accepted: str) -> OrderError:
    return OrderError([Problem(field, None, accepted, why)])


def ideal_body_weight_kg(sex: str, height_cm: Decimal) -> Decimal:
    """Devine ideal body weight (adults, heights from 60 in)."""
    d = load_dosing_data()
    base = d.quantity("devine", "male_base_kg" if sex == "male" else "female_base_kg", Kind.MASS)
    per_inch = units.mass_kg(d.quantity("devine", "per_inch_over_60_kg", Kind.MASS))
    reference = units.inches(d.quantity("devine", "reference_height", Kind.LENGTH))
    return units.mass_kg(base) + per_inch * (units.cm_to_inches(height_cm) - reference)


def adjusted_body_weight_kg(ideal_kg: Decimal, actual_kg: Decimal) -> Decimal:
    factor = Decimal(load_dosing_data().raw["adjusted"]["excess_factor"])
    return ideal_kg + factor * (actual_kg - ideal_kg)


def dosing_weight(patient: Patient, requested: str, on: date | None) -> DosingWeight:
    """The weight the dose is calculated on, with the reason in plain words."""
    actual = patient.weight_kg
    data = load_dosing_data()
    if requested == "actual":
        return DosingWeight(
            weight_kg=actual,
            method="actual",
            requested=requested,
            actual_kg=actual,
            ideal_kg=None,
            adjusted_kg=None,
            bmi_kg_m2=_bmi(patient),
            explanation="The order uses the actual body weight.",
            notes=(),
            source_ids=(),
        )
    height_cm = patient.height_cm
    accepted_height = Kind.LENGTH.value
    if height_cm is None:
        raise _missing(
            "patient.height",
            f"the height is needed for the {requested!r} dosing weight",
            accepted_height,
        )
    if patient.sex is None:
        raise _missing(
            "patient.sex",
            f"sex is needed for the {requested!r} dosing weight (Devine formula)",
            "'female' or 'male'",
        )
    age = patient.age_years(on)
    if age is None:
        raise _missing(
            "patient.birth_date",
            f"the age (birth_date or age) is needed for the {requested!r} dosing weight",
            'a date "YYYY-MM-DD" (or patient.age = "N years")',
        )
    devine_ids = data.sources("devine")
    min_age = units.years(data.quantity("devine", "min_age", Kind.AGE))
    min_height = units.length_cm(data.quantity("devine", "reference_height", Kind.LENGTH))
    bmi = _bmi(patient)

    def actual_because(code: str, explanation: str, ids: tuple[str, ...]) -> DosingWeight:
        return DosingWeight(
            weight_kg=actual,
            method="actual",
            requested=requested,
            actual_kg=actual,
            ideal_kg=None,
            adjusted_kg=None,
            bmi_kg_m2=bmi,
            explanation=explanation,
            notes=(Note(code, {"explanation": explanation}, ids),),
            source_ids=ids,
        )

    if requested in ("ideal", "adjusted") and (age < min_age or height_cm < min_height):
        explanation = (
            "The Devine ideal-body-weight formula is for adults at least "
            f"{_fmt(min_height)} cm tall; this patient is "
            f"{_fmt_age(age)} old and {_fmt(height_cm)} cm tall, so the dose uses the actual "
            "weight. If the prescriber meant a children's formula, write the dosing weight "
            "they chose as the patient's weight and say so in the notes."
        )
        return actual_because("dosing_weight_formula_not_applicable", explanation, devine_ids)

    ideal = ideal_body_weight_kg(patient.sex, height_cm)
    adjusted = adjusted_body_weight_kg(ideal, actual)
    if requested in ("ideal", "adjusted") and actual < ideal:
        ids = data.sources("ideal_not_above_actual")
        explanation = (
            f"The actual weight ({_fmt(actual)} kg) is below the ideal weight "
            f"({_fmt(ideal)} kg), so the dose uses the actual weight."
        )
        return actual_because("dosing_weight_actual_below_ideal", explanation, ids)
    if requested == "ideal":
        return DosingWeight(
            weight_kg=ideal,
            method="ideal",
            requested=requested,
            actual_kg=actual,
            ideal_kg=ideal,
            adjusted_kg=adjusted,
            bmi_kg_m2=bmi,
            explanation=f"Ideal body weight (Devine) {_fmt(ideal)} kg.",
            notes=(),
            source_ids=devine_ids,
        )
    if requested == "adjusted":
        return _adjusted(patient, requested, actual, ideal, adjusted, bmi, data.sources("adjusted"))
    pack = data.raw["rule_packs"][requested]
    pack_ids = tuple(pack["sources"])
    if requested == "bloodstar":
        reasons = []
        min_pack_age = units.parse(pack["excluded_under_age"], "dosing.toml", Kind.AGE)
        min_pack_height = units.parse(pack["excluded_below_height"], "dosing.toml", Kind.LENGTH)
        if age < units.years(min_pack_age):
            reasons.append(f"the patient is under {min_pack_age}")
        if height_cm < units.length_cm(min_pack_height):
            reasons.append(f"the height is under {min_pack_height}")
        if pack["excluded_pregnancy"] and "pregnancy" in patient.conditions:
            reasons.append("the patient is pregnant")
        if pack["excluded_when_actual_below_adjusted"] and actual < adjusted:
            reasons.append("the actual weight is below the adjusted weight")
        if reasons:
            explanation = (
                f"{pack['name']}: no adjustment because "
                + "; ".join(reasons)
                + f". The dose uses the actual weight ({_fmt(actual)} kg)."
            )
            return actual_because("dosing_weight_rule_pack_actual", explanation, pack_ids)
        return _adjusted(patient, requested, actual, ideal, adjusted, bmi, pack_ids, pack["name"])
    # Ontario
    notes: list[Note] = []
    if "pregnancy" in patient.conditions:
        notes.append(Note("dosing_weight_pregnancy", {"advice": pack["pregnancy"]}, pack_ids))
    bmi_limit = units.kg_m2(units.parse(pack["bmi_mandatory_above"], "dosing.toml", Kind.BMI))
    min_h = units.length_cm(units.parse(pack["min_height"], "dosing.toml", Kind.LENGTH))
    weight_limit = units.mass_kg(
        units.parse(
            pack["male_weight_above" if patient.sex == "male" else "female_weight_above"],
            "dosing.toml",
            Kind.MASS,
        )
    )
    assert bmi is not None
    child_age = units.years(units.parse(pack["children_under_age"], "dosing.toml", Kind.AGE))
    meets_height_weight = height_cm >= min_h and actual > weight_limit
    if age < child_age and not meets_height_weight:
        explanation = (
            f"{pack['name']}: children under {_fmt_age(child_age)} who do not meet the height "
            f"and weight criteria are dosed on the actual weight ({_fmt(actual)} kg)."
        )
        result = actual_because("dosing_weight_rule_pack_actual", explanation, pack_ids)
        return replace(result, notes=result.notes + tuple(notes))
    if actual < ideal:
        ids = data.sources("ideal_not_above_actual")
        explanation = (
            f"{pack['name']}: the actual weight ({_fmt(actual)} kg) is below the ideal weight "
            f"({_fmt(ideal)} kg), so the dose uses the actual weight (never more than the "
            "patient weighs)."
        )
        result = actual_because("dosing_weight_actual_below_ideal", explanation, pack_ids + ids)
        return replace(result, notes=result.notes + tuple(notes))
    if bmi > bmi_limit or meets_height_weight:
        why = (
            f"BMI {_fmt(bmi)} kg/m² is above {_fmt(bmi_limit)}"
            if bmi > bmi_limit
            else f"height ≥ {_fmt(min_h)} cm and weight above {_fmt(weight_limit)} kg"
        )
        if ideal <= 0:
            # Devine is written for heights from 60 in; far below that it gives no weight at all,
            # and an adjusted weight built on it would be meaningless (even negative).
            explanation = (
                f"{pack['name']}: {why}, but the Devine ideal-body-weight formula gives no "
                f"positive weight at {_fmt(height_cm)} cm (it is written for heights from "
                f"{_fmt(min_height)} cm), so the dose uses the actual weight ({_fmt(actual)} kg)."
            )
            result = actual_because(
                "dosing_weight_formula_not_applicable", explanation, pack_ids + devine_ids
            )
            return replace(result, notes=result.notes + tuple(notes))
        result = _adjusted(patient, requested, actual, ideal, adjusted, bmi, pack_ids, pack["name"])
        return replace(
            result, explanation=f"{pack['name']}: {why}. " + result.explanation, notes=tuple(notes)
        )
    explanation = (
        f"{pack['name']}: the criteria for adjustment are not met, so the dose uses the actual "
        f"weight ({_fmt(actual)} kg)."
    )
    result = actual_because("dosing_weight_rule_pack_actual", explanation, pack_ids)
    return replace(result, notes=result.notes + tuple(notes))


def _adjusted(
    patient: Patient,
    requested: str,
    actual: Decimal,
    ideal: Decimal,
    adjusted: Decimal,
    bmi: Decimal | None,
    ids: tuple[str, ...],
    pack_name: str | None = None,
) -> DosingWeight:
    factor = load_dosing_data().raw["adjusted"]["excess_factor"]
    explanation = (
        f"Adjusted body weight = ideal {_fmt(ideal)} kg + {factor} × (actual {_fmt(actual)} kg − "
        f"ideal {_fmt(ideal)} kg) = {_fmt(adjusted)} kg."
    )
    return DosingWeight(
        weight_kg=adjusted,
        method="adjusted",
        requested=requested,
        actual_kg=actual,
        ideal_kg=ideal,
        adjusted_kg=adjusted,
        bmi_kg_m2=bmi,
        explanation=explanation,
        notes=(),
        source_ids=ids,
    )


def _bmi(patient: Patient) -> Decimal | None:
    if patient.height_cm is None:
        return None
    return units.bmi_kg_m2(patient.weight_kg, patient.height_cm)


def _fmt(value: Decimal) -> str:
    return f"{units.round_half_up(value, 1):f}"


def _fmt_age(age_years: Decimal) -> str:
    if age_years < 2:
        return f"{units.round_half_up(units.months_from_years(age_years), 0):f} months"
    return f"{int(age_years)} years"


# --- Course → days and vials ---------------------------------------------------------------------


def course(
    order: Order,
    dosing_weight_kg: Decimal,
    vial_sizes_g: tuple[Decimal, ...] | None,
) -> Course:
    """Split the prescribed dose into days and apply the requested vial rounding to each day."""
    basis = order.dose_basis
    if basis is DoseBasis.PER_KG_COURSE:
        total = units.grams_per_kg(order.dose) * dosing_weight_kg
    elif basis is DoseBasis.PER_KG_DAY:
        total = units.grams_per_kg_per_day(order.dose) * dosing_weight_kg * order.days
    elif basis is DoseBasis.FIXED_COURSE:
        total = units.grams(order.dose)
    else:
        total = units.grams_per_day(order.dose) * order.days
    per_day = total / order.days
    notes: list[Note] = []
    days = []
    for day in range(1, order.days + 1):
        dose, vials, note = _round_day(per_day, order.vial_rounding, vial_sizes_g)
        if note is not None and day == 1:
            notes.append(note)
        if vials is None:
            days.append(DayDose(day, per_day, dose, None, None, None))
        else:
            vial_total = sum((v.size_g * v.count for v in vials), Decimal(0))
            days.append(DayDose(day, per_day, dose, vials, vial_total, vial_total - dose))
    return Course(
        prescribed_g=total,
        dose_g=sum((d.dose_g for d in days), Decimal(0)),
        days=tuple(days),
        notes=tuple(notes),
    )


_TENTH = Decimal("0.1")


def _round_day(
    dose_g: Decimal, rounding: str, vial_sizes_g: tuple[Decimal, ...] | None
) -> tuple[Decimal, tuple[VialUse, ...] | None, Note | None]:
    data = load_dosing_data()
    if rounding == "nearest_5_g":
        step = units.grams(
            units.parse(data.raw["vial_rounding"]["nearest_step"], "dosing.toml", Kind.DOSE_FIXED)
        )
        ids = tuple(data.raw["vial_rounding"]["sources"])
        lower = (dose_g / step).to_integral_value(rounding="ROUND_FLOOR") * step
        upper = lower + step
        rounded = lower if dose_g - lower <= upper - dose_g else upper
        if rounded <= 0:
            note = Note("vial_rounding_to_zero", {"step": f"{step:f} g"}, ids)
            return dose_g, _cover(dose_g, vial_sizes_g), note
        return rounded, _cover(rounded, vial_sizes_g), None
    if rounding == "whole_vial":
        ids = tuple(data.raw["vial_rounding"]["whole_vial_sources"])
        if not vial_sizes_g:
            return dose_g, None, Note("vial_sizes_unknown", {}, ids)
        total, vials = _nearest_vial_total(dose_g, vial_sizes_g)
        if total <= 0:
            return dose_g, _cover(dose_g, vial_sizes_g), Note("vial_rounding_to_zero", {}, ids)
        return total, vials, None
    return dose_g, _cover(dose_g, vial_sizes_g), None


def _units_of(value: Decimal) -> int:
    return int((value / _TENTH).to_integral_value(rounding="ROUND_CEILING"))


_COMBINATIONS: dict[tuple[int, ...], list[tuple[int, ...] | None]] = {}


def _best_combinations(limit: int, sizes: tuple[int, ...]) -> list[tuple[int, ...] | None]:
    """For every total 0..limit (in 0.1 g), the combination with the fewest vials, or None.

    The table for a set of vial sizes is kept and extended as larger totals are asked for."""
    best = _COMBINATIONS.setdefault(sizes, [tuple(0 for _ in sizes)])
    for total in range(len(best), limit + 1):
        choice: tuple[int, ...] | None = None
        for i, size in enumerate(sizes):
            prev = total - size
            previous = best[prev] if prev >= 0 else None
            if previous is None:
                continue
            candidate = list(previous)
            candidate[i] += 1
            if choice is None or sum(candidate) < sum(choice):
                choice = tuple(candidate)
        best.append(choice)
    return best


def _to_vials(combo: tuple[int, ...], sizes_g: tuple[Decimal, ...]) -> tuple[VialUse, ...]:
    return tuple(
        VialUse(size, count)
        for size, count in sorted(zip(sizes_g, combo, strict=True), key=lambda p: -p[0])
        if count
    )


def _cover(dose_g: Decimal, vial_sizes_g: tuple[Decimal, ...] | None) -> tuple[VialUse, ...] | None:
    """Fewest grams wasted (then fewest vials) to cover the dose with whole vials."""
    if not vial_sizes_g:
        return None
    sizes_g = tuple(sorted(vial_sizes_g))
    sizes = tuple(_units_of(s) for s in sizes_g)
    need = _units_of(dose_g)
    limit = need + max(sizes)
    best = _best_combinations(limit, sizes)
    for total in range(need, limit + 1):
        combo = best[total]
        if combo is not None:
            return _to_vials(combo, sizes_g)
    return None  # pragma: no cover - the largest vial always covers the gap


def _nearest_vial_total(
    dose_g: Decimal, vial_sizes_g: tuple[Decimal, ...]
) -> tuple[Decimal, tuple[VialUse, ...]]:
    """The vial total nearest the dose (ties go to the smaller total)."""
    sizes_g = tuple(sorted(vial_sizes_g))
    sizes = tuple(_units_of(s) for s in sizes_g)
    target = dose_g / _TENTH
    limit = _units_of(dose_g) + max(sizes)
    best = _best_combinations(limit, sizes)
    options = [t for t in range(1, limit + 1) if best[t] is not None]
    chosen = min(options, key=lambda t: (abs(Decimal(t) - target), t))
    combo = best[chosen]
    assert combo is not None
    return Decimal(chosen) * _TENTH, _to_vials(combo, sizes_g)


def volume_ml(dose_g: Decimal, concentration_mg_ml: Decimal) -> Decimal:
    return units.ml_from_grams(dose_g, concentration_mg_ml)
