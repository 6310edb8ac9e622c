"""Every finding code the plan engine can emit: a plan that triggers it (code, severity and the
key words of its message) and, where sensible, the nearest plan that must not."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from typing import Any

import pytest

from ivig.core.findings import Finding
from ivig.core.plan import Plan, build_plan
from tests.core.builders import SEED_STEPS, document

TODAY = date(2026, 11, 21)
ADULT: dict[str, Any] = {
    "birth_date": "1980-01-01", "height": "175 cm", "sex": "male", "weight": "70 kg",
}
PI = {"indication": "pi", "dose": "0.4 g/kg", "days": 1}
GG = {"product": "gammagard_liquid", **PI}


def up_to(top: str) -> list[dict[str, Any]]:
    """The seed chart's ramp with a different last (maximum) rate."""
    return [*SEED_STEPS[:3], {"rate": top}]


def plan_of(patient: dict[str, Any] | None = None, **order: Any) -> Plan:
    return build_plan(document(patient, **order), today=TODAY)


def codes(plan: Plan) -> set[str]:
    return {f.code for f in plan.findings}


def the(plan: Plan, code: str) -> Finding:
    found = [f for f in plan.findings if f.code == code]
    assert found, f"{code} not emitted; got {sorted(codes(plan))}"
    return found[0]


def adult(**extra: Any) -> dict[str, Any]:
    return {**ADULT, **extra}


BIVIGAM_RULE = {"start": "0.5 mg/kg/min", "increase_by": "0.8 mg/kg/min", "every_minutes": 20,
                "max": "6 mg/kg/min", "first_step_minutes": 10}

