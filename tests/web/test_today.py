"""The "today" page: per role, what is due, each line linking to the action; a running infusion
shows its current and next step from the approved snapshot; words and numbers for people."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from ivig.core.infusion_checks import is_plan_snapshot
from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.infusions.models import CheckIn, CheckInAnswer, HydrationEntry, Infusion
from ivig.web.plans.models import Approval, PlanKind, PlanVersion
from ivig.web.ui import today, words
from tests.core import builders

pytestmark = pytest.mark.django_db


def approve(world, start: str | None = None):
    start = start or timezone.localtime().strftime("%Y-%m-%dT08:30")
    plan = build_plan(builders.document(None, start=start), today=date(2026, 11, 20))
    return Approval.objects.create(
        plan_version=world.plan,
        snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version,
        approved_by=world.prescriber,
        language="en",
    )


def test_an_anonymous_visitor_goes_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_nurse_sees_todays_infusion_and_the_pump_plan_to_enter(client, world):
    approval = approve(world)
    client.force_login(world.nurse)
    body = client.get("/").content.decode()
    assert "Infusions due today" in body and world.patient.name in body
    assert f"/patients/{world.patient.pk}/infusions/#start" in body
    assert "Pump plans to enter" in body
    assert f"/patients/{world.patient.pk}/plans/new/?kind=pump&amp;from={world.plan.pk}" in body
    PlanVersion.objects.create(
        patient=world.patient,
        kind=PlanKind.PUMP,
        order_document={},
        author=world.nurse,
    )
    assert "Pump plans to enter" not in client.get("/").content.decode()
    assert approval.pk  # the approval is what the day is read from


def test_a_running_infusion_shows_the_current_and_next_step_with_a_countdown(client, world):
    approval = approve(world)
    infusion = Infusion.objects.create(
        approval=approval,
        patient=world.patient,
        day=1,
        started_at=timezone.now() - timedelta(minutes=40),
        started_by=world.nurse,
    )
    running = today.running_infusion(infusion, timezone.now())
    # Seed chart: 30-minute steps; 40 minutes in = step 2, step 3 due at minute 60.
    assert running.step == 2 and running.next_step == 3
    assert running.next_due == infusion.started_at + timedelta(minutes=60)
    assert Decimal(str(running.next_rate_ml_h)) == Decimal("29.9")
    client.force_login(world.caregiver)
    body = client.get("/").content.decode()
    assert "Infusions running now" in body and "Planned now: step 2 of 4" in body
    assert "set the pump to 29.9 mL/h" in body
    assert 'class="countdown"' in body and "today.js" in body
    assert 'id="notify-button"' in body and "<script>" not in body
    assert f"/patients/{world.patient.pk}/infusions/{infusion.pk}/" in body


def test_the_caregiver_sees_next_infusion_checkins_due_and_drinks(client, world):
    in_3_days = (timezone.localdate() + timedelta(days=3)).isoformat()
    approval = approve(world, start=f"{in_3_days}T09:00")
    infusion = Infusion.objects.create(
        approval=approval,
        patient=world.patient,
        day=1,
        started_at=timezone.now() - timedelta(days=4),
        ended_at=timezone.now() - timedelta(days=4) + timedelta(hours=6),
        started_by=world.nurse,
    )
    checkin = CheckIn.objects.create(
        infusion=infusion,
        patient=world.patient,
        due_at=timezone.now() - timedelta(hours=1),
        hours_after_end=Decimal(72),
        label="72 h",
    )
    HydrationEntry.objects.create(
        patient=world.patient,
        at=timezone.now(),
        volume="250 mL",
        volume_ml=Decimal("250"),
        recorded_by=world.caregiver,
    )
    client.force_login(world.caregiver)
    body = client.get("/").content.decode()
    assert "Next infusion" in body and "09:00" in body
    assert f"/patients/{world.patient.pk}/checkins/{checkin.pk}/" in body
    assert "Drinks today" in body and "250 mL" in body
    assert "Pump plans to enter" not in body and "waiting for your approval" not in body


def test_the_prescriber_sees_plans_to_approve_and_checkins_that_called(client, world):
    waiting = PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PRESCRIBED, label="", order_document={},
        author=world.nurse,
    )
    approval = approve(world)
    infusion = Infusion.objects.create(
        approval=approval, patient=world.patient, day=1,
        started_at=timezone.now() - timedelta(days=3),
        ended_at=timezone.now() - timedelta(days=3), started_by=world.nurse,
    )
    item = CheckIn.objects.create(
        infusion=infusion, patient=world.patient, due_at=timezone.now(),
        hours_after_end=Decimal(72), label="72 h",
    )
    CheckInAnswer.objects.create(
        checkin=item, answered_at=timezone.now(), answered_by=world.caregiver,
        triage={"level": "call_doctor"}, level="call_doctor",
    )
    client.force_login(world.prescriber)
    body = client.get("/").content.decode()
    assert "Plans waiting for your approval" in body
    assert f"/patients/{world.patient.pk}/plans/{waiting.pk}/#approve" in body
    assert "Check-ins that called the team" in body and "Call the care team" in body
    assert "call_doctor" not in body.replace("level-call_doctor", "")


def test_a_stranger_sees_nothing_of_another_team(client, world):
    approve(world)
    client.force_login(world.stranger)
    body = client.get("/").content.decode()
    assert world.patient.name not in body


def test_words_for_people():
    with translation.override("en"):
        assert words.duration(345.23) == "5 h 45 min"
        assert words.duration(30) == "30 min" and words.duration(120) == "2 h"
        assert words.when("2026-12-03T08:30") == "Dec. 3, 2026, 08:30"
        assert words.age(date(2020, 6, 15), date(2026, 12, 1)) == "6 years 5 months"
        assert words.age(date(2026, 1, 15), date(2026, 12, 1)) == "10 months"
        assert words.age_from_years(6.46) == "6 years 5 months"
        assert words.weight("44 lb") == "44 lb (19.96 kg)"
        assert words.weight_kg(19.958) == "19.96 kg"
        assert words.product_name("Gammaplex 10%", 10) == "Gammaplex 10%"
        assert words.product_name("Privigen", 10.0) == "Privigen 10%"
        assert words.rule_pack("ontario") == "Ontario rules (ORBCoN dose calculator)"
        assert words.strip_prefix("Check-in: Check-in: 72 h", "Check-in") == "72 h"
    with translation.override("es"):
        assert words.number(19.958) == "19.96"
        assert words.when("2026-12-03T08:30") == "3 de diciembre de 2026, 08:30"
        assert words.age(date(2020, 6, 15), date(2026, 12, 1)) == "6 años 5 meses"
        assert words.weight_kg(19.958) == "19.96 kg"


def test_the_plan_page_says_only_a_prescriber_can_approve(client, world):
    waiting = PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PRESCRIBED, label="",
        order_document=builders.document(), author=world.caregiver,
    )
    client.force_login(world.caregiver)
    url = f"/patients/{world.patient.pk}/plans/{waiting.pk}/"
    assert "Only a prescriber of this care team can approve" in client.get(url).content.decode()
    client.force_login(world.prescriber)
    assert "Only a prescriber of this care team" not in client.get(url).content.decode()


def test_a_pump_plan_saved_before_the_approval_does_not_count(client, world):
    old_pump = PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PUMP, order_document={}, author=world.nurse
    )
    PlanVersion.objects.filter(pk=old_pump.pk).update(
        created_at=timezone.now() - timedelta(days=60)
    )
    approve(world)
    client.force_login(world.nurse)
    assert "Pump plans to enter" in client.get("/").content.decode()


def test_a_course_to_repeat_hides_while_a_new_prescription_waits(world):
    past = (timezone.localtime() - timedelta(days=10)).strftime("%Y-%m-%dT08:30")
    approve(world, start=past)
    assert [d.patient for d in today.build(world.nurse).repeat_courses] == [world.patient]
    waiting = PlanVersion.objects.create(
        patient=world.patient, kind=PlanKind.PRESCRIBED, order_document={}, author=world.nurse
    )
    assert today.build(world.nurse).repeat_courses == []
    waiting.archived_at = timezone.now()  # archived: it no longer waits
    waiting.save()
    assert [d.patient for d in today.build(world.nurse).repeat_courses] == [world.patient]
    PlanVersion.objects.create(  # a pump plan is not a prescription waiting
        patient=world.patient, kind=PlanKind.PUMP, order_document={}, author=world.nurse
    )
    assert [d.patient for d in today.build(world.nurse).repeat_courses] == [world.patient]


def test_the_last_pump_setting_skips_corrected_entries_and_a_pause_reads_zero(world):
    from ivig.web.infusions.models import EventKind, InfusionEvent

    approval = approve(world)
    start = timezone.now() - timedelta(minutes=50)
    infusion = Infusion.objects.create(
        approval=approval, patient=world.patient, day=1, started_at=start,
        started_by=world.nurse,
    )

    def event(kind, minutes, data, corrects=None):
        return InfusionEvent.objects.create(
            infusion=infusion, kind=kind, at=start + timedelta(minutes=minutes),
            recorded_by=world.nurse, data=data, corrects=corrects,
        )

    assert today.last_pump_settings([infusion]) == {}
    event(EventKind.RATE_CHANGE, 0, {"pump_rate_ml_h": "10.0"})
    wrong = event(EventKind.RATE_CHANGE, 30, {"pump_rate_ml_h": "99.0"})
    assert today.last_pump_settings([infusion]) == {infusion.pk: "99.0"}
    event(EventKind.CORRECTION, 31, {"reason": "typed wrong"}, corrects=wrong)
    assert today.last_pump_settings([infusion]) == {infusion.pk: "10.0"}
    assert today.running_infusion(infusion, timezone.now()).last_pump_ml_h == "10.0"
    event(EventKind.PAUSE, 40, {"reason": "headache"})
    assert today.last_pump_settings([infusion]) == {infusion.pk: 0}


def test_the_nurses_page_reads_the_same_few_times_however_long_the_records(client, world, build):
    """Issue 10: the today page's reads do not grow with the patients, the infusions or the
    entries of a running day (each a handful of rows read once for all the patients)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ivig.web.infusions.models import EventKind, InfusionEvent

    def running_patient(name: str, events: int) -> None:
        patient = build.make_patient(world.team_a, world.caregiver, name=name)
        version = build.make_plan(patient, world.prescriber)
        plan = build_plan(builders.document(None), today=date(2026, 11, 20))
        approval = Approval.objects.create(
            plan_version=version, snapshot=plan_to_dict(plan),
            catalogue_version=plan.catalogue.version, approved_by=world.prescriber,
            language="en",
        )
        start = timezone.now() - timedelta(hours=2)
        for day in range(3):  # earlier, ended infusions of the course
            Infusion.objects.create(
                approval=approval, patient=patient, day=1, started_by=world.nurse,
                started_at=start - timedelta(days=28 * (day + 1)),
                ended_at=start - timedelta(days=28 * (day + 1), hours=-3),
            )
        infusion = Infusion.objects.create(
            approval=approval, patient=patient, day=1, started_at=start,
            started_by=world.nurse,
        )
        InfusionEvent.objects.bulk_create(
            InfusionEvent(
                infusion=infusion, recorded_by=world.nurse, at=start + timedelta(minutes=i),
                kind=EventKind.RATE_CHANGE if i % 10 == 0 else EventKind.VITALS,
                data={"pump_rate_ml_h": f"{10 + i}.0"} if i % 10 == 0 else {},
            )
            for i in range(events)
        )

    def reads() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as context:
            body = client.get("/").content.decode()
        return len(context.captured_queries), body

    client.force_login(world.nurse)
    running_patient("Ana", 5)
    few, body = reads()
    assert "Infusions running now" in body and "Ana" in body
    running_patient("Bea", 200)
    running_patient("Carla", 50)
    many, body = reads()
    assert all(name in body for name in ("Ana", "Bea", "Carla"))
    # each patient's last of their rate changes (Bea: the 20th of 200 entries)
    for rate in (10, 200, 50):
        assert f"Last recorded pump rate: {rate} mL/h." in body
    assert many == few <= 9


