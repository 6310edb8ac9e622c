"""Readable change history from django-simple-history: who, when, field before → after."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from html import escape  # what Django's escape does, without marking each piece safe
from typing import Any

from django.db import connection, models
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from ivig.web import sql
from ivig.web.accounts.models import User
from ivig.web.patients.models import condition_words, format_decimal
from ivig.web.ui.words import when

# Bookkeeping fields that say nothing a reader needs.
_SKIPPED = {"id", "created_at", "recorded_at", "approved_at"}


@dataclass
class Part:
    """One changed item inside a structured field (an order document, a snapshot, answers)."""

    path: str
    before: str
    after: str


@dataclass
class Change:
    field: str
    before: str
    after: str
    parts: list[Part] = dataclasses.field(default_factory=list)  # structured (JSON) fields

    @property
    def collapsed(self) -> bool:
        """Long lists of parts start folded (the page stays short on a phone)."""
        return len(self.parts) > PARTS_SHOWN_OPEN


# Design choice: a structured change with more items than this starts collapsed.
PARTS_SHOWN_OPEN = 6


def _scalar(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float | Decimal):
        return format_decimal(Decimal(str(value)))
    return str(value)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A nested JSON value as readable "path: value" pairs ("order › titration › 2 › rate")."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = "—"
        for key, item in value.items():
            name = str(key).replace("_", " ")
            out.update(flatten(item, f"{prefix} › {name}" if prefix else name))
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        for index, item in enumerate(value, start=1):
            out.update(flatten(item, f"{prefix} › {index}" if prefix else str(index)))
    elif isinstance(value, list):
        out[prefix or "—"] = ", ".join(_scalar(item) for item in value) or "—"
    else:
        out[prefix or "—"] = _scalar(value)
    return out


def json_parts(before: Any, after: Any) -> list[Part]:
    """What changed between two JSON values, item by item (only the items that differ)."""
    old = flatten(before) if before not in (None, "") else {}
    new = flatten(after) if after not in (None, "") else {}
    return [
        Part(path=path, before=old.get(path, "—"), after=new.get(path, "—"))
        for path in list(dict.fromkeys([*old, *new]))
        if old.get(path) != new.get(path)
    ]


@dataclass
class Entry:
    when: datetime
    who: str
    what: str  # e.g. "Measurement: 20.4 kg"
    action: str  # created / changed / deleted, in words
    created: bool
    changes: list[Change] = field(default_factory=list)

    def html(self) -> SafeString:
        """The entry as an <article>: built here rather than in template loops, which cost
        about a microsecond a node (an approval's snapshot alone has about a hundred items)."""
        out = [
            f'<article class="history-entry">\n<p><strong>{escape(self.what)}</strong> – '
            f'{escape(self.action)}<br>\n<span class="muted">{escape(when(self.when))} · '
            f"{escape(self.who)}</span></p>\n"
        ]
        if self.changes:
            out.append("<ul>\n")
            for change in self.changes:
                if change.parts:
                    count = len(change.parts)
                    summary = ngettext(
                        "%(field)s: %(counter)s item", "%(field)s: %(counter)s items", count
                    ) % {"field": escape(change.field), "counter": escape(formats.localize(count))}
                    out.append(
                        f"<li><details{'' if change.collapsed else ' open'}><summary>{summary}"
                        '</summary>\n<ul class="history-parts" translate="no">'
                    )
                    out.extend(
                        f"<li>{escape(part.path)}: {self._before(part.before)}"
                        f"{escape(part.after)}</li>"
                        for part in change.parts
                    )
                    out.append("</ul></details></li>\n")
                else:
                    out.append(
                        f"<li>{escape(change.field)}: {self._before(change.before)}"
                        f"{escape(change.after)}</li>\n"
                    )
            out.append("</ul>\n")
        out.append("</article>\n")
        return mark_safe("".join(out))

    def _before(self, value: str) -> str:
        """The old value, struck through, then an arrow; nothing for a new record."""
        return "" if self.created else f'<span class="before">{escape(value)}</span> → '


@functools.cache
def _historical(model: type[models.Model]) -> Any:
    """The historical records' manager (simple-history's ``model.history`` builds one a call)."""
    return model.history.model._default_manager  # type: ignore[attr-defined]


@functools.cache
def _label(model: type[models.Model], name: str, language: str | None) -> str:
    """A field's name in words, in ``language`` (the active one; fixed for the process)."""
    return str(model._meta.get_field(name).verbose_name).capitalize()  # type: ignore[union-attr]


@functools.cache
def _choices(model: type[models.Model], name: str, language: str | None) -> dict[Any, str]:
    """A field's choices in words, in ``language`` (the active one; fixed for the process)."""
    model_field: Any = model._meta.get_field(name)
    return {value: str(words) for value, words in model_field.flatchoices}


def _display(
    model: type[models.Model], name: str, value: Any, users: dict[int, str], language: str | None
) -> str:
    if value is None or value == "" or value == []:
        return "—"
    model_field: Any = model._meta.get_field(name)
    if name == "conditions" and isinstance(value, list):
        return ", ".join(condition_words(str(code)) for code in value)
    if getattr(model_field, "choices", None):
        return _choices(model, name, language).get(value, str(value))
    if isinstance(model_field, models.ForeignKey):
        related: Any = model_field.related_model
        if related is not None and related._meta.label == "accounts.User":
            return users.get(int(value), f"#{value}")
        return f"#{value}"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@functools.cache
def _fields(model: type[models.Model]) -> tuple[Any, ...]:
    return tuple(f for f in model._meta.concrete_fields if f.name not in _SKIPPED)


def _changed_fields(model: type[models.Model], record: Any, previous: Any) -> list[tuple[str, str]]:
    """(name, attname) of the fields this version shows: set ones when created, else changed."""
    shown = []
    for model_field in _fields(model):
        name, attname = model_field.name, model_field.attname
        after = getattr(record, attname)
        if previous is None and after in (None, "", [], {}):
            continue
        if previous is not None and getattr(previous, attname) == after:
            continue
        shown.append((name, attname))
    return shown


def _change(
    model: Any, name: str, attname: str, record: Any, previous: Any, users: Any, language: Any
) -> Change:
    label = _label(model, name, language)
    before_value = getattr(previous, attname) if previous is not None else None
    after_value = getattr(record, attname)
    if name != "conditions" and (
        isinstance(after_value, dict | list) or isinstance(before_value, dict | list)
    ):
        return Change(field=label, before="", after="", parts=json_parts(before_value, after_value))
    return Change(
        field=label,
        before=(
            _display(model, name, before_value, users, language) if previous is not None else "—"
        ),
        after=_display(model, name, after_value, users, language),
    )


def _entry(record: Any, previous: Any, users: dict[int, str], instance: Any = None) -> Entry:
    model = record.instance_type
    language = get_language()
    changes = [
        _change(model, name, attname, record, previous, users, language)
        for name, attname in _changed_fields(model, record, previous)
    ]
    change = record.history_type
    kind = _("created") if change == "+" else _("changed") if change == "~" else _("deleted")
    who = record.history_user_id
    return Entry(
        when=record.history_date,
        who=users.get(who, f"#{who}") if who is not None else _("the system"),
        what=f"{str(model._meta.verbose_name).capitalize()}: "
        f"{instance if instance is not None else record.instance}",
        action=kind,
        created=record.history_type == "+",
        changes=changes,
    )


@functools.cache
def _user_fields(model: type[models.Model]) -> list[tuple[str, str]]:
    """(name, attname) of the model's links to a person (shown by name in a change)."""
    return [
        (f.name, f.attname)
        for f in _fields(model)
        if isinstance(f, models.ForeignKey)
        and f.related_model is not None
        and f.related_model._meta.label == "accounts.User"  # type: ignore[union-attr]
    ]


# The FK an entry's title reads (Approval's title names its plan version): fetched once per page.
_TITLE_RELATIONS = {"plans.Approval": ["plan_version"]}


@functools.cache
def _union_sql(sources: tuple[tuple[type[models.Model], str], ...], vendor: str) -> str:
    """The keys (source, history_id, history_date, previous_id) of every source's entries."""
    return " UNION ALL ".join(
        f"SELECT {n} AS source, * FROM ({_visible_sql(model, where)}) AS s{n}"
        for n, (model, where) in enumerate(sources)
    )


def _visible_sql(model: type[models.Model], where: str) -> str:
    """SQL for the keys (history_id, history_date, previous_id) of ``model``'s historical
    records matching ``where`` that show as an entry: each record is compared with the previous
    version of the same object (by date, then history id) among those records — the same
    pairs and the same "saved without any visible change" rule as ``_changed_fields``.

    A change ("~") without a previous version shows the fields that are set; every source
    model has a required link (see tests/web/test_history_paging.py), so it always shows."""
    q = connection.ops.quote_name
    differs = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
    table = q(model.history.model._meta.db_table)  # type: ignore[attr-defined]
    changed = " OR ".join(
        f"later.{q(f.column)} {differs} earlier.{q(f.column)}" for f in _fields(model)
    )
    # Only a change ("~") is compared, field by field, with the version before it.
    return (
        "SELECT history_id, history_date, previous_id FROM ("
        "SELECT history_id, history_date, history_type, LAG(history_id) OVER ("
        f"PARTITION BY id ORDER BY history_date, history_id) AS previous_id FROM {table} "
        f"WHERE {where}) AS versions WHERE history_type <> '~' OR previous_id IS NULL OR EXISTS ("
        f"SELECT 1 FROM {table} AS later, {table} AS earlier "
        "WHERE later.history_id = versions.history_id "
        f"AND earlier.history_id = versions.previous_id AND ({changed}))"
    )


class Entries(sql.SlicedRows[Entry]):
    """A patient's entries newest first, each diffed against the previous version of the same
    object. Which records show, their order and their count are computed in SQL; a page reads
    only its own records and their previous versions (one query per kind of record), so a
    long history costs no more per page than a short one."""

    def __init__(self, sources: list[tuple[type[models.Model], str]], key: Any) -> None:
        """``sources``: (model, SQL condition on its historical records with one ``%s``,
        filled with ``key``), in the order that breaks ties on the date."""
        self.models = [model for model, _where in sources]
        self._sql = _union_sql(tuple(sources), connection.vendor)
        self._params = [key] * len(sources)
        self._count: int | None = None
        self._read: tuple[int, list[tuple[int, int, int | None]]] | None = None  # (start, keys)
        self._expected: tuple[int, int] | None = None

    def expect(self, start: int, stop: int) -> None:
        """The slice a page is about to ask for: its keys are then read with the count, in one
        query (a hint only: any other slice is read on its own)."""
        self._expected = (start, stop)

    def _keys(self, start: int, stop: int) -> list[tuple[int, int, int | None, int]]:
        """(source, history_id, previous_id, count of all entries) from ``start`` to ``stop``.
        Ties on the date keep the order of the full computation: by source, then history id."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT source, history_id, previous_id, COUNT(*) OVER () "
                f"FROM ({self._sql}) AS keys "
                "ORDER BY history_date DESC, source, history_id LIMIT %s OFFSET %s",
                [*self._params, stop - start, start],
            )
            rows: list[tuple[int, int, int | None, int]] = cursor.fetchall()
            return rows

    def __len__(self) -> int:
        if self._count is None and self._expected is not None:
            start, stop = self._expected
            if stop > start and (rows := self._keys(start, stop)):
                self._count = int(rows[0][3])
                self._read = (start, [row[:3] for row in rows])
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM ({self._sql}) AS keys", self._params)
                self._count = int(cursor.fetchone()[0])
        return self._count

    def rows(self, start: int, stop: int) -> list[Entry]:
        if self._read is not None:
            first, keys = self._read
            if first <= start and stop <= first + len(keys):
                return self._load(keys[start - first : stop - first])
        return self._load([row[:3] for row in self._keys(start, stop)])

    def _load(self, keys: list[tuple[int, int, int | None]]) -> list[Entry]:
        wanted: dict[int, set[int]] = {}
        for source, history_id, previous_id in keys:
            ids = wanted.setdefault(source, set())
            ids.add(history_id)
            if previous_id is not None:
                ids.add(previous_id)
        shown = {(source, history_id) for source, history_id, _p in keys}
        records: dict[tuple[int, int], Any] = {}
        instances: dict[tuple[int, int], Any] = {}
        people_ids: set[int] = set()
        for source, ids in wanted.items():
            model = self.models[source]
            relations = _TITLE_RELATIONS.get(model._meta.label, [])
            rows = (
                _historical(model).filter(history_id__in=ids).order_by().select_related(*relations)
                if relations
                else _historical_rows(model, ids)
            )
            for row in rows:
                records[source, row.history_id] = row
                # who made and who is named in each record: their names are read once below
                # (a page names a handful of people; a User per link per record cost more)
                people_ids.add(row.history_user_id)
                people_ids.update(getattr(row, attname) for _n, attname in _user_fields(model))
                if (source, row.history_id) in shown:
                    instance = instances[source, row.history_id] = row.instance
                    for name in relations:  # the title's link, read with the record
                        if (related := getattr(row, name)) is not None:
                            setattr(instance, name, related)
        people_ids.discard(None)  # type: ignore[arg-type]
        users = _names(people_ids)
        return [
            _entry(
                records[source, history_id],
                records.get((source, previous_id)) if previous_id is not None else None,
                users,
                instances[source, history_id],
            )
            for source, history_id, previous_id in keys
        ]


def _historical_rows(model: type[models.Model], ids: set[int]) -> list[Any]:
    """``model``'s historical records with these history ids, in one hand-written statement
    (``ivig.web.sql``): the same records as ``_historical(model).filter(history_id__in=ids)``
    (tests/web/test_history_paging.py compares every page with the full computation)."""
    historical = model.history.model  # type: ignore[attr-defined]
    fields, columns = sql.columns(historical, "h")
    statement = (
        f"SELECT {columns} FROM {sql.quote(historical._meta.db_table)} h "
        f"WHERE h.{sql.quote('history_id')} IN ({sql.marks(ids)})"
    )
    rows = sql.sql_rows(statement, list(ids), fields)
    return [sql.instance(historical, fields, row) for row in rows]


# (in the model's own order of fields: a model instance made from some of its columns takes
# them in that order)
_NAME_FIELDS = [f for f in User._meta.concrete_fields if f.attname in ("id", "name", "email")]


def _names(ids: set[int]) -> dict[int, str]:
    """{user id: the person as ``str(user)`` names them} for these ids, in one hand-written
    statement (``ivig.web.sql``; only the columns the name is made of)."""
    if not ids:
        return {}
    q = sql.quote
    columns = ", ".join(f"u.{q(f.column)}" for f in _NAME_FIELDS)
    statement = (
        f"SELECT {columns} FROM {q(User._meta.db_table)} u "
        f"WHERE u.{q('id')} IN ({sql.marks(ids)})"
    )
    fields: list[Any] = _NAME_FIELDS
    people = [sql.instance(User, fields, row) for row in sql.sql_rows(statement, list(ids), fields)]
    return {person.pk: str(person) for person in people}


def patient_history(patient: Any) -> Entries:
    """Every change to the patient, its measurements, plan versions and approvals, newest first."""
    from ivig.web.patients.models import Measurement, Patient
    from ivig.web.plans.models import Approval, PlanVersion

    q = connection.ops.quote_name
    plan_versions = f"SELECT id FROM {q(PlanVersion._meta.db_table)} WHERE patient_id = %s"
    return Entries(
        [
            (Patient, "id = %s"),
            (Measurement, "patient_id = %s"),
            (PlanVersion, "patient_id = %s"),
            (Approval, f"plan_version_id IN ({plan_versions})"),
        ],
        patient.pk,
    )
