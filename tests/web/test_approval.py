"""The approval gate (``ivig.web.plans.approval.approve``) and the plan page that uses it: a plan
with error findings needs a reason per error, a version is approved once, the reasons are kept
in the snapshot and printed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from ivig.web.plans.approval import ApprovalRefused, approve, digest, shown_plan
from ivig.web.plans.models import Approval
from tests.web.test_plans import SEED_STEPS, form_data, save_plan, url

pytestmark = pytest.mark.django_db

FAST_LAST_STEP = [*SEED_STEPS[:3], ("20 mL/kg/h", "")]


@pytest.fixture
def child(world: Any) -> Any:
    from tests.web.test_plans import make_seed_child

    return make_seed_child(world)


def _error_version(client: Any, world: Any, child: Any) -> Any:
    client.force_login(world.prescriber)
    return save_plan(client, child, steps=FAST_LAST_STEP)


def _digest(client: Any, child: Any, version: Any) -> str:
    page = client.get(url("detail", child.pk, version.pk)).content.decode()
    return re.search(r'name="digest" value="(\w+)"', page).group(1)


def test_error_plan_is_not_approved_without_a_reason(client, world, child):
    version = _error_version(client, world, child)
    page = client.get(url("detail", child.pk, version.pk)).content.decode()
    assert 'name="override_rate_above_label_max"' in page
    response = client.post(
        url("approve", child.pk, version.pk), {"digest": _digest(client, child, version)}
    )
    assert response.status_code == 409
    assert not Approval.objects.filter(plan_version=version).exists()
    body = response.content.decode()
    assert "A reason is required to approve a plan with this error." in body
    assert 'aria-describedby="override-rate_above_label_max-error"' in body
    # A blank reason is no reason.
    response = client.post(
        url("approve", child.pk, version.pk),
        {"digest": _digest(client, child, version), "override_rate_above_label_max": "   "},
    )
    assert response.status_code == 409
    assert not Approval.objects.filter(plan_version=version).exists()


def test_error_plan_is_approved_with_a_reason_kept_and_printed(client, world, child):
    version = _error_version(client, world, child)
    reason = "Tolerated 20 mL/kg/h on three courses; discussed with immunology."
    response = client.post(
        url("approve", child.pk, version.pk),
        {"digest": _digest(client, child, version), "override_rate_above_label_max": reason},
    )
    assert response.status_code == 302
    approval = Approval.objects.get(plan_version=version)
    overrides = approval.error_overrides
    assert {o["code"] for o in overrides} == {"rate_above_label_max"}
    assert all(o["reason"] == reason and o["message"] for o in overrides)
    assert "error_overrides" in approval.snapshot
    detail = client.get(url("detail", child.pk, version.pk)).content.decode()
    assert reason in detail and "Approved despite" in detail
    for lang in ("en", "es"):
        printout = client.get(url("print", child.pk, version.pk) + f"?lang={lang}")
        assert reason in printout.content.decode()
    # ... and on the printable comparison, whose reference is this prescription
    from tests.web.test_plans import NURSE_STEPS

    client.force_login(world.nurse)
    pump = save_plan(client, child, steps=NURSE_STEPS, kind="pump", label="")
    compare = reverse("ui:compare_print", args=[child.pk]) + f"?first={pump.pk}"
    for lang in ("en", "es"):
        assert reason in client.get(compare + f"&lang={lang}").content.decode()


def test_a_version_is_approved_once(client, world, child):
    client.force_login(world.prescriber)
    version = save_plan(client, child)
    first = client.post(
        url("approve", child.pk, version.pk), {"digest": _digest(client, child, version)}
    )
    assert first.status_code == 302
    page = client.get(url("detail", child.pk, version.pk)).content.decode()
    assert "Approve this plan" not in page  # the button is gone
    again = client.post(
        url("approve", child.pk, version.pk), {"digest": digest(shown_plan(version, "en"))}
    )
    assert again.status_code == 409
    assert Approval.objects.filter(plan_version=version).count() == 1
    with pytest.raises(ApprovalRefused) as refused:
        approve(version, world.prescriber)
    assert refused.value.code == "already_approved"


def test_service_refuses_unknown_override_codes_and_people_without_the_right(world, client, child):
    version = _error_version(client, world, child)
    with pytest.raises(ApprovalRefused) as refused:
        approve(version, world.prescriber, {"rate_above_label_max": "ok", "made_up": "x"})
    assert refused.value.code == "override_not_an_error"
    with pytest.raises(ApprovalRefused) as refused:
        approve(version, world.prescriber)
    assert refused.value.code == "override_reason_required"
    assert refused.value.errors and refused.value.errors[0]["code"] == "rate_above_label_max"
    with pytest.raises(PermissionDenied):
        approve(version, world.nurse, {"rate_above_label_max": "ok"})
    assert not Approval.objects.filter(plan_version=version).exists()
    approval = approve(version, world.prescriber, {"rate_above_label_max": "ok"})
    assert approval.error_overrides[0]["reason"] == "ok"


def test_service_refuses_a_stale_page_and_an_archived_version(world, client, child):
    client.force_login(world.prescriber)
    version = save_plan(client, child)
    with pytest.raises(ApprovalRefused) as refused:
        approve(version, world.prescriber, expected_digest="0" * 64)
    assert refused.value.code == "changed"
    good = digest(shown_plan(version, "en"))
    client.post(url("archive", child.pk, version.pk))
    version.refresh_from_db()
    with pytest.raises(ApprovalRefused) as refused:
        approve(version, world.prescriber, expected_digest=good)
    assert refused.value.code == "archived"


# --- The infusion start list --------------------------------------------------------------------


def _start_list(client: Any, world: Any, child: Any) -> str:
    from django.urls import reverse

    client.force_login(world.nurse)
    return client.get(reverse("infusions:list", args=[child.pk])).content.decode()


def _checked_value(body: str) -> str | None:
    found = re.search(r'<input type="radio" name="approval" value="(\d+)"[^>]*checked', body)
    return found.group(1) if found else None


def test_start_list_shows_status_and_defaults_to_the_current_prescription(client, world, child):
    client.force_login(world.prescriber)
    old = save_plan(client, child, label="October course")
    first = approve(old, world.prescriber)
    response = client.post(
        url("edit", child.pk, old.pk), form_data(steps=FAST_LAST_STEP, label="November course")
    )
    assert response.status_code == 302
    new = old.superseded_by.get()
    second = approve(new, world.prescriber, {"rate_above_label_max": "Tolerated before"})
    body = _start_list(client, world, child)
    assert "November course" in body and "October course" in body
    assert "APPROVED DESPITE 1 ERROR(S)" in body and "Tolerated before" in body
    assert "REPLACED by" in body and "November course" in body
    assert "2 g/kg: " in body and "g/kg) over 2 day(s)" in body
    assert _checked_value(body) == str(second.pk)
    assert str(first.pk) != _checked_value(body)
    assert "the latest approval of the current prescription" in body


def test_start_list_preselects_nothing_without_a_current_approved_prescription(
    client, world, child
):
    client.force_login(world.prescriber)
    old = save_plan(client, child, label="October course")
    approve(old, world.prescriber)
    # A newer, unapproved version replaces it: the old approval is listed, marked, not chosen.
    client.post(url("edit", child.pk, old.pk), form_data(label="Draft"))
    body = _start_list(client, world, child)
    assert "REPLACED by" in body and "Draft" in body
    assert _checked_value(body) is None
    assert "choose the approved plan yourself" in body
