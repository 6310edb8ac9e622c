"""Issue 8 from the command line: each case of the issue, tried again as a new user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.core import builders
from tests.test_cli import TODAY, run, write_json

NURSE_FASTER = [
    *builders.SEED_STEPS[:2],
    {"rate": "2.25 mL/kg/h", "minutes": 30},
    builders.SEED_STEPS[3],
]


def codes(output: str) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in json.loads(output)["findings"]}


def compare(tmp_path: Path, a: dict[str, Any], b: dict[str, Any]) -> Any:
    return run(
        "compare",
        write_json(tmp_path, a, "prescription.json"),
        write_json(tmp_path, b, "pump.json"),
        "--format",
        "json",
        *TODAY,
    )


def test_cli_faster_pump_step_is_an_error(tmp_path: Path) -> None:
    r = compare(tmp_path, builders.document(), builders.document(titration=NURSE_FASTER))
    assert r.exit_code == 1, r.output
    assert codes(r.stdout)["compare_faster"] == "error"


def test_cli_lb_vs_kg_only_is_a_note(tmp_path: Path) -> None:
    r = compare(tmp_path, builders.document(), builders.document({"weight": "20 kg"}))
    assert r.exit_code == 0, r.output
    found = codes(r.stdout)
    assert found["compare_weight_conversion_only"] == "info"
    assert "compare_dose_different" not in found


def test_cli_text_names_the_prescription_as_reference(tmp_path: Path) -> None:
    a = write_json(tmp_path, builders.document(), "rx.json")
    b = write_json(tmp_path, builders.document(titration=NURSE_FASTER), "pump.json")
    r = run("compare", a, b, *TODAY)
    assert r.exit_code == 1
    assert "(prescription, the reference)" in r.stdout
    assert "Faster than prescribed" in r.stdout or "compare_faster" in r.stdout


def plan(tmp_path: Path, doc: dict[str, Any]) -> Any:
    return run("plan", write_json(tmp_path, doc), "--format", "json", *TODAY)


ADULT = {"birth_date": "1980-01-01", "height": "175 cm", "sex": "male", "weight": "70 kg"}


def test_cli_twenty_g_per_kg_and_two_mg_per_kg_are_errors(tmp_path: Path) -> None:
    r = plan(tmp_path, builders.document(dose="20 g/kg"))
    assert r.exit_code == 1 and codes(r.stdout)["dose_above_highest_regimen"] == "error"
    r = plan(tmp_path, builders.document(ADULT, indication="pi", dose="2 mg/kg", days=1))
    assert r.exit_code == 1 and codes(r.stdout)["dose_unit_slip"] == "error"
    assert " 0 g/kg" not in r.stdout


def test_cli_heavy_child_and_vial_rounding_are_shown(tmp_path: Path) -> None:
    r = plan(tmp_path, builders.document({"weight": "440 lb"}))
    assert codes(r.stdout)["weight_implausible_for_age"] == "warning"
    doc = builders.document(
        {"weight": "18.5 kg"}, indication="pi", dose="0.4 g/kg", days=1, vial_rounding="whole_vial"
    )
    r = plan(tmp_path, doc)
    assert codes(r.stdout)["vial_rounding_changed_dose"] == "warning"
    text = run("plan", write_json(tmp_path, doc), *TODAY).stdout
    assert "prescribed 7.40 g (0.4 g/kg); given 5.00 g (0.2703 g/kg)" in text


def test_cli_gammagard_liquid_exact_label_plan_exits_0(tmp_path: Path) -> None:
    steps = [
        {"rate": "0.5 mL/kg/h", "minutes": 30},
        {"rate": "1 mL/kg/h", "minutes": 30},
        {"rate": "2 mL/kg/h", "minutes": 30},
        {"rate": "4 mL/kg/h", "minutes": 30},
        {"rate": "5 mL/kg/h"},
    ]
    doc = builders.document(
        {"weight": "20 kg", "first_infusion": False},
        product="gammagard_liquid",
        indication="pi",
        dose="0.4 g/kg",
        days=1,
        titration=steps,
    )
    r = plan(tmp_path, doc)
    assert r.exit_code == 0, r.output
    found = codes(r.stdout)
    assert "rate_above_label_max" not in found and "start_rate_above_label_initial" not in found
