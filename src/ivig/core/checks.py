"""Rules → findings. Each check is a small pure function of the plan that names its source.

Thresholds and risk lists come from data/rules.toml; product facts from the catalogue. A check
that cannot be done because a fact is unknown says so in a finding: nothing is skipped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ivig.core import findings, growth, units
from ivig.core.catalogue import IndicationLabel, RateFact
from ivig.core.findings import Finding, make
from ivig.core.order import DoseBasis, TitrationRule
from ivig.core.plan_model import Plan
from ivig.core.rules import age_over_years as age_over_years  # re-exported for old importers
from ivig.core.rules import age_rule_section
from ivig.core.rules import quantity as _q
from ivig.core.rules import rule_citation as rule_citation
from ivig.core.rules import rules as rules
from ivig.core.units import Kind

Check = Callable[[Plan], list[Finding]]
_CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    _CHECKS.append(fn)
    return fn


def run_all(plan: Plan) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for fn in _CHECKS:
        out.extend(fn(plan))
    return tuple(sorted(out, key=findings.sort_key))


# --- Data -----------------------------------------------------------------------------------------


# --- Formatting (numbers shown to people) ---------------------------------------------------------


def fmt(value: Decimal, places: int = 2) -> str:
    rounded = units.round_half_up(value, places).normalize()
    text = f"{rounded:f}"
    return text


def fmt_sig(value: Decimal, places: int = 2) -> str:
    """A number with at least ``places`` decimals and as many more as needed for two
    significant digits, so a small non-zero value never prints as "0" (0.002, 0.00004)."""
    if value == 0:
        return "0"
    shown = places
    while shown < 12 and abs(units.round_half_up(value, shown)) < Decimal("0.1") ** (shown - 1):
        shown += 1
    return fmt(value, shown)


def fmt_g_per_kg(value: Decimal) -> str:
    return f"{fmt_sig(value)} g/kg"


def fmt_rate(rate_ml_kg_h: Decimal) -> str:
    return f"{fmt(rate_ml_kg_h, 2)} mL/kg/h"


def fmt_rate_fact(fact: RateFact) -> str:
    printed = " = ".join(p.text for p in fact.printed)
    if fact.primary is not None and fact.mismatch:
        others = ", ".join(p.text for p in fact.printed if p.text != fact.primary)
        return (
            f"{printed} ({fmt_rate(fact.governing_ml_kg_h)}: the label's primary unit governs; "
            f"{others} is the label's own rounding)"
        )
    return f"{printed} ({fmt_rate(fact.governing_ml_kg_h)})"


def _cite(plan: Plan, ids: Iterable[str]) -> str:
    return plan.catalogue.cite(dict.fromkeys(ids))  # each source once, in order


# --- Helpers about the patient --------------------------------------------------------------------


def _age_over(plan: Plan, section: str) -> bool | None:
    if plan.age_years is None:
        return None
    return plan.age_years > age_over_years(section)


def risk_factors(plan: Plan, section: str) -> list[str]:
    """The patient's risk factors from a rules.toml list (conditions, and age where listed)."""
    listed = set(rules()[section]["conditions"])
    present = sorted(listed & plan.document.patient.conditions)
    if _age_over(plan, section):
        present.append(f"age over {_q(age_rule_section(section), 'age_over', Kind.AGE)}")
    return present


def _condition_names(codes: Iterable[str]) -> str:
    from ivig.core.vocabulary import CONDITIONS

    return ", ".join(CONDITIONS[c][0].lower() if c in CONDITIONS else c for c in codes)


def _is_first_or_switch(plan: Plan) -> tuple[bool | None, str]:
    patient = plan.document.patient
    if patient.previous_product and patient.previous_product != plan.product.id:
        return True, "product_switch"
    if patient.first_infusion is None:
        return None, "unknown"
    return patient.first_infusion, "first_infusion"


def effective_rate_ml_kg_h(plan: Plan, pump_ml_h: Decimal, nominal_ml_kg_h: Decimal) -> Decimal:
    """The rate checked against label figures: the higher of the prescribed rate per kg of
    dosing weight and what the pump setting gives per kg of actual body weight (conservative)."""
    return max(nominal_ml_kg_h, pump_ml_h / plan.dosing.actual_kg)


# --- Label context ------------------------------------------------------------


def _label_context(plan: Plan) -> tuple[IndicationLabel | None, list[IndicationLabel], str]:
    """The label rows the rate checks use, and how they were chosen."""
    if plan.label is not None:
        return plan.label, [plan.label], "indication"
    labeled = [row for row in plan.product.indications if row.max_rate or row.initial_rate]
    return None, labeled, "strictest"


def _strictest(facts: Iterable[RateFact | None]) -> RateFact | None:
    known = [f for f in facts if f is not None]
    return min(known, key=lambda f: f.governing_ml_kg_h) if known else None


# --- Checks ---------------------------------------------------------------------------------------


@check
def check_product_status(plan: Plan) -> list[Finding]:
    out = []
    p = plan.product
    if not p.marketed:
        out.append(
            make(
                "product_discontinued",
                _cite(plan, p.concentrations_mg_ml.source_ids),
                product=p.brand,
            )
        )
    return out


