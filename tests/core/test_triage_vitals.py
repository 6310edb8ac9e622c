"""Vital signs triaged as they are recorded (issue 9 item 3, core half): a temperature is a
fever report with the same rules; heart rate, breathing rate, blood pressure and SpO2 against
the cited age bands of vitals.toml, saying "no cited bound" where none exists."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivig.core import infusion_checks as ic
from ivig.core import units
from ivig.core.triage import (
    LEVELS,
    TriageDataError,
    TriageInputError,
    VitalSigns,
    heading,
    result_to_dict,
    triage_vitals,
)
from ivig.core.triage.vitals import load_vitals_data, parse_vitals_data

RANK = {level: rank for rank, level in enumerate(LEVELS)}
D = Decimal


def months(years: int) -> Decimal:
    return D(years * 12)


def level(signs: VitalSigns, age_months: Decimal, **kw: object) -> str:
    kw.setdefault("during_infusion", False)
    kw.setdefault("hours_since_infusion_end", D(3))
    return triage_vitals(signs, age_months, **kw).level  # type: ignore[arg-type]


def celsius(text: str) -> Decimal:
    return units.temperature_c(units.parse_temperature(text, "temperature"))


# --- Temperature: a fever report with the same rules --------------------------------------------


def test_a_fever_typed_into_vitals_during_the_infusion_is_tell_the_nurse_now() -> None:
    result = triage_vitals(VitalSigns(temperature_c=celsius("101.3 F")), months(6),
                           during_infusion=True)  # fmt: skip
    assert result.level == "call_doctor"
    assert result.infusion_running
    assert heading(result) == "TELL THE NURSE NOW"
    assert {"T3", "T4"} <= {r.code for r in result.reasons}


def test_a_fever_in_a_baby_under_3_months_during_the_infusion_stops_it() -> None:
    result = triage_vitals(VitalSigns(temperature_c=celsius("38.0c")), D(2), during_infusion=True)
    assert result.level == "emergency" and result.stop_infusion


def test_a_normal_temperature_after_the_infusion_is_not_a_fever() -> None:
    assert level(VitalSigns(temperature_c=celsius("98.6 F")), months(6)) == "expected"


def test_an_adult_with_37_9_is_not_judged_by_the_infant_rules() -> None:
    result = triage_vitals(VitalSigns(temperature_c=celsius("37.9 C")), months(45),
                           during_infusion=False, hours_since_infusion_end=D(10))  # fmt: skip
    assert result.level == "call_doctor"  # Gammagard > 100 °F, not the infant emergency
    assert "T1" not in {r.code for r in result.reasons}


def test_vitals_without_an_age_are_refused_naming_the_field() -> None:
    with pytest.raises(TriageInputError) as caught:
        triage_vitals(VitalSigns(temperature_c=D("37.9")), None, during_infusion=True)
    assert caught.value.field == "age"
    with pytest.raises(TriageInputError):
        triage_vitals(VitalSigns(heart_rate_per_min=D(100)), None, during_infusion=False)


# --- Age-banded bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signs", "age_months", "expected"),
    [
        (VitalSigns(heart_rate_per_min=D(161)), D(6), "call_doctor"),  # NICE amber > 160
        (VitalSigns(heart_rate_per_min=D(160)), D(6), "expected"),
        (VitalSigns(heart_rate_per_min=D(109)), D(6), "call_doctor"),  # APLS < 110
        (VitalSigns(heart_rate_per_min=D(151)), D(18), "call_doctor"),
        (VitalSigns(heart_rate_per_min=D(141)), months(3), "call_doctor"),
        (VitalSigns(heart_rate_per_min=D(121)), months(8), "call_doctor"),
        (VitalSigns(heart_rate_per_min=D(101)), months(15), "call_doctor"),
        (VitalSigns(heart_rate_per_min=D(95)), months(40), "call_doctor"),  # NEWS2 91-110
        (VitalSigns(heart_rate_per_min=D(131)), months(40), "emergency"),  # NEWS2 3
        (VitalSigns(heart_rate_per_min=D(40)), months(40), "emergency"),
        (VitalSigns(heart_rate_per_min=D(72)), months(40), "expected"),
        (VitalSigns(breathing_rate_per_min=D(61)), D(4), "emergency"),  # NICE red
        (VitalSigns(breathing_rate_per_min=D(55)), D(4), "expected"),  # no amber < 6 months
        (VitalSigns(breathing_rate_per_min=D(51)), D(8), "call_doctor"),  # NICE amber
        (VitalSigns(breathing_rate_per_min=D(41)), months(2), "call_doctor"),
        (VitalSigns(breathing_rate_per_min=D(26)), months(8), "call_doctor"),  # APLS 20-25
        (VitalSigns(breathing_rate_per_min=D(25)), months(40), "emergency"),  # NEWS2 >= 25
        (VitalSigns(breathing_rate_per_min=D(8)), months(40), "emergency"),
        (VitalSigns(systolic_mmhg=D(77), diastolic_mmhg=D(40)), months(4), "emergency"),
        (VitalSigns(systolic_mmhg=D(78), diastolic_mmhg=D(40)), months(4), "expected"),
        (VitalSigns(systolic_mmhg=D(69), diastolic_mmhg=D(40)), D(6), "emergency"),
        (VitalSigns(systolic_mmhg=D(89), diastolic_mmhg=D(50)), months(14), "emergency"),
        (VitalSigns(systolic_mmhg=D(90), diastolic_mmhg=D(50)), months(40), "emergency"),
        (VitalSigns(systolic_mmhg=D(105), diastolic_mmhg=D(60)), months(40), "call_doctor"),
        (VitalSigns(systolic_mmhg=D(140), diastolic_mmhg=D(70)), months(9), "call_doctor"),
        (VitalSigns(systolic_mmhg=D(120), diastolic_mmhg=D(90)), months(15), "call_doctor"),
        (VitalSigns(systolic_mmhg=D(185), diastolic_mmhg=D(100)), months(40), "call_doctor"),
        (VitalSigns(systolic_mmhg=D(220), diastolic_mmhg=D(100)), months(40), "emergency"),
        (VitalSigns(spo2_percent=D(95)), months(2), "call_doctor"),  # NICE amber <= 95 %
        (VitalSigns(spo2_percent=D(96)), months(2), "expected"),
        (VitalSigns(spo2_percent=D(91)), months(40), "emergency"),  # NEWS2 <= 91
        (VitalSigns(spo2_percent=D(94)), months(40), "call_doctor"),
    ],
)
def test_readings_against_the_cited_age_bands(
    signs: VitalSigns, age_months: Decimal, expected: str
) -> None:
    assert level(signs, age_months) == expected


def test_every_finding_names_its_sources_and_they_are_listed() -> None:
    result = triage_vitals(VitalSigns(heart_rate_per_min=D(170)), months(8),
                           during_infusion=False, hours_since_infusion_end=D(2))  # fmt: skip
    doc = result_to_dict(result)
    reason = doc["reasons"][0]  # type: ignore[index]
    assert reason["code"] == "VITAL-HEART_RATE-ABOVE"
    assert "120" in reason["message"] and "5 to 12 years" in reason["message"]
    assert set(reason["sources"]) <= set(doc["sources"])  # type: ignore[arg-type]
    spanish = result_to_dict(result, "es")
    assert "5 a 12 años" in spanish["reasons"][0]["message"]  # type: ignore[index]


def test_where_no_bound_is_cited_the_result_says_so() -> None:
    result = triage_vitals(VitalSigns(spo2_percent=D(88), diastolic_mmhg=D(30),
                                      systolic_mmhg=D(100)), months(8),
                           during_infusion=False, hours_since_infusion_end=D(2))  # fmt: skip
    notes = " ".join(result.notes_en)
    assert "Oxygen saturation: no cited lower bound at this age (8 years)" in notes
    assert "Diastolic blood pressure: no cited lower bound" in notes
    assert any("no hay un límite" in n for n in result.notes_es)


def test_a_systolic_fall_of_more_than_30_percent_from_baseline_is_an_emergency() -> None:
    signs = VitalSigns(systolic_mmhg=D(115), diastolic_mmhg=D(70))
    assert level(signs, months(40), baseline_systolic_mmhg=D(170)) == "emergency"
    assert level(signs, months(40), baseline_systolic_mmhg=D(160)) == "expected"


def test_an_emergency_reading_during_the_infusion_stops_it() -> None:
    result = triage_vitals(VitalSigns(spo2_percent=D(90)), months(40), during_infusion=True)
    assert result.level == "emergency" and result.stop_infusion


@settings(max_examples=80, deadline=None)
@given(
    st.integers(20, 300), st.integers(4, 120), st.integers(50, 100),
    st.integers(0, 1000), st.booleans(),
)  # fmt: skip
def test_adding_a_reading_never_lowers_the_level(
    heart: int, breathing: int, spo2: int, age: int, running: bool
) -> None:
    age_months = D(age) / 4
    base = level(VitalSigns(heart_rate_per_min=D(heart)), age_months, during_infusion=running)
    more = level(
        VitalSigns(heart_rate_per_min=D(heart), breathing_rate_per_min=D(breathing),
                   spo2_percent=D(spo2)),
        age_months, during_infusion=running,
    )  # fmt: skip
    assert RANK[more] >= RANK[base]


# --- The data file and the entry guards -----------------------------------------------------------


def test_every_band_cites_a_known_source_and_the_guards_are_labelled_design_choice() -> None:
    data = load_vitals_data()
    assert data.bands
    for band in data.bands:
        assert band.sources and all(key in data.sources for key in band.sources)
    text = load_vitals_text()
    assert 'basis = "design choice: entry-error guard, not a clinical bound"' in text


def load_vitals_text() -> str:
    from importlib import resources

    return resources.files("ivig.data").joinpath("vitals.toml").read_text(encoding="utf-8")


def test_an_unknown_source_in_a_band_is_refused_at_load() -> None:
    text = load_vitals_text().replace('sources = ["APLS-FLEM"]', 'sources = ["NOPE"]', 1)
    with pytest.raises(TriageDataError, match="bands"):
        parse_vitals_data(text)


def test_parse_vitals_takes_its_entry_guards_from_the_data_and_gives_numbers() -> None:
    ok = ic.parse_vitals({"heart_rate": "300", "temperature": "101.3F", "blood_pressure": "105/65",
                          "spo2": "97", "breathing_rate": "22 /min"})  # fmt: skip
    assert not ok.errors
    assert ok.signs.heart_rate_per_min == 300
    assert ok.signs.systolic_mmhg == 105 and ok.signs.diastolic_mmhg == 65
    assert ok.signs.temperature_c == D("38.5")
    bad = ic.parse_vitals({"heart_rate": "301", "spo2": "49", "breathing_rate": "3"})
    assert set(bad.errors) == {"heart_rate", "spo2", "breathing_rate"}
    assert "between 20 and 300" in bad.errors["heart_rate"]
