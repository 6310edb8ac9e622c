"""Rate steps → a per-day schedule.

Each prescribed step is resolved to three figures: mL/kg/h (per kg of dosing weight), mg/kg/min
(from the concentration) and the pump setting in mL/h. The pump setting is rounded DOWN to
0.1 mL/h so the pump never runs faster than prescribed, and the schedule's volumes and times are
computed from that pump setting, because that is what the pump delivers. A step is cut short when
the day's volume is in; the last step runs until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ivig.core import units
from ivig.core.order import OrderError, Problem, Step, TitrationRule
from ivig.core.units import Quantity, RateKind

_SIXTY = Decimal(60)
MAX_RULE_STEPS = 40  # same limit as a written list of steps


@dataclass(frozen=True)
class ResolvedStep:
    """A prescribed step with its rate in every unit system."""

    number: int
    prescribed: str  # the rate as written, e.g. "1 mg/kg/min"
    kind: RateKind
    minutes: int | None  # None: runs until the day's volume is in
    rate_ml_kg_h: Decimal  # per kg of dosing weight
    rate_mg_kg_min: Decimal | None  # None when the concentration is unknown
    pump_exact_ml_h: Decimal  # before rounding to the pump's 0.1 mL/h
    pump_rate_ml_h: Decimal  # what is programmed: rounded down to 0.1 mL/h
    reason: str | None
    clamped: bool = False  # a rule-form step held at the rule's maximum


@dataclass(frozen=True)
class ScheduleStep:
    number: int
    start_min: Decimal
    end_min: Decimal
    planned_minutes: int | None
    rate_ml_kg_h: Decimal
    rate_mg_kg_min: Decimal | None
    pump_rate_ml_h: Decimal
    volume_ml: Decimal
    cumulative_ml: Decimal
    cut_short: bool
    prescribed: str
    reason: str | None


@dataclass(frozen=True)
class Schedule:
    steps: tuple[ScheduleStep, ...]
    unreached: tuple[ResolvedStep, ...]  # steps never reached because the volume was in
    volume_ml: Decimal  # the day's volume to give
    delivered_ml: Decimal  # what the steps deliver (equals volume_ml unless the plan cannot)
    duration_min: Decimal

    @property
    def complete(self) -> bool:
        return self.delivered_ml == self.volume_ml


def resolve(
    titration: tuple[Step, ...] | TitrationRule,
    concentration_mg_ml: Decimal,
    dosing_weight_kg: Decimal,
) -> tuple[ResolvedStep, ...]:
    """Resolve the prescribed steps (or expand the rule) into rates in every unit."""
    if isinstance(titration, TitrationRule):
        return _expand_rule(titration, concentration_mg_ml, dosing_weight_kg)
    return tuple(
        _resolve_one(i + 1, s.rate, s.minutes, s.reason, concentration_mg_ml, dosing_weight_kg)
        for i, s in enumerate(titration)
    )


def _resolve_one(
    number: int,
    rate: Quantity,
    minutes: int | None,
    reason: str | None,
    concentration_mg_ml: Decimal,
    dosing_weight_kg: Decimal,
) -> ResolvedStep:
    kind = units.rate_kind(rate)
    if kind is RateKind.ML_H:
        pump_exact = units.ml_h(rate)
        per_kg = pump_exact / dosing_weight_kg
    else:
        converted = units.rate_to_ml_kg_h(rate, concentration_mg_ml, dosing_weight_kg)
        assert converted is not None
        per_kg = converted
        pump_exact = per_kg * dosing_weight_kg
    return _step(
        number,
        rate.text,
        kind,
        minutes,
        reason,
        per_kg,
        pump_exact,
        concentration_mg_ml,
        clamped=False,
    )


def _step(
    number: int,
    prescribed: str,
    kind: RateKind,
    minutes: int | None,
    reason: str | None,
    per_kg: Decimal,
    pump_exact: Decimal,
    concentration_mg_ml: Decimal,
    *,
    clamped: bool,
) -> ResolvedStep:
    return ResolvedStep(
        number=number,
        prescribed=prescribed,
        kind=kind,
        minutes=minutes,
        rate_ml_kg_h=per_kg,
        rate_mg_kg_min=units.mg_kg_min_from_ml_kg_h(per_kg, concentration_mg_ml),
        pump_exact_ml_h=pump_exact,
        pump_rate_ml_h=units.pump_rate_ml_h(pump_exact),
        reason=reason,
        clamped=clamped,
    )


def _expand_rule(
    rule: TitrationRule, concentration_mg_ml: Decimal, dosing_weight_kg: Decimal
) -> tuple[ResolvedStep, ...]:
    kinds = {units.rate_kind(q) for q in (rule.start, rule.increase_by, rule.max)}
    fixed = RateKind.ML_H in kinds
    if fixed and kinds != {RateKind.ML_H}:
        raise OrderError(
            [
                Problem(
                    "order.titration",
                    f"start {rule.start}, increase_by {rule.increase_by}, max {rule.max}",
                    "all three in mL/h (a fixed pump protocol), or all three per kg "
                    "(mL/kg/h, mL/kg/min or mg/kg/min)",
                    "a rule cannot mix a fixed mL/h rate with a rate per kg",
                )
            ]
        )

    def as_number(q: Quantity) -> Decimal:
        if fixed:
            return units.ml_h(q)
        value = units.rate_to_ml_kg_h(q, concentration_mg_ml, dosing_weight_kg)
        assert value is not None
        return value

    start, increase, top = as_number(rule.start), as_number(rule.increase_by), as_number(rule.max)
    if start > top:
        raise OrderError(
            [
                Problem(
                    "order.titration.start",
                    str(rule.start),
                    f"a starting rate at or below the rule's max ({rule.max})",
                    "the starting rate is above the maximum",
                )
            ]
        )
    steps: list[ResolvedStep] = []
    value = start
    number = 1
    kind = RateKind.ML_H if fixed else RateKind.ML_KG_H
    while True:
        at_top = value >= top
        current = top if at_top else value
        minutes: int | None
        if at_top:
            minutes = None
        elif number == 1 and rule.first_step_minutes:
            minutes = rule.first_step_minutes
        else:
            minutes = rule.every_minutes
        per_kg = current / dosing_weight_kg if fixed else current
        pump_exact = current if fixed else current * dosing_weight_kg
        text = _rule_step_text(rule, number, at_top, value > top)
        steps.append(
            _step(
                number,
                text,
                kind,
                minutes,
                None,
                per_kg,
                pump_exact,
                concentration_mg_ml,
                clamped=value > top,
            )
        )
        if at_top or number >= MAX_RULE_STEPS:
            break
        value += increase
        number += 1
    return tuple(steps)


def _rule_step_text(rule: TitrationRule, number: int, at_top: bool, clamped: bool) -> str:
    if number == 1 and not at_top:
        return str(rule.start)
    if at_top:
        return f"{rule.max} (max)" + (" — held at the maximum" if clamped else "")
    return f"{rule.start} + {number - 1} × {rule.increase_by}"


def schedule(steps: tuple[ResolvedStep, ...], volume_ml: Decimal) -> Schedule:
    """Lay the steps out in time until the day's volume is in."""
    out: list[ScheduleStep] = []
    t = Decimal(0)
    cumulative = Decimal(0)
    unreached: list[ResolvedStep] = []
    for i, step in enumerate(steps):
        if cumulative >= volume_ml:
            unreached.extend(steps[i:])
            break
        remaining = volume_ml - cumulative
        rate = step.pump_rate_ml_h
        if rate <= 0:
            # An impossible step: the checks report it. Nothing after it can be scheduled.
            unreached.extend(steps[i:])
            break
        is_last = step.minutes is None
        full_volume = None if is_last else rate * Decimal(step.minutes or 0) / _SIXTY
        if full_volume is None or full_volume >= remaining:
            duration = remaining * _SIXTY / rate
            volume = remaining
            cut = step.minutes is not None and duration < step.minutes
        else:
            duration = Decimal(step.minutes or 0)
            volume = full_volume
            cut = False
        cumulative += volume
        out.append(
            ScheduleStep(
                number=step.number,
                start_min=t,
                end_min=t + duration,
                planned_minutes=step.minutes,
                rate_ml_kg_h=step.rate_ml_kg_h,
                rate_mg_kg_min=step.rate_mg_kg_min,
                pump_rate_ml_h=rate,
                volume_ml=volume,
                cumulative_ml=cumulative,
                cut_short=cut,
                prescribed=step.prescribed,
                reason=step.reason,
            )
        )
        t += duration
        if is_last:
            unreached.extend(steps[i + 1 :])
            break
    return Schedule(
        steps=tuple(out),
        unreached=tuple(unreached),
        volume_ml=volume_ml,
        delivered_ml=cumulative,
        duration_min=t,
    )