def test_a_running_infusion_of_an_archived_plan_still_shows_its_steps(client, world):
    """The running infusion's approved plan is read even when its version is no longer an
    active one (the page reads the active versions' approvals first and reuses them)."""
    approval = approve(world)
    infusion = Infusion.objects.create(
        approval=approval, patient=world.patient, day=1, started_by=world.nurse,
        started_at=timezone.now() - timedelta(minutes=40),
    )
    world.plan.archived_at = timezone.now()
    world.plan.save()
    client.force_login(world.nurse)
    body = client.get("/").content.decode()
    assert "Infusions running now" in body and "Planned now: step 2 of 4" in body
    assert f"/patients/{world.patient.pk}/infusions/{infusion.pk}/" in body


def test_the_one_plan_read_answers_as_the_orm_queries_it_replaces(world, build):
    """today._plans (one hand-written statement) against the ORM reads it replaced: the newest
    approval of an active prescription, the waiting prescriptions and the newest pump plan,
    across patients with several versions, approvals, pump plans and archived versions."""
    from django.db.models import Count, Max, Q

    other = build.make_patient(world.team_a, world.caregiver, name="Other")
    third = build.make_patient(world.team_a, world.caregiver, name="Third")
    patients = {p.pk: p for p in (world.patient, other, third)}
    plan = plan_to_dict(build_plan(builders.document(None), today=date(2026, 11, 20)))

    def version(patient, kind=PlanKind.PRESCRIBED, archived=False, approvals=0):
        v = PlanVersion.objects.create(
            patient=patient, kind=kind, label=f"{kind} {patient.name}",
            order_document={}, author=world.prescriber,
            archived_at=timezone.now() if archived else None,
        )
        for _ in range(approvals):
            Approval.objects.create(
                plan_version=v, snapshot=plan, catalogue_version="x",
                approved_by=world.prescriber, language="en",
            )
        return v

    version(world.patient, approvals=2)
    version(world.patient, PlanKind.PUMP, approvals=1)
    version(world.patient, PlanKind.PUMP)
    version(world.patient)  # waiting
    version(other, approvals=1)
    version(other, archived=True, approvals=1)  # archived: not read
    version(third, PlanKind.PUMP, archived=True)
    got = today._plans(patients)

    approvals = (
        Approval.objects.filter(
            plan_version__patient__in=list(patients), plan_version__archived_at__isnull=True
        )
        .exclude(plan_version__kind=PlanKind.PUMP)
        .order_by("-approved_at", "-pk")
    )
    latest: dict[int, int] = {}
    for a in approvals:
        if a.plan_version.patient_id not in latest and is_plan_snapshot(a.snapshot):
            latest[a.plan_version.patient_id] = a.pk
    versions = list(
        PlanVersion.objects.filter(patient__in=list(patients), archived_at__isnull=True)
        .order_by()
        .values("patient_id", "kind")
        .annotate(newest=Max("created_at"), unapproved=Count("pk", filter=Q(approvals=None)))
    )
    assert {p: a.pk for p, a in got.latest.items()} == latest
    assert set(got.read) == {a.pk for a in approvals}
    assert got.waiting == {
        r["patient_id"] for r in versions if r["kind"] != PlanKind.PUMP and r["unapproved"]
    }
    assert got.newest_pump == {
        r["patient_id"]: r["newest"] for r in versions if r["kind"] == PlanKind.PUMP
    }
    for a in got.latest.values():  # read as the ORM reads them
        fresh = Approval.objects.select_related("plan_version").get(pk=a.pk)
        assert (a.snapshot, a.approved_at) == (fresh.snapshot, fresh.approved_at)
        assert (a.plan_version.pk, a.plan_version.kind, a.plan_version.label) == (
            fresh.plan_version.pk, fresh.plan_version.kind, fresh.plan_version.label
        )
