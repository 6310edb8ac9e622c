"""The live infusion page's hand-written reads (ivig.web.infusions.live_log) against the ORM's
answer to the same questions, on whichever database the suite runs on (SQLite, and
PostgreSQL in the second pass): every entry of every slice with who recorded it and whether a
correction withdrew it, and the latest triage result that still stands."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.template import Context, Template

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
    # counted from the newest: page 1 is the newest 20, each page still oldest first
    newest = Paginator(live_log.LogEntries(infusion, newest_first=True), 20)
    for n in newest.page_range:
        stop = len(expected) - (n - 1) * 20
        want = [e.pk for e in expected[max(stop - 20, 0) : stop]]
        assert [e.pk for e in newest.page(n).object_list] == want


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


# What _log.html wrote for an entry before ``line_html`` (the oracle the new writer must match).
TEMPLATE_LINE = Template(
    '{% load i18n words %}{% translate "recorded by" as recorded_by %}'
    '{% translate "withdrawn" as withdrawn %}'
    '<span class="what"><strong>{{ event.at|clock }} {{ event.kind_label }}</strong>\n'
    '{% if event.kind == "rate_change" %}{{ event.data.rate }} = {{ event.data.pump_rate_ml_h }} '
    "mL/h ({{ event.data.rate_ml_kg_h }} mL/kg/h){% if event.data.planned_ml_h %}; "
    '{% translate "planned" %} {{ event.data.planned_ml_h }} mL/h{% endif %}'
    '{% for w in event.data.warnings %}<br><span class="above">⚠ {{ w.message }}</span>'
    '{% endfor %}{% if event.data.reason %}<br>{% translate "Reason:" %} {{ event.data.reason }}'
    "{% endif %}\n"
    '{% elif event.kind == "symptom" %}{{ event.data.symptom_words|join:"; " }}'
    "{% if event.data.temperature %}; {{ event.data.temperature }}{% endif %} → "
    "<strong>{{ event.data.triage.heading }}</strong>\n"
    '{% elif event.kind == "vitals" %}{% for value in event.shown_values %}{{ value }} · '
    "{% endfor %}{% if event.data.triage %}→ <strong class=\"vital-level "
    'level-{{ event.data.triage.level }}">{{ event.data.triage.heading }}</strong>'
    '{% for reason in event.data.triage.reasons %}<br><span class="muted">{{ reason.message }}'
    '</span>{% endfor %}{% for note in event.data.triage.notes %}<br><span class="muted">'
    "{{ note }}</span>{% endfor %}{% endif %}\n"
    '{% elif event.kind == "vial" %}{{ event.data.brand }} {{ event.data.size }} · '
    '{% translate "lot" %} {{ event.data.lot_number }} · {% translate "expires" %} '
    "{{ event.data.expiry }}\n"
    '{% elif event.kind == "correction" %}{% translate "withdraws an earlier entry:" %} '
    "{{ event.data.reason }}\n"
    "{% else %}{% for value in event.shown_values %}{{ value }}{% if not forloop.last %} · "
    "{% endif %}{% endfor %}{% endif %}</span>\n"
    '<div class="muted">{{ recorded_by }} {{ event.recorded_by }}{% if event.withdrawn %} · '
    "{{ withdrawn }}{% endif %}</div>"
)

ENTRY_DATA = {
    EventKind.RATE_CHANGE: [
        {"rate": "2 mL/kg/h", "pump_rate_ml_h": "40.0", "rate_ml_kg_h": "2.000"},
        {"rate": "<b>4</b>", "pump_rate_ml_h": 80.5, "rate_ml_kg_h": "4.000",
         "planned_ml_h": "60.0", "reason": "ordered & agreed",
         "warnings": [{"message": "Above the plan's step"}, {"code": "x"}, "odd"]},
        {},
    ],
    EventKind.SYMPTOM: [
        {"symptom_words": ["headache", "<rash>"], "temperature": "38.5 °C",
         "triage": {"level": "call_doctor", "heading": "Call the doctor"}},
        {"symptom_words": [], "triage": {}},
        {},
    ],
    EventKind.VITALS: [
        {"heart_rate": "120 /min", "temperature": 38.25, "signs": ["x"],
         "triage": {"level": "emergency", "heading": "Emergency",
                    "reasons": [{"message": "Heart rate > 180"}, {}], "notes": ["no cited bound"]}},
        {"heart_rate": "80 /min"},
        {},
    ],
    EventKind.VIAL: [{"brand": "Privigen", "size": "5 g", "lot_number": "A1<2",
                      "expiry": "2027-03"}, {}],
    EventKind.CORRECTION: [{"reason": "wrong patient"}, {}],
    EventKind.PAUSE: [{"reason": "flushing", "n": 3.5}, {}],
    EventKind.PREMEDICATION: [{"drug": "paracetamol", "dose": "15 mg/kg", "empty": None}],
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_line_writer_writes_what_the_template_wrote(world, language):
    from django.utils import timezone, translation

    moment = timezone.now()
    with translation.override(language):
        for kind, examples in ENTRY_DATA.items():
            for data in examples:
                for withdrawn, who in ((False, "Ana <N>"), (True, "x@example.org")):
                    entry = live_log.LogEntry(
                        pk=1, at=moment, kind=kind, data=data, recorded_by=who,
                        withdrawn=withdrawn, kind_label=f"{kind} & label",
                    )
                    entry.shown_values = (
                        [v for k, v in data.items() if k not in ("triage", "signs")]
                        if kind == EventKind.VITALS else list(data.values())
                    )
                    want = TEMPLATE_LINE.render(Context({"event": entry}))
                    assert _squeeze(live_log.line_html(entry)) == _squeeze(want), (kind, data)
    assert "&lt;b&gt;4&lt;/b&gt;" in live_log.line_html(
        live_log.LogEntry(1, moment, EventKind.RATE_CHANGE, {"rate": "<b>4</b>"}, "a", False)
    )


def _squeeze(html: str) -> str:
    """Spaces as a browser shows them: runs collapse; none before a closing tag or between
    tags (the template's line breaks)."""
    html = re.sub(r"\s+", " ", html).strip()
    return re.sub(r">\s+<", "><", re.sub(r"\s+</", "</", html))


# What the live page's templates wrote before the tags in infusion_tags (the oracles).
TEMPLATE_ITEMS = Template(
    '{% load i18n %}{% translate "Correct (withdraw)" as correct %}{% for event in events %}'
    '<li class="{% if event.withdrawn %}withdrawn{% endif %}">{{ event.line }}\n'
    "{% if can_correct and event.can_withdraw %}"
    '<a href="{{ event.correct_url }}">{{ correct }}</a>{% endif %}\n</li>{% endfor %}'
)
TEMPLATE_VITALS = Template(
    "{% load i18n words %}{% for c in vitals_checks %}"
    '<li class="vitals-{{ c.status }}">{{ c.at|clock }} – {{ c.words }}:\n'
    '{% if c.status == "done" %}{% blocktranslate with at=c.taken_at|clock %}measured at {{ at }}'
    '{% endblocktranslate %}{% elif c.status == "due" %}<strong class="above">'
    '{% translate "due now" %}</strong>{% elif c.status == "missed" %}<strong class="above">'
    '{% translate "not measured (a gap)" %}</strong>{% else %}{% translate "later" %}{% endif %}'
    "</li>\n{% endfor %}"
)
TEMPLATE_RECORD_LINKS = Template(
    '{% load i18n %}{% for kind, label, url in record_links %}<div class="record-open" '
    'id="record-{{ kind }}"><a class="button secondary" href="{{ url }}" hx-get="{{ url }}" '
    'hx-target="#record-{{ kind }}" hx-swap="outerHTML"{% if saved %} autofocus{% endif %}>'
    '{{ label }}</a>{% if saved %} <span class="message success" role="status">'
    '{% translate "Recorded." %}</span>{% endif %}</div>{% endfor %}'
)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_live_page_tags_write_what_the_templates_wrote(world, language):
    from django.utils import timezone, translation

    from ivig.web.infusions.records import VitalsCheck
    from ivig.web.infusions.templatetags import infusion_tags

    moment = timezone.now()
    entries = []
    for i, (withdrawn, can_withdraw) in enumerate(
        [(False, True), (True, False), (False, False), (True, True)]
    ):
        entry = live_log.LogEntry(
            pk=i, at=moment, kind=EventKind.VITALS, data={"heart_rate": "80 /min"},
            recorded_by="Ana <N>", withdrawn=withdrawn, kind_label="Vital signs",
            correct_url=f"/patients/1/infusions/2/correct/{i}/?a=1&b=<2>",
            can_withdraw=can_withdraw,
        )
        entry.line = live_log.line_html(entry)
        entries.append(entry)
    checks = [
        VitalsCheck("before", "Before <start>", moment, "done", moment + timedelta(minutes=3),
                    "src"),
        VitalsCheck("15min", "At 15 minutes", moment, "due", None, "src"),
        VitalsCheck("step", "After the rate increase", moment, "missed", None, "src"),
        VitalsCheck("hourly", "Hourly", moment, "later", None, "src & co"),
    ]
    links = [("vitals", "Vital signs", "/p/1/i/2/record/vitals/?x=1&y=2"),
             ("symptom", "Symptom <new>", "/p/1/i/2/record/symptom/")]
    with translation.override(language):
        for can_correct in (True, False):
            want = TEMPLATE_ITEMS.render(Context({"events": entries, "can_correct": can_correct}))
            got = live_log.items_html(entries, can_correct)
            assert _squeeze(got) == _squeeze(want)
        assert got.count("<li") == 4 and "&lt;N&gt;" in got
        want = TEMPLATE_VITALS.render(Context({"vitals_checks": checks}))
        assert _squeeze(infusion_tags.vitals_items(checks)) == _squeeze(want)
        assert "&lt;start&gt;" in want
        for saved in (True, False, ""):
            want = TEMPLATE_RECORD_LINKS.render(Context({"record_links": links, "saved": saved}))
            assert _squeeze(infusion_tags.record_links(links, saved)) == _squeeze(want)
        assert "&amp;y=2" in want


def _orm_current_events(infusion, kinds):
    """What ``current_events(kinds)`` answered through the ORM (the oracle): these kinds and
    the corrections, sorted by time then id, without the withdrawn ones and the corrections."""
    from ivig.web.infusions.models import without_withdrawn

    events = sorted(
        infusion.events.filter(kind__in=[*kinds, EventKind.CORRECTION]), key=lambda e: (e.at, e.pk)
    )
    return without_withdrawn(events)


@pytest.mark.parametrize("seed", range(4))
def test_standing_events_of_some_kinds_match_the_orm(nurse, world, people, seed):
    from ivig.web.infusions import records

    rng = random.Random(200 + seed)
    infusion = start(nurse, world, approve(world))
    _random_day(infusion, rng, 50, people)
    for i, kind in enumerate([EventKind.PAUSE, EventKind.RESUME, EventKind.VIAL, EventKind.STOP]):
        event = InfusionEvent.objects.create(
            infusion=infusion, kind=kind, at=infusion.started_at + timedelta(minutes=i),
            data={"size": "5 g"}, recorded_by=people[0],
        )
        if rng.random() < 0.5:
            InfusionEvent.objects.create(
                infusion=infusion, kind=EventKind.CORRECTION, at=event.at, corrects=event,
                data={"reason": "typo"}, recorded_by=people[1],
            )
    for kinds in [records.PUMP_KINDS, (*records.PUMP_KINDS, EventKind.VIAL),
                  (EventKind.VITALS,), (EventKind.SYMPTOM, EventKind.VITALS),
                  (EventKind.CORRECTION,), ()]:
        got = infusion.current_events(kinds)
        want = _orm_current_events(infusion, kinds)
        assert [e.pk for e in got] == [e.pk for e in want], kinds
        for ours, theirs in zip(got, want, strict=True):
            mine = {f.attname: getattr(ours, f.attname) for f in ours._meta.concrete_fields}
            orm = {f.attname: getattr(theirs, f.attname) for f in theirs._meta.concrete_fields}
            assert mine == orm
            assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in orm.items()}
    assert infusion.current_events(records.PUMP_KINDS)  # the day has rate changes


