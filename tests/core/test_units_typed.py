"""What people type: temperatures without the degree sign, drinks in oz and cups, daily limits.

One parser in ivig.core.units for every surface (CLI, web, JSON); these tests are its contract.
"""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivig.core import units
from ivig.core.units import Kind, QuantityError


@pytest.mark.parametrize(
    "text",
    [
        "101.3 F",
        "101.3F",
        "101.3 f",
        "101.3°f",
        "101.3 °F",
        "101.3 degF",
        "101.3 deg F",
        "101.3 ºF",
        "101.3 Fahrenheit",
        "101.3 grados F",
        " 101.3  F ",
    ],
)
def test_fahrenheit_with_or_without_the_degree_sign(text: str) -> None:
    assert units.temperature_c(units.parse_temperature(text, "temperature")) == Decimal("38.5")


@pytest.mark.parametrize(
    "text",
    [
        "38.5 C",
        "38.5c",
        "38.5 °C",
        "38.5°c",
        "38.5 degC",
        "38.5 ºC",
        "38.5 celsius",
        "38.5 Celsius",
        "38.5 grados centígrados",
        "38.5 grados C",
    ],
)
def test_celsius_with_or_without_the_degree_sign(text: str) -> None:
    assert units.temperature_c(units.parse_temperature(text, "temperature")) == Decimal("38.5")


@pytest.mark.parametrize("text", ["38.5", "38.5 K", "38.5 coulomb", "38.5 grados", "hot"])
def test_a_temperature_without_a_known_unit_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(QuantityError) as caught:
        units.parse_temperature(text, "vitals.temperature")
    assert caught.value.field == "vitals.temperature"
    assert caught.value.given == text
    assert "°C or °F" in caught.value.accepted


@pytest.mark.parametrize(
    ("text", "ml"),
    [
        ("250 mL", "250"),
        ("250ml", "250"),
        ("250 cc", "250"),
        ("0.5 L", "500"),
        ("1 litre", "1000"),
        ("8 oz", "240"),
        ("8oz", "240"),
        ("8 fl oz", "240"),
        ("8 fl. oz", "240"),
        ("8 ounces", "240"),
        ("1 cup", "240"),
        ("1.5 cups", "360"),
        ("2 tazas", "480"),
        ("6 onzas", "180"),
    ],
)
def test_drinks_in_ml_litres_ounces_and_cups(text: str, ml: str) -> None:
    assert units.ml(units.parse_drink_volume(text, "drink")) == Decimal(ml)


def test_the_cup_and_the_ounce_are_the_nutrition_label_ones_with_their_source() -> None:
    cup = units.HOUSEHOLD_UNITS["cup"]
    ounce = units.HOUSEHOLD_UNITS["fluid_ounce"]
    assert (cup.ml, ounce.ml) == (Decimal(240), Decimal(30))
    for unit in (cup, ounce):
        source = units.UNIT_SOURCES[unit.source]
        assert "101.9" in source["document"] and "(b)(5)(viii)" in source["section"]


@pytest.mark.parametrize(
    ("text", "ml_per_day"),
    [
        ("1200 mL/day", "1200"),
        ("1200 ml / day", "1200"),
        ("1.2 L/day", "1200"),
        ("1.2 l/d", "1200"),
        ("40 oz/day", "1200"),
        ("5 cups/day", "1200"),
        ("1.5 L per day", "1500"),
        ("1 L a day", "1000"),
        ("1200 mL daily", "1200"),
        ("1200 mL/24 h", "1200"),
        ("1,2".replace(",", ".") + " litros por día", "1200"),
    ],
)
def test_limits_per_day(text: str, ml_per_day: str) -> None:
    assert units.ml_per_day(units.parse_volume_per_day(text, "fluid_limit")) == Decimal(ml_per_day)


@pytest.mark.parametrize(
    ("text", "kind", "problem"),
    [
        ("1200 mL", Kind.VOLUME_PER_DAY, "per day"),
        ("1200", Kind.VOLUME_PER_DAY, "unit is missing"),
        ("8 lb", Kind.DRINK_VOLUME, "unknown drink unit"),
        ("8", Kind.DRINK_VOLUME, "unit is missing"),
        ("0 mL", Kind.DRINK_VOLUME, "more than zero"),
        ("-250 mL", Kind.DRINK_VOLUME, "more than zero"),
        ("6 L", Kind.DRINK_VOLUME, "entry-error guard"),
        ("300 oz", Kind.DRINK_VOLUME, "entry-error guard"),
        ("30 L/day", Kind.VOLUME_PER_DAY, "entry-error guard"),
        ("99999999999 mL", Kind.DRINK_VOLUME, "too large"),
        ("1e9 mL", Kind.DRINK_VOLUME, "in full"),
        ("1" * 120 + " mL", Kind.DRINK_VOLUME, "too long"),
        ("1,200 mL/day", Kind.VOLUME_PER_DAY, "decimal separator"),
        ("999999999999999999999 F", Kind.TEMPERATURE, "too large"),
    ],
)
def test_bad_drinks_limits_and_absurd_numbers_are_clear_errors(
    text: str, kind: Kind, problem: str
) -> None:
    with pytest.raises(QuantityError) as caught:
        units.parse(text, "hydration.amount", kind)
    assert problem in caught.value.problem
    assert caught.value.field == "hydration.amount"
    assert str(caught.value).startswith("hydration.amount: ")


@given(
    st.text(max_size=80),
    st.sampled_from([Kind.TEMPERATURE, Kind.DRINK_VOLUME, Kind.VOLUME_PER_DAY]),
)
def test_any_text_is_a_quantity_or_a_clear_error_never_an_exception(text: str, kind: Kind) -> None:
    try:
        units.parse(text, "field", kind)
    except QuantityError as exc:
        assert exc.field == "field"


@given(
    st.decimals(min_value=Decimal("-1e30"), max_value=Decimal("1e30"), places=3),
    st.sampled_from(["F", "c", "mL", "oz", "cup", "L/day"]),
)
def test_huge_numbers_with_any_unit_are_handled(number: Decimal, unit: str) -> None:
    for kind in (Kind.TEMPERATURE, Kind.DRINK_VOLUME, Kind.VOLUME_PER_DAY):
        try:
            quantity = units.parse(f"{number:f} {unit}", "field", kind)
        except QuantityError as exc:
            assert exc.field == "field"
        else:
            assert quantity.magnitude.is_finite()
