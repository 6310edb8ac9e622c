"""The Content-Security-Policy in Chromium: the main pages, htmx's live plan preview and the admin
run with no CSP violation reported by the browser (issue 10)."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_page_breaks_the_policy(page, live_server, build):
    world = build.build_world()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: violations.append(str(e)))
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email address").fill(world.caregiver.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    patient = world.patient.pk
    for path in (
        f"/patients/{patient}/",
        f"/patients/{patient}/history/",
        f"/patients/{patient}/infusions/",
        f"/patients/{patient}/calendar/",
        f"/teams/{world.team_a.pk}/",
        "/patients/blank-chart/",
        f"/patients/{patient}/plans/{world.plan.pk}/print/",
    ):
        response = page.goto(base + path)
        assert response is not None and response.ok, path
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
    page.goto(f"{base}/patients/{patient}/plans/new/")
    page.get_by_label("Dose").first.fill("2 g/kg")  # htmx posts the form for the live preview
    page.wait_for_timeout(1500)
    assert violations == []
