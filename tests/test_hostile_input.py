"""Regression tests for the hostile inputs of issue 10: each used to end in a traceback.

Huge or tiny numbers in quantity fields (decimal.InvalidOperation in units._convert, IndexError in
checks.check_coherence), plan starts in year 0001 / 9999 (OverflowError), and documents nested
100,000 deep or holding a 5,001-digit whole number (RecursionError / ValueError in the parsers)
for `ivig plan`, `ivig compare` and `ivig triage`. Each must be a clear message naming the field
(exit 2), never a traceback.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ivig.cli import app
from ivig.core import units
from ivig.core.order import OrderError, read_document_text
from ivig.core.plan import build_plan
from tests.core.builders import document

runner = CliRunner()
TODAY = date(2026, 11, 21)


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(OrderError) as caught:
        build_plan(doc, today=TODAY)
    return [p.field for p in caught.value.problems]


@pytest.mark.parametrize(
    ("field", "doc"),
    [
        ("patient.weight", document({"weight": "999999999999999999999999999999 kg"})),
        ("patient.height", document({"height": "99999999999999999999 cm"})),
        ("order.dose", document(dose="99999999999999999999 g/kg")),
        ("order.dose", document(dose="0.0000000000001 g/kg")),
        (
            "order.titration[0].rate",
            document(titration=[{"rate": "99999999999999999999 mL/kg/h", "minutes": 30},
                                {"rate": "2 mL/kg/h"}]),
        ),
        ("order.saline", document(saline="99999999999999999999999 mL")),
        ("order.start", document(start="0001-01-01T00:00")),
        ("order.start", document(start="9999-12-31T23:59")),
        ("order.start", document(start="1900-01-01T08:00")),
        ("patient.birth_date", document({"birth_date": "0001-01-01"})),
    ],
)
def test_absurd_values_are_field_errors(field: str, doc: dict[str, Any]) -> None:
    assert field in _problems(doc)


def test_size_limits_keep_real_values() -> None:
    assert units.parse("44 lb", "w", units.Kind.MASS).to("kg") > 19
    assert units.parse("0.01 mL/kg/min", "r", units.Kind.RATE).magnitude == units.Decimal("0.01")
    assert units.parse("0 mL/h", "r", units.Kind.RATE).magnitude == 0
    assert units.parse("-40 °F", "t", units.Kind.TEMPERATURE).to("degC") == -40
    with pytest.raises(units.QuantityError, match="too large"):
        units.parse("1000000001 kg", "w", units.Kind.MASS)


def test_conversion_of_a_large_product_does_not_raise() -> None:
    # Two in-range inputs multiplied can exceed quantize's 28 digits: _convert widens precision.
    assert units.ml_from_grams(units.Decimal(10) ** 18, units.Decimal(100)) == units.Decimal(
        10
    ) ** 19


def test_plan_keeps_working_at_the_edges() -> None:
    plan = build_plan(document(start="2199-12-31T08:00", days=1), today=TODAY)
    assert plan.days


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


HOSTILE_DOCUMENTS = {
    "nested.json": '{"patient": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "nested.toml": "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "shallow-nested.json": '{"patient": {"name": ' + "[" * 200 + "]" * 200 + "}}",
    "digits.toml": "[order]\ndays = " + "9" * 5001 + "\n",
    "digits.json": '{"order": {"days": ' + "9" * 5001 + "}}",
    "bigint.json": '{"order": {"days": ' + "9" * 3000 + "}}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_cli_plan_and_compare_refuse_hostile_documents(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, HOSTILE_DOCUMENTS[name])
    good = _write(tmp_path, "good.json", json.dumps(document()))
    for args in (["plan", path], ["compare", good, path], ["compare", path, good]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert name in result.output


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_cli_triage_refuses_hostile_documents(tmp_path: Path, name: str) -> None:
    text = HOSTILE_DOCUMENTS[name].replace('"patient"', '"report"').replace("[order]", "[report]")
    path = _write(tmp_path, name, text)
    result = runner.invoke(app, ["triage", path])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_cli_triage_refuses_a_huge_temperature(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "t.toml",
        '[report]\nsymptoms = ["fever"]\ntemperature = "99999999999999999999999 °C"\n',
    )
    result = runner.invoke(app, ["triage", path])
    assert result.exit_code == 2, result.output
    assert "too large" in result.output


def test_read_document_text_names_the_deep_field() -> None:
    text = json.dumps({"patient": {"conditions": [[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]}})
    with pytest.raises(OrderError) as caught:
        read_document_text(text, name="doc.json")
    assert "nested too deeply" in caught.value.problems[0].problem
    assert caught.value.problems[0].field.startswith("doc.json.patient.conditions")

