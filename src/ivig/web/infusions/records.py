"""Record keeping for the infusion log: thin glue between the models and the pure core.

Views call these; they never compute clinical numbers themselves.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import (
    Count,
    Min,
    Prefetch,
    QuerySet,
)
from django.utils import timezone

from ivig.core import infusion_day, triage, units
from ivig.core.checks import fmt
from ivig.core.infusion_checks import (
    checkin_schedule,
    checkin_tiers,
    delivered_ml,
    delivered_ml_at,
    planned_cumulative_ml,
    planned_step_at,
    planned_steps,
)
from ivig.core.order import OrderError
from ivig.core.plan import Plan, build_plan
from ivig.core.timeline import CareEvent, TimelineError, care_timeline
from ivig.web import csv_safe
from ivig.web.infusions import history_sql
from ivig.web.infusions.history_sql import SummaryEvent
from ivig.web.infusions.live_log import withdrawn_sql
from ivig.web.infusions.models import (
    CheckIn,
    CheckInAnswer,
    EventKind,
    Infusion,
    InfusionEvent,
    without_withdrawn,
)
from ivig.web.patients.models import Patient
from ivig.web.plans.models import Approval


def minutes_since_start(infusion: Infusion, at: datetime) -> Decimal:
    return Decimal(str((at - infusion.started_at).total_seconds())) / 60


def record(
    infusion: Infusion,
    kind: str,
    at: datetime,
    data: dict[str, Any],
    user: Any,
    corrects: InfusionEvent | None = None,
) -> InfusionEvent:
    return InfusionEvent.objects.create(
        infusion=infusion, kind=kind, at=at, data=data, recorded_by=user, corrects=corrects
    )


# --- Triage


def triage_document(
    patient: Patient,
    snapshot: dict[str, Any],
    report: dict[str, Any],
    today: date,
) -> dict[str, Any]:
    course = snapshot.get("course") or {}
    patient_part: dict[str, Any] = {
        "birth_date": patient.birth_date.isoformat(),
        "conditions": list(patient.conditions),
        "blood_group": patient.blood_group,
    }
    course_part: dict[str, Any] = {}
    if course.get("indication"):
        course_part["indication"] = course["indication"]
    return {"report": report, "patient": patient_part, "course": course_part, "today": today}


def run_triage(
    patient: Patient, snapshot: dict[str, Any], report: dict[str, Any], language: str
) -> dict[str, Any]:
    """Triage a report; raises TriageInputError on bad input. Facts the patient's record gives
    (age, conditions, blood group, indication) are added; if the record itself is refused (an
    unknown code), the report is triaged without them (a missing fact counts as risky) but
    keeps the birth date: triage refuses a temperature without an age."""
    today = timezone.localdate()
    try:
        parsed = triage.report_from_mapping(triage_document(patient, snapshot, report, today))
    except triage.TriageInputError as exc:
        if any(p.field.startswith("report.") for p in exc.problems):
            raise
        parsed = triage.report_from_mapping(
            {
                "report": report,
                "patient": {"birth_date": patient.birth_date.isoformat()},
                "today": today,
            }
        )
    result = triage.evaluate(parsed)
    return triage.result_to_dict(result, "es" if language.startswith("es") else "en")


def run_vitals_triage(
    patient: Patient, infusion: Infusion, signs: triage.VitalSigns, at: datetime, language: str
) -> dict[str, Any]:
    """Triage vital signs as they are recorded (``triage.triage_vitals``): a temperature is a
    fever report under the same rules as a symptom report ("tell the nurse now" while the
    infusion runs); heart rate, breathing rate, blood pressure and SpO2 against the cited age
    bands. The first systolic pressure recorded in this infusion is the baseline for a fall."""
    age_years = units.years_between(patient.birth_date, timezone.localtime(at).date())
    running = infusion.ended_at is None or at <= infusion.ended_at
    hours_after = None
    if not running and infusion.ended_at is not None:
        hours_after = Decimal(str((at - infusion.ended_at).total_seconds() / 3600))
    baseline = None
    for event in (
        infusion.events.filter(
            kind=EventKind.VITALS,
            corrections__isnull=True,
            data__signs__has_key="systolic_mmhg",
        )
        .order_by("at", "pk")
        .iterator(chunk_size=50)  # the first one with a systolic pressure: read no further
    ):
        systolic = (event.data.get("signs") or {}).get("systolic_mmhg")
        if systolic:
            baseline = Decimal(str(systolic))
            break
    result = triage.triage_vitals(
        signs,
        units.months_from_years(age_years),
        during_infusion=running,
        hours_since_infusion_end=hours_after,
        baseline_systolic_mmhg=baseline,
        conditions=frozenset(patient.conditions),
        indication=(infusion.snapshot.get("course") or {}).get("indication"),
    )
    return triage.result_to_dict(result, "es" if language.startswith("es") else "en")


# --- Ending an infusion and the check-ins


# An approval never changes (nor the plan version it approves, nor the catalogue while the
# process runs), so the plan recomputed from it, and the care timeline counted from a given
# end, are kept for the life of the process, keyed by what identifies the approval. Only these
# immutable results are kept: nothing that depends on who asks or on records that change.
_CACHE_SIZE = 256
_plans: OrderedDict[tuple[Any, ...], Plan | None] = OrderedDict()
_timelines: OrderedDict[tuple[Any, ...], tuple[CareEvent, ...] | None] = OrderedDict()
_cache_lock = threading.Lock()
SCALARS = (str, int, float, bool, type(None))


def _approval_key(approval: Approval) -> tuple[Any, ...] | None:
    """What ``approved_plan`` depends on: the approved version's document (it never changes
    once approved: its id says which), the day of the approval, and the parts of the snapshot
    the plan is checked against (read from the snapshot itself, a few values)."""
    snapshot = approval.snapshot
    if approval.pk is None or not isinstance(snapshot, dict):
        return None
    days = snapshot.get("days", [])
    product = snapshot.get("product") or {}
    if not isinstance(days, list) or not isinstance(product, dict):
        return None  # a malformed snapshot: checked (and refused) every time, never kept
    shown = tuple(
        (d.get("day"), d.get("start"), d.get("end")) if isinstance(d, dict) else None for d in days
    )
    product_id = product.get("id")
    if not all(isinstance(v, SCALARS) for day in shown for v in day or (None,)) or not (
        isinstance(product_id, SCALARS)
    ):
        return None
    return (approval.pk, approval.approved_at, approval.plan_version_id, product_id, shown)


def _cached(
    cache: OrderedDict[tuple[Any, ...], Any], key: tuple[Any, ...] | None, compute: Any
) -> Any:
    if key is None:
        return compute()
    with _cache_lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = compute()
    with _cache_lock:
        cache[key] = value
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return value


def approved_plan(approval: Approval) -> Plan | None:
    """The core Plan behind an approval, recomputed from the approved version's order document
    (as on the day of the approval). None when it cannot be recomputed or no longer matches the
    snapshot that was approved (product, days and their planned times), so callers never put
    a different plan on a calendar than the one approved. Computed once per approval."""
    plan: Plan | None = _cached(
        _plans, _approval_key(approval), lambda: _build_approved_plan(approval)
    )
    return plan


def _build_approved_plan(approval: Approval) -> Plan | None:
    document = approval.plan_version.order_document
    today = timezone.localtime(approval.approved_at).date()
    try:
        plan = build_plan(document, today=today)
    except (OrderError, ValueError, TypeError, KeyError):
        return None
    snapshot = approval.snapshot
    shown = [(d.get("day"), d.get("start"), d.get("end")) for d in snapshot.get("days", [])]
    computed = [
        (
            d.day,
            d.start.isoformat(timespec="minutes") if d.start else None,
            d.end.isoformat(timespec="minutes") if d.end else None,
        )
        for d in plan.days
    ]
    if shown != computed or (snapshot.get("product") or {}).get("id") != plan.product.id:
        return None
    return plan


def course_end(approval: Approval) -> datetime | None:
    """When the last day of this approved plan actually ended; None until it has."""
    days = infusion_day.day_numbers(approval.snapshot)
    if not days:
        return None
    last = (
        Infusion.objects.filter(approval=approval, day=days[-1], ended_at__isnull=False)
        .order_by("-ended_at")
        .first()
    )
    return last.ended_at if last is not None else None


def _plan_clock(moment: datetime, plan: Plan) -> datetime:
    """``moment`` in the clock of the plan's times (naive local time when they are naive)."""
    sample = next((d.end for d in plan.days if d.end is not None), None)
    local = timezone.localtime(moment)
    return local.replace(tzinfo=None) if sample is not None and sample.tzinfo is None else local


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def care_events(
    approval: Approval, actual_end: datetime | None = None, *, end_known: bool = False
) -> tuple[CareEvent, ...] | None:
    """The ONE check-in schedule and care calendar of an approved plan: ``care_timeline``
    counted from the actual end of the last day once it is known (``actual_end``, else looked
    up; with ``end_known`` the caller has read ``course_end`` already: None, not ended yet),
    from the planned end before that. None without a plan or a start date and time.
    The calendar page, the .ics, the infusions page and the recorded check-ins all use it."""
    plan = approved_plan(approval)
    if plan is None:
        return None
    end = actual_end if end_known else (actual_end or course_end(approval))
    clock = _plan_clock(end, plan) if end else None

    def compute() -> tuple[CareEvent, ...] | None:
        try:
            return care_timeline(plan, actual_end=clock)
        except TimelineError:
            return None

    key = _approval_key(approval)
    events: tuple[CareEvent, ...] | None = _cached(
        _timelines, None if key is None else (*key, clock), compute
    )
    return events


