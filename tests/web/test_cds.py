"""CDS Hooks 2.0: discovery, order-sign and order-select over the same checks as a plan.

Request fixtures follow the shape of the specification's examples (hook, hookInstance,
fhirServer, fhirAuthorization, context.userId/patientId/draftOrders, prefetch).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client

from tests.web.conftest import World

UCUM = "http://unitsofmeasure.org"
PRODUCT = "https://ivig-planner.invalid/fhir/CodeSystem/product"
EXT = "https://ivig-planner.invalid/fhir/StructureDefinition/"


def ucum(value: float | int, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": UCUM, "code": code}


def medication_request(
    product: str = "privigen", first_rate: float = 0.5, top_rate: float = 2
) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "ivig-draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": PRODUCT, "code": product}]},
        "subject": {"reference": "Patient/example"},
        "extension": [
            {"url": EXT + "dosing-weight-method", "valueCode": "actual"},
            {"url": EXT + "vial-rounding", "valueCode": "none"},
            {"url": EXT + "dose-basis", "valueCode": "per_kg_course"},
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
                    {"doseQuantity": ucum(2, "g/kg"), "rateQuantity": ucum(first_rate, "mL/kg/h")}
                ],
            },
            {"sequence": 2, "doseAndRate": [{"rateQuantity": ucum(top_rate, "mL/kg/h")}]},
        ],
    }


def prefetch() -> dict[str, Any]:
    return {
        "patient": {
            "resourceType": "Patient",
            "id": "example",
            "gender": "female",
            "birthDate": "2020-06-15",
        },
        "weight": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": "w1",
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                        "subject": {"reference": "Patient/example"},
                        "effectiveDateTime": "2026-11-30T09:00:00Z",
                        "valueQuantity": ucum(20, "kg"),
                    }
                }
            ],
        },
        "height": {"resourceType": "Bundle", "type": "searchset", "entry": []},
        "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
    }


def cds_request(hook: str = "order-sign", **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "http://fhir.example.invalid",
        "hook": hook,
        "context": {
            "userId": "Practitioner/example",
            "patientId": "example",
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": medication_request()}],
            },
        },
        "prefetch": prefetch(),
    }
    if hook == "order-select":
        request["context"]["selections"] = ["MedicationRequest/ivig-draft-1"]
    request.update(changes)
    return request


def post(client: Client, service: str, body: Any) -> Any:
    return client.post(
        f"/cds-services/{service}", data=json.dumps(body), content_type="application/json"
    )


@pytest.mark.django_db
def test_discovery_lists_both_hooks_with_prefetch(client: Client) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    assert {s["hook"] for s in services} == {"order-sign", "order-select"}
    for s in services:
        assert "29463-7" in s["prefetch"]["weight"]
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_a_safe_order_gets_an_info_card_with_pump_rates_and_link(client: Client) -> None:
    response = post(client, "ivig-order-sign", cds_request())
    assert response.status_code == 200, response.content
    cards = response.json()["cards"]
    summary = next(c for c in cards if c["summary"].startswith("IVIG plan checked"))
    assert summary["indicator"] == "info"
    # 20 kg x 0.5 mL/kg/h = 10 mL/h; 2 mL/kg/h = 40 mL/h (the plan's numbers)
    assert "10.0 mL/h" in summary["detail"] and "40.0 mL/h" in summary["detail"]
    assert "never chooses a dose or a rate" in summary["detail"]
    for card in cards:
        assert len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"] == "IVIG infusion planner"
    link = summary["links"][0]
    assert link["type"] == "absolute"


@pytest.mark.django_db
def test_the_link_opens_the_checked_plan_for_a_logged_in_user(client: Client, world: World) -> None:
    cards = post(client, "ivig-order-sign", cds_request()).json()["cards"]
    url = urlparse(cards[0]["links"][0]["url"]).path
    assert client.get(url).status_code == 302  # login first
    client.force_login(world.nurse)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Privigen" in page.content and b"40.0" in page.content
    assert client.get(url[:-5] + "xxxx/").status_code == 404


@pytest.mark.django_db
def test_a_rate_above_the_label_is_a_critical_card_with_its_source(client: Client) -> None:
    request = cds_request()
    request["context"]["draftOrders"]["entry"][0]["resource"] = medication_request(top_rate=12)
    cards = post(client, "ivig-order-sign", request).json()["cards"]
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert critical, cards
    assert all("**Source:**" in c["detail"] for c in critical)


@pytest.mark.django_db
def test_order_select_checks_only_the_selected_orders(client: Client) -> None:
    request = cds_request("order-select")
    assert post(client, "ivig-order-select", request).json()["cards"]
    request["context"]["selections"] = ["MedicationRequest/something-else"]
    assert post(client, "ivig-order-select", request).json()["cards"] == []


@pytest.mark.django_db
def test_unknown_product_gets_a_warning_card_listing_the_accepted_ids(client: Client) -> None:
    request = cds_request()
    request["context"]["draftOrders"]["entry"][0]["resource"] = medication_request(
        product="no-such-ivig"
    )
    cards = post(client, "ivig-order-sign", request).json()["cards"]
    assert len(cards) == 1
    assert cards[0]["indicator"] == "warning"
    assert "could not be checked" in cards[0]["summary"]
    assert "order.product" in cards[0]["detail"] and "privigen" in cards[0]["detail"]


@pytest.mark.django_db
def test_missing_prefetch_without_a_server_says_what_was_not_sent(client: Client) -> None:
    request = cds_request()
    del request["prefetch"]
    cards = post(client, "ivig-order-sign", request).json()["cards"]
    assert cards[0]["indicator"] == "warning"
    assert "29463-7" in cards[0]["detail"]  # the weight is what is missing
    assert "weight" in cards[0]["detail"]


@pytest.mark.django_db
def test_other_orders_are_ignored_and_bad_requests_are_400(client: Client) -> None:
    request = cds_request()
    request["context"]["draftOrders"]["entry"][0]["resource"] = {
        "resourceType": "ServiceRequest",
        "id": "lab",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/example"},
    }
    assert post(client, "ivig-order-sign", request).json() == {"cards": []}
    bad = post(client, "ivig-order-sign", {"hook": "patient-view"})
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"hook", "hookInstance", "context"} <= fields
    assert post(client, "nope", cds_request()).status_code == 404
    assert (
        client.post(
            "/cds-services/ivig-order-sign", data="{", content_type="application/json"
        ).status_code
        == 400
    )


@pytest.mark.django_db
def test_unmapped_conditions_get_their_own_warning(client: Client) -> None:
    request = cds_request()
    request["prefetch"]["conditions"]["entry"] = [
        {
            "resource": {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": "Patient/example"},
                "code": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "44054006"}],
                    "text": "Diabetes mellitus type 2",
                },
            }
        }
    ]
    cards = post(client, "ivig-order-sign", request).json()["cards"]
    warning = next(c for c in cards if "condition(s) could not be read" in c["summary"])
    assert warning["indicator"] == "warning"
    assert "Diabetes mellitus type 2" in warning["detail"]


# --- Fetching missing prefetch from a FHIR server (a small one on 127.0.0.1) --------------------


class _Fhir(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        _Fhir.seen.append((self.path, self.headers.get("Authorization", "")))
        if self.headers.get("Authorization") != "Bearer secret-token":
            self.send_response(401)
            self.end_headers()
            return
        data = prefetch()
        if self.path.startswith("/fhir/Patient/example"):
            body = data["patient"]
        elif "29463-7" in self.path:
            body = data["weight"]
        elif self.path.startswith("/fhir/Observation") or self.path.startswith("/fhir/Condition"):
            body = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        else:
            self.send_response(404)
            self.end_headers()
            return
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fhir_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Fhir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Fhir.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_missing_prefetch_is_fetched_from_an_allowed_server(
    client: Client, fhir_server: str, settings: Any
) -> None:
    settings.IVIG_CDS_FHIR_SERVERS = [fhir_server]
    request = cds_request(
        fhirServer=fhir_server,
        fhirAuthorization={
            "access_token": "secret-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/Patient.read patient/Observation.read",
            "subject": "cds-service",
        },
    )
    del request["prefetch"]
    cards = post(client, "ivig-order-sign", request).json()["cards"]
    assert cards[0]["summary"].startswith("IVIG plan checked"), cards
    paths = [p for p, _ in _Fhir.seen]
    assert "/fhir/Patient/example" in paths
    assert all(auth == "Bearer secret-token" for _, auth in _Fhir.seen)


@pytest.mark.django_db
def test_a_server_not_on_the_allow_list_is_never_contacted(
    client: Client, fhir_server: str, settings: Any
) -> None:
    settings.IVIG_CDS_FHIR_SERVERS = []
    request = cds_request(
        fhirServer=fhir_server, fhirAuthorization={"access_token": "secret-token"}
    )
    del request["prefetch"]
    cards = post(client, "ivig-order-sign", request).json()["cards"]
    assert cards[0]["indicator"] == "warning"
    assert _Fhir.seen == []


@pytest.mark.django_db
def test_a_wrong_token_means_the_order_is_not_checked(
    client: Client, fhir_server: str, settings: Any
) -> None:
    settings.IVIG_CDS_FHIR_SERVERS = [fhir_server]
    request = cds_request(fhirServer=fhir_server, fhirAuthorization={"access_token": "wrong"})
    request = copy.deepcopy(request)
    del request["prefetch"]
    cards = post(client, "ivig-order-sign", request).json()["cards"]
    assert cards[0]["indicator"] == "warning"
    assert "could not be checked" in cards[0]["summary"]
