"""`ivig triage FILE`: exit 0 when evaluated (any level), 2 for bad input, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ivig.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "triage"
runner = CliRunner()

EXPECTED_LEVELS = {
    "aseptic-meningitis-concern.toml": "emergency",
    "infant-fever.toml": "emergency",
    "expected-headache.toml": "expected",
    "kawasaki-fever-40h.toml": "call_doctor",
    "during-infusion-hives-wheeze.json": "emergency",
    "patient-threshold.toml": "expected",
}
JSON_KEYS = {
    "level", "heading", "within_hours", "stop_infusion", "infusion_running", "reasons", "advice",
    "questions_to_ask", "notes", "tags", "free_text", "patient_fever_threshold",
    "patient_fever_threshold_reason", "sources", "disclaimer", "if_in_doubt", "language",
    "triage_data_version",
}  # fmt: skip


def write(tmp_path: Path, text: str, name: str = "report.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_example_is_listed_here() -> None:
    assert {p.name for p in EXAMPLES.iterdir()} == set(EXPECTED_LEVELS)


@pytest.mark.parametrize(("name", "level"), sorted(EXPECTED_LEVELS.items()))
def test_examples_evaluate_with_exit_0_and_the_expected_level(name: str, level: str) -> None:
    result = runner.invoke(app, ["triage", str(EXAMPLES / name), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == JSON_KEYS
    assert doc["level"] == level
    for reason in doc["reasons"]:
        assert set(reason) == {"code", "level", "message", "sources"} and reason["sources"]


def test_kawasaki_example_json_carries_the_nonresponse_tag() -> None:
    result = runner.invoke(
        app, ["triage", str(EXAMPLES / "kawasaki-fever-40h.toml"), "--format", "json"]
    )
    assert "kd_possible_nonresponse" in json.loads(result.stdout)["tags"]


def test_text_output_puts_the_level_first_in_capitals_with_sources_and_advice() -> None:
    result = runner.invoke(app, ["triage", str(EXAMPLES / "aseptic-meningitis-concern.toml")])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "EMERGENCY"
    assert "[C3; GMX-PCI" in result.stdout
    assert "Call emergency services now" in result.stdout
    assert "If in doubt, call." in result.stdout
    assert "not a diagnosis" in result.stdout


def test_expected_example_says_you_may_call() -> None:
    result = runner.invoke(app, ["triage", str(EXAMPLES / "expected-headache.toml")])
    assert result.stdout.startswith("EXPECTED EFFECT")
    assert "You may call us any time." in result.stdout


def test_patient_threshold_example_shows_the_threshold_and_why() -> None:
    result = runner.invoke(app, ["triage", str(EXAMPLES / "patient-threshold.toml")])
    assert "38.3 °C" in result.stdout and "agreed with Dr Lee" in result.stdout


def test_spanish_output() -> None:
    result = runner.invoke(app, ["triage", str(EXAMPLES / "infant-fever.toml"), "--language", "es"])
    assert result.exit_code == 0
    assert result.stdout.startswith("EMERGENCIA")
    assert "Si tiene dudas, llame." in result.stdout


def test_during_infusion_example_says_stop_the_infusion() -> None:
    result = runner.invoke(app, ["triage", str(EXAMPLES / "during-infusion-hives-wheeze.json")])
    assert result.stdout.splitlines()[0] == "EMERGENCY - STOP THE INFUSION"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[report]\ntemperature = 38.5\n", "report.temperature: a number without a unit"),
        ('[report]\nfever_threshold = "38.3 °C"\n', "report.fever_threshold_reason"),
        ('[report]\nsymptoms = "stiff_neck"\n', "report.symptoms: expected a list"),
        ('[report]\ntemprature = "38 °C"\n', "report.temprature: unknown key"),
        ("[report\n", "not valid TOML"),
        ('[report]\n[course]\nindication = "kawasakii"\n', "course.indication"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line_per_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    result = runner.invoke(app, ["triage", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    for line in result.stderr.splitlines():
        assert line.startswith(str(path))


def test_several_problems_are_all_listed(tmp_path: Path) -> None:
    path = write(tmp_path, '[report]\ntemperature = 38\nheadache_score = "bad"\n')
    result = runner.invoke(app, ["triage", str(path)])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 2


def test_bad_json_and_missing_file_exit_2(tmp_path: Path) -> None:
    bad = write(tmp_path, '{"report": ', "report.json")
    assert runner.invoke(app, ["triage", str(bad)]).exit_code == 2
    missing = runner.invoke(app, ["triage", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2 and "readable" in missing.stderr


def test_json_file_with_floats_is_read_exactly(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        json.dumps({"report": {"symptoms": ["aches"], "hours_since_infusion_end": 80.5}}),
        "report.json",
    )
    result = runner.invoke(app, ["triage", str(path), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["level"] == "call_doctor"  # after day 3 (W1)


@pytest.mark.parametrize(
    "options", [["--format", "xml"], ["--language", "fr"], ["--format", "html", "--language", "x"]]
)
def test_bad_options_exit_2(options: list[str]) -> None:
    result = runner.invoke(app, ["triage", str(EXAMPLES / "infant-fever.toml"), *options])
    assert result.exit_code == 2
    assert "Accepted" in result.stderr


def test_call_doctor_exits_0_too(tmp_path: Path) -> None:
    path = write(tmp_path, '[report]\nsymptoms = ["something odd"]\nhours_since_infusion_end = 5\n')
    result = runner.invoke(app, ["triage", str(path), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["level"] == "call_doctor"


def test_real_process_exit_codes() -> None:
    good = subprocess.run(
        [sys.executable, "-m", "ivig.cli", "triage", str(EXAMPLES / "infant-fever.toml")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert good.returncode == 0 and good.stdout.startswith("EMERGENCY")
    bad = subprocess.run(
        [sys.executable, "-m", "ivig.cli", "triage", str(ROOT / "pyproject.toml")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and "document." in bad.stderr
