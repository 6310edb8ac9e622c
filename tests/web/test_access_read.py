"""The permission check's one-statement read (access._patient_with_membership): the patient, its
care team and the user's membership read together, against the ORM's answer to the same
questions (``Patient.objects.select_related("team")`` and ``memberships_of``), for every kind
of person and state a membership or team can be in, on whichever database the suite runs on
(SQLite, and PostgreSQL in the second pass)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.forms.models import model_to_dict
from django.http import Http404
from django.utils import timezone

from ivig.web import access
from ivig.web.accounts.models import Membership, Role
from ivig.web.patients.models import Patient
from tests.web.conftest import make_member

pytestmark = pytest.mark.django_db


def _orm(user, patient_id):
    patient = Patient.objects.select_related("team").get(pk=patient_id)
    row = next(
        iter(
            access.memberships_of(user)
            .filter(team_id=patient.team_id)
            .values_list("role", "clinical_role")[:1]
        ),
        None,
    )
    return patient, row


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _same_as_orm(user, patient_id):
    """Read in a request scope; the patient and team equal the ORM's field by field (types
    included) and the membership kept for the request is the ORM's."""
    expected_patient, expected_row = _orm(user, patient_id)
    token = access._request_memberships.set({})
    try:
        patient = access._patient_with_membership(user, patient_id)
        kept = access._request_memberships.get()
        assert kept is not None
        if access._authenticated(user) and user.is_active:
            assert kept == {(user.pk, patient.team_id): expected_row}
            # the view's later checks read it from there, not from the database
            assert access._membership_row(user, patient.team_id) == expected_row
        else:
            assert kept == {}
    finally:
        access._request_memberships.reset(token)
    for got, expected in ((patient, expected_patient), (patient.team, expected_patient.team)):
        got_fields, expected_fields = _fields(got), _fields(expected)
        assert got_fields == expected_fields
        assert {k: type(v) for k, v in got_fields.items()} == {
            k: type(v) for k, v in expected_fields.items()
        }
        assert not got._state.adding and got._state.db == expected._state.db
    assert model_to_dict(patient) == model_to_dict(expected_patient)
    return patient, expected_row


def test_every_persona_reads_as_the_orm(world):
    for user in (world.caregiver, world.nurse, world.prescriber, world.viewer, world.stranger):
        for patient in (world.patient, world.stranger_patient):
            _patient, row = _same_as_orm(user, patient.pk)
            assert (row is not None) == (user.memberships.filter(team=patient.team).exists())


def test_clinical_role_archived_membership_and_team_inactive_and_anonymous(world):
    solo = make_member(world.team_a, "caregiver", email="solo@example.org")
    Membership.objects.filter(user=solo).update(clinical_role=Role.PRESCRIBER)
    _patient, row = _same_as_orm(solo, world.patient.pk)
    assert row == (Role.CAREGIVER, Role.PRESCRIBER)

    Membership.objects.filter(user=world.nurse).update(archived_at=timezone.now())
    assert _same_as_orm(world.nurse, world.patient.pk)[1] is None

    world.viewer.is_active = False
    world.viewer.save()
    assert _same_as_orm(world.viewer, world.patient.pk)[1] is None
    assert _same_as_orm(AnonymousUser(), world.patient.pk)[1] is None

    world.patient.archived_at = timezone.now()
    world.patient.save()
    assert _same_as_orm(world.caregiver, world.patient.pk)[1] is not None

    world.team_a.archived_at = timezone.now()
    world.team_a.save()
    assert _same_as_orm(world.caregiver, world.patient.pk)[1] is None


@pytest.mark.parametrize(
    "patient_id", [0, -1, 2**63, 10**30, "12a", None, "", 999_999, True, 1.0, "1.5"]
)
def test_no_such_patient_is_404(world, patient_id):
    with pytest.raises(Http404):
        access.get_patient_for_user(world.caregiver, patient_id)


def test_outside_a_request_nothing_is_kept(world):
    assert access._request_memberships.get() is None
    patient = access.get_patient_for_user(world.nurse, world.patient.pk)
    assert patient.pk == world.patient.pk and patient.team.pk == world.team_a.pk
    assert access._request_memberships.get() is None


def test_one_statement_for_patient_team_and_membership(world, django_assert_num_queries):
    token = access._request_memberships.set({})
    try:
        with django_assert_num_queries(1):
            patient = access.get_patient_for_user(world.nurse, world.patient.pk, write=True)
            assert access.permissions_for(world.nurse, patient)["record_measurement"]
            assert patient.team.name == world.team_a.name
    finally:
        access._request_memberships.reset(token)
