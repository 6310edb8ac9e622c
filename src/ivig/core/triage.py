"""Symptom reports -> urgency (emergency / call the care team / expected), reasons and advice.

Every symptom, threshold, rule, advice line and source lives in ``ivig/data/triage.toml``; this
module only *interprets* that file. The promises it keeps (reference section 3):

- G1: the level is the maximum over every symptom, temperature rule, combination rule and
  modifier that fires. Facts only ever add, so adding a symptom or a risk factor can never lower
  the level, and a time window never lowers an emergency sign.
- G3: while the infusion runs, any symptom is at least ``call_doctor`` ("tell the nurse now");
  an emergency stops the infusion.
- G4: an unknown symptom is ``call_doctor``; a missing answer never counts as "no" (an unknown
  age applies the infant rules, an unknown blood group or dose counts as the risky value), and
  the result asks the question.

Pure: no Django, no database, no network; the only I/O is reading the package data file.
Temperatures are parsed and converted by :mod:`ivig.core.units` only.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from ivig.core import units
from ivig.core.order import Problem, shape_problems
from ivig.core.units import Kind, QuantityError
from ivig.core.vocabulary import BLOOD_GROUPS, CONDITIONS

LEVELS: tuple[str, ...] = ("expected", "call_doctor", "emergency")  # lowest first
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
LANGUAGES = ("en", "es")
UNKNOWN_ROUTE = "unknown"
DATA_FILE = "triage.toml"

# Comparisons of temperatures are made in °C after conversion; both sides are rounded to 9
# decimal places so that a reading in °F and its exact °C equivalent compare equal.
_COMPARE_PLACES = Decimal("1e-9")


# --- Errors -------------------------------------------------------------------------------------


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


class TriageDataError(RuntimeError):
    """The triage data file is inconsistent (found at load time, never during a triage)."""


# --- Public types -------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Reason:
    code: str
    level: str
    message_en: str
    message_es: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class TriageResult:
    level: str
    reasons: tuple[Reason, ...]
    advice_en: tuple[str, ...]
    advice_es: tuple[str, ...]
    stop_infusion: bool
    tags: frozenset[str]
    questions_to_ask: tuple[str, ...]
    questions_to_ask_es: tuple[str, ...] = ()
    within_hours: bool = False
    infusion_running: bool = False
    notes_en: tuple[str, ...] = ()
    notes_es: tuple[str, ...] = ()
    patient_fever_threshold: str | None = None
    patient_fever_threshold_reason: str | None = None


# --- Data model (loaded from triage.toml) -------------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str
    document: str
    date: str
    where: str
    strength: str


@dataclass(frozen=True)
class Symptom:
    name: str
    level: str
    en: str
    es: str
    organ_group: str
    windows: tuple[str, ...]
    may_signal: str
    sources: tuple[str, ...]
    conservative: bool
    within_hours: bool
    tags: tuple[str, ...]
    advice: tuple[str, ...]
    questions: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Clause:
    """Holds when every ``all_of`` group has a present name and ``at_least`` ``of`` groups do."""

    all_of: tuple[frozenset[str], ...]
    at_least: int
    of: tuple[frozenset[str], ...]

    def holds(self, present: frozenset[str]) -> bool:
        if not all(group & present for group in self.all_of):
            return False
        return sum(1 for group in self.of if group & present) >= self.at_least

    def names(self) -> frozenset[str]:
        return frozenset().union(*self.all_of, *self.of)


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    level: str
    clauses: tuple[Clause, ...]
    en: str
    es: str
    sources: tuple[str, ...]
    conservative: bool
    within_hours: bool
    tags: tuple[str, ...]
    advice: tuple[str, ...]
    questions: tuple[str, ...]
    note: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def fires(self, present: frozenset[str]) -> bool:
        return any(clause.holds(present) for clause in self.clauses)


@dataclass(frozen=True)
class Threshold:
    text: str
    value_c: Decimal
    inclusive: bool  # at_or_above (True) or above (False)
    routes: frozenset[str] | None  # None: every route, including an unknown route

    def met(self, temperature_c: Decimal, route: str) -> bool:
        if self.routes is not None and route not in self.routes:
            return False
        reading = _for_comparison(temperature_c)
        return reading >= self.value_c if self.inclusive else reading > self.value_c

    @property
    def words(self) -> str:
        return ("≥ " if self.inclusive else "> ") + self.text


@dataclass(frozen=True)
class TemperatureRule:
    id: str
    level: str
    thresholds: tuple[Threshold, ...]
    age_below_months: Decimal | None
    age_from_months: Decimal | None
    risk_factor: str | None
    replaceable: bool
    within_hours: bool
    conservative: bool
    tags: tuple[str, ...]
    sources: tuple[str, ...]
    en: str
    es: str
    note: str

    def applies_to_age(self, age_months: Decimal | None) -> bool:
        if age_months is None:
            return True  # never assumed false
        if self.age_below_months is not None and age_months >= self.age_below_months:
            return False
        return not (self.age_from_months is not None and age_months < self.age_from_months)


@dataclass(frozen=True)
class PatientThresholdRule:
    id: str
    level: str
    lowest_c: Decimal
    highest_c: Decimal
    lowest_text: str
    highest_text: str
    sources: tuple[str, ...]
    en: str
    es: str
    note: str


@dataclass(frozen=True)
class RiskFactor:
    name: str
    en: str
    conditions: frozenset[str]
    indications: frozenset[str]
    symptoms: frozenset[str]
    age_over_years: Decimal | None
    sources: tuple[str, ...]
    conservative: bool
    note: str


@dataclass(frozen=True)
class Advice:
    id: str
    en: str
    es: str
    sources: tuple[str, ...]
    only_when: frozenset[str]
    unless: frozenset[str]
    always: bool


@dataclass(frozen=True)
class Question:
    id: str
    en: str
    es: str
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Fact:
    name: str
    en: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class CheckIn:
    from_h: Decimal
    to_h: Decimal
    label: str
    focus_en: str
    focus_es: str


@dataclass(frozen=True)
class CheckInTier:
    name: str
    criteria_en: str
    sources: tuple[str, ...]
    checkins: tuple[CheckIn, ...]
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class TriageData:
    meta: Mapping[str, Any]
    sources: Mapping[str, Source]
    windows: Mapping[str, Mapping[str, Any]]
    organ_groups: Mapping[str, str]
    symptoms: Mapping[str, Symptom]
    risk_factors: Mapping[str, RiskFactor]
    facts: Mapping[str, Fact]
    temperature_rules: tuple[TemperatureRule, ...]
    patient_threshold: PatientThresholdRule
    rules: tuple[Rule, ...]
    advice: Mapping[str, Advice]
    level_actions: Mapping[str, Mapping[str, tuple[str, ...]]]
    questions: Mapping[str, Question]
    text: Mapping[str, Mapping[str, str]]
    checkin_tiers: Mapping[str, CheckInTier]
    routes: tuple[str, ...]
    temperature_lowest_c: Decimal
    temperature_highest_c: Decimal

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def words(self, key: str, language: str) -> str:
        return self.text[key][language]

    def source_line(self, key: str) -> str:
        source = self.sources[key]
        return f"{key}: {source.document} ({source.date})"


# --- Loading and validating the data file -------------------------------------------------------

# Facts the engine derives. The data file must describe exactly these (checked at load).
_ENGINE_FACTS = frozenset(
    {
        "fever_present",
        "fever_by_call_threshold",
        "temperature_below_thresholds",
        "temperature_not_measured",
        "infant_under_3_months_or_age_unknown",
        "any_emergency_sign",
        "headache_moderate_or_worse",
        "headache_score_at_or_above_call",
        "non_o_blood_group_or_unknown",
        "hemolysis_dose_or_unknown",
        "high_dose_or_unknown",
        "infusion_running",
        "any_symptom",
        "unknown_symptom",
        "expected_symptom",
        "after_expected_window",
        "time_since_end_unknown",
        "early_reaction_window",
        "kd_nonresponse_time",
        "age_unknown",
        "headache_score_missing",
        "temperature_route_missing",
        "fever_reducer_may_mask",
        "blood_group_or_dose_missing",
    }
)
_RULE_KINDS = frozenset({"combination", "stop_infusion", "repeat", "organ_groups"})
_ENGINE_RULES = ("G3", "G3-STOP", "G4", "G5")
_CHECKIN_TIERS = (
    "standard",
    "elevated",
    "haemolysis",
    "renal",
    "thrombosis",
    "kawasaki",
    "infant",
    "immunodeficiency",
)
_REQUIRED_TEXT = (
    "heading_emergency",
    "heading_call_doctor",
    "heading_call_doctor_within_hours",
    "heading_call_doctor_running",
    "heading_expected",
    "stop_infusion",
    "why",
    "what_to_do",
    "questions",
    "notes",
    "sources",
    "tags",
    "disclaimer",
    "if_in_doubt",
    "nothing_reported",
    "unknown_symptom",
    "measured",
    "route_unknown",
    "patient_threshold_used",
    "patient_threshold_not_reached",
    "age_unknown",
    "typical_window",
)
_HEADACHE_SYMPTOMS = ("mild_headache", "headache_not_settling", "sudden_severe_headache")
_FEVER_SYMPTOMS = ("fever", "fever_after_kawasaki_ivig", "fever_infant_under_3_months")
_INFANT_SYMPTOMS = ("fever_infant_under_3_months",)


class _DataReader:
    """Reads the raw TOML with checks; collects every problem before failing."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def table(self, value: object, where: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.fail(where, "expected a table")
        return {}

    def text(
        self, table: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        value = table.get(key, default)
        if isinstance(value, str) and (value.strip() or default == ""):
            return value
        self.fail(f"{where}.{key}", "expected non-empty text")
        return ""

    def strings(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        self.fail(f"{where}.{key}", "expected a list of text")
        return ()

    def flag(self, table: Mapping[str, Any], key: str, where: str) -> bool:
        value = table.get(key, False)
        if isinstance(value, bool):
            return value
        self.fail(f"{where}.{key}", "expected true or false")
        return False

    def level(self, table: Mapping[str, Any], where: str) -> str:
        value = table.get("level")
        if value in _RANK:
            return str(value)
        self.fail(f"{where}.level", f"expected one of {', '.join(LEVELS)}")
        return "call_doctor"

    def temperature(self, value: object, where: str) -> Decimal:
        try:
            return _for_comparison(units.temperature_c(units.parse(value, where, Kind.TEMPERATURE)))
        except QuantityError as exc:
            self.fail(where, str(exc))
            return Decimal(0)

    def number(self, value: object, where: str) -> Decimal:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
        self.fail(where, "expected a number")
        return Decimal(0)


def _clauses(reader: _DataReader, raw: object, where: str) -> tuple[Clause, ...]:
    if not isinstance(raw, list) or not raw:
        reader.fail(where, "expected a non-empty list of clauses")
        return ()
    result = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        table = reader.table(item, here)
        unknown = set(table) - {"all_of", "at_least", "of"}
        if unknown:
            reader.fail(here, f"unknown keys {sorted(unknown)}")

        def groups(
            key: str, table: Mapping[str, Any] = table, here: str = here
        ) -> tuple[frozenset[str], ...]:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(
                isinstance(g, list) and g and all(isinstance(n, str) for n in g) for g in value
            ):
                reader.fail(f"{here}.{key}", "expected a list of non-empty lists of names")
                return ()
            return tuple(frozenset(g) for g in value)

        all_of = groups("all_of")
        of = groups("of")
        at_least = table.get("at_least", 0)
        if not isinstance(at_least, int) or isinstance(at_least, bool) or at_least < 0:
            reader.fail(f"{here}.at_least", "expected a whole number")
            at_least = 0
        if at_least > len(of):
            reader.fail(here, "at_least is more than the number of groups in `of`")
        if not all_of and not at_least:
            reader.fail(here, "a clause needs all_of or at_least/of")
        result.append(Clause(all_of=all_of, at_least=at_least, of=of))
    return tuple(result)


def _parse_data(raw: Mapping[str, Any]) -> TriageData:
    r = _DataReader()
    meta = r.table(raw.get("meta"), "meta")
    if tuple(meta.get("levels", ())) != LEVELS:
        r.fail("meta.levels", f"must be {list(LEVELS)} (lowest first)")
    routes = r.strings(meta, "routes", "meta")
    lowest_c = r.temperature(meta.get("temperature_lowest"), "meta.temperature_lowest")
    highest_c = r.temperature(meta.get("temperature_highest"), "meta.temperature_highest")

    sources: dict[str, Source] = {}
    for key, value in r.table(raw.get("sources"), "sources").items():
        t = r.table(value, f"sources.{key}")
        where = f"sources.{key}"
        sources[key] = Source(
            key,
            r.text(t, "document", where),
            r.text(t, "date", where),
            r.text(t, "where", where),
            r.text(t, "strength", where),
        )
    used_sources: list[tuple[str, tuple[str, ...]]] = []

    def cite(where: str, keys: tuple[str, ...]) -> tuple[str, ...]:
        if not keys:
            r.fail(where, "at least one source key is required")
        used_sources.append((where, keys))
        return keys

    windows = {
        k: r.table(v, f"windows.{k}") for k, v in r.table(raw.get("windows"), "windows").items()
    }
    organ_groups = {
        str(k): str(v) for k, v in r.table(raw.get("organ_groups"), "organ_groups").items()
    }

    symptoms: dict[str, Symptom] = {}
    for name, value in r.table(raw.get("symptoms"), "symptoms").items():
        where = f"symptoms.{name}"
        t = r.table(value, where)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            r.fail(where, "a machine name is lower-case letters, digits and underscores")
        symptom = Symptom(
            name=name,
            level=r.level(t, where),
            en=r.text(t, "en", where),
            es=r.text(t, "es", where),
            organ_group=r.text(t, "organ_group", where),
            windows=r.strings(t, "windows", where),
            may_signal=r.text(t, "may_signal", where),
            sources=cite(where, r.strings(t, "sources", where)),
            conservative=r.flag(t, "conservative", where),
            within_hours=r.flag(t, "within_hours", where),
            tags=r.strings(t, "tags", where),
            advice=r.strings(t, "advice", where),
            questions=r.strings(t, "questions", where),
            note=r.text(t, "note", where, default=""),
        )
        if symptom.organ_group not in organ_groups:
            r.fail(f"{where}.organ_group", f"unknown organ group {symptom.organ_group!r}")
        for code in symptom.windows:
            if code not in windows:
                r.fail(f"{where}.windows", f"unknown window code {code!r}")
        if not symptom.windows:
            r.fail(f"{where}.windows", "at least one window code is required")
        symptoms[name] = symptom

    catalogue_indications = _catalogue_indications()

    risk_factors: dict[str, RiskFactor] = {}
    for name, value in r.table(raw.get("risk_factors"), "risk_factors").items():
        where = f"risk_factors.{name}"
        t = r.table(value, where)
        age = t.get("age_over_years")
        factor = RiskFactor(
            name=name,
            en=r.text(t, "en", where),
            conditions=frozenset(r.strings(t, "conditions", where)),
            indications=frozenset(r.strings(t, "indications", where)),
            symptoms=frozenset(r.strings(t, "symptoms", where)),
            age_over_years=None if age is None else r.number(age, f"{where}.age_over_years"),
            sources=cite(where, r.strings(t, "sources", where)),
            conservative=r.flag(t, "conservative", where),
            note=r.text(t, "note", where, default=""),
        )
        for code in factor.conditions - set(CONDITIONS):
            r.fail(f"{where}.conditions", f"{code!r} is not a condition of the plan vocabulary")
        for code in factor.indications - catalogue_indications:
            r.fail(f"{where}.indications", f"{code!r} is not an indication id of the catalogue")
        for code in factor.symptoms - set(symptoms):
            r.fail(f"{where}.symptoms", f"unknown symptom {code!r}")
        risk_factors[name] = factor

    facts: dict[str, Fact] = {}
    for name, value in r.table(raw.get("facts"), "facts").items():
        t = r.table(value, f"facts.{name}")
        facts[name] = Fact(
            name, r.text(t, "en", f"facts.{name}"), {k: v for k, v in t.items() if k != "en"}
        )
    if set(facts) != _ENGINE_FACTS:
        missing = sorted(_ENGINE_FACTS - set(facts))
        extra = sorted(set(facts) - _ENGINE_FACTS)
        r.fail(
            "facts", f"must describe exactly the engine's facts; missing {missing}, unknown {extra}"
        )
    clash = (
        (set(facts) & set(symptoms))
        | (set(facts) & set(risk_factors))
        | (set(symptoms) & set(risk_factors))
    )
    if clash:
        r.fail("names", f"symptom, risk factor and fact names must differ: {sorted(clash)}")
    names = set(symptoms) | set(risk_factors) | set(facts)

    temperature_rules: list[TemperatureRule] = []
    for index, value in enumerate(raw.get("temperature_rules", [])):
        t = r.table(value, f"temperature_rules[{index}]")
        rule_id = r.text(t, "id", f"temperature_rules[{index}]")
        where = f"temperature_rules.{rule_id}"
        thresholds = []
        for j, th in enumerate(t.get("thresholds", [])):
            th_t = r.table(th, f"{where}.thresholds[{j}]")
            inclusive = "at_or_above" in th_t
            threshold_text = th_t.get("at_or_above", th_t.get("above"))
            if ("at_or_above" in th_t) == ("above" in th_t):
                r.fail(f"{where}.thresholds[{j}]", "give exactly one of at_or_above or above")
            th_routes = th_t.get("routes")
            if th_routes is not None and (
                not isinstance(th_routes, list)
                or not set(th_routes) <= set(routes) | {UNKNOWN_ROUTE}
            ):
                r.fail(f"{where}.thresholds[{j}].routes", f"routes are {routes} or 'unknown'")
                th_routes = None
            thresholds.append(
                Threshold(
                    text=str(threshold_text),
                    value_c=r.temperature(threshold_text, f"{where}.thresholds[{j}]"),
                    inclusive=inclusive,
                    routes=None if th_routes is None else frozenset(th_routes),
                )
            )
        if not thresholds:
            r.fail(where, "at least one threshold is required")
        below = t.get("age_below_months")
        above = t.get("age_from_months")
        risk = t.get("risk_factor")
        if risk is not None and risk not in risk_factors:
            r.fail(f"{where}.risk_factor", f"unknown risk factor {risk!r}")
        temperature_rules.append(
            TemperatureRule(
                id=rule_id,
                level=r.level(t, where),
                thresholds=tuple(thresholds),
                age_below_months=None if below is None else r.number(below, where),
                age_from_months=None if above is None else r.number(above, where),
                risk_factor=None if risk is None else str(risk),
                replaceable=r.flag(t, "replaceable", where),
                within_hours=r.flag(t, "within_hours", where),
                conservative=r.flag(t, "conservative", where),
                tags=r.strings(t, "tags", where),
                sources=cite(where, r.strings(t, "sources", where)),
                en=r.text(t, "en", where),
                es=r.text(t, "es", where),
                note=r.text(t, "note", where, default=""),
            )
        )

    pt = r.table(raw.get("patient_fever_threshold"), "patient_fever_threshold")
    patient_threshold = PatientThresholdRule(
        id=r.text(pt, "id", "patient_fever_threshold"),
        level=r.level(pt, "patient_fever_threshold"),
        lowest_c=r.temperature(pt.get("lowest"), "patient_fever_threshold.lowest"),
        highest_c=r.temperature(pt.get("highest"), "patient_fever_threshold.highest"),
        lowest_text=str(pt.get("lowest")),
        highest_text=str(pt.get("highest")),
        sources=cite(
            "patient_fever_threshold", r.strings(pt, "sources", "patient_fever_threshold")
        ),
        en=r.text(pt, "en", "patient_fever_threshold"),
        es=r.text(pt, "es", "patient_fever_threshold"),
        note=r.text(pt, "note", "patient_fever_threshold", default=""),
    )

    rules: list[Rule] = []
    for index, value in enumerate(raw.get("rules", [])):
        t = r.table(value, f"rules[{index}]")
        rule_id = r.text(t, "id", f"rules[{index}]")
        where = f"rules.{rule_id}"
        kind = str(t.get("kind", "combination"))
        if kind not in _RULE_KINDS:
            r.fail(f"{where}.kind", f"unknown kind {kind!r}")
        level = r.level(t, where) if kind != "repeat" else "expected"
        clauses = _clauses(r, t.get("when"), f"{where}.when") if kind == "combination" else ()
        for clause in clauses:
            for name in sorted(clause.names() - names):
                r.fail(f"{where}.when", f"unknown symptom, risk factor or fact {name!r}")
        params = {k: v for k, v in t.items() if k in ("steps", "min_groups", "symptom_level")}
        if kind == "repeat" and not isinstance(params.get("steps"), int):
            r.fail(f"{where}.steps", "expected a whole number")
        if kind == "organ_groups" and (
            not isinstance(params.get("min_groups"), int)
            or params.get("symptom_level") not in _RANK
        ):
            r.fail(where, "organ_groups needs min_groups and symptom_level")
        rules.append(
            Rule(
                id=rule_id,
                kind=kind,
                level=level,
                clauses=clauses,
                en=r.text(t, "en", where),
                es=r.text(t, "es", where),
                sources=cite(where, r.strings(t, "sources", where)),
                conservative=r.flag(t, "conservative", where),
                within_hours=r.flag(t, "within_hours", where),
                tags=r.strings(t, "tags", where),
                advice=r.strings(t, "advice", where),
                questions=r.strings(t, "questions", where),
                note=r.text(t, "note", where, default=""),
                params=params,
            )
        )
    ids = (
        [rule.id for rule in rules]
        + [rule.id for rule in temperature_rules]
        + [patient_threshold.id]
    )
    if len(ids) != len(set(ids)):
        r.fail("rules", "rule ids must be unique")
    for rule_id in _ENGINE_RULES:
        if rule_id not in ids:
            r.fail("rules", f"rule {rule_id} is required by the engine")
    for kind in ("stop_infusion", "repeat"):
        if sum(1 for rule in rules if rule.kind == kind) != 1:
            r.fail("rules", f"exactly one rule of kind {kind!r} is required")

    advice: dict[str, Advice] = {}
    for key, value in r.table(raw.get("advice"), "advice").items():
        where = f"advice.{key}"
        t = r.table(value, where)
        advice[key] = Advice(
            id=key,
            en=r.text(t, "en", where),
            es=r.text(t, "es", where),
            sources=cite(where, r.strings(t, "sources", where)),
            only_when=frozenset(r.strings(t, "only_when", where)),
            unless=frozenset(r.strings(t, "unless", where)),
            always=r.flag(t, "always", where),
        )
        for name in sorted((advice[key].only_when | advice[key].unless) - names):
            r.fail(where, f"unknown name {name!r}")

    level_actions: dict[str, dict[str, tuple[str, ...]]] = {}
    raw_actions = r.table(raw.get("level_actions"), "level_actions")
    for level in LEVELS:
        t = r.table(raw_actions.get(level), f"level_actions.{level}")
        level_actions[level] = {
            k: r.strings(t, k, f"level_actions.{level}")
            for k in ("advice", "within_hours", "running", "closing")
        }

    questions: dict[str, Question] = {}
    for key, value in r.table(raw.get("questions"), "questions").items():
        where = f"questions.{key}"
        t = r.table(value, where)
        clauses = _clauses(r, t["when"], f"{where}.when") if "when" in t else ()
        for clause in clauses:
            for name in sorted(clause.names() - names):
                r.fail(f"{where}.when", f"unknown name {name!r}")
        questions[key] = Question(key, r.text(t, "en", where), r.text(t, "es", where), clauses)

    text: dict[str, dict[str, str]] = {}
    for key, value in r.table(raw.get("text"), "text").items():
        t = r.table(value, f"text.{key}")
        text[key] = {lang: r.text(t, lang, f"text.{key}") for lang in LANGUAGES}
    for key in _REQUIRED_TEXT:
        if key not in text:
            r.fail("text", f"missing {key!r}")
    for route in routes:
        if f"route_{route}" not in text:
            r.fail("text", f"missing 'route_{route}'")

    # A row marked conservative must say why (the note is shown in docs/triage.md).
    marked = [(f"symptoms.{x.name}", x.conservative, x.note) for x in symptoms.values()]
    marked += [(f"rules.{x.id}", x.conservative, x.note) for x in rules]
    marked += [(f"temperature_rules.{x.id}", x.conservative, x.note) for x in temperature_rules]
    marked += [(f"risk_factors.{x.name}", x.conservative, x.note) for x in risk_factors.values()]
    for where, conservative, note in marked:
        if conservative and not note:
            r.fail(where, "a conservative choice needs a note saying why")

    # Cross references.
    for where, keys in used_sources:
        for key in keys:
            if key not in sources:
                r.fail(where, f"unknown source key {key!r}")
    advice_refs = [(f"symptoms.{s.name}", s.advice) for s in symptoms.values()]
    advice_refs += [(f"rules.{rule.id}", rule.advice) for rule in rules]
    advice_refs += [
        (f"level_actions.{lv}", ids_)
        for lv, acts in level_actions.items()
        for ids_ in acts.values()
    ]
    for where, refs in advice_refs:
        for ref in refs:
            if ref not in advice:
                r.fail(where, f"unknown advice {ref!r}")
    question_refs = [(f"symptoms.{s.name}", s.questions) for s in symptoms.values()]
    question_refs += [(f"rules.{rule.id}", rule.questions) for rule in rules]
    for where, refs in question_refs:
        for ref in refs:
            if ref not in questions:
                r.fail(where, f"unknown question {ref!r}")

    tiers = _checkin_tiers(r, raw.get("checkins"), sources)

    if r.problems:
        raise TriageDataError("triage data file is not valid:\n" + "\n".join(r.problems))
    return TriageData(
        meta=meta,
        sources=sources,
        windows=windows,
        organ_groups=organ_groups,
        symptoms=symptoms,
        risk_factors=risk_factors,
        facts=facts,
        temperature_rules=tuple(temperature_rules),
        patient_threshold=patient_threshold,
        rules=tuple(rules),
        advice=advice,
        level_actions=level_actions,
        questions=questions,
        text=text,
        checkin_tiers=tiers,
        routes=routes,
        temperature_lowest_c=lowest_c,
        temperature_highest_c=highest_c,
    )


def _checkin_tiers(
    r: _DataReader, raw: object, sources: Mapping[str, Source]
) -> dict[str, CheckInTier]:
    checkins = r.table(raw, "checkins")
    for key in checkins.get("sources", []):
        if key not in sources:
            r.fail("checkins.sources", f"unknown source key {key!r}")
    tiers: dict[str, CheckInTier] = {}
    for name, value in r.table(checkins.get("tiers"), "checkins.tiers").items():
        where = f"checkins.tiers.{name}"
        t = r.table(value, where)
        tier_sources = r.strings(t, "sources", where)
        for key in tier_sources:
            if key not in sources:
                r.fail(f"{where}.sources", f"unknown source key {key!r}")
        items = []
        for index, item in enumerate(t.get("checkins", [])):
            c = r.table(item, f"{where}.checkins[{index}]")
            here = f"{where}.checkins[{index}]"
            from_h = r.number(c.get("from_h"), f"{here}.from_h")
            to_h = r.number(c.get("to_h"), f"{here}.to_h")
            if to_h < from_h or from_h < 0:
                r.fail(here, "hours must satisfy 0 <= from_h <= to_h")
            items.append(
                CheckIn(
                    from_h,
                    to_h,
                    r.text(c, "label", here),
                    r.text(c, "focus_en", here),
                    r.text(c, "focus_es", here),
                )
            )
        for code in t.get("criteria_conditions", []):
            if code not in CONDITIONS:
                r.fail(f"{where}.criteria_conditions", f"unknown condition {code!r}")
        extra = {k: v for k, v in t.items() if k not in ("criteria_en", "sources", "checkins")}
        tiers[name] = CheckInTier(
            name, r.text(t, "criteria_en", where), tier_sources, tuple(items), extra
        )
    for name in _CHECKIN_TIERS:
        if name not in tiers:
            r.fail("checkins.tiers", f"missing tier {name!r}")
    return tiers


@lru_cache(maxsize=1)
def _catalogue_indications() -> frozenset[str]:
    """The indication ids of the catalogue: the one vocabulary for course.indication."""
    from ivig.core.catalogue import load_catalogue

    return frozenset(load_catalogue().indications)


def parse_triage_data(text: str) -> TriageData:
    """Parse and validate triage data from TOML text (used by tests to check the validation)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageDataError(f"triage data file is not valid TOML: {exc}") from exc
    return _parse_data(raw)


@lru_cache(maxsize=1)
def load_triage_data() -> TriageData:
    """The package's triage rules (read once, validated; a bad file raises TriageDataError)."""
    text = resources.files("ivig.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_triage_data(text)


# --- Evaluation ---------------------------------------------------------------------------------


def _for_comparison(value: Decimal) -> Decimal:
    return value.quantize(_COMPARE_PLACES, rounding=ROUND_HALF_EVEN)


def normalise_symptom(name: str) -> str:
    """Free text to a machine name: "Stiff neck" -> "stiff_neck" (unknown names stay unknown)."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _max_level(levels: Iterable[str]) -> str:
    return max(levels, key=lambda level: _RANK[level], default="expected")


def _raise_level(level: str, steps: int) -> str:
    return LEVELS[min(len(LEVELS) - 1, _RANK[level] + steps)]


def format_temperature(temperature_c: Decimal) -> str:
    """A temperature in °C and in °F, one decimal each, for people."""
    quantity = units.parse(f"{temperature_c:f} °C", "temperature", Kind.TEMPERATURE)
    fahrenheit = quantity.to("degF")
    c = units.round_half_up(temperature_c, 1)
    f = units.round_half_up(fahrenheit, 1)
    return f"{c} °C / {f} °F"


@dataclass
class _Fired:
    """One reason that fired, with what it adds besides the level."""

    reason: Reason
    within_hours: bool = False
    tags: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()


@dataclass
class _Evaluation:
    data: TriageData
    report: Report
    present: set[str] = field(default_factory=set)
    fired: list[_Fired] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    def fire(
        self,
        code: str,
        level: str,
        en: str,
        es: str,
        sources: Sequence[str],
        *,
        within_hours: bool = False,
        tags: Sequence[str] = (),
        advice: Sequence[str] = (),
        questions: Sequence[str] = (),
    ) -> None:
        self.fired.append(
            _Fired(
                Reason(code, level, en, es, tuple(sources)),
                within_hours,
                tuple(tags),
                tuple(advice),
                tuple(questions),
            )
        )

    def fire_rule(
        self, rule: Rule, level: str | None = None, suffix: tuple[str, str] = ("", "")
    ) -> None:
        self.fire(
            rule.id,
            level or rule.level,
            rule.en + suffix[0],
            rule.es + suffix[1],
            rule.sources,
            within_hours=rule.within_hours,
            tags=rule.tags,
            advice=rule.advice,
            questions=rule.questions,
        )

    def note(self, key: str, **values: str) -> None:
        self.notes.append(
            (
                self.data.words(key, "en").format(**values),
                self.data.words(key, "es").format(**values),
            )
        )


def evaluate(report: Report) -> TriageResult:
    """Triage one report. Pure; the rules come from the data file."""
    data = load_triage_data()
    ev = _Evaluation(data, report)
    present = ev.present
    symptoms = frozenset(normalise_symptom(s) for s in report.symptoms | report.repeated_symptoms)
    repeated = frozenset(normalise_symptom(s) for s in report.repeated_symptoms)
    known = sorted(s for s in symptoms if s in data.symptoms)
    unknown = sorted(s for s in symptoms if s not in data.symptoms)
    present.update(known)

    # Report facts and risk factors (each only ever adds to `present`).
    running = report.infusion_running
    hours = None if running else report.hours_since_infusion_end
    if running:
        present.add("infusion_running")
    if symptoms:
        present.add("any_symptom")
    if unknown:
        present.add("unknown_symptom")
    if any(data.symptoms[s].level == "expected" for s in known):
        present.add("expected_symptom")
    if any(data.symptoms[s].level == "emergency" for s in known):
        present.add("any_emergency_sign")
    age = report.age_months
    infant_age = Decimal(
        str(data.facts["infant_under_3_months_or_age_unknown"].params["age_below_months"])
    )
    if age is None:
        present.add("age_unknown")
    if age is None or age < infant_age or any(s in present for s in _INFANT_SYMPTOMS):
        present.add("infant_under_3_months_or_age_unknown")
    _risk_factor_facts(data, report, present)
    _time_facts(data, report, present, hours)
    _dose_and_blood_facts(data, report, present)
    _headache_facts(data, report, present)

    # Temperature (section 2) before the combination rules: it sets the fever facts.
    _temperature(ev)

    # Symptoms on their own.
    for name in known:
        symptom = data.symptoms[name]
        ev.fire(
            name,
            symptom.level,
            symptom.en,
            symptom.es,
            symptom.sources,
            within_hours=symptom.within_hours,
            tags=symptom.tags,
            advice=symptom.advice,
            questions=symptom.questions,
        )
        if symptom.level == "emergency":
            window_words_en = ", ".join(data.windows[w]["en"] for w in symptom.windows)
            window_words_es = ", ".join(data.windows[w]["es"] for w in symptom.windows)
            ev.notes.append(
                (
                    data.words("typical_window", "en").format(
                        symptom=symptom.en, windows=window_words_en
                    ),
                    data.words("typical_window", "es").format(
                        symptom=symptom.es, windows=window_words_es
                    ),
                )
            )
    for name in unknown:
        ev.note("unknown_symptom", name=name)

    # Rules: combination rules (data-interpreted), then the engine behaviours.
    frozen_present = frozenset(present)
    for rule in data.rules:
        if rule.kind == "combination" and rule.fires(frozen_present):
            ev.fire_rule(rule)
        elif rule.kind == "organ_groups":
            _organ_groups_rule(ev, rule, known, unknown)
        elif rule.kind == "repeat":
            _repeat_rule(ev, rule, repeated)

    level = _max_level(f.reason.level for f in ev.fired)
    stop = running and level == "emergency"
    if stop:
        ev.fire_rule(next(rule for rule in data.rules if rule.kind == "stop_infusion"))

    # Questions asked because of what is present or missing.
    for question in data.questions.values():
        if question.clauses and any(c.holds(frozen_present) for c in question.clauses):
            ev.questions.append(question.id)
    if "age_unknown" in present:
        ev.note("age_unknown")
    return _result(ev, level, stop)


def _risk_factor_facts(data: TriageData, report: Report, present: set[str]) -> None:
    indication = report.indication
    age_years = None if report.age_months is None else report.age_months / 12
    for factor in data.risk_factors.values():
        if (
            factor.conditions & report.conditions
            or (indication is not None and indication in factor.indications)
            or factor.symptoms & present
            or (
                factor.age_over_years is not None
                and age_years is not None
                and age_years > factor.age_over_years
            )
        ):
            present.add(factor.name)


def _time_facts(data: TriageData, report: Report, present: set[str], hours: Decimal | None) -> None:
    params = {name: data.facts[name].params for name in data.facts}
    if hours is None and not report.infusion_running:
        present.add("time_since_end_unknown")
    if hours is not None and hours > Decimal(str(params["after_expected_window"]["hours_above"])):
        present.add("after_expected_window")
    if (
        report.infusion_running
        or hours is None
        or hours <= Decimal(str(params["early_reaction_window"]["hours_at_most"]))
    ):
        present.add("early_reaction_window")
    if not report.infusion_running and (
        hours is None or hours >= Decimal(str(params["kd_nonresponse_time"]["hours_at_or_above"]))
    ):
        present.add("kd_nonresponse_time")


def _dose_at_least(data: TriageData, fact: str, dose: Decimal | None) -> bool:
    if dose is None:
        return True  # a missing answer never counts as "no"
    threshold = units.grams_per_kg(
        units.parse(
            data.facts[fact].params["course_dose_at_or_above"], f"facts.{fact}", Kind.DOSE_PER_KG
        )
    )
    return dose >= threshold


def _dose_and_blood_facts(data: TriageData, report: Report, present: set[str]) -> None:
    group = (report.blood_group or "").strip().upper().rstrip("+-")
    if group not in ("O",):
        present.add("non_o_blood_group_or_unknown")
    if report.blood_group is None or report.course_dose_g_per_kg is None:
        present.add("blood_group_or_dose_missing")
    for fact in ("hemolysis_dose_or_unknown", "high_dose_or_unknown"):
        if _dose_at_least(data, fact, report.course_dose_g_per_kg):
            present.add(fact)


def _headache_facts(data: TriageData, report: Report, present: set[str]) -> None:
    score = report.headache_score
    moderate = int(data.facts["headache_moderate_or_worse"].params["score_at_or_above"])
    call = int(data.facts["headache_score_at_or_above_call"].params["score_at_or_above"])
    if score is not None and score >= call:
        present.add("headache_score_at_or_above_call")
    if (score is not None and score >= moderate) or present & {
        "headache_not_settling",
        "sudden_severe_headache",
    }:
        present.add("headache_moderate_or_worse")
    if score is None and present & set(_HEADACHE_SYMPTOMS):
        present.add("headache_score_missing")


def _temperature(ev: _Evaluation) -> None:
    data, report, present = ev.data, ev.report, ev.present
    fever_symptom = any(s in present for s in _FEVER_SYMPTOMS)
    if fever_symptom:
        present.update({"fever_present", "fever_by_call_threshold"})
    patient_threshold = report.fever_threshold_c
    if patient_threshold is not None:
        ev.note(
            "patient_threshold_used",
            threshold=format_temperature(patient_threshold),
            reason=report.fever_threshold_reason or "",
        )
    temperature = report.temperature_c
    if temperature is None:
        present.add("temperature_not_measured")
        return
    route = report.temperature_route or UNKNOWN_ROUTE
    if report.temperature_route is None:
        present.add("temperature_route_missing")
    shown = format_temperature(temperature)
    measured_en = data.words("measured", "en").format(
        temperature=shown, route=data.words(f"route_{route}", "en")
    )
    measured_es = data.words("measured", "es").format(
        temperature=shown, route=data.words(f"route_{route}", "es")
    )
    fever = False
    call = False
    replaced: list[TemperatureRule] = []
    for rule in data.temperature_rules:
        if not rule.applies_to_age(report.age_months):
            continue
        if rule.risk_factor is not None and rule.risk_factor not in present:
            continue
        met = [t for t in rule.thresholds if t.met(temperature, route)]
        if not met:
            continue
        fever = True
        if rule.replaceable and patient_threshold is not None:
            replaced.append(rule)
            continue
        call = True
        ev.fire(
            rule.id,
            rule.level,
            f"{rule.en} {measured_en}",
            f"{rule.es} {measured_es}",
            rule.sources,
            within_hours=rule.within_hours,
            tags=rule.tags,
        )
    if patient_threshold is not None:
        pt = data.patient_threshold
        reason = report.fever_threshold_reason or ""
        threshold_words = format_temperature(patient_threshold)
        if _for_comparison(temperature) >= _for_comparison(patient_threshold):
            fever = call = True
            suffix_en = f" ({threshold_words}: {reason}) {measured_en}"
            suffix_es = f" ({threshold_words}: {reason}) {measured_es}"
            ev.fire(pt.id, pt.level, pt.en + suffix_en, pt.es + suffix_es, pt.sources)
        elif replaced:
            en = data.words("patient_threshold_not_reached", "en").format(temperature=shown)
            es = data.words("patient_threshold_not_reached", "es").format(temperature=shown)
            ev.fire(
                pt.id,
                "expected",
                f"{en} ({threshold_words}: {reason})",
                f"{es} ({threshold_words}: {reason})",
                pt.sources,
            )
    if fever:
        present.add("fever_present")
    if call:
        present.add("fever_by_call_threshold")
    if not fever and not fever_symptom:
        present.add("temperature_below_thresholds")
        if report.fever_reducer_last_6h is not False:
            present.add("fever_reducer_may_mask")


def _organ_groups_rule(
    ev: _Evaluation, rule: Rule, known: Sequence[str], unknown: Sequence[str]
) -> None:
    level = str(rule.params["symptom_level"])
    groups = {ev.data.symptoms[s].organ_group for s in known if ev.data.symptoms[s].level == level}
    groups.update(f"unknown:{name}" for name in unknown)  # each unknown symptom is its own group
    if len(groups) >= int(rule.params["min_groups"]):
        ev.fire_rule(rule)


def _repeat_rule(ev: _Evaluation, rule: Rule, repeated: frozenset[str]) -> None:
    steps = int(rule.params["steps"])
    for name in sorted(repeated):
        symptom = ev.data.symptoms.get(name)
        base = symptom.level if symptom is not None else ev.data.rule("G4").level
        en_name = symptom.en if symptom is not None else name
        es_name = symptom.es if symptom is not None else name
        ev.fire(
            rule.id,
            _raise_level(base, steps),
            f"{rule.en} ({en_name})",
            f"{rule.es} ({es_name})",
            rule.sources,
            within_hours=rule.within_hours,
            tags=symptom.tags if symptom else (),
        )


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def _result(ev: _Evaluation, level: str, stop: bool) -> TriageResult:
    data, report = ev.data, ev.report
    present = frozenset(ev.present)
    running = report.infusion_running
    fired = sorted(ev.fired, key=lambda f: -_RANK[f.reason.level])  # stable: highest first
    within_hours = level == "call_doctor" and any(
        f.within_hours and f.reason.level == "call_doctor" for f in fired
    )
    actions = data.level_actions[level]
    if level == "call_doctor" and running:
        action_ids = list(actions["running"])
    elif within_hours:
        action_ids = list(actions["within_hours"])
    else:
        action_ids = list(actions["advice"])
    if level == "emergency":
        action_ids.append(next(r for r in data.rules if r.kind == "stop_infusion").advice[0])
    rule_advice: list[str] = []
    for f in fired:
        if level != "emergency" or f.reason.level == "emergency":
            rule_advice.extend(f.advice)
        else:
            rule_advice.extend(a for a in f.advice if data.advice[a].always)
    advice_ids = []
    for advice_id in _dedupe([*action_ids, *rule_advice, *actions["closing"]]):
        item = data.advice[advice_id]
        if item.only_when and not item.only_when & present:
            continue
        if item.unless & present:
            continue
        advice_ids.append(advice_id)
    advice_en = [data.advice[a].en for a in advice_ids]
    advice_es = [data.advice[a].es for a in advice_ids]
    if not report.symptoms and not report.repeated_symptoms and report.temperature_c is None:
        ev.note("nothing_reported")
    advice_en += [data.words("if_in_doubt", "en"), data.words("disclaimer", "en")]
    advice_es += [data.words("if_in_doubt", "es"), data.words("disclaimer", "es")]
    question_ids = _dedupe([q for f in fired for q in f.questions] + ev.questions)
    tags = frozenset(t for f in fired for t in f.tags)
    notes = _dedupe_pairs(ev.notes)
    return TriageResult(
        level=level,
        reasons=tuple(f.reason for f in fired),
        advice_en=tuple(advice_en),
        advice_es=tuple(advice_es),
        stop_infusion=stop,
        tags=tags,
        questions_to_ask=tuple(data.questions[q].en for q in question_ids),
        questions_to_ask_es=tuple(data.questions[q].es for q in question_ids),
        within_hours=within_hours,
        infusion_running=running,
        notes_en=tuple(n[0] for n in notes),
        notes_es=tuple(n[1] for n in notes),
        patient_fever_threshold=(
            None
            if report.fever_threshold_c is None
            else format_temperature(report.fever_threshold_c)
        ),
        patient_fever_threshold_reason=report.fever_threshold_reason,
    )


def _dedupe_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    result = []
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            result.append(pair)
    return result


# --- Output -------------------------------------------------------------------------------------


def heading(result: TriageResult, language: str = "en") -> str:
    """The level in plain words, in capitals (e.g. "CALL THE CARE TEAM WITHIN HOURS")."""
    data = load_triage_data()
    if result.level == "call_doctor" and result.infusion_running:
        key = "heading_call_doctor_running"
    elif result.level == "call_doctor" and result.within_hours:
        key = "heading_call_doctor_within_hours"
    else:
        key = f"heading_{result.level}"
    words = data.words(key, language)
    if result.stop_infusion:
        words += " - " + data.words("stop_infusion", language)
    return words


def result_to_dict(result: TriageResult, language: str = "en") -> dict[str, object]:
    """A stable JSON-ready mapping of a result in one language ("en" or "es")."""
    if language not in LANGUAGES:
        raise TriageInputError(
            [InputProblem("language", language, "en or es", "not a supported language")]
        )
    data = load_triage_data()
    spanish = language == "es"
    cited = sorted({key for reason in result.reasons for key in reason.sources})
    return {
        "level": result.level,
        "heading": heading(result, language),
        "within_hours": result.within_hours,
        "stop_infusion": result.stop_infusion,
        "infusion_running": result.infusion_running,
        "reasons": [
            {
                "code": reason.code,
                "level": reason.level,
                "message": reason.message_es if spanish else reason.message_en,
                "sources": list(reason.sources),
            }
            for reason in result.reasons
        ],
        "advice": list(result.advice_es if spanish else result.advice_en),
        "questions_to_ask": list(
            result.questions_to_ask_es if spanish else result.questions_to_ask
        ),
        "notes": list(result.notes_es if spanish else result.notes_en),
        "tags": sorted(result.tags),
        "patient_fever_threshold": result.patient_fever_threshold,
        "patient_fever_threshold_reason": result.patient_fever_threshold_reason,
        "sources": {key: data.source_line(key) for key in cited},
        "disclaimer": data.words("disclaimer", language),
        "if_in_doubt": data.words("if_in_doubt", language),
        "language": language,
        "triage_data_version": str(data.meta.get("version", "")),
    }


# --- Reading a report (the file / API format) ---------------------------------------------------

REPORT_KEYS = (
    "symptoms",
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
MAX_HOURS = Decimal(24 * 366)
MAX_TEXT = 200


class _Problems:
    def __init__(self) -> None:
        self.items: list[InputProblem] = []

    def add(self, field: str, given: object, accepted: str, problem: str) -> None:
        self.items.append(InputProblem(field, _shown(given), accepted, problem))

    def quantity(self, value: object, field: str, kind: Kind) -> units.Quantity | None:
        try:
            return units.parse(value, field, kind)
        except QuantityError as exc:
            self.add(exc.field, exc.given, exc.accepted, exc.problem)
            return None


def _shown(value: object) -> object:
    """Keep what was given printable and short in messages."""
    if isinstance(value, str | int | float | bool | Decimal) or value is None:
        text = (
            value
            if not isinstance(value, str) or len(value) <= MAX_TEXT
            else value[:MAX_TEXT] + "…"
        )
        return text
    return type(value).__name__


def _table(p: _Problems, value: object, field: str, keys: Sequence[str]) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        p.add(field, value, f"a table with keys {', '.join(keys)}", "expected a table")
        return {}
    for key in value:
        if not isinstance(key, str) or key not in keys:
            p.add(f"{field}.{key}", key, ", ".join(keys), "unknown key")
    return {str(k): v for k, v in value.items() if isinstance(k, str) and k in keys}


def _names(p: _Problems, value: object, field: str) -> frozenset[str]:
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


def _boolean(p: _Problems, value: object, field: str) -> bool | None:
    if isinstance(value, bool):
        return value
    p.add(field, value, "true or false", "expected true or false")
    return None


def _date(p: _Problems, value: object, field: str) -> date | None:
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


def _hours(p: _Problems, value: object, field: str) -> Decimal | None:
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


def _temperature_c(p: _Problems, data: TriageData, value: object, field: str) -> Decimal | None:
    quantity = p.quantity(value, field, Kind.TEMPERATURE)
    if quantity is None:
        return None
    celsius = units.temperature_c(quantity)
    if not data.temperature_lowest_c <= _for_comparison(celsius) <= data.temperature_highest_c:
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
    p = _Problems()
    root = _table(p, data, "document", TOP_KEYS)
    if "report" not in root and isinstance(data, Mapping):
        p.add("report", None, "a [report] table", "this table is required")
    report = _table(p, root.get("report", {}), "report", REPORT_KEYS)
    patient = _table(p, root.get("patient", {}), "patient", PATIENT_KEYS)
    course = _table(p, root.get("course", {}), "course", COURSE_KEYS)
    today = _date(p, root["today"], "today") if "today" in root else None

    symptoms = _names(p, report.get("symptoms", []), "report.symptoms")
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

    age_months = _age_months(p, patient, report_date or today)
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
        accepted_ids = sorted(_catalogue_indications())
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

    if p.items:
        raise TriageInputError(p.items)
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
    )


def _patient_threshold(
    p: _Problems, data: TriageData, report: Mapping[str, object]
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
    if not pt.lowest_c <= _for_comparison(threshold) <= pt.highest_c:
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


def _age_months(p: _Problems, patient: Mapping[str, object], on: date | None) -> Decimal | None:
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


def _conditions(p: _Problems, value: object) -> frozenset[str]:
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
    p: _Problems, course: Mapping[str, object], patient: Mapping[str, object]
) -> Decimal | None:
    """Course dose per kg: "2 g/kg"; or a daily dose per kg with `days`; or grams with weight."""
    value = course.get("dose")
    if value is None:
        return None
    kinds = (Kind.DOSE_PER_KG, Kind.DOSE_PER_KG_PER_DAY, Kind.DOSE_FIXED)
    try:
        kind, quantity = units.parse_any(value, "course.dose", kinds)
    except QuantityError as exc:
        p.add(exc.field, exc.given, exc.accepted, exc.problem)
        return None
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


__all__ = [
    "LEVELS",
    "CheckIn",
    "CheckInTier",
    "InputProblem",
    "Reason",
    "Report",
    "TriageData",
    "TriageDataError",
    "TriageInputError",
    "TriageResult",
    "evaluate",
    "format_temperature",
    "heading",
    "load_triage_data",
    "normalise_symptom",
    "parse_triage_data",
    "report_from_mapping",
    "result_to_dict",
]
