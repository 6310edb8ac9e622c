"""Between courses: IgG trough levels and infections, access-checked, kept with history,
charted (SVG, no inline style) and in the doctor's summary PDF."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from ivig.web.patients.models import Infection, LabResult
from tests.web.test_print import pdf_text

pytestmark = pytest.mark.django_db


def url(world: Any) -> str:
    return reverse("patients:between", args=[world.patient.pk])


def add_trough(client: Any, world: Any, level: str, days_ago: int) -> Any:
    day = timezone.localdate() - timedelta(days=days_ago)
    return client.post(
        url(world),
        {"what": "trough", "trough-level": level, "trough-taken_on": day.isoformat()},
        follow=True,
    )


def test_trough_levels_with_units_and_dates_are_charted(client: Any, world: Any) -> None:
    client.force_login(world.nurse)
    add_trough(client, world, "7.5 g/L", 60)
    response = add_trough(client, world, "620 mg/dL", 30)
    body = response.content.decode()
    assert [r.text for r in LabResult.objects.order_by("taken_on")] == ["7.5 g/L", "620 mg/dL"]
    assert LabResult.objects.get(unit="mg/dL").g_per_l == Decimal("6.2")
    assert "<svg" in body and "<polyline" in body and "style=" not in body
    assert "target 7 g/L" in body and "lower limit 5 g/L" in body  # cited reference lines
    assert LabResult.history.count() == 2


def test_bad_trough_names_the_unit_problem_and_saves_nothing(client: Any, world: Any) -> None:
    client.force_login(world.nurse)
    body = add_trough(client, world, "750", 1).content.decode()
    assert "the unit is missing" in body and "750 mg/dL" in body
    future = add_trough(client, world, "7 g/L", -3).content.decode()
    assert "in the future" in future
    assert not LabResult.objects.exists()


def test_infections_recorded_and_totalled(client: Any, world: Any) -> None:
    client.force_login(world.caregiver)
    day = (timezone.localdate() - timedelta(days=10)).isoformat()
    response = client.post(
        url(world),
        {
            "what": "infection",
            "infection-started_on": day,
            "infection-kind": "Ear infection",
            "infection-antibiotics": "amoxicillin 7 days",
            "infection-days_missed": "3",
            "infection-notes": "",
        },
        follow=True,
    )
    body = response.content.decode()
    infection = Infection.objects.get()
    assert (infection.kind, infection.days_missed) == ("Ear infection", 3)
    assert "Ear infection" in body and "3 day(s) missed" in body
    assert 'class="infection"' in body


def test_viewer_reads_but_cannot_record_and_stranger_sees_nothing(
    client: Any, world: Any
) -> None:
    client.force_login(world.viewer)
    assert client.get(url(world)).status_code == 200
    response = client.post(
        url(world),
        {"what": "trough", "trough-level": "7 g/L", "trough-taken_on": date.today().isoformat()},
    )
    assert response.status_code in (403, 404)
    client.force_login(world.stranger)
    assert client.get(url(world)).status_code in (403, 404)
    assert not LabResult.objects.exists()


def test_doctor_summary_has_troughs_infections_and_vaccine_wait(
    client: Any, world: Any, artifacts_dir: Path
) -> None:
    from tests.core import builders
    from tests.web.test_care_checkins import approve_document

    client.force_login(world.nurse)
    approve_document(world, builders.document(indication="pi", dose="0.4 g/kg", days=1))
    add_trough(client, world, "6.8 g/L", 20)
    response = client.get(reverse("infusions:summary_pdf", args=[world.patient.pk]))
    assert response.content.startswith(b"%PDF")
    (artifacts_dir / "doctor-summary-between-courses.pdf").write_bytes(response.content)
    text = pdf_text(response.content)
    assert "6.8 g/L" in text
    assert "No measles or chickenpox vaccines for 9 months" in text
    assert "Antibody blood tests may read wrong" in text


def test_the_infusions_page_links_to_troughs_and_infections(client: Any, world: Any) -> None:
    """The infusions page links to the between-courses page, which charts them (the infusions
    page no longer repeats the chart: it read every infusion and both lists to draw it)."""
    client.force_login(world.nurse)
    add_trough(client, world, "5.9 g/L", 5)
    body = client.get(reverse("infusions:list", args=[world.patient.pk])).content.decode()
    between = reverse("patients:between", args=[world.patient.pk])
    assert f'href="{between}"' in body
    page = client.get(between).content.decode()
    assert "5.9 g/L" in page and "<svg" in page


def test_the_forms_show_when_asked_for_and_after_a_refused_entry(client: Any, world: Any) -> None:
    """Issue 10: the page is the levels, the chart and the infections; each form opens from
    its section's link (no JavaScript) and stays open with its errors when an entry is
    refused. Someone who may only read sees neither link nor form."""
    client.force_login(world.nurse)
    body = client.get(url(world)).content.decode()
    assert 'href="?record=trough#record-trough"' in body
    assert 'href="?record=infection#record-infection"' in body
    assert 'name="trough-level"' not in body and 'name="infection-kind"' not in body
    trough = client.get(url(world) + "?record=trough").content.decode()
    assert 'id="record-trough"' in trough and 'name="trough-level"' in trough
    assert '<label for="id_trough-level"' in trough
    assert 'href="?record=infection#record-infection"' in trough
    infection = client.get(url(world) + "?record=infection").content.decode()
    assert 'name="infection-kind"' in infection and 'name="trough-level"' not in infection
    refused = add_trough(client, world, "750", 1).content.decode()
    assert "the unit is missing" in refused and 'name="trough-level"' in refused
    client.force_login(world.viewer)
    body = client.get(url(world)).content.decode()
    assert "?record=" not in body and 'name="trough-level"' not in body


def test_the_page_reads_the_same_few_times_however_many_entries(client: Any, world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url(world)).status_code == 200
        return len(context.captured_queries)

    client.force_login(world.nurse)
    add_trough(client, world, "7 g/L", 30)
    few = reads()
    for days in range(1, 20):
        add_trough(client, world, f"{6 + days / 10} g/L", 30 + days)
        Infection.objects.create(
            patient=world.patient, started_on=timezone.localdate() - timedelta(days=days),
            kind="Cold", days_missed=1, recorded_by=world.nurse,
        )
    assert reads() == few <= 7
