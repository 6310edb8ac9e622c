"""The pure checks of the infusion log, against a real approved snapshot (no Django)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivig.core import infusion_checks as ic
from ivig.core.plan import build_plan
from ivig.core.units import QuantityError
from ivig.render.plan_json import plan_to_dict
from tests.core import builders


def snapshot(patient=None, **order):
    return plan_to_dict(build_plan(builders.document(patient, **order), today=date(2026, 11, 20)))


@pytest.fixture(scope="module")
def first():
    return snapshot()


def test_a_rate_within_the_plan_gives_the_planned_step_and_no_warning(first):
    check = ic.check_rate(first, 1, Decimal(5), "0.5 mL/kg/h")
    assert check.planned.step == 1 and check.warnings == () and not check.reason_required
    assert ic.check_rate(first, 1, Decimal(35), "1 mL/kg/h").planned.step == 2


def test_a_pump_rate_in_ml_h_is_compared_with_the_planned_pump_rate(first):
    planned = ic.planned_step_at(first, 1, Decimal(5))
    assert ic.check_rate(first, 1, Decimal(5), f"{planned.rate_ml_h} mL/h").warnings == ()
    check = ic.check_rate(first, 1, Decimal(5), "15 mL/h")
    assert check.codes() == ["above_plan"] and check.reason_required


def test_above_first_infusion_advice_and_label_maximum_name_their_sources(first):
    check = ic.check_rate(first, 1, Decimal(100), "2.2 mL/kg/h")
    assert check.codes() == ["above_plan", "above_first_infusion_advice"]
    assert "Cure JM" in check.warnings[1].source
    check = ic.check_rate(first, 1, Decimal(100), "3 mL/kg/h")
    assert check.codes() == ["above_plan", "above_first_infusion_advice", "above_label_max"]
    assert "Privigen" in check.warnings[2].message_en and "label" in check.warnings[2].source


def test_not_a_first_infusion_has_no_first_infusion_warning():
    later = snapshot({"first_infusion": False})
    assert (
        "above_first_infusion_advice"
        not in ic.check_rate(later, 1, Decimal(100), "2.2 mL/kg/h").codes()
    )


def test_a_product_switch_counts_as_a_first_infusion():
    switch = snapshot({"first_infusion": False, "previous_product": "gamunex_c"})
    assert (
        "above_first_infusion_advice"
        in ic.check_rate(switch, 1, Decimal(100), "2.2 mL/kg/h").codes()
    )


@pytest.mark.parametrize("text", ["2", "2 mg", "fast", "2,5 mL/kg/h"])
def test_bad_rates_are_refused_with_the_field_named(first, text):
    with pytest.raises(QuantityError) as info:
        ic.check_rate(first, 1, Decimal(0), text)
    assert info.value.field == "rate"


def test_vitals_with_units_and_every_bad_field_named():
    vitals = ic.parse_vitals(
        {
            "temperature": "100.4 °F",
            "heart_rate": "120 /min",
            "blood_pressure": "105/65 mmHg",
            "spo2": "97 %",
            "breathing_rate": "22",
        }
    )
    assert vitals.errors == {} and vitals.temperature_c == Decimal(38)
    assert vitals.values["temperature"].startswith("100.4 °F")
    bad = ic.parse_vitals(
        {
            "temperature": "38",
            "heart_rate": "fast",
            "blood_pressure": "65/105",
            "spo2": "120",
            "breathing_rate": "0",
        }
    )
    assert set(bad.errors) == set(ic.VITAL_FIELDS)
    assert "unit" in bad.errors["temperature"]
    assert ic.parse_vitals({}).errors == {"__all__": "enter at least one reading"}


def test_checkins_72_hours_for_everyone_and_extra_ones_per_tier(first):
    later = snapshot({"first_infusion": False, "blood_group": "O+"}, dose="0.4 g/kg", days=1)
    tiers = ic.checkin_tiers(later)
    assert tiers[0] == "standard" and "elevated" not in tiers
    hours = [c.hours for c in ic.checkin_schedule(tiers)]
    assert Decimal(72) in hours and Decimal(12) not in hours
    first_hours = [c.hours for c in ic.checkin_schedule(ic.checkin_tiers(first))]
    assert {Decimal(2), Decimal(12), Decimal(72)} <= set(first_hours)
    assert first_hours == sorted(first_hours)


def test_volumes_actual_and_planned(first):
    assert ic.delivered_ml(
        [(Decimal(0), Decimal(60)), (Decimal(30), Decimal(0))], Decimal(60)
    ) == Decimal(30)
    steps = ic.planned_steps(first, 1)
    assert ic.planned_cumulative_ml(first, 1, steps[-1].end_min) == sum(
        s.rate_ml_h * (s.end_min - s.start_min) / 60 for s in steps
    )


def test_hydration_windows_have_words_and_a_source():
    windows = ic.hydration_windows()
    assert [w.name for w in windows] == ["before", "during", "after"]
    assert all("Cure JM" in w.source and w.en and w.es for w in windows)
    assert ic.hydration_volume_ml("1 L") == Decimal(1000)
    with pytest.raises(QuantityError):
        ic.hydration_volume_ml("250")


_minute = st.decimals(min_value=0, max_value=600, places=1)
_rate = st.decimals(min_value=0, max_value=300, places=1)


@given(
    changes=st.lists(st.tuples(_minute, _rate), max_size=12),
    minutes=st.lists(_minute, max_size=8),
)
def test_delivered_ml_at_many_minutes_equals_one_minute_at_a_time(changes, minutes):
    """The one-pass version the timeline page uses gives exactly the per-minute sums."""
    assert ic.delivered_ml_at(changes, minutes) == [ic.delivered_ml(changes, m) for m in minutes]
