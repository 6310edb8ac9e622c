"""Plan safety in Debian's Chromium (issue 8): a plan with an error finding cannot be approved
without a reason, and the reason reaches the nurse's start list; a faster pump step is an error
however the comparison is opened."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from ivig.web.plans.models import Approval, PlanKind, PlanVersion
from tests.core import builders

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
FAST = [*builders.SEED_STEPS[:3], {"rate": "20 mL/kg/h"}]


def log_in(page: Any, base: str, user: Any) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_error_plan_needs_a_reason_to_be_approved(page, live_server, artifacts_dir, build):
    world = build.build_world()
    version = PlanVersion.objects.create(
        patient=world.patient,
        kind=PlanKind.PRESCRIBED,
        label="Fast course",
        order_document=builders.document(titration=FAST),
        author=world.prescriber,
    )
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, world.prescriber)
    page.goto(f"{live_server.url}/patients/{world.patient.pk}/plans/{version.pk}/")
    button = page.get_by_role("button", name="Approve despite the errors")
    expect(button).to_be_visible()
    button.click()
    needed = "A reason is required to approve a plan with this error."
    expect(page.get_by_text(needed)).to_be_visible()
    assert not Approval.objects.filter(plan_version=version).exists()
    page.screenshot(path=str(artifacts_dir / "approve-error-refused.png"), full_page=True)

    reason = "Tolerated 20 mL/kg/h before; immunology agreed."
    for box in page.locator("textarea[name^='override_']").all():
        box.fill(reason)
    page.get_by_role("button", name="Approve despite the errors").click()
    expect(page.get_by_text("Plan approved.")).to_be_visible()
    expect(page.get_by_text(reason).first).to_be_visible()
    approval = Approval.objects.get(plan_version=version)
    assert approval.error_overrides and approval.error_overrides[0]["reason"] == reason
    # Approving again is not offered.
    expect(page.get_by_role("button", name="Approve despite the errors")).to_have_count(0)

    # The nurse sees the override in the start list.
    page.context.clear_cookies()
    log_in(page, live_server.url, world.nurse)
    page.goto(f"{live_server.url}/patients/{world.patient.pk}/infusions/")
    expect(page.get_by_text("APPROVED DESPITE 1 ERROR(S)")).to_be_visible()
    expect(page.get_by_text(reason)).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "start-list-override.png"), full_page=True)


def test_faster_pump_step_is_an_error_however_the_comparison_is_opened(
    page, live_server, artifacts_dir, build
):
    from ivig.web.plans.approval import approve

    world = build.build_world()
    rx = PlanVersion.objects.create(
        patient=world.patient,
        kind=PlanKind.PRESCRIBED,
        label="Prescription",
        order_document=builders.document(),
        author=world.prescriber,
    )
    approve(rx, world.prescriber)
    faster = [*builders.SEED_STEPS[:2], {"rate": "2.25 mL/kg/h", "minutes": 30}]
    pump = PlanVersion.objects.create(
        patient=world.patient,
        kind=PlanKind.PUMP,
        label="Pump plan",
        order_document=builders.document(titration=[*faster, builders.SEED_STEPS[3]]),
        author=world.nurse,
    )
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, world.nurse)
    base = f"{live_server.url}/patients/{world.patient.pk}/plans"
    page.goto(f"{base}/{pump.pk}/")
    page.get_by_role("link", name="Compare with the prescription").click()
    for opened in ("from the pump plan page", "with the plans named in reverse order"):
        expect(page.get_by_text("Faster than prescribed").first).to_be_visible()
        span = page.get_by_text("From minute 60 to 90 the compared plan runs at")
        expect(span.first).to_be_visible()
        reference = page.locator("dl.compare-who dd").first
        expect(reference).to_contain_text(f"Prescription (no. {rx.pk})")
        page.screenshot(path=str(artifacts_dir / f"compare-{opened[:8]}.png"), full_page=True)
        page.goto(f"{base}/compare/?first={pump.pk}&second={rx.pk}")
