"""The "today" page, the printable doctor-vs-nurse comparison and the lot search.

Thin views: every patient comes through ``ivig.web.access``; the numbers come from the core and
the approved snapshots; these views only choose what to show."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ivig.web.ui import today


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What to do today, per role, each line linking straight to the action."""
    now = timezone.now()
    return render(request, "ui/today.html", {"today": today.build(request.user, now), "now": now})
