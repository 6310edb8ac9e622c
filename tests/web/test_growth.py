"""Pages stay light as records grow: paged logs and lists, an htmx answer to a record form
instead of the whole page, and a number of queries that does not grow with the record.
(Timings are measured by benchmarks/pages.py, never asserted here.)"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ivig.web.infusions.models import EventKind, Infusion, InfusionEvent
from ivig.web.infusions.views import HISTORY_PAGE
from ivig.web.patients.models import Measurement, MeasurementKind
from tests.web.test_infusions import approve, at, start, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse(client, world):
    client.force_login(world.nurse)
    return client


def add_events(infusion, user, count, kind=EventKind.VITALS):
    InfusionEvent.objects.bulk_create(
        InfusionEvent(
            infusion=infusion,
            kind=kind,
            at=infusion.started_at + timedelta(seconds=10 * i),
            recorded_by=user,
            data={"heart_rate": f"{60 + i} /min"}
            if kind == EventKind.VITALS
            else {"rate": "10 mL/h", "pump_rate_ml_h": "10.0", "rate_ml_kg_h": f"{i}.000"},
        )
        for i in range(count)
    )


def add_infusions(world, approval, count, events_each=2):
    now = timezone.now()
    infusions = Infusion.objects.bulk_create(
        Infusion(
            approval=approval,
            patient=world.patient,
            day=1,
            started_by=world.nurse,
            started_at=now - timedelta(days=30 * (i + 1)),
            ended_at=now - timedelta(days=30 * (i + 1), hours=-3),
        )
        for i in range(count)
    )
    for infusion in infusions:
        add_events(infusion, world.nurse, events_each, EventKind.RATE_CHANGE)
    return infusions


def test_the_infusion_log_shows_the_newest_page_and_pages_back(nurse, world):
    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 121)
    body = nurse.get(url(world, infusion)).content.decode()
    # page 1 is always the newest 20 (a page counted from the oldest would show 1 of 121)
    assert "180 /min" in body and "161 /min" in body and "160 /min" not in body
    assert "Page 1 of 7 (121 in all)" in body and 'rel="next"' in body
    assert "Older entries" in body and 'rel="prev"' not in body
    oldest = nurse.get(url(world, infusion) + "?page=7").content.decode()
    assert "60 /min" in oldest and "61 /min" not in oldest and "Newer entries" in oldest
    second = nurse.get(url(world, infusion) + "?page=2").content.decode()
    assert "141 /min" in second and "160 /min" in second and "161 /min" not in second
    # a page that does not exist shows the nearest one, never an error
    assert nurse.get(url(world, infusion) + "?page=zz").status_code == 200
    assert nurse.get(url(world, infusion) + "?page=999").status_code == 200


def test_withdrawn_entries_and_the_latest_triage_are_known_beyond_the_page(nurse, world):
    infusion = start(nurse, world, approve(world))
    response = nurse.post(
        url(world, infusion, "record/symptom/"),
        {"symptom-at": at(infusion, 5), "symptom-symptoms": ["difficulty_breathing"]},
    )
    assert response.status_code == 302
    add_events(infusion, world.nurse, 60)  # pushes the symptom off the newest page
    body = nurse.get(url(world, infusion)).content.decode()
    assert 'id="emergency"' in body  # the banner comes from the latest triage, not the page


def test_a_record_form_posted_by_htmx_answers_with_a_fragment(nurse, world):
    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 80)
    response = nurse.post(
        url(world, infusion, "record/vitals/"),
        {"vitals-at": at(infusion, 30), "vitals-heart_rate": "55 /min"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="record-vitals"' in body and "Recorded." in body
    assert 'id="log" hx-swap-oob="true"' in body and "55 /min" in body
    assert 'id="triage-box" hx-swap-oob="true"' in body
    assert len(body) < 30_000
    assert InfusionEvent.objects.filter(data__heart_rate="55 /min").count() == 1


def test_a_refused_htmx_record_answers_with_the_form_and_saves_nothing(nurse, world):
    infusion = start(nurse, world, approve(world))
    before = InfusionEvent.objects.count()
    response = nurse.post(
        url(world, infusion, "record/fluid/"),
        {"fluid-at": at(infusion, 30), "fluid-volume": "250"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="record-fluid" open' in body and "unit" in body and "hx-swap-oob" not in body
    assert InfusionEvent.objects.count() == before


def test_the_record_forms_open_on_demand_and_still_work_without_javascript(nurse, world):
    infusion = start(nurse, world, approve(world))
    address = url(world, infusion, "record/vitals/")
    page = nurse.get(url(world, infusion)).content.decode()
    # the infusion page links to each form (htmx fetches it in place) instead of holding them
    assert f'href="{address}" hx-get="{address}" hx-target="#record-vitals"' in page
    assert 'name="vitals-heart_rate"' not in page
    fragment = nurse.get(address, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="record-vitals" open' in fragment
    assert f'action="{address}"' in fragment and f'hx-post="{address}"' in fragment
    assert 'name="vitals-heart_rate"' in fragment and "autofocus" in fragment
    # without JavaScript: a light page with just that form, posting to the same address
    light = nurse.get(address).content.decode()
    assert "<html" in light and f'action="{address}"' in light and "hx-post" not in light
    assert 'name="vitals-heart_rate"' in light and 'name="vitals-temperature_0"' in light
    refused = nurse.post(address, {"vitals-at": at(infusion, 30), "vitals-spo2": "130"})
    assert refused.status_code == 200 and "oxygen saturation" in refused.content.decode()
    assert 'value="130"' in refused.content.decode()  # the bound form comes back
    assert not InfusionEvent.objects.filter(kind=EventKind.VITALS).exists()
    response = nurse.post(
        url(world, infusion, "record/vitals/"),
        {"vitals-at": at(infusion, 30), "vitals-heart_rate": "99 /min"},
    )
    assert response.status_code == 302  # no JavaScript: back to the (paged) log


def _queries(client, path):
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_infusions_page_is_paged_and_its_queries_do_not_grow(nurse, world):
    approval = approve(world)
    add_infusions(world, approval, 3)
    few = _queries(nurse, f"/patients/{world.patient.pk}/infusions/")
    add_infusions(world, approval, 40)
    many = _queries(nurse, f"/patients/{world.patient.pk}/infusions/")
    assert many == few
    body = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    assert f"Page 1 of {-(-43 // HISTORY_PAGE)} (43 in all)" in body
    assert len(re.findall(r'href="/patients/\d+/infusions/\d+/"', body)) == HISTORY_PAGE
    # the brand summary still counts every infusion, and the highest rate of them all
    assert "43 infusions" in body and "tolerated up to 1.000 mL/kg/h" in body


def test_the_summary_csv_reads_every_infusion_in_a_fixed_number_of_queries(nurse, world):
    approval = approve(world)
    add_infusions(world, approval, 2)
    few = _queries(nurse, f"/patients/{world.patient.pk}/infusions/summary.csv")
    add_infusions(world, approval, 20)
    many = _queries(nurse, f"/patients/{world.patient.pk}/infusions/summary.csv")
    assert many == few
    csv = nurse.get(f"/patients/{world.patient.pk}/infusions/summary.csv").content.decode()
    assert len(csv.strip().splitlines()) == 1 + 22


def test_the_timeline_is_paged(nurse, world):
    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 70, EventKind.RATE_CHANGE)
    body = nurse.get(url(world, infusion, "timeline/")).content.decode()
    assert "Page 2 of 2 (71 in all)" in body  # 70 changes and the "now" row


def test_the_patient_page_and_the_history_are_paged(nurse, world):
    now = timezone.now()
    for i in range(60):
        Measurement.objects.create(
            patient=world.patient, kind=MeasurementKind.WEIGHT, value=Decimal(20) + i,
            unit="kg", taken_at=now - timedelta(hours=i), recorded_by=world.nurse,
        )
    body = nurse.get(f"/patients/{world.patient.pk}/").content.decode()
    assert "Page 1 of 7 (61 in all)" in body and body.count("Archive (wrong entry)") == 10
    history = nurse.get(f"/patients/{world.patient.pk}/history/").content.decode()
    # 20 entries a page: the 60 weights and the record's first entries make four pages
    assert "Page 1 of 4" in history
    assert history.count('class="history-entry"') == 20
    last = nurse.get(f"/patients/{world.patient.pk}/history/?page=4").content.decode()
    assert 0 < last.count('class="history-entry"') <= 20


def test_a_stop_posted_by_htmx_reloads_the_whole_page(nurse, world):
    from tests.web.test_infusions import stop_data

    infusion = start(nurse, world, approve(world))
    response = nurse.post(
        url(world, infusion, "record/stop/"), stop_data(infusion, 100), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == url(world, infusion)
    infusion.refresh_from_db()
    assert infusion.ended_at is not None


def test_every_page_of_the_log_shows_the_same_entries_read_either_way(nurse, world):
    """Page 1 is the newest entries; the newer half of the pages is read backwards from the
    newest entry, the older half forwards: the same entries, oldest first within a page, as
    the plain order; each entry links to its own correction page."""
    from django.urls import reverse

    infusion = start(nurse, world, approve(world))
    from ivig.web.infusions.views import LOG_PAGE

    total = 6 * LOG_PAGE + 3  # six full pages and a short one (the oldest)
    add_events(infusion, world.nurse, total)
    in_order = list(infusion.events.order_by("at", "pk"))
    bounds = {n + 1: (max(total - (n + 1) * LOG_PAGE, 0), total - n * LOG_PAGE) for n in range(7)}
    for number, (first, last) in bounds.items():
        body = nurse.get(url(world, infusion) + f"?page={number}").content.decode()
        shown = re.findall(r"(\d+) /min", body)
        assert shown == [e.data["heart_rate"].split()[0] for e in in_order[first:last]]
        for event in in_order[first:last]:
            address = reverse(
                "infusions:correct",
                kwargs={"patient_id": world.patient.pk, "infusion_id": infusion.pk,
                        "event_id": event.pk},
            )
            assert f'href="{address}"' in body
        assert "<strong>" in body and " Vitals</strong>" in body  # the kind's label
    assert len(re.findall(r"(\d+) /min", nurse.get(url(world, infusion) + "?page=7").content
                          .decode())) == 3
    newest = nurse.get(url(world, infusion)).content.decode()
    assert re.findall(r"(\d+) /min", newest)[-1] == "182"  # 60 + 122: the newest last


def test_the_infusion_page_reads_a_fixed_number_of_queries_and_bounded_rows(nurse, world):
    """20 or 600 entries: the same queries, and every query on the events is bounded (a page,
    a LIMIT, a count, the withdrawn entries of the page, one kind's latest) - none reads the
    whole log (the vitals schedule looks its readings up through an index)."""
    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 20)
    few = _queries(nurse, url(world, infusion))
    add_events(infusion, world.nurse, 580)
    with CaptureQueriesContext(connection) as context:
        response = nurse.get(url(world, infusion))
    assert response.status_code == 200 and len(context.captured_queries) == few
    for query in context.captured_queries:
        sql = query["sql"]
        if '"infusions_infusionevent"' in sql and "COUNT(" not in sql:
            bounded = "LIMIT" in sql or '"corrects_id" IN (' in sql
            kinds = re.findall(r'"kind" (?:= \'(\w+)\'|IN \(([^)]*)\))', sql)
            # the pump's and the vials' entries are few; the vitals are what grows
            few_kinds = kinds and all("vitals" not in "".join(k) for k in kinds)
            assert bounded or few_kinds, sql


def test_the_stored_triage_level_follows_the_data_and_finds_reactions_among_routine_vitals(
    nurse, world
):
    """``triage_level`` is computed by the database from ``data`` (bulk inserts included): the
    summaries find the vitals that were a reaction without reading the routine ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ivig.web.infusions import records

    infusion = start(nurse, world, approve(world))
    add_events(infusion, world.nurse, 300)  # routine vitals: no triage at all
    levels = ["ok", "call_doctor", "emergency", None]
    InfusionEvent.objects.bulk_create(
        InfusionEvent(
            infusion=infusion, kind=EventKind.VITALS, recorded_by=world.nurse,
            at=infusion.started_at + timedelta(minutes=90 + i),
            data={"heart_rate": "999 /min", "triage": {"level": level} if level else {}},
        )
        for i, level in enumerate(levels)
    )
    stored = dict(
        InfusionEvent.objects.filter(data__heart_rate="999 /min").values_list("at", "triage_level")
    )
    assert sorted(stored.values(), key=str) == sorted(levels, key=str)
    with CaptureQueriesContext(connection) as context:
        found = records.summary_events([infusion.pk])
    reactions = [e.data["triage"]["level"] for e in found if e.kind == EventKind.VITALS]
    assert reactions == ["call_doctor", "emergency"]
    assert len(context.captured_queries) == 2


def test_the_infusions_page_lists_the_newest_check_ins_oldest_first(nurse, world):
    """A long history has hundreds of check-ins: the page lists the newest 20 (not the oldest
    20, which would hide this week's behind last year's), in time order."""
    from ivig.web.infusions.models import CheckIn
    from ivig.web.infusions.views import CHECKINS_SHOWN

    infusion = start(nurse, world, approve(world))
    now = timezone.now()
    CheckIn.objects.bulk_create(
        CheckIn(
            infusion=infusion, patient=world.patient, due_at=now - timedelta(days=70 - i),
            hours_after_end=Decimal(24), label=f"Call number {i:03d}", focus={}, tiers=[],
        )
        for i in range(CHECKINS_SHOWN + 10)
    )
    body = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    section = body.split('id="checkins-heading"')[1].split("</section>")[0]
    shown = re.findall(r"Call number (\d{3})", section)
    assert shown == [f"{i:03d}" for i in range(10, CHECKINS_SHOWN + 10)]


def test_the_patient_page_lists_the_newest_overdue_check_ins_not_all(nurse, world):
    """A family that stopped answering has hundreds of overdue check-ins: the patient page lists
    the newest few (the current course's, the ones to act on) and says there are older ones, in
    a fixed number of queries; an answered one is not overdue."""
    from ivig.web.infusions.models import CheckIn, CheckInAnswer
    from ivig.web.infusions.records import OVERDUE_SHOWN

    infusion = start(nurse, world, approve(world))
    now = timezone.now()

    def add(count, first=0):
        return CheckIn.objects.bulk_create(
            CheckIn(
                infusion=infusion, patient=world.patient, due_at=now - timedelta(days=400 - i),
                hours_after_end=Decimal(24), label=f"Call number {i:03d}", focus={}, tiers=[],
            )
            for i in range(first, first + count)
        )

    page = f"/patients/{world.patient.pk}/"
    add(OVERDUE_SHOWN)
    body = nurse.get(page).content.decode()
    assert re.findall(r"Call number (\d{3})", body) == [f"{i:03d}" for i in range(OVERDUE_SHOWN)]
    assert 'id="more-overdue"' not in body
    few = _queries(nurse, page)
    made = add(300, first=OVERDUE_SHOWN)
    CheckInAnswer.objects.create(
        checkin=made[-1], answered_at=now, answered_by=world.nurse, report={}, triage={}
    )
    with CaptureQueriesContext(connection) as context:
        body = nurse.get(page).content.decode()
    newest = range(OVERDUE_SHOWN + 300 - 1 - OVERDUE_SHOWN, OVERDUE_SHOWN + 300 - 1)
    assert re.findall(r"Call number (\d{3})", body) == [f"{i:03d}" for i in newest]
    assert 'id="more-overdue"' in body and "Earlier check-ins were not answered" in body
    assert len(context.captured_queries) == few


def test_the_patient_page_reads_a_fixed_number_of_queries_and_its_rows_link_right(nurse, world):
    """Issue 10: the patient page's reads do not grow with the entries (the latest weight and
    height come from the first page when they are on it; with a single page, a kind not on it
    is not looked for); each row's archive link is the measurement's own."""
    from django.urls import reverse

    page = f"/patients/{world.patient.pk}/"
    now = timezone.now()
    one_page = _queries(nurse, page)  # the world's one weight: a single page, no height
    body = nurse.get(page).content.decode()
    assert "not recorded" in body  # no height
    height = Measurement.objects.create(
        patient=world.patient, kind=MeasurementKind.HEIGHT, value=Decimal(112), unit="cm",
        taken_at=now - timedelta(days=400), recorded_by=world.nurse,
    )
    for i in range(30):
        Measurement.objects.create(
            patient=world.patient, kind=MeasurementKind.WEIGHT, value=Decimal(20) + i,
            unit="kg", taken_at=now - timedelta(hours=i), recorded_by=world.nurse,
        )
    many = _queries(nurse, page)  # the height is not on page 1: read on its own
    assert one_page <= many <= one_page + 2 and many <= 10
    body = nurse.get(page).content.decode()
    assert "112 cm" in body  # the latest height, beyond the first page
    for m in Measurement.objects.filter(patient=world.patient).order_by("-taken_at", "-pk")[:10]:
        assert reverse("patients:measurement_archive", args=(world.patient.pk, m.pk)) in body
    assert reverse("patients:measurement_archive", args=(world.patient.pk, height.pk)) not in body


def test_the_infusions_page_lists_the_newest_overdue_check_ins_not_all(nurse, world):
    """The infusions page's overdue box, like the patient page's: the newest few, and a line
    saying older ones were not answered either (not hundreds of items)."""
    from ivig.web.infusions.models import CheckIn
    from ivig.web.infusions.records import OVERDUE_SHOWN
    from ivig.web.infusions.views import CHECKINS_SHOWN

    infusion = start(nurse, world, approve(world))
    now = timezone.now()
    count = CHECKINS_SHOWN + 40
    CheckIn.objects.bulk_create(
        CheckIn(
            infusion=infusion, patient=world.patient, due_at=now - timedelta(days=count - i),
            hours_after_end=Decimal(24), label=f"Call number {i:03d}", focus={}, tiers=[],
        )
        for i in range(count)
    )
    body = nurse.get(f"/patients/{world.patient.pk}/infusions/").content.decode()
    box = body.split('id="overdue-heading"')[1].split("</section>")[0]
    newest = range(count - OVERDUE_SHOWN, count)
    assert re.findall(r"Call number (\d{3})", box) == [f"{i:03d}" for i in newest]
    assert 'id="more-overdue"' in box


OLD_CHECKIN_LOOP = (
    "{% load i18n words %}{% for item in checkins %}\n"
    "    <li><a href=\"{% url 'infusions:checkin' patient.pk item.pk %}\">{{ item|checkin_title }}"
    '</a> – {% translate "due" %} <time datetime="{{ item.due_at|local_iso }}">'
    "{{ item.due_at|when }}</time>\n"
    "      {% with best=item.highest %}{% if best %}· {% translate \"answered\" %}: <strong>"
    "{{ best.triage.heading }}</strong>{% elif item.due_at <= now %}· <strong class=\"above\">"
    '{% translate "overdue" %}</strong>{% endif %}{% endwith %}</li>\n  {% endfor %}'
)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_check_in_items_are_written_as_the_template_wrote_them(nurse, world, language):
    from django.template import Context, Template
    from django.utils import translation

    from ivig.web.infusions.history_table import checkins_html
    from ivig.web.infusions.models import CheckIn, CheckInAnswer

    infusion = start(nurse, world, approve(world))
    now = timezone.now()
    made = CheckIn.objects.bulk_create(
        CheckIn(
            infusion=infusion, patient=world.patient, due_at=now + timedelta(hours=h),
            hours_after_end=Decimal(24), label=label, focus={}, tiers=[],
        )
        for h, label in [(-70, "24 h after the infusion (day 2)"), (-40, "Fever <check>"),
                         (-20, "48 h after the infusion (day 2)"), (30, "Later & more")]
    )
    answers = [
        (made[0], {"level": "expected", "heading": "Expected effect"}, "expected"),
        (made[0], {"level": "call_doctor", "heading": "Call the <doctor>"}, "call_doctor"),
        (made[0], {"level": "expected", "heading": "Later, lower"}, "expected"),
        (made[1], {"level": "expected"}, "expected"),  # a triage without its heading
    ]
    for checkin, triage, level in answers:
        CheckInAnswer.objects.create(
            checkin=checkin, answered_at=now, answered_by=world.nurse, report={},
            triage=triage, level=level,
        )
    from ivig.web.infusions.views import _checkins_shown

    checkins = list(CheckIn.objects.prefetch_related("answers").order_by("due_at"))
    read, _overdue, _approvals = _checkins_shown(world.patient, now)  # as the page reads them
    assert [c.pk for c in read] == [c.pk for c in checkins]
    with translation.override(language):
        want = Template(OLD_CHECKIN_LOOP).render(
            Context({"checkins": checkins, "patient": world.patient, "now": now})
        )
        got = checkins_html(read, world.patient.pk, now)
    assert got == want
    assert "Call the &lt;doctor&gt;" in got  # the highest answer's heading, escaped
    assert "Fever &lt;check&gt;" in got or language == "es"  # (Spanish: from the hours)
