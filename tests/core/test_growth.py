"""Weight-for-age plausibility (ivig.core.growth) against the cited CDC 2000 LMS tables.

Expected values are read from the data file or computed here independently (floats) from rows
quoted verbatim from CDC's wtage.csv; none is typed from memory.
"""

from __future__ import annotations

import math
import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivig.core import units
from ivig.core.growth import DATA_FILE, weight_for_age
from ivig.core.units import Kind


def _data() -> dict[str, Any]:
    text = resources.files("ivig.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _kg(text: str) -> Decimal:
    """A weight as a person types it, through the one parsing path (units.parse)."""
    return units.mass_kg(units.parse(text, "weight", Kind.MASS))


SEX = {"1": "male", "2": "female"}


# --- The data file --------------------------------------------------------------------------------


def test_data_file_cites_its_sources() -> None:
    data = _data()
    for key in ("document", "citation", "publisher", "revision", "data_page", "obtained"):
        assert data["source"][key].strip(), key
    for table in data["tables"].values():
        assert table["url"].startswith("https://www.cdc.gov/growthcharts/data/zscore/")
        assert table["file"] in table["url"]
        assert len(table["sha256"]) == 64
        assert len(table["rows"]) == table["row_count"]
    implausible = data["thresholds"]["implausible"]
    assert (implausible["lower_z"], implausible["upper_z"]) == ("-6", "5")
    assert "zwei < -6 or zwei > 5" in implausible["source"]
    normal = data["thresholds"]["normal_range"]
    assert (normal["lower_z"], normal["upper_z"]) == ("-2", "2")
    assert "WHO" in normal["lower_source"]
    # The upper limit has no WHO source: it is labelled as a design choice with its reason.
    assert normal["upper_source"] == "design choice"
    assert normal["upper_rationale"].strip()


def test_rows_quoted_in_these_tests_are_in_the_data_file() -> None:
    # Boys at 24 months: the brief's check value "about 12.7 kg".
    tables = _data()["tables"]
    assert ["1", "0", "1.815151075", "3.530203168", "0.152385273"] in tables["infant"]["rows"]
    child = tables["child"]["rows"]
    assert ["1", "24", "-0.20615245", "12.6707633", "0.108125811"] in child
    assert ["1", "24.5", "-0.216501213", "12.74154396", "0.108166006"] in child
    assert ["2", "120.5", "-0.846872805", "33.06392318", "0.195947008"] in child
    assert ["2", "240", "-1.51336185", "58.21897289", "0.166644749"] in child


# --- z at the median --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "age_months", "median_kg"),
    [
        ("male", "0", "3.530203168"),  # wtageinf.csv, Sex 1, Agemos 0
        ("male", "24", "12.6707633"),  # wtage.csv, Sex 1, Agemos 24
        ("female", "120.5", "33.06392318"),  # wtage.csv, Sex 2, Agemos 120.5
        ("female", "240", "58.21897289"),  # wtage.csv, Sex 2, Agemos 240
    ],
)
def test_z_is_exactly_zero_at_the_table_median(sex: str, age_months: str, median_kg: str) -> None:
    result = weight_for_age(sex, Decimal(age_months), Decimal(median_kg))
    assert result is not None
    assert result.z == 0
    assert result.percentile_text == "about the 50th percentile"
    assert not (result.implausible or result.suspect_pounds_as_kg or result.suspect_kg_as_pounds)


def test_every_row_median_gives_z_zero() -> None:
    # Every row actually used: infant rows below 24 months, all 2-20 year rows, both sexes.
    data = _data()
    checked = 0
    for key in ("infant", "child"):
        for sex, age, _l, median, _s in data["tables"][key]["rows"]:
            if key == "infant" and Decimal(age) >= 24:
                continue  # from 24 months the 2-20 year table is used
            result = weight_for_age(SEX[sex], Decimal(age), Decimal(median))
            assert result is not None and result.z == 0, (key, sex, age)
            checked += 1
    assert checked == 50 + 436


# --- Interpolation between rows -------------------------------------------------------------------

# wtage.csv, Sex 1, rows Agemos 24 and 24.5 (verbatim).
ROW_24 = (Decimal("-0.20615245"), Decimal("12.6707633"), Decimal("0.108125811"))
ROW_24_5 = (Decimal("-0.216501213"), Decimal("12.74154396"), Decimal("0.108166006"))


