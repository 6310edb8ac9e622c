"""The care calendar page and its iCalendar download (latest approved plan's care events)."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from tests.core import builders
from tests.web.conftest import make_caregiver, make_team
from tests.web.test_care_checkins import approve_document

pytestmark = pytest.mark.django_db


def test_the_page_lists_hydration_and_check_ins(client, world):
    approve_document(world, builders.document(indication="kawasaki"))
    client.force_login(world.viewer)
    response = client.get(f"/patients/{world.patient.pk}/calendar/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="care-hydrate_start"' in body and 'class="care-hydrate_until"' in body
    assert body.count('class="care-check_in"') >= 14
    assert "336 h after the infusion" in body
    assert 'name="name" value="1"' in body


def _summaries(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return calendar, [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]


def test_the_ics_has_no_patient_name_unless_asked(client, world):
    approve_document(world, builders.document())
    client.force_login(world.caregiver)
    name = world.patient.name
    assert name
    calendar, summaries = _summaries(client.get(f"/patients/{world.patient.pk}/calendar.ics"))
    assert summaries and any("72 h" in s for s in summaries)
    assert name.encode() not in client.get(f"/patients/{world.patient.pk}/calendar.ics").content
    assert name not in str(calendar["X-WR-CALNAME"])
    calendar, summaries = _summaries(
        client.get(f"/patients/{world.patient.pk}/calendar.ics?name=1")
    )
    assert all(s.startswith(f"{name}: ") for s in summaries)
    assert name in str(calendar["X-WR-CALNAME"])


def test_no_approved_plan_means_no_calendar(client, world):
    client.force_login(world.caregiver)
    page = client.get(f"/patients/{world.patient.pk}/calendar/")
    assert page.status_code == 200 and "no approved plan" in page.content.decode().lower()
    assert client.get(f"/patients/{world.patient.pk}/calendar.ics").status_code == 404


def test_strangers_and_anonymous_get_nothing(client, world):
    approve_document(world, builders.document())
    urls = [f"/patients/{world.patient.pk}/calendar/", f"/patients/{world.patient.pk}/calendar.ics"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(make_caregiver(make_team("Other")))
    for url in urls:
        response = client.get(url)
        assert response.status_code in (403, 404)
        assert world.patient.name.encode() not in response.content


def _checkin_times_on_the_page(body):
    import re

    rows = re.findall(r'<tr class="care-check_in"><td><time datetime="([0-9-]+ [0-9:]+)"', body)
    return sorted(rows)


def test_one_check_in_schedule_from_the_actual_end_on_every_page_and_the_ics(client, world):
    """Before the end: the infusions page and the calendar give the same planned times. After
    the last day ends (at another time than planned): the recorded check-ins, the calendar page
    and the .ics all count from the actual end."""
    from django.utils import timezone

    from ivig.web.infusions.models import CheckIn
    from tests.web.test_care_checkins import run_last_day

    approval = approve_document(world, builders.document())
    client.force_login(world.nurse)
    patient = world.patient.pk
    listing = client.get(f"/patients/{patient}/infusions/").content.decode()
    calendar = client.get(f"/patients/{patient}/calendar/").content.decode()
    planned = _checkin_times_on_the_page(calendar)
    assert planned and "planned end of the last day" in calendar
    for when in planned:
        assert when in listing  # the infusions page lists the same planned check-ins
    run_last_day(client, world, approval)  # ends now-ish: hours away from the planned end
    recorded = sorted(
        timezone.localtime(c.due_at).strftime("%Y-%m-%d %H:%M") for c in CheckIn.objects.all()
    )
    calendar = client.get(f"/patients/{patient}/calendar/").content.decode()
    assert "counted from this actual end" in calendar
    assert _checkin_times_on_the_page(calendar) == recorded != planned
    ics, _ = _summaries(client.get(f"/patients/{patient}/calendar.ics"))
    labels = {c.label for c in CheckIn.objects.all()}
    starts = sorted(
        e.decoded("DTSTART").strftime("%Y-%m-%d %H:%M")
        for e in ics.walk("VEVENT")
        if str(e.get("SUMMARY", "")) in labels
    )
    assert starts == recorded
