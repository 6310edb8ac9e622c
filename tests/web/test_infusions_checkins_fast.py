"""The infusions page's check-ins in one hand-written statement
(``history_sql.checkins_shown``) against the ORM's answers to the same questions, on whichever
database the suite runs on (SQLite, and PostgreSQL in the second pass): the newest check-ins
with their plans and what the list shows of their answers, and the newest overdue ones
(``records.overdue_checkins``), on random records with ties in time, several answers to a
check-in, headings of every JSON type and another patient's check-ins beside them."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.fields.json import KT
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ivig.web.infusions import history_sql, records
from ivig.web.infusions.models import CheckIn, CheckInAnswer, Infusion
from tests.web.conftest import make_patient
from tests.web.test_infusions import approve

pytestmark = pytest.mark.django_db

HEADINGS = ["Call the doctor", "Llame al médico <ya>", None, 3, True, "", "missing"]


def _random_checkins(world, patient, rng: random.Random, count: int) -> None:
    """``count`` check-ins over three infusions of two plans, due around now (some at the
    same moment), each with no answer or up to three (some answered at the same moment)."""
    plans = [approve(world), approve(world)]
    now = timezone.now()
    infusions = [
        Infusion.objects.create(
            approval=rng.choice(plans),
            patient=patient,
            day=1,
            started_by=world.nurse,
            started_at=now - timedelta(days=30 * i),
            ended_at=now - timedelta(days=30 * i - 1),
        )
        for i in range(1, 4)
    ]
    moments = [now + timedelta(hours=rng.randrange(-400, 100)) for _ in range(count // 2)]
    made = CheckIn.objects.bulk_create(
        CheckIn(
            infusion=rng.choice(infusions),
            patient=patient,
            due_at=rng.choice(moments),
            hours_after_end=Decimal(rng.choice(["4", "24", "48.5"])),
            label=f"Call {i}",
            focus={"ask": ["fever"]},
            tiers=[{"level": "expected"}],
        )
        for i in range(count)
    )
    for checkin in made:
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            heading = rng.choice(HEADINGS)
            triage = {"level": "expected"}
            if heading != "missing":
                triage["heading"] = heading
            CheckInAnswer.objects.create(
                checkin=checkin,
                answered_at=rng.choice(moments),
                answered_by=world.nurse,
                report={},
                triage=triage,
                level=rng.choice(["expected", "call_doctor", ""]),
            )


def _orm(patient, limit, now, overdue_limit):
    newest = list(CheckIn.objects.filter(patient=patient).order_by("-due_at", "-pk")[:limit])
    lines = {
        c.pk: list(
            CheckInAnswer.objects.filter(checkin=c)
            .annotate(heading=KT("triage__heading"))
            .order_by("answered_at", "pk")
            .values_list("pk", "answered_at", "level", "heading")
        )
        for c in newest
    }
    approval_of = {c.pk: c.infusion.approval_id for c in newest}
    overdue = records.overdue_checkins(patient, now, limit=overdue_limit)[::-1]
    return newest, lines, approval_of, overdue


def _described(checkins):
    return [
        (c.pk, c.infusion_id, c.patient_id, c.due_at, c.hours_after_end, c.label) for c in checkins
    ]


@pytest.mark.parametrize("seed", range(6))
def test_the_check_ins_shown_are_the_orm_s(world, seed):
    rng = random.Random(seed)
    other = make_patient(world.patient.team, world.nurse)
    _random_checkins(world, other, rng, 15)  # beside them: never read
    _random_checkins(world, world.patient, rng, rng.randrange(1, 70))
    now = timezone.now()
    for limit, overdue_limit in [(1, 1), (5, 6), (20, 6), (200, 200)]:
        newest, approval_of, overdue = history_sql.checkins_shown(
            world.patient.pk, limit, now, overdue_limit
        )
        orm_newest, orm_lines, orm_approval_of, orm_overdue = _orm(
            world.patient, limit, now, overdue_limit
        )
        assert _described(newest) == _described(orm_newest)
        assert {c.pk: [tuple(a) for a in c.answer_lines] for c in newest} == orm_lines
        assert approval_of == orm_approval_of
        assert _described(overdue) == _described(orm_overdue)


def test_the_check_ins_are_one_statement_reading_a_bounded_number_of_rows(world):
    rng = random.Random(11)
    _random_checkins(world, world.patient, rng, 300)
    now = timezone.now()
    with CaptureQueriesContext(connection) as context:
        newest, _approval_of, overdue = history_sql.checkins_shown(world.patient.pk, 20, now, 6)
    assert len(context.captured_queries) == 1
    assert len(newest) == 20 and len(overdue) == 6
    # a row per check-in shown and answer of it, and per overdue one: not per check-in
    answers = sum(max(1, len(c.answer_lines)) for c in newest)
    with connection.cursor() as cursor:
        query = context.captured_queries[0]["sql"]
        cursor.execute(query)
        assert len(cursor.fetchall()) == answers + 6 <= 20 * 3 + 6


OLD_OVERDUE = """{% load i18n words %}{% for item in overdue %}<li><a href="{% url 'infusions:checkin' patient.pk item.pk %}">{{ item|checkin_title }}</a> – {% translate "due" %} <time datetime="{{ item.due_at|local_iso }}">{{ item.due_at|when }}</time></li>{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Chatham"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_overdue_items_are_written_as_the_template_wrote_them(world, language, zone):
    from django.template import Context, Template
    from django.utils import translation

    from ivig.web.infusions.history_table import overdue_html

    _random_checkins(world, world.patient, random.Random(3), 5)
    items = list(CheckIn.objects.order_by("due_at", "pk"))
    items[0].label = "Fever <check> & more"
    items[1].label = "24 h after the infusion (day 2)"
    items[2].label = ""
    with translation.override(language), timezone.override(zone):
        want = Template(OLD_OVERDUE).render(Context({"overdue": items, "patient": world.patient}))
        got = overdue_html(items, world.patient.pk)
    assert got == want and got.count("<li>") == 5
    assert "Fever &lt;check&gt; &amp; more" in got or language == "es"
