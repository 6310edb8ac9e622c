"""Infusion log, check-ins, drinks, history and CSV (web). The world's approval is replaced by
one with a real computed snapshot (what the plans app stores when a prescriber approves)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.infusions.models import (
    AppendOnlyError,
    CheckIn,
    EventKind,
    FluidLimit,
    HydrationEntry,
    Infusion,
    InfusionEvent,
)
from ivig.web.plans.models import Approval
from tests.core import builders

pytestmark = pytest.mark.django_db
T = "%Y-%m-%dT%H:%M"


def approve(world, **patient):
    plan = build_plan(builders.document(patient or None), today=date(2026, 11, 20))
    return Approval.objects.create(
        plan_version=world.plan,
        snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version,
        approved_by=world.prescriber,
        language="en",
    )


def start(client, world, approval, day=2, minutes_ago=120):
    at = timezone.localtime() - timedelta(minutes=minutes_ago)
    response = client.post(
        f"/patients/{world.patient.pk}/infusions/start/",
        {"approval": approval.pk, "day": day, "started_at": at.strftime(T)},
    )
    infusion = Infusion.objects.latest("pk")
    assert response.status_code == 302 and infusion.day == day
    return infusion


def at(infusion, minutes):
    return timezone.localtime(infusion.started_at + timedelta(minutes=minutes)).strftime(T)


@pytest.fixture
def nurse(client, world):
    client.force_login(world.nurse)
    return client


@pytest.fixture
def running(nurse, world):
    return start(nurse, world, approve(world))


def planned_volume(infusion):
    return next(d for d in infusion.snapshot["days"] if d["day"] == infusion.day)["volume_ml"]


def stop_data(infusion, minutes, **extra):
    """A stop with the day's whole volume typed from the pump."""
    return {
        "stop-at": at(infusion, minutes),
        "stop-volume": f"{planned_volume(infusion)} mL",
        "stop-reason": "completed",
        **extra,
    }


def url(world, infusion, tail=""):
    return f"/patients/{world.patient.pk}/infusions/{infusion.pk}/{tail}"


def test_a_rate_within_the_plan_is_saved_with_the_planned_step(nurse, world, running):
    response = nurse.post(
        url(world, running, "rate/"), {"at": at(running, 5), "rate": "0.5 mL/kg/h"}
    )
    assert response.status_code == 302
    event = InfusionEvent.objects.get(kind=EventKind.RATE_CHANGE)
    assert event.data["planned_step"] == 1 and event.data["warnings"] == []
    assert event.recorded_by == world.nurse


@pytest.mark.parametrize(
    ("rate", "minute", "codes"),
    [
        ("15 mL/h", 5, ["above_plan"]),
        ("2.2 mL/kg/h", 100, ["above_plan", "above_first_infusion_advice"]),
        ("3 mL/kg/h", 100, ["above_plan", "above_first_infusion_advice", "above_label_max"]),
    ],
)
def test_a_rate_above_needs_a_reason_and_a_refused_one_changes_nothing(
    nurse, world, running, rate, minute, codes
):
    data = {"at": at(running, minute), "rate": rate}
    response = nurse.post(url(world, running, "rate/"), data)
    body = response.content.decode()
    assert response.status_code == 200 and "give a reason to save it" in body
    assert "Planned now: step" in body and "Warning:" in body
    assert not InfusionEvent.objects.exists()
    response = nurse.post(url(world, running, "rate/"), {**data, "reason": "doctor said so"})
    assert response.status_code == 302
    event = InfusionEvent.objects.get()
    assert [w["code"] for w in event.data["warnings"]] == codes
    assert event.data["reason"] == "doctor said so"


def test_the_check_button_and_htmx_preview_save_nothing(nurse, world, running):
    data = {"at": at(running, 5), "rate": "15 mL/h", "action": "check"}
    assert "Warning:" in nurse.post(url(world, running, "rate/"), data).content.decode()
    fragment = nurse.post(url(world, running, "rate/check/"), data, HTTP_HX_REQUEST="true")
    assert "above the approved plan" in fragment.content.decode()
    assert not InfusionEvent.objects.exists()


def test_a_bad_rate_is_named(nurse, world, running):
    response = nurse.post(url(world, running, "rate/"), {"at": at(running, 5), "rate": "40"})
    assert "the unit is missing" in response.content.decode()
    assert not InfusionEvent.objects.exists()


