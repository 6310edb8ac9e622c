"""Evaluating a report: the level is the maximum over everything that fires.

The promises it keeps (reference section 3):

- G1: the level is the maximum over every symptom, temperature rule, combination rule and
  modifier that fires. Facts only ever add, so adding a symptom or a risk factor can never lower
  the level, and a time window never lowers an emergency sign.
- G3: while the infusion runs, any symptom is at least ``call_doctor`` ("tell the nurse now");
  an emergency stops the infusion.
- G4: an unknown symptom is ``call_doctor``; a missing answer never counts as "no" (an unknown
  blood group or dose counts as the risky value), and the result asks the question.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ivig.core import units
from ivig.core.triage.data import (
    LEVELS,
    RANK,
    UNKNOWN_ROUTE,
    Rule,
    TemperatureRule,
    TriageData,
    for_comparison,
    load_triage_data,
)
from ivig.core.triage.lexicon import PhraseReading, read_free_text
from ivig.core.triage.report import InputProblem, Report, TriageInputError, normalise_symptom
from ivig.core.triage.result import Reason, TriageResult, format_temperature
from ivig.core.triage.vitals import VitalSigns, load_vitals_data, vital_findings
from ivig.core.units import Kind

_HEADACHE_SYMPTOMS = ("mild_headache", "headache_not_settling", "sudden_severe_headache")
_FEVER_SYMPTOMS = ("fever", "fever_after_kawasaki_ivig", "fever_infant_under_3_months")
_INFANT_SYMPTOMS = ("fever_infant_under_3_months",)


def _max_level(levels: Iterable[str]) -> str:
    return max(levels, key=lambda level: RANK[level], default="expected")


def _raise_level(level: str, steps: int) -> str:
    return LEVELS[min(len(LEVELS) - 1, RANK[level] + steps)]


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
    readings: tuple[PhraseReading, ...] = ()
    extra_questions: list[tuple[str, str]] = field(default_factory=list)

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
    readings, read, unknown = _read_words(data, report, symptoms)
    ev.readings = readings
    known = sorted(read | {s for s in symptoms if s in data.symptoms})
    symptoms = symptoms | frozenset(known) | frozenset(unknown)
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
    _vital_signs(ev)

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
    for reading in readings:
        if reading.unread:
            ev.extra_questions.append(
                (
                    data.words("free_text_question", "en").format(phrase=reading.text),
                    data.words("free_text_question", "es").format(phrase=reading.text),
                )
            )

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


def _vital_signs(ev: _Evaluation) -> None:
    """Heart rate, breathing rate, blood pressure and SpO2 against the cited bands for the age
    (vitals.toml). Without an age nothing can be judged: the age question is asked (G4)."""
    signs = ev.report.vitals
    if signs is None or not signs.any_banded():
        return
    age = ev.report.age_months
    if age is None:
        data = load_vitals_data()
        ev.notes.append(
            tuple(  # type: ignore[arg-type]
                f"{data.text['age_needed'][lang]}" for lang in ("en", "es")
            )
        )
        return
    findings, notes = vital_findings(signs, age, ev.report.baseline_systolic_mmhg)
    for finding in findings:
        ev.fire(finding.code, finding.level, finding.en, finding.es, finding.sources)
    ev.notes.extend(notes)


def triage_vitals(
    vitals: VitalSigns,
    age_months: Decimal | None,
    *,
    during_infusion: bool,
    hours_since_infusion_end: Decimal | None = None,
    baseline_systolic_mmhg: Decimal | None = None,
    conditions: frozenset[str] = frozenset(),
    indication: str | None = None,
    fever_threshold_c: Decimal | None = None,
    fever_threshold_reason: str | None = None,
) -> TriageResult:
    """Triage one set of recorded vital signs (pure; the web calls it as a reading is saved).

    A temperature is a fever report under the same temperature rules as a symptom report
    (while the infusion runs, "tell the nurse now"; an emergency stops it); heart rate,
    breathing rate, blood pressure and SpO2 are compared with the cited age bands of
    vitals.toml ("no cited bound" is said where none exists). The age is required: without it
    a :class:`TriageInputError` names the field ``age``."""
    if age_months is None and (vitals.temperature_c is not None or vitals.any_banded()):
        data = load_vitals_data()
        raise TriageInputError(
            [
                InputProblem(
                    "age",
                    None,
                    data.text["age_needed"]["en"],
                    "needed to judge vital signs (the bounds and fever rules depend on age)",
                )
            ]
        )
    report = Report(
        infusion_running=during_infusion,
        hours_since_infusion_end=None if during_infusion else hours_since_infusion_end,
        temperature_c=vitals.temperature_c,
        temperature_route=vitals.temperature_route,
        age_months=age_months,
        conditions=conditions,
        indication=indication,
        fever_threshold_c=fever_threshold_c,
        fever_threshold_reason=fever_threshold_reason,
        vitals=vitals,
        baseline_systolic_mmhg=baseline_systolic_mmhg,
    )
    return evaluate(report)


def _read_words(
    data: TriageData, report: Report, names: frozenset[str]
) -> tuple[tuple[PhraseReading, ...], set[str], list[str]]:
    """Read the free text, and every symptom name that is not a machine name ("had a fit"),
    with the lexicon. Returns the readings, the symptoms read, and what stays unknown: names
    not read completely, and unread phrases (each is an unknown symptom: call_doctor, G4)."""
    readings: list[PhraseReading] = []
    read: set[str] = set()
    unknown: list[str] = []
    for name in sorted(names - set(data.symptoms)):
        name_readings = read_free_text(name.replace("_", " "))
        read.update(s for r in name_readings for s in r.symptoms)
        readings.extend(name_readings)
        if not name_readings or any(r.unread for r in name_readings):
            unknown.append(name)
    for text in report.free_text:
        text_readings = read_free_text(text)
        readings.extend(text_readings)
        read.update(s for r in text_readings for s in r.symptoms)
        unknown.extend(r.text for r in text_readings if r.unread)
    return tuple(readings), read, unknown


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
        if for_comparison(temperature) >= for_comparison(patient_threshold):
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
    fired = sorted(ev.fired, key=lambda f: -RANK[f.reason.level])  # stable: highest first
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
    if (
        not report.symptoms
        and not report.repeated_symptoms
        and report.temperature_c is None
        and not (report.vitals is not None and report.vitals.any_banded())
        and not any(r.symptoms or r.unread for r in ev.readings)
    ):
        ev.note("nothing_reported")
    advice_en += [data.words("if_in_doubt", "en"), data.words("disclaimer", "en")]
    advice_es += [data.words("if_in_doubt", "es"), data.words("disclaimer", "es")]
    # A question about a fact (it has a `when`) is asked only while that fact is missing, even
    # when a rule asks for it: a report that gave the blood group and dose is not asked again.
    question_ids = [
        q
        for q in _dedupe([q for f in fired for q in f.questions] + ev.questions)
        if not data.questions[q].clauses or any(c.holds(present) for c in data.questions[q].clauses)
    ]
    tags = frozenset(t for f in fired for t in f.tags)
    notes = _dedupe_pairs(ev.notes)
    return TriageResult(
        level=level,
        reasons=tuple(f.reason for f in fired),
        advice_en=tuple(advice_en),
        advice_es=tuple(advice_es),
        stop_infusion=stop,
        tags=tags,
        questions_to_ask=tuple(data.questions[q].en for q in question_ids)
        + tuple(q[0] for q in ev.extra_questions),
        questions_to_ask_es=tuple(data.questions[q].es for q in question_ids)
        + tuple(q[1] for q in ev.extra_questions),
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
        readings=ev.readings,
    )


def _dedupe_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    result = []
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            result.append(pair)
    return result
