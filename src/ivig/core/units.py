"""The one place where quantities are parsed and converted.

Every quantity that enters the program is text with a unit ("44 lb", "0.5 mL/kg/h", "2 g/kg").
It is parsed here with one pint registry (exact ``Decimal`` arithmetic) and checked against the
*kind* of quantity the field accepts. A bare number, an unknown unit or a unit of the wrong kind
raises :class:`QuantityError`, which names the field, what was given and what is accepted.

Once inside the core, numbers are plain ``Decimal`` values whose names carry their unit
(``weight_kg``, ``rate_ml_kg_h``). The conversions between rate units, which need the product's
concentration or the patient's weight, also live here so that there is exactly one place where a
unit is turned into another.
"""

from __future__ import annotations

import calendar
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import Enum
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import pint

_REGISTRY: Any = pint.UnitRegistry(non_int_type=Decimal, cache_folder=None)
_Q = _REGISTRY.Quantity
UNITS_DATA_FILE = "units.toml"


@dataclass(frozen=True)
class HouseholdUnit:
    """A household volume unit people type (cup, fluid ounce): its size in mL and its source."""

    name: str
    ml: Decimal
    words: tuple[str, ...]
    en: str
    es: str
    source: str


@dataclass(frozen=True)
class EntryGuards:
    """Entry-error guards of the parser (design choice, labelled as such in units.toml)."""

    max_text_length: int
    drink_volume_max_text: str
    volume_per_day_max_text: str


