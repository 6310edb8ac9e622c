"""The infusion day against its plan (pure): next day and date, volume stopped and grams given,
fluids by weight, and when vital signs are due."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivig.core import infusion_day as day

SNAPSHOT = {
    "product": {"concentration_mg_ml": 100},
    "days": [
        {"day": 1, "start": "2026-12-01T08:30", "volume_ml": 199.58, "dose_g": 19.958},
        {"day": 2, "date": "2026-12-02", "volume_ml": 199.58, "dose_g": 19.958},
    ],
}


def test_next_day_and_its_date_come_from_the_plan():
    assert day.next_day(SNAPSHOT, []) == 1 and day.next_day(SNAPSHOT, [1]) == 2
    assert day.next_day(SNAPSHOT, [1, 2]) is None
    assert day.planned_date(SNAPSHOT, 1) == date(2026, 12, 1)
    assert day.planned_date(SNAPSHOT, 2) == date(2026, 12, 2)
    assert day.planned_date(SNAPSHOT, 3) is None


def test_a_stop_short_of_the_days_volume_needs_a_reason_and_gives_the_grams():
    short = day.stopped(SNAPSHOT, 1, D(165))
    assert short.short and short.short_by_ml == D("34.58") and short.given_g == D("16.5")
    assert short.planned_g == D("19.958")
    whole = day.stopped(SNAPSHOT, 1, D("199.0"))  # within the 1 mL tolerance (design choice)
    assert not whole.short
    assert day.stopped({"days": SNAPSHOT["days"]}, 1, D(100)).given_g is None  # unknown


@pytest.mark.parametrize(
    ("kg", "ml"), [(3, 300), (10, 1000), (15, 1250), (20, 1500), (25, 1600), (70, 2500)]
)
def test_holliday_segar_matches_the_reference_table(kg, ml):
    assert day.holliday_segar_ml_day(D(kg)) == D(ml)


def test_maintenance_for_a_child_an_adult_and_an_unknown_weight():
    child = day.maintenance(D(20), D(6))
    assert child is not None and child.low_ml == D(1500) and "NG29" in child.source
    adult = day.maintenance(D(70), D(40))
    assert adult is not None and (adult.low_ml, adult.high_ml) == (D(1750), D(2100))
    assert "CG174" in adult.source
    assert day.maintenance(None, D(6)) is None


def test_the_single_drink_bound_is_a_labelled_design_choice():
    bound = day.single_entry_bound_ml(D(20))
    assert bound.bound_ml == D(1500) and bound.design_choice
    assert day.single_entry_bound_ml(None).bound_ml == D(1000)


def codes(points, status):
    return [(p.code, p.due_min) for p in points if p.status == status]


def test_vitals_checkpoints_of_a_whole_day():
    # before at -10, 15 min at 14, increases at 30 and 60 (only 30 checked), end at 180
    points = day.vitals_checkpoints(
        [D(-10), D(14), D(35), D(100), D(182)], [D(30), D(60)], D(180), D(300)
    )
    assert ("rate_increase", D(60)) in codes(points, "missed")
    assert ("rate_increase", D(30)) not in codes(points, "missed")
    assert ("after", D(210)) in codes(points, "missed")  # nothing 30-60 min after the end
    assert ("completion", D(180)) not in codes(points, "missed")
    assert ("steady", D(160)) in codes(points, "missed")  # 100 -> 182 is more than an hour
    assert all(p.source for p in points)


def test_while_running_the_overdue_check_is_due_and_the_next_is_upcoming():
    running = day.vitals_checkpoints([D(-5), D(15)], [], None, D(50))
    assert ("steady", D(75)) in codes(running, "upcoming")
    overdue = day.vitals_checkpoints([D(-5), D(15)], [], None, D(80))
    assert ("steady", D(75)) in codes(overdue, "due")
    assert not codes(overdue, "missed")
    first = day.vitals_checkpoints([], [], None, D(5))
    assert ("before", D(0)) in codes(first, "missed")
    assert ("at_15_min", D(15)) in codes(first, "upcoming")


@given(
    st.lists(st.integers(min_value=0, max_value=600), max_size=12),
    st.integers(min_value=1, max_value=600),
)
def test_no_gap_over_an_hour_is_left_unflagged(readings, end):
    points = day.vitals_checkpoints([D(r) for r in readings], [], D(end), D(end + 120))
    flagged = sorted(
        [D(0)]
        + [D(r) for r in readings if r <= end]
        + [p.due_min for p in points if p.code == "steady"]
    )
    marks = [m for m in flagged if m <= end] + [D(end)]
    assert all(b - a <= 60 for a, b in itertools.pairwise(marks))


# --- The readings that decide the vitals schedule (what the web looks up through an index)

minutes = st.decimals(
    min_value=-120, max_value=900, places=4, allow_nan=False, allow_infinity=False
)


@given(
    readings=st.lists(
        st.one_of(minutes, st.sampled_from([D(-60), D(0), D(10), D(25), D(60), D(120)])),
        max_size=40,
    ),
    increases=st.lists(st.decimals(min_value=1, max_value=600, places=3), max_size=6),
    end=st.one_of(st.none(), st.decimals(min_value=0, max_value=800, places=3)),
    now_after=st.decimals(min_value=0, max_value=300, places=2),
    bucket=st.sampled_from([D(60), D(30), D("59.9999"), D(7)]),
)
def test_the_readings_that_matter_give_exactly_the_same_schedule(
    readings, increases, end, now_after, bucket
):
    now = (end if end is not None else max(readings, default=D(0))) + now_after
    reference = day.vitals_checkpoints(readings, increases, end, now)
    few = day.vitals_readings_that_matter(readings, increases, end, now, bucket)
    assert day.vitals_checkpoints(few, increases, end, now) == reference
    assert set(few) <= set(readings)
    # a bounded number, whatever the number of readings
    stop = now if end is None else end
    assert len(few) <= len(increases) + 4 + 2 * (int(max(stop, D(0)) // bucket) + 1)


def test_dense_readings_reduce_to_a_few():
    readings = [D(i) / 10 for i in range(0, 3600)]  # every 6 seconds for 6 hours
    few = day.vitals_readings_that_matter(readings, [D(30)], None, D(360), D(60))
    assert len(few) < 20
    assert day.vitals_checkpoints(few, [D(30)], None, D(360)) == day.vitals_checkpoints(
        readings, [D(30)], None, D(360)
    )
