"""The `ivig` command line: plan (text/json/markdown), compare, products; exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ivig.cli import app
from tests.core.builders import document

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "examples" / "seed-chart.toml")
NURSE = str(ROOT / "examples" / "seed-chart-nurse.toml")
TODAY = ["--today", "2026-11-21"]

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def write_json(tmp_path: Path, doc: dict[str, Any], name: str = "plan.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_plan_text_shows_pump_rates() -> None:
    r = run("plan", SEED, *TODAY)
    assert r.exit_code == 0, r.output
    for rate in ("9.9", "19.9", "29.9", "39.9"):
        assert rate in r.stdout
    assert "08:30" in r.stdout and "14:15" in r.stdout
    assert "Dr. A. Rivera (example)" in r.stdout


def test_plan_json_has_documented_keys() -> None:
    r = run("plan", SEED, "--format", "json", *TODAY)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    p = doc["patient"]
    assert p["weight_kg"] == 19.958
    assert p["dosing_weight_kg"] == 19.958
    assert p["dosing_weight_method"] == "actual"
    assert doc["product"]["id"] == "privigen"
    assert doc["product"]["concentration_percent"] == 10
    assert doc["course"]["dose_g"] == 39.916
    assert doc["course"]["days"] == 2
    assert [d["day"] for d in doc["days"]] == [1, 2]
    day = doc["days"][0]
    assert day["dose_g"] == 19.958
    assert day["volume_ml"] == 199.58
    assert day["duration_min"] == 345.23
    steps = day["steps"]
    for key in ("start_min", "end_min", "rate_ml_kg_h", "rate_mg_kg_min", "rate_ml_h",
                "volume_ml", "cumulative_ml"):
        assert all(key in s for s in steps), key
    assert [s["rate_ml_h"] for s in steps] == [9.9, 19.9, 29.9, 39.9]
    assert [s["start_min"] for s in steps] == [0, 30, 60, 90]
    assert steps[-1]["cumulative_ml"] == 199.58
    assert steps[0]["rate_mg_kg_min"] == 0.833
    assert doc["findings"]
    for f in doc["findings"]:
        assert {"code", "severity", "message", "source"} <= set(f)
        assert f["severity"] in {"error", "warning", "info"}


def test_plan_json_spanish() -> None:
    r = run("plan", SEED, "--format", "json", "--language", "es", *TODAY)
    assert r.exit_code == 0
    assert "prescrito" in json.loads(r.stdout)["statement"]


def test_plan_markdown() -> None:
    r = run("plan", SEED, "--format", "markdown", *TODAY)
    assert r.exit_code == 0, r.output
    assert "|" in r.stdout and "39.9" in r.stdout
    assert r.stdout.lstrip().startswith("#")


def test_plan_with_error_finding_exits_1(tmp_path: Path) -> None:
    path = write_json(tmp_path, document({"conditions": ["hyperprolinemia"]}))
    r = run("plan", path, *TODAY)
    assert r.exit_code == 1, r.output
    assert "contraindicated_proline_hyperprolinemia" in r.stdout


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (json.dumps(document({"weight": "20"})), "unitless.json", ["patient.weight", "unit"]),
        ("[patient\nweight = ", "broken.toml", ["not valid TOML"]),
        (json.dumps(document(product="privigenx")), "product.json",
         ["order.product", "privigenx"]),
        (json.dumps(document(titration=[{"rate": "1 mL/kg/h", "minutes": 30},
                                        {"rate": "fast"}])), "rate.json",
         ["order.titration[1].rate"]),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(
    tmp_path: Path, content: str, name: str, words: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    r = run("plan", str(path), *TODAY)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for w in words:
        assert w in lines[0]
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_missing_file_exits_2(tmp_path: Path) -> None:
    r = run("plan", str(tmp_path / "nope.toml"), *TODAY)
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "nope.toml" in r.output and "No such file" in r.output


def test_bad_format_and_today_exit_2() -> None:
    assert run("plan", SEED, "--format", "pdf").exit_code == 2
    r = run("plan", SEED, "--today", "yesterday")
    assert r.exit_code == 2 and "--today" in r.output


def test_compare_text_exit_1() -> None:
    r = run("compare", SEED, NURSE, *TODAY)
    assert r.exit_code == 1, r.output
    for code in ("compare_faster", "compare_max_higher", "compare_ml_h_where_ml_kg_h_meant",
                 "compare_step_shorter"):
        assert code in r.stdout
    assert "From minute 15 to 30" in r.stdout


def test_compare_json() -> None:
    r = run("compare", SEED, NURSE, "--format", "json", *TODAY)
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == "ivig-compare/1"
    assert "compare_faster" in {f["code"] for f in doc["findings"]}
    assert doc["steps"][0]["second"]["rate_ml_h"] == 0.5


def test_compare_same_exit_0() -> None:
    r = run("compare", SEED, SEED, *TODAY)
    assert r.exit_code == 0, r.output
    assert "compare_same" in r.stdout


def test_compare_bad_input_exit_2(tmp_path: Path) -> None:
    path = write_json(tmp_path, document({"weight": "20"}))
    r = run("compare", SEED, path, *TODAY)
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_products_list_and_one() -> None:
    r = run("products")
    assert r.exit_code == 0
    assert "privigen" in r.stdout and "carimune_nf" in r.stdout
    one = run("products", "privigen")
    assert one.exit_code == 0
    assert "Source" in one.stdout or "source" in one.stdout
    assert "4 mg/kg/min" in one.stdout and "prescriberpoint" in one.stdout


def test_products_json() -> None:
    r = run("products", "privigen", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)


def test_unknown_product_exit_2() -> None:
    r = run("products", "nope")
    assert r.exit_code == 2
    assert "unknown product" in r.output and "Traceback" not in r.output
