"""Plans and records -> FHIR R4 resources (validated against the fhir.resources R4B models).

Every resource is built as plain JSON and then validated by its R4B model, so nothing leaves
this module that the models reject. Values are the ones prescribed or recorded, in the unit they
were written in (mapped to UCUM); the only derived numbers are the pump rates in mL/h, which come
from the plan (ivig.core.titration), never from this adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from ivig.core.order import OrderDocument, Premedication, Problem, Step, TitrationRule
from ivig.core.plan_model import Plan
from ivig.core.units import Quantity
from ivig.interop.tables import Tables, load

Json = dict[str, Any]


class ExportError(ValueError):
    """Something cannot be expressed in FHIR (e.g. a unit with no UCUM code)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


# --- Records handed in by the adapters (the web app or a test) ---------------------------------


@dataclass(frozen=True)
class ObservationRecord:
    """A measurement: weight, height, temperature, heart rate, ... (kinds in data/fhir.toml).

    ``value`` is the number as recorded and ``ucum`` its unit; blood pressure has ``value`` for
    systolic and ``value2`` for diastolic. ``text`` is for a coded value such as a blood group.
    """

    id: str
    kind: str
    at: datetime | None
    value: Decimal | None = None
    ucum: str | None = None
    value2: Decimal | None = None
    text: str | None = None


@dataclass(frozen=True)
class VialRecord:
    product_id: str
    lot_number: str
    expiry: date


@dataclass(frozen=True)
class RateChangeRecord:
    id: str
    at: datetime
    pump_rate_ml_h: Decimal


@dataclass(frozen=True)
class InfusionRecord:
    """One day's infusion as it happened: start, end, the pump rates set, the vials used."""

    id: str
    day: int
    product_id: str
    started_at: datetime
    ended_at: datetime | None
    rate_changes: tuple[RateChangeRecord, ...] = ()
    vials: tuple[VialRecord, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True)
class ReactionRecord:
    """A reaction recorded during or after an infusion (symptoms in words, as recorded)."""

    id: str
    at: datetime
    description: str
    infusion_id: str | None = None
    serious: bool | None = None


@dataclass(frozen=True)
class PatientRecord:
    id: str
    name: str | None = None
    sex: str | None = None
    birth_date: date | None = None
    conditions: frozenset[str] = field(default_factory=frozenset)


# --- Helpers --------------------------------------------------------------------------------------


def validated(resource: Json) -> Json:
    """Validate a resource against its R4B model; return its JSON form (what is exported)."""
    model = get_fhir_model_class(resource["resourceType"])
    parsed = model.model_validate(resource)
    out: Json = parsed.model_dump(mode="json", exclude_none=True)
    return out


def _decimal(value: Decimal) -> Decimal:
    # Keep the digits as written ("0.50" stays 0.50): FHIR decimals carry their precision.
    return value


def quantity_json(q: Quantity, field_name: str, tables: Tables | None = None) -> Json:
    t = tables or load()
    code = t.ucum_for_unit(q.unit)
    if code is None:
        raise ExportError(
            [
                Problem(
                    field_name,
                    q.text,
                    "a unit with a UCUM code: " + ", ".join(sorted(t.ucum_to_order_unit)),
                    "this unit has no UCUM mapping in data/fhir.toml",
                )
            ]
        )
    return {"value": _decimal(q.magnitude), "unit": code, "system": t.system("ucum"), "code": code}


def ucum_quantity(value: Decimal, code: str, tables: Tables | None = None) -> Json:
    t = tables or load()
    return {"value": value, "unit": code, "system": t.system("ucum"), "code": code}


def _fhir_datetime(value: datetime, tz: tzinfo | None, field_name: str) -> str:
    if value.tzinfo is None:
        if tz is None:
            raise ExportError(
                [
                    Problem(
                        field_name,
                        value.isoformat(),
                        "a time zone for local times (e.g. --timezone Europe/Madrid)",
                        "FHIR needs a time zone on a date and time; none was given",
                    )
                ]
            )
        value = value.replace(tzinfo=tz)
    return value.isoformat()