def _timeline_checkins(infusion: Infusion, at: datetime) -> list[CheckIn] | None:
    """Check-ins from the care timeline counted from the actual end ``at``; None when the plan
    has no clock times (the caller falls back to the triage tiers)."""
    events = care_events(infusion.approval, actual_end=at)
    if events is None:
        return None
    created = []
    for event in events:
        if event.kind != "check_in":
            continue
        due = _aware(event.starts_at)
        after = due - at
        hours = Decimal(str(after.total_seconds() / 3600)).quantize(Decimal("0.1"))
        created.append(
            CheckIn.objects.create(
                infusion=infusion,
                patient=infusion.patient,
                due_at=due,
                hours_after_end=hours,
                label=event.title_en[:200],
                focus={"en": event.detail("en"), "es": event.detail("es")},
                tiers=[t for t in (event.tier or "").split(",") if t],
            )
        )
    return created


def planned_checkins(
    approval: Approval, actual_end: datetime | None = None, *, end_known: bool = False
) -> list[CareEvent]:
    """Check-ins of the course before they are recorded (from the planned end until the last
    day ends): the same schedule as the calendar (``actual_end``, ``end_known``: as for
    ``care_events``)."""
    events = care_events(approval, actual_end, end_known=end_known)
    return [e for e in events or () if e.kind == "check_in"]


