"""Issue 9 "Done when": a check-in typed in words on a 360 px phone ends in "call emergency
services", and the page shows what each phrase was read as (Debian's Chromium)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.infusions import records
from ivig.web.infusions.models import CheckIn, CheckInAnswer, Infusion
from ivig.web.plans.models import Approval
from tests.core import builders

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}


def test_a_checkin_in_words_ends_in_call_emergency_services(
    page, live_server, artifacts_dir, build
):
    world = build.build_world()
    plan = build_plan(builders.document(), today=date(2026, 11, 20))
    approval = Approval.objects.create(
        plan_version=world.plan,
        snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version,
        approved_by=world.prescriber,
        language="en",
    )
    started = timezone.now() - timedelta(hours=5)
    infusion = Infusion.objects.create(
        approval=approval,
        patient=world.patient,
        day=2,
        started_at=started,
        started_by=world.nurse,
    )
    records.end_infusion(infusion, started + timedelta(hours=2))
    item = CheckIn.objects.order_by("due_at").first()
    assert item is not None

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill(world.caregiver.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/patients/{world.patient.pk}/checkins/{item.pk}/")
    expect(page.get_by_text("Emergency signs: call emergency services")).to_be_visible()
    page.get_by_label("Anything else, in your own words").fill(
        "she had a fit and her lips are swollen"
    )
    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#emergency")).to_contain_text("CALL EMERGENCY SERVICES NOW")
    expect(page.get_by_role("heading", name="What your words were read as")).to_be_visible()
    readings = page.locator(".readings li")
    expect(readings.first).to_contain_text("she had a fit")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts_dir / "checkin-words-emergency.png"), full_page=True)
    assert CheckInAnswer.objects.get(checkin=item).level == "emergency"
    # the other infusion-day pages fit the phone too (no sideways scrolling)
    base = f"{live_server.url}/patients/{world.patient.pk}"
    for address in (
        f"{base}/infusions/",
        f"{base}/infusions/{infusion.pk}/",
        f"{base}/hydration/",
        f"{base}/calendar/",
    ):
        page.goto(address)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (address, width)
