"""The infusion day against its approved plan, and the day's fluids. Pure: no Django.

- :func:`next_day` / :func:`planned_date` - which day of the course comes next and the date the
  approved plan gives it (the web warns when a day starts on another date).
- :func:`stopped` - the volume infused when an infusion stops, the grams that volume holds
  (from the approved concentration) and whether it is short of the day's volume (then a reason
  is required; the tolerance is a design choice in ``infusion_log.toml``).
- :func:`maintenance` - the usual daily fluid need in mL by weight (Holliday-Segar for children
  as NICE NG29 asks, NICE CG174 per kg for adults), with its source; ``None`` without a weight.
- :func:`single_entry_bound_ml` - a drink above this asks for confirmation (design choice).

Every figure comes from ``hydration.toml`` or ``infusion_log.toml`` with its source.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from ivig.core import units


@cache
def _data(name: str) -> Mapping[str, Any]:
    text = resources.files("ivig.data").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _day(snapshot: Mapping[str, Any], day: int) -> Mapping[str, Any]:
    for entry in snapshot.get("days", []) or []:
        if isinstance(entry, Mapping) and entry.get("day") == day:
            return entry
    return {}


# --- Which day, which date ---------------------------------------------------------------------


def day_numbers(snapshot: Mapping[str, Any]) -> list[int]:
    return sorted(int(d["day"]) for d in snapshot.get("days", []) or [] if "day" in d)


def next_day(snapshot: Mapping[str, Any], started: Iterable[int]) -> int | None:
    """The first day of the approved plan not started yet; None when every day was started."""
    done = set(started)
    return next((d for d in day_numbers(snapshot) if d not in done), None)


def planned_date(snapshot: Mapping[str, Any], day: int) -> date | None:
    """The date the approved plan gives ``day`` (from its start time or date); None if none."""
    entry = _day(snapshot, day)
    for key in ("start", "date"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            try:
                return (
                    datetime.fromisoformat(value).date()
                    if "T" in value
                    else date.fromisoformat(value)
                )
            except ValueError:
                continue
    return None


# --- Stopping: the volume infused and the grams it holds ----------------------------------------


@dataclass(frozen=True)
class Stopped:
    volume_ml: Decimal
    planned_volume_ml: Decimal | None
    given_g: Decimal | None  # None when the approved plan gives no concentration
    planned_g: Decimal | None
    short_by_ml: Decimal  # 0 when not short (beyond the tolerance)
    tolerance_ml: Decimal

    @property
    def short(self) -> bool:
        return self.short_by_ml > 0


def short_tolerance_ml() -> Decimal:
    return Decimal(str(_data("infusion_log.toml")["stop"]["short_tolerance_ml"]))


def given_g(snapshot: Mapping[str, Any], volume_ml: Decimal) -> Decimal | None:
    """Grams of immunoglobulin in ``volume_ml`` of the approved product (None if unknown)."""
    concentration = _dec((snapshot.get("product") or {}).get("concentration_mg_ml"))
    if concentration is None or concentration <= 0:
        return None
    return units.grams_from_ml(volume_ml, concentration)


def stopped(snapshot: Mapping[str, Any], day: int, volume_ml: Decimal) -> Stopped:
    entry = _day(snapshot, day)
    planned_volume = _dec(entry.get("volume_ml"))
    tolerance = short_tolerance_ml()
    short_by = Decimal(0)
    if planned_volume is not None and volume_ml < planned_volume - tolerance:
        short_by = planned_volume - volume_ml
    return Stopped(
        volume_ml=volume_ml,
        planned_volume_ml=planned_volume,
        given_g=given_g(snapshot, volume_ml),
        planned_g=_dec(entry.get("dose_g")),
        short_by_ml=short_by,
        tolerance_ml=tolerance,
    )


# --- Fluids ------------------------------------------------------------------------------------


def _cite(keys: Iterable[str]) -> str:
    sources = _data("hydration.toml")["sources"]
    return "; ".join(
        f"{sources[k]['document']}, {sources[k]['revision']}, {sources[k]['section']}" for k in keys
    )


@dataclass(frozen=True)
class Maintenance:
    low_ml: Decimal
    high_ml: Decimal  # equal to low_ml for the Holliday-Segar figure
    rule: str  # holliday_segar | adult_per_kg
    source: str


def holliday_segar_ml_day(weight_kg: Decimal) -> Decimal:
    total = Decimal(0)
    lower = Decimal(0)
    for upper, per_kg in _data("hydration.toml")["maintenance"]["bands"]:
        upper_kg = Decimal(str(upper))
        if weight_kg > lower:
            total += (min(weight_kg, upper_kg) - lower) * Decimal(str(per_kg))
        lower = upper_kg
    return total


def maintenance(weight_kg: Decimal | None, age_years: Decimal | None) -> Maintenance | None:
    """The usual daily fluid need by weight; None when the weight is unknown. With an unknown
    age the child (Holliday-Segar) figure is used only when it is the smaller one."""
    if weight_kg is None or weight_kg <= 0:
        return None
    section = _data("hydration.toml")["maintenance"]
    child = holliday_segar_ml_day(weight_kg)
    low, high = (Decimal(str(v)) * weight_kg for v in section["adult_ml_kg_day"])
    adult = Maintenance(low, high, "adult_per_kg", _cite(section["adult_sources"]))
    child_figure = Maintenance(child, child, "holliday_segar", _cite(section["sources"]))
    if age_years is None:
        return child_figure if child <= low else adult
    return child_figure if age_years < Decimal(str(section["child_below_age_years"])) else adult


@dataclass(frozen=True)
class EntryBound:
    bound_ml: Decimal
    rule: str
    design_choice: bool
    rule_es: str = ""

    def words(self, language: str = "en") -> str:
        return self.rule_es if language == "es" and self.rule_es else self.rule


def single_entry_bound_ml(weight_kg: Decimal | None) -> EntryBound:
    """A single drink above ``bound_ml`` asks for confirmation (design choice, see the data)."""
    section = _data("hydration.toml")["single_entry"]
    if weight_kg is None or weight_kg <= 0:
        return EntryBound(
            Decimal(str(section["without_weight_ml"])),
            str(section["without_weight_en"]),
            bool(section["design_choice"]),
            str(section["without_weight_es"]),
        )
    return EntryBound(
        holliday_segar_ml_day(weight_kg),
        str(section["rule"]),
        bool(section["design_choice"]),
        str(section["rule_es"]),
    )


# --- When to measure vital signs ---------------------------------------------------------------


@dataclass(frozen=True)
class VitalsCheckpoint:
    """One time vital signs are due during or after an infusion, and whether a reading was
    taken in its window. Minutes are counted from the start of the infusion."""

    code: str  # before | at_15_min | rate_increase | steady | completion | after
    due_min: Decimal
    from_min: Decimal
    to_min: Decimal
    taken_min: Decimal | None
    status: str  # done | due | missed | upcoming
    source: str


def _schedule() -> Mapping[str, Any]:
    section: Mapping[str, Any] = _data("infusion_log.toml")["vitals_schedule"]
    return section


def _log_source(key: str) -> str:
    s = _data("infusion_log.toml")["sources"][key]
    return f"{s['document']}, {s['revision']}, {s['section']}"


def vitals_checkpoints(
    vitals_min: Iterable[Decimal],
    increases_min: Iterable[Decimal],
    end_min: Decimal | None,
    now_min: Decimal,
) -> list[VitalsCheckpoint]:
    """The vital-sign checkpoints of one infusion (``infusion_log.toml [vitals_schedule]``):
    before, at 15 min, after each rate increase, hourly while the rate is steady, at completion
    and after; each is done (a reading in its window), due now, missed (its window passed
    without a reading: a gap) or upcoming."""
    taken = sorted(Decimal(v) for v in vitals_min)
    schedule = _schedule()
    points: list[tuple[str, Decimal, Mapping[str, Any]]] = [
        ("before", Decimal(0), schedule["before"]),
        ("at_15_min", Decimal(0), schedule["at_15_min"]),
    ]
    points += [("rate_increase", Decimal(m), schedule["rate_increase"]) for m in increases_min]
    if end_min is not None:
        points.append(("completion", end_min, schedule["completion"]))
        points.append(("after", end_min, schedule["after"]))
    out = []
    for code, anchor, window in points:
        low = anchor + Decimal(str(window["from_min"]))
        high = anchor + Decimal(str(window["to_min"]))
        due = Decimal(15) if code == "at_15_min" else low if code == "after" else anchor
        if code == "at_15_min" and end_min is not None and end_min < low:
            continue  # stopped before the 15-minute check was due
        hit = next((t for t in taken if low <= t <= high), None)
        out.append(
            VitalsCheckpoint(
                code,
                due,
                low,
                high,
                hit,
                _status(hit, low, high, now_min),
                _log_source(str(window["source"])),
            )
        )
    out += _steady_gaps(taken, end_min, now_min, schedule)
    return sorted(out, key=lambda c: (c.due_min, c.code))


def _status(hit: Decimal | None, low: Decimal, high: Decimal, now: Decimal) -> str:
    if hit is not None:
        return "done"
    if now < low:
        return "upcoming"
    return "due" if now <= high else "missed"


def _steady_gaps(
    taken: list[Decimal], end_min: Decimal | None, now_min: Decimal, schedule: Mapping[str, Any]
) -> list[VitalsCheckpoint]:
    """Readings at least every ``steady_every_min`` while the infusion runs: each longer gap is
    a missed check; while it runs, the check now overdue is "due", else the next is upcoming."""
    every = Decimal(str(schedule["steady_every_min"]))
    source = _log_source(str(schedule["steady_source"]))
    running = end_min is None
    stop = now_min if end_min is None else end_min

    def point(at: Decimal, status: str) -> VitalsCheckpoint:
        return VitalsCheckpoint("steady", at, at, at, None, status, source)

    out: list[VitalsCheckpoint] = []
    previous = Decimal(0)
    for moment in (t for t in taken if Decimal(0) <= t <= stop):
        while moment - previous > every:
            previous += every
            out.append(point(previous, "missed"))
        previous = max(previous, moment)
    tail = []
    while stop - previous > every or (running and stop - previous == every):
        previous += every
        tail.append(point(previous, "missed"))
    if running and tail:
        tail[-1] = point(tail[-1].due_min, "due")  # overdue now: take the reading
    elif running:
        tail.append(point(previous + every, "upcoming"))
    return out + tail


def vitals_window_starts(
    increases_min: Iterable[Decimal], end_min: Decimal | None
) -> list[Decimal]:
    """Where each window of :func:`vitals_checkpoints` begins (same sums, same order)."""
    schedule = _schedule()
    anchors = [("before", Decimal(0)), ("at_15_min", Decimal(0))]
    anchors += [("rate_increase", Decimal(m)) for m in increases_min]
    if end_min is not None:
        anchors += [("completion", end_min), ("after", end_min)]
    return [anchor + Decimal(str(schedule[code]["from_min"])) for code, anchor in anchors]


def steady_every_min() -> Decimal:
    return Decimal(str(_schedule()["steady_every_min"]))


def vitals_readings_that_matter(
    vitals_min: Iterable[Decimal],
    increases_min: Iterable[Decimal],
    end_min: Decimal | None,
    now_min: Decimal,
    bucket_min: Decimal,
) -> list[Decimal]:
    """The few readings that decide :func:`vitals_checkpoints` (it gives the same answer from
    them as from every reading): the first at or after each window's start, and the first and
    last of each stretch ``[k * bucket_min, (k + 1) * bucket_min)`` within ``[0, stop]`` (a
    bucket no longer than ``steady_every_min``). A reading between the first and last of its
    stretch is less than an hour from both neighbours, so it never opens or closes a gap.
    This is the pure statement of what the web looks up through an index (a bounded number of
    rows, however many readings a long day has); hypothesis tests hold it to the reference."""
    taken = sorted(Decimal(v) for v in vitals_min)
    keep: set[Decimal] = set()
    for low in vitals_window_starts(increases_min, end_min):
        first = next((t for t in taken if t >= low), None)
        if first is not None:
            keep.add(first)
    stop = now_min if end_min is None else end_min
    stretches: dict[Decimal, list[Decimal]] = {}
    for t in taken:
        if Decimal(0) <= t <= stop:
            stretches.setdefault(t // bucket_min, []).append(t)
    for inside in stretches.values():
        keep.update((inside[0], inside[-1]))
    return sorted(keep)


__all__ = [
    "EntryBound",
    "Maintenance",
    "Stopped",
    "VitalsCheckpoint",
    "day_numbers",
    "given_g",
    "holliday_segar_ml_day",
    "maintenance",
    "next_day",
    "planned_date",
    "short_tolerance_ml",
    "single_entry_bound_ml",
    "steady_every_min",
    "stopped",
    "vitals_checkpoints",
    "vitals_readings_that_matter",
    "vitals_window_starts",
]
