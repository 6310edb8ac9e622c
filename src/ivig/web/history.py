"""Readable change history from django-simple-history: who, when, field before → after."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, overload

from django.db import models
from django.utils.translation import gettext as _

from ivig.web.patients.models import condition_words, format_decimal

# Bookkeeping fields that say nothing a reader needs.
_SKIPPED = {"id", "created_at", "recorded_at", "approved_at"}


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class Entry:
    when: datetime
    who: str
    what: str  # e.g. "Measurement: 20.4 kg"
    action: str  # created / changed / deleted, in words
    created: bool
    changes: list[Change] = field(default_factory=list)


def _display(model: type[models.Model], name: str, value: Any, users: dict[int, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    model_field: Any = model._meta.get_field(name)
    if name == "conditions" and isinstance(value, list):
        return ", ".join(condition_words(str(code)) for code in value)
    if getattr(model_field, "choices", None):
        return str(dict(model_field.flatchoices).get(value, value))
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


def _fields(model: type[models.Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if f.name not in _SKIPPED]


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


def _entry(record: Any, previous: Any, users: dict[int, str]) -> Entry:
    model = record.instance_type
    changes = [
        Change(
            field=str(model._meta.get_field(name).verbose_name).capitalize(),
            before=(
                _display(model, name, getattr(previous, attname), users)
                if previous is not None
                else "—"
            ),
            after=_display(model, name, getattr(record, attname), users),
        )
        for name, attname in _changed_fields(model, record, previous)
    ]
    kind = {"+": _("created"), "~": _("changed"), "-": _("deleted")}[record.history_type]
    who = record.history_user
    return Entry(
        when=record.history_date,
        who=str(who) if who is not None else _("the system"),
        what=f"{str(model._meta.verbose_name).capitalize()}: {record.instance}",
        action=kind,
        created=record.history_type == "+",
        changes=changes,
    )


class Entries(Sequence[Entry]):
    """Entries newest first, each diffed against the previous version of the same object.
    Which versions show is decided for all of them (a cheap comparison); the words are made
    only for the entries a page asks for, so a long history costs little per page."""

    def __init__(self, groups: Iterable[Iterable[Any]], users: dict[int, str]) -> None:
        self.users = users
        shown: list[tuple[Any, Any]] = []
        for group in groups:
            last: dict[Any, Any] = {}
            for record in sorted(group, key=lambda r: (r.history_date, r.history_id)):
                previous = last.get(record.id)
                last[record.id] = record
                if record.history_type == "~" and not _changed_fields(
                    record.instance_type, record, previous
                ):
                    continue  # saved without any visible change
                shown.append((record, previous))
        shown.sort(key=lambda pair: pair[0].history_date, reverse=True)
        self._shown = shown

    def __len__(self) -> int:
        return len(self._shown)

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return [_entry(r, p, self.users) for r, p in self._shown[index]]
        record, previous = self._shown[index]
        return _entry(record, previous, self.users)


def entries(records: Iterable[Any], users: dict[int, str]) -> list[Entry]:
    """Turn historical records of one model (any order) into entries, newest first."""
    return list(Entries([records], users))


def patient_history(patient: Any) -> Entries:
    """Every change to the patient, its measurements, plan versions and approvals, newest first."""
    from ivig.web.accounts.models import User
    from ivig.web.patients.models import Measurement, Patient
    from ivig.web.plans.models import Approval, PlanVersion

    sources = [
        Patient.history.filter(id=patient.pk),
        Measurement.history.filter(patient_id=patient.pk),
        PlanVersion.history.filter(patient_id=patient.pk),
        Approval.history.filter(
            plan_version_id__in=PlanVersion.objects.filter(patient=patient).values("pk")
        ),
    ]
    records = [list(source.select_related("history_user")) for source in sources]
    user_ids = {
        getattr(r, attname)
        for group in records
        for r in group
        for attname in ("created_by_id", "recorded_by_id", "author_id", "approved_by_id")
        if getattr(r, attname, None) is not None
    }
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids)}
    return Entries(records, users)
