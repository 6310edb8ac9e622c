"""CDS Hooks 2.0: ``order-sign`` and ``order-select`` for draft IVIG MedicationRequests.

request (context.draftOrders + prefetch) -> order document (ivig.interop.fhir_import) -> plan
(ivig.core.plan, the same checks as everywhere) -> cards. One card per error or warning finding
(error -> ``critical``), one ``info`` card with the rest, and a ``warning`` card naming what
could not be read when an order cannot be checked. Pure: the web view fetches missing prefetch
from the EHR's FHIR server and supplies the link that opens the plan in the app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from ivig.core.findings import Finding
from ivig.core.order import OrderError, Problem
from ivig.core.plan import build_plan
from ivig.core.plan_model import STATEMENT_EN, UNNAMED_PRESCRIBER_EN, Plan
from ivig.interop.fhir_import import FhirImportError, flatten, import_order
from ivig.interop.tables import load

Json = dict[str, Any]

HOOKS = ("order-sign", "order-select")
SUMMARY_MAX = 140  # CDS Hooks 2.0, Card attributes: summary "<140-character summary"
INDICATORS = {"error": "critical", "warning": "warning", "info": "info"}
SOURCE_LABEL = "IVIG infusion planner"

# Prefetch templates (CDS Hooks 2.0, "Prefetch Template"): what the service needs to check a
# per-kg order. The weight search asks for the newest one only.
PREFETCH: Mapping[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "weight": "Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7"
    "&_sort=-date&_count=1",
    "height": "Observation?patient={{context.patientId}}&code=http://loinc.org|8302-2"
    "&_sort=-date&_count=1",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
}
REQUIRED_PREFETCH = ("patient", "weight")


class CdsRequestError(ValueError):
    """The request is not a CDS Hooks request this service can answer (HTTP 400)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


def discovery() -> Json:
    services = []
    for hook in HOOKS:
        services.append(
            {
                "hook": hook,
                "id": f"ivig-{hook}",
                "title": "IVIG infusion plan checks",
                "description": (
                    "Checks a draft IVIG order (dose, titration rates against the product label, "
                    "patient risk factors) the way the IVIG planner checks a plan; it never "
                    "changes a dose or a rate."
                ),
                "prefetch": dict(PREFETCH),
                "usageRequirements": (
                    "The IVIG MedicationRequest must code the product in "
                    f"{load().system('product')} (see docs/fhir.md)."
                ),
            }
        )
    return {"services": services}


def service_hook(service_id: str) -> str | None:
    for hook in HOOKS:
        if service_id == f"ivig-{hook}":
            return hook
    return None


def patient_id(request: Mapping[str, Any]) -> str | None:
    context = request.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("patientId"), str):
        return str(context["patientId"])
    return None


def missing_prefetch(request: Mapping[str, Any]) -> dict[str, str]:
    """Prefetch keys the request did not send -> the FHIR query to fetch each (relative URL)."""
    prefetch = request.get("prefetch")
    sent = prefetch if isinstance(prefetch, Mapping) else {}
    pid = patient_id(request) or ""
    return {
        key: template.replace("{{context.patientId}}", pid)
        for key, template in PREFETCH.items()
        if sent.get(key) is None
    }


def _check_request(request: object, hook: str) -> Mapping[str, Any]:
    problems = []
    if not isinstance(request, Mapping):
        raise CdsRequestError([Problem("request", request, "a JSON object", "not an object")])
    if request.get("hook") != hook:
        problems.append(
            Problem("hook", request.get("hook"), hook, "this service answers another hook")
        )
    if not isinstance(request.get("hookInstance"), str):
        problems.append(Problem("hookInstance", request.get("hookInstance"), "a UUID", "required"))
    context = request.get("context")
    if not isinstance(context, Mapping):
        problems.append(Problem("context", context, "an object", "required"))
    else:
        if patient_id(request) is None:
            problems.append(
                Problem(
                    "context.patientId",
                    context.get("patientId"),
                    "the FHIR id of the patient",
                    "required",
                )
            )
        draft = context.get("draftOrders")
        if not isinstance(draft, Mapping) or draft.get("resourceType") != "Bundle":
            problems.append(
                Problem("context.draftOrders", draft, "a FHIR Bundle of draft orders", "required")
            )
        if hook == "order-select" and not isinstance(context.get("selections"), list):
            problems.append(
                Problem(
                    "context.selections",
                    context.get("selections"),
                    'a list such as ["MedicationRequest/123"]',
                    "required",
                )
            )
    if problems:
        raise CdsRequestError(problems)
    return request


@dataclass(frozen=True)
class CheckedOrder:
    request_id: str
    document: Json | None
    plan: Plan | None
    problems: tuple[Problem, ...]
    unmapped: tuple[Problem, ...]


def _is_ivig(resource: Mapping[str, Any]) -> bool:
    t = load()
    text = repr(resource.get("medicationCodeableConcept")) + repr(resource.get("contained"))
    categories = repr(resource.get("category"))
    return t.system("product") in text or (t.system("role") in categories and "ivig" in categories)


