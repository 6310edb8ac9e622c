"""The patient's infusions page reads a fixed number of queries however long the record (the
infusions counted by plan and day once serve the pager, the days started, the running
infusion, the course end and the brand figures; the newest check-ins tell the overdue ones),
and shows exactly what the separate look-ups gave. Timings: benchmarks/pages.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ivig.web.infusions import records
from ivig.web.infusions.models import CheckIn, CheckInAnswer, EventKind, InfusionEvent
from ivig.web.infusions.views import CHECKINS_SHOWN, HISTORY_PAGE
from tests.core import builders
from tests.web.test_care_checkins import approve_document, run_last_day
from tests.web.test_growth import add_infusions
from tests.web.test_infusions import start

pytestmark = pytest.mark.django_db

# 3 queries before the view (session, user, the patient with the membership that allows it),
# 8 of the page: infusions by plan and day, a page of infusions, approvals, the versions
# replacing them, the check-ins (the newest with their answers, and the overdue ones), the
# page's events, the brand figures (two)
MOST_QUERIES = 11


@pytest.fixture
def nurse(client, world):
    client.force_login(world.nurse)
    return client


def page_of(client, world):
    path = f"/patients/{world.patient.pk}/infusions/"
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context.captured_queries), response


def reaction(infusion, user, level):
    InfusionEvent.objects.create(
        infusion=infusion,
        kind=EventKind.SYMPTOM,
        at=infusion.started_at + timedelta(minutes=20),
        recorded_by=user,
        data={"symptom_words": ["rash"], "triage": {"level": level, "heading": "Call"}},
    )


def test_the_page_reads_the_same_queries_for_3_or_60_infusions(nurse, world):
    approval = approve_document(world, builders.document())
    old = add_infusions(world, approval, 3)
    reaction(old[0], world.nurse, "call_doctor")
    few, _response = page_of(nurse, world)
    add_infusions(world, approval, 57)
    many, response = page_of(nurse, world)
    assert few == many <= MOST_QUERIES, (few, many)
    assert response.context["page"].paginator.count == 60
    body = response.content.decode()
    assert f"Page 1 of {60 // HISTORY_PAGE} (60 in all)" in body and "60 infusions" in body
    assert "infusions with a reaction: 1" in body
    assert response.context["next_day"] == 2 and response.context["running"] is None


def test_the_page_shows_what_the_separate_look_ups_give(nurse, world):
    """Running infusion, next day, planned check-ins (from the planned end), brand figures and
    the pager's count, against the functions that ask the database each on its own."""
    approval = approve_document(world, builders.document())
    add_infusions(world, approval, 4)
    running = start(nurse, world, approval, day=2)
    _count, response = page_of(nurse, world)
    context = response.context
    assert context["running"] == {
        "pk": running.pk,
        "day": running.day,
        "started_at": running.started_at,
    }
    body = response.content.decode()
    assert f'href="/patients/{world.patient.pk}/infusions/{running.pk}/"' in body
    assert 'id="running-infusion"' in body
    assert context["next_day"] is None  # both days started (the form waits for the stop)
    assert context["planned_checkins"] == records.planned_checkins(approval)
    assert context["planned_checkins"] and 'id="planned-checkins"' in body
    history = records.patient_history(world.patient)
    assert context["brands"] == records.brand_records(history)
    assert context["page"].paginator.count == len(history) == 5
    assert context["overdue"] == records.overdue_checkins(world.patient) == []


def test_the_planned_check_ins_count_from_the_actual_end_of_the_last_day(nurse, world):
    approval = approve_document(world, builders.document())
    ended = run_last_day(nurse, world, approval)
    CheckIn.objects.filter(infusion=ended).delete()  # as if no check-in was recorded yet
    _count, response = page_of(nurse, world)
    planned = response.context["planned_checkins"]
    assert planned == records.planned_checkins(approval)  # course end looked up there
    assert planned != records.planned_checkins(approval, None, end_known=True)  # planned end


