"""Patient pages: list, profile, weights and heights with units, archive, history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from ivig.web.patients.models import Measurement, Patient

pytestmark = pytest.mark.django_db


def _state() -> list:
    return [
        list(Patient.objects.order_by("pk").values()),
        list(Measurement.objects.order_by("pk").values()),
        Patient.history.count(),
        Measurement.history.count(),
    ]


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def test_list_shows_only_my_teams_patients(client, world):
    client.force_login(world.nurse)
    page = client.get(reverse("patients:list")).content
    assert b"Lucia Alvarez" in page and b"Other Child" not in page


def test_home_is_the_today_page_with_a_link_to_every_patient(client, world):
    client.force_login(world.nurse)
    body = client.get("/").content.decode()
    assert "<h1>Today" in body and reverse("patients:list") in body


def test_patient_page_shows_latest_weight_with_its_date_and_unit(client, world, build):
    build.make_measurement(world.patient, world.nurse, value="44.5", unit="lb", days_ago=0.5)
    client.force_login(world.viewer)
    response = client.get(reverse("patients:detail", args=[world.patient.pk]))
    page = response.content.decode()
    assert "44.5 lb" in page
    assert "(20.18 kg)" in page  # converted by ivig.core.units: the one weight rule (2 decimals)
    assert timezone.localtime().date().isoformat() in page or "day" in page
    assert "only computes and checks a plan prescribed by a clinician" in page
    assert "Record a weight" not in page  # the viewer only reads


def test_old_weight_shows_a_warning(client, world, build, settings):
    settings.WEIGHT_MAX_AGE_DAYS = 30
    client.force_login(world.nurse)
    url = reverse("patients:detail", args=[world.patient.pk])
    assert b"Weigh again" not in client.get(url).content
    world.weight.taken_at = timezone.now() - timedelta(days=31)
    world.weight.save()
    assert b"older than 30 days" in client.get(url).content
    settings.WEIGHT_MAX_AGE_DAYS = 45
    assert b"Weigh again" not in client.get(url).content


def test_weight_max_age_default_comes_from_the_policy_file():
    from ivig.web import settings as web_settings

    assert web_settings.POLICY["weight"]["max_age_days"] == 30
    assert "design choice: local policy" in web_settings.POLICY["weight"]["rationale"]
    assert web_settings.WEIGHT_MAX_AGE_DAYS == 30


def test_no_weight_asks_for_one(client, world, build):
    patient = build.make_patient(world.team_a, world.caregiver)
    client.force_login(world.nurse)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content
    assert b"Record a weight before planning" in page


def test_nurse_records_a_weight_in_pounds_stored_as_entered(client, world):
    client.force_login(world.nurse)
    url = reverse("patients:measurement_create", args=[world.patient.pk]) + "?kind=weight"
    assert client.get(url).status_code == 200
    # 75 lb (34 kg) is ordinary for this 10-year-old, so it saves without a question.
    response = client.post(url, {"kind": "weight", "value": "75 lb", "taken_at": _now_local()})
    assert response.status_code == 302
    measurement = Measurement.objects.latest("recorded_at")
    assert (measurement.value, measurement.unit) == (Decimal("75"), "lb")
    assert measurement.kind == "weight"
    assert measurement.recorded_by == world.nurse
    assert world.patient.latest_weight() == measurement


def test_height_in_centimetres(client, world):
    client.force_login(world.prescriber)
    url = reverse("patients:measurement_create", args=[world.patient.pk]) + "?kind=height"
    client.post(url, {"kind": "height", "value": "112.5 cm", "taken_at": _now_local()})
    height = world.patient.latest_height()
    assert height is not None and height.text == "112.5 cm"


@pytest.mark.parametrize(
    "value, message",
    [
        ("20.4", "Write the unit after the number"),
        ("20,4 kg", "Use a point for decimals"),
        ("20.4 cm", "not a unit of weight"),
        ("twenty kg", "Write a number and its unit"),
        ("2040 kg", "outside"),
        ("20.12345 kg", "at most 3 decimal places"),
        ("", "This field is required"),
    ],
)
def test_bad_weight_is_refused_next_to_the_field_and_changes_nothing(client, world, value, message):
    client.force_login(world.nurse)
    before = _state()
    url = reverse("patients:measurement_create", args=[world.patient.pk]) + "?kind=weight"
    response = client.post(url, {"kind": "weight", "value": value, "taken_at": _now_local()})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    # The error is tied to its field: a real label, aria-describedby and aria-invalid.
    assert '<label for="id_value">' in page
    assert 'id="id_value_error"' in page
    assert 'aria-describedby="id_value_helptext id_value_error"' in page
    assert 'aria-invalid="true"' in page
    assert "Nothing was saved" in page
    assert _state() == before


def test_future_date_is_refused(client, world):
    client.force_login(world.nurse)
    before = _state()
    url = reverse("patients:measurement_create", args=[world.patient.pk])
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"kind": "weight", "value": "20 kg", "taken_at": future})
    assert b"cannot be in the future" in response.content
    assert _state() == before


def test_viewer_cannot_record_a_weight(client, world):
    client.force_login(world.viewer)
    before = _state()
    url = reverse("patients:measurement_create", args=[world.patient.pk])
    response = client.post(url, {"kind": "weight", "value": "20 kg", "taken_at": _now_local()})
    assert response.status_code == 403
    assert _state() == before


def test_caregiver_adds_a_patient(client, world):
    client.force_login(world.caregiver)
    response = client.post(
        reverse("patients:create"),
        {
            "team": world.team_a.pk,
            "name": "Mateo",
            "birth_date": "2019-02-03",
            "sex": "male",
            "blood_group": "O+",
            "conditions": ["diabetes", "migraine"],
        },
    )
    patient = Patient.objects.get(name="Mateo")
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.conditions == ["diabetes", "migraine"]
    assert patient.created_by == world.caregiver


def test_a_caregiver_cannot_add_a_patient_to_another_team(client, world):
    client.force_login(world.stranger)
    before = _state()
    response = client.post(
        reverse("patients:create"),
        {"team": world.team_a.pk, "name": "Intruder", "birth_date": "2019-02-03",
         "sex": "male", "blood_group": "O+"},
    )
    assert response.status_code == 200  # the form refuses the team choice
    assert _state() == before


def test_nurse_cannot_add_a_patient(client, world):
    client.force_login(world.nurse)
    assert client.get(reverse("patients:create")).status_code == 403


def test_bad_profile_form_changes_nothing(client, world):
    client.force_login(world.caregiver)
    before = _state()
    response = client.post(
        reverse("patients:edit", args=[world.patient.pk]),
        {"name": "", "birth_date": "2999-01-01", "sex": "robot", "blood_group": "A+",
         "conditions": ["not_a_condition"]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    for field in ("name", "birth_date", "sex"):
        assert f'id="id_{field}_error"' in page
    assert "cannot be in the future" in page
    assert _state() == before


def test_conditions_use_the_vocabulary_in_plain_words(client, world):
    client.force_login(world.caregiver)
    page = client.get(reverse("patients:edit", args=[world.patient.pk])).content.decode()
    assert 'value="iga_deficiency"' in page
    assert "IgA deficiency" in page


def test_prescriber_edits_the_profile_and_history_shows_before_and_after(client, world):
    client.force_login(world.prescriber)
    client.post(
        reverse("patients:edit", args=[world.patient.pk]),
        {"name": "Lucia Alvarez", "birth_date": "2016-05-01", "sex": "female",
         "blood_group": "O-", "conditions": ["immunodeficiency", "diabetes"]},
    )
    world.patient.refresh_from_db()
    assert world.patient.blood_group == "O-"
    page = client.get(reverse("patients:history", args=[world.patient.pk])).content.decode()
    assert "Dr Pablo" in page
    assert '<span class="before">A+</span> → O−' in page
    assert "Diabetes" in page
    assert "only computes and checks a plan prescribed by a clinician" in page


def test_nurse_cannot_edit_the_profile(client, world):
    client.force_login(world.nurse)
    before = _state()
    response = client.post(
        reverse("patients:edit", args=[world.patient.pk]),
        {"name": "Changed", "birth_date": "2016-05-01", "sex": "female", "blood_group": "A+"},
    )
    assert response.status_code == 403
    assert _state() == before


def test_history_lists_measurements_plans_and_approvals(client, world):
    client.force_login(world.viewer)
    page = client.get(reverse("patients:history", args=[world.patient.pk])).content.decode()
    assert "23.456" in page and "Nuria" in page
    assert "Monthly course" in page
    assert "Approval" in page


def test_archive_a_wrong_measurement_keeps_it_in_history(client, world, build):
    newer = build.make_measurement(world.patient, world.nurse, value="99", unit="kg", days_ago=0)
    client.force_login(world.nurse)
    url = reverse("patients:measurement_archive", args=[world.patient.pk, newer.pk])
    assert b"Archive this entry" in client.get(url).content
    client.post(url)
    newer.refresh_from_db()
    assert newer.archived_at is not None
    assert world.patient.latest_weight() == world.weight
    page = client.get(reverse("patients:history", args=[world.patient.pk])).content.decode()
    assert "Archived" in page


def test_archive_and_bring_back_a_patient(client, world):
    client.force_login(world.caregiver)
    url = reverse("patients:archive", args=[world.patient.pk])
    client.post(url)
    world.patient.refresh_from_db()
    assert world.patient.archived_at is not None
    assert b"Lucia" not in client.get(reverse("patients:list")).content
    assert b"Lucia" in client.get(reverse("patients:list") + "?archived=1").content
    edit = reverse("patients:edit", args=[world.patient.pk])
    assert client.get(edit).status_code == 403  # archived: read-only
    client.post(url)
    world.patient.refresh_from_db()
    assert world.patient.archived_at is None


def test_there_is_no_delete(world):
    from django.contrib import admin

    for model in ("patient", "measurement"):
        model_admin = admin.site._registry[
            next(m for m in admin.site._registry if m._meta.model_name == model)
        ]
        assert model_admin.has_delete_permission(None) is False


def test_spanish_pages(client, world):
    client.force_login(world.nurse)
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    page = client.get(reverse("patients:detail", args=[world.patient.pk])).content.decode()
    assert '<html lang="es">' in page
    assert "Peso" in page
    assert "solo calcula y comprueba un plan prescrito por un profesional" in page


def test_the_weight_panel_shows_the_latest_weight_and_height_on_every_page_of_the_list(
    client, world
):
    """The first page of the list gives the latest weight and height without another read;
    on a later page (or when a kind is not on the first page) they are read as before."""
    now = timezone.now()
    for i in range(25):  # newest weight first: 30 kg, then 29 kg, ...
        Measurement.objects.create(
            patient=world.patient, kind="weight", value=Decimal(30) - i, unit="kg",
            taken_at=now - timedelta(hours=i + 1), recorded_by=world.nurse,
        )
    Measurement.objects.create(  # the newest of all, archived: never the latest
        patient=world.patient, kind="weight", value=Decimal(99), unit="kg", taken_at=now,
        recorded_by=world.nurse, archived_at=now,
    )
    Measurement.objects.create(  # one old height, beyond the first page
        patient=world.patient, kind="height", value=Decimal(112), unit="cm",
        taken_at=now - timedelta(days=30), recorded_by=world.nurse,
    )
    client.force_login(world.nurse)
    for page in ("", "?page=2", "?page=3"):
        body = client.get(f"/patients/{world.patient.pk}/{page}").content.decode()
        weight_panel = body.split('id="weight-heading"')[1].split("</section>")[0]
        assert '<span class="big">30 kg</span>' in weight_panel, page
        assert "<strong>112 cm</strong>" in weight_panel, page
        assert "99 kg" not in weight_panel


# What patient_detail.html's loop wrote before measurement_rows_html (the oracle).
TEMPLATE_ROWS = (
    "{% load i18n %}{% for row in rows %}<li>\n"
    "<strong>{{ row.what }}</strong>{% if row.converted %} <span class=\"muted\">"
    "(= {{ row.converted }})</span>{% endif %}\n"
    '<div class="muted">{{ row.taken }} · {% translate "recorded by" %} {{ row.by }}</div>\n'
    '{% if row.archive_url %}<a href="{{ row.archive_url }}">'
    '{% translate "Archive (wrong entry)" %}<span class="visually-hidden">: '
    "{{ row.archive_hint }}</span></a>{% endif %}\n</li>\n{% endfor %}"
)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_measurement_rows_are_what_the_template_wrote(language):
    import re

    from django.template import Context, Template
    from django.utils import translation

    from ivig.web.patients.views import measurement_rows_html

    rows = [
        {"what": "Weight: 44 lb", "converted": "19.96 kg", "taken": "1 Dec 2026, 08:30",
         "by": "Ana <N>", "archive_url": "/patients/1/measurements/2/archive/?a=1&b=2",
         "archive_hint": "Weight: 44 lb, 1 Dec 2026"},
        {"what": "Height: 120 cm", "converted": None, "taken": "today", "by": "x@example.org",
         "archive_url": "", "archive_hint": "Height & co"},
    ]

    def squeeze(html: str) -> str:
        html = re.sub(r"\s+", " ", html).strip()
        return re.sub(r">\s+<", "><", re.sub(r"\s+</", "</", html))

    with translation.override(language):
        want = Template(TEMPLATE_ROWS).render(Context({"rows": rows}))
        got = measurement_rows_html(rows)
        assert squeeze(got) == squeeze(want)
    assert "Ana &lt;N&gt;" in got and "a=1&amp;b=2" in got and got.count("<li>") == 2


def test_the_latest_measurement_is_the_orms(world, build):
    """``Patient.latest`` (one hand-written statement) gives the same measurement as the ORM:
    the newest active one of its kind, ties on the time broken by the higher id, archived ones
    left out, none when there is none."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from ivig.web.patients.models import Measurement

    rng = random.Random(7)
    now = timezone.now()
    for _ in range(3):
        for _i in range(12):
            kind = rng.choice(["weight", "height"])
            m = Measurement.objects.create(
                patient=world.patient, kind=kind, value="20.5" if kind == "weight" else "110",
                unit="kg" if kind == "weight" else "cm", recorded_by=world.nurse,
                taken_at=now - timedelta(days=rng.choice([0, 1, 1, 2, 30])),
            )
            if rng.random() < 0.3:
                m.archived_at = now
                m.save()
        for kind in ("weight", "height", "nonsense"):
            want = (
                world.patient.measurements.filter(kind=kind, archived_at__isnull=True)
                .order_by("-taken_at", "-pk")
                .first()
            )
            got = world.patient.latest(kind)
            if want is None:
                assert got is None
                continue
            fields = [f.attname for f in Measurement._meta.concrete_fields]
            assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}
            assert type(got.value) is type(want.value) and got.text == want.text
