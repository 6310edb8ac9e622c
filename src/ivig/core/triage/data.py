"""Reading the triage data file (``ivig/data/triage.toml``): its model and its checks.

Every symptom, threshold, rule, advice line and source lives in the data file; this module reads
and validates it once (a bad file raises :class:`TriageDataError` at load, never during a triage).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from ivig.core import units
from ivig.core.units import Kind, QuantityError
from ivig.core.vocabulary import CONDITIONS

LEVELS: tuple[str, ...] = ("expected", "call_doctor", "emergency")  # lowest first
RANK = {level: rank for rank, level in enumerate(LEVELS)}
LANGUAGES = ("en", "es")
UNKNOWN_ROUTE = "unknown"
DATA_FILE = "triage.toml"

# Comparisons of temperatures are made in °C after conversion; both sides are rounded to 9
# decimal places so that a reading in °F and its exact °C equivalent compare equal.
COMPARE_PLACES = Decimal("1e-9")


class TriageDataError(RuntimeError):
    """The triage data file is inconsistent (found at load time, never during a triage)."""


def for_comparison(value: Decimal) -> Decimal:
    return value.quantize(COMPARE_PLACES, rounding=ROUND_HALF_EVEN)


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
        reading = for_comparison(temperature_c)
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
    age_over_rule: str | None  # the rules.toml section the age comes from (one threshold)
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
    "free_text_question",
    "free_text_heading",
    "free_text_read_as",
    "free_text_not_present",
    "free_text_unread",
    "free_text_reassurance",
    "free_text_close_spelling",
    "free_text_negation_unclear",
)


class _DataReader:
    """Reads the raw TOML with checks; collects every problem before failing."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.used_sources: list[tuple[str, tuple[str, ...]]] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def cite(self, where: str, keys: tuple[str, ...]) -> tuple[str, ...]:
        """Source keys of one entry: at least one; checked against [sources] at the end."""
        if not keys:
            self.fail(where, "at least one source key is required")
        self.used_sources.append((where, keys))
        return keys

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
        if value in RANK:
            return str(value)
        self.fail(f"{where}.level", f"expected one of {', '.join(LEVELS)}")
        return "call_doctor"

    def temperature(self, value: object, where: str) -> Decimal:
        try:
            return for_comparison(units.temperature_c(units.parse(value, where, Kind.TEMPERATURE)))
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
    """Read every table of the data file, then check the references between them; every problem
    is collected (one TriageDataError lists them all)."""
    r = _DataReader()
    meta = r.table(raw.get("meta"), "meta")
    if tuple(meta.get("levels", ())) != LEVELS:
        r.fail("meta.levels", f"must be {list(LEVELS)} (lowest first)")
    routes = r.strings(meta, "routes", "meta")
    lowest_c = r.temperature(meta.get("temperature_lowest"), "meta.temperature_lowest")
    highest_c = r.temperature(meta.get("temperature_highest"), "meta.temperature_highest")
    sources = _read_sources(r, raw)
    windows = {
        k: r.table(v, f"windows.{k}") for k, v in r.table(raw.get("windows"), "windows").items()
    }
    organ_groups = {
        str(k): str(v) for k, v in r.table(raw.get("organ_groups"), "organ_groups").items()
    }

    symptoms = _read_symptoms(r, raw, windows, organ_groups)
    risk_factors = _read_risk_factors(r, raw, symptoms)
    facts, names = _read_facts(r, raw, symptoms, risk_factors)
    temperature_rules = _read_temperature_rules(r, raw, routes, risk_factors)
    patient_threshold = _read_patient_threshold(r, raw)
    rules = _read_rules(r, raw, names, temperature_rules, patient_threshold)
    advice = _read_advice(r, raw, names)
    level_actions = _read_level_actions(r, raw)
    questions = _read_questions(r, raw, names)
    text = _read_text(r, raw, routes)
    _check_references(
        r, sources, symptoms, risk_factors, temperature_rules, rules, advice, level_actions,
        questions,
    )  # fmt: skip
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


def _read_sources(r: _DataReader, raw: Mapping[str, Any]) -> dict[str, Source]:
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
    return sources