@check
def check_indication(plan: Plan) -> list[Finding]:
    order = plan.document.order
    p = plan.product
    if order.indication is None:
        return [make("indication_not_given", "Order document", product=p.brand)]
    if plan.label is None:
        _, rows, _ = _label_context(plan)
        max_fact = _strictest(r.max_rate for r in rows)
        basis = (
            f"the strictest maximum on its label ({fmt_rate_fact(max_fact)})"
            if max_fact
            else "no label maximum, because none is known"
        )
        basis_es = (
            f"el máximo más estricto de su ficha ({fmt_rate_fact(max_fact)})"
            if max_fact
            else "ningún máximo de la ficha, porque no se conoce ninguno"
        )
        name = plan.indication.name_en if plan.indication else order.indication
        name_es = plan.indication.name_es if plan.indication else order.indication
        return [
            make(
                "product_not_labeled_for_indication",
                _cite(plan, [s for r in rows for s in r.source_ids][:3]) or "Product catalogue",
                product=p.brand,
                indication=name,
                indication_es=name_es,
                basis=basis,
                basis_es=basis_es,
            )
        ]
    return []


@check
def check_label_rates_known(plan: Plan) -> list[Finding]:
    label, rows, how = _label_context(plan)
    missing = []
    scope = label.rates_note if label else ""
    if how == "indication" and label is not None:
        if label.initial_rate is None:
            missing.append("starting rate")
        if label.step is None or label.step.interval_minutes_min is None:
            missing.append("time between steps")
        if label.max_rate is None:
            missing.append("maximum rate")
    elif not rows:
        missing = ["starting rate", "time between steps", "maximum rate"]
        scope = "; ".join(r.rates_note for r in plan.product.indications if r.rates_note)
    if not missing:
        return []
    ids = [s for r in ([label] if label else plan.product.indications) for s in r.source_ids]
    return [
        make(
            "label_rates_unknown",
            _cite(plan, ids[:3]) or "Product catalogue",
            product=plan.product.brand,
            missing=", ".join(missing),
            note=scope or "No verified label figure was found.",
        )
    ]


@check
def check_rates_against_label(plan: Plan) -> list[Finding]:
    label, rows, _how = _label_context(plan)
    out: list[Finding] = []
    max_fact = label.max_rate if label else _strictest(r.max_rate for r in rows)
    initial = label.initial_rate if label else _strictest(r.initial_rate for r in rows)
    if max_fact is not None:
        for step in plan.steps:
            rate = effective_rate_ml_kg_h(plan, step.pump_rate_ml_h, step.rate_ml_kg_h)
            if rate > max_fact.governing_ml_kg_h:
                mismatch = (
                    f" The label prints this maximum in more than one unit and they disagree "
                    f"({max_fact.mismatch}); the stricter figure is used."
                    if max_fact.mismatch and max_fact.primary is None
                    else ""
                )
                out.append(
                    make(
                        "rate_above_label_max",
                        _cite(plan, max_fact.source_ids),
                        step=step.number,
                        number=str(step.number),
                        rate=fmt_rate(rate),
                        pump=f"{fmt(step.pump_rate_ml_h, 1)} mL/h",
                        product=plan.product.brand,
                        maximum=fmt_rate_fact(max_fact),
                        mismatch=mismatch,
                    )
                )
    if initial is not None and plan.steps:
        first = plan.steps[0]
        rate = effective_rate_ml_kg_h(plan, first.pump_rate_ml_h, first.rate_ml_kg_h)
        if rate > initial.governing_ml_kg_h:
            out.append(
                make(
                    "start_rate_above_label_initial",
                    _cite(plan, initial.source_ids),
                    step=1,
                    rate=fmt_rate(rate),
                    initial=fmt_rate_fact(initial),
                    product=plan.product.brand,
                )
            )
        if (
            initial.minutes is not None
            and first.minutes is not None
            and first.minutes < initial.minutes
            and len(plan.steps) > 1
        ):
            out.append(
                make(
                    "initial_step_shorter_than_label",
                    _cite(plan, initial.source_ids),
                    step=1,
                    minutes=str(first.minutes),
                    label_minutes=str(initial.minutes),
                    product=plan.product.brand,
                )
            )
    step_rule = label.step if label else None
    if step_rule is not None and step_rule.interval_minutes_min is not None:
        for step in plan.steps[1:-1]:
            if step.minutes is not None and step.minutes < step_rule.interval_minutes_min:
                out.append(
                    make(
                        "step_interval_shorter_than_label",
                        _cite(plan, step_rule.source_ids),
                        step=step.number,
                        number=str(step.number),
                        minutes=str(step.minutes),
                        interval=step_rule.interval_text,
                        product=plan.product.brand,
                    )
                )
    if step_rule is not None and step_rule.increment is not None:
        limit = step_rule.increment.governing_ml_kg_h
        for prev, step in zip(plan.steps, plan.steps[1:], strict=False):
            rise = step.rate_ml_kg_h - prev.rate_ml_kg_h
            if rise > limit:
                out.append(
                    make(
                        "step_increment_above_label",
                        _cite(plan, step_rule.increment.source_ids),
                        step=step.number,
                        number=str(step.number),
                        rise=fmt_rate(rise),
                        increment=fmt_rate_fact(step_rule.increment),
                        product=plan.product.brand,
                    )
                )
    return out


