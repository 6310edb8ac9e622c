"""The history of changes is paged in SQL: a page reads only its own records and their previous
versions, and shows exactly the entries the full computation (kept here as the slow reference:
every historical record read, diffed in Python) shows on that page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from ivig.web.accounts.models import User
from ivig.web.history import Entry, _changed_fields, _entry, _fields, patient_history
from ivig.web.patients.models import Measurement, Patient
from ivig.web.patients.views import HISTORY_PAGE
from ivig.web.plans.models import Approval, PlanVersion

pytestmark = pytest.mark.django_db


def reference(patient: Patient) -> list[Entry]:
    """The former computation: every historical record of the patient's objects read and
    diffed against the previous version of the same object, newest first."""
    groups = [
        list(Patient.history.filter(id=patient.pk).select_related("history_user")),
        list(Measurement.history.filter(patient_id=patient.pk).select_related("history_user")),
        list(PlanVersion.history.filter(patient_id=patient.pk).select_related("history_user")),
        list(
            Approval.history.filter(
                plan_version_id__in=PlanVersion.objects.filter(patient=patient).values("pk")
            ).select_related("history_user")
        ),
    ]
    users = {u.pk: str(u) for u in User.objects.all()}
    shown: list[tuple[Any, Any]] = []
    for group in groups:
        last: dict[Any, Any] = {}
        for record in sorted(group, key=lambda r: (r.history_date, r.history_id)):
            previous = last.get(record.id)
            last[record.id] = record
            if record.history_type == "~" and not _changed_fields(
                record.instance_type, record, previous
            ):
                continue
            shown.append((record, previous))
    shown.sort(key=lambda pair: pair[0].history_date, reverse=True)
    return [_entry(record, previous, users) for record, previous in shown]


def grow(world: Any, build: Any, measurements: int = 130) -> None:
    """A long, varied history: many weights (some corrected, some saved unchanged, some
    archived), profile edits (one without a change), a draft plan edited, and dates that tie
    across and within kinds of record."""
    patient = world.patient
    for i in range(measurements):
        weight = build.make_measurement(
            patient, world.nurse, value=str(Decimal("20.0") + i % 7), days_ago=i % 40
        )
        if i % 9 == 0:
            weight.value = Decimal("31.25")
            weight.save()
        if i % 11 == 0:
            weight.save()  # no visible change: not an entry
        if i % 13 == 0:
            weight.archived_at = weight.taken_at + timedelta(hours=1)
            weight.save(update_fields=["archived_at"])
        if i % 17 == 0:
            weight.unit = "lb"
            weight.recorded_by = world.prescriber
            weight.save()
    patient.save()  # unchanged
    patient.blood_group = "O-"
    patient.conditions = ["immunodeficiency", "diabetes"]
    patient.save()
    draft = build.make_plan(patient, world.prescriber, label="Draft")
    draft.order_document = {"order": {"dose": "1 g/kg", "days": 2}}
    draft.save()
    draft.save()  # unchanged
    draft.label = ""
    draft.save()
    # ties: several records of different kinds, and of the same kind, at one instant
    instant = Measurement.history.order_by("history_id")[40].history_date
    Measurement.history.filter(
        history_id__in=list(
            Measurement.history.order_by("history_id").values_list("history_id", flat=True)[60:64]
        )
    ).update(history_date=instant)
    Patient.history.filter(
        history_id=Patient.history.filter(id=patient.pk).order_by("-history_id")[0].history_id
    ).update(history_date=instant)
    PlanVersion.history.filter(
        history_id=PlanVersion.history.filter(id=draft.pk).order_by("history_id")[0].history_id
    ).update(history_date=instant)


def test_every_page_matches_the_full_computation(world, build):
    grow(world, build)
    expected = reference(world.patient)
    history = patient_history(world.patient)
    assert len(history) == len(expected) > 3 * HISTORY_PAGE
    assert any(e.action == "changed" for e in expected)
    for start in range(0, len(expected), HISTORY_PAGE):
        assert history[start : start + HISTORY_PAGE] == expected[start : start + HISTORY_PAGE]
    assert history[7] == expected[7] and history[-1] == expected[-1]


def test_the_page_shows_the_same_entries_as_the_full_computation(client, world, build):
    grow(world, build)
    expected = reference(world.patient)
    client.force_login(world.viewer)
    url = reverse("patients:history", args=[world.patient.pk])
    first = client.get(url)
    assert list(first.context["entries"]) == expected[:HISTORY_PAGE]
    assert first.context["page"].paginator.count == len(expected)
    later = client.get(url, {"page": 3})
    assert list(later.context["entries"]) == expected[2 * HISTORY_PAGE : 3 * HISTORY_PAGE]
    body = later.content.decode()
    assert f"Page 3 of {first.context['page'].paginator.num_pages}" in body
    assert 'rel="prev"' in body


def test_a_change_without_a_previous_version_always_shows():
    """``_visible`` counts a "~" record without a previous version as an entry: true because
    each kind of record has a required link, which such an entry always shows."""
    for model in (Patient, Measurement, PlanVersion, Approval):
        assert any(f.many_to_one and not f.null for f in _fields(model)), model


def _read(client: Any, url: str, page: int) -> tuple[int, int]:
    """(queries, historical records built) for one page."""
    built = []

    def count(sender: Any, **kwargs: Any) -> None:
        if sender.__name__.startswith("Historical"):
            built.append(sender)

    post_init.connect(count)
    try:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"page": page}).status_code == 200
    finally:
        post_init.disconnect(count)
    return len(queries), len(built)


def test_a_page_reads_only_its_records_whatever_the_history_length(client, world, build):
    client.force_login(world.viewer)
    url = reverse("patients:history", args=[world.patient.pk])
    small_queries, small_built = _read(client, url, 1)  # all four kinds of record on one page
    grow(world, build, measurements=160)
    for page in (1, 2, 4):
        queries, built = _read(client, url, page)
        assert queries <= small_queries
        assert built <= 2 * HISTORY_PAGE  # the page's records and their previous versions
    assert small_built <= 2 * 4


# The entry as the page's template wrote it before it was built in Python (history.Entry.html).
OLD_ENTRY = """{% load i18n words %}{% for entry in entries %}
<article class="history-entry">
  <p><strong>{{ entry.what }}</strong> – {{ entry.action }}<br>
  <span class="muted">{{ entry.when|when }} · {{ entry.who }}</span></p>
  {% if entry.changes %}
  <ul>
    {% for change in entry.changes %}
    {% if change.parts %}
    <li><details{% if not change.collapsed %} open{% endif %}><summary>{% blocktranslate count counter=change.parts|length with field=change.field %}{{ field }}: {{ counter }} item{% plural %}{{ field }}: {{ counter }} items{% endblocktranslate %}</summary>
      <ul class="history-parts" translate="no">{% for part in change.parts %}<li>{{ part.path }}: {% if not entry.created %}<span class="before">{{ part.before }}</span> → {% endif %}{{ part.after }}</li>{% endfor %}</ul></details></li>
    {% else %}
    <li>{{ change.field }}: {% if not entry.created %}<span class="before">{{ change.before }}</span> → {% endif %}{{ change.after }}</li>
    {% endif %}
    {% endfor %}
  </ul>
  {% endif %}
