"""Readable change history from django-simple-history: who, when, field before → after."""

from __future__ import annotations

import dataclasses
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


def _change(model: Any, name: str, attname: str, record: Any, previous: Any, users: Any) -> Change:
    label = str(model._meta.get_field(name).verbose_name).capitalize()
    before_value = getattr(previous, attname) if previous is not None else None
    after_value = getattr(record, attname)
    if name != "conditions" and (
        isinstance(after_value, dict | list) or isinstance(before_value, dict | list)
    ):
        return Change(field=label, before="", after="", parts=json_parts(before_value, after_value))
    return Change(
        field=label,
        before=_display(model, name, before_value, users) if previous is not None else "—",
        after=_display(model, name, after_value, users),
    )


def _entry(record: Any, previous: Any, users: dict[int, str]) -> Entry:
    model = record.instance_type
    changes = [
        _change(model, name, attname, record, previous, users)
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