@check
def check_first_infusion(plan: Plan) -> list[Finding]:
    limit = units.rate_to_ml_kg_h(_q("first_infusion", "max_rate", Kind.RATE), None, None)
    assert limit is not None
    fast = [
        s
        for s in plan.steps
        if effective_rate_ml_kg_h(plan, s.pump_rate_ml_h, s.rate_ml_kg_h) > limit
    ]
    if not fast:
        if plan.steps and _is_first_or_switch(plan)[0] is None:
            top_rate = max(
                effective_rate_ml_kg_h(plan, s.pump_rate_ml_h, s.rate_ml_kg_h) for s in plan.steps
            )
            return [
                make(
                    "first_infusion_not_known_within_advice",
                    rule_citation("first_infusion"),
                    rate=fmt_rate(top_rate),
                    limit=fmt_rate(limit),
                )
            ]
        return []
    first, why = _is_first_or_switch(plan)
    source = rule_citation("first_infusion")
    top = max(effective_rate_ml_kg_h(plan, s.pump_rate_ml_h, s.rate_ml_kg_h) for s in fast)
    if first is None:
        return [make("first_infusion_unknown", source, rate=fmt_rate(top), limit=fmt_rate(limit))]
    if not first:
        return []
    code = (
        "product_switch_rate_above_advice"
        if why == "product_switch"
        else ("first_infusion_rate_above_advice")
    )
    previous = plan.document.patient.previous_product or ""
    return [
        make(
            code,
            source,
            step=fast[0].number,
            rate=fmt_rate(top),
            limit=fmt_rate(limit),
            steps=", ".join(str(s.number) for s in fast),
            previous=plan.catalogue.products[previous].brand if previous else "",
        )
    ]


@check
def check_boxed_warning_risks(plan: Plan) -> list[Finding]:
    out: list[Finding] = []
    renal = risk_factors(plan, "renal_risk")
    thrombosis = risk_factors(plan, "thrombosis_risk")
    at_risk = plan.product.at_risk_max_rate
    if renal or thrombosis:
        factors = _condition_names([*renal, *thrombosis])
        source = rule_citation("renal_risk")
        if _age_over(plan, "thrombosis_risk"):
            source += "; " + rule_citation("thrombosis_advanced_age")
        if at_risk is not None:
            for step in plan.steps:
                rate = effective_rate_ml_kg_h(plan, step.pump_rate_ml_h, step.rate_ml_kg_h)
                if rate > at_risk.governing_ml_kg_h:
                    out.append(
                        make(
                            "rate_above_at_risk_max",
                            _cite(plan, at_risk.source_ids),
                            step=step.number,
                            number=str(step.number),
                            rate=fmt_rate(rate),
                            maximum=fmt_rate_fact(at_risk),
                            product=plan.product.brand,
                            factors=factors,
                        )
                    )
        out.append(
            make(
                "renal_or_thrombosis_risk",
                source,
                factors=factors,
                ceiling=(
                    f"{plan.product.brand}'s label gives a ceiling for patients at risk: "
                    f"{fmt_rate_fact(at_risk)}."
                    if at_risk
                    else f"{plan.product.brand}'s label gives no number: it asks for the minimum "
                    "dose and the minimum infusion rate practicable."
                ),
                ceiling_es=(
                    f"La ficha de {plan.product.brand} da un límite para pacientes de riesgo: "
                    f"{fmt_rate_fact(at_risk)}."
                    if at_risk
                    else f"La ficha de {plan.product.brand} no da una cifra: pide la dosis mínima "
                    "y la velocidad mínima posible."
                ),
            )
        )
    if renal and plan.product.sucrose.value:
        out.append(
            make(
                "sucrose_renal_risk",
                _cite(plan, plan.product.sucrose.source_ids),
                product=plan.product.brand,
                factors=_condition_names(renal),
            )
        )
    return out


def _contains(plan: Plan, name: str) -> tuple[bool | None, str]:
    fact = getattr(plan.product, name)
    return fact.value, _cite(plan, fact.source_ids)


@check
def check_contents(plan: Plan) -> list[Finding]:
    out: list[Finding] = []
    conditions = plan.document.patient.conditions
    p = plan.product
    pairs = [
        ("sorbitol", "hereditary_fructose_intolerance", "contraindicated_sorbitol_fructose"),
        ("proline", "hyperprolinemia", "contraindicated_proline_hyperprolinemia"),
        ("maltose", "diabetes", "maltose_glucose_meter"),
        ("maltose", "corn_allergy", "maltose_corn_allergy"),
        ("glucose", "diabetes", "glucose_diabetes"),
    ]
    for content, condition, code in pairs:
        if condition not in conditions:
            continue
        value, source = _contains(plan, content)
        if value is None:
            out.append(
                make(
                    "content_unknown",
                    source or "Product catalogue",
                    product=p.brand,
                    content=content,
                    condition=_condition_names([condition]),
                )
            )
        elif value and code == "glucose_diabetes":
            out.append(
                make(
                    code,
                    f"{source}; {rule_citation('glucose_diabetes')}",
                    product=p.brand,
                    amount=p.glucose.note or "amount not encoded",
                )
            )
        elif value:
            out.append(make(code, source, product=p.brand))
    if "iga_deficiency_with_anti_iga" in conditions:
        out.append(
            make(
                "contraindicated_anti_iga",
                _cite(plan, _contraindication_sources(plan, "iga_deficiency_with_anti_iga")),
                product=p.brand,
                iga=p.iga.value or "unknown",
            )
        )
    elif "iga_deficiency" in conditions:
        out.append(
            make(
                "iga_deficiency_product_iga",
                _cite(plan, p.iga.source_ids) or "Product catalogue",
                product=p.brand,
                iga=p.iga.value or "unknown",
            )
        )
    if "hypersensitivity_to_immune_globulin" in conditions:
        out.append(
            make(
                "contraindicated_hypersensitivity",
                _cite(plan, _contraindication_sources(plan, "hypersensitivity_to_human_ig")),
                product=p.brand,
            )
        )
    for ci in p.contraindications:
        if ci.verified:
            continue
        if ci.code == "hereditary_fructose_intolerance" and (
            "hereditary_fructose_intolerance" in conditions
        ):
            out.append(
                make(
                    "contraindication_unverified",
                    _cite(plan, ci.source_ids),
                    product=p.brand,
                    text=ci.text,
                )
            )
    if p.sorbitol.value and plan.age_years is not None:
        young = [c for c in p.contraindications if c.code == "age_under_2_years_sorbitol"]
        if young and plan.age_years < 2:
            out.append(
                make(
                    "sorbitol_young_child",
                    _cite(plan, young[0].source_ids),
                    product=p.brand,
                    text=young[0].text,
                )
            )
    return out


