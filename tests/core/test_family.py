"""The family sheet: every statement sourced, vaccine waits by dose, personal lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ivig.core import family
from ivig.core.catalogue import load_catalogue
from ivig.core.plan import Plan, build_plan
from tests.core.builders import document

TODAY = date(2026, 11, 1)


def make(patient: dict[str, Any] | None = None, **order: Any) -> Plan:
    return build_plan(document(patient, **order), today=TODAY)


@pytest.mark.parametrize("indication", [*load_catalogue().indications, None])
@pytest.mark.parametrize("setting", [*family.SETTINGS, None])
def test_every_statement_has_known_sources_in_both_languages(
    indication: str | None, setting: str | None
) -> None:
    plan = make(indication=indication)
    price = family.TeamPrice(Decimal("70.22"), "USD", date(2026, 11, 1), "nurse")
    sheet = family.about_sheet(plan, setting=setting, price=price)
    sources = family.family_data()["sources"]
    assert [s.key for s in sheet.sections] == list(family.SECTION_ORDER)
    for statement in sheet.statements:
        assert statement.sources, statement.en
        assert all(k in sources for k in statement.sources), statement.sources
        assert statement.en.strip() and statement.es.strip()
        assert statement.en != statement.es or statement.en.startswith("Prescri")


def test_every_indication_has_family_facts_and_spanish_notes() -> None:
    catalogue = load_catalogue()
    data = family.family_data()["indications"]
    assert set(data) == set(catalogue.indications)
    for key, indication in catalogue.indications.items():
        assert len(data[key]["notes_es"]) == len(indication.notes), key
        assert family.indication_notes(key, indication.notes, "es") == tuple(data[key]["notes_es"])


@pytest.mark.parametrize(
    ("dose", "days", "months", "exact", "above"),
    [
        ("0.4 g/kg", 1, 9, True, False),  # replacement: Australia 9 (stricter than ACIP 8)
        ("0.3 g/kg", 1, 9, True, False),
        ("0.2 g/kg", 1, 9, False, False),  # below the first row: next higher row
        ("0.6 g/kg", 1, 10, False, False),  # between rows: the next higher row
        ("1 g/kg", 1, 10, True, False),
        ("2 g/kg", 2, 11, True, False),  # Kawasaki/ITP 2 g/kg: 11 months
        ("0.4 g/kg/day", 5, 11, True, False),  # GBS 5-day course = 2 g/kg
        ("3 g/kg", 3, 11, False, True),  # above the table: unknown, "at least 11"
    ],
)
def test_live_vaccine_wait_by_dose(
    dose: str, days: int, months: int, exact: bool, above: bool
) -> None:
    plan = make(dose=dose, days=days, indication="cidp")
    wait = family.live_vaccine_wait(plan)
    assert (wait.months, wait.exact_row, wait.above_table) == (months, exact, above)
    text = " ".join(s.en for s in family.vaccine_statements(plan, date(2027, 1, 1)))
    assert ("at least" in text) is above
    assert ("next higher dose" in text) is (not exact and not above)


def test_replacement_names_the_conflict_and_regular_therapy() -> None:
    plan = make(dose="0.4 g/kg", days=1, indication="pi")
    wait = family.live_vaccine_wait(plan)
    assert wait.regular_replacement and "ACIP 8" in wait.conflict
    texts = [s.en for s in family.vaccine_statements(plan, None)]
    assert any("not recommended" in t for t in texts)


def test_adjusted_weight_uses_the_stricter_per_kg_dose() -> None:
    plan = make(
        {"weight": "100 kg", "height": "170 cm", "birth_date": "1980-01-01", "sex": "male"},
        dose="1 g/kg",
        days=1,
        dosing_weight="adjusted",
        indication="cidp",
    )
    assert plan.dosing.weight_kg < plan.dosing.actual_kg
    assert family.course_dose_mg_kg(plan) == pytest.approx(Decimal(1000), rel=Decimal("1e-6"))


def test_home_first_infusion_and_switch_are_flagged() -> None:
    first = make({"first_infusion": True})
    text = " ".join(s.en for s in family.setting_statements(first, "home"))
    assert "closely supervised" in text
    switch = make({"first_infusion": False, "previous_product": "gamunex_c"})
    assert "new product" in " ".join(s.en for s in family.setting_statements(switch, "home"))
    later = make({"first_infusion": False})
    assert "closely supervised" not in " ".join(
        s.en for s in family.setting_statements(later, "home")
    )
    assert "not stated" in family.setting_statements(later, None)[0].en


def test_plan_lines_give_each_days_duration() -> None:
    plan = make()
    lines = family.plan_statements(plan)
    assert len(lines) == 2 and "Day 1 (2026-12-01): about 5 h 45 min" in lines[0].en


def test_cost_from_vials_with_waste_and_reference_ranges_marked() -> None:
    plan = make()  # 19.96 g a day in one 20 g vial: 0.04 g wasted a day
    price = family.TeamPrice(Decimal("100"), "USD", date(2026, 11, 1), "nurse")
    lines = family.cost_statements(plan, price)
    assert "opens 40.0 g of vials: about 4000 USD, including 0.1 g" in lines[0].en
    assert any(s.weak for s in lines), "the weak price range keeps its mark"
    assert "not entered a price" in family.cost_statements(plan, None)[0].en


def test_weak_only_statements_are_marked() -> None:
    for s in family.about_sheet(make()).statements:
        qualities = {family.source_quality(k) for k in s.sources}
        if qualities == {"weak"}:
            assert s.weak


def test_premedication_window_and_drug_maximum() -> None:
    assert family.premedication_window_min() == (Decimal(30), Decimal(60))
    drug = family.premedication_drug("Acetaminophen (Tylenol)")
    assert drug is not None and drug["max_single"] == "1000 mg" and not drug["weak"]
    assert family.premedication_drug("ondansetron") is None


def test_conflicts_are_explained_in_both_languages() -> None:
    plan = make({"first_infusion": True}, dose="0.4 g/kg", days=1, indication="pi")
    sheet = family.about_sheet(plan, setting="home")
    conflicts = [s for s in sheet.statements if s.conflict]
    assert len(conflicts) >= 8
    for s in conflicts:
        assert s.conflict_es and s.conflict_text("es") != s.conflict


def test_serum_sickness_is_a_call_the_team_sign_on_the_going_home_sheet() -> None:
    from ivig.core.going_home import going_home_symptoms
    from ivig.core.triage import load_triage_data

    symptom = load_triage_data().symptoms["serum_sickness_signs"]
    assert symptom.level == "call_doctor" and "STATPEARLS-SS" in symptom.sources
    lines = going_home_symptoms(make())
    assert "serum_sickness_signs" in {line.name for line in lines["call_doctor"]}
    kawasaki_only = {line.name for level in lines.values() for line in level}
    assert "fever_after_kawasaki_ivig" not in kawasaki_only  # a JDM patient


def test_infusion_cost_from_the_vials_actually_opened() -> None:
    price = family.TeamPrice(Decimal("70"), "USD", date(2026, 11, 1), "nurse")
    cost = family.infusion_cost(["10 g", "10 g", "5 g"], Decimal("22.4"), price)
    assert (cost.opened_g, cost.wasted_g, cost.cost) == (Decimal(25), Decimal("2.6"), 1750)
    unknown = family.infusion_cost(["10 g", None], Decimal("12"), price)
    assert unknown.opened_g is None and unknown.cost is None and unknown.missing_sizes == 1
    no_price = family.infusion_cost(["10 g"], None, None)
    assert no_price.opened_g == 10 and no_price.cost is None and no_price.wasted_g is None
