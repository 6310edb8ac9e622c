"""Symptom reports -> urgency (emergency / call the care team / expected), reasons and advice.

One module per job:

- :mod:`~ivig.core.triage.data` reads and checks the data file (``ivig/data/triage.toml``);
- :mod:`~ivig.core.triage.report` reads a report (file / API format) into a :class:`Report`;
- :mod:`~ivig.core.triage.lexicon` reads free text (English, Spanish) into symptom names;
- :mod:`~ivig.core.triage.evaluation` evaluates a report (the rules of the data file);
- :mod:`~ivig.core.triage.vitals` triages recorded vital signs (temperature, heart rate, ...);
- :mod:`~ivig.core.triage.result` writes the result for people and as JSON.

Pure: no Django, no database, no network; the only I/O is reading the package data files.
Quantities are parsed and converted by :mod:`ivig.core.units` only.
"""

from ivig.core.triage.data import (
    DATA_FILE,
    LANGUAGES,
    LEVELS,
    CheckIn,
    CheckInTier,
    TriageData,
    TriageDataError,
    load_triage_data,
    parse_triage_data,
)
from ivig.core.triage.evaluation import evaluate, triage_vitals
from ivig.core.triage.lexicon import PhraseReading, read_free_text, reading_to_dict
from ivig.core.triage.report import (
    COURSE_KEYS,
    PATIENT_KEYS,
    REPORT_KEYS,
    InputProblem,
    Report,
    TriageInputError,
    normalise_symptom,
    report_from_mapping,
)
from ivig.core.triage.result import (
    Reason,
    TriageResult,
    format_temperature,
    heading,
    result_to_dict,
)
from ivig.core.triage.vitals import VitalSigns, load_vitals_data

__all__ = [
    "COURSE_KEYS",
    "DATA_FILE",
    "LANGUAGES",
    "LEVELS",
    "PATIENT_KEYS",
    "REPORT_KEYS",
    "CheckIn",
    "CheckInTier",
    "InputProblem",
    "PhraseReading",
    "Reason",
    "Report",
    "TriageData",
    "TriageDataError",
    "TriageInputError",
    "TriageResult",
    "VitalSigns",
    "evaluate",
    "format_temperature",
    "heading",
    "load_triage_data",
    "load_vitals_data",
    "normalise_symptom",
    "parse_triage_data",
    "read_free_text",
    "reading_to_dict",
    "report_from_mapping",
    "result_to_dict",
    "triage_vitals",
]
