"""Plan vs plan → differences: the prescription (the reference) vs the plan compared with it
(typically the nurse's pump program).

The direction is fixed: ``compare(prescription, compared)``. Every adapter (the CLI's
``ivig compare PRESCRIPTION PUMP_PLAN``, the web comparison page whichever page opens it) passes
the prescription first, so "faster" always means faster than prescribed.

Both plans are computed by the same engine, then compared on what the pump actually does:
pump mL/h at every moment of day 1 (a compared step above the prescription's rate at the same
minute is an error), step lengths, the maximum, the dosing weight, the dose and the total time,
and the wrong-field slip (a per-kg rate programmed as mL/h). A difference that comes only from
rounding below the pump's precision (0.1 mL/h, on the exact rates) or only from converting the
weight between pounds and kilograms (one plan's weight is the other's, converted and rounded as
written) is a note, not an error.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

from ivig.core import units
from ivig.core.checks import fmt, fmt_rate, rules
from ivig.core.findings import Finding, make, sort_key
from ivig.core.plan_model import Plan
from ivig.core.titration import ScheduleStep

SOURCE = "Comparison of the two plans (computed by the same engine)"


@dataclass(frozen=True)
class StepPair:
    number: int
    first: ScheduleStep | None
    second: ScheduleStep | None

    @property
    def diff_ml_kg_h(self) -> Decimal | None:
        if self.first is None or self.second is None:
            return None
        return self.second.rate_ml_kg_h - self.first.rate_ml_kg_h

    @property
    def diff_ml_h(self) -> Decimal | None:
        if self.first is None or self.second is None:
            return None
        return self.second.pump_rate_ml_h - self.first.pump_rate_ml_h

    @property
    def diff_minutes(self) -> Decimal | None:
        if self.first is None or self.second is None:
            return None
        return (self.second.end_min - self.second.start_min) - (
            self.first.end_min - self.first.start_min
        )


@dataclass(frozen=True)
class Comparison:
    first: Plan  # the prescription: the reference
    second: Plan  # the plan compared with it
    pairs: tuple[StepPair, ...]
    findings: tuple[Finding, ...]

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def compare(first: Plan, second: Plan) -> Comparison:
    out: list[Finding] = []
    if first.product.id != second.product.id:
        out.append(
            make(
                "compare_product_different",
                SOURCE,
                first=first.product.brand,
                second=second.product.brand,
            )
        )
    a_w, b_w = first.dosing.weight_kg, second.dosing.weight_kg
    conversion = _weight_conversion_only(first, second)
    conversion_days: list[str] = []
    if units.round_half_up(a_w, 2) != units.round_half_up(b_w, 2) and not conversion:
        out.append(
            make(
                "compare_dosing_weight_different",
                SOURCE,
                first=f"{fmt(a_w, 2)} kg",
                second=f"{fmt(b_w, 2)} kg",
                first_method=first.dosing.method,
                second_method=second.dosing.method,
            )
        )
    for da, db in zip(first.days, second.days, strict=False):
        if units.round_half_up(da.dose.dose_g, 2) != units.round_half_up(db.dose.dose_g, 2):
            first_text = f"{fmt(da.dose.dose_g, 2)} g ({fmt(da.volume_ml, 1)} mL)"
            second_text = f"{fmt(db.dose.dose_g, 2)} g ({fmt(db.volume_ml, 1)} mL)"
            if conversion and _scales_with_weight(da.dose.dose_g, db.dose.dose_g, a_w, b_w):
                conversion_days.append(f"day {da.day}: {first_text} vs {second_text}")
            else:
                out.append(
                    make(
                        "compare_dose_different",
                        SOURCE,
                        day=da.day,
                        day_number=str(da.day),
                        first=first_text,
                        second=second_text,
                    )
                )
        ta, tb = da.schedule.duration_min, db.schedule.duration_min
        if units.round_half_up(ta, 0) != units.round_half_up(tb, 0):
            out.append(
                make(
                    "compare_total_time_different",
                    SOURCE,
                    day=da.day,
                    day_number=str(da.day),
                    first=_duration(ta),
                    second=_duration(tb),
                    severity="warning" if tb < ta else "info",
                )
            )
    if conversion is not None:
        out.append(
            make(
                "compare_weight_conversion_only",
                SOURCE,
                first=_weight_text(first),
                second=_weight_text(second),
                days="; ".join(conversion_days) or "no dose difference",
                days_es="; ".join(
                    d.replace("day ", "día ").replace(" vs ", " frente a ") for d in conversion_days
                )
                or "sin diferencia de dosis",
            )
        )
    if len(first.days) != len(second.days):
        out.append(
            make(
                "compare_dose_different",
                SOURCE,
                day_number="all",
                first=f"{len(first.days)} day(s)",
                second=f"{len(second.days)} day(s)",
            )
        )
    sa = first.days[0].schedule.steps if first.days else ()
    sb = second.days[0].schedule.steps if second.days else ()
    pairs = _pairs(first, second)
    out.extend(_faster(sa, sb, _exact_rates(first), _exact_rates(second), conversion is not None))
    for pair in pairs:
        if (
            pair.first
            and pair.second
            and pair.first.planned_minutes
            and (pair.second.planned_minutes)
            and pair.second.planned_minutes < pair.first.planned_minutes
        ):
            out.append(
                make(
                    "compare_step_shorter",
                    SOURCE,
                    step=pair.number,
                    number=str(pair.number),
                    first=str(pair.first.planned_minutes),
                    second=str(pair.second.planned_minutes),
                )
            )
    top_a = max(first.steps, key=lambda s: s.pump_rate_ml_h, default=None)
    top_b = max(second.steps, key=lambda s: s.pump_rate_ml_h, default=None)
    if (
        top_a is not None
        and top_b is not None
        and top_b.pump_rate_ml_h > top_a.pump_rate_ml_h
        and top_b.pump_exact_ml_h - top_a.pump_exact_ml_h >= units.PUMP_STEP_ML_H
        and not (conversion is not None and top_a.rate_ml_kg_h == top_b.rate_ml_kg_h)
    ):
        out.append(
            make(
                "compare_max_higher",
                SOURCE,
                first=f"{fmt(top_a.pump_rate_ml_h, 1)} mL/h",
                second=f"{fmt(top_b.pump_rate_ml_h, 1)} mL/h",
            )
        )
    out.extend(_wrong_field(first, second))
    if len(first.steps) != len(second.steps):
        out.append(
            make(
                "compare_step_count_different",
                SOURCE,
                first=str(len(first.steps)),
                second=str(len(second.steps)),
            )
        )
    if not out:
        out.append(make("compare_same", SOURCE))
    return Comparison(first, second, pairs, tuple(sorted(out, key=sort_key)))


def _pairs(first: Plan, second: Plan) -> tuple[StepPair, ...]:
    sa = first.days[0].schedule.steps if first.days else ()
    sb = second.days[0].schedule.steps if second.days else ()
    n = max(len(sa), len(sb))
    return tuple(
        StepPair(i + 1, sa[i] if i < len(sa) else None, sb[i] if i < len(sb) else None)
        for i in range(n)
    )


def _rate_at(steps: tuple[ScheduleStep, ...], t: Decimal) -> ScheduleStep | None:
    for s in steps:
        if s.start_min <= t < s.end_min:
            return s
    return None


def _exact_rates(plan: Plan) -> dict[int, Decimal]:
    """Each step's pump rate before rounding down to the pump's 0.1 mL/h."""
    return {s.number: s.pump_exact_ml_h for s in plan.steps}


def _faster(
    sa: tuple[ScheduleStep, ...],
    sb: tuple[ScheduleStep, ...],
    exact_a: dict[int, Decimal],
    exact_b: dict[int, Decimal],
    conversion: bool,
) -> list[Finding]:
    """Overlay the two day-1 schedules in time; report each span where the compared plan's pump
    setting is above the prescription's: an error, or a note when the exact rates differ by
    less than the pump's precision (the difference is only rounding)."""
    bounds = sorted({s.start_min for s in (*sa, *sb)} | {s.end_min for s in (*sa, *sb)})
    spans: list[tuple[Decimal, Decimal, ScheduleStep, ScheduleStep]] = []
    for left, right in itertools.pairwise(bounds):
        mid = (left + right) / 2
        a, b = _rate_at(sa, mid), _rate_at(sb, mid)
        if a is None or b is None or b.pump_rate_ml_h <= a.pump_rate_ml_h:
            continue
        last = spans[-1] if spans else None
        if (
            last is not None
            and last[1] == left
            and (last[2].pump_rate_ml_h, last[3].pump_rate_ml_h)
            == (a.pump_rate_ml_h, b.pump_rate_ml_h)
        ):
            spans[-1] = (last[0], right, last[2], last[3])
        else:
            spans.append((left, right, a, b))
    out: list[Finding] = []
    for start, end, a, b in spans:
        ea = exact_a.get(a.number, a.pump_rate_ml_h)
        eb = exact_b.get(b.number, b.pump_rate_ml_h)
        code = "compare_faster"
        why = why_es = ""
        exact = f"{fmt(ea, 3)} / {fmt(eb, 3)} mL/h"
        step = f"{fmt(units.PUMP_STEP_ML_H, 1)} mL/h"
        if eb - ea < units.PUMP_STEP_ML_H:
            code = "compare_rounding_only"
            why = f"the exact rates ({exact}) differ by less than the pump's {step}"
            why_es = (
                f"las velocidades exactas ({exact}) difieren en menos de los {step} de la bomba"
            )
        elif conversion and a.rate_ml_kg_h == b.rate_ml_kg_h:
            code = "compare_rounding_only"
            why = (
                f"both give {fmt_rate(a.rate_ml_kg_h)}; the weights differ only by the "
                "pounds/kilograms conversion"
            )
            why_es = (
                f"ambos dan {fmt_rate(a.rate_ml_kg_h)}; los pesos difieren solo por la "
                "conversión entre libras y kilos"
            )
        out.append(
            make(
                code,
                SOURCE,
                why=why,
                why_es=why_es,
                start=fmt(start, 0),
                end=fmt(end, 0),
                first=f"{fmt(a.pump_rate_ml_h, 1)} mL/h",
                second=f"{fmt(b.pump_rate_ml_h, 1)} mL/h",
            )
        )
    return out


