"""The rule data (data/rules.toml): thresholds and risk lists with their sources.

A small module of its own so that every engine module reading a rule (the plan checks, the
care timeline, the infusion checks, triage) depends on the data, not on each other.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ivig.core import units
from ivig.core.units import Kind

__all__ = ["age_over_years", "age_rule_section", "quantity", "rule_citation", "rules"]


@cache
def rules() -> Mapping[str, Any]:
    text = resources.files("ivig.data").joinpath("rules.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def rule_citation(section: str) -> str:
    """The citation of a rules.toml section: each source's document, revision and section."""
    ids = rules()[section]["sources"]
    return "; ".join(_cite_rule_source(i) for i in ids)


def _cite_rule_source(source_id: str) -> str:
    s = rules()["sources"][source_id]
    return f"{s['document']}, {s['revision']}, {s['section']}"


def quantity(section: str, key: str, kind: Kind) -> units.Quantity:
    return units.parse(rules()[section][key], f"rules.toml {section}.{key}", kind)


def age_rule_section(section: str) -> str:
    """The rules.toml section holding a list's age threshold: its own, or the one it points at
    with ``age_over_rule`` (thrombosis uses the one [thrombosis_advanced_age])."""
    return str(rules()[section].get("age_over_rule", section))


def age_over_years(section: str) -> Decimal:
    """An age threshold in years from rules.toml (e.g. "thrombosis_advanced_age")."""
    return units.years(quantity(age_rule_section(section), "age_over", Kind.AGE))