def _units_data() -> dict[str, Any]:
    text = resources.files("ivig.data").joinpath(UNITS_DATA_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


_RAW_UNITS = _units_data()
HOUSEHOLD_UNITS: dict[str, HouseholdUnit] = {
    name: HouseholdUnit(
        name=name,
        ml=Decimal(str(table["ml"])),
        words=tuple(table["words"]),
        en=str(table["en"]),
        es=str(table["es"]),
        source=str(table["source"]),
    )
    for name, table in _RAW_UNITS["household"].items()
}
UNIT_SOURCES: dict[str, dict[str, str]] = dict(_RAW_UNITS["sources"])
ENTRY_GUARDS = EntryGuards(
    max_text_length=int(_RAW_UNITS["entry_guards"]["max_text_length"]),
    drink_volume_max_text=str(_RAW_UNITS["entry_guards"]["drink_volume_max"]),
    volume_per_day_max_text=str(_RAW_UNITS["entry_guards"]["volume_per_day_max"]),
)
for _unit in HOUSEHOLD_UNITS.values():
    for _key in (_unit.source,):
        if _key not in UNIT_SOURCES:  # pragma: no cover - checked by the data test
            raise RuntimeError(f"units.toml: unknown source {_key!r} for {_unit.name}")
    # pint unit names such as "label_cup": the label definition, one place.
    _REGISTRY.define(f"label_{_unit.name} = {_unit.ml} * milliliter")

# A number: optional sign, digits with an optional decimal point. Scientific notation, commas
# and fractions are refused on purpose: a dose should be typed the way it is read aloud.
_NUMBER = re.compile(r"^\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>.*?)\s*$")


class QuantityError(ValueError):
    """Bad input for one field: names the field, what was given and what is accepted."""

    def __init__(self, field: str, given: object, accepted: str, problem: str) -> None:
        self.field = field
        self.given = given
        self.accepted = accepted
        self.problem = problem
        super().__init__(f"{field}: {problem}. Given: {given!r}. Accepted: {accepted}.")


class Kind(Enum):
    """What a field accepts. The value is the plain-words description used in messages."""

    MASS = 'a body weight with a mass unit, e.g. "20 kg" or "44 lb"'
    LENGTH = 'a height with a length unit, e.g. "112 cm" or "44 in"'
    DOSE_PER_KG = 'a dose per kg of body weight, e.g. "2 g/kg" or "400 mg/kg"'
    DOSE_PER_KG_PER_DAY = 'a daily dose per kg, e.g. "400 mg/kg/day" or "1 g/kg/day"'
    DOSE_FIXED = 'a fixed dose in grams, e.g. "40 g"'
    DOSE_FIXED_PER_DAY = 'a fixed daily dose, e.g. "20 g/day"'
    RATE = (
        "an infusion rate in mL/kg/h, mL/kg/min, mg/kg/min or a pump rate in mL/h, "
        'e.g. "0.5 mL/kg/h", "0.01 mL/kg/min", "1 mg/kg/min" or "30 mL/h"'
    )
    VOLUME = 'a volume, e.g. "250 mL"'
    VOLUME_PER_KG = 'a volume per kg of body weight, e.g. "10 mL/kg"'
    CONCENTRATION = 'a concentration, e.g. "100 mg/mL"'
    TEMPERATURE = 'a temperature in °C or °F, e.g. "38.2 °C" or "100.4 °F"'
    DURATION = 'a duration, e.g. "30 min" or "2 h"'
    BMI = 'a body-mass index, e.g. "30 kg/m**2"'
    AGE = 'an age with its unit, e.g. "6 years" or "18 months"'
    MASS_CONCENTRATION_SMALL = 'a content per mL, e.g. "25 µg/mL"'
    DRINK_VOLUME = (
        'a drink in mL, L, US fl oz (30 mL) or US cups (240 mL), e.g. "250 mL", "8 oz", "1 cup"'
    )
    VOLUME_PER_DAY = 'a fluid limit per day, e.g. "1200 mL/day", "1.2 L/day" or "40 oz/day"'
    IGG_LEVEL = 'an IgG level with its unit, e.g. "7.5 g/L" or "750 mg/dL"'


class RateKind(Enum):
    """How a rate was written. Pumps take mL/h; labels use the other three."""

    ML_KG_H = "mL/kg/h"  # volume per kg per time
    MG_KG_MIN = "mg/kg/min"  # mass per kg per time
    ML_H = "mL/h"  # a fixed pump rate, independent of weight


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity: exact magnitude, its unit as pint understands it, and the text given."""

    magnitude: Decimal
    unit: str
    text: str

    def to(self, unit: str) -> Decimal:
        """The magnitude in another unit of the same dimension (exact Decimal)."""
        return _convert(self.magnitude, self.unit, unit)

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=512)
def _parse_unit(unit_text: str) -> tuple[str, str, str]:
    """Parse a unit once; return (canonical unit string, numerator dims, denominator dims)."""
    unit = _REGISTRY.parse_units(unit_text)
    numerator = _REGISTRY.UnitsContainer({})
    denominator = _REGISTRY.UnitsContainer({})
    for name, exponent in unit._units.items():
        dims = _REGISTRY.get_dimensionality(name)
        if exponent > 0:
            numerator = numerator * dims**exponent
        else:
            denominator = denominator * dims ** (-exponent)
    return str(unit), _dims_text(numerator), _dims_text(denominator)


def canonical_unit(unit_text: str) -> str:
    """pint's canonical spelling of a unit ("mL/kg/hr" -> "milliliter / hour / kilogram")."""
    return _parse_unit(_normalise_unit_text(unit_text))[0]


def _dims_text(container: Any) -> str:
    return " * ".join(
        f"{name} ** {exp}" if exp != 1 else name for name, exp in sorted(container.items())
    )


def parse(value: object, field: str, kind: Kind) -> Quantity:
    """Parse text such as "44 lb" into a Quantity of the given kind, or raise QuantityError."""
    accepted = kind.value
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            raise QuantityError(field, value, accepted, "a number without a unit is not accepted")
        raise QuantityError(field, value, accepted, "expected text with a number and a unit")
    if len(value) > ENTRY_GUARDS.max_text_length:
        shown = value[: ENTRY_GUARDS.max_text_length] + "…"
        raise QuantityError(field, shown, accepted, "this is too long to be one quantity")
    if "," in value:
        problem = "use a point as the decimal separator and no thousands separator"
        raise QuantityError(field, value, accepted, problem)
    match = _NUMBER.match(value)
    if not match:
        raise QuantityError(field, value, accepted, "this does not start with a plain number")
    unit_text = match.group("unit")
    if not unit_text:
        raise QuantityError(field, value, accepted, "the unit is missing")
    if re.match(r"[eE][-+]?\d", unit_text):
        raise QuantityError(field, value, accepted, "write the number in full (no 1e9 notation)")
    if kind in _TYPED_UNIT_READERS:
        unit_text = _TYPED_UNIT_READERS[kind](field, value, accepted, unit_text)
    try:
        magnitude = Decimal(match.group("number"))
    except InvalidOperation as exc:  # pragma: no cover - the regex only lets digits through
        raise QuantityError(field, value, accepted, "the number is not valid") from exc
    try:
        unit, numerator, denominator = _parse_unit(_normalise_unit_text(unit_text))
    except Exception as exc:  # pint's parser can fail in many ways (even with
        # AssertionError on unbalanced brackets, found by the property test): all mean "unknown".
        raise QuantityError(field, value, accepted, f"unknown unit {unit_text!r}") from exc
    if (numerator, denominator) not in _allowed(kind):
        raise QuantityError(
            field, value, accepted, f"{unit_text!r} is not the right kind of unit for this field"
        )
    if not magnitude.is_finite():  # pragma: no cover - the regex refuses inf/nan
        raise QuantityError(field, value, accepted, "the number is not finite")
    _check_size(magnitude, unit, (numerator, denominator), kind, field, value)
    quantity = Quantity(magnitude=magnitude, unit=unit, text=value.strip())
    if kind in (Kind.DRINK_VOLUME, Kind.VOLUME_PER_DAY):
        _check_volume_guard(quantity, field, value, kind)
    return quantity


# --- What people type: temperatures without the degree sign, drinks in oz and cups ------------


def _plain_unit_words(text: str) -> str:
    """Lower case, no accents, one space between words, degree/ordinal signs removed."""
    text = text.replace("º", " ").replace("°", " ").replace("˚", " ")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text.strip().lower())


