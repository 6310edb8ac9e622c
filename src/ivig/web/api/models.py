"""API tokens: created on the team page, shown once, stored as a SHA-256 hash, with scopes and
an expiry. A token acts as the member who created it, only within that care team, and only for
what both its scopes and that member's role allow (ivig.web.access). Revoked, never deleted."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ivig.web.accounts.models import CareTeam

TOKEN_PREFIX = "ivig_"
MAX_DAYS = 365  # design choice: a token lives at most a year
SCOPES = ("read", "write", "approve")


def hash_key(key: str) -> str:
    # The key is 32 random bytes, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    team = models.ForeignKey(
        CareTeam, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("care team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("acts as"),
    )
    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("first characters"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(
        cls, *, team: CareTeam, user: Any, name: str, scopes: list[str], days: int
    ) -> tuple[ApiToken, str]:
        """Create a token; return it and the key (the only time the key exists in clear)."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            team=team,
            user=user,
            name=name,
            key_prefix=key[: len(TOKEN_PREFIX) + 4],
            key_hash=hash_key(key),
            scopes=[s for s in SCOPES if s in scopes],
            expires_at=timezone.now() + timedelta(days=days),
        )
        return token, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("API tokens are revoked, never deleted")
