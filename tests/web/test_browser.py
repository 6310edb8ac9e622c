"""The pages in Debian's Chromium: log in with the form, read a patient, switch to Spanish,
with no serious accessibility violation (axe-core), and a phone-sized screenshot of each page
saved to test-artifacts/ for people to look at."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} elements)"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_login_patient_page_and_language_switch(page, live_server, artifacts_dir, build):
    world = build.build_world()
    build.make_measurement(world.patient, world.nurse, kind="height", value="112", unit="cm")
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/")
    assert page.title().startswith("Log in")
    assert _serious_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "web-login.png"), full_page=True)

    page.get_by_label("Email address").fill(world.nurse.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Logging in lands on the "today" page (issue 12); the patient list is one link away.
    page.get_by_role("heading", name="Today").wait_for()
    page.get_by_role("link", name="All patients").click()
    page.get_by_role("link", name="Lucia Alvarez").click()
    page.wait_for_url(f"**/patients/{world.patient.pk}/")
    assert page.get_by_text("23.456 kg").first.is_visible()
    assert page.get_by_role("note").is_visible()  # the plan statement
    assert _serious_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "web-patient.png"), full_page=True)

    # A bad weight: the error is announced next to the field, nothing saved.
    page.get_by_role("link", name="Record a weight").click()
    page.get_by_label("Weight, with its unit").fill("21")
    page.get_by_role("button", name="Save").click()
    field = page.get_by_label("Weight, with its unit")
    assert field.get_attribute("aria-invalid") == "true"
    assert "Write the unit after the number" in page.locator("#id_value_error").inner_text()
    assert _serious_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "web-weight-error.png"), full_page=True)

    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Registrar un peso").is_visible()
