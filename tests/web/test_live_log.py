"""The live infusion page's hand-written reads (ivig.web.infusions.live_log) against the ORM's
answer to the same questions, on whichever database the suite runs on (SQLite, and
PostgreSQL in the second pass): every entry of every slice with who recorded it and whether a
correction withdrew it, and the latest triage result that still stands."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.paginator import Paginator

from ivig.web.infusions import live_log
from ivig.web.infusions.models import EventKind, InfusionEvent
from tests.web.conftest import make_member
from tests.web.test_infusions import approve, start

pytestmark = pytest.mark.django_db

LEVELS = ["ok", "expected", "call_doctor", "emergency"]


@pytest.fixture
def nurse(client, world):
    client.force_login(world.nurse)
    return client


@pytest.fixture
def people(world):
    """Who records: a named nurse and one without a name (shown by email)."""
    return [world.nurse, make_member(world.team_a, "nurse", email="no.name@example.org")]


def _random_day(infusion, rng: random.Random, count: int, people) -> None:
    """Entries of every kind, some triaged (some with an empty triage), by two people, at
    times that repeat (the id breaks ties), and corrections of some (corrections included)."""
    made: list[InfusionEvent] = []
    for i in range(count):
        kind = rng.choice(
            [EventKind.VITALS, EventKind.VITALS, EventKind.SYMPTOM, EventKind.RATE_CHANGE,
             EventKind.CORRECTION]
        )
        at = infusion.started_at + timedelta(minutes=rng.randrange(0, count // 2))
        data: dict = {"heart_rate": f"{60 + i} /min"}
        corrects = None
        if kind == EventKind.CORRECTION:
            if not made:
                continue
            corrects = rng.choice(made)
            data = {"reason": f"wrong entry {corrects.pk}"}
        elif kind in (EventKind.VITALS, EventKind.SYMPTOM) and rng.random() < 0.6:
            level = rng.choice(LEVELS)
            empty = rng.random() < 0.1
            data["triage"] = {} if empty else {"level": level, "heading": f"{level} {i}"}
        elif kind == EventKind.RATE_CHANGE:
            data = {"rate": "10 mL/h", "pump_rate_ml_h": "10.0", "rate_ml_kg_h": "0.5"}
        made.append(
            InfusionEvent.objects.create(
                infusion=infusion, kind=kind, at=at, data=data, corrects=corrects,
                recorded_by=rng.choice(people),
            )
        )


def _orm_latest_triage(infusion):
    """The question asked of the ORM: the latest symptom or vitals entry, not withdrawn, with
    a triage result."""
    standing = (
        infusion.events.filter(kind__in=[EventKind.SYMPTOM, EventKind.VITALS])
        .filter(corrections__isnull=True)
        .order_by("-at", "-pk")
    )
    for event in standing:
        if event.data.get("triage"):
            return event.data["triage"]
    return None


@pytest.mark.parametrize("seed", range(6))
def test_every_slice_of_the_log_matches_the_orm(nurse, world, people, seed):
    rng = random.Random(seed)
    infusion = start(nurse, world, approve(world))
    _random_day(infusion, rng, 70, people)
    expected = list(infusion.events.select_related("recorded_by").order_by("at", "pk"))
    withdrawn = set(
        InfusionEvent.objects.filter(corrects__isnull=False).values_list("corrects_id", flat=True)
    )
    entries = live_log.LogEntries(infusion)
    assert len(entries) == len(expected)
    for first, last in [(0, 20), (5, 25), (len(expected) - 20, len(expected)), (30, 31),
                        (0, len(expected)), (len(expected) - 1, len(expected) + 5)]:
        got = entries[first:last]
        want = expected[first:last]
        assert [e.pk for e in got] == [e.pk for e in want]
        for entry, event in zip(got, want, strict=True):
            assert (entry.at, entry.kind, entry.data) == (event.at, event.kind, event.data)
            assert entry.recorded_by == str(event.recorded_by)
            assert entry.withdrawn == (event.pk in withdrawn)
    # through Django's paginator, as the page reads it: every page, newest last
    pages = Paginator(entries, 20)
    seen = [e.pk for n in pages.page_range for e in pages.page(n).object_list]
    assert seen == [e.pk for e in expected]


@pytest.mark.parametrize("seed", range(6))
def test_the_latest_triage_matches_the_orm_as_entries_arrive(nurse, world, people, seed):
    rng = random.Random(100 + seed)
    infusion = start(nurse, world, approve(world))
    assert live_log.latest_triage(infusion) is None
    for _ in range(8):
        _random_day(infusion, rng, 12, people)
        assert live_log.latest_triage(infusion) == _orm_latest_triage(infusion)


def test_a_withdrawn_emergency_gives_way_to_the_triage_before_it(nurse, world):
    infusion = start(nurse, world, approve(world))
    t0 = infusion.started_at

    def entry(kind, minutes, level, corrects=None):
        data = {"triage": {"level": level, "heading": level}} if level else {}
        return InfusionEvent.objects.create(
            infusion=infusion, kind=kind, at=t0 + timedelta(minutes=minutes), data=data,
            recorded_by=world.nurse, corrects=corrects,
        )

    entry(EventKind.SYMPTOM, 10, "call_doctor")
    emergency = entry(EventKind.VITALS, 20, "emergency")
    entry(EventKind.VITALS, 30, None)  # vitals without a triage do not hide it
    assert live_log.latest_triage(infusion)["level"] == "emergency"
    entry(EventKind.CORRECTION, 31, None, corrects=emergency)
    assert live_log.latest_triage(infusion)["level"] == "call_doctor"
    entry(EventKind.SYMPTOM, 5, "emergency")  # recorded late, but earlier in time
    assert live_log.latest_triage(infusion)["level"] == "call_doctor"
