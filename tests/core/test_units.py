"""The units module: the one place quantities are parsed and converted."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivig.core import units
from ivig.core.units import Kind, QuantityError, RateKind


def test_pounds_convert_exactly_to_kilograms() -> None:
    q = units.parse("44 lb", "patient.weight", Kind.MASS)
    assert units.mass_kg(q) == Decimal("19.958064280000")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0.5 mL/kg/h", RateKind.ML_KG_H),
        ("0.01 mL/kg/min", RateKind.ML_KG_H),
        ("0.5 mL/kg/hr", RateKind.ML_KG_H),
        ("1 mg/kg/min", RateKind.MG_KG_MIN),
        ("30 mL/h", RateKind.ML_H),
        ("30 ml/hr", RateKind.ML_H),
    ],
)
def test_rates_in_every_label_unit_are_accepted(text: str, kind: RateKind) -> None:
    assert units.rate_kind(units.parse(text, "rate", Kind.RATE)) is kind


def test_label_conversions_for_a_ten_percent_product() -> None:
    # 1 mg/kg/min of a 10% product = 0.01 mL/kg/min = 0.6 mL/kg/h (product reference)
    q = units.parse("1 mg/kg/min", "rate", Kind.RATE)
    assert units.rate_to_ml_kg_h(q, Decimal(100), None) == Decimal("0.6")
    q = units.parse("0.01 mL/kg/min", "rate", Kind.RATE)
    assert units.rate_to_ml_kg_h(q, Decimal(100), None) == Decimal("0.6")
    # and for a 5% product 1 mg/kg/min = 1.2 mL/kg/h
    q = units.parse("1 mg/kg/min", "rate", Kind.RATE)
    assert units.rate_to_ml_kg_h(q, Decimal(50), None) == Decimal("1.2")


def test_a_fixed_pump_rate_needs_the_weight_and_mg_rates_need_the_concentration() -> None:
    assert units.rate_to_ml_kg_h(units.parse("30 mL/h", "r", Kind.RATE), Decimal(100), None) is None
    assert units.rate_to_ml_kg_h(units.parse("1 mg/kg/min", "r", Kind.RATE), None, None) is None
    assert units.rate_to_ml_kg_h(
        units.parse("30 mL/h", "r", Kind.RATE), None, Decimal(20)
    ) == Decimal("1.5")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (20, "a number without a unit is not accepted"),
        ("20", "the unit is missing"),
        ("20 blorps", "unknown unit"),
        ("20 furlongs", "not the right kind of unit"),
        ("20 mL", "not the right kind of unit"),
        ("1,5 kg", "decimal separator"),
        ("kg 20", "does not start with a plain number"),
        (None, "expected text with a number and a unit"),
        (True, "expected text with a number and a unit"),
    ],
)
def test_bad_quantities_name_the_field_the_value_and_what_is_accepted(
    value: object, problem: str
) -> None:
    with pytest.raises(QuantityError) as info:
        units.parse(value, "patient.weight", Kind.MASS)
    message = str(info.value)
    assert message.startswith("patient.weight: ")
    assert problem in message
    assert repr(value) in message
    assert '"44 lb"' in message  # what is accepted


def test_a_dose_per_kg_is_not_a_bare_number_or_a_percentage() -> None:
    assert units.grams_per_kg(units.parse("2 g/kg", "d", Kind.DOSE_PER_KG)) == 2
    assert units.grams_per_kg(units.parse("400 mg/kg", "d", Kind.DOSE_PER_KG)) == Decimal("0.4")
    for text in ("2 %", "2 kg/kg/day", "2 g"):
        with pytest.raises(QuantityError):
            units.parse(text, "order.dose", Kind.DOSE_PER_KG)


def test_temperatures_in_both_scales() -> None:
    f = units.parse("100.4 °F", "t", Kind.TEMPERATURE)
    assert units.round_half_up(units.temperature_c(f), 1) == Decimal("38.0")
    assert units.temperature_c(units.parse("38.5 degC", "t", Kind.TEMPERATURE)) == Decimal("38.5")


def test_pump_rate_is_rounded_down_never_up() -> None:
    assert units.pump_rate_ml_h(Decimal("97.99")) == Decimal("97.9")
    assert units.pump_rate_ml_h(Decimal("98.0")) == Decimal("98.0")


rates = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("20"), places=3)
concentrations = st.sampled_from([Decimal(50), Decimal(100), Decimal(120), Decimal(30)])


@given(rates, concentrations)
def test_mg_kg_min_and_ml_kg_h_round_trip(rate: Decimal, conc: Decimal) -> None:
    there = units.ml_kg_h_from_mg_kg_min(rate, conc)
    back = units.mg_kg_min_from_ml_kg_h(there, conc)
    assert abs(back - rate) <= Decimal("1e-11")


@given(st.decimals(min_value=Decimal("0.1"), max_value=Decimal("400"), places=2))
def test_mass_round_trip_through_pounds(kg: Decimal) -> None:
    q = units.parse(f"{kg} kg", "w", Kind.MASS)
    lb = q.to("lb")
    back = units.mass_kg(units.parse(f"{lb} lb", "w", Kind.MASS))
    assert abs(back - kg) <= Decimal("1e-9")


@given(
    st.one_of(
        st.text(max_size=30),
        st.integers(),
        st.floats(allow_nan=True),
        st.none(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_any_malformed_input_gives_a_quantity_error_never_a_traceback(value: object) -> None:
    for kind in Kind:
        try:
            units.parse(value, "field", kind)
        except QuantityError as exc:
            assert exc.field == "field"