# code -> (patient overrides, order overrides, severity, words the message must contain)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str, list[str]]] = {
    # Issue 11: rate slips, setting and premedication.
    "start_rate_tenfold_slip": (
        {}, {"titration": [{"rate": "5 mL/kg/h", "minutes": 30}, {"rate": "5 mL/kg/h"}]},
        "error", ["16.7 times", "did you mean 0.5 mL/kg/h?"]),
    "home_first_infusion": (
        {"first_infusion": True}, {"setting": "home"}, "warning",
        ["at home", "a first infusion", "closely supervised"]),
    "home_product_switch": (
        {"first_infusion": False, "previous_product": "gamunex_c"}, {"setting": "home"},
        "warning", ["from Gamunex-C to Privigen"]),
    "premedication_timing_outside_advice": (
        {}, {"premedication": [{"name": "acetaminophen", "minutes_before": 90}]}, "warning",
        ["90 min", "30 to 60 min"]),
    "premedication_timing_not_given": (
        {}, {"premedication": [{"name": "cetirizine"}]}, "info", ["cetirizine", "30 to 60"]),
    "premedication_dose_for_weight": (
        {}, {"premedication": [{"name": "acetaminophen", "dose": "15 mg/kg",
                                "minutes_before": 30}]},
        "info", ["15 mg/kg × 19.96 kg", "= 299 mg"]),
    "premedication_above_max_single_dose": (
        adult(), {"premedication": [{"name": "Paracetamol", "dose": "15 mg/kg",
                                     "minutes_before": 45}]},
        "error", ["above the maximum single dose of 1000 mg"]),
    "premedication_repeat_step_missing": (
        {}, {"premedication": [{"name": "acetaminophen", "minutes_before": 30,
                                "repeat_before_step": 9}]},
        "warning", ["before step 9", "has 4 steps"]),
    "product_discontinued": (
        adult(), {"product": "carimune_nf", "concentration": "60 mg/mL", "indication": "itp"},
        "warning", ["Carimune NF", "no longer made"]),
    "indication_not_given": (
        {}, {"indication": None}, "warning", ["does not say what the IVIG is for", "Privigen"]),
    "product_not_labeled_for_indication": (
        {}, {}, "info", ["Privigen is not labeled for Juvenile dermatomyositis", "2.4 mL/kg/h"]),
    "label_rates_unknown": (
        adult(), {"product": "gammagard_sd", "concentration": "50 mg/mL", **PI}, "warning",
        ["Gammagard S/D", "starting rate, time between steps, maximum rate", "NOT done"]),
    "rate_above_label_max": (
        adult(), {**PI, "titration": up_to("5 mL/kg/h")}, "error",
        ["Step 4 runs at 5 mL/kg/h", "350 mL/h", "Privigen label maximum", "4.8 mL/kg/h"]),
    "start_rate_above_label_initial": (
        {}, {}, "warning", ["0.5 mL/kg/h", "Privigen label's starting rate", "0.3 mL/kg/h"]),
    "initial_step_shorter_than_label": (
        adult(), {**GG, "titration": [{"rate": "0.48 mL/kg/h", "minutes": 15},
                                      {"rate": "1 mL/kg/h", "minutes": 30},
                                      {"rate": "2 mL/kg/h"}]},
        "warning", ["first step lasts 15 min", "30 min"]),
    "step_interval_shorter_than_label": (
        adult(), {**GG, "titration": [{"rate": "0.48 mL/kg/h", "minutes": 30},
                                      {"rate": "1 mL/kg/h", "minutes": 15},
                                      {"rate": "2 mL/kg/h"}]},
        "warning", ["Step 2 lasts 15 min", "Gammagard Liquid"]),
    "step_increment_above_label": (
        adult(), {"product": "bivigam", **PI,
                  "titration": [{"rate": "0.3 mL/kg/h", "minutes": 10},
                                {"rate": "1 mL/kg/h", "minutes": 20},
                                {"rate": "1.2 mL/kg/h"}]},
        "warning", ["Step 2 goes up by 0.7 mL/kg/h", "0.48 mL/kg/h"]),
    "first_infusion_rate_above_advice": (
        {}, {"titration": up_to("2.1 mL/kg/h")}, "warning",
        ["first infusion", "step(s) 4", "2.1 mL/kg/h", "2 mL/kg/h"]),
    "product_switch_rate_above_advice": (
        {"first_infusion": False, "previous_product": "octagam_10"},
        {"titration": up_to("2.1 mL/kg/h")}, "warning", ["last time: Octagam 10%", "2.1 mL/kg/h"]),
    "first_infusion_unknown": (
        {"first_infusion": None}, {"titration": up_to("2.1 mL/kg/h")}, "warning",
        ["does not say whether this is the first infusion", "2.1 mL/kg/h"]),
    "rate_above_at_risk_max": (
        adult(conditions=["renal_impairment"]), {"product": "panzyga", **PI}, "error",
        ["Step 4 runs at 2 mL/kg/h", "Panzyga", "3.3 mg/kg/min", "1.98 mL/kg/h",
         "kidney disease"]),
    "renal_or_thrombosis_risk": (
        adult(conditions=["diabetes"]), {**PI}, "warning",
        ["diabetes", "minimum dose and rate", "gives no number"]),
    "sucrose_renal_risk": (
        adult(conditions=["renal_impairment"]),
        {"product": "carimune_nf", "concentration": "60 mg/mL", "indication": "itp"},
        "warning", ["Carimune NF contains sucrose"]),
    "content_unknown": (
        adult(conditions=["hyperprolinemia"]),
        {"product": "carimune_nf", "concentration": "60 mg/mL", "indication": "itp"},
        "warning", ["Whether Carimune NF contains proline is unknown", "hyperprolinemia"]),
    "contraindicated_sorbitol_fructose": (
        adult(conditions=["hereditary_fructose_intolerance"]),
        {"product": "flebogamma_5_dif", **PI}, "error",
        ["Flebogamma 5% DIF contains sorbitol", "hereditary fructose intolerance"]),
    "contraindication_unverified": (
        adult(conditions=["hereditary_fructose_intolerance"]),
        {"product": "flebogamma_5_dif", **PI}, "warning",
        ["Flebogamma 5% DIF", "could not be verified"]),
    "contraindicated_proline_hyperprolinemia": (
        {"conditions": ["hyperprolinemia"]}, {}, "error", ["Privigen", "proline",
                                                          "hyperprolinemia"]),
    "maltose_glucose_meter": (
        adult(conditions=["diabetes"]), {"product": "octagam_10", "indication": "itp_chronic"},
        "warning", ["Octagam 10% contains maltose", "GDH-PQQ", "insulin"]),
    "maltose_corn_allergy": (
        adult(conditions=["corn_allergy"]), {"product": "octagam_10", "indication": "itp_chronic"},
        "warning", ["corn allergy"]),
    "contraindicated_anti_iga": (
        {"conditions": ["iga_deficiency_with_anti_iga"]}, {}, "error",
        ["antibodies to IgA", "Privigen IgA content", "25"]),
    "iga_deficiency_product_iga": (
        {"conditions": ["iga_deficiency"]}, {}, "warning",
        ["IgA deficiency", "Privigen IgA content", "antibodies to IgA"]),
    "contraindicated_hypersensitivity": (
        {"conditions": ["hypersensitivity_to_immune_globulin"]}, {}, "error",
        ["severe allergic reaction", "Privigen is contraindicated"]),
    "sorbitol_young_child": (
        {"birth_date": "2025-06-01", "weight": "10 kg", "height": "78 cm"},
        {"product": "flebogamma_5_dif", **PI}, "warning", ["Flebogamma 5% DIF contains sorbitol"]),
    "heart_failure_volume": (
        {"conditions": ["heart_failure"]}, {"days": 1}, "warning",
        ["heart failure", "399 mL", "20 mL/kg", "2 g/kg", "above 1 g/kg per day",
         "more days than 1"]),
    "heart_failure_volume_info": (
        {"conditions": ["heart_failure"]}, {"days": 2}, "info", ["200 mL", "1 g/kg"]),
    "hemolysis_risk": (
        {"blood_group": "A+"}, {}, "warning", ["Blood group A+", "2 g/kg", "days 5–10"]),
    "hemolysis_blood_group_unknown": (
        {"blood_group": None}, {}, "info", ["2 g/kg", "blood group is not given"]),
    "aseptic_meningitis_risk": (
        {"conditions": ["migraine"]}, {}, "warning", ["Migraine", "2 g/kg", "aseptic meningitis"]),
    "pump_rate_above_absolute_cap": (
        adult(weight="100 kg"), {**PI, "titration": up_to("2.5 mL/kg/h")}, "warning",
        ["250 mL/h", "240 mL/h"]),
    "dose_unit_slip": (
        {}, {"dose": "2 mg/kg"}, "error", ["2 mg/kg", "0.002 g/kg", "2 g/kg would fit",
                                          "larger unit"]),
    "dose_range_unknown": (
        adult(), {"indication": "b_cell_cll", "dose": "0.4 g/kg", "days": 1}, "warning",
        ["No labeled or usual dose range", "Privigen"]),
    "dose_outside_label_range": (
        adult(), {**PI, "dose": "0.1 g/kg"}, "warning",
        ["0.1 g/kg per course", "outside the Privigen label", "0.2–0.8 g/kg"]),
    "dose_outside_usual_range": (
        {}, {"indication": "kawasaki", "dose": "1 g/kg", "days": 1}, "warning",
        ["1 g/kg per course", "outside the usual regimen", "2 g/kg"]),
    "days_outside_range": (
        adult(), {"indication": "itp_chronic", "days": 3}, "warning",
        ["over 3 day(s)", "label", "over 2 day(s)"]),
    "dose_above_course_maximum": (
        adult(), {}, "warning", ["140 g", "above the 70 g maximum", "Juvenile dermatomyositis"]),
    "first_infusion_not_known_within_advice": (
        {"first_infusion": None}, {}, "info", ["does not say", "advice", "stays active"]),
    "dose_above_highest_regimen": (
        {}, {"dose": "20 g/kg"}, "error",
        ["20 g/kg per course", "above the highest dose", "Juvenile dermatomyositis", "2 g/kg"]),
    "dose_day_course_slip": (
        adult(), {"indication": "itp", "dose": "400 mg/kg", "days": 5}, "error",
        ["400 mg/kg over 5 day(s)", "0.4 g/kg", "read per day", "2 g/kg per course"]),
    "vial_rounding_changed_dose": (
        {"weight": "18.5 kg"}, {**PI, "vial_rounding": "whole_vial"}, "warning",
        ["prescribed 7.4 g (0.4 g/kg)", "given 5 g (0.27 g/kg)", "−2.4 g, −32.4 %"]),
    "glucose_diabetes": (
        adult(conditions=["diabetes"]),
        {**PI, "product": "gammagard_sd", "concentration": "50 mg/mL"}, "warning",
        ["Gammagard S/D contains glucose", "Secondary source"]),
    "weight_implausible_adult": (
        adult(weight="400 kg"), {**PI}, "warning", ["400 kg", "22.7–340.2 kg"]),
    "dose_fixed_grams": (
        {}, {"dose": "40 g"}, "info", ["fixed amount (40 g)", "2 g/kg"]),
    "age_unknown_for_label": (
        adult(birth_date=None), {"indication": "itp_chronic"}, "warning",
        ["15 years and older", "age is not given"]),
    "age_below_label_population": (
        {}, {"indication": "itp_chronic"}, "warning", ["15 years and older", "younger"]),
    "weight_not_checked": (
        adult(birth_date=None), {**PI}, "info", ["not checked", "age is not given"]),
    "weight_possible_pounds_as_kg": (
        {"weight": "44 kg"}, {}, "warning", ["44 kg", "pounds", '"lb"']),
    "weight_possible_kg_as_pounds": (
        {"weight": "20 lb"}, {}, "warning", ["20 lb", "low for the age", "kilograms"]),
    "weight_implausible_for_age": (
        {"weight": "5 kg"}, {}, "warning", ["5 kg", "below the plausible range"]),
    "rate_falls_with_reason": (
        {}, {"titration": [*SEED_STEPS[:2], {"rate": "0.5 mL/kg/h", "minutes": 30,
                                             "reason": "flushing at 1 mL/kg/h"},
                           {"rate": "1 mL/kg/h"}]},
        "info", ["Step 3", "flushing at 1 mL/kg/h"]),
    "rate_falls_without_reason": (
        {}, {"titration": [*SEED_STEPS[:2], {"rate": "0.5 mL/kg/h", "minutes": 30},
                           {"rate": "1 mL/kg/h"}]},
        "warning", ["Step 3 (0.5 mL/kg/h)", "step before (1 mL/kg/h)", "no reason"]),
    "pump_rate_zero": (
        {}, {"titration": [{"rate": "0.04 mL/h", "minutes": 30}, {"rate": "1 mL/kg/h"}]},
        "error", ["Step 1", "0.04 mL/h", "0.0 mL/h"]),
    "plan_cannot_deliver_volume": (
        {}, {"titration": [*SEED_STEPS[:3], {"rate": "2 mL/kg/h", "minutes": 60}]},
        "error", ["69.8 mL", "199.6 mL", "Leave the minutes off the last step"]),
    "max_rate_never_reached": (
        {}, {"dose": "0.1 g/kg", "days": 1}, "info", ["step(s) 4", "1.5 mL/kg/h", "2 mL/kg/h"]),
    "rule_clamped_at_max": (
        adult(), {"product": "bivigam", **PI, "dose": "0.8 g/kg", "titration": BIVIGAM_RULE},
        "info", ["held at 6 mg/kg/min"]),
    "secondary_source_used": (
        {}, {}, "info", ["Privigen", "secondary sources", "EU SmPC"]),
    "dosing_weight_formula_not_applicable": (
        {}, {"dosing_weight": "adjusted"}, "warning", ["Devine", "actual weight", "112"]),
    "dosing_weight_actual_below_ideal": (
        adult(weight="60 kg"), {**PI, "dosing_weight": "ideal"}, "info",
        ["actual weight (60.0 kg) is below the ideal weight (70.5 kg)"]),
    "dosing_weight_rule_pack_actual": (
        {}, {"dosing_weight": "bloodstar"}, "info", ["BloodSTAR", "under 18 years",
                                                    "actual weight"]),
    "dosing_weight_pregnancy": (
        adult(sex="female", height="165 cm", weight="60 kg", conditions=["pregnancy"]),
        {**PI, "dosing_weight": "ontario"}, "warning", ["Pregnancy", "pre-pregnancy weight"]),
    "vial_rounding_to_zero": (
        adult(), {**PI, "dose": "2 g", "vial_rounding": "nearest_5_g"}, "error",
        ["0 g", "not rounded"]),
    "vial_sizes_unknown": (
        adult(), {"product": "flebogamma_10_dif", **PI, "vial_rounding": "whole_vial"}, "error",
        ["vial sizes are not known"]),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_emitted(code: str) -> None:
    patient, order, severity, words = CASES[code]
    f = the(plan_of(patient, **order), code)
    assert f.severity == severity
    for w in words:
        assert w in f.message, f"{w!r} not in {f.message!r}"
    assert f.source and f.message_es


