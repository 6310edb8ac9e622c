"""Issue 8, "plan safety end to end": each case of the issue, tried again through the engine.

(The same cases from the command line are in tests/test_cli_plan_safety.py, and from the web in
tests/web/test_plan_safety.py.)
"""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from typing import Any

from ivig.core.checks import age_over_years
from ivig.core.infusion_checks import checkin_tiers
from ivig.core.plan import Plan, build_plan
from ivig.core.timeline import risk_tiers
from ivig.render.plan_json import plan_to_dict
from tests.core.builders import document

TODAY = date(2026, 11, 21)
ADULT: dict[str, Any] = {
    "birth_date": "1980-01-01", "height": "175 cm", "sex": "male", "weight": "70 kg",
}
PI = {"indication": "pi", "dose": "0.4 g/kg", "days": 1}


def plan_of(patient: dict[str, Any] | None = None, **order: Any) -> Plan:
    return build_plan(document(patient, **order), today=TODAY)


def codes(plan: Plan) -> set[str]:
    return {f.code for f in plan.findings}


# --- Item 7: one thrombosis advanced-age threshold -------------------------------------------


def test_one_thrombosis_age_threshold_of_60_cited() -> None:
    assert age_over_years("thrombosis_advanced_age") == 60
    assert age_over_years("thrombosis_risk") == 60  # the plan checks point at it
    assert age_over_years("renal_risk") == 65  # the label's renal list is unchanged


def test_no_second_thrombosis_age_number_in_the_data() -> None:
    """A number for thrombosis age lives only in rules.toml [thrombosis_advanced_age]."""
    triage = resources.files("ivig.data").joinpath("triage.toml").read_text(encoding="utf-8")
    tier = tomllib.loads(triage)["checkins"]["tiers"]["thrombosis"]
    assert "criteria_age_over_years" not in tier
    assert tier["criteria_age_over_rule"] == "thrombosis_advanced_age"
    rules = tomllib.loads(
        resources.files("ivig.data").joinpath("rules.toml").read_text(encoding="utf-8")
    )
    assert "age_over" not in rules["thrombosis_risk"]


def test_a_62_year_old_is_a_thrombosis_risk_in_plan_checks_checkins_and_fallback() -> None:
    p = plan_of({**ADULT, "birth_date": "1964-01-01"}, **PI)
    risk = next(f for f in p.findings if f.code == "renal_or_thrombosis_risk")
    assert "age over 60 years" in risk.message
    assert "CMAJ" in risk.source
    assert "thrombosis" in risk_tiers(p)
    snapshot = plan_to_dict(p, "en")
    assert "thrombosis" in checkin_tiers(snapshot)
    young = plan_of(ADULT, **PI)
    assert "renal_or_thrombosis_risk" not in codes(young)
    assert "thrombosis" not in risk_tiers(young)


# --- Item 2: comparison direction, rounding and lb/kg notes -----------------------------------

SEED = [
    {"rate": "0.5 mL/kg/h", "minutes": 30},
    {"rate": "1 mL/kg/h", "minutes": 30},
    {"rate": "1.5 mL/kg/h", "minutes": 30},
    {"rate": "2 mL/kg/h"},
]
# The nurse's step 3 runs 50 % faster than prescribed (1.5 -> 2.25 mL/kg/h), same minutes.
NURSE_FASTER = [*SEED[:2], {"rate": "2.25 mL/kg/h", "minutes": 30}, SEED[3]]


def compared(a: dict[str, Any], b: dict[str, Any]) -> Any:
    from ivig.core.compare import compare

    return compare(build_plan(a, today=TODAY), build_plan(b, today=TODAY))


def test_a_faster_pump_step_at_the_same_minute_is_an_error() -> None:
    result = compared(document(), document(titration=NURSE_FASTER))
    faster = [f for f in result.findings if f.code == "compare_faster"]
    assert [f.severity for f in faster] == ["error"]
    assert "From minute 60 to 90 the compared plan runs at 44.9 mL/h" in faster[0].message
    assert "the prescription runs at 29.9 mL/h" in faster[0].message
    assert result.has_errors
    # Slower than prescribed is not "faster".
    slower = compared(document(titration=NURSE_FASTER), document())
    assert "compare_faster" not in {f.code for f in slower.findings}


def test_lb_vs_kg_of_the_same_child_is_a_note_not_an_error() -> None:
    result = compared(document(), document({"weight": "20 kg"}))
    assert not result.has_errors, [f.code for f in result.findings if f.severity == "error"]
    found = {f.code: f.severity for f in result.findings}
    assert found["compare_weight_conversion_only"] == "info"
    assert found["compare_rounding_only"] == "info"
    assert "compare_dose_different" not in found
    assert "compare_max_higher" not in found
    # A real weight difference (21 kg) is still reported.
    other = compared(document(), document({"weight": "21 kg"}))
    assert "compare_dose_different" in {f.code for f in other.findings}
    assert "compare_weight_conversion_only" not in {f.code for f in other.findings}


def test_rounding_below_the_pump_precision_is_a_note() -> None:
    # 9.979 mL/h is programmed as 9.9 (rounded down); a pump plan of 9.95 mL/h typed as 10 mL/h
    # is 0.021 mL/h above the exact prescription: below the pump's 0.1 mL/h.
    pump = [{"rate": "10 mL/h", "minutes": 30}, *SEED[1:]]
    result = compared(document(), document(titration=pump))
    codes_ = {f.code: f.severity for f in result.findings}
    assert codes_.get("compare_rounding_only") == "info"
    assert "compare_faster" not in codes_
    # 10.1 mL/h is 0.121 mL/h above: an error.
    pump = [{"rate": "10.1 mL/h", "minutes": 30}, *SEED[1:]]
    result = compared(document(), document(titration=pump))
    assert "compare_faster" in {f.code for f in result.findings}
