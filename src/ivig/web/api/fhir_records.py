"""A patient's records -> the plain records ivig.interop.fhir_export maps to FHIR.

Reads the database (patient, measurements, plan versions, infusions and their append-only log)
and hands typed records to the pure mapping; corrected (withdrawn) log entries are left out.
"""

from __future__ import annotations

import re
from datetime import date, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from ivig.core import units
from ivig.core.order import OrderError
from ivig.core.plan import build_plan
from ivig.interop import fhir_export as fx
from ivig.interop.tables import load as load_tables
from ivig.web.infusions.models import EventKind, Infusion
from ivig.web.patients.models import Patient

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")
_BP = re.compile(r"^\s*(\d+)\s*/\s*(\d+)")
_TEMPERATURE_UCUM = {"degree_Celsius": "Cel", "degree_Fahrenheit": "[degF]"}


def _number(text: str) -> Decimal | None:
    match = _NUMBER.match(text or "")
    if match is None:
        return None
    try:
        return Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        return None


def _vitals(event_id: int, at: Any, data: dict[str, Any]) -> list[fx.ObservationRecord]:
    out = []
    prefix = f"vitals-{event_id}"
    temperature = str(data.get("temperature") or "").split(" (=")[0].strip()
    if temperature:
        try:
            q = units.parse(temperature, "temperature", units.Kind.TEMPERATURE)
            code = _TEMPERATURE_UCUM.get(q.unit)
            if code:
                out.append(
                    fx.ObservationRecord(
                        f"{prefix}-temperature", "temperature", at, value=q.magnitude, ucum=code
                    )
                )
        except units.QuantityError:
            pass  # not exportable as a quantity; the log keeps the text
    for key, kind, code in (
        ("heart_rate", "heart_rate", "/min"),
        ("breathing_rate", "respiratory_rate", "/min"),
        ("spo2", "oxygen_saturation", "%"),
    ):
        value = _number(str(data.get(key) or ""))
        if value is not None:
            out.append(
                fx.ObservationRecord(
                    f"{prefix}-{kind.replace('_', '-')}", kind, at, value=value, ucum=code
                )
            )
    bp = _BP.match(str(data.get("blood_pressure") or ""))
    if bp:
        out.append(
            fx.ObservationRecord(
                f"{prefix}-bp",
                "blood_pressure",
                at,
                value=Decimal(bp.group(1)),
                value2=Decimal(bp.group(2)),
            )
        )
    return out


def _infusion(infusion: Infusion) -> tuple[fx.InfusionRecord, list[Any], list[fx.ReactionRecord]]:
    product_id = str((infusion.snapshot.get("product") or {}).get("id") or "unknown")
    rate_changes = []
    vials = []
    vitals: list[Any] = []
    reactions = []
    for event in infusion.current_events():
        if event.kind == EventKind.RATE_CHANGE:
            rate = _number(str(event.data.get("pump_rate_ml_h") or ""))
            if rate is not None:
                rate_changes.append(fx.RateChangeRecord(f"rate-{event.pk}", event.at, rate))
        elif event.kind == EventKind.VIAL:
            try:
                expiry = date.fromisoformat(str(event.data.get("expiry")))
            except ValueError:
                continue
            vials.append(fx.VialRecord(product_id, str(event.data.get("lot_number") or ""), expiry))
        elif event.kind == EventKind.VITALS:
            vitals.extend(_vitals(event.pk, event.at, event.data))
        elif event.kind == EventKind.SYMPTOM:
            words = event.data.get("symptom_words") or event.data.get("symptoms") or []
            text = ", ".join(str(w) for w in words) or "symptoms recorded"
            if event.data.get("temperature"):
                text += f"; temperature {event.data['temperature']}"
            reactions.append(
                fx.ReactionRecord(
                    f"reaction-{event.pk}", event.at, text, infusion_id=f"infusion-{infusion.pk}"
                )
            )
    record = fx.InfusionRecord(
        id=f"infusion-{infusion.pk}",
        day=infusion.day,
        product_id=product_id,
        started_at=infusion.started_at,
        ended_at=infusion.ended_at,
        rate_changes=tuple(rate_changes),
        vials=tuple(vials),
        request_id=f"plan-{infusion.approval.plan_version_id}",
    )
    return record, vitals, reactions


def patient_bundle(patient: Patient, *, base_url: str, tz: tzinfo) -> dict[str, Any]:
    pid = f"patient-{patient.pk}"
    resources: list[dict[str, Any]] = [
        fx.patient_resource(
            fx.PatientRecord(
                id=pid,
                name=patient.name,
                sex=patient.sex if patient.sex in ("male", "female", "other", "unknown") else None,
                birth_date=patient.birth_date,
            )
        )
    ]
    for m in patient.measurements.filter(archived_at__isnull=True):
        unit_kind = units.Kind.MASS if m.kind == "weight" else units.Kind.LENGTH
        q = units.parse(m.text, m.kind, unit_kind)
        code = load_tables().ucum_for_unit(q.unit)
        if code is None:
            continue
        resources.append(
            fx.observation_resource(
                fx.ObservationRecord(
                    f"measurement-{m.pk}", m.kind, m.taken_at, value=q.magnitude, ucum=code
                ),
                pid,
            )
        )
    if patient.blood_group and patient.blood_group != "unknown":
        resources.append(
            fx.observation_resource(
                fx.ObservationRecord(
                    f"{pid}-blood-group", "blood_group", None, text=patient.blood_group
                ),
                pid,
            )
        )
    resources.extend(fx.condition_resources(pid, patient.conditions or []))
    today = timezone.localdate()
    for version in patient.plan_versions.all():
        try:
            plan = build_plan(version.order_document, today=today)
        except OrderError:
            continue  # a version that cannot be computed has no plan to export
        request_id = f"plan-{version.pk}"
        status = (
            "stopped"
            if version.archived_at is not None
            else "active"
            if version.is_approved
            else "draft"
        )
        observations = fx.document_observations(
            plan.document, pid, at=None, prefix=f"{request_id}-obs"
        )
        resources.extend(observations)
        ids = {o["id"] for o in observations}
        resources.extend(
            fx.order_resources(
                plan,
                request_id=request_id,
                patient_id=pid,
                tz=tz,
                status=status,
                weight_observation_id=f"{request_id}-obs-weight",
                height_observation_id=(
                    f"{request_id}-obs-height" if f"{request_id}-obs-height" in ids else None
                ),
                other_observation_ids=sorted(
                    i for i in ids if i.endswith(("-obs-age", "-obs-blood-group"))
                ),
            )
        )
    brands = {}
    for infusion in patient.infusions.select_related("approval").order_by("started_at", "pk"):
        record, vitals, reactions = _infusion(infusion)
        brands[record.product_id] = str(
            (infusion.snapshot.get("product") or {}).get("brand") or record.product_id
        )
        resources.extend(fx.administration_resources(record, pid, brands))
        resources.extend(fx.observation_resource(v, pid) for v in vitals)
        resources.extend(fx.adverse_event_resource(r, pid) for r in reactions)
    return fx.bundle(resources, bundle_id=pid, base_url=base_url)