def _contraindication_sources(plan: Plan, code: str) -> list[str]:
    return [s for c in plan.product.contraindications if c.code == code for s in c.source_ids]


@check
def check_heart_failure_volume(plan: Plan) -> list[Finding]:
    if "heart_failure" not in plan.document.patient.conditions or not plan.days:
        return []
    limit_g_kg = units.grams_per_kg(_q("heart_failure", "day_dose_above", Kind.DOSE_PER_KG))
    day = max(plan.days, key=lambda d: d.volume_ml)
    volume_ml_kg = (day.volume_ml + (day.saline_ml or 0)) / plan.dosing.actual_kg
    day_g_kg = day.dose.dose_g / plan.dosing.actual_kg
    code = "heart_failure_volume" if day_g_kg > limit_g_kg else "heart_failure_volume_info"
    return [
        make(
            code,
            rule_citation("heart_failure"),
            volume=f"{fmt(day.volume_ml, 0)} mL",
            volume_per_kg=f"{fmt(volume_ml_kg, 1)} mL/kg",
            saline=f" (including {fmt(day.saline_ml, 0)} mL of saline)" if day.saline_ml else "",
            dose_per_kg=f"{fmt(day_g_kg, 2)} g/kg",
            limit=f"{fmt(limit_g_kg, 2)} g/kg",
            days=str(plan.document.order.days),
        )
    ]


@check
def check_hemolysis(plan: Plan) -> list[Finding]:
    group = plan.document.patient.blood_group
    threshold = units.grams_per_kg(_q("hemolysis", "course_dose_at_least", Kind.DOSE_PER_KG))
    dose = plan.course.dose_g / plan.dosing.actual_kg
    high = max(dose, plan.course_dose_g_per_kg) >= threshold
    if not high:
        return []
    source = rule_citation("hemolysis")
    if group is None or group == "unknown":
        return [make("hemolysis_blood_group_unknown", source, dose=f"{fmt(dose, 2)} g/kg")]
    if group in rules()["hemolysis"]["blood_groups"]:
        return [make("hemolysis_risk", source, group=group, dose=f"{fmt(dose, 2)} g/kg")]
    return []


@check
def check_aseptic_meningitis(plan: Plan) -> list[Finding]:
    conditions = set(rules()["aseptic_meningitis"]["conditions"]) & plan.document.patient.conditions
    threshold = units.grams_per_kg(
        _q("aseptic_meningitis", "course_dose_at_least", Kind.DOSE_PER_KG)
    )
    if conditions and plan.course_dose_g_per_kg >= threshold:
        return [
            make(
                "aseptic_meningitis_risk",
                rule_citation("aseptic_meningitis"),
                dose=f"{fmt(plan.course_dose_g_per_kg, 2)} g/kg",
            )
        ]
    return []


@check
def check_pump_cap(plan: Plan) -> list[Finding]:
    cap = units.ml_h(_q("pump", "absolute_max_rate", Kind.RATE))
    over = [s for s in plan.steps if s.pump_rate_ml_h > cap]
    if not over:
        return []
    return [
        make(
            "pump_rate_above_absolute_cap",
            rule_citation("pump"),
            step=over[0].number,
            pump=f"{fmt(max(s.pump_rate_ml_h for s in over), 1)} mL/h",
            cap=f"{fmt(cap, 0)} mL/h",
        )
    ]


# --- Dose ---------------------------------------------------------------------------------------


def _dose_ranges(plan: Plan) -> tuple[list[Any], str, str]:
    """(regimens, where from, source) for the dose checks."""
    if plan.label is not None and plan.label.regimens:
        return (
            list(plan.label.regimens),
            "label",
            _cite(plan, [s for r in plan.label.regimens for s in r.source_ids]),
        )
    if plan.indication is not None and plan.indication.usual_regimens:
        regs = plan.indication.usual_regimens
        return list(regs), "usual", _cite(plan, [s for r in regs for s in r.source_ids])
    return [], "none", ""


def _days_fit(regimen: Any, days: int) -> bool:
    """True when the regimen states no number of days, or the days are within its range."""
    low, high = regimen.days_min, regimen.days_max
    return (low is None or days >= low) and (high is None or days <= high)


