"""Properties of build_plan over random valid order documents (hypothesis)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivig.core.order import OrderError
from ivig.core.plan import build_plan
from ivig.core.titration import RateKind
from ivig.render.plan_json import plan_to_dict

TODAY = date(2026, 11, 21)
# Single-concentration products with known label rates.
PRODUCTS = ["privigen", "gammagard_liquid", "panzyga", "bivigam", "octagam_10", "octagam_5",
            "gamunex_c", "gammaplex_10", "asceniv", "flebogamma_5_dif"]
INDICATIONS = [None, "pi", "itp", "itp_chronic", "cidp", "kawasaki", "jdm", "b_cell_cll"]
CONDITIONS = ["diabetes", "renal_impairment", "heart_failure", "migraine", "iga_deficiency",
              "hyperprolinemia", "estrogen_use", "pregnancy", "corn_allergy"]


def dec(low: str, high: str, places: int = 2) -> st.SearchStrategy[str]:
    return st.decimals(Decimal(low), Decimal(high), places=places).map(lambda d: f"{d:f}")


weights = st.one_of(dec("2.5", "150").map(lambda v: f"{v} kg"),
                    dec("6", "330").map(lambda v: f"{v} lb"))
doses = st.one_of(
    dec("0.1", "3").map(lambda v: f"{v} g/kg"),
    dec("100", "1000", 0).map(lambda v: f"{v} mg/kg/day"),
    dec("1", "150", 1).map(lambda v: f"{v} g"),
    dec("1", "80", 1).map(lambda v: f"{v} g/day"),
)
rates = st.one_of(
    dec("0.1", "8").map(lambda v: f"{v} mL/kg/h"),
    dec("0.3", "14").map(lambda v: f"{v} mg/kg/min"),
    dec("0.005", "0.14", 3).map(lambda v: f"{v} mL/kg/min"),
    dec("1", "300", 1).map(lambda v: f"{v} mL/h"),
)


@st.composite
def step_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 6))
    steps: list[dict[str, Any]] = [
        {"rate": draw(rates), "minutes": draw(st.integers(5, 120))} for _ in range(n)
    ]
    if draw(st.booleans()) or n == 1:
        del steps[-1]["minutes"]  # usually the last step runs until the volume is in
    return steps


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    unit = draw(st.sampled_from(["mL/kg/h", "mg/kg/min", "mL/h"]))
    scale = {"mL/kg/h": 1, "mg/kg/min": 2, "mL/h": 40}[unit]
    start = draw(st.decimals(Decimal("0.2"), Decimal(2), places=2)) * scale
    inc = draw(st.decimals(Decimal("0.1"), Decimal(2), places=2)) * scale
    top = start + draw(st.decimals(Decimal(0), Decimal(6), places=2)) * scale
    rule: dict[str, Any] = {"start": f"{start:f} {unit}", "increase_by": f"{inc:f} {unit}",
                            "every_minutes": draw(st.integers(5, 60)), "max": f"{top:f} {unit}"}
    if draw(st.booleans()):
        rule["first_step_minutes"] = draw(st.integers(5, 60))
    return rule


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "weight": draw(weights),
        "height": f"{draw(st.integers(45, 200))} cm",
        "sex": draw(st.sampled_from(["female", "male"])),
        "birth_date": draw(st.dates(date(1935, 1, 1), date(2026, 6, 1))).isoformat(),
        "blood_group": draw(st.sampled_from(["O+", "A+", "B-", "AB+", "unknown"])),
        "first_infusion": draw(st.sampled_from([True, False, None])),
        "conditions": draw(st.lists(st.sampled_from(CONDITIONS), unique=True, max_size=3)),
    }
    order: dict[str, Any] = {
        "product": draw(st.sampled_from(PRODUCTS)),
        "dose": draw(doses),
        "days": draw(st.integers(1, 5)),
        "dosing_weight": draw(st.sampled_from(["actual", "ideal", "adjusted", "bloodstar",
                                              "ontario"])),
        "vial_rounding": draw(st.sampled_from(["none", "whole_vial", "nearest_5_g"])),
        "titration": draw(st.one_of(step_lists(), rules())),
    }
    if draw(st.booleans()):
        order["start"] = "2026-12-01T08:30"
    indication = draw(st.sampled_from(INDICATIONS))
    if indication:
        order["indication"] = indication
    if draw(st.booleans()):
        order["saline"] = draw(st.sampled_from(["10 mL/kg", "250 mL"]))
    return {"patient": {k: v for k, v in patient.items() if v is not None}, "order": order}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_plan_invariants(doc: dict[str, Any]) -> None:
    try:
        plan = build_plan(doc, today=TODAY)
    except OrderError:
        return  # a refused order is fine; anything else is a bug
    weight = plan.dosing.weight_kg
    for step in plan.steps:
        # Rounded DOWN to 0.1 mL/h: never above what was prescribed.
        assert step.pump_rate_ml_h <= step.pump_exact_ml_h
        assert step.pump_exact_ml_h - step.pump_rate_ml_h < Decimal("0.1")
        assert step.pump_rate_ml_h * 10 == (step.pump_rate_ml_h * 10).to_integral_value()
        if step.kind is not RateKind.ML_H:
            assert step.pump_rate_ml_h <= step.rate_ml_kg_h * weight
    assert plan.course.dose_g == sum((d.dose.dose_g for d in plan.days), Decimal(0))
    assert len(plan.days) == plan.document.order.days
    for day in plan.days:
        sched = day.schedule
        steps = sched.steps
        t = Decimal(0)
        for s in steps:
            assert s.start_min == t
            assert s.end_min > s.start_min
            assert s.volume_ml > 0
            t = s.end_min
        assert sched.duration_min == t
        if sched.complete:
            assert sum((s.volume_ml for s in steps), Decimal(0)) == day.volume_ml
            assert steps[-1].cumulative_ml == day.volume_ml
        else:
            assert "plan_cannot_deliver_volume" in {f.code for f in plan.findings} or (
                "pump_rate_zero" in {f.code for f in plan.findings}
            )
            assert plan.has_errors
    json.dumps(plan_to_dict(plan))
    json.dumps(plan_to_dict(plan, "es"))
