"""Reading a report (the file / API format) into a :class:`Report`, with every problem named.

Problems are the order document's :class:`ivig.core.order.Problem`, gathered by its collector
(:class:`ivig.core.order.ProblemCollector`): one shape for every input problem in the program.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ivig.core import units
from ivig.core.order import Problem, ProblemCollector, shape_problems
from ivig.core.triage.data import (
    TriageData,
    catalogue_indications,
    for_comparison,
    load_triage_data,
)
from ivig.core.triage.vitals import VitalSigns
from ivig.core.units import Kind
from ivig.core.vocabulary import BLOOD_GROUPS, CONDITIONS

# One thing wrong with a report: the same shape as a problem in an order document.
InputProblem = Problem


class TriageInputError(ValueError):
    """A report that cannot be triaged. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[InputProblem]) -> None:
        if not problems:  # pragma: no cover - programming error
            raise ValueError("TriageInputError needs at least one problem")
        self.problems = tuple(problems)
        first = self.problems[0]
        self.field = first.field
        self.given = first.given
        self.accepted = first.accepted
        super().__init__("\n".join(p.message for p in self.problems))


@dataclass(frozen=True)
class Report:
    """One symptom report (one evaluation)."""

    symptoms: frozenset[str] = frozenset()
    infusion_running: bool = False
    hours_since_infusion_end: Decimal | None = None
    temperature_c: Decimal | None = None
    temperature_route: str | None = None
    fever_reducer_last_6h: bool | None = None
    headache_score: int | None = None
    age_months: Decimal | None = None
    conditions: frozenset[str] = frozenset()
    indication: str | None = None
    blood_group: str | None = None
    course_dose_g_per_kg: Decimal | None = None
    repeated_symptoms: frozenset[str] = frozenset()
    fever_threshold_c: Decimal | None = None
    fever_threshold_reason: str | None = None
    free_text: tuple[str, ...] = ()  # what the person typed, read by the lexicon
    vitals: VitalSigns | None = None  # heart rate, breathing rate, blood pressure, SpO2
    baseline_systolic_mmhg: Decimal | None = None  # the pre-infusion reading, when known


