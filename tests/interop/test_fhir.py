"""FHIR R4 (R4B models) export and import of order documents and records."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, event, given, settings

from ivig.core.order import OrderError
from ivig.core.plan import build_plan, parse_document
from ivig.core.units import Quantity
from ivig.interop import fhir_export as fx
from ivig.interop.fhir_import import FhirImportError, import_order
from tests.core import builders
from tests.core.test_plan_properties import documents

TZ = ZoneInfo("Europe/Madrid")
TODAY = date(2026, 11, 21)
MEASURED = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)


def clinical(value: Any) -> Any:
    """Every clinical value of a parsed document; quantities by magnitude and unit (not text)."""
    if isinstance(value, Quantity):
        return (value.magnitude.normalize(), value.unit)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: clinical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "source"
        }
    if isinstance(value, tuple | list):
        return [clinical(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def export(doc: dict[str, Any]) -> dict[str, Any]:
    plan = build_plan(doc, today=TODAY)
    return fx.plan_bundle(plan, patient_id="p1", request_id="order-1", tz=TZ, measured_at=MEASURED)


def seed() -> dict[str, Any]:
    return builders.document()


def test_seed_round_trip_keeps_every_value() -> None:
    doc = seed()
    doc["patient"]["name"] = "Example child"
    doc["order"]["prescriber"] = "Dr. A. Rivera (example)"
    doc["order"]["notes"] = "Check the line before each step."
    doc["order"]["titration"][1]["reason"] = "tolerated step 1"
    doc["order"]["setting"] = "clinic"
    doc["order"]["premedication"] = [
        {
            "name": "acetaminophen",
            "dose": "15 mg/kg",
            "minutes_before": 30,
            "note": "by mouth",
            "repeat_every": "4 h",
        },
        {
            "name": "diphenhydramine",
            "dose": "1 mg/kg",
            "minutes_before": 30,
            "repeat_before_step": 3,
        },
    ]
    doc["order"]["saline"] = {"amount": "10 mL/kg", "timing": "over the first hour"}
    bundle = export(doc)
    Bundle.model_validate(bundle)
    back = import_order(json.loads(json.dumps(bundle, default=str)), tz=TZ)
    assert clinical(parse_document(back)) == clinical(parse_document(doc))


def test_every_resource_validates_and_rates_are_ucum_ml_h() -> None:
    bundle = export(seed())
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "Patient"
    assert kinds.count("Observation") == 3  # weight, height, blood group
    request = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    )
    dosages = request["dosageInstruction"]
    assert [d["sequence"] for d in dosages] == [1, 2, 3, 4]
    # 44 lb = 19.958 kg; 0.5 mL/kg/h -> 9.9 mL/h on the pump (the plan's number, rounded down)
    calculated = [
        r for r in dosages[0]["doseAndRate"] if r["type"]["coding"][0]["code"] == "calculated"
    ]
    assert calculated[0]["rateQuantity"]["code"] == "mL/h"
    assert calculated[0]["rateQuantity"]["system"] == "http://unitsofmeasure.org"
    assert Decimal(str(calculated[0]["rateQuantity"]["value"])) == Decimal("9.9")
    assert dosages[0]["timing"]["repeat"]["duration"] == 30
    assert dosages[0]["timing"]["repeat"]["durationUnit"] == "min"
    assert "duration" not in dosages[3].get("timing", {}).get("repeat", {})
    weight = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"].endswith("weight"))
    assert weight["code"]["coding"][0]["code"] == "29463-7"
    assert weight["valueQuantity"]["code"] == "[lb_av]"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_round_trip_property(doc: dict[str, Any]) -> None:
    try:
        build_plan(doc, today=TODAY)
    except OrderError:
        event("refused by the order validator")
        return
    event("exported and imported")
    bundle = export(doc)
    Bundle.model_validate(bundle)
    text = json.dumps(bundle, default=str)  # what goes over the wire
    back = import_order(json.loads(text), tz=TZ)
    assert clinical(parse_document(back)) == clinical(parse_document(doc))


def _ehr_request(**changes: Any) -> list[dict[str, Any]]:
    """A MedicationRequest and a weight Observation shaped as an EHR sends them."""
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "ehr-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "https://ivig-planner.invalid/fhir/CodeSystem/product",
                    "code": "privigen",
                }
            ]
        },
        "subject": {"reference": "Patient/123"},
        "extension": [
            {
                "url": "https://ivig-planner.invalid/fhir/StructureDefinition/dosing-weight-method",
                "valueCode": "actual",
            },
            {
                "url": "https://ivig-planner.invalid/fhir/StructureDefinition/vial-rounding",
                "valueCode": "none",
            },
        ],
        "dosageInstruction": [
            {
                "sequence": 1,
                "timing": {
                    "repeat": {
                        "count": 2,
                        "frequency": 1,
                        "period": 1,
                        "periodUnit": "d",
                        "duration": 30,
                        "durationUnit": "min",
                    }
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 1,
                            "unit": "g/kg/d",
                            "code": "g/kg/d",
                            "system": "http://unitsofmeasure.org",
                        },
                        "rateQuantity": {
                            "value": 0.5,
                            "unit": "mL/kg/h",
                            "code": "mL/kg/h",
                            "system": "http://unitsofmeasure.org",
                        },
                    }
                ],
            },
            {
                "sequence": 2,
                "doseAndRate": [
                    {
                        "rateQuantity": {
                            "value": 2,
                            "unit": "mL/kg/h",
                            "code": "mL/kg/h",
                            "system": "http://unitsofmeasure.org",
                        }
                    }
                ],
            },
        ],
    }
    request.update(changes)
    weight = {
        "resourceType": "Observation",
        "id": "w",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": "Patient/123"},
        "valueQuantity": {
            "value": 20.4,
            "unit": "kg",
            "code": "kg",
            "system": "http://unitsofmeasure.org",
        },
    }
    return [request, weight]


def test_ehr_request_becomes_a_draft_order_document() -> None:
    doc = import_order(_ehr_request())
    assert doc["patient"]["weight"] == "20.4 kg"
    assert doc["order"]["dose"] == "1 g/kg/day"
    assert doc["order"]["days"] == 2
    assert doc["order"]["titration"] == [
        {"rate": "0.5 mL/kg/h", "minutes": 30},
        {"rate": "2 mL/kg/h"},
    ]
    plan = build_plan(doc, today=TODAY)
    assert plan.course.prescribed_g == Decimal("40.8")


def fields_of(exc: pytest.ExceptionInfo[FhirImportError]) -> set[str]:
    return {p.field for p in exc.value.problems}


def test_unknown_product_is_refused_with_the_accepted_codes() -> None:
    resources = _ehr_request(
        medicationCodeableConcept={
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1"}],
            "text": "Immune globulin",
        }
    )
    with pytest.raises(FhirImportError) as exc:
        import_order(resources)
    problem = next(p for p in exc.value.problems if p.field == "MedicationRequest.medication")
    assert "CodeSystem/product" in problem.accepted


def test_course_or_day_dose_is_never_guessed() -> None:
    resources = _ehr_request()
    dose = resources[0]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    dose.update(unit="g/kg", code="g/kg")
    with pytest.raises(FhirImportError) as exc:
        import_order(resources)
    assert "whole course or for each day" in str(exc.value)


def test_missing_weight_and_methods_are_errors_not_defaults() -> None:
    request = _ehr_request(extension=[])[0]
    with pytest.raises(FhirImportError) as exc:
        import_order([request])
    text = str(exc.value)
    assert "Observation[29463-7]" in fields_of(exc)
    assert "dosing weight" in text and "vial rounding" in text


def test_a_weight_in_an_unmapped_unit_and_bad_status_are_refused() -> None:
    resources = _ehr_request(status="running")
    resources[1]["valueQuantity"].update(unit="stone", code="[stone_av]")
    with pytest.raises(FhirImportError) as exc:
        import_order(resources)
    assert {"MedicationRequest.status", "Observation[29463-7].valueQuantity.code"} <= fields_of(exc)


def test_invalid_fhir_is_reported_by_element() -> None:
    resources = _ehr_request()
    del resources[0]["intent"]
    with pytest.raises(FhirImportError) as exc:
        import_order(resources)
    assert any(p.field.startswith("MedicationRequest") for p in exc.value.problems)


def test_unmapped_condition_is_an_error() -> None:
    resources = _ehr_request()
    resources.append(
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": "Patient/123"},
            "code": {
                "coding": [{"system": "http://snomed.info/sct", "code": "1"}],
                "text": "Something",
            },
        }
    )
    with pytest.raises(FhirImportError) as exc:
        import_order(resources)
    assert "Condition[0].code" in fields_of(exc)


def test_records_export_validates() -> None:
    infusion = fx.InfusionRecord(
        id="inf-1",
        day=1,
        product_id="privigen",
        started_at=datetime(2026, 12, 1, 8, 30, tzinfo=TZ),
        ended_at=datetime(2026, 12, 1, 12, 0, tzinfo=TZ),
        rate_changes=(
            fx.RateChangeRecord("rc-1", datetime(2026, 12, 1, 9, 0, tzinfo=TZ), Decimal("19.9")),
        ),
        vials=(fx.VialRecord("privigen", "P100A", date(2027, 6, 30)),),
    )
    resources = fx.administration_resources(infusion, "p1", {"privigen": "Privigen"})
    med = resources[0]
    assert med["batch"] == {"lotNumber": "P100A", "expirationDate": "2027-06-30"}
    admin = resources[1]
    assert admin["medicationReference"]["reference"] == "Medication/inf-1-vial-1"
    assert resources[2]["dosage"]["rateQuantity"]["code"] == "mL/h"
    assert resources[2]["partOf"][0]["reference"] == "MedicationAdministration/inf-1"
    event = fx.adverse_event_resource(
        fx.ReactionRecord(
            "ae-1", datetime(2026, 12, 1, 9, 30, tzinfo=TZ), "headache, chills", infusion_id="inf-1"
        ),
        "p1",
    )
    assert event["event"]["text"] == "headache, chills"
    vitals = fx.observation_resource(
        fx.ObservationRecord(
            "bp-1",
            "blood_pressure",
            datetime(2026, 12, 1, 9, 0, tzinfo=TZ),
            value=Decimal(100),
            value2=Decimal(60),
        ),
        "p1",
    )
    assert [c["code"]["coding"][0]["code"] for c in vitals["component"]] == ["8480-6", "8462-4"]
    Bundle.model_validate(fx.bundle([*resources, event, vitals]))


def test_naive_start_needs_a_time_zone() -> None:
    plan = build_plan(seed(), today=TODAY)
    with pytest.raises(fx.ExportError) as exc:
        fx.order_resources(plan, request_id="o", patient_id="p", tz=None)
    assert exc.value.problems[0].field == "order.start"


def test_import_does_not_change_its_input() -> None:
    resources = _ehr_request()
    before = copy.deepcopy(resources)
    import_order(resources)
    assert resources == before