_CELSIUS_WORDS = frozenset(
    {
        "c",
        "degc",
        "deg c",
        "degree c",
        "degrees c",
        "celsius",
        "degree celsius",
        "degrees celsius",
        "deg celsius",
        "centigrade",
        "degrees centigrade",
        "grados c",
        "grados celsius",
        "grados centigrados",
        "grado c",
        "grado celsius",
    }
)
_FAHRENHEIT_WORDS = frozenset(
    {
        "f",
        "degf",
        "deg f",
        "degree f",
        "degrees f",
        "fahrenheit",
        "degree fahrenheit",
        "degrees fahrenheit",
        "deg fahrenheit",
        "grados f",
        "grados fahrenheit",
        "grado f",
        "grado fahrenheit",
    }
)


def _temperature_unit(field: str, value: object, accepted: str, unit_text: str) -> str:
    """ "°C", "C", "c", "degC", "celsius", "° f" ... -> degC / degF (pint reads "C" as coulomb)."""
    words = _plain_unit_words(unit_text)
    if words in _CELSIUS_WORDS:
        return "degC"
    if words in _FAHRENHEIT_WORDS:
        return "degF"
    raise QuantityError(field, value, accepted, f"unknown temperature unit {unit_text!r}")


_METRIC_VOLUME_WORDS = {
    "ml": "milliliter",
    "mls": "milliliter",
    "cc": "milliliter",
    "milliliter": "milliliter",
    "milliliters": "milliliter",
    "millilitre": "milliliter",
    "millilitres": "milliliter",
    "mililitro": "milliliter",
    "mililitros": "milliliter",
    "l": "liter",
    "lt": "liter",
    "ltr": "liter",
    "liter": "liter",
    "liters": "liter",
    "litre": "liter",
    "litres": "liter",
    "litro": "liter",
    "litros": "liter",
}
_PER_DAY = re.compile(
    r"^(?P<volume>.*?)\s*(?:/\s*(?:day|d|24\s*h|24\s*hours?|dia)|\s+(?:per|a|each|al|por)\s+"
    r"(?:day|dia)|\s+daily|\s+diarios?|\s+diarias?)$"
)


def _volume_unit_name(words: str) -> str | None:
    if words in _METRIC_VOLUME_WORDS:
        return _METRIC_VOLUME_WORDS[words]
    for unit in HOUSEHOLD_UNITS.values():
        if words in unit.words:
            return f"label_{unit.name}"
    return None


def _drink_unit(field: str, value: object, accepted: str, unit_text: str) -> str:
    name = _volume_unit_name(_plain_unit_words(unit_text))
    if name is None:
        raise QuantityError(field, value, accepted, f"unknown drink unit {unit_text!r}")
    return name


def _per_day_unit(field: str, value: object, accepted: str, unit_text: str) -> str:
    match = _PER_DAY.match(_plain_unit_words(unit_text))
    if not match:
        raise QuantityError(field, value, accepted, 'say it is per day, e.g. "1200 mL/day"')
    name = _volume_unit_name(match.group("volume").strip())
    if name is None:
        raise QuantityError(field, value, accepted, f"unknown volume unit in {unit_text!r}")
    return f"{name}/day"


_TYPED_UNIT_READERS = {
    Kind.TEMPERATURE: _temperature_unit,
    Kind.DRINK_VOLUME: _drink_unit,
    Kind.VOLUME_PER_DAY: _per_day_unit,
}


