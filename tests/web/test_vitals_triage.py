"""Vitals are triaged as they are recorded (issue 9 item 3, web half): a fever typed into
Vitals while the infusion runs gives the same result as a symptom report with that
temperature; heart rate and blood pressure against the cited age bands; the log shows the
result next to the entry, and a vital-sign reaction is in the history."""

from __future__ import annotations

import pytest

from ivig.web.infusions import records
from ivig.web.infusions.models import InfusionEvent
from tests.web.test_infusion_day import approve, at, post_start, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(client, world):
    client.force_login(world.nurse)
    post_start(client, world, approve(world), day=1)
    return world.patient.infusions.get()


def vitals(client, world, infusion, minute, **fields):
    data = {"vitals-at": at(infusion, minute)}
    data.update({f"vitals-{k}": v for k, v in fields.items()})
    return client.post(url(world, infusion, "record/vitals/"), data, follow=True)


def test_a_fever_in_vitals_is_the_same_result_as_a_fever_symptom_report(client, world, running):
    response = vitals(client, world, running, 30, temperature_0="101.3 F")
    event = InfusionEvent.objects.get(kind="vitals")
    from_vitals = event.data["triage"]
    assert from_vitals["level"] != "expected" and from_vitals["infusion_running"]
    client.post(
        url(world, running, "record/symptom/"),
        {"symptom-at": at(running, 31), "symptom-temperature_0": "101.3 F"},
    )
    from_symptoms = InfusionEvent.objects.get(kind="symptom").data["triage"]
    assert from_vitals["level"] == from_symptoms["level"]
    assert from_vitals["heading"] == from_symptoms["heading"]
    assert {r["code"] for r in from_symptoms["reasons"]} <= {
        r["code"] for r in from_vitals["reasons"]
    }
    body = response.content.decode()
    assert from_vitals["heading"] in body  # shown next to the entry and at the top
    summary = records.summarise(running)
    assert summary.reactions and summary.reactions[0]["level"] == from_vitals["level"]


def test_a_normal_reading_is_recorded_with_its_result(client, world, running):
    vitals(client, world, running, 10, temperature_0="36.8", temperature_1="°C", heart_rate="100")
    event = InfusionEvent.objects.get(kind="vitals")
    assert event.data["triage"]["level"] == "expected"
    assert event.data["signs"]["heart_rate_per_min"] == "100"
    assert records.summarise(running).reactions == []


def test_low_blood_pressure_for_age_is_an_emergency_with_its_source(client, world, running):
    response = vitals(client, world, running, 20, blood_pressure="60/35")
    result = InfusionEvent.objects.get(kind="vitals").data["triage"]
    assert result["level"] == "emergency" and result["stop_infusion"]
    codes = {r["code"] for r in result["reasons"]}
    assert "VITAL-SYSTOLIC-BELOW" in codes
    assert all(r["sources"] for r in result["reasons"])
    assert "CALL EMERGENCY SERVICES NOW" in response.content.decode()


def test_a_fast_heart_rate_is_judged_against_the_age_band(client, world, running):
    vitals(client, world, running, 25, heart_rate="190")
    result = InfusionEvent.objects.get(kind="vitals").data["triage"]
    assert "VITAL-HEART_RATE-ABOVE" in {r["code"] for r in result["reasons"]}
    assert result["level"] in ("call_doctor", "emergency")


def test_the_log_says_when_vitals_are_due_and_flags_the_gaps(client, world, running):
    """Started 120 minutes ago (post_start): no reading before, at 15 min or in the last hour."""
    body = client.get(url(world, running)).content.decode()
    assert 'id="vitals-checks"' in body and "When to measure vital signs" in body
    assert "not measured (a gap)" in body and "due now" in body
    assert "NL-IVIG002" in body or "Newfoundland" in body
    checks = records.vitals_checks(running)
    assert {c.code for c in checks if c.status == "missed"} >= {"before", "at_15_min"}
    vitals(client, world, running, 15, heart_rate="110")
    checks = records.vitals_checks(running)
    assert next(c for c in checks if c.code == "at_15_min").status == "done"
