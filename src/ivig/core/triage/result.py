"""The result of a triage, in words for people (English, Spanish) and as a JSON-ready mapping."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ivig.core import units
from ivig.core.triage.data import LANGUAGES, load_triage_data
from ivig.core.triage.lexicon import PhraseReading, reading_to_dict
from ivig.core.triage.report import InputProblem, TriageInputError
from ivig.core.triage.vitals import load_vitals_data
from ivig.core.units import Kind


@dataclass(frozen=True)
class Reason:
    code: str
    level: str
    message_en: str
    message_es: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class TriageResult:
    level: str
    reasons: tuple[Reason, ...]
    advice_en: tuple[str, ...]
    advice_es: tuple[str, ...]
    stop_infusion: bool
    tags: frozenset[str]
    questions_to_ask: tuple[str, ...]
    questions_to_ask_es: tuple[str, ...] = ()
    within_hours: bool = False
    infusion_running: bool = False
    notes_en: tuple[str, ...] = ()
    notes_es: tuple[str, ...] = ()
    patient_fever_threshold: str | None = None
    patient_fever_threshold_reason: str | None = None
    readings: tuple[PhraseReading, ...] = ()  # what each phrase of free text was read as


def format_temperature(temperature_c: Decimal) -> str:
    """A temperature in °C and in °F, one decimal each, for people."""
    quantity = units.parse(f"{temperature_c:f} °C", "temperature", Kind.TEMPERATURE)
    fahrenheit = quantity.to("degF")
    c = units.round_half_up(temperature_c, 1)
    f = units.round_half_up(fahrenheit, 1)
    return f"{c} °C / {f} °F"


def _source_line(key: str) -> str:
    data = load_triage_data()
    if key in data.sources:
        return data.source_line(key)
    return load_vitals_data().source_line(key)


def heading(result: TriageResult, language: str = "en") -> str:
    """The level in plain words, in capitals (e.g. "CALL THE CARE TEAM WITHIN HOURS")."""
    data = load_triage_data()
    if result.level == "call_doctor" and result.infusion_running:
        key = "heading_call_doctor_running"
    elif result.level == "call_doctor" and result.within_hours:
        key = "heading_call_doctor_within_hours"
    else:
        key = f"heading_{result.level}"
    words = data.words(key, language)
    if result.stop_infusion:
        words += " - " + data.words("stop_infusion", language)
    return words


def result_to_dict(result: TriageResult, language: str = "en") -> dict[str, object]:
    """A stable JSON-ready mapping of a result in one language ("en" or "es")."""
    if language not in LANGUAGES:
        raise TriageInputError(
            [InputProblem("language", language, "en or es", "not a supported language")]
        )
    data = load_triage_data()
    spanish = language == "es"
    cited = sorted({key for reason in result.reasons for key in reason.sources})
    return {
        "level": result.level,
        "heading": heading(result, language),
        "within_hours": result.within_hours,
        "stop_infusion": result.stop_infusion,
        "infusion_running": result.infusion_running,
        "reasons": [
            {
                "code": reason.code,
                "level": reason.level,
                "message": reason.message_es if spanish else reason.message_en,
                "sources": list(reason.sources),
            }
            for reason in result.reasons
        ],
        "advice": list(result.advice_es if spanish else result.advice_en),
        "questions_to_ask": list(
            result.questions_to_ask_es if spanish else result.questions_to_ask
        ),
        "notes": list(result.notes_es if spanish else result.notes_en),
        "tags": sorted(result.tags),
        "free_text": [reading_to_dict(r, language) for r in result.readings],
        "patient_fever_threshold": result.patient_fever_threshold,
        "patient_fever_threshold_reason": result.patient_fever_threshold_reason,
        "sources": {key: _source_line(key) for key in cited},
        "disclaimer": data.words("disclaimer", language),
        "if_in_doubt": data.words("if_in_doubt", language),
        "language": language,
        "triage_data_version": str(data.meta.get("version", "")),
    }