def _check_volume_guard(quantity: Quantity, field: str, value: object, kind: Kind) -> None:
    if quantity.magnitude <= 0:
        raise QuantityError(field, value, kind.value, "must be more than zero")
    if kind is Kind.DRINK_VOLUME:
        limit_text, unit = ENTRY_GUARDS.drink_volume_max_text, "mL"
        limit = parse(limit_text, "units.toml entry_guards.drink_volume_max", Kind.VOLUME)
    else:
        limit_text, unit = ENTRY_GUARDS.volume_per_day_max_text, "mL/day"
        limit = _parse_plain(limit_text, "units.toml entry_guards.volume_per_day_max")
    if quantity.to(unit) > limit.to(unit):
        raise QuantityError(
            field,
            value,
            f"{kind.value}; at most {limit_text}",
            "this is more than anyone drinks (entry-error guard): check the number and unit",
        )


def _parse_plain(text: str, field: str) -> Quantity:
    match = _NUMBER.match(text)
    assert match is not None
    unit, _, _ = _parse_unit(match.group("unit"))
    return Quantity(magnitude=Decimal(match.group("number")), unit=unit, text=text)


def parse_temperature(value: object, field: str) -> Quantity:
    """A temperature as people type it: "101.3 F", "101.3F", "38.5 C", "38.5c", "101.3°f",
    "101.3 degF", "38 ºC". Raises QuantityError naming the field, what was given and accepted."""
    return parse(value, field, Kind.TEMPERATURE)


def parse_drink_volume(value: object, field: str) -> Quantity:
    """A drink: "250 mL", "0.5 L", "8 oz", "1 cup" (US label cup 240 mL, fl oz 30 mL)."""
    return parse(value, field, Kind.DRINK_VOLUME)


def parse_volume_per_day(value: object, field: str) -> Quantity:
    """A fluid limit per day: "1200 mL/day", "1.2 L/day", "40 oz/day", "1.5 L per day"."""
    return parse(value, field, Kind.VOLUME_PER_DAY)


def ml_per_day(quantity: Quantity) -> Decimal:
    return quantity.to("mL/day")


def temperature_f(quantity: Quantity) -> Decimal:
    return quantity.to("degF")


# Design choice (no clinical source): no real weight, height, dose, rate, volume, time or
# concentration in this program is above a billion or below a millionth of the field's usual
# unit (kg, cm, g/kg, mL/kg/h, mg/kg/min, mL/h, mL, min, mg/mL...). A number outside that range is
# a typing slip or a probe, and refusing it here keeps every later calculation inside Decimal's
# 28 significant digits (a 30-digit weight used to end in decimal.InvalidOperation, a 1e-13 dose
# in an empty schedule). The range is far wider than any clinical bound, which the checks apply.
SIZE_MAX = Decimal(10) ** 9
SIZE_MIN = Decimal(10) ** -6


def _check_size(
    magnitude: Decimal,
    unit: str,
    dims: tuple[str, str],
    kind: Kind,
    field: str,
    value: str,
) -> None:
    usual = next(u for u in _EXAMPLE_UNITS[kind] if _parse_unit(u)[1:] == dims)
    factor = _factor(unit, usual)
    with localcontext() as ctx:
        ctx.prec = 80  # enough for any number the regex lets through, times any unit factor
        if factor is None:  # °C / °F: offset units, converted by pint
            in_usual = Decimal(_Q(magnitude, unit).to(usual).magnitude)
        else:
            in_usual = magnitude * factor
    accepted = f"{kind.value}; between {SIZE_MIN:f} and {SIZE_MAX:,f} {usual}"
    if abs(in_usual) > SIZE_MAX:
        raise QuantityError(field, value, accepted, "the number is too large to be real")
    if in_usual != 0 and abs(in_usual) < SIZE_MIN and factor is not None:
        raise QuantityError(field, value, accepted, "the number is too small to be real")


def _normalise_unit_text(text: str) -> str:
    # "°C" and "°F" are read by pint; "ºC" (ordinal sign, common on Spanish keyboards) is not.
    text = text.replace("º", "°").replace("μ", "µ")
    # "mL/kg/hr" and friends are already understood; "per" is not, so spell it as a slash.
    return re.sub(r"\s+per\s+", "/", text.strip())


