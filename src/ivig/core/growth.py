"""Is an entered body weight plausible for the patient's age? (weight-for-age, LMS method)

IVIG is dosed per kilogram, so a weight typed in the wrong unit changes the dose by a factor of
2.2: a 44 lb child entered as "44 kg" gets 2.2 times the intended dose. This module places the
entered weight on a published weight-for-age reference and says

* how far it is from the median for age and sex (the LMS z-score) and roughly which percentile;
* whether it is biologically implausible (outside the cited WHO flag limits);
* whether it looks like pounds typed as kilograms, or kilograms typed as pounds: the weight is
  outside the normal range, but the same number read in the other unit is an ordinary weight.

All numbers come from ``ivig/data/growth_weight_for_age.toml``, which cites its sources: the
CDC 2000 growth charts' weight-for-age LMS tables (birth to 20 years) and the WHO limits. The
pound factor comes from :mod:`ivig.core.units` (pint), never from a literal here.

Method (as in CDC's SAS program for the 2000 charts): L, M and S are interpolated linearly in age
between the two table rows around the child's age, then ``z = ((W/M)**L - 1) / (L*S)``, or
``ln(W/M) / S`` when L is 0. Below 24 months the infant table is used, from 24 months the 2-20
year table. The WHO implausible-value limits (-6, +5) were defined for WHO Child Growth
Standards z-scores; here they are applied to the plain CDC LMS z (caveat in the data file).

When the check cannot be made it says so instead of guessing: :func:`weight_for_age` returns None
above 20 years (240 months) or below birth. When the sex is not known, both the boys' and the
girls' tables are used and a finding is reported only if it holds for both (see
:func:`weight_for_age`).
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from statistics import NormalDist
from typing import Any

from ivig.core.units import kg_from_pounds, pounds_from_kg

DATA_FILE = "growth_weight_for_age.toml"

# The sex codes of ivig.core.vocabulary.SEXES mapped to the CDC files' Sex column.
_CDC_SEX = {"male": "1", "female": "2"}
_SEX_WORDS = {"male": "boys", "female": "girls"}

# Age (months) from which the 2-20 year table replaces the infant table (see the data file).
_CHILD_TABLE_FROM_MONTHS = Decimal(24)

# Working precision for the LMS arithmetic; results are rounded back to the default 28 digits.
_PRECISION = 40


@dataclass(frozen=True)
class WeightForAge:
    """Where an entered weight falls on the weight-for-age reference for the patient's age."""

    z: Decimal  # LMS z-score (standard deviations from the median for age and sex)
    percentile_text: str  # e.g. "below the 1st percentile", "about the 60th percentile"
    implausible: bool  # outside the cited biologically-implausible limits (low or high)
    suspect_pounds_as_kg: bool  # too heavy, but the number read as pounds is an ordinary weight
    suspect_kg_as_pounds: bool  # too light, but the number read as kilograms is ordinary
    reference: str  # citation line of the table used
    modified_z: Decimal = Decimal(0)  # CDC modified z (half the distance to the +/-2 curve)
    high: bool = False  # above the median (which side an implausible weight is on)
    limits_text: str = ""  # the limits that flag, in kg for this age and sex


@dataclass(frozen=True)
class AdultBounds:
    lower_kg: Decimal
    upper_kg: Decimal
    source: str


@dataclass(frozen=True)
class _Row:
    age_months: Decimal
    l: Decimal  # noqa: E741 - the LMS method's own name
    m: Decimal
    s: Decimal


@dataclass(frozen=True)
class _Table:
    title: str
    file: str
    rows_by_sex: Mapping[str, tuple[_Row, ...]]  # CDC sex code -> rows by increasing age


@dataclass(frozen=True)
class _Reference:
    infant: _Table
    child: _Table
    citation: str
    implausible_low: Decimal
    implausible_high: Decimal
    normal_low: Decimal
    normal_high: Decimal
    modified_low: Decimal
    modified_high: Decimal
    modified_source: str
    adult: AdultBounds
    age_unknown: AdultBounds


