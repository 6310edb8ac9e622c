"""Plan pages: the form and its live preview, versions, approval, comparison, permissions."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.plans.models import Approval, PlanKind, PlanVersion
from tests.web.conftest import make_measurement, make_patient

pytestmark = pytest.mark.django_db

SEED_STEPS = [("0.5 mL/kg/h", "30"), ("1 mL/kg/h", "30"), ("1.5 mL/kg/h", "30"), ("2 mL/kg/h", "")]
NURSE_STEPS = [("0.5 mL/h", "15"), ("1 mL/kg/h", "15"), ("2 mL/kg/h", "30"), ("3 mL/kg/h", "")]


def form_data(
    steps: list[tuple[str, str]] = SEED_STEPS, action: str = "save", **overrides: Any
) -> dict[str, Any]:
    """The seed chart's example order, as the plan form posts it."""
    data: dict[str, Any] = {
        "kind": "prescribed",
        "label": "Seed chart",
        "product": "privigen",
        "indication": "jdm",
        "dose": "2 g/kg",
        "days": "2",
        "dosing_weight": "actual",
        "vial_rounding": "none",
        "start": "2026-12-01T08:30",
        "prescriber": "Dr. A. Rivera",
        "first_infusion": "yes",
        "previous_product": "",
        "titration_form": "steps",
        "saline_amount": "10 mL/kg",
        "saline_timing": "over the first hour",
        "step-TOTAL_FORMS": str(len(steps)),
        "step-INITIAL_FORMS": "0",
        "premed-TOTAL_FORMS": "1",
        "premed-INITIAL_FORMS": "0",
        "premed-0-name": "acetaminophen",
        "premed-0-dose": "15 mg/kg",
        "premed-0-minutes_before": "30",
        action: "1",
    }
    for i, (rate, minutes) in enumerate(steps):
        data[f"step-{i}-rate"] = rate
        data[f"step-{i}-minutes"] = minutes
    data.update(overrides)
    return data


def make_seed_child(world: Any) -> Any:
    """A 44 lb child in team A (the seed chart's example)."""
    patient = make_patient(
        world.team_a,
        world.caregiver,
        name="Seed Child",
        birth_date=date(2020, 6, 15),
        conditions=[],
    )
    make_measurement(patient, world.nurse, value="44", unit="lb")
    make_measurement(patient, world.nurse, kind="height", value="112", unit="cm")
    return patient


@pytest.fixture
def child(world: Any) -> Any:
    return make_seed_child(world)


def url(name: str, *args: Any) -> str:
    return reverse(f"plans:{name}", args=args)


