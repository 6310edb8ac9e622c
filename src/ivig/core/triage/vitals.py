"""Vital signs against cited age-banded bounds (``ivig/data/vitals.toml``).

Heart rate, breathing rate, blood pressure and oxygen saturation are compared with the bands of
the data file for the patient's age; each reading beyond a band is a finding at that band's level
(``call_doctor`` or ``emergency``). Where the data has no band for an age and direction, the
result says "no cited bound" and the reading is not judged (never a guessed number). A
temperature is not judged here: :func:`ivig.core.triage.triage_vitals` passes it to the fever
rules of triage.toml (a fever report with the same rules).

Pure; the only I/O is reading the package data file once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from ivig.core.triage.data import LANGUAGES, RANK, TriageDataError

VITALS_FILE = "vitals.toml"
MEASURES = ("heart_rate", "breathing_rate", "systolic", "diastolic", "spo2")
DIRECTIONS = ("above", "below")


@dataclass(frozen=True)
class VitalSigns:
    """One set of readings (any may be missing). Units are in the names."""

    temperature_c: Decimal | None = None
    temperature_route: str | None = None
    heart_rate_per_min: Decimal | None = None
    breathing_rate_per_min: Decimal | None = None
    systolic_mmhg: Decimal | None = None
    diastolic_mmhg: Decimal | None = None
    spo2_percent: Decimal | None = None

    def reading(self, measure: str) -> Decimal | None:
        return {
            "heart_rate": self.heart_rate_per_min,
            "breathing_rate": self.breathing_rate_per_min,
            "systolic": self.systolic_mmhg,
            "diastolic": self.diastolic_mmhg,
            "spo2": self.spo2_percent,
        }[measure]

    def any_banded(self) -> bool:
        return any(self.reading(m) is not None for m in MEASURES)


@dataclass(frozen=True)
class Band:
    measure: str
    direction: str
    level: str
    from_months: Decimal
    below_months: Decimal | None
    bound: Decimal | None
    bound_base: Decimal | None
    bound_per_year: Decimal | None
    band: str
    band_es: str
    sources: tuple[str, ...]
    note: str

    def applies(self, age_months: Decimal) -> bool:
        return self.from_months <= age_months and (
            self.below_months is None or age_months < self.below_months
        )

    def bound_for(self, age_months: Decimal) -> Decimal:
        if self.bound is not None:
            return self.bound
        assert self.bound_base is not None and self.bound_per_year is not None
        whole_years = (age_months / 12).to_integral_value(rounding=ROUND_FLOOR)
        return self.bound_base + self.bound_per_year * whole_years

    def beyond(self, value: Decimal, age_months: Decimal) -> bool:
        bound = self.bound_for(age_months)
        return value > bound if self.direction == "above" else value < bound


@dataclass(frozen=True)
class EntryGuard:
    lowest: Decimal | None
    highest: Decimal | None


@dataclass(frozen=True)
class VitalsData:
    meta: Mapping[str, Any]
    sources: Mapping[str, Mapping[str, str]]
    bands: tuple[Band, ...]
    words: Mapping[str, Mapping[str, Any]]
    text: Mapping[str, Mapping[str, str]]
    entry_guards: Mapping[str, EntryGuard]
    systolic_fall: Mapping[str, Any]

    def source_line(self, key: str) -> str:
        source = self.sources[key]
        return f"{key}: {source['document']} ({source['date']})"


@dataclass(frozen=True)
class VitalFinding:
    """One reading beyond a cited bound."""

    code: str
    level: str
    en: str
    es: str
    sources: tuple[str, ...]


def _number(value: object, where: str, problems: list[str]) -> Decimal | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    problems.append(f"{where}: expected a number")
    return None


def parse_vitals_data(text: str) -> VitalsData:
    """Parse and check vitals.toml; raise TriageDataError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageDataError(f"{VITALS_FILE} is not valid TOML: {exc}") from exc
    problems: list[str] = []
    sources = raw.get("sources", {})
    for key, source in sources.items():
        for field in ("document", "date", "where", "strength"):
            if not isinstance(source.get(field), str) or not source[field].strip():
                problems.append(f"sources.{key}.{field}: expected non-empty text")
    bands: list[Band] = []
    for index, item in enumerate(raw.get("bands", [])):
        where = f"bands[{index}]"
        measure, direction, level = item.get("measure"), item.get("direction"), item.get("level")
        if measure not in MEASURES:
            problems.append(f"{where}.measure: one of {', '.join(MEASURES)}")
        if direction not in DIRECTIONS:
            problems.append(f"{where}.direction: above or below")
        if level not in RANK or level == "expected":
            problems.append(f"{where}.level: call_doctor or emergency")
        keys = item.get("sources", [])
        if not keys or any(k not in sources for k in keys):
            problems.append(f"{where}.sources: known source keys are required")
        has_bound = "bound" in item
        has_formula = "bound_base" in item and "bound_per_year" in item
        if not item.get("band") or not item.get("band_es"):
            problems.append(f"{where}: band and band_es (the ages in words) are required")
        if has_bound == has_formula:
            problems.append(f"{where}: give bound, or bound_base with bound_per_year")
        below = item.get("below_months")
        bands.append(
            Band(
                measure=str(measure),
                direction=str(direction),
                level=str(level),
                from_months=_number(item.get("from_months"), f"{where}.from_months", problems)
                or Decimal(0),
                below_months=None
                if below is None
                else _number(below, f"{where}.below_months", problems),
                bound=_number(item["bound"], f"{where}.bound", problems) if has_bound else None,
                bound_base=_number(item["bound_base"], where, problems) if has_formula else None,
                bound_per_year=_number(item["bound_per_year"], where, problems)
                if has_formula
                else None,
                band=str(item.get("band", "")),
                band_es=str(item.get("band_es", item.get("band", ""))),
                sources=tuple(keys),
                note=str(item.get("note", "")),
            )
        )
    guards: dict[str, EntryGuard] = {}
    for name, guard in raw.get("entry_guards", {}).items():
        if isinstance(guard, Mapping):
            low, high = guard.get("lowest"), guard.get("highest")
            guards[name] = EntryGuard(
                None if low is None else _number(low, f"entry_guards.{name}.lowest", problems),
                None if high is None else _number(high, f"entry_guards.{name}.highest", problems),
            )
    for measure in MEASURES:
        if measure not in raw.get("words", {}):
            problems.append(f"words.{measure}: missing")
    for key in ("above", "below", "no_bound", "direction_above", "direction_below", "age_needed"):
        if any(lang not in raw.get("text", {}).get(key, {}) for lang in LANGUAGES):
            problems.append(f"text.{key}: en and es are required")
    fall = raw.get("relative", {}).get("systolic_fall", {})
    if any(k not in sources for k in fall.get("sources", [])) or not fall.get("sources"):
        problems.append("relative.systolic_fall.sources: known source keys are required")
    if problems:
        raise TriageDataError(f"{VITALS_FILE} is not valid:\n" + "\n".join(problems))
    return VitalsData(
        meta=raw.get("meta", {}),
        sources=sources,
        bands=tuple(bands),
        words=raw["words"],
        text=raw["text"],
        entry_guards=guards,
        systolic_fall=fall,
    )