@transaction.atomic
def end_infusion(infusion: Infusion, at: datetime) -> list[CheckIn]:
    """Mark the infusion ended; after the last day, create the check-ins (once).

    The check-ins are the care timeline's (every tier, including the daily prompts beyond
    72 h such as Kawasaki's to day 14), due from the actual end. When the approved plan has no
    start date and time, the triage tiers' schedule is used instead (windows up to 72 h)."""
    if infusion.ended_at is None:
        infusion.ended_at = at
        infusion.save(update_fields=["ended_at"])
    if not infusion.is_last_day or infusion.checkins.exists():
        return []
    from_timeline = _timeline_checkins(infusion, at)
    if from_timeline is not None:
        return from_timeline
    patient = infusion.patient
    tiers = checkin_tiers(infusion.snapshot, patient.conditions)
    created = []
    for planned in checkin_schedule(tiers):
        created.append(
            CheckIn.objects.create(
                infusion=infusion,
                patient=patient,
                due_at=at + timedelta(hours=float(planned.hours)),
                hours_after_end=planned.hours,
                label=planned.label,
                focus={"en": planned.focus_en, "es": planned.focus_es},
                tiers=list(planned.tiers),
            )
        )
    return created


def answer_checkin(
    item: CheckIn, user: Any, report: dict[str, Any], result: dict[str, Any]
) -> CheckInAnswer:
    """Keep one person's answers as a new record (an insert only: nothing on the check-in is
    updated), so two people answering at once both keep their answers and neither overwrites
    the other."""
    return CheckInAnswer.objects.create(
        checkin=item,
        answered_at=timezone.now(),
        answered_by=user,
        report=report,
        triage=result,
        level=str(result.get("level", "")),
    )


def answered_checkins(infusion: Infusion) -> list[CheckIn]:
    """The infusion's check-ins that have at least one answer (answers prefetched; so are the
    check-ins themselves when ``patient_history`` read the infusion)."""
    if "checkins" in getattr(infusion, "_prefetched_objects_cache", {}):
        checkins: Iterable[CheckIn] = infusion.checkins.all()
    else:
        checkins = infusion.checkins.prefetch_related("answers").order_by("due_at", "pk")
    return [c for c in checkins if c.answer_list()]


def highest_level(item: CheckIn) -> str:
    best = item.highest()
    return best.level if best is not None else ""


# Design choice: the patient page lists the newest overdue check-ins and counts the others (a
# family that stopped answering for a year has hundreds; the current course's are the ones to
# act on, and the infusions page lists the check-ins in full).
OVERDUE_SHOWN = 5


def overdue_checkins(
    patient: Patient, now: datetime | None = None, *, limit: int | None = None
) -> list[CheckIn]:
    """The check-ins due and never answered, oldest first; with ``limit``, the newest
    ``limit`` of them (read newest first, so a long history is not read to find them)."""
    now = now or timezone.now()
    overdue = CheckIn.objects.filter(patient=patient, answers__isnull=True, due_at__lte=now)
    if limit is None:
        return list(overdue.order_by("due_at"))
    newest = overdue.order_by("-due_at", "-pk")[:limit]
    return sorted(newest, key=lambda c: (c.due_at, c.pk))


def overdue_on_patient_page(patient: Patient) -> tuple[list[CheckIn], bool]:
    """The newest ``OVERDUE_SHOWN`` overdue check-ins, and whether there are older ones (not
    counted: counting reads every unanswered check-in of a long history)."""
    shown = overdue_checkins(patient, limit=OVERDUE_SHOWN + 1)
    return shown[-OVERDUE_SHOWN:], len(shown) > OVERDUE_SHOWN


# --- Actual vs planned


