"""Findings: what the checks report. Code, severity, message in plain words, and the source.

Messages are templates in data/findings.toml, in English and Spanish, so a printout in either
language says the same thing and the README's table of codes is made from the same file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class FindingSpec:
    code: str
    severity: str
    title_en: str
    title_es: str
    message_en: str
    message_es: str
    meaning: str


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error" | "warning" | "info"
    message: str  # English
    message_es: str
    source: str  # citation(s): document, revision, section
    params: Mapping[str, str] = field(default_factory=dict)
    day: int | None = None
    step: int | None = None

    def text(self, language: str = "en") -> str:
        return self.message_es if language == "es" else self.message

    @property
    def title(self) -> str:
        return specs()[self.code].title_en

    @property
    def title_es(self) -> str:
        return specs()[self.code].title_es


class FindingDataError(Exception):
    pass


@cache
def specs() -> Mapping[str, FindingSpec]:
    text = resources.files("ivig.data").joinpath("findings.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    out = {}
    for code, entry in raw["findings"].items():
        if entry["severity"] not in SEVERITIES:
            raise FindingDataError(f"findings.toml {code}: unknown severity {entry['severity']!r}")
        out[code] = FindingSpec(
            code=code,
            severity=entry["severity"],
            title_en=entry["title_en"],
            title_es=entry["title_es"],
            message_en=entry["message_en"],
            message_es=entry["message_es"],
            meaning=entry["meaning"],
        )
    return out


def make(
    code: str,
    source: str,
    *,
    day: int | None = None,
    step: int | None = None,
    severity: str | None = None,
    params: Mapping[str, str] | None = None,
    **named: str,
) -> Finding:
    """Build a finding from its code's templates. Unknown codes or missing params fail loudly."""
    spec = specs()[code]
    params = {**(params or {}), **named}
    try:
        message = spec.message_en.format(**params)
        message_es = spec.message_es.format(**params)
    except KeyError as exc:  # a programming error, caught by the tests that cover every code
        raise FindingDataError(f"finding {code}: missing parameter {exc}") from exc
    return Finding(
        code=code,
        severity=severity or spec.severity,
        message=message,
        message_es=message_es,
        source=source,
        params=dict(params),
        day=day,
        step=step,
    )


def sort_key(finding: Finding) -> tuple[int, str, int, int]:
    return (
        SEVERITIES.index(finding.severity),
        finding.code,
        finding.day or 0,
        finding.step or 0,
    )
