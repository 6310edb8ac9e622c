"""Logins, the first account, password reset, lockout, care teams and invitations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ivig.web.accounts.models import CareTeam, Invite, Membership, Role, User

from .conftest import PASSWORD


def _login_post(client: Client, email: str, password: str):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


# --- first run -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_empty_install_sends_everyone_to_create_the_first_account(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:setup")
    assert b"Create the first account" in response.content


@pytest.mark.django_db
def test_first_account_becomes_admin_and_caregiver_of_a_new_team(client):
    response = client.post(
        reverse("accounts:setup"),
        {
            "name": "Carmen",
            "email": "Carmen@Example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "team_name": "Alvarez family",
        },
    )
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "carmen@example.org"
    assert user.is_staff and user.is_superuser
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.CAREGIVER and membership.team.name == "Alvarez family"
    assert client.get(reverse("patients:list")).status_code == 200


@pytest.mark.django_db
def test_setup_is_closed_once_an_account_exists(client, build):
    build.make_user()
    response = client.get(reverse("accounts:setup"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    client.post(
        reverse("accounts:setup"),
        {"name": "X", "email": "x@example.org", "password1": PASSWORD, "password2": PASSWORD,
         "team_name": "T"},
    )
    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.django_db
def test_setup_with_bad_data_changes_nothing(client):
    response = client.post(
        reverse("accounts:setup"),
        {"name": "C", "email": "c@example.org", "password1": PASSWORD, "password2": "other",
         "team_name": "T"},
    )
    assert response.status_code == 200
    assert b'id="id_password2_error"' in response.content
    assert not User.objects.exists() and not CareTeam.objects.exists()


# --- logging in and out ----------------------------------------------------------------------


@pytest.mark.django_db
def test_login_with_email_in_any_case(client, world):
    response = _login_post(client, "NURIA@example.org", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("patients:list")).status_code == 200


@pytest.mark.django_db
def test_wrong_password_shows_an_error(client, world):
    response = _login_post(client, world.nurse.email, "wrong")
    assert response.status_code == 200
    assert b"correct" in response.content  # "Please enter a correct email address and password"


@pytest.mark.django_db
def test_pages_need_a_login(client, world):
    response = client.get(reverse("patients:detail", args=[world.patient.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.django_db
def test_logout_is_a_post(client, world):
    client.force_login(world.nurse)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("patients:list")).status_code == 302


@pytest.mark.django_db
def test_lockout_after_too_many_failures(client, world, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert _login_post(client, world.nurse.email, "wrong").status_code == 200
    response = _login_post(client, world.nurse.email, "wrong")
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    # Even the right password is refused while locked out.
    response = _login_post(client, world.nurse.email, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another person on the same device is not locked out.
    assert _login_post(client, world.viewer.email, PASSWORD).status_code == 302


def test_default_login_lockout_and_hashers():
    from ivig.web import settings as web_settings

    assert web_settings.AXES_FAILURE_LIMIT == 5
    assert web_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert web_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


# --- password reset --------------------------------------------------------------------------


def test_email_goes_to_the_console_by_default():
    from ivig.web import settings as web_settings

    assert web_settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.django_db
def test_password_reset_link_is_printed_and_works(client, world, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    response = client.post(reverse("accounts:password_reset"), {"email": world.nurse.email})
    assert response.status_code == 302
    printed = capsys.readouterr().out
    assert world.nurse.email in printed
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", printed)
    assert link, printed
    response = client.get(link.group(1), follow=True)
    assert b"Choose a new password" in response.content
    form_url = response.redirect_chain[-1][0]
    new_password = "a brand new passphrase"
    response = client.post(
        form_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    world.nurse.refresh_from_db()
    assert world.nurse.check_password(new_password)
    # The link works once.
    response = client.get(link.group(1), follow=True)
    assert b"does not work any more" in response.content


@pytest.mark.django_db
def test_password_reset_does_not_reveal_whether_an_address_exists(client, world, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mailoutbox == []


# --- care teams ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anyone_can_start_a_team_and_becomes_its_caregiver(client, world):
    client.force_login(world.viewer)
    response = client.post(reverse("accounts:team_create"), {"name": "Clinic B"})
    team = CareTeam.objects.get(name="Clinic B")
    assert response["Location"] == reverse("accounts:team", args=[team.pk])
    assert Membership.objects.get(team=team).role == Role.CAREGIVER


@pytest.mark.django_db
def test_team_page_lists_members_and_only_caregivers_manage(client, world):
    client.force_login(world.nurse)
    response = client.get(reverse("accounts:team", args=[world.team_a.pk]))
    assert response.status_code == 200
    assert b"Nuria" in response.content and b"Invite someone" not in response.content
    client.force_login(world.caregiver)
    response = client.get(reverse("accounts:team", args=[world.team_a.pk]))
    assert b"Invite someone" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["nurse", "prescriber", "viewer"])
def test_only_the_caregiver_invites_or_changes_roles(client, world, role):
    client.force_login(world.persona(role))
    before = Invite.objects.count()
    url = reverse("accounts:invite_create", args=[world.team_a.pk])
    assert client.post(url, {"role": "nurse"}).status_code == 403
    assert Invite.objects.count() == before
    membership = world.viewer.memberships.get()
    url = reverse("accounts:member_role", args=[world.team_a.pk, membership.pk])
    assert client.post(url, {"role": "prescriber"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


@pytest.mark.django_db
def test_caregiver_changes_a_role_and_removes_a_member(client, world):
    client.force_login(world.caregiver)
    membership = world.viewer.memberships.get()
    client.post(
        reverse("accounts:member_role", args=[world.team_a.pk, membership.pk]),
        {"role": "prescriber"},
    )
    membership.refresh_from_db()
    assert membership.role == Role.PRESCRIBER
    response = client.get(reverse("accounts:member_remove", args=[world.team_a.pk, membership.pk]))
    assert b"Remove" in response.content
    client.post(reverse("accounts:member_remove", args=[world.team_a.pk, membership.pk]))
    membership.refresh_from_db()
    assert membership.archived_at is not None  # archived, not deleted
    client.force_login(world.viewer)
    assert client.get(reverse("patients:detail", args=[world.patient.pk])).status_code == 404


@pytest.mark.django_db
def test_a_team_keeps_at_least_one_caregiver(client, world):
    client.force_login(world.caregiver)
    membership = world.caregiver.memberships.get()
    client.post(
        reverse("accounts:member_role", args=[world.team_a.pk, membership.pk]), {"role": "viewer"}
    )
    client.post(reverse("accounts:member_remove", args=[world.team_a.pk, membership.pk]))
    membership.refresh_from_db()
    assert membership.role == Role.CAREGIVER and membership.archived_at is None


# --- invitations -----------------------------------------------------------------------------


def _make_invite(client: Client, world, role: str = "nurse", email: str = "") -> str:
    client.force_login(world.caregiver)
    response = client.post(
        reverse("accounts:invite_create", args=[world.team_a.pk]), {"role": role, "email": email}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    link = re.search(r"http://testserver(/invite/[^/<\s]+/)", page)
    assert link, page
    client.logout()
    return link.group(1)


def _signup(client: Client, link: str, email: str = "new@example.org"):
    return client.post(
        link, {"name": "New Nurse", "email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


@pytest.mark.django_db
def test_invite_link_is_shown_once_and_only_its_hash_is_stored(client, world):
    link = _make_invite(client, world)
    token = link.split("/")[2]
    assert not Invite.objects.filter(token_hash=token).exists()
    client.force_login(world.caregiver)
    page = client.get(reverse("accounts:team", args=[world.team_a.pk])).content.decode()
    assert token not in page


@pytest.mark.django_db
def test_invite_sends_an_email_when_an_address_is_given(client, world, mailoutbox):
    link = _make_invite(client, world, email="new@example.org")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@example.org"]
    assert link in mailoutbox[0].body


@pytest.mark.django_db
def test_accepting_an_invite_creates_the_account_and_membership(client, world):
    link = _make_invite(client, world, role="prescriber")
    assert b"Join Alvarez family" in client.get(link).content
    response = _signup(client, link)
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert Membership.objects.get(user=user, team=world.team_a).role == Role.PRESCRIBER
    assert client.get(reverse("patients:detail", args=[world.patient.pk])).status_code == 200


@pytest.mark.django_db
def test_an_invite_works_once(client, world):
    link = _make_invite(client, world)
    _signup(client, link)
    other = Client()
    response = other.get(link)
    assert response.status_code == 410
    assert b"already used" in response.content
    response = _signup(other, link, email="second@example.org")
    assert response.status_code == 410
    assert not User.objects.filter(email="second@example.org").exists()


@pytest.mark.django_db
def test_an_expired_invite_says_so_and_changes_nothing(client, world):
    link = _make_invite(client, world)
    Invite.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(link)
    assert response.status_code == 410 and b"expired" in response.content
    assert _signup(client, link).status_code == 410
    assert not User.objects.filter(email="new@example.org").exists()


def test_invites_expire_after_the_policy_days_by_default():
    from ivig.web import settings as web_settings

    assert web_settings.INVITE_EXPIRY_DAYS == web_settings.POLICY["invite"]["expiry_days"] == 7


@pytest.mark.django_db
def test_a_cancelled_invite_says_so(client, world):
    link = _make_invite(client, world)
    invite = Invite.objects.latest("created_at")
    client.force_login(world.caregiver)
    client.post(reverse("accounts:invite_cancel", args=[world.team_a.pk, invite.pk]))
    client.logout()
    response = client.get(link)
    assert response.status_code == 410 and b"cancelled" in response.content


@pytest.mark.django_db
def test_an_unknown_invite_token_is_404(client, world):
    response = client.get(reverse("accounts:invite", args=["no-such-token"]))
    assert response.status_code == 404
    assert b"not valid" in response.content


@pytest.mark.django_db
def test_a_logged_in_user_joins_with_one_click(client, world):
    link = _make_invite(client, world, role="viewer")
    client.force_login(world.stranger)
    assert b"Join the team" in client.get(link).content
    client.post(link)
    assert Membership.objects.get(user=world.stranger, team=world.team_a).role == Role.VIEWER
    assert Invite.objects.latest("created_at").used_by == world.stranger


@pytest.mark.django_db
def test_signup_with_an_existing_email_is_refused_and_changes_nothing(client, world):
    link = _make_invite(client, world)
    response = _signup(client, link, email=world.viewer.email)
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert Invite.objects.latest("created_at").used_at is None