@dataclass
class TimelineRow:
    at: datetime
    minute: Decimal
    what: str
    actual_ml_h: Decimal
    planned_ml_h: Decimal | None
    planned_step: int | None
    actual_ml: Decimal
    planned_ml: Decimal
    reason: str = ""

    @property
    def above(self) -> bool:
        return self.planned_ml_h is not None and self.actual_ml_h > self.planned_ml_h + Decimal(
            "0.05"
        )


# The events that change what the pump delivers (``pump_changes`` reads no others).
PUMP_KINDS = (EventKind.RATE_CHANGE, EventKind.PAUSE, EventKind.RESUME, EventKind.STOP)


def pump_changes(events: Iterable[InfusionEvent], infusion: Infusion) -> list[tuple[Any, ...]]:
    """(event, minute, pump mL/h) for every rate change, pause (0), resume (last rate), stop."""
    out: list[tuple[Any, ...]] = []
    last = Decimal(0)
    for event in events:
        minute = minutes_since_start(infusion, event.at)
        if event.kind == EventKind.RATE_CHANGE:
            last = Decimal(str(event.data["pump_rate_ml_h"]))
            out.append((event, minute, last))
        elif event.kind in (EventKind.PAUSE, EventKind.STOP):
            out.append((event, minute, Decimal(0)))
        elif event.kind == EventKind.RESUME:
            out.append((event, minute, last))
    return out


@dataclass
class VitalsCheck:
    code: str
    words: str
    at: datetime
    status: str
    taken_at: datetime | None
    source: str


def vitals_checks(
    infusion: Infusion,
    now: datetime | None = None,
    pump_events: Iterable[InfusionEvent] | None = None,
) -> list[VitalsCheck]:
    """When vital signs are due for this infusion (``infusion_day.vitals_checkpoints``): before,
    at 15 min, after each rate increase, hourly while steady, at completion and after; each
    done, due now, missed (a gap) or upcoming. ``pump_events``: the infusion's standing entries
    (``current_events``) when the caller has read them already, its pump entries among them."""
    from django.utils.translation import gettext as _

    words = {
        "before": _("before the start"),
        "at_15_min": _("15 minutes after the start"),
        "rate_increase": _("after the rate increase"),
        "steady": _("hourly while the rate is steady"),
        "completion": _("at the end"),
        "after": _("30 to 60 minutes after the end"),
    }
    increases = []
    last = Decimal(0)
    if pump_events is None:
        pump_events = infusion.current_events(PUMP_KINDS)
    pumped = [e for e in pump_events if e.kind in PUMP_KINDS]
    for event, minute, rate in pump_changes(pumped, infusion):
        if event.kind == EventKind.RATE_CHANGE and rate > last and minute > 0:
            increases.append(minute)
        if event.kind != EventKind.PAUSE:
            last = rate
    end = minutes_since_start(infusion, infusion.ended_at) if infusion.ended_at else None
    now = now or timezone.now()
    now_min = minutes_since_start(infusion, now)
    start = infusion.started_at
    vitals = _vitals_that_matter(infusion, increases, end, infusion.ended_at or now)

    def moment(minute: Decimal) -> datetime:
        return start + timedelta(minutes=float(minute))

    return [
        VitalsCheck(
            p.code,
            words.get(p.code, p.code),
            moment(p.due_min),
            p.status,
            moment(p.taken_min) if p.taken_min is not None else None,
            p.source,
        )
        for p in infusion_day.vitals_checkpoints(vitals, increases, end, now_min)
    ]


LOOKUPS_PER_QUERY = 400  # lookups sent together (rows of one VALUES list)
_MARGIN = timedelta(milliseconds=1)  # a minute turned into a time is off by far less


def _vitals_that_matter(
    infusion: Infusion, increases: list[Decimal], end: Decimal | None, stop: datetime
) -> list[Decimal]:
    """The readings (minutes) that decide the vitals schedule, as
    ``infusion_day.vitals_readings_that_matter`` states them, looked up through the
    (infusion, kind, at) index in one query: the first reading at or after each window's
    start, and the first and last reading of each hour-long stretch from the start to
    ``stop``. Rows read grow with the hours and the rate increases, not with the readings
    (a long day has thousands)."""
    start = infusion.started_at
    lows = infusion_day.vitals_window_starts(increases, end)
    lookups: list[tuple[str, datetime, datetime, datetime]] = []  # (order, from, before, until)
    for low in lows:
        lookups.append(("ASC", _moment(start, low) - _MARGIN, datetime.max, datetime.max))
    # stretches no longer than the steady interval (whole microseconds, rounded down)
    width = timedelta(microseconds=int(infusion_day.steady_every_min() * 60_000_000))
    lo = start
    while lo <= stop:
        lookups += [("ASC", lo, lo + width, stop), ("DESC", lo, lo + width, stop)]
        lo += width
    found: list[datetime | None] = []
    for n in range(0, len(lookups), LOOKUPS_PER_QUERY):
        found += _first_times(infusion, lookups[n : n + LOOKUPS_PER_QUERY])
    keep = {minutes_since_start(infusion, at) for at in found if at is not None}
    for low, at in zip(lows, found, strict=False):
        if at is not None and minutes_since_start(infusion, at) < low:
            # rare: a reading within the margin before the window: read on to the first inside
            later = (
                infusion.events.filter(kind=EventKind.VITALS, corrections__isnull=True, at__gte=at)
                .order_by("at")
                .values_list("at", flat=True)
            )
            keep.update(_first_minute_from(infusion, later, low))
    return sorted(keep)


