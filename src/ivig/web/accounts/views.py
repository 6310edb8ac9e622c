"""Logins, the first account, care teams and invitations. Thin: access, form, model, render."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _

from ivig.web import access
from ivig.web.access import Action
from ivig.web.accounts import throttle
from ivig.web.accounts.forms import (
    EmailAuthenticationForm,
    FirstAccountForm,
    InviteForm,
    NewAccountForm,
    ProductPriceForm,
    RoleForm,
    TeamContactsForm,
    TeamForm,
)
from ivig.web.accounts.models import (
    CareTeam,
    Invite,
    InviteState,
    Membership,
    ProductPrice,
    Role,
    User,
)

log = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
_NEW_INVITE_LINK = "ivig_new_invite_link"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not User.objects.exists():
            return redirect("accounts:setup")
        if request.method == "POST" and throttle.address_locked(request):
            log.warning("login refused: too many failures from one address")
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        return super().dispatch(request, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form; the email is sent only within the rate limit (throttle.allow_reset).
    Over the limit the page looks the same (it never says whether an account exists)."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        if not throttle.allow_reset(self.request, form.cleaned_data["email"]):
            log.warning("password reset email not sent: rate limit reached")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


def _user(request: HttpRequest) -> User:
    """The logged-in user (views that call this are behind login_required)."""
    assert isinstance(request.user, User)
    return request.user


def setup(request: HttpRequest) -> HttpResponse:
    """Create the first account of an empty installation (it administers the site)."""
    if User.objects.exists():
        return redirect("accounts:login")
    form = FirstAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if User.objects.exists():  # someone else finished first
                return redirect("accounts:login")
            user = form.create_user(is_staff=True, is_superuser=True)
            team = CareTeam.objects.create(name=form.cleaned_data["team_name"])
            Membership.objects.create(
                user=user,
                team=team,
                role=Role.CAREGIVER,
                clinical_role=form.cleaned_data.get("clinical_role") or "",
            )
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, _("Welcome. Your account and care team are ready."))
        return redirect("patients:list")
    return render(request, "accounts/setup.html", {"form": form})


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    memberships = access.memberships_of(request.user).select_related("team")
    return render(request, "accounts/team_list.html", {"memberships": memberships})


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            team = CareTeam.objects.create(name=form.cleaned_data["name"])
            clinical = form.cleaned_data.get("clinical_role") or ""
            Membership.objects.create(
                user=_user(request), team=team, role=Role.CAREGIVER, clinical_role=clinical
            )
        messages.success(request, _("Care team created. You are its caregiver."))
        return redirect("accounts:team", team_id=team.pk)
    return render(request, "accounts/team_form.html", {"form": form})


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = access.get_team_for_user(request.user, team_id)
    role = access.role_in(request.user, team)
    manage = access.role_allows(role, Action.MANAGE_TEAM)
    members = team.memberships.active().select_related("user").order_by("user__name", "pk")
    invites = (
        [i for i in team.invites.select_related("created_by") if i.state == InviteState.OPEN]
        if manage
        else []
    )
    return render(
        request,
        "accounts/team_detail.html",
        {
            "team": team,
            "role": role,
            "manage": manage,
            "members": members,
            "invites": invites,
            "roles": Role.choices,
            "patients": access.patients_for(request.user).filter(team=team),
            "new_invite_link": request.session.pop(_NEW_INVITE_LINK, None) if manage else None,
            "contacts_form": TeamContactsForm(instance=team) if manage else None,
            "price_form": ProductPriceForm() if manage else None,
            "prices": team_prices(team),
        },
    )


def team_prices(team: CareTeam) -> list[ProductPrice]:
    """The team's current price per product (the newest by date; older ones archived)."""
    return list(team.prices.active().select_related("set_by"))


@login_required
def team_contacts(request: HttpRequest, team_id: int) -> HttpResponse:
    team = access.get_team_for_user(request.user, team_id, action=Action.MANAGE_TEAM)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TeamContactsForm(request.POST, instance=team)
    if form.is_valid():
        form.save()
        messages.success(request, _("Contact numbers saved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("accounts:team", team_id=team.pk)


@login_required
def price_create(request: HttpRequest, team_id: int) -> HttpResponse:
    team = access.get_team_for_user(request.user, team_id, action=Action.MANAGE_TEAM)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ProductPriceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            for old in team.prices.active().filter(product_id=data["product_id"]):
                old.archived_at = timezone.now()
                old.save(update_fields=["archived_at"])
            ProductPrice.objects.create(team=team, set_by=_user(request), **data)
        messages.success(request, _("Price saved."))
    else:
        for field, errors in form.errors.items():
            for error in errors:
                label = form.fields[field].label if field in form.fields else field
                messages.error(request, f"{label}: {error}")
    return redirect("accounts:team", team_id=team.pk)


@login_required
def invite_create(request: HttpRequest, team_id: int) -> HttpResponse:
    team = access.get_team_for_user(request.user, team_id, action=Action.MANAGE_TEAM)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite, token = Invite.create(
            team=team,
            role=form.cleaned_data["role"],
            email=form.cleaned_data["email"],
            created_by=request.user,
        )
        link = request.build_absolute_uri(reverse("accounts:invite", args=[token]))
        if invite.email:
            body = render_to_string(
                "accounts/email/invite.txt",
                {"invite": invite, "link": link, "inviter": request.user},
                request=request,
            )
            subject = _("Invitation to the care team %(team)s") % {"team": team.name}
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invite.email])
        request.session[_NEW_INVITE_LINK] = link
        return redirect("accounts:team", team_id=team.pk)
    return render(request, "accounts/invite_form.html", {"team": team, "form": form})


