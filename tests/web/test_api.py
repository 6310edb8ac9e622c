"""JSON API v1: tokens, permissions, errors, and an EHR-like client's whole day.

The EHR-like client creates a patient and a plan (through the API and through a FHIR import),
gets the checks back as CDS Hooks cards, has the plan approved through the same gate as the
page, logs an infusion, and exports everything as a FHIR Bundle that validates and round-trips.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from ivig.interop.fhir_import import import_order
from ivig.web.api.models import ApiToken, hash_key
from ivig.web.infusions.models import Infusion, InfusionEvent
from ivig.web.plans.models import Approval, PlanVersion
from tests.core import builders
from tests.interop.test_fhir import clinical
from tests.web.conftest import World, make_caregiver, make_team
from tests.web.test_cds import cds_request, medication_request

pytestmark = pytest.mark.django_db


def token(user: Any, team: Any, scopes: tuple[str, ...] = ("read", "write"), days: int = 30) -> str:
    return ApiToken.issue(team=team, user=user, name="EHR", scopes=list(scopes), days=days)[1]


class Api:
    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(f"/api/v1{path}", query, **self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", **self.headers
        )


def order(**changes: Any) -> dict[str, Any]:
    out = builders.order(**changes)
    del out["start"]
    return out


def local(minutes_ago: int = 0) -> str:
    return (timezone.localtime() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M")


def fields_of(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def test_openapi_is_served_and_documents_the_errors() -> None:
    doc = Client().get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "IVIG planner API"
    operation = doc["paths"]["/api/v1/patients"]["post"]
    assert {"201", "400", "401", "403", "422"} <= set(operation["responses"])


def test_no_expired_or_revoked_token_is_401_with_a_json_error(world: World) -> None:
    response = Api(None).get("/patients")
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "Authorization"
    key = token(world.caregiver, world.team_a)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Api(key).get("/patients").status_code == 401
    key = token(world.caregiver, world.team_a)
    ApiToken.objects.filter(key_hash=hash_key(key)).update(revoked_at=timezone.now())
    assert Api(key).get("/patients").status_code == 401
    assert Api("ivig_guess").get("/patients").status_code == 401


def test_tokens_are_stored_hashed_and_scoped(world: World) -> None:
    key = token(world.caregiver, world.team_a, ("read",))
    stored = ApiToken.objects.get()
    assert key not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert stored.key_hash == hash_key(key)
    api = Api(key)
    assert api.get("/patients").status_code == 200
    refused = api.post("/patients", {"name": "X", "birth_date": "2019-01-01"})
    assert refused.status_code == 403
    assert "write" in refused.json()["errors"][0]["accepted"]


def test_a_token_sees_only_its_own_team_and_its_roles_rights(world: World) -> None:
    api = Api(token(world.caregiver, world.team_a))
    names = [p["name"] for p in api.get("/patients").json()]
    assert names == [world.patient.name]
    assert api.get(f"/patients/{world.stranger_patient.pk}").status_code == 404
    # A token made in team B by the stranger cannot reach team A.
    stranger = Api(token(world.stranger, world.team_b))
    assert stranger.get(f"/patients/{world.patient.pk}").status_code == 404
    assert stranger.get(f"/patients/{world.patient.pk}/plans").status_code == 404
    # A viewer's token with write scope still cannot write: the role decides.
    viewer = Api(token(world.viewer, world.team_a))
    response = viewer.post(
        f"/patients/{world.patient.pk}/measurements",
        {"kind": "weight", "value": "21 kg", "taken_at": local()},
    )
    assert response.status_code == 403
    # A caregiver's token cannot approve, whatever its scopes.
    approve = Api(token(world.caregiver, world.team_a, ("read", "write", "approve")))
    plan = PlanVersion.objects.create(
        patient=world.patient, kind="prescribed", order_document={}, author=world.caregiver
    )
    response = approve.post(f"/patients/{world.patient.pk}/plans/{plan.pk}/approve", {})
    assert response.status_code == 403


def test_bad_input_names_the_field_what_was_given_and_what_is_accepted(world: World) -> None:
    api = Api(token(world.caregiver, world.team_a))
    response = api.post(
        f"/patients/{world.patient.pk}/measurements",
        {"kind": "weight", "value": "21", "taken_at": local()},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "value" and error["given"] == "21" and error["accepted"]
    response = api.post(f"/patients/{world.patient.pk}/plans", {"order": order(dose="2 kg")})
    assert response.status_code == 400
    assert "order.dose" in fields_of(response)
    assert PlanVersion.objects.filter(patient=world.patient).count() == 1  # nothing saved
    response = api.post("/patients", {"name": 3})
    assert response.status_code == 422
    assert {"name", "birth_date"} <= fields_of(response)


def test_compute_returns_the_same_json_as_the_cli_and_stores_nothing(
    world: World, tmp_path: Any
) -> None:
    from ivig.cli import app

    document = builders.document()
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    cli = CliRunner().invoke(app, ["plan", str(path), "--format", "json", "--today", "2026-11-21"])
    before = PlanVersion.objects.count()
    api = Api(token(world.caregiver, world.team_a, ("read",)))
    response = api.post("/compute", {"document": document, "today": "2026-11-21"})
    assert response.status_code == 200
    assert response.json() == json.loads(cli.stdout)
    assert PlanVersion.objects.count() == before
    bad = api.post("/compute", {"document": {"patient": {}, "order": {}}})
    assert bad.status_code == 400 and "patient.weight" in fields_of(bad)


def test_token_page_creates_shows_once_and_revokes(world: World) -> None:
    client = Client()
    client.force_login(world.caregiver)
    url = f"/teams/{world.team_a.pk}/api-tokens/"
    page = client.post(url, {"name": "Hospital EHR", "scopes": ["read", "write"], "days": 30})
    assert page.status_code == 201
    key = page.context["new_key"]
    assert key.encode() in page.content
    assert key.encode() not in client.get(url).content  # shown once
    assert Api(key).get("/patients").status_code == 200
    stored = ApiToken.objects.get()
    client.post(f"{url}{stored.pk}/revoke/")
    assert Api(key).get("/patients").status_code == 401
    # A nurse manages no tokens; a caregiver cannot offer the approve scope.
    nurse = Client()
    nurse.force_login(world.nurse)
    assert nurse.get(url).status_code == 403
    refused = client.post(url, {"name": "x", "scopes": ["approve"], "days": 30})
    assert "approve" in str(refused.context["form"].errors)
    team_page = client.get(f"/teams/{world.team_a.pk}/")
    assert url.encode() in team_page.content


def test_an_ehr_like_client_does_its_whole_day(world: World) -> None:
    caregiver = Api(token(world.caregiver, world.team_a))
    prescriber = Api(token(world.prescriber, world.team_a, ("read", "write", "approve")))

    # 1. Create a patient with a weight, then a plan through the API.
    created = caregiver.post(
        "/patients",
        {"name": "Ana EHR", "birth_date": "2019-03-02", "sex": "female", "weight": "20 kg"},
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["latest_weight"]["value"] == "20 kg"
    plan = caregiver.post(
        f"/patients/{pid}/plans", {"order": order(dose="1 g/kg", days=1), "first_infusion": True}
    )
    assert plan.status_code == 201, plan.content
    steps = plan.json()["plan"]["days"][0]["steps"]
    assert [s["rate_ml_h"] for s in steps][:2] == [10.0, 20.0]

    # 2. ... and a plan through a FHIR import (an EHR's MedicationRequest + weight).
    bundle = cds_request()["prefetch"]["weight"]
    resources = [medication_request(), *[e["resource"] for e in bundle["entry"]]]
    imported = caregiver.post(f"/patients/{pid}/fhir/import", {"resource": resources})
    assert imported.status_code == 201, imported.content
    assert imported.json()["order_document"]["order"]["dose"] == "2 g/kg"
    unmappable = caregiver.post(f"/patients/{pid}/fhir/import", {"resource": resources[:1]})
    assert unmappable.status_code == 400
    assert "Observation[29463-7]" in fields_of(unmappable)

    # 3. The checks as CDS Hooks cards.
    cards = (
        Client()
        .post(
            "/cds-services/ivig-order-sign",
            json.dumps(cds_request()),
            content_type="application/json",
        )
        .json()["cards"]
    )
    assert cards and cards[0]["indicator"] == "info"

    # 4. Approval through the same gate as the page: an error needs a reason.
    risky = caregiver.post(
        f"/patients/{pid}/plans",
        {
            "order": order(
                titration=[{"rate": "0.5 mL/kg/h", "minutes": 30}, {"rate": "12 mL/kg/h"}]
            )
        },
    )
    vid = risky.json()["id"]
    errors = [f["code"] for f in risky.json()["plan"]["findings"] if f["severity"] == "error"]
    assert errors
    refused = prescriber.post(f"/patients/{pid}/plans/{vid}/approve", {})
    assert refused.status_code == 409
    assert {f"overrides.{c}" for c in errors} <= fields_of(refused)
    assert not Approval.objects.filter(plan_version_id=vid).exists()
    approved = prescriber.post(
        f"/patients/{pid}/plans/{vid}/approve",
        {"overrides": {c: "Discussed with the team" for c in errors}},
    )
    assert approved.status_code == 201, approved.content
    assert approved.json()["error_overrides"][0]["reason"] == "Discussed with the team"
    good = plan.json()["id"]
    assert prescriber.post(f"/patients/{pid}/plans/{good}/approve", {}).status_code == 201
    again = prescriber.post(f"/patients/{pid}/plans/{good}/approve", {})
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already_approved"
    approval = Approval.objects.get(plan_version_id=good)

    # 5. Compare the two plans.
    compared = caregiver.get(f"/patients/{pid}/compare", first=good, second=vid)
    assert compared.status_code == 200 and compared.json()["comparison"]

    # 6. Log an infusion: start, a rate above the plan needs a reason, a vial, vitals, stop.
    started = caregiver.post(
        f"/patients/{pid}/infusions", {"approval": approval.pk, "day": 1, "started_at": local(60)}
    )
    assert started.status_code == 201, started.content
    iid = started.json()["id"]
    fast = caregiver.post(
        f"/patients/{pid}/infusions/{iid}/rate", {"at": local(50), "rate": "100 mL/h"}
    )
    assert fast.status_code == 409 and "reason" in fields_of(fast)
    ok = caregiver.post(
        f"/patients/{pid}/infusions/{iid}/rate", {"at": local(30), "rate": "20 mL/h"}
    )
    assert ok.status_code == 201, ok.content
    assert Decimal(ok.json()["data"]["pump_rate_ml_h"]) == 20
    expired = caregiver.post(
        f"/patients/{pid}/infusions/{iid}/events/vial",
        {
            "fields": {
                "at": local(40),
                "brand": "Privigen",
                "lot_number": "P1",
                "expiry": "2020-01-01",
            }
        },
    )
    assert expired.status_code == 400 and "expiry" in fields_of(expired)
    vial = caregiver.post(
        f"/patients/{pid}/infusions/{iid}/events/vial",
        {
            "fields": {
                "at": local(40),
                "brand": "Privigen",
                "lot_number": "P123",
                "expiry": "2099-01-31",
            }
        },
    )
    assert vial.status_code == 201, vial.content
    vitals = caregiver.post(
        f"/patients/{pid}/infusions/{iid}/events/vitals",
        {
            "fields": {
                "at": local(20),
                "temperature": "37.2 °C",
                "heart_rate": "100",
                "blood_pressure": "100/60",
            }
        },
    )
    assert vitals.status_code == 201, vitals.content
    symptom = caregiver.post(
        f"/patients/{pid}/infusions/{iid}/events/symptom",
        {"fields": {"at": local(15), "symptoms": ["itching_or_flushing"]}},
    )
    assert symptom.status_code == 201, symptom.content
    stop = caregiver.post(
        f"/patients/{pid}/infusions/{iid}/events/stop",
        {"fields": {"at": local(1), "reason": "finished"}},
    )
    assert stop.status_code == 201, stop.content
    assert Infusion.objects.get(pk=iid).ended_at is not None
    assert InfusionEvent.objects.filter(infusion_id=iid).count() == 5

    # 7. Check-ins (planned when the infusion ended) and hydration.
    checkins = caregiver.get(f"/patients/{pid}/checkins").json()
    assert checkins
    answer = caregiver.post(
        f"/patients/{pid}/checkins/{checkins[0]['id']}/answers",
        {"symptoms": [], "temperature": "39.5 °C", "headache": 2},
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["answers"][0]["triage"]
    contacts = answer.json()["contacts"]  # issue 11: who to call, with every triage result
    assert set(contacts) == {"team", "phone_day", "phone_after_hours", "emergency_number"}
    drink = caregiver.post(f"/patients/{pid}/hydration", {"at": local(5), "volume": "250 mL"})
    assert drink.status_code == 201 and drink.json()["volume_ml"] == "250.0"
    assert (
        caregiver.post(f"/patients/{pid}/hydration", {"at": local(5), "volume": "250"}).status_code
        == 400
    )

    # 8. Export everything as a FHIR Bundle that validates and round-trips.
    exported = caregiver.get(f"/patients/{pid}/fhir")
    assert exported.status_code == 200
    bundle_json = exported.json()
    Bundle.model_validate(bundle_json)
    kinds = [e["resource"]["resourceType"] for e in bundle_json["entry"]]
    for kind in (
        "Patient",
        "Observation",
        "MedicationRequest",
        "MedicationAdministration",
        "Medication",
        "AdverseEvent",
    ):
        assert kind in kinds, kind
    med = next(
        e["resource"] for e in bundle_json["entry"] if e["resource"]["resourceType"] == "Medication"
    )
    assert med["batch"] == {"lotNumber": "P123", "expirationDate": "2099-01-31"}
    rate = next(
        e["resource"]
        for e in bundle_json["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration" and "partOf" in e["resource"]
    )
    assert Decimal(str(rate["dosage"]["rateQuantity"]["value"])) == Decimal("20.0")
    from ivig.core.plan import parse_document

    for version in PlanVersion.objects.filter(patient_id=pid):
        back = import_order(
            bundle_json, request_id=f"plan-{version.pk}", tz=timezone.get_current_timezone()
        )
        got, want = clinical(parse_document(back)), clinical(parse_document(version.order_document))
        assert {k: v for k, v in got["patient"].items() if want["patient"][k] != v} == {}
        assert got == want


def test_another_team_cannot_use_the_api_on_this_patient(world: World) -> None:
    team = make_team("Third")
    other = make_caregiver(team)
    api = Api(token(other, team))
    for path in (
        f"/patients/{world.patient.pk}",
        f"/patients/{world.patient.pk}/fhir",
        f"/patients/{world.patient.pk}/infusions",
        f"/patients/{world.patient.pk}/plans",
    ):
        assert api.get(path).status_code == 404, path


def test_fhir_import_keeps_the_record_s_conditions_and_identity(world: World) -> None:
    api = Api(token(world.caregiver, world.team_a))
    bundle = cds_request()["prefetch"]["weight"]
    resources = [medication_request(), *[e["resource"] for e in bundle["entry"]]]
    response = api.post(f"/patients/{world.patient.pk}/fhir/import", {"resource": resources})
    assert response.status_code == 201, response.content
    patient = response.json()["order_document"]["patient"]
    assert "immunodeficiency" in patient["conditions"]  # known here, not sent by the EHR
    assert patient["name"] == world.patient.name and patient["weight"] == "20 kg"


def test_an_unknown_query_parameter_is_refused_naming_it(world: World) -> None:
    """A misspelt or unknown query parameter is a 400 naming it and what the operation takes,
    never ignored in silence (the OpenAPI document lists every query parameter); a known one
    still works, and a POST's unknown parameter changes nothing."""
    api = Api(token(world.caregiver, world.team_a))
    plans = f"/patients/{world.patient.pk}/plans"
    response = api.get(plans, langauge="es")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "langauge", "given": "es", "accepted": "language",
         "problem": "unknown query parameter"}
    ]
    response = api.client.get(f"/api/v1{plans}?=false", **api.headers)
    assert response.status_code == 400 and fields_of(response) == {""}
    assert api.get(plans, language="es").status_code == 200
    response = api.get(f"/patients/{world.patient.pk}", page="2")
    assert response.status_code == 400
    assert response.json()["errors"][0]["accepted"] == "no query parameters"
    before = world.patient.measurements.count()
    response = api.client.post(
        f"/api/v1/patients/{world.patient.pk}/measurements?dry_run=1",
        json.dumps({"kind": "weight", "value": "21 kg", "taken_at": local()}),
        content_type="application/json", **api.headers,
    )
    assert response.status_code == 400 and fields_of(response) == {"dry_run"}
    assert world.patient.measurements.count() == before


def test_every_operation_takes_exactly_the_query_parameters_it_documents(world: World) -> None:
    """For every operation of the OpenAPI document: each documented query parameter is taken
    (never refused as unknown) and an undocumented one is refused, naming it."""
    import re

    api = Api(token(world.caregiver, world.team_a, ("read", "write", "approve")))
    document = api.client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, operations in document["paths"].items():
        url = re.sub(r"\{[^}]+\}", str(world.patient.pk), path)
        for method, operation in operations.items():
            documented = {
                p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
            }
            call = getattr(api.client, method)
            for name in documented:
                response = call(f"{url}?{name}=en", **api.headers)
                body = response.json() if response.content else {}
                problems = body.get("errors", []) if isinstance(body, dict) else []
                assert not [p for p in problems if p["problem"] == "unknown query parameter"]
            response = call(f"{url}?zz_not_documented=1", **api.headers)
            assert response.status_code == 400, (method, path)
            assert fields_of(response) == {"zz_not_documented"}
            checked += 1
    assert checked >= 20