def _first_times(
    infusion: Infusion, lookups: list[tuple[str, datetime, datetime, datetime]]
) -> list[datetime | None]:
    """For each (order, from, before, until): the earliest (ASC) or latest (DESC) time of a
    standing (not withdrawn) vitals entry with from <= at < before and at <= until. One
    statement: the lookups are the rows of a VALUES list, each answered through the
    (infusion, kind, at) index by the same two correlated subqueries (the earliest or the
    latest), so the database plans the statement once however many lookups it holds
    (PostgreSQL took about 0.1 ms to plan each of forty separate subqueries; the ORM takes
    longer to build such a statement than the database to answer it)."""
    from django.db import connection

    ops = connection.ops
    qn = ops.quote_name
    table = qn(InfusionEvent._meta.db_table)
    at = qn("at")

    def pick(order: str) -> str:  # v.column2..4: from, before, until
        return (
            f"(SELECT e.{at} FROM {table} e WHERE e.{qn('infusion_id')} = %s "
            f"AND e.{qn('kind')} = %s AND e.{at} >= v.column2 AND e.{at} < v.column3 "
            f"AND e.{at} <= v.column4 AND NOT {withdrawn_sql('e')} "
            f"ORDER BY e.{at} {order} LIMIT 1)"
        )

    params: list[Any] = [infusion.pk, EventKind.VITALS.value] * 2
    for n, (order, lo, before, until) in enumerate(lookups):
        params += [n, *(ops.adapt_datetimefield_value(_zoned(t, lo)) for t in (lo, before, until))]
        params.append(1 if order == "ASC" else 0)
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(lookups))
    statement = (  # VALUES columns are column1, column2, ... on SQLite and PostgreSQL alike
        f"SELECT v.column1, CASE WHEN v.column5 = 1 THEN {pick('ASC')} ELSE {pick('DESC')} END "
        f"FROM (VALUES {rows}) AS v ORDER BY v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    return [_as_time(value, connection) for _n, value in found]


def _zoned(value: datetime, like: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo or UTC)


def _as_time(value: Any, connection: Any) -> datetime | None:
    """A time read by raw SQL as the ORM reads it (SQLite gives text, PostgreSQL a time)."""
    from django.utils.dateparse import parse_datetime

    if value is None:
        return None
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        raise ValueError(f"not a time: {value!r}")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, connection.timezone)
    return moment


def _first_minute_from(
    infusion: Infusion, times: QuerySet[Any, datetime], low: Decimal
) -> list[Decimal]:
    for at in times.iterator(chunk_size=10):
        minute = minutes_since_start(infusion, at)
        if minute >= low:
            return [minute]
    return []


def _moment(start: datetime, minute: Decimal) -> datetime:
    try:
        return start + timedelta(minutes=float(minute))
    except OverflowError:  # beyond any stored time
        return (datetime.max if minute > 0 else datetime.min + _MARGIN).replace(tzinfo=start.tzinfo)


def infused_ml(infusion: Infusion, until: datetime) -> Decimal | None:
    """Volume the logged pump rates delivered from the start to ``until``; None when no rate
    was logged (then the volume must be typed from the pump)."""
    changes = pump_changes(infusion.current_events(PUMP_KINDS), infusion)
    if not any(e.kind == EventKind.RATE_CHANGE for e, _m, _r in changes):
        return None
    pairs = [(minute, rate) for _e, minute, rate in changes]
    return delivered_ml(pairs, minutes_since_start(infusion, until))


def timeline(infusion: Infusion, now: datetime | None = None) -> list[TimelineRow]:
    snapshot = infusion.snapshot
    changes = pump_changes(infusion.current_events(PUMP_KINDS), infusion)
    pairs = [(minute, rate) for _e, minute, rate in changes]
    end = infusion.ended_at or now or timezone.now()
    end_minute = minutes_since_start(infusion, end)
    delivered = delivered_ml_at(pairs, [minute for _e, minute, _r in changes] + [end_minute])
    rows = []
    for (event, minute, rate), actual_ml in zip(changes, delivered, strict=False):
        step = planned_step_at(snapshot, infusion.day, minute)
        rows.append(
            TimelineRow(
                at=event.at,
                minute=minute,
                what=event.get_kind_display(),
                actual_ml_h=rate,
                planned_ml_h=step.rate_ml_h if step and event.kind != EventKind.STOP else None,
                planned_step=step.step if step else None,
                actual_ml=actual_ml,
                planned_ml=planned_cumulative_ml(snapshot, infusion.day, minute),
                reason=str(event.data.get("reason", "")),
            )
        )
    rows.append(
        TimelineRow(
            at=end,
            minute=end_minute,
            what="end" if infusion.ended_at else "now",
            actual_ml_h=pairs[-1][1] if pairs else Decimal(0),
            planned_ml_h=None,
            planned_step=None,
            actual_ml=delivered[-1],
            planned_ml=planned_cumulative_ml(snapshot, infusion.day, end_minute),
        )
    )
    return rows