def test_interpolated_median_halfway_between_rows_gives_z_zero() -> None:
    halfway_median = (ROW_24[1] + ROW_24_5[1]) / 2
    result = weight_for_age("male", Decimal("24.25"), halfway_median)
    assert result is not None
    assert result.z == 0


def test_interpolation_matches_an_independent_float_computation() -> None:
    t = 0.3  # age 24.15 months = 30% of the way from the 24 to the 24.5 row
    lam, mu, sigma = (
        float(a) + t * (float(b) - float(a)) for a, b in zip(ROW_24, ROW_24_5, strict=True)
    )
    weight = 15.0
    expected = ((weight / mu) ** lam - 1) / (lam * sigma)
    result = weight_for_age("male", Decimal("24.15"), Decimal("15"))
    assert result is not None
    assert math.isclose(float(result.z), expected, rel_tol=0, abs_tol=1e-12)
    # And it lies between the z-scores at the two rows.
    at_24 = weight_for_age("male", Decimal("24"), Decimal("15"))
    at_24_5 = weight_for_age("male", Decimal("24.5"), Decimal("15"))
    assert at_24 is not None and at_24_5 is not None
    assert min(at_24.z, at_24_5.z) < result.z < max(at_24.z, at_24_5.z)


# --- The seed example: 44 lb typed as 44 kg -------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "age_months"), [("male", "60"), ("female", "60"), ("male", "72"), ("female", "72")]
)
def test_44_lb_child_aged_5_or_6_is_plausible(sex: str, age_months: str) -> None:
    weight = _kg("44 lb")
    assert weight == Decimal("19.95806428")  # 44 x 0.45359237 kg, from pint
    result = weight_for_age(sex, Decimal(age_months), weight)
    assert result is not None
    assert -2 <= result.z <= 2
    assert not (result.implausible or result.suspect_pounds_as_kg or result.suspect_kg_as_pounds)


@pytest.mark.parametrize(
    ("sex", "age_months"), [("male", "60"), ("female", "60"), ("male", "72"), ("female", "72")]
)
def test_same_child_entered_as_44_kg_is_suspected_pounds_as_kg(sex: str, age_months: str) -> None:
    result = weight_for_age(sex, Decimal(age_months), _kg("44 kg"))
    assert result is not None
    assert result.z > 2
    assert result.suspect_pounds_as_kg
    assert not result.suspect_kg_as_pounds
    assert result.percentile_text == "above the 99th percentile"


def test_44_kg_at_5_years_is_not_beyond_the_who_implausible_limit() -> None:
    # What the data yields: a 5-year-old boy at 44 kg has z of about +4.5, inside WHO's +5 flag
    # limit. The implausible flag alone would let this 2.2-fold slip through; the unit-slip test
    # is what catches it.
    result = weight_for_age("male", Decimal(60), Decimal(44))
    assert result is not None
    assert result.z.quantize(Decimal("0.01")) == Decimal("4.50")
    assert not result.implausible
    assert result.suspect_pounds_as_kg


def test_unknown_sex_flags_only_when_both_sexes_agree() -> None:
    result = weight_for_age(None, Decimal(66), Decimal(44))
    assert result is not None
    boys = weight_for_age("male", Decimal(66), Decimal(44))
    girls = weight_for_age("female", Decimal(66), Decimal(44))
    assert boys is not None and girls is not None
    assert result.z == min(boys.z, girls.z, key=abs)
    assert result.suspect_pounds_as_kg  # true for boys and for girls
    assert "sex not given" in result.percentile_text
    assert "boys and girls" in result.reference


# --- A 10-year-old entered as 70 kg (most likely 70 lb) -------------------------------------------


