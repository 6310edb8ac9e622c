"""Care events -> iCalendar (RFC 5545) bytes, with the icalendar package.

Privacy: SUMMARY never carries the patient's name unless ``include_patient_name`` is given, and
nothing else about the patient (weight, dose, conditions) is written: a calendar feed is often
synced to third-party servers. Times are floating local times (as in the order) unless a time
zone is given, in which case they are read as wall-clock times in that zone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from ivig.core.timeline import CareEvent

PRODID = "-//ivig//IVIG infusion planner care calendar//EN"
_UID_DOMAIN = "ivig.local"
_SOURCE_WORD = {"en": "Source", "es": "Fuente"}


def _uid(event: CareEvent, calendar_name: str, patient_name: str | None) -> str:
    content = "\x1f".join(
        (
            calendar_name,
            patient_name or "",
            event.kind,
            event.starts_at.isoformat(),
            event.ends_at.isoformat() if event.ends_at else "",
            event.title_en,
            event.tier or "",
        )
    )
    return f"{hashlib.sha256(content.encode('utf-8')).hexdigest()[:32]}@{_UID_DOMAIN}"


def _when(moment: datetime, tz: ZoneInfo | None) -> datetime:
    moment = moment.replace(microsecond=0)
    return moment.replace(tzinfo=tz) if tz is not None else moment


def one_line(text: str) -> str:
    """The text on one line: control characters and line breaks become single spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def to_ical(
    events: Iterable[CareEvent],
    *,
    calendar_name: str,
    include_patient_name: str | None = None,
    language: str = "en",
    tz: ZoneInfo | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """One VEVENT per care event; check-ins carry a display alarm at their start."""
    if language not in _SOURCE_WORD:
        raise ValueError(
            f"language: must be one of {', '.join(_SOURCE_WORD)}. Given: {language!r}."
        )
    # A name typed with a line break (or stored before the form refused one) must not break the
    # feed or inject properties: names are written on one line, control characters as spaces.
    calendar_name = one_line(calendar_name)
    include_patient_name = one_line(include_patient_name) if include_patient_name else None
    dtstamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", calendar_name)
    for item in events:
        title = item.title(language)
        summary = f"{include_patient_name}: {title}" if include_patient_name else title
        description = f"{item.detail(language)}\n\n{_SOURCE_WORD[language]}: {item.source}"
        event = Event()
        event.add("uid", _uid(item, calendar_name, include_patient_name))
        event.add("dtstamp", dtstamp)
        event.add("dtstart", _when(item.starts_at, tz))
        if item.ends_at is not None and item.ends_at > item.starts_at:
            event.add("dtend", _when(item.ends_at, tz))
        event.add("summary", summary)
        event.add("description", description)
        event.add("categories", [item.kind])
        if item.kind == "check_in":
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            alarm.add("trigger", timedelta(0))
            event.add_component(alarm)
        cal.add_component(event)
    if tz is not None:
        cal.add_missing_timezones()
    return bytes(cal.to_ical())
