"""Plan vs plan: the seed doctor's plan against the nurse's pump program, and smaller cases.

Doctor (examples/seed-chart.toml), 44 lb = 19.958 kg, 199.58 mL a day:
  0–30 min 9.9 mL/h, 30–60 19.9, 60–90 29.9, 90–345.2 39.9 mL/h.
Nurse (examples/seed-chart-nurse.toml), 20 kg, 2 g/kg / 2 days = 20 g = 200 mL a day:
  0–15 min 0.5 mL/h (0.125 mL), 15–30 20 mL/h (5 mL), 30–60 40 mL/h (20 mL), then 60 mL/h for
  the last 200 − 25.125 = 174.875 mL = 174.875 min, ending at minute 234.875.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ivig.core.compare import Comparison, compare
from ivig.core.findings import Finding
from ivig.core.order import read_document_file
from ivig.core.plan import Plan, build_plan
from ivig.render.compare_json import comparison_to_dict
from tests.core.builders import SEED_STEPS, document

TODAY = date(2026, 11, 21)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> Plan:
    return build_plan(read_document_file(EXAMPLES / name), today=TODAY)


def plan_of(patient: dict[str, Any] | None = None, **order: Any) -> Plan:
    return build_plan(document(patient, **order), today=TODAY)


def of(c: Comparison, code: str) -> list[Finding]:
    return [f for f in c.findings if f.code == code]


@pytest.fixture(scope="module")
def seed() -> Comparison:
    return compare(load("seed-chart.toml"), load("seed-chart-nurse.toml"))


def test_nurse_runs_faster_with_time_spans(seed: Comparison) -> None:
    spans = [(f.params["start"], f.params["end"], f.params["first"], f.params["second"])
             for f in of(seed, "compare_faster")]
    # Minute 0–15 the nurse is SLOWER (0.5 vs 9.9 mL/h): no finding there.
    assert spans == [
        ("15", "30", "9.9 mL/h", "20 mL/h"),
        ("30", "60", "19.9 mL/h", "40 mL/h"),
        ("60", "90", "29.9 mL/h", "60 mL/h"),
        ("90", "235", "39.9 mL/h", "60 mL/h"),
    ]
    f = of(seed, "compare_faster")[0]
    assert f.severity == "error"
    assert "From minute 15 to 30" in f.message
    assert seed.has_errors


def test_nurse_steps_shorter(seed: Comparison) -> None:
    shorter = of(seed, "compare_step_shorter")
    assert [(f.step, f.params["first"], f.params["second"]) for f in shorter] == [
        (1, "30", "15"), (2, "30", "15")]
    assert all(f.severity == "warning" for f in shorter)


def test_nurse_maximum_higher(seed: Comparison) -> None:
    (f,) = of(seed, "compare_max_higher")
    assert f.severity == "error"
    assert "60 mL/h" in f.message and "39.9 mL/h" in f.message


def test_nurse_first_step_ml_h_where_ml_kg_h_meant(seed: Comparison) -> None:
    # 9.9 mL/h / 0.5 mL/h = 19.8, within 15 % of the 19.958 kg dosing weight.
    (f,) = of(seed, "compare_ml_h_where_ml_kg_h_meant")
    assert f.severity == "error" and f.step == 1
    assert "0.5 mL/h" in f.message and "0.5 mL/kg/h" in f.message
    assert "19.8" in f.message and "20 kg" in f.message


def test_nurse_total_time_and_dose(seed: Comparison) -> None:
    times = of(seed, "compare_total_time_different")
    # 345.234 min = 5 h 45 min; 234.875 min = 3 h 55 min; shorter second plan → warning.
    assert {f.message for f in times} == {
        "Day 1 takes 3 h 55 min in the compared plan and 5 h 45 min in the prescription.",
        "Day 2 takes 3 h 55 min in the compared plan and 5 h 45 min in the prescription.",
    }
    assert all(f.severity == "warning" for f in times)
    # 19.96 g vs 20 g a day comes only from 44 lb vs 20 kg: a note, not an error (issue 8).
    assert not of(seed, "compare_dose_different")
    (note,) = of(seed, "compare_weight_conversion_only")
    assert note.severity == "info"
    assert "44 lb = 19.958 kg" in note.message and "19.96 g (199.6 mL) vs 20 g" in note.message
    assert "compare_same" not in {f.code for f in seed.findings}


def test_seed_comparison_document(seed: Comparison) -> None:
    doc = comparison_to_dict(seed)
    assert doc["schema"] == "ivig-compare/1"
    step1 = doc["steps"][0]
    assert step1["first"]["rate_ml_h"] == 9.9 and step1["second"]["rate_ml_h"] == 0.5
    assert step1["diff_ml_h"] == -9.4


def test_clear_wrong_field_case() -> None:
    # Same 20 kg child; the nurse programs the 2 mL/kg/h maximum as "2 mL/h".
    # 40 mL/h / 2 mL/h = 20 = the weight.
    doctor = plan_of({"weight": "20 kg"})
    nurse = plan_of({"weight": "20 kg"}, titration=[*SEED_STEPS[:3], {"rate": "2 mL/h"}])
    c = compare(doctor, nurse)
    (f,) = of(c, "compare_ml_h_where_ml_kg_h_meant")
    assert f.step == 4 and "2 mL/h" in f.message and "2 mL/kg/h" in f.message


def test_ordinary_difference_is_not_a_wrong_field_slip() -> None:
    doctor = plan_of({"weight": "20 kg"})
    nurse = plan_of({"weight": "20 kg"}, titration=[*SEED_STEPS[:3], {"rate": "1.8 mL/kg/h"}])
    c = compare(doctor, nurse)
    assert not of(c, "compare_ml_h_where_ml_kg_h_meant")
    assert not of(c, "compare_faster") and not of(c, "compare_max_higher")


def test_different_dosing_weight_actual_vs_adjusted() -> None:
    # Male 175 cm 100 kg: adjusted 82.28 kg (IBW 70.46 + 0.4 × 29.54) vs actual 100 kg.
    adult = {"birth_date": "1980-01-01", "height": "175 cm", "sex": "male", "weight": "100 kg"}
    order = {"indication": "pi", "dose": "0.4 g/kg", "days": 1}
    c = compare(plan_of(adult, dosing_weight="adjusted", **order),
                plan_of(adult, dosing_weight="actual", **order))
    (f,) = of(c, "compare_dosing_weight_different")
    assert f.severity == "warning"
    assert "82.28 kg (adjusted)" in f.message and "100 kg (actual)" in f.message
    # 0.4 g/kg × 82.28 = 32.91 g vs 40 g.
    (d,) = of(c, "compare_dose_different")
    assert "32.91 g" in d.message and "40 g" in d.message


def test_identical_plans_are_the_same(seed: Comparison) -> None:
    a = load("seed-chart.toml")
    c = compare(a, load("seed-chart.toml"))
    assert [f.code for f in c.findings] == ["compare_same"]
    assert c.findings[0].severity == "info"
    assert not c.has_errors


def test_different_product_and_days() -> None:
    c = compare(plan_of(), plan_of(product="panzyga", days=1))
    codes = {f.code for f in c.findings}
    assert "compare_product_different" in codes
    assert any(f.params.get("day_number") == "all" for f in of(c, "compare_dose_different"))


def test_slower_second_plan_is_not_faster_and_time_is_info() -> None:
    c = compare(plan_of(), plan_of(titration=[*SEED_STEPS[:3], {"rate": "1.5 mL/kg/h"}]))
    assert not of(c, "compare_faster") and not of(c, "compare_max_higher")
    assert all(f.severity == "info" for f in of(c, "compare_total_time_different"))
    assert not c.has_errors


def test_step_count_different() -> None:
    c = compare(plan_of(), plan_of(titration=[SEED_STEPS[0], SEED_STEPS[3]]))
    (f,) = of(c, "compare_step_count_different")
    assert f.params == {"first": "4", "second": "2"}
