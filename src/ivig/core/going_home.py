"""The going-home sheet's symptom lists: the triage table's after-infusion symptoms by level,
for one patient, with the wording of ``family.toml [going_home]``.

Kept apart from :mod:`ivig.core.family` so that the plan checks (which read family facts) do
not depend on the triage package. Pure: reads only package data files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ivig.core import units
from ivig.core.family import Statement, _statement, family_data

if TYPE_CHECKING:
    from ivig.core.plan_model import Plan


@dataclass(frozen=True)
class SymptomLine:
    name: str
    level: str  # "emergency" | "call_doctor" | "expected"
    en: str
    es: str
    when_en: str
    when_es: str
    sources: tuple[str, ...]  # triage.toml source keys

    def text(self, language: str = "en") -> str:
        return self.es if language == "es" else self.en

    def when(self, language: str = "en") -> str:
        return self.when_es if language == "es" else self.when_en


def going_home_symptoms(plan: Plan | None) -> dict[str, tuple[SymptomLine, ...]]:
    """The triage table's after-infusion symptoms by level, for this patient (``plan`` None:
    everything that is not patient-specific is shown, and the patient-specific ones too)."""
    from ivig.core.triage import load_triage_data

    g = family_data()["going_home"]
    triage = load_triage_data()
    windows = _triage_windows()
    out: dict[str, list[SymptomLine]] = {"emergency": [], "call_doctor": [], "expected": []}
    for symptom in triage.symptoms.values():
        after = [w for w in symptom.windows if w != "during"]
        if not after or symptom.level not in out:
            continue
        if plan is not None and not _applies(plan, symptom.name, g):
            continue
        out[symptom.level].append(
            SymptomLine(
                symptom.name,
                symptom.level,
                symptom.en,
                symptom.es,
                "; ".join(windows[w]["en"] for w in after),
                "; ".join(windows[w]["es"] for w in after),
                tuple(symptom.sources),
            )
        )
    return {level: tuple(lines) for level, lines in out.items()}


@cache
def _triage_windows() -> Mapping[str, Any]:
    from ivig.core.triage import DATA_FILE as TRIAGE_FILE

    text = resources.files("ivig.data").joinpath(TRIAGE_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)["windows"]  # type: ignore[no-any-return]


def _applies(plan: Plan, name: str, g: Mapping[str, Any]) -> bool:
    indications = g["only_for_indication"].get(name)
    if indications is not None and plan.document.order.indication not in indications:
        return False
    content = g["only_for_product_content"].get(name)
    if content is not None and getattr(plan.product, content).value is False:
        return False
    below = g["only_for_age_below_months"].get(name)
    if below is not None and plan.age_years is not None:
        return units.months_from_years(plan.age_years) < Decimal(below)
    return True


def going_home_expected() -> tuple[Statement, ...]:
    return tuple(_statement(line) for line in family_data()["going_home"]["expected_lines"])


__all__ = ["SymptomLine", "going_home_expected", "going_home_symptoms"]
