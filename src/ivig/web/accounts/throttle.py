"""Rate limits kept in the database, so that every server process shares them (issue 10).

- Logins: django-axes locks an *account* after ``AXES_FAILURE_LIMIT`` failures from any
  address; :func:`address_locked` locks an *address* after ``LOGIN_ADDRESS_FAILURE_LIMIT``
  failures over all accounts (it sums axes' own rows for that address).
- Password-reset emails: :func:`allow_reset` counts requests per email address and per client
  address over the last hour.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from ivig.web.accounts.models import ThrottleEvent

RESET_WINDOW = timedelta(hours=1)


def client_address(request: HttpRequest) -> str:
    """The client's address as axes sees it (one definition for every limit)."""
    return str(get_client_ip_address(request) or "")


def address_locked(request: HttpRequest) -> bool:
    """Whether this address failed too often, over all accounts, within the cool-off time."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(
        ip_address=client_address(request), attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return (failures or 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def _hash(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()


def allow_reset(request: HttpRequest, email: str) -> bool:
    """Count one password-reset request; False if the email or the address asked too often."""
    now = timezone.now()
    address = client_address(request)
    keys = {
        "reset-email": (_hash(email), settings.PASSWORD_RESET_LIMIT_PER_EMAIL),
        "reset-address": (_hash(address), settings.PASSWORD_RESET_LIMIT_PER_ADDRESS),
    }
    with transaction.atomic():
        ThrottleEvent.objects.filter(kind__startswith="reset-", at__lt=now - RESET_WINDOW).delete()
        over = any(
            ThrottleEvent.objects.filter(kind=kind, key=key, at__gte=now - RESET_WINDOW).count()
            >= limit
            for kind, (key, limit) in keys.items()
        )
        if not over:
            ThrottleEvent.objects.bulk_create(
                ThrottleEvent(kind=kind, key=key, at=now) for kind, (key, _limit) in keys.items()
            )
    return not over
