"""A whole infusion day and its 72-hour follow-up in Debian's Chromium, phone-sized: start the
last day of an approved plan, change the rate (once above the plan, with a reason), vitals in
°F, a vial lot, stop; then answer the 72 h check-in with a fever and see "call the care team"."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.infusions.models import CheckIn, InfusionEvent
from ivig.web.plans.models import Approval
from tests.core import builders

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def settled(page):
    """Wait until htmx has finished swapping in what was asked for (its request, swap and
    settle classes are gone): typing into a form still being settled was lost now and then on
    a loaded machine (the browser test only; a person does not type within milliseconds)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, "
        ".htmx-added')"
    )


def test_infusion_day_and_72_hour_checkin(page, live_server, artifacts_dir, build):
    world = build.build_world()
    plan = build_plan(builders.document(), today=date(2026, 11, 20))
    Approval.objects.create(
        plan_version=world.plan,
        snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version,
        approved_by=world.prescriber,
        language="en",
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill(world.nurse.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/patients/{world.patient.pk}/")
    page.get_by_role("link", name="Infusion log and history").click()

    page.get_by_label("Day of the course").select_option("2")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Day 2 – Privigen")).to_be_visible()

    # within the plan
    page.locator("#id_rate").fill("0.5 mL/kg/h")
    page.get_by_role("button", name="Save rate").click()
    expect(page.get_by_text("Rate change recorded.")).to_be_visible()

    # above the plan: warned, refused without a reason, saved with one
    page.locator("#id_rate").fill("15 mL/h")
    page.get_by_role("button", name="Check against the plan").click()
    expect(page.get_by_text("above the approved plan").first).to_be_visible()
    expect(page.get_by_text("Planned now: step 1")).to_be_visible()
    page.get_by_role("button", name="Save rate").click()
    expect(page.get_by_text("give a reason to save it")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "infusion-rate-warning.png"), full_page=True)
    assert InfusionEvent.objects.count() == 1
    page.locator("#id_reason").fill("pump set by the ward protocol")
    page.get_by_role("button", name="Save rate").click()
    expect(page.get_by_text("Rate change recorded.")).to_be_visible()

    # vitals in °F and a vial lot
    page.wait_for_load_state("networkidle")  # htmx is ready on the page
    page.locator("#record-vitals").get_by_role("link", name="Vitals").click()  # fetched on demand
    settled(page)
    expect(page.locator("#id_vitals-at")).to_be_focused()  # the opened form takes the focus
    page.locator("#id_vitals-temperature_0").fill("99.5 °F")
    page.locator("#id_vitals-heart_rate").fill("112")
    expect(page.locator("#id_vitals-temperature_0")).to_have_value("99.5 °F")
    page.locator("#record-vitals").get_by_role("button", name="Save").click()
    expect(page.get_by_text("99.5 °F (= 37.5 °C)")).to_be_visible()
    # saved by htmx: the form closes to its link (focused), with "Recorded."
    expect(page.locator("#record-vitals").get_by_role("link", name="Vitals")).to_be_focused()
    expect(page.locator("#record-vitals").get_by_role("status")).to_have_text("Recorded.")
    page.wait_for_load_state("networkidle")  # htmx is ready on the page
    page.locator("#record-vial").get_by_role("link", name="Vial").click()  # fetched on demand
    settled(page)
    expect(page.locator("#id_vial-at")).to_be_focused()
    page.locator("#id_vial-brand").fill("Privigen")
    page.locator("#id_vial-lot_number").fill("P4455A")
    page.locator("#id_vial-expiry").fill("2030-06-30")
    expect(page.locator("#id_vial-brand")).to_have_value("Privigen")
    page.locator("#record-vial").get_by_role("button", name="Save").click()
    expect(page.get_by_text("P4455A")).to_be_visible()

    # stop: the check-ins are planned
    page.wait_for_load_state("networkidle")  # htmx is ready on the page
    page.locator("#record-stop").get_by_role("link", name="Stop").click()  # fetched on demand
    settled(page)
    expect(page.locator("#id_stop-at")).to_be_focused()
    page.locator("#id_stop-volume").fill(f"{plan_to_dict(plan)['days'][-1]['volume_ml']} mL")
    page.locator("#id_stop-reason").fill("completed")
    page.locator("#record-stop").get_by_role("button", name="Save").click()
    expect(page.get_by_text("check-ins were planned")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "infusion-day.png"), full_page=True)
    assert CheckIn.objects.filter(hours_after_end=72).count() == 1

    # the 72-hour check-in, answered with a fever
    page.get_by_role("link", name="Infusions of").click()
    page.get_by_role("link", name="+48-72 h").click()
    page.get_by_label("Temperature (number)").fill("101")
    page.get_by_label("Temperature unit (°C or °F)").select_option("°F")
    page.get_by_label("Headache, 0 (none) to 10 (worst)").select_option("3")
    page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_role("heading", name="CALL THE CARE TEAM")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "infusion-checkin-72h.png"), full_page=True)
    answered = CheckIn.objects.get(hours_after_end=72).answers.get()
    assert answered.level == "call_doctor"
    assert answered.report["temperature"] == "101 °F"