def normalise_symptom(name: str) -> str:
    """Free text to a machine name: "Stiff neck" -> "stiff_neck" (unknown names stay unknown)."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


REPORT_KEYS = (
    "symptoms",
    "free_text",
    "repeated_symptoms",
    "infusion_running",
    "hours_since_infusion_end",
    "temperature",
    "temperature_route",
    "fever_reducer_last_6h",
    "headache_score",
    "fever_threshold",
    "fever_threshold_reason",
    "date",
)
# The plan file's [patient] and [order] keys are accepted (so a plan's tables can be pasted in);
# only the ones triage uses are read. Unknown keys are refused: a typo must not drop a fact.
PATIENT_KEYS = (
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
)
COURSE_KEYS = (
    "indication",
    "dose",
    "days",
    "product",
    "concentration",
    "dosing_weight",
    "vial_rounding",
    "start",
    "titration",
    "premedication",
    "saline",
    "prescriber",
    "notes",
)
TOP_KEYS = ("report", "patient", "course", "today")
MAX_FREE_TEXT = 2000  # characters per free-text entry
MAX_FREE_TEXT_ENTRIES = 20
MAX_HOURS = Decimal(24 * 366)
MAX_TEXT = 200


def _table(
    p: ProblemCollector, value: object, field: str, keys: Sequence[str]
) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        p.add(field, value, f"a table with keys {', '.join(keys)}", "expected a table")
        return {}
    for key in value:
        if not isinstance(key, str) or key not in keys:
            p.add(f"{field}.{key}", key, ", ".join(keys), "unknown key")
    return {str(k): v for k, v in value.items() if isinstance(k, str) and k in keys}


def _names(p: ProblemCollector, value: object, field: str) -> frozenset[str]:
    accepted = 'a list of symptom names, e.g. ["mild_headache", "stiff_neck"]'
    if not isinstance(value, list | tuple):
        p.add(field, value, accepted, "expected a list")
        return frozenset()
    names = set()
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_TEXT:
            p.add(f"{field}[{index}]", item, accepted, "expected a symptom name (text)")
            continue
        names.add(normalise_symptom(item))
    return frozenset(names)


def _free_text(p: ProblemCollector, value: object, field: str) -> tuple[str, ...]:
    accepted = (
        f"what the person said, in words (English or Spanish): text, or a list of at most "
        f"{MAX_FREE_TEXT_ENTRIES} texts of at most {MAX_FREE_TEXT} characters each"
    )
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or len(items) > MAX_FREE_TEXT_ENTRIES:
        p.add(field, value, accepted, "expected text or a short list of texts")
        return ()
    texts = []
    for index, item in enumerate(items):
        here = field if isinstance(value, str) else f"{field}[{index}]"
        if not isinstance(item, str) or len(item) > MAX_FREE_TEXT:
            p.add(here, item, accepted, "expected text of at most the accepted length")
            continue
        if item.strip():
            texts.append(item.strip())
    return tuple(texts)


def _boolean(p: ProblemCollector, value: object, field: str) -> bool | None:
    if isinstance(value, bool):
        return value
    p.add(field, value, "true or false", "expected true or false")
    return None


def _date(p: ProblemCollector, value: object, field: str) -> date | None:
    accepted = 'a date written as YYYY-MM-DD, e.g. "2026-11-21"'
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    p.add(field, value, accepted, "not a valid date")
    return None


def _hours(p: ProblemCollector, value: object, field: str) -> Decimal | None:
    accepted = (
        'a number of hours (e.g. 20 or 20.5), or a duration with a unit (e.g. "20 h", "2 days")'
    )
    if isinstance(value, bool):
        p.add(field, value, accepted, "expected a number of hours")
        return None
    hours: Decimal | None = None
    if isinstance(value, int | float | Decimal):
        try:
            hours = Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - str() of a number always parses
            hours = None
    elif isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", stripped):
            hours = Decimal(stripped)
        else:
            quantity = p.quantity(value, field, Kind.DURATION)
            if quantity is None:
                return None
            hours = quantity.to("h")
    if hours is None or not hours.is_finite():
        p.add(field, value, accepted, "expected a number of hours")
        return None
    if hours < 0 or hours > MAX_HOURS:
        p.add(field, value, accepted, f"must be between 0 and {MAX_HOURS} hours")
        return None
    return hours


def _temperature_c(
    p: ProblemCollector, data: TriageData, value: object, field: str
) -> Decimal | None:
    quantity = p.quantity(value, field, Kind.TEMPERATURE)
    if quantity is None:
        return None
    celsius = units.temperature_c(quantity)
    if not data.temperature_lowest_c <= for_comparison(celsius) <= data.temperature_highest_c:
        p.add(
            field,
            value,
            f"{Kind.TEMPERATURE.value}, between {data.meta['temperature_lowest']} and "
            f"{data.meta['temperature_highest']}",
            "not a plausible body temperature (is the unit right?)",
        )
        return None
    return celsius


def report_from_mapping(data: Mapping[str, object]) -> Report:
    """Validate a report document ({report, patient, course, today}); raise TriageInputError."""
    shape = shape_problems(data)
    if shape:
        raise TriageInputError(shape)
    triage_data = load_triage_data()
    p = ProblemCollector()
    root = _table(p, data, "document", TOP_KEYS)
    if "report" not in root and isinstance(data, Mapping):
        p.add("report", None, "a [report] table", "this table is required")
    report = _table(p, root.get("report", {}), "report", REPORT_KEYS)
    patient = _table(p, root.get("patient", {}), "patient", PATIENT_KEYS)
    course = _table(p, root.get("course", {}), "course", COURSE_KEYS)
    today = _date(p, root["today"], "today") if "today" in root else None

    symptoms = _names(p, report.get("symptoms", []), "report.symptoms")
    free_text = _free_text(p, report.get("free_text", []), "report.free_text")
    repeated = _names(p, report.get("repeated_symptoms", []), "report.repeated_symptoms")
    running: bool | None = False
    if "infusion_running" in report:
        running = _boolean(p, report["infusion_running"], "report.infusion_running")
    hours = None
    if report.get("hours_since_infusion_end") is not None:
        hours = _hours(p, report["hours_since_infusion_end"], "report.hours_since_infusion_end")
        if running and hours is not None:
            p.add(
                "report.hours_since_infusion_end",
                report["hours_since_infusion_end"],
                "no value while infusion_running = true",
                "the infusion cannot be running and ended",
            )
    temperature = None
    if report.get("temperature") is not None:
        temperature = _temperature_c(p, triage_data, report["temperature"], "report.temperature")
    route = None
    if report.get("temperature_route") is not None:
        route_value = report["temperature_route"]
        if isinstance(route_value, str) and route_value.strip().lower() in triage_data.routes:
            route = route_value.strip().lower()
        else:
            p.add(
                "report.temperature_route",
                route_value,
                ", ".join(triage_data.routes),
                "not one of the accepted routes",
            )
    reducer = None
    if report.get("fever_reducer_last_6h") is not None:
        reducer = _boolean(p, report["fever_reducer_last_6h"], "report.fever_reducer_last_6h")
    score = None
    if report.get("headache_score") is not None:
        score_value = report["headache_score"]
        if (
            isinstance(score_value, int)
            and not isinstance(score_value, bool)
            and 0 <= score_value <= 10
        ):
            score = score_value
        else:
            p.add(
                "report.headache_score",
                score_value,
                "a whole number from 0 to 10",
                "not a whole number from 0 to 10",
            )
    threshold, threshold_reason = _patient_threshold(p, triage_data, report)
    report_date = (
        _date(p, report["date"], "report.date") if report.get("date") is not None else None
    )

    age_problems = len(p.problems)
    age_months = _age_months(p, patient, report_date or today)
    if temperature is not None and age_months is None and len(p.problems) == age_problems:
        p.add(
            "patient.age",
            None,
            f"{Kind.AGE.value}; or patient.birth_date with report.date (or today)",
            "needed with a temperature: the fever rules depend on age (a baby under 3 months "
            "has its own rules, an adult must not be judged by them)",
        )
    conditions = _conditions(p, patient.get("conditions", []))
    blood_group = None
    if patient.get("blood_group") is not None:
        value = patient["blood_group"]
        if isinstance(value, str) and value.strip().upper() in {g.upper() for g in BLOOD_GROUPS}:
            blood_group = None if value.strip().lower() == "unknown" else value.strip().upper()
        else:
            p.add(
                "patient.blood_group", value, ", ".join(BLOOD_GROUPS), "not an accepted blood group"
            )

    indication = None
    if course.get("indication") is not None:
        value = course["indication"]
        accepted_ids = sorted(catalogue_indications())
        if isinstance(value, str) and value.strip().lower() in accepted_ids:
            indication = value.strip().lower()
        else:
            p.add(
                "course.indication",
                value,
                ", ".join(accepted_ids),
                "not an indication id of the catalogue",
            )
    dose = _course_dose(p, course, patient)

    if p.problems:
        raise TriageInputError(p.problems)
    return Report(
        symptoms=symptoms,
        infusion_running=bool(running),
        hours_since_infusion_end=hours,
        temperature_c=temperature,
        temperature_route=route,
        fever_reducer_last_6h=reducer,
        headache_score=score,
        age_months=age_months,
        conditions=conditions,
        indication=indication,
        blood_group=blood_group,
        course_dose_g_per_kg=dose,
        repeated_symptoms=repeated,
        fever_threshold_c=threshold,
        fever_threshold_reason=threshold_reason,
        free_text=free_text,
    )


def _patient_threshold(
    p: ProblemCollector, data: TriageData, report: Mapping[str, object]
) -> tuple[Decimal | None, str | None]:
    value = report.get("fever_threshold")
    reason_value = report.get("fever_threshold_reason")
    reason: str | None = None
    if reason_value is not None:
        if isinstance(reason_value, str) and reason_value.strip() and len(reason_value) <= MAX_TEXT:
            reason = reason_value.strip()
        else:
            p.add(
                "report.fever_threshold_reason",
                reason_value,
                f"the care team's reason in words (at most {MAX_TEXT} characters)",
                "expected non-empty text",
            )
            return None, None
    if value is None:
        if reason is not None:
            p.add(
                "report.fever_threshold",
                None,
                Kind.TEMPERATURE.value,
                "a reason was given without the threshold",
            )
        return None, None
    quantity = p.quantity(value, "report.fever_threshold", Kind.TEMPERATURE)
    if quantity is None:
        return None, None
    threshold = units.temperature_c(quantity)
    pt = data.patient_threshold
    if not pt.lowest_c <= for_comparison(threshold) <= pt.highest_c:
        p.add(
            "report.fever_threshold",
            value,
            f"between {pt.lowest_text} and {pt.highest_text}",
            "outside the range a care team may set",
        )
        return None, None
    if reason is None:
        p.add(
            "report.fever_threshold_reason",
            reason_value,
            'the care team\'s reason in words, e.g. "usual post-infusion fever; agreed with Dr X"',
            "a patient-specific fever threshold needs a recorded reason",
        )
        return None, None
    return threshold, reason


def _age_months(
    p: ProblemCollector, patient: Mapping[str, object], on: date | None
) -> Decimal | None:
    age_value = patient.get("age")
    birth_value = patient.get("birth_date")
    if age_value is not None and birth_value is not None:
        p.add("patient.age", age_value, "either birth_date or age, not both", "both were given")
        return None
    if age_value is not None:
        quantity = p.quantity(age_value, "patient.age", Kind.AGE)
        if quantity is None:
            return None
        if quantity.magnitude < 0 or units.years(quantity) > 130:
            p.add("patient.age", age_value, Kind.AGE.value, "must be between 0 and 130 years")
            return None
        return units.months_from_years(units.years(quantity))
    if birth_value is not None:
        birth = _date(p, birth_value, "patient.birth_date")
        if birth is None:
            return None
        if on is None:
            p.add(
                "patient.birth_date",
                birth_value,
                "a birth date together with report.date or today (YYYY-MM-DD)",
                "the date of the report is needed to work out the age",
            )
            return None
        if birth > on:
            p.add(
                "patient.birth_date",
                birth_value,
                f"a date on or before {on.isoformat()}",
                "the birth date is after the report date",
            )
            return None
        return units.months_from_years(units.years_between(birth, on))
    return None


def _conditions(p: ProblemCollector, value: object) -> frozenset[str]:
    accepted = "a list of condition codes: " + ", ".join(sorted(CONDITIONS))
    if not isinstance(value, list | tuple):
        p.add("patient.conditions", value, accepted, "expected a list")
        return frozenset()
    codes = set()
    for index, item in enumerate(value):
        if isinstance(item, str) and item.strip().lower() in CONDITIONS:
            codes.add(item.strip().lower())
        else:
            p.add(f"patient.conditions[{index}]", item, accepted, "not a known condition code")
    return frozenset(codes)


def _course_dose(
    p: ProblemCollector, course: Mapping[str, object], patient: Mapping[str, object]
) -> Decimal | None:
    """Course dose per kg: "2 g/kg"; or a daily dose per kg with `days`; or grams with weight."""
    value = course.get("dose")
    if value is None:
        return None
    kinds = (Kind.DOSE_PER_KG, Kind.DOSE_PER_KG_PER_DAY, Kind.DOSE_FIXED)
    parsed = p.quantity_any(value, "course.dose", kinds)
    if parsed is None:
        return None
    kind, quantity = parsed
    if quantity.magnitude <= 0:
        p.add("course.dose", value, "a dose more than zero", "must be more than zero")
        return None
    if kind is Kind.DOSE_PER_KG:
        return units.grams_per_kg(quantity)
    if kind is Kind.DOSE_PER_KG_PER_DAY:
        days = course.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 5:
            p.add(
                "course.days",
                days,
                "a whole number of days from 1 to 5",
                "needed with a daily dose to know the course dose",
            )
            return None
        return units.grams_per_kg_per_day(quantity) * days
    weight = patient.get("weight")
    if weight is None:
        p.add("patient.weight", None, Kind.MASS.value, "needed with a dose in grams")
        return None
    weight_q = p.quantity(weight, "patient.weight", Kind.MASS)
    if weight_q is None:
        return None
    weight_kg = units.mass_kg(weight_q)
    if weight_kg <= 0:
        p.add("patient.weight", weight, Kind.MASS.value, "must be more than zero")
        return None
    return units.grams(quantity) / weight_kg