def chart_day(infusion: Infusion) -> dict[str, Any] | None:
    """The plan's day with the actual pump rates as extra data (for a chart)."""
    steps = planned_steps(infusion.snapshot, infusion.day)
    return {"steps": steps} if steps else None


# --- History


@dataclass
class InfusionSummary:
    infusion: Infusion
    brand: str
    product_id: str
    dose_g: Any
    lots: list[str]
    highest_ml_h: Decimal | None
    highest_ml_kg_h: Decimal | None
    reactions: list[dict[str, Any]] = field(default_factory=list)
    given_g: str | None = None  # from the stop entry (volume infused x concentration)
    volume_infused_ml: str | None = None

    @property
    def given_words(self) -> str:
        """Grams actually given, for the history: "unknown" until the stop records a volume."""
        if self.given_g is not None:
            return self.given_g
        return "running" if self.infusion.ended_at is None else "unknown"

    @property
    def worst_level(self) -> str:
        levels = [r["level"] for r in self.reactions]
        for level in ("emergency", "call_doctor", "expected"):
            if level in levels:
                return level
        return ""


def summarise(
    infusion: Infusion, events: Sequence[InfusionEvent | SummaryEvent] | None = None
) -> InfusionSummary:
    """What one infusion came to; ``events`` are its current events when already fetched."""
    snapshot = infusion.snapshot
    product = snapshot.get("product") or {}
    day: dict[str, Any] = next(
        (d for d in snapshot.get("days", []) if d.get("day") == infusion.day), {}
    )
    if events is None:
        events = without_withdrawn(summary_events([infusion.pk]))
    rates = [e.data for e in events if e.kind == EventKind.RATE_CHANGE]
    lots = [
        "{} {} (exp. {})".format(
            e.data.get("brand", ""), e.data.get("lot_number", ""), e.data.get("expiry", "")
        )
        for e in events
        if e.kind == EventKind.VIAL
    ]
    reactions = [
        {
            "at": e.at,
            "symptoms": e.data.get("symptom_words", []),
            "level": e.data.get("triage", {}).get("level", ""),
            "heading": e.data.get("triage", {}).get("heading", ""),
        }
        for e in events
        if e.kind == EventKind.SYMPTOM
    ] + [
        # vital signs beyond a cited bound or a fever are reactions too
        {
            "at": e.at,
            "symptoms": [str(v) for k, v in e.data.items() if k not in ("signs", "triage") and v],
            "level": e.data["triage"].get("level", ""),
            "heading": e.data["triage"].get("heading", ""),
        }
        for e in events
        if e.kind == EventKind.VITALS
        and (e.data.get("triage") or {}).get("level") in ("call_doctor", "emergency")
    ]
    reactions.sort(key=lambda r: r["at"])
    stops = [e for e in events if e.kind == EventKind.STOP]
    stop_data = stops[-1].data if stops else {}
    return InfusionSummary(
        infusion=infusion,
        brand=str(product.get("brand", "")),
        product_id=str(product.get("id", "")),
        dose_g=day.get("dose_g"),
        lots=lots,
        highest_ml_h=max((Decimal(str(r["pump_rate_ml_h"])) for r in rates), default=None),
        highest_ml_kg_h=max((Decimal(str(r["rate_ml_kg_h"])) for r in rates), default=None),
        reactions=reactions,
        given_g=stop_data.get("given_g"),
        volume_infused_ml=stop_data.get("volume_infused_ml"),
    )


# The kinds of event a summary reads (corrections withdraw them); vitals and the rest are not.
SUMMARY_KINDS = (
    EventKind.RATE_CHANGE,
    EventKind.VIAL,
    EventKind.SYMPTOM,
    EventKind.STOP,
    EventKind.CORRECTION,
)