def regimen_text(r: Any) -> str:
    if r.dose_g_per_kg_min == r.dose_g_per_kg_max:
        dose = f"{fmt(r.dose_g_per_kg_min, 2)} g/kg"
    else:
        dose = f"{fmt(r.dose_g_per_kg_min, 2)}–{fmt(r.dose_g_per_kg_max, 2)} g/kg"
    if r.days_min is None and r.days_max is None:
        days = "days not stated"
    elif r.days_min == r.days_max:
        days = f"over {r.days_min} day(s)"
    else:
        days = f"over {r.days_min or '?'}–{r.days_max or '?'} days"
    return f"{r.name}: {dose} {days} {r.interval_text}".strip()


def _all_regimens(plan: Plan) -> list[Any]:
    regs = [r for p in plan.catalogue.products.values() for i in p.indications for r in i.regimens]
    regs += [r for i in plan.catalogue.indications.values() for r in i.usual_regimens]
    return regs


def _indication_regimens(plan: Plan) -> list[Any]:
    """Every regimen cited for the order's indication: each product's label and the usual ones."""
    wanted = plan.document.order.indication
    if wanted is None:
        return []
    regs = [
        r
        for p in plan.catalogue.products.values()
        for i in p.indications
        if i.indication == wanted
        for r in i.regimens
    ]
    if plan.indication is not None:
        regs += list(plan.indication.usual_regimens)
    return regs


def _regimen_with_indication(plan: Plan, regimen: Any) -> str:
    """A regimen's text with the indication (and product label) it is cited for."""
    for product in plan.catalogue.products.values():
        for row in product.indications:
            if any(r is regimen for r in row.regimens):
                name = plan.catalogue.indications.get(row.indication)
                label = name.name_en if name else row.indication
                return f"{label}, {product.brand} label: {regimen_text(regimen)}"
    for indication in plan.catalogue.indications.values():
        if any(r is regimen for r in indication.usual_regimens):
            return f"{indication.name_en}, usual regimen: {regimen_text(regimen)}"
    return regimen_text(regimen)


def _in_any(value: Decimal, regimens: Iterable[Any]) -> bool:
    return any(r.dose_g_per_kg_min <= value <= r.dose_g_per_kg_max for r in regimens)


def _regimens_source(plan: Plan, regimens: Iterable[Any]) -> str:
    return _cite(plan, [s for r in regimens for s in r.source_ids][:4])


def _scope(plan: Plan, own: bool) -> tuple[str, str]:
    if own and plan.indication is not None:
        return f"for {plan.indication.name_en}", f"para {plan.indication.name_en}"
    return "in the catalogue", "del catálogo"


def _slip(plan: Plan, dose: Decimal, own: list[Any], everything: list[Any]) -> Finding | None:
    """A dose that fits no regimen but would fit with g for mg (any regimen of any indication),
    or read per day instead of per course (or the reverse) for the order's own regimens."""
    order = plan.document.order
    g_in_mg = units.grams(units.parse("1 mg", "rules", Kind.DOSE_FIXED))
    if not _in_any(dose, everything):
        for factor, meant in ((1 / g_in_mg, "larger"), (g_in_mg, "smaller")):
            scaled = dose * factor
            fits = [r for r in own if r.dose_g_per_kg_min <= scaled <= r.dose_g_per_kg_max] or [
                r for r in everything if r.dose_g_per_kg_min <= scaled <= r.dose_g_per_kg_max
            ]
            if fits:
                return make(
                    "dose_unit_slip",
                    _regimens_source(plan, fits) or "All dose ranges in the product catalogue",
                    given=order.dose.text,
                    dose=f"{fmt_g_per_kg(dose)} per course",
                    meant=fmt_g_per_kg(scaled),
                    regimen=_regimen_with_indication(plan, fits[0]),
                    direction=meant,
                )
    reference = own or everything
    days = order.days
    if days > 1 and order.dose_basis in (DoseBasis.PER_KG_COURSE, DoseBasis.PER_KG_DAY):
        per_course = order.dose_basis is DoseBasis.PER_KG_COURSE
        alternative = dose * days if per_course else dose / days
        fits = [r for r in reference if r.dose_g_per_kg_min <= alternative <= r.dose_g_per_kg_max]
        if fits and not _in_any(dose, reference):
            scope, scope_es = _scope(plan, bool(own))
            return make(
                "dose_day_course_slip",
                _regimens_source(plan, fits),
                given=order.dose.text,
                days=str(days),
                dose=fmt_g_per_kg(dose),
                scope=scope,
                scope_es=scope_es,
                alternative="per day" if per_course else "per course",
                alternative_es="por día" if per_course else "por ciclo",
                meant=f"{fmt_g_per_kg(alternative)} per course ({regimen_text(fits[0])})",
            )
    return None


