"""Small builders for order documents (fixtures are functions, not JSON blobs)."""

from __future__ import annotations

import copy
from typing import Any

SEED_STEPS = [
    {"rate": "0.5 mL/kg/h", "minutes": 30},
    {"rate": "1 mL/kg/h", "minutes": 30},
    {"rate": "1.5 mL/kg/h", "minutes": 30},
    {"rate": "2 mL/kg/h"},
]


def patient(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "weight": "44 lb",
        "height": "112 cm",
        "sex": "female",
        "birth_date": "2020-06-15",
        "blood_group": "O+",
        "first_infusion": True,
        "conditions": [],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def order(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "product": "privigen",
        "indication": "jdm",
        "dose": "2 g/kg",
        "days": 2,
        "dosing_weight": "actual",
        "vial_rounding": "none",
        "start": "2026-12-01T08:30",
        "titration": copy.deepcopy(SEED_STEPS),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def document(
    patient_overrides: dict[str, Any] | None = None, **order_overrides: Any
) -> dict[str, Any]:
    return {"patient": patient(**(patient_overrides or {})), "order": order(**order_overrides)}
