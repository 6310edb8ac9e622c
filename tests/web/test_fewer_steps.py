"""Fewer steps: a new patient takes the first weight and height; "New course from the last plan"
copies the last approved prescription with today's date and the latest weight."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from ivig.web.infusions.models import Infusion
from ivig.web.patients.models import Measurement, Patient
from ivig.web.plans.models import Approval, PlanKind, PlanVersion
from tests.web.test_plans import form_data, make_seed_child, save_plan

pytestmark = pytest.mark.django_db


def approve(client: Any, world: Any, patient: Patient, version: PlanVersion) -> Approval:
    client.force_login(world.prescriber)
    page = client.get(reverse("plans:detail", args=[patient.pk, version.pk])).content.decode()
    digest = re.search(r'name="digest" value="(\w+)"', page).group(1)
    client.post(reverse("plans:approve", args=[patient.pk, version.pk]), {"digest": digest})
    return Approval.objects.get(plan_version=version)


def test_a_new_patient_takes_the_first_weight_and_height(client, world):
    client.force_login(world.caregiver)
    response = client.post(
        reverse("patients:create"),
        {
            "team": world.team_a.pk, "name": "Mateo", "birth_date": "2019-02-03",
            "sex": "male", "blood_group": "O+", "weight": "44 lb", "height": "112 cm",
        },
    )
    patient = Patient.objects.get(name="Mateo")
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.latest_weight().text == "44 lb"
    assert patient.latest_height().text == "112 cm"
    assert patient.latest_weight().recorded_by == world.caregiver
    assert not patient.weight_is_stale()


def test_a_bad_first_weight_is_named_and_nothing_is_saved(client, world):
    client.force_login(world.caregiver)
    before = (Patient.objects.count(), Measurement.objects.count())
    response = client.post(
        reverse("patients:create"),
        {"team": world.team_a.pk, "name": "Mateo", "birth_date": "2019-02-03",
         "sex": "male", "blood_group": "O+", "weight": "44", "height": ""},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Write the unit after the number" in body
    assert (Patient.objects.count(), Measurement.objects.count()) == before


def test_the_weight_stays_optional(client, world):
    client.force_login(world.caregiver)
    client.post(
        reverse("patients:create"),
        {"team": world.team_a.pk, "name": "Ana", "birth_date": "2019-02-03",
         "sex": "female", "blood_group": "O+"},
    )
    assert Patient.objects.get(name="Ana").latest_weight() is None


def test_new_course_copies_the_last_approved_prescription(client, world):
    child = make_seed_child(world)
    client.force_login(world.caregiver)
    first = save_plan(client, child)
    approval = approve(client, world, child, first)
    Infusion.objects.create(
        approval=approval, patient=child, day=1, started_by=world.nurse,
        started_at=timezone.now() - timedelta(days=28),
        ended_at=timezone.now() - timedelta(days=28),
    )
    client.force_login(world.nurse)
    page = client.get(reverse("plans:new_course", args=[child.pk]))
    form = page.context["form"]
    today = timezone.localdate().isoformat()
    assert form.initial["start"] == f"{today}T08:30"
    assert form.initial["dose"] == "2 g/kg" and form.initial["product"] == "privigen"
    assert form.initial["first_infusion"] == "no"
    assert form.initial["previous_product"] == "privigen"
    assert form.initial["kind"] == PlanKind.PRESCRIBED
    body = page.content.decode()
    assert "New course from the last plan" in body and "Copied from the last approved" in body
    # Saving posts to the same page: a new prescription (not a version of the old one).
    data = form_data(start=f"{today}T08:30", first_infusion="no", previous_product="privigen")
    response = client.post(reverse("plans:new_course", args=[child.pk]), data)
    assert response.status_code == 302
    course = PlanVersion.objects.latest("pk")
    assert course != first and course.supersedes is None and course.author == world.nurse
    assert course.order_document["order"]["start"] == f"{today}T08:30"
    assert not course.approvals.exists()  # a prescriber approves it as usual


def test_new_course_without_an_approved_plan_goes_to_the_plan_form(client, world):
    child = make_seed_child(world)
    client.force_login(world.caregiver)
    response = client.get(reverse("plans:new_course", args=[child.pk]))
    assert response["Location"] == reverse("plans:create", args=[child.pk])


def test_new_course_checks_access(client, world):
    child = make_seed_child(world)
    client.force_login(world.viewer)
    assert client.get(reverse("plans:new_course", args=[child.pk])).status_code == 403
    client.force_login(world.stranger)
    assert client.get(reverse("plans:new_course", args=[child.pk])).status_code == 404


def test_an_implausible_first_weight_is_shown_and_needs_confirmation(client, world):
    """The new-patient form's first weight gets the same check as the weight form: a 6-year-old
    at 440 lb is shown with the finding, nothing (patient or weight) is saved until confirmed."""
    client.force_login(world.caregiver)
    before = (Patient.objects.count(), Measurement.objects.count())
    data = {"team": world.team_a.pk, "name": "Heavy", "birth_date": "2020-06-15",
            "sex": "male", "blood_group": "O+", "weight": "440 lb", "height": ""}
    response = client.post(reverse("patients:create"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Check this weight before saving" in body and "above the plausible range" in body
    assert 'name="confirm_implausible"' in body
    assert (Patient.objects.count(), Measurement.objects.count()) == before
    response = client.post(reverse("patients:create"), {**data, "confirm_shown": "1"})
    assert response.status_code == 200  # asked again, still nothing saved
    assert (Patient.objects.count(), Measurement.objects.count()) == before
    response = client.post(
        reverse("patients:create"), {**data, "confirm_shown": "1", "confirm_implausible": "on"}
    )
    assert response.status_code == 302
    assert Patient.objects.get(name="Heavy").latest_weight().text == "440 lb"