def _coding(system: str, code: str, display: str | None = None) -> Json:
    out: Json = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _ref(resource_type: str, resource_id: str) -> Json:
    return {"reference": f"{resource_type}/{resource_id}"}


# --- The order ---------------------------------------------------------------------------------


def order_resources(
    plan: Plan,
    *,
    request_id: str,
    patient_id: str,
    tz: tzinfo | None,
    status: str = "draft",
    weight_observation_id: str | None = None,
    height_observation_id: str | None = None,
    other_observation_ids: Sequence[str] = (),
) -> list[Json]:
    """The IVIG MedicationRequest (with its contained Medication) and the premedication and
    saline MedicationRequests of the same order (one ``groupIdentifier``)."""
    t = load()
    doc = plan.document
    order = doc.order
    product = plan.product
    problems: list[Problem] = []

    def q(value: Quantity, name: str) -> Json:
        try:
            return quantity_json(value, name, t)
        except ExportError as exc:
            problems.extend(exc.problems)
            return {}

    medication: Json = {
        "resourceType": "Medication",
        "id": "product",
        "code": {
            "coding": [_coding(t.system("product"), product.id, product.brand)],
            "text": product.brand,
        },
    }
    if order.concentration is not None:
        strength = q(order.concentration, "order.concentration")
        # mg/mL as a Ratio: numerator mg, denominator 1 mL
        num_code, _, den_code = str(strength.get("code", "mg/mL")).partition("/")
        medication["ingredient"] = [
            {
                "itemCodeableConcept": {"text": "immune globulin (human)"},
                "strength": {
                    "numerator": ucum_quantity(order.concentration.magnitude, num_code, t),
                    "denominator": ucum_quantity(Decimal(1), den_code or "mL", t),
                },
            }
        ]
    extensions: list[Json] = [
        {"url": t.extension("dose_basis"), "valueCode": order.dose_basis.value},
        {"url": t.extension("dosing_weight"), "valueCode": order.dosing_weight},
        {"url": t.extension("vial_rounding"), "valueCode": order.vial_rounding},
    ]
    if doc.patient.first_infusion is not None:
        extensions.append(
            {"url": t.extension("first_infusion"), "valueBoolean": doc.patient.first_infusion}
        )
    if doc.patient.previous_product is not None:
        extensions.append(
            {
                "url": t.extension("previous_product"),
                "valueCoding": _coding(t.system("product"), doc.patient.previous_product),
            }
        )
    if order.setting is not None:
        extensions.append({"url": t.extension("setting"), "valueCode": order.setting})
    if isinstance(order.titration, TitrationRule):
        extensions.append(_rule_extension(order.titration, q, t))

    timing_repeat: Json = {"count": order.days, "frequency": 1, "period": 1, "periodUnit": "d"}
    if order.start is not None:
        try:
            timing_repeat["boundsPeriod"] = {
                "start": _fhir_datetime(order.start, tz, "order.start")
            }
        except ExportError as exc:
            problems.extend(exc.problems)
    dose_rate: Json = {
        "type": {"coding": [_coding(t.system("dose_rate_type"), "ordered", "Ordered")]},
        "doseQuantity": q(order.dose, "order.dose"),
    }
    dosages: list[Json] = []
    steps = order.titration if not isinstance(order.titration, TitrationRule) else ()
    resolved = plan.steps
    for index, resolved_step in enumerate(resolved):
        dosage: Json = {"sequence": index + 1, "route": {"text": "intravenous"}}
        rates: list[Json] = []
        if index == 0:
            rates.append(dose_rate)
        step: Step | None = steps[index] if index < len(steps) else None
        if step is not None:
            ordered = {
                "type": {"coding": [_coding(t.system("dose_rate_type"), "ordered", "Ordered")]},
                "rateQuantity": q(step.rate, f"order.titration[{index}].rate"),
            }
            if index == 0:
                rates[0] = {**dose_rate, "rateQuantity": ordered["rateQuantity"]}
            else:
                rates.append(ordered)
        rates.append(
            {
                "type": {
                    "coding": [_coding(t.system("dose_rate_type"), "calculated", "Calculated")]
                },
                "rateQuantity": ucum_quantity(resolved_step.pump_rate_ml_h, "mL/h", t),
            }
        )
        dosage["doseAndRate"] = rates
        repeat: Json = dict(timing_repeat) if index == 0 else {}
        if resolved_step.minutes is not None:
            repeat["duration"] = Decimal(resolved_step.minutes)
            repeat["durationUnit"] = "min"
        if repeat:
            dosage["timing"] = {"repeat": repeat}
        dosage["text"] = _step_text(
            index + 1, resolved_step.prescribed, resolved_step.minutes, resolved_step.pump_rate_ml_h
        )
        if step is not None and step.reason:
            dosage["extension"] = [{"url": t.extension("step_reason"), "valueString": step.reason}]
        dosages.append(dosage)
    if not dosages:  # pragma: no cover - a valid plan always has at least one step
        dosages.append(
            {"sequence": 1, "doseAndRate": [dose_rate], "timing": {"repeat": timing_repeat}}
        )

    group = {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{request_id}"}
    request: Json = {
        "resourceType": "MedicationRequest",
        "id": request_id,
        "contained": [medication],
        "extension": extensions,
        "status": status,
        "intent": "order",
        "category": [{"coding": [_coding(t.system("role"), "ivig", "IVIG infusion")]}],
        "medicationReference": {"reference": "#product", "display": product.brand},
        "subject": _ref("Patient", patient_id),
        "groupIdentifier": group,
        "dosageInstruction": dosages,
    }
    if order.indication:
        name = plan.indication.name_en if plan.indication is not None else order.indication
        request["reasonCode"] = [
            {"coding": [_coding(t.system("indication"), order.indication, name)], "text": name}
        ]
    if order.prescriber:
        request["requester"] = {"display": order.prescriber}
    if order.notes:
        request["note"] = [{"text": order.notes}]
    supporting = []
    if weight_observation_id:
        supporting.append(_ref("Observation", weight_observation_id))
    if height_observation_id:
        supporting.append(_ref("Observation", height_observation_id))
    supporting.extend(_ref("Observation", i) for i in other_observation_ids)
    if supporting:
        request["supportingInformation"] = supporting

    out = [request]
    for i, premed in enumerate(order.premedication):
        out.append(_premed_request(premed, i, request_id, patient_id, group, status, q, t))
    if order.saline is not None:
        saline: Json = {
            "resourceType": "MedicationRequest",
            "id": f"{request_id}-saline",
            "status": status,
            "intent": "order",
            "category": [{"coding": [_coding(t.system("role"), "saline", "Saline")]}],
            "medicationCodeableConcept": {"text": "saline"},
            "subject": _ref("Patient", patient_id),
            "groupIdentifier": group,
            "dosageInstruction": [
                {
                    "sequence": 1,
                    "doseAndRate": [{"doseQuantity": q(order.saline.amount, "order.saline")}],
                    **({"text": order.saline.timing} if order.saline.timing else {}),
                }
            ],
        }
        out.append(saline)
    if problems:
        raise ExportError(problems)
    return [validated(r) for r in out]


def _step_text(number: int, prescribed: str, minutes: int | None, pump_ml_h: Decimal) -> str:
    length = f"for {minutes} min" if minutes is not None else "until the volume is in"
    return f"Step {number}: {prescribed} ({pump_ml_h} mL/h on the pump) {length}"


def _rule_extension(rule: TitrationRule, q: Any, t: Tables) -> Json:
    subs: list[Json] = [
        {"url": "start", "valueQuantity": q(rule.start, "order.titration.start")},
        {"url": "increase_by", "valueQuantity": q(rule.increase_by, "order.titration.increase_by")},
        {"url": "every_minutes", "valueInteger": rule.every_minutes},
        {"url": "max", "valueQuantity": q(rule.max, "order.titration.max")},
    ]
    if rule.first_step_minutes is not None:
        subs.append({"url": "first_step_minutes", "valueInteger": rule.first_step_minutes})
    return {"url": t.extension("titration_rule"), "extension": subs}


def _premed_request(
    premed: Premedication,
    index: int,
    request_id: str,
    patient_id: str,
    group: Json,
    status: str,
    q: Any,
    t: Tables,
) -> Json:
    dosage: Json = {"sequence": 1}
    if premed.dose is not None:
        dosage["doseAndRate"] = [
            {"doseQuantity": q(premed.dose, f"order.premedication[{index}].dose")}
        ]
    if premed.repeat_every is not None:
        every = q(premed.repeat_every, f"order.premedication[{index}].repeat_every")
        if every:
            dosage["timing"] = {
                "repeat": {"frequency": 1, "period": every["value"], "periodUnit": every["code"]}
            }
    out: Json = {
        "resourceType": "MedicationRequest",
        "id": f"{request_id}-premed-{index + 1}",
        "status": status,
        "intent": "order",
        "category": [{"coding": [_coding(t.system("role"), "premedication", "Premedication")]}],
        "medicationCodeableConcept": {"text": premed.name},
        "subject": _ref("Patient", patient_id),
        "groupIdentifier": group,
        "dosageInstruction": [dosage],
    }
    extensions: list[Json] = []
    if premed.minutes_before is not None:
        extensions.append(
            {"url": t.extension("minutes_before"), "valueInteger": premed.minutes_before}
        )
    if premed.repeat_before_step is not None:
        extensions.append(
            {"url": t.extension("repeat_before_step"), "valueInteger": premed.repeat_before_step}
        )
    if extensions:
        out["extension"] = extensions
    if premed.note:
        out["note"] = [{"text": premed.note}]
    return out


# --- Patient and records ------------------------------------------------------------------------


def patient_resource(record: PatientRecord) -> Json:
    out: Json = {"resourceType": "Patient", "id": record.id}
    if record.name:
        out["name"] = [{"text": record.name}]
    if record.sex:
        out["gender"] = record.sex
    if record.birth_date:
        out["birthDate"] = record.birth_date.isoformat()
    return validated(out)


def condition_resources(patient_id: str, conditions: Iterable[str]) -> list[Json]:
    from ivig.core.vocabulary import CONDITIONS

    t = load()
    out = []
    for code in sorted(conditions):
        english = CONDITIONS[code][0] if code in CONDITIONS else code
        out.append(
            validated(
                {
                    "resourceType": "Condition",
                    "id": f"{patient_id}-{code.replace('_', '-')}",
                    "clinicalStatus": {
                        "coding": [
                            _coding(
                                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                "active",
                            )
                        ]
                    },
                    "code": {"coding": [_coding(t.system("condition"), code, english)]},
                    "subject": _ref("Patient", patient_id),
                }
            )
        )
    return out


def observation_resource(record: ObservationRecord, patient_id: str) -> Json:
    t = load()
    spec = t.observations.get(record.kind)
    if spec is None:
        raise ExportError(
            [
                Problem(
                    "observation.kind",
                    record.kind,
                    "one of " + ", ".join(sorted(t.observations)),
                    "no LOINC mapping",
                )
            ]
        )
    out: Json = {
        "resourceType": "Observation",
        "id": record.id,
        "status": "final",
        "code": {
            "coding": [_coding(t.system("loinc"), spec.loinc, spec.display)],
            "text": spec.display,
        },
        "subject": _ref("Patient", patient_id),
    }
    if record.at is not None:
        out["effectiveDateTime"] = _fhir_datetime(record.at, None, "observation.at")
    if record.kind != "age" and record.kind != "blood_group":
        out["category"] = [
            {"coding": [_coding(t.system("observation_category"), "vital-signs", "Vital Signs")]}
        ]
    if record.kind == "blood_pressure":
        out["component"] = [
            {
                "code": {"coding": [_coding(t.system("loinc"), str(code), display)]},
                "valueQuantity": ucum_quantity(value, "mm[Hg]", t),
            }
            for code, display, value in (
                (
                    t.extra["observations"]["blood_pressure"]["systolic_loinc"],
                    "Systolic blood pressure",
                    record.value,
                ),
                (
                    t.extra["observations"]["blood_pressure"]["diastolic_loinc"],
                    "Diastolic blood pressure",
                    record.value2,
                ),
            )
            if value is not None
        ]
    elif record.text is not None:
        out["valueString"] = record.text
    elif record.value is not None and record.ucum is not None:
        if record.ucum not in spec.units:
            raise ExportError(
                [
                    Problem(
                        f"observation.{record.kind}.unit",
                        record.ucum,
                        "one of " + ", ".join(spec.units),
                        "not a unit this LOINC code is recorded in",
                    )
                ]
            )
        out["valueQuantity"] = ucum_quantity(record.value, record.ucum, t)
    return validated(out)


def document_observations(
    doc: OrderDocument, patient_id: str, *, at: datetime | None, prefix: str
) -> list[Json]:
    """Weight, height, age and blood group of an order document as Observations taken ``at``."""
    t = load()
    out = []
    p = doc.patient
    for kind, quantity in (("weight", p.weight), ("height", p.height), ("age", p.age)):
        if quantity is None:
            continue
        value = quantity_json(quantity, f"patient.{kind}", t)
        out.append(
            observation_resource(
                ObservationRecord(
                    id=f"{prefix}-{kind}",
                    kind=kind,
                    at=at,
                    value=value["value"],
                    ucum=value["code"],
                ),
                patient_id,
            )
        )
    if p.blood_group:
        out.append(
            observation_resource(
                ObservationRecord(
                    id=f"{prefix}-blood-group", kind="blood_group", at=at, text=p.blood_group
                ),
                patient_id,
            )
        )
    return out


def vial_medication(vial: VialRecord, resource_id: str, brand: str | None = None) -> Json:
    t = load()
    return validated(
        {
            "resourceType": "Medication",
            "id": resource_id,
            "code": {"coding": [_coding(t.system("product"), vial.product_id, brand)]},
            "batch": {
                "lotNumber": vial.lot_number,
                "expirationDate": datetime(vial.expiry.year, vial.expiry.month, vial.expiry.day)
                .date()
                .isoformat(),
            },
        }
    )


def administration_resources(
    infusion: InfusionRecord, patient_id: str, brands: Mapping[str, str] | None = None
) -> list[Json]:
    """One MedicationAdministration for the infusion, one per rate change (partOf the first),
    and a Medication with batch lot and expiry per vial."""
    t = load()
    brands = brands or {}
    out: list[Json] = []
    medications = []
    for i, vial in enumerate(infusion.vials):
        med_id = f"{infusion.id}-vial-{i + 1}"
        medications.append(med_id)
        out.append(vial_medication(vial, med_id, brands.get(vial.product_id)))
    product_concept: Json = {
        "coding": [
            _coding(t.system("product"), infusion.product_id, brands.get(infusion.product_id))
        ]
    }
    main_id = f"{infusion.id}"
    period: Json = {"start": _fhir_datetime(infusion.started_at, None, "infusion.started_at")}
    if infusion.ended_at is not None:
        period["end"] = _fhir_datetime(infusion.ended_at, None, "infusion.ended_at")
    main: Json = {
        "resourceType": "MedicationAdministration",
        "id": main_id,
        "status": "completed" if infusion.ended_at is not None else "in-progress",
        "subject": _ref("Patient", patient_id),
        "effectivePeriod": period,
        "category": {
            "coding": [_coding(t.system("role"), "ivig", "IVIG infusion")],
            "text": f"day {infusion.day}",
        },
    }
    if len(medications) == 1:
        main["medicationReference"] = {"reference": f"Medication/{medications[0]}"}
    else:
        main["medicationCodeableConcept"] = product_concept
        if medications:
            main["supportingInformation"] = [_ref("Medication", m) for m in medications]
    if infusion.request_id:
        main["request"] = _ref("MedicationRequest", infusion.request_id)
    out.append(validated(main))
    for change in infusion.rate_changes:
        out.append(
            validated(
                {
                    "resourceType": "MedicationAdministration",
                    "id": change.id,
                    "status": "completed",
                    "partOf": [_ref("MedicationAdministration", main_id)],
                    "medicationCodeableConcept": product_concept,
                    "subject": _ref("Patient", patient_id),
                    "effectiveDateTime": _fhir_datetime(change.at, None, "rate_change.at"),
                    "dosage": {
                        "route": {"text": "intravenous"},
                        "rateQuantity": ucum_quantity(change.pump_rate_ml_h, "mL/h", t),
                    },
                }
            )
        )
    return out


def adverse_event_resource(reaction: ReactionRecord, patient_id: str) -> Json:
    t = load()
    out: Json = {
        "resourceType": "AdverseEvent",
        "id": reaction.id,
        "actuality": "actual",
        "subject": _ref("Patient", patient_id),
        "date": _fhir_datetime(reaction.at, None, "reaction.at"),
        "event": {
            "coding": [_coding(t.system("reaction"), "infusion-reaction", "Infusion reaction")],
            "text": reaction.description,
        },
    }
    if reaction.infusion_id:
        out["suspectEntity"] = [
            {"instance": _ref("MedicationAdministration", reaction.infusion_id)}
        ]
    if reaction.serious is not None:
        code = "serious" if reaction.serious else "non-serious"
        out["seriousness"] = {
            "coding": [
                _coding("http://terminology.hl7.org/CodeSystem/adverse-event-seriousness", code)
            ]
        }
    return validated(out)


DEFAULT_BASE = "https://ivig-planner.invalid/fhir"


def bundle(
    resources: Iterable[Json], *, bundle_id: str | None = None, base_url: str = DEFAULT_BASE
) -> Json:
    """A collection Bundle; fullUrl is base/Type/id so the relative references resolve."""
    base = base_url.rstrip("/")
    entries = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
    ]
    out: Json = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    if bundle_id:
        out["id"] = bundle_id
    return validated(out)


