"""Migration 0002 keeps every answer stored on a check-in before answers became records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("infusions", "0001_initial")]
AFTER = [("infusions", "0002_checkin_answers_one_running")]


def test_an_answer_stored_on_a_checkin_becomes_its_first_answer_record(world):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Infusion = old.get_model("infusions", "Infusion")
    CheckIn = old.get_model("infusions", "CheckIn")
    now = timezone.now()
    infusion = Infusion.objects.create(
        approval_id=world.approval.pk,
        patient_id=world.patient.pk,
        day=1,
        started_at=now - timedelta(hours=80),
        ended_at=now - timedelta(hours=76),
        started_by_id=world.nurse.pk,
    )
    answered = CheckIn.objects.create(
        infusion=infusion,
        patient_id=world.patient.pk,
        due_at=now - timedelta(hours=4),
        hours_after_end=72,
        label="72 h",
        answered_at=now - timedelta(hours=3),
        answered_by_id=world.caregiver.pk,
        answers={"symptoms": ["seizure"], "headache_score": 0},
        triage={"level": "emergency", "heading": "EMERGENCY"},
    )
    CheckIn.objects.create(
        infusion=infusion,
        patient_id=world.patient.pk,
        due_at=now,
        hours_after_end=76,
        label="later",
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    CheckInAnswer = new.get_model("infusions", "CheckInAnswer")
    (answer,) = CheckInAnswer.objects.all()
    assert answer.checkin_id == answered.pk and answer.level == "emergency"
    assert answer.report["symptoms"] == ["seizure"]
    assert answer.answered_by_id == world.caregiver.pk
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