def weight_for_age(sex: str | None, age_months: Decimal, weight_kg: Decimal) -> WeightForAge | None:
    """Place a weight on the CDC 2000 weight-for-age reference.

    ``sex`` is ``"male"``, ``"female"`` (the codes of ``ivig.core.vocabulary.SEXES``) or None
    when unknown. ``age_months`` is the exact age in months (days / 30.4375).

    Returns None when the age is outside the reference (below 0 or above 240 months, i.e. adults):
    the caller reports the weight as "not checked", never as plausible.

    With ``sex=None`` both tables are used: each flag is True only if it is True for boys and
    for girls, and ``z`` / ``percentile_text`` are those of the sex whose z is nearer 0 (the
    more reassuring reading). The check can then miss a slip, but never raises an alarm that
    depends on a guessed sex.

    Raises ValueError for a weight that is not a positive finite number, a non-finite age or an
    unknown sex code (a programming error, not a patient fact).
    """
    if not weight_kg.is_finite() or weight_kg <= 0:
        raise ValueError(f"weight_kg must be a positive number, got {weight_kg!r}")
    if not age_months.is_finite():
        raise ValueError(f"age_months must be a finite number, got {age_months!r}")
    if sex is not None and sex not in _CDC_SEX:
        raise ValueError(f"sex must be one of {sorted(_CDC_SEX)} or None, got {sex!r}")
    reference = _reference()
    table = reference.infant if age_months < _CHILD_TABLE_FROM_MONTHS else reference.child
    first = table.rows_by_sex[_CDC_SEX["male"]][0].age_months
    last = table.rows_by_sex[_CDC_SEX["male"]][-1].age_months
    if age_months < first or age_months > last:
        return None
    if sex is not None:
        return _assess(reference, table, sex, age_months, weight_kg)
    boys = _assess(reference, table, "male", age_months, weight_kg)
    girls = _assess(reference, table, "female", age_months, weight_kg)
    nearer = boys if abs(boys.z) <= abs(girls.z) else girls
    return WeightForAge(
        z=nearer.z,
        percentile_text=f"{nearer.percentile_text} (sex not given: the nearer of the boys' "
        "and girls' values)",
        implausible=boys.implausible and girls.implausible,
        modified_z=nearer.modified_z,
        high=nearer.high,
        limits_text=f"boys {boys.limits_text}; girls {girls.limits_text}",
        suspect_pounds_as_kg=boys.suspect_pounds_as_kg and girls.suspect_pounds_as_kg,
        suspect_kg_as_pounds=boys.suspect_kg_as_pounds and girls.suspect_kg_as_pounds,
        reference=_citation(reference, table, "boys and girls"),
    )


def _assess(
    reference: _Reference, table: _Table, sex: str, age_months: Decimal, weight_kg: Decimal
) -> WeightForAge:
    row = _interpolate(table.rows_by_sex[_CDC_SEX[sex]], age_months)
    z = _z(row, weight_kg)
    modified = _modified_z(row, weight_kg)
    # The same number in the other unit: "44 kg" meant as 44 lb, or "20 lb" meant as 20 kg.
    z_number_as_pounds = _z(row, kg_from_pounds(weight_kg))
    z_number_as_kg = _z(row, pounds_from_kg(weight_kg))
    low_kg = max(
        _weight_at_z(row, reference.implausible_low),
        _weight_at_modified_z(row, reference.modified_low),
    )
    high_kg = min(
        _weight_at_z(row, reference.implausible_high),
        _weight_at_modified_z(row, reference.modified_high),
    )
    return WeightForAge(
        z=z,
        percentile_text=_percentile_text(z),
        implausible=z < reference.implausible_low
        or z > reference.implausible_high
        or modified < reference.modified_low
        or modified > reference.modified_high,
        suspect_pounds_as_kg=z > reference.normal_high
        and _in_normal_range(reference, z_number_as_pounds),
        suspect_kg_as_pounds=z < reference.normal_low
        and _in_normal_range(reference, z_number_as_kg),
        reference=_citation(reference, table, _SEX_WORDS[sex]) + "; " + reference.modified_source,
        modified_z=modified,
        high=weight_kg > row.m,
        limits_text=f"about {_kg(low_kg)}–{_kg(high_kg)} kg",
    )


