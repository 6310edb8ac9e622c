"""Records of plans (models only; the views come with the plan form).

A ``PlanVersion`` is one version of an order document (the ``[patient]`` and ``[order]`` of a
plan file, as JSON) for one patient. A new version ``supersedes`` the one it replaces, so the
chain is the plan's history. An ``Approval`` keeps a snapshot of exactly what was shown and
printed, with the catalogue version it was computed against, so the record can be audited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ivig.web.accounts.models import ActiveQuerySet
from ivig.web.patients.models import Patient

OVERRIDES_KEY = "error_overrides"
"""Key of the approval snapshot that holds each error finding approved anyway, with its reason."""


class ApprovedRecordError(RuntimeError):
    """An attempt to change an approved plan version or an approval, or to delete one."""


# What an approval vouches for: none of these may change once a version has an approval.
APPROVED_COLUMNS = (
    "patient_id",
    "kind",
    "label",
    "order_document",
    "author_id",
    "supersedes_id",
    "based_on_id",
)
_LOCKED_UPDATES = {*APPROVED_COLUMNS, "patient", "author", "supersedes", "based_on"}


class PlanVersionQuerySet(ActiveQuerySet):
    def update(self, **kwargs: Any) -> int:
        if set(kwargs) & _LOCKED_UPDATES and self.filter(approvals__isnull=False).exists():
            raise ApprovedRecordError("an approved plan version cannot be changed: write a new one")
        return super().update(**kwargs)

    def delete(self) -> Any:
        raise ApprovedRecordError("plan versions are archived, never deleted")


class ApprovalQuerySet(models.QuerySet["Approval"]):
    def update(self, **kwargs: Any) -> int:
        raise ApprovedRecordError("an approval records what was shown; it is never changed")

    def delete(self) -> Any:
        raise ApprovedRecordError("an approval records what was shown; it is never deleted")


class PlanKind(models.TextChoices):
    PRESCRIBED = "prescribed", _("Prescribed")
    PUMP = "pump", _("Pump plan")
    AMENDED = "amended", _("Amended")


class PlanVersion(models.Model):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="plan_versions", verbose_name=_("patient")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=PlanKind.choices)
    label = models.CharField(_("label"), max_length=200, blank=True)
    order_document = models.JSONField(_("order document"), default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("replaces"),
    )
    based_on = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pump_plans",
        verbose_name=_("prescription it is for"),
        help_text=_("For a pump plan: the prescription it programs (compared against it)."),
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    archive_reason = models.CharField(_("reason for archiving"), max_length=300, blank=True)
    history = HistoricalRecords()

    objects = PlanVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        from ivig.web.ui.words import plan_title  # the one title rule (number shown once)

        return plan_title(self)

    @property
    def is_approved(self) -> bool:
        return self.pk is not None and self.approvals.exists()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An approved version keeps exactly what was approved: only archiving may change."""
        if self.pk is not None and self.is_approved:
            stored = type(self).objects.filter(pk=self.pk).values(*APPROVED_COLUMNS).first()
            mine = {column: getattr(self, column) for column in APPROVED_COLUMNS}
            if stored is not None and stored != mine:
                raise ApprovedRecordError(
                    "an approved plan version cannot be changed: write a new version"
                )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ApprovedRecordError("plan versions are archived, never deleted")


class Approval(models.Model):
    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, related_name="approvals", verbose_name=_("plan")
    )
    snapshot = models.JSONField(_("snapshot of what was shown"))
    catalogue_version = models.CharField(_("catalogue version"), max_length=100)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), auto_now_add=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    history = HistoricalRecords()

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-approved_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.plan_version} – {self.approved_at:%Y-%m-%d}"

    @property
    def error_overrides(self) -> list[dict[str, str]]:
        """Each error finding approved anyway: code, message and the prescriber's reason."""
        snapshot = self.snapshot if isinstance(self.snapshot, dict) else {}
        return list(snapshot.get(OVERRIDES_KEY) or [])

    @property
    def shown_plan(self) -> dict[str, object]:
        """The plan exactly as shown when approved (the snapshot without the override list)."""
        snapshot = self.snapshot if isinstance(self.snapshot, dict) else {}
        return {k: v for k, v in snapshot.items() if k != OVERRIDES_KEY}

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Written once, by the approval flow; never changed afterwards (not even by the admin)."""
        if self.pk is not None or kwargs.get("force_update"):
            raise ApprovedRecordError("an approval records what was shown; it is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ApprovedRecordError("an approval records what was shown; it is never deleted")