def _read_symptoms(
    r: _DataReader,
    raw: Mapping[str, Any],
    windows: Mapping[str, Mapping[str, Any]],
    organ_groups: Mapping[str, str],
) -> dict[str, Symptom]:
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
            sources=r.cite(where, r.strings(t, "sources", where)),
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

    return symptoms


def _read_risk_factors(
    r: _DataReader, raw: Mapping[str, Any], symptoms: Mapping[str, Symptom]
) -> dict[str, RiskFactor]:
    indication_ids = catalogue_indications()

    risk_factors: dict[str, RiskFactor] = {}
    for name, value in r.table(raw.get("risk_factors"), "risk_factors").items():
        where = f"risk_factors.{name}"
        t = r.table(value, where)
        age = t.get("age_over_years")
        age_rule = t.get("age_over_rule")
        age_over: Decimal | None = None
        if age is not None and age_rule is not None:
            r.fail(where, "give age_over_years or age_over_rule, not both")
        elif age_rule is not None:
            age_over = _rules_age_over_years(r, str(age_rule), f"{where}.age_over_rule")
        elif age is not None:
            age_over = r.number(age, f"{where}.age_over_years")
        factor = RiskFactor(
            name=name,
            en=r.text(t, "en", where),
            conditions=frozenset(r.strings(t, "conditions", where)),
            indications=frozenset(r.strings(t, "indications", where)),
            symptoms=frozenset(r.strings(t, "symptoms", where)),
            age_over_years=age_over,
            age_over_rule=None if age_rule is None else str(age_rule),
            sources=r.cite(where, r.strings(t, "sources", where)),
            conservative=r.flag(t, "conservative", where),
            note=r.text(t, "note", where, default=""),
        )
        for code in factor.conditions - set(CONDITIONS):
            r.fail(f"{where}.conditions", f"{code!r} is not a condition of the plan vocabulary")
        for code in factor.indications - indication_ids:
            r.fail(f"{where}.indications", f"{code!r} is not an indication id of the catalogue")
        for code in factor.symptoms - set(symptoms):
            r.fail(f"{where}.symptoms", f"unknown symptom {code!r}")
        risk_factors[name] = factor

    return risk_factors


def _read_facts(
    r: _DataReader,
    raw: Mapping[str, Any],
    symptoms: Mapping[str, Symptom],
    risk_factors: Mapping[str, RiskFactor],
) -> tuple[dict[str, Fact], set[str]]:
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

    return facts, names


def _read_temperature_rules(
    r: _DataReader,
    raw: Mapping[str, Any],
    routes: tuple[str, ...],
    risk_factors: Mapping[str, RiskFactor],
) -> list[TemperatureRule]:
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
                sources=r.cite(where, r.strings(t, "sources", where)),
                en=r.text(t, "en", where),
                es=r.text(t, "es", where),
                note=r.text(t, "note", where, default=""),
            )
        )

    return temperature_rules


def _read_patient_threshold(r: _DataReader, raw: Mapping[str, Any]) -> PatientThresholdRule:
    pt = r.table(raw.get("patient_fever_threshold"), "patient_fever_threshold")
    patient_threshold = PatientThresholdRule(
        id=r.text(pt, "id", "patient_fever_threshold"),
        level=r.level(pt, "patient_fever_threshold"),
        lowest_c=r.temperature(pt.get("lowest"), "patient_fever_threshold.lowest"),
        highest_c=r.temperature(pt.get("highest"), "patient_fever_threshold.highest"),
        lowest_text=str(pt.get("lowest")),
        highest_text=str(pt.get("highest")),
        sources=r.cite(
            "patient_fever_threshold", r.strings(pt, "sources", "patient_fever_threshold")
        ),
        en=r.text(pt, "en", "patient_fever_threshold"),
        es=r.text(pt, "es", "patient_fever_threshold"),
        note=r.text(pt, "note", "patient_fever_threshold", default=""),
    )

    return patient_threshold