@pytest.mark.parametrize(("sex", "z_2dp"), [("male", "2.84"), ("female", "2.85")])
def test_ten_year_old_at_70_kg(sex: str, z_2dp: str) -> None:
    # What the data yields at 120 months: 70 kg is above the 99th percentile (z about +2.8) but
    # well inside WHO's +5 implausible limit, so it is NOT flagged implausible: some 10-year-olds
    # do weigh 70 kg. It IS flagged as a likely pound/kilogram slip, because 70 lb (31.75 kg) is
    # almost exactly the median weight for age (z about 0). The planner should ask, not refuse.
    result = weight_for_age(sex, Decimal(120), _kg("70 kg"))
    assert result is not None
    assert result.z.quantize(Decimal("0.01")) == Decimal(z_2dp)
    assert not result.implausible
    assert result.suspect_pounds_as_kg
    as_pounds = weight_for_age(sex, Decimal(120), _kg("70 lb"))
    assert as_pounds is not None
    assert abs(as_pounds.z) < Decimal("0.2")
    assert not as_pounds.suspect_pounds_as_kg


# --- The reverse slip and plain implausibility ----------------------------------------------------


def test_kilograms_typed_as_pounds_is_suspected() -> None:
    # A 3-year-old girl of about 14 kg entered as "14 lb" (6.35 kg).
    result = weight_for_age("female", Decimal(36), _kg("14 lb"))
    assert result is not None
    assert result.z < -6
    assert result.implausible
    assert result.suspect_kg_as_pounds
    assert not result.suspect_pounds_as_kg
    assert result.percentile_text == "below the 1st percentile"


def test_a_light_but_possible_weight_is_not_called_a_slip() -> None:
    # 10 kg at 3 years (girls): z about -3.3, low but not implausible. The same number read as
    # kilograms typed as pounds (10 lb -> 22 kg) would itself be far above the median, so no
    # slip is suspected.
    result = weight_for_age("female", Decimal(36), Decimal(10))
    assert result is not None
    assert -6 < result.z < -2
    assert not (result.implausible or result.suspect_kg_as_pounds or result.suspect_pounds_as_kg)


# --- Out of range and bad input -------------------------------------------------------------------


def test_no_result_above_20_years_or_before_birth() -> None:
    assert weight_for_age("male", Decimal(240), Decimal(70)) is not None  # last table row
    assert weight_for_age("male", Decimal("240.01"), Decimal(70)) is None
    assert weight_for_age("female", Decimal(300), Decimal(60)) is None
    assert weight_for_age(None, Decimal(480), Decimal(80)) is None
    assert weight_for_age("male", Decimal(-1), Decimal(3)) is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        weight_for_age("male", Decimal(60), Decimal(0))
    with pytest.raises(ValueError):
        weight_for_age("male", Decimal(60), Decimal("NaN"))
    with pytest.raises(ValueError):
        weight_for_age("unknown", Decimal(60), Decimal(20))


def test_reference_names_the_table_used() -> None:
    infant = weight_for_age("female", Decimal(6), Decimal(7))
    child = weight_for_age("female", Decimal(24), Decimal(12))
    assert infant is not None and child is not None
    assert "wtageinf.csv" in infant.reference and "girls" in infant.reference
    assert "wtage.csv" in child.reference and "wtageinf" not in child.reference
    assert "Vital Health Stat 11(246)" in child.reference


@pytest.mark.parametrize(
    ("z_weight", "expected"),
    [("12.6707633", "about the 50th percentile")],
)
def test_percentile_text_at_the_median(z_weight: str, expected: str) -> None:
    result = weight_for_age("male", Decimal(24), Decimal(z_weight))
    assert result is not None and result.percentile_text == expected


# --- Property: heavier means a higher z -----------------------------------------------------------

ages = st.decimals(min_value=0, max_value=240, places=2, allow_nan=False, allow_infinity=False)
weights = st.decimals(
    min_value="0.5", max_value=250, places=3, allow_nan=False, allow_infinity=False
)


@given(sex=st.sampled_from(["male", "female", None]), age=ages, w1=weights, w2=weights)
def test_z_increases_with_weight(sex: str | None, age: Decimal, w1: Decimal, w2: Decimal) -> None:
    low, high = sorted((w1, w2))
    a = weight_for_age(sex, age, low)
    b = weight_for_age(sex, age, high)
    assert a is not None and b is not None
    if sex is not None:
        assert a.z <= b.z
        if high > low:
            assert a.z < b.z
    # The slip flags follow their definition: only outside the normal range.
    for result in (a, b):
        if result.suspect_pounds_as_kg:
            assert result.z > 2
        if result.suspect_kg_as_pounds:
            assert result.z < -2
