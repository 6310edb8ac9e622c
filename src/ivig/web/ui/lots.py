"""Lot search for a recall: every infusion, in the user's care teams, that used a lot number.

Reads the vial entries of the append-only infusion log (an entry withdrawn by a correction is
left out) through ``ivig.web.access`` (archived patients included: a recall concerns them too).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from ivig.web import access, csv_safe
from ivig.web.infusions.models import EventKind, InfusionEvent


@dataclass
class LotUse:
    event: InfusionEvent
    patient_id: int
    patient_name: str
    team: str
    infusion_id: int
    day: int
    at: datetime
    brand: str
    lot_number: str
    expiry: str
    recorded_by: str


def normalise(lot: str) -> str:
    return " ".join((lot or "").split())


def uses(user: Any, lot: str) -> list[LotUse]:
    """Vial entries with this lot number (case and surrounding spaces ignored), newest first."""
    lot = normalise(lot)
    if not lot:
        return []
    patients = access.patients_for(user, include_archived=True)
    events = (
        InfusionEvent.objects.filter(
            kind=EventKind.VIAL,
            infusion__patient__in=patients,
            data__lot_number__iexact=lot,
            corrections__isnull=True,
        )
        .select_related("infusion", "infusion__patient", "infusion__patient__team", "recorded_by")
        .order_by("-at", "-pk")
    )
    out = []
    for event in events:
        infusion = event.infusion
        patient = infusion.patient
        out.append(
            LotUse(
                event=event,
                patient_id=patient.pk,
                patient_name=patient.name,
                team=patient.team.name,
                infusion_id=infusion.pk,
                day=infusion.day,
                at=event.at,
                brand=str(event.data.get("brand", "")),
                lot_number=str(event.data.get("lot_number", "")),
                expiry=str(event.data.get("expiry", "")),
                recorded_by=str(event.recorded_by),
            )
        )
    return out


CSV_COLUMNS = (
    "patient",
    "care_team",
    "infusion_id",
    "course_day",
    "vial_recorded_at",
    "brand",
    "lot_number",
    "expiry",
    "recorded_by",
)


def to_csv(rows: list[LotUse]) -> str:
    """The list as CSV (every text cell neutralised against formula injection)."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.patient_name,
                row.team,
                row.infusion_id,
                row.day,
                timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M"),
                row.brand,
                row.lot_number,
                row.expiry,
                row.recorded_by,
            ]
        )
    return out.getvalue()