def test_corrections_are_new_events_and_nothing_is_edited_or_deleted(nurse, world, running):
    nurse.post(
        url(world, running, "record/vial/"),
        {
            "vial-at": at(running, 1),
            "vial-brand": "Privigen",
            "vial-size": "5 g",
            "vial-lot_number": "LOT-WRONG",
            "vial-expiry": "2030-01-31",
        },
    )
    wrong = InfusionEvent.objects.get()
    response = nurse.post(url(world, running, f"events/{wrong.pk}/correct/"), {"reason": "typo"})
    assert response.status_code == 302
    correction = InfusionEvent.objects.exclude(pk=wrong.pk).get()
    assert correction.corrects == wrong and correction.kind == EventKind.CORRECTION
    assert running.current_events() == []
    wrong.refresh_from_db()
    assert wrong.data["lot_number"] == "LOT-WRONG"
    wrong.data["lot_number"] = "changed"
    with pytest.raises(AppendOnlyError):
        wrong.save()
    with pytest.raises(AppendOnlyError):
        wrong.delete()
    page = nurse.get(url(world, running)).content.decode()
    assert "withdrawn" in page and "LOT-WRONG" in page


def test_vitals_in_fahrenheit_and_bad_fields_named(nurse, world, running):
    bad = nurse.post(
        url(world, running, "record/vitals/"),
        {"vitals-at": at(running, 15), "vitals-temperature_0": "38", "vitals-spo2": "130"},
    )
    body = bad.content.decode()
    assert "the unit is missing" in body and "oxygen saturation" in body
    assert not InfusionEvent.objects.exists()
    nurse.post(
        url(world, running, "record/vitals/"),
        {
            "vitals-at": at(running, 15),
            "vitals-temperature_0": "99.5 °F",
            "vitals-heart_rate": "110",
            "vitals-blood_pressure": "105/65",
        },
    )
    data = InfusionEvent.objects.get().data
    assert data["temperature"] == "99.5 °F (= 37.5 °C)" and data["blood_pressure"] == "105/65 mmHg"


def test_symptoms_are_triaged_at_once_and_an_emergency_shows_the_banner(nurse, world, running):
    response = nurse.post(
        url(world, running, "record/symptom/"),
        {"symptom-at": at(running, 30), "symptom-symptoms": ["difficulty_breathing"]},
        follow=True,
    )
    body = response.content.decode()
    assert "CALL EMERGENCY SERVICES NOW" in body and "STOP THE INFUSION" in body
    event = InfusionEvent.objects.get()
    assert event.data["triage"]["level"] == "emergency" and event.data["triage"]["stop_infusion"]


def test_premedication_fluid_and_vial_lots(nurse, world, running):
    nurse.post(
        url(world, running, "record/premedication/"),
        {
            "premedication-at": at(running, -30),
            "premedication-name": "paracetamol",
            "premedication-dose": "250 mg",
        },
    )
    nurse.post(
        url(world, running, "record/fluid/"),
        {"fluid-at": at(running, 0), "fluid-fluid": "saline 0.9%", "fluid-volume": "100 mL"},
    )
    expired = nurse.post(
        url(world, running, "record/vial/"),
        {
            "vial-at": at(running, 1),
            "vial-brand": "Privigen",
            "vial-lot_number": "OLD",
            "vial-expiry": "2020-01-01",
        },
    )
    assert "expired" in expired.content.decode()
    assert sorted(InfusionEvent.objects.values_list("kind", flat=True)) == [
        "fluid",
        "premedication",
    ]


def test_stopping_the_last_day_plans_the_checkins_and_answers_are_triaged(nurse, world, running):
    response = nurse.post(
        url(world, running, "record/stop/"),
        stop_data(running, 100),
    )
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.ended_at is not None
    checkins = list(CheckIn.objects.order_by("due_at"))
    hours = [float(c.hours_after_end) for c in checkins]
    assert 72 in hours and 2 in hours and 12 in hours  # first infusion: elevated tier
    c72 = next(c for c in checkins if c.hours_after_end == 72)
    assert c72.due_at == running.ended_at + timedelta(hours=72)
    # answering the 72 h check-in with a fever
    response = nurse.post(
        f"/patients/{world.patient.pk}/checkins/{c72.pk}/",
        {"temperature_0": "101", "temperature_1": "°F", "headache": "2"},
        follow=True,
    )
    answer = c72.answers.get()
    assert answer.level == "call_doctor" and answer.triage["level"] == "call_doctor"
    assert answer.report["temperature"] == "101 °F" and answer.report["headache_score"] == 2
    assert "CALL THE CARE TEAM" in response.content.decode()


def test_a_day_that_is_not_the_last_plans_no_checkins(nurse, world):
    infusion = start(nurse, world, approve(world), day=1)
    nurse.post(
        url(world, infusion, "record/stop/"),
        stop_data(infusion, 100),
    )
    assert not CheckIn.objects.exists()