</article>
{% endfor %}"""  # noqa: E501


def _squeeze(html: str) -> str:
    return re.sub(r"\s*\n\s*", "", html)


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_entry_reads_as_the_template_wrote_it(world, build, language):
    grow(world, build, measurements=30)
    world.patient.name = "Ana <b>&</b>"  # escaped, never markup
    world.patient.save()
    expected = reference(world.patient)
    with translation.override(language):
        entries = patient_history(world.patient)[: len(expected)]
        old = Template(OLD_ENTRY).render(Context({"entries": entries}))
        new = "".join(entry.html() for entry in entries)
    assert any(change.parts for entry in entries for change in entry.changes)
    assert any(entry.created for entry in entries) and not all(e.created for e in entries)
    assert "Ana &lt;b&gt;&amp;&lt;/b&gt;" in new
    assert ("elemento" in new) == (language == "es")
    assert _squeeze(new) == _squeeze(old)


def test_a_page_number_out_of_range_or_not_a_number_shows_the_nearest_page(client, world, build):
    grow(world, build, measurements=60)
    expected = reference(world.patient)
    client.force_login(world.viewer)
    url = reverse("patients:history", args=[world.patient.pk])
    last = (len(expected) - 1) // HISTORY_PAGE * HISTORY_PAGE
    for number, start in (
        ("999", last),
        ("abc", 0),
        ("0", last),
        ("-2", last),
        ("2", HISTORY_PAGE),
    ):
        response = client.get(url, {"page": number})
        assert response.status_code == 200
        assert list(response.context["entries"]) == expected[start : start + HISTORY_PAGE], number
