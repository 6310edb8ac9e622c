"""What the live infusion page reads on every visit (and after every entry): one page of the log
and the latest triage result, in hand-written SQL.

The page is opened after each step of the day (a rate change every 30 minutes, vital signs in
between), so its reads are the hottest of the application. Built through the ORM they cost
more Python than the database takes to answer them (about 0.3 ms to compile each statement and
build the model instances, against a few µs of SQLite); here each is one statement that runs
the same on SQLite and PostgreSQL, through the same indexes, read back with Django's own
converters (``ivig.web.sql``). tests/web/test_live_log.py checks every entry and flag against the
ORM on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from ivig.web.accounts.models import User
from ivig.web.infusions.models import EventKind, Infusion, InfusionEvent
from ivig.web.sql import SlicedRows, quote, sql_rows
from ivig.web.ui.html import join_html, value_html
from ivig.web.ui.words import clock

_EVENTS = InfusionEvent._meta.db_table
_USERS = User._meta.db_table


def withdrawn_sql(alias: str) -> str:
    """SQL that is true when a correction withdrew the event ``alias``: any correction that
    points at it (the rule ``models.without_withdrawn`` applies in Python), read from the
    index of corrections (``event_corrections``: the entries that correct another, a few
    among thousands). Every hand-written statement on events asks it this way."""
    return (  # (the IS NOT NULL lets PostgreSQL read the small index of corrections only: it
        # otherwise hashed every event of every patient to answer a page of twenty entries)
        f"EXISTS (SELECT 1 FROM {quote(_EVENTS)} w "
        f"WHERE w.{quote('corrects_id')} = {alias}.{quote('id')} "
        f"AND w.{quote('corrects_id')} IS NOT NULL)"
    )


@dataclass
class LogEntry:
    """One line of the live log, with what the template shows worked out once."""

    pk: int
    at: datetime
    kind: str
    data: dict[str, Any]
    recorded_by: str
    withdrawn: bool
    kind_label: str = ""
    correct_url: str = ""
    can_withdraw: bool = False
    shown_values: list[Any] = field(default_factory=list)
    line: str = ""  # line_html: what the log shows of it


class LogEntries(SlicedRows[LogEntry]):
    """An infusion's log for a Django ``Paginator``: its length is one COUNT through the
    infusion index, and a slice is one statement (with who recorded each entry and whether a
    later correction withdrew it), its entries listed oldest first.

    ``newest_first``: the slices count from the newest entry, so that page 1 is always the
    newest ``size`` entries (a page counted from the oldest would open on a newest page of a
    single entry once the log passes a multiple of the page size). A slice in the newer half
    is read backwards from the newest entry (the ``(infusion, at, id)`` index) instead of past
    an offset of thousands of rows; the entries are the same either way."""

    def __init__(self, infusion: Infusion, *, newest_first: bool = False) -> None:
        self.infusion = infusion
        self.newest_first = newest_first
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(_EVENTS)} WHERE {quote('infusion_id')} = %s",
                    [self.infusion.pk],
                )
                self._count = int(cursor.fetchone()[0])
        return self._count

    def rows(self, first: int, last: int) -> list[LogEntry]:
        total = len(self)
        if self.newest_first:  # the same entries counted from the other end
            first, last = total - last, total - first
        backwards = total - last < first
        offset = total - last if backwards else first
        order = "DESC" if backwards else "ASC"
        at, pk = quote("at"), quote("id")
        sql = (
            f"SELECT e.{pk}, e.{at}, e.{quote('kind')}, e.{quote('data')}, u.{quote('name')}, "
            f"u.{quote('email')}, "
            f"{withdrawn_sql('e')} "
            f"FROM {quote(_EVENTS)} e "
            f"JOIN {quote(_USERS)} u ON u.{pk} = e.{quote('recorded_by_id')} "
            f"WHERE e.{quote('infusion_id')} = %s "
            f"ORDER BY e.{at} {order}, e.{pk} {order} LIMIT %s OFFSET %s"
        )
        meta = InfusionEvent._meta
        rows = sql_rows(
            sql,
            [self.infusion.pk, last - first, offset],
            [None, meta.get_field("at"), None, meta.get_field("data"), None, None, None],
        )
        entries = [
            LogEntry(
                pk=row[0],
                at=row[1],
                kind=row[2],
                data=row[3] if isinstance(row[3], dict) else {},
                recorded_by=row[4] or row[5],  # as User.__str__: the name, else the email
                withdrawn=bool(row[6]),
            )
            for row in rows
        ]
        return entries[::-1] if backwards else entries


def latest_triage(infusion: Infusion) -> dict[str, Any] | None:
    """The triage result of the latest symptom report or vital signs entry (both are triaged
    when recorded) that still stands (no correction withdrew it). One statement: the newest
    triaged entry of each kind, each read backwards through the (infusion, kind, at, id) index,
    then the later of the two."""
    at, pk = quote("at"), quote("id")

    newest = (
        f"(SELECT e.{pk} FROM {quote(_EVENTS)} e WHERE e.{quote('infusion_id')} = %s "
        f"AND e.{quote('kind')} = %s AND e.{quote('triage_level')} IS NOT NULL "
        f"AND NOT {withdrawn_sql('e')} "
        f"ORDER BY e.{at} DESC, e.{pk} DESC LIMIT 1)"
    )
    sql = (
        f"SELECT t.{quote('data')} FROM {quote(_EVENTS)} t WHERE t.{pk} IN ({newest}, {newest}) "
        f"ORDER BY t.{at} DESC, t.{pk} DESC LIMIT 1"
    )
    params = [infusion.pk, EventKind.SYMPTOM.value, infusion.pk, EventKind.VITALS.value]
    rows = sql_rows(sql, params, [InfusionEvent._meta.get_field("data")])
    if not rows or not isinstance(rows[0][0], dict):
        return None
    triage = rows[0][0].get("triage")
    return triage if isinstance(triage, dict) and triage else None


# --- One line of the log, written here rather than by nested template tags ----------------------
# The template spent ~70 µs an entry on its tags (a page shows 20); this writes the same HTML
# (tests/web/test_live_log.py compares it with the template it replaced, kind by kind). Every
# value goes through ``ui.html.value_html``: escaped and localised exactly as ``{{ value }}``.


def _v(data: dict[str, Any], key: str) -> str:
    """``{{ data.key }}``: empty when the key is missing."""
    return value_html(data[key]) if key in data else ""


def _each(values: Any) -> list[str]:
    return [value_html(v) for v in values or ()]


def _what(entry: LogEntry) -> str:
    data, kind = entry.data, entry.kind
    triage = data.get("triage") if isinstance(data.get("triage"), dict) else {}
    if kind == EventKind.RATE_CHANGE:
        text = (
            f"{_v(data, 'rate')} = {_v(data, 'pump_rate_ml_h')} mL/h "
            f"({_v(data, 'rate_ml_kg_h')} mL/kg/h)"
        )
        if data.get("planned_ml_h"):
            text += f"; {gettext('planned')} {_v(data, 'planned_ml_h')} mL/h"
        for warning in data.get("warnings") or ():
            message = warning.get("message", "") if isinstance(warning, dict) else ""
            text += f'<br><span class="above">⚠ {value_html(message)}</span>'
        if data.get("reason"):
            text += f"<br>{gettext('Reason:')} {_v(data, 'reason')}"
        return text
    if kind == EventKind.SYMPTOM:
        words = data.get("symptom_words")  # as the join filter: escaped, not localised
        text = join_html(words, "; ") if words else ""
        if data.get("temperature"):
            text += f"; {_v(data, 'temperature')}"
        heading = _v(triage, "heading") if triage else ""
        return f"{text} → <strong>{heading}</strong>"
    if kind == EventKind.VITALS:
        text = "".join(f"{value} · " for value in _each(entry.shown_values))
        if triage:
            text += (
                f'→ <strong class="vital-level level-{_v(triage, "level")}">'
                f"{_v(triage, 'heading')}</strong>"
            )
            for reason in triage.get("reasons") or ():
                message = reason.get("message", "") if isinstance(reason, dict) else ""
                text += (
                    f'<br><span class="muted">{value_html(message)}</span>'
                )
            for note in _each(triage.get("notes")):
                text += f'<br><span class="muted">{note}</span>'
        return text
    if kind == EventKind.STOP and data.get("volume_infused_ml"):
        # the stop in words (its values alone read "199.6 · pump · 200.0 · 19.96 · ...")
        text = gettext("Volume infused: %(volume)s mL of %(planned)s mL planned") % {
            "volume": _v(data, "volume_infused_ml"),
            "planned": _v(data, "planned_volume_ml") or value_html(gettext("unknown")),
        }
        source = {
            "pump": gettext("read from the pump"),
            "rate_log": gettext("worked out from the logged rates"),
        }.get(data.get("volume_source") or "")
        if source:
            text += f" ({value_html(source)})"
        if data.get("given_g"):
            text += "; " + gettext("%(given)s g given of %(planned)s g planned") % {
                "given": _v(data, "given_g"),
                "planned": _v(data, "planned_g") or value_html(gettext("unknown")),
            }
        if data.get("reason"):
            text += f"<br>{gettext('Reason:')} {_v(data, 'reason')}"
        return text
    if kind == EventKind.VIAL:
        return (
            f"{_v(data, 'brand')} {_v(data, 'size')} · {gettext('lot')} {_v(data, 'lot_number')}"
            f" · {gettext('expires')} {_v(data, 'expiry')}"
        )
    if kind == EventKind.CORRECTION:
        return f"{gettext('withdraws an earlier entry:')} {_v(data, 'reason')}"
    return " · ".join(_each(entry.shown_values))


def line_html(entry: LogEntry) -> SafeString:
    """What the log shows of one entry: its time, kind and values, who recorded it, and
    whether a correction withdrew it (the link to correct it is the template's)."""
    who = value_html(entry.recorded_by)
    withdrawn = f" · {gettext('withdrawn')}" if entry.withdrawn else ""
    return mark_safe(  # every value above is escaped by value_html
        f'<span class="what"><strong>{clock(entry.at)} '
        f"{value_html(entry.kind_label)}</strong> {_what(entry)}</span>"
        f'<div class="muted">{gettext("recorded by")} {who}{withdrawn}</div>'
    )


def items_html(entries: Sequence[LogEntry], can_correct: bool) -> SafeString:
    """The log's list items: each entry's line (``line_html``), and the link to correct it for
    those who record, unless it is a correction or already withdrawn."""
    correct = value_html(gettext("Correct (withdraw)"))
    items = []
    for entry in entries:
        link = (
            f' <a href="{value_html(entry.correct_url)}">{correct}</a>'
            if can_correct and entry.can_withdraw
            else ""
        )
        withdrawn = "withdrawn" if entry.withdrawn else ""
        items.append(f'<li class="{withdrawn}">{entry.line}{link}</li>')
    return mark_safe("".join(items))  # every value is escaped (line_html, value_html)
