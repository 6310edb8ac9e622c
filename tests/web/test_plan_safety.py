"""Issue 8 on the web: each case of the issue tried again as a new user would (comparison
direction, dose and weight plausibility, rounding, form honesty)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from ivig.web.plans.approval import approve
from ivig.web.plans.models import PlanKind, PlanVersion
from tests.core import builders

pytestmark = pytest.mark.django_db

NURSE_FASTER = [
    *builders.SEED_STEPS[:2],
    {"rate": "2.25 mL/kg/h", "minutes": 30},  # 50 % faster than the prescribed 1.5
    builders.SEED_STEPS[3],
]


def url(name: str, *args: Any) -> str:
    return reverse(f"plans:{name}", args=args)


def version(world: Any, kind: str, label: str, document: dict[str, Any], **kw: Any) -> Any:
    return PlanVersion.objects.create(
        patient=world.patient,
        kind=kind,
        label=label,
        order_document=document,
        author=world.prescriber,
        **kw,
    )


@pytest.fixture
def plans(world: Any) -> dict[str, Any]:
    rx = version(world, PlanKind.PRESCRIBED, "Prescription", builders.document())
    approve(rx, world.prescriber)
    # A newer prescription that is only a draft (not approved), then the nurse's pump plan.
    draft = version(
        world, PlanKind.PRESCRIBED, "Unapproved draft", builders.document(dose="1 g/kg")
    )
    pump = version(
        world, PlanKind.PUMP, "Pump plan", builders.document(titration=NURSE_FASTER), based_on=rx
    )
    return {"rx": rx, "draft": draft, "pump": pump}


@pytest.mark.parametrize(
    "query",
    [
        "",  # the plan list's "Compare" button
        "?version={pump}",  # the pump plan page's link
        "?first={pump}",  # the old link that put the plans in reverse order
        "?first={pump}&second={rx}",
        "?prescription={pump}&plan={rx}",  # the form, filled the wrong way round
        "?prescription={rx}&plan={pump}",
    ],
)
def test_the_prescription_is_the_reference_however_the_comparison_is_opened(
    client, world, plans, query
):
    client.force_login(world.nurse)
    ids = {k: v.pk for k, v in plans.items()}
    response = client.get(url("compare", world.patient.pk) + query.format(**ids))
    assert response.status_code == 200
    assert response.context["first"] == plans["rx"]  # the approved one, not the newer draft
    assert response.context["second"] == plans["pump"]
    findings = response.context["comparison"]["findings"]
    faster = [f for f in findings if f["code"] == "compare_faster"]
    assert faster and all(f["severity"] == "error" for f in faster)
    assert "From minute 60 to 90" in faster[0]["message"]
    body = response.content.decode()
    assert "Faster than prescribed" in body


def test_an_unapproved_prescription_is_shown_as_such(client, world):
    from django.utils import timezone

    world.plan.archived_at = timezone.now()  # the world's own approved plan is out of the way
    world.plan.save(update_fields=["archived_at"])
    rx = version(world, PlanKind.PRESCRIBED, "Only a draft", builders.document())
    version(world, PlanKind.PUMP, "Pump plan", builders.document(titration=NURSE_FASTER))
    client.force_login(world.nurse)
    response = client.get(url("compare", world.patient.pk))
    assert response.context["first"] == rx
    assert "NOT APPROVED (a draft)" in response.content.decode()


def test_lb_vs_kg_only_is_a_note_on_the_web(client, world):
    rx = version(world, PlanKind.PRESCRIBED, "Prescription", builders.document())
    version(world, PlanKind.PUMP, "Pump", builders.document({"weight": "20 kg"}), based_on=rx)
    client.force_login(world.nurse)
    response = client.get(url("compare", world.patient.pk))
    findings = {f["code"]: f["severity"] for f in response.context["comparison"]["findings"]}
    assert "error" not in findings.values(), findings
    assert findings["compare_weight_conversion_only"] == "info"


# --- Item 4 on the web: the weight form shows the finding before saving -----------------------


def test_an_implausible_weight_is_shown_and_needs_confirmation(client, world):
    from ivig.web.patients.models import Measurement

    client.force_login(world.nurse)
    target = reverse("patients:measurement_create", args=[world.patient.pk]) + "?kind=weight"
    before = Measurement.objects.filter(patient=world.patient).count()
    data = {"kind": "weight", "value": "440 lb", "taken_at": "2026-11-30T09:00"}
    response = client.post(target, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Check this weight before saving" in body and "above the plausible range" in body
    assert 'name="confirm_implausible"' in body
    assert Measurement.objects.filter(patient=world.patient).count() == before
    # The page carries "confirm_shown"; ticking the box saves the weight as typed.
    response = client.post(target, {**data, "confirm_shown": "1"})
    assert response.status_code == 200  # shown again, still not saved
    response = client.post(target, {**data, "confirm_shown": "1", "confirm_implausible": "on"})
    assert response.status_code == 302
    assert Measurement.objects.filter(patient=world.patient).count() == before + 1
    # An ordinary weight saves at once, without the question.
    response = client.post(target, {**data, "value": "30 kg"})
    assert response.status_code == 302


# --- Item 8: a prescriber adds a patient; a team's creator can work alone --------------------


def test_a_prescriber_can_add_a_patient(client, world):
    client.force_login(world.prescriber)
    assert client.get(reverse("patients:create")).status_code == 200


def test_a_doctor_who_creates_a_team_manages_it_and_approves(client, world):
    from ivig.web import access
    from ivig.web.access import Action
    from ivig.web.accounts.models import Membership
    from tests.web.conftest import make_user

    doctor = make_user(name="Dr. Alone")
    client.force_login(doctor)
    response = client.post(
        reverse("accounts:team_create"), {"name": "Solo clinic", "clinical_role": "prescriber"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=doctor)
    assert (membership.role, membership.clinical_role) == ("caregiver", "prescriber")
    team = membership.team
    for action in (Action.MANAGE_TEAM, Action.ADD_PATIENT, Action.APPROVE_PLANS):
        assert access.teams_for(doctor, action).filter(pk=team.pk).exists(), action
    # A family caregiver who creates a team gets no clinical role: no approving.
    parent = make_user(name="Parent")
    client.force_login(parent)
    client.post(reverse("accounts:team_create"), {"name": "Family", "clinical_role": ""})
    assert Membership.objects.get(user=parent).clinical_role == ""
    assert not access.teams_for(parent, Action.APPROVE_PLANS).exists()


def _form_data(**overrides: Any) -> dict[str, Any]:
    from tests.web.test_plans import form_data

    return form_data(**overrides)


def test_first_infusion_is_yes_no_or_not_known_and_not_known_by_default(client, world):
    from tests.web.test_plans import make_seed_child

    child = make_seed_child(world)
    client.force_login(world.prescriber)
    response = client.get(url("create", child.pk))
    assert response.context["form"].initial["first_infusion"] == "unknown"
    radio = response.content.decode().split('name="first_infusion" value="unknown"')[1][:80]
    assert "checked" in radio
    # Saved as "not known": the order document has no first_infusion, the advice stays active.
    fast = [("0.5 mL/kg/h", "30"), ("1 mL/kg/h", "30"), ("2 mL/kg/h", "30"), ("4 mL/kg/h", "")]
    response = client.post(
        url("create", child.pk), _form_data(steps=fast, first_infusion="unknown")
    )
    assert response.status_code == 302
    saved = PlanVersion.objects.filter(patient=child).latest("pk")
    assert "first_infusion" not in saved.order_document["patient"]
    codes = {f["code"] for f in client.get(url("detail", child.pk, saved.pk)).context["findings"]}
    assert "first_infusion_unknown" in codes
    # Not known with rates within the advice: the plan still says the advice is applied.
    client.post(url("create", child.pk), _form_data(first_infusion="unknown"))
    saved = PlanVersion.objects.filter(patient=child).latest("pk")
    codes = {f["code"] for f in client.get(url("detail", child.pk, saved.pk)).context["findings"]}
    assert "first_infusion_not_known_within_advice" in codes
    # "No" is stored as false.
    client.post(url("create", child.pk), _form_data(first_infusion="no"))
    saved = PlanVersion.objects.filter(patient=child).latest("pk")
    assert saved.order_document["patient"]["first_infusion"] is False


def test_the_product_has_no_default(client, world):
    from tests.web.test_plans import make_seed_child

    child = make_seed_child(world)
    client.force_login(world.prescriber)
    page = client.get(url("create", child.pk)).content.decode()
    assert '<option value="" selected>' in page
    response = client.post(url("create", child.pk), _form_data(product=""))
    assert response.status_code == 200
    assert not PlanVersion.objects.filter(patient=child).exists()


def test_a_new_pump_plan_starts_as_a_copy_of_the_approved_prescription(client, world):
    from tests.web.test_plans import make_seed_child

    child = make_seed_child(world)
    client.force_login(world.prescriber)
    client.post(url("create", child.pk), _form_data(label="December course"))
    rx = PlanVersion.objects.filter(patient=child).latest("pk")
    approve(rx, world.prescriber)
    client.force_login(world.nurse)
    response = client.get(url("create", child.pk) + "?kind=pump")
    form = response.context["form"]
    assert form.initial["kind"] == "pump"
    assert form.initial["product"] == "privigen" and form.initial["dose"] == "2 g/kg"
    assert response.context["steps"].initial[0]["rate"] == "0.5 mL/kg/h"
    body = response.content.decode()
    assert f'name="based_on" value="{rx.pk}"' in body
    # Saving keeps the link: the comparison uses this prescription.
    data = _form_data(kind="pump", label="Pump plan", based_on=str(rx.pk))
    assert client.post(url("create", child.pk), data).status_code == 302
    pump = PlanVersion.objects.filter(patient=child, kind="pump").get()
    assert pump.based_on == rx


# --- The other cases, tried on the web --------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"dose": "20 g/kg"}, "dose_above_highest_regimen"),
        ({"dose": "2 mg/kg"}, "dose_unit_slip"),
    ],
)
def test_an_implausible_dose_cannot_be_approved_with_one_click(client, world, overrides, code):
    from tests.web.test_plans import make_seed_child

    child = make_seed_child(world)
    client.force_login(world.prescriber)
    assert client.post(url("create", child.pk), _form_data(**overrides)).status_code == 302
    saved = PlanVersion.objects.filter(patient=child).latest("pk")
    page = client.get(url("detail", child.pk, saved.pk))
    assert code in {f["code"] for f in page.context["findings"] if f["severity"] == "error"}
    response = client.post(url("approve", child.pk, saved.pk), {"digest": page.context["digest"]})
    assert response.status_code == 409
    assert not saved.approvals.exists()


def test_rounding_vials_and_waste_are_on_the_plan_page_and_the_printout(client, world):
    from tests.web.test_plans import make_seed_child

    child = make_seed_child(world)  # 44 lb
    client.force_login(world.prescriber)
    data = _form_data(indication="pi", dose="0.4 g/kg", days="1", vial_rounding="whole_vial")
    assert client.post(url("create", child.pk), data).status_code == 302
    saved = PlanVersion.objects.filter(patient=child).latest("pk")
    page = client.get(url("detail", child.pk, saved.pk))
    codes = {f["code"]: f for f in page.context["findings"]}
    assert "vial_rounding_changed_dose" in codes
    body = page.content.decode()
    assert "prescribed 7.983 g" in body and "given " in body and " g/kg)" in body
    assert "vials" in body and "waste" in body
    printout = client.get(url("print", child.pk, saved.pk)).content.decode()
    vials_row = printout.split("Vials used")[1].split("</tr>")[0]
    assert "×" in vials_row


def test_a_heavy_child_gets_a_weight_finding_on_the_plan_page(client, world):
    from tests.web.conftest import make_measurement
    from tests.web.test_plans import make_seed_child

    child = make_seed_child(world)
    make_measurement(child, world.nurse, value="440", unit="lb", days_ago=0)
    client.force_login(world.prescriber)
    data = _form_data(action="check")
    page = client.post(url("create", child.pk), data)
    assert "weight_implausible_for_age" in {f["code"] for f in page.context["findings"]}