def test_overdue_and_planned_check_ins_beyond_the_newest_shown(nurse, world):
    """More check-ins than the page lists: an old unanswered one is still overdue, and an old
    course's check-ins still keep its planned check-ins off the page."""
    approval = approve_document(world, builders.document())
    ended = run_last_day(nurse, world, approval)
    CheckIn.objects.filter(infusion=ended).delete()
    now = timezone.now()
    forgotten = CheckIn.objects.create(
        infusion=ended, patient=world.patient, due_at=now - timedelta(days=400),
        hours_after_end=Decimal(24), label="Forgotten call", focus={}, tiers=[],
    )
    other = approve_document(world, builders.document())  # newer: the default to start
    later = add_infusions(world, other, 1)[0]
    checkins = CheckIn.objects.bulk_create(
        CheckIn(
            infusion=later, patient=world.patient, due_at=now - timedelta(days=60 - i),
            hours_after_end=Decimal(24), label=f"Call {i}", focus={}, tiers=[],
        )
        for i in range(CHECKINS_SHOWN + 5)
    )
    for item in checkins:
        CheckInAnswer.objects.create(
            checkin=item, answered_at=now, answered_by=world.nurse, report={}, triage={},
            level="expected",
        )
    count, response = page_of(nurse, world)
    assert count <= MOST_QUERIES + 1  # the course's check-ins asked apart
    context = response.context
    assert [c.pk for c in context["overdue"]] == [forgotten.pk]
    assert records.overdue_checkins(world.patient) == [forgotten]
    assert "Forgotten call" in response.content.decode()
    assert context["start_default"] == other
    assert context["planned_checkins"] == []  # the course of ``other`` has check-ins
    assert len(context["checkins"]) == CHECKINS_SHOWN