@login_required
def invite_cancel(request: HttpRequest, team_id: int, invite_id: int) -> HttpResponse:
    team = access.get_team_for_user(request.user, team_id, action=Action.MANAGE_TEAM)
    invite = get_object_or_404(Invite, pk=invite_id, team=team)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if invite.state == InviteState.OPEN:
        invite.cancelled_at = timezone.now()
        invite.save(update_fields=["cancelled_at"])
        messages.success(request, _("The invitation link no longer works."))
    return redirect("accounts:team", team_id=team.pk)


def _other_caregivers(membership: Membership) -> bool:
    """Whether the team keeps another caregiver who can log in (a deactivated one does not
    count). Call inside a transaction after ``_lock_team``, so two caregivers demoting or
    removing each other at once cannot both succeed."""
    return (
        Membership.objects.active()
        .filter(team=membership.team, role=Role.CAREGIVER, user__is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


def _lock_team(team: CareTeam) -> None:
    CareTeam.objects.select_for_update().filter(pk=team.pk).first()


@login_required
def member_role(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    team = access.get_team_for_user(request.user, team_id, action=Action.MANAGE_TEAM)
    membership = get_object_or_404(Membership.objects.active(), pk=membership_id, team=team)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RoleForm(request.POST)
    with transaction.atomic():
        _lock_team(team)
        if not form.is_valid():
            messages.error(request, _("Choose one of the roles."))
        elif membership.user_id == _user(request).pk:
            messages.error(
                request, _("Nobody can change their own role: ask another caregiver.")
            )
        elif (
            membership.role == Role.CAREGIVER
            and form.cleaned_data["role"] != Role.CAREGIVER
            and not _other_caregivers(membership)
        ):
            messages.error(request, _("A team needs at least one caregiver."))
        else:
            membership.role = form.cleaned_data["role"]
            membership.save(update_fields=["role"])
            messages.success(request, _("Role changed."))
    return redirect("accounts:team", team_id=team.pk)


@login_required
def member_remove(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    team = access.get_team_for_user(request.user, team_id, action=Action.MANAGE_TEAM)
    membership = get_object_or_404(
        Membership.objects.active().select_related("user"), pk=membership_id, team=team
    )
    if request.method == "POST":
        with transaction.atomic():
            _lock_team(team)
            if membership.role == Role.CAREGIVER and not _other_caregivers(membership):
                messages.error(request, _("A team needs at least one caregiver."))
            else:
                membership.archived_at = timezone.now()
                membership.save(update_fields=["archived_at"])
                messages.success(
                    request, _("%(name)s was removed from the team.") % {"name": membership.user}
                )
        return redirect("accounts:team", team_id=team.pk)
    return render(request, "accounts/member_remove.html", {"team": team, "membership": membership})


def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Open an invitation link: join the team (making an account first if needed)."""
    invite = Invite.for_token(token)
    if invite is None:
        return render(request, "accounts/invite_invalid.html", status=404)
    if invite.state != InviteState.OPEN:
        return render(request, "accounts/invite_closed.html", {"invite": invite}, status=410)
    team = invite.team
    user: Any = request.user
    if user.is_authenticated and invite.created_by_id == user.pk:
        # Otherwise a member could leave and come back through their own link with a new role.
        messages.error(request, _("An invitation is for someone else: you made this one."))
        return redirect("accounts:teams")
    if user.is_authenticated:
        existing = Membership.objects.filter(user=user, team=team).first()
        already = existing is not None and existing.archived_at is None
        if request.method == "POST" and not already:
            with transaction.atomic():
                if not invite.claim(user):
                    return render(
                        request, "accounts/invite_closed.html", {"invite": invite}, status=410
                    )
                _join(user, team, invite.role)
            messages.success(request, _("You joined %(team)s.") % {"team": team.name})
            return redirect("accounts:team", team_id=team.pk)
        return render(
            request, "accounts/invite_accept.html", {"invite": invite, "already": already}
        )
    form = NewAccountForm(request.POST or None, initial={"email": invite.email})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            new_user = form.create_user()
            if not invite.claim(new_user):
                transaction.set_rollback(True)
                return render(
                    request, "accounts/invite_closed.html", {"invite": invite}, status=410
                )
            _join(new_user, team, invite.role)
        login(request, new_user, backend=MODEL_BACKEND)
        messages.success(request, _("Welcome. You joined %(team)s.") % {"team": team.name})
        return redirect("patients:list")
    return render(request, "accounts/invite_signup.html", {"invite": invite, "form": form})


def _join(user: Any, team: CareTeam, role: str) -> Membership:
    membership: Membership | None = Membership.objects.filter(user=user, team=team).first()
    if membership is None:
        created: Membership = Membership.objects.create(user=user, team=team, role=role)
        return created
    membership.role = role
    membership.archived_at = None
    membership.save(update_fields=["role", "archived_at"])
    return membership
