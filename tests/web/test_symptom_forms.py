"""The check-in and during-infusion symptom forms (issue 9 items 2 and 4): every symptom of the
triage table, grouped by body system with the emergency signs first; a °C/°F choice on every
temperature field that remembers the person's last choice."""

from __future__ import annotations

import re

import pytest

from ivig.core.triage import load_triage_data
from ivig.web.infusions.models import DisplayPreference, InfusionEvent
from tests.web.test_infusion_day import _checkin, approve, at, post_start, url

pytestmark = pytest.mark.django_db


def offered(body: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([a-z0-9_]+)"', body)


def test_the_checkin_form_offers_every_symptom_grouped_with_emergencies_first(client, world):
    client.force_login(world.caregiver)
    item = _checkin(client, world)
    body = client.get(f"/patients/{world.patient.pk}/checkins/{item.pk}/").content.decode()
    data = load_triage_data()
    values = offered(body, "symptoms")
    assert sorted(values) == sorted(data.symptoms)  # every symptom, each once
    emergencies = [n for n in values if data.symptoms[n].level == "emergency"]
    assert values[: len(emergencies)] == emergencies  # the emergency signs come first
    for name in ("seizure", "confused_or_hard_to_wake", "face_lip_eye_swelling"):
        assert name in emergencies
    assert "Emergency signs: call emergency services" in body
    assert "Urine and fluids" in body and 'name="free_text"' in body


def test_the_during_infusion_form_offers_every_symptom_too(client, world):
    client.force_login(world.nurse)
    post_start(client, world, approve(world), day=1)
    infusion = world.patient.infusions.get()
    body = client.get(url(world, infusion, "record/symptom/")).content.decode()
    assert sorted(offered(body, "symptom-symptoms")) == sorted(load_triage_data().symptoms)


def test_a_seizure_ticked_at_a_checkin_is_an_emergency(client, world):
    client.force_login(world.caregiver)
    item = _checkin(client, world)
    response = client.post(
        f"/patients/{world.patient.pk}/checkins/{item.pk}/",
        {"symptoms": ["seizure"], "headache": "0"},
        follow=True,
    )
    assert "CALL EMERGENCY SERVICES NOW" in response.content.decode()
    assert item.answers.get().level == "emergency"


def test_the_temperature_unit_is_remembered_for_every_temperature_field(client, world):
    client.force_login(world.nurse)
    post_start(client, world, approve(world), day=1)
    infusion = world.patient.infusions.get()
    body = client.get(url(world, infusion, "record/vitals/")).content.decode()
    assert '<option value="°C" selected>' not in body  # nothing remembered yet
    client.post(
        url(world, infusion, "record/vitals/"),
        {
            "vitals-at": at(infusion, 15),
            "vitals-temperature_0": "101.3",
            "vitals-temperature_1": "°F",
        },
    )
    event = InfusionEvent.objects.get(kind="vitals")
    assert event.data["temperature"].startswith("101.3 °F")
    assert DisplayPreference.objects.get(user=world.nurse).temperature_unit == "°F"
    # vitals and symptoms forms (each opened on its own, htmx or not) both show °F chosen
    body = client.get(url(world, infusion, "record/vitals/")).content.decode()
    symptom = client.get(url(world, infusion, "record/symptom/"), HTTP_HX_REQUEST="true")
    body += symptom.content.decode()
    assert body.count('<option value="°F" selected>') == 2
    # a unit typed in the box wins over the choice: "38.5c" with °F chosen is 38.5 °C
    client.post(
        url(world, infusion, "record/vitals/"),
        {
            "vitals-at": at(infusion, 20),
            "vitals-temperature_0": "38.5c",
            "vitals-temperature_1": "°F",
        },
    )
    latest = InfusionEvent.objects.filter(kind="vitals").latest("pk")
    assert "38.5" in latest.data["temperature"] and "°C" in latest.data["temperature"]
    # another person keeps their own choice
    client.force_login(world.caregiver)
    item_body = client.get(url(world, infusion)).content.decode()
    assert '<option value="°F" selected>' not in item_body


def test_typed_units_without_the_degree_sign_are_read(client, world):
    client.force_login(world.nurse)
    post_start(client, world, approve(world), day=1)
    infusion = world.patient.infusions.get()
    for typed in ("101.3 F", "101.3F", "38.5 C", "38.5c", "101.3°f"):
        response = client.post(
            url(world, infusion, "record/vitals/"),
            {"vitals-at": at(infusion, 5), "vitals-temperature_0": typed},
        )
        assert response.status_code == 302, typed
    assert InfusionEvent.objects.filter(kind="vitals").count() == 5


def test_a_checkin_typed_in_words_is_read_and_ends_in_an_emergency(client, world):
    client.force_login(world.caregiver)
    item = _checkin(client, world)
    response = client.post(
        f"/patients/{world.patient.pk}/checkins/{item.pk}/",
        {"free_text": "she had a fit and her lips are swollen", "headache": "0"},
        follow=True,
    )
    body = response.content.decode()
    assert "CALL EMERGENCY SERVICES NOW" in body
    assert "What your words were read as" in body
    answer = item.answers.get()
    assert answer.level == "emergency"
    read = {r["symptom"] for p in answer.triage["free_text"] for r in p["read_as"]}
    assert {"seizure", "face_lip_eye_swelling"} <= read
    assert answer.report["free_text"] == "she had a fit and her lips are swollen"


def test_words_during_the_infusion_are_read_and_negation_is_respected(client, world):
    client.force_login(world.nurse)
    post_start(client, world, approve(world), day=1)
    infusion = world.patient.infusions.get()
    response = client.post(
        url(world, infusion, "record/symptom/"),
        {"symptom-at": at(infusion, 10), "symptom-free_text": "no trouble breathing, itchy skin"},
        follow=True,
    )
    event = InfusionEvent.objects.get(kind="symptom")
    readings = event.data["triage"]["free_text"]
    assert any(r["not_present"] for r in readings)
    assert event.data["triage"]["level"] != "emergency"
    assert "What your words were read as" in response.content.decode()
    # an unread phrase stays "call the care team" with a question
    client.post(
        url(world, infusion, "record/symptom/"),
        {"symptom-at": at(infusion, 12), "symptom-free_text": "zzqx blorf"},
    )
    latest = InfusionEvent.objects.filter(kind="symptom").latest("pk")
    assert latest.data["triage"]["level"] == "call_doctor"
    assert latest.data["triage"]["free_text"][0]["unread"]


def test_the_checkin_in_spanish_groups_reads_spanish_words_and_is_all_translated(client, world):
    from django.urls import reverse

    client.force_login(world.caregiver)
    item = _checkin(client, world)
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    address = f"/patients/{world.patient.pk}/checkins/{item.pk}/"
    body = client.get(address).content.decode()
    assert "Signos de emergencia: llame a emergencias" in body
    assert "Algo más, con sus propias palabras" in body and "Orina y líquidos" in body
    response = client.post(
        address, {"free_text": "tuvo una convulsión", "headache": "0"}, follow=True
    )
    body = response.content.decode()
    assert "Cómo se entendieron sus palabras" in body
    assert item.answers.get().level == "emergency"


def test_a_number_with_the_wrong_unit_chosen_is_refused_not_misread(client, world):
    """101 with °C chosen (meant °F) is no body temperature: refused with the field named, on
    the check-in (triage) and in Vitals; nothing is saved."""
    client.force_login(world.caregiver)
    item = _checkin(client, world)
    response = client.post(
        f"/patients/{world.patient.pk}/checkins/{item.pk}/",
        {"temperature_0": "101", "temperature_1": "°C", "headache": "0"},
    )
    assert response.status_code == 200 and not item.answers.exists()
    client.force_login(world.nurse)
    post_start(client, world, approve(world, start="2026-12-01T08:30"), day=1)
    infusion = world.patient.infusions.filter(ended_at__isnull=True).get()
    response = client.post(
        url(world, infusion, "record/vitals/"),
        {"vitals-at": at(infusion, 5), "vitals-temperature_0": "38", "vitals-temperature_1": "°F"},
    )
    assert "not a plausible body temperature" in response.content.decode()
    assert not InfusionEvent.objects.filter(kind="vitals").exists()


def test_a_plain_temperature_field_is_never_dropped():
    """The JSON API and scripts post "temperature" as one value: it is read as typed."""
    from ivig.web.infusions import forms

    form = forms.CheckInForm({"temperature": "101 °F", "headache": "0"})
    assert form.is_valid() and form.cleaned_data["temperature"] == "101 °F"
    vitals = forms.VitalsForm(
        {"vitals-at": "2026-12-01T10:00", "vitals-temperature": "38.5c"}, prefix="vitals"
    )
    assert vitals.is_valid() and vitals.cleaned_data["temperature"] == "38.5c"
    bare = forms.CheckInForm({"temperature": "38", "headache": "0"})
    assert bare.is_valid() and bare.cleaned_data["temperature"] == "38"  # refused by the core
