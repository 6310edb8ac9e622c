"""Plan vs plan → differences (typically the doctor's plan vs the nurse's pump program).

Both plans are computed by the same engine, then compared on what the pump actually does:
pump mL/h at every moment of day 1, step lengths, the maximum, the dosing weight, the dose and
the total time, and the wrong-field slip (a per-kg rate programmed as mL/h).
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
    first: Plan
    second: Plan
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
    if units.round_half_up(a_w, 2) != units.round_half_up(b_w, 2):
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
            out.append(
                make(
                    "compare_dose_different",
                    SOURCE,
                    day=da.day,
                    day_number=str(da.day),
                    first=f"{fmt(da.dose.dose_g, 2)} g ({fmt(da.volume_ml, 1)} mL)",
                    second=f"{fmt(db.dose.dose_g, 2)} g ({fmt(db.volume_ml, 1)} mL)",
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
    out.extend(_faster(sa, sb))
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
    top_a = max((s.pump_rate_ml_h for s in first.steps), default=Decimal(0))
    top_b = max((s.pump_rate_ml_h for s in second.steps), default=Decimal(0))
    if top_b > top_a:
        out.append(
            make(
                "compare_max_higher",
                SOURCE,
                first=f"{fmt(top_a, 1)} mL/h",
                second=f"{fmt(top_b, 1)} mL/h",
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


def _rate_at(steps: tuple[ScheduleStep, ...], t: Decimal) -> Decimal | None:
    for s in steps:
        if s.start_min <= t < s.end_min:
            return s.pump_rate_ml_h
    return None


def _faster(sa: tuple[ScheduleStep, ...], sb: tuple[ScheduleStep, ...]) -> list[Finding]:
    """Overlay the two day-1 schedules in time; report each span where the second is faster."""
    bounds = sorted({s.start_min for s in (*sa, *sb)} | {s.end_min for s in (*sa, *sb)})
    out: list[Finding] = []
    span_start: Decimal | None = None
    span: tuple[Decimal, Decimal] | None = None
    for left, right in itertools.pairwise(bounds):
        mid = (left + right) / 2
        ra, rb = _rate_at(sa, mid), _rate_at(sb, mid)
        faster = rb is not None and ra is not None and rb > ra
        if faster and ra is not None and rb is not None:
            if span_start is None or span is None or span != (ra, rb):
                if span_start is not None and span is not None:
                    out.append(_faster_finding(span_start, left, span))
                span_start = left
                span = (ra, rb)
        elif span_start is not None and span is not None:
            out.append(_faster_finding(span_start, left, span))
            span_start, span = None, None
    if span_start is not None and span is not None and bounds:
        out.append(_faster_finding(span_start, bounds[-1], span))
    return out


def _faster_finding(start: Decimal, end: Decimal, rates: tuple[Decimal, Decimal]) -> Finding:
    return make(
        "compare_faster",
        SOURCE,
        start=fmt(start, 0),
        end=fmt(end, 0),
        first=f"{fmt(rates[0], 1)} mL/h",
        second=f"{fmt(rates[1], 1)} mL/h",
    )


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
