"""Care events around a course: hydration, premedication, infusion days, check-ins, next course,
vaccine cautions and lab reminders, with clock times.

Sources: the check-in tiers are triage.toml ``[checkins]`` (triage reference section 5), read
through :func:`ivig.core.triage.load_triage_data`; the risk lists are rules.toml (through
:mod:`ivig.core.checks`); hydration, vaccine and calendar-placement facts are
``ivig/data/timeline.toml``. This module holds no clinical number.

Promises:

- Check-ins are counted from the END of the last infusion day of the course (so the haemolysis
  and kidney windows run from the end of the last day, as the reference asks). Every check-in is
  at or after that moment.
- Every applicable tier contributes its check-ins (standard always); check-ins at the same time
  are merged into one event whose questions are the union. Facts only add: a further risk
  factor never removes a check-in.
- A missing answer never counts as "no" for the tiers that need it (unknown first infusion is
  counted as a first infusion, unknown blood group with a high course dose as non-O, unknown age
  applies the infant notes), following the triage convention G4. Age-over criteria need an age.
- Clock times need ``order.start``: without it :class:`TimelineError` is raised (the caller
  shows its message). Times are naive local wall-clock times, like ``order.start``.

Pure: no Django, no database, no network; reads only package data files.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ivig.core import units
from ivig.core.units import Kind, add_months

if TYPE_CHECKING:
    from ivig.core.plan_model import Plan
    from ivig.core.triage import CheckInTier, TriageData

DATA_FILE = "timeline.toml"
KINDS: tuple[str, ...] = (
    "hydrate_start",
    "premedication",
    "infusion",
    "hydrate_until",
    "check_in",
    "next_course",
    "vaccine_caution",
    "lab_reminder",
)


class TimelineError(ValueError):
    """The plan cannot be put on a calendar (the message says why and what to add)."""


@dataclass(frozen=True)
class CareEvent:
    kind: str
    starts_at: datetime
    ends_at: datetime | None
    title_en: str
    title_es: str
    detail_en: str
    detail_es: str
    tier: str | None  # check-ins: the tiers that asked for it, comma-separated ("standard,renal")
    questions: tuple[str, ...]  # check-ins: triage symptom names to ask about
    source: str  # citation(s), "; "-separated

    def title(self, language: str = "en") -> str:
        return self.title_es if language == "es" else self.title_en

    def detail(self, language: str = "en") -> str:
        return self.detail_es if language == "es" else self.detail_en


# --- Data ---------------------------------------------------------------------------------------


@cache
def timeline_data() -> Mapping[str, Any]:
    """The package's timeline.toml, checked against the triage data at first use."""
    text = resources.files("ivig.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    _validate(data)
    return data


def _triage() -> TriageData:
    from ivig.core.triage import load_triage_data

    return load_triage_data()


def _validate(data: Mapping[str, Any]) -> None:
    triage = _triage()
    problems: list[str] = []
    focus = data["focus_symptoms"]
    for tier in triage.checkin_tiers.values():
        for item in tier.checkins:
            if item.focus_en not in focus:
                problems.append(f"focus_symptoms: no entry for {item.focus_en!r} ({tier.name})")
    names: list[tuple[str, str]] = [
        (f"focus_symptoms[{k!r}]", n) for k, v in focus.items() for n in v
    ]
    names += [
        (f"checkins.every.{k}", n)
        for k, v in data["checkins"]["every"].items()
        for n in v["questions"]
    ]
    problems += [
        f"{where}: unknown symptom {n!r}" for where, n in names if n not in triage.symptoms
    ]
    for daily in data["checkins"]["daily"]:
        tier_data = triage.checkin_tiers.get(daily["tier"])
        if tier_data is None or daily["label"] not in {c.label for c in tier_data.checkins}:
            problems.append(f"checkins.daily: no check-in {daily['label']!r} in {daily['tier']}")
    for key in _source_keys(data):
        if key not in data["sources"]:
            problems.append(f"unknown source key {key!r}")
    if problems:
        raise RuntimeError("timeline.toml: " + "; ".join(problems))


def _source_keys(data: Mapping[str, Any]) -> list[str]:
    return [
        *data["hydration"]["sources"],
        *data["hydration"]["fluid_limit_sources"],
        *data["checkins"]["sources"],
        *data["checkins"]["elevated"]["sources"],
        *data["vaccines"]["general"]["sources"],
        *data["vaccines"]["kawasaki"]["sources"],
    ]


def _cite(keys: Iterable[str]) -> str:
    sources = timeline_data()["sources"]
    return "; ".join(
        f"{sources[k]['document']}, {sources[k]['revision']}, {sources[k]['section']}"
        for k in dict.fromkeys(keys)
    )


def _duration(section: Mapping[str, Any], key: str, where: str) -> timedelta:
    quantity = units.parse(section[key], f"timeline.toml {where}.{key}", Kind.DURATION)
    return timedelta(minutes=float(units.minutes(quantity)))


def _hours(value: Decimal) -> timedelta:
    return timedelta(hours=float(value))


def _hours_of(key: str) -> Decimal:
    """A duration of timeline.toml [checkins] in hours."""
    text = timeline_data()["checkins"][key]
    quantity = units.parse(text, f"timeline.toml checkins.{key}", Kind.DURATION)
    return units.hours_from_minutes(units.minutes(quantity))


# --- Risk tiers ---------------------------------------------------------------------------------


def tier_age_over_years(extra: Mapping[str, Any]) -> Decimal | None:
    """A check-in tier's age criterion in years: ``criteria_age_over_rule`` names the one
    threshold in rules.toml (thrombosis: [thrombosis_advanced_age]); else
    ``criteria_age_over_years``; None when the tier has no age criterion."""
    from ivig.core.rules import age_over_years

    rule = extra.get("criteria_age_over_rule")
    if rule is not None:
        return age_over_years(str(rule))
    over = extra.get("criteria_age_over_years")
    return Decimal(str(over)) if over is not None else None


def risk_tiers(plan: Plan) -> tuple[str, ...]:
    """The section 5 check-in tiers that apply to this plan (``standard`` always), in the
    order of triage.toml."""
    reasons = tier_reasons(plan)
    return tuple(name for name in _triage().checkin_tiers if name in reasons)


def tier_reasons(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Each applicable tier with the facts that made it apply (plain words, English)."""
    from ivig.core.checks import risk_factors, rules

    tiers = _triage().checkin_tiers
    patient = plan.document.patient
    conditions = patient.conditions
    indication = plan.document.order.indication
    course = plan.course_dose_g_per_kg
    out: dict[str, tuple[str, ...]] = {"standard": ("always",)}

    def criteria(name: str, *extra: str) -> list[str]:
        tier = tiers[name]
        found = sorted(set(tier.extra.get("criteria_conditions", [])) & conditions)
        if indication is not None and indication in tier.extra.get("criteria_indications", []):
            found.append(f"indication {indication}")
        over = tier_age_over_years(tier.extra)
        if over is not None and plan.age_years is not None and plan.age_years > over:
            found.append(f"age over {over:f} years")
        found.extend(extra)
        return found

    # Elevated reaction risk.
    elevated = timeline_data()["checkins"]["elevated"]
    extra: list[str] = []
    if patient.first_infusion is True:
        extra.append("first infusion")
    elif patient.first_infusion is None and elevated["unknown_first_infusion_counts"]:
        extra.append("first infusion not stated (counted as first)")
    if patient.previous_product and patient.previous_product != plan.product.id:
        extra.append("product switch")
    day_limit = units.grams_per_kg_per_day(
        units.parse(elevated["day_dose_at_least"], "timeline.toml", Kind.DOSE_PER_KG_PER_DAY)
    )
    course_limit = units.grams_per_kg(
        units.parse(elevated["course_dose_at_least"], "timeline.toml", Kind.DOSE_PER_KG)
    )
    day_doses = [d.dose.prescribed_g / plan.dosing.weight_kg for d in plan.days]
    if (day_doses and max(day_doses) >= day_limit) or course >= course_limit:
        extra.append("high dose")
    out["elevated"] = tuple(criteria("elevated", *extra))

    # Haemolysis: rules.toml [hemolysis] (the list the plan checks use).
    hemolysis = rules()["hemolysis"]
    hemolysis_limit = units.grams_per_kg(
        units.parse(hemolysis["course_dose_at_least"], "rules.toml", Kind.DOSE_PER_KG)
    )
    group = patient.blood_group
    if course >= hemolysis_limit and (group is None or group in hemolysis["blood_groups"]):
        out["haemolysis"] = (f"blood group {group or 'not given'} and a high course dose",)

    # Renal: the tier's criteria, rules.toml [renal_risk], or a sucrose-containing product.
    renal = criteria("renal", *risk_factors(plan, "renal_risk"))
    if plan.product.sucrose.value is True:
        renal.append("sucrose-containing product")
    out["renal"] = tuple(dict.fromkeys(renal))
    out["thrombosis"] = tuple(
        dict.fromkeys(criteria("thrombosis", *risk_factors(plan, "thrombosis_risk")))
    )
    out["kawasaki"] = tuple(criteria("kawasaki"))
    below = tiers["infant"].extra.get("criteria_age_below_months")
    if plan.age_years is None:
        out["infant"] = ("age not given (infant notes applied)",)
    elif below is not None and units.months_from_years(plan.age_years) < Decimal(below):
        out["infant"] = (f"under {below} months",)
    out["immunodeficiency"] = tuple(criteria("immunodeficiency"))
    return {name: why for name, why in out.items() if why}


def _fluid_limit(plan: Plan) -> bool:
    from ivig.core.checks import risk_factors

    limited = set(timeline_data()["hydration"]["fluid_limit_conditions"])
    return bool(limited & plan.document.patient.conditions) or bool(
        risk_factors(plan, "renal_risk")
    )


# --- The timeline -------------------------------------------------------------------------------


def care_timeline(
    plan: Plan,
    *,
    next_course_interval_days: int | None = None,
    vaccine_note: bool = True,
    actual_end: datetime | None = None,
) -> tuple[CareEvent, ...]:
    """Every care event of the course, sorted by time. Raises TimelineError without a start.

    ``actual_end`` is when the last day really ended, once it is known: every event counted from
    the end of the course (drinking after, check-ins, lab reminders, vaccine notes) is counted
    from it instead of the planned end, so the calendar, the .ics and the recorded check-ins all
    give the same times. Give it in the same clock as the plan (naive local time when the plan's
    times are naive)."""
    if not plan.days:
        raise TimelineError("The plan has no infusion days.")
    starts = [d.start for d in plan.days]
    ends = [d.end for d in plan.days]
    if any(s is None for s in starts) or any(e is None for e in ends):
        raise TimelineError(
            "order.start: the order has no start date and time, so the care calendar has no "
            'clock times. Add start = "YYYY-MM-DDTHH:MM" to [order].'
        )
    first_start = min(s for s in starts if s is not None)
    last_end = max(e for e in ends if e is not None)
    if actual_end is not None:
        if (actual_end.tzinfo is None) != (last_end.tzinfo is None):
            raise TimelineError(
                "actual_end: give it in the same clock as the plan's times "
                f"({'with' if last_end.tzinfo else 'without'} a time zone)."
            )
        last_end = actual_end
    events: list[CareEvent] = []
    events += _hydration(plan, first_start, last_end)
    events += _premedication(plan)
    events += _infusions(plan)
    events += _checkins(plan, last_end)
    events += _lab_reminders(plan, last_end)
    events += _serology(last_end)
    if next_course_interval_days is not None:
        events.append(_next_course(first_start, next_course_interval_days))
    if vaccine_note:
        events += _vaccines(plan, last_end)
    order = {kind: i for i, kind in enumerate(KINDS)}
    return tuple(sorted(events, key=lambda e: (e.starts_at, order[e.kind], e.title_en)))


def _hydration(plan: Plan, first_start: datetime, last_end: datetime) -> list[CareEvent]:
    h = timeline_data()["hydration"]
    source = _cite(h["sources"])
    extra_en = extra_es = ""
    if _fluid_limit(plan):
        extra_en, extra_es = " " + h["fluid_limit_en"], " " + h["fluid_limit_es"]
        source = _cite([*h["sources"], *h["fluid_limit_sources"]])
    return [
        CareEvent(
            "hydrate_start",
            first_start - _duration(h, "before", "hydration"),
            first_start,
            h["start_title_en"],
            h["start_title_es"],
            h["start_detail_en"] + extra_en,
            h["start_detail_es"] + extra_es,
            None,
            (),
            source,
        ),
        CareEvent(
            "hydrate_until",
            last_end,
            last_end + _duration(h, "after", "hydration"),
            h["until_title_en"],
            h["until_title_es"],
            h["until_detail_en"] + extra_en,
            h["until_detail_es"] + extra_es,
            None,
            (),
            source,
        ),
    ]


def _premedication(plan: Plan) -> list[CareEvent]:
    p = timeline_data()["premedication"]
    by_minutes: dict[int | None, list[str]] = {}
    for item in plan.document.order.premedication:
        by_minutes.setdefault(item.minutes_before, []).append(item.name)
    events = []
    for day in plan.days:
        assert day.start is not None
        for minutes, names in by_minutes.items():
            text = ", ".join(names)
            if minutes is None:
                at, en, es = day.start, p["no_time_detail_en"], p["no_time_detail_es"]
            else:
                at = day.start - timedelta(minutes=minutes)
                en = p["detail_en"].format(minutes=minutes)
                es = p["detail_es"].format(minutes=minutes)
            events.append(
                CareEvent(
                    "premedication",
                    at,
                    None,
                    p["title_en"].format(names=text),
                    p["title_es"].format(names=text),
                    en,
                    es,
                    None,
                    (),
                    p["source"],
                )
            )
        events += _premedication_repeats(plan, day)
    return events


def _premedication_repeats(plan: Plan, day: Any) -> list[CareEvent]:
    """Repeats the order asks for: every N (from the start, while the infusion runs) and before
    a given step (at the step's planned start)."""
    p = timeline_data()["premedication"]
    out: list[CareEvent] = []
    if day.start is None or day.end is None:
        return out
    for item in plan.document.order.premedication:
        moments: list[tuple[datetime, str, str]] = []
        if item.repeat_every is not None:
            every = timedelta(minutes=float(units.minutes(item.repeat_every)))
            at = day.start + every
            while every > timedelta(0) and at < day.end:
                moments.append(
                    (
                        at,
                        p["repeat_every_detail_en"].format(every=item.repeat_every.text),
                        p["repeat_every_detail_es"].format(every=item.repeat_every.text),
                    )
                )
                at += every
        number = item.repeat_before_step
        steps = day.schedule.steps
        if number is not None and 1 < number <= len(steps):
            at = day.start + timedelta(minutes=float(steps[number - 1].start_min))
            moments.append(
                (
                    at,
                    p["repeat_step_detail_en"].format(step=number),
                    p["repeat_step_detail_es"].format(step=number),
                )
            )
        for at, en, es in moments:
            out.append(
                CareEvent(
                    "premedication",
                    at,
                    None,
                    p["repeat_title_en"].format(names=item.name),
                    p["repeat_title_es"].format(names=item.name),
                    en,
                    es,
                    None,
                    (),
                    p["source"],
                )
            )
    return out


def _infusions(plan: Plan) -> list[CareEvent]:
    p = timeline_data()["infusion"]
    count = len(plan.days)
    return [
        CareEvent(
            "infusion",
            day.start,
            day.end,
            p["title_en"].format(day=day.day, days=count),
            p["title_es"].format(day=day.day, days=count),
            p["detail_en"].format(product=plan.product.brand),
            p["detail_es"].format(product=plan.product.brand),
            None,
            (),
            p["source"],
        )
        for day in plan.days
        if day.start is not None
    ]


@dataclass
class _Slot:
    """Check-ins due at one moment, merged across tiers."""

    due_h: Decimal
    until_h: Decimal | None
    tiers: list[str]
    focus_en: list[str]
    focus_es: list[str]
    questions: list[str]
    sources: list[str]
    chair: bool


def _slots(tiers: Sequence[CheckInTier]) -> dict[Decimal, _Slot]:
    c = timeline_data()["checkins"]
    focus = timeline_data()["focus_symptoms"]
    day_h = _hours_of("day_length")
    end_from_h = _hours_of("due_at_window_end_from")
    daily = {(d["tier"], d["label"]) for d in c["daily"]}
    slots: dict[Decimal, _Slot] = {}
    for tier in tiers:
        for item in tier.checkins:
            windows: list[tuple[Decimal, Decimal]] = [(item.from_h, item.to_h)]
            if (tier.name, item.label) in daily:
                n = math.ceil((item.to_h - item.from_h) / day_h)
                windows = [
                    (item.from_h + k * day_h, item.from_h + (k + 1) * day_h) for k in range(n)
                ]
            for low, high in windows:
                if high - low >= end_from_h:
                    due, until = high, None
                else:
                    due, until = low, (high if high > low else None)
                slot = slots.setdefault(due, _Slot(due, None, [], [], [], [], [], False))
                if until is not None and (slot.until_h is None or until > slot.until_h):
                    slot.until_h = until
                _add(slot.tiers, [tier.name])
                _add(slot.focus_en, [item.focus_en])
                _add(slot.focus_es, [item.focus_es])
                _add(slot.questions, focus[item.focus_en])
                _add(slot.sources, [tier.name])
                if high == 0:
                    slot.chair = True
                    observe = _observe_minutes(tier.name, item.label)
                    if observe is not None:
                        until_obs = units.hours_from_minutes(observe)
                        if slot.until_h is None or until_obs > slot.until_h:
                            slot.until_h = until_obs
    return slots


@cache
def _observe_minutes(tier: str, label: str) -> Decimal | None:
    """A check-in's ``observe_min`` (kept in triage.toml but not by the triage loader)."""
    from ivig.core.triage import DATA_FILE as TRIAGE_FILE

    text = resources.files("ivig.data").joinpath(TRIAGE_FILE).read_text(encoding="utf-8")
    for raw in tomllib.loads(text)["checkins"]["tiers"][tier].get("checkins", []):
        if raw.get("label") == label and "observe_min" in raw:
            return Decimal(str(raw["observe_min"]))
    return None


def _add(target: list[str], items: Iterable[str]) -> None:
    for item in items:
        if item not in target:
            target.append(item)


def _checkins(plan: Plan, last_end: datetime) -> list[CareEvent]:
    triage = _triage()
    c = timeline_data()["checkins"]
    applicable = risk_tiers(plan)
    tiers = [triage.checkin_tiers[name] for name in applicable]
    every = [(name, c["every"][name]) for name in applicable if name in c["every"]]
    events = []
    for due_h, slot in sorted(_slots(tiers).items()):
        _add(slot.tiers, [name for name, _ in every])
        for _, note in every:
            _add(slot.questions, note["questions"])
        notes_en = " ".join(note["en"] for _, note in every)
        notes_es = " ".join(note["es"] for _, note in every)
        hours = _format_hours(due_h)
        day = max(1, math.ceil(due_h / _hours_of("day_length")))
        if slot.chair:
            title_en, title_es = c["chair_title_en"], c["chair_title_es"]
        else:
            title_en = c["title_en"].format(hours=hours, day=day)
            title_es = c["title_es"].format(hours=hours, day=day)
        detail_en = " ".join(
            part
            for part in (
                c["detail_en"].format(focus="; ".join(slot.focus_en)),
                notes_en,
                c["missed_en"],
            )
            if part
        )
        detail_es = " ".join(
            part
            for part in (
                c["detail_es"].format(focus="; ".join(slot.focus_es)),
                notes_es,
                c["missed_es"],
            )
            if part
        )
        tier_sources = [
            triage.source_line(key)
            for name in slot.tiers
            for key in triage.checkin_tiers[name].sources
        ]
        events.append(
            CareEvent(
                "check_in",
                last_end + _hours(due_h),
                last_end + _hours(slot.until_h) if slot.until_h is not None else None,
                title_en,
                title_es,
                detail_en,
                detail_es,
                ",".join(slot.tiers),
                tuple(slot.questions),
                "; ".join([_cite(c["sources"]), *dict.fromkeys(tier_sources)]),
            )
        )
    return events


def _format_hours(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _lab_reminders(plan: Plan, last_end: datetime) -> list[CareEvent]:
    triage = _triage()
    lab = timeline_data()["lab"]
    events = []
    for name in risk_tiers(plan):
        if name not in lab:
            continue
        entry = lab[name]
        tier = triage.checkin_tiers[name]
        events.append(
            CareEvent(
                "lab_reminder",
                last_end,
                None,
                entry["title_en"],
                entry["title_es"],
                entry["en"],
                entry["es"],
                name,
                (),
                "; ".join(triage.source_line(k) for k in tier.sources),
            )
        )
    return events


def _next_course(first_start: datetime, interval_days: int) -> CareEvent:
    if interval_days < 1:
        raise TimelineError(f"next course interval: must be 1 day or more. Given: {interval_days}.")
    n = timeline_data()["next_course"]
    return CareEvent(
        "next_course",
        first_start + timedelta(days=interval_days),
        None,
        n["title_en"],
        n["title_es"],
        n["detail_en"].format(days=interval_days),
        n["detail_es"].format(days=interval_days),
        None,
        (),
        n["source"],
    )


def _vaccines(plan: Plan, last_end: datetime) -> list[CareEvent]:
    v = timeline_data()["vaccines"]
    g = v["general"]
    events = [
        CareEvent(
            "vaccine_caution",
            last_end,
            None,
            g["title_en"],
            g["title_es"],
            g["detail_en"],
            g["detail_es"],
            None,
            (),
            _cite(g["sources"]),
        )
    ]
    events += _live_vaccine_wait(plan, last_end)
    return events


def _live_vaccine_wait(plan: Plan, last_end: datetime) -> list[CareEvent]:
    """Measles- and varicella-containing vaccines wait a cited number of months after the course,
    by the course dose in mg/kg (family.toml [vaccines], every indication). An indication with
    its own longer deferral (timeline.toml [vaccines.kawasaki]) keeps the longer one."""
    from ivig.core import family

    fdata = family.family_data()["vaccines"]
    text = fdata["text"]
    wait = family.live_vaccine_wait(plan)
    months, sources = wait.months, [family.source_line(k) for k in wait.sources]
    k = timeline_data()["vaccines"]["kawasaki"]
    if plan.document.order.indication in k["indications"] and int(k["defer"]) >= months:
        months = int(k["defer"])
        sources.append(_cite(k["sources"]))
    statements = family.vaccine_statements(plan, add_months(last_end, months).date())
    detail_en = " ".join(s.en for s in statements)
    detail_es = " ".join(s.es for s in statements)
    above = "above_" if wait.above_table else ""
    source = "; ".join(dict.fromkeys(sources))
    start = CareEvent(
        "vaccine_caution",
        last_end,
        None,
        text[f"calendar_{above}title_en"].format(months=months),
        text[f"calendar_{above}title_es"].format(months=months),
        detail_en,
        detail_es,
        None,
        (),
        source,
    )
    names_en, names_es = fdata["live_names_en"], fdata["live_names_es"]
    end = CareEvent(
        "vaccine_caution",
        add_months(last_end, months),
        None,
        text["calendar_end_title_en"].format(months=months),
        text["calendar_end_title_es"].format(months=months),
        text["calendar_end_detail_en"].format(names=names_en),
        text["calendar_end_detail_es"].format(names=names_es),
        None,
        (),
        source,
    )
    return [start, end]


def _serology(last_end: datetime) -> list[CareEvent]:
    """Antibody blood tests read the donors' antibodies for a cited period (family.toml)."""
    from ivig.core import family

    s = family.family_data()["serology"]
    statement = family.serology_statement(last_end.date())
    source = "; ".join(family.source_line(k) for k in statement.sources)
    months, _ = family.serology_months()
    return [
        CareEvent(
            "lab_reminder",
            last_end,
            None,
            s["title_en"],
            s["title_es"],
            statement.en,
            statement.es,
            None,
            (),
            source,
        ),
        CareEvent(
            "lab_reminder",
            add_months(last_end, months),
            None,
            s["end_title_en"],
            s["end_title_es"],
            s["end_detail_en"],
            s["end_detail_es"],
            None,
            (),
            source,
        ),
    ]


__all__ = [
    "KINDS",
    "CareEvent",
    "TimelineError",
    "add_months",
    "care_timeline",
    "risk_tiers",
    "tier_reasons",
    "timeline_data",
]
