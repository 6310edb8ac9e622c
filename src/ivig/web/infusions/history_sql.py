"""What the patient's infusions page reads for its history table, its by-brand figures and its
start form, in hand-written SQL: the infusions counted by plan and day, a page of them, the
events their summaries read, the two aggregates of the brand figures, the approved plans.

Built through the ORM each statement cost more Python (about 0.3 ms to compile it and build
the model instances) than SQLite takes to answer it; here each is one statement that runs the
same on SQLite and PostgreSQL, through the same indexes, read back with Django's own
converters (``ivig.web.sql``). tests/web/test_infusions_list_fast.py and
tests/web/test_infusions_summary_fast.py check them against the ORM on both databases.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal
from typing import Any, NamedTuple

from django.db import connection

from ivig.web.infusions.live_log import withdrawn_sql
from ivig.web.infusions.models import (
    CheckIn,
    CheckInAnswer,
    EventKind,
    Infusion,
    InfusionEvent,
)
from ivig.web.plans.models import Approval, PlanVersion
from ivig.web.sql import SlicedRows, columns, field, instance, marks, quote, sql_rows

_INFUSIONS = Infusion._meta.db_table
_EVENTS = InfusionEvent._meta.db_table
_INFUSION_FIELDS, _ = columns(Infusion, "i")


def _built(builder: Callable[..., str], *shape: Any) -> str:
    """The text of a statement: ``builder(*shape)`` (``shape``: its numbers of parameters and
    such), written once for the database in use and kept (fixed text with its names quoted:
    what changes from one request to the next goes in the parameters). Writing it cost more
    Python than SQLite takes to answer some of these statements."""
    return _statement(connection.vendor, builder, shape)


@functools.lru_cache(maxsize=256)
def _statement(vendor: str, builder: Callable[..., str], shape: tuple[Any, ...]) -> str:
    return builder(*shape)


class InfusionPage(SlicedRows[Infusion]):
    """A patient's infusions, newest first (by start, then id), for a Django ``Paginator``:
    its length is given (the caller counted them), a slice is one statement."""

    def __init__(self, patient_id: int, count: int) -> None:
        self.patient_id = patient_id
        self.count_ = count

    def __len__(self) -> int:
        return self.count_

    def rows(self, first: int, last: int) -> list[Infusion]:
        sql = _built(_page_sql)
        rows = sql_rows(sql, [self.patient_id, last - first, first], _INFUSION_FIELDS)
        return [instance(Infusion, _INFUSION_FIELDS, row) for row in rows]


def _page_sql() -> str:
    _fields, selected = columns(Infusion, "i")
    return (
        f"SELECT {selected} FROM {quote(_INFUSIONS)} i WHERE i.{quote('patient_id')} = %s "
        f"ORDER BY i.{quote('started_at')} DESC, i.{quote('id')} DESC LIMIT %s OFFSET %s"
    )


@dataclass
class SummaryEvent:
    """The parts of an infusion event that a summary reads (``records.summarise``)."""

    pk: int
    infusion_id: int
    at: datetime
    kind: str
    data: Any
    corrects_id: int | None


def summary_events(
    infusion_ids: list[int], kinds: Sequence[str], reaction_levels: Sequence[str]
) -> list[SummaryEvent]:
    """The events of ``kinds`` of these infusions and their vital signs at ``reaction_levels``
    (as ``records.summary_events``), in time order: one statement, each half through its
    index (the kinds by (infusion, kind, at), the reactions by the stored triage level)."""
    if not infusion_ids:
        return []
    sql = _built(_summary_events_sql, len(infusion_ids), len(kinds), len(reaction_levels))
    params = [*infusion_ids, *kinds, *infusion_ids, EventKind.VITALS, *reaction_levels]
    at, data = field(InfusionEvent, "at"), field(InfusionEvent, "data")
    rows = sql_rows(sql, params, [None, None, at, None, data, None])
    events = [SummaryEvent(*row) for row in rows]
    return sorted(events, key=lambda e: (e.at, e.pk))


def _summary_events_sql(infusions: int, kinds: int, levels: int) -> str:
    columns = ", ".join(
        quote(c) for c in ("id", "infusion_id", "at", "kind", "data", "corrects_id")
    )
    ids = marks(infusions)
    return (
        f"SELECT {columns} FROM {quote(_EVENTS)} "
        f"WHERE {quote('infusion_id')} IN ({ids}) AND {quote('kind')} IN ({marks(kinds)}) "
        f"UNION ALL SELECT {columns} FROM {quote(_EVENTS)} "
        f"WHERE {quote('infusion_id')} IN ({ids}) AND {quote('kind')} = %s "
        f"AND {quote('triage_level')} IN ({marks(levels)})"
    )


def reacted_infusions(patient_id: int, levels: Sequence[str]) -> dict[int, int]:
    """{infusion id: its plan's approval id} of the patient's infusions with a symptom or
    vital signs at one of ``levels`` that no correction withdrew."""
    sql = _built(_reacted_sql, len(levels))
    params = [patient_id, EventKind.SYMPTOM, EventKind.VITALS, *levels]
    return {infusion: approval for infusion, approval in sql_rows(sql, params, [None, None])}


def _reacted_sql(levels: int) -> str:
    pk = quote("id")
    return (
        f"SELECT DISTINCT e.{quote('infusion_id')}, i.{quote('approval_id')} "
        f"FROM {quote(_EVENTS)} e "
        f"JOIN {quote(_INFUSIONS)} i ON i.{pk} = e.{quote('infusion_id')} "
        f"WHERE i.{quote('patient_id')} = %s AND e.{quote('kind')} IN (%s, %s) "
        f"AND e.{quote('triage_level')} IN ({marks(levels)}) "
        f"AND NOT {withdrawn_sql('e')}"
    )


# Rates are stored as text with at most three decimals (``fmt(rate, 3)``): read as numbers
# with three decimals, as a Django DecimalField(max_digits=30, decimal_places=3) reads them.
_FLOAT = Context(prec=15)
_THOUSANDTH = Decimal("0.001")


def tolerated_rates(
    patient_id: int, without: Sequence[int] | None, levels: Sequence[str]
) -> dict[int, Decimal]:
    """{approval id: the highest mL/kg/h of its infusions' rate changes not withdrawn}, leaving
    out the infusions ``without`` (those with a reaction; None: those with a reaction at
    ``levels``, asked by the database, for a patient who reacts often)."""
    params: list[Any] = [patient_id, EventKind.RATE_CHANGE]
    if without is None:
        sql = _built(_tolerated_sql, None, len(levels))
        params += [EventKind.SYMPTOM, EventKind.VITALS, *levels]
    else:
        sql = _built(_tolerated_sql, len(without), 0)
        params += list(without)
    return {
        approval: _decimal(top)
        for approval, top in sql_rows(sql, params, [None, None])
        if top is not None
    }


def _tolerated_sql(without: int | None, levels: int) -> str:
    """``without``: the number of infusions left out by id (None: asked by the database)."""
    pk, infusion_id = quote("id"), quote("infusion_id")
    if without is None:
        leave_out = (
            f"AND NOT EXISTS (SELECT 1 FROM {quote(_EVENTS)} r WHERE r.{infusion_id} = "
            f"e.{infusion_id} AND r.{quote('kind')} IN (%s, %s) "
            f"AND r.{quote('triage_level')} IN ({marks(levels)}) AND NOT {withdrawn_sql('r')}) "
        )
    elif without:
        leave_out = f"AND e.{infusion_id} NOT IN ({marks(without)}) "
    else:
        leave_out = ""
    data = f"e.{quote('data')}"
    rate = (  # the text of the key, as Django's KeyTextTransform reads it
        f"JSON_EXTRACT({data}, '$.rate_ml_kg_h')"
        if connection.vendor == "sqlite"
        else f"({data} ->> 'rate_ml_kg_h')"
    )
    return (
        f"SELECT i.{quote('approval_id')}, MAX(CAST({rate} AS NUMERIC(30, 3))) "
        f"FROM {quote(_EVENTS)} e JOIN {quote(_INFUSIONS)} i ON i.{pk} = e.{infusion_id} "
        f"WHERE i.{quote('patient_id')} = %s AND e.{quote('kind')} = %s {leave_out}"
        f"AND NOT {withdrawn_sql('e')} "
        f"GROUP BY i.{quote('approval_id')}"
    )


def _decimal(value: Any) -> Decimal:
    """A number from the database as three decimals (SQLite answers a float or an integer,
    PostgreSQL a Decimal), as Django's DecimalField converters do."""
    if isinstance(value, float):
        value = _FLOAT.create_decimal_from_float(value)
    return Decimal(value).quantize(_THOUSANDTH)


def infusion_groups(patient_id: int) -> list[dict[str, Any]]:
    """The patient's infusions counted by plan (approval) and day: ``approval_id``, ``day``,
    ``count``, ``first`` (the first start), ``last_end`` (the last end, None when none has
    ended), ``running`` and ``running_at`` (the id and start of the one still running, a
    patient has one at most; None when none). A few rows however many infusions."""
    sql = _built(_groups_sql)
    at, end = field(Infusion, "started_at"), field(Infusion, "ended_at")
    names = ("approval_id", "day", "count", "first", "last_end", "running", "running_at")
    rows = sql_rows(sql, [patient_id], [None, None, None, at, end, None, at])
    return [dict(zip(names, row, strict=True)) for row in rows]


def _groups_sql() -> str:
    started, ended, pk = quote("started_at"), quote("ended_at"), quote("id")
    running = f"CASE WHEN {ended} IS NULL THEN"
    return (
        f"SELECT {quote('approval_id')}, {quote('day')}, COUNT(*), MIN({started}), MAX({ended}), "
        f"MAX({running} {pk} END), MAX({running} {started} END) "
        f"FROM {quote(_INFUSIONS)} WHERE {quote('patient_id')} = %s "
        f"GROUP BY {quote('approval_id')}, {quote('day')}"
    )


def startable_approvals(patient_id: int) -> tuple[list[Approval], dict[int, list[PlanVersion]]]:
    """The approvals of the patient's plan versions not archived, newest first, each with its
    version (as ``Approval.objects.filter(plan_version__patient=…,
    plan_version__archived_at__isnull=True).select_related("plan_version")``), and
    {version id: the versions that replace it, newest first} (``superseded_by``, for
    ``plans.approval.start_choices``): two statements."""
    approval_fields, _ = columns(Approval, "a")
    version_fields, _ = columns(PlanVersion, "v")
    sql = _built(_approvals_sql)
    split = len(approval_fields)
    approvals = []
    versions: dict[int, PlanVersion] = {}
    for row in sql_rows(sql, [patient_id], [*approval_fields, *version_fields]):
        approval = instance(Approval, approval_fields, row[:split])
        version = versions.get(row[split]) or instance(PlanVersion, version_fields, row[split:])
        versions[version.pk] = version
        approval.plan_version = version
        approvals.append(approval)
    replacing: dict[int, list[PlanVersion]] = {pk: [] for pk in versions}
    if versions:
        sql = _built(_replacing_sql, len(versions))
        for row in sql_rows(sql, list(versions), version_fields):
            newer = instance(PlanVersion, version_fields, row)
            if newer.supersedes_id is not None:  # (always: it is what was asked)
                replacing[newer.supersedes_id].append(newer)
    return approvals, replacing


def _approvals_sql() -> str:
    _fields, approval_columns = columns(Approval, "a")
    _fields, version_columns = columns(PlanVersion, "v")
    pk = quote("id")
    return (
        f"SELECT {approval_columns}, {version_columns} FROM {quote(Approval._meta.db_table)} a "
        f"JOIN {quote(PlanVersion._meta.db_table)} v ON v.{pk} = a.{quote('plan_version_id')} "
        f"WHERE v.{quote('patient_id')} = %s AND v.{quote('archived_at')} IS NULL "
        f"ORDER BY a.{quote('approved_at')} DESC, a.{pk} DESC"
    )


def _replacing_sql(versions: int) -> str:
    _fields, version_columns = columns(PlanVersion, "v")
    return (
        f"SELECT {version_columns} FROM {quote(PlanVersion._meta.db_table)} v "
        f"WHERE v.{quote('supersedes_id')} IN ({marks(versions)}) "
        f"ORDER BY v.{quote('created_at')} DESC, v.{quote('id')} DESC"
    )


class AnswerLine(NamedTuple):
    """What the infusions page shows of a check-in answer (not its report or whole triage)."""

    pk: int
    answered_at: datetime
    level: str
    heading: str | None


@dataclass
class CheckInLine:
    """What the infusions page shows of a check-in (its title, due time and link; not what to
    ask about or the tiers), with ``answer_lines`` (its answers, oldest first) for the newest."""

    pk: int
    infusion_id: int
    patient_id: int
    due_at: datetime
    hours_after_end: Decimal
    label: str
    answer_lines: list[AnswerLine] = dataclasses.field(default_factory=list)


_CHECKIN_READ = ("id", "infusion_id", "patient_id", "due_at", "hours_after_end", "label")


def _key_text_sql(column: str) -> str:
    """SQL for the text of a key (``_key_text_params``) in the JSON ``column``, as Django's
    ``KT`` writes it."""
    if connection.vendor == "sqlite":
        return (
            f"(CASE WHEN JSON_TYPE({column}, %s) IN ('null', 'true', 'false') "
            f"THEN JSON_TYPE({column}, %s) ELSE JSON_EXTRACT({column}, %s) END)"
        )
    return f"({column} ->> %s)"


def _key_text_params(key: str) -> list[str]:
    """The parameters of ``_key_text_sql`` for ``key``."""
    if connection.vendor == "sqlite":
        return [f'$."{key}"'] * 3
    return [key]


def checkins_shown(
    patient_id: int, limit: int, now: datetime, overdue_limit: int
) -> tuple[list[CheckInLine], dict[int, int], list[CheckInLine]]:
    """The patient's newest ``limit`` check-ins (by due time, then id), newest first, each with
    ``answer_lines`` (its answers' ``AnswerLine``, oldest first); {check-in id: the approval
    id of its infusion's plan}; and the newest ``overdue_limit`` overdue check-ins (due by
    ``now``, never answered: ``records.overdue_checkins``), newest first. One statement: the
    newest check-ins with their answers, and the overdue ones read backwards from ``now``
    through the (patient, due) index."""
    fields = [field(CheckIn, name) for name in _CHECKIN_READ]
    heading_params = _key_text_params("heading")
    sql = _built(_checkins_sql)
    params = [*heading_params, patient_id, limit, patient_id, now, overdue_limit]
    answered_at = field(CheckInAnswer, "answered_at")
    rows = sql_rows(sql, params, [None, *fields, None, None, answered_at, None, None])
    newest: dict[int, CheckInLine] = {}
    overdue: list[CheckInLine] = []
    approval_of: dict[int, int] = {}
    split = len(fields)
    for part, *row in rows:
        values, rest = row[:split], row[split:]
        if part == 1:
            overdue.append(CheckInLine(*values))
            continue
        pk = values[0]
        if pk not in newest:
            newest[pk] = CheckInLine(*values)
            approval_of[pk] = rest[0]
        if rest[1] is not None:
            newest[pk].answer_lines.append(AnswerLine(*rest[1:]))
    for checkin in newest.values():
        checkin.answer_lines.sort(key=lambda a: (a.answered_at, a.pk))
    by_due = sorted(newest.values(), key=lambda c: (c.due_at, c.pk), reverse=True)
    overdue.sort(key=lambda c: (c.due_at, c.pk), reverse=True)
    return by_due, approval_of, overdue


def _checkins_sql() -> str:
    checkins, answers, infusions = (
        quote(CheckIn._meta.db_table),
        quote(CheckInAnswer._meta.db_table),
        quote(_INFUSIONS),
    )
    fields = [field(CheckIn, name) for name in _CHECKIN_READ]
    columns = ", ".join(f"c.{quote(f.column)}" for f in fields)
    outer = ", ".join(f"n.{quote(f.column)}" for f in fields)
    newest_first = f"ORDER BY c.{quote('due_at')} DESC, c.{quote('id')} DESC LIMIT %s"
    heading = _key_text_sql(f"a.{quote('triage')}")
    nulls = ", ".join(["NULL"] * 5)
    return (
        f"SELECT 0, {outer}, i.{quote('approval_id')}, a.{quote('id')}, "
        f"a.{quote('answered_at')}, a.{quote('level')}, {heading} "
        f"FROM (SELECT {columns} FROM {checkins} c WHERE c.{quote('patient_id')} = %s "
        f"{newest_first}) n "
        f"JOIN {infusions} i ON i.{quote('id')} = n.{quote('infusion_id')} "
        f"LEFT JOIN {answers} a ON a.{quote('checkin_id')} = n.{quote('id')} "
        f"UNION ALL SELECT 1, {outer}, {nulls} "
        f"FROM (SELECT {columns} FROM {checkins} c WHERE c.{quote('patient_id')} = %s "
        f"AND c.{quote('due_at')} <= %s AND NOT EXISTS (SELECT 1 FROM {answers} a "
        f"WHERE a.{quote('checkin_id')} = c.{quote('id')}) {newest_first}) n"
    )