def _spec() -> dict[str, Any]:
    text = resources.files("ivig.data").joinpath("findings.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["findings"]


def test_findings_toml_is_complete_and_every_plan_code_is_tested() -> None:
    spec = _spec()
    for code, entry in spec.items():
        assert entry["severity"] in {"error", "warning", "info"}, code
        assert entry["message_en"].strip() and entry["message_es"].strip(), code
        assert entry["title_en"].strip() and entry["title_es"].strip(), code
    plan_codes = {c for c in spec if not c.startswith("compare_")}
    assert plan_codes - set(CASES) == set(), "codes without a test"
    assert set(CASES) - plan_codes == set(), "tests for codes that do not exist"


def test_severity_in_table_matches_findings_toml() -> None:
    spec = _spec()
    for code, (_, _, severity, _) in CASES.items():
        assert spec[code]["severity"] == severity, code


# --- Nearest plans that must NOT trigger --------------------------------------------------------


def test_first_infusion_at_2_is_advice_2_1_is_not() -> None:
    assert "first_infusion_rate_above_advice" not in codes(plan_of())  # seed tops at 2.0
    assert "first_infusion_rate_above_advice" in codes(plan_of(titration=up_to("2.1 mL/kg/h")))
    later = plan_of({"first_infusion": False}, titration=up_to("2.1 mL/kg/h"))
    assert not codes(later) & {"first_infusion_rate_above_advice", "first_infusion_unknown",
                               "product_switch_rate_above_advice"}


def test_switch_back_to_same_product_is_not_a_switch() -> None:
    p = plan_of({"first_infusion": False, "previous_product": "privigen"},
                titration=up_to("2.1 mL/kg/h"))
    assert "product_switch_rate_above_advice" not in codes(p)


def test_dose_unit_slip_not_for_grams() -> None:
    p = plan_of()
    assert "dose_unit_slip" not in codes(p)
    assert "dose_outside_usual_range" not in codes(p)


def test_dose_unit_slip_is_an_error_plan() -> None:
    assert plan_of(dose="2 mg/kg").has_errors


def test_pounds_as_kg_not_for_pounds() -> None:
    p = plan_of()  # 44 lb
    assert not codes(p) & {"weight_possible_pounds_as_kg", "weight_possible_kg_as_pounds",
                           "weight_implausible_for_age"}


def test_at_risk_ceiling_panzyga_boundary() -> None:
    # Panzyga at-risk ceiling: 3.3 mg/kg/min = 0.033 mL/kg/min = 1.98 mL/kg/h.
    risky = adult(conditions=["renal_impairment"])
    at = plan_of(risky, product="panzyga", titration=up_to("1.98 mL/kg/h"), **PI)
    assert "rate_above_at_risk_max" not in codes(at)
    assert "renal_or_thrombosis_risk" in codes(at)
    assert "1.98 mL/kg/h" in the(at, "renal_or_thrombosis_risk").message
    over = plan_of(risky, product="panzyga", titration=up_to("2 mL/kg/h"), **PI)
    assert the(over, "rate_above_at_risk_max").step == 4
    # Same rates without a risk factor: no at-risk finding at all.
    plain = plan_of(adult(), product="panzyga", titration=up_to("2 mL/kg/h"), **PI)
    assert not codes(plain) & {"rate_above_at_risk_max", "renal_or_thrombosis_risk"}


def test_age_over_65_is_a_risk_factor() -> None:
    p = plan_of(adult(birth_date="1950-01-01"), product="panzyga", **PI)
    assert "age over 65 years" in the(p, "rate_above_at_risk_max").message


def test_renal_risk_without_numeric_ceiling_is_warning_only() -> None:
    # Privigen has no numeric at-risk ceiling: only the warning, whatever the rate.
    p = plan_of(adult(conditions=["renal_impairment"]), titration=up_to("2.4 mL/kg/h"), **PI)
    assert "rate_above_at_risk_max" not in codes(p)
    assert the(p, "renal_or_thrombosis_risk").severity == "warning"
    assert not p.has_errors


def test_thrombosis_risk_factor_counts() -> None:
    p = plan_of(adult(conditions=["estrogen_use"]), product="panzyga", **PI)
    assert "rate_above_at_risk_max" in codes(p)
    assert "sucrose_renal_risk" not in codes(p)  # thrombosis only, and no sucrose


def test_heart_failure_threshold() -> None:
    one_day = plan_of({"conditions": ["heart_failure"]}, days=1)
    two_days = plan_of({"conditions": ["heart_failure"]}, days=2)
    assert "heart_failure_volume" in codes(one_day)
    assert "heart_failure_volume" not in codes(two_days)
    assert "heart_failure_volume_info" in codes(two_days)
    assert "heart_failure_volume_info" not in codes(plan_of())


def test_heart_failure_counts_saline() -> None:
    p = plan_of({"conditions": ["heart_failure"]}, days=1, saline="10 mL/kg")
    # 399.2 mL IVIG + 199.6 mL saline = 598.7 mL over 19.958 kg = 30 mL/kg
    assert "30 mL/kg" in the(p, "heart_failure_volume").message
    assert "200 mL of saline" in the(p, "heart_failure_volume").message


def test_hemolysis_boundaries() -> None:
    assert "hemolysis_risk" not in codes(plan_of())  # O+
    assert "hemolysis_risk" not in codes(plan_of({"blood_group": "A+"}, dose="1.9 g/kg"))
    assert "hemolysis_risk" in codes(plan_of({"blood_group": "AB-"}))


def test_aseptic_meningitis_needs_migraine_and_high_dose() -> None:
    assert "aseptic_meningitis_risk" not in codes(plan_of())
    low = plan_of({"conditions": ["migraine"]}, dose="1 g/kg")
    assert "aseptic_meningitis_risk" not in codes(low)


def test_pump_cap_boundary() -> None:
    # 2.4 mL/kg/h × 100 kg = 240 mL/h: at the cap, not above it.
    at = plan_of(adult(weight="100 kg"), titration=up_to("2.4 mL/kg/h"), **PI)
    assert "pump_rate_above_absolute_cap" not in codes(at)


def test_rates_that_rise_give_no_fall_finding() -> None:
    assert not codes(plan_of()) & {"rate_falls_with_reason", "rate_falls_without_reason"}


def test_fixed_minutes_on_last_step_that_suffice_are_fine() -> None:
    # 29.85 mL in the first 90 min + 39.9 mL/h × 5 h = 229.35 mL ≥ 199.58 mL:
    # complete, and the last step is cut short.
    p = plan_of(titration=[*SEED_STEPS[:3], {"rate": "2 mL/kg/h", "minutes": 300}])
    assert "plan_cannot_deliver_volume" not in codes(p)
    assert p.days[0].schedule.steps[-1].cut_short


def test_contraindications_make_an_error_plan() -> None:
    for code in ("contraindicated_sorbitol_fructose", "contraindicated_proline_hyperprolinemia",
                 "contraindicated_anti_iga", "contraindicated_hypersensitivity"):
        patient, order, _, _ = CASES[code]
        assert plan_of(patient, **order).has_errors, code


def test_proline_product_without_hyperprolinemia_and_sorbitol_without_hfi() -> None:
    assert "contraindicated_proline_hyperprolinemia" not in codes(plan_of())
    p = plan_of(adult(), product="flebogamma_5_dif", **PI)
    assert "contraindicated_sorbitol_fructose" not in codes(p)
    assert "sorbitol_young_child" not in codes(p)


def test_maltose_free_product_with_diabetes() -> None:
    p = plan_of(adult(conditions=["diabetes"]), **PI)  # Privigen: no maltose
    assert "maltose_glucose_meter" not in codes(p)


def test_alyglo_label_rates_unknown_names_the_checks() -> None:
    p = plan_of(adult(), product="alyglo", **PI)
    f = the(p, "label_rates_unknown")
    assert "starting rate, time between steps, maximum rate" in f.message
    assert "rate_above_label_max" not in codes(plan_of(adult(), product="alyglo",
                                                       titration=up_to("9 mL/kg/h"), **PI))


def test_gammagard_sd_concentration_required() -> None:
    from ivig.core.order import OrderError

    with pytest.raises(OrderError) as exc:
        plan_of(adult(), product="gammagard_sd", **PI)
    assert exc.value.problems[0].field == "order.concentration"


def test_kawasaki_dose_in_range() -> None:
    p = plan_of(indication="kawasaki", dose="2 g/kg", days=1)
    assert not codes(p) & {"dose_outside_usual_range", "days_outside_range", "dose_unit_slip"}


def test_label_age_at_or_above_population() -> None:
    p = plan_of(adult(), indication="itp_chronic")
    assert not codes(p) & {"age_below_label_population", "age_unknown_for_label"}


def test_a_child_on_an_adults_only_label_row_is_flagged() -> None:
    # Panzyga's chronic ITP row says "adults" with no number: read as 18 and over (rules.toml).
    child = plan_of(product="panzyga", indication="itp_chronic")
    f = next(f for f in child.findings if f.code == "age_below_label_population")
    assert f.severity == "warning" and "Design choice" in f.source
    grown_up = plan_of(adult(), product="panzyga", indication="itp_chronic")
    assert "age_below_label_population" not in codes(grown_up)


def test_rate_slip_not_for_a_slightly_fast_start() -> None:
    p = plan_of(titration=[{"rate": "1 mL/kg/h", "minutes": 30}, {"rate": "2 mL/kg/h"}])
    assert "start_rate_tenfold_slip" not in codes(p)  # 3.3x the label: a warning, not a slip


def test_weak_maximum_is_a_warning_and_hospital_setting_is_quiet() -> None:
    p = plan_of(adult(), setting="hospital",
                premedication=[{"name": "diphenhydramine", "dose": "75 mg", "minutes_before": 30}])
    (f,) = [f for f in p.findings if f.code == "premedication_above_max_single_dose"]
    assert f.severity == "warning" and "weak source" in f.message
    assert not codes(p) & {"home_first_infusion", "home_product_switch",
                           "premedication_timing_outside_advice"}


def test_bad_setting_and_repeat_are_clear_input_errors() -> None:
    from ivig.core.order import OrderError

    with pytest.raises(OrderError) as error:
        plan_of(setting="garden", premedication=[{"name": "x", "repeat_every": "4"}])
    text = str(error.value)
    assert "order.setting" in text and "'hospital', 'clinic', 'home'" in text
    assert "order.premedication[0].repeat_every" in text