def check_orders(
    request: object, *, hook: str, today: date, tz: tzinfo | None
) -> list[CheckedOrder]:
    """Every draft IVIG order of the request, checked (or the problems that stopped it)."""
    req = _check_request(request, hook)
    context = req["context"]
    orders = [
        r for r in flatten(context["draftOrders"]) if r.get("resourceType") == "MedicationRequest"
    ]
    if hook == "order-select":
        selected = {str(s).rsplit("/", 1)[-1] for s in context["selections"]}
        orders = [o for o in orders if o.get("id") in selected]
    ivig = [o for o in orders if _is_ivig(o)]
    prefetch = req.get("prefetch") if isinstance(req.get("prefetch"), Mapping) else {}
    assert isinstance(prefetch, Mapping)
    patient_resources: list[Json] = []
    for key in PREFETCH:
        value = prefetch.get(key)
        if value is not None:
            patient_resources.extend(
                r for r in flatten(value) if r.get("resourceType") != "OperationOutcome"
            )
    # The premedication and saline requests of the same order travel with it.
    extras = [o for o in orders if o not in ivig and _role_of(o) in ("premedication", "saline")]
    out = []
    for order in ivig:
        unmapped: list[Problem] = []
        group = order.get("groupIdentifier")
        own_extras = [e for e in extras if group is not None and e.get("groupIdentifier") == group]
        try:
            document = import_order(
                [order, *own_extras, *patient_resources], tz=tz, unmapped_conditions=unmapped
            )
        except FhirImportError as exc:
            out.append(
                CheckedOrder(str(order.get("id")), None, None, exc.problems, tuple(unmapped))
            )
            continue
        try:
            plan = build_plan(document, today=today)
        except OrderError as exc:
            out.append(
                CheckedOrder(str(order.get("id")), document, None, exc.problems, tuple(unmapped))
            )
            continue
        out.append(CheckedOrder(str(order.get("id")), document, plan, (), tuple(unmapped)))
    return out


def _role_of(resource: Mapping[str, Any]) -> str | None:
    t = load()
    for concept in resource.get("category") or []:
        for coding in concept.get("coding") or []:
            if coding.get("system") == t.system("role"):
                return str(coding.get("code"))
    return None


def summary(text: str) -> str:
    return text if len(text) < SUMMARY_MAX else text[: SUMMARY_MAX - 2].rstrip() + "…"


def _source(app_url: str) -> Json:
    return {"label": SOURCE_LABEL, "url": app_url}


def _statement(plan: Plan | None) -> str:
    prescriber = plan.document.order.prescriber if plan is not None else None
    return STATEMENT_EN.format(prescriber=prescriber or UNNAMED_PRESCRIBER_EN)


def _finding_card(finding: Finding, plan: Plan, link: Json | None, app_url: str) -> Json:
    where = []
    if finding.day:
        where.append(f"day {finding.day}")
    if finding.step:
        where.append(f"step {finding.step}")
    detail = finding.message
    if where:
        detail += f" ({', '.join(where)})"
    detail += f"\n\n**Source:** {finding.source}\n\n_{_statement(plan)}_"
    card: Json = {
        "summary": summary(f"IVIG: {finding.title}"),
        "indicator": INDICATORS[finding.severity],
        "detail": detail,
        "source": _source(app_url),
    }
    if link is not None:
        card["links"] = [link]
    return card


def cards_for(
    checked: Sequence[CheckedOrder],
    *,
    app_url: str,
    plan_link: Callable[[Json], str] | None = None,
    missing: Sequence[str] = (),
) -> Json:
    """CDS Hooks response: ``{"cards": [...]}``."""
    cards: list[Json] = []
    for order in checked:
        link = None
        if order.document is not None and plan_link is not None:
            link = {
                "label": "Open the checked plan in the IVIG planner",
                "url": plan_link(order.document),
                "type": "absolute",
            }
        if order.plan is None:
            lines = "\n".join(f"- {p.message}" for p in order.problems)
            absent = [k for k in missing if k in REQUIRED_PREFETCH]
            note = (
                "\n\nNot sent by the EHR (prefetch) and not fetched: " + ", ".join(absent)
                if absent
                else ""
            )
            card: Json = {
                "summary": summary(
                    f"IVIG order {order.request_id} could not be checked: "
                    f"{len(order.problems)} problem(s)"
                ),
                "indicator": "warning",
                "detail": "The order was not checked, so nothing below is known to be safe."
                f"\n\n{lines}{note}\n\n**Source:** {SOURCE_LABEL}, order reading rules "
                "(docs/fhir.md)",
                "source": _source(app_url),
            }
            if link is not None:
                card["links"] = [link]
            cards.append(card)
            continue
        plan = order.plan
        infos = [f for f in plan.findings if f.severity == "info"]
        errors = sum(1 for f in plan.findings if f.severity == "error")
        warnings = sum(1 for f in plan.findings if f.severity == "warning")
        steps = "\n".join(
            f"- Step {s.number}: {s.prescribed} = {s.pump_rate_ml_h} mL/h on the pump"
            + (f" for {s.minutes} min" if s.minutes is not None else " until the volume is in")
            for s in plan.steps
        )
        info_lines = "\n".join(f"- {f.message} (source: {f.source})" for f in infos)
        detail = (
            f"{plan.product.brand}, {plan.course.prescribed_g} g over "
            f"{len(plan.days)} day(s); dosing weight {plan.dosing.weight_kg} kg.\n\n{steps}"
        )
        if info_lines:
            detail += f"\n\n**Notes:**\n{info_lines}"
        detail += f"\n\n_{_statement(plan)}_"
        cards.append(
            {
                "summary": summary(
                    f"IVIG plan checked: {errors} error(s), {warnings} warning(s), "
                    f"{len(infos)} note(s)"
                ),
                "indicator": "info",
                "detail": detail,
                "source": _source(app_url),
                **({"links": [link]} if link is not None else {}),
            }
        )
        for finding in plan.findings:
            if finding.severity in ("error", "warning"):
                cards.append(_finding_card(finding, plan, link, app_url))
        if order.unmapped:
            cards.append(
                {
                    "summary": summary(
                        f"IVIG: {len(order.unmapped)} condition(s) could not be read; "
                        "their checks did not run"
                    ),
                    "indicator": "warning",
                    "detail": "\n".join(f"- {p.message}" for p in order.unmapped),
                    "source": _source(app_url),
                }
            )
    return {"cards": cards}
