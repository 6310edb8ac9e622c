"""The care team's API tokens: create (the key is shown once), list and revoke.

A caregiver creates tokens for the team's integrations and sees and revokes every token of the
team; a prescriber may create their own token (the only way an API client can approve, because
a token acts as the member who created it). See docs/api.md."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ivig.web import access
from ivig.web.access import Action
from ivig.web.api.models import MAX_DAYS, ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name (what will use it, e.g. the hospital EHR)"), max_length=100
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"), widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), min_value=1, max_value=MAX_DAYS, initial=90
    )

    def __init__(self, *args: Any, can_approve: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            ("read", _("read: see patients, plans and records")),
            ("write", _("write: add patients, measurements, plans and the infusion log")),
        ]
        if can_approve:
            choices.append(("approve", _("approve: approve plans (with the same checks)")))
        self.fields["scopes"].choices = choices  # type: ignore[attr-defined]


def _may(user: Any, team_id: int) -> tuple[Any, bool, bool]:
    team = access.get_team_for_user(user, team_id)
    role = access.role_in(user, team)
    manage = access.role_allows(role, Action.MANAGE_TEAM)
    prescriber = access.role_allows(role, Action.APPROVE_PLANS)
    if not (manage or prescriber):
        raise PermissionDenied(_("Only a caregiver or a prescriber of the team manages tokens."))
    return team, manage, prescriber


@login_required
def tokens(request: HttpRequest, team_id: int) -> HttpResponse:
    team, manage, prescriber = _may(request.user, team_id)
    form = TokenForm(request.POST or None, can_approve=prescriber)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _token, new_key = ApiToken.issue(
            team=team,
            user=request.user,
            name=form.cleaned_data["name"].strip(),
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
        )
        form = TokenForm(can_approve=prescriber)
    listed = team.api_tokens.select_related("user")
    if not manage:
        listed = listed.filter(user=request.user)
    return render(
        request,
        "api/tokens.html",
        {"team": team, "form": form, "tokens": listed, "new_key": new_key, "now": timezone.now()},
        status=201 if new_key else 200,
    )


@login_required
def revoke(request: HttpRequest, team_id: int, token_id: int) -> HttpResponse:
    team, manage, _prescriber = _may(request.user, team_id)
    token = get_object_or_404(ApiToken, pk=token_id, team=team)
    if not manage and token.user_id != request.user.pk:
        raise PermissionDenied(_("You may revoke only your own tokens."))
    if request.method == "POST" and token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = request.user  # type: ignore[assignment]
        token.save(update_fields=["revoked_at", "revoked_by"])
        messages.success(request, _("Token revoked: it no longer works."))
    return redirect("api_tokens", team_id=team.pk)