@check
def check_dose(plan: Plan) -> list[Finding]:
    """The course dose GIVEN (after rounding) per kg against the cited regimens: a g/mg slip
    (any regimen of any indication), a per-day/per-course slip, a dose above every cited
    regimen (error), outside the label's or the usual range (warning)."""
    out: list[Finding] = []
    order = plan.document.order
    dose = plan.course_dose_g_per_kg
    regimens, origin, source = _dose_ranges(plan)
    own = _indication_regimens(plan)
    everything = _all_regimens(plan)
    slip = _slip(plan, dose, own, everything)
    if slip is not None:
        return [slip]
    ceiling_regs = own or everything
    if ceiling_regs:
        top = max(ceiling_regs, key=lambda r: r.dose_g_per_kg_max)
        # Compared at the precision shown to people (0.01 g/kg): 40 g for 19.96 kg (2.004 g/kg)
        # is the 2 g/kg regimen, not an overdose.
        if units.round_half_up(dose, 2) > top.dose_g_per_kg_max:
            scope, scope_es = _scope(plan, bool(own))
            return [
                make(
                    "dose_above_highest_regimen",
                    _regimens_source(plan, [top]) + "; " + rule_citation("dose_ceiling"),
                    dose=f"{fmt_g_per_kg(dose)} per course",
                    given=order.dose.text,
                    scope=scope,
                    scope_es=scope_es,
                    ceiling=fmt_g_per_kg(top.dose_g_per_kg_max),
                    regimen=regimen_text(top),
                )
            ]
    if origin == "none":
        out.append(make("dose_range_unknown", "Product catalogue", product=plan.product.brand))
        return out
    matching = [r for r in regimens if r.dose_g_per_kg_min <= dose <= r.dose_g_per_kg_max]
    ranges = "; ".join(regimen_text(r) for r in regimens)
    code = "dose_outside_label_range" if origin == "label" else "dose_outside_usual_range"
    if not matching:
        out.append(
            make(
                code,
                source,
                dose=f"{fmt_g_per_kg(dose)} per course",
                ranges=ranges,
                product=plan.product.brand,
            )
        )
    elif not any(_days_fit(r, order.days) for r in matching):
        out.append(
            make(
                "days_outside_range",
                source,
                days=str(order.days),
                ranges=ranges,
                origin="label" if origin == "label" else "usual regimen",
            )
        )
    if (
        plan.indication is not None
        and plan.indication.max_course_g is not None
        and (plan.course.dose_g > plan.indication.max_course_g)
    ):
        out.append(
            make(
                "dose_above_course_maximum",
                _cite(plan, plan.indication.source_ids),
                dose=f"{fmt(plan.course.dose_g, 1)} g",
                maximum=f"{fmt(plan.indication.max_course_g, 0)} g",
                indication=plan.indication.name_en,
            )
        )
    if order.dose_basis in (DoseBasis.FIXED_COURSE, DoseBasis.FIXED_DAY):
        out.append(
            make(
                "dose_fixed_grams",
                "Order document",
                dose=order.dose.text,
                per_kg=fmt_g_per_kg(dose),
            )
        )
    return out


def _grams_and_per_kg(grams: Decimal, weight_kg: Decimal) -> str:
    return f"{fmt(grams, 2)} g ({fmt_g_per_kg(grams / weight_kg)})"


@check
def check_vial_rounding(plan: Plan) -> list[Finding]:
    """Rounding that changes a day's dose is shown: grams and percent, prescribed and given in
    g and g/kg. A warning above the tolerance in rules.toml (a design choice), else a note."""
    changed = [d for d in plan.course.days if d.dose_g != d.prescribed_g]
    if not changed:
        return []
    tolerance = Decimal(rules()["vial_rounding_change"]["warn_above_percent"])
    weight = plan.dosing.weight_kg
    first = changed[0]
    change_g = first.dose_g - first.prescribed_g
    percent = change_g / first.prescribed_g * 100
    sign = "+" if change_g > 0 else "−"
    numbers = [str(d.day) for d in changed]
    every = len(changed) == len(plan.course.days)
    days = "each day" if every and len(numbers) > 1 else "day " + ", ".join(numbers)
    days_es = "cada día" if every and len(numbers) > 1 else "el día " + ", ".join(numbers)
    return [
        make(
            "vial_rounding_changed_dose",
            rule_citation("vial_rounding_change"),
            severity="warning" if abs(percent) > tolerance else "info",
            rounding=plan.document.order.vial_rounding.replace("_", " "),
            days=days,
            days_es=days_es,
            prescribed=_grams_and_per_kg(first.prescribed_g, weight),
            given=_grams_and_per_kg(first.dose_g, weight),
            change=f"{sign}{fmt(abs(change_g), 2)} g, {sign}{fmt(abs(percent), 1)} %",
        )
    ]


@check
def check_label_age(plan: Plan) -> list[Finding]:
    label = plan.label
    if label is None:
        return []
    minimum = label.min_age_years
    source = _cite(plan, label.source_ids)
    if minimum is None and label.adults_only:
        minimum = units.years(_q("label_population", "adult_age", Kind.AGE))
        source += "; " + rule_citation("label_population")
    if minimum is None:
        return []
    if plan.age_years is None:
        return [
            make(
                "age_unknown_for_label",
                source,
                population=label.population,
                product=plan.product.brand,
            )
        ]
    if plan.age_years < minimum:
        return [
            make(
                "age_below_label_population",
                source,
                population=label.population,
                product=plan.product.brand,
            )
        ]
    return []


# --- Weight ---------------------------------------------------------------------------------------


WEIGHT_CONFIRM_CODES = frozenset(
    {
        "weight_implausible_for_age",
        "weight_possible_pounds_as_kg",
        "weight_possible_kg_as_pounds",
        "weight_implausible_adult",
    }
)
"""Weight findings that ask the person entering the weight to check it and confirm."""


