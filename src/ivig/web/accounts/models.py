"""People, care teams and who may do what in them.

A user logs in with an email address. A care team groups the people around one or more
patients; a membership gives a user one role in one team. Removing someone archives the
membership (its history stays); an invitation is a single-use link that expires.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class UserManager(BaseUserManager):  # type: ignore[type-arg]
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("a user needs an email address")
        user: User = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


def normalise_email(email: str) -> str:
    """Email addresses are compared without regard to case: store them in lower case."""
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("administrator"),
        default=False,
        help_text=_("Can open the administration site."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalise_email(self.email)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Role(models.TextChoices):
    CAREGIVER = "caregiver", _("Caregiver (manages the team)")
    NURSE = "nurse", _("Nurse")
    PRESCRIBER = "prescriber", _("Prescriber")
    VIEWER = "viewer", _("Viewer (read only)")


class ActiveQuerySet(models.QuerySet[Any]):
    def active(self) -> ActiveQuerySet:
        return self.filter(archived_at__isnull=True)


class CareTeam(models.Model):
    name = models.CharField(_("team name"), max_length=200)
    # Who a family calls: shown on every triage result and on the going-home sheet. Entered by
    # whoever manages the team; never defaulted (an empty number is shown as "not entered").
    phone_day = models.CharField(_("daytime phone"), max_length=40, blank=True)
    phone_after_hours = models.CharField(_("after-hours phone"), max_length=40, blank=True)
    emergency_number = models.CharField(
        _("emergency number where the family lives"),
        max_length=20,
        blank=True,
        help_text=_("For example 911, 112, 999 or 000, for where the family lives."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("care team")
        verbose_name_plural = _("care teams")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        CareTeam, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("team")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    clinical_role = models.CharField(
        _("clinical role"),
        max_length=20,
        choices=[
            (Role.NURSE.value, Role.NURSE.label),
            (Role.PRESCRIBER.value, Role.PRESCRIBER.label),
        ],
        blank=True,
        help_text=_(
            "A caregiver who created the team can also hold a clinical role (a doctor or nurse "
            "working alone): the member may do what both roles allow."
        ),
    )
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    archived_at = models.DateTimeField(_("removed"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["team", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_user_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.team} ({self.get_role_display()})"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class InviteState(models.TextChoices):
    OPEN = "open", _("waiting")
    USED = "used", _("used")
    EXPIRED = "expired", _("expired")
    CANCELLED = "cancelled", _("cancelled")


class Invite(models.Model):
    """A single-use link that adds a person to a team with one role.

    Only a hash of the token is stored: the link itself is shown once, to the person who made
    it, and sent by email when an address is given."""

    team = models.ForeignKey(
        CareTeam, on_delete=models.PROTECT, related_name="invites", verbose_name=_("team")
    )
    email = models.EmailField(_("email address"), blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("used by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.team} – {self.get_role_display()} ({self.email or '-'})"

    @classmethod
    def create(
        cls, *, team: CareTeam, role: str, created_by: Any, email: str = ""
    ) -> tuple[Invite, str]:
        """Make an invitation; returns it and the raw token (the only time it is known)."""
        token = secrets.token_urlsafe(32)
        invite = cls.objects.create(
            team=team,
            role=role,
            email=normalise_email(email) if email else "",
            token_hash=hash_token(token),
            created_by=created_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITE_EXPIRY_DAYS),
        )
        return invite, token

    @classmethod
    def for_token(cls, token: str) -> Invite | None:
        return cls.objects.select_related("team").filter(token_hash=hash_token(token)).first()

    @property
    def state(self) -> InviteState:
        if self.used_at is not None:
            return InviteState.USED
        if self.cancelled_at is not None:
            return InviteState.CANCELLED
        if self.expires_at <= timezone.now():
            return InviteState.EXPIRED
        return InviteState.OPEN

    def claim(self, user: Any) -> bool:
        """Mark the invitation used by ``user``, atomically: False if someone else was first."""
        now = timezone.now()
        claimed = Invite.objects.filter(
            pk=self.pk, used_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
        ).update(used_at=now, used_by=user)
        if claimed:
            self.used_at, self.used_by = now, user
        return bool(claimed)


class ProductPrice(models.Model):
    """A care team's own price per gram for one product, dated and attributed. Nothing is built
    in: the only other prices the program shows are cited reference ranges, marked as such.
    A new price archives the previous one (history kept)."""

    team = models.ForeignKey(
        CareTeam, on_delete=models.PROTECT, related_name="prices", verbose_name=_("team")
    )
    product_id = models.CharField(_("product"), max_length=60)
    price_per_g = models.DecimalField(_("price per gram"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    set_on = models.DateField(_("price date"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("set by"),
    )
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    history = HistoricalRecords()
    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("product price")
        verbose_name_plural = _("product prices")
        ordering = ["team", "product_id", "-set_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.price_per_g} {self.currency}/g ({self.set_on})"


class ThrottleEvent(models.Model):
    """One request that a rate limit counts (e.g. a password-reset email asked for).

    Kept in the database, not in a process's memory, so several server processes share the
    limit. ``key`` is a hash (of an email address or a client address), never the value itself.
    Old rows are removed when new ones are counted (ivig.web.accounts.throttle)."""

    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key[:8]} {self.at:%Y-%m-%d %H:%M}"
