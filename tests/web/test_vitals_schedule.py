"""The vitals schedule reads a bounded number of rows through an index (issue 10: pages stay
fast as records grow), and gives exactly what the core's reference gives from every reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivig.core import infusion_day
from ivig.web.infusions import records
from ivig.web.infusions.models import EventKind, Infusion, InfusionEvent
from tests.web.test_infusions import approve

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)
HOUR_US = 3_600_000_000
MIN_US = 60_000_000

# offsets from the start in microseconds: anywhere, or right at the edges that matter (the
# hour-long stretches, the windows around the start and 15 minutes, a millisecond either side)
edges = st.builds(
    lambda base, nudge: base + nudge,
    st.sampled_from(
        [0, -60 * MIN_US, 10 * MIN_US, 25 * MIN_US]
        + [k * HOUR_US for k in range(1, 8)]
        + [k * HOUR_US + 30 * MIN_US for k in range(0, 7)]
    ),
    st.sampled_from([0, 1, -1, 999, -999, 1000, -1000, 1001, -1001, 7_000_000]),
)
offsets = st.one_of(st.integers(min_value=-2 * HOUR_US, max_value=9 * HOUR_US), edges)


def _infusion(world, approval, end_us):
    return Infusion.objects.create(
        approval=approval,
        patient=world.patient,
        day=1,
        started_by=world.nurse,
        started_at=START,
        ended_at=None if end_us is None else START + timedelta(microseconds=end_us),
    )


def _vitals(infusion, user, offsets_us, withdrawn):
    events = InfusionEvent.objects.bulk_create(
        InfusionEvent(
            infusion=infusion,
            kind=EventKind.VITALS,
            at=START + timedelta(microseconds=us),
            recorded_by=user,
            data={"heart_rate": "90 /min"},
        )
        for us in offsets_us
    )
    InfusionEvent.objects.bulk_create(
        InfusionEvent(
            infusion=infusion,
            kind=EventKind.CORRECTION,
            at=START,
            recorded_by=user,
            data={"reason": "wrong patient"},
            corrects=event,
        )
        for event, out in zip(events, withdrawn, strict=False)
        if out
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    readings=st.lists(st.tuples(offsets, st.booleans()), max_size=30),
    increases_us=st.lists(offsets.filter(lambda us: us > 0), max_size=4),
    end_us=st.one_of(st.none(), offsets.filter(lambda us: us >= 0)),
    now_after_us=st.integers(min_value=0, max_value=4 * HOUR_US),
)
def test_the_indexed_lookups_give_exactly_the_reference_schedule(
    world, readings, increases_us, end_us, now_after_us
):
    with transaction.atomic():  # each example on its own, rolled back
        _compare(world, readings, increases_us, end_us, now_after_us)
        transaction.set_rollback(True)


def _compare(world, readings, increases_us, end_us, now_after_us):
    approval = approve(world)
    infusion = _infusion(world, approval, end_us)
    _vitals(infusion, world.nurse, [us for us, _out in readings], [out for _us, out in readings])
    now = START + timedelta(microseconds=(end_us or max([0] + [r for r, _o in readings])))
    now += timedelta(microseconds=now_after_us)
    minute = records.minutes_since_start
    increases = sorted(minute(infusion, START + timedelta(microseconds=us)) for us in increases_us)
    end = minute(infusion, infusion.ended_at) if infusion.ended_at else None
    now_min = minute(infusion, now)
    every = [minute(infusion, e.at) for e in infusion.current_events((EventKind.VITALS,))]
    reference = infusion_day.vitals_checkpoints(every, increases, end, now_min)
    few = records._vitals_that_matter(infusion, increases, end, infusion.ended_at or now)
    assert infusion_day.vitals_checkpoints(few, increases, end, now_min) == reference
    assert set(few) <= set(every)


def test_the_schedule_on_the_page_reads_the_same_rows_for_ten_or_a_thousand_readings(world):
    approval = approve(world)
    counts = {}
    for n in (10, 1000):
        infusion = _infusion(world, approval, 6 * HOUR_US)
        step = 6 * HOUR_US // n
        _vitals(infusion, world.nurse, [i * step for i in range(n)], [i % 7 == 3 for i in range(n)])
        every = [
            records.minutes_since_start(infusion, e.at)
            for e in infusion.current_events((EventKind.VITALS,))
        ]
        now = START + timedelta(hours=8)
        end = records.minutes_since_start(infusion, infusion.ended_at)
        expected = infusion_day.vitals_checkpoints(
            every, [], end, records.minutes_since_start(infusion, now)
        )
        with CaptureQueriesContext(connection) as queries:
            checks = records.vitals_checks(infusion, now)
        assert [(c.code, c.status, c.taken_at) for c in checks] == [
            (
                p.code,
                p.status,
                None if p.taken_min is None else START + timedelta(minutes=float(p.taken_min)),
            )
            for p in expected
        ]
        counts[n] = len(queries.captured_queries)
    assert counts[10] == counts[1000] <= 3