@cache
def _allowed(kind: Kind) -> frozenset[tuple[str, str]]:
    """The (numerator, denominator) dimension texts a kind accepts, derived from example units."""
    return frozenset(_parse_unit(example)[1:] for example in _EXAMPLE_UNITS[kind])


_EXAMPLE_UNITS: dict[Kind, tuple[str, ...]] = {
    Kind.MASS: ("kg",),
    Kind.LENGTH: ("cm",),
    Kind.DOSE_PER_KG: ("g/kg",),
    Kind.DOSE_PER_KG_PER_DAY: ("g/kg/day",),
    Kind.DOSE_FIXED: ("g",),
    Kind.DOSE_FIXED_PER_DAY: ("g/day",),
    Kind.RATE: ("mL/kg/h", "mg/kg/min", "mL/h"),
    Kind.VOLUME: ("mL",),
    Kind.VOLUME_PER_KG: ("mL/kg",),
    Kind.CONCENTRATION: ("mg/mL",),
    Kind.TEMPERATURE: ("degC",),
    Kind.DURATION: ("min",),
    Kind.AGE: ("year",),
    Kind.BMI: ("kg/m**2",),
    Kind.MASS_CONCENTRATION_SMALL: ("µg/mL",),
    Kind.DRINK_VOLUME: ("mL",),
    Kind.VOLUME_PER_DAY: ("mL/day",),
    Kind.IGG_LEVEL: ("g/L",),
}


def parse_any(value: object, field: str, kinds: tuple[Kind, ...]) -> tuple[Kind, Quantity]:
    """Parse a value that may be one of several kinds (e.g. a dose per kg, per day or fixed)."""
    last: QuantityError | None = None
    for kind in kinds:
        try:
            return kind, parse(value, field, kind)
        except QuantityError as exc:
            last = exc
            if "not the right kind" not in exc.problem:
                break
    assert last is not None
    accepted = "; or ".join(k.value for k in kinds)
    raise QuantityError(field, value, accepted, last.problem)


# pint's factors for minutes and hours are Decimal fractions such as 1/60 = 0.01666…7, which leave
# noise in the 28th digit (6 mg/kg/min would come back as 6.000…001). Every conversion is therefore
# quantized to 12 decimal places: exact for every real dose and rate, and free of that noise.
CONVERSION_PLACES = Decimal("1e-12")


@lru_cache(maxsize=1024)
def _factor(from_unit: str, to_unit: str) -> Decimal | None:
    """pint's exact conversion factor between two multiplicative units (None for offset units
    such as °C and °F, which pint converts itself). Cached: parsing unit names is the slow part."""
    one = _Q(Decimal(1), from_unit)
    if not one._is_multiplicative:
        return None
    return Decimal(one.to(to_unit).magnitude)


def _convert(magnitude: Decimal, from_unit: str, to_unit: str) -> Decimal:
    factor = _factor(from_unit, to_unit)
    if factor is None:
        result = Decimal(_Q(magnitude, from_unit).to(to_unit).magnitude)
    else:
        result = magnitude * factor
    if result.adjusted() >= 28 - 12 - 1:
        # Too many digits for quantize in the default context (it would raise InvalidOperation):
        # parse() keeps inputs far below this, but a product of two inputs may not be.
        with localcontext() as ctx:
            ctx.prec = max(28, result.adjusted() + 14)
            return result.quantize(CONVERSION_PLACES, rounding=ROUND_HALF_UP)
    return result.quantize(CONVERSION_PLACES, rounding=ROUND_HALF_UP)


def rate_kind(quantity: Quantity) -> RateKind:
    """Which of the three rate systems a parsed RATE quantity is written in."""
    _, numerator, denominator = _parse_unit(quantity.unit)
    if (numerator, denominator) == _parse_unit("mL/h")[1:]:
        return RateKind.ML_H
    if (numerator, denominator) == _parse_unit("mg/kg/min")[1:]:
        return RateKind.MG_KG_MIN
    return RateKind.ML_KG_H


# --- Conversions the engine needs (all exact Decimal) -------------------------------------------


def mass_kg(quantity: Quantity) -> Decimal:
    return quantity.to("kg")


def length_cm(quantity: Quantity) -> Decimal:
    return quantity.to("cm")


def cm_to_inches(height_cm: Decimal) -> Decimal:
    return _convert(height_cm, "cm", "inch")


def inches(quantity: Quantity) -> Decimal:
    return quantity.to("inch")


