"""The app's pages for whole-site checks (phone width, axe-core, Spanish words, screenshots).

Driven from the URL resolver (``tests.web.test_url_access.routes``), so a page added to any app
is checked the day it is added. The data is team A's world with a real approved plan, a running
infusion with log entries, a finished one with a check-in, drinks and a pump plan, so that each
page shows its real content (tables, charts, findings), and a patient with a 200-character name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tests.core import builders

# Routes that are not pages for people (files, redirects-only actions, machine endpoints).
SKIPPED_NAMES = {
    "accounts:logout",
    "set_language",
    "healthz",
    "static",
    "accounts:setup",  # only on an empty installation (its own browser test covers it)
}
SKIPPED_SUFFIXES = (".ics", ".csv", ".pdf", ".json", ".txt", ".xml")


@dataclass
class Page:
    url: str
    name: str


def build_site(world: Any) -> Any:
    """Give team A's world realistic records; returns the ``Values`` for URL parameters."""
    from ivig.core.plan import build_plan
    from ivig.render.plan_json import plan_to_dict
    from ivig.web.infusions.models import CheckIn, HydrationEntry, Infusion, InfusionEvent
    from ivig.web.plans.models import Approval, PlanKind, PlanVersion
    from tests.web.conftest import make_patient
    from tests.web.test_url_access import Values

    start = timezone.localtime().strftime("%Y-%m-%dT08:00")
    document = builders.document(None, start=start)
    plan = PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PRESCRIBED, label="Monthly course",
        order_document=document, author=world.prescriber,
    )
    computed = build_plan(document, today=date.today())
    approval = Approval.objects.create(
        plan_version=plan, snapshot=plan_to_dict(computed),
        catalogue_version=computed.catalogue.version, approved_by=world.prescriber,
        language="en",
    )
    PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PUMP, label="", order_document=document,
        author=world.nurse,
    )
    world.plan, world.approval = plan, approval
    values = Values(world)  # adds a running infusion (day 1), an event and a check-in
    now = timezone.now()
    done = Infusion.objects.create(
        approval=approval, patient=world.patient, day=2, started_by=world.nurse,
        started_at=now - timedelta(days=3), ended_at=now - timedelta(days=3, hours=-6),
    )
    for kind, data in (
        ("rate_change", {"rate": "0.5 mL/kg/h", "pump_rate_ml_h": "9.9", "rate_ml_kg_h": "0.5"}),
        ("vial", {"brand": "Privigen", "lot_number": "P100234", "expiry": "2027-06-30",
                  "size": "20 g"}),
    ):
        InfusionEvent.objects.create(
            infusion=values.infusion, at=now - timedelta(minutes=20), kind=kind, data=data,
            recorded_by=world.nurse,
        )
    CheckIn.objects.create(
        infusion=done, patient=world.patient, due_at=now - timedelta(hours=1),
        hours_after_end=Decimal(72), label="Check-in: 72 h after the infusion (day 2)",
    )
    HydrationEntry.objects.create(
        patient=world.patient, at=now, volume="250 mL", volume_ml=Decimal(250),
        recorded_by=world.caregiver,
    )
    make_patient(world.team_a, world.caregiver, name="Alexandra " * 20)  # 200 characters
    return values


def pages(values: Any) -> list[Page]:
    """Every GET page of the app (admin and JSON API excepted), with its parameters filled."""
    from tests.web.test_url_access import routes

    out: list[Page] = []
    seen: set[str] = set()
    for route in routes(values):
        if route.name in SKIPPED_NAMES or route.url.startswith(("/admin/", "/api/", "/static/")):
            continue
        if route.url.endswith(SKIPPED_SUFFIXES) or route.url in seen:
            continue
        if "(" in route.url or "<" in route.url:
            continue
        seen.add(route.url)
        out.append(Page(url=route.url, name=route.name or route.template))
    return out


def html_pages(values: Any, people: list[Any]) -> list[tuple[Page, Any]]:
    """(page, person) for every page that answers a GET with HTML for one of ``people`` (the
    first person who may open it)."""
    from django.test import Client

    clients = []
    for person in people:
        client = Client()
        client.force_login(person)
        clients.append((person, client))
    out = []
    for item in pages(values):
        for person, client in clients:
            response = client.get(item.url)
            if response.status_code in (403, 405):
                continue
            html = "text/html" in response.get("Content-Type", "")
            if response.status_code == 200 and html and b"<html" in response.content[:500]:
                out.append((item, person))
            break
    return out