def _adult_weight(weight: units.Quantity, age_known: bool) -> list[Finding]:
    bounds = growth.adult_bounds(age_known)
    kg = units.mass_kg(weight)
    if bounds.lower_kg <= kg <= bounds.upper_kg:
        return []
    return [
        make(
            "weight_implausible_adult",
            bounds.source,
            weight=f"{fmt(kg, 1)} kg (given as {weight.text})",
            bounds=f"{fmt(bounds.lower_kg, 1)}–{fmt(bounds.upper_kg, 1)} kg",
        )
    ]


def weight_findings(
    weight: units.Quantity, age_years: Decimal | None, sex: str | None
) -> list[Finding]:
    """Is a typed weight plausible? Against the growth reference for age, in both directions
    (children), or the absolute adult bounds (adults, and age not given). Warnings to check and
    confirm, never a block. Used by the plan checks and by the web weight form before saving."""
    if age_years is None:
        return [
            make(
                "weight_not_checked",
                "Growth reference",
                reason="the age is not given (only the absolute bounds were checked)",
                reason_es="no se indicó la edad (solo se revisaron los límites absolutos)",
            ),
            *_adult_weight(weight, age_known=False),
        ]
    weight_kg = units.mass_kg(weight)
    result = growth.weight_for_age(sex, units.months_from_years(age_years), weight_kg)
    if result is None:
        return _adult_weight(weight, age_known=True)
    shown = f"{fmt(weight_kg, 1)} kg (given as {weight.text})"
    if result.suspect_pounds_as_kg:
        code = "weight_possible_pounds_as_kg"
    elif result.suspect_kg_as_pounds:
        code = "weight_possible_kg_as_pounds"
    elif result.implausible:
        return [
            make(
                "weight_implausible_for_age",
                result.reference,
                weight=shown,
                percentile=result.percentile_text,
                direction="above" if result.high else "below",
                direction_es="por encima de" if result.high else "por debajo de",
                limits=f"flag limits for this age {result.limits_text}",
            )
        ]
    else:
        return []
    return [
        make(
            code,
            result.reference,
            weight=shown,
            given=weight.text,
            percentile=result.percentile_text,
        )
    ]


@check
def check_weight_plausible(plan: Plan) -> list[Finding]:
    patient = plan.document.patient
    return weight_findings(patient.weight, plan.age_years, patient.sex)


@check
def check_dosing_weight_notes(plan: Plan) -> list[Finding]:
    out = []
    for note in (*plan.dosing.notes, *plan.course.notes):
        source = "; ".join(_cite_dosing_source(i) for i in note.source_ids) or "Dosing rules"
        out.append(make(note.code, source, params=note.params))
    return out


def _cite_dosing_source(source_id: str) -> str:
    from ivig.core.dosing import dosing_sources

    s = dosing_sources()[source_id]
    return f"{s['document']}, {s['revision']}, {s['section']}"


# --- Coherence ------------------------------------------------------------------------------------


@check
def check_coherence(plan: Plan) -> list[Finding]:
    out: list[Finding] = []
    order = plan.document.order
    for prev, step in zip(plan.steps, plan.steps[1:], strict=False):
        if step.pump_rate_ml_h < prev.pump_rate_ml_h:
            if step.reason:
                out.append(
                    make(
                        "rate_falls_with_reason",
                        "Order document",
                        step=step.number,
                        number=str(step.number),
                        reason=step.reason,
                    )
                )
            else:
                out.append(
                    make(
                        "rate_falls_without_reason",
                        "Order document",
                        step=step.number,
                        number=str(step.number),
                        rate=fmt_rate(step.rate_ml_kg_h),
                        previous=fmt_rate(prev.rate_ml_kg_h),
                    )
                )
    for step in plan.steps:
        if step.pump_rate_ml_h <= 0:
            out.append(
                make(
                    "pump_rate_zero",
                    "Order document",
                    step=step.number,
                    number=str(step.number),
                    exact=f"{fmt(step.pump_exact_ml_h, 3)} mL/h",
                )
            )
    if plan.days:
        day = plan.days[0]
        sched = day.schedule
        if not sched.complete:
            out.append(
                make(
                    "plan_cannot_deliver_volume",
                    "Order document",
                    delivered=f"{fmt(sched.delivered_ml, 1)} mL",
                    volume=f"{fmt(sched.volume_ml, 1)} mL",
                )
            )
        elif sched.unreached and sched.steps:
            top = max(plan.steps, key=lambda s: s.pump_rate_ml_h)
            out.append(
                make(
                    "max_rate_never_reached",
                    "Order document",
                    steps=", ".join(str(s.number) for s in sched.unreached),
                    top=fmt_rate(top.rate_ml_kg_h),
                    reached=fmt_rate(sched.steps[-1].rate_ml_kg_h),
                )
            )
    if isinstance(order.titration, TitrationRule) and any(s.clamped for s in plan.steps):
        out.append(make("rule_clamped_at_max", "Order document", maximum=str(order.titration.max)))
    return out