def _kg(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"


def _weight_at_z(row: _Row, z: Decimal) -> Decimal:
    """The weight whose LMS z is ``z`` (the inverse of :func:`_z`)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if row.l == 0:
            return +(row.m * (z * row.s).exp())
        base = 1 + row.l * row.s * z
        if base <= 0:  # beyond the reach of the LMS curve on this side: no finite weight
            return Decimal(0) if z < 0 else Decimal("Infinity")
        return +(row.m * base ** (1 / row.l))


def _modified_z(row: _Row, weight_kg: Decimal) -> Decimal:
    """CDC's modified z: (W - M) / SD, with SD half the distance from M to the z = +2 curve
    above the median, or to the z = -2 curve below it."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if weight_kg >= row.m:
            sd = (_weight_at_z(row, Decimal(2)) - row.m) / 2
        else:
            sd = (row.m - _weight_at_z(row, Decimal(-2))) / 2
        return +((weight_kg - row.m) / sd)


def _weight_at_modified_z(row: _Row, modified: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if modified >= 0:
            sd = (_weight_at_z(row, Decimal(2)) - row.m) / 2
        else:
            sd = (row.m - _weight_at_z(row, Decimal(-2))) / 2
        return +(row.m + modified * sd)


def adult_bounds(age_known: bool) -> AdultBounds:
    """The absolute weight bounds for an adult, or for a patient whose age is not given."""
    reference = _reference()
    return reference.adult if age_known else reference.age_unknown


def _in_normal_range(reference: _Reference, z: Decimal) -> bool:
    return reference.normal_low <= z <= reference.normal_high


def _interpolate(rows: Sequence[_Row], age_months: Decimal) -> _Row:
    """L, M and S at an age, linear between the two rows around it (exact at a row)."""
    ages = [row.age_months for row in rows]
    index = bisect_right(ages, age_months) - 1
    lower = rows[index]
    if lower.age_months == age_months or index == len(rows) - 1:
        return lower
    upper = rows[index + 1]
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        t = (age_months - lower.age_months) / (upper.age_months - lower.age_months)
        return _Row(
            age_months=age_months,
            l=lower.l + t * (upper.l - lower.l),
            m=lower.m + t * (upper.m - lower.m),
            s=lower.s + t * (upper.s - lower.s),
        )


def _z(row: _Row, weight_kg: Decimal) -> Decimal:
    """The LMS z-score: ((W/M)**L - 1) / (L*S), or ln(W/M)/S when L is 0."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ratio = weight_kg / row.m
        z = ratio.ln() / row.s if row.l == 0 else (ratio**row.l - 1) / (row.l * row.s)
    return +z  # rounded to the caller's context precision


def _percentile_text(z: Decimal) -> str:
    percentile = Decimal(NormalDist().cdf(float(z)) * 100)
    if percentile < 1:
        return "below the 1st percentile"
    if percentile > 99:
        return "above the 99th percentile"
    whole = int(percentile.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return f"about the {_ordinal(whole)} percentile"


def _ordinal(n: int) -> str:
    if 11 <= n % 100 <= 13:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _citation(reference: _Reference, table: _Table, sexes: str) -> str:
    return f"{table.title}, {sexes} ({table.file}); {reference.citation}"


# --- Loading the cited data file ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _reference() -> _Reference:
    text = resources.files("ivig.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return _parse(tomllib.loads(text))


def _parse(data: Mapping[str, Any]) -> _Reference:
    tables = data["tables"]
    implausible = data["thresholds"]["implausible"]
    normal = data["thresholds"]["normal_range"]
    modified = data["thresholds"]["modified_z"]
    adult = data["adult"]
    reference = _Reference(
        infant=_parse_table(tables["infant"]),
        child=_parse_table(tables["child"]),
        citation=str(data["source"]["citation"]),
        implausible_low=Decimal(implausible["lower_z"]),
        implausible_high=Decimal(implausible["upper_z"]),
        normal_low=Decimal(normal["lower_z"]),
        normal_high=Decimal(normal["upper_z"]),
        modified_low=Decimal(modified["lower"]),
        modified_high=Decimal(modified["upper"]),
        modified_source=str(modified["source"]),
        adult=AdultBounds(
            Decimal(adult["lower_kg"]), Decimal(adult["upper_kg"]), str(adult["source"])
        ),
        age_unknown=AdultBounds(
            Decimal(adult["age_unknown_lower_kg"]),
            Decimal(adult["age_unknown_upper_kg"]),
            str(adult["age_unknown_source"]),
        ),
    )
    if not (
        reference.implausible_low < reference.normal_low < 0 < reference.normal_high
        and reference.normal_high < reference.implausible_high
    ):
        raise ValueError(f"{DATA_FILE}: thresholds are not in order")
    return reference


def _parse_table(table: Mapping[str, Any]) -> _Table:
    name = str(table["file"])
    if list(table["columns"]) != ["Sex", "Agemos", "L", "M", "S"]:
        raise ValueError(f"{DATA_FILE}: {name}: unexpected columns {table['columns']!r}")
    raw_rows = table["rows"]
    if len(raw_rows) != int(table["row_count"]):
        raise ValueError(
            f"{DATA_FILE}: {name}: {len(raw_rows)} rows, expected {table['row_count']}"
        )
    by_sex: dict[str, list[_Row]] = {code: [] for code in _CDC_SEX.values()}
    for sex, age, lam, mu, sigma in raw_rows:
        row = _Row(Decimal(age), Decimal(lam), Decimal(mu), Decimal(sigma))
        if row.m <= 0 or row.s <= 0:
            raise ValueError(f"{DATA_FILE}: {name}: M and S must be positive: {row!r}")
        by_sex[str(sex)].append(row)
    first, last = Decimal(table["age_months_first"]), Decimal(table["age_months_last"])
    for code, rows in by_sex.items():
        ages = [row.age_months for row in rows]
        if not rows or ages[0] != first or ages[-1] != last:
            raise ValueError(f"{DATA_FILE}: {name}: sex {code} does not span {first}-{last}")
        if any(a >= b for a, b in pairwise(ages)):
            raise ValueError(f"{DATA_FILE}: {name}: sex {code} ages not increasing")
    return _Table(
        title=str(table["title"]),
        file=name,
        rows_by_sex={code: tuple(rows) for code, rows in by_sex.items()},
    )
