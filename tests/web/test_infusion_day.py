"""Infusion-day integrity (issue 9 item 6) and check-in answers kept as records (issue 10).

Real database (SQLite, and PostgreSQL in the PostgreSQL pass); the approval holds a real computed
snapshot. The plan (tests.core.builders) is Privigen 10 %, 2 g/kg over 2 days for 44 lb
(19.958 kg), starting 2026-12-01 08:30.
"""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from ivig.core.plan import build_plan
from ivig.render.plan_json import plan_to_dict
from ivig.web.infusions.models import (
    AppendOnlyError,
    CheckIn,
    CheckInAnswer,
    EventKind,
    Infusion,
    InfusionEvent,
)
from ivig.web.plans.models import Approval
from tests.core import builders

T = "%Y-%m-%dT%H:%M"


def approve(world, **order):
    plan = build_plan(builders.document(None, **order), today=date(2026, 11, 20))
    return Approval.objects.create(
        plan_version=world.plan,
        snapshot=plan_to_dict(plan),
        catalogue_version=plan.catalogue.version,
        approved_by=world.prescriber,
        language="en",
    )


def post_start(client, world, approval, day, minutes_ago=120):
    started = timezone.localtime() - timedelta(minutes=minutes_ago)
    return client.post(
        f"/patients/{world.patient.pk}/infusions/start/",
        {"approval": approval.pk, "day": day, "started_at": started.strftime(T)},
        follow=True,
    )


def at(infusion, minutes):
    return timezone.localtime(infusion.started_at + timedelta(minutes=minutes)).strftime(T)


def url(world, infusion, tail=""):
    return f"/patients/{world.patient.pk}/infusions/{infusion.pk}/{tail}"


def day_entry(snapshot, day):
    return next(d for d in snapshot["days"] if d["day"] == day)


@pytest.fixture
def nurse(client, world):
    client.force_login(world.nurse)
    return client


# --- One running infusion per patient ----------------------------------------------------------


@pytest.mark.django_db
def test_a_second_start_is_refused_while_one_runs_with_the_reason(nurse, world):
    approval = approve(world)
    post_start(nurse, world, approval, day=1)
    assert Infusion.objects.count() == 1
    response = post_start(nurse, world, approval, day=2)
    body = response.content.decode()
    assert Infusion.objects.count() == 1
    assert "is still running" in body and "Stop it first" in body
    # the list page says so instead of offering the form
    page = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert 'id="running-infusion"' in page


