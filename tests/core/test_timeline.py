"""Care timeline: hydration, premedication, check-ins by section 5 tier, union and merging."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivig.core.plan import Plan, build_plan
from ivig.core.timeline import CareEvent, TimelineError, add_months, care_timeline, risk_tiers
from tests.core.builders import document

TODAY = date(2026, 11, 1)
PREMEDS = [
    {"name": "acetaminophen", "dose": "15 mg/kg", "minutes_before": 30},
    {"name": "diphenhydramine", "dose": "1 mg/kg", "minutes_before": 30},
]


def make(patient: dict[str, Any] | None = None, **order: Any) -> Plan:
    return build_plan(document(patient, **order), today=TODAY)


def standard(**patient: Any) -> Plan:
    """A replacement dose, product tolerated before, blood group O, no modifiers."""
    base: dict[str, Any] = {"first_infusion": False, "blood_group": "O+"}
    base.update(patient)
    return make(base, dose="0.4 g/kg", days=1, indication="cidp")


def of(events: tuple[CareEvent, ...], kind: str) -> list[CareEvent]:
    return [e for e in events if e.kind == kind]


def offsets_h(plan: Plan, events: tuple[CareEvent, ...]) -> list[float]:
    end = plan.days[-1].end
    assert end is not None
    return [(e.starts_at - end) / timedelta(hours=1) for e in of(events, "check_in")]


def test_seed_example_hydration_and_premedication() -> None:
    plan = make(premedication=PREMEDS)
    events = care_timeline(plan)
    first, last = plan.days[0], plan.days[-1]
    assert first.start is not None and last.end is not None
    (start,) = of(events, "hydrate_start")
    assert start.starts_at == first.start - timedelta(hours=24)
    assert start.ends_at == first.start
    (until,) = of(events, "hydrate_until")
    assert until.starts_at == last.end
    assert until.ends_at == last.end + timedelta(hours=48)
    premeds = of(events, "premedication")
    assert [p.starts_at for p in premeds] == [
        d.start - timedelta(minutes=30) for d in plan.days if d.start is not None
    ]
    assert "acetaminophen, diphenhydramine" in premeds[0].title_en
    assert [e.starts_at for e in of(events, "infusion")] == [d.start for d in plan.days]
    assert "24" in start.source or "Hydration" in start.source


def test_premedication_without_timing_is_shown_at_the_start_and_says_so() -> None:
    plan = make(premedication=[{"name": "cetirizine"}], days=1)
    (premed,) = of(care_timeline(plan), "premedication")
    assert premed.starts_at == plan.days[0].start
    assert "ask" in premed.detail_en.lower()


def test_standard_patient_checkins() -> None:
    plan = standard()
    assert risk_tiers(plan) == ("standard",)
    events = care_timeline(plan)
    assert offsets_h(plan, events) == [0, 4, 24, 72, 168]
    chair = of(events, "check_in")[0]
    assert chair.ends_at is not None and chair.ends_at - chair.starts_at == timedelta(minutes=20)
    assert all(e.tier == "standard" for e in of(events, "check_in"))
    assert all(e.questions and e.source for e in of(events, "check_in"))


def test_non_o_two_g_per_kg_adds_days_5_to_7_and_10() -> None:
    plan = make({"blood_group": "A+", "first_infusion": False}, indication="jdm")
    assert "haemolysis" in risk_tiers(plan)
    events = care_timeline(plan)
    offsets = offsets_h(plan, events)
    assert 168 in offsets and 240 in offsets
    day10 = of(events, "check_in")[offsets.index(240)]
    assert day10.tier is not None and "haemolysis" in day10.tier
    assert "dark_or_red_urine" in day10.questions
    assert any(e.tier == "haemolysis" for e in of(events, "lab_reminder"))


def test_o_blood_group_has_no_haemolysis_tier() -> None:
    assert "haemolysis" not in risk_tiers(make({"blood_group": "O-"}))


def test_unknown_blood_group_with_high_dose_counts_as_non_o() -> None:
    assert "haemolysis" in risk_tiers(make({"blood_group": None}))


def test_renal_risk_adds_daily_prompts_days_1_to_4() -> None:
    plan = standard(conditions=["diabetes"])
    assert "renal" in risk_tiers(plan)
    events = care_timeline(plan)
    renal = [e for e in of(events, "check_in") if e.tier and "renal" in e.tier]
    end = plan.days[-1].end
    assert end is not None
    assert [(e.starts_at - end) / timedelta(hours=1) for e in renal] == [24, 48, 72, 96]
    assert all("less_urine" in e.questions for e in renal)


def test_heart_failure_or_renal_risk_mentions_a_fluid_limit() -> None:
    (hydrate,) = of(care_timeline(standard(conditions=["heart_failure"])), "hydrate_start")
    assert "limit" in hydrate.detail_en
    (plain,) = of(care_timeline(standard()), "hydrate_start")
    assert "limit" not in plain.detail_en


def test_kawasaki_daily_temperature_14_days_and_36_h_fever_check() -> None:
    plan = make(
        {"birth_date": "2023-01-10", "first_infusion": True},
        indication="kawasaki",
        dose="2 g/kg",
        days=1,
    )
    assert "kawasaki" in risk_tiers(plan)
    events = care_timeline(plan)
    offsets = offsets_h(plan, events)
    for day in range(1, 15):
        assert 24 * day in offsets
    assert 36 in offsets
    fever_36 = of(events, "check_in")[offsets.index(36)]
    assert "fever_after_kawasaki_ivig" in fever_36.questions
    assert max(offsets) == 14 * 24
    vaccines = [e for e in of(events, "vaccine_caution") if "measles" in e.title_en.lower()]
    assert len(vaccines) == 2
    end = plan.days[-1].end
    assert end is not None and vaccines[-1].starts_at == add_months(end, 11)


def test_infant_adds_temperature_and_nappies_to_every_checkin() -> None:
    plan = make({"birth_date": "2026-10-01"}, dose="1 g/kg", days=1, indication="itp")
    assert "infant" in risk_tiers(plan)
    checkins = of(care_timeline(plan), "check_in")
    assert all("dehydration_signs" in e.questions for e in checkins)
    assert all(e.tier and "infant" in e.tier for e in checkins)
    assert all("nappies" in e.detail_en for e in checkins)


def test_union_is_deduplicated_by_time_and_merges_questions() -> None:
    plan = make({"blood_group": "AB+", "first_infusion": True, "conditions": ["renal_impairment"]})
    checkins = of(care_timeline(plan), "check_in")
    times = [e.starts_at for e in checkins]
    assert len(times) == len(set(times))
    (day7,) = [e for e in checkins if e.tier and "haemolysis" in e.tier and "elevated" in e.tier]
    assert "looks_very_unwell_or_carer_worried" in day7.questions  # standard / elevated
    assert "yellow_skin_or_eyes" in day7.questions  # haemolysis
    assert len(day7.questions) == len(set(day7.questions))


def test_next_course_and_no_vaccine_note() -> None:
    plan = standard()
    events = care_timeline(plan, next_course_interval_days=28, vaccine_note=False)
    (nxt,) = of(events, "next_course")
    assert nxt.starts_at == plan.days[0].start + timedelta(days=28)  # type: ignore[operator]
    assert not of(events, "vaccine_caution")
    assert of(care_timeline(plan), "vaccine_caution")


def test_without_a_start_time_a_clear_error() -> None:
    plan = make(start=None)
    with pytest.raises(TimelineError, match=r"order\.start"):
        care_timeline(plan)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(datetime(2026, 1, 31, 9), 1) == datetime(2026, 2, 28, 9)
    assert add_months(datetime(2026, 3, 15, 9), 11) == datetime(2027, 2, 15, 9)


CONDITIONS = [
    "diabetes",
    "renal_impairment",
    "migraine",
    "thrombosis_history",
    "immunodeficiency",
    "heart_failure",
    "estrogen_use",
]
patients = st.fixed_dictionaries(
    {
        "blood_group": st.sampled_from(["O+", "A+", "AB-", None]),
        "first_infusion": st.sampled_from([True, False, None]),
        "conditions": st.lists(st.sampled_from(CONDITIONS), unique=True, max_size=3),
        "birth_date": st.sampled_from(["1950-01-01", "2020-06-15", "2026-10-01"]),
    }
)
orders = st.fixed_dictionaries(
    {
        "dose": st.sampled_from(["0.4 g/kg", "1 g/kg", "2 g/kg"]),
        "days": st.integers(1, 3),
        "indication": st.sampled_from(["pi", "jdm", "kawasaki", "itp"]),
    }
)


@settings(max_examples=40, deadline=None)
@given(patient=patients, order=orders, extra=st.sampled_from(CONDITIONS))
def test_checkins_follow_the_last_infusion_and_risk_only_adds(
    patient: dict[str, Any], order: dict[str, Any], extra: str
) -> None:
    plan = make(patient, **order)
    events = care_timeline(plan)
    end = plan.days[-1].end
    assert end is not None
    checkins = of(events, "check_in")
    assert checkins and all(e.starts_at >= end for e in checkins)
    more = make({**patient, "conditions": sorted({*patient["conditions"], extra})}, **order)
    before = {e.starts_at: set(e.questions) for e in checkins}
    after = {e.starts_at: set(e.questions) for e in of(care_timeline(more), "check_in")}
    assert set(before) <= set(after)
    assert all(before[t] <= after[t] for t in before)
    assert set(risk_tiers(plan)) <= set(risk_tiers(more))


def test_immunodeficiency_adds_the_fever_note() -> None:
    plan = make({"first_infusion": False}, dose="0.4 g/kg", days=1, indication="pi")
    assert risk_tiers(plan) == ("standard", "immunodeficiency")
    assert all("infection" in e.detail_en for e in of(care_timeline(plan), "check_in"))


@pytest.mark.parametrize(
    ("indication", "dose", "days", "months"),
    [("pi", "0.4 g/kg", 1, 9), ("itp", "1 g/kg", 1, 10), ("cidp", "2 g/kg", 2, 11)],
)
def test_live_vaccine_wait_by_dose_for_every_indication(
    indication: str, dose: str, days: int, months: int
) -> None:
    plan = make(dose=dose, days=days, indication=indication)
    events = care_timeline(plan)
    vaccines = [e for e in of(events, "vaccine_caution") if "measles" in e.title_en.lower()]
    end = plan.days[-1].end
    assert end is not None and [e.starts_at for e in vaccines] == [end, add_months(end, months)]
    assert f"{months} months" in vaccines[0].title_en
    assert "Australian Immunisation Handbook" in vaccines[0].source


def test_antibody_tests_unreliable_for_a_cited_period() -> None:
    plan = standard()
    events = care_timeline(plan, vaccine_note=False)
    tests = [e for e in of(events, "lab_reminder") if "antibody" in e.title_en.lower()]
    end = plan.days[-1].end
    assert end is not None and [e.starts_at for e in tests] == [end, add_months(end, 6)]
    assert "syphilis" in tests[0].detail_en and "sífilis" in tests[0].detail_es
    assert "half-life" in tests[0].source


def test_the_actual_end_moves_everything_counted_from_the_end() -> None:
    plan = standard()
    planned_end = plan.days[-1].end
    assert planned_end is not None
    actual = planned_end + timedelta(hours=3, minutes=17)
    events = care_timeline(plan, actual_end=actual)
    checkins = of(events, "check_in")
    assert [(e.starts_at - actual) / timedelta(hours=1) for e in checkins] == [0, 4, 24, 72, 168]
    (until,) = of(events, "hydrate_until")
    assert until.starts_at == actual
    # the planned infusion itself stays as approved
    (infusion,) = of(events, "infusion")
    assert infusion.ends_at == planned_end


def test_the_actual_end_must_be_in_the_plans_clock() -> None:
    from datetime import UTC

    plan = standard()
    end = plan.days[-1].end
    assert end is not None and end.tzinfo is None
    with pytest.raises(TimelineError, match="actual_end"):
        care_timeline(plan, actual_end=end.replace(tzinfo=UTC))


def test_premedication_repeats_every_n_hours_and_before_a_step() -> None:
    plan = make(
        premedication=[
            {"name": "acetaminophen", "dose": "15 mg/kg", "minutes_before": 30,
             "repeat_every": "4 h"},
            {"name": "cetirizine", "dose": "5 mg", "minutes_before": 30, "repeat_before_step": 3},
        ]
    )
    events = [e for e in care_timeline(plan) if e.kind == "premedication"]
    day1 = plan.days[0]
    assert day1.start is not None
    again = [e for e in events if e.title_en.startswith("Premedication again")]
    # Day 1 runs 08:30-14:15: acetaminophen again at 12:30; cetirizine before step 3 at 09:30.
    times = sorted((e.starts_at.strftime("%H:%M"), e.title_en) for e in again if
                   e.starts_at.date() == day1.start.date())
    assert times == [("09:30", "Premedication again: cetirizine"),
                     ("12:30", "Premedication again: acetaminophen")]