def test_overdue_checkins_are_listed_on_the_patient_page(nurse, world, running):
    nurse.post(
        url(world, running, "record/stop/"),
        stop_data(running, 100),
    )
    CheckIn.objects.filter(hours_after_end=0).update(due_at=timezone.now() - timedelta(hours=1))
    body = nurse.get(f"/patients/{world.patient.pk}/").content.decode()
    assert "Overdue check-ins" in body and "before leaving the chair" in body


def test_hydration_progress_and_a_fluid_limit(client, world, running):
    client.force_login(world.caregiver)
    page = f"/patients/{world.patient.pk}/hydration/"
    for minutes, volume in ((-60, "250 mL"), (30, "0.2 L")):
        client.post(page, {"at": at(running, minutes), "volume": volume})
    assert client.post(page, {"at": at(running, 1), "volume": "200"}).status_code == 200
    assert HydrationEntry.objects.count() == 2
    body = client.get(page).content.decode()
    assert "drink plenty of fluids" in body and "250 mL" in body and "200 mL" in body
    client.post(page + "limit/", {"limit": "1 L", "reason": "heart failure"})
    assert FluidLimit.objects.get().limit_ml == 1000
    body = client.get(page).content.decode()
    assert "Fluid limit: at most 1 L in 24 hours" in body and "heart failure" in body


def test_history_brands_brand_change_and_csv(nurse, world, running):
    nurse.post(url(world, running, "rate/"), {"at": at(running, 5), "rate": "0.5 mL/kg/h"})
    nurse.post(url(world, running, "rate/"), {"at": at(running, 35), "rate": "1 mL/kg/h"})
    nurse.post(
        url(world, running, "record/vial/"),
        {
            "vial-at": at(running, 1),
            "vial-brand": "Privigen",
            "vial-lot_number": "P123",
            "vial-expiry": "2030-01-31",
        },
    )
    nurse.post(
        url(world, running, "record/symptom/"),
        {"symptom-at": at(running, 40), "symptom-symptoms": ["itching_or_flushing"]},
    )
    nurse.post(
        url(world, running, "record/stop/"),
        stop_data(running, 100),
    )
    body = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert "Privigen" in body and "P123" in body and "19.9 mL/h" in body
    # a plan with another product warns: start low again
    other = build_plan(builders.document(None, product="gamunex_c"), today=date(2026, 11, 20))
    Approval.objects.create(
        plan_version=world.plan,
        snapshot=plan_to_dict(other),
        catalogue_version="x",
        approved_by=world.prescriber,
        language="en",
    )
    assert (
        "Start low again" in nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    )
    response = nurse.get(f"/patients/{world.patient.pk}/infusions/summary.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv") and len(rows) == 1
    assert rows[0]["product"] == "Privigen" and "P123" in rows[0]["lots"]
    assert rows[0]["highest_rate_ml_kg_h"] == "1" and rows[0]["worst_triage_level"] == "call_doctor"
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    empty = nurse.get(f"/patients/{world.patient.pk}/infusions/summary.csv?from={future}")
    assert len(list(csv.DictReader(io.StringIO(empty.content.decode())))) == 0
    timeline = nurse.get(url(world, running, "timeline/")).content.decode()
    assert "<svg" in timeline and "Actual vs planned" in timeline


def test_a_viewer_reads_but_records_nothing(client, world, running):
    client.force_login(world.viewer)
    assert client.get(url(world, running)).status_code == 200
    assert "Change the rate" not in client.get(url(world, running)).content.decode()
    assert (
        client.post(
            url(world, running, "rate/"), {"at": at(running, 5), "rate": "0.5 mL/kg/h"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            url(world, running, "record/stop/"), {"stop-at": at(running, 5), "stop-reason": "x"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/patients/{world.patient.pk}/hydration/", {"at": at(running, 5), "volume": "1 L"}
        ).status_code
        == 403
    )
    assert not InfusionEvent.objects.exists() and not HydrationEntry.objects.exists()


def test_outsiders_see_nothing_of_a_real_infusion(client, world, running):
    running_urls = [
        url(world, running),
        url(world, running, "timeline/"),
        f"/patients/{world.patient.pk}/infusions/summary.csv",
    ]
    for who in (None, world.stranger):
        client.logout()
        if who:
            client.force_login(who)
        for address in running_urls:
            response = client.get(address)
            assert response.status_code in (302, 404), (who, address)
            assert world.patient.name.encode() not in response.content
        assert client.post(
            url(world, running, "rate/"), {"at": at(running, 5), "rate": "1 mL/kg/h"}
        ).status_code in (302, 404)
    assert not InfusionEvent.objects.exists()
