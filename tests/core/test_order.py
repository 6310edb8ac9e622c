"""The order document: one parser, every problem reported with field, value and what is accepted."""

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivig.core.dosing import rule_pack_ids
from ivig.core.order import (
    DoseBasis,
    OrderError,
    TitrationRule,
    parse_order_document,
    read_document_text,
)
from tests.core.builders import document

PRODUCTS = ["privigen", "gamunex_c", "octagam_10"]
INDICATIONS = ["jdm", "pi", "itp", "kawasaki"]
PACKS = rule_pack_ids()


def parse(data: Any) -> Any:
    return parse_order_document(
        data, product_ids=PRODUCTS, indication_ids=INDICATIONS, dosing_weight_packs=PACKS
    )


def problems(data: Any) -> dict[str, str]:
    with pytest.raises(OrderError) as info:
        parse(data)
    return {p.field: p.message for p in info.value.problems}


def test_the_seed_example_parses() -> None:
    doc = parse(document())
    assert doc.patient.weight.text == "44 lb"
    assert doc.order.dose_basis is DoseBasis.PER_KG_COURSE
    assert len(doc.order.titration) == 4  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dose", "basis"),
    [
        ("2 g/kg", DoseBasis.PER_KG_COURSE),
        ("400 mg/kg/day", DoseBasis.PER_KG_DAY),
        ("40 g", DoseBasis.FIXED_COURSE),
        ("20 g/day", DoseBasis.FIXED_DAY),
    ],
)
def test_dose_per_course_per_day_or_fixed(dose: str, basis: DoseBasis) -> None:
    assert parse(document(dose=dose)).order.dose_basis is basis


def test_a_rule_form_titration() -> None:
    rule = {
        "start": "0.5 mg/kg/min",
        "increase_by": "0.8 mg/kg/min",
        "every_minutes": 20,
        "max": "6 mg/kg/min",
        "first_step_minutes": 10,
    }
    doc = parse(document(titration=rule))
    assert isinstance(doc.order.titration, TitrationRule)


def test_every_problem_is_reported_at_once_with_field_value_and_accepted() -> None:
    bad = document(
        {"weight": 20, "sex": "woman", "conditions": ["diabetis"]},
        dose="2",
        days=9,
        product="privgen",
        titration=[{"rate": "0.5 mL/kg", "minutes": 30}, {"rate": "2 mL/kg/h"}],
        dosing_weigth="actual",
    )
    found = problems(bad)
    assert "a number without a unit is not accepted" in found["patient.weight"]
    assert "'woman'" in found["patient.sex"]
    assert "'diabetis'" in found["patient.conditions[0]"]
    assert "the unit is missing" in found["order.dose"] and '"2 g/kg"' in found["order.dose"]
    assert "from 1 to 5" in found["order.days"]
    assert "'privgen'" in found["order.product"]
    assert "not the right kind" in found["order.titration[0].rate"]
    assert "unknown field" in found["order.dosing_weigth"]


def test_a_step_before_the_last_needs_minutes() -> None:
    found = problems(document(titration=[{"rate": "1 mL/kg/h"}, {"rate": "2 mL/kg/h"}]))
    assert "order.titration[0].minutes" in found


def test_zero_and_negative_quantities_are_rejected() -> None:
    found = problems(
        document({"weight": "0 kg"}, dose="-2 g/kg", titration=[{"rate": "0 mL/kg/h"}])
    )
    assert {"patient.weight", "order.dose", "order.titration[0].rate"} <= set(found)


def test_json_and_toml_files_give_the_same_document() -> None:
    toml_text = """
[patient]
weight = "20 kg"
[order]
product = "privigen"
dose = "2 g/kg"
days = 1
dosing_weight = "actual"
vial_rounding = "none"
titration = [{ rate = "1 mL/kg/h" }]
"""
    json_text = """{"patient": {"weight": "20 kg"}, "order": {"product": "privigen",
      "dose": "2 g/kg", "days": 1, "dosing_weight": "actual", "vial_rounding": "none",
      "titration": [{"rate": "1 mL/kg/h"}]}}"""
    a = parse(read_document_text(toml_text))
    b = parse(read_document_text(json_text, name="x.json"))
    assert a == b


def test_broken_files_give_a_clear_error() -> None:
    with pytest.raises(OrderError) as info:
        read_document_text("[patient\nweight=")
    assert "not valid TOML" in str(info.value)
    with pytest.raises(OrderError) as info:
        read_document_text("{", name="plan.json")
    assert "not valid JSON" in str(info.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
keys = st.sampled_from(
    [
        "weight",
        "height",
        "sex",
        "age",
        "birth_date",
        "conditions",
        "dose",
        "days",
        "titration",
        "product",
        "start",
        "saline",
        "premedication",
        "dosing_weight",
        "vial_rounding",
        "first_infusion",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["patient", "order"]), keys, json_values), max_size=4))
def test_any_malformed_document_gives_order_error_never_a_traceback(
    edits: list[tuple[str, str, Any]],
) -> None:
    data = document()
    for table, key, value in edits:
        data[table][key] = value
    try:
        parse(data)
    except OrderError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.field and p.accepted and p.problem


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_top_level_value_gives_order_error(value: Any) -> None:
    with contextlib.suppress(OrderError):
        parse(value)


@pytest.mark.parametrize("dose", ["2 kg", "2 kg/day", "4 lb", "2 µg/kg"])
def test_a_dose_in_a_mass_unit_other_than_g_or_mg_is_refused(dose: str) -> None:
    found = problems(document(dose=dose))
    assert "IVIG doses are written in g or mg" in found["order.dose"]
