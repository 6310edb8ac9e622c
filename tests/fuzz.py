"""Shared pieces of the fuzz tests (tests/test_fuzz_cli.py, tests/web/test_fuzz_forms.py).

The number of examples is small by default so CI stays fast; ``IVIG_FUZZ_EXAMPLES=500``
(``bash scripts/fuzz.sh``) runs the long version.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("IVIG_FUZZ_EXAMPLES", "8"))
# Each web example posts every form of the app (about 150 requests): fewer by default.
WEB_EXAMPLES = int(os.environ.get("IVIG_FUZZ_EXAMPLES", "3"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 8,  # CI: the same examples every run; the long run explores
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

WEB_FUZZ_SETTINGS = settings(FUZZ_SETTINGS, max_examples=WEB_EXAMPLES)

# Values people and probes have typed into quantity, date and text fields.
HOSTILE_TEXT = [
    "999999999999999999999999999999 kg",
    "99999999999999999999 mL/kg/h",
    "0.0000000000001 g/kg",
    "1e309 mL",
    "-5 kg",
    "0 mL/h",
    "NaN kg",
    "inf mL/h",
    "20 kg kg",
    "٢٠ kg",  # Arabic-Indic digits
    "２０ kg",  # full-width digits
    "20,5 kg",
    "44 lb",
    "2 g/kg",
    "400 mg/kg/day",
    "0.5 mL/kg/h",
    "38.2 °C",
    "100.4 °F",
    "1 solar_mass",
    "(((kg",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "1900-01-01T08:00",
    "2999-06-01",
    "0001-01-01",
    "2026-02-30T25:61",
    "1" * 5001,
    "-" + "9" * 400,
    "x" * 5000,
    "Lucia\r\nBEGIN:VEVENT",
    "\x00",
    "\u202eevil",
    "=HYPERLINK(\"http://x.example\")",
    "<script>alert(1)</script>",
    "'; DROP TABLE patients; --",
    "🙂👍🏽",
    "Ωμέγα ñandú 𝟘𝟙",
    "",
    " ",
    "true",
    "null",
    "[]",
    "{}",
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.builds(lambda n, u: f"{n} {u}", st.integers(-(10**25), 10**25),
              st.sampled_from(["kg", "lb", "cm", "g/kg", "mL/h", "mL/kg/h", "mg/kg/min", "mL",
                               "°C", "°F", "h", "min", "years"])),
)

# JSON-like values of the wrong type, huge, odd or deeply nested.
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**4000), max_value=10**4000),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
hostile_value = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=8), children, max_size=3),
    ),
    max_leaves=8,
)


def deep(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value
