"""`ivig fhir export` / `ivig fhir import`: a plan file round-trips through a FHIR Bundle."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ivig.cli import app
from ivig.core.order import read_document_file

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "examples" / "seed-chart.toml")
TODAY = ["--today", "2026-11-21"]
runner = CliRunner()


def test_export_then_import_gives_the_plan_file_back(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    r = runner.invoke(
        app, ["fhir", "export", SEED, "--timezone", "Europe/Madrid", "--out", str(bundle), *TODAY]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(bundle.read_text())
    assert data["resourceType"] == "Bundle"
    r = runner.invoke(app, ["fhir", "import", str(bundle), "--timezone", "Europe/Madrid", *TODAY])
    assert r.exit_code == 0, r.output
    imported = json.loads(r.stdout)
    original = read_document_file(Path(SEED))
    assert imported["order"]["titration"] == original["order"]["titration"]
    assert imported["order"]["start"] == original["order"]["start"]
    assert imported["patient"]["weight"] == original["patient"]["weight"]
    plan_file = tmp_path / "draft.json"
    plan_file.write_text(r.stdout)
    assert runner.invoke(app, ["plan", str(plan_file), *TODAY]).exit_code == 0


def test_export_without_time_zone_names_the_field() -> None:
    r = runner.invoke(app, ["fhir", "export", SEED, *TODAY])
    assert r.exit_code == 2
    assert "order.start" in r.output and "--timezone" in r.output


def test_import_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "mr.json"
    path.write_text(
        json.dumps(
            {
                "resourceType": "MedicationRequest",
                "status": "draft",
                "intent": "order",
                "subject": {"reference": "Patient/1"},
                "medicationCodeableConcept": {"text": "IVIG"},
            }
        )
    )
    r = runner.invoke(app, ["fhir", "import", str(path)])
    assert r.exit_code == 2
    assert "MedicationRequest.medication" in r.output
    assert "Observation[29463-7]" in r.output
    assert "Traceback" not in r.output
