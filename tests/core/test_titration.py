"""Rate steps → a per-day schedule: exact volumes, increasing times, pump rounding."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivig.core import titration, units
from ivig.core.order import OrderError, Step, TitrationRule
from ivig.core.units import Kind


def rate(text: str) -> units.Quantity:
    return units.parse(text, "rate", Kind.RATE)


def steps(*pairs: tuple[str, int | None]) -> tuple[Step, ...]:
    return tuple(Step(rate(r), m) for r, m in pairs)


SEED_STEPS = steps(("0.5 mL/kg/h", 30), ("1 mL/kg/h", 30), ("1.5 mL/kg/h", 30), ("2 mL/kg/h", None))


def test_seed_chart_example_by_hand() -> None:
    # 20 kg child, 10% product, 2 g/kg over 2 days: 20 g = 200 mL a day.
    resolved = titration.resolve(SEED_STEPS, Decimal(100), Decimal(20))
    assert [s.pump_rate_ml_h for s in resolved] == [10, 20, 30, 40]
    assert [s.rate_mg_kg_min for s in resolved] == [
        Decimal("0.833333333333"),
        Decimal("1.666666666667"),
        Decimal("2.5"),
        Decimal("3.333333333333"),
    ]
    sched = titration.schedule(resolved, Decimal(200))
    # 5 + 10 + 15 mL in the first 90 min, then 170 mL at 40 mL/h = 255 min.
    assert [s.volume_ml for s in sched.steps] == [5, 10, 15, 170]
    assert sched.steps[-1].end_min == Decimal(90 + 255)
    assert sched.delivered_ml == Decimal(200)
    assert sched.complete and not sched.unreached


def test_a_step_is_cut_short_when_the_volume_is_in() -> None:
    resolved = titration.resolve(SEED_STEPS, Decimal(100), Decimal(20))
    sched = titration.schedule(resolved, Decimal(12))
    assert [s.number for s in sched.steps] == [1, 2]
    assert sched.steps[1].cut_short
    assert sched.steps[1].end_min == Decimal(30) + Decimal(7) * 60 / 20
    assert [s.number for s in sched.unreached] == [3, 4]


def test_pump_rate_rounds_down_and_volumes_follow_the_pump() -> None:
    resolved = titration.resolve(steps(("4.8 mL/kg/h", None)), Decimal(100), Decimal("20.41"))
    assert resolved[0].pump_exact_ml_h == Decimal("97.968")
    assert resolved[0].pump_rate_ml_h == Decimal("97.9")
    sched = titration.schedule(resolved, Decimal("97.9"))
    assert sched.duration_min == Decimal(60)


def test_a_plan_whose_steps_all_have_minutes_may_not_deliver_the_volume() -> None:
    resolved = titration.resolve(
        steps(("1 mL/kg/h", 30), ("2 mL/kg/h", 30)), Decimal(100), Decimal(10)
    )
    sched = titration.schedule(resolved, Decimal(100))
    assert not sched.complete
    assert sched.delivered_ml == Decimal(15)


def test_bivigam_rule_is_clamped_at_six_mg_kg_min() -> None:
    # Bivigam: 0.5 mg/kg/min for 10 min, +0.8 every 20 min, max 6 (0.5 + 0.8*7 = 6.1 overshoots)
    rule = TitrationRule(rate("0.5 mg/kg/min"), rate("0.8 mg/kg/min"), 20, rate("6 mg/kg/min"), 10)
    resolved = titration.resolve(rule, Decimal(100), Decimal(20))
    assert [s.rate_mg_kg_min for s in resolved] == [
        Decimal("0.5"),
        Decimal("1.3"),
        Decimal("2.1"),
        Decimal("2.9"),
        Decimal("3.7"),
        Decimal("4.5"),
        Decimal("5.3"),
        Decimal("6"),
    ]
    assert resolved[-1].clamped and resolved[-1].minutes is None
    assert resolved[0].minutes == 10 and resolved[1].minutes == 20


def test_a_fixed_ml_h_rule_stays_exact() -> None:
    # A weight-independent order set: 30 mL/h x 15 min, +30 every 15 min, to 150 mL/h.
    rule = TitrationRule(rate("30 mL/h"), rate("30 mL/h"), 15, rate("150 mL/h"), None)
    resolved = titration.resolve(rule, Decimal(100), Decimal(70))
    assert [s.pump_rate_ml_h for s in resolved] == [30, 60, 90, 120, 150]


def test_a_rule_cannot_mix_fixed_and_per_kg_rates() -> None:
    rule = TitrationRule(rate("30 mL/h"), rate("0.5 mL/kg/h"), 15, rate("150 mL/h"), None)
    with pytest.raises(OrderError) as info:
        titration.resolve(rule, Decimal(100), Decimal(70))
    assert info.value.problems[0].field == "order.titration"


def test_a_rule_starting_above_its_max_is_rejected() -> None:
    rule = TitrationRule(rate("3 mL/kg/h"), rate("0.5 mL/kg/h"), 15, rate("2 mL/kg/h"), None)
    with pytest.raises(OrderError) as info:
        titration.resolve(rule, Decimal(100), Decimal(70))
    assert info.value.problems[0].field == "order.titration.start"


step_rates = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("8"), places=2)
step_minutes = st.integers(min_value=1, max_value=120)


@settings(max_examples=300, deadline=None)
@given(
    rates=st.lists(step_rates, min_size=1, max_size=8),
    minutes=st.lists(step_minutes, min_size=8, max_size=8),
    weight=st.decimals(min_value=Decimal("2"), max_value=Decimal("150"), places=2),
    conc=st.sampled_from([Decimal(50), Decimal(100)]),
    volume=st.decimals(min_value=Decimal("1"), max_value=Decimal("2000"), places=1),
)
def test_every_valid_plan_delivers_exactly_the_volume_with_increasing_times(
    rates: list[Decimal], minutes: list[int], weight: Decimal, conc: Decimal, volume: Decimal
) -> None:
    prescribed = tuple(
        Step(rate(f"{r} mL/kg/h"), None if i == len(rates) - 1 else minutes[i])
        for i, r in enumerate(rates)
    )
    resolved = titration.resolve(prescribed, conc, weight)
    if any(s.pump_rate_ml_h <= 0 for s in resolved):
        return  # reported by the checks as an impossible plan
    sched = titration.schedule(resolved, volume)
    assert sched.delivered_ml == volume
    assert sched.steps[-1].cumulative_ml == volume
    assert sum(s.volume_ml for s in sched.steps) == volume
    previous_end = Decimal(0)
    for s in sched.steps:
        assert s.start_min == previous_end
        assert s.end_min > s.start_min
        assert s.pump_rate_ml_h <= s.rate_ml_kg_h * weight  # never faster than prescribed
        previous_end = s.end_min
    assert sched.duration_min == previous_end