def save_plan(client: Any, patient: Any, **kw: Any) -> PlanVersion:
    response = client.post(url("create", patient.pk), form_data(**kw))
    assert response.status_code == 302, response.content.decode()[:3000]
    return PlanVersion.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_new_plan_page_shows_the_form(client, world, child):
    client.force_login(world.caregiver)
    response = client.get(url("create", child.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="step-0-rate"' in body and 'name="add_step"' in body
    assert "44 lb" in body
    assert "hx-post" in body and "delay:500ms" in body


def test_check_plan_renders_the_plan_and_saves_nothing(client, world, child):
    client.force_login(world.caregiver)
    before = PlanVersion.objects.count()
    response = client.post(url("create", child.pk), form_data(action="check"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "9.9" in body and "39.9" in body and "199.58" in body
    assert "prescribed by Dr. A. Rivera" in body
    assert "<svg" in body and "Pump rate (mL/h)" in body
    assert "Starts faster than the label" in body
    assert PlanVersion.objects.count() == before


def test_preview_fragment(client, world, child):
    client.force_login(world.nurse)
    response = client.post(
        url("preview", child.pk), form_data(action="check"), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "39.9" in body and "Privigen" in body
    # The label's rates for the chosen product and indication, with their sources.
    assert "mg/kg/min" in body and "prescribing information" in body


def test_preview_lists_problems(client, world, child):
    client.force_login(world.nurse)
    data = form_data(action="check", **{"step-2-rate": "1.5 mL/kg"})
    body = client.post(url("preview", child.pk), data).content.decode()
    assert "cannot be computed" in body
    assert "Rate" in body


def test_bad_form_shows_errors_next_to_fields_and_saves_nothing(client, world, child):
    client.force_login(world.caregiver)
    before = PlanVersion.objects.count()
    data = form_data(dose="2 g/ml", **{"step-2-rate": "fast"})
    response = client.post(url("create", child.pk), data)
    assert response.status_code == 200
    assert PlanVersion.objects.count() == before
    form = response.context["form"]
    steps = response.context["steps"]
    assert form.errors.get("dose")
    assert steps.forms[2].errors.get("rate")
    assert not steps.forms[0].errors
    body = response.content.decode()
    assert "Nothing was saved" in body


def test_missing_minutes_goes_to_the_step_row(client, world, child):
    client.force_login(world.caregiver)
    data = form_data(**{"step-1-minutes": ""})
    response = client.post(url("create", child.pk), data)
    assert response.context["steps"].forms[1].errors.get("minutes")


def test_rule_form(client, world, child):
    client.force_login(world.caregiver)
    data = form_data(
        steps=[],
        titration_form="rule",
        rule_start="0.5 mL/kg/h",
        rule_increase_by="0.5 mL/kg/h",
        rule_every_minutes="30",
        rule_max="2 mL/kg/h",
    )
    version = save_plan(client, child, **{k: v for k, v in data.items() if k != "save"})
    assert version.order_document["order"]["titration"] == {
        "start": "0.5 mL/kg/h",
        "increase_by": "0.5 mL/kg/h",
        "every_minutes": 30,
        "max": "2 mL/kg/h",
    }


def test_add_a_step_without_javascript(client, world, child):
    client.force_login(world.caregiver)
    data = form_data(action="add_step")
    response = client.post(url("create", child.pk), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="step-4-rate"' in body
    assert 'value="1.5 mL/kg/h"' in body  # what was typed is kept
    assert "errorlist" not in body
    response = client.post(
        url("create", child.pk), form_data(action="remove_step", remove_step="0")
    )
    body = response.content.decode()
    assert 'name="step-3-rate"' not in body
    assert 'value="0.5 mL/kg/h"' not in body


def test_save_builds_the_order_document_from_the_patient_record(client, world, child):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    doc = version.order_document
    assert doc["patient"]["weight"] == "44 lb"
    assert doc["patient"]["height"] == "112 cm"
    assert doc["patient"]["birth_date"] == "2020-06-15"
    assert doc["patient"]["first_infusion"] is True
    assert doc["order"]["titration"][0] == {"rate": "0.5 mL/kg/h", "minutes": 30}
    assert doc["order"]["titration"][-1] == {"rate": "2 mL/kg/h"}
    assert version.author == world.caregiver and version.kind == PlanKind.PRESCRIBED


def test_list_and_detail_pages(client, world, child):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    body = client.get(url("list", child.pk)).content.decode()
    assert "Seed chart" in body
    body = client.get(url("detail", child.pk, version.pk)).content.decode()
    assert "39.9" in body and "prescribed by Dr. A. Rivera" in body
    assert "only computes and checks" in body


def test_detail_of_a_stored_document_that_no_longer_validates(client, world):
    client.force_login(world.caregiver)
    response = client.get(url("detail", world.patient.pk, world.plan.pk))
    assert response.status_code == 200
    assert "cannot be computed" in response.content.decode()


def test_edit_makes_a_new_version_that_supersedes(client, world, child):
    client.force_login(world.caregiver)
    first = save_plan(client, child)
    response = client.get(url("edit", child.pk, first.pk))
    assert 'value="1.5 mL/kg/h"' in response.content.decode()
    data = form_data(kind="amended", **{"step-3-rate": "1.8 mL/kg/h"})
    response = client.post(url("edit", child.pk, first.pk), data)
    assert response.status_code == 302
    second = PlanVersion.objects.exclude(pk=first.pk).get(patient=child)
    assert second.supersedes == first
    first.refresh_from_db()
    assert first.order_document["order"]["titration"][3]["rate"] == "2 mL/kg/h"  # untouched
    assert second.order_document["order"]["titration"][3]["rate"] == "1.8 mL/kg/h"


def test_archive_keeps_the_version(client, world, child):
    client.force_login(world.nurse)
    version = save_plan(client, child)
    client.post(url("archive", child.pk, version.pk))
    version.refresh_from_db()
    assert version.archived_at is not None
    assert PlanVersion.objects.filter(pk=version.pk).exists()


def test_approval_snapshot_is_what_was_rendered(client, world, child):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.force_login(world.prescriber)
    page = client.get(url("detail", child.pk, version.pk))
    shown = page.context["plan"]
    digest = re.search(r'name="digest" value="(\w+)"', page.content.decode()).group(1)
    response = client.post(url("approve", child.pk, version.pk), {"digest": digest})
    assert response.status_code == 302
    approval = Approval.objects.get(plan_version=version)
    assert approval.shown_plan == shown
    assert approval.error_overrides == []
    assert approval.catalogue_version == shown["catalogue_version"]
    assert approval.approved_by == world.prescriber
    body = client.get(url("detail", child.pk, version.pk)).content.decode()
    assert "Approved by" in body and "is the same as what was approved" in body


def test_approval_refused_when_the_page_is_stale(client, world, child):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.force_login(world.prescriber)
    client.post(url("approve", child.pk, version.pk), {"digest": "0" * 64})
    assert not Approval.objects.filter(plan_version=version).exists()


def test_approved_page_warns_when_recomputation_differs(client, world, child):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    plan = build_plan(version.order_document, today=date.today())
    snapshot = plan_to_dict(plan, "en")
    snapshot["days"][0]["steps"][0]["rate_ml_h"] = 99.9  # what was shown back then
    Approval.objects.create(
        plan_version=version,
        snapshot=snapshot,
        catalogue_version="old",
        approved_by=world.prescriber,
        language="en",
    )
    body = client.get(url("detail", child.pk, version.pk)).content.decode()
    assert "recomputation differs" in body
    assert "99.9" in body


@pytest.mark.parametrize("role", ["caregiver", "nurse", "viewer"])
def test_only_prescribers_approve(client, world, child, role):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.force_login(world.persona(role))
    response = client.post(url("approve", child.pk, version.pk), {"digest": "x"})
    assert response.status_code == 403
    assert not Approval.objects.filter(plan_version=version).exists()


def test_viewer_reads_but_cannot_write(client, world, child):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.force_login(world.viewer)
    assert client.get(url("detail", child.pk, version.pk)).status_code == 200
    assert client.get(url("list", child.pk)).status_code == 200
    before = PlanVersion.objects.count()
    assert client.get(url("create", child.pk)).status_code == 403
    assert client.post(url("create", child.pk), form_data()).status_code == 403
    assert client.post(url("edit", child.pk, version.pk), form_data()).status_code == 403
    assert client.post(url("preview", child.pk), form_data()).status_code == 403
    assert client.post(url("archive", child.pk, version.pk)).status_code == 403
    assert PlanVersion.objects.count() == before
    body = client.get(url("detail", child.pk, version.pk)).content.decode()
    assert "Approve this plan" not in body and "Edit (new version)" not in body


def test_comparison_flags_the_nurses_faster_plan(client, world, child):
    client.force_login(world.caregiver)
    save_plan(client, child)
    client.force_login(world.nurse)
    save_plan(client, child, steps=NURSE_STEPS, kind="pump", label="Pump program")
    response = client.get(url("compare", child.pk))  # default: latest prescribed vs latest pump
    assert response.status_code == 200
    body = response.content.decode()
    codes = {f["code"] for f in response.context["comparison"]["findings"]}
    assert "compare_faster" in codes and "compare_max_higher" in codes
    assert "Faster than prescribed" in body
    assert 'class="diff"' in body
    assert response.context["first"].kind == "prescribed"
    assert response.context["second"].kind == "pump"


def test_stranger_and_anonymous_get_nothing(client, world, child):
    client.force_login(world.caregiver)
    version = save_plan(client, child)
    client.logout()
    urls = [
        url("list", child.pk),
        url("create", child.pk),
        url("preview", child.pk),
        url("compare", child.pk),
        url("detail", child.pk, version.pk),
        url("edit", child.pk, version.pk),
        url("archive", child.pk, version.pk),
        url("approve", child.pk, version.pk),
        url("print", child.pk, version.pk),
        url("pdf", child.pk, version.pk),
    ]
    for target in urls:
        response = client.post(target, form_data())
        assert response.status_code == 302 and "/login/" in response["Location"], target
    client.force_login(world.stranger)
    before = PlanVersion.objects.count()
    for target in urls:
        for method in (client.get, client.post):
            response = method(target, form_data())
            assert response.status_code == 404, target
            assert b"Seed Child" not in response.content
    assert PlanVersion.objects.count() == before


def test_a_plan_is_computed_once_per_document_and_day_and_stays_the_same(world):
    """compute() keeps the plan of a document for the day (a Plan is immutable); the kept
    plan equals a fresh computation, another day or document is computed anew, and a typed
    document that is not JSON is still computed."""
    from datetime import timedelta
    from decimal import Decimal

    from ivig.core.plan import build_plan
    from ivig.web.plans import views

    document = {
        "patient": {"weight": "20 kg", "birth_date": "2016-05-01", "sex": "female",
                    "first_infusion": False},
        "order": {"product": "privigen", "indication": "pi", "dose": "0.4 g/kg", "days": 1,
                  "dosing_weight": "actual", "vial_rounding": "none",
                  "start": "2026-12-01T08:30",
                  "titration": [{"rate": "0.5 mL/kg/h", "minutes": 30}, {"rate": "2 mL/kg/h"}]},
    }
    first, problems = views.compute(document)
    again, _ = views.compute(dict(document))
    assert problems == () and first is not None and again is first
    assert first == build_plan(document, today=views._today())
    other = {**document, "patient": {**document["patient"], "weight": "21 kg"}}
    assert views.compute(other)[0] != first
    tomorrow = views._today() + timedelta(days=1)
    assert views._compute_json.__wrapped__  # an lru_cache
    assert views._compute(document, tomorrow)[0] is not first
    odd = {**document, "patient": {**document["patient"], "weight": Decimal("20")}}
    plan, problems = views.compute(odd)  # not JSON: computed directly (here refused: no unit)
    assert plan is None and problems