def bmi_kg_m2(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    height_m = _convert(height_cm, "cm", "m")
    return weight_kg / (height_m * height_m)


def kg_m2(quantity: Quantity) -> Decimal:
    return quantity.to("kg/m**2")


def ml_h(quantity: Quantity) -> Decimal:
    return quantity.to("mL/h")


def ml(quantity: Quantity) -> Decimal:
    return quantity.to("mL")


def ml_per_kg(quantity: Quantity) -> Decimal:
    return quantity.to("mL/kg")


def hours_from_minutes(duration_min: Decimal) -> Decimal:
    return _convert(duration_min, "min", "h")


def ml_kg_h_from_mg_kg_min(rate_mg_kg_min: Decimal, concentration_mg_ml: Decimal) -> Decimal:
    """mL/kg/h = mg/kg/min ÷ (mg/mL) × 60 min/h."""
    return _convert(rate_mg_kg_min / concentration_mg_ml, "mL/kg/min", "mL/kg/h")


def mg_kg_min_from_ml_kg_h(rate_ml_kg_h: Decimal, concentration_mg_ml: Decimal) -> Decimal:
    return _convert(rate_ml_kg_h * concentration_mg_ml, "mg/kg/h", "mg/kg/min")


def rate_to_ml_kg_h(
    quantity: Quantity, concentration_mg_ml: Decimal | None, weight_kg: Decimal | None
) -> Decimal | None:
    """Any rate as mL/kg/h. Needs the concentration for mg/kg/min and the weight for mL/h.

    Returns None when the conversion needs a fact that is unknown (never a guess)."""
    kind = rate_kind(quantity)
    if kind is RateKind.ML_KG_H:
        return quantity.to("mL/kg/h")
    if kind is RateKind.MG_KG_MIN:
        if concentration_mg_ml is None:
            return None
        return ml_kg_h_from_mg_kg_min(quantity.to("mg/kg/min"), concentration_mg_ml)
    if weight_kg is None or weight_kg <= 0:
        return None
    return quantity.to("mL/h") / weight_kg


def ml_from_grams(dose_g: Decimal, concentration_mg_ml: Decimal) -> Decimal:
    """Volume of a dose at a concentration: g × 1000 mg/g ÷ mg/mL."""
    return _convert(dose_g, "g", "mg") / concentration_mg_ml


def grams_from_ml(volume_ml: Decimal, concentration_mg_ml: Decimal) -> Decimal:
    return _convert(volume_ml * concentration_mg_ml, "mg", "g")


def temperature_c(quantity: Quantity) -> Decimal:
    return quantity.to("degC")


def years(quantity: Quantity) -> Decimal:
    return quantity.to("year")


def years_between(start: date, end: date) -> Decimal:
    """Age in (Julian) years between two dates, from the number of days."""
    return _convert(Decimal((end - start).days), "day", "year")


def months_from_years(age_years: Decimal) -> Decimal:
    return _convert(age_years, "year", "month")


def minutes(quantity: Quantity) -> Decimal:
    return quantity.to("min")


def grams_per_kg(quantity: Quantity) -> Decimal:
    return quantity.to("g/kg")


def grams_per_kg_per_day(quantity: Quantity) -> Decimal:
    return quantity.to("g/kg/day")


def grams(quantity: Quantity) -> Decimal:
    return quantity.to("g")


def grams_per_day(quantity: Quantity) -> Decimal:
    return quantity.to("g/day")


def grams_per_litre(quantity: Quantity) -> Decimal:
    """An IgG level in g/L (1 g/L = 100 mg/dL)."""
    return quantity.to("g/L")


# --- Rounding for display (only where numbers are shown to people) -----------------------------

PUMP_STEP_ML_H = Decimal("0.1")


def pump_rate_ml_h(rate_ml_h: Decimal) -> Decimal:
    """Pump setting: rounded DOWN to 0.1 mL/h, so the pump never runs faster than prescribed."""
    return rate_ml_h.quantize(PUMP_STEP_ML_H, rounding=ROUND_DOWN)


def round_half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# --- Pounds (used by the growth check to test for a pound/kilogram slip) -------------------------


def kg_from_pounds(pounds: Decimal) -> Decimal:
    """The mass in kg of a number of pounds (pint's international pound, exactly 0.45359237 kg)."""
    return _convert(pounds, "lb", "kg")


def pounds_from_kg(weight_kg: Decimal) -> Decimal:
    """The number of pounds in a mass given in kg."""
    return _convert(weight_kg, "kg", "lb")


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months later (day clamped to month end)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