def _weight_conversion_only(first: Plan, second: Plan) -> tuple[str, str] | None:
    """When one plan's weight is in kg and the other's in another unit (lb, stone...) that,
    converted to kg and rounded to the places the kg figure was written with, is the kg figure:
    the two weights, else None. Both plans must use the same dosing-weight method."""
    wa, wb = first.document.patient.weight, second.document.patient.weight
    if first.dosing.method != second.dosing.method or wa.unit == wb.unit:
        return None
    kg_unit = "kilogram"
    if kg_unit not in (wa.unit, wb.unit):
        return None
    kg, other = (wa, wb) if wa.unit == kg_unit else (wb, wa)
    places = max(0, -int(kg.magnitude.as_tuple().exponent))
    if units.round_half_up(units.mass_kg(other), places) != kg.magnitude:
        return None
    return wa.text, wb.text


def _weight_text(plan: Plan) -> str:
    weight = plan.document.patient.weight
    if weight.unit == "kilogram":
        return weight.text
    return f"{weight.text} = {fmt(units.mass_kg(weight), 3)} kg"


def _scales_with_weight(
    dose_a: Decimal, dose_b: Decimal, weight_a: Decimal, weight_b: Decimal
) -> bool:
    """True when the two doses differ exactly as the weights do (a per-kg dose, unrounded)."""
    return abs(dose_a * weight_b - dose_b * weight_a) <= Decimal("0.0005") * dose_a * weight_b


def _wrong_field(first: Plan, second: Plan) -> list[Finding]:
    tolerance = Decimal(rules()["compare"]["weight_ratio_tolerance"])
    weight = first.dosing.weight_kg
    out = []
    for a, b in zip(first.steps, second.steps, strict=False):
        if a.pump_rate_ml_h <= 0 or b.pump_rate_ml_h <= 0:
            continue
        for ratio in (a.pump_rate_ml_h / b.pump_rate_ml_h, b.pump_rate_ml_h / a.pump_rate_ml_h):
            if weight > 2 and abs(ratio - weight) <= tolerance * weight:
                out.append(
                    make(
                        "compare_ml_h_where_ml_kg_h_meant",
                        SOURCE,
                        step=a.number,
                        number=str(a.number),
                        first=fmt_rate(a.rate_ml_kg_h),
                        second=f"{fmt(b.pump_rate_ml_h, 1)} mL/h",
                        ratio=fmt(ratio, 1),
                        weight=f"{fmt(weight, 1)} kg",
                    )
                )
                break
    return out


def _duration(minutes: Decimal) -> str:
    total = int(units.round_half_up(minutes, 0))
    return f"{total // 60} h {total % 60:02d} min"