@pytest.mark.django_db
def test_the_database_itself_holds_one_running_infusion_per_patient(world):
    approval = approve(world)
    now = timezone.now()
    Infusion.objects.create(
        approval=approval, patient=world.patient, day=1, started_at=now, started_by=world.nurse
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Infusion.objects.create(
            approval=approval, patient=world.patient, day=2, started_at=now, started_by=world.nurse
        )


# --- Day number and date from the plan ---------------------------------------------------------


@pytest.mark.django_db
def test_the_next_day_and_its_planned_date_come_from_the_plan(nurse, world):
    approval = approve(world)
    page = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert "Next: day 1 of the approved plan" in page and "planned for Dec. 1, 2026" in page
    infusion = Infusion.objects.get(pk=_start_and_stop_day_1(nurse, world, approval))
    assert infusion.planned_date == date(2026, 12, 1)
    page = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert "Next: day 2 of the approved plan" in page and "planned for Dec. 2, 2026" in page
    # day 1 again is refused: it was given
    response = post_start(nurse, world, approval, day=1)
    assert "was already given" in response.content.decode()
    assert Infusion.objects.count() == 1


def _start_and_stop_day_1(client, world, approval):
    post_start(client, world, approval, day=1)
    infusion = Infusion.objects.get(day=1)
    volume = day_entry(approval.snapshot, 1)["volume_ml"]
    client.post(
        url(world, infusion, "record/stop/"),
        {"stop-at": at(infusion, 60), "stop-volume": f"{volume} mL"},
    )
    infusion.refresh_from_db()
    assert infusion.ended_at is not None
    return infusion.pk


@pytest.mark.django_db
def test_a_day_started_on_another_date_than_planned_warns(nurse, world):
    approval = approve(world, start="2030-01-10T08:30")
    response = post_start(nurse, world, approval, day=1)
    body = response.content.decode()
    assert "gives day 1 the date 2030-01-10" in body
    infusion = Infusion.objects.get()
    assert infusion.planned_date == date(2030, 1, 10) and infusion.off_plan_date
    assert "Jan. 10, 2030" in nurse.get(url(world, infusion)).content.decode()


# --- Stopping records the volume infused and the grams given -----------------------------------


@pytest.mark.django_db
def test_a_short_stop_asks_for_a_reason_and_history_csv_report_grams_given(nurse, world):
    approval = approve(world)
    post_start(nurse, world, approval, day=2)
    infusion = Infusion.objects.get()
    planned = day_entry(approval.snapshot, 2)
    assert Decimal(str(planned["volume_ml"])) == Decimal("199.58")
    stop = {"stop-at": at(infusion, 100), "stop-volume": "165 mL"}
    refused = nurse.post(url(world, infusion, "record/stop/"), stop)
    body = refused.content.decode()
    assert refused.status_code == 200 and "give the reason to stop here" in body
    assert "165 mL was infused" in body and "34.6 mL less" in body
    infusion.refresh_from_db()
    assert infusion.ended_at is None and not InfusionEvent.objects.exists()
    nurse.post(url(world, infusion, "record/stop/"), {**stop, "stop-reason": "hives"})
    event = InfusionEvent.objects.get(kind=EventKind.STOP)
    assert event.data["volume_infused_ml"] == "165" and event.data["volume_source"] == "pump"
    assert event.data["given_g"] == "16.5" and event.data["planned_g"] == "19.96"
    page = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert "Dose given (g)" in page and "16.5 (165 mL)" in page
    rows = list(
        csv.DictReader(
            io.StringIO(
                nurse.get(f"/patients/{world.patient.pk}/infusions/summary.csv").content.decode()
            )
        )
    )
    assert rows[0]["planned_dose_g"] == "19.958" and rows[0]["given_dose_g"] == "16.5"
    assert rows[0]["volume_infused_ml"] == "165"


@pytest.mark.django_db
def test_the_volume_comes_from_the_rate_log_when_not_typed(nurse, world):
    approval = approve(world)
    post_start(nurse, world, approval, day=2)
    infusion = Infusion.objects.get()
    # no rate logged: the pump's figure is required
    refused = nurse.post(url(world, infusion, "record/stop/"), {"stop-at": at(infusion, 30)})
    assert "No rate was logged" in refused.content.decode()
    nurse.post(url(world, infusion, "rate/"), {"at": at(infusion, 0), "rate": "0.5 mL/kg/h"})
    # 9.9 mL/h (the plan's pump setting) for 60 minutes = 9.9 mL: far short, reason needed
    stop = {"stop-at": at(infusion, 60), "stop-reason": "parent asked to stop"}
    assert nurse.post(url(world, infusion, "record/stop/"), stop).status_code == 302
    event = InfusionEvent.objects.get(kind=EventKind.STOP)
    assert event.data["volume_source"] == "rate_log"
    assert event.data["volume_infused_ml"] == "9.9" and event.data["given_g"] == "0.99"


@pytest.mark.django_db
def test_a_running_infusion_has_no_given_grams_yet(nurse, world):
    approval = approve(world)
    post_start(nurse, world, approval, day=1)
    rows = list(
        csv.DictReader(
            io.StringIO(
                nurse.get(f"/patients/{world.patient.pk}/infusions/summary.csv").content.decode()
            )
        )
    )
    assert rows[0]["given_dose_g"] == "running"


# --- The rate typed as prescribed reads as the plan -------------------------------------------


@pytest.mark.django_db
def test_a_rate_typed_exactly_as_prescribed_is_never_flagged(nurse, world):
    approval = approve(world)
    post_start(nurse, world, approval, day=2)
    infusion = Infusion.objects.get()
    nurse.post(url(world, infusion, "rate/"), {"at": at(infusion, 1), "rate": "0.5 mL/kg/h"})
    event = InfusionEvent.objects.get()
    assert event.data["pump_rate_ml_h"] == event.data["planned_ml_h"] == "9.9"
    assert event.data["warnings"] == []
    timeline = nurse.get(url(world, infusion, "timeline/")).content.decode()
    assert "⚠" not in timeline


# --- Check-in answers are kept -----------------------------------------------------------------


def _checkin(nurse, world):
    approval = approve(world)
    post_start(nurse, world, approval, day=2)
    infusion = Infusion.objects.get()
    volume = day_entry(approval.snapshot, 2)["volume_ml"]
    nurse.post(
        url(world, infusion, "record/stop/"),
        {"stop-at": at(infusion, 100), "stop-volume": f"{volume} mL"},
    )
    return CheckIn.objects.order_by("due_at").first()


@pytest.mark.django_db
def test_a_later_answer_never_replaces_an_earlier_one_and_the_highest_level_stays(nurse, world):
    item = _checkin(nurse, world)
    address = f"/patients/{world.patient.pk}/checkins/{item.pk}/"
    nurse.post(address, {"symptoms": ["difficulty_breathing"], "headache": "0"})
    nurse.post(address, {"headache": "0"})
    answers = list(item.answers.order_by("pk"))
    assert [a.level for a in answers] == ["emergency", "expected"]
    body = nurse.get(address).content.decode()
    assert "Highest level of all answers" in body and "CALL EMERGENCY SERVICES NOW" in body
    assert body.count('class="answer level-') == 2
    listing = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert answers[0].triage["heading"] in listing
    with pytest.raises(AppendOnlyError):
        answers[0].save()
    with pytest.raises(AppendOnlyError):
        answers[0].delete()


def answer_at_once(world) -> dict[str, object]:
    """Two people post answers to the same check-in at the same moment (a barrier). Returns
    the HTTP statuses, any exception and the levels stored. Used in-process on PostgreSQL and
    in a subprocess on a file SQLite database (tests/web/concurrent_answers.py)."""
    nurse = Client()
    nurse.force_login(world.nurse)
    item = _checkin(nurse, world)
    address = f"/patients/{world.patient.pk}/checkins/{item.pk}/"
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[str] = []
    clients = {}
    for user in (world.caregiver, world.nurse):
        clients[user.pk] = Client()
        clients[user.pk].force_login(user)

    def answer(user, data):
        from django.db import connection

        try:
            barrier.wait(timeout=10)
            response = clients[user.pk].post(address, data)
            statuses.append(response.status_code)
            if response.status_code != 302:
                errors.append(response.content.decode()[-4000:])
        except BaseException as exc:  # reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=answer,
            args=(world.caregiver, {"symptoms": ["difficulty_breathing"], "headache": "0"}),
        ),
        threading.Thread(target=answer, args=(world.nurse, {"headache": "1"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    levels = sorted(CheckInAnswer.objects.filter(checkin=item).values_list("level", flat=True))
    highest = CheckIn.objects.get(pk=item.pk).highest()
    return {
        "statuses": statuses,
        "errors": errors,
        "levels": levels,
        "highest": highest.level if highest else None,
    }


@pytest.mark.django_db(transaction=True)
def test_two_people_answering_at_once_both_keep_their_answers(world, tmp_path):
    """Both answers and both levels are kept; the highest (emergency) is the one shown. On
    SQLite the test database lives in memory, where concurrent writers fail at once instead of
    waiting as they do on a real file, so the same scenario runs in a subprocess on a file
    database with the production settings (WAL, BEGIN IMMEDIATE)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        import json
        import os
        import subprocess
        import sys

        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
        }
        environment["IVIG_DATA_DIR"] = str(tmp_path)
        done = subprocess.run(
            [sys.executable, "-m", "tests.web.concurrent_answers"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
    else:
        result = answer_at_once(world)
    assert result["errors"] == [] and result["statuses"] == [302, 302]
    assert result["levels"] == ["emergency", "expected"]
    assert result["highest"] == "emergency"
