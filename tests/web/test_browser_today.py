"""The today page in Chromium: the running infusion's countdown (static JS, no inline script)
counts down to the next step and, once the user allowed notifications, raises one when the step
is due. The browser's Notification API is replaced by a recorder (it is the browser's part, not
ours): the test sees exactly what the page asked the browser to show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from ivig.web.infusions.models import Infusion
from tests.web.conftest import build_world
from tests.web.test_today import approve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORDER = """
window.__shown = [];
window.Notification = function (title, options) {
  window.__shown.push(title + ' | ' + options.body); };
window.Notification.permission = 'default';
window.Notification.requestPermission = function () {
  window.Notification.permission = 'granted'; return Promise.resolve('granted'); };
"""


def test_countdown_and_notification_when_a_step_is_due(browser: Any, live_server: Any) -> None:
    world = build_world()
    approval = approve(world)
    # Step 2 of the seed chart starts 30 minutes in: due 3 seconds from now.
    Infusion.objects.create(
        approval=approval, patient=world.patient, day=1, started_by=world.nurse,
        started_at=timezone.now() - timedelta(minutes=30) + timedelta(seconds=3),
    )
    client = Client()
    client.force_login(world.nurse)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_init_script(RECORDER)
    context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    countdown = page.locator("time.countdown")
    assert countdown.inner_text().startswith("in ")
    page.get_by_role("button", name="Notify me when a step is due").click()
    assert "You will get a notification" in page.locator("#notify-status").inner_text()
    page.wait_for_function("() => window.__shown.length > 0", timeout=10000)
    shown = page.evaluate("() => window.__shown")
    step = f"{world.patient.name}: step 2, set the pump to 19.9 mL/h"
    assert shown == [f"IVIG: a step is due | {step}"]
    assert countdown.inner_text() == "due now"