def plan_bundle(
    plan: Plan,
    *,
    patient_id: str,
    request_id: str,
    tz: tzinfo | None,
    measured_at: datetime | None,
    status: str = "draft",
    base_url: str = DEFAULT_BASE,
) -> Json:
    """One order document as a Bundle: Patient, its measurements and conditions, the order.

    ``measured_at`` (timezone-aware) is when the weight and height were taken (left out when
    unknown: a plan file does not say); the order names
    its weight and height Observations in ``supportingInformation`` so an importer knows which
    measurement the order was written for.
    """
    doc = plan.document
    p = doc.patient
    patient = patient_resource(
        PatientRecord(id=patient_id, name=p.name, sex=p.sex, birth_date=p.birth_date)
    )
    prefix = f"{request_id}-obs"
    observations = document_observations(doc, patient_id, at=measured_at, prefix=prefix)
    requests = order_resources(
        plan,
        request_id=request_id,
        patient_id=patient_id,
        tz=tz,
        status=status,
        weight_observation_id=f"{prefix}-weight",
        height_observation_id=f"{prefix}-height" if p.height is not None else None,
        other_observation_ids=[
            o["id"] for o in observations if o["id"].endswith(("-age", "-blood-group"))
        ],
    )
    conditions = condition_resources(patient_id, p.conditions)
    return bundle([patient, *observations, *conditions, *requests], base_url=base_url)
