"""The printable doctor-vs-nurse comparison (English, Spanish, PDF) and the lot search for a
recall (team-scoped, corrections left out, CSV safe against formulas)."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ivig.web.infusions.models import EventKind, Infusion, InfusionEvent
from tests.web.test_fewer_steps import approve
from tests.web.test_plans import NURSE_STEPS, make_seed_child, save_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_plans(client, world):
    child = make_seed_child(world)
    client.force_login(world.caregiver)
    doctor = save_plan(client, child)
    client.force_login(world.nurse)
    nurse = save_plan(client, child, steps=NURSE_STEPS, kind="pump", label="")
    return child, doctor, nurse


def test_the_printable_comparison_in_english_and_spanish(client, world, two_plans):
    child, doctor, nurse = two_plans
    url = reverse("ui:compare_print", args=[child.pk]) + f"?first={doctor.pk}&second={nurse.pk}"
    body = client.get(url).content.decode()
    assert "Prescription and pump plan compared" in body
    assert "The first plan is the reference" in body
    assert "Faster than prescribed" in body and "Nurse (name, signature, time)" in body
    assert f"entered by {world.nurse}" in body
    assert "<style" not in body and "style=" not in body and "<script" not in body
    spanish = client.get(url + "&lang=es").content.decode()
    assert '<html lang="es">' in spanish and "Prescripción y plan de bomba comparados" in spanish
    assert "The first plan is the reference" not in spanish


def test_the_printable_comparison_as_pdf(client, world, two_plans, tmp_path):
    child, doctor, nurse = two_plans
    url = reverse("ui:compare_print", args=[child.pk])
    response = client.get(url + f"?first={doctor.pk}&second={nurse.pk}&format=pdf&lang=es")
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "compare.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Prescripción y plan de bomba comparados" in text


def test_the_printable_comparison_checks_access(client, world, two_plans):
    child, _doctor, _nurse = two_plans
    client.force_login(world.stranger)
    assert client.get(reverse("ui:compare_print", args=[child.pk])).status_code == 404


def _vial(infusion, user, lot, brand="Privigen", minutes=10):
    return InfusionEvent.objects.create(
        infusion=infusion,
        at=infusion.started_at + timedelta(minutes=minutes),
        kind=EventKind.VIAL,
        data={"brand": brand, "lot_number": lot, "expiry": "2027-06-30", "size": "20 g"},
        recorded_by=user,
    )


def test_lot_search_finds_every_infusion_of_the_team_and_exports_safe_csv(client, world):
    child = make_seed_child(world)
    client.force_login(world.caregiver)
    approval = approve(client, world, child, save_plan(client, child))
    infusions = [
        Infusion.objects.create(
            approval=approval, patient=child, day=day, started_by=world.nurse,
            started_at=timezone.now() - timedelta(days=30 - day),
            ended_at=timezone.now() - timedelta(days=30 - day, hours=-6),
        )
        for day in (1, 2)
    ]
    _vial(infusions[0], world.nurse, "P100234")
    _vial(infusions[1], world.nurse, "p100234", brand="=HYPERLINK(\"http://x\")")
    wrong = _vial(infusions[1], world.nurse, "P100234", minutes=20)
    InfusionEvent.objects.create(
        infusion=infusions[1], at=wrong.at, kind=EventKind.CORRECTION,
        data={"reason": "typo"}, recorded_by=world.nurse, corrects=wrong,
    )
    _vial(infusions[1], world.nurse, "OTHER")
    client.force_login(world.viewer)
    body = client.get(reverse("ui:lot_search") + "?lot=P100234").content.decode()
    assert "2 infusions used lot" in body and child.name in body
    assert f"/patients/{child.pk}/infusions/{infusions[0].pk}/" in body
    response = client.get(reverse("ui:lot_search") + "?lot=%20P100234&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["patient", "care_team", "infusion_id"] and len(rows) == 3
    assert {r[5] for r in rows[1:]} == {"Privigen", "'=HYPERLINK(\"http://x\")"}
    client.force_login(world.stranger)
    body = client.get(reverse("ui:lot_search") + "?lot=P100234").content.decode()
    assert "0 infusions used lot" in body and child.name not in body
    rows = list(csv.reader(io.StringIO(
        client.get(reverse("ui:lot_search") + "?lot=P100234&format=csv").content.decode()
    )))
    assert len(rows) == 1
