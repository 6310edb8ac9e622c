"""The plan as a documented, stable JSON document (schema "ivig-plan/1").

Numbers are JSON numbers rounded for people: rates in mL/kg/h and mg/kg/min to 3 places, pump
rates to 0.1 mL/h (as programmed), volumes to 0.01 mL, minutes to 0.01 min, grams to 0.001 g,
weights to 0.001 kg. The exact values stay inside the engine; the last step's cumulative volume
equals the day's volume.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ivig.core import units
from ivig.core.catalogue import RateFact
from ivig.core.findings import Finding
from ivig.core.plan import Plan

SCHEMA = "ivig-plan/1"


def num(value: Decimal | None, places: int) -> float | None:
    if value is None:
        return None
    return float(units.round_half_up(value, places))


def _rate_fact(fact: RateFact | None) -> dict[str, Any] | None:
    if fact is None:
        return None
    return {
        "printed": [p.text for p in fact.printed],
        "rate_ml_kg_h": num(fact.governing_ml_kg_h, 3),
        "minutes": fact.minutes,
        "mismatch": fact.mismatch,
    }


def finding_dict(f: Finding, language: str = "en") -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity,
        "title": f.title_es if language == "es" else f.title,
        "message": f.text(language),
        "source": f.source,
        "day": f.day,
        "step": f.step,
    }


def plan_to_dict(plan: Plan, language: str = "en") -> dict[str, Any]:
    doc = plan.document
    patient = doc.patient
    order = doc.order
    product = plan.product
    label = plan.label
    days = []
    for day in plan.days:
        sched = day.schedule
        steps = []
        for s in sched.steps:
            start = _clock(day.start, s.start_min)
            end = _clock(day.start, s.end_min)
            steps.append(
                {
                    "step": s.number,
                    "start_min": num(s.start_min, 2),
                    "end_min": num(s.end_min, 2),
                    "start_time": start,
                    "end_time": end,
                    "planned_minutes": s.planned_minutes,
                    "prescribed": s.prescribed,
                    "rate_ml_kg_h": num(s.rate_ml_kg_h, 3),
                    "rate_mg_kg_min": num(s.rate_mg_kg_min, 3),
                    "rate_ml_h": num(s.pump_rate_ml_h, 1),
                    "volume_ml": num(s.volume_ml, 2),
                    "cumulative_ml": num(s.cumulative_ml, 2),
                    "cut_short": s.cut_short,
                    "reason": s.reason,
                }
            )
        d = day.dose
        days.append(
            {
                "day": day.day,
                "date": day.date.isoformat() if day.date else None,
                "start": day.start.isoformat(timespec="minutes") if day.start else None,
                "end": day.end.isoformat(timespec="minutes") if day.end else None,
                "prescribed_dose_g": num(d.prescribed_g, 3),
                "dose_g": num(d.dose_g, 3),
                "prescribed_dose_g_per_kg": num(d.prescribed_g / plan.dosing.weight_kg, 4),
                "dose_g_per_kg": num(d.dose_g / plan.dosing.weight_kg, 4),
                "volume_ml": num(day.volume_ml, 2),
                "delivered_ml": num(sched.delivered_ml, 2),
                "duration_min": num(sched.duration_min, 2),
                "vials": (
                    [{"size_g": num(v.size_g, 3), "count": v.count} for v in d.vials]
                    if d.vials is not None
                    else None
                ),
                "vial_total_g": num(d.vial_total_g, 3),
                "wasted_g": num(d.wasted_g, 3),
                "saline_ml": num(day.saline_ml, 1),
                "steps": steps,
                "unreached_steps": [s.number for s in sched.unreached],
            }
        )
    findings = [finding_dict(f, language) for f in plan.findings]
    return {
        "schema": SCHEMA,
        "statement": plan.statement(language),
        "catalogue_version": plan.catalogue.version,
        "patient": {
            "name": patient.name,
            "weight_given": patient.weight.text,
            "weight_kg": num(patient.weight_kg, 3),
            "height_cm": num(patient.height_cm, 1),
            "sex": patient.sex,
            "age_years": num(plan.age_years, 2),
            "blood_group": patient.blood_group,
            "first_infusion": patient.first_infusion,
            "previous_product": patient.previous_product,
            "conditions": sorted(patient.conditions),
            "dosing_weight_kg": num(plan.dosing.weight_kg, 3),
            "dosing_weight_method": plan.dosing.method,
            "dosing_weight_requested": plan.dosing.requested,
            "dosing_weight_explanation": plan.dosing.explanation,
            "ideal_weight_kg": num(plan.dosing.ideal_kg, 3),
            "adjusted_weight_kg": num(plan.dosing.adjusted_kg, 3),
            "bmi_kg_m2": num(plan.dosing.bmi_kg_m2, 1),
        },
        "product": {
            "id": product.id,
            "brand": product.brand,
            "manufacturer": product.manufacturer,
            "concentration_mg_ml": num(plan.concentration_mg_ml, 1),
            "concentration_percent": num(plan.concentration_mg_ml / 10, 2),
            "marketed": product.marketed,
            "contents": {
                name: getattr(product, name).value
                for name in ("sucrose", "maltose", "sorbitol", "glucose", "proline")
            },
            "iga": product.iga.value,
            "label": (
                {
                    "indication": label.indication,
                    "population": label.population,
                    "initial_rate": _rate_fact(label.initial_rate),
                    "step_interval": label.step.interval_text if label.step else None,
                    "max_rate": _rate_fact(label.max_rate),
                }
                if label
                else None
            ),
            "at_risk_max_rate": _rate_fact(product.at_risk_max_rate),
        },
        "course": {
            "indication": order.indication,
            "dose_given": order.dose.text,
            "dose_basis": order.dose_basis.value,
            "prescribed_dose_g": num(plan.course.prescribed_g, 3),
            "dose_g": num(plan.course.dose_g, 3),
            "dose_g_per_kg": num(plan.course_dose_g_per_kg, 4),
            "prescribed_dose_g_per_kg": num(plan.prescribed_course_dose_g_per_kg, 4),
            "days": order.days,
            "vial_rounding": order.vial_rounding,
            "start": order.start.isoformat(timespec="minutes") if order.start else None,
            "prescriber": order.prescriber,
            "notes": order.notes,
            # Issue 11: only when given, so plans without them keep their exact output.
            **({"setting": order.setting} if order.setting is not None else {}),
        },
        "premedication": [
            {
                "name": p.name,
                "dose": p.dose.text if p.dose else None,
                "minutes_before": p.minutes_before,
                "time": _clock(order.start, -Decimal(p.minutes_before))
                if order.start is not None and p.minutes_before is not None
                else None,
                "note": p.note,
                **({"repeat_every": p.repeat_every.text} if p.repeat_every else {}),
                **(
                    {"repeat_before_step": p.repeat_before_step}
                    if p.repeat_before_step is not None
                    else {}
                ),
            }
            for p in order.premedication
        ],
        "saline": (
            {
                "given": order.saline.amount.text,
                "volume_ml": num(plan.days[0].saline_ml if plan.days else None, 1),
                "timing": order.saline.timing,
            }
            if order.saline
            else None
        ),
        "days": days,
        "findings": findings,
        "summary": {
            "errors": sum(1 for f in plan.findings if f.severity == "error"),
            "warnings": sum(1 for f in plan.findings if f.severity == "warning"),
            "info": sum(1 for f in plan.findings if f.severity == "info"),
        },
    }


def _clock(start: Any, minutes: Decimal) -> str | None:
    """Clock time HH:MM at a minute offset from the start (rounded to the nearest minute)."""
    if start is None:
        return None
    from datetime import timedelta

    whole = int(units.round_half_up(minutes, 0))
    return str((start + timedelta(minutes=whole)).strftime("%H:%M"))
