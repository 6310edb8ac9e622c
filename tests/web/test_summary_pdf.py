"""The doctor summary as a PDF: the CSV's data, a date range, a chart per infusion."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from ivig.web.infusions import records
from ivig.web.infusions.views import _summary_chart_svg
from tests.core import builders
from tests.web.test_care_checkins import T, approve_document, run_last_day

pytestmark = pytest.mark.django_db


def _vial(client, world, infusion, lot):
    at = timezone.localtime(infusion.started_at + timedelta(minutes=1)).strftime(T)
    response = client.post(
        f"/patients/{world.patient.pk}/infusions/{infusion.pk}/record/vial/",
        {
            "vial-at": at,
            "vial-brand": "Privigen",
            "vial-size": "5 g",
            "vial-lot_number": lot,
            "vial-expiry": "2030-01-31",
        },
    )
    assert response.status_code == 302


def test_the_pdf_has_the_product_and_the_lot_numbers(client, world):
    client.force_login(world.nurse)
    approval = approve_document(world, builders.document())
    infusion = run_last_day(client, world, approval)
    _vial(client, world, infusion, "LOT-A1234")
    client.post(
        f"/patients/{world.patient.pk}/infusions/{infusion.pk}/rate/",
        {
            "at": timezone.localtime(infusion.started_at + timedelta(minutes=5)).strftime(T),
            "rate": "0.5 mL/kg/h",
        },
    )
    client.force_login(world.viewer)
    response = client.get(f"/patients/{world.patient.pk}/infusions/summary.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Privigen" in text and "LOT-A1234" in text
    # the date range filters like the CSV's
    later = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.get(f"/patients/{world.patient.pk}/infusions/summary.pdf?from={later}")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "LOT-A1234" not in text and "No infusion recorded in this period" in text


def test_the_chart_has_one_bar_per_infusion_and_the_reactions(client, world):
    client.force_login(world.nurse)
    # two courses (a day of an approved plan is given once)
    run_last_day(client, world, approve_document(world, builders.document()))
    run_last_day(client, world, approve_document(world, builders.document()))
    history = records.patient_history(world.patient)
    history[1].reactions.append({"symptoms": ["fever"], "level": "call_doctor"})
    svg = _summary_chart_svg(history)
    assert svg.count("<rect ") == 2 and 'fill="#b3261e"' in svg
    assert _summary_chart_svg([]) == ""


def test_a_plan_approved_despite_an_error_shows_the_finding_and_the_reason(client, world):
    """Issue 8: every printout that shows a plan shows what was approved despite an error."""
    from ivig.core.plan import build_plan
    from ivig.render.plan_json import plan_to_dict
    from ivig.web.plans.models import OVERRIDES_KEY, Approval, PlanKind, PlanVersion

    client.force_login(world.nurse)
    plain = approve_document(world, builders.document())
    run_last_day(client, world, plain)
    document = builders.document()
    version = PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PRESCRIBED, label="Course", order_document=document,
        author=world.prescriber,
    )
    plan = build_plan(document, today=timezone.localdate())
    snapshot = {**plan_to_dict(plan), OVERRIDES_KEY: [
        {"code": "dose_above_regimen", "message": "Dose above the highest cited regimen",
         "reason": "Refractory ITP, agreed with haematology"},
    ]}
    overridden = Approval.objects.create(
        plan_version=version, snapshot=snapshot, catalogue_version=plan.catalogue.version,
        approved_by=world.prescriber, language="en",
    )
    run_last_day(client, world, overridden)
    response = client.get(f"/patients/{world.patient.pk}/infusions/summary.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "Plans approved despite error findings" in text
    assert "Dose above the highest cited regimen" in text
    assert "Refractory ITP, agreed with haematology" in text
    assert text.count("Reason given:") == 1  # only the overridden plan