def summaries(
    infusions: Iterable[Infusion], known: Iterable[Approval] = ()
) -> list[InfusionSummary]:
    """``summarise`` for many infusions in two queries, whatever their number: the approvals
    (each snapshot read once, not once per infusion; none of the ``known`` ones the caller
    already read) and every event of them at once (``history_sql.summary_events``: the
    events ``summary_events`` reads, in one statement)."""
    items = list(infusions)
    approvals = {a.pk: a for a in known}
    missing = {i.approval_id for i in items} - set(approvals)
    if missing:
        approvals.update(Approval.objects.in_bulk(missing))
    for item in items:
        item.approval = approvals[item.approval_id]
    events: dict[int, list[SummaryEvent]] = {i.pk: [] for i in items}
    ids = [i.pk for i in items]
    for event in history_sql.summary_events(ids, SUMMARY_KINDS, REACTION_LEVELS):
        events[event.infusion_id].append(event)
    return [summarise(item, without_withdrawn(events[item.pk])) for item in items]


# Vital signs count as a reaction at these triage levels (as symptom reports at any level).
REACTION_LEVELS = ("call_doctor", "emergency")


def summary_events(infusion_ids: list[int]) -> list[InfusionEvent]:
    """The events a summary reads, in time order: not the thousands of routine vitals of a long
    day, only the vitals that were a reaction. Two reads, each through its index (the kinds
    by (infusion, kind, at), the reactions by the stored triage level), sorted here."""
    events = list(
        InfusionEvent.objects.filter(kind__in=SUMMARY_KINDS, infusion__in=infusion_ids).order_by()
    )
    if EventKind.VITALS not in SUMMARY_KINDS:
        events += InfusionEvent.objects.filter(
            kind=EventKind.VITALS, triage_level__in=REACTION_LEVELS, infusion__in=infusion_ids
        ).order_by()
    return sorted(events, key=lambda e: (e.at, e.pk))


def patient_history(
    patient: Patient, start: date | None = None, end: date | None = None
) -> list[InfusionSummary]:
    infusions = (
        Infusion.objects.filter(patient=patient)
        .prefetch_related(
            Prefetch(
                "checkins",
                queryset=CheckIn.objects.prefetch_related("answers").order_by("due_at", "pk"),
            )
        )
        .order_by("started_at", "pk")
    )
    if start:
        infusions = infusions.filter(started_at__date__gte=start)
    if end:
        infusions = infusions.filter(started_at__date__lte=end)
    return summaries(infusions)


def doses(patient: Patient) -> list[tuple[date, Any, str]]:
    """(date, planned dose in g, brand) of every infusion of the patient, oldest first, as
    ``summarise`` gives them: the dose bars of the between-courses chart, read from the
    infusions and their approvals (each snapshot once), none of their events."""
    infusions = list(
        Infusion.objects.filter(patient=patient)
        .order_by("started_at", "pk")
        .values_list("started_at", "day", "approval_id")
    )
    snapshots = dict(
        Approval.objects.filter(pk__in={a for _t, _d, a in infusions}).values_list("pk", "snapshot")
    )
    result = []
    for started_at, day_number, approval_id in infusions:
        snapshot = dict(snapshots[approval_id])
        product = snapshot.get("product") or {}
        day: dict[str, Any] = next(
            (d for d in snapshot.get("days", []) if d.get("day") == day_number), {}
        )
        result.append((started_at.date(), day.get("dose_g"), str(product.get("brand", ""))))
    return result


@dataclass
class BrandRecord:
    brand: str
    infusions: int = 0
    tolerated_ml_kg_h: Decimal | None = None  # highest rate on an infusion without a reaction
    reactions: int = 0


def brand_records(history: Iterable[InfusionSummary]) -> list[BrandRecord]:
    brands: dict[str, BrandRecord] = {}
    for item in history:
        record_ = brands.setdefault(item.brand, BrandRecord(item.brand))
        record_.infusions += 1
        reacted = item.worst_level in ("call_doctor", "emergency")
        if reacted:
            record_.reactions += 1
        elif item.highest_ml_kg_h is not None:
            best = record_.tolerated_ml_kg_h
            record_.tolerated_ml_kg_h = (
                max(best, item.highest_ml_kg_h) if best else (item.highest_ml_kg_h)
            )
    return list(brands.values())


MAX_LISTED = 500  # ids passed as query parameters at most (SQLite allows a few thousand)


def _brand(snapshot: Any) -> Any:
    """``snapshot__product__brand`` of an approval already read (None where it is missing)."""
    product = snapshot.get("product") if isinstance(snapshot, dict) else None
    return product.get("brand") if isinstance(product, dict) else None


