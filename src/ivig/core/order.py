"""The order document: the one parser and validator for a prescribed IVIG order.

The plan file (TOML or JSON), the web form, the JSON API and FHIR import all produce the same
mapping, ``{"patient": {...}, "order": {...}}``. This module turns it into typed, validated
values, or raises :class:`OrderError` listing every problem (field, what was given, what is
accepted). Nothing here computes a clinical number: that is dosing, titration and checks.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from ivig.core import units
from ivig.core.units import Kind, Quantity, QuantityError
from ivig.core.vocabulary import (
    BLOOD_GROUPS,
    CONDITIONS,
    DOSING_WEIGHT_METHODS,
    SEXES,
    VIAL_ROUNDING,
)

MAX_DAYS = 5  # the issue's and labels' course length: "over one to five days"
MAX_STEPS = 40
# The mass units an IVIG dose may be written in (a dose "2 kg" or "2 lb" is a slip, not a dose).
DOSE_MASS_UNITS = ("gram", "milligram")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input."""

    field: str
    given: object
    accepted: str
    problem: str

    @property
    def message(self) -> str:
        return f"{self.field}: {self.problem}. Given: {self.given!r}. Accepted: {self.accepted}."


class OrderError(ValueError):
    """The order document is not valid. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


class DoseBasis(Enum):
    PER_KG_COURSE = "per_kg_course"  # "2 g/kg": the whole course
    PER_KG_DAY = "per_kg_day"  # "400 mg/kg/day"
    FIXED_COURSE = "fixed_course"  # "40 g": the whole course
    FIXED_DAY = "fixed_day"  # "20 g/day"


@dataclass(frozen=True)
class Patient:
    weight: Quantity
    height: Quantity | None
    sex: str | None
    birth_date: date | None
    age: Quantity | None
    blood_group: str | None
    first_infusion: bool | None
    previous_product: str | None
    conditions: frozenset[str]
    name: str | None = None

    @property
    def weight_kg(self) -> Decimal:
        return units.mass_kg(self.weight)

    @property
    def height_cm(self) -> Decimal | None:
        return units.length_cm(self.height) if self.height is not None else None

    def age_years(self, on: date | None) -> Decimal | None:
        """Age in years on a date (exact to the day), or None when it cannot be known."""
        if self.age is not None:
            return units.years(self.age)
        if self.birth_date is None or on is None:
            return None
        return units.years_between(self.birth_date, on)


@dataclass(frozen=True)
class Step:
    """A titration step as prescribed: a rate, and minutes (None: runs until the volume is in)."""

    rate: Quantity
    minutes: int | None
    reason: str | None = None


@dataclass(frozen=True)
class TitrationRule:
    """A rule-form titration: start, increase by a fixed amount at fixed intervals, up to max."""

    start: Quantity
    increase_by: Quantity
    every_minutes: int
    max: Quantity
    first_step_minutes: int | None


@dataclass(frozen=True)
class Premedication:
    name: str
    dose: Quantity | None
    minutes_before: int | None
    note: str | None
    repeat_every: Quantity | None = None  # a duration: given again every ... during the infusion
    repeat_before_step: int | None = None  # given again before this titration step


@dataclass(frozen=True)
class Saline:
    amount: Quantity
    per_kg: bool
    timing: str | None


@dataclass(frozen=True)
class Order:
    product_id: str
    concentration: Quantity | None
    indication: str | None
    dose: Quantity
    dose_basis: DoseBasis
    days: int
    dosing_weight: str
    vial_rounding: str
    start: datetime | None
    titration: tuple[Step, ...] | TitrationRule
    premedication: tuple[Premedication, ...]
    saline: Saline | None
    prescriber: str | None
    notes: str | None
    setting: str | None = None  # "hospital" | "clinic" | "home"; None: not stated


SETTINGS = ("hospital", "clinic", "home")


@dataclass(frozen=True)
class OrderDocument:
    patient: Patient
    order: Order
    source: Mapping[str, Any] = field(compare=False, repr=False)


# --- Field specifications: what each key accepts -------------------------------------------------

PATIENT_KEYS = {
    "name",
    "weight",
    "height",
    "sex",
    "birth_date",
    "age",
    "blood_group",
    "first_infusion",
    "previous_product",
    "conditions",
}
ORDER_KEYS = {
    "product",
    "concentration",
    "indication",
    "dose",
    "days",
    "dosing_weight",
    "vial_rounding",
    "start",
    "titration",
    "premedication",
    "saline",
    "prescriber",
    "notes",
    "setting",
}
STEP_KEYS = {"rate", "minutes", "reason"}
RULE_KEYS = {"start", "increase_by", "every_minutes", "max", "first_step_minutes"}
PREMED_KEYS = {"name", "dose", "minutes_before", "note", "repeat_every", "repeat_before_step"}
SALINE_KEYS = {"amount", "timing"}


# What a problem shows of a long or large given value (a pasted essay must not flood a message).
MAX_GIVEN_TEXT = 200


def shown(value: object) -> object:
    """Keep what was given printable and short in messages."""
    if isinstance(value, str):
        return value if len(value) <= MAX_GIVEN_TEXT else value[:MAX_GIVEN_TEXT] + "…"
    if value is None or isinstance(value, int | float | bool | Decimal | date):
        return value
    return value if len(repr(value)) <= MAX_GIVEN_TEXT else type(value).__name__


class ProblemCollector:
    """Collects problems so a user sees all of them at once, not one per attempt.

    The one collector of input problems: the order document and the triage report use it."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    @property
    def items(self) -> list[Problem]:
        return self.problems

    def add(self, field: str, given: object, accepted: str, problem: str) -> None:
        self.problems.append(Problem(field, shown(given), accepted, problem))

    def quantity(self, value: object, field: str, kind: Kind) -> Quantity | None:
        try:
            return units.parse(value, field, kind)
        except QuantityError as exc:
            self.add(exc.field, exc.given, exc.accepted, exc.problem)
            return None

    def quantity_any(
        self, value: object, field: str, kinds: tuple[Kind, ...]
    ) -> tuple[Kind, Quantity] | None:
        try:
            return units.parse_any(value, field, kinds)
        except QuantityError as exc:
            self.add(exc.field, exc.given, exc.accepted, exc.problem)
            return None

    def choice(
        self, value: object, field: str, choices: Sequence[str], *, required: bool = True
    ) -> str | None:
        accepted = "one of " + ", ".join(repr(c) for c in choices)
        if value is None:
            if required:
                self.add(field, value, accepted, "this field is required")
            return None
        if not isinstance(value, str) or value not in choices:
            self.add(field, value, accepted, "not one of the accepted values")
            return None
        return value

    def integer(self, value: object, field: str, low: int, high: int, *, what: str) -> int | None:
        accepted = f"a whole number of {what} from {low} to {high}"
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            else:
                self.add(field, value, accepted, "not a whole number")
                return None
        if not low <= value <= high:
            self.add(field, value, accepted, "out of range")
            return None
        return value

    def boolean(self, value: object, field: str) -> bool | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        self.add(field, value, "true or false", "not true or false")
        return None

    def text(self, value: object, field: str, *, max_length: int = 500) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(field, value, f"text up to {max_length} characters", "not text")
            return None
        value = value.strip()
        if len(value) > max_length:
            self.add(field, value[:40] + "…", f"text up to {max_length} characters", "too long")
            return None
        return value or None

    def table(self, value: object, field: str, keys: set[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(field, value, "a table of fields", "not a table")
            return None
        for key in value:
            if key not in keys:
                self.add(
                    f"{field}.{key}",
                    value[key],
                    "the fields " + ", ".join(sorted(keys)),
                    "unknown field (check the spelling)",
                )
        return value


# Design choice: the shape any input document (plan, order, symptom report) may have. Real
# documents are 4 levels deep, hold a few dozen values and no whole number above a few thousand;
# these limits keep a hostile document (nested 100,000 deep, a 5,001-digit number) from reaching
# code that would recurse or print it, and give a clear message instead.
MAX_DOCUMENT_DEPTH = 16
MAX_DOCUMENT_VALUES = 10_000
MAX_WHOLE_NUMBER = 10**15


def shape_problems(data: object, name: str = "document") -> list[Problem]:
    """Problems with the overall shape of a parsed document, found without recursion."""
    problems: list[Problem] = []
    stack: list[tuple[object, str, int]] = [(data, name, 0)]
    seen = 0
    while stack:
        value, path, depth = stack.pop()
        seen += 1
        if seen > MAX_DOCUMENT_VALUES:
            accepted = f"at most {MAX_DOCUMENT_VALUES:,} values"
            return [Problem(name, "a very long document", accepted, "too many values")]
        if depth > MAX_DOCUMENT_DEPTH:
            accepted = f"tables and lists nested at most {MAX_DOCUMENT_DEPTH} deep"
            return [Problem(path, "deeper nesting", accepted, "nested too deeply")]
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= MAX_WHOLE_NUMBER:
                digits = len(str(value)) if abs(value) < 10**4000 else "over 4,000"
                problems.append(
                    Problem(
                        path,
                        f"a whole number with {digits} digits",
                        f"whole numbers below {MAX_WHOLE_NUMBER:,}",
                        "the number is too large",
                    )
                )
        elif isinstance(value, Mapping):
            stack.extend((v, f"{path}.{k}", depth + 1) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
    return problems


def parse_order_document(
    data: object,
    *,
    product_ids: Sequence[str],
    indication_ids: Sequence[str],
    dosing_weight_packs: Sequence[str],
) -> OrderDocument:
    """Validate an order document mapping. Raises OrderError listing every problem.

    The accepted product, indication and dosing-weight rule-pack names are passed in by the
    caller (``plan.parse_document`` reads them from the catalogue and dosing data), so this
    parser depends on no other engine module but units and vocabulary."""
    shape = shape_problems(data)
    if shape:
        raise OrderError(shape)
    c = ProblemCollector()
    root = c.table(data, "document", {"patient", "order"})
    if root is None:
        raise OrderError(c.problems)
    patient_data = root.get("patient")
    order_data = root.get("order")
    if patient_data is None:
        c.add("patient", None, "a [patient] table", "this table is required")
    if order_data is None:
        c.add("order", None, "an [order] table", "this table is required")
    patient = _parse_patient(c, patient_data, product_ids) if patient_data is not None else None
    order = (
        _parse_order(c, order_data, product_ids, indication_ids, dosing_weight_packs)
        if order_data is not None
        else None
    )
    if c.problems or patient is None or order is None:
        raise OrderError(c.problems)
    return OrderDocument(patient=patient, order=order, source=root)


def _parse_patient(c: ProblemCollector, data: object, product_ids: Sequence[str]) -> Patient | None:
    table = c.table(data, "patient", PATIENT_KEYS)
    if table is None:
        return None
    n = len(c.problems)
    weight = None
    if "weight" not in table:
        c.add("patient.weight", None, Kind.MASS.value, "this field is required")
    else:
        weight = c.quantity(table["weight"], "patient.weight", Kind.MASS)
        if weight is not None and weight.magnitude <= 0:
            c.add("patient.weight", table["weight"], Kind.MASS.value, "must be more than zero")
            weight = None
    height = None
    if table.get("height") is not None:
        height = c.quantity(table["height"], "patient.height", Kind.LENGTH)
        if height is not None and height.magnitude <= 0:
            c.add("patient.height", table["height"], Kind.LENGTH.value, "must be more than zero")
            height = None
    sex = c.choice(table.get("sex"), "patient.sex", list(SEXES), required=False)
    birth_date = None
    if table.get("birth_date") is not None:
        birth_date = _date(c, table["birth_date"], "patient.birth_date")
    age = None
    if table.get("age") is not None:
        age = c.quantity(table["age"], "patient.age", Kind.AGE)
        if age is not None and age.magnitude < 0:
            c.add("patient.age", table["age"], Kind.AGE.value, "must not be negative")
            age = None
    if birth_date is not None and age is not None:
        c.add(
            "patient.age",
            table["age"],
            "either birth_date or age, not both",
            "both birth_date and age were given",
        )
    blood_group = c.choice(
        table.get("blood_group"), "patient.blood_group", BLOOD_GROUPS, required=False
    )
    first_infusion = c.boolean(table.get("first_infusion"), "patient.first_infusion")
    previous_product = c.choice(
        table.get("previous_product"), "patient.previous_product", product_ids, required=False
    )
    conditions = _string_list(c, table.get("conditions", []), "patient.conditions", CONDITIONS)
    name = c.text(table.get("name"), "patient.name", max_length=200)
    if len(c.problems) > n or weight is None:
        return None
    return Patient(
        weight=weight,
        height=height,
        sex=sex,
        birth_date=birth_date,
        age=age,
        blood_group=blood_group,
        first_infusion=first_infusion,
        previous_product=previous_product,
        conditions=frozenset(conditions),
        name=name,
    )


def _string_list(
    c: ProblemCollector, value: object, field: str, vocabulary: Mapping[str, object]
) -> list[str]:
    accepted = "a list of: " + ", ".join(sorted(vocabulary))
    if not isinstance(value, list):
        c.add(field, value, accepted, "not a list")
        return []
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or item not in vocabulary:
            c.add(f"{field}[{i}]", item, accepted, "unknown condition")
        else:
            out.append(item)
    return out


# Design choice (no clinical source): dates a plan can hold. A birth date before 1900 or a start
# outside 2000-2199 is a typing slip (year 0001 or 9999 used to overflow the date arithmetic).
EARLIEST_BIRTH_YEAR = 1900
START_YEARS = (2000, 2199)


def _date(c: ProblemCollector, value: object, field: str) -> date | None:
    accepted = (
        f'a date written as YYYY-MM-DD from the year {EARLIEST_BIRTH_YEAR} on, e.g. "2019-04-30"'
    )
    if isinstance(value, datetime):
        c.add(field, str(value), accepted, "a date and time was given where a date is expected")
        return None
    parsed: date | None = value if isinstance(value, date) else None
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        c.add(field, value, accepted, "not a valid date")
        return None
    if parsed.year < EARLIEST_BIRTH_YEAR:
        c.add(field, value, accepted, "the year is too early to be real")
        return None
    return parsed


def _datetime(c: ProblemCollector, value: object, field: str) -> datetime | None:
    low, high = START_YEARS
    accepted = (
        'a local date and time written as YYYY-MM-DDTHH:MM, e.g. "2026-12-01T08:30", '
        f"in the years {low} to {high}"
    )
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value.strip()) > 10:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        c.add(field, value, accepted, "not a valid date and time")
        return None
    if not low <= parsed.year <= high:
        c.add(field, value, accepted, "the year is outside the accepted range")
        return None
    return parsed


_DOSE_KINDS: dict[Kind, DoseBasis] = {
    Kind.DOSE_PER_KG: DoseBasis.PER_KG_COURSE,
    Kind.DOSE_PER_KG_PER_DAY: DoseBasis.PER_KG_DAY,
    Kind.DOSE_FIXED: DoseBasis.FIXED_COURSE,
    Kind.DOSE_FIXED_PER_DAY: DoseBasis.FIXED_DAY,
}


def _parse_order(
    c: ProblemCollector,
    data: object,
    product_ids: Sequence[str],
    indication_ids: Sequence[str],
    dosing_weight_packs: Sequence[str],
) -> Order | None:
    table = c.table(data, "order", ORDER_KEYS)
    if table is None:
        return None
    n = len(c.problems)
    product_id = c.choice(table.get("product"), "order.product", product_ids)
    concentration = None
    if table.get("concentration") is not None:
        concentration = c.quantity(
            table["concentration"], "order.concentration", Kind.CONCENTRATION
        )
    indication = c.choice(
        table.get("indication"), "order.indication", indication_ids, required=False
    )
    dose = None
    basis = None
    if "dose" not in table:
        c.add("order.dose", None, _dose_accepted(), "this field is required")
    else:
        parsed = c.quantity_any(table["dose"], "order.dose", tuple(_DOSE_KINDS))
        if parsed is not None:
            kind, dose = parsed
            basis = _DOSE_KINDS[kind]
            if dose.unit.split(" / ")[0] not in DOSE_MASS_UNITS:
                c.add(
                    "order.dose",
                    table["dose"],
                    "an IVIG dose in g or mg, e.g. \"2 g/kg\", \"400 mg/kg/day\" or \"40 g\"",
                    "IVIG doses are written in g or mg; another mass unit is almost always a slip",
                )
                dose = None
            elif dose.magnitude <= 0:
                c.add("order.dose", table["dose"], _dose_accepted(), "must be more than zero")
                dose = None
    days = c.integer(table.get("days"), "order.days", 1, MAX_DAYS, what="days")
    dosing_weight = c.choice(
        table.get("dosing_weight", None),
        "order.dosing_weight",
        list(DOSING_WEIGHT_METHODS) + list(dosing_weight_packs),
    )
    vial_rounding = c.choice(table.get("vial_rounding"), "order.vial_rounding", list(VIAL_ROUNDING))
    start = _datetime(c, table["start"], "order.start") if table.get("start") is not None else None
    titration = _parse_titration(c, table.get("titration"))
    premedication = _parse_premedication(c, table.get("premedication", []))
    saline = _parse_saline(c, table.get("saline"))
    prescriber = c.text(table.get("prescriber"), "order.prescriber", max_length=200)
    notes = c.text(table.get("notes"), "order.notes", max_length=2000)
    setting = c.choice(table.get("setting"), "order.setting", list(SETTINGS), required=False)
    if (
        len(c.problems) > n
        or product_id is None
        or dose is None
        or basis is None
        or days is None
        or dosing_weight is None
        or vial_rounding is None
        or titration is None
    ):
        return None
    return Order(
        product_id=product_id,
        concentration=concentration,
        indication=indication,
        dose=dose,
        dose_basis=basis,
        days=days,
        dosing_weight=dosing_weight,
        vial_rounding=vial_rounding,
        start=start,
        titration=titration,
        premedication=premedication,
        saline=saline,
        prescriber=prescriber,
        notes=notes,
        setting=setting,
    )


def _dose_accepted() -> str:
    return "; or ".join(k.value for k in _DOSE_KINDS)


def _parse_titration(c: ProblemCollector, value: object) -> tuple[Step, ...] | TitrationRule | None:
    field = "order.titration"
    accepted = (
        'a list of steps such as [{rate = "0.5 mL/kg/h", minutes = 30}, ..., '
        '{rate = "2 mL/kg/h"}] (the last step has no minutes), or a rule '
        "{start = ..., increase_by = ..., every_minutes = ..., max = ...}"
    )
    if value is None:
        c.add(field, None, accepted, "this field is required")
        return None
    if isinstance(value, Mapping):
        return _parse_rule(c, value)
    if not isinstance(value, list) or not value:
        c.add(field, value, accepted, "not a list of steps or a rule")
        return None
    if len(value) > MAX_STEPS:
        c.add(field, f"{len(value)} steps", f"at most {MAX_STEPS} steps", "too many steps")
        return None
    steps: list[Step] = []
    ok = True
    for i, item in enumerate(value):
        sf = f"{field}[{i}]"
        n = len(c.problems)
        table = c.table(item, sf, STEP_KEYS)
        if table is None:
            ok = False
            continue
        rate = None
        if "rate" not in table:
            c.add(f"{sf}.rate", None, Kind.RATE.value, "this field is required")
        else:
            rate = c.quantity(table["rate"], f"{sf}.rate", Kind.RATE)
            if rate is not None and rate.magnitude <= 0:
                c.add(f"{sf}.rate", table["rate"], Kind.RATE.value, "must be more than zero")
        is_last = i == len(value) - 1
        minutes = None
        if table.get("minutes") is not None:
            minutes = c.integer(table["minutes"], f"{sf}.minutes", 1, 24 * 60, what="minutes")
        elif not is_last:
            c.add(
                f"{sf}.minutes",
                None,
                "a whole number of minutes (only the last step may leave it out)",
                "a step before the last needs its minutes",
            )
        reason = c.text(table.get("reason"), f"{sf}.reason", max_length=300)
        if len(c.problems) > n or rate is None:
            ok = False
            continue
        steps.append(Step(rate=rate, minutes=minutes, reason=reason))
    return tuple(steps) if ok else None


def _parse_rule(c: ProblemCollector, value: Mapping[str, Any]) -> TitrationRule | None:
    field = "order.titration"
    n = len(c.problems)
    table = c.table(value, field, RULE_KEYS)
    if table is None:
        return None
    for key in ("start", "increase_by", "every_minutes", "max"):
        if key not in table:
            c.add(f"{field}.{key}", None, "see the plan file documentation", "required in a rule")
    start = (
        c.quantity(table.get("start"), f"{field}.start", Kind.RATE) if "start" in table else None
    )
    inc = (
        c.quantity(table.get("increase_by"), f"{field}.increase_by", Kind.RATE)
        if "increase_by" in table
        else None
    )
    top = c.quantity(table.get("max"), f"{field}.max", Kind.RATE) if "max" in table else None
    every = (
        c.integer(table["every_minutes"], f"{field}.every_minutes", 1, 24 * 60, what="minutes")
        if "every_minutes" in table
        else None
    )
    first = None
    if table.get("first_step_minutes") is not None:
        first = c.integer(
            table["first_step_minutes"], f"{field}.first_step_minutes", 1, 24 * 60, what="minutes"
        )
    for name, q in (("start", start), ("increase_by", inc), ("max", top)):
        if q is not None and q.magnitude <= 0:
            c.add(f"{field}.{name}", q.text, Kind.RATE.value, "must be more than zero")
    if len(c.problems) > n or start is None or inc is None or top is None or every is None:
        return None
    return TitrationRule(
        start=start, increase_by=inc, every_minutes=every, max=top, first_step_minutes=first
    )


def _parse_premedication(c: ProblemCollector, value: object) -> tuple[Premedication, ...]:
    field = "order.premedication"
    if not isinstance(value, list):
        c.add(
            field, value, "a list of {name = ..., dose = ..., minutes_before = ...}", "not a list"
        )
        return ()
    out = []
    for i, item in enumerate(value):
        sf = f"{field}[{i}]"
        table = c.table(item, sf, PREMED_KEYS)
        if table is None:
            continue
        name = c.text(table.get("name"), f"{sf}.name", max_length=100)
        if name is None:
            c.add(f"{sf}.name", table.get("name"), "the medicine's name", "this field is required")
            continue
        dose = None
        if table.get("dose") is not None:
            parsed = c.quantity_any(
                table["dose"],
                f"{sf}.dose",
                (Kind.DOSE_FIXED, Kind.DOSE_PER_KG, Kind.VOLUME, Kind.VOLUME_PER_KG),
            )
            dose = parsed[1] if parsed else None
        minutes_before = None
        if table.get("minutes_before") is not None:
            minutes_before = c.integer(
                table["minutes_before"], f"{sf}.minutes_before", 0, 24 * 60, what="minutes"
            )
        note = c.text(table.get("note"), f"{sf}.note", max_length=300)
        repeat_every = None
        if table.get("repeat_every") is not None:
            repeat_every = c.quantity(table["repeat_every"], f"{sf}.repeat_every", Kind.DURATION)
        repeat_before_step = None
        if table.get("repeat_before_step") is not None:
            repeat_before_step = c.integer(
                table["repeat_before_step"], f"{sf}.repeat_before_step", 2, 100, what="step number"
            )
        out.append(
            Premedication(
                name=name,
                dose=dose,
                minutes_before=minutes_before,
                note=note,
                repeat_every=repeat_every,
                repeat_before_step=repeat_before_step,
            )
        )
    return tuple(out)


def _parse_saline(c: ProblemCollector, value: object) -> Saline | None:
    field = "order.saline"
    if value is None:
        return None
    timing = None
    if isinstance(value, Mapping):
        table = c.table(value, field, SALINE_KEYS)
        if table is None:
            return None
        timing = c.text(table.get("timing"), f"{field}.timing", max_length=200)
        value = table.get("amount")
        field = f"{field}.amount"
    parsed = c.quantity_any(value, field, (Kind.VOLUME_PER_KG, Kind.VOLUME))
    if parsed is None:
        return None
    kind, amount = parsed
    if amount.magnitude <= 0:
        c.add(field, amount.text, "a positive volume", "must be more than zero")
        return None
    return Saline(amount=amount, per_kg=kind is Kind.VOLUME_PER_KG, timing=timing)


# --- Reading plan files ---------------------------------------------------------------------------


def read_document_file(path: Path) -> Mapping[str, Any]:
    """Read a plan file (TOML, or JSON by extension or content). Raises OrderError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OrderError(
            [Problem("file", str(path), "a readable UTF-8 text file", str(exc))]
        ) from exc
    return read_document_text(text, name=str(path))


def read_document_text(text: str, *, name: str = "document") -> Mapping[str, Any]:
    stripped = text.lstrip()
    if name.endswith(".json") or stripped.startswith("{"):
        try:
            data = json.loads(text, parse_float=str)
        except json.JSONDecodeError as exc:
            raise OrderError(
                [Problem(name, f"line {exc.lineno}", "valid JSON", f"not valid JSON: {exc.msg}")]
            ) from exc
        except (RecursionError, ValueError) as exc:
            raise OrderError([_unreadable(name, "valid JSON")]) from exc
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise OrderError([Problem(name, "", "valid TOML", f"not valid TOML: {exc}")]) from exc
        except (RecursionError, ValueError) as exc:
            raise OrderError([_unreadable(name, "valid TOML")]) from exc
    if not isinstance(data, dict):
        raise OrderError([Problem(name, type(data).__name__, "a table", "not a table")])
    shape = shape_problems(data, name)
    if shape:
        raise OrderError(shape)
    return data


def _unreadable(name: str, accepted: str) -> Problem:
    """Python's parsers stop on nesting thousands deep (RecursionError) and on whole numbers over
    4,300 digits (ValueError): both are documents no person wrote."""
    return Problem(
        name,
        "a document nested thousands deep or a number with thousands of digits",
        f"{accepted}, nested at most {MAX_DOCUMENT_DEPTH} deep, whole numbers below "
        f"{MAX_WHOLE_NUMBER:,}",
        "cannot be read",
    )
