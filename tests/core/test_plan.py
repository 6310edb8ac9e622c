"""Worked examples of whole plans. Every expected number is computed by hand in the comments
(from the order, the catalogue facts and the formulas), never copied from the program's output."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ivig.core.findings import Finding
from ivig.core.order import read_document_file
from ivig.core.plan import Plan, build_plan
from tests.core.builders import document

TODAY = date(2026, 11, 21)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ADULT = {"birth_date": "1980-01-01", "height": "175 cm", "sex": "male", "weight": "70 kg"}
D = Decimal


def plan_of(patient: dict | None = None, **order: object) -> Plan:
    return build_plan(document(patient, **order), today=TODAY)


def codes(plan: Plan) -> set[str]:
    return {f.code for f in plan.findings}


def finding(plan: Plan, code: str) -> Finding:
    found = [f for f in plan.findings if f.code == code]
    assert found, f"{code} not in {sorted(codes(plan))}"
    return found[0]


def close(value: Decimal, expected: str, tol: str = "0.001") -> bool:
    return abs(value - D(expected)) <= D(tol)


# --- The seed chart ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Plan:
    return build_plan(read_document_file(EXAMPLES / "seed-chart.toml"), today=TODAY)


def test_seed_weight_and_dose(seed: Plan) -> None:
    # 44 lb × 0.45359237 kg/lb = 19.95806428 kg (exact: the international pound).
    assert seed.dosing.weight_kg == D("19.95806428")
    assert seed.dosing.method == "actual"
    # 2 g/kg × 19.95806428 kg = 39.91612856 g over 2 days = 19.95806428 g a day.
    assert seed.course.prescribed_g == D("39.91612856")
    assert seed.course.dose_g == D("39.91612856")
    assert [d.dose.dose_g for d in seed.days] == [D("19.95806428")] * 2
    # Privigen 10 % = 100 mg/mL: 19.95806428 g = 199.5806428 mL a day.
    assert seed.concentration_mg_ml == D(100)
    assert [d.volume_ml for d in seed.days] == [D("199.5806428")] * 2


def test_seed_pump_rates_rounded_down(seed: Plan) -> None:
    # 0.5 × 19.958 = 9.979 → 9.9; 1 × = 19.958 → 19.9; 1.5 × = 29.937 → 29.9; 2 × = 39.916 → 39.9
    assert [s.pump_rate_ml_h for s in seed.steps] == [D("9.9"), D("19.9"), D("29.9"), D("39.9")]
    # mg/kg/min = mL/kg/h × 100 mg/mL / 60: 0.5 → 0.8333…, 2 → 3.333…
    assert close(seed.steps[0].rate_mg_kg_min, "0.8333")
    assert close(seed.steps[3].rate_mg_kg_min, "3.3333")


def test_seed_schedule_volumes_and_times(seed: Plan) -> None:
    sched = seed.days[0].schedule
    # 30 min at 9.9 mL/h = 4.95 mL; at 19.9 = 9.95 mL; at 29.9 = 14.95 mL; together 29.85 mL.
    assert [s.volume_ml for s in sched.steps[:3]] == [D("4.95"), D("9.95"), D("14.95")]
    assert sched.steps[2].cumulative_ml == D("29.85")
    # Last step: 199.5806428 − 29.85 = 169.7306428 mL at 39.9 mL/h
    #   = 169.7306428 × 60 / 39.9 min = 255.2340 min.
    last = sched.steps[3]
    assert last.volume_ml == D("169.7306428")
    assert close(last.end_min - last.start_min, "255.2340")
    assert last.start_min == 90
    assert last.cumulative_ml == D("199.5806428")
    # Total 90 + 255.234 = 345.234 min = 5 h 45.2 min.
    assert close(sched.duration_min, "345.2340")
    assert sched.complete and not sched.unreached


def test_seed_clock_times(seed: Plan) -> None:
    d1, d2 = seed.days
    assert d1.start == datetime(2026, 12, 1, 8, 30)
    # 08:30 + 345.234 min = 14:15:14
    assert d1.end is not None and d1.end.strftime("%H:%M") == "14:15"
    assert d2.start == datetime(2026, 12, 2, 8, 30)
    assert d2.end is not None and d2.end.strftime("%H:%M") == "14:15"
    # Saline 10 mL/kg × 19.958 kg = 199.58 mL
    assert close(d1.saline_ml, "199.5806")


def test_seed_has_no_errors(seed: Plan) -> None:
    assert not seed.has_errors
    # 0.5 mL/kg/h is above Privigen's labeled start (0.5 mg/kg/min = 0.3 mL/kg/h): a warning.
    assert "start_rate_above_label_initial" in codes(seed)
    # JDM is not a Privigen label indication.
    assert "product_not_labeled_for_indication" in codes(seed)
    # 2 mL/kg/h on a first infusion is AT the advice, not above.
    assert "first_infusion_rate_above_advice" not in codes(seed)


# --- Dosing weight -------------------------------------------------------------------------------


def test_bloodstar_worked_check() -> None:
    # Male 175 cm = 68.8976 in; IBW = 50 + 2.3 × 8.8976 = 70.4646 kg ≈ 70.5.
    # DDW = 70.4646 + 0.4 × (100 − 70.4646) = 82.2787 kg ≈ 82.3.
    p = plan_of(
        dict(ADULT, weight="100 kg"),
        indication="pi",
        dose="0.4 g/kg",
        days=1,
        dosing_weight="bloodstar",
    )
    assert p.dosing.method == "adjusted"
    assert close(p.dosing.ideal_kg, "70.4646", "0.0001")
    assert close(p.dosing.weight_kg, "82.2787", "0.0001")
    # 0.4 g/kg × 82.2787 kg = 32.911 g
    assert close(p.course.dose_g, "32.9115", "0.0001")


def test_ontario_bmi_above_30_is_adjusted() -> None:
    # Female 150 cm (below 152.4 cm, so only the BMI criterion can apply), 70 kg:
    # BMI = 70 / 1.5² = 31.1 > 30 → adjusted.
    # IBW = 45.5 + 2.3 × (150/2.54 − 60) = 45.5 − 2.17323 = 43.32677 kg
    # adjusted = 43.32677 + 0.4 × (70 − 43.32677) = 53.99606 kg
    p = plan_of(
        {"birth_date": "1980-01-01", "height": "150 cm", "sex": "female", "weight": "70 kg"},
        indication="pi",
        dose="0.4 g/kg",
        days=1,
        dosing_weight="ontario",
    )
    assert p.dosing.method == "adjusted"
    assert close(p.dosing.weight_kg, "53.99606", "0.0001")
    assert "BMI" in p.dosing.explanation


def test_ontario_bmi_exactly_30_uses_actual() -> None:
    # 67.5 kg / 1.5² = 30.0, not above 30; height below 152.4 cm → actual weight.
    p = plan_of(
        {"birth_date": "1980-01-01", "height": "150 cm", "sex": "female", "weight": "67.5 kg"},
        indication="pi",
        dose="0.4 g/kg",
        days=1,
        dosing_weight="ontario",
    )
    assert p.dosing.method == "actual"
    assert p.dosing.weight_kg == D("67.5")
    assert "dosing_weight_rule_pack_actual" in codes(p)


def test_ideal_weight_for_a_child_falls_back_to_actual() -> None:
    p = plan_of(dosing_weight="ideal")
    assert p.dosing.method == "actual"
    assert p.dosing.weight_kg == D("19.95806428")
    f = finding(p, "dosing_weight_formula_not_applicable")
    assert f.severity == "warning"
    assert "actual" in f.message and "112" in f.message


# --- Vial rounding (Gammagard Liquid vials 1, 2.5, 5, 10, 20, 30 g) ------------------------------

GG = {"product": "gammagard_liquid", "indication": "pi", "dose": "0.4 g/kg", "days": 1}
ADULT_31 = dict(ADULT, weight="31 kg")  # 0.4 g/kg × 31 kg = 12.4 g


def test_vial_rounding_none_covers_the_dose() -> None:
    p = plan_of(ADULT_31, vial_rounding="none", **GG)
    day = p.days[0].dose
    # Dose unchanged 12.4 g; fewest grams to cover it: 10 + 2.5 = 12.5 g, waste 0.1 g.
    assert day.dose_g == D("12.4")
    assert day.vial_total_g == D("12.5")
    assert day.wasted_g == D("0.1")
    assert {(v.size_g, v.count) for v in day.vials} == {(D(10), 1), (D("2.5"), 1)}


def test_vial_rounding_whole_vial_nearest_total() -> None:
    p = plan_of(ADULT_31, vial_rounding="whole_vial", **GG)
    # Nearest vial total to 12.4 g: 12.5 g (10 + 2.5), 0.1 g away (12 g = 10 + 1 + 1 is 0.4 away).
    assert p.days[0].dose.dose_g == D("12.5")
    assert p.days[0].volume_ml == D("125")


def test_vial_rounding_nearest_5_g() -> None:
    p = plan_of(ADULT_31, vial_rounding="nearest_5_g", **GG)
    # 12.4 g is 2.4 g from 10 and 2.6 g from 15 → 10 g.
    assert p.days[0].dose.dose_g == D(10)
    assert p.course.dose_g == D(10)
    assert p.course.prescribed_g == D("12.4")


# --- Dose forms ----------------------------------------------------------------------------------


def test_per_day_dose() -> None:
    # 400 mg/kg/day × 20 kg × 5 days = 40 g; 8 g = 80 mL a day.
    p = plan_of({"weight": "20 kg"}, indication="pi", dose="400 mg/kg/day", days=5)
    assert [d.dose.dose_g for d in p.days] == [D(8)] * 5
    assert p.course.dose_g == D(40)
    assert p.days[0].volume_ml == D(80)


def test_fixed_course_dose() -> None:
    # 40 g over 2 days → 20 g = 200 mL a day; 40 g / 19.958 kg = 2.0042 g/kg.
    p = plan_of(dose="40 g", days=2)
    assert [d.dose.dose_g for d in p.days] == [D(20), D(20)]
    assert close(p.course_dose_g_per_kg, "2.0042", "0.0001")
    assert "dose_fixed_grams" in codes(p)


def test_fixed_daily_dose() -> None:
    # 20 g/day × 2 days = 40 g.
    p = plan_of(dose="20 g/day", days=2)
    assert p.course.dose_g == D(40)
    assert [d.volume_ml for d in p.days] == [D(200), D(200)]


# --- Rule-form titration: Bivigam ----------------------------------------------------------------


def test_bivigam_rule_clamped_at_max() -> None:
    # Bivigam PI: 0.5 mg/kg/min for 10 min, + 0.8 every 20 min, up to 6 mg/kg/min.
    # At 100 mg/mL: 0.5 mg/kg/min = 0.3 mL/kg/h; +0.48 mL/kg/h; max 6 = 3.6 mL/kg/h.
    # Ramp: 0.3, 0.78, 1.26, 1.74, 2.22, 2.70, 3.18, then 3.66 > 3.6 → held at 3.6.
    rule = {
        "start": "0.5 mg/kg/min",
        "increase_by": "0.8 mg/kg/min",
        "every_minutes": 20,
        "max": "6 mg/kg/min",
        "first_step_minutes": 10,
    }
    p = plan_of(ADULT, product="bivigam", indication="pi", dose="0.8 g/kg", days=1, titration=rule)
    rates = [s.rate_ml_kg_h for s in p.steps]
    assert rates == [
        D("0.3"),
        D("0.78"),
        D("1.26"),
        D("1.74"),
        D("2.22"),
        D("2.70"),
        D("3.18"),
        D("3.6"),
    ]
    assert p.steps[-1].clamped and p.steps[-1].minutes is None
    assert [s.minutes for s in p.steps[:3]] == [10, 20, 20]
    # 70 kg: pump 21.0, 54.6, 88.2, 121.8, 155.4, 189.0, 222.6, 252.0 mL/h
    assert [s.pump_rate_ml_h for s in p.steps] == [
        D("21.0"),
        D("54.6"),
        D("88.2"),
        D("121.8"),
        D("155.4"),
        D("189.0"),
        D("222.6"),
        D("252.0"),
    ]
    f = finding(p, "rule_clamped_at_max")
    assert f.severity == "info" and "6 mg/kg/min" in f.message
    # Held exactly at the label maximum: not above it.
    assert "rate_above_label_max" not in codes(p)
    # 0.8 g/kg × 70 kg = 56 g = 560 mL. Ramp steps deliver 3.5 + 18.2 + 29.4 + 40.6 + 51.8
    # + 63 + 74.2 = 280.7 mL; the last 279.3 mL at 252 mL/h take 66.5 min; total 196.5 min.
    sched = p.days[0].schedule
    assert sched.steps[6].cumulative_ml == D("280.7")
    assert close(sched.duration_min, "196.5")


# --- Label maxima ------------------------------------------------------------------------------


def _up_to(top: str) -> list[dict[str, object]]:
    return [
        {"rate": "0.5 mL/kg/h", "minutes": 30},
        {"rate": "1 mL/kg/h", "minutes": 30},
        {"rate": top},
    ]


def test_gammagard_liquid_primary_unit_governs_the_maximum() -> None:
    # Label: "5 mL/kg/hr (8 mg/kg/min)". 8 mg/kg/min at 100 mg/mL = 4.8 mL/kg/h is the label's
    # own rounding of 8.33; its primary unit is mL/kg/hr, so 5 mL/kg/h governs (issue 8).
    adult = dict(ADULT, weight="50 kg")
    ok = plan_of(adult, titration=_up_to("5 mL/kg/h"), **GG)
    assert "rate_above_label_max" not in codes(ok)
    p = plan_of(adult, titration=_up_to("5.2 mL/kg/h"), **GG)
    f = finding(p, "rate_above_label_max")
    assert f.severity == "error"
    assert f.step == 3
    assert "5 mL/kg/h" in f.message and "primary unit governs" in f.message


def test_privigen_chronic_itp_maximum() -> None:
    # Privigen chronic ITP: 4 mg/kg/min = 2.4 mL/kg/h (half the PI maximum).
    adult = dict(ADULT, weight="70 kg")
    p = plan_of(adult, indication="itp_chronic", titration=_up_to("3 mL/kg/h"))
    f = finding(p, "rate_above_label_max")
    assert f.severity == "error" and "2.4 mL/kg/h" in f.message
    ok = plan_of(adult, indication="itp_chronic", titration=_up_to("2.4 mL/kg/h"))
    assert "rate_above_label_max" not in codes(ok)


def test_ontario_bmi_rule_never_gives_a_negative_dosing_weight() -> None:
    # 4-year-old, 90 cm, 25 kg: BMI = 25 / 0.9² = 30.9 > 30, so Ontario asks for the adjusted
    # weight; but Devine at 90 cm = 45.5 + 2.3 × (35.43 − 60) = −11.0 kg, and the "adjusted"
    # weight would be −11.0 + 0.4 × 36.0 = 3.4 kg. The dose must use the actual 25 kg instead.
    p = plan_of(
        {"weight": "25 kg", "height": "90 cm", "birth_date": "2022-06-01"}, dosing_weight="ontario"
    )
    assert p.dosing.method == "actual"
    assert p.dosing.weight_kg == D(25)
    # Ontario's own rule for children: under 18 and not meeting the height/weight criteria
    # (height >= 152.4 cm and weight above 45.5 kg for girls) -> actual weight.
    f = finding(p, "dosing_weight_rule_pack_actual")
    assert "children under 18 years" in f.message
    assert all(s.pump_rate_ml_h > 0 for s in p.steps)


def test_ontario_never_doses_above_the_actual_weight() -> None:
    # 170 cm woman, 50 kg: Devine IBW = 45.5 + 2.3 × (66.93 − 60) = 61.4 kg; the "adjusted"
    # weight 61.4 + 0.4 × (50 − 61.4) = 56.9 kg would exceed what she weighs.
    p = plan_of(
        {"weight": "50 kg", "height": "170 cm", "sex": "female", "birth_date": "1986-01-01"},
        dosing_weight="ontario",
    )
    assert p.dosing.weight_kg == D(50)
    assert "below the ideal weight" in finding(p, "dosing_weight_actual_below_ideal").message


def test_ontario_adult_under_100_cm_with_bmi_over_30_uses_the_actual_weight() -> None:
    # Devine gives no positive weight below about 100 cm: the adjusted weight is meaningless.
    p = plan_of(
        {"weight": "40 kg", "height": "95 cm", "sex": "female", "birth_date": "1980-01-01"},
        dosing_weight="ontario",
    )
    assert p.dosing.weight_kg == D(40)
    f = finding(p, "dosing_weight_formula_not_applicable")
    assert "95.0 cm" in f.message
