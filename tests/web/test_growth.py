"""Pages stay light as records grow: paged logs and lists, an htmx answer to a record form
instead of the whole page, and a number of queries that does not grow with the record.
(Timings are measured by benchmarks/pages.py, never asserted here.)"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ivig.web.infusions.models import EventKind, Infusion, InfusionEvent
from ivig.web.patients.models import Measurement, MeasurementKind
from tests.web.test_infusions import approve, at, start, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse(client, world):
    client.force_login(world.nurse)
    return client


def add_events(infusion, user, count, kind=EventKind.VITALS):
    InfusionEvent.objects.bulk_create(
        InfusionEvent(
            infusion=infusion,
            kind=kind,
            at=infusion.started_at + timedelta(seconds=10 * i),
            recorded_by=user,
            data={"heart_rate": f"{60 + i} /min"}
            if kind == EventKind.VITALS
            else {"rate": "10 mL/h", "pump_rate_ml_h": "10.0", "rate_ml_kg_h": f"{i}.000"},
        )
        for i in range(count)
    )


def add_infusions(world, approval, count, events_each=2):
    now = timezone.now()
    infusions = Infusion.objects.bulk_create(
        Infusion(
            approval=approval,
            patient=world.patient,
            day=1,
            started_by=world.nurse,
            started_at=now - timedelta(days=30 * (i + 1)),
            ended_at=now - timedelta(days=30 * (i + 1), hours=-3),
        )
        for i in range(count)
    )
    for infusion in infusions:
        add_events(infusion, world.nurse, events_each, EventKind.RATE_CHANGE)
    return infusions


def test_the_infusion_log_shows_the_newest_page_and_pages_back(nurse, world):
    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 120)
    body = nurse.get(url(world, infusion)).content.decode()
    assert "179 /min" in body and "129 /min" not in body  # newest 50 of 120
    assert "Page 3 of 3 (120 in all)" in body and 'rel="prev"' in body
    first = nurse.get(url(world, infusion) + "?page=1").content.decode()
    assert "60 /min" in first and "109 /min" in first and "110 /min" not in first
    # a page that does not exist shows the nearest one, never an error
    assert nurse.get(url(world, infusion) + "?page=zz").status_code == 200
    assert nurse.get(url(world, infusion) + "?page=999").status_code == 200


def test_withdrawn_entries_and_the_latest_triage_are_known_beyond_the_page(nurse, world):
    infusion = start(nurse, world, approve(world))
    response = nurse.post(
        url(world, infusion, "record/symptom/"),
        {"symptom-at": at(infusion, 5), "symptom-symptoms": ["difficulty_breathing"]},
    )
    assert response.status_code == 302
    add_events(infusion, world.nurse, 60)  # pushes the symptom off the newest page
    body = nurse.get(url(world, infusion)).content.decode()
    assert 'id="emergency"' in body  # the banner comes from the latest triage, not the page


def test_a_record_form_posted_by_htmx_answers_with_a_fragment(nurse, world):
    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 80)
    response = nurse.post(
        url(world, infusion, "record/vitals/"),
        {"vitals-at": at(infusion, 30), "vitals-heart_rate": "55 /min"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="record-vitals"' in body and "Recorded." in body
    assert 'id="log" hx-swap-oob="true"' in body and "55 /min" in body
    assert 'id="triage-box" hx-swap-oob="true"' in body
    assert len(body) < 30_000
    assert InfusionEvent.objects.filter(data__heart_rate="55 /min").count() == 1


def test_a_refused_htmx_record_answers_with_the_form_and_saves_nothing(nurse, world):
    infusion = start(nurse, world, approve(world))
    before = InfusionEvent.objects.count()
    response = nurse.post(
        url(world, infusion, "record/fluid/"),
        {"fluid-at": at(infusion, 30), "fluid-volume": "250"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="record-fluid" open' in body and "unit" in body and "hx-swap-oob" not in body
    assert InfusionEvent.objects.count() == before


def test_the_record_forms_post_by_htmx_and_still_work_without_javascript(nurse, world):
    infusion = start(nurse, world, approve(world))
    body = nurse.get(url(world, infusion)).content.decode()
    action = f'action="{url(world, infusion, "record/vitals/")}"'
    assert action in body and f'hx-post="{url(world, infusion, "record/vitals/")}"' in body
    response = nurse.post(
        url(world, infusion, "record/vitals/"),
        {"vitals-at": at(infusion, 30), "vitals-heart_rate": "99 /min"},
    )
    assert response.status_code == 302  # no JavaScript: back to the (paged) log


def _queries(client, path):
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_infusions_page_is_paged_and_its_queries_do_not_grow(nurse, world):
    approval = approve(world)
    add_infusions(world, approval, 3)
    few = _queries(nurse, f"/patients/{world.patient.pk}/infusions/")
    add_infusions(world, approval, 40)
    many = _queries(nurse, f"/patients/{world.patient.pk}/infusions/")
    assert many == few
    body = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert "Page 1 of 3 (43 in all)" in body
    assert len(re.findall(r'href="/patients/\d+/infusions/\d+/"', body)) == 20
    # the brand summary still counts every infusion, and the highest rate of them all
    assert "43 infusions" in body and "tolerated up to 1.000 mL/kg/h" in body


def test_the_summary_csv_reads_every_infusion_in_a_fixed_number_of_queries(nurse, world):
    approval = approve(world)
    add_infusions(world, approval, 2)
    few = _queries(nurse, f"/patients/{world.patient.pk}/infusions/summary.csv")
    add_infusions(world, approval, 20)
    many = _queries(nurse, f"/patients/{world.patient.pk}/infusions/summary.csv")
    assert many == few
    csv = nurse.get(f"/patients/{world.patient.pk}/infusions/summary.csv").content.decode()
    assert len(csv.strip().splitlines()) == 1 + 22


def test_the_timeline_is_paged(nurse, world):
    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 70, EventKind.RATE_CHANGE)
    body = nurse.get(url(world, infusion, "timeline/")).content.decode()
    assert "Page 2 of 2 (71 in all)" in body  # 70 changes and the "now" row


def test_the_patient_page_and_the_history_are_paged(nurse, world):
    now = timezone.now()
    for i in range(60):
        Measurement.objects.create(
            patient=world.patient, kind=MeasurementKind.WEIGHT, value=Decimal(20) + i,
            unit="kg", taken_at=now - timedelta(hours=i), recorded_by=world.nurse,
        )
    body = nurse.get(f"/patients/{world.patient.pk}/").content.decode()
    assert "Page 1 of 7 (61 in all)" in body and body.count("Archive (wrong entry)") == 10
    history = nurse.get(f"/patients/{world.patient.pk}/history/").content.decode()
    assert "Page 1 of 2" in history
    assert history.count('class="history-entry"') == 50
    second = nurse.get(f"/patients/{world.patient.pk}/history/?page=2").content.decode()
    assert second.count('class="history-entry"') > 0


def test_a_stop_posted_by_htmx_reloads_the_whole_page(nurse, world):
    from tests.web.test_infusions import stop_data

    infusion = start(nurse, world, approve(world))
    response = nurse.post(
        url(world, infusion, "record/stop/"), stop_data(infusion, 100), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == url(world, infusion)
    infusion.refresh_from_db()
    assert infusion.ended_at is not None