def brand_summary(
    patient: Patient, known: Iterable[Approval] = (), plans: Iterable[dict[str, Any]] | None = None
) -> list[BrandRecord]:
    """``brand_records`` of every infusion of the patient, aggregated by the database: a row
    per approved plan (infusions; the highest rate of those without a reaction) or per
    infusion with a reaction, so the infusions page reads a few rows however long
    the history is (the brands of the ``known`` approvals the caller read are not asked again).
    The same figures as ``brand_records(patient_history(patient))``
    (tests/web/test_infusions_summary_fast.py). ``plans``: the patient's infusions counted
    by plan (or finer, e.g. by plan and day) when the caller has read them: rows of
    ``approval_id``, ``count`` and ``first`` (the first start)."""
    if plans is None:
        plans = (
            Infusion.objects.filter(patient=patient)
            .order_by()
            .values("approval_id")
            .annotate(count=Count("pk"), first=Min("started_at"))
        )
    by_plan: dict[int, dict[str, Any]] = {}
    for row in plans:
        seen = by_plan.get(row["approval_id"])
        if seen is None:
            by_plan[row["approval_id"]] = {**row}
        else:
            seen["count"] += row["count"]
            seen["first"] = min(seen["first"], row["first"])
    plan_rows = list(by_plan.values())
    if not plan_rows:
        return []
    # the infusions with a reaction not withdrawn (usually a few): read once, then left out
    # of the rates (a patient who reacts often: asked again by the database)
    reacted_infusions = history_sql.reacted_infusions(patient.pk, REACTION_LEVELS)
    reacted: dict[int, int] = {}
    for approval_id in reacted_infusions.values():
        reacted[approval_id] = reacted.get(approval_id, 0) + 1
    without = list(reacted_infusions) if len(reacted_infusions) <= MAX_LISTED else None
    tolerated = history_sql.tolerated_rates(patient.pk, without, REACTION_LEVELS)
    brands = {a.pk: _brand(a.snapshot) for a in known}
    missing = [p["approval_id"] for p in plan_rows if p["approval_id"] not in brands]
    if missing:
        brands.update(
            Approval.objects.filter(pk__in=missing).values_list("pk", "snapshot__product__brand")
        )
    # brands in the order of their first infusion (by time, then pk, as the history runs)
    firsts = [p["first"] for p in plan_rows]
    tied = {t for t in firsts if firsts.count(t) > 1}
    first_pk: dict[tuple[int, Any], int] = {}
    if tied:  # two plans' first infusions at the same moment: the lower pk comes first
        for approval_id, started_at, pk in (
            Infusion.objects.filter(patient=patient, started_at__in=tied)
            .order_by("pk")
            .values_list("approval_id", "started_at", "pk")
        ):
            first_pk.setdefault((approval_id, started_at), pk)
    plan_rows.sort(key=lambda p: (p["first"], first_pk.get((p["approval_id"], p["first"]), 0)))
    result: dict[str, BrandRecord] = {}
    for plan in plan_rows:
        approval_id = plan["approval_id"]
        brand = brands.get(approval_id)
        name = "" if brand is None else str(brand)
        item = result.setdefault(name, BrandRecord(name))
        item.infusions += plan["count"]
        item.reactions += reacted.get(approval_id, 0)
        top = tolerated.get(approval_id)
        if top is not None:
            best = item.tolerated_ml_kg_h
            item.tolerated_ml_kg_h = top if best is None else max(best, top)
    return list(result.values())


def brand_change(
    patient: Patient, snapshot: dict[str, Any], latest: Infusion | bool | None = True
) -> str | None:
    """The brand last infused, when the plan's brand differs from it (start low again).
    ``latest`` is the patient's latest infusion when the caller has read it already (None:
    there is none); by default it is looked up."""
    if latest is True:
        last = (
            Infusion.objects.filter(patient=patient)
            .order_by("-started_at", "-pk")
            .values_list("approval__snapshot__product", flat=True)  # not the whole snapshot
            .first()
        )
    elif isinstance(latest, Infusion):
        last = latest.snapshot.get("product")
    else:
        return None
    if last is None:
        return None
    product = last if isinstance(last, dict) else {}
    before = product.get("id")
    now = (snapshot.get("product") or {}).get("id")
    if before and now and before != now:
        return str(product.get("brand", before))
    return None


def summary_csv(patient: Patient, history: list[InfusionSummary]) -> str:
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(
        [
            "date",
            "day",
            "product",
            "planned_dose_g",
            "given_dose_g",
            "volume_infused_ml",
            "lots",
            "highest_rate_ml_h",
            "highest_rate_ml_kg_h",
            "reactions",
            "worst_triage_level",
            "checkins_answered",
            "checkin_triage",
        ]
    )
    for item in history:
        checkins = answered_checkins(item.infusion)
        writer.writerow(
            [
                timezone.localtime(item.infusion.started_at).strftime("%Y-%m-%d %H:%M"),
                item.infusion.day,
                item.brand,
                item.dose_g if item.dose_g is not None else "",
                item.given_words,
                item.volume_infused_ml or "",
                "; ".join(item.lots),
                fmt(item.highest_ml_h, 1) if item.highest_ml_h is not None else "",
                fmt(item.highest_ml_kg_h, 3) if item.highest_ml_kg_h is not None else "",
                "; ".join(f"{', '.join(r['symptoms'])} -> {r['level']}" for r in item.reactions),
                item.worst_level,
                sum(len(c.answer_list()) for c in checkins),
                "; ".join(f"{c.label}: {highest_level(c)}" for c in checkins),
            ]
        )
    return out.getvalue()
