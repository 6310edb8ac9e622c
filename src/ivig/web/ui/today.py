"""What to do today, per role: read-only queries over the other apps' records.

Everything here goes through ``ivig.web.access`` (only patients of the user's own active care
teams) and computes no clinical number: the running infusion's step, its due time and its pump
setting are read off the approved snapshot's step table, counted from the recorded start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from ivig.core.infusion_checks import is_plan_snapshot, planned_steps
from ivig.web import access, sql
from ivig.web.accounts.models import Role
from ivig.web.infusions.models import (
    LEVEL_RANK,
    CheckIn,
    CheckInAnswer,
    EventKind,
    HydrationEntry,
    Infusion,
    InfusionEvent,
    without_withdrawn,
)
from ivig.web.patients.models import Patient
from ivig.web.plans.models import Approval, PlanKind, PlanVersion

# Design choice: how far back "check-ins that called the team" reach on a prescriber's page.
CALLED_TEAM_DAYS = 7
CALLED_LEVELS = ("call_doctor", "emergency")


@dataclass
class RunningInfusion:
    infusion: Infusion
    patient: Patient
    brand: str
    step: int | None
    step_rate_ml_h: Any
    last_pump_ml_h: Any
    next_step: int | None
    next_due: datetime | None
    next_rate_ml_h: Any
    planned_end: datetime | None
    steps_total: int


@dataclass
class DueDay:
    patient: Patient
    approval: Approval
    day: int
    date: date
    start: str | None
    version: PlanVersion


@dataclass
class Today:
    roles: set[str] = field(default_factory=set)
    running: list[RunningInfusion] = field(default_factory=list)
    next_infusions: list[DueDay] = field(default_factory=list)
    due_today: list[DueDay] = field(default_factory=list)
    checkins_due: list[CheckIn] = field(default_factory=list)
    drinks: list[tuple[Patient, Decimal]] = field(default_factory=list)
    pump_plans_to_enter: list[PlanVersion] = field(default_factory=list)
    awaiting_approval: list[PlanVersion] = field(default_factory=list)
    called_team: list[CheckInAnswer] = field(default_factory=list)
    repeat_courses: list[DueDay] = field(default_factory=list)
    patients: int = 0

    @property
    def nothing(self) -> bool:
        return not any(
            (
                self.running,
                self.next_infusions,
                self.due_today,
                self.checkins_due,
                self.pump_plans_to_enter,
                self.awaiting_approval,
                self.called_team,
                self.repeat_courses,
            )
        )


PUMP_SETTING_KINDS = (EventKind.RATE_CHANGE, EventKind.PAUSE)


def last_pump_settings(infusions: list[Infusion]) -> dict[int, Any]:
    """The last pump setting (mL/h as recorded, or 0 for a pause) of each infusion that has
    one, without the events a later correction replaced: one read for all the infusions."""
    # Sorted here, not in SQL: an ORDER BY on (infusion, time) makes SQLite walk every entry
    # of the day in the time index (thousands of vitals) instead of the few of these kinds in
    # the (infusion, kind, time) index.
    events = sorted(
        InfusionEvent.objects.filter(
            infusion__in=[infusion.pk for infusion in infusions],
            kind__in=[*PUMP_SETTING_KINDS, EventKind.CORRECTION],
        )
        .order_by()
        .only("pk", "infusion_id", "kind", "at", "data", "corrects_id"),
        key=lambda event: (event.infusion_id, event.at, event.pk),
    )
    out: dict[int, Any] = {}
    for event in without_withdrawn(events):
        if event.kind == EventKind.RATE_CHANGE:
            out[event.infusion_id] = event.data.get("pump_rate_ml_h")
        elif event.kind == EventKind.PAUSE:
            out[event.infusion_id] = 0
    return out


def running_infusion(
    infusion: Infusion, now: datetime, last_pump: Any = ..., /
) -> RunningInfusion:
    """Where the approved schedule is now, counted from the recorded start (no arithmetic on
    doses or rates: the step table's minutes and pump rates as approved). ``last_pump``: the
    infusion's entry of ``last_pump_settings`` when the caller read it for many at once."""
    snapshot = infusion.snapshot
    steps = planned_steps(snapshot, infusion.day)
    minute = Decimal((now - infusion.started_at).total_seconds()) / 60
    current = next((s for s in steps if s.start_min <= minute < s.end_min), None)
    if current is None and steps and minute >= steps[-1].end_min:
        current = steps[-1]
    following = next((s for s in steps if s.start_min > minute), None)
    if last_pump is ...:
        last_pump = last_pump_settings([infusion]).get(infusion.pk)
    start = infusion.started_at
    return RunningInfusion(
        infusion=infusion,
        patient=infusion.patient,
        brand=str((snapshot.get("product") or {}).get("brand", "")),
        step=current.step if current else None,
        step_rate_ml_h=current.rate_ml_h if current else None,
        last_pump_ml_h=last_pump,
        next_step=following.step if following else None,
        next_due=start + timedelta(minutes=float(following.start_min)) if following else None,
        next_rate_ml_h=following.rate_ml_h if following else None,
        planned_end=start + timedelta(minutes=float(steps[-1].end_min)) if steps else None,
        steps_total=len(steps),
    )


@dataclass
class _Plans:
    latest: dict[int, Approval]  # by patient: the newest approval of an active prescription
    read: dict[int, Approval]  # by id: every approval read
    waiting: set[int]  # patients with an active prescription version not approved yet
    newest_pump: dict[int, datetime]  # by patient: when the newest active pump plan was saved


def _plans(patients: dict[int, Patient]) -> _Plans:
    """One read of the patients' active plan versions with their approvals: the newest
    approval of each patient's active, not superseded plans (not pump plans), whether a
    prescription waits for approval, and when the newest pump plan was saved.

    Hand-written (the ORM took ~0.8 ms of Python for the two queries it needed, against
    ~0.05 ms of SQLite); each column read as the ORM reads its field (``sql_rows``), the
    approvals and versions built as the ORM builds them (``from_db``)."""
    q = sql.quote
    # (the ids, kinds and labels are read as they come; times and JSON as the ORM reads them)
    fields = [None, None, None, None, sql.field(PlanVersion, "created_at"), None]
    fields += [sql.field(Approval, "snapshot"), sql.field(Approval, "approved_at")]
    # (the pump plans' approvals are not read: a pump plan is not a prescription)
    statement = (
        f"SELECT v.{q('id')}, v.{q('patient_id')}, v.{q('kind')}, v.{q('label')}, "
        f"v.{q('created_at')}, a.{q('id')}, a.{q('snapshot')}, a.{q('approved_at')} "
        f"FROM {q(PlanVersion._meta.db_table)} v LEFT JOIN {q(Approval._meta.db_table)} a "
        f"ON a.{q('plan_version_id')} = v.{q('id')} AND v.{q('kind')} <> %s "
        f"WHERE v.{q('patient_id')} IN ({sql.marks(patients)}) AND v.{q('archived_at')} IS NULL"
    )
    rows = sql.sql_rows(statement, [PlanKind.PUMP.value, *patients], fields)
    alias = connection.alias
    plans = _Plans(latest={}, read={}, waiting=set(), newest_pump={})
    versions: dict[int, PlanVersion] = {}
    for v_id, patient_id, kind, label, created_at, a_id, snapshot, approved_at in rows:
        if kind == PlanKind.PUMP:
            if patient_id not in plans.newest_pump or created_at > plans.newest_pump[patient_id]:
                plans.newest_pump[patient_id] = created_at
            continue
        if a_id is None:
            plans.waiting.add(patient_id)
            continue
        version = versions.get(v_id)
        if version is None:
            version = PlanVersion.from_db(
                alias, ["id", "patient_id", "kind", "label"], [v_id, patient_id, kind, label]
            )
            version.patient = patients[patient_id]
            versions[v_id] = version
        approval = Approval.from_db(
            alias, ["id", "plan_version_id", "snapshot", "approved_at"],
            [a_id, v_id, snapshot, approved_at],
        )
        approval.plan_version = version
        plans.read[a_id] = approval
    # newest first, as the approvals were read before (by time of approval, then id)
    for approval in sorted(plans.read.values(), key=lambda a: (a.approved_at, a.pk), reverse=True):
        patient_id = approval.plan_version.patient_id
        if patient_id not in plans.latest and is_plan_snapshot(approval.snapshot):
            plans.latest[patient_id] = approval
    return plans


def _days(approval: Approval) -> list[tuple[int, date, str | None]]:
    out = []
    for entry in approval.snapshot.get("days") or []:
        try:
            when = date.fromisoformat(str(entry.get("date")))
        except ValueError:
            continue
        start = entry.get("start")
        out.append((int(entry["day"]), when, str(start) if start else None))
    return out


def build(user: Any, now: datetime | None = None) -> Today:
    now = now or timezone.now()
    today = timezone.localdate(now)
    patients, roles_by_team = access.patients_with_roles(user)
    result = Today(roles=set(roles_by_team.values()), patients=len(patients))
    if not patients:
        return result

    def role(patient: Patient) -> str:
        return str(roles_by_team.get(patient.team_id, ""))

    by_role: dict[str, list[Patient]] = {}
    for patient in patients:
        by_role.setdefault(role(patient), []).append(patient)
    caring = by_role.get(Role.CAREGIVER, []) + by_role.get(Role.VIEWER, [])
    nursing = by_role.get(Role.NURSE, [])
    prescribing = by_role.get(Role.PRESCRIBER, [])

    by_id = {patient.pk: patient for patient in patients}
    plans = _plans(by_id)
    approvals, approvals_read = plans.latest, dict(plans.read)
    running_list = list(
        Infusion.objects.filter(patient__in=list(by_id), ended_at__isnull=True).order_by(
            "started_at"
        )
    )
    # each running infusion's approved plan: among those just read, or else read now (an
    # infusion of an archived or pump-only version; an approval's snapshot never changes)
    missing = {i.approval_id for i in running_list} - approvals_read.keys()
    if missing:
        approvals_read.update(Approval.objects.in_bulk(missing))
    for infusion in running_list:  # (the patients are read already)
        infusion.patient = by_id[infusion.patient_id]
        infusion.approval = approvals_read[infusion.approval_id]
    pumps = last_pump_settings(running_list) if running_list else {}
    result.running = [running_infusion(i, now, pumps.get(i.pk)) for i in running_list]

    # the days of these courses already started (each pair once, however many infusions)
    started = set(
        Infusion.objects.filter(approval__in=[a.pk for a in approvals.values()])
        .order_by()
        .values_list("approval_id", "day")
        .distinct()
    )
    for patient in patients:
        approval = approvals.get(patient.pk)
        if approval is None:
            continue
        for number, when, start in _days(approval):
            if (approval.pk, number) in started or when < today:
                continue
            due = DueDay(patient, approval, number, when, start, approval.plan_version)
            if when == today and patient in nursing:
                result.due_today.append(due)
            if patient in caring:
                result.next_infusions.append(due)
            break  # only the next day of the course

    # Courses to repeat: every day of the latest approved prescription is past and no newer
    # prescription waits (for the roles that enter plans; a viewer only reads).
    planners = [p for p in patients if role(p) != Role.VIEWER]
    # (whether a prescription waits for approval, and when the newest pump plan was saved,
    # came with the approvals)
    waiting, newest_pump = plans.waiting, plans.newest_pump
    for patient in planners:
        approval = approvals.get(patient.pk)
        days = _days(approval) if approval is not None else []
        if approval is None or not days or patient.pk in waiting:
            continue
        last_day, last_date, last_start = max(days, key=lambda d: d[1])
        if last_date < today:
            result.repeat_courses.append(
                DueDay(patient, approval, last_day, last_date, last_start, approval.plan_version)
            )

    end_of_today = timezone.make_aware(
        datetime.combine(today + timedelta(days=1), datetime.min.time())
    )
    if caring:  # (a nurse's or prescriber's page reads neither)
        result.checkins_due = list(
            CheckIn.objects.filter(
                patient__in=caring, answers__isnull=True, due_at__lt=end_of_today
            )
            .select_related("patient")
            .order_by("due_at")
        )
        start_of_today = end_of_today - timedelta(days=1)
        totals = dict(
            HydrationEntry.objects.filter(
                patient__in=caring,
                archived_at__isnull=True,
                at__gte=start_of_today,
                at__lt=end_of_today,
            )
            .values_list("patient_id")
            .annotate(total=Sum("volume_ml"))
            .values_list("patient_id", "total")
        )
        result.drinks = [(p, totals.get(p.pk) or Decimal(0)) for p in caring]

    # Pump plans to enter: an approved prescription with no pump plan saved after it.
    for patient in nursing:
        approval = approvals.get(patient.pk)
        if approval is None:
            continue
        pump_at = newest_pump.get(patient.pk)
        if pump_at is None or pump_at < approval.approved_at:
            result.pump_plans_to_enter.append(approval.plan_version)

    if prescribing:
        result.awaiting_approval = list(
            PlanVersion.objects.filter(
                patient__in=prescribing, archived_at__isnull=True, approvals__isnull=True
            )
            .exclude(kind=PlanKind.PUMP)
            .exclude(Q(superseded_by__isnull=False) & Q(superseded_by__archived_at__isnull=True))
            .select_related("patient", "author")
            .order_by("created_at")
            .distinct()
        )
        # One line per check-in: its highest answer (answers are kept, never replaced).
        called: dict[int, CheckInAnswer] = {}
        for answer in (
            CheckInAnswer.objects.filter(
                checkin__patient__in=prescribing,
                answered_at__gte=now - timedelta(days=CALLED_TEAM_DAYS),
                level__in=CALLED_LEVELS,
            )
            .select_related("checkin__patient")
            .order_by("-answered_at", "-pk")
        ):
            best = called.get(answer.checkin_id)
            if best is None or LEVEL_RANK.get(answer.level, 9) > LEVEL_RANK.get(best.level, 9):
                called[answer.checkin_id] = answer
        result.called_team = list(called.values())
    return result
