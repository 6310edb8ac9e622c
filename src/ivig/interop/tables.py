"""The FHIR mapping tables (data/fhir.toml): code systems, LOINC codes, UCUM units, extensions."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ivig.core import units


@dataclass(frozen=True)
class ObservationCode:
    kind: str
    loinc: str
    display: str
    units: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Tables:
    systems: dict[str, str]
    extensions: dict[str, str]
    observations: dict[str, ObservationCode]
    ucum_to_order_unit: dict[str, str]
    value_sets: dict[str, tuple[str, ...]]
    extra: dict[str, Any]

    def system(self, name: str) -> str:
        return self.systems[name]

    def extension(self, name: str) -> str:
        return self.extensions[name]

    def observation_by_loinc(self, code: str) -> ObservationCode | None:
        for obs in self.observations.values():
            if obs.loinc == code:
                return obs
        return None

    def ucum_for_unit(self, pint_unit: str) -> str | None:
        """The UCUM code for a unit as pint understands it (e.g. "milliliter / hour" -> "mL/h")."""
        for code, order_unit in self.ucum_to_order_unit.items():
            if units.canonical_unit(order_unit) == pint_unit:
                return code
        return None


@cache
def load() -> Tables:
    text = resources.files("ivig.data").joinpath("fhir.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    observations = {
        kind: ObservationCode(
            kind=kind,
            loinc=entry["loinc"],
            display=entry["display"],
            units=tuple(entry["units"]),
            source=entry["source"],
        )
        for kind, entry in raw["observations"].items()
    }
    return Tables(
        systems=dict(raw["systems"]),
        extensions=dict(raw["extensions"]),
        observations=observations,
        ucum_to_order_unit=dict(raw["ucum"]),
        value_sets={k: tuple(v) for k, v in raw["value_sets"].items()},
        extra={k: v for k, v in raw.items() if k not in ("systems", "extensions")},
    )
