"""The role matrix (docs/roles.md) and the access helper every view goes through."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from ivig.web import access
from ivig.web.access import Action

# Written out here on purpose (not read from ivig.web.access): the test is the second copy.
MATRIX = {
    #                      caregiver nurse prescriber viewer
    Action.VIEW: (True, True, True, True),
    Action.RECORD_MEASUREMENT: (True, True, True, False),
    Action.EDIT_PROFILE: (True, False, True, False),
    Action.ARCHIVE_PATIENT: (True, False, False, False),
    Action.ADD_PATIENT: (True, False, True, False),
    Action.MANAGE_TEAM: (True, False, False, False),
    Action.EDIT_PLANS: (True, True, True, False),
    Action.APPROVE_PLANS: (False, False, True, False),
}
ROLES = ("caregiver", "nurse", "prescriber", "viewer")


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(world, role, action):
    user = world.persona(role)
    expected = MATRIX[action][ROLES.index(role)]
    assert access.can(user, world.patient, action) is expected
    assert access.permissions_for(user, world.patient)[action.value] is expected


def test_every_action_is_in_the_matrix():
    assert set(MATRIX) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_stranger_can_do_nothing(world, action):
    assert not access.can(world.stranger, world.patient, action)


def test_stranger_gets_404_not_403(world):
    with pytest.raises(Http404):
        access.get_patient_for_user(world.stranger, world.patient.pk)
    with pytest.raises(Http404):
        access.get_patient_for_user(world.stranger, world.patient.pk, write=True)
    with pytest.raises(Http404):
        access.get_team_for_user(world.stranger, world.team_a.pk)


def test_missing_patient_is_404(world):
    with pytest.raises(Http404):
        access.get_patient_for_user(world.caregiver, 10**9)


def test_viewer_reads_but_a_write_is_403(world):
    assert access.get_patient_for_user(world.viewer, world.patient.pk) == world.patient
    with pytest.raises(PermissionDenied):
        access.get_patient_for_user(world.viewer, world.patient.pk, write=True)


def test_write_true_lets_every_writing_role_through(world):
    for role in ("caregiver", "nurse", "prescriber"):
        user = world.persona(role)
        assert access.get_patient_for_user(user, world.patient.pk, write=True) == world.patient


def test_plan_helpers(world):
    assert access.can_edit_plans(world.caregiver, world.patient)
    assert access.can_edit_plans(world.nurse, world.patient)
    assert access.can_edit_plans(world.prescriber, world.patient)
    assert not access.can_edit_plans(world.viewer, world.patient)
    assert access.can_approve_plans(world.prescriber, world.patient)
    assert not access.can_approve_plans(world.nurse, world.patient)
    assert not access.can_approve_plans(world.caregiver, world.patient)


def test_patients_for_lists_only_the_users_teams(world):
    assert list(access.patients_for(world.nurse)) == [world.patient]
    assert list(access.patients_for(world.stranger)) == [world.stranger_patient]


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not access.patients_for(AnonymousUser()).exists()
    with pytest.raises(Http404):
        access.get_patient_for_user(AnonymousUser(), world.patient.pk)


def test_removed_member_loses_access(world):
    membership = world.nurse.memberships.get(team=world.team_a)
    membership.archived_at = timezone.now()
    membership.save()
    with pytest.raises(Http404):
        access.get_patient_for_user(world.nurse, world.patient.pk)


def test_inactive_user_has_no_access(world):
    world.nurse.is_active = False
    world.nurse.save()
    assert not access.patients_for(world.nurse).exists()


def test_superuser_gets_no_patient_access_without_membership(world, build):
    admin = build.make_user("admin@example.org")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    with pytest.raises(Http404):
        access.get_patient_for_user(admin, world.patient.pk)


def test_archived_patient_is_read_only_except_bringing_it_back(world):
    world.patient.archived_at = timezone.now()
    world.patient.save()
    assert access.can(world.caregiver, world.patient, Action.VIEW)
    assert access.can(world.caregiver, world.patient, Action.ARCHIVE_PATIENT)
    assert not access.can(world.caregiver, world.patient, Action.EDIT_PROFILE)
    assert not access.can(world.nurse, world.patient, Action.RECORD_MEASUREMENT)
    with pytest.raises(PermissionDenied):
        access.get_patient_for_user(world.caregiver, world.patient.pk, write=True)
    assert world.patient not in access.patients_for(world.caregiver)
    assert world.patient in access.patients_for(world.caregiver, include_archived=True)


# --- One read of a membership per request (issue 10: pages stay fast) ---------------------------


def _in_request(fn):
    """Run ``fn`` the way a view runs: inside RequestMembershipsMiddleware."""
    from django.http import HttpRequest, HttpResponse

    out = {}

    def view(_request):
        out["value"] = fn()
        return HttpResponse()

    access.RequestMembershipsMiddleware(view)(HttpRequest())
    return out["value"]


def test_a_membership_is_read_once_per_request(world, django_assert_num_queries):
    def twice():
        with django_assert_num_queries(1):
            first = access.actions_in(world.nurse, world.team_a)
            again = access.actions_in(world.nurse, world.team_a)
        return first, again

    first, again = _in_request(twice)
    assert first == again and Action.EDIT_PLANS in first


def test_outside_a_request_every_check_reads_the_database(world, django_assert_num_queries):
    with django_assert_num_queries(2):
        access.actions_in(world.nurse, world.team_a)
        access.actions_in(world.nurse, world.team_a)


def test_a_membership_changed_during_the_request_is_read_again(world):
    from ivig.web.accounts.models import Membership

    def change_then_check():
        before = access.can(world.nurse, world.patient, Action.VIEW)
        membership = Membership.objects.get(user=world.nurse, team=world.team_a)
        membership.archived_at = timezone.now()
        membership.save()
        return before, access.can(world.nurse, world.patient, Action.VIEW)

    before, after = _in_request(change_then_check)
    assert before is True and after is False


def test_a_team_archived_during_the_request_is_read_again(world):
    def archive_then_check():
        before = access.actions_in(world.caregiver, world.team_a)
        world.team_a.archived_at = timezone.now()
        world.team_a.save()
        return before, access.actions_in(world.caregiver, world.team_a)

    before, after = _in_request(archive_then_check)
    assert before is not None and after is None


def test_the_kept_memberships_end_with_the_request(world):
    _in_request(lambda: access.actions_in(world.nurse, world.team_a))
    assert access._request_memberships.get() is None