@check
def check_secondary_sources(plan: Plan) -> list[Finding]:
    ids: set[str] = set()
    label, rows, _ = _label_context(plan)
    for row in [label] if label else rows:
        for rate_fact in (row.initial_rate, row.max_rate):
            if rate_fact is not None:
                ids.update(rate_fact.source_ids)
    p = plan.product
    for fact in (p.sorbitol, p.sucrose, p.maltose, p.proline, p.glucose):
        ids.update(fact.source_ids)
    ids.update(p.iga.source_ids)
    provisional = sorted(
        i for i in ids if i in plan.catalogue.sources and plan.catalogue.sources[i].provisional
    )
    if not provisional:
        return []
    return [
        make(
            "secondary_source_used",
            _cite(plan, provisional),
            product=plan.product.brand,
            sources="; ".join(plan.catalogue.sources[i].document for i in provisional),
        )
    ]


# --- Setting, premedication and rate slips (issue 11) ------------------------------------------


@check
def check_start_rate_slip(plan: Plan) -> list[Finding]:
    """A starting rate 5x the label's initial rate or more: the seed chart's own "5 mL/kg/hr"
    misprint for 0.5. Names the likely intended rate (a tenth)."""
    label, rows, _ = _label_context(plan)
    initial = label.initial_rate if label else _strictest(r.initial_rate for r in rows)
    if initial is None or not plan.steps or initial.governing_ml_kg_h <= 0:
        return []
    slip = rules()["rate_slip"]
    first = plan.steps[0]
    rate = effective_rate_ml_kg_h(plan, first.pump_rate_ml_h, first.rate_ml_kg_h)
    ratio = rate / initial.governing_ml_kg_h
    if ratio < Decimal(str(slip["factor"])):
        return []
    likely = f"{fmt(first.rate_ml_kg_h / Decimal(str(slip['divide_by'])), 3)} mL/kg/h"
    return [
        make(
            "start_rate_tenfold_slip",
            "; ".join([rule_citation("rate_slip"), _cite(plan, initial.source_ids)]),
            step=1,
            rate=fmt_rate(rate),
            ratio=fmt(ratio, 1),
            product=plan.product.brand,
            initial=fmt_rate_fact(initial),
            likely=likely,
        )
    ]


def _family_cite(keys: Iterable[str]) -> str:
    from ivig.core import family

    return "; ".join(family.source_line(k) for k in keys)


@check
def check_setting(plan: Plan) -> list[Finding]:
    """A first infusion, or the first of a new product, at home (seed 003, HTA Core, EU-style
    texts; an AAAAI expert disagrees and the stricter is used)."""
    from ivig.core import family

    if plan.document.order.setting != "home":
        return []
    data = family.family_data()["setting"]
    source = _family_cite([*data["home_first_sources"], *data["home_first_conflict_sources"]])
    out: list[Finding] = []
    first = plan.document.patient.first_infusion
    if first is not False:
        what = "a first infusion" if first else "possibly a first infusion (not stated)"
        what_es = "una primera infusión" if first else "quizá una primera infusión (no consta)"
        out.append(make("home_first_infusion", source, what=what, what_es=what_es))
    if family.is_product_switch(plan):
        previous = plan.document.patient.previous_product or ""
        known = plan.catalogue.products.get(previous)
        brand = known.brand if known is not None else previous
        out.append(
            make("home_product_switch", source, previous=brand, product=plan.product.brand)
        )
    return out


@check
def check_premedication(plan: Plan) -> list[Finding]:
    from ivig.core import family

    low, high = family.premedication_window_min()
    timing = _family_cite(family.family_data()["premedication"]["timing_sources"])
    out: list[Finding] = []
    for item in plan.document.order.premedication:
        if item.minutes_before is None:
            out.append(
                make(
                    "premedication_timing_not_given",
                    timing,
                    name=item.name,
                    low=fmt(low, 0),
                    high=fmt(high, 0),
                )
            )
        elif not low <= item.minutes_before <= high:
            out.append(
                make(
                    "premedication_timing_outside_advice",
                    timing,
                    name=item.name,
                    minutes=str(item.minutes_before),
                    low=fmt(low, 0),
                    high=fmt(high, 0),
                )
            )
        if item.repeat_before_step is not None and item.repeat_before_step > len(plan.steps):
            out.append(
                make(
                    "premedication_repeat_step_missing",
                    "the prescription (order.premedication)",
                    name=item.name,
                    number=str(item.repeat_before_step),
                    steps=str(len(plan.steps)),
                )
            )
        if item.dose is None:
            continue
        amount = family.premedication_mg(plan, item.dose)
        if amount is None:
            continue
        mg, per_kg = amount
        if per_kg:
            out.append(
                make(
                    "premedication_dose_for_weight",
                    "the prescription (order.premedication) and the patient's weight",
                    name=item.name,
                    dose=item.dose.text,
                    weight=fmt(plan.dosing.actual_kg, 2),
                    mg=fmt(mg, 0),
                )
            )
        drug = family.premedication_drug(item.name)
        if drug is None or "max_single" not in drug:
            continue
        maximum = units.grams(units.parse(drug["max_single"], "family.toml", Kind.DOSE_FIXED))
        if mg > maximum * 1000:
            weak = bool(drug.get("weak"))
            out.append(
                make(
                    "premedication_above_max_single_dose",
                    _family_cite(drug["sources"]),
                    severity="warning" if weak else None,
                    name=item.name,
                    mg=fmt(mg, 0),
                    maximum=drug["max_single"],
                    weak=" (weak source: check with a pharmacist)" if weak else "",
                    weak_es=" (fuente débil: compruébelo con farmacia)" if weak else "",
                )
            )
    return out
