"""`ivig triage` with the issue-9 cases, as a new user would type them (CLI and JSON): free
text, units without the degree sign, age required with a temperature, no needless questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ivig.cli import app

runner = CliRunner()


def triage(tmp_path: Path, doc: dict[str, object], *args: str) -> tuple[int, str, str]:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(app, ["triage", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def test_kawasaki_two_year_old_who_had_a_fit_with_38_9_is_an_emergency(tmp_path: Path) -> None:
    code, out, _ = triage(
        tmp_path,
        {
            "report": {"free_text": "he had a fit", "temperature": "38.9 C",
                       "hours_since_infusion_end": 20},
            "patient": {"age": "2 years"},
            "course": {"indication": "kawasaki"},
        },
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["level"] == "emergency"
    assert doc["free_text"][0]["read_as"][0]["symptom"] == "seizure"


def test_text_output_shows_what_each_phrase_was_read_as(tmp_path: Path) -> None:
    toml = tmp_path / "report.toml"
    toml.write_text(
        '[report]\nfree_text = "no trouble breathing, wheezng, the thingy"\n'
        "infusion_running = true\n[patient]\nage = \"6 years\"\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["triage", str(toml)])
    assert result.exit_code == 0
    assert result.stdout.startswith("EMERGENCY - STOP THE INFUSION")
    assert "read as NOT present: Trouble breathing" in result.stdout
    assert 'close spelling of "wheezing"' in result.stdout
    assert 'What did you mean by "the thingy"?' in result.stdout
    spanish = runner.invoke(app, ["triage", str(toml), "--language", "es"])
    assert "leído como NO presente" in spanish.stdout


@pytest.mark.parametrize("temperature", ["101.3 F", "101.3F", "38.5 C", "38.5c", "101.3°f"])
def test_temperatures_typed_without_the_degree_sign_are_accepted(
    tmp_path: Path, temperature: str
) -> None:
    code, out, err = triage(
        tmp_path,
        {"report": {"temperature": temperature, "hours_since_infusion_end": 10},
         "patient": {"age": "6 years"}},
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["level"] == "call_doctor"  # 38.5 °C is a fever to call about


def test_an_adult_with_37_9_and_no_age_is_refused_naming_the_field(tmp_path: Path) -> None:
    code, out, err = triage(
        tmp_path,
        {"report": {"symptoms": ["tired"], "temperature": "37.9 C",
                    "hours_since_infusion_end": 10},
         "course": {"indication": "cidp"}},
    )  # fmt: skip
    assert code == 2 and out == ""
    assert "patient.age: needed with a temperature" in err


def test_an_adult_with_37_9_and_an_age_is_not_judged_by_the_infant_rules(tmp_path: Path) -> None:
    code, out, _ = triage(
        tmp_path,
        {"report": {"symptoms": ["tired"], "temperature": "100.2 F",
                    "hours_since_infusion_end": 10},
         "patient": {"age": "45 years"}, "course": {"indication": "cidp"}},
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["level"] == "call_doctor"
    assert not any(r["code"] in ("T1", "C8") for r in doc["reasons"])
    assert not any("How old" in q for q in doc["questions_to_ask"])


def test_dark_urine_in_words_with_blood_group_and_dose_does_not_ask_for_them(
    tmp_path: Path,
) -> None:
    code, out, _ = triage(
        tmp_path,
        {"report": {"free_text": "dark urine", "hours_since_infusion_end": 96},
         "patient": {"age": "8 years", "blood_group": "B+"}, "course": {"dose": "2 g/kg"}},
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert "M-HEMOLYSIS-RISK" in {r["code"] for r in doc["reasons"]}
    assert not any(q.startswith("What is the blood group") for q in doc["questions_to_ask"])


def test_free_text_of_the_wrong_shape_is_refused_naming_the_field(tmp_path: Path) -> None:
    code, _, err = triage(tmp_path, {"report": {"free_text": 42}, "patient": {"age": "3 years"}})
    assert code == 2
    assert "report.free_text" in err