def test_the_infusion_is_read_as_the_orm_reads_it(nurse, world):
    from django.http import Http404

    from ivig.web.infusions.models import Infusion
    from ivig.web.infusions.views import _infusion

    infusion = start(nurse, world, approve(world))
    got = _infusion(world.patient, infusion.pk)
    want = Infusion.objects.select_related("approval").get(pk=infusion.pk, patient=world.patient)
    for ours, theirs in ((got, want), (got.approval, want.approval)):
        mine = {f.attname: getattr(ours, f.attname) for f in ours._meta.concrete_fields}
        orm = {f.attname: getattr(theirs, f.attname) for f in theirs._meta.concrete_fields}
        assert mine == orm
        assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in orm.items()}
    assert got.snapshot == want.snapshot and got.patient is world.patient
    # another patient's infusion, or an id that names no row: 404, never an error
    for patient, infusion_id in [(world.stranger_patient, infusion.pk), (world.patient, 2**63),
                                 (world.patient, 0), (world.patient, infusion.pk + 1000)]:
        with pytest.raises(Http404):
            _infusion(patient, infusion_id)


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ["Volume infused: 199.6 mL of 200.0 mL planned", "(read from the pump)",
             "19.96 g given of 20.00 g planned", "Reason: child &lt;tired&gt;"]),
     ("es", ["Volumen infundido: 199.6 mL de 200.0 mL previstos", "(leído en la bomba)",
             "19.96 g administrados de 20.00 g previstos", "Motivo: child &lt;tired&gt;"])],
)
def test_the_stop_entry_reads_in_words(world, language, words):
    """The stop's line says what its numbers are (its values alone read "199.6 mL · 199.6 ·
    pump · 200.0 · ..."); a value it lacks is "unknown", never a default."""
    from django.utils import timezone, translation

    data = {"reason": "child <tired>", "volume": "199.6 mL", "volume_infused_ml": "199.6",
            "volume_source": "pump", "planned_volume_ml": "200.0", "given_g": "19.96",
            "planned_g": "20.00", "short_by_ml": "0.4"}
    with translation.override(language):
        entry = live_log.LogEntry(1, timezone.now(), EventKind.STOP, data, "Ana", False)
        line = live_log.line_html(entry)
        for text in words:
            assert text in line
        assert "pump ·" not in line and "0.4" not in line
        entry.data = {"volume_infused_ml": "50.0", "volume_source": "rate_log"}
        line = live_log.line_html(entry)
    unknown = "unknown" if language == "en" else "desconocido"
    assert f"50.0 mL of {unknown} mL planned" in line or f"50.0 mL de {unknown} mL" in line
    assert ("logged rates" in line) == (language == "en")
