"""Issue 11 pages in Debian's Chromium on a 360 px phone, in English and Spanish: About IVIG, the
going-home sheet, the blank chart (no login) and between courses. No sideways scrolling, no
serious axe-core violation; screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.infusions import records
from ivig.web.infusions.models import Infusion
from ivig.web.plans.models import Approval, PlanKind, PlanVersion
from tests.core import builders
from tests.web.conftest import PASSWORD
from tests.web.test_browser_plan import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}


def test_family_pages_fit_a_phone_in_both_languages(page, live_server, artifacts_dir, build):
    world = build.build_world()
    document = builders.document(setting="home", indication="kawasaki")
    version = PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PRESCRIBED, label="Course",
        order_document=document, author=world.prescriber,
    )
    plan = build_plan(document, today=date(2026, 11, 20))
    approval = Approval.objects.create(
        plan_version=version, snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version, approved_by=world.prescriber, language="en",
    )
    started = timezone.now() - timedelta(hours=5)
    infusion = Infusion.objects.create(
        approval=approval, patient=world.patient, day=2, started_at=started,
        started_by=world.nurse,
    )
    records.end_infusion(infusion, started + timedelta(hours=2))

    page.set_viewport_size(PHONE)
    base = live_server.url
    page.goto(f"{base}/patients/blank-chart/?lang=es")  # no login needed
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts_dir / "phone-blank-chart-es.png"), full_page=True)

    page.goto(f"{base}/")
    page.get_by_label("Email address").fill(world.caregiver.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    patient = f"{base}/patients/{world.patient.pk}"
    pages = {
        "about": f"{patient}/plans/{version.pk}/about/",
        "going-home": f"{patient}/infusions/{infusion.pk}/going-home/",
        "between-courses": f"{patient}/between-courses/",
    }
    for name, address in pages.items():
        for language in ("en", "es"):
            page.goto(f"{address}?lang={language}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (name, language, width)
            assert serious_violations(page) == [], (name, language)
            page.screenshot(
                path=str(artifacts_dir / f"phone-{name}-{language}.png"), full_page=True
            )
