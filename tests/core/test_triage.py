"""Triage: symptom reports -> emergency / call_doctor / expected (ivig.core.triage).

The machine names below are the triage reference's section 1a list, written out here on purpose:
if a name disappears from the data file, these tests fail instead of silently testing less.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivig.core import triage
from ivig.core.triage import (
    LEVELS,
    Report,
    TriageDataError,
    TriageInputError,
    TriageResult,
    evaluate,
    load_triage_data,
    parse_triage_data,
    report_from_mapping,
    result_to_dict,
)
from ivig.core.vocabulary import CONDITIONS

EMERGENCY_SIGNS_1A = (
    "difficulty_breathing",
    "wheeze_or_noisy_breathing",
    "throat_tight_or_tongue_swelling",
    "face_lip_eye_swelling",
    "chest_tightness",
    "chest_pain",
    "faint_collapse_or_persistent_dizziness",
    "blue_lips_or_skin",
    "one_sided_weakness_or_numbness",
    "sudden_speech_vision_balance_problem",
    "sudden_severe_headache",
    "confused_or_hard_to_wake",
    "seizure",
    "non_blanching_rash",
    "fever_infant_under_3_months",
    "no_urine",
)
# Hours since the end of the infusion: inside and far outside every window, and unknown.
WINDOW_HOURS = (None, "0", "3", "12", "23.9", "30", "60", "80", "100", "200", "300", "400", "2000")

DATA = load_triage_data()
VOCABULARY = tuple(sorted(DATA.symptoms))
RANK = {level: i for i, level in enumerate(LEVELS)}


def report(**overrides: Any) -> Report:
    """A well 10-year-old, 20 h after a 0.4 g/kg infusion, blood group O+, nothing reported."""
    base: dict[str, Any] = {
        "symptoms": frozenset(),
        "infusion_running": False,
        "hours_since_infusion_end": Decimal(20),
        "age_months": Decimal(120),
        "blood_group": "O+",
        "course_dose_g_per_kg": Decimal("0.4"),
        "fever_reducer_last_6h": False,
    }
    base.update(overrides)
    for key in ("symptoms", "repeated_symptoms", "conditions"):
        if key in base and not isinstance(base[key], frozenset):
            base[key] = frozenset(base[key])
    return Report(**base)


def run(*symptoms: str, **overrides: Any) -> TriageResult:
    return evaluate(report(symptoms=frozenset(symptoms), **overrides))


def codes(result: TriageResult) -> set[str]:
    return {reason.code for reason in result.reasons}


def document(report_table: dict[str, Any] | None = None, **tables: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "report": {"symptoms": [], "hours_since_infusion_end": 20, "fever_reducer_last_6h": False},
        "patient": {"age": "10 years", "blood_group": "O+", "conditions": []},
        "course": {"indication": "itp", "dose": "0.4 g/kg"},
    }
    doc["report"].update(report_table or {})
    for name, values in tables.items():
        doc.setdefault(name, {}).update(values)
    return doc


def from_doc(report_table: dict[str, Any] | None = None, **tables: Any) -> TriageResult:
    return evaluate(report_from_mapping(document(report_table, **tables)))


# --- The data file ------------------------------------------------------------------------------


def test_data_loads_and_every_section_1a_sign_is_an_emergency_symptom() -> None:
    for name in EMERGENCY_SIGNS_1A:
        assert DATA.symptoms[name].level == "emergency", name


def test_every_entry_cites_known_sources_and_conservative_rows_say_why() -> None:
    cited = [s.sources for s in DATA.symptoms.values()] + [r.sources for r in DATA.rules]
    cited += [t.sources for t in DATA.temperature_rules] + [a.sources for a in DATA.advice.values()]
    for keys in cited:
        assert keys and set(keys) <= set(DATA.sources)
    for source in DATA.sources.values():
        assert source.document and source.date
    for item in [*DATA.symptoms.values(), *DATA.rules, *DATA.temperature_rules]:
        if item.conservative:
            assert item.note, f"{getattr(item, 'name', getattr(item, 'id', ''))} needs a note"


def test_fever_rules_cite_the_stricter_threshold_and_note_the_seed() -> None:
    t3 = next(rule for rule in DATA.temperature_rules if rule.id == "T3")
    assert {"GAM-ISI", "BAX-IVIG", "SEED-BCH"} <= set(t3.sources)
    assert t3.conservative and "101" in t3.note


def test_every_symptom_has_english_and_spanish_plain_words() -> None:
    for symptom in DATA.symptoms.values():
        assert symptom.en.strip() and symptom.es.strip()
        assert symptom.en != symptom.es


def test_checkin_tiers_of_section_5_are_encoded_with_sources() -> None:
    expected = {
        "standard",
        "elevated",
        "haemolysis",
        "renal",
        "thrombosis",
        "kawasaki",
        "infant",
        "immunodeficiency",
    }
    assert set(DATA.checkin_tiers) == expected
    standard = DATA.checkin_tiers["standard"]
    assert [(c.from_h, c.to_h) for c in standard.checkins] == [
        (0, 0),
        (4, 6),
        (24, 24),
        (48, 72),
        (96, 168),
    ]
    assert DATA.checkin_tiers["haemolysis"].checkins[-1].to_h == 240
    assert DATA.checkin_tiers["kawasaki"].extra["nonresponse_flag_from_h"] == 36
    for tier in DATA.checkin_tiers.values():
        assert tier.sources


def _data_text() -> str:
    return resources.files("ivig.data").joinpath("triage.toml").read_text(encoding="utf-8")


def test_unknown_source_key_is_refused_at_load() -> None:
    text = _data_text().replace('sources = ["NICE-NG143"]', 'sources = ["NO-SUCH-SOURCE"]', 1)
    with pytest.raises(TriageDataError, match="NO-SUCH-SOURCE"):
        parse_triage_data(text)


def test_unknown_symptom_in_a_rule_is_refused_at_load() -> None:
    text = _data_text().replace('all_of = [["stiff_neck"], ', 'all_of = [["stiff_nek"], ', 1)
    with pytest.raises(TriageDataError, match="stiff_nek"):
        parse_triage_data(text)


def test_unknown_condition_in_a_risk_factor_is_refused_at_load() -> None:
    text = _data_text().replace(
        '"renal_impairment", "diabetes"', '"renal_impairmnt", "diabetes"', 1
    )
    with pytest.raises(TriageDataError, match="renal_impairmnt"):
        parse_triage_data(text)


def test_no_temperature_threshold_is_written_in_the_code() -> None:
    package = resources.files("ivig.core.triage")
    modules = [m for m in package.iterdir() if m.name.endswith(".py")]
    assert len(modules) >= 5  # one module per job
    for module in modules:
        source = module.read_text(encoding="utf-8")
        assert not re.search(r"\d\s*°\s*[CF]", source), module.name
        assert "37.8" not in source and "38.0" not in source and "100.4" not in source


# --- G1 / section 1a: emergency signs, at every window, during and after -------------------------


@pytest.mark.parametrize("hours", WINDOW_HOURS)
@pytest.mark.parametrize("sign", EMERGENCY_SIGNS_1A)
def test_every_emergency_sign_alone_is_an_emergency_after_the_infusion(
    sign: str, hours: str | None
) -> None:
    result = run(sign, hours_since_infusion_end=None if hours is None else Decimal(hours))
    assert result.level == "emergency"
    assert not result.stop_infusion
    assert result.advice_en[0].startswith("Call emergency services now")


@pytest.mark.parametrize("sign", EMERGENCY_SIGNS_1A)
def test_every_emergency_sign_during_the_infusion_stops_it(sign: str) -> None:
    result = run(sign, infusion_running=True, hours_since_infusion_end=None)
    assert result.level == "emergency"
    assert result.stop_infusion
    assert "G3-STOP" in codes(result)
    assert "stop it now" in " ".join(result.advice_en)
    assert "STOP THE INFUSION" in result_to_dict(result)["heading"]  # type: ignore[operator]


@pytest.mark.parametrize("sign", EMERGENCY_SIGNS_1A)
@pytest.mark.parametrize("age", [None, "1", "30", "800"])
def test_emergency_signs_stay_emergency_at_any_age_and_with_any_risk(
    sign: str, age: str | None
) -> None:
    result = run(
        sign,
        age_months=None if age is None else Decimal(age),
        conditions=frozenset(CONDITIONS),
        indication="kawasaki",
        temperature_c=Decimal("36.8"),
        fever_threshold_c=Decimal("39.0"),
        fever_threshold_reason="care team plan",
    )
    assert result.level == "emergency"


# --- Combination rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symptoms", "overrides", "rule"),
    [
        (("hives_or_welts", "crampy_tummy_pain"), {}, "C1"),
        (
            ("hives_or_welts", "vomiting_persistent"),
            {"hours_since_infusion_end": Decimal(60)},
            "C1",
        ),
        (("itching_or_flushing", "mild_nausea"), {}, "C1"),
        (("face_lip_eye_swelling", "difficulty_breathing"), {}, "C1"),
        (
            ("itching_or_flushing", "dizzy_lightheaded_brief"),
            {"hours_since_infusion_end": Decimal(2)},
            "C1c",
        ),
        (
            ("dizzy_lightheaded_brief", "crampy_tummy_pain"),
            {"infusion_running": True, "hours_since_infusion_end": None},
            "C1c",
        ),
        (("wheeze_or_noisy_breathing",), {}, "C2"),
        (("throat_tight_or_tongue_swelling",), {}, "C2"),
        (("mild_headache", "stiff_neck"), {"headache_score": 5}, "C3"),
        (("headache_not_settling", "light_sensitivity_or_eye_pain"), {}, "C3"),
        (("headache_not_settling", "vomiting_persistent"), {}, "C3"),
        (("mild_headache",), {"headache_score": 7, "temperature_c": Decimal("37.9")}, "C3"),
        (("stiff_neck",), {"temperature_c": Decimal("37.8")}, "C3b"),
        (("stiff_neck", "fever"), {}, "C3b"),
        (("one_limb_pain_swelling", "fast_heartbeat"), {}, "C4"),
        (("one_limb_pain_swelling", "coughing_blood"), {}, "C4"),
        (("dark_or_red_urine", "no_urine"), {}, "C5"),
        (("yellow_skin_or_eyes", "faint_collapse_or_persistent_dizziness"), {}, "C5"),
        (("less_urine", "pale_tired_fast_heartbeat"), {}, "C6"),
        (("weight_gain_or_puffy_swelling", "difficulty_breathing"), {}, "C6"),
        (("seizure",), {"temperature_c": Decimal("38.5")}, "C8"),
        ((), {"age_months": Decimal(2), "temperature_c": Decimal("37.9")}, "C8"),
        (("stiff_neck",), {"temperature_c": Decimal("38.6")}, "T5"),
    ],
)
def test_combination_rules_reach_emergency(
    symptoms: tuple[str, ...], overrides: dict[str, Any], rule: str
) -> None:
    result = run(*symptoms, **overrides)
    assert result.level == "emergency"
    assert rule in codes(result)


def test_c1c_needs_the_early_window_so_day_2_is_call_doctor() -> None:
    result = run(
        "itching_or_flushing", "dizzy_lightheaded_brief", hours_since_infusion_end=Decimal(48)
    )
    assert result.level == "call_doctor"
    assert "C1c" not in codes(result)


def test_hives_alone_is_call_doctor_and_re_asks_the_breathing_questions() -> None:
    result = run("hives_or_welts")
    assert result.level == "call_doctor"
    assert "C1b" in codes(result)
    assert any("15-30 minutes" in q for q in result.questions_to_ask)


def test_mild_headache_with_a_stiff_neck_is_call_doctor_within_hours() -> None:
    result = run("mild_headache", "stiff_neck", headache_score=3)
    assert result.level == "call_doctor"
    assert result.within_hours
    assert "aseptic_meningitis_concern" in result.tags


def test_c5b_haemolysis_prompt_for_non_o_after_2_g_per_kg() -> None:
    result = run("dark_or_red_urine", "tired", blood_group="A+", course_dose_g_per_kg=Decimal(2))
    assert result.level == "call_doctor"
    assert result.within_hours
    assert {"C5b", "M-HEMOLYSIS-RISK"} <= codes(result)
    assert "hemolysis_concern" in result.tags
    assert any("haemoglobin" in q for q in result.questions_to_ask)


def test_c5b_counts_an_unknown_blood_group_and_dose_as_the_risky_values() -> None:
    result = run("dark_or_red_urine", "fast_heartbeat", blood_group=None, course_dose_g_per_kg=None)
    assert "C5b" in codes(result)
    assert any("blood group" in q for q in result.questions_to_ask)


def test_c7_renal_risk_with_vomiting_is_within_hours() -> None:
    result = run("vomiting_persistent", conditions={"diabetes"})
    assert result.within_hours and "C7" in codes(result)


def test_c10_two_call_doctor_symptoms_from_different_organ_groups_within_hours() -> None:
    result = run("dark_or_red_urine", "headache_not_settling")
    assert result.level == "call_doctor"
    assert "C10" in codes(result)
    same_group = run("yellow_skin_or_eyes", "pale_tired_fast_heartbeat")
    assert "C10" not in codes(same_group)


# --- Temperature rules -------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", ["38.0 °C", "38.1 °C", "100.4 °F", "100.6 °F", "39.5 °C"])
@pytest.mark.parametrize("route", ["rectal", "axillary", "tympanic", None])
def test_t1_infant_fever_is_an_emergency_in_celsius_and_fahrenheit(
    temperature: str, route: str | None
) -> None:
    table: dict[str, Any] = {"temperature": temperature}
    if route:
        table["temperature_route"] = route
    result = from_doc(table, patient={"age": "6 weeks"})
    assert result.level == "emergency"
    assert "T1" in codes(result)
    assert "infection_concern" in result.tags


def test_t1_from_a_birth_date_and_the_report_date() -> None:
    result = from_doc(
        {"temperature": "100.4 °F", "date": "2026-11-21"},
        patient={"age": None, "birth_date": "2026-09-01"},
    )
    assert result.level == "emergency" and "T1" in codes(result)


def test_infant_fever_during_the_infusion_stops_it() -> None:
    result = run(
        temperature_c=Decimal("38.2"),
        age_months=Decimal(1),
        infusion_running=True,
        hours_since_infusion_end=None,
    )
    assert result.level == "emergency" and result.stop_infusion


@pytest.mark.parametrize(
    ("temperature", "level"),
    [
        ("100.0 °F", "expected"),
        ("100.1 °F", "call_doctor"),
        ("37.7 °C", "expected"),
        ("37.77 °C", "expected"),
        ("37.78 °C", "call_doctor"),  # 100.004 °F: above 100.0 °F
        ("37.8 °C", "call_doctor"),
        ("38.3 °C", "call_doctor"),
        ("101 °F", "call_doctor"),
        ("39.9 °C", "call_doctor"),
        ("40.0 °C", "call_doctor"),
    ],
)
def test_fever_threshold_is_the_stricter_cited_one(temperature: str, level: str) -> None:
    result = from_doc({"temperature": temperature, "temperature_route": "oral"})
    assert result.level == level
    assert ("T3" in codes(result)) == (level == "call_doctor")


def test_no_fever_reads_as_the_expected_low_grade_temperature_rule() -> None:
    result = from_doc({"temperature": "100.0 °F", "temperature_route": "oral"})
    assert codes(result) == {"T8"}
    assert "You may call us any time." in result.advice_en


def test_t9_forty_degrees_is_within_hours() -> None:
    result = from_doc({"temperature": "104 °F", "temperature_route": "oral"})
    assert result.level == "call_doctor" and result.within_hours and "T9" in codes(result)


def test_t6_three_to_six_months_at_39() -> None:
    result = from_doc({"temperature": "39.1 °C"}, patient={"age": "4 months"})
    assert result.level == "call_doctor" and "T6" in codes(result)


def test_t7_immunodeficiency_fever_is_a_possible_infection() -> None:
    result = from_doc({"temperature": "38.0 °C"}, course={"indication": "pi"})
    assert "T7" in codes(result) and "infection_concern" in result.tags
    assert any("possible infection" in line for line in result.advice_en)


def test_a_normal_temperature_after_a_fever_medicine_asks_before_reassuring() -> None:
    result = from_doc({"temperature": "37.0 °C", "fever_reducer_last_6h": True})
    assert result.level == "expected"
    assert any("fever medicine" in q for q in result.questions_to_ask)


def test_temperature_without_a_unit_is_refused_naming_the_field() -> None:
    with pytest.raises(TriageInputError) as caught:
        report_from_mapping(document({"temperature": 38.5}))
    assert caught.value.field == "report.temperature"
    assert "°C" in caught.value.accepted


def test_implausible_temperature_is_refused_as_a_unit_slip() -> None:
    with pytest.raises(TriageInputError, match="plausible"):
        report_from_mapping(document({"temperature": "101 °C"}))


# --- Patient-specific fever threshold ------------------------------------------------------------


THRESHOLD = {"fever_threshold": "38.3 °C", "fever_threshold_reason": "fever after every infusion"}


def test_patient_threshold_with_reason_is_used_and_shown() -> None:
    result = from_doc({"temperature": "38.0 °C", "temperature_route": "oral", **THRESHOLD})
    assert result.level == "expected"
    assert result.patient_fever_threshold is not None
    assert result.patient_fever_threshold.startswith("38.3 °C")
    assert result.patient_fever_threshold_reason == "fever after every infusion"
    assert any("fever after every infusion" in note for note in result.notes_en)
    as_json = result_to_dict(result)
    assert as_json["patient_fever_threshold_reason"] == "fever after every infusion"
    above = from_doc({"temperature": "38.4 °C", "temperature_route": "oral", **THRESHOLD})
    assert above.level == "call_doctor" and "TP" in codes(above)


def test_a_lower_patient_threshold_calls_earlier() -> None:
    lower = {"fever_threshold": "37.5 °C", "fever_threshold_reason": "neutropenia"}
    result = from_doc({"temperature": "37.6 °C", **lower})
    assert result.level == "call_doctor" and "TP" in codes(result)


def test_patient_threshold_never_lowers_the_infant_rule() -> None:
    result = from_doc(
        {"temperature": "38.2 °C", "fever_threshold": "39.0 °C", "fever_threshold_reason": "x"},
        patient={"age": "2 months"},
    )
    assert result.level == "emergency" and "T1" in codes(result)


def test_patient_threshold_never_lowers_kawasaki() -> None:
    result = from_doc(
        {
            "temperature": "38.2 °C",
            "temperature_route": "axillary",
            "hours_since_infusion_end": 40,
            **THRESHOLD,
        },
        course={"indication": "kawasaki"},
    )
    assert result.level == "call_doctor"
    assert {"T2", "C9"} <= codes(result)
    assert "kd_possible_nonresponse" in result.tags


def test_patient_threshold_never_lowers_fever_with_a_danger_sign() -> None:
    result = from_doc({"symptoms": ["stiff_neck"], "temperature": "37.9 °C", **THRESHOLD})
    assert result.level == "emergency" and "C3b" in codes(result)
    headache = from_doc(
        {"symptoms": ["headache_not_settling"], "temperature": "38.0 °C", **THRESHOLD}
    )
    assert headache.level == "emergency" and "C3" in codes(headache)


def test_patient_threshold_without_a_reason_is_an_input_error_naming_the_field() -> None:
    with pytest.raises(TriageInputError) as caught:
        report_from_mapping(document({"temperature": "38.0 °C", "fever_threshold": "38.3 °C"}))
    assert caught.value.field == "report.fever_threshold_reason"
    with pytest.raises(TriageInputError) as blank:
        report_from_mapping(
            document({"fever_threshold": "38.3 °C", "fever_threshold_reason": "   "})
        )
    assert blank.value.field == "report.fever_threshold_reason"


def test_patient_threshold_outside_the_allowed_range_is_refused() -> None:
    with pytest.raises(TriageInputError, match="range"):
        report_from_mapping(document({"fever_threshold": "40.5 °C", "fever_threshold_reason": "x"}))
    with pytest.raises(TriageInputError) as caught:
        report_from_mapping(document({"fever_threshold": "38.3", "fever_threshold_reason": "x"}))
    assert caught.value.field == "report.fever_threshold"


# --- Kawasaki disease ---------------------------------------------------------------------------


def test_kawasaki_fever_at_40_hours_is_call_doctor_with_the_nonresponse_tag() -> None:
    result = from_doc(
        {"temperature": "38.2 °C", "temperature_route": "oral", "hours_since_infusion_end": 40},
        course={"indication": "kawasaki", "dose": "2 g/kg"},
    )
    assert result.level == "call_doctor"
    assert {"T2", "C9", "C9-36H"} <= codes(result)
    assert "kd_possible_nonresponse" in result.tags


def test_kawasaki_fever_at_20_hours_is_call_doctor_without_the_tag() -> None:
    result = from_doc(
        {"temperature": "38.2 °C", "temperature_route": "oral", "hours_since_infusion_end": 20},
        course={"indication": "kawasaki"},
    )
    assert result.level == "call_doctor"
    assert "kd_possible_nonresponse" not in result.tags


def test_kawasaki_axillary_threshold_is_lower() -> None:
    result = from_doc(
        {"temperature": "37.6 °C", "temperature_route": "axillary"},
        course={"indication": "kawasaki"},
    )
    assert result.level == "call_doctor" and "T2" in codes(result)
    oral = from_doc(
        {"temperature": "37.6 °C", "temperature_route": "oral"},
        course={"indication": "kawasaki"},
    )
    assert "T2" not in codes(oral)


def test_kawasaki_reported_fever_is_never_expected() -> None:
    result = run("fever_after_kawasaki_ivig", hours_since_infusion_end=Decimal(30))
    assert result.level == "call_doctor"
    assert "C9" in codes(result)
    warm = run("low_grade_temp", indication="kawasaki")
    assert warm.level == "call_doctor"


# --- G3, G4, G5 and the windows of expected effects ---------------------------------------------


def test_unknown_symptom_is_call_doctor() -> None:
    result = run("tingling earlobes")
    assert result.level == "call_doctor"
    assert "G4" in codes(result)
    assert any("tingling_earlobes" in note for note in result.notes_en)


def test_free_text_that_matches_a_machine_name_is_read_as_it() -> None:
    assert run("Chest Pain").level == "emergency"


@pytest.mark.parametrize("symptom", [*VOCABULARY, "something odd"])
def test_during_the_infusion_every_symptom_is_at_least_call_doctor(symptom: str) -> None:
    result = run(symptom, infusion_running=True, hours_since_infusion_end=None)
    assert RANK[result.level] >= RANK["call_doctor"]
    assert "G3" in codes(result)
    assert result.stop_infusion == (result.level == "emergency")
    if result.level == "call_doctor":
        assert result_to_dict(result)["heading"] == "TELL THE NURSE NOW"
        assert result.advice_en[0].startswith("Tell the nurse now")


def test_g5_repeated_expected_symptom_moves_up_to_call_doctor() -> None:
    once = run("mild_headache", headache_score=2)
    again = run("mild_headache", headache_score=2, repeated_symptoms={"mild_headache"})
    assert once.level == "expected"
    assert again.level == "call_doctor" and "G5" in codes(again)


def test_g5_repeated_call_doctor_symptom_moves_up_to_emergency() -> None:
    assert run("rash_other", repeated_symptoms={"rash_other"}).level == "emergency"


def test_expected_effect_the_day_after_says_you_may_call() -> None:
    result = run("mild_headache", "tired", headache_score=3)
    assert result.level == "expected"
    assert "You may call us any time." in result.advice_en
    assert "If in doubt, call." in result.advice_en
    assert any("not a diagnosis" in line for line in result.advice_en)
    assert any("24 to 48 hours" in line for line in result.advice_en)


def test_fluid_advice_follows_the_care_teams_limit_with_heart_failure() -> None:
    result = run("tired", conditions={"heart_failure"})
    assert not any("24 to 48 hours" in line for line in result.advice_en)
    assert any("fluid limit" in line for line in result.advice_en)


def test_expected_effect_after_day_3_is_call_doctor() -> None:
    result = run("aches", hours_since_infusion_end=Decimal(80))
    assert result.level == "call_doctor" and "W1" in codes(result)


def test_expected_effect_with_unknown_timing_is_call_doctor_and_asks_when() -> None:
    result = run("tired", hours_since_infusion_end=None)
    assert result.level == "call_doctor" and "W2" in codes(result)
    assert any("When did the infusion end" in q for q in result.questions_to_ask)


def test_headache_score_of_5_or_more_is_call_doctor() -> None:
    assert run("mild_headache", headache_score=4).level == "expected"
    result = run("mild_headache", headache_score=5)
    assert result.level == "call_doctor" and "H1" in codes(result)


def test_missing_headache_score_is_asked() -> None:
    result = run("mild_headache")
    assert any("0 (none) to 10" in q for q in result.questions_to_ask)


def test_unknown_age_applies_the_infant_rules_and_says_so() -> None:
    result = run(temperature_c=Decimal("38.1"), age_months=None)
    assert result.level == "emergency"
    assert "T1" in codes(result)
    assert any("Age not given" in note for note in result.notes_en)
    assert any("How old" in q for q in result.questions_to_ask)


def test_nothing_reported_is_expected_and_still_says_call_if_in_doubt() -> None:
    result = run()
    assert result.level == "expected"
    assert "If in doubt, call." in result.advice_en


def test_reasons_are_highest_first() -> None:
    result = run("mild_headache", "stiff_neck", headache_score=6)
    levels = [RANK[reason.level] for reason in result.reasons]
    assert levels == sorted(levels, reverse=True)


def test_result_to_dict_is_stable_json_in_both_languages() -> None:
    result = run("hives_or_welts", "tired")
    english = result_to_dict(result)
    spanish = result_to_dict(result, "es")
    keys = {
        "level",
        "heading",
        "within_hours",
        "stop_infusion",
        "infusion_running",
        "reasons",
        "advice",
        "questions_to_ask",
        "notes",
        "tags",
        "free_text",
        "patient_fever_threshold",
        "patient_fever_threshold_reason",
        "sources",
        "disclaimer",
        "if_in_doubt",
        "language",
        "triage_data_version",
    }
    assert set(english) == keys == set(spanish)
    assert json.loads(json.dumps(english)) == english
    assert english["advice"] != spanish["advice"]
    assert spanish["if_in_doubt"] == "Si tiene dudas, llame."
    with pytest.raises(TriageInputError):
        result_to_dict(result, "fr")


# --- report_from_mapping --------------------------------------------------------------------------


def test_report_from_mapping_reads_the_documented_format() -> None:
    parsed = report_from_mapping(
        {
            "report": {
                "symptoms": ["mild_headache", "Stiff neck"],
                "headache_score": 5,
                "temperature": "38.4 °C",
                "temperature_route": "oral",
                "hours_since_infusion_end": 20,
                "infusion_running": False,
            },
            "patient": {"age": "4 years", "blood_group": "A+", "conditions": ["migraine"]},
            "course": {"indication": "kawasaki", "dose": "2 g/kg"},
        }
    )
    assert parsed.symptoms == {"mild_headache", "stiff_neck"}
    assert parsed.temperature_c == Decimal("38.4")
    assert parsed.age_months == Decimal(48)
    assert parsed.course_dose_g_per_kg == Decimal(2)
    assert parsed.indication == "kawasaki"


def test_daily_dose_with_days_and_grams_with_weight_give_the_course_dose_per_kg() -> None:
    daily = report_from_mapping(document(course={"dose": "1 g/kg/day", "days": 2}))
    assert daily.course_dose_g_per_kg == Decimal(2)
    grams = report_from_mapping(document(course={"dose": "40 g"}, patient={"weight": "20 kg"}))
    assert grams.course_dose_g_per_kg == Decimal(2)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"report": {"temprature": "38 °C"}}, "report.temprature"),
        ({"report": {"symptoms": "stiff_neck"}}, "report.symptoms"),
        ({"report": {"headache_score": 11}}, "report.headache_score"),
        ({"report": {"headache_score": True}}, "report.headache_score"),
        ({"report": {"infusion_running": "yes"}}, "report.infusion_running"),
        ({"report": {"hours_since_infusion_end": -1}}, "report.hours_since_infusion_end"),
        (
            {"report": {"infusion_running": True, "hours_since_infusion_end": 3}},
            "report.hours_since_infusion_end",
        ),
        ({"report": {"temperature_route": "nasal"}}, "report.temperature_route"),
        ({"report": {}, "patient": {"conditions": ["renal_impairement"]}}, "patient.conditions[0]"),
        ({"report": {}, "patient": {"age": "4"}}, "patient.age"),
        ({"report": {}, "patient": {"birth_date": "2020-01-01"}}, "patient.birth_date"),
        ({"report": {}, "patient": {"blood_group": "C"}}, "patient.blood_group"),
        ({"report": {}, "course": {"indication": "kawasakii"}}, "course.indication"),
        ({"report": {}, "course": {"dose": "2"}}, "course.dose"),
        ({"report": {}, "course": {"dose": "1 g/kg/day"}}, "course.days"),
        ({}, "report"),
        ({"report": {}, "extra": 1}, "document.extra"),
    ],
)
def test_bad_input_names_the_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(TriageInputError) as caught:
        report_from_mapping(doc)
    assert field in {p.field for p in caught.value.problems}


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(TriageInputError) as caught:
        report_from_mapping({"report": {"temperature": 38, "headache_score": "bad"}})
    assert {p.field for p in caught.value.problems} == {
        "report.temperature",
        "report.headache_score",
    }


# --- Properties (hypothesis) --------------------------------------------------------------------

symptom_names = st.one_of(
    st.sampled_from(VOCABULARY),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ ", min_size=1, max_size=20),
)
conditions = st.sampled_from(sorted(CONDITIONS))
decimals = st.decimals(min_value=0, max_value=500, places=1, allow_nan=False, allow_infinity=False)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    running = draw(st.booleans())
    threshold = draw(st.one_of(st.none(), st.decimals(min_value=37, max_value="39.5", places=1)))
    return Report(
        symptoms=frozenset(draw(st.lists(symptom_names, max_size=4))),
        infusion_running=running,
        hours_since_infusion_end=None if running else draw(st.one_of(st.none(), decimals)),
        temperature_c=draw(st.one_of(st.none(), st.decimals(min_value=35, max_value=42, places=2))),
        temperature_route=draw(st.sampled_from([None, *DATA.routes])),
        fever_reducer_last_6h=draw(st.sampled_from([None, True, False])),
        headache_score=draw(st.one_of(st.none(), st.integers(0, 10))),
        age_months=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=1))),
        conditions=frozenset(draw(st.lists(conditions, max_size=3))),
        indication=draw(st.sampled_from([None, "kawasaki", "pi", "itp", "b_cell_cll"])),
        blood_group=draw(st.sampled_from([None, "O+", "A+", "B-", "AB+"])),
        course_dose_g_per_kg=draw(
            st.one_of(st.none(), st.decimals(min_value="0.1", max_value=4, places=1))
        ),
        repeated_symptoms=frozenset(draw(st.lists(symptom_names, max_size=2))),
        fever_threshold_c=threshold,
        fever_threshold_reason=None if threshold is None else "care team",
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), symptom_names)
def test_adding_a_symptom_never_lowers_the_level(base: Report, extra: str) -> None:
    before = evaluate(base)
    after = evaluate(dataclasses.replace(base, symptoms=base.symptoms | {extra}))
    assert RANK[after.level] >= RANK[before.level]
    repeated = evaluate(
        dataclasses.replace(base, repeated_symptoms=base.repeated_symptoms | {extra})
    )
    assert RANK[repeated.level] >= RANK[before.level]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), conditions)
def test_adding_a_condition_never_lowers_the_level(base: Report, extra: str) -> None:
    before = evaluate(base)
    after = evaluate(dataclasses.replace(base, conditions=base.conditions | {extra}))
    assert RANK[after.level] >= RANK[before.level]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), st.sampled_from(EMERGENCY_SIGNS_1A))
def test_an_emergency_sign_is_an_emergency_whatever_else_is_reported(
    base: Report, sign: str
) -> None:
    result = evaluate(dataclasses.replace(base, symptoms=base.symptoms | {sign}))
    assert result.level == "emergency"
    assert result.stop_infusion == base.infusion_running


@settings(max_examples=200, deadline=None)
@given(reports())
def test_every_result_says_if_in_doubt_call_and_is_json(base: Report) -> None:
    result = evaluate(base)
    assert "If in doubt, call." in result.advice_en
    assert "Si tiene dudas, llame." in result.advice_es
    json.dumps(result_to_dict(result, "es"))
    if base.infusion_running and (base.symptoms or base.repeated_symptoms):
        assert result.level != "expected"


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["38 °C", "100.4 °F", "4 years", "2 g/kg", "2026-01-01", "kawasaki", "O+"]),
    st.dates(),
    st.datetimes(),
)
json_values = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)
report_keys = st.sampled_from([*list(triage.REPORT_KEYS), "bogus"])
patient_keys = st.sampled_from([*list(triage.PATIENT_KEYS), "bogus"])
course_keys = st.sampled_from([*list(triage.COURSE_KEYS), "bogus"])
documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "report": st.one_of(json_values, st.dictionaries(report_keys, json_values, max_size=6)),
            "patient": st.one_of(
                json_values, st.dictionaries(patient_keys, json_values, max_size=4)
            ),
            "course": st.one_of(json_values, st.dictionaries(course_keys, json_values, max_size=3)),
            "today": json_leaf,
            "bogus": json_leaf,
        },
    ),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_malformed_mappings_raise_only_the_input_error(doc: Any) -> None:
    try:
        parsed = report_from_mapping(doc)
    except TriageInputError as exc:
        assert exc.problems and all(p.field for p in exc.problems)
        for problem in exc.problems:
            assert problem.message  # printable
        return
    evaluate(parsed)  # a mapping that was accepted must also be evaluable


def test_docs_list_every_rule_and_symptom() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "triage.md").read_text(encoding="utf-8")
    ids = [rule.id for rule in DATA.rules] + [rule.id for rule in DATA.temperature_rules]
    for name in [*ids, DATA.patient_threshold.id]:
        assert f"| {name} |" in docs, name
    for name in DATA.symptoms:
        assert f"`{name}`" in docs, name


def test_docs_rule_tables_are_generated_from_the_current_data() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "triage_rule_tables.py"
    spec = importlib.util.spec_from_file_location("triage_rule_tables", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    docs = module.DOCS.read_text(encoding="utf-8")
    assert module.replace_tables(docs, module.rule_tables(DATA)) == docs, (
        "docs/triage.md is out of date: run python scripts/triage_rule_tables.py --write"
    )


def test_thrombosis_advanced_age_is_the_one_threshold_of_rules_toml() -> None:
    from ivig.core.checks import age_over_years

    factor = DATA.risk_factors["thrombosis_risk"]
    assert factor.age_over_rule == "thrombosis_advanced_age"
    assert factor.age_over_years == age_over_years("thrombosis_advanced_age")
    assert "age_over_years" not in _data_text().split("[risk_factors.thrombosis_risk]")[1][:600]
    assert DATA.risk_factors["renal_risk"].age_over_rule == "renal_risk"


def test_an_unknown_rules_section_for_an_age_is_refused_at_load() -> None:
    text = _data_text().replace(
        'age_over_rule = "thrombosis_advanced_age"', 'age_over_rule = "no_such_rule"', 1
    )
    with pytest.raises(TriageDataError, match="no_such_rule"):
        parse_triage_data(text)