# The history rows as the page's template wrote them before ``history_table`` wrote them.
OLD_ROWS = """{% load i18n words %}{% for item in history %}
      <tr><td><a href="{% url 'infusions:detail' patient.pk item.infusion.pk %}">{{ item.infusion.started_at|when }}</a></td><td>{{ item.infusion.day }}</td><td>{{ item.brand }}</td><td>{{ item.dose_g }}</td><td>{% if item.given_g is not None %}{{ item.given_g }}{% if item.volume_infused_ml %} ({{ item.volume_infused_ml }} mL){% endif %}{% elif item.given_words == "running" %}{% translate "running" %}{% else %}{% translate "unknown" %}{% endif %}</td><td>{{ item.lots|join:"; " }}</td>
        <td>{% if item.highest_ml_h is not None %}{{ item.highest_ml_h|floatformat:1 }} mL/h ({{ item.highest_ml_kg_h|floatformat:3 }} mL/kg/h){% else %}–{% endif %}</td>
        <td>{% for r in item.reactions %}{{ r.symptoms|join:", " }} → {{ r.heading }}{% if not forloop.last %}<br>{% endif %}{% empty %}{% translate "none" %}{% endfor %}</td></tr>
    {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_history_rows_are_the_template_s(world, language):
    from django.template import Context, Template
    from django.utils import translation

    from ivig.web.infusions.history_table import rows_html
    from ivig.web.infusions.models import Infusion
    from ivig.web.infusions.records import InfusionSummary

    now = timezone.now()

    def infusion(pk, ended):
        return Infusion(pk=pk, day=pk % 3 + 1, started_at=now - timedelta(days=pk),
                        ended_at=now if ended else None)

    history = [
        InfusionSummary(infusion(1, False), "Privigen", "privigen", 7.983, [], None, None),
        InfusionSummary(
            infusion(2, True), "Gamunex-C <b>", "gamunex_c", Decimal("12.5"),
            ["Privigen P1 (exp. 2027-06-30)", "A&B <2> (exp. ?)"],
            Decimal("40.05"), Decimal("2.0005"),
            reactions=[
                {"symptoms": ["rash", "<itch>"], "heading": "Call the doctor & wait"},
                {"symptoms": [], "heading": "Emergency"},
            ],
            given_g="8.4", volume_infused_ml="84.0",
        ),
        InfusionSummary(infusion(3, True), "", "", None, ["L"], Decimal("5"), Decimal("0.25"),
                        given_g="8", volume_infused_ml=None),
        InfusionSummary(infusion(4, True), "X", "x", "7,9", [], None, None),
        # the same rates as an earlier row (written once for the table)
        InfusionSummary(infusion(5, True), "Y", "y", 3, [], Decimal("40.050"), Decimal("2.0005")),
    ]
    with translation.override(language):
        expected = Template(OLD_ROWS).render(
            Context({"history": history, "patient": world.patient})
        )
        assert rows_html(history, world.patient.pk) == expected
    assert "&lt;itch&gt;" in expected and "A&amp;B" in expected


def test_the_start_list_reads_the_approvals_the_orm_reads(client, world):
    """Replaced, archived and current versions: the same choices, wording and default as
    through the ORM (``_approvals``, each version's ``superseded_by``)."""
    from ivig.core.infusion_checks import is_plan_snapshot
    from ivig.web.infusions import history_sql
    from ivig.web.infusions.forms import start_choice_text
    from ivig.web.infusions.views import _approvals
    from ivig.web.plans.approval import approve, start_choices
    from tests.web.test_approval import FAST_LAST_STEP
    from tests.web.test_plans import form_data, save_plan, url

    child = world.patient
    client.force_login(world.prescriber)
    old = save_plan(client, child, label="October course")
    approve(old, world.prescriber)
    client.post(
        url("edit", child.pk, old.pk), form_data(steps=FAST_LAST_STEP, label="November course")
    )
    new = old.superseded_by.get()
    approve(new, world.prescriber, {"rate_above_label_max": "Tolerated before"})
    client.post(url("edit", child.pk, new.pk), form_data(label="Draft"))  # replaces ``new``
    gone = save_plan(client, child, label="Archived course")
    approve(gone, world.prescriber)
    client.post(url("archive", child.pk, gone.pk), {"reason": "Wrong weight"})
    gone.refresh_from_db()
    assert gone.archived_at is not None

    def described(choices, default):
        return [(start_choice_text(c), c.current) for c in choices], default

    every, replacing = history_sql.startable_approvals(child.pk)
    every = [a for a in every if is_plan_snapshot(a.snapshot)]  # as the page (and _approvals)
    orm = _approvals(child)
    assert len(every) == 2 and every == orm
    assert [a.plan_version for a in every] == [a.plan_version for a in orm]
    sql_choices = described(*start_choices(every, replacing))
    assert sql_choices == described(*start_choices(orm))
    texts = " ".join(text for text, _current in sql_choices[0])
    assert "REPLACED by" in texts and "Draft" in texts and "Archived course" not in texts


OLD_PLANNED = """{% load i18n words %}{% for event in planned_checkins %}
    <li>{% if language == "es" %}{{ event.title_es }}{% else %}{{ event.title_en }}{% endif %} – {% translate "due" %} <time datetime="{{ event.starts_at|local_iso }}">{{ event.starts_at|when }}</time></li>
  {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_planned_check_ins_are_the_template_s(language):
    from datetime import datetime

    from django.template import Context, Template
    from django.utils import translation

    from ivig.core.timeline import CareEvent
    from ivig.web.infusions.history_table import planned_html

    def event(starts_at, title):
        return CareEvent("check_in", starts_at, None, title, f"{title} (es)", "", "", None, (), "")

    planned = [
        event(datetime(2026, 12, 3, 8, 30), "Check-in: 4 h <after>"),  # a plan's naive time
        event(timezone.now(), "Llamada & más"),
    ]
    with translation.override(language):
        expected = Template(OLD_PLANNED).render(
            Context({"planned_checkins": planned, "language": language})
        )
        assert planned_html(planned, language) == expected
    assert "&lt;after&gt;" in expected or "&amp;" in expected


def test_the_infusions_are_counted_from_an_index_alone(world):
    """The groups and the by-brand rates read a long history's infusions from the (patient,
    plan, day, start, end) index, not the table's rows (SQLite's plan: PostgreSQL picks its
    own by the table's size)."""
    from ivig.web.infusions import history_sql

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query plan")
    approval = approve_document(world, builders.document())
    add_infusions(world, approval, 30)
    with CaptureQueriesContext(connection) as context:
        history_sql.infusion_groups(world.patient.pk)
        history_sql.tolerated_rates(world.patient.pk, [], records.REACTION_LEVELS)
    with connection.cursor() as cursor:
        for query in context.captured_queries:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "COVERING INDEX infusion_patient_plan_day" in plan, plan