@lru_cache(maxsize=1)
def load_vitals_data() -> VitalsData:
    text = resources.files("ivig.data").joinpath(VITALS_FILE).read_text(encoding="utf-8")
    return parse_vitals_data(text)


def _shown(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _age_words(age_months: Decimal, language: str) -> str:
    years = (age_months / 12).to_integral_value(rounding=ROUND_FLOOR)
    if years >= 1:
        return f"{years} {'años' if language == 'es' else 'years'}"
    months = age_months.to_integral_value(rounding=ROUND_FLOOR)
    return f"{months} {'meses' if language == 'es' else 'months'}"


def vital_findings(
    signs: VitalSigns, age_months: Decimal, baseline_systolic_mmhg: Decimal | None = None
) -> tuple[tuple[VitalFinding, ...], tuple[tuple[str, str], ...]]:
    """The findings (readings beyond a cited bound) and the notes (English, Spanish) saying
    where no cited bound exists for a reading at this age."""
    data = load_vitals_data()
    findings: list[VitalFinding] = []
    notes: list[tuple[str, str]] = []
    for measure in MEASURES:
        value = signs.reading(measure)
        if value is None:
            continue
        words = data.words[measure]
        directions = tuple(words.get("directions", DIRECTIONS))
        for direction in directions:
            bands = [
                b
                for b in data.bands
                if b.measure == measure and b.direction == direction and b.applies(age_months)
            ]
            if not bands:
                notes.append(
                    tuple(  # type: ignore[arg-type]
                        data.text["no_bound"][lang].format(
                            measure=words[lang],
                            direction=data.text[f"direction_{direction}"][lang],
                            age=_age_words(age_months, lang),
                        )
                        for lang in LANGUAGES
                    )
                )
                continue
            for band in sorted(bands, key=lambda b: -RANK[b.level]):
                if band.beyond(value, age_months):
                    bound = _shown(band.bound_for(age_months))
                    en, es = (
                        data.text[direction][lang].format(
                            measure=words[lang],
                            value=_shown(value),
                            unit=words["unit"],
                            bound=bound,
                            band=band.band_es if lang == "es" else band.band,
                        )
                        for lang in LANGUAGES
                    )
                    findings.append(
                        VitalFinding(
                            f"VITAL-{measure.upper()}-{direction.upper()}",
                            band.level,
                            en,
                            es,
                            band.sources,
                        )
                    )
                    break  # the highest level that fires for this measure and direction
    if signs.systolic_mmhg is not None and baseline_systolic_mmhg is not None:
        fall = data.systolic_fall
        limit = Decimal(str(fall["percent_more_than"]))
        if baseline_systolic_mmhg > 0 and (
            (baseline_systolic_mmhg - signs.systolic_mmhg) * 100 > limit * baseline_systolic_mmhg
        ):
            values = {
                "value": _shown(signs.systolic_mmhg),
                "baseline": _shown(baseline_systolic_mmhg),
            }
            findings.append(
                VitalFinding(
                    "VITAL-SYSTOLIC-FALL",
                    str(fall["level"]),
                    str(fall["en"]).format(**values),
                    str(fall["es"]).format(**values),
                    tuple(fall["sources"]),
                )
            )
    return tuple(findings), tuple(notes)


def entry_guard(measure: str) -> EntryGuard:
    """The entry-error guard of a typed reading (design choice, from vitals.toml)."""
    return load_vitals_data().entry_guards[measure]


def sources_of(findings: Sequence[VitalFinding]) -> dict[str, str]:
    data = load_vitals_data()
    return {key: data.source_line(key) for f in findings for key in f.sources}
