"""Accounts after the issue 10 probe: login throttling per account across addresses and per
address across accounts (kept in the database), a reset-email limit, password rules on every
form that sets a password, no changing one's own role, and a caregiver who can log in."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ivig.web.accounts.models import Invite, Membership, Role
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, email, password, address):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def test_an_account_is_locked_across_addresses(client, world, settings):
    email = world.nurse.email
    for i in range(settings.AXES_FAILURE_LIMIT):
        assert _login(client, email, "wrong password", f"10.0.0.{i + 1}").status_code in (200, 429)
    # The right password from a fresh address is refused too: the account is locked.
    response = _login(client, email, PASSWORD, "10.9.9.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_across_accounts(client, world, settings, build):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    emails = [build.make_user(f"user{i}@example.org").email for i in range(4)]
    for i in range(8):
        # two wrong guesses per account: below the per-account limit
        _login(client, emails[i % 4], "wrong password", "192.0.2.7")
    response = _login(client, world.caregiver.email, PASSWORD, "192.0.2.7")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert _login(client, world.caregiver.email, PASSWORD, "192.0.2.8").status_code == 302


def test_reset_emails_are_rate_limited_per_address_asked_and_per_client(
    client, world, settings, mailoutbox
):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    url = reverse("accounts:password_reset")
    for _ in range(4):
        response = client.post(url, {"email": world.nurse.email}, REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 302  # the page never tells
    assert len(mailoutbox) == 2
    # per client address: one more for another account, then nothing from this address
    client.post(url, {"email": world.caregiver.email}, REMOTE_ADDR="10.1.1.1")
    client.post(url, {"email": world.prescriber.email}, REMOTE_ADDR="10.1.1.1")
    assert len(mailoutbox) == 3
    client.post(url, {"email": world.prescriber.email}, REMOTE_ADDR="10.1.1.2")
    assert len(mailoutbox) == 4


WEAK = ["        ", "ivigivig", "lucia2017", "zzzzzzzzz", "zzzzzzzzzzzz", "ivigivigivig2024",
        "x" * 5000, "abcdefgh", "Carmen Alvarez"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_at_sign_up(client, world, password):
    _invite, token = Invite.create(team=world.team_a, role=Role.NURSE, created_by=world.caregiver)
    response = client.post(
        reverse("accounts:invite", args=[token]),
        {"name": "Carmen Alvarez", "email": "new@example.org", "password1": password,
         "password2": password},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not Membership.objects.filter(user__email="new@example.org").exists()


@pytest.mark.parametrize("password", ["ivigivig", "x" * 5000, "zzzzzzzzzzzz"])
def test_weak_passwords_are_refused_at_reset(client, world, mailoutbox, password):
    client.post(reverse("accounts:password_reset"), {"email": world.nurse.email})
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", mailoutbox[0].body)
    assert link
    form_url = client.get(link.group(1), follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    world.nurse.refresh_from_db()
    assert world.nurse.check_password(PASSWORD)


def test_the_admin_user_form_uses_the_validators(client, build):
    admin = build.make_user("root@example.org")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": "weak@example.org", "name": "W", "password1": "ivigivig",
         "password2": "ivigivig", "usable_password": "true"},
    )
    assert response.status_code == 200
    assert not type(admin).objects.filter(email="weak@example.org").exists()


def test_nobody_changes_their_own_role(client, world, build):
    second = build.make_caregiver(world.team_a, email="second@example.org")
    client.force_login(world.caregiver)
    mine = world.caregiver.memberships.get(team=world.team_a)
    response = client.post(
        reverse("accounts:member_role", args=[world.team_a.pk, mine.pk]), {"role": "prescriber"},
        follow=True,
    )
    assert "own role" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == Role.CAREGIVER
    assert second.memberships.get().role == Role.CAREGIVER


def test_a_deactivated_caregiver_does_not_keep_the_team(client, world, build):
    ghost = build.make_caregiver(world.team_a, email="ghost@example.org")
    ghost.is_active = False
    ghost.save()
    second = build.make_caregiver(world.team_a, email="second@example.org")
    client.force_login(second)
    mine = world.caregiver.memberships.get(team=world.team_a)
    # The second caregiver demotes the first: allowed, the second remains.
    client.post(reverse("accounts:member_role", args=[world.team_a.pk, mine.pk]),
                {"role": "viewer"})
    mine.refresh_from_db()
    assert mine.role == Role.VIEWER
    # Now the first (a viewer) cannot act; the second cannot leave: the ghost cannot log in.
    client.force_login(second)
    own = second.memberships.get()
    client.post(reverse("accounts:member_remove", args=[world.team_a.pk, own.pk]))
    own.refresh_from_db()
    assert own.archived_at is None
    active_caregivers = Membership.objects.active().filter(
        team=world.team_a, role=Role.CAREGIVER, user__is_active=True
    )
    assert active_caregivers.count() == 1


def test_a_member_cannot_come_back_through_their_own_invitation(client, world, build):
    second = build.make_caregiver(world.team_a, email="second@example.org")
    invite, token = Invite.create(team=world.team_a, role=Role.PRESCRIBER, created_by=second)
    client.force_login(second)
    own = second.memberships.get()
    client.post(reverse("accounts:member_remove", args=[world.team_a.pk, own.pk]))
    own.refresh_from_db()
    assert own.archived_at is not None
    client.post(reverse("accounts:invite", args=[token]))
    own.refresh_from_db()
    assert own.archived_at is not None and own.role == Role.CAREGIVER
    invite.refresh_from_db()
    assert invite.used_at is None
