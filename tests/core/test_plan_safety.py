"""Issue 8, "plan safety end to end": each case of the issue, tried again through the engine.

(The same cases from the command line are in tests/test_cli_plan_safety.py, and from the web in
tests/web/test_plan_safety.py.)
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
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


# --- Item 3: dose plausibility -----------------------------------------------------------------


def finding(plan: Plan, code: str) -> Any:
    found = [f for f in plan.findings if f.code == code]
    assert found, f"{code} not emitted; got {sorted(codes(plan))}"
    return found[0]


def test_twenty_g_per_kg_is_an_error_not_two_warnings() -> None:
    p = plan_of(dose="20 g/kg")
    f = finding(p, "dose_above_highest_regimen")
    assert f.severity == "error" and p.has_errors
    assert "20 g/kg per course" in f.message and "2 g/kg" in f.message


def test_two_mg_per_kg_for_pi_on_privigen_is_a_unit_slip_and_never_prints_zero() -> None:
    p = plan_of(ADULT, indication="pi", dose="2 mg/kg", days=1)
    f = finding(p, "dose_unit_slip")
    assert f.severity == "error"
    assert "0.002 g/kg" in f.message and "2 g/kg would fit" in f.message
    assert " 0 g/kg" not in " ".join(x.message for x in p.findings)


def test_per_day_vs_per_course_slip() -> None:
    p = plan_of(ADULT, indication="itp", dose="400 mg/kg", days=5)
    assert finding(p, "dose_day_course_slip").severity == "error"
    fine = plan_of(ADULT, indication="itp", dose="400 mg/kg/day", days=5)
    assert not {"dose_day_course_slip", "dose_above_highest_regimen"} & codes(fine)


def test_forty_grams_for_a_44_lb_child_is_the_2_g_per_kg_regimen() -> None:
    assert "dose_above_highest_regimen" not in codes(plan_of(dose="40 g"))


# --- Item 4: weight plausibility in both directions -------------------------------------------

SIX_YEARS = {"birth_date": "2020-06-15", "sex": "male"}


def test_a_six_year_old_at_200_kg_440_lb_or_44_stone_is_flagged() -> None:
    for weight in ("200 kg", "440 lb", "44 stone"):
        p = plan_of({**SIX_YEARS, "weight": weight})
        f = finding(p, "weight_implausible_for_age")
        assert f.severity == "warning"
        assert "above the plausible range" in f.message, weight
    ordinary = plan_of({**SIX_YEARS, "weight": "21 kg"})
    assert "weight_implausible_for_age" not in codes(ordinary)


def test_growth_limits_match_the_reference_spot_checks() -> None:
    from ivig.core import growth

    # Boys 60.5 months: CDC modified z +8 = 44.4 kg (reference §3.3).
    assert not growth.weight_for_age("male", Decimal("60.5"), Decimal("44.3")).implausible
    assert growth.weight_for_age("male", Decimal("60.5"), Decimal("44.5")).implausible


def test_adult_absolute_bounds() -> None:
    assert finding(plan_of({**ADULT, "weight": "400 kg"}, **PI), "weight_implausible_adult")
    assert finding(plan_of({**ADULT, "weight": "20 kg"}, **PI), "weight_implausible_adult")
    assert "weight_implausible_adult" not in codes(plan_of(ADULT, **PI))
    unknown_age = {**ADULT, "birth_date": None, "weight": "600 kg"}
    assert finding(plan_of(unknown_age, **PI), "weight_implausible_adult")


# --- Item 5: rounding is visible ----------------------------------------------------------------


def test_whole_vial_rounding_from_7_4_to_5_g_is_a_warning_and_checks_use_the_given_dose() -> None:
    p = plan_of({"weight": "18.5 kg"}, indication="pi", dose="0.4 g/kg", days=1,
                vial_rounding="whole_vial")
    f = finding(p, "vial_rounding_changed_dose")
    assert f.severity == "warning"
    assert "prescribed 7.4 g (0.4 g/kg)" in f.message and "given 5 g (0.27 g/kg)" in f.message
    assert "−2.4 g, −32.4 %" in f.message
    assert p.course.dose_g == 5
    assert round(p.course_dose_g_per_kg, 4) == Decimal("0.2703")
    doc = plan_to_dict(p, "en")
    assert doc["course"]["prescribed_dose_g_per_kg"] == 0.4
    assert doc["days"][0]["dose_g_per_kg"] == 0.2703


def test_small_rounding_is_a_note() -> None:
    # 21 kg x 0.5 g/kg = 10.5 g, rounded to 10 g: -0.5 g, -4.8 %, under the 10 % tolerance.
    p = plan_of({"weight": "21 kg"}, indication="pi", dose="0.5 g/kg", days=1,
                vial_rounding="nearest_5_g")
    f = finding(p, "vial_rounding_changed_dose")
    assert f.severity == "info" and "−0.5 g, −4.8 %" in f.message


# --- Item 7: sorbitol and glucose -------------------------------------------------------------


def test_sorbitol_young_child_for_every_sorbitol_product() -> None:
    toddler = {"birth_date": "2025-06-01", "weight": "10 kg"}
    for product in ("flebogamma_5_dif", "gammaplex_5"):
        p = plan_of(toddler, product=product, indication="pi", dose="0.4 g/kg", days=1)
        assert finding(p, "sorbitol_young_child").severity == "warning", product


def test_glucose_product_for_a_diabetic_is_marked_secondary() -> None:
    p = plan_of({**ADULT, "conditions": ["diabetes"]}, product="gammagard_sd",
                concentration="50 mg/mL", **PI)
    f = finding(p, "glucose_diabetes")
    assert "Secondary source" in f.message
    assert "glucose_diabetes" not in codes(
        plan_of(ADULT, product="gammagard_sd", concentration="50 mg/mL", **PI)
    )


# --- Item 6: label units ------------------------------------------------------------------------

GG_EXACT = [
    {"rate": "0.5 mL/kg/h", "minutes": 30},
    {"rate": "1 mL/kg/h", "minutes": 30},
    {"rate": "2 mL/kg/h", "minutes": 30},
    {"rate": "4 mL/kg/h", "minutes": 30},
    {"rate": "5 mL/kg/h"},
]
RATE_CODES = {
    "start_rate_above_label_initial",
    "rate_above_label_max",
    "initial_step_shorter_than_label",
    "step_interval_shorter_than_label",
}


def test_a_plan_matching_the_gammagard_liquid_label_exactly_has_no_rate_finding() -> None:
    child = {"weight": "20 kg", "first_infusion": False}
    p = plan_of(child, product="gammagard_liquid", indication="pi", dose="0.4 g/kg", days=1,
                titration=GG_EXACT)
    assert not codes(p) & RATE_CODES, sorted(codes(p))
    assert not p.has_errors, [f.code for f in p.findings if f.severity == "error"]
    # One step above the label's primary figure is still caught.
    over = plan_of(child, product="gammagard_liquid", indication="pi", dose="0.4 g/kg", days=1,
                   titration=[*GG_EXACT[:4], {"rate": "5.5 mL/kg/h"}])
    f = finding(over, "rate_above_label_max")
    assert "primary unit governs" in f.message and "8 mg/kg/min" in f.message


def test_every_product_records_its_primary_rate_unit_with_a_note() -> None:
    from ivig.core.catalogue import load_catalogue

    for product in load_catalogue().products.values():
        assert product.rate_units is not None, product.id
        assert product.rate_units.note, product.id
    gg = load_catalogue().products["gammagard_liquid"]
    assert gg.rate_units is not None and gg.rate_units.primary == "mL/kg/hr"
    assert gg.rate_units.source_ids
