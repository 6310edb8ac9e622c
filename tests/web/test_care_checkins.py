"""Check-ins planned from the care timeline when the last day of an approved plan stops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.infusions.models import CheckIn, Infusion
from ivig.web.plans.models import Approval, PlanKind, PlanVersion
from tests.core import builders

pytestmark = pytest.mark.django_db
T = "%Y-%m-%dT%H:%M"


def approve_document(world, document):
    """A plan version holding ``document`` and its approval (snapshot computed from it)."""
    version = PlanVersion.objects.create(
        patient=world.patient,
        kind=PlanKind.PRESCRIBED,
        label="Course",
        order_document=document,
        author=world.prescriber,
    )
    plan = build_plan(document, today=timezone.localdate())
    return Approval.objects.create(
        plan_version=version,
        snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version,
        approved_by=world.prescriber,
        language="en",
    )


def run_last_day(client, world, approval, minutes=100):
    started = timezone.localtime() - timedelta(minutes=minutes + 20)
    client.post(
        f"/patients/{world.patient.pk}/infusions/start/",
        {"approval": approval.pk, "day": 2, "started_at": started.strftime(T)},
    )
    infusion = Infusion.objects.latest("pk")
    stop = timezone.localtime(infusion.started_at + timedelta(minutes=minutes))
    response = client.post(
        f"/patients/{world.patient.pk}/infusions/{infusion.pk}/record/stop/",
        {
            "stop-at": stop.strftime(T),
            "stop-volume": f"{infusion.snapshot['days'][-1]['volume_ml']} mL",
            "stop-reason": "completed",
        },
    )
    assert response.status_code == 302
    infusion.refresh_from_db()
    assert infusion.ended_at is not None
    return infusion


def test_a_kawasaki_plan_gets_the_daily_prompts_to_day_14(client, world):
    client.force_login(world.nurse)
    approval = approve_document(world, builders.document(indication="kawasaki"))
    infusion = run_last_day(client, world, approval)
    checkins = list(CheckIn.objects.filter(infusion=infusion).order_by("due_at"))
    assert infusion.ended_at is not None
    last = checkins[-1]
    assert last.due_at - infusion.ended_at >= timedelta(days=13)
    assert last.hours_after_end == 336 and "kawasaki" in last.tiers
    # haemolysis prompts on days 7-10 are there too, each from the actual end
    hours = {float(c.hours_after_end) for c in checkins}
    assert {36, 168, 192, 216, 240} <= hours
    for item in checkins:
        assert item.due_at == infusion.ended_at + timedelta(hours=float(item.hours_after_end))
        assert item.focus["en"] and item.focus["es"]


def test_a_standard_plan_gets_the_72_hour_check_in(client, world):
    client.force_login(world.nurse)
    approval = approve_document(world, builders.document())
    infusion = run_last_day(client, world, approval)
    checkins = list(CheckIn.objects.filter(infusion=infusion))
    assert infusion.ended_at is not None
    c72 = next(c for c in checkins if c.hours_after_end == 72)
    assert c72.due_at == infusion.ended_at + timedelta(hours=72)
    assert "standard" in c72.tiers
    assert max(c.hours_after_end for c in checkins) == 168  # no Kawasaki prompts


def test_a_plan_without_a_start_falls_back_to_the_triage_tiers(client, world):
    client.force_login(world.nurse)
    document = builders.document(start=None)
    approval = approve_document(world, document)
    infusion = run_last_day(client, world, approval)
    labels = [c.label for c in CheckIn.objects.filter(infusion=infusion)]
    assert "+48-72 h" in labels  # the triage.toml label of the 72 h check-in


def test_the_approved_plan_must_still_match_its_snapshot(world):
    from ivig.web.infusions import records

    approval = approve_document(world, builders.document())
    assert records.approved_plan(approval) is not None
    approval.snapshot = {**approval.snapshot, "days": approval.snapshot["days"][:1]}
    assert records.approved_plan(approval) is None
