"""The infusions summary and drinks pages read a bounded number of rows as the record grows,
and show exactly the figures of the full computation (``brand_records`` over
``patient_history``, ``summarise`` of each infusion) on a large generated history: several
approved plans and brands, withdrawn entries, reactions at every level, ties in time."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ivig.web.infusions import records
from ivig.web.infusions.models import EventKind, Infusion, InfusionEvent
from ivig.web.plans.models import Approval
from tests.web.test_infusions import approve

pytestmark = pytest.mark.django_db

LEVELS = ["", "expected", "call_doctor", "emergency", "unknown_level"]


def brand_approval(world, brand, product_id):
    base = approve(world)
    snapshot = dict(base.snapshot)
    snapshot["product"] = {**(snapshot.get("product") or {}), "brand": brand, "id": product_id}
    return Approval.objects.create(
        plan_version=world.plan,
        snapshot=snapshot,
        catalogue_version="test",
        approved_by=world.prescriber,
        language="en",
    )


def generate(world, count, seed=7):
    """``count`` ended infusions over three plans (two of them the same brand), with random
    rates, symptoms and vitals at random levels, some withdrawn by a correction."""
    rng = random.Random(seed)
    plans = [
        brand_approval(world, "Privigen", "privigen"),
        brand_approval(world, "Gamunex-C", "gamunex_c"),
        brand_approval(world, "Privigen", "privigen"),
    ]
    now = timezone.now()
    moments = [now - timedelta(days=7 * (count - i)) for i in range(count)]
    for i in range(0, count - 1, 9):  # some infusions at the same moment as the one before
        moments[i + 1] = moments[i]
    infusions = Infusion.objects.bulk_create(
        Infusion(
            approval=rng.choice(plans),
            patient=world.patient,
            day=1,
            started_by=world.nurse,
            started_at=t,
            ended_at=t + timedelta(hours=3),
        )
        for t in moments
    )
    events = []
    for infusion in infusions:
        t = infusion.started_at
        for minute in range(rng.randint(0, 4)):
            ml_h = Decimal(rng.randint(5, 900)) / 10
            events.append(
                InfusionEvent(
                    infusion=infusion,
                    kind=EventKind.RATE_CHANGE,
                    recorded_by=world.nurse,
                    at=t + timedelta(minutes=10 * minute),
                    data={
                        "rate": f"{ml_h} mL/h",
                        "pump_rate_ml_h": f"{ml_h}",
                        "rate_ml_kg_h": str((ml_h / 21).quantize(Decimal("0.001")).normalize()),
                    },
                )
            )
        if rng.random() < 0.3:
            events.append(
                InfusionEvent(
                    infusion=infusion,
                    kind=EventKind.SYMPTOM,
                    recorded_by=world.nurse,
                    at=t + timedelta(minutes=31),
                    data={
                        "symptom_words": ["rash"],
                        "triage": {"level": rng.choice(LEVELS), "heading": "Heading"},
                    },
                )
            )
        if rng.random() < 0.3:
            events.append(
                InfusionEvent(
                    infusion=infusion,
                    kind=EventKind.VITALS,
                    recorded_by=world.nurse,
                    at=t + timedelta(minutes=32),
                    data={
                        "heart_rate": "150 /min",
                        "triage": {"level": rng.choice(LEVELS), "heading": "Vitals"},
                    },
                )
            )
        if rng.random() < 0.2:
            events.append(
                InfusionEvent(
                    infusion=infusion,
                    kind=EventKind.VIAL,
                    recorded_by=world.nurse,
                    at=t,
                    data={
                        "brand": "Privigen",
                        "lot_number": f"L{infusion.pk}",
                        "expiry": "2027-06-30",
                    },
                )
            )
        if rng.random() < 0.5:
            events.append(
                InfusionEvent(
                    infusion=infusion,
                    kind=EventKind.STOP,
                    recorded_by=world.nurse,
                    at=t + timedelta(hours=3),
                    data={"reason": "done", "given_g": "8.4", "volume_infused_ml": "84.0"},
                )
            )
    InfusionEvent.objects.bulk_create(events)
    # withdraw a random third of the rate changes, symptoms and vitals
    withdrawable = list(
        InfusionEvent.objects.filter(
            kind__in=[EventKind.RATE_CHANGE, EventKind.SYMPTOM, EventKind.VITALS]
        )
    )
    InfusionEvent.objects.bulk_create(
        InfusionEvent(
            infusion_id=e.infusion_id,
            kind=EventKind.CORRECTION,
            corrects=e,
            recorded_by=world.nurse,
            at=e.at + timedelta(minutes=1),
            data={"reason": "wrong", "withdrawn_kind": e.kind},
        )
        for e in withdrawable
        if rng.random() < 0.33
    )
    return infusions


@pytest.mark.parametrize("listed", [500, 0])
def test_the_brand_summary_is_the_full_computation_on_a_large_history(world, monkeypatch, listed):
    monkeypatch.setattr(records, "MAX_LISTED", listed)  # reacted ids as parameters, or asked
    generate(world, 300)
    full = records.brand_records(records.patient_history(world.patient))
    assert [b.brand for b in full] == ["Privigen", "Gamunex-C"] or len(full) == 2
    assert records.brand_summary(world.patient) == full
    # with the approvals the page has read (their brands are not asked again)
    assert records.brand_summary(world.patient, Approval.objects.all()[:2]) == full
    assert any(b.reactions for b in full) and all(b.tolerated_ml_kg_h for b in full)


@pytest.mark.parametrize("seed", range(8))
def test_the_brand_summary_is_the_full_computation_on_small_histories(world, seed):
    generate(world, 1 + seed * 3, seed=seed)
    full = records.brand_records(records.patient_history(world.patient))
    assert records.brand_summary(world.patient) == full


def test_the_brand_summary_answers_a_row_per_plan_or_per_infusion_with_a_reaction(world):
    generate(world, 60)
    reacted = sum(
        b.reactions for b in records.brand_records(records.patient_history(world.patient))
    )
    assert 0 < reacted < 30
    with CaptureQueriesContext(connection) as context:
        records.brand_summary(world.patient)
    assert len(context.captured_queries) <= 5  # and one more when first infusions tie
    # a row per approved plan (three), per infusion with a reaction or per tied first infusion;
    # never one per infusion or per rate change
    with connection.cursor() as cursor:
        for query in context.captured_queries:
            cursor.execute(query["sql"])
            assert len(cursor.fetchall()) <= max(6, reacted)


def test_brands_whose_first_infusions_share_a_moment_keep_the_history_order(world):
    first, second = brand_approval(world, "Zeta", "z"), brand_approval(world, "Alpha", "a")
    t = timezone.now() - timedelta(days=3)
    for approval in (second, first, second):  # Alpha's infusion has the lower pk
        Infusion.objects.create(
            approval=approval,
            patient=world.patient,
            day=1,
            started_by=world.nurse,
            started_at=t,
            ended_at=t + timedelta(hours=1),
        )
    full = records.brand_records(records.patient_history(world.patient))
    assert [b.brand for b in full] == ["Alpha", "Zeta"]
    assert records.brand_summary(world.patient) == full


def test_drinks_are_summed_by_the_database_exactly_as_one_by_one(world):

    from ivig.web.infusions.models import HydrationEntry
    from ivig.web.infusions.views import drunk_ml

    rng = random.Random(3)
    now = timezone.now()
    start, end = now - timedelta(hours=30), now - timedelta(hours=6)
    moments = [start, end, now, now - timedelta(hours=24)]  # the edges of the windows
    moments += [now - timedelta(seconds=rng.randint(0, 40 * 3600)) for _ in range(400)]
    HydrationEntry.objects.bulk_create(
        HydrationEntry(
            patient=world.patient,
            at=t,
            volume="x mL",
            volume_ml=Decimal(rng.randint(1, 99999)) / 10,
            recorded_by=world.caregiver,
        )
        for t in moments
    )
    # (archived: drinks that are not on the edges of the windows)
    archived = HydrationEntry.objects.filter(patient=world.patient).order_by("-pk")[:7]
    HydrationEntry.objects.filter(pk__in=[e.pk for e in archived]).update(archived_at=now)
    windows = [(start, end, False), (now - timedelta(hours=24), now, True)]
    every = list(HydrationEntry.objects.filter(patient=world.patient, archived_at__isnull=True))
    expected = [
        sum((e.volume_ml for e in every if start <= e.at < end), Decimal(0)),
        sum((e.volume_ml for e in every if now - timedelta(hours=24) <= e.at <= now), Decimal(0)),
    ]
    assert drunk_ml(world.patient, windows) == expected
    assert drunk_ml(world.stranger_patient, windows) == [Decimal(0), Decimal(0)]


def test_the_drinks_page_reads_two_infusions_and_fifty_drinks_whatever_the_record(client, world):
    from ivig.web.infusions.models import HydrationEntry

    client.force_login(world.nurse)
    base = generate(world, 5)
    path = f"/patients/{world.patient.pk}/hydration/"

    def queries():
        with CaptureQueriesContext(connection) as context:
            body = client.get(path).content.decode()
        return context.captured_queries, body

    few, _body = queries()
    generate(world, 200, seed=9)
    HydrationEntry.objects.bulk_create(
        HydrationEntry(
            patient=world.patient,
            at=base[-1].started_at + timedelta(minutes=i),
            volume="100 mL",
            volume_ml=Decimal(100),
            recorded_by=world.caregiver,
        )
        for i in range(120)
    )
    many, body = queries()
    assert len(many) == len(few)
    assert body.count("100 mL</strong>") == 50  # the newest 50 drinks are listed


def test_the_dose_bars_are_the_full_history_without_its_events(world):
    generate(world, 120, seed=5)
    full = [
        (item.infusion.started_at.date(), item.dose_g, item.brand)
        for item in records.patient_history(world.patient)
    ]
    with CaptureQueriesContext(connection) as context:
        assert records.doses(world.patient) == full
    assert len(context.captured_queries) == 2
    assert all("infusionevent" not in q["sql"] for q in context.captured_queries)