def _read_rules(
    r: _DataReader,
    raw: Mapping[str, Any],
    names: set[str],
    temperature_rules: Sequence[TemperatureRule],
    patient_threshold: PatientThresholdRule,
) -> list[Rule]:
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
            not isinstance(params.get("min_groups"), int) or params.get("symptom_level") not in RANK
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
                sources=r.cite(where, r.strings(t, "sources", where)),
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

    return rules


def _read_advice(r: _DataReader, raw: Mapping[str, Any], names: set[str]) -> dict[str, Advice]:
    advice: dict[str, Advice] = {}
    for key, value in r.table(raw.get("advice"), "advice").items():
        where = f"advice.{key}"
        t = r.table(value, where)
        advice[key] = Advice(
            id=key,
            en=r.text(t, "en", where),
            es=r.text(t, "es", where),
            sources=r.cite(where, r.strings(t, "sources", where)),
            only_when=frozenset(r.strings(t, "only_when", where)),
            unless=frozenset(r.strings(t, "unless", where)),
            always=r.flag(t, "always", where),
        )
        for name in sorted((advice[key].only_when | advice[key].unless) - names):
            r.fail(where, f"unknown name {name!r}")

    return advice


def _read_level_actions(
    r: _DataReader, raw: Mapping[str, Any]
) -> dict[str, dict[str, tuple[str, ...]]]:
    level_actions: dict[str, dict[str, tuple[str, ...]]] = {}
    raw_actions = r.table(raw.get("level_actions"), "level_actions")
    for level in LEVELS:
        t = r.table(raw_actions.get(level), f"level_actions.{level}")
        level_actions[level] = {
            k: r.strings(t, k, f"level_actions.{level}")
            for k in ("advice", "within_hours", "running", "closing")
        }

    return level_actions


def _read_questions(r: _DataReader, raw: Mapping[str, Any], names: set[str]) -> dict[str, Question]:
    questions: dict[str, Question] = {}
    for key, value in r.table(raw.get("questions"), "questions").items():
        where = f"questions.{key}"
        t = r.table(value, where)
        clauses = _clauses(r, t["when"], f"{where}.when") if "when" in t else ()
        for clause in clauses:
            for name in sorted(clause.names() - names):
                r.fail(f"{where}.when", f"unknown name {name!r}")
        questions[key] = Question(key, r.text(t, "en", where), r.text(t, "es", where), clauses)

    return questions


def _read_text(
    r: _DataReader, raw: Mapping[str, Any], routes: tuple[str, ...]
) -> dict[str, dict[str, str]]:
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

    return text


def _check_references(
    r: _DataReader,
    sources: Mapping[str, Source],
    symptoms: Mapping[str, Symptom],
    risk_factors: Mapping[str, RiskFactor],
    temperature_rules: Sequence[TemperatureRule],
    rules: Sequence[Rule],
    advice: Mapping[str, Advice],
    level_actions: Mapping[str, Mapping[str, tuple[str, ...]]],
    questions: Mapping[str, Question],
) -> None:
    # A row marked conservative must say why (the note is shown in docs/triage.md).
    marked = [(f"symptoms.{x.name}", x.conservative, x.note) for x in symptoms.values()]
    marked += [(f"rules.{x.id}", x.conservative, x.note) for x in rules]
    marked += [(f"temperature_rules.{x.id}", x.conservative, x.note) for x in temperature_rules]
    marked += [(f"risk_factors.{x.name}", x.conservative, x.note) for x in risk_factors.values()]
    for where, conservative, note in marked:
        if conservative and not note:
            r.fail(where, "a conservative choice needs a note saying why")

    # Cross references.
    for where, keys in r.used_sources:
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


def _rules_age_over_years(r: _DataReader, section: str, where: str) -> Decimal | None:
    """An age threshold kept once, in rules.toml (e.g. [thrombosis_advanced_age], > 60 years,
    shared with the plan checks and the check-in tiers): never a second copy here."""
    from ivig.core.rules import age_over_years, rules

    if section not in rules() or "age_over" not in rules()[section]:
        r.fail(where, f"rules.toml has no section [{section}] with age_over")
        return None
    return age_over_years(section)


@lru_cache(maxsize=1)
def catalogue_indications() -> frozenset[str]:
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
