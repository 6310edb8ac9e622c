"""The Plan: patient + order → dosing weight, days, schedules and findings. The one entry point.

``build_plan(document_mapping, today=...)`` validates the order document, computes the plan and
runs every check. It never invents a dose or a rate: every number comes from the order or from
the cited catalogue, and every fact it cannot know is reported as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ivig.core import dosing, titration, units
from ivig.core.catalogue import Catalogue, Product, load_catalogue
from ivig.core.checks import run_all
from ivig.core.order import OrderDocument, OrderError, Problem, parse_order_document
from ivig.core.plan_model import DayPlan, Plan

__all__ = ["DayPlan", "Plan", "build_plan", "build_plan_or_error", "parse_document"]

def parse_document(data: object, catalogue: Catalogue | None = None) -> OrderDocument:
    catalogue = catalogue or load_catalogue()
    return parse_order_document(
        data,
        product_ids=sorted(catalogue.products),
        indication_ids=sorted(catalogue.indications),
        dosing_weight_packs=dosing.rule_pack_ids(),
    )


def build_plan(
    data: Mapping[str, Any] | OrderDocument,
    *,
    today: date,
    catalogue: Catalogue | None = None,
) -> Plan:
    """Validate and compute a plan. Raises OrderError (with every problem) on bad input."""
    catalogue = catalogue or load_catalogue()
    document = data if isinstance(data, OrderDocument) else parse_document(data, catalogue)
    order = document.order
    patient = document.patient
    product = catalogue.product(order.product_id)
    concentration = _concentration(document, product)
    on = order.start.date() if order.start is not None else today
    weight = dosing.dosing_weight(patient, order.dosing_weight, on)
    vial_sizes = product.vial_sizes_g.value if product.vial_sizes_g.known else None
    course = dosing.course(order, weight.weight_kg, vial_sizes)
    steps = titration.resolve(order.titration, concentration, weight.weight_kg)
    saline_ml = None
    if order.saline is not None:
        saline_ml = (
            units.ml_per_kg(order.saline.amount) * weight.weight_kg
            if order.saline.per_kg
            else units.ml(order.saline.amount)
        )
    days = []
    for day_dose in course.days:
        volume = dosing.volume_ml(day_dose.dose_g, concentration)
        sched = titration.schedule(steps, volume)
        start = order.start + timedelta(days=day_dose.day - 1) if order.start else None
        end = start + timedelta(minutes=float(sched.duration_min)) if start is not None else None
        days.append(
            DayPlan(
                day=day_dose.day,
                date=start.date() if start is not None else None,
                dose=day_dose,
                volume_ml=volume,
                schedule=sched,
                start=start,
                end=end,
                saline_ml=saline_ml,
            )
        )
    indication = catalogue.indications.get(order.indication) if order.indication else None
    label = product.indication(order.indication) if order.indication else None
    plan = Plan(
        document=document,
        catalogue=catalogue,
        product=product,
        concentration_mg_ml=concentration,
        indication=indication,
        label=label,
        dosing=weight,
        course=course,
        steps=steps,
        days=tuple(days),
        today=today,
        age_years=patient.age_years(on),
    )
    return replace(plan, findings=run_all(plan))


def _concentration(document: OrderDocument, product: Product) -> Decimal:
    known = product.concentrations_mg_ml
    given = document.order.concentration
    if not known.known or not known.value:
        raise OrderError(
            [
                Problem(
                    "order.product",
                    product.id,
                    "a product whose concentration is known",
                    f"the concentration of {product.brand} is unknown, so no volume or rate "
                    "can be computed",
                )
            ]
        )
    options = known.value
    accepted = " or ".join(f'"{v:f} mg/mL"' for v in options)
    if given is None:
        if len(options) == 1:
            return options[0]
        raise OrderError(
            [
                Problem(
                    "order.concentration",
                    None,
                    accepted,
                    f"{product.brand} can be made up at more than one concentration: say which",
                )
            ]
        )
    value = given.to("mg/mL")
    if value not in options:
        raise OrderError(
            [
                Problem(
                    "order.concentration",
                    given.text,
                    accepted,
                    "not a concentration of this product",
                )
            ]
        )
    return value


def build_plan_or_error(
    data: Mapping[str, Any], *, today: date
) -> tuple[Plan | None, tuple[Problem, ...]]:
    """Convenience for adapters: (plan, ()) or (None, problems)."""
    try:
        return build_plan(data, today=today), ()
    except OrderError as exc:
        return None, exc.problems
